//! Build stages: which instructions belong to which `FROM`, the stage's
//! alias, its base image with the global `ARG` defaults substituted, and
//! the stage it builds on when the base names an earlier alias.

use super::parse::{Dockerfile, Instruction};

/// An image reference as written in `FROM` or `COPY --from=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// The reference after `ARG` substitution.
    pub text: String,
    /// The reference as written.
    pub raw: String,
    /// The repository part (`docker.io/library/python` stays as written:
    /// `python`).
    pub name: String,
    /// The tag, if any.
    pub tag: Option<String>,
    /// The digest (`sha256:...`), if any.
    pub digest: Option<String>,
    /// A variable in the reference had no default to substitute.
    pub unresolved: bool,
}

impl ImageRef {
    /// Splits `text` into name, tag and digest; `raw` is kept for messages.
    pub fn new(raw: &str, text: &str, unresolved: bool) -> Self {
        let (rest, digest) = match text.split_once('@') {
            Some((r, d)) => (r, Some(d.to_string())),
            None => (text, None),
        };
        let slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[slash..].rfind(':') {
            Some(i) => (
                rest[..slash + i].to_string(),
                Some(rest[slash + i + 1..].to_string()),
            ),
            None => (rest.to_string(), None),
        };
        Self {
            text: text.to_string(),
            raw: raw.to_string(),
            name,
            tag,
            digest,
            unresolved,
        }
    }

    /// The last path component of the name, lowercased (`python` for
    /// `docker.io/library/python`).
    pub fn short_name(&self) -> String {
        self.name
            .rsplit('/')
            .next()
            .unwrap_or("")
            .to_ascii_lowercase()
    }

    /// `scratch`, the empty image.
    pub fn is_scratch(&self) -> bool {
        self.name.eq_ignore_ascii_case("scratch")
    }
}

/// One build stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// 0-based stage index.
    pub index: usize,
    /// Index of its `FROM` in [`Dockerfile::instructions`].
    pub from: usize,
    /// Index one past its last instruction.
    pub end: usize,
    /// The base image.
    pub image: ImageRef,
    /// `AS name`, lowercased as the builder does.
    pub alias: Option<String>,
    /// The earlier stage the base names, if it names one.
    pub parent: Option<usize>,
}

/// The stages of a Dockerfile, with the global `ARG`s substituted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stages {
    /// The stages in order (never empty for a parsed Dockerfile).
    pub list: Vec<Stage>,
}

impl Stages {
    /// Computes the stages of a parsed Dockerfile.
    pub fn of(df: &Dockerfile) -> Self {
        let mut args: Vec<(String, Option<String>)> = Vec::new();
        let mut list: Vec<Stage> = Vec::new();
        for (i, ins) in df.instructions.iter().enumerate() {
            if ins.keyword == "ARG" && list.is_empty() {
                args.extend(arg_pairs(ins));
            }
            if ins.keyword != "FROM" {
                continue;
            }
            if let Some(last) = list.last_mut() {
                last.end = i;
            }
            let words: Vec<&str> = ins.rest().split_whitespace().collect();
            let raw = words.first().copied().unwrap_or("");
            let (text, unresolved) = substitute(raw, &args);
            let image = ImageRef::new(raw, &text, unresolved);
            let alias = words.get(2).map(|a| a.to_ascii_lowercase());
            let parent = list
                .iter()
                .position(|s| s.alias.as_deref() == Some(&text.to_ascii_lowercase()));
            list.push(Stage {
                index: list.len(),
                from: i,
                end: df.instructions.len(),
                image,
                alias,
                parent,
            });
        }
        Self { list }
    }

    /// The final stage (the image `docker build` produces).
    pub fn last(&self) -> Option<&Stage> {
        self.list.last()
    }

    /// The stage and every stage it builds on, itself first.
    pub fn chain(&self, index: usize) -> Vec<&Stage> {
        let mut out = Vec::new();
        let mut at = Some(index);
        while let Some(i) = at {
            let Some(s) = self.list.get(i) else { break };
            if out.iter().any(|o: &&Stage| o.index == i) {
                break;
            }
            out.push(s);
            at = s.parent;
        }
        out
    }

    /// The image the stage's chain starts from (the first non-stage base).
    pub fn root_image(&self, index: usize) -> Option<&ImageRef> {
        self.chain(index).last().map(|s| &s.image)
    }

    /// The stage named `name` (an alias or a numeric index) defined before
    /// stage `before`.
    pub fn named(&self, name: &str, before: usize) -> Option<&Stage> {
        let lower = name.to_ascii_lowercase();
        self.list[..before.min(self.list.len())]
            .iter()
            .find(|s| s.alias.as_deref() == Some(&lower))
            .or_else(|| {
                name.parse::<usize>()
                    .ok()
                    .filter(|n| *n < before)
                    .and_then(|n| self.list.get(n))
            })
    }

    /// The stage instruction `i` belongs to.
    pub fn of_instruction(&self, i: usize) -> Option<&Stage> {
        self.list.iter().find(|s| s.from <= i && i < s.end)
    }
}

/// The `NAME[=default]` pairs of an `ARG`, quotes removed from defaults.
pub fn arg_pairs(ins: &Instruction) -> Vec<(String, Option<String>)> {
    super::shell::words(ins.rest())
        .into_iter()
        .map(|w| match w.text.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (w.text, None),
        })
        .collect()
}

/// Substitutes `$NAME`, `${NAME}`, `${NAME:-default}` and `${NAME-default}`
/// from `args` (the later definition wins); returns the text and whether
/// some variable had no value.
pub fn substitute(text: &str, args: &[(String, Option<String>)]) -> (String, bool) {
    let lookup = |name: &str| {
        args.iter()
            .rev()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.clone())
    };
    let mut out = String::new();
    let mut unresolved = false;
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(inner) = after.strip_prefix('{') {
            let Some(close) = inner.find('}') else {
                out.push_str(&rest[i..]);
                return (out, true);
            };
            let expr = &inner[..close];
            let (name, default) = match expr.split_once(":-").or_else(|| expr.split_once('-')) {
                Some((n, d)) => (n, Some(d)),
                None => (expr, None),
            };
            match lookup(name).filter(|v| !v.is_empty()) {
                Some(v) => out.push_str(&v),
                None => match default {
                    Some(d) => out.push_str(d),
                    None => unresolved = true,
                },
            }
            rest = &inner[close + 1..];
        } else {
            let len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            if len == 0 {
                out.push('$');
            } else {
                match lookup(&after[..len]) {
                    Some(v) => out.push_str(&v),
                    None => unresolved = true,
                }
            }
            rest = &after[len..];
        }
    }
    out.push_str(rest);
    (out, unresolved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dockerfile::parse::parse;

    #[test]
    fn image_references_split() {
        let r = ImageRef::new("x", "localhost:5000/app:1.2@sha256:ab", false);
        assert_eq!(r.name, "localhost:5000/app");
        assert_eq!(r.tag.as_deref(), Some("1.2"));
        assert_eq!(r.digest.as_deref(), Some("sha256:ab"));
        let r = ImageRef::new("x", "localhost:5000/app", false);
        assert_eq!((r.name.as_str(), r.tag), ("localhost:5000/app", None));
        assert_eq!(
            ImageRef::new("x", "gcr.io/distroless/static", false).short_name(),
            "static"
        );
    }

    #[test]
    fn global_args_are_substituted_in_from() {
        let df = parse("ARG BASE=python:latest\nARG TAG\nFROM $BASE AS build\nFROM alpine:${TAG:-3.20}\nFROM debian:$TAG\nFROM build\n")
            .expect("parses");
        let st = Stages::of(&df);
        assert_eq!(st.list[0].image.text, "python:latest");
        assert_eq!(st.list[0].alias.as_deref(), Some("build"));
        assert_eq!(st.list[1].image.tag.as_deref(), Some("3.20"));
        assert!(st.list[2].image.unresolved);
        assert_eq!(st.list[3].parent, Some(0));
        assert_eq!(
            st.root_image(3).map(|i| i.text.as_str()),
            Some("python:latest")
        );
        assert_eq!(st.of_instruction(2).map(|s| s.index), Some(0));
        assert_eq!(st.of_instruction(4).map(|s| s.index), Some(2));
    }
}
