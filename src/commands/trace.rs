//! `ccaudit trace [--number N] [--agent A] (--snapshot FILE | --tenant T …)`: the call path of a
//! contact-center number, hop by hop, built from the audit's own results and the model's joins.

use std::path::PathBuf;

use super::SnapshotLimit;
use super::live::{self, LiveArgs};
use crate::config;
use crate::engine::{self, Severity};
use crate::files;
use crate::model::{AuditConfig, TenantModel};
use crate::report::{self, ExitStatus};
use crate::trace::tree::{self, Glyphs};
use crate::trace::{AgentLeg, CallPath, Tracer};
use crate::triage::explain::levenshtein;

/// What `trace` prints; `mermaid` and `svg` join these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TraceFormat {
    /// An indented tree fitted to the terminal (plain ASCII when not UTF-8 or NO_COLOR).
    Tree,
    /// The call paths as JSON.
    Json,
    /// A mermaid `flowchart LR` (renders in GitHub, Azure DevOps and most wikis).
    Mermaid,
    /// A self-contained SVG picture.
    Svg,
}

#[derive(Debug, Clone, clap::Args)]
pub struct TraceArgs {
    /// The number a customer calls, in any common form (+1 425 555 0150, tel:+14255550150,
    /// 14255550150).
    #[arg(long, value_name = "NUMBER")]
    pub number: Option<String>,
    /// The agent the call is offered to, by UPN (any case) or object id.
    #[arg(long, value_name = "UPN_OR_ID")]
    pub agent: Option<String>,
    /// Snapshot file to trace (from `ccaudit collect`, or an example in examples/).
    #[arg(
        long,
        env = "CCAUDIT_SNAPSHOT",
        required_unless_present = "tenant",
        conflicts_with = "tenant"
    )]
    pub snapshot: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "tree")]
    pub format: TraceFormat,
    /// SKU part numbers or skuIds that count as a Contact Center agent license, as for `audit`.
    #[arg(long = "cc-sku", value_delimiter = ',', env = "CCAUDIT_CC_SKUS")]
    pub cc_skus: Vec<String>,
    #[command(flatten)]
    pub limit: SnapshotLimit,
    /// Or read the tenant live (`--tenant` and the live-collection flags of `audit`); last, as
    /// its help heading applies to the flags after it.
    #[command(flatten)]
    pub live: LiveArgs,
}

pub fn run(args: TraceArgs) -> Result<ExitStatus, String> {
    let (text, status) = render(
        &args,
        Glyphs::for_terminal(),
        report::table::terminal_width(),
    )?;
    files::emit_stdout(text.as_bytes(), false)?;
    Ok(status)
}

/// The output and the exit status (as `audit`'s, over the results on the paths shown).
pub fn render(args: &TraceArgs, g: Glyphs, width: usize) -> Result<(String, ExitStatus), String> {
    if args.snapshot.is_some()
        && let Some(flag) = args.live.unused_flag()
    {
        return Err(format!(
            "{flag} applies when reading a tenant live (--tenant), not to --snapshot"
        ));
    }
    let snapshot = match &args.snapshot {
        Some(path) => args.limit.load(path).map_err(|e| e.to_string())?,
        None => live::read_tenant(&args.live)?,
    };
    let model = TenantModel::from_snapshot(
        &snapshot,
        AuditConfig {
            contact_center_skus: config::sku_list(&args.cc_skus),
        },
    );
    drop(snapshot);
    let env = engine::cel::environment();
    let checks = engine::catalog::load(&env, None).map_err(|e| e.to_string())?;
    let results = engine::evaluate(&env, &checks, &model);
    let tracer = Tracer::new(&model, &results);
    let number = args
        .number
        .as_deref()
        .map(|n| find_number(&tracer, n))
        .transpose()?;
    let agent = args
        .agent
        .as_deref()
        .map(|a| find_agent(tracer.legs(), a))
        .transpose()?;
    let numbers: Vec<&str> = match number {
        Some(n) => vec![n],
        None => tracer.numbers().collect(),
    };
    if numbers.is_empty() {
        return Err(format!(
            "the model has no contact-center number to trace{}",
            match model.teams.numbers.unavailable() {
                Some(u) => format!(" (Teams numbers: {})", u.reason),
                None => String::new(),
            }
        ));
    }
    let one_leg: Vec<AgentLeg> = agent.into_iter().cloned().collect();
    // A path with one agent carries that leg; otherwise the legs (the same on every path) are
    // shown once, or summarized.
    let legs: &[AgentLeg] = match (agent, number, args.format) {
        (Some(_), _, _) => &one_leg,
        (None, Some(_), TraceFormat::Json | TraceFormat::Mermaid | TraceFormat::Svg) => {
            tracer.legs()
        }
        _ => &[],
    };
    let paths: Vec<CallPath> = numbers
        .iter()
        .filter_map(|n| tracer.path(n, legs))
        .collect();
    let text = match args.format {
        TraceFormat::Json => {
            let mut json = serde_json::to_string_pretty(&paths).map_err(|e| e.to_string())?;
            json.push('\n');
            json
        }
        TraceFormat::Mermaid => crate::trace::mermaid::render(&paths),
        TraceFormat::Svg => crate::trace::svg::render(&paths),
        TraceFormat::Tree => match (number, agent) {
            (Some(_), Some(_)) => tree::path(&paths[0], None, g, width),
            (Some(_), None) => tree::path(&paths[0], Some(tracer.legs()), g, width),
            (None, Some(leg)) => {
                let mut out = format!(
                    "{} serves every number below (which voice queue serves which number is not in the model):\n",
                    leg.agent.upn
                );
                out.push_str(&tree::overview(&paths, &[], Some(leg), g, width));
                out
            }
            (None, None) => tree::overview(&paths, tracer.legs(), None, g, width),
        },
    };
    // The results on the paths shown decide the exit status, as they would an audit's.
    let shown = paths
        .iter()
        .flat_map(|p| {
            p.hops.iter().chain(
                p.agents
                    .iter()
                    .chain(if agent.is_none() { tracer.legs() } else { &[] })
                    .flat_map(|l| &l.hops),
            )
        })
        .flat_map(|h| &h.checks)
        .map(|c| &results[c.result]);
    let status = report::exit_status_of(shown, Severity::Low);
    Ok((text, status))
}

/// The digits of a number in any common form (`+1 425 555 0150`, `tel:+1…`, `14255550150`).
fn digits(n: &str) -> String {
    let n = n.trim();
    let n = n
        .strip_prefix("tel:")
        .or_else(|| n.strip_prefix("TEL:"))
        .unwrap_or(n);
    n.chars().filter(char::is_ascii_digit).collect()
}

fn find_number<'t>(tracer: &'t Tracer<'_>, query: &str) -> Result<&'t str, String> {
    let want = digits(query);
    if let Some(n) = tracer
        .numbers()
        .find(|n| !want.is_empty() && digits(n) == want)
    {
        return Ok(n);
    }
    // A national number without its country code (4255550150), when only one number ends so.
    let mut ends = tracer
        .numbers()
        .filter(|n| want.len() >= 7 && digits(n).ends_with(&want));
    if let (Some(n), None) = (ends.next(), ends.next()) {
        return Ok(n);
    }
    let known: Vec<&str> = tracer.numbers().collect();
    Err(format!(
        "no contact-center number {query} in this tenant{}",
        closest(&known, &want, digits)
    ))
}

fn find_agent<'l>(legs: &'l [AgentLeg], query: &str) -> Result<&'l AgentLeg, String> {
    let q = query.trim();
    if let Some(leg) = legs
        .iter()
        .find(|l| l.agent.upn.eq_ignore_ascii_case(q) || l.agent.id.eq_ignore_ascii_case(q))
    {
        return Ok(leg);
    }
    let known: Vec<&str> = legs.iter().map(|l| l.agent.upn.as_str()).collect();
    Err(format!(
        "no agent {q} among the agents the audit covers{}",
        closest(&known, &q.to_lowercase(), |s| s.to_lowercase())
    ))
}

/// "; closest: a, b, c" (the three nearest by edit distance), or nothing when none is known.
fn closest(known: &[&str], want: &str, key: impl Fn(&str) -> String) -> String {
    let mut ranked: Vec<(usize, &str)> = known
        .iter()
        .map(|k| (levenshtein(&key(k), want), *k))
        .collect();
    ranked.sort();
    let near: Vec<&str> = ranked.iter().take(3).map(|(_, k)| *k).collect();
    if near.is_empty() {
        String::new()
    } else {
        format!("; closest: {}", near.join(", "))
    }
}
