//! seclab's built-in RBAC policy against upstream's golden files
//! (`rbac-bootstrap/` in the conformance data: kube-apiserver's bootstrap
//! roles and bindings as `plugin/pkg/auth/authorizer/rbac/bootstrappolicy/
//! testdata/` renders them; its SOURCE.md says which commit each file is
//! from).
//!
//! 1. Structure: every role, binding and its metadata in the golden files is
//!    among [`bootstrap_objects`] and grants exactly the same — the set of
//!    (verb, group, resource, name) and (verb, URL) tuples per role,
//!    aggregation selectors, labels and annotations; roleRef and subjects
//!    per binding — and seclab has nothing more, except the differences in
//!    [`DELIBERATE`].
//! 2. Behaviour: a user bound to each golden role gets, through seclab's
//!    authorizer, every grant the golden files give that role (aggregation
//!    resolved over the golden objects) and nothing more (the `only` check).
//!
//! seclab models the current release (v1.34). `cluster-roles.yaml` and the
//! namespaced files are of that era; `cluster-role-bindings.yaml` is older
//! (v1.14–v1.19 content), hence [`DELIBERATE`].

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use seclab_checkers::rbac::{Policy, RbacCheck, Request, ResourceRef, bootstrap_objects, grade};
use seclab_checkers::{KubeObject, Status};
use serde_json::{Value, json};

/// Objects seclab has that the golden files lack, each with the upstream
/// fact that puts it in a v1.34 cluster.
const DELIBERATE: &[(&str, &str, &str)] = &[
    (
        "ClusterRoleBinding",
        "system:monitoring",
        "binds ClusterRole system:monitoring to Group system:monitoring; newer \
         cluster-role-bindings.yaml (and policy.go's clusterRoleBindings) have it, the \
         golden file predates it although its role is in cluster-roles.yaml",
    ),
    (
        "ClusterRoleBinding",
        "system:service-account-issuer-discovery",
        "binds ClusterRole system:service-account-issuer-discovery to Group \
         system:serviceaccounts (policy.go adds it with ServiceAccountIssuerDiscovery, GA and \
         on by default since v1.21); the golden file predates it",
    ),
];

const FILES: &[&str] = &[
    "cluster-roles.yaml",
    "cluster-role-bindings.yaml",
    "namespace-roles.yaml",
    "namespace-role-bindings.yaml",
];

/// The items of the golden `List`s.
fn golden(dir: &Path) -> Vec<Value> {
    let mut out = Vec::new();
    for f in FILES {
        let text = std::fs::read_to_string(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        let list: Value = serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{f}: {e}"));
        let items = list["items"]
            .as_array()
            .unwrap_or_else(|| panic!("{f}: not a List"));
        out.extend(items.iter().cloned());
    }
    out
}

type Key = (String, String, String);

fn key(v: &Value) -> Key {
    let s = |p: &str| {
        v.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    (s("/kind"), s("/metadata/namespace"), s("/metadata/name"))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// One grant: `R verb group resource name` (`*name` = every name) or
/// `U verb url`.
fn atoms(rules: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for r in rules.as_array().map(Vec::as_slice).unwrap_or_default() {
        let verbs = strings(&r["verbs"]);
        for url in strings(&r["nonResourceURLs"]) {
            for v in &verbs {
                out.insert(format!("U {v} {url}"));
            }
        }
        let mut names = strings(&r["resourceNames"]);
        if names.is_empty() {
            names.push("*name".to_owned());
        }
        for g in strings(&r["apiGroups"]) {
            for res in strings(&r["resources"]) {
                for n in &names {
                    for v in &verbs {
                        out.insert(format!("R {v} {g} {res} {n}"));
                    }
                }
            }
        }
    }
    out
}

/// What a role or binding grants, in comparable form (metadata that only
/// records when the object was made, such as `creationTimestamp`, left out).
fn normal(v: &Value) -> Value {
    let selectors: BTreeSet<String> = v["aggregationRule"]["clusterRoleSelectors"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(Value::to_string)
        .collect();
    let subjects: BTreeSet<String> = v["subjects"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|s| {
            format!(
                "{} {} {} {}",
                s["kind"].as_str().unwrap_or(""),
                s["apiGroup"].as_str().unwrap_or(""),
                s["namespace"].as_str().unwrap_or(""),
                s["name"].as_str().unwrap_or("")
            )
        })
        .collect();
    json!({
        "labels": v["metadata"]["labels"],
        "annotations": v["metadata"]["annotations"],
        "grants": atoms(&v["rules"]),
        "aggregation": selectors,
        "roleRef": v["roleRef"],
        "subjects": subjects,
    })
}

#[test]
fn built_in_policy_is_upstreams() {
    let Some(dir) = common::conformance_dir("rbac-bootstrap") else {
        return;
    };
    let theirs: BTreeMap<Key, Value> = golden(&dir).iter().map(|v| (key(v), normal(v))).collect();
    let ours: BTreeMap<Key, Value> = bootstrap_objects()
        .iter()
        .map(|o| (key(&o.value), normal(&o.value)))
        .collect();
    assert_eq!(theirs.len(), 31 + 10 + 7 + 7, "the golden files changed");
    let mut wrong = Vec::new();
    for (k, want) in &theirs {
        match ours.get(k) {
            None => wrong.push(format!("missing {k:?}")),
            Some(got) if got != want => {
                wrong.push(format!("{k:?} differs:\n  ours   {got}\n  theirs {want}"));
            }
            Some(_) => {}
        }
    }
    for k in ours.keys().filter(|k| !theirs.contains_key(*k)) {
        if !DELIBERATE
            .iter()
            .any(|(kind, name, _)| (kind, name) == (&k.0.as_str(), &k.2.as_str()))
        {
            wrong.push(format!(
                "extra {k:?}, not in the golden files nor DELIBERATE"
            ));
        }
    }
    for (kind, name, why) in DELIBERATE {
        let k = ((*kind).to_owned(), String::new(), (*name).to_owned());
        assert!(
            !theirs.contains_key(&k),
            "{kind}/{name} is now in the golden files: drop it from DELIBERATE ({why})"
        );
        assert!(
            ours.contains_key(&k),
            "DELIBERATE {kind}/{name} is not modelled"
        );
        // The role it binds is in the golden roles.
        let role = ("ClusterRole".to_owned(), String::new(), (*name).to_owned());
        assert!(theirs.contains_key(&role), "{kind}/{name}: no golden role");
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Every grant of each golden role, aggregation resolved over the golden
/// ClusterRoles (the label selectors are all `matchLabels`).
fn effective(all: &[Value], role: &Value, depth: usize) -> BTreeSet<String> {
    assert!(depth < 8, "aggregation cycle");
    let Some(sels) = role["aggregationRule"]["clusterRoleSelectors"].as_array() else {
        return atoms(&role["rules"]);
    };
    let mut out = BTreeSet::new();
    for sel in sels {
        let want = sel["matchLabels"].as_object().cloned().unwrap_or_default();
        for other in all.iter().filter(|o| o["kind"] == "ClusterRole") {
            if other["metadata"]["name"] == role["metadata"]["name"] {
                continue;
            }
            let labels = &other["metadata"]["labels"];
            if want.iter().all(|(k, v)| &labels[k] == v) {
                out.extend(effective(all, other, depth + 1));
            }
        }
    }
    out
}

/// An atom as an `only` entry and the request it stands for.
fn entry_and_request(atom: &str, user: &str, ns: Option<&str>) -> (Value, Request) {
    let parts: Vec<&str> = atom.split(' ').collect();
    match parts.as_slice() {
        ["U", verb, url] => (
            // An entry is a path; `/*` is every path, as `*` is in a rule.
            json!({"verb": verb, "resource": if *url == "*" { "/*" } else { url }}),
            Request::non_resource(user, verb, url),
        ),
        ["R", verb, group, res, name] => {
            let (base, sub) = res
                .split_once('/')
                .map_or((*res, None), |(b, s)| (b, Some(s)));
            let resource = if group.is_empty() {
                (*res).to_owned()
            } else {
                format!(
                    "{base}.{group}{}",
                    sub.map(|s| format!("/{s}")).unwrap_or_default()
                )
            };
            let mut e = json!({"verb": verb, "resource": resource, "namespace": ns.unwrap_or("*")});
            let rref = ResourceRef {
                group: (*group).to_owned(),
                resource: base.to_owned(),
            };
            let mut r = Request::resource(user, verb, rref, ns.or(Some("probe-ns")));
            if let Some(s) = sub {
                r = r.with_subresource(s);
            }
            if *name != "*name" {
                e["name"] = json!(name);
                r = r.with_name(name);
            }
            (e, r)
        }
        _ => panic!("atom {atom}"),
    }
}

#[test]
fn each_golden_role_grants_exactly_its_rules_through_seclab() {
    let Some(dir) = common::conformance_dir("rbac-bootstrap") else {
        return;
    };
    let all = golden(&dir);
    let mut checked = 0;
    for role in all
        .iter()
        .filter(|o| matches!(o["kind"].as_str(), Some("ClusterRole" | "Role")))
    {
        let name = role["metadata"]["name"].as_str().unwrap_or_default();
        let ns = role["metadata"]["namespace"].as_str();
        let want = effective(&all, role, 0);
        // A probe user bound to the role, and nothing else in the workspace.
        let binding = match ns {
            None => json!({"kind": "ClusterRoleBinding", "metadata": {"name": "probe"},
                "subjects": [{"kind": "User", "name": "probe"}],
                "roleRef": {"kind": "ClusterRole", "name": name}}),
            Some(ns) => {
                json!({"kind": "RoleBinding", "metadata": {"name": "probe", "namespace": ns},
                "subjects": [{"kind": "User", "name": "probe"}],
                "roleRef": {"kind": "Role", "name": name}})
            }
        };
        let objs = [KubeObject::new(binding)];
        let (policy, notes) = Policy::from_objects(&objs).unwrap_or_else(|e| panic!("{e}"));
        assert!(notes.is_empty(), "{name}: {notes:?}");
        let mut only = Vec::new();
        for atom in &want {
            let (entry, req) = entry_and_request(atom, "probe", ns);
            assert!(policy.can(&req).allowed, "{name}: {atom} is not granted");
            only.push(entry);
        }
        let check: RbacCheck = serde_json::from_value(json!({"subject": "probe", "only": only}))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let v = grade(&check, &objs);
        assert_eq!(
            v.status,
            Status::Pass,
            "{name} grants more: {:#?}",
            v.findings
        );
        checked += 1;
    }
    assert_eq!(checked, 38);
}
