//! Check fixtures: cases that patch the healthy example's model and say which status each result
//! must have. The same runner serves the repository's meta-test (every built-in check covered)
//! and `ccaudit checks test DIR`, so a check author outside the repository gets the same loop.
//!
//! A fixture file is `<ID>.test.yaml` beside the check, or `<ID>.yaml` in a `fixtures/` folder;
//! neither is loaded as a check (`catalog::is_fixture`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use super::check::{Check, CheckSet};
use super::evaluate::{Status, evaluate_json};
use crate::model::{AuditConfig, TenantModel, Unavailable, UnavailableKind};
use crate::snapshot::Snapshot;

/// The tenant every case starts from: `examples/healthy.snapshot.json`, built in so the command
/// works anywhere.
const HEALTHY: &str = include_str!("../../examples/healthy.snapshot.json");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureFile {
    pub cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub name: String,
    /// RFC 7386 JSON merge patch applied to the model JSON; its `null` deletes a key (the
    /// source did not send the field).
    #[serde(default)]
    pub patch: Option<Value>,
    /// Fact path → unavailable kind (`forbidden`, `not_requested`, ...).
    #[serde(default)]
    pub unavailable: BTreeMap<String, String>,
    /// Dotted paths set to JSON `null` after the patch: an explicit `null` (a source that said
    /// "none"), which a merge patch cannot write.
    #[serde(default)]
    pub nulls: Vec<String>,
    pub expect: Expect,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub subjects: BTreeMap<String, String>,
    #[serde(default)]
    pub message_contains: Option<String>,
}

/// The base model JSON and its unavailable facts.
pub type Base = (Value, BTreeMap<String, Unavailable>);

/// The healthy example, normalized, as every case's starting point.
pub fn base() -> Base {
    let snapshot = Snapshot::parse(HEALTHY, "examples/healthy.snapshot.json")
        .expect("the built-in healthy example parses");
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
pub fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Default::default());
            }
            let Some(t) = target.as_object_mut() else {
                return;
            };
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
        "sign_in_mode" => UnavailableKind::SignInMode,
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
pub fn reachable(check: &Check) -> BTreeSet<&'static str> {
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

/// Runs one case; `Ok` holds the statuses the check gave, `Err` says how the case failed.
pub fn run_case(
    env: &Arc<cel::Env>,
    check: &Check,
    case: &Case,
    base: &Base,
) -> Result<BTreeSet<&'static str>, String> {
    let (mut model, mut unavailable) = base.clone();
    if let Some(patch) = &case.patch {
        if let Some(problem) = super::paths::check_patch(patch) {
            return Err(format!("`patch`: {problem}"));
        }
        merge_patch(&mut model, patch);
    }
    for path in case.nulls.iter().chain(case.unavailable.keys()) {
        if let Some(problem) = super::paths::check_dotted(path) {
            return Err(format!("{path}: {problem}"));
        }
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
    let results = evaluate_json(env, &set, &model, &unavailable);
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

/// The outcome of one check's fixture file.
#[derive(Debug)]
pub struct CheckOutcome {
    pub id: String,
    /// Where the fixtures were read from.
    pub origin: String,
    /// Case name → `None` (passed) or how it failed.
    pub cases: Vec<(String, Option<String>)>,
    /// Outcomes the check can reach that no case produced.
    pub uncovered: Vec<&'static str>,
}

impl CheckOutcome {
    pub fn passed(&self) -> bool {
        self.uncovered.is_empty() && self.cases.iter().all(|(_, e)| e.is_none())
    }
}

/// Runs the fixture file `text` (read from `origin`) against `check`.
pub fn run_file(
    env: &Arc<cel::Env>,
    check: &Check,
    origin: &str,
    text: &str,
    base: &Base,
) -> Result<CheckOutcome, String> {
    let file: FixtureFile = serde_yaml::from_str(text).map_err(|e| {
        let line = e.location().map(|l| l.line()).unwrap_or(0);
        format!("{origin}:{line}: {e}")
    })?;
    let mut seen = BTreeSet::new();
    let mut cases = Vec::new();
    for case in &file.cases {
        match run_case(env, check, case, base) {
            Ok(statuses) => {
                seen.extend(statuses);
                cases.push((case.name.clone(), None));
            }
            Err(e) => cases.push((case.name.clone(), Some(e))),
        }
    }
    let uncovered = reachable(check)
        .into_iter()
        .filter(|s| !seen.contains(s))
        .collect();
    Ok(CheckOutcome {
        id: check.spec.id.clone(),
        origin: origin.to_string(),
        cases,
        uncovered,
    })
}

/// The fixture files under `dir` (`*.test.yaml`, or any YAML in a `fixtures/` folder), by the
/// check id their name gives.
pub fn find(dir: &std::path::Path) -> std::io::Result<BTreeMap<String, std::path::PathBuf>> {
    fn walk(
        dir: &std::path::Path,
        in_fixtures: bool,
        out: &mut BTreeMap<String, std::path::PathBuf>,
    ) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if path.is_dir() {
                walk(&path, in_fixtures || name == "fixtures", out)?;
            } else if let Some(id) = super::catalog::fixture_id(name, in_fixtures) {
                out.insert(id, path);
            }
        }
        Ok(())
    }
    let mut out = BTreeMap::new();
    walk(dir, false, &mut out)?;
    Ok(out)
}
