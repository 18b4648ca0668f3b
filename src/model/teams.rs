//! Teams facts: ACS federation, external access, tenant federation, resource accounts, their
//! associations, phone numbers and per-user Teams configuration.

use std::collections::BTreeMap;

use serde::Serialize;

use super::fact::{Fact, Unavailable};
use crate::snapshot::Snapshot;

/// Application ids Microsoft uses for its own voice apps; a TPE resource account must not use them.
pub const AUTO_ATTENDANT_APP_ID: &str = "ce933385-9390-45d1-9512-c8d228074e07";
pub const CALL_QUEUE_APP_ID: &str = "11cd3e2e-fccb-42ad-ad00-878b93575e07";
/// The Dynamics app id printed in the D365 docs' example cmdlets; the tenant's own value
/// comes from Dataverse (`DynamicsAppId`).
pub const DOCUMENTED_D365_APP_ID: &str = "4b8f0dce-d7d5-47a3-a27c-1764b90505e2";

#[derive(Debug, Clone, Serialize)]
pub struct Teams {
    /// `teams.TeamsAcsFederationConfiguration` (the Global instance).
    pub acs_federation: Fact<AcsFederation>,
    /// `teams.ExternalAccessPolicy`, keyed by lower-case policy name without `Tag:`
    /// (`global`, `federationonly`, ...).
    pub external_access_policies: Fact<BTreeMap<String, ExternalAccessPolicy>>,
    /// `teams.TenantFederationSettings` (the Global instance).
    pub tenant_federation: Fact<TenantFederation>,
    /// `graph.resourceAccounts`, else `teams.applicationInstances`; keyed by object id.
    pub resource_accounts: Fact<BTreeMap<String, ResourceAccount>>,
    /// `teams.applicationInstanceAssociations`: resource account id → auto attendant / call queue
    /// associations.
    pub ra_associations: Fact<BTreeMap<String, Vec<RaAssociation>>>,
    /// `graph.numberAssignments`, else `teams.telephoneNumbers`; keyed by E.164.
    pub numbers: Fact<BTreeMap<String, PhoneNumber>>,
    /// Assignment target object id → the E.164 numbers assigned to it (same source as `numbers`).
    pub numbers_by_target: Fact<BTreeMap<String, Vec<String>>>,
    /// `graph.userConfigurations`, completed by `teams.onlineUsers`; keyed by object id.
    pub users: Fact<BTreeMap<String, TeamsUser>>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct AcsFederation {
    pub enable_acs_users: bool,
    /// Canonical (lower-case bare GUID) entries; entries that are not GUIDs are kept as written.
    pub allowed_acs_resources: Vec<String>,
    /// Entries of `AllowedAcsResources` that are not GUIDs (e.g. ARM paths), as written.
    pub allowed_acs_resources_invalid: Vec<String>,
    /// Deprecated; `null` when the service no longer returns it.
    pub allow_all_acs_resources: Option<bool>,
    /// Deprecated; canonical GUIDs.
    pub blocked_acs_resources: Vec<String>,
    pub require_acs_federation_for_meeting: Option<bool>,
    pub label_for_allowed_acs_users: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ExternalAccessPolicy {
    /// As returned: `Global` or `Tag:Name`.
    pub identity: String,
    /// Name as assignments show it: `Global` or `Name`.
    pub name: String,
    /// `EnableAcsFederationAccess`; the documented default `true` when the property is absent.
    pub enable_acs_federation_access: bool,
    pub enable_federation_access: Option<bool>,
    pub enable_teams_consumer_access: Option<bool>,
    pub communication_with_external_orgs: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TenantFederation {
    pub allow_federated_users: Option<bool>,
    /// `all_known` (AllowAllKnownDomains or empty), `list` (explicit list).
    pub allowed_domains_mode: String,
    pub allowed_domains: Vec<String>,
    pub blocked_domains: Vec<String>,
    pub block_all_subdomains: Option<bool>,
    pub allow_teams_consumer: Option<bool>,
    pub allow_teams_consumer_inbound: Option<bool>,
    pub external_access_with_trial_tenants: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ResourceAccount {
    /// Object id (lower-case GUID).
    pub id: String,
    pub upn: String,
    pub display_name: Option<String>,
    /// Canonical GUID, or the raw text when it is not a GUID; `null` when unset.
    pub application_id: Option<String>,
    /// `auto_attendant`, `call_queue`, `documented_example` (4b8f0dce-...), `other`, `none`.
    pub application_kind: String,
    /// Canonical GUID, or the raw text (e.g. an ARM path); `null` when unset.
    pub acs_resource_id: Option<String>,
    pub acs_resource_id_is_guid: bool,
    /// E.164, from the resource account itself (`phoneNumber`).
    pub phone_number: Option<String>,
    /// `graph` or `teams`.
    pub source: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RaAssociation {
    /// `AutoAttendant` or `CallQueue`.
    pub config_type: String,
    pub config_id: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PhoneNumber {
    /// E.164.
    pub number: String,
    /// camelCase as Graph spells it: `callingPlan`, `operatorConnect`, `directRouting`, ...
    pub number_type: String,
    /// `activated`, `assignmentPending`, `assignmentFailed`, `updatePending`, `updateFailed`.
    pub activation_state: String,
    /// camelCase: `voiceApplicationAssignment`, `userAssignment`, `conferenceAssignment`, ...
    pub capabilities: Vec<String>,
    /// camelCase: `unassigned`, `userAssigned`, `voiceApplicationAssigned`,
    /// `thirdPartyAppAssigned`, ...
    pub assignment_status: String,
    /// Lower-case object id of the user or resource account it is assigned to.
    pub assignment_target_id: Option<String>,
    pub operator_id: Option<String>,
    pub operator_name: Option<String>,
    pub iso_country_code: Option<String>,
    /// `graph` or `teams`.
    pub source: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TeamsUser {
    pub id: String,
    pub upn: Option<String>,
    /// camelCase: `user`, `resourceAccount`, `guest`, `sfbOnPremUser`, `unknown`.
    pub account_type: Option<String>,
    pub enterprise_voice_enabled: Option<bool>,
    pub feature_types: Vec<String>,
    /// `TeamsOnly`, `Islands`, ... when the source reports it.
    pub teams_upgrade_effective_mode: Option<String>,
    /// Lower-case key into `external_access_policies` of the effective policy (`global` when
    /// none is assigned).
    pub external_access_policy: String,
    /// Name of the effective online voice routing policy; `null` when none.
    pub online_voice_routing_policy: Option<String>,
    /// policyType → assigned policy name, as reported.
    pub effective_policies: BTreeMap<String, String>,
}

impl Teams {
    pub fn facts(&self) -> Vec<(&'static str, Option<&Unavailable>)> {
        vec![
            ("teams.acs_federation", self.acs_federation.unavailable()),
            (
                "teams.external_access_policies",
                self.external_access_policies.unavailable(),
            ),
            ("teams.tenant_federation", self.tenant_federation.unavailable()),
            ("teams.resource_accounts", self.resource_accounts.unavailable()),
            ("teams.ra_associations", self.ra_associations.unavailable()),
            ("teams.numbers", self.numbers.unavailable()),
            ("teams.numbers_by_target", self.numbers_by_target.unavailable()),
            ("teams.users", self.users.unavailable()),
        ]
    }
}

/// Normalizes the Teams facts of a snapshot.
pub fn normalize(snapshot: &Snapshot) -> Teams {
    let _ = snapshot;
    unimplemented!("teams normalizer")
}
