//! `ccaudit model --snapshot FILE`: the normalized tenant model, what checks see as `tenant`,
//! as JSON.

use std::path::PathBuf;

use super::SnapshotLimit;
use crate::files;
use crate::model::{AuditConfig, TenantModel};
use crate::report::ExitStatus;

#[derive(Debug, Clone, clap::Args)]
pub struct ModelArgs {
    #[arg(long)]
    pub snapshot: PathBuf,
    #[command(flatten)]
    pub limit: SnapshotLimit,
}

pub fn run(args: ModelArgs) -> Result<ExitStatus, String> {
    let snapshot = args.limit.load(&args.snapshot).map_err(|e| e.to_string())?;
    let model = TenantModel::from_snapshot(&snapshot, AuditConfig::default());
    let json = serde_json::json!({
        "tenant": model.to_json(),
        "unavailable": model.unavailable_facts(),
    });
    let mut text = serde_json::to_string_pretty(&json).map_err(|e| e.to_string())?;
    text.push('\n');
    files::emit_stdout(text.as_bytes(), true)?;
    Ok(ExitStatus::Success)
}
