//! The bundled example tenants, audited end to end through the library API (snapshot → model →
//! built-in checks → report): the healthy tenant is clean, and the field-report tenant fails
//! exactly where the field report says it hurts, with a fix for each failure.

use std::collections::BTreeSet;
use std::path::Path;

use ccaudit::engine::{self, CheckResult, Status};
use ccaudit::model::{AuditConfig, TenantModel};
use ccaudit::report::{self, Report};
use ccaudit::snapshot::Snapshot;

/// The license SKU the example agents hold for Dynamics 365 (what `--cc-sku` names).
const CONTACT_CENTER_SKU: &str = "DYN365_CUSTOMER_SERVICE_PREMIUM";

fn load(example: &str) -> Snapshot {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(example);
    Snapshot::load(&path).expect("the example snapshot loads")
}

fn audit(example: &str) -> (TenantModel, Vec<CheckResult>) {
    let config = AuditConfig {
        contact_center_skus: vec![CONTACT_CENTER_SKU.into()],
    };
    audit_snapshot(&load(example), config)
}

fn audit_snapshot(snapshot: &Snapshot, config: AuditConfig) -> (TenantModel, Vec<CheckResult>) {
    let model = TenantModel::from_snapshot(snapshot, config);
    let env = engine::cel::environment();
    let checks = engine::catalog::load(&env, None).expect("the built-in checks load");
    let results = engine::evaluate(&env, &checks, &model);
    (model, results)
}

fn describe(results: &[&CheckResult]) -> String {
    results
        .iter()
        .map(|r| {
            let subject = r
                .subject
                .as_ref()
                .map(|s| s.name.as_str())
                .unwrap_or("tenant");
            format!(
                "{} {} [{}]: {}",
                r.status.as_str(),
                r.check,
                subject,
                r.message
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn with_status<'a>(results: &'a [CheckResult], wanted: &[Status]) -> Vec<&'a CheckResult> {
    results
        .iter()
        .filter(|r| wanted.contains(&r.status))
        .collect()
}

fn failing_checks(results: &[CheckResult]) -> BTreeSet<&str> {
    results
        .iter()
        .filter(|r| r.status.is_finding())
        .map(|r| r.check.as_str())
        .collect()
}

#[test]
fn healthy_tenant_has_no_fail_missing_or_unknown_result() {
    let (_, results) = audit("healthy.snapshot.json");
    let bad = with_status(&results, &[Status::Fail, Status::Missing, Status::Unknown]);
    assert!(
        bad.is_empty(),
        "the healthy example should be clean:\n{}",
        describe(&bad)
    );
    assert!(
        results.iter().any(|r| r.status == Status::Pass),
        "the healthy example should pass checks, not skip them all"
    );
}

/// The healthy example's agents hold `DYN365_CUSTOMER_SERVICE_PREMIUM` (skuId 2f9a8e7d-…), which
/// Microsoft's licensing reference does not list: without `--cc-sku` LIC-005 cannot be decided
/// for them, and says which flag decides it. Everything else stays clean.
#[test]
fn healthy_tenant_without_configuration_is_unknown_only_for_its_undocumented_license() {
    let (_, results) = audit_snapshot(&load("healthy.snapshot.json"), AuditConfig::default());
    let not_clean = with_status(&results, &[Status::Fail, Status::Missing, Status::Unknown]);
    assert_eq!(not_clean.len(), 3, "{}", describe(&not_clean));
    for r in not_clean {
        assert_eq!((r.check.as_str(), r.status), ("LIC-005", Status::Unknown));
        assert!(
            r.message
                .ends_with("rerun with --cc-sku DYN365_CUSTOMER_SERVICE_PREMIUM"),
            "{}",
            r.message
        );
    }
}

/// The healthy tenant as it would be licensed with a SKU Microsoft's licensing reference lists:
/// with no configuration at all, LIC-005 passes and the audit is clean (exit 0).
#[test]
fn healthy_tenant_with_a_documented_contact_center_sku_is_clean_without_configuration() {
    let documented = ccaudit::config::DOCUMENTED_CONTACT_CENTER_SKUS[0];
    let text = load("healthy.snapshot.json")
        .to_json_pretty()
        .replace(CONTACT_CENTER_SKU, documented.part_number)
        .replace("2f9a8e7d-6c5b-4a49-9382-71605f4e3d2c", documented.sku_id);
    let snapshot = Snapshot::parse(&text, "relicensed healthy").unwrap();
    let (model, results) = audit_snapshot(&snapshot, AuditConfig::default());
    let bad = with_status(&results, &[Status::Fail, Status::Missing, Status::Unknown]);
    assert!(bad.is_empty(), "{}", describe(&bad));
    let lic_005: Vec<_> = results
        .iter()
        .filter(|r| r.check == "LIC-005" && r.status == Status::Pass)
        .collect();
    assert_eq!(lic_005.len(), 3);
    assert!(
        lic_005
            .iter()
            .all(|r| r.message == "has DYNAMICS_365_CONTACT_CENTER")
    );
    let report = Report::new(&model, "snapshot", results);
    assert_eq!(
        report.exit_status(ccaudit::engine::Severity::Low),
        report::ExitStatus::Success
    );
}

#[test]
fn healthy_tenant_reads_every_fact_its_snapshot_holds() {
    let (model, _) = audit("healthy.snapshot.json");
    let unavailable = model.unavailable_facts();
    assert!(
        unavailable.is_empty(),
        "every fact of the healthy example should be available: {unavailable:#?}"
    );
}

#[test]
fn healthy_tenant_scopes_out_the_auto_attendant_resource_account() {
    let (_, results) = audit("healthy.snapshot.json");
    let auto_attendant = [
        "ra_aa_reception@contoso.com",
        "9f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
    ];
    let about_auto_attendant: Vec<_> = results
        .iter()
        .filter(|r| {
            r.subject.as_ref().is_some_and(|s| {
                auto_attendant
                    .iter()
                    .any(|a| s.name.contains(a) || s.id.contains(a))
            })
        })
        .collect();
    assert!(
        about_auto_attendant.is_empty(),
        "the auto attendant's resource account is not the contact center's:\n{}",
        describe(&about_auto_attendant)
    );
}

#[test]
fn field_case_fails_exactly_where_the_field_report_hurts() {
    let (_, results) = audit("field-case.snapshot.json");
    let expected: BTreeSet<&str> =
        ["ACSFED-002", "EXT-001", "EXT-002", "NUM-002", "NUM-008"].into();
    assert_eq!(
        failing_checks(&results),
        expected,
        "findings:\n{}",
        describe(&with_status(&results, &[Status::Fail, Status::Missing]))
    );
}

#[test]
fn field_case_line_that_never_synced_is_missing_from_d365() {
    let (_, results) = audit("field-case.snapshot.json");
    let unsynced = "+14255550175";
    let num_008: Vec<_> = results
        .iter()
        .filter(|r| r.check == "NUM-008" && r.status.is_finding())
        .collect();
    assert_eq!(num_008.len(), 1, "{}", describe(&num_008));
    assert_eq!(
        num_008[0].status,
        Status::Missing,
        "the D365 row does not exist at all"
    );
    assert_eq!(
        num_008[0].subject.as_ref().map(|s| s.name.as_str()),
        Some(unsynced)
    );
}

#[test]
fn field_case_flags_only_the_operator_connect_number_uploaded_for_users() {
    let (_, results) = audit("field-case.snapshot.json");
    let failing: Vec<&str> = results
        .iter()
        .filter(|r| r.check == "NUM-002" && r.status == Status::Fail)
        .filter_map(|r| r.subject.as_ref().map(|s| s.name.as_str()))
        .collect();
    assert_eq!(failing, ["+14255550150"]);
}

#[test]
fn field_case_audit_is_complete() {
    let (_, results) = audit("field-case.snapshot.json");
    let unknown = with_status(&results, &[Status::Unknown]);
    assert!(unknown.is_empty(), "{}", describe(&unknown));
}

#[test]
fn field_case_rules_out_information_barriers_with_evidence() {
    let (model, results) = audit("field-case.snapshot.json");
    let policies = model
        .compliance
        .ib_policies
        .value()
        .expect("IB policies were read");
    assert!(
        policies.iter().any(|p| p.active),
        "the field case has active IB policies"
    );
    let ib_002: Vec<_> = results.iter().filter(|r| r.check == "IB-002").collect();
    assert!(
        !ib_002.is_empty(),
        "IB-002 must evaluate agent × resource account pairs"
    );
    let not_pass: Vec<_> = ib_002
        .iter()
        .copied()
        .filter(|r| r.status != Status::Pass)
        .collect();
    assert!(not_pass.is_empty(), "{}", describe(&not_pass));
}

#[test]
fn field_case_flags_the_agents_with_the_restricted_external_access_policy() {
    let (_, results) = audit("field-case.snapshot.json");
    let failing_agents: BTreeSet<&str> = results
        .iter()
        .filter(|r| r.check == "EXT-001" && r.status == Status::Fail)
        .filter_map(|r| r.subject.as_ref().map(|s| s.name.as_str()))
        .collect();
    assert!(
        failing_agents.iter().all(|a| !a.contains("agent1")),
        "agent1 keeps the Global policy: {failing_agents:?}"
    );
    assert_eq!(failing_agents.len(), 2, "{failing_agents:?}");
}

#[test]
fn every_field_case_finding_says_how_to_fix_it() {
    let (_, results) = audit("field-case.snapshot.json");
    for r in results.iter().filter(|r| r.status.is_finding()) {
        let remediation = r.remediation.as_deref().unwrap_or("");
        assert!(
            !remediation.trim().is_empty(),
            "{} has no remediation: {}",
            r.check,
            r.message
        );
        assert!(!r.docs.is_empty(), "{} links no documentation", r.check);
    }
}

#[test]
fn acs_federation_finding_names_the_arm_path_found_instead_of_the_immutable_id() {
    let (_, results) = audit("field-case.snapshot.json");
    let acsfed = results
        .iter()
        .find(|r| r.check == "ACSFED-002" && r.status == Status::Fail)
        .expect("ACSFED-002 fails");
    assert!(
        acsfed.message.contains("/subscriptions/"),
        "{}",
        acsfed.message
    );
    let remediation = acsfed.remediation.as_deref().unwrap_or("");
    assert!(
        remediation.contains("bb567890-1234-1234-1234-bbb123456789"),
        "the fix names the D365 ACS immutable id: {remediation}"
    );
}

#[test]
fn field_case_table_report() {
    let (model, results) = audit("field-case.snapshot.json");
    let report = Report::new(&model, "snapshot", results);
    // At the width used when stdout is not a terminal and COLUMNS is not set.
    let text = report::table::render_width(&report, report::table::DEFAULT_WIDTH);
    let plain = anstream::adapter::strip_str(&text).to_string();
    insta::assert_snapshot!(plain);
}
