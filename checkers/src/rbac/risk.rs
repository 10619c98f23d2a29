//! The usual RBAC privilege-escalation paths: which subjects can read
//! secrets, exec into pods, start pods, mint tokens, reach the kubelet,
//! approve certificates, intercept admission, mount the host, escalate, bind
//! or impersonate, or hold wildcards — each with the grants that give it and
//! why it matters.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Serialize;

use super::model::{RBAC_GROUP, Subject};
use super::policy::{Bound, EffectiveRule, Grant, Policy};
use super::rule::{ALL, Rule};

/// A kind of dangerous permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RiskKind {
    /// get/list/watch on `secrets`.
    ReadSecrets,
    /// create (or get, for older clients) on `pods/exec` or `pods/attach`.
    ExecAttach,
    /// update/patch on `pods/ephemeralcontainers`.
    EphemeralContainers,
    /// create on pods or a workload kind that makes pods, or update/patch on
    /// one (which changes what it runs).
    CreateWorkloads,
    /// create on `serviceaccounts/token`.
    CreateTokens,
    /// any verb on `nodes/proxy`.
    NodeProxy,
    /// update/patch on `certificatesigningrequests/approval`.
    ApproveCertificates,
    /// create/update/patch on validating or mutating webhook configurations.
    AdmissionWebhooks,
    /// create on `persistentvolumes`.
    CreatePersistentVolumes,
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
            Self::EphemeralContainers => {
                "can add a container to a running pod and run anything in it, with the pod's \
                 service account, volumes and network"
            }
            Self::CreateWorkloads => {
                "can start pods or change what they run (directly or via a workload), mounting \
                 any Secret or service account of the namespace, or the host if admission allows"
            }
            Self::CreateTokens => {
                "can mint tokens for service accounts (TokenRequest) and act as them"
            }
            Self::NodeProxy => {
                "can reach the kubelet API through the API server, which runs commands in any \
                 pod on the node, bypassing admission and the audit of exec"
            }
            Self::ApproveCertificates => {
                "can approve certificate signing requests (with approve on the signer), issuing \
                 client certificates for other users and groups"
            }
            Self::AdmissionWebhooks => {
                "can register admission webhooks, which see (and may change) every object \
                 written to the cluster, Secrets included"
            }
            Self::CreatePersistentVolumes => {
                "can create PersistentVolumes, e.g. a hostPath on a node's filesystem, and so \
                 mount the host into a pod"
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
    /// Who holds it, as bound.
    pub subject: Subject,
    /// For a group the API server fills by itself, who it covers
    /// ([`Policy::covers`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub covers: Option<String>,
    /// The users and service accounts seen in the objects that such a group
    /// covers ([`Policy::members`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<Subject>,
    /// What it is.
    pub what: RiskKind,
    /// Why it matters: [`RiskKind::why`], or narrower when the grants are
    /// (Secrets limited by resourceNames).
    pub why: String,
    /// The grants that give it.
    pub because: Vec<Grant>,
}

/// One check: the risk, verbs (any), API group, resources (any), subresource.
type Check = (
    RiskKind,
    &'static [&'static str],
    &'static str,
    &'static [&'static str],
    Option<&'static str>,
);

/// Workload kinds by group: creating one starts pods, changing one changes
/// what they run.
const WORKLOADS: &[(&str, &[&str])] = &[
    ("", &["pods", "replicationcontrollers"]),
    (
        "apps",
        &["deployments", "daemonsets", "statefulsets", "replicasets"],
    ),
    ("batch", &["jobs", "cronjobs"]),
];

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
        RiskKind::EphemeralContainers,
        &["update", "patch"],
        "",
        &["pods"],
        Some("ephemeralcontainers"),
    ),
    (
        RiskKind::CreateTokens,
        &["create"],
        "",
        &["serviceaccounts"],
        Some("token"),
    ),
    (
        RiskKind::NodeProxy,
        &[
            "get", "create", "update", "patch", "delete", "list", "watch",
        ],
        "",
        &["nodes"],
        Some("proxy"),
    ),
    (
        RiskKind::ApproveCertificates,
        &["update", "patch"],
        "certificates.k8s.io",
        &["certificatesigningrequests"],
        Some("approval"),
    ),
    (
        RiskKind::AdmissionWebhooks,
        &["create", "update", "patch"],
        "admissionregistration.k8s.io",
        &[
            "mutatingwebhookconfigurations",
            "validatingwebhookconfigurations",
        ],
        None,
    ),
    (
        RiskKind::CreatePersistentVolumes,
        &["create"],
        "",
        &["persistentvolumes"],
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

fn hits(rule: &Rule, verbs: &[&str], group: &str, resources: &[&str], sub: Option<&str>) -> bool {
    verbs.iter().any(|v| rule.verb_matches(v))
        && rule.group_matches(group)
        && resources.iter().any(|r| rule.resource_matches(r, sub))
}

/// The risks one rule carries. Names are ignored: a rule limited to
/// resourceNames still grants the risk for those objects (the reason then
/// says which, see [`Policy::risky`]).
pub(crate) fn rule_risks(rule: &Rule) -> Vec<RiskKind> {
    let mut out = Vec::new();
    let mut add = |k: RiskKind| {
        if !out.contains(&k) {
            out.push(k);
        }
    };
    for (kind, verbs, group, resources, sub) in CHECKS {
        if hits(rule, verbs, group, resources, *sub) {
            add(*kind);
        }
    }
    for (group, resources) in WORKLOADS {
        if hits(rule, &["create", "update", "patch"], group, resources, None) {
            add(RiskKind::CreateWorkloads);
        }
    }
    let star = |xs: &[String]| xs.iter().any(|x| x == ALL);
    if star(&rule.verbs) || star(&rule.resources) || star(&rule.api_groups) {
        add(RiskKind::Wildcard);
    }
    out.sort();
    out
}

impl Policy {
    /// Every subject holding a dangerous permission through one of the
    /// workspace's bindings (to its own roles or to built-in ones such as
    /// `edit`), sorted by subject and kind, with the grants. The subjects of
    /// the built-in bindings every cluster has (the control plane's,
    /// `system:masters`) are left out: they are not the manifests' doing,
    /// and none of them is an ordinary identity; a subject the manifests add
    /// to a built-in binding counts, and so does every subject of a rule
    /// the manifests add to a built-in role.
    pub fn risky(&self) -> Vec<Risk> {
        let mut map: BTreeMap<(Subject, RiskKind), Vec<(&Bound, &EffectiveRule)>> = BTreeMap::new();
        for b in &self.bindings {
            for r in &b.rules {
                // A rule the manifests add to a built-in role reaches every
                // subject of its bindings, built-in ones included.
                let subjects = if r.rule.builtin {
                    &b.workspace_subjects
                } else {
                    &b.subjects
                };
                for kind in rule_risks(&r.rule) {
                    for s in subjects {
                        map.entry((s.clone(), kind)).or_default().push((b, r));
                    }
                }
            }
        }
        map.into_iter()
            .map(|((subject, what), grants)| Risk {
                covers: Policy::covers(&subject),
                members: self.members(&subject),
                why: if what == RiskKind::ReadSecrets {
                    self.secrets_why(&grants)
                } else {
                    what.why().to_owned()
                },
                because: grants.iter().map(|(b, r)| b.grant(r)).collect(),
                subject,
                what,
            })
            .collect()
    }

    /// Why reading Secrets matters, given the grants: every Secret (the
    /// general reason), or only Secrets named by resourceNames, which are
    /// service-account tokens only when the objects say so.
    fn secrets_why(&self, grants: &[(&Bound, &EffectiveRule)]) -> String {
        if grants.iter().any(|(_, r)| r.rule.resource_names.is_empty()) {
            return RiskKind::ReadSecrets.why().to_owned();
        }
        let mut named = BTreeSet::new();
        let mut tokens = BTreeSet::new();
        let mut unknown = false;
        for (b, r) in grants {
            for n in &r.rule.resource_names {
                let place = b.namespace.as_ref().map_or_else(
                    || format!("{n} (in any namespace)"),
                    |ns| format!("{ns}/{n}"),
                );
                named.insert(place.clone());
                let found: Vec<_> = self
                    .secrets
                    .iter()
                    .filter(|s| {
                        &s.name == n && b.namespace.as_ref().is_none_or(|ns| ns == &s.namespace)
                    })
                    .collect();
                if found.is_empty() {
                    unknown = true;
                }
                for s in found {
                    if let Some(account) = &s.token_of {
                        let of = if account.is_empty() {
                            String::new()
                        } else {
                            format!(" of ServiceAccount {}/{account}", s.namespace)
                        };
                        tokens.insert(format!("{}/{}{of}", s.namespace, s.name));
                    }
                }
            }
        }
        let list = named.into_iter().collect::<Vec<_>>().join(", ");
        let mut why = format!("can read the Secrets named {list}");
        if tokens.is_empty() {
            why.push_str(if unknown {
                " (a service-account token only if that Secret is one; it is not among the objects)"
            } else {
                " (none of them a service-account token)"
            });
        } else {
            let _ = write!(
                why,
                ", among them the service-account token Secret {}, and with it that account's \
                 permissions",
                tokens.into_iter().collect::<Vec<_>>().join(", ")
            );
        }
        why
    }
}
