//! The CEL environment checks run in, and the one-time conversion of the model into CEL values.

use std::collections::HashMap;
use std::sync::Arc;

use cel::objects::{Key, Map};
use cel::{Env, Program, Value};

/// The shared environment: CEL's standard library plus the strings and lists extensions
/// (`lowerAscii`, `split`, `flatten`, `distinct`, ...), so check authors have what Kubernetes
/// ValidatingAdmissionPolicy authors have.
pub fn environment() -> Arc<Env> {
    let mut env = Env::stdlib();
    env.add_extension(cel::extensions::strings)
        .expect("the strings extension registers once");
    env.add_extension(cel::extensions::lists)
        .expect("the lists extension registers once");
    Arc::new(env)
}

/// A compiled expression with its source, for messages.
#[derive(Clone)]
pub struct Expr {
    pub source: String,
    pub program: Arc<Program>,
}

impl std::fmt::Debug for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Expr({:?})", self.source)
    }
}

/// Compiles `source`; the error is one line.
pub fn compile(env: &Env, source: &str) -> Result<Expr, String> {
    env.compile(source)
        .map(|program| Expr {
            source: source.to_string(),
            program: Arc::new(program),
        })
        .map_err(|e| {
            e.to_string()
                .lines()
                .next()
                .unwrap_or("syntax error")
                .to_string()
        })
}

/// Converts model JSON into a CEL value. Integers become `int` (not `uint`) so that arithmetic
/// such as `units - consumed` behaves as check authors expect.
pub fn from_json(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(s) => Value::String(Arc::new(s.clone())),
        serde_json::Value::Array(items) => {
            Value::List(Arc::new(items.iter().map(from_json).collect()))
        }
        serde_json::Value::Object(map) => {
            let map: HashMap<Key, Value> = map
                .iter()
                .map(|(k, v)| (Key::String(Arc::new(k.clone())), from_json(v)))
                .collect();
            Value::Map(Map { map: Arc::new(map) })
        }
    }
}

/// Renders a CEL value for a message: strings bare, everything else as JSON-ish text.
pub fn display(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        Value::Float(f) => f.to_string(),
        other => other
            .json()
            .map(|j| j.to_string())
            .unwrap_or_else(|_| format!("{other:?}")),
    }
}

/// One line describing a CEL runtime error.
pub fn describe_error(e: &cel::ExecutionError) -> String {
    let text = e.to_string();
    text.lines()
        .next()
        .unwrap_or("evaluation error")
        .to_string()
}
