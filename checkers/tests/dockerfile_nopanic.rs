//! The Dockerfile parser and rules never panic: every truncation of the
//! samples, and each with one character deleted or one tricky piece
//! inserted at every position, either parses and lints or is a located
//! parse error (line and column within the text).

mod common;

use seclab_checkers::dockerfile::lint_text;

const SAMPLES: &[&str] = &[
    "# syntax=docker/dockerfile:1\n# escape=\\\nARG BASE=python:3.12-slim\nFROM ${BASE} AS build\nRUN --mount=type=secret,id=t apt-get update \\\n  # c\n  && apt-get install -y gcc \"a b\" 2>&1 | tee /log\nCOPY --from=build --chown=1:1 [\"/a\", \"/b/\"]\nRUN <<-EOF\n\techo ${X:-y} 'q' \\\"\n\tEOF\nFROM scratch\nCOPY --from=build / /\nUSER 0:0\nCMD [\"/app\"\n",
    "# escape=`\nFROM mcr.microsoft.com/windows:ltsc2022\nRUN dir C:\\ `\n  && echo hi\nHEALTHCHECK --interval=5s CMD [\"x\"]\nENV A=1 B=\"2 3\" C\nENTRYPOINT x y\n",
    "FROM a@sha256:x\nONBUILD RUN ls\nADD https://x/y.tgz <<E /z\nq\nE\nRUN python -m pip install -e . x==1 && npm install @s/p@1\n",
];

fn sweep(text: &str) {
    let check = |t: &str| match lint_text(t) {
        Ok(hits) => {
            let n = t.split('\n').count();
            for h in hits {
                assert!(
                    h.line >= 1 && h.line <= n,
                    "hit {h:?} outside {n} lines of\n{t}"
                );
            }
        }
        Err(e) => assert!(e.line >= 1 && e.col >= 1, "unlocated {e:?}"),
    };
    let bounds: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(text.len()))
        .collect();
    for &i in &bounds {
        check(&text[..i]);
        for piece in [
            "\\", "`", "\"", "'", "[", "<<", "$", "${", "{", "\n", "--", "=", "#", "\u{e9}",
        ] {
            check(&format!("{}{piece}{}", &text[..i], &text[i..]));
        }
    }
    for w in bounds.windows(2) {
        check(&format!("{}{}", &text[..w[0]], &text[w[1]..]));
    }
}

#[test]
fn built_in_samples_never_panic() {
    for s in SAMPLES {
        sweep(s);
    }
}

#[test]
fn trivy_samples_never_panic() {
    let Some(dir) = common::conformance_dir("trivy-checks/docker") else {
        return;
    };
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("folder")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    files.sort();
    for f in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "yaml"))
    {
        let doc: serde_json::Value =
            serde_saphyr::from_str(&std::fs::read_to_string(f).expect("read")).expect("yaml");
        for kind in ["good", "bad"] {
            for s in doc
                .pointer(&format!("/dockerfile/{kind}"))
                .and_then(serde_json::Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(serde_json::Value::as_str)
            {
                sweep(s);
            }
        }
    }
}
