//! Every key binding of the TUI, in one table ([`BINDINGS`]). `update`
//! looks keys up here, and the help window (`?`) is drawn from it, so the
//! help can never disagree with the keys. Later features add rows here.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Previous row, or scroll up.
    Up,
    /// Next row, or scroll down.
    Down,
    /// A page up.
    PageUp,
    /// A page down.
    PageDown,
    /// Previous task (task screen) or question (answer form).
    Prev,
    /// Next task (task screen) or question (answer form).
    Next,
    /// Open the selected lab or task; submit in a form.
    Enter,
    /// Back to the lab list; cancel a window.
    Back,
    /// Switch the scrolled pane (instructions / verdict).
    Focus,
    /// The focused pane takes the whole body, or gives it back.
    Zoom,
    /// Scroll the focused pane's cut lines (code) to the left.
    ScrollLeft,
    /// Scroll the focused pane's cut lines (code) to the right.
    ScrollRight,
    /// Grade now.
    Check,
    /// Watch the workspace on/off.
    Watch,
    /// Reveal the next hint.
    Hint,
    /// Answer the task's questions.
    Answer,
    /// Create the workspace.
    Start,
    /// Reset the workspace (asks first).
    Reset,
    /// Run the task's demo on the Docker engine, or show the last one.
    Demo,
    /// Scan the lab's image with trivy into `report.json`.
    Scan,
    /// Apply the workspace's manifests to seclab's cluster (cluster labs).
    Apply,
    /// Show or hide the key table.
    Help,
    /// Leave.
    Quit,
    /// Confirm (y).
    Yes,
    /// Decline (n).
    No,
    /// Pick or unpick the highlighted choice.
    Toggle,
    /// Delete the last typed character.
    Backspace,
}

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// Everywhere, windows included.
    Global,
    /// The lab list and the task screen.
    Main,
    /// A yes/no question.
    Confirm,
    /// The answer form (typed characters that are not bound here go into
    /// the answer).
    Form,
}

/// A key: a code with modifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    /// The key.
    pub code: KeyCode,
    /// Modifiers that must be held (exactly).
    pub mods: KeyModifiers,
}

const fn k(code: KeyCode) -> Key {
    Key {
        code,
        mods: KeyModifiers::NONE,
    }
}

const fn c(ch: char) -> Key {
    k(KeyCode::Char(ch))
}

const fn ctrl(ch: char) -> Key {
    Key {
        code: KeyCode::Char(ch),
        mods: KeyModifiers::CONTROL,
    }
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    /// Where it applies.
    pub context: Context,
    /// The keys (the first is shown first in help).
    pub keys: &'static [Key],
    /// What they do.
    pub action: Action,
    /// The help text.
    pub help: &'static str,
}

const fn b(context: Context, keys: &'static [Key], action: Action, help: &'static str) -> Binding {
    Binding {
        context,
        keys,
        action,
        help,
    }
}

use Context::{Confirm, Form, Global, Main};

/// Every binding. Earlier rows win.
pub const BINDINGS: &[Binding] = &[
    b(Global, &[ctrl('c')], Action::Quit, "quit, from anywhere"),
    b(
        Main,
        &[k(KeyCode::Up), c('k')],
        Action::Up,
        "previous row / scroll",
    ),
    b(
        Main,
        &[k(KeyCode::Down), c('j')],
        Action::Down,
        "next row / scroll",
    ),
    b(Main, &[k(KeyCode::PageUp)], Action::PageUp, "page up"),
    b(
        Main,
        &[k(KeyCode::PageDown), c(' ')],
        Action::PageDown,
        "page down",
    ),
    b(Main, &[k(KeyCode::Left)], Action::Prev, "previous task"),
    b(Main, &[k(KeyCode::Right)], Action::Next, "next task"),
    b(
        Main,
        &[k(KeyCode::Enter)],
        Action::Enter,
        "open the lab or task",
    ),
    b(
        Main,
        &[k(KeyCode::Esc), k(KeyCode::Backspace)],
        Action::Back,
        "back to the lab list",
    ),
    b(
        Main,
        &[k(KeyCode::Tab)],
        Action::Focus,
        "switch pane (scroll, zoom)",
    ),
    b(Main, &[c('z')], Action::Zoom, "zoom the pane / both panes"),
    b(
        Main,
        &[c('<')],
        Action::ScrollLeft,
        "wide lines: scroll left",
    ),
    b(
        Main,
        &[c('>')],
        Action::ScrollRight,
        "wide lines: scroll right",
    ),
    b(Main, &[c('c')], Action::Check, "check now"),
    b(Main, &[c('w')], Action::Watch, "watch: check on every save"),
    b(Main, &[c('h')], Action::Hint, "next hint (counted)"),
    b(Main, &[c('a')], Action::Answer, "answer the questions"),
    b(Main, &[c('s')], Action::Start, "start: make the workspace"),
    b(Main, &[c('r')], Action::Reset, "reset workspace (asks)"),
    b(Main, &[c('d')], Action::Demo, "demo: show it on Docker"),
    b(
        Main,
        &[c('t')],
        Action::Scan,
        "trivy: scan into report.json",
    ),
    b(
        Main,
        &[c('p')],
        Action::Apply,
        "apply: workspace to cluster",
    ),
    b(Main, &[c('?')], Action::Help, "these keys"),
    b(Main, &[c('q')], Action::Quit, "quit"),
    b(Confirm, &[c('y')], Action::Yes, "yes"),
    b(Confirm, &[c('n'), k(KeyCode::Esc)], Action::No, "no"),
    b(Form, &[k(KeyCode::Up)], Action::Up, "previous choice"),
    b(Form, &[k(KeyCode::Down)], Action::Down, "next choice"),
    b(Form, &[k(KeyCode::Tab)], Action::Next, "next question"),
    b(
        Form,
        &[k(KeyCode::BackTab)],
        Action::Prev,
        "previous question",
    ),
    b(Form, &[c(' ')], Action::Toggle, "pick / unpick"),
    b(
        Form,
        &[k(KeyCode::Backspace)],
        Action::Backspace,
        "delete a character",
    ),
    b(
        Form,
        &[k(KeyCode::Enter)],
        Action::Enter,
        "record the answer",
    ),
    b(Form, &[k(KeyCode::Esc)], Action::Back, "close the form"),
];

/// The action bound to `key` in `context` (or globally), if any. Key
/// releases and repeats of releases are ignored.
pub fn lookup(context: Context, key: &KeyEvent) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    // Shift is part of the character itself ('?', 'A'); only Ctrl/Alt count.
    let mods = key.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT);
    let code = match key.code {
        // Some terminals report Shift+Tab as Tab with Shift.
        KeyCode::Tab if key.modifiers.contains(KeyModifiers::SHIFT) => KeyCode::BackTab,
        other => other,
    };
    BINDINGS
        .iter()
        .filter(|b| b.context == context || b.context == Global)
        .find(|b| b.keys.iter().any(|k| k.code == code && k.mods == mods))
        .map(|b| b.action)
}

/// How a key is written in help.
pub fn label(key: &Key) -> String {
    let base = match key.code {
        KeyCode::Up => "↑".to_string(),
        KeyCode::Down => "↓".to_string(),
        KeyCode::Left => "←".to_string(),
        KeyCode::Right => "→".to_string(),
        KeyCode::PageUp => "PgUp".to_string(),
        KeyCode::PageDown => "PgDn".to_string(),
        KeyCode::Enter => "Enter".to_string(),
        KeyCode::Esc => "Esc".to_string(),
        KeyCode::Backspace => "Bksp".to_string(),
        KeyCode::Tab => "Tab".to_string(),
        KeyCode::BackTab => "S-Tab".to_string(),
        KeyCode::Char(' ') => "Space".to_string(),
        KeyCode::Char(ch) => ch.to_string(),
        other => format!("{other:?}"),
    };
    if key.mods.contains(KeyModifiers::CONTROL) {
        format!("Ctrl-{base}")
    } else {
        base
    }
}

/// The keys of a binding, as help shows them (`↑/k`).
pub fn keys_label(binding: &Binding) -> String {
    binding.keys.iter().map(label).collect::<Vec<_>>().join("/")
}

/// The first key bound to `action` in `context`, for hints in the UI.
pub fn key_for(context: Context, action: Action) -> String {
    BINDINGS
        .iter()
        .find(|b| b.context == context && b.action == action)
        .and_then(|b| b.keys.first())
        .map(label)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_key_is_bound_twice_in_one_context() {
        for (i, a) in BINDINGS.iter().enumerate() {
            for bb in &BINDINGS[i + 1..] {
                let overlap =
                    a.context == bb.context || a.context == Global || bb.context == Global;
                if overlap {
                    for key in a.keys {
                        assert!(!bb.keys.contains(key), "{key:?} is bound twice");
                    }
                }
            }
        }
    }

    #[test]
    fn shifted_characters_match_and_ctrl_c_quits_everywhere() {
        let q = KeyEvent::new(KeyCode::Char('?'), KeyModifiers::SHIFT);
        assert_eq!(lookup(Main, &q), Some(Action::Help));
        let cc = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        for ctx in [Main, Confirm, Form] {
            assert_eq!(lookup(ctx, &cc), Some(Action::Quit));
        }
        let plain_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::NONE);
        assert_eq!(lookup(Main, &plain_c), Some(Action::Check));
        assert_eq!(lookup(Form, &plain_c), None);
    }
}
