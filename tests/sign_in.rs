//! Signed in as a person against the fake tenant: a token that lacks a scope, a token refused
//! for a service, and Security & Compliance, which a person's token is not tried against.
//! The unknown results must say so in the terms of that sign-in, never "grant the application
//! permission X".

use std::process::Output;
use std::time::Duration;

use fake_tenant::{DeviceCodeOptions, FakeOptions, FakeTenant, Faults};
use serde_json::Value;

mod support;
use support::{agents_flag, command, example, report, run, stderr};

/// The Azure CLI's public client, which `--auth device-code` uses without `--client-id`.
const AZURE_CLI_CLIENT: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";

async fn fake(faults: Faults) -> (FakeTenant, Value) {
    let snapshot = example("healthy.snapshot.json");
    let fake = FakeTenant::start(
        snapshot.clone(),
        FakeOptions {
            device_code: DeviceCodeOptions {
                interval: Duration::ZERO,
                ..DeviceCodeOptions::default()
            },
            faults,
            ..FakeOptions::default()
        },
    )
    .await
    .unwrap();
    (fake, snapshot)
}

/// A device-code audit: the Azure CLI's client unless `client_id` names the person's own app.
async fn person_audit(
    fake: &FakeTenant,
    snapshot: &Value,
    client_id: Option<&str>,
    extra: &[&str],
) -> Output {
    let mut args = agents_flag(snapshot);
    args.extend(["--format", "json", "--quiet", "--auth", "device-code"].map(String::from));
    if let Some(id) = client_id {
        args.extend(["--client-id".to_string(), id.to_string()]);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    // No app in the environment: the person signs in, with no client secret to fall back on.
    let env = [("AZURE_CLIENT_ID", ""), ("AZURE_CLIENT_SECRET", "")];
    run(command(fake, "audit", fake.endpoint_args(), &args, &env)).await
}

fn results(report: &Value) -> &Vec<Value> {
    report["results"].as_array().unwrap()
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

/// Unknown results whose message mentions `needle`.
fn unknown_mentioning<'a>(report: &'a Value, needle: &str) -> Vec<&'a Value> {
    results(report)
        .iter()
        .filter(|r| r["status"] == "unknown" && text(&r["message"]).contains(needle))
        .collect()
}

/// No result of a person's audit tells them to grant an application permission.
fn assert_no_application_permission_advice(report: &Value) {
    for r in results(report) {
        let needs = text(&r["needs"]);
        assert!(
            !needs.contains("application permission"),
            "{}: {needs}",
            text(&r["check"])
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_person_whose_graph_token_lacks_a_scope_is_told_the_sign_in_and_both_ways_forward() {
    let (fake, snapshot) = fake(Faults::default().delegated_scopes_missing("subscribedSkus")).await;
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("person.snapshot.json");
    let saved_arg = saved.display().to_string();
    let out = person_audit(&fake, &snapshot, None, &["--save-snapshot", &saved_arg]).await;
    let report = report(&out);
    let log = fake.requests();
    assert!(
        log.iter()
            .any(|r| r.fault.as_deref() == Some("delegated_scopes_missing")),
        "the fake refused the scope"
    );

    let refused = unknown_mentioning(&report, "required scopes are missing in the token");
    assert!(!refused.is_empty(), "{}", stderr(&out));
    for r in &refused {
        let message = text(&r["message"]);
        let needs = text(&r["needs"]);
        assert!(
            message.contains("signed in as a person with the Azure CLI's client"),
            "{message}"
        );
        assert!(
            message.contains("the Azure CLI's token for Microsoft Graph cannot carry Microsoft Graph LicenseAssignment.Read.All"),
            "{message}"
        );
        assert!(
            needs.contains("your own app registration (--auth device-code --client-id APP_ID)")
                && needs
                    .contains("delegated permission Microsoft Graph LicenseAssignment.Read.All"),
            "{needs}"
        );
        assert!(needs.contains("audit app-only"), "{needs}");
    }
    assert_no_application_permission_advice(&report);

    // Security & Compliance was not tried: no request, and the IB checks say how to read it.
    assert!(
        log.iter().all(|r| r.service != "compliance"),
        "a request reached S&C"
    );
    let ib: Vec<&Value> = results(&report)
        .iter()
        .filter(|r| r["area"] == "information-barriers")
        .collect();
    assert!(!ib.is_empty());
    for r in ib {
        if r["status"] == "unknown" {
            let needs = text(&r["needs"]);
            assert!(
                needs.contains("app-only access") && needs.contains("ccaudit collect --script"),
                "{needs}"
            );
            assert!(
                text(&r["message"]).contains("not tried with a person's token"),
                "{}",
                text(&r["message"])
            );
        } else {
            assert_eq!(r["status"], "skipped", "{r}");
        }
    }

    // The saved snapshot says how it was signed in, and re-audits to the same words offline.
    let saved_json: Value =
        serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    assert_eq!(
        saved_json["sign_in"],
        serde_json::json!({"method": "device-code", "client": "azure-cli"})
    );
    let offline = assert_cmd::Command::cargo_bin("ccaudit")
        .unwrap()
        .args(["audit", "--snapshot", &saved_arg, "--format", "json"])
        .output()
        .unwrap();
    let offline = support::report(&offline);
    let messages = |r: &Value| -> Vec<(String, String, String)> {
        let mut v: Vec<_> = results(r)
            .iter()
            .map(|x| {
                (
                    text(&x["check"]).to_string(),
                    text(&x["message"]).to_string(),
                    text(&x["needs"]).to_string(),
                )
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(messages(&offline), messages(&report));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_service_refused_to_the_azure_clis_client_names_the_mode_and_the_delegated_scope() {
    let (fake, snapshot) = fake(Faults::default().refuse_audience(AZURE_CLI_CLIENT, "teams")).await;
    let out = person_audit(&fake, &snapshot, None, &[]).await;
    let report = report(&out);
    let log = fake.requests();
    assert!(
        log.iter()
            .any(|r| r.fault.as_deref() == Some("refused_audience"))
    );
    assert!(
        log.iter().all(|r| r.service != "teams"),
        "no Teams request without a token"
    );
    let refused = unknown_mentioning(&report, "AADSTS65002");
    assert!(!refused.is_empty(), "{}", stderr(&out));
    for r in refused {
        let message = text(&r["message"]);
        assert!(
            message.contains("the Azure CLI's token for the Teams admin API cannot carry Skype and Teams Tenant Admin API user_impersonation"),
            "{message}"
        );
        let needs = text(&r["needs"]);
        assert!(
            needs.contains("--client-id") && needs.contains("app-only"),
            "{needs}"
        );
    }
    assert_no_application_permission_advice(&report);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_person_with_their_own_app_is_told_to_add_the_delegated_permission() {
    let (fake, snapshot) = fake(Faults::default().delegated_scopes_missing("subscribedSkus")).await;
    let own_app = fake_tenant::DEFAULT_CLIENT_ID;
    let out = person_audit(&fake, &snapshot, Some(own_app), &[]).await;
    let report = report(&out);
    let refused = unknown_mentioning(&report, "required scopes are missing in the token");
    assert!(!refused.is_empty(), "{}", stderr(&out));
    for r in refused {
        let message = text(&r["message"]);
        assert!(
            message.contains("your own app registration (--auth device-code --client-id), and its token for Microsoft Graph lacks"),
            "{message}"
        );
        let needs = text(&r["needs"]);
        assert!(
            needs.contains(
                "add the delegated permission Microsoft Graph LicenseAssignment.Read.All to your app registration"
            ),
            "{needs}"
        );
    }
    assert_no_application_permission_advice(&report);
    assert!(fake.requests().iter().all(|r| r.service != "compliance"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_app_is_not_refused_a_persons_scope_and_keeps_the_app_only_advice() {
    let (fake, snapshot) = fake(Faults::default().delegated_scopes_missing("subscribedSkus")).await;
    let mut args = agents_flag(&snapshot);
    args.extend(["--format", "json", "--quiet"].map(String::from));
    let out = run(command(&fake, "audit", fake.endpoint_args(), &args, &[])).await;
    let report = report(&out);
    assert!(
        fake.requests()
            .iter()
            .all(|r| r.fault.as_deref() != Some("delegated_scopes_missing")),
        "app-only tokens are served"
    );
    assert!(unknown_mentioning(&report, "scopes are missing").is_empty());
    assert!(
        fake.requests().iter().any(|r| r.service == "compliance"),
        "S&C is read app-only"
    );
}
