//! The `netpol` check of a lab: an expected connection list (connlist
//! grammar) compared with what the workspace's policies allow, optionally
//! within a scope (the pairs touching one namespace, or some rows and
//! columns of the matrix), so that each task of a lab can grade its part
//! of the final set of policies.
//!
//! ```yaml
//! - netpol:
//!     from: [three-pods/*]
//!     to: [kube-system/*, external]
//!     expect: |
//!       three-pods/a[Pod] => kube-system/coredns[Deployment] : TCP 53,UDP 53
//! ```

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::connlist::{ConnList, Expectation, Peer, diff, parse_connlist};
use super::engine::Cluster;
use super::ip::IpRange;
use super::matrix;
use super::ports::ConnSet;
use super::{NetpolError, WorkloadId};
use crate::{Finding, KubeObject, Verdict};

/// Width the matrix of a verdict is rendered for: 72, so that it still
/// fits 80 columns when a report indents it.
pub const MATRIX_WIDTH: usize = 72;

/// A `netpol:` check as written in lab.yaml.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NetpolCheck {
    /// The allowed connections in np-guard's connlist grammar, one
    /// `SRC => DST : CONNS` per line (`ns/name[Kind]` or
    /// `a.b.c.d-e.f.g.h[External]`; `TCP 8080`, `TCP 53,UDP 53`,
    /// `All Connections`); `#` starts a comment. Every pair in scope that
    /// is not listed must be denied.
    pub expect: String,
    /// Only pairs with at least one end in this namespace are compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Only pairs whose source matches one of these: `ns/name[Kind]`,
    /// `ns/name` (any kind), `ns/*` (the namespace) or `external` (IPs
    /// outside the cluster). Empty: every source.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub from: Vec<String>,
    /// Only pairs whose destination matches one of these (same spellings
    /// as `from`). Empty: every destination.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<String>,
}

/// Which peers a scope entry matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pattern {
    /// `external`: every IP outside the cluster.
    External,
    /// `ns/*`: every workload of a namespace.
    Namespace(String),
    /// `ns/name`: the workload of that name, whatever its kind.
    Name(String, String),
    /// `ns/name[Kind]`: exactly that workload.
    Exact(WorkloadId),
}

impl Pattern {
    /// Parses a scope entry.
    pub fn parse(s: &str) -> Result<Pattern, String> {
        let t = s.trim();
        if t == matrix::EXTERNAL {
            return Ok(Pattern::External);
        }
        if let Some(Peer::Workload(w)) = Peer::parse(t) {
            return Ok(Pattern::Exact(w));
        }
        match t.split_once('/') {
            Some((ns, "*")) if !ns.is_empty() && !ns.contains(['/', '[', ']', '*']) => {
                Ok(Pattern::Namespace(ns.to_owned()))
            }
            Some((ns, name))
                if !ns.is_empty()
                    && !name.is_empty()
                    && ![ns, name]
                        .iter()
                        .any(|p| p.contains(['/', '[', ']', '*', ' '])) =>
            {
                Ok(Pattern::Name(ns.to_owned(), name.to_owned()))
            }
            _ => Err(format!(
                "bad scope entry {s:?} (want ns/name[Kind], ns/name, ns/* or external)"
            )),
        }
    }

    /// Whether the pattern matches `peer`.
    pub fn matches(&self, peer: &Peer) -> bool {
        match (self, peer) {
            (Pattern::External, Peer::External(_)) => true,
            (Pattern::Namespace(ns), Peer::Workload(w)) => w.namespace == *ns,
            (Pattern::Name(ns, name), Peer::Workload(w)) => w.namespace == *ns && w.name == *name,
            (Pattern::Exact(id), Peer::Workload(w)) => id == w,
            _ => false,
        }
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pattern::External => f.write_str(matrix::EXTERNAL),
            Pattern::Namespace(ns) => write!(f, "{ns}/*"),
            Pattern::Name(ns, name) => write!(f, "{ns}/{name}"),
            Pattern::Exact(id) => id.fmt(f),
        }
    }
}

/// The pairs a check compares; the default compares every pair.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// At least one end is a workload of this namespace.
    pub namespace: Option<String>,
    /// The source matches one of these (empty: any).
    pub from: Vec<Pattern>,
    /// The destination matches one of these (empty: any).
    pub to: Vec<Pattern>,
}

impl Scope {
    /// Whether the pair `src => dst` is compared.
    pub fn contains(&self, src: &Peer, dst: &Peer) -> bool {
        let in_ns = |p: &Peer| match (p, &self.namespace) {
            (Peer::Workload(w), Some(ns)) => w.namespace == *ns,
            _ => false,
        };
        (self.namespace.is_none() || in_ns(src) || in_ns(dst))
            && (self.from.is_empty() || self.from.iter().any(|p| p.matches(src)))
            && (self.to.is_empty() || self.to.iter().any(|p| p.matches(dst)))
    }

    /// Whether the scope is every pair.
    pub fn is_everything(&self) -> bool {
        self.namespace.is_none() && self.from.is_empty() && self.to.is_empty()
    }

    /// Only the pairs of `e` in scope.
    pub fn filter(&self, e: &Expectation) -> Expectation {
        Expectation {
            pairs: e
                .pairs
                .iter()
                .filter(|((s, d), _)| self.contains(s, d))
                .cloned()
                .collect(),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let join = |ps: &[Pattern]| {
            ps.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut parts = Vec::new();
        if let Some(ns) = &self.namespace {
            parts.push(format!("touching namespace {ns}"));
        }
        if !self.from.is_empty() {
            parts.push(format!("from {}", join(&self.from)));
        }
        if !self.to.is_empty() {
            parts.push(format!("to {}", join(&self.to)));
        }
        if parts.is_empty() {
            f.write_str("between all workloads and external IPs")
        } else {
            f.write_str(&parts.join(" "))
        }
    }
}

impl NetpolCheck {
    /// The scope of the check; an error names the bad entry.
    pub fn scope(&self) -> Result<Scope, String> {
        let parse = |v: &[String]| -> Result<Vec<Pattern>, String> {
            v.iter().map(|s| Pattern::parse(s)).collect()
        };
        if self
            .namespace
            .as_deref()
            .is_some_and(|n| n.trim().is_empty())
        {
            return Err("namespace is empty".to_owned());
        }
        Ok(Scope {
            namespace: self.namespace.clone(),
            from: parse(&self.from)?,
            to: parse(&self.to)?,
        })
    }

    /// The scope and the expectation, parsed. Errors read
    /// `expect line 3: ...` (a line outside the scope is one: it would
    /// never be compared) or `bad scope entry ...`.
    pub fn expectation(&self) -> Result<(Scope, Expectation), String> {
        let scope = self.scope()?;
        let e = parse_connlist(&self.expect).map_err(|e| match e {
            NetpolError::Connlist { line, message } => format!("expect line {line}: {message}"),
            other @ NetpolError::Invalid { .. } => other.to_string(),
        })?;
        let lines = self
            .expect
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty() && !l.trim().starts_with('#'));
        for ((i, _), ((s, d), _)) in lines.zip(&e.pairs) {
            if !scope.contains(s, d) {
                return Err(format!(
                    "expect line {}: {s} => {d} is outside the check's scope ({scope})",
                    i + 1
                ));
            }
        }
        Ok((scope, e))
    }

    /// One line for listings.
    pub fn describe(&self) -> String {
        let n = self
            .expect
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.trim().starts_with('#'))
            .count();
        let scope = self
            .scope()
            .map_or_else(|e| format!("(bad scope: {e})"), |s| s.to_string());
        let what = match n {
            0 => "no connection allowed".to_owned(),
            1 => "exactly 1 allowed connection".to_owned(),
            n => format!("exactly {n} allowed connections"),
        };
        format!("{what} {scope}")
    }
}

/// How a finding spells a set of connections.
fn spell(c: &ConnSet) -> String {
    if c.is_empty() {
        "no connection".to_owned()
    } else {
        c.to_string()
    }
}

/// The part of `list` a check's matrix shows: the workloads of some pair
/// the scope compares, and the connections between them and external IPs.
/// Out-of-scope workloads cannot hold a differing cell, so a check on
/// three pods draws three pods, whatever else the cluster runs.
fn focus(list: &ConnList, scope: &Scope) -> ConnList {
    if scope.is_everything() {
        return list.clone();
    }
    let mut peers: Vec<Peer> = list.workloads.iter().cloned().map(Peer::Workload).collect();
    peers.push(Peer::External(IpRange::ALL));
    let kept: Vec<WorkloadId> = list
        .workloads
        .iter()
        .filter(|w| {
            let me = Peer::Workload((*w).clone());
            peers
                .iter()
                .filter(|p| **p != me)
                .any(|p| scope.contains(&me, p) || scope.contains(p, &me))
        })
        .cloned()
        .collect();
    let set: std::collections::BTreeSet<&WorkloadId> = kept.iter().collect();
    let shown = |p: &Peer| match p {
        Peer::Workload(w) => set.contains(w),
        Peer::External(_) => true,
    };
    ConnList {
        connections: list
            .connections
            .iter()
            .filter(|c| shown(&c.src) && shown(&c.dst))
            .cloned()
            .collect(),
        workloads: kept,
    }
}

/// Grades a `netpol` check against the workspace's objects.
pub fn grade(check: &NetpolCheck, objects: &[KubeObject]) -> Verdict {
    match check.expectation() {
        Ok((scope, e)) => grade_in(objects, &e, &scope),
        Err(e) => Verdict::fail(format!("the check itself is wrong: {e}")),
    }
}

/// Grades manifests against an expectation within `scope`: passes when the
/// allowed connections in scope are exactly the expected ones; otherwise
/// one error finding per differing pair (`a => b: expected TCP 8080, got
/// no connection`). The verdict's `detail` holds the whole matrix with the
/// differing cells marked.
pub fn grade_in(objects: &[KubeObject], expected: &Expectation, scope: &Scope) -> Verdict {
    let (cluster, notes) = match Cluster::from_objects(objects) {
        Ok(x) => x,
        Err(e) => return Verdict::from_findings(vec![e.to_finding()]),
    };
    let list = cluster.connections();
    let actual = list.to_expectation();
    let expected = scope.filter(expected);
    let mut findings: Vec<Finding> = diff(&expected, &scope.filter(&actual))
        .into_iter()
        .map(|d| {
            Finding::error(format!(
                "{} => {}: expected {}, got {}",
                d.src,
                d.dst,
                spell(&d.expected),
                spell(&d.actual)
            ))
        })
        .collect();
    findings.extend(
        notes
            .into_iter()
            .map(|n| Finding::info(format!("{}: {}", n.object, n.message))),
    );
    // Out of scope, the matrix expects what is there: only cells in scope
    // can differ.
    let mut shown = expected;
    shown.pairs.extend(
        actual
            .pairs
            .into_iter()
            .filter(|((s, d), _)| !scope.contains(s, d)),
    );
    let m = matrix::build(&focus(&list, scope), Some(&shown));
    let text = matrix::render(&m, MATRIX_WIDTH);
    Verdict::from_findings(findings).with_detail(json!({"matrix": m, "text": text}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Status;

    fn objects(yaml: &str) -> Vec<KubeObject> {
        serde_saphyr::from_multiple::<serde_json::Value>(yaml)
            .expect("valid yaml")
            .into_iter()
            .map(KubeObject::new)
            .collect()
    }

    const PODS: &str = "
kind: Pod
metadata: {name: a, namespace: lab, labels: {app: a}}
---
kind: Pod
metadata: {name: b, namespace: lab, labels: {app: b}}
---
kind: Pod
metadata: {name: dns, namespace: kube-system, labels: {k8s-app: kube-dns}}
---
kind: NetworkPolicy
metadata: {name: deny, namespace: lab}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
";

    fn check(expect: &str, from: &[&str], to: &[&str]) -> NetpolCheck {
        NetpolCheck {
            expect: expect.to_owned(),
            namespace: None,
            from: from.iter().map(|s| (*s).to_owned()).collect(),
            to: to.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn patterns_parse_and_match() {
        let a = Peer::parse("lab/a[Pod]").expect("peer");
        let ext = Peer::parse("0.0.0.0-255.255.255.255[External]").expect("peer");
        for (p, hits_a) in [
            ("lab/*", true),
            ("lab/a", true),
            ("lab/a[Pod]", true),
            ("lab/a[Deployment]", false),
            ("other/*", false),
            ("external", false),
        ] {
            let pat = Pattern::parse(p).expect(p);
            assert_eq!(pat.matches(&a), hits_a, "{p}");
            assert_eq!(pat.to_string(), p);
        }
        assert!(Pattern::parse("external").expect("ok").matches(&ext));
        for bad in ["", "lab", "*/a", "lab/a/b", "lab/a[Pod", "lab/ a"] {
            assert!(Pattern::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn scoped_check_compares_only_its_rows_and_columns() {
        let objs = objects(PODS);
        // In scope: lab/* -> kube-system/*; DNS is expected but denied.
        let c = check(
            "lab/a[Pod] => kube-system/dns[Pod] : TCP 53,UDP 53\n",
            &["lab/*"],
            &["kube-system/*"],
        );
        let v = grade(&c, &objs);
        assert_eq!(v.status, Status::Fail);
        let errors: Vec<&str> = v.findings.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(
            errors,
            ["lab/a[Pod] => kube-system/dns[Pod]: expected TCP 53,UDP 53, got no connection"]
        );
        let detail = v.detail.expect("matrix");
        assert_eq!(detail["matrix"]["differing"], 1);
        assert!(
            detail["text"]
                .as_str()
                .is_some_and(|t| t.contains("2 -> 1: expected T53 U53, got -"))
        );
        // kube-system -> external is allowed but out of scope: passes.
        let c = check("", &["lab/*"], &["kube-system/*", "external"]);
        assert!(grade(&c, &objs).passed());
        let c = check("", &[], &[]);
        let v = grade(&c, &objs);
        assert_eq!(v.status, Status::Fail);
        assert!(
            v.findings
                .iter()
                .any(|f| f.message == "kube-system/dns[Pod] => 0.0.0.0-255.255.255.255[External]: expected no connection, got All Connections"),
            "{:?}",
            v.findings
        );
    }

    #[test]
    fn the_matrix_shows_the_workloads_the_scope_compares() {
        let objs = objects(PODS);
        let rows = |c: &NetpolCheck| {
            let v = grade(c, &objs);
            v.detail.expect("matrix")["matrix"]["rows"]
                .as_array()
                .expect("rows")
                .iter()
                .filter_map(|r| r.as_str().map(str::to_owned))
                .collect::<Vec<_>>()
        };
        // lab/a to lab/*: the DNS pod of kube-system plays no part.
        assert_eq!(
            rows(&check(
                "lab/a[Pod] => lab/b[Pod] : TCP 80\n",
                &["lab/a"],
                &["lab/*"]
            )),
            ["lab/a[Pod]", "lab/b[Pod]", "external"]
        );
        // lab/* to kube-system/*: all three.
        assert_eq!(rows(&check("", &["lab/*"], &["kube-system/*"])).len(), 4);
        // Every pair: everything, as before.
        assert_eq!(rows(&check("", &[], &[])).len(), 4);
        // A namespace scope keeps the workloads of any pair touching it.
        let c = NetpolCheck {
            namespace: Some("kube-system".into()),
            ..check("", &[], &[])
        };
        assert_eq!(rows(&c).len(), 4);
    }

    #[test]
    fn namespace_scope_takes_pairs_touching_it() {
        let objs = objects(PODS);
        let c = NetpolCheck {
            namespace: Some("lab".into()),
            ..check("", &[], &[])
        };
        assert!(grade(&c, &objs).passed());
        let c = NetpolCheck {
            namespace: Some("kube-system".into()),
            ..check("", &[], &[])
        };
        assert_eq!(grade(&c, &objs).status, Status::Fail);
    }

    #[test]
    fn expectation_errors_name_the_line() {
        let objs = objects(PODS);
        let c = check(
            "# a comment\n\nlab/a[Pod] => lab/b[Pod] : TCP 0\n",
            &[],
            &[],
        );
        let v = grade(&c, &objs);
        assert_eq!(v.status, Status::Fail);
        assert!(
            v.findings[0]
                .message
                .starts_with("the check itself is wrong: expect line 3:"),
            "{}",
            v.findings[0].message
        );
        let c = check(
            "lab/a[Pod] => lab/b[Pod] : TCP 80\n",
            &["kube-system/*"],
            &[],
        );
        let e = c.expectation().expect_err("out of scope");
        assert!(
            e.starts_with("expect line 1: lab/a[Pod] => lab/b[Pod] is outside"),
            "{e}"
        );
        let c = check("", &["lab"], &[]);
        assert!(
            grade(&c, &objs).findings[0]
                .message
                .starts_with("the check itself is wrong: bad scope entry")
        );
    }

    #[test]
    fn bad_policies_are_located_findings() {
        let mut objs = objects(
            "kind: NetworkPolicy\nmetadata: {name: p, namespace: lab}\nspec:\n  podSelector: {}\n  ingress: [{ports: [{port: 0}]}]\n",
        );
        objs[0].source = Some("p.yaml".into());
        let v = grade(&check("", &[], &[]), &objs);
        let f = &v.findings[0];
        assert_eq!(f.source.as_deref(), Some("p.yaml"));
        assert_eq!(f.doc, Some(0));
        assert_eq!(f.paths, ["spec.ingress[0].ports[0].port"]);
        // The object and the field are their own fields, not repeated.
        assert_eq!(f.object.as_deref(), Some("NetworkPolicy lab/p"));
        assert_eq!(f.message, "port 0 is outside 1-65535");
    }

    #[test]
    fn describe_says_what_is_compared() {
        let c = check(
            "lab/a[Pod] => lab/b[Pod] : TCP 80\n",
            &["lab/a"],
            &["lab/*"],
        );
        assert_eq!(
            c.describe(),
            "exactly 1 allowed connection from lab/a to lab/*"
        );
        assert_eq!(
            check("", &[], &[]).describe(),
            "no connection allowed between all workloads and external IPs"
        );
    }
}
