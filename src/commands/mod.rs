//! Subcommands that live in the library: each module holds its clap `Args` and a
//! `run(args) -> Result<ExitStatus, String>` that `main.rs` dispatches to.

pub mod explain;
pub mod permissions;
