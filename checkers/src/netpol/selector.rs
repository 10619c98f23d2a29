//! Label selectors (`matchLabels` + `matchExpressions` with `In`, `NotIn`,
//! `Exists`, `DoesNotExist`), parsed from JSON and matched against label
//! maps.

use std::collections::BTreeMap;

use serde_json::Value;

/// Labels of a pod or namespace.
pub type Labels = BTreeMap<String, String>;

/// One `matchExpressions` operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    /// The label's value is one of the values.
    In,
    /// The label is absent or its value is none of the values.
    NotIn,
    /// The label is present.
    Exists,
    /// The label is absent.
    DoesNotExist,
}

/// One `matchExpressions` entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Requirement {
    /// The label key.
    pub key: String,
    /// The operator.
    pub op: Operator,
    /// The values (`In`/`NotIn` only).
    pub values: Vec<String>,
}

/// A parsed label selector. The empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Selector {
    /// `matchLabels` as requirements of equality.
    pub match_labels: Vec<(String, String)>,
    /// `matchExpressions`.
    pub exprs: Vec<Requirement>,
}

impl Selector {
    /// Whether the selector has no requirement (selects everything).
    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.exprs.is_empty()
    }

    /// Whether `labels` satisfy every requirement.
    pub fn matches(&self, labels: &Labels) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self.exprs.iter().all(|r| {
                let got = labels.get(&r.key);
                match r.op {
                    Operator::In => got.is_some_and(|v| r.values.contains(v)),
                    Operator::NotIn => got.is_none_or(|v| !r.values.contains(v)),
                    Operator::Exists => got.is_some(),
                    Operator::DoesNotExist => got.is_none(),
                }
            })
    }

    /// Parses a `LabelSelector` object found at field `path`. `Err` holds
    /// `(path of the bad field, message)`.
    pub fn parse(v: &Value, path: &str) -> Result<Selector, (String, String)> {
        let mut sel = Selector::default();
        if v.is_null() {
            return Ok(sel);
        }
        let obj = v.as_object().ok_or_else(|| {
            (
                path.to_owned(),
                "a label selector must be a mapping".to_owned(),
            )
        })?;
        if let Some(ml) = obj.get("matchLabels").filter(|m| !m.is_null()) {
            let map = ml.as_object().ok_or_else(|| {
                (
                    format!("{path}.matchLabels"),
                    "matchLabels must be a mapping".to_owned(),
                )
            })?;
            for (k, val) in map {
                let val = scalar(val).ok_or_else(|| {
                    (
                        format!("{path}.matchLabels.{k}"),
                        "label value must be a string".to_owned(),
                    )
                })?;
                check_key(k, &format!("{path}.matchLabels"))?;
                sel.match_labels.push((k.clone(), val));
            }
        }
        if let Some(me) = obj.get("matchExpressions").filter(|m| !m.is_null()) {
            let list = me.as_array().ok_or_else(|| {
                (
                    format!("{path}.matchExpressions"),
                    "matchExpressions must be a list".to_owned(),
                )
            })?;
            for (i, e) in list.iter().enumerate() {
                let at = format!("{path}.matchExpressions[{i}]");
                sel.exprs.push(parse_requirement(e, &at)?);
            }
        }
        Ok(sel)
    }
}

fn check_key(k: &str, path: &str) -> Result<(), (String, String)> {
    if k.is_empty() {
        return Err((path.to_owned(), "empty label key".to_owned()));
    }
    Ok(())
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn parse_requirement(e: &Value, at: &str) -> Result<Requirement, (String, String)> {
    let key = e
        .get("key")
        .and_then(Value::as_str)
        .ok_or_else(|| (format!("{at}.key"), "missing key".to_owned()))?;
    check_key(key, &format!("{at}.key"))?;
    let op_text = e
        .get("operator")
        .and_then(Value::as_str)
        .ok_or_else(|| (format!("{at}.operator"), "missing operator".to_owned()))?;
    let op = match op_text {
        "In" => Operator::In,
        "NotIn" => Operator::NotIn,
        "Exists" => Operator::Exists,
        "DoesNotExist" => Operator::DoesNotExist,
        other => {
            return Err((
                format!("{at}.operator"),
                format!("unknown operator {other:?} (want In, NotIn, Exists or DoesNotExist)"),
            ));
        }
    };
    let mut values = Vec::new();
    match e.get("values") {
        None | Some(Value::Null) => {}
        Some(Value::Array(vs)) => {
            for (j, v) in vs.iter().enumerate() {
                values.push(scalar(v).ok_or_else(|| {
                    (
                        format!("{at}.values[{j}]"),
                        "value must be a string".to_owned(),
                    )
                })?);
            }
        }
        Some(_) => return Err((format!("{at}.values"), "values must be a list".to_owned())),
    }
    match op {
        Operator::In | Operator::NotIn if values.is_empty() => Err((
            format!("{at}.values"),
            format!("operator {op_text} needs at least one value"),
        )),
        Operator::Exists | Operator::DoesNotExist if !values.is_empty() => Err((
            format!("{at}.values"),
            format!("operator {op_text} takes no values"),
        )),
        _ => Ok(Requirement {
            key: key.to_owned(),
            op,
            values,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn operators() {
        let s = Selector::parse(
            &json!({"matchLabels": {"app": "a"}, "matchExpressions": [
                {"key": "tier", "operator": "NotIn", "values": ["db"]},
                {"key": "env", "operator": "Exists"},
                {"key": "legacy", "operator": "DoesNotExist"}]}),
            "spec.podSelector",
        )
        .expect("valid");
        assert!(s.matches(&labels(&[("app", "a"), ("env", "x")])));
        assert!(!s.matches(&labels(&[("app", "a"), ("env", "x"), ("tier", "db")])));
        assert!(!s.matches(&labels(&[("app", "a")])));
        assert!(!s.matches(&labels(&[("app", "a"), ("env", "x"), ("legacy", "1")])));
        assert!(Selector::default().matches(&Labels::new()));
    }

    #[test]
    fn unknown_operator_names_the_field() {
        let err = Selector::parse(
            &json!({"matchExpressions": [{"key": "a", "operator": "Equals", "values": ["b"]}]}),
            "spec.podSelector",
        )
        .expect_err("invalid");
        assert_eq!(err.0, "spec.podSelector.matchExpressions[0].operator");
    }
}
