//! A stand-in ValidatingAdmissionPolicy enforcement, good enough for the
//! tests of live `admission_policy` grading: a stored policy whose
//! `matchConstraints` name the resource and one of whose validations
//! mentions `privileged`, bound with `validationActions: [Deny]`, refuses
//! a create whose pod spec (a Pod's, a workload's template, a CronJob's
//! job template) runs a privileged container, with the real API server's
//! 422 Status. It evaluates no CEL.

use serde_json::{Value, json};

use super::discovery::ResourceType;
use super::status;

fn pod_spec(obj: &Value) -> Option<&Value> {
    match obj.get("kind").and_then(Value::as_str)? {
        "Pod" => obj.get("spec"),
        "CronJob" => obj.pointer("/spec/jobTemplate/spec/template/spec"),
        _ => obj.pointer("/spec/template/spec"),
    }
}

fn privileged(spec: &Value) -> bool {
    ["containers", "initContainers", "ephemeralContainers"]
        .iter()
        .filter_map(|k| spec.get(*k).and_then(Value::as_array))
        .flatten()
        .any(|c| c.pointer("/securityContext/privileged") == Some(&json!(true)))
}

fn matches(policy: &Value, rt: &ResourceType) -> bool {
    policy
        .pointer("/spec/matchConstraints/resourceRules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|r| {
            let has = |field: &str, want: &str| {
                r.get(field)
                    .and_then(Value::as_array)
                    .is_some_and(|a| a.iter().any(|x| x == want || x == "*"))
            };
            has("resources", rt.plural) && has("apiGroups", rt.group) && has("operations", "CREATE")
        })
}

/// The 422 Status a Deny binding's policy gives `obj` (a create of
/// `rt`), if one refuses it.
pub fn refuse(stored: &[&Value], rt: &ResourceType, name: &str, obj: &Value) -> Option<Value> {
    if !pod_spec(obj).is_some_and(privileged) {
        return None;
    }
    let of_kind = |k: &'static str| {
        stored
            .iter()
            .filter(move |o| o.get("kind").and_then(Value::as_str) == Some(k))
    };
    for b in of_kind("ValidatingAdmissionPolicyBinding") {
        let denies = b
            .pointer("/spec/validationActions")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|x| x == "Deny"));
        let policy_name = b.pointer("/spec/policyName").and_then(Value::as_str);
        let Some(p) = of_kind("ValidatingAdmissionPolicy")
            .find(|p| p.pointer("/metadata/name").and_then(Value::as_str) == policy_name)
        else {
            continue;
        };
        if !denies || !matches(p, rt) {
            continue;
        }
        let Some(v) = p
            .pointer("/spec/validations")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|v| {
                v.get("expression")
                    .and_then(Value::as_str)
                    .is_some_and(|e| e.contains("privileged"))
            })
        else {
            continue;
        };
        let expr = v.get("expression").and_then(Value::as_str).unwrap_or("");
        let msg = v
            .get("message")
            .and_then(Value::as_str)
            .map_or_else(|| format!("failed expression: {expr}"), str::to_owned);
        return Some(status::failure(
            422,
            "Invalid",
            &format!(
                "{} \"{name}\" is forbidden: ValidatingAdmissionPolicy '{}' with binding '{}' denied request: {msg}",
                rt.qualified(),
                policy_name.unwrap_or(""),
                b.pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or(""),
            ),
            json!({"name": name, "kind": rt.plural}),
        ));
    }
    None
}
