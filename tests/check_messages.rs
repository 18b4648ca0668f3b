//! Every check's rendered messages and remediation for both examples, as reviewed snapshots:
//! a change to a check's message or remediation template shows up in review as a diff of
//! what users read (`cargo insta review` to accept a deliberate one).

use std::path::Path;

use ccaudit::engine;
use ccaudit::model::{AuditConfig, TenantModel};
use ccaudit::snapshot::Snapshot;
use serde::Serialize;

#[derive(Serialize)]
struct Rendered {
    check: String,
    status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<String>,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    remediation: Option<String>,
}

fn rendered(example: &str) -> Vec<Rendered> {
    let snapshot = Snapshot::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join(example))
        .expect("the example loads");
    let model = TenantModel::from_snapshot(&snapshot, AuditConfig::default());
    let env = engine::cel::environment();
    let checks = engine::catalog::load(&env, None).expect("the built-in checks load");
    engine::evaluate(&env, &checks, &model)
        .into_iter()
        .map(|r| Rendered {
            check: r.check,
            status: r.status.as_str().to_string(),
            subject: r.subject.map(|s| s.name),
            message: r.message,
            remediation: r.remediation,
        })
        .collect()
}

#[test]
fn field_case_messages_and_remediation() {
    insta::assert_yaml_snapshot!(rendered("examples/field-case.snapshot.json"));
}

#[test]
fn healthy_messages_and_remediation() {
    insta::assert_yaml_snapshot!(rendered("examples/healthy.snapshot.json"));
}

/// Every check's fix as `explain` describes it (phase, order, steps), so a change to a check's
/// `fix:` shows up in review too.
#[test]
fn every_check_fix() {
    let env = engine::cel::environment();
    let checks = engine::catalog::load(&env, None).expect("the built-in checks load");
    let fixes: std::collections::BTreeMap<&str, Vec<String>> = checks
        .values()
        .map(|c| {
            let lines = match &c.spec.fix {
                Some(fix) => std::iter::once(format!("{} #{}", fix.phase.title(), fix.order))
                    .chain(fix.steps.iter().flat_map(|s| s.describe()))
                    .collect(),
                None => vec!["(no fix: the remediation text, as a manual step)".into()],
            };
            (c.spec.id.as_str(), lines)
        })
        .collect();
    insta::assert_yaml_snapshot!(fixes);
}
