//! Runs checks against the model: one result per check and subject.
//!
//! The model is converted to a CEL value once per audit; each subject gets a child scope that
//! binds `subject`, so per-subject cost is the rule itself, not a model copy.

use std::collections::BTreeMap;
use std::sync::Arc;

use cel::{Context, Env, Value};
use serde::Serialize;

use super::budget::{self, Budgets};
use super::cel::{self as celx, Expr};
use super::check::{Basis, Check, CheckSet, Severity};
use super::template::Template;
use crate::model::absence::{self, Absence};
use crate::model::{TenantModel, Unavailable, UnavailableKind};
use crate::trace::HopKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Fail,
    Missing,
    Unknown,
    Pass,
    Skipped,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Missing => "missing",
            Status::Unknown => "unknown",
            Status::Skipped => "skipped",
        }
    }

    /// Whether the result is a finding (something to fix).
    pub fn is_finding(self) -> bool {
        matches!(self, Status::Fail | Status::Missing)
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Subject {
    /// `tenant`, `agent`, `resource account`, `number`, ...
    pub kind: String,
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CheckResult {
    pub check: String,
    pub title: String,
    pub area: String,
    pub severity: Severity,
    pub basis: Basis,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<Subject>,
    pub message: String,
    /// Present for fail and missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remediation: Option<String>,
    pub docs: Vec<String>,
    /// For unknown: the permission or role that would make the data readable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub needs: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub error_codes: Vec<String>,
    /// Set when a configured suppression covers this result; `status` keeps the original verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<Suppressed>,
    /// For unknown: the snapshot key of the source that did not send a field the check read
    /// (counted in the report's data quality part).
    #[serde(skip)]
    pub absent_in: Option<String>,
    /// The hop of the call path the check decides (its `hop:`); `None` when it decides none.
    /// The call paths carry the results per hop, so the results themselves do not repeat it.
    #[serde(skip)]
    pub hop: Option<HopKind>,
}

#[cfg(test)]
impl CheckResult {
    /// A result of `check` about `subject` (`(id, name)`, an agent), for unit tests.
    pub(crate) fn sample(check: &str, status: Status, subject: Option<(&str, &str)>) -> Self {
        CheckResult {
            check: check.into(),
            title: String::new(),
            area: String::new(),
            severity: Severity::High,
            basis: Basis::Documented,
            status,
            subject: subject.map(|(id, name)| Subject {
                kind: "agent".into(),
                id: id.into(),
                name: name.into(),
            }),
            message: String::new(),
            remediation: None,
            docs: Vec::new(),
            needs: None,
            error_codes: Vec::new(),
            suppressed: None,
            absent_in: None,
            hop: None,
        }
    }
}

/// Why a result is suppressed (from the configuration file).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Suppressed {
    pub reason: String,
    /// ISO date (YYYY-MM-DD) after which the suppression stops applying.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

/// Evaluates `checks` against `model`, in check-id order, each check within the default
/// `Budgets`.
pub fn evaluate(env: &Arc<Env>, checks: &CheckSet, model: &TenantModel) -> Vec<CheckResult> {
    evaluate_within(env, checks, model, &Budgets::default())
}

/// `evaluate` with other budgets.
pub fn evaluate_within(
    env: &Arc<Env>,
    checks: &CheckSet,
    model: &TenantModel,
    budgets: &Budgets,
) -> Vec<CheckResult> {
    let unavailable: BTreeMap<String, Unavailable> = model
        .unavailable_facts()
        .into_iter()
        .map(|(path, u)| (path.to_string(), u.clone()))
        .collect();
    // The model's JSON is only the way into CEL: dropped as soon as it is converted, so it
    // does not sit in memory beside the CEL value for the whole evaluation.
    let tenant = celx::from_json(&model.to_json());
    evaluate_tenant(
        env,
        checks,
        tenant,
        &unavailable,
        &model.absences,
        cores(),
        budgets,
    )
}

/// Threads to evaluate on: one per core.
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Evaluates against model JSON directly; `unavailable` lists the fact paths that could not be
/// read. Used by `evaluate` and by check fixtures, which patch the model JSON.
pub fn evaluate_json(
    env: &Arc<Env>,
    checks: &CheckSet,
    model: &serde_json::Value,
    unavailable: &BTreeMap<String, Unavailable>,
) -> Vec<CheckResult> {
    evaluate_json_within(env, checks, model, unavailable, &Budgets::default())
}

/// `evaluate_json` with other budgets.
pub fn evaluate_json_within(
    env: &Arc<Env>,
    checks: &CheckSet,
    model: &serde_json::Value,
    unavailable: &BTreeMap<String, Unavailable>,
    budgets: &Budgets,
) -> Vec<CheckResult> {
    evaluate_tenant(
        env,
        checks,
        celx::from_json(model),
        unavailable,
        &[],
        cores(),
        budgets,
    )
}

/// Evaluates against the tenant as a CEL value, on up to `workers` threads.
fn evaluate_tenant(
    env: &Arc<Env>,
    checks: &CheckSet,
    tenant: Value,
    unavailable: &BTreeMap<String, Unavailable>,
    absences: &[Absence],
    workers: usize,
    budgets: &Budgets,
) -> Vec<CheckResult> {
    let mut ctx = Context::with_env(Arc::clone(env));
    ctx.add_variable_from_value("tenant", tenant);
    let checks: Vec<&Check> = checks.values().collect();
    let workers = workers.clamp(1, checks.len().max(1));
    // Checks are independent and read one shared, immutable tenant value, so they run on every
    // core: each worker takes the next check not yet taken (the costs differ by orders of
    // magnitude, so a fixed split would leave a core idle), and the results are put back in
    // check-id order, so the output does not depend on scheduling. Even one worker is a thread
    // of its own: the interpreter recurses once per level of an expression, which needs a
    // known stack (`EVAL_STACK`), not whatever the caller's thread has.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done: Vec<std::sync::Mutex<Vec<CheckResult>>> =
        checks.iter().map(|_| Default::default()).collect();
    let work = || {
        loop {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(check) = checks.get(i) else { break };
            let mut results = Vec::new();
            evaluate_within_budget(check, &ctx, unavailable, absences, budgets, &mut results);
            *done[i].lock().unwrap_or_else(|p| p.into_inner()) = results;
        }
    };
    std::thread::scope(|scope| {
        for _ in 0..workers {
            std::thread::Builder::new()
                .name("ccaudit-eval".into())
                .stack_size(celx::EVAL_STACK)
                .spawn_scoped(scope, work)
                .expect("a thread to evaluate checks on");
        }
    });
    done.into_iter()
        .flat_map(|slot| slot.into_inner().unwrap_or_else(|p| p.into_inner()))
        .collect()
}

/// Evaluates one check within `budgets`. A check that runs out of one, or on which the
/// interpreter panics, gives one unknown result saying so, and no other: its partial results
/// are not a verdict. Other checks are not affected.
fn evaluate_within_budget(
    check: &Check,
    ctx: &Context,
    unavailable: &BTreeMap<String, Unavailable>,
    absences: &[Absence],
    budgets: &Budgets,
    out: &mut Vec<CheckResult>,
) {
    let mut results = Vec::new();
    let started = std::time::Instant::now();
    let (outcome, exceeded, spent) = budget::metered(budgets, || {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            evaluate_check(check, ctx, unavailable, absences, &mut results)
        }))
    });
    tracing::debug!(
        check = %check.spec.id,
        steps = spent.steps,
        bytes = spent.bytes,
        ms = started.elapsed().as_millis() as u64,
        "evaluated"
    );
    let message = match (exceeded, outcome) {
        (None, Ok(())) => {
            out.extend(results);
            return;
        }
        (Some(e), _) => format!(
            "not evaluated to the end: the check exceeded its {} (see docs/writing-checks.md)",
            e.describe(budgets)
        ),
        (None, Err(panic)) => format!(
            "not evaluated: the CEL interpreter failed on this check ({})",
            celx::panic_text(panic.as_ref())
        ),
    };
    out.push(result(&check.spec, Status::Unknown, None, message));
}

/// A result of `spec` with nothing but its status, subject and message.
fn result(
    spec: &super::check::CheckSpec,
    status: Status,
    subject: Option<Subject>,
    message: String,
) -> CheckResult {
    CheckResult {
        check: spec.id.clone(),
        title: spec.title.clone(),
        area: spec.area.clone(),
        severity: spec.severity,
        basis: spec.basis,
        status,
        subject,
        message,
        remediation: None,
        docs: spec.docs.clone(),
        needs: None,
        error_codes: spec.error_codes.clone(),
        suppressed: None,
        absent_in: None,
        hop: spec.hop_kind(),
    }
}

fn evaluate_check(
    check: &Check,
    ctx: &Context,
    unavailable: &BTreeMap<String, Unavailable>,
    absences: &[Absence],
    out: &mut Vec<CheckResult>,
) {
    let spec = &check.spec;
    let base = |status: Status, subject: Option<Subject>, message: String| {
        result(spec, status, subject, message)
    };

    // 1. Needed facts. Not-requested input (e.g. no agents named) skips; anything else is unknown.
    let missing_facts: Vec<_> = spec
        .needs
        .iter()
        .filter_map(|n| unavailable.get(n.as_str()).map(|u| (n.as_str(), u)))
        .collect();
    if !missing_facts.is_empty() {
        if let Some((_, u)) = missing_facts
            .iter()
            .find(|(_, u)| u.kind == UnavailableKind::NotRequested)
        {
            out.push(base(Status::Skipped, None, u.reason.clone()));
            return;
        }
        let message = missing_facts
            .iter()
            .map(|(path, u)| {
                let what = crate::model::fact_label(path).unwrap_or(path);
                format!("{what} could not be read: {}", u.reason)
            })
            .collect::<Vec<_>>()
            .join("; ");
        let mut needs: Vec<&str> = missing_facts
            .iter()
            .filter_map(|(_, u)| u.needs.as_deref())
            .collect();
        needs.dedup();
        let mut result = base(Status::Unknown, None, message);
        result.needs = (!needs.is_empty()).then(|| needs.join("; "));
        out.push(result);
        return;
    }

    // 2. Tenant-level applicability.
    if let Some(applies) = &check.applies {
        match eval_bool(applies, ctx) {
            Ok(true) => {}
            Ok(false) => {
                let reason = render_or(&check.skip_reason, ctx, "does not apply to this tenant");
                out.push(base(Status::Skipped, None, reason));
                return;
            }
            Err(e) => {
                out.push(undecided(e, "`applies`", None, absences, &base));
                return;
            }
        }
    }

    // 3. Subjects.
    let Some(subjects_expr) = &check.subjects else {
        out.push(evaluate_subject(check, ctx, None, absences, &base));
        return;
    };
    let subjects = match subjects_expr.execute(ctx) {
        Ok(Value::List(items)) => items,
        Ok(other) => {
            out.push(base(
                Status::Unknown,
                None,
                format!("`subjects` must be a list, got {}", celx::display(&other)),
            ));
            return;
        }
        Err(e) => {
            out.push(undecided(
                Undecided::from(&e),
                "`subjects`",
                None,
                absences,
                &base,
            ));
            return;
        }
    };
    if subjects.is_empty() {
        let reason = render_or(
            &check.no_subjects,
            ctx,
            &format!("no {} to check", spec.subject_kind),
        );
        out.push(base(Status::Skipped, None, reason));
        return;
    }
    let mut results: Vec<CheckResult> = Vec::with_capacity(subjects.len());
    for item in subjects.iter() {
        // A check out of budget stops here: its results are replaced by one unknown.
        if budget::check_time().is_some() {
            return;
        }
        let mut child = ctx.new_inner_scope();
        child.add_variable_from_value("subject", item.clone());
        results.push(evaluate_subject(check, &child, Some(item), absences, &base));
    }
    // CEL maps iterate in hash order, so a subject list built from a map comes out shuffled;
    // sorting makes every report byte-for-byte reproducible.
    results.sort_by(|a, b| {
        let key = |r: &CheckResult| r.subject.as_ref().map(|s| (s.name.clone(), s.id.clone()));
        key(a).cmp(&key(b))
    });
    out.extend(results);
}

fn evaluate_subject(
    check: &Check,
    ctx: &Context,
    item: Option<&Value>,
    absences: &[Absence],
    base: &dyn Fn(Status, Option<Subject>, String) -> CheckResult,
) -> CheckResult {
    let subject = item.map(|item| subject_of(check, ctx, item));
    if let Some(applies) = &check.subject_applies {
        match eval_bool(applies, ctx) {
            Ok(true) => {}
            Ok(false) => {
                let reason = render_or(&check.subject_skip_reason, ctx, "does not apply");
                return base(Status::Skipped, subject, reason);
            }
            Err(e) => return undecided(e, "`subject_applies`", subject, absences, base),
        }
    }
    if let Some(missing) = &check.missing {
        match eval_bool(missing, ctx) {
            Ok(false) => {}
            Ok(true) => {
                let template = check
                    .message_missing
                    .as_ref()
                    .unwrap_or(&check.message_fail);
                let mut r = base(Status::Missing, subject, template.render(ctx).0);
                r.remediation = Some(check.remediation.render(ctx).0);
                return r;
            }
            Err(e) => return undecided(e, "`missing`", subject, absences, base),
        }
    }
    match eval_bool(&check.rule, ctx) {
        Ok(true) => base(Status::Pass, subject, check.message_pass.render(ctx).0),
        Ok(false) => {
            let mut r = base(Status::Fail, subject, check.message_fail.render(ctx).0);
            r.remediation = Some(check.remediation.render(ctx).0);
            r
        }
        Err(e) => undecided(e, "the rule", subject, absences, base),
    }
}

/// The unknown result for an expression that gave no answer. A lookup of a key the model does
/// not have is, when the model noted that a source did not send that field, reported as that
/// absence: the field, the record and the source.
fn undecided(
    e: Undecided,
    what: &str,
    subject: Option<Subject>,
    absences: &[Absence],
    base: &dyn Fn(Status, Option<Subject>, String) -> CheckResult,
) -> CheckResult {
    if let Undecided::NoSuchKey(key, error) = &e {
        let names: Vec<&str> = subject
            .as_ref()
            .map(|s| vec![s.id.as_str(), s.name.as_str()])
            .unwrap_or_default();
        if let Some((source, message)) = absence::explain(absences, key, &names) {
            let mut r = base(Status::Unknown, subject, message);
            r.absent_in = Some(source);
            return r;
        }
        return base(
            Status::Unknown,
            subject,
            format!("could not evaluate {what}: {error}"),
        );
    }
    let absent_in = match &e {
        Undecided::Unknown(_, source) => source.clone(),
        _ => None,
    };
    let mut r = base(Status::Unknown, subject, e.message(what));
    r.absent_in = absent_in;
    r
}

fn subject_of(check: &Check, ctx: &Context, item: &Value) -> Subject {
    let name = check
        .subject_name
        .as_ref()
        .map(|e| match e.execute(ctx) {
            Ok(v) => celx::display(&v),
            Err(err) => format!("<{}>", celx::describe_error(&err)),
        })
        .unwrap_or_default();
    let id = match item {
        Value::Map(m) => m
            .map
            .get(&cel::objects::Key::String(Arc::new("id".to_string())))
            .filter(|v| !matches!(v, Value::Null))
            .map(celx::display),
        Value::String(s) => Some(s.to_string()),
        _ => None,
    }
    .unwrap_or_else(|| name.clone());
    Subject {
        kind: check.spec.subject_kind.clone(),
        id,
        name,
    }
}

/// Why an expression gave no true/false answer.
enum Undecided {
    /// The check said so explicitly with `{'unknown': 'reason'}`: the reason is the message.
    /// A model-derived answer (`model::answer::Answer`) may add `absent_in`, the source whose
    /// missing field made it unknown.
    Unknown(String, Option<String>),
    /// A lookup of a key the model does not have (the key, and the error text).
    NoSuchKey(String, String),
    /// A CEL error or a non-boolean result.
    Error(String),
}

impl From<&cel::ExecutionError> for Undecided {
    fn from(e: &cel::ExecutionError) -> Undecided {
        match e {
            cel::ExecutionError::NoSuchKey(key) => {
                Undecided::NoSuchKey(key.to_string(), celx::describe_error(e))
            }
            other => Undecided::Error(celx::describe_error(other)),
        }
    }
}

impl Undecided {
    /// The message for an unknown result; `what` names the expression that failed.
    fn message(self, what: &str) -> String {
        match self {
            Undecided::Unknown(reason, _) => reason,
            Undecided::Error(e) | Undecided::NoSuchKey(_, e) => {
                format!("could not evaluate {what}: {e}")
            }
        }
    }
}

/// Evaluates a boolean expression. A check can declare that the data does not allow a verdict
/// by returning `{'unknown': 'reason'}` (e.g. an agent without a Teams record).
fn eval_bool(expr: &Expr, ctx: &Context) -> Result<bool, Undecided> {
    match expr.execute(ctx) {
        Ok(Value::Bool(b)) => Ok(b),
        Ok(Value::Map(m)) if (1..=2).contains(&m.map.len()) => {
            let get = |k: &str| {
                m.map
                    .get(&cel::objects::Key::String(Arc::new(k.to_string())))
            };
            let absent_in = get("absent_in").map(celx::display);
            match get("unknown") {
                Some(reason) if m.map.len() == 1 || absent_in.is_some() => {
                    Err(Undecided::Unknown(celx::display(reason), absent_in))
                }
                _ => Err(Undecided::Error(format!(
                    "`{}` returned a map other than `{{'unknown': reason}}` instead of true/false",
                    expr.source
                ))),
            }
        }
        Ok(other) => Err(Undecided::Error(format!(
            "`{}` returned {} instead of true/false",
            expr.source,
            celx::display(&other)
        ))),
        Err(e) => Err(Undecided::from(&e)),
    }
}

fn render_or(t: &Option<Template>, ctx: &Context, default: &str) -> String {
    t.as_ref()
        .map(|t| t.render(ctx).0)
        .unwrap_or_else(|| default.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AuditConfig;
    use crate::snapshot::Snapshot;

    /// Spreading checks over threads changes nothing: same results, same order, as one thread.
    #[test]
    fn results_do_not_depend_on_the_number_of_threads() {
        let snapshot = Snapshot::load(std::path::Path::new("examples/field-case.snapshot.json"))
            .expect("the example loads");
        let model = TenantModel::from_snapshot(&snapshot, AuditConfig::default());
        let env = crate::engine::cel::environment();
        let checks = crate::engine::catalog::load(&env, None).expect("the catalog loads");
        let unavailable: BTreeMap<String, Unavailable> = model
            .unavailable_facts()
            .into_iter()
            .map(|(path, u)| (path.to_string(), u.clone()))
            .collect();
        let run = |workers| {
            let tenant = celx::from_json(&model.to_json());
            evaluate_tenant(
                &env,
                &checks,
                tenant,
                &unavailable,
                &[],
                workers,
                &Budgets::default(),
            )
        };
        let one = run(1);
        assert!(one.iter().any(|r| r.status == Status::Fail));
        for workers in [2, 3, 8] {
            assert_eq!(run(workers), one, "{workers} threads");
        }
    }
}
