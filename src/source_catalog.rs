//! The raw facts ccaudit knows: where each is read and what grants read access.
//!
//! One table serves the normalizers (to say what to grant when a fact is unavailable), the docs
//! and, later, the collectors and `ccaudit permissions`, so permissions are never listed twice.

use crate::fact_key::FactKey;

/// One raw source fact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceSpec {
    /// Snapshot key, e.g. `graph.subscribedSkus`.
    pub key: FactKey,
    /// Method and URL template (or cmdlet) it is read from.
    pub endpoint: &'static str,
    /// What the reading identity needs: application permission, role or RBAC grant. One line
    /// for users, which reports print after `grant:`, so it names grants only, never a flag
    /// (when a flag decides whether the source is read, `discovery` says so, and the reason of
    /// an unread fact names the flag). The fields below split it up for `ccaudit permissions`
    /// (a test keeps the two in agreement).
    pub needs: &'static str,
    /// Application permissions (app roles) an app-only audit needs, all of them, least
    /// privileged choice only.
    pub application: &'static [Permission],
    /// Delegated scopes a person's own app registration needs (`--auth device-code
    /// --client-id`); the Azure CLI's client carries only the scopes Microsoft pre-authorised.
    pub delegated: &'static [Permission],
    /// Entra directory roles for the auditing identity, any one of them (least privileged
    /// first is not implied: the first is the one the docs name).
    pub entra_roles: &'static [&'static str],
    /// Azure RBAC role and where it must be granted.
    pub azure_rbac: Option<&'static str>,
    /// Dataverse security role of the application user (or the signed-in user).
    pub dataverse_role: Option<&'static str>,
    /// What it finds, for a source read only to find what to audit when the command line does
    /// not name it (the Dataverse org, the agents). A snapshot need not have it; no check reads
    /// it directly, and the app registration does not need it when the flags are given.
    pub discovery: Option<&'static str>,
    /// What else to know about reading it, when the grants alone would mislead (e.g. an
    /// application permission that exists but that Microsoft documents only for delegated use).
    pub note: Option<&'static str>,
}

/// The resource (API) an OAuth permission is defined on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Api {
    MicrosoftGraph,
    /// Office 365 Exchange Online: `Exchange.ManageAsApp` for the compliance (IB) cmdlets.
    ExchangeOnline,
    /// Skype and Teams Tenant Admin API (the Teams config API the Cs* cmdlets call).
    TeamsAdmin,
    AzureServiceManagement,
    Dataverse,
    /// PowerApps Service (`https://service.powerapps.com/`), the resource of the Power Platform
    /// admin (BAP) API.
    PowerAppsService,
}

impl Api {
    /// The resource application's appId (what `az ad app permission add --api` takes).
    pub fn app_id(self) -> &'static str {
        match self {
            Api::MicrosoftGraph => "00000003-0000-0000-c000-000000000000",
            Api::ExchangeOnline => "00000002-0000-0ff1-ce00-000000000000",
            Api::TeamsAdmin => "48ac35b8-9aa8-4d74-927d-1f4a14a0b239",
            Api::AzureServiceManagement => "797f4846-ba00-4fd7-ba43-dac1f8f63013",
            Api::Dataverse => "00000007-0000-0000-c000-000000000000",
            Api::PowerAppsService => "475226c6-020e-4fb2-8a90-7a972cbfc1d4",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Api::MicrosoftGraph => "Microsoft Graph",
            Api::ExchangeOnline => "Office 365 Exchange Online",
            Api::TeamsAdmin => "Skype and Teams Tenant Admin API",
            Api::AzureServiceManagement => "Azure Service Management",
            Api::Dataverse => "Dataverse",
            Api::PowerAppsService => "PowerApps Service",
        }
    }
}

/// An OAuth permission: an application permission (app role) or a delegated scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Permission {
    pub api: Api,
    pub name: &'static str,
    /// The app role id, for application permissions ccaudit can grant by script.
    pub id: Option<&'static str>,
    /// Whether `id` was confirmed by more than one public source; unconfirmed ids are printed
    /// with `# verify` in `ccaudit permissions --format script`.
    pub id_confirmed: bool,
}

/// Permissions the catalog refers to, named once so ids are not repeated per source.
pub mod permission {
    use super::{Api, Permission};

    const fn graph_role(name: &'static str, id: &'static str, id_confirmed: bool) -> Permission {
        Permission {
            api: Api::MicrosoftGraph,
            name,
            id: Some(id),
            id_confirmed,
        }
    }

    const fn graph_scope(name: &'static str) -> Permission {
        Permission {
            api: Api::MicrosoftGraph,
            name,
            id: None,
            id_confirmed: false,
        }
    }

    pub const ORGANIZATION_READ_ALL: Permission = graph_role(
        "Organization.Read.All",
        "498476ce-e0fe-48b0-b801-37ba7e2685c6",
        true,
    );
    pub const LICENSE_ASSIGNMENT_READ_ALL: Permission = graph_role(
        "LicenseAssignment.Read.All",
        "e2f98668-2877-4f38-a2f4-8202e0717aa1",
        true,
    );
    pub const USER_READ_ALL: Permission = graph_role(
        "User.Read.All",
        "df021288-bdef-4463-88db-98f22de89214",
        true,
    );
    pub const GROUP_MEMBER_READ_ALL: Permission = graph_role(
        "GroupMember.Read.All",
        "98830695-27a2-44f7-8c18-0c3ebc9698f6",
        true,
    );
    pub const APPLICATION_READ_ALL: Permission = graph_role(
        "Application.Read.All",
        "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30",
        true,
    );
    pub const DELEGATED_PERMISSION_GRANT_READ_ALL: Permission = graph_role(
        "DelegatedPermissionGrant.Read.All",
        "81b4724a-58aa-41c1-8a55-84ef97466587",
        true,
    );
    pub const ROLE_MANAGEMENT_READ_DIRECTORY: Permission = graph_role(
        "RoleManagement.Read.Directory",
        "483bed4a-2ad3-4361-a73b-c83ccdbdc53c",
        true,
    );
    pub const TEAMS_USER_CONFIGURATION_READ_ALL: Permission = graph_role(
        "TeamsUserConfiguration.Read.All",
        "a91eadaf-2c3c-4362-908b-fb172d208fc6",
        true,
    );
    /// Seen in one public permission dump only.
    pub const TEAMS_TELEPHONE_NUMBER_READ_ALL: Permission = graph_role(
        "TeamsTelephoneNumber.Read.All",
        "39b17d18-680c-41f4-b9c2-5f30629e7cb6",
        false,
    );
    /// Microsoft documents /beta/admin/teams/resourceAccounts for delegated sign-in only (ACS
    /// Teams Phone extensibility quickstart); whether this app role is honoured app-only is
    /// untested, so `graph.resourceAccounts` says so and falls back to the Teams admin API.
    pub const TEAMS_RESOURCE_ACCOUNT_READ_ALL: Permission = graph_role(
        "TeamsResourceAccount.Read.All",
        "b55aa226-33a1-4396-bcf4-edce5e7a31c1",
        true,
    );
    pub const EXCHANGE_MANAGE_AS_APP: Permission = Permission {
        api: Api::ExchangeOnline,
        name: "Exchange.ManageAsApp",
        id: Some("dc50a0fb-09a3-484d-be87-e023b12c6440"),
        id_confirmed: true,
    };

    pub const USER_READ: Permission = graph_scope("User.Read");
    pub const SCOPE_LICENSE_ASSIGNMENT_READ_ALL: Permission =
        graph_scope("LicenseAssignment.Read.All");
    pub const SCOPE_USER_READ_ALL: Permission = graph_scope("User.Read.All");
    pub const SCOPE_GROUP_MEMBER_READ_ALL: Permission = graph_scope("GroupMember.Read.All");
    pub const SCOPE_APPLICATION_READ_ALL: Permission = graph_scope("Application.Read.All");
    pub const SCOPE_DELEGATED_PERMISSION_GRANT_READ_ALL: Permission =
        graph_scope("DelegatedPermissionGrant.Read.All");
    pub const SCOPE_ROLE_MANAGEMENT_READ_DIRECTORY: Permission =
        graph_scope("RoleManagement.Read.Directory");
    pub const SCOPE_TEAMS_USER_CONFIGURATION_READ_ALL: Permission =
        graph_scope("TeamsUserConfiguration.Read.All");
    pub const SCOPE_TEAMS_TELEPHONE_NUMBER_READ_ALL: Permission =
        graph_scope("TeamsTelephoneNumber.Read.All");
    pub const SCOPE_TEAMS_RESOURCE_ACCOUNT_READ_ALL: Permission =
        graph_scope("TeamsResourceAccount.Read.All");

    const fn impersonation(api: Api) -> Permission {
        Permission {
            api,
            name: "user_impersonation",
            id: None,
            id_confirmed: false,
        }
    }

    pub const TEAMS_ADMIN_IMPERSONATION: Permission = impersonation(Api::TeamsAdmin);
    pub const ARM_IMPERSONATION: Permission = impersonation(Api::AzureServiceManagement);
    pub const DATAVERSE_IMPERSONATION: Permission = impersonation(Api::Dataverse);
    /// The delegated permission a person's own app needs for the Power Platform admin API
    /// (Microsoft365DSC `MSFT_PPPowerAppsEnvironment/settings.json`: powerAppsService, delegated
    /// `User`).
    pub const POWERAPPS_USER: Permission = Permission {
        api: Api::PowerAppsService,
        name: "User",
        id: None,
        id_confirmed: false,
    };
}

use permission as p;

/// Entra roles that can read the Teams admin configuration.
const TEAMS_CONFIG_READERS: &[&str] = &[
    "Teams Administrator",
    "Teams Communications Administrator",
    "Global Reader",
];
const OMNICHANNEL_ADMIN: Option<&str> = Some("Omnichannel administrator");
const ARM_READER: Option<&str> = Some("Reader on the subscriptions that hold ACS resources");

pub const SOURCES: &[SourceSpec] = &[
    SourceSpec {
        key: FactKey::GraphOrganization,
        endpoint: "GET /v1.0/organization",
        needs: "Graph application permission Organization.Read.All",
        application: &[p::ORGANIZATION_READ_ALL],
        delegated: &[p::USER_READ],
        entra_roles: &[],
        azure_rbac: None,
        dataverse_role: None,
        discovery: None,
        note: None,
    },
    SourceSpec {
        key: FactKey::GraphSubscribedSkus,
        endpoint: "GET /v1.0/subscribedSkus",
        needs: "Graph application permission LicenseAssignment.Read.All (or Organization.Read.All)",
        application: &[p::LICENSE_ASSIGNMENT_READ_ALL],
        delegated: &[p::SCOPE_LICENSE_ASSIGNMENT_READ_ALL],
        entra_roles: &[],
        azure_rbac: None,
        dataverse_role: None,
        discovery: None,
        note: None,
    },
    SourceSpec {
        key: FactKey::GraphUsers,
        endpoint: "GET /v1.0/users/{id}?$select=id,userPrincipalName,displayName,accountEnabled,userType,usageLocation,assignedLicenses,department,companyName,officeLocation,onPremisesExtensionAttributes",
        needs: "Graph application permission User.Read.All",
        application: &[p::USER_READ_ALL],
        delegated: &[p::SCOPE_USER_READ_ALL],
        entra_roles: &[],
        azure_rbac: None,
        dataverse_role: None,
        discovery: None,
        note: None,
    },
    SourceSpec {
        key: FactKey::GraphLicenseDetails,
        endpoint: "GET /v1.0/users/{id}/licenseDetails (via $batch)",
        needs: "Graph application permission LicenseAssignment.Read.All (or User.Read.All)",
        application: &[p::LICENSE_ASSIGNMENT_READ_ALL],
        delegated: &[p::SCOPE_LICENSE_ASSIGNMENT_READ_ALL],
        entra_roles: &[],
        azure_rbac: None,
        dataverse_role: None,
        discovery: None,
        note: None,
    },
    SourceSpec {
        key: FactKey::GraphMemberOf,
        endpoint: "GET /v1.0/users/{id}/transitiveMemberOf/microsoft.graph.group?$select=id,displayName (via $batch)",
        needs: "Graph application permission GroupMember.Read.All (or Directory.Read.All)",
        application: &[p::GROUP_MEMBER_READ_ALL],
        delegated: &[p::SCOPE_GROUP_MEMBER_READ_ALL],
        entra_roles: &[],
        azure_rbac: None,
        dataverse_role: None,
        discovery: None,
        note: None,
    },
    SourceSpec {
        key: FactKey::GraphServicePrincipals,
        endpoint: concat!(
            "GET /v1.0/servicePrincipals?$filter=appId in ('",
            crate::acs_app_id!(),
            "','00000003-0000-0000-c000-000000000000')"
        ),
        needs: "Graph application permission Application.Read.All",
        application: &[p::APPLICATION_READ_ALL],
        delegated: &[p::SCOPE_APPLICATION_READ_ALL],
        entra_roles: &[],
        azure_rbac: None,
        dataverse_role: None,
        discovery: None,
        note: None,
    },
    SourceSpec {
        key: FactKey::GraphOAuth2PermissionGrants,
        endpoint: "GET /v1.0/oauth2PermissionGrants",
        needs: "Graph application permission DelegatedPermissionGrant.Read.All (or Directory.Read.All)",
        application: &[p::DELEGATED_PERMISSION_GRANT_READ_ALL],
        delegated: &[p::SCOPE_DELEGATED_PERMISSION_GRANT_READ_ALL],
        entra_roles: &[],
        azure_rbac: None,
        dataverse_role: None,
        discovery: None,
        note: None,
    },
    SourceSpec {
        key: FactKey::GraphRoleAssignments,
        endpoint: "GET /v1.0/roleManagement/directory/roleAssignments?$expand=principal",
        needs: "Graph application permission RoleManagement.Read.Directory",
        application: &[p::ROLE_MANAGEMENT_READ_DIRECTORY],
        delegated: &[p::SCOPE_ROLE_MANAGEMENT_READ_DIRECTORY],
        entra_roles: &[],
        azure_rbac: None,
        dataverse_role: None,
        discovery: None,
        note: None,
    },
    SourceSpec {
        key: FactKey::GraphUserConfigurations,
        endpoint: "GET /v1.0/admin/teams/userConfigurations/{id}",
        needs: "Graph application permission TeamsUserConfiguration.Read.All",
        application: &[p::TEAMS_USER_CONFIGURATION_READ_ALL],
        delegated: &[p::SCOPE_TEAMS_USER_CONFIGURATION_READ_ALL],
        entra_roles: &[],
        azure_rbac: None,
        dataverse_role: None,
        discovery: None,
        note: None,
    },
    SourceSpec {
        key: FactKey::GraphNumberAssignments,
        endpoint: "GET /v1.0/admin/teams/telephoneNumberManagement/numberAssignments",
        needs: "Graph application permission TeamsTelephoneNumber.Read.All",
        application: &[p::TEAMS_TELEPHONE_NUMBER_READ_ALL],
        delegated: &[p::SCOPE_TEAMS_TELEPHONE_NUMBER_READ_ALL],
        entra_roles: &[],
        azure_rbac: None,
        dataverse_role: None,
        discovery: None,
        note: None,
    },
    SourceSpec {
        key: FactKey::GraphResourceAccounts,
        endpoint: "GET /beta/admin/teams/resourceAccounts",
        needs: "Graph TeamsResourceAccount.Read.All (admin-consented), signed in as a Teams Administrator or Teams Telephony Administrator (documented for delegated sign-in only; an app-only token may be refused, and the Teams admin API's resource-account list is the fallback)",
        application: &[p::TEAMS_RESOURCE_ACCOUNT_READ_ALL],
        delegated: &[p::SCOPE_TEAMS_RESOURCE_ACCOUNT_READ_ALL],
        // The D365 Teams Phone page accepts either role for the number sync that reads this API.
        entra_roles: &["Teams Administrator", "Teams Telephony Administrator"],
        azure_rbac: None,
        dataverse_role: None,
        discovery: None,
        note: Some(
            "Microsoft documents this API for delegated sign-in only (ACS Teams Phone extensibility quickstart); the application permission exists, but an app-only token may be refused. Then the resource accounts are read from the Teams admin API (teams.applicationInstances) instead.",
        ),
    },
    SourceSpec {
        key: FactKey::TeamsAcsFederationConfiguration,
        endpoint: "GET /Skype.Policy/configurations/TeamsAcsFederationConfiguration",
        needs: "Entra role Teams Administrator (or Teams Communications Administrator, Global Reader) for the auditing identity",
        application: &[],
        delegated: &[p::TEAMS_ADMIN_IMPERSONATION],
        entra_roles: TEAMS_CONFIG_READERS,
        azure_rbac: None,
        dataverse_role: None,
        discovery: None,
        note: None,
    },
    SourceSpec {
        key: FactKey::TeamsExternalAccessPolicy,
        endpoint: "GET /Skype.Policy/configurations/ExternalAccessPolicy",
        needs: "Entra role Teams Administrator (or Teams Communications Administrator, Global Reader) for the auditing identity",
        application: &[],
        delegated: &[p::TEAMS_ADMIN_IMPERSONATION],
        entra_roles: TEAMS_CONFIG_READERS,
        azure_rbac: None,
        dataverse_role: None,
        discovery: None,
        note: None,
    },
    SourceSpec {
        key: FactKey::TeamsTenantFederationSettings,
        endpoint: "GET /Skype.Policy/configurations/TenantFederationSettings",
        needs: "Entra role Teams Administrator (or Teams Communications Administrator, Global Reader) for the auditing identity",
        application: &[],
        delegated: &[p::TEAMS_ADMIN_IMPERSONATION],
        entra_roles: TEAMS_CONFIG_READERS,
        azure_rbac: None,
        dataverse_role: None,
        discovery: None,
        note: None,
    },
    SourceSpec {
        key: FactKey::TeamsApplicationInstances,
        endpoint: "GET /Teams.PlatformService/v2/ApplicationInstances?pageSize=100 (on 404: /Teams.PlatformService/v2/Legacy/ApplicationInstances)",
        needs: "Entra role Teams Administrator for the auditing identity",
        application: &[],
        delegated: &[p::TEAMS_ADMIN_IMPERSONATION],
        entra_roles: &["Teams Administrator"],
        azure_rbac: None,
        dataverse_role: None,
        discovery: None,
        note: None,
    },
    SourceSpec {
        key: FactKey::TeamsApplicationInstanceAssociations,
        endpoint: "GET /Teams.VoiceApps/applicationinstanceassociations/{id}",
        needs: "Entra role Teams Administrator for the auditing identity",
        application: &[],
        delegated: &[p::TEAMS_ADMIN_IMPERSONATION],
        entra_roles: &["Teams Administrator"],
        azure_rbac: None,
        dataverse_role: None,
        discovery: None,
        note: None,
    },
    SourceSpec {
        key: FactKey::TeamsTelephoneNumbers,
        endpoint: "GET /Skype.TelephoneNumberMgmt/Tenants/{tenantId}/telephone-numbers?skip=0&top=999",
        needs: "Entra role Teams Administrator (or Teams Telephony Administrator) for the auditing identity",
        application: &[],
        delegated: &[p::TEAMS_ADMIN_IMPERSONATION],
        entra_roles: &["Teams Administrator", "Teams Telephony Administrator"],
        azure_rbac: None,
        dataverse_role: None,
        discovery: None,
        note: None,
    },
    SourceSpec {
        key: FactKey::TeamsOnlineUsers,
        endpoint: "GET /Teams.User/users/{id} (Get-CsOnlineUser)",
        needs: "Entra role Teams Administrator (or Global Reader) for the auditing identity",
        application: &[],
        delegated: &[p::TEAMS_ADMIN_IMPERSONATION],
        entra_roles: &["Teams Administrator", "Global Reader"],
        azure_rbac: None,
        dataverse_role: None,
        discovery: None,
        note: None,
    },
    SourceSpec {
        key: FactKey::ArmSubscriptions,
        endpoint: "GET https://management.azure.com/subscriptions?api-version=2022-12-01",
        needs: "Azure RBAC Reader on the subscriptions that hold ACS resources",
        application: &[],
        delegated: &[p::ARM_IMPERSONATION],
        entra_roles: &[],
        azure_rbac: ARM_READER,
        dataverse_role: None,
        discovery: None,
        note: None,
    },
    SourceSpec {
        key: FactKey::ArmCommunicationServices,
        endpoint: "GET /subscriptions/{sub}/providers/Microsoft.Communication/communicationServices?api-version=2023-04-01",
        needs: "Azure RBAC Reader on the subscriptions that hold ACS resources",
        application: &[],
        delegated: &[p::ARM_IMPERSONATION],
        entra_roles: &[],
        azure_rbac: ARM_READER,
        dataverse_role: None,
        discovery: None,
        note: None,
    },
    SourceSpec {
        key: FactKey::ArmEventSubscriptions,
        endpoint: "GET {acsResourceId}/providers/Microsoft.EventGrid/eventSubscriptions?api-version=2025-02-15",
        needs: "Azure RBAC Reader on the ACS resource (Microsoft.EventGrid/eventSubscriptions/read)",
        application: &[],
        delegated: &[p::ARM_IMPERSONATION],
        entra_roles: &[],
        azure_rbac: Some("Reader on the ACS resource"),
        dataverse_role: None,
        discovery: None,
        note: None,
    },
    SourceSpec {
        key: FactKey::DataverseProviderSettings,
        endpoint: "GET {org}/api/data/v9.2/msdyn_occommunicationprovidersettings",
        needs: "Dataverse application user with the Omnichannel administrator (or System Administrator) security role",
        application: &[],
        delegated: &[p::DATAVERSE_IMPERSONATION],
        entra_roles: &[],
        azure_rbac: None,
        dataverse_role: OMNICHANNEL_ADMIN,
        discovery: None,
        note: None,
    },
    SourceSpec {
        key: FactKey::DataverseProviderSettingEntries,
        endpoint: "GET {org}/api/data/v9.2/msdyn_occommunicationprovidersettingentries?$filter=msdyn_key eq 'DynamicsAppId'",
        needs: "Dataverse application user with the Omnichannel administrator (or System Administrator) security role",
        application: &[],
        delegated: &[p::DATAVERSE_IMPERSONATION],
        entra_roles: &[],
        azure_rbac: None,
        dataverse_role: OMNICHANNEL_ADMIN,
        discovery: None,
        note: None,
    },
    SourceSpec {
        key: FactKey::DataversePhoneNumbers,
        endpoint: "GET {org}/api/data/v9.2/msdyn_ocphonenumbers",
        needs: "Dataverse application user with the Omnichannel administrator (or System Administrator) security role",
        application: &[],
        delegated: &[p::DATAVERSE_IMPERSONATION],
        entra_roles: &[],
        azure_rbac: None,
        dataverse_role: OMNICHANNEL_ADMIN,
        discovery: None,
        note: None,
    },
    SourceSpec {
        key: FactKey::DataverseVoiceChannels,
        endpoint: "GET {org}/api/data/v9.2/msdyn_ocvoicechannelsettings",
        needs: "Dataverse application user with the Omnichannel administrator (or System Administrator) security role",
        application: &[],
        delegated: &[p::DATAVERSE_IMPERSONATION],
        entra_roles: &[],
        azure_rbac: None,
        dataverse_role: OMNICHANNEL_ADMIN,
        discovery: None,
        note: None,
    },
    SourceSpec {
        key: FactKey::DataverseSystemUsers,
        endpoint: "GET {org}/api/data/v9.2/systemusers?$filter=isdisabled eq false and queuemembership_association/any(q:q/msdyn_queuetype eq 192350002)",
        needs: "Dataverse application user with the Omnichannel administrator (or System Administrator) security role (reads users and queues)",
        application: &[],
        delegated: &[p::DATAVERSE_IMPERSONATION],
        entra_roles: &[],
        azure_rbac: None,
        dataverse_role: OMNICHANNEL_ADMIN,
        discovery: Some(
            "the agents (voice-queue members) when --agents and --agent-group are not given",
        ),
        note: None,
    },
    SourceSpec {
        key: FactKey::PowerPlatformEnvironments,
        endpoint: "GET https://api.bap.microsoft.com/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments?api-version=2020-10-01",
        needs: "the Power Platform Administrator (or Dynamics 365 Administrator) Entra role for a signed-in admin; an app must be registered once with New-PowerAppManagementApp -ApplicationId <appId>",
        application: &[],
        delegated: &[p::POWERAPPS_USER],
        entra_roles: &["Power Platform Administrator", "Dynamics 365 Administrator"],
        azure_rbac: None,
        dataverse_role: None,
        discovery: Some("the Dataverse org when --dataverse-url is not given"),
        note: None,
    },
    SourceSpec {
        key: FactKey::ComplianceInformationBarrierPolicy,
        endpoint: "POST /adminapi/beta/{tenantId}/InvokeCommand Get-InformationBarrierPolicy",
        needs: "Exchange.ManageAsApp application permission plus the Compliance Administrator Entra role",
        application: &[p::EXCHANGE_MANAGE_AS_APP],
        delegated: &[],
        entra_roles: &["Compliance Administrator"],
        azure_rbac: None,
        dataverse_role: None,
        discovery: None,
        note: None,
    },
    SourceSpec {
        key: FactKey::ComplianceOrganizationSegment,
        endpoint: "POST /adminapi/beta/{tenantId}/InvokeCommand Get-OrganizationSegment",
        needs: "Exchange.ManageAsApp application permission plus the Compliance Administrator Entra role",
        application: &[p::EXCHANGE_MANAGE_AS_APP],
        delegated: &[],
        entra_roles: &["Compliance Administrator"],
        azure_rbac: None,
        dataverse_role: None,
        discovery: None,
        note: None,
    },
    SourceSpec {
        key: FactKey::CompliancePolicyConfig,
        endpoint: "POST /adminapi/beta/{tenantId}/InvokeCommand Get-PolicyConfig",
        needs: "Exchange.ManageAsApp application permission plus the Compliance Administrator Entra role",
        application: &[p::EXCHANGE_MANAGE_AS_APP],
        delegated: &[],
        entra_roles: &["Compliance Administrator"],
        azure_rbac: None,
        dataverse_role: None,
        discovery: None,
        note: None,
    },
];

/// The spec for a snapshot key, if ccaudit knows it.
pub fn source(key: FactKey) -> Option<&'static SourceSpec> {
    SOURCES.iter().find(|s| s.key == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fact_key_has_its_catalog_entry_in_the_same_order() {
        let keys: Vec<FactKey> = SOURCES.iter().map(|s| s.key).collect();
        assert_eq!(keys, FactKey::ALL);
        for key in FactKey::ALL {
            assert_eq!(source(key).map(|s| s.key), Some(key));
        }
    }

    #[test]
    fn keys_are_unique_and_prefixed_by_service() {
        let mut seen = std::collections::BTreeSet::new();
        for s in SOURCES {
            assert!(seen.insert(s.key), "duplicate {}", s.key);
            let service = s.key.source();
            assert!(
                [
                    "graph",
                    "teams",
                    "arm",
                    "dataverse",
                    "compliance",
                    "powerplatform"
                ]
                .contains(&service),
                "{}",
                s.key
            );
        }
    }

    /// `needs` is what users read when a fact is unavailable; the split fields drive
    /// `ccaudit permissions`. Every grant in the split must be named in the sentence.
    #[test]
    fn split_grants_agree_with_the_needs_sentence() {
        for s in SOURCES {
            let named = s
                .application
                .iter()
                .map(|p| p.name)
                .chain(s.entra_roles.iter().copied())
                .chain(s.azure_rbac)
                .chain(s.dataverse_role);
            for grant in named {
                assert!(
                    s.needs.contains(grant),
                    "{}: needs `{}` does not mention {grant}",
                    s.key,
                    s.needs
                );
            }
        }
    }

    /// `needs` follows a `grant:` label in reports: a command-line flag is not a grant.
    #[test]
    fn needs_names_grants_not_flags() {
        for s in SOURCES {
            assert!(
                !s.needs.contains("--") && !s.needs.contains("only when"),
                "{}: `{}` is not something to grant",
                s.key,
                s.needs
            );
        }
    }

    #[test]
    fn every_source_says_how_to_read_it() {
        for s in SOURCES {
            assert!(
                !s.application.is_empty()
                    || !s.entra_roles.is_empty()
                    || s.azure_rbac.is_some()
                    || s.dataverse_role.is_some(),
                "{} names no application permission, role or RBAC grant",
                s.key
            );
            assert!(
                s.application.iter().all(|p| p.id.is_some()),
                "{}: application permissions need their app role id",
                s.key
            );
        }
    }

    #[test]
    fn a_read_only_audit_asks_for_no_write_permission() {
        for s in SOURCES {
            for p in s.application.iter().chain(s.delegated) {
                assert!(!p.name.contains("Write"), "{}: {}", s.key, p.name);
            }
        }
    }
}
