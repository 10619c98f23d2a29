//! `metav1.Status` bodies as kube-apiserver writes them: NotFound,
//! AlreadyExists, Forbidden (RBAC and Pod Security), Conflict (apply and
//! resourceVersion), Invalid, BadRequest, Success. Tests use them with
//! [`super::Canned::status`] to make the server fail on purpose.

use serde_json::{Value, json};

/// A Failure Status with `code`, `reason`, `message` and `details`.
pub fn failure(code: u16, reason: &str, message: &str, details: Value) -> Value {
    let mut s = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code
    });
    if !details.is_null() {
        s["details"] = details;
    }
    s
}

/// `details` naming one object: {"name", "group" (when not core), "kind": plural}.
pub fn details(group: &str, plural: &str, name: &str) -> Value {
    let mut d = json!({"name": name, "kind": plural});
    if !group.is_empty() {
        d["group"] = json!(group);
    }
    d
}

fn qualified(group: &str, plural: &str) -> String {
    if group.is_empty() {
        plural.to_owned()
    } else {
        format!("{plural}.{group}")
    }
}

/// 404: `configmaps "x" not found`.
pub fn not_found(group: &str, plural: &str, name: &str) -> Value {
    failure(
        404,
        "NotFound",
        &format!("{} \"{name}\" not found", qualified(group, plural)),
        details(group, plural, name),
    )
}

/// 404 for an unknown resource in a served group.
pub fn no_such_resource() -> Value {
    failure(
        404,
        "NotFound",
        "the server could not find the requested resource",
        json!({}),
    )
}

/// 409: `configmaps "x" already exists`.
pub fn already_exists(group: &str, plural: &str, name: &str) -> Value {
    failure(
        409,
        "AlreadyExists",
        &format!("{} \"{name}\" already exists", qualified(group, plural)),
        details(group, plural, name),
    )
}

/// 403 from RBAC: `configmaps "x" is forbidden: User "u" cannot get resource
/// "configmaps" in API group "" in the namespace "ns"` (no name: a list or
/// create; no namespace: `at the cluster scope`).
pub fn forbidden(
    user: &str,
    verb: &str,
    group: &str,
    plural: &str,
    namespace: Option<&str>,
    name: Option<&str>,
) -> Value {
    let subject = match name {
        Some(n) => format!("{} \"{n}\"", qualified(group, plural)),
        None => qualified(group, plural),
    };
    let scope = match namespace {
        Some(ns) => format!("in the namespace \"{ns}\""),
        None => "at the cluster scope".to_owned(),
    };
    failure(
        403,
        "Forbidden",
        &format!(
            "{subject} is forbidden: User \"{user}\" cannot {verb} resource \"{plural}\" in API group \"{group}\" {scope}"
        ),
        details(group, plural, name.unwrap_or("")),
    )
}

/// 403 from Pod Security admission: `pods "NAME" is forbidden: violates
/// PodSecurity "restricted:latest": <reasons joined by ", ">`.
pub fn pod_security(name: &str, policy: &str, reasons: &[String]) -> Value {
    failure(
        403,
        "Forbidden",
        &format!(
            "pods \"{name}\" is forbidden: violates PodSecurity \"{policy}\": {}",
            reasons.join(", ")
        ),
        details("", "pods", name),
    )
}

/// 409 from server-side apply: `Apply failed with 1 conflict: conflict with
/// "kubectl" using v1: .data.key`, with one FieldManagerConflict cause per field.
pub fn apply_conflict(
    group: &str,
    plural: &str,
    name: &str,
    manager: &str,
    api_version: &str,
    fields: &[String],
) -> Value {
    let message = if fields.len() == 1 {
        format!(
            "Apply failed with 1 conflict: conflict with \"{manager}\" using {api_version}: {}",
            fields[0]
        )
    } else {
        let list: Vec<String> = fields.iter().map(|f| format!("- {f}")).collect();
        format!(
            "Apply failed with {} conflicts: conflicts with \"{manager}\" using {api_version}:\n{}",
            fields.len(),
            list.join("\n")
        )
    };
    let causes: Vec<Value> = fields
        .iter()
        .map(|f| {
            json!({
                "reason": "FieldManagerConflict",
                "message": format!("conflict with \"{manager}\" using {api_version}"),
                "field": f
            })
        })
        .collect();
    let mut d = details(group, plural, name);
    d["causes"] = json!(causes);
    failure(409, "Conflict", &message, d)
}

/// 409 on a stale resourceVersion: `Operation cannot be fulfilled on ...`.
pub fn modified(group: &str, plural: &str, name: &str) -> Value {
    failure(
        409,
        "Conflict",
        &format!(
            "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
            qualified(group, plural)
        ),
        details(group, plural, name),
    )
}

/// 422: `ConfigMap "x" is invalid: <field>: <what>` (`Deployment.apps "x"`
/// for a named group; details.kind is the Kind).
pub fn invalid(
    group: &str,
    kind: &str,
    name: &str,
    field: &str,
    cause_reason: &str,
    what: &str,
) -> Value {
    let mut d = json!({
        "name": name,
        "kind": kind,
        "causes": [{"reason": cause_reason, "message": what, "field": field}]
    });
    if !group.is_empty() {
        d["group"] = json!(group);
    }
    let qualified_kind = if group.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}.{group}")
    };
    failure(
        422,
        "Invalid",
        &format!("{qualified_kind} \"{name}\" is invalid: {field}: {what}"),
        d,
    )
}

/// 400 BadRequest with `message`.
pub fn bad_request(message: &str) -> Value {
    failure(400, "BadRequest", message, Value::Null)
}

/// 405 MethodNotAllowed.
pub fn method_not_allowed() -> Value {
    failure(
        405,
        "MethodNotAllowed",
        "the server does not allow this method on the requested resource",
        json!({}),
    )
}

/// 415 for a patch type the fake does not implement.
pub fn unsupported_media_type(content_type: &str) -> Value {
    failure(
        415,
        "UnsupportedMediaType",
        &format!(
            "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got {content_type})"
        ),
        json!({}),
    )
}

/// 200 Success for a delete: details name the object and its uid.
pub fn success(group: &str, plural: &str, name: &str, uid: &str) -> Value {
    let mut d = details(group, plural, name);
    d["uid"] = json!(uid);
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": d})
}
