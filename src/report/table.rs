//! The terminal report: grouped by area, one row per check × subject, remediation under each
//! finding, suppressed results with their reason, a summary line and the run's warnings. Colour is decided by the caller's stream (anstream strips it
//! when stdout is not a terminal or NO_COLOR is set).

use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};
use tabled::settings::object::Columns;
use tabled::settings::{Modify, Style as TableStyle, Width};
use tabled::{Table, Tabled};

use super::Report;
use crate::engine::{CheckResult, Status};

/// Areas in the order an admin should work through them.
pub use crate::engine::check::AREAS as AREA_ORDER;

const SUBJECT_WIDTH: usize = 36;
const MESSAGE_WIDTH: usize = 60;

#[derive(Tabled)]
struct Row {
    #[tabled(rename = "status")]
    status: String,
    #[tabled(rename = "check")]
    check: String,
    #[tabled(rename = "severity")]
    severity: String,
    #[tabled(rename = "subject")]
    subject: String,
    #[tabled(rename = "result")]
    message: String,
}

fn style(status: Status) -> Style {
    let color = match status {
        Status::Pass => AnsiColor::Green,
        Status::Fail | Status::Missing => AnsiColor::Red,
        Status::Unknown => AnsiColor::Yellow,
        Status::Skipped => AnsiColor::BrightBlack,
    };
    Style::new().fg_color(Some(color.into())).bold()
}

fn painted(status: Status) -> String {
    let s = style(status);
    format!("{s}{}{s:#}", status.as_str().to_uppercase())
}

use crate::engine::check::area_rank;

/// Renders the report; ANSI colour codes are always emitted and stripped by the output stream
/// when colour is off.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let tenant = report.tenant.name.as_deref().unwrap_or(&report.tenant.id);
    let _ = writeln!(
        out,
        "ccaudit {} — tenant {} ({}), {} collected {}\n",
        report.tool.version, tenant, report.tenant.id, report.source, report.collected_at
    );
    let mut areas: Vec<&str> = report.results.iter().map(|r| r.area.as_str()).collect();
    areas.sort_by_key(|a| (area_rank(a), a.to_string()));
    areas.dedup();
    for area in areas {
        let results: Vec<&CheckResult> = report.results.iter().filter(|r| r.area == area).collect();
        let _ = writeln!(out, "== {area} ==");
        let rows: Vec<Row> = results
            .iter()
            .map(|r| Row {
                // A suppressed result keeps its verdict; the second line says it is accepted.
                status: match r.suppressed {
                    Some(_) => format!("{}\nsuppressed", painted(r.status)),
                    None => painted(r.status),
                },
                check: r.check.clone(),
                severity: r.severity.as_str().into(),
                subject: r
                    .subject
                    .as_ref()
                    .map(|s| s.name.clone())
                    .unwrap_or_else(|| "tenant".into()),
                message: r.message.clone(),
            })
            .collect();
        let mut table = Table::new(rows);
        // Long messages wrap inside their cell so the table stays readable in an 120-column
        // terminal; the full text is also in the JSON report.
        table
            .with(TableStyle::sharp())
            .with(Modify::new(Columns::one(3)).with(Width::wrap(SUBJECT_WIDTH)))
            .with(Modify::new(Columns::one(4)).with(Width::wrap(MESSAGE_WIDTH).keep_words(true)));
        let _ = writeln!(out, "{table}");
        for r in results.iter().filter(|r| {
            matches!(r.status, Status::Fail | Status::Missing | Status::Unknown)
                && r.suppressed.is_none()
        }) {
            let subject = r
                .subject
                .as_ref()
                .map(|s| format!(" [{}]", s.name))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "{} {}{}: {}",
                painted(r.status),
                r.check,
                subject,
                r.title
            );
            if let Some(rem) = &r.remediation {
                for line in rem.trim_end().lines() {
                    let _ = writeln!(out, "    {line}");
                }
            }
            if let Some(needs) = &r.needs {
                let _ = writeln!(out, "    grant: {needs}");
            }
            if let Some(doc) = r.docs.first().filter(|_| r.status != Status::Unknown) {
                let _ = writeln!(out, "    docs: {doc}");
            }
        }
        for r in &results {
            let Some(s) = &r.suppressed else { continue };
            let subject = r
                .subject
                .as_ref()
                .map(|s| format!(" [{}]", s.name))
                .unwrap_or_default();
            let until = s
                .expires
                .as_deref()
                .map(|d| format!(" (until {d})"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "SUPPRESSED {} {}{}: {}{until}",
                painted(r.status),
                r.check,
                subject,
                s.reason
            );
        }
        out.push('\n');
    }
    let s = &report.summary;
    let _ = write!(
        out,
        "summary: {} pass, {} fail, {} missing, {} unknown, {} skipped",
        s.pass, s.fail, s.missing, s.unknown, s.skipped
    );
    if s.suppressed > 0 {
        let _ = write!(out, "; {} of them suppressed", s.suppressed);
    }
    out.push('\n');
    let warn = Style::new().fg_color(Some(AnsiColor::Yellow.into())).bold();
    for w in &report.warnings {
        let _ = writeln!(out, "{warn}warning{warn:#}: {w}");
    }
    for d in &report.data_quality {
        let _ = writeln!(out, "{warn}data quality{warn:#}: {}", d.line());
    }
    out
}
