//! The Polaris RBAC fixtures (exec/attach and cluster-admin checks) read
//! through [`Policy`], with answers decided from Kubernetes semantics.
//!
//! Polaris flags every `failure*` file and passes every `success*` file of a
//! check. Our questions are "can some bound subject exec/attach into pods?"
//! and "does some bound subject hold every verb on every resource?". They
//! agree with Polaris except where Polaris applies its own policy, listed in
//! `DIFFERS` with the reason: its exemptions by name (`system:` prefixes, the
//! default `admin`/`cluster-admin` roles, the GCE calico role) and its
//! treatment of a binding to a missing role as dangerous (it grants nothing).

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use seclab_checkers::KubeObject;
use seclab_checkers::rbac::{Policy, ResourceRef, RiskKind};
use serde_json::json;

const EXEC_DIRS: [&str; 5] = [
    "clusterrolePodExecAttach",
    "rolePodExecAttach",
    "clusterrolebindingPodExecAttach",
    "rolebindingClusterRolePodExecAttach",
    "rolebindingRolePodExecAttach",
];

const ADMIN_DIRS: [&str; 3] = [
    "clusterrolebindingClusterAdmin",
    "rolebindingClusterAdminClusterRole",
    "rolebindingClusterAdminRole",
];

/// `dir/file` where our answer is the opposite of Polaris's, and why.
const DIFFERS: &[(&str, &str)] = &[
    // Polaris exempts these by name; the rules do grant exec/attach.
    (
        "clusterrolePodExecAttach/success.defaultclusterrole_admin.yaml",
        "exempt default role",
    ),
    (
        "clusterrolePodExecAttach/success.defaultclusterrole_clusteradmin.yaml",
        "exempt default role",
    ),
    (
        "clusterrolePodExecAttach/success.gce_calico_clusterrole.yaml",
        "exempt by name, all wildcards",
    ),
    (
        "clusterrolePodExecAttach/success.system_prefix.yaml",
        "exempt system: prefix, all wildcards",
    ),
    (
        "rolePodExecAttach/success.gce_calico_binding.yaml",
        "exempt by name, all wildcards",
    ),
    (
        "rolePodExecAttach/success.system_prefix_binding.yaml",
        "exempt system: prefix, all wildcards",
    ),
    (
        "clusterrolebindingPodExecAttach/success.defaultclusterrolebinding_clusteradmin.yaml",
        "exempt default binding; its role allows create pods/exec",
    ),
    (
        "clusterrolebindingPodExecAttach/success.defaultclusterrolebinding_system-controller-generic-garbage-collector.yaml",
        "exempt system: binding; role allows create pods/attach",
    ),
    (
        "clusterrolebindingPodExecAttach/success.gce_calico_binding.yaml",
        "exempt binding name, all wildcards",
    ),
    (
        "clusterrolebindingPodExecAttach/success.system_prefix_binding.yaml",
        "exempt system: binding, all wildcards",
    ),
    (
        "rolebindingClusterRolePodExecAttach/success.gce_calico_binding.yaml",
        "exempt binding name",
    ),
    (
        "rolebindingClusterRolePodExecAttach/success.system_prefix_binding.yaml",
        "exempt system: binding",
    ),
    (
        "rolebindingRolePodExecAttach/success.gce_calico_binding.yaml",
        "exempt binding name",
    ),
    (
        "rolebindingRolePodExecAttach/success.system_prefix_binding.yaml",
        "exempt system: binding",
    ),
    // Polaris's Role-ref check ignores a RoleBinding to a ClusterRole; the
    // wildcard ClusterRole still allows exec in my-namespace.
    (
        "rolebindingRolePodExecAttach/success.role_binding_cluster_role_binding.yaml",
        "RoleBinding to wildcard ClusterRole",
    ),
    // A binding to a role that does not exist grants nothing.
    (
        "clusterrolebindingPodExecAttach/failure.binding_points_to_missing_ref.yaml",
        "missing role grants nothing",
    ),
    (
        "rolebindingClusterRolePodExecAttach/failure.binding_points_to_missing_ref.yaml",
        "missing role grants nothing",
    ),
    (
        "rolebindingRolePodExecAttach/failure.binding_points_to_missing_ref.yaml",
        "missing role grants nothing",
    ),
    // (The files that redefine cluster-admin narrowly, `failure.
    // default_clusteradmin_clusterrole.yaml`, agree with Polaris: the API
    // server reconciles the built-in cluster-admin back, so it keeps full
    // access whatever the manifest says.)
    // Exempt binding names; the wildcard role is full access.
    (
        "clusterrolebindingClusterAdmin/success.gce_calico_binding.yaml",
        "exempt binding name",
    ),
    (
        "clusterrolebindingClusterAdmin/success.system_prefix_binding.yaml",
        "exempt system: binding",
    ),
    (
        "rolebindingClusterAdminClusterRole/success.gce_calico_binding.yaml",
        "exempt binding name",
    ),
    (
        "rolebindingClusterAdminClusterRole/success.system_prefix_binding.yaml",
        "exempt system: binding",
    ),
    (
        "rolebindingClusterAdminRole/success.gce_calico_binding.yaml",
        "exempt binding name",
    ),
    (
        "rolebindingClusterAdminRole/success.system_prefix_binding.yaml",
        "exempt system: binding",
    ),
];

fn load(path: &Path) -> Vec<KubeObject> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_saphyr::from_multiple::<serde_json::Value>(&text)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .into_iter()
        .filter(|v| !v.is_null())
        .map(|value| KubeObject {
            source: Some(path.display().to_string()),
            doc: 0,
            value,
        })
        .collect()
}

/// For role-only fixtures: bind every role to the user `probe`.
fn probe_bindings(objs: &[KubeObject]) -> Vec<KubeObject> {
    objs.iter()
        .filter_map(|o| {
            let subjects = json!([{"kind": "User", "name": "probe"}]);
            match o.kind() {
                "ClusterRole" => Some(json!({"kind": "ClusterRoleBinding",
                    "metadata": {"name": format!("probe-{}", o.name())},
                    "roleRef": {"kind": "ClusterRole", "name": o.name()}, "subjects": subjects})),
                "Role" => Some(json!({"kind": "RoleBinding",
                    "metadata": {"name": format!("probe-{}", o.name()), "namespace": o.namespace().unwrap_or("default")},
                    "roleRef": {"kind": "Role", "name": o.name()}, "subjects": subjects})),
                _ => None,
            }
        })
        .map(KubeObject::new)
        .collect()
}

fn exec_attach(p: &Policy) -> bool {
    p.risky().iter().any(|r| r.what == RiskKind::ExecAttach)
}

/// Some subject may do every write and read verb on an arbitrary resource
/// of an arbitrary group, and read secrets, in namespace `test`.
fn full_access(p: &Policy) -> bool {
    let widgets = ResourceRef {
        group: "example.com".into(),
        resource: "widgets".into(),
    };
    let secrets = ResourceRef {
        group: String::new(),
        resource: "secrets".into(),
    };
    let subjects = |verb: &str, r: &ResourceRef| -> BTreeSet<String> {
        // The manifests' doing only: system:masters has everything in
        // every cluster.
        p.who_can(verb, r, None, Some("test"))
            .into_iter()
            .filter(|(_, grants)| grants.iter().any(|g| !g.builtin_binding))
            .map(|(s, _)| s.to_string())
            .collect()
    };
    let mut all = subjects("get", &secrets);
    for verb in [
        "get", "list", "watch", "create", "update", "patch", "delete",
    ] {
        all = all
            .intersection(&subjects(verb, &widgets))
            .cloned()
            .collect();
    }
    !all.is_empty()
}

#[test]
fn polaris_rbac_fixtures() {
    let Some(base) = common::conformance_dir("polaris") else {
        return;
    };
    let mut checked = 0;
    let mut wrong = Vec::new();
    let mut differs_seen = BTreeSet::new();
    for (dirs, question) in [
        (&EXEC_DIRS[..], "exec/attach"),
        (&ADMIN_DIRS[..], "full access"),
    ] {
        for dir in dirs {
            let mut files: Vec<_> = std::fs::read_dir(base.join("checks").join(dir))
                .unwrap_or_else(|e| panic!("{dir}: {e}"))
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
                .collect();
            files.sort();
            for path in files {
                let file = path
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let key = format!("{dir}/{file}");
                let mut objs = load(&path);
                if matches!(*dir, "clusterrolePodExecAttach" | "rolePodExecAttach") {
                    let probes = probe_bindings(&objs);
                    objs.extend(probes);
                }
                let (p, _notes) =
                    Policy::from_objects(&objs).unwrap_or_else(|e| panic!("{key}: {e}"));
                let ours = if question == "exec/attach" {
                    exec_attach(&p)
                } else {
                    full_access(&p)
                };
                let polaris = file.starts_with("failure");
                let differs = DIFFERS.iter().any(|(k, _)| *k == key);
                if differs {
                    differs_seen.insert(key.clone());
                }
                if ours != (polaris != differs) {
                    wrong.push(format!("{key}: {question} = {ours}"));
                }
                checked += 1;
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "unexpected answers:\n{}",
        wrong.join("\n")
    );
    assert_eq!(
        differs_seen.len(),
        DIFFERS.len(),
        "every DIFFERS entry names a fixture"
    );
    assert!(checked >= 120, "only {checked} fixtures found");
    eprintln!(
        "checked {checked} Polaris RBAC fixtures ({} differ from Polaris by design)",
        DIFFERS.len()
    );
}

/// A binding to a missing role is reported as a note, not an error.
#[test]
fn polaris_missing_ref_is_a_note() {
    let Some(base) = common::conformance_dir("polaris") else {
        return;
    };
    let objs = load(
        &base
            .join("checks/rolebindingRolePodExecAttach/failure.binding_points_to_missing_ref.yaml"),
    );
    let (_, notes) = Policy::from_objects(&objs).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        notes
            .iter()
            .any(|n| n.message.contains("Role test/does-not-exist")),
        "{notes:?}"
    );
}
