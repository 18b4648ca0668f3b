//! Dynamics 365 Contact Center facts from Dataverse: provider settings (Teams Phone System and
//! ACS), the Dynamics App ID, phone-number rows and their voice-channel bindings.

use std::collections::BTreeMap;

use serde::Serialize;

use super::fact::{Fact, Unavailable};
use crate::snapshot::Snapshot;

/// `msdyn_occommunicationprovider` option values.
pub const PROVIDER_ACS: i64 = 192_350_000;
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
    /// GUID or raw text); `null` when the entry does not exist.
    pub dynamics_app_id: Fact<Option<String>>,
    /// `dataverse.msdyn_ocphonenumbers`, keyed by E.164 (several rows can share a number).
    pub phone_numbers: Fact<BTreeMap<String, Vec<D365PhoneNumber>>>,
    /// `dataverse.msdyn_ocvoicechannelsettings`, keyed by the phone-number row id they bind.
    pub voice_channels: Fact<BTreeMap<String, Vec<VoiceChannel>>>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ProviderSetting {
    pub id: String,
    pub name: Option<String>,
    /// `acs`, `twilio`, `telesign`, `teams`, `unknown`.
    pub provider: String,
    pub provider_code: i64,
    /// `msdyn_occommunicationproviderimmutableid`: canonical GUID, or raw text when it is not a
    /// GUID (e.g. an ARM path); `null` when empty.
    pub immutable_id: Option<String>,
    pub immutable_id_is_guid: bool,
    pub data_location: Option<String>,
    /// `statecode == 0`.
    pub active: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct D365PhoneNumber {
    pub id: String,
    /// E.164.
    pub number: String,
    /// `teams` (1), `acs` (0), `unknown`.
    pub number_type: String,
    /// Canonical GUID of the Teams resource account (`msdyn_teamsresourceaccount`).
    pub teams_resource_account: Option<String>,
    pub provider_setting_id: Option<String>,
    /// `statecode == 0`.
    pub active: bool,
    pub inbound_enabled: Option<bool>,
    pub outbound_enabled: Option<bool>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct VoiceChannel {
    pub id: String,
    pub name: Option<String>,
    pub workstream_id: Option<String>,
    pub active: bool,
}

impl D365 {
    pub fn facts(&self) -> Vec<(&'static str, Option<&Unavailable>)> {
        vec![
            ("d365.provider_settings", self.provider_settings.unavailable()),
            ("d365.teams_provider", self.teams_provider.unavailable()),
            ("d365.acs_provider", self.acs_provider.unavailable()),
            ("d365.dynamics_app_id", self.dynamics_app_id.unavailable()),
            ("d365.phone_numbers", self.phone_numbers.unavailable()),
            ("d365.voice_channels", self.voice_channels.unavailable()),
        ]
    }
}

/// Normalizes the Dataverse facts of a snapshot.
pub fn normalize(snapshot: &Snapshot) -> D365 {
    let _ = snapshot;
    unimplemented!("d365 normalizer")
}
