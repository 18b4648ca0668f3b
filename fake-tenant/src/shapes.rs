//! Response shapes that public callers of the real APIs show, which the fake can serve instead of
//! the shape the snapshot stores (shared/reference/apis.md, "What public callers show"). Each
//! function turns one stored record into that shape; the switches of [`crate::Faults`] apply them
//! to the answers, and tests use them to build snapshots in the same shapes.

use serde_json::{Map, Value, json};

/// What the REST body says for a policy type whose Global instance applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GlobalPolicies {
    /// An assignment whose `displayName` is `Global`.
    Named,
    /// No assignment for that policy type, as terraprovider/go-teams `cs/users.go` reads it
    /// ("empty when the user has no explicit assignment for that type (i.e. inherits the
    /// tenant-global default)"; its test fixture has a user with `effectivePolicyAssignments: []`).
    Omitted,
}

/// `policyId` of the assignments: terraprovider/go-teams `cs/users_test.go` shows the live
/// service answering this literal.
const POLICY_ID: &str = "Not Yet Supported.";

/// The Teams admin API's REST body of `GET /Teams.User/users/{id}` for one Get-CsOnlineUser
/// record (flat PascalCase, one `*Policy` property per policy type, `null` = Global):
/// `{"users": [{"objectId", "userPrincipalName", …, "effectivePolicyAssignments": [{"policyType",
/// "policyAssignment": {"assignmentType", "authority", "displayName", "policyId"}}]}]}` in camelCase.
/// Source: terraprovider/go-teams `cs/users.go` (`usersOf`: "The API returns a single
/// { "users": [ ... ] } envelope") and `cs/users_test.go` (`sampleUsersResult`, said to mirror
/// the live response: camelCase, `objectId`, bare policy names without `Tag:`). A body that is
/// already in that shape, or not an object, is returned as is.
pub fn rest_online_user(flat: &Value, global: GlobalPolicies) -> Value {
    if !flat.is_object() || flat.get("users").is_some() {
        return flat.clone();
    }
    json!({ "users": [rest_user(flat, global)] })
}

/// One user record of [`rest_online_user`]'s `users` list.
pub fn rest_user(flat: &Value, global: GlobalPolicies) -> Value {
    let Some(obj) = flat.as_object() else {
        return flat.clone();
    };
    if obj.contains_key("effectivePolicyAssignments") {
        return flat.clone();
    }
    let mut out = Map::new();
    let mut assignments = Vec::new();
    for (key, value) in obj {
        if key.to_ascii_lowercase().ends_with("policy") {
            let name = match value {
                Value::String(s) => s.strip_prefix("Tag:").unwrap_or(s).to_string(),
                _ => String::new(),
            };
            let name = if name.is_empty() {
                "Global".to_string()
            } else {
                name
            };
            let is_global = name.eq_ignore_ascii_case("global");
            if is_global && global == GlobalPolicies::Omitted {
                continue;
            }
            assignments.push(json!({
                "policyType": key,
                "policyAssignment": {
                    "assignmentType": "Direct",
                    "authority": "Tenant",
                    "displayName": name,
                    "policyId": POLICY_ID,
                }
            }));
        } else {
            out.insert(camel(key), value.clone());
        }
    }
    out.insert(
        "effectivePolicyAssignments".into(),
        Value::Array(assignments),
    );
    Value::Object(out)
}

fn camel(key: &str) -> String {
    let mut chars = key.chars();
    match chars.next() {
        Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// The body of Graph `GET /admin/teams/userConfigurations/{id}` as Microsoft Graph's documented
/// example shows it (learn.microsoft.com/graph/api/teamsadministration-teamsuserconfiguration-get,
/// microsoft-graph-docs-contrib `api-reference/v1.0/api/teamsadministration-teamsuserconfiguration-get.md`):
/// the entity wrapped as `{"value": {"@odata.context": "…/$entity", …}}`. A body that is already
/// wrapped, or not an object, is returned as is.
pub fn wrapped_user_configuration(item: &Value) -> Value {
    let Some(obj) = item.as_object() else {
        return item.clone();
    };
    if obj.get("value").is_some_and(Value::is_object) {
        return item.clone();
    }
    let mut inner = Map::new();
    inner.insert(
        "@odata.context".into(),
        json!("https://graph.microsoft.com/v1.0/$metadata#admin/teams/userConfigurations/$entity"),
    );
    for (k, v) in obj {
        if k != "@odata.context" {
            inner.insert(k.clone(), v.clone());
        }
    }
    json!({ "value": inner })
}

/// The only fields of a Teams `telephone-numbers` row that public callers read
/// (KelvinTegelaar/CIPP-API `Invoke-ListTeamsVoice`: `TelephoneNumber`, `TargetId`,
/// `AcquisitionDate`).
pub const SPARSE_NUMBER_FIELDS: [&str; 3] = ["TelephoneNumber", "TargetId", "AcquisitionDate"];

/// One `telephone-numbers` row with only [`SPARSE_NUMBER_FIELDS`] (those it has).
pub fn sparse_telephone_number(row: &Value) -> Value {
    let Some(obj) = row.as_object() else {
        return row.clone();
    };
    Value::Object(
        obj.iter()
            .filter(|(k, _)| {
                SPARSE_NUMBER_FIELDS
                    .iter()
                    .any(|f| f.eq_ignore_ascii_case(k))
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rest_user_moves_policies_into_effective_assignments() {
        let flat = json!({
            "ObjectId": "u1", "UserPrincipalName": "a@contoso.com", "AccountType": "User",
            "ExternalAccessPolicy": "Tag:CC-Restricted", "OnlineVoiceRoutingPolicy": null,
            "TeamsUpgradeEffectiveMode": "TeamsOnly"
        });
        let body = rest_online_user(&flat, GlobalPolicies::Named);
        let u = &body["users"][0];
        assert_eq!(u["objectId"], "u1");
        assert_eq!(u["userPrincipalName"], "a@contoso.com");
        assert_eq!(u["teamsUpgradeEffectiveMode"], "TeamsOnly");
        assert!(u.get("ExternalAccessPolicy").is_none());
        let epa = u["effectivePolicyAssignments"].as_array().unwrap();
        assert_eq!(epa.len(), 2);
        assert_eq!(epa[0]["policyType"], "ExternalAccessPolicy");
        assert_eq!(epa[0]["policyAssignment"]["displayName"], "CC-Restricted");
        assert_eq!(epa[1]["policyAssignment"]["displayName"], "Global");
        let omitted = rest_user(&flat, GlobalPolicies::Omitted);
        assert_eq!(
            omitted["effectivePolicyAssignments"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        assert_eq!(rest_online_user(&body, GlobalPolicies::Named), body);
        assert_eq!(
            rest_online_user(&Value::Null, GlobalPolicies::Named),
            Value::Null
        );
    }

    #[test]
    fn user_configuration_is_wrapped_once() {
        let item = json!({"id": "u1", "accountType": "user"});
        let wrapped = wrapped_user_configuration(&item);
        assert_eq!(wrapped["value"]["id"], "u1");
        assert!(
            wrapped["value"]["@odata.context"]
                .as_str()
                .unwrap()
                .ends_with("$entity")
        );
        assert_eq!(wrapped_user_configuration(&wrapped), wrapped);
    }

    #[test]
    fn sparse_number_keeps_three_fields() {
        let row = json!({"TelephoneNumber": "+1", "TargetId": "t", "Capability": ["x"], "AcquisitionDate": "d", "ActivationState": "Activated"});
        assert_eq!(
            sparse_telephone_number(&row),
            json!({"TelephoneNumber": "+1", "TargetId": "t", "AcquisitionDate": "d"})
        );
    }
}
