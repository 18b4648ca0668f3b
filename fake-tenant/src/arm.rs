//! Azure Resource Manager (`/arm/...`, apis.md C).

use crate::fact_key::FactKey;
use serde_json::Value;

use crate::http::{
    Ctx, Reply, Service, fact_error, missing_api_version, not_found, route, service_error,
};
use crate::index::Fact;
use crate::paging::{listed, skiptoken_reply, top_or_page_size};

pub(crate) fn handle(ctx: &Ctx) -> Reply {
    if let Some(refused) = missing_api_version(ctx, Service::Arm) {
        return refused;
    }
    let s = &ctx.segs;
    let n = s.len();
    if n > 3
        && route(
            &s[n - 3..],
            &["providers", "Microsoft.EventGrid", "eventSubscriptions"],
        )
        .is_some()
    {
        return event_subscriptions(ctx, &s[..n - 3]);
    }
    if route(s, &["subscriptions"]).is_some() {
        return match data(ctx, FactKey::ArmSubscriptions.as_str()) {
            Ok(d) => arm_page(ctx, d, None),
            Err(r) => r,
        };
    }
    if let Some(c) = route(s, &["subscriptions", "*"]) {
        return subscription(ctx, c[0]);
    }
    if let Some(c) = route(
        s,
        &[
            "subscriptions",
            "*",
            "providers",
            "Microsoft.Communication",
            "communicationServices",
        ],
    ) {
        return communication_services(ctx, c[0]);
    }
    if route(
        s,
        &[
            "subscriptions",
            "*",
            "resourceGroups",
            "*",
            "providers",
            "Microsoft.Communication",
            "communicationServices",
            "*",
        ],
    )
    .is_some()
    {
        return communication_service(ctx);
    }
    not_found(
        Service::Arm,
        &format!("fake-tenant does not serve the ARM path /{}.", s.join("/")),
    )
}

fn data<'a>(ctx: &'a Ctx, key: &str) -> Result<&'a Value, Reply> {
    match ctx.st.index.fact(key) {
        None => Err(not_found(
            Service::Arm,
            &format!(
                "The resource was not found. (fake-tenant: fact {key} is not in the snapshot.)"
            ),
        )),
        Some(Fact::Error(e)) => Err(fact_error(Service::Arm, e)),
        Some(Fact::Data(d)) => Ok(d),
    }
}

fn subscription_not_found(sub: &str) -> Reply {
    service_error(
        Service::Arm,
        404,
        "SubscriptionNotFound",
        &format!("The subscription '{sub}' could not be found."),
    )
}

/// One `nextLink` page of a `{"value":[...]}` list (optionally only the items `keep` accepts).
fn arm_page(ctx: &Ctx, data: &Value, keep: Option<&dyn Fn(&Value) -> bool>) -> Reply {
    let Some((obj, items)) = listed(data, "value") else {
        return Reply::json(200, data.clone());
    };
    let refs: Vec<&Value> = match keep {
        Some(f) => items.iter().filter(|v| f(v)).collect(),
        None => items.iter().collect(),
    };
    skiptoken_reply(ctx, obj, &refs, top_or_page_size(ctx), "nextLink", || {
        service_error(
            Service::Arm,
            400,
            "InvalidSkipToken",
            "The $skiptoken is invalid.",
        )
    })
}

fn subscription(ctx: &Ctx, sub: &str) -> Reply {
    let d = match data(ctx, FactKey::ArmSubscriptions.as_str()) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let found = d
        .get("value")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|s| {
            s.get("subscriptionId")
                .and_then(Value::as_str)
                .is_some_and(|id| id.eq_ignore_ascii_case(sub))
        });
    match found {
        Some(s) => Reply::json(200, s.clone()),
        None => subscription_not_found(sub),
    }
}

/// Lists the Communication Services resources of one subscription (by `id` prefix).
fn communication_services(ctx: &Ctx, sub: &str) -> Reply {
    let d = match data(ctx, FactKey::ArmCommunicationServices.as_str()) {
        Ok(d) => d,
        Err(r) => return r,
    };
    if ctx.st.index.subscription_known(sub) == Some(false) {
        return subscription_not_found(sub);
    }
    let prefix = format!("/subscriptions/{}/", sub.to_ascii_lowercase());
    let keep = |v: &Value| {
        v.get("id")
            .and_then(Value::as_str)
            .is_some_and(|id| id.to_ascii_lowercase().starts_with(&prefix))
    };
    arm_page(ctx, d, Some(&keep))
}

fn communication_service(ctx: &Ctx) -> Reply {
    let d = match data(ctx, FactKey::ArmCommunicationServices.as_str()) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let id = format!("/{}", ctx.segs.join("/"));
    let found = d
        .get("value")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|r| {
            r.get("id")
                .and_then(Value::as_str)
                .is_some_and(|rid| rid.eq_ignore_ascii_case(&id))
        });
    match found {
        Some(r) => Reply::json(200, r.clone()),
        None => resource_not_found(&id),
    }
}

fn resource_not_found(id: &str) -> Reply {
    service_error(
        Service::Arm,
        404,
        "ResourceNotFound",
        &format!(
            "The Resource '{id}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
        ),
    )
}

/// `{acsArmId}/providers/Microsoft.EventGrid/eventSubscriptions`, keyed by lower-case ARM id.
fn event_subscriptions(ctx: &Ctx, resource: &[String]) -> Reply {
    let key = FactKey::ArmEventSubscriptions.as_str();
    if let Err(r) = data(ctx, key) {
        return r;
    }
    let id = format!("/{}", resource.join("/"));
    match ctx.st.index.keyed(key, &id) {
        Some(v) => arm_page(ctx, v, None),
        None if ctx.st.index.acs_known(&id) => {
            arm_page(ctx, &serde_json::json!({"value": []}), None)
        }
        None => resource_not_found(&id),
    }
}
