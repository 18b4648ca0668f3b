//! The HTML report: one self-contained file (inline CSS and JS, no fonts, no CDN) that an admin
//! can mail to a customer or attach to a ticket. A summary by status and area, then a results
//! table that filters and sorts in the browser, with each result's remediation, docs, basis,
//! what to grant for unknowns and its suppression. Without JavaScript, and when printed, every
//! result and every detail is shown.
//!
//! The template is rendered by minijinja under a `.html` name, which turns autoescaping on: all
//! report text is escaped, and only our own CSS and JS are inserted raw.

use minijinja::{Environment, value::Serde};
use serde::Serialize;

use super::Report;
use crate::engine::{CheckResult, Severity, Status, Subject, Suppressed};
use crate::trace::{self, CallPath, svg};

const TEMPLATE_NAME: &str = "report.html";
const TEMPLATE: &str = include_str!("assets/report.html");
const STYLE: &str = include_str!("assets/report.css");
const SCRIPT: &str = include_str!("assets/report.js");

/// Status order everywhere in the page: findings first.
const STATUSES: [Status; 5] = [
    Status::Fail,
    Status::Missing,
    Status::Unknown,
    Status::Pass,
    Status::Skipped,
];

/// Most severe first.
const SEVERITIES: [Severity; 5] = [
    Severity::Critical,
    Severity::High,
    Severity::Medium,
    Severity::Low,
    Severity::Info,
];

#[derive(Serialize)]
struct Page<'a> {
    tenant_name: &'a str,
    tenant_id: &'a str,
    cloud: &'a str,
    source: &'a str,
    collected_at: &'a str,
    tool: &'a str,
    version: &'a str,
    total: usize,
    verdict: Verdict,
    statuses: Vec<StatusCount>,
    suppressed: usize,
    areas: Vec<AreaCount<'a>>,
    severities: Vec<&'static str>,
    results: Vec<Row<'a>>,
    warnings: &'a [String],
    data_quality: Vec<String>,
    /// Broken and unknown paths, worst first; the first is also drawn in the summary.
    paths_attention: Vec<PathView>,
    /// Paths clear end to end, folded away.
    paths_clear: Vec<PathView>,
    paths_total: usize,
    paths_attention_count: usize,
    paths_clear_count: usize,
    style: &'static str,
    diagram_style: &'static str,
    script: &'static str,
}

/// The one-line answer at the top: is there anything to fix?
#[derive(Serialize)]
struct Verdict {
    /// `fail`, `unknown` or `pass`: the colour of the banner.
    kind: &'static str,
    text: String,
}

#[derive(Serialize)]
struct StatusCount {
    status: &'static str,
    count: usize,
}

#[derive(Serialize)]
struct AreaCount<'a> {
    area: &'a str,
    /// In `STATUSES` order, with the share of the area's results for the bar.
    counts: Vec<Segment>,
    total: usize,
}

#[derive(Serialize)]
struct Segment {
    status: &'static str,
    count: usize,
    percent: String,
}

#[derive(Serialize)]
struct PathView {
    /// The diagram, an inline `<svg>` of our own markup with all text escaped.
    svg: String,
}

#[derive(Serialize)]
struct Row<'a> {
    /// The result's index in `Report::results`: its anchor (`result-N`), which hops link to.
    index: usize,
    status: &'static str,
    status_rank: usize,
    severity: &'static str,
    severity_rank: usize,
    area: &'a str,
    area_rank: usize,
    check: &'a str,
    title: &'a str,
    basis: &'static str,
    subject: Option<&'a Subject>,
    message: &'a str,
    remediation: Option<&'a str>,
    needs: Option<&'a str>,
    docs: Vec<Doc<'a>>,
    error_codes: &'a [String],
    suppressed: Option<&'a Suppressed>,
    /// Details start expanded for what needs attention.
    open: bool,
}

#[derive(Serialize)]
struct Doc<'a> {
    /// Only plain web URLs become links; anything else is shown as text.
    href: Option<&'a str>,
    text: &'a str,
}

pub fn render(report: &Report) -> String {
    let page = page(report);
    let mut env = Environment::new();
    env.add_template(TEMPLATE_NAME, TEMPLATE)
        .expect("the built-in HTML template parses");
    let html = env
        .get_template(TEMPLATE_NAME)
        .and_then(|t| t.render(Serde(&page)))
        .expect("the built-in HTML template renders");
    // Autoescaping covers markup, not control characters (a display name with an escape
    // sequence): those are written as visible escapes.
    super::text::neutralize(&html).into_owned()
}

fn page(report: &Report) -> Page<'_> {
    let results = &report.results;
    let count = |status: Status| results.iter().filter(|r| r.status == status).count();
    let active = |status: Status| {
        results
            .iter()
            .filter(|r| r.status == status && r.suppressed.is_none())
            .count()
    };

    let mut areas: Vec<&str> = results.iter().map(|r| r.area.as_str()).collect();
    areas.sort_by_key(|a| (area_rank(a), *a));
    areas.dedup();
    let areas = areas
        .into_iter()
        .map(|area| {
            let in_area: Vec<&CheckResult> = results.iter().filter(|r| r.area == area).collect();
            let total = in_area.len();
            let counts = STATUSES
                .iter()
                .map(|&status| {
                    let count = in_area.iter().filter(|r| r.status == status).count();
                    Segment {
                        status: status.as_str(),
                        count,
                        percent: format!("{:.2}", 100.0 * count as f64 / total.max(1) as f64),
                    }
                })
                .collect();
            AreaCount {
                area,
                counts,
                total,
            }
        })
        .collect();

    let mut rows: Vec<(usize, &CheckResult)> = results.iter().enumerate().collect();
    rows.sort_by_key(|(_, r)| (r.status, area_rank(&r.area)));
    let (paths_attention, paths_clear) = path_views(&report.call_paths);

    Page {
        tenant_name: report.tenant.name.as_deref().unwrap_or(&report.tenant.id),
        tenant_id: &report.tenant.id,
        cloud: &report.tenant.cloud,
        source: &report.source,
        collected_at: &report.collected_at,
        tool: &report.tool.name,
        version: &report.tool.version,
        total: results.len(),
        verdict: verdict(
            active(Status::Fail) + active(Status::Missing),
            active(Status::Unknown),
        ),
        statuses: STATUSES
            .iter()
            .map(|&status| StatusCount {
                status: status.as_str(),
                count: count(status),
            })
            .collect(),
        suppressed: results.iter().filter(|r| r.suppressed.is_some()).count(),
        areas,
        severities: SEVERITIES
            .iter()
            .filter(|s| results.iter().any(|r| r.severity == **s))
            .map(|s| s.as_str())
            .collect(),
        results: rows.into_iter().map(|(i, r)| row(i, r)).collect(),
        warnings: &report.warnings,
        data_quality: report.data_quality.iter().map(|d| d.line()).collect(),
        paths_total: report.call_paths.len(),
        paths_attention_count: paths_attention.len(),
        paths_clear_count: paths_clear.len(),
        paths_attention,
        paths_clear,
        style: STYLE,
        diagram_style: svg::STYLE,
        script: SCRIPT,
    }
}

fn verdict(findings: usize, unknown: usize) -> Verdict {
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let unread = plural(
        unknown,
        "check could not be read",
        "checks could not be read",
    );
    match (findings, unknown) {
        (0, 0) => Verdict {
            kind: "pass",
            text: "No failing or missing prerequisites.".into(),
        },
        (0, _) => Verdict {
            kind: "unknown",
            text: format!("No failing or missing prerequisites found, but {unread}."),
        },
        (_, 0) => Verdict {
            kind: "fail",
            text: format!("{} to fix.", plural(findings, "finding", "findings")),
        },
        _ => Verdict {
            kind: "fail",
            text: format!(
                "{} to fix; {unread}.",
                plural(findings, "finding", "findings")
            ),
        },
    }
}

/// The paths that need attention, worst first (most broken hops, then most unknown ones, then
/// by number), and the clear ones by number.
fn path_views(paths: &[CallPath]) -> (Vec<PathView>, Vec<PathView>) {
    let mut ordered: Vec<&CallPath> = paths.iter().collect();
    ordered.sort_by(|a, b| {
        trace::severity(b)
            .cmp(&trace::severity(a))
            .then_with(|| a.number.cmp(&b.number))
    });
    let view = |p: &CallPath| PathView {
        svg: svg::render_inline(p),
    };
    let (attention, clear): (Vec<&CallPath>, Vec<&CallPath>) = ordered
        .into_iter()
        .partition(|p| trace::severity(p) != (0, 0));
    (
        attention.into_iter().map(view).collect(),
        clear.into_iter().map(view).collect(),
    )
}

fn row(index: usize, r: &CheckResult) -> Row<'_> {
    Row {
        index,
        status: r.status.as_str(),
        status_rank: STATUSES.iter().position(|s| *s == r.status).unwrap_or(0),
        severity: r.severity.as_str(),
        severity_rank: SEVERITIES
            .iter()
            .position(|s| *s == r.severity)
            .unwrap_or(0),
        area: &r.area,
        area_rank: area_rank(&r.area),
        check: &r.check,
        title: &r.title,
        basis: r.basis.as_str(),
        subject: r.subject.as_ref(),
        message: &r.message,
        remediation: r.remediation.as_deref().map(str::trim_end),
        needs: r.needs.as_deref(),
        docs: r
            .docs
            .iter()
            .map(|d| Doc {
                href: is_web_url(d).then_some(d.as_str()),
                text: d,
            })
            .collect(),
        error_codes: &r.error_codes,
        suppressed: r.suppressed.as_ref(),
        open: matches!(r.status, Status::Fail | Status::Missing | Status::Unknown)
            && r.suppressed.is_none(),
    }
}

use crate::engine::check::area_rank;

fn is_web_url(url: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://"))
        && !url.contains(|c: char| c.is_whitespace() || c == '"' || c == '<' || c == '>')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::sample;

    #[test]
    fn verdict_leads_with_findings_then_unreadable_checks() {
        assert_eq!(verdict(0, 0).kind, "pass");
        assert_eq!(
            verdict(0, 2).text,
            "No failing or missing prerequisites found, but 2 checks could not be read."
        );
        assert_eq!(
            verdict(6, 1).text,
            "6 findings to fix; 1 check could not be read."
        );
        assert_eq!(verdict(1, 0).text, "1 finding to fix.");
    }

    #[test]
    fn only_web_urls_become_links() {
        assert!(is_web_url("https://learn.microsoft.com/x"));
        assert!(!is_web_url("javascript:alert(1)"));
    }

    #[test]
    fn call_paths_broken_first_hops_linked_clear_ones_folded_and_the_worst_in_the_summary() {
        let html = render(&sample::report(vec![sample::clear(), sample::field_case()]));
        let section = &html[html.find("<section class=\"paths\"").expect("the section")..];
        let broken = section
            .find("+14255550150 ✘ breaks at Number")
            .expect("the broken path");
        let details = section
            .find("<details class=\"clear-paths\">")
            .expect("folded");
        assert!(broken < details);
        assert!(section[details..].contains("+14255550100 ✔ clear"));
        // The summary shows the worst path before the results table.
        let worst = html.find("class=\"worst-path\"").expect("the worst path");
        assert!(worst < html.find("<section class=\"paths\"").unwrap());
        // Every hop links to a result row that exists.
        for link in html.match_indices("<a href=\"#result-") {
            let id = &html[link.0 + 10..];
            let id = &id[..id.find('"').unwrap()];
            assert!(html.contains(&format!(" id=\"{id}\" data-index=")), "{id}");
        }
    }

    #[test]
    fn without_breaks_the_section_is_folded_to_all_clear() {
        let html = render(&sample::report(vec![sample::clear()]));
        assert!(html.contains("<summary>All clear: 1 number with every hop clear</summary>"));
        assert!(!html.contains("class=\"worst-path\""));
        let none = render(&sample::report(Vec::new()));
        assert!(!none.contains("<section class=\"paths\""));
    }

    #[test]
    fn five_hundred_numbers_keep_the_report_under_five_megabytes() {
        let mut report = sample::report(Vec::new());
        report.call_paths = sample::many(500, report.results.len());
        let without = render(&sample::report(Vec::new())).len();
        let html = render(&report);
        eprintln!(
            "HTML report with 500 call paths: {} bytes ({} without them)",
            html.len(),
            without
        );
        assert!(html.len() < 5_000_000, "{} bytes", html.len());
    }

    #[test]
    fn the_script_cannot_close_its_own_element() {
        assert!(!SCRIPT.to_ascii_lowercase().contains("</script"));
        assert!(!STYLE.to_ascii_lowercase().contains("</style"));
    }
}
