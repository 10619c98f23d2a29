//! The image map: `from=to` pairs that substitute local stand-ins for the
//! labs' public images (`--image-map`, `SECLAB_IMAGE_MAP=from=to,...`).

use std::fmt;

/// The environment variable holding the image map.
pub const ENV: &str = "SECLAB_IMAGE_MAP";

/// Image references to rewrite wherever seclab creates a container or builds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageMap {
    pairs: Vec<(String, String)>,
}

impl ImageMap {
    /// An empty map (every reference is used as written).
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses `from=to[,from=to...]` (whitespace around entries ignored; an
    /// empty string is an empty map).
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut map = Self::new();
        for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            map.add(entry)?;
        }
        Ok(map)
    }

    /// Reads `SECLAB_IMAGE_MAP`; unset is an empty map.
    pub fn from_env() -> Result<Self, String> {
        match std::env::var(ENV) {
            Ok(spec) => Self::parse(&spec).map_err(|e| format!("{ENV}: {e}")),
            Err(_) => Ok(Self::new()),
        }
    }

    /// Adds one `from=to` pair (a later pair for the same `from` wins).
    pub fn add(&mut self, pair: &str) -> Result<(), String> {
        let Some((from, to)) = pair.split_once('=') else {
            return Err(format!(
                "image map entry `{pair}` is not FROM=TO (e.g. busybox:1.36=seclab-local/busybox:1.36)"
            ));
        };
        let (from, to) = (from.trim(), to.trim());
        if from.is_empty()
            || to.is_empty()
            || to.contains('=')
            || from.contains(char::is_whitespace)
        {
            return Err(format!(
                "image map entry `{pair}` is not FROM=TO (e.g. busybox:1.36=seclab-local/busybox:1.36)"
            ));
        }
        self.pairs.retain(|(f, _)| f != from);
        self.pairs.push((from.to_owned(), to.to_owned()));
        Ok(())
    }

    /// Adds every pair of `other` (its pairs win).
    pub fn extend(&mut self, other: &ImageMap) {
        for (from, to) in &other.pairs {
            self.pairs.retain(|(f, _)| f != from);
            self.pairs.push((from.clone(), to.clone()));
        }
    }

    /// The pairs, in the order they were added.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// Whether the map has no pair.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The reference to use for `reference`: its mapping, or itself.
    /// `busybox:1.36`, `docker.io/library/busybox:1.36` and
    /// `library/busybox:1.36` are the same image.
    ///
    /// A reference pinned by digest (`python:3.11@sha256:...`) is mapped by
    /// its entry when it has one, else by the entry of the same reference
    /// without the digest: a local stand-in has no registry digest, so the
    /// mapping drops it.
    pub fn map(&self, reference: &str) -> String {
        let find = |r: &str| {
            let wanted = normalise(r);
            self.pairs
                .iter()
                .find(|(from, _)| normalise(from) == wanted)
                .map(|(_, to)| to.clone())
        };
        find(reference)
            .or_else(|| reference.split_once('@').and_then(|(name, _)| find(name)))
            .unwrap_or_else(|| reference.to_owned())
    }

    /// `from (as to)` when mapped, else `from`.
    pub fn display(&self, reference: &str) -> String {
        let to = self.map(reference);
        if to == reference {
            to
        } else {
            format!("{reference} (as {to})")
        }
    }

    /// A Dockerfile with the image of each `FROM` line mapped
    /// (`FROM [--platform=...] image [AS name]`); other lines as they are.
    pub fn rewrite_dockerfile(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for line in text.split_inclusive('\n') {
            out.push_str(&self.rewrite_from_line(line));
        }
        out
    }

    fn rewrite_from_line(&self, line: &str) -> String {
        let trimmed = line.trim_start();
        let Some(first) = trimmed.split_whitespace().next() else {
            return line.to_owned();
        };
        if !first.eq_ignore_ascii_case("FROM") {
            return line.to_owned();
        }
        let indent = &line[..line.len() - trimmed.len()];
        let ending = if line.ends_with("\r\n") {
            "\r\n"
        } else if line.ends_with('\n') {
            "\n"
        } else {
            ""
        };
        let mut words: Vec<String> = trimmed.split_whitespace().map(str::to_owned).collect();
        if let Some(image) = words.iter_mut().skip(1).find(|w| !w.starts_with("--")) {
            *image = self.map(image);
        }
        format!("{indent}{}{ending}", words.join(" "))
    }
}

impl fmt::Display for ImageMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.pairs.iter().map(|(a, b)| format!("{a}={b}")).collect();
        f.write_str(&parts.join(","))
    }
}

/// `docker.io/library/busybox:1.36` → `busybox:1.36`; no tag → `:latest`.
fn normalise(reference: &str) -> String {
    let r = reference
        .strip_prefix("docker.io/")
        .or_else(|| reference.strip_prefix("index.docker.io/"))
        .unwrap_or(reference);
    let r = r.strip_prefix("library/").unwrap_or(r);
    let last = r.rsplit('/').next().unwrap_or(r);
    if last.contains(':') || last.contains('@') {
        r.to_owned()
    } else {
        format!("{r}:latest")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_maps() {
        let m = ImageMap::parse(" busybox:1.36=seclab-local/busybox:1.36 , alpine=local/alpine:3")
            .unwrap();
        assert_eq!(m.map("busybox:1.36"), "seclab-local/busybox:1.36");
        assert_eq!(
            m.map("docker.io/library/busybox:1.36"),
            "seclab-local/busybox:1.36"
        );
        assert_eq!(m.map("alpine:latest"), "local/alpine:3");
        assert_eq!(m.map("busybox:1.35"), "busybox:1.35");
        // Pinned by digest: mapped by the entry without it.
        let pinned = format!("busybox:1.36@sha256:{}", "a".repeat(64));
        assert_eq!(m.map(&pinned), "seclab-local/busybox:1.36");
        assert_eq!(
            m.map(&format!("busybox:1.35@sha256:{}", "a".repeat(64))),
            format!("busybox:1.35@sha256:{}", "a".repeat(64))
        );
        assert_eq!(
            m.display("busybox:1.36"),
            "busybox:1.36 (as seclab-local/busybox:1.36)"
        );
        assert_eq!(m.display("nginx"), "nginx");
        assert_eq!(
            m.to_string(),
            "busybox:1.36=seclab-local/busybox:1.36,alpine=local/alpine:3"
        );
    }

    #[test]
    fn rejects_malformed_entries() {
        for bad in ["busybox", "=x", "x=", "a=b=c", "a b=c"] {
            let err = ImageMap::parse(bad).unwrap_err();
            assert!(err.contains("is not FROM=TO"), "{bad}: {err}");
        }
        assert!(ImageMap::parse("").unwrap().is_empty());
    }

    #[test]
    fn later_pair_wins() {
        let mut m = ImageMap::parse("a=b").unwrap();
        m.extend(&ImageMap::parse("a=c").unwrap());
        assert_eq!(m.map("a"), "c");
        assert_eq!(m.pairs().len(), 1);
    }

    #[test]
    fn rewrites_from_lines_only() {
        let m = ImageMap::parse("busybox:1.36=seclab-local/busybox:1.36").unwrap();
        let text = "# FROM busybox:1.36\nFROM busybox:1.36 AS base\n  from --platform=linux/amd64 busybox:1.36\r\nRUN echo FROM busybox:1.36\nFROM base";
        assert_eq!(
            m.rewrite_dockerfile(text),
            "# FROM busybox:1.36\nFROM seclab-local/busybox:1.36 AS base\n  from --platform=linux/amd64 seclab-local/busybox:1.36\r\nRUN echo FROM busybox:1.36\nFROM base"
        );
    }
}
