//! The secret search: what an `image:` check's `no_secret` looks for (a
//! lab flag, a literal or a regex), compiled to a byte pattern the Docker
//! shell runs over every file of every layer (and over the members of a
//! gzip or tar file, one level deep), and the pure search of the image
//! config's Env and its history.

use regex::bytes::Regex;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::HistoryStep;

/// What to look for, as written in lab.yaml: exactly one of the three.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretSpec {
    /// A flag the lab plants (`flag(name="layer-secret")` in a start
    /// template): this student's value of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flag: Option<String>,
    /// A fixed string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub literal: Option<String>,
    /// A regular expression (Rust `regex` syntax), over bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
}

impl SecretSpec {
    /// The key hits are filed under (`flag:layer-secret`).
    pub fn key(&self) -> String {
        match (&self.flag, &self.literal, &self.regex) {
            (Some(f), _, _) => format!("flag:{f}"),
            (None, Some(l), _) => format!("literal:{l}"),
            (None, None, Some(r)) => format!("regex:{r}"),
            (None, None, None) => "none".into(),
        }
    }

    /// How it reads in a message (`the flag layer-secret`).
    pub fn describe(&self) -> String {
        match (&self.flag, &self.literal, &self.regex) {
            (Some(f), _, _) => format!("the flag {f}"),
            (None, Some(_), _) => "the secret".into(),
            (None, None, Some(r)) => format!("a match of /{r}/"),
            (None, None, None) => "nothing".into(),
        }
    }

    /// What is wrong with it: not exactly one of flag, literal, regex, or
    /// a regex that does not compile.
    pub fn problem(&self) -> Option<String> {
        let set = [
            self.flag.is_some(),
            self.literal.is_some(),
            self.regex.is_some(),
        ];
        if set.iter().filter(|s| **s).count() != 1 {
            return Some("no_secret needs exactly one of flag, literal, regex".into());
        }
        if let Some(r) = &self.regex
            && let Err(e) = Regex::new(r)
        {
            return Some(format!("no_secret.regex does not compile: {e}"));
        }
        if self.literal.as_deref() == Some("") || self.flag.as_deref() == Some("") {
            return Some("no_secret: an empty secret matches everything".into());
        }
        None
    }

    /// The pattern to search for; `flag_value` gives a flag's value for
    /// this student. `None` when the spec has a [`SecretSpec::problem`].
    pub fn needle(&self, flag_value: &dyn Fn(&str) -> String) -> Option<Needle> {
        if self.problem().is_some() {
            return None;
        }
        let pattern = match (&self.flag, &self.literal, &self.regex) {
            (Some(f), _, _) => regex::escape(&flag_value(f)),
            (None, Some(l), _) => regex::escape(l),
            (None, None, Some(r)) => r.clone(),
            (None, None, None) => return None,
        };
        Some(Needle {
            key: self.key(),
            re: Regex::new(&pattern).ok()?,
        })
    }
}

/// A compiled pattern with the key its hits are filed under.
#[derive(Debug, Clone)]
pub struct Needle {
    /// The spec's key.
    pub key: String,
    re: Regex,
}

impl Needle {
    /// Whether `bytes` hold the secret.
    pub fn found_in(&self, bytes: &[u8]) -> bool {
        self.re.is_match(bytes)
    }
}

/// Where a secret was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SecretHit {
    /// The spec's key ([`SecretSpec::key`]).
    pub key: String,
    /// In a file of this layer (0 the lowest); `None`: in the config.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<usize>,
    /// The file (`/tmp/token`), or `Env`, or `history step N`.
    pub path: String,
    /// The member of that file (a gzip or tar archive) that holds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
}

/// Searches the config's Env and the history's instructions.
pub fn search_config(
    needles: &[Needle],
    env: &[String],
    history: &[HistoryStep],
) -> Vec<SecretHit> {
    let mut out = Vec::new();
    for n in needles {
        for e in env {
            if n.found_in(e.as_bytes()) {
                let name = e.split_once('=').map_or(e.as_str(), |(k, _)| k);
                out.push(SecretHit {
                    key: n.key.clone(),
                    layer: None,
                    path: format!("Env {name}"),
                    member: None,
                });
            }
        }
        for (i, h) in history.iter().enumerate() {
            if n.found_in(h.created_by.as_bytes()) {
                out.push(SecretHit {
                    key: n.key.clone(),
                    layer: None,
                    path: format!("history step {} ({})", i + 1, short(&h.created_by)),
                    member: None,
                });
            }
        }
    }
    out
}

/// An instruction cut to 60 characters, the secret's part not shown whole.
fn short(s: &str) -> String {
    let s = s
        .trim_start_matches("/bin/sh -c ")
        .trim_start_matches("#(nop) ")
        .trim();
    let mut out: String = s.chars().take(60).collect();
    if s.chars().count() > 60 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flag_is_searched_as_its_value() {
        let spec = SecretSpec {
            flag: Some("layer-secret".into()),
            ..SecretSpec::default()
        };
        let n = spec.needle(&|name| format!("{name}-v.1")).expect("valid");
        assert!(n.found_in(b"token=layer-secret-v.1\n"));
        // The dot is literal, not any character.
        assert!(!n.found_in(b"layer-secret-vx1"));
        assert_eq!(n.key, "flag:layer-secret");
    }

    #[test]
    fn env_and_history_hits() {
        let spec = SecretSpec {
            literal: Some("s3cr3t".into()),
            ..SecretSpec::default()
        };
        let n = spec.needle(&|_| String::new()).expect("valid");
        let env = vec!["PATH=/bin".into(), "TOKEN=s3cr3t".into()];
        let history = vec![HistoryStep {
            created_by: "/bin/sh -c #(nop)  ARG TOKEN=s3cr3t".into(),
            empty_layer: true,
        }];
        let hits = search_config(&[n], &env, &history);
        let paths: Vec<&str> = hits.iter().map(|h| h.path.as_str()).collect();
        assert_eq!(paths, ["Env TOKEN", "history step 1 (ARG TOKEN=s3cr3t)"]);
    }

    #[test]
    fn specs_with_problems() {
        let none = SecretSpec::default();
        assert!(none.problem().is_some());
        let two = SecretSpec {
            flag: Some("a".into()),
            literal: Some("b".into()),
            ..SecretSpec::default()
        };
        assert!(two.problem().is_some());
        let bad = SecretSpec {
            regex: Some("(".into()),
            ..SecretSpec::default()
        };
        assert!(bad.problem().unwrap().contains("does not compile"));
        assert!(bad.needle(&|_| String::new()).is_none());
    }
}
