//! The `ccaudit` command line as a user meets it: exit codes, report formats, check selection,
//! and one-line errors (never a panic) for every kind of bad input.

use std::path::{Path, PathBuf};

use serde_json::Value;
use tempfile::TempDir;

const HEALTHY: &str = "examples/healthy.snapshot.json";
const FIELD_CASE: &str = "examples/field-case.snapshot.json";
/// The Dynamics 365 license the example agents hold (what `--cc-sku` names for LIC-005).
const CONTACT_CENTER_SKU: &str = "DYN365_CUSTOMER_SERVICE_PREMIUM";

/// What one run of the binary did.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    /// Asserts the run failed the way input errors must: exit 2 and one line on stderr.
    fn assert_input_error(&self) -> &str {
        assert_eq!(
            self.code, 2,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "the error should be one line:\n{}",
            self.stderr
        );
        lines[0]
    }
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `ccaudit` from the repository root, with the environment it reads cleared.
fn ccaudit(args: &[&str]) -> Run {
    let output = assert_cmd::cargo::cargo_bin_cmd!("ccaudit")
        .current_dir(root())
        .env_remove("CCAUDIT_SNAPSHOT")
        .env_remove("CCAUDIT_CC_SKUS")
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .expect("ccaudit runs");
    let run = Run {
        code: output.status.code().expect("ccaudit exits with a code"),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    };
    assert!(
        !run.stderr.contains("panicked"),
        "ccaudit panicked:\n{}",
        run.stderr
    );
    run
}

fn audit_json(snapshot: &str, extra: &[&str]) -> Run {
    let mut args = vec!["audit", "--snapshot", snapshot, "--format", "json"];
    args.extend_from_slice(extra);
    ccaudit(&args)
}

fn results(report: &Value) -> &Vec<Value> {
    report["results"].as_array().expect("results is an array")
}

fn field<'a>(result: &'a Value, name: &str) -> &'a str {
    result[name].as_str().unwrap_or_default()
}

fn healthy_snapshot() -> Value {
    let text = std::fs::read_to_string(root().join(HEALTHY)).expect("healthy example readable");
    serde_json::from_str(&text).expect("healthy example is JSON")
}

fn write(dir: &TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("temp file written");
    path.display().to_string()
}

/// A copy of a built-in check file in its own directory, edited by `edit`, for `--checks`.
fn edited_check(
    id: &str,
    area: &str,
    edit: impl FnOnce(&str) -> String,
) -> (TempDir, PathBuf, String) {
    let original =
        std::fs::read_to_string(root().join("checks").join(area).join(format!("{id}.yaml")))
            .expect("built-in check readable");
    let dir = TempDir::new().expect("temp dir");
    let path = dir.path().join(format!("{id}.yaml"));
    let text = edit(&original);
    std::fs::write(&path, &text).expect("check written");
    (dir, path, text)
}

fn line_of(text: &str, prefix: &str) -> usize {
    text.lines()
        .position(|l| l.starts_with(prefix))
        .expect("line present")
        + 1
}

// ---------------------------------------------------------------------------------------------
// audit: exit codes and reports

#[test]
fn field_case_audit_reports_the_acs_federation_failure_and_exits_1() {
    let run = ccaudit(&["audit", "--snapshot", FIELD_CASE]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.contains("ACSFED-002"), "{}", run.stdout);
    assert!(run.stdout.contains("summary:"), "{}", run.stdout);
}

#[test]
fn healthy_audit_exits_0() {
    let run = ccaudit(&[
        "audit",
        "--snapshot",
        HEALTHY,
        "--cc-sku",
        CONTACT_CENTER_SKU,
    ]);
    assert_eq!(
        run.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    assert!(run.stderr.is_empty(), "{}", run.stderr);
}

#[test]
fn snapshot_and_skus_can_come_from_the_environment() {
    let output = assert_cmd::cargo::cargo_bin_cmd!("ccaudit")
        .current_dir(root())
        .env("CCAUDIT_SNAPSHOT", HEALTHY)
        .env("CCAUDIT_CC_SKUS", CONTACT_CENTER_SKU)
        .arg("audit")
        .output()
        .expect("ccaudit runs");
    assert!(!String::from_utf8_lossy(&output.stderr).contains("panicked"));
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The healthy example's agents hold a license Microsoft's licensing reference does not list, so
/// without `--cc-sku` LIC-005 cannot be decided for them, and says exactly which flag decides it.
#[test]
fn naming_no_contact_center_license_leaves_the_healthy_audit_incomplete() {
    let run = audit_json(HEALTHY, &[]);
    let report = run.json();
    let unknown: Vec<&Value> = results(&report)
        .iter()
        .filter(|r| field(r, "status") == "unknown")
        .collect();
    assert_eq!(
        unknown.len(),
        3,
        "without --cc-sku the license check cannot be decided for the three agents"
    );
    for r in unknown {
        assert_eq!(field(r, "check"), "LIC-005");
        assert!(
            field(r, "message").contains("rerun with --cc-sku DYN365_CUSTOMER_SERVICE_PREMIUM"),
            "every unknown result says what to provide: {}",
            field(r, "message")
        );
    }
    assert_eq!(run.code, 3, "unknowns without findings exit 3");
}

#[test]
fn json_report_has_schema_version_summary_and_results() {
    let run = audit_json(FIELD_CASE, &[]);
    assert_eq!(run.code, 1);
    let report = run.json();
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["source"], "snapshot");
    assert_eq!(report["tenant"]["id"], healthy_snapshot()["tenant_id"]);
    let summary = &report["summary"];
    let all = results(&report);
    assert!(!all.is_empty());
    for status in ["pass", "fail", "missing", "unknown", "skipped"] {
        let counted = all.iter().filter(|r| field(r, "status") == status).count();
        assert_eq!(
            summary[status].as_u64(),
            Some(counted as u64),
            "summary.{status}"
        );
    }
    for r in all {
        for key in [
            "check", "title", "area", "severity", "basis", "status", "message",
        ] {
            assert!(!field(r, key).is_empty(), "result without {key}: {r}");
        }
        if matches!(field(r, "status"), "fail" | "missing") {
            assert!(
                !field(r, "remediation").is_empty(),
                "finding without remediation: {r}"
            );
        }
    }
}

#[test]
fn output_file_receives_the_report_without_colour() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("report.txt");
    let run = ccaudit(&[
        "audit",
        "--snapshot",
        FIELD_CASE,
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.is_empty(),
        "the report goes to the file, not stdout"
    );
    let text = std::fs::read_to_string(&out).expect("report written");
    assert!(text.contains("ACSFED-002"));
    assert!(!text.contains('\u{1b}'), "no ANSI escapes in a file");
}

#[test]
fn fail_on_counts_only_findings_at_or_above_the_threshold() {
    let report = audit_json(FIELD_CASE, &["--cc-sku", CONTACT_CENTER_SKU]).json();
    let findings: Vec<(&str, &str)> = results(&report)
        .iter()
        .filter(|r| matches!(field(r, "status"), "fail" | "missing"))
        .map(|r| (field(r, "check"), field(r, "severity")))
        .collect();
    let (critical, _) = *findings
        .iter()
        .find(|(_, s)| *s == "critical")
        .expect("the field case has a critical finding");
    let (lesser, lesser_severity) = *findings
        .iter()
        .find(|(_, s)| *s != "critical")
        .expect("the field case has a finding below critical");

    let only = |id: &str, fail_on: &str| {
        ccaudit(&[
            "audit",
            "--snapshot",
            FIELD_CASE,
            "--cc-sku",
            CONTACT_CENTER_SKU,
            "--only",
            id,
            "--fail-on",
            fail_on,
        ])
        .code
    };
    assert_eq!(only(critical, "critical"), 1, "{critical} is critical");
    assert_eq!(
        only(lesser, "critical"),
        0,
        "{lesser} ({lesser_severity}) is below critical"
    );
    assert_eq!(
        only(lesser, lesser_severity),
        1,
        "{lesser} at its own severity"
    );
    assert_eq!(only(lesser, "low"), 1, "the default threshold is low");
}

#[test]
fn unreadable_fact_makes_dependent_checks_unknown_and_exits_3() {
    let mut snapshot = healthy_snapshot();
    let key = "teams.TeamsAcsFederationConfiguration";
    snapshot["facts"][key] = serde_json::json!({
        "endpoint": "GET https://api.interfaces.records.teams.microsoft.com/Skype.Policy/configurations/TeamsAcsFederationConfiguration",
        "error": {"status": 403, "code": "Forbidden", "message": "The caller has no Teams administrator role."}
    });
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "forbidden.snapshot.json", &snapshot.to_string());

    let run = audit_json(
        &path,
        &["--cc-sku", CONTACT_CENTER_SKU, "--only", "ACSFED-002"],
    );
    assert_eq!(
        run.code, 3,
        "nothing failed, but the audit is incomplete:\n{}",
        run.stdout
    );
    let report = run.json();
    let all = results(&report);
    assert!(!all.is_empty());
    let grant = ccaudit::source_catalog::source(
        ccaudit::fact_key::FactKey::parse(key).expect("a known key"),
    )
    .expect("known source")
    .needs;
    for r in all {
        assert_eq!(field(r, "status"), "unknown", "{r}");
        assert!(
            field(r, "message").contains("403"),
            "says what the service answered: {r}"
        );
        assert!(
            field(r, "needs").contains(grant),
            "names what to grant: {r}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// audit: selecting checks

#[test]
fn only_by_id_runs_just_that_check() {
    let report = audit_json(FIELD_CASE, &["--only", "ACSFED-002"]).json();
    let checks: Vec<&str> = results(&report).iter().map(|r| field(r, "check")).collect();
    assert!(!checks.is_empty());
    assert!(checks.iter().all(|c| *c == "ACSFED-002"), "{checks:?}");
}

#[test]
fn only_by_area_runs_that_area() {
    let report = audit_json(FIELD_CASE, &["--only", "acs-federation"]).json();
    let areas: Vec<&str> = results(&report).iter().map(|r| field(r, "area")).collect();
    assert!(!areas.is_empty());
    assert!(areas.iter().all(|a| *a == "acs-federation"), "{areas:?}");
}

#[test]
fn skip_by_id_and_by_area_removes_them() {
    let by_id = audit_json(FIELD_CASE, &["--skip", "ACSFED-002"]).json();
    assert!(!results(&by_id).is_empty());
    assert!(
        results(&by_id)
            .iter()
            .all(|r| field(r, "check") != "ACSFED-002")
    );

    let by_area = audit_json(FIELD_CASE, &["--skip", "acs-federation"]).json();
    assert!(!results(&by_area).is_empty());
    assert!(
        results(&by_area)
            .iter()
            .all(|r| field(r, "area") != "acs-federation")
    );
}

#[test]
fn skipping_the_failing_checks_clears_the_findings() {
    let report = audit_json(FIELD_CASE, &["--cc-sku", CONTACT_CENTER_SKU]).json();
    let mut failing: Vec<&str> = results(&report)
        .iter()
        .filter(|r| matches!(field(r, "status"), "fail" | "missing"))
        .map(|r| field(r, "check"))
        .collect();
    failing.dedup();
    let skip = failing.join(",");
    let run = ccaudit(&[
        "audit",
        "--snapshot",
        FIELD_CASE,
        "--cc-sku",
        CONTACT_CENTER_SKU,
        "--skip",
        &skip,
    ]);
    assert_eq!(run.code, 0, "{}", run.stdout);
}

#[test]
fn unknown_check_id_is_a_usage_error() {
    let line = ccaudit(&["audit", "--snapshot", FIELD_CASE, "--only", "NOPE-999"])
        .assert_input_error()
        .to_string();
    assert!(line.contains("NOPE-999"), "{line}");
    let line = ccaudit(&["audit", "--snapshot", FIELD_CASE, "--skip", "no-such-area"])
        .assert_input_error()
        .to_string();
    assert!(line.contains("no-such-area"), "{line}");
}

// ---------------------------------------------------------------------------------------------
// audit: bad inputs

#[test]
fn nonexistent_snapshot_is_one_line_naming_the_file() {
    let run = ccaudit(&["audit", "--snapshot", "examples/no-such.snapshot.json"]);
    let line = run.assert_input_error();
    assert!(line.contains("examples/no-such.snapshot.json"), "{line}");
}

#[test]
fn truncated_snapshot_is_one_line_naming_the_file() {
    let text = std::fs::read_to_string(root().join(HEALTHY)).unwrap();
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "cut.snapshot.json", &text[..text.len() / 2]);
    let run = ccaudit(&["audit", "--snapshot", &path]);
    let line = run.assert_input_error();
    assert!(line.contains(&path), "{line}");
    assert!(line.contains("truncated"), "{line}");
}

#[test]
fn unknown_schema_version_is_one_line_naming_the_file_and_version() {
    let mut snapshot = healthy_snapshot();
    snapshot["schema_version"] = 99.into();
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "future.snapshot.json", &snapshot.to_string());
    let run = ccaudit(&["audit", "--snapshot", &path]);
    let line = run.assert_input_error();
    assert!(line.contains(&path), "{line}");
    assert!(line.contains("99"), "{line}");
}

#[test]
fn check_file_with_an_unknown_field_is_one_line_naming_file_and_line() {
    let (dir, path, text) = edited_check("ACSFED-002", "acs-federation", |t| {
        t.replace("\nrule:", "\nrulez: x\nrule:")
    });
    let run = ccaudit(&[
        "audit",
        "--snapshot",
        HEALTHY,
        "--checks",
        dir.path().to_str().unwrap(),
    ]);
    let line = run.assert_input_error();
    let at = format!("{}:{}", path.display(), line_of(&text, "rulez:"));
    assert!(line.contains(&at), "expected `{at}` in: {line}");
    assert!(line.contains("rulez"), "{line}");
}

#[test]
fn check_file_with_invalid_cel_is_one_line_naming_file_and_line() {
    let (dir, path, text) = edited_check("ACSFED-002", "acs-federation", |t| {
        let rule = t
            .lines()
            .find(|l| l.starts_with("rule:"))
            .expect("rule line");
        t.replace(rule, "rule: \"subject.immutable_id in (\"")
    });
    let run = ccaudit(&[
        "audit",
        "--snapshot",
        HEALTHY,
        "--checks",
        dir.path().to_str().unwrap(),
    ]);
    let line = run.assert_input_error();
    let at = format!("{}:{}", path.display(), line_of(&text, "rule:"));
    assert!(line.contains(&at), "expected `{at}` in: {line}");
}

#[test]
fn check_directory_overrides_a_builtin_check() {
    let (dir, _, _) = edited_check("ACSFED-002", "acs-federation", |t| {
        t.replace("\ntitle: ", "\ntitle: (overridden) ")
    });
    let report = audit_json(
        FIELD_CASE,
        &[
            "--checks",
            dir.path().to_str().unwrap(),
            "--only",
            "ACSFED-002",
        ],
    )
    .json();
    assert!(
        results(&report)
            .iter()
            .all(|r| field(r, "title").starts_with("(overridden) ")),
        "the --checks file replaces the built-in one"
    );
}

// ---------------------------------------------------------------------------------------------
// checks

fn builtin_check_ids() -> Vec<String> {
    fn walk(dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("checks/ readable") {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                out.push(path.file_stem().unwrap().to_string_lossy().into_owned());
            }
        }
    }
    let mut ids = Vec::new();
    for entry in std::fs::read_dir(root().join("checks")).expect("checks/ readable") {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, &mut ids);
        }
    }
    ids.sort();
    ids
}

#[test]
fn checks_lists_every_builtin_check() {
    let run = ccaudit(&["checks"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let listed: Vec<&str> = run
        .stdout
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let ids = builtin_check_ids();
    assert!(!ids.is_empty());
    for id in &ids {
        assert!(
            listed.contains(&id.as_str()),
            "{id} is not listed:\n{}",
            run.stdout
        );
    }
}

#[test]
fn checks_with_an_id_shows_that_check_in_full() {
    let run = ccaudit(&["checks", "ACSFED-002"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for key in ["id: ACSFED-002", "rule:", "remediation:", "docs:"] {
        assert!(run.stdout.contains(key), "missing `{key}`:\n{}", run.stdout);
    }
    assert!(
        run.stdout.contains("checks/acs-federation/ACSFED-002.yaml"),
        "shows where it came from"
    );
}

#[test]
fn checks_with_an_unknown_id_is_a_usage_error() {
    let line = ccaudit(&["checks", "NOPE-999"])
        .assert_input_error()
        .to_string();
    assert!(line.contains("NOPE-999"), "{line}");
}

#[test]
fn redacted_audit_report_keeps_the_verdicts_and_drops_the_names() {
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("report.txt");
    let run = ccaudit(&[
        "audit",
        "--snapshot",
        FIELD_CASE,
        "--redact",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let text = std::fs::read_to_string(&out).expect("report written");
    assert!(text.contains("FAIL ACSFED-002"), "{text}");
    assert!(text.contains("FAIL EXT-001"), "{text}");
    for original in ["contoso", "agent2@", "+14255550150"] {
        assert!(
            !text.to_lowercase().contains(original),
            "{original} survived redaction"
        );
    }
    let key = dir.path().join("report.txt.redact-key");
    assert!(key.exists(), "the key is kept next to the report");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for file in [&out, &key] {
            let mode = std::fs::metadata(file).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{} is {mode:o}", file.display());
        }
    }
}

#[test]
fn redacting_to_stdout_needs_a_key_file() {
    let run = ccaudit(&["audit", "--snapshot", FIELD_CASE, "--redact"]);
    let line = run.assert_input_error();
    assert!(line.contains("--redact-key"), "{line}");
}

/// A copy of the worked example of docs/writing-checks.md, outside the repository.
fn custom_checks() -> TempDir {
    let dir = TempDir::new().unwrap();
    for name in ["CUSTOM-001.yaml", "CUSTOM-001.test.yaml"] {
        std::fs::copy(
            root().join("examples/custom-checks").join(name),
            dir.path().join(name),
        )
        .unwrap();
    }
    dir
}

#[test]
fn checks_test_runs_the_fixtures_beside_a_check_written_outside_the_repository() {
    let dir = custom_checks();
    let run = ccaudit(&["checks", "test", dir.path().to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("ok    CUSTOM-001 / external_label_fails"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("3 passed, 0 failed"), "{}", run.stdout);
    // The fixture file sits beside the check but is not loaded as one.
    let audit = audit_json(
        "examples/healthy.snapshot.json",
        &[
            "--checks",
            dir.path().to_str().unwrap(),
            "--only",
            "CUSTOM-001",
        ],
    );
    let results = audit.json()["results"].as_array().unwrap().clone();
    assert_eq!(results.len(), 1, "{results:?}");
}

#[test]
fn checks_test_names_a_failing_case_and_what_it_got_and_exits_1() {
    let dir = custom_checks();
    let path = dir.path().join("CUSTOM-001.test.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("status: pass", "status: fail")).unwrap();
    let run = ccaudit(&["checks", "test", dir.path().to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("FAIL  CUSTOM-001 / unverified_label_passes")
            && run
                .stdout
                .contains("expected every result fail, got: tenant=pass"),
        "{}",
        run.stdout
    );
}

#[test]
fn checks_test_of_a_fixture_without_its_check_is_an_input_error() {
    let dir = custom_checks();
    std::fs::write(dir.path().join("NOPE-001.test.yaml"), "cases: []\n").unwrap();
    let run = ccaudit(&["checks", "test", dir.path().to_str().unwrap()]);
    assert!(
        run.assert_input_error().contains("NOPE-001"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_typo_in_a_model_path_fails_at_load_with_file_and_line() {
    let dir = custom_checks();
    let path = dir.path().join("CUSTOM-001.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace(
            "rule: \"tenant.teams.acs_federation.label_for_allowed_acs_users",
            "rule: \"tenant.teams.acs_federation.label_for_allowed_acs_userz",
        ),
    )
    .unwrap();
    let run = ccaudit(&["checks", "--checks", dir.path().to_str().unwrap()]);
    let line = run.assert_input_error();
    assert!(
        line.contains("CUSTOM-001.yaml:9")
            && line.contains("tenant.teams.acs_federation.label_for_allowed_acs_userz")
            && line.contains("label_for_allowed_acs_users"),
        "{line}"
    );
}

/// The README's sample output is what its first command prints: the ```text block under
/// "## Output" is excerpts of `ccaudit audit --snapshot examples/field-case.snapshot.json`,
/// separated by lines holding only `…`; each excerpt must be a run of consecutive output lines,
/// in order. And the command exits 1, as the README says (the field case has findings).
///
/// `CCAUDIT_BLESS_README=1 cargo test --test cli readme` rewrites each excerpt from the output,
/// from the line it starts with to the line it ends with, when the output changed on purpose
/// (review the diff).
#[test]
fn readme_sample_output_is_what_the_first_command_prints() {
    let path = root().join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let start = readme
        .find("## Output")
        .and_then(|i| {
            readme[i..]
                .find("```text\n")
                .map(|j| i + j + "```text\n".len())
        })
        .expect("README has a ```text block under ## Output");
    let end = start + readme[start..].find("```\n").expect("the block ends");
    let block: Vec<&str> = readme[start..end].lines().collect();

    let run = ccaudit(&["audit", "--snapshot", FIELD_CASE]);
    assert_eq!(run.code, 1, "the README says the first command exits 1");
    let output: Vec<&str> = run.stdout.lines().collect();

    let bless = std::env::var_os("CCAUDIT_BLESS_README").is_some();
    let mut blessed: Vec<Vec<&str>> = Vec::new();
    let mut from = 0;
    for (n, excerpt) in block.split(|l| *l == "…").enumerate() {
        let Some(first) = excerpt.first() else {
            blessed.push(Vec::new());
            continue;
        };
        let at = find_line(&output, from, first, bless).unwrap_or_else(|| {
                panic!("README excerpt {n} starts with a line the command does not print (after its line {from}): {first:?}")
            });
        let printed: &[&str] = if bless {
            // Up to the excerpt's last line (its k-th occurrence, when the excerpt has it k
            // times), with as many blank lines after it as it had.
            let blank = excerpt.iter().rev().take_while(|l| l.is_empty()).count();
            let last = excerpt[excerpt.len() - 1 - blank];
            let times = excerpt.iter().filter(|l| **l == last).count();
            let upto = (0..times)
                .try_fold(at, |from, _| {
                    find_line(&output, from, last, bless).map(|i| i + 1)
                })
                .map(|after| after - 1 + blank)
                .unwrap_or_else(|| {
                    panic!("README excerpt {n} ends with a line not printed: {last:?}")
                });
            &output[at..=upto.min(output.len() - 1)]
        } else {
            &output[at..(at + excerpt.len()).min(output.len())]
        };
        assert!(
            bless || excerpt == printed,
            "README excerpt {n} differs from the output (CCAUDIT_BLESS_README=1 rewrites it):\n--- README\n{}\n--- printed\n{}",
            excerpt.join("\n"),
            printed.join("\n")
        );
        blessed.push(printed.to_vec());
        from = at + printed.len();
    }
    if bless {
        let text = blessed
            .iter()
            .map(|lines| lines.join("\n"))
            .collect::<Vec<_>>()
            .join("\n…\n");
        let updated = format!("{}{text}\n{}", &readme[..start], &readme[end..]);
        std::fs::write(&path, updated).unwrap();
        return;
    }
    // The summary the README quotes is the last line printed.
    assert_eq!(block.last(), output.last(), "the summary line");
}

/// The first output line at or after `from` that is `line`; when blessing, else the first that
/// starts with the same word (`summary:`, `FAIL`, `==`), so a line that changed is found too.
fn find_line(output: &[&str], from: usize, line: &str, bless: bool) -> Option<usize> {
    let exact = output[from..].iter().position(|l| *l == line);
    let word = line.split_whitespace().next().filter(|_| bless);
    exact
        .or_else(|| {
            let word = word?;
            output[from..]
                .iter()
                .position(|l| l.split_whitespace().next() == Some(word))
        })
        .map(|i| from + i)
}
