//! `ccaudit checks [ID] [--markdown]`: the catalog as a list, one check in full, or the whole
//! catalog as Markdown (docs/checks.md); `ccaudit checks test DIR` runs fixtures.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::checks_test;
use crate::engine::{self, CheckSet};
use crate::files;
use crate::report::ExitStatus;

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ChecksArgs {
    #[command(subcommand)]
    pub action: Option<ChecksAction>,
    /// A check id to show in full.
    pub id: Option<String>,
    /// Extra check files to include (as for `audit --checks`).
    #[arg(long)]
    pub checks: Option<PathBuf>,
    /// Print the whole catalog as Markdown (this is how docs/checks.md is made).
    #[arg(long, conflicts_with = "id")]
    pub markdown: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum ChecksAction {
    /// Run the fixtures kept beside check files and say which cases fail (exit 1).
    Test(checks_test::ChecksTestArgs),
    /// Print the model fields a check can read: path, type and meaning.
    Schema(super::checks_schema::ChecksSchemaArgs),
}

pub fn run(args: ChecksArgs) -> Result<ExitStatus, String> {
    match args.action {
        Some(ChecksAction::Test(test)) => checks_test::run(test),
        Some(ChecksAction::Schema(schema)) => super::checks_schema::run(schema),
        None => show(args),
    }
}

/// The built-in checks and those under `dir`, with the CEL environment they were compiled in.
pub fn load(dir: Option<&Path>) -> Result<(Arc<cel::Env>, CheckSet), String> {
    let env = engine::cel::environment();
    let set = engine::catalog::load(&env, dir).map_err(|e| e.to_string())?;
    Ok((env, set))
}

fn show(args: ChecksArgs) -> Result<ExitStatus, String> {
    let (_, set) = load(args.checks.as_deref())?;
    if args.markdown {
        let markdown = engine::docs::catalog_markdown(&set);
        files::emit_stdout(markdown.as_bytes(), true)?;
        return Ok(ExitStatus::Success);
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
                .ok_or_else(|| format!("no check `{id}` (see `ccaudit checks`)"))?;
            let yaml = serde_yaml::to_string(&check.spec).map_err(|e| e.to_string())?;
            let _ = writeln!(out, "# {}\n{yaml}", check.origin);
        }
    }
    files::emit_stdout(out.as_bytes(), true)?;
    Ok(ExitStatus::Success)
}
