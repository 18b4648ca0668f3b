//! Reading raw API JSON the way the collectors and every normalizer need to: properties looked
//! up without regard to casing (Teams API PascalCase vs Graph camelCase), collections that
//! arrive as an OData `value` array, a bare array or a single object, and loosely typed
//! scalars. It sits below `sources` and `model`, which both read API JSON.

use serde_json::{Map, Value};

/// Why a response does not have the shape a reader expects: one line, which a malformed
/// fact's reason shows after its key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShapeError {
    #[error("`{key}` is {found} instead of an array")]
    NotAnArray { key: String, found: &'static str },
    #[error("empty object instead of a collection")]
    EmptyObject,
    /// Only envelope keys (`@odata.context`, `nextLink`), listed.
    #[error("a collection without `value` (only {keys})")]
    NoValue { keys: String },
    #[error("{0} instead of a collection")]
    NotACollection(&'static str),
    #[error("{0} instead of an object keyed by id")]
    NotKeyed(&'static str),
    #[error("item {index} is {found} instead of an object")]
    NotARecord { index: usize, found: &'static str },
    /// A record without a property every record of its kind carries; the keys it did have
    /// (names only) let a user report the new shape.
    #[error("a record has no `{name}` (keys: {keys})")]
    Missing { name: String, keys: String },
}

/// The normalizers describe the shapes they understand in their own words; a reader's error
/// joins them as the same one line.
impl From<ShapeError> for String {
    fn from(e: ShapeError) -> String {
        e.to_string()
    }
}

/// Property `name` of `obj`, matched case-insensitively (`EnableAcsUsers` == `enableAcsUsers`).
pub fn prop<'a>(obj: &'a Value, name: &str) -> Option<&'a Value> {
    let map = obj.as_object()?;
    map.get(name).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// First present, non-null property among `names`.
pub fn prop_any<'a>(obj: &'a Value, names: &[&str]) -> Option<&'a Value> {
    names
        .iter()
        .filter_map(|n| prop(obj, n))
        .find(|v| !v.is_null())
}

/// String property (numbers and booleans are rendered as text); `None` when absent, null or empty.
pub fn str_prop(obj: &Value, names: &[&str]) -> Option<String> {
    match prop_any(obj, names)? {
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Boolean property; accepts `true`, `"True"`, `"false"`, `1`/`0`.
pub fn bool_prop(obj: &Value, names: &[&str]) -> Option<bool> {
    match prop_any(obj, names)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" => Some(false),
            _ => None,
        },
        Value::Number(n) => n.as_i64().map(|n| n != 0),
        _ => None,
    }
}

/// Integer property; accepts numbers and numeric strings.
pub fn int_prop(obj: &Value, names: &[&str]) -> Option<i64> {
    match prop_any(obj, names)? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A list of strings from an array (of strings, or of objects with one of `item_keys`), a single
/// string, a comma/space separated string, or a PowerShell-style `{'a','b'}` rendering.
pub fn string_list(v: Option<&Value>, item_keys: &[&str]) -> Vec<String> {
    match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| match i {
                Value::String(s) => Some(s.trim().to_string()),
                Value::Object(_) => str_prop(i, item_keys),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .filter(|s| !s.is_empty())
            .collect(),
        Some(Value::String(s)) => s
            .trim()
            .trim_start_matches('{')
            .trim_end_matches('}')
            .split([',', ' ', ';'])
            .map(|p| p.trim().trim_matches(|c| c == '\'' || c == '"').to_string())
            .filter(|p| !p.is_empty())
            .collect(),
        Some(obj @ Value::Object(_)) => str_prop(obj, item_keys).into_iter().collect(),
        Some(_) => Vec::new(),
    }
}

/// The items of a collection response: OData `{"value": [...]}`, a bare array, an object with
/// one of `wrappers` holding the array (`applicationInstances`, `TelephoneNumbers`), or a
/// single object (a Teams config instance returned as an object).
pub fn items<'a>(data: &'a Value, wrappers: &[&str]) -> Result<Vec<&'a Value>, ShapeError> {
    match data {
        Value::Array(a) => Ok(a.iter().collect()),
        Value::Object(map) => {
            for key in std::iter::once(&"value").chain(wrappers.iter()) {
                if let Some(v) = prop(data, key) {
                    return match v {
                        Value::Array(a) => Ok(a.iter().collect()),
                        Value::Null => Ok(Vec::new()),
                        other => Err(ShapeError::NotAnArray {
                            key: key.to_string(),
                            found: kind(other),
                        }),
                    };
                }
            }
            if map.is_empty() {
                Err(ShapeError::EmptyObject)
            } else if map.keys().all(|k| envelope_key(k)) {
                // `{"@odata.context": …}` or `{"nextLink": null}`: a collection response whose
                // `value` is missing, not a record.
                Err(ShapeError::NoValue {
                    keys: map.keys().cloned().collect::<Vec<_>>().join(", "),
                })
            } else {
                Ok(vec![data])
            }
        }
        other => Err(ShapeError::NotACollection(kind(other))),
    }
}

/// Keys of a collection response's envelope rather than of a record: OData annotations
/// (`@odata.context`, `@odata.nextLink`, `@Microsoft.Dynamics.CRM.…`) and ARM paging (`nextLink`,
/// `count`).
fn envelope_key(key: &str) -> bool {
    key.starts_with('@')
        || key.to_ascii_lowercase().starts_with("odata.")
        || ["nextLink", "count"]
            .iter()
            .any(|k| key.eq_ignore_ascii_case(k))
}

/// For per-user facts stored as `{ "<user id>": <response> }`.
pub fn keyed(data: &Value) -> Result<&Map<String, Value>, ShapeError> {
    data.as_object()
        .ok_or_else(|| ShapeError::NotKeyed(kind(data)))
}

pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `PascalCase` or `camelCase` enum text in camelCase (`VoiceApplicationAssignment` →
/// `voiceApplicationAssignment`), the spelling Graph uses.
pub fn camel(s: &str) -> String {
    let s = s.trim();
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// The items of a collection (as [`items`]) where every item must be an object: a record of
/// the wrong type means the response is not what the normalizer understands, so it is named.
pub fn records<'a>(data: &'a Value, wrappers: &[&str]) -> Result<Vec<&'a Value>, ShapeError> {
    let all = items(data, wrappers)?;
    if let Some((index, bad)) = all.iter().enumerate().find(|(_, v)| !v.is_object()) {
        return Err(ShapeError::NotARecord {
            index,
            found: kind(bad),
        });
    }
    Ok(all)
}

/// A string property that every record of its kind carries (an id, a name); its absence means
/// the shape is not the one expected, which the caller reports as malformed.
pub fn required_str(obj: &Value, names: &[&str]) -> Result<String, ShapeError> {
    str_prop(obj, names).ok_or_else(|| {
        let keys: Vec<&str> = obj
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k.as_str())
            .collect();
        ShapeError::Missing {
            name: names.first().copied().unwrap_or("?").to_string(),
            keys: keys.join(", "),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn properties_match_any_casing() {
        let v = json!({"EnableAcsUsers": true});
        assert_eq!(bool_prop(&v, &["enableAcsUsers"]), Some(true));
        assert_eq!(bool_prop(&json!({"x": "True"}), &["X"]), Some(true));
    }

    #[test]
    fn collection_shapes_all_yield_items() {
        assert_eq!(items(&json!({"value": [1, 2]}), &[]).unwrap().len(), 2);
        assert_eq!(items(&json!([1]), &[]).unwrap().len(), 1);
        assert_eq!(items(&json!({"Identity": "Global"}), &[]).unwrap().len(), 1);
        assert_eq!(
            items(
                &json!({"applicationInstances": [{}, {}], "skipToken": null}),
                &["applicationInstances"]
            )
            .unwrap()
            .len(),
            2
        );
        assert!(items(&json!("x"), &[]).is_err());
        // A collection response that lost its `value` is not a record.
        for envelope in [
            json!({"@odata.context": "https://contoso.crm.dynamics.com/api/data/v9.2/$metadata#x"}),
            json!({"@odata.context": "x", "@odata.nextLink": "y"}),
            json!({"nextLink": null, "count": {"type": "Total", "value": 1}}),
        ] {
            let e = items(&envelope, &[]).unwrap_err().to_string();
            assert!(e.contains("without `value`"), "{e}");
        }
        assert_eq!(
            items(&json!({"@odata.etag": "W/1", "Identity": "Global"}), &[])
                .unwrap()
                .len(),
            1
        );
        assert!(items(&json!({"value": 3}), &[]).is_err());
    }

    #[test]
    fn string_lists_accept_powershell_rendering() {
        let v = json!("{'faced04c-2ced-433d-90db-063e424b87b1'}");
        assert_eq!(
            string_list(Some(&v), &[]),
            vec!["faced04c-2ced-433d-90db-063e424b87b1"]
        );
        let v = json!([{"Domain": "contoso.com"}, "fabrikam.com"]);
        assert_eq!(
            string_list(Some(&v), &["Domain"]),
            vec!["contoso.com", "fabrikam.com"]
        );
    }

    #[test]
    fn records_must_be_objects_and_required_strings_present() {
        assert_eq!(
            records(&json!({"value": [{"id": "a"}]}), &[])
                .unwrap()
                .len(),
            1
        );
        assert!(
            records(&json!({"value": [{"id": "a"}, 3]}), &[])
                .unwrap_err()
                .to_string()
                .contains("item 1")
        );
        assert_eq!(required_str(&json!({"Id": "x"}), &["id"]).unwrap(), "x");
        assert!(
            required_str(&json!({"id": ""}), &["id"])
                .unwrap_err()
                .to_string()
                .contains("`id`")
        );
    }

    #[test]
    fn enum_text_becomes_camel_case() {
        assert_eq!(
            camel("VoiceApplicationAssignment"),
            "voiceApplicationAssignment"
        );
        assert_eq!(camel("activated"), "activated");
    }
}
