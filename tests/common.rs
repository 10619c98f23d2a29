//! Shared by the CLI tests: run the real `seclab` binary with its own state
//! dir and working dir, and write small labs to disk.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// What a run printed and returned.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// A sandbox: a temp dir holding `state/` and the working dir `work/`.
#[derive(Debug)]
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("work")).expect("work dir");
        Self { dir }
    }

    pub fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    pub fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    /// Runs seclab with `args` in `work/`, student `alice`, seed `class-1`.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_env(args, &[])
    }

    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_seclab"));
        cmd.args(args)
            .current_dir(self.work())
            .env("SECLAB_STATE_DIR", self.state())
            .env("SECLAB_STUDENT", "alice")
            .env("SECLAB_SEED", "class-1")
            .env_remove("SECLAB_WORKSPACE")
            .env_remove("SECLAB_LABS")
            .env("NO_COLOR", "1");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("runs seclab");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// Writes `files` (relative path, text) under `root`.
pub fn write_files(root: &Path, files: &[(&str, &str)]) {
    for (rel, text) in files {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }
}

/// The workspace root of the repository.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs seclab in the repository root with a fresh state dir and no
/// external labs; (exit code, stdout, stderr).
pub fn seclab(args: &[&str]) -> (i32, String, String) {
    let state = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_seclab"))
        .args(args)
        .current_dir(repo_root())
        .env("SECLAB_STATE_DIR", state.path())
        .env_remove("SECLAB_LABS")
        .output()
        .expect("seclab runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The names of a built-in lab's `wrong/` or `alternatives/` cases, sorted.
pub fn lab_cases(lab: &str, sub: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(repo_root().join("labs").join(lab).join(sub))
        .expect("folder")
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// A built-in lab's workspace after `start`, with its solution and then
/// `variant`'s files (`wrong/<name>`, `alternatives/<name>`) laid over it,
/// checked for one task.
pub fn check_variant(lab: &str, variant: &str, task: &str) -> Run {
    let sb = Sandbox::new();
    let r = sb.run(&["start", lab]);
    assert_eq!(r.code, 0, "{r:?}");
    let ws = sb.work().join("seclab").join(lab);
    let dir = repo_root().join("labs").join(lab);
    for sub in ["solution", variant] {
        for entry in std::fs::read_dir(dir.join(sub)).expect("dir") {
            let p = entry.expect("entry").path();
            let name = p.file_name().expect("name").to_owned();
            if name != "expect.yaml" && name != "about.yaml" {
                std::fs::copy(&p, ws.join(name)).expect("copy");
            }
        }
    }
    sb.run(&["check", lab, task])
}
