//! Secrets in an image: hadolint's name heuristic on `ARG`/`ENV` (DL3064,
//! every stage), trivy's DS-0031 (a secret-named `ARG`/`ENV` or a copied
//! secret file in a stage whose layers end up in the final image), and
//! seclab's SL1004: a file `COPY`-ed or `ADD`-ed, then deleted by a later
//! `RUN rm` — the delete only hides it; the earlier layer still holds it.
//!
//! A stage the final image does not build on (a builder whose artefacts
//! are copied out by name) may see secrets: its layers are not shipped.
//! `RUN --mount=type=secret` puts nothing in a layer and is never a hit.

use super::hadolint::{copy_dest, copy_sources};
use super::parse::{Dockerfile, Instruction};
use super::stages::{Stages, arg_pairs};
use super::{Hit, Level, run_commands};

/// hadolint's DL3064 heuristic: the name contains one of these
/// (case-insensitive), or is a known secret name.
const NAME_PARTS: &[&str] = &[
    "api_key",
    "client_key",
    "password",
    "private",
    "secret",
    "token",
    "username",
];

/// Known secret names that hold none of [`NAME_PARTS`].
const KNOWN_NAMES: &[&str] = &["aws_access_key_id"];

/// Whether hadolint's DL3064 heuristic calls `name` a secret.
pub fn dl3064_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    NAME_PARTS.iter().any(|p| lower.contains(p)) || KNOWN_NAMES.contains(&lower.as_str())
}

/// Whether a variable name holds a secret value, for DS-0031: the DL3064
/// heuristic (less `username`) and a few more words, but not a name that
/// points at a file or folder holding it (`DB_PASSWORD_FILE`, the right
/// way to pass one).
pub fn secret_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    if ["_file", "_path", "_dir"]
        .iter()
        .any(|s| lower.ends_with(s))
    {
        return false;
    }
    let extra = ["passwd", "credential", "apikey", "access_key", "ssh_key"];
    NAME_PARTS
        .iter()
        .filter(|p| **p != "username")
        .chain(extra.iter())
        .any(|p| lower.contains(p))
        || KNOWN_NAMES.contains(&lower.as_str())
}

/// Whether a path names a secret file: private keys (`id_rsa`, `*.pem`,
/// `*.key`, ...), `.env` files, credential files of common tools, or a
/// path through `.ssh`, `.aws`, `.gnupg`, `.docker`.
pub fn secret_path(path: &str) -> bool {
    let lower = path.trim_end_matches('/').to_ascii_lowercase();
    let base = lower.rsplit('/').next().unwrap_or("");
    let example = [".example", ".sample", ".template", ".dist", ".pub"]
        .iter()
        .any(|s| base.ends_with(s));
    if example {
        return false;
    }
    let keys = ["id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"]
        .iter()
        .any(|k| base.starts_with(k));
    let env = base == ".env"
        || base.starts_with(".env.")
        || std::path::Path::new(base)
            .extension()
            .is_some_and(|e| e == "env");
    let suffix = [".pem", ".key", ".p12", ".pfx", ".jks", ".keystore", ".kdbx"]
        .iter()
        .any(|s| base.ends_with(s));
    let named = [
        ".npmrc",
        ".pypirc",
        ".netrc",
        ".git-credentials",
        ".dockercfg",
        "kubeconfig",
        "htpasswd",
        ".htpasswd",
    ]
    .contains(&base)
        || base.starts_with("credentials")
        || base.starts_with("secret");
    let dirs = lower
        .split('/')
        .any(|c| [".ssh", ".aws", ".gnupg", ".docker", ".kube"].contains(&c));
    keys || env || suffix || named || dirs
}

/// The variable names an `ENV` sets (`ENV K=V K2=V2` or `ENV K V`).
pub fn env_names(ins: &Instruction) -> Vec<String> {
    let words = super::shell::words(ins.rest());
    if words.first().is_some_and(|w| !w.text.contains('=')) {
        return words.into_iter().take(1).map(|w| w.text).collect();
    }
    words
        .into_iter()
        .filter_map(|w| w.text.split_once('=').map(|(n, _)| n.to_string()))
        .collect()
}

/// The names an `ARG` or `ENV` declares.
fn declared(ins: &Instruction) -> Vec<String> {
    match ins.keyword.as_str() {
        "ARG" => arg_pairs(ins).into_iter().map(|(n, _)| n).collect(),
        "ENV" => env_names(ins),
        _ => Vec::new(),
    }
}

/// The indices of the instructions whose layers (or metadata) end up in
/// the final image: those of the final stage and the stages it builds on.
pub fn shipped(st: &Stages) -> Vec<usize> {
    let Some(last) = st.last() else {
        return Vec::new();
    };
    let mut out: Vec<usize> = st
        .chain(last.index)
        .iter()
        .flat_map(|s| s.from..s.end)
        .collect();
    out.sort_unstable();
    out
}

/// Where a copied source lands, as far as the text says.
fn landed(src: &str, dest: &str, many: bool) -> String {
    let base = src.trim_end_matches('/').rsplit('/').next().unwrap_or(src);
    if many || dest.ends_with('/') {
        format!("{}/{base}", dest.trim_end_matches('/'))
    } else {
        dest.to_string()
    }
}

fn base_name(p: &str) -> &str {
    p.trim_end_matches('/').rsplit('/').next().unwrap_or(p)
}

/// Whether `rm` of `target` removes the copied file `src` that landed at
/// `at`.
fn removes(target: &str, src: &str, at: &str) -> bool {
    let target = target.trim_end_matches('/');
    if let Some(dir) = target.strip_suffix("/*") {
        return at.starts_with(&format!("{dir}/"));
    }
    target == at
        || at.starts_with(&format!("{target}/"))
        || base_name(target) == base_name(at)
        || base_name(target) == base_name(src)
}

/// The hits of the secret rules.
pub fn rules(df: &Dockerfile, st: &Stages) -> Vec<Hit> {
    let mut hits = Vec::new();
    for ins in &df.instructions {
        if declared(ins).iter().any(|n| dl3064_name(n)) {
            hits.push(Hit::at(
                "DL3064",
                Level::Warning,
                ins,
                format!(
                    "{} {}: the name looks like a secret; ARG and ENV values stay in the image's history and config",
                    ins.keyword,
                    ins.rest()
                ),
            ));
        }
    }
    let shipped = shipped(st);
    for (n, &i) in shipped.iter().enumerate() {
        let ins = &df.instructions[i];
        let names: Vec<String> = declared(ins)
            .into_iter()
            .filter(|n| secret_name(n))
            .collect();
        if !names.is_empty() {
            hits.push(Hit::at(
                "DS-0031",
                Level::Error,
                ins,
                format!(
                    "{} {} in the final stage: its value is in the image (docker history, docker inspect); pass the secret with RUN --mount=type=secret, or at run time as a file",
                    ins.keyword,
                    names.join(", ")
                ),
            ));
        }
        if !matches!(ins.keyword.as_str(), "COPY" | "ADD") {
            continue;
        }
        let sources = copy_sources(ins);
        let dest = copy_dest(ins).unwrap_or_default();
        if let Some(secret) = sources.iter().find(|s| secret_path(s)) {
            hits.push(Hit::at(
                "DS-0031",
                Level::Error,
                ins,
                format!(
                    "{} {secret} puts a secret file into a layer of the final image: use RUN --mount=type=secret, or copy it only in a build stage the final stage does not build on",
                    ins.keyword
                ),
            ));
        }
        for src in &sources {
            let at = landed(src, &dest, sources.len() > 1);
            let later = shipped[n + 1..].iter().map(|&j| &df.instructions[j]);
            let rm = later.filter(|r| r.keyword == "RUN").find(|r| {
                run_commands(r).iter().any(|c| {
                    c.name() == "rm"
                        && c.args()
                            .iter()
                            .filter(|w| !w.text.starts_with('-'))
                            .any(|w| removes(&w.text, src, &at))
                })
            });
            if let Some(rm) = rm {
                let (level, what) = if secret_path(src) {
                    (Level::Error, "the secret")
                } else {
                    (Level::Warning, "the file")
                };
                hits.push(Hit::at(
                    "SL1004",
                    level,
                    ins,
                    format!(
                        "{} {src} at line {}, deleted by the RUN at line {}: the delete is a new layer, {what} is still in this one (docker save shows it); don't copy it into the final stage (copy it in a builder stage, or use RUN --mount=type=secret)",
                        ins.keyword, ins.line, rm.line
                    ),
                ));
                break;
            }
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_and_paths() {
        assert!(dl3064_name("MY_PASSWORD_FILE") && dl3064_name("aws_access_key_id"));
        assert!(!dl3064_name("GPG_KEY") && !dl3064_name("PATH"));
        assert!(secret_name("GITHUB_TOKEN") && secret_name("DB_PASSWD"));
        assert!(!secret_name("DB_PASSWORD_FILE") && !secret_name("USERNAME"));
        for p in [
            "id_rsa",
            "/root/.ssh/config",
            "app/.env",
            "tls.key",
            "cert.pem",
            ".npmrc",
            "credentials.json",
        ] {
            assert!(secret_path(p), "{p}");
        }
        for p in [
            "id_rsa.pub",
            ".env.example",
            "app.py",
            "requirements.txt",
            ".",
        ] {
            assert!(!secret_path(p), "{p}");
        }
    }

    #[test]
    fn rm_matches_the_landed_file() {
        assert!(removes("/app/id_rsa", "id_rsa", "/app/id_rsa"));
        assert!(removes("/root/.ssh", "key", "/root/.ssh/key"));
        assert!(removes("id_rsa", "./keys/id_rsa", "/tmp/id_rsa"));
        assert!(!removes("/tmp/build", "app.py", "/app/app.py"));
    }
}
