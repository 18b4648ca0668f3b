//! The snapshot's fact keys: one name per raw source fact (`graph.users`), shared by the
//! collectors that write them, the snapshot, the normalizers and the source catalog that read
//! them, redaction and synthesis. The fake tenant, a crate of its own that serves the same
//! facts, compiles this file too (`#[path]`), so it depends on nothing but `std`.
//!
//! A snapshot stores keys as text: a key this build does not know (written by a newer
//! ccaudit) still loads, and is kept and ignored, so the snapshot's map stays keyed by text and
//! this enum names the keys the code reads and writes.

use std::fmt;

/// A raw source fact's snapshot key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FactKey {
    /// `graph.organization`
    GraphOrganization,
    /// `graph.subscribedSkus`
    GraphSubscribedSkus,
    /// `graph.users`
    GraphUsers,
    /// `graph.licenseDetails`
    GraphLicenseDetails,
    /// `graph.memberOf`
    GraphMemberOf,
    /// `graph.servicePrincipals`
    GraphServicePrincipals,
    /// `graph.oauth2PermissionGrants`
    GraphOAuth2PermissionGrants,
    /// `graph.roleAssignments`
    GraphRoleAssignments,
    /// `graph.userConfigurations`
    GraphUserConfigurations,
    /// `graph.numberAssignments`
    GraphNumberAssignments,
    /// `graph.resourceAccounts`
    GraphResourceAccounts,
    /// `teams.TeamsAcsFederationConfiguration`
    TeamsAcsFederationConfiguration,
    /// `teams.ExternalAccessPolicy`
    TeamsExternalAccessPolicy,
    /// `teams.TenantFederationSettings`
    TeamsTenantFederationSettings,
    /// `teams.applicationInstances`
    TeamsApplicationInstances,
    /// `teams.applicationInstanceAssociations`
    TeamsApplicationInstanceAssociations,
    /// `teams.telephoneNumbers`
    TeamsTelephoneNumbers,
    /// `teams.onlineUsers`
    TeamsOnlineUsers,
    /// `arm.subscriptions`
    ArmSubscriptions,
    /// `arm.communicationServices`
    ArmCommunicationServices,
    /// `arm.eventSubscriptions`
    ArmEventSubscriptions,
    /// `dataverse.msdyn_occommunicationprovidersettings`
    DataverseProviderSettings,
    /// `dataverse.msdyn_occommunicationprovidersettingentries`
    DataverseProviderSettingEntries,
    /// `dataverse.msdyn_ocphonenumbers`
    DataversePhoneNumbers,
    /// `dataverse.msdyn_ocvoicechannelsettings`
    DataverseVoiceChannels,
    /// `dataverse.systemusers`
    DataverseSystemUsers,
    /// `powerplatform.environments`
    PowerPlatformEnvironments,
    /// `compliance.InformationBarrierPolicy`
    ComplianceInformationBarrierPolicy,
    /// `compliance.OrganizationSegment`
    ComplianceOrganizationSegment,
    /// `compliance.PolicyConfig`
    CompliancePolicyConfig,
}

impl FactKey {
    /// Every key, in the source catalog's order.
    pub const ALL: [FactKey; 30] = [
        FactKey::GraphOrganization,
        FactKey::GraphSubscribedSkus,
        FactKey::GraphUsers,
        FactKey::GraphLicenseDetails,
        FactKey::GraphMemberOf,
        FactKey::GraphServicePrincipals,
        FactKey::GraphOAuth2PermissionGrants,
        FactKey::GraphRoleAssignments,
        FactKey::GraphUserConfigurations,
        FactKey::GraphNumberAssignments,
        FactKey::GraphResourceAccounts,
        FactKey::TeamsAcsFederationConfiguration,
        FactKey::TeamsExternalAccessPolicy,
        FactKey::TeamsTenantFederationSettings,
        FactKey::TeamsApplicationInstances,
        FactKey::TeamsApplicationInstanceAssociations,
        FactKey::TeamsTelephoneNumbers,
        FactKey::TeamsOnlineUsers,
        FactKey::ArmSubscriptions,
        FactKey::ArmCommunicationServices,
        FactKey::ArmEventSubscriptions,
        FactKey::DataverseProviderSettings,
        FactKey::DataverseProviderSettingEntries,
        FactKey::DataversePhoneNumbers,
        FactKey::DataverseVoiceChannels,
        FactKey::DataverseSystemUsers,
        FactKey::PowerPlatformEnvironments,
        FactKey::ComplianceInformationBarrierPolicy,
        FactKey::ComplianceOrganizationSegment,
        FactKey::CompliancePolicyConfig,
    ];

    /// The key as the snapshot spells it.
    pub const fn as_str(self) -> &'static str {
        match self {
            FactKey::GraphOrganization => "graph.organization",
            FactKey::GraphSubscribedSkus => "graph.subscribedSkus",
            FactKey::GraphUsers => "graph.users",
            FactKey::GraphLicenseDetails => "graph.licenseDetails",
            FactKey::GraphMemberOf => "graph.memberOf",
            FactKey::GraphServicePrincipals => "graph.servicePrincipals",
            FactKey::GraphOAuth2PermissionGrants => "graph.oauth2PermissionGrants",
            FactKey::GraphRoleAssignments => "graph.roleAssignments",
            FactKey::GraphUserConfigurations => "graph.userConfigurations",
            FactKey::GraphNumberAssignments => "graph.numberAssignments",
            FactKey::GraphResourceAccounts => "graph.resourceAccounts",
            FactKey::TeamsAcsFederationConfiguration => "teams.TeamsAcsFederationConfiguration",
            FactKey::TeamsExternalAccessPolicy => "teams.ExternalAccessPolicy",
            FactKey::TeamsTenantFederationSettings => "teams.TenantFederationSettings",
            FactKey::TeamsApplicationInstances => "teams.applicationInstances",
            FactKey::TeamsApplicationInstanceAssociations => {
                "teams.applicationInstanceAssociations"
            }
            FactKey::TeamsTelephoneNumbers => "teams.telephoneNumbers",
            FactKey::TeamsOnlineUsers => "teams.onlineUsers",
            FactKey::ArmSubscriptions => "arm.subscriptions",
            FactKey::ArmCommunicationServices => "arm.communicationServices",
            FactKey::ArmEventSubscriptions => "arm.eventSubscriptions",
            FactKey::DataverseProviderSettings => "dataverse.msdyn_occommunicationprovidersettings",
            FactKey::DataverseProviderSettingEntries => {
                "dataverse.msdyn_occommunicationprovidersettingentries"
            }
            FactKey::DataversePhoneNumbers => "dataverse.msdyn_ocphonenumbers",
            FactKey::DataverseVoiceChannels => "dataverse.msdyn_ocvoicechannelsettings",
            FactKey::DataverseSystemUsers => "dataverse.systemusers",
            FactKey::PowerPlatformEnvironments => "powerplatform.environments",
            FactKey::ComplianceInformationBarrierPolicy => "compliance.InformationBarrierPolicy",
            FactKey::ComplianceOrganizationSegment => "compliance.OrganizationSegment",
            FactKey::CompliancePolicyConfig => "compliance.PolicyConfig",
        }
    }

    /// The key spelled exactly `key`, if this build knows it.
    pub fn parse(key: &str) -> Option<FactKey> {
        FactKey::ALL.into_iter().find(|k| k.as_str() == key)
    }

    /// The key spelled `key` in any casing (a hand-edited snapshot, a lower-cased path).
    pub fn parse_ignore_case(key: &str) -> Option<FactKey> {
        FactKey::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(key))
    }

    /// The source the fact is read from: the part before the dot (`graph`, `teams`, ...).
    pub fn source(self) -> &'static str {
        let key = self.as_str();
        key.split_once('.').map_or(key, |(source, _)| source)
    }

    /// The name within its source: the part after the dot (`users`, `ExternalAccessPolicy`).
    pub fn name(self) -> &'static str {
        let key = self.as_str();
        key.split_once('.').map_or(key, |(_, name)| name)
    }
}

impl fmt::Display for FactKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<FactKey> for String {
    fn from(key: FactKey) -> String {
        key.as_str().to_string()
    }
}

impl AsRef<str> for FactKey {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_reads_back_from_its_spelling() {
        for key in FactKey::ALL {
            assert_eq!(FactKey::parse(key.as_str()), Some(key));
            assert_eq!(
                FactKey::parse_ignore_case(&key.as_str().to_ascii_lowercase()),
                Some(key)
            );
            assert!(!key.source().is_empty() && !key.name().is_empty(), "{key}");
        }
        assert_eq!(FactKey::parse("graph.nope"), None);
        assert_eq!(FactKey::parse("graph.Users"), None, "exact spelling only");
    }

    #[test]
    fn keys_are_unique() {
        let mut seen: Vec<&str> = FactKey::ALL.iter().map(|k| k.as_str()).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), FactKey::ALL.len());
    }
}
