//! The Teams tenant admin API (`/teams/...`, apis.md B).

use crate::fact_key::FactKey;
use serde_json::Value;

use crate::http::{Ctx, Reply, Service, fact_error, not_found, route, service_error};
use crate::index::Fact;
use crate::paging::{decode_token, encode_token, listed, page};
use crate::shapes::{GlobalPolicies, rest_online_user, sparse_telephone_number};

/// The application id the telephone-number endpoints expect in `x-ms-tnm-applicationid`.
pub(crate) const TNM_APPLICATION_ID: &str = "045268c0-445e-4ac1-9157-d58f67b167d9";

pub(crate) fn handle(ctx: &Ctx) -> Reply {
    let s = &ctx.segs;
    if let Some(c) = route(s, &["Skype.Policy", "configurations", "*"]) {
        return policy(ctx, c[0], None);
    }
    if let Some(c) = route(
        s,
        &["Skype.Policy", "configurations", "*", "configuration", "*"],
    ) {
        return policy(ctx, c[0], Some(c[1]));
    }
    if route(s, &["Teams.PlatformService", "v2", "ApplicationInstances"]).is_some() {
        if ctx.st.opts.faults.legacy_application_instances_only {
            return not_found(
                Service::Teams,
                "The requested resource was not found. (fake-tenant: only the Legacy path lists application instances.)",
            )
            .fault("legacy_application_instances_only");
        }
        return application_instances(ctx);
    }
    if route(
        s,
        &[
            "Teams.PlatformService",
            "v2",
            "Legacy",
            "ApplicationInstances",
        ],
    )
    .is_some()
    {
        return application_instances(ctx);
    }
    if let Some(c) = route(
        s,
        &["Teams.VoiceApps", "applicationinstanceassociations", "*"],
    ) {
        return keyed(
            ctx,
            FactKey::TeamsApplicationInstanceAssociations.as_str(),
            c[0],
        );
    }
    if let Some(c) = route(s, &["Teams.User", "users", "*"]) {
        return online_user(ctx, c[0]);
    }
    if let Some(c) = route(
        s,
        &[
            "Skype.TelephoneNumberMgmt",
            "Tenants",
            "*",
            "telephone-numbers",
        ],
    ) {
        return telephone_numbers(ctx, c[0]);
    }
    not_found(
        Service::Teams,
        &format!(
            "fake-tenant does not serve the Teams path /{}.",
            s.join("/")
        ),
    )
}

fn fact_missing(key: &str) -> Reply {
    not_found(
        Service::Teams,
        &format!(
            "The requested resource was not found. (fake-tenant: fact {key} is not in the snapshot.)"
        ),
    )
}

/// `Skype.Policy/configurations/{Name}` (served as stored: array or object) and
/// `.../configuration/{Identity}` (the matching instance).
fn policy(ctx: &Ctx, name: &str, identity: Option<&str>) -> Reply {
    let key = format!("teams.{name}");
    let data = match ctx.st.index.fact_ci(&key) {
        None => return fact_missing(&key),
        Some((_, Fact::Error(e))) => return fact_error(Service::Teams, e),
        Some((_, Fact::Data(d))) => d,
    };
    let Some(identity) = identity else {
        return Reply::json(200, data.clone());
    };
    let matches = |v: &Value| {
        v.get("Identity").and_then(Value::as_str).is_some_and(|i| {
            i.eq_ignore_ascii_case(identity)
                || i.strip_prefix("Tag:")
                    .is_some_and(|t| t.eq_ignore_ascii_case(identity))
        })
    };
    let found = match data {
        Value::Array(items) => items.iter().find(|v| matches(v)),
        Value::Object(_) if matches(data) || data.get("Identity").is_none() => Some(data),
        _ => None,
    };
    match found {
        Some(v) => Reply::json(200, v.clone()),
        None => not_found(
            Service::Teams,
            &format!("Config with identity '{identity}' of type '{name}' was not found."),
        ),
    }
}

/// `ApplicationInstances?pageSize=N[&skipToken=T]` -> `{"applicationInstances":[...],"skipToken":T|null}`.
fn application_instances(ctx: &Ctx) -> Reply {
    let key = FactKey::TeamsApplicationInstances.as_str();
    let data = match ctx.st.index.fact(key) {
        None => return fact_missing(key),
        Some(Fact::Error(e)) => return fact_error(Service::Teams, e),
        Some(Fact::Data(d)) => d,
    };
    let Some((obj, items)) = listed(data, "applicationInstances") else {
        return Reply::json(200, data.clone());
    };
    let offset = match ctx.param("skipToken").filter(|t| !t.is_empty()) {
        None => 0,
        Some(t) => match decode_token(t) {
            Some(o) => o,
            None => {
                return service_error(Service::Teams, 400, "BadRequest", "Invalid skipToken.");
            }
        },
    };
    let page_size = ctx
        .param("pageSize")
        .and_then(|p| p.trim().parse::<usize>().ok())
        .filter(|&p| p > 0)
        .unwrap_or(100);
    let refs: Vec<&Value> = items.iter().collect();
    let len = page_size.min(ctx.page_size());
    let (mut body, next) = page(obj, "applicationInstances", &refs, offset, len, ctx.cycle());
    body.insert(
        "skipToken".into(),
        next.map(|n| Value::String(encode_token(n)))
            .unwrap_or(Value::Null),
    );
    Reply::json(200, Value::Object(body))
}

/// Per-object facts keyed by object id (a UPN is resolved); absent or `null` -> 404.
fn keyed(ctx: &Ctx, key: &str, id: &str) -> Reply {
    match ctx.st.index.fact(key) {
        None => fact_missing(key),
        Some(Fact::Error(e)) => fact_error(Service::Teams, e),
        Some(Fact::Data(_)) => match ctx.st.index.keyed(key, id) {
            Some(v) if !v.is_null() => Reply::json(200, v.clone()),
            _ => not_found(
                Service::Teams,
                &format!("The requested object '{id}' was not found."),
            ),
        },
    }
}

/// `Teams.User/users/{id}`: the stored Get-CsOnlineUser record, or under `rest_online_users`
/// the REST body built from it.
fn online_user(ctx: &Ctx, id: &str) -> Reply {
    let key = FactKey::TeamsOnlineUsers.as_str();
    let reply = keyed(ctx, key, id);
    if !ctx.st.opts.faults.rest_online_users || reply.status != 200 {
        return reply;
    }
    match ctx.st.index.keyed(key, id) {
        Some(v) => {
            Reply::json(200, rest_online_user(v, GlobalPolicies::Named)).fault("rest_online_users")
        }
        None => reply,
    }
}

/// `Tenants/{tid}/telephone-numbers?skip=N&top=M`: exactly `top` rows per page (a full page
/// means "ask for more"); `x-ms-tnm-applicationid` is required.
fn telephone_numbers(ctx: &Ctx, tenant: &str) -> Reply {
    if ctx
        .header("x-ms-tnm-applicationid")
        .is_none_or(|v| v.trim().is_empty())
    {
        return service_error(
            Service::Teams,
            400,
            "BadRequest",
            &format!(
                "The x-ms-tnm-applicationid header is required (expected {TNM_APPLICATION_ID})."
            ),
        );
    }
    if !ctx.st.index.is_tenant(tenant) {
        return not_found(Service::Teams, &format!("Tenant '{tenant}' was not found."));
    }
    let key = FactKey::TeamsTelephoneNumbers.as_str();
    let data = match ctx.st.index.fact(key) {
        None => return fact_missing(key),
        Some(Fact::Error(e)) => return fact_error(Service::Teams, e),
        Some(Fact::Data(d)) => d,
    };
    let Some((obj, items)) = listed(data, "TelephoneNumbers") else {
        return Reply::json(200, data.clone());
    };
    let num = |name: &str, default: usize| -> Result<usize, Reply> {
        match ctx.param(name) {
            None => Ok(default),
            Some(v) => v.trim().parse::<usize>().map_err(|_| {
                service_error(
                    Service::Teams,
                    400,
                    "BadRequest",
                    &format!("Invalid value '{v}' for '{name}'."),
                )
            }),
        }
    };
    let skip = match num("skip", 0) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let top = match num("top", 500) {
        Ok(v) => v.max(1),
        Err(r) => return r,
    };
    let sparse = ctx.st.opts.faults.sparse_telephone_numbers;
    let rows: Vec<Value> = if sparse {
        items.iter().map(sparse_telephone_number).collect()
    } else {
        Vec::new()
    };
    let refs: Vec<&Value> = if sparse {
        rows.iter().collect()
    } else {
        items.iter().collect()
    };
    let (body, _) = page(obj, "TelephoneNumbers", &refs, skip, top, false);
    let reply = Reply::json(200, Value::Object(body));
    if sparse {
        reply.fault("sparse_telephone_numbers")
    } else {
        reply
    }
}
