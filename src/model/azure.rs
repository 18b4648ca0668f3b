//! Azure Resource Manager facts: subscriptions, ACS resources and their IncomingCall Event Grid
//! subscriptions (only visible for customer-owned ACS; D365-provisioned ACS lives in a
//! Microsoft-managed subscription).

use std::collections::BTreeMap;

use serde::Serialize;

use super::fact::{Fact, Unavailable};
use crate::snapshot::Snapshot;

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
    /// e.g. `United States`.
    pub data_location: Option<String>,
    pub provisioning_state: Option<String>,
    pub host_name: Option<String>,
    pub subscription_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EventSubscription {
    pub name: String,
    pub included_event_types: Vec<String>,
    pub provisioning_state: Option<String>,
    /// `WebHook`, `AzureFunction`, ...
    pub endpoint_type: Option<String>,
}

impl Azure {
    pub fn facts(&self) -> Vec<(&'static str, Option<&Unavailable>)> {
        vec![
            ("azure.subscriptions", self.subscriptions.unavailable()),
            ("azure.acs_resources", self.acs_resources.unavailable()),
            ("azure.event_subscriptions", self.event_subscriptions.unavailable()),
        ]
    }
}

/// Normalizes the ARM facts of a snapshot.
pub fn normalize(snapshot: &Snapshot) -> Azure {
    let _ = snapshot;
    unimplemented!("azure normalizer")
}
