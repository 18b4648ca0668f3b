//! `ccaudit collect --tenant T --output FILE`: read a tenant live and write its snapshot, to
//! audit later or elsewhere.

use std::path::PathBuf;

use super::live::{self, LiveArgs};
use super::options::{ConfigArgs, RedactOptions, save_snapshot};
use crate::files::{self, Named};
use crate::report::ExitStatus;

#[derive(Debug, Clone, clap::Args)]
pub struct CollectArgs {
    /// Where to write the snapshot (owner-only permissions, replaced atomically).
    #[arg(long, value_name = "FILE", required_unless_present = "script")]
    pub output: Option<PathBuf>,
    /// Instead of reading the tenant, write a read-only PowerShell script for the tenant's admin
    /// to run; the JSON file it writes is audited with `audit --snapshot` (takes --agents and
    /// --dataverse-url).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["tenant", "output", "redact"])]
    pub script: Option<PathBuf>,
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(flatten)]
    pub redaction: RedactOptions,
    /// Last: its help heading applies to the flags after it.
    #[command(flatten)]
    pub live: LiveArgs,
}

pub fn run(mut args: CollectArgs) -> Result<ExitStatus, String> {
    let Some(output) = args.output.clone() else {
        let script = args.script.unwrap_or_default();
        super::collect_script::run(&script, &args.live)?;
        return Ok(ExitStatus::Success);
    };
    let config_path = args.config.path();
    let mut paths = vec![Named::output("--output", &output)];
    paths.extend(config_path.as_deref().map(|p| Named::input("--config", p)));
    paths.extend(args.redaction.key(Some(&output)));
    files::check_paths(&paths)?;
    let config = args.config.load()?;
    args.live.agents_from(config.as_ref());
    let snapshot = live::read_tenant(&args.live)?;
    let snapshot = args.redaction.apply(snapshot, Some(&output))?;
    save_snapshot(&output, &snapshot)?;
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
            output.display(),
            snapshot.facts.len(),
            unavailable.len()
        ));
    }
    Ok(ExitStatus::Success)
}
