//! The default RBAC policy every cluster has (kube-apiserver's bootstrap
//! roles and bindings: `cluster-admin`, `admin`, `edit`, `view` and their
//! `system:aggregate-to-*` parts, `system:basic-user`, `system:discovery`,
//! `system:public-info-viewer`, the control-plane components' roles, ...),
//! written in seclab's own notation in `bootstrap.rbac` and turned into
//! ordinary RBAC objects here, so that they go through the same reader as
//! the workspace's manifests.
//!
//! `checkers/tests/rbac_bootstrap.rs` proves that these objects grant
//! exactly what upstream's golden files grant.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde_json::{Map, Value, json};

use super::model::{self, Parsed, RBAC_GROUP};
use crate::KubeObject;

/// The notation, embedded.
const SOURCE: &str = include_str!("bootstrap.rbac");

/// The annotation that makes the API server reconcile an object back to its
/// bootstrap definition at every start (unless it is `"false"`).
pub const AUTOUPDATE: &str = "rbac.authorization.kubernetes.io/autoupdate";

/// The label every bootstrap object carries.
const BOOTSTRAPPING: (&str, &str) = ("kubernetes.io/bootstrapping", "rbac-defaults");

static OBJECTS: LazyLock<Vec<KubeObject>> = LazyLock::new(|| {
    // The notation is part of the build and `bootstrap_parses` tests it, so
    // a failure here is a broken build, never bad input.
    parse(SOURCE)
        .unwrap_or_else(|e| panic!("bootstrap.rbac: {e}"))
        .into_iter()
        .map(KubeObject::new)
        .collect()
});

static PARSED: LazyLock<Parsed> = LazyLock::new(|| {
    let mut parsed =
        model::parse(&OBJECTS).unwrap_or_else(|e| panic!("bootstrap.rbac objects: {e}"));
    for r in &mut parsed.roles {
        r.builtin = true;
        for rule in &mut r.rules {
            rule.builtin = true;
        }
    }
    for b in &mut parsed.bindings {
        b.builtin = true;
    }
    parsed
});

/// The built-in roles and bindings as Kubernetes objects (`ClusterRole`,
/// `Role`, `ClusterRoleBinding`, `RoleBinding`), with the bootstrapping label
/// and the autoupdate annotation, as the API server creates them.
pub fn bootstrap_objects() -> Vec<KubeObject> {
    OBJECTS.clone()
}

/// The built-in roles and bindings, read.
pub(crate) fn parsed() -> &'static Parsed {
    &PARSED
}

/// One object being written.
struct Draft {
    value: Value,
    /// Line of the header, for errors.
    line: usize,
}

fn list(s: &str) -> Vec<String> {
    s.split(',').map(str::to_owned).collect()
}

fn groups(s: &str) -> Vec<String> {
    s.split(',')
        .map(|g| {
            if g == "core" {
                String::new()
            } else {
                g.to_owned()
            }
        })
        .collect()
}

fn metadata(name: &str, namespace: Option<&str>) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), json!(name));
    if let Some(ns) = namespace {
        m.insert("namespace".into(), json!(ns));
    }
    m.insert("labels".into(), json!({ BOOTSTRAPPING.0: BOOTSTRAPPING.1 }));
    m.insert("annotations".into(), json!({ AUTOUPDATE: "true" }));
    Value::Object(m)
}

fn kv(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("expected KEY=VALUE, got {s:?}"))
}

/// `allow VERBS in GROUPS on RESOURCES [named NAMES]` or `allow VERBS at URLS`.
fn rule(words: &[&str]) -> Result<Value, String> {
    match words {
        [verbs, "at", urls] => Ok(json!({"nonResourceURLs": list(urls), "verbs": list(verbs)})),
        [verbs, "in", g, "on", resources] => Ok(json!({
            "apiGroups": groups(g), "resources": list(resources), "verbs": list(verbs)
        })),
        [verbs, "in", g, "on", resources, "named", names] => Ok(json!({
            "apiGroups": groups(g), "resources": list(resources),
            "resourceNames": list(names), "verbs": list(verbs)
        })),
        _ => Err(format!(
            "a rule is `allow VERBS in GROUPS on RESOURCES [named NAMES]` or `allow VERBS at URLS`, got {:?}",
            words.join(" ")
        )),
    }
}

fn subject(s: &str) -> Result<Value, String> {
    if let Some(g) = s.strip_prefix("group:") {
        Ok(json!({"apiGroup": RBAC_GROUP, "kind": "Group", "name": g}))
    } else if let Some(u) = s.strip_prefix("user:") {
        Ok(json!({"apiGroup": RBAC_GROUP, "kind": "User", "name": u}))
    } else if let Some(sa) = s.strip_prefix("sa:") {
        let (ns, name) = sa
            .split_once('/')
            .ok_or_else(|| format!("sa:NAMESPACE/NAME, got {s:?}"))?;
        Ok(json!({"kind": "ServiceAccount", "name": name, "namespace": ns}))
    } else {
        Err(format!(
            "a subject is group:G, user:U or sa:NS/NAME, got {s:?}"
        ))
    }
}

fn role_ref(kind: &str, name: &str) -> Value {
    json!({"apiGroup": RBAC_GROUP, "kind": kind, "name": name})
}

/// Reads the notation into Kubernetes objects; an error names the line.
fn parse(text: &str) -> Result<Vec<Value>, String> {
    let mut out: Vec<Draft> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let content = raw.split('#').next().unwrap_or("");
        let words: Vec<&str> = content.split_whitespace().collect();
        let Some((&head, rest)) = words.split_first() else {
            continue;
        };
        let at = |e: String| format!("line {line}: {e}");
        let indented = raw.starts_with(' ');
        if !indented {
            let value = match (head, rest) {
                ("clusterrole", [name]) => json!({
                    "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                    "metadata": metadata(name, None), "rules": []
                }),
                ("role", [ns, name]) => json!({
                    "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                    "metadata": metadata(name, Some(ns)), "rules": []
                }),
                ("clusterrolebinding", [name, "to", role]) => json!({
                    "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                    "metadata": metadata(name, None), "roleRef": role_ref("ClusterRole", role),
                    "subjects": []
                }),
                ("rolebinding", [ns, name, "to", kind @ ("role" | "clusterrole"), role]) => {
                    let kind = if *kind == "role" {
                        "Role"
                    } else {
                        "ClusterRole"
                    };
                    json!({
                        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                        "metadata": metadata(name, Some(ns)), "roleRef": role_ref(kind, role),
                        "subjects": []
                    })
                }
                _ => return Err(at(format!("unknown header {:?}", content.trim()))),
            };
            out.push(Draft { value, line });
            continue;
        }
        let Some(draft) = out.last_mut() else {
            return Err(at("an indented line before any object".into()));
        };
        let obj = &mut draft.value;
        let is_role = matches!(obj["kind"].as_str(), Some("ClusterRole" | "Role"));
        match (head, rest, is_role) {
            ("allow", words, true) => {
                let r = rule(words).map_err(at)?;
                if let Some(rules) = obj["rules"].as_array_mut() {
                    rules.push(r);
                }
            }
            ("label", [pair], true) => {
                let (k, v) = kv(pair).map_err(at)?;
                obj["metadata"]["labels"][k] = json!(v);
            }
            ("aggregate", [pair], true) if obj["kind"] == "ClusterRole" => {
                let (k, v) = kv(pair).map_err(at)?;
                let sel = json!({"matchLabels": {k: v}});
                match obj["aggregationRule"]["clusterRoleSelectors"].as_array_mut() {
                    Some(sels) => sels.push(sel),
                    None => obj["aggregationRule"] = json!({"clusterRoleSelectors": [sel]}),
                }
            }
            ("subject", [s], false) => {
                let s = subject(s).map_err(at)?;
                if let Some(subjects) = obj["subjects"].as_array_mut() {
                    subjects.push(s);
                }
            }
            _ => {
                return Err(at(format!(
                    "{:?} does not belong in a {}",
                    content.trim(),
                    obj["kind"].as_str().unwrap_or("?")
                )));
            }
        }
    }
    // An aggregated role's rules are the controller's to fill.
    let mut seen = BTreeMap::new();
    let mut values = Vec::with_capacity(out.len());
    for d in out {
        let mut v = d.value;
        let key = format!(
            "{} {} {}",
            v["kind"], v["metadata"]["namespace"], v["metadata"]["name"]
        );
        if let Some(first) = seen.insert(key.clone(), d.line) {
            return Err(format!(
                "line {}: {key} is already defined at line {first}",
                d.line
            ));
        }
        if v.get("aggregationRule").is_some() {
            if v["rules"].as_array().is_some_and(|r| !r.is_empty()) {
                return Err(format!(
                    "line {}: an aggregated ClusterRole has no rules of its own",
                    d.line
                ));
            }
            v["rules"] = Value::Null;
        }
        if v.get("subjects")
            .is_some_and(|s| s.as_array().is_some_and(Vec::is_empty))
        {
            // system:node: a binding without subjects.
            if let Some(m) = v.as_object_mut() {
                m.remove("subjects");
            }
        }
        values.push(v);
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bootstrap_parses() {
        let objs = parse(SOURCE).unwrap_or_else(|e| panic!("{e}"));
        let count = |kind: &str| objs.iter().filter(|o| o["kind"] == kind).count();
        assert_eq!(count("ClusterRole"), 31);
        assert_eq!(count("ClusterRoleBinding"), 12);
        assert_eq!(count("Role"), 7);
        assert_eq!(count("RoleBinding"), 7);
        // And they read as RBAC objects without a note.
        assert!(parsed().notes.is_empty(), "{:?}", parsed().notes);
        assert!(parsed().roles.iter().all(|r| r.builtin));
    }

    #[test]
    fn notation_errors_name_the_line() {
        for (text, want) in [
            ("clusterrole x\n  allow get on pods\n", "line 2: a rule is"),
            ("  allow get at /x\n", "line 1: an indented line"),
            ("clusterrolebinding b to r\n  allow get at /x\n", "line 2:"),
            (
                "clusterrole x\nclusterrole x\n",
                "already defined at line 1",
            ),
            ("frob x\n", "line 1: unknown header"),
            ("clusterrole x\n  label nolabel\n", "KEY=VALUE"),
            ("clusterrolebinding b to r\n  subject robot:x\n", "group:G"),
        ] {
            let e = parse(text).expect_err(text);
            assert!(e.contains(want), "{text:?}: {e}");
        }
    }

    #[test]
    fn rules_render_as_policy_rules() {
        let objs = parse(
            "clusterrole r\n  allow get,list in core,apps on pods named a,b\n  allow get at /healthz\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            objs[0]["rules"],
            json!([
                {"apiGroups": ["", "apps"], "resources": ["pods"], "resourceNames": ["a", "b"], "verbs": ["get", "list"]},
                {"nonResourceURLs": ["/healthz"], "verbs": ["get"]}
            ])
        );
        assert_eq!(objs[0]["metadata"]["annotations"][AUTOUPDATE], "true");
    }
}
