//! Snapshot tests of the key screens, drawn into ratatui's `TestBackend`
//! at 80×24 and compared with `insta` (`tests/snapshots/`). The models use
//! a fixed workspace path, so no temp path reaches a snapshot; NO_COLOR is
//! on, so every state must read from glyphs and words alone.

mod tui_support;

use ratatui::crossterm::event::KeyCode;
use seclab::app::{Msg, update};
use seclab_checkers::Finding;
use tui_support::{WIDE_COMMAND, ch, graded, key, model, open, render, started, task_row};

const WRONG: &str = "layers: {which-layer: a, defence-in-depth: [a, d]}\ntrust: {zero-trust: b}\n";

#[test]
fn lab_list() {
    let mut m = started();
    let msg = graded(
        &m,
        "principles",
        &["layers", "trust"],
        &[(
            "answers.yaml",
            "layers: {which-layer: [b, d], defence-in-depth: [a, b, c]}\n",
        )],
    );
    update(&mut m, msg);
    update(&mut m, ch('j'));
    update(&mut m, ch('j'));
    update(&mut m, ch('j'));
    // `duty` is being graded: the spinner's first frame.
    m.running.insert(("principles".into(), "duty".into()));
    insta::assert_snapshot!(render(&m));
}

#[test]
fn lab_list_before_starting() {
    let m = model();
    insta::assert_snapshot!(render(&m));
}

#[test]
fn task_with_instructions() {
    let mut m = model();
    update(&mut m, key(KeyCode::Enter));
    insta::assert_snapshot!(render(&m));
}

#[test]
fn task_instructions_scrolled_to_the_questions() {
    let mut m = started();
    let msg = graded(&m, "principles", &["layers"], &[("answers.yaml", WRONG)]);
    update(&mut m, msg);
    update(&mut m, key(KeyCode::Enter));
    for _ in 0..100 {
        update(&mut m, ch('j'));
    }
    insta::assert_snapshot!(render(&m));
}

#[test]
fn failing_check_with_findings() {
    let mut m = started();
    let row = task_row(&m, "tiny", 0);
    m.cursor = row;
    update(&mut m, key(KeyCode::Enter));
    let app = "kind: Deployment\nmetadata:\n  name: app\nspec:\n  replicas: 1\n";
    let mut msg = graded(&m, "tiny", &["fix"], &[("app.yaml", app)]);
    // A warning as the pss checker gives for unknown fields.
    if let Msg::Graded { outcome: Ok(g), .. } = &mut msg {
        let mut w = Finding::warning("unknown field `replica`; did you mean `replicas`?");
        w.object = Some("Deployment/app".into());
        w.source = Some("app.yaml".into());
        w.line = Some(6);
        w.col = Some(3);
        w.paths.push("spec.replica".into());
        g.results[0].checks[0].verdict.findings.push(w);
    }
    update(&mut m, msg);
    insta::assert_snapshot!(render(&m));
}

#[test]
fn revealed_hint() {
    let mut m = started();
    let msg = graded(&m, "principles", &["layers"], &[("answers.yaml", WRONG)]);
    update(&mut m, msg);
    update(&mut m, key(KeyCode::Enter));
    let mut p = m.progress.clone();
    let hash = m
        .catalog
        .get("principles")
        .expect("lab")
        .content_hash
        .clone();
    p.lab_mut("principles", &hash).reveal_hint("layers", 2);
    update(&mut m, ch('h'));
    update(
        &mut m,
        Msg::HintRevealed {
            lab: "principles".into(),
            task: "layers".into(),
            outcome: Ok(p),
        },
    );
    insta::assert_snapshot!(render(&m));
}

#[test]
fn answer_choice_list() {
    let mut m = started();
    update(&mut m, key(KeyCode::Enter));
    update(&mut m, ch('a'));
    update(&mut m, key(KeyCode::Tab));
    update(&mut m, ch('a'));
    update(&mut m, ch('c'));
    insta::assert_snapshot!(render(&m));
}

#[test]
fn answer_text_input() {
    let mut m = started();
    update(&mut m, ch('j'));
    update(&mut m, ch('j'));
    update(&mut m, ch('a'));
    update(&mut m, key(KeyCode::BackTab));
    for c in "least privilege".chars() {
        update(&mut m, ch(c));
    }
    insta::assert_snapshot!(render(&m));
}

#[test]
fn help() {
    let mut m = model();
    update(&mut m, ch('?'));
    insta::assert_snapshot!(render(&m));
}

#[test]
fn reset_confirmation() {
    let mut m = started();
    update(&mut m, ch('r'));
    insta::assert_snapshot!(render(&m));
}

#[test]
fn tiny_terminal_does_not_panic() {
    for (w, h) in [(1, 1), (10, 3), (20, 5), (40, 10)] {
        let mut m = started();
        update(&mut m, Msg::Resize(w, h));
        render(&m);
        update(&mut m, key(KeyCode::Enter));
        render(&m);
        update(&mut m, ch('a'));
        render(&m);
        update(&mut m, key(KeyCode::Esc));
        update(&mut m, ch('?'));
        render(&m);
    }
}

/// The `netpol` checker's matrix in the verdict pane: the start state of
/// `netpol-three-pods` (no policies: everything reaches everything), with
/// the cells that differ from the a→b expectation marked `!`.
#[test]
fn netpol_matrix_in_the_verdict() {
    let mut m = started();
    m.size = (80, 40);
    m.cursor = task_row(&m, "netpol-three-pods", 1);
    update(&mut m, key(KeyCode::Enter));
    let start = m
        .catalog
        .get("netpol-three-pods")
        .expect("lab")
        .tree("start/");
    let files: Vec<(String, String)> = start
        .iter()
        .map(|(p, b)| (p.clone(), String::from_utf8_lossy(b).into_owned()))
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let msg = graded(&m, "netpol-three-pods", &["a-to-b"], &refs);
    update(&mut m, msg);
    update(&mut m, key(KeyCode::Tab));
    let screen = render(&m);
    assert!(screen.contains("all!"), "{screen}");
    insta::assert_snapshot!(screen);
}

/// The rows of a screen, without the quotes `TestBackend` puts around them.
fn rows(screen: &str) -> Vec<String> {
    screen
        .lines()
        .map(|l| l.trim_matches('"').to_string())
        .collect()
}

/// A wrapped list item continues under its text, not at column 0: the 4C
/// list of `layers` at 80×24.
#[test]
fn list_items_hang_under_their_text() {
    let mut m = model();
    update(&mut m, key(KeyCode::Enter));
    for _ in 0..9 {
        update(&mut m, ch('j'));
    }
    let screen = render(&m);
    assert!(
        screen.contains("│     NetworkPolicies, Secrets."),
        "the item's second line hangs under its text:\n{screen}"
    );
    insta::assert_snapshot!(screen);
}

/// The STRIDE table of `threats` is wider than 80 columns: its columns stay
/// aligned under a header rule, the long cells wrap inside their column.
#[test]
fn table_aligned_with_wrapped_cells() {
    let mut m = model();
    open(&mut m, "principles", 4);
    for _ in 0..3 {
        update(&mut m, ch('j'));
    }
    let screen = render(&m);
    let rows = rows(&screen);
    let bar = |r: &String| r.chars().skip(1).position(|c| c == '│' || c == '┼');
    let cols: Vec<_> = rows
        .iter()
        .filter(|r| r.starts_with('│') && (r.contains(" │ ") || r.contains("─┼─")))
        .map(bar)
        .collect();
    assert!(cols.len() >= 5, "{screen}");
    assert!(
        cols.windows(2).all(|w| w[0] == w[1]),
        "one column line:\n{screen}"
    );
    insta::assert_snapshot!(screen);
}

/// A code line longer than the pane is never re-wrapped: it is cut at the
/// edge with `→`, and `>` scrolls it sideways to its end (the indent stays,
/// `←` marks what is hidden to the left). Zoomed, so the whole of `wide`
/// shows: the list item's hanging indent, the command, and a table too
/// narrow for its longest word as `header: value` records.
#[test]
fn code_block_cut_at_the_edge_and_scrolled_sideways() {
    let mut m = started();
    open(&mut m, "tiny", 2);
    update(&mut m, ch('z'));
    let cut = render(&m);
    let start = format!("│       {}", &WIDE_COMMAND[..70]);
    assert!(cut.contains(&format!("{start}→│")), "{cut}");
    assert!(
        !cut.contains("healthz"),
        "not wrapped onto a second line:\n{cut}"
    );
    insta::assert_snapshot!("code_block_cut", cut);
    for _ in 0..10 {
        update(&mut m, ch('>'));
    }
    let scrolled = render(&m);
    assert!(
        scrolled.contains(":8080/healthz│"),
        "the end shows, unmarked:\n{scrolled}"
    );
    assert!(scrolled.contains("│     ← "), "{scrolled}");
    insta::assert_snapshot!("code_block_scrolled_to_its_end", scrolled);
}

/// At 80×24 the verdict pane is small; `z` gives it the whole body: both
/// hints and every finding at once.
#[test]
fn verdict_zoomed() {
    let mut m = started();
    let msg = graded(&m, "principles", &["layers"], &[("answers.yaml", WRONG)]);
    update(&mut m, msg);
    update(&mut m, key(KeyCode::Enter));
    let mut p = m.progress.clone();
    let hash = m
        .catalog
        .get("principles")
        .expect("lab")
        .content_hash
        .clone();
    for _ in 0..2 {
        p.lab_mut("principles", &hash).reveal_hint("layers", 2);
    }
    update(
        &mut m,
        Msg::HintRevealed {
            lab: "principles".into(),
            task: "layers".into(),
            outcome: Ok(p),
        },
    );
    assert_eq!(m.pane, seclab::app::Pane::Verdict);
    update(&mut m, ch('z'));
    let screen = render(&m);
    assert!(!screen.contains("Instructions"), "{screen}");
    assert!(screen.contains("z unzoom"), "{screen}");
    insta::assert_snapshot!(screen);
}

/// A status message longer than a line wraps onto more lines of the
/// status bar, under its first word: read whole at 80×24, not cut.
#[test]
fn long_status_message_wraps() {
    let text = "/home/student/seclab/principles/answers.yaml:3:14: \
                layers.which-layer: expected one letter of a to e, got `q`; \
                fix the file or answer again with a";
    let mut m = started();
    update(&mut m, key(KeyCode::Enter));
    update(&mut m, ch('c'));
    update(
        &mut m,
        Msg::Graded {
            lab: "principles".into(),
            outcome: Err(text.into()),
        },
    );
    let screen = render(&m);
    let rows = rows(&screen);
    let first = rows
        .iter()
        .position(|r| r.starts_with(" /home/student/seclab/principles/answers.yaml"))
        .expect("the message is on screen");
    let shown: Vec<&str> = rows[first..].iter().map(|r| r.trim()).collect();
    assert_eq!(shown.join(" "), text, "{screen}");
    assert!(
        rows[first + 1].starts_with(' ') && rows.len() == 24,
        "{screen}"
    );
    insta::assert_snapshot!(screen);
}

/// Long quiz choices continue under their text, after `a) `, both in the
/// answer form and in the task pane's list of questions.
#[test]
fn long_choices_hang_under_their_text() {
    let mut m = started();
    update(&mut m, key(KeyCode::Enter));
    update(&mut m, ch('a'));
    let screen = render(&m);
    let rows = rows(&screen);
    let at = rows
        .iter()
        .position(|r| r.contains("b) The image is built FROM a Debian base"))
        .expect("choice b in the form");
    let col = |r: &str, pat: &str| r.find(pat).map(|b| r[..b].chars().count());
    let text_col = col(&rows[at], "The image").expect("text");
    let form = col(&rows[at], "│  [ ] b)").expect("the form's border") + 1;
    let next: Vec<char> = rows[at + 1].chars().collect();
    assert!(
        next[form..text_col].iter().all(|c| *c == ' ') && next[text_col] != ' ',
        "the second line of b) starts under its text:\n{screen}"
    );
    insta::assert_snapshot!("answer_form_long_choices", screen);
    update(&mut m, key(KeyCode::Esc));
    for _ in 0..31 {
        update(&mut m, ch('j'));
    }
    let pane = render(&m);
    assert!(
        pane.contains("│  b) The image is built FROM a Debian base")
            && pane.contains("│     app never uses, has a critical CVE"),
        "{pane}"
    );
    insta::assert_snapshot!("questions_long_choices", pane);
}

#[test]
fn demo_window_streaming() {
    use seclab::app::{Availability, DemoEvent, DemoLine};
    let mut m = model();
    update(
        &mut m,
        Msg::Probed(Availability {
            docker: true,
            docker_problem: None,
            cluster: false,
            ..Availability::default()
        }),
    );
    open(&mut m, "container-privileges", 0);
    let task = m.current_task().map(|(_, t)| t.id.clone()).expect("task");
    update(&mut m, ch('d'));
    for l in [
        DemoLine::Say("A default container keeps 14 of the kernel's 41 capabilities.".into()),
        DemoLine::Command("docker run -d --name seclab-demo busybox:1.36 sleep 600".into()),
        DemoLine::Command("docker exec seclab-demo sh -c 'grep Cap /proc/self/status'".into()),
        DemoLine::Output("CapEff:\t00000000a80425fb".into()),
        DemoLine::Note("CapEff: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP".into()),
        DemoLine::Say("Privileged: every capability.".into()),
        DemoLine::Refused("this engine cannot run privileged containers: unable to apply caps: operation not permitted".into()),
    ] {
        update(
            &mut m,
            Msg::Demo {
                lab: "container-privileges".into(),
                task: task.clone(),
                event: DemoEvent::Line(l),
            },
        );
    }
    insta::assert_snapshot!(render(&m));
}

/// seclab's cluster at hand: the status bar names its context, and a
/// cluster lab's task offers `p apply` among the keys.
#[test]
fn status_bar_with_the_cluster_at_hand() {
    use seclab::app::Availability;
    let mut m = started();
    update(
        &mut m,
        Msg::Probed(Availability {
            cluster: true,
            cluster_context: Some("kind-seclab".into()),
            ..Availability::default()
        }),
    );
    open(&mut m, "pss-scissors", 0);
    let screen = render(&m);
    let rows = rows(&screen);
    let status = &rows[rows.len() - 2];
    assert!(
        status.starts_with(" offline ✓ docker ✗ cluster kind-seclab ✓ │ watch off"),
        "{screen}"
    );
    assert!(rows[rows.len() - 1].contains("p apply"), "{screen}");
    insta::assert_snapshot!(screen);
}

/// No cluster: `cluster ✗`, and a task that needs it says why in the
/// verdict pane (here: no cluster id stored, so nothing was sent).
#[test]
fn task_needing_the_cluster_says_why() {
    use seclab::app::Availability;
    let mut m = started();
    update(
        &mut m,
        Msg::Probed(Availability {
            cluster_problem: Some(
                "no seclab cluster: run `seclab up` to create the kind cluster (nothing was sent to any cluster)".into(),
            ),
            cluster_context: Some("kind-seclab".into()),
            ..Availability::default()
        }),
    );
    open(&mut m, "tiny", 1);
    let screen = render(&m);
    assert!(screen.contains("cluster ✗"), "{screen}");
    assert!(
        screen.contains("◆ needs cluster: no seclab cluster: run"),
        "{screen}"
    );
    assert!(
        !screen.contains("p apply"),
        "tiny has no cluster part: {screen}"
    );
    insta::assert_snapshot!(screen);
}
