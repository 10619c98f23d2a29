//! Unknown-field detection: keys the Kubernetes API does not know anywhere
//! in a workload document, each with the closest valid key at that place.
//!
//! Approach: the document is deserialized into the matching `k8s-openapi`
//! typed object (`Pod`, `Deployment`, ...) through [`ValueDe`], a
//! `serde::Deserializer` over `&serde_json::Value` that tracks the field path.
//! k8s-openapi's generated `Deserialize` impls call
//! `deserialize_struct(NAME, FIELDS, ..)` with the exact list of JSON field
//! names of each API type and deserialize a key they do not know as
//! `serde::de::IgnoredAny`, i.e. through `deserialize_ignored_any`. The
//! wrapper remembers the `FIELDS` of the struct being read and records each
//! ignored key with its path and its nearest `FIELDS` entry (edit distance).
//! The field lists therefore come from the generated API bindings of the
//! newest Kubernetes version (k8s-openapi feature `latest`); nothing is
//! hand-maintained here.
//!
//! A value of the wrong JSON type ends the scan (serde cannot resume); it is
//! reported as one warning at its path, and keys after it are not checked.

use std::cell::{Cell, RefCell};

use serde::Deserialize;
use serde::de::value::BorrowedStrDeserializer;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Error, Value};

use super::FieldWarning;
use k8s_openapi::api::{apps::v1 as apps, batch::v1 as batch, core::v1 as core};

/// Unknown fields anywhere in a workload document (any of the nine kinds
/// [`super::evaluate`] accepts), in document order. Other kinds give none.
pub fn unknown_fields(obj: &Value) -> Vec<FieldWarning> {
    let sink = Sink::default();
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    let de = ValueDe::new(obj, &sink);
    // Errors are recorded in the sink as warnings; the typed value is unused.
    let _ = match kind {
        "Pod" => core::Pod::deserialize(de).map(drop),
        "PodTemplate" => core::PodTemplate::deserialize(de).map(drop),
        "ReplicationController" => core::ReplicationController::deserialize(de).map(drop),
        "ReplicaSet" => apps::ReplicaSet::deserialize(de).map(drop),
        "Deployment" => apps::Deployment::deserialize(de).map(drop),
        "DaemonSet" => apps::DaemonSet::deserialize(de).map(drop),
        "StatefulSet" => apps::StatefulSet::deserialize(de).map(drop),
        "Job" => batch::Job::deserialize(de).map(drop),
        "CronJob" => batch::CronJob::deserialize(de).map(drop),
        _ => Ok(()),
    };
    sink.warnings.into_inner()
}

#[derive(Default)]
struct Sink {
    warnings: RefCell<Vec<FieldWarning>>,
    errored: Cell<bool>,
}

/// Levenshtein distance over chars, case-insensitive.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().flat_map(char::to_lowercase).collect();
    let b: Vec<char> = b.chars().flat_map(char::to_lowercase).collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The valid field closest to `key`, if close enough to be a likely typo
/// (distance at most 2, or at most a third of the key's length).
fn closest(key: &str, fields: &[&'static str]) -> Option<&'static str> {
    let (best, d) = fields
        .iter()
        .map(|f| (*f, distance(key, f)))
        .min_by_key(|(_, d)| *d)?;
    let limit = (key.chars().count() / 3).max(2);
    (d <= limit).then_some(best)
}

fn child_path(parent: &str, key: &str, in_struct: bool) -> String {
    if !in_struct {
        format!("{parent}[{key}]")
    } else if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// A deserializer over one JSON value at a known path.
struct ValueDe<'de, 's> {
    v: &'de Value,
    path: String,
    sink: &'s Sink,
    /// The key and sibling field list when this value is a struct field.
    field: Option<(&'de str, &'static [&'static str])>,
}

impl<'de, 's> ValueDe<'de, 's> {
    fn new(v: &'de Value, sink: &'s Sink) -> Self {
        Self {
            v,
            path: String::new(),
            sink,
            field: None,
        }
    }

    fn track<T>(path: &str, sink: &Sink, r: Result<T, Error>) -> Result<T, Error> {
        if let Err(e) = &r {
            if !sink.errored.replace(true) {
                let at = if path.is_empty() { "(document)" } else { path };
                sink.warnings.borrow_mut().push(FieldWarning {
                    path: path.to_owned(),
                    field: String::new(),
                    suggestion: None,
                    message: format!("{at}: {e}; fields after it were not checked for typos"),
                });
            }
        }
        r
    }

    fn any<V: Visitor<'de>>(
        self,
        visitor: V,
        fields: Option<&'static [&'static str]>,
    ) -> Result<V::Value, Error> {
        let (path, sink) = (self.path, self.sink);
        let r = match self.v {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    visitor.visit_u64(u)
                } else if let Some(i) = n.as_i64() {
                    visitor.visit_i64(i)
                } else {
                    visitor.visit_f64(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Array(items) => visitor.visit_seq(Seq {
                iter: items.iter().enumerate(),
                path: &path,
                sink,
            }),
            Value::Object(m) => visitor.visit_map(StructMap {
                iter: m.iter(),
                pending: None,
                path: &path,
                sink,
                fields,
            }),
        };
        Self::track(&path, sink, r)
    }
}

impl<'de> Deserializer<'de> for ValueDe<'de, '_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.any(visitor, None)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.any(visitor, Some(fields))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.v.is_null() {
            visitor.visit_none()
        } else {
            let (path, sink) = (self.path.clone(), self.sink);
            Self::track(&path, sink, visitor.visit_some(self))
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        let (path, sink) = (self.path.clone(), self.sink);
        Self::track(&path, sink, visitor.visit_newtype_struct(self))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        Self::track(
            &self.path,
            self.sink,
            self.v.deserialize_enum(name, variants, visitor),
        )
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if let Some((key, fields)) = self.field {
            let suggestion = closest(key, fields);
            let message = match suggestion {
                Some(s) => format!("unknown field \"{}\"; did you mean \"{s}\"?", self.path),
                None => format!("unknown field \"{}\"", self.path),
            };
            self.sink.warnings.borrow_mut().push(FieldWarning {
                path: self.path,
                field: key.to_owned(),
                suggestion: suggestion.map(str::to_owned),
                message,
            });
        }
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map identifier
    }
}

/// Map access that knows whether its map is an API struct (`fields`).
struct StructMap<'de, 'p, 's> {
    iter: serde_json::map::Iter<'de>,
    pending: Option<(&'de str, &'de Value)>,
    path: &'p str,
    sink: &'s Sink,
    fields: Option<&'static [&'static str]>,
}

impl<'de> MapAccess<'de> for StructMap<'de, '_, '_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some((k, v)) = self.iter.next() else {
            return Ok(None);
        };
        self.pending = Some((k, v));
        seed.deserialize(BorrowedStrDeserializer::new(k)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let Some((k, v)) = self.pending.take() else {
            return Err(serde::de::Error::custom("value requested before key"));
        };
        seed.deserialize(ValueDe {
            v,
            path: child_path(self.path, k, self.fields.is_some()),
            sink: self.sink,
            field: self.fields.map(|f| (k, f)),
        })
    }
}

struct Seq<'de, 'p, 's> {
    iter: std::iter::Enumerate<std::slice::Iter<'de, Value>>,
    path: &'p str,
    sink: &'s Sink,
}

impl<'de> SeqAccess<'de> for Seq<'de, '_, '_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        let Some((i, v)) = self.iter.next() else {
            return Ok(None);
        };
        seed.deserialize(ValueDe {
            v,
            path: format!("{}[{i}]", self.path),
            sink: self.sink,
            field: None,
        })
        .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn edit_distance() {
        assert_eq!(distance("runAsNonroot", "runAsNonRoot"), 0);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(
            closest("privilegd", &["privileged", "procMount"]),
            Some("privileged")
        );
        assert_eq!(closest("zzzzzz", &["privileged"]), None);
    }

    #[test]
    fn finds_typo_in_container_security_context() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "i",
                "securityContext": {"runAsNonroot": true}}]}});
        let w = unknown_fields(&pod);
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].path, "spec.containers[0].securityContext.runAsNonroot");
        assert_eq!(w[0].suggestion.as_deref(), Some("runAsNonRoot"));
    }

    #[test]
    fn clean_deployment_has_none_and_annotations_are_free_form() {
        let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
            "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {
                "metadata": {"labels": {"a": "b"}, "annotations": {"x.io/y": "z"}},
                "spec": {"containers": [{"name": "c", "image": "i",
                    "ports": [{"containerPort": 80}],
                    "resources": {"limits": {"cpu": "1", "memory": 64}}}]}}}});
        assert_eq!(unknown_fields(&d), Vec::new());
    }
}
