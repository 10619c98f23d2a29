//! The checkers that need the engine: `probe` (a command exec'd in a
//! service's container) and `drift` (`docker diff`).

use std::fmt::Write as _;

use super::super::compose;
use super::super::{ChangeKind, LiveFacts, LiveService, ProbeCommand, ProbeResult, caps};
use super::rules::under;
use super::{DriftCheck, ExitRule, ExitWord, ProbeCheck, find_compose};
use crate::{KubeObject, Verdict};

/// The reason a probe or drift check cannot be graded when the engine
/// refused the service.
fn refused_reason(service: &str, msg: &str, file: &str, compose: &[KubeObject]) -> String {
    let privileged = find_compose(compose, file)
        .map(compose::parse)
        .and_then(|cf| cf.service(service).cloned())
        .is_some_and(|rc| rc.privileged || rc.cap_add.iter().any(|c| caps::is_all(c)));
    if privileged {
        format!("this engine cannot run privileged containers: {msg}")
    } else {
        format!("the engine refused service {service}: {msg}")
    }
}

/// The reason live checks give when there is no engine.
pub fn no_engine(what: &str) -> String {
    format!("needs a Docker engine: {what}")
}

pub(super) fn pattern(p: &str, kernel: &str) -> Result<regex::Regex, regex::Error> {
    regex::Regex::new(&p.replace("${kernel}", &regex::escape(kernel)))
}

fn first_lines(s: &str) -> String {
    let t = s.trim();
    if t.is_empty() {
        return "(empty)".into();
    }
    let lines: Vec<&str> = t.lines().collect();
    let mut out = lines.iter().take(5).copied().collect::<Vec<_>>().join("\n");
    if lines.len() > 5 {
        let _ = write!(out, "\n... ({} more lines)", lines.len() - 5);
    }
    out
}

/// Grades a `probe:` check against the live facts: skipped offline, when
/// the service was refused, or when the probe did not run.
pub fn grade_probe(
    check: &ProbeCheck,
    compose: &[KubeObject],
    live: Option<&LiveFacts>,
) -> Verdict {
    let Some(live) = live else {
        return Verdict::skipped(no_engine(&check.says));
    };
    match live.services.get(&check.service) {
        Some(LiveService::Refused(msg)) => {
            return Verdict::skipped(refused_reason(&check.service, msg, &check.file, compose));
        }
        None => {
            return Verdict::skipped(format!(
                "service {} was not started on the engine: {}",
                check.service, check.says
            ));
        }
        Some(LiveService::Running { .. }) => {}
    }
    let Some(result) = live
        .probes
        .iter()
        .find(|p| p.service == check.service && p.run == check.run && p.user == check.user)
    else {
        return Verdict::skipped(format!("the probe was not run: {}", check.says));
    };
    probe_verdict(check, result, &live.engine.kernel)
}

fn probe_verdict(check: &ProbeCheck, r: &ProbeResult, kernel: &str) -> Verdict {
    let run = match &check.run {
        ProbeCommand::Shell(s) => s.clone(),
        ProbeCommand::Exec(v) => v.join(" "),
    };
    let head = format!(
        "service {}: `{run}` should prove it {}",
        check.service, check.says
    );
    if let Some(e) = &r.error {
        return Verdict::fail(format!("{head}, but it could not run: {e}"));
    }
    let mut why = Vec::new();
    match (check.exit, r.exit) {
        (Some(_), None) => why.push("it reported no exit code".to_string()),
        (Some(ExitRule::Code(want)), Some(got)) if want != got => {
            why.push(format!("it exited {got}, not {want}"));
        }
        (Some(ExitRule::Word(ExitWord::Nonzero)), Some(0)) => {
            why.push("it exited 0 (it succeeded), and it should fail".to_string());
        }
        _ => {}
    }
    let out = r.stdout.trim();
    for (p, must) in [(&check.stdout, true), (&check.stdout_not, false)] {
        let Some(p) = p else { continue };
        match pattern(p, kernel) {
            Err(e) => why.push(format!("the lab's pattern `{p}` is not a regex: {e}")),
            Ok(re) if re.is_match(out) != must => why.push(format!(
                "its output {} `{}`",
                if must { "does not match" } else { "matches" },
                re.as_str()
            )),
            Ok(_) => {}
        }
    }
    if why.is_empty() {
        return Verdict::pass();
    }
    Verdict::fail(format!(
        "{head}, but {} (exit code {}).\nstdout:\n{}\nstderr:\n{}",
        why.join("; "),
        r.exit.map_or("none".into(), |c| c.to_string()),
        first_lines(&r.stdout),
        first_lines(&r.stderr)
    ))
}

/// Grades a `drift:` check: every change of the service's container is
/// below an allowed path (a changed folder that holds an allowed path
/// counts as allowed: adding `/tmp/x` changes `/tmp`'s parent listing).
pub fn grade_drift(
    check: &DriftCheck,
    compose: &[KubeObject],
    live: Option<&LiveFacts>,
) -> Verdict {
    let what = format!("the changes of service {}'s container", check.service);
    let Some(live) = live else {
        return Verdict::skipped(no_engine(&what));
    };
    let changes = match live.services.get(&check.service) {
        None => {
            return Verdict::skipped(format!(
                "service {} was not started on the engine",
                check.service
            ));
        }
        Some(LiveService::Refused(msg)) => {
            return Verdict::skipped(refused_reason(&check.service, msg, &check.file, compose));
        }
        Some(LiveService::Running { changes, .. }) => changes,
    };
    let outside: Vec<String> = changes
        .iter()
        .filter(|c| {
            !check
                .allow
                .iter()
                .any(|a| under(&c.path, a) || (c.kind == ChangeKind::Changed && under(a, &c.path)))
        })
        .map(|c| {
            let k = match c.kind {
                ChangeKind::Added => "A",
                ChangeKind::Changed => "C",
                ChangeKind::Deleted => "D",
            };
            format!("{k} {}", c.path)
        })
        .collect();
    if outside.is_empty() {
        return Verdict::pass();
    }
    let shown: Vec<&str> = outside.iter().take(10).map(String::as_str).collect();
    let more = if outside.len() > 10 {
        format!(" (and {} more)", outside.len() - 10)
    } else {
        String::new()
    };
    Verdict::fail(format!(
        "service {}'s container changed its filesystem outside {}: {}{more}; make the root read-only (`read_only: true`) with tmpfs mounts for the paths it must write",
        check.service,
        if check.allow.is_empty() {
            "nothing allowed".to_string()
        } else {
            check.allow.join(", ")
        },
        shown.join(", ")
    ))
}
