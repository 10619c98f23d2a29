//! Label selectors of aggregated ClusterRoles
//! (`aggregationRule.clusterRoleSelectors`): `matchLabels` and
//! `matchExpressions` with the four operators, as `metav1.LabelSelector`.

use std::collections::BTreeMap;

use serde_json::Value;

use super::error::{Problem, RbacError};
use super::model::Ctx;

/// One `matchExpressions` entry of a label selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Expr {
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
}

/// A label selector (`matchLabels` and `matchExpressions`, and-ed).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Selector {
    pub(crate) labels: BTreeMap<String, String>,
    pub(crate) exprs: Vec<Expr>,
}

impl Selector {
    /// Whether `labels` satisfy the selector; an empty selector matches all.
    pub(crate) fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.labels.iter().all(|(k, v)| labels.get(k) == Some(v))
            && self.exprs.iter().all(|e| match e {
                Expr::In(k, vs) => labels.get(k).is_some_and(|v| vs.contains(v)),
                Expr::NotIn(k, vs) => labels.get(k).is_none_or(|v| !vs.contains(v)),
                Expr::Exists(k) => labels.contains_key(k),
                Expr::DoesNotExist(k) => !labels.contains_key(k),
            })
    }
}

/// Reads one label selector at `path`.
pub(crate) fn parse_selector(ctx: &Ctx<'_>, s: &Value, path: &str) -> Result<Selector, RbacError> {
    if !s.is_object() {
        return Err(ctx.wrong_type(path, "a label selector", s));
    }
    let mut sel = Selector::default();
    match s.get("matchLabels") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (k, v) in map {
                let Value::String(v) = v else {
                    return Err(ctx.wrong_type(format!("{path}.matchLabels.{k}"), "a string", v));
                };
                sel.labels.insert(k.clone(), v.clone());
            }
        }
        Some(other) => {
            return Err(ctx.wrong_type(format!("{path}.matchLabels"), "a map of strings", other));
        }
    }
    let exprs = ctx.objects(
        s.get("matchExpressions"),
        &format!("{path}.matchExpressions"),
    )?;
    for (i, e) in exprs.iter().enumerate() {
        let p = format!("{path}.matchExpressions[{i}]");
        let key = ctx.req_str(e.get("key"), &format!("{p}.key"))?.to_owned();
        let op = ctx.req_str(e.get("operator"), &format!("{p}.operator"))?;
        let values = ctx.strings(e.get("values"), &format!("{p}.values"))?;
        let expr = match op {
            "In" | "NotIn" => {
                if values.is_empty() {
                    return Err(ctx.err(format!("{p}.values"), Problem::Missing));
                }
                if op == "In" {
                    Expr::In(key, values)
                } else {
                    Expr::NotIn(key, values)
                }
            }
            "Exists" | "DoesNotExist" => {
                if !values.is_empty() {
                    return Err(ctx.err(
                        format!("{p}.values"),
                        Problem::Conflict("must be empty for Exists and DoesNotExist"),
                    ));
                }
                if op == "Exists" {
                    Expr::Exists(key)
                } else {
                    Expr::DoesNotExist(key)
                }
            }
            other => {
                return Err(ctx.err(
                    format!("{p}.operator"),
                    Problem::NotSupported {
                        expected: "In, NotIn, Exists or DoesNotExist",
                        got: other.to_owned(),
                    },
                ));
            }
        };
        sel.exprs.push(expr);
    }
    Ok(sel)
}
