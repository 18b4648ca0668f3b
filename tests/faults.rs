//! Fault injection at the level of whole runs: the `ccaudit` binary (and, where a setting has no
//! flag, the library's collector) against the fake tenant on loopback, with the faults of issue
//! 5 section 2. Each run is bounded in time; a hang fails the test instead of blocking CI.
//!
//! tests/http_client.rs covers the same faults one request at a time and tests/live.rs the
//! examples end to end; here the question is what a fault does to a *run*: the verdicts, the
//! exit code, the report's reasons, the files left behind, the requests sent.
//! What was measured and why is in docs/reliability.md.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use ccaudit::sources::auth::{Credential, TokenProvider};
use ccaudit::sources::endpoints::{Cloud, EndpointOverride, Endpoints, Service};
use ccaudit::sources::http::{ClientSettings, ReadOnlyClient};
use ccaudit::synth::{self, SynthParams};
use fake_tenant::{FakeOptions, FakeTenant, FaultKind, Faults, LoggedRequest, OnceFault};
use serde_json::Value;

mod support;
use support::{
    RUN_TIMEOUT, SCRUBBED, agents_flag, command, example, fake_with, json_audit_saving, report,
    run, stderr, verdicts,
};

/// A small generated tenant with every kind of per-user read and some misconfigurations, so
/// verdicts include fails: 12 contact-center resource accounts, 120 numbers, 45 agents.
fn small_tenant() -> Value {
    let params = SynthParams {
        faults_per_mille: 100,
        ..SynthParams::healthy(12, 120, 45)
    };
    serde_json::to_value(synth::generate(&params)).unwrap()
}

/// A live audit with JSON on stdout.
async fn live_audit(fake: &FakeTenant, snapshot: &Value, extra: &[&str]) -> Output {
    let mut args = agents_flag(snapshot);
    args.extend(["--format", "json", "--quiet"].map(String::from));
    args.extend(extra.iter().map(|s| s.to_string()));
    run(command(fake, "audit", fake.endpoint_args(), &args, &[])).await
}

fn offline(snapshot: &Value) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("served.snapshot.json");
    std::fs::write(&path, serde_json::to_string(snapshot).unwrap()).unwrap();
    let mut cmd = Command::cargo_bin("ccaudit").unwrap();
    for var in SCRUBBED {
        cmd.env_remove(var);
    }
    cmd.args(["audit", "--format", "json", "--snapshot"])
        .arg(&path)
        .timeout(RUN_TIMEOUT)
        .output()
        .unwrap()
}

fn no_panic(out: &Output) {
    let err = stderr(out);
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "ccaudit panicked: {err}"
    );
    assert!(
        matches!(out.status.code(), Some(0 | 1 | 3)),
        "exit {:?} (not a verdict exit code): {err}",
        out.status.code()
    );
}

/// Every result of a faulted run is either exactly what the offline audit of the served
/// snapshot says, or `unknown`: a fault may hide a verdict, never change one.
fn only_unknowns_differ(faulted: &Value, offline: &Value) {
    let expected: std::collections::BTreeSet<_> = verdicts(offline).into_iter().collect();
    for v in verdicts(faulted) {
        assert!(
            v.2 == "unknown" || expected.contains(&v),
            "a fault changed a verdict: {v:?}"
        );
    }
}

fn saved_facts(path: &Path) -> serde_json::Map<String, Value> {
    let s: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    s["facts"].as_object().unwrap().clone()
}

fn error_message(facts: &serde_json::Map<String, Value>, key: &str) -> String {
    facts
        .get(key)
        .and_then(|f| f["error"]["message"].as_str())
        .unwrap_or_else(|| panic!("{key} should be unavailable: {:?}", facts.get(key)))
        .to_string()
}

// Throttling and transient errors -----------------------------------------------------------

/// 20% of requests (and `$batch` parts) throttled, half `Retry-After: 1`, half an HTTP-date;
/// 5% 503: the same verdicts and exit code as a fault-free run and as the offline audit. The
/// overhead (waits the service asked for) is printed for docs/reliability.md.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_20_percent_and_503_5_percent_keep_every_verdict() {
    let snapshot = small_tenant();
    let expected_out = offline(&snapshot);
    let expected = verdicts(&report(&expected_out));
    let options = |faults: Faults| FakeOptions {
        page_size: 20,
        faults,
        ..FakeOptions::default()
    };

    let clean = FakeTenant::start(snapshot.clone(), options(Faults::default()))
        .await
        .unwrap();
    let started = Instant::now();
    let clean_out = live_audit(&clean, &snapshot, &[]).await;
    let clean_wall = started.elapsed();
    assert_eq!(
        verdicts(&report(&clean_out)),
        expected,
        "fault-free live run"
    );
    let clean_requests = clean.requests().len();

    let faulty = FakeTenant::start(
        snapshot.clone(),
        options(Faults::default().random(0.2, 0.05, 5)),
    )
    .await
    .unwrap();
    let started = Instant::now();
    let out = live_audit(&faulty, &snapshot, &[]).await;
    let wall = started.elapsed();
    assert_eq!(verdicts(&report(&out)), expected, "{}", stderr(&out));
    assert_eq!(out.status.code(), expected_out.status.code());
    let log = faulty.requests();
    let count = |f: &str| log.iter().filter(|r| r.fault.as_deref() == Some(f)).count();
    let (seconds, date, unavailable) = (
        count("throttle_429_seconds"),
        count("throttle_429_http_date"),
        count("unavailable_503"),
    );
    assert!(
        seconds > 0 && date > 0 && unavailable > 0,
        "every fault kind exercised: {seconds} / {date} / {unavailable}"
    );
    // Only faulted requests were sent again: outside `$batch` the same requests as the clean
    // run plus one per fault; in `$batch`, every part of the clean run and no other (a part
    // throttled inside a 200 answer is sent again in a new batch, and nothing else is).
    let clean_log = clean.requests();
    let plain = |log: &[LoggedRequest]| log.iter().filter(|r| !r.path.ends_with("/$batch")).count();
    let plain_faulted = log
        .iter()
        .filter(|r| !r.path.ends_with("/$batch") && r.fault.is_some())
        .count();
    assert_eq!(
        plain(&log) - plain_faulted,
        plain(&clean_log),
        "requests outside $batch"
    );
    let parts = |log: &[LoggedRequest]| -> std::collections::BTreeSet<String> {
        log.iter()
            .filter(|r| r.path.ends_with("/$batch"))
            .flat_map(|r| r.detail.iter().cloned())
            .collect()
    };
    assert_eq!(parts(&log), parts(&clean_log), "$batch parts");
    eprintln!(
        "throttling overhead: fault-free {clean_wall:.2?} ({clean_requests} requests); with 20% 429 + 5% 503 {wall:.2?} ({} requests: {seconds} 429 Retry-After seconds, {date} 429 HTTP-date, {unavailable} 503, not counting $batch parts throttled inside 200 answers); ratio {:.1}",
        log.len(),
        wall.as_secs_f64() / clean_wall.as_secs_f64()
    );
}

/// A 429 is the service asking to come back later, not an error: seven in a row are waited
/// out (up to `max_throttled_attempts`, 10), while seven 503s give up after `max_attempts` (5).
/// At size S, 20% 429 makes some request see five 429s in a row (tens of thousands of tries),
/// which used to fail a whole `$batch` call and turn a fact unknown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_is_waited_out_longer_than_errors() {
    let seven = |path: &str, status: u16| OnceFault {
        times: 7,
        ..OnceFault::new(path, FaultKind::Status(status))
    };
    let fake = FakeTenant::start(
        example("healthy.snapshot.json"),
        FakeOptions {
            faults: Faults {
                once: vec![
                    seven("/arm/subscriptions", 429),
                    seven("/graph/v1.0/subscribedSkus", 503),
                ],
                ..Faults::default()
            },
            ..FakeOptions::default()
        },
    )
    .await
    .unwrap();
    let client = client(
        &fake,
        ClientSettings {
            retry_after_cap: Duration::from_millis(20),
            backoff_base: Duration::from_millis(10),
            ..ClientSettings::default()
        },
    );
    let subscriptions = client
        .get(Service::Arm, "/subscriptions?api-version=2022-12-01", &[])
        .await;
    assert!(subscriptions.is_ok(), "{subscriptions:?}");
    let skus = client
        .get(Service::Graph, "/v1.0/subscribedSkus", &[])
        .await
        .unwrap_err();
    assert_eq!(skus.status, Some(503));
    assert!(skus.message.contains("gave up after 5 attempts"), "{skus}");
    let sent = |p: &str| fake.requests().iter().filter(|r| r.path == p).count();
    assert_eq!(sent("/subscriptions"), 8, "seven 429s, then the answer");
    assert_eq!(sent("/v1.0/subscribedSkus"), 5);
}

// One service down ---------------------------------------------------------------------------

/// Teams answers every request 503 (no Retry-After, so the client backs off exponentially).
/// With a 3 s Teams budget the run ends within it, the Teams facts are unavailable naming the
/// service and the status, every other check is evaluated as offline, and the exit code is 3.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_that_stays_down_costs_its_budget_and_only_its_checks() {
    let name = "healthy.snapshot.json";
    let snapshot = example(name);
    let offline_report = report(&offline(&snapshot));
    let fake = fake_with(&snapshot, Faults::default().service_status("teams", 503)).await;
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("down.snapshot.json");
    let args = json_audit_saving(&snapshot, &saved);
    let started = Instant::now();
    let out = run(command(
        &fake,
        "audit",
        fake.endpoint_args(),
        &args,
        &[("CCAUDIT_SERVICE_BUDGET_SECS", "3")],
    ))
    .await;
    let wall = started.elapsed();
    no_panic(&out);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        wall < Duration::from_secs(3 + 6),
        "the Teams budget bounds the run: {wall:?}"
    );

    let facts = saved_facts(&saved);
    for (key, fact) in &facts {
        if key.starts_with("teams.") {
            let message = fact["error"]["message"].as_str().unwrap_or("");
            assert!(
                fact["error"]["status"] == 503 || message.contains("teams time budget"),
                "{key}: {fact}"
            );
        } else {
            assert!(fact.get("data").is_some(), "{key} unaffected: {fact}");
        }
    }

    let live = report(&out);
    only_unknowns_differ(&live, &offline_report);
    let by_check = |r: &Value| -> BTreeMap<String, Vec<String>> {
        let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for x in r["results"].as_array().unwrap() {
            m.entry(x["check"].as_str().unwrap().to_string())
                .or_default()
                .push(x["status"].as_str().unwrap().to_string());
        }
        m
    };
    let (before, after) = (by_check(&offline_report), by_check(&live));
    let mut unknown = 0;
    for r in live["results"].as_array().unwrap() {
        assert_ne!(r["status"], "fail", "a 503 must never become a fail: {r}");
        if r["status"] == "unknown" {
            let check = r["check"].as_str().unwrap();
            if before[check].iter().all(|s| s != "unknown") {
                unknown += 1;
                let message = r["message"].as_str().unwrap();
                assert!(
                    message.contains(" could not be read: GET ")
                        && message.contains("/teams/")
                        && message.contains("503"),
                    "{check}: the reason names the Teams read and the status: {r}"
                );
                assert!(
                    !message.contains("teams.users") && !message.contains("teams.acs_federation"),
                    "{check}: names what could not be read in words, not the model path: {r}"
                );
            }
        }
    }
    assert!(unknown > 0, "the Teams checks are unknown");
    if let Some(r) = live["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["status"] == "unknown" && r.to_string().contains("503"))
    {
        eprintln!("teams down, e.g.: {}", r["message"]);
    }
    // Checks that read nothing from Teams are evaluated exactly as offline.
    for check in ["LIC-001", "D365-001"] {
        assert_eq!(before.get(check), after.get(check), "{check}");
    }
    eprintln!("teams down, 3 s budget: run took {wall:.2?}, {unknown} results unknown");
}

/// The per-service budget at the client: once used up, the service's further requests fail at
/// once, saying which budget, without being sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_budget_stops_further_requests_of_that_service() {
    let fake = FakeTenant::start(
        example("healthy.snapshot.json"),
        FakeOptions {
            faults: Faults::default().service_status("arm", 503),
            ..FakeOptions::default()
        },
    )
    .await
    .unwrap();
    let client = client(
        &fake,
        ClientSettings {
            service_budget: Duration::from_millis(1500),
            backoff_base: Duration::from_millis(200),
            ..ClientSettings::default()
        },
    );
    let started = Instant::now();
    let first = client
        .get(Service::Arm, "/subscriptions?api-version=2022-12-01", &[])
        .await
        .unwrap_err();
    assert_eq!(first.status, Some(503), "{first}");
    assert!(started.elapsed() < Duration::from_millis(2500));
    assert!(
        first.message.contains("arm time budget of 1.5 s"),
        "names the budget: {first}"
    );
    // Once the budget has run out, nothing more is sent to ARM.
    tokio::time::sleep(Duration::from_millis(1600).saturating_sub(started.elapsed())).await;
    let sent = fake.requests().len();
    let second = client
        .get(
            Service::Arm,
            "/subscriptions/x/providers/Microsoft.Communication/communicationServices?api-version=2023-04-01",
            &[],
        )
        .await
        .unwrap_err();
    assert!(
        second.message.contains("arm time budget of 1.5 s used up"),
        "{second}"
    );
    assert_eq!(fake.requests().len(), sent, "nothing more was sent");
    // Other services are not affected by ARM's budget.
    client
        .get(Service::Graph, "/v1.0/organization", &[])
        .await
        .unwrap();
}

fn client(fake: &FakeTenant, settings: ClientSettings) -> ReadOnlyClient {
    let overrides: Vec<EndpointOverride> = ["login", "graph", "teams", "arm", "compliance"]
        .iter()
        .map(|k| format!("{k}={}", fake.url(k)).parse().unwrap())
        .collect();
    let endpoints = Endpoints::resolve_with_env(
        Cloud::Public,
        &overrides,
        Some(&fake.url("dataverse")),
        |_| None,
    )
    .unwrap();
    let env = fake.env_vars();
    let credential = Credential::from_lookup(None, None, |name| {
        env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    })
    .unwrap();
    let tokens = Arc::new(TokenProvider::new(credential, endpoints.login()).unwrap());
    ReadOnlyClient::new(endpoints, tokens, settings).unwrap()
}

// Broken responses -----------------------------------------------------------------------------

/// Peak resident memory of a child, in KiB, from GNU time's `%M` line at the end of stderr.
fn peak_rss_kib(stderr: &str) -> Option<u64> {
    stderr
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("peak-rss-kib=")?.parse().ok())
}

/// One broken answer per fact, each persistent enough to outlast the retries: every fact gets a
/// one-line reason saying what came back, the rest of the audit is evaluated, nothing panics,
/// and memory stays bounded although one answer is a 50 MiB page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_bodies_become_clear_reasons_with_bounded_memory() {
    let snapshot = example("field-case.snapshot.json");
    let times = |path: &str, kind: FaultKind, times: u32| OnceFault {
        times,
        ..OnceFault::new(path, kind)
    };
    // Transport faults are retried (5 attempts): fire them on every attempt.
    let faults = Faults {
        once: vec![
            times("/graph/v1.0/subscribedSkus", FaultKind::ResetMidBody, 5),
            times(
                "/graph/v1.0/oauth2PermissionGrants",
                FaultKind::TruncatedJson,
                1,
            ),
            times("/graph/v1.0/roleManagement", FaultKind::Html200, 1),
            times("/arm/subscriptions", FaultKind::Html502, 1),
            times("/graph/v1.0/servicePrincipals", FaultKind::EmptyBody, 1),
            times(
                "/teams/Skype.Policy/configurations/ExternalAccessPolicy",
                FaultKind::InvalidGzip,
                5,
            ),
            times(
                "/dataverse/api/data/v9.2/msdyn_ocphonenumbers",
                FaultKind::HugeBody { megabytes: 50 },
                1,
            ),
        ],
        ..Faults::default()
    };
    let fake = fake_with(&snapshot, faults).await;
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("broken.snapshot.json");
    let args = json_audit_saving(&snapshot, &saved);
    // Under GNU time when the machine has it, for the peak memory.
    let gnu_time = Path::new("/usr/bin/time").exists();
    let mut cmd = if gnu_time {
        let mut c = Command::new("/usr/bin/time");
        c.args(["-f", "peak-rss-kib=%M"])
            .arg(assert_cmd::cargo::cargo_bin("ccaudit"));
        c
    } else {
        Command::cargo_bin("ccaudit").unwrap()
    };
    cmd.arg("audit")
        .arg("--tenant")
        .arg(fake.tenant_id())
        .args(fake.endpoint_args())
        .args(&args)
        .timeout(RUN_TIMEOUT);
    for var in SCRUBBED {
        cmd.env_remove(var);
    }
    for (k, v) in fake.env_vars() {
        cmd.env(k, v);
    }
    let out = run(cmd).await;
    no_panic(&out);
    let live = report(&out);
    only_unknowns_differ(&live, &report(&offline(&snapshot)));
    let facts = saved_facts(&saved);
    let expect = [
        ("graph.subscribedSkus", "response body cut off after"),
        (
            "graph.oauth2PermissionGrants",
            "truncated JSON body (HTTP 200",
        ),
        (
            "graph.roleAssignments",
            "HTML page instead of JSON (HTTP 200)",
        ),
        (
            "arm.subscriptions",
            "HTML error page instead of JSON (HTTP 502)",
        ),
        (
            "graph.servicePrincipals",
            "empty body instead of JSON (HTTP 200)",
        ),
        ("teams.ExternalAccessPolicy", "cannot decode the response"),
    ];
    for (key, reason) in expect {
        let message = error_message(&facts, key);
        assert!(
            message.contains(reason),
            "{key}: `{message}` should say `{reason}`"
        );
        assert!(!message.contains('\n'), "{key}: one line: {message}");
    }
    // The 50 MiB page is within the client's 64 MiB cap and valid JSON, so it is read; its
    // padding rows are not phone numbers, which the model says: the checks that need the
    // D365 numbers are unknown with that reason.
    assert!(facts["dataverse.msdyn_ocphonenumbers"]["data"].is_object());
    let reasons: Vec<String> = live["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "unknown")
        .map(Value::to_string)
        .filter(|r| r.contains("msdyn_ocphonenumbers"))
        .collect();
    assert!(
        !reasons.is_empty(),
        "the padded page makes the D365 number checks unknown"
    );
    eprintln!("50 MiB page of padding rows: {}", reasons[0]);
    // Facts without a fault are read as usual.
    for key in [
        "graph.organization",
        "teams.TenantFederationSettings",
        "dataverse.msdyn_occommunicationprovidersettings",
    ] {
        assert!(facts[key].get("data").is_some(), "{key}: {}", facts[key]);
    }
    if gnu_time {
        let kib = peak_rss_kib(&stderr(&out)).expect("GNU time reports the peak");
        eprintln!("broken bodies run: peak RSS {} MiB", kib / 1024);
        assert!(kib < 600 * 1024, "memory bounded: {} MiB", kib / 1024);
    }
}

/// A page larger than the client's cap (64 MiB) is refused unread: the fact is unavailable and
/// memory does not grow with what the server sends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_beyond_the_cap_is_refused_unread() {
    let fake = fake_with(
        &example("healthy.snapshot.json"),
        Faults::default().once(
            "/graph/v1.0/subscribedSkus",
            FaultKind::HugeBody { megabytes: 80 },
        ),
    )
    .await;
    let client = client(&fake, ClientSettings::default());
    let e = client
        .get(Service::Graph, "/v1.0/subscribedSkus", &[])
        .await
        .unwrap_err();
    assert!(
        e.message
            .starts_with("response larger than 64 MiB, not read"),
        "{e}"
    );
}

// Tokens -----------------------------------------------------------------------------------------

/// A token that expires mid-run (401 `InvalidAuthenticationToken` once per service): one new
/// token for that service, the request is sent again, and the run ends as a clean one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_expired_mid_run_is_refreshed_once_per_service() {
    let snapshot = example("healthy.snapshot.json");
    let expected = verdicts(&report(&offline(&snapshot)));
    let faults = Faults::default()
        .once("/graph/v1.0/subscribedSkus", FaultKind::ExpiredToken)
        .once(
            "/teams/Skype.Policy/configurations/TenantFederationSettings",
            FaultKind::ExpiredToken,
        )
        .once("/arm/subscriptions", FaultKind::ExpiredToken)
        .once(
            "/dataverse/api/data/v9.2/msdyn_ocphonenumbers",
            FaultKind::ExpiredToken,
        );
    let fake = fake_with(&snapshot, faults).await;
    let out = live_audit(&fake, &snapshot, &[]).await;
    assert_eq!(verdicts(&report(&out)), expected, "{}", stderr(&out));
    let log = fake.requests();
    let expired = log
        .iter()
        .filter(|r| r.fault.as_deref() == Some("expired_token"))
        .count();
    assert_eq!(expired, 4, "each fault fired once");
    let tokens = log.iter().filter(|r| r.service == "login").count();
    // graph, teams, arm, dataverse, compliance: one each, plus one refresh for the four faults.
    assert_eq!(tokens, 5 + 4, "one refresh per expired token");
}

// Paging loops ---------------------------------------------------------------------------------

/// A next link back to the first page, in every paging scheme the collectors use: each read
/// stops with a "paging loop" reason instead of looping, and the run ends normally.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_link_cycles_in_every_paging_scheme_stop_with_an_error() {
    let snapshot = example("field-case.snapshot.json");
    let faults = Faults::default()
        // Graph @odata.nextLink, numberAssignments $top/$skip, ARM nextLink, Dataverse
        // nextLink, S&C InvokeCommand nextLink, Teams skipToken (read because the Graph
        // resource-account list is refused).
        .next_link_cycle("/graph/v1.0/subscribedSkus")
        .next_link_cycle("numberAssignments")
        .next_link_cycle("/arm/subscriptions")
        .next_link_cycle("msdyn_ocphonenumbers")
        .next_link_cycle("/compliance/")
        .next_link_cycle("ApplicationInstances")
        .once("resourceAccounts", FaultKind::Status(403));
    let fake = FakeTenant::start(
        snapshot.clone(),
        FakeOptions {
            page_size: 1,
            faults,
            ..FakeOptions::default()
        },
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("cycles.snapshot.json");
    let mut args = agents_flag(&snapshot);
    args.extend(["--quiet", "--output", saved.to_str().unwrap()].map(String::from));
    let started = Instant::now();
    let out = run(command(&fake, "collect", fake.endpoint_args(), &args, &[])).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(started.elapsed() < Duration::from_secs(20), "no hang");
    let facts = saved_facts(&saved);
    for key in [
        "graph.subscribedSkus",
        "graph.numberAssignments",
        "arm.subscriptions",
        "dataverse.msdyn_ocphonenumbers",
        "compliance.OrganizationSegment",
        "teams.applicationInstances",
    ] {
        let message = error_message(&facts, key);
        assert!(message.contains("paging loop"), "{key}: {message}");
    }
    // Bounded: no URL was asked more than twice (the first page, and its repeat refused).
    let mut per_url: BTreeMap<(String, String, Vec<String>), usize> = BTreeMap::new();
    for r in fake.requests().iter().filter(|r| r.service != "login") {
        *per_url
            .entry((r.path.clone(), r.query.clone(), r.detail.clone()))
            .or_default() += 1;
    }
    let worst = per_url.iter().max_by_key(|(_, n)| **n).unwrap();
    assert!(*worst.1 <= 2, "{worst:?}");
}

// Request economy ----------------------------------------------------------------------------------

fn batch_part_kind(detail: &str) -> &'static str {
    if detail.contains("/licenseDetails") {
        "licenseDetails"
    } else if detail.contains("/transitiveMemberOf") {
        "memberOf"
    } else if detail.contains("/userConfigurations/") {
        "userConfiguration"
    } else {
        "user"
    }
}

/// Per-user Graph data only through `$batch` (at most ceil(users / 20) batches per kind, one
/// part per user and kind), `$select` on every read of users, groups, service principals and
/// Dataverse rows, no request sent twice, and nobody but agents and resource accounts read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_economy_batches_selects_and_no_repeats() {
    let snapshot = small_tenant();
    let fake = FakeTenant::start(
        snapshot.clone(),
        FakeOptions {
            page_size: 100,
            ..FakeOptions::default()
        },
    )
    .await
    .unwrap();
    let out = live_audit(&fake, &snapshot, &[]).await;
    report(&out);
    let log = fake.requests();

    let agents = snapshot["agents"]["users"].as_array().unwrap().len();
    let resource_accounts = snapshot["facts"]["graph.resourceAccounts"]["data"]["value"]
        .as_array()
        .unwrap()
        .len();
    let users = agents + resource_accounts;

    // Parts per kind, and batches per kind (a batch counts for each kind it carries).
    let mut parts: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let batches: Vec<&LoggedRequest> = log.iter().filter(|r| r.path.ends_with("/$batch")).collect();
    for b in &batches {
        assert!(b.detail.len() <= 20, "{b:?}");
        for d in &b.detail {
            parts.entry(batch_part_kind(d)).or_default().push(d.clone());
        }
    }
    for (kind, list) in &parts {
        let unique: std::collections::BTreeSet<&String> = list.iter().collect();
        assert_eq!(unique.len(), list.len(), "{kind}: a part sent twice");
        let expected_users = if *kind == "userConfiguration" {
            agents
        } else {
            users
        };
        assert_eq!(list.len(), expected_users, "{kind}: one part per user");
    }
    // Packed full: three `$batch` calls (resource accounts; agents by UPN; agents by id), each
    // chunked by 20, so at most three batches hold fewer than 20 parts, and the batch count is
    // at most ceil(parts / 20) + 2 (for one kind alone: ceil(users / 20)).
    let total_parts: usize = parts.values().map(Vec::len).sum();
    let partial = batches.iter().filter(|b| b.detail.len() < 20).count();
    assert!(partial <= 3, "{partial} batches not full");
    assert!(
        batches.len() <= total_parts.div_ceil(20) + 2,
        "{} batches for {total_parts} parts",
        batches.len()
    );
    let per_kind: usize = parts.values().map(|l| l.len().div_ceil(20)).sum();
    assert!(
        batches.len() <= per_kind,
        "{} batches, more than ceil(users / 20) per kind ({per_kind})",
        batches.len()
    );
    eprintln!(
        "economy: {users} users, {total_parts} parts in {} batches ({partial} not full)",
        batches.len()
    );
    // No per-user Graph read outside `$batch` (except a part's own next page).
    for r in &log {
        if r.service == "graph" && r.method == "GET" {
            assert!(
                !r.path.starts_with("/v1.0/users/") || r.query.contains("skiptoken"),
                "per-user GET outside $batch: {r:?}"
            );
        }
    }
    // $select wherever the contract has one.
    let needs_select = |r: &LoggedRequest| {
        (r.service == "graph"
            && (r.path.contains("/servicePrincipals") || r.path.contains("/members")))
            || r.service == "dataverse" && r.path.contains("/msdyn_")
    };
    for r in log.iter().filter(|r| needs_select(r)) {
        assert!(r.query.contains("select"), "no $select: {r:?}");
    }
    for b in &batches {
        for d in &b.detail {
            let kind = batch_part_kind(d);
            if kind == "user" || kind == "memberOf" {
                assert!(d.contains("$select="), "no $select: {d}");
            }
        }
    }
    // No request repeated.
    let mut seen: BTreeMap<(String, String, String, String, Vec<String>), usize> = BTreeMap::new();
    for r in log.iter().filter(|r| r.service != "login") {
        *seen
            .entry((
                r.method.clone(),
                r.service.clone(),
                r.path.clone(),
                r.query.clone(),
                r.detail.clone(),
            ))
            .or_default() += 1;
    }
    let repeated: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(repeated.is_empty(), "sent more than once: {repeated:?}");
    // Users who are neither agents nor resource accounts are never read: the only user reads
    // are the batch parts counted above.
    assert_eq!(parts["user"].len(), users);
}

// Interrupted collection ---------------------------------------------------------------------

/// `ccaudit collect` interrupted mid-run (SIGINT as Ctrl-C sends it, then SIGTERM as a service
/// manager does): the process ends promptly and nothing is left at the output path, not even a
/// temp file.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupted_collect_leaves_no_partial_snapshot() {
    let snapshot = small_tenant();
    let fake = FakeTenant::start(
        snapshot.clone(),
        FakeOptions {
            latency: Duration::from_millis(100),
            ..FakeOptions::default()
        },
    )
    .await
    .unwrap();
    for signal in ["INT", "TERM"] {
        fake.clear_requests();
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("tenant.snapshot.json");
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("ccaudit"));
        cmd.args(["collect", "--tenant", fake.tenant_id()])
            .args(fake.endpoint_args())
            .args(agents_flag(&snapshot))
            .args(["--quiet", "--concurrency", "1", "--output"])
            .arg(&output)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        for var in SCRUBBED {
            cmd.env_remove(var);
        }
        for (k, v) in fake.env_vars() {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        // Mid-run: some tenant requests answered, far from all (a full run sends hundreds).
        let deadline = Instant::now() + Duration::from_secs(20);
        while fake
            .requests()
            .iter()
            .filter(|r| r.service != "login")
            .count()
            < 10
        {
            assert!(Instant::now() < deadline, "the run never got going");
            assert!(
                child.try_wait().unwrap().is_none(),
                "ended before the signal"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let status = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
        let signalled = Instant::now();
        let exit = loop {
            if let Some(exit) = child.try_wait().unwrap() {
                break exit;
            }
            if signalled.elapsed() > Duration::from_secs(5) {
                let _ = child.kill();
                panic!("SIG{signal}: still running 5 s after the signal");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        let took = signalled.elapsed();
        assert!(!exit.success(), "SIG{signal}: {exit:?}");
        assert!(
            !output.exists(),
            "SIG{signal}: a snapshot was left at the output path"
        );
        let left: Vec<std::path::PathBuf> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert!(left.is_empty(), "SIG{signal}: files left behind: {left:?}");
        eprintln!("SIG{signal}: exited ({exit:?}) {took:?} after the signal");
        assert!(
            took < Duration::from_secs(2),
            "SIG{signal}: prompt exit, took {took:?}"
        );
    }
}

// File permissions ---------------------------------------------------------------------------

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Snapshots describe a tenant: owner-only, from `collect --output` and `audit --save-snapshot`,
/// also when replacing a world-readable file.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_files_are_owner_only() {
    let snapshot = example("healthy.snapshot.json");
    let fake = FakeTenant::start(snapshot.clone(), FakeOptions::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let collected = dir.path().join("collected.snapshot.json");
    std::fs::write(&collected, "old, world-readable").unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&collected, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let mut args = agents_flag(&snapshot);
    args.extend(["--quiet", "--output", collected.to_str().unwrap()].map(String::from));
    let out = run(command(&fake, "collect", fake.endpoint_args(), &args, &[])).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(mode(&collected), 0o600, "collect --output");

    let saved = dir.path().join("saved.snapshot.json");
    let args = json_audit_saving(&snapshot, &saved);
    let out = run(command(&fake, "audit", fake.endpoint_args(), &args, &[])).await;
    no_panic(&out);
    assert_eq!(mode(&saved), 0o600, "audit --save-snapshot");
}

/// Reports name the tenant's users, numbers and settings: owner-only as well, in every format,
/// also when replacing a world-readable file.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_files_are_owner_only() {
    let snapshot = example("healthy.snapshot.json");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("healthy.snapshot.json");
    std::fs::write(&path, serde_json::to_string(&snapshot).unwrap()).unwrap();
    for format in ["table", "json", "markdown", "junit", "html"] {
        let report = dir.path().join(format!("report.{format}"));
        std::fs::write(&report, "old, world-readable").unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&report, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        let mut cmd = Command::cargo_bin("ccaudit").unwrap();
        for var in SCRUBBED {
            cmd.env_remove(var);
        }
        let out = cmd
            .args(["audit", "--format", format, "--snapshot"])
            .arg(&path)
            .arg("--output")
            .arg(&report)
            .timeout(RUN_TIMEOUT)
            .output()
            .unwrap();
        no_panic(&out);
        assert_eq!(mode(&report), 0o600, "--format {format} --output");
    }
    // The remediation script lists the fixes, i.e. the tenant's misconfigurations.
    let field_case = dir.path().join("field-case.snapshot.json");
    std::fs::write(
        &field_case,
        serde_json::to_string(&example("field-case.snapshot.json")).unwrap(),
    )
    .unwrap();
    let script = dir.path().join("fix.ps1");
    let mut cmd = Command::cargo_bin("ccaudit").unwrap();
    for var in SCRUBBED {
        cmd.env_remove(var);
    }
    let out = cmd
        .args(["audit", "--format", "json", "--snapshot"])
        .arg(&field_case)
        .arg("--remediation-script")
        .arg(&script)
        .timeout(RUN_TIMEOUT)
        .output()
        .unwrap();
    no_panic(&out);
    assert_eq!(mode(&script), 0o600, "--remediation-script");
}

// Silence: services that accept connections and never answer ----------------------------------

/// The token endpoint accepts connections and never answers. With `--timeout login=1` the run
/// ends in about a second with one line on stderr that names login, the timeout and the flag;
/// the token request is not retried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unresponsive_login_endpoint_is_one_line_naming_it() {
    let snapshot = example("healthy.snapshot.json");
    let fake = fake_with(&snapshot, Faults::default()).await;
    let silent = support::silent_listener();
    let endpoints =
        support::endpoints_with(&fake, "login", &format!("http://{}/login", silent.addr));
    let args: Vec<String> = ["--timeout", "login=1", "--format", "json", "--quiet"]
        .map(String::from)
        .to_vec();
    let started = Instant::now();
    let out = run(command(&fake, "audit", endpoints, &args, &[])).await;
    let wall = started.elapsed();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(out.stdout.is_empty(), "no report");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    for part in [
        "sign-in failed",
        &format!("{}/login/", silent.addr),
        "no answer from login within 1 s",
        "--timeout login=SECS",
    ] {
        assert!(err.contains(part), "`{part}` in: {err}");
    }
    assert!(
        wall < Duration::from_secs(5),
        "one timeout, not three attempts: {wall:?}"
    );
    assert!(fake.requests().is_empty(), "nothing else was read");
    assert_eq!(silent.accepted(), 1, "the token request is not retried");
    eprintln!(
        "login silent, --timeout login=1: {wall:.2?}: {}",
        err.trim()
    );
}

/// On a terminal, sign-in shows a line while it runs; without one (the test's pipes) the same
/// run prints only its error. The terminal is `script`'s pseudo-terminal (util-linux).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_shows_a_line_on_a_terminal_only() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: no `script` (util-linux) to provide a terminal");
        return;
    }
    let snapshot = example("healthy.snapshot.json");
    let fake = fake_with(&snapshot, Faults::default()).await;
    let silent = support::silent_listener();
    let endpoints =
        support::endpoints_with(&fake, "login", &format!("http://{}/login", silent.addr));
    let bin = assert_cmd::cargo::cargo_bin("ccaudit");
    let mut line = format!("{} audit --tenant {}", bin.display(), fake.tenant_id());
    for arg in &endpoints {
        line.push(' ');
        line.push_str(arg);
    }
    line.push_str(" --timeout login=1.5");
    let mut cmd = std::process::Command::new("script");
    cmd.args(["-q", "-e", "-c", &line, "/dev/null"]);
    for var in SCRUBBED {
        cmd.env_remove(var);
    }
    for (k, v) in fake.env_vars() {
        cmd.env(k, v);
    }
    cmd.env("TERM", "xterm").env("COLUMNS", "120");
    let terminal = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let shown = String::from_utf8_lossy(&terminal.stdout);
    assert!(
        shown.contains(&format!("signing in (client-secret) at {}", silent.addr)),
        "the terminal shows the sign-in: {shown:?}"
    );
    assert!(
        shown.contains("no answer from login within 1.5 s"),
        "{shown:?}"
    );

    // Not a terminal: only the error.
    let args: Vec<String> = ["--timeout", "login=1.5"].map(String::from).to_vec();
    let out = run(command(&fake, "audit", endpoints, &args, &[])).await;
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!err.contains("signing in"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}

/// A live audit of `snapshot` (JSON report, saving what it read) whose Graph endpoint accepts
/// connections and never answers, with `extra` flags.
struct SilentGraphRun {
    out: Output,
    wall: Duration,
    facts: serde_json::Map<String, Value>,
    silent: support::Silent,
}

async fn silent_graph_audit(snapshot: &Value, extra: &[&str]) -> SilentGraphRun {
    let fake = fake_with(snapshot, Faults::default()).await;
    let silent = support::silent_listener();
    let endpoints =
        support::endpoints_with(&fake, "graph", &format!("http://{}/graph", silent.addr));
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("silent-graph.snapshot.json");
    let mut args = json_audit_saving(snapshot, &saved);
    args.extend(extra.iter().map(|s| s.to_string()));
    let started = Instant::now();
    let out = run(command(&fake, "audit", endpoints, &args, &[])).await;
    let wall = started.elapsed();
    no_panic(&out);
    let facts = saved_facts(&saved);
    SilentGraphRun {
        out,
        wall,
        facts,
        silent,
    }
}

/// Graph accepts connections and never answers. With `--timeout graph=1` the run costs about
/// one timeout (two requests time out, the rest are not sent), not the 600 s service budget:
/// every `graph.*` fact is an error naming graph and the timeout, the other services are read,
/// and the audit ends with unknowns (exit 3), no Graph-dependent result turned into a fail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unresponsive_graph_costs_one_timeout_and_only_its_checks() {
    let snapshot = example("healthy.snapshot.json");
    let offline_report = report(&offline(&snapshot));
    let run = silent_graph_audit(&snapshot, &["--timeout", "graph=1"]).await;
    let (out, wall, facts, silent) = (run.out, run.wall, run.facts, run.silent);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        wall < Duration::from_secs(10),
        "about one timeout, not the budget: {wall:?}"
    );
    let mut graph = 0;
    for (key, fact) in &facts {
        if !key.starts_with("graph.") {
            continue;
        }
        if key == "graph.userConfigurations" {
            // Read for the agents once their ids are known; none are, so nothing was asked.
            assert_eq!(fact["data"]["value"], serde_json::json!([]), "{fact}");
            continue;
        }
        graph += 1;
        let message = error_message(&facts, key);
        assert!(
            message.contains("no answer from graph within 1 s")
                || message.contains("not sent: graph is not answering (")
                    && message.contains("requests in a row got no answer within 1 s; --timeout graph=SECS waits longer)"),
            "{key}: {message}"
        );
    }
    assert!(
        graph >= 5,
        "the Graph facts are recorded as errors: {graph}"
    );
    for key in [
        "teams.TeamsAcsFederationConfiguration",
        "arm.subscriptions",
        "dataverse.msdyn_occommunicationprovidersettings",
    ] {
        assert!(
            facts[key].get("data").is_some(),
            "{key} read: {}",
            facts[key]
        );
    }
    let live = report(&out);
    only_unknowns_differ(&live, &offline_report);
    // Each request waiting for Graph holds a connection: the first ones time out, the rest
    // are never sent (without the silence rule, every read would be tried up to five times).
    let sent = silent.accepted();
    assert!(sent <= 20, "{sent} Graph requests sent");
    eprintln!(
        "graph silent, --timeout graph=1: {wall:.2?}, e.g. {}",
        error_message(&facts, "graph.organization")
    );
}

/// The run's deadline: with Graph silent and its default 60 s timeout, `--deadline 3` ends the
/// read at 3 s; the audit reports what was read, stderr names graph as still being read, and
/// its facts say the deadline passed. When the sign-in itself outlasts the deadline, the run
/// stops shortly after it with one line naming the sign-in as pending (exit 2).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deadline_ends_the_run_naming_what_was_pending() {
    let snapshot = example("healthy.snapshot.json");
    let graph_silent = silent_graph_audit(&snapshot, &["--deadline", "3"]).await;
    let (out, wall, facts) = (graph_silent.out, graph_silent.wall, graph_silent.facts);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        wall >= Duration::from_secs(3) && wall < Duration::from_secs(8),
        "ends at the deadline: {wall:?}"
    );
    assert!(
        err.contains(
            "the run's deadline of 3 s passed while these services were still being read: graph ("
        ),
        "{err}"
    );
    assert!(
        error_message(&facts, "graph.organization").contains("the run's deadline of 3 s passed"),
        "{}",
        error_message(&facts, "graph.organization")
    );
    assert!(facts["arm.subscriptions"].get("data").is_some());

    // The sign-in outlasts the deadline: stopped 2 s after it, naming the sign-in.
    let fake = fake_with(&snapshot, Faults::default()).await;
    let silent = support::silent_listener();
    let endpoints =
        support::endpoints_with(&fake, "login", &format!("http://{}/login", silent.addr));
    let args: Vec<String> = ["--deadline", "1", "--quiet"].map(String::from).to_vec();
    let started = Instant::now();
    let out = run(command(&fake, "audit", endpoints, &args, &[])).await;
    let wall = started.elapsed();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("did not finish within the run's deadline of 1 s")
            && err.contains("still pending: sign-in (login)"),
        "{err}"
    );
    assert!(wall < Duration::from_secs(6), "{wall:?}");
    eprintln!("deadline: {}", err.trim());
}
