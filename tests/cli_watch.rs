//! `seclab check --watch` re-grades on save, with file events and with the
//! `--poll` fallback. The child runs until the test has seen the new
//! verdict, bounded by a deadline so a broken watcher fails instead of
//! hanging.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::Sandbox;

fn watch_flips_to_pass(extra: &[&str]) {
    let sb = Sandbox::new();
    assert_eq!(sb.run(&["start", "principles"]).code, 0);
    let mut args = vec!["check", "principles", "duty", "--watch"];
    args.extend_from_slice(extra);
    let mut child = Command::new(env!("CARGO_BIN_EXE_seclab"))
        .args(&args)
        .current_dir(sb.work())
        .env("SECLAB_STATE_DIR", sb.state())
        .env("SECLAB_STUDENT", "alice")
        .env("SECLAB_SEED", "class-1")
        .env_remove("SECLAB_WORKSPACE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn watcher");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    let wait_for = |want: &str, seen: &mut Vec<String>| {
        while Instant::now() < deadline {
            if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
                let hit = line.contains(want);
                seen.push(line);
                if hit {
                    return true;
                }
            }
        }
        false
    };
    assert!(
        wait_for("FAIL  principles/duty", &mut seen),
        "first grading: {seen:?}"
    );
    // Give the watcher a moment to register, then save the right answer.
    std::thread::sleep(Duration::from_millis(700));
    std::fs::write(
        sb.work().join("seclab/principles/answers.yaml"),
        "duty:\n  two-person: b\n",
    )
    .expect("save");
    let flipped = wait_for("PASS  principles/duty", &mut seen);
    let _ = child.kill();
    let _ = child.wait();
    assert!(flipped, "no re-grade after the save: {seen:?}");
}

#[test]
fn watch_regrades_on_save() {
    watch_flips_to_pass(&[]);
}

#[test]
fn poll_fallback_regrades_on_save() {
    watch_flips_to_pass(&["--poll"]);
}
