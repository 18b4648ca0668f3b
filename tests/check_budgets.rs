//! Check files from `--checks DIR` are untrusted input (issue 10, item 4): a check file the
//! parser cannot take is a one-line `file:line` error, and a check that would run for ever or
//! take all the memory is reported unknown, naming the budget, while the rest of the audit
//! completes. The budgets themselves are tested in-process with small limits
//! (src/engine/budget.rs); these run the binary with its defaults.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn ccaudit(args: &[&str]) -> Run {
    let output = assert_cmd::cargo::cargo_bin_cmd!("ccaudit")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("CCAUDIT_SNAPSHOT")
        .env_remove("CCAUDIT_CC_SKUS")
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .expect("ccaudit runs");
    let run = Run {
        code: output.status.code().expect("ccaudit exits with a code"),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    run
}

/// A check file with `rule`, written as `DIR/ID.yaml`.
fn write_check(dir: &Path, id: &str, rule: &str) -> String {
    let path = dir.join(format!("{id}.yaml"));
    let text = format!(
        "id: {id}\ntitle: adversarial\narea: acs-federation\nseverity: low\nbasis: inferred\n\
         description: d\nrule: {}\nmessage: {{pass: ok, fail: bad}}\nremediation: none\n\
         docs: [https://learn.microsoft.com/x]\n",
        serde_json::to_string(rule).unwrap()
    );
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn audit(dir: &TempDir) -> Run {
    ccaudit(&[
        "audit",
        "--snapshot",
        "examples/healthy.snapshot.json",
        "--checks",
        dir.path().to_str().unwrap(),
        "--format",
        "json",
    ])
}

#[test]
fn a_syntax_error_past_column_65535_is_a_one_line_file_and_line_error() {
    let dir = TempDir::new().unwrap();
    let path = write_check(
        dir.path(),
        "ACSFED-901",
        &format!("true || '{}' + )", "a".repeat(70_000)),
    );
    let run = audit(&dir);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        format!(
            "error: {path}:7: rule: expression is 70014 bytes long, more than the 16384 allowed\n"
        )
    );
    assert!(run.stdout.is_empty());
}

#[test]
fn a_check_out_of_its_memory_budget_is_unknown_and_the_audit_completes() {
    let dir = TempDir::new().unwrap();
    // Each `replace` makes the string a thousand times longer: a terabyte at the fourth.
    let thousand = "x".repeat(1000);
    let bomb = format!(
        "size('x'{}) > 0",
        format!(".replace('x', '{thousand}')").repeat(4)
    );
    write_check(dir.path(), "ACSFED-901", &bomb);
    write_check(
        dir.path(),
        "ACSFED-902",
        "tenant.teams.acs_federation.enable_acs_users",
    );
    let started = Instant::now();
    let run = audit(&dir);
    let elapsed = started.elapsed();
    // Unknown results and no finding: exit 3.
    assert_eq!(run.code, 3, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    let results = report["results"].as_array().unwrap();
    let of = |id: &str| -> Vec<&Value> { results.iter().filter(|r| r["check"] == id).collect() };
    let bomb = of("ACSFED-901");
    assert_eq!(bomb.len(), 1, "{bomb:#?}");
    assert_eq!(bomb[0]["status"], "unknown");
    assert_eq!(
        bomb[0]["message"],
        "not evaluated to the end: the check exceeded its memory budget (256 MiB of values \
         built) (see docs/writing-checks.md)"
    );
    assert_eq!(of("ACSFED-902")[0]["status"], "pass");
    // Every built-in check has its results beside them.
    for id in ["ACSFED-001", "ACSFED-002", "NUM-008", "RA-001", "AGT-001"] {
        assert!(!of(id).is_empty(), "{id} missing");
    }
    // Refused before the gigabyte is built.
    assert!(elapsed < Duration::from_secs(60), "{elapsed:?}");
}

#[test]
fn an_oversized_check_file_is_refused_before_it_is_read_whole() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("ACSFED-901.yaml");
    std::fs::write(&path, "#".repeat(2 << 20)).unwrap();
    let run = audit(&dir);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        format!(
            "error: {}:0: cannot read: larger than the 1024 KiB a check file may have\n",
            path.display()
        )
    );
}
