//! The CEL environment checks run in, and the one-time conversion of the model into CEL values.

use std::collections::HashMap;
use std::sync::Arc;

use cel::objects::{Key, Map};
use cel::{Context, Env, Value};

use super::{budget, instrument};

/// The shared environment: CEL's standard library plus the strings and lists extensions
/// (`lowerAscii`, `split`, `flatten`, `distinct`, ...), so check authors have what Kubernetes
/// ValidatingAdmissionPolicy authors have; and the budget hooks compiled expressions call
/// (see `budget`).
pub fn environment() -> Arc<Env> {
    let mut env = Env::stdlib();
    env.add_extension(cel::extensions::strings)
        .expect("the strings extension registers once");
    env.add_extension(cel::extensions::lists)
        .expect("the lists extension registers once");
    budget::register(&mut env);
    Arc::new(env)
}

/// The longest expression (or template hole) a check may have, in bytes. The parser reports a
/// column past 65,535 by panicking, and its recursion grows with the length of an operator chain.
pub const MAX_EXPRESSION_BYTES: usize = 16 * 1024;

/// The deepest expression tree, after macros are expanded and budget hooks added, a check may
/// have: the interpreter recurses once per level.
pub const MAX_EXPRESSION_DEPTH: usize = 120;

/// Stack for the parser, which recurses deeply on nested input (megabytes for a few dozen
/// brackets in a debug build): expressions are parsed on a thread with this stack, one
/// `with_parser_stack` started, or one of their own.
const PARSER_STACK: usize = 256 << 20;

/// Stack for evaluating: `MAX_EXPRESSION_DEPTH` levels of the interpreter's recursion take
/// about 30 KiB each in a debug build (4 MiB for 120), far less in a release build.
pub const EVAL_STACK: usize = 32 << 20;

thread_local! {
    /// Whether this thread has the parser's stack: a property of the thread itself, which no
    /// argument could carry (`compile` is reached from many callers that know nothing of it).
    static ON_PARSER_STACK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` on a thread with a stack large enough for the parser, so that the expressions `f`
/// compiles are parsed there and not each on a thread of its own.
pub fn with_parser_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    if ON_PARSER_STACK.with(|c| c.get()) {
        return f();
    }
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("ccaudit-parse".into())
            .stack_size(PARSER_STACK)
            .spawn_scoped(scope, || {
                ON_PARSER_STACK.with(|c| c.set(true));
                f()
            })
            .expect("a thread to parse CEL expressions on");
        match handle.join() {
            Ok(out) => out,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// A compiled expression with its source, for messages.
#[derive(Clone)]
pub struct Expr {
    pub source: String,
    /// The parsed tree, instrumented for budgets (see `instrument`).
    tree: Arc<cel::parser::Expression>,
}

impl std::fmt::Debug for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Expr({:?})", self.source)
    }
}

impl Expr {
    /// Evaluates the expression in `ctx`. Budgets apply inside `budget::metered`.
    pub fn execute(&self, ctx: &Context) -> cel::ResolveResult {
        Value::resolve(&self.tree, ctx)
    }

    /// Levels of the compiled tree (see `MAX_EXPRESSION_DEPTH`).
    pub fn depth(&self) -> usize {
        instrument::depth(&self.tree)
    }
}

/// Why an expression does not compile; one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompileError {
    #[error("expression is {len} bytes long, more than the {max} allowed")]
    TooLong { len: usize, max: usize },
    /// The parser's own message, first line.
    #[error("{0}")]
    Syntax(String),
    #[error("the CEL parser failed on this expression ({0})")]
    ParserPanic(String),
    #[error("the CEL parser returned an incomplete expression")]
    Incomplete,
    #[error("expression is nested {0} levels deep, more than the {MAX_EXPRESSION_DEPTH} allowed")]
    TooDeep(usize),
}

/// Compiles `source`; the error is one line. Never panics: a source longer than
/// `MAX_EXPRESSION_BYTES` or deeper than `MAX_EXPRESSION_DEPTH` is refused, and a panic in the
/// parser becomes an error.
pub fn compile(env: &Env, source: &str) -> Result<Expr, CompileError> {
    compile_limited(env, source, MAX_EXPRESSION_BYTES)
}

fn compile_limited(env: &Env, source: &str, max_bytes: usize) -> Result<Expr, CompileError> {
    if source.len() > max_bytes {
        return Err(CompileError::TooLong {
            len: source.len(),
            max: max_bytes,
        });
    }
    let parse = || {
        let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            env.parser().parse(source).map_err(|e| {
                CompileError::Syntax(
                    e.to_string()
                        .lines()
                        .next()
                        .unwrap_or("syntax error")
                        .to_string(),
                )
            })
        }));
        let mut tree = match parsed {
            Ok(Ok(tree)) => tree,
            Ok(Err(e)) => return Err(e),
            Err(panic) => {
                return Err(CompileError::ParserPanic(panic_text(panic.as_ref())));
            }
        };
        if instrument::has_unspecified(&tree) {
            return Err(CompileError::Incomplete);
        }
        instrument::instrument(&mut tree);
        let depth = instrument::depth(&tree);
        if depth > MAX_EXPRESSION_DEPTH {
            return Err(CompileError::TooDeep(depth));
        }
        Ok(tree)
    };
    let tree = with_parser_stack(parse)?;
    Ok(Expr {
        source: source.to_string(),
        tree: Arc::new(tree),
    })
}

/// The message of a caught panic.
pub fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "internal error".into())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::check::Check;

    fn load(rule: &str) -> Result<Check, String> {
        let text = format!(
            "id: ACSFED-901\ntitle: t\narea: acs-federation\nseverity: low\nbasis: inferred\n\
             description: d\nrule: {}\nmessage: {{pass: ok, fail: bad}}\nremediation: r\n\
             docs: [https://learn.microsoft.com/x]\n",
            serde_json::to_string(rule).unwrap()
        );
        Check::load(
            &environment(),
            "d/ACSFED-901.yaml",
            "ACSFED-901",
            &text,
            &[],
        )
        .map_err(|e| e.to_string())
    }

    /// The case: a syntax error past column 65,535 made the parser panic.
    #[test]
    fn an_expression_past_the_length_limit_is_a_file_and_line_error() {
        let rule = format!("true || '{}' + )", "a".repeat(70_000));
        let err = load(&rule).unwrap_err();
        assert_eq!(
            err,
            "d/ACSFED-901.yaml:7: rule: expression is 70014 bytes long, more than the 16384 allowed"
        );
    }

    /// Without the length limit, the parser's panic is still an error, not a crash.
    #[test]
    fn a_panic_in_the_parser_is_an_error() {
        let source = format!("true || '{}' + )", "a".repeat(70_000));
        let err = compile_limited(&environment(), &source, usize::MAX)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("the CEL parser failed on this expression ("),
            "{err}"
        );
    }

    /// Nesting and chains up to the length limit: an error or an expression, never a stack
    /// overflow, on a test thread's small stack.
    #[test]
    fn deep_input_within_the_length_limit_does_not_crash() {
        let n = MAX_EXPRESSION_BYTES;
        let cases = [
            format!("{}1{}", "[".repeat(n / 2 - 1), "]".repeat(n / 2 - 1)),
            format!("{}1{}", "(".repeat(n / 2 - 1), ")".repeat(n / 2 - 1)),
            format!("{}1{}", "size(".repeat(n / 6 - 1), ")".repeat(n / 6 - 1)),
            format!("{}true", "!".repeat(n - 4)),
            format!("{}1", "-".repeat(n - 1)),
            format!("1{}", "+1".repeat(n / 2 - 1)),
            format!("a{}", ".b".repeat(n / 2 - 1)),
            format!("a{}", "[0]".repeat(n / 3 - 1)),
            format!("{}1", "true?1:".repeat(n / 7 - 1)),
            format!("[1]{}", ".map(x,x)".repeat(n / 9 - 1)),
            format!(
                "{}[1]{}",
                "[1].map(x,".repeat(n / 11 - 1),
                ")".repeat(n / 11 - 1)
            ),
        ];
        for source in &cases {
            assert!(source.len() <= n, "{}", source.len());
            match load(source) {
                Ok(check) => assert!(check.rule.depth() <= MAX_EXPRESSION_DEPTH),
                Err(e) => assert!(e.starts_with("d/ACSFED-901.yaml:7: rule: "), "{e}"),
            }
        }
    }

    #[test]
    fn an_expression_deeper_than_the_limit_is_refused() {
        let deep = format!("1{}", " + 1".repeat(MAX_EXPRESSION_DEPTH));
        let err = load(&deep).unwrap_err();
        assert!(
            err.contains("levels deep, more than the 120 allowed"),
            "{err}"
        );
        let shallow = format!("1{}", " + 1".repeat(MAX_EXPRESSION_DEPTH - 2));
        let check = load(&shallow).unwrap();
        assert_eq!(check.rule.depth(), MAX_EXPRESSION_DEPTH - 1);
        // It evaluates, whatever the caller's stack (a test thread has 2 MiB; a debug build
        // needs about 4 MiB at this depth): checks run on threads with `EVAL_STACK`.
        let set = [(check.spec.id.clone(), check)].into_iter().collect();
        let results = crate::engine::evaluate_json(
            &environment(),
            &set,
            &serde_json::json!({}),
            &Default::default(),
        );
        assert!(
            results[0]
                .message
                .ends_with("returned 119 instead of true/false"),
            "{results:?}"
        );
    }

    /// The built-in checks stay well inside the limits, so they are not what stops a check
    /// author.
    #[test]
    fn the_builtin_catalog_has_room_under_the_limits() {
        let env = environment();
        let set = crate::engine::catalog::load(&env, None).unwrap();
        let deepest = set
            .values()
            .flat_map(|c| {
                [
                    &c.subjects,
                    &c.subject_name,
                    &c.applies,
                    &c.subject_applies,
                    &c.missing,
                ]
                .into_iter()
                .flatten()
                .chain([&c.rule])
                .map(|e| (e.depth(), e.source.len()))
                .collect::<Vec<_>>()
            })
            .fold((0, 0), |(d, l), (d2, l2)| (d.max(d2), l.max(l2)));
        assert!(deepest.0 * 2 <= MAX_EXPRESSION_DEPTH, "{deepest:?}");
        assert!(deepest.1 * 4 <= MAX_EXPRESSION_BYTES, "{deepest:?}");
    }
}
