//! The typed tenant model: raw snapshot facts normalized into documented structs.
//!
//! API variants (casing, object-or-array, `tel:` prefixes, GUID spellings, deprecated fields)
//! are absorbed here so checks never see them. The model is serialised to JSON once per audit
//! and handed to the CEL checks as `tenant`; `docs/model.md` documents every field.

pub mod absence;
pub mod agents;
pub mod answer;
pub mod azure;
pub mod compliance;
pub mod d365;
pub mod directory;
pub mod external_access;
pub mod fact;
pub mod ib_filter;
pub mod ib_restriction;
pub mod licensing;
pub mod location;
pub mod raw;
pub mod schema;
pub mod scope;
pub mod teams;
#[cfg(test)]
mod test_support;
pub mod well_known;

use crate::fact_key::FactKey;
use std::collections::BTreeMap;

use serde::Serialize;

pub use fact::{Fact, Unavailable, UnavailableKind};

use crate::snapshot::Snapshot;

/// Audit settings that checks read as `tenant.config`.
#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct AuditConfig {
    /// SKU part numbers or skuIds that count as a Contact Center agent license (LIC-005) besides
    /// the documented ones (`config::DOCUMENTED_CONTACT_CENTER_SKUS`). Empty, or only blank
    /// entries: none configured.
    pub contact_center_skus: Vec<String>,
}

/// The audit settings as checks see them (`tenant.config`).
#[derive(Debug, Clone, Serialize)]
pub struct ModelConfig {
    /// Part numbers and skuIds that count as a Contact Center agent license: the documented ones
    /// and the configured ones. Always available.
    pub contact_center_skus: Fact<Vec<String>>,
    /// The configured ones alone (`--cc-sku`, `CCAUDIT_CC_SKUS`, `contact_center_skus`). While
    /// it is empty, an agent whose licenses are none of the documented SKUs is unknown, not
    /// failed: the documented list is known to be incomplete.
    pub configured_contact_center_skus: Vec<String>,
}

impl ModelConfig {
    fn from(config: AuditConfig) -> ModelConfig {
        let configured = crate::config::sku_list(&config.contact_center_skus);
        let documented = crate::config::DOCUMENTED_CONTACT_CENTER_SKUS
            .iter()
            .flat_map(|s| [s.part_number, s.sku_id]);
        let all = crate::config::sku_list(
            &documented
                .map(str::to_string)
                .chain(configured.iter().cloned())
                .collect::<Vec<_>>(),
        );
        ModelConfig {
            contact_center_skus: Fact::Available(all),
            configured_contact_center_skus: configured,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TenantInfo {
    pub id: String,
    pub name: Option<String>,
    pub cloud: String,
    pub collected_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TenantModel {
    pub info: TenantInfo,
    pub config: ModelConfig,
    pub directory: directory::Directory,
    pub teams: teams::Teams,
    pub azure: azure::Azure,
    pub d365: d365::D365,
    pub compliance: compliance::Compliance,
    pub agents: Fact<Vec<agents::Agent>>,
    pub scope: scope::Scope,
    /// Fields the sources did not send (left out of the model, so checks that read them are
    /// unknown); not part of `tenant`.
    #[serde(skip)]
    pub absences: Vec<absence::Absence>,
}

impl TenantModel {
    pub fn from_snapshot(snapshot: &Snapshot, config: AuditConfig) -> TenantModel {
        let (mut model, absences) =
            absence::collecting(|| TenantModel::normalize(snapshot, config));
        model.absences = absences;
        model
    }

    fn normalize(snapshot: &Snapshot, config: AuditConfig) -> TenantModel {
        let mut directory = directory::normalize(snapshot);
        let mut teams = teams::normalize(snapshot);
        let azure = azure::normalize(snapshot);
        let mut d365 = d365::normalize(snapshot);
        d365.acs_data_location = location::derive(&d365.teams_provider, &azure.acs_resources);
        let mut compliance = compliance::normalize(snapshot, &directory);
        let agents = agents::normalize(snapshot, &directory);
        let scope = scope::derive(&teams, &d365);
        note_unread_users(snapshot, &directory, &teams, &agents);
        compliance.agent_segment_groups = compliance::group_by_membership(
            agents.clone().map(|list| {
                list.into_iter()
                    .filter_map(|a| {
                        Some(compliance::GroupMember {
                            id: a.id?,
                            upn: a.upn.unwrap_or(a.key),
                        })
                    })
                    .collect()
            }),
            &compliance.ib_membership,
        );
        compliance.resource_account_segment_groups = compliance::group_by_membership(
            scoped_resource_accounts(&scope, &teams),
            &compliance.ib_membership,
        );
        compliance.agent_separation = compliance::agent_separation(
            &compliance.ib_policies,
            &compliance.agent_segment_groups,
            &compliance.resource_account_segment_groups,
        );
        compliance.agent_restrictions =
            ib_restriction::derive(&agents, &compliance.ib_policies, &compliance.ib_membership);
        let config = ModelConfig::from(config);
        derive_per_user(&mut directory, &mut teams, &agents, &scope, &config);
        let name = snapshot.tenant_name.clone().or_else(|| {
            directory
                .organization
                .value()
                .and_then(|o| o.display_name.clone())
        });
        TenantModel {
            info: TenantInfo {
                id: snapshot.tenant_id.clone(),
                name,
                cloud: snapshot.cloud.clone(),
                collected_at: snapshot.collected_at.clone(),
            },
            config,
            directory,
            teams,
            azure,
            d365,
            compliance,
            agents,
            scope,
            absences: Vec::new(),
        }
    }

    /// Every fact path with its status (`None` = available).
    pub fn facts(&self) -> Vec<(&'static str, Option<&Unavailable>)> {
        let mut all = Vec::new();
        all.extend(self.directory.facts());
        all.extend(self.teams.facts());
        all.extend(self.azure.facts());
        all.extend(self.d365.facts());
        all.extend(self.compliance.facts());
        all.push(("agents", self.agents.unavailable()));
        // Derived per agent and resource account once the model is built (`derive_per_user`).
        all.push((
            "teams.external_access",
            self.teams.external_access.unavailable(),
        ));
        all.push((
            "teams.acs_blocking_policies",
            self.teams.acs_blocking_policies.unavailable(),
        ));
        all.push((
            "directory.contact_center_licenses",
            self.directory.contact_center_licenses.unavailable(),
        ));
        all.push((
            "config.contact_center_skus",
            self.config.contact_center_skus.unavailable(),
        ));
        all.push((
            "scope.resource_accounts",
            self.scope.resource_accounts.unavailable(),
        ));
        all
    }

    /// The facts that could not be read, by path.
    pub fn unavailable_facts(&self) -> BTreeMap<&'static str, &Unavailable> {
        self.facts()
            .into_iter()
            .filter_map(|(p, u)| u.map(|u| (p, u)))
            .collect()
    }

    /// The model as the JSON that checks see as `tenant`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("the model serialises")
    }
}

/// The facts derived per agent and contact-center resource account: the effective external
/// access policy and the Contact Center license.
fn derive_per_user(
    directory: &mut directory::Directory,
    teams: &mut teams::Teams,
    agents: &Fact<Vec<agents::Agent>>,
    scope: &scope::Scope,
    config: &ModelConfig,
) {
    let found: Vec<(&str, &str)> = agents
        .value()
        .into_iter()
        .flatten()
        .filter_map(|a| Some((a.id.as_deref()?, a.upn.as_deref()?)))
        .collect();
    let mut people: Vec<external_access::Person<'_>> = found
        .iter()
        .map(|(id, upn)| external_access::Person {
            id,
            upn,
            kind: "agent",
        })
        .collect();
    if let (Some(scoped), Some(ras)) = (
        scope.resource_accounts.value(),
        teams.resource_accounts.value(),
    ) {
        people.extend(scoped.iter().filter_map(|s| ras.get(&s.id)).map(|ra| {
            external_access::Person {
                id: &ra.id,
                upn: &ra.upn,
                kind: "resource account",
            }
        }));
    }
    let external_access =
        external_access::derive(&people, &teams.users, &teams.external_access_policies);
    teams.acs_blocking_policies = external_access::blocking_policies(
        &people,
        &teams.users,
        &teams.users_not_found,
        &teams.external_access_policies,
    );
    let counted = config
        .contact_center_skus
        .value()
        .cloned()
        .unwrap_or_default();
    directory.contact_center_licenses = licensing::derive(
        &found,
        &directory.licenses,
        &counted,
        &config.configured_contact_center_skus,
    );
    teams.external_access = external_access;
}

/// Agents and resource accounts for whom a per-user source has no record at all were not read
/// (the key is missing), which checks must not take for "no licenses" or "not a Teams user":
/// noted so the unknown result says which source and user.
fn note_unread_users(
    snapshot: &Snapshot,
    directory: &directory::Directory,
    teams: &teams::Teams,
    agents: &Fact<Vec<agents::Agent>>,
) {
    let mut people: Vec<(String, String)> = agents
        .value()
        .into_iter()
        .flatten()
        .filter_map(|a| Some((a.id.clone()?, a.upn.clone().unwrap_or(a.key.clone()))))
        .collect();
    if let Some(ras) = teams.resource_accounts.value() {
        people.extend(ras.values().map(|ra| (ra.id.clone(), ra.upn.clone())));
    }
    let users_source = if matches!(
        snapshot.fact(FactKey::TeamsOnlineUsers),
        crate::snapshot::RawFact::NotCollected
    ) {
        FactKey::GraphUserConfigurations
    } else {
        FactKey::TeamsOnlineUsers
    };
    for (id, upn) in &people {
        if let Some(licenses) = directory.licenses.value()
            && !licenses.contains_key(id)
        {
            absence::note_missing_record(FactKey::GraphLicenseDetails, upn, "licenseDetails", id);
        }
        if let Some(users) = teams.users.value()
            && !users.contains_key(id)
        {
            absence::note_missing_record(users_source, upn, "a user record", id);
        }
    }
}

/// The contact-center resource accounts with their UPNs.
fn scoped_resource_accounts(
    scope: &scope::Scope,
    teams: &teams::Teams,
) -> Fact<Vec<compliance::GroupMember>> {
    match (&scope.resource_accounts, &teams.resource_accounts) {
        (Fact::Available(scoped), Fact::Available(ras)) => Fact::Available(
            scoped
                .iter()
                .filter_map(|s| ras.get(&s.id))
                .map(|ra| compliance::GroupMember {
                    id: ra.id.clone(),
                    upn: ra.upn.clone(),
                })
                .collect(),
        ),
        (Fact::Unavailable(u), _) | (_, Fact::Unavailable(u)) => Fact::dependency(u),
    }
}

/// A fact path in the words a report uses for it: messages name what could not be read, not
/// the model's path (`teams.acs_federation` is "the Teams ACS federation configuration").
pub fn fact_label(path: &str) -> Option<&'static str> {
    Some(match path {
        "directory.organization" => "the organization (tenant details)",
        "directory.skus" => "the tenant's license SKUs",
        "directory.users" => "the users (agents and resource accounts)",
        "directory.user_ids_by_upn" => "the users' object ids",
        "directory.licenses" => "the users' licenses",
        "directory.group_memberships" => "the users' group memberships",
        "directory.service_principals" => "the service principals",
        "directory.consent_grants" => "the admin consent grants",
        "directory.role_assignments" => "the directory role assignments",
        "directory.contact_center_licenses" => "the agents' Contact Center licenses",
        "teams.acs_federation" => "the Teams ACS federation configuration",
        "teams.external_access_policies" => "the Teams external access policies",
        "teams.tenant_federation" => "the Teams tenant federation configuration",
        "teams.resource_accounts" => "the Teams resource accounts",
        "teams.ra_associations" => {
            "the resource accounts' auto attendant and call queue associations"
        }
        "teams.numbers" => "the Teams phone numbers",
        "teams.numbers_by_target" => "the Teams phone numbers' assignments",
        "teams.users" => "the users' Teams settings",
        "teams.external_access" => {
            "the effective external access policies of the agents and resource accounts"
        }
        "teams.acs_blocking_policies" => {
            "the external access policies that block ACS, with who holds them"
        }
        "azure.subscriptions" => "the Azure subscriptions",
        "azure.acs_resources" => "the Azure Communication Services resources",
        "azure.event_subscriptions" => "the ACS resources' Event Grid subscriptions",
        "d365.provider_settings" => "the D365 communication provider settings",
        "d365.teams_provider" => "the D365 Teams Phone System provider setting",
        "d365.acs_provider" => "the D365 ACS provider setting",
        "d365.dynamics_app_id" => "the Dynamics App ID recorded in D365",
        "d365.phone_numbers" => "the D365 phone numbers",
        "d365.voice_channels" => "the D365 voice channels",
        "d365.acs_data_location" => "the data location of the D365 ACS resource",
        "compliance.ib_policies" => "the information barrier policies",
        "compliance.ib_segments" => "the information barrier segments",
        "compliance.ib_mode" => "the information barrier mode",
        "compliance.ib_membership" => "the users' information barrier segments",
        "compliance.agent_segment_groups" => "the agents' information barrier segments",
        "compliance.resource_account_segment_groups" => {
            "the resource accounts' information barrier segments"
        }
        "compliance.agent_separation" => {
            "the information barriers between agents and resource accounts"
        }
        "compliance.agent_restrictions" => {
            "the information barrier policies that restrict the agents' segments"
        }
        "agents" => "the agents",
        "config.contact_center_skus" => {
            "the Contact Center license SKUs (--cc-sku, or contact_center_skus in ccaudit.yaml)"
        }
        "scope.resource_accounts" => "the contact center's resource accounts",
        _ => return None,
    })
}

/// Every fact path a check may list in `needs`.
pub fn fact_paths() -> Vec<&'static str> {
    // The list is built from an empty snapshot so it can never drift from `facts()`.
    let snapshot = Snapshot {
        schema_version: crate::snapshot::SCHEMA_VERSION,
        tool_version: String::new(),
        collected_at: String::new(),
        tenant_id: String::new(),
        tenant_name: None,
        cloud: "public".into(),
        agents: None,
        sign_in: None,
        facts: BTreeMap::new(),
    };
    TenantModel::from_snapshot(&snapshot, AuditConfig::default())
        .facts()
        .into_iter()
        .map(|(p, _)| p)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Messages name what could not be read in words: every fact path a check can need has a
    /// label, and no label is a path.
    #[test]
    fn every_fact_path_has_a_plain_label() {
        for path in fact_paths() {
            let label = fact_label(path).unwrap_or_else(|| panic!("{path} has no label"));
            assert!(label.starts_with("the "), "{path}: {label}");
            assert!(
                !label
                    .split_whitespace()
                    .map(|w| w.trim_end_matches(['.', ',', ')']))
                    .any(|w| w.contains('.') && w != "ccaudit.yaml"),
                "{path}: {label} names a path"
            );
        }
    }
}
