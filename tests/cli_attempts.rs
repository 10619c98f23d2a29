//! An attempt is a grading of inputs not graded before: re-checking (or a
//! watch re-grading every task at a save) counts only the tasks whose
//! answers or files changed.

mod common;

use common::Sandbox;
use serde_json::Value;

fn attempts(sb: &Sandbox, lab: &str) -> Vec<(String, u64)> {
    let r = sb.run(&["progress", "--output", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let v: Value = serde_json::from_str(&r.stdout).expect("json");
    let lab = v["labs"]
        .as_array()
        .expect("labs")
        .iter()
        .find(|l| l["id"] == lab)
        .expect("the lab");
    lab["tasks"]
        .as_object()
        .expect("tasks")
        .iter()
        .map(|(k, t)| (k.clone(), t["attempts"].as_u64().unwrap_or(0)))
        .collect()
}

fn of(list: &[(String, u64)], task: &str) -> u64 {
    list.iter().find(|(t, _)| t == task).map_or(0, |(_, n)| *n)
}

#[test]
fn only_tasks_whose_inputs_changed_count_an_attempt() {
    let sb = Sandbox::new();
    assert_eq!(sb.run(&["start", "pss-scissors"]).code, 0);
    for _ in 0..3 {
        assert_eq!(sb.run(&["check", "pss-scissors"]).code, 1);
    }
    let a = attempts(&sb, "pss-scissors");
    for task in ["attack", "baseline", "restricted", "namespace"] {
        assert_eq!(of(&a, task), 1, "{task}: {a:?}");
    }
    // An edit of deployment.yaml is an attempt at the tasks that read it,
    // not at the quiz or the namespace task.
    let ws = sb.work().join("seclab/pss-scissors");
    let dep = std::fs::read_to_string(ws.join("deployment.yaml")).expect("read");
    std::fs::write(ws.join("deployment.yaml"), format!("{dep}\n# tried\n")).expect("write");
    assert_eq!(sb.run(&["check", "pss-scissors"]).code, 1);
    let a = attempts(&sb, "pss-scissors");
    assert_eq!(of(&a, "baseline"), 2, "{a:?}");
    assert_eq!(of(&a, "restricted"), 2, "{a:?}");
    assert_eq!(of(&a, "attack"), 1, "{a:?}");
    assert_eq!(of(&a, "namespace"), 1, "{a:?}");
    // A new answer is an attempt at its task only.
    let r = sb.run(&["answer", "pss-scissors", "attack", "a"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(sb.run(&["check", "pss-scissors"]).code, 1);
    let a = attempts(&sb, "pss-scissors");
    assert_eq!(of(&a, "attack"), 2, "{a:?}");
    assert_eq!(of(&a, "baseline"), 2, "{a:?}");
    assert_eq!(of(&a, "namespace"), 1, "{a:?}");
}
