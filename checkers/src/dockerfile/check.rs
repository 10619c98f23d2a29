//! The lab's `dockerfile` check: the workspace's Dockerfile, linted with
//! every rule of [`super`], fails when a rule the lab denies fires, or a
//! property the lab requires does not hold. Each failure names the rule
//! and `path:line:col`; the other rules' errors and warnings come along as
//! warnings, so the student sees them without failing on them.
//!
//! ```yaml
//! - dockerfile:
//!     path: Dockerfile            # default
//!     require: {non_root_final: true, multi_stage: true}
//!     deny: [DL3007, DL3020]
//! ```

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Level, is_rule, lint_text};
use crate::{Finding, TextFile, Verdict};

/// Properties of the final image a lab can require, each checked by rules.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "each is an independent lab.yaml switch: `require: {non_root_final: true}`"
)]
pub struct Requirements {
    /// The final image runs as a non-root user: its last USER (inherited
    /// through `FROM <stage>`) is set and is not root/0 (DS-0002).
    #[serde(default)]
    pub non_root_final: bool,
    /// A real multi-stage build: two stages or more, the final one on a
    /// fresh base, copying named artefacts from an earlier stage (SL1005).
    #[serde(default)]
    pub multi_stage: bool,
    /// The final stage builds on a minimal base: scratch, distroless,
    /// Chainguard, alpine, busybox, a -slim/-minimal/-micro variant (SL1001).
    #[serde(default)]
    pub minimal_final_base: bool,
    /// Every base image (and `COPY --from=<image>`) names a tag other than
    /// latest, or a digest, with the ARG defaults substituted (DS-0001).
    #[serde(default)]
    pub pinned_base: bool,
    /// No secret in a layer of the final image: no secret-named ARG/ENV in
    /// the final stage, no secret file copied into it, no file copied and
    /// deleted in a later layer (DS-0031, SL1004). A builder stage the
    /// final one does not build on may see secrets; RUN
    /// --mount=type=secret is fine.
    #[serde(default)]
    pub no_secret_in_layers: bool,
    /// No compiler, `-dev` package or SDK base in the final stage, and no
    /// whole build context in a single-stage build (SL1002).
    #[serde(default)]
    pub no_toolchain_final: bool,
    /// No shell in the final image: scratch, distroless (not `:debug`) or
    /// Chainguard (not `-dev`) (SL1003).
    #[serde(default)]
    pub no_shell_final: bool,
}

impl Requirements {
    /// `(requirement name, the rules that break it)` for each requirement
    /// that is on.
    pub fn rules(&self) -> Vec<(&'static str, &'static [&'static str])> {
        let all: [(bool, &'static str, &'static [&'static str]); 7] = [
            (self.non_root_final, "non_root_final", &["DS-0002"]),
            (self.multi_stage, "multi_stage", &["SL1005"]),
            (self.minimal_final_base, "minimal_final_base", &["SL1001"]),
            (self.pinned_base, "pinned_base", &["DS-0001"]),
            (
                self.no_secret_in_layers,
                "no_secret_in_layers",
                &["DS-0031", "SL1004"],
            ),
            (self.no_toolchain_final, "no_toolchain_final", &["SL1002"]),
            (self.no_shell_final, "no_shell_final", &["SL1003"]),
        ];
        all.into_iter()
            .filter(|(on, _, _)| *on)
            .map(|(_, name, rules)| (name, rules))
            .collect()
    }
}

fn default_path() -> String {
    "Dockerfile".into()
}

/// A `dockerfile:` check in lab.yaml.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DockerfileCheck {
    /// The Dockerfile, relative to the workspace.
    #[serde(default = "default_path")]
    pub path: String,
    /// Rule ids (DL*, DS-*, SL*) that fail the check when they fire.
    #[serde(default)]
    pub deny: Vec<String>,
    /// Properties the final image must have.
    #[serde(default)]
    pub require: Requirements,
}

impl DockerfileCheck {
    /// A one-line description for listings.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = self
            .require
            .rules()
            .iter()
            .map(|(n, _)| n.replace('_', " "))
            .collect();
        if !self.deny.is_empty() {
            parts.push(format!("none of {}", self.deny.join(", ")));
        }
        format!("{}: {}", self.path, parts.join(", "))
    }

    /// What is wrong with the check as written: an unknown rule id, or
    /// nothing to check.
    pub fn problems(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .deny
            .iter()
            .filter(|c| !is_rule(c))
            .map(|c| {
                format!(
                    "dockerfile check: unknown rule `{c}` in deny (known: {})",
                    super::RULES
                        .iter()
                        .map(|r| r.0)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
            .collect();
        if self.deny.is_empty() && self.require.rules().is_empty() {
            out.push("dockerfile check: neither deny nor require: it would always pass".into());
        }
        if self.path.trim().is_empty() {
            out.push("dockerfile check: empty path".into());
        }
        out
    }
}

/// The failing verdict of a workspace Dockerfile that does not parse,
/// located at `path:line:col`.
pub fn does_not_parse(file: &TextFile, e: &super::parse::ParseError) -> Verdict {
    let mut f = Finding::error(format!("the Dockerfile does not parse: {}", e.message));
    f.source = Some(file.path.clone());
    f.line = Some(e.line);
    f.col = Some(e.col);
    Verdict::from_findings(vec![f])
}

/// Grades the check against the workspace's text files.
pub fn grade(check: &DockerfileCheck, texts: &[TextFile]) -> Verdict {
    let wanted = check.path.trim_start_matches("./");
    let Some(file) = texts.iter().find(|t| t.path == wanted) else {
        return Verdict::fail(format!("{}: no such file in the workspace", check.path));
    };
    let hits = match lint_text(&file.text) {
        Ok(h) => h,
        Err(e) => return does_not_parse(file, &e),
    };
    let required = check.require.rules();
    let mut findings = Vec::new();
    for h in &hits {
        let need = required
            .iter()
            .find(|(_, rules)| rules.contains(&h.code))
            .map(|(n, _)| format!(" (required: {n})"));
        let denied = check.deny.iter().any(|d| d == h.code);
        let mut f = if need.is_some() || denied {
            let why = need.unwrap_or_else(|| " (denied by this task)".into());
            Finding::error(format!("{} {}{why}", h.code, h.message))
        } else if matches!(h.level, Level::Error | Level::Warning) {
            Finding::warning(format!("{} {}", h.code, h.message))
        } else {
            continue;
        };
        f.source = Some(file.path.clone());
        f.line = Some(h.line);
        f.col = Some(h.column);
        findings.push(f);
    }
    Verdict::from_findings(findings)
}
