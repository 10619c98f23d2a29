//! YAML and JSON documents with positions: every document becomes a
//! `serde_json::Value` plus a map from field path
//! (`spec.containers[0].image`) to its `line:col`, so graders stay pure and
//! findings still point into the student's file.

use std::collections::HashMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use serde_saphyr::Spanned;

use crate::error::InputError;

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub col: usize,
}

/// One parsed document.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The document's value.
    pub value: Value,
    /// Field path → where its value starts.
    pub positions: HashMap<String, Pos>,
    /// Field path of a mapping entry → where its key starts (for findings
    /// about the field name itself, such as an unknown field).
    pub key_positions: HashMap<String, Pos>,
}

impl Document {
    /// Where `path` starts, or the nearest enclosing field that exists.
    pub fn locate(&self, path: &str) -> Option<Pos> {
        let mut p = path;
        loop {
            if let Some(pos) = self.positions.get(p) {
                return Some(*pos);
            }
            let cut = p.rfind(['.', '['])?;
            p = &p[..cut];
        }
    }

    /// Where the key of field `path` starts; where its value or nearest
    /// parent starts when `path` is not a mapping entry of this document.
    pub fn locate_key(&self, path: &str) -> Option<Pos> {
        self.key_positions
            .get(path)
            .copied()
            .or_else(|| self.locate(path))
    }
}

/// A value tree that remembers where each child sits.
enum Node {
    Leaf(Value),
    Seq(Vec<Spanned<Node>>),
    Map(Vec<(Spanned<KeyString>, Spanned<Node>)>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Leaf(Value::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Leaf(Value::Number(v.into())))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Leaf(Value::Number(v.into())))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Leaf(
            Number::from_f64(v).map_or(Value::Null, Value::Number),
        ))
    }
    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Leaf(Value::String(v.to_string())))
    }
    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::Leaf(Value::String(v)))
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Leaf(Value::Null))
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Leaf(Value::Null))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Node>>()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries: Vec<(Spanned<KeyString>, Spanned<Node>)> = Vec::new();
        while let Some(key) = map.next_key::<Spanned<KeyString>>()? {
            let value = map.next_value::<Spanned<Node>>()?;
            if entries.iter().any(|(k, _)| k.value.0 == key.value.0) {
                return Err(de::Error::custom(format!(
                    "duplicate key `{}`",
                    key.value.0
                )));
            }
            entries.push((key, value));
        }
        Ok(Node::Map(entries))
    }
}

/// A mapping key: strings, and scalars spelled as strings (`80: x`).
struct KeyString(String);

impl<'de> Deserialize<'de> for KeyString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = KeyString;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a scalar mapping key")
            }
            fn visit_str<E>(self, v: &str) -> Result<KeyString, E> {
                Ok(KeyString(v.to_string()))
            }
            fn visit_bool<E>(self, v: bool) -> Result<KeyString, E> {
                Ok(KeyString(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<KeyString, E> {
                Ok(KeyString(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<KeyString, E> {
                Ok(KeyString(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<KeyString, E> {
                Ok(KeyString(v.to_string()))
            }
            fn visit_unit<E>(self) -> Result<KeyString, E> {
                Ok(KeyString("null".into()))
            }
        }
        d.deserialize_any(V)
    }
}

/// Positions gathered while flattening: values and mapping keys.
#[derive(Default)]
struct Spans {
    values: HashMap<String, Pos>,
    keys: HashMap<String, Pos>,
}

fn flatten(node: Node, path: &str, positions: &mut Spans) -> Value {
    match node {
        Node::Leaf(v) => v,
        Node::Seq(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, item)| {
                    let p = format!("{path}[{i}]");
                    record(&p, &item, positions);
                    flatten(item.value, &p, positions)
                })
                .collect(),
        ),
        Node::Map(entries) => {
            let mut out = Map::new();
            for (key, v) in entries {
                let k = key.value.0;
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                positions.keys.insert(p.clone(), pos_of(key.referenced));
                record(&p, &v, positions);
                out.insert(k, flatten(v.value, &p, positions));
            }
            Value::Object(out)
        }
    }
}

fn pos_of(loc: serde_saphyr::Location) -> Pos {
    Pos {
        line: usize::try_from(loc.line()).unwrap_or(0),
        col: usize::try_from(loc.column()).unwrap_or(0),
    }
}

fn record(path: &str, node: &Spanned<Node>, positions: &mut Spans) {
    positions
        .values
        .insert(path.to_string(), pos_of(node.referenced));
}

/// Parses every document of a YAML (or JSON) text. Empty documents are
/// dropped. `name` is the file name used in errors.
pub fn parse_documents(name: &str, text: &str) -> Result<Vec<Document>, InputError> {
    let nodes: Vec<Option<Node>> =
        serde_saphyr::from_multiple(text).map_err(|e| saphyr_error(name, &e))?;
    Ok(nodes
        .into_iter()
        .flatten()
        .filter_map(|n| {
            let mut spans = Spans::default();
            let value = flatten(n, "", &mut spans);
            (!value.is_null()).then_some(Document {
                value,
                positions: spans.values,
                key_positions: spans.keys,
            })
        })
        .collect())
}

/// The parser's message in the student's terms: no advice meant for the
/// programmer who embeds the library ("set DuplicateKeyPolicy in
/// Options").
fn plain_message(message: &str) -> String {
    if let Some(rest) = message.strip_prefix("duplicate mapping key: ") {
        let key = rest
            .split(", set DuplicateKeyPolicy")
            .next()
            .unwrap_or(rest);
        return format!("duplicate key {key}");
    }
    message
        .split(", set DuplicateKeyPolicy")
        .next()
        .unwrap_or(message)
        .to_owned()
}

/// Turns a serde-saphyr error into `name:line:col: message`.
pub fn saphyr_error(name: &str, e: &serde_saphyr::Error) -> InputError {
    let loc = e.location();
    let message = e.without_snippet().to_string();
    // The rendered message may carry its own "at line X column Y" suffix;
    // the position goes in front instead.
    let message = plain_message(&strip_position_suffix(&message));
    InputError {
        path: name.to_string(),
        line: loc.map(|l| usize::try_from(l.line()).unwrap_or(0)),
        col: loc.map(|l| usize::try_from(l.column()).unwrap_or(0)),
        message,
    }
}

fn strip_position_suffix(m: &str) -> String {
    let first = m.lines().next().unwrap_or(m).trim();
    match first.rfind(" at line ") {
        Some(i) => first[..i].to_string(),
        None => first.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_of_nested_fields() {
        let text =
            "kind: Pod\nmetadata:\n  name: a\nspec:\n  containers:\n  - name: c\n    image: x\n";
        let docs = parse_documents("p.yaml", text).expect("valid");
        assert_eq!(docs.len(), 1);
        let d = &docs[0];
        assert_eq!(d.value["spec"]["containers"][0]["image"], "x");
        assert_eq!(
            d.locate("spec.containers[0].image"),
            Some(Pos { line: 7, col: 12 })
        );
        assert_eq!(d.locate("metadata.name"), Some(Pos { line: 3, col: 9 }));
        // Keys have their own positions, for findings about field names.
        assert_eq!(
            d.locate_key("spec.containers[0].image"),
            Some(Pos { line: 7, col: 5 })
        );
        // A field that does not exist maps to its nearest parent.
        assert_eq!(
            d.locate("spec.containers[0].securityContext.privileged"),
            d.locate("spec.containers[0]")
        );
    }

    #[test]
    fn multi_document_streams_skip_empty_documents() {
        let docs = parse_documents("m.yaml", "a: 1\n---\n---\nb: [1, 2]\n").expect("valid");
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].value["b"][1], 2);
    }

    #[test]
    fn json_parses_too() {
        let docs = parse_documents("j.json", r#"{"kind": "Pod", "spec": {"hostPID": true}}"#)
            .expect("valid");
        assert_eq!(docs[0].value["spec"]["hostPID"], true);
    }

    #[test]
    fn syntax_errors_have_positions() {
        let err = parse_documents("bad.yaml", "a: 1\nb: [1, 2\nc: 3\n").expect_err("invalid");
        assert_eq!(err.path, "bad.yaml");
        assert!(err.line.is_some(), "{err}");
        let err = parse_documents("dup.yaml", "a: 1\na: 2\n").expect_err("duplicate");
        assert!(err.to_string().contains("dup.yaml:"), "{err}");
    }
}
