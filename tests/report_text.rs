//! Text as a terminal or a document shows it (issue 10, item 8): the table fits the terminal —
//! no line wider than 80 or 120 columns, paths wrapped at their separators, the width taken from
//! `COLUMNS`.

use std::path::Path;

use ccaudit::engine::{self, Status, Suppressed};
use ccaudit::model::{AuditConfig, TenantModel};
use ccaudit::report::{Report, table};
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
