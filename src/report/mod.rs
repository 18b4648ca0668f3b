//! One `Report` value, rendered by one small module per format.

pub mod data_quality;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod table;
pub mod text;

use serde::Serialize;

use crate::engine::{CheckResult, Severity, Status};
use crate::model::TenantModel;
use crate::trace::CallPath;

/// Bumped only on breaking changes to the JSON report (documented in `docs/report-json.md`).
pub const REPORT_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub tool: Tool,
    pub tenant: TenantRef,
    /// `snapshot` or `live`.
    pub source: String,
    pub collected_at: String,
    pub summary: Summary,
    pub results: Vec<CheckResult>,
    /// Things the user should know about the run itself (expired or unused suppressions, ...).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Records that lacked fields and responses of an unexpected shape, per source.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub data_quality: Vec<data_quality::DataQuality>,
    /// The call path of each number, drawn by the HTML and Markdown reports.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub call_paths: Vec<CallPath>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TenantRef {
    pub id: String,
    pub name: Option<String>,
    pub cloud: String,
}

#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub pass: usize,
    pub fail: usize,
    pub missing: usize,
    pub unknown: usize,
    pub skipped: usize,
    /// Results covered by a suppression; they are also counted under their own status above.
    /// Absent from JSON when zero.
    #[serde(skip_serializing_if = "is_zero")]
    pub suppressed: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Summary {
    pub fn of(results: &[CheckResult]) -> Summary {
        let mut s = Summary::default();
        for r in results {
            match r.status {
                Status::Pass => s.pass += 1,
                Status::Fail => s.fail += 1,
                Status::Missing => s.missing += 1,
                Status::Unknown => s.unknown += 1,
                Status::Skipped => s.skipped += 1,
            }
            if r.suppressed.is_some() {
                s.suppressed += 1;
            }
        }
        s
    }
}

impl Report {
    pub fn new(model: &TenantModel, source: &str, results: Vec<CheckResult>) -> Report {
        Report {
            schema_version: REPORT_SCHEMA_VERSION,
            tool: Tool {
                name: "ccaudit".into(),
                version: env!("CARGO_PKG_VERSION").into(),
            },
            tenant: TenantRef {
                id: model.info.id.clone(),
                name: model.info.name.clone(),
                cloud: model.info.cloud.clone(),
            },
            source: source.into(),
            collected_at: model.info.collected_at.clone(),
            summary: Summary::of(&results),
            data_quality: data_quality::of(model, &results),
            results,
            warnings: Vec::new(),
            call_paths: Vec::new(),
        }
    }

    /// The process exit status for this report (see README "Exit codes").
    pub fn exit_status(&self, fail_on: Severity) -> ExitStatus {
        let finding = self
            .results
            .iter()
            .any(|r| r.status.is_finding() && r.severity >= fail_on && r.suppressed.is_none());
        let unknown = self
            .results
            .iter()
            .any(|r| r.status == Status::Unknown && r.suppressed.is_none());
        if finding {
            ExitStatus::Findings
        } else if unknown {
            ExitStatus::Incomplete
        } else {
            ExitStatus::Success
        }
    }
}

/// Process exit codes: 0 clean, 1 findings, 2 usage/input error, 3 incomplete (unknowns).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    Success = 0,
    Findings = 1,
    Error = 2,
    Incomplete = 3,
}
