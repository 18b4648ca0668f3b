//! `ccaudit diff A B [--format table|json] [--all]` (or `diff A --tenant T ...`, B read live):
//! compares two tenants' prerequisite settings and check verdicts (`crate::triage::diff`). Exit 0 when no check verdict differs, 1 when one does, 2
//! on input errors.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::live::{self, LiveArgs};
use crate::engine::{self, CheckSet};
use crate::model::AuditConfig;
use crate::report::ExitStatus;
use crate::snapshot::Snapshot;
use crate::triage::diff::{self, Audited};

#[derive(Debug, Clone, clap::Args)]
pub struct DiffArgs {
    /// Snapshot of tenant A (typically the one where voice works, e.g. the partner's).
    #[arg(value_name = "A")]
    pub a: PathBuf,
    /// Snapshot of tenant B (typically the failing one); or omit it and read B live with
    /// `--tenant` and the live-collection flags of `audit`.
    #[arg(
        value_name = "B",
        required_unless_present = "tenant",
        conflicts_with = "tenant"
    )]
    pub b: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: DiffFormat,
    /// Also show the settings and verdicts that are equal on both sides.
    #[arg(long)]
    pub all: bool,
    /// SKU part numbers or skuIds that count as a Contact Center agent license (LIC-005), for
    /// both tenants, in addition to those Microsoft's licensing reference lists.
    #[arg(long = "cc-sku", value_delimiter = ',', env = "CCAUDIT_CC_SKUS")]
    pub cc_skus: Vec<String>,
    /// Extra check files (as for `audit --checks`).
    #[arg(long, value_name = "DIR")]
    pub checks: Option<PathBuf>,
    #[command(flatten)]
    pub limit: super::SnapshotLimit,
    /// Last: its help heading applies to the flags after it.
    #[command(flatten)]
    pub live: LiveArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    Table,
    Json,
}

pub fn run(args: DiffArgs) -> Result<ExitStatus, String> {
    let env = engine::cel::environment();
    let checks = engine::catalog::load(&env, args.checks.as_deref()).map_err(|e| e.to_string())?;
    if let Some(flag) = args.live.unused_flag() {
        return Err(format!(
            "{flag} applies when reading tenant B live (--tenant), not to a snapshot"
        ));
    }
    let load = |path: &Path| args.limit.load(path).map_err(|e| e.to_string());
    let a = load(&args.a)?;
    let b = match &args.b {
        Some(path) => load(path)?,
        None => live::read_tenant(&args.live)?,
    };
    let (text, status) = compare(&a, &b, &args, &env, &checks);
    crate::files::emit_stdout(text.as_bytes(), false).map_err(|e| e.to_string())?;
    Ok(status)
}

/// How side B is named in the output: its file, or the tenant read live.
fn side_name(args: &DiffArgs) -> String {
    match (&args.b, &args.live.tenant) {
        (Some(path), _) => path.display().to_string(),
        (None, Some(tenant)) => format!("{tenant} (live)"),
        (None, None) => "B".to_string(),
    }
}

/// Audits both snapshots and renders their diff. Split from `run` so a side can come from
/// anywhere a `Snapshot` does (a live read, a redacted copy).
pub fn compare(
    a: &Snapshot,
    b: &Snapshot,
    args: &DiffArgs,
    env: &Arc<cel::Env>,
    checks: &CheckSet,
) -> (String, ExitStatus) {
    let config = || AuditConfig {
        contact_center_skus: crate::config::sku_list(&args.cc_skus),
    };
    let side_a = Audited::from_snapshot(a, config(), env, checks);
    let side_b = Audited::from_snapshot(b, config(), env, checks);
    let mut result = diff::diff(
        &side_a.model,
        &side_a.results,
        &side_b.model,
        &side_b.results,
    )
    .with_sources(&args.a.display().to_string(), &side_name(args));
    let status = result.exit_status();
    if !args.all {
        result = result.only_differences();
    }
    let text = match args.format {
        DiffFormat::Table => diff::render_table(&result),
        DiffFormat::Json => diff::render_json(&result),
    };
    (text, status)
}
