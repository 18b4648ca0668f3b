//! `ccaudit redact --snapshot IN --output OUT [--redact-key FILE]`: pseudonymizes a saved
//! snapshot so that it can be shared (with a partner, in a ticket) and still be audited, diffed
//! and explained. What is replaced and what is kept: `crate::triage::redact`.

use std::path::PathBuf;

use crate::files::{self, Named};
use crate::private_file;
use crate::report::ExitStatus;
use crate::triage::redact::{self, KeyOrigin};

#[derive(Debug, Clone, clap::Args)]
pub struct RedactArgs {
    /// The snapshot to redact (from `ccaudit collect`).
    #[arg(long, value_name = "FILE")]
    pub snapshot: PathBuf,
    /// Where to write the redacted snapshot (owner-only permissions, replaced atomically).
    #[arg(long, value_name = "FILE")]
    pub output: PathBuf,
    /// The pseudonymization key (hex, as ccaudit writes it). Default: OUTPUT.redact-key, reused
    /// when it exists, otherwise created with a random key. Redact snapshots of one tenant with
    /// the same key so they still diff against each other. Keep the key to yourself: with it,
    /// pseudonyms can be checked against guessed names.
    #[arg(long, value_name = "FILE")]
    pub redact_key: Option<PathBuf>,
    #[command(flatten)]
    pub limit: super::SnapshotLimit,
}

pub fn run(args: RedactArgs) -> Result<ExitStatus, String> {
    let key = match &args.redact_key {
        Some(path) => Named::key(path, true),
        None => Named::key(&redact::key_path_for(&args.output), false),
    };
    files::check_paths(&[
        Named::input("--snapshot", &args.snapshot),
        Named::output("--output", &args.output),
        key,
    ])
    .map_err(|e| e.to_string())?;
    let original = args.limit.load(&args.snapshot).map_err(|e| e.to_string())?;
    let key = redact::load_or_create_key(&args.output, args.redact_key.as_deref())
        .map_err(|e| e.to_string())?;
    let redacted = redact::redact(&original, &key.bytes);
    private_file::write_snapshot(&args.output, &redacted)
        .map_err(|e| format!("{}: cannot write snapshot: {e}", args.output.display()))?;
    let how = match key.origin {
        KeyOrigin::Given => "with the key",
        KeyOrigin::Reused => "with the existing key",
        KeyOrigin::Created => "with a new key in",
    };
    files::note(&format!(
        "wrote {} (redacted {how} {}; keep the key private and reuse it for other snapshots of this tenant)",
        args.output.display(),
        key.path.display()
    ));
    Ok(ExitStatus::Success)
}
