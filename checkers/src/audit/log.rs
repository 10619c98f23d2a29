//! Reading a kube-apiserver audit log: JSON lines, one `audit.k8s.io/v1`
//! `Event` per line, as the log backend (`--audit-log-path`) writes them.
//!
//! Only the fields a forensics reader needs are kept ([`Event`]); the rest
//! (`requestObject`, `responseObject`, `user.extra`, other annotations) is
//! skipped without being built. Strings are borrowed from the line
//! ([`Text`]): an event costs no allocation for its strings unless they hold
//! JSON escapes, only the few small `Vec`s of groups and source IPs.
//!
//! A line that is not an audit event is a [`LogError`] at its line and
//! column (serde_json's, 1-based, in bytes); blank lines are skipped.
//! Timestamps are checked to be RFC 3339 while parsing, so a bad one is
//! located at its field.
//!
//! [`Filter`] selects events by user (the user or the impersonated one),
//! verb, resource (the audit policy's grammar: `pods`, `pods/exec`,
//! `pods/*`, `*/exec`, `*`, with `.GROUP` after the resource), namespace,
//! time and stage.

use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;

pub use jiff::Timestamp;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::Stage;

/// A string of an event: borrowed from the log line when it holds no JSON
/// escapes, owned when it does (`\"` in an authorization reason).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text<'a>(pub Cow<'a, str>);

impl Text<'_> {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether it points into the line it was read from (no escapes).
    pub fn is_borrowed(&self) -> bool {
        matches!(self.0, Cow::Borrowed(_))
    }
}

impl Deref for Text<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'a> From<&'a str> for Text<'a> {
    fn from(s: &'a str) -> Self {
        Text(Cow::Borrowed(s))
    }
}

impl Serialize for Text<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Text(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Text(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Text(Cow::Owned(v)))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(TextVisitor)
    }
}

/// `user` and `impersonatedUser` of an event (authentication/v1 UserInfo).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo<'a> {
    /// The user name (`system:serviceaccount:<ns>:<name>` for a token).
    #[serde(borrow, default)]
    pub username: Text<'a>,
    /// The user's groups, as the authenticator gave them.
    #[serde(borrow, default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<Text<'a>>,
}

/// `objectRef`: the object a resource request is about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef<'a> {
    /// The resource (`pods`, `secrets`); empty when not given.
    #[serde(borrow, default, skip_serializing_if = "str::is_empty")]
    pub resource: Text<'a>,
    /// The subresource (`exec`, `log`, `status`).
    #[serde(borrow, default, skip_serializing_if = "str::is_empty")]
    pub subresource: Text<'a>,
    /// The namespace; empty for cluster-scoped objects and cluster-wide
    /// lists.
    #[serde(borrow, default, skip_serializing_if = "str::is_empty")]
    pub namespace: Text<'a>,
    /// The object's name; empty for lists and creates by generateName.
    #[serde(borrow, default, skip_serializing_if = "str::is_empty")]
    pub name: Text<'a>,
    /// The API group; empty for the core group.
    #[serde(borrow, default, skip_serializing_if = "str::is_empty")]
    pub api_group: Text<'a>,
    /// The API version (`v1`).
    #[serde(borrow, default, skip_serializing_if = "str::is_empty")]
    pub api_version: Text<'a>,
}

/// `responseStatus`: a metav1.Status, of which the code and, for
/// failures, the reason and message are kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseStatus<'a> {
    /// The HTTP status code (200, 201, 101 for exec upgrades, 403).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<i32>,
    /// A machine reason (`Forbidden`, `NotFound`).
    #[serde(borrow, default, skip_serializing_if = "str::is_empty")]
    pub reason: Text<'a>,
    /// The human message.
    #[serde(borrow, default, skip_serializing_if = "str::is_empty")]
    pub message: Text<'a>,
}

/// The annotations of an event that say why it was allowed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Annotations<'a> {
    /// `authorization.k8s.io/decision`: `allow` or `forbid`.
    #[serde(
        rename = "authorization.k8s.io/decision",
        borrow,
        default,
        skip_serializing_if = "str::is_empty"
    )]
    pub decision: Text<'a>,
    /// `authorization.k8s.io/reason`: which binding allowed it (RBAC).
    #[serde(
        rename = "authorization.k8s.io/reason",
        borrow,
        default,
        skip_serializing_if = "str::is_empty"
    )]
    pub reason: Text<'a>,
}

impl Annotations<'_> {
    fn is_empty(&self) -> bool {
        self.decision.is_empty() && self.reason.is_empty()
    }
}

/// One audit event, its strings borrowed from the log line. Serialized with
/// the upstream field names, so a JSON rendering is a subset of the event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event<'a> {
    /// `Event`, when given (the log backend always writes it).
    #[serde(borrow, default, skip_serializing)]
    pub kind: Option<Text<'a>>,
    /// `audit.k8s.io/v1`, when given.
    #[serde(borrow, default, skip_serializing)]
    pub api_version: Option<Text<'a>>,
    /// The audit level the policy gave the request (`Metadata`, ...).
    #[serde(borrow)]
    pub level: Text<'a>,
    /// The API server's id of the request, shared by its stages' events.
    #[serde(rename = "auditID", borrow)]
    pub audit_id: Text<'a>,
    /// The stage this event was recorded at (`ResponseComplete`, ...).
    #[serde(borrow)]
    pub stage: Text<'a>,
    /// The URI the client sent, query included (an exec's command).
    #[serde(rename = "requestURI", borrow)]
    pub request_uri: Text<'a>,
    /// The Kubernetes verb (`get`, `list`, `create`, ...), or the lowercase
    /// HTTP method for a non-resource request.
    #[serde(borrow)]
    pub verb: Text<'a>,
    /// Who sent it, as authenticated.
    #[serde(borrow)]
    pub user: UserInfo<'a>,
    /// Who they acted as (`kubectl --as`).
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub impersonated_user: Option<UserInfo<'a>>,
    /// The client's address, then proxies' (X-Forwarded-For first).
    #[serde(
        rename = "sourceIPs",
        borrow,
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub source_ips: Vec<Text<'a>>,
    /// The client's User-Agent (`kubectl/v1.34.0 (linux/amd64) ...`).
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<Text<'a>>,
    /// The object of a resource request; absent for non-resource URLs.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub object_ref: Option<ObjectRef<'a>>,
    /// The response status; absent before the response (RequestReceived).
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub response_status: Option<ResponseStatus<'a>>,
    /// When the request reached the API server.
    #[serde(default, with = "rfc3339", skip_serializing_if = "Option::is_none")]
    pub request_received_timestamp: Option<Timestamp>,
    /// When this stage was reached.
    #[serde(default, with = "rfc3339", skip_serializing_if = "Option::is_none")]
    pub stage_timestamp: Option<Timestamp>,
    /// The authorization decision and reason.
    #[serde(borrow, default, skip_serializing_if = "Annotations::is_empty")]
    pub annotations: Annotations<'a>,
}

impl Event<'_> {
    /// `responseStatus.code`, when there is one.
    pub fn code(&self) -> Option<i32> {
        self.response_status.as_ref().and_then(|s| s.code)
    }

    /// The first of `sourceIPs` (the client, as far as the API server
    /// knows).
    pub fn source_ip(&self) -> Option<&str> {
        self.source_ips.first().map(Text::as_str)
    }

    /// The `authorization.k8s.io/decision` annotation, when there is one.
    pub fn decision(&self) -> Option<&str> {
        Some(self.annotations.decision.as_str()).filter(|d| !d.is_empty())
    }
}

/// RFC 3339 timestamps (metav1.MicroTime: `2026-12-03T10:15:30.123456Z`),
/// checked while the line is parsed.
mod rfc3339 {
    use jiff::Timestamp;
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    use super::Text;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
        let Some(text) = Option::<Text<'de>>::deserialize(d)? else {
            return Ok(None);
        };
        super::fast_time(&text)
            .map_or_else(|| text.parse::<Timestamp>(), Ok)
            .map(Some)
            .map_err(|e| {
                D::Error::custom(format!("{:?} is not an RFC 3339 time: {e}", text.as_str()))
            })
    }

    // serde's `with` passes `&Option<Timestamp>`.
    #[allow(clippy::ref_option)]
    pub fn serialize<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.collect_str(t),
            None => s.serialize_none(),
        }
    }
}

/// The timestamp of `s` when it is spelt as the API server writes times
/// (metav1.Time / MicroTime: `2026-12-03T10:15:30Z`,
/// `2026-12-03T10:15:30.123456Z`), read without jiff's general parser
/// (a third of the time of reading an event otherwise); `None` for any
/// other spelling, which jiff then reads (offsets, lowercase `t`/`z`) or
/// refuses with its message.
fn fast_time(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    if b.len() < 20 || b[b.len() - 1] != b'Z' {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    if [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')]
        .iter()
        .any(|&(i, c)| b[i] != c)
    {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    let nanos = match &b[19..b.len() - 1] {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            num(20, b.len() - 1)? * 10u32.pow(9 - digits.len() as u32)
        }
        _ => return None,
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if day == 0 || day > days_in_month || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    // Days since 1970-01-01 (H. Hinnant's days_from_civil; years from 0).
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    Timestamp::new(secs, i32::try_from(nanos).ok()?).ok()
}

/// A line that is not an audit event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {message}")]
pub struct LogError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column (bytes).
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// The line ended before its JSON did: on the last line of a log that
    /// is still being written, half an event.
    pub incomplete: bool,
}

/// Parses line number `number` of a log (its text without the line end);
/// `Ok(None)` for a blank line.
pub fn parse_line(text: &str, number: usize) -> Result<Option<Event<'_>>, LogError> {
    let body = text.trim_start();
    if body.is_empty() {
        return Ok(None);
    }
    let column = 1 + text.len() - body.len();
    // serde would read a JSON array as the struct's fields in order.
    if !body.starts_with('{') {
        return Err(LogError {
            line: number,
            column,
            message:
                "not a JSON object: an audit log holds one audit.k8s.io/v1 Event object per line"
                    .to_owned(),
            incomplete: false,
        });
    }
    let event: Event<'_> = serde_json::from_str(text).map_err(|e| {
        // serde_json's message ends in " at line L column C"; the line is
        // always 1 here, the log's line number is ours.
        let full = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        let message = full.strip_suffix(&suffix).unwrap_or(&full).to_owned();
        LogError {
            line: number,
            column: e.column().max(1),
            message,
            incomplete: e.is_eof(),
        }
    })?;
    let not_event = |message: String| LogError {
        line: number,
        column,
        message,
        incomplete: false,
    };
    if let Some(kind) = event.kind.as_deref().filter(|k| *k != "Event") {
        return Err(not_event(format!(
            "kind {kind:?}: not an audit event (kind Event)"
        )));
    }
    if let Some(v) = event
        .api_version
        .as_deref()
        .filter(|v| !v.starts_with("audit.k8s.io/"))
    {
        return Err(not_event(format!(
            "apiVersion {v:?}: not an audit event (audit.k8s.io/v1)"
        )));
    }
    Ok(Some(event))
}

/// The events of a whole log text, in order, blank lines skipped; see
/// [`events`].
#[derive(Debug, Clone)]
pub struct Events<'a> {
    lines: std::str::Lines<'a>,
    number: usize,
}

impl<'a> Iterator for Events<'a> {
    type Item = Result<Event<'a>, LogError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let line = self.lines.next()?;
            self.number += 1;
            match parse_line(line, self.number) {
                Ok(None) => {}
                Ok(Some(e)) => return Some(Ok(e)),
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

/// Every event of `log` (JSON lines), borrowed from it; an error for each
/// line that is not an event (iteration may go on past it).
pub fn events(log: &str) -> Events<'_> {
    Events {
        lines: log.lines(),
        number: 0,
    }
}

/// Which subresources a [`ResourcePattern`] takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sub {
    /// `pods`: the resource itself, no subresource.
    None,
    /// `pods/*`: the resource and any of its subresources (upstream's
    /// `resource/*`, which takes the bare resource too).
    Any,
    /// `pods/exec`: that subresource.
    Named(String),
}

/// A `--resource` value, in the audit policy's grammar: `R`, `R/SUB`,
/// `R/*`, `*/SUB` or `*`, the resource optionally `R.GROUP`
/// (`deployments.apps`); without a group any group matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourcePattern {
    /// The resource, `*` for any.
    pub resource: String,
    /// The API group, when given (`""` is never given: core resources are
    /// named without a group).
    pub group: Option<String>,
    /// The subresources taken.
    pub sub: Sub,
}

impl ResourcePattern {
    /// Parses `pods`, `pods/exec`, `pods/*`, `*/exec`, `*`,
    /// `deployments.apps/scale`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (base, sub) = match s.split_once('/') {
            Some((b, sub)) => (b, Some(sub)),
            None => (s, None),
        };
        if base.is_empty() {
            return Err(format!("{s:?}: no resource (like pods, pods/exec)"));
        }
        let sub = match sub {
            None => Sub::None,
            Some("*") => Sub::Any,
            Some(x) if x.is_empty() || x.contains('/') => {
                return Err(format!(
                    "{s:?}: the subresource must be one word (pods/exec) or * (pods/*)"
                ));
            }
            Some(x) => Sub::Named(x.to_owned()),
        };
        let (resource, group) = match base.split_once('.') {
            Some((r, g)) if !r.is_empty() && !g.is_empty() && r != "*" => {
                (r.to_owned(), Some(g.to_owned()))
            }
            Some(_) => {
                return Err(format!(
                    "{s:?}: write the group as R.GROUP (deployments.apps)"
                ));
            }
            None => (base.to_owned(), None),
        };
        if resource == "*" && sub == Sub::Any {
            return Err(format!("{s:?}: write * for any resource"));
        }
        Ok(Self {
            resource,
            group,
            sub,
        })
    }

    /// Whether the pattern takes `r` (upstream `ruleMatchesResource`'s
    /// resource part: exact `R/SUB`, `*`, `*/SUB`, `R/*`).
    pub fn matches(&self, r: &ObjectRef<'_>) -> bool {
        if r.resource.is_empty() {
            return false;
        }
        if self
            .group
            .as_deref()
            .is_some_and(|g| g != r.api_group.as_str())
        {
            return false;
        }
        if self.resource == "*" {
            return match &self.sub {
                Sub::None | Sub::Any => true,
                Sub::Named(s) => s == r.subresource.as_str(),
            };
        }
        self.resource == r.resource.as_str()
            && match &self.sub {
                Sub::None => r.subresource.is_empty(),
                Sub::Any => true,
                Sub::Named(s) => s == r.subresource.as_str(),
            }
    }
}

impl fmt::Display for ResourcePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.resource)?;
        if let Some(g) = &self.group {
            write!(f, ".{g}")?;
        }
        match &self.sub {
            Sub::None => Ok(()),
            Sub::Any => f.write_str("/*"),
            Sub::Named(s) => write!(f, "/{s}"),
        }
    }
}

/// Which events to show. Each criterion given must hold; a criterion with
/// several values takes any of them. Empty: every event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// `user.username` or `impersonatedUser.username`.
    pub users: Vec<String>,
    /// The verb.
    pub verbs: Vec<String>,
    /// `objectRef` resource patterns; an event without one (a non-resource
    /// URL) never matches.
    pub resources: Vec<ResourcePattern>,
    /// `objectRef.namespace`.
    pub namespaces: Vec<String>,
    /// `requestReceivedTimestamp` at or after this; an event without one
    /// does not match.
    pub since: Option<Timestamp>,
    /// `requestReceivedTimestamp` at or before this.
    pub until: Option<Timestamp>,
    /// The stage; empty: every stage (a request has one event per stage).
    pub stages: Vec<Stage>,
}

fn any_or_none<T>(wanted: &[T], f: impl Fn(&T) -> bool) -> bool {
    wanted.is_empty() || wanted.iter().any(f)
}

impl Filter {
    /// Whether `e` is to be shown.
    pub fn matches(&self, e: &Event<'_>) -> bool {
        let obj = e.object_ref.as_ref();
        let time_ok = |bound: Option<Timestamp>, ok: fn(Timestamp, Timestamp) -> bool| {
            bound.is_none_or(|b| e.request_received_timestamp.is_some_and(|t| ok(t, b)))
        };
        any_or_none(&self.stages, |s| s.as_str() == e.stage.as_str())
            && any_or_none(&self.verbs, |v| v == e.verb.as_str())
            && any_or_none(&self.users, |u| {
                u == e.user.username.as_str()
                    || e.impersonated_user
                        .as_ref()
                        .is_some_and(|i| u == i.username.as_str())
            })
            && any_or_none(&self.namespaces, |n| {
                obj.is_some_and(|o| n == o.namespace.as_str())
            })
            && any_or_none(&self.resources, |p| obj.is_some_and(|o| p.matches(o)))
            && time_ok(self.since, |t, b| t >= b)
            && time_ok(self.until, |t, b| t <= b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{Policy, Request};
    use serde_json::json;

    /// A ResponseComplete event as kind's API server logs a `kubectl exec`.
    const EXEC: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"2f1c7e4e-1a5b-4d43-9d0e-6c7b3b1f9a10","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/shop/pods/web-5d9c/exec?command=sh\u0026container=web\u0026stdin=true\u0026stdout=true\u0026tty=true","verb":"create","user":{"username":"kubernetes-admin","groups":["kubeadm:cluster-admins","system:authenticated"],"extra":{"authentication.kubernetes.io/credential-id":["X509SHA256=ab12"]}},"sourceIPs":["172.18.0.1"],"userAgent":"kubectl/v1.34.1 (linux/amd64) kubernetes/93248f9","objectRef":{"resource":"pods","namespace":"shop","name":"web-5d9c","apiVersion":"v1","subresource":"exec"},"responseStatus":{"metadata":{},"code":101},"requestReceivedTimestamp":"2026-12-03T10:15:30.123456Z","stageTimestamp":"2026-12-03T10:15:41.002173Z","annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed by ClusterRoleBinding \"kubeadm:cluster-admins\" of ClusterRole \"cluster-admin\" to Group \"kubeadm:cluster-admins\""}}"#;

    fn event_json(v: &serde_json::Value) -> String {
        serde_json::to_string(v).expect("json")
    }

    #[test]
    fn a_real_shaped_event_reads_with_borrowed_strings() {
        let e = parse_line(EXEC, 1).expect("parses").expect("not blank");
        assert_eq!(e.audit_id.as_str(), "2f1c7e4e-1a5b-4d43-9d0e-6c7b3b1f9a10");
        assert_eq!(e.stage.as_str(), "ResponseComplete");
        assert_eq!(e.verb.as_str(), "create");
        assert_eq!(e.user.username.as_str(), "kubernetes-admin");
        assert_eq!(e.user.groups.len(), 2);
        assert_eq!(e.source_ip(), Some("172.18.0.1"));
        let o = e.object_ref.as_ref().expect("objectRef");
        assert_eq!(
            (o.resource.as_str(), o.subresource.as_str()),
            ("pods", "exec")
        );
        assert_eq!(
            (o.namespace.as_str(), o.name.as_str()),
            ("shop", "web-5d9c")
        );
        assert_eq!(e.code(), Some(101));
        assert_eq!(e.decision(), Some("allow"));
        assert_eq!(
            e.request_received_timestamp
                .map(|t| t.to_string())
                .as_deref(),
            Some("2026-12-03T10:15:30.123456Z")
        );
        // No escapes: borrowed. `\u0026` and `\"`: owned, and unescaped.
        assert!(e.audit_id.is_borrowed() && e.user.username.is_borrowed());
        assert!(e.user_agent.as_ref().is_some_and(Text::is_borrowed));
        assert!(!e.request_uri.is_borrowed());
        assert!(e.request_uri.contains("exec?command=sh&container=web"));
        assert!(!e.annotations.reason.is_borrowed());
        assert!(
            e.annotations
                .reason
                .contains("ClusterRoleBinding \"kubeadm:cluster-admins\"")
        );
    }

    #[test]
    fn serialized_events_keep_the_upstream_names_and_values() {
        let e = parse_line(EXEC, 1).expect("parses").expect("event");
        let v = serde_json::to_value(&e).expect("serializes");
        let original: serde_json::Value = serde_json::from_str(EXEC).expect("json");
        for key in [
            "auditID",
            "stage",
            "level",
            "verb",
            "requestURI",
            "sourceIPs",
            "userAgent",
            "requestReceivedTimestamp",
            "stageTimestamp",
        ] {
            assert_eq!(v[key], original[key], "{key}");
        }
        assert_eq!(v["user"]["groups"], original["user"]["groups"]);
        assert_eq!(v["objectRef"], original["objectRef"]);
        assert_eq!(v["responseStatus"]["code"], 101);
        assert_eq!(v["annotations"], original["annotations"]);
        assert!(v.get("kind").is_none() && v["user"].get("extra").is_none());
    }

    #[test]
    fn events_skips_blank_lines_and_locates_bad_ones() {
        let log = format!("{EXEC}\n\n   \n{{\"auditID\": 7}}\n{EXEC}\r\n{{\"kind\":\"Ev");
        let got: Vec<_> = events(&log).collect();
        assert_eq!(got.len(), 4);
        assert!(got[0].is_ok() && got[2].is_ok(), "CRLF line ends are fine");
        let bad = got[1].as_ref().expect_err("a number for a string");
        assert_eq!((bad.line, bad.column), (4, 13), "{bad}");
        assert!(bad.message.contains("invalid type: integer `7`"), "{bad}");
        assert!(!bad.message.contains("at line"), "{bad}");
        assert!(!bad.incomplete);
        let half = got[3].as_ref().expect_err("half a line");
        assert_eq!(half.line, 6);
        assert!(half.incomplete, "{half}");
    }

    #[test]
    fn required_fields_types_and_kinds_are_checked() {
        let mut v: serde_json::Value = serde_json::from_str(EXEC).expect("json");
        v.as_object_mut().expect("object").remove("auditID");
        let e = parse_line(&event_json(&v), 1).expect_err("no auditID");
        assert!(e.message.contains("missing field `auditID`"), "{e}");

        let mut v: serde_json::Value = serde_json::from_str(EXEC).expect("json");
        v["kind"] = json!("Policy");
        let e = parse_line(&event_json(&v), 2).expect_err("not an event");
        assert_eq!((e.line, e.column), (2, 1));
        assert!(e.message.contains("kind \"Policy\""), "{e}");

        let mut v: serde_json::Value = serde_json::from_str(EXEC).expect("json");
        v["apiVersion"] = json!("v1");
        assert!(parse_line(&event_json(&v), 1).is_err());
        v["apiVersion"] = json!("audit.k8s.io/v1beta1");
        assert!(parse_line(&event_json(&v), 1).is_ok(), "older audit logs");

        let line = EXEC.replace("2026-12-03T10:15:30.123456Z", "yesterday");
        let e = parse_line(&line, 3).expect_err("bad time");
        assert!(
            e.message.contains("\"yesterday\" is not an RFC 3339 time"),
            "{e}"
        );
        let at = line.find("\"yesterday\"").expect("there") + "\"yesterday\"".len();
        assert_eq!(e.column, at, "located at the end of the value");

        for not_object in ["[1, 2]", "null", "  \"x\"", "level=info msg=hi"] {
            let e = parse_line(not_object, 1).expect_err(not_object);
            assert!(e.message.starts_with("not a JSON object"), "{e}");
            assert_eq!(e.column, if not_object.starts_with(' ') { 3 } else { 1 });
        }
        let fields: Vec<String> = (0..16).map(|i| format!("\"f{i}\"")).collect();
        assert!(
            parse_line(&format!("[{}]", fields.join(",")), 1).is_err(),
            "an array is not an event, even one of 16 strings"
        );
        assert!(parse_line("{\"auditID\":\"a\" x", 1).is_err());
    }

    fn with(patch: &serde_json::Value) -> String {
        let mut v: serde_json::Value = serde_json::from_str(EXEC).expect("json");
        for (k, val) in patch.as_object().expect("object") {
            if val.is_null() {
                v.as_object_mut().expect("object").remove(k);
            } else {
                v[k] = val.clone();
            }
        }
        event_json(&v)
    }

    fn parsed(line: &str) -> Event<'_> {
        parse_line(line, 1).expect("parses").expect("event")
    }

    #[test]
    fn filters_combine_and_each_takes_any_of_its_values() {
        let exec = parsed(EXEC);
        let list_line = with(&json!({
            "verb": "list", "stage": "RequestReceived",
            "requestURI": "/api/v1/namespaces/shop/secrets",
            "user": {"username": "system:serviceaccount:shop:web"},
            "objectRef": {"resource": "secrets", "namespace": "shop", "apiVersion": "v1"},
            "responseStatus": null,
            "requestReceivedTimestamp": "2026-12-03T11:00:00Z",
        }));
        let list = parsed(&list_line);
        let healthz_line = with(&json!({
            "verb": "get", "requestURI": "/healthz", "objectRef": null,
            "user": {"username": "system:anonymous", "groups": ["system:unauthenticated"]},
        }));
        let healthz = parsed(&healthz_line);
        let all = [&exec, &list, &healthz];
        let hits = |f: &Filter| -> Vec<usize> {
            all.iter()
                .enumerate()
                .filter(|(_, e)| f.matches(e))
                .map(|(i, _)| i)
                .collect()
        };
        assert_eq!(hits(&Filter::default()), [0, 1, 2]);
        let verbs = Filter {
            verbs: vec!["list".into(), "get".into()],
            ..Filter::default()
        };
        assert_eq!(hits(&verbs), [1, 2]);
        let ns = Filter {
            namespaces: vec!["shop".into()],
            ..Filter::default()
        };
        assert_eq!(hits(&ns), [0, 1], "a non-resource URL has no namespace");
        let complete = Filter {
            stages: vec![Stage::ResponseComplete],
            ..Filter::default()
        };
        assert_eq!(hits(&complete), [0, 2]);
        let user = Filter {
            users: vec!["system:serviceaccount:shop:web".into()],
            ..ns.clone()
        };
        assert_eq!(hits(&user), [1]);
        let t = |s: &str| s.parse::<Timestamp>().expect("time");
        let since = Filter {
            since: Some(t("2026-12-03T10:15:30.123456Z")),
            until: Some(t("2026-12-03T10:59:59Z")),
            ..Filter::default()
        };
        assert_eq!(hits(&since), [0, 2], "both bounds inclusive");
        let late = Filter {
            since: Some(t("2026-12-03T10:15:30.123457Z")),
            ..Filter::default()
        };
        assert_eq!(hits(&late), [1]);
        let secrets = Filter {
            resources: vec![ResourcePattern::parse("secrets").expect("pattern")],
            ..Filter::default()
        };
        assert_eq!(hits(&secrets), [1]);
    }

    #[test]
    fn an_impersonated_user_matches_the_user_filter() {
        let line = with(&json!({
            "impersonatedUser": {"username": "bob", "groups": ["dev"]},
        }));
        let e = parsed(&line);
        let f = |u: &str| Filter {
            users: vec![u.into()],
            ..Filter::default()
        };
        assert!(f("bob").matches(&e));
        assert!(f("kubernetes-admin").matches(&e));
        assert!(!f("alice").matches(&e));
    }

    #[test]
    fn resource_patterns_parse_and_reject() {
        let p = |s: &str| ResourcePattern::parse(s);
        assert_eq!(p("pods").expect("ok").sub, Sub::None);
        assert_eq!(p("pods/exec").expect("ok").sub, Sub::Named("exec".into()));
        assert_eq!(p("pods/*").expect("ok").sub, Sub::Any);
        let d = p("deployments.apps/scale").expect("ok");
        assert_eq!(
            (d.resource.as_str(), d.group.as_deref()),
            ("deployments", Some("apps"))
        );
        assert_eq!(d.to_string(), "deployments.apps/scale");
        for bad in [
            "", "/exec", "pods/", "pods/a/b", ".apps", "pods.", "*/*", "*.apps",
        ] {
            assert!(p(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_fast_time_path_agrees_with_jiff() {
        let mut rng = Rng(0x7173_a11e);
        let digits = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
        let mut fast = 0;
        for i in 0..20_000 {
            let d =
                |rng: &mut Rng, n: usize| -> String { (0..n).map(|_| rng.pick(&digits)).collect() };
            // Mostly plausible fields, with out-of-range ones mixed in.
            let year = if i % 3 == 0 {
                d(&mut rng, 4)
            } else {
                format!("{}", 1900 + i % 300)
            };
            let month = format!("{:02}", i % 14);
            let day = format!("{:02}", (i / 14) % 33);
            let time = format!("{:02}:{:02}:{:02}", i % 25, (i * 7) % 61, (i * 13) % 61);
            let frac = match i % 5 {
                0 => String::new(),
                1 => format!(".{}", d(&mut rng, 6)),
                2 => format!(".{}", d(&mut rng, 9)),
                3 => format!(".{}", d(&mut rng, 1 + i % 10)),
                _ => ".".to_owned(),
            };
            let s = format!("{year}-{month}-{day}T{time}{frac}Z");
            let by_jiff = s.parse::<Timestamp>().ok();
            match fast_time(&s) {
                Some(t) => {
                    fast += 1;
                    assert_eq!(Some(t), by_jiff, "{s}");
                }
                // Refused by the fast path: jiff decides (second 60 aside,
                // which the fast path leaves to it, jiff refuses too).
                None if !s.contains(":60") => assert_eq!(by_jiff, None, "{s}"),
                None => {}
            }
        }
        assert!(fast > 5_000, "the fast path was taken {fast} times");
        for other in [
            "2026-12-03T10:15:30+01:00",
            "2026-12-03t10:15:30z",
            "2026-12-03 10:15:30Z",
        ] {
            assert_eq!(fast_time(other), None, "{other}");
        }
    }

    /// Tiny seeded PRNG (xorshift64*), for the property tests below.
    struct Rng(u64);
    impl Rng {
        fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            let r = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
            xs[(r >> 33) as usize % xs.len()]
        }
    }

    /// `--resource P` takes exactly the requests that an audit policy rule
    /// `resources: [{group: G, resources: [P]}]` takes (the evaluator in
    /// `policy`, exact to upstream), over random patterns and objects.
    #[test]
    fn resource_patterns_agree_with_audit_policy_rules() {
        let mut rng = Rng(0x5eed_a0d1_7106);
        let resources = ["pods", "secrets", "deployments", "*"];
        let subs = ["", "exec", "log", "status", "*"];
        let groups = ["", "apps"];
        let mut seen = [0usize; 2];
        for _ in 0..2000 {
            let (res, sub, group) = (rng.pick(&resources), rng.pick(&subs), rng.pick(&groups));
            let pattern = match (sub, group) {
                ("", "") => res.to_owned(),
                ("", g) => format!("{res}.{g}"),
                (s, "") => format!("{res}/{s}"),
                (s, g) => format!("{res}.{g}/{s}"),
            };
            let Ok(p) = ResourcePattern::parse(&pattern) else {
                continue;
            };
            let obj = ObjectRef {
                resource: rng.pick(&resources[..3]).into(),
                subresource: rng.pick(&subs[..4]).into(),
                api_group: rng.pick(&groups).into(),
                namespace: "shop".into(),
                ..ObjectRef::default()
            };
            let rule_group = if p.group.is_some() { group } else { "*" };
            let mut rule_res = p.resource.clone();
            match &p.sub {
                Sub::None => {}
                Sub::Any => rule_res.push_str("/*"),
                Sub::Named(s) => {
                    rule_res.push('/');
                    rule_res.push_str(s);
                }
            }
            let policy = Policy::parse(&json!({
                "apiVersion": "audit.k8s.io/v1", "kind": "Policy",
                "rules": [{"level": "Metadata",
                           "resources": [{"group": rule_group, "resources": [rule_res]}]}],
            }))
            .expect("policy");
            let req = Request {
                user: Some("u".into()),
                verb: "get".into(),
                resource_request: true,
                api_group: obj.api_group.to_string(),
                resource: obj.resource.to_string(),
                subresource: obj.subresource.to_string(),
                namespace: "shop".into(),
                ..Request::default()
            };
            let by_policy = policy.evaluate(&req).rule.is_some();
            assert_eq!(p.matches(&obj), by_policy, "{pattern} on {obj:?}");
            seen[usize::from(by_policy)] += 1;
        }
        assert!(
            seen[0] > 200 && seen[1] > 200,
            "both outcomes drawn: {seen:?}"
        );
    }
}
