//! `audit --remediation-script FILE`: a PowerShell script with the fixes for every fail and
//! missing result, for an administrator to review and run. ccaudit never runs it and never
//! writes to a tenant.
//!
//! Each check's YAML carries its fix (`fix:`, see `engine::fix`): its phase in the dependency
//! order and its steps, each a typed template (`templates.rs`) keyed by kind, never by check
//! id. Steps are built from the results and the tenant model (never by pasting the check's
//! remediation text), so every value is the tenant's own: the Dynamics App ID and the ACS
//! immutable id come from Dataverse, never from documentation examples. Each automated step
//! reads the current value, computes the desired one from it (merging, e.g. appending to
//! `AllowedAcsResources` rather than replacing it), does nothing when they already agree, and
//! changes anything only inside `if ($Apply)`; without `-Apply` it prints "would change X from A
//! to B". What a script cannot do safely (buying licenses, operator re-provisioning, D365's "Sync
//! from Teams" button, policy decisions) is a commented manual step; an unknown result is a
//! comment naming what to grant so the audit can see it. A check without a `fix` gets its
//! remediation text as a manual step in the "Other" phase.

mod templates;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::engine::fix::Fix;
pub use crate::engine::fix::Phase;
use crate::engine::{CheckResult, CheckSet, Status};
use crate::model::TenantModel;
use crate::report::Report;
use templates::Ctx;

/// Where a step's cmdlets come from; decides the imports and the connect hints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Module {
    Teams,
    /// Microsoft Graph users and licenses (`User.ReadWrite.All`).
    GraphUsers,
    /// Microsoft Graph service principals (`Application.ReadWrite.All`).
    GraphApplications,
    /// Security & Compliance PowerShell (ExchangeOnlineManagement, `Connect-IPPSSession`).
    Compliance,
}

/// One step of the script.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub phase: Phase,
    /// The checks this step fixes (several when their fixes are the same change).
    pub checks: Vec<String>,
    /// The subjects it is about (UPN, number, policy); empty for the tenant.
    pub subjects: Vec<String>,
    pub title: String,
    pub module: Option<Module>,
    pub action: Action,
    /// Steps with the same key are the same change, made once.
    key: String,
    /// The phase, the check's position in it, then the position within the check (a policy is
    /// created before it is granted).
    rank: (Phase, u32, u8),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// An idempotent change, made only with `-Apply`.
    Change(Change),
    /// Something a script cannot do safely: instructions for a person, as comments.
    Manual(Vec<String>),
    /// A result the audit could not decide: what to grant so it can.
    NotAudited {
        message: String,
        grant: Option<String>,
    },
}

/// Read, compare, change. `read` sets `$current` (reads only); `desired` sets `$desired`,
/// usually derived from `$current`; `apply` runs only when they differ and `-Apply` is given.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// What is changed, as the dry run names it.
    pub what: String,
    pub read: Vec<String>,
    pub desired: Vec<String>,
    pub apply: Vec<String>,
    /// Comments shown above the step.
    pub notes: Vec<String>,
}

/// The steps for a set of results, deduplicated and in dependency order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    pub steps: Vec<Step>,
}

impl Plan {
    /// Builds the plan with the built-in checks' fixes: one or more steps per fail, missing or
    /// unknown result that is not suppressed.
    pub fn build(results: &[CheckResult], model: &TenantModel) -> Plan {
        let specs = crate::engine::catalog::builtin_specs();
        Plan::build_from(results, model, |id| specs.get(id)?.fix.as_ref())
    }

    /// Builds the plan with the fixes of `checks` (the audit's own, `--checks` included).
    pub fn build_with(results: &[CheckResult], model: &TenantModel, checks: &CheckSet) -> Plan {
        let fixes: BTreeMap<String, Fix> = crate::engine::catalog::fixes(checks);
        Plan::build_from(results, model, |id| fixes.get(id))
    }

    fn build_from<'f>(
        results: &[CheckResult],
        model: &TenantModel,
        fix_of: impl Fn(&str) -> Option<&'f Fix>,
    ) -> Plan {
        let ctx = Ctx { model };
        let mut steps: Vec<Step> = Vec::new();
        for r in results.iter().filter(|r| r.suppressed.is_none()) {
            let fix = fix_of(&r.check);
            let new = match (r.status, fix) {
                (Status::Fail | Status::Missing, Some(fix)) => {
                    fix.steps.iter().flat_map(|s| ctx.steps(r, s)).collect()
                }
                (Status::Fail | Status::Missing, None) => vec![from_remediation(r)],
                (Status::Unknown, _) => vec![not_audited(r)],
                (Status::Pass | Status::Skipped, _) => Vec::new(),
            };
            let (phase, order) = fix.map_or((Phase::Other, 0), |f| (f.phase, f.order));
            for mut step in new {
                step.phase = phase;
                step.rank = (phase, order, step.rank.2);
                match steps.iter_mut().find(|s| s.key == step.key) {
                    Some(same) => {
                        for c in step.checks {
                            if !same.checks.contains(&c) {
                                same.checks.push(c);
                            }
                        }
                        for s in step.subjects {
                            if !same.subjects.contains(&s) {
                                same.subjects.push(s);
                            }
                        }
                    }
                    None => steps.push(step),
                }
            }
        }
        // Stable: within a rank, results keep their report order (check id, then subject).
        steps.sort_by_key(|s| s.rank);
        Plan { steps }
    }

    /// The PowerShell script for this plan; `report` names the tenant and the audit.
    pub fn script(&self, report: &Report) -> String {
        script(self, report)
    }
}

/// The remediation script for `report`: its fail, missing and unknown results that are not
/// suppressed, with values from `model`.
pub fn render(report: &Report, model: &TenantModel) -> String {
    Plan::build(&report.results, model).script(report)
}

// --- building steps ------------------------------------------------------------------------------

/// A step for `result`'s check; `key` identifies the change so duplicates are made once.
fn step(result: &CheckResult, key: String, title: String, action: Action) -> Step {
    // The phase and the check's position are set by `Plan::build_from`, from its fix.
    Step {
        phase: Phase::Other,
        checks: vec![result.check.clone()],
        subjects: result.subject.iter().map(|s| s.name.clone()).collect(),
        title,
        module: None,
        action,
        key,
        rank: (Phase::Other, 0, 1),
    }
}

fn manual(result: &CheckResult, title: &str, lines: Vec<String>) -> Step {
    let key = format!("manual:{}:{}", result.check, subject_id(result));
    step(result, key, title.to_string(), Action::Manual(lines))
}

fn not_audited(result: &CheckResult) -> Step {
    let key = format!("unknown:{}:{}", result.check, subject_id(result));
    step(
        result,
        key,
        result.title.clone(),
        Action::NotAudited {
            message: result.message.clone(),
            grant: result.needs.clone(),
        },
    )
}

fn subject_id(result: &CheckResult) -> String {
    result
        .subject
        .as_ref()
        .map(|s| s.id.to_ascii_lowercase())
        .unwrap_or_default()
}

fn subject_name(result: &CheckResult) -> String {
    result
        .subject
        .as_ref()
        .map(|s| s.name.clone())
        .unwrap_or_default()
}

/// A check without a `fix` (a new or user-supplied check) still gets its remediation, as a
/// manual step, so adding a check needs no Rust change.
fn from_remediation(r: &CheckResult) -> Step {
    let mut lines = vec![format!(
        "No automated step for {}; its remediation from the audit:",
        r.check
    )];
    lines.extend(
        r.remediation
            .as_deref()
            .unwrap_or("see the audit report")
            .lines()
            .map(|l| l.to_string()),
    );
    manual(r, &r.title, lines)
}

// --- rendering ---------------------------------------------------------------------------------

/// A PowerShell single-quoted string literal. Inside one, only a quote is special, and
/// PowerShell treats the typographic single quotes as quotes too: each is doubled. Control
/// characters (which no UPN, id or number contains) become spaces, so a literal never spans
/// lines.
pub fn ps_str(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}') {
            out.push(c);
        }
        out.push(if is_line_break(c) { ' ' } else { c });
    }
    out.push('\'');
    out
}

/// Text for a `#` comment: tenant data must never end the comment and become code.
fn comment_text(text: &str) -> String {
    text.chars()
        .map(|c| if is_line_break(c) { ' ' } else { c })
        .collect()
}

/// Control characters and the Unicode line and paragraph separators.
fn is_line_break(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{85}')
}

fn comment(out: &mut String, indent: &str, text: &str) {
    match text {
        "" => {
            let _ = writeln!(out, "{indent}#");
        }
        _ => {
            let _ = writeln!(out, "{indent}# {}", comment_text(text));
        }
    }
}

const HELPERS: &str = r#"$ErrorActionPreference = 'Stop'

function Format-Value {
    param($Value)
    $items = @($Value | Where-Object { $null -ne $_ -and [string]$_ -ne '' })
    if ($items.Count -eq 0) { return '(not set)' }
    return ($items | ForEach-Object { [string]$_ }) -join ', '
}

function Test-SameValue {
    param($Current, $Desired)
    return (Format-Value $Current) -eq (Format-Value $Desired)
}

function Show-Change {
    param([string]$What, $Current, $Desired)
    $verb = if ($Apply) { 'changing' } else { 'would change' }
    Write-Host ('{0} {1} from {2} to {3}' -f $verb, $What, (Format-Value $Current), (Format-Value $Desired))
}

function Show-Unchanged {
    param([string]$What, $Current)
    Write-Host ('ok: {0} is already {1}' -f $What, (Format-Value $Current))
}

function Invoke-Step {
    param([string]$Name, [scriptblock]$Body)
    try {
        & $Body
    } catch {
        Write-Warning ('{0} failed: {1}' -f $Name, $_)
        if ($Apply) { throw }
    }
}
"#;

fn script(plan: &Plan, report: &Report) -> String {
    // A byte-order mark: Windows PowerShell 5.1 reads a file without one in the ANSI code page,
    // where the bytes of some UTF-8 characters in tenant data decode to typographic quotes that
    // would end a string literal.
    let mut out = String::from('\u{FEFF}');
    let tenant = report.tenant.name.as_deref().unwrap_or(&report.tenant.id);
    let count = |f: fn(&Action) -> bool| plan.steps.iter().filter(|s| f(&s.action)).count();
    let changes = count(|a| matches!(a, Action::Change(_)));
    let manuals = count(|a| matches!(a, Action::Manual(_)));
    let unknown = count(|a| matches!(a, Action::NotAudited { .. }));
    for line in [
        "ccaudit remediation script".to_string(),
        format!(
            "Tenant {tenant} ({}), {} collected {}, audited by {} {}.",
            report.tenant.id, report.source, report.collected_at, report.tool.name, report.tool.version
        ),
        format!(
            "{} steps: {changes} automated, {manuals} manual, {unknown} not audited.",
            plan.steps.len()
        ),
        String::new(),
        "Review every step. Run it first without -Apply: it reads the tenant and prints what it would".into(),
        "change. Then run it with -Apply. Each automated step reads the current value, keeps what is".into(),
        "already there, and changes only what differs, so a second run changes nothing. Manual steps".into(),
        "are comments: a person must do them. ccaudit never runs this script.".into(),
    ] {
        comment(&mut out, "", &line);
    }
    let modules: Vec<Module> = {
        let mut m: Vec<Module> = plan.steps.iter().filter_map(|s| s.module).collect();
        m.sort();
        m.dedup();
        m
    };
    if !modules.is_empty() {
        comment(&mut out, "", "");
        comment(
            &mut out,
            "",
            "Connect first, as an administrator with the roles the steps name:",
        );
        let scopes: Vec<&str> = modules
            .iter()
            .filter_map(|m| match m {
                Module::GraphUsers => Some("User.ReadWrite.All"),
                Module::GraphApplications => Some("Application.ReadWrite.All"),
                _ => None,
            })
            .collect();
        if modules.contains(&Module::Teams) {
            comment(&mut out, "", "  Connect-MicrosoftTeams");
        }
        if !scopes.is_empty() {
            let scopes: Vec<String> = scopes.iter().map(|s| ps_str(s)).collect();
            comment(
                &mut out,
                "",
                &format!("  Connect-MgGraph -Scopes {}", scopes.join(", ")),
            );
        }
        if modules.contains(&Module::Compliance) {
            comment(
                &mut out,
                "",
                "  Connect-IPPSSession   (module ExchangeOnlineManagement; only for the manual information-barrier steps)",
            );
        }
    }
    out.push_str("\nparam([switch]$Apply)\n\n");
    out.push_str(HELPERS);
    out.push('\n');
    let changed: Vec<Module> = plan
        .steps
        .iter()
        .filter(|s| matches!(s.action, Action::Change(_)))
        .filter_map(|s| s.module)
        .collect();
    for (module, names) in [
        (Module::Teams, &["MicrosoftTeams"][..]),
        (
            Module::GraphUsers,
            &["Microsoft.Graph.Users", "Microsoft.Graph.Users.Actions"][..],
        ),
        (
            Module::GraphApplications,
            &["Microsoft.Graph.Applications"][..],
        ),
    ] {
        if changed.contains(&module) {
            for name in names {
                let _ = writeln!(out, "Import-Module {name}");
            }
        }
    }
    if plan.steps.is_empty() {
        out.push_str("\nWrite-Host 'Nothing to fix: the audit found no fail, missing or unknown result that is not suppressed.'\n");
        return out;
    }
    out.push_str(
        "\nif (-not $Apply) {\n    Write-Host 'Dry run: nothing is changed. Run again with -Apply to make the changes.'\n}\n",
    );
    let total = plan.steps.len();
    let mut phase = None;
    for (i, s) in plan.steps.iter().enumerate() {
        if phase != Some(s.phase) {
            phase = Some(s.phase);
            let _ = writeln!(out, "\n# ==== {} ====", s.phase.title());
        }
        render_step(&mut out, s, i + 1, total);
    }
    out
}

fn render_step(out: &mut String, s: &Step, n: usize, total: usize) {
    let checks = s.checks.join(", ");
    let subjects = if s.subjects.is_empty() {
        String::new()
    } else {
        format!(" [{}]", s.subjects.join(", "))
    };
    let kind = match s.action {
        Action::Change(_) => "",
        Action::Manual(_) => " (manual)",
        Action::NotAudited { .. } => " (not audited)",
    };
    let name = format!("Step {n} of {total} ({checks}{subjects})");
    out.push('\n');
    comment(
        out,
        "",
        &format!("--- Step {n} of {total}: {checks}{subjects}{kind} ---"),
    );
    comment(out, "", &s.title);
    match &s.action {
        Action::Change(c) => {
            for note in &c.notes {
                comment(out, "", note);
            }
            let _ = writeln!(out, "Invoke-Step {} {{", ps_str(&name));
            for line in c.read.iter().chain(&c.desired) {
                let _ = writeln!(out, "    {line}");
            }
            let what = ps_str(&c.what);
            let _ = writeln!(out, "    if (Test-SameValue $current $desired) {{");
            let _ = writeln!(out, "        Show-Unchanged {what} $current");
            let _ = writeln!(out, "        return");
            let _ = writeln!(out, "    }}");
            let _ = writeln!(out, "    Show-Change {what} $current $desired");
            let _ = writeln!(out, "    if ($Apply) {{");
            for line in &c.apply {
                let _ = writeln!(out, "        {line}");
            }
            let _ = writeln!(out, "    }}");
            let _ = writeln!(out, "}}");
        }
        Action::Manual(lines) => {
            for line in lines {
                comment(out, "", &format!("MANUAL: {line}"));
            }
            let _ = writeln!(
                out,
                "Write-Host {}",
                ps_str(&format!(
                    "manual: {name}: {}; see the script's comments",
                    s.title
                ))
            );
        }
        Action::NotAudited { message, grant } => {
            comment(out, "", &format!("NOT AUDITED: {message}"));
            match grant {
                Some(g) => comment(
                    out,
                    "",
                    &format!(
                        "Grant: {g}; then audit again. This script has no fix for it until then."
                    ),
                ),
                None => comment(out, "", "Audit again once the data can be read."),
            }
        }
    }
}
