//! One fact's data, as a tenant API could answer it: the healthy example with the fact chosen
//! by the first byte replaced by the JSON in the rest, normalized and evaluated.
#![no_main]

use std::sync::LazyLock;

use ccaudit::engine::{self, CheckSet};
use ccaudit::model::{AuditConfig, TenantModel};
use ccaudit::snapshot::{Snapshot, SourceFact};
use libfuzzer_sys::fuzz_target;

static HEALTHY: LazyLock<Snapshot> = LazyLock::new(|| {
    Snapshot::parse(
        include_str!("../../examples/healthy.snapshot.json"),
        "healthy",
    )
    .expect("the example parses")
});

static CATALOG: LazyLock<(std::sync::Arc<cel::Env>, CheckSet)> = LazyLock::new(|| {
    let env = engine::cel::environment();
    let set = engine::catalog::load(&env, None).expect("built-in checks load");
    (env, set)
});

fuzz_target!(|data: &[u8]| {
    let Some((&which, json)) = data.split_first() else {
        return;
    };
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(json) else {
        return;
    };
    let sources = ccaudit::source_catalog::SOURCES;
    let key = sources[usize::from(which) % sources.len()].key;
    let mut snapshot = HEALTHY.clone();
    snapshot.facts.insert(
        key.to_string(),
        SourceFact {
            endpoint: "GET https://graph.microsoft.com/fuzz".into(),
            data: Some(value),
            error: None,
        },
    );
    let (env, set) = &*CATALOG;
    let model = TenantModel::from_snapshot(&snapshot, AuditConfig::default());
    let _ = engine::evaluate(env, set, &model);
});
