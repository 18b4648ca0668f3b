//! `ccaudit diff`, the "works in the partner's tenant, not in ours" tool, on the bundled examples:
//! A is the healthy tenant (voice works), B the field-report tenant. The diff must name the
//! settings that explain B's failures as relationships each tenant has or lacks, never as raw
//! ids, and must not flag what naturally differs between two tenants.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ccaudit::commands::diff::{DiffArgs, DiffFormat, compare, run};
use ccaudit::engine::{self, Status};
use ccaudit::model::AuditConfig;
use ccaudit::report::ExitStatus;
use ccaudit::snapshot::Snapshot;
use ccaudit::triage::diff::{self, Audited, Diff, PolicyUse, Val};

/// The license SKU the example agents hold for Dynamics 365 (what `--cc-sku` names).
const CONTACT_CENTER_SKU: &str = "DYN365_CUSTOMER_SERVICE_PREMIUM";

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
}

fn snapshot(name: &str) -> Snapshot {
    Snapshot::load(&example(name)).expect("the example snapshot loads")
}

fn audited(snapshot: &Snapshot) -> Audited {
    let env = engine::cel::environment();
    let checks = engine::catalog::load(&env, None).expect("the built-in checks load");
    let config = AuditConfig {
        contact_center_skus: vec![CONTACT_CENTER_SKU.into()],
    };
    Audited::from_snapshot(snapshot, config, &env, &checks)
}

fn diff_of(a: &Snapshot, b: &Snapshot) -> Diff {
    let (a, b) = (audited(a), audited(b));
    diff::diff(&a.model, &a.results, &b.model, &b.results)
}

/// Computed once: evaluating every check twice is the slow part of these tests.
fn healthy_vs_field_case() -> Diff {
    static DIFF: OnceLock<Diff> = OnceLock::new();
    DIFF.get_or_init(|| {
        diff_of(
            &snapshot("healthy.snapshot.json"),
            &snapshot("field-case.snapshot.json"),
        )
        .with_sources("healthy.snapshot.json", "field-case.snapshot.json")
    })
    .clone()
}

fn row<'d>(diff: &'d Diff, key: &str) -> &'d diff::Row {
    diff.row(key)
        .unwrap_or_else(|| panic!("no row `{key}` in the diff"))
}

fn args(a: &str, b: &str, format: DiffFormat, all: bool) -> DiffArgs {
    DiffArgs {
        a: PathBuf::from(a),
        b: Some(PathBuf::from(b)),
        live: Default::default(),
        format,
        all,
        cc_skus: vec![CONTACT_CENTER_SKU.into()],
        checks: None,
        limit: Default::default(),
    }
}

#[test]
fn acs_federation_difference_is_whether_each_tenants_own_d365_acs_id_is_allowed() {
    let d = healthy_vs_field_case();
    let allowed = row(&d, "acs_federation.d365_acs_id_allowed");
    assert_eq!(
        (&allowed.a, &allowed.b),
        (&Val::Bool(true), &Val::Bool(false))
    );
    assert!(allowed.differs);
    // B's allow-list holds an ARM path where the immutable id belongs.
    let invalid = row(&d, "acs_federation.invalid_count");
    assert_eq!((&invalid.a, &invalid.b), (&Val::Int(0), &Val::Int(1)));
    assert!(invalid.differs);
    // Both lists have two entries: their length is not the difference.
    assert!(!row(&d, "acs_federation.allowed_count").differs);
}

#[test]
fn external_access_difference_names_the_policy_that_blocks_acs_for_agents() {
    let d = healthy_vs_field_case();
    let allowed = row(&d, "external_access.agents_acs_allowed");
    assert_eq!(allowed.a, Val::Ratio { count: 3, of: 3 });
    assert_eq!(allowed.b, Val::Ratio { count: 1, of: 3 });
    assert!(allowed.differs);
    let policies = row(&d, "external_access.agent_policies");
    assert!(policies.differs);
    let Val::Policies(b) = &policies.b else {
        panic!("agent policies are a policy list: {:?}", policies.b)
    };
    assert!(
        b.contains(&PolicyUse {
            policy: "Tag:CC-Restricted".into(),
            builtin: false,
            acs_allowed: Some(false),
            count: 2,
        }),
        "{b:?}"
    );
    // B has a custom policy that blocks ACS; A has none. The name is shown, not compared.
    let custom = row(&d, "external_access.custom_policies");
    assert_eq!(custom.a, Val::Policies(vec![]));
    assert!(custom.differs);
    assert_eq!(custom.b.display(), "Tag:CC-Restricted (ACS blocked): 2");
}

#[test]
fn operator_connect_number_without_voice_application_capability_differs() {
    let d = healthy_vs_field_case();
    let oc = row(&d, "numbers.ra_operatorConnect_voice_application");
    assert_eq!(oc.a, Val::Ratio { count: 1, of: 1 });
    assert_eq!(oc.b, Val::Ratio { count: 0, of: 1 });
    assert!(oc.differs);
    // Direct Routing numbers have the capability in both tenants, however many there are.
    assert!(!row(&d, "numbers.ra_directRouting_voice_application").differs);
}

#[test]
fn d365_sync_coverage_differs() {
    let d = healthy_vs_field_case();
    let synced = row(&d, "numbers.ra_synced_to_d365");
    assert_eq!(synced.a, Val::Ratio { count: 2, of: 2 });
    assert_eq!(synced.b, Val::Ratio { count: 2, of: 3 });
    assert!(synced.differs);
}

#[test]
fn verdicts_that_differ_are_the_field_report_failures_and_exit_one() {
    let d = healthy_vs_field_case();
    let differing: BTreeSet<&str> = d
        .verdicts
        .iter()
        .filter(|v| v.differs)
        .map(|v| v.check.as_str())
        .collect();
    for check in ["ACSFED-002", "EXT-001", "NUM-002", "NUM-008"] {
        assert!(differing.contains(check), "{check} not in {differing:?}");
        let v = d.verdicts.iter().find(|v| v.check == check).unwrap();
        assert_eq!(
            v.a.as_ref().map(|a| a.status),
            Some(Status::Pass),
            "{check}"
        );
        assert!(
            v.b.as_ref().is_some_and(|b| b.status.is_finding()),
            "{check}: {:?}",
            v.b
        );
    }
    assert_eq!(d.totals.verdicts_differ, differing.len());
    assert_eq!(d.exit_status(), ExitStatus::Findings);
}

#[test]
fn natural_differences_between_tenants_are_not_reported() {
    // B has three contact-center resource accounts, A two; all of them are correctly bound in
    // both tenants, to each tenant's own Dynamics App ID and ACS id.
    let d = healthy_vs_field_case();
    for key in [
        "resource_accounts.count",
        "resource_accounts.in_scope",
        "resource_accounts.app_id_is_dynamics_app_id",
        "resource_accounts.acs_id_is_d365_acs_id",
        "resource_accounts.licensed",
        "numbers.ra_by_type",
        "ib.separated",
    ] {
        let r = row(&d, key);
        assert!(!r.differs, "{key}: {:?} vs {:?}", r.a, r.b);
    }
    assert_eq!(
        row(&d, "resource_accounts.in_scope").a,
        Val::Int(2),
        "the values themselves are still shown"
    );
    let only = d.only_differences();
    assert!(only.row("resource_accounts.in_scope").is_none());
}

#[test]
fn a_snapshot_diffed_with_itself_is_empty_and_exits_zero() {
    let healthy = snapshot("healthy.snapshot.json");
    let d = diff_of(&healthy, &healthy);
    assert_eq!(d.totals.settings_differ, 0);
    assert_eq!(d.totals.verdicts_differ, 0);
    assert_eq!(d.exit_status(), ExitStatus::Success);
    let only = d.only_differences();
    assert!(only.settings.is_empty() && only.verdicts.is_empty());
    let path = example("healthy.snapshot.json").display().to_string();
    let (text, status) = compare(
        &healthy,
        &healthy,
        &args(&path, &path, DiffFormat::Table, false),
        &engine::cel::environment(),
        &engine::catalog::load(&engine::cel::environment(), None).unwrap(),
    );
    assert_eq!(status, ExitStatus::Success);
    assert!(text.trim_end().ends_with("no differences"), "{text}");
}

#[test]
fn a_fact_that_could_not_be_read_is_shown_as_unavailable_not_as_a_value() {
    let healthy = snapshot("healthy.snapshot.json");
    let mut forbidden = healthy.clone();
    let fact = forbidden
        .facts
        .get_mut("teams.TeamsAcsFederationConfiguration")
        .unwrap();
    fact.data = None;
    fact.error = Some(ccaudit::snapshot::SourceError {
        status: Some(403),
        code: Some("Forbidden".into()),
        message: "Access denied".into(),
    });
    let d = diff_of(&healthy, &forbidden);
    let allowed = row(&d, "acs_federation.d365_acs_id_allowed");
    assert_eq!(
        allowed.b,
        Val::Unavailable {
            unavailable: "forbidden".into()
        }
    );
    assert!(allowed.differs);
    assert_eq!(allowed.b.display(), "unavailable (forbidden)");
}

#[test]
fn table_shows_only_differences_by_default() {
    insta::assert_snapshot!(
        "healthy_vs_field_case_table",
        diff::render_table(&healthy_vs_field_case().only_differences())
    );
}

#[test]
fn table_with_all_marks_the_differing_rows() {
    let text = diff::render_table(&healthy_vs_field_case());
    let marked: Vec<&str> = text.lines().filter(|l| l.contains('≠')).collect();
    assert!(marked.iter().any(|l| l.contains("ACSFED-002")), "{text}");
    assert!(
        text.lines()
            .any(|l| l.contains("EnableAcsUsers") && !l.contains('≠')),
        "equal rows are shown too:\n{text}"
    );
}

#[test]
fn json_lists_the_differences_with_typed_values() {
    let text = diff::render_json(&healthy_vs_field_case().only_differences());
    let json: serde_json::Value = serde_json::from_str(&text).expect("the diff is JSON");
    assert_eq!(json["schema_version"], 1);
    assert_eq!(json["a"]["source"], "healthy.snapshot.json");
    let rows: Vec<&serde_json::Value> = json["settings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["rows"].as_array().unwrap())
        .collect();
    let allowed = rows
        .iter()
        .find(|r| r["key"] == "acs_federation.d365_acs_id_allowed")
        .unwrap();
    assert_eq!(
        (&allowed["a"], &allowed["b"]),
        (&true.into(), &false.into())
    );
    let synced = rows
        .iter()
        .find(|r| r["key"] == "numbers.ra_synced_to_d365")
        .unwrap();
    assert_eq!(synced["b"], serde_json::json!({"count": 2, "of": 3}));
    let nums002 = json["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["check"] == "NUM-002")
        .unwrap();
    assert_eq!(nums002["b"]["status"], "fail");
    assert_eq!(
        nums002["b"]["counts"],
        serde_json::json!({"fail": 1, "pass": 2})
    );
    insta::assert_snapshot!("healthy_vs_field_case_json", text);
}

#[test]
fn command_exits_one_when_verdicts_differ_and_renders_json() {
    let env = engine::cel::environment();
    let checks = engine::catalog::load(&env, None).unwrap();
    let (text, status) = compare(
        &snapshot("healthy.snapshot.json"),
        &snapshot("field-case.snapshot.json"),
        &args("A.json", "B.json", DiffFormat::Json, false),
        &env,
        &checks,
    );
    assert_eq!(status, ExitStatus::Findings);
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["b"]["source"], "B.json");
    assert!(
        json["verdicts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["differs"] == true),
        "without --all only differences are listed"
    );
}

#[test]
fn unreadable_snapshot_is_an_input_error_naming_the_file() {
    let err = run(args(
        "examples/healthy.snapshot.json",
        "no/such/snapshot.json",
        DiffFormat::Table,
        false,
    ))
    .unwrap_err();
    assert!(err.starts_with("no/such/snapshot.json: "), "{err}");
    assert!(!err.contains('\n'), "{err}");
}

#[test]
fn command_line_parses_positional_snapshots_and_flags() {
    use clap::{CommandFactory, Parser};
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: DiffArgs,
    }
    Cli::command().debug_assert();
    let cli = Cli::try_parse_from(["diff", "a.json", "b.json", "--format", "json", "--all"])
        .expect("parses");
    assert_eq!(cli.args.a, PathBuf::from("a.json"));
    assert_eq!(cli.args.format, DiffFormat::Json);
    assert!(cli.args.all);
    assert!(
        Cli::try_parse_from(["diff", "a.json"]).is_err(),
        "B is required"
    );
}
