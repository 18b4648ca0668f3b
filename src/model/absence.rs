//! Fields a source did not send, noted while the normalizers read a snapshot.
//!
//! Absent is not a value: a normalizer leaves an absent field out of the model (it is omitted
//! from the model JSON, so a check that reads it fails its lookup and is unknown for that subject
//! only), and notes it here. The engine uses the notes to name the field, the record and the
//! source in the unknown result; the reports list them as data quality, with the keys the record
//! did have, so a user can report a new API shape.
//!
//! Notes are collected per thread while `TenantModel::from_snapshot` runs, and per source while
//! `fact::from_raw` parses it: a source whose parse fails (malformed) or that is replaced by a
//! fallback contributes nothing, because none of its records reach the model.

use crate::fact_key::FactKey;
use std::cell::RefCell;

use serde::Serialize;
use serde_json::Value;

/// One field of one record that the source did not send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Absence {
    /// Snapshot key of the source (`teams.ExternalAccessPolicy`).
    pub source: String,
    /// The record, as a user knows it (a UPN, a policy identity, a number).
    pub record: String,
    /// The property as the API spells it (`EnableAcsFederationAccess`).
    pub field: String,
    /// The model key a check reads (`enable_acs_federation_access`), or the record's key in a
    /// keyed map when the whole record is missing (a user's licenses).
    pub model_field: String,
    /// The keys the record did have (names only, never values).
    pub keys_seen: Vec<String>,
}

impl Absence {
    /// "the Teams API did not report EnableAcsFederationAccess for Tag:Foo".
    pub fn message(&self) -> String {
        format!(
            "{} did not report {} for {} ({})",
            service(&self.source),
            self.field,
            self.record,
            self.source
        )
    }
}

/// The service behind a snapshot key, as a user names it.
pub(crate) fn service(source: &str) -> &'static str {
    match source.split('.').next().unwrap_or("") {
        "graph" => "Microsoft Graph",
        "teams" => "the Teams admin API",
        "arm" => "Azure Resource Manager",
        "dataverse" => "Dataverse",
        "compliance" => "Security & Compliance",
        "powerplatform" => "the Power Platform admin API",
        _ => "the source",
    }
}

// Per thread rather than passed along: the notes are made deep inside dozens of field parsers
// (`raw::*` helpers included), and threading a collector through all of them would touch every
// parse signature for no behaviour gained.
thread_local! {
    /// Notes of the source being parsed (`None` outside `fact::from_raw`).
    static PARSING: RefCell<Option<Vec<Absence>>> = const { RefCell::new(None) };
    /// Notes of the sources that reached the model (`None` outside `from_snapshot`).
    static KEPT: RefCell<Option<Vec<Absence>>> = const { RefCell::new(None) };
}

/// Notes that `record` lacks `field` (read into `model_field`); `obj` is the raw record, whose
/// key names are kept. Outside a parse (a unit test calling a parser directly) it does nothing.
pub fn note(record: &str, field: &str, model_field: &str, obj: &Value) {
    let keys_seen = obj
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    PARSING.with(|p| {
        if let Some(list) = p.borrow_mut().as_mut() {
            list.push(Absence {
                source: String::new(),
                record: record.to_string(),
                field: field.to_string(),
                model_field: model_field.to_string(),
                keys_seen,
            });
        }
    });
}

/// Notes that `source` has no record at all for `record`, whose key in the model's map is
/// `model_field` (a user id): the user was not read, which is not "has nothing".
pub fn note_missing_record(source: FactKey, record: &str, what: &str, model_field: &str) {
    KEPT.with(|k| {
        if let Some(kept) = k.borrow_mut().as_mut() {
            kept.push(Absence {
                source: source.to_string(),
                record: record.to_string(),
                field: what.to_string(),
                model_field: model_field.to_string(),
                keys_seen: Vec::new(),
            });
        }
    });
}

/// Runs `parse` for source `key`; its notes are kept only if it succeeds.
pub fn parsing<T>(key: FactKey, parse: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    let outer = PARSING.with(|p| p.borrow_mut().replace(Vec::new()));
    let result = parse();
    let notes = PARSING
        .with(|p| std::mem::replace(&mut *p.borrow_mut(), outer))
        .unwrap_or_default();
    if result.is_ok() {
        KEPT.with(|k| {
            if let Some(kept) = k.borrow_mut().as_mut() {
                kept.extend(notes.into_iter().map(|mut a| {
                    a.source = key.to_string();
                    a
                }));
            }
        });
    }
    result
}

/// Drops the notes that `record` lacks `model_field` once another source supplied it (Teams
/// users merged from Graph and Get-CsOnlineUser): only what stays absent is worth reporting.
pub fn supplied(records: &[&str], model_field: &str) {
    KEPT.with(|k| {
        if let Some(kept) = k.borrow_mut().as_mut() {
            kept.retain(|a| {
                a.model_field != model_field
                    || !records.iter().any(|r| a.record.eq_ignore_ascii_case(r))
            });
        }
    });
}

/// Drops the notes of source `key` (its fact was not used, e.g. a fallback was preferred).
pub fn discard(key: FactKey) {
    KEPT.with(|k| {
        if let Some(kept) = k.borrow_mut().as_mut() {
            kept.retain(|a| a.source != key.as_str());
        }
    });
}

/// The note, among those kept so far, that one of `records` lacks `model_field`: what a
/// derived fact reports when one of its inputs was not sent.
pub fn kept(model_field: &str, records: &[&str]) -> Option<Absence> {
    KEPT.with(|k| {
        k.borrow().as_ref().and_then(|kept| {
            kept.iter()
                .find(|a| {
                    a.model_field == model_field
                        && records.iter().any(|r| a.record.eq_ignore_ascii_case(r))
                })
                .cloned()
        })
    })
}

/// Collects the notes of everything `normalize` reads.
pub fn collecting<T>(normalize: impl FnOnce() -> T) -> (T, Vec<Absence>) {
    let outer = KEPT.with(|k| k.borrow_mut().replace(Vec::new()));
    let value = normalize();
    let mut notes = KEPT
        .with(|k| std::mem::replace(&mut *k.borrow_mut(), outer))
        .unwrap_or_default();
    notes.dedup();
    (value, notes)
}

/// The note that explains why a lookup of `model_field` failed for a subject: the one about
/// the subject's own record when there is one, else the only one, else a summary of several.
/// Returns the source's snapshot key and the message.
pub fn explain(
    absences: &[Absence],
    model_field: &str,
    subject: &[&str],
) -> Option<(String, String)> {
    let matching: Vec<&Absence> = absences
        .iter()
        .filter(|a| a.model_field == model_field)
        .collect();
    let own = matching.iter().find(|a| {
        subject
            .iter()
            .any(|s| !s.is_empty() && a.record.eq_ignore_ascii_case(s))
    });
    let message = match (own, matching.as_slice()) {
        (Some(a), _) => a.message(),
        (None, []) => return None,
        (None, [only]) => only.message(),
        (None, [first, rest @ ..]) => format!(
            "{} (and {} more records without {})",
            first.message(),
            rest.len(),
            first.field
        ),
    };
    let source = own.unwrap_or(&matching[0]).source.clone();
    Some((source, message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn notes_of_a_failed_parse_are_dropped_and_of_a_good_one_kept() {
        let ((), notes) = collecting(|| {
            let _ = parsing(
                FactKey::TeamsExternalAccessPolicy,
                || -> Result<(), String> {
                    note("x", "F", "f", &json!({"G": 1}));
                    Err("bad".into())
                },
            );
            let _ = parsing(
                FactKey::TeamsTenantFederationSettings,
                || -> Result<(), String> {
                    note("y", "F", "f", &json!({"G": 1, "H": 2}));
                    Ok(())
                },
            );
        });
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].source, "teams.TenantFederationSettings");
        assert_eq!(notes[0].keys_seen, vec!["G", "H"]);
        assert_eq!(
            notes[0].message(),
            "the Teams admin API did not report F for y (teams.TenantFederationSettings)"
        );
    }

    #[test]
    fn a_subjects_own_record_explains_its_lookup() {
        let a = |record: &str| Absence {
            source: "graph.users".into(),
            record: record.into(),
            field: "accountEnabled".into(),
            model_field: "account_enabled".into(),
            keys_seen: vec![],
        };
        let all = [a("one@contoso.com"), a("two@contoso.com")];
        let (_, own) = explain(&all, "account_enabled", &["id", "TWO@contoso.com"]).unwrap();
        assert!(own.contains("for two@contoso.com"), "{own}");
        let (_, other) = explain(&all, "account_enabled", &["three@contoso.com"]).unwrap();
        assert!(other.contains("and 1 more"), "{other}");
        assert_eq!(explain(&all, "other_field", &[]), None);
    }
}
