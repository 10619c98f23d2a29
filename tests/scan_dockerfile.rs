//! `seclab scan dockerfile` through the real binary: the text line shape
//! `path:line:col: RULE level: message`, the JSON array of `{file, line,
//! column, code, level, message}`, folders, and exit codes (0 clean, 1
//! findings, 2 bad input located at `path:line:col`).

mod common;

use common::{Sandbox, write_files};
use serde_json::Value;

const CLEAN: &str = "FROM golang:1.22 AS build
WORKDIR /src
COPY . .
RUN go build -o /app .
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /app /app
USER 65532
ENTRYPOINT [\"/app\"]
";

const ROOT: &str = "FROM python:latest
USER app
USER root
CMD python app.py
";

#[test]
fn clean_file_exits_0() {
    let sb = Sandbox::new();
    write_files(&sb.work(), &[("Dockerfile", CLEAN)]);
    let r = sb.run(&["scan", "dockerfile", "Dockerfile"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.stdout, "");
}

#[test]
fn findings_in_text_and_json() {
    let sb = Sandbox::new();
    write_files(&sb.work(), &[("app/Dockerfile", ROOT)]);
    let r = sb.run(&["scan", "dockerfile", "app/Dockerfile"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    for want in [
        "app/Dockerfile:1:1: DL3007 warning: ",
        "app/Dockerfile:3:1: DL3002 warning: ",
        "app/Dockerfile:3:1: DS-0002 error: ",
        "app/Dockerfile:4:1: DL3025 warning: ",
    ] {
        assert!(
            r.stdout.lines().any(|l| l.starts_with(want)),
            "{want} in\n{}",
            r.stdout
        );
    }
    let r = sb.run(&["scan", "dockerfile", "--output", "json", "app"]);
    assert_eq!(r.code, 1);
    let rows: Vec<Value> = serde_json::from_str(&r.stdout).expect("JSON array");
    let row = rows.iter().find(|v| v["code"] == "DL3002").expect("DL3002");
    let mut keys: Vec<&str> = row
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["code", "column", "file", "level", "line", "message"]);
    assert_eq!(
        (row["line"].as_u64(), row["level"].as_str()),
        (Some(3), Some("warning"))
    );
    assert!(
        row["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("Dockerfile"))
    );
}

#[test]
fn bad_input_exits_2_located() {
    let sb = Sandbox::new();
    write_files(
        &sb.work(),
        &[
            ("Dockerfile", "FROM a:1\nRUN ls\n  COPPY x /x\n"),
            ("empty/readme.txt", "x"),
        ],
    );
    let r = sb.run(&["scan", "dockerfile", "Dockerfile"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .starts_with("Dockerfile:3:3: unknown instruction `COPPY`"),
        "{}",
        r.stderr
    );
    let r = sb.run(&["scan", "dockerfile", "empty"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let r = sb.run(&["scan", "dockerfile", "missing"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    std::fs::write(sb.work().join("bin.Dockerfile"), [0xff_u8, 0xfe, 0x00]).expect("write");
    let r = sb.run(&["scan", "dockerfile", "bin.Dockerfile"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("UTF-8"), "{}", r.stderr);
}
