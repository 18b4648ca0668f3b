//! As a hostile tester tries it: no input is overwritten by an output, a failed write
//! is an error while a closed pipe is not, inputs are bounded (and `explain` is linear in its
//! input), numbers from flags and the environment are range-checked, and an audit that
//! evaluated nothing does not pass. Every refusal is one line on stderr with exit 2.

mod support;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use fake_tenant::Faults;
use tempfile::TempDir;

const FIELD_CASE: &str = "examples/field-case.snapshot.json";
const HEALTHY: &str = "examples/healthy.snapshot.json";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `ccaudit` from the repository root, without the developer's environment.
fn base(args: &[&str]) -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin!("ccaudit"));
    cmd.current_dir(root()).env("NO_COLOR", "1").args(args);
    for var in support::SCRUBBED {
        cmd.env_remove(var);
    }
    cmd
}

/// [`base`] with a timeout (a hang fails the test).
fn ccaudit(args: &[&str]) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::from_std(base(args));
    cmd.timeout(support::RUN_TIMEOUT);
    cmd
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts an input error: exit 2, no panic, one line on stderr; returns that line.
fn one_line_error(out: &Output) -> String {
    let err = stderr(out);
    assert!(!err.contains("panicked"), "ccaudit panicked:\n{err}");
    assert_eq!(out.status.code(), Some(2), "stderr:\n{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "the error should be one line:\n{err}");
    lines[0].to_string()
}

/// Asserts a usage error from clap (exit 2, no panic) whose message holds `needle`.
fn usage_error(out: &Output, needle: &str) {
    let err = stderr(out);
    assert!(!err.contains("panicked"), "ccaudit panicked:\n{err}");
    assert_eq!(out.status.code(), Some(2), "stderr:\n{err}");
    assert!(err.contains(needle), "expected `{needle}` in:\n{err}");
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Every file below `dir` with its bytes, to prove a refused run changed nothing.
fn contents(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(contents(&path));
        } else {
            out.push((path.clone(), std::fs::read(&path).unwrap_or_default()));
        }
    }
    out.sort();
    out
}

/// A directory holding a copy of the field case (`s.json`), a configuration (`c.yaml`), a
/// checks directory with one check file, a redaction key and a subdirectory.
fn workspace() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(root().join(FIELD_CASE), dir.path().join("s.json")).unwrap();
    std::fs::write(dir.path().join("c.yaml"), "fail_on: high\n").unwrap();
    std::fs::create_dir(dir.path().join("checks")).unwrap();
    std::fs::copy(
        root().join("checks/acs-federation/ACSFED-001.yaml"),
        dir.path().join("checks/ACSFED-001.yaml"),
    )
    .unwrap();
    std::fs::write(dir.path().join("k.key"), "00".repeat(32)).unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    dir
}

// ---------------------------------------------------------------------------------------------
// 1. Paths: no output names an input, or another output

#[test]
fn an_output_that_names_an_input_is_refused_before_any_work_and_nothing_changes() {
    let dir = workspace();
    // `@name` is that file in the workspace.
    let p = |arg: &str| match arg.strip_prefix('@') {
        Some(name) => dir.path().join(name).display().to_string(),
        None => arg.to_string(),
    };
    // Only unix adds a case (a symbolic link needs a privilege on Windows).
    #[cfg_attr(not(unix), allow(unused_mut))]
    let mut cases: Vec<(&[&str], &str)> = vec![
        (&["--output", "@s.json"], "--snapshot"),
        // Spelled differently: the same file.
        (&["--remediation-script", "@sub/../s.json"], "--snapshot"),
        (&["--config", "@c.yaml", "--output", "@c.yaml"], "--config"),
        (
            &["--output", "@r.txt", "--remediation-script", "@r.txt"],
            "--remediation-script",
        ),
        (
            &["--checks", "@checks", "--output", "@checks/ACSFED-001.yaml"],
            "--checks",
        ),
        (
            &["--checks", "@checks", "--output", "@checks/new.yml"],
            "--checks",
        ),
        (
            &["--redact", "--redact-key", "@k.key", "--output", "@k.key"],
            "--redact-key",
        ),
        // The key created next to the report would be the remediation script.
        (
            &[
                "--redact",
                "--output",
                "@r.json",
                "--remediation-script",
                "@r.json.redact-key",
            ],
            "redaction key",
        ),
    ];
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(p("@s.json"), p("@link.json")).unwrap();
        cases.push((&["--output", "@link.json"], "--snapshot"));
    }
    let before = contents(dir.path());
    for (extra, other) in cases {
        let mut args = vec!["audit".to_string(), "--snapshot".into(), p("@s.json")];
        args.extend(["--format", "json"].map(String::from));
        args.extend(extra.iter().map(|a| p(a)));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = ccaudit(&args).output().unwrap();
        let line = one_line_error(&out);
        assert!(line.contains(other), "{args:?}: {line}");
        assert!(out.stdout.is_empty(), "{args:?}: refused before any work");
        assert_eq!(contents(dir.path()), before, "{args:?} changed a file");
    }
}

#[test]
fn redact_and_collect_refuse_an_output_that_is_an_input() {
    let dir = workspace();
    let p = |name: &str| dir.path().join(name).display().to_string();
    let (snap, key, config) = (p("s.json"), p("k.key"), p("c.yaml"));
    let before = contents(dir.path());
    let runs: [&[&str]; 3] = [
        &["redact", "--snapshot", &snap, "--output", &snap],
        &[
            "redact",
            "--snapshot",
            &snap,
            "--output",
            &key,
            "--redact-key",
            &key,
        ],
        &[
            "collect",
            "--tenant",
            "contoso.example",
            "--config",
            &config,
            "--output",
            &config,
        ],
    ];
    for args in runs {
        let line = one_line_error(&ccaudit(args).output().unwrap());
        assert!(line.contains("names the same file"), "{args:?}: {line}");
        assert_eq!(contents(dir.path()), before, "{args:?} changed a file");
    }
}

#[test]
fn an_output_in_a_missing_directory_or_on_a_directory_is_refused_up_front() {
    let dir = workspace();
    let missing = dir.path().join("no/such/dir/out.json");
    let snap = dir.path().join("s.json");
    for args in [
        vec!["audit", "--snapshot", s(&snap), "--output", s(&missing)],
        vec!["audit", "--snapshot", s(&snap), "--output", s(dir.path())],
        vec!["synth", "--output", s(&missing)],
        vec!["redact", "--snapshot", s(&snap), "--output", s(&missing)],
    ] {
        let line = one_line_error(&ccaudit(&args).output().unwrap());
        assert!(
            line.contains("does not exist") || line.contains("is a directory"),
            "{args:?}: {line}"
        );
    }
}

/// The costly case: a live read of the tenant, then a report nowhere to write it. The paths
/// are checked before the first request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_audit_checks_its_outputs_before_reading_the_tenant() {
    let snapshot = support::example("healthy.snapshot.json");
    let fake = support::fake_with(&snapshot, Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing/out.json");
    let existing = dir.path().join("config.yaml");
    std::fs::write(&existing, "fail_on: high\n").unwrap();
    let cases: [(&str, Vec<String>); 4] = [
        ("audit", vec!["--save-snapshot".into(), s(&missing).into()]),
        ("audit", vec!["--output".into(), s(&missing).into()]),
        ("collect", vec!["--output".into(), s(&missing).into()]),
        (
            "audit",
            vec![
                "--config".into(),
                s(&existing).into(),
                "--save-snapshot".into(),
                s(&existing).into(),
            ],
        ),
    ];
    for (sub, args) in cases {
        let cmd = support::command(&fake, sub, fake.endpoint_args(), &args, &[]);
        let out = support::run(cmd).await;
        one_line_error(&out);
        assert!(
            fake.requests().is_empty(),
            "{sub} {args:?} read the tenant before refusing"
        );
    }
    assert_eq!(
        std::fs::read_to_string(&existing).unwrap(),
        "fail_on: high\n"
    );
}

// ---------------------------------------------------------------------------------------------
// 2. Writes: a failed write is an error; a closed pipe is not

/// Every command that prints, with stdout on a full device.
#[cfg(target_os = "linux")]
#[test]
fn a_failed_write_to_stdout_is_an_error_naming_it() {
    let runs: [&[&str]; 12] = [
        &["audit", "--snapshot", FIELD_CASE],
        &["audit", "--snapshot", FIELD_CASE, "--format", "json"],
        &["checks"],
        &["checks", "--markdown"],
        &["checks", "ACSFED-002"],
        &["model", "--snapshot", HEALTHY],
        &["permissions"],
        &["permissions", "--format", "script"],
        &["explain", "400801"],
        &[
            "explain",
            "400801",
            "--format",
            "json",
            "--snapshot",
            FIELD_CASE,
        ],
        &["diff", HEALTHY, FIELD_CASE],
        &["completions", "bash"],
    ];
    for args in runs {
        let full = std::fs::File::create("/dev/full").unwrap();
        let out = base(args).stdout(full).output().unwrap();
        let line = one_line_error(&out);
        assert!(
            line.contains("cannot write to standard output"),
            "{args:?}: {line}"
        );
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_failed_write_to_an_output_file_is_an_error_naming_the_file() {
    for flag in ["--output", "--remediation-script"] {
        let out = ccaudit(&["audit", "--snapshot", FIELD_CASE, flag, "/dev/full"])
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{flag}: {err}");
        let last = err.lines().last().unwrap_or_default();
        assert!(last.contains("/dev/full: cannot write"), "{flag}: {err}");
    }
}

/// Runs ccaudit with its stdout a pipe whose reader is gone before ccaudit writes: the snapshot
/// (or text) comes from stdin, which is written only after the reader is closed.
fn with_closed_stdout(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = base(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut input = child.stdin.take().unwrap();
    // ccaudit may stop reading early (a usage error); that is for the assertions to catch.
    let _ = input.write_all(stdin);
    drop(input);
    child.wait_with_output().unwrap()
}

#[test]
fn a_closed_pipe_is_quiet_and_the_exit_status_is_the_commands() {
    let field_case = std::fs::read(root().join(FIELD_CASE)).unwrap();
    let healthy = std::fs::read(root().join(HEALTHY)).unwrap();
    let runs: [(&[&str], &[u8], i32); 5] = [
        // The field case has findings: exit 1, with or without a reader.
        (&["audit", "--snapshot", "/dev/stdin"], &field_case, 1),
        (
            &["audit", "--snapshot", "/dev/stdin", "--format", "json"],
            &field_case,
            1,
        ),
        (&["model", "--snapshot", "/dev/stdin"], &healthy, 0),
        (&["explain", "-"], b"HTTP 403 subcode 2203", 0),
        // 87 KB: more than a pipe holds, so the write meets the closed end whenever it comes.
        (&["checks", "--markdown"], b"", 0),
    ];
    for (args, stdin, code) in runs {
        let out = with_closed_stdout(args, stdin);
        assert_eq!(stderr(&out), "", "{args:?} said something on stderr");
        assert_eq!(out.status.code(), Some(code), "{args:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Bounded inputs

#[cfg(unix)]
#[test]
fn an_endless_snapshot_is_refused_once_past_the_cap() {
    let started = Instant::now();
    // The default cap, then a smaller one from the flag and from the environment.
    let out = ccaudit(&["audit", "--snapshot", "/dev/zero"])
        .output()
        .unwrap();
    let line = one_line_error(&out);
    assert!(
        line.contains("/dev/zero: ") && line.contains("400 MiB limit"),
        "{line}"
    );
    let out = ccaudit(&[
        "model",
        "--snapshot",
        "/dev/zero",
        "--max-snapshot-mib",
        "1",
    ])
    .output()
    .unwrap();
    assert!(one_line_error(&out).contains("1 MiB limit"));
    let out = ccaudit(&["diff", "/dev/zero", HEALTHY])
        .env("CCAUDIT_MAX_SNAPSHOT_MIB", "2")
        .output()
        .unwrap();
    assert!(one_line_error(&out).contains("2 MiB limit"));
    assert!(started.elapsed() < Duration::from_secs(40));
}

#[test]
fn a_snapshot_over_the_cap_is_refused_by_its_size_without_being_read() {
    let dir = tempfile::tempdir().unwrap();
    // Sparse: 401 MiB that take no disk and would take seconds to parse.
    let big = dir.path().join("big.snapshot.json");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(401 << 20)
        .unwrap();
    let small = dir.path().join("small.snapshot.json");
    std::fs::write(&small, vec![b' '; (1 << 20) + 1]).unwrap();
    let out = dir.path().join("out.json");
    let runs: [Vec<&str>; 6] = [
        vec!["audit", "--snapshot", s(&big)],
        vec!["audit", "--snapshot", s(&small), "--max-snapshot-mib", "1"],
        vec!["model", "--snapshot", s(&small), "--max-snapshot-mib", "1"],
        vec![
            "explain",
            "400801",
            "--snapshot",
            s(&small),
            "--max-snapshot-mib",
            "1",
        ],
        vec![
            "redact",
            "--snapshot",
            s(&small),
            "--output",
            s(&out),
            "--max-snapshot-mib",
            "1",
        ],
        vec!["diff", HEALTHY, s(&small), "--max-snapshot-mib", "1"],
    ];
    for args in runs {
        let started = Instant::now();
        let line = one_line_error(&ccaudit(&args).output().unwrap());
        assert!(line.contains("not read: the file is"), "{args:?}: {line}");
        assert!(line.contains("--max-snapshot-mib"), "{args:?}: {line}");
        assert!(started.elapsed() < Duration::from_secs(20), "{args:?}");
    }
    assert!(!out.exists());
}

#[test]
fn explain_input_over_its_cap_is_refused() {
    let text = "403 subcode 2203 ".repeat((9 << 20) / 17);
    let out = ccaudit(&["explain", "-"])
        .write_stdin(text)
        .output()
        .unwrap();
    let line = one_line_error(&out);
    assert!(line.contains("over 8 MiB"), "{line}");
}

/// Inputs that were quadratic (or length times the knowledge base) in `explain`: distinct
/// numbers (every one a candidate unknown code), status/subcode pairs, and one long token.
/// In a release build before the fix, 640 KB of distinct numbers took 23 s, 6.4 MB of pairs
/// 124 s and a 6.4 MB token 42 s; each of these is 3.2 MB and must take seconds unoptimized.
#[test]
fn explain_is_linear_in_its_input() {
    let numbers: String = (0..400_000)
        .map(|i| format!("{} ", 1_000_000 + i))
        .collect();
    let pairs = "403 subcode 2203 ".repeat(3_200_000 / 17);
    let long_token = "a1".repeat(1_600_000);
    for (name, text) in [
        ("distinct numbers", numbers),
        ("pairs", pairs),
        ("long token", long_token),
    ] {
        let started = Instant::now();
        let out = ccaudit(&["explain", "-", "--format", "json"])
            .write_stdin(text)
            .output()
            .unwrap();
        let took = started.elapsed();
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        assert!(took < Duration::from_secs(30), "{name} took {took:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// 5. Numbers from the environment and flags

#[test]
fn the_service_budget_from_the_environment_is_range_checked() {
    let live_audit_with_budget = |value: &str| {
        let args = [
            "audit",
            "--tenant",
            "contoso.example",
            "--auth",
            "client-secret",
        ];
        let out = ccaudit(&args)
            .env("CCAUDIT_SERVICE_BUDGET_SECS", value)
            .output()
            .unwrap();
        one_line_error(&out)
    };
    for value in ["1e300", "0", "-5", "nan", "inf", "ten", "86401", ""] {
        let line = live_audit_with_budget(value);
        assert!(
            line.contains("CCAUDIT_SERVICE_BUDGET_SECS") && line.contains("1 to 86400"),
            "{value}: {line}"
        );
    }
    // In range: past the budget, to the next thing missing (the client secret).
    let line = live_audit_with_budget("2.5");
    assert!(!line.contains("CCAUDIT_SERVICE_BUDGET_SECS"), "{line}");
}

#[test]
fn numeric_flags_out_of_range_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("synth.json");
    let o = s(&out_file);
    let cases: [(&[&str], &str); 9] = [
        (
            &["synth", "--output", o, "--agents", "100000000"],
            "0..=40000",
        ),
        (&["synth", "--output", o, "--agents=-1"], "--agents"),
        (
            &["synth", "--output", o, "--numbers", "100001"],
            "0..=100000",
        ),
        (
            &["synth", "--output", o, "--resource-accounts", "10001"],
            "0..=10000",
        ),
        (
            &["synth", "--output", o, "--faults-per-mille", "1001"],
            "0..=1000",
        ),
        (
            &["audit", "--tenant", "t.example", "--concurrency", "0"],
            "1..=64",
        ),
        (
            &["audit", "--tenant", "t.example", "--concurrency", "65"],
            "1..=64",
        ),
        (
            &["model", "--snapshot", HEALTHY, "--max-snapshot-mib", "0"],
            "1..=65536",
        ),
        (
            &[
                "model",
                "--snapshot",
                HEALTHY,
                "--max-snapshot-mib",
                "65537",
            ],
            "1..=65536",
        ),
    ];
    for (args, needle) in cases {
        usage_error(&ccaudit(args).output().unwrap(), needle);
    }
    let out = ccaudit(&["model", "--snapshot", HEALTHY])
        .env("CCAUDIT_MAX_SNAPSHOT_MIB", "lots")
        .output()
        .unwrap();
    usage_error(&out, "--max-snapshot-mib");
    assert!(!out_file.exists());
}

// ---------------------------------------------------------------------------------------------
// 7. An audit that evaluated nothing

#[test]
fn a_selection_that_leaves_no_check_is_refused_before_reading_the_snapshot() {
    let every_area = "d365,acs-federation,external-access,information-barriers,\
                      resource-accounts,licensing,agents,numbers,acs";
    for args in [
        vec!["audit", "--snapshot", FIELD_CASE, "--skip", every_area],
        vec![
            "audit",
            "--snapshot",
            FIELD_CASE,
            "--only",
            "numbers",
            "--skip",
            "numbers",
        ],
        // Before the snapshot: one that does not exist is never opened.
        vec!["audit", "--snapshot", "no-such.json", "--skip", every_area],
    ] {
        let out = ccaudit(&args).output().unwrap();
        let line = one_line_error(&out);
        assert!(line.contains("no check to run"), "{args:?}: {line}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn an_audit_whose_every_result_is_skipped_is_not_a_pass() {
    // ACSFED-003 is skipped on the field case: the legacy settings are not in use.
    let out = ccaudit(&[
        "audit",
        "--snapshot",
        FIELD_CASE,
        "--only",
        "ACSFED-003",
        "--format",
        "json",
    ])
    .output()
    .unwrap();
    let line = one_line_error(&out);
    assert!(line.contains("nothing was evaluated"), "{line}");
    // The report still says why.
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["summary"]["skipped"], 1, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_audit_that_would_check_nothing_reads_nothing() {
    let snapshot = support::example("healthy.snapshot.json");
    let fake = support::fake_with(&snapshot, Faults::default()).await;
    let args: Vec<String> = ["--only", "NUM-001", "--skip", "numbers"]
        .map(String::from)
        .to_vec();
    let cmd = support::command(&fake, "audit", fake.endpoint_args(), &args, &[]);
    let out = support::run(cmd).await;
    assert!(one_line_error(&out).contains("no check to run"));
    assert!(fake.requests().is_empty());
}
