//! Microsoft Graph collectors (docs/live-requests.md rows 3-11).
//!
//! Tenant-wide collections are plain paged GETs. Per-user data (the user object, license
//! details, group memberships, Teams user configuration) goes through `$batch`, 20 parts per
//! request, because a contact center has hundreds of agents and one GET per user per fact
//! would be thousands of round trips and a throttling magnet.

use serde_json::Value;

use super::endpoints::Service;
use super::http::{BatchGet, FetchError};
use super::paging::Paging;
use super::run::{OrgInfo, Run};
use crate::fact_key::FactKey;
use crate::json::{bool_prop, str_prop};

/// The user properties the normalizers read (graph.users), and nothing else.
pub const USER_SELECT: &str = "id,userPrincipalName,displayName,accountEnabled,userType,usageLocation,assignedLicenses,department,companyName,officeLocation,onPremisesExtensionAttributes";
/// Group properties of `transitiveMemberOf`.
pub const GROUP_SELECT: &str = "id,displayName,mail";
/// Numbers are read `$top` at a time (the API's maximum).
pub const NUMBER_ASSIGNMENTS_PATH: &str =
    "/v1.0/admin/teams/telephoneNumberManagement/numberAssignments";
const NUMBER_PAGE: u32 = 1000;
/// Azure Communication Services and Microsoft Graph service principals.
pub(crate) const SERVICE_PRINCIPALS_PATH: &str = concat!(
    "/v1.0/servicePrincipals?$filter=appId in ('",
    crate::acs_app_id!(),
    "','00000003-0000-0000-c000-000000000000')&$select=id,appId,displayName,accountEnabled"
);

/// The organization, read once (graph.organization) however many collectors ask.
pub(crate) async fn org<'r>(run: &'r Run<'_>) -> &'r OrgInfo {
    run.org.get_or_init(|| organization(run)).await
}

/// The tenant id for URL paths: the organization's id when known, else `--tenant`.
pub(crate) async fn tenant_id(run: &Run<'_>) -> String {
    org(run)
        .await
        .tenant_id
        .clone()
        .unwrap_or_else(|| run.options.tenant.clone())
}

/// Reads graph.organization (once per run, through [`org`]) and returns what other
/// collectors need from it.
pub(crate) async fn organization(run: &Run<'_>) -> OrgInfo {
    let path = "/v1.0/organization";
    let result = run
        .client
        .get_paged(Service::Graph, path, &[], Paging::ODataNextLink)
        .await;
    let info = match &result {
        Ok(v) => org_info(v),
        Err(_) => OrgInfo::default(),
    };
    run.record(
        FactKey::GraphOrganization,
        &run.label(Service::Graph, path),
        result,
    );
    info
}

fn org_info(v: &Value) -> OrgInfo {
    let Some(org) = v
        .get("value")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
    else {
        return OrgInfo::default();
    };
    let initial_domain = org
        .get("verifiedDomains")
        .and_then(Value::as_array)
        .and_then(|ds| {
            ds.iter()
                .find(|d| bool_prop(d, &["isInitial"]) == Some(true))
                .or_else(|| {
                    ds.iter().find(|d| {
                        str_prop(d, &["name"]).is_some_and(|n| {
                            let n = n.to_ascii_lowercase();
                            n.ends_with(".onmicrosoft.com") && n.matches('.').count() == 2
                        })
                    })
                })
        })
        .and_then(|d| str_prop(d, &["name"]));
    OrgInfo {
        tenant_id: str_prop(org, &["id"]).map(|s| s.to_ascii_lowercase()),
        display_name: str_prop(org, &["displayName"]),
        initial_domain,
    }
}

/// The tenant-wide Graph collections (rows 3, 4, 7, 8, 9), concurrently.
pub(crate) async fn tenant_wide(run: &Run<'_>) {
    let paged = |key: FactKey, path: &'static str| async move {
        let result = run
            .client
            .get_paged(Service::Graph, path, &[], Paging::ODataNextLink)
            .await;
        run.record(key, &run.label(Service::Graph, path), result);
    };
    tokio::join!(
        org(run),
        paged(FactKey::GraphSubscribedSkus, "/v1.0/subscribedSkus"),
        paged(FactKey::GraphServicePrincipals, SERVICE_PRINCIPALS_PATH),
        paged(
            FactKey::GraphOAuth2PermissionGrants,
            "/v1.0/oauth2PermissionGrants"
        ),
        paged(
            FactKey::GraphRoleAssignments,
            "/v1.0/roleManagement/directory/roleAssignments?$expand=principal"
        ),
    );
}

/// graph.resourceAccounts (row 5). Returns the accounts' lower-case ids, or `None` when the
/// list could not be read (the caller falls back to Teams application instances).
pub(crate) async fn resource_accounts(run: &Run<'_>) -> Option<Vec<String>> {
    let path = "/beta/admin/teams/resourceAccounts?$top=100";
    let result = run
        .client
        .get_paged(Service::Graph, path, &[], Paging::ODataNextLink)
        .await;
    let ids = result.as_ref().ok().map(|v| object_ids(v, "value"));
    run.record(
        FactKey::GraphResourceAccounts,
        &run.label(Service::Graph, path),
        result,
    );
    ids
}

/// Lower-case `id`/`objectId` of the items of a list response, in order, without repeats.
pub(crate) fn object_ids(v: &Value, items_key: &str) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    let items = v
        .get(items_key)
        .and_then(Value::as_array)
        .or_else(|| v.as_array());
    for item in items.into_iter().flatten() {
        if let Some(id) = str_prop(item, &["id", "objectId"]) {
            let id = id.to_ascii_lowercase();
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    ids
}

/// graph.numberAssignments (row 10). `Err(status)` when it could not be read, so the caller
/// can decide on the Teams fallback.
pub(crate) async fn number_assignments(run: &Run<'_>) -> Result<(), Option<u16>> {
    let result = run
        .client
        .get_paged(
            Service::Graph,
            NUMBER_ASSIGNMENTS_PATH,
            &[],
            Paging::graph_top_skip(NUMBER_PAGE),
        )
        .await;
    let status = result.as_ref().err().map(|e| e.status);
    let label = run.label(
        Service::Graph,
        &format!("{NUMBER_ASSIGNMENTS_PATH}?$top={NUMBER_PAGE}&$skip=0"),
    );
    run.record(FactKey::GraphNumberAssignments, &label, result);
    match status {
        None => Ok(()),
        Some(s) => Err(s),
    }
}

/// The user members of `--agent-group` (row 11): their lower-case object ids.
pub(crate) async fn group_members(run: &Run<'_>, group: &str) -> Result<Vec<String>, FetchError> {
    let path = format!(
        "/v1.0/groups/{}/members/microsoft.graph.user?$select=id,userPrincipalName&$top=999",
        group.to_ascii_lowercase()
    );
    let v = run
        .client
        .get_paged(Service::Graph, &path, &[], Paging::ODataNextLink)
        .await?;
    Ok(object_ids(&v, "value"))
}

/// Which per-user resource a `$batch` part reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum UserPartKind {
    /// `/users/{id-or-upn}?$select=…` (graph.users).
    User,
    /// `/users/{id}/licenseDetails` (graph.licenseDetails).
    LicenseDetails,
    /// `/users/{id}/transitiveMemberOf/microsoft.graph.group` (graph.memberOf).
    MemberOf,
    /// `/admin/teams/userConfigurations/{id}` (graph.userConfigurations).
    UserConfiguration,
}

/// One per-user read: a kind and the user (an id, or a UPN for `User`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UserPart {
    pub kind: UserPartKind,
    pub key: String,
}

impl UserPart {
    fn relative_url(&self) -> String {
        let key = encode_segment(&self.key);
        match self.kind {
            UserPartKind::User => format!("/users/{key}?$select={USER_SELECT}"),
            UserPartKind::LicenseDetails => format!("/users/{key}/licenseDetails"),
            UserPartKind::MemberOf => format!(
                "/users/{key}/transitiveMemberOf/microsoft.graph.group?$select={GROUP_SELECT}"
            ),
            UserPartKind::UserConfiguration => format!("/admin/teams/userConfigurations/{key}"),
        }
    }
}

/// Percent-encodes a UPN or id for a URL path segment (`#EXT#` guests, apostrophes, spaces).
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'@') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Reads per-user parts through `$batch` (the client chunks them by 20 and retries throttled
/// parts), then follows any part's `@odata.nextLink` with plain GETs and merges the pages.
/// Results come back in the order of `parts`.
pub(crate) async fn user_parts(
    run: &Run<'_>,
    parts: Vec<UserPart>,
) -> Vec<(UserPart, Result<Value, FetchError>)> {
    let gets: Vec<BatchGet> = parts
        .iter()
        .enumerate()
        .map(|(i, p)| BatchGet::new(format!("{i}"), p.relative_url()))
        .collect();
    let results = match run.client.graph_batch(gets).await {
        Ok(results) => results,
        Err(e) => return parts.into_iter().map(|p| (p, Err(e.clone()))).collect(),
    };
    let mut by_id: std::collections::HashMap<String, Result<Value, FetchError>> = results
        .into_iter()
        .map(|r| {
            let result = r.result.and_then(|body| {
                if body.is_object() {
                    Ok(body)
                } else {
                    Err(FetchError {
                        endpoint: r.endpoint.clone(),
                        status: None,
                        code: None,
                        message: "the $batch part's body is not a JSON object".into(),
                    })
                }
            });
            (r.id, result)
        })
        .collect();
    let mut out: Vec<(UserPart, Result<Value, FetchError>)> = parts
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let r = by_id.remove(&i.to_string()).unwrap_or_else(|| {
                Err(FetchError {
                    endpoint: format!("POST {}/v1.0/$batch", run.base(Service::Graph)),
                    status: None,
                    code: None,
                    message: format!("part for {} missing from the $batch response", p.key),
                })
            });
            (p, r)
        })
        .collect();

    // Collections longer than a page: follow the part's next link outside the batch.
    let mut follow = tokio::task::JoinSet::new();
    for (i, (_, result)) in out.iter().enumerate() {
        let Ok(body) = result else { continue };
        let Some(link) = body.get("@odata.nextLink").and_then(Value::as_str) else {
            continue;
        };
        let client = run.client.clone();
        let link = link.to_string();
        follow.spawn(async move {
            let rest = client
                .get_paged(Service::Graph, &link, &[], Paging::ODataNextLink)
                .await;
            (i, rest)
        });
    }
    while let Some(joined) = follow.join_next().await {
        let Ok((i, rest)) = joined else { continue };
        let Some((_, slot)) = out.get_mut(i) else {
            continue;
        };
        match rest {
            Ok(rest) => {
                if let Ok(body) = slot {
                    merge_pages(body, rest);
                }
            }
            Err(e) => *slot = Err(e),
        }
    }
    out
}

/// Appends `rest`'s `value` items to `first`'s and drops the cursor.
fn merge_pages(first: &mut Value, rest: Value) {
    let Some(obj) = first.as_object_mut() else {
        return;
    };
    obj.remove("@odata.nextLink");
    let more = match rest {
        Value::Object(mut m) => match m.remove("value") {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        },
        Value::Array(items) => items,
        _ => Vec::new(),
    };
    match obj.get_mut("value") {
        Some(Value::Array(items)) => items.extend(more),
        _ => {
            obj.insert("value".into(), Value::Array(more));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn org_info_reads_id_name_and_initial_domain() {
        let v = json!({"value":[{"id":"AAAA-1","displayName":"Contoso","verifiedDomains":[
            {"name":"contoso.com","isInitial":false},
            {"name":"contoso.onmicrosoft.com","isInitial":true}]}]});
        let info = org_info(&v);
        assert_eq!(info.tenant_id.as_deref(), Some("aaaa-1"));
        assert_eq!(info.display_name.as_deref(), Some("Contoso"));
        assert_eq!(
            info.initial_domain.as_deref(),
            Some("contoso.onmicrosoft.com")
        );
        assert!(org_info(&json!({"value": []})).tenant_id.is_none());
        assert!(org_info(&json!("junk")).tenant_id.is_none());
    }

    #[test]
    fn object_ids_accept_both_spellings_and_dedupe() {
        let v = json!({"value":[{"id":"A"},{"objectId":"b"},{"id":"a"},{"x":1}]});
        assert_eq!(object_ids(&v, "value"), vec!["a", "b"]);
        let t = json!({"applicationInstances":[{"objectId":"C"}],"skipToken":null});
        assert_eq!(object_ids(&t, "applicationInstances"), vec!["c"]);
    }

    #[test]
    fn part_urls_encode_guest_upns() {
        let p = UserPart {
            kind: UserPartKind::User,
            key: "jo_fabrikam.com#EXT#@contoso.onmicrosoft.com".into(),
        };
        assert!(
            p.relative_url()
                .starts_with("/users/jo_fabrikam.com%23EXT%23@contoso.onmicrosoft.com?$select=id,")
        );
        let p = UserPart {
            kind: UserPartKind::MemberOf,
            key: "abc".into(),
        };
        assert_eq!(
            p.relative_url(),
            "/users/abc/transitiveMemberOf/microsoft.graph.group?$select=id,displayName,mail"
        );
    }

    #[test]
    fn merge_pages_appends_items() {
        let mut first = json!({"@odata.context":"c","value":[1],"@odata.nextLink":"x"});
        merge_pages(&mut first, json!({"value":[2,3]}));
        assert_eq!(first, json!({"@odata.context":"c","value":[1,2,3]}));
    }
}
