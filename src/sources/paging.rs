//! Paging schemes of the tenant APIs, and merging every page into one raw response.
//!
//! The merged value keeps the first page's wrapper (`{"@odata.context":…, "value":[…]}`,
//! `{"applicationInstances":[…]}`, `{"TelephoneNumbers":[…]}`) with the items of all pages
//! concatenated and the paging cursors removed, so a snapshot stays the API's own shape.
//! Every scheme ends: a repeated link or token, a repeated full page, or the page cap stops it
//! with an error.

use std::collections::HashSet;

use serde_json::{Map, Value};
use url::Url;

use super::endpoints::{describe, join};

/// How a collection is paged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Paging {
    /// One response, returned as is.
    None,
    /// OData `@odata.nextLink` (Graph, Dataverse, S&C).
    ODataNextLink,
    /// ARM `nextLink` (absent or null on the last page).
    ArmNextLink,
    /// Teams `skipToken` in the body, sent back as the query parameter `param`
    /// (`Teams.PlatformService/v2/ApplicationInstances`).
    TeamsSkipToken { param: String },
    /// `top_param=top&skip_param=N`, N growing by the rows seen, until a page holds fewer than
    /// `top` rows. An `@odata.nextLink`, when present, is followed instead.
    TopSkip {
        top_param: String,
        skip_param: String,
        top: u32,
    },
}

impl Paging {
    /// The Teams application-instance scheme (`skipToken`).
    pub fn teams_skip_token() -> Paging {
        Paging::TeamsSkipToken {
            param: "skipToken".to_string(),
        }
    }

    /// Graph `$top`/`$skip` (number assignments).
    pub fn graph_top_skip(top: u32) -> Paging {
        Paging::TopSkip {
            top_param: "$top".to_string(),
            skip_param: "$skip".to_string(),
            top,
        }
    }

    /// Teams telephone numbers (`top`/`skip`).
    pub fn teams_top_skip(top: u32) -> Paging {
        Paging::TopSkip {
            top_param: "top".to_string(),
            skip_param: "skip".to_string(),
            top,
        }
    }
}

/// Why paging stopped without a complete result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PagingError(pub String);

/// A page's items and the object around them.
type SplitPage = (Vec<Value>, Option<Map<String, Value>>);

/// Body fields that carry a cursor; removed from the merged value.
const CURSOR_KEYS: [&str; 4] = ["@odata.nextLink", "odata.nextLink", "nextLink", "skipToken"];

/// Drives one paged read: hands out the next URL and merges what comes back.
pub(crate) struct Pager {
    paging: Paging,
    base: Url,
    first: Url,
    seen: HashSet<String>,
    pages: usize,
    max_pages: usize,
    merged: Option<Value>,
    items_key: Option<String>,
    items: Vec<Value>,
    last_page_items: Option<Vec<Value>>,
}

impl Pager {
    /// `base` is the service base (next links must stay on its origin); `first` the first page
    /// (for `TopSkip`, its top/skip parameters are set here).
    pub(crate) fn new(paging: Paging, base: &Url, first: Url, max_pages: usize) -> Pager {
        let first = match &paging {
            Paging::TopSkip {
                top_param,
                skip_param,
                top,
            } => {
                let url = set_query_param(&first, top_param, &top.to_string());
                set_query_param(&url, skip_param, "0")
            }
            _ => first,
        };
        Pager {
            paging,
            base: base.clone(),
            seen: HashSet::from([first.as_str().to_string()]),
            first,
            pages: 0,
            max_pages: max_pages.max(1),
            merged: None,
            items_key: None,
            items: Vec::new(),
            last_page_items: None,
        }
    }

    pub(crate) fn first_url(&self) -> &Url {
        &self.first
    }

    /// Takes one page fetched from `current`; returns the next URL, or `None` when done.
    pub(crate) fn accept(
        &mut self,
        page: Value,
        current: &Url,
    ) -> Result<Option<Url>, PagingError> {
        self.pages += 1;
        if self.paging == Paging::None {
            self.merged = Some(page);
            return Ok(None);
        }
        // Some answers are a single object (a cmdlet's one result, e.g. Get-PolicyConfig): a
        // first page with no item list and no cursor is the whole answer, not a paging error.
        if self.pages == 1
            && let Value::Object(obj) = &page
            && !obj.values().any(Value::is_array)
            && !obj.keys().any(|k| CURSOR_KEYS.contains(&k.as_str()))
        {
            self.merged = Some(page);
            return Ok(None);
        }
        let (page_items, wrapper) = self.split_items(page, current)?;
        let page_len = page_items.len();
        // A server that ignores the cursor returns the same full page forever.
        if page_len > 0 && self.last_page_items.as_ref() == Some(&page_items) {
            return Err(PagingError(format!(
                "paging loop at {}: page {} repeats the previous page",
                describe("GET", current),
                self.pages
            )));
        }
        let next = self.next_url(wrapper.as_ref(), current, page_len)?;
        self.items.extend(page_items.iter().cloned());
        self.last_page_items = Some(page_items);
        if self.merged.is_none() {
            self.merged = Some(wrapper.map(Value::Object).unwrap_or(Value::Null));
        }
        let Some(next) = next else {
            return Ok(None);
        };
        if !self.seen.insert(next.as_str().to_string()) {
            return Err(PagingError(format!(
                "paging loop at {}: the next link repeats an earlier page",
                describe("GET", &next)
            )));
        }
        if self.pages >= self.max_pages {
            return Err(PagingError(format!(
                "paging stopped at {}: more than {} pages",
                describe("GET", &next),
                self.max_pages
            )));
        }
        Ok(Some(next))
    }

    /// The merged value: the first page's wrapper with every page's items.
    pub(crate) fn finish(self) -> Value {
        match (self.merged, self.items_key) {
            (Some(Value::Object(mut wrapper)), Some(key)) => {
                wrapper.insert(key, Value::Array(self.items));
                for cursor in CURSOR_KEYS {
                    wrapper.remove(cursor);
                }
                Value::Object(wrapper)
            }
            (Some(Value::Null), None) => Value::Array(self.items),
            (Some(other), _) => other,
            (None, _) => Value::Null,
        }
    }

    /// Splits a page into its items and the object around them (cursors still in it).
    fn split_items(&mut self, page: Value, current: &Url) -> Result<SplitPage, PagingError> {
        match page {
            Value::Array(items) => Ok((items, None)),
            Value::Object(mut obj) => {
                let key = match &self.items_key {
                    Some(k) => k.clone(),
                    None => {
                        let k = find_items_key(&obj).ok_or_else(|| {
                            PagingError(format!(
                                "{}: no item list in the response (expected `value` or one array field)",
                                describe("GET", current)
                            ))
                        })?;
                        self.items_key = Some(k.clone());
                        k
                    }
                };
                let items = match obj.remove(&key) {
                    Some(Value::Array(items)) => items,
                    None | Some(Value::Null) => Vec::new(),
                    Some(_) => {
                        return Err(PagingError(format!(
                            "{}: `{key}` is not a list",
                            describe("GET", current)
                        )));
                    }
                };
                Ok((items, Some(obj)))
            }
            _ => Err(PagingError(format!(
                "{}: a page is neither an object nor a list",
                describe("GET", current)
            ))),
        }
    }

    fn next_url(
        &self,
        wrapper: Option<&Map<String, Value>>,
        current: &Url,
        page_len: usize,
    ) -> Result<Option<Url>, PagingError> {
        let text = |key: &str| {
            wrapper
                .and_then(|w| w.get(key))
                .and_then(Value::as_str)
                .filter(|s| !s.trim().is_empty())
        };
        match &self.paging {
            Paging::None => Ok(None),
            Paging::ODataNextLink => text("@odata.nextLink")
                .or_else(|| text("odata.nextLink"))
                .map(|l| resolve_link(&self.base, current, l))
                .transpose(),
            Paging::ArmNextLink => text("nextLink")
                .map(|l| resolve_link(&self.base, current, l))
                .transpose(),
            Paging::TeamsSkipToken { param } => {
                let token = wrapper.and_then(|w| {
                    w.iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case("skipToken"))
                        .and_then(|(_, v)| v.as_str())
                        .filter(|s| !s.trim().is_empty())
                });
                Ok(token.map(|t| set_query_param(&self.first, param, t)))
            }
            Paging::TopSkip {
                skip_param, top, ..
            } => {
                if let Some(link) = text("@odata.nextLink") {
                    return resolve_link(&self.base, current, link).map(Some);
                }
                if page_len == 0 || page_len < *top as usize {
                    return Ok(None);
                }
                let skip = self.items.len() + page_len;
                Ok(Some(set_query_param(
                    &self.first,
                    skip_param,
                    &skip.to_string(),
                )))
            }
        }
    }
}

/// `value` when it is a list, else the only top-level list that is not an annotation.
fn find_items_key(obj: &Map<String, Value>) -> Option<String> {
    if matches!(obj.get("value"), Some(Value::Array(_))) {
        return Some("value".to_string());
    }
    let mut arrays = obj
        .iter()
        .filter(|(k, v)| v.is_array() && !k.contains('@'))
        .map(|(k, _)| k.clone());
    let first = arrays.next()?;
    arrays.next().is_none().then_some(first)
}

/// Resolves a next link: an absolute link must stay on the origin of the service base or of the
/// current page (a bearer token is attached to it); a relative one is joined to the base.
pub(crate) fn resolve_link(base: &Url, current: &Url, link: &str) -> Result<Url, PagingError> {
    let link = link.trim();
    if link.starts_with('/') && !link.starts_with("//") {
        return join(base, link).map_err(|e| PagingError(e.0));
    }
    let url = Url::parse(link).map_err(|_| {
        PagingError(format!(
            "{}: the next link is not a URL",
            describe("GET", current)
        ))
    })?;
    if url.origin() != base.origin() && url.origin() != current.origin() {
        return Err(PagingError(format!(
            "{}: the next link points to another host ({}), refused",
            describe("GET", current),
            url.host_str().unwrap_or("?")
        )));
    }
    Ok(url)
}

/// Sets (or replaces) one query parameter without re-encoding the rest of the query, which
/// may hold OData expressions (`$filter=appId in ('…')`) that form-encoding would change.
pub(crate) fn set_query_param(url: &Url, name: &str, value: &str) -> Url {
    let encoded: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
    let mut parts: Vec<String> = url
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .filter(|p| {
            let key = p.split('=').next().unwrap_or("");
            let key = percent_decode(key);
            !key.eq_ignore_ascii_case(name)
        })
        .map(str::to_string)
        .collect();
    parts.push(format!("{name}={encoded}"));
    let mut out = url.clone();
    out.set_query(Some(&parts.join("&")));
    out
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("{s}=").as_bytes())
        .next()
        .map(|(k, _)| k.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    /// Runs a pager against canned pages keyed by URL.
    fn run(paging: Paging, first: &str, pages: &[(&str, Value)]) -> Result<Value, PagingError> {
        let base = url("http://127.0.0.1:8080/graph");
        let mut pager = Pager::new(paging, &base, url(first), 50);
        let mut current = pager.first_url().clone();
        loop {
            let page = pages
                .iter()
                .find(|(u, _)| *u == current.as_str())
                .unwrap_or_else(|| panic!("no canned page for {current}"))
                .1
                .clone();
            match pager.accept(page, &current)? {
                Some(next) => current = next,
                None => return Ok(pager.finish()),
            }
        }
    }

    #[test]
    fn odata_next_link_pages_merge_into_one_value() {
        let p1 = "http://127.0.0.1:8080/graph/v1.0/users?$top=2";
        let p2 = "http://127.0.0.1:8080/graph/v1.0/users?$top=2&$skiptoken=X";
        let merged = run(
            Paging::ODataNextLink,
            p1,
            &[
                (
                    p1,
                    json!({"@odata.context":"ctx","value":[{"id":1},{"id":2}],"@odata.nextLink":p2}),
                ),
                (p2, json!({"@odata.context":"ctx","value":[{"id":3}]})),
            ],
        )
        .unwrap();
        assert_eq!(
            merged,
            json!({"@odata.context":"ctx","value":[{"id":1},{"id":2},{"id":3}]})
        );
    }

    #[test]
    fn next_link_cycle_is_an_error_not_a_hang() {
        let p1 = "http://127.0.0.1:8080/graph/v1.0/users";
        let p2 = "http://127.0.0.1:8080/graph/v1.0/users?$skiptoken=A";
        let err = run(
            Paging::ODataNextLink,
            p1,
            &[
                (p1, json!({"value":[{"id":1}],"@odata.nextLink":p2})),
                (p2, json!({"value":[{"id":2}],"@odata.nextLink":p1})),
            ],
        )
        .unwrap_err();
        assert!(
            err.0
                .starts_with("paging loop at GET 127.0.0.1:8080/graph/v1.0/users"),
            "{err}"
        );
    }

    #[test]
    fn page_cap_stops_an_endless_sequence() {
        let base = url("http://127.0.0.1:8080/arm");
        let mut pager = Pager::new(
            Paging::ArmNextLink,
            &base,
            url("http://127.0.0.1:8080/arm/s"),
            3,
        );
        let mut current = pager.first_url().clone();
        let mut n = 0;
        let err = loop {
            n += 1;
            let next = format!("http://127.0.0.1:8080/arm/s?$skiptoken={n}");
            match pager.accept(json!({"value":[{"n":n}],"nextLink":next}), &current) {
                Ok(Some(u)) => current = u,
                Ok(None) => panic!("ended"),
                Err(e) => break e,
            }
        };
        assert_eq!(n, 3);
        assert!(err.0.contains("more than 3 pages"), "{err}");
    }

    #[test]
    fn arm_next_link_null_ends() {
        let p1 = "http://127.0.0.1:8080/graph/subscriptions?api-version=2022-12-01";
        let merged = run(
            Paging::ArmNextLink,
            p1,
            &[(p1, json!({"value":[{"id":"s1"}],"nextLink":null}))],
        )
        .unwrap();
        assert_eq!(merged, json!({"value":[{"id":"s1"}]}));
    }

    #[test]
    fn teams_skip_token_keeps_wrapper_key() {
        let p1 =
            "http://127.0.0.1:8080/graph/Teams.PlatformService/v2/ApplicationInstances?pageSize=1";
        let p2 = "http://127.0.0.1:8080/graph/Teams.PlatformService/v2/ApplicationInstances?pageSize=1&skipToken=t%2B1";
        let merged = run(
            Paging::teams_skip_token(),
            p1,
            &[
                (
                    p1,
                    json!({"applicationInstances":[{"objectId":"a"}],"skipToken":"t+1"}),
                ),
                (
                    p2,
                    json!({"applicationInstances":[{"objectId":"b"}],"skipToken":null}),
                ),
            ],
        )
        .unwrap();
        assert_eq!(
            merged,
            json!({"applicationInstances":[{"objectId":"a"},{"objectId":"b"}]})
        );
    }

    #[test]
    fn repeated_skip_token_is_a_loop() {
        let p1 = "http://127.0.0.1:8080/graph/t?pageSize=1";
        let p2 = "http://127.0.0.1:8080/graph/t?pageSize=1&skipToken=same";
        let err = run(
            Paging::teams_skip_token(),
            p1,
            &[
                (
                    p1,
                    json!({"applicationInstances":[{"n":1}],"skipToken":"same"}),
                ),
                (
                    p2,
                    json!({"applicationInstances":[{"n":2}],"skipToken":"same"}),
                ),
            ],
        )
        .unwrap_err();
        assert!(err.0.starts_with("paging loop"), "{err}");
    }

    #[test]
    fn top_skip_until_short_page() {
        let p = |skip: u32| {
            format!(
                "http://127.0.0.1:8080/graph/Tenants/t/telephone-numbers?locale=en-US&top=2&skip={skip}"
            )
        };
        let (a, b, c) = (p(0), p(2), p(4));
        let merged = run(
            Paging::teams_top_skip(2),
            "http://127.0.0.1:8080/graph/Tenants/t/telephone-numbers?skip=9&locale=en-US",
            &[
                (&a, json!({"TelephoneNumbers":[{"n":1},{"n":2}]})),
                (&b, json!({"TelephoneNumbers":[{"n":3},{"n":4}]})),
                (&c, json!({"TelephoneNumbers":[{"n":5}]})),
            ],
        )
        .unwrap();
        assert_eq!(
            merged,
            json!({"TelephoneNumbers":[{"n":1},{"n":2},{"n":3},{"n":4},{"n":5}]})
        );
    }

    #[test]
    fn top_skip_ignored_by_server_is_a_loop() {
        let p = |skip: u32| format!("http://127.0.0.1:8080/graph/n?$top=2&$skip={skip}");
        let page = json!({"value":[{"n":1},{"n":2}]});
        let err = run(
            Paging::graph_top_skip(2),
            "http://127.0.0.1:8080/graph/n",
            &[(&p(0), page.clone()), (&p(2), page)],
        )
        .unwrap_err();
        assert!(err.0.contains("repeats the previous page"), "{err}");
    }

    #[test]
    fn top_skip_follows_next_link_when_present() {
        let first = "http://127.0.0.1:8080/graph/v1.0/numberAssignments?$top=2&$skip=0";
        let next = "http://127.0.0.1:8080/graph/v1.0/numberAssignments?$skiptoken=z";
        let merged = run(
            Paging::graph_top_skip(2),
            "http://127.0.0.1:8080/graph/v1.0/numberAssignments",
            &[
                (first, json!({"value":[{"n":1}],"@odata.nextLink":next})),
                (next, json!({"value":[{"n":2}]})),
            ],
        )
        .unwrap();
        assert_eq!(merged, json!({"value":[{"n":1},{"n":2}]}));
    }

    #[test]
    fn next_link_to_another_host_is_refused() {
        let base = url("https://graph.microsoft.com");
        let cur = url("https://graph.microsoft.com/v1.0/users");
        assert!(resolve_link(&base, &cur, "https://evil.example/v1.0/users?x").is_err());
        assert!(resolve_link(&base, &cur, "http://graph.microsoft.com/v1.0/users").is_err());
        let ok = resolve_link(
            &base,
            &cur,
            "https://graph.microsoft.com/v1.0/users?$skiptoken=a",
        )
        .unwrap();
        assert_eq!(ok.query(), Some("$skiptoken=a"));
        let prefixed = url("http://127.0.0.1:1/graph");
        let rel = resolve_link(&prefixed, &cur, "/v1.0/users?$skiptoken=b").unwrap();
        assert_eq!(
            rel.as_str(),
            "http://127.0.0.1:1/graph/v1.0/users?$skiptoken=b"
        );
    }

    #[test]
    fn paging_none_returns_page_as_is() {
        let p1 = "http://127.0.0.1:8080/graph/Skype.Policy/configurations/ExternalAccessPolicy";
        let merged = run(Paging::None, p1, &[(p1, json!([{"Identity":"Global"}]))]).unwrap();
        assert_eq!(merged, json!([{"Identity":"Global"}]));
    }

    #[test]
    fn missing_item_list_is_an_error() {
        let p1 = "http://127.0.0.1:8080/graph/x";
        let err = run(Paging::ODataNextLink, p1, &[(p1, json!({"a":[1],"b":[2]}))]).unwrap_err();
        assert!(err.0.contains("no item list"), "{err}");
    }

    #[test]
    fn set_query_param_keeps_odata_expressions() {
        let u = url("https://graph.microsoft.com/v1.0/x?$filter=appId%20in%20('a')&$top=5");
        let filter = u.query().unwrap().split('&').next().unwrap().to_string();
        let out = set_query_param(&u, "$top", "10");
        assert_eq!(out.query().unwrap(), format!("{filter}&$top=10"));
        let out = set_query_param(&out, "skipToken", "a b/+");
        assert!(out.query().unwrap().ends_with("skipToken=a+b%2F%2B"));
    }
}
