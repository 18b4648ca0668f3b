//! Azure Resource Manager facts: subscriptions, ACS resources and their IncomingCall Event Grid
//! subscriptions (only visible for customer-owned ACS; D365-provisioned ACS lives in a
//! Microsoft-managed subscription).

use crate::fact_key::FactKey;
use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::fact::{Fact, Unavailable, UnavailableKind, read};
use super::raw::{keyed, prop, records, required_str, str_prop, string_list};
use crate::ids::guid_or_raw;
use crate::snapshot::Snapshot;
use crate::source_catalog;

#[derive(Debug, Clone, Serialize)]
pub struct Azure {
    /// `arm.subscriptions`.
    pub subscriptions: Fact<Vec<Subscription>>,
    /// `arm.communicationServices`, keyed by immutable resource id (lower-case GUID).
    pub acs_resources: Fact<BTreeMap<String, AcsResource>>,
    /// `arm.eventSubscriptions`, keyed by the ACS resource's immutable id.
    pub event_subscriptions: Fact<BTreeMap<String, Vec<EventSubscription>>>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Subscription {
    pub id: String,
    pub display_name: Option<String>,
    pub state: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AcsResource {
    pub arm_id: String,
    pub name: String,
    pub immutable_resource_id: String,
    /// e.g. `United States`; absent (omitted) when the resource does not carry `dataLocation`,
    /// `null` when it is null or empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_location: Option<Option<String>>,
    pub provisioning_state: Option<String>,
    pub host_name: Option<String>,
    pub subscription_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EventSubscription {
    pub name: String,
    /// `filter.includedEventTypes`; absent (omitted) with `includes_all_event_types` when the
    /// subscription does not carry it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub included_event_types: Option<Vec<String>>,
    /// `filter.includedEventTypes` is null, which Event Grid documents as "every event type"
    /// (IncomingCall included), so an empty `included_event_types` is not "none".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub includes_all_event_types: Option<bool>,
    /// Absent (omitted) when not sent; `null` when null or empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<Option<String>>,
    /// `WebHook`, `AzureFunction`, ...
    pub endpoint_type: Option<String>,
}

impl Azure {
    pub fn facts(&self) -> Vec<(&'static str, Option<&Unavailable>)> {
        vec![
            ("azure.subscriptions", self.subscriptions.unavailable()),
            ("azure.acs_resources", self.acs_resources.unavailable()),
            (
                "azure.event_subscriptions",
                self.event_subscriptions.unavailable(),
            ),
        ]
    }
}

const SUBSCRIPTIONS: FactKey = FactKey::ArmSubscriptions;
const ACS_RESOURCES: FactKey = FactKey::ArmCommunicationServices;
const EVENT_SUBSCRIPTIONS: FactKey = FactKey::ArmEventSubscriptions;
const ACS_TYPE: &str = "Microsoft.Communication/CommunicationServices";

/// Normalizes the ARM facts of a snapshot.
pub fn normalize(snapshot: &Snapshot) -> Azure {
    let subscriptions = read(snapshot, SUBSCRIPTIONS, parse_subscriptions);
    let acs_resources = read(snapshot, ACS_RESOURCES, parse_acs_resources);
    let known = acs_resources.value();
    let event_subscriptions = read(snapshot, EVENT_SUBSCRIPTIONS, |data| {
        parse_event_subscriptions(data, known)
    })
    .and_then(|parsed| match parsed {
        Ok(by_resource) => Fact::Available(by_resource),
        Err(unreadable) => Fact::Unavailable(unreadable),
    });
    Azure {
        subscriptions,
        acs_resources,
        event_subscriptions,
    }
}

/// The segment after `name` in an ARM id (`/subscriptions/{this}/...`), matched
/// case-insensitively.
fn arm_segment(arm_id: &str, name: &str) -> Option<String> {
    let mut parts = arm_id.split('/').filter(|p| !p.is_empty());
    parts.find(|p| p.eq_ignore_ascii_case(name))?;
    parts.next().map(str::to_string)
}

/// ARM resources list their fields under `properties`; flattened renderings (az CLI, some
/// SDKs) put them at the top level, so both are read.
fn arm_prop(item: &Value, name: &str) -> Option<String> {
    prop(item, "properties")
        .and_then(|p| str_prop(p, &[name]))
        .or_else(|| str_prop(item, &[name]))
}

/// An ARM property the resource should carry (under `properties` or flattened): `None` when it
/// has it in neither place (noted as an absence of `record`'s `name`, read into `model_field`),
/// `Some(None)` when it is null or empty.
fn arm_sent(item: &Value, record: &str, name: &str, model_field: &str) -> Option<Option<String>> {
    let sent = prop(item, "properties").is_some_and(|p| prop(p, name).is_some())
        || prop(item, name).is_some();
    if !sent {
        super::absence::note(record, name, model_field, item);
        return None;
    }
    Some(arm_prop(item, name))
}

fn parse_subscriptions(data: &Value) -> Result<Vec<Subscription>, String> {
    records(data, &[])?
        .into_iter()
        .enumerate()
        .map(|(i, row)| {
            let id = str_prop(row, &["subscriptionId"])
                .or_else(|| str_prop(row, &["id"]).and_then(|id| arm_segment(&id, "subscriptions")))
                .ok_or_else(|| format!("subscription {i} has no `subscriptionId`"))?;
            Ok(Subscription {
                id: guid_or_raw(&id),
                display_name: str_prop(row, &["displayName"]),
                state: str_prop(row, &["state"]),
            })
        })
        .collect()
}

fn parse_acs_resources(data: &Value) -> Result<BTreeMap<String, AcsResource>, String> {
    let mut resources = BTreeMap::new();
    for (i, row) in records(data, &[])?.into_iter().enumerate() {
        // A merged list could carry other resource types; only ACS resources belong here.
        if str_prop(row, &["type"]).is_some_and(|t| !t.eq_ignore_ascii_case(ACS_TYPE)) {
            continue;
        }
        let arm_id = required_str(row, &["id"]).map_err(|e| format!("resource {i}: {e}"))?;
        let immutable = arm_prop(row, "immutableResourceId")
            .ok_or_else(|| format!("{arm_id} has no `properties.immutableResourceId`"))?;
        let name = str_prop(row, &["name"])
            .or_else(|| {
                arm_id
                    .rsplit('/')
                    .find(|p| !p.is_empty())
                    .map(str::to_string)
            })
            .unwrap_or_default();
        let immutable_resource_id = guid_or_raw(&immutable);
        resources
            .entry(immutable_resource_id.clone())
            .or_insert(AcsResource {
                subscription_id: arm_segment(&arm_id, "subscriptions").map(|s| guid_or_raw(&s)),
                name,
                immutable_resource_id,
                data_location: arm_sent(row, &arm_id, "dataLocation", "data_location"),
                provisioning_state: arm_prop(row, "provisioningState"),
                host_name: arm_prop(row, "hostName"),
                arm_id,
            });
    }
    Ok(resources)
}

/// Event subscriptions per ACS resource. The outer `Result` is the shape; the inner one is an
/// ARM error stored for one resource, which makes the whole fact unreadable rather than
/// reporting that resource as having no subscriptions.
fn parse_event_subscriptions(
    data: &Value,
    known: Option<&BTreeMap<String, AcsResource>>,
) -> Result<Result<BTreeMap<String, Vec<EventSubscription>>, Unavailable>, String> {
    let mut out: BTreeMap<String, Vec<EventSubscription>> = BTreeMap::new();
    for (arm_id, response) in keyed(data)? {
        if let Some(unreadable) = embedded_error(arm_id, response) {
            return Ok(Err(unreadable));
        }
        // The collector keys by lower-case ARM id; the model keys by the resource's immutable id
        // so checks can join with Dataverse and Teams, which only know that id.
        let key = known
            .and_then(|resources| {
                resources
                    .values()
                    .find(|r| r.arm_id.eq_ignore_ascii_case(arm_id))
            })
            .map(|r| r.immutable_resource_id.clone())
            .unwrap_or_else(|| arm_id.to_ascii_lowercase());
        let rows = match response {
            Value::Null => Vec::new(),
            other => records(other, &[]).map_err(|e| format!("{arm_id}: {e}"))?,
        };
        let subs = out.entry(key).or_default();
        for (i, row) in rows.into_iter().enumerate() {
            subs.push(
                parse_event_subscription(row).map_err(|e| format!("{arm_id}: item {i}: {e}"))?,
            );
        }
    }
    Ok(Ok(out))
}

fn parse_event_subscription(row: &Value) -> Result<EventSubscription, String> {
    let name = str_prop(row, &["name"])
        .or_else(|| {
            str_prop(row, &["id"])
                .and_then(|id| id.rsplit('/').find(|p| !p.is_empty()).map(str::to_string))
        })
        .ok_or("no `name` or `id`")?;
    let properties = prop(row, "properties").unwrap_or(row);
    let filter = prop(properties, "filter");
    let types = filter.and_then(|f| prop(f, "includedEventTypes"));
    if types.is_none() {
        super::absence::note(
            &name,
            "filter.includedEventTypes",
            "included_event_types",
            properties,
        );
    }
    let provisioning_state = match prop(properties, "provisioningState") {
        None => {
            super::absence::note(&name, "provisioningState", "provisioning_state", properties);
            None
        }
        Some(_) => Some(str_prop(properties, &["provisioningState"])),
    };
    Ok(EventSubscription {
        name,
        // Event Grid documents a null list as "all event types".
        includes_all_event_types: types.map(Value::is_null),
        included_event_types: types.map(|t| string_list(Some(t), &[])),
        provisioning_state,
        endpoint_type: prop(properties, "destination").and_then(|d| str_prop(d, &["endpointType"])),
    })
}

/// An ARM error envelope (`{"error":{"code","message"}}`) stored in place of one resource's
/// response, as an unavailable fact naming the resource.
fn embedded_error(arm_id: &str, response: &Value) -> Option<Unavailable> {
    let error = prop(response, "error").filter(|e| e.is_object())?;
    if prop(response, "value").is_some() {
        return None;
    }
    let code = str_prop(error, &["code"]).unwrap_or_default();
    let message = str_prop(error, &["message"]).unwrap_or_default();
    let kind = match code.as_str() {
        "AuthorizationFailed" | "InvalidAuthenticationToken" | "Forbidden" => {
            UnavailableKind::Forbidden
        }
        "ResourceNotFound" | "ResourceGroupNotFound" | "SubscriptionNotFound" | "NotFound" => {
            UnavailableKind::NotFound
        }
        _ => UnavailableKind::ServiceError,
    };
    Some(Unavailable {
        kind,
        reason: format!(
            "event subscriptions of {arm_id}: {code} {}",
            message.lines().next().unwrap_or("")
        )
        .trim()
        .to_string(),
        needs: source_catalog::source(EVENT_SUBSCRIPTIONS).map(|s| s.needs.to_string()),
        sources: vec![EVENT_SUBSCRIPTIONS.to_string()],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_support::snapshot_from_json as snapshot;
    use serde_json::json;

    const ACS_ARM_ID: &str = "/subscriptions/11112222-3333-4444-5555-666677778888/resourceGroups/rg-cc/providers/Microsoft.Communication/CommunicationServices/acs-d365-prod";

    fn acs_resource(arm_id: &str, kind: &str, immutable: &str) -> Value {
        json!({"id": arm_id, "name": "acs-d365-prod", "type": kind, "location": "global",
            "properties": {"provisioningState": "Succeeded", "hostName": "acs-d365-prod.unitedstates.communication.azure.com",
                "dataLocation": "United States", "immutableResourceId": immutable, "linkedDomains": []}})
    }

    fn incoming_call_subscription() -> Value {
        json!({"value": [{"id": format!("{ACS_ARM_ID}/providers/Microsoft.EventGrid/eventSubscriptions/tpe-incoming-call"),
            "name": "tpe-incoming-call", "type": "Microsoft.EventGrid/eventSubscriptions",
            "properties": {"provisioningState": "Succeeded",
                "destination": {"endpointType": "WebHook", "properties": {"endpointBaseUrl": "https://cc.contoso.com/api/incomingCall"}},
                "filter": {"includedEventTypes": ["Microsoft.Communication.IncomingCall"]}}}]})
    }

    fn with_acs(event_subscriptions: Value) -> Azure {
        normalize(&snapshot(json!({
            "arm.communicationServices": {"endpoint": "GET acs", "data": {"value": [
                acs_resource(ACS_ARM_ID, "Microsoft.Communication/CommunicationServices", "bb567890-1234-1234-1234-bbb123456789")]}},
            "arm.eventSubscriptions": {"endpoint": "GET eg", "data": event_subscriptions},
        })))
    }

    #[test]
    fn subscriptions_are_read_from_the_arm_list() {
        let azure = normalize(&snapshot(
            json!({"arm.subscriptions": {"endpoint": "GET subs", "data": {
            "value": [
                {"id": "/subscriptions/11112222-3333-4444-5555-666677778888", "subscriptionId": "11112222-3333-4444-5555-666677778888",
                 "displayName": "Contact Center Prod", "state": "Enabled"},
                {"id": "/subscriptions/AAAABBBB-3333-4444-5555-666677778888", "displayName": "Legacy", "state": "Disabled"}
            ],
            "count": {"type": "Total", "value": 2}}}}),
        ));
        let subs = azure.subscriptions.value().unwrap();
        assert_eq!(
            subs[0],
            Subscription {
                id: "11112222-3333-4444-5555-666677778888".into(),
                display_name: Some("Contact Center Prod".into()),
                state: Some("Enabled".into()),
            }
        );
        assert_eq!(
            subs[1].id, "aaaabbbb-3333-4444-5555-666677778888",
            "falls back to the ARM id"
        );
    }

    #[test]
    fn acs_resources_are_keyed_by_canonical_immutable_id_whatever_the_type_casing() {
        let azure = normalize(&snapshot(
            json!({"arm.communicationServices": {"endpoint": "GET acs", "data": {"value": [
                acs_resource(ACS_ARM_ID, "microsoft.communication/communicationservices", "{BB567890-1234-1234-1234-BBB123456789}"),
                acs_resource("/subscriptions/x/resourceGroups/rg/providers/Microsoft.Web/sites/app", "Microsoft.Web/sites", "cc567890-1234-1234-1234-bbb123456789"),
            ]}}}),
        ));
        let resources = azure.acs_resources.value().unwrap();
        assert_eq!(
            resources.len(),
            1,
            "other resource types are not ACS resources"
        );
        let acs = &resources["bb567890-1234-1234-1234-bbb123456789"];
        assert_eq!(acs.arm_id, ACS_ARM_ID);
        assert_eq!(acs.name, "acs-d365-prod");
        assert_eq!(
            acs.immutable_resource_id,
            "bb567890-1234-1234-1234-bbb123456789"
        );
        assert_eq!(
            acs.subscription_id.as_deref(),
            Some("11112222-3333-4444-5555-666677778888")
        );
        assert_eq!(acs.data_location, Some(Some("United States".into())));
        assert_eq!(acs.provisioning_state.as_deref(), Some("Succeeded"));
        assert_eq!(
            acs.host_name.as_deref(),
            Some("acs-d365-prod.unitedstates.communication.azure.com")
        );
    }

    #[test]
    fn acs_resource_without_immutable_id_is_malformed() {
        let azure = normalize(&snapshot(
            json!({"arm.communicationServices": {"endpoint": "GET acs", "data": {"value": [
            {"id": ACS_ARM_ID, "name": "acs-d365-prod", "properties": {"dataLocation": "United States"}}]}}}),
        ));
        let u = azure.acs_resources.unavailable().unwrap();
        assert_eq!(u.kind, UnavailableKind::Malformed);
        assert!(u.reason.contains("immutableResourceId"), "{}", u.reason);
    }

    #[test]
    fn collection_of_the_wrong_type_is_malformed() {
        let azure = normalize(&snapshot(
            json!({"arm.subscriptions": {"endpoint": "GET subs", "data": {"value": "oops"}}}),
        ));
        assert_eq!(
            azure.subscriptions.unavailable().unwrap().kind,
            UnavailableKind::Malformed
        );
    }

    #[test]
    fn arm_authorization_failure_is_forbidden_and_names_reader() {
        let azure = normalize(&snapshot(
            json!({"arm.communicationServices": {"endpoint": "GET acs", "error": {
            "status": 403, "code": "AuthorizationFailed",
            "message": "The client 'x' with object id 'x' does not have authorization to perform action 'Microsoft.Communication/communicationServices/read'"}}}),
        ));
        let u = azure.acs_resources.unavailable().unwrap();
        assert_eq!(u.kind, UnavailableKind::Forbidden);
        assert!(u.needs.as_deref().unwrap().contains("Reader"));
    }

    #[test]
    fn event_subscriptions_are_keyed_by_the_immutable_id_of_a_known_resource_matched_case_insensitively()
     {
        let azure =
            with_acs(json!({ACS_ARM_ID.to_ascii_lowercase(): incoming_call_subscription()}));
        let subs = azure.event_subscriptions.value().unwrap();
        let list = &subs["bb567890-1234-1234-1234-bbb123456789"];
        assert_eq!(
            list[0],
            EventSubscription {
                name: "tpe-incoming-call".into(),
                included_event_types: Some(vec!["Microsoft.Communication.IncomingCall".into()]),
                includes_all_event_types: Some(false),
                provisioning_state: Some(Some("Succeeded".into())),
                endpoint_type: Some("WebHook".into()),
            }
        );
    }

    #[test]
    fn event_subscriptions_of_an_unknown_resource_are_keyed_by_lower_case_arm_id() {
        let other = "/subscriptions/9/resourceGroups/RG/providers/Microsoft.Communication/CommunicationServices/Other";
        let azure = with_acs(json!({other: incoming_call_subscription()}));
        let subs = azure.event_subscriptions.value().unwrap();
        assert!(subs.contains_key(&other.to_ascii_lowercase()));

        let azure = normalize(&snapshot(
            json!({"arm.eventSubscriptions": {"endpoint": "GET eg",
            "data": {ACS_ARM_ID: incoming_call_subscription()}}}),
        ));
        let subs = azure.event_subscriptions.value().unwrap();
        assert!(
            subs.contains_key(&ACS_ARM_ID.to_ascii_lowercase()),
            "acs_resources not collected"
        );
    }

    #[test]
    fn resource_without_event_subscriptions_has_an_empty_list() {
        let azure = with_acs(json!({ACS_ARM_ID: null}));
        assert_eq!(
            azure.event_subscriptions.value().unwrap()["bb567890-1234-1234-1234-bbb123456789"],
            vec![]
        );
        let azure = with_acs(json!({ACS_ARM_ID: {"value": []}}));
        assert!(
            azure.event_subscriptions.value().unwrap()["bb567890-1234-1234-1234-bbb123456789"]
                .is_empty()
        );
    }

    #[test]
    fn null_included_event_types_means_every_event_type() {
        let azure = with_acs(json!({ACS_ARM_ID: {"value": [{"name": "all-events",
            "properties": {"provisioningState": "Succeeded", "destination": {"endpointType": "AzureFunction"},
                "filter": {"includedEventTypes": null}}}]}}));
        let sub =
            &azure.event_subscriptions.value().unwrap()["bb567890-1234-1234-1234-bbb123456789"][0];
        assert_eq!(sub.includes_all_event_types, Some(true));
        assert_eq!(sub.included_event_types, Some(vec![]));
        assert_eq!(sub.endpoint_type.as_deref(), Some("AzureFunction"));
    }

    #[test]
    fn fields_not_sent_are_absent_not_defaulted() {
        // Without `includedEventTypes` the subscription is not "every event type", and without
        // `provisioningState` it is not "no state": both are left out of the model.
        let azure = with_acs(json!({ACS_ARM_ID: {"value": [{"name": "bare",
            "properties": {"destination": {"endpointType": "WebHook"}, "filter": {}}}]}}));
        let sub =
            &azure.event_subscriptions.value().unwrap()["bb567890-1234-1234-1234-bbb123456789"][0];
        assert_eq!(sub.includes_all_event_types, None);
        assert_eq!(sub.included_event_types, None);
        assert_eq!(sub.provisioning_state, None);
        let json = serde_json::to_value(sub).unwrap();
        for key in [
            "includes_all_event_types",
            "included_event_types",
            "provisioning_state",
        ] {
            assert!(json.get(key).is_none(), "{key} is omitted: {json}");
        }

        let mut row = acs_resource(
            ACS_ARM_ID,
            "Microsoft.Communication/CommunicationServices",
            "bb567890-1234-1234-1234-bbb123456789",
        );
        row["properties"]
            .as_object_mut()
            .unwrap()
            .remove("dataLocation");
        let azure = normalize(&snapshot(
            json!({"arm.communicationServices": {"endpoint": "GET acs", "data": {"value": [row]}}}),
        ));
        let acs = &azure.acs_resources.value().unwrap()["bb567890-1234-1234-1234-bbb123456789"];
        assert_eq!(acs.data_location, None);
        assert!(
            serde_json::to_value(acs)
                .unwrap()
                .get("data_location")
                .is_none()
        );
    }

    #[test]
    fn arm_error_stored_for_one_resource_makes_event_subscriptions_forbidden_not_empty() {
        let azure = with_acs(json!({ACS_ARM_ID: {"error": {"code": "AuthorizationFailed",
            "message": "does not have authorization to perform action 'Microsoft.EventGrid/eventSubscriptions/read'"}}}));
        let u = azure.event_subscriptions.unavailable().unwrap();
        assert_eq!(u.kind, UnavailableKind::Forbidden);
        assert!(u.reason.contains("AuthorizationFailed"), "{}", u.reason);
        assert!(
            u.needs
                .as_deref()
                .unwrap()
                .contains("eventSubscriptions/read")
        );
    }

    #[test]
    fn event_subscriptions_not_keyed_by_resource_are_malformed() {
        let azure = with_acs(json!([incoming_call_subscription()]));
        assert_eq!(
            azure.event_subscriptions.unavailable().unwrap().kind,
            UnavailableKind::Malformed
        );
        let azure = with_acs(json!({ACS_ARM_ID: {"value": [{"properties": {}}]}}));
        assert_eq!(
            azure.event_subscriptions.unavailable().unwrap().kind,
            UnavailableKind::Malformed
        );
    }

    #[test]
    fn missing_facts_are_not_collected() {
        let azure = normalize(&snapshot(json!({})));
        for (path, u) in azure.facts() {
            assert_eq!(u.unwrap().kind, UnavailableKind::NotCollected, "{path}");
        }
    }
}
