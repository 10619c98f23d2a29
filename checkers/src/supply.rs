//! Supply chain: the `images_pinned:` check. Images are pinned by digest
//! (`name@sha256:<64 hex>`, with or without a tag before the `@`), not by
//! a tag a registry can move. Graded on the manifest: a workload's pod
//! template, a Compose service, or every `FROM` of a Dockerfile.
//!
//! A digest names exactly one content; it promises nothing about whether
//! that content is safe, or who built it — signatures and provenance do.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::container::LiveFacts;
use crate::dockerfile::parse::parse;
use crate::dockerfile::stages::{ImageRef, Stages};
use crate::target::Target;
use crate::{Finding, KubeObject, TextFile, Verdict};

/// An `images_pinned:` check as written in lab.yaml: exactly one of
/// `target`, `service`, `dockerfile`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImagesPinnedCheck {
    /// A workload of the workspace manifests (`deployment/web`): every
    /// container, init container and ephemeral container of its pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub target: Option<Target>,
    /// A Compose service's `image:`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The Compose file of `service` (default `compose.yaml`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// A workspace Dockerfile: every `FROM` of an external image (not
    /// `scratch`, not an earlier stage).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dockerfile: Option<String>,
}

const WHY: &str = "a tag can be moved to other content; a digest names exactly one";

impl ImagesPinnedCheck {
    /// A one-line description for listings.
    pub fn describe(&self) -> String {
        let what = match (&self.target, &self.service, &self.dockerfile) {
            (Some(t), _, _) => t.to_string(),
            (None, Some(s), _) => format!("service {s}"),
            (None, None, Some(d)) => d.clone(),
            _ => "nothing".into(),
        };
        format!("{what}: every image pinned by digest")
    }

    /// What is wrong with the check itself (for `lab validate`).
    pub fn problem(&self) -> Option<String> {
        let n = [
            self.target.is_some(),
            self.service.is_some(),
            self.dockerfile.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if n != 1 {
            return Some("images_pinned needs exactly one of target, service, dockerfile".into());
        }
        (self.file.is_some() && self.service.is_none())
            .then(|| "images_pinned: file goes with service".into())
    }
}

/// Why `reference` is not pinned by digest, or `None` when it is.
pub fn unpinned(reference: &str) -> Option<String> {
    if reference.contains('$') || reference.contains("{{") {
        return Some(format!(
            "`{reference}` comes from a variable: its digest cannot be read from the file"
        ));
    }
    let r = ImageRef::new(reference, reference, false);
    let Some(digest) = &r.digest else {
        return Some(match r.tag.as_deref() {
            None | Some("latest") => {
                format!("`{reference}` has no digest, only the moving `latest`")
            }
            Some(tag) => format!("`{reference}` is pinned by the tag `{tag}`, not by digest"),
        });
    };
    let Some(hex) = digest.strip_prefix("sha256:") else {
        return Some(format!(
            "`{reference}`: the digest must be `sha256:` and 64 hex digits"
        ));
    };
    let ok = hex.len() == 64
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    (!ok).then(|| {
        format!("`{reference}`: `{digest}` is not a sha256 digest (64 lowercase hex digits)")
    })
}

/// Compares a pinned reference with the engine's `RepoDigests` of it.
fn compare(reference: &str, live: Option<&LiveFacts>) -> Finding {
    let pinned = reference
        .split_once('@')
        .map(|(_, d)| d)
        .unwrap_or_default();
    match live.and_then(|l| l.repo_digests.get(reference)) {
        None => Finding::info(format!(
            "{reference}: graded on the manifest only (the image is not on the engine to compare)"
        )),
        Some(digests) if digests.is_empty() => Finding::info(format!(
            "{reference}: graded on the manifest only: the image has no registry digest (imported or loaded locally)"
        )),
        Some(digests) if digests.iter().any(|d| d.rsplit('@').next() == Some(pinned)) => {
            Finding::info(format!("{reference}: the engine's image has this digest"))
        }
        Some(digests) => Finding::error(format!(
            "{reference}: the engine's image has another digest ({}): the pin names other content",
            digests.join(", ")
        )),
    }
}

fn verdict(refs: &[(String, String)], what: &str, live: Option<&LiveFacts>) -> Verdict {
    if refs.is_empty() {
        return Verdict::fail(format!("{what} names no image"));
    }
    let mut findings: Vec<Finding> = refs
        .iter()
        .filter_map(|(place, r)| {
            unpinned(r).map(|why| Finding::error(format!("{what}: {place}: {why} ({WHY})")))
        })
        .collect();
    if findings.is_empty() {
        findings.extend(refs.iter().map(|(_, r)| compare(r, live)));
    }
    if findings
        .iter()
        .any(|f| f.severity == crate::Severity::Error)
    {
        return Verdict::from_findings(findings);
    }
    {
        let mut v = Verdict::pass();
        v.findings = findings;
        v.findings.push(Finding::info(
            "a digest says which content runs, not that it is safe or who built it (signatures and provenance do)",
        ));
        v
    }
}

/// Grades the check on the workspace manifests, Compose files and text
/// files, and on the engine's `RepoDigests` of the images when the live
/// facts have them.
pub fn grade(
    check: &ImagesPinnedCheck,
    workspace: &[KubeObject],
    compose: &[KubeObject],
    texts: &[TextFile],
    live: Option<&LiveFacts>,
) -> Verdict {
    match references(check, workspace, compose, texts) {
        Ok((refs, what)) => verdict(&refs, &what, live),
        Err(v) => v,
    }
}

/// The image references the check covers, each with where it is written,
/// and how messages name the whole (`deployment/web`); `Err` the failing
/// verdict when they cannot be read.
pub fn references(
    check: &ImagesPinnedCheck,
    workspace: &[KubeObject],
    compose: &[KubeObject],
    texts: &[TextFile],
) -> Result<(Vec<(String, String)>, String), Verdict> {
    if let Some(t) = &check.target {
        let found = t.find_in(None, workspace);
        let Some(obj) = found.first() else {
            return Err(t.not_found(None, workspace));
        };
        let Some(pod) = obj.pod_template() else {
            return Err(Verdict::fail(format!("{t} has no pod template")));
        };
        let mut refs = Vec::new();
        for list in ["initContainers", "containers", "ephemeralContainers"] {
            for c in pod
                .spec
                .get(list)
                .and_then(|v| v.as_array())
                .into_iter()
                .flatten()
            {
                let name = c.get("name").and_then(|v| v.as_str()).unwrap_or("?");
                let image = c.get("image").and_then(|v| v.as_str()).unwrap_or_default();
                refs.push((format!("{list} {name}"), image.to_string()));
            }
        }
        return Ok((refs, t.to_string()));
    }
    if let Some(service) = &check.service {
        let file = check.file.as_deref().unwrap_or("compose.yaml");
        let doc = compose.iter().find(|o| {
            o.source
                .as_deref()
                .is_some_and(|s| s == file || s.ends_with(&format!("/{file}")))
        });
        let Some(doc) = doc else {
            return Err(Verdict::fail(format!(
                "{file}: no such Compose file in the workspace"
            )));
        };
        let Some(svc) = doc.value.pointer(&format!("/services/{service}")) else {
            return Err(Verdict::fail(format!("{file}: no service `{service}`")));
        };
        let Some(image) = svc.get("image").and_then(|v| v.as_str()) else {
            return Err(Verdict::fail(format!(
                "service {service} has no `image:` (built from a Dockerfile: pin its FROM lines)"
            )));
        };
        return Ok((
            vec![("image".into(), image.to_string())],
            format!("service {service}"),
        ));
    }
    let Some(path) = &check.dockerfile else {
        return Err(Verdict::fail("images_pinned names nothing to check"));
    };
    let wanted = path.trim_start_matches("./");
    let Some(file) = texts.iter().find(|t| t.path == wanted) else {
        return Err(Verdict::fail(format!(
            "{path}: no such file in the workspace"
        )));
    };
    let df = match parse(&file.text) {
        Ok(df) => df,
        Err(e) => return Err(crate::dockerfile::check::does_not_parse(file, &e)),
    };
    let refs: Vec<(String, String)> = Stages::of(&df)
        .list
        .iter()
        .filter(|s| s.parent.is_none() && !s.image.is_scratch())
        .map(|s| {
            let line = df.instructions[s.from].line;
            let shown = if s.image.unresolved {
                &s.image.raw
            } else {
                &s.image.text
            };
            (format!("line {line} FROM"), shown.clone())
        })
        .collect();
    Ok((refs, path.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn references() {
        assert_eq!(unpinned(&format!("python:3.11@sha256:{D}")), None);
        assert_eq!(unpinned(&format!("python@sha256:{D}")), None);
        assert_eq!(unpinned(&format!("localhost:5000/app@sha256:{D}")), None);
        assert!(unpinned("python:3.11").unwrap().contains("tag `3.11`"));
        assert!(unpinned("localhost:5000/app").unwrap().contains("latest"));
        assert!(unpinned("python:latest").unwrap().contains("latest"));
        assert!(unpinned("python@sha256:abc").unwrap().contains("64"));
        assert!(
            unpinned(&format!("python@sha512:{D}"))
                .unwrap()
                .contains("sha256")
        );
        assert!(unpinned(&format!("python@sha256:{}", D.to_uppercase())).is_some());
        assert!(unpinned("${BASE}").unwrap().contains("variable"));
    }

    fn text(t: &str) -> Vec<TextFile> {
        vec![TextFile {
            path: "Dockerfile".into(),
            text: t.into(),
        }]
    }

    #[test]
    fn dockerfiles() {
        let check = ImagesPinnedCheck {
            dockerfile: Some("Dockerfile".into()),
            ..ImagesPinnedCheck::default()
        };
        let good = format!(
            "FROM python:3.11@sha256:{D} AS build\nFROM build\nFROM scratch\nCOPY --from=build /a /a\n"
        );
        assert!(grade(&check, &[], &[], &text(&good), None).passed());
        let bad = format!("FROM python:3.11@sha256:{D} AS build\nFROM gcr.io/distroless/python3\n");
        let v = grade(&check, &[], &[], &text(&bad), None);
        assert!(!v.passed());
        assert!(
            v.findings[0].message.contains("line 2 FROM"),
            "{:?}",
            v.findings
        );
        let v = grade(&check, &[], &[], &text("FROM \"\n"), None);
        assert!(!v.passed());
        assert!(!grade(&check, &[], &[], &[], None).passed());
    }

    #[test]
    fn workloads_and_services() {
        let obj = KubeObject::new(serde_json::json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"template": {"spec": {
                "initContainers": [{"name": "init", "image": format!("busybox@sha256:{D}")}],
                "containers": [{"name": "app", "image": format!("app:1@sha256:{D}")},
                               {"name": "side", "image": "envoy:v1.30"}]
            }}}
        }));
        let check = ImagesPinnedCheck {
            target: Some(Target::parse("deployment/web").unwrap()),
            ..ImagesPinnedCheck::default()
        };
        let v = grade(&check, std::slice::from_ref(&obj), &[], &[], None);
        assert_eq!(v.findings.len(), 1, "{:?}", v.findings);
        assert!(v.findings[0].message.contains("containers side"));
        let mut compose = KubeObject::new(serde_json::json!({
            "services": {"app": {"image": format!("app@sha256:{D}")}, "db": {"image": "postgres:16"}}
        }));
        compose.source = Some("compose.yaml".into());
        let svc = |s: &str| ImagesPinnedCheck {
            service: Some(s.into()),
            ..ImagesPinnedCheck::default()
        };
        assert!(grade(&svc("app"), &[], std::slice::from_ref(&compose), &[], None).passed());
        assert!(!grade(&svc("db"), &[], std::slice::from_ref(&compose), &[], None).passed());
        assert!(!grade(&svc("nope"), &[], std::slice::from_ref(&compose), &[], None).passed());
        assert!(ImagesPinnedCheck::default().problem().is_some());

        // Live: the engine's RepoDigests, when it has the image.
        let pinned = format!("app@sha256:{D}");
        let mut live = LiveFacts::default();
        live.repo_digests.insert(
            pinned.clone(),
            vec![format!("registry.example/app@sha256:{D}")],
        );
        let one = std::slice::from_ref(&compose);
        assert!(grade(&svc("app"), &[], one, &[], Some(&live)).passed());
        live.repo_digests.insert(
            pinned.clone(),
            vec![format!("app@sha256:{}", "f".repeat(64))],
        );
        let v = grade(&svc("app"), &[], one, &[], Some(&live));
        assert!(!v.passed());
        assert!(
            v.findings[0].message.contains("another digest"),
            "{:?}",
            v.findings
        );
        live.repo_digests.insert(pinned, Vec::new());
        let v = grade(&svc("app"), &[], one, &[], Some(&live));
        assert!(v.passed());
        assert!(
            v.findings[0].message.contains("no registry digest"),
            "{:?}",
            v.findings
        );
        let v = grade(&svc("app"), &[], one, &[], None);
        assert!(
            v.findings[0].message.contains("manifest only"),
            "{:?}",
            v.findings
        );
        assert!(svc("x").problem().is_none());
    }
}
