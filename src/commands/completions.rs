//! `ccaudit completions SHELL`: the shell completion script, generated from the same clap
//! definitions as the command line itself.

use clap::CommandFactory;

use super::cli::Cli;
use crate::files;
use crate::report::ExitStatus;

#[derive(Debug, Clone, clap::Args)]
pub struct CompletionsArgs {
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

pub fn run(args: CompletionsArgs) -> Result<ExitStatus, String> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "ccaudit", &mut script);
    files::emit_stdout(&script, false)?;
    Ok(ExitStatus::Success)
}
