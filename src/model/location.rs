//! Where the D365 contact center's ACS resource keeps its data, and which country that is
//! (D365-004): the ARM resource's `dataLocation` when the audit can see the resource, else the
//! location the D365 Teams provider setting records.

use serde::Serialize;

use super::azure::AcsResource;
use super::d365::ProviderSetting;
use super::fact::Fact;

/// The D365 ACS resource's data location.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AcsDataLocation {
    /// The provider's ACS immutable resource id; `null` when D365 records none; absent
    /// (omitted) when D365 did not send the column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub immutable_id: Option<Option<String>>,
    /// The location used: `null` when neither source records one; absent (omitted) when a
    /// source it depends on did not send its field, so the check is unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_location: Option<Option<String>>,
    /// Where `data_location` came from, in words.
    pub location_source: String,
    /// The two-letter country of a single-country ACS geography; `null` for a multi-country one
    /// (Europe, Asia Pacific); absent with `data_location`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<Option<String>>,
}

/// ACS geographies that are one country, by the name ARM and D365 write, with its ISO code.
/// Source: https://learn.microsoft.com/azure/communication-services/concepts/privacy
const SINGLE_COUNTRY: &[(&str, &str)] = &[
    ("united states", "US"),
    ("canada", "CA"),
    ("brazil", "BR"),
    ("united kingdom", "GB"),
    ("uk", "GB"),
    ("france", "FR"),
    ("germany", "DE"),
    ("norway", "NO"),
    ("switzerland", "CH"),
    ("india", "IN"),
    ("japan", "JP"),
    ("korea", "KR"),
    ("australia", "AU"),
    ("united arab emirates", "AE"),
    ("uae", "AE"),
];

fn country_of(location: &str) -> Option<String> {
    let name = location.trim().to_ascii_lowercase();
    SINGLE_COUNTRY
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, code)| code.to_string())
}

/// A reported location with surrounding blanks removed; blank is none.
fn trimmed(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The data location of the D365 Teams provider's ACS resource; `None` inside when D365 has no
/// Teams provider (the check does not apply).
pub fn derive(
    teams_provider: &Fact<Option<ProviderSetting>>,
    acs_resources: &Fact<std::collections::BTreeMap<String, AcsResource>>,
) -> Fact<Option<AcsDataLocation>> {
    let provider = match teams_provider {
        Fact::Available(Some(p)) => p,
        Fact::Available(None) => return Fact::Available(None),
        Fact::Unavailable(u) => return Fact::dependency(u),
    };
    let Some(immutable_id) = &provider.immutable_id else {
        // Which resource it is was not sent: neither location can be told.
        return Fact::Available(Some(AcsDataLocation {
            immutable_id: None,
            data_location: None,
            location_source: "the D365 Teams provider setting".into(),
            country: None,
        }));
    };
    let arm = immutable_id
        .as_ref()
        .and_then(|id| acs_resources.value()?.get(id));
    let (data_location, location_source) = match arm {
        Some(res) => match &res.data_location {
            None => (None, format!("ARM dataLocation of {}", res.name)),
            Some(loc) => match trimmed(loc) {
                Some(l) => (Some(Some(l)), format!("ARM dataLocation of {}", res.name)),
                None => from_provider(provider),
            },
        },
        None => from_provider(provider),
    };
    let country = data_location
        .as_ref()
        .map(|loc| loc.as_deref().and_then(country_of));
    Fact::Available(Some(AcsDataLocation {
        immutable_id: Some(immutable_id.clone()),
        data_location,
        location_source,
        country,
    }))
}

fn from_provider(provider: &ProviderSetting) -> (Option<Option<String>>, String) {
    (
        provider.data_location.as_ref().map(trimmed),
        "the D365 Teams provider setting".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(
        immutable: Option<Option<&str>>,
        location: Option<Option<&str>>,
    ) -> ProviderSetting {
        ProviderSetting {
            id: "p".into(),
            name: None,
            provider: "teams".into(),
            provider_code: 0,
            immutable_id: immutable.map(|i| i.map(str::to_string)),
            immutable_id_is_guid: Some(true),
            data_location: location.map(|l| l.map(str::to_string)),
            active: true,
        }
    }

    fn arm(
        location: Option<Option<&str>>,
    ) -> Fact<std::collections::BTreeMap<String, AcsResource>> {
        Fact::Available(
            [(
                "acs-id".to_string(),
                AcsResource {
                    arm_id: "/subscriptions/s/acs".into(),
                    name: "acs-cc".into(),
                    immutable_resource_id: "acs-id".into(),
                    data_location: location.map(|l| l.map(str::to_string)),
                    provisioning_state: None,
                    host_name: None,
                    subscription_id: None,
                },
            )]
            .into(),
        )
    }

    fn located(
        p: ProviderSetting,
        resources: Fact<std::collections::BTreeMap<String, AcsResource>>,
    ) -> AcsDataLocation {
        derive(&Fact::Available(Some(p)), &resources)
            .value()
            .cloned()
            .flatten()
            .expect("a location")
    }

    #[test]
    fn the_arm_location_wins_when_the_resource_is_visible() {
        let l = located(
            provider(Some(Some("acs-id")), Some(Some("Europe"))),
            arm(Some(Some(" United States "))),
        );
        assert_eq!(l.data_location, Some(Some("United States".into())));
        assert_eq!(l.country, Some(Some("US".into())));
        assert!(l.location_source.contains("acs-cc"));
    }

    #[test]
    fn the_d365_location_is_used_when_arm_cannot_see_the_resource() {
        let l = located(
            provider(Some(Some("acs-id")), Some(Some("Europe"))),
            Fact::Available(Default::default()),
        );
        assert_eq!(l.data_location, Some(Some("Europe".into())));
        assert_eq!(l.country, Some(None), "Europe is not one country");
    }

    #[test]
    fn a_location_field_not_sent_leaves_the_location_absent_not_guessed() {
        let arm_unsent = located(
            provider(Some(Some("acs-id")), Some(Some("Europe"))),
            arm(None),
        );
        assert_eq!(arm_unsent.data_location, None);
        assert_eq!(arm_unsent.country, None);
        let d365_unsent = located(
            provider(Some(Some("acs-id")), None),
            Fact::Available(Default::default()),
        );
        assert_eq!(d365_unsent.data_location, None);
        let id_unsent = located(
            provider(None, Some(Some("United States"))),
            arm(Some(Some("Japan"))),
        );
        assert_eq!(id_unsent.data_location, None);
    }

    #[test]
    fn no_recorded_location_is_null() {
        let l = located(
            provider(Some(None), Some(None)),
            Fact::Available(Default::default()),
        );
        assert_eq!(l.data_location, Some(None));
        assert_eq!(l.country, Some(None));
    }
}
