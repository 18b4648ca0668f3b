//! The read-only tenant client and sign-in against the fake tenant server (loopback only).

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ccaudit::sources::auth::{AuthMethod, Credential, TokenProvider};
use ccaudit::sources::endpoints::{Cloud, EndpointOverride, Endpoints, Service};
use ccaudit::sources::http::{BatchGet, ClientSettings, FetchError, ReadOnlyClient};
use ccaudit::sources::paging::Paging;
use fake_tenant::{DeviceCodeOptions, FakeOptions, FakeTenant, FaultKind, Faults};
use serde_json::Value;

fn snapshot(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn fact(snapshot: &Value, key: &str) -> Value {
    snapshot["facts"][key]["data"].clone()
}

fn endpoints(fake: &FakeTenant) -> Endpoints {
    let overrides: Vec<EndpointOverride> = ["login", "graph", "teams", "arm", "compliance"]
        .iter()
        .map(|k| format!("{k}={}", fake.url(k)).parse().unwrap())
        .collect();
    Endpoints::resolve_with_env(
        Cloud::Public,
        &overrides,
        Some(&fake.url("dataverse")),
        |_| None,
    )
    .unwrap()
}

fn settings() -> ClientSettings {
    ClientSettings {
        backoff_base: Duration::from_millis(5),
        time_budget: Duration::from_secs(60),
        ..ClientSettings::default()
    }
}

async fn start(options: FakeOptions) -> (FakeTenant, ReadOnlyClient, Value) {
    let snap = snapshot("healthy.snapshot.json");
    let fake = FakeTenant::start(snap.clone(), options).await.unwrap();
    let env = fake.env_vars();
    let credential = Credential::from_lookup(None, None, |name| {
        env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    })
    .unwrap();
    assert_eq!(credential.method(), AuthMethod::ClientSecret);
    let endpoints = endpoints(&fake);
    let tokens = Arc::new(TokenProvider::new(credential, endpoints.login()).unwrap());
    let client = ReadOnlyClient::new(endpoints, tokens, settings()).unwrap();
    (fake, client, snap)
}

/// Every page of a Graph collection, merged.
async fn graph_list(client: &ReadOnlyClient, path: &str) -> Result<Value, FetchError> {
    client
        .get_paged(Service::Graph, path, &[], Paging::ODataNextLink)
        .await
}

fn value(v: &Value) -> &Value {
    &v["value"]
}

#[tokio::test]
async fn reads_every_service_and_merges_pages() {
    let (fake, client, snap) = start(FakeOptions::default()).await;
    let tid = fake.tenant_id().to_string();

    let skus = graph_list(&client, "/v1.0/subscribedSkus").await.unwrap();
    assert_eq!(value(&skus), value(&fact(&snap, "graph.subscribedSkus")));

    let grants = graph_list(&client, "/v1.0/oauth2PermissionGrants")
        .await
        .unwrap();
    assert_eq!(
        value(&grants),
        value(&fact(&snap, "graph.oauth2PermissionGrants"))
    );
    assert!(grants.get("@odata.nextLink").is_none());

    let numbers = client
        .get_paged(
            Service::Graph,
            "/v1.0/admin/teams/telephoneNumberManagement/numberAssignments",
            &[],
            Paging::graph_top_skip(1000),
        )
        .await
        .unwrap();
    assert_eq!(
        value(&numbers),
        value(&fact(&snap, "graph.numberAssignments"))
    );

    let instances = client
        .get_paged(
            Service::Teams,
            "/Teams.PlatformService/v2/ApplicationInstances?pageSize=100",
            &[],
            Paging::teams_skip_token(),
        )
        .await
        .unwrap();
    assert_eq!(
        instances["applicationInstances"],
        fact(&snap, "teams.applicationInstances")["applicationInstances"]
    );

    let tel = client
        .get_paged(
            Service::Teams,
            &format!("/Skype.TelephoneNumberMgmt/Tenants/{tid}/telephone-numbers?locale=en-US"),
            &[(
                "x-ms-tnm-applicationid",
                "045268c0-445e-4ac1-9157-d58f67b167d9",
            )],
            Paging::teams_top_skip(2),
        )
        .await
        .unwrap();
    assert_eq!(
        tel["TelephoneNumbers"],
        fact(&snap, "teams.telephoneNumbers")["TelephoneNumbers"]
    );

    let policy = client
        .get(
            Service::Teams,
            "/Skype.Policy/configurations/ExternalAccessPolicy",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(policy, fact(&snap, "teams.ExternalAccessPolicy"));

    let subs = client
        .get_paged(
            Service::Arm,
            "/subscriptions?api-version=2022-12-01",
            &[],
            Paging::ArmNextLink,
        )
        .await
        .unwrap();
    assert_eq!(value(&subs), value(&fact(&snap, "arm.subscriptions")));

    let phones = client
        .get_paged(
            Service::Dataverse,
            "/api/data/v9.2/msdyn_ocphonenumbers?$select=msdyn_ocphonenumberid,msdyn_name",
            &[("Prefer", "odata.maxpagesize=500")],
            Paging::ODataNextLink,
        )
        .await
        .unwrap();
    assert_eq!(
        value(&phones).as_array().unwrap().len(),
        value(&fact(&snap, "dataverse.msdyn_ocphonenumbers"))
            .as_array()
            .unwrap()
            .len()
    );

    let ib = invoke(&client, &tid, "Get-InformationBarrierPolicy")
        .await
        .unwrap();
    assert_eq!(
        value(&ib),
        value(&fact(&snap, "compliance.InformationBarrierPolicy"))
    );

    // Only GETs and allow-listed read POSTs reached the tenant.
    for r in fake.requests() {
        let allowed_post = (r.service == "login" && r.path.ends_with("/oauth2/v2.0/token"))
            || (r.service == "compliance" && r.path.ends_with("/InvokeCommand"));
        assert!(
            r.method == "GET" || (r.method == "POST" && allowed_post),
            "{r:?}"
        );
        assert!(r.fault.is_none(), "{r:?}");
    }
}

/// The IB cmdlets and their snapshot keys.
const CMDLETS: [(&str, &str); 3] = [
    (
        "compliance.InformationBarrierPolicy",
        "Get-InformationBarrierPolicy",
    ),
    ("compliance.OrganizationSegment", "Get-OrganizationSegment"),
    ("compliance.PolicyConfig", "Get-PolicyConfig"),
];
const ANCHOR: &str =
    "UPN:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@contoso.onmicrosoft.com";

/// Runs one IB cmdlet through the client's compliance endpoint.
async fn invoke(client: &ReadOnlyClient, tid: &str, cmdlet: &str) -> Result<Value, FetchError> {
    let base = client
        .endpoints()
        .base(Service::Compliance)
        .unwrap()
        .clone();
    client.invoke_get_cmdlet(&base, tid, cmdlet, ANCHOR).await
}

#[tokio::test]
async fn compliance_front_door_redirect_reads_every_cmdlet_from_the_regional_host() {
    let (fake, client, snap) = start(FakeOptions {
        faults: Faults::default()
            .compliance_redirect("https://nam13b.admin.protection.outlook.com:446"),
        ..FakeOptions::default()
    })
    .await;
    let tid = fake.tenant_id().to_string();
    for (key, cmdlet) in CMDLETS {
        let v = invoke(&client, &tid, cmdlet).await.unwrap();
        assert_eq!(v, fact(&snap, key), "{cmdlet}");
    }
    let sent: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.service == "compliance")
        .collect();
    let front = format!("/adminapi/beta/{tid}/InvokeCommand");
    let regional = format!("/regions/nam13b{front}");
    // Each cmdlet: one 302 at the front door, then the same POST to the region.
    let redirected = sent.iter().filter(|r| r.path == front && r.status == 302);
    assert_eq!(redirected.count(), CMDLETS.len(), "{sent:?}");
    for (_, cmdlet) in CMDLETS {
        assert!(
            sent.iter()
                .any(|r| r.path == regional && r.status == 200 && r.detail == [cmdlet]),
            "{cmdlet} not read from the regional host: {sent:?}"
        );
    }
    assert!(
        sent.iter()
            .all(|r| r.method == "POST" && (r.path == front || r.path == regional)),
        "{sent:?}"
    );
}

#[tokio::test]
async fn compliance_redirect_to_another_host_is_refused_and_gets_no_token() {
    // A listener that counts connections: the redirect's target.
    let trap = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let trap_addr = trap.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    tokio::spawn(async move {
        while trap.accept().await.is_ok() {
            counted.fetch_add(1, Ordering::SeqCst);
        }
    });
    let (fake, client, _) = start(FakeOptions {
        faults: Faults::default().compliance_redirect(&format!("http://{trap_addr}")),
        ..FakeOptions::default()
    })
    .await;
    let tid = fake.tenant_id().to_string();
    let e = invoke(&client, &tid, "Get-InformationBarrierPolicy")
        .await
        .unwrap_err();
    let shown = e.to_string();
    assert_eq!(shown.lines().count(), 1, "{shown}");
    assert!(
        shown.starts_with(&format!(
            "POST {}/adminapi/beta/{tid}/InvokeCommand Get-InformationBarrierPolicy: HTTP 302: redirected to {trap_addr}, not followed",
            fake.url("compliance").trim_start_matches("http://")
        )),
        "{shown}"
    );
    assert!(
        shown.contains("is not an allow-listed Security & Compliance regional host"),
        "{shown}"
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        connections.load(Ordering::SeqCst),
        0,
        "the location was contacted"
    );
}

#[tokio::test]
async fn graph_batch_reads_users_in_order() {
    let (fake, client, snap) = start(FakeOptions {
        faults: Faults::default()
            .once("licenseDetails", FaultKind::ExpiredToken)
            .once("userPrincipalName", FaultKind::Status(429)),
        ..FakeOptions::default()
    })
    .await;
    let users = fact(&snap, "graph.users");
    let ids: Vec<String> = value(&users)
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_string())
        .collect();
    assert!(!ids.is_empty());
    let mut parts = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        parts.push(BatchGet::new(
            format!("u{i}"),
            format!("/users/{id}?$select=id,userPrincipalName"),
        ));
        parts.push(BatchGet::new(
            format!("l{i}"),
            format!("/users/{id}/licenseDetails"),
        ));
    }
    parts.push(BatchGet::new(
        "missing",
        "/users/00000000-0000-0000-0000-000000000000",
    ));
    let results = client.graph_batch(parts.clone()).await.unwrap();
    assert_eq!(
        results.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        parts.iter().map(|p| p.id.as_str()).collect::<Vec<_>>()
    );
    for (i, id) in ids.iter().enumerate() {
        let user = results[2 * i].result.as_ref().unwrap();
        assert_eq!(user["id"].as_str(), Some(id.as_str()));
        assert!(results[2 * i + 1].result.as_ref().unwrap()["value"].is_array());
    }
    let missing = results.last().unwrap().result.as_ref().unwrap_err();
    assert_eq!(missing.status, Some(404));
    let logins = fake
        .requests()
        .iter()
        .filter(|r| r.service == "login")
        .count();
    assert_eq!(logins, 2, "an expired-token part makes one refresh");
    // Part faults are not in the request log; a retry batch shows they were answered.
    let batches = fake
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.service == "graph")
        .count();
    assert!(
        batches > parts.len().div_ceil(20),
        "{batches} $batch requests"
    );
    for r in fake
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.service == "graph")
    {
        assert!(r.path.ends_with("/$batch"));
        assert!(r.detail.iter().all(|d| d.starts_with("GET ")), "{r:?}");
    }
}

#[tokio::test]
async fn teams_403_is_a_fetch_error_and_graph_still_reads() {
    let (_fake, client, _) = start(FakeOptions {
        faults: Faults::default().service_status("teams", 403),
        ..FakeOptions::default()
    })
    .await;
    let e: FetchError = client
        .get(
            Service::Teams,
            "/Skype.Policy/configurations/TeamsAcsFederationConfiguration",
            &[],
        )
        .await
        .unwrap_err();
    assert_eq!(e.status, Some(403));
    assert!(e.endpoint.starts_with("GET 127.0.0.1:"), "{e}");
    assert!(
        e.endpoint
            .ends_with("/teams/Skype.Policy/configurations/TeamsAcsFederationConfiguration")
    );
    assert!(!e.message.is_empty());
    client
        .get(Service::Graph, "/v1.0/organization", &[])
        .await
        .unwrap();
}

#[tokio::test]
async fn throttling_and_transient_errors_give_the_same_data() {
    let (_clean_fake, clean, _) = start(FakeOptions::default()).await;
    let (fake, faulty, _) = start(FakeOptions {
        faults: Faults::default().random(0.25, 0.1, 7),
        ..FakeOptions::default()
    })
    .await;
    for (service, path, paging) in [
        (
            Service::Graph,
            "/v1.0/subscribedSkus",
            Paging::ODataNextLink,
        ),
        (
            Service::Graph,
            "/v1.0/oauth2PermissionGrants",
            Paging::ODataNextLink,
        ),
        (
            Service::Arm,
            "/subscriptions?api-version=2022-12-01",
            Paging::ArmNextLink,
        ),
    ] {
        let a = clean
            .get_paged(service, path, &[], paging.clone())
            .await
            .unwrap();
        let b = faulty.get_paged(service, path, &[], paging).await.unwrap();
        assert_eq!(a, b, "{path}");
    }
    let faults: Vec<String> = fake
        .requests()
        .into_iter()
        .filter_map(|r| r.fault)
        .collect();
    assert!(!faults.is_empty(), "the seed injected some faults");
}

#[tokio::test]
async fn broken_responses_become_clear_errors() {
    let (_fake, client, _) = start(FakeOptions {
        faults: Faults::default()
            .once("/graph/v1.0/organization", FaultKind::Html502)
            .once("/graph/v1.0/subscribedSkus", FaultKind::TruncatedJson)
            .once("/graph/v1.0/oauth2PermissionGrants", FaultKind::EmptyBody)
            .once("/arm/subscriptions", FaultKind::Html200),
        ..FakeOptions::default()
    })
    .await;
    let e = client
        .get(Service::Graph, "/v1.0/organization", &[])
        .await
        .unwrap_err();
    assert_eq!(e.message, "HTML error page instead of JSON (HTTP 502)");
    assert_eq!(e.status, Some(502));
    let e = client
        .get(Service::Graph, "/v1.0/subscribedSkus", &[])
        .await
        .unwrap_err();
    assert!(
        e.message.starts_with("truncated JSON body (HTTP 200"),
        "{e}"
    );
    let e = client
        .get(Service::Graph, "/v1.0/oauth2PermissionGrants", &[])
        .await
        .unwrap_err();
    assert_eq!(e.message, "empty body instead of JSON (HTTP 200)");
    let e = client
        .get(Service::Arm, "/subscriptions?api-version=2022-12-01", &[])
        .await
        .unwrap_err();
    assert_eq!(e.message, "HTML page instead of JSON (HTTP 200)");
}

#[tokio::test]
async fn transient_transport_faults_and_expired_tokens_recover() {
    let (fake, client, snap) = start(FakeOptions {
        faults: Faults::default()
            .once("/graph/v1.0/organization", FaultKind::ResetMidBody)
            .once("/graph/v1.0/subscribedSkus", FaultKind::ExpiredToken),
        ..FakeOptions::default()
    })
    .await;
    let org = graph_list(&client, "/v1.0/organization").await.unwrap();
    assert_eq!(value(&org), value(&fact(&snap, "graph.organization")));
    let skus = graph_list(&client, "/v1.0/subscribedSkus").await.unwrap();
    assert_eq!(value(&skus), value(&fact(&snap, "graph.subscribedSkus")));
    let logins = fake
        .requests()
        .iter()
        .filter(|r| r.service == "login")
        .count();
    assert_eq!(logins, 2, "one refresh after the expired-token 401");
}

#[tokio::test]
async fn next_link_cycle_is_reported_not_followed_forever() {
    let (_fake, client, _) = start(FakeOptions {
        faults: Faults::default().next_link_cycle("oauth2PermissionGrants"),
        ..FakeOptions::default()
    })
    .await;
    let e = tokio::time::timeout(
        Duration::from_secs(30),
        graph_list(&client, "/v1.0/oauth2PermissionGrants"),
    )
    .await
    .expect("no hang")
    .unwrap_err();
    assert!(
        e.message.starts_with("paging loop at GET 127.0.0.1:"),
        "{e}"
    );
}

#[tokio::test]
async fn huge_body_is_refused_with_bounded_memory() {
    let snap = snapshot("healthy.snapshot.json");
    let fake = FakeTenant::start(
        snap,
        FakeOptions {
            faults: Faults::default().once(
                "/graph/v1.0/organization",
                FaultKind::HugeBody { megabytes: 3 },
            ),
            ..FakeOptions::default()
        },
    )
    .await
    .unwrap();
    let env = fake.env_vars();
    let credential = Credential::from_lookup(None, None, |name| {
        env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    })
    .unwrap();
    let endpoints = endpoints(&fake);
    let tokens = Arc::new(TokenProvider::new(credential, endpoints.login()).unwrap());
    let client = ReadOnlyClient::new(
        endpoints,
        tokens,
        ClientSettings {
            max_body_bytes: 1 << 20,
            ..settings()
        },
    )
    .unwrap();
    let e = client
        .get(Service::Graph, "/v1.0/organization", &[])
        .await
        .unwrap_err();
    assert!(e.message.starts_with("response larger than 1 MiB"), "{e}");
}

#[tokio::test]
async fn wrong_client_secret_is_one_aadsts_line() {
    let snap = snapshot("healthy.snapshot.json");
    let fake = FakeTenant::start(snap, FakeOptions::default())
        .await
        .unwrap();
    let tid = fake.tenant_id().to_string();
    let credential = Credential::from_lookup(None, None, |name| match name {
        "AZURE_TENANT_ID" => Some(tid.clone()),
        "AZURE_CLIENT_ID" => Some(fake_tenant::DEFAULT_CLIENT_ID.to_string()),
        "AZURE_CLIENT_SECRET" => Some("wrong-secret-value-123".to_string()),
        _ => None,
    })
    .unwrap();
    let endpoints = endpoints(&fake);
    let tokens = Arc::new(TokenProvider::new(credential, endpoints.login()).unwrap());
    let client = ReadOnlyClient::new(endpoints, tokens, settings()).unwrap();
    let e = client
        .get(Service::Graph, "/v1.0/organization", &[])
        .await
        .unwrap_err();
    assert_eq!(e.code.as_deref(), Some("AADSTS7000215"));
    assert!(
        e.message.starts_with(&format!(
            "sign-in failed: AADSTS7000215: invalid client secret for app {}",
            fake_tenant::DEFAULT_CLIENT_ID
        )),
        "{e}"
    );
    assert!(!format!("{e} {e:?}").contains("wrong-secret-value-123"));
}

#[tokio::test]
async fn device_code_sign_in_against_the_fake() {
    let snap = snapshot("healthy.snapshot.json");
    let fake = FakeTenant::start(
        snap,
        FakeOptions {
            device_code: DeviceCodeOptions {
                interval: Duration::ZERO,
                pending_polls: 2,
                ..DeviceCodeOptions::default()
            },
            ..FakeOptions::default()
        },
    )
    .await
    .unwrap();
    let credential =
        Credential::from_lookup(Some(AuthMethod::DeviceCode), Some(fake.tenant_id()), |_| {
            None
        })
        .unwrap();
    let prompts = Arc::new(Mutex::new(Vec::new()));
    let p2 = prompts.clone();
    let endpoints = endpoints(&fake);
    let tokens = Arc::new(
        TokenProvider::new(credential, endpoints.login())
            .unwrap()
            .with_prompt(move |m| p2.lock().unwrap().push(m.to_string())),
    );
    let client = ReadOnlyClient::new(endpoints, tokens, settings()).unwrap();
    client
        .get(Service::Graph, "/v1.0/organization", &[])
        .await
        .unwrap();
    client
        .get(
            Service::Teams,
            "/Skype.Policy/configurations/ExternalAccessPolicy",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(prompts.lock().unwrap().len(), 1);
}
