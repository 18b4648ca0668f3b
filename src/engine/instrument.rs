//! Rewrites a parsed expression so that evaluating it is metered (see `budget`):
//!
//! * every comprehension iteration calls `@step`: the loop condition of `all`, `exists` and
//!   `exists_one`, the filter of `filter` and the element of `map`;
//! * every element of a list or map literal and of a `map`/`filter` result goes through
//!   `@charge`, which counts its size;
//! * `a + b` becomes `@add(a, b)`, and `x.replace(..)`, `x.join(..)`, `x.split(..)`,
//!   `x.indexOf(..)`, `x.lastIndexOf(..)`, `x.distinct()` become the checked `@replace(x, ..)`,
//!   ...; the results of `format` and `strings.quote` are charged.
//!
//! The shapes the interpreter optimises (a `map`/`filter` appending to its result in place, an
//! `all`/`exists` folding with `&&`/`||`) are kept: only their operands are wrapped.

use cel::common::ast::{
    CallExpr, ComprehensionExpr, EntryExpr, Expr, IdedExpr, LiteralValue, operators,
};

use super::budget::{ADD, CHARGE, CHARGED_AFTER, CHECKED_MEMBERS, STEP};

/// Depth of the expression tree: the interpreter recurses once per level.
pub fn depth(e: &IdedExpr) -> usize {
    1 + match &e.expr {
        Expr::Call(c) => c
            .target
            .iter()
            .map(|t| depth(t))
            .chain(c.args.iter().map(depth))
            .max()
            .unwrap_or(0),
        Expr::Comprehension(c) => parts(c).into_iter().map(depth).max().unwrap_or(0),
        Expr::List(l) => l.elements.iter().map(depth).max().unwrap_or(0),
        Expr::Map(m) => m.entries.iter().map(entry_depth).max().unwrap_or(0),
        Expr::Struct(s) => s.entries.iter().map(entry_depth).max().unwrap_or(0),
        Expr::Select(s) => depth(&s.operand),
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => 0,
    }
}

/// The expressions of a comprehension.
fn parts(c: &ComprehensionExpr) -> [&IdedExpr; 5] {
    [
        &c.iter_range,
        &c.accu_init,
        &c.loop_cond,
        &c.loop_step,
        &c.result,
    ]
}

fn entry_depth(e: &cel::common::ast::IdedEntryExpr) -> usize {
    match &e.expr {
        EntryExpr::MapEntry(m) => depth(&m.key).max(depth(&m.value)),
        EntryExpr::StructField(f) => depth(&f.value),
    }
}

/// Whether the tree holds a node the interpreter cannot evaluate (it would panic).
pub fn has_unspecified(e: &IdedExpr) -> bool {
    match &e.expr {
        Expr::Unspecified => true,
        Expr::Call(c) => {
            c.target.as_deref().is_some_and(has_unspecified) || c.args.iter().any(has_unspecified)
        }
        Expr::Comprehension(c) => parts(c).into_iter().any(has_unspecified),
        Expr::List(l) => l.elements.iter().any(has_unspecified),
        Expr::Map(m) => m.entries.iter().any(|e| match &e.expr {
            EntryExpr::MapEntry(m) => has_unspecified(&m.key) || has_unspecified(&m.value),
            // A struct field in a map literal makes the interpreter panic.
            EntryExpr::StructField(_) => true,
        }),
        Expr::Struct(s) => s.entries.iter().any(|e| match &e.expr {
            EntryExpr::MapEntry(_) => true,
            EntryExpr::StructField(f) => has_unspecified(&f.value),
        }),
        Expr::Select(s) => has_unspecified(&s.operand),
        Expr::Ident(_) | Expr::Literal(_) => false,
    }
}

/// Rewrites `e` in place (see the module documentation).
pub fn instrument(e: &mut IdedExpr) {
    let taken = std::mem::take(&mut e.expr);
    e.expr = match taken {
        Expr::Call(mut call) => {
            if let Some(t) = call.target.as_deref_mut() {
                instrument(t);
            }
            call.args.iter_mut().for_each(instrument);
            rewrite_call(e.id, call)
        }
        Expr::Comprehension(mut c) => {
            instrument_comprehension(&mut c);
            Expr::Comprehension(c)
        }
        Expr::List(mut l) => {
            for el in &mut l.elements {
                instrument(el);
                charge(el);
            }
            Expr::List(l)
        }
        Expr::Map(mut m) => {
            for entry in &mut m.entries {
                if let EntryExpr::MapEntry(me) = &mut entry.expr {
                    instrument(&mut me.key);
                    instrument(&mut me.value);
                    charge(&mut me.key);
                    charge(&mut me.value);
                }
            }
            Expr::Map(m)
        }
        Expr::Struct(mut s) => {
            for entry in &mut s.entries {
                if let EntryExpr::StructField(f) = &mut entry.expr {
                    instrument(&mut f.value);
                }
            }
            Expr::Struct(s)
        }
        Expr::Select(mut s) => {
            instrument(&mut s.operand);
            Expr::Select(s)
        }
        other @ (Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified) => other,
    };
}

fn rewrite_call(id: u64, mut call: CallExpr) -> Expr {
    if call.func_name == operators::ADD && call.target.is_none() && call.args.len() == 2 {
        call.func_name = ADD.to_string();
        return Expr::Call(call);
    }
    if let Some(target) = call.target.take() {
        // `strings.quote(x)`, `lists.range(n)`: a namespace, not a receiver.
        let namespaced =
            matches!(&target.expr, Expr::Ident(ns) if ns == "strings" || ns == "lists");
        let checked = CHECKED_MEMBERS
            .iter()
            .any(|(name, arity)| *name == call.func_name && arity.contains(&call.args.len()));
        if !namespaced && checked {
            let mut args = Vec::with_capacity(call.args.len() + 1);
            args.push(*target);
            args.append(&mut call.args);
            return Expr::Call(CallExpr {
                func_name: format!("@{}", call.func_name),
                target: None,
                args,
            });
        }
        call.target = Some(target);
    }
    if CHARGED_AFTER.contains(&call.func_name.as_str()) {
        return wrap(
            CHARGE,
            IdedExpr {
                id,
                expr: Expr::Call(call),
            },
        );
    }
    Expr::Call(call)
}

/// Instruments a comprehension: its parts first, then the per-iteration hooks.
fn instrument_comprehension(c: &mut ComprehensionExpr) {
    instrument(&mut c.iter_range);
    instrument(&mut c.accu_init);
    instrument(&mut c.result);
    let accu = c.accu_var.clone();
    let is_accu = |e: &IdedExpr| matches!(&e.expr, Expr::Ident(n) if *n == accu);
    let append_items = |e: &IdedExpr| {
        matches!(&e.expr, Expr::Call(call)
            if call.func_name == operators::ADD
                && call.target.is_none()
                && call.args.len() == 2
                && is_accu(&call.args[0])
                && matches!(call.args[1].expr, Expr::List(_)))
    };
    // The shape the interpreter builds in place (cel's `AppendStep`): `@result + [x]`, or
    // `guard ? @result + [x] : @result`, with a literal loop condition and `@result` as result.
    let appends = is_accu(&c.result)
        && matches!(c.loop_cond.expr, Expr::Literal(_))
        && match &c.loop_step.expr {
            Expr::Call(call) if call.func_name == operators::CONDITIONAL => {
                call.args.len() == 3 && append_items(&call.args[1]) && is_accu(&call.args[2])
            }
            _ => append_items(&c.loop_step),
        };
    if !appends {
        instrument(&mut c.loop_step);
        instrument(&mut c.loop_cond);
        wrap_in_place(STEP, &mut c.loop_cond);
        return;
    }
    let guarded = matches!(
        &c.loop_step.expr,
        Expr::Call(call) if call.func_name == operators::CONDITIONAL
    );
    if guarded {
        if let Expr::Call(step) = &mut c.loop_step.expr {
            let (guard, rest) = step.args.split_at_mut(1);
            instrument(&mut guard[0]);
            wrap_in_place(STEP, &mut guard[0]);
            instrument_items(&mut rest[0], false);
        }
    } else {
        instrument_items(&mut c.loop_step, true);
    }
}

/// The `[x]` of an `@result + [x]` step: `x` is charged, and counts as the iteration's step
/// when no guard did.
fn instrument_items(append: &mut IdedExpr, step_each: bool) {
    let Expr::Call(call) = &mut append.expr else {
        return;
    };
    let Some(Expr::List(items)) = call.args.get_mut(1).map(|a| &mut a.expr) else {
        return;
    };
    for item in &mut items.elements {
        instrument(item);
        wrap_in_place(CHARGE, item);
        if step_each {
            wrap_in_place(STEP, item);
        }
    }
}

/// A value a list or map literal keeps: charged, unless it is a number, bool or null literal.
fn charge(e: &mut IdedExpr) {
    if matches!(&e.expr, Expr::Literal(l) if !matches!(l, LiteralValue::String(_) | LiteralValue::Bytes(_)))
    {
        return;
    }
    wrap_in_place(CHARGE, e);
}

fn wrap(func: &str, e: IdedExpr) -> Expr {
    Expr::Call(CallExpr {
        func_name: func.to_string(),
        target: None,
        args: vec![e],
    })
}

fn wrap_in_place(func: &str, e: &mut IdedExpr) {
    let inner = IdedExpr {
        id: e.id,
        expr: std::mem::take(&mut e.expr),
    };
    e.expr = wrap(func, inner);
}
