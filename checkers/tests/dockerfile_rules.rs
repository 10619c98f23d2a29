//! The Dockerfile rules and the `dockerfile` check on the answers a student
//! will try: the wrong ones (each must fail on the rule named, at the line
//! written by hand here) and right ones written differently (each must
//! pass). Expected lines are counted from the literals, not from output.

use seclab_checkers::dockerfile::check::DockerfileCheck;
use seclab_checkers::dockerfile::{Hit, lint_text};
use seclab_checkers::{CheckSpec, Evidence, Status, TextFile};
use serde_json::json;

fn hits(text: &str) -> Vec<Hit> {
    lint_text(text).unwrap_or_else(|e| panic!("parse: {e}"))
}

/// The lines where `code` fires.
fn lines(text: &str, code: &str) -> Vec<usize> {
    hits(text)
        .into_iter()
        .filter(|h| h.code == code)
        .map(|h| h.line)
        .collect()
}

fn check(spec: serde_json::Value) -> CheckSpec {
    let mut wrapped = serde_json::Map::new();
    wrapped.insert("dockerfile".into(), spec);
    serde_json::from_value(serde_json::Value::Object(wrapped)).expect("valid check")
}

fn verdict(spec: &CheckSpec, text: &str) -> seclab_checkers::Verdict {
    let texts = [TextFile {
        path: "Dockerfile".into(),
        text: text.into(),
    }];
    spec.grade(&Evidence {
        texts: &texts,
        ..Evidence::default()
    })
}

// ---- users ---------------------------------------------------------------

#[test]
fn root_user_wrong_answers() {
    // USER root after USER app: the last one counts.
    let t = "FROM python:3.12-slim\nUSER app\nUSER root\nCMD [\"python\"]\n";
    assert_eq!(lines(t, "DL3002"), vec![3]);
    assert_eq!(lines(t, "DS-0002"), vec![3]);
    // USER 0:0 and root:root are root too.
    assert_eq!(lines("FROM a:1\nUSER 0:0\n", "DL3002"), vec![2]);
    assert_eq!(lines("FROM a:1\nUSER root:app\n", "DS-0002"), vec![2]);
    // No USER at all: hadolint is silent, trivy's DS-0002 is not.
    let t = "FROM python:3.12-slim\nCMD [\"python\"]\n";
    assert!(lines(t, "DL3002").is_empty());
    assert_eq!(lines(t, "DS-0002"), vec![1]);
    // Inherited: the final stage builds FROM a stage left as root.
    let t = "FROM alpine:3.20 AS base\nUSER root\nFROM base\nRUN ls\n";
    assert_eq!(lines(t, "DS-0002"), vec![2]);
    // A builder left as root fires DL3002 (per stage) but not DS-0002.
    let t = "FROM golang:1.22 AS build\nUSER root\nFROM scratch\nCOPY --from=build /app /app\nUSER 10001\n";
    assert_eq!(lines(t, "DL3002"), vec![2]);
    assert!(lines(t, "DS-0002").is_empty());
}

#[test]
fn non_root_right_answers_pass_the_check() {
    let spec = check(json!({"require": {"non_root_final": true}}));
    for t in [
        "FROM alpine:3.20\nUSER app\n",
        "FROM alpine:3.20\nUSER 10001:10001\n",
        "FROM alpine:3.20\nUSER root\nRUN apk add --no-cache x=1\nUSER nobody\n",
        "FROM alpine:3.20 AS base\nUSER app\nFROM base\nRUN ls\n",
        "FROM gcr.io/distroless/static:nonroot\nCOPY app /app\n",
    ] {
        let v = verdict(&spec, t);
        assert_eq!(v.status, Status::Pass, "{t}\n{:?}", v.findings);
    }
    let v = verdict(&spec, "FROM alpine:3.20\nUSER app\nUSER 0\n");
    assert_eq!(v.status, Status::Fail);
    let f = v
        .findings
        .iter()
        .find(|f| f.severity == seclab_checkers::Severity::Error)
        .expect("an error");
    assert!(f.message.starts_with("DS-0002 "), "{}", f.message);
    assert_eq!(
        (f.source.as_deref(), f.line, f.col),
        (Some("Dockerfile"), Some(3), Some(1))
    );
}

// ---- base images ---------------------------------------------------------

#[test]
fn base_tags() {
    assert_eq!(lines("FROM python:latest\n", "DL3007"), vec![1]);
    assert_eq!(lines("FROM python\n", "DL3006"), vec![1]);
    assert_eq!(lines("FROM python\n", "DS-0001"), vec![1]);
    // Exempt: scratch, a digest, an earlier stage, a variable (hadolint).
    for t in [
        "FROM scratch\n",
        "FROM python@sha256:0123\n",
        "FROM python:latest@sha256:0123\n",
        "FROM alpine:3.20 AS b\nFROM b\n",
        "FROM $BASE\n",
    ] {
        assert!(
            lines(t, "DL3006").is_empty() && lines(t, "DL3007").is_empty(),
            "{t}"
        );
    }
    // FROM $BASE with ARG default latest: hadolint cannot tell, DS-0001 can.
    let t = "ARG BASE=python:latest\nFROM $BASE\n";
    assert!(lines(t, "DL3007").is_empty());
    assert_eq!(lines(t, "DS-0001"), vec![2]);
    let t = "ARG TAG=3.12-slim\nFROM python:${TAG}\n";
    assert!(lines(t, "DS-0001").is_empty());
    // COPY --from an image (not a stage) is a base too.
    let t = "FROM alpine:3.20\nCOPY --from=nginx /etc/nginx /etc/nginx\n";
    assert_eq!(lines(t, "DS-0001"), vec![2]);
}

#[test]
fn pinned_base_check() {
    let spec = check(json!({"require": {"pinned_base": true}}));
    for t in [
        "FROM python:latest\n",
        "FROM python\n",
        "ARG B=python:latest\nFROM ${B}\n",
    ] {
        assert_eq!(verdict(&spec, t).status, Status::Fail, "{t}");
    }
    for t in [
        "FROM python:3.12-slim\n",
        "FROM python@sha256:abc\n",
        "ARG V=3.12\nFROM python:$V AS b\nFROM b\n",
    ] {
        assert_eq!(verdict(&spec, t).status, Status::Pass, "{t}");
    }
}

#[test]
fn minimal_base_shell_and_toolchain() {
    let t = "FROM python:3.12\nCOPY . .\nRUN pip install --no-cache-dir -r requirements.txt\nUSER app\n";
    assert_eq!(lines(t, "SL1001"), vec![1]);
    assert_eq!(lines(t, "SL1002"), vec![1, 2]);
    assert_eq!(lines(t, "SL1003"), vec![1]);
    assert_eq!(lines(t, "SL1005"), vec![1]);
    let t = "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y --no-install-recommends gcc=12 libpq-dev=15\n";
    assert_eq!(lines(t, "SL1002"), vec![2]);
    assert!(lines(t, "SL1001").is_empty());
    // Installed and removed in one layer: gone.
    let t =
        "FROM alpine:3.20\nRUN apk add --no-cache -t .b gcc=1 musl-dev=1 && make && apk del .b\n";
    assert!(lines(t, "SL1002").is_empty());
    let good = "FROM golang:1.22 AS build\nWORKDIR /src\nCOPY . .\nRUN go build -o /app\nFROM gcr.io/distroless/static-debian12:nonroot\nCOPY --from=build /app /app\nENTRYPOINT [\"/app\"]\n";
    for code in ["SL1001", "SL1002", "SL1003", "SL1005", "DS-0002"] {
        assert!(lines(good, code).is_empty(), "{code}");
    }
    let spec = check(json!({"require": {"multi_stage": true, "minimal_final_base": true}}));
    assert_eq!(verdict(&spec, good).status, Status::Pass);
    // Two stages, but the final one builds FROM the builder.
    let t = "FROM golang:1.22 AS build\nRUN go build -o /app\nFROM build\nUSER app\n";
    assert_eq!(lines(t, "SL1005"), vec![3]);
    // The whole filesystem copied across.
    let t = "FROM golang:1.22 AS build\nFROM scratch\nCOPY --from=build / /\n";
    assert_eq!(lines(t, "SL1005"), vec![3]);
    assert_eq!(verdict(&spec, t).status, Status::Fail);
    // Written differently: alpine final, a numeric stage reference.
    let t = "FROM node:22 AS deps\nRUN npm ci\nFROM node:22-alpine\nCOPY --from=0 /node_modules /app/node_modules\nUSER node\n";
    assert_eq!(
        verdict(&spec, t).status,
        Status::Pass,
        "{:?}",
        verdict(&spec, t).findings
    );
}

// ---- ADD, sudo, exec form, packages ---------------------------------------

#[test]
fn add_sudo_exec_form_and_pins() {
    let t = "FROM a:1\nADD app.py /app/\nADD https://x/y.tgz /y\nADD dist.tar.gz /z\n";
    assert_eq!(lines(t, "DL3020"), vec![2]);
    let t = "FROM a:1\nRUN sudo apt-get update\nRUN echo sudo\nRUN ls | sudo tee /x\n";
    assert_eq!(lines(t, "DL3004"), vec![2, 4]);
    let t =
        "FROM a:1\nCMD python app.py\nENTRYPOINT [\"tini\"]\nHEALTHCHECK CMD curl -f localhost\n";
    assert_eq!(lines(t, "DL3025"), vec![2, 4]);
    let t = "FROM a:1\nRUN apt-get update \\\n && apt-get install -y \\\n    curl=7.88 \\\n    gcc\nRUN apk add --no-cache bash\nRUN pip install flask==3.0 requests\nRUN npm install express@4 && npm install\n";
    assert_eq!(lines(t, "DL3008"), vec![2]);
    assert_eq!(lines(t, "DL3018"), vec![6]);
    assert_eq!(lines(t, "DL3013"), vec![7]);
    assert!(lines(t, "DL3016").is_empty());
    let deny = check(json!({"deny": ["DL3020"]}));
    let v = verdict(&deny, "FROM a:1\nUSER app\nADD . /app\n");
    assert_eq!(v.status, Status::Fail);
    assert_eq!(
        v.findings
            .iter()
            .find(|f| f.severity == seclab_checkers::Severity::Error)
            .and_then(|f| f.line),
        Some(3)
    );
    assert_eq!(
        verdict(&deny, "FROM a:1\nUSER app\nCOPY . /app\n").status,
        Status::Pass
    );
}

// ---- secrets ---------------------------------------------------------------

#[test]
fn secrets_wrong_answers() {
    let spec = check(json!({"require": {"no_secret_in_layers": true}}));
    let wrong = [
        // A secret in ENV / ARG of the final stage.
        ("FROM a:1\nENV API_TOKEN=abc123\nUSER app\n", "DS-0031", 2),
        (
            "FROM a:1\nARG GITHUB_TOKEN\nRUN git clone https://$GITHUB_TOKEN@x/y\nUSER app\n",
            "DS-0031",
            2,
        ),
        // A key copied in.
        (
            "FROM a:1\nCOPY id_rsa /root/.ssh/id_rsa\nUSER app\n",
            "DS-0031",
            2,
        ),
        ("FROM a:1\nCOPY .env /app/\nUSER app\n", "DS-0031", 2),
        // Copied, used, deleted later: still in the COPY's layer.
        (
            "FROM a:1\nCOPY deploy-token.txt /tmp/t\nRUN use /tmp/t\nRUN rm /tmp/t\nUSER app\n",
            "SL1004",
            2,
        ),
        (
            "FROM a:1\nCOPY keys/id_ed25519 /root/.ssh/\nRUN git clone x\nRUN rm -rf /root/.ssh\n",
            "SL1004",
            2,
        ),
    ];
    for (t, code, line) in wrong {
        assert_eq!(lines(t, code), vec![line], "{code} in\n{t}");
        let v = verdict(&spec, t);
        assert_eq!(v.status, Status::Fail, "{t}");
        assert!(
            v.findings
                .iter()
                .any(|f| f.message.starts_with(code) && f.line == Some(line)),
            "{t}\n{:?}",
            v.findings
        );
    }
    let right = [
        // Only the builder stage sees the key.
        "FROM alpine:3.20 AS fetch\nCOPY id_rsa /root/.ssh/id_rsa\nRUN git clone x /src && rm /root/.ssh/id_rsa\nFROM alpine:3.20\nCOPY --from=fetch /src /src\nUSER app\n",
        // A secret mount: nothing lands in a layer.
        "FROM alpine:3.20\nRUN --mount=type=secret,id=token TOKEN=$(cat /run/secrets/token) fetch\nUSER app\n",
        // The path to a mounted secret file is not a secret.
        "FROM alpine:3.20\nENV DB_PASSWORD_FILE=/run/secrets/db\nUSER app\n",
        // Copied and removed in one layer never lands... but COPY is its
        // own layer, so the right answer fetches and deletes in one RUN.
        "FROM alpine:3.20\nRUN wget -q https://x/key -O /tmp/k && use /tmp/k && rm /tmp/k\nUSER app\n",
        "FROM alpine:3.20\nCOPY id_rsa.pub /home/app/.ssh-pub/\nUSER app\n",
    ];
    for t in right {
        let v = verdict(&spec, t);
        assert_eq!(v.status, Status::Pass, "{t}\n{:?}", v.findings);
    }
    // hadolint's DL3064 is name-based, in any stage.
    assert_eq!(
        lines("FROM a:1 AS b\nARG NPM_TOKEN\nFROM b\n", "DL3064"),
        vec![2]
    );
}

// ---- the check itself -------------------------------------------------------

#[test]
fn check_reports_missing_and_unparsable_files() {
    let spec = check(json!({"path": "app/Dockerfile", "require": {"non_root_final": true}}));
    let v = verdict(&spec, "FROM a:1\n");
    assert_eq!(v.status, Status::Fail);
    assert!(
        v.findings[0].message.contains("app/Dockerfile"),
        "{:?}",
        v.findings
    );
    let spec = check(json!({"require": {"non_root_final": true}}));
    let v = verdict(&spec, "FROM a:1\nRUNN x\n");
    assert_eq!(v.status, Status::Fail);
    assert_eq!((v.findings[0].line, v.findings[0].col), (Some(2), Some(1)));
    let bad: DockerfileCheck = serde_json::from_value(json!({"deny": ["DL9999"]})).expect("shape");
    assert!(bad.problems().iter().any(|p| p.contains("DL9999")));
    let empty: DockerfileCheck = serde_json::from_value(json!({})).expect("shape");
    assert!(!empty.problems().is_empty());
    assert!(
        serde_json::from_value::<DockerfileCheck>(json!({"require": {"non_root": true}})).is_err()
    );
    assert_eq!(spec.needs(), vec![seclab_checkers::Need::Workspace]);
}
