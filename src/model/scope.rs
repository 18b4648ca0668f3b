//! Which resource accounts belong to the contact center.
//!
//! A tenant has many resource accounts (auto attendants, call queues, other apps); the RA checks
//! apply to the ones the contact center uses. An RA is in scope when any signal ties it to
//! D365 or to Teams Phone extensibility, and each scoped RA records why, so a report can show it.

use serde::Serialize;

use super::d365::D365;
use super::fact::Fact;
use super::teams::Teams;

#[derive(Debug, Clone, Serialize)]
pub struct Scope {
    /// Contact-center resource accounts (ids into `teams.resource_accounts`) with the reasons.
    pub resource_accounts: Fact<Vec<ScopedResourceAccount>>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ScopedResourceAccount {
    pub id: String,
    /// `dynamics_app_id`, `d365_acs_resource`, `d365_phone_number`, `documented_app_id`,
    /// `acs_resource_bound`.
    pub reasons: Vec<String>,
}

pub fn derive(teams: &Teams, d365: &D365) -> Scope {
    let resource_accounts = match &teams.resource_accounts {
        Fact::Unavailable(u) => Fact::dependency(u),
        Fact::Available(ras) => {
            let app_id = d365.dynamics_app_id.value().cloned().flatten();
            let acs_id = d365
                .teams_provider
                .value()
                .cloned()
                .flatten()
                .and_then(|p| p.immutable_id);
            let d365_ra_ids: Vec<String> = d365
                .phone_numbers
                .value()
                .map(|rows| {
                    rows.values()
                        .flatten()
                        .filter_map(|r| r.teams_resource_account.clone())
                        .collect()
                })
                .unwrap_or_default();
            let scoped = ras
                .values()
                .filter_map(|ra| {
                    let mut reasons = Vec::new();
                    if app_id.is_some() && ra.application_id.clone().flatten() == app_id {
                        reasons.push("dynamics_app_id".to_string());
                    }
                    if acs_id.is_some() && ra.acs_resource_id.clone().flatten() == acs_id {
                        reasons.push("d365_acs_resource".to_string());
                    }
                    if d365_ra_ids.contains(&ra.id) {
                        reasons.push("d365_phone_number".to_string());
                    }
                    if ra.application_kind.as_deref() == Some("documented_example") {
                        reasons.push("documented_app_id".to_string());
                    }
                    if matches!(ra.acs_resource_id, Some(Some(_))) && reasons.is_empty() {
                        reasons.push("acs_resource_bound".to_string());
                    }
                    (!reasons.is_empty()).then(|| ScopedResourceAccount {
                        id: ra.id.clone(),
                        reasons,
                    })
                })
                .collect();
            Fact::Available(scoped)
        }
    };
    Scope { resource_accounts }
}
