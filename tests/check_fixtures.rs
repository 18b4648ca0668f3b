//! Every check is specified by fixtures: cases that patch the healthy example's model and say
//! which status each result must have. The meta-test requires each check's reachable outcomes to
//! be covered, and keeps docs/checks.md in step with the catalog.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use ccaudit::engine::{self, Check, CheckSet, Status};
use ccaudit::model::{AuditConfig, TenantModel, Unavailable, UnavailableKind};
use ccaudit::snapshot::Snapshot;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FixtureFile {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    #[serde(default)]
    patch: Option<Value>,
    #[serde(default)]
    unavailable: BTreeMap<String, String>,
    /// Dotted paths set to JSON `null` after the patch: a merge patch's `null` deletes the key
    /// (the field is absent), so an explicit `null` (a source that said "none") needs this.
    #[serde(default)]
    nulls: Vec<String>,
    expect: Expect,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    subjects: BTreeMap<String, String>,
    #[serde(default)]
    message_contains: Option<String>,
}

fn base() -> (Value, BTreeMap<String, Unavailable>) {
    let snapshot =
        Snapshot::load(Path::new("examples/healthy.snapshot.json")).expect("healthy example loads");
    let config = AuditConfig {
        contact_center_skus: vec!["DYN365_CUSTOMER_SERVICE_PREMIUM".into()],
    };
    let model = TenantModel::from_snapshot(&snapshot, config);
    let unavailable = model
        .unavailable_facts()
        .into_iter()
        .map(|(p, u)| (p.to_string(), u.clone()))
        .collect();
    (model.to_json(), unavailable)
}

/// RFC 7386 JSON merge patch.
fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Default::default());
            }
            let t = target.as_object_mut().expect("object");
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        other => *target = other.clone(),
    }
}

fn kind(name: &str) -> Option<UnavailableKind> {
    Some(match name {
        "not_collected" => UnavailableKind::NotCollected,
        "not_requested" => UnavailableKind::NotRequested,
        "forbidden" => UnavailableKind::Forbidden,
        "not_found" => UnavailableKind::NotFound,
        "throttled" => UnavailableKind::Throttled,
        "service_error" => UnavailableKind::ServiceError,
        "malformed" => UnavailableKind::Malformed,
        "not_supported_in_cloud" => UnavailableKind::NotSupportedInCloud,
        "dependency" => UnavailableKind::Dependency,
        _ => return None,
    })
}

/// Sets `path` to `null`; `false` when its parent object does not exist.
fn set_null(model: &mut Value, path: &str) -> bool {
    let mut cur = model;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let Some(obj) = cur.as_object_mut() else {
            return false;
        };
        if i == parts.len() - 1 {
            obj.insert(part.to_string(), Value::Null);
            return true;
        }
        match obj.get_mut(*part) {
            Some(next) => cur = next,
            None => return false,
        }
    }
    false
}

/// Statuses a check can reach, so its fixtures must show each.
fn reachable(check: &Check) -> BTreeSet<&'static str> {
    let s = &check.spec;
    let mut out: BTreeSet<&str> = ["pass", "fail"].into();
    if !s.needs.is_empty() {
        out.insert("unknown");
    }
    if s.missing.is_some() {
        out.insert("missing");
    }
    if s.applies.is_some() || s.subject_applies.is_some() {
        out.insert("skipped");
    }
    out
}

fn run_case(
    env: &std::sync::Arc<cel::Env>,
    check: &Check,
    case: &Case,
    base: &(Value, BTreeMap<String, Unavailable>),
) -> Result<BTreeSet<&'static str>, String> {
    let (mut model, mut unavailable) = base.clone();
    if let Some(patch) = &case.patch {
        merge_patch(&mut model, patch);
    }
    for path in &case.nulls {
        if !set_null(&mut model, path) {
            return Err(format!("`nulls`: {path} has no parent object in the model"));
        }
    }
    for (path, k) in &case.unavailable {
        let kind = kind(k).ok_or_else(|| format!("unknown unavailable kind `{k}`"))?;
        set_null(&mut model, path);
        unavailable.insert(
            path.clone(),
            Unavailable {
                kind,
                reason: format!("{path} made unavailable by the fixture"),
                needs: Some("a permission named by the fixture".into()),
                sources: vec![],
            },
        );
    }
    let mut set = CheckSet::new();
    set.insert(check.spec.id.clone(), check.clone());
    let results = engine::evaluate_json(env, &set, &model, &unavailable);
    if results.is_empty() {
        return Err("no results".into());
    }
    let shown = || {
        results
            .iter()
            .map(|r| {
                format!(
                    "{}={} ({})",
                    r.subject
                        .as_ref()
                        .map(|s| s.name.as_str())
                        .unwrap_or("tenant"),
                    r.status.as_str(),
                    r.message
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let e = &case.expect;
    if e.status.is_none() && e.subjects.is_empty() {
        return Err("expect needs `status` or `subjects`".into());
    }
    if let Some(want) = &e.status
        && results.iter().any(|r| r.status.as_str() != want)
    {
        return Err(format!("expected every result {want}, got: {}", shown()));
    }
    for (name, want) in &e.subjects {
        let found: Vec<_> = results
            .iter()
            .filter(|r| r.subject.as_ref().map(|s| &s.name) == Some(name))
            .collect();
        if found.is_empty() {
            return Err(format!("no result for subject `{name}`; got: {}", shown()));
        }
        if found.iter().any(|r| r.status.as_str() != want) {
            return Err(format!("expected `{name}` {want}, got: {}", shown()));
        }
    }
    if let Some(needle) = &e.message_contains {
        let constrained: Vec<_> = results
            .iter()
            .filter(|r| {
                e.status.is_some()
                    || r.subject
                        .as_ref()
                        .is_some_and(|s| e.subjects.contains_key(&s.name))
            })
            .collect();
        if constrained
            .iter()
            .any(|r| !r.message.contains(needle.as_str()))
        {
            return Err(format!(
                "expected messages to contain `{needle}`, got: {}",
                shown()
            ));
        }
    }
    for r in &results {
        if matches!(r.status, Status::Fail | Status::Missing) {
            let rem = r.remediation.as_deref().unwrap_or("");
            if rem.trim().is_empty() || rem.contains("<subject") || rem.contains("<tenant") {
                return Err(format!("remediation did not render: {rem:?}"));
            }
        }
        if r.message.contains("<subject.") || r.message.contains("<tenant.") {
            return Err(format!("message template failed: {}", r.message));
        }
    }
    Ok(results.iter().map(|r| r.status.as_str()).collect())
}

#[test]
fn every_check_is_specified_by_fixtures_covering_its_outcomes() {
    let env = engine::cel::environment();
    let set = engine::catalog::load(&env, None).expect("built-in checks load");
    assert!(!set.is_empty());
    let base = base();
    let mut problems = Vec::new();
    for check in set.values() {
        let id = &check.spec.id;
        let path = format!("tests/fixtures/checks/{id}.yaml");
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(_) => {
                problems.push(format!("{id}: no fixtures at {path}"));
                continue;
            }
        };
        let file: FixtureFile = match serde_yaml::from_str(&text) {
            Ok(f) => f,
            Err(e) => {
                problems.push(format!("{path}: {e}"));
                continue;
            }
        };
        let mut seen = BTreeSet::new();
        for case in &file.cases {
            match run_case(&env, check, case, &base) {
                Ok(statuses) => seen.extend(statuses),
                Err(e) => problems.push(format!("{id} / {}: {e}", case.name)),
            }
        }
        let missing: Vec<_> = reachable(check)
            .into_iter()
            .filter(|s| !seen.contains(s))
            .collect();
        if !missing.is_empty() {
            problems.push(format!(
                "{id}: no fixture case produces {}",
                missing.join(", ")
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn fixture_files_belong_to_existing_checks() {
    let env = engine::cel::environment();
    let set = engine::catalog::load(&env, None).expect("built-in checks load");
    for entry in std::fs::read_dir("tests/fixtures/checks").expect("fixtures dir") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .to_string();
        let id = name.trim_end_matches(".yaml");
        assert!(set.contains_key(id), "fixture {name} has no check");
    }
}

#[test]
fn docs_checks_md_is_generated_from_the_catalog() {
    let env = engine::cel::environment();
    let set = engine::catalog::load(&env, None).expect("built-in checks load");
    let fresh = engine::docs::catalog_markdown(&set);
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write("docs/checks.md", &fresh).expect("write docs/checks.md");
    }
    let current = std::fs::read_to_string("docs/checks.md").unwrap_or_default();
    assert!(
        current == fresh,
        "docs/checks.md is stale: run `UPDATE_DOCS=1 cargo test --test check_fixtures docs_checks_md`"
    );
}

#[test]
fn catalog_has_every_check_other_tools_rely_on() {
    let env = engine::cel::environment();
    let set = engine::catalog::load(&env, None).expect("built-in checks load");
    let required = [
        "D365-001",
        "D365-002",
        "D365-003",
        "D365-004",
        "ACSFED-001",
        "ACSFED-002",
        "ACSFED-003",
        "EXT-001",
        "EXT-002",
        "EXT-003",
        "EXT-004",
        "IB-001",
        "IB-002",
        "IB-003",
        "RA-001",
        "RA-002",
        "RA-003",
        "RA-004",
        "RA-006",
        "RA-008",
        "RA-009",
        "LIC-001",
        "LIC-002",
        "LIC-003",
        "LIC-004",
        "LIC-005",
        "AGT-001",
        "AGT-002",
        "AGT-003",
        "NUM-001",
        "NUM-002",
        "NUM-003",
        "NUM-004",
        "NUM-008",
        "NUM-009",
        "NUM-010",
        "NUM-011",
        "ACSAUTH-001",
        "ACSAUTH-003",
    ];
    let absent: Vec<_> = required
        .iter()
        .filter(|id| !set.contains_key(**id))
        .collect();
    assert!(absent.is_empty(), "missing checks: {absent:?}");
}

/// CEL maps iterate in hash order and every conversion reseeds them, so repeating the audit in one
/// process catches a check whose output depends on map order.
#[test]
fn audits_are_reproducible_byte_for_byte() {
    let env = engine::cel::environment();
    let set = engine::catalog::load(&env, None).expect("built-in checks load");
    for path in [
        "examples/healthy.snapshot.json",
        "examples/field-case.snapshot.json",
    ] {
        let snapshot = Snapshot::load(Path::new(path)).expect("example loads");
        let render = || {
            let model = TenantModel::from_snapshot(&snapshot, AuditConfig::default());
            let results = engine::evaluate(&env, &set, &model);
            serde_json::to_string(&results).expect("results serialise")
        };
        let first = render();
        for _ in 0..6 {
            assert!(
                render() == first,
                "{path}: the audit output changed between runs"
            );
        }
    }
}
