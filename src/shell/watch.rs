//! Watching a workspace for saves: file events debounced by 200 ms
//! (notify), or polling where events do not arrive (WSL2 under /mnt,
//! network folders), as rustlings learned.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use notify::{PollWatcher, RecursiveMode};
use notify_debouncer_mini::{DebounceEventResult, new_debouncer, new_debouncer_opt};

/// How long a burst of events settles before a re-grade.
pub const DEBOUNCE: Duration = Duration::from_millis(200);

/// Keeps a watch alive; dropping it stops the watch.
pub struct Watcher {
    _inner: Box<dyn std::any::Any + Send>,
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Watcher")
    }
}

/// Starts watching `root` recursively: `on_event` gets every debounced
/// burst (`Ok(())`) or watch error (`Err(text)`), on the watcher's thread.
/// With `poll`, files are polled every 500 ms.
pub fn start(
    root: &Path,
    poll: bool,
    mut on_event: impl FnMut(Result<(), String>) + Send + 'static,
) -> anyhow::Result<Watcher> {
    let handler = move |events: DebounceEventResult| match events {
        Ok(ev) if ev.is_empty() => {}
        Ok(_) => on_event(Ok(())),
        Err(e) => on_event(Err(e.to_string())),
    };
    let inner: Box<dyn std::any::Any + Send> = if poll {
        let cfg = notify_debouncer_mini::Config::default()
            .with_timeout(DEBOUNCE)
            .with_notify_config(
                notify::Config::default().with_poll_interval(Duration::from_millis(500)),
            );
        let mut d = new_debouncer_opt::<_, PollWatcher>(cfg, handler)?;
        d.watcher().watch(root, RecursiveMode::Recursive)?;
        Box::new(d)
    } else {
        let mut d = new_debouncer(DEBOUNCE, handler)?;
        d.watcher().watch(root, RecursiveMode::Recursive)?;
        Box::new(d)
    };
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
