//! The usual RBAC privilege-escalation paths: which subjects can read
//! secrets, exec into pods, start pods, escalate/bind/impersonate, or hold
//! wildcards — each with the grants that give it and why it matters.

use std::collections::BTreeMap;

use serde::Serialize;

use super::model::{RBAC_GROUP, Subject};
use super::policy::{Grant, Policy};
use super::rule::{ALL, Rule};

/// A kind of dangerous permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RiskKind {
    /// get/list/watch on `secrets`.
    ReadSecrets,
    /// create (or get, for older clients) on `pods/exec` or `pods/attach`.
    ExecAttach,
    /// create on pods or a workload kind that makes pods.
    CreateWorkloads,
    /// `escalate` on roles/clusterroles.
    Escalate,
    /// `bind` on roles/clusterroles.
    Bind,
    /// `impersonate` on users, groups, service accounts or uids.
    Impersonate,
    /// `*` in verbs, resources or apiGroups.
    Wildcard,
}

impl RiskKind {
    /// Why this permission is dangerous, in one sentence.
    pub fn why(self) -> &'static str {
        match self {
            Self::ReadSecrets => {
                "can read Secrets, including service account tokens of more privileged accounts"
            }
            Self::ExecAttach => {
                "can exec/attach into pods and act with their service accounts and files"
            }
            Self::CreateWorkloads => {
                "can start pods (directly or via a workload), mounting any Secret or service \
                 account of the namespace, or the host if admission allows"
            }
            Self::Escalate => "can create or edit roles with permissions it does not hold",
            Self::Bind => "can bind any role, including ones more powerful than its own",
            Self::Impersonate => "can act as other users, groups or service accounts",
            Self::Wildcard => {
                "holds a wildcard, which also grants resources and verbs added in the future"
            }
        }
    }
}

/// One dangerous permission of one subject.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Risk {
    /// Who holds it (as bound; groups are not expanded).
    pub subject: Subject,
    /// What it is.
    pub what: RiskKind,
    /// Why it matters ([`RiskKind::why`]).
    pub why: &'static str,
    /// The grants that give it.
    pub because: Vec<Grant>,
}

/// (verb, group, resource, subresource) checks per risk, names ignored (a
/// rule limited to resourceNames still grants it for those objects).
/// One check: the risk, verbs (any), API group, resources (any), subresource.
type Check = (
    RiskKind,
    &'static [&'static str],
    &'static str,
    &'static [&'static str],
    Option<&'static str>,
);

const CHECKS: &[Check] = &[
    (
        RiskKind::ReadSecrets,
        &["get", "list", "watch"],
        "",
        &["secrets"],
        None,
    ),
    (
        RiskKind::ExecAttach,
        &["create", "get"],
        "",
        &["pods"],
        Some("exec"),
    ),
    (
        RiskKind::ExecAttach,
        &["create", "get"],
        "",
        &["pods"],
        Some("attach"),
    ),
    (
        RiskKind::CreateWorkloads,
        &["create"],
        "",
        &["pods", "replicationcontrollers"],
        None,
    ),
    (
        RiskKind::CreateWorkloads,
        &["create"],
        "apps",
        &["deployments", "daemonsets", "statefulsets", "replicasets"],
        None,
    ),
    (
        RiskKind::CreateWorkloads,
        &["create"],
        "batch",
        &["jobs", "cronjobs"],
        None,
    ),
    (
        RiskKind::Escalate,
        &["escalate"],
        RBAC_GROUP,
        &["roles", "clusterroles"],
        None,
    ),
    (
        RiskKind::Bind,
        &["bind"],
        RBAC_GROUP,
        &["roles", "clusterroles"],
        None,
    ),
    (
        RiskKind::Impersonate,
        &["impersonate"],
        "",
        &["users", "groups", "serviceaccounts"],
        None,
    ),
    (
        RiskKind::Impersonate,
        &["impersonate"],
        "authentication.k8s.io",
        &["uids"],
        None,
    ),
];

/// The risks one rule carries.
pub(crate) fn rule_risks(rule: &Rule) -> Vec<RiskKind> {
    let mut out = Vec::new();
    for (kind, verbs, group, resources, sub) in CHECKS {
        let hit = verbs.iter().any(|v| rule.verb_matches(v))
            && rule.group_matches(group)
            && resources.iter().any(|r| rule.resource_matches(r, *sub));
        if hit && !out.contains(kind) {
            out.push(*kind);
        }
    }
    let star = |xs: &[String]| xs.iter().any(|x| x == ALL);
    if star(&rule.verbs) || star(&rule.resources) || star(&rule.api_groups) {
        out.push(RiskKind::Wildcard);
    }
    out
}

impl Policy {
    /// Every subject holding a dangerous permission through some binding,
    /// sorted by subject and kind, with the grants.
    pub fn risky(&self) -> Vec<Risk> {
        let mut map: BTreeMap<(Subject, RiskKind), Vec<Grant>> = BTreeMap::new();
        for b in &self.bindings {
            for r in &b.rules {
                for kind in rule_risks(&r.rule) {
                    for s in &b.subjects {
                        map.entry((s.clone(), kind)).or_default().push(b.grant(r));
                    }
                }
            }
        }
        map.into_iter()
            .map(|((subject, what), because)| Risk {
                subject,
                what,
                why: what.why(),
                because,
            })
            .collect()
    }
}
