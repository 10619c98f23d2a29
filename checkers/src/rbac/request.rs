//! Authorization requests as the API server sees them — a user with groups,
//! a verb, and a resource (or a non-resource URL) — plus the helpers that
//! read `system:serviceaccount:<ns>:<name>` user names and `R[.GROUP]`
//! resource names.

use serde::Serialize;

use super::error::{Problem, RbacError};

/// The user-name prefix of service accounts.
pub const SA_PREFIX: &str = "system:serviceaccount:";

/// A resource type: plural resource name and API group (`""` = core).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ResourceRef {
    /// API group, `""` for the core group.
    pub group: String,
    /// Plural resource name, e.g. `deployments`.
    pub resource: String,
}

/// Resources outside the core group that people usually name without their
/// group, and the group kubectl's discovery would find for them.
const KNOWN_GROUPS: &[(&str, &str)] = &[
    ("deployments", "apps"),
    ("daemonsets", "apps"),
    ("statefulsets", "apps"),
    ("replicasets", "apps"),
    ("controllerrevisions", "apps"),
    ("jobs", "batch"),
    ("cronjobs", "batch"),
    ("roles", "rbac.authorization.k8s.io"),
    ("clusterroles", "rbac.authorization.k8s.io"),
    ("rolebindings", "rbac.authorization.k8s.io"),
    ("clusterrolebindings", "rbac.authorization.k8s.io"),
    ("networkpolicies", "networking.k8s.io"),
    ("ingresses", "networking.k8s.io"),
    ("certificatesigningrequests", "certificates.k8s.io"),
    (
        "validatingwebhookconfigurations",
        "admissionregistration.k8s.io",
    ),
    (
        "mutatingwebhookconfigurations",
        "admissionregistration.k8s.io",
    ),
    ("customresourcedefinitions", "apiextensions.k8s.io"),
    ("horizontalpodautoscalers", "autoscaling"),
    ("poddisruptionbudgets", "policy"),
    ("tokenreviews", "authentication.k8s.io"),
    ("subjectaccessreviews", "authorization.k8s.io"),
    ("storageclasses", "storage.k8s.io"),
];

impl ResourceRef {
    /// Reads `R[.GROUP]` as `kubectl auth can-i` does: `secrets` (core),
    /// `deployments.apps`, `*`. A well-known resource written without its
    /// group (`deployments`) gets the group kubectl's discovery would find
    /// (`apps`); the second value tells whether that happened. Write the
    /// subresource separately.
    pub fn parse(s: &str) -> Result<(ResourceRef, bool), RbacError> {
        let err = |problem| RbacError::new("check", None, "resource", problem);
        let s = s.trim();
        if s.is_empty() {
            return Err(err(Problem::Missing));
        }
        if s.contains('/') || s.contains(char::is_whitespace) {
            return Err(err(Problem::NotSupported {
                expected: "R[.GROUP] like `secrets` or `deployments.apps` (subresource separately)",
                got: s.to_owned(),
            }));
        }
        let (resource, group) = s.split_once('.').unwrap_or((s, ""));
        if resource.is_empty() {
            return Err(err(Problem::Missing));
        }
        let resource = resource.to_ascii_lowercase();
        if s.contains('.') {
            return Ok((
                ResourceRef {
                    group: group.to_ascii_lowercase(),
                    resource,
                },
                false,
            ));
        }
        match KNOWN_GROUPS.iter().find(|(r, _)| *r == resource) {
            Some((_, g)) => Ok((
                ResourceRef {
                    group: (*g).to_owned(),
                    resource,
                },
                true,
            )),
            None => Ok((
                ResourceRef {
                    group: String::new(),
                    resource,
                },
                false,
            )),
        }
    }

    /// `R.GROUP`, or `R` for the core group.
    pub fn display(&self) -> String {
        if self.group.is_empty() {
            self.resource.clone()
        } else {
            format!("{}.{}", self.resource, self.group)
        }
    }
}

/// What a request asks to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Action {
    /// A request on an API resource.
    Resource {
        /// Resource type and group.
        resource: ResourceRef,
        /// Subresource, e.g. `exec` for `pods/exec`.
        subresource: Option<String>,
        /// Object name; `None` for list/watch/create-without-name/collections.
        name: Option<String>,
        /// Namespace; `None` = a cluster-wide question (only
        /// `ClusterRoleBinding`s count).
        namespace: Option<String>,
    },
    /// A request on a non-resource URL such as `/healthz`.
    NonResource {
        /// The URL path.
        path: String,
    },
}

/// An authorization request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Request {
    /// User name; `system:serviceaccount:<ns>:<name>` for a service account.
    pub user: String,
    /// Groups the authenticator reported, besides the implied ones
    /// ([`implied_groups`]).
    pub groups: Vec<String>,
    /// The verb, e.g. `get`, `list`, `create`, `impersonate`.
    pub verb: String,
    /// What the request is on.
    pub action: Action,
}

impl Request {
    /// A resource request by `user` (no extra groups, no name, no
    /// subresource) in `namespace` (`None` = cluster-wide).
    pub fn resource(
        user: &str,
        verb: &str,
        resource: ResourceRef,
        namespace: Option<&str>,
    ) -> Self {
        Self {
            user: user.to_owned(),
            groups: Vec::new(),
            verb: verb.to_owned(),
            action: Action::Resource {
                resource,
                subresource: None,
                name: None,
                namespace: namespace.map(str::to_owned),
            },
        }
    }

    /// A non-resource request by `user` on `path`.
    pub fn non_resource(user: &str, verb: &str, path: &str) -> Self {
        Self {
            user: user.to_owned(),
            groups: Vec::new(),
            verb: verb.to_owned(),
            action: Action::NonResource {
                path: path.to_owned(),
            },
        }
    }

    /// The same request on a subresource.
    #[must_use]
    pub fn with_subresource(mut self, sub: &str) -> Self {
        if let Action::Resource { subresource, .. } = &mut self.action {
            *subresource = Some(sub.to_owned()).filter(|s| !s.is_empty());
        }
        self
    }

    /// The same request on the object `n`.
    #[must_use]
    pub fn with_name(mut self, n: &str) -> Self {
        if let Action::Resource { name, .. } = &mut self.action {
            *name = Some(n.to_owned()).filter(|s| !s.is_empty());
        }
        self
    }

    /// The same request with an extra group.
    #[must_use]
    pub fn with_group(mut self, group: &str) -> Self {
        self.groups.push(group.to_owned());
        self
    }

    /// The request's groups plus the implied ones.
    pub fn effective_groups(&self) -> Vec<String> {
        let mut g = self.groups.clone();
        for i in implied_groups(&self.user) {
            if !g.contains(&i) {
                g.push(i);
            }
        }
        g
    }
}

/// `(namespace, name)` of a `system:serviceaccount:<ns>:<name>` user name.
pub fn service_account_of(user: &str) -> Option<(&str, &str)> {
    let rest = user.strip_prefix(SA_PREFIX)?;
    let (ns, name) = rest.split_once(':')?;
    (!ns.is_empty() && !name.is_empty() && !name.contains(':')).then_some((ns, name))
}

/// The groups the API server adds for a user: `system:authenticated` for
/// everyone but `system:anonymous` (who gets `system:unauthenticated`), and
/// `system:serviceaccounts` plus `system:serviceaccounts:<ns>` for service
/// accounts.
pub fn implied_groups(user: &str) -> Vec<String> {
    if user == "system:anonymous" {
        return vec!["system:unauthenticated".to_owned()];
    }
    let mut g = Vec::new();
    if let Some((ns, _)) = service_account_of(user) {
        g.push("system:serviceaccounts".to_owned());
        g.push(format!("system:serviceaccounts:{ns}"));
    }
    g.push("system:authenticated".to_owned());
    g
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_resource_with_group() {
        let (r, inferred) =
            ResourceRef::parse("deployments.apps").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (r.resource.as_str(), r.group.as_str(), inferred),
            ("deployments", "apps", false)
        );
        let (r, inferred) = ResourceRef::parse("secrets").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (r.resource.as_str(), r.group.as_str(), inferred),
            ("secrets", "", false)
        );
        let (r, inferred) = ResourceRef::parse("cronjobs").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((r.group.as_str(), inferred), ("batch", true));
        let (r, _) =
            ResourceRef::parse("certificates.cert-manager.io").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.group, "cert-manager.io");
        assert!(ResourceRef::parse("").is_err());
        assert!(ResourceRef::parse("pods/exec").is_err());
        assert!(ResourceRef::parse(".apps").is_err());
    }

    #[test]
    fn service_account_users() {
        assert_eq!(
            service_account_of("system:serviceaccount:ns:sa"),
            Some(("ns", "sa"))
        );
        assert_eq!(service_account_of("system:serviceaccount:ns"), None);
        assert_eq!(service_account_of("system:serviceaccount::sa"), None);
        assert_eq!(service_account_of("system:serviceaccount:a:b:c"), None);
        assert_eq!(service_account_of("alice"), None);
        assert_eq!(
            implied_groups("system:serviceaccount:ns:sa"),
            [
                "system:serviceaccounts",
                "system:serviceaccounts:ns",
                "system:authenticated"
            ]
        );
        assert_eq!(implied_groups("alice"), ["system:authenticated"]);
        assert_eq!(
            implied_groups("system:anonymous"),
            ["system:unauthenticated"]
        );
    }
}
