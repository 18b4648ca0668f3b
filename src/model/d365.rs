//! Dynamics 365 Contact Center facts from Dataverse: provider settings (Teams Phone System and
//! ACS), the Dynamics App ID, phone-number rows and their voice-channel bindings.

use crate::fact_key::FactKey;
use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::absence;
use super::fact::{Fact, Unavailable, read};
use super::raw::{bool_prop, int_prop, prop, records, required_str, str_prop};
use crate::ids::{e164, guid, guid_or_raw};
use crate::snapshot::Snapshot;

/// `msdyn_occommunicationprovider` option values.
pub const PROVIDER_ACS: i64 = 192_350_000;
pub const PROVIDER_TWILIO: i64 = 192_350_001;
pub const PROVIDER_TELESIGN: i64 = 192_350_002;
pub const PROVIDER_TEAMS: i64 = 192_350_003;

#[derive(Debug, Clone, Serialize)]
pub struct D365 {
    /// `dataverse.msdyn_occommunicationprovidersettings`, every row.
    pub provider_settings: Fact<Vec<ProviderSetting>>,
    /// The active Teams Phone System provider row; `null` when there is none.
    pub teams_provider: Fact<Option<ProviderSetting>>,
    /// The active ACS provider row; `null` when there is none.
    pub acs_provider: Fact<Option<ProviderSetting>>,
    /// `DynamicsAppId` from `dataverse.msdyn_occommunicationprovidersettingentries` (canonical
    /// GUID or raw text); `null` (`Some(None)`) when the entry does not exist; absent (omitted,
    /// `None`) when entries that lack a column could change which value it is.
    #[serde(skip_serializing_if = "undetermined")]
    pub dynamics_app_id: Fact<Option<Option<String>>>,
    /// `dataverse.msdyn_ocphonenumbers`, keyed by E.164 (several rows can share a number).
    pub phone_numbers: Fact<BTreeMap<String, Vec<D365PhoneNumber>>>,
    /// `dataverse.msdyn_ocvoicechannelsettings`, keyed by the phone-number row id they bind.
    pub voice_channels: Fact<BTreeMap<String, Vec<VoiceChannel>>>,
    /// Where the Teams provider's ACS resource keeps its data (with ARM's `dataLocation` when
    /// visible); `null` when there is no Teams provider. Set by `TenantModel::from_snapshot`.
    pub acs_data_location: Fact<Option<super::location::AcsDataLocation>>,
}

/// An available fact whose value the source did not send enough of to decide: omitted from the
/// model JSON, so a check that reads it is unknown.
fn undetermined<T>(fact: &Fact<Option<T>>) -> bool {
    matches!(fact, Fact::Available(None))
}

/// Fields that are `Option<Option<T>>` are absent (omitted, `None`) when the row does not carry
/// the column, and `null` (`Some(None)`) when Dataverse says it is empty: the Web API returns every
/// selected column, `null` when it has no value.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ProviderSetting {
    pub id: String,
    /// `msdyn_name`, for display only: `null` when absent or empty.
    pub name: Option<String>,
    /// `acs`, `twilio`, `telesign`, `teams`, `unknown`.
    pub provider: String,
    pub provider_code: i64,
    /// `msdyn_occommunicationproviderimmutableid`: canonical GUID, or raw text when it is not a
    /// GUID (e.g. an ARM path); `null` when empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub immutable_id: Option<Option<String>>,
    /// Whether `immutable_id` is a GUID (`false` when it is empty); absent with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub immutable_id_is_guid: Option<bool>,
    /// `msdyn_occommunicationproviderdatalocation`; `null` when empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_location: Option<Option<String>>,
    /// `statecode == 0`.
    pub active: bool,
}

/// Absent and `null` fields as in [`ProviderSetting`].
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct D365PhoneNumber {
    pub id: String,
    /// E.164.
    pub number: String,
    /// `teams` (1), `acs` (0), `unknown` (another value, or `null`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number_type: Option<String>,
    /// Canonical GUID of the Teams resource account (`msdyn_teamsresourceaccount`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub teams_resource_account: Option<Option<String>>,
    /// `_msdyn_occommunicationprovidersettingid_value`, canonical GUID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_setting_id: Option<Option<String>>,
    /// `statecode == 0`.
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inbound_enabled: Option<Option<bool>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outbound_enabled: Option<Option<bool>>,
}

/// Absent and `null` fields as in [`ProviderSetting`].
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct VoiceChannel {
    pub id: String,
    /// `msdyn_name`, for display only: `null` when absent or empty.
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workstream_id: Option<Option<String>>,
    pub active: bool,
}

impl D365 {
    pub fn facts(&self) -> Vec<(&'static str, Option<&Unavailable>)> {
        vec![
            (
                "d365.provider_settings",
                self.provider_settings.unavailable(),
            ),
            ("d365.teams_provider", self.teams_provider.unavailable()),
            ("d365.acs_provider", self.acs_provider.unavailable()),
            ("d365.dynamics_app_id", self.dynamics_app_id.unavailable()),
            ("d365.phone_numbers", self.phone_numbers.unavailable()),
            ("d365.voice_channels", self.voice_channels.unavailable()),
            (
                "d365.acs_data_location",
                self.acs_data_location.unavailable(),
            ),
        ]
    }
}

const PROVIDER_SETTINGS: FactKey = FactKey::DataverseProviderSettings;
const SETTING_ENTRIES: FactKey = FactKey::DataverseProviderSettingEntries;
const PHONE_NUMBERS: FactKey = FactKey::DataversePhoneNumbers;
const VOICE_CHANNELS: FactKey = FactKey::DataverseVoiceChannels;

/// Normalizes the Dataverse facts of a snapshot.
pub fn normalize(snapshot: &Snapshot) -> D365 {
    let provider_settings = read(snapshot, PROVIDER_SETTINGS, parse_provider_settings);
    // The same raw fact as `provider_settings`, so an unreadable table keeps its own reason
    // (e.g. Forbidden, with the role to grant) instead of becoming a dependency.
    let teams_provider = provider_settings
        .as_ref()
        .map(|rows| first_active(rows, "teams"));
    let acs_provider = provider_settings
        .as_ref()
        .map(|rows| first_active(rows, "acs"));
    // The Teams provider only breaks ties between entries; without it the entries still answer.
    let teams_provider_id = teams_provider
        .value()
        .and_then(|p| p.as_ref())
        .map(|p| p.id.clone());
    let dynamics_app_id = read(snapshot, SETTING_ENTRIES, |data| {
        parse_dynamics_app_id(data, teams_provider_id.as_deref())
    });
    D365 {
        provider_settings,
        teams_provider,
        acs_provider,
        dynamics_app_id,
        phone_numbers: read(snapshot, PHONE_NUMBERS, parse_phone_numbers),
        voice_channels: read(snapshot, VOICE_CHANNELS, parse_voice_channels),
        acs_data_location: Fact::Available(None),
    }
}

fn first_active(rows: &[ProviderSetting], provider: &str) -> Option<ProviderSetting> {
    rows.iter()
        .find(|r| r.active && r.provider == provider)
        .cloned()
}

fn provider_name(code: i64) -> &'static str {
    match code {
        PROVIDER_ACS => "acs",
        PROVIDER_TWILIO => "twilio",
        PROVIDER_TELESIGN => "telesign",
        PROVIDER_TEAMS => "teams",
        _ => "unknown",
    }
}

/// Dataverse row id (a GUID, possibly braced or upper-case when typed by hand).
fn row_id(row: &Value, column: &str, what: &str, i: usize) -> Result<String, String> {
    required_str(row, &[column])
        .map(|id| guid_or_raw(&id))
        .map_err(|e| format!("{what} {i}: {e}"))
}

/// `statecode == 0`. Every Dataverse row carries `statecode`; without it "active" would be a
/// guess, so its absence is a shape error.
fn active(row: &Value, what: &str, id: &str) -> Result<bool, String> {
    int_prop(row, &["statecode"])
        .map(|code| code == 0)
        .ok_or_else(|| format!("{what} {id} has no numeric `statecode`"))
}

/// A lookup column (`_x_value`) as a canonical GUID, or the raw text when it is not one.
fn lookup(row: &Value, column: &str) -> Option<String> {
    str_prop(row, &[column])
        .map(|v| guid_or_raw(&v))
        .filter(|v| !v.is_empty())
}

/// A column the row should carry, read with `read`: `None` when the row does not have it (noted
/// as an absence of `record`'s `column`, read into `model_field`), `Some(None)` when it is `null`
/// or empty.
fn column<T>(
    row: &Value,
    record: &str,
    column: &str,
    model_field: &str,
    read: impl FnOnce(&Value, &str) -> Option<T>,
) -> Option<Option<T>> {
    if prop(row, column).is_none() {
        absence::note(record, column, model_field, row);
        return None;
    }
    Some(read(row, column))
}

fn parse_provider_settings(data: &Value) -> Result<Vec<ProviderSetting>, String> {
    records(data, &[])?
        .into_iter()
        .enumerate()
        .map(|(i, row)| {
            let id = row_id(
                row,
                "msdyn_occommunicationprovidersettingid",
                "provider setting",
                i,
            )?;
            let provider_code =
                int_prop(row, &["msdyn_occommunicationprovider"]).ok_or_else(|| {
                    format!("provider setting {id} has no numeric `msdyn_occommunicationprovider`")
                })?;
            let immutable_raw = column(
                row,
                &id,
                "msdyn_occommunicationproviderimmutableid",
                "immutable_id",
                |r, c| str_prop(r, &[c]),
            );
            Ok(ProviderSetting {
                name: str_prop(row, &["msdyn_name"]),
                provider: provider_name(provider_code).to_string(),
                provider_code,
                immutable_id_is_guid: immutable_raw
                    .as_ref()
                    .map(|v| v.as_deref().and_then(guid).is_some()),
                immutable_id: immutable_raw.map(|v| {
                    v.map(|v| guid_or_raw(&v))
                        .filter(|v: &String| !v.is_empty())
                }),
                data_location: column(
                    row,
                    &id,
                    "msdyn_occommunicationproviderdatalocation",
                    "data_location",
                    |r, c| str_prop(r, &[c]),
                ),
                active: active(row, "provider setting", &id)?,
                id,
            })
        })
        .collect()
}

/// Yes, no, or cannot tell because a column is absent.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Tri {
    Yes,
    No,
    Maybe,
}

const ENTRY_OWNER: &str = "_msdyn_communicationprovidersettingentid_value";

/// The `DynamicsAppId` entry's value: the Teams provider's entry, else the first. Entries with
/// an empty value do not count: the Manage telephony page would show nothing either.
///
/// `Some(None)`: there is no such entry. `None` (undetermined): an entry that lacks `msdyn_key`,
/// `msdyn_value` or its owner could be, or could outrank, the one that answers.
fn parse_dynamics_app_id(
    data: &Value,
    teams_provider_id: Option<&str>,
) -> Result<Option<Option<String>>, String> {
    /// An entry that counts (`Yes`) or may count (`Maybe`), and whether it is the Teams
    /// provider's.
    struct Candidate {
        counts: Tri,
        teams: Tri,
        value: Option<String>,
    }
    let mut candidates = Vec::new();
    for (i, row) in records(data, &[])?.into_iter().enumerate() {
        let record = str_prop(row, &["msdyn_occommunicationprovidersettingentryid"])
            .map(|id| guid_or_raw(&id))
            .unwrap_or_else(|| format!("setting entry {i}"));
        let note = |field: &str| absence::note(&record, field, "dynamics_app_id", row);
        let keyed = match prop(row, "msdyn_key") {
            None => {
                note("msdyn_key");
                Tri::Maybe
            }
            Some(_)
                if str_prop(row, &["msdyn_key"])
                    .is_some_and(|k| k.eq_ignore_ascii_case("DynamicsAppId")) =>
            {
                Tri::Yes
            }
            Some(_) => Tri::No,
        };
        if keyed == Tri::No {
            continue;
        }
        let (counts, value) = match prop(row, "msdyn_value") {
            None => {
                note("msdyn_value");
                (Tri::Maybe, None)
            }
            Some(_) => match str_prop(row, &["msdyn_value"]) {
                Some(v) => (keyed, Some(v)),
                None => continue,
            },
        };
        let owner = match prop(row, ENTRY_OWNER) {
            None => {
                note(ENTRY_OWNER);
                None
            }
            Some(_) => Some(lookup(row, ENTRY_OWNER)),
        };
        let teams = match (teams_provider_id, owner) {
            (None, _) => Tri::No,
            (Some(_), None) => Tri::Maybe,
            (Some(teams), Some(owner)) if owner.as_deref() == Some(teams) => Tri::Yes,
            (Some(_), Some(_)) => Tri::No,
        };
        candidates.push(Candidate {
            counts,
            teams,
            value,
        });
    }
    let decided = |c: &Candidate| match (c.counts, &c.value) {
        (Tri::Yes, Some(v)) => Some(Some(guid_or_raw(v))),
        _ => None,
    };
    // The first entry that may be the Teams provider's answers if it surely is and counts;
    // if it only may be, the answer depends on what its absent columns hold.
    if let Some(c) = candidates.iter().find(|c| c.teams != Tri::No) {
        return Ok(if c.teams == Tri::Yes {
            decided(c)
        } else {
            None
        });
    }
    Ok(match candidates.first() {
        None => Some(None),
        Some(c) => decided(c),
    })
}

fn parse_phone_numbers(data: &Value) -> Result<BTreeMap<String, Vec<D365PhoneNumber>>, String> {
    let mut numbers: BTreeMap<String, Vec<D365PhoneNumber>> = BTreeMap::new();
    for (i, row) in records(data, &[])?.into_iter().enumerate() {
        let id = row_id(row, "msdyn_ocphonenumberid", "phone number", i)?;
        // `msdyn_name` usually repeats the number; it stands in when the column is not selected.
        let number = str_prop(row, &["msdyn_phonenumber", "msdyn_name"])
            .as_deref()
            .and_then(e164)
            .ok_or_else(|| format!("phone number {id} has no `msdyn_phonenumber` with digits"))?;
        // Checks know a row by its number (NUM-009 names it), so absences are noted under it.
        let record = number.as_str();
        let number_type = column(
            row,
            record,
            "msdyn_phonenumbertype",
            "number_type",
            |r, c| {
                Some(
                    match int_prop(r, &[c]) {
                        Some(1) => "teams",
                        Some(0) => "acs",
                        _ => "unknown",
                    }
                    .to_string(),
                )
            },
        )
        .flatten();
        let entry = D365PhoneNumber {
            number: number.clone(),
            number_type,
            teams_resource_account: column(
                row,
                record,
                "msdyn_teamsresourceaccount",
                "teams_resource_account",
                lookup,
            ),
            provider_setting_id: column(
                row,
                record,
                "_msdyn_occommunicationprovidersettingid_value",
                "provider_setting_id",
                lookup,
            ),
            active: active(row, "phone number", &id)?,
            inbound_enabled: column(
                row,
                record,
                "msdyn_phoneinboundenabled",
                "inbound_enabled",
                |r, c| bool_prop(r, &[c]),
            ),
            outbound_enabled: column(
                row,
                record,
                "msdyn_phoneoutboundenabled",
                "outbound_enabled",
                |r, c| bool_prop(r, &[c]),
            ),
            id,
        };
        numbers.entry(number).or_default().push(entry);
    }
    Ok(numbers)
}

/// Voice channels keyed by the phone-number row they bind; a channel bound to no number (`null`)
/// cannot route a Teams number, so it is left out. The binding is the key the channels are
/// joined on: a channel without the column at all is a shape error, since it could bind any row.
fn parse_voice_channels(data: &Value) -> Result<BTreeMap<String, Vec<VoiceChannel>>, String> {
    let mut channels: BTreeMap<String, Vec<VoiceChannel>> = BTreeMap::new();
    for (i, row) in records(data, &[])?.into_iter().enumerate() {
        let id = row_id(row, "msdyn_ocvoicechannelsettingid", "voice channel", i)?;
        if prop(row, "_msdyn_phonenumberid_value").is_none() {
            let keys: Vec<&str> = row
                .as_object()
                .map(|m| m.keys().map(String::as_str).collect())
                .unwrap_or_default();
            return Err(format!(
                "voice channel {id} has no `_msdyn_phonenumberid_value` (keys: {})",
                keys.join(", ")
            ));
        }
        let Some(number_id) = lookup(row, "_msdyn_phonenumberid_value") else {
            continue;
        };
        let channel = VoiceChannel {
            name: str_prop(row, &["msdyn_name"]),
            workstream_id: column(
                row,
                &id,
                "_msdyn_liveworkstreamid_value",
                "workstream_id",
                lookup,
            ),
            active: active(row, "voice channel", &id)?,
            id,
        };
        channels.entry(number_id).or_default().push(channel);
    }
    Ok(channels)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fact::UnavailableKind;
    use crate::model::test_support::snapshot_from_json as snapshot;
    use serde_json::json;

    const ACS_ROW: &str = "9a8b7c6d-5e4f-ef11-8409-000d3a5b1234";
    const TEAMS_ROW: &str = "1b2c3d4e-5f60-ef11-8409-000d3a5b1234";
    const ACS_ID: &str = "bb567890-1234-1234-1234-bbb123456789";

    fn setting(id: &str, provider: Value, immutable: Value, statecode: i64) -> Value {
        json!({"@odata.etag": "W/\"4000001\"", "msdyn_occommunicationprovidersettingid": id,
            "msdyn_name": "provider", "msdyn_occommunicationprovider": provider,
            "msdyn_occommunicationproviderimmutableid": immutable,
            "msdyn_occommunicationproviderdatalocation": "United States", "statecode": statecode})
    }

    /// D.2 as documented: one ACS and one Teams Phone System row, both active.
    fn d2_settings() -> Value {
        json!({"value": [
            setting(ACS_ROW, json!(PROVIDER_ACS), json!(ACS_ID), 0),
            setting(TEAMS_ROW, json!(PROVIDER_TEAMS), json!(ACS_ID), 0),
        ]})
    }

    fn entry(key: &str, value: &str, owner: &str) -> Value {
        json!({"@odata.etag": "W/\"4000010\"", "msdyn_occommunicationprovidersettingentryid": "e0000000-0000-0000-0000-000000000001",
            "msdyn_key": key, "msdyn_value": value, "msdyn_name": key,
            "_msdyn_communicationprovidersettingentid_value": owner})
    }

    fn with(settings: Value, entries: Value) -> D365 {
        normalize(&snapshot(json!({
            "dataverse.msdyn_occommunicationprovidersettings": settings,
            "dataverse.msdyn_occommunicationprovidersettingentries": entries,
        })))
    }

    fn data(v: Value) -> Value {
        json!({"endpoint": "GET dataverse", "data": v})
    }

    fn forbidden(table: &str) -> Value {
        json!({"endpoint": "GET dataverse", "error": {"status": 403, "code": "0x80040220",
            "message": format!("Principal user (Id=1, type=8, roleCount=1, privilegeCount=1, accessMode=4), is missing prvRead{table} privilege")}})
    }

    #[test]
    fn provider_settings_are_read_from_the_d2_response() {
        let d365 = with(data(d2_settings()), data(json!({"value": []})));
        let rows = d365.provider_settings.value().unwrap();
        assert_eq!(
            rows[1],
            ProviderSetting {
                id: TEAMS_ROW.into(),
                name: Some("provider".into()),
                provider: "teams".into(),
                provider_code: PROVIDER_TEAMS,
                immutable_id: Some(Some(ACS_ID.into())),
                immutable_id_is_guid: Some(true),
                data_location: Some(Some("United States".into())),
                active: true,
            }
        );
        assert_eq!(rows[0].provider, "acs");
        assert_eq!(
            d365.acs_provider.value().unwrap().as_ref().unwrap().id,
            ACS_ROW
        );
        assert_eq!(
            d365.teams_provider.value().unwrap().as_ref().unwrap().id,
            TEAMS_ROW
        );
    }

    #[test]
    fn provider_option_values_map_to_names_and_unknown_values_stay_unknown() {
        let d365 = with(
            data(json!({"value": [
                setting("a0000000-0000-0000-0000-000000000001", json!(192_350_001), json!(null), 0),
                setting("a0000000-0000-0000-0000-000000000002", json!("192350002"), json!(""), 0),
                setting("a0000000-0000-0000-0000-000000000003", json!(192_350_009), json!(null), 0),
            ]})),
            data(json!({"value": []})),
        );
        let rows = d365.provider_settings.value().unwrap();
        let names: Vec<&str> = rows.iter().map(|r| r.provider.as_str()).collect();
        assert_eq!(names, ["twilio", "telesign", "unknown"]);
        assert_eq!(
            rows[1].immutable_id,
            Some(None),
            "an empty immutable id is null"
        );
        assert_eq!(rows[1].immutable_id_is_guid, Some(false));
        assert_eq!(rows[0].immutable_id, Some(None), "so is a null one");
        assert_eq!(d365.teams_provider.value(), Some(&None));
        assert_eq!(d365.acs_provider.value(), Some(&None));
    }

    #[test]
    fn arm_path_in_teams_provider_is_kept_raw_and_flagged() {
        let arm = "/subscriptions/1/resourceGroups/rg/providers/Microsoft.Communication/CommunicationServices/acs";
        let d365 = with(
            data(json!({"value": [setting(TEAMS_ROW, json!(PROVIDER_TEAMS), json!(arm), 0)]})),
            data(json!({"value": []})),
        );
        let teams = d365.teams_provider.value().unwrap().clone().unwrap();
        assert_eq!(teams.immutable_id.flatten().as_deref(), Some(arm));
        assert_eq!(teams.immutable_id_is_guid, Some(false));
    }

    #[test]
    fn braced_upper_case_ids_are_canonicalised() {
        let d365 = with(
            data(
                json!({"value": [setting("{1B2C3D4E-5F60-EF11-8409-000D3A5B1234}", json!(PROVIDER_TEAMS),
                json!("{'BB567890-1234-1234-1234-BBB123456789'}"), 0)]}),
            ),
            data(json!({"value": []})),
        );
        let teams = d365.teams_provider.value().unwrap().clone().unwrap();
        assert_eq!(teams.id, TEAMS_ROW);
        assert_eq!(teams.immutable_id.flatten().as_deref(), Some(ACS_ID));
        assert_eq!(teams.immutable_id_is_guid, Some(true));
    }

    #[test]
    fn teams_provider_is_the_first_active_teams_row() {
        let inactive = "c0000000-0000-0000-0000-000000000001";
        let d365 = with(
            data(json!({"value": [
                setting(inactive, json!(PROVIDER_TEAMS), json!(ACS_ID), 1),
                setting(TEAMS_ROW, json!(PROVIDER_TEAMS), json!(ACS_ID), 0),
                setting("c0000000-0000-0000-0000-000000000002", json!(PROVIDER_TEAMS), json!(ACS_ID), 0),
            ]})),
            data(json!({"value": []})),
        );
        assert!(!d365.provider_settings.value().unwrap()[0].active);
        assert_eq!(
            d365.teams_provider.value().unwrap().as_ref().unwrap().id,
            TEAMS_ROW
        );
    }

    #[test]
    fn dataverse_privilege_error_is_forbidden_and_names_the_security_role() {
        let d365 = with(
            forbidden("msdyn_occommunicationprovidersetting"),
            data(json!({"value": []})),
        );
        for fact in [
            d365.provider_settings.unavailable(),
            d365.teams_provider.unavailable(),
            d365.acs_provider.unavailable(),
        ] {
            let u = fact.unwrap();
            assert_eq!(u.kind, UnavailableKind::Forbidden);
            assert!(u.reason.contains("0x80040220"), "{}", u.reason);
            assert!(
                u.needs
                    .as_deref()
                    .unwrap()
                    .contains("Omnichannel administrator")
            );
        }
        assert_eq!(
            d365.dynamics_app_id.value(),
            Some(&Some(None)),
            "entries do not depend on the settings"
        );
    }

    #[test]
    fn dynamics_app_id_comes_from_the_entry_keyed_dynamicsappid_in_any_case() {
        let d365 = with(
            data(d2_settings()),
            data(json!({"value": [
                entry("OtherKey", "x", TEAMS_ROW),
                entry("dynamicsappid", "{4B8F0DCE-D7D5-47A3-A27C-1764B90505E2}", TEAMS_ROW),
            ]})),
        );
        assert_eq!(
            d365.dynamics_app_id.value(),
            Some(&Some(Some(
                "4b8f0dce-d7d5-47a3-a27c-1764b90505e2".to_string()
            )))
        );
    }

    #[test]
    fn dynamics_app_id_prefers_the_teams_providers_entry() {
        let entries = json!({"value": [
            entry("DynamicsAppId", "aaaaaaaa-0000-0000-0000-000000000001", ACS_ROW),
            entry("DynamicsAppId", "bbbbbbbb-0000-0000-0000-000000000002", &TEAMS_ROW.to_ascii_uppercase()),
        ]});
        let d365 = with(data(d2_settings()), data(entries.clone()));
        assert_eq!(
            d365.dynamics_app_id
                .value()
                .unwrap()
                .clone()
                .flatten()
                .as_deref(),
            Some("bbbbbbbb-0000-0000-0000-000000000002")
        );
        // Without a readable Teams provider the first entry is still an answer.
        let d365 = with(
            forbidden("msdyn_occommunicationprovidersetting"),
            data(entries),
        );
        assert_eq!(
            d365.dynamics_app_id
                .value()
                .unwrap()
                .clone()
                .flatten()
                .as_deref(),
            Some("aaaaaaaa-0000-0000-0000-000000000001")
        );
    }

    #[test]
    fn dynamics_app_id_is_null_without_an_entry_and_raw_when_not_a_guid() {
        let d365 = with(
            data(d2_settings()),
            data(json!({"value": [entry("DynamicsAppId", "", TEAMS_ROW)]})),
        );
        assert_eq!(d365.dynamics_app_id.value(), Some(&Some(None)));
        let d365 = with(
            data(d2_settings()),
            data(json!({"value": [entry("DynamicsAppId", "not-a-guid", TEAMS_ROW)]})),
        );
        assert_eq!(
            d365.dynamics_app_id
                .value()
                .unwrap()
                .clone()
                .flatten()
                .as_deref(),
            Some("not-a-guid")
        );
    }

    #[test]
    fn unreadable_entries_make_only_the_dynamics_app_id_unavailable() {
        let d365 = with(
            data(d2_settings()),
            forbidden("msdyn_occommunicationprovidersettingentry"),
        );
        assert_eq!(
            d365.dynamics_app_id.unavailable().unwrap().kind,
            UnavailableKind::Forbidden
        );
        assert!(d365.teams_provider.value().unwrap().is_some());
    }

    fn phone_row(id: &str, number: &str, kind: i64, ra: &str) -> Value {
        json!({"@odata.etag": "W/\"5123456\"", "msdyn_ocphonenumberid": id, "msdyn_name": number,
            "msdyn_phonenumber": number, "msdyn_phonenumbertype": kind, "msdyn_ocphonenumbersource": 192_350_001,
            "msdyn_teamsresourceaccount": ra, "msdyn_phoneinboundenabled": true, "msdyn_phoneoutboundenabled": false,
            "statecode": 0, "_msdyn_occommunicationprovidersettingid_value": TEAMS_ROW})
    }

    #[test]
    fn phone_numbers_are_keyed_by_e164_whatever_the_spelling() {
        let d365 = normalize(&snapshot(
            json!({"dataverse.msdyn_ocphonenumbers": data(json!({"value": [
                phone_row("0e1f2a3b-4c5d-ef11-8409-000d3a5b1234", "tel:+14255550100", 1, "{748A7C7C-A489-4DE4-8A68-4415F1D19A9C}"),
                phone_row("0e1f2a3b-4c5d-ef11-8409-000d3a5b1235", "+1 (425) 555-0100", 0, ""),
                phone_row("0e1f2a3b-4c5d-ef11-8409-000d3a5b1236", "+14255550199", 7, ""),
            ]}))}),
        ));
        let numbers = d365.phone_numbers.value().unwrap();
        let rows = &numbers["+14255550100"];
        assert_eq!(rows.len(), 2, "rows that share a number stay together");
        assert_eq!(
            rows[0],
            D365PhoneNumber {
                id: "0e1f2a3b-4c5d-ef11-8409-000d3a5b1234".into(),
                number: "+14255550100".into(),
                number_type: Some("teams".into()),
                teams_resource_account: Some(Some("748a7c7c-a489-4de4-8a68-4415f1d19a9c".into())),
                provider_setting_id: Some(Some(TEAMS_ROW.into())),
                active: true,
                inbound_enabled: Some(Some(true)),
                outbound_enabled: Some(Some(false)),
            }
        );
        assert_eq!(rows[1].number_type.as_deref(), Some("acs"));
        assert_eq!(
            rows[1].teams_resource_account,
            Some(None),
            "an empty column is null"
        );
        assert_eq!(
            numbers["+14255550199"][0].number_type.as_deref(),
            Some("unknown")
        );
    }

    #[test]
    fn row_without_statecode_is_malformed_not_inactive() {
        let mut row = phone_row(
            "0e1f2a3b-4c5d-ef11-8409-000d3a5b1234",
            "+14255550100",
            1,
            "",
        );
        row.as_object_mut().unwrap().remove("statecode");
        let d365 = normalize(&snapshot(
            json!({"dataverse.msdyn_ocphonenumbers": data(json!({"value": [row]}))}),
        ));
        let u = d365.phone_numbers.unavailable().unwrap();
        assert_eq!(u.kind, UnavailableKind::Malformed);
        assert!(u.reason.contains("statecode"), "{}", u.reason);
    }

    #[test]
    fn malformed_dataverse_shapes_are_malformed() {
        let d365 = normalize(&snapshot(json!({
            "dataverse.msdyn_ocphonenumbers": data(json!({"value": {"msdyn_phonenumber": "+1"}})),
            "dataverse.msdyn_occommunicationprovidersettings": data(json!({"value": ["x"]})),
            "dataverse.msdyn_ocvoicechannelsettings": data(json!({"value": [{"msdyn_name": "no id"}]})),
            "dataverse.msdyn_occommunicationprovidersettingentries": data(json!("text")),
        })));
        // The ACS data location is derived later, from the model as a whole.
        for (path, u) in d365.facts() {
            if path == "d365.acs_data_location" {
                continue;
            }
            assert_eq!(u.unwrap().kind, UnavailableKind::Malformed, "{path}");
        }
    }

    #[test]
    fn voice_channels_are_keyed_by_the_canonical_phone_number_row_id() {
        let d365 = normalize(&snapshot(
            json!({"dataverse.msdyn_ocvoicechannelsettings": data(json!({"value": [
                {"msdyn_ocvoicechannelsettingid": "7a000000-0000-0000-0000-000000000001", "msdyn_name": "Support line",
                 "_msdyn_phonenumberid_value": "{0E1F2A3B-4C5D-EF11-8409-000D3A5B1234}",
                 "_msdyn_liveworkstreamid_value": "5b000000-0000-0000-0000-000000000001", "statecode": 0},
                {"msdyn_ocvoicechannelsettingid": "7a000000-0000-0000-0000-000000000002", "msdyn_name": "Unbound",
                 "_msdyn_phonenumberid_value": null, "statecode": 1},
            ]}))}),
        ));
        let channels = d365.voice_channels.value().unwrap();
        assert_eq!(
            channels.len(),
            1,
            "a channel bound to no number is left out"
        );
        assert_eq!(
            channels["0e1f2a3b-4c5d-ef11-8409-000d3a5b1234"],
            vec![VoiceChannel {
                id: "7a000000-0000-0000-0000-000000000001".into(),
                name: Some("Support line".into()),
                workstream_id: Some(Some("5b000000-0000-0000-0000-000000000001".into())),
                active: true,
            }]
        );
    }

    /// The model JSON of `d365` and the absences noted while normalizing `facts`.
    fn normalized(facts: Value) -> (D365, Value, Vec<absence::Absence>) {
        let (d365, notes) = absence::collecting(|| normalize(&snapshot(facts)));
        let json = serde_json::to_value(&d365).unwrap();
        (d365, json, notes)
    }

    fn without(mut row: Value, key: &str) -> Value {
        row.as_object_mut().unwrap().remove(key);
        row
    }

    #[test]
    fn provider_columns_not_sent_are_absent_not_empty() {
        let row = setting(TEAMS_ROW, json!(PROVIDER_TEAMS), json!(ACS_ID), 0);
        let row = without(row, "msdyn_occommunicationproviderimmutableid");
        let row = without(row, "msdyn_occommunicationproviderdatalocation");
        let (d365, json, notes) = normalized(json!({
            "dataverse.msdyn_occommunicationprovidersettings": data(json!({"value": [row]})),
        }));
        let teams = d365.teams_provider.value().unwrap().clone().unwrap();
        assert_eq!(teams.immutable_id, None);
        assert_eq!(teams.immutable_id_is_guid, None);
        assert_eq!(teams.data_location, None);
        let teams_json = &json["teams_provider"];
        for key in ["immutable_id", "immutable_id_is_guid", "data_location"] {
            assert!(teams_json.get(key).is_none(), "{key}: {teams_json}");
        }
        let fields: Vec<(&str, &str, &str)> = notes
            .iter()
            .map(|a| (a.record.as_str(), a.field.as_str(), a.model_field.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                (
                    TEAMS_ROW,
                    "msdyn_occommunicationproviderimmutableid",
                    "immutable_id"
                ),
                (
                    TEAMS_ROW,
                    "msdyn_occommunicationproviderdatalocation",
                    "data_location"
                ),
            ]
        );
        assert_eq!(
            notes[0].source,
            "dataverse.msdyn_occommunicationprovidersettings"
        );
    }

    #[test]
    fn phone_row_columns_not_sent_are_absent_not_defaulted() {
        let row = phone_row(
            "0e1f2a3b-4c5d-ef11-8409-000d3a5b1234",
            "+14255550100",
            1,
            "748a7c7c-a489-4de4-8a68-4415f1d19a9c",
        );
        let mut row = row;
        for key in [
            "msdyn_phonenumbertype",
            "msdyn_teamsresourceaccount",
            "_msdyn_occommunicationprovidersettingid_value",
        ] {
            row = without(row, key);
        }
        let (d365, json, notes) = normalized(json!({
            "dataverse.msdyn_ocphonenumbers": data(json!({"value": [row]})),
        }));
        let r = &d365.phone_numbers.value().unwrap()["+14255550100"][0];
        assert_eq!(r.number_type, None, "not `unknown`, not ACS");
        assert_eq!(r.teams_resource_account, None);
        assert_eq!(r.provider_setting_id, None);
        let r_json = &json["phone_numbers"]["+14255550100"][0];
        for key in [
            "number_type",
            "teams_resource_account",
            "provider_setting_id",
        ] {
            assert!(r_json.get(key).is_none(), "{key}: {r_json}");
        }
        assert_eq!(notes.len(), 3);
        assert!(notes.iter().all(|a| a.record == "+14255550100"));
    }

    #[test]
    fn voice_channel_without_its_binding_column_is_malformed() {
        let d365 = normalize(&snapshot(
            json!({"dataverse.msdyn_ocvoicechannelsettings": data(json!({"value": [
                {"msdyn_ocvoicechannelsettingid": "7a000000-0000-0000-0000-000000000001",
                 "msdyn_name": "Support line", "statecode": 0},
            ]}))}),
        ));
        let u = d365.voice_channels.unavailable().unwrap();
        assert_eq!(u.kind, UnavailableKind::Malformed);
        assert!(
            u.reason.contains("_msdyn_phonenumberid_value"),
            "{}",
            u.reason
        );
        assert!(u.reason.contains("msdyn_name, statecode"), "{}", u.reason);
    }

    #[test]
    fn entries_collection_without_value_is_malformed_not_one_record() {
        let d365 = with(
            data(d2_settings()),
            data(
                json!({"@odata.context": "https://contoso.crm.dynamics.com/api/data/v9.2/$metadata#msdyn_occommunicationprovidersettingentries"}),
            ),
        );
        assert_eq!(
            d365.dynamics_app_id.unavailable().unwrap().kind,
            UnavailableKind::Malformed
        );
    }

    #[test]
    fn dynamics_app_id_is_undetermined_when_an_entry_that_could_answer_lacks_a_column() {
        const APP: &str = "7c1e3d2a-5b4f-4e6a-9d8c-0a1b2c3d4e5f";
        let owner = "_msdyn_communicationprovidersettingentid_value";
        let undetermined = |entries: Vec<Value>| {
            let (d365, json, notes) = normalized(json!({
                "dataverse.msdyn_occommunicationprovidersettings": data(d2_settings()),
                "dataverse.msdyn_occommunicationprovidersettingentries": data(json!({"value": entries})),
            }));
            assert_eq!(d365.dynamics_app_id.value(), Some(&None));
            assert!(json.get("dynamics_app_id").is_none(), "omitted: {json}");
            assert!(notes.iter().all(|a| a.model_field == "dynamics_app_id"));
            notes
        };
        // The only entry, without its key, its value or its owner.
        let notes = undetermined(vec![without(
            entry("DynamicsAppId", APP, TEAMS_ROW),
            "msdyn_key",
        )]);
        assert_eq!(notes[0].field, "msdyn_key");
        undetermined(vec![without(
            entry("DynamicsAppId", APP, TEAMS_ROW),
            "msdyn_value",
        )]);
        undetermined(vec![without(entry("DynamicsAppId", APP, TEAMS_ROW), owner)]);
        // An entry of the ACS provider answers only if no entry may be the Teams provider's.
        undetermined(vec![
            entry("DynamicsAppId", APP, ACS_ROW),
            without(entry("DynamicsAppId", APP, TEAMS_ROW), "msdyn_value"),
        ]);

        let decided = |entries: Vec<Value>, settings: Value| {
            with(settings, data(json!({"value": entries})))
                .dynamics_app_id
                .value()
                .cloned()
        };
        // The Teams provider's entry comes first: later entries cannot change the answer.
        assert_eq!(
            decided(
                vec![
                    entry("DynamicsAppId", APP, TEAMS_ROW),
                    without(entry("DynamicsAppId", "x", TEAMS_ROW), "msdyn_key"),
                ],
                data(d2_settings())
            ),
            Some(Some(Some(APP.into())))
        );
        // Without a readable Teams provider the owner does not matter.
        assert_eq!(
            decided(
                vec![without(entry("DynamicsAppId", APP, TEAMS_ROW), owner)],
                forbidden("msdyn_occommunicationprovidersetting")
            ),
            Some(Some(Some(APP.into())))
        );
        // Entries of another key, or with an empty value, do not count whatever they lack.
        assert_eq!(
            decided(
                vec![
                    without(entry("OtherKey", "x", TEAMS_ROW), owner),
                    without(entry("DynamicsAppId", "", TEAMS_ROW), owner),
                ],
                data(d2_settings())
            ),
            Some(Some(None))
        );
    }
}
