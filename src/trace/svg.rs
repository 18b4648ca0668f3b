//! Call paths as SVG drawn by the program: no fonts, scripts or links to anything outside the
//! file. A layered left-to-right layout: the hops every call shares in the first row, then one
//! row per agent leg, branching from the last shared hop. The broken hop and everything after
//! it are highlighted by colour and by shape (a thick dashed border, ✘ in the title), so print
//! and colour-blind readers see them too. Text is measured conservatively and elided to fit its
//! box, the full value in the hop's `<title>` (the tooltip); every text is XML-escaped.

use std::fmt::Write as _;

use super::CallPath;
use super::draw::{self, Mark, Marked};

const BOX_W: f64 = 216.0;
const BOX_H: f64 = 62.0;
const GAP_X: f64 = 44.0;
const GAP_Y: f64 = 16.0;
const PAD: f64 = 12.0;
/// Height of the heading above the hops.
const HEAD_H: f64 = 30.0;
/// Height of the legend below them (standalone files only).
const LEGEND_H: f64 = 26.0;
const FONT: f64 = 12.0;
const SMALL: f64 = 11.0;
const HEAD_FONT: f64 = 14.0;
/// Space left and right of the text inside a box.
const INSET: f64 = 9.0;

const LEGEND: &str = "✔ clear · ✘ broken · ? unknown · – not traced · thick dashed border: \
                      broken · thin dashed: after the break, not reached";

/// The diagram's styles: inside each standalone file, once in the HTML report. Scoped to the
/// `cp` class so they touch nothing else in the page.
pub const STYLE: &str = "\
.cp text{font-family:system-ui,\"Segoe UI\",\"Liberation Sans\",Arial,sans-serif;font-size:12px;fill:#101828}
.cp .hd{font-size:14px;font-weight:700}
.cp .t{font-weight:700}
.cp .r{font-size:11px;fill:#475467}
.cp .lg{font-size:11px;fill:#475467}
.cp rect{stroke-width:1.5}
.cp .clear rect{fill:#dcfae6;stroke:#067647}
.cp .broken rect{fill:#fee4e2;stroke:#b42318;stroke-width:3.5;stroke-dasharray:8 4}
.cp .after rect{fill:#fff6f5;stroke:#b42318;stroke-dasharray:4 3}
.cp .after text{fill:#7a271a}
.cp .unknown rect{fill:#fef0c7;stroke:#b54708;stroke-dasharray:2 2}
.cp .nottraced rect{fill:#f2f4f7;stroke:#667085;stroke-dasharray:2 2}
.cp .e{fill:none;stroke:#667085;stroke-width:1.5}
.cp .e.x{stroke:#b42318;stroke-dasharray:4 3}
.cp .ah{fill:#667085}
.cp .ah.x{fill:#b42318}
.cp a:hover rect,.cp a:focus rect{stroke-width:3}
";

/// How the SVG is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A file of its own: carries its styles and a legend.
    File,
    /// Inline in the HTML report: styles come from the page, each hop links to its deciding
    /// result (`#result-N`).
    Report,
}

/// One standalone SVG document holding every path, one under the other.
pub fn render(paths: &[CallPath]) -> String {
    let drawings: Vec<Drawing> = paths.iter().map(layout).collect();
    let width = drawings
        .iter()
        .map(|d| d.width)
        .fold(text_width(LEGEND, SMALL) + 2.0 * PAD, f64::max);
    let height: f64 = drawings.iter().map(|d| d.height).sum::<f64>() + LEGEND_H;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"cp\" width=\"{}\" height=\"{}\" \
         viewBox=\"0 0 {0} {1}\" role=\"img\" aria-label=\"Call paths\">\n<style>\n{STYLE}</style>\n\
         <rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n",
        px(width),
        px(height)
    );
    let mut y = 0.0;
    for d in &drawings {
        let _ = writeln!(out, "<g transform=\"translate(0 {})\">", px(y));
        out.push_str(&d.body(Target::File));
        out.push_str("</g>\n");
        y += d.height;
    }
    let _ = writeln!(
        out,
        "<text class=\"lg\" x=\"{}\" y=\"{}\">{}</text>",
        px(PAD),
        px(y + 16.0),
        xml(LEGEND)
    );
    out.push_str("</svg>\n");
    out
}

/// One path as an `<svg>` element for the HTML report (styles from the page, hops linked).
pub fn render_inline(path: &CallPath) -> String {
    let d = layout(path);
    format!(
        "<svg class=\"cp\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" \
         aria-label=\"{label}\">\n{body}</svg>",
        w = px(d.width),
        h = px(d.height),
        label = xml(&draw::title(path)),
        body = d.body(Target::Report)
    )
}

/// A hop placed on the canvas.
struct Placed<'a> {
    m: Marked<'a>,
    x: f64,
    y: f64,
}

struct Edge {
    from: (f64, f64),
    to: (f64, f64),
    after_break: bool,
}

struct Drawing<'a> {
    title: String,
    boxes: Vec<Placed<'a>>,
    edges: Vec<Edge>,
    width: f64,
    height: f64,
}

fn layout(path: &CallPath) -> Drawing<'_> {
    let marked = draw::marked(path);
    let col_x = |c: usize| PAD + c as f64 * (BOX_W + GAP_X);
    let row_y = |r: usize| HEAD_H + r as f64 * (BOX_H + GAP_Y);
    let shared = marked.shared.len();
    let mut boxes = Vec::new();
    let mut edges = Vec::new();
    let after = |m: &Marked| m.mark != Mark::Normal;

    for (c, m) in marked.shared.into_iter().enumerate() {
        if c > 0 {
            let y = row_y(0) + BOX_H / 2.0;
            edges.push(Edge {
                from: (col_x(c - 1) + BOX_W, y),
                to: (col_x(c), y),
                after_break: after(&m),
            });
        }
        boxes.push(Placed {
            x: col_x(c),
            y: row_y(0),
            m,
        });
    }
    let mut columns = shared;
    let mut rows = 1;
    for (r, (_, hops)) in marked.legs.into_iter().enumerate() {
        columns = columns.max(shared + hops.len());
        rows = rows.max(r + 1);
        for (i, m) in hops.into_iter().enumerate() {
            let c = shared + i;
            let y = row_y(r) + BOX_H / 2.0;
            if c > 0 {
                // The first hop of a leg hangs off the last shared hop: along the first row,
                // down the trunk between the columns, then right into the leg.
                let from_y = if i == 0 { row_y(0) + BOX_H / 2.0 } else { y };
                edges.push(Edge {
                    from: (col_x(c - 1) + BOX_W, from_y),
                    to: (col_x(c), y),
                    after_break: after(&m),
                });
            }
            boxes.push(Placed {
                x: col_x(c),
                y: row_y(r),
                m,
            });
        }
    }
    let content =
        PAD * 2.0 + columns.max(1) as f64 * BOX_W + columns.saturating_sub(1) as f64 * GAP_X;
    let title = draw::title(path);
    Drawing {
        width: content.max(PAD * 2.0 + BOX_W),
        height: row_y(rows) - GAP_Y + PAD,
        boxes,
        edges,
        title,
    }
}

impl Drawing<'_> {
    fn body(&self, target: Target) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "<text class=\"hd\" x=\"{}\" y=\"20\">{}</text>",
            px(PAD),
            xml(&fit(&self.title, self.width - 2.0 * PAD, HEAD_FONT * 1.1))
        );
        for e in &self.edges {
            edge(&mut out, e);
        }
        for b in &self.boxes {
            hop_box(&mut out, b, target);
        }
        out
    }
}

fn edge(out: &mut String, e: &Edge) {
    let x = if e.after_break { " x" } else { "" };
    let (x1, y1) = e.from;
    let (x2, y2) = e.to;
    let tip = x2 - 1.0;
    if (y1 - y2).abs() < f64::EPSILON {
        let _ = write!(
            out,
            "<path class=\"e{x}\" d=\"M{} {}H{}\"/>",
            px(x1),
            px(y1),
            px(tip - 7.0)
        );
    } else {
        let mid = x1 + GAP_X / 2.0;
        let _ = write!(
            out,
            "<path class=\"e{x}\" d=\"M{} {}H{}V{}H{}\"/>",
            px(x1),
            px(y1),
            px(mid),
            px(y2),
            px(tip - 7.0)
        );
    }
    let _ = writeln!(
        out,
        "<path class=\"ah{x}\" d=\"M{} {}l-8 -4.5v9z\"/>",
        px(tip),
        px(y2)
    );
}

fn hop_box(out: &mut String, b: &Placed, target: Target) {
    let hop = b.m.hop;
    let room = BOX_W - 2.0 * INSET;
    let link = match target {
        Target::Report => hop.checks.first().map(|c| c.result),
        Target::File => None,
    };
    if let Some(result) = link {
        let _ = write!(out, "<a href=\"#result-{result}\">");
    }
    let _ = write!(
        out,
        "<g class=\"{}\"><title>{}</title><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"6\"/>",
        b.m.mark.class(hop.status),
        xml(&tooltip(&b.m)),
        px(b.x),
        px(b.y),
        px(BOX_W),
        px(BOX_H)
    );
    let head = format!("{} {}", draw::symbol(hop.status), hop.kind.title());
    let lines = [
        ("t", FONT * 1.1, fit(&head, room, FONT * 1.1), 18.0),
        ("", FONT, fit(&draw::one_line(&hop.label), room, FONT), 36.0),
        ("r", SMALL, fit(&status_line(&b.m), room, SMALL), 53.0),
    ];
    for (class, _, text, dy) in &lines {
        let class = if class.is_empty() {
            String::new()
        } else {
            format!(" class=\"{class}\"")
        };
        let _ = write!(
            out,
            "<text{class} x=\"{}\" y=\"{}\">{}</text>",
            px(b.x + INSET),
            px(b.y + dy),
            xml(text)
        );
    }
    out.push_str("</g>");
    if link.is_some() {
        out.push_str("</a>");
    }
    out.push('\n');
}

/// The third line of a box: the verdict in words and the check that decides it.
fn status_line(m: &Marked) -> String {
    // After a break the hop's own verdict matters less than that calls never reach it.
    let state = if m.mark == Mark::After {
        "not reached"
    } else {
        draw::word(m.hop.status)
    };
    format!("{state} · {}", draw::reason(m.hop))
}

/// Everything about the hop, unelided: shown as the tooltip and read by screen readers.
fn tooltip(m: &Marked) -> String {
    let hop = m.hop;
    let mut t = format!(
        "{}: {} ({})",
        hop.kind.title(),
        draw::one_line(&hop.label),
        draw::word(hop.status)
    );
    if m.mark == Mark::After {
        t.push_str(", after the break");
    }
    for c in &hop.checks {
        let _ = write!(
            t,
            "\n{} {}: {}",
            c.check,
            c.status.as_str(),
            draw::one_line(&c.evidence)
        );
        if let Some(needs) = &c.needs {
            let _ = write!(t, " (grant: {})", draw::one_line(needs));
        }
    }
    if let Some(note) = &hop.note {
        let _ = write!(t, "\n{}", draw::one_line(note));
    }
    if let Some(fix) = &hop.fix {
        let _ = write!(t, "\nFix: {}", draw::one_line(fix));
    }
    t
}

/// A width no rendering of `text` at `size` px exceeds in the sans-serif fonts browsers pick:
/// wide letters, capitals and symbols count as a full em, the rest as 0.62 em.
fn text_width(text: &str, size: f64) -> f64 {
    text.chars()
        .map(|c| match c {
            'i' | 'l' | 'j' | '.' | ',' | ':' | ';' | '\'' | '|' | '!' | ' ' => 0.4,
            'a'..='z' | '0'..='9' | '-' | '_' | '+' | '(' | ')' | '/' => {
                if matches!(c, 'm' | 'w') {
                    0.95
                } else {
                    0.62
                }
            }
            _ => 1.0,
        })
        .sum::<f64>()
        * size
}

/// `text` elided until it fits `room` px at `size` px.
fn fit(text: &str, room: f64, size: f64) -> String {
    let mut max = text.chars().count();
    let mut out = text.to_string();
    while max > 5 && text_width(&out, size) > room {
        max -= 1;
        out = draw::elide(text, max);
    }
    out
}

fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Not allowed in XML 1.0 at all; tabs and line breaks are kept for tooltips.
            c if c.is_control() && !matches!(c, '\n' | '\t') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A coordinate without needless decimals.
fn px(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r.fract() == 0.0 {
        format!("{}", r as i64)
    } else {
        format!("{r}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::sample;

    #[test]
    fn field_case_golden() {
        insta::assert_snapshot!(render(&[sample::field_case()]));
    }

    #[test]
    fn clear_path_golden() {
        insta::assert_snapshot!(render(&[sample::clear()]));
    }

    #[test]
    fn text_is_escaped_and_long_values_elided_with_the_full_value_in_the_title() {
        let mut path = sample::field_case();
        let arm = "/subscriptions/0000/resourceGroups/rg-<contact>&\"center\"/providers/\
                   Microsoft.Communication/communicationServices/acs-west";
        path.hops[3].label = arm.into();
        let svg = render(&[path]);
        assert!(!svg.contains("<contact>") && !svg.contains("&\"center"));
        assert!(svg.contains("rg-&lt;contact&gt;&amp;&quot;center&quot;/providers"));
        assert!(svg.contains("…rvices/acs-west</text>") || svg.contains("acs-west</text>"));
        // The box shows an elided value that fits; the tooltip has all of it.
        let shown = svg
            .split("<text x=")
            .filter_map(|t| t.split('>').nth(1))
            .map(|t| &t[..t.find('<').unwrap_or(t.len())])
            .find(|t| t.starts_with("/subscriptions"))
            .expect("the ARM path's line");
        assert!(shown.contains('…'), "{shown}");
        let shown = shown
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
            .replace("&quot;", "\"");
        assert!(text_width(&shown, FONT) <= BOX_W - 2.0 * INSET, "{shown}");
    }

    #[test]
    fn every_line_fits_its_box() {
        let mut path = sample::field_case();
        path.hops[1].label = "W".repeat(80);
        path.agents[0].hops[2].label = "m".repeat(200) + "@contoso.onmicrosoft.com";
        let d = layout(&path);
        for b in &d.boxes {
            let room = BOX_W - 2.0 * INSET;
            assert!(text_width(&fit(&b.m.hop.label, room, FONT), FONT) <= room);
            assert!(text_width(&fit(&status_line(&b.m), room, SMALL), SMALL) <= room);
        }
    }

    #[test]
    fn several_agents_branch_into_rows_that_do_not_overlap() {
        let mut path = sample::field_case();
        let leg = path.agents[0].clone();
        path.agents = (0..30).map(|_| leg.clone()).collect();
        let d = layout(&path);
        assert_eq!(d.boxes.len(), 4 + 30 * 3);
        for (i, a) in d.boxes.iter().enumerate() {
            for b in &d.boxes[i + 1..] {
                let apart = a.x + BOX_W <= b.x
                    || b.x + BOX_W <= a.x
                    || a.y + BOX_H <= b.y
                    || b.y + BOX_H <= a.y;
                assert!(apart, "boxes at ({}, {}) and ({}, {})", a.x, a.y, b.x, b.y);
            }
        }
        assert!(d.height >= 30.0 * (BOX_H + GAP_Y));
    }

    #[test]
    fn inline_hops_link_to_their_results() {
        let svg = render_inline(&sample::field_case());
        assert!(svg.contains("<a href=\"#result-3\"><g class=\"broken\">"));
        assert!(!svg.contains("<style>"));
        assert!(!render(&[sample::clear()]).contains("<a "));
    }
}
