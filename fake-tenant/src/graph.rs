//! Microsoft Graph (`/graph/{v1.0|beta}/...`), including `$batch`.

use crate::fact_key::FactKey;
use std::collections::HashSet;

use serde_json::{Map, Value, json};

use crate::faults::{pre_fault_reply, random_reply};
use crate::http::{Ctx, Payload, Reply, Service, fact_error, not_found, route, service_error};
use crate::index::Fact;
use crate::paging::{Filter, listed, page, skiptoken_reply, top_or_page_size};
use crate::shapes::wrapped_user_configuration;

const MAX_BATCH: usize = 20;

pub(crate) fn handle(ctx: &Ctx, method: &str, body: &[u8]) -> Reply {
    let Some(version) = ctx.segs.first().cloned() else {
        return not_found(Service::Graph, "Resource not found for the segment ''.");
    };
    let version = version.to_ascii_lowercase();
    if version != "v1.0" && version != "beta" {
        return service_error(
            Service::Graph,
            400,
            "BadRequest",
            &format!("Invalid version: {version}"),
        );
    }
    if method == "POST" {
        return batch(ctx, &version, body);
    }
    get(ctx)
}

/// A GET below `/graph/{version}` (also used for `$batch` parts).
fn get(ctx: &Ctx) -> Reply {
    let s = &ctx.segs[1.min(ctx.segs.len())..];
    if route(s, &["organization"]).is_some() {
        return collection(ctx, FactKey::GraphOrganization.as_str());
    }
    if route(s, &["subscribedSkus"]).is_some() {
        return collection(ctx, FactKey::GraphSubscribedSkus.as_str());
    }
    if route(s, &["admin", "teams", "resourceAccounts"]).is_some() {
        return collection(ctx, FactKey::GraphResourceAccounts.as_str());
    }
    if route(s, &["servicePrincipals"]).is_some() {
        return collection(ctx, FactKey::GraphServicePrincipals.as_str());
    }
    if route(s, &["oauth2PermissionGrants"]).is_some() {
        return collection(ctx, FactKey::GraphOAuth2PermissionGrants.as_str());
    }
    if route(s, &["roleManagement", "directory", "roleAssignments"]).is_some() {
        return collection(ctx, FactKey::GraphRoleAssignments.as_str());
    }
    if route(s, &["admin", "teams", "userConfigurations"]).is_some() {
        return collection(ctx, FactKey::GraphUserConfigurations.as_str());
    }
    if route(
        s,
        &[
            "admin",
            "teams",
            "telephoneNumberManagement",
            "numberAssignments",
        ],
    )
    .is_some()
    {
        return number_assignments(ctx);
    }
    if let Some(c) = route(s, &["users", "*"]) {
        return user(ctx, c[0]);
    }
    if let Some(c) = route(s, &["users", "*", "licenseDetails"]) {
        return per_user(ctx, FactKey::GraphLicenseDetails.as_str(), c[0]);
    }
    for member_of in ["transitiveMemberOf", "memberOf"] {
        if let Some(c) = route(s, &["users", "*", member_of])
            .or_else(|| route(s, &["users", "*", member_of, "microsoft.graph.group"]))
        {
            return per_user(ctx, FactKey::GraphMemberOf.as_str(), c[0]);
        }
    }
    if let Some(c) = route(s, &["admin", "teams", "userConfigurations", "*"]) {
        return user_configuration(ctx, c[0]);
    }
    if let Some(c) = route(s, &["groups", "*", "members"])
        .or_else(|| route(s, &["groups", "*", "members", "microsoft.graph.user"]))
    {
        return group_members(ctx, c[0]);
    }
    let last = s.last().map(String::as_str).unwrap_or("");
    not_found(
        Service::Graph,
        &format!(
            "Resource not found for the segment '{last}'. (fake-tenant does not serve this Graph path.)"
        ),
    )
}

fn fact_missing(key: &str) -> Reply {
    not_found(
        Service::Graph,
        &format!(
            "Resource does not exist or one of its queried reference-property objects are not present. (fake-tenant: fact {key} is not in the snapshot.)"
        ),
    )
}

fn collection(ctx: &Ctx, key: &str) -> Reply {
    match ctx.st.index.fact(key) {
        None => fact_missing(key),
        Some(Fact::Error(e)) => fact_error(Service::Graph, e),
        Some(Fact::Data(d)) => graph_page(ctx, d),
    }
}

/// Serves one `@odata.nextLink` page of a `{"value":[...]}` collection, honouring `$filter`
/// (eq / in), `$top` and `$skiptoken`. Anything else is served as stored.
fn graph_page(ctx: &Ctx, data: &Value) -> Reply {
    let Some((obj, items)) = listed(data, "value") else {
        return Reply::json(200, data.clone());
    };
    let filtered: Vec<&Value> = match ctx.param("$filter") {
        Some(text) => match Filter::parse(text) {
            Ok(f) => items.iter().filter(|i| f.matches(i)).collect(),
            Err(msg) => {
                return service_error(Service::Graph, 400, "Request_UnsupportedQuery", &msg);
            }
        },
        None => items.iter().collect(),
    };
    skiptoken_reply(
        ctx,
        obj,
        &filtered,
        top_or_page_size(ctx),
        "@odata.nextLink",
        || {
            service_error(
                Service::Graph,
                400,
                "Request_BadRequest",
                "Invalid $skiptoken value.",
            )
        },
    )
}

/// numberAssignments: `$top` (default 500) + `$skip`. A page holds `min($top, page_size)`
/// rows; when that is less than `$top` and rows remain, an `@odata.nextLink` (same `$top`,
/// advanced `$skip`) says so, since a short page alone would mean "the end".
fn number_assignments(ctx: &Ctx) -> Reply {
    let key = FactKey::GraphNumberAssignments.as_str();
    let data = match ctx.st.index.fact(key) {
        None => return fact_missing(key),
        Some(Fact::Error(e)) => return fact_error(Service::Graph, e),
        Some(Fact::Data(d)) => d,
    };
    let Some((obj, items)) = listed(data, "value") else {
        return Reply::json(200, data.clone());
    };
    let filtered: Vec<&Value> = match ctx.param("$filter") {
        Some(text) => match Filter::parse(text) {
            Ok(f) => items.iter().filter(|i| f.matches(i)).collect(),
            Err(msg) => {
                return service_error(Service::Graph, 400, "Request_UnsupportedQuery", &msg);
            }
        },
        None => items.iter().collect(),
    };
    let parse = |name: &str| -> Result<Option<usize>, Reply> {
        match ctx.param(name) {
            None => Ok(None),
            Some(v) => v.trim().parse::<usize>().map(Some).map_err(|_| {
                service_error(
                    Service::Graph,
                    400,
                    "Request_BadRequest",
                    &format!("Invalid value '{v}' for query option {name}."),
                )
            }),
        }
    };
    let skip = match parse("$skip") {
        Ok(v) => v.unwrap_or(0),
        Err(r) => return r,
    };
    let top = match parse("$top") {
        Ok(v) => v.unwrap_or(500),
        Err(r) => return r,
    };
    if top == 0 {
        return service_error(
            Service::Graph,
            400,
            "Request_BadRequest",
            "The value of $top must be greater than 0.",
        );
    }
    let len = top.min(ctx.page_size());
    let (mut body, next) = page(obj, "value", &filtered, skip, len, ctx.cycle());
    let link_next = match next {
        Some(0) => Some(0),
        Some(n) if len < top => Some(n),
        _ => None,
    };
    if let Some(n) = link_next {
        body.insert(
            "@odata.nextLink".into(),
            Value::String(ctx.link(&["$skip", "$skiptoken"], &[("$skip", n.to_string())])),
        );
    }
    Reply::json(200, Value::Object(body))
}

fn user(ctx: &Ctx, key: &str) -> Reply {
    match ctx.st.index.fact(FactKey::GraphUsers.as_str()) {
        None => fact_missing(FactKey::GraphUsers.as_str()),
        Some(Fact::Error(e)) => fact_error(Service::Graph, e),
        Some(Fact::Data(_)) => match ctx.st.index.user(key) {
            Some(u) => Reply::json(200, u.clone()),
            None => resource_not_found(key),
        },
    }
}

fn resource_not_found(key: &str) -> Reply {
    not_found(
        Service::Graph,
        &format!(
            "Resource '{key}' does not exist or one of its queried reference-property objects are not present."
        ),
    )
}

/// licenseDetails / memberOf: keyed by user id (a UPN is resolved); a known user without an
/// entry gets an empty collection, an unknown one 404.
fn per_user(ctx: &Ctx, key: &str, user: &str) -> Reply {
    match ctx.st.index.fact(key) {
        None => fact_missing(key),
        Some(Fact::Error(e)) => fact_error(Service::Graph, e),
        Some(Fact::Data(_)) => match ctx.st.index.keyed(key, user) {
            Some(v) => graph_page(ctx, v),
            None if ctx.st.index.user_known(user) => graph_page(ctx, &json!({"value": []})),
            None => resource_not_found(user),
        },
    }
}

fn user_configuration(ctx: &Ctx, user: &str) -> Reply {
    let key = FactKey::GraphUserConfigurations.as_str();
    match ctx.st.index.fact(key) {
        None => fact_missing(key),
        Some(Fact::Error(e)) => fact_error(Service::Graph, e),
        Some(Fact::Data(_)) => match ctx.st.index.user_config(user) {
            Some(v) if ctx.st.opts.faults.wrapped_user_configurations => {
                Reply::json(200, wrapped_user_configuration(v)).fault("wrapped_user_configurations")
            }
            Some(v) => Reply::json(200, v.clone()),
            None => resource_not_found(user),
        },
    }
}

/// Group members, derived from graph.memberOf (every user listing the group) and graph.users.
fn group_members(ctx: &Ctx, group: &str) -> Reply {
    match ctx.st.index.fact(FactKey::GraphMemberOf.as_str()) {
        None => fact_missing(FactKey::GraphMemberOf.as_str()),
        Some(Fact::Error(e)) => fact_error(Service::Graph, e),
        Some(Fact::Data(_)) => match ctx.st.index.group_members(group) {
            Some(members) => graph_page(ctx, &json!({"value": members})),
            None => resource_not_found(group),
        },
    }
}

/// `POST /graph/{version}/$batch`: at most 20 parts, all GET; each part dispatched here.
fn batch(ctx: &Ctx, version: &str, body: &[u8]) -> Reply {
    let bad = |msg: &str| service_error(Service::Graph, 400, "BadRequest", msg);
    let parsed: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return bad(&format!("Invalid batch payload format: {e}")),
    };
    let Some(requests) = parsed.get("requests").and_then(Value::as_array) else {
        return bad("Invalid batch payload format: a 'requests' array is required.");
    };
    if requests.is_empty() {
        return bad("Invalid batch payload format: 'requests' is empty.");
    }
    if requests.len() > MAX_BATCH {
        return bad(&format!(
            "The number of batch requests exceeds the limit of {MAX_BATCH} (got {}).",
            requests.len()
        ));
    }
    let mut seen = HashSet::new();
    let mut parts = Vec::with_capacity(requests.len());
    for part in requests {
        let id = match part.get("id") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => return bad("Invalid batch payload format: every request needs a non-empty 'id'."),
        };
        if !seen.insert(id.clone()) {
            return bad(&format!(
                "Invalid batch payload format: duplicate request id '{id}'."
            ));
        }
        let method = part.get("method").and_then(Value::as_str).unwrap_or("");
        let url = part.get("url").and_then(Value::as_str).unwrap_or("");
        if !method.eq_ignore_ascii_case("GET") {
            let mut reply = bad(&format!(
                "fake-tenant: $batch parts must be GET (read-only client); request '{id}' is '{method}'."
            ));
            reply.notes.push(format!("{method} {url}"));
            return reply.fault("batch_non_get_part");
        }
        if url.is_empty() {
            return bad(&format!(
                "Invalid batch payload format: request '{id}' has no 'url'."
            ));
        }
        parts.push((id, url.to_string()));
    }
    let mut responses = Vec::with_capacity(parts.len());
    let mut notes = Vec::with_capacity(parts.len());
    for (id, url) in &parts {
        notes.push(format!("GET {url}"));
        let reply = part_reply(ctx, version, url);
        responses.push(part_json(id, reply));
    }
    let mut reply = Reply::json(200, json!({"responses": responses}));
    reply.notes = notes;
    reply
}

fn part_reply(ctx: &Ctx, version: &str, url: &str) -> Reply {
    if url.starts_with("http://") || url.starts_with("https://") {
        return service_error(
            Service::Graph,
            400,
            "BadRequest",
            "Batch request URLs must be relative to the batch version (e.g. /users/{id}).",
        );
    }
    let url = url.trim_start_matches('/');
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let raw_path = format!("/graph/{version}/{path}");
    let key = if query.is_empty() {
        raw_path.clone()
    } else {
        format!("{raw_path}?{query}")
    };
    if ctx.st.scopes_missing(&key, ctx.headers) {
        return crate::faults::scopes_missing(Service::Graph);
    }
    if let Some(kind) = ctx.st.take_once(&key, true)
        && let Some(reply) = pre_fault_reply(Service::Graph, &kind)
    {
        return reply;
    }
    if let Some(fault) = ctx.st.roll(&format!("batch-part {key}"), false) {
        return random_reply(Service::Graph, &fault);
    }
    let part_ctx = Ctx::new(ctx.st, Service::Graph, &raw_path, query, ctx.headers);
    get(&part_ctx)
}

fn part_json(id: &str, reply: Reply) -> Value {
    let mut headers = Map::new();
    let body = match *reply.payload {
        Payload::Json(v) => {
            headers.insert("Content-Type".into(), json!("application/json"));
            v
        }
        Payload::Raw {
            content_type,
            bytes,
        }
        | Payload::ResetAfter {
            content_type,
            bytes,
        } => {
            headers.insert("Content-Type".into(), json!(content_type));
            Value::String(String::from_utf8_lossy(&bytes).into_owned())
        }
        Payload::Huge { .. } => Value::Null,
    };
    for (k, v) in reply.headers {
        if !k.eq_ignore_ascii_case("WWW-Authenticate") {
            headers.insert(k, Value::String(v));
        }
    }
    json!({"id": id, "status": reply.status, "headers": headers, "body": body})
}
