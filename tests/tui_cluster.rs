//! The TUI on seclab's cluster, end to end: tmux runs `seclab` against the
//! in-test API server (tests/fake_apiserver). With a cluster id stored
//! and the marker matching, the status bar names the context, `p` applies
//! the workspace into the lab's namespace, and while the lab is watched a
//! change on the cluster re-checks it. With no id stored, the status bar
//! says `cluster ✗`, `p` says why, and the server gets no request at all.
//!
//! Skipped with a notice when tmux is missing, unless
//! `SECLAB_REQUIRE_TMUX=1` (CI), where a missing tmux fails.

mod fake_apiserver;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use fake_apiserver::{FakeApiServer, fixtures, write_kubeconfig};

const LAB: &str = "pss-scissors";
const ID: &str = "0123456789abcdef";

/// A private tmux server (its own socket), killed on drop.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn cmd(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs")
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.cmd(&["capture-pane", "-p", "-t", "e2e"]).stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "e2e"];
        args.extend_from_slice(keys);
        assert!(self.cmd(&args).status.success(), "send-keys {keys:?}");
    }

    /// Waits until the screen contains `text`; panics with the screen.
    fn wait_for(&self, text: &str) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if s.contains(text) {
                return s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "`{text}` never showed; the screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]);
    }
}

fn tmux_available() -> bool {
    let ok = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("SECLAB_REQUIRE_TMUX").as_deref() != Ok("1"),
            "tmux is required (SECLAB_REQUIRE_TMUX=1) but not installed"
        );
        eprintln!("NOTICE: tmux is not installed; skipping the TUI cluster test");
    }
    ok
}

fn sh_quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}

/// Starts the TUI in tmux at 100×30 with its own state dir, workspace and
/// kubeconfig, and opens the lab's first task.
fn tui(dir: &Path, kubeconfig: &Path, name: &str) -> Tmux {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_seclab"));
    let script = format!(
        "cd {dir}; env SECLAB_STATE_DIR={state} SECLAB_WORKSPACE={ws} KUBECONFIG={kc} \
         SECLAB_STUDENT=alice SECLAB_SEED=class-1 {bin}; echo AFTER-EXIT; sleep 120",
        dir = sh_quote(dir),
        state = sh_quote(&dir.join("state")),
        ws = sh_quote(&dir.join("ws")),
        kc = sh_quote(kubeconfig),
        bin = sh_quote(&bin),
    );
    let tmux = Tmux {
        socket: format!("seclab-cluster-{name}-{}", std::process::id()),
    };
    let out = tmux.cmd(&[
        "new-session",
        "-d",
        "-s",
        "e2e",
        "-x",
        "100",
        "-y",
        "30",
        "sh",
        "-c",
        &script,
    ]);
    assert!(out.status.success(), "tmux: {out:?}");
    tmux.wait_for(LAB);
    let row = seclab::lab::Catalog::load(None)
        .expect("labs")
        .labs
        .iter()
        .take_while(|l| l.spec.id != LAB)
        .map(|l| l.spec.tasks.len() + 1)
        .sum::<usize>();
    for _ in 0..=row {
        tmux.keys(&["Down"]);
    }
    tmux.keys(&["Enter"]);
    tmux.wait_for("Instructions");
    tmux
}

#[test]
fn with_a_marked_cluster_p_applies_and_a_change_rechecks_the_watched_lab() {
    if !tmux_available() {
        return;
    }
    let fake = FakeApiServer::start();
    fake.insert(fixtures::namespace("seclab-system", &[]));
    fake.insert(fixtures::marker(ID));
    let dir = tempfile::tempdir().expect("tempdir");
    let kc = write_kubeconfig(dir.path(), &[("kind-seclab", &fake.url())], "kind-seclab");
    std::fs::create_dir_all(dir.path().join("state")).expect("state dir");
    std::fs::write(
        dir.path().join("state/cluster.json"),
        serde_json::json!({"clusters": {"kind-seclab": ID}}).to_string(),
    )
    .expect("store the id");
    fake.clear_requests();

    let tmux = tui(dir.path(), &kc, "marked");
    tmux.wait_for("cluster kind-seclab ✓");
    assert!(fake.writes().is_empty(), "the probe only reads");
    tmux.keys(&["s"]);
    tmux.wait_for(&format!("started {LAB}"));
    tmux.keys(&["p"]);
    let s = tmux.wait_for("object(s) to kind-seclab");
    assert!(s.contains("Namespace scissors"), "{s}");
    let deployment = fake
        .get("Deployment", Some("scissors"), "scissors")
        .expect("the workspace's Deployment was applied");
    assert_eq!(
        deployment.pointer("/metadata/labels/seclab.dev~1lab"),
        Some(&serde_json::json!(LAB))
    );

    // Watch on: the workspace and the lab's objects on the cluster.
    tmux.keys(&["w"]);
    tmux.wait_for("every change of its objects on kind-seclab");
    // The grading `w` asked for ends (live: after the settle window).
    tmux.wait_for(&format!("checked 4 task(s) of {LAB}"));
    // Someone changes the lab on the cluster (kubectl label, say).
    fake.insert(fixtures::namespace(
        "scissors",
        &[
            ("seclab.dev/lab", LAB),
            ("pod-security.kubernetes.io/enforce", "restricted"),
        ],
    ));
    tmux.wait_for(&format!("{LAB} changed on the cluster"));
    tmux.wait_for(&format!("checked 4 task(s) of {LAB}"));
    tmux.keys(&["q"]);
    tmux.wait_for("AFTER-EXIT");
}

#[test]
fn without_a_stored_id_the_tui_sends_nothing_and_p_says_why() {
    if !tmux_available() {
        return;
    }
    let fake = FakeApiServer::start();
    fake.insert(fixtures::namespace("seclab-system", &[]));
    fake.insert(fixtures::marker(ID));
    fake.clear_requests();
    let dir = tempfile::tempdir().expect("tempdir");
    let kc = write_kubeconfig(dir.path(), &[("kind-seclab", &fake.url())], "kind-seclab");

    let tmux = tui(dir.path(), &kc, "unmarked");
    tmux.wait_for("cluster ✗");
    tmux.keys(&["s"]);
    tmux.wait_for(&format!("started {LAB}"));
    tmux.keys(&["p"]);
    tmux.wait_for("needs seclab's cluster: no seclab cluster: run `seclab up`");
    tmux.keys(&["w"]);
    tmux.wait_for("watch on");
    tmux.wait_for(&format!("checked 4 task(s) of {LAB}"));
    tmux.keys(&["q"]);
    tmux.wait_for("AFTER-EXIT");
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
}
