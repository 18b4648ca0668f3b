//! What the end-to-end tests against the fake tenant share (tests/live.rs, tests/faults.rs):
//! the examples, the `ccaudit` command pointed at a fake, and reading its JSON report.
//! Each test crate uses a part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use assert_cmd::Command;
use fake_tenant::{FakeOptions, FakeTenant, Faults};
use serde_json::Value;

/// No single ccaudit run may take longer (a hang fails the test instead of blocking CI).
pub const RUN_TIMEOUT: Duration = Duration::from_secs(45);

/// The environment a run must not inherit from the developer's shell.
pub const SCRUBBED: [&str; 13] = [
    "CCAUDIT_SNAPSHOT",
    "CCAUDIT_CC_SKUS",
    "CCAUDIT_CONFIG",
    "CCAUDIT_MAX_SNAPSHOT_MIB",
    "CCAUDIT_ENDPOINT_LOGIN",
    "CCAUDIT_ENDPOINT_GRAPH",
    "CCAUDIT_ENDPOINT_TEAMS",
    "CCAUDIT_ENDPOINT_ARM",
    "CCAUDIT_ENDPOINT_COMPLIANCE",
    "CCAUDIT_ENDPOINT_POWERPLATFORM",
    "CCAUDIT_SERVICE_BUDGET_SECS",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "RUST_LOG",
];

pub fn example_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
}

pub fn example(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(example_path(name)).unwrap()).unwrap()
}

/// The agents named in a snapshot, as `--agents` takes them.
pub fn agents_flag(snapshot: &Value) -> Vec<String> {
    let users: Vec<&str> = snapshot["agents"]["users"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if users.is_empty() {
        Vec::new()
    } else {
        vec!["--agents".into(), users.join(",")]
    }
}

/// A fake serving `snapshot` with `faults` and otherwise default options.
pub async fn fake_with(snapshot: &Value, faults: Faults) -> FakeTenant {
    FakeTenant::start(
        snapshot.clone(),
        FakeOptions {
            faults,
            ..FakeOptions::default()
        },
    )
    .await
    .unwrap()
}

/// The arguments of a quiet live audit of `snapshot`'s agents with a JSON report on stdout
/// that also saves what it read to `saved`.
pub fn json_audit_saving(snapshot: &Value, saved: &Path) -> Vec<String> {
    let mut args = agents_flag(snapshot);
    args.extend(["--format", "json", "--quiet", "--save-snapshot"].map(String::from));
    args.push(saved.display().to_string());
    args
}

/// `ccaudit <sub> --tenant T <endpoints> <args>` with the fake's client-secret environment,
/// `env` added and the developer's own settings removed.
pub fn command(
    fake: &FakeTenant,
    sub: &str,
    endpoints: Vec<String>,
    args: &[String],
    env: &[(&str, &str)],
) -> Command {
    let mut cmd = Command::cargo_bin("ccaudit").unwrap();
    cmd.arg(sub)
        .arg("--tenant")
        .arg(fake.tenant_id())
        .args(endpoints)
        .args(args)
        .timeout(RUN_TIMEOUT);
    for var in SCRUBBED {
        cmd.env_remove(var);
    }
    for (k, v) in fake.env_vars() {
        cmd.env(k, v);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Runs off the async runtime so the fake keeps serving.
pub async fn run(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

pub fn report(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not a JSON report ({e}); exit {:?}, stderr: {}",
            out.status.code(),
            stderr(out)
        )
    })
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// (check, subject id, status) of every result, sorted.
pub fn verdicts(report: &Value) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let s = |v: &Value| v.as_str().unwrap_or("").to_string();
            (s(&r["check"]), s(&r["subject"]["id"]), s(&r["status"]))
        })
        .collect();
    v.sort();
    v
}

/// A loopback address that accepts TCP connections and never answers on them (nor closes
/// them): an unresponsive service. The connections are held until the test process ends.
pub struct Silent {
    pub addr: std::net::SocketAddr,
    accepted: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Silent {
    /// Connections accepted so far (each request waiting for an answer holds one).
    pub fn accepted(&self) -> usize {
        self.accepted.load(std::sync::atomic::Ordering::SeqCst)
    }
}

pub fn silent_listener() -> Silent {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = accepted.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            held.push(stream);
        }
    });
    Silent { addr, accepted }
}

/// The fake's endpoint flags with `key`'s base URL replaced by `url`.
pub fn endpoints_with(fake: &FakeTenant, key: &str, url: &str) -> Vec<String> {
    let mut args = fake.endpoint_args();
    let prefix = format!("{key}=");
    for arg in &mut args {
        if arg.starts_with(&prefix) {
            *arg = format!("{key}={url}");
        }
    }
    assert!(
        args.contains(&format!("{key}={url}")),
        "no {key} in {args:?}"
    );
    args
}
