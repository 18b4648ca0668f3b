//! Bad input never crashes ccaudit: property tests over everything that
//! reads text or JSON a user or a tenant controls — snapshot files, every fact's data as the
//! normalizers see it, check files, CEL rules and message templates, `explain` input, the
//! knowledge base and configuration files.
//!
//! The case counts are small so CI stays fast; `PROPTEST_CASES=5000 cargo test --test
//! properties` searches longer. The cargo-fuzz targets in fuzz/ cover the same entry points
//! with coverage guidance (docs/reliability.md). A failure found here becomes a plain
//! regression test at the bottom of this file.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, LazyLock};

use ccaudit::engine::check::{Check, CheckSet};
use ccaudit::engine::template::Template;
use ccaudit::engine::{self, cel as celx};
use ccaudit::model::{AuditConfig, TenantModel};
use ccaudit::report::{self, Report};
use ccaudit::snapshot::{Snapshot, SourceError, SourceFact};
use ccaudit::triage::explain::KnowledgeBase;
use proptest::prelude::*;
use serde_json::Value;

/// `cases` per property in CI; `PROPTEST_CASES=N` overrides every count for a longer search.
fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

fn example_text(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples")
            .join(name),
    )
    .unwrap()
}

static HEALTHY_TEXT: LazyLock<String> = LazyLock::new(|| example_text("healthy.snapshot.json"));
static HEALTHY: LazyLock<Snapshot> =
    LazyLock::new(|| Snapshot::parse(&HEALTHY_TEXT, "healthy").unwrap());
static FIELD_CASE: LazyLock<Snapshot> = LazyLock::new(|| {
    Snapshot::parse(&example_text("field-case.snapshot.json"), "field-case").unwrap()
});
static CATALOG: LazyLock<(Arc<cel::Env>, CheckSet)> = LazyLock::new(|| {
    let env = celx::environment();
    let set = engine::catalog::load(&env, None).unwrap();
    (env, set)
});

/// Every object key in the examples: the property names the normalizers look for, so random
/// JSON built from them reaches past the first "no such field".
static KEYS: LazyLock<Vec<String>> = LazyLock::new(|| {
    fn walk(v: &Value, out: &mut BTreeSet<String>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    out.insert(k.clone());
                    walk(v, out);
                }
            }
            Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut keys = BTreeSet::new();
    for s in [&*HEALTHY, &*FIELD_CASE] {
        for f in s.facts.values() {
            if let Some(d) = &f.data {
                walk(d, &mut keys);
            }
        }
    }
    keys.into_iter().collect()
});

/// Strings the normalizers treat specially: ids, numbers, dates, policy names, empty.
fn interesting_string() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("Global".to_string()),
        Just("Tag:".to_string()),
        Just("{748A7C7C-A489-4DE4-8A68-4415F1D19A9C}".to_string()),
        Just("748a7c7c-a489-4de4-8a68-4415f1d19a9c".to_string()),
        Just("tel:+14255550100".to_string()),
        Just("+1 (425) 555-0100".to_string()),
        Just("+".to_string()),
        Just("2026-11-27T05:00:00Z".to_string()),
        Just("9999-99-99".to_string()),
        Just("Department -eq 'Sales' -or".to_string()),
        Just("Enabled".to_string()),
        Just("\u{0}\u{202e}\u{feff}é\u{1F600}".to_string()),
        "[A-Za-z0-9:+{}()\\-' .@#]{0,24}",
        "\\PC{0,16}",
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(KEYS.clone()),
        2 => "\\PC{0,8}",
        1 => "[a.\n\r\t\u{0}\u{1b}]{1,4}",
    ]
}

/// Arbitrary JSON, biased towards the shapes and names the tenant APIs use.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        prop_oneof![
            Just(0i64),
            Just(1),
            Just(-1),
            Just(192_350_000),
            Just(i64::MIN)
        ]
        .prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
            .map(Value::Number)),
        interesting_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Replaces the `index`-th node (pre-order, modulo the node count) of `v` with `with`.
fn replace_node(v: &mut Value, index: usize, with: Value) {
    fn count(v: &Value) -> usize {
        1 + match v {
            Value::Array(a) => a.iter().map(count).sum(),
            Value::Object(m) => m.values().map(count).sum(),
            _ => 0,
        }
    }
    fn go(v: &mut Value, mut index: usize, with: &mut Option<Value>) -> usize {
        if index == 0 {
            if let Some(w) = with.take() {
                *v = w;
            }
            return 0;
        }
        index -= 1;
        let children: Vec<&mut Value> = match v {
            Value::Array(a) => a.iter_mut().collect(),
            Value::Object(m) => m.values_mut().collect(),
            _ => Vec::new(),
        };
        for c in children {
            let n = count(c);
            if index < n {
                return go(c, index, with);
            }
            index -= n;
        }
        index
    }
    let total = count(v);
    go(v, index % total, &mut Some(with));
}

/// Byte-level damage to a text: cut, insert, overwrite, duplicate a slice.
#[derive(Debug, Clone)]
enum Edit {
    Cut(usize, usize),
    Insert(usize, String),
    Overwrite(usize, String),
    Duplicate(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 0usize..64).prop_map(|(a, n)| Edit::Cut(a, n)),
        (any::<usize>(), "\\PC{0,6}|[\\[\\]{}\":,\\\\]{1,3}").prop_map(|(a, s)| Edit::Insert(a, s)),
        (any::<usize>(), "[\\[\\]{}\":,0-9a-z-]{1,4}").prop_map(|(a, s)| Edit::Overwrite(a, s)),
        (any::<usize>(), 0usize..200).prop_map(|(a, n)| Edit::Duplicate(a, n)),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut t: Vec<char> = text.chars().collect();
    for e in edits {
        let at = |a: usize, len: usize| if len == 0 { 0 } else { a % (len + 1) };
        match e {
            Edit::Cut(a, n) => {
                let s = at(*a, t.len());
                let end = (s + n).min(t.len());
                t.drain(s..end);
            }
            Edit::Insert(a, s) => {
                let p = at(*a, t.len());
                t.splice(p..p, s.chars());
            }
            Edit::Overwrite(a, s) => {
                let p = at(*a, t.len());
                let end = (p + s.chars().count()).min(t.len());
                t.splice(p..end, s.chars());
            }
            Edit::Duplicate(a, n) => {
                let s = at(*a, t.len());
                let end = (s + n).min(t.len());
                let copy: Vec<char> = t[s..end].to_vec();
                t.splice(end..end, copy);
            }
        }
    }
    t.into_iter().collect()
}

/// Snapshot errors end up on one stderr line (`error: FILE: not a valid snapshot: ...`).
fn one_line(what: &str, message: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        !message.trim_end().contains('\n'),
        "{what} error is not one line: {message:?}"
    );
    Ok(())
}

/// Errors about files a user wrote (check files, templates, the knowledge base, the
/// configuration) quote the offending text, which may span lines; they must say something.
fn explained(what: &str, message: &str) -> Result<(), TestCaseError> {
    prop_assert!(!message.trim().is_empty(), "{what}: empty error");
    Ok(())
}

/// Normalizes, evaluates the whole catalog and renders the report: the full offline pipeline.
fn audit(snapshot: &Snapshot) {
    let (env, set) = &*CATALOG;
    let model = TenantModel::from_snapshot(snapshot, AuditConfig::default());
    let results = engine::evaluate(env, set, &model);
    let report = Report::new(&model, "snapshot", results);
    let _ = report::json::render(&report);
    let _ = report::table::render(&report);
    let _ = report.exit_status(engine::Severity::Low);
}

// Snapshot files -------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(256))]

    /// Any text (control characters included): parsed or refused with a one-line error,
    /// never a panic.
    #[test]
    fn snapshot_parse_arbitrary_text(text in "(?s).{0,200}") {
        if let Err(e) = Snapshot::parse(&text, "fuzz.snapshot.json") {
            one_line("snapshot", &e.to_string())?;
        }
    }

    /// Any JSON document, and JSON shaped like a snapshot with arbitrary parts.
    #[test]
    fn snapshot_parse_arbitrary_json(
        doc in json(),
        version in prop_oneof![Just(Value::from(1)), json()],
        facts in prop::collection::vec((key(), json()), 0..4),
    ) {
        for text in [
            doc.to_string(),
            serde_json::json!({
                "schema_version": version, "tool_version": "0", "collected_at": "x",
                "tenant_id": "t", "cloud": "public",
                "facts": facts.iter().cloned().collect::<serde_json::Map<_, _>>(),
            })
            .to_string(),
        ] {
            match Snapshot::parse(&text, "fuzz.snapshot.json") {
                Ok(s) => audit(&s),
                Err(e) => one_line("snapshot", &e.to_string())?,
            }
        }
    }
}

proptest! {
    #![proptest_config(config(64))]

    /// The healthy example damaged byte by byte: refused in one line, or audited.
    #[test]
    fn snapshot_parse_damaged_example(edits in prop::collection::vec(edit(), 1..4)) {
        let text = apply(&HEALTHY_TEXT, &edits);
        match Snapshot::parse(&text, "damaged.snapshot.json") {
            Ok(s) => audit(&s),
            Err(e) => one_line("snapshot", &e.to_string())?,
        }
    }
}

// Collection-script files -------------------------------------------------------------------------

static SCRIPT_OUTPUT_TEXT: LazyLock<String> = LazyLock::new(|| {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/collect-script/healthy.ps7.json"),
    )
    .unwrap()
});

proptest! {
    #![proptest_config(config(64))]

    /// A collection-script file with arbitrary sections (data, errors, producers): read and
    /// audited, or refused in one line.
    #[test]
    fn collection_script_file_with_arbitrary_sections(
        producer in prop_oneof![Just(serde_json::json!({"script_version": "0.1.0", "format": 1})), json()],
        sections in prop::collection::vec((key(), json(), json()), 0..4),
    ) {
        let sections: serde_json::Map<String, Value> = sections
            .into_iter()
            .map(|(k, data, error)| {
                let section = if error.is_object() {
                    serde_json::json!({"command": "Get-X", "error": error})
                } else {
                    serde_json::json!({"command": "Get-X", "data": data})
                };
                (k, section)
            })
            .collect();
        let text = serde_json::json!({
            "ccaudit_collection": producer, "collected_at": "x", "tenant_id": "t",
            "cloud": "public", "sections": sections,
        })
        .to_string();
        match Snapshot::parse(&text, "fuzz.json") {
            Ok(s) => audit(&s),
            Err(e) => one_line("collection file", &e.to_string())?,
        }
    }

    /// The PowerShell 7 fixture damaged byte by byte: refused in one line, or audited.
    #[test]
    fn collection_script_file_damaged(edits in prop::collection::vec(edit(), 1..4)) {
        let text = apply(&SCRIPT_OUTPUT_TEXT, &edits);
        match Snapshot::parse(&text, "damaged.json") {
            Ok(s) => audit(&s),
            Err(e) => one_line("collection file", &e.to_string())?,
        }
    }

    /// Any bytes, read as UTF-8 or UTF-16: text or a one-line reason, never a panic.
    #[test]
    fn snapshot_bytes_of_any_encoding(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        if let Err(e) = ccaudit::snapshot::powershell::decode(bytes) {
            one_line("decode", &e)?;
        }
    }
}

// Normalization ---------------------------------------------------------------------------------

/// How one fact of an example is broken.
#[derive(Debug, Clone)]
enum FactDamage {
    /// The whole `data` replaced.
    Data(Value),
    /// One node somewhere inside the real data replaced.
    Node(usize, Value),
    /// An error record instead of data.
    Error(Option<u16>, Option<String>, String),
    /// Absent.
    Removed,
}

fn fact_damage() -> impl Strategy<Value = FactDamage> {
    prop_oneof![
        3 => json().prop_map(FactDamage::Data),
        6 => (any::<usize>(), json()).prop_map(|(i, v)| FactDamage::Node(i, v)),
        1 => (any::<Option<u16>>(), any::<Option<String>>(), "\\PC{0,30}")
            .prop_map(|(s, c, m)| FactDamage::Error(s, c, m)),
        1 => Just(FactDamage::Removed),
    ]
}

fn fact_keys() -> Vec<String> {
    let mut keys: BTreeSet<String> = ccaudit::source_catalog::SOURCES
        .iter()
        .map(|s| s.key.to_string())
        .collect();
    keys.extend(HEALTHY.facts.keys().cloned());
    keys.extend(FIELD_CASE.facts.keys().cloned());
    keys.into_iter().collect()
}

proptest! {
    #![proptest_config(config(192))]

    /// Arbitrary JSON in any fact key (whole, or one node of the real data): the normalizers
    /// absorb it (fact unavailable with a reason, or read), the checks evaluate, the report
    /// renders.
    #[test]
    fn normalization_of_arbitrary_fact_data(
        field_case in any::<bool>(),
        damages in prop::collection::vec((prop::sample::select(fact_keys()), fact_damage()), 1..4),
        agents in prop::option::of(prop::collection::vec(interesting_string(), 0..4)),
    ) {
        let mut s = if field_case { FIELD_CASE.clone() } else { HEALTHY.clone() };
        for (key, damage) in damages {
            let endpoint = "GET https://graph.microsoft.com/fuzz".to_string();
            match damage {
                FactDamage::Data(v) => {
                    s.facts.insert(key, SourceFact { endpoint, data: Some(v), error: None });
                }
                FactDamage::Node(i, v) => {
                    if let Some(data) = s.facts.get_mut(&key).and_then(|f| f.data.as_mut()) {
                        replace_node(data, i, v);
                    }
                }
                FactDamage::Error(status, code, message) => {
                    s.facts.insert(key, SourceFact {
                        endpoint,
                        data: None,
                        error: Some(SourceError { status, code: code.map(ccaudit::snapshot::ErrorCode::from), message }),
                    });
                }
                FactDamage::Removed => {
                    s.facts.remove(&key);
                }
            }
        }
        if let (Some(users), Some(sel)) = (agents, s.agents.as_mut()) {
            sel.users = users;
        }
        audit(&s);
        // And through the file format, as `audit --snapshot` reads it. (Not compared for
        // equality: serde_json's float parsing can move the last digit of a double.)
        let text = s.to_json_pretty();
        let again = Snapshot::parse(&text, "roundtrip");
        prop_assert!(again.is_ok(), "a written snapshot reads back: {:?}", again.err());
    }
}

// Check files ---------------------------------------------------------------------------------

static CHECK_FILES: LazyLock<Vec<(String, String)>> = LazyLock::new(|| {
    let mut out = Vec::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("checks");
    for area in std::fs::read_dir(&root).unwrap() {
        let area = area.unwrap().path();
        if !area.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&area).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_some_and(|e| e == "yaml") {
                let stem = f.file_stem().unwrap().to_string_lossy().into_owned();
                out.push((stem, std::fs::read_to_string(&f).unwrap()));
            }
        }
    }
    out.sort();
    out
});

/// Line-level damage to a YAML file.
#[derive(Debug, Clone)]
enum LineEdit {
    Delete(usize),
    Duplicate(usize),
    Swap(usize, usize),
    Replace(usize, String),
    /// Replace what follows the first `: ` on a line.
    Value(usize, String),
    Indent(usize, usize),
}

fn line_edit() -> impl Strategy<Value = LineEdit> {
    let yamlish = prop_oneof![
        "\\PC{0,20}",
        Just("[".to_string()),
        Just("{{ subject.".to_string()),
        Just("{{ }}".to_string()),
        Just("'unterminated".to_string()),
        Just("&a [*a]".to_string()),
        Just("!!binary AAAA".to_string()),
        Just("- - -".to_string()),
        Just("tenant.agents.all(a, a.".to_string()),
        Just("size(tenant) / 0".to_string()),
        Just("9223372036854775807 + 1".to_string()),
        Just("{'unknown': 'x'}".to_string()),
        Just("critical".to_string()),
        Just("~".to_string()),
    ];
    prop_oneof![
        any::<usize>().prop_map(LineEdit::Delete),
        any::<usize>().prop_map(LineEdit::Duplicate),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| LineEdit::Swap(a, b)),
        (any::<usize>(), yamlish.clone()).prop_map(|(a, s)| LineEdit::Replace(a, s)),
        (any::<usize>(), yamlish).prop_map(|(a, s)| LineEdit::Value(a, s)),
        (any::<usize>(), 0usize..6).prop_map(|(a, n)| LineEdit::Indent(a, n)),
    ]
}

fn apply_lines(text: &str, edits: &[LineEdit]) -> String {
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    for e in edits {
        if lines.is_empty() {
            break;
        }
        let n = lines.len();
        match e {
            LineEdit::Delete(i) => {
                lines.remove(i % n);
            }
            LineEdit::Duplicate(i) => {
                let l = lines[i % n].clone();
                lines.insert(i % n, l);
            }
            LineEdit::Swap(a, b) => lines.swap(a % n, b % n),
            LineEdit::Replace(i, s) => lines[i % n] = s.clone(),
            LineEdit::Value(i, s) => {
                let l = &mut lines[i % n];
                if let Some(at) = l.find(": ") {
                    l.truncate(at + 2);
                    l.push_str(s);
                }
            }
            LineEdit::Indent(i, k) => lines[i % n] = format!("{}{}", " ".repeat(*k), lines[i % n]),
        }
    }
    lines.join("\n")
}

fn load_check(stem: &str, text: &str) -> Result<Check, String> {
    let (env, _) = &*CATALOG;
    let paths = ccaudit::model::fact_paths();
    Check::load(env, "fuzz.yaml", stem, text, &paths).map_err(|e| e.to_string())
}

/// A check that loads must also evaluate against a real model without panicking.
fn evaluate_one(check: Check) {
    let (env, _) = &*CATALOG;
    let mut set = CheckSet::new();
    set.insert(check.spec.id.clone(), check);
    for s in [&*HEALTHY, &*FIELD_CASE] {
        let model = TenantModel::from_snapshot(s, AuditConfig::default());
        let _ = engine::evaluate(env, &set, &model);
    }
}

proptest! {
    #![proptest_config(config(128))]

    /// Arbitrary text as a check file.
    #[test]
    fn check_loading_arbitrary_text(text in "\\PC{0,300}") {
        if let Err(e) = load_check("ACSFED-001", &text) {
            explained("check", &e)?;
        }
    }

    /// The built-in check files, damaged line by line: refused with a one-line error naming a
    /// line, or loaded and evaluated.
    #[test]
    fn check_loading_damaged_builtin_files(
        file in any::<prop::sample::Index>(),
        edits in prop::collection::vec(line_edit(), 1..4),
    ) {
        let (stem, text) = file.get(&CHECK_FILES);
        let damaged = apply_lines(text, &edits);
        match load_check(stem, &damaged) {
            Ok(check) => evaluate_one(check),
            Err(e) => explained("check", &e)?,
        }
    }
}

// CEL rules and templates -----------------------------------------------------------------------

/// Expressions built from CEL's grammar over the model's names, including the operations that
/// can overflow, divide by zero, index out of range or compile a regex.
fn cel_expr() -> impl Strategy<Value = String> {
    let atom = prop_oneof![
        Just("tenant".to_string()),
        Just("subject".to_string()),
        prop::sample::select(KEYS.clone()).prop_map(|k| format!("tenant.{k}")),
        prop::sample::select(ccaudit::model::fact_paths()).prop_map(|p| format!("tenant.{p}")),
        any::<i64>().prop_map(|i| i.to_string()),
        Just("9223372036854775807".to_string()),
        Just("-9223372036854775808".to_string()),
        Just("18446744073709551615u".to_string()),
        any::<f64>().prop_map(|f| format!("{f:?}")),
        "\"[^\"\\\\]{0,8}\"",
        Just("'(['".to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
        Just("null".to_string()),
        Just("true".to_string()),
        Just("b'\\xff'".to_string()),
        Just("duration('99999999999h')".to_string()),
        Just("timestamp('9999-12-31T23:59:59Z')".to_string()),
    ];
    atom.prop_recursive(4, 32, 3, |inner| {
        prop_oneof![
            (
                inner.clone(),
                prop::sample::select(vec![
                    "+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "in",
                ]),
                inner.clone()
            )
                .prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            inner.clone().prop_map(|a| format!("!{a}")),
            inner.clone().prop_map(|a| format!("-{a}")),
            inner.clone().prop_map(|a| format!("size({a})")),
            inner.clone().prop_map(|a| format!("int({a})")),
            inner.clone().prop_map(|a| format!("uint({a})")),
            inner.clone().prop_map(|a| format!("double({a})")),
            inner.clone().prop_map(|a| format!("string({a})")),
            inner.clone().prop_map(|a| format!("has({a}.x)")),
            inner.clone().prop_map(|a| format!("{a}.lowerAscii()")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}[{b}]")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}.matches({b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}.split({b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}.contains({b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}.startsWith({b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}.all(x, {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}.exists(x, {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}.map(x, {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}.filter(x, {b})")),
            inner.clone().prop_map(|a| format!("{a}.flatten()")),
            inner.clone().prop_map(|a| format!("{a}.distinct()")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(a, b, c)| format!("({a} ? {b} : {c})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("[{a}, {b}]")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{{{a}: {b}}}")),
        ]
    })
}

/// The model of the field case as CEL sees it, with a subject bound.
static CONTEXT_MODEL: LazyLock<cel::Value> = LazyLock::new(|| {
    let model = TenantModel::from_snapshot(&FIELD_CASE, AuditConfig::default());
    celx::from_json(&model.to_json())
});

fn context() -> cel::Context<'static, 'static> {
    let (env, _) = &*CATALOG;
    let mut ctx = cel::Context::with_env(Arc::clone(env));
    ctx.add_variable_from_value("tenant", CONTEXT_MODEL.clone());
    ctx.add_variable_from_value(
        "subject",
        celx::from_json(&serde_json::json!({"id": "x", "name": "y", "segments": ["a"]})),
    );
    ctx
}

proptest! {
    #![proptest_config(config(256))]

    /// Generated expressions: compiled or refused in one line; executed against the field
    /// case's model without a panic, whatever the result.
    #[test]
    fn cel_rules_never_panic(expr in cel_expr()) {
        let (env, _) = &*CATALOG;
        match celx::compile(env, &expr) {
            Ok(compiled) => {
                let ctx = context();
                if let Err(e) = compiled.execute(&ctx) {
                    one_line("CEL execution", &celx::describe_error(&e))?;
                }
            }
            Err(e) => one_line("CEL compile", &e.to_string())?,
        }
    }

    /// Arbitrary text as an expression.
    #[test]
    fn cel_arbitrary_text_never_panics(expr in "\\PC{0,60}") {
        let (env, _) = &*CATALOG;
        if let Ok(compiled) = celx::compile(env, &expr) {
            let _ = compiled.execute(&context());
        }
    }

    /// Message and remediation templates: text with `{{ }}` holes holding generated
    /// expressions, stray braces, unclosed holes.
    #[test]
    fn templates_never_panic(
        parts in prop::collection::vec(prop_oneof![
            "[^{}]{0,12}",
            Just("{".to_string()),
            Just("}}".to_string()),
            Just("{{".to_string()),
            Just("{{ }}".to_string()),
            cel_expr().prop_map(|e| format!("{{{{ {e} }}}}")),
        ], 0..6)
    ) {
        let (env, _) = &*CATALOG;
        let text: String = parts.concat();
        match Template::compile(env, &text) {
            Ok(t) => {
                let (_rendered, error) = t.render(&context());
                if let Some(e) = error {
                    explained("template hole", &e)?;
                }
            }
            Err(e) => explained("template", &e.to_string())?,
        }
    }
}

// explain -----------------------------------------------------------------------------------------

static KB: LazyLock<KnowledgeBase> = LazyLock::new(|| KnowledgeBase::builtin().unwrap());

proptest! {
    #![proptest_config(config(256))]

    /// Pasted text: error codes, statuses, AADSTS numbers, hex codes, log lines, junk.
    #[test]
    fn explain_lookup_never_panics(
        pieces in prop::collection::vec(prop_oneof![
            "\\PC{0,40}",
            "[0-9]{1,7}",
            "AADSTS[0-9]{0,8}",
            "0x[0-9a-fA-F]{0,10}",
            "[0-9]{3}/[0-9]{0,6}",
            "[A-Za-z_]{1,20}",
            Just("\u{0}".to_string()),
            Just("HTTP 403 Forbidden".to_string()),
            Just("\"".to_string()),
        ], 0..8)
    ) {
        let input = pieces.join(" ");
        let found = KB.lookup(&input);
        let (_, set) = &*CATALOG;
        for f in &found.found {
            let _ = KB.linked_checks(f.entry, set);
        }
        let _ = KB.closest(&input, 5);
    }

    /// Arbitrary text, and damaged copies of the built-in knowledge base, as a knowledge-base
    /// file: parsed or refused in one line.
    #[test]
    fn explain_knowledge_base_parsing_never_panics(
        text in "\\PC{0,200}",
        edits in prop::collection::vec(line_edit(), 1..4),
    ) {
        if let Err(e) = KnowledgeBase::parse("fuzz.yaml", &text) {
            explained("knowledge base", &e.to_string())?;
        }
        let builtin = include_str!("../checks/errors.yaml");
        match KnowledgeBase::parse("errors.yaml", &apply_lines(builtin, &edits)) {
            Ok(kb) => {
                let _ = kb.lookup("AADSTS7000215 403 Forbidden 0x80040220");
            }
            Err(e) => explained("knowledge base", &e.to_string())?,
        }
    }
}

// Configuration files ---------------------------------------------------------------------------

fn config_yaml() -> impl Strategy<Value = String> {
    let scalar = prop_oneof![
        "\\PC{0,16}",
        Just("ACSFED-002".to_string()),
        Just("2026-13-45".to_string()),
        Just("2026-12-31".to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
        Just("~".to_string()),
        Just("*anchor".to_string()),
    ];
    let entry = (
        prop::sample::select(vec!["check", "subject", "reason", "expires", "until", "id"]),
        scalar.clone(),
    )
        .prop_map(|(k, v)| format!("    {k}: {v}"));
    let suppression = prop::collection::vec(entry, 0..5)
        .prop_map(|lines| format!("  - {}", lines.join("\n").trim_start()));
    (
        prop::collection::vec(suppression, 0..4),
        prop::collection::vec(
            (
                prop::sample::select(vec![
                    "cc_skus",
                    "fail_on",
                    "only",
                    "skip",
                    "format",
                    "suppressions",
                    "checks",
                    "unknown_key",
                ]),
                scalar,
            ),
            0..4,
        ),
    )
        .prop_map(|(suppressions, top)| {
            let mut text = String::new();
            for (k, v) in top {
                text.push_str(&format!("{k}: {v}\n"));
            }
            if !suppressions.is_empty() {
                text.push_str("suppressions:\n");
                text.push_str(&suppressions.join("\n"));
                text.push('\n');
            }
            text
        })
}

proptest! {
    #![proptest_config(config(192))]

    /// `ccaudit.yaml`: arbitrary text and config-shaped YAML, parsed or refused in one line;
    /// a parsed one is validated against the catalog's check ids.
    #[test]
    fn config_files_never_panic(text in "\\PC{0,200}", yaml in config_yaml()) {
        let (_, set) = &*CATALOG;
        let ids: Vec<&str> = set.keys().map(String::as_str).collect();
        for t in [&text, &yaml] {
            match ccaudit::config::Config::parse("ccaudit.yaml", t) {
                Ok(mut c) => {
                    if let Err(e) = c.validate_checks(&ids) {
                        explained("config", &e.to_string())?;
                    }
                }
                Err(e) => explained("config", &e.to_string())?,
            }
        }
    }
}

// Regressions -----------------------------------------------------------------------------------

/// `"data": null` (a service that answered `null`) is data: a snapshot holding it reads back
/// and audits, instead of being refused as "neither `data` nor `error`". Found by
/// `normalization_of_arbitrary_fact_data`.
#[test]
fn regression_null_fact_data_reads_back() {
    let mut s = HEALTHY.clone();
    s.facts.insert(
        "teams.ExternalAccessPolicy".into(),
        SourceFact {
            endpoint: "GET https://api.interfaces.records.teams.microsoft.com/x".into(),
            data: Some(Value::Null),
            error: None,
        },
    );
    let again = Snapshot::parse(&s.to_json_pretty(), "null-data").unwrap();
    assert_eq!(
        again.facts["teams.ExternalAccessPolicy"].data,
        Some(Value::Null)
    );
    audit(&again);
    // An absent `data` is still refused.
    let mut v: Value = serde_json::from_str(&s.to_json_pretty()).unwrap();
    v["facts"]["teams.ExternalAccessPolicy"]
        .as_object_mut()
        .unwrap()
        .remove("data");
    let e = Snapshot::parse(&v.to_string(), "no-data").unwrap_err();
    assert!(e.to_string().contains("neither `data` nor `error`"), "{e}");
}

/// A fact key holding a newline: the error stays on one line (the key is shown escaped).
/// Found by `snapshot_parse_arbitrary_json`.
#[test]
fn regression_control_characters_in_fact_keys_keep_errors_one_line() {
    for key in ["\n", "a.\nb"] {
        let text = serde_json::json!({
            "schema_version": 1, "tool_version": "0", "collected_at": "x", "tenant_id": "t",
            "cloud": "public", "facts": {key: {"endpoint": "e"}},
        })
        .to_string();
        let e = Snapshot::parse(&text, "keys.snapshot.json")
            .unwrap_err()
            .to_string();
        assert!(!e.contains('\n'), "{e}");
        assert!(e.contains("\\n"), "the key is shown escaped: {e}");
    }
}
