//! Watching a workspace for saves: file events (notify), or polling where
//! events do not arrive (WSL2 under /mnt, network folders), as rustlings
//! learned; a burst of changes is reported once it has been quiet for
//! 200 ms. Only changes count: inotify also reports opens and reads, and
//! grading reads the workspace, which would otherwise re-grade forever.
//!
//! Also a polled watch of anything that can be looked at ([`poll`]): the
//! TUI's watch of a cluster lab's objects looks every [`CLUSTER_POLL`]
//! and reports a change once two looks in a row agree on it ([`Settle`]),
//! so a rollout's burst of updates re-grades once, after it.

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

/// How often the TUI's cluster watch looks at a lab's objects.
pub const CLUSTER_POLL: Duration = Duration::from_secs(2);

/// The debounce of a polled watch: the first look is the baseline; a look
/// that differs from the last reported state is reported once the next
/// look agrees with it (it held still for one poll). A state that flips
/// back before it settles is no change.
#[derive(Debug, Clone)]
pub struct Settle<T> {
    seen: Option<T>,
    pending: Option<T>,
}

impl<T> Default for Settle<T> {
    fn default() -> Self {
        Self {
            seen: None,
            pending: None,
        }
    }
}

impl<T: PartialEq> Settle<T> {
    /// A debounce with no baseline yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one look; `true` when it reports a change.
    pub fn look(&mut self, now: T) -> bool {
        let Some(seen) = &self.seen else {
            self.seen = Some(now);
            return false;
        };
        if *seen == now {
            self.pending = None;
            return false;
        }
        if self.pending.as_ref() == Some(&now) {
            self.seen = Some(now);
            self.pending = None;
            return true;
        }
        self.pending = Some(now);
        false
    }
}

/// Looks with `look` every `every` on a thread of its own, until the
/// returned [`Watcher`] is dropped: `on_event` gets `Ok(())` for each
/// settled change ([`Settle`]), and `Err(text)` when a look fails — once
/// per run of failures (it keeps looking; the first good look after them
/// counts as a look like any other).
pub fn poll<T, L, E>(every: Duration, mut look: L, mut on_event: E) -> Watcher
where
    T: PartialEq + Send + 'static,
    L: FnMut() -> Result<T, String> + Send + 'static,
    E: FnMut(Result<(), String>) + Send + 'static,
{
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = Arc::clone(&stop);
    std::thread::spawn(move || {
        let mut settle = Settle::new();
        let mut failing = false;
        while !stopped.load(Ordering::Relaxed) {
            let now = look();
            if stopped.load(Ordering::Relaxed) {
                return;
            }
            match now {
                Ok(v) => {
                    failing = false;
                    if settle.look(v) {
                        on_event(Ok(()));
                    }
                }
                Err(e) if !failing => {
                    failing = true;
                    on_event(Err(e));
                }
                Err(_) => {}
            }
            // Sleep in slices, so a stop is heard soon.
            let mut left = every;
            while !left.is_zero() && !stopped.load(Ordering::Relaxed) {
                let nap = left.min(Duration::from_millis(100));
                std::thread::sleep(nap);
                left = left.saturating_sub(nap);
            }
        }
    });
    Watcher {
        _inner: Arc::new(Mutex::new(None)),
        stop,
    }
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
    fn a_change_is_reported_once_it_holds_still_for_one_look() {
        let mut s = Settle::new();
        // The first look is the baseline; the same again is no change.
        assert!(!s.look(1));
        assert!(!s.look(1));
        // A burst: every look differs, nothing is reported until two agree.
        assert!(!s.look(2));
        assert!(!s.look(3));
        assert!(s.look(3));
        assert!(!s.look(3));
        // A flip that goes back before it settles is no change.
        assert!(!s.look(4));
        assert!(!s.look(3));
        assert!(!s.look(3));
        assert!(!s.look(5));
        assert!(s.look(5));
    }

    #[test]
    fn a_poll_reports_settled_changes_and_each_run_of_failures_once() {
        #[derive(Debug, PartialEq)]
        enum Seen {
            Changed,
            Failed(String),
            End,
        }
        let script: Vec<Result<u32, String>> = vec![
            Ok(1),
            Ok(1),
            Ok(2),
            Ok(2),
            Err("down".into()),
            Err("down".into()),
            Ok(2),
            Ok(7),
            Ok(7),
            Err("again".into()),
        ];
        let (tx, rx) = mpsc::channel();
        let look_tx = tx.clone();
        let mut script = script.into_iter();
        let w = poll(
            Duration::from_millis(1),
            move || {
                script.next().unwrap_or_else(|| {
                    let _ = look_tx.send(Seen::End);
                    Ok(7)
                })
            },
            move |e| {
                let _ = tx.send(match e {
                    Ok(()) => Seen::Changed,
                    Err(e) => Seen::Failed(e),
                });
            },
        );
        let seen: Vec<Seen> = rx.iter().take_while(|s| *s != Seen::End).collect();
        drop(w);
        assert_eq!(
            seen,
            [
                Seen::Changed,
                Seen::Failed("down".into()),
                Seen::Changed,
                Seen::Failed("again".into()),
            ]
        );
    }

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
