//! Entra ID directory facts: organization, SKUs, the users that matter, their licenses and
//! groups, service principals, consent grants and directory role assignments.

use crate::fact_key::FactKey;
use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::fact::{self, Fact, Unavailable};
use super::raw::{self, bool_prop, int_prop, prop, records, required_str, str_prop};
use crate::ids as canonical;
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
    /// Derived: whether each agent holds a Contact Center license, keyed by object id
    /// (`licensing::derive`).
    pub contact_center_licenses: Fact<BTreeMap<String, super::licensing::ContactCenterLicense>>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Organization {
    pub id: String,
    pub display_name: Option<String>,
    /// Two-letter country of the tenant (`countryLetterCode`), used for data-location checks;
    /// absent (omitted) when the organization does not carry it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country_letter_code: Option<String>,
    pub verified_domains: Vec<String>,
    pub default_domain: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Sku {
    pub sku_id: String,
    pub sku_part_number: String,
    /// `Enabled`, `Warning`, `Suspended`, `Deleted`, `LockedOut`. This and the fields below
    /// are absent (omitted) when the SKU record does not carry them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capability_status: Option<String>,
    /// `prepaidUnits.enabled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled_units: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumed_units: Option<i64>,
    /// `enabled_units - consumed_units` (may be negative when over-assigned).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub available_units: Option<i64>,
    /// Service plan names included in the SKU.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_plans: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct User {
    pub id: String,
    pub upn: String,
    pub display_name: Option<String>,
    /// Absent (omitted) when the user record does not carry `accountEnabled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_enabled: Option<bool>,
    /// `Member` or `Guest`.
    pub user_type: Option<String>,
    /// Two-letter usage location; `null` (not set) blocks license assignment; absent (omitted)
    /// when the record does not carry `usageLocation`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage_location: Option<Option<String>>,
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
    /// Absent (omitted) when a license record lacks `skuPartNumber`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku_part_numbers: Option<Vec<String>>,
    /// Service plan name → provisioningStatus (`Success`, `Disabled`, `PendingInput`, ...),
    /// across all the user's SKUs; `Success` wins when a plan appears twice. Absent (omitted)
    /// when a license lacks `servicePlans` or a plan lacks its name or status: the plans are
    /// then not fully known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plans: Option<BTreeMap<String, String>>,
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
    /// `AllPrincipals` (admin consent) or `Principal`; absent (omitted) when not reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consent_type: Option<String>,
    pub principal_id: Option<String>,
    /// The space-separated `scope` split into names; absent (omitted) when not reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
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
            (
                "directory.user_ids_by_upn",
                self.user_ids_by_upn.unavailable(),
            ),
            ("directory.licenses", self.licenses.unavailable()),
            (
                "directory.group_memberships",
                self.group_memberships.unavailable(),
            ),
            (
                "directory.service_principals",
                self.service_principals.unavailable(),
            ),
            (
                "directory.consent_grants",
                self.consent_grants.unavailable(),
            ),
            (
                "directory.role_assignments",
                self.role_assignments.unavailable(),
            ),
        ]
    }
}

/// Role template ids the checks and reports name (apis.md A.6). Teams Administrator is confirmed
/// in code; the others are well-known values listed there "from memory". An unknown id simply
/// gets no name, so a wrong entry here can only hide a name, never invent a role.
pub const WELL_KNOWN_ROLES: &[(&str, &str)] = &[
    (
        "69091246-20e8-4a56-aa4d-066075b2a7a8",
        "Teams Administrator",
    ),
    (
        "baf37b3a-610e-45da-9e62-d9d1e5e8914b",
        "Teams Communications Administrator",
    ),
    (
        "aa38014f-0993-46e9-9b45-30501a20909d",
        "Teams Telephony Administrator",
    ),
    (
        "75941009-915a-4869-abe7-691bff18279e",
        "Skype for Business Administrator",
    ),
    (
        "4d6ac14f-3453-41d0-bef9-a3e0c569773a",
        "License Administrator",
    ),
    ("f2ef992c-3afb-46b9-b7cf-a126ee74c451", "Global Reader"),
    (
        "62e90394-69f5-4237-9190-012177145e10",
        "Global Administrator",
    ),
];

/// The well-known name of a directory role template id (any GUID spelling).
pub fn role_name(role_definition_id: &str) -> Option<&'static str> {
    let id = canonical::guid(role_definition_id)?;
    WELL_KNOWN_ROLES
        .iter()
        .find(|(known, _)| *known == id)
        .map(|(_, name)| *name)
}

/// Normalizes the directory facts of a snapshot.
pub fn normalize(snapshot: &Snapshot) -> Directory {
    let users = fact::read(snapshot, FactKey::GraphUsers, parse_users);
    // The UPN index comes from the same response, so it is exactly as available as the users.
    let user_ids_by_upn = users.as_ref().map(|users| {
        users
            .values()
            .map(|u| (u.upn.to_ascii_lowercase(), u.id.clone()))
            .collect()
    });
    Directory {
        organization: fact::read(snapshot, FactKey::GraphOrganization, parse_organization),
        skus: fact::read(snapshot, FactKey::GraphSubscribedSkus, parse_skus),
        users,
        user_ids_by_upn,
        licenses: fact::read(
            snapshot,
            FactKey::GraphLicenseDetails,
            parse_license_details,
        ),
        group_memberships: fact::read(snapshot, FactKey::GraphMemberOf, parse_member_of),
        service_principals: fact::read(
            snapshot,
            FactKey::GraphServicePrincipals,
            parse_service_principals,
        ),
        consent_grants: fact::read(
            snapshot,
            FactKey::GraphOAuth2PermissionGrants,
            parse_consent_grants,
        ),
        role_assignments: fact::read(
            snapshot,
            FactKey::GraphRoleAssignments,
            parse_role_assignments,
        ),
        // Filled once the agents and the audit configuration are known (`TenantModel`).
        contact_center_licenses: Fact::Available(BTreeMap::new()),
    }
}

/// Object ids are GUIDs; lower-case them so every map in the model joins on one spelling.
fn object_id(raw: &str) -> String {
    canonical::guid_or_raw(raw).to_ascii_lowercase()
}

fn opt_object_id(obj: &Value, names: &[&str]) -> Option<String> {
    str_prop(obj, names).map(|s| object_id(&s))
}

fn parse_organization(data: &Value) -> Result<Organization, String> {
    let orgs = records(data, &[])?;
    let org = orgs
        .first()
        .ok_or("the collection holds no organization object")?;
    let domains = match prop(org, "verifiedDomains") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(d)) => d.iter().collect(),
        Some(other) => {
            return Err(format!("`verifiedDomains` is {}", raw::kind(other)));
        }
    };
    let verified_domains = domains
        .iter()
        .filter_map(|d| match d {
            Value::String(s) => Some(s.trim().to_string()),
            _ => str_prop(d, &["name"]),
        })
        .collect();
    let default_domain = domains
        .iter()
        .find(|d| bool_prop(d, &["isDefault"]) == Some(true))
        .and_then(|d| str_prop(d, &["name"]));
    Ok(Organization {
        id: object_id(&required_str(org, &["id"])?),
        display_name: str_prop(org, &["displayName"]),
        country_letter_code: raw::reported(
            org,
            "organization",
            &["countryLetterCode"],
            "country_letter_code",
            str_prop,
        ),
        verified_domains,
        default_domain,
    })
}

fn parse_skus(data: &Value) -> Result<Vec<Sku>, String> {
    records(data, &[])?
        .into_iter()
        .map(|sku| {
            let sku_part_number = required_str(sku, &["skuPartNumber"])?;
            let record = sku_part_number.as_str();
            let enabled_units = raw::reported(
                sku,
                record,
                &["prepaidUnits.enabled"],
                "enabled_units",
                |s, _| prop(s, "prepaidUnits").and_then(|p| int_prop(p, &["enabled"])),
            );
            let consumed_units =
                raw::reported(sku, record, &["consumedUnits"], "consumed_units", int_prop);
            if enabled_units.is_none() || consumed_units.is_none() {
                super::absence::note(
                    record,
                    "prepaidUnits.enabled or consumedUnits",
                    "available_units",
                    sku,
                );
            }
            let service_plans = prop(sku, "servicePlans")
                .filter(|p| !p.is_null())
                .map(|p| raw::string_list(Some(p), &["servicePlanName"]));
            if service_plans.is_none() {
                super::absence::note(record, "servicePlans", "service_plans", sku);
            }
            Ok(Sku {
                sku_id: object_id(&required_str(sku, &["skuId"])?),
                capability_status: raw::reported(
                    sku,
                    record,
                    &["capabilityStatus"],
                    "capability_status",
                    str_prop,
                ),
                enabled_units,
                consumed_units,
                available_units: enabled_units.zip(consumed_units).map(|(e, c)| e - c),
                service_plans,
                sku_part_number,
            })
        })
        .collect()
}

fn parse_users(data: &Value) -> Result<BTreeMap<String, User>, String> {
    records(data, &[])?
        .into_iter()
        .map(|u| {
            let id = object_id(&required_str(u, &["id"])?);
            let assigned_sku_ids = match prop(u, "assignedLicenses") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(ls)) => ls
                    .iter()
                    .filter_map(|l| str_prop(l, &["skuId"]))
                    .map(|s| object_id(&s))
                    .collect(),
                Some(other) => {
                    return Err(format!(
                        "user {id}: `assignedLicenses` is {}",
                        raw::kind(other)
                    ));
                }
            };
            let extension_attributes = prop(u, "onPremisesExtensionAttributes")
                .and_then(Value::as_object)
                .map(|attrs| {
                    attrs
                        .iter()
                        .filter_map(|(k, v)| {
                            let v = v.as_str()?.trim();
                            (!v.is_empty()).then(|| (k.clone(), v.to_string()))
                        })
                        .collect()
                })
                .unwrap_or_default();
            let upn = required_str(u, &["userPrincipalName"])?;
            let usage_location = match prop(u, "usageLocation") {
                None => {
                    super::absence::note(&upn, "usageLocation", "usage_location", u);
                    None
                }
                Some(_) => Some(str_prop(u, &["usageLocation"])),
            };
            let user = User {
                account_enabled: raw::reported(
                    u,
                    &upn,
                    &["accountEnabled"],
                    "account_enabled",
                    bool_prop,
                ),
                upn,
                display_name: str_prop(u, &["displayName"]),
                user_type: str_prop(u, &["userType"]),
                usage_location,
                assigned_sku_ids,
                department: str_prop(u, &["department"]),
                company_name: str_prop(u, &["companyName"]),
                office_location: str_prop(u, &["officeLocation"]),
                extension_attributes,
                id: id.clone(),
            };
            Ok((id, user))
        })
        .collect()
}

/// A per-user response inside a keyed fact; a Graph error envelope there (one failed `$batch`
/// item) is reported rather than read as a collection of one odd record.
fn per_user_records<'a>(user: &str, response: &'a Value) -> Result<Vec<&'a Value>, String> {
    if let Some(err) = prop(response, "error").filter(|e| e.is_object()) {
        let code = str_prop(err, &["code"]).unwrap_or_default();
        let message = str_prop(err, &["message"]).unwrap_or_default();
        return Err(format!(
            "user {user}: the response is an error: {code} {message}"
        ));
    }
    records(response, &[]).map_err(|e| format!("user {user}: {e}"))
}

fn parse_license_details(data: &Value) -> Result<BTreeMap<String, UserLicenses>, String> {
    raw::keyed(data)?
        .iter()
        .map(|(user, response)| {
            let mut out = UserLicenses {
                sku_part_numbers: Some(Vec::new()),
                plans: Some(BTreeMap::new()),
                ..UserLicenses::default()
            };
            for license in per_user_records(user, response)? {
                let sku_id = object_id(
                    &required_str(license, &["skuId"]).map_err(|e| format!("user {user}: {e}"))?,
                );
                if !out.sku_ids.contains(&sku_id) {
                    out.sku_ids.push(sku_id);
                }
                match str_prop(license, &["skuPartNumber"]) {
                    Some(part) => {
                        if let Some(parts) = out.sku_part_numbers.as_mut()
                            && !parts.contains(&part)
                        {
                            parts.push(part);
                        }
                    }
                    None => {
                        super::absence::note(user, "skuPartNumber", "sku_part_numbers", license);
                        out.sku_part_numbers = None;
                    }
                }
                let plans = match prop(license, "servicePlans") {
                    Some(Value::Array(p)) => p.as_slice(),
                    None | Some(Value::Null) => {
                        super::absence::note(user, "servicePlans", "plans", license);
                        out.plans = None;
                        &[]
                    }
                    Some(other) => {
                        return Err(format!(
                            "user {user}: `servicePlans` is {}",
                            raw::kind(other)
                        ));
                    }
                };
                for plan in plans {
                    let name = str_prop(plan, &["servicePlanName"]);
                    let status = str_prop(plan, &["provisioningStatus"]);
                    let (Some(name), Some(status)) = (name, status) else {
                        super::absence::note(
                            user,
                            "servicePlans[].servicePlanName or provisioningStatus",
                            "plans",
                            plan,
                        );
                        out.plans = None;
                        continue;
                    };
                    let Some(known) = out.plans.as_mut() else {
                        continue;
                    };
                    // The same plan can come with several SKUs (e.g. Teams in E5 and in a
                    // Teams add-on); the user has it if any copy is provisioned.
                    let keep_existing = known
                        .get(&name)
                        .is_some_and(|s| s.eq_ignore_ascii_case("Success"));
                    if !keep_existing {
                        known.insert(name, status);
                    }
                }
            }
            Ok((object_id(user), out))
        })
        .collect()
}

fn parse_member_of(data: &Value) -> Result<BTreeMap<String, Vec<GroupRef>>, String> {
    raw::keyed(data)?
        .iter()
        .map(|(user, response)| {
            let groups = per_user_records(user, response)?
                .into_iter()
                // The endpoint casts to groups; anything else (a directory role, an admin
                // unit) is not a group membership, so it is left out rather than mislabelled.
                .filter(|g| {
                    str_prop(g, &["@odata.type"])
                        .is_none_or(|t| t.eq_ignore_ascii_case("#microsoft.graph.group"))
                })
                .map(|g| {
                    Ok(GroupRef {
                        id: object_id(
                            &required_str(g, &["id"]).map_err(|e| format!("user {user}: {e}"))?,
                        ),
                        display_name: str_prop(g, &["displayName"]),
                        mail: str_prop(g, &["mail"]),
                    })
                })
                .collect::<Result<Vec<_>, String>>()?;
            Ok((object_id(user), groups))
        })
        .collect()
}

fn parse_service_principals(data: &Value) -> Result<BTreeMap<String, ServicePrincipal>, String> {
    records(data, &[])?
        .into_iter()
        .map(|sp| {
            let app_id = object_id(&required_str(sp, &["appId"])?);
            let principal = ServicePrincipal {
                id: object_id(&required_str(sp, &["id"])?),
                app_id: app_id.clone(),
                display_name: str_prop(sp, &["displayName"]),
                account_enabled: bool_prop(sp, &["accountEnabled"]),
            };
            Ok((app_id, principal))
        })
        .collect()
}

fn parse_consent_grants(data: &Value) -> Result<Vec<ConsentGrant>, String> {
    records(data, &[])?
        .into_iter()
        .map(|g| {
            let client_id = object_id(&required_str(g, &["clientId"])?);
            let record = format!("the grant to client {client_id}");
            let scopes = match prop(g, "scope") {
                None => {
                    super::absence::note(&record, "scope", "scopes", g);
                    None
                }
                // An empty or null scope is a grant of nothing, as Graph writes it.
                Some(_) => Some(
                    str_prop(g, &["scope"])
                        .map(|s| s.split_whitespace().map(str::to_string).collect())
                        .unwrap_or_default(),
                ),
            };
            Ok(ConsentGrant {
                consent_type: raw::reported(g, &record, &["consentType"], "consent_type", str_prop),
                resource_id: object_id(&required_str(g, &["resourceId"])?),
                principal_id: opt_object_id(g, &["principalId"]),
                scopes,
                client_id,
            })
        })
        .collect()
}

fn parse_role_assignments(data: &Value) -> Result<Vec<RoleAssignment>, String> {
    records(data, &[])?
        .into_iter()
        .map(|a| {
            let role_definition_id = object_id(&required_str(a, &["roleDefinitionId"])?);
            let principal = prop(a, "principal").filter(|p| p.is_object());
            Ok(RoleAssignment {
                principal_id: object_id(&required_str(a, &["principalId"])?),
                principal_display_name: principal.and_then(|p| str_prop(p, &["displayName"])),
                principal_type: principal
                    .and_then(|p| str_prop(p, &["@odata.type"]))
                    .map(|t| principal_type(&t)),
                role_name: role_name(&role_definition_id).map(str::to_string),
                role_definition_id,
            })
        })
        .collect()
}

/// `#microsoft.graph.servicePrincipal` → `servicePrincipal`.
fn principal_type(odata_type: &str) -> String {
    let t = odata_type.trim().trim_start_matches('#');
    let t = t.rsplit('.').next().unwrap_or(t);
    raw::camel(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fact::UnavailableKind;
    use crate::model::test_support::{data, error, snapshot};
    use crate::snapshot::SourceFact;
    use serde_json::json;

    fn forbidden() -> SourceFact {
        error(
            403,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        )
    }

    fn directory(key: &str, value: Value) -> Directory {
        normalize(&snapshot(vec![(key, data(value))]))
    }

    fn a8_user() -> Value {
        json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users",
            "value": [{
                "id": "748A7C7C-A489-4DE4-8A68-4415F1D19A9C",
                "userPrincipalName": "RA_CC_Main@contoso.com",
                "displayName": "Contact Center Main Line",
                "accountEnabled": false,
                "userType": "Member",
                "usageLocation": "US",
                "assignedLicenses": [{"disabledPlans": [], "skuId": "440EAAA8-B3E0-484B-A8BE-62870B9BA70A"}],
                "department": "Contact Center",
                "companyName": null,
                "officeLocation": "",
                "onPremisesExtensionAttributes": {
                    "extensionAttribute1": "voice",
                    "extensionAttribute2": null,
                    "extensionAttribute3": ""
                }
            }]
        })
    }

    #[test]
    fn empty_snapshot_leaves_every_fact_not_collected() {
        let d = normalize(&snapshot(vec![]));
        for (path, u) in d.facts() {
            assert_eq!(
                u.map(|u| u.kind),
                Some(UnavailableKind::NotCollected),
                "{path}"
            );
        }
    }

    #[test]
    fn organization_reads_country_and_default_domain() {
        let d = directory(
            "graph.organization",
            json!({"value": [{
                "id": "11111111-2222-3333-4444-555555555555",
                "displayName": "Contoso",
                "countryLetterCode": "US",
                "verifiedDomains": [
                    {"capabilities": "Email, OfficeCommunicationsOnline", "isDefault": true, "isInitial": false, "name": "contoso.com", "type": "Managed"},
                    {"capabilities": "Email, OfficeCommunicationsOnline", "isDefault": false, "isInitial": true, "name": "contoso.onmicrosoft.com", "type": "Managed"}
                ]
            }]}),
        );
        let org = d.organization.value().unwrap();
        assert_eq!(org.display_name.as_deref(), Some("Contoso"));
        assert_eq!(org.country_letter_code.as_deref(), Some("US"));
        assert_eq!(
            org.verified_domains,
            ["contoso.com", "contoso.onmicrosoft.com"]
        );
        assert_eq!(org.default_domain.as_deref(), Some("contoso.com"));
    }

    #[test]
    fn organization_collection_without_objects_is_malformed() {
        let d = directory("graph.organization", json!({"value": []}));
        assert_eq!(
            d.organization.unavailable().unwrap().kind,
            UnavailableKind::Malformed
        );
    }

    #[test]
    fn skus_compute_available_units_and_list_plans() {
        let d = directory(
            "graph.subscribedSkus",
            json!({"value": [{
                "accountName": "Contoso",
                "appliesTo": "User",
                "capabilityStatus": "Enabled",
                "consumedUnits": 3,
                "id": "11111111-2222-3333-4444-555555555555_440eaaa8-b3e0-484b-a8be-62870b9ba70a",
                "prepaidUnits": {"enabled": 25, "lockedOut": 0, "suspended": 0, "warning": 0},
                "servicePlans": [{"servicePlanId": "f47330e9-c134-43b3-9993-e7f004506889", "servicePlanName": "MCOEV_VIRTUALUSER", "provisioningStatus": "Success", "appliesTo": "User"}],
                "skuId": "440EAAA8-B3E0-484B-A8BE-62870B9BA70A",
                "skuPartNumber": "PHONESYSTEM_VIRTUALUSER"
            }]}),
        );
        let sku = &d.skus.value().unwrap()[0];
        assert_eq!(sku.sku_id, "440eaaa8-b3e0-484b-a8be-62870b9ba70a");
        assert_eq!(sku.sku_part_number, "PHONESYSTEM_VIRTUALUSER");
        assert_eq!(sku.capability_status.as_deref(), Some("Enabled"));
        assert_eq!(
            (sku.enabled_units, sku.consumed_units, sku.available_units),
            (Some(25), Some(3), Some(22))
        );
        assert_eq!(sku.service_plans.as_deref().unwrap(), ["MCOEV_VIRTUALUSER"]);
    }

    #[test]
    fn over_assigned_sku_has_negative_available_units() {
        let d = directory(
            "graph.subscribedSkus",
            json!({"value": [{"skuId": "440eaaa8-b3e0-484b-a8be-62870b9ba70a", "skuPartNumber": "PHONESYSTEM_VIRTUALUSER", "consumedUnits": 6, "prepaidUnits": {"enabled": 5}}]}),
        );
        assert_eq!(d.skus.value().unwrap()[0].available_units, Some(-1));
    }

    #[test]
    fn sku_without_sku_id_is_malformed() {
        let d = directory(
            "graph.subscribedSkus",
            json!({"value": [{"skuPartNumber": "MCOEV"}]}),
        );
        let u = d.skus.unavailable().unwrap();
        assert_eq!(u.kind, UnavailableKind::Malformed);
        assert!(u.reason.contains("skuId"), "{}", u.reason);
    }

    #[test]
    fn sku_collection_of_the_wrong_type_is_malformed() {
        let d = directory("graph.subscribedSkus", json!({"value": "oops"}));
        assert_eq!(
            d.skus.unavailable().unwrap().kind,
            UnavailableKind::Malformed
        );
    }

    #[test]
    fn forbidden_skus_name_the_permission_to_grant() {
        let d = normalize(&snapshot(vec![("graph.subscribedSkus", forbidden())]));
        let u = d.skus.unavailable().unwrap();
        assert_eq!(u.kind, UnavailableKind::Forbidden);
        assert!(
            u.needs
                .as_deref()
                .unwrap()
                .contains("LicenseAssignment.Read.All")
        );
    }

    #[test]
    fn users_are_keyed_by_lower_case_id_and_indexed_by_upn() {
        let d = directory("graph.users", a8_user());
        let id = "748a7c7c-a489-4de4-8a68-4415f1d19a9c";
        let user = &d.users.value().unwrap()[id];
        assert_eq!(user.id, id);
        assert_eq!(user.upn, "RA_CC_Main@contoso.com");
        assert_eq!(user.account_enabled, Some(false));
        assert_eq!(user.usage_location.clone().flatten().as_deref(), Some("US"));
        assert_eq!(
            user.assigned_sku_ids,
            ["440eaaa8-b3e0-484b-a8be-62870b9ba70a"]
        );
        assert_eq!(user.department.as_deref(), Some("Contact Center"));
        assert_eq!(user.company_name, None);
        assert_eq!(user.office_location, None);
        assert_eq!(
            d.user_ids_by_upn
                .value()
                .unwrap()
                .get("ra_cc_main@contoso.com"),
            Some(&id.to_string())
        );
    }

    #[test]
    fn user_extension_attributes_keep_only_the_set_ones() {
        let d = directory("graph.users", a8_user());
        let user = d.users.value().unwrap().values().next().unwrap().clone();
        assert_eq!(
            user.extension_attributes,
            BTreeMap::from([("extensionAttribute1".to_string(), "voice".to_string())])
        );
    }

    #[test]
    fn forbidden_users_make_the_upn_index_unavailable_too() {
        let d = normalize(&snapshot(vec![("graph.users", forbidden())]));
        assert_eq!(
            d.users.unavailable().unwrap().kind,
            UnavailableKind::Forbidden
        );
        let u = d.user_ids_by_upn.unavailable().unwrap();
        assert_eq!(u.kind, UnavailableKind::Forbidden);
        assert!(u.needs.as_deref().unwrap().contains("User.Read.All"));
    }

    #[test]
    fn user_without_upn_is_malformed() {
        let d = directory(
            "graph.users",
            json!({"value": [{"id": "748a7c7c-a489-4de4-8a68-4415f1d19a9c"}]}),
        );
        assert_eq!(
            d.users.unavailable().unwrap().kind,
            UnavailableKind::Malformed
        );
    }

    #[test]
    fn license_plans_success_wins_on_duplicates() {
        let d = directory(
            "graph.licenseDetails",
            json!({"5A2F3B9E-0C1D-4E2F-8A9B-1C2D3E4F5A6B": {"value": [
                {"skuId": "06EBC4EE-1BB5-47DD-8120-11324BC54E06", "skuPartNumber": "SPE_E5", "servicePlans": [
                    {"servicePlanName": "TEAMS1", "provisioningStatus": "Success"},
                    {"servicePlanName": "MCOEV", "provisioningStatus": "Disabled"}
                ]},
                {"skuId": "e43b5b99-8dfb-405f-9987-dc307f34bcbd", "skuPartNumber": "MCOEV", "servicePlans": [
                    {"servicePlanName": "MCOEV", "provisioningStatus": "Success"},
                    {"servicePlanName": "TEAMS1", "provisioningStatus": "PendingInput"}
                ]}
            ]}}),
        );
        let lic = &d.licenses.value().unwrap()["5a2f3b9e-0c1d-4e2f-8a9b-1c2d3e4f5a6b"];
        assert_eq!(
            lic.sku_ids,
            [
                "06ebc4ee-1bb5-47dd-8120-11324bc54e06",
                "e43b5b99-8dfb-405f-9987-dc307f34bcbd"
            ]
        );
        assert_eq!(
            lic.sku_part_numbers.as_deref().unwrap(),
            ["SPE_E5", "MCOEV"]
        );
        assert_eq!(lic.plans.as_ref().unwrap()["TEAMS1"], "Success");
        assert_eq!(lic.plans.as_ref().unwrap()["MCOEV"], "Success");
    }

    #[test]
    fn user_without_licenses_has_an_empty_entry() {
        let d = directory(
            "graph.licenseDetails",
            json!({"748a7c7c-a489-4de4-8a68-4415f1d19a9c": {"value": []}}),
        );
        assert_eq!(
            d.licenses.value().unwrap()["748a7c7c-a489-4de4-8a68-4415f1d19a9c"],
            UserLicenses {
                sku_ids: Vec::new(),
                sku_part_numbers: Some(Vec::new()),
                plans: Some(BTreeMap::new()),
            }
        );
    }

    #[test]
    fn license_details_as_a_flat_list_is_malformed() {
        let d = directory("graph.licenseDetails", json!([{"skuId": "x"}]));
        assert_eq!(
            d.licenses.unavailable().unwrap().kind,
            UnavailableKind::Malformed
        );
    }

    #[test]
    fn license_details_with_a_per_user_error_is_malformed_naming_the_user() {
        let d = directory(
            "graph.licenseDetails",
            json!({"748a7c7c-a489-4de4-8a68-4415f1d19a9c": {"error": {"code": "Request_ResourceNotFound", "message": "Resource does not exist."}}}),
        );
        let u = d.licenses.unavailable().unwrap();
        assert_eq!(u.kind, UnavailableKind::Malformed);
        assert!(
            u.reason.contains("748a7c7c") && u.reason.contains("Request_ResourceNotFound"),
            "{}",
            u.reason
        );
    }

    #[test]
    fn member_of_lists_groups_per_user() {
        let d = directory(
            "graph.memberOf",
            json!({"748a7c7c-a489-4de4-8a68-4415f1d19a9c": {"value": [
                {"@odata.type": "#microsoft.graph.group", "id": "0A1B2C3D-0000-4000-8000-000000000001", "displayName": "CC Agents", "mail": "agents@contoso.com"},
                {"@odata.type": "#microsoft.graph.directoryRole", "id": "0a1b2c3d-0000-4000-8000-000000000002", "displayName": "Teams Administrator"}
            ]}}),
        );
        let groups = &d.group_memberships.value().unwrap()["748a7c7c-a489-4de4-8a68-4415f1d19a9c"];
        assert_eq!(
            groups,
            &[GroupRef {
                id: "0a1b2c3d-0000-4000-8000-000000000001".into(),
                display_name: Some("CC Agents".into()),
                mail: Some("agents@contoso.com".into()),
            }]
        );
    }

    #[test]
    fn service_principals_are_keyed_by_lower_case_app_id() {
        let d = directory(
            "graph.servicePrincipals",
            json!({"value": [{"id": "8A99E14E-1FBB-45D1-8475-29DDDCDC409F", "appId": "1FD5118E-2576-4263-8130-9503064C837A", "displayName": "Azure Communication Services", "accountEnabled": true, "servicePrincipalType": "Application"}]}),
        );
        let sp = &d.service_principals.value().unwrap()["1fd5118e-2576-4263-8130-9503064c837a"];
        assert_eq!(sp.id, "8a99e14e-1fbb-45d1-8475-29dddcdc409f");
        assert_eq!(sp.account_enabled, Some(true));
    }

    #[test]
    fn missing_service_principal_is_an_empty_map_not_unavailable() {
        let d = directory("graph.servicePrincipals", json!({"value": []}));
        assert!(d.service_principals.value().unwrap().is_empty());
    }

    #[test]
    fn consent_grant_scope_splits_on_whitespace() {
        let d = directory(
            "graph.oauth2PermissionGrants",
            json!({"value": [{
                "id": "n1Yk0Kx4ZUKCCD1cAnwmUE7hmYq7H9FFhHUp3dzcQJ8",
                "clientId": "d0245a9f-78ac-4265-8208-3d5c027c9450",
                "consentType": "AllPrincipals",
                "principalId": null,
                "resourceId": "8a99e14e-1fbb-45d1-8475-29dddcdc409f",
                "scope": " TeamsResourceAccount.Read.All  User.Read\tTeamsExtension.ManageCalls "
            }]}),
        );
        let grant = &d.consent_grants.value().unwrap()[0];
        assert_eq!(grant.consent_type.as_deref(), Some("AllPrincipals"));
        assert_eq!(grant.principal_id, None);
        assert_eq!(
            grant.scopes.as_deref().unwrap(),
            [
                "TeamsResourceAccount.Read.All",
                "User.Read",
                "TeamsExtension.ManageCalls"
            ]
        );
    }

    #[test]
    fn role_assignment_names_well_known_role_and_principal_type() {
        let d = directory(
            "graph.roleAssignments",
            json!({"value": [{
                "id": "RkqQacjgVkqqTQZ1rrKnqDv2b_Ng_cNMqZ6oOQOnN_k-1",
                "principalId": "d0245a9f-78ac-4265-8208-3d5c027c9450",
                "roleDefinitionId": "69091246-20E8-4A56-AA4D-066075B2A7A8",
                "directoryScopeId": "/",
                "principal": {"@odata.type": "#microsoft.graph.servicePrincipal", "id": "d0245a9f-78ac-4265-8208-3d5c027c9450", "displayName": "Auditor app", "appId": "00000000-0000-0000-0000-000000000001"}
            }]}),
        );
        let a = &d.role_assignments.value().unwrap()[0];
        assert_eq!(a.role_definition_id, "69091246-20e8-4a56-aa4d-066075b2a7a8");
        assert_eq!(a.role_name.as_deref(), Some("Teams Administrator"));
        assert_eq!(a.principal_type.as_deref(), Some("servicePrincipal"));
        assert_eq!(a.principal_display_name.as_deref(), Some("Auditor app"));
    }

    #[test]
    fn every_well_known_role_template_id_has_its_name() {
        for (id, name) in WELL_KNOWN_ROLES {
            assert_eq!(role_name(id), Some(*name));
        }
        assert_eq!(
            role_name("aa38014f-0993-46e9-9b45-30501a20909d"),
            Some("Teams Telephony Administrator")
        );
    }

    #[test]
    fn role_assignment_of_an_unknown_role_without_principal_has_no_names() {
        let d = directory(
            "graph.roleAssignments",
            json!({"value": [{"principalId": "5a2f3b9e-0c1d-4e2f-8a9b-1c2d3e4f5a6b", "roleDefinitionId": "00000000-1111-2222-3333-444444444444"}]}),
        );
        let a = &d.role_assignments.value().unwrap()[0];
        assert_eq!(a.role_name, None);
        assert_eq!(a.principal_type, None);
    }

    #[test]
    fn forbidden_role_assignments_name_the_permission_to_grant() {
        let d = normalize(&snapshot(vec![("graph.roleAssignments", forbidden())]));
        let u = d.role_assignments.unavailable().unwrap();
        assert_eq!(u.kind, UnavailableKind::Forbidden);
        assert!(
            u.reason.contains("HTTP 403 Authorization_RequestDenied"),
            "{}",
            u.reason
        );
        assert!(
            u.needs
                .as_deref()
                .unwrap()
                .contains("RoleManagement.Read.Directory")
        );
    }
}
