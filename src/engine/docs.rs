//! `docs/checks.md`, generated from the check definitions so it cannot drift from them.

use std::fmt::Write as _;

use super::check::CheckSet;

use super::check::area_rank;

/// Renders the catalog as Markdown: an index table, then one section per check.
pub fn catalog_markdown(set: &CheckSet) -> String {
    let mut checks: Vec<_> = set.values().collect();
    checks.sort_by_key(|c| (area_rank(&c.spec.area), c.spec.id.clone()));
    let mut out = String::new();
    out.push_str("# Check catalog\n\n");
    out.push_str(
        "Generated from `checks/` by `ccaudit checks --markdown`; a test keeps it fresh. \
         Basis: **documented** (a Microsoft document states it), **field-reported** (forums, \
         scripts, field cases), **inferred** (our inference from several sources).\n\n",
    );
    out.push_str("| id | area | severity | basis | subject | title |\n|---|---|---|---|---|---|\n");
    for c in &checks {
        let s = &c.spec;
        let _ = writeln!(
            out,
            "| [{}](#{}) | {} | {} | {} | {} | {} |",
            s.id,
            s.id.to_ascii_lowercase(),
            s.area,
            s.severity.as_str(),
            s.basis.as_str(),
            s.subject_kind,
            s.title.replace('|', "\\|")
        );
    }
    for c in &checks {
        let s = &c.spec;
        let _ = writeln!(out, "\n## {}\n\n**{}**\n", s.id, s.title);
        let _ = writeln!(
            out,
            "Area `{}` · severity `{}` · basis `{}` · one result per {}\n",
            s.area,
            s.severity.as_str(),
            s.basis.as_str(),
            s.subject_kind
        );
        let _ = writeln!(out, "{}\n", s.description.trim());
        if let Some(src) = &s.basis_source {
            let _ = writeln!(out, "Basis source: {}\n", src.trim());
        }
        if !s.needs.is_empty() {
            let _ = writeln!(
                out,
                "Reads: {}\n",
                s.needs
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        let _ = writeln!(out, "Rule: `{}`\n", s.rule.trim().replace('`', "'"));
        let _ = writeln!(out, "Remediation:\n\n```\n{}\n```\n", s.remediation.trim());
        if let Some(fix) = &s.fix {
            let steps: Vec<String> = fix.steps.iter().flat_map(|f| f.describe()).collect();
            let _ = writeln!(
                out,
                "Fix (remediation script phase \"{}\", position {}):\n\n```\n{}\n```\n",
                fix.phase.title(),
                fix.order,
                steps.join("\n")
            );
        }
        if !s.error_codes.is_empty() {
            let _ = writeln!(out, "Related error codes: {}\n", s.error_codes.join(", "));
        }
        let _ = writeln!(out, "Docs:");
        for d in &s.docs {
            let _ = writeln!(out, "- {d}");
        }
    }
    out
}
