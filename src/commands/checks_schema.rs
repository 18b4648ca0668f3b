//! `ccaudit checks schema`: the model fields a check can read, with their types and meanings,
//! printed from the schema that check loading validates against (`model::schema`).

use std::io::Write as _;

use clap::Args;

use crate::model::{self, schema};
use crate::report::ExitStatus;

#[derive(Debug, Args)]
pub struct ChecksSchemaArgs {
    /// Only the fields under this path (`teams.users`, or `tenant.teams.users`).
    pub under: Option<String>,
    /// A Markdown table instead of plain lines.
    #[arg(long)]
    pub markdown: bool,
}

/// One line per field: `tenant.path  type  meaning`. A fact path (listable in `needs`) is typed
/// `fact: …`, and a fact without a meaning of its own gets its label.
pub fn render(args: &ChecksSchemaArgs) -> Result<String, String> {
    let under = args
        .under
        .as_deref()
        .map(|u| u.trim_start_matches("tenant").trim_start_matches('.'))
        .unwrap_or("");
    let facts = model::fact_paths();
    let rows: Vec<(String, String, String)> = schema::fields()
        .filter(|f| {
            under.is_empty()
                || f.path == under
                || f.path
                    .strip_prefix(under)
                    .is_some_and(|rest| rest.starts_with(['.', '[']))
        })
        .map(|f| {
            let fact = facts.contains(&f.path);
            let kind = if fact {
                format!("fact: {}", f.kind)
            } else {
                f.kind.to_string()
            };
            let meaning = match (f.meaning, fact) {
                ("", true) => model::fact_label(f.path).unwrap_or("").to_string(),
                (m, _) => m.to_string(),
            };
            (format!("tenant.{}", f.path), kind, meaning)
        })
        .collect();
    if rows.is_empty() {
        return Err(format!(
            "no model field under `tenant.{under}` (run `ccaudit checks schema` for all)"
        ));
    }
    if args.markdown {
        let mut out = String::from("| Path | Type | Meaning |\n|---|---|---|\n");
        for (p, k, m) in &rows {
            out.push_str(&format!("| `{p}` | {k} | {} |\n", m.replace('|', "\\|")));
        }
        return Ok(out);
    }
    let width = rows
        .iter()
        .map(|(p, _, _)| p.chars().count())
        .max()
        .unwrap_or(0);
    let kinds = rows.iter().map(|(_, k, _)| k.len()).max().unwrap_or(0);
    Ok(rows
        .iter()
        .map(|(p, k, m)| {
            let pad = width - p.chars().count();
            format!("{p}{}  {k:kinds$}  {m}", " ".repeat(pad))
                .trim_end()
                .to_string()
                + "\n"
        })
        .collect())
}

pub fn run(args: ChecksSchemaArgs) -> Result<ExitStatus, String> {
    let text = render(&args)?;
    let _ = anstream::stdout().write_all(text.as_bytes());
    Ok(ExitStatus::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_paths_types_and_meanings_under_a_prefix() {
        let text = render(&ChecksSchemaArgs {
            under: Some("tenant.teams.external_access".into()),
            markdown: false,
        })
        .expect("fields");
        assert!(
            text.contains("tenant.teams.external_access[…].allows_acs"),
            "{text}"
        );
        assert!(text.contains("answer"), "{text}");
        assert!(!text.contains("external_access_policies"), "{text}");
        let facts = render(&ChecksSchemaArgs {
            under: Some("teams.users".into()),
            markdown: true,
        })
        .expect("fields");
        assert!(
            facts.contains("| `tenant.teams.users` | fact: map |"),
            "{facts}"
        );
    }

    #[test]
    fn an_unknown_prefix_is_an_error() {
        assert!(
            render(&ChecksSchemaArgs {
                under: Some("teams.userz".into()),
                markdown: false
            })
            .is_err()
        );
    }
}
