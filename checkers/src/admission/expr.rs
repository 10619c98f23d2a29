//! CEL as the API server's admission plugins run it: compiled with the
//! optional syntax (`a.?b`, `a[?k]`) on, evaluated with the Kubernetes
//! libraries of `kube-cel` (strings, lists, sets, regex, URLs, IPs,
//! quantities, semver, format) and JSON objects as CEL values.
//!
//! The `cel` crate's own `a.?b` errors where the field is missing (it
//! should give `optional.none()`) and nests optionals when chained; so
//! every optional selection is rewritten, once at compile time, into a call
//! of [`OPT_SELECT`], which does what the CEL specification says.

use std::collections::HashMap;
use std::sync::Arc;

use kube_cel::KubeCelExt;
use kube_cel::cel::common::ast::{EntryExpr, Expr, IdedExpr, operators};
use kube_cel::cel::objects::{Key, Map, OptionalValue};
use kube_cel::cel::parser::Parser;
use kube_cel::cel::{Context, ExecutionError, Value};
use serde_json::Value as Json;

/// The name optional selections are rewritten to.
pub const OPT_SELECT: &str = "seclab_opt_select";

/// One compiled expression and its source.
#[derive(Debug)]
pub struct Compiled {
    /// The expression as written.
    pub source: String,
    expr: IdedExpr,
    /// The top-level variables it names (`object`, `params`, ...).
    pub variables: Vec<String>,
}

impl Compiled {
    /// Compiles `source`; the error is the parser's message.
    pub fn new(source: &str) -> Result<Self, String> {
        let mut expr = Parser::new()
            .enable_optional_syntax(true)
            .parse(source)
            .map_err(|e| {
                // The parser's first line says what and where; the rest
                // repeats the source with a caret.
                let text = e.to_string();
                let first = text.lines().next().unwrap_or_default().trim();
                first
                    .strip_prefix("ERROR: <input>:")
                    .map_or_else(|| first.to_owned(), |rest| format!("at {rest}"))
            })?;
        rewrite(&mut expr);
        let variables = expr
            .references()
            .variables()
            .into_iter()
            .map(str::to_owned)
            .collect();
        Ok(Self {
            source: source.to_owned(),
            expr,
            variables,
        })
    }

    /// Whether the expression names this top-level variable.
    pub fn uses(&self, var: &str) -> bool {
        self.variables.iter().any(|v| v == var)
    }

    /// Evaluates the expression in `ctx`.
    pub fn eval(&self, ctx: &Context<'_>) -> Result<Value, String> {
        Value::resolve(&self.expr, ctx).map_err(|e| error_text(&e))
    }
}

/// A readable text for an evaluation error.
fn error_text(e: &ExecutionError) -> String {
    match e {
        ExecutionError::NoSuchKey(k) => format!("no such key: {k}"),
        ExecutionError::UndeclaredReference(r) => format!("undeclared reference to {r:?}"),
        other => other.to_string(),
    }
}

/// Renames every `_?._` call so that [`OPT_SELECT`] serves it.
fn rewrite(e: &mut IdedExpr) {
    match &mut e.expr {
        Expr::Call(call) => {
            if call.func_name == operators::OPT_SELECT {
                OPT_SELECT.clone_into(&mut call.func_name);
            }
            if let Some(t) = call.target.as_deref_mut() {
                rewrite(t);
            }
            call.args.iter_mut().for_each(rewrite);
        }
        Expr::Comprehension(c) => {
            rewrite(&mut c.iter_range);
            rewrite(&mut c.accu_init);
            rewrite(&mut c.loop_cond);
            rewrite(&mut c.loop_step);
            rewrite(&mut c.result);
        }
        Expr::List(l) => l.elements.iter_mut().for_each(rewrite),
        Expr::Map(m) => {
            for entry in &mut m.entries {
                match &mut entry.expr {
                    EntryExpr::MapEntry(me) => {
                        rewrite(&mut me.key);
                        rewrite(&mut me.value);
                    }
                    EntryExpr::StructField(f) => rewrite(&mut f.value),
                }
            }
        }
        Expr::Struct(s) => {
            for entry in &mut s.entries {
                match &mut entry.expr {
                    EntryExpr::MapEntry(me) => {
                        rewrite(&mut me.key);
                        rewrite(&mut me.value);
                    }
                    EntryExpr::StructField(f) => rewrite(&mut f.value),
                }
            }
        }
        Expr::Select(s) => rewrite(&mut s.operand),
        Expr::Unspecified | Expr::Ident(_) | Expr::Literal(_) => {}
    }
}

/// `operand.?field`: `optional.of(operand.field)` when the operand (or the
/// value of an optional operand) is a map with that key, else
/// `optional.none()`.
#[allow(clippy::needless_pass_by_value)] // the cel crate hands arguments by value
fn opt_select(operand: Value, field: Arc<String>) -> Result<Value, ExecutionError> {
    let inner = match &operand {
        Value::Opaque(_) => match <&OptionalValue>::try_from(&operand)?.value() {
            Some(v) => v.clone(),
            None => return Ok(none()),
        },
        v => v.clone(),
    };
    match inner {
        Value::Map(m) => Ok(m
            .map
            .get(&Key::String(field.clone()))
            .map_or_else(none, |v| some(v.clone()))),
        Value::Null => Ok(none()),
        other => Err(ExecutionError::function_error(
            "_?._",
            format!("cannot select field {field:?} from {:?}", other.type_of()),
        )),
    }
}

fn none() -> Value {
    Value::Opaque(Arc::new(OptionalValue::none()))
}

fn some(v: Value) -> Value {
    Value::Opaque(Arc::new(OptionalValue::of(v)))
}

/// A root context with the Kubernetes libraries and the optional-select
/// fix; add the request's variables with [`bind`].
pub fn context() -> Context<'static> {
    let mut ctx = Context::default().with_all();
    ctx.add_function(OPT_SELECT, opt_select);
    ctx
}

/// Binds a JSON value as a CEL variable.
pub fn bind(ctx: &mut Context<'_>, name: &str, value: &Json) {
    ctx.add_variable_from_value(name, to_cel(value));
}

/// A JSON value as CEL sees it: integers are `int` (as the API server's
/// OpenAPI schemas type them), other numbers `double`.
pub fn to_cel(value: &Json) -> Value {
    match value {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => n.as_i64().map_or_else(
            || {
                n.as_u64()
                    .map_or_else(|| Value::Float(n.as_f64().unwrap_or(f64::NAN)), Value::UInt)
            },
            Value::Int,
        ),
        Json::String(s) => Value::String(Arc::new(s.clone())),
        Json::Array(items) => Value::List(Arc::new(items.iter().map(to_cel).collect())),
        Json::Object(fields) => {
            let map: HashMap<Key, Value> = fields
                .iter()
                .map(|(k, v)| (Key::String(Arc::new(k.clone())), to_cel(v)))
                .collect();
            Value::Map(Map { map: Arc::new(map) })
        }
    }
}

/// A CEL value as text for a message or a finding.
pub fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => format!("{u}u"),
        Value::Null => "null".to_owned(),
        other => format!("{other:?}"),
    }
}

/// The `cel` crate's type name for a value, for "must be a bool" errors.
pub fn type_name(v: &Value) -> String {
    v.type_of().to_string()
}

#[cfg(test)]
mod tests {
    use super::{Compiled, bind, context, show};
    use kube_cel::cel::Value;
    use serde_json::json;

    fn eval(src: &str) -> Result<Value, String> {
        let mut ctx = context();
        bind(
            &mut ctx,
            "object",
            &json!({"metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
                    "spec": {"replicas": 3, "containers": [{"name": "a", "image": "reg.io/a@sha256:00"}]}}),
        );
        Compiled::new(src)?.eval(&ctx)
    }

    #[test]
    fn optional_selection_gives_none_for_a_missing_field() {
        assert_eq!(
            eval("object.spec.?initContainers.orValue([]).size()"),
            Ok(Value::Int(0))
        );
        assert_eq!(
            eval("object.?spec.?securityContext.?privileged.orValue(false)"),
            Ok(Value::Bool(false))
        );
        assert_eq!(
            eval("(object.spec.containers + object.spec.?initContainers.orValue([])).size()"),
            Ok(Value::Int(1))
        );
        assert_eq!(eval("object.?spec.?replicas.orValue(1)"), Ok(Value::Int(3)));
        assert_eq!(
            eval("object.spec.?replicas.hasValue()"),
            Ok(Value::Bool(true))
        );
    }

    #[test]
    fn integers_are_int_and_missing_fields_are_errors() {
        assert_eq!(eval("object.spec.replicas == 3"), Ok(Value::Bool(true)));
        assert_eq!(
            eval("object.spec.initContainers.all(c, true)"),
            Err("no such key: initContainers".to_owned())
        );
        assert_eq!(
            eval("has(object.spec.initContainers)"),
            Ok(Value::Bool(false))
        );
    }

    #[test]
    fn kubernetes_libraries_are_there() {
        assert_eq!(
            eval(
                "object.spec.containers.all(c, c.image.matches('^reg[.]io/') && c.image.contains('@sha256:'))"
            ),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            eval("quantity('1Gi').isGreaterThan(quantity('1Mi'))"),
            Ok(Value::Bool(true))
        );
        assert_eq!(eval("isURL('https://x.io/a')"), Ok(Value::Bool(true)));
    }

    #[test]
    fn syntax_errors_and_variables() {
        assert!(Compiled::new("object.spec.(").is_err());
        let c = Compiled::new("params.max >= object.spec.replicas && authorizer.group('').check()")
            .unwrap();
        assert!(c.uses("params") && c.uses("authorizer") && !c.uses("request"));
        assert_eq!(show(&Value::Int(3)), "3");
    }
}
