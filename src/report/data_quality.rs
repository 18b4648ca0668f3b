//! What the audit did not understand, per source: records that lacked fields a check reads
//! (with the keys they did have, never their values) and sources whose response had an
//! unexpected shape. It is what a user pastes into an issue so a new API shape becomes a fixture.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::engine::{CheckResult, Status};
use crate::model::{TenantModel, UnavailableKind};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DataQuality {
    /// Snapshot key of the source (`teams.onlineUsers`).
    pub source: String,
    /// `missing_fields` (records lacked properties) or `malformed` (the response's shape was
    /// not understood, so the whole fact is unknown).
    pub problem: &'static str,
    /// Records that lacked at least one field (0 for `malformed`).
    pub records: usize,
    /// The properties that were missing, as the API spells them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    /// Every key those records did have (names only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub keys_seen: Vec<String>,
    /// Results that are unknown because of it.
    pub unknown_results: usize,
    /// For `malformed`: what did not match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl DataQuality {
    /// One line for the table and Markdown reports.
    pub fn line(&self) -> String {
        match self.problem {
            "malformed" => format!(
                "{}: unexpected shape ({}); {} result(s) unknown",
                self.source,
                self.detail.as_deref().unwrap_or("no detail"),
                self.unknown_results
            ),
            _ => format!(
                "{}: {} record(s) without {} (keys seen: {}); {} result(s) unknown",
                self.source,
                self.records,
                self.fields.join(", "),
                if self.keys_seen.is_empty() {
                    "none".to_string()
                } else {
                    self.keys_seen.join(", ")
                },
                self.unknown_results
            ),
        }
    }
}

/// One source's records, missing fields and seen keys.
type Gaps<'a> = (BTreeSet<&'a str>, BTreeSet<&'a str>, BTreeSet<&'a str>);

/// The data quality entries of an audit, by source.
pub fn of(model: &TenantModel, results: &[CheckResult]) -> Vec<DataQuality> {
    let mut out = Vec::new();
    let mut by_source: BTreeMap<&str, Gaps<'_>> = BTreeMap::new();
    for a in &model.absences {
        let entry = by_source.entry(a.source.as_str()).or_default();
        entry.0.insert(a.record.as_str());
        entry.1.insert(a.field.as_str());
        entry.2.extend(a.keys_seen.iter().map(String::as_str));
    }
    for (source, (records, fields, keys)) in by_source {
        out.push(DataQuality {
            source: source.to_string(),
            problem: "missing_fields",
            records: records.len(),
            fields: fields.into_iter().map(str::to_string).collect(),
            keys_seen: keys.into_iter().map(str::to_string).collect(),
            unknown_results: results
                .iter()
                .filter(|r| r.status == Status::Unknown && r.absent_in.as_deref() == Some(source))
                .count(),
            detail: None,
        });
    }
    let mut malformed: BTreeMap<&str, &str> = BTreeMap::new();
    for u in model.unavailable_facts().into_values() {
        if u.kind == UnavailableKind::Malformed {
            for source in &u.sources {
                malformed
                    .entry(source.as_str())
                    .or_insert(u.reason.as_str());
            }
        }
    }
    for (source, reason) in malformed {
        out.push(DataQuality {
            source: source.to_string(),
            problem: "malformed",
            records: 0,
            fields: Vec::new(),
            keys_seen: Vec::new(),
            unknown_results: results
                .iter()
                .filter(|r| r.status == Status::Unknown && r.message.contains(source))
                .count(),
            detail: Some(reason.to_string()),
        });
    }
    out
}
