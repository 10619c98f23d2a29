//! Image references as a pod names them and as lab.yaml keys its image
//! facts, and which key's facts describe which image.
//!
//! A reference is `[registry/]repository[:tag][@digest]`. Docker Hub names
//! are normalised the way the container runtime does: `nginx:1.27`,
//! `docker.io/nginx:1.27`, `index.docker.io/library/nginx:1.27` and
//! `docker.io/library/nginx:1.27` are one image. A reference without tag
//! and digest means `:latest`.
//!
//! A lab.yaml key is a reference whose tag may be a glob (`*` any run of
//! characters, `?` one): `nginxinc/nginx-unprivileged:1.27*`. A key matches
//! an image of the same repository when
//! - the key has a digest: the image has that digest (tag ignored, as the
//!   runtime ignores a tag next to a digest);
//! - else the image has a tag that matches the key's tag (a digest next to
//!   the tag does not matter: `repo:1.27@sha256:…` gets `repo:1.27`'s facts,
//!   trusting the digest to be that tag's, which offline cannot be checked).
//!
//! An image pinned by digest alone (`repo@sha256:…`) matches only keys with
//! that digest: nothing says which tag it is. When several keys match, the
//! most specific wins: a digest, then an exact tag, then the glob with the
//! most literal characters (ties: the key that sorts first).

use std::fmt;

/// A parsed image reference (or lab.yaml image key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// The repository with its registry, Docker Hub names shortened
    /// (`nginx`, `nginxinc/nginx-unprivileged`, `ghcr.io/org/app`).
    pub repository: String,
    /// The tag (a glob in a key); `latest` when neither tag nor digest is
    /// written; `None` for a reference pinned by digest alone.
    pub tag: Option<String>,
    /// `algorithm:hex`, when pinned.
    pub digest: Option<String>,
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

fn is_glob(s: &str) -> bool {
    s.contains(['*', '?'])
}

/// Parses a reference. `glob_tag` allows `*` and `?` in the tag (lab.yaml
/// keys). The error says what is wrong.
pub fn parse(reference: &str, glob_tag: bool) -> Result<ImageRef, String> {
    let s = reference;
    if s.is_empty() {
        return Err("an empty image reference".into());
    }
    if s.chars().any(char::is_whitespace) {
        return Err(format!("image reference {s:?} contains whitespace"));
    }
    let (rest, digest) = match s.split_once('@') {
        Some((r, d)) => {
            let valid = d.split_once(':').is_some_and(|(alg, hex)| {
                !alg.is_empty()
                    && alg.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b"+._-".contains(&b)
                    })
                    && hex.len() >= 32
                    && hex.bytes().all(|b| b.is_ascii_hexdigit())
            });
            if !valid {
                return Err(format!(
                    "image reference {s:?}: the digest {d:?} is not of the form sha256:<hex>"
                ));
            }
            (r, Some(d.to_owned()))
        }
        None => (s, None),
    };
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => {
            let i = last_slash + i;
            (&rest[..i], Some(&rest[i + 1..]))
        }
        None => (rest, None),
    };
    if let Some(t) = tag {
        let first_ok = t.bytes().next().is_some_and(|b| {
            b.is_ascii_alphanumeric() || b == b'_' || (glob_tag && b"*?".contains(&b))
        });
        let rest_ok = t.bytes().all(|b| {
            b.is_ascii_alphanumeric() || b"_.-".contains(&b) || (glob_tag && b"*?".contains(&b))
        });
        if !first_ok || !rest_ok || t.len() > 128 {
            return Err(format!(
                "image reference {s:?}: the tag {t:?} is not a valid tag (letters, digits, `_`, `.`, `-`{}; at most 128)",
                if glob_tag {
                    ", and the globs `*` `?`"
                } else {
                    ""
                }
            ));
        }
        if digest.is_some() && is_glob(t) {
            return Err(format!(
                "image key {s:?}: a glob tag next to a digest means nothing; the digest alone names the image"
            ));
        }
    }
    if name.is_empty() || name.split('/').any(str::is_empty) {
        return Err(format!(
            "image reference {s:?} has an empty repository name"
        ));
    }
    if is_glob(name) {
        return Err(format!(
            "image key {s:?}: globs are allowed in the tag only (`repo:1.27*`), not in the repository"
        ));
    }
    let (domain, path) = match name.split_once('/') {
        Some((d, p)) if d.contains(['.', ':']) || d == "localhost" => (Some(d), p),
        _ => (None, name),
    };
    let repository = match domain {
        None | Some("docker.io" | "index.docker.io") => match path.strip_prefix("library/") {
            Some(short) if !short.contains('/') => short.to_owned(),
            _ => path.to_owned(),
        },
        Some(d) => format!("{d}/{path}"),
    };
    let tag = match (tag, &digest) {
        (Some(t), _) => Some(t.to_owned()),
        (None, None) => Some("latest".to_owned()),
        (None, Some(_)) => None,
    };
    Ok(ImageRef {
        repository,
        tag,
        digest,
    })
}

/// Whether `text` matches the glob `pattern` (`*` any run, `?` one char).
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// How specifically `key` describes `image`, or `None` when it does not
/// match: larger is more specific.
pub fn specificity(key: &ImageRef, image: &ImageRef) -> Option<(u8, usize)> {
    if key.repository != image.repository {
        return None;
    }
    if let Some(d) = &key.digest {
        return (image.digest.as_ref() == Some(d)).then_some((3, 0));
    }
    let pattern = key.tag.as_deref()?;
    let tag = image.tag.as_deref()?;
    if !glob_match(pattern, tag) {
        return None;
    }
    if is_glob(pattern) {
        Some((1, pattern.chars().filter(|c| !"*?".contains(*c)).count()))
    } else {
        Some((2, 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> ImageRef {
        parse(s, false).expect(s)
    }

    #[test]
    fn docker_hub_names_normalise() {
        for s in [
            "nginx:1.27",
            "docker.io/nginx:1.27",
            "docker.io/library/nginx:1.27",
            "index.docker.io/library/nginx:1.27",
            "library/nginx:1.27",
        ] {
            assert_eq!(r(s).repository, "nginx", "{s}");
            assert_eq!(r(s).tag.as_deref(), Some("1.27"), "{s}");
        }
        assert_eq!(
            r("docker.io/nginxinc/nginx-unprivileged:1.27").repository,
            "nginxinc/nginx-unprivileged"
        );
        // Another registry keeps its name; a port is not a tag.
        let g = r("localhost:5000/app");
        assert_eq!(
            (g.repository.as_str(), g.tag.as_deref()),
            ("localhost:5000/app", Some("latest"))
        );
        assert_eq!(r("ghcr.io/library/x:1").repository, "ghcr.io/library/x");
        assert_eq!(r("busybox").tag.as_deref(), Some("latest"));
    }

    #[test]
    fn digests_are_kept_and_a_digest_alone_has_no_tag() {
        let d = format!("sha256:{}", "a".repeat(64));
        let x = r(&format!("nginx:1.27@{d}"));
        assert_eq!(x.tag.as_deref(), Some("1.27"));
        assert_eq!(x.digest.as_deref(), Some(d.as_str()));
        let y = r(&format!("nginx@{d}"));
        assert_eq!(y.tag, None);
        assert!(parse("nginx@sha256:xyz", false).is_err());
        assert!(parse("nginx@1.27", false).is_err());
    }

    #[test]
    fn bad_references_are_errors() {
        for bad in [
            "",
            "nginx:",
            ":1.27",
            "a b:1",
            "nginx:-x",
            "nginx:1.27*",
            "a//b:1",
        ] {
            assert!(parse(bad, false).is_err(), "{bad:?}");
        }
        assert!(parse("nginx:1.27*", true).is_ok());
        assert!(parse("ngin*:1.27", true).is_err());
        assert!(parse(&format!("nginx:1.*@sha256:{}", "a".repeat(64)), true).is_err());
    }

    #[test]
    fn globs() {
        assert!(glob_match("1.27*", "1.27"));
        assert!(glob_match("1.27*", "1.27.3-alpine"));
        assert!(!glob_match("1.27*", "1.2"));
        assert!(!glob_match("1.27*", "1.28"));
        assert!(glob_match("1.2?", "1.27"));
        assert!(!glob_match("1.2?", "1.270"));
        assert!(glob_match("*-alpine", "1.27-alpine"));
        assert!(!glob_match("*-alpine", "1.27-alpine-slim"));
        assert!(glob_match("*", ""));
        assert!(glob_match("a*b*c", "axxbyyc"));
        assert!(!glob_match("a*b*c", "axxbyy"));
    }

    #[test]
    fn the_most_specific_key_wins() {
        let k = |s: &str| parse(s, true).expect(s);
        let d = format!("sha256:{}", "b".repeat(64));
        let image = r(&format!("nginx:1.27.3@{d}"));
        let digest = specificity(&k(&format!("nginx@{d}")), &image);
        let exact = specificity(&k("nginx:1.27.3"), &image);
        let long = specificity(&k("nginx:1.27*"), &image);
        let short = specificity(&k("nginx:1*"), &image);
        assert!(
            digest > exact && exact > long && long > short,
            "{digest:?} {exact:?} {long:?} {short:?}"
        );
        assert_eq!(specificity(&k("nginx:1.28*"), &image), None);
        assert_eq!(specificity(&k("other:1.27.3"), &image), None);
        // A digest alone matches only its digest.
        let pinned = r(&format!("nginx@{d}"));
        assert_eq!(specificity(&k("nginx:*"), &pinned), None);
        assert!(specificity(&k(&format!("nginx:1.27@{d}")), &pinned).is_some());
        let other = format!("sha256:{}", "c".repeat(64));
        assert_eq!(specificity(&k(&format!("nginx@{other}")), &image), None);
    }
}
