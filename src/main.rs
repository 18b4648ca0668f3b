//! The `ccaudit` command line. Glue only: parse flags, run the pipeline, map errors to one line
//! on stderr and an exit code.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use ccaudit::engine::{self, CheckSet, Severity};
use ccaudit::model::{AuditConfig, TenantModel};
use ccaudit::report::{self, ExitStatus, Report};
use ccaudit::snapshot::Snapshot;

#[derive(Parser)]
#[command(
    name = "ccaudit",
    version,
    about = "Audits a tenant's prerequisites for Dynamics 365 Contact Center voice over Teams Phone extensibility"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Evaluate every prerequisite check against a snapshot and report pass/fail/missing/unknown.
    Audit(AuditArgs),
    /// List the checks, or show everything about one.
    Checks(ChecksArgs),
    /// Print the normalized tenant model (what checks see as `tenant`) as JSON.
    Model(ModelArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Table,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum FailOn {
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

#[derive(Args)]
struct AuditArgs {
    /// Snapshot file to audit (from `ccaudit collect`, or an example in examples/).
    #[arg(long, env = "CCAUDIT_SNAPSHOT")]
    snapshot: PathBuf,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Write the report here instead of stdout.
    #[arg(long)]
    output: Option<PathBuf>,
    /// Lowest severity of a fail/missing that makes the exit code 1.
    #[arg(long, value_enum, default_value = "low")]
    fail_on: FailOn,
    #[command(flatten)]
    selection: Selection,
    /// SKU part numbers or skuIds that count as a Contact Center agent license (LIC-005).
    #[arg(long = "cc-sku", value_delimiter = ',', env = "CCAUDIT_CC_SKUS")]
    cc_skus: Vec<String>,
}

#[derive(Args)]
struct Selection {
    /// Extra check files (adds checks, or replaces built-in ones with the same id).
    #[arg(long)]
    checks: Option<PathBuf>,
    /// Run only these check ids or areas (comma-separated).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Skip these check ids or areas (comma-separated).
    #[arg(long, value_delimiter = ',')]
    skip: Vec<String>,
}

#[derive(Args)]
struct ChecksArgs {
    /// A check id to show in full.
    id: Option<String>,
    /// Extra check files to include (as for `audit --checks`).
    #[arg(long)]
    checks: Option<PathBuf>,
    /// Print the whole catalog as Markdown (this is how docs/checks.md is made).
    #[arg(long, conflicts_with = "id")]
    markdown: bool,
}

#[derive(Args)]
struct ModelArgs {
    #[arg(long)]
    snapshot: PathBuf,
}

/// An error already phrased for the user, with its exit status.
struct Failure(String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Failure {
        Failure(e.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Audit(args) => audit(args),
        Command::Checks(args) => checks(args).map(|()| ExitStatus::Success),
        Command::Model(args) => model(args).map(|()| ExitStatus::Success),
    };
    match result {
        Ok(status) => ExitCode::from(status as u8),
        Err(Failure(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(ExitStatus::Error as u8)
        }
    }
}

fn load_checks(dir: Option<&Path>) -> Result<(std::sync::Arc<cel::Env>, CheckSet), Failure> {
    let env = engine::cel::environment();
    let set = engine::catalog::load(&env, dir)?;
    Ok((env, set))
}

fn select(mut set: CheckSet, sel: &Selection) -> Result<CheckSet, Failure> {
    let matches = |id: &str, area: &str, list: &[String]| {
        list.iter()
            .any(|x| x.eq_ignore_ascii_case(id) || x.eq_ignore_ascii_case(area))
    };
    for name in sel.only.iter().chain(&sel.skip) {
        let known = set.values().any(|c| {
            name.eq_ignore_ascii_case(&c.spec.id) || name.eq_ignore_ascii_case(&c.spec.area)
        });
        if !known {
            return Err(Failure(format!(
                "`{name}` is neither a check id nor an area (see `ccaudit checks`)"
            )));
        }
    }
    set.retain(|id, c| {
        (sel.only.is_empty() || matches(id, &c.spec.area, &sel.only))
            && !matches(id, &c.spec.area, &sel.skip)
    });
    Ok(set)
}

fn audit(args: AuditArgs) -> Result<ExitStatus, Failure> {
    let snapshot = Snapshot::load(&args.snapshot)?;
    let (env, set) = load_checks(args.selection.checks.as_deref())?;
    let set = select(set, &args.selection)?;
    let config = AuditConfig {
        contact_center_skus: args.cc_skus.clone(),
    };
    let model = TenantModel::from_snapshot(&snapshot, config);
    let results = engine::evaluate(&env, &set, &model);
    let report = Report::new(&model, "snapshot", results);
    let text = match args.format {
        Format::Table => report::table::render(&report),
        Format::Json => report::json::render(&report),
    };
    match &args.output {
        Some(path) => {
            let plain = anstream::adapter::strip_str(&text).to_string();
            std::fs::write(path, plain)
                .map_err(|e| Failure(format!("{}: cannot write report: {e}", path.display())))?;
        }
        None => {
            let mut out = anstream::stdout();
            // A closed pipe (`| head`) is not an error worth reporting.
            let _ = out.write_all(text.as_bytes());
        }
    }
    Ok(report.exit_status(args.fail_on.into()))
}

fn checks(args: ChecksArgs) -> Result<(), Failure> {
    let (_, set) = load_checks(args.checks.as_deref())?;
    let mut out = anstream::stdout();
    if args.markdown {
        let _ = write!(out, "{}", engine::docs::catalog_markdown(&set));
        return Ok(());
    }
    match args.id {
        None => {
            let _ = writeln!(
                out,
                "{:<12} {:<22} {:<9} {:<15} title",
                "id", "area", "severity", "basis"
            );
            for c in set.values() {
                let s = &c.spec;
                let _ = writeln!(
                    out,
                    "{:<12} {:<22} {:<9} {:<15} {}",
                    s.id,
                    s.area,
                    s.severity.as_str(),
                    s.basis.as_str(),
                    s.title
                );
            }
        }
        Some(id) => {
            let check = set
                .values()
                .find(|c| c.spec.id.eq_ignore_ascii_case(&id))
                .ok_or_else(|| Failure(format!("no check `{id}` (see `ccaudit checks`)")))?;
            let yaml = serde_yaml::to_string(&check.spec)?;
            let _ = writeln!(out, "# {}\n{yaml}", check.origin);
        }
    }
    Ok(())
}

fn model(args: ModelArgs) -> Result<(), Failure> {
    let snapshot = Snapshot::load(&args.snapshot)?;
    let model = TenantModel::from_snapshot(&snapshot, AuditConfig::default());
    let json = serde_json::json!({
        "tenant": model.to_json(),
        "unavailable": model.unavailable_facts(),
    });
    let _ = writeln!(
        anstream::stdout(),
        "{}",
        serde_json::to_string_pretty(&json)?
    );
    Ok(())
}
