//! Progress is written atomically: a writer killed at any moment leaves a
//! file that loads (the old version or the new one), never a torn one.
//!
//! The writer is this test binary itself, re-run with an ignored test as
//! its entry point, so the kill lands in the middle of real `save` calls.

use std::process::Command;
use std::time::Duration;

use seclab::progress::{self, Progress};
use seclab_checkers::Status;

const DIR_VAR: &str = "SECLAB_TEST_WRITER_DIR";

/// The child: saves ever-growing progress as fast as it can until killed.
#[test]
#[ignore = "entry point of the child process of killed_writer_leaves_a_loadable_file"]
fn progress_writer_child() {
    let Ok(dir) = std::env::var(DIR_VAR) else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let mut p = Progress::new("writer");
    for i in 0u64.. {
        let lab = p.lab_mut(&format!("lab-{}", i % 50), "hash");
        lab.record(&format!("task-{i}"), Status::Fail, i);
        progress::save(&dir, &p).expect("save");
    }
}

#[test]
fn killed_writer_leaves_a_loadable_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    for round in 0..5u64 {
        let mut child = Command::new(std::env::current_exe().expect("test binary"))
            .args([
                "progress_writer_child",
                "--exact",
                "--ignored",
                "--nocapture",
            ])
            .env(DIR_VAR, dir.path())
            .spawn()
            .expect("spawn writer");
        // Let it write a while, then kill it mid-flight.
        std::thread::sleep(Duration::from_millis(150 + 37 * round));
        child.kill().expect("kill");
        child.wait().expect("reap");
        let loaded = progress::load(dir.path(), "writer", round).expect("loads");
        assert_eq!(loaded.student, "writer", "round {round}");
        assert!(
            !loaded.labs.is_empty(),
            "round {round}: the writer saved nothing"
        );
        let corrupt: Vec<_> = std::fs::read_dir(dir.path())
            .expect("read dir")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().contains("corrupt"))
            .collect();
        assert!(corrupt.is_empty(), "round {round}: a torn file was seen");
    }
}
