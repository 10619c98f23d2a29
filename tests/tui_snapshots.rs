//! Snapshot tests of the key screens, drawn into ratatui's `TestBackend`
//! at 80×24 and compared with `insta` (`tests/snapshots/`). The models use
//! a fixed workspace path, so no temp path reaches a snapshot; NO_COLOR is
//! on, so every state must read from glyphs and words alone.

mod tui_support;

use ratatui::crossterm::event::KeyCode;
use seclab::app::{Msg, update};
use seclab_checkers::Finding;
use tui_support::{ch, graded, key, model, render, started, task_row};

const WRONG: &str = "layers: {which-layer: a, defence-in-depth: [a, d]}\ntrust: {zero-trust: b}\n";

#[test]
fn lab_list() {
    let mut m = started();
    let msg = graded(
        &m,
        "principles",
        &["layers", "trust"],
        &[(
            "answers.yaml",
            "layers: {which-layer: [b, d], defence-in-depth: [a, b, c]}\n",
        )],
    );
    update(&mut m, msg);
    update(&mut m, ch('j'));
    update(&mut m, ch('j'));
    update(&mut m, ch('j'));
    // `duty` is being graded: the spinner's first frame.
    m.running.insert(("principles".into(), "duty".into()));
    insta::assert_snapshot!(render(&m));
}

#[test]
fn lab_list_before_starting() {
    let m = model();
    insta::assert_snapshot!(render(&m));
}

#[test]
fn task_with_instructions() {
    let mut m = model();
    update(&mut m, key(KeyCode::Enter));
    insta::assert_snapshot!(render(&m));
}

#[test]
fn task_instructions_scrolled_to_the_questions() {
    let mut m = started();
    let msg = graded(&m, "principles", &["layers"], &[("answers.yaml", WRONG)]);
    update(&mut m, msg);
    update(&mut m, key(KeyCode::Enter));
    for _ in 0..100 {
        update(&mut m, ch('j'));
    }
    insta::assert_snapshot!(render(&m));
}

#[test]
fn failing_check_with_findings() {
    let mut m = started();
    let row = task_row(&m, "tiny", 0);
    m.cursor = row;
    update(&mut m, key(KeyCode::Enter));
    let app = "kind: Deployment\nmetadata:\n  name: app\nspec:\n  replicas: 1\n";
    let mut msg = graded(&m, "tiny", &["fix"], &[("app.yaml", app)]);
    // A warning as the pss checker gives for unknown fields.
    if let Msg::Graded { outcome: Ok(g), .. } = &mut msg {
        let mut w = Finding::warning("unknown field `replica`; did you mean `replicas`?");
        w.object = Some("Deployment/app".into());
        w.source = Some("app.yaml".into());
        w.line = Some(6);
        w.col = Some(3);
        w.paths.push("spec.replica".into());
        g.results[0].checks[0].verdict.findings.push(w);
    }
    update(&mut m, msg);
    insta::assert_snapshot!(render(&m));
}

#[test]
fn revealed_hint() {
    let mut m = started();
    let msg = graded(&m, "principles", &["layers"], &[("answers.yaml", WRONG)]);
    update(&mut m, msg);
    update(&mut m, key(KeyCode::Enter));
    let mut p = m.progress.clone();
    let hash = m
        .catalog
        .get("principles")
        .expect("lab")
        .content_hash
        .clone();
    p.lab_mut("principles", &hash).reveal_hint("layers", 2);
    update(&mut m, ch('h'));
    update(
        &mut m,
        Msg::HintRevealed {
            lab: "principles".into(),
            task: "layers".into(),
            outcome: Ok(p),
        },
    );
    insta::assert_snapshot!(render(&m));
}

#[test]
fn answer_choice_list() {
    let mut m = started();
    update(&mut m, key(KeyCode::Enter));
    update(&mut m, ch('a'));
    update(&mut m, key(KeyCode::Tab));
    update(&mut m, ch('a'));
    update(&mut m, ch('c'));
    insta::assert_snapshot!(render(&m));
}

#[test]
fn answer_text_input() {
    let mut m = started();
    update(&mut m, ch('j'));
    update(&mut m, ch('j'));
    update(&mut m, ch('a'));
    update(&mut m, key(KeyCode::BackTab));
    for c in "least privilege".chars() {
        update(&mut m, ch(c));
    }
    insta::assert_snapshot!(render(&m));
}

#[test]
fn help() {
    let mut m = model();
    update(&mut m, ch('?'));
    insta::assert_snapshot!(render(&m));
}

#[test]
fn reset_confirmation() {
    let mut m = started();
    update(&mut m, ch('r'));
    insta::assert_snapshot!(render(&m));
}

#[test]
fn tiny_terminal_does_not_panic() {
    for (w, h) in [(1, 1), (10, 3), (20, 5), (40, 10)] {
        let mut m = started();
        update(&mut m, Msg::Resize(w, h));
        render(&m);
        update(&mut m, key(KeyCode::Enter));
        render(&m);
        update(&mut m, ch('a'));
        render(&m);
        update(&mut m, key(KeyCode::Esc));
        update(&mut m, ch('?'));
        render(&m);
    }
}

/// The `netpol` checker's matrix in the verdict pane: the start state of
/// `netpol-three-pods` (no policies: everything reaches everything), with
/// the cells that differ from the a→b expectation marked `!`.
#[test]
fn netpol_matrix_in_the_verdict() {
    let mut m = started();
    m.size = (80, 40);
    m.cursor = task_row(&m, "netpol-three-pods", 1);
    update(&mut m, key(KeyCode::Enter));
    let start = m
        .catalog
        .get("netpol-three-pods")
        .expect("lab")
        .tree("start/");
    let files: Vec<(String, String)> = start
        .iter()
        .map(|(p, b)| (p.clone(), String::from_utf8_lossy(b).into_owned()))
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let msg = graded(&m, "netpol-three-pods", &["a-to-b"], &refs);
    update(&mut m, msg);
    update(&mut m, key(KeyCode::Tab));
    let screen = render(&m);
    assert!(screen.contains("all!"), "{screen}");
    insta::assert_snapshot!(screen);
}
