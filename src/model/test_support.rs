//! Snapshot builders shared by the normalizers' unit tests.

use serde_json::{Value, json};

use crate::snapshot::{SCHEMA_VERSION, Snapshot, SourceError, SourceFact};

/// A snapshot of the test tenant holding exactly `facts`.
pub(crate) fn snapshot(facts: Vec<(&str, SourceFact)>) -> Snapshot {
    Snapshot {
        schema_version: SCHEMA_VERSION,
        tool_version: "test".into(),
        collected_at: "2026-11-27T05:00:00Z".into(),
        tenant_id: "11111111-2222-3333-4444-555555555555".into(),
        tenant_name: None,
        cloud: "public".into(),
        agents: None,
        sign_in: None,
        facts: facts.into_iter().map(|(k, f)| (k.to_string(), f)).collect(),
    }
}

/// The same, with the facts written as snapshot JSON (`{"key": {"endpoint", "data"|"error"}}`),
/// read through the snapshot parser.
pub(crate) fn snapshot_from_json(facts: Value) -> Snapshot {
    let text = json!({"schema_version": SCHEMA_VERSION, "tool_version": "t",
        "collected_at": "2026-11-27T05:00:00Z",
        "tenant_id": "11111111-2222-3333-4444-555555555555", "cloud": "public", "facts": facts});
    Snapshot::parse(&text.to_string(), "test.json").expect("a valid test snapshot")
}

/// A fact read successfully.
pub(crate) fn data(value: Value) -> SourceFact {
    SourceFact {
        endpoint: "GET /test".into(),
        data: Some(value),
        error: None,
    }
}

/// A fact whose read failed with this status and service error.
pub(crate) fn error(status: u16, code: &str, message: &str) -> SourceFact {
    SourceFact {
        endpoint: "GET /test".into(),
        data: None,
        error: Some(SourceError {
            status: Some(status),
            code: Some(code.into()),
            message: message.into(),
        }),
    }
}
