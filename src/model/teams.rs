//! Teams facts: ACS federation, external access, tenant federation, resource accounts, their
//! associations, phone numbers and per-user Teams configuration.

use crate::fact_key::FactKey;
use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::fact::{self, Fact, Unavailable};
use super::raw::{self, bool_prop, prop, prop_any, records, required_str, str_prop};
use crate::ids as canonical;
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
    /// Users a source was asked about and answered that it does not know (a `null` response),
    /// and no source knows: not Teams users. A user missing from `users` and from this list
    /// was not read.
    pub users_not_found: Vec<String>,
    /// Derived: the effective external access policy of each agent and contact-center resource
    /// account, keyed by object id (`external_access::derive`).
    pub external_access: Fact<BTreeMap<String, super::external_access::ExternalAccess>>,
    /// Derived: the policies that block ACS (or do not say), each with the agents and
    /// contact-center resource accounts whose effective policy it is
    /// (`external_access::blocking_policies`).
    pub acs_blocking_policies: Fact<Vec<super::external_access::BlockingPolicy>>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct AcsFederation {
    /// Absent (omitted) when the instance does not carry `EnableAcsUsers`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_acs_users: Option<bool>,
    /// Canonical (lower-case bare GUID) entries; entries that are not GUIDs are kept as written.
    /// Absent (omitted) when the instance does not carry `AllowedAcsResources`; `null` there is
    /// an empty list, as the cmdlet renders an empty one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_acs_resources: Option<Vec<String>>,
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
    /// `EnableAcsFederationAccess`; absent (omitted) when the policy does not carry it. The
    /// documented default (True) is for a new policy, not for a read that lacks the property.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_acs_federation_access: Option<bool>,
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
    /// Canonical GUID, or the raw text when it is not a GUID; `null` when unset; absent
    /// (omitted, as are the derived fields) when the record does not carry it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_id: Option<Option<String>>,
    /// `auto_attendant`, `call_queue`, `documented_example` (4b8f0dce-...), `other`, `none`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_kind: Option<String>,
    /// Canonical GUID, or the raw text (e.g. an ARM path); `null` when unset; absent (omitted)
    /// when the record does not carry it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acs_resource_id: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acs_resource_id_is_guid: Option<bool>,
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
    /// This and the fields below are absent (omitted) when the record does not carry them
    /// (public callers of the Teams API read only number, target and acquisition date).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number_type: Option<String>,
    /// `activated`, `assignmentPending`, `assignmentFailed`, `updatePending`, `updateFailed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activation_state: Option<String>,
    /// camelCase: `voiceApplicationAssignment`, `userAssignment`, `conferenceAssignment`, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Vec<String>>,
    /// camelCase: `unassigned`, `userAssigned`, `voiceApplicationAssigned`,
    /// `thirdPartyAppAssigned`, ...; `unassigned` when the status is absent but the target is
    /// reported empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignment_status: Option<String>,
    /// Lower-case object id of the user or resource account it is assigned to; `null` when
    /// the source reports it unassigned; absent (omitted) when the source does not say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignment_target_id: Option<Option<String>>,
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
    /// camelCase: `user`, `resourceAccount`, `guest`, `sfbOnPremUser`, `unknown`. Fields below
    /// are absent (omitted) when neither source reported them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enterprise_voice_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feature_types: Option<Vec<String>>,
    /// `TeamsOnly`, `Islands`, ... when the source reports it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub teams_upgrade_effective_mode: Option<String>,
    /// Lower-case key into `external_access_policies` of the effective policy (`global` when
    /// the source says none is assigned: an empty or null assignment).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_access_policy: Option<String>,
    /// Name of the effective online voice routing policy; `null` when the source says none
    /// (Global) is assigned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub online_voice_routing_policy: Option<Option<String>>,
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
            (
                "teams.tenant_federation",
                self.tenant_federation.unavailable(),
            ),
            (
                "teams.resource_accounts",
                self.resource_accounts.unavailable(),
            ),
            ("teams.ra_associations", self.ra_associations.unavailable()),
            ("teams.numbers", self.numbers.unavailable()),
            (
                "teams.numbers_by_target",
                self.numbers_by_target.unavailable(),
            ),
            ("teams.users", self.users.unavailable()),
        ]
    }
}

/// `Sync-CsOnlineApplicationInstance -ApplicationId 00000000-...` clears a resource account's
/// mapping, so this value means "no application", not an application with that id.
const NIL_GUID: &str = "00000000-0000-0000-0000-000000000000";

/// Normalizes the Teams facts of a snapshot.
pub fn normalize(snapshot: &Snapshot) -> Teams {
    let resource_accounts = with_fallback(
        fact::read(snapshot, FactKey::GraphResourceAccounts, |d| {
            parse_resource_accounts(d, &[], "graph")
        }),
        FactKey::TeamsApplicationInstances,
        || {
            fact::read(snapshot, FactKey::TeamsApplicationInstances, |d| {
                parse_resource_accounts(d, &["applicationInstances"], "teams")
            })
        },
    );
    let numbers = with_fallback(
        fact::read(
            snapshot,
            FactKey::GraphNumberAssignments,
            parse_graph_numbers,
        ),
        FactKey::TeamsTelephoneNumbers,
        || {
            fact::read(
                snapshot,
                FactKey::TeamsTelephoneNumbers,
                parse_teams_numbers,
            )
        },
    );
    let numbers_by_target = numbers.as_ref().and_then(numbers_by_target);
    let (users, users_not_found) = merge_users(
        fact::read(
            snapshot,
            FactKey::GraphUserConfigurations,
            parse_user_configurations,
        ),
        fact::read(snapshot, FactKey::TeamsOnlineUsers, parse_online_users),
    );
    Teams {
        acs_federation: fact::read(
            snapshot,
            FactKey::TeamsAcsFederationConfiguration,
            parse_acs_federation,
        ),
        external_access_policies: fact::read(
            snapshot,
            FactKey::TeamsExternalAccessPolicy,
            parse_external_access_policies,
        ),
        tenant_federation: fact::read(
            snapshot,
            FactKey::TeamsTenantFederationSettings,
            parse_tenant_federation,
        ),
        resource_accounts,
        ra_associations: fact::read(
            snapshot,
            FactKey::TeamsApplicationInstanceAssociations,
            parse_ra_associations,
        ),
        numbers,
        numbers_by_target,
        users,
        users_not_found,
        // Filled once the agents and the contact-center scope are known (`TenantModel`).
        external_access: Fact::Available(BTreeMap::new()),
        acs_blocking_policies: Fact::Available(Vec::new()),
    }
}

/// Reads the preferred source and, only when it is unavailable, the fallback. When both fail
/// the preferred source leads (kind and reason), since it is the one worth fixing; the reason
/// and `needs` also name the fallback so the user sees that it was tried.
fn with_fallback<T>(
    preferred: Fact<T>,
    fallback_key: FactKey,
    fallback: impl FnOnce() -> Fact<T>,
) -> Fact<T> {
    match preferred {
        Fact::Available(v) => Fact::Available(v),
        Fact::Unavailable(first) => match fallback() {
            Fact::Available(v) => Fact::Available(v),
            Fact::Unavailable(second) => {
                Fact::Unavailable(both_unavailable(first, second, fallback_key, "fallback "))
            }
        },
    }
}

/// One `Unavailable` for a fact that two sources could have supplied.
fn both_unavailable(
    first: Unavailable,
    second: Unavailable,
    second_key: FactKey,
    role: &str,
) -> Unavailable {
    let needs = match (first.needs, second.needs) {
        (Some(a), Some(b)) => Some(format!("{a} (or, for the {role}{second_key}: {b})")),
        (a, b) => a.or(b),
    };
    let mut sources = first.sources;
    sources.extend(second.sources);
    Unavailable {
        kind: first.kind,
        reason: format!(
            "{}; the {role}{second_key} is also unavailable: {}",
            first.reason, second.reason
        ),
        needs,
        sources,
    }
}

/// Object ids are GUIDs; lower-case them so every map in the model joins on one spelling.
fn object_id(raw: &str) -> String {
    canonical::guid_or_raw(raw).to_ascii_lowercase()
}

/// `Tag:FederationOnly` → `FederationOnly`: assignments name policies without the prefix.
fn strip_tag(identity: &str) -> &str {
    let s = identity.trim();
    match s.get(..4) {
        Some(prefix) if prefix.eq_ignore_ascii_case("tag:") => s[4..].trim(),
        _ => s,
    }
}

/// The key into `external_access_policies` for an assigned policy name; an empty assignment
/// means the Global policy applies (Get-CsOnlineUser shows it empty).
fn policy_key(name: &str) -> String {
    let name = strip_tag(name);
    if name.is_empty() {
        "global".to_string()
    } else {
        name.to_ascii_lowercase()
    }
}

/// A string list that may be absent, null, an array or a PowerShell-rendered string; any other
/// type is a shape we do not understand and must not read as an empty list.
fn list_prop(obj: &Value, names: &[&str], item_keys: &[&str]) -> Result<Vec<String>, String> {
    match prop_any(obj, names) {
        v @ (None | Some(Value::Array(_)) | Some(Value::String(_))) => {
            Ok(raw::string_list(v, item_keys))
        }
        Some(other) => Err(format!(
            "`{}` is {}",
            names.first().copied().unwrap_or("?"),
            raw::kind(other)
        )),
    }
}

/// A boolean the record should carry: `None` (noted as absent) when it does not; a value that
/// is not a boolean is an error.
fn sent_bool(
    obj: &Value,
    record: &str,
    name: &str,
    model_field: &str,
) -> Result<Option<bool>, String> {
    match prop_any(obj, &[name]) {
        None => {
            super::absence::note(record, name, model_field, obj);
            Ok(None)
        }
        Some(v) => bool_prop(obj, &[name])
            .map(Some)
            .ok_or_else(|| format!("`{name}` is {v}, not a boolean")),
    }
}

fn push_unique(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) {
        list.push(item);
    }
}

/// Teams config collections list every instance (Global, Tag:...) as an array, while
/// `/configuration/Global` answers with one object (or a one-element array); the tenant-wide
/// settings are the Global instance.
fn global_instance(data: &Value) -> Result<&Value, String> {
    let all = records(data, &[])?;
    let global = all
        .iter()
        .find(|i| str_prop(i, &["Identity"]).is_some_and(|id| id.eq_ignore_ascii_case("global")));
    match (global, all.as_slice()) {
        (Some(g), _) => Ok(g),
        (None, [only]) => Ok(only),
        (None, []) => Err("no configuration instance".into()),
        (None, many) => Err(format!("{} instances and none is `Global`", many.len())),
    }
}

fn parse_acs_federation(data: &Value) -> Result<AcsFederation, String> {
    let g = global_instance(data)?;
    if ["Identity", "EnableAcsUsers", "AllowedAcsResources"]
        .iter()
        .all(|k| prop(g, k).is_none())
    {
        return Err(
            "the instance has none of Identity, EnableAcsUsers, AllowedAcsResources".into(),
        );
    }
    let record = str_prop(g, &["Identity"]).unwrap_or_else(|| "Global".into());
    let allowed_sent = prop(g, "AllowedAcsResources").is_some();
    if !allowed_sent {
        super::absence::note(&record, "AllowedAcsResources", "allowed_acs_resources", g);
    }
    let mut allowed = Vec::new();
    let mut invalid = Vec::new();
    for entry in list_prop(g, &["AllowedAcsResources"], &[])? {
        let canonical = canonical::guid_or_raw(&entry);
        if canonical.is_empty() {
            continue;
        }
        // Kept in the allow-list too, so a check comparing it with the D365 id can say the
        // entry is there but is not an immutable id (e.g. an ARM path).
        if canonical::guid(&entry).is_none() {
            push_unique(&mut invalid, canonical.clone());
        }
        push_unique(&mut allowed, canonical);
    }
    let mut blocked = Vec::new();
    for entry in list_prop(g, &["BlockedAcsResources"], &[])? {
        let canonical = canonical::guid_or_raw(&entry);
        if !canonical.is_empty() {
            push_unique(&mut blocked, canonical);
        }
    }
    Ok(AcsFederation {
        enable_acs_users: sent_bool(g, &record, "EnableAcsUsers", "enable_acs_users")?,
        allowed_acs_resources: allowed_sent.then_some(allowed),
        allowed_acs_resources_invalid: invalid,
        allow_all_acs_resources: bool_prop(g, &["AllowAllAcsResources"]),
        blocked_acs_resources: blocked,
        require_acs_federation_for_meeting: bool_prop(g, &["RequireAcsFederationForMeeting"]),
        label_for_allowed_acs_users: str_prop(g, &["LabelForAllowedAcsUsers"]),
    })
}

fn parse_external_access_policies(
    data: &Value,
) -> Result<BTreeMap<String, ExternalAccessPolicy>, String> {
    records(data, &[])?
        .into_iter()
        .map(|p| {
            let identity = required_str(p, &["Identity"])?;
            let name = strip_tag(&identity).to_string();
            let policy = ExternalAccessPolicy {
                enable_acs_federation_access: sent_bool(
                    p,
                    &identity,
                    "EnableAcsFederationAccess",
                    "enable_acs_federation_access",
                )
                .map_err(|e| format!("{identity}: {e}"))?,
                enable_federation_access: bool_prop(p, &["EnableFederationAccess"]),
                enable_teams_consumer_access: bool_prop(p, &["EnableTeamsConsumerAccess"]),
                communication_with_external_orgs: str_prop(p, &["CommunicationWithExternalOrgs"]),
                name: name.clone(),
                identity,
            };
            Ok((name.to_ascii_lowercase(), policy))
        })
        .collect()
}

const ALL_KNOWN: &str = "all_known";
const LIST: &str = "list";

/// Domain entries as written, without PowerShell's `Domain=` rendering.
fn domains(v: Option<&Value>) -> Vec<String> {
    raw::string_list(v, &["Domain"])
        .into_iter()
        .map(|d| match d.get(..7) {
            Some(p) if p.eq_ignore_ascii_case("domain=") => d[7..].trim().to_string(),
            _ => d,
        })
        .filter(|d| !d.is_empty())
        .collect()
}

/// `AllowedDomains` is a .NET union whose wire shape is unconfirmed (apis.md B.3); every
/// variant seen in clients is read into (mode, domains).
fn allowed_domains(v: Option<&Value>) -> Result<(&'static str, Vec<String>), String> {
    match v {
        None | Some(Value::Null) => Ok((ALL_KNOWN, Vec::new())),
        Some(Value::String(s))
            if s.trim().is_empty() || s.trim().eq_ignore_ascii_case("AllowAllKnownDomains") =>
        {
            Ok((ALL_KNOWN, Vec::new()))
        }
        Some(Value::String(_)) => Ok((LIST, domains(v))),
        // UTCM and DSC write a plain string[]; there an empty list means "all known domains".
        Some(Value::Array(a)) if a.is_empty() => Ok((ALL_KNOWN, Vec::new())),
        Some(Value::Array(_)) => Ok((LIST, domains(v))),
        Some(obj @ Value::Object(map)) => {
            if map.is_empty() || prop(obj, "AllowAllKnownDomains").is_some() {
                Ok((ALL_KNOWN, Vec::new()))
            } else if let Some(list) = prop(obj, "AllowedDomain") {
                // An explicit allow-list object, even an empty one, federates only with the
                // domains it names.
                match list {
                    Value::Null | Value::Array(_) | Value::String(_) | Value::Object(_) => {
                        Ok((LIST, domains(Some(list))))
                    }
                    other => Err(format!(
                        "`AllowedDomains.AllowedDomain` is {}",
                        raw::kind(other)
                    )),
                }
            } else if prop(obj, "Domain").is_some() {
                Ok((LIST, domains(v)))
            } else {
                Err("`AllowedDomains` is an object with neither AllowAllKnownDomains nor AllowedDomain".into())
            }
        }
        Some(other) => Err(format!("`AllowedDomains` is {}", raw::kind(other))),
    }
}

fn blocked_domains(v: Option<&Value>) -> Result<Vec<String>, String> {
    match v {
        None | Some(Value::Null) | Some(Value::Array(_)) | Some(Value::String(_)) => Ok(domains(v)),
        Some(obj @ Value::Object(map)) => {
            if map.is_empty() {
                Ok(Vec::new())
            } else if let Some(list) = prop(obj, "BlockedDomain") {
                Ok(domains(Some(list)))
            } else if prop(obj, "Domain").is_some() {
                Ok(domains(v))
            } else {
                Err("`BlockedDomains` is an object with neither BlockedDomain nor Domain".into())
            }
        }
        Some(other) => Err(format!("`BlockedDomains` is {}", raw::kind(other))),
    }
}

fn parse_tenant_federation(data: &Value) -> Result<TenantFederation, String> {
    let g = global_instance(data)?;
    let (mode, allowed) = allowed_domains(prop(g, "AllowedDomains"))?;
    Ok(TenantFederation {
        allow_federated_users: bool_prop(g, &["AllowFederatedUsers"]),
        allowed_domains_mode: mode.to_string(),
        allowed_domains: allowed,
        blocked_domains: blocked_domains(prop(g, "BlockedDomains"))?,
        block_all_subdomains: bool_prop(g, &["BlockAllSubdomains"]),
        allow_teams_consumer: bool_prop(g, &["AllowTeamsConsumer"]),
        allow_teams_consumer_inbound: bool_prop(g, &["AllowTeamsConsumerInbound"]),
        external_access_with_trial_tenants: str_prop(g, &["ExternalAccessWithTrialTenants"]),
    })
}

fn application_kind(app_id: Option<&str>) -> &'static str {
    match app_id {
        None | Some(NIL_GUID) => "none",
        Some(AUTO_ATTENDANT_APP_ID) => "auto_attendant",
        Some(CALL_QUEUE_APP_ID) => "call_queue",
        Some(DOCUMENTED_D365_APP_ID) => "documented_example",
        Some(_) => "other",
    }
}

/// Graph beta `resourceAccounts` (camelCase `id`/`appId`) and Teams `applicationInstances`
/// (`objectId`/`applicationId`, PascalCase in cmdlet renderings) carry the same facts.
fn parse_resource_accounts(
    data: &Value,
    wrappers: &[&str],
    source: &str,
) -> Result<BTreeMap<String, ResourceAccount>, String> {
    records(data, wrappers)?
        .into_iter()
        .map(|ra| {
            let id = object_id(&required_str(ra, &["id", "objectId"])?);
            let upn = required_str(ra, &["userPrincipalName"])
                .map_err(|e| format!("resource account {id}: {e}"))?;
            // Absent (`None`) is kept apart from reported-but-unset (`Some(None)`).
            let optional_id = |names: &[&str], model_field: &str| {
                if names.iter().all(|n| prop(ra, n).is_none()) {
                    super::absence::note(&upn, names[0], model_field, ra);
                    return None;
                }
                Some(
                    str_prop(ra, names)
                        .map(|a| canonical::guid_or_raw(&a))
                        .filter(|a| !a.is_empty()),
                )
            };
            let application_id = optional_id(&["appId", "applicationId"], "application_id");
            let acs_resource_id = optional_id(&["acsResourceId"], "acs_resource_id");
            let account = ResourceAccount {
                upn,
                display_name: str_prop(ra, &["displayName"]),
                application_kind: application_id
                    .as_ref()
                    .map(|a| application_kind(a.as_deref()).to_string()),
                application_id,
                acs_resource_id_is_guid: acs_resource_id
                    .as_ref()
                    .map(|a| a.as_deref().is_some_and(canonical::is_guid)),
                acs_resource_id,
                phone_number: str_prop(ra, &["phoneNumber"]).and_then(|p| canonical::e164(&p)),
                source: source.to_string(),
                id: id.clone(),
            };
            Ok((id, account))
        })
        .collect()
}

fn parse_ra_associations(data: &Value) -> Result<BTreeMap<String, Vec<RaAssociation>>, String> {
    raw::keyed(data)?
        .iter()
        .map(|(ra, response)| {
            let associations = match response {
                Value::Null => Vec::new(),
                other => records(other, &[])
                    .map_err(|e| format!("resource account {ra}: {e}"))?
                    .into_iter()
                    .map(|a| {
                        Ok(RaAssociation {
                            config_type: required_str(a, &["ConfigurationType"])?,
                            config_id: object_id(&required_str(a, &["ConfigurationId"])?),
                        })
                    })
                    .collect::<Result<Vec<_>, String>>()
                    .map_err(|e| format!("resource account {ra}: {e}"))?,
            };
            Ok((object_id(ra), associations))
        })
        .collect()
}

/// A target id, `Some(None)` when reported unset (null, empty, or the nil GUID, which is how
/// some renderings say "unassigned"), `None` when the record does not carry one of `names`.
fn target_id(n: &Value, names: &[&str]) -> Option<Option<String>> {
    if names.iter().all(|name| prop(n, name).is_none()) {
        return None;
    }
    Some(
        str_prop(n, names)
            .map(|t| object_id(&t))
            .filter(|t| !t.is_empty() && t != NIL_GUID),
    )
}

/// When the source omits the status, a number whose target is reported empty is still known
/// to be unassigned; otherwise the status is absent rather than guessed.
fn assignment_status(raw: Option<String>, target: Option<&Option<String>>) -> Option<String> {
    match raw {
        Some(s) => Some(raw::camel(&s)),
        None if target == Some(&None) => Some("unassigned".to_string()),
        None => None,
    }
}

/// The fields every number record should carry, read with the names the source uses; absent
/// ones are noted.
struct NumberFields<'a> {
    number_type: &'a [&'a str],
    activation_state: &'a [&'a str],
    capabilities: &'a [&'a str],
    assignment_status: &'a [&'a str],
}

/// A number's type, activation state, capabilities and assignment status, each `None` when
/// the record does not carry it.
type NumberDetails = (
    Option<String>,
    Option<String>,
    Option<Vec<String>>,
    Option<String>,
);

fn number_fields(
    n: &Value,
    number: &str,
    names: &NumberFields<'_>,
    target: Option<&Option<String>>,
) -> Result<NumberDetails, String> {
    let camel = |v: &Value, names: &[&str]| str_prop(v, names).map(|t| raw::camel(&t));
    let number_type = raw::reported(n, number, names.number_type, "number_type", camel);
    let activation_state =
        raw::reported(n, number, names.activation_state, "activation_state", camel);
    let capabilities = match prop_any(n, names.capabilities) {
        None => {
            super::absence::note(number, names.capabilities[0], "capabilities", n);
            None
        }
        Some(_) => Some(
            list_prop(n, names.capabilities, &[])
                .map_err(|e| format!("{number}: {e}"))?
                .iter()
                .map(|c| raw::camel(c))
                .collect(),
        ),
    };
    let status = assignment_status(str_prop(n, names.assignment_status), target);
    if status.is_none() {
        super::absence::note(number, names.assignment_status[0], "assignment_status", n);
    }
    Ok((number_type, activation_state, capabilities, status))
}

fn e164_of(n: &Value, names: &[&str]) -> Result<String, String> {
    let raw = required_str(n, names)?;
    canonical::e164(&raw).ok_or_else(|| format!("`{raw}` is not a phone number"))
}

/// Numbers keyed by E.164; if a number appears twice, the assigned record is the informative one.
fn keyed_numbers(list: Vec<PhoneNumber>) -> BTreeMap<String, PhoneNumber> {
    let mut out: BTreeMap<String, PhoneNumber> = BTreeMap::new();
    for n in list {
        let replace = out
            .get(&n.number)
            .is_none_or(|old| !matches!(old.assignment_target_id, Some(Some(_))));
        if replace {
            out.insert(n.number.clone(), n);
        }
    }
    out
}

fn parse_graph_numbers(data: &Value) -> Result<BTreeMap<String, PhoneNumber>, String> {
    let list = records(data, &[])?
        .into_iter()
        .map(|n| {
            let number = e164_of(n, &["telephoneNumber"])?;
            let target = target_id(n, &["assignmentTargetId"]);
            if target.is_none() {
                super::absence::note(&number, "assignmentTargetId", "assignment_target_id", n);
            }
            let (number_type, activation_state, capabilities, assignment_status) = number_fields(
                n,
                &number,
                &NumberFields {
                    number_type: &["numberType"],
                    activation_state: &["activationState"],
                    capabilities: &["capabilities"],
                    assignment_status: &["assignmentStatus"],
                },
                target.as_ref(),
            )?;
            Ok(PhoneNumber {
                number_type,
                activation_state,
                capabilities,
                assignment_status,
                assignment_target_id: target,
                operator_id: str_prop(n, &["operatorId"]),
                operator_name: None,
                iso_country_code: str_prop(n, &["isoCountryCode"]),
                source: "graph".into(),
                number,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(keyed_numbers(list))
}

/// Teams `telephone-numbers` (apis.md B.6): PascalCase, and the target has been spelled
/// `TargetId`, `AssignedPstnTargetId` or `AssignedTo{id}` at different times.
fn parse_teams_numbers(data: &Value) -> Result<BTreeMap<String, PhoneNumber>, String> {
    let list = records(data, &["TelephoneNumbers"])?
        .into_iter()
        .map(|n| {
            let number = e164_of(n, &["TelephoneNumber"])?;
            let assigned_to = prop(n, "AssignedTo").map(|a| match a {
                Value::Object(_) => str_prop(a, &["id", "objectId"]),
                Value::String(_) => str_prop(n, &["AssignedTo"]),
                _ => None,
            });
            let target = match target_id(n, &["TargetId", "AssignedPstnTargetId"]) {
                Some(Some(t)) => Some(Some(t)),
                reported => match assigned_to {
                    Some(a) => Some(
                        a.map(|t| object_id(&t))
                            .filter(|t| !t.is_empty() && t != NIL_GUID),
                    ),
                    None => reported,
                },
            };
            if target.is_none() {
                super::absence::note(&number, "TargetId", "assignment_target_id", n);
            }
            let (number_type, activation_state, capabilities, assignment_status) = number_fields(
                n,
                &number,
                &NumberFields {
                    number_type: &["NumberType"],
                    activation_state: &["ActivationState"],
                    capabilities: &["Capability", "Capabilities"],
                    assignment_status: &["PstnAssignmentStatus", "AssignmentStatus"],
                },
                target.as_ref(),
            )?;
            Ok(PhoneNumber {
                number_type,
                activation_state,
                capabilities,
                assignment_status,
                assignment_target_id: target,
                operator_id: str_prop(n, &["OperatorId", "PstnPartnerId"]),
                operator_name: str_prop(n, &["PstnPartnerName"]),
                iso_country_code: str_prop(n, &["IsoCountryCode"]),
                source: "teams".into(),
                number,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(keyed_numbers(list))
}

/// Target → numbers. A number whose target the source did not report could belong to any
/// account, so no account's list would be known complete: the join is then unavailable.
fn numbers_by_target(
    numbers: &BTreeMap<String, PhoneNumber>,
) -> Fact<BTreeMap<String, Vec<String>>> {
    let untargeted: Vec<&str> = numbers
        .values()
        .filter(|n| n.assignment_target_id.is_none())
        .map(|n| n.number.as_str())
        .collect();
    if !untargeted.is_empty() {
        let source = numbers
            .values()
            .next()
            .map_or("graph", |n| n.source.as_str());
        return Fact::Unavailable(Unavailable {
            kind: fact::UnavailableKind::Malformed,
            reason: format!(
                "the numbers' source did not report the assignment target of {} ({}), so which numbers each account has is not known",
                untargeted.join(", "),
                if source == "graph" {
                    "assignmentTargetId"
                } else {
                    "TargetId"
                }
            ),
            needs: None,
            sources: vec![if source == "graph" {
                FactKey::GraphNumberAssignments.into()
            } else {
                FactKey::TeamsTelephoneNumbers.into()
            }],
        });
    }
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for n in numbers.values() {
        if let Some(Some(target)) = &n.assignment_target_id {
            out.entry(target.clone())
                .or_default()
                .push(n.number.clone());
        }
    }
    for list in out.values_mut() {
        list.sort();
        list.dedup();
    }
    Fact::Available(out)
}

/// What one source says about a Teams user; merged into `TeamsUser`. `None` = not reported.
#[derive(Debug, Default, Clone)]
struct UserPart {
    upn: Option<String>,
    account_type: Option<String>,
    enterprise_voice_enabled: Option<bool>,
    feature_types: Option<Vec<String>>,
    teams_upgrade_effective_mode: Option<String>,
    /// Key of the assigned external access policy (`global` when the source says none).
    external_access_policy: Option<String>,
    /// `Some(None)`: the source reports the Global default; `None`: not reported.
    online_voice_routing_policy: Option<Option<String>>,
    effective_policies: BTreeMap<String, String>,
}

/// A policy name from a string or a `{Name}`-style object; `Tag:` removed. `Some("")` for an
/// explicit null or empty name, which Get-CsOnlineUser uses for "Global applies".
fn policy_name(v: &Value) -> Option<String> {
    let name = match v {
        Value::Null => return Some(String::new()),
        Value::String(s) => s.clone(),
        Value::Object(_) => str_prop(v, &["Name", "Identity", "DisplayName"]).unwrap_or_default(),
        _ => return None,
    };
    Some(strip_tag(&name).to_string())
}

/// The Global voice routing policy is what applies when nothing is assigned; both sources are
/// read into "not assigned" for it so checks see one spelling.
fn voice_routing(name: String) -> Option<String> {
    (!name.is_empty() && !name.eq_ignore_ascii_case("global")).then_some(name)
}

/// `effectivePolicyAssignments` (Graph userConfigurations and the Teams admin API's REST
/// users: `[{policyType, policyAssignment: {displayName, ...}}]`): policyType → name.
fn effective_assignments(u: &Value, id: &str) -> Result<Option<BTreeMap<String, String>>, String> {
    match prop(u, "effectivePolicyAssignments") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(assignments)) => {
            let mut effective = BTreeMap::new();
            for a in assignments {
                let Some(policy_type) = str_prop(a, &["policyType"]) else {
                    continue;
                };
                let name =
                    prop(a, "policyAssignment").and_then(|pa| str_prop(pa, &["displayName"]));
                if let Some(name) = name {
                    effective.insert(policy_type, name);
                }
            }
            Ok(Some(effective))
        }
        Some(other) => Err(format!(
            "user {id}: `effectivePolicyAssignments` is {}",
            raw::kind(other)
        )),
    }
}

/// One user record of either source, in either spelling: Graph's and the REST API's camelCase
/// with `effectivePolicyAssignments`, or Get-CsOnlineUser's flat PascalCase with one
/// `*Policy` property per policy type (empty = Global). Fields the record does not carry are
/// `None` and noted as absent; `graph` says which fields the source can carry at all.
fn user_part(u: &Value, id: &str, graph: bool) -> Result<UserPart, String> {
    const EXPECTED: [&str; 9] = [
        "userPrincipalName",
        "accountType",
        "isEnterpriseVoiceEnabled",
        "EnterpriseVoiceEnabled",
        "featureTypes",
        "effectivePolicyAssignments",
        "ExternalAccessPolicy",
        "OnlineVoiceRoutingPolicy",
        "TeamsUpgradeEffectiveMode",
    ];
    if EXPECTED.iter().all(|k| prop(u, k).is_none()) {
        let keys: Vec<&str> = u
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k.as_str())
            .collect();
        return Err(format!(
            "user {id} has none of the expected properties (keys: {})",
            keys.join(", ")
        ));
    }
    let upn = str_prop(u, &["userPrincipalName"]);
    let record = upn.clone().unwrap_or_else(|| id.to_string());
    let record = record.as_str();
    let note = |field: &str, model_field: &str| super::absence::note(record, field, model_field, u);
    let assignments = effective_assignments(u, id)?;
    let (external_access_policy, online_voice_routing_policy, effective_policies) =
        match assignments {
            Some(effective) => {
                let assigned = |policy_type: &str| {
                    effective
                        .iter()
                        .find(|(t, _)| t.eq_ignore_ascii_case(policy_type))
                        .map(|(_, name)| strip_tag(name).to_string())
                };
                let external = assigned("ExternalAccessPolicy");
                if external.is_none() {
                    note(
                        "effectivePolicyAssignments[ExternalAccessPolicy]",
                        "external_access_policy",
                    );
                }
                let routing = assigned("OnlineVoiceRoutingPolicy");
                if routing.is_none() {
                    note(
                        "effectivePolicyAssignments[OnlineVoiceRoutingPolicy]",
                        "online_voice_routing_policy",
                    );
                }
                (
                    external.map(|n| policy_key(&n)),
                    routing.map(voice_routing),
                    effective,
                )
            }
            None => {
                // Every `*Policy` property is the name of the user's assigned policy of that
                // type (empty = Global), the same names Graph uses for `policyType`.
                let effective = u
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(k, _)| k.to_ascii_lowercase().ends_with("policy"))
                    .filter_map(|(k, v)| {
                        policy_name(v)
                            .filter(|n| !n.is_empty())
                            .map(|n| (k.clone(), n))
                    })
                    .collect();
                let external = prop(u, "ExternalAccessPolicy").and_then(policy_name);
                if external.is_none() {
                    note("ExternalAccessPolicy", "external_access_policy");
                }
                let routing = prop(u, "OnlineVoiceRoutingPolicy").and_then(policy_name);
                if routing.is_none() {
                    note("OnlineVoiceRoutingPolicy", "online_voice_routing_policy");
                }
                (
                    external.map(|n| policy_key(&n)),
                    routing.map(voice_routing),
                    effective,
                )
            }
        };
    let account_type = str_prop(u, &["accountType"]).map(|t| raw::camel(&t));
    if account_type.is_none() {
        note("AccountType", "account_type");
    }
    let enterprise_voice_enabled =
        bool_prop(u, &["isEnterpriseVoiceEnabled", "EnterpriseVoiceEnabled"]);
    if enterprise_voice_enabled.is_none() {
        note("EnterpriseVoiceEnabled", "enterprise_voice_enabled");
    }
    let feature_types = match prop(u, "featureTypes") {
        None => {
            note("FeatureTypes", "feature_types");
            None
        }
        Some(_) => {
            Some(list_prop(u, &["featureTypes"], &[]).map_err(|e| format!("user {id}: {e}"))?)
        }
    };
    // Graph's userConfiguration has no upgrade mode: only Get-CsOnlineUser reports it.
    let teams_upgrade_effective_mode = str_prop(u, &["TeamsUpgradeEffectiveMode"]);
    if teams_upgrade_effective_mode.is_none() && !graph {
        note("TeamsUpgradeEffectiveMode", "teams_upgrade_effective_mode");
    }
    Ok(UserPart {
        upn,
        account_type,
        enterprise_voice_enabled,
        feature_types,
        teams_upgrade_effective_mode,
        external_access_policy,
        online_voice_routing_policy,
        effective_policies,
    })
}

/// A per-user response body as one user record: the record itself, the documented
/// `{"value": {…}}` wrapper of `GET /admin/teams/userConfigurations/{id}`, or the Teams admin
/// API's REST envelope `{"users": [{…}]}` (the record whose id is `id`, else the only one).
/// `Ok(None)` for a user the endpoint did not know (`null`, an empty list).
fn one_user<'a>(v: &'a Value, id: &str) -> Result<Option<&'a Value>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Object(_) => {
            for wrapper in ["value", "users"] {
                match prop(v, wrapper) {
                    Some(inner @ Value::Object(_)) => return Ok(Some(inner)),
                    Some(Value::Array(list)) => {
                        let found = list.iter().find(|u| {
                            str_prop(u, &["id", "objectId"]).is_some_and(|i| object_id(&i) == id)
                        });
                        return match (found, list.as_slice()) {
                            (Some(u), _) | (None, [u]) => Ok(Some(u)),
                            (None, []) => Ok(None),
                            (None, _) => Err(format!("user {id}: `{wrapper}` lists other users")),
                        };
                    }
                    Some(Value::Null) => return Ok(None),
                    Some(other) => {
                        return Err(format!("user {id}: `{wrapper}` is {}", raw::kind(other)));
                    }
                    None => {}
                }
            }
            Ok(Some(v))
        }
        other => Err(format!("user {id} is {}", raw::kind(other))),
    }
}

/// Users keyed by id: either an object keyed by user id (one response per user, read one by
/// one), or a list response (`value` or the REST `users` envelope) whose records carry `id` /
/// `objectId`.
fn user_records(data: &Value) -> Result<Vec<(String, Option<&Value>)>, String> {
    let keyed_form = data.as_object().is_some_and(|m| {
        !m.is_empty()
            && prop(data, "value").is_none()
            && prop(data, "users").is_none()
            && m.keys().all(|k| canonical::guid(k).is_some())
    });
    if keyed_form {
        let mut list = Vec::new();
        for (key, v) in raw::keyed(data)? {
            let id = object_id(key);
            let user = one_user(v, &id)?;
            if let Some(u) = user
                && !u.is_object()
            {
                return Err(format!("user {id} is {}", raw::kind(u)));
            }
            list.push((id, user));
        }
        return Ok(list);
    }
    records(data, &["users"])?
        .into_iter()
        .map(|u| {
            // A per-user body listed as collected, `{"value": {…}}`: the record it wraps.
            let u = prop(u, "value").filter(|v| v.is_object()).unwrap_or(u);
            let id = str_prop(u, &["id", "objectId"]).ok_or_else(|| {
                let keys: Vec<&str> = u
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, _)| k.as_str())
                    .collect();
                format!(
                    "a user record has no `id` or `objectId` (keys: {})",
                    keys.join(", ")
                )
            })?;
            Ok((object_id(&id), Some(u)))
        })
        .collect()
}

/// A user source's records: `None` for a user the source does not know.
type UserParts = BTreeMap<String, Option<UserPart>>;

fn parse_user_parts(data: &Value, graph: bool) -> Result<UserParts, String> {
    user_records(data)?
        .into_iter()
        .map(|(id, u)| {
            let part = u.map(|u| user_part(u, &id, graph)).transpose()?;
            Ok((id, part))
        })
        .collect()
}

/// `graph.userConfigurations`: a list response, or responses keyed by user id.
fn parse_user_configurations(data: &Value) -> Result<UserParts, String> {
    parse_user_parts(data, true)
}

/// `teams.onlineUsers`: Get-CsOnlineUser objects (flat PascalCase) or the Teams admin API's REST
/// users (camelCase, `effectivePolicyAssignments`), keyed by user id or as one `users` list.
fn parse_online_users(data: &Value) -> Result<UserParts, String> {
    parse_user_parts(data, false)
}

/// Graph is the documented source and wins where both have a value; Get-CsOnlineUser fills
/// the gaps (upgrade mode, users Graph does not return such as resource accounts). The fact is
/// available when either source is. A field neither source reported stays absent.
fn merge_users(
    graph: Fact<UserParts>,
    online: Fact<UserParts>,
) -> (Fact<BTreeMap<String, TeamsUser>>, Vec<String>) {
    let not_found: Vec<String> = [&graph, &online]
        .iter()
        .filter_map(|f| f.value())
        .flat_map(|m| {
            m.iter()
                .filter(|(_, p)| p.is_none())
                .map(|(id, _)| id.clone())
        })
        .filter(|id| {
            [&graph, &online]
                .iter()
                .filter_map(|f| f.value())
                .all(|m| !matches!(m.get(id), Some(Some(_))))
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    (merge_parts(graph, online), not_found)
}

fn merge_parts(
    graph: Fact<UserParts>,
    online: Fact<UserParts>,
) -> Fact<BTreeMap<String, TeamsUser>> {
    let (graph, online): (BTreeMap<String, UserPart>, BTreeMap<String, UserPart>) =
        match (graph, online) {
            (Fact::Unavailable(g), Fact::Unavailable(t)) => {
                return Fact::Unavailable(both_unavailable(
                    g,
                    t,
                    FactKey::TeamsOnlineUsers,
                    "other source ",
                ));
            }
            // Get-CsOnlineUser is the only source covering resource accounts as well as agents: if
            // it was read and failed, treating its users as absent would turn "could not read" into
            // a finding, so the whole fact is unavailable. (Graph only adds detail for agents.)
            (_, Fact::Unavailable(u))
                if u.kind != crate::model::fact::UnavailableKind::NotCollected =>
            {
                return Fact::Unavailable(u);
            }
            (g, t) => {
                let known = |f: Fact<UserParts>| -> BTreeMap<String, UserPart> {
                    f.value()
                        .into_iter()
                        .flatten()
                        .filter_map(|(id, p)| Some((id.clone(), p.clone()?)))
                        .collect()
                };
                (known(g), known(t))
            }
        };
    let ids: std::collections::BTreeSet<&String> = graph.keys().chain(online.keys()).collect();
    let users = ids
        .into_iter()
        .map(|id| {
            let empty = UserPart::default();
            let g = graph.get(id).unwrap_or(&empty);
            let t = online.get(id).unwrap_or(&empty);
            let mut effective_policies = t.effective_policies.clone();
            effective_policies.extend(g.effective_policies.clone());
            let user = TeamsUser {
                id: id.clone(),
                upn: g.upn.clone().or_else(|| t.upn.clone()),
                account_type: g.account_type.clone().or_else(|| t.account_type.clone()),
                enterprise_voice_enabled: g.enterprise_voice_enabled.or(t.enterprise_voice_enabled),
                feature_types: g.feature_types.clone().or_else(|| t.feature_types.clone()),
                teams_upgrade_effective_mode: g
                    .teams_upgrade_effective_mode
                    .clone()
                    .or_else(|| t.teams_upgrade_effective_mode.clone()),
                external_access_policy: g
                    .external_access_policy
                    .clone()
                    .or_else(|| t.external_access_policy.clone()),
                online_voice_routing_policy: g
                    .online_voice_routing_policy
                    .clone()
                    .or_else(|| t.online_voice_routing_policy.clone()),
                effective_policies,
            };
            let names = [id.as_str(), user.upn.as_deref().unwrap_or(id)];
            let supplied = [
                ("account_type", user.account_type.is_some()),
                (
                    "enterprise_voice_enabled",
                    user.enterprise_voice_enabled.is_some(),
                ),
                ("feature_types", user.feature_types.is_some()),
                (
                    "teams_upgrade_effective_mode",
                    user.teams_upgrade_effective_mode.is_some(),
                ),
                (
                    "external_access_policy",
                    user.external_access_policy.is_some(),
                ),
                (
                    "online_voice_routing_policy",
                    user.online_voice_routing_policy.is_some(),
                ),
            ];
            for (field, present) in supplied {
                if present {
                    super::absence::supplied(&names, field);
                }
            }
            (id.clone(), user)
        })
        .collect();
    Fact::Available(users)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fact::UnavailableKind;
    use crate::model::test_support::{data, error, snapshot};
    use crate::snapshot::SourceFact;
    use serde_json::json;

    const RA: &str = "748a7c7c-a489-4de4-8a68-4415f1d19a9c";
    const AGENT: &str = "5a2f3b9e-0c1d-4e2f-8a9b-1c2d3e4f5a6b";
    const ACS_ID: &str = "faced04c-2ced-433d-90db-063e424b87b1";

    fn forbidden() -> SourceFact {
        error(403, "Forbidden", "The caller has no Teams admin role.")
    }

    fn teams(key: &str, value: Value) -> Teams {
        normalize(&snapshot(vec![(key, data(value))]))
    }

    fn acs(value: Value) -> Fact<AcsFederation> {
        teams("teams.TeamsAcsFederationConfiguration", value).acs_federation
    }

    fn federation(allowed: Value) -> TenantFederation {
        let t = teams(
            "teams.TenantFederationSettings",
            json!([{"Identity": "Global", "AllowFederatedUsers": true, "AllowedDomains": allowed, "BlockedDomains": []}]),
        );
        t.tenant_federation.value().cloned().unwrap()
    }

    /// apis.md B.1, verbatim apart from the values under test.
    fn b1_global(allowed: Value) -> Value {
        json!({
            "Identity": "Global",
            "AllowedAcsResources": allowed,
            "BlockedAcsResources": [],
            "EnableAcsUsers": true,
            "RequireAcsFederationForMeeting": false,
            "LabelForAllowedAcsUsers": "External",
            "HideBannerForAllowedAcsUsers": false,
            "ConfigId": "Global",
            "ConfigMetadata": {"Authority": "Tenant"},
            "Key": {"ScopeClass": "Global", "SchemaId": {"XName": {"name": "TeamsAcsFederationConfiguration"}}, "AuthorityId": {"Class": "Tenant", "InstanceId": "11111111-2222-3333-4444-555555555555"}}
        })
    }

    // --- empty snapshot -------------------------------------------------------------------

    #[test]
    fn empty_snapshot_leaves_every_fact_unavailable_without_panicking() {
        let t = normalize(&snapshot(vec![]));
        for (path, u) in t.facts() {
            assert_eq!(
                u.map(|u| u.kind),
                Some(UnavailableKind::NotCollected),
                "{path}"
            );
        }
    }

    // --- ACS federation --------------------------------------------------------------------

    #[test]
    fn acs_federation_array_picks_the_global_instance() {
        let f = acs(json!([
            {"Identity": "Tag:Other", "EnableAcsUsers": false, "AllowedAcsResources": []},
            b1_global(json!([ACS_ID]))
        ]));
        let f = f.value().unwrap();
        assert_eq!(f.enable_acs_users, Some(true));
        assert_eq!(f.allowed_acs_resources.as_deref().unwrap(), [ACS_ID]);
        assert!(f.allowed_acs_resources_invalid.is_empty());
        assert_eq!(f.require_acs_federation_for_meeting, Some(false));
        assert_eq!(f.label_for_allowed_acs_users.as_deref(), Some("External"));
    }

    #[test]
    fn acs_federation_single_object_is_the_global_instance() {
        let f = acs(b1_global(json!([ACS_ID])));
        assert_eq!(
            f.value().unwrap().allowed_acs_resources.as_deref().unwrap(),
            [ACS_ID]
        );
    }

    #[test]
    fn acs_federation_lower_case_global_identity_is_found() {
        let mut global = b1_global(json!([ACS_ID]));
        global["Identity"] = json!("global");
        let f = acs(json!([{"Identity": "Tag:X", "EnableAcsUsers": false}, global]));
        assert_eq!(f.value().unwrap().enable_acs_users, Some(true));
    }

    #[test]
    fn acs_federation_only_instance_is_used_without_identity() {
        let f = acs(json!([{"EnableAcsUsers": true, "AllowedAcsResources": [ACS_ID]}]));
        assert_eq!(f.value().unwrap().enable_acs_users, Some(true));
    }

    #[test]
    fn acs_federation_several_instances_without_global_is_malformed() {
        let f = acs(json!([
            {"Identity": "Tag:A", "EnableAcsUsers": true},
            {"Identity": "Tag:B", "EnableAcsUsers": true}
        ]));
        let u = f.unavailable().unwrap();
        assert_eq!(u.kind, UnavailableKind::Malformed);
        assert!(u.reason.contains("none is `Global`"), "{}", u.reason);
    }

    #[test]
    fn acs_federation_camel_case_properties_are_accepted() {
        let f = acs(json!({
            "identity": "Global",
            "enableAcsUsers": true,
            "allowedAcsResources": [ACS_ID],
            "allowAllAcsResources": false,
            "blockedAcsResources": []
        }));
        let f = f.value().unwrap();
        assert_eq!(f.enable_acs_users, Some(true));
        assert_eq!(f.allowed_acs_resources.as_deref().unwrap(), [ACS_ID]);
        assert_eq!(f.allow_all_acs_resources, Some(false));
    }

    #[test]
    fn allowed_acs_resources_powershell_rendering_is_canonical() {
        let f = acs(b1_global(json!("{'FACED04C-2CED-433D-90DB-063E424B87B1'}")));
        assert_eq!(
            f.value().unwrap().allowed_acs_resources.as_deref().unwrap(),
            [ACS_ID]
        );
    }

    #[test]
    fn allowed_acs_resources_braces_quotes_and_upper_case_in_an_array_are_canonical() {
        let f = acs(b1_global(json!([
            "{FACED04C-2CED-433D-90DB-063E424B87B1}",
            "'bb567890-1234-1234-1234-BBB123456789'",
            "\"cc567890-1234-1234-1234-ccc123456789\"",
            " faced04c-2ced-433d-90db-063e424b87b1 "
        ])));
        assert_eq!(
            f.value().unwrap().allowed_acs_resources.as_deref().unwrap(),
            [
                ACS_ID,
                "bb567890-1234-1234-1234-bbb123456789",
                "cc567890-1234-1234-1234-ccc123456789"
            ]
        );
    }

    #[test]
    fn allowed_acs_resources_arm_path_is_kept_and_listed_invalid() {
        let arm = "/subscriptions/11112222-3333-4444-5555-666677778888/resourceGroups/rg-cc/providers/Microsoft.Communication/CommunicationServices/acs-d365-prod";
        let f = acs(b1_global(json!([ACS_ID, format!(" {arm} ")])));
        let f = f.value().unwrap();
        assert_eq!(f.allowed_acs_resources.as_deref().unwrap(), [ACS_ID, arm]);
        assert_eq!(f.allowed_acs_resources_invalid, [arm]);
    }

    #[test]
    fn allowed_acs_resources_null_is_an_empty_list() {
        let f = acs(b1_global(Value::Null));
        assert!(
            f.value()
                .unwrap()
                .allowed_acs_resources
                .as_ref()
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn allowed_acs_resources_of_the_wrong_type_is_malformed() {
        let f = acs(b1_global(json!(42)));
        assert_eq!(f.unavailable().unwrap().kind, UnavailableKind::Malformed);
    }

    #[test]
    fn deprecated_allow_all_is_null_when_the_service_no_longer_returns_it() {
        let f = acs(b1_global(json!([ACS_ID])));
        let f = f.value().unwrap();
        assert_eq!(f.allow_all_acs_resources, None);
        assert!(f.blocked_acs_resources.is_empty());
    }

    #[test]
    fn deprecated_allow_all_and_blocked_resources_are_read_canonical() {
        let mut global = b1_global(json!([]));
        global["AllowAllAcsResources"] = json!(true);
        global["BlockedAcsResources"] = json!(["{'FACED04C-2CED-433D-90DB-063E424B87B1'}"]);
        let f = acs(global);
        let f = f.value().unwrap();
        assert_eq!(f.allow_all_acs_resources, Some(true));
        assert_eq!(f.blocked_acs_resources, [ACS_ID]);
    }

    #[test]
    fn enable_acs_users_absent_stays_absent() {
        let f = acs(json!({"Identity": "Global", "AllowedAcsResources": []}));
        assert_eq!(f.value().unwrap().enable_acs_users, None);
    }

    #[test]
    fn acs_federation_instance_without_known_properties_is_malformed() {
        let f = acs(json!([{"Something": "else"}]));
        assert_eq!(f.unavailable().unwrap().kind, UnavailableKind::Malformed);
    }

    #[test]
    fn acs_federation_forbidden_names_the_teams_role() {
        let t = normalize(&snapshot(vec![(
            "teams.TeamsAcsFederationConfiguration",
            forbidden(),
        )]));
        let u = t.acs_federation.unavailable().unwrap();
        assert_eq!(u.kind, UnavailableKind::Forbidden);
        assert!(u.reason.contains("HTTP 403"), "{}", u.reason);
        assert!(u.needs.as_deref().unwrap().contains("Teams Administrator"));
    }

    // --- external access policies -----------------------------------------------------------

    fn b2() -> Value {
        json!([
            {
                "Identity": "Global",
                "Description": null,
                "EnableFederationAccess": true,
                "EnableAcsFederationAccess": true,
                "EnableTeamsConsumerAccess": true,
                "CommunicationWithExternalOrgs": "OrganizationDefault",
                "ConfigId": "Global",
                "Key": {}
            },
            {
                "Identity": "Tag:FederationOnly",
                "EnableFederationAccess": true,
                "EnableAcsFederationAccess": false,
                "EnableTeamsConsumerAccess": false
            },
            {"Identity": "Tag:AcsDefault", "EnableFederationAccess": false}
        ])
    }

    #[test]
    fn external_access_policies_are_keyed_without_tag_prefix() {
        let t = teams("teams.ExternalAccessPolicy", b2());
        let p = t.external_access_policies.value().unwrap();
        assert_eq!(
            p.keys().collect::<Vec<_>>(),
            ["acsdefault", "federationonly", "global"]
        );
        let fed = &p["federationonly"];
        assert_eq!(fed.identity, "Tag:FederationOnly");
        assert_eq!(fed.name, "FederationOnly");
        assert_eq!(fed.enable_acs_federation_access, Some(false));
        assert_eq!(fed.enable_teams_consumer_access, Some(false));
        assert_eq!(
            p["global"].communication_with_external_orgs.as_deref(),
            Some("OrganizationDefault")
        );
    }

    #[test]
    fn external_access_policy_without_acs_access_leaves_it_absent_not_the_default() {
        let t = teams("teams.ExternalAccessPolicy", b2());
        assert_eq!(
            t.external_access_policies.value().unwrap()["acsdefault"].enable_acs_federation_access,
            None
        );
    }

    #[test]
    fn external_access_policy_without_identity_is_malformed() {
        let t = teams(
            "teams.ExternalAccessPolicy",
            json!([{"EnableAcsFederationAccess": true}]),
        );
        assert_eq!(
            t.external_access_policies.unavailable().unwrap().kind,
            UnavailableKind::Malformed
        );
    }

    // --- tenant federation ------------------------------------------------------------------

    #[test]
    fn allowed_domains_null_is_all_known() {
        let f = federation(Value::Null);
        assert_eq!(f.allowed_domains_mode, "all_known");
        assert!(f.allowed_domains.is_empty());
    }

    #[test]
    fn allowed_domains_empty_object_is_all_known() {
        assert_eq!(federation(json!({})).allowed_domains_mode, "all_known");
    }

    #[test]
    fn allowed_domains_string_allow_all_known_is_all_known() {
        assert_eq!(
            federation(json!("AllowAllKnownDomains")).allowed_domains_mode,
            "all_known"
        );
    }

    #[test]
    fn allowed_domains_allow_all_known_object_is_all_known() {
        assert_eq!(
            federation(json!({"AllowAllKnownDomains": {}})).allowed_domains_mode,
            "all_known"
        );
    }

    #[test]
    fn allowed_domains_empty_array_is_all_known() {
        assert_eq!(federation(json!([])).allowed_domains_mode, "all_known");
    }

    #[test]
    fn allowed_domains_object_list_variant_is_a_list() {
        let f = federation(
            json!({"AllowedDomain": [{"Domain": "fabrikam.com"}, {"Domain": "contoso.com"}]}),
        );
        assert_eq!(f.allowed_domains_mode, "list");
        assert_eq!(f.allowed_domains, ["fabrikam.com", "contoso.com"]);
    }

    #[test]
    fn allowed_domains_empty_allow_list_object_is_an_empty_list() {
        let f = federation(json!({"AllowedDomain": []}));
        assert_eq!(f.allowed_domains_mode, "list");
        assert!(f.allowed_domains.is_empty());
    }

    #[test]
    fn allowed_domains_array_of_domain_objects_is_a_list() {
        let f = federation(json!([{"Domain": "contoso.com"}]));
        assert_eq!(f.allowed_domains_mode, "list");
        assert_eq!(f.allowed_domains, ["contoso.com"]);
    }

    #[test]
    fn allowed_domains_array_of_strings_is_a_list() {
        let f = federation(json!(["contoso.com", "fabrikam.com"]));
        assert_eq!(f.allowed_domains_mode, "list");
        assert_eq!(f.allowed_domains, ["contoso.com", "fabrikam.com"]);
    }

    #[test]
    fn allowed_domains_powershell_domain_rendering_is_a_list() {
        let f = federation(json!("Domain=contoso.com"));
        assert_eq!(f.allowed_domains_mode, "list");
        assert_eq!(f.allowed_domains, ["contoso.com"]);
    }

    #[test]
    fn allowed_domains_of_an_unknown_shape_is_malformed() {
        let t = teams(
            "teams.TenantFederationSettings",
            json!({"Identity": "Global", "AllowedDomains": 7}),
        );
        assert_eq!(
            t.tenant_federation.unavailable().unwrap().kind,
            UnavailableKind::Malformed
        );
        let t = teams(
            "teams.TenantFederationSettings",
            json!({"Identity": "Global", "AllowedDomains": {"Unexpected": 1}}),
        );
        assert_eq!(
            t.tenant_federation.unavailable().unwrap().kind,
            UnavailableKind::Malformed
        );
    }

    #[test]
    fn blocked_domains_accept_strings_and_domain_objects() {
        let t = teams(
            "teams.TenantFederationSettings",
            json!({"Identity": "Global", "BlockedDomains": ["evil.example", {"Domain": "spam.example"}]}),
        );
        assert_eq!(
            t.tenant_federation.value().unwrap().blocked_domains,
            ["evil.example", "spam.example"]
        );
    }

    #[test]
    fn tenant_federation_reads_the_b3_global_instance() {
        let t = teams(
            "teams.TenantFederationSettings",
            json!([{
                "Identity": "Global",
                "AllowFederatedUsers": true,
                "AllowedDomains": {"AllowedDomain": [{"Domain": "fabrikam.com"}]},
                "BlockedDomains": [],
                "BlockAllSubdomains": false,
                "AllowPublicUsers": false,
                "AllowTeamsConsumer": false,
                "AllowTeamsConsumerInbound": false,
                "ExternalAccessWithTrialTenants": "Blocked",
                "ConfigId": "Global",
                "Key": {}
            }]),
        );
        let f = t.tenant_federation.value().unwrap();
        assert_eq!(f.allow_federated_users, Some(true));
        assert_eq!(f.allowed_domains, ["fabrikam.com"]);
        assert_eq!(f.block_all_subdomains, Some(false));
        assert_eq!(f.allow_teams_consumer, Some(false));
        assert_eq!(f.allow_teams_consumer_inbound, Some(false));
        assert_eq!(
            f.external_access_with_trial_tenants.as_deref(),
            Some("Blocked")
        );
    }

    // --- resource accounts ------------------------------------------------------------------

    fn a8(ras: Value) -> Value {
        json!({
            "@odata.context": "https://graph.microsoft.com/beta/$metadata#admin/teams/resourceAccounts",
            "value": ras
        })
    }

    fn a8_main() -> Value {
        json!({
            "id": "748A7C7C-A489-4DE4-8A68-4415F1D19A9C",
            "userPrincipalName": "ra_cc_main@contoso.com",
            "displayName": "Contact Center Main Line",
            "appId": "4B8F0DCE-D7D5-47A3-A27C-1764B90505E2",
            "phoneNumber": "tel:+14255550100",
            "acsResourceId": "BB567890-1234-1234-1234-BBB123456789"
        })
    }

    fn ra_with(field: &str, value: Value) -> ResourceAccount {
        let mut ra = a8_main();
        ra[field] = value;
        let t = teams("graph.resourceAccounts", a8(json!([ra])));
        t.resource_accounts.value().unwrap()[RA].clone()
    }

    #[test]
    fn resource_accounts_from_graph_canonicalise_ids_and_numbers() {
        let t = teams("graph.resourceAccounts", a8(json!([a8_main()])));
        let ra = &t.resource_accounts.value().unwrap()[RA];
        assert_eq!(ra.id, RA);
        assert_eq!(ra.upn, "ra_cc_main@contoso.com");
        assert_eq!(
            ra.application_id.clone().flatten().as_deref(),
            Some(DOCUMENTED_D365_APP_ID)
        );
        assert_eq!(ra.application_kind.as_deref(), Some("documented_example"));
        assert_eq!(
            ra.acs_resource_id.clone().flatten().as_deref(),
            Some("bb567890-1234-1234-1234-bbb123456789")
        );
        assert_eq!(ra.acs_resource_id_is_guid, Some(true));
        assert_eq!(ra.phone_number.as_deref(), Some("+14255550100"));
        assert_eq!(ra.source, "graph");
    }

    #[test]
    fn resource_account_application_kinds_follow_the_app_id() {
        let kind = |app: Value| ra_with("appId", app).application_kind.unwrap_or_default();
        assert_eq!(kind(json!(AUTO_ATTENDANT_APP_ID)), "auto_attendant");
        assert_eq!(kind(json!(CALL_QUEUE_APP_ID.to_uppercase())), "call_queue");
        assert_eq!(
            kind(json!("{4b8f0dce-d7d5-47a3-a27c-1764b90505e2}")),
            "documented_example"
        );
        assert_eq!(kind(json!("0d1f2e3c-aaaa-4bbb-8ccc-111122223333")), "other");
        assert_eq!(kind(Value::Null), "none");
        assert_eq!(kind(json!("")), "none");
        assert_eq!(kind(json!(NIL_GUID)), "none");
    }

    #[test]
    fn resource_account_without_app_id_has_none() {
        assert_eq!(ra_with("appId", Value::Null).application_id, Some(None));
    }

    #[test]
    fn resource_account_arm_path_acs_id_is_kept_raw() {
        let arm = "/subscriptions/1/resourceGroups/rg/providers/Microsoft.Communication/CommunicationServices/acs";
        let ra = ra_with("acsResourceId", json!(arm));
        assert_eq!(ra.acs_resource_id.clone().flatten().as_deref(), Some(arm));
        assert_eq!(ra.acs_resource_id_is_guid, Some(false));
    }

    #[test]
    fn resource_account_empty_acs_id_is_none() {
        let ra = ra_with("acsResourceId", json!(""));
        assert_eq!(ra.acs_resource_id, Some(None));
        assert_eq!(ra.acs_resource_id_is_guid, Some(false));
        assert_eq!(
            ra_with("acsResourceId", Value::Null).acs_resource_id,
            Some(None)
        );
    }

    #[test]
    fn resource_accounts_fall_back_to_application_instances_when_graph_is_forbidden() {
        let t = normalize(&snapshot(vec![
            (
                "graph.resourceAccounts",
                error(
                    403,
                    "Authorization_RequestDenied",
                    "Insufficient privileges",
                ),
            ),
            (
                "teams.applicationInstances",
                data(json!({
                    "applicationInstances": [{
                        "objectId": RA,
                        "tenantId": "11111111-2222-3333-4444-555555555555",
                        "userPrincipalName": "ra_cc_main@contoso.com",
                        "displayName": "Contact Center Main Line",
                        "applicationId": "4b8f0dce-d7d5-47a3-a27c-1764b90505e2",
                        "phoneNumber": "tel:+14255550100",
                        "acsResourceId": "bb567890-1234-1234-1234-bbb123456789"
                    }],
                    "skipToken": null
                })),
            ),
        ]));
        let ra = &t.resource_accounts.value().unwrap()[RA];
        assert_eq!(ra.source, "teams");
        assert_eq!(ra.application_kind.as_deref(), Some("documented_example"));
        assert_eq!(ra.phone_number.as_deref(), Some("+14255550100"));
    }

    #[test]
    fn resource_accounts_fall_back_to_pascal_case_instances_when_graph_is_not_collected() {
        let t = teams(
            "teams.applicationInstances",
            json!({"applicationInstances": [{
                "ObjectId": "748A7C7C-A489-4DE4-8A68-4415F1D19A9C",
                "UserPrincipalName": "ra_cc_main@contoso.com",
                "DisplayName": "Contact Center Main Line",
                "ApplicationId": CALL_QUEUE_APP_ID,
                "PhoneNumber": "tel:+14255550199",
                "AcsResourceId": null
            }]}),
        );
        let ra = &t.resource_accounts.value().unwrap()[RA];
        assert_eq!(ra.source, "teams");
        assert_eq!(ra.application_kind.as_deref(), Some("call_queue"));
        assert_eq!(ra.acs_resource_id, Some(None));
        assert_eq!(ra.phone_number.as_deref(), Some("+14255550199"));
    }

    #[test]
    fn resource_accounts_both_unavailable_keep_the_graph_reason_and_mention_the_fallback() {
        let t = normalize(&snapshot(vec![
            (
                "graph.resourceAccounts",
                error(
                    403,
                    "Authorization_RequestDenied",
                    "Insufficient privileges",
                ),
            ),
            ("teams.applicationInstances", forbidden()),
        ]));
        let u = t.resource_accounts.unavailable().unwrap();
        assert_eq!(u.kind, UnavailableKind::Forbidden);
        assert!(
            u.reason
                .starts_with("GET /test: HTTP 403 Authorization_RequestDenied"),
            "{}",
            u.reason
        );
        assert!(
            u.reason
                .contains("teams.applicationInstances is also unavailable"),
            "{}",
            u.reason
        );
        let needs = u.needs.as_deref().unwrap();
        assert!(needs.contains("TeamsResourceAccount.Read.All"), "{needs}");
        assert!(needs.contains("Teams Administrator"), "{needs}");
        assert_eq!(
            u.sources,
            ["graph.resourceAccounts", "teams.applicationInstances"]
        );
    }

    #[test]
    fn resource_account_without_id_is_malformed() {
        let t = teams(
            "graph.resourceAccounts",
            a8(json!([{"userPrincipalName": "x@contoso.com"}])),
        );
        assert_eq!(
            t.resource_accounts.unavailable().unwrap().kind,
            UnavailableKind::Malformed
        );
    }

    // --- associations -----------------------------------------------------------------------

    #[test]
    fn ra_associations_are_keyed_by_resource_account() {
        let t = teams(
            "teams.applicationInstanceAssociations",
            json!({
                "748A7C7C-A489-4DE4-8A68-4415F1D19A9C": [{"Id": RA, "ConfigurationId": "9C1D2E3F-0000-4000-8000-000000000001", "ConfigurationType": "CallQueue", "CallPriority": 3}],
                "11111111-0000-4000-8000-000000000002": [],
                "11111111-0000-4000-8000-000000000003": null,
                "11111111-0000-4000-8000-000000000004": {"value": [{"ConfigurationId": "9c1d2e3f-0000-4000-8000-000000000005", "ConfigurationType": "AutoAttendant"}]}
            }),
        );
        let a = t.ra_associations.value().unwrap();
        assert_eq!(
            a[RA],
            [RaAssociation {
                config_type: "CallQueue".into(),
                config_id: "9c1d2e3f-0000-4000-8000-000000000001".into()
            }]
        );
        assert!(a["11111111-0000-4000-8000-000000000002"].is_empty());
        assert!(a["11111111-0000-4000-8000-000000000003"].is_empty());
        assert_eq!(
            a["11111111-0000-4000-8000-000000000004"][0].config_type,
            "AutoAttendant"
        );
    }

    #[test]
    fn ra_associations_of_the_wrong_shape_are_malformed() {
        let t = teams(
            "teams.applicationInstanceAssociations",
            json!([{"ConfigurationType": "CallQueue"}]),
        );
        assert_eq!(
            t.ra_associations.unavailable().unwrap().kind,
            UnavailableKind::Malformed
        );
        let t = teams(
            "teams.applicationInstanceAssociations",
            json!({RA: "CallQueue"}),
        );
        assert_eq!(
            t.ra_associations.unavailable().unwrap().kind,
            UnavailableKind::Malformed
        );
    }

    // --- numbers ----------------------------------------------------------------------------

    fn a72() -> Value {
        json!({"value": [
            {
                "id": "YmMyNjMyZTMtNzUwYy00N2Q3LWFlYWUtOWZlZTAzNWJjMGM3fCsxMjAyMzQ1Njc4OA",
                "telephoneNumber": "+14255550100",
                "operatorId": "7a205197-8e59-487d-b9fa-3fc1b108f1e5",
                "numberType": "directRouting",
                "activationState": "activated",
                "capabilities": ["voiceApplicationAssignment", "userAssignment"],
                "assignmentTargetId": "748A7C7C-A489-4DE4-8A68-4415F1D19A9C",
                "assignmentCategory": "primary",
                "assignmentStatus": "voiceApplicationAssigned",
                "isoCountryCode": "US",
                "numberSource": "online"
            },
            {"telephoneNumber": "+14255550102", "numberType": "operatorConnect", "activationState": "assignmentPending", "capabilities": ["userAssignment"], "assignmentTargetId": RA, "assignmentStatus": "userAssigned"},
            {"telephoneNumber": "+14255550101", "numberType": "callingPlan", "activationState": "activated", "capabilities": [], "assignmentTargetId": null, "assignmentStatus": "unassigned"}
        ]})
    }

    #[test]
    fn numbers_from_graph_are_keyed_by_e164_and_by_target() {
        let t = teams("graph.numberAssignments", a72());
        let numbers = t.numbers.value().unwrap();
        let n = &numbers["+14255550100"];
        assert_eq!(n.number_type.as_deref(), Some("directRouting"));
        assert_eq!(n.activation_state.as_deref(), Some("activated"));
        assert_eq!(
            n.capabilities.as_deref().unwrap(),
            ["voiceApplicationAssignment", "userAssignment"]
        );
        assert_eq!(
            n.assignment_status.as_deref(),
            Some("voiceApplicationAssigned")
        );
        assert_eq!(
            n.assignment_target_id.clone().flatten().as_deref(),
            Some(RA)
        );
        assert_eq!(
            n.operator_id.as_deref(),
            Some("7a205197-8e59-487d-b9fa-3fc1b108f1e5")
        );
        assert_eq!(n.iso_country_code.as_deref(), Some("US"));
        assert_eq!(n.source, "graph");
        assert_eq!(numbers["+14255550101"].assignment_target_id, Some(None));
        let by_target = t.numbers_by_target.value().unwrap();
        assert_eq!(by_target.len(), 1);
        assert_eq!(by_target[RA], ["+14255550100", "+14255550102"]);
    }

    fn b6(item: Value) -> Teams {
        normalize(&snapshot(vec![
            (
                "graph.numberAssignments",
                error(400, "NotSupportedInCloud", "not in this cloud"),
            ),
            (
                "teams.telephoneNumbers",
                data(json!({"TelephoneNumbers": [item]})),
            ),
        ]))
    }

    #[test]
    fn numbers_fall_back_to_teams_telephone_numbers_with_target_id() {
        let t = b6(json!({
            "TelephoneNumber": "+14255550100",
            "OperatorId": "83d289bc-a4d3-41e6-8a3f-cff260a3f091",
            "NumberType": "DirectRouting",
            "ActivationState": "Activated",
            "TargetId": "748A7C7C-A489-4DE4-8A68-4415F1D19A9C",
            "TargetType": "ResourceAccount",
            "AssignmentCategory": "Primary",
            "Capability": ["VoiceApplicationAssignment", "UserAssignment"],
            "IsoCountryCode": "US",
            "LocationId": null,
            "NumberSource": "OnPremises",
            "PstnAssignmentStatus": "VoiceApplicationAssigned",
            "AcquisitionDate": "2025-06-01T12:00:00Z"
        }));
        let n = &t.numbers.value().unwrap()["+14255550100"];
        assert_eq!(n.source, "teams");
        assert_eq!(n.number_type.as_deref(), Some("directRouting"));
        assert_eq!(n.activation_state.as_deref(), Some("activated"));
        assert_eq!(
            n.capabilities.as_deref().unwrap(),
            ["voiceApplicationAssignment", "userAssignment"]
        );
        assert_eq!(
            n.assignment_status.as_deref(),
            Some("voiceApplicationAssigned")
        );
        assert_eq!(
            n.assignment_target_id.clone().flatten().as_deref(),
            Some(RA)
        );
        assert_eq!(t.numbers_by_target.value().unwrap()[RA], ["+14255550100"]);
    }

    #[test]
    fn teams_number_target_may_be_assigned_pstn_target_id() {
        let t = b6(
            json!({"TelephoneNumber": "+14255550100", "AssignedPstnTargetId": RA, "NumberType": "OperatorConnect", "PstnPartnerName": "Contoso Telecom", "Capability": "{ConferenceAssignment, VoiceApplicationAssignment}"}),
        );
        let n = &t.numbers.value().unwrap()["+14255550100"];
        assert_eq!(
            n.assignment_target_id.clone().flatten().as_deref(),
            Some(RA)
        );
        assert_eq!(n.number_type.as_deref(), Some("operatorConnect"));
        assert_eq!(n.operator_name.as_deref(), Some("Contoso Telecom"));
        assert_eq!(
            n.capabilities.as_deref().unwrap(),
            ["conferenceAssignment", "voiceApplicationAssignment"]
        );
        assert_eq!(n.assignment_status, None, "absent, not guessed");
    }

    #[test]
    fn teams_number_target_may_be_an_assigned_to_object() {
        let t = b6(
            json!({"TelephoneNumber": "tel:+14255550100", "AssignedTo": {"id": "748A7C7C-A489-4DE4-8A68-4415F1D19A9C"}}),
        );
        let n = &t.numbers.value().unwrap()["+14255550100"];
        assert_eq!(
            n.assignment_target_id.clone().flatten().as_deref(),
            Some(RA)
        );
    }

    #[test]
    fn teams_number_without_target_or_status_is_unassigned() {
        let t = b6(json!({"TelephoneNumber": "+14255550100", "TargetId": NIL_GUID}));
        let n = &t.numbers.value().unwrap()["+14255550100"];
        assert_eq!(n.assignment_target_id, Some(None));
        assert_eq!(n.assignment_status.as_deref(), Some("unassigned"));
        assert!(t.numbers_by_target.value().unwrap().is_empty());
    }

    #[test]
    fn number_without_a_telephone_number_is_malformed() {
        let t = teams(
            "graph.numberAssignments",
            json!({"value": [{"numberType": "callingPlan"}]}),
        );
        assert_eq!(
            t.numbers.unavailable().unwrap().kind,
            UnavailableKind::Malformed
        );
        assert_eq!(
            t.numbers_by_target.unavailable().unwrap().kind,
            UnavailableKind::Malformed
        );
    }

    #[test]
    fn numbers_both_unavailable_keep_the_graph_reason() {
        let t = normalize(&snapshot(vec![
            (
                "graph.numberAssignments",
                error(403, "Forbidden", "Missing role"),
            ),
            (
                "teams.telephoneNumbers",
                error(500, "InternalError", "boom"),
            ),
        ]));
        let u = t.numbers.unavailable().unwrap();
        assert_eq!(u.kind, UnavailableKind::Forbidden);
        assert!(
            u.needs
                .as_deref()
                .unwrap()
                .contains("TeamsTelephoneNumber.Read.All")
        );
        assert!(
            u.reason
                .contains("teams.telephoneNumbers is also unavailable"),
            "{}",
            u.reason
        );
        assert_eq!(
            t.numbers_by_target.unavailable().unwrap().kind,
            UnavailableKind::Forbidden
        );
    }

    // --- users ------------------------------------------------------------------------------

    fn a71(eap: Value, ovrp: Value) -> Value {
        json!({"value": [{
            "id": "5A2F3B9E-0C1D-4E2F-8A9B-1C2D3E4F5A6B",
            "tenantId": "11111111-2222-3333-4444-555555555555",
            "userPrincipalName": "agent1@contoso.com",
            "isEnterpriseVoiceEnabled": true,
            "accountType": "user",
            "featureTypes": ["Teams", "AudioConferencing", "PhoneSystem", "CallingPlan"],
            "telephoneNumbers": [{"telephoneNumber": "+14255550123", "assignmentCategory": "primary"}],
            "effectivePolicyAssignments": [
                {"policyType": "TeamsCallingPolicy", "policyAssignment": {"displayName": "Global", "assignmentType": "direct", "policyId": "x", "groupId": null}},
                {"policyType": "ExternalAccessPolicy", "policyAssignment": {"displayName": eap, "assignmentType": "direct"}},
                {"policyType": "OnlineVoiceRoutingPolicy", "policyAssignment": {"displayName": ovrp, "assignmentType": "group"}}
            ]
        }]})
    }

    fn online_user(extra: Value) -> Value {
        let mut user = json!({
            "Identity": "agent1@contoso.com",
            "UserPrincipalName": "agent1@contoso.com",
            "ObjectId": AGENT,
            "AccountType": "User",
            "AccountEnabled": true,
            "EnterpriseVoiceEnabled": false,
            "FeatureTypes": ["Teams", "PhoneSystem"],
            "ExternalAccessPolicy": null,
            "OnlineVoiceRoutingPolicy": null,
            "TeamsCallingPolicy": "Tag:AllowCalling",
            "TeamsUpgradeEffectiveMode": "TeamsOnly"
        });
        if let (Some(u), Some(e)) = (user.as_object_mut(), extra.as_object()) {
            u.extend(e.clone());
        }
        json!({AGENT: user})
    }

    #[test]
    fn teams_users_from_graph_use_effective_policies() {
        let t = teams(
            "graph.userConfigurations",
            a71(json!("Tag:FederationOnly"), json!("Tag:DR-US")),
        );
        let u = &t.users.value().unwrap()[AGENT];
        assert_eq!(u.upn.as_deref(), Some("agent1@contoso.com"));
        assert_eq!(u.account_type.as_deref(), Some("user"));
        assert_eq!(u.enterprise_voice_enabled, Some(true));
        assert_eq!(
            u.feature_types.as_deref().unwrap(),
            ["Teams", "AudioConferencing", "PhoneSystem", "CallingPlan"]
        );
        assert_eq!(u.external_access_policy.as_deref(), Some("federationonly"));
        assert_eq!(
            u.online_voice_routing_policy
                .as_ref()
                .and_then(|p| p.as_deref()),
            Some("DR-US")
        );
        assert_eq!(u.effective_policies["TeamsCallingPolicy"], "Global");
        assert_eq!(u.teams_upgrade_effective_mode, None);
    }

    #[test]
    fn teams_users_global_assignments_mean_global_and_no_voice_routing_policy() {
        let t = teams(
            "graph.userConfigurations",
            a71(json!("Global"), json!("Global")),
        );
        let u = &t.users.value().unwrap()[AGENT];
        assert_eq!(u.external_access_policy.as_deref(), Some("global"));
        assert_eq!(u.online_voice_routing_policy, Some(None));
    }

    #[test]
    fn teams_users_merge_graph_and_online_users_with_graph_winning() {
        let t = normalize(&snapshot(vec![
            (
                "graph.userConfigurations",
                data(a71(json!("Tag:FederationOnly"), json!("Global"))),
            ),
            (
                "teams.onlineUsers",
                data(online_user(
                    json!({"ExternalAccessPolicy": "Tag:Other", "OnlineVoiceRoutingPolicy": "Tag:DR-US"}),
                )),
            ),
        ]));
        let u = &t.users.value().unwrap()[AGENT];
        assert_eq!(u.enterprise_voice_enabled, Some(true), "graph wins");
        assert_eq!(u.feature_types.as_ref().unwrap().len(), 4, "graph wins");
        assert_eq!(
            u.external_access_policy.as_deref(),
            Some("federationonly"),
            "graph wins"
        );
        assert_eq!(
            u.online_voice_routing_policy,
            Some(None),
            "graph reports Global"
        );
        assert_eq!(
            u.teams_upgrade_effective_mode.as_deref(),
            Some("TeamsOnly"),
            "only online users have it"
        );
        assert_eq!(
            u.effective_policies["TeamsCallingPolicy"], "Global",
            "graph wins"
        );
    }

    #[test]
    fn teams_users_come_from_online_users_when_graph_is_forbidden() {
        let t = normalize(&snapshot(vec![
            (
                "graph.userConfigurations",
                error(
                    403,
                    "Authorization_RequestDenied",
                    "Insufficient privileges",
                ),
            ),
            (
                "teams.onlineUsers",
                data(online_user(
                    json!({"AccountType": "ResourceAccount", "ExternalAccessPolicy": "Tag:FederationOnly", "OnlineVoiceRoutingPolicy": "DR-US"}),
                )),
            ),
        ]));
        let u = &t.users.value().unwrap()[AGENT];
        assert_eq!(u.account_type.as_deref(), Some("resourceAccount"));
        assert_eq!(u.enterprise_voice_enabled, Some(false));
        assert_eq!(
            u.feature_types.as_deref().unwrap(),
            ["Teams", "PhoneSystem"]
        );
        assert_eq!(u.external_access_policy.as_deref(), Some("federationonly"));
        assert_eq!(
            u.online_voice_routing_policy
                .as_ref()
                .and_then(|p| p.as_deref()),
            Some("DR-US")
        );
        assert_eq!(u.effective_policies["TeamsCallingPolicy"], "AllowCalling");
        assert_eq!(u.teams_upgrade_effective_mode.as_deref(), Some("TeamsOnly"));
    }

    #[test]
    fn online_user_with_empty_policies_gets_global_and_no_voice_routing_policy() {
        let t = teams(
            "teams.onlineUsers",
            online_user(json!({"ExternalAccessPolicy": "", "OnlineVoiceRoutingPolicy": ""})),
        );
        let u = &t.users.value().unwrap()[AGENT];
        assert_eq!(u.external_access_policy.as_deref(), Some("global"));
        assert_eq!(u.online_voice_routing_policy, Some(None));
    }

    #[test]
    fn user_configurations_keyed_by_user_id_are_accepted() {
        let list = a71(json!("Global"), json!("Global"));
        let one = list["value"][0].clone();
        let t = teams(
            "graph.userConfigurations",
            json!({AGENT: one, "11111111-0000-4000-8000-000000000009": null}),
        );
        let users = t.users.value().unwrap();
        assert_eq!(users.len(), 1);
        assert_eq!(users[AGENT].enterprise_voice_enabled, Some(true));
    }

    #[test]
    fn teams_users_unavailable_only_when_both_sources_are() {
        let t = normalize(&snapshot(vec![
            (
                "graph.userConfigurations",
                error(
                    403,
                    "Authorization_RequestDenied",
                    "Insufficient privileges",
                ),
            ),
            ("teams.onlineUsers", forbidden()),
        ]));
        let u = t.users.unavailable().unwrap();
        assert_eq!(u.kind, UnavailableKind::Forbidden);
        assert!(
            u.needs
                .as_deref()
                .unwrap()
                .contains("TeamsUserConfiguration.Read.All")
        );
        assert!(
            u.reason.contains("teams.onlineUsers is also unavailable"),
            "{}",
            u.reason
        );
    }

    #[test]
    fn teams_users_of_the_wrong_shape_are_malformed_when_the_other_source_is_missing() {
        let t = teams(
            "graph.userConfigurations",
            json!({"value": [{"id": AGENT, "featureTypes": 3}]}),
        );
        assert_eq!(
            t.users.unavailable().unwrap().kind,
            UnavailableKind::Malformed
        );
    }

    #[test]
    fn malformed_online_users_are_named_in_the_reason_when_graph_is_missing() {
        let t = teams("teams.onlineUsers", json!([{"ObjectId": AGENT}]));
        let u = t.users.unavailable().unwrap();
        assert_eq!(
            u.kind,
            UnavailableKind::NotCollected,
            "the Graph source leads"
        );
        assert!(u.reason.contains("unexpected shape"), "{}", u.reason);
    }
}
