//! `ccaudit explain` as a user meets it: a code, a pair, a pasted error body; the knowledge base
//! behind it; and, with a snapshot, the checks that fail in that tenant first.
//!
//! The command is driven through its clap `Args` and library entry point, so these tests do not
//! depend on how `main.rs` dispatches.

use clap::Parser;
use serde_json::Value;

use ccaudit::commands::explain::{ExplainArgs, render, write};
use ccaudit::engine;
use ccaudit::report::ExitStatus;
use ccaudit::triage::explain::KnowledgeBase;

const FIELD_CASE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/examples/field-case.snapshot.json"
);

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: ExplainArgs,
}

fn args(argv: &[&str]) -> ExplainArgs {
    Cli::try_parse_from(std::iter::once("explain").chain(argv.iter().copied()))
        .unwrap_or_else(|e| panic!("{argv:?} does not parse: {e}"))
        .args
}

/// The table output as a user reads it (colour stripped).
fn explain(argv: &[&str]) -> String {
    let text = render(&args(argv)).unwrap_or_else(|e| panic!("{argv:?} failed: {e}"));
    anstream::adapter::strip_str(&text).to_string()
}

fn explain_json(argv: &[&str]) -> Value {
    let mut all = argv.to_vec();
    all.extend(["--format", "json"]);
    let text = render(&args(&all)).unwrap_or_else(|e| panic!("{argv:?} failed: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

fn entry_ids(json: &Value) -> Vec<String> {
    json["found"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["entry"]["id"].as_str().unwrap().to_string())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// With a snapshot: the failing tenant of the field report

#[test]
fn explain_400801_on_the_field_case_names_acs_federation_and_external_access_first() {
    let text = explain(&["400801", "--snapshot", FIELD_CASE]);
    // The summary is word-wrapped; read it as one paragraph.
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains(
            "400801 is most likely caused here by ACSFED-002 (fail), \
             EXT-001 (fail for 2 of 3 agents)"
        ),
        "{text}"
    );
    assert!(
        flat.contains("IB-002 and IB-003 pass, so information barriers are ruled out"),
        "{text}"
    );
}

#[test]
fn explain_400801_json_lists_failing_checks_before_passing_ones() {
    let json = explain_json(&["400801", "--snapshot", FIELD_CASE]);
    let view = &json["found"][0]["in_tenant"];
    let checks: Vec<(&str, &str)> = view["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["check"].as_str().unwrap(), c["status"].as_str().unwrap()))
        .collect();
    assert_eq!(checks[0], ("ACSFED-002", "fail"), "{checks:?}");
    assert_eq!(checks[1], ("EXT-001", "fail"), "{checks:?}");
    let ext = &view["checks"][1];
    assert_eq!(ext["evaluated"], 3);
    assert_eq!(
        ext["failing"],
        serde_json::json!(["agent2@contoso.com", "agent3@contoso.com"])
    );
    let first_pass = checks.iter().position(|(_, s)| *s == "pass").unwrap();
    assert!(
        checks[..first_pass]
            .iter()
            .all(|(_, s)| ["fail", "missing", "unknown"].contains(s)),
        "{checks:?}"
    );
    assert!(checks.contains(&("IB-002", "pass")), "{checks:?}");
    assert_eq!(json["tenant"]["name"], "Contoso");
}

#[test]
fn a_snapshot_that_cannot_be_read_is_an_error_naming_the_file() {
    let err = render(&args(&["400801", "--snapshot", "no/such.snapshot.json"])).unwrap_err();
    assert!(err.contains("no/such.snapshot.json"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

// ---------------------------------------------------------------------------------------------
// Without a snapshot: meaning, confidence, ranked checks

#[test]
fn explain_403_2203_without_a_snapshot_lists_the_information_barrier_checks_first() {
    let json = explain_json(&["403/2203"]);
    assert_eq!(entry_ids(&json), ["acs-403-2203"]);
    let causes: Vec<&str> = json["found"][0]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(causes[..3], ["IB-002", "IB-003", "IB-001"], "{causes:?}");
    assert_eq!(json["found"][0]["entry"]["confidence"], "field-reported");

    let text = explain(&["403/2203"]);
    assert!(text.contains("1. IB-002"), "{text}");
    assert!(text.contains("--snapshot FILE"), "{text}");
}

#[test]
fn status_and_subcode_typed_as_words_are_one_code() {
    for argv in [
        &["403", "subcode", "2203"][..],
        &["403 subcode 2203"],
        &["2203"],
    ] {
        assert_eq!(entry_ids(&explain_json(argv)), ["acs-403-2203"], "{argv:?}");
    }
}

#[test]
fn pasted_dataverse_error_body_is_recognised_as_400801() {
    let body = r#"{"error":{"code":"0x80048d0b","message":"API Error : Operation is not supported in Open state","@Microsoft.PowerApps.CDS.HelpLink":"http://go.microsoft.com/fwlink/?LinkID=398563&error=Microsoft.Crm.CrmException%3a80048d0b&client=platform","@Microsoft.PowerApps.CDS.InnerError.Message":"API Error : Operation is not supported in Open state"}}"#;
    let json = explain_json(&[body]);
    assert_eq!(entry_ids(&json), ["accept-open-state"]);
    let found = &json["found"][0];
    assert_eq!(found["label"], "400801");
    assert_eq!(found["generic_only"], false);
    assert!(json["unknown"].as_array().unwrap().is_empty());
}

#[test]
fn a_log_line_with_several_codes_explains_each() {
    let log = "AddParticipantFailed resultInfo {code: 403, subCode: 2203}; \
               SCENARIO_INBOUND_ACCEPT2CONNECTED failed: takingTooLongToConnectToCall";
    assert_eq!(
        entry_ids(&explain_json(&[log])),
        ["acs-403-2203", "accept-to-connected-timeout"]
    );
}

#[test]
fn the_generic_dataverse_wrapper_alone_comes_with_a_caution() {
    let text = explain(&["0x80048d0b"]);
    assert!(text.contains("caution:"), "{text}");
}

#[test]
fn an_entry_without_a_check_says_what_is_not_covered() {
    let text = explain(&["408/10057"]);
    assert!(text.contains("no check yet:"), "{text}");
    assert!(text.contains("dual persona"), "{text}");
}

// ---------------------------------------------------------------------------------------------
// Unknown codes

#[test]
fn an_unknown_code_is_not_an_error_and_lists_the_closest_known_codes() {
    let mut out = Vec::new();
    let status = write(&args(&["403/10125"]), &mut out).expect("unknown codes are not an error");
    assert_eq!(status, ExitStatus::Success);
    assert!(!out.is_empty());
    let json = explain_json(&["403/10125"]);
    assert!(json["found"].as_array().unwrap().is_empty());
    let unknown = &json["unknown"][0];
    assert_eq!(unknown["query"], "403/10125");
    assert_eq!(unknown["closest"][0]["code"], "403/10124");

    let text = explain(&["403/10125"]);
    assert!(
        text.contains("403/10125: not in the knowledge base"),
        "{text}"
    );
    assert!(text.contains("closest known:"), "{text}");
}

#[test]
fn a_known_and_an_unknown_code_typed_together_are_both_answered() {
    let json = explain_json(&["400801", "99999"]);
    assert_eq!(entry_ids(&json), ["accept-open-state"]);
    assert_eq!(json["unknown"][0]["query"], "99999");
}

// ---------------------------------------------------------------------------------------------
// The knowledge base itself

fn knowledge_base() -> (KnowledgeBase, engine::CheckSet) {
    let env = engine::cel::environment();
    let checks = engine::catalog::load(&env, None).expect("built-in checks load");
    (
        KnowledgeBase::builtin().expect("checks/errors.yaml parses"),
        checks,
    )
}

#[test]
fn every_check_the_knowledge_base_names_exists() {
    let (kb, checks) = knowledge_base();
    kb.validate_checks(&checks).expect("every check id exists");
}

#[test]
fn every_error_code_a_check_lists_leads_back_to_that_check() {
    let (kb, checks) = knowledge_base();
    for check in checks.values() {
        for code in &check.spec.error_codes {
            let lookup = kb.lookup(code);
            assert!(
                !lookup.found.is_empty(),
                "{} lists `{code}`, which checks/errors.yaml does not know",
                check.spec.id
            );
            for f in lookup.found.iter().filter(|f| !f.generic_only) {
                assert!(
                    kb.linked_checks(f.entry, &checks).contains(&check.spec.id),
                    "`{code}` ({}) does not lead back to {}",
                    f.entry.id,
                    check.spec.id
                );
            }
        }
    }
}

#[test]
fn the_codes_of_the_field_report_and_the_prerequisites_are_known() {
    let (kb, _) = knowledge_base();
    let inputs = [
        "400801",
        "0x80048d0b",
        "Operation is not supported in Open state",
        "403/2203",
        "403/10124",
        "403/10391",
        "403/10105",
        "408/10057",
        "487/10004",
        "487/10003",
        "412/10119",
        "404/580406",
        "UserLicenseNotPresentForbidden",
        "The tenant lacks a service principal for '1fd5118e-2576-4263-8130-9503064c837a'",
        "SubscriptionNotAllowed",
        "SCENARIO_INBOUND_ACCEPT2CONNECTED",
        "takingTooLongToConnectToCall",
        "Invalid cancellation token",
        "403/5221",
        "403/5222",
        "403/510403",
        "410/3112",
        "400/8523",
    ];
    for input in inputs {
        let lookup = kb.lookup(input);
        assert_eq!(lookup.found.len(), 1, "{input}: {:?}", lookup.found);
        let entry = lookup.found[0].entry;
        assert!(
            entry.sources.iter().all(|s| s.url.starts_with("https://")),
            "{input}: every source has a URL"
        );
        assert!(!entry.meaning.trim().is_empty(), "{input}");
    }
}

#[test]
fn a_failing_cause_shows_its_fix_steps() {
    let text = explain(&["400801", "--snapshot", "examples/field-case.snapshot.json"]);
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("fix: grant-acs-policy: reads the user's external access policy"),
        "{text}"
    );
    assert!(flat.contains("fix: allow-acs-resource:"), "{text}");
    let json = explain_json(&["400801", "--snapshot", "examples/field-case.snapshot.json"]);
    let checks = json["found"][0]["in_tenant"]["checks"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let ext = checks
        .iter()
        .find(|c| c["check"] == "EXT-001")
        .expect("EXT-001 is linked");
    assert!(
        ext["fix"][0]
            .as_str()
            .is_some_and(|l| l.starts_with("grant-acs-policy")),
        "{ext}"
    );
    let pass = checks
        .iter()
        .find(|c| c["status"] == "pass")
        .expect("a cause passes");
    assert!(
        pass.get("fix").is_none(),
        "a passing check shows no fix: {pass}"
    );
}

#[test]
fn with_a_snapshot_explain_ends_with_the_call_paths_its_causes_break() {
    let text = explain(&["400801", "--snapshot", FIELD_CASE]);
    let at = text
        .find("call paths these causes break")
        .unwrap_or_else(|| panic!("{text}"));
    let trace = &text[at..];
    assert!(
        trace.contains("+14255550150: broken at Number (NUM-002)"),
        "{trace}"
    );
    assert!(
        trace.contains("blocked at external access (EXT-001)"),
        "{trace}"
    );
    // Without a tenant there is no path to draw.
    assert!(!explain(&["400801"]).contains("call paths"));
}
