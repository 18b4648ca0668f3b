//! The JUnit XML report, for the test views of Azure DevOps, GitHub and GitLab: one test suite
//! per area and one test case per check × subject, so a prerequisite's history is tracked under
//! a stable name (`classname` = area, `name` = `CHECK-ID subject`).
//!
//! fail and missing are failures (the body is the remediation), unknown is an error (the body
//! says what to grant), skipped is skipped, and a suppressed result is skipped with its reason
//! whatever its verdict. quick-junit does the XML escaping.

use quick_junit::{NonSuccessKind, Property, Report as Junit, TestCase, TestCaseStatus, TestSuite};

use super::table::AREA_ORDER;
use super::{Report, text};
use crate::engine::{CheckResult, Status};

pub fn render(report: &Report) -> String {
    let tenant = &report.tenant;
    let mut junit = Junit::new(clean(format!(
        "ccaudit {} ({}) {} {}",
        tenant.name.as_deref().unwrap_or(&tenant.id),
        tenant.id,
        report.source,
        report.collected_at
    )));
    let mut areas: Vec<&str> = report.results.iter().map(|r| r.area.as_str()).collect();
    areas.sort_by_key(|a| {
        let rank = AREA_ORDER
            .iter()
            .position(|o| o == a)
            .unwrap_or(AREA_ORDER.len());
        (rank, *a)
    });
    areas.dedup();
    for area in areas {
        let mut suite = TestSuite::new(clean(area));
        suite.add_properties([
            Property::new("tenant.id", clean(&tenant.id)),
            Property::new("tenant.name", clean(tenant.name.as_deref().unwrap_or(""))),
            Property::new("tenant.cloud", clean(&tenant.cloud)),
            Property::new("source", clean(&report.source)),
            Property::new("collected_at", clean(&report.collected_at)),
            Property::new(
                "tool",
                format!("{} {}", report.tool.name, report.tool.version),
            ),
        ]);
        suite.add_test_cases(
            report
                .results
                .iter()
                .filter(|r| r.area == area)
                .map(test_case),
        );
        junit.add_test_suite(suite);
    }
    junit
        .to_string()
        .expect("an in-memory JUnit report serialises")
}

/// Text for the XML: XML 1.0 allows no control character but tab, newline and carriage
/// return, not even as a character reference, and quick-junit drops them with what follows an
/// escape sequence, silently. Tenant text's are written as visible escapes instead.
fn clean(s: impl AsRef<str>) -> String {
    text::neutralize(s.as_ref()).into_owned()
}

fn test_case(r: &CheckResult) -> TestCase {
    let name = match &r.subject {
        Some(subject) => format!("{} {}", r.check, subject.name),
        None => r.check.clone(),
    };
    let mut case = TestCase::new(clean(name), status(r));
    case.set_classname(clean(&r.area));
    if r.status == Status::Pass && r.suppressed.is_none() {
        case.set_system_out(clean(&r.message));
    }
    case
}

fn status(r: &CheckResult) -> TestCaseStatus {
    if let Some(suppressed) = &r.suppressed {
        let mut status = TestCaseStatus::skipped();
        let expires = suppressed
            .expires
            .as_deref()
            .map(|e| format!(" (expires {e})"))
            .unwrap_or_default();
        status
            .set_type("suppressed")
            .set_message(clean(format!("suppressed: {}{expires}", suppressed.reason)))
            .set_description(clean(format!("{}: {}", r.status.as_str(), r.message)));
        return status;
    }
    match r.status {
        Status::Pass => TestCaseStatus::success(),
        Status::Fail | Status::Missing => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status
                .set_type(r.status.as_str())
                .set_message(clean(&r.message))
                .set_description(clean(failure_body(r)));
            status
        }
        Status::Unknown => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            // What to grant, when a permission would make it known; otherwise the message
            // says what to do (a flag to pass, data to check).
            let description = match r.needs.as_deref() {
                Some(needs) => format!("{}\ngrant: {needs}", r.title),
                None => r.title.clone(),
            };
            status
                .set_type("unknown")
                .set_message(clean(&r.message))
                .set_description(clean(description));
            status
        }
        Status::Skipped => {
            let mut status = TestCaseStatus::skipped();
            status.set_type("skipped").set_message(clean(&r.message));
            status
        }
    }
}

/// What a CI viewer shows when the failure is expanded: the check's title and its remediation,
/// then where it is documented and how sure we are.
fn failure_body(r: &CheckResult) -> String {
    let mut body = format!("{}\n", r.title);
    if let Some(remediation) = &r.remediation {
        body.push_str(remediation.trim_end());
        body.push('\n');
    }
    for doc in &r.docs {
        body.push_str(&format!("docs: {doc}\n"));
    }
    body.push_str(&format!(
        "severity: {}, basis: {}",
        r.severity.as_str(),
        r.basis.as_str()
    ));
    body
}
