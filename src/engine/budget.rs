//! Evaluation budgets: check files from `--checks DIR` are untrusted input, so no check may run
//! for ever or take all the memory.
//!
//! CEL has no loops of its own and no recursion: work beyond the size of the expression comes
//! from comprehensions (`all`, `exists`, `map`, `filter`, ...) and from functions whose result
//! is larger than their arguments (`replace`, `join`, `+`, ...). `instrument` rewrites every
//! compiled expression so that each comprehension iteration goes through [`step`] and every
//! value a list, map or comprehension keeps goes through [`charge`], and so that the growing
//! functions are the checked versions below. They count against a meter per check, held in a
//! thread-local while the check is evaluated on that thread; once a budget is spent, every hook
//! fails, so the evaluation unwinds within one loop iteration, and the check is reported
//! unknown, naming the budget.

use std::cell::RefCell;
use std::time::{Duration, Instant};

use cel::common::types::{self, CelBytes, CelInt, CelList, CelString};
use cel::common::value::{BuiltinRef, CowVal, Val};
use cel::{Env, ExecutionError};

/// What one check may spend: comprehension iterations, bytes of values it builds, wall time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budgets {
    /// Comprehension iterations (every element an `all`, `exists`, `map`, ... visits) plus
    /// element comparisons of `distinct`, over every expression of the check and every subject.
    pub steps: u64,
    /// Approximate bytes of the values the check builds: list and map elements, comprehension
    /// results, results of `+`, `replace`, `join`, `split`, `format`, `flatten`, rendered
    /// messages. Counted as they are built, never given back, so it bounds the peak too.
    pub bytes: u64,
    /// Wall time of the whole check.
    pub time: Duration,
}

impl Default for Budgets {
    /// Sized from the built-in catalog with a margin (docs/writing-checks.md): on the synthetic
    /// tenant S (2,000 agents, 500 resource accounts, 5,000 numbers) no check takes more than
    /// 130,000 steps or 9 MiB, on 2S 510,000 (NUM-008, which grows with the square of the
    /// numbers on resource accounts) and 18 MiB; extrapolated to 10S, 13 million and 90 MiB.
    /// Checks evaluate one per core at once, so a hostile check file can add up to the memory
    /// budget to the peak once per core.
    fn default() -> Self {
        Budgets {
            steps: 50_000_000,
            bytes: 256 << 20,
            time: Duration::from_secs(30),
        }
    }
}

/// Which budget a check ran out of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exceeded {
    Steps,
    Bytes,
    Time,
}

impl Exceeded {
    /// The budget in words, for the unknown result: "step budget (50,000,000 ...)".
    pub fn describe(self, budgets: &Budgets) -> String {
        match self {
            Exceeded::Steps => format!(
                "step budget ({} comprehension steps)",
                thousands(budgets.steps)
            ),
            Exceeded::Bytes => format!(
                "memory budget ({} MiB of values built)",
                thousands(budgets.bytes >> 20)
            ),
            Exceeded::Time => format!("time budget ({} s)", budgets.time.as_secs_f64()),
        }
    }
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// What was spent, for tests and for sizing the defaults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Spent {
    pub steps: u64,
    pub bytes: u64,
}

struct Meter {
    budgets: Budgets,
    steps: u64,
    bytes: u64,
    deadline: Instant,
    /// Hooks since the clock was last read: reading it on every iteration would cost more
    /// than a cheap iteration.
    ticks: u32,
    exceeded: Option<Exceeded>,
}

thread_local! {
    /// The running check's meter. It must be per thread: the CEL interpreter calls the counting
    /// hooks from inside its own functions and macros, which take no argument of ours.
    static METER: RefCell<Option<Meter>> = const { RefCell::new(None) };
}

/// Runs `f` (the evaluation of one check) against a fresh meter on this thread. Outside such a
/// call the hooks count nothing and never fail.
pub fn metered<T>(budgets: &Budgets, f: impl FnOnce() -> T) -> (T, Option<Exceeded>, Spent) {
    let now = Instant::now();
    let meter = Meter {
        budgets: *budgets,
        steps: 0,
        bytes: 0,
        deadline: now
            .checked_add(budgets.time)
            .unwrap_or(now + Duration::from_secs(1 << 30)),
        ticks: 0,
        exceeded: None,
    };
    /// Puts the previous meter back, also when `f` panics.
    struct Restore(Option<Option<Meter>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some(previous) = self.0.take() {
                METER.with_borrow_mut(|m| *m = previous);
            }
        }
    }
    let previous = METER.with_borrow_mut(|m| m.replace(meter));
    let mut restore = Restore(Some(previous));
    let out = f();
    let mine = METER.with_borrow_mut(|m| std::mem::replace(m, restore.0.take().flatten()));
    let (exceeded, spent) = mine.map_or((None, Spent::default()), |m| {
        (
            m.exceeded,
            Spent {
                steps: m.steps,
                bytes: m.bytes,
            },
        )
    });
    (out, exceeded, spent)
}

/// Whether the check being evaluated on this thread has run out of a budget.
pub fn exceeded() -> Option<Exceeded> {
    METER.with_borrow(|m| m.as_ref().and_then(|m| m.exceeded))
}

/// Counts `steps` and `bytes` against the meter, if any; fails once a budget is spent.
pub fn spend(steps: u64, bytes: u64) -> Result<(), ExecutionError> {
    METER.with_borrow_mut(|meter| {
        let Some(meter) = meter else {
            return Ok(());
        };
        if meter.exceeded.is_none() {
            meter.steps = meter.steps.saturating_add(steps);
            meter.bytes = meter.bytes.saturating_add(bytes);
            meter.ticks = meter.ticks.wrapping_add(1);
            meter.exceeded = if meter.steps > meter.budgets.steps {
                Some(Exceeded::Steps)
            } else if meter.bytes > meter.budgets.bytes {
                Some(Exceeded::Bytes)
            } else if (meter.ticks.is_multiple_of(32) || bytes > 1 << 16)
                && Instant::now() >= meter.deadline
            {
                Some(Exceeded::Time)
            } else {
                None
            };
        }
        match meter.exceeded {
            Some(e) => Err(budget_error(e, &meter.budgets)),
            None => Ok(()),
        }
    })
}

/// Checks the clock, for the work between expressions (rendering a message, the next subject).
pub fn check_time() -> Option<Exceeded> {
    METER.with_borrow_mut(|meter| {
        let meter = meter.as_mut()?;
        if meter.exceeded.is_none() && Instant::now() >= meter.deadline {
            meter.exceeded = Some(Exceeded::Time);
        }
        meter.exceeded
    })
}

fn budget_error(e: Exceeded, budgets: &Budgets) -> ExecutionError {
    ExecutionError::function_error("budget", format!("{} exceeded", e.describe(budgets)))
}

/// Approximate heap size of a value: what copying it costs. Strings and bytes count their
/// length, containers their elements, every value a box.
pub fn size_of(v: &dyn Val) -> u64 {
    const BOX: u64 = 32;
    match v.as_builtin() {
        BuiltinRef::String(s) => BOX + s.inner().len() as u64,
        BuiltinRef::Bytes(b) => BOX + b.inner().len() as u64,
        BuiltinRef::List(l) => BOX + l.inner().iter().map(|e| size_of(e.as_ref())).sum::<u64>(),
        BuiltinRef::Map(m) => {
            BOX + m
                .inner()
                .iter()
                .map(|(k, e)| BOX + size_of(k.inner()) + size_of(e.as_ref()))
                .sum::<u64>()
        }
        BuiltinRef::Optional(o) => BOX + o.inner().map_or(0, size_of),
        _ => match v.as_iterable() {
            // A list or map of another type: walk it like the built-in ones.
            Some(it) => {
                let mut total = BOX;
                let mut items = it.iter();
                while let Some(item) = items.next() {
                    total += size_of(item);
                }
                total
            }
            None => BOX,
        },
    }
}

// ----------------------------------------------------------------------------------------------
// The hooks and checked functions, registered in the environment under names CEL source cannot
// spell (`@` is not an identifier character), and called only by the rewritten expressions.

pub(crate) const STEP: &str = "@step";
pub(crate) const CHARGE: &str = "@charge";
pub(crate) const ADD: &str = "@add";

/// Member functions replaced by checked versions, with the argument counts (the receiver
/// aside) they take: `x.f(a)` becomes `@f(x, a)`. A call with another count is left alone, to
/// fail as cel makes it fail.
pub(crate) const CHECKED_MEMBERS: &[(&str, std::ops::RangeInclusive<usize>)] = &[
    ("replace", 2..=3),
    ("join", 0..=1),
    ("split", 1..=2),
    ("indexOf", 1..=2),
    ("lastIndexOf", 1..=2),
    ("distinct", 0..=0),
];

/// Functions whose result is charged after the call: at most a small multiple of their
/// arguments (so the one allocation before the charge is bounded too), but a chain of them
/// would grow exponentially. (A result that is merely kept, in a list or by `map`, is charged
/// there; `lists.range` is capped by cel at a million elements.)
pub(crate) const CHARGED_AFTER: &[&str] = &["format", "quote"];

type Args<'b, 'v> = Vec<CowVal<'b, 'v>>;
type Ret<'b, 'v> = Result<CowVal<'b, 'v>, ExecutionError>;

/// Registers the hooks and checked functions.
pub(crate) fn register(env: &mut Env) {
    let dyn_args = |n: usize| (0..n).map(|_| types::DYN_TYPE).collect::<Vec<_>>();
    let mut add = |name: &str, arity: usize, f: cel::common::functions::Function| {
        env.add_overload(name, &format!("{name}/{arity}"), dyn_args(arity), f)
            .expect("budget hooks register once");
    };
    add(STEP, 1, step);
    add(CHARGE, 1, charge);
    add(ADD, 2, checked_add);
    add("@replace", 3, replace);
    add("@replace", 4, replace);
    add("@join", 1, join);
    add("@join", 2, join);
    add("@split", 2, split);
    add("@split", 3, split);
    add("@indexOf", 2, index_of);
    add("@indexOf", 3, index_of);
    add("@lastIndexOf", 2, last_index_of);
    add("@lastIndexOf", 3, last_index_of);
    add("@distinct", 1, distinct);
}

/// One comprehension iteration: its argument passes through.
fn step<'b, 'v>(mut args: Args<'b, 'v>) -> Ret<'b, 'v> {
    spend(1, 0)?;
    Ok(args.remove(0))
}

/// A value about to be kept (list or map element, comprehension result): its size counts.
fn charge<'b, 'v>(mut args: Args<'b, 'v>) -> Ret<'b, 'v> {
    let v = args.remove(0);
    spend(0, size_of(v.as_ref()))?;
    Ok(v)
}

/// The error cel gives for a call no overload accepts, so the checked functions fail as the
/// originals do.
fn no_overload(function: &str, args: &[CowVal<'_, '_>], member: bool) -> ExecutionError {
    let types: Vec<String> = args
        .iter()
        .map(|a| a.get_type().name().to_owned())
        .collect();
    if member {
        ExecutionError::no_such_member_overload(function, types)
    } else {
        ExecutionError::no_such_overload(function, types)
    }
}

fn string<'a, 'b, 'v>(v: &'a CowVal<'b, 'v>) -> Option<&'a str> {
    v.downcast_ref::<CelString>().map(|s| s.inner())
}

fn int(v: &CowVal<'_, '_>) -> Option<i64> {
    v.downcast_ref::<CelInt>().map(|i| *i.inner())
}

/// `_+_`: strings, bytes and lists are charged before they are concatenated; everything else is
/// the interpreter's own addition.
fn checked_add<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    let [lhs, rhs]: [CowVal<'b, 'v>; 2] = args
        .try_into()
        .map_err(|a: Args| ExecutionError::invalid_argument_count(2, a.len()))?;
    let growing = |v: &CowVal| {
        v.downcast_ref::<CelString>().is_some()
            || v.downcast_ref::<CelBytes>().is_some()
            || v.downcast_ref::<CelList>().is_some()
    };
    if growing(&lhs) && growing(&rhs) {
        spend(0, size_of(lhs.as_ref()) + size_of(rhs.as_ref()))?;
    }
    let adder = lhs.as_adder().ok_or_else(|| {
        ExecutionError::UnsupportedBinaryOperator(
            "add",
            cel::Value::try_from(lhs.as_ref()).unwrap_or(cel::Value::Null),
            cel::Value::try_from(rhs.as_ref()).unwrap_or(cel::Value::Null),
        )
    })?;
    Ok(CowVal::Owned(adder.add(rhs.as_ref())?.into_owned()))
}

/// `s.replace(old, new)` and `s.replace(old, new, n)`: the size of the result is computed, and
/// charged, before it is built.
fn replace<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    let (Some(s), Some(from), Some(to)) = (string(&args[0]), string(&args[1]), string(&args[2]))
    else {
        return Err(no_overload("replace", &args, true));
    };
    let limit = match args.get(3) {
        None => None,
        Some(n) => match int(n) {
            Some(n) => usize::try_from(n).ok(),
            None => return Err(no_overload("replace", &args, true)),
        },
    };
    // Occurrences as `str::replace` finds them (an empty `from` matches between code points).
    let found = if from.is_empty() {
        s.chars().count() as u64 + 1
    } else {
        s.matches(from).count() as u64
    };
    let count = limit.map_or(found, |n| found.min(n as u64));
    let size = (s.len() as u64)
        .saturating_sub(count.saturating_mul(from.len() as u64))
        .saturating_add(count.saturating_mul(to.len() as u64));
    spend(0, size)?;
    let out = match limit {
        None => s.replace(from, to),
        Some(n) => s.replacen(from, to, n),
    };
    Ok(CowVal::owned(CelString::from(out)))
}

/// `list.join()` and `list.join(sep)`, charged before the string is built.
fn join<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    let sep = match args.get(1) {
        None => "",
        Some(sep) => string(sep).ok_or_else(|| no_overload("join", &args, true))?,
    };
    let Some(list) = args[0]
        .as_iterable()
        .filter(|_| args[0].get_type().kind() == types::Kind::List)
    else {
        return Err(no_overload("join", &args, true));
    };
    let mut parts: Vec<&str> = Vec::new();
    let mut items = list.iter();
    while let Some(item) = items.next() {
        let Some(s) = item.downcast_ref::<CelString>() else {
            return Err(ExecutionError::UnexpectedType {
                got: item.get_type().name().to_owned(),
                want: "string".to_owned(),
            });
        };
        parts.push(s.inner());
    }
    let size = parts.iter().map(|p| p.len() as u64).sum::<u64>()
        + (sep.len() as u64).saturating_mul(parts.len().saturating_sub(1) as u64);
    spend(0, size)?;
    Ok(CowVal::owned(CelString::from(parts.join(sep))))
}

/// `s.split(sep)` and `s.split(sep, n)`: the parts are counted, and charged, before the list is
/// built (a list of one-character strings is many times the size of the string).
fn split<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    let (Some(s), Some(sep)) = (string(&args[0]), string(&args[1])) else {
        return Err(no_overload("split", &args, true));
    };
    let n = match args.get(2) {
        None => -1,
        Some(n) => int(n).ok_or_else(|| no_overload("split", &args, true))?,
    };
    let found = if sep.is_empty() {
        s.chars().count() as u64
    } else {
        s.matches(sep).count() as u64 + 1
    };
    let parts = match u64::try_from(n) {
        Ok(n) => found.min(n),
        Err(_) => found,
    };
    spend(0, 32 + parts * 64 + s.len() as u64)?;
    let parts: Vec<&str> = match (usize::try_from(n), sep.is_empty()) {
        (Ok(0), _) => Vec::new(),
        (Ok(n), true) => {
            let mut parts: Vec<&str> = Vec::new();
            let mut rest: &str = s;
            while let Some(c) = rest.chars().next() {
                if parts.len() + 1 == n {
                    break;
                }
                let (head, tail) = rest.split_at(c.len_utf8());
                parts.push(head);
                rest = tail;
            }
            if !rest.is_empty() {
                parts.push(rest);
            }
            parts
        }
        (Ok(n), false) => s.splitn(n, sep).collect(),
        (Err(_), true) => s
            .char_indices()
            .map(|(i, c)| &s[i..i + c.len_utf8()])
            .collect(),
        (Err(_), false) => s.split(sep).collect(),
    };
    let list: Vec<Box<dyn Val>> = parts
        .into_iter()
        .map(|p| Box::new(CelString::from(p.to_owned())) as Box<dyn Val>)
        .collect();
    Ok(CowVal::owned(CelList::from(list)))
}

fn out_of_range(function: &str, idx: i64) -> ExecutionError {
    ExecutionError::function_error(function, format!("index out of range: {idx}"))
}

/// Byte offset of code point `n` in `s` (the end when `n` is the count).
fn byte_at(s: &str, n: usize) -> usize {
    s.char_indices().nth(n).map_or(s.len(), |(i, _)| i)
}

/// What the offset argument of `indexOf`/`lastIndexOf` leaves to do.
enum Offset {
    /// Search from (or back from) this code point.
    At(i64),
    /// The answer without a search (an empty needle).
    Answer(i64),
}

/// The offset argument, checked as the strings extension checks it; `None` without one.
fn offset(
    function: &str,
    args: &[CowVal<'_, '_>],
    len: i64,
    empty_needle: bool,
) -> Result<Option<Offset>, ExecutionError> {
    let Some(o) = args.get(2) else {
        return Ok(None);
    };
    let o = int(o).ok_or_else(|| no_overload(function, args, true))?;
    if o < 0 {
        return Err(out_of_range(function, o));
    }
    if empty_needle {
        return Ok(Some(Offset::Answer(o.min(len))));
    }
    if o >= len {
        return Err(out_of_range(function, o));
    }
    Ok(Some(Offset::At(o)))
}

fn int_result<'b, 'v>(i: i64) -> Ret<'b, 'v> {
    Ok(CowVal::owned(CelInt::from(i)))
}

/// `s.indexOf(t)` and `s.indexOf(t, offset)`, in code points, in linear time (the strings
/// extension compares every window, which is quadratic).
fn index_of<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    let (Some(s), Some(needle)) = (string(&args[0]), string(&args[1])) else {
        return Err(no_overload("indexOf", &args, true));
    };
    let len = s.chars().count() as i64;
    let offset = match offset("indexOf", &args, len, needle.is_empty())? {
        None => 0,
        Some(Offset::At(o)) => o,
        Some(Offset::Answer(a)) => return int_result(a),
    };
    let start = byte_at(s, offset as usize);
    let found = s[start..]
        .find(needle)
        .map_or(-1, |i| offset + s[start..start + i].chars().count() as i64);
    int_result(found)
}

/// `s.lastIndexOf(t)` and `s.lastIndexOf(t, offset)`: the last occurrence starting at or before
/// `offset`, in linear time.
fn last_index_of<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    let (Some(s), Some(needle)) = (string(&args[0]), string(&args[1])) else {
        return Err(no_overload("lastIndexOf", &args, true));
    };
    let len = s.chars().count() as i64;
    let offset = match offset("lastIndexOf", &args, len, needle.is_empty())? {
        None => len,
        Some(Offset::At(o)) => o,
        Some(Offset::Answer(a)) => return int_result(a),
    };
    let needle_chars = needle.chars().count() as i64;
    if needle_chars > len {
        return int_result(-1);
    }
    // Occurrences may start at code point `offset` at the latest (and must fit).
    let last_start = offset.min(len - needle_chars);
    let end = byte_at(s, (last_start + needle_chars) as usize);
    int_result(
        s[..end]
            .rfind(needle)
            .map_or(-1, |i| s[..i].chars().count() as i64),
    )
}

/// `list.distinct()`: every comparison counts as a step (the algorithm is quadratic).
fn distinct<'b, 'v>(args: Args<'b, 'v>) -> Ret<'b, 'v> {
    if args[0].get_type().kind() != types::Kind::List {
        return Err(no_overload("distinct", &args, true));
    }
    let Some(list) = args[0].as_iterable() else {
        return Err(no_overload("distinct", &args, true));
    };
    let mut items = list.iter();
    let mut unique: Vec<&dyn Val> = Vec::new();
    while let Some(item) = items.next() {
        spend(unique.len() as u64, 0)?;
        if !unique.iter().any(|seen| item.equals(*seen)) {
            unique.push(item);
        }
    }
    let out: Vec<Box<dyn Val + 'v>> = unique.into_iter().map(|v| v.clone_as_boxed()).collect();
    Ok(CowVal::owned(CelList::from(out)))
}

/// Used by the template renderer: the size of a rendered hole counts like a built string.
pub fn spend_text(len: usize) -> Result<(), ExecutionError> {
    spend(0, len as u64)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use cel::Context;

    use super::*;
    use crate::engine::cel as celx;
    use crate::engine::check::{Check, CheckSet};
    use crate::engine::evaluate::{CheckResult, Status, evaluate_json_within};

    fn check(id: &str, rule: &str) -> Check {
        let text = format!(
            "id: {id}\ntitle: t\narea: acs-federation\nseverity: low\nbasis: inferred\n\
             description: d\nrule: {}\nmessage: {{pass: ok, fail: bad}}\nremediation: r\n\
             docs: [https://learn.microsoft.com/x]\n",
            serde_json::to_string(rule).unwrap()
        );
        let env = celx::environment();
        Check::load(&env, &format!("{id}.yaml"), id, &text, &[]).expect("the check loads")
    }

    fn run(checks: &[Check], budgets: &Budgets) -> Vec<CheckResult> {
        let env = celx::environment();
        let set: CheckSet = checks
            .iter()
            .map(|c| (c.spec.id.clone(), c.clone()))
            .collect();
        let model = serde_json::json!({"n": 3, "names": ["a", "b"]});
        evaluate_json_within(&env, &set, &model, &BTreeMap::new(), budgets)
    }

    fn small() -> Budgets {
        Budgets {
            steps: 100_000,
            bytes: 1 << 20,
            time: Duration::from_secs(20),
        }
    }

    /// The string-doubling chain: 2^41 bytes unbounded.
    const DOUBLING: &str = "size('xx'.replace('x', 'xx').replace('x', 'xx').replace('x', 'xx')\
        .replace('x', 'xx').replace('x', 'xx').replace('x', 'xx').replace('x', 'xx')\
        .replace('x', 'xx').replace('x', 'xx').replace('x', 'xx').replace('x', 'xx')\
        .replace('x', 'xx').replace('x', 'xx').replace('x', 'xx').replace('x', 'xx')\
        .replace('x', 'xx').replace('x', 'xx').replace('x', 'xx').replace('x', 'xx')\
        .replace('x', 'xx').replace('x', 'xx').replace('x', 'xx').replace('x', 'xx')\
        .replace('x', 'xx').replace('x', 'xx').replace('x', 'xx').replace('x', 'xx')\
        .replace('x', 'xx').replace('x', 'xx').replace('x', 'xx').replace('x', 'xx')\
        .replace('x', 'xx').replace('x', 'xx').replace('x', 'xx').replace('x', 'xx')\
        .replace('x', 'xx').replace('x', 'xx').replace('x', 'xx').replace('x', 'xx')\
        .replace('x', 'xx')) > 0";

    /// The triple-nested comprehension: 10^9 iterations unbounded.
    const NESTED: &str = "lists.range(1000).all(i, lists.range(1000).all(j, \
        lists.range(1000).all(k, i + j + k >= 0)))";

    fn only_unknown(results: &[CheckResult], id: &str) -> String {
        let mine: Vec<_> = results.iter().filter(|r| r.check == id).collect();
        assert_eq!(mine.len(), 1, "{mine:#?}");
        assert_eq!(mine[0].status, Status::Unknown, "{mine:#?}");
        assert!(mine[0].subject.is_none());
        mine[0].message.clone()
    }

    #[test]
    fn a_string_doubling_replace_chain_is_unknown_naming_the_memory_budget() {
        let results = run(&[check("ACSFED-901", DOUBLING)], &small());
        let message = only_unknown(&results, "ACSFED-901");
        assert!(message.contains("memory budget (1 MiB"), "{message}");
    }

    #[test]
    fn a_triple_nested_comprehension_is_unknown_naming_the_step_budget() {
        let started = Instant::now();
        let results = run(&[check("ACSFED-901", NESTED)], &small());
        let message = only_unknown(&results, "ACSFED-901");
        assert!(
            message.contains("step budget (100,000 comprehension steps)"),
            "{message}"
        );
        // 100,000 steps, not 10^9: well under the time budget.
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn a_long_check_is_unknown_naming_the_time_budget() {
        let budgets = Budgets {
            steps: u64::MAX,
            bytes: u64::MAX,
            time: Duration::from_millis(300),
        };
        let started = Instant::now();
        let results = run(&[check("ACSFED-901", NESTED)], &budgets);
        let message = only_unknown(&results, "ACSFED-901");
        assert!(message.contains("time budget (0.3 s)"), "{message}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn the_other_checks_complete_beside_one_out_of_budget() {
        let results = run(
            &[
                check("ACSFED-901", NESTED),
                check("ACSFED-902", DOUBLING),
                check(
                    "ACSFED-903",
                    "tenant.n == 3 && tenant.names.map(x, x + x) == ['aa', 'bb']",
                ),
                check("ACSFED-904", "tenant.n == 4"),
            ],
            &small(),
        );
        let status = |id: &str| {
            results
                .iter()
                .find(|r| r.check == id)
                .map(|r| r.status)
                .unwrap()
        };
        assert_eq!(status("ACSFED-901"), Status::Unknown);
        assert_eq!(status("ACSFED-902"), Status::Unknown);
        assert_eq!(status("ACSFED-903"), Status::Pass);
        assert_eq!(status("ACSFED-904"), Status::Fail);
    }

    #[test]
    fn a_map_building_copies_of_a_large_value_is_stopped() {
        // Each element is a copy of a 64 KiB string: 1,000 of them are 64 MiB.
        let rule = "size(lists.range(1000).map(i, tenant.big)) > 0";
        let env = celx::environment();
        let set: CheckSet = [check("ACSFED-901", rule)]
            .into_iter()
            .map(|c| (c.spec.id.clone(), c))
            .collect();
        let model = serde_json::json!({"big": "x".repeat(64 << 10)});
        let results = evaluate_json_within(&env, &set, &model, &BTreeMap::new(), &small());
        let message = only_unknown(&results, "ACSFED-901");
        assert!(message.contains("memory budget"), "{message}");
    }

    #[test]
    fn a_long_message_counts_against_the_memory_budget() {
        let env = celx::environment();
        let mut c = check("ACSFED-901", "false");
        c.message_fail =
            crate::engine::template::Template::compile(&env, "{{ tenant.big }}{{ tenant.big }}")
                .unwrap();
        let set: CheckSet = [(c.spec.id.clone(), c)].into_iter().collect();
        let model = serde_json::json!({"big": "x".repeat(700 << 10)});
        let results = evaluate_json_within(&env, &set, &model, &BTreeMap::new(), &small());
        let message = only_unknown(&results, "ACSFED-901");
        assert!(message.contains("memory budget"), "{message}");
    }

    #[test]
    fn within_budget_the_same_check_passes() {
        let rule = "lists.range(10).all(i, lists.range(10).all(j, i + j >= 0))";
        let results = run(&[check("ACSFED-901", rule)], &small());
        assert_eq!(results[0].status, Status::Pass, "{results:#?}");
    }

    /// Steps are iterations; bytes are the values built, not those read.
    #[test]
    fn steps_count_iterations_and_bytes_count_what_is_built() {
        let env = celx::environment();
        let expr = |src: &str| celx::compile(&env, src).unwrap();
        let ctx = Context::with_env(Arc::clone(&env));
        let spent = |src: &str| {
            let e = expr(src);
            let (r, exceeded, spent) = metered(&Budgets::default(), || e.execute(&ctx));
            assert!(r.is_ok() && exceeded.is_none(), "{src}: {r:?}");
            spent
        };
        // A step is a check of the loop condition: `exists` stops after the match at the
        // third element, at the fourth check, not after ten.
        assert_eq!(spent("lists.range(10).exists(i, i == 2)").steps, 4);
        assert_eq!(spent("lists.range(10).map(i, i)").steps, 10);
        assert_eq!(spent("lists.range(10).filter(i, i > 4)").steps, 10);
        assert_eq!(
            spent("lists.range(4).all(i, lists.range(5).all(j, true))").steps,
            4 + 4 * 5
        );
        let big = spent("'x'.replace('x', 'yyyyyyyyyy').replace('y', 'zzzzzzzzzz')").bytes;
        assert!((110..200).contains(&big), "{big}");
        // Outside `metered` nothing is counted and nothing fails.
        assert!(
            expr(NESTED.replace("1000", "30").as_str())
                .execute(&ctx)
                .is_ok()
        );
    }

    /// The checked functions and the hooks give what the interpreter gives without them: values,
    /// and errors word for word.
    #[test]
    fn instrumented_expressions_evaluate_as_the_originals() {
        let env = celx::environment();
        let mut ctx = Context::with_env(Arc::clone(&env));
        ctx.add_variable_from_value(
            "tenant",
            celx::from_json(&serde_json::json!({
                "s": "a©b©c", "l": ["b", "a", "b"], "m": {"k": 1, "j": 2}, "n": 3
            })),
        );
        let cases = [
            "'hello'.replace('l', 'L')",
            "'hello'.replace('l', 'L', 1)",
            "'hello'.replace('l', 'L', -1)",
            "'hello'.replace('l', 'L', 0)",
            "'abc'.replace('', '-')",
            "'abc'.replace('', '-', 2)",
            "tenant.s.replace('©', '')",
            "1.replace('a', 'b')",
            "'a'.replace(1, 'b')",
            "'a'.replace('a', 'b', 'c')",
            "['a', 'b'].join()",
            "['a', 'b'].join(', ')",
            "[].join('-')",
            "['a', 1].join('-')",
            "'a'.join()",
            "tenant.l.join('/')",
            "'a,b,,c'.split(',')",
            "'a,b,,c'.split(',', 2)",
            "'a,b,,c'.split(',', 0)",
            "'a,b,,c'.split(',', -1)",
            "tenant.s.split('')",
            "tenant.s.split('', 2)",
            "''.split(',')",
            "''.split('')",
            "1.split(',')",
            "tenant.s.indexOf('©')",
            "tenant.s.indexOf('b')",
            "tenant.s.indexOf('')",
            "tenant.s.indexOf('z')",
            "tenant.s.indexOf('©', 2)",
            "tenant.s.indexOf('', 9)",
            "tenant.s.indexOf('c', 5)",
            "tenant.s.indexOf('c', -1)",
            "'aaa'.indexOf('aa', 1)",
            "tenant.s.lastIndexOf('©')",
            "tenant.s.lastIndexOf('')",
            "tenant.s.lastIndexOf('z')",
            "tenant.s.lastIndexOf('©', 2)",
            "tenant.s.lastIndexOf('©', 0)",
            "tenant.s.lastIndexOf('', 2)",
            "tenant.s.lastIndexOf('a', 5)",
            "tenant.s.lastIndexOf('a', -2)",
            "'aaa'.lastIndexOf('aa')",
            "'a'.lastIndexOf('abc')",
            "tenant.l.distinct()",
            "[1, 1u, 1.0, 'a', 'a'].distinct()",
            "'a'.distinct()",
            "'a' + 'b'",
            "b'a' + b'b'",
            "[1] + [2, 3]",
            "tenant.l + tenant.l",
            "1 + 2",
            "1.5 + 2.0",
            "1 + 'a'",
            "'a' + 1",
            "{'a': 1} + {'b': 2}",
            "null + null",
            "9223372036854775807 + 1",
            "'%s-%d'.format(['a', 1])",
            "[[1], [2, [3]]].flatten()",
            "strings.quote('a\"b')",
            "lists.range(3)",
            "tenant.l.map(x, x + '!')",
            "tenant.l.filter(x, x == 'b')",
            "tenant.l.map(x, x == 'b', x + '?')",
            "tenant.m.map(k, tenant.m[k] * 2)",
            "tenant.l.exists(x, x == 'a')",
            "tenant.l.all(x, x == 'a')",
            "tenant.l.exists_one(x, x == 'a')",
            "tenant.l.exists(x, 1 / 0 == 1 || x == 'a')",
            "tenant.l.all(x, x == 'z' && 1 / 0 == 1)",
            "tenant.l.sortBy(x, x)",
            "[3, 1, 2].sort()",
            "{'a': [1, 2], 'b': {'c': 'd'}}",
            "has(tenant.m.k) ? tenant.m.k : 0",
            "[1, 2].map(x, [x, x + 1]).flatten().distinct()",
            "tenant.nope + 1",
            "'a'.replace('a')",
            "'a'.replace('a', 'b', 1, 2)",
            "['a'].join(',', ',')",
            "'a'.split()",
            "'a'.indexOf()",
            "'a'.lastIndexOf('a', 1, 2)",
            "[1].distinct(1)",
            "replace('a', 'a', 'b')",
        ];
        for src in cases {
            let raw = env.compile(src).unwrap_or_else(|e| panic!("{src}: {e}"));
            let ours = celx::compile(&env, src).unwrap_or_else(|e| panic!("{src}: {e}"));
            let expected = raw.execute(&ctx).map_err(|e| e.to_string());
            let (got, exceeded, _) = metered(&Budgets::default(), || {
                ours.execute(&ctx).map_err(|e| e.to_string())
            });
            assert_eq!(exceeded, None, "{src}");
            assert_eq!(got, expected, "{src}");
            let unmetered = ours.execute(&ctx).map_err(|e| e.to_string());
            assert_eq!(unmetered, expected, "{src} outside a meter");
        }
    }
}
