//! The Markdown, JUnit and HTML reports of the field-report tenant: snapshots of each format,
//! plus the properties a reader relies on (failures first, one test case per result, valid XML,
//! escaped text, a self-contained page).
//!
//! The report is `examples/field-case.snapshot.json` audited with the default configuration,
//! with one suppression and one run warning added so every section of every format is shown.

use std::collections::BTreeSet;
use std::path::Path;

use ccaudit::engine::{self, CheckResult, Status, Suppressed};
use ccaudit::model::{AuditConfig, TenantModel};
use ccaudit::report::{Report, Summary, html, junit, markdown};
use ccaudit::snapshot::Snapshot;
use quick_junit::{NonSuccessKind, TestCaseStatus};

const SUPPRESSED_CHECK: &str = "NUM-002";

fn field_case() -> Report {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/field-case.snapshot.json");
    let snapshot = Snapshot::load(&path).expect("the example snapshot loads");
    let model = TenantModel::from_snapshot(&snapshot, AuditConfig::default());
    let env = engine::cel::environment();
    let checks = engine::catalog::load(&env, None).expect("the built-in checks load");
    let mut results = engine::evaluate(&env, &checks, &model);
    // The engine lists the subjects of a check that iterates a CEL map (EXT-002 over
    // `external_access_policies`) in hash order, which changes from run to run; order subjects
    // by id so the snapshots depend on the renderers only.
    results.sort_by(|a, b| {
        let id = |r: &CheckResult| r.subject.as_ref().map(|s| s.id.clone());
        a.check.cmp(&b.check).then_with(|| id(a).cmp(&id(b)))
    });
    let mut report = Report::new(&model, "snapshot", results);
    // Snapshots must not change with the crate version.
    report.tool.version = "0.0.0-test".into();
    report
}

/// The field case with an operator ticket suppressing NUM-002 and an unused suppression warned
/// about, as the configuration file would produce.
fn field_case_with_suppression() -> Report {
    let mut report = field_case();
    let result = report
        .results
        .iter_mut()
        .find(|r| r.check == SUPPRESSED_CHECK && r.status == Status::Fail)
        .expect("the field case fails NUM-002");
    result.suppressed = Some(Suppressed {
        reason: "operator ticket OC-4711 | re-provisioning the range".into(),
        expires: Some("2027-01-31".into()),
    });
    report
        .warnings
        .push("suppression for RA-001 (ccaudit.yaml:12) matched no result".into());
    report
}

fn active(report: &Report, status: Status) -> Vec<&CheckResult> {
    report
        .results
        .iter()
        .filter(|r| r.status == status && r.suppressed.is_none())
        .collect()
}

/// An unknown result that a permission would make known (the field case's are not: LIC-005's
/// message names the --cc-sku to pass).
fn unreadable(report: &Report) -> CheckResult {
    let mut unreadable = active(report, Status::Unknown)[0].clone();
    unreadable.check = "TEST-001".into();
    unreadable.subject = None;
    unreadable.message = "the users' Teams settings could not be read: 403".into();
    unreadable.needs = Some("Teams Administrator (or Global Reader)".into());
    unreadable
}

fn position(text: &str, needle: &str) -> usize {
    text.find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not found"))
}

// --- snapshots ---------------------------------------------------------------------------------

#[test]
fn markdown_report_of_the_field_case() {
    insta::assert_snapshot!(
        "field_case_markdown",
        markdown::render(&field_case_with_suppression())
    );
}

#[test]
fn junit_report_of_the_field_case() {
    insta::assert_snapshot!(
        "field_case_junit",
        junit::render(&field_case_with_suppression())
    );
}

/// The page without its inline stylesheet and script: those are files of their own
/// (`src/report/assets/`), reviewed as such, not as churn in every HTML snapshot.
fn without_assets(page: &str) -> String {
    let style = include_str!("../src/report/assets/report.css");
    let script = include_str!("../src/report/assets/report.js");
    assert!(
        page.contains(style) && page.contains(script),
        "assets are inlined verbatim"
    );
    page.replace(style, "/* report.css */\n")
        .replace(script, "/* report.js */\n")
}

#[test]
fn html_report_of_the_field_case() {
    insta::assert_snapshot!(
        "field_case_html",
        without_assets(&html::render(&field_case_with_suppression()))
    );
}

#[test]
fn every_format_is_deterministic() {
    let (a, b) = (field_case_with_suppression(), field_case_with_suppression());
    assert_eq!(markdown::render(&a), markdown::render(&b));
    assert_eq!(junit::render(&a), junit::render(&b));
    assert_eq!(html::render(&a), html::render(&b));
}

#[test]
fn every_format_renders_a_report_without_results() {
    let mut report = field_case();
    report.results.clear();
    report.summary = Summary::default();
    report.tenant.name = None;
    let md = markdown::render(&report);
    assert!(md.starts_with("# ccaudit report: 11111111-2222-3333-4444-555555555555\n"));
    assert!(md.contains("No failing or missing prerequisites."));
    let parsed = parse_junit(&junit::render(&report));
    assert_eq!(parsed.tests, 0);
    let page = html::render(&report);
    assert!(page.contains("No failing or missing prerequisites."));
    assert_eq!(page.matches("<tbody class=\"result ").count(), 0);
}

// --- markdown ----------------------------------------------------------------------------------

#[test]
fn markdown_lists_fail_then_missing_then_unknown_then_the_rest() {
    let md = markdown::render(&field_case_with_suppression());
    let sections = [
        "## Fail (",
        "## Missing (",
        "## Unknown (",
        "## Passed and skipped (",
        "## Suppressed (",
        "## Warnings (",
    ];
    let positions: Vec<usize> = sections.iter().map(|s| position(&md, s)).collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "sections out of order: {positions:?}"
    );
    // Nothing that passed or was skipped appears before the folded table.
    let details = position(&md, "<details>");
    assert!(!md[..details].contains("\n| pass | "));
}

#[test]
fn markdown_has_one_heading_and_one_code_block_per_finding() {
    let report = field_case_with_suppression();
    let md = markdown::render(&report);
    let fail = active(&report, Status::Fail);
    let missing = active(&report, Status::Missing);
    assert_eq!(md.matches("\n### FAIL · ").count(), fail.len());
    assert_eq!(md.matches("\n### MISSING · ").count(), missing.len());
    let with_remediation = fail
        .iter()
        .chain(&missing)
        .filter(|r| r.remediation.is_some())
        .count();
    assert_eq!(md.matches("Remediation:\n\n```").count(), with_remediation);
    assert_eq!(
        md.matches("```").count() % 2,
        0,
        "every code block is closed"
    );
}

#[test]
fn markdown_keeps_suppressed_results_out_of_the_findings() {
    let md = markdown::render(&field_case_with_suppression());
    let suppressed = &md[position(&md, "## Suppressed (")..];
    assert!(!md.contains(&format!("### FAIL · {SUPPRESSED_CHECK}")));
    assert!(suppressed.contains(&format!("| fail | {SUPPRESSED_CHECK} |")));
    assert!(
        suppressed.contains("operator ticket OC-4711 \\| re-provisioning the range | 2027-01-31 |")
    );
}

/// An unknown result shows what to grant when a fact was unreadable, or the check's own reason
/// (which says what to provide) when the check could not decide on the data it had.
#[test]
fn markdown_unknowns_say_what_to_grant() {
    let mut report = field_case();
    report.results.push(unreadable(&report));
    let md = markdown::render(&report);
    let unknown = &md[position(&md, "## Unknown (")..position(&md, "## Passed and skipped (")];
    let unknowns = active(&report, Status::Unknown);
    assert!(unknowns.iter().any(|r| r.needs.is_none()));
    for r in unknowns {
        let what = r.needs.as_deref().unwrap_or(&r.message);
        assert!(unknown.contains(what), "{} should name {what:?}", r.check);
    }
}

#[test]
fn markdown_table_cells_escape_pipes_and_line_breaks() {
    let mut report = field_case();
    let pass = report
        .results
        .iter_mut()
        .find(|r| r.status == Status::Pass)
        .expect("the field case passes something");
    pass.message = "left | right\nsecond line".into();
    let md = markdown::render(&report);
    assert!(md.contains("left \\| right<br>second line |"));
    // Every row of every table has as many cells as its header.
    let mut header: Option<usize> = None;
    for line in md.lines() {
        if !line.starts_with('|') {
            header = None;
            continue;
        }
        let cells = unescaped_pipes(line);
        match header {
            None => header = Some(cells),
            Some(n) => assert_eq!(cells, n, "row with a different cell count: {line}"),
        }
    }
}

fn unescaped_pipes(line: &str) -> usize {
    let mut count = 0;
    let mut escaped = false;
    for c in line.chars() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '|' => count += 1,
            _ => {}
        }
    }
    count
}

// --- junit -------------------------------------------------------------------------------------

fn parse_junit(xml: &str) -> quick_junit::Report {
    quick_junit::Report::deserialize_from_str(xml).expect("the JUnit report is valid XML")
}

#[test]
fn junit_has_one_test_case_per_check_and_subject() {
    let report = field_case_with_suppression();
    let parsed = parse_junit(&junit::render(&report));
    let cases: Vec<_> = parsed
        .test_suites
        .iter()
        .flat_map(|s| &s.test_cases)
        .collect();
    assert_eq!(cases.len(), report.results.len());
    assert_eq!(parsed.tests, report.results.len());

    let names: BTreeSet<(String, String)> = cases
        .iter()
        .map(|c| {
            (
                c.classname.as_deref().unwrap_or_default().to_string(),
                c.name.to_string(),
            )
        })
        .collect();
    assert_eq!(names.len(), cases.len(), "test case names are unique");
    for r in &report.results {
        let name = match &r.subject {
            Some(s) => format!("{} {}", r.check, s.name),
            None => r.check.clone(),
        };
        assert!(
            names.contains(&(r.area.clone(), name.clone())),
            "no test case {name} in {}",
            r.area
        );
    }
}

#[test]
fn junit_maps_statuses_to_failure_error_and_skipped() {
    let mut report = field_case_with_suppression();
    report.results.push(unreadable(&report));
    let parsed = parse_junit(&junit::render(&report));
    let suppressed = report
        .results
        .iter()
        .filter(|r| r.suppressed.is_some())
        .count();
    assert_eq!(
        parsed.failures,
        active(&report, Status::Fail).len() + active(&report, Status::Missing).len()
    );
    assert_eq!(parsed.errors, active(&report, Status::Unknown).len());
    assert_eq!(
        parsed.skipped,
        active(&report, Status::Skipped).len() + suppressed
    );

    let cases = parsed.test_suites.iter().flat_map(|s| &s.test_cases);
    let mut saw_remediation = false;
    let mut saw_grant = false;
    let mut grant_without_needs = false;
    let mut saw_suppression = false;
    for case in cases {
        match &case.status {
            TestCaseStatus::NonSuccess {
                kind: NonSuccessKind::Failure,
                description,
                ..
            } => {
                saw_remediation |= description.as_deref().is_some_and(|d| d.contains("Set-Cs"));
            }
            TestCaseStatus::NonSuccess {
                kind: NonSuccessKind::Error,
                description,
                ..
            } => {
                let grant = description
                    .as_deref()
                    .is_some_and(|d| d.contains("grant: "));
                if case.name.as_str().starts_with("TEST-001") {
                    saw_grant = description.as_deref().is_some_and(|d| {
                        d.ends_with("\ngrant: Teams Administrator (or Global Reader)")
                    });
                } else {
                    grant_without_needs |= grant;
                }
            }
            TestCaseStatus::Skipped { message, ty, .. } => {
                if ty.as_deref() == Some("suppressed") {
                    saw_suppression = message
                        .as_deref()
                        .is_some_and(|m| m.contains("operator ticket OC-4711"));
                }
            }
            TestCaseStatus::Success { .. } => {}
        }
    }
    assert!(saw_remediation, "failures carry the remediation");
    assert!(saw_grant, "errors say what to grant");
    assert!(
        !grant_without_needs,
        "no `grant:` line where there is nothing to grant (the message says what to do)"
    );
    assert!(
        saw_suppression,
        "suppressed results are skipped with the reason"
    );
}

#[test]
fn junit_escapes_markup_and_shows_control_characters_as_escapes() {
    let mut report = field_case();
    let fail = report
        .results
        .iter_mut()
        .find(|r| r.status == Status::Fail)
        .expect("the field case fails something");
    fail.message = "a < b & \"c\" ]]> \u{1b}[31mred\u{1b}[0m \u{7}".into();
    let parsed = parse_junit(&junit::render(&report));
    let message = parsed
        .test_suites
        .iter()
        .flat_map(|s| &s.test_cases)
        .find_map(|c| match &c.status {
            TestCaseStatus::NonSuccess { message, .. } => message
                .as_deref()
                .filter(|m| m.starts_with("a <"))
                .map(str::to_string),
            _ => None,
        })
        .expect("the failure message survives");
    // XML cannot hold them; shown as visible escapes, as in the other formats, rather than
    // dropped with the sequence they start.
    assert_eq!(message, "a < b & \"c\" ]]> \\u{1b}[31mred\\u{1b}[0m \\u{7}");
}

// --- html --------------------------------------------------------------------------------------

#[test]
fn html_escapes_all_report_text() {
    let mut report = field_case();
    report.results[0].message = "<script>alert('x')</script>".into();
    report.results[0].title = "\"><img src=x onerror=alert(1)>".into();
    report.warnings.push("<b>bold</b>".into());
    let page = html::render(&report);
    assert!(!page.contains("<script>alert"), "the message is escaped");
    assert!(page.contains("&lt;script&gt;alert("));
    assert!(!page.contains("<img src=x"));
    assert!(!page.contains("<b>bold</b>"));
    assert_eq!(page.matches("<script>").count(), 1, "only our own script");
}

#[test]
fn html_is_self_contained() {
    let page = html::render(&field_case_with_suppression());
    for external in [
        "<link",
        " src=\"http",
        "src='http",
        "@import",
        "url(",
        "@font-face",
    ] {
        assert!(!page.contains(external), "the page references {external}");
    }
    // Links to the docs are the only URLs, and they are plain anchors.
    for (i, _) in page.match_indices("http") {
        let before = &page[..i];
        assert!(
            before.ends_with("href=\"") || before.ends_with('>'),
            "unexpected URL at {}",
            &page[i.saturating_sub(40)..i + 20]
        );
    }
}

#[test]
fn html_has_one_row_per_result_with_its_details() {
    let report = field_case_with_suppression();
    let page = html::render(&report);
    assert_eq!(
        page.matches("<tbody class=\"result ").count(),
        report.results.len()
    );
    assert_eq!(
        page.matches("<tr class=\"detail\"").count(),
        report.results.len()
    );
    for r in &report.results {
        assert!(page.contains(&format!("<span class=\"id\">{}</span>", r.check)));
    }
    let summary = &report.summary;
    for (status, n) in [
        ("fail", summary.fail),
        ("missing", summary.missing),
        ("unknown", summary.unknown),
        ("pass", summary.pass),
        ("skipped", summary.skipped),
        ("suppressed", 1),
    ] {
        assert!(
            page.contains(&format!(
                "data-filter-status=\"{status}\" aria-pressed=\"false\"><span class=\"n\">{n}</span>"
            )),
            "summary card for {status}"
        );
    }
    assert!(page.contains("rerun with --cc-sku DYN365_CUSTOMER_SERVICE_PREMIUM</td>"));
    assert!(page.contains("<strong>Suppressed:</strong> operator ticket OC-4711"));
    assert!(page.contains("suppression for RA-001 (ccaudit.yaml:12) matched no result"));
    assert!(page.contains("<pre class=\"remediation\">"));
    assert!(page.contains("@media print"));
}

#[test]
fn html_lists_failures_first() {
    let page = html::render(&field_case());
    let statuses: Vec<&str> = page
        .match_indices("data-status=\"")
        .map(|(i, m)| {
            let rest = &page[i + m.len()..];
            &rest[..rest.find('"').expect("attribute closes")]
        })
        .collect();
    let rank = |s: &str| {
        ["fail", "missing", "unknown", "pass", "skipped"]
            .iter()
            .position(|x| *x == s)
            .expect("a known status")
    };
    assert!(
        statuses.windows(2).all(|w| rank(w[0]) <= rank(w[1])),
        "{statuses:?}"
    );
}
