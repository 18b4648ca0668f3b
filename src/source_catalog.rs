//! The raw facts ccaudit knows: where each is read and what grants read access.
//!
//! One table serves the normalizers (to say what to grant when a fact is unavailable), the docs
//! and, later, the collectors and `ccaudit permissions`, so permissions are never listed twice.

/// One raw source fact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceSpec {
    /// Snapshot key, e.g. `graph.subscribedSkus`.
    pub key: &'static str,
    /// Method and URL template (or cmdlet) it is read from.
    pub endpoint: &'static str,
    /// What the reading identity needs: application permission, role or RBAC grant.
    pub needs: &'static str,
}

pub const SOURCES: &[SourceSpec] = &[
    SourceSpec {
        key: "graph.organization",
        endpoint: "GET /v1.0/organization",
        needs: "Graph application permission Organization.Read.All",
    },
    SourceSpec {
        key: "graph.subscribedSkus",
        endpoint: "GET /v1.0/subscribedSkus",
        needs: "Graph application permission LicenseAssignment.Read.All (or Organization.Read.All)",
    },
    SourceSpec {
        key: "graph.users",
        endpoint: "GET /v1.0/users/{id}?$select=id,userPrincipalName,displayName,accountEnabled,userType,usageLocation,assignedLicenses,department,companyName,officeLocation,onPremisesExtensionAttributes",
        needs: "Graph application permission User.Read.All",
    },
    SourceSpec {
        key: "graph.licenseDetails",
        endpoint: "GET /v1.0/users/{id}/licenseDetails (via $batch)",
        needs: "Graph application permission LicenseAssignment.Read.All (or User.Read.All)",
    },
    SourceSpec {
        key: "graph.memberOf",
        endpoint: "GET /v1.0/users/{id}/transitiveMemberOf/microsoft.graph.group?$select=id,displayName (via $batch)",
        needs: "Graph application permission GroupMember.Read.All (or Directory.Read.All)",
    },
    SourceSpec {
        key: "graph.servicePrincipals",
        endpoint: "GET /v1.0/servicePrincipals?$filter=appId in ('1fd5118e-2576-4263-8130-9503064c837a','00000003-0000-0000-c000-000000000000')",
        needs: "Graph application permission Application.Read.All",
    },
    SourceSpec {
        key: "graph.oauth2PermissionGrants",
        endpoint: "GET /v1.0/oauth2PermissionGrants",
        needs: "Graph application permission DelegatedPermissionGrant.Read.All (or Directory.Read.All)",
    },
    SourceSpec {
        key: "graph.roleAssignments",
        endpoint: "GET /v1.0/roleManagement/directory/roleAssignments?$expand=principal",
        needs: "Graph application permission RoleManagement.Read.Directory",
    },
    SourceSpec {
        key: "graph.userConfigurations",
        endpoint: "GET /v1.0/admin/teams/userConfigurations/{id}",
        needs: "Graph application permission TeamsUserConfiguration.Read.All",
    },
    SourceSpec {
        key: "graph.numberAssignments",
        endpoint: "GET /v1.0/admin/teams/telephoneNumberManagement/numberAssignments",
        needs: "Graph application permission TeamsTelephoneNumber.Read.All",
    },
    SourceSpec {
        key: "graph.resourceAccounts",
        endpoint: "GET /beta/admin/teams/resourceAccounts",
        needs: "Graph delegated permission TeamsResourceAccount.Read.All (admin-consented) and a Teams Administrator caller",
    },
    SourceSpec {
        key: "teams.TeamsAcsFederationConfiguration",
        endpoint: "GET /Skype.Policy/configurations/TeamsAcsFederationConfiguration",
        needs: "Entra role Teams Administrator (or Teams Communications Administrator, Global Reader) for the auditing identity",
    },
    SourceSpec {
        key: "teams.ExternalAccessPolicy",
        endpoint: "GET /Skype.Policy/configurations/ExternalAccessPolicy",
        needs: "Entra role Teams Administrator (or Teams Communications Administrator, Global Reader) for the auditing identity",
    },
    SourceSpec {
        key: "teams.TenantFederationSettings",
        endpoint: "GET /Skype.Policy/configurations/TenantFederationSettings",
        needs: "Entra role Teams Administrator (or Teams Communications Administrator, Global Reader) for the auditing identity",
    },
    SourceSpec {
        key: "teams.applicationInstances",
        endpoint: "GET /Teams.PlatformService/v2/ApplicationInstances?pageSize=100",
        needs: "Entra role Teams Administrator for the auditing identity",
    },
    SourceSpec {
        key: "teams.applicationInstanceAssociations",
        endpoint: "GET /Teams.VoiceApps/applicationinstanceassociations/{id}",
        needs: "Entra role Teams Administrator for the auditing identity",
    },
    SourceSpec {
        key: "teams.telephoneNumbers",
        endpoint: "GET /Skype.TelephoneNumberMgmt/Tenants/{tenantId}/telephone-numbers?skip=0&top=999",
        needs: "Entra role Teams Administrator (or Teams Telephony Administrator) for the auditing identity",
    },
    SourceSpec {
        key: "teams.onlineUsers",
        endpoint: "GET /Teams.User/users/{id} (Get-CsOnlineUser)",
        needs: "Entra role Teams Administrator (or Global Reader) for the auditing identity",
    },
    SourceSpec {
        key: "arm.subscriptions",
        endpoint: "GET https://management.azure.com/subscriptions?api-version=2022-12-01",
        needs: "Azure RBAC Reader on the subscriptions that hold ACS resources",
    },
    SourceSpec {
        key: "arm.communicationServices",
        endpoint: "GET /subscriptions/{sub}/providers/Microsoft.Communication/communicationServices?api-version=2023-04-01",
        needs: "Azure RBAC Reader on the subscriptions that hold ACS resources",
    },
    SourceSpec {
        key: "arm.eventSubscriptions",
        endpoint: "GET {acsResourceId}/providers/Microsoft.EventGrid/eventSubscriptions?api-version=2025-02-15",
        needs: "Azure RBAC Reader on the ACS resource (Microsoft.EventGrid/eventSubscriptions/read)",
    },
    SourceSpec {
        key: "dataverse.msdyn_occommunicationprovidersettings",
        endpoint: "GET {org}/api/data/v9.2/msdyn_occommunicationprovidersettings",
        needs: "Dataverse application user with the Omnichannel administrator (or System Administrator) security role; pass --dataverse-url",
    },
    SourceSpec {
        key: "dataverse.msdyn_occommunicationprovidersettingentries",
        endpoint: "GET {org}/api/data/v9.2/msdyn_occommunicationprovidersettingentries?$filter=msdyn_key eq 'DynamicsAppId'",
        needs: "Dataverse application user with the Omnichannel administrator (or System Administrator) security role; pass --dataverse-url",
    },
    SourceSpec {
        key: "dataverse.msdyn_ocphonenumbers",
        endpoint: "GET {org}/api/data/v9.2/msdyn_ocphonenumbers",
        needs: "Dataverse application user with the Omnichannel administrator (or System Administrator) security role; pass --dataverse-url",
    },
    SourceSpec {
        key: "dataverse.msdyn_ocvoicechannelsettings",
        endpoint: "GET {org}/api/data/v9.2/msdyn_ocvoicechannelsettings",
        needs: "Dataverse application user with the Omnichannel administrator (or System Administrator) security role; pass --dataverse-url",
    },
    SourceSpec {
        key: "compliance.InformationBarrierPolicy",
        endpoint: "POST /adminapi/beta/{tenantId}/InvokeCommand Get-InformationBarrierPolicy",
        needs: "Exchange.ManageAsApp application permission plus the Compliance Administrator Entra role",
    },
    SourceSpec {
        key: "compliance.OrganizationSegment",
        endpoint: "POST /adminapi/beta/{tenantId}/InvokeCommand Get-OrganizationSegment",
        needs: "Exchange.ManageAsApp application permission plus the Compliance Administrator Entra role",
    },
    SourceSpec {
        key: "compliance.PolicyConfig",
        endpoint: "POST /adminapi/beta/{tenantId}/InvokeCommand Get-PolicyConfig",
        needs: "Exchange.ManageAsApp application permission plus the Compliance Administrator Entra role",
    },
];

/// The spec for a snapshot key, if ccaudit knows it.
pub fn source(key: &str) -> Option<&'static SourceSpec> {
    SOURCES.iter().find(|s| s.key == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_prefixed_by_service() {
        let mut seen = std::collections::BTreeSet::new();
        for s in SOURCES {
            assert!(seen.insert(s.key), "duplicate {}", s.key);
            let service = s.key.split('.').next().unwrap();
            assert!(
                ["graph", "teams", "arm", "dataverse", "compliance"].contains(&service),
                "{}",
                s.key
            );
        }
    }
}
