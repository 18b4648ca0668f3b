//! The fake tenant against a small inline snapshot, over real loopback HTTP.

use std::collections::HashSet;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fake_tenant::{DeviceCodeOptions, FakeOptions, FakeTenant, FaultKind, Faults};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

const TID: &str = "11111111-2222-3333-4444-555555555555";
const TEAMS_SCOPE: &str = "48ac35b8-9aa8-4d74-927d-1f4a14a0b239/.default";
const U1: &str = "748a7c7c-a489-4de4-8a68-4415f1d19a9c";
const U2: &str = "5a2f3b9e-0c1d-4e2f-8a9b-1c2d3e4f5a6b";
const U3: &str = "6b3c4d5e-1d2e-4f3a-9b8c-2d3e4f5a6b7c";
const GROUP: &str = "c0ffee01-aaaa-4bbb-8ccc-0123456789ab";
const SUB1: &str = "11112222-3333-4444-5555-666677778888";
const SUB2: &str = "99998888-7777-6666-5555-444433332222";
const ACS1: &str = "/subscriptions/11112222-3333-4444-5555-666677778888/resourceGroups/rg-cc/providers/Microsoft.Communication/CommunicationServices/acs-one";

/// A client for the fake (plain http on loopback). Feature unification in a workspace build
/// gives reqwest ccaudit's features: gzip, which is turned off so the fake's gzip faults reach
/// the test as sent, and rustls without a crypto provider, so ccaudit's (ring) is installed
/// first, as ccaudit does.
fn client_builder() -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().no_gzip()
}

fn items(n: usize, f: impl Fn(usize) -> Value) -> Vec<Value> {
    (0..n).map(f).collect()
}

fn data(v: Value) -> Value {
    json!({"endpoint": "GET test", "data": v})
}

fn error(status: u16, code: &str, message: &str) -> Value {
    json!({"endpoint": "GET test", "error": {"status": status, "code": code, "message": message}})
}

fn snapshot() -> Value {
    let acs = |i: usize, sub: &str| {
        json!({"id": format!("/subscriptions/{sub}/resourceGroups/rg-cc/providers/Microsoft.Communication/CommunicationServices/acs-{}", ["one","two","three"][i]),
               "name": format!("acs-{i}"), "properties": {"immutableResourceId": format!("imm-{i}")}})
    };
    json!({
        "schema_version": 1, "tool_version": "0.1.0", "collected_at": "2026-11-27T05:00:00Z",
        "tenant_id": TID, "cloud": "public",
        "facts": {
            "graph.organization": data(json!({"@odata.context": "ctx", "value": [{"id": TID, "displayName": "Contoso",
                "verifiedDomains": [{"name": "contoso.com"}, {"name": "contoso.onmicrosoft.com"}]}]})),
            "graph.subscribedSkus": error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."),
            "graph.resourceAccounts": data(json!({"@odata.context": "ra", "value": items(5, |i| json!({"id": format!("ra-{i}"), "appId": "4b8f0dce"}))})),
            "graph.users": data(json!({"value": [
                {"id": U1, "userPrincipalName": "ra_cc_main@contoso.com", "accountEnabled": false},
                {"id": U2, "userPrincipalName": "agent1@contoso.com", "accountEnabled": true},
                {"id": U3, "userPrincipalName": "agent2@contoso.com", "accountEnabled": true}
            ]})),
            "graph.licenseDetails": data(json!({
                U1: {"value": items(4, |i| json!({"skuId": format!("sku-{i}")}))},
                U2: {"value": [{"skuId": "sku-a"}]}
            })),
            "graph.memberOf": data(json!({
                U1: {"value": []},
                U2: {"value": [{"@odata.type": "#microsoft.graph.group", "id": GROUP, "displayName": "CC Voice Agents"}]},
                U3: {"value": [{"@odata.type": "#microsoft.graph.group", "id": GROUP, "displayName": "CC Voice Agents"}]}
            })),
            "graph.userConfigurations": data(json!({"value": [{"id": U2, "userPrincipalName": "agent1@contoso.com", "isEnterpriseVoiceEnabled": true}]})),
            "graph.servicePrincipals": data(json!({"value": [
                {"id": "sp-0", "appId": "1fd5118e-2576-4263-8130-9503064c837a"},
                {"id": "sp-1", "appId": "aaaaaaaa-0000-0000-0000-000000000000"},
                {"id": "sp-2", "appId": "00000003-0000-0000-c000-000000000000"},
                {"id": "sp-3", "appId": "bbbbbbbb-0000-0000-0000-000000000000"}
            ]})),
            "graph.oauth2PermissionGrants": data(json!({"value": items(4, |i| json!({"id": format!("grant-{i}")}))})),
            "graph.roleAssignments": data(json!({"value": items(2, |i| json!({"id": format!("role-{i}")}))})),
            "graph.numberAssignments": data(json!({"value": items(7, |i| json!({"id": format!("num-{i}"), "telephoneNumber": format!("+1425555010{i}")}))})),
            "teams.TeamsAcsFederationConfiguration": data(json!([{"Identity": "Global", "EnableAcsUsers": true, "AllowedAcsResources": ["imm-0"]}])),
            "teams.ExternalAccessPolicy": error(403, "Forbidden", "The caller has no Teams administrator role."),
            "teams.TenantFederationSettings": data(json!({"Identity": "Global", "AllowFederatedUsers": true})),
            "teams.applicationInstances": data(json!({"applicationInstances": items(5, |i| json!({"objectId": format!("ai-{i}")})), "skipToken": null})),
            "teams.applicationInstanceAssociations": data(json!({
                U1: [{"Id": U1, "ConfigurationId": "cq-1", "ConfigurationType": "CallQueue", "CallPriority": 3}],
                U3: null
            })),
            "teams.telephoneNumbers": data(json!({"TelephoneNumbers": items(7, |i| json!({"TelephoneNumber": format!("+1425555020{i}")}))})),
            "teams.onlineUsers": data(json!({U1: {"ObjectId": U1, "UserPrincipalName": "ra_cc_main@contoso.com", "AccountType": "ResourceAccount"}})),
            "arm.subscriptions": data(json!({"value": [{"subscriptionId": SUB1}, {"subscriptionId": SUB2}], "count": {"type": "Total", "value": 2}})),
            "arm.communicationServices": data(json!({"value": [acs(0, SUB1), acs(1, SUB1), acs(2, SUB2)]})),
            "arm.eventSubscriptions": data(json!({ACS1.to_ascii_lowercase(): {"value": items(3, |i| json!({"name": format!("evt-{i}")}))}})),
            "dataverse.msdyn_ocphonenumbers": data(json!({"@odata.context": "dv", "value": items(7, |i| json!({"msdyn_ocphonenumberid": format!("pn-{i}")}))})),
            "dataverse.msdyn_occommunicationprovidersettings": error(403, "0x80040220", "Principal user is missing prvReadmsdyn_occommunicationprovidersetting privilege."),
            "compliance.InformationBarrierPolicy": data(json!({"@odata.context": "ib", "value": items(5, |i| json!({"Name": format!("ib-{i}")}))})),
            "compliance.PolicyConfig": data(json!({"InformationBarrierMode": "SingleSegment"}))
        }
    })
}

struct T {
    fake: FakeTenant,
    http: reqwest::Client,
}

struct Resp {
    status: u16,
    headers: HeaderMap,
    text: String,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
}

impl T {
    async fn start(options: FakeOptions) -> T {
        T::start_with(snapshot(), options).await
    }

    async fn start_with(snapshot: Value, options: FakeOptions) -> T {
        let fake = FakeTenant::start(snapshot, options)
            .await
            .expect("fake starts");
        T {
            fake,
            // Redirects are the fake's answers under test, and a Location may name a real
            // Microsoft host: never followed.
            http: client_builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
        }
    }

    fn scope(&self, svc: &str) -> String {
        if svc == "teams" {
            TEAMS_SCOPE.to_string()
        } else {
            format!("{}/.default", self.fake.url(svc))
        }
    }

    async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Resp {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let r = self
            .http
            .post(format!("{}{path}", self.fake.url("login")))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        resp(r).await
    }

    /// A client-credentials token request with a secret.
    async fn client_credentials(
        &self,
        tenant: &str,
        client_id: &str,
        secret: &str,
        scope: &str,
    ) -> Resp {
        self.post_form(
            &format!("/{tenant}/oauth2/v2.0/token"),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", client_id),
                ("client_secret", secret),
                ("scope", scope),
            ],
        )
        .await
    }

    async fn token(&self, svc: &str) -> String {
        let o = self.fake.options();
        let r = self
            .client_credentials(TID, &o.client_id, &o.client_secret, &self.scope(svc))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.json()["access_token"].as_str().unwrap().to_string()
    }

    /// GET `url` (absolute, or a path below the service's base URL).
    async fn get(&self, svc: &str, url: &str, token: &str) -> Resp {
        self.get_with(svc, url, token, &[]).await
    }

    async fn get_with(&self, svc: &str, url: &str, token: &str, headers: &[(&str, &str)]) -> Resp {
        let url = if url.starts_with("http") {
            url.to_string()
        } else {
            format!("{}{url}", self.fake.url(svc))
        };
        let mut req = self.http.get(url);
        if !token.is_empty() {
            req = req.bearer_auth(token);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        resp(req.send().await.unwrap()).await
    }

    async fn post_json(&self, svc: &str, url: &str, token: &str, body: &Value) -> Resp {
        let url = if url.starts_with("http") {
            url.to_string()
        } else {
            format!("{}{url}", self.fake.url(svc))
        };
        let r = self
            .http
            .post(url)
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap();
        resp(r).await
    }

    /// POSTs an InvokeCommand `body` to `first` (below the compliance base) and again to each
    /// `@odata.nextLink`, which must stay below `first`'s path; returns every `value` item.
    async fn invoke_pages(&self, first: &str, token: &str, body: &Value) -> Vec<Value> {
        let within = format!("{}{}", self.fake.url("compliance"), first);
        let mut url = first.to_string();
        let mut all = Vec::new();
        loop {
            let r = self.post_json("compliance", &url, token, body).await;
            assert_eq!(r.status, 200, "{}", r.text);
            let v = r.json();
            all.extend(v["value"].as_array().unwrap().iter().cloned());
            match v["@odata.nextLink"].as_str() {
                Some(next) => {
                    assert!(next.starts_with(&within), "{next} is not below {within}");
                    url = next.to_string();
                }
                None => return all,
            }
        }
    }

    /// Follows a `link_key` chain from `first`; returns every item of `array_key` and the
    /// number of pages. Panics on a repeated link.
    async fn collect(
        &self,
        svc: &str,
        first: &str,
        token: &str,
        array_key: &str,
        link_key: &str,
    ) -> (Vec<Value>, usize) {
        let mut url = first.to_string();
        let mut seen = HashSet::new();
        let mut all = Vec::new();
        let mut pages = 0;
        loop {
            assert!(seen.insert(url.clone()), "repeated link {url}");
            let r = self.get(svc, &url, token).await;
            assert_eq!(r.status, 200, "{url}: {}", r.text);
            let body = r.json();
            all.extend(body[array_key].as_array().unwrap().iter().cloned());
            pages += 1;
            match body.get(link_key).and_then(Value::as_str) {
                Some(next) => {
                    assert!(
                        next.starts_with(&self.fake.url(svc)),
                        "link {next} is not on the fake's {svc} prefix"
                    );
                    url = next.to_string();
                }
                None => return (all, pages),
            }
        }
    }
}

async fn resp(r: reqwest::Response) -> Resp {
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap_or_default();
    Resp {
        status,
        headers,
        text,
    }
}

fn ids(items: &[Value], key: &str) -> Vec<String> {
    items
        .iter()
        .map(|v| v[key].as_str().unwrap().to_string())
        .collect()
}

fn expect_ids(items: &[Value], key: &str, prefix: &str, n: usize) {
    let want: Vec<String> = (0..n).map(|i| format!("{prefix}{i}")).collect();
    assert_eq!(ids(items, key), want);
}

#[tokio::test]
async fn graph_next_link_paging_returns_every_item_once() {
    let t = T::start(FakeOptions::default()).await;
    let tok = t.token("graph").await;
    let (all, pages) = t
        .collect(
            "graph",
            "/beta/admin/teams/resourceAccounts?$top=100",
            &tok,
            "value",
            "@odata.nextLink",
        )
        .await;
    expect_ids(&all, "id", "ra-", 5);
    assert_eq!(pages, 2);
    // $top smaller than the page size caps the page.
    let (all, pages) = t
        .collect(
            "graph",
            "/v1.0/oauth2PermissionGrants?$top=1",
            &tok,
            "value",
            "@odata.nextLink",
        )
        .await;
    expect_ids(&all, "id", "grant-", 4);
    assert_eq!(pages, 4);
    // Filter on servicePrincipals, across pages.
    let url = "/v1.0/servicePrincipals?$filter=appId%20in%20('1fd5118e-2576-4263-8130-9503064c837a','00000003-0000-0000-c000-000000000000')&$select=id,appId";
    let (all, _) = t
        .collect("graph", url, &tok, "value", "@odata.nextLink")
        .await;
    assert_eq!(ids(&all, "id"), ["sp-0", "sp-2"]);
    let r = t
        .get(
            "graph",
            "/v1.0/servicePrincipals?$filter=appId eq '00000003-0000-0000-c000-000000000000'",
            &tok,
        )
        .await;
    assert_eq!(ids(r.json()["value"].as_array().unwrap(), "id"), ["sp-2"]);
    let r = t
        .get(
            "graph",
            "/v1.0/servicePrincipals?$filter=startswith(displayName,'a')",
            &tok,
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["code"], "Request_UnsupportedQuery");
    // The other wrapper members survive paging.
    let r = t.get("graph", "/v1.0/organization", &tok).await;
    assert_eq!(r.json()["@odata.context"], "ctx");
    assert!(r.headers.contains_key("request-id"));
    let r = t
        .get(
            "graph",
            "/v1.0/oauth2PermissionGrants?$skiptoken=garbage",
            &tok,
        )
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn graph_number_assignments_top_skip_paging() {
    let t = T::start(FakeOptions::default()).await;
    let tok = t.token("graph").await;
    let base = "/v1.0/admin/teams/telephoneNumberManagement/numberAssignments";
    // Pure $top/$skip: exactly $top rows per page until a short page.
    let mut all = Vec::new();
    let mut skip = 0;
    loop {
        let r = t
            .get("graph", &format!("{base}?$top=2&$skip={skip}"), &tok)
            .await;
        let page = r.json()["value"].as_array().unwrap().clone();
        assert!(r.json().get("@odata.nextLink").is_none());
        let n = page.len();
        all.extend(page);
        if n < 2 {
            break;
        }
        skip += 2;
    }
    expect_ids(&all, "id", "num-", 7);
    // $top larger than the page size: pages of page_size with an @odata.nextLink.
    let (all, pages) = t
        .collect(
            "graph",
            &format!("{base}?$top=1000&$skip=0"),
            &tok,
            "value",
            "@odata.nextLink",
        )
        .await;
    expect_ids(&all, "id", "num-", 7);
    assert_eq!(pages, 3);
    let big = T::start(FakeOptions {
        page_size: 5000,
        ..FakeOptions::default()
    })
    .await;
    let tok = big.token("graph").await;
    let r = big
        .get("graph", &format!("{base}?$top=1000&$skip=0"), &tok)
        .await;
    assert_eq!(r.json()["value"].as_array().unwrap().len(), 7);
    assert!(r.json().get("@odata.nextLink").is_none());
}

#[tokio::test]
async fn graph_per_user_facts_and_group_members() {
    let t = T::start(FakeOptions::default()).await;
    let tok = t.token("graph").await;
    let r = t
        .get(
            "graph",
            &format!("/v1.0/users/{U2}?$select=id,userPrincipalName"),
            &tok,
        )
        .await;
    assert_eq!(r.json()["userPrincipalName"], "agent1@contoso.com");
    let r = t
        .get("graph", "/v1.0/users/AGENT2%40contoso.com", &tok)
        .await;
    assert_eq!(r.json()["id"], U3);
    let r = t.get("graph", "/v1.0/users/nobody@contoso.com", &tok).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"]["code"], "Request_ResourceNotFound");
    let (all, pages) = t
        .collect(
            "graph",
            &format!("/v1.0/users/{U1}/licenseDetails"),
            &tok,
            "value",
            "@odata.nextLink",
        )
        .await;
    expect_ids(&all, "skuId", "sku-", 4);
    assert_eq!(pages, 2);
    // Known user without an entry: empty collection. Unknown: 404.
    let r = t
        .get("graph", &format!("/v1.0/users/{U3}/licenseDetails"), &tok)
        .await;
    assert_eq!(r.json()["value"], json!([]));
    let r = t
        .get(
            "graph",
            "/v1.0/users/00000000-0000-0000-0000-000000000000/licenseDetails",
            &tok,
        )
        .await;
    assert_eq!(r.status, 404);
    let r = t.get("graph", &format!("/v1.0/users/{U2}/transitiveMemberOf/microsoft.graph.group?$select=id,displayName,mail"), &tok).await;
    assert_eq!(r.json()["value"][0]["id"], GROUP);
    let r = t
        .get(
            "graph",
            &format!("/v1.0/admin/teams/userConfigurations/{U2}"),
            &tok,
        )
        .await;
    assert_eq!(r.json()["isEnterpriseVoiceEnabled"], true);
    let r = t
        .get(
            "graph",
            &format!("/v1.0/admin/teams/userConfigurations/{U1}"),
            &tok,
        )
        .await;
    assert_eq!(r.status, 404);
    let r = t.get("graph", &format!("/v1.0/groups/{GROUP}/members/microsoft.graph.user?$select=id,userPrincipalName&$top=999"), &tok).await;
    let members = r.json();
    let upns: Vec<&str> = members["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userPrincipalName"].as_str().unwrap())
        .collect();
    assert_eq!(upns, ["agent1@contoso.com", "agent2@contoso.com"]);
    let r = t.get("graph", "/v1.0/groups/unknown/members", &tok).await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn teams_paging_skip_token_and_skip_top() {
    let t = T::start(FakeOptions::default()).await;
    let tok = t.token("teams").await;
    // ApplicationInstances: skipToken in the body.
    let mut all = Vec::new();
    let mut url = "/Teams.PlatformService/v2/ApplicationInstances?pageSize=100".to_string();
    let mut pages = 0;
    loop {
        let r = t.get("teams", &url, &tok).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let body = r.json();
        all.extend(
            body["applicationInstances"]
                .as_array()
                .unwrap()
                .iter()
                .cloned(),
        );
        pages += 1;
        match body["skipToken"].as_str() {
            Some(tok) => {
                url = format!(
                    "/Teams.PlatformService/v2/ApplicationInstances?pageSize=100&skipToken={tok}"
                )
            }
            None => {
                assert!(body["skipToken"].is_null());
                break;
            }
        }
    }
    expect_ids(&all, "objectId", "ai-", 5);
    assert_eq!(pages, 2);
    // telephone-numbers: skip/top, a full page (= top rows) means ask again.
    let tnm = [(
        "x-ms-tnm-applicationid",
        "045268c0-445e-4ac1-9157-d58f67b167d9",
    )];
    let mut all = Vec::new();
    let mut skip = 0;
    let mut requests = 0;
    loop {
        let r = t.get_with("teams", &format!("/Skype.TelephoneNumberMgmt/Tenants/{TID}/telephone-numbers?skip={skip}&locale=en-US&top=3"), &tok, &tnm).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let page = r.json()["TelephoneNumbers"].as_array().unwrap().clone();
        requests += 1;
        let n = page.len();
        all.extend(page);
        if n < 3 {
            break;
        }
        skip += 3;
    }
    expect_ids(&all, "TelephoneNumber", "+1425555020", 7);
    assert_eq!(requests, 3);
    let r = t
        .get(
            "teams",
            &format!("/Skype.TelephoneNumberMgmt/Tenants/{TID}/telephone-numbers?skip=0&top=999"),
            &tok,
        )
        .await;
    assert_eq!(r.status, 400, "x-ms-tnm-applicationid is required");
    let r = t
        .get_with(
            "teams",
            "/Skype.TelephoneNumberMgmt/Tenants/someone-else/telephone-numbers?skip=0&top=999",
            &tok,
            &tnm,
        )
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn teams_policies_and_per_object_facts() {
    let t = T::start(FakeOptions::default()).await;
    let tok = t.token("teams").await;
    let r = t
        .get(
            "teams",
            "/Skype.Policy/configurations/TeamsAcsFederationConfiguration",
            &tok,
        )
        .await;
    assert_eq!(
        r.json()[0]["EnableAcsUsers"],
        true,
        "array served as stored"
    );
    let r = t
        .get(
            "teams",
            "/Skype.Policy/configurations/TenantFederationSettings",
            &tok,
        )
        .await;
    assert_eq!(r.json()["Identity"], "Global", "object served as stored");
    let r = t
        .get(
            "teams",
            "/Skype.Policy/configurations/TeamsAcsFederationConfiguration/configuration/global",
            &tok,
        )
        .await;
    assert_eq!(r.json()["Identity"], "Global");
    let r = t
        .get(
            "teams",
            &format!("/Teams.VoiceApps/applicationinstanceassociations/{U1}"),
            &tok,
        )
        .await;
    assert_eq!(r.json()[0]["ConfigurationType"], "CallQueue");
    for missing in [U3, U2] {
        let r = t
            .get(
                "teams",
                &format!("/Teams.VoiceApps/applicationinstanceassociations/{missing}"),
                &tok,
            )
            .await;
        assert_eq!(r.status, 404, "null or absent = none");
        assert_eq!(r.json()["error"]["code"], "NotFound");
    }
    let r = t
        .get("teams", "/Teams.User/users/RA_CC_MAIN@contoso.com", &tok)
        .await;
    assert_eq!(r.json()["ObjectId"], U1);
    let r = t
        .get("teams", &format!("/Teams.User/users/{U2}"), &tok)
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn arm_next_link_paging() {
    let t = T::start(FakeOptions {
        page_size: 1,
        ..FakeOptions::default()
    })
    .await;
    let tok = t.token("arm").await;
    let (all, pages) = t
        .collect(
            "arm",
            "/subscriptions?api-version=2022-12-01",
            &tok,
            "value",
            "nextLink",
        )
        .await;
    assert_eq!(ids(&all, "subscriptionId"), [SUB1, SUB2]);
    assert_eq!(pages, 2);
    let url = format!(
        "/subscriptions/{SUB1}/providers/Microsoft.Communication/communicationServices?api-version=2023-04-01"
    );
    let (all, _) = t.collect("arm", &url, &tok, "value", "nextLink").await;
    assert_eq!(all.len(), 2, "only the subscription's own resources");
    let first = t.get("arm", &url, &tok).await;
    assert!(
        first.json()["nextLink"]
            .as_str()
            .unwrap()
            .contains("api-version=2023-04-01")
    );
    assert!(first.headers.contains_key("x-ms-request-id"));
    let url =
        format!("{ACS1}/providers/Microsoft.EventGrid/eventSubscriptions?api-version=2025-02-15");
    let (all, pages) = t.collect("arm", &url, &tok, "value", "nextLink").await;
    expect_ids(&all, "name", "evt-", 3);
    assert_eq!(pages, 3);
    // A known ACS resource without subscriptions: empty list. Unknown: 404.
    let other = ACS1.replace("acs-one", "acs-two");
    let r = t
        .get(
            "arm",
            &format!(
                "{other}/providers/Microsoft.EventGrid/eventSubscriptions?api-version=2025-02-15"
            ),
            &tok,
        )
        .await;
    assert_eq!(r.json()["value"], json!([]));
    let r = t
        .get(
            "arm",
            &format!(
                "{}/providers/Microsoft.EventGrid/eventSubscriptions?api-version=2025-02-15",
                ACS1.replace("acs-one", "nope")
            ),
            &tok,
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"]["code"], "ResourceNotFound");
    let r = t.get("arm", "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Communication/communicationServices?api-version=2023-04-01", &tok).await;
    assert_eq!(r.json()["error"]["code"], "SubscriptionNotFound");
    let r = t.get("arm", "/subscriptions", &tok).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["code"], "MissingApiVersionParameter");
}

#[tokio::test]
async fn dataverse_paging_honours_prefer_maxpagesize() {
    let t = T::start(FakeOptions {
        page_size: 100,
        ..FakeOptions::default()
    })
    .await;
    let tok = t.token("dataverse").await;
    let prefer = [("Prefer", "odata.maxpagesize=2")];
    let mut url =
        "/api/data/v9.2/msdyn_ocphonenumbers?$select=msdyn_ocphonenumberid,msdyn_name".to_string();
    let mut all = Vec::new();
    let mut pages = 0;
    loop {
        let r = t.get_with("dataverse", &url, &tok, &prefer).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.headers["preference-applied"], "odata.maxpagesize=2");
        let body = r.json();
        assert_eq!(body["@odata.context"], "dv");
        all.extend(body["value"].as_array().unwrap().iter().cloned());
        pages += 1;
        match body["@odata.nextLink"].as_str() {
            Some(next) => {
                assert!(next.contains("$skiptoken=%3Ccookie%20pagenumber"), "{next}");
                assert!(next.contains("$select=msdyn_ocphonenumberid,msdyn_name"));
                url = next.to_string();
            }
            None => break,
        }
    }
    expect_ids(&all, "msdyn_ocphonenumberid", "pn-", 7);
    assert_eq!(pages, 4);
    // Without Prefer: the fake's page size (5000 cap).
    let r = t
        .get("dataverse", "/api/data/v9.2/msdyn_ocphonenumbers", &tok)
        .await;
    assert_eq!(r.json()["value"].as_array().unwrap().len(), 7);
    let r = t
        .get(
            "dataverse",
            "/api/data/v9.2/msdyn_ocphonenumbers?$skip=2",
            &tok,
        )
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn compliance_invoke_command() {
    let t = T::start(FakeOptions {
        page_size: 2,
        ..FakeOptions::default()
    })
    .await;
    let tok = t.token("compliance").await;
    let path = format!("/adminapi/beta/{TID}/InvokeCommand");
    let body =
        json!({"CmdletInput": {"CmdletName": "Get-InformationBarrierPolicy", "Parameters": {}}});
    let all = t.invoke_pages(&path, &tok, &body).await;
    expect_ids(&all, "Name", "ib-", 5);
    let r = t
        .post_json(
            "compliance",
            &path,
            &tok,
            &json!({"CmdletInput": {"CmdletName": "Get-PolicyConfig", "Parameters": {}}}),
        )
        .await;
    assert_eq!(r.json()["InformationBarrierMode"], "SingleSegment");
    let r = t
        .post_json(
            "compliance",
            &path,
            &tok,
            &json!({"CmdletInput": {"CmdletName": "Get-OrganizationSegment"}}),
        )
        .await;
    assert_eq!(r.status, 404);
    let r = t.post_json("compliance", &path, &tok, &json!({"CmdletInput": {"CmdletName": "Set-InformationBarrierPolicy", "Parameters": {}}})).await;
    assert_eq!(r.status, 400);
    let r = t.get("compliance", &path, &tok).await;
    assert_eq!(r.status, 405);
    let log = t.fake.requests();
    let invokes: Vec<&str> = log
        .iter()
        .filter(|r| r.service == "compliance")
        .flat_map(|r| r.detail.iter().map(String::as_str))
        .collect();
    assert!(invokes.contains(&"Set-InformationBarrierPolicy"));
}

#[tokio::test]
async fn compliance_redirect_sends_the_front_door_to_the_regional_stand_in() {
    let t = T::start(FakeOptions {
        page_size: 2,
        faults: Faults::default()
            .compliance_redirect("https://nam13b.admin.protection.outlook.com:446/"),
        ..FakeOptions::default()
    })
    .await;
    let tok = t.token("compliance").await;
    let body =
        json!({"CmdletInput": {"CmdletName": "Get-InformationBarrierPolicy", "Parameters": {}}});
    let front = format!("/adminapi/beta/{TID}/InvokeCommand");
    let r = t.post_json("compliance", &front, &tok, &body).await;
    assert_eq!(r.status, 302, "{}", r.text);
    assert_eq!(
        r.headers["location"],
        format!(
            "https://nam13b.admin.protection.outlook.com:446/adminapi/beta/{TID}/InvokeCommand"
        )
    );
    // The regional stand-in serves the cmdlet, its next links stay on it.
    let regional = format!("/regions/nam13b/adminapi/beta/{TID}/InvokeCommand");
    let all = t.invoke_pages(&regional, &tok, &body).await;
    expect_ids(&all, "Name", "ib-", 5);
    assert_eq!(t.get("compliance", &regional, &tok).await.status, 405);
    let log = t.fake.requests();
    assert_eq!(
        log[1].fault.as_deref(),
        Some("compliance_redirect"),
        "{:?}",
        log[1]
    );
    assert_eq!(log[1].detail, Vec::<String>::new());
}

#[tokio::test]
async fn legacy_application_instances_only_is_404_on_the_current_path() {
    let t = T::start(FakeOptions {
        faults: Faults::default().legacy_application_instances_only(),
        page_size: 100,
        ..FakeOptions::default()
    })
    .await;
    let tok = t.token("teams").await;
    let current = "/Teams.PlatformService/v2/ApplicationInstances?pageSize=100";
    let r = t.get("teams", current, &tok).await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(r.json()["error"]["code"], "NotFound");
    let legacy = "/Teams.PlatformService/v2/Legacy/ApplicationInstances?pageSize=100";
    let r = t.get("teams", legacy, &tok).await;
    assert_eq!(r.status, 200, "{}", r.text);
    expect_ids(
        r.json()["applicationInstances"].as_array().unwrap(),
        "objectId",
        "ai-",
        5,
    );
}

#[tokio::test]
async fn real_shape_switches_reshape_users_configurations_and_numbers() {
    let mut snap = snapshot();
    snap["facts"]["teams.onlineUsers"]["data"][U1] = json!({
        "ObjectId": U1, "UserPrincipalName": "ra_cc_main@contoso.com", "AccountType": "ResourceAccount",
        "EnterpriseVoiceEnabled": true, "FeatureTypes": ["VoiceApp"], "TeamsUpgradeEffectiveMode": "TeamsOnly",
        "ExternalAccessPolicy": null, "OnlineVoiceRoutingPolicy": "Tag:CC-DR"
    });
    snap["facts"]["teams.telephoneNumbers"]["data"]["TelephoneNumbers"][0] = json!({
        "TelephoneNumber": "+14255550200", "TargetId": U1, "Capability": ["VoiceApplicationAssignment"],
        "ActivationState": "Activated", "PstnAssignmentStatus": "VoiceApplicationAssigned",
        "AcquisitionDate": "2025-06-01T12:00:00Z"
    });
    let t = T::start_with(
        snap,
        FakeOptions {
            faults: Faults::default()
                .rest_online_users()
                .wrapped_user_configurations()
                .sparse_telephone_numbers(),
            ..FakeOptions::default()
        },
    )
    .await;

    // a: the Teams admin API's REST body, by id or UPN; an unknown user is still 404.
    let teams = t.token("teams").await;
    for key in [U1, "RA_CC_MAIN@contoso.com"] {
        let r = t
            .get("teams", &format!("/Teams.User/users/{key}"), &teams)
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let body = r.json();
        let users = body["users"].as_array().unwrap();
        assert_eq!(users.len(), 1);
        let u = &users[0];
        assert_eq!(u["objectId"], U1);
        assert_eq!(u["userPrincipalName"], "ra_cc_main@contoso.com");
        assert_eq!(u["accountType"], "ResourceAccount");
        assert_eq!(u["enterpriseVoiceEnabled"], true);
        assert_eq!(u["teamsUpgradeEffectiveMode"], "TeamsOnly");
        assert!(u.get("ExternalAccessPolicy").is_none(), "{u}");
        assert_eq!(
            u["effectivePolicyAssignments"],
            json!([
                {"policyType": "ExternalAccessPolicy", "policyAssignment": {"assignmentType": "Direct", "authority": "Tenant", "displayName": "Global", "policyId": "Not Yet Supported."}},
                {"policyType": "OnlineVoiceRoutingPolicy", "policyAssignment": {"assignmentType": "Direct", "authority": "Tenant", "displayName": "CC-DR", "policyId": "Not Yet Supported."}}
            ])
        );
    }
    let r = t
        .get("teams", &format!("/Teams.User/users/{U2}"), &teams)
        .await;
    assert_eq!(r.status, 404);

    // b: `{"value": {…}}`, directly and as a `$batch` part; the list is unchanged.
    let graph = t.token("graph").await;
    let r = t
        .get(
            "graph",
            &format!("/v1.0/admin/teams/userConfigurations/{U2}"),
            &graph,
        )
        .await;
    let body = r.json();
    assert_eq!(body["value"]["id"], U2);
    assert_eq!(body["value"]["isEnterpriseVoiceEnabled"], true);
    assert!(
        body["value"]["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("/$entity")
    );
    let batch = json!({"requests": [{"id": "1", "method": "GET", "url": format!("/admin/teams/userConfigurations/{U2}")}]});
    let r = t.post_json("graph", "/v1.0/$batch", &graph, &batch).await;
    assert_eq!(r.json()["responses"][0]["body"]["value"]["id"], U2);
    let r = t
        .get("graph", "/v1.0/admin/teams/userConfigurations", &graph)
        .await;
    assert_eq!(r.json()["value"][0]["id"], U2);

    // c: rows with only TelephoneNumber, TargetId, AcquisitionDate.
    let tnm = [(
        "x-ms-tnm-applicationid",
        "045268c0-445e-4ac1-9157-d58f67b167d9",
    )];
    let r = t
        .get_with(
            "teams",
            &format!("/Skype.TelephoneNumberMgmt/Tenants/{TID}/telephone-numbers?skip=0&top=999"),
            &teams,
            &tnm,
        )
        .await;
    let rows = r.json()["TelephoneNumbers"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 7);
    assert_eq!(
        rows[0],
        json!({"TelephoneNumber": "+14255550200", "TargetId": U1, "AcquisitionDate": "2025-06-01T12:00:00Z"})
    );
    let log = t.fake.requests();
    for fault in [
        "rest_online_users",
        "wrapped_user_configurations",
        "sparse_telephone_numbers",
    ] {
        assert!(
            log.iter().any(|r| r.fault.as_deref() == Some(fault)),
            "{fault} logged: {log:?}"
        );
    }
}

#[tokio::test]
async fn error_records_and_absent_facts_use_each_services_shape() {
    let t = T::start(FakeOptions::default()).await;
    let graph = t.token("graph").await;
    let r = t.get("graph", "/v1.0/subscribedSkus", &graph).await;
    assert_eq!(r.status, 403);
    let e = &r.json()["error"];
    assert_eq!(e["code"], "Authorization_RequestDenied");
    assert_eq!(
        e["message"],
        "Insufficient privileges to complete the operation."
    );
    assert!(e["innerError"]["request-id"].is_string() && e["innerError"]["date"].is_string());
    let r = t.get("graph", "/v1.0/nothingHere", &graph).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"]["code"], "Request_ResourceNotFound");

    let teams = t.token("teams").await;
    let r = t
        .get(
            "teams",
            "/Skype.Policy/configurations/ExternalAccessPolicy",
            &teams,
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.json(),
        json!({"error": {"code": "Forbidden", "message": "The caller has no Teams administrator role."}})
    );
    let r = t
        .get(
            "teams",
            "/Skype.Policy/configurations/TeamsMeetingPolicy",
            &teams,
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"]["code"], "NotFound");

    let dv = t.token("dataverse").await;
    let r = t
        .get(
            "dataverse",
            "/api/data/v9.2/msdyn_occommunicationprovidersettings",
            &dv,
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["error"]["code"], "0x80040220");
    let r = t
        .get(
            "dataverse",
            "/api/data/v9.2/msdyn_ocvoicechannelsettings",
            &dv,
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"]["code"], "0x80060888");
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("msdyn_ocvoicechannelsettings")
    );

    let arm = t.token("arm").await;
    let r = t
        .get(
            "arm",
            "/subscriptions/x/resourceGroups/y?api-version=1",
            &arm,
        )
        .await;
    assert_eq!(r.status, 404);
    assert!(r.json()["error"]["code"].is_string() && r.json()["error"].get("innerError").is_none());
}

fn jwt(header: Value, claims: Value) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(b"not-a-real-signature")
    )
}

#[tokio::test]
async fn tokens_are_required_and_bound_to_their_audience() {
    let t = T::start(FakeOptions {
        token_lifetime: Duration::from_secs(1),
        ..FakeOptions::default()
    })
    .await;
    let r = t.get("graph", "/v1.0/organization", "").await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"]["code"], "InvalidAuthenticationToken");
    assert_eq!(r.json()["error"]["message"], "Access token is empty.");
    assert!(r.headers.contains_key("www-authenticate"));
    let r = t.get("graph", "/v1.0/organization", "made-up").await;
    assert_eq!(r.status, 401);
    let teams = t.token("teams").await;
    let r = t.get("graph", "/v1.0/organization", &teams).await;
    assert_eq!(r.status, 401, "a Teams token is not a Graph token");
    let r = t
        .get(
            "teams",
            "/Skype.Policy/configurations/TenantFederationSettings",
            &teams,
        )
        .await;
    assert_eq!(r.status, 200);
    // Every service accepts only its own audience.
    for svc in ["graph", "arm", "dataverse"] {
        let tok = t.token(svc).await;
        let path = match svc {
            "graph" => "/v1.0/organization",
            "arm" => "/subscriptions?api-version=2022-12-01",
            _ => "/api/data/v9.2/msdyn_ocphonenumbers",
        };
        assert_eq!(t.get(svc, path, &tok).await.status, 200);
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = t
        .get(
            "teams",
            "/Skype.Policy/configurations/TenantFederationSettings",
            &teams,
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.json()["error"]["message"],
        "Lifetime validation failed, the token is expired."
    );
    let log = t.fake.requests();
    assert_eq!(
        log.iter()
            .filter(|r| r.fault.as_deref() == Some("auth_expired_token"))
            .count(),
        1
    );
}

#[tokio::test]
async fn token_endpoint_errors_and_client_assertions() {
    let t = T::start(FakeOptions::default()).await;
    let path = format!("/{TID}/oauth2/v2.0/token");
    let id = t.fake.options().client_id.clone();
    let scope = t.scope("graph");
    let r = t.client_credentials(TID, &id, "wrong", &scope).await;
    assert_eq!(r.status, 401);
    let b = r.json();
    assert_eq!(b["error"], "invalid_client");
    assert_eq!(b["error_codes"], json!([7000215]));
    assert!(
        b["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS7000215: ")
    );
    for field in ["timestamp", "trace_id", "correlation_id", "error_uri"] {
        assert!(b[field].is_string(), "{field}");
    }
    let r = t.client_credentials(TID, "someone-else", "x", &scope).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "unauthorized_client");
    assert_eq!(r.json()["error_codes"], json!([700016]));
    let r = t
        .client_credentials(TID, &id, "x", "http://127.0.0.1:1/.default")
        .await;
    assert_eq!(r.json()["error"], "invalid_resource");
    let r = t
        .client_credentials(TID, &id, "x", "https://graph.microsoft.com/User.Read")
        .await;
    assert_eq!(r.json()["error"], "invalid_scope");
    let r = t
        .post_form(
            "/not-my-tenant/oauth2/v2.0/token",
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(r.json()["error_codes"], json!([90002]));
    // A verified domain works as the tenant.
    let secret = t.fake.options().client_secret.clone();
    let r = t
        .client_credentials("contoso.onmicrosoft.com", &id, &secret, TEAMS_SCOPE)
        .await;
    assert_eq!(r.status, 200);
    assert!(r.json()["expires_in"].as_u64().unwrap() > 3000);

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = json!({"iss": id, "sub": id, "aud": "x/oauth2/v2.0/token", "jti": "j", "nbf": now, "iat": now, "exp": now + 600});
    let assertion_type = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
    let try_assertion = |a: String| {
        let t = &t;
        let path = path.clone();
        let id = id.clone();
        let scope = scope.clone();
        async move {
            t.post_form(
                &path,
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", &id),
                    ("client_assertion_type", assertion_type),
                    ("client_assertion", &a),
                    ("scope", &scope),
                ],
            )
            .await
        }
    };
    let ok = try_assertion(jwt(
        json!({"alg": "PS256", "typ": "JWT", "x5t#S256": "abc"}),
        claims.clone(),
    ))
    .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    let ok = try_assertion(jwt(json!({"alg": "RS256", "x5t": "abc"}), claims.clone())).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    let no_thumb = try_assertion(jwt(json!({"alg": "RS256"}), claims.clone())).await;
    assert_eq!(no_thumb.json()["error_codes"], json!([700027]));
    let mut wrong_iss = claims.clone();
    wrong_iss["iss"] = json!("other");
    assert_eq!(
        try_assertion(jwt(json!({"alg": "RS256", "x5t": "a"}), wrong_iss))
            .await
            .status,
        401
    );
    let mut expired = claims.clone();
    expired["exp"] = json!(now - 10);
    assert_eq!(
        try_assertion(jwt(json!({"alg": "RS256", "x5t": "a"}), expired))
            .await
            .json()["error_codes"],
        json!([700024])
    );
    assert_eq!(try_assertion("garbage".into()).await.status, 401);
}

#[tokio::test]
async fn device_code_flow_with_pending_slow_down_and_refresh() {
    let t = T::start(FakeOptions {
        device_code: DeviceCodeOptions {
            pending_polls: 2,
            slow_down: true,
            interval: Duration::ZERO,
            ..DeviceCodeOptions::default()
        },
        ..FakeOptions::default()
    })
    .await;
    let client = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
    let scope = format!("{} offline_access", t.scope("graph"));
    let r = t
        .post_form(
            &format!("/{TID}/oauth2/v2.0/devicecode"),
            &[("client_id", client), ("scope", &scope)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let dc = r.json();
    for field in ["user_code", "device_code", "verification_uri", "message"] {
        assert!(dc[field].is_string(), "{field}");
    }
    assert_eq!(dc["interval"], 0);
    let code = dc["device_code"].as_str().unwrap();
    let token_path = format!("/{TID}/oauth2/v2.0/token");
    let poll_form = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("client_id", client),
        ("device_code", code),
    ];
    let poll = || t.post_form(&token_path, &poll_form);
    let mut answers = Vec::new();
    let body = loop {
        let r = poll().await;
        if r.status == 200 {
            break r.json();
        }
        assert_eq!(r.status, 400);
        answers.push(r.json()["error"].as_str().unwrap().to_string());
        assert!(answers.len() < 10);
    };
    assert_eq!(
        answers,
        [
            "slow_down",
            "authorization_pending",
            "authorization_pending"
        ]
    );
    let graph = body["access_token"].as_str().unwrap();
    assert_eq!(
        t.get("graph", "/v1.0/organization", graph).await.status,
        200
    );
    assert_eq!(
        poll().await.json()["error"],
        "bad_verification_code",
        "a device code is redeemed once"
    );
    // The refresh token buys tokens for the other audiences.
    let refresh = body["refresh_token"].as_str().unwrap();
    let r = t
        .post_form(
            &format!("/{TID}/oauth2/v2.0/token"),
            &[
                ("grant_type", "refresh_token"),
                ("client_id", client),
                ("refresh_token", refresh),
                ("scope", TEAMS_SCOPE),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let teams = r.json()["access_token"].as_str().unwrap().to_string();
    assert_eq!(
        t.get(
            "teams",
            "/Skype.Policy/configurations/TenantFederationSettings",
            &teams
        )
        .await
        .status,
        200
    );
}

#[tokio::test]
async fn batch_dispatches_get_parts() {
    let t = T::start(FakeOptions::default()).await;
    let tok = t.token("graph").await;
    let body = json!({"requests": [
        {"id": "1", "method": "GET", "url": format!("/users/{U2}?$select=id,userPrincipalName")},
        {"id": "2", "method": "GET", "url": format!("/users/{U1}/licenseDetails")},
        {"id": "3", "method": "GET", "url": format!("admin/teams/userConfigurations/{U2}")},
        {"id": "4", "method": "GET", "url": "/users/ghost@contoso.com"}
    ]});
    let r = t.post_json("graph", "/v1.0/$batch", &tok, &body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let responses = r.json()["responses"].as_array().unwrap().clone();
    assert_eq!(responses.len(), 4);
    assert_eq!(responses[0]["id"], "1");
    assert_eq!(responses[0]["status"], 200);
    assert_eq!(
        responses[0]["body"]["userPrincipalName"],
        "agent1@contoso.com"
    );
    assert_eq!(responses[1]["body"]["value"].as_array().unwrap().len(), 3);
    let next = responses[1]["body"]["@odata.nextLink"].as_str().unwrap();
    assert!(
        next.starts_with(&format!("{}/v1.0/users/", t.fake.url("graph"))),
        "{next}"
    );
    let rest = t.get("graph", next, &tok).await;
    assert_eq!(rest.json()["value"].as_array().unwrap().len(), 1);
    assert_eq!(responses[2]["body"]["isEnterpriseVoiceEnabled"], true);
    assert_eq!(responses[3]["status"], 404);
    assert_eq!(
        responses[3]["body"]["error"]["code"],
        "Request_ResourceNotFound"
    );
    let log = t.fake.requests();
    let batch = log.iter().find(|r| r.path == "/v1.0/$batch").unwrap();
    assert_eq!(batch.method, "POST");
    assert_eq!(batch.detail.len(), 4);

    let write =
        json!({"requests": [{"id": "1", "method": "PATCH", "url": "/users/x", "body": {}}]});
    assert_eq!(
        t.post_json("graph", "/v1.0/$batch", &tok, &write)
            .await
            .status,
        400
    );
    let many: Vec<Value> = (0..21)
        .map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/organization"}))
        .collect();
    assert_eq!(
        t.post_json("graph", "/v1.0/$batch", &tok, &json!({"requests": many}))
            .await
            .status,
        400
    );
    let dup = json!({"requests": [{"id": "1", "method": "GET", "url": "/organization"}, {"id": "1", "method": "GET", "url": "/organization"}]});
    assert_eq!(
        t.post_json("graph", "/v1.0/$batch", &tok, &dup)
            .await
            .status,
        400
    );
    let r = t
        .http
        .post(format!("{}/v1.0/$batch", t.fake.url("graph")))
        .bearer_auth(&tok)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn batch_parts_can_be_throttled() {
    let faults = Faults::default().random(1.0, 0.0, 7);
    let t = T::start(FakeOptions {
        faults: Faults {
            max_random_faults_per_url: 1,
            ..faults
        },
        ..FakeOptions::default()
    })
    .await;
    let tok = t.token("graph").await;
    let body = json!({"requests": [{"id": "a", "method": "GET", "url": "/organization"}]});
    // Odd attempts: the batch itself is throttled; the 2nd: its part; the 4th: all served.
    let first = t.post_json("graph", "/v1.0/$batch", &tok, &body).await;
    assert_eq!(first.status, 429);
    let second = t.post_json("graph", "/v1.0/$batch", &tok, &body).await;
    assert_eq!(second.status, 200);
    let part = &second.json()["responses"][0];
    assert_eq!(part["status"], 429);
    assert!(part["headers"]["Retry-After"].is_string());
    assert_eq!(part["body"]["error"]["code"], "TooManyRequests");
    assert_eq!(
        t.post_json("graph", "/v1.0/$batch", &tok, &body)
            .await
            .status,
        429
    );
    let fourth = t.post_json("graph", "/v1.0/$batch", &tok, &body).await;
    assert_eq!(fourth.json()["responses"][0]["status"], 200);
    assert_eq!(fourth.json()["responses"][0]["body"]["value"][0]["id"], TID);
}

#[tokio::test]
async fn only_get_and_allow_listed_posts_are_served() {
    let t = T::start(FakeOptions::default()).await;
    let tok = t.token("graph").await;
    for method in ["PUT", "PATCH", "DELETE", "POST"] {
        let r = t
            .http
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{}/v1.0/organization", t.fake.url("graph")),
            )
            .bearer_auth(&tok)
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 405, "{method}");
        assert_eq!(r.headers()["allow"], "GET");
    }
    let teams = t.token("teams").await;
    let r = t
        .http
        .put(format!(
            "{}/Skype.Policy/configurations/TeamsAcsFederationConfiguration/configuration/Global",
            t.fake.url("teams")
        ))
        .bearer_auth(&teams)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    let r = t.http.post(format!("{}/api/data/v9.2/msdyn_occommunicationprovidersettings(1)/Microsoft.Dynamics.CRM.CCaaS_SynchronizePhoneNumbers", t.fake.url("dataverse"))).body("{}").send().await.unwrap();
    assert_eq!(r.status(), 405);
    let r = t.get("graph", "/v1.0/$batch", &tok).await;
    assert_eq!(r.status, 405);
    assert_eq!(r.headers["allow"], "POST");
    let r = t
        .http
        .get(format!("{}/{TID}/oauth2/v2.0/token", t.fake.url("login")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    let r = t
        .http
        .get(format!("{}/elsewhere", t.fake.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    let log = t.fake.requests();
    let refused: Vec<_> = log.iter().filter(|r| r.status == 405).collect();
    assert_eq!(refused.len(), 8);
    assert!(
        refused
            .iter()
            .all(|r| r.fault.as_deref() == Some("method_not_allowed"))
    );
    assert!(
        log.iter().any(|r| r.method == "DELETE"
            && r.service == "graph"
            && r.path == "/v1.0/organization")
    );
    let writes = log
        .iter()
        .filter(|r| r.method != "GET" && r.method != "POST")
        .count();
    assert_eq!(
        writes, 4,
        "PUT, PATCH, DELETE on graph and PUT on teams are logged"
    );
}

#[tokio::test]
async fn persistent_service_status_and_random_faults() {
    let t = T::start(FakeOptions {
        faults: Faults::default()
            .service_status("teams", 403)
            .service_status("arm", 503),
        ..FakeOptions::default()
    })
    .await;
    let teams = t.token("teams").await;
    let r = t
        .get(
            "teams",
            "/Skype.Policy/configurations/TenantFederationSettings",
            &teams,
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["error"]["code"], "Forbidden");
    let arm = t.token("arm").await;
    let r = t
        .get("arm", "/subscriptions?api-version=2022-12-01", &arm)
        .await;
    assert_eq!(r.status, 503);
    let graph = t.token("graph").await;
    assert_eq!(
        t.get("graph", "/v1.0/organization", &graph).await.status,
        200
    );

    // 100% throttling: every URL is faulted at most max_random_faults_per_url times in a row.
    let t = T::start(FakeOptions {
        faults: Faults::default().random(1.0, 0.0, 42),
        ..FakeOptions::default()
    })
    .await;
    let graph = t.token("graph").await;
    let mut forms = HashSet::new();
    for path in [
        "/v1.0/organization",
        "/v1.0/oauth2PermissionGrants",
        "/v1.0/roleManagement/directory/roleAssignments",
        "/beta/admin/teams/resourceAccounts",
    ] {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let r = t.get("graph", path, &graph).await;
            if r.status == 200 {
                break;
            }
            assert_eq!(r.status, 429);
            assert_eq!(r.json()["error"]["code"], "TooManyRequests");
            let ra = r.headers["retry-after"].to_str().unwrap().to_string();
            if ra == "1" {
                forms.insert("seconds");
            } else {
                let when = httpdate::parse_http_date(&ra).expect("an HTTP-date");
                let ahead = when
                    .duration_since(std::time::SystemTime::now())
                    .unwrap_or_default();
                assert!(ahead <= Duration::from_secs(2), "{ra}");
                forms.insert("date");
            }
        }
        assert_eq!(attempts, 4, "{path}");
    }
    assert_eq!(forms.len(), 2, "both Retry-After forms appear");

    // Seeded: the same seed gives the same sequence of decisions.
    let mut runs = Vec::new();
    for _ in 0..2 {
        let t = T::start(FakeOptions {
            faults: Faults::default().random(0.3, 0.2, 99),
            ..FakeOptions::default()
        })
        .await;
        let graph = t.token("graph").await;
        let mut statuses = Vec::new();
        for i in 0..40 {
            statuses.push(
                t.get("graph", &format!("/v1.0/organization?n={i}"), &graph)
                    .await
                    .status,
            );
        }
        assert!(statuses.contains(&429) && statuses.contains(&503) && statuses.contains(&200));
        runs.push(statuses);
    }
    assert_eq!(runs[0], runs[1]);
}

#[tokio::test]
async fn once_faults_fire_once() {
    let faults = Faults::default()
        .once("/graph/v1.0/organization", FaultKind::ExpiredToken)
        .once("oauth2PermissionGrants", FaultKind::Html502)
        .once("roleAssignments", FaultKind::Html200)
        .once("subscribedSkus", FaultKind::TruncatedJson)
        .once("resourceAccounts", FaultKind::ResetMidBody)
        .once("servicePrincipals", FaultKind::EmptyBody)
        .once("numberAssignments", FaultKind::InvalidGzip)
        .once("/teams/Skype.Policy", FaultKind::HugeBody { megabytes: 3 })
        .once("/arm/subscriptions", FaultKind::Status(504));
    let t = T::start(FakeOptions {
        faults,
        ..FakeOptions::default()
    })
    .await;
    let graph = t.token("graph").await;

    let r = t.get("graph", "/v1.0/organization", &graph).await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.json()["error"]["message"],
        "Lifetime validation failed, the token is expired."
    );
    assert_eq!(
        t.get("graph", "/v1.0/organization", &graph).await.status,
        200,
        "once only; same token still valid"
    );

    let r = t.get("graph", "/v1.0/oauth2PermissionGrants", &graph).await;
    assert_eq!(r.status, 502);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(r.text.contains("<html>"));
    let r = t
        .get(
            "graph",
            "/v1.0/roleManagement/directory/roleAssignments",
            &graph,
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );

    // Truncated: the fact is a 403 record, so the cut body is its error JSON.
    let r = t.get("graph", "/v1.0/subscribedSkus", &graph).await;
    assert!(
        serde_json::from_str::<Value>(&r.text).is_err(),
        "{}",
        r.text
    );
    assert!(r.text.starts_with("{\"error\""));
    assert_eq!(
        t.get("graph", "/v1.0/subscribedSkus", &graph).await.json()["error"]["code"],
        "Authorization_RequestDenied"
    );

    let reset = t
        .http
        .get(format!(
            "{}/beta/admin/teams/resourceAccounts",
            t.fake.url("graph")
        ))
        .bearer_auth(&graph)
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), 200);
    assert!(reset.bytes().await.is_err(), "the body must fail mid-way");
    assert_eq!(
        t.get("graph", "/beta/admin/teams/resourceAccounts", &graph)
            .await
            .status,
        200
    );

    let r = t.get("graph", "/v1.0/servicePrincipals", &graph).await;
    assert_eq!((r.status, r.text.as_str()), (200, ""));
    let r = t
        .get(
            "graph",
            "/v1.0/admin/teams/telephoneNumberManagement/numberAssignments",
            &graph,
        )
        .await;
    assert_eq!(r.headers["content-encoding"], "gzip");
    assert_eq!(r.status, 200);

    let teams = t.token("teams").await;
    let huge = t
        .http
        .get(format!(
            "{}/Skype.Policy/configurations/TenantFederationSettings",
            t.fake.url("teams")
        ))
        .bearer_auth(&teams)
        .send()
        .await
        .unwrap();
    let announced: usize = huge.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let bytes = huge.bytes().await.unwrap();
    assert_eq!(bytes.len(), announced);
    assert!(bytes.len() >= 3 * 1024 * 1024);
    let v: Value = serde_json::from_slice(&bytes).expect("the huge body is valid JSON");
    assert!(v["value"].as_array().unwrap().len() > 40);

    let arm = t.token("arm").await;
    let r = t
        .get("arm", "/subscriptions?api-version=2022-12-01", &arm)
        .await;
    assert_eq!(r.status, 504);
    assert_eq!(r.json()["error"]["code"], "GatewayTimeout");
    assert_eq!(
        t.get("arm", "/subscriptions?api-version=2022-12-01", &arm)
            .await
            .status,
        200
    );

    let faults: Vec<String> = t
        .fake
        .requests()
        .iter()
        .filter_map(|r| r.fault.clone())
        .collect();
    assert_eq!(
        faults,
        [
            "expired_token",
            "html_502",
            "html_200",
            "truncated_json",
            "reset_mid_body",
            "empty_body",
            "invalid_gzip",
            "huge_body_3mb",
            "status_504"
        ]
    );
}

#[tokio::test]
async fn next_link_cycle_points_back_to_the_first_page() {
    let faults = Faults::default()
        .next_link_cycle("oauth2PermissionGrants")
        .next_link_cycle("ApplicationInstances")
        .next_link_cycle("msdyn_ocphonenumbers");
    let t = T::start(FakeOptions {
        faults,
        ..FakeOptions::default()
    })
    .await;
    let graph = t.token("graph").await;
    let first = format!("{}/v1.0/oauth2PermissionGrants", t.fake.url("graph"));
    let p1 = t.get("graph", &first, &graph).await.json();
    let p2 = t
        .get("graph", p1["@odata.nextLink"].as_str().unwrap(), &graph)
        .await
        .json();
    assert_eq!(
        p2["@odata.nextLink"].as_str().unwrap(),
        first,
        "last page links to the first"
    );

    let teams = t.token("teams").await;
    let a = t
        .get(
            "teams",
            "/Teams.PlatformService/v2/ApplicationInstances?pageSize=100",
            &teams,
        )
        .await
        .json();
    let tok1 = a["skipToken"].as_str().unwrap();
    let b = t
        .get(
            "teams",
            &format!(
                "/Teams.PlatformService/v2/ApplicationInstances?pageSize=100&skipToken={tok1}"
            ),
            &teams,
        )
        .await
        .json();
    let tok2 = b["skipToken"].as_str().unwrap();
    let c = t
        .get(
            "teams",
            &format!(
                "/Teams.PlatformService/v2/ApplicationInstances?pageSize=100&skipToken={tok2}"
            ),
            &teams,
        )
        .await
        .json();
    assert_eq!(
        c["applicationInstances"], a["applicationInstances"],
        "the token leads back to page one"
    );

    let dv = t.token("dataverse").await;
    let mut url = format!(
        "{}/api/data/v9.2/msdyn_ocphonenumbers",
        t.fake.url("dataverse")
    );
    let mut seen = HashSet::new();
    while seen.insert(url.clone()) {
        let r = t.get("dataverse", &url, &dv).await.json();
        url = r["@odata.nextLink"]
            .as_str()
            .expect("never ends")
            .to_string();
    }
    assert_eq!(
        url,
        format!(
            "{}/api/data/v9.2/msdyn_ocphonenumbers",
            t.fake.url("dataverse")
        )
    );
}

#[tokio::test]
async fn latency_is_injected_and_logged() {
    let t = T::start(FakeOptions {
        latency: Duration::from_millis(60),
        ..FakeOptions::default()
    })
    .await;
    let started = std::time::Instant::now();
    let tok = t.token("graph").await;
    t.get("graph", "/v1.0/organization", &tok).await;
    assert!(started.elapsed() >= Duration::from_millis(120));
    let log = t.fake.requests();
    assert_eq!(log.len(), 2);
    assert!(log.iter().all(|r| r.elapsed_ms >= 60));
    assert_eq!(
        (log[0].service.as_str(), log[0].method.as_str()),
        ("login", "POST")
    );
    assert_eq!(log[1].path, "/v1.0/organization");
    t.fake.clear_requests();
    assert!(t.fake.requests().is_empty());
}

#[tokio::test]
async fn odd_requests_never_break_the_server() {
    let t = T::start(FakeOptions::default()).await;
    let tok = t.token("graph").await;
    for path in [
        "/v1.0/users/%",
        "/v1.0/users/%ZZ/licenseDetails",
        "/v2.0/organization",
        "/",
        "/v1.0/users/",
        "/v1.0/admin/teams/telephoneNumberManagement/numberAssignments?$top=abc",
        "/v1.0/admin/teams/telephoneNumberManagement/numberAssignments?$top=0",
        "/v1.0/organization?$skiptoken=&$top=-1",
        "/v1.0/servicePrincipals?$filter=",
        "/v1.0/servicePrincipals?$filter=appId%20in%20(",
    ] {
        let r = t.get("graph", path, &tok).await;
        assert!(r.status < 500, "{path}: {}", r.status);
    }
    let r = t.post_json("graph", "/v1.0/$batch", &tok, &json!({"requests": [{"id": "1", "method": "GET", "url": "https://graph.microsoft.com/v1.0/organization"}]})).await;
    assert_eq!(r.json()["responses"][0]["status"], 400);
    let r = t
        .post_json("graph", "/v1.0/$batch", &tok, &json!([1, 2]))
        .await;
    assert_eq!(r.status, 400);
    let r = t.post_form(&format!("/{TID}/oauth2/v2.0/token"), &[]).await;
    assert_eq!(r.status, 400);
    let r = t
        .post_form(
            &format!("/{TID}/oauth2/v2.0/token"),
            &[("grant_type", "password")],
        )
        .await;
    assert_eq!(r.json()["error"], "unsupported_grant_type");
    assert!(
        FakeTenant::start(json!([]), FakeOptions::default())
            .await
            .is_err()
    );
    assert!(
        FakeTenant::start(json!({"tenant_id": "t"}), FakeOptions::default())
            .await
            .is_err()
    );
    assert_eq!(t.get("graph", "/v1.0/organization", &tok).await.status, 200);
}

#[tokio::test]
async fn serves_the_example_snapshots() {
    for name in ["healthy", "field-case"] {
        let path = format!(
            "{}/../examples/{name}.snapshot.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let snapshot: Value = serde_json::from_str(&text).unwrap();
        let fake = FakeTenant::start(snapshot, FakeOptions::default())
            .await
            .unwrap();
        let t = T {
            fake,
            http: client_builder().build().expect("client"),
        };
        let graph = t.token("graph").await;
        let (orgs, _) = t
            .collect(
                "graph",
                "/v1.0/organization",
                &graph,
                "value",
                "@odata.nextLink",
            )
            .await;
        assert_eq!(orgs[0]["id"], TID);
        let r = t
            .get("graph", "/v1.0/users/agent1@contoso.com", &graph)
            .await;
        assert_eq!(r.status, 200, "{name}: {}", r.text);
        let teams = t.token("teams").await;
        let tnm = [(
            "x-ms-tnm-applicationid",
            "045268c0-445e-4ac1-9157-d58f67b167d9",
        )];
        let r = t.get_with("teams", &format!("/Skype.TelephoneNumberMgmt/Tenants/{TID}/telephone-numbers?skip=0&locale=en-US&top=999"), &teams, &tnm).await;
        assert_eq!(r.status, 200, "{name}: {}", r.text);
        let tok = t.token("compliance").await;
        let r = t.post_json("compliance", &format!("/adminapi/beta/{TID}/InvokeCommand"), &tok, &json!({"CmdletInput": {"CmdletName": "Get-InformationBarrierPolicy", "Parameters": {}}})).await;
        assert_eq!(r.status, 200, "{name}: {}", r.text);
        t.fake.shutdown();
    }
}

/// The binary prints the banner of the library ([`FakeTenant::banner`]): one complete live
/// audit command with the environment, `--tenant`, the endpoints and the snapshot's agents.
#[test]
fn the_binary_prints_one_complete_audit_command() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let snapshot = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/field-case.snapshot.json"
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_fake-tenant"))
        .args(["--snapshot", snapshot])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let done = line.starts_with("Ctrl-C");
            text.push_str(&line);
            text.push('\n');
            if done {
                break;
            }
        }
        let _ = tx.send(text);
    });
    let text = rx.recv_timeout(Duration::from_secs(30));
    let _ = child.kill();
    let _ = child.wait();
    let text = text.expect("the banner within 30 s");
    let commands: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(" ccaudit audit "))
        .collect();
    assert_eq!(commands.len(), 1, "{text}");
    let command = commands[0];
    for part in [
        &format!("AZURE_TENANT_ID={TID} "),
        "AZURE_CLIENT_ID=",
        "AZURE_CLIENT_SECRET=",
        &format!(" ccaudit audit --tenant {TID} --endpoint login=http://127.0.0.1:"),
        " --dataverse-url http://127.0.0.1:",
        " --agents agent1@contoso.com,agent2@contoso.com,agent3@contoso.com",
    ] {
        assert!(command.contains(part), "`{part}` missing from: {command}");
    }
}
