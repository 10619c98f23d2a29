//! The `service_account_token` checker: does a workload's pod get a
//! service-account token mounted into its containers?
//!
//! The kubelet mounts the token of the pod's ServiceAccount (named by
//! `serviceAccountName`, else the deprecated `serviceAccount`, else
//! `default`) unless `automountServiceAccountToken` says otherwise. The
//! pod's setting wins over the account's; when neither sets it, the token
//! is mounted. A projected volume with a `serviceAccountToken` source that
//! a container mounts puts a token into the pod whatever the automount
//! settings say, so it counts as mounted too.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Finding, KubeObject, Target, Verdict};

/// A `service_account_token:` check as written in lab.yaml, e.g.
/// `{target: deployment/web, mounted: false}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenCheck {
    /// The workload, as `kind/name` (any kind with a pod template).
    #[schemars(with = "String")]
    pub target: Target,
    /// The workload's namespace; any namespace when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Whether the pod must have a token mounted (`false`: it must not).
    pub mounted: bool,
}

/// What decides whether a pod gets its account's token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decider {
    /// The pod's own `automountServiceAccountToken`.
    Pod,
    /// The ServiceAccount's `automountServiceAccountToken` (the pod leaves
    /// it unset).
    Account,
    /// Neither sets it: the default, which mounts the token.
    Default,
}

/// The effective token mount of one workload's pod.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenMount {
    /// Whether some token ends up in the pod's containers.
    pub mounted: bool,
    /// Whether the automount settings mount the account's token.
    pub automount: bool,
    /// Which setting decided `automount`.
    pub decided_by: Decider,
    /// The ServiceAccount, as (namespace, name).
    pub account: (String, String),
    /// The ServiceAccount object, when it is among the objects.
    pub account_object: Option<KubeObject>,
    /// Field paths (in the workload) of projected `serviceAccountToken`
    /// sources that a container mounts.
    pub projected: Vec<String>,
}

/// A field that is not what the API accepts.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    /// The object holding the field.
    pub object: KubeObject,
    /// The field path inside it.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

fn bool_field(obj: &KubeObject, v: &Value, path: &str) -> Result<Option<bool>, FieldError> {
    match v.get("automountServiceAccountToken") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => {
            let path = format!("{path}automountServiceAccountToken");
            Err(FieldError {
                object: obj.clone(),
                message: format!(
                    "{}: {path} must be true or false, got {other}",
                    obj.display_name()
                ),
                path,
            })
        }
    }
}

/// Computes the effective token mount of `workload`'s pod, reading its
/// ServiceAccount from `objects`. `None` when the object has no pod
/// template; an error names a field that is not a boolean.
pub fn token_mount(
    workload: &KubeObject,
    objects: &[KubeObject],
) -> Option<Result<TokenMount, FieldError>> {
    let template = workload.pod_template()?;
    Some(effective(workload, template, objects))
}

fn effective(
    workload: &KubeObject,
    template: crate::object::PodTemplate<'_>,
    objects: &[KubeObject],
) -> Result<TokenMount, FieldError> {
    let spec = template.spec;
    let spec_path = format!("{}.", template.spec_path);
    let pod = bool_field(workload, spec, &spec_path)?;
    let name = ["serviceAccountName", "serviceAccount"]
        .iter()
        .find_map(|k| {
            spec.get(*k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        })
        .unwrap_or("default");
    let namespace = workload.namespace().unwrap_or("default");
    let account_object = objects
        .iter()
        .find(|o| {
            o.kind() == "ServiceAccount"
                && o.name() == name
                && o.namespace().unwrap_or("default") == namespace
        })
        .cloned();
    let account = match &account_object {
        Some(sa) => bool_field(sa, &sa.value, "")?,
        None => None,
    };
    let (automount, decided_by) = match (pod, account) {
        (Some(b), _) => (b, Decider::Pod),
        (None, Some(b)) => (b, Decider::Account),
        (None, None) => (true, Decider::Default),
    };
    let projected = projected_tokens(spec, &spec_path);
    Ok(TokenMount {
        mounted: automount || !projected.is_empty(),
        automount,
        decided_by,
        account: (namespace.to_owned(), name.to_owned()),
        account_object,
        projected,
    })
}

/// Paths of projected `serviceAccountToken` sources in volumes that some
/// container or init container mounts.
fn projected_tokens(spec: &Value, spec_path: &str) -> Vec<String> {
    let mounted: Vec<&str> = ["containers", "initContainers", "ephemeralContainers"]
        .iter()
        .filter_map(|k| spec.get(*k).and_then(Value::as_array))
        .flatten()
        .filter_map(|c| c.get("volumeMounts").and_then(Value::as_array))
        .flatten()
        .filter_map(|m| m.get("name").and_then(Value::as_str))
        .collect();
    let mut out = Vec::new();
    let volumes = spec.get("volumes").and_then(Value::as_array);
    for (i, vol) in volumes.into_iter().flatten().enumerate() {
        let used = vol
            .get("name")
            .and_then(Value::as_str)
            .is_some_and(|n| mounted.contains(&n));
        let sources = vol.pointer("/projected/sources").and_then(Value::as_array);
        for (j, src) in sources.into_iter().flatten().enumerate() {
            if used && src.get("serviceAccountToken").is_some_and(Value::is_object) {
                out.push(format!(
                    "{spec_path}volumes[{i}].projected.sources[{j}].serviceAccountToken"
                ));
            }
        }
    }
    out
}

/// Why the automount settings come out as they do, in one clause.
fn reason(m: &TokenMount) -> String {
    let (ns, name) = &m.account;
    let setting = if m.automount { "true" } else { "false" };
    match m.decided_by {
        Decider::Pod => format!(
            "the pod sets automountServiceAccountToken: {setting} (the pod's setting wins over \
             ServiceAccount {ns}/{name}'s)"
        ),
        Decider::Account => format!(
            "ServiceAccount {ns}/{name} sets automountServiceAccountToken: {setting} and the pod \
             does not override it"
        ),
        Decider::Default if m.account_object.is_none() => format!(
            "the pod does not set automountServiceAccountToken and its ServiceAccount \
             {ns}/{name} is not among the files, so the default applies: the token is mounted"
        ),
        Decider::Default => format!(
            "neither the pod nor ServiceAccount {ns}/{name} sets automountServiceAccountToken, \
             so the default applies: the token is mounted"
        ),
    }
}

/// Grades a `service_account_token` check against the workspace objects.
pub fn grade(check: &TokenCheck, objects: &[KubeObject]) -> Verdict {
    let found = check.target.find_in(check.namespace.as_deref(), objects);
    if found.is_empty() {
        return check.target.not_found(check.namespace.as_deref(), objects);
    }
    let mut findings = Vec::new();
    for obj in found {
        let m = match token_mount(obj, objects) {
            None => {
                findings.push(
                    Finding::error(format!("{} has no pod template", obj.display_name()))
                        .about(obj),
                );
                continue;
            }
            Some(Err(e)) => {
                findings.push(Finding::error(e.message).about(&e.object).at(e.path));
                continue;
            }
            Some(Ok(m)) => m,
        };
        findings.extend(mount_findings(check, obj, &m));
    }
    Verdict::from_findings(findings)
}

fn mount_findings(check: &TokenCheck, obj: &KubeObject, m: &TokenMount) -> Vec<Finding> {
    let spec_path = obj
        .pod_template()
        .map_or("spec", |t| t.spec_path)
        .to_owned();
    let mut out = Vec::new();
    if m.mounted == check.mounted {
        let state = if m.mounted {
            "mounts"
        } else {
            "does not mount"
        };
        out.push(
            Finding::info(format!(
                "the pod {state} a service-account token: {}",
                reason(m)
            ))
            .about(obj),
        );
        return out;
    }
    if check.mounted {
        out.push(
            Finding::error(format!(
                "the pod must mount its service-account token, but {}",
                reason(m)
            ))
            .about(obj)
            .at(format!("{spec_path}.automountServiceAccountToken")),
        );
        return out;
    }
    if m.automount {
        let f = Finding::error(format!(
            "the pod must not mount a service-account token, but {}",
            reason(m)
        ));
        out.push(match (&m.decided_by, &m.account_object) {
            (Decider::Account, Some(sa)) => f.about(sa).at("automountServiceAccountToken"),
            (Decider::Pod, _) => f
                .about(obj)
                .at(format!("{spec_path}.automountServiceAccountToken")),
            _ => f.about(obj).at(spec_path.clone()),
        });
    }
    for p in &m.projected {
        out.push(
            Finding::error("a projected volume puts a service-account token into the pod")
                .about(obj)
                .at(p.clone()),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deploy(pod: &Value) -> KubeObject {
        let mut spec = json!({"serviceAccountName": "web", "containers": [{"name": "app"}]});
        if let (Some(s), Some(extra)) = (spec.as_object_mut(), pod.as_object()) {
            s.extend(extra.clone());
        }
        KubeObject::new(json!({"kind": "Deployment",
            "metadata": {"name": "web", "namespace": "lab"},
            "spec": {"template": {"spec": spec}}}))
    }

    fn account(automount: Option<bool>) -> KubeObject {
        let mut sa =
            json!({"kind": "ServiceAccount", "metadata": {"name": "web", "namespace": "lab"}});
        if let Some(b) = automount {
            sa["automountServiceAccountToken"] = json!(b);
        }
        KubeObject::new(sa)
    }

    fn not_mounted() -> TokenCheck {
        TokenCheck {
            target: Target::parse("deployment/web").expect("target"),
            namespace: None,
            mounted: false,
        }
    }

    fn passes(objs: &[KubeObject]) -> bool {
        grade(&not_mounted(), objs).passed()
    }

    #[test]
    fn default_mounts_the_token() {
        assert!(!passes(&[deploy(&json!({})), account(None)]));
        let v = grade(&not_mounted(), &[deploy(&json!({}))]);
        assert!(
            v.findings[0].message.contains("not among the files"),
            "{v:?}"
        );
    }

    #[test]
    fn pod_false_is_enough() {
        let objs = [
            deploy(&json!({"automountServiceAccountToken": false})),
            account(None),
        ];
        assert!(passes(&objs));
    }

    #[test]
    fn account_false_counts_unless_the_pod_re_enables_it() {
        assert!(passes(&[deploy(&json!({})), account(Some(false))]));
        let objs = [
            deploy(&json!({"automountServiceAccountToken": true})),
            account(Some(false)),
        ];
        let v = grade(&not_mounted(), &objs);
        assert!(!v.passed());
        assert_eq!(
            v.findings[0].paths,
            ["spec.template.spec.automountServiceAccountToken"]
        );
        assert!(v.findings[0].message.contains("wins over"), "{v:?}");
    }

    #[test]
    fn account_true_is_blamed_on_the_account() {
        let v = grade(&not_mounted(), &[deploy(&json!({})), account(Some(true))]);
        assert!(!v.passed());
        assert_eq!(
            v.findings[0].object.as_deref(),
            Some("ServiceAccount lab/web")
        );
    }

    #[test]
    fn the_account_is_looked_up_by_name_and_namespace() {
        // No serviceAccountName: the pod runs as `default`, whose settings
        // are what count, not web's.
        let mut d = deploy(&json!({}));
        d.value["spec"]["template"]["spec"]
            .as_object_mut()
            .map(|s| s.remove("serviceAccountName"));
        assert!(!passes(&[d.clone(), account(Some(false))]));
        let mut other_ns = account(Some(false));
        other_ns.value["metadata"]["namespace"] = json!("elsewhere");
        assert!(!passes(&[deploy(&json!({})), other_ns]));
        let m = token_mount(&d, &[]).expect("template").expect("valid");
        assert_eq!(m.account, ("lab".to_owned(), "default".to_owned()));
    }

    #[test]
    fn projected_token_counts_as_mounted_only_when_mounted() {
        let projected = json!({"automountServiceAccountToken": false,
            "volumes": [{"name": "tok", "projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]}}],
            "containers": [{"name": "app", "volumeMounts": [{"name": "tok", "mountPath": "/t"}]}]});
        let v = grade(&not_mounted(), &[deploy(&projected)]);
        assert!(!v.passed());
        assert_eq!(
            v.findings[0].paths,
            ["spec.template.spec.volumes[0].projected.sources[0].serviceAccountToken"]
        );
        let mut unused = projected.clone();
        unused["containers"][0]["volumeMounts"] = json!([]);
        assert!(passes(&[deploy(&unused)]));
    }

    #[test]
    fn mounted_true_is_checked_too() {
        let c = TokenCheck {
            mounted: true,
            ..not_mounted()
        };
        assert!(grade(&c, &[deploy(&json!({}))]).passed());
        assert!(
            !grade(
                &c,
                &[deploy(&json!({"automountServiceAccountToken": false}))]
            )
            .passed()
        );
    }

    #[test]
    fn bad_input_is_a_finding_not_a_panic() {
        let v = grade(
            &not_mounted(),
            &[deploy(&json!({"automountServiceAccountToken": "no"}))],
        );
        assert!(!v.passed());
        assert!(v.findings[0].message.contains("must be true or false"));
        let v = grade(&not_mounted(), &[]);
        assert_eq!(v.findings[0].message, "Deployment/web not found");
        let c = TokenCheck {
            target: Target::parse("service/web").expect("target"),
            ..not_mounted()
        };
        let svc = KubeObject::new(json!({"kind": "Service", "metadata": {"name": "web"}}));
        assert!(!grade(&c, &[svc]).passed());
    }
}
