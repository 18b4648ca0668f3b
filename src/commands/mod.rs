//! Every subcommand, one module each named after it: the module holds its clap `Args` and a
//! `run(args) -> Result<ExitStatus, String>` that `main.rs` dispatches to (the error is one line
//! for the user). `cli` is the command line as a whole; `live` and `options` hold the flag
//! groups several commands flatten.

pub mod audit;
pub mod checks;
pub mod checks_schema;
pub mod checks_test;
pub mod cli;
pub mod collect;
pub mod collect_script;
pub mod completions;
pub mod diff;
pub mod explain;
pub mod live;
pub mod model;
pub mod options;
pub mod permissions;
pub mod redact;
pub mod synth;
pub mod trace;

use std::path::Path;

use crate::snapshot::{DEFAULT_MAX_SNAPSHOT_MIB, Snapshot, SnapshotError};

/// Largest `--max-snapshot-mib` accepted (64 GiB).
pub const MAX_SNAPSHOT_MIB_LIMIT: u64 = 64 << 10;

/// How large a snapshot a command reads: every command that takes `--snapshot` (or snapshot
/// arguments) flattens this.
#[derive(Debug, Clone, clap::Args)]
pub struct SnapshotLimit {
    /// Largest snapshot read, in MiB (1 to 65536): a larger file is refused before it is read.
    #[arg(
        long = "max-snapshot-mib",
        value_name = "MIB",
        env = "CCAUDIT_MAX_SNAPSHOT_MIB",
        default_value_t = DEFAULT_MAX_SNAPSHOT_MIB,
        value_parser = clap::value_parser!(u64).range(1..=MAX_SNAPSHOT_MIB_LIMIT),
    )]
    pub max_snapshot_mib: u64,
}

impl Default for SnapshotLimit {
    fn default() -> SnapshotLimit {
        SnapshotLimit {
            max_snapshot_mib: DEFAULT_MAX_SNAPSHOT_MIB,
        }
    }
}

impl SnapshotLimit {
    pub fn load(&self, path: &Path) -> Result<Snapshot, SnapshotError> {
        Snapshot::load_capped(path, self.max_snapshot_mib)
    }
}

/// Word-wraps `text` to `width` columns; continuation lines start with `indent` spaces. A word
/// longer than a line (a long URL or key) is split.
pub(crate) fn wrap(text: &str, width: usize, indent: usize) -> String {
    let room = width.saturating_sub(indent).max(8);
    let mut pieces: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        let chars: Vec<char> = word.chars().collect();
        pieces.extend(chars.chunks(room).map(|c| c.iter().collect::<String>()));
    }
    let mut out = String::new();
    let mut col = indent;
    for (i, piece) in pieces.iter().enumerate() {
        let len = piece.chars().count();
        if i > 0 {
            if col + 1 + len > width {
                out.push('\n');
                out.push_str(&" ".repeat(indent));
                col = indent;
            } else {
                out.push(' ');
                col += 1;
            }
        }
        out.push_str(piece);
        col += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wraps_on_words_and_indents_continuations() {
        assert_eq!(wrap("aa bb cc", 5, 0), "aa bb\ncc");
        assert_eq!(wrap("aa bb cc", 7, 2), "aa bb\n  cc");
    }

    #[test]
    fn splits_a_word_longer_than_the_line() {
        assert_eq!(wrap("abcdefghijkl", 8, 0), "abcdefgh\nijkl");
    }
}
