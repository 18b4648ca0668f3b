//! Offline audit time: normalize a snapshot into the tenant model and evaluate the built-in
//! checks against it, for the two examples and for synthetic tenants of size S (500 resource
//! accounts, 5,000 numbers, 2,000 agents) and 2S.
//!
//! Run with `cargo bench --bench audit`; results are recorded in docs/performance.md. The check
//! catalog is loaded (and its CEL compiled) once, outside the measured code, as the CLI does once
//! per run; parsing the snapshot file is measured separately.

use std::hint::black_box;
use std::path::Path;
use std::sync::{Arc, LazyLock};

use ccaudit::engine::{self, CheckSet};
use ccaudit::model::{AuditConfig, TenantModel};
use ccaudit::snapshot::Snapshot;
use ccaudit::synth::{self, SynthParams};
use divan::Bencher;

/// Size S of the issue: 500 resource accounts, 5,000 numbers, 2,000 agents.
const S: SynthParams = SynthParams {
    resource_accounts: 500,
    numbers: 5_000,
    agents: 2_000,
    faults_per_mille: 10,
    seed: 0x5eed,
};

const S2: SynthParams = SynthParams {
    resource_accounts: 2 * S.resource_accounts,
    numbers: 2 * S.numbers,
    agents: 2 * S.agents,
    ..S
};

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

    fn synthetic(params: &SynthParams) -> Input {
        let snapshot = synth::generate(params);
        Input {
            text: snapshot.to_json_pretty(),
            snapshot,
        }
    }
}

static CHECKS: LazyLock<(Arc<cel::Env>, CheckSet)> = LazyLock::new(|| {
    let env = engine::cel::environment();
    let set = engine::catalog::load(&env, None).expect("built-in checks load");
    (env, set)
});

static HEALTHY: LazyLock<Input> = LazyLock::new(|| Input::example("healthy.snapshot.json"));
static FIELD_CASE: LazyLock<Input> = LazyLock::new(|| Input::example("field-case.snapshot.json"));
static SYNTHETIC_S: LazyLock<Input> = LazyLock::new(|| Input::synthetic(&S));
static SYNTHETIC_2S: LazyLock<Input> = LazyLock::new(|| Input::synthetic(&S2));

fn input(name: &str) -> &'static Input {
    match name {
        "healthy" => &HEALTHY,
        "field-case" => &FIELD_CASE,
        "synthetic-S" => &SYNTHETIC_S,
        "synthetic-2S" => &SYNTHETIC_2S,
        other => unreachable!("no input {other}"),
    }
}

fn config() -> AuditConfig {
    AuditConfig {
        contact_center_skus: vec![synth::CONTACT_CENTER_SKU.into()],
    }
}

/// What the CLI does per audit after loading checks: normalize, then evaluate.
fn audit(input: &Input) -> Vec<engine::CheckResult> {
    let (env, checks) = &*CHECKS;
    let model = TenantModel::from_snapshot(&input.snapshot, config());
    engine::evaluate(env, checks, &model)
}

#[divan::bench(args = ["healthy", "field-case"])]
fn audit_example(bencher: Bencher, name: &str) {
    let input = input(name);
    LazyLock::force(&CHECKS);
    bencher.bench(|| audit(black_box(input)));
}

#[divan::bench(args = ["synthetic-S", "synthetic-2S"], sample_count = 10, sample_size = 1)]
fn audit_synthetic(bencher: Bencher, name: &str) {
    let input = input(name);
    LazyLock::force(&CHECKS);
    bencher.bench(|| audit(black_box(input)));
}

/// Normalization alone, to split audit time between the model and the checks.
#[divan::bench(args = ["synthetic-S", "synthetic-2S"], sample_count = 10, sample_size = 1)]
fn normalize_synthetic(bencher: Bencher, name: &str) {
    let input = input(name);
    bencher.bench(|| TenantModel::from_snapshot(black_box(&input.snapshot), config()));
}

/// Reading the snapshot file's JSON (what `Snapshot::load` does after reading the file).
#[divan::bench(args = ["healthy", "synthetic-S", "synthetic-2S"], sample_count = 10, sample_size = 1)]
fn parse_snapshot(bencher: Bencher, name: &str) {
    let input = input(name);
    bencher.bench(|| Snapshot::parse(black_box(&input.text), name).expect("parses"));
}

fn main() {
    // One line per input, so a recorded run says how much work each size is.
    for name in ["healthy", "field-case", "synthetic-S", "synthetic-2S"] {
        let input = input(name);
        let results = audit(input);
        let findings = results.iter().filter(|r| r.status.is_finding()).count();
        eprintln!(
            "{name}: {} KiB snapshot, {} results ({findings} fail/missing)",
            input.text.len() / 1024,
            results.len(),
        );
    }
    divan::main();
}
