//! Watching a workspace for saves: file events (notify), or polling where
//! events do not arrive (WSL2 under /mnt, network folders), as rustlings
//! learned; a burst of changes is reported once it has been quiet for
//! 200 ms. Only changes count: inotify also reports opens and reads, and
//! grading reads the workspace, which would otherwise re-grade forever.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use notify::{EventKind, PollWatcher, RecommendedWatcher, RecursiveMode, Watcher as _};

/// How long a burst of events settles before a re-grade.
pub const DEBOUNCE: Duration = Duration::from_millis(200);

/// Keeps a watch alive; dropping it stops the watch (and its thread).
pub struct Watcher {
    _inner: Box<dyn std::any::Any + Send>,
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Watcher")
    }
}

/// Whether an event is a change to the files (not an open or a read).
fn is_change(kind: EventKind) -> bool {
    !matches!(kind, EventKind::Access(_))
}

/// Starts watching `root` recursively: `on_event` gets `Ok(())` once per
/// burst of changes, 200 ms after the last one, or `Err(text)` for a
/// watch error; it runs on the watch's own thread. With `poll`, files are
/// polled every 500 ms.
pub fn start(
    root: &Path,
    poll: bool,
    mut on_event: impl FnMut(Result<(), String>) + Send + 'static,
) -> anyhow::Result<Watcher> {
    let (tx, rx) = mpsc::channel::<Result<(), String>>();
    let handler = move |res: notify::Result<notify::Event>| {
        let msg = match res {
            Ok(ev) if is_change(ev.kind) => Ok(()),
            Ok(_) => return,
            Err(e) => Err(e.to_string()),
        };
        let _ = tx.send(msg);
    };
    let inner: Box<dyn std::any::Any + Send> = if poll {
        let cfg = notify::Config::default().with_poll_interval(Duration::from_millis(500));
        let mut w = PollWatcher::new(handler, cfg)?;
        w.watch(root, RecursiveMode::Recursive)?;
        Box::new(w)
    } else {
        let mut w = RecommendedWatcher::new(handler, notify::Config::default())?;
        w.watch(root, RecursiveMode::Recursive)?;
        Box::new(w)
    };
    // The debounce: after a change, wait until none came for DEBOUNCE.
    // The thread ends when the watcher (and so the sender) is dropped.
    std::thread::spawn(move || {
        while let Ok(first) = rx.recv() {
            if let Err(e) = first {
                on_event(Err(e));
                continue;
            }
            loop {
                match rx.recv_timeout(DEBOUNCE) {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => on_event(Err(e)),
                    Err(mpsc::RecvTimeoutError::Timeout) => break,
                    Err(mpsc::RecvTimeoutError::Disconnected) => return,
                }
            }
            on_event(Ok(()));
        }
    });
    Ok(Watcher { _inner: inner })
}

/// Calls `on_change` after every debounced burst of changes below `root`,
/// until it returns `false`. With `poll`, files are polled every 500 ms.
pub fn watch(root: &Path, poll: bool, mut on_change: impl FnMut() -> bool) -> anyhow::Result<()> {
    let (tx, rx) = mpsc::channel::<Result<(), String>>();
    // Keep the watcher alive for the loop below.
    let _guard = start(root, poll, move |e| {
        let _ = tx.send(e);
    })?;
    for event in rx {
        match event {
            Ok(()) => {
                if !on_change() {
                    break;
                }
            }
            Err(e) => eprintln!("watch: {e}"),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_do_not_count_as_changes_and_writes_do() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("a.yaml"), "x: 1\n").expect("write");
        let (tx, rx) = mpsc::channel();
        let _w = start(dir.path(), false, move |e| {
            let _ = tx.send(e);
        })
        .expect("watch");
        // Reading the workspace, as grading does.
        let _ = std::fs::read_dir(dir.path()).map(Iterator::count);
        let _ = std::fs::read(dir.path().join("a.yaml"));
        assert!(
            rx.recv_timeout(Duration::from_millis(600)).is_err(),
            "a read re-graded"
        );
        std::fs::write(dir.path().join("a.yaml"), "x: 2\n").expect("write");
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)), Ok(Ok(())));
        // One burst, one report.
        assert!(rx.recv_timeout(Duration::from_millis(600)).is_err());
    }
}
