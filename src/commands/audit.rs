//! `ccaudit audit`: evaluate every prerequisite check against a snapshot (or a tenant read live
//! with `--tenant`), report pass/fail/missing/unknown, and exit by the worst finding.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use clap::ValueEnum;

use super::live::{self, LiveArgs};
use super::options::{ConfigArgs, RedactOptions, save_snapshot};
use super::{SnapshotLimit, checks};
use crate::config::{self, Config};
use crate::dates::Date;
use crate::engine::{self, CheckSet, Severity, Status};
use crate::files::{self, Named};
use crate::model::{AuditConfig, TenantModel};
use crate::private_file;
use crate::report::{self, ExitStatus, Report};
use crate::suppress;
use crate::triage::remediation_script::{Action, Plan};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Markdown,
    Junit,
    Html,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FailOn {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl From<FailOn> for Severity {
    fn from(f: FailOn) -> Severity {
        match f {
            FailOn::Info => Severity::Info,
            FailOn::Low => Severity::Low,
            FailOn::Medium => Severity::Medium,
            FailOn::High => Severity::High,
            FailOn::Critical => Severity::Critical,
        }
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct AuditArgs {
    /// Snapshot file to audit (from `ccaudit collect`, or an example in examples/).
    #[arg(
        long,
        env = "CCAUDIT_SNAPSHOT",
        required_unless_present = "tenant",
        conflicts_with = "tenant"
    )]
    pub snapshot: Option<PathBuf>,
    #[command(flatten)]
    pub redaction: RedactOptions,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Write the report here instead of stdout.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Lowest severity of a fail/missing that makes the exit code 1 [default: low, or fail_on
    /// in the configuration file].
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
    #[command(flatten)]
    pub selection: Selection,
    #[command(flatten)]
    pub limit: SnapshotLimit,
    /// SKU part numbers or skuIds that count as a Contact Center agent license (LIC-005), in
    /// addition to those Microsoft's licensing reference lists for Contact Center voice. Empty
    /// (`--cc-sku ""`) adds none.
    #[arg(long = "cc-sku", value_delimiter = ',', env = "CCAUDIT_CC_SKUS")]
    pub cc_skus: Vec<String>,
    /// Also write a PowerShell script with the fixes for every fail and missing result, to
    /// review and run with -Apply (ccaudit never runs it).
    #[arg(long, value_name = "FILE")]
    pub remediation_script: Option<PathBuf>,
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Last (but for the flag that belongs with it): its help heading applies to the flags
    /// after it.
    #[command(flatten)]
    pub live: LiveArgs,
    /// Also write the snapshot read live to this file (owner-only permissions).
    #[arg(long, value_name = "FILE", requires = "tenant")]
    pub save_snapshot: Option<PathBuf>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct Selection {
    /// Extra check files (adds checks, or replaces built-in ones with the same id).
    #[arg(long)]
    pub checks: Option<PathBuf>,
    /// Run only these check ids or areas (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Skip these check ids or areas (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub skip: Vec<String>,
}

pub fn run(mut args: AuditArgs) -> Result<ExitStatus, String> {
    check_paths(&args)?;
    let offline = matches!((&args.snapshot, &args.live.tenant), (Some(_), None));
    if offline {
        live_only_flags_unused(&args)?;
    }
    let mut config = args.config.load()?;
    // Checks first: a typo in --only should not cost reading the tenant.
    let (env, set) = checks::load(args.selection.checks.as_deref())?;
    validate_suppressions(config.as_mut(), &set)?;
    let set = select(set, &args.selection)?;
    let (snapshot, source) = match (&args.snapshot, offline) {
        (Some(path), true) => {
            let snapshot = args.limit.load(path).map_err(|e| e.to_string())?;
            let snapshot = args.redaction.apply(snapshot, args.output.as_deref())?;
            (snapshot, "snapshot")
        }
        _ => {
            args.live.agents_from(config.as_ref());
            let snapshot = live::read_tenant(&args.live)?;
            let anchor = args.save_snapshot.as_deref().or(args.output.as_deref());
            let snapshot = args.redaction.apply(snapshot, anchor)?;
            if let Some(path) = &args.save_snapshot {
                save_snapshot(path, &snapshot)?;
            }
            (snapshot, "live")
        }
    };
    // Flags (and their environment variables) win over the file; an empty one says nothing, so
    // the file's list (or none) applies.
    let flag_skus = config::sku_list(&args.cc_skus);
    let contact_center_skus = match (&config, flag_skus.is_empty()) {
        (Some(c), true) => c.contact_center_skus.clone(),
        _ => flag_skus,
    };
    let fail_on: Severity = match (args.fail_on, config.as_ref().and_then(|c| c.fail_on)) {
        (Some(flag), _) => flag.into(),
        (None, Some(file)) => file,
        (None, None) => Severity::Low,
    };
    let model = TenantModel::from_snapshot(
        &snapshot,
        AuditConfig {
            contact_center_skus,
        },
    );
    // The raw snapshot is not needed past normalization (it is already saved); freeing it here
    // keeps a 2,000-agent audit's peak memory about a third lower.
    drop(snapshot);
    let mut results = engine::evaluate(&env, &set, &model);
    let nothing = nothing_evaluated(&results, set.len());
    let warnings = match &config {
        Some(c) => suppress::apply(&c.suppressions, &mut results, Date::today_utc()),
        None => Vec::new(),
    };
    let mut report = Report::new(&model, source, results);
    report.warnings = warnings;
    let text = match args.format {
        Format::Table => report::table::render(&report),
        Format::Json => report::json::render(&report),
        Format::Markdown => report::markdown::render(&report),
        Format::Junit => report::junit::render(&report),
        Format::Html => report::html::render(&report),
    };
    let to_terminal_table = matches!(args.format, Format::Table) && args.output.is_none();
    // Only the table is coloured; the other formats go out as they are, without a pass that
    // looks for escape codes they never hold (7% of an audit's instructions at S).
    let coloured = matches!(args.format, Format::Table);
    match &args.output {
        Some(path) => {
            let plain = if coloured {
                Cow::Owned(anstream::adapter::strip_str(&text).to_string())
            } else {
                Cow::Borrowed(text.as_str())
            };
            // A report describes the tenant: owner-only, never half-written.
            private_file::write(path, plain.as_bytes())
                .map_err(|e| format!("{}: cannot write report: {e}", path.display()))?;
        }
        None => files::emit_stdout(text.as_bytes(), coloured)?,
    }
    // The table on stdout already ends with the warnings; other formats carry them inside the
    // document, where a pipeline would not show them.
    if !to_terminal_table {
        for w in &report.warnings {
            files::note(&format!("warning: {w}"));
        }
    }
    if let Some(path) = &args.remediation_script {
        write_remediation_script(path, &report, &model, &set)?;
    }
    // The report is out (it says why each check was skipped); the exit status says that it
    // holds no verdict.
    if let Some(nothing) = nothing {
        return Err(nothing);
    }
    Ok(report.exit_status(fail_on))
}

fn select(mut set: CheckSet, sel: &Selection) -> Result<CheckSet, String> {
    let matches = |id: &str, area: &str, list: &[String]| {
        list.iter()
            .any(|x| x.eq_ignore_ascii_case(id) || x.eq_ignore_ascii_case(area))
    };
    for name in sel.only.iter().chain(&sel.skip) {
        let known = set.values().any(|c| {
            name.eq_ignore_ascii_case(&c.spec.id) || name.eq_ignore_ascii_case(&c.spec.area)
        });
        if !known {
            return Err(format!(
                "`{name}` is neither a check id nor an area (see `ccaudit checks`)"
            ));
        }
    }
    set.retain(|id, c| {
        (sel.only.is_empty() || matches(id, &c.spec.area, &sel.only))
            && !matches(id, &c.spec.area, &sel.skip)
    });
    if set.is_empty() {
        return Err(
            "--only and --skip leave no check to run: an audit that checks nothing cannot say the tenant is fine".into(),
        );
    }
    Ok(set)
}

/// Refuses, before any work, outputs that would overwrite an input or each other, or that
/// cannot be written (a live collection is never read only to be thrown away).
fn check_paths(args: &AuditArgs) -> Result<(), String> {
    let config = args.config.path();
    let anchor = match &args.snapshot {
        Some(_) => args.output.as_deref(),
        None => args.save_snapshot.as_deref().or(args.output.as_deref()),
    };
    let mut paths = Vec::new();
    paths.extend(
        args.snapshot
            .as_deref()
            .map(|p| Named::input("--snapshot", p)),
    );
    paths.extend(config.as_deref().map(|p| Named::input("--config", p)));
    paths.extend(
        args.selection
            .checks
            .as_deref()
            .map(|p| Named::check_dir("--checks", p)),
    );
    paths.extend(args.redaction.key(anchor));
    paths.extend(args.output.as_deref().map(|p| Named::output("--output", p)));
    paths.extend(
        args.save_snapshot
            .as_deref()
            .map(|p| Named::output("--save-snapshot", p)),
    );
    paths.extend(
        args.remediation_script
            .as_deref()
            .map(|p| Named::output("--remediation-script", p)),
    );
    Ok(files::check_paths(&paths)?)
}

/// An audit whose every result is skipped (or that found nothing to check) evaluated nothing,
/// and must not exit 0 as if the tenant were fine.
fn nothing_evaluated(results: &[engine::CheckResult], checks: usize) -> Option<String> {
    if results.iter().any(|r| r.status != Status::Skipped) {
        return None;
    }
    let what = if results.is_empty() {
        format!("the {checks} selected check(s) found nothing to check in this tenant")
    } else {
        format!(
            "all {} result(s) of the {checks} selected check(s) are skipped (the report says why)",
            results.len()
        )
    };
    Some(format!(
        "nothing was evaluated: {what}; an audit that checks nothing cannot say the tenant is fine (choose other checks with --only/--skip)"
    ))
}

/// Writes the script and says on stderr what it holds (stdout is the report's).
fn write_remediation_script(
    path: &Path,
    report: &Report,
    model: &TenantModel,
    checks: &CheckSet,
) -> Result<(), String> {
    let plan = Plan::build_with(&report.results, model, checks);
    private_file::write(path, plan.script(report).as_bytes()).map_err(|e| {
        format!(
            "{}: cannot write the remediation script: {e}",
            path.display()
        )
    })?;
    let count = |f: fn(&Action) -> bool| plan.steps.iter().filter(|s| f(&s.action)).count();
    files::note(&format!(
        "wrote {}: {} automated, {} manual, {} not audited step(s); review it, run it to see what would change, then run it with -Apply",
        path.display(),
        count(|a| matches!(a, Action::Change(_))),
        count(|a| matches!(a, Action::Manual(_))),
        count(|a| matches!(a, Action::NotAudited { .. })),
    ));
    Ok(())
}

/// Rejects a suppression for a check that does not exist (a typo would otherwise suppress
/// nothing, silently), checked against every loaded check before `--only`/`--skip`.
fn validate_suppressions(config: Option<&mut Config>, set: &CheckSet) -> Result<(), String> {
    if let Some(config) = config {
        let ids: Vec<&str> = set.keys().map(String::as_str).collect();
        for warning in config.validate_checks(&ids).map_err(|e| e.to_string())? {
            files::note(&format!("warning: {warning}"));
        }
    }
    Ok(())
}

/// Live-only flags on an offline audit would be silently ignored (clap does not enforce
/// `requires = "tenant"` when --tenant conflicts with a present --snapshot): refuse them.
fn live_only_flags_unused(args: &AuditArgs) -> Result<(), String> {
    let save = args.save_snapshot.is_some().then_some("--save-snapshot");
    match args.live.unused_flag().or(save) {
        Some(flag) => Err(format!(
            "{flag} applies to a live audit (--tenant), not to --snapshot"
        )),
        None => Ok(()),
    }
}
