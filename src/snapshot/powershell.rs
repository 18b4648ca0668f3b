//! Reads what the collection script (`ccaudit collect --script`) wrote, in either PowerShell's
//! JSON dialect, as a snapshot.
//!
//! Windows PowerShell 5.1 writes UTF-16LE or UTF-8 with a byte-order mark, dates as
//! `\/Date(ms)\/`, enums as numbers, arrays with extra type data as `{"value": [...], "Count":
//! n}`, and past `-Depth` it writes an object's type name (`System.Collections.Generic.List…`)
//! or its `@{…}` rendering instead of the object, without saying so. PowerShell 7 writes UTF-8
//! without a mark and ISO 8601 dates. The cmdlet sections already have the shapes the
//! normalizers read (PascalCase records, bare arrays): what this module does is undo the dialect
//! and turn each section into a fact, or into the error that explains why it is not one.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{AgentSelection, SCHEMA_VERSION, Snapshot, SourceError, SourceFact};

/// The top-level field that marks a collection-script file.
pub const MARKER: &str = "ccaudit_collection";

/// `SourceError.code` of a section whose data cannot be trusted as written (cut off at the
/// JSON depth, an enum written as a number): the model reports it as malformed.
pub const MALFORMED_OUTPUT: &str = "MalformedScriptOutput";

/// The collection-file format this build reads.
const FORMAT: u64 = 1;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Collection {
    ccaudit_collection: Producer,
    collected_at: String,
    tenant_id: String,
    #[serde(default)]
    tenant_name: Option<String>,
    cloud: String,
    #[serde(default)]
    agents: Option<AgentSelection>,
    sections: BTreeMap<String, Section>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Producer {
    script_version: String,
    // Checked before the rest is read, so another format gets its own message.
    #[serde(rename = "format")]
    _format: serde::de::IgnoredAny,
    #[serde(default)]
    powershell: Option<String>,
    #[serde(default)]
    edition: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Section {
    command: String,
    #[serde(default, deserialize_with = "present")]
    data: Option<Value>,
    #[serde(default)]
    error: Option<ScriptError>,
}

#[derive(Debug, Deserialize)]
struct ScriptError {
    #[serde(default)]
    status: Option<Value>,
    #[serde(default)]
    code: Option<Value>,
    #[serde(default)]
    message: Option<Value>,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// Bytes of a snapshot or collection file as text: UTF-8 (a leading byte-order mark dropped),
/// or UTF-16 as Windows PowerShell 5.1 writes it (`Out-File`'s default). `Err` says why not.
pub fn decode(bytes: Vec<u8>) -> Result<String, String> {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return utf8(rest.to_vec(), 3);
    }
    let utf16 = match bytes.as_slice() {
        [0xFF, 0xFE, rest @ ..] => Some((rest, true)),
        [0xFE, 0xFF, rest @ ..] => Some((rest, false)),
        // `{` or whitespace then a zero byte: UTF-16LE written without a mark.
        [first, 0, ..] if first.is_ascii() && *first != 0 => Some((bytes.as_slice(), true)),
        _ => None,
    };
    match utf16 {
        Some((rest, little)) => utf16_text(rest, little),
        None => utf8(bytes, 0),
    }
}

fn utf8(bytes: Vec<u8>, skipped: usize) -> Result<String, String> {
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to() + skipped
        )
    })
}

fn utf16_text(bytes: &[u8], little: bool) -> Result<String, String> {
    if !bytes.len().is_multiple_of(2) {
        return Err("not UTF-16 text (an odd number of bytes: a truncated file?)".into());
    }
    let units = bytes.chunks_exact(2).map(|p| {
        if little {
            u16::from_le_bytes([p[0], p[1]])
        } else {
            u16::from_be_bytes([p[0], p[1]])
        }
    });
    let mut text = String::with_capacity(bytes.len() / 2);
    for (i, c) in char::decode_utf16(units).enumerate() {
        match c {
            Ok(c) => text.push(c),
            Err(_) => {
                return Err(format!(
                    "not UTF-16 text (unpaired surrogate at offset {})",
                    i * 2
                ));
            }
        }
    }
    Ok(text
        .strip_prefix('\u{FEFF}')
        .map(str::to_string)
        .unwrap_or(text))
}

/// Turns a collection file (already parsed as JSON, [`MARKER`] present) into a snapshot. `Err`
/// is one line saying what is wrong with the file.
pub fn into_snapshot(value: Value) -> Result<Snapshot, String> {
    let format = value
        .get(MARKER)
        .and_then(|p| p.get("format"))
        .and_then(Value::as_u64);
    if format != Some(FORMAT) {
        return Err(format!(
            "a collection-script file of format {} (this ccaudit reads format {FORMAT}); write the script again with this ccaudit (`ccaudit collect --script`)",
            format.map_or_else(|| "?".to_string(), |f| f.to_string())
        ));
    }
    let collection: Collection = serde_json::from_value(unwrap_arrays(value)).map_err(|e| {
        format!(
            "a collection-script file with {}",
            first_line(&e.to_string())
        )
    })?;
    let producer = &collection.ccaudit_collection;
    let shell = match (&producer.edition, &producer.powershell) {
        (Some(e), Some(v)) => format!(", PowerShell {v} {e}"),
        (None, Some(v)) => format!(", PowerShell {v}"),
        _ => String::new(),
    };
    let facts = collection
        .sections
        .into_iter()
        .map(|(key, section)| {
            let fact = section_fact(&key, section);
            (key, fact)
        })
        .collect();
    let agents = collection.agents.filter(|a| !a.users.is_empty());
    Ok(Snapshot {
        schema_version: SCHEMA_VERSION,
        tool_version: format!(
            "collection script {}{shell}",
            producer.script_version.trim()
        ),
        collected_at: collection.collected_at,
        tenant_id: collection.tenant_id,
        tenant_name: collection.tenant_name,
        cloud: collection.cloud,
        agents,
        facts,
        sign_in: None,
    })
}

fn section_fact(key: &str, section: Section) -> SourceFact {
    let endpoint = format!("{} (collection script)", section.command.trim());
    let failed = |error: SourceError| SourceFact {
        endpoint: endpoint.clone(),
        data: None,
        error: Some(error),
    };
    match (section.data, section.error) {
        (_, Some(error)) => failed(script_error(error)),
        (Some(mut data), None) => match check_data(key, &mut data) {
            Ok(()) => SourceFact {
                endpoint,
                data: Some(data),
                error: None,
            },
            Err(message) => failed(SourceError {
                status: None,
                code: Some(MALFORMED_OUTPUT.into()),
                message,
            }),
        },
        (None, None) => failed(SourceError {
            status: None,
            code: Some(MALFORMED_OUTPUT.into()),
            message:
                "the section has neither `data` nor `error` (the script stopped while writing it?)"
                    .into(),
        }),
    }
}

/// The script records what PowerShell said; only an HTTP status in range is kept as a status.
fn script_error(error: ScriptError) -> SourceError {
    let text = |v: Option<Value>| match v {
        Some(Value::String(s)) => Some(s),
        Some(Value::Null) | None => None,
        Some(other) => Some(other.to_string()),
    };
    let status = error
        .status
        .as_ref()
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
        .filter(|s| (100..600).contains(s));
    let message = text(error.message).unwrap_or_default();
    SourceError {
        status,
        code: text(error.code)
            .filter(|c| !c.trim().is_empty())
            .map(Into::into),
        message: first_line(message.trim()),
    }
}

/// Undoes the dialect in place (dates), or says why the section cannot be read as data.
fn check_data(key: &str, data: &mut Value) -> Result<(), String> {
    let enums = enum_fields(key);
    walk(data, &mut String::new(), &|path, field, v| {
        if let Value::String(s) = v {
            if let Some(iso) = ms_date(s) {
                *s = iso;
            } else if cut_off(s) {
                return Err(format!(
                    "{path} is `{}` where PowerShell's ConvertTo-Json stopped at its -Depth: the object was not written; run the script again with a larger -Depth",
                    s.chars().take(80).collect::<String>()
                ));
            }
        } else if let Value::Number(n) = v
            && field.is_some_and(|f| enums.iter().any(|e| e.eq_ignore_ascii_case(f)))
        {
            return Err(format!(
                "{path} is the number {n}, not a name: Windows PowerShell 5.1 writes enums as numbers, and ccaudit does not guess which name a number stands for; run the collection script from this ccaudit, which writes the names"
            ));
        }
        Ok(())
    })
}

type Visit<'a> = dyn Fn(&str, Option<&str>, &mut Value) -> Result<(), String> + 'a;

fn walk(v: &mut Value, path: &mut String, visit: &Visit<'_>) -> Result<(), String> {
    walk_inner(v, path, None, visit)
}

fn walk_inner(
    v: &mut Value,
    path: &mut String,
    field: Option<&str>,
    visit: &Visit<'_>,
) -> Result<(), String> {
    let len = path.len();
    match v {
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                path.push('.');
                path.push_str(k);
                walk_inner(child, path, Some(k), visit)?;
                path.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter_mut().enumerate() {
                path.push_str(&format!("[{i}]"));
                // An array's items are the field's values (`Capability: [1, 2]`).
                walk_inner(child, path, field, visit)?;
                path.truncate(len);
            }
        }
        other => {
            let shown = if path.is_empty() { "the data" } else { path };
            visit(shown, field, other)?;
        }
    }
    Ok(())
}

/// Fields of cmdlet output that the model reads as enum names, per section.
fn enum_fields(key: &str) -> &'static [&'static str] {
    match key {
        "teams.telephoneNumbers" => &[
            "NumberType",
            "ActivationState",
            "PstnAssignmentStatus",
            "AssignmentCategory",
            "Capability",
            "NumberSource",
        ],
        "teams.applicationInstanceAssociations" => &["ConfigurationType"],
        "teams.onlineUsers" => &["AccountType", "FeatureTypes", "TeamsUpgradeEffectiveMode"],
        "teams.ExternalAccessPolicy" => &["CommunicationWithExternalOrgs"],
        "teams.TenantFederationSettings" => &["ExternalAccessWithTrialTenants"],
        "compliance.InformationBarrierPolicy" => &["State"],
        "compliance.PolicyConfig" => &["InformationBarrierMode"],
        _ => &[],
    }
}

/// `/Date(1748779200000)/` (with an optional `+hhmm` offset, which does not change the
/// instant) as RFC 3339 UTC.
fn ms_date(s: &str) -> Option<String> {
    let inner = s.strip_prefix("/Date(")?.strip_suffix(")/")?;
    let digits_end = inner
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && c == '-')))
        .map_or(inner.len(), |(i, _)| i);
    let (ms, offset) = inner.split_at(digits_end);
    let offset_ok = offset.is_empty()
        || (offset.len() == 5
            && matches!(offset.as_bytes()[0], b'+' | b'-')
            && offset[1..].bytes().all(|b| b.is_ascii_digit()));
    if !offset_ok {
        return None;
    }
    let ms: i64 = ms.parse().ok()?;
    rfc3339(ms)
}

fn rfc3339(ms: i64) -> Option<String> {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()?;
    let (date, millis) = (t.date(), t.millisecond());
    let (y, mo, d) = (date.year(), u8::from(date.month()), date.day());
    let (hh, mm, ss) = (t.hour(), t.minute(), t.second());
    Some(if millis == 0 {
        format!("{y:04}-{mo:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z")
    } else {
        format!("{y:04}-{mo:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{millis:03}Z")
    })
}

/// What ConvertTo-Json writes for an object past its -Depth: the .NET type name
/// (`System.Collections.Generic.List\`1[System.String]`, `System.Object[]`,
/// `Microsoft.Rtc.Management.WritableConfig.Policy.Edge.AllowList`) or a PSObject's `@{a=1; b=2}`.
fn cut_off(s: &str) -> bool {
    let s = s.trim();
    if s.starts_with("@{") && s.ends_with('}') && s.contains('=') {
        return true;
    }
    let Some(rest) = s
        .strip_prefix("System.")
        .or_else(|| s.strip_prefix("Microsoft."))
    else {
        return false;
    };
    let type_chars = rest
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '`' | '[' | ']' | ',' | '+' | '_'));
    let segments: Vec<&str> = rest.split(['.', '`', '[']).collect();
    let type_like = segments
        .first()
        .is_some_and(|f| f.chars().next().is_some_and(|c| c.is_ascii_uppercase()));
    type_chars && type_like && (rest.contains('`') || rest.ends_with("[]") || segments.len() >= 2)
}

/// Windows PowerShell 5.1 writes an array that carries extended type data as
/// `{"value": [...], "Count": n}`: the array it stands for. Graph's own `{"value": [...]}`
/// has no `Count` and is kept.
fn unwrap_arrays(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            let wrapped = map.len() == 2
                && map.get("value").is_some_and(Value::is_array)
                && map.get("Count").is_some_and(Value::is_u64);
            if wrapped {
                if let Some(inner) = map.into_iter().find(|(k, _)| k == "value").map(|(_, v)| v) {
                    return unwrap_arrays(inner);
                }
                return Value::Null;
            }
            Value::Object(
                map.into_iter()
                    .map(|(k, v)| (k, unwrap_arrays(v)))
                    .collect::<Map<String, Value>>(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(unwrap_arrays).collect()),
        other => other,
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::ErrorCode;
    use serde_json::json;

    fn collection(sections: Value) -> Value {
        json!({
            "ccaudit_collection": {"script_version": "0.1.0", "format": 1, "powershell": "5.1.19041.4894", "edition": "Desktop"},
            "collected_at": "2026-11-27T05:00:00Z",
            "tenant_id": "11111111-2222-3333-4444-555555555555",
            "cloud": "public",
            "sections": sections,
        })
    }

    fn fact(sections: Value, key: &str) -> SourceFact {
        let snapshot = into_snapshot(collection(sections)).expect("a valid collection");
        snapshot.facts.get(key).cloned().expect("the section")
    }

    #[test]
    fn utf16_with_and_without_a_mark_and_utf8_with_a_mark_decode() {
        let text = "{\"a\":\"é\"}";
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(decode([&[0xFF, 0xFE][..], &le].concat()).unwrap(), text);
        assert_eq!(decode([&[0xFE, 0xFF][..], &be].concat()).unwrap(), text);
        assert_eq!(decode(le).unwrap(), text);
        let bom8 = [&[0xEF, 0xBB, 0xBF][..], text.as_bytes()].concat();
        assert_eq!(decode(bom8).unwrap(), text);
        assert_eq!(decode(text.as_bytes().to_vec()).unwrap(), text);
    }

    #[test]
    fn broken_encodings_are_named() {
        let err = decode(vec![b'{', 0xFF, b'}']).unwrap_err();
        assert_eq!(err, "not UTF-8 text (invalid byte at offset 1)");
        let err = decode(vec![0xFF, 0xFE, b'{', 0, 0x00, 0xD8, b'}', 0]).unwrap_err();
        assert!(err.contains("unpaired surrogate"), "{err}");
        let err = decode(vec![0xFF, 0xFE, b'{']).unwrap_err();
        assert!(err.contains("odd number"), "{err}");
    }

    #[test]
    fn ms_dates_become_rfc3339_utc() {
        assert_eq!(
            ms_date("/Date(1748779200000)/").as_deref(),
            Some("2025-06-01T12:00:00Z")
        );
        assert_eq!(
            ms_date("/Date(1748779200123+0200)/").as_deref(),
            Some("2025-06-01T12:00:00.123Z")
        );
        assert_eq!(
            ms_date("/Date(-86400000)/").as_deref(),
            Some("1969-12-31T00:00:00Z")
        );
        assert_eq!(ms_date("/Date(abc)/"), None);
        assert_eq!(ms_date("2025-06-01"), None);
    }

    #[test]
    fn a_date_inside_a_section_is_rewritten() {
        let f = fact(
            json!({"teams.telephoneNumbers": {"command": "Get-CsPhoneNumberAssignment",
                "data": [{"TelephoneNumber": "+14255550100", "AcquisitionDate": "/Date(1748779200000)/"}]}}),
            "teams.telephoneNumbers",
        );
        assert_eq!(
            f.data.unwrap()[0]["AcquisitionDate"],
            json!("2025-06-01T12:00:00Z")
        );
        assert_eq!(
            f.endpoint,
            "Get-CsPhoneNumberAssignment (collection script)"
        );
    }

    #[test]
    fn a_type_name_where_an_object_was_is_malformed_never_data() {
        for cut in [
            "System.Collections.Generic.List`1[System.String]",
            "System.Object[]",
            "Microsoft.Rtc.Management.WritableConfig.Policy.Edge.AllowList",
            "@{Domain=fabrikam.com; Comment=}",
        ] {
            let f = fact(
                json!({"teams.TenantFederationSettings": {"command": "Get-CsTenantFederationConfiguration",
                    "data": [{"Identity": "Global", "AllowedDomains": cut}]}}),
                "teams.TenantFederationSettings",
            );
            let error = f.error.expect("an error, not data");
            assert_eq!(
                error.code.as_ref().map(ErrorCode::as_str),
                Some(MALFORMED_OUTPUT)
            );
            assert!(
                error.message.contains("[0].AllowedDomains"),
                "{}",
                error.message
            );
            assert!(error.message.contains("-Depth"), "{}", error.message);
        }
    }

    #[test]
    fn ordinary_text_is_not_taken_for_a_type_name() {
        for text in [
            "Microsoft.Communication/communicationServices",
            "System administrator",
            "Microsoft",
            "#Microsoft.Dynamics.CRM.msdyn_ocphonenumber",
        ] {
            assert!(!cut_off(text), "{text}");
        }
    }

    #[test]
    fn an_enum_written_as_a_number_is_malformed_naming_the_field() {
        let f = fact(
            json!({"teams.applicationInstanceAssociations": {"command": "Get-CsOnlineApplicationInstanceAssociation",
                "data": {"748a7c7c-a489-4de4-8a68-4415f1d19a9c": [{"Id": "x", "ConfigurationId": "y", "ConfigurationType": 1}]}}}),
            "teams.applicationInstanceAssociations",
        );
        let message = f.error.unwrap().message;
        assert!(message.contains("ConfigurationType"), "{message}");
        assert!(message.contains("the number 1"), "{message}");
        // A number in a field that is not an enum (CallPriority) is data.
        let f = fact(
            json!({"teams.applicationInstanceAssociations": {"command": "c",
                "data": {"748a7c7c-a489-4de4-8a68-4415f1d19a9c": [{"ConfigurationType": "CallQueue", "CallPriority": 3}]}}}),
            "teams.applicationInstanceAssociations",
        );
        assert!(f.data.is_some());
    }

    #[test]
    fn windows_powershell_array_wrappers_are_unwrapped() {
        let f = fact(
            json!({"teams.TeamsAcsFederationConfiguration": {"command": "c",
                "data": {"value": [{"Identity": "Global", "AllowedAcsResources": {"value": ["a"], "Count": 1}}], "Count": 1}}}),
            "teams.TeamsAcsFederationConfiguration",
        );
        assert_eq!(
            f.data.unwrap(),
            json!([{"Identity": "Global", "AllowedAcsResources": ["a"]}])
        );
    }

    #[test]
    fn a_failed_section_keeps_the_status_code_and_first_line() {
        let f = fact(
            json!({"graph.subscribedSkus": {"command": "Invoke-MgGraphRequest -Method GET /v1.0/subscribedSkus",
                "error": {"status": 403, "code": "Forbidden", "message": "Insufficient privileges.\nat line 4"}}}),
            "graph.subscribedSkus",
        );
        let error = f.error.unwrap();
        assert_eq!(error.status, Some(403));
        assert_eq!(
            error.code.as_ref().map(ErrorCode::as_str),
            Some("Forbidden")
        );
        assert_eq!(error.message, "Insufficient privileges.");
    }

    #[test]
    fn another_format_is_refused_with_what_to_do() {
        let mut v = collection(json!({}));
        v[MARKER]["format"] = json!(2);
        let err = into_snapshot(v).unwrap_err();
        assert!(err.contains("format 2"), "{err}");
        assert!(err.contains("collect --script"), "{err}");
    }

    #[test]
    fn an_unknown_top_level_field_is_refused() {
        let mut v = collection(json!({}));
        v["tenant-id"] = json!("x");
        let err = into_snapshot(v).unwrap_err();
        assert!(err.contains("tenant-id"), "{err}");
    }
}
