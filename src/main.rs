//! The `ccaudit` command line. Glue only: parse flags, run the pipeline, map errors to one line
//! on stderr and an exit code.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

use ccaudit::commands::SnapshotLimit;
use ccaudit::commands::live::LiveArgs;
use ccaudit::config::Config;
use ccaudit::engine::{self, CheckSet, Severity, Status};
use ccaudit::files::{self, Named};
use ccaudit::model::{AuditConfig, TenantModel};
use ccaudit::report::{self, ExitStatus, Report};
use ccaudit::snapshot::Snapshot;
use ccaudit::sources::collect;
use ccaudit::suppress::{self, Date};

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
    /// Evaluate every prerequisite check against a snapshot (or a tenant read live with
    /// --tenant) and report pass/fail/missing/unknown.
    Audit(AuditArgs),
    /// Read a tenant live and write its snapshot, to audit later or elsewhere.
    Collect(CollectArgs),
    /// List the checks, or show everything about one.
    Checks(ChecksArgs),
    /// Print the normalized tenant model (what checks see as `tenant`) as JSON.
    Model(ModelArgs),
    /// Write a generated tenant snapshot of a given size (for benchmarks, demos and the fake
    /// tenant server).
    Synth(SynthArgs),
    /// Explain an error code or a pasted error/log line: what it means, how sure we are, and
    /// (with --snapshot, or --tenant read live) which checks fail in this tenant.
    Explain(ccaudit::commands::explain::ExplainArgs),
    /// Compare two tenants (two snapshots, or a snapshot and a tenant read live with --tenant):
    /// prerequisite settings and verdicts side by side.
    Diff(ccaudit::commands::diff::DiffArgs),
    /// Pseudonymize a snapshot for sharing (deterministic with a key).
    Redact(ccaudit::commands::redact::RedactArgs),
    /// The permissions and roles a read-only audit needs, and what each one unlocks.
    Permissions(ccaudit::commands::permissions::PermissionsArgs),
    /// Print the completion script for a shell (e.g. `ccaudit completions bash >
    /// ~/.local/share/bash-completion/completions/ccaudit`).
    Completions(CompletionsArgs),
}

#[derive(Args)]
struct CompletionsArgs {
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

/// Which configuration file to read (docs/configuration.md).
#[derive(Args)]
struct ConfigArgs {
    /// Configuration file: agents, Contact Center SKUs, fail-on and suppressions (default:
    /// ./ccaudit.yaml when it exists). Command-line flags override it.
    #[arg(long, value_name = "FILE", env = "CCAUDIT_CONFIG")]
    config: Option<PathBuf>,
    /// Read no configuration file (neither ./ccaudit.yaml nor --config / CCAUDIT_CONFIG).
    #[arg(long)]
    no_config: bool,
}

impl ConfigArgs {
    fn load(&self) -> Result<Option<Config>, Failure> {
        if self.no_config {
            return Ok(None);
        }
        Ok(Config::discover(self.config.as_deref())?)
    }

    /// The file `load` reads, if any.
    fn path(&self) -> Option<PathBuf> {
        if self.no_config {
            return None;
        }
        Config::path_for(self.config.as_deref())
    }
}

/// `synth` sizes stop at 20 times S (docs/performance.md): about 350 MiB of snapshot, under the
/// default `--max-snapshot-mib`, so whatever `synth` writes can be audited.
#[derive(Args)]
struct SynthArgs {
    /// Contact-center resource accounts (0 to 10000).
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(0..=10_000))]
    resource_accounts: u32,
    /// Phone numbers in the tenant (0 to 100000).
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u32).range(0..=100_000))]
    numbers: u32,
    /// Agents (0 to 40000).
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u32).range(0..=40_000))]
    agents: u32,
    /// Share of agents, resource accounts and numbers given a misconfiguration, per thousand
    /// (0 to 1000).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=1000))]
    faults_per_mille: u32,
    #[arg(long)]
    output: PathBuf,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Table,
    Json,
    Markdown,
    Junit,
    Html,
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
    #[arg(
        long,
        env = "CCAUDIT_SNAPSHOT",
        required_unless_present = "tenant",
        conflicts_with = "tenant"
    )]
    snapshot: Option<PathBuf>,
    #[command(flatten)]
    live: LiveArgs,
    /// Also write the snapshot read live to this file (owner-only permissions).
    #[arg(
        long,
        value_name = "FILE",
        requires = "tenant",
        help_heading = "Live collection"
    )]
    save_snapshot: Option<PathBuf>,
    #[command(flatten)]
    redaction: RedactOptions,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Write the report here instead of stdout.
    #[arg(long)]
    output: Option<PathBuf>,
    /// Lowest severity of a fail/missing that makes the exit code 1 [default: low, or fail_on
    /// in the configuration file].
    #[arg(long, value_enum)]
    fail_on: Option<FailOn>,
    #[command(flatten)]
    selection: Selection,
    #[command(flatten)]
    limit: SnapshotLimit,
    /// SKU part numbers or skuIds that count as a Contact Center agent license (LIC-005), in
    /// addition to those Microsoft's licensing reference lists for Contact Center voice. Empty
    /// (`--cc-sku ""`) adds none.
    #[arg(long = "cc-sku", value_delimiter = ',', env = "CCAUDIT_CC_SKUS")]
    cc_skus: Vec<String>,
    /// Also write a PowerShell script with the fixes for every fail and missing result, to
    /// review and run with -Apply (ccaudit never runs it).
    #[arg(long, value_name = "FILE")]
    remediation_script: Option<PathBuf>,
    #[command(flatten)]
    config: ConfigArgs,
}

#[derive(Args)]
struct CollectArgs {
    #[command(flatten)]
    live: LiveArgs,
    /// Where to write the snapshot (owner-only permissions, replaced atomically).
    #[arg(long, value_name = "FILE")]
    output: PathBuf,
    #[command(flatten)]
    config: ConfigArgs,
    #[command(flatten)]
    redaction: RedactOptions,
}

/// Pseudonymize personal and identifying data before anything is written or reported.
#[derive(Args)]
struct RedactOptions {
    /// Pseudonymize UPNs, names, phone numbers, tenant names and domains (deterministic per key;
    /// configuration GUIDs stay so the audit still explains the tenant).
    #[arg(long)]
    redact: bool,
    /// The redaction key; default: `<output>.redact-key` next to the written file, created once.
    #[arg(long, value_name = "FILE", requires = "redact")]
    redact_key: Option<PathBuf>,
}

impl RedactOptions {
    /// The key `apply` reads (or creates next to `anchor`), for `files::check_paths`.
    fn key(&self, anchor: Option<&Path>) -> Option<Named<'static>> {
        match (&self.redact_key, anchor) {
            _ if !self.redact => None,
            (Some(given), _) => Some(Named::key(given, true)),
            (None, Some(anchor)) => Some(Named::key(&ccaudit::redact::key_path_for(anchor), false)),
            (None, None) => None,
        }
    }

    /// Redacts `snapshot` when asked; the key lives at --redact-key or next to `anchor`.
    fn apply(&self, snapshot: Snapshot, anchor: Option<&Path>) -> Result<Snapshot, Failure> {
        if !self.redact {
            return Ok(snapshot);
        }
        let anchor = match (anchor, &self.redact_key) {
            (Some(a), _) => a.to_path_buf(),
            (None, Some(k)) => k.clone(),
            (None, None) => {
                return Err(Failure(
                    "--redact needs --redact-key FILE (or --output / --save-snapshot, next to which the key is kept)".into(),
                ));
            }
        };
        let key = ccaudit::redact::load_or_create_key(&anchor, self.redact_key.as_deref())?;
        Ok(ccaudit::redact::redact(&snapshot, &key.bytes))
    }
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
#[command(args_conflicts_with_subcommands = true)]
struct ChecksArgs {
    #[command(subcommand)]
    action: Option<ChecksAction>,
    /// A check id to show in full.
    id: Option<String>,
    /// Extra check files to include (as for `audit --checks`).
    #[arg(long)]
    checks: Option<PathBuf>,
    /// Print the whole catalog as Markdown (this is how docs/checks.md is made).
    #[arg(long, conflicts_with = "id")]
    markdown: bool,
}

#[derive(Subcommand)]
enum ChecksAction {
    /// Run the fixtures kept beside check files and say which cases fail (exit 1).
    Test(ccaudit::commands::checks_test::ChecksTestArgs),
    /// Print the model fields a check can read: path, type and meaning.
    Schema(ccaudit::commands::checks_schema::ChecksSchemaArgs),
}

#[derive(Args)]
struct ModelArgs {
    #[arg(long)]
    snapshot: PathBuf,
    #[command(flatten)]
    limit: SnapshotLimit,
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
        Command::Collect(args) => collect_command(args).map(|()| ExitStatus::Success),
        Command::Checks(ChecksArgs {
            action: Some(ChecksAction::Test(args)),
            ..
        }) => ccaudit::commands::checks_test::run(args).map_err(Failure),
        Command::Checks(ChecksArgs {
            action: Some(ChecksAction::Schema(args)),
            ..
        }) => ccaudit::commands::checks_schema::run(args).map_err(Failure),
        Command::Checks(args) => checks(args).map(|()| ExitStatus::Success),
        Command::Model(args) => model(args).map(|()| ExitStatus::Success),
        Command::Synth(args) => synth(args).map(|()| ExitStatus::Success),
        Command::Explain(args) => ccaudit::commands::explain::run(args).map_err(Failure),
        Command::Diff(args) => ccaudit::commands::diff::run(args).map_err(Failure),
        Command::Redact(args) => ccaudit::commands::redact::run(args).map_err(Failure),
        Command::Permissions(args) => ccaudit::commands::permissions::run(args).map_err(Failure),
        Command::Completions(args) => completions(args.shell).map(|()| ExitStatus::Success),
    };
    match result {
        Ok(status) => ExitCode::from(status as u8),
        Err(Failure(message)) => {
            files::note(&format!("error: {message}"));
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
    if set.is_empty() {
        return Err(Failure(
            "--only and --skip leave no check to run: an audit that checks nothing cannot say the tenant is fine".into(),
        ));
    }
    Ok(set)
}

/// Refuses, before any work, outputs that would overwrite an input or each other, or that
/// cannot be written (a live collection is never read only to be thrown away).
fn check_audit_paths(args: &AuditArgs) -> Result<(), Failure> {
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

fn audit(mut args: AuditArgs) -> Result<ExitStatus, Failure> {
    check_audit_paths(&args)?;
    let offline = matches!((&args.snapshot, &args.live.tenant), (Some(_), None));
    if offline {
        live_only_flags_unused(&args)?;
    }
    let mut config = args.config.load()?;
    // Checks first: a typo in --only should not cost reading the tenant.
    let (env, set) = load_checks(args.selection.checks.as_deref())?;
    validate_suppressions(config.as_mut(), &set)?;
    let set = select(set, &args.selection)?;
    let (snapshot, source) = match (&args.snapshot, offline) {
        (Some(path), true) => {
            let snapshot = args.limit.load(path)?;
            let snapshot = args.redaction.apply(snapshot, args.output.as_deref())?;
            (snapshot, "snapshot")
        }
        _ => {
            agents_from_config(&mut args.live, config.as_ref());
            let snapshot = ccaudit::commands::live::read_tenant(&args.live)?;
            let anchor = args.save_snapshot.as_deref().or(args.output.as_deref());
            let snapshot = args.redaction.apply(snapshot, anchor)?;
            if let Some(path) = &args.save_snapshot {
                save(path, &snapshot)?;
            }
            (snapshot, "live")
        }
    };
    // Flags (and their environment variables) win over the file; an empty one says nothing, so
    // the file's list (or none) applies.
    let flag_skus = ccaudit::config::sku_list(&args.cc_skus);
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
                std::borrow::Cow::Owned(anstream::adapter::strip_str(&text).to_string())
            } else {
                std::borrow::Cow::Borrowed(text.as_str())
            };
            // A report describes the tenant: owner-only, never half-written.
            collect::write_private(path, plain.as_bytes())
                .map_err(|e| Failure(format!("{}: cannot write report: {e}", path.display())))?;
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
        write_remediation_script(path, &report, &model)?;
    }
    // The report is out (it says why each check was skipped); the exit status says that it
    // holds no verdict.
    if let Some(nothing) = nothing {
        return Err(Failure(nothing));
    }
    Ok(report.exit_status(fail_on))
}

/// Writes the script and says on stderr what it holds (stdout is the report's).
fn write_remediation_script(
    path: &Path,
    report: &Report,
    model: &TenantModel,
) -> Result<(), Failure> {
    use ccaudit::remediation_script::{Action, Plan};
    let plan = Plan::build(&report.results, model);
    collect::write_private(path, plan.script(report).as_bytes()).map_err(|e| {
        Failure(format!(
            "{}: cannot write the remediation script: {e}",
            path.display()
        ))
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
fn validate_suppressions(config: Option<&mut Config>, set: &CheckSet) -> Result<(), Failure> {
    if let Some(config) = config {
        let ids: Vec<&str> = set.keys().map(String::as_str).collect();
        config.validate_checks(&ids)?;
    }
    Ok(())
}

/// The file's agents and agent group, unless the command line names agents or a group: the
/// selection is taken as a whole from one place, never mixed.
fn agents_from_config(live: &mut LiveArgs, config: Option<&Config>) {
    let Some(config) = config else { return };
    if live.agents.is_empty() && live.agent_group.is_none() {
        live.agents = config.agents.clone();
        live.agent_group = config.agent_group.clone();
    }
}

fn completions(shell: clap_complete::Shell) -> Result<(), Failure> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "ccaudit", &mut script);
    Ok(files::emit_stdout(&script, false)?)
}

/// Live-only flags on an offline audit would be silently ignored (clap does not enforce
/// `requires = "tenant"` when --tenant conflicts with a present --snapshot): refuse them.
fn live_only_flags_unused(args: &AuditArgs) -> Result<(), Failure> {
    let save = args.save_snapshot.is_some().then_some("--save-snapshot");
    match args.live.unused_flag().or(save) {
        Some(flag) => Err(Failure(format!(
            "{flag} applies to a live audit (--tenant), not to --snapshot"
        ))),
        None => Ok(()),
    }
}

fn collect_command(mut args: CollectArgs) -> Result<(), Failure> {
    let config_path = args.config.path();
    let mut paths = vec![Named::output("--output", &args.output)];
    paths.extend(config_path.as_deref().map(|p| Named::input("--config", p)));
    paths.extend(args.redaction.key(Some(&args.output)));
    files::check_paths(&paths)?;
    let config = args.config.load()?;
    agents_from_config(&mut args.live, config.as_ref());
    let snapshot = ccaudit::commands::live::read_tenant(&args.live)?;
    let snapshot = args.redaction.apply(snapshot, Some(&args.output))?;
    save(&args.output, &snapshot)?;
    let unavailable: Vec<&str> = snapshot
        .facts
        .iter()
        .filter(|(_, f)| f.error.is_some())
        .map(|(k, _)| k.as_str())
        .collect();
    if !args.live.quiet {
        let detail = if unavailable.is_empty() {
            String::new()
        } else {
            format!(": {}", unavailable.join(", "))
        };
        files::note(&format!(
            "wrote {} ({} facts, {} unavailable{detail})",
            args.output.display(),
            snapshot.facts.len(),
            unavailable.len()
        ));
    }
    Ok(())
}

fn save(path: &Path, snapshot: &Snapshot) -> Result<(), Failure> {
    collect::write_snapshot(path, snapshot)
        .map_err(|e| Failure(format!("{}: cannot write snapshot: {e}", path.display())))
}

fn checks(args: ChecksArgs) -> Result<(), Failure> {
    let (_, set) = load_checks(args.checks.as_deref())?;
    if args.markdown {
        let markdown = engine::docs::catalog_markdown(&set);
        return Ok(files::emit_stdout(markdown.as_bytes(), true)?);
    }
    let mut out = String::new();
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
    Ok(files::emit_stdout(out.as_bytes(), true)?)
}

fn synth(args: SynthArgs) -> Result<(), Failure> {
    files::check_paths(&[Named::output("--output", &args.output)])?;
    let size = |n: u32| n as usize;
    let mut params = ccaudit::synth::SynthParams::healthy(
        size(args.resource_accounts),
        size(args.numbers),
        size(args.agents),
    );
    params.faults_per_mille = args.faults_per_mille;
    let snapshot = ccaudit::synth::generate(&params);
    collect::write_snapshot(&args.output, &snapshot).map_err(|e| {
        Failure(format!(
            "{}: cannot write snapshot: {e}",
            args.output.display()
        ))
    })?;
    Ok(())
}

fn model(args: ModelArgs) -> Result<(), Failure> {
    let snapshot = args.limit.load(&args.snapshot)?;
    let model = TenantModel::from_snapshot(&snapshot, AuditConfig::default());
    let json = serde_json::json!({
        "tenant": model.to_json(),
        "unavailable": model.unavailable_facts(),
    });
    let mut text = serde_json::to_string_pretty(&json)?;
    text.push('\n');
    Ok(files::emit_stdout(text.as_bytes(), true)?)
}
