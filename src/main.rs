//! The `ccaudit` command line: parse the flags, hand them to the subcommand's module in
//! `ccaudit::commands`, and turn its outcome into an exit code (an error as one line on stderr).

use std::process::ExitCode;

use clap::Parser;

use ccaudit::commands::cli::{Cli, Command};
use ccaudit::commands::{
    audit, checks, collect, completions, diff, explain, model, permissions, redact, synth, trace,
};
use ccaudit::files;
use ccaudit::report::ExitStatus;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Audit(args) => audit::run(args),
        Command::Collect(args) => collect::run(args),
        Command::Checks(args) => checks::run(args),
        Command::Model(args) => model::run(args),
        Command::Synth(args) => synth::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Trace(args) => trace::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Redact(args) => redact::run(args),
        Command::Permissions(args) => permissions::run(args),
        Command::Completions(args) => completions::run(args),
    };
    match result {
        Ok(status) => ExitCode::from(status as u8),
        Err(message) => {
            files::note(&format!("error: {message}"));
            ExitCode::from(ExitStatus::Error as u8)
        }
    }
}
