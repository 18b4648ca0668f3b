//! Flag groups more than one command flattens: which configuration file to read, and
//! pseudonymizing a snapshot before it is written or reported.

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::files::Named;
use crate::private_file;
use crate::snapshot::Snapshot;
use crate::triage::redact;

/// Which configuration file to read (docs/configuration.md).
#[derive(Debug, Clone, clap::Args)]
pub struct ConfigArgs {
    /// Configuration file: agents, Contact Center SKUs, fail-on and suppressions (default:
    /// ./ccaudit.yaml when it exists). Command-line flags override it.
    #[arg(long, value_name = "FILE", env = "CCAUDIT_CONFIG")]
    pub config: Option<PathBuf>,
    /// Read no configuration file (neither ./ccaudit.yaml nor --config / CCAUDIT_CONFIG).
    #[arg(long)]
    pub no_config: bool,
}

impl ConfigArgs {
    pub fn load(&self) -> Result<Option<Config>, String> {
        if self.no_config {
            return Ok(None);
        }
        Config::discover(self.config.as_deref()).map_err(|e| e.to_string())
    }

    /// The file `load` reads, if any.
    pub fn path(&self) -> Option<PathBuf> {
        if self.no_config {
            return None;
        }
        Config::path_for(self.config.as_deref())
    }
}

/// Pseudonymize personal and identifying data before anything is written or reported.
#[derive(Debug, Clone, clap::Args)]
pub struct RedactOptions {
    /// Pseudonymize UPNs, names, phone numbers, tenant names and domains (deterministic per key;
    /// configuration GUIDs stay so the audit still explains the tenant).
    #[arg(long)]
    pub redact: bool,
    /// The redaction key; default: `<output>.redact-key` next to the written file, created once.
    #[arg(long, value_name = "FILE", requires = "redact")]
    pub redact_key: Option<PathBuf>,
}

impl RedactOptions {
    /// The key `apply` reads (or creates next to `anchor`), for `files::check_paths`.
    pub fn key(&self, anchor: Option<&Path>) -> Option<Named<'static>> {
        match (&self.redact_key, anchor) {
            _ if !self.redact => None,
            (Some(given), _) => Some(Named::key(given, true)),
            (None, Some(anchor)) => Some(Named::key(&redact::key_path_for(anchor), false)),
            (None, None) => None,
        }
    }

    /// Redacts `snapshot` when asked; the key lives at --redact-key or next to `anchor`.
    pub fn apply(&self, snapshot: Snapshot, anchor: Option<&Path>) -> Result<Snapshot, String> {
        if !self.redact {
            return Ok(snapshot);
        }
        let anchor = match (anchor, &self.redact_key) {
            (Some(a), _) => a.to_path_buf(),
            (None, Some(k)) => k.clone(),
            (None, None) => {
                return Err(
                    "--redact needs --redact-key FILE (or --output / --save-snapshot, next to which the key is kept)".into(),
                );
            }
        };
        let key = redact::load_or_create_key(&anchor, self.redact_key.as_deref())
            .map_err(|e| e.to_string())?;
        Ok(redact::redact(&snapshot, &key.bytes))
    }
}

/// Writes a snapshot (owner-only, atomically), naming the file when it cannot.
pub fn save_snapshot(path: &Path, snapshot: &Snapshot) -> Result<(), String> {
    private_file::write_snapshot(path, snapshot)
        .map_err(|e| format!("{}: cannot write snapshot: {e}", path.display()))
}
