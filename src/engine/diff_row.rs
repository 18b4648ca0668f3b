//! The `ccaudit diff` rows a check can ask to tally its results (`diff_row:` in its YAML).
//!
//! Typed so a misspelt row fails when the check loads, with the file and line, instead of
//! tallying nothing; `triage::diff` builds each row from the same enum.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum DiffRow {
    /// Results where information barriers separate agents from contact-center resource accounts.
    #[serde(rename = "ib.separated")]
    IbSeparated,
}

impl DiffRow {
    /// The row's key, as `ccaudit diff` prints it and a check names it.
    pub fn as_str(self) -> &'static str {
        match self {
            DiffRow::IbSeparated => "ib.separated",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_reads_and_writes_as_its_key() {
        let row: DiffRow = serde_yaml::from_str("ib.separated").expect("a known row");
        assert_eq!(row, DiffRow::IbSeparated);
        assert_eq!(
            serde_yaml::to_string(&row).expect("serializes").trim(),
            row.as_str()
        );
        assert!(serde_yaml::from_str::<DiffRow>("ib.seperated").is_err());
    }
}
