//! Azure Resource Manager collectors (docs/live-requests.md rows 19-21): subscriptions, the
//! Communication Services resources in them, and the Event Grid subscriptions on each.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::endpoints::Service;
use super::http::FetchError;
use super::paging::Paging;
use super::run::Run;
use crate::fact_key::FactKey;
use crate::json::str_prop;
use crate::snapshot::{ErrorCode, SourceError};

const SUBSCRIPTIONS: &str = "/subscriptions?api-version=2022-12-01";
pub(crate) const ACS_API: &str = "2023-04-01";
pub(crate) const EVENT_GRID_API: &str = "2025-02-15";

/// Subscriptions, then ACS resources per subscription (merged into one `value`), then Event
/// Grid subscriptions per ACS resource (keyed by lower-case ARM id). Each step starts as soon
/// as the previous one has its ids.
pub(crate) async fn collect(run: &Run<'_>) {
    let wanted: Vec<String> = run
        .options
        .subscriptions
        .iter()
        .map(|s| s.trim().to_ascii_lowercase())
        .collect();
    let listed = run
        .client
        .get_paged(Service::Arm, SUBSCRIPTIONS, &[], Paging::ArmNextLink)
        .await;
    let scan: Option<Vec<String>> = match &listed {
        Ok(v) => {
            let visible = subscription_ids(v);
            Some(if wanted.is_empty() {
                visible
            } else {
                // `--subscription` limits the scan; an id that is not visible is still tried,
                // so a typo shows up as SubscriptionNotFound instead of being ignored.
                wanted.clone()
            })
        }
        Err(_) if !wanted.is_empty() => Some(wanted.clone()),
        Err(_) => None,
    };
    let listed = listed.map(|v| limit_to(v, &wanted));
    run.record(
        FactKey::ArmSubscriptions,
        &run.label(Service::Arm, SUBSCRIPTIONS),
        listed,
    );

    let acs_label = format!(
        "GET {}/subscriptions/{{sub}}/providers/Microsoft.Communication/communicationServices?api-version={ACS_API}",
        run.base(Service::Arm)
    );
    let eg_label = format!(
        "GET {}{{acsResourceId}}/providers/Microsoft.EventGrid/eventSubscriptions?api-version={EVENT_GRID_API}",
        run.base(Service::Arm)
    );
    let Some(scan) = scan else {
        let dependency = |what: &str| SourceError {
            status: None,
            code: Some(ErrorCode::DependencyUnavailable),
            message: format!("not read: {what}"),
        };
        run.record_error(
            FactKey::ArmCommunicationServices,
            &acs_label,
            dependency("the subscription list (arm.subscriptions) is unavailable; grant Reader or pass --subscription ID"),
        );
        run.record_error(
            FactKey::ArmEventSubscriptions,
            &eg_label,
            dependency("the ACS resources (arm.communicationServices) are unavailable"),
        );
        return;
    };

    let acs = communication_services(run, &scan).await;
    let acs_ids = acs.as_ref().ok().map(resource_ids);
    run.record(FactKey::ArmCommunicationServices, &acs_label, acs);
    match acs_ids {
        Some(ids) => {
            let subs = event_subscriptions(run, ids).await;
            run.record(FactKey::ArmEventSubscriptions, &eg_label, subs);
        }
        None => run.record_error(
            FactKey::ArmEventSubscriptions,
            &eg_label,
            SourceError {
                status: None,
                code: Some(ErrorCode::DependencyUnavailable),
                message: "not read: the ACS resources (arm.communicationServices) are unavailable"
                    .into(),
            },
        ),
    }
}

fn subscription_ids(v: &Value) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for s in v
        .get("value")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(id) = str_prop(s, &["subscriptionId"]) {
            let id = id.to_ascii_lowercase();
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    ids
}

/// The subscription list restricted to `--subscription` ids (all when none given).
fn limit_to(mut v: Value, wanted: &[String]) -> Value {
    if wanted.is_empty() {
        return v;
    }
    if let Some(Value::Array(items)) = v.get_mut("value") {
        items.retain(|s| {
            str_prop(s, &["subscriptionId"])
                .is_some_and(|id| wanted.contains(&id.to_ascii_lowercase()))
        });
    }
    if let Some(obj) = v.as_object_mut() {
        // A count of the unfiltered list would contradict the items.
        obj.remove("count");
    }
    v
}

/// ACS resources of every subscription, merged. One unreadable subscription makes the fact
/// unavailable: a partial list would report the resource in it as missing.
async fn communication_services(run: &Run<'_>, subs: &[String]) -> Result<Value, FetchError> {
    let mut tasks = tokio::task::JoinSet::new();
    for (i, sub) in subs.iter().enumerate() {
        let client = run.client.clone();
        let path = format!(
            "/subscriptions/{sub}/providers/Microsoft.Communication/communicationServices?api-version={ACS_API}"
        );
        tasks.spawn(async move {
            (
                i,
                client
                    .get_paged(Service::Arm, &path, &[], Paging::ArmNextLink)
                    .await,
            )
        });
    }
    let mut pages: BTreeMap<usize, Value> = BTreeMap::new();
    let mut first_error: Option<(usize, FetchError)> = None;
    while let Some(joined) = tasks.join_next().await {
        let Ok((i, result)) = joined else { continue };
        match result {
            Ok(v) => {
                pages.insert(i, v);
            }
            Err(e) => {
                if first_error.as_ref().is_none_or(|(j, _)| i < *j) {
                    first_error = Some((i, e));
                }
            }
        }
    }
    if let Some((_, e)) = first_error {
        return Err(e);
    }
    let mut value = Vec::new();
    for (_, page) in pages {
        if let Some(Value::Array(items)) = page.get("value").cloned() {
            value.extend(items);
        }
    }
    Ok(json!({ "value": value }))
}

/// ARM ids of the ACS resources, as returned (they are used as URL paths).
fn resource_ids(v: &Value) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for r in v
        .get("value")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(id) = str_prop(r, &["id"])
            && id.to_ascii_lowercase().starts_with("/subscriptions/")
            && !ids.iter().any(|x| x.eq_ignore_ascii_case(&id))
        {
            ids.push(id);
        }
    }
    ids
}

/// Event Grid subscriptions per ACS resource, keyed by lower-case ARM id.
async fn event_subscriptions(run: &Run<'_>, ids: Vec<String>) -> Result<Value, FetchError> {
    let mut tasks = tokio::task::JoinSet::new();
    for id in ids {
        let client = run.client.clone();
        let path = format!(
            "{id}/providers/Microsoft.EventGrid/eventSubscriptions?api-version={EVENT_GRID_API}"
        );
        tasks.spawn(async move {
            let result = client
                .get_paged(Service::Arm, &path, &[], Paging::ArmNextLink)
                .await;
            (id.to_ascii_lowercase(), result)
        });
    }
    let mut keyed = Map::new();
    let mut first_error: Option<(String, FetchError)> = None;
    while let Some(joined) = tasks.join_next().await {
        let Ok((id, result)) = joined else { continue };
        match result {
            Ok(v) => {
                keyed.insert(id, v);
            }
            Err(e) => {
                if first_error.as_ref().is_none_or(|(j, _)| id < *j) {
                    first_error = Some((id, e));
                }
            }
        }
    }
    if let Some((_, e)) = first_error {
        return Err(e);
    }
    keyed.sort_keys();
    Ok(Value::Object(keyed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscription_filter_keeps_only_the_named_ones() {
        let v = json!({"value":[{"subscriptionId":"AAA"},{"subscriptionId":"bbb"}],"count":{"value":2}});
        assert_eq!(subscription_ids(&v), vec!["aaa", "bbb"]);
        let limited = limit_to(v.clone(), &["aaa".to_string()]);
        assert_eq!(limited, json!({"value":[{"subscriptionId":"AAA"}]}));
        assert_eq!(limit_to(v.clone(), &[]), v);
    }

    #[test]
    fn resource_ids_are_arm_paths_only() {
        let v = json!({"value":[{"id":"/subscriptions/s/resourceGroups/r/providers/Microsoft.Communication/communicationServices/a"},
            {"id":"not-a-path"},{"id":"/SUBSCRIPTIONS/s/resourceGroups/r/providers/Microsoft.Communication/communicationServices/A"}]});
        assert_eq!(resource_ids(&v).len(), 1);
    }
}
