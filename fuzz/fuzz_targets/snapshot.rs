//! Snapshot files: parse, then (when valid) normalize and evaluate the whole catalog.
#![no_main]

use std::sync::LazyLock;

use ccaudit::engine::{self, CheckSet};
use ccaudit::model::{AuditConfig, TenantModel};
use ccaudit::snapshot::Snapshot;
use libfuzzer_sys::fuzz_target;

static CATALOG: LazyLock<(std::sync::Arc<cel::Env>, CheckSet)> = LazyLock::new(|| {
    let env = engine::cel::environment();
    let set = engine::catalog::load(&env, None).expect("built-in checks load");
    (env, set)
});

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Snapshot::parse(text, "fuzz.snapshot.json") {
        Ok(snapshot) => {
            let (env, set) = &*CATALOG;
            let model = TenantModel::from_snapshot(&snapshot, AuditConfig::default());
            let _ = engine::evaluate(env, set, &model);
        }
        Err(e) => assert!(!e.to_string().contains('\n'), "multi-line error: {e}"),
    }
});
