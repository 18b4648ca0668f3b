//! Which resource accounts belong to the contact center.
//!
//! A tenant has many resource accounts (auto attendants, call queues, other apps); the RA checks
//! apply to the ones the contact center uses. An RA is in scope when any signal ties it to
//! D365 or to Teams Phone extensibility, and each scoped RA records why, so a report can show it.
//!
//! A D365 field that was not sent (the Dynamics App ID undetermined, a phone row without
//! `msdyn_teamsresourceaccount`) makes the scope unavailable when it could decide whether some
//! resource account belongs, rather than leaving that account out or in on a guess.

use crate::fact_key::FactKey;
use serde::Serialize;

use super::d365::D365;
use super::fact::{Fact, Unavailable, UnavailableKind};
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
            // An unavailable D365 fact only removes its signal. A D365 field that was not sent
            // leaves its signal undetermined: `None` below, with the reason.
            let app_id: Result<Option<String>, String> = match d365.dynamics_app_id.value() {
                None => Ok(None),
                Some(Some(id)) => Ok(id.clone()),
                Some(None) => Err(format!(
                    "Dataverse did not report enough of the DynamicsAppId setting entries to \
                     tell the Dynamics App ID ({SETTING_ENTRIES})"
                )),
            };
            let acs_id = d365
                .teams_provider
                .value()
                .cloned()
                .flatten()
                .and_then(|p| p.immutable_id)
                .flatten();
            let mut d365_ra_ids: Vec<String> = Vec::new();
            let mut unnamed_row: Option<String> = None;
            for row in d365
                .phone_numbers
                .value()
                .into_iter()
                .flat_map(|m| m.values().flatten())
            {
                match &row.teams_resource_account {
                    Some(Some(id)) => d365_ra_ids.push(id.clone()),
                    Some(None) => {}
                    None => {
                        unnamed_row.get_or_insert_with(|| {
                            format!(
                                "Dataverse did not report msdyn_teamsresourceaccount for {} \
                                 ({PHONE_NUMBERS})",
                                row.number
                            )
                        });
                    }
                }
            }
            let mut scoped = Vec::new();
            let mut undetermined: Option<(String, FactKey)> = None; // (reason, source)
            for ra in ras.values() {
                let mut reasons = Vec::new();
                if let Ok(Some(app_id)) = &app_id
                    && ra.application_id.clone().flatten().as_ref() == Some(app_id)
                {
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
                if reasons.is_empty() {
                    // Not tied to the contact center by what is known; an undetermined signal
                    // could still tie it. The Dynamics App ID is D365's own app, never the Auto
                    // attendant's or Call queue's, so it cannot tie those.
                    let app_could_tie = match &ra.application_id {
                        None => true,
                        Some(None) => false,
                        Some(Some(_)) => !matches!(
                            ra.application_kind.as_deref(),
                            Some("auto_attendant" | "call_queue" | "none")
                        ),
                    };
                    // The account's own ids, when its source did not send them, could match
                    // the D365 ones.
                    let own_unsent =
                        match (&app_id, &ra.application_id, &acs_id, &ra.acs_resource_id) {
                            (Ok(Some(_)), None, _, _) => Some(format!(
                                "its source did not report appId for {} ({})",
                                ra.upn, ra.source
                            )),
                            (_, _, Some(_), None) => Some(format!(
                                "its source did not report acsResourceId for {} ({})",
                                ra.upn, ra.source
                            )),
                            _ => None,
                        };
                    let ra_source = if ra.source == "graph" {
                        FactKey::GraphResourceAccounts
                    } else {
                        FactKey::TeamsApplicationInstances
                    };
                    let why = match (&app_id, own_unsent) {
                        (Err(why), _) if app_could_tie => Some((why.clone(), SETTING_ENTRIES)),
                        (_, Some(why)) => Some((why, ra_source)),
                        _ => unnamed_row.clone().map(|why| (why, PHONE_NUMBERS)),
                    };
                    if let Some((why, source)) = why {
                        undetermined.get_or_insert_with(|| {
                            let reason = format!(
                                "whether resource account {} belongs to the contact center is \
                                 unknown: {why}",
                                ra.upn
                            );
                            (reason, source)
                        });
                    }
                    continue;
                }
                scoped.push(ScopedResourceAccount {
                    id: ra.id.clone(),
                    reasons,
                });
            }
            match undetermined {
                None => Fact::Available(scoped),
                Some((reason, source)) => Fact::Unavailable(Unavailable {
                    kind: UnavailableKind::Dependency,
                    reason,
                    needs: None,
                    sources: vec![source.to_string()],
                }),
            }
        }
    };
    Scope { resource_accounts }
}

const SETTING_ENTRIES: FactKey = FactKey::DataverseProviderSettingEntries;
const PHONE_NUMBERS: FactKey = FactKey::DataversePhoneNumbers;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AuditConfig, TenantModel};
    use crate::snapshot::Snapshot;
    use serde_json::Value;

    const AA: &str = "9f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";

    /// The healthy example's scope after `change` edits its raw facts.
    fn scope_of(change: impl FnOnce(&mut Snapshot)) -> Fact<Vec<ScopedResourceAccount>> {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/healthy.snapshot.json");
        let mut snapshot = Snapshot::load(&path).expect("the example loads");
        change(&mut snapshot);
        TenantModel::from_snapshot(&snapshot, AuditConfig::default())
            .scope
            .resource_accounts
    }

    fn data<'a>(snapshot: &'a mut Snapshot, key: &str) -> &'a mut Value {
        snapshot
            .facts
            .get_mut(key)
            .and_then(|f| f.data.as_mut())
            .expect("the example has the fact")
    }

    fn ids(scope: &Fact<Vec<ScopedResourceAccount>>) -> Vec<&str> {
        let mut ids: Vec<&str> = scope
            .value()
            .unwrap()
            .iter()
            .map(|s| s.id.as_str())
            .collect();
        ids.sort();
        ids
    }

    #[test]
    fn the_auto_attendant_is_out_of_scope() {
        let scope = scope_of(|_| {});
        assert_eq!(
            ids(&scope),
            [
                "3e5d9c21-6b7a-4f0e-9a1d-2c4b6e8f0a13",
                "748a7c7c-a489-4de4-8a68-4415f1d19a9c"
            ]
        );
    }

    #[test]
    fn a_phone_row_without_its_resource_account_leaves_membership_undetermined() {
        let scope = scope_of(|s| {
            data(s, PHONE_NUMBERS.as_str())["value"][0]
                .as_object_mut()
                .unwrap()
                .remove("msdyn_teamsresourceaccount");
        });
        let u = scope.unavailable().expect("not a guess");
        assert_eq!(u.kind, UnavailableKind::Dependency);
        assert!(
            u.reason.contains("ra_aa_reception@contoso.com"),
            "{}",
            u.reason
        );
        assert!(
            u.reason
                .contains("msdyn_teamsresourceaccount for +14255550100"),
            "{}",
            u.reason
        );
        assert_eq!(u.sources, [PHONE_NUMBERS.as_str()]);
    }

    #[test]
    fn an_undetermined_app_id_cannot_tie_the_auto_attendant_but_can_tie_another_app() {
        let drop_value = |s: &mut Snapshot| {
            data(s, SETTING_ENTRIES.as_str())["value"][0]
                .as_object_mut()
                .unwrap()
                .remove("msdyn_value");
        };
        let scope = scope_of(drop_value);
        assert_eq!(
            ids(&scope).len(),
            2,
            "the contact-center accounts keep their other signals"
        );
        assert!(
            scope
                .value()
                .unwrap()
                .iter()
                .all(|s| !s.reasons.contains(&"dynamics_app_id".to_string()))
        );

        let scope = scope_of(|s| {
            drop_value(s);
            let aa = &mut data(s, "graph.resourceAccounts")["value"][2];
            assert_eq!(aa["id"], AA);
            aa["appId"] = "0a0a0a0a-0000-0000-0000-000000000001".into();
        });
        let u = scope.unavailable().expect("not a guess");
        assert!(
            u.reason.contains("ra_aa_reception@contoso.com"),
            "{}",
            u.reason
        );
        assert!(u.reason.contains("DynamicsAppId"), "{}", u.reason);
        assert_eq!(u.sources, [SETTING_ENTRIES.as_str()]);
    }
}
