//! Whole-run benchmarks of the `ccaudit` binary (a benchmark, not a test: `cargo test` never
//! runs it). Results and their reading are in docs/performance.md.
//!
//! ```sh
//! cargo bench --bench live                     # offline S and 2S, then live S (about 4 minutes)
//! cargo bench --bench live -- offline          # offline audits of S and 2S only (seconds)
//! cargo bench --bench live -- live             # live audit of S only
//! cargo bench --bench live -- live --size S/4  # a quarter of S (about a minute)
//! cargo bench --bench live -- live --no-sequential   # skip the --concurrency 1 run
//! cargo bench --bench live -- live --concurrency 4   # measure another --concurrency
//! cargo bench --bench live -- live --throttle        # also with 20% 429 + 5% 503
//! ```
//!
//! **Offline**: `ccaudit audit --snapshot FILE --format json` of a generated tenant (S = 500
//! resource accounts, 5,000 numbers, 2,000 agents, 20 subscriptions, 20 information-barrier
//! segments; 2S doubles the first three) under `/usr/bin/time -v`: wall time and peak
//! resident memory of the whole process (median of 5 runs).
//!
//! **Live**: the same tenant served by the fake tenant server (in this process, loopback,
//! 50 ms injected latency per request, 100 items per page), audited by the binary as a child
//! process, once with the default concurrency and once with `--concurrency 1`. The fake's
//! request log gives the requests per service, the `$batch` economy and the longest chain of
//! requests that must be sequential, from which the lower bound on wall time is computed:
//! `max(longest chain, max over services of ceil(requests / concurrency)) x latency`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ccaudit::synth::{self, SynthParams};
use fake_tenant::{FakeOptions, FakeTenant, LoggedRequest};
use serde_json::{Value, json};

const CCAUDIT: &str = env!("CARGO_BIN_EXE_ccaudit");
const LATENCY: Duration = Duration::from_millis(50);
/// Items per page of the fake's collections (its process default; Graph's usual page).
const PAGE_SIZE: usize = 100;
/// Offline runs per size; the median is reported.
const OFFLINE_RUNS: usize = 5;
/// Requests in flight per service when `--concurrency` is not given to the benchmark: the
/// client's default (passed to the binary explicitly, so the measurement does not depend on
/// the CLI flag's own default).
const DEFAULT_CONCURRENCY: usize = ccaudit::sources::http::DEFAULT_CONCURRENCY;

/// S, scaled by `quarters / 4` in resource accounts, numbers and agents (1% misconfigured, so
/// failing paths and remediation templates are exercised too).
fn params(quarters: usize) -> SynthParams {
    SynthParams {
        resource_accounts: 500 * quarters / 4,
        numbers: 5_000 * quarters / 4,
        agents: 2_000 * quarters / 4,
        faults_per_mille: 10,
        seed: 0x5eed,
    }
}

fn quarters(size: &str) -> usize {
    match size {
        "S/4" => 1,
        "S/2" => 2,
        "S" => 4,
        "2S" => 8,
        other => panic!("--size {other}: one of S/4, S/2, S, 2S"),
    }
}

/// The generated tenant, widened to the issue's S: 20 subscriptions and 20 information-barrier
/// segments, with a share of the agents spread over the extra segments (so IB-002 sees many
/// segment groups, not two).
fn tenant(quarters: usize) -> Value {
    let snapshot = synth::generate(&params(quarters));
    let mut v = serde_json::to_value(&snapshot).expect("a snapshot serialises");
    let facts = v["facts"].as_object_mut().expect("facts");
    let subs = facts["arm.subscriptions"]["data"]["value"]
        .as_array_mut()
        .expect("subscriptions");
    let template = subs[0].clone();
    for i in 1..20 {
        let id = format!("{i:08x}-3333-4444-5555-666677778888");
        let mut s = template.clone();
        s["id"] = format!("/subscriptions/{id}").into();
        s["subscriptionId"] = id.into();
        s["displayName"] = format!("Contoso subscription {i:02}").into();
        subs.push(s);
    }
    let segments = facts["compliance.OrganizationSegment"]["data"]["value"]
        .as_array_mut()
        .expect("segments");
    for i in segments.len()..20 {
        segments.push(json!({"Name": format!("Segment {i:02}"),
            "UserGroupFilter": format!("Department -eq 'Department {i:02}'")}));
    }
    let agents: BTreeSet<String> = v["agents"]["users"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_ascii_lowercase)
        .collect();
    let users = v["facts"]["graph.users"]["data"]["value"]
        .as_array_mut()
        .expect("users");
    let mut k = 0usize;
    for u in users.iter_mut() {
        let upn = u["userPrincipalName"]
            .as_str()
            .unwrap_or("")
            .to_ascii_lowercase();
        if agents.contains(&upn) {
            if k.is_multiple_of(4) {
                u["department"] = format!("Department {:02}", 3 + (k / 4) % 17).into();
            }
            k += 1;
        }
    }
    v
}

fn agent_upns(snapshot: &Value) -> Vec<String> {
    snapshot["agents"]["users"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(String::from)
        .collect()
}

struct Options {
    offline: bool,
    live: bool,
    size: String,
    sequential: bool,
    /// Also audit against a fake answering 20% 429 (half Retry-After seconds, half an
    /// HTTP-date) and 5% 503, and report the overhead.
    throttle: bool,
    concurrency: Option<usize>,
}

fn options() -> Options {
    let mut o = Options {
        offline: false,
        live: false,
        size: "S".into(),
        sequential: true,
        throttle: false,
        concurrency: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "offline" => o.offline = true,
            "live" => o.live = true,
            "--size" => o.size = args.next().expect("--size S/4|S/2|S|2S"),
            "--no-sequential" => o.sequential = false,
            "--throttle" => o.throttle = true,
            "--concurrency" => {
                o.concurrency = Some(
                    args.next()
                        .and_then(|n| n.parse().ok())
                        .expect("--concurrency N"),
                )
            }
            // cargo bench passes --bench; divan-style filters are not used here.
            _ => {}
        }
    }
    if !o.offline && !o.live {
        o.offline = true;
        o.live = true;
    }
    o
}

fn main() {
    // `pipeline FILE [early-drop] [leak]`: the offline audit in this process (what
    // `ccaudit audit --snapshot FILE --format json` does), for measuring variants of main.rs
    // under /usr/bin/time: `early-drop` frees the raw snapshot once the model is built (what
    // main.rs now does), `leak` exits without freeing.
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "pipeline") {
        let file = &args[at + 1];
        pipeline(
            Path::new(file),
            args.iter().any(|a| a == "early-drop"),
            args.iter().any(|a| a == "leak"),
        );
        return;
    }
    let o = options();
    let dir = tempfile::tempdir().expect("temp dir");
    if o.offline {
        offline(dir.path());
    }
    if o.live {
        live(dir.path(), &o);
    }
}

// Offline ---------------------------------------------------------------------------------------

struct Timed {
    wall: Duration,
    max_rss_kib: u64,
    exit: Option<i32>,
}

/// `ccaudit audit --snapshot FILE --format json` under `/usr/bin/time -v`.
fn time_offline(file: &Path) -> Timed {
    let file = file.to_str().expect("utf-8 path");
    time_run(CCAUDIT, &["audit", "--format", "json", "--snapshot", file])
}

/// `program args` under `/usr/bin/time -v`, stdout discarded.
fn time_run(program: &str, args: &[&str]) -> Timed {
    let out = Command::new("/usr/bin/time")
        .arg("-v")
        .arg(program)
        .args(args)
        .env_remove("CCAUDIT_CC_SKUS")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("/usr/bin/time (GNU time) runs");
    let text = String::from_utf8_lossy(&out.stderr);
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(name).map(|v| v.trim().to_string()))
            .unwrap_or_else(|| panic!("`{name}` not in /usr/bin/time output:\n{text}"))
    };
    // "h:mm:ss" or "m:ss.cc"
    let wall = field("Elapsed (wall clock) time (h:mm:ss or m:ss):")
        .split(':')
        .fold(0.0f64, |acc, part| {
            acc * 60.0 + part.parse::<f64>().unwrap_or(0.0)
        });
    Timed {
        wall: Duration::from_secs_f64(wall),
        max_rss_kib: field("Maximum resident set size (kbytes):")
            .parse()
            .unwrap_or(0),
        exit: out.status.code(),
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn offline(dir: &Path) {
    println!("## Offline audit (full catalog, `--format json`, median of {OFFLINE_RUNS} runs)\n");
    println!("| size | snapshot | results | wall | peak RSS | exit |");
    println!("|---|---:|---:|---:|---:|---:|");
    let mut walls = Vec::new();
    let mut phases = Vec::new();
    for size in ["S", "2S"] {
        let path = dir.join(format!("{}.snapshot.json", size.replace('/', "_")));
        let snapshot = tenant(quarters(size));
        let text = serde_json::to_string_pretty(&snapshot).expect("serialise");
        std::fs::write(&path, &text).expect("write snapshot");
        let results = Command::new(CCAUDIT)
            .args(["audit", "--format", "json", "--snapshot"])
            .arg(&path)
            .output()
            .ok()
            .and_then(|o| serde_json::from_slice::<Value>(&o.stdout).ok())
            .and_then(|r| r["results"].as_array().map(Vec::len))
            .unwrap_or(0);
        let runs: Vec<Timed> = (0..OFFLINE_RUNS).map(|_| time_offline(&path)).collect();
        let wall = median(runs.iter().map(|t| t.wall).collect());
        let rss = runs.iter().map(|t| t.max_rss_kib).max().unwrap_or(0);
        println!(
            "| {size} | {:.1} MiB | {results} | {:.2} s | {} MiB | {:?} |",
            text.len() as f64 / (1 << 20) as f64,
            wall.as_secs_f64(),
            rss / 1024,
            runs[0].exit
        );
        walls.push(wall);
        phases.push((size, offline_phases(&text)));
    }
    println!(
        "\n2S / S wall time: {:.2} (target at most 2.2)\n",
        walls[1].as_secs_f64() / walls[0].as_secs_f64()
    );
    println!(
        "Where the time goes (in this process, the steps `ccaudit audit --snapshot` takes):\n"
    );
    println!("| step | S | 2S |");
    println!("|---|---:|---:|");
    for (i, (step, _)) in phases[0].1.iter().enumerate() {
        println!(
            "| {step} | {:.0} ms | {:.0} ms |",
            phases[0].1[i].1.as_secs_f64() * 1000.0,
            phases[1].1[i].1.as_secs_f64() * 1000.0
        );
    }
    println!();
}

fn pipeline(file: &Path, early_drop: bool, leak: bool) {
    use ccaudit::engine;
    use ccaudit::model::{AuditConfig, TenantModel};
    use ccaudit::report::{self, Report};
    use ccaudit::snapshot::Snapshot;
    use std::io::Write;
    let env = engine::cel::environment();
    let set = engine::catalog::load(&env, None).expect("catalog");
    let snapshot = Snapshot::load(file).expect("snapshot");
    let model = TenantModel::from_snapshot(&snapshot, AuditConfig::default());
    let snapshot = if early_drop {
        drop(snapshot);
        None
    } else {
        Some(snapshot)
    };
    let results = engine::evaluate(&env, &set, &model);
    let report = Report::new(&model, "snapshot", results);
    let json = report::json::render(&report);
    let _ = std::io::stdout().write_all(json.as_bytes());
    let status = report.exit_status(engine::Severity::Low) as i32;
    if leak {
        std::mem::forget((json, report, model, snapshot));
    } else {
        drop((json, report, model, snapshot));
    }
    std::process::exit(status);
}

/// The steps of an offline audit, timed one by one (median of 3).
fn offline_phases(text: &str) -> Vec<(&'static str, Duration)> {
    use ccaudit::engine;
    use ccaudit::model::{AuditConfig, TenantModel};
    use ccaudit::report::{self, Report};
    use ccaudit::snapshot::Snapshot;
    let mut runs: Vec<Vec<(&'static str, Duration)>> = Vec::new();
    for _ in 0..3 {
        let mut steps = Vec::new();
        let mut t = Instant::now();
        let mut lap = |name: &'static str, steps: &mut Vec<(&'static str, Duration)>| {
            steps.push((name, t.elapsed()));
            t = Instant::now();
        };
        let env = engine::cel::environment();
        let set = engine::catalog::load(&env, None).expect("catalog");
        lap("load the catalog (compile CEL)", &mut steps);
        let snapshot = Snapshot::parse(text, "bench").expect("parses");
        lap("parse the snapshot", &mut steps);
        let model = TenantModel::from_snapshot(&snapshot, AuditConfig::default());
        lap("normalize (build the model)", &mut steps);
        drop(engine::cel::from_json(&model.to_json()));
        lap(
            "model to JSON to a CEL value (evaluate starts with this)",
            &mut steps,
        );
        let results = engine::evaluate(&env, &set, &model);
        lap(
            "evaluate the catalog (model to CEL, rules, templates)",
            &mut steps,
        );
        let report = Report::new(&model, "snapshot", results);
        let json = report::json::render(&report);
        lap("render the JSON report", &mut steps);
        drop((json, report, model, snapshot));
        lap("free everything", &mut steps);
        runs.push(steps);
    }
    (0..runs[0].len())
        .map(|i| {
            let mut d: Vec<Duration> = runs.iter().map(|r| r[i].1).collect();
            d.sort();
            (runs[0][i].0, d[1])
        })
        .collect()
}

// Live ------------------------------------------------------------------------------------------

struct LiveRun {
    wall: Duration,
    log: Vec<LoggedRequest>,
    report: Value,
    exit: Option<i32>,
}

fn live_run(fake: &FakeTenant, agents: &[String], concurrency: Option<usize>) -> LiveRun {
    fake.clear_requests();
    let mut cmd = Command::new(CCAUDIT);
    cmd.args(["audit", "--tenant", fake.tenant_id()])
        .args(fake.endpoint_args())
        .args(["--format", "json", "--quiet", "--agents", &agents.join(",")]);
    if let Some(c) = concurrency {
        cmd.args(["--concurrency", &c.to_string()]);
    }
    for var in [
        "CCAUDIT_SNAPSHOT",
        "CCAUDIT_CC_SKUS",
        "CCAUDIT_ENDPOINT_LOGIN",
        "CCAUDIT_ENDPOINT_GRAPH",
        "CCAUDIT_ENDPOINT_TEAMS",
        "CCAUDIT_ENDPOINT_ARM",
        "CCAUDIT_ENDPOINT_COMPLIANCE",
        "AZURE_CLIENT_CERTIFICATE_PATH",
        "RUST_LOG",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in fake.env_vars() {
        cmd.env(k, v);
    }
    let started = Instant::now();
    let out = cmd.output().expect("ccaudit runs");
    let wall = started.elapsed();
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON report ({e}); exit {:?}: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    LiveRun {
        wall,
        log: fake.requests(),
        report,
        exit: out.status.code(),
    }
}

/// (check, subject, status) of every result, sorted.
fn verdicts(report: &Value) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = report["results"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let s = |v: &Value| v.as_str().unwrap_or("").to_string();
            (s(&r["check"]), s(&r["subject"]["id"]), s(&r["status"]))
        })
        .collect();
    v.sort();
    v
}

/// What a request log says about a run.
struct Economy {
    by_service: BTreeMap<String, usize>,
    batches: usize,
    /// Parts per kind (`user`, `licenseDetails`, `memberOf`, `userConfiguration`).
    parts: BTreeMap<&'static str, usize>,
    /// Requests sent more than once (same method, path, query and batch parts).
    repeated: usize,
    /// Longest chain of requests that must be sequential, in requests.
    chain: usize,
    chain_name: &'static str,
}

fn part_kind(detail: &str) -> &'static str {
    if detail.contains("/licenseDetails") {
        "licenseDetails"
    } else if detail.contains("/transitiveMemberOf") {
        "memberOf"
    } else if detail.contains("/userConfigurations/") {
        "userConfiguration"
    } else {
        "user"
    }
}

fn economy(log: &[LoggedRequest]) -> Economy {
    let mut by_service = BTreeMap::new();
    let mut parts = BTreeMap::new();
    let mut seen: BTreeMap<(String, String, String, Vec<String>), usize> = BTreeMap::new();
    let mut batches = 0;
    for r in log {
        *by_service.entry(r.service.clone()).or_insert(0) += 1;
        if r.path.ends_with("/$batch") {
            batches += 1;
            for d in &r.detail {
                *parts.entry(part_kind(d)).or_insert(0) += 1;
            }
        }
        *seen
            .entry((
                r.service.clone(),
                r.path.clone(),
                r.query.clone(),
                r.detail.clone(),
            ))
            .or_insert(0) += 1;
    }
    let repeated = seen
        .iter()
        .filter(|((service, ..), n)| service != "login" && **n > 1)
        .count();
    let pages = |needle: &str| log.iter().filter(|r| r.path.contains(needle)).count();
    // Pages of one paged read whose URL has `needle`, largest among its instances (ARM lists
    // per subscription run side by side).
    let max_pages_per_path = |needle: &str| {
        let mut per: BTreeMap<&str, usize> = BTreeMap::new();
        for r in log.iter().filter(|r| r.path.contains(needle)) {
            *per.entry(r.path.as_str()).or_insert(0) += 1;
        }
        per.values().copied().max().unwrap_or(0)
    };
    let cmdlet_pages = |cmdlet: &str| {
        log.iter()
            .filter(|r| r.detail.iter().any(|d| d == cmdlet))
            .count()
    };
    // A part's `@odata.nextLink` is followed outside the batch: one more step per page.
    let followups = log
        .iter()
        .filter(|r| r.service == "graph" && r.path.starts_with("/v1.0/users/"))
        .count()
        .min(1);
    let graph_token = 1;
    let chains: [(&'static str, usize); 7] = [
        (
            "graph token, numberAssignments pages",
            graph_token + pages("numberAssignments"),
        ),
        (
            "graph token, resourceAccounts pages, one $batch round, part next links",
            graph_token + pages("resourceAccounts") + 1 + followups,
        ),
        (
            "graph token, resourceAccounts pages, teams token, per-user GET",
            graph_token + pages("resourceAccounts") + 1 + 1,
        ),
        (
            "graph token, agent lookup $batch, agent $batch, part next links",
            graph_token + 1 + 1 + followups,
        ),
        (
            "graph token, organization, compliance token, cmdlet pages",
            graph_token
                + 1
                + 1
                + [
                    "Get-InformationBarrierPolicy",
                    "Get-OrganizationSegment",
                    "Get-PolicyConfig",
                ]
                .iter()
                .map(|c| cmdlet_pages(c))
                .max()
                .unwrap_or(0),
        ),
        (
            "graph token, dataverse token, table pages",
            graph_token + 1 + max_pages_per_path("/api/data/"),
        ),
        (
            "graph token, arm token, subscriptions, ACS per subscription, Event Grid per ACS",
            graph_token
                + 1
                + log
                    .iter()
                    .filter(|r| r.service == "arm" && r.path == "/subscriptions")
                    .count()
                + max_pages_per_path("communicationServices")
                + max_pages_per_path("eventSubscriptions"),
        ),
    ];
    let (chain_name, chain) = chains
        .iter()
        .copied()
        .max_by_key(|(_, n)| *n)
        .expect("chains");
    Economy {
        by_service,
        batches,
        parts,
        repeated,
        chain,
        chain_name,
    }
}

/// `max(chain, max over services of ceil(requests / concurrency))` requests, and what sets it.
fn lower_bound(e: &Economy, concurrency: usize) -> (usize, String) {
    let (svc, n) = e
        .by_service
        .iter()
        .filter(|(s, _)| s.as_str() != "login")
        .map(|(s, n)| (s.clone(), n.div_ceil(concurrency)))
        .max_by_key(|(_, n)| *n)
        .unwrap_or_default();
    if n >= e.chain {
        (n, format!("{svc}: requests / concurrency {concurrency}"))
    } else {
        (e.chain, format!("chain: {}", e.chain_name))
    }
}

fn live(dir: &Path, o: &Options) {
    let size = o.size.as_str();
    let snapshot = tenant(quarters(size));
    let agents = agent_upns(&snapshot);
    let path: PathBuf = dir.join("live.snapshot.json");
    std::fs::write(&path, serde_json::to_string(&snapshot).expect("serialise")).expect("write");
    let expected = Command::new(CCAUDIT)
        .args(["audit", "--format", "json", "--snapshot"])
        .arg(&path)
        .output()
        .expect("offline audit");
    let expected = verdicts(&serde_json::from_slice(&expected.stdout).expect("offline report"));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let throttled = o.throttle.then(|| {
        runtime
            .block_on(FakeTenant::start(
                snapshot.clone(),
                FakeOptions {
                    latency: LATENCY,
                    page_size: PAGE_SIZE,
                    faults: fake_tenant::Faults::default().random(0.2, 0.05, 11),
                    ..FakeOptions::default()
                },
            ))
            .expect("fake tenant starts")
    });
    let fake = runtime
        .block_on(FakeTenant::start(
            snapshot,
            FakeOptions {
                latency: LATENCY,
                page_size: PAGE_SIZE,
                ..FakeOptions::default()
            },
        ))
        .expect("fake tenant starts");

    println!(
        "## Live audit of {size} against the fake tenant ({} ms latency per request, {PAGE_SIZE} items per page)\n",
        LATENCY.as_millis()
    );
    let c = o.concurrency.unwrap_or(DEFAULT_CONCURRENCY);
    let mut runs = vec![(c, live_run(&fake, &agents, Some(c)))];
    if o.sequential {
        runs.push((1, live_run(&fake, &agents, Some(1))));
    }
    let latency = LATENCY.as_secs_f64();
    println!(
        "| --concurrency | wall | requests | graph | teams | arm | dataverse | compliance | login | lower bound | wall / bound |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (c, run) in &runs {
        let e = economy(&run.log);
        let (bound, what) = lower_bound(&e, *c);
        let n = |s: &str| e.by_service.get(s).copied().unwrap_or(0);
        println!(
            "| {c}{} | {:.2} s | {} | {} | {} | {} | {} | {} | {} | {:.2} s ({what}) | {:.2} |",
            if *c == DEFAULT_CONCURRENCY {
                " (client default)"
            } else {
                ""
            },
            run.wall.as_secs_f64(),
            run.log.len(),
            n("graph"),
            n("teams"),
            n("arm"),
            n("dataverse"),
            n("compliance"),
            n("login"),
            bound as f64 * latency,
            run.wall.as_secs_f64() / (bound as f64 * latency),
        );
        assert_eq!(
            verdicts(&run.report),
            expected,
            "live verdicts differ from the offline audit (--concurrency {c})"
        );
    }
    let e = economy(&runs[0].1.log);
    let users = |kind: &str| e.parts.get(kind).copied().unwrap_or(0);
    println!(
        "\nexit code {:?}; verdicts equal to the offline audit of the same snapshot ({} results)",
        runs[0].1.exit,
        expected.len()
    );
    println!(
        "$batch requests: {} for {} parts (user {}, licenseDetails {}, memberOf {}, userConfiguration {}); ceil(parts / 20) = {}",
        e.batches,
        e.parts.values().sum::<usize>(),
        users("user"),
        users("licenseDetails"),
        users("memberOf"),
        users("userConfiguration"),
        e.parts.values().sum::<usize>().div_ceil(20)
    );
    println!("requests sent more than once: {}", e.repeated);
    println!(
        "longest sequential chain: {} requests ({})",
        e.chain, e.chain_name
    );
    if runs.len() == 2 {
        println!(
            "speed-up over --concurrency 1: {:.1}x",
            runs[1].1.wall.as_secs_f64() / runs[0].1.wall.as_secs_f64()
        );
    }
    if let Some(faulty) = throttled {
        let run = live_run(&faulty, &agents, Some(c));
        let count = |f: &str| {
            run.log
                .iter()
                .filter(|r| r.fault.as_deref() == Some(f))
                .count()
        };
        println!(
            "\nwith 20% 429 + 5% 503 (--concurrency {c}): {:.2} s, {} requests ({} 429 Retry-After seconds, {} 429 HTTP-date, {} 503, plus $batch parts throttled inside 200 answers); {:.2}x the fault-free run; verdicts {}",
            run.wall.as_secs_f64(),
            run.log.len(),
            count("throttle_429_seconds"),
            count("throttle_429_http_date"),
            count("unavailable_503"),
            run.wall.as_secs_f64() / runs[0].1.wall.as_secs_f64(),
            if verdicts(&run.report) == expected {
                "identical"
            } else {
                "DIFFERENT"
            }
        );
        if verdicts(&run.report) != expected {
            let got: BTreeSet<_> = verdicts(&run.report).into_iter().collect();
            let want: BTreeSet<_> = expected.iter().cloned().collect();
            for v in got.difference(&want).take(5) {
                println!("  only with faults: {v:?}");
            }
            let mut reasons: BTreeSet<String> = BTreeSet::new();
            for r in run.report["results"].as_array().into_iter().flatten() {
                if r["status"] == "unknown" {
                    reasons.insert(
                        r["message"]
                            .as_str()
                            .unwrap_or("")
                            .chars()
                            .take(300)
                            .collect(),
                    );
                }
            }
            for m in reasons.iter().take(5) {
                println!("  unknown because: {m}");
            }
        }
        faulty.shutdown();
    }
    fake.shutdown();
}
