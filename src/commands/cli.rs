//! The command line as clap sees it: the subcommands, each with its flags in its own module.

use clap::{Parser, Subcommand};

use super::{
    audit, checks, collect, completions, diff, explain, model, permissions, redact, synth, trace,
};

#[derive(Parser)]
#[command(
    name = "ccaudit",
    version,
    about = "Audits a tenant's prerequisites for Dynamics 365 Contact Center voice over Teams Phone extensibility"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Evaluate every prerequisite check against a snapshot (or a tenant read live with
    /// --tenant) and report pass/fail/missing/unknown.
    Audit(audit::AuditArgs),
    /// Read a tenant live and write its snapshot, to audit later or elsewhere.
    Collect(collect::CollectArgs),
    /// List the checks, or show everything about one.
    Checks(checks::ChecksArgs),
    /// Print the normalized tenant model (what checks see as `tenant`) as JSON.
    Model(model::ModelArgs),
    /// Write a generated tenant snapshot of a given size (for benchmarks, demos and the fake
    /// tenant server).
    Synth(synth::SynthArgs),
    /// Explain an error code or a pasted error/log line: what it means, how sure we are, and
    /// (with --snapshot, or --tenant read live) which checks fail in this tenant.
    Explain(explain::ExplainArgs),
    /// The call path of a contact-center number to an agent, hop by hop: where a call breaks,
    /// which check says so, and the fix of the first break.
    Trace(trace::TraceArgs),
    /// Compare two tenants (two snapshots, or a snapshot and a tenant read live with --tenant):
    /// prerequisite settings and verdicts side by side.
    Diff(diff::DiffArgs),
    /// Pseudonymize a snapshot for sharing (deterministic with a key).
    Redact(redact::RedactArgs),
    /// The permissions and roles a read-only audit needs, and what each one unlocks.
    Permissions(permissions::PermissionsArgs),
    /// Print the completion script for a shell (e.g. `ccaudit completions bash >
    /// ~/.local/share/bash-completion/completions/ccaudit`).
    Completions(completions::CompletionsArgs),
}
