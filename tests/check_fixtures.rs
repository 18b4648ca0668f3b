//! Every check is specified by fixtures: cases that patch the healthy example's model and say
//! which status each result must have. The meta-test requires each check's reachable outcomes to
//! be covered, and keeps docs/checks.md in step with the catalog.

use std::path::Path;

use ccaudit::engine::{self, fixtures};
use ccaudit::model::{AuditConfig, TenantModel};
use ccaudit::snapshot::Snapshot;

#[test]
fn every_check_is_specified_by_fixtures_covering_its_outcomes() {
    let env = engine::cel::environment();
    let set = engine::catalog::load(&env, None).expect("built-in checks load");
    assert!(!set.is_empty());
    let base = fixtures::base();
    let mut problems = Vec::new();
    for check in set.values() {
        let id = &check.spec.id;
        let path = format!("tests/fixtures/checks/{id}.yaml");
        let Ok(text) = std::fs::read_to_string(&path) else {
            problems.push(format!("{id}: no fixtures at {path}"));
            continue;
        };
        match fixtures::run_file(&env, check, &path, &text, &base) {
            Err(e) => problems.push(e),
            Ok(outcome) => {
                for (case, error) in &outcome.cases {
                    if let Some(e) = error {
                        problems.push(format!("{id} / {case}: {e}"));
                    }
                }
                if !outcome.uncovered.is_empty() {
                    problems.push(format!(
                        "{id}: no fixture case produces {}",
                        outcome.uncovered.join(", ")
                    ));
                }
            }
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

/// Every built-in check says which hop of the call path it decides (or `none`), so `ccaudit
/// trace` never leaves a check's results out of a path by omission.
#[test]
fn every_builtin_check_declares_its_hop() {
    let env = engine::cel::environment();
    let set = engine::catalog::load(&env, None).expect("built-in checks load");
    let undeclared: Vec<&str> = set
        .values()
        .filter(|c| c.spec.hop.is_none())
        .map(|c| c.spec.id.as_str())
        .collect();
    assert!(
        undeclared.is_empty(),
        "checks without `hop:`: {undeclared:?}"
    );
    let on_path = set.values().filter(|c| c.spec.hop_kind().is_some()).count();
    assert!(on_path * 10 >= set.len() * 8, "most checks decide a hop");
}

/// Every check id named in the code, the docs, the error knowledge base and the examples is in
/// the catalog, so a renamed or removed check cannot leave a reference behind. The only
/// exceptions are ids that show what an unknown id does (a suppression naming a check that does
/// not exist, a check file with a bad id).
#[test]
fn every_check_id_named_anywhere_is_in_the_catalog() {
    // ACSFED-9xx: ids of throwaway checks in the engine's budget and CEL tests.
    const UNKNOWN_ON_PURPOSE: [&str; 7] = [
        "EXT-010",
        "NUM-099",
        "ACSFED-009",
        "ACSFED-901",
        "ACSFED-902",
        "ACSFED-903",
        "ACSFED-904",
    ];
    let env = engine::cel::environment();
    let set = engine::catalog::load(&env, None).expect("built-in checks load");
    let prefixes: std::collections::BTreeSet<String> = set
        .keys()
        .filter_map(|id| id.rsplit_once('-').map(|(p, _)| p.to_string()))
        .collect();
    fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                files(&path, out);
            } else if path.extension().is_some_and(|e| {
                ["rs", "md", "yaml", "yml", "toml", "json"]
                    .iter()
                    .any(|x| e == *x)
            }) {
                out.push(path);
            }
        }
    }
    let mut all = Vec::new();
    for dir in [
        "src",
        "tests",
        "docs",
        "checks",
        "examples",
        "benches",
        "fake-tenant/src",
    ] {
        files(Path::new(dir), &mut all);
    }
    all.push("README.md".into());
    // A retired id may be named where it is retired and by the tests of its redirect.
    let retired = engine::catalog::retired();
    let mut unknown = Vec::new();
    for path in &all {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let may_name_retired =
            path.starts_with("tests") || path == Path::new("checks/retired.yaml");
        for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')) {
            let Some((prefix, digits)) = word.rsplit_once('-') else {
                continue;
            };
            if prefixes.contains(prefix)
                && digits.len() == 3
                && digits.bytes().all(|b| b.is_ascii_digit())
                && !set.contains_key(word)
                && !UNKNOWN_ON_PURPOSE.contains(&word)
                && !(may_name_retired && retired.contains_key(word))
            {
                unknown.push(format!("{}: {word}", path.display()));
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "ids not in the catalog:\n{}",
        unknown.join("\n")
    );
}

/// A retired id is never in the catalog (ids are not reused) and redirects to a check that is.
#[test]
fn retired_ids_redirect_to_checks_in_the_catalog() {
    let env = engine::cel::environment();
    let set = engine::catalog::load(&env, None).expect("built-in checks load");
    let text = std::fs::read_to_string("checks/retired.yaml").expect("checks/retired.yaml");
    let entries = text.lines().filter(|l| l.starts_with("- id:")).count();
    let retired = engine::catalog::retired();
    assert_eq!(retired.len(), entries, "checks/retired.yaml does not parse");
    for r in retired.values() {
        assert!(
            !set.contains_key(&r.id),
            "{} is retired but still a check",
            r.id
        );
        assert!(
            set.contains_key(&r.replaced_by),
            "{} redirects to {}, which is not a check",
            r.id,
            r.replaced_by
        );
    }
}

/// No check id is written in the Rust source outside tests: what a check means lives in its
/// YAML (its fix, its diff row), so renaming a check cannot leave Rust behind. Microsoft's fixed
/// ids (the ACS app, the resource-account and Teams Phone SKUs) are written once.
#[test]
fn no_check_id_literal_in_non_test_rust() {
    fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    /// `AREA-NNN` (upper-case letters and digits, a dash, three digits) anywhere in `line`.
    fn has_id(line: &str) -> Option<&str> {
        let b = line.as_bytes();
        (0..b.len()).find_map(|i| {
            let start_ok = i == 0 || !b[i - 1].is_ascii_alphanumeric();
            if !start_ok || !b[i].is_ascii_uppercase() {
                return None;
            }
            let mut j = i;
            while j < b.len() && (b[j].is_ascii_uppercase() || b[j].is_ascii_digit()) {
                j += 1;
            }
            let digits = b.get(j + 1..j + 4)?;
            let end_ok = b.get(j + 4).is_none_or(|c| !c.is_ascii_alphanumeric());
            (b[j] == b'-' && digits.iter().all(u8::is_ascii_digit) && end_ok)
                .then(|| &line[i..j + 4])
        })
    }
    const WELL_KNOWN: [&str; 3] = [
        "1fd5118e-2576-4263-8130-9503064c837a",
        "440eaaa8-b3e0-484b-a8be-62870b9ba70a",
        "e43b5b99-8dfb-405f-9987-dc307f34bcbd",
    ];
    let mut files = Vec::new();
    rust_files(Path::new("src"), &mut files);
    files.sort();
    let mut found = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        for (n, line) in text.lines().enumerate() {
            // Test modules sit at the end of a file.
            if line.trim_start().starts_with("#[cfg(test)]") {
                break;
            }
            let code = line.split("//").next().unwrap_or_default();
            if let Some(id) = has_id(code) {
                found.push(format!("{}:{}: {id}", path.display(), n + 1));
            }
            // Microsoft's fixed ids have one home, src/model/well_known.rs.
            if !path.ends_with("well_known.rs")
                && let Some(id) = WELL_KNOWN.iter().find(|w| code.contains(*w))
            {
                found.push(format!(
                    "{}:{}: {id} (use model::well_known)",
                    path.display(),
                    n + 1
                ));
            }
        }
    }
    assert!(
        found.is_empty(),
        "check ids in non-test Rust (put them in the check's YAML):\n{}",
        found.join("\n")
    );
    // The scanner itself finds an id in a string and ignores look-alikes.
    assert_eq!(has_id(r#"r.check == "IB-002""#), Some("IB-002"));
    assert_eq!(has_id("fix D365-003 and"), Some("D365-003"));
    assert_eq!(has_id("UTF-8, x-0001, SHA-256a"), None);
}

/// Logic belongs in the model, where Rust unit tests cover it: a rule reads like a sentence over
/// model fields. Counted as the rule's lines in the YAML file (a block scalar's folded lines
/// count one each).
#[test]
fn no_rule_is_longer_than_five_lines() {
    const MAX: usize = 5;
    let mut long = Vec::new();
    for area in std::fs::read_dir("checks").expect("checks dir").flatten() {
        let Ok(files) = std::fs::read_dir(area.path()) else {
            continue;
        };
        for file in files.flatten() {
            let path = file.path();
            let text = std::fs::read_to_string(&path).expect("check file");
            let lines = scalar_lines(&text, "rule");
            if lines > MAX {
                long.push(format!("{}: rule has {lines} lines", path.display()));
            }
        }
    }
    assert!(
        long.is_empty(),
        "rules over {MAX} lines (move the logic into a model field):\n{}",
        long.join("\n")
    );
}

/// Lines of the top-level `key:` scalar: its own line, plus the indented lines of a block.
fn scalar_lines(text: &str, key: &str) -> usize {
    let prefix = format!("{key}:");
    let mut lines = text.lines().skip_while(|l| !l.starts_with(&prefix));
    let Some(first) = lines.next() else { return 0 };
    let inline =
        !first[prefix.len()..].trim().is_empty() && !first.trim_end().ends_with(['|', '>', '-']);
    if inline {
        return 1;
    }
    lines
        .take_while(|l| l.is_empty() || l.starts_with(' '))
        .filter(|l| !l.trim().is_empty())
        .count()
}

#[test]
fn scalar_lines_counts_a_block_and_an_inline_value() {
    let text = "id: X\nrule: >-\n  a\n  && b\n\n  || c\nmessage:\n  pass: x\n";
    assert_eq!(scalar_lines(text, "rule"), 3);
    assert_eq!(scalar_lines("rule: \"a && b\"\nmessage: {}\n", "rule"), 1);
}
