//! `seclab reset --restore` undoes a reset: the latest backup comes back,
//! and the workspace it replaces is backed up in turn.

mod common;

use common::Sandbox;

#[test]
fn restore_brings_back_the_work_a_reset_replaced() {
    let sb = Sandbox::new();
    let r = sb.run(&["reset", "principles", "--restore"]);
    assert_eq!(r.code, 2, "no workspace, no backup: {r:?}");
    assert_eq!(sb.run(&["start", "principles"]).code, 0);
    let r = sb.run(&["reset", "principles", "--restore"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("has no backup yet"), "{}", r.stderr);

    let answers = sb.work().join("seclab/principles/answers.yaml");
    let mine = "# my work\nduty:\n  two-person: b\n";
    std::fs::write(&answers, mine).expect("write");
    std::fs::write(sb.work().join("seclab/principles/notes.txt"), "notes").expect("write");
    let r = sb.run(&["reset", "principles"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_ne!(std::fs::read_to_string(&answers).unwrap_or_default(), mine);
    assert!(!sb.work().join("seclab/principles/notes.txt").exists());

    let r = sb.run(&["reset", "principles", "--restore"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("restored "), "{}", r.stdout);
    assert_eq!(std::fs::read_to_string(&answers).expect("read"), mine);
    assert_eq!(
        std::fs::read_to_string(sb.work().join("seclab/principles/notes.txt")).expect("read"),
        "notes"
    );
    // Restoring again undoes the restore: the reset state is back.
    let r = sb.run(&["reset", "principles", "--restore"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_ne!(std::fs::read_to_string(&answers).unwrap_or_default(), mine);
    // --restore and --task do not go together.
    let r = sb.run(&["reset", "principles", "--restore", "--task", "layers"]);
    assert_eq!(r.code, 2, "{r:?}");
}
