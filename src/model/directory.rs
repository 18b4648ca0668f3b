//! Entra ID directory facts: organization, SKUs, the users that matter, their licenses and
//! groups, service principals, consent grants and directory role assignments.

use std::collections::BTreeMap;

use serde::Serialize;

use super::fact::{Fact, Unavailable};
use crate::snapshot::Snapshot;

#[derive(Debug, Clone, Serialize)]
pub struct Directory {
    /// `graph.organization`.
    pub organization: Fact<Organization>,
    /// `graph.subscribedSkus`.
    pub skus: Fact<Vec<Sku>>,
    /// `graph.users`, keyed by lower-case object id. Only resource accounts and agents.
    pub users: Fact<BTreeMap<String, User>>,
    /// Lower-case UPN → object id, for the same users.
    pub user_ids_by_upn: Fact<BTreeMap<String, String>>,
    /// `graph.licenseDetails`, keyed by object id.
    pub licenses: Fact<BTreeMap<String, UserLicenses>>,
    /// `graph.memberOf`, keyed by object id: the groups a user is a (transitive) member of.
    pub group_memberships: Fact<BTreeMap<String, Vec<GroupRef>>>,
    /// `graph.servicePrincipals`, keyed by lower-case appId.
    pub service_principals: Fact<BTreeMap<String, ServicePrincipal>>,
    /// `graph.oauth2PermissionGrants`.
    pub consent_grants: Fact<Vec<ConsentGrant>>,
    /// `graph.roleAssignments`.
    pub role_assignments: Fact<Vec<RoleAssignment>>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Organization {
    pub id: String,
    pub display_name: Option<String>,
    /// Two-letter country of the tenant (`countryLetterCode`), used for data-location checks.
    pub country_letter_code: Option<String>,
    pub verified_domains: Vec<String>,
    pub default_domain: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Sku {
    pub sku_id: String,
    pub sku_part_number: String,
    /// `Enabled`, `Warning`, `Suspended`, `Deleted`, `LockedOut`.
    pub capability_status: String,
    /// `prepaidUnits.enabled`.
    pub enabled_units: i64,
    pub consumed_units: i64,
    /// `enabled_units - consumed_units` (may be negative when over-assigned).
    pub available_units: i64,
    /// Service plan names included in the SKU.
    pub service_plans: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct User {
    pub id: String,
    pub upn: String,
    pub display_name: Option<String>,
    pub account_enabled: Option<bool>,
    /// `Member` or `Guest`.
    pub user_type: Option<String>,
    /// Two-letter usage location; `null` blocks license assignment.
    pub usage_location: Option<String>,
    /// Lower-case skuIds from `assignedLicenses`.
    pub assigned_sku_ids: Vec<String>,
    pub department: Option<String>,
    pub company_name: Option<String>,
    pub office_location: Option<String>,
    /// `onPremisesExtensionAttributes`, keyed `extensionAttribute1`..`extensionAttribute15`,
    /// only the ones that are set.
    pub extension_attributes: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct UserLicenses {
    /// Lower-case skuIds.
    pub sku_ids: Vec<String>,
    pub sku_part_numbers: Vec<String>,
    /// Service plan name → provisioningStatus (`Success`, `Disabled`, `PendingInput`, ...),
    /// across all the user's SKUs; `Success` wins when a plan appears twice.
    pub plans: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GroupRef {
    pub id: String,
    pub display_name: Option<String>,
    pub mail: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ServicePrincipal {
    /// Object id.
    pub id: String,
    pub app_id: String,
    pub display_name: Option<String>,
    pub account_enabled: Option<bool>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ConsentGrant {
    /// Object id of the client service principal.
    pub client_id: String,
    /// Object id of the resource service principal (e.g. Microsoft Graph's).
    pub resource_id: String,
    /// `AllPrincipals` (admin consent) or `Principal`.
    pub consent_type: String,
    pub principal_id: Option<String>,
    /// The space-separated `scope` split into names.
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RoleAssignment {
    pub principal_id: String,
    pub principal_display_name: Option<String>,
    /// `user`, `servicePrincipal`, `group` (from the expanded principal's `@odata.type`).
    pub principal_type: Option<String>,
    pub role_definition_id: String,
    /// Well-known name for the role template id (`Teams Administrator`, ...), if known.
    pub role_name: Option<String>,
}

impl Directory {
    pub fn facts(&self) -> Vec<(&'static str, Option<&Unavailable>)> {
        vec![
            ("directory.organization", self.organization.unavailable()),
            ("directory.skus", self.skus.unavailable()),
            ("directory.users", self.users.unavailable()),
            ("directory.user_ids_by_upn", self.user_ids_by_upn.unavailable()),
            ("directory.licenses", self.licenses.unavailable()),
            ("directory.group_memberships", self.group_memberships.unavailable()),
            ("directory.service_principals", self.service_principals.unavailable()),
            ("directory.consent_grants", self.consent_grants.unavailable()),
            ("directory.role_assignments", self.role_assignments.unavailable()),
        ]
    }
}

/// Normalizes the directory facts of a snapshot.
pub fn normalize(snapshot: &Snapshot) -> Directory {
    let _ = snapshot;
    unimplemented!("directory normalizer")
}
