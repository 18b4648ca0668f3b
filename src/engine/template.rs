//! Message and remediation templates: text with `{{ cel expression }}` holes.
//!
//! Double braces keep single braces literal, which PowerShell remediation needs
//! (`-AllowedAcsResources @{Add='{{ subject.acs_immutable_id }}'}`).

use cel::{Context, Env};

use super::budget;
use super::cel::{self as celx, CompileError, Expr};

/// Why a template does not compile; one line naming the bad hole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// An opening `{{` without its `}}`; the text from it, shortened.
    #[error("unclosed `{{{{` in template near `{0}`")]
    Unclosed(String),
    #[error("empty `{{{{ }}}}` in template")]
    EmptyHole,
    #[error("in template hole `{{{{ {hole} }}}}`: {error}")]
    Hole { hole: String, error: CompileError },
}

#[derive(Debug, Clone)]
enum Part {
    Text(String),
    Hole(Expr),
}

#[derive(Debug, Clone)]
pub struct Template {
    parts: Vec<Part>,
}

impl Template {
    /// Parses and compiles every hole; the error names the bad hole.
    pub fn compile(env: &Env, text: &str) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                parts.push(Part::Text(rest[..start].to_string()));
            }
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else {
                return Err(TemplateError::Unclosed(excerpt(&rest[start..])));
            };
            let source = after[..end].trim();
            if source.is_empty() {
                return Err(TemplateError::EmptyHole);
            }
            let expr = celx::compile(env, source).map_err(|error| TemplateError::Hole {
                hole: source.to_string(),
                error,
            })?;
            parts.push(Part::Hole(expr));
            rest = &after[end + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Ok(Template { parts })
    }

    /// Renders the template; a hole that fails to evaluate renders as `<expr: error>` so a
    /// message is never lost, and the error is returned alongside.
    pub fn render(&self, ctx: &Context) -> (String, Option<String>) {
        let mut out = String::new();
        let mut first_error = None;
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Hole(expr) => match expr.execute(ctx) {
                    Ok(v) => {
                        let text = celx::display(&v);
                        // Rendered text is kept with the result: it counts against the
                        // check's memory budget like any string it builds.
                        if let Err(e) = budget::spend_text(text.len()) {
                            first_error.get_or_insert(celx::describe_error(&e));
                            break;
                        }
                        out.push_str(&text);
                    }
                    Err(e) => {
                        let msg = celx::describe_error(&e);
                        out.push_str(&format!("<{}: {msg}>", expr.source));
                        first_error.get_or_insert(msg);
                    }
                },
            }
        }
        (out, first_error)
    }

    /// Whether the template references the subject (used to reject subject holes in
    /// tenant-level texts).
    pub fn sources(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Hole(e) => Some(e.source.as_str()),
            Part::Text(_) => None,
        })
    }
}

fn excerpt(s: &str) -> String {
    s.chars().take(30).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn holes_render_and_single_braces_stay_literal() {
        let env = celx::environment();
        let t = Template::compile(&env, "@{Add='{{ 'abc' + 'd' }}'} x{{1+1}}").unwrap();
        let ctx = Context::with_env(Arc::clone(&env));
        assert_eq!(t.render(&ctx).0, "@{Add='abcd'} x2");
    }

    #[test]
    fn bad_hole_is_a_compile_error() {
        let env = celx::environment();
        let err = Template::compile(&env, "a {{ 1 + }} b")
            .unwrap_err()
            .to_string();
        assert!(err.contains("1 +"), "{err}");
        assert!(Template::compile(&env, "a {{ b").is_err());
    }

    #[test]
    fn failing_hole_renders_marker_and_reports_error() {
        let env = celx::environment();
        let t = Template::compile(&env, "x={{ nothing.here }}").unwrap();
        let ctx = Context::with_env(Arc::clone(&env));
        let (text, err) = t.render(&ctx);
        assert!(text.starts_with("x=<nothing.here: "), "{text}");
        assert!(err.is_some());
    }
}
