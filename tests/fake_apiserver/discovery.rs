//! The resource types the fake API server serves and its discovery documents
//! (`/api`, `/api/v1`, `/apis`, `/apis/G/V`, and aggregated discovery v2),
//! shaped like kube-apiserver v1.37's.

use serde_json::{Value, json};

/// One served resource type.
#[derive(Debug)]
pub struct ResourceType {
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    pub verbs: &'static [&'static str],
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
    /// (subresource, response kind, its group/version ("" = same), verbs)
    pub subresources: &'static [(
        &'static str,
        &'static str,
        &'static str,
        &'static [&'static str],
    )],
    /// Objects are kept (false: review types, answered and forgotten).
    pub stored: bool,
}

impl ResourceType {
    /// `v1` or `apps/v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_owned()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `configmaps` or `deployments.apps`, as Status messages name it.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_owned()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }
}

const RW: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
const NS_VERBS: &[&str] = &[
    "create", "delete", "get", "list", "patch", "update", "watch",
];
const STATUS: &[&str] = &["get", "patch", "update"];

/// Everything served, core group first.
pub static TYPES: &[ResourceType] = &[
    ResourceType {
        group: "",
        version: "v1",
        plural: "namespaces",
        singular: "namespace",
        kind: "Namespace",
        namespaced: false,
        verbs: NS_VERBS,
        short_names: &["ns"],
        categories: &[],
        subresources: &[
            ("finalize", "Namespace", "", &["update"]),
            ("status", "Namespace", "", STATUS),
        ],
        stored: true,
    },
    ResourceType {
        group: "",
        version: "v1",
        plural: "configmaps",
        singular: "configmap",
        kind: "ConfigMap",
        namespaced: true,
        verbs: RW,
        short_names: &["cm"],
        categories: &[],
        subresources: &[],
        stored: true,
    },
    ResourceType {
        group: "",
        version: "v1",
        plural: "secrets",
        singular: "secret",
        kind: "Secret",
        namespaced: true,
        verbs: RW,
        short_names: &[],
        categories: &[],
        subresources: &[],
        stored: true,
    },
    ResourceType {
        group: "",
        version: "v1",
        plural: "serviceaccounts",
        singular: "serviceaccount",
        kind: "ServiceAccount",
        namespaced: true,
        verbs: RW,
        short_names: &["sa"],
        categories: &[],
        subresources: &[(
            "token",
            "TokenRequest",
            "authentication.k8s.io/v1",
            &["create"],
        )],
        stored: true,
    },
    ResourceType {
        group: "",
        version: "v1",
        plural: "pods",
        singular: "pod",
        kind: "Pod",
        namespaced: true,
        verbs: RW,
        short_names: &["po"],
        categories: &["all"],
        subresources: &[
            ("attach", "PodAttachOptions", "", &["create", "get"]),
            ("binding", "Binding", "", &["create"]),
            ("ephemeralcontainers", "Pod", "", STATUS),
            ("eviction", "Eviction", "policy/v1", &["create"]),
            ("exec", "PodExecOptions", "", &["create", "get"]),
            ("log", "Pod", "", &["get"]),
            (
                "portforward",
                "PodPortForwardOptions",
                "",
                &["create", "get"],
            ),
            (
                "proxy",
                "PodProxyOptions",
                "",
                &["create", "delete", "get", "patch", "update"],
            ),
            ("resize", "Pod", "", STATUS),
            ("status", "Pod", "", STATUS),
        ],
        stored: true,
    },
    ResourceType {
        group: "",
        version: "v1",
        plural: "services",
        singular: "service",
        kind: "Service",
        namespaced: true,
        verbs: RW,
        short_names: &["svc"],
        categories: &["all"],
        subresources: &[
            (
                "proxy",
                "ServiceProxyOptions",
                "",
                &["create", "delete", "get", "patch", "update"],
            ),
            ("status", "Service", "", STATUS),
        ],
        stored: true,
    },
    ResourceType {
        group: "",
        version: "v1",
        plural: "nodes",
        singular: "node",
        kind: "Node",
        namespaced: false,
        verbs: RW,
        short_names: &["no"],
        categories: &[],
        subresources: &[("status", "Node", "", STATUS)],
        stored: true,
    },
    ResourceType {
        group: "apps",
        version: "v1",
        plural: "deployments",
        singular: "deployment",
        kind: "Deployment",
        namespaced: true,
        verbs: RW,
        short_names: &["deploy"],
        categories: &["all"],
        subresources: &[
            ("scale", "Scale", "autoscaling/v1", STATUS),
            ("status", "Deployment", "", STATUS),
        ],
        stored: true,
    },
    ResourceType {
        group: "apps",
        version: "v1",
        plural: "replicasets",
        singular: "replicaset",
        kind: "ReplicaSet",
        namespaced: true,
        verbs: RW,
        short_names: &["rs"],
        categories: &["all"],
        subresources: &[
            ("scale", "Scale", "autoscaling/v1", STATUS),
            ("status", "ReplicaSet", "", STATUS),
        ],
        stored: true,
    },
    ResourceType {
        group: "apps",
        version: "v1",
        plural: "statefulsets",
        singular: "statefulset",
        kind: "StatefulSet",
        namespaced: true,
        verbs: RW,
        short_names: &["sts"],
        categories: &["all"],
        subresources: &[
            ("scale", "Scale", "autoscaling/v1", STATUS),
            ("status", "StatefulSet", "", STATUS),
        ],
        stored: true,
    },
    ResourceType {
        group: "apps",
        version: "v1",
        plural: "daemonsets",
        singular: "daemonset",
        kind: "DaemonSet",
        namespaced: true,
        verbs: RW,
        short_names: &["ds"],
        categories: &["all"],
        subresources: &[("status", "DaemonSet", "", STATUS)],
        stored: true,
    },
    ResourceType {
        group: "networking.k8s.io",
        version: "v1",
        plural: "networkpolicies",
        singular: "networkpolicy",
        kind: "NetworkPolicy",
        namespaced: true,
        verbs: RW,
        short_names: &["netpol"],
        categories: &[],
        subresources: &[],
        stored: true,
    },
    ResourceType {
        group: "rbac.authorization.k8s.io",
        version: "v1",
        plural: "clusterrolebindings",
        singular: "clusterrolebinding",
        kind: "ClusterRoleBinding",
        namespaced: false,
        verbs: RW,
        short_names: &[],
        categories: &[],
        subresources: &[],
        stored: true,
    },
    ResourceType {
        group: "rbac.authorization.k8s.io",
        version: "v1",
        plural: "clusterroles",
        singular: "clusterrole",
        kind: "ClusterRole",
        namespaced: false,
        verbs: RW,
        short_names: &[],
        categories: &[],
        subresources: &[],
        stored: true,
    },
    ResourceType {
        group: "rbac.authorization.k8s.io",
        version: "v1",
        plural: "rolebindings",
        singular: "rolebinding",
        kind: "RoleBinding",
        namespaced: true,
        verbs: RW,
        short_names: &[],
        categories: &[],
        subresources: &[],
        stored: true,
    },
    ResourceType {
        group: "rbac.authorization.k8s.io",
        version: "v1",
        plural: "roles",
        singular: "role",
        kind: "Role",
        namespaced: true,
        verbs: RW,
        short_names: &[],
        categories: &[],
        subresources: &[],
        stored: true,
    },
    ResourceType {
        group: "batch",
        version: "v1",
        plural: "cronjobs",
        singular: "cronjob",
        kind: "CronJob",
        namespaced: true,
        verbs: RW,
        short_names: &["cj"],
        categories: &[],
        subresources: &[("status", "CronJob", "", STATUS)],
        stored: true,
    },
    ResourceType {
        group: "batch",
        version: "v1",
        plural: "jobs",
        singular: "job",
        kind: "Job",
        namespaced: true,
        verbs: RW,
        short_names: &[],
        categories: &[],
        subresources: &[("status", "Job", "", STATUS)],
        stored: true,
    },
    ResourceType {
        group: "admissionregistration.k8s.io",
        version: "v1",
        plural: "validatingadmissionpolicies",
        singular: "validatingadmissionpolicy",
        kind: "ValidatingAdmissionPolicy",
        namespaced: false,
        verbs: RW,
        short_names: &[],
        categories: &[],
        subresources: &[("status", "ValidatingAdmissionPolicy", "", STATUS)],
        stored: true,
    },
    ResourceType {
        group: "admissionregistration.k8s.io",
        version: "v1",
        plural: "validatingadmissionpolicybindings",
        singular: "validatingadmissionpolicybinding",
        kind: "ValidatingAdmissionPolicyBinding",
        namespaced: false,
        verbs: RW,
        short_names: &[],
        categories: &[],
        subresources: &[],
        stored: true,
    },
    ResourceType {
        group: "apiextensions.k8s.io",
        version: "v1",
        plural: "customresourcedefinitions",
        singular: "customresourcedefinition",
        kind: "CustomResourceDefinition",
        namespaced: false,
        verbs: RW,
        short_names: &["crd", "crds"],
        categories: &[],
        subresources: &[("status", "CustomResourceDefinition", "", STATUS)],
        stored: true,
    },
    ResourceType {
        group: "authorization.k8s.io",
        version: "v1",
        plural: "localsubjectaccessreviews",
        singular: "localsubjectaccessreview",
        kind: "LocalSubjectAccessReview",
        namespaced: true,
        verbs: &["create"],
        short_names: &[],
        categories: &[],
        subresources: &[],
        stored: false,
    },
    ResourceType {
        group: "authorization.k8s.io",
        version: "v1",
        plural: "selfsubjectaccessreviews",
        singular: "selfsubjectaccessreview",
        kind: "SelfSubjectAccessReview",
        namespaced: false,
        verbs: &["create"],
        short_names: &[],
        categories: &[],
        subresources: &[],
        stored: false,
    },
    ResourceType {
        group: "authorization.k8s.io",
        version: "v1",
        plural: "subjectaccessreviews",
        singular: "subjectaccessreview",
        kind: "SubjectAccessReview",
        namespaced: false,
        verbs: &["create"],
        short_names: &[],
        categories: &[],
        subresources: &[],
        stored: false,
    },
];

/// The named groups, in the order `/apis` lists them.
const GROUPS: &[&str] = &[
    "apps",
    "batch",
    "networking.k8s.io",
    "rbac.authorization.k8s.io",
    "authorization.k8s.io",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
];

/// The resource type served at `group`/`version` as `plural`.
pub fn find(group: &str, version: &str, plural: &str) -> Option<&'static ResourceType> {
    TYPES
        .iter()
        .find(|t| t.group == group && t.version == version && t.plural == plural)
}

/// The resource type of `kind` (kinds are unique among the served types).
pub fn by_kind(kind: &str) -> Option<&'static ResourceType> {
    TYPES.iter().find(|t| t.kind == kind)
}

/// Whether `group/version` is served.
pub fn serves(group: &str, version: &str) -> bool {
    TYPES
        .iter()
        .any(|t| t.group == group && t.version == version)
}

/// `/version` (kind v0.33.0's node image, Kubernetes v1.37.0).
pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "37",
        "emulationMajor": "1",
        "emulationMinor": "37",
        "minCompatibilityMajor": "1",
        "minCompatibilityMinor": "36",
        "gitVersion": "v1.37.0",
        "gitCommit": "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567",
        "gitTreeState": "clean",
        "buildDate": "2026-08-26T10:00:00Z",
        "goVersion": "go1.25.3",
        "compiler": "gc",
        "platform": "linux/amd64"
    })
}

/// `/api`: APIVersions.
pub fn core_versions() -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "172.18.0.2:6443"}]
    })
}

/// `/apis`: APIGroupList.
pub fn group_list() -> Value {
    let groups: Vec<Value> = GROUPS
        .iter()
        .map(|g| {
            let gv = json!({"groupVersion": format!("{g}/v1"), "version": "v1"});
            json!({"name": g, "versions": [gv.clone()], "preferredVersion": gv})
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/api/v1` or `/apis/G/V`: APIResourceList (subresources as `pods/exec` entries).
pub fn resource_list(group: &str, version: &str) -> Value {
    let mut resources = Vec::new();
    for t in TYPES
        .iter()
        .filter(|t| t.group == group && t.version == version)
    {
        let mut r = json!({
            "name": t.plural,
            "singularName": t.singular,
            "namespaced": t.namespaced,
            "kind": t.kind,
            "verbs": t.verbs,
        });
        if !t.short_names.is_empty() {
            r["shortNames"] = json!(t.short_names);
        }
        if !t.categories.is_empty() {
            r["categories"] = json!(t.categories);
        }
        resources.push(r);
        for (sub, kind, gv, verbs) in t.subresources {
            let mut s = json!({
                "name": format!("{}/{sub}", t.plural),
                "singularName": "",
                "namespaced": t.namespaced,
                "kind": kind,
                "verbs": verbs,
            });
            if let Some((g, v)) = gv.split_once('/') {
                s["group"] = json!(g);
                s["version"] = json!(v);
            }
            resources.push(s);
        }
    }
    let group_version = if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    };
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources})
}

/// The Accept value of aggregated discovery, also its response Content-Type.
pub const AGGREGATED: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// Aggregated discovery (`/api` with `core`, `/apis` otherwise): APIGroupDiscoveryList.
pub fn aggregated(core: bool) -> Value {
    let groups: Vec<&str> = if core { vec![""] } else { GROUPS.to_vec() };
    let items: Vec<Value> = groups
        .iter()
        .map(|g| {
            let resources: Vec<Value> = TYPES
                .iter()
                .filter(|t| t.group == *g)
                .map(|t| {
                    let subs: Vec<Value> = t
                        .subresources
                        .iter()
                        .map(|(sub, kind, gv, verbs)| {
                            let (sg, sv) = gv.split_once('/').unwrap_or((t.group, t.version));
                            json!({
                                "subresource": sub,
                                "responseKind": {"group": sg, "version": sv, "kind": kind},
                                "verbs": verbs
                            })
                        })
                        .collect();
                    let mut r = json!({
                        "resource": t.plural,
                        "responseKind": {"group": t.group, "version": t.version, "kind": t.kind},
                        "scope": if t.namespaced { "Namespaced" } else { "Cluster" },
                        "singularResource": t.singular,
                        "verbs": t.verbs,
                    });
                    if !t.short_names.is_empty() {
                        r["shortNames"] = json!(t.short_names);
                    }
                    if !t.categories.is_empty() {
                        r["categories"] = json!(t.categories);
                    }
                    if !subs.is_empty() {
                        r["subresources"] = json!(subs);
                    }
                    r
                })
                .collect();
            let metadata = if g.is_empty() {
                json!({"creationTimestamp": null})
            } else {
                json!({"name": g, "creationTimestamp": null})
            };
            json!({
                "metadata": metadata,
                "versions": [{"version": "v1", "resources": resources, "freshness": "Current"}]
            })
        })
        .collect();
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items})
}
