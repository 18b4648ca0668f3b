//! Offline audit time: normalize a snapshot into the tenant model and evaluate the built-in
//! checks against it, for the two examples and for synthetic tenants of size S (500 resource
//! accounts, 5,000 numbers, 2,000 agents) and 2S.
//!
//! Run with `cargo bench --bench audit`, or one group with e.g.
//! `cargo bench --bench audit -- audit_without_pairs`; results are recorded in docs/performance.md.
//! The check catalog is loaded (and its CEL compiled) once, outside the measured code, as the CLI
//! does once per run. Parsing the snapshot file and normalizing it are also measured alone, to
//! split the total.
//!
//! IB-002 has one subject per agent × resource account pair (1,000,000 at S, 4,000,000 at 2S),
//! which dominates time and memory; its own group measures it at fractions of S, and the
//! 2S audit runs the rest of the catalog (see docs/performance.md for why).

use std::hint::black_box;
use std::path::Path;
use std::sync::{Arc, LazyLock};

use ccaudit::engine::{self, CheckSet};
use ccaudit::model::{AuditConfig, TenantModel};
use ccaudit::snapshot::Snapshot;
use ccaudit::synth::{self, SynthParams};
use divan::Bencher;

/// Size S of the issue: 500 resource accounts, 5,000 numbers, 2,000 agents (1% faults, so
/// failing paths and their remediation templates are exercised too).
const S: SynthParams = SynthParams {
    resource_accounts: 500,
    numbers: 5_000,
    agents: 2_000,
    faults_per_mille: 10,
    seed: 0x5eed,
};

/// S scaled by `factor / 4` in every dimension.
const fn scaled(factor: usize) -> SynthParams {
    SynthParams {
        resource_accounts: S.resource_accounts * factor / 4,
        numbers: S.numbers * factor / 4,
        agents: S.agents * factor / 4,
        ..S
    }
}

/// The check whose subjects are agent × resource account pairs.
const PAIRWISE_CHECK: &str = "IB-002";

struct Input {
    /// The snapshot file's text, to measure parsing.
    text: String,
    snapshot: Snapshot,
}

impl Input {
    fn example(name: &str) -> Input {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples")
            .join(name);
        let text = std::fs::read_to_string(&path).expect("example readable");
        let snapshot = Snapshot::parse(&text, name).expect("example parses");
        Input { text, snapshot }
    }

    fn synthetic(name: &str, params: &SynthParams) -> Input {
        let snapshot = synth::generate(params);
        let text = snapshot.to_json_pretty();
        eprintln!(
            "{name}: {} resource accounts, {} numbers, {} agents; {} KiB snapshot",
            params.resource_accounts,
            params.numbers,
            params.agents,
            text.len() / 1024
        );
        Input { text, snapshot }
    }
}

static ALL_CHECKS: LazyLock<(Arc<cel::Env>, CheckSet)> = LazyLock::new(|| {
    let env = engine::cel::environment();
    let set = engine::catalog::load(&env, None).expect("built-in checks load");
    (env, set)
});

fn checks(which: Checks) -> (&'static Arc<cel::Env>, CheckSet) {
    let (env, all) = &*ALL_CHECKS;
    let set = all
        .iter()
        .filter(|(id, _)| match which {
            Checks::All => true,
            Checks::WithoutPairwise => id.as_str() != PAIRWISE_CHECK,
            Checks::OnlyPairwise => id.as_str() == PAIRWISE_CHECK,
        })
        .map(|(id, c)| (id.clone(), c.clone()))
        .collect();
    (env, set)
}

#[derive(Clone, Copy)]
enum Checks {
    All,
    WithoutPairwise,
    OnlyPairwise,
}

static HEALTHY: LazyLock<Input> = LazyLock::new(|| Input::example("healthy.snapshot.json"));
static FIELD_CASE: LazyLock<Input> = LazyLock::new(|| Input::example("field-case.snapshot.json"));
static QUARTER_S: LazyLock<Input> = LazyLock::new(|| Input::synthetic("S/4", &scaled(1)));
static HALF_S: LazyLock<Input> = LazyLock::new(|| Input::synthetic("S/2", &scaled(2)));
static SIZE_S: LazyLock<Input> = LazyLock::new(|| Input::synthetic("S", &scaled(4)));
static SIZE_2S: LazyLock<Input> = LazyLock::new(|| Input::synthetic("2S", &scaled(8)));

fn input(name: &str) -> &'static Input {
    match name {
        "healthy" => &HEALTHY,
        "field-case" => &FIELD_CASE,
        "S/4" => &QUARTER_S,
        "S/2" => &HALF_S,
        "S" => &SIZE_S,
        "2S" => &SIZE_2S,
        other => unreachable!("no input {other}"),
    }
}

fn config() -> AuditConfig {
    AuditConfig {
        contact_center_skus: vec![synth::CONTACT_CENTER_SKU.into()],
    }
}

/// What the CLI does per audit after loading checks: normalize, then evaluate.
fn audit(env: &Arc<cel::Env>, checks: &CheckSet, input: &Input) -> Vec<engine::CheckResult> {
    let model = TenantModel::from_snapshot(&input.snapshot, config());
    engine::evaluate(env, checks, &model)
}

fn bench_audit(bencher: Bencher, name: &str, which: Checks) {
    let input = input(name);
    let (env, set) = checks(which);
    bencher
        .counter(divan::counter::ItemsCount::new(
            audit(env, &set, input).len(),
        ))
        .bench(|| audit(env, &set, black_box(input)));
}

/// The whole catalog on the examples (results counted as items).
#[divan::bench(args = ["healthy", "field-case"])]
fn audit_example(bencher: Bencher, name: &str) {
    bench_audit(bencher, name, Checks::All);
}

/// The whole catalog on a synthetic tenant of size S.
#[divan::bench(args = ["S"], sample_count = 3, sample_size = 1)]
fn audit_full_synthetic(bencher: Bencher, name: &str) {
    bench_audit(bencher, name, Checks::All);
}

/// Every check but the pairwise one, at S and 2S.
#[divan::bench(args = ["S", "2S"], sample_count = 5, sample_size = 1)]
fn audit_without_pairs(bencher: Bencher, name: &str) {
    bench_audit(bencher, name, Checks::WithoutPairwise);
}

/// The pairwise check alone: its subjects grow with agents × resource accounts.
#[divan::bench(args = ["S/4", "S/2", "S"], sample_count = 3, sample_size = 1)]
fn audit_pairs_only(bencher: Bencher, name: &str) {
    bench_audit(bencher, name, Checks::OnlyPairwise);
}

/// Normalization alone, to split audit time between the model and the checks.
#[divan::bench(args = ["S", "2S"], sample_count = 5, sample_size = 1)]
fn normalize_synthetic(bencher: Bencher, name: &str) {
    let input = input(name);
    bencher.bench(|| TenantModel::from_snapshot(black_box(&input.snapshot), config()));
}

/// Reading the snapshot file's JSON (what `Snapshot::load` does after reading the file).
/// `ccaudit trace` offline on S once the audit's results are in: the joins and the agent legs
/// (`Tracer::new`), every number's tree with its agents summarized (`--number N`), the
/// one-line-per-number overview (no flag), and for every agent the overview through its leg
/// (`--agent A`). Must stay under one second.
#[divan::bench(args = ["S"], sample_count = 3, sample_size = 1)]
fn trace_every_number_and_agent(bencher: Bencher, name: &str) {
    use ccaudit::trace::Tracer;
    use ccaudit::trace::tree::{self, Glyphs};
    let input = input(name);
    let (env, set) = checks(Checks::All);
    let model = TenantModel::from_snapshot(&input.snapshot, config());
    let results = engine::evaluate(env, &set, &model);
    bencher.bench_local(|| {
        let tracer = Tracer::new(&model, &results);
        let paths: Vec<_> = tracer
            .numbers()
            .filter_map(|n| tracer.path(n, &[]))
            .collect();
        let mut bytes = 0;
        for p in &paths {
            bytes += tree::path(p, Some(tracer.legs()), Glyphs::UNICODE, 100).len();
        }
        bytes += tree::overview(&paths, tracer.legs(), None, Glyphs::UNICODE, 100).len();
        for leg in tracer.legs() {
            bytes += tree::overview(&paths, &[], Some(leg), Glyphs::UNICODE, 100).len();
        }
        black_box(bytes)
    });
}

#[divan::bench(args = ["healthy", "S", "2S"], sample_count = 5, sample_size = 1)]
fn parse_snapshot(bencher: Bencher, name: &str) {
    let input = input(name);
    bencher.bench(|| Snapshot::parse(black_box(&input.text), name).expect("parses"));
}

fn main() {
    divan::main();
}
