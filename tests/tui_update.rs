//! `update` tests: a message in, the model and the effects out. No
//! terminal, no disk: effects are asserted as data, and their results are
//! fed back as messages.

mod tui_support;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use seclab::app::{Availability, Effect, Msg, Overlay, Pane, Screen, TaskBadge, update};
use seclab::progress::Progress;
use tui_support::{WORKSPACE, ch, ctrl, graded, key, model, open, started, task_row};

const LAB: &str = "principles";

fn grade(tasks: &[&str]) -> Effect {
    Effect::Grade {
        lab: LAB.into(),
        tasks: tasks.iter().map(|t| (*t).to_string()).collect(),
    }
}

#[test]
fn enter_on_a_lab_opens_its_first_unpassed_task() {
    let mut m = model();
    assert_eq!(update(&mut m, key(KeyCode::Enter)), vec![]);
    assert_eq!((m.screen, m.open), (Screen::Task, (0, 0)));
    // Not started: nothing to read. Started: the answers are read.
    let mut m = started();
    let msg = graded(
        &m,
        LAB,
        &["layers"],
        &[(
            "answers.yaml",
            "layers: {which-layer: [b, d], defence-in-depth: [a, b, c]}\n",
        )],
    );
    update(&mut m, msg);
    assert_eq!(
        update(&mut m, key(KeyCode::Enter)),
        vec![Effect::LoadAnswers { lab: LAB.into() }]
    );
    assert_eq!(m.open, (0, 1), "layers passed, so trust opens");
    update(&mut m, key(KeyCode::Esc));
    assert_eq!(m.screen, Screen::Labs);
    assert_eq!(m.selected_row(), Some(seclab::app::Row::Task(0, 1)));
}

#[test]
fn arrows_and_jk_move_the_selection_within_bounds() {
    let mut m = model();
    update(&mut m, key(KeyCode::Up));
    assert_eq!(m.cursor, 0);
    update(&mut m, ch('j'));
    update(&mut m, key(KeyCode::Down));
    assert_eq!(m.cursor, 2);
    update(&mut m, ch('k'));
    assert_eq!(m.cursor, 1);
    for _ in 0..100 {
        update(&mut m, key(KeyCode::PageDown));
    }
    assert_eq!(m.cursor, m.rows().len() - 1);
}

#[test]
fn check_needs_a_started_lab_then_grades_the_open_task() {
    let mut m = model();
    update(&mut m, key(KeyCode::Enter));
    assert_eq!(update(&mut m, ch('c')), vec![]);
    assert!(
        m.notice
            .as_ref()
            .is_some_and(|n| n.text.contains("press s"))
    );

    let mut m = started();
    update(&mut m, key(KeyCode::Enter));
    assert_eq!(update(&mut m, ch('c')), vec![grade(&["layers"])]);
    let (lab, task) = m.current_task().expect("task");
    assert_eq!(m.badge(lab, task), TaskBadge::Running);
    assert!(m.animating());

    let msg = graded(
        &m,
        LAB,
        &["layers"],
        &[("answers.yaml", "layers: {which-layer: a}\n")],
    );
    assert_eq!(update(&mut m, msg), vec![]);
    let (lab, task) = m.current_task().expect("task");
    assert_eq!(m.badge(lab, task), TaskBadge::Failed);
    assert!(!m.animating());
    assert_eq!(m.progress.labs[LAB].tasks["layers"].attempts, 1);
    assert_eq!(
        m.answer(LAB, "layers", "which-layer"),
        Some(&serde_json::json!("a"))
    );
}

#[test]
fn check_on_the_list_grades_every_task_of_the_lab() {
    let mut m = started();
    assert_eq!(
        update(&mut m, ch('c')),
        vec![grade(&["layers", "trust", "duty", "cia-dad", "threats"])]
    );
}

#[test]
fn a_failed_grading_says_why_and_stops_the_spinner() {
    let mut m = started();
    update(&mut m, ch('c'));
    update(
        &mut m,
        Msg::Graded {
            lab: LAB.into(),
            outcome: Err("seclab/principles does not exist".into()),
        },
    );
    assert!(!m.animating());
    assert!(m.notice.as_ref().is_some_and(|n| n.error));
}

#[test]
fn watch_toggles_and_regrades_on_changes_of_the_watched_lab_only() {
    let mut m = started();
    let all = grade(&["layers", "trust", "duty", "cia-dad", "threats"]);
    assert_eq!(
        update(&mut m, ch('w')),
        vec![
            Effect::Watch {
                lab: Some(LAB.into())
            },
            all.clone()
        ]
    );
    assert_eq!(m.watching.as_deref(), Some(LAB));
    assert_eq!(
        update(&mut m, Msg::FilesChanged { lab: LAB.into() }),
        vec![all]
    );
    assert_eq!(
        update(&mut m, Msg::FilesChanged { lab: "tiny".into() }),
        vec![]
    );
    assert_eq!(update(&mut m, ch('w')), vec![Effect::Watch { lab: None }]);
    assert_eq!(m.watching, None);
    assert_eq!(
        update(&mut m, Msg::FilesChanged { lab: LAB.into() }),
        vec![]
    );
}

#[test]
fn a_watch_that_fails_turns_itself_off() {
    let mut m = started();
    update(&mut m, ch('w'));
    update(
        &mut m,
        Msg::WatchFailed {
            lab: LAB.into(),
            error: "inotify limit".into(),
        },
    );
    assert_eq!(m.watching, None);
    assert!(
        m.notice
            .as_ref()
            .is_some_and(|n| n.text.contains("inotify"))
    );
}

#[test]
fn hint_reveals_the_next_one_and_stops_at_the_last() {
    let mut m = model();
    update(&mut m, ch('j')); // the `layers` row
    assert_eq!(
        update(&mut m, ch('h')),
        vec![Effect::RevealHint {
            lab: LAB.into(),
            task: "layers".into()
        }]
    );
    assert_eq!(m.screen, Screen::Task, "h on a task row opens it");
    let mut p = m.progress.clone();
    let hash = m.catalog.get(LAB).expect("lab").content_hash.clone();
    for _ in 0..2 {
        p.lab_mut(LAB, &hash).reveal_hint("layers", 2);
    }
    update(
        &mut m,
        Msg::HintRevealed {
            lab: LAB.into(),
            task: "layers".into(),
            outcome: Ok(p),
        },
    );
    assert_eq!(m.pane, Pane::Verdict);
    assert_eq!(update(&mut m, ch('h')), vec![], "all revealed");
    assert!(m.notice.as_ref().is_some_and(|n| n.text.contains("all 2")));
}

#[test]
fn hint_on_a_lab_row_asks_for_a_task() {
    let mut m = model();
    assert_eq!(update(&mut m, ch('h')), vec![]);
    assert_eq!(m.screen, Screen::Labs);
    assert!(m.notice.is_some());
}

#[test]
fn answer_form_records_choices_question_by_question() {
    let mut m = started();
    update(&mut m, key(KeyCode::Enter));
    assert_eq!(update(&mut m, ch('a')), vec![]);
    assert!(matches!(m.overlay, Some(Overlay::Answer(_))));
    // Single choice: a letter picks, Enter records and moves on.
    update(&mut m, ch('c'));
    assert_eq!(
        update(&mut m, key(KeyCode::Enter)),
        vec![Effect::Answer {
            lab: LAB.into(),
            task: "layers".into(),
            question: "which-layer".into(),
            value: vec!["c".into()]
        }]
    );
    // Several choices: nothing picked is refused; Space and letters pick.
    assert_eq!(update(&mut m, key(KeyCode::Enter)), vec![]);
    let Some(Overlay::Answer(form)) = &m.overlay else {
        panic!("form stays open")
    };
    assert!(form.problem.is_some());
    update(&mut m, ch(' '));
    update(&mut m, key(KeyCode::Down));
    update(&mut m, ch(' '));
    update(&mut m, ch('c'));
    update(&mut m, ch('b')); // unpicks b
    assert_eq!(
        update(&mut m, key(KeyCode::Enter)),
        vec![Effect::Answer {
            lab: LAB.into(),
            task: "layers".into(),
            question: "defence-in-depth".into(),
            value: vec!["a".into(), "c".into()]
        }]
    );
    assert_eq!(m.overlay, None, "the last question closes the form");
    assert_eq!(m.busy, 2);
    // A saved answer is checked (no watcher to do it).
    assert_eq!(
        update(
            &mut m,
            Msg::AnswerSaved {
                lab: LAB.into(),
                task: "layers".into(),
                question: "which-layer".into(),
                outcome: Ok(())
            }
        ),
        vec![grade(&["layers"])]
    );
}

#[test]
fn text_answers_type_characters_including_bound_keys() {
    let mut m = started();
    update(&mut m, ch('j'));
    update(&mut m, ch('j')); // trust
    update(&mut m, ch('a'));
    for _ in 0..2 {
        update(&mut m, key(KeyCode::Tab));
    }
    for c in "least  privileqe".chars() {
        update(&mut m, ch(c));
    }
    update(&mut m, key(KeyCode::Backspace));
    update(&mut m, key(KeyCode::Backspace));
    update(&mut m, ch('g'));
    update(&mut m, ch('e'));
    assert_eq!(
        update(&mut m, key(KeyCode::Enter)),
        vec![Effect::Answer {
            lab: LAB.into(),
            task: "trust".into(),
            question: "name-it".into(),
            value: vec!["least  privilege".into()]
        }]
    );
}

#[test]
fn answering_prefills_and_while_watching_leaves_checking_to_the_watcher() {
    let mut m = started();
    let msg = graded(
        &m,
        LAB,
        &["layers"],
        &[(
            "answers.yaml",
            "layers: {which-layer: d, defence-in-depth: [b]}\n",
        )],
    );
    update(&mut m, msg);
    update(&mut m, key(KeyCode::Enter));
    update(&mut m, ch('w'));
    update(&mut m, ch('a'));
    let Some(Overlay::Answer(form)) = &m.overlay else {
        panic!("form")
    };
    assert_eq!(form.questions[0].cursor, 3);
    assert_eq!(
        form.questions[1].picked.iter().copied().collect::<Vec<_>>(),
        vec![1]
    );
    update(&mut m, key(KeyCode::Esc));
    assert_eq!(m.overlay, None);
    let saved = Msg::AnswerSaved {
        lab: LAB.into(),
        task: "layers".into(),
        question: "which-layer".into(),
        outcome: Ok(()),
    };
    assert_eq!(update(&mut m, saved), vec![]);
}

#[test]
fn answer_refuses_tasks_without_questions_and_unstarted_labs() {
    let mut m = started();
    let tiny_fix = task_row(&m, "tiny", 0);
    m.cursor = tiny_fix;
    update(&mut m, ch('a'));
    assert_eq!(m.overlay, None);
    assert!(
        m.notice
            .as_ref()
            .is_some_and(|n| n.text.contains("no question"))
    );
    let mut m = model();
    update(&mut m, key(KeyCode::Enter));
    update(&mut m, ch('a'));
    assert_eq!(m.overlay, None);
    assert!(m.notice.as_ref().is_some_and(|n| n.text.contains("start")));
}

#[test]
fn reset_asks_first() {
    let mut m = started();
    assert_eq!(update(&mut m, ch('r')), vec![]);
    assert_eq!(
        m.overlay,
        Some(Overlay::ConfirmReset {
            lab: LAB.into(),
            task: None
        })
    );
    assert_eq!(update(&mut m, ch('x')), vec![], "anything but y keeps it");
    assert_eq!(m.overlay, None);
    update(&mut m, ch('r'));
    assert_eq!(
        update(&mut m, ch('y')),
        vec![Effect::Reset {
            lab: LAB.into(),
            task: None
        }]
    );
    let done = Msg::ResetDone {
        lab: LAB.into(),
        task: None,
        outcome: Ok("/state/backups/principles/1".into()),
        cluster: Vec::new(),
    };
    assert_eq!(
        update(&mut m, done),
        vec![Effect::LoadAnswers { lab: LAB.into() }]
    );
    assert_eq!(m.busy, 0);
}

#[test]
fn start_creates_the_workspace_and_reads_its_answers() {
    let mut m = model();
    assert_eq!(
        update(&mut m, ch('s')),
        vec![Effect::Start { lab: LAB.into() }]
    );
    assert!(m.animating());
    let mut p = Progress::new("alice");
    p.lab_mut(LAB, "h").workspace = Some(WORKSPACE.into());
    let msg = Msg::Started {
        lab: LAB.into(),
        outcome: Ok((WORKSPACE.into(), p)),
        cluster: Vec::new(),
    };
    assert_eq!(
        update(&mut m, msg),
        vec![Effect::LoadAnswers { lab: LAB.into() }]
    );
    assert!(m.started(LAB));
    assert!(!m.animating());
}

#[test]
fn start_says_what_the_cluster_part_did() {
    let mut m = model();
    update(&mut m, ch('s'));
    let mut p = Progress::new("alice");
    p.lab_mut(LAB, "h").workspace = Some(WORKSPACE.into());
    let msg = Msg::Started {
        lab: LAB.into(),
        outcome: Ok((WORKSPACE.into(), p)),
        cluster: vec![
            "the cluster part of sa-token is not set up: no seclab cluster: run `seclab up`".into(),
        ],
    };
    update(&mut m, msg);
    let notice = format!("{:?}", m.notice);
    assert!(
        notice.contains("no seclab cluster: run `seclab up`"),
        "{notice}"
    );
}

#[test]
fn quit_help_and_ctrl_c() {
    let mut m = model();
    assert_eq!(update(&mut m, ch('?')), vec![]);
    assert_eq!(m.overlay, Some(Overlay::Help));
    assert_eq!(update(&mut m, ch('q')), vec![], "q closes the help first");
    assert_eq!(m.overlay, None);
    assert_eq!(update(&mut m, ch('q')), vec![Effect::Quit]);
    let mut m = started();
    update(&mut m, key(KeyCode::Enter));
    update(&mut m, ch('a'));
    assert_eq!(update(&mut m, ch('q')), vec![], "q is typed into a form");
    assert_eq!(update(&mut m, ctrl('c')), vec![Effect::Quit]);
}

#[test]
fn key_releases_are_ignored() {
    let mut m = model();
    let mut release = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
    release.kind = KeyEventKind::Release;
    assert_eq!(update(&mut m, Msg::Key(release)), vec![]);
}

#[test]
fn scrolling_stays_within_the_content_and_follows_resizes() {
    let mut m = model();
    update(&mut m, key(KeyCode::Enter));
    for _ in 0..200 {
        update(&mut m, ch('j'));
    }
    let max = seclab::ui::max_scroll(&m, Pane::Instructions);
    assert!(max > 0, "layers does not fit in 80×24");
    assert_eq!(m.scroll.0, max);
    update(&mut m, Msg::Resize(120, 60));
    assert!(m.scroll.0 <= seclab::ui::max_scroll(&m, Pane::Instructions));
    update(&mut m, key(KeyCode::Tab));
    assert_eq!(m.pane, Pane::Verdict);
    update(&mut m, key(KeyCode::Right));
    assert_eq!((m.open, m.scroll), ((0, 1), (0, 0)));
    update(&mut m, key(KeyCode::Left));
    update(&mut m, key(KeyCode::Left));
    assert_eq!(m.open, (0, 0));
}

#[test]
fn tasks_needing_a_cluster_say_so_until_one_is_at_hand() {
    let mut m = model();
    let lab = m.catalog.get("tiny").expect("tiny").clone();
    assert_eq!(m.badge(&lab, &lab.spec.tasks[1]), TaskBadge::NeedsCluster);
    assert_eq!(m.badge(&lab, &lab.spec.tasks[0]), TaskBadge::NotTried);
    update(
        &mut m,
        Msg::Probed(Availability {
            docker: true,
            docker_problem: None,
            cluster: true,
            ..Availability::default()
        }),
    );
    assert_eq!(m.badge(&lab, &lab.spec.tasks[1]), TaskBadge::NotTried);
}

#[test]
fn z_zooms_the_focused_pane_and_pages_follow_its_height() {
    let mut m = model();
    assert_eq!(update(&mut m, ch('z')), vec![]);
    assert!(!m.zoom, "no pane on the list");
    assert!(
        m.notice
            .as_ref()
            .is_some_and(|n| n.text.contains("open one"))
    );
    update(&mut m, key(KeyCode::Enter));
    let (small_i, small_v) = (
        seclab::ui::pane_height(&m, Pane::Instructions),
        seclab::ui::pane_height(&m, Pane::Verdict),
    );
    assert_eq!(update(&mut m, ch('z')), vec![], "zoom is state, no effect");
    assert!(m.zoom);
    let big = seclab::ui::pane_height(&m, Pane::Instructions);
    assert!(big > small_i, "{big} > {small_i}");
    assert_eq!(seclab::ui::pane_height(&m, Pane::Verdict), 0);
    assert_eq!(big, 24 - 1 - 2 - 2, "the whole body, inside the border");
    // A page is the zoomed pane's height (less one line of context).
    update(&mut m, key(KeyCode::PageDown));
    assert_eq!(m.scroll.0, big - 1);
    // Tab zooms the other pane instead.
    update(&mut m, key(KeyCode::Tab));
    assert_eq!(m.pane, Pane::Verdict);
    assert_eq!(seclab::ui::pane_height(&m, Pane::Verdict), big);
    assert_eq!(seclab::ui::pane_height(&m, Pane::Instructions), 0);
    update(&mut m, ch('z'));
    assert!(!m.zoom);
    assert_eq!(seclab::ui::pane_height(&m, Pane::Verdict), small_v);
    assert!(
        m.scroll.0 <= seclab::ui::max_scroll(&m, Pane::Instructions),
        "unzoomed, the scroll is clamped again"
    );
}

#[test]
fn angle_keys_scroll_cut_lines_sideways_within_their_width() {
    let mut m = started();
    open(&mut m, "tiny", 2);
    let max = seclab::ui::max_hscroll(&m, Pane::Instructions);
    // The command is 106 columns at an indent of 7, in a 78-column pane.
    assert_eq!(usize::from(max), 7 + tui_support::WIDE_COMMAND.len() - 78);
    update(&mut m, ch('>'));
    assert_eq!(m.hscroll.0, seclab::app::HSCROLL_STEP);
    for _ in 0..20 {
        update(&mut m, ch('>'));
    }
    assert_eq!(m.hscroll.0, max, "never past the end of the longest line");
    update(&mut m, ch('<'));
    assert_eq!(m.hscroll.0, max - seclab::app::HSCROLL_STEP);
    // A wider terminal needs less: the offset follows.
    update(&mut m, Msg::Resize(120, 30));
    assert!(m.hscroll.0 <= seclab::ui::max_hscroll(&m, Pane::Instructions));
    update(&mut m, Msg::Resize(80, 24));
    // Another task starts at the left edge.
    update(&mut m, key(KeyCode::Left));
    assert_eq!(m.hscroll, (0, 0));
    // Nothing is cut there: the key says so and changes nothing.
    update(&mut m, ch('>'));
    assert_eq!(m.hscroll, (0, 0));
    assert!(
        m.notice
            .as_ref()
            .is_some_and(|n| n.text.contains("nothing to scroll"))
    );
}

#[test]
fn a_long_notice_grows_the_status_bar_and_shrinks_the_panes() {
    let mut m = started();
    update(&mut m, key(KeyCode::Enter));
    let before = seclab::ui::pane_height(&m, Pane::Verdict);
    update(&mut m, ch('c'));
    update(
        &mut m,
        Msg::Graded {
            lab: LAB.into(),
            outcome: Err("x".repeat(200)),
        },
    );
    let area = ratatui::layout::Rect::new(0, 0, 80, 24);
    assert_eq!(
        seclab::ui::status::height(&m, area),
        1 + 3,
        "200 characters: 3 lines"
    );
    assert!(seclab::ui::pane_height(&m, Pane::Verdict) < before);
    // The next key clears the notice and the bar shrinks back.
    update(&mut m, ch('j'));
    assert_eq!(seclab::ui::status::height(&m, area), 2);
    assert_eq!(seclab::ui::pane_height(&m, Pane::Verdict), before);
}

#[test]
fn r_in_a_task_view_resets_that_tasks_files_only() {
    let mut m = started();
    // Answers of another lab, and a result of tiny's other task: both stay.
    m.answers.insert(
        LAB.into(),
        serde_json::json!({"layers": {"which-layer": ["b"]}}),
    );
    let msg = graded(
        &m,
        "tiny",
        &["fix", "live"],
        &[("app.yaml", "kind: Deployment\n")],
    );
    update(&mut m, msg);
    m.cursor = task_row(&m, "tiny", 0);
    update(&mut m, key(KeyCode::Enter));
    assert_eq!(update(&mut m, ch('r')), vec![]);
    assert_eq!(
        m.overlay,
        Some(Overlay::ConfirmReset {
            lab: "tiny".into(),
            task: Some("fix".into())
        })
    );
    assert_eq!(
        update(&mut m, ch('y')),
        vec![Effect::Reset {
            lab: "tiny".into(),
            task: Some("fix".into())
        }]
    );
    let done = Msg::ResetDone {
        lab: "tiny".into(),
        task: Some("fix".into()),
        outcome: Ok("/state/backups/tiny/1".into()),
        cluster: Vec::new(),
    };
    update(&mut m, done);
    assert!(
        !m.results
            .contains_key(&("tiny".to_string(), "fix".to_string()))
    );
    assert!(
        m.results
            .contains_key(&("tiny".to_string(), "live".to_string()))
    );
    assert!(m.answers.contains_key(LAB), "answers are kept");
    assert!(
        m.notice
            .as_ref()
            .is_some_and(|n| n.text.contains("reset the files of tiny/fix")),
        "{:?}",
        m.notice
    );
    // A quiz task has no files: it says so and resets nothing.
    let mut m = started();
    m.cursor = task_row(&m, LAB, 0);
    update(&mut m, key(KeyCode::Enter));
    assert_eq!(update(&mut m, ch('r')), vec![]);
    assert_eq!(m.overlay, None);
    assert!(
        m.notice
            .as_ref()
            .is_some_and(|n| n.text.contains("no files to reset")),
        "{:?}",
        m.notice
    );
}

mod demo {
    use super::*;
    use seclab::app::{Availability, DemoEvent, DemoLine};

    const DOCKER_LAB: &str = "container-privileges";

    fn docker(m: &mut seclab::app::Model, up: bool) {
        update(
            m,
            Msg::Probed(Availability {
                docker: up,
                docker_problem: (!up).then(|| {
                    "cannot reach the engine at /var/run/docker.sock; start Docker".into()
                }),
                cluster: false,
                ..Availability::default()
            }),
        );
    }

    fn line(m: &mut seclab::app::Model, task: &str, l: DemoLine) {
        update(
            m,
            Msg::Demo {
                lab: DOCKER_LAB.into(),
                task: task.into(),
                event: DemoEvent::Line(l),
            },
        );
    }

    #[test]
    fn d_on_a_task_without_a_demo_says_so() {
        let mut m = model();
        open(&mut m, LAB, 0);
        assert_eq!(update(&mut m, ch('d')), vec![]);
        let n = m.notice.as_ref().expect("notice");
        assert!(n.text.contains("has no demo"), "{}", n.text);
        assert_eq!(m.overlay, None);
    }

    #[test]
    fn d_without_an_engine_says_why_and_runs_nothing() {
        let mut m = model();
        docker(&mut m, false);
        open(&mut m, DOCKER_LAB, 0);
        assert_eq!(update(&mut m, ch('d')), vec![]);
        let n = m.notice.as_ref().expect("notice");
        assert!(n.error);
        assert!(
            n.text.contains("needs a Docker engine") && n.text.contains("start Docker"),
            "{}",
            n.text
        );
    }

    #[test]
    fn d_runs_the_demo_streams_its_lines_and_esc_closes_without_stopping_it() {
        let mut m = model();
        docker(&mut m, true);
        open(&mut m, DOCKER_LAB, 0);
        let task = m.current_task().map(|(_, t)| t.id.clone()).expect("task");
        let effects = update(&mut m, ch('d'));
        assert_eq!(
            effects,
            vec![Effect::Demo {
                lab: DOCKER_LAB.into(),
                task: task.clone()
            }]
        );
        assert_eq!(m.overlay, Some(Overlay::Demo));
        assert!(m.animating(), "the spinner turns while it runs");
        line(&mut m, &task, DemoLine::Say("A default container".into()));
        line(
            &mut m,
            &task,
            DemoLine::Command("docker run --rm busybox:1.36".into()),
        );
        line(
            &mut m,
            &task,
            DemoLine::Output("CapEff:\t00000000a80425fb".into()),
        );
        // A line of another task is not this demo's.
        line(&mut m, "other", DemoLine::Output("stray".into()));
        let d = m.demo.as_ref().expect("demo");
        assert_eq!(d.lines.len(), 3);
        assert!(d.running);
        // Esc closes the window; the demo goes on; d shows it again
        // without starting another.
        update(&mut m, key(KeyCode::Esc));
        assert_eq!(m.overlay, None);
        assert_eq!(update(&mut m, ch('d')), vec![]);
        assert_eq!(m.overlay, Some(Overlay::Demo));
        update(
            &mut m,
            Msg::Demo {
                lab: DOCKER_LAB.into(),
                task: task.clone(),
                event: DemoEvent::Done(Ok(())),
            },
        );
        assert!(!m.demo.as_ref().expect("demo").running);
        assert!(!m.animating());
        assert!(m.notice.as_ref().is_some_and(|n| n.text.contains("done")));
        // Once done, d runs it afresh.
        update(&mut m, key(KeyCode::Esc));
        assert_eq!(update(&mut m, ch('d')).len(), 1);
        assert!(m.demo.as_ref().expect("demo").lines.is_empty());
    }

    #[test]
    fn the_window_follows_the_newest_line_until_scrolled_up() {
        let mut m = model();
        docker(&mut m, true);
        open(&mut m, DOCKER_LAB, 0);
        let task = m.current_task().map(|(_, t)| t.id.clone()).expect("task");
        update(&mut m, ch('d'));
        for i in 0..60 {
            line(&mut m, &task, DemoLine::Output(format!("line {i}")));
        }
        let max = seclab::ui::demo_max_scroll(&m);
        assert!(max > 0);
        assert_eq!(m.demo.as_ref().expect("demo").scroll, max, "follows");
        update(&mut m, key(KeyCode::Up));
        let up = m.demo.as_ref().expect("demo").scroll;
        assert_eq!(up, max - 1);
        line(&mut m, &task, DemoLine::Output("more".into()));
        assert_eq!(
            m.demo.as_ref().expect("demo").scroll,
            up,
            "stays where the student is"
        );
        for _ in 0..5 {
            update(&mut m, key(KeyCode::Down));
        }
        let max = seclab::ui::demo_max_scroll(&m);
        assert_eq!(m.demo.as_ref().expect("demo").scroll, max);
        line(&mut m, &task, DemoLine::Output("newest".into()));
        assert_eq!(
            m.demo.as_ref().expect("demo").scroll,
            seclab::ui::demo_max_scroll(&m),
            "back at the end, it follows again"
        );
    }

    #[test]
    fn ctrl_c_quits_from_the_demo_window() {
        let mut m = model();
        docker(&mut m, true);
        open(&mut m, DOCKER_LAB, 0);
        update(&mut m, ch('d'));
        assert_eq!(update(&mut m, ctrl('c')), vec![Effect::Quit]);
    }
}

mod scan {
    use super::*;
    use seclab::app::Availability;

    fn probed(m: &mut seclab::app::Model) {
        update(
            m,
            Msg::Probed(Availability {
                docker: true,
                docker_problem: None,
                cluster: false,
                ..Availability::default()
            }),
        );
    }

    #[test]
    fn t_scans_only_a_lab_that_asks_for_a_report_and_is_started() {
        let mut m = model();
        probed(&mut m);
        open(&mut m, LAB, 0);
        assert_eq!(update(&mut m, ch('t')), vec![]);
        assert!(
            m.notice
                .as_ref()
                .is_some_and(|n| n.text.contains("asks for no trivy report"))
        );
        let mut m = model();
        probed(&mut m);
        open(&mut m, "trivy-scan", 0);
        assert_eq!(update(&mut m, ch('t')), vec![]);
        assert!(
            m.notice
                .as_ref()
                .is_some_and(|n| n.text.contains("not started"))
        );
    }

    #[test]
    fn t_asks_for_the_scan_and_reports_its_end() {
        let mut m = started();
        probed(&mut m);
        open(&mut m, "trivy-scan", 0);
        assert_eq!(
            update(&mut m, ch('t')),
            vec![Effect::ScanImage {
                lab: "trivy-scan".into()
            }]
        );
        assert!(m.animating());
        update(
            &mut m,
            Msg::Scanned {
                lab: "trivy-scan".into(),
                outcome: Ok("scanned x with trivy, saved report.json".into()),
            },
        );
        assert!(!m.animating());
        let n = m.notice.clone().expect("notice");
        assert!(
            !n.error && n.text.contains("saved report.json"),
            "{}",
            n.text
        );
        update(&mut m, ch('t'));
        update(
            &mut m,
            Msg::Scanned {
                lab: "trivy-scan".into(),
                outcome: Err("no trivy: install it".into()),
            },
        );
        let n = m.notice.clone().expect("notice");
        assert!(n.error && n.text.contains("no trivy"), "{}", n.text);
    }

    #[test]
    fn t_without_an_engine_says_why() {
        let mut m = started();
        open(&mut m, "trivy-scan", 0);
        assert_eq!(update(&mut m, ch('t')), vec![]);
        assert!(
            m.notice
                .as_ref()
                .is_some_and(|n| n.error && n.text.contains("needs a Docker engine"))
        );
    }
}

#[test]
fn report_questions_read_their_text_from_the_workspace_report() {
    let mut m = started();
    open(&mut m, "trivy-scan", 1);
    let lab = m.catalog.get("trivy-scan").expect("lab").clone();
    let task = lab.spec.task("report").expect("task").clone();
    // Before the workspace is read: the general form, naming no CVE.
    let general = m.prompt("trivy-scan", &task, "carrier");
    assert!(!general.contains("CVE-2023-45853"), "{general}");
    update(
        &mut m,
        Msg::AnswersLoaded {
            lab: "trivy-scan".into(),
            answers: serde_json::Value::Null,
            prompts: [(
                ("report".to_string(), "carrier".to_string()),
                "Which package carries CVE-2023-45853?".to_string(),
            )]
            .into(),
        },
    );
    assert_eq!(
        m.prompt("trivy-scan", &task, "carrier"),
        "Which package carries CVE-2023-45853?"
    );
    // The answer form asks the same.
    update(&mut m, ch('a'));
    match &m.overlay {
        Some(Overlay::Answer(form)) => {
            let q = form
                .questions
                .iter()
                .find(|q| q.id == "carrier")
                .expect("carrier");
            assert_eq!(q.prompt, "Which package carries CVE-2023-45853?");
        }
        other => panic!("no form: {other:?}"),
    }
}

/// seclab's cluster in the TUI: the probe's answer, `p` (apply), and the
/// cluster watch that goes with `w` on a cluster lab.
mod cluster {
    use super::*;
    use seclab::cluster::Applied;

    const CLUSTER_LAB: &str = "pss-scissors";
    const NO_ID: &str = "no seclab cluster: run `seclab up` to create the kind cluster (nothing was sent to any cluster)";

    fn at_hand() -> Availability {
        Availability {
            cluster: true,
            cluster_context: Some("kind-seclab".into()),
            ..Availability::default()
        }
    }

    fn none_stored() -> Availability {
        Availability {
            cluster_problem: Some(NO_ID.into()),
            cluster_context: Some("kind-seclab".into()),
            ..Availability::default()
        }
    }

    fn tasks_of(m: &seclab::app::Model, lab: &str) -> Vec<String> {
        m.catalog
            .get(lab)
            .expect("lab")
            .spec
            .tasks
            .iter()
            .map(|t| t.id.clone())
            .collect()
    }

    fn grade_all(m: &seclab::app::Model, lab: &str) -> Effect {
        Effect::Grade {
            lab: lab.into(),
            tasks: tasks_of(m, lab),
        }
    }

    fn watch_cluster(lab: Option<&str>) -> Effect {
        Effect::WatchCluster {
            lab: lab.map(str::to_string),
        }
    }

    fn notice(m: &seclab::app::Model) -> (bool, String) {
        let n = m.notice.as_ref().expect("a notice");
        (n.error, n.text.clone())
    }

    #[test]
    fn the_probe_result_sets_what_the_cluster_offers() {
        let mut m = model();
        let lab = m.catalog.get("tiny").expect("tiny").clone();
        assert_eq!(update(&mut m, Msg::Probed(none_stored())), vec![]);
        assert_eq!(m.available, none_stored());
        assert_eq!(m.badge(&lab, &lab.spec.tasks[1]), TaskBadge::NeedsCluster);
        assert_eq!(m.available.cluster_why(), NO_ID);
        assert_eq!(update(&mut m, Msg::Probed(at_hand())), vec![]);
        assert_eq!(m.available, at_hand());
        assert_eq!(m.badge(&lab, &lab.spec.tasks[1]), TaskBadge::NotTried);
    }

    #[test]
    fn p_applies_a_started_cluster_lab_when_the_cluster_is_at_hand() {
        let mut m = started();
        update(&mut m, Msg::Probed(at_hand()));
        open(&mut m, CLUSTER_LAB, 0);
        assert_eq!(
            update(&mut m, ch('p')),
            vec![Effect::Apply {
                lab: CLUSTER_LAB.into()
            }]
        );
        assert!(m.animating(), "the spinner runs while it applies");
        let applied = Applied {
            applied: vec![
                "Deployment scissors/web".into(),
                "Namespace scissors".into(),
            ],
            skipped: vec!["Pod default/stray: namespace default is not one of the lab's".into()],
        };
        assert_eq!(
            update(
                &mut m,
                Msg::Applied {
                    lab: CLUSTER_LAB.into(),
                    outcome: Ok(applied),
                }
            ),
            vec![]
        );
        assert!(!m.animating());
        let (error, text) = notice(&m);
        assert!(error, "an object was not applied: {text}");
        assert!(
            text.contains(
                "applied 2 object(s) to kind-seclab (Deployment scissors/web, Namespace scissors)"
            ),
            "{text}"
        );
        assert!(
            text.contains("not applied: Pod default/stray: namespace default"),
            "{text}"
        );
        // All applied: no error; a failure says what went wrong.
        update(&mut m, ch('p'));
        update(
            &mut m,
            Msg::Applied {
                lab: CLUSTER_LAB.into(),
                outcome: Ok(Applied {
                    applied: vec!["Namespace scissors".into()],
                    skipped: vec![],
                }),
            },
        );
        assert!(!notice(&m).0, "{:?}", m.notice);
        update(&mut m, ch('p'));
        update(
            &mut m,
            Msg::Applied {
                lab: CLUSTER_LAB.into(),
                outcome: Err("deploy.yaml:3:1: bad indentation".into()),
            },
        );
        let (error, text) = notice(&m);
        assert!(error && text.contains("deploy.yaml:3:1"), "{text}");
        assert!(!m.animating());
    }

    #[test]
    fn p_without_a_cluster_says_why_and_asks_for_nothing() {
        let mut m = started();
        open(&mut m, CLUSTER_LAB, 0);
        // Before the probe has said.
        assert_eq!(update(&mut m, ch('p')), vec![]);
        let (error, text) = notice(&m);
        assert!(error && text.contains("not looked"), "{text}");
        update(&mut m, Msg::Probed(none_stored()));
        assert_eq!(update(&mut m, ch('p')), vec![]);
        let (error, text) = notice(&m);
        assert!(error, "{text}");
        assert!(text.contains(&format!("applying {CLUSTER_LAB}")), "{text}");
        assert!(text.ends_with(NO_ID), "{text}");
        assert!(!m.animating());
    }

    #[test]
    fn p_needs_a_cluster_lab_that_is_started() {
        let mut m = started();
        update(&mut m, Msg::Probed(at_hand()));
        // principles has no manifests to apply.
        assert_eq!(update(&mut m, ch('p')), vec![]);
        assert!(notice(&m).1.contains("no cluster part"), "{:?}", m.notice);
        let mut m = model();
        update(&mut m, Msg::Probed(at_hand()));
        open(&mut m, CLUSTER_LAB, 0);
        assert_eq!(update(&mut m, ch('p')), vec![]);
        assert!(notice(&m).1.contains("press s"), "{:?}", m.notice);
    }

    #[test]
    fn watching_a_cluster_lab_watches_its_objects_while_the_cluster_is_at_hand() {
        let mut m = started();
        open(&mut m, CLUSTER_LAB, 0);
        let all = grade_all(&m, CLUSTER_LAB);
        // No cluster (yet): the workspace only.
        update(&mut m, Msg::Probed(none_stored()));
        assert_eq!(
            update(&mut m, ch('w')),
            vec![
                Effect::Watch {
                    lab: Some(CLUSTER_LAB.into())
                },
                all.clone()
            ]
        );
        assert_eq!(m.cluster_watching, None);
        assert_eq!(
            update(
                &mut m,
                Msg::ClusterChanged {
                    lab: CLUSTER_LAB.into()
                }
            ),
            vec![],
            "not watched: no grading"
        );
        let graded_msg = graded(&m, CLUSTER_LAB, &[], &[]);
        update(&mut m, graded_msg);
        m.running.clear();
        // The probe finds the cluster: the watch of its objects starts.
        assert_eq!(
            update(&mut m, Msg::Probed(at_hand())),
            vec![watch_cluster(Some(CLUSTER_LAB))]
        );
        assert_eq!(m.cluster_watching.as_deref(), Some(CLUSTER_LAB));
        // A change re-grades the lab, like a save; another lab's does not.
        assert_eq!(
            update(
                &mut m,
                Msg::ClusterChanged {
                    lab: CLUSTER_LAB.into()
                }
            ),
            vec![all.clone()]
        );
        assert!(notice(&m).1.contains("changed on the cluster"));
        m.running.clear();
        assert_eq!(
            update(
                &mut m,
                Msg::ClusterChanged {
                    lab: "sa-token".into()
                }
            ),
            vec![]
        );
        // A failed look says so and keeps watching.
        update(
            &mut m,
            Msg::ClusterWatchFailed {
                lab: CLUSTER_LAB.into(),
                error: "the API server does not answer".into(),
            },
        );
        assert!(notice(&m).1.contains("does not answer"));
        assert_eq!(m.cluster_watching.as_deref(), Some(CLUSTER_LAB));
        // The cluster goes away: the watch of it stops, the workspace's stays.
        assert_eq!(
            update(&mut m, Msg::Probed(none_stored())),
            vec![watch_cluster(None)]
        );
        assert_eq!(m.watching.as_deref(), Some(CLUSTER_LAB));
        update(&mut m, Msg::Probed(at_hand()));
        // `w` off stops both.
        assert_eq!(
            update(&mut m, ch('w')),
            vec![Effect::Watch { lab: None }, watch_cluster(None)]
        );
        assert_eq!(m.cluster_watching, None);
        assert_eq!(
            update(
                &mut m,
                Msg::ClusterChanged {
                    lab: CLUSTER_LAB.into()
                }
            ),
            vec![]
        );
    }

    #[test]
    fn w_on_a_cluster_lab_starts_both_watches_and_leaving_it_stops_the_clusters() {
        let mut m = started();
        update(&mut m, Msg::Probed(at_hand()));
        open(&mut m, CLUSTER_LAB, 0);
        let all = grade_all(&m, CLUSTER_LAB);
        assert_eq!(
            update(&mut m, ch('w')),
            vec![
                Effect::Watch {
                    lab: Some(CLUSTER_LAB.into())
                },
                watch_cluster(Some(CLUSTER_LAB)),
                all
            ]
        );
        assert!(notice(&m).1.contains("kind-seclab"), "{:?}", m.notice);
        // Watching another lab (one without a cluster part) leaves this one.
        update(&mut m, key(KeyCode::Esc));
        m.cursor = 0;
        let effects = update(&mut m, ch('w'));
        assert_eq!(
            effects[..2],
            [
                Effect::Watch {
                    lab: Some(LAB.into())
                },
                watch_cluster(None)
            ]
        );
        assert_eq!(m.cluster_watching, None);
        // A workspace watch that fails takes the cluster watch with it.
        open(&mut m, CLUSTER_LAB, 0);
        update(&mut m, ch('w'));
        assert_eq!(m.cluster_watching.as_deref(), Some(CLUSTER_LAB));
        assert_eq!(
            update(
                &mut m,
                Msg::WatchFailed {
                    lab: CLUSTER_LAB.into(),
                    error: "inotify limit".into(),
                }
            ),
            vec![watch_cluster(None)]
        );
    }

    #[test]
    fn changes_during_a_grading_regrade_once_after_it() {
        let mut m = started();
        update(&mut m, Msg::Probed(at_hand()));
        open(&mut m, CLUSTER_LAB, 0);
        let all = grade_all(&m, CLUSTER_LAB);
        update(&mut m, ch('w'));
        let changed = || Msg::ClusterChanged {
            lab: CLUSTER_LAB.into(),
        };
        // The grading `w` asked for is in flight: changes wait for it.
        assert_eq!(update(&mut m, changed()), vec![]);
        assert_eq!(update(&mut m, changed()), vec![]);
        let tasks = tasks_of(&m, CLUSTER_LAB);
        let tasks: Vec<&str> = tasks.iter().map(String::as_str).collect();
        let done = graded(&m, CLUSTER_LAB, &tasks, &[]);
        assert_eq!(update(&mut m, done.clone()), vec![all], "one more, not two");
        assert_eq!(update(&mut m, done), vec![]);
        assert!(!m.animating());
    }
}
