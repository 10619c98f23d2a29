//! The answer form: one task's questions, answered one after another — a
//! choice list for quizzes with choices (Space picks several when the
//! question takes several), a text input for short answers and flags.
//! Pure state; `update` drives it with keys.

use std::collections::BTreeSet;

use seclab_checkers::quiz::label;
use serde_json::Value;

use crate::lab::TaskSpec;

/// One question in the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// Its id (the key in `answers.yaml`).
    pub id: String,
    /// The question as the student reads it.
    pub prompt: String,
    /// The choices; empty for a text answer.
    pub choices: Vec<String>,
    /// Whether several choices make the answer.
    pub multiple: bool,
    /// The highlighted choice.
    pub cursor: usize,
    /// The picked choices (indices).
    pub picked: BTreeSet<usize>,
    /// The text typed so far (text answers).
    pub text: String,
}

impl Question {
    /// Whether this question is answered by typing.
    pub fn is_text(&self) -> bool {
        self.choices.is_empty()
    }

    /// The value to record: choice labels, or the text; `None` when
    /// nothing is given yet.
    pub fn value(&self) -> Option<Vec<String>> {
        if self.is_text() {
            let t = self.text.trim();
            return (!t.is_empty()).then(|| vec![t.to_string()]);
        }
        let picked: Vec<String> = if self.multiple {
            self.picked.iter().map(|i| label(*i)).collect()
        } else {
            vec![label(self.cursor)]
        };
        (!picked.is_empty()).then_some(picked)
    }

    fn prefill(&mut self, current: Option<&Value>) {
        let Some(v) = current else { return };
        let labels: Vec<String> = match v {
            Value::Array(items) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect(),
            Value::String(s) => vec![s.clone()],
            other => vec![other.to_string()],
        };
        if self.is_text() {
            self.text = labels.join(" ");
            return;
        }
        let index =
            |l: &str| (0..self.choices.len()).find(|i| label(*i) == l.trim().to_lowercase());
        let found: BTreeSet<usize> = labels
            .iter()
            .flat_map(|l| l.split(','))
            .filter_map(index)
            .collect();
        if let Some(first) = found.first() {
            self.cursor = *first;
        }
        if self.multiple {
            self.picked = found;
        }
    }
}

/// The form over one task's questions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerForm {
    /// The lab.
    pub lab: String,
    /// The task.
    pub task: String,
    /// Its questions, in lab order.
    pub questions: Vec<Question>,
    /// The question shown.
    pub current: usize,
    /// Why the last submit was refused, if it was.
    pub problem: Option<String>,
}

impl AnswerForm {
    /// A form for `task`'s questions, filled in from the task's current
    /// answers; `None` when the task asks none.
    pub fn new(lab: &str, task: &TaskSpec, answers: Option<&Value>) -> Option<Self> {
        Self::with_prompts(lab, task, answers, &|id| flag_prompt(task, id))
    }

    /// [`AnswerForm::new`] with the text of each question that is not a
    /// quiz from `prompt` (rendered from the workspace).
    pub fn with_prompts(
        lab: &str,
        task: &TaskSpec,
        answers: Option<&Value>,
        prompt: &dyn Fn(&str) -> String,
    ) -> Option<Self> {
        let questions: Vec<Question> = crate::session::questions(task)
            .into_iter()
            .map(|(id, quiz)| {
                let mut q = Question {
                    id: id.to_string(),
                    prompt: quiz.map_or_else(|| prompt(id), |q| q.question.trim().to_string()),
                    choices: quiz.map(|q| q.choices.clone()).unwrap_or_default(),
                    multiple: quiz.is_some_and(|q| q.multiple),
                    cursor: 0,
                    picked: BTreeSet::new(),
                    text: String::new(),
                };
                q.prefill(answers.and_then(|a| a.get(id)).filter(|v| !v.is_null()));
                q
            })
            .collect();
        if questions.is_empty() {
            return None;
        }
        Some(Self {
            lab: lab.to_string(),
            task: task.id.clone(),
            questions,
            current: 0,
            problem: None,
        })
    }

    /// The question shown.
    pub fn question(&self) -> Option<&Question> {
        self.questions.get(self.current)
    }

    /// The question shown, to change.
    pub fn question_mut(&mut self) -> Option<&mut Question> {
        self.questions.get_mut(self.current)
    }

    /// Moves the highlight (choices) by `delta`.
    pub fn move_cursor(&mut self, delta: isize) {
        if let Some(q) = self.question_mut()
            && !q.choices.is_empty()
        {
            q.cursor = q
                .cursor
                .saturating_add_signed(delta)
                .min(q.choices.len() - 1);
        }
    }

    /// Picks or unpicks the highlighted choice (several-choice questions);
    /// on a single-choice question the highlight is the pick.
    pub fn toggle(&mut self) {
        if let Some(q) = self.question_mut()
            && q.multiple
            && !q.picked.remove(&q.cursor)
        {
            q.picked.insert(q.cursor);
        }
    }

    /// A typed character: text for a text answer, a choice label for a
    /// choice list (highlights it, and picks it on a several-choice one).
    pub fn type_char(&mut self, c: char) {
        let Some(q) = self.question_mut() else { return };
        if q.is_text() {
            q.text.push(c);
            return;
        }
        let wanted = c.to_ascii_lowercase().to_string();
        if let Some(i) = (0..q.choices.len()).find(|i| label(*i) == wanted) {
            q.cursor = i;
            if q.multiple && !q.picked.remove(&i) {
                q.picked.insert(i);
            }
        }
    }

    /// Removes the last typed character.
    pub fn backspace(&mut self) {
        if let Some(q) = self.question_mut() {
            q.text.pop();
        }
    }

    /// Shows the next (`true`) or previous question, wrapping.
    pub fn switch(&mut self, forward: bool) {
        let n = self.questions.len();
        self.current = if forward {
            (self.current + 1) % n
        } else {
            (self.current + n - 1) % n
        };
        self.problem = None;
    }
}

/// The text of a flag or report question, from lab.yaml alone.
pub fn flag_prompt(task: &TaskSpec, id: &str) -> String {
    task.checks
        .iter()
        .find_map(|c| match c {
            seclab_checkers::CheckSpec::Flag(f) if f.id == id => {
                Some(f.question.trim().to_string())
            }
            // The form has no report at hand: the general form of the
            // question (`seclab show` renders it from the report).
            seclab_checkers::CheckSpec::AuditEvent(a) if a.id == id => {
                Some(a.question.trim().to_string())
            }
            seclab_checkers::CheckSpec::AuditQuestion(q) if q.id == id => {
                Some(q.question.trim().to_string())
            }
            seclab_checkers::CheckSpec::ReportQuestion(q) if q.id == id => Some(
                seclab_checkers::trivy::question::text_without_report(q.question),
            ),
            _ => None,
        })
        .unwrap_or_else(|| format!("the flag `{id}`"))
}
