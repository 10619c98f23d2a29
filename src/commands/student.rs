//! Commands for students: `list`, `show`, `start`, `reset`, `check`,
//! `hint`, `answer`, `progress`, `clean`.

use std::fmt::Write as _;
use std::io::BufRead as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use seclab_checkers::{Need, Severity, Status};
use serde_json::{Value, json};

use crate::cli::{Output, ProgressOutput};
use crate::commands::Ctx;
use crate::error::{EXIT_OK, Outcome};
use crate::grade::TaskResult;
use crate::junit::{self, JunitCase};
use crate::lab::{Lab, TaskSpec};
use crate::progress::{self, TaskState};
use crate::session::{
    absolute, load_progress, record, record_answer, reset_workspace, reveal_hint, start_workspace,
    state, task, tasks_of, workspace_of,
};
use crate::shell::watch;

fn needs_words(needs: &std::collections::BTreeSet<Need>) -> Vec<String> {
    needs.iter().map(ToString::to_string).collect()
}

/// `seclab list` (and `seclab` with no arguments).
pub fn list(ctx: &Ctx, output: Output, intro: bool) -> anyhow::Result<Outcome> {
    ctx.catalog.warn_broken();
    if output == Output::Json {
        let labs: Vec<Value> = ctx
            .catalog
            .labs
            .iter()
            .map(|l| {
                json!({
                    "id": l.spec.id,
                    "title": l.spec.title,
                    "needs": needs_words(&l.spec.needs()),
                    "builtin": l.origin == crate::lab::Origin::BuiltIn,
                    "tasks": l.spec.tasks.iter().map(|t| json!({"id": t.id, "title": t.title})).collect::<Vec<_>>(),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&labs)?);
        return Ok(Outcome(EXIT_OK));
    }
    let width = ctx
        .catalog
        .labs
        .iter()
        .map(|l| l.spec.id.len())
        .max()
        .unwrap_or(0);
    if intro {
        println!("seclab: hands-on container and Kubernetes security labs\n");
    }
    for l in &ctx.catalog.labs {
        let ext = if l.origin == crate::lab::Origin::BuiltIn {
            ""
        } else {
            " (external)"
        };
        println!("{:width$}  {}{ext}", l.spec.id, l.spec.title);
        println!(
            "{:width$}  {} task(s); needs: {}",
            "",
            l.spec.tasks.len(),
            needs_words(&l.spec.needs()).join(", ")
        );
    }
    if intro {
        println!(
            "\nStart a lab:  seclab start <lab>   then  seclab show <lab>  and  seclab check <lab>"
        );
        println!("All commands: seclab --help");
    }
    Ok(Outcome(EXIT_OK))
}

/// The questions of a task (quiz and flag checks), for `show`: how a
/// student without the TUI reads what to answer.
/// Report questions are rendered from the report in the workspace at
/// `root`, for the student with `seed`.
fn questions_json(t: &TaskSpec, root: Option<&Path>, seed: &str) -> Vec<Value> {
    use seclab_checkers::CheckSpec;
    t.checks
        .iter()
        .filter_map(|c| match c {
            CheckSpec::Quiz(q) => Some(json!({
                "id": q.id,
                "question": q.question.trim(),
                "kind": if q.choices.is_empty() { "short" } else if q.multiple { "multiple" } else { "single" },
                "choices": q.choices.iter().enumerate()
                    .map(|(i, c)| json!({"label": seclab_checkers::quiz::label(i), "text": c}))
                    .collect::<Vec<_>>(),
            })),
            CheckSpec::Flag(f) => Some(json!({
                "id": f.id, "question": f.question.trim(), "kind": "flag", "choices": [],
            })),
            CheckSpec::ReportQuestion(q) => Some(json!({
                "id": q.id, "question": crate::session::report_question_text(q, root, seed),
                "kind": "report", "choices": [],
            })),
            CheckSpec::AuditEvent(a) => Some(json!({
                "id": a.id, "question": a.question.trim(), "kind": "audit_event", "choices": [],
            })),
            CheckSpec::AuditQuestion(q) => Some(json!({
                "id": q.id, "question": q.question.trim(), "kind": "audit_question", "choices": [],
            })),
            _ => None,
        })
        .collect()
}

/// The questions of a task as text, each with its lettered choices and the
/// command that answers it.
fn questions_text(lab: &str, t: &TaskSpec, root: Option<&Path>, seed: &str) -> String {
    let mut out = String::new();
    for q in questions_json(t, root, seed) {
        let id = q["id"].as_str().unwrap_or_default();
        let kind = q["kind"].as_str().unwrap_or_default();
        let how = match kind {
            "multiple" => "pick every letter that fits",
            "single" => "pick one letter",
            "flag" => "the flag you found",
            "report" => "read it from your report",
            "audit_question" => "read it from your audit log",
            _ => "a short answer",
        };
        let _ = writeln!(
            out,
            "Question `{id}` ({how}):\n  {}",
            q["question"].as_str().unwrap_or_default()
        );
        for c in q["choices"].as_array().into_iter().flatten() {
            let _ = writeln!(
                out,
                "    {}) {}",
                c["label"].as_str().unwrap_or_default(),
                c["text"].as_str().unwrap_or_default()
            );
        }
        let placeholder = match kind {
            "multiple" => "<letter>...",
            "single" => "<letter>",
            "flag" => "<flag>",
            _ => "\"<answer>\"",
        };
        let _ = writeln!(
            out,
            "  answer: seclab answer {lab} {} --question {id} {placeholder}\n",
            t.id
        );
    }
    out
}

/// `seclab show`.
pub fn show(
    ctx: &Ctx,
    lab_id: &str,
    task_id: Option<&str>,
    output: Output,
) -> anyhow::Result<Outcome> {
    let lab = ctx.catalog.get(lab_id)?;
    let tasks = tasks_of(lab, task_id)?;
    let st = state()?;
    let (p, student) = load_progress(&st)?;
    let lp = p.labs.get(lab_id);
    let root = workspace_of(&p, lab_id);
    let root = root.is_dir().then_some(root.as_path());
    let seed = student.pick_key();
    let seed = seed.as_str();
    let revealed = |t: &TaskSpec| lp.map_or(0, |l| l.hints(&t.id)).min(t.hints.len());
    if output == Output::Json {
        let v: Vec<Value> = tasks
            .iter()
            .map(|t| {
                json!({
                    "id": t.id, "title": t.title,
                    "instructions": lab.instructions(t),
                    "needs": needs_words(&t.needs()),
                    "hints_revealed": t.hints[..revealed(t)],
                    "hints_total": t.hints.len(),
                    "questions": questions_json(t, root, seed),
                    "state": lp.map_or(TaskState::NotTried, |l| l.state(&t.id)),
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(
                &json!({"id": lab.spec.id, "title": lab.spec.title, "summary": lab.spec.summary, "tasks": v})
            )?
        );
        return Ok(Outcome(EXIT_OK));
    }
    if task_id.is_none() {
        println!("# {}\n\n{}\n", lab.spec.title, lab.spec.summary.trim());
    }
    for t in tasks {
        println!(
            "== Task {}: {} (needs: {})\n",
            t.id,
            t.title,
            needs_words(&t.needs()).join(", ")
        );
        println!("{}", lab.instructions(t).trim_end());
        let questions = questions_text(&lab.spec.id, t, root, seed);
        if !questions.is_empty() {
            print!("\n{}", questions.trim_end_matches('\n'));
            println!();
        }
        let n = revealed(t);
        if n > 0 {
            println!();
            for (i, h) in t.hints[..n].iter().enumerate() {
                println!("Hint {}/{}: {h}", i + 1, t.hints.len());
            }
        } else {
            println!(
                "\n({} hint(s): seclab hint {} {})",
                t.hints.len(),
                lab.spec.id,
                t.id
            );
        }
        println!();
    }
    Ok(Outcome(EXIT_OK))
}

/// `seclab start`.
pub fn start(
    ctx: &Ctx,
    lab_id: &str,
    workspace: Option<PathBuf>,
    force: bool,
) -> anyhow::Result<Outcome> {
    let lab = ctx.catalog.get(lab_id)?;
    let (root, backup) = start_workspace(
        lab,
        &workspace.unwrap_or_else(|| PathBuf::from("seclab").join(lab_id)),
        force,
    )?;
    if let Some(b) = backup {
        println!("backed up the old workspace to {}", b.display());
    }
    println!("started {lab_id} in {}", root.display());
    crate::commands::cluster::start_lab(ctx, lab)?;
    println!("next: seclab show {lab_id}   then edit the files and run   seclab check {lab_id}");
    Ok(Outcome(EXIT_OK))
}

/// `seclab reset`.
pub fn reset(ctx: &Ctx, lab_id: &str, task_id: Option<&str>) -> anyhow::Result<Outcome> {
    let lab = ctx.catalog.get(lab_id)?;
    let (root, backup) = reset_workspace(lab, task_id)?;
    println!("backed up to {}", backup.display());
    println!(
        "reset {} in {}",
        task_id.map_or_else(|| "the workspace".to_string(), |t| format!("task {t}")),
        root.display()
    );
    crate::commands::cluster::reset_lab(ctx, lab)?;
    Ok(Outcome(EXIT_OK))
}

/// `seclab reset --restore`.
pub fn restore(ctx: &Ctx, lab_id: &str) -> anyhow::Result<Outcome> {
    let lab = ctx.catalog.get(lab_id)?;
    let (root, restored, backup) = crate::session::restore_workspace(lab)?;
    println!("backed up the current workspace to {}", backup.display());
    println!("restored {} from {}", root.display(), restored.display());
    Ok(Outcome(EXIT_OK))
}

/// Prints one task result for people.
pub fn print_result(lab: &Lab, r: &TaskResult) -> String {
    let mut s = String::new();
    let title = lab.spec.task(&r.task).map_or("", |t| t.title.as_str());
    let word = match r.status {
        Status::Pass => "PASS",
        Status::Fail => "FAIL",
        Status::Skipped => "SKIP",
    };
    let _ = writeln!(s, "{word}  {}/{}: {title}", lab.spec.id, r.task);
    for c in &r.checks {
        let w = match c.verdict.status {
            Status::Pass => "ok  ",
            Status::Fail => "fail",
            Status::Skipped => "skip",
        };
        let _ = writeln!(s, "  {w} {}: {}", c.checker, c.description);
        if let Some(reason) = &c.verdict.reason {
            let _ = writeln!(s, "       skipped: {reason}");
        }
        for f in &c.verdict.findings {
            let sev = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "info",
            };
            let at = match (&f.source, f.line, f.col) {
                (Some(src), Some(l), Some(col)) => format!("{src}:{l}:{col}: "),
                (Some(src), _, _) => format!("{src}: "),
                _ => String::new(),
            };
            let obj = f
                .object
                .as_ref()
                .map_or(String::new(), |o| format!("{o}: "));
            let _ = writeln!(s, "       {sev}: {at}{obj}{}", f.message);
            if let Some(path) = f.paths.first() {
                let _ = writeln!(s, "              field: {path}");
            }
        }
        // A failing netpol check shows its matrix, differing cells marked.
        let matrix = c.verdict.detail.as_ref().and_then(|d| d.get("text"));
        if let (Status::Fail, Some(text)) = (c.verdict.status, matrix.and_then(|t| t.as_str())) {
            s.push('\n');
            for line in text.lines() {
                if line.is_empty() {
                    s.push('\n');
                } else {
                    let _ = writeln!(s, "       {line}");
                }
            }
        }
    }
    s
}

/// `seclab check`.
pub fn check(
    ctx: &Ctx,
    lab_id: &str,
    task_id: Option<&str>,
    watch_mode: bool,
    poll: bool,
    output: Output,
    junit_path: Option<&Path>,
) -> anyhow::Result<Outcome> {
    let lab = ctx.catalog.get(lab_id)?;
    let tasks = tasks_of(lab, task_id)?;
    let st = state()?;
    let (p, _) = load_progress(&st)?;
    let root = absolute(&workspace_of(&p, lab_id))?;
    let docker = if tasks.iter().any(|t| t.needs().contains(&Need::Docker)) {
        match crate::live::Docker::connect(ctx.image_map.clone()) {
            Ok(d) => Some(d),
            Err(e) => {
                eprintln!("note: Docker tasks are skipped: {e}");
                None
            }
        }
    } else {
        None
    };
    let cluster = crate::cluster::cluster_for(lab, &ctx.target)?;
    let run = || -> anyhow::Result<Outcome> {
        let results = crate::session::grade_snapshot_live(
            lab,
            &tasks,
            &root,
            docker.as_ref(),
            cluster.as_ref(),
        )?
        .0;
        record(&st, lab, &results)?;
        match output {
            Output::Json => println!("{}", serde_json::to_string_pretty(&results)?),
            Output::Text => {
                for r in &results {
                    print!("{}", print_result(lab, r));
                }
            }
        }
        if let Some(path) = junit_path {
            let cases: Vec<JunitCase> = results
                .iter()
                .map(|r| JunitCase {
                    suite: lab.spec.id.clone(),
                    name: format!("{}/{}", lab.spec.id, r.task),
                    problem: match r.status {
                        Status::Pass => None,
                        Status::Fail => Some((true, crate::labtest::failure_summary(r))),
                        Status::Skipped => Some((false, r.skip_reasons().join("; "))),
                    },
                })
                .collect();
            junit::write(path, "seclab check", &cases)?;
        }
        Ok(Outcome::from_ok(
            results.iter().all(|r| r.status != Status::Fail),
        ))
    };
    let first = run()?;
    if !watch_mode {
        return Ok(first);
    }
    // Saves re-grade; so do changes on the cluster, for a cluster lab
    // graded on seclab's cluster (its objects polled, settled changes only).
    let (tx, rx) = std::sync::mpsc::channel::<(&str, Result<(), String>)>();
    let files_tx = tx.clone();
    let _files = watch::start(&root, poll, move |e| {
        let _ = files_tx.send(("a change in the files", e));
    })?;
    let _cluster = cluster.as_ref().map(|_| {
        crate::runtime::cluster_poller(lab_id, ctx.target.clone(), move |e| {
            let _ = tx.send(("a change on the cluster", e));
        })
    });
    eprintln!(
        "watching {}{} for changes (Ctrl-C to stop)",
        root.display(),
        if cluster.is_some() {
            format!(" and the lab on context {}", ctx.target.context)
        } else {
            String::new()
        }
    );
    for (what, event) in rx {
        match event {
            Ok(()) => {
                println!("--- {what}, grading again");
                if let Err(e) = run() {
                    eprintln!("error: {e:#}");
                }
            }
            Err(e) => eprintln!("watch: {e}"),
        }
    }
    Ok(first)
}

/// `seclab hint`.
pub fn hint(ctx: &Ctx, lab_id: &str, task_id: &str) -> anyhow::Result<Outcome> {
    let lab = ctx.catalog.get(lab_id)?;
    let t = task(lab, task_id)?;
    match reveal_hint(lab, t)? {
        Some(i) => {
            println!("Hint {}/{}: {}", i + 1, t.hints.len(), t.hints[i]);
        }
        None => {
            println!("All {} hint(s) are revealed:", t.hints.len());
            for (i, h) in t.hints.iter().enumerate() {
                println!("Hint {}/{}: {h}", i + 1, t.hints.len());
            }
        }
    }
    Ok(Outcome(EXIT_OK))
}

/// `seclab answer`.
pub fn answer(
    ctx: &Ctx,
    lab_id: &str,
    task_id: &str,
    question: Option<&str>,
    value: &[String],
) -> anyhow::Result<Outcome> {
    let lab = ctx.catalog.get(lab_id)?;
    let t = task(lab, task_id)?;
    let (qid, root) = record_answer(lab, t, question, value)?;
    println!(
        "recorded answer to `{qid}` in {}",
        root.join(crate::grade::ANSWERS_FILE).display()
    );
    println!("grade it: seclab check {lab_id} {task_id}");
    Ok(Outcome(EXIT_OK))
}

/// `seclab progress`.
pub fn progress(
    ctx: &Ctx,
    output: ProgressOutput,
    junit_path: Option<&Path>,
) -> anyhow::Result<Outcome> {
    let st = state()?;
    let (p, student) = load_progress(&st)?;
    let rows: Vec<(&Lab, &TaskSpec, TaskState, u32, u32, bool)> = ctx
        .catalog
        .labs
        .iter()
        .flat_map(|lab| {
            let lp = p.labs.get(&lab.spec.id);
            let stale = p.is_stale(&lab.spec.id, &lab.content_hash);
            lab.spec.tasks.iter().map(move |t| {
                let tp = lp.and_then(|l| l.tasks.get(&t.id));
                (
                    lab,
                    t,
                    tp.map_or(TaskState::NotTried, |x| x.state),
                    tp.map_or(0, |x| x.attempts),
                    tp.map_or(0, |x| x.hints_revealed),
                    stale
                        && tp.is_some_and(|x| {
                            x.stale || lp.is_some_and(|l| l.content_hash != lab.content_hash)
                        }),
                )
            })
        })
        .collect();
    let word = |s: TaskState| match s {
        TaskState::NotTried => "not tried",
        TaskState::Passed => "passed",
        TaskState::Failed => "failed",
        TaskState::Skipped => "skipped",
    };
    match output {
        ProgressOutput::Json => {
            let labs: Vec<Value> = ctx
                .catalog
                .labs
                .iter()
                .map(|lab| {
                    json!({
                        "id": lab.spec.id,
                        "content_hash": lab.content_hash,
                        "stale": p.is_stale(&lab.spec.id, &lab.content_hash),
                        "tasks": p.labs.get(&lab.spec.id).map(|l| &l.tasks),
                    })
                })
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(
                    &json!({"student": student.id, "format_version": progress::PROGRESS_VERSION, "labs": labs})
                )?
            );
        }
        ProgressOutput::Md => {
            println!("| lab | task | status | attempts | hints |\n|---|---|---|---|---|");
            for (lab, t, s, a, h, stale) in &rows {
                let st = if *stale { " (stale)" } else { "" };
                println!(
                    "| {} | {} | {}{st} | {a} | {h} |",
                    lab.spec.id,
                    t.id,
                    word(*s)
                );
            }
        }
        ProgressOutput::Text => {
            println!("student: {}", student.id);
            for (lab, t, s, a, h, stale) in &rows {
                let st = if *stale {
                    " (stale: the lab changed since)"
                } else {
                    ""
                };
                println!(
                    "{:<10} {}/{}  attempts {a}, hints {h}{st}",
                    word(*s),
                    lab.spec.id,
                    t.id
                );
            }
        }
    }
    if let Some(path) = junit_path {
        let cases: Vec<JunitCase> = rows
            .iter()
            .map(|(lab, t, s, ..)| JunitCase {
                suite: lab.spec.id.clone(),
                name: format!("{}/{}", lab.spec.id, t.id),
                problem: match s {
                    TaskState::Passed => None,
                    TaskState::Failed => Some((true, "failed".into())),
                    TaskState::NotTried | TaskState::Skipped => Some((false, word(*s).into())),
                },
            })
            .collect();
        junit::write(path, &format!("seclab progress of {}", student.id), &cases)?;
    }
    Ok(Outcome(EXIT_OK))
}

fn confirm(question: &str) -> bool {
    eprint!("{question} [y/N] ");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).is_ok() && matches!(line.trim(), "y" | "Y" | "yes")
}

/// `seclab clean`.
pub fn clean(ctx: &Ctx, lab_id: Option<&str>, yes: bool) -> anyhow::Result<Outcome> {
    if let Some(id) = lab_id {
        ctx.catalog.get(id)?;
    }
    let st = state()?;
    let (mut p, _) = load_progress(&st)?;
    let ids: Vec<String> = match lab_id {
        Some(id) => vec![id.to_string()],
        None => p.labs.keys().cloned().collect(),
    };
    let workspaces: Vec<PathBuf> = ids
        .iter()
        .filter_map(|id| p.labs.get(id).and_then(|l| l.workspace.clone()))
        .filter(|w| w.exists())
        .collect();
    println!("this removes:");
    for w in &workspaces {
        println!("  workspace {}", w.display());
    }
    match lab_id {
        Some(id) => println!("  progress and backups of {id}"),
        None => println!("  all progress, backups and config in {}", st.display()),
    }
    if !yes && !confirm("go ahead?") {
        println!("nothing removed");
        return Ok(Outcome(EXIT_OK));
    }
    for w in &workspaces {
        std::fs::remove_dir_all(w).with_context(|| format!("{}: cannot remove", w.display()))?;
    }
    match lab_id {
        Some(id) => {
            p.labs.remove(id);
            let b = st.join("backups").join(id);
            if b.exists() {
                std::fs::remove_dir_all(&b)?;
            }
            progress::save(&st, &p)?;
        }
        None => {
            if st.exists() {
                std::fs::remove_dir_all(&st)
                    .with_context(|| format!("{}: cannot remove", st.display()))?;
            }
        }
    }
    println!("removed");
    Ok(Outcome(EXIT_OK))
}

/// `seclab stop`: remove the lab's containers (by seclab's labels only).
pub fn stop(ctx: &Ctx, lab_id: &str) -> anyhow::Result<Outcome> {
    let lab = ctx.catalog.get(lab_id)?;
    if crate::cluster::is_cluster_lab(lab) {
        let gone = crate::commands::cluster::stop_lab(ctx, lab)?;
        println!(
            "removed {} of {lab_id} from context {}",
            if gone.is_empty() {
                "nothing".to_string()
            } else {
                gone.join(", ")
            },
            ctx.target.context
        );
        return Ok(Outcome(crate::error::EXIT_OK));
    }
    let d = crate::live::Docker::connect(ctx.image_map.clone())?;
    let n = crate::live::stop(&d, &lab.spec.id)?;
    println!("removed {n} container(s) of {lab_id}");
    Ok(Outcome(crate::error::EXIT_OK))
}

/// `seclab demo`: run a task's (or every task's) "show me" steps.
pub fn demo(ctx: &Ctx, lab_id: &str, task_id: Option<&str>) -> anyhow::Result<Outcome> {
    use crate::live::DemoLine;
    let lab = ctx.catalog.get(lab_id)?;
    let tasks: Vec<_> = tasks_of(lab, task_id)?
        .into_iter()
        .filter(|t| !t.demo.is_empty())
        .collect();
    if tasks.is_empty() {
        anyhow::bail!(
            "{lab_id}{} has no demo steps",
            task_id.map_or(String::new(), |t| format!("/{t}"))
        );
    }
    let d = crate::live::Docker::connect(ctx.image_map.clone())?;
    let st = state()?;
    let (p, student) = load_progress(&st)?;
    let root = absolute(&workspace_of(&p, lab_id))?;
    let mut refused = false;
    for t in tasks {
        println!("== {}: {}", t.id, t.title);
        crate::live::demo(&d, lab, t, &student.id, &root, &mut |line| match line {
            DemoLine::Say(s) => println!("\n# {s}"),
            DemoLine::Command(c) => println!("$ {c}"),
            DemoLine::Output(o) => println!("  {o}"),
            DemoLine::Note(n) => println!("  => {n}"),
            DemoLine::Refused(r) => {
                refused = true;
                println!("  !! {r}");
            }
        })?;
    }
    if refused {
        eprintln!(
            "note: some steps could not run on this engine; the instructions explain what they show"
        );
    }
    Ok(Outcome(crate::error::EXIT_OK))
}
