//! CEL rules and message templates: compile the input as a template (text with `{{ expr }}`
//! holes) and as an expression, and evaluate both against the field case's model within small
//! budgets.
#![no_main]

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use ccaudit::engine::template::Template;
use ccaudit::engine::{self, Budgets, budget, cel as celx};
use ccaudit::model::{AuditConfig, TenantModel};
use ccaudit::snapshot::Snapshot;
use libfuzzer_sys::fuzz_target;

static ENV: LazyLock<Arc<cel::Env>> = LazyLock::new(engine::cel::environment);
static TENANT: LazyLock<cel::Value> = LazyLock::new(|| {
    let s = Snapshot::parse(
        include_str!("../../examples/field-case.snapshot.json"),
        "field-case",
    )
    .expect("the example parses");
    celx::from_json(&TenantModel::from_snapshot(&s, AuditConfig::default()).to_json())
});

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut ctx = cel::Context::with_env(Arc::clone(&ENV));
    ctx.add_variable_from_value("tenant", TENANT.clone());
    let budgets = Budgets {
        steps: 1_000_000,
        bytes: 64 << 20,
        time: Duration::from_secs(2),
    };
    if let Ok(template) = Template::compile(&ENV, text) {
        let _ = budget::metered(&budgets, || template.render(&ctx));
    }
    if let Ok(expr) = celx::compile(&ENV, text) {
        let _ = budget::metered(&budgets, || expr.execute(&ctx));
    }
});
