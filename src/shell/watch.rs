//! Watching a workspace for saves: file events (notify), or polling where
//! events do not arrive (WSL2 under /mnt, network folders), as rustlings
//! learned; a burst of changes is reported once it has been quiet for
//! 200 ms. Only changes count: inotify also reports opens and reads, and
//! grading reads the workspace, which would otherwise re-grade forever.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use notify::{EventKind, PollWatcher, RecommendedWatcher, RecursiveMode, Watcher as _};

/// How long a burst of events settles before a re-grade.
pub const DEBOUNCE: Duration = Duration::from_millis(200);

/// Keeps a watch alive; dropping it stops the watch (and its threads).
pub struct Watcher {
    _inner: Arc<Mutex<Option<Box<dyn std::any::Any + Send>>>>,
    stop: Arc<AtomicBool>,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
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

/// How often the root is looked at, to re-arm the watch when the folder
/// itself was deleted and created again (a watch on a deleted folder
/// hears nothing more).
const REARM_CHECK: Duration = Duration::from_millis(500);

/// What tells one folder from another one made later at the same path.
fn identity(root: &Path) -> Option<(u64, u64)> {
    let meta = std::fs::metadata(root).ok()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        Some((meta.dev(), meta.ino()))
    }
    #[cfg(not(unix))]
    {
        let created = meta
            .created()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as u64);
        Some((0, created))
    }
}

/// A notify watch of `root`, reporting into `tx`.
/// `lost` is set when the event stream says the root itself is gone.
fn arm(
    root: &Path,
    poll: bool,
    tx: &mpsc::Sender<Result<(), String>>,
    lost: &Arc<AtomicBool>,
) -> notify::Result<Box<dyn std::any::Any + Send>> {
    let tx = tx.clone();
    let (lost, me) = (Arc::clone(lost), root.to_path_buf());
    let handler = move |res: notify::Result<notify::Event>| {
        if let Ok(ev) = &res
            && matches!(ev.kind, EventKind::Remove(_))
            && ev.paths.contains(&me)
        {
            lost.store(true, Ordering::Relaxed);
        }
        let msg = match res {
            Ok(ev) if is_change(ev.kind) => Ok(()),
            Ok(_) => return,
            Err(e) => Err(e.to_string()),
        };
        let _ = tx.send(msg);
    };
    Ok(if poll {
        let cfg = notify::Config::default().with_poll_interval(Duration::from_millis(500));
        let mut w = PollWatcher::new(handler, cfg)?;
        w.watch(root, RecursiveMode::Recursive)?;
        Box::new(w)
    } else {
        let mut w = RecommendedWatcher::new(handler, notify::Config::default())?;
        w.watch(root, RecursiveMode::Recursive)?;
        Box::new(w)
    })
}

/// Starts watching `root` recursively: `on_event` gets `Ok(())` once per
/// burst of changes, 200 ms after the last one, or `Err(text)` for a
/// watch error; it runs on the watch's own thread. With `poll`, files are
/// polled every 500 ms. When the folder is deleted and created again (a
/// reset elsewhere, `rm -r` and `seclab start`), the watch re-arms itself
/// on the new folder and reports a change.
pub fn start(
    root: &Path,
    poll: bool,
    mut on_event: impl FnMut(Result<(), String>) + Send + 'static,
) -> anyhow::Result<Watcher> {
    let (tx, rx) = mpsc::channel::<Result<(), String>>();
    let lost = Arc::new(AtomicBool::new(false));
    let inner = Arc::new(Mutex::new(Some(arm(root, poll, &tx, &lost)?)));
    let stop = Arc::new(AtomicBool::new(false));
    // The re-arming: a new folder at the root's path gets a new watch —
    // when the events said the root was removed (a new folder may reuse
    // the old one's inode), or when it is another folder than the one
    // watched.
    {
        let (inner, stop, tx) = (Arc::clone(&inner), Arc::clone(&stop), tx.clone());
        let root = root.to_path_buf();
        let mut armed_on = identity(&root);
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(REARM_CHECK);
                let now = identity(&root);
                if now.is_none() {
                    armed_on = None;
                    continue;
                }
                if !lost.load(Ordering::Relaxed) && now == armed_on {
                    continue;
                }
                lost.store(false, Ordering::Relaxed);
                if let Ok(w) = arm(&root, poll, &tx, &lost)
                    && let Ok(mut slot) = inner.lock()
                {
                    *slot = Some(w);
                    armed_on = now;
                    if tx.send(Ok(())).is_err() {
                        return;
                    }
                }
            }
        });
    }
    drop(tx);
    // The debounce: after a change, wait until none came for DEBOUNCE.
    // The thread ends when every sender (the watches', the re-arming
    // thread's) is gone.
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
    Ok(Watcher {
        _inner: inner,
        stop,
    })
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

    #[test]
    fn a_workspace_deleted_and_created_again_is_still_watched() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("ws");
        std::fs::create_dir(&root).expect("mkdir");
        let (tx, rx) = mpsc::channel();
        let _w = start(&root, false, move |e| {
            let _ = tx.send(e);
        })
        .expect("watch");
        std::fs::remove_dir_all(&root).expect("rm");
        std::fs::create_dir(&root).expect("mkdir again");
        // Drain what the delete and the re-arming reported.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while std::time::Instant::now() < deadline {
            if rx.recv_timeout(Duration::from_millis(900)).is_err() {
                break;
            }
        }
        std::fs::write(root.join("a.yaml"), "x: 1\n").expect("write");
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(5)),
            Ok(Ok(())),
            "a save in the new folder re-grades"
        );
    }
}
