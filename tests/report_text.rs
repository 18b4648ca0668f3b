//! Text as a terminal or a document shows it (issue 10, items 8 and 9): the table fits the
//! terminal — no line wider than 80 or 120 columns, paths wrapped at their separators, the
//! width taken from `COLUMNS` — and tenant text with escape sequences reaches no output raw, in
//! any format.

use std::path::Path;

use ccaudit::engine::{self, Status, Suppressed};
use ccaudit::model::{AuditConfig, TenantModel};
use ccaudit::report::{Report, html, json, junit, markdown, table};
use ccaudit::snapshot::Snapshot;
use unicode_width::UnicodeWidthStr;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn report_of(snapshot: &Snapshot) -> Report {
    let config = AuditConfig {
        contact_center_skus: vec!["DYN365_CUSTOMER_SERVICE_PREMIUM".into()],
    };
    let model = TenantModel::from_snapshot(snapshot, config);
    let env = engine::cel::environment();
    let checks = engine::catalog::load(&env, None).expect("the built-in checks load");
    let results = engine::evaluate(&env, &checks, &model);
    Report::new(&model, "snapshot", results)
}

fn example(name: &str) -> Report {
    let snapshot = Snapshot::load(&root().join("examples").join(name)).expect("example loads");
    report_of(&snapshot)
}

/// The field case with a suppression, its expiry and a warning, so that every kind of line
/// the table prints is there.
fn field_case_in_full() -> Report {
    let mut report = example("field-case.snapshot.json");
    let r = report
        .results
        .iter_mut()
        .find(|r| r.check == "NUM-002" && r.status == Status::Fail)
        .expect("the field case fails NUM-002");
    r.suppressed = Some(Suppressed {
        reason: "operator ticket OC-4711: the range is being re-provisioned by the carrier, \
                 see https://example.com/tickets/OC-4711/details"
            .into(),
        expires: Some("2027-01-31".into()),
    });
    report.warnings.push(
        "suppression for RA-001 (/home/operator/configuration/ccaudit.yaml:12) matched no \
         result"
            .into(),
    );
    report
}

fn plain(text: &str) -> String {
    anstream::adapter::strip_str(text).to_string()
}

fn assert_fits(text: &str, width: usize) {
    for (i, line) in plain(text).lines().enumerate() {
        assert!(
            line.width() <= width,
            "line {} is {} columns wide, more than {width}:\n{line}",
            i + 1,
            line.width()
        );
    }
}

#[test]
fn no_line_of_the_table_is_wider_than_80_or_120_columns() {
    for report in [
        field_case_in_full(),
        example("healthy.snapshot.json"),
        example("field-case.snapshot.json"),
    ] {
        for width in [80, 120] {
            let text = table::render_width(&report, width);
            assert_fits(&text, width);
            // The width is used, not just respected: the widest line is close to it.
            let widest = plain(&text).lines().map(|l| l.width()).max().unwrap();
            assert!(widest + 10 >= width, "widest line {widest} at {width}");
        }
    }
}

#[test]
fn an_arm_path_is_wrapped_at_its_separators_not_mid_word() {
    let text = plain(&table::render_width(&field_case_in_full(), 80));
    let arm = "/subscriptions/11112222-3333-4444-5555-666677778888/resourceGroups/\
               rg-contact-center/providers/Microsoft.Communication/CommunicationServices/\
               acs-cc-prod";
    // Every name between separators is whole on some line of the table.
    for name in arm.split(['/', '-', '.']).filter(|n| !n.is_empty()) {
        assert!(
            text.lines().any(|l| l.contains(name)),
            "`{name}` is split across lines:\n{text}"
        );
    }
    // And the path is in the result column, wrapped: a cell line ends with a separator.
    assert!(
        text.lines()
            .any(|l| l.trim_end_matches([' ', '│']).ends_with("resourceGroups/")),
        "{text}"
    );
}

#[test]
fn wide_characters_and_long_names_fit_too() {
    let mut report = example("field-case.snapshot.json");
    for r in report.results.iter_mut().take(5) {
        if let Some(s) = r.subject.as_mut() {
            s.name =
                "名前名前名前名前名前名前-très-long-nom-de-compte@contoso.onmicrosoft.com".into();
        }
        r.message = format!("{} — {}", "全角の文字列".repeat(8), r.message);
        r.title = "A title that is long enough to need wrapping even on a wide terminal, \
                   because it goes on and on"
            .into();
    }
    for width in [60, 80, 120] {
        assert_fits(&table::render_width(&report, width), width);
    }
}

#[test]
fn the_width_comes_from_columns_and_defaults_to_100() {
    let run = |columns: Option<&str>| {
        let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("ccaudit");
        cmd.current_dir(root())
            .env_remove("CCAUDIT_SNAPSHOT")
            .env_remove("COLUMNS")
            .env("NO_COLOR", "1")
            .args([
                "audit",
                "--snapshot",
                "examples/field-case.snapshot.json",
                "--cc-sku",
                "DYN365_CUSTOMER_SERVICE_PREMIUM",
            ]);
        if let Some(c) = columns {
            cmd.env("COLUMNS", c);
        }
        let out = cmd.output().expect("ccaudit runs");
        assert_eq!(out.status.code(), Some(1), "findings: exit 1");
        String::from_utf8(out.stdout).expect("UTF-8")
    };
    let widest = |text: &str| text.lines().map(|l| l.width()).max().unwrap();
    let at_80 = run(Some("80"));
    assert!((70..=80).contains(&widest(&at_80)), "{}", widest(&at_80));
    let at_120 = run(Some("120"));
    assert!(
        (110..=120).contains(&widest(&at_120)),
        "{}",
        widest(&at_120)
    );
    // Not a terminal and no COLUMNS: 100.
    let default = run(None);
    assert!(
        (90..=100).contains(&widest(&default)),
        "{}",
        widest(&default)
    );
    // Nonsense is ignored, and a width too narrow for the table is raised to 60.
    assert_eq!(run(Some("wide")), default);
    let narrow = run(Some("20"));
    assert!(widest(&narrow) <= 60, "{}", widest(&narrow));
}

// --- item 9: untrusted text is neutralized ------------------------------------------------------

const TITLE_SEQUENCE: &str = "\x1b]0;owned\x07";
const CLEAR_SCREEN: &str = "\x1b[2J";
/// A C1 control (CSI, which some terminals obey as `ESC [`) and DEL.
const C1_AND_DEL: &str = "\u{9b}\u{7f}";

/// The field case with the escape sequences in tenant data: the organization's display name
/// retitles the window, and an external access policy's name (a subject, and in messages and
/// remediation) clears the screen.
fn hostile_snapshot_text() -> String {
    let text = std::fs::read_to_string(root().join("examples/field-case.snapshot.json"))
        .expect("example readable");
    let mut snapshot: serde_json::Value = serde_json::from_str(&text).unwrap();
    let name = format!("Contoso{TITLE_SEQUENCE}");
    snapshot["tenant_name"] = name.clone().into();
    snapshot["facts"]["graph.organization"]["data"]["value"][0]["displayName"] = name.into();
    let text = serde_json::to_string_pretty(&snapshot).unwrap();
    // The policy everywhere it is named, so the assignments still resolve to it.
    let escaped =
        serde_json::to_string(&format!("CC-{CLEAR_SCREEN}{C1_AND_DEL}Restricted")).unwrap();
    text.replace("CC-Restricted", escaped.trim_matches('"'))
}

fn hostile_report() -> Report {
    let snapshot = Snapshot::parse(&hostile_snapshot_text(), "hostile").expect("it parses");
    let report = report_of(&snapshot);
    // The sequences did reach the results: a subject, messages, the tenant's name.
    assert_eq!(
        report.tenant.name.as_deref(),
        Some(format!("Contoso{TITLE_SEQUENCE}").as_str())
    );
    assert!(report.results.iter().any(|r| {
        r.subject
            .as_ref()
            .is_some_and(|s| s.name.contains(CLEAR_SCREEN))
    }));
    assert!(
        report
            .results
            .iter()
            .any(|r| r.message.contains(CLEAR_SCREEN))
    );
    report
}

fn assert_no_control_bytes(format: &str, output: &[u8]) {
    for (i, b) in output.iter().enumerate() {
        assert!(
            !matches!(b, 0x00..=0x08 | 0x0b..=0x1f | 0x7f),
            "{format}: raw control byte {b:#04x} at {i}: {:?}",
            String::from_utf8_lossy(&output[i.saturating_sub(40)..(i + 40).min(output.len())])
        );
    }
    let text = String::from_utf8_lossy(output);
    assert!(
        !text.chars().any(|c| ('\u{80}'..='\u{9f}').contains(&c)),
        "{format}: a C1 control character"
    );
}

#[test]
fn escape_sequences_in_tenant_data_reach_no_format_raw() {
    let report = hostile_report();
    let table = plain(&table::render_width(&report, 100));
    let outputs = [
        ("table", table.clone()),
        ("markdown", markdown::render(&report)),
        ("junit", junit::render(&report)),
        ("html", html::render(&report)),
        ("json", json::render(&report)),
    ];
    for (format, output) in &outputs {
        assert_no_control_bytes(format, output.as_bytes());
    }
    // Shown, as a visible escape, in the human formats (Markdown also escapes `[` and `]`).
    for (format, output) in &outputs[..4] {
        let output = output.replace("\\[", "[").replace("\\]", "]");
        assert!(
            output.contains("Contoso\\u{1b}]0;owned\\u{7}"),
            "{format}:\n{output}"
        );
        assert!(
            output.contains("CC-\\u{1b}[2J\\u{9b}\\u{7f}Restricted"),
            "{format}"
        );
    }
    // JSON keeps the data exactly, escaped the JSON way.
    let parsed: serde_json::Value = serde_json::from_str(&outputs[4].1).expect("valid JSON");
    assert_eq!(
        parsed["tenant"]["name"],
        format!("Contoso{TITLE_SEQUENCE}").as_str()
    );
    assert!(outputs[4].1.contains("\\u001b]0;owned\\u0007"));
    assert!(
        outputs[4]
            .1
            .contains("CC-\\u001b[2J\\u009b\\u007fRestricted")
    );
    let subjects: Vec<&str> = parsed["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["subject"]["name"].as_str())
        .collect();
    assert!(subjects.contains(&format!("Tag:CC-{CLEAR_SCREEN}{C1_AND_DEL}Restricted").as_str()));
    // JUnit is still a document a CI parser reads.
    quick_junit::Report::deserialize_from_str(&outputs[2].1).expect("the JUnit XML parses");
    // The table still fits.
    assert_fits(&table, 100);
}

#[test]
fn the_binary_writes_no_escape_sequence_from_tenant_data_in_any_format() {
    let dir = tempfile::TempDir::new().unwrap();
    let path = dir.path().join("hostile.snapshot.json");
    std::fs::write(&path, hostile_snapshot_text()).unwrap();
    for format in ["table", "json", "markdown", "junit", "html"] {
        let out = assert_cmd::cargo::cargo_bin_cmd!("ccaudit")
            .current_dir(root())
            .env_remove("CCAUDIT_SNAPSHOT")
            .env_remove("NO_COLOR")
            .args([
                "audit",
                "--snapshot",
                path.to_str().unwrap(),
                "--format",
                format,
            ])
            .output()
            .expect("ccaudit runs");
        assert_eq!(out.status.code(), Some(1), "{format}: findings, exit 1");
        assert_no_control_bytes(format, &out.stdout);
        assert_no_control_bytes(format, &out.stderr);
    }
}
