//! Check files (`--checks DIR`): load (YAML, CEL compile, template compile), then evaluate a
//! check that loads against the healthy example, within small budgets (a check that loops or
//! grows for ever must come back unknown, fast).
#![no_main]

use std::sync::LazyLock;

use std::time::Duration;

use ccaudit::engine::{self, Budgets, Check, CheckSet};
use ccaudit::model::{AuditConfig, TenantModel};
use ccaudit::snapshot::Snapshot;
use libfuzzer_sys::fuzz_target;

static ENV: LazyLock<std::sync::Arc<cel::Env>> = LazyLock::new(engine::cel::environment);
static MODEL: LazyLock<TenantModel> = LazyLock::new(|| {
    let s = Snapshot::parse(
        include_str!("../../examples/healthy.snapshot.json"),
        "healthy",
    )
    .expect("the example parses");
    TenantModel::from_snapshot(&s, AuditConfig::default())
});

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let paths = ccaudit::model::fact_paths();
    if let Ok(check) = Check::load(&ENV, "fuzz.yaml", "ACSFED-001", text, &paths) {
        let mut set = CheckSet::new();
        set.insert(check.spec.id.clone(), check);
        let budgets = Budgets {
            steps: 1_000_000,
            bytes: 64 << 20,
            time: Duration::from_secs(2),
        };
        let _ = engine::evaluate_within(&ENV, &set, &MODEL, &budgets);
    }
});
