//! `ccaudit permissions`: what a read-only audit needs, derived from the source catalog, and
//! which checks each grant unlocks.
//!
//! Driven through the command's library entry point, so these tests do not depend on how
//! `main.rs` dispatches.

use std::collections::BTreeSet;

use serde_json::Value;

use ccaudit::commands::permissions::{PermissionsArgs, PermissionsFormat, render};
use ccaudit::engine;
use ccaudit::source_catalog::{Api, SOURCES};

fn permissions(format: PermissionsFormat) -> String {
    permissions_with(format, false)
}

fn permissions_with(format: PermissionsFormat, delegated: bool) -> String {
    let text = render(&PermissionsArgs { format, delegated }).expect("permissions renders");
    anstream::adapter::strip_str(&text).to_string()
}

fn json() -> Value {
    serde_json::from_str(&permissions(PermissionsFormat::Json)).expect("JSON")
}

fn check_ids() -> BTreeSet<String> {
    let env = engine::cel::environment();
    engine::catalog::load(&env, None)
        .expect("built-in checks load")
        .into_keys()
        .collect()
}

#[test]
fn the_table_lists_every_source_of_the_catalog() {
    let table = permissions(PermissionsFormat::Table);
    for s in SOURCES {
        assert!(
            table.lines().any(|l| l == s.key.as_str()),
            "{} is missing:\n{table}",
            s.key
        );
    }
}

#[test]
fn every_check_is_unlocked_by_some_source() {
    let json = json();
    let unlocked: BTreeSet<String> = json["sources"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["checks"].as_array().unwrap())
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert_eq!(unlocked, check_ids());
    assert_eq!(json["checks_without_source"], serde_json::json!([]));

    let table = permissions(PermissionsFormat::Table);
    for id in check_ids() {
        assert!(table.contains(&id), "{id} is missing from the table");
    }
}

#[test]
fn grants_are_the_catalog_s_own() {
    let json = json();
    let sources = json["sources"].as_array().unwrap();
    assert_eq!(sources.len(), SOURCES.len());
    for (spec, s) in SOURCES.iter().zip(sources) {
        assert_eq!(s["key"], spec.key.as_str());
        assert_eq!(
            s["needs"], spec.needs,
            "the sentence users see when it fails"
        );
        let roles: Vec<&str> = s["entra_roles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        assert_eq!(roles, spec.entra_roles);
    }
}

#[test]
fn a_source_unlocks_the_checks_that_need_its_facts() {
    let json = json();
    let checks_of = |key: &str| -> Vec<String> {
        json["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["key"] == key)
            .unwrap()["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        checks_of("teams.TeamsAcsFederationConfiguration"),
        ["ACSFED-001", "ACSFED-002", "ACSFED-003"]
    );
    let ib = checks_of("compliance.InformationBarrierPolicy");
    for id in ["IB-001", "IB-002", "IB-003"] {
        assert!(ib.iter().any(|c| c == id), "{ib:?}");
    }
}

#[test]
fn a_fact_with_a_fallback_source_names_the_alternative() {
    let json = json();
    let user_configs = json["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == "graph.userConfigurations")
        .unwrap();
    let teams_users = user_configs["facts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["fact"] == "teams.users")
        .unwrap();
    assert_eq!(
        teams_users["alternatives"],
        serde_json::json!(["teams.onlineUsers"])
    );
}

// ---------------------------------------------------------------------------------------------
// --format script

fn permission_lines(script: &str) -> Vec<&str> {
    script
        .lines()
        .filter(|l| l.starts_with("az ad app permission add"))
        .collect()
}

#[test]
fn the_script_grants_only_read_permissions() {
    let script = permissions(PermissionsFormat::Script);
    assert!(!script.contains("ReadWrite"), "{script}");
    assert!(!script.contains("=Scope"), "application permissions only");
    for line in permission_lines(&script) {
        let name = line.split("# ").nth(1).unwrap_or("");
        assert!(
            name.contains(".Read") || name.starts_with("Exchange.ManageAsApp"),
            "{line}"
        );
    }
}

#[test]
fn the_script_grants_exactly_the_catalog_s_application_permissions() {
    let script = permissions(PermissionsFormat::Script);
    let expected: BTreeSet<(String, String)> = SOURCES
        .iter()
        .flat_map(|s| s.application)
        .map(|p| {
            (
                p.api.app_id().to_string(),
                format!("{}=Role", p.id.expect("app role id")),
            )
        })
        .collect();
    let granted: BTreeSet<(String, String)> = permission_lines(&script)
        .iter()
        .map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            let after = |flag: &str| {
                let i = words.iter().position(|w| *w == flag).unwrap();
                words[i + 1].to_string()
            };
            (after("--api"), after("--api-permissions"))
        })
        .collect();
    assert_eq!(granted, expected);
    assert!(
        granted
            .iter()
            .any(|(api, _)| api == Api::MicrosoftGraph.app_id())
    );
    assert!(script.contains("az ad app create"), "{script}");
    assert!(
        script.contains("az ad app permission admin-consent"),
        "{script}"
    );
}

#[test]
fn the_script_marks_ids_from_a_single_source_for_verification() {
    let script = permissions(PermissionsFormat::Script);
    for s in SOURCES {
        for p in s.application {
            let line = permission_lines(&script)
                .into_iter()
                .find(|l| l.contains(p.id.unwrap()))
                .unwrap();
            assert_eq!(line.ends_with("# verify"), !p.id_confirmed, "{line}");
        }
    }
}

#[test]
fn the_script_tells_how_to_grant_roles_rbac_and_dataverse() {
    let script = permissions(PermissionsFormat::Script);
    for needle in [
        "Teams Administrator",
        "Global Reader",
        "Compliance Administrator",
        "Exchange.ManageAsApp",
        "--role Reader",
        "Omnichannel administrator",
    ] {
        assert!(script.contains(needle), "{needle} missing:\n{script}");
    }
}

#[test]
fn the_script_is_valid_bash() {
    assert_valid_bash(&permissions(PermissionsFormat::Script));
}

fn assert_valid_bash(script: &str) {
    let Ok(mut child) = std::process::Command::new("bash")
        .arg("-n")
        .stdin(std::process::Stdio::piped())
        .spawn()
    else {
        eprintln!("bash not found; syntax not checked");
        return;
    };
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    assert!(
        child.wait().unwrap().success(),
        "bash -n rejects:\n{script}"
    );
}

#[test]
fn discovery_sources_say_what_they_find_and_are_not_asked_of_the_app_s_roles() {
    let json = json();
    let discovery: Vec<&Value> = json["sources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s.get("discovery").is_some())
        .collect();
    let keys: BTreeSet<&str> = discovery.iter().filter_map(|s| s["key"].as_str()).collect();
    assert_eq!(
        keys,
        BTreeSet::from(["dataverse.systemusers", "powerplatform.environments"])
    );
    for s in &discovery {
        assert!(s["checks"].as_array().unwrap().is_empty(), "{s}");
    }
    let script = permissions(PermissionsFormat::Script);
    // The admin API ignores an app's directory roles: the app is registered with it instead.
    assert!(!script.contains("Power Platform Administrator: powerplatform.environments"));
    assert!(script.contains("New-PowerAppManagementApp -ApplicationId $APP_ID"));
    let table = permissions(PermissionsFormat::Table);
    assert!(table.contains("finds the Dataverse org when --dataverse-url is not given"));
}

/// The D365 Teams Phone page accepts a Teams Telephony Administrator as well as a Teams
/// Administrator for the number sync that reads Graph resourceAccounts; the ACS Teams Phone
/// extensibility quickstart documents that API for delegated sign-in only, so the app-only
/// permission is listed with a note that it may be refused and what is read instead.
#[test]
fn graph_resource_accounts_names_both_roles_and_that_app_only_may_be_refused() {
    let json = json();
    let ra = json["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == "graph.resourceAccounts")
        .unwrap();
    assert_eq!(
        ra["entra_roles"],
        serde_json::json!(["Teams Administrator", "Teams Telephony Administrator"])
    );
    let note = ra["note"].as_str().expect("a note");
    for needle in [
        "delegated sign-in only",
        "may be refused",
        "teams.applicationInstances",
    ] {
        assert!(note.contains(needle), "{needle}: {note}");
    }
    let needs = ra["needs"].as_str().unwrap();
    assert!(needs.contains("Teams Telephony Administrator"), "{needs}");
    assert!(needs.contains("app-only token may be refused"), "{needs}");

    let table = permissions(PermissionsFormat::Table);
    let block = &table[table.find("\ngraph.resourceAccounts\n").unwrap()..];
    let block = &block[..block[1..].find("\n== ").unwrap()];
    assert!(
        block.contains("Entra role: Teams Administrator | Teams Telephony Administrator (any one)"),
        "{block}"
    );
    assert!(block.contains("note:"), "{block}");
    let script = permissions(PermissionsFormat::Script);
    assert!(
        script.contains("# Note on graph.resourceAccounts: Microsoft documents this API for"),
        "{script}"
    );
    // Sources without such a caveat carry no note.
    assert!(
        json["sources"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["key"] != "graph.resourceAccounts")
            .all(|s| s.get("note").is_none())
    );
}

// ---------------------------------------------------------------------------------------------
// --delegated: a person signing in with their own app registration

/// (API app id, permission name) of the catalog's delegated permissions of the sources a
/// person's sign-in reads (Security & Compliance is not tried with a person's token).
fn catalog_delegated() -> BTreeSet<(String, String)> {
    SOURCES
        .iter()
        .filter(|s| !s.key.as_str().starts_with("compliance."))
        .flat_map(|s| s.delegated)
        .map(|p| (p.api.app_id().to_string(), p.name.to_string()))
        .collect()
}

#[test]
fn delegated_lists_the_catalog_s_delegated_permissions_and_the_roles_a_person_holds() {
    let json = json();
    let listed: BTreeSet<(String, String)> = json["delegated_permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["api_app_id"].as_str().unwrap().to_string(),
                p["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(listed, catalog_delegated());
    assert!(listed.contains(&(
        Api::TeamsAdmin.app_id().to_string(),
        "user_impersonation".to_string()
    )));
    let not_read: Vec<&str> = json["not_read_by_a_person"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert_eq!(
        not_read,
        [
            "compliance.InformationBarrierPolicy",
            "compliance.OrganizationSegment",
            "compliance.PolicyConfig"
        ]
    );
    let person_roles: Vec<&str> = json["person_entra_roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["role"].as_str().unwrap())
        .collect();
    assert_eq!(
        person_roles,
        ["Teams Administrator"],
        "no role for what is not read"
    );

    let table = permissions_with(PermissionsFormat::Table, true);
    let summary = table
        .split("Signed in as a person")
        .nth(1)
        .expect("the person's summary");
    for (_, name) in catalog_delegated() {
        assert!(
            summary.lines().any(|l| l.trim() == name),
            "{name}:\n{summary}"
        );
    }
    for needle in [
        "Roles the signed-in person must hold:",
        "Entra Teams Administrator",
        "Azure RBAC Reader",
        "Omnichannel administrator",
        "ccaudit collect --script",
    ] {
        assert!(summary.contains(needle), "{needle}:\n{summary}");
    }
    assert!(table.contains("App-only audit, application permissions to grant:"));
    assert!(
        !permissions(PermissionsFormat::Table).contains("Signed in as a person"),
        "only with --delegated"
    );
}

#[test]
fn the_delegated_script_consents_exactly_those_scopes_for_a_public_client() {
    let script = permissions_with(PermissionsFormat::Script, true);
    assert_valid_bash(&script);
    assert!(!script.contains("=Role"), "delegated permissions only");
    assert!(!script.contains("ReadWrite"), "{script}");
    assert!(script.contains("--is-fallback-public-client true"));
    assert!(script.contains("az ad app permission admin-consent"));
    let granted: BTreeSet<(String, String)> = permission_lines(&script)
        .iter()
        .map(|l| {
            // --api-permissions "$(scope_id API NAME)=Scope"
            let inner = l.split("$(scope_id ").nth(1).unwrap();
            let inner = inner.split(")=Scope").next().unwrap();
            let (api, name) = inner.split_once(' ').unwrap();
            assert!(l.contains(&format!("--api {api} ")), "{l}");
            (api.to_string(), name.to_string())
        })
        .collect();
    assert_eq!(granted, catalog_delegated());
    assert!(script.contains("--auth device-code --client-id $APP_ID"));
}
