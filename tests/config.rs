//! The configuration file (`ccaudit.yaml`, `--config FILE`) as a user writes it: typed settings,
//! one-line errors naming file and line, flags that override it, and suppressions that are
//! reported with their original status, stop at their expiry and are warned about when stale.
//! Also `ccaudit completions SHELL`.

use std::path::{Path, PathBuf};

use ccaudit::config::Config;
use ccaudit::dates::Date;
use ccaudit::engine::{self, Severity};
use serde_json::Value;
use tempfile::TempDir;

const HEALTHY: &str = "examples/healthy.snapshot.json";
const FIELD_CASE: &str = "examples/field-case.snapshot.json";
const CONTACT_CENTER_SKU: &str = "DYN365_CUSTOMER_SERVICE_PREMIUM";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn parse(text: &str) -> Result<Config, String> {
    Config::parse("ccaudit.yaml", text).map_err(|e| e.to_string())
}

fn built_in_check_ids() -> Vec<String> {
    let env = engine::cel::environment();
    engine::catalog::load(&env, None)
        .expect("the built-in checks load")
        .keys()
        .cloned()
        .collect()
}

fn validated(text: &str) -> Result<Config, String> {
    let mut config = parse(text)?;
    let ids = built_in_check_ids();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    config.validate_checks(&ids).map_err(|e| e.to_string())?;
    Ok(config)
}

// --- parsing and validation ----------------------------------------------------------------------

#[test]
fn a_full_file_becomes_typed_settings() {
    let config = validated(
        "# contact center audit\n\
         agents: [agent1@contoso.com, 7c4d5e6f-2e3f-4a4b-8c9d-3e4f5a6b7c8d]\n\
         agent_group: 0f1e2d3c-0000-4000-8000-000000000001\n\
         contact_center_skus: [DYN365_CUSTOMER_SERVICE_PREMIUM]\n\
         fail_on: high\n\
         suppressions:\n\
         \x20 - check: num-002\n\
         \x20   subject: \"+14255550150\"\n\
         \x20   reason: operator ticket OC-4711\n\
         \x20   expires: 2027-01-31\n\
         \x20 - check: LIC-005\n\
         \x20   reason: licenses are bought next quarter\n",
    )
    .expect("valid");
    assert_eq!(
        config.agents,
        ["agent1@contoso.com", "7c4d5e6f-2e3f-4a4b-8c9d-3e4f5a6b7c8d"]
    );
    assert_eq!(
        config.agent_group.as_deref(),
        Some("0f1e2d3c-0000-4000-8000-000000000001")
    );
    assert_eq!(config.contact_center_skus, [CONTACT_CENTER_SKU]);
    assert_eq!(config.fail_on, Some(Severity::High));
    let [num, lic] = &config.suppressions[..] else {
        panic!("{:?}", config.suppressions)
    };
    assert_eq!(
        num.check, "NUM-002",
        "check ids are matched case-insensitively"
    );
    assert_eq!(num.subject.as_deref(), Some("+14255550150"));
    assert_eq!(num.reason, "operator ticket OC-4711");
    assert_eq!(num.expires, Date::parse("2027-01-31"));
    assert_eq!(num.origin(), "ccaudit.yaml:7");
    assert_eq!(
        (lic.subject.as_ref(), lic.expires, lic.line),
        (None, None, 11)
    );
}

#[test]
fn an_empty_file_is_an_empty_configuration() {
    for text in ["", "\n", "# only a comment\n", "---\n"] {
        assert_eq!(parse(text).expect(text).suppressions, []);
    }
}

#[test]
fn an_unknown_key_is_an_error_naming_file_and_line() {
    assert_eq!(
        parse("fail_on: high\nagent: a@contoso.com\n").unwrap_err(),
        "ccaudit.yaml:2: unknown field `agent`, expected one of `agents`, `agent_group`, \
         `contact_center_skus`, `fail_on`, `suppressions`"
    );
}

#[test]
fn an_unknown_key_in_a_suppression_is_an_error_naming_its_line() {
    let err =
        parse("suppressions:\n  - check: NUM-002\n    reason: ticket\n    until: 2026-12-31\n")
            .unwrap_err();
    assert!(
        err.starts_with("ccaudit.yaml:4: suppressions[0]: unknown field `until`"),
        "{err}"
    );
}

#[test]
fn a_suppression_needs_a_reason() {
    let err = parse("suppressions:\n  - check: NUM-002\n").unwrap_err();
    assert_eq!(
        err,
        "ccaudit.yaml:2: suppressions[0]: missing field `reason`"
    );
    let err = parse(
        "suppressions:\n  - check: NUM-002\n    reason: ok\n  - check: EXT-001\n    reason: \"  \"\n",
    )
    .unwrap_err();
    assert!(
        err.starts_with("ccaudit.yaml:5: suppressions[1].reason: must not be empty"),
        "{err}"
    );
}

#[test]
fn an_expiry_must_be_a_real_date() {
    for bad in [
        "2026-02-30",
        "31.12.2026",
        "2026-12-31T00:00:00Z",
        "20261231",
        "soon",
    ] {
        let err = parse(&format!(
            "suppressions:\n  - check: NUM-002\n    reason: ticket\n    expires: {bad}\n"
        ))
        .unwrap_err();
        assert!(
            err.starts_with(&format!(
                "ccaudit.yaml:4: suppressions[0].expires: `{bad}` is not a valid date (write YYYY-MM-DD"
            )),
            "{err}"
        );
    }
}

#[test]
fn an_unknown_check_is_an_error_naming_its_line() {
    let err = validated(
        "fail_on: high\nsuppressions:\n  - check: NUM-002\n    reason: ticket\n  - reason: typo\n    check: EXT-010\n",
    )
    .unwrap_err();
    assert_eq!(
        err,
        "ccaudit.yaml:6: suppressions[1].check: unknown check `EXT-010` (see `ccaudit checks`)"
    );
}

#[test]
fn an_empty_subject_is_an_error_rather_than_a_suppression_of_everything() {
    let err =
        parse("suppressions:\n  - check: EXT-001\n    subject: ''\n    reason: x\n").unwrap_err();
    assert!(
        err.starts_with("ccaudit.yaml:3: suppressions[0].subject: must not be empty"),
        "{err}"
    );
}

#[test]
fn the_same_suppression_twice_is_an_error() {
    let err = parse(
        "suppressions:\n  - check: EXT-001\n    subject: agent2@contoso.com\n    reason: a\n  - check: ext-001\n    subject: AGENT2@contoso.com\n    reason: b\n",
    )
    .unwrap_err();
    assert_eq!(
        err,
        "ccaudit.yaml:5: suppressions[1]: duplicate suppression for EXT-001 [AGENT2@contoso.com] (first at line 2)"
    );
}

#[test]
fn a_wrongly_typed_value_is_an_error_naming_its_line() {
    let err = parse("agents: agent1@contoso.com\n").unwrap_err();
    assert!(
        err.starts_with("ccaudit.yaml:1: agents: invalid type"),
        "{err}"
    );
    let err = parse("fail_on: severe\n").unwrap_err();
    assert!(
        err.starts_with("ccaudit.yaml:1: fail_on: unknown variant `severe`"),
        "{err}"
    );
}

#[test]
fn the_example_in_the_documentation_is_valid() {
    let doc = std::fs::read_to_string(root().join("docs/configuration.md")).expect("docs readable");
    let start = doc.find("```yaml\n").expect("a yaml example") + "```yaml\n".len();
    let example = &doc[start..start + doc[start..].find("```").expect("closed")];
    let config = validated(example).unwrap_or_else(|e| panic!("{e}\n{example}"));
    assert_eq!(config.suppressions.len(), 2);
    assert_eq!(config.fail_on, Some(Severity::High));
}

// --- the command line ----------------------------------------------------------------------------

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

fn run_in(dir: &Path, args: &[&str]) -> Run {
    let output = assert_cmd::cargo::cargo_bin_cmd!("ccaudit")
        .current_dir(dir)
        .env_remove("CCAUDIT_SNAPSHOT")
        .env_remove("CCAUDIT_CC_SKUS")
        .env_remove("CCAUDIT_CONFIG")
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .expect("ccaudit runs");
    let run = Run {
        code: output.status.code().expect("exit code"),
        stdout: String::from_utf8(output.stdout).expect("UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8"),
    };
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    run
}

fn example(name: &str) -> String {
    root().join(name).display().to_string()
}

fn write_config(dir: &TempDir, text: &str) -> PathBuf {
    let path = dir.path().join("ccaudit.yaml");
    std::fs::write(&path, text).expect("config written");
    path
}

/// The field case's failing results: `(check, subject name)`.
fn findings(report: &Value) -> Vec<(String, String)> {
    report["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|r| matches!(r["status"].as_str(), Some("fail" | "missing")))
        .map(|r| {
            (
                r["check"].as_str().unwrap_or_default().to_string(),
                r["subject"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}

/// A configuration that suppresses every finding of the field case, until `expires`.
fn suppress_all_field_case_findings(expires: &str) -> String {
    let mut text = format!("contact_center_skus: [{CONTACT_CENTER_SKU}]\nsuppressions:\n");
    let dir = TempDir::new().unwrap();
    let report = run_in(
        dir.path(),
        &[
            "audit",
            "--snapshot",
            &example(FIELD_CASE),
            "--format",
            "json",
        ],
    )
    .json();
    let mut checks: Vec<String> = findings(&report).into_iter().map(|(c, _)| c).collect();
    checks.dedup();
    for check in checks {
        text.push_str(&format!(
            "  - check: {check}\n    reason: accepted for the test\n    expires: {expires}\n"
        ));
    }
    text
}

#[test]
fn suppressed_results_keep_their_status_and_do_not_fail_the_audit() {
    let dir = TempDir::new().unwrap();
    let config = write_config(&dir, &suppress_all_field_case_findings("2999-12-31"));
    let run = run_in(
        dir.path(),
        &[
            "audit",
            "--snapshot",
            &example(FIELD_CASE),
            "--config",
            config.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.json();
    let suppressed: Vec<&Value> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r.get("suppressed").is_some())
        .collect();
    assert_eq!(suppressed.len(), findings(&report).len());
    assert!(
        suppressed
            .iter()
            .all(|r| matches!(r["status"].as_str(), Some("fail" | "missing")))
    );
    assert_eq!(
        suppressed[0]["suppressed"]["reason"],
        "accepted for the test"
    );
    assert_eq!(suppressed[0]["suppressed"]["expires"], "2999-12-31");
    assert_eq!(report["summary"]["suppressed"], suppressed.len());
    assert!(report.get("warnings").is_none(), "{}", report["warnings"]);
}

#[test]
fn the_table_shows_suppressed_results_with_their_reason_not_among_the_findings() {
    let dir = TempDir::new().unwrap();
    write_config(
        &dir,
        "suppressions:\n  - check: NUM-002\n    reason: operator ticket OC-4711\n    expires: 2999-01-31\n",
    );
    let run = run_in(dir.path(), &["audit", "--snapshot", &example(FIELD_CASE)]);
    assert_eq!(run.code, 1, "other findings remain");
    assert!(
        run.stdout.contains(
            "SUPPRESSED FAIL NUM-002 [+14255550150]: operator ticket OC-4711 (until 2999-01-31)"
        ),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout
            .contains("FAIL NUM-002 [+14255550150]: The contact center's number")
    );
    assert!(
        run.stdout.contains("; 1 of them suppressed\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn an_expired_suppression_stops_applying_and_is_reported() {
    let dir = TempDir::new().unwrap();
    let config = write_config(&dir, &suppress_all_field_case_findings("2020-01-31"));
    let run = run_in(
        dir.path(),
        &[
            "audit",
            "--snapshot",
            &example(FIELD_CASE),
            "--config",
            config.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(
        run.code, 1,
        "expired suppressions no longer hide the findings"
    );
    let report = run.json();
    assert!(
        report["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r.get("suppressed").is_none())
    );
    let warnings = report["warnings"].as_array().expect("warnings");
    let expected = format!(
        "suppression for ACSFED-002 ({}:3) expired on 2020-01-31; it no longer applies",
        config.display()
    );
    assert_eq!(warnings[0], expected.as_str());
    assert!(
        run.stderr.contains(&format!("warning: {expected}")),
        "{}",
        run.stderr
    );
}

#[test]
fn a_suppression_that_matches_nothing_is_reported() {
    let dir = TempDir::new().unwrap();
    write_config(
        &dir,
        "suppressions:\n  - check: EXT-001\n    subject: agent1@contoso.com\n    reason: agent1 passes\n",
    );
    let run = run_in(dir.path(), &["audit", "--snapshot", &example(FIELD_CASE)]);
    assert!(
        run.stdout.contains(
            "warning: suppression for EXT-001 [agent1@contoso.com] (ccaudit.yaml:2) matched no result\n"
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn a_suppression_for_a_check_left_out_with_skip_is_neither_applied_nor_reported() {
    let dir = TempDir::new().unwrap();
    write_config(
        &dir,
        "suppressions:\n  - check: EXT-001\n    reason: later\n",
    );
    let run = run_in(
        dir.path(),
        &[
            "audit",
            "--snapshot",
            &example(FIELD_CASE),
            "--skip",
            "external-access",
            "--format",
            "json",
        ],
    );
    assert!(run.json().get("warnings").is_none(), "{}", run.stdout);
}

#[test]
fn the_file_in_the_working_directory_is_read_unless_no_config_is_given() {
    let dir = TempDir::new().unwrap();
    write_config(
        &dir,
        &format!("contact_center_skus: [{CONTACT_CENTER_SKU}]\n"),
    );
    let run = run_in(dir.path(), &["audit", "--snapshot", &example(HEALTHY)]);
    assert_eq!(
        run.code, 0,
        "LIC-005 is decided with the file's SKUs:\n{}",
        run.stdout
    );
    let run = run_in(
        dir.path(),
        &["audit", "--snapshot", &example(HEALTHY), "--no-config"],
    );
    assert_eq!(run.code, 3, "without the file LIC-005 is unknown");
}

/// LIC-005's status per agent, and the messages.
fn lic005(run: &Run) -> Vec<(String, String)> {
    run.json()["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|r| r["check"] == "LIC-005")
        .map(|r| {
            (
                r["status"].as_str().unwrap_or_default().to_string(),
                r["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// An empty `--cc-sku`, an empty `CCAUDIT_CC_SKUS` and `contact_center_skus: []` configure
/// nothing: LIC-005 is what it is without configuration (unknown for the healthy example's
/// agents, whose SKU Microsoft's licensing reference does not list, naming the flag), never a
/// list that nothing matches (which failed every agent).
#[test]
fn configuration_that_names_no_sku_is_no_configuration() {
    let dir = TempDir::new().unwrap();
    let healthy = example(HEALTHY);
    let base = [
        "audit",
        "--snapshot",
        healthy.as_str(),
        "--only",
        "LIC-005",
        "--format",
        "json",
    ];
    let unconfigured = run_in(dir.path(), &base);
    assert_eq!(unconfigured.code, 3, "{}", unconfigured.stdout);
    let expected = lic005(&unconfigured);
    assert_eq!(expected.len(), 3);
    for (status, message) in &expected {
        assert_eq!(status, "unknown", "{message}");
        assert!(
            message.contains("rerun with --cc-sku DYN365_CUSTOMER_SERVICE_PREMIUM"),
            "{message}"
        );
    }

    let with = |extra: &[&str], env: Option<&str>, file: Option<&str>| {
        let dir = TempDir::new().unwrap();
        if let Some(text) = file {
            write_config(&dir, text);
        }
        let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("ccaudit");
        cmd.current_dir(dir.path())
            .env_remove("CCAUDIT_SNAPSHOT")
            .env_remove("CCAUDIT_CONFIG")
            .env_remove("CCAUDIT_CC_SKUS")
            .args(base)
            .args(extra);
        if let Some(value) = env {
            cmd.env("CCAUDIT_CC_SKUS", value);
        }
        let output = cmd.output().expect("ccaudit runs");
        Run {
            code: output.status.code().expect("exit code"),
            stdout: String::from_utf8(output.stdout).expect("UTF-8"),
            stderr: String::from_utf8(output.stderr).expect("UTF-8"),
        }
    };
    for (what, run) in [
        ("--cc-sku \"\"", with(&["--cc-sku", ""], None, None)),
        ("--cc-sku \" , \"", with(&["--cc-sku", " , "], None, None)),
        ("CCAUDIT_CC_SKUS=\"\"", with(&[], Some(""), None)),
        ("CCAUDIT_CC_SKUS=\",\"", with(&[], Some(","), None)),
        (
            "contact_center_skus: []",
            with(&[], None, Some("contact_center_skus: []\n")),
        ),
    ] {
        assert_eq!(run.code, 3, "{what}: {}{}", run.stdout, run.stderr);
        assert_eq!(lic005(&run), expected, "{what}");
    }
    // An empty flag says nothing, so the file's list still applies.
    let run = with(
        &["--cc-sku", ""],
        None,
        Some(&format!("contact_center_skus: [{CONTACT_CENTER_SKU}]\n")),
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(lic005(&run).iter().all(|(s, _)| s == "pass"));
    // A blank entry in the file is a typo, reported as such.
    let err = parse("contact_center_skus: [\"\"]\n").unwrap_err();
    assert!(err.contains("must not be empty"), "{err}");
}

#[test]
fn documented_contact_center_skus_are_distinct_part_numbers_with_sku_ids() {
    use ccaudit::config::DOCUMENTED_CONTACT_CENTER_SKUS as SKUS;
    assert!(!SKUS.is_empty());
    for (i, s) in SKUS.iter().enumerate() {
        assert!(ccaudit::ids::is_guid(s.sku_id), "{s:?}");
        assert_eq!(s.sku_id, s.sku_id.to_lowercase(), "{s:?}");
        assert!(
            s.part_number.starts_with("DYNAMICS_365_CONTACT_CENTER"),
            "{s:?}"
        );
        assert!(
            SKUS[..i]
                .iter()
                .all(|o| o.part_number != s.part_number && o.sku_id != s.sku_id),
            "{s:?} twice"
        );
    }
}

#[test]
fn sku_lists_are_trimmed_and_deduplicated() {
    use ccaudit::config::sku_list;
    assert_eq!(
        sku_list(&[" A ", "", "a", "B", " "]),
        ["A", "B"],
        "blanks and case-insensitive repeats go"
    );
    assert!(sku_list::<&str>(&[]).is_empty());
    let config = parse("contact_center_skus: [X, x, Y]\n").unwrap();
    assert_eq!(config.contact_center_skus, ["X", "Y"]);
}

#[test]
fn command_line_flags_override_the_file() {
    let dir = TempDir::new().unwrap();
    write_config(
        &dir,
        "contact_center_skus: [NO_SUCH_SKU]\nfail_on: critical\n",
    );
    // The file says: only critical findings fail; agents lack NO_SUCH_SKU (LIC-005 high fails).
    let from_file = run_in(
        dir.path(),
        &["audit", "--snapshot", &example(HEALTHY), "--format", "json"],
    );
    assert_eq!(
        from_file.code, 0,
        "a high finding is below the file's fail_on critical"
    );
    assert!(
        findings(&from_file.json())
            .iter()
            .any(|(c, _)| c == "LIC-005")
    );
    let flags = run_in(
        dir.path(),
        &[
            "audit",
            "--snapshot",
            &example(HEALTHY),
            "--cc-sku",
            CONTACT_CENTER_SKU,
            "--fail-on",
            "info",
            "--format",
            "json",
        ],
    );
    assert_eq!(flags.code, 0);
    assert!(
        findings(&flags.json()).is_empty(),
        "--cc-sku replaces the file's SKUs"
    );
    let fail_on = run_in(
        dir.path(),
        &[
            "audit",
            "--snapshot",
            &example(HEALTHY),
            "--fail-on",
            "high",
        ],
    );
    assert_eq!(fail_on.code, 1, "--fail-on replaces the file's fail_on");
}

#[test]
fn configuration_errors_are_one_line_naming_file_and_line_and_exit_2() {
    let dir = TempDir::new().unwrap();
    let config = write_config(
        &dir,
        "suppressions:\n  - check: NUM-002\n    reason: ticket\n  - check: NUM-099\n    reason: typo\n",
    );
    let run = run_in(
        dir.path(),
        &[
            "audit",
            "--snapshot",
            &example(FIELD_CASE),
            "--config",
            config.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        format!(
            "error: {}:4: suppressions[1].check: unknown check `NUM-099` (see `ccaudit checks`)\n",
            config.display()
        )
    );
    let missing = run_in(
        dir.path(),
        &[
            "audit",
            "--snapshot",
            &example(FIELD_CASE),
            "--config",
            "nope.yaml",
        ],
    );
    assert_eq!(missing.code, 2);
    assert!(
        missing
            .stderr
            .starts_with("error: nope.yaml: cannot read the configuration file"),
        "{}",
        missing.stderr
    );
    assert_eq!(missing.stderr.lines().count(), 1);
}

#[test]
fn the_agents_in_the_file_do_not_make_an_offline_audit_fail() {
    // They select agents for a live read; a snapshot already records its agents.
    let dir = TempDir::new().unwrap();
    write_config(
        &dir,
        &format!("agents: [someone@contoso.com]\ncontact_center_skus: [{CONTACT_CENTER_SKU}]\n"),
    );
    let run = run_in(dir.path(), &["audit", "--snapshot", &example(HEALTHY)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

// --- completions ---------------------------------------------------------------------------------

#[test]
fn completions_are_generated_for_every_supported_shell() {
    let dir = TempDir::new().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let run = run_in(dir.path(), &["completions", shell]);
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        for word in ["audit", "collect", "remediation-script", "config"] {
            assert!(run.stdout.contains(word), "{shell} completions lack {word}");
        }
    }
    let run = run_in(dir.path(), &["completions", "tcsh"]);
    assert_eq!(run.code, 2);
}

// --- live reads ----------------------------------------------------------------------------------

/// `collect` against the fake tenant (loopback only), with the configuration file in `dir`.
async fn collect_with_config(
    fake: &fake_tenant::FakeTenant,
    dir: &Path,
    extra: &[&str],
) -> (std::process::Output, Value) {
    let saved = dir.join("tenant.snapshot.json");
    let mut cmd = assert_cmd::Command::cargo_bin("ccaudit").expect("binary");
    cmd.current_dir(dir)
        .arg("collect")
        .arg("--tenant")
        .arg(fake.tenant_id())
        .args(fake.endpoint_args())
        .args(["--quiet", "--output"])
        .arg(&saved)
        .args(extra)
        .timeout(std::time::Duration::from_secs(40));
    for var in [
        "CCAUDIT_CONFIG",
        "AZURE_CLIENT_CERTIFICATE_PATH",
        "RUST_LOG",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in fake.env_vars() {
        cmd.env(k, v);
    }
    let output = tokio::task::spawn_blocking(move || cmd.output().expect("ccaudit runs"))
        .await
        .expect("joined");
    let snapshot = std::fs::read_to_string(&saved)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    (output, snapshot)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_live_read_takes_its_agents_from_the_file_unless_the_command_line_names_them() {
    let example: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join(HEALTHY)).unwrap()).unwrap();
    let fake = fake_tenant::FakeTenant::start(example, fake_tenant::FakeOptions::default())
        .await
        .expect("fake tenant");
    let dir = TempDir::new().unwrap();
    write_config(&dir, "agents: [agent1@contoso.com, agent3@contoso.com]\n");

    let (out, snapshot) = collect_with_config(&fake, dir.path(), &[]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        snapshot["agents"]["users"],
        serde_json::json!(["agent1@contoso.com", "agent3@contoso.com"])
    );

    let (out, snapshot) =
        collect_with_config(&fake, dir.path(), &["--agents", "agent2@contoso.com"]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        snapshot["agents"]["users"],
        serde_json::json!(["agent2@contoso.com"])
    );
}

// --- retired check ids -----------------------------------------------------------------------------

#[test]
fn a_suppression_naming_a_retired_id_follows_its_redirect_with_a_warning() {
    let mut config =
        parse("suppressions:\n  - check: d365-005\n    reason: legacy entry kept on purpose\n")
            .expect("parses");
    let ids = built_in_check_ids();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let warnings = config
        .validate_checks(&ids)
        .expect("a retired id is not an error");
    assert_eq!(config.suppressions[0].check, "ACSFED-002");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with("ccaudit.yaml:2:")
            && warnings[0].to_ascii_uppercase().contains("D365-005")
            && warnings[0].contains("ACSFED-002"),
        "{}",
        warnings[0]
    );
}

#[test]
fn the_audit_warns_on_stderr_and_applies_a_redirected_suppression() {
    let dir = TempDir::new().unwrap();
    let config = write_config(
        &dir,
        "suppressions:\n  - check: D365-005\n    reason: legacy entry kept on purpose\n",
    );
    let run = run_in(
        dir.path(),
        &[
            "audit",
            "--snapshot",
            &example(FIELD_CASE),
            "--config",
            config.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert!(
        run.stderr.contains("warning:") && run.stderr.contains("retired"),
        "{}",
        run.stderr
    );
    let report = run.json();
    let acsfed_002: Vec<&Value> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["check"] == "ACSFED-002" && r["status"] == "fail")
        .collect();
    assert!(!acsfed_002.is_empty(), "the field case fails ACSFED-002");
    assert!(acsfed_002.iter().all(|r| r.get("suppressed").is_some()));
}
