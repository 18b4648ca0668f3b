//! `ccaudit explain CODE_OR_TEXT... [--snapshot FILE] [--format table|json]`: what an error code
//! means, how sure we are, and which checks cause it; with a snapshot, which of those checks
//! fail in that tenant.

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use anstyle::{AnsiColor, Style};
use serde::Serialize;

use super::live::{self, LiveArgs};
use super::wrap;
use crate::engine::{self, CheckSet, Status};
use crate::model::{AuditConfig, TenantModel};
use crate::report::ExitStatus;
use crate::trace::tree::{self, Glyphs};
use crate::trace::{Hop, HopStatus, Tracer};
use crate::triage::explain::{self, Found, KnowledgeBase, TenantView, Unknown};

/// Bumped only on breaking changes to `explain --format json`.
pub const EXPLAIN_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, clap::Args)]
pub struct ExplainArgs {
    /// Error codes (400801, 403/2203, "403 subcode 2203", 0x80048d0b,
    /// UserLicenseNotPresentForbidden), or a pasted log line or JSON error body; `-` reads
    /// standard input.
    #[arg(required = true, value_name = "CODE_OR_TEXT")]
    pub input: Vec<String>,
    /// Run the linked checks on this snapshot and lead with the ones that fail in that tenant.
    #[arg(long, value_name = "FILE", conflicts_with = "tenant")]
    pub snapshot: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: ExplainFormat,
    #[command(flatten)]
    pub limit: super::SnapshotLimit,
    /// Or read the tenant live (`--tenant` and the live-collection flags of `audit`); last, as
    /// its help heading applies to the flags after it.
    #[command(flatten)]
    pub live: LiveArgs,
}

/// The most input `explain` reads (arguments and standard input together): an error body or
/// a log excerpt, not a whole log.
pub const MAX_INPUT_BYTES: usize = 8 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExplainFormat {
    Table,
    Json,
}

/// Prints the explanation. Unknown codes are not an error: the output says so, exit 0.
pub fn run(args: ExplainArgs) -> Result<ExitStatus, String> {
    write(&args, &mut anstream::stdout())
}

/// `run`, writing to `out`.
pub fn write(args: &ExplainArgs, out: &mut dyn Write) -> Result<ExitStatus, String> {
    let text = render(args)?;
    crate::files::emit(out, text.as_bytes()).map_err(|e| e.to_string())?;
    Ok(ExitStatus::Success)
}

/// The explanation as the chosen format would print it (table output carries ANSI colour,
/// which `anstream` strips when stdout is not a terminal).
pub fn render(args: &ExplainArgs) -> Result<String, String> {
    let input = read_input(&args.input)?;
    let kb = KnowledgeBase::builtin().map_err(|e| e.to_string())?;
    let env = engine::cel::environment();
    let checks = engine::catalog::load(&env, None).map_err(|e| e.to_string())?;
    kb.validate_checks(&checks).map_err(|e| e.to_string())?;
    let lookup = kb.lookup(&input);

    if let Some(flag) = args.live.unused_flag() {
        return Err(format!(
            "{flag} applies when reading a tenant live (--tenant), not to --snapshot"
        ));
    }
    // The tenant to run the checks on, with where it came from: a snapshot file or `--tenant`.
    let source = match (&args.snapshot, &args.live.tenant) {
        (Some(path), _) => Some((
            args.limit.load(path).map_err(|e| e.to_string())?,
            Some(path.clone()),
            None,
        )),
        (None, Some(tenant)) => Some((live::read_tenant(&args.live)?, None, Some(tenant.clone()))),
        (None, None) => None,
    };
    let mut trace = None;
    let tenant = match source {
        Some((snapshot, path, live)) => {
            let model = TenantModel::from_snapshot(&snapshot, AuditConfig::default());
            let linked = explain::all_linked(&kb, &lookup.found, &checks);
            if args.format == ExplainFormat::Table {
                trace = Some(broken_paths(&env, &checks, &model, &linked));
            }
            let subset: CheckSet = checks
                .iter()
                .filter(|(id, _)| linked.contains(id))
                .map(|(id, c)| (id.clone(), c.clone()))
                .collect();
            let results = engine::evaluate(&env, &subset, &model);
            Some((
                TenantRef {
                    id: model.info.id.clone(),
                    name: model.info.name.clone(),
                    snapshot: path,
                    live,
                },
                results,
            ))
        }
        None => None,
    };

    let found = lookup
        .found
        .into_iter()
        .map(|f| {
            let linked = kb.linked_checks(f.entry, &checks);
            let in_tenant = tenant
                .as_ref()
                .map(|(_, results)| explain::in_tenant(&f.label, &linked, &checks, results));
            let checks = linked
                .iter()
                .filter_map(|id| checks.get(id))
                .map(|c| LinkedCheck {
                    id: c.spec.id.clone(),
                    title: c.spec.title.clone(),
                    area: c.spec.area.clone(),
                })
                .collect();
            Explained {
                found: f,
                causes: checks,
                in_tenant,
            }
        })
        .collect();
    let explanation = Explanation {
        schema_version: EXPLAIN_SCHEMA_VERSION,
        input,
        tenant: tenant.map(|(t, _)| t),
        found,
        unknown: lookup.unknown,
    };
    Ok(match args.format {
        ExplainFormat::Table => {
            let mut out = table(&explanation);
            out.push_str(&trace.unwrap_or_default());
            out
        }
        ExplainFormat::Json => {
            let mut json = serde_json::to_string_pretty(&explanation).map_err(|e| e.to_string())?;
            json.push('\n');
            json
        }
    })
}

/// Most paths `explain` draws; `ccaudit trace` shows them all.
const MAX_PATHS: usize = 5;

/// The call paths that the likely causes (`linked`) break, as trees with the agents summarized,
/// built from a full audit so every hop has its verdict; nothing when they break none.
fn broken_paths(
    env: &std::sync::Arc<cel::Env>,
    checks: &CheckSet,
    model: &TenantModel,
    linked: &[String],
) -> String {
    let results = engine::evaluate(env, checks, model);
    let tracer = Tracer::new(model, &results);
    let breaks = |hops: &[Hop]| {
        hops.iter().any(|h| {
            h.status == HopStatus::Broken
                && h.checks
                    .iter()
                    .any(|c| c.status.is_finding() && linked.contains(&c.check))
        })
    };
    let agents_break = tracer.legs().iter().any(|l| breaks(&l.hops));
    let paths: Vec<_> = tracer
        .numbers()
        .filter_map(|n| tracer.path(n, &[]))
        .filter(|p| agents_break || breaks(&p.hops))
        .collect();
    if paths.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "{}\n",
        bold(&format!(
            "call paths these causes break ({} of {}):",
            paths.len().min(MAX_PATHS),
            paths.len()
        ))
    );
    for p in paths.iter().take(MAX_PATHS) {
        out.push_str(&tree::path(
            p,
            Some(tracer.legs()),
            Glyphs::for_terminal(),
            WIDTH,
        ));
    }
    if paths.len() > MAX_PATHS {
        let _ = writeln!(
            out,
            "… and {} more: ccaudit trace shows every number",
            paths.len() - MAX_PATHS
        );
    }
    out.push('\n');
    out
}

/// The arguments as one text (so `403 subcode 2203` typed unquoted still pairs up), with `-`
/// replaced by standard input; at most [`MAX_INPUT_BYTES`] in all.
fn read_input(args: &[String]) -> Result<String, String> {
    use crate::files::{CappedError, read_capped};
    let too_large = || {
        format!(
            "the input to explain is over {} MiB; give it the error message or the log lines around it, not a whole log",
            MAX_INPUT_BYTES >> 20
        )
    };
    let mut parts = Vec::with_capacity(args.len());
    let mut total = 0usize;
    for a in args {
        let part = if a == "-" {
            let mut bytes = Vec::new();
            let room = MAX_INPUT_BYTES.saturating_sub(total) as u64;
            read_capped(std::io::stdin().lock(), room, &mut bytes).map_err(|e| match e {
                CappedError::Io(e) => format!("cannot read standard input: {e}"),
                CappedError::TooLarge { .. } => format!("standard input: {}", too_large()),
            })?;
            // A log with a stray byte is still worth explaining.
            String::from_utf8_lossy(&bytes).into_owned()
        } else {
            a.clone()
        };
        total += part.len();
        if total > MAX_INPUT_BYTES {
            return Err(too_large());
        }
        parts.push(part);
    }
    Ok(parts.join(" "))
}

/// What `explain --format json` prints.
#[derive(Debug, Serialize)]
pub struct Explanation<'a> {
    pub schema_version: u32,
    pub input: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<TenantRef>,
    pub found: Vec<Explained<'a>>,
    pub unknown: Vec<Unknown>,
}

#[derive(Debug, Serialize)]
pub struct TenantRef {
    pub id: String,
    pub name: Option<String>,
    /// The snapshot the verdicts come from, or
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<PathBuf>,
    /// the `--tenant` read live.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Explained<'a> {
    #[serde(flatten)]
    pub found: Found<'a>,
    /// The checks that cause it, most likely first.
    pub causes: Vec<LinkedCheck>,
    /// With `--snapshot`: how those checks came out there, findings first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_tenant: Option<TenantView>,
}

#[derive(Debug, Serialize)]
pub struct LinkedCheck {
    pub id: String,
    pub title: String,
    pub area: String,
}

const WIDTH: usize = 100;
const LABEL: usize = 14;

fn painted(status: Status) -> String {
    let color = match status {
        Status::Pass => AnsiColor::Green,
        Status::Fail | Status::Missing => AnsiColor::Red,
        Status::Unknown => AnsiColor::Yellow,
        Status::Skipped => AnsiColor::BrightBlack,
    };
    let s = Style::new().fg_color(Some(color.into())).bold();
    // Pad outside the escape codes so columns line up with and without colour.
    let word = status.as_str().to_uppercase();
    format!(
        "{s}{word}{s:#}{}",
        " ".repeat(9usize.saturating_sub(word.len()))
    )
}

fn bold(text: &str) -> String {
    let s = Style::new().bold();
    format!("{s}{text}{s:#}")
}

fn field(out: &mut String, label: &str, text: &str) {
    let _ = writeln!(
        out,
        "  {label:<w$}{}",
        wrap(text, WIDTH, LABEL + 2),
        w = LABEL
    );
}

fn table(e: &Explanation<'_>) -> String {
    let mut out = String::new();
    for x in &e.found {
        explained(&mut out, x, e.tenant.as_ref());
        out.push('\n');
    }
    for u in &e.unknown {
        unknown(&mut out, u);
        out.push('\n');
    }
    if e.found.is_empty() && e.unknown.is_empty() {
        let _ = writeln!(out, "nothing to explain: no code or message in the input\n");
    }
    out
}

fn explained(out: &mut String, x: &Explained<'_>, tenant: Option<&TenantRef>) {
    let f = &x.found;
    let entry = f.entry;
    let _ = writeln!(out, "{}", bold(&format!("{} — {}", f.label, entry.title)));
    field(out, "found:", &f.matched.join(", "));
    if f.generic_only {
        field(
            out,
            "caution:",
            "only a generic wrapper code matched; the same code wraps unrelated errors, so \
             check the message before trusting this entry",
        );
    }
    for note in &f.notes {
        field(out, "note:", note);
    }
    field(out, "seen in:", &entry.seen_in);
    field(out, "meaning:", &entry.meaning);
    field(out, "confidence:", entry.confidence.as_str());
    for (i, s) in entry.sources.iter().enumerate() {
        // URLs stay whole so they can be copied.
        let label = if i == 0 { "sources:" } else { "" };
        let _ = writeln!(out, "  {label:<LABEL$}{}", s.url);
        field(out, "", &s.what);
    }
    match (&x.in_tenant, tenant) {
        (Some(view), Some(t)) => in_tenant(out, view, t),
        _ => ranked(out, x),
    }
    if let Some(uncovered) = &entry.uncovered {
        field(out, "no check yet:", uncovered);
    }
}

fn ranked(out: &mut String, x: &Explained<'_>) {
    if x.causes.is_empty() {
        field(
            out,
            "checks:",
            "none: no tenant setting ccaudit reads causes this",
        );
        return;
    }
    let _ = writeln!(out, "  checks that cause it, most likely first:");
    for (i, c) in x.causes.iter().enumerate() {
        let _ = writeln!(out, "    {:>2}. {:<11} {}", i + 1, c.id, c.title);
    }
    let _ = writeln!(
        out,
        "  run with --snapshot FILE (or --tenant to read one live) to see which of them fail in a tenant"
    );
}

fn in_tenant(out: &mut String, view: &TenantView, t: &TenantRef) {
    let name = t.name.as_deref().unwrap_or(&t.id);
    let from = match (&t.snapshot, &t.live) {
        (Some(path), _) => path.display().to_string(),
        (None, Some(tenant)) => format!("read live from {tenant}"),
        (None, None) => String::new(),
    };
    let _ = writeln!(out, "  in this tenant ({name}, {from}):");
    let _ = writeln!(out, "    {}", wrap(&view.summary, WIDTH, 4));
    const DETAIL: usize = 4 + 9 + 12;
    for v in &view.checks {
        let _ = writeln!(out, "    {}{:<11} {}", painted(v.status), v.check, v.title);
        let detail = match v.status {
            Status::Fail | Status::Missing if v.failing.len() > 1 || v.evaluated > 1 => {
                let shown: Vec<&str> = v.failing.iter().take(5).map(String::as_str).collect();
                let more = v.failing.len().saturating_sub(shown.len());
                let more = if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                };
                Some(format!(
                    "{} of {} {}: {}{more}",
                    v.failing.len(),
                    v.evaluated,
                    explain::plural(&v.subject_kind),
                    shown.join(", ")
                ))
            }
            Status::Fail | Status::Missing => Some(v.message.clone()),
            Status::Unknown => Some(match &v.needs {
                Some(needs) => format!("{} (grant: {needs})", v.message),
                None => v.message.clone(),
            }),
            Status::Pass | Status::Skipped => None,
        };
        if let Some(detail) = detail {
            let _ = writeln!(
                out,
                "{}{}",
                " ".repeat(DETAIL),
                wrap(&detail, WIDTH, DETAIL)
            );
        }
        for (i, line) in v.fix.iter().enumerate() {
            let label = if i == 0 { "fix: " } else { "     " };
            let _ = writeln!(
                out,
                "{}{label}{}",
                " ".repeat(DETAIL),
                wrap(line, WIDTH, DETAIL + label.len())
            );
        }
    }
    let findings: Vec<&str> = view
        .checks
        .iter()
        .filter(|v| v.status.is_finding())
        .map(|v| v.check.as_str())
        .collect();
    if !findings.is_empty() {
        let input = match (&t.snapshot, &t.live) {
            (Some(path), _) => format!("--snapshot {}", shell_word(path)),
            // The other live flags (sign-in, endpoints) are the user's own; repeat them.
            (None, Some(tenant)) => format!("--tenant {}", shell_word(Path::new(tenant))),
            (None, None) => String::new(),
        };
        let _ = writeln!(
            out,
            "  remediation: ccaudit audit {input} --only {}",
            findings.join(",")
        );
    }
}

fn shell_word(path: &Path) -> String {
    let s = path.display().to_string();
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-".contains(c))
    {
        s
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn unknown(out: &mut String, u: &Unknown) {
    let _ = writeln!(
        out,
        "{}",
        bold(&format!("{}: not in the knowledge base", u.query))
    );
    if u.closest.is_empty() {
        return;
    }
    let _ = writeln!(out, "  closest known:");
    for n in &u.closest {
        let _ = writeln!(out, "    {:<34} {}", n.code, n.title);
    }
}
