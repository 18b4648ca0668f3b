//! Load-time check of the model paths a check reads: every `tenant.…` chain in a rule, subject
//! expression or message must name fields the model has, so a typo is a `file:line` error when
//! the check loads, not an `unknown` at run time.
//!
//! The fields are those of the model's schema (`model::schema`, kept in step with the Rust
//! model types by its own test). Map keys (object ids, numbers) are reached with `[…]`, which
//! stands for any entry.

use cel::common::ast::{EntryExpr, Expr, IdedExpr, operators};

use crate::model::schema;

/// One step of a path: a field, or `[…]` (any entry of a map or list).
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Field(String),
    Any,
}

/// The first `tenant.…` path in `source` (a CEL expression) that the model does not have, as
/// `tenant.a.b` with the step that is not there; `None` when all are known or the source does not
/// parse (the compiler reports that).
pub fn unknown_path(source: &str) -> Option<String> {
    let ast = cel::parser::Parser::new().parse(source).ok()?;
    let mut chains = Vec::new();
    collect(&ast, &mut chains);
    chains.into_iter().find_map(|chain| check(&chain))
}

/// Every expression and template of `spec` checked; the error is `origin:line`, the line of
/// the YAML key holding the bad path.
pub fn check_spec(
    spec: &super::check::CheckSpec,
    origin: &str,
    text: &str,
) -> Result<(), super::check::CheckError> {
    let expressions = [
        ("rule", Some(&spec.rule)),
        ("subjects", spec.subjects.as_ref()),
        ("subject_name", spec.subject_name.as_ref()),
        ("applies", spec.applies.as_ref()),
        ("subject_applies", spec.subject_applies.as_ref()),
        ("missing", spec.missing.as_ref()),
    ];
    let templates = [
        ("message", Some(&spec.message.pass)),
        ("message", Some(&spec.message.fail)),
        ("message", spec.message.missing.as_ref()),
        ("remediation", Some(&spec.remediation)),
        ("skip_reason", spec.skip_reason.as_ref()),
        ("subject_skip_reason", spec.subject_skip_reason.as_ref()),
        ("no_subjects", spec.no_subjects.as_ref()),
    ];
    let sources = expressions
        .into_iter()
        .filter_map(|(key, e)| Some((key, vec![e?.as_str()])))
        .chain(
            templates
                .into_iter()
                .filter_map(|(key, t)| Some((key, template_holes(t?)))),
        );
    for (key, exprs) in sources {
        for e in exprs {
            if let Some(problem) = unknown_path(e) {
                let prefix = format!("{key}:");
                let line = text
                    .lines()
                    .position(|l| l.starts_with(&prefix))
                    .map_or(1, |i| i + 1);
                return Err(super::check::CheckError {
                    origin: origin.to_string(),
                    line,
                    message: format!("{key}: {problem}"),
                });
            }
        }
    }
    Ok(())
}

/// The first field of a fixture's merge patch that the model's schema does not have, or whose
/// value has another type (a `null` deletes the key, so it has no type to check).
pub fn check_patch(patch: &serde_json::Value) -> Option<String> {
    patch_at(patch, "")
}

fn patch_at(value: &serde_json::Value, at: &str) -> Option<String> {
    use serde_json::Value;
    if !at.is_empty() {
        let Some(field) = schema::field(at) else {
            return Some(format!("`tenant.{at}` is not a field of the model"));
        };
        if !value.is_null() && !schema::matches(field.kind, value, false) {
            return Some(format!("`tenant.{at}` is a {}, not {value}", field.kind));
        }
        if field.kind.starts_with("answer") {
            return None;
        }
    }
    let entries = schema::has_entries(at);
    match value {
        Value::Object(m) => m.iter().find_map(|(k, v)| {
            let child = if entries {
                format!("{at}[…]")
            } else {
                schema::join(at, k)
            };
            patch_at(v, &child)
        }),
        Value::Array(a) => a.iter().find_map(|v| patch_at(v, &format!("{at}[…]"))),
        _ => None,
    }
}

/// `None` when the dotted path (`teams.users.<id>.upn`) is a field of the model.
pub fn check_dotted(path: &str) -> Option<String> {
    let mut at = String::new();
    for part in path.split('.') {
        at = if !at.is_empty() && schema::has_entries(&at) {
            format!("{at}[…]")
        } else {
            schema::join(&at, part)
        };
        if schema::field(&at).is_none() {
            return Some(format!("`tenant.{at}` is not a field of the model"));
        }
    }
    None
}

/// The holes of a `{{ … }}` message template.
pub fn template_holes(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        out.push(&after[..end]);
        rest = &after[end + 2..];
    }
    out
}

/// The path an expression denotes when it is `tenant` followed by selections and indexes.
fn chain(e: &IdedExpr) -> Option<Vec<Step>> {
    match &e.expr {
        Expr::Ident(name) if name == "tenant" => Some(Vec::new()),
        Expr::Select(s) => {
            let mut c = chain(&s.operand)?;
            c.push(Step::Field(s.field.clone()));
            Some(c)
        }
        Expr::Call(call)
            if (call.func_name == operators::INDEX || call.func_name == operators::OPT_INDEX)
                && call.args.len() == 2 =>
        {
            let mut c = chain(&call.args[0])?;
            c.push(Step::Any);
            Some(c)
        }
        _ => None,
    }
}

/// Every `tenant.…` chain in the expression.
fn collect(e: &IdedExpr, out: &mut Vec<Vec<Step>>) {
    if let Some(c) = chain(e) {
        out.push(c);
    }
    match &e.expr {
        // Prefixes of a chain are collected too (harmless), and so is what an index reads.
        Expr::Select(s) => collect(&s.operand, out),
        Expr::Call(call) => {
            call.target.iter().for_each(|t| collect(t, out));
            call.args.iter().for_each(|a| collect(a, out));
        }
        Expr::Comprehension(c) => {
            for part in [
                &c.iter_range,
                &c.accu_init,
                &c.loop_cond,
                &c.loop_step,
                &c.result,
            ] {
                collect(part, out);
            }
        }
        Expr::List(l) => l.elements.iter().for_each(|x| collect(x, out)),
        Expr::Map(m) => {
            for entry in &m.entries {
                if let EntryExpr::MapEntry(me) = &entry.expr {
                    collect(&me.key, out);
                    collect(&me.value, out);
                }
            }
        }
        Expr::Struct(s) => {
            for entry in &s.entries {
                match &entry.expr {
                    EntryExpr::MapEntry(me) => collect(&me.value, out),
                    EntryExpr::StructField(f) => collect(&f.value, out),
                }
            }
        }
        Expr::Unspecified | Expr::Ident(_) | Expr::Literal(_) => {}
    }
}

/// Walks `chain` through the schema; the first field the schema does not have is the error.
fn check(chain: &[Step]) -> Option<String> {
    let mut at = String::new();
    for step in chain {
        let kind = if at.is_empty() {
            "object"
        } else {
            schema::field(&at).map_or("object", |f| f.kind)
        };
        // A map's entries are reached by index or, as CEL allows, by selection (`m.key`).
        let next = match step {
            Step::Any => format!("{at}[…]"),
            Step::Field(_) if schema::has_entries(&at) && kind.starts_with("map") => {
                format!("{at}[…]")
            }
            Step::Field(f) => schema::join(&at, f),
        };
        if schema::field(&next).is_none() {
            let walked = if at.is_empty() {
                "tenant".to_string()
            } else {
                format!("tenant.{at}")
            };
            let what = match step {
                Step::Field(f) => format!("`{walked}.{f}` is not a field of the model"),
                Step::Any => format!("`{walked}` has no entries to index"),
            };
            let known = schema::children(&at);
            return Some(if known.is_empty() {
                format!("{what} ({walked} is a {kind})")
            } else {
                format!("{what} ({walked} has: {})", known.join(", "))
            });
        }
        at = next;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_path_through_maps_and_lists_passes() {
        assert_eq!(
            unknown_path(
                "tenant.teams.users[subject.id].enterprise_voice_enabled && tenant.agents.all(a, a.found)"
            ),
            None
        );
    }

    #[test]
    fn a_typo_names_the_path_and_what_is_there() {
        let e = unknown_path("tenant.teams.users[subject.id].enterprise_voice_enable == true")
            .expect("a typo is found");
        assert!(
            e.contains("tenant.teams.users[…].enterprise_voice_enable"),
            "{e}"
        );
        assert!(e.contains("enterprise_voice_enabled"), "{e}");
    }

    #[test]
    fn a_typo_inside_a_macro_or_an_index_is_found() {
        assert!(
            unknown_path("size(tenant.agents.filter(a, a.id in tenant.teams.userz)) > 0").is_some()
        );
        assert!(unknown_path("tenant.teams.users[tenant.agentz[0].id].upn != ''").is_some());
    }

    #[test]
    fn fixture_patches_and_null_paths_are_checked_against_the_schema() {
        let ok = serde_json::json!({"teams": {"users": {"any-id": {"external_access_policy": "x", "upn": null}}}});
        assert_eq!(check_patch(&ok), None);
        let typo = serde_json::json!({"teams": {"userz": {}}});
        assert!(check_patch(&typo).is_some_and(|e| e.contains("tenant.teams.userz")));
        let wrong_type = serde_json::json!({"agents": [{"found": "yes"}]});
        assert!(check_patch(&wrong_type).is_some());
        assert_eq!(check_dotted("teams.external_access.abc.policy"), None);
        assert!(check_dotted("teams.external_access.abc.polic").is_some());
    }

    #[test]
    fn template_holes_are_the_expressions_between_braces() {
        assert_eq!(
            template_holes("a {{ x.y }} b {{z}} c {single}"),
            vec![" x.y ", "z"]
        );
    }
}
