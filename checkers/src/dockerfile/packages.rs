//! Unpinned packages, as hadolint reads them: `apt-get install` (DL3008),
//! `pip install` (DL3013), `npm install` (DL3016) and `apk add` (DL3018)
//! naming a package without a version. One hit per `RUN` and rule, naming
//! the packages.

use super::parse::Dockerfile;
use super::shell::{Command, Word};
use super::{Hit, Level, run_commands};

/// Whether a file name ends in `.ext` (any case).
fn has_ext(name: &str, ext: &str) -> bool {
    std::path::Path::new(name)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case(ext))
}

/// The packages a package-manager command installs: the words after the
/// subcommand that are not options (nor an option's argument).
fn operands<'a>(words: &'a [Word], with_arg: &[&str]) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut skip = false;
    for w in words {
        let t = w.text.as_str();
        if skip {
            skip = false;
            continue;
        }
        if t.starts_with('-') {
            skip = with_arg.contains(&t);
            continue;
        }
        out.push(t);
    }
    out
}

/// The words after the first word equal to `sub`, when there is one.
fn after<'a>(cmd: &'a Command, sub: &[&str]) -> Option<&'a [Word]> {
    let args = cmd.args();
    let i = args.iter().position(|w| sub.contains(&w.text.as_str()))?;
    args.get(i + 1..)
}

/// `apt-get install` packages without `=version` (a `pkg/release`, a
/// `.deb` file count as chosen).
pub fn apt_unpinned(cmd: &Command) -> Vec<String> {
    if cmd.name() != "apt-get" {
        return Vec::new();
    }
    let Some(rest) = after(cmd, &["install"]) else {
        return Vec::new();
    };
    operands(
        rest,
        &[
            "-t",
            "--target-release",
            "-o",
            "--option",
            "-c",
            "--config-file",
        ],
    )
    .into_iter()
    .filter(|p| !(p.contains('=') || p.contains('/') || has_ext(p, "deb")))
    .map(str::to_string)
    .collect()
}

/// `apk add` packages without a version constraint (`=`, `~`, `<`, `>`).
pub fn apk_unpinned(cmd: &Command) -> Vec<String> {
    if cmd.name() != "apk" {
        return Vec::new();
    }
    let Some(rest) = after(cmd, &["add"]) else {
        return Vec::new();
    };
    operands(
        rest,
        &[
            "-t",
            "--virtual",
            "-X",
            "--repository",
            "--arch",
            "--root",
            "-p",
            "--keys-dir",
            "--repositories-file",
            "--cache-dir",
        ],
    )
    .into_iter()
    .filter(|p| !(p.contains(['=', '~', '<', '>']) || has_ext(p, "apk")))
    .map(str::to_string)
    .collect()
}

/// Whether a command is pip: `pip`, `pip3`, `pip3.12`, or `python -m pip`;
/// returns the words after `pip`.
fn pip_words(cmd: &Command) -> Option<&[Word]> {
    let name = cmd.name();
    let is_pip = name == "pip"
        || name
            .strip_prefix("pip")
            .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'));
    if is_pip {
        return Some(cmd.args());
    }
    if name.starts_with("python") {
        let args = cmd.args();
        if args.first().is_some_and(|w| w.text == "-m")
            && args.get(1).is_some_and(|w| w.text == "pip")
        {
            return args.get(2..);
        }
    }
    None
}

/// pip options that take an argument.
const PIP_WITH_ARG: &[&str] = &[
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
    "-t",
    "--target",
    "--prefix",
    "--root",
    "--trusted-host",
    "--platform",
    "--python-version",
    "--implementation",
    "--abi",
    "--src",
    "--upgrade-strategy",
    "--progress-bar",
    "--cache-dir",
    "--log",
    "--timeout",
    "--retries",
    "--proxy",
    "--cert",
    "--client-cert",
    "--only-binary",
    "--no-binary",
    "--global-option",
    "--config-settings",
];

/// `pip install` requirements without a version specifier; none when the
/// command installs from a requirements or constraints file.
pub fn pip_unpinned(cmd: &Command) -> Vec<String> {
    let Some(words) = pip_words(cmd) else {
        return Vec::new();
    };
    let Some(i) = words.iter().position(|w| w.text == "install") else {
        return Vec::new();
    };
    let rest = &words[i + 1..];
    let from_file = rest.iter().any(|w| {
        let t = w.text.as_str();
        ["-r", "--requirement", "-c", "--constraint"].contains(&t)
            || t.starts_with("--requirement=")
            || t.starts_with("--constraint=")
            || (t.starts_with("-r") && t.len() > 2)
    });
    if from_file {
        return Vec::new();
    }
    let mut editable = false;
    let mut out = Vec::new();
    let mut skip = false;
    for w in rest {
        let t = w.text.as_str();
        if skip {
            skip = false;
            continue;
        }
        if t == "-e" || t == "--editable" {
            editable = true;
            continue;
        }
        if t.starts_with('-') {
            skip = PIP_WITH_ARG.contains(&t);
            continue;
        }
        if std::mem::take(&mut editable) {
            continue;
        }
        let pinned = ["==", ">=", "<=", "~=", "!=", "<", ">", "@"]
            .iter()
            .any(|op| t.contains(op));
        let local = t.starts_with('.')
            || t.contains('/')
            || t.starts_with('$')
            || [".whl", ".tar.gz", ".zip", ".tgz"]
                .iter()
                .any(|s| t.ends_with(s));
        if !pinned && !local {
            out.push(t.to_string());
        }
    }
    out
}

/// `npm install` packages without `@version` (a bare `npm install` of
/// package.json, local paths and `git+...#ref` count as chosen).
pub fn npm_unpinned(cmd: &Command) -> Vec<String> {
    if cmd.name() != "npm" {
        return Vec::new();
    }
    let args = cmd.args();
    if args.first().is_none_or(|w| w.text != "install") {
        return Vec::new();
    }
    operands(&args[1..], &["--prefix", "--registry", "--tag", "--cache"])
        .into_iter()
        .filter(|p| {
            let url = p.contains("://") || p.starts_with("git+") || p.starts_with("git@");
            let local =
                p.starts_with(['.', '/', '~', '$']) || has_ext(p, "tgz") || p.ends_with(".tar.gz");
            let versioned = p.get(1..).is_some_and(|s| s.contains('@'));
            if url {
                !p.contains('#')
            } else {
                !(local || versioned)
            }
        })
        .map(str::to_string)
        .collect()
}

/// The hits of the pinning rules.
pub fn rules(df: &Dockerfile) -> Vec<Hit> {
    type Finder = fn(&Command) -> Vec<String>;
    let table: [(&'static str, Finder, &str, &str); 4] = [
        ("DL3008", apt_unpinned, "apt-get install", "pkg=version"),
        (
            "DL3013",
            pip_unpinned,
            "pip install",
            "pkg==version (or -r requirements.txt)",
        ),
        ("DL3016", npm_unpinned, "npm install", "pkg@version"),
        ("DL3018", apk_unpinned, "apk add", "pkg=version"),
    ];
    let mut hits = Vec::new();
    for ins in df.instructions.iter().filter(|i| i.keyword == "RUN") {
        let cmds = run_commands(ins);
        for (code, finder, what, how) in table {
            let found: Vec<String> = cmds.iter().flat_map(finder).collect();
            if !found.is_empty() {
                hits.push(Hit::at(
                    code,
                    Level::Warning,
                    ins,
                    format!(
                        "{what} without a version for {}: pin each as {how} so a rebuild gets the same software",
                        found.join(", ")
                    ),
                ));
            }
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dockerfile::shell::commands;

    fn first(src: &str, f: fn(&Command) -> Vec<String>) -> Vec<String> {
        commands(src).iter().flat_map(f).collect()
    }

    #[test]
    fn what_counts_as_pinned() {
        assert_eq!(
            first(
                "apt-get install -y -t buster gcc curl=7 ./x.deb foo/bar",
                apt_unpinned
            ),
            vec!["gcc"]
        );
        assert_eq!(
            first(
                "apk add --no-cache -t .deps musl-dev x=1 'y>2' z~3",
                apk_unpinned
            ),
            vec!["musl-dev"]
        );
        assert_eq!(
            first(
                "pip install --no-cache-dir -i http://x flask 'a>=1' -e . ./d x.whl",
                pip_unpinned
            ),
            vec!["flask"]
        );
        assert!(first("pip install flask -r req.txt", pip_unpinned).is_empty());
        assert_eq!(
            first("python3 -m pip install -U pip", pip_unpinned),
            vec!["pip"]
        );
        assert_eq!(
            first(
                "npm install -g express @s/a@1 @s/b git+https://a/b#v1 git+https://a/c ./l",
                npm_unpinned
            ),
            vec!["express", "@s/b", "git+https://a/c"]
        );
        assert!(first("npm install && npm ci && npm i x", npm_unpinned).is_empty());
    }
}
