//! `seclab scan audit` through the real binary, on audit logs shaped like a
//! kind cluster's (`checkers/benches/support/audit_gen.rs`): every filter
//! flag selects exactly the events this test selects itself from the raw
//! JSON; the text rows and the summary; malformed lines exit 2 at
//! `path:line:col` (on files and on stdin); gzip (by content, concatenated
//! members too) and stdin input; a half-written last line is skipped with a
//! warning; bad flags exit 2.

#[path = "../checkers/benches/support/audit_gen.rs"]
mod audit_gen;
mod common;
#[path = "../checkers/tests/common/mod.rs"]
mod conformance;

use std::collections::BTreeSet;
use std::io::Write as _;
use std::process::{Command, Stdio};

use common::{Run, Sandbox};
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::Value;

use audit_gen::{ADMIN, Generator, INTRUDER};

/// The log most tests read: 6,000 events, seed 3.
fn log() -> String {
    Generator::log(3, 6_000)
}

fn sandbox_with(files: &[(&str, &[u8])]) -> Sandbox {
    let sb = Sandbox::new();
    for (name, bytes) in files {
        std::fs::write(sb.work().join(name), bytes).expect("write");
    }
    sb
}

/// Runs seclab in `sb` with `input` on stdin.
fn run_stdin(sb: &Sandbox, args: &[&str], input: Vec<u8>) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_seclab"))
        .args(args)
        .current_dir(sb.work())
        .env("SECLAB_STATE_DIR", sb.state())
        .env_remove("SECLAB_LABS")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("seclab runs");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || {
        // The reader may stop early (an error); a broken pipe is fine.
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("seclab ends");
    writer.join().expect("writer");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn json_rows(r: &Run) -> Vec<Value> {
    assert_eq!(r.code, 0, "{r:?}");
    let v: Value = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", &r.stdout[..r.stdout.len().min(500)]));
    v.as_array().expect("an array").clone()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    enc.write_all(bytes).expect("gzip");
    enc.finish().expect("gzip")
}

fn s<'a>(e: &'a Value, pointer: &str) -> &'a str {
    e.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// The test's own reading of `--resource`: upstream's resource matching,
/// written out on the raw JSON.
fn resource_is(e: &Value, pattern: &str) -> bool {
    let (res, group, sub) = (
        s(e, "/objectRef/resource"),
        s(e, "/objectRef/apiGroup"),
        s(e, "/objectRef/subresource"),
    );
    if res.is_empty() {
        return false;
    }
    let (base, want_sub) = pattern.split_once('/').unwrap_or((pattern, ""));
    let (want_res, want_group) = match base.split_once('.') {
        Some((r, g)) => (r, Some(g)),
        None => (base, None),
    };
    if want_group.is_some_and(|g| g != group) {
        return false;
    }
    match (want_res, want_sub) {
        ("*", "") => true,
        ("*", s) => s == sub,
        (r, "") => r == res && sub.is_empty(),
        (r, "*") => r == res,
        (r, s) => r == res && s == sub,
    }
}

fn time_of(e: &Value) -> seclab_checkers::audit::log::Timestamp {
    s(e, "/requestReceivedTimestamp").parse().expect("a time")
}

type Pred = Box<dyn Fn(&Value) -> bool>;

#[test]
fn each_filter_selects_what_the_test_selects_from_the_raw_json() {
    let text = log();
    let raw: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("generated JSON"))
        .collect();
    let sb = sandbox_with(&[("audit.log", text.as_bytes())]);
    let t0 = time_of(&raw[1_000]).to_string();
    let t1 = time_of(&raw[4_000]).to_string();
    let cases: Vec<(Vec<&str>, Pred)> = vec![
        (vec![], Box::new(|_| true)),
        (
            vec!["--user", INTRUDER],
            Box::new(|e| s(e, "/user/username") == INTRUDER),
        ),
        (
            vec!["--user", "bob"],
            Box::new(|e| s(e, "/impersonatedUser/username") == "bob"),
        ),
        (
            vec!["--user", "bob", "--user", ADMIN],
            Box::new(|e| s(e, "/user/username") == ADMIN),
        ),
        (
            vec!["--verb", "create", "--verb", "delete"],
            Box::new(|e| matches!(s(e, "/verb"), "create" | "delete")),
        ),
        (
            vec!["--resource", "secrets"],
            Box::new(|e| resource_is(e, "secrets")),
        ),
        (
            vec!["--resource", "pods"],
            Box::new(|e| resource_is(e, "pods")),
        ),
        (
            vec!["--resource", "pods/exec"],
            Box::new(|e| resource_is(e, "pods/exec")),
        ),
        (
            vec!["--resource", "pods/*"],
            Box::new(|e| resource_is(e, "pods/*")),
        ),
        (
            vec!["--resource", "*/status"],
            Box::new(|e| resource_is(e, "*/status")),
        ),
        (
            vec!["--resource", "leases.coordination.k8s.io"],
            Box::new(|e| resource_is(e, "leases.coordination.k8s.io")),
        ),
        (
            vec!["--resource", "*"],
            Box::new(|e| e.get("objectRef").is_some()),
        ),
        (
            vec!["-n", "kube-system"],
            Box::new(|e| s(e, "/objectRef/namespace") == "kube-system"),
        ),
        (
            vec!["--stage", "ResponseComplete"],
            Box::new(|e| s(e, "/stage") == "ResponseComplete"),
        ),
        (
            vec!["--stage", "responsestarted", "--stage", "RequestReceived"],
            Box::new(|e| matches!(s(e, "/stage"), "ResponseStarted" | "RequestReceived")),
        ),
        (vec!["--since", &t0, "--until", &t1], {
            let (a, b) = (time_of(&raw[1_000]), time_of(&raw[4_000]));
            Box::new(move |e| (a..=b).contains(&time_of(e)))
        }),
        (
            vec![
                "--user",
                INTRUDER,
                "--resource",
                "secrets",
                "--stage",
                "ResponseComplete",
                "-n",
                "shop",
            ],
            Box::new(|e| {
                s(e, "/user/username") == INTRUDER
                    && resource_is(e, "secrets")
                    && s(e, "/stage") == "ResponseComplete"
                    && s(e, "/objectRef/namespace") == "shop"
            }),
        ),
    ];
    for (flags, pred) in &cases {
        let want: BTreeSet<usize> = raw
            .iter()
            .enumerate()
            .filter(|(_, e)| pred(e))
            .map(|(i, _)| i + 1)
            .collect();
        assert!(
            !want.is_empty(),
            "{flags:?}: the generated log has such events"
        );
        let mut args = vec!["scan", "audit", "audit.log", "-o", "json"];
        args.extend(flags.iter().copied());
        let rows = json_rows(&sb.run(&args));
        let got: BTreeSet<usize> = rows
            .iter()
            .map(|r| r["line"].as_u64().expect("line") as usize)
            .collect();
        assert_eq!(got.len(), rows.len(), "{flags:?}: each line once");
        assert_eq!(got, want, "{flags:?}");
        // Each row is its line's event, upstream names and values.
        for row in rows.iter().step_by(97) {
            let e = &raw[row["line"].as_u64().expect("line") as usize - 1];
            assert_eq!(row["file"], "audit.log");
            for key in [
                "auditID",
                "stage",
                "verb",
                "requestURI",
                "sourceIPs",
                "userAgent",
            ] {
                assert_eq!(row[key], e[key], "{flags:?} {key}");
            }
            assert_eq!(row["user"]["username"], e["user"]["username"]);
            assert_eq!(row["objectRef"].get("name"), e["objectRef"].get("name"));
            assert_eq!(
                row.pointer("/responseStatus/code"),
                e.pointer("/responseStatus/code")
            );
            assert_eq!(
                row.pointer("/annotations/authorization.k8s.io~1decision"),
                e.pointer("/annotations/authorization.k8s.io~1decision")
            );
            assert_eq!(
                time_of(row),
                time_of(e),
                "{flags:?}: the same instant, whatever the spelling"
            );
        }
    }
}

const EXEC: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"2f1c7e4e-1a5b-4d43-9d0e-6c7b3b1f9a10","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/shop/pods/web-0/exec?command=sh\u0026container=web\u0026stdin=true\u0026tty=true","verb":"create","user":{"username":"system:serviceaccount:shop:web","uid":"0b5e","groups":["system:serviceaccounts","system:serviceaccounts:shop","system:authenticated"]},"sourceIPs":["203.0.113.45","10.0.0.1"],"userAgent":"curl/8.5.0","objectRef":{"resource":"pods","namespace":"shop","name":"web-0","apiVersion":"v1","subresource":"exec"},"responseStatus":{"metadata":{},"code":101},"requestReceivedTimestamp":"2026-12-03T10:15:30.123456Z","stageTimestamp":"2026-12-03T10:15:41.002173Z","annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed by RoleBinding \"web/shop\" of Role \"web\" to ServiceAccount \"web/shop\""}}"#;
const LIST: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"77aa","stage":"RequestReceived","requestURI":"/api/v1/namespaces/kube-system/secrets","verb":"list","user":{"username":"system:serviceaccount:shop:web"},"sourceIPs":["203.0.113.45"],"objectRef":{"resource":"secrets","namespace":"kube-system","apiVersion":"v1"},"requestReceivedTimestamp":"2026-12-03T10:16:00Z","stageTimestamp":"2026-12-03T10:16:00Z"}"#;
const CRB: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"88bb","stage":"ResponseComplete","requestURI":"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/pwn","verb":"get","user":{"username":"kubernetes-admin"},"impersonatedUser":{"username":"bob"},"objectRef":{"resource":"clusterrolebindings","name":"pwn","apiGroup":"rbac.authorization.k8s.io","apiVersion":"v1"},"responseStatus":{"metadata":{},"status":"Failure","reason":"Forbidden","code":403},"requestReceivedTimestamp":"2026-12-03T10:17:00.5Z","stageTimestamp":"2026-12-03T10:17:00.6Z","annotations":{"authorization.k8s.io/decision":"forbid"}}"#;
const HEALTHZ: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"99cc","stage":"ResponseComplete","requestURI":"/healthz","verb":"get","user":{"username":"system:anonymous","groups":["system:unauthenticated"]},"sourceIPs":["172.18.0.2"],"userAgent":"kube-probe/1.34","responseStatus":{"metadata":{},"code":200},"requestReceivedTimestamp":"2026-12-03T10:18:00.000001Z","stageTimestamp":"2026-12-03T10:18:00.000002Z"}"#;

#[test]
fn text_rows_then_the_summary() {
    let text = format!("{EXEC}\n{LIST}\n\n{CRB}\n{HEALTHZ}\n");
    let sb = sandbox_with(&[("audit.log", text.as_bytes())]);
    let r = sb.run(&["scan", "audit", "audit.log"]);
    assert_eq!(r.code, 0, "{r:?}");
    let lines: Vec<Vec<&str>> = r
        .stdout
        .lines()
        .map(|l| {
            l.split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect()
        })
        .collect();
    assert_eq!(
        lines,
        [
            vec![
                "2026-12-03T10:15:30.123456Z",
                "ResponseComplete",
                "system:serviceaccount:shop:web",
                "create",
                "pods/exec shop/web-0",
                "101",
                "203.0.113.45",
                "allow"
            ],
            vec![
                "2026-12-03T10:16:00Z",
                "RequestReceived",
                "system:serviceaccount:shop:web",
                "list",
                "secrets in kube-system",
                "-",
                "203.0.113.45",
                "-"
            ],
            vec![
                "2026-12-03T10:17:00.5Z",
                "ResponseComplete",
                "kubernetes-admin (as bob)",
                "get",
                "clusterrolebindings.rbac.authorization.k8s.io pwn",
                "403",
                "-",
                "forbid"
            ],
            vec![
                "2026-12-03T10:18:00.000001Z",
                "ResponseComplete",
                "system:anonymous",
                "get",
                "/healthz",
                "200",
                "172.18.0.2",
                "-"
            ],
            vec!["4 events read from 1 log, 4 matched"],
        ]
    );
    let r = sb.run(&["scan", "audit", "audit.log", "audit.log", "--user", "bob"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout.lines().count(), 3, "{}", r.stdout);
    assert!(
        r.stdout.ends_with("8 events read from 2 logs, 2 matched\n"),
        "{}",
        r.stdout
    );
}

#[test]
fn client_strings_cannot_drive_the_terminal() {
    let evil = EXEC.replace("curl/8.5.0", "x").replace(
        "system:serviceaccount:shop:web\",\"uid",
        "eve\\u001b[2J\\u0007\",\"uid",
    );
    let sb = sandbox_with(&[("audit.log", evil.as_bytes())]);
    let r = sb.run(&["scan", "audit", "audit.log"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!r.stdout.contains('\u{1b}') && !r.stdout.contains('\u{7}'));
    assert!(r.stdout.contains("eve\\u{1b}[2J\\u{7}"), "{}", r.stdout);
    // JSON keeps the value, escaped by JSON.
    let rows = json_rows(&sb.run(&["scan", "audit", "audit.log", "-o", "json"]));
    assert_eq!(rows[0]["user"]["username"], "eve\u{1b}[2J\u{7}");
}

#[test]
fn malformed_lines_exit_2_at_path_line_col() {
    // Line 3: `{"kind":"Event"` then a space and a `"` where `,` or `}`
    // must be: column 17.
    let bad = format!("{EXEC}\n\n{{\"kind\":\"Event\" \"level\":\"Metadata\"}}\n{HEALTHZ}\n");
    let sb = sandbox_with(&[("audit.log", bad.as_bytes())]);
    let r = sb.run(&["scan", "audit", "audit.log"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.starts_with("audit.log:3:17: expected `,` or `}`"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("panick"), "{}", r.stderr);
    assert!(
        !r.stdout.contains("events read"),
        "no summary after an error"
    );

    let cases: [(&str, &str); 6] = [
        (
            r#"{"kind":"Event","auditID":7}"#,
            "audit.log:2:27: invalid type: integer `7`, expected a string",
        ),
        (&LIST.replace("\"auditID\":\"77aa\",", ""), "audit.log:2:"),
        (
            &LIST.replace("\"kind\":\"Event\"", "\"kind\":\"Pod\""),
            "audit.log:2:1: kind \"Pod\": not an audit event",
        ),
        (
            &LIST.replace(
                "2026-12-03T10:16:00Z\",\"stageTimestamp",
                "10:16\",\"stageTimestamp",
            ),
            "\"10:16\" is not an RFC 3339 time",
        ),
        ("[]", "audit.log:2:1: not a JSON object"),
        ("level=info msg=hello", "audit.log:2:1: not a JSON object"),
    ];
    for (line, want) in cases {
        let text = format!("{EXEC}\n{line}\n{HEALTHZ}\n");
        let sb = sandbox_with(&[("audit.log", text.as_bytes())]);
        let r = sb.run(&["scan", "audit", "audit.log", "-o", "json"]);
        assert_eq!(r.code, 2, "{line}: {r:?}");
        assert!(r.stderr.contains(want), "{line}: {}", r.stderr);
        assert!(r.stderr.starts_with("audit.log:2:"), "{line}: {}", r.stderr);
    }
    let missing = LIST.replace("\"auditID\":\"77aa\",", "");
    let sb = sandbox_with(&[("a.log", format!("{missing}\n").as_bytes())]);
    let r = sb.run(&["scan", "audit", "a.log"]);
    assert!(r.stderr.contains("missing field `auditID`"), "{}", r.stderr);

    // Not UTF-8: located at the first bad byte.
    let mut bytes = format!("{EXEC}\n").into_bytes();
    bytes.extend_from_slice(b"{\"kind\":\"Ev\xffent\"}\n");
    let sb = sandbox_with(&[("bin.log", &bytes)]);
    let r = sb.run(&["scan", "audit", "bin.log"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.starts_with("bin.log:2:12: not UTF-8"),
        "{}",
        r.stderr
    );
}

#[test]
fn gzip_logs_read_like_plain_ones() {
    let text = log();
    let gz = gzip(text.as_bytes());
    // Two members, as `cat a.gz b.gz` makes.
    let half = text[..text.len() / 2].rfind('\n').expect("a line end") + 1;
    let mut two = gzip(&text.as_bytes()[..half]);
    two.extend(gzip(&text.as_bytes()[half..]));
    let sb = sandbox_with(&[
        ("audit.log", text.as_bytes()),
        ("audit.log.1.gz", &gz),
        ("rotated", &two),
    ]);
    let flags = ["--user", INTRUDER, "--stage", "ResponseComplete"];
    let run = |file: &str| {
        let mut args = vec!["scan", "audit", file];
        args.extend(flags);
        let r = sb.run(&args);
        assert_eq!(r.code, 0, "{file}: {r:?}");
        r.stdout
    };
    let plain = run("audit.log");
    assert!(plain.lines().count() > 5, "{plain}");
    assert!(plain.contains("6000 events read from 1 log, "), "{plain}");
    assert_eq!(run("audit.log.1.gz"), plain);
    assert_eq!(run("rotated"), plain, "gzip is known by its content");

    // A corrupt gzip stream is a read error, exit 2.
    let mut broken = gz.clone();
    let mid = broken.len() / 2;
    broken[mid..mid + 64].fill(0x55);
    let sb = sandbox_with(&[("bad.gz", &broken)]);
    let r = sb.run(&["scan", "audit", "bad.gz"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.starts_with("bad.gz:"), "{}", r.stderr);
}

#[test]
fn stdin_plain_or_gzip_with_dash_or_no_file() {
    let text = format!("{EXEC}\n{LIST}\n{CRB}\n");
    let sb = Sandbox::new();
    for args in [
        vec!["scan", "audit", "--verb", "list"],
        vec!["scan", "audit", "-", "--verb", "list"],
    ] {
        for input in [text.clone().into_bytes(), gzip(text.as_bytes())] {
            let r = run_stdin(&sb, &args, input);
            assert_eq!(r.code, 0, "{r:?}");
            assert!(r.stdout.contains("secrets in kube-system"), "{}", r.stdout);
            assert!(
                r.stdout.ends_with("3 events read from 1 log, 1 matched\n"),
                "{}",
                r.stdout
            );
        }
    }
    let r = run_stdin(
        &sb,
        &["scan", "audit"],
        format!("{EXEC}\n{{\"auditID\":1}}\n").into_bytes(),
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.starts_with("<stdin>:2:12: "), "{}", r.stderr);
    let r = run_stdin(&sb, &["scan", "audit", "-", "-"], Vec::new());
    assert_eq!(r.code, 2, "{r:?}");
}

#[test]
fn a_half_written_last_line_is_skipped_with_a_warning() {
    let cut = &HEALTHZ[..HEALTHZ.len() / 2];
    let text = format!("{EXEC}\n{LIST}\n{cut}");
    let sb = sandbox_with(&[("live.log", text.as_bytes())]);
    let r = sb.run(&["scan", "audit", "live.log"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.starts_with("warning: live.log:3:"), "{}", r.stderr);
    assert!(r.stdout.ends_with("2 events read from 1 log, 2 matched\n"));
    // With its line end, the same half event is an error: the API server
    // finished that line.
    let sb = sandbox_with(&[("done.log", format!("{text}\n").as_bytes())]);
    assert_eq!(sb.run(&["scan", "audit", "done.log"]).code, 2);
}

#[test]
fn empty_logs_and_no_match_read_fine() {
    let sb = sandbox_with(&[
        ("empty.log", b""),
        ("blank.log", b"\n  \n\r\n"),
        ("one.log", format!("{EXEC}\n").as_bytes()),
    ]);
    let r = sb.run(&["scan", "audit", "empty.log", "blank.log"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout, "0 events read from 2 logs, 0 matched\n");
    let r = sb.run(&["scan", "audit", "one.log", "--user", "nobody"]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "1 event read from 1 log, 0 matched\n")
    );
    let r = sb.run(&["scan", "audit", "one.log", "--user", "nobody", "-o", "json"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "[]\n"));
}

#[test]
fn bad_flags_and_files_exit_2() {
    let sb = sandbox_with(&[("a.log", format!("{EXEC}\n").as_bytes())]);
    for (flags, want) in [
        (
            vec!["--since", "yesterday"],
            "--since \"yesterday\": not an RFC 3339 time",
        ),
        (vec!["--until", "2026-12-03"], "--until \"2026-12-03\""),
        (
            vec![
                "--since",
                "2026-12-04T00:00:00Z",
                "--until",
                "2026-12-03T00:00:00Z",
            ],
            "is after --until",
        ),
        (
            vec!["--stage", "Done"],
            "--stage \"Done\": one of RequestReceived",
        ),
        (vec!["--resource", "pods/a/b"], "--resource \"pods/a/b\""),
        (vec!["--resource", "*/*"], "--resource \"*/*\""),
        (vec!["--user", " "], "--user: the value is empty"),
    ] {
        let mut args = vec!["scan", "audit", "a.log"];
        args.extend(flags.iter().copied());
        let r = sb.run(&args);
        assert_eq!(r.code, 2, "{flags:?}: {r:?}");
        assert!(r.stderr.contains(want), "{flags:?}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "flags are checked before reading");
    }
    let r = sb.run(&["scan", "audit", "a.log", "nope.log"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.starts_with("nope.log: cannot read"),
        "{}",
        r.stderr
    );
}

/// Real audit log lines from the conformance data (`audit/*.log`,
/// `audit/*.jsonl`), when there are any: every line reads. The data's
/// `audit/` holds policy cases only today, so this says so and passes.
#[test]
fn conformance_logs_read_when_present() {
    let Some(dir) = conformance::conformance_dir("audit") else {
        return;
    };
    let mut logs = conformance::files_ending(&dir, ".log");
    logs.extend(conformance::files_ending(&dir, ".jsonl"));
    if logs.is_empty() {
        eprintln!(
            "NOTICE: no audit log lines (*.log, *.jsonl) in {}; nothing to read",
            dir.display()
        );
        return;
    }
    for log in logs {
        let text = std::fs::read_to_string(&log).expect("read");
        let events = text.lines().filter(|l| !l.trim().is_empty()).count();
        let (code, stdout, stderr) =
            common::seclab(&["scan", "audit", log.to_str().expect("utf-8 path")]);
        assert_eq!(code, 0, "{}: {stderr}", log.display());
        assert!(
            stdout.contains(&format!("{events} event")),
            "{}: {stdout}",
            log.display()
        );
    }
}
