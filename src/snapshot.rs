//! The on-disk snapshot: what the collectors read from a tenant, as the APIs returned it.
//!
//! A snapshot is deliberately raw (API JSON, all pages merged) so that a snapshot taken at a
//! customer can be re-evaluated offline by a newer ccaudit with better normalizers and checks.
//! The format is documented in `docs/snapshot.md`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::fact_key::FactKey;

pub mod powershell;

/// The only snapshot schema this build reads and writes.
pub const SCHEMA_VERSION: u32 = 1;

/// The largest snapshot read by default, in MiB (`--max-snapshot-mib`,
/// `CCAUDIT_MAX_SNAPSHOT_MIB`): over ten times the largest tenant measured (2S: 4,000 agents,
/// 10,000 numbers, 34.4 MiB; docs/performance.md) and over twenty times S. A larger file is
/// refused before it is read, and a stream (`/dev/zero`, a pipe) once this much came out of it.
pub const DEFAULT_MAX_SNAPSHOT_MIB: u64 = 400;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    pub schema_version: u32,
    pub tool_version: String,
    /// RFC 3339 time the collection finished.
    pub collected_at: String,
    pub tenant_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_name: Option<String>,
    /// `public`, `gcc`, `gcc-high`, `dod` or `china`.
    pub cloud: String,
    /// Who the agents are and how they were named (`--agents`, `--agent-group`, Dataverse queues).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agents: Option<AgentSelection>,
    /// How a live read signed in (absent in snapshots that predate it): a person's refusals
    /// are told in the terms of that sign-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_in: Option<crate::sign_in::SignIn>,
    /// One entry per source fact, keyed like `graph.subscribedSkus`.
    pub facts: BTreeMap<String, SourceFact>,
}

/// How the audit learned which users are contact-center agents.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AgentSelection {
    /// `cli` (--agents), `group` (--agent-group) or `dataverse` (queue membership).
    pub source: String,
    /// UPNs or Entra object ids, as given.
    pub users: Vec<String>,
}

/// One source fact: the merged response of an endpoint, or the error that prevented reading it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SourceFact {
    /// Method and URL (or cmdlet) the data came from, for the report and for `explain`.
    pub endpoint: String,
    /// A service can answer `null`: `"data": null` is data (which the normalizers then find
    /// has the wrong shape), not a missing field, so a saved snapshot always reads back.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub data: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<SourceError>,
}

/// A field that is present is `Some`, even when it is `null` (absent is `None` by `default`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// Why a source could not be read, as the service said it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SourceError {
    /// HTTP status, when there was a response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Service error code (`Authorization_RequestDenied`, `0x80040220`, ...), or ccaudit's own
    /// reason for not reading the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<ErrorCode>,
    pub message: String,
}

/// `SourceError.code`: the collectors' own reasons for not reading a source, which the model
/// turns into an unavailable kind, or the service's code as it was sent. Written and read as
/// the same text as ever, so every snapshot loads; a code this build does not know (a service's,
/// or a newer ccaudit's) is kept as [`ErrorCode::Service`], never refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum ErrorCode {
    /// The API does not exist in this cloud (`NotSupportedInCloud`).
    NotSupportedInCloud,
    /// The user did not ask for the source (`NotRequested`).
    NotRequested,
    /// The collector did not read the source, and says why (`NotCollected`).
    NotCollected,
    /// Not read because a source it depends on is unavailable (`DependencyUnavailable`; the
    /// ACS resources when no subscription could be listed): the fix is the other source's, so
    /// the model reports a dependency, not this source's permission.
    DependencyUnavailable,
    /// A section of a collection script's output that cannot be read as data (cut off at
    /// `-Depth`, an enum written as a number): malformed, never guessed.
    MalformedScriptOutput,
    /// Not attempted under the sign-in in use (Security & Compliance with a person's token).
    NotTriedWithThisSignIn,
    /// The service's own code (`Authorization_RequestDenied`), or one this build does not know.
    Service(String),
}

impl ErrorCode {
    /// The code as the snapshot spells it.
    pub fn as_str(&self) -> &str {
        match self {
            ErrorCode::NotSupportedInCloud => "NotSupportedInCloud",
            ErrorCode::NotRequested => "NotRequested",
            ErrorCode::NotCollected => "NotCollected",
            ErrorCode::DependencyUnavailable => "DependencyUnavailable",
            ErrorCode::MalformedScriptOutput => "MalformedScriptOutput",
            ErrorCode::NotTriedWithThisSignIn => "NotTriedWithThisSignIn",
            ErrorCode::Service(code) => code,
        }
    }
}

impl From<String> for ErrorCode {
    fn from(code: String) -> ErrorCode {
        match code.as_str() {
            "NotSupportedInCloud" => ErrorCode::NotSupportedInCloud,
            "NotRequested" => ErrorCode::NotRequested,
            "NotCollected" => ErrorCode::NotCollected,
            "DependencyUnavailable" => ErrorCode::DependencyUnavailable,
            "MalformedScriptOutput" => ErrorCode::MalformedScriptOutput,
            "NotTriedWithThisSignIn" => ErrorCode::NotTriedWithThisSignIn,
            _ => ErrorCode::Service(code),
        }
    }
}

impl From<&str> for ErrorCode {
    fn from(code: &str) -> ErrorCode {
        ErrorCode::from(code.to_string())
    }
}

impl From<ErrorCode> for String {
    fn from(code: ErrorCode) -> String {
        match code {
            ErrorCode::Service(code) => code,
            known => known.as_str().to_string(),
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A fact as the normalizers see it.
#[derive(Debug, Clone, Copy)]
pub enum RawFact<'a> {
    /// The collector never tried (older collector, or source out of scope).
    NotCollected,
    Error {
        endpoint: &'a str,
        error: &'a SourceError,
    },
    Data {
        endpoint: &'a str,
        data: &'a Value,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("{path}: cannot read snapshot: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a valid snapshot: {detail}")]
    Invalid { path: String, detail: String },
    #[error("{path}: {detail}")]
    TooLarge { path: String, detail: String },
    #[error(
        "{path}: snapshot schema_version {found} is not supported (this ccaudit reads version {SCHEMA_VERSION}); re-collect it or upgrade ccaudit"
    )]
    UnsupportedVersion { path: String, found: u64 },
}

/// A fact entry a snapshot must not have; the key is shown with control characters escaped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum InvalidFact {
    #[error("fact key `{0}` must be `<source>.<name>` (e.g. graph.subscribedSkus)")]
    Key(String),
    #[error("fact `{0}` has both `data` and `error`")]
    Both(String),
    #[error("fact `{0}` has neither `data` nor `error`")]
    Neither(String),
}

impl Snapshot {
    /// Reads and validates a snapshot file of at most [`DEFAULT_MAX_SNAPSHOT_MIB`].
    pub fn load(path: &Path) -> Result<Snapshot, SnapshotError> {
        Snapshot::load_capped(path, DEFAULT_MAX_SNAPSHOT_MIB)
    }

    /// Reads and validates a snapshot file of at most `max_mib` MiB: a larger regular file is
    /// refused before any of it is read, a stream once more than that came out of it.
    pub fn load_capped(path: &Path, max_mib: u64) -> Result<Snapshot, SnapshotError> {
        use crate::files::{CappedError, mib, read_file_capped};
        let shown = path.display().to_string();
        let cap = max_mib.saturating_mul(1 << 20);
        let bytes = read_file_capped(path, cap).map_err(|e| match e {
            CappedError::Io(source) => SnapshotError::Io {
                path: shown.clone(),
                source,
            },
            CappedError::TooLarge { size, .. } => {
                let what = match size {
                    Some(size) => format!("not read: the file is {}", mib(size)),
                    None => format!("stopped after {max_mib} MiB without reaching its end"),
                };
                SnapshotError::TooLarge {
                    path: shown.clone(),
                    detail: format!(
                        "{what}, over the {max_mib} MiB limit for a snapshot (raise it with --max-snapshot-mib or CCAUDIT_MAX_SNAPSHOT_MIB)"
                    ),
                }
            }
        })?;
        // UTF-16 and byte-order marks: what the collection script writes in Windows PowerShell.
        let text = powershell::decode(bytes).map_err(|detail| SnapshotError::Invalid {
            path: shown.clone(),
            detail,
        })?;
        Snapshot::parse(&text, &shown)
    }

    /// Parses snapshot text; `origin` names the file in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Snapshot, SnapshotError> {
        let invalid = |detail: String| SnapshotError::Invalid {
            path: origin.to_string(),
            detail,
        };
        // Read the version first so an old or future file gets the version message, not a
        // confusing field error.
        let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
        let value: Value =
            serde_json::from_str(text).map_err(|e| invalid(describe_json_error(&e)))?;
        let Some(object) = value.as_object() else {
            return Err(invalid("the top level must be a JSON object".into()));
        };
        if object.contains_key(powershell::MARKER) {
            let snapshot = powershell::into_snapshot(value).map_err(invalid)?;
            snapshot.validate().map_err(|e| invalid(e.to_string()))?;
            return Ok(snapshot);
        }
        match object.get("schema_version") {
            None => return Err(invalid("missing field `schema_version`".into())),
            Some(v) => match v.as_u64() {
                Some(n) if n == u64::from(SCHEMA_VERSION) => {}
                Some(n) => {
                    return Err(SnapshotError::UnsupportedVersion {
                        path: origin.to_string(),
                        found: n,
                    });
                }
                None => {
                    return Err(invalid(
                        "`schema_version` must be a positive integer".into(),
                    ));
                }
            },
        }
        let snapshot: Snapshot =
            serde_json::from_value(value).map_err(|e| invalid(first_line(&e.to_string())))?;
        snapshot.validate().map_err(|e| invalid(e.to_string()))?;
        Ok(snapshot)
    }

    fn validate(&self) -> Result<(), InvalidFact> {
        for (name, fact) in &self.facts {
            // Control characters escaped: the error stays one line whatever the key holds.
            let key = name.escape_debug().to_string();
            if !name.contains('.') {
                return Err(InvalidFact::Key(key));
            }
            match (&fact.data, &fact.error) {
                (Some(_), Some(_)) => return Err(InvalidFact::Both(key)),
                (None, None) => return Err(InvalidFact::Neither(key)),
                _ => {}
            }
        }
        Ok(())
    }

    /// The raw fact stored under `key`.
    pub fn fact(&self, key: FactKey) -> RawFact<'_> {
        match self.facts.get(key.as_str()) {
            None => RawFact::NotCollected,
            Some(SourceFact {
                endpoint,
                data: Some(data),
                ..
            }) => RawFact::Data { endpoint, data },
            Some(SourceFact {
                endpoint,
                error: Some(error),
                ..
            }) => RawFact::Error { endpoint, error },
            // validate() rules this out for parsed snapshots; treat a hand-built one as absent.
            Some(_) => RawFact::NotCollected,
        }
    }

    /// Serialises with a stable key order and a trailing newline.
    pub fn to_json_pretty(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("snapshot serialises");
        text.push('\n');
        text
    }
}

fn describe_json_error(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match e.classify() {
        Category::Eof => format!(
            "the JSON ends early at line {} column {} (truncated file?)",
            e.line(),
            e.column()
        ),
        _ => first_line(&e.to_string()),
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimal() -> String {
        r#"{"schema_version":1,"tool_version":"0.1.0","collected_at":"2026-11-27T05:00:00Z",
            "tenant_id":"11111111-2222-3333-4444-555555555555","cloud":"public","facts":{}}"#
            .to_string()
    }

    #[test]
    fn minimal_snapshot_parses() {
        let s = Snapshot::parse(&minimal(), "x.json").unwrap();
        assert!(matches!(
            s.fact(FactKey::GraphOrganization),
            RawFact::NotCollected
        ));
    }

    #[test]
    fn truncated_snapshot_names_file_and_says_truncated() {
        let text = minimal();
        let err = Snapshot::parse(&text[..40], "cut.json")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("cut.json: "), "{err}");
        assert!(err.contains("truncated"), "{err}");
        assert!(!err.contains('\n'));
    }

    #[test]
    fn future_schema_version_is_refused_with_version_message() {
        let text = minimal().replace("\"schema_version\":1", "\"schema_version\":7");
        let err = Snapshot::parse(&text, "new.json").unwrap_err().to_string();
        assert!(err.contains("schema_version 7 is not supported"), "{err}");
    }

    #[test]
    fn missing_field_is_named() {
        let text = minimal().replace("\"cloud\":\"public\",", "");
        let err = Snapshot::parse(&text, "m.json").unwrap_err().to_string();
        assert!(err.contains("cloud"), "{err}");
    }

    #[test]
    fn error_codes_read_and_write_the_same_text() {
        for (text, code) in [
            ("NotSupportedInCloud", ErrorCode::NotSupportedInCloud),
            ("NotRequested", ErrorCode::NotRequested),
            ("NotCollected", ErrorCode::NotCollected),
            ("DependencyUnavailable", ErrorCode::DependencyUnavailable),
            (
                "Authorization_RequestDenied",
                ErrorCode::Service("Authorization_RequestDenied".into()),
            ),
        ] {
            let json = format!("{{\"code\":\"{text}\",\"message\":\"m\"}}");
            let error: SourceError = serde_json::from_str(&json).unwrap();
            assert_eq!(error.code.as_ref(), Some(&code), "{text}");
            assert_eq!(serde_json::to_string(&error).unwrap(), json);
        }
    }

    #[test]
    fn an_unknown_error_code_loads_as_the_services_own() {
        let text = minimal().replace(
            "\"facts\":{}",
            r#""facts":{"graph.organization":{"endpoint":"GET /x","error":{"code":"SomethingNew","message":"m"}}}"#,
        );
        let s = Snapshot::parse(&text, "n.json").unwrap();
        let RawFact::Error { error, .. } = s.fact(FactKey::GraphOrganization) else {
            panic!("an error fact");
        };
        assert_eq!(error.code, Some(ErrorCode::Service("SomethingNew".into())));
    }

    #[test]
    fn fact_with_data_and_error_is_rejected() {
        let text = minimal().replace(
            "\"facts\":{}",
            r#""facts":{"graph.organization":{"endpoint":"GET /x","data":{},"error":{"message":"m"}}}"#,
        );
        let err = Snapshot::parse(&text, "b.json").unwrap_err().to_string();
        assert!(err.contains("both"), "{err}");
    }
}
