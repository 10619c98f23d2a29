//! The lab engine through the real binary: listing, errors with positions
//! and exit codes, the student flow (start, answer, check, hint, reset,
//! progress), stale progress, offline skips, scaffolding and content CI.

mod common;

use common::{Sandbox, repo_root, write_files};
use serde_json::Value;

/// A tiny external lab: one manifest task, one cluster-only task.
fn tiny_lab(root: &std::path::Path, title_key: &str) {
    let lab = format!(
        "format_version: 1\nid: tiny\n{title_key}: Tiny\nsummary: A test lab.\ntasks:\n  - id: fix\n    title: Fix it\n    instructions: fix.md\n    files: [app.yaml]\n    hints: [\"look at replicas\", \"set it to 2\"]\n    checks:\n      - manifest: {{target: deployment/app, path: spec.replicas, op: equals, value: 2}}\n  - id: live\n    title: Live only\n    instructions: fix.md\n    hints: [\"needs a cluster\"]\n    checks:\n      - manifest: {{target: deployment/app, path: spec.replicas, op: equals, value: 2, source: cluster}}\n"
    );
    write_files(
        &root.join("tiny"),
        &[
            ("lab.yaml", &lab),
            ("fix.md", "# Fix\nSet replicas to 2.\n"),
            (
                "start/app.yaml",
                "kind: Deployment\nmetadata:\n  name: app\nspec:\n  replicas: 1\n",
            ),
            (
                "solution/app.yaml",
                "kind: Deployment\nmetadata:\n  name: app\nspec:\n  replicas: 2\n",
            ),
            (
                "wrong/three/app.yaml",
                "kind: Deployment\nmetadata:\n  name: app\nspec:\n  replicas: 3\n",
            ),
            ("wrong/three/expect.yaml", "fail: [fix]\n"),
        ],
    );
}

#[test]
fn list_json_names_labs_tasks_and_needs() {
    let sb = Sandbox::new();
    let r = sb.run(&["list", "--output", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let v: Value = serde_json::from_str(&r.stdout).expect("json");
    let principles = v
        .as_array()
        .and_then(|a| a.iter().find(|l| l["id"] == "principles"))
        .expect("principles listed");
    assert_eq!(principles["needs"], serde_json::json!(["answers"]));
    assert!(principles["tasks"][0]["id"].is_string());
    assert!(principles["title"].is_string());
}

#[test]
fn no_arguments_prints_the_list_and_how_to_start() {
    let r = Sandbox::new().run(&[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("principles"), "{}", r.stdout);
    assert!(r.stdout.contains("seclab start"), "{}", r.stdout);
}

#[test]
fn unknown_lab_is_exit_2_with_the_known_ids() {
    let r = Sandbox::new().run(&["show", "no-such-lab"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("unknown lab `no-such-lab`") && r.stderr.contains("principles"),
        "{}",
        r.stderr
    );
}

#[test]
fn misspelt_field_is_located_and_exit_2() {
    let sb = Sandbox::new();
    tiny_lab(&sb.work().join("labs"), "titel");
    let r = sb.run(&["--labs", "labs", "validate"]);
    assert_eq!(r.code, 2, "{r:?}");
    // `titel:` is on line 3 of lab.yaml.
    assert!(r.stderr.contains("tiny/lab.yaml:3:"), "{}", r.stderr);
    assert!(r.stderr.contains("titel"), "{}", r.stderr);
    // The offending line is shown under the message, a caret at the column.
    assert!(r.stderr.contains("3 | titel: Tiny\n  | ^"), "{}", r.stderr);
}

#[test]
fn misspelt_checker_lists_the_valid_names() {
    let sb = Sandbox::new();
    tiny_lab(&sb.work().join("labs"), "title");
    let p = sb.work().join("labs/tiny/lab.yaml");
    let text = std::fs::read_to_string(&p)
        .expect("read")
        .replacen("- manifest:", "- manifset:", 1);
    std::fs::write(&p, text).expect("write");
    let r = sb.run(&["--labs", "labs", "show", "tiny"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("manifset") && r.stderr.contains("quiz"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("tiny/lab.yaml:"), "{}", r.stderr);
}

#[test]
fn duplicate_lab_id_is_an_error() {
    let sb = Sandbox::new();
    let root = sb.work().join("labs");
    tiny_lab(&root, "title");
    let p = root.join("tiny/lab.yaml");
    let text = std::fs::read_to_string(&p)
        .expect("read")
        .replace("id: tiny", "id: principles");
    std::fs::create_dir_all(root.join("principles")).expect("mkdir");
    std::fs::write(root.join("principles/lab.yaml"), text).expect("write");
    std::fs::remove_dir_all(root.join("tiny")).expect("rm");
    // Listing still works, and says which lab is left out and why.
    let r = sb.run(&["--labs", "labs", "list"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("already used"), "{}", r.stderr);
    let r = sb.run(&["--labs", "labs", "validate"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("already used"), "{}", r.stderr);
}

#[test]
fn a_broken_lab_fails_only_the_commands_that_use_it() {
    let sb = Sandbox::new();
    let root = sb.work().join("labs");
    tiny_lab(&root, "title");
    tiny_lab(&root.join("other"), "titel");
    // Two broken labs and a good one: validate reports both problems.
    std::fs::rename(root.join("other/tiny"), root.join("broken")).expect("mv");
    std::fs::remove_dir_all(root.join("other")).expect("rm");
    let p = root.join("broken/lab.yaml");
    let text = std::fs::read_to_string(&p)
        .expect("read")
        .replace("id: tiny", "id: broken");
    std::fs::write(&p, text).expect("write");
    write_files(
        &root.join("worse"),
        &[("lab.yaml", "format_version: 1\nid: [\n")],
    );
    let r = sb.run(&["--labs", "labs", "validate"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr
            .contains("broken/lab.yaml:3:1: unknown field `titel`"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("worse/lab.yaml:"), "{}", r.stderr);
    // The good external lab and the built-in ones work.
    assert_eq!(
        sb.run(&["--labs", "labs", "test", "--offline", "tiny"])
            .code,
        0
    );
    assert_eq!(sb.run(&["--labs", "labs", "show", "principles"]).code, 0);
    // Using a broken lab is its located error, exit 2.
    let r = sb.run(&["--labs", "labs", "show", "broken"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("broken/lab.yaml:3:1:"), "{}", r.stderr);
    // Testing every lab includes the broken ones.
    assert_eq!(sb.run(&["--labs", "labs", "test", "--offline"]).code, 2);
}

#[test]
fn student_flow_start_answer_check_hint_progress() {
    let sb = Sandbox::new();
    let r = sb.run(&["start", "principles"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(sb.work().join("seclab/principles/README.md").is_file());
    // Nothing answered: the task fails, exit 1.
    let r = sb.run(&["check", "principles", "duty"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.contains("FAIL") && r.stdout.contains("not answered"),
        "{}",
        r.stdout
    );
    // A wrong answer, then the right one.
    assert_eq!(sb.run(&["answer", "principles", "duty", "a"]).code, 0);
    assert_eq!(sb.run(&["check", "principles", "duty"]).code, 1);
    let r = sb.run(&[
        "answer",
        "principles",
        "duty",
        "--question",
        "two-person",
        "B",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = sb.run(&["check", "principles", "duty", "--output", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let v: Value = serde_json::from_str(&r.stdout).expect("json");
    assert_eq!(v[0]["status"], "pass");
    // A choice that does not exist is refused before it is written.
    let r = sb.run(&[
        "answer",
        "principles",
        "layers",
        "--question",
        "which-layer",
        "z",
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    // Several questions need --question.
    let r = sb.run(&["answer", "principles", "layers", "c"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("--question"), "{}", r.stderr);
    // Hints are revealed in order and shown by `show`.
    let r = sb.run(&["hint", "principles", "duty"]);
    assert!(r.stdout.starts_with("Hint 1/1:"), "{}", r.stdout);
    let r = sb.run(&["show", "principles", "duty"]);
    assert!(r.stdout.contains("Hint 1/1:"), "{}", r.stdout);
    // Progress: passed after 3 attempts, one hint, student id recorded.
    let r = sb.run(&["progress", "--output", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let v: Value = serde_json::from_str(&r.stdout).expect("json");
    assert_eq!(v["student"], "alice");
    let lab = v["labs"]
        .as_array()
        .and_then(|a| a.iter().find(|l| l["id"] == "principles"))
        .expect("lab");
    assert_eq!(lab["tasks"]["duty"]["state"], "passed");
    assert_eq!(lab["tasks"]["duty"]["attempts"], 3);
    assert_eq!(lab["tasks"]["duty"]["hints_revealed"], 1);
    assert!(lab["content_hash"].as_str().is_some_and(|h| h.len() == 64));
    let r = sb.run(&["progress", "--output", "md"]);
    assert!(
        r.stdout.contains("| principles | duty | passed | 3 | 1 |"),
        "{}",
        r.stdout
    );
}

#[test]
fn start_never_overwrites_without_force_and_reset_keeps_a_backup() {
    let sb = Sandbox::new();
    tiny_lab(&sb.work().join("labs"), "title");
    assert_eq!(sb.run(&["--labs", "labs", "start", "tiny"]).code, 0);
    let app = sb.work().join("seclab/tiny/app.yaml");
    let edited = "kind: Deployment\nmetadata:\n  name: app\nspec:\n  replicas: 2\n";
    std::fs::write(&app, edited).expect("edit");
    let r = sb.run(&["--labs", "labs", "start", "tiny"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("--force"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&app).expect("read"), edited);
    // The edit passes `fix`; `live` is skipped offline and does not fail the run.
    let r = sb.run(&["--labs", "labs", "check", "tiny"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("skipped: needs the lab's running cluster"),
        "{}",
        r.stdout
    );
    // Reset the task: backup first, then the start file is back.
    let r = sb.run(&["--labs", "labs", "reset", "tiny", "--task", "fix"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        std::fs::read_to_string(&app)
            .expect("read")
            .contains("replicas: 1")
    );
    let backups = sb.state().join("backups/tiny");
    let backup = std::fs::read_dir(&backups)
        .expect("backups")
        .next()
        .expect("one")
        .expect("entry")
        .path();
    assert_eq!(
        std::fs::read_to_string(backup.join("app.yaml")).expect("backup"),
        edited
    );
    // --force starts over, with a backup too.
    let r = sb.run(&["--labs", "labs", "start", "tiny", "--force"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("backed up"), "{}", r.stdout);
}

#[test]
fn findings_carry_file_line_and_column() {
    let sb = Sandbox::new();
    tiny_lab(&sb.work().join("labs"), "title");
    assert_eq!(sb.run(&["--labs", "labs", "start", "tiny"]).code, 0);
    let r = sb.run(&["--labs", "labs", "check", "tiny", "fix"]);
    assert_eq!(r.code, 1, "{r:?}");
    // `replicas: 1` is line 5, the value at column 13.
    assert!(
        r.stdout
            .contains("app.yaml:5:13: Deployment/app: spec.replicas is 1, must be 2"),
        "{}",
        r.stdout
    );
    // A syntax error in the workspace fails the task with its position.
    std::fs::write(sb.work().join("seclab/tiny/app.yaml"), "kind: [\n").expect("write");
    let r = sb.run(&["--labs", "labs", "check", "tiny", "fix"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("app.yaml:"), "{}", r.stdout);
}

#[test]
fn changed_lab_marks_progress_stale() {
    let sb = Sandbox::new();
    tiny_lab(&sb.work().join("labs"), "title");
    assert_eq!(sb.run(&["--labs", "labs", "start", "tiny"]).code, 0);
    assert_eq!(sb.run(&["--labs", "labs", "check", "tiny", "fix"]).code, 1);
    let r = sb.run(&["--labs", "labs", "progress"]);
    assert!(!r.stdout.contains("stale"), "{}", r.stdout);
    std::fs::write(sb.work().join("labs/tiny/fix.md"), "# Fix\nChanged.\n").expect("edit lab");
    let r = sb.run(&["--labs", "labs", "progress"]);
    assert!(
        r.stdout.contains("failed     tiny/fix") && r.stdout.contains("stale"),
        "{}",
        r.stdout
    );
    let r = sb.run(&["--labs", "labs", "progress", "--output", "json"]);
    let v: Value = serde_json::from_str(&r.stdout).expect("json");
    let tiny = v["labs"]
        .as_array()
        .and_then(|a| a.iter().find(|l| l["id"] == "tiny"))
        .expect("tiny");
    assert_eq!(tiny["stale"], true);
}

#[test]
fn test_command_proves_a_lab_and_reports_offline_skips() {
    let sb = Sandbox::new();
    tiny_lab(&sb.work().join("labs"), "title");
    let r = sb.run(&[
        "--labs",
        "labs",
        "test",
        "--offline",
        "tiny",
        "--junit",
        "out.xml",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("ok      tiny/start/fix"), "{}", r.stdout);
    assert!(
        r.stdout.contains("ok      tiny/wrong/three/fix"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("skipped tiny/solution/live: needs the lab's running cluster"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .trim_end()
            .ends_with("3 passed, 0 failed, 3 skipped"),
        "{}",
        r.stdout
    );
    let xml = std::fs::read_to_string(sb.work().join("out.xml")).expect("junit");
    assert!(
        xml.contains("tiny/solution/fix") && xml.contains("<skipped"),
        "{xml}"
    );
}

#[test]
fn a_wrong_case_that_passes_by_accident_fails_the_test() {
    let sb = Sandbox::new();
    tiny_lab(&sb.work().join("labs"), "title");
    // This "wrong" attempt is in fact right: the test run must say so.
    std::fs::write(
        sb.work().join("labs/tiny/wrong/three/app.yaml"),
        "kind: Deployment\nmetadata:\n  name: app\nspec:\n  replicas: 2\n",
    )
    .expect("write");
    let r = sb.run(&["--labs", "labs", "test", "--offline", "tiny"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.contains(
            "FAILED  tiny/wrong/three/fix: passes, but this known-wrong attempt must fail it"
        ),
        "{}",
        r.stdout
    );
    // And a start state that already passes is caught too.
    std::fs::write(
        sb.work().join("labs/tiny/start/app.yaml"),
        "kind: Deployment\nmetadata:\n  name: app\nspec:\n  replicas: 2\n",
    )
    .expect("write");
    let r = sb.run(&["--labs", "labs", "test", "--offline", "tiny"]);
    assert!(
        r.stdout
            .contains("FAILED  tiny/start/fix: passes in its start state"),
        "{}",
        r.stdout
    );
}

#[test]
fn an_alternative_answer_must_pass_every_task() {
    let sb = Sandbox::new();
    let labs = sb.work().join("labs");
    tiny_lab(&labs, "title");
    // The same right answer, written as JSON in another file.
    write_files(
        &labs.join("tiny"),
        &[
            (
                "alternatives/as-json/app.json",
                r#"{"kind": "Deployment", "metadata": {"name": "app"}, "spec": {"replicas": 2}}"#,
            ),
            (
                "alternatives/as-json/about.yaml",
                "remove: [app.yaml]\nabout: the Deployment as JSON\n",
            ),
        ],
    );
    let r = sb.run(&["--labs", "labs", "test", "--offline", "tiny"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("ok      tiny/alternatives/as-json/fix"),
        "{}",
        r.stdout
    );
    // An "alternative" that is in fact wrong fails the run, with the reason.
    std::fs::write(
        labs.join("tiny/alternatives/as-json/app.json"),
        r#"{"kind": "Deployment", "metadata": {"name": "app"}, "spec": {"replicas": 5}}"#,
    )
    .expect("write");
    let r = sb.run(&["--labs", "labs", "test", "--offline", "tiny"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout
            .contains("FAILED  tiny/alternatives/as-json/fix: fails but must pass"),
        "{}",
        r.stdout
    );
    // A misspelt about.yaml field is an input error with its place.
    std::fs::write(
        labs.join("tiny/alternatives/as-json/about.yaml"),
        "remvoe: [app.yaml]\n",
    )
    .expect("write");
    let r = sb.run(&["--labs", "labs", "validate"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("alternatives/as-json/about.yaml:1:1"),
        "{}",
        r.stderr
    );
}

#[test]
fn validate_reports_every_content_problem() {
    let sb = Sandbox::new();
    tiny_lab(&sb.work().join("labs"), "title");
    let p = sb.work().join("labs/tiny/lab.yaml");
    let text = std::fs::read_to_string(&p)
        .expect("read")
        .replacen("instructions: fix.md", "instructions: missing.md", 1)
        .replacen("hints: [\"needs a cluster\"]", "hints: [\"  \"]", 1)
        .replacen("files: [app.yaml]", "files: [nope.yaml]", 1);
    std::fs::write(&p, text).expect("write");
    write_files(
        &sb.work().join("labs/tiny"),
        &[
            ("start/broken.yaml", "a: [\n"),
            ("wrong/three/expect.yaml", "fail: [nosuch]\n"),
        ],
    );
    let r = sb.run(&["--labs", "labs", "validate"]);
    assert_eq!(r.code, 2, "{r:?}");
    for want in [
        "missing.md does not exist",
        "empty hint",
        "`nope.yaml` is not in start/",
        "start/broken.yaml:",
        "task `nosuch` does not exist",
    ] {
        assert!(r.stderr.contains(want), "missing {want:?} in {}", r.stderr);
    }
}

#[test]
fn new_scaffold_validates_and_tests_green() {
    let sb = Sandbox::new();
    let r = sb.run(&["new", "my-lab", "--dir", "labs"]);
    assert_eq!(r.code, 0, "{r:?}");
    // The `$schema` that lab.yaml names resolves in the author's folder.
    let lab = std::fs::read_to_string(sb.work().join("labs/my-lab/lab.yaml")).expect("lab");
    assert!(
        lab.starts_with("# yaml-language-server: $schema=../lab.schema.json"),
        "{lab}"
    );
    let schema = std::fs::read_to_string(sb.work().join("labs/lab.schema.json")).expect("schema");
    assert_eq!(schema, sb.run(&["lab", "schema"]).stdout);
    let r = sb.run(&["--labs", "labs", "validate"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = sb.run(&["--labs", "labs", "test", "--offline", "my-lab"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("3 passed, 0 failed, 0 skipped"),
        "{}",
        r.stdout
    );
    assert_eq!(sb.run(&["new", "Bad_Id"]).code, 2);
}

#[test]
fn builtin_labs_validate_and_pass_their_content_tests() {
    let sb = Sandbox::new();
    let r = sb.run(&["validate"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = sb.run(&["test", "--offline"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains(" 0 failed"), "{}", r.stdout);
}

#[test]
fn lab_schema_file_is_current() {
    let sb = Sandbox::new();
    let r = sb.run(&["lab", "schema"]);
    assert_eq!(r.code, 0, "{r:?}");
    let on_disk =
        std::fs::read_to_string(repo_root().join("labs/lab.schema.json")).expect("schema file");
    assert_eq!(
        on_disk, r.stdout,
        "labs/lab.schema.json is stale: run `cargo run -- lab schema > labs/lab.schema.json`"
    );
}

#[test]
fn hash_answer_round_trips_through_grading() {
    let sb = Sandbox::new();
    let r = sb.run(&["lab", "hash-answer", "--salt", "s", "--multiple", "c", "A"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.stdout.trim(),
        seclab_checkers::quiz::hash_answer("s", "a,c")
    );
    assert_eq!(
        sb.run(&["lab", "hash-answer", "--salt", "a:b", "x"]).code,
        2
    );
    assert_eq!(sb.run(&["lab", "hash-answer", "not-a-letter"]).code, 2);
}

#[test]
fn usage_errors_exit_2() {
    let sb = Sandbox::new();
    assert_eq!(sb.run(&["check"]).code, 2);
    assert_eq!(sb.run(&["--no-such-flag"]).code, 2);
    let r = sb.run(&["--version"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.starts_with("seclab "), "{}", r.stdout);
}

#[test]
fn clean_asks_and_removes() {
    let sb = Sandbox::new();
    assert_eq!(sb.run(&["start", "principles"]).code, 0);
    // No input on stdin: the answer is no.
    let r = sb.run(&["clean", "principles"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("nothing removed"));
    assert!(sb.work().join("seclab/principles").is_dir());
    let r = sb.run(&["clean", "principles", "--yes"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!sb.work().join("seclab/principles").exists());
}
