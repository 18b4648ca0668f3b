//! The terminal report: grouped by area, one row per check × subject, remediation under each
//! finding, suppressed results with their reason, a summary line and the run's warnings. Colour
//! is decided by the caller's stream (anstream strips it when stdout is not a terminal or
//! NO_COLOR is set).
//!
//! Every line fits the width the report is rendered for (`terminal_width`): the subject and
//! result columns share what the other columns leave and wrap at spaces, and long paths and ids
//! at their separators; the lines under the tables wrap with an indent. Tenant text goes through
//! `text::for_terminal`, so no control character in it reaches the terminal.

use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};
use tabled::builder::Builder;
use tabled::settings::Style as TableStyle;

use super::Report;
use super::text::{self, for_terminal, wrap, wrap_indented};
use crate::engine::{CheckResult, Status};

/// Areas in the order an admin should work through them.
pub use crate::engine::check::AREAS as AREA_ORDER;

/// Width when stdout is not a terminal and `COLUMNS` is not set.
pub const DEFAULT_WIDTH: usize = 100;
/// Narrowest width rendered: below it the table could not hold its fixed columns.
pub const MIN_WIDTH: usize = 60;
const MAX_WIDTH: usize = 1000;

/// The width to render for: `COLUMNS` when set to a number, else the width of the terminal on
/// stdout, else `DEFAULT_WIDTH`; at least `MIN_WIDTH`.
pub fn terminal_width() -> usize {
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|c| *c > 0);
    let terminal = || {
        terminal_size::terminal_size_of(std::io::stdout())
            .map(|(terminal_size::Width(w), _)| usize::from(w))
            .filter(|w| *w > 0)
    };
    columns
        .or_else(terminal)
        .unwrap_or(DEFAULT_WIDTH)
        .clamp(MIN_WIDTH, MAX_WIDTH)
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

/// Renders the report for the terminal's width (`terminal_width`).
pub fn render(report: &Report) -> String {
    render_width(report, terminal_width())
}

/// `s` wrapped, then its leading `word` painted.
fn painted_prefix(wrapped: String, word: &str, style: Style) -> String {
    match wrapped.strip_prefix(word) {
        Some(rest) => format!("{style}{word}{style:#}{rest}"),
        None => wrapped,
    }
}

/// Column widths for one area's table.
struct Layout {
    /// Severity shares the check column (under the id) when the terminal is narrow.
    severity_column: bool,
    subject: usize,
    result: usize,
}

impl Layout {
    fn of(results: &[&CheckResult], width: usize) -> Layout {
        let widest = |header: &str, cells: &mut dyn Iterator<Item = String>| {
            cells
                .flat_map(|c| c.lines().map(text::width).collect::<Vec<_>>())
                .chain([text::width(header)])
                .max()
                .unwrap_or(0)
        };
        let status = if results.iter().any(|r| r.suppressed.is_some()) {
            "suppressed".len()
        } else {
            "unknown".len()
        };
        let check = widest("check", &mut results.iter().map(|r| r.check.clone()));
        let severity = "severity".len();
        let subject = widest("subject", &mut results.iter().map(|r| subject_name(r)));
        let result = widest(
            "result",
            &mut results
                .iter()
                .map(|r| for_terminal(&r.message).into_owned()),
        );
        // `│ a │ b │ … │`: three columns of border and padding per column, and one.
        let with_severity = width.saturating_sub(3 * 5 + 1 + status + check + severity);
        let (severity_column, available) =
            if with_severity >= 60 || subject + result <= with_severity {
                (true, with_severity)
            } else {
                (
                    false,
                    width.saturating_sub(3 * 4 + 1 + status + check.max(severity)),
                )
            };
        let available = available.max(16);
        if subject + result <= available {
            return Layout {
                severity_column,
                subject,
                result: available - subject,
            };
        }
        let mut subject_w = subject.min((available * 9 / 20).max(12));
        let result_w = (available - subject_w).min(result);
        subject_w = subject.min(available - result_w);
        Layout {
            severity_column,
            subject: subject_w,
            result: available - subject_w,
        }
    }
}

fn subject_name(r: &CheckResult) -> String {
    r.subject
        .as_ref()
        .map(|s| for_terminal(&s.name).into_owned())
        .unwrap_or_else(|| "tenant".into())
}

fn table(results: &[&CheckResult], width: usize) -> String {
    let layout = Layout::of(results, width);
    let mut builder = Builder::default();
    let mut header = vec!["status", "check"];
    if layout.severity_column {
        header.push("severity");
    }
    header.extend(["subject", "result"]);
    builder.push_record(header);
    for r in results {
        // A suppressed result keeps its verdict; the second line says it is accepted.
        let status = match r.suppressed {
            Some(_) => format!("{}\nsuppressed", painted(r.status)),
            None => painted(r.status),
        };
        let mut row = vec![status];
        if layout.severity_column {
            row.push(r.check.clone());
            row.push(r.severity.as_str().into());
        } else {
            row.push(format!("{}\n{}", r.check, r.severity.as_str()));
        }
        row.push(wrap(&subject_name(r), layout.subject).join("\n"));
        row.push(wrap(&for_terminal(&r.message), layout.result).join("\n"));
        builder.push_record(row);
    }
    let mut table = builder.build();
    table.with(TableStyle::sharp());
    table.to_string()
}

/// The lines of `text` with prose joined: a line that does not start with a space continues
/// the one before it when that one did not either and does not end a sentence with `:`.
fn paragraphs(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut joinable = false;
    for line in text.trim_end().lines() {
        let prose = !line.is_empty() && !line.starts_with(' ');
        match out.last_mut() {
            Some(last) if joinable && prose => {
                last.push(' ');
                last.push_str(line);
            }
            _ => out.push(line.to_string()),
        }
        joinable = prose && !line.ends_with(':');
    }
    out
}

/// Renders the report so that no line is wider than `width` columns (at least `MIN_WIDTH`).
/// ANSI colour codes are always emitted and stripped by the output stream when colour is off.
pub fn render_width(report: &Report, width: usize) -> String {
    let width = width.max(MIN_WIDTH);
    let mut out = String::new();
    let line = |out: &mut String, text: &str, indent: &str| {
        let _ = writeln!(out, "{}", wrap_indented(text, width, "", indent));
    };
    let tenant = for_terminal(report.tenant.name.as_deref().unwrap_or(&report.tenant.id));
    line(
        &mut out,
        &format!(
            "ccaudit {} — tenant {} ({}), {} collected {}",
            report.tool.version,
            tenant,
            for_terminal(&report.tenant.id),
            for_terminal(&report.source),
            for_terminal(&report.collected_at)
        ),
        "  ",
    );
    out.push('\n');
    let mut areas: Vec<&str> = report.results.iter().map(|r| r.area.as_str()).collect();
    areas.sort_by_key(|a| (area_rank(a), a.to_string()));
    areas.dedup();
    for area in areas {
        let results: Vec<&CheckResult> = report.results.iter().filter(|r| r.area == area).collect();
        let _ = writeln!(out, "== {area} ==");
        let _ = writeln!(out, "{}", table(&results, width));
        for r in results.iter().filter(|r| {
            matches!(r.status, Status::Fail | Status::Missing | Status::Unknown)
                && r.suppressed.is_none()
        }) {
            let subject = r
                .subject
                .as_ref()
                .map(|s| format!(" [{}]", for_terminal(&s.name)))
                .unwrap_or_default();
            let status = r.status.as_str().to_uppercase();
            let head = wrap_indented(
                &format!("{status} {}{subject}: {}", r.check, for_terminal(&r.title)),
                width,
                "",
                "    ",
            );
            let _ = writeln!(out, "{}", painted_prefix(head, &status, style(r.status)));
            if let Some(rem) = &r.remediation {
                // A line of the remediation keeps its own indent, and its continuation lines
                // hang two columns deeper; prose broken over lines in the check file is one
                // paragraph here, wrapped to the width.
                for l in paragraphs(&for_terminal(rem)) {
                    let _ = writeln!(out, "{}", wrap_indented(&l, width, "    ", "      "));
                }
            }
            if let Some(needs) = &r.needs {
                line(
                    &mut out,
                    &format!("    grant: {}", for_terminal(needs)),
                    "      ",
                );
            }
            if let Some(doc) = r.docs.first().filter(|_| r.status != Status::Unknown) {
                line(
                    &mut out,
                    &format!("    docs: {}", for_terminal(doc)),
                    "      ",
                );
            }
        }
        for r in &results {
            let Some(s) = &r.suppressed else { continue };
            let subject = r
                .subject
                .as_ref()
                .map(|s| format!(" [{}]", for_terminal(&s.name)))
                .unwrap_or_default();
            let until = s
                .expires
                .as_deref()
                .map(|d| format!(" (until {})", for_terminal(d)))
                .unwrap_or_default();
            let status = r.status.as_str().to_uppercase();
            let head = wrap_indented(
                &format!(
                    "SUPPRESSED {status} {}{subject}: {}{until}",
                    r.check,
                    for_terminal(&s.reason)
                ),
                width,
                "",
                "    ",
            );
            let head = match head.strip_prefix("SUPPRESSED ") {
                Some(rest) => format!(
                    "SUPPRESSED {}",
                    painted_prefix(rest.to_string(), &status, style(r.status))
                ),
                None => head,
            };
            let _ = writeln!(out, "{head}");
        }
        out.push('\n');
    }
    let s = &report.summary;
    let mut summary = format!(
        "summary: {} pass, {} fail, {} missing, {} unknown, {} skipped",
        s.pass, s.fail, s.missing, s.unknown, s.skipped
    );
    if s.suppressed > 0 {
        let _ = write!(summary, "; {} of them suppressed", s.suppressed);
    }
    line(&mut out, &summary, "  ");
    let warn = Style::new().fg_color(Some(AnsiColor::Yellow.into())).bold();
    for w in &report.warnings {
        let wrapped = wrap_indented(&format!("warning: {}", for_terminal(w)), width, "", "  ");
        let _ = writeln!(out, "{}", painted_prefix(wrapped, "warning", warn));
    }
    for d in &report.data_quality {
        let wrapped = wrap_indented(
            &format!("data quality: {}", for_terminal(&d.line())),
            width,
            "",
            "  ",
        );
        let _ = writeln!(out, "{}", painted_prefix(wrapped, "data quality", warn));
    }
    out
}
