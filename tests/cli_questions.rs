//! A student without the TUI can finish a quiz: `show` prints every
//! question with its lettered choices (text and JSON) and how to answer it,
//! `answer` explains letters run together, and a short answer accepts each
//! form the lab lists.

mod common;

use common::Sandbox;
use serde_json::Value;

#[test]
fn show_prints_each_question_with_lettered_choices() {
    let sb = Sandbox::new();
    let r = sb.run(&["show", "principles", "layers"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("Question `which-layer` (pick every letter that fits):"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("    a) "), "{}", r.stdout);
    assert!(r.stdout.contains("    f) "), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("answer: seclab answer principles layers --question which-layer <letter>..."),
        "{}",
        r.stdout
    );
    let r = sb.run(&["show", "principles", "trust"]);
    assert!(
        r.stdout.contains("Question `name-it` (a short answer):"),
        "{}",
        r.stdout
    );
    // The flag of sa-token is a question too.
    let r = sb.run(&["show", "sa-token", "steal-secret"]);
    assert!(
        r.stdout
            .contains("Question `password` (the flag you found):"),
        "{}",
        r.stdout
    );
}

#[test]
fn show_json_lists_questions_kinds_and_choices() {
    let sb = Sandbox::new();
    let r = sb.run(&["show", "principles", "--output", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let v: Value = serde_json::from_str(&r.stdout).expect("json");
    let tasks = v["tasks"].as_array().expect("tasks");
    let layers = tasks.iter().find(|t| t["id"] == "layers").expect("layers");
    let q = &layers["questions"][0];
    assert_eq!(q["id"], "which-layer");
    assert_eq!(q["kind"], "multiple");
    let choices = q["choices"].as_array().expect("choices");
    assert_eq!(choices.len(), 6);
    assert_eq!(choices[0]["label"], "a");
    assert!(choices[0]["text"].as_str().is_some_and(|t| !t.is_empty()));
    let trust = tasks.iter().find(|t| t["id"] == "trust").expect("trust");
    let kinds: Vec<&str> = trust["questions"]
        .as_array()
        .expect("questions")
        .iter()
        .filter_map(|q| q["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["single", "single", "short"]);
}

#[test]
fn letters_run_together_are_explained() {
    let sb = Sandbox::new();
    assert_eq!(sb.run(&["start", "principles"]).code, 0);
    let r = sb.run(&[
        "answer",
        "principles",
        "layers",
        "--question",
        "which-layer",
        "abc",
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("did you mean `a b c`"), "{}", r.stderr);
}

#[test]
fn a_short_answer_accepts_the_listed_forms() {
    for form in [
        "least privilege",
        "Least-Privilege",
        "the principle of least privilege",
    ] {
        let sb = Sandbox::new();
        assert_eq!(sb.run(&["start", "principles"]).code, 0);
        let r = sb.run(&[
            "answer",
            "principles",
            "trust",
            "--question",
            "name-it",
            form,
        ]);
        assert_eq!(r.code, 0, "{r:?}");
        let r = sb.run(&["check", "principles", "trust", "--output", "json"]);
        let v: Value = serde_json::from_str(&r.stdout).expect("json");
        let text = v.to_string();
        let name_it = v[0]["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .find(|c| c["description"] == "question `name-it`")
            .expect("the name-it check");
        let name_it_failed = name_it["status"] != "pass";
        if form.starts_with("the ") {
            // Not a listed form: graded wrong, like any other answer.
            assert!(name_it_failed, "{form}: {text}");
        } else {
            assert!(!name_it_failed, "{form}: {text}");
        }
    }
}

#[test]
fn answer_keeps_the_students_comments_and_layout() {
    let sb = Sandbox::new();
    assert_eq!(sb.run(&["start", "principles"]).code, 0);
    let file = sb.work().join("seclab/principles/answers.yaml");
    let mine = "# my notes, keep them\nlayers:\n  # b? d? read the hint again\n  which-layer: [a]  # first guess\n\ntrust: {zero-trust: b}  # sure\n";
    std::fs::write(&file, mine).expect("write");
    let r = sb.run(&[
        "answer",
        "principles",
        "layers",
        "--question",
        "which-layer",
        "b",
        "d",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = sb.run(&[
        "answer",
        "principles",
        "trust",
        "--question",
        "name-it",
        "least privilege",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = sb.run(&["answer", "principles", "duty", "b"]);
    assert_eq!(r.code, 0, "{r:?}");
    let text = std::fs::read_to_string(&file).expect("read");
    assert_eq!(
        text,
        "# my notes, keep them\nlayers:\n  # b? d? read the hint again\n  which-layer: [b, d]  # first guess\n\ntrust: {zero-trust: b, name-it: least privilege}  # sure\nduty:\n  two-person: b\n"
    );
}

#[test]
fn misspelt_answer_keys_are_warned_at_their_place() {
    let sb = Sandbox::new();
    assert_eq!(sb.run(&["start", "principles"]).code, 0);
    std::fs::write(
        sb.work().join("seclab/principles/answers.yaml"),
        "layer:\n  which-layer: [b]\ntrust:\n  zero-trus: b\n",
    )
    .expect("write");
    let r = sb.run(&["check", "principles"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout
            .contains("warning: answers.yaml:1:1: `layer` is not a task of lab `principles`")
            && r.stdout.contains("did you mean `layers`?"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("answers.yaml:4:3: `zero-trus` is not a question of task `trust`")
            && r.stdout.contains("did you mean `zero-trust`?"),
        "{}",
        r.stdout
    );
}
