//! Splitting collections into pages, opaque skip tokens, and the small `$filter` subset.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use crate::http::{Ctx, Reply};
use crate::index::without_paging;

const TOKEN_PREFIX: &str = "fake-tenant-offset:";

/// An opaque, URL-safe token for an offset into a collection.
pub(crate) fn encode_token(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("{TOKEN_PREFIX}{offset}"))
}

/// The offset in a token from [`encode_token`]; `None` for anything else.
pub(crate) fn decode_token(token: &str) -> Option<usize> {
    let bytes = URL_SAFE_NO_PAD
        .decode(token.trim().trim_end_matches('='))
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.strip_prefix(TOKEN_PREFIX)?.parse().ok()
}

/// A stored collection (`{"value": [...]}`, or another `array_key`): the wrapper and its items;
/// `None` for anything else, which is served as stored.
pub(crate) fn listed<'a>(
    data: &'a Value,
    array_key: &str,
) -> Option<(&'a Map<String, Value>, &'a [Value])> {
    let obj = data.as_object()?;
    let items = obj.get(array_key)?.as_array()?;
    Some((obj, items))
}

/// Rows per page when the client may ask for fewer with `$top`.
pub(crate) fn top_or_page_size(ctx: &Ctx) -> usize {
    ctx.param("$top")
        .and_then(|t| t.trim().parse::<usize>().ok())
        .filter(|&t| t > 0)
        .unwrap_or(usize::MAX)
        .min(ctx.page_size())
}

/// One `$skiptoken` page of `items`, `len` long, with the link to the next page under
/// `link_key` (`@odata.nextLink`, ARM's `nextLink`). A token the fake did not issue gets
/// `bad_token`, the service's own 400.
pub(crate) fn skiptoken_reply(
    ctx: &Ctx,
    wrapper: &Map<String, Value>,
    items: &[&Value],
    len: usize,
    link_key: &str,
    bad_token: impl FnOnce() -> Reply,
) -> Reply {
    let offset = match ctx.param("$skiptoken") {
        None => 0,
        Some(t) => match decode_token(t) {
            Some(o) => o,
            None => return bad_token(),
        },
    };
    let (mut body, next) = page(wrapper, "value", items, offset, len, ctx.cycle());
    if let Some(next) = next {
        let add = if next == 0 {
            vec![]
        } else {
            vec![("$skiptoken", encode_token(next))]
        };
        body.insert(
            link_key.into(),
            Value::String(ctx.link(&["$skiptoken"], &add)),
        );
    }
    Reply::json(200, Value::Object(body))
}

/// One page of `items`: the wrapper's other members, `array_key` set to the slice, and the
/// offset of the next page (`Some(0)` when the nextLink-cycle fault points back to the start).
pub(crate) fn page(
    wrapper: &Map<String, Value>,
    array_key: &str,
    items: &[&Value],
    offset: usize,
    len: usize,
    cycle: bool,
) -> (Map<String, Value>, Option<usize>) {
    let len = len.max(1);
    let total = items.len();
    let start = offset.min(total);
    let end = offset.saturating_add(len).min(total);
    let mut body = without_paging(wrapper, array_key);
    // Keep the collection member in its original position when possible (first for most).
    let slice: Vec<Value> = items[start..end].iter().map(|v| (*v).clone()).collect();
    body.insert(array_key.to_string(), Value::Array(slice));
    let next = if end < total {
        Some(end)
    } else if cycle {
        Some(0)
    } else {
        None
    };
    (body, next)
}

/// A parsed `$filter` of the forms `prop eq 'v'`, `prop eq v` and `prop in ('a','b')`.
pub(crate) struct Filter {
    prop: String,
    values: Vec<String>,
}

impl Filter {
    pub(crate) fn parse(text: &str) -> Result<Filter, String> {
        let text = text.trim();
        let unsupported = || format!("Unsupported query: $filter={text}");
        let (prop, rest) = text
            .split_once(char::is_whitespace)
            .ok_or_else(unsupported)?;
        let rest = rest.trim_start();
        let (op, operand) = rest
            .split_once(char::is_whitespace)
            .ok_or_else(unsupported)?;
        let operand = operand.trim();
        let values = match op.to_ascii_lowercase().as_str() {
            "eq" => vec![parse_literal(operand).ok_or_else(unsupported)?],
            "in" => {
                let inner = operand
                    .strip_prefix('(')
                    .and_then(|s| s.strip_suffix(')'))
                    .ok_or_else(unsupported)?;
                split_list(inner)
                    .into_iter()
                    .map(|v| parse_literal(v.trim()))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(unsupported)?
            }
            _ => return Err(unsupported()),
        };
        if prop.is_empty() || prop.contains(['(', ')', '/']) {
            return Err(unsupported());
        }
        Ok(Filter {
            prop: prop.to_string(),
            values,
        })
    }

    pub(crate) fn matches(&self, item: &Value) -> bool {
        let Some(obj) = item.as_object() else {
            return false;
        };
        let Some(v) = obj
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(&self.prop))
            .map(|(_, v)| v)
        else {
            return false;
        };
        let have = match v {
            Value::String(s) => s.to_ascii_lowercase(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            Value::Null => "null".to_string(),
            _ => return false,
        };
        self.values.contains(&have)
    }
}

/// `'abc'` (with `''` escapes) or a bare token; lower-cased.
fn parse_literal(s: &str) -> Option<String> {
    if let Some(inner) = s.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        return Some(inner.replace("''", "'").to_ascii_lowercase());
    }
    if s.is_empty() || s.contains(['\'', ' ', '(', ')', ',']) {
        return None;
    }
    Some(s.to_ascii_lowercase())
}

/// Splits on commas outside single quotes.
fn split_list(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut in_quote = false;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '\'' => in_quote = !in_quote,
            ',' if !in_quote => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tokens_roundtrip_and_reject_garbage() {
        for n in [0, 1, 3, 999_999] {
            assert_eq!(decode_token(&encode_token(n)), Some(n));
        }
        assert_eq!(decode_token("RFNwdAIA"), None);
        assert_eq!(decode_token(""), None);
        assert_eq!(decode_token("%%%"), None);
    }

    #[test]
    fn filters() {
        let f = Filter::parse("appId in ('1fd5118e-2576-4263-8130-9503064c837a','00000003-0000-0000-c000-000000000000')").unwrap();
        assert!(f.matches(&json!({"appId": "1FD5118E-2576-4263-8130-9503064C837A"})));
        assert!(!f.matches(&json!({"appId": "x"})));
        let f = Filter::parse("appid eq 'a''b'").unwrap();
        assert!(f.matches(&json!({"appId": "a'b"})));
        let f = Filter::parse("accountEnabled eq true").unwrap();
        assert!(f.matches(&json!({"accountEnabled": true})));
        assert!(Filter::parse("startswith(userPrincipalName,'ra_')").is_err());
        assert!(Filter::parse("assignedLicenses/any(x:x/skuId eq 1)").is_err());
        assert!(Filter::parse("").is_err());
        assert!(Filter::parse("a in 'b'").is_err());
    }

    #[test]
    fn pages_cover_everything_once() {
        let items: Vec<Value> = (0..7).map(|i| json!(i)).collect();
        let refs: Vec<&Value> = items.iter().collect();
        let wrapper = json!({"@odata.context": "c", "value": [], "@odata.nextLink": "old"});
        let wrapper = wrapper.as_object().unwrap();
        let mut offset = Some(0);
        let mut seen = Vec::new();
        while let Some(o) = offset {
            let (body, next) = page(wrapper, "value", &refs, o, 3, false);
            assert!(!body.contains_key("@odata.nextLink"));
            assert_eq!(body["@odata.context"], "c");
            seen.extend(body["value"].as_array().unwrap().iter().cloned());
            offset = next;
        }
        assert_eq!(seen, items);
        let (_, next) = page(wrapper, "value", &refs, 6, 3, true);
        assert_eq!(next, Some(0));
        let (body, next) = page(wrapper, "value", &refs, 100, 3, false);
        assert_eq!(body["value"], json!([]));
        assert_eq!(next, None);
    }
}
