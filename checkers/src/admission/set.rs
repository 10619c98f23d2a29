//! A set of admission policies read from manifests: every
//! ValidatingAdmissionPolicy with its bindings, every Kyverno policy, and
//! the other objects as params.

use serde_json::Value;

use super::eval::{Decision, Semantics, World, evaluate};
use super::kyverno::{KyvernoPolicy, is_kyverno_policy};
use super::policy::{Binding, Problem, Vap, is_binding, is_policy};
use super::request::Request;
use crate::KubeObject;

/// Where a policy or binding came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The file.
    pub source: Option<String>,
    /// The document index in that file.
    pub doc: usize,
}

impl Origin {
    fn of(o: &KubeObject) -> Self {
        Self {
            source: o.source.clone(),
            doc: o.doc,
        }
    }
}

/// The policies, bindings and params of some manifests.
#[derive(Debug, Default)]
pub struct PolicySet {
    /// ValidatingAdmissionPolicies.
    pub vaps: Vec<(Origin, Vap)>,
    /// Their bindings.
    pub bindings: Vec<(Origin, Binding)>,
    /// Kyverno policies.
    pub kyverno: Vec<(Origin, KyvernoPolicy)>,
    /// Every other object (params for a paramRef).
    pub params: Vec<Value>,
}

/// A problem of a policy or binding, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// Where the document is.
    pub origin: Origin,
    /// `Kind/name` of the document.
    pub what: String,
    /// The problem (its path inside the document).
    pub problem: Problem,
}

impl PolicySet {
    /// Sorts `objects` into policies, bindings, Kyverno policies and
    /// params.
    pub fn from_objects(objects: &[KubeObject]) -> Self {
        let mut set = Self::default();
        for o in objects {
            if is_policy(&o.value) {
                set.vaps.push((Origin::of(o), Vap::parse(&o.value)));
            } else if is_binding(&o.value) {
                set.bindings.push((Origin::of(o), Binding::parse(&o.value)));
            } else if is_kyverno_policy(&o.value) {
                set.kyverno
                    .push((Origin::of(o), KyvernoPolicy::parse(&o.value)));
            } else {
                set.params.push(o.value.clone());
            }
        }
        set
    }

    /// Whether the set holds no policy at all.
    pub fn is_empty(&self) -> bool {
        self.vaps.is_empty() && self.kyverno.is_empty()
    }

    /// Every problem the API server (or Kyverno) would refuse the
    /// policies and bindings for, plus bindings of no policy in the set.
    pub fn problems(&self) -> Vec<Located> {
        let mut out = Vec::new();
        for (o, p) in &self.vaps {
            for problem in &p.problems {
                out.push(Located {
                    origin: o.clone(),
                    what: format!("ValidatingAdmissionPolicy/{}", p.name),
                    problem: problem.clone(),
                });
            }
        }
        for (o, b) in &self.bindings {
            for problem in &b.problems {
                out.push(Located {
                    origin: o.clone(),
                    what: format!("ValidatingAdmissionPolicyBinding/{}", b.name),
                    problem: problem.clone(),
                });
            }
        }
        for (o, k) in &self.kyverno {
            for problem in &k.problems {
                out.push(Located {
                    origin: o.clone(),
                    what: format!("{}/{}", k.kind, k.name),
                    problem: problem.clone(),
                });
            }
        }
        out
    }

    /// Bindings whose `policyName` names no policy in the set.
    pub fn orphan_bindings(&self) -> Vec<&Binding> {
        self.bindings
            .iter()
            .map(|(_, b)| b)
            .filter(|b| !self.vaps.iter().any(|(_, p)| p.name == b.policy_name))
            .collect()
    }

    /// Names of the ValidatingAdmissionPolicies that have no binding.
    pub fn unbound(&self) -> Vec<&str> {
        self.vaps
            .iter()
            .map(|(_, p)| p.name.as_str())
            .filter(|n| !self.bindings.iter().any(|(_, b)| b.policy_name == *n))
            .collect()
    }

    /// Every decision for one request: each policy with each of its
    /// bindings (implied when it has none), then each Kyverno policy.
    /// `world.params` is extended with the set's params.
    pub fn decide(&self, req: &Request, world: &World, semantics: Semantics) -> Vec<Decision> {
        let mut world = world.clone();
        world.params.extend(self.params.iter().cloned());
        let mut out = Vec::new();
        for (_, p) in &self.vaps {
            let bindings: Vec<&Binding> = self
                .bindings
                .iter()
                .map(|(_, b)| b)
                .filter(|b| b.policy_name == p.name)
                .collect();
            out.extend(evaluate(p, &bindings, req, &world, semantics));
        }
        for (_, k) in &self.kyverno {
            out.extend(k.evaluate(req, &world));
        }
        out
    }
}
