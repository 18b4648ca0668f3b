//! The Markdown report, for a ticket or a GitHub Actions step summary: what to fix comes first
//! (fail, then missing, each with its remediation as a code block), then what could not be read
//! and what to grant, then everything that passed or was skipped folded away in `<details>`.
//! Suppressed results are listed on their own with the reason, never among the findings.

use std::fmt::Write as _;

use super::Report;
use super::table::AREA_ORDER;
use crate::engine::{CheckResult, Status};
use crate::trace::{self, CallPath, draw, mermaid};

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    header(&mut out, report);

    let active: Vec<&CheckResult> = ordered(report)
        .into_iter()
        .filter(|r| r.suppressed.is_none())
        .collect();
    let of = |status: Status| -> Vec<&CheckResult> {
        active
            .iter()
            .copied()
            .filter(|r| r.status == status)
            .collect()
    };
    let (fail, missing, unknown) = (of(Status::Fail), of(Status::Missing), of(Status::Unknown));

    if fail.is_empty() && missing.is_empty() {
        out.push_str("No failing or missing prerequisites.\n\n");
    }
    broken_paths(&mut out, report);
    findings(
        &mut out,
        "Fail",
        "The prerequisite exists but is configured wrongly.",
        &fail,
    );
    findings(
        &mut out,
        "Missing",
        "The prerequisite object does not exist.",
        &missing,
    );
    unknowns(&mut out, &unknown);
    passed_and_skipped(&mut out, &active);
    suppressed(&mut out, report);
    warnings(&mut out, report);
    data_quality(&mut out, report);
    // Tenant text may hold control characters (a display name with an escape sequence): none
    // reaches the document, which is read in terminals and CI logs too.
    super::text::neutralize(&out).into_owned()
}

/// Results in the order an admin works through them: by status (fail, missing, unknown, pass,
/// skipped), then by area in `AREA_ORDER`, then in the report's own order (check id, subject).
fn ordered(report: &Report) -> Vec<&CheckResult> {
    let mut results: Vec<&CheckResult> = report.results.iter().collect();
    results.sort_by_key(|r| {
        let area = AREA_ORDER
            .iter()
            .position(|a| *a == r.area)
            .unwrap_or(AREA_ORDER.len());
        (r.status, area)
    });
    results
}

/// At most this many diagrams: a step summary or ticket stays readable (and under GitHub's 1 MB
/// step-summary limit) when hundreds of numbers break; the rest are counted.
const MAX_DIAGRAMS: usize = 20;

/// The broken call paths, worst first, each as a mermaid diagram with where it breaks first and
/// the fix.
fn broken_paths(out: &mut String, report: &Report) {
    let mut broken: Vec<&CallPath> = report
        .call_paths
        .iter()
        .filter(|p| trace::first_break(p).is_some())
        .collect();
    if broken.is_empty() {
        return;
    }
    broken.sort_by(|a, b| {
        trace::severity(b)
            .cmp(&trace::severity(a))
            .then_with(|| a.number.cmp(&b.number))
    });
    let _ = writeln!(
        out,
        "## Call paths that break ({})\n\nFrom the number to the agent: ✘ broken, ✔ clear, ? unknown, \
         – not traced; hops after a break are not reached.\n",
        broken.len()
    );
    for path in broken.iter().take(MAX_DIAGRAMS) {
        let _ = writeln!(out, "### {}\n", inline(&draw::title(path)));
        if let Some(fix) = trace::first_break(path).and_then(|h| h.fix.as_deref()) {
            let _ = writeln!(out, "**Fix first:** {}\n", inline(fix));
        }
        let _ = writeln!(
            out,
            "```mermaid\n{}```\n",
            mermaid::render(std::slice::from_ref(*path))
        );
    }
    if broken.len() > MAX_DIAGRAMS {
        let _ = writeln!(
            out,
            "{} more broken paths are drawn in the HTML report.\n",
            broken.len() - MAX_DIAGRAMS
        );
    }
}

fn header(out: &mut String, report: &Report) {
    let tenant = &report.tenant;
    let name = tenant.name.as_deref().unwrap_or(&tenant.id);
    let _ = writeln!(out, "# ccaudit report: {}\n", inline(name));
    let _ = writeln!(
        out,
        "**Tenant** {} ({}), {} cloud · **Source** {}, collected {} · **Tool** {} {}\n",
        inline(name),
        code(&tenant.id),
        inline(&tenant.cloud),
        inline(&report.source),
        inline(&report.collected_at),
        inline(&report.tool.name),
        inline(&report.tool.version)
    );

    let s = &report.summary;
    let suppressed = report
        .results
        .iter()
        .filter(|r| r.suppressed.is_some())
        .count();
    let _ = writeln!(
        out,
        "| fail | missing | unknown | pass | skipped | suppressed |\n|---:|---:|---:|---:|---:|---:|"
    );
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} | {} |\n",
        s.fail, s.missing, s.unknown, s.pass, s.skipped, suppressed
    );
    if suppressed > 0 {
        out.push_str(
            "Suppressed results are counted under their original status and listed under \
             \"Suppressed\", not among the findings.\n\n",
        );
    }
}

fn findings(out: &mut String, label: &str, meaning: &str, results: &[&CheckResult]) {
    if results.is_empty() {
        return;
    }
    let _ = writeln!(out, "## {label} ({})\n\n{meaning}\n", results.len());
    for r in results {
        let mut heading = format!("### {} · {}", r.status.as_str().to_uppercase(), r.check);
        if let Some(subject) = &r.subject {
            let _ = write!(heading, " · {}", code(&subject.name));
        }
        let _ = writeln!(out, "{heading}\n\n**{}**\n", inline(&r.title));
        let subject = r.subject.as_ref().map_or_else(
            || "tenant".to_string(),
            |s| format!("{} {}", inline(&s.kind), code(&s.name)),
        );
        let _ = writeln!(
            out,
            "Area {} · severity **{}** · basis {} · subject {subject}\n",
            code(&r.area),
            r.severity.as_str(),
            r.basis.as_str()
        );
        let _ = writeln!(out, "{}\n", inline(&r.message));
        if let Some(remediation) = &r.remediation {
            let _ = writeln!(out, "Remediation:\n\n{}\n", fenced(remediation));
        }
        if !r.docs.is_empty() {
            out.push_str("Docs:\n\n");
            for doc in &r.docs {
                let _ = writeln!(out, "- {}", link(doc));
            }
            out.push('\n');
        }
        if !r.error_codes.is_empty() {
            let codes: Vec<String> = r.error_codes.iter().map(|c| code(c)).collect();
            let _ = writeln!(out, "Error codes this causes: {}\n", codes.join(", "));
        }
    }
}

fn unknowns(out: &mut String, results: &[&CheckResult]) {
    if results.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "## Unknown ({})\n\nA fact these checks need could not be read. Grant what the last column \
         names and run the audit again.\n",
        results.len()
    );
    out.push_str("| check | severity | subject | why | grant |\n|---|---|---|---|---|\n");
    for r in results {
        let _ = writeln!(
            out,
            "| **{}** {} | {} | {} | {} | {} |",
            inline(&r.check),
            inline(&r.title),
            r.severity.as_str(),
            subject_cell(r),
            inline(&r.message),
            r.needs.as_deref().map_or_else(|| "—".into(), inline)
        );
    }
    out.push('\n');
}

fn passed_and_skipped(out: &mut String, active: &[&CheckResult]) {
    let rows: Vec<&CheckResult> = active
        .iter()
        .copied()
        .filter(|r| matches!(r.status, Status::Pass | Status::Skipped))
        .collect();
    if rows.is_empty() {
        return;
    }
    let pass = rows.iter().filter(|r| r.status == Status::Pass).count();
    let _ = writeln!(
        out,
        "## Passed and skipped ({})\n\n<details>\n<summary>{pass} pass, {} skipped</summary>\n",
        rows.len(),
        rows.len() - pass
    );
    out.push_str("| status | check | area | subject | result |\n|---|---|---|---|---|\n");
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            r.status.as_str(),
            inline(&r.check),
            inline(&r.area),
            subject_cell(r),
            inline(&r.message)
        );
    }
    out.push_str("\n</details>\n\n");
}

fn suppressed(out: &mut String, report: &Report) {
    let rows: Vec<&CheckResult> = ordered(report)
        .into_iter()
        .filter(|r| r.suppressed.is_some())
        .collect();
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "## Suppressed ({})\n\nCovered by a suppression in the configuration file; the status is \
         the verdict the audit reached.\n",
        rows.len()
    );
    out.push_str("| status | check | subject | result | reason | expires |\n");
    out.push_str("|---|---|---|---|---|---|\n");
    for r in rows {
        let Some(s) = &r.suppressed else { continue };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            r.status.as_str(),
            inline(&r.check),
            subject_cell(r),
            inline(&r.message),
            inline(&s.reason),
            s.expires.as_deref().map_or_else(|| "never".into(), inline)
        );
    }
    out.push('\n');
}

fn warnings(out: &mut String, report: &Report) {
    if report.warnings.is_empty() {
        return;
    }
    let _ = writeln!(out, "## Warnings ({})\n", report.warnings.len());
    for w in &report.warnings {
        let _ = writeln!(out, "- {}", inline(w));
    }
    out.push('\n');
}

/// Records that lacked fields and responses of an unexpected shape: what to paste into an
/// issue so the new shape becomes a fixture.
fn data_quality(out: &mut String, report: &Report) {
    if report.data_quality.is_empty() {
        return;
    }
    let _ = writeln!(out, "## Data quality ({})\n", report.data_quality.len());
    out.push_str("Data the audit received but did not understand (names only, no values):\n\n");
    for d in &report.data_quality {
        let _ = writeln!(out, "- {}", inline(&d.line()));
    }
    out.push('\n');
}

fn subject_cell(r: &CheckResult) -> String {
    r.subject
        .as_ref()
        .map_or_else(|| "tenant".into(), |s| inline(&s.name))
}

/// Escapes report text for use anywhere inline, table cells included: Markdown punctuation that
/// could start emphasis, links, code or HTML is backslash-escaped (`_` only where it could open
/// or close emphasis, so `ra_cc_main@contoso.com` stays readable), `|` cannot end a cell, and
/// line breaks become `<br>` so a multi-line value stays in its row.
fn inline(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '\\' | '`' | '*' | '[' | ']' | '|' => {
                out.push('\\');
                out.push(c);
            }
            '#' if i == 0 => out.push_str("\\#"),
            '_' => {
                let word = |j: Option<usize>| {
                    j.and_then(|j| chars.get(j))
                        .is_some_and(|c| c.is_alphanumeric())
                };
                if word(i.checked_sub(1)) && word(Some(i + 1)) {
                    out.push('_');
                } else {
                    out.push_str("\\_");
                }
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\r' => {}
            '\n' => out.push_str("<br>"),
            c => out.push(c),
        }
    }
    out
}

/// A code span that survives backticks in the value (the fence is longer than any run inside)
/// and stays on one line. Not for table cells: GitHub splits cells on `|` even inside code.
fn code(text: &str) -> String {
    let one_line = text.replace(['\r', '\n'], " ");
    let ticks = "`".repeat(longest_backtick_run(&one_line) + 1);
    let pad = if one_line.starts_with('`') || one_line.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{one_line}{pad}{ticks}")
}

/// A fenced code block whose fence cannot be closed by the content.
fn fenced(text: &str) -> String {
    let fence = "`".repeat((longest_backtick_run(text) + 1).max(3));
    format!("{fence}\n{}\n{fence}", text.trim_end())
}

fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// Docs are links only when they are plain web URLs; anything else is shown as text.
fn link(url: &str) -> String {
    let plain = (url.starts_with("https://") || url.starts_with("http://"))
        && !url.contains(|c: char| c.is_whitespace() || c == '<' || c == '>');
    if plain {
        format!("<{url}>")
    } else {
        inline(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::sample;

    #[test]
    fn broken_paths_are_embedded_as_mermaid_and_clear_ones_are_not() {
        let md = render(&sample::report(vec![sample::clear(), sample::field_case()]));
        assert_eq!(md.matches("```mermaid\nflowchart LR\n").count(), 1);
        assert!(md.contains("## Call paths that break (1)"));
        assert!(md.contains("### +14255550150 ✘ breaks at Number (NUM-002 fail)"));
        assert!(md.contains("**Fix first:** Ask the operator"));
        assert!(!md.contains("+14255550100 ✔"));
        let fence = &md[md.find("```mermaid").unwrap()..];
        assert!(fence[3..].contains("\n```\n"), "the fence closes");
    }

    #[test]
    fn many_broken_paths_are_capped() {
        let mut report = sample::report(Vec::new());
        report.call_paths = sample::many(100, report.results.len());
        let md = render(&report);
        assert_eq!(md.matches("```mermaid").count(), MAX_DIAGRAMS);
        assert!(md.contains("60 more broken paths are drawn in the HTML report."));
    }

    #[test]
    fn pipes_and_newlines_stay_inside_a_table_cell() {
        assert_eq!(inline("a | b\nc"), "a \\| b<br>c");
    }

    #[test]
    fn html_in_text_is_shown_not_interpreted() {
        assert_eq!(inline("<script>"), "&lt;script&gt;");
    }

    #[test]
    fn underscores_inside_words_are_left_alone() {
        assert_eq!(
            inline("ra_cc_main@contoso.com _x_"),
            "ra_cc_main@contoso.com \\_x\\_"
        );
    }

    #[test]
    fn fences_outgrow_backticks_in_the_content() {
        assert_eq!(fenced("a ```` b"), "`````\na ```` b\n`````");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x"), "`` `x ``");
    }

    #[test]
    fn only_web_urls_become_links() {
        assert_eq!(
            link("https://learn.microsoft.com/x"),
            "<https://learn.microsoft.com/x>"
        );
        assert_eq!(link("javascript:alert(1)"), "javascript:alert(1)");
    }
}
