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

/// Calls `on_change` after every debounced burst of changes below `root`,
/// until it returns `false`. With `poll`, files are polled every 500 ms.
pub fn watch(root: &Path, poll: bool, mut on_change: impl FnMut() -> bool) -> anyhow::Result<()> {
    let (tx, rx) = mpsc::channel::<DebounceEventResult>();
    // Keep the debouncer alive for the loop below.
    let _guard: Box<dyn std::any::Any> = if poll {
        let cfg = notify_debouncer_mini::Config::default()
            .with_timeout(DEBOUNCE)
            .with_notify_config(
                notify::Config::default().with_poll_interval(Duration::from_millis(500)),
            );
        let mut d = new_debouncer_opt::<_, PollWatcher>(cfg, tx)?;
        d.watcher().watch(root, RecursiveMode::Recursive)?;
        Box::new(d)
    } else {
        let mut d = new_debouncer(DEBOUNCE, tx)?;
        d.watcher().watch(root, RecursiveMode::Recursive)?;
        Box::new(d)
    };
    for events in rx {
        match events {
            Ok(ev) if ev.is_empty() => {}
            Ok(_) => {
                if !on_change() {
                    break;
                }
            }
            Err(e) => eprintln!("watch: {e}"),
        }
    }
    Ok(())
}
