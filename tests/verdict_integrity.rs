//! Verdict integrity: less data may turn a verdict into unknown; it must never
//! turn pass into fail or fail into pass.
//!
//! The property: delete any single key from any raw record of a snapshot and audit again. Every
//! result keeps its status or becomes unknown; no subject appears with a verdict it did not have,
//! and none vanishes without its check saying it could not tell.
//!
//! `cargo test` runs a deterministic sample of the deletions of each example; the full sweep is
//! `cargo test --test verdict_integrity -- --ignored`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, LazyLock};

use ccaudit::engine::check::CheckSet;
use ccaudit::engine::evaluate::{CheckResult, Status};
use ccaudit::engine::{self, cel as celx};
use ccaudit::model::{AuditConfig, TenantModel};
use ccaudit::snapshot::Snapshot;
use serde_json::Value;

static CATALOG: LazyLock<(Arc<cel::Env>, CheckSet)> = LazyLock::new(|| {
    let env = celx::environment();
    let set = engine::catalog::load(&env, None).unwrap();
    (env, set)
});

fn example(name: &str) -> Snapshot {
    Snapshot::load(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples")
            .join(name),
    )
    .expect("the example loads")
}

fn synthetic() -> Snapshot {
    let mut params = ccaudit::synth::SynthParams::healthy(3, 6, 6);
    params.faults_per_mille = 300;
    ccaudit::synth::generate(&params)
}

/// (check, subject id) -> status.
type Verdicts = BTreeMap<(String, String), Status>;

fn audit(snapshot: &Snapshot) -> Vec<CheckResult> {
    let (env, checks) = &*CATALOG;
    let config = AuditConfig {
        contact_center_skus: vec![ccaudit::synth::CONTACT_CENTER_SKU.to_string()],
    };
    let model = TenantModel::from_snapshot(snapshot, config);
    engine::evaluate::evaluate(env, checks, &model)
}

fn verdicts(results: &[CheckResult]) -> Verdicts {
    results
        .iter()
        .map(|r| {
            let subject = r.subject.as_ref().map(|s| s.id.clone()).unwrap_or_default();
            ((r.check.clone(), subject), r.status)
        })
        .collect()
}

/// One deletable key: the fact, the JSON pointer of the object holding it, and the key.
#[derive(Debug, Clone)]
struct Deletion {
    fact: String,
    pointer: String,
    key: String,
}

fn deletions(snapshot: &Snapshot) -> Vec<Deletion> {
    fn walk(fact: &str, pointer: String, v: &Value, out: &mut Vec<Deletion>) {
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    out.push(Deletion {
                        fact: fact.to_string(),
                        pointer: pointer.clone(),
                        key: k.clone(),
                    });
                    let escaped = k.replace('~', "~0").replace('/', "~1");
                    walk(fact, format!("{pointer}/{escaped}"), child, out);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    walk(fact, format!("{pointer}/{i}"), child, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (key, fact) in &snapshot.facts {
        if let Some(data) = &fact.data {
            walk(key, String::new(), data, &mut out);
        }
    }
    out
}

fn apply(snapshot: &Snapshot, d: &Deletion) -> Snapshot {
    let mut s = snapshot.clone();
    let data = s
        .facts
        .get_mut(&d.fact)
        .and_then(|f| f.data.as_mut())
        .expect("the fact has data");
    let target = data.pointer_mut(&d.pointer).expect("the pointer resolves");
    target
        .as_object_mut()
        .expect("an object")
        .shift_remove(&d.key);
    s
}

/// What went wrong for one deletion, one line each.
fn violations(before: &Verdicts, after_results: &[CheckResult]) -> Vec<String> {
    let after = verdicts(after_results);
    // A check that now says, for the whole tenant, that it could not tell covers its subjects.
    let undecided_checks: std::collections::BTreeSet<&str> = after_results
        .iter()
        .filter(|r| r.subject.is_none() && matches!(r.status, Status::Unknown))
        .map(|r| r.check.as_str())
        .collect();
    let mut out = Vec::new();
    for ((check, subject), status) in before {
        match after.get(&(check.clone(), subject.clone())) {
            Some(s) if s == status || *s == Status::Unknown => {}
            Some(s) => out.push(format!(
                "{check} [{subject}]: {} -> {}",
                status.as_str(),
                s.as_str()
            )),
            None if undecided_checks.contains(check.as_str()) => {}
            None if *status == Status::Skipped || *status == Status::Unknown => {}
            None => out.push(format!(
                "{check} [{subject}]: {} -> vanished",
                status.as_str()
            )),
        }
    }
    for ((check, subject), status) in &after {
        if !before.contains_key(&(check.clone(), subject.clone()))
            && matches!(status, Status::Pass | Status::Fail | Status::Missing)
        {
            out.push(format!(
                "{check} [{subject}]: new subject with {}",
                status.as_str()
            ));
        }
    }
    out
}

/// Runs the deletions (every `stride`-th one) and returns the violations found.
fn sweep(snapshot: &Snapshot, stride: usize) -> (usize, Vec<String>) {
    let before = verdicts(&audit(snapshot));
    let all = deletions(snapshot);
    let mut tried = 0;
    let mut found = Vec::new();
    for d in all.iter().step_by(stride.max(1)) {
        tried += 1;
        let after = audit(&apply(snapshot, d));
        for v in violations(&before, &after) {
            found.push(format!("without {}{}/{}: {v}", d.fact, d.pointer, d.key));
        }
    }
    (tried, found)
}

fn assert_sweep(name: &str, snapshot: &Snapshot, stride: usize) {
    let (tried, found) = sweep(snapshot, stride);
    assert!(tried > 0, "{name}: no deletions tried");
    assert!(
        found.is_empty(),
        "{name}: {} of {tried} single-key deletions changed a verdict other than to unknown:\n{}",
        found.len(),
        found.join("\n")
    );
}

/// A stride that is prime and not a divisor of record sizes, so a sample still reaches every
/// kind of key across records.
const SAMPLE_STRIDE: usize = 7;

#[test]
fn deleting_a_key_from_the_healthy_example_never_flips_a_verdict() {
    assert_sweep("healthy", &example("healthy.snapshot.json"), SAMPLE_STRIDE);
}

#[test]
fn deleting_a_key_from_the_field_case_never_flips_a_verdict() {
    assert_sweep(
        "field-case",
        &example("field-case.snapshot.json"),
        SAMPLE_STRIDE,
    );
}

#[test]
fn deleting_a_key_from_a_synthetic_tenant_with_faults_never_flips_a_verdict() {
    assert_sweep("synthetic", &synthetic(), SAMPLE_STRIDE * 3);
}

#[test]
#[ignore = "full sweep: every single-key deletion of both examples and the synthetic tenant"]
fn full_sweep_of_every_single_key_deletion() {
    let mut report = Vec::new();
    for (name, snapshot) in [
        ("healthy", example("healthy.snapshot.json")),
        ("field-case", example("field-case.snapshot.json")),
        ("synthetic", synthetic()),
    ] {
        let (tried, found) = sweep(&snapshot, 1);
        if !found.is_empty() {
            report.push(format!(
                "{name}: {} of {tried} deletions changed a verdict other than to unknown:\n{}",
                found.len(),
                found.join("\n")
            ));
        }
    }
    assert!(report.is_empty(), "{}", report.join("\n"));
}

const AGENT2: &str = "6b3c4d5e-1d2e-4f3a-9b8c-2d3e4f5a6b7c";

/// Removes `key` from every record about `user` in the snapshot's two Teams user sources.
fn without_user_field(snapshot: &mut Snapshot, user: &str, key: &str) {
    let data = |s: &mut Snapshot, fact: &str| -> Value {
        s.facts[fact].data.clone().expect("the fact has data")
    };
    let mut graph = data(snapshot, "graph.userConfigurations");
    for u in graph["value"].as_array_mut().expect("a list") {
        if u["id"] == user {
            u.as_object_mut().unwrap().shift_remove(key);
        }
    }
    snapshot
        .facts
        .get_mut("graph.userConfigurations")
        .unwrap()
        .data = Some(graph);
    let mut online = data(snapshot, "teams.onlineUsers");
    let pascal = key[..1].to_uppercase() + &key[1..];
    if let Some(u) = online[user].as_object_mut() {
        u.shift_remove(&pascal);
        u.shift_remove(key);
    }
    snapshot.facts.get_mut("teams.onlineUsers").unwrap().data = Some(online);
}

#[test]
fn an_absent_field_makes_only_that_subject_unknown_naming_the_field_the_record_and_the_source() {
    let mut snapshot = example("healthy.snapshot.json");
    without_user_field(&mut snapshot, AGENT2, "isEnterpriseVoiceEnabled");
    without_user_field(&mut snapshot, AGENT2, "enterpriseVoiceEnabled");
    let results = audit(&snapshot);
    let agt001: Vec<&CheckResult> = results.iter().filter(|r| r.check == "AGT-001").collect();
    let of = |upn: &str| {
        agt001
            .iter()
            .find(|r| r.subject.as_ref().is_some_and(|s| s.name == upn))
            .unwrap_or_else(|| panic!("AGT-001 has a result for {upn}"))
    };
    let agent2 = of("agent2@contoso.com");
    assert_eq!(agent2.status, Status::Unknown);
    assert!(
        agent2.message.contains("EnterpriseVoiceEnabled")
            && agent2.message.contains("agent2@contoso.com")
            && agent2.message.contains("did not report"),
        "{}",
        agent2.message
    );
    assert_eq!(of("agent1@contoso.com").status, Status::Pass);
    assert_eq!(of("agent3@contoso.com").status, Status::Pass);
}

#[test]
fn the_report_lists_what_was_not_understood_with_key_names_and_no_values() {
    let mut snapshot = example("healthy.snapshot.json");
    without_user_field(&mut snapshot, AGENT2, "isEnterpriseVoiceEnabled");
    without_user_field(&mut snapshot, AGENT2, "enterpriseVoiceEnabled");
    let (env, checks) = &*CATALOG;
    let model = TenantModel::from_snapshot(&snapshot, AuditConfig::default());
    let results = engine::evaluate::evaluate(env, checks, &model);
    let report = ccaudit::report::Report::new(&model, "snapshot", results);
    let json: Value = serde_json::from_str(&ccaudit::report::json::render(&report)).unwrap();
    let entries = json["data_quality"]
        .as_array()
        .expect("a data_quality array");
    let online = entries
        .iter()
        .find(|d| d["source"] == "teams.onlineUsers")
        .unwrap_or_else(|| panic!("an entry for teams.onlineUsers: {entries:?}"));
    assert_eq!(online["problem"], "missing_fields");
    assert_eq!(online["records"], 1);
    assert!(
        online["fields"]
            .as_array()
            .unwrap()
            .contains(&Value::from("EnterpriseVoiceEnabled"))
    );
    assert!(
        online["keys_seen"]
            .as_array()
            .unwrap()
            .contains(&Value::from("UserPrincipalName"))
    );
    let unknown: u64 = entries
        .iter()
        .map(|d| d["unknown_results"].as_u64().unwrap())
        .sum();
    assert!(
        unknown >= 1,
        "the unknown AGT-001 result is counted: {entries:?}"
    );
    let text = serde_json::to_string(&json["data_quality"]).unwrap();
    assert!(
        !text.contains("agent2@contoso.com"),
        "values are never listed: {text}"
    );

    // A snapshot read in full has nothing to report, so the part is left out.
    let model =
        TenantModel::from_snapshot(&example("healthy.snapshot.json"), AuditConfig::default());
    let report = ccaudit::report::Report::new(&model, "snapshot", Vec::new());
    assert!(report.data_quality.is_empty(), "{:?}", report.data_quality);
}
