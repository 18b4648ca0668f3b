//! Call paths as a mermaid `flowchart LR`, for GitHub, Azure DevOps and wikis: node ids are
//! generated (`p0h1`), labels are quoted with mermaid's entity codes for the characters that
//! would end or bend them, and no HTML is used (Azure DevOps renders none). Each label carries
//! its status as a symbol and a word, so the chart reads without its colours.

use std::fmt::Write as _;

use super::CallPath;
use super::draw::{self, Mark, Marked};

/// Longest value shown in a node; the rest is elided (the full value is in the reports).
const MAX_VALUE: usize = 40;

const CLASSES: &str = "  classDef clear fill:#dcfae6,stroke:#067647,color:#053321\n  classDef broken fill:#fee4e2,stroke:#b42318,stroke-width:4px,stroke-dasharray:6 3,color:#55160c\n  classDef after fill:#fff6f5,stroke:#b42318,stroke-dasharray:3 3,color:#55160c\n  classDef unknown fill:#fef0c7,stroke:#b54708,stroke-dasharray:2 2,color:#4e1d09\n  classDef nottraced fill:#f2f4f7,stroke:#667085,stroke-dasharray:2 2,color:#344054\n";

/// One flowchart for all `paths`: a single path is drawn as is, several as one subgraph per
/// number, so the output is always one valid diagram.
pub fn render(paths: &[CallPath]) -> String {
    let mut out = String::from("flowchart LR\n");
    let grouped = paths.len() > 1;
    for (p, path) in paths.iter().enumerate() {
        if grouped {
            let _ = writeln!(out, "  subgraph p{p}[\"{}\"]", quote(&draw::title(path)));
        }
        body(&mut out, p, path);
        if grouped {
            out.push_str("  end\n");
        }
    }
    out.push_str(CLASSES);
    out
}

fn body(out: &mut String, p: usize, path: &CallPath) {
    let marked = draw::marked(path);
    let mut last = None;
    for (h, m) in marked.shared.iter().enumerate() {
        let id = format!("p{p}h{h}");
        node(out, &id, m);
        if let Some(prev) = &last {
            let _ = writeln!(out, "  {prev} --> {id}");
        }
        last = Some(id);
    }
    for (a, (_, hops)) in marked.legs.iter().enumerate() {
        let mut prev = last.clone();
        for (h, m) in hops.iter().enumerate() {
            let id = format!("p{p}a{a}h{h}");
            node(out, &id, m);
            if let Some(prev) = &prev {
                let _ = writeln!(out, "  {prev} --> {id}");
            }
            prev = Some(id);
        }
    }
}

fn node(out: &mut String, id: &str, m: &Marked) {
    let hop = m.hop;
    let after = if m.mark == Mark::After {
        ", after the break"
    } else {
        ""
    };
    let label = format!(
        "{} {}: {} · {} ({}{after})",
        draw::symbol(hop.status),
        hop.kind.title(),
        draw::elide(&draw::one_line(&hop.label), MAX_VALUE),
        draw::reason(hop),
        draw::word(hop.status),
    );
    let _ = writeln!(
        out,
        "  {id}[\"{}\"]:::{}",
        quote(&label),
        m.mark.class(hop.status)
    );
}

/// Text inside a quoted mermaid label: the characters that end the label, start an entity or
/// are read as markup become mermaid entity codes (`#quot;`), line breaks become spaces.
fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in draw::one_line(text).chars() {
        match c {
            '#' => out.push_str("#35;"),
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '`' => out.push_str("#96;"),
            '|' => out.push_str("#124;"),
            c => out.push(c),
        }
    }
    out
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
    fn labels_cannot_break_out_of_their_quotes() {
        let mut path = sample::field_case();
        path.hops[1].label = "a\"]; click p0h0 \"javascript:x\" <b>#1</b>\nnext".into();
        let chart = render(&[path]);
        let line = chart.lines().find(|l| l.starts_with("  p0h1[")).unwrap();
        // One opening and one closing quote: nothing inside ends the label.
        assert_eq!(line.matches('"').count(), 2, "{line}");
        assert!(!line.contains('<') && !line.contains('>'), "{line}");
        assert!(line.contains("#quot;") && line.contains("#35;1"), "{line}");
        assert!(!chart.contains("\nnext"));
    }

    #[test]
    fn several_paths_are_one_diagram_with_a_subgraph_each() {
        let chart = render(&[sample::field_case(), sample::clear()]);
        assert_eq!(chart.matches("flowchart LR").count(), 1);
        assert_eq!(chart.matches("subgraph ").count(), 2);
        assert!(chart.contains("p1a0h2"));
        assert!(chart.contains("+14255550100 ✔ clear"));
    }

    #[test]
    fn status_is_in_the_words_not_only_the_colour() {
        let chart = render(&[sample::field_case()]);
        assert!(chart.contains("✘ Number: +14255550150 · NUM-002 fail (broken)"));
        assert!(chart.contains("(clear, after the break)"));
        assert!(chart.contains(":::broken") && chart.contains(":::after"));
    }
}
