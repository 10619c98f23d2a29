//! The `audit_event` check: the student finds one of their own requests in
//! the live cluster's audit log and answers with a field of its event (the
//! auditID, the source IP or the time), graded against the events the shell
//! read from the control-plane node ([`crate::cluster::ClusterFacts::audit_events`]).
//!
//! The request is described in lab.yaml ([`EventMatch`]); every logged
//! event that matches it at stage `ResponseComplete` is a right answer
//! (the student may have made the request more than once).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Finding, Verdict};

/// Which requests of the log count: every field given must be equal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventMatch {
    /// `user.username` (`system:serviceaccount:<ns>:<name>` for a token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The verb (`get`, `list`, `create`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verb: Option<String>,
    /// `objectRef.resource` (`secrets`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// `objectRef.subresource` (`exec`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subresource: Option<String>,
    /// `objectRef.namespace`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `objectRef.name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `responseStatus.code` (200: the request succeeded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
}

/// What the student answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventField {
    /// `auditID`, the API server's id of the request.
    AuditId,
    /// The first of `sourceIPs`.
    SourceIp,
    /// `requestReceivedTimestamp`, to the second (any RFC 3339 spelling).
    Time,
}

/// An `audit_event:` check as written in lab.yaml.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditEventCheck {
    /// The question id: its key in `answers.yaml` under the task.
    pub id: String,
    /// What the student is asked.
    pub question: String,
    /// The request to find.
    #[serde(rename = "match")]
    pub matches: EventMatch,
    /// The event's field the student answers with.
    pub ask: EventField,
}

impl AuditEventCheck {
    /// A one-line description for listings.
    pub fn describe(&self) -> String {
        format!(
            "question `{}`: the {} of {} in the live audit log",
            self.id,
            match self.ask {
                EventField::AuditId => "auditID",
                EventField::SourceIp => "source IP",
                EventField::Time => "time",
            },
            self.matches.describe()
        )
    }
}

impl EventMatch {
    /// `get secrets audit-logs/db-credentials by <user> (200)`.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "{} {}",
            self.verb.as_deref().unwrap_or("any verb"),
            self.resource.as_deref().unwrap_or("anything")
        );
        if let Some(sub) = &self.subresource {
            s = format!("{s}/{sub}");
        }
        s = match (&self.namespace, &self.name) {
            (Some(ns), Some(n)) => format!("{s} {ns}/{n}"),
            (Some(ns), None) => format!("{s} in {ns}"),
            (None, Some(n)) => format!("{s} {n}"),
            (None, None) => s,
        };
        if let Some(u) = &self.user {
            s = format!("{s} by {u}");
        }
        if let Some(c) = self.code {
            s = format!("{s} ({c})");
        }
        s
    }

    /// Whether the audit `event` (one log line, parsed) is a completed
    /// request this describes.
    pub fn matches(&self, event: &Value) -> bool {
        let at = |p: &str| event.pointer(p).and_then(Value::as_str);
        let eq = |want: &Option<String>, p: &str| want.as_deref().is_none_or(|w| at(p) == Some(w));
        at("/stage") == Some("ResponseComplete")
            && eq(&self.user, "/user/username")
            && eq(&self.verb, "/verb")
            && eq(&self.resource, "/objectRef/resource")
            && eq(&self.subresource, "/objectRef/subresource")
            && eq(&self.namespace, "/objectRef/namespace")
            && eq(&self.name, "/objectRef/name")
            && self.code.is_none_or(|c| {
                event
                    .pointer("/responseStatus/code")
                    .and_then(Value::as_u64)
                    == Some(u64::from(c))
            })
    }
}

/// The value of `field` in `event`, normalised as answers are.
fn field_of(event: &Value, field: EventField) -> Option<String> {
    match field {
        EventField::AuditId => event
            .get("auditID")
            .and_then(Value::as_str)
            .map(|s| s.trim().to_ascii_lowercase()),
        EventField::SourceIp => event
            .pointer("/sourceIPs/0")
            .and_then(Value::as_str)
            .map(|s| s.trim().to_string()),
        EventField::Time => event
            .get("requestReceivedTimestamp")
            .and_then(Value::as_str)
            .and_then(to_second),
    }
}

/// An RFC 3339 time as UTC seconds since the epoch, shown as
/// `YYYY-MM-DDTHH:MM:SSZ` (fractions dropped), or `None` when it is not one.
pub(crate) fn to_second(s: &str) -> Option<String> {
    let t: jiff::Timestamp = s.trim().parse().ok()?;
    jiff::Timestamp::from_second(t.as_second())
        .ok()
        .map(|t| t.to_string())
}

/// Grades the student's `answer` against the `events` read from the live
/// log (`None`: no log at hand, the check is skipped).
pub fn grade(check: &AuditEventCheck, events: Option<&[Value]>, answer: Option<&str>) -> Verdict {
    let Some(events) = events else {
        return Verdict::skipped(
            "needs the lab's kind cluster: the audit log is read from its control-plane node",
        );
    };
    let truths: Vec<String> = events
        .iter()
        .filter(|e| check.matches.matches(e))
        .filter_map(|e| field_of(e, check.ask))
        .collect();
    if truths.is_empty() {
        return Verdict::fail(format!(
            "the cluster's audit log has no {}: make that request first (the task says how), then check again",
            check.matches.describe()
        ));
    }
    let Some(answer) = answer.map(str::trim).filter(|a| !a.is_empty()) else {
        return Verdict::fail(format!(
            "no answer to `{}` yet: {} (`seclab answer <lab> <task> <value>`)",
            check.id,
            check.question.trim()
        ));
    };
    let given = match check.ask {
        EventField::AuditId => Some(answer.to_ascii_lowercase()),
        EventField::SourceIp => Some(answer.to_string()),
        EventField::Time => to_second(answer),
    };
    let Some(given) = given else {
        return Verdict::fail(format!(
            "`{answer}` is not an RFC 3339 time (like 2026-12-03T10:15:30Z)"
        ));
    };
    if truths.contains(&given) {
        Verdict::from_findings(vec![Finding::info(format!(
            "`{answer}` is right: it is in the log's {}",
            check.matches.describe()
        ))])
    } else {
        Verdict::fail(format!(
            "`{answer}` is not the {} field of any {} in the log ({} such request{} logged)",
            match check.ask {
                EventField::AuditId => "auditID",
                EventField::SourceIp => "sourceIPs",
                EventField::Time => "requestReceivedTimestamp",
            },
            check.matches.describe(),
            truths.len(),
            if truths.len() == 1 { "" } else { "s" }
        ))
    }
}

/// Keeps the events of `log` (JSON lines) that any of `matches` selects;
/// lines that are not JSON objects are left out (a log being written may
/// end in half a line).
pub fn keep(log: &str, matches: &[&EventMatch]) -> Vec<Value> {
    log.lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| matches.iter().any(|m| m.matches(e)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(ask: EventField) -> AuditEventCheck {
        AuditEventCheck {
            id: "q".into(),
            question: "which?".into(),
            matches: EventMatch {
                user: Some("system:serviceaccount:lab:web".into()),
                verb: Some("get".into()),
                resource: Some("secrets".into()),
                namespace: Some("lab".into()),
                name: Some("db".into()),
                code: Some(200),
                ..EventMatch::default()
            },
            ask,
        }
    }

    fn event(id: &str, user: &str, code: u64, stage: &str) -> Value {
        json!({
            "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
            "auditID": id, "stage": stage, "verb": "get",
            "user": {"username": user},
            "sourceIPs": ["10.244.0.7"],
            "objectRef": {"resource": "secrets", "namespace": "lab", "name": "db", "apiVersion": "v1"},
            "responseStatus": {"code": code},
            "requestReceivedTimestamp": "2026-12-03T10:15:30.123456Z",
        })
    }

    #[test]
    fn any_matching_completed_request_is_right() {
        let log = [
            event(
                "AAA",
                "system:serviceaccount:lab:web",
                403,
                "ResponseComplete",
            ),
            event(
                "BBB",
                "system:serviceaccount:lab:web",
                200,
                "ResponseComplete",
            ),
            event("CCC", "kubernetes-admin", 200, "ResponseComplete"),
            event(
                "DDD",
                "system:serviceaccount:lab:web",
                200,
                "RequestReceived",
            ),
        ];
        let c = check(EventField::AuditId);
        let g = |a: &str| grade(&c, Some(&log), Some(a)).status;
        assert_eq!(g("bbb"), crate::Status::Pass);
        assert_eq!(
            g("AAA"),
            crate::Status::Fail,
            "a forbidden read is not the theft"
        );
        assert_eq!(g("CCC"), crate::Status::Fail, "another user's read");
        assert_eq!(
            g("DDD"),
            crate::Status::Fail,
            "only completed requests count"
        );
        assert_eq!(grade(&c, Some(&log), None).status, crate::Status::Fail);
        assert_eq!(grade(&c, None, Some("BBB")).status, crate::Status::Skipped);
        let none = grade(&c, Some(&log[..1]), Some("AAA"));
        assert!(
            none.findings[0]
                .message
                .contains("has no get secrets lab/db"),
            "{:?}",
            none.findings
        );
    }

    #[test]
    fn times_compare_to_the_second_in_any_offset() {
        let log = [event(
            "X",
            "system:serviceaccount:lab:web",
            200,
            "ResponseComplete",
        )];
        let c = check(EventField::Time);
        let g = |a: &str| grade(&c, Some(&log), Some(a)).status;
        assert_eq!(g("2026-12-03T10:15:30Z"), crate::Status::Pass);
        assert_eq!(g("2026-12-03T11:15:30.9+01:00"), crate::Status::Pass);
        assert_eq!(g("2026-12-03T10:15:31Z"), crate::Status::Fail);
        assert_eq!(g("10:15:30"), crate::Status::Fail);
        let c = check(EventField::SourceIp);
        assert_eq!(
            grade(&c, Some(&log), Some("10.244.0.7")).status,
            crate::Status::Pass
        );
    }

    #[test]
    fn keep_reads_only_matching_lines_and_skips_half_lines() {
        let m = check(EventField::AuditId).matches;
        let lines = format!(
            "{}\n{}\n{{\"kind\":\"Ev",
            event(
                "A",
                "system:serviceaccount:lab:web",
                200,
                "ResponseComplete"
            ),
            event("B", "someone", 200, "ResponseComplete")
        );
        let kept = keep(&lines, &[&m]);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0]["auditID"], "A");
    }
}
