//! The call path in the terminal: an indented tree, one branch per hop in call order, marked
//! ✔ clear, ✘ broken, ? unknown, · not traced (`[ok]`, `[X]`, `[?]`, `[-]` and `|--` branches
//! in plain ASCII), every line fitted to the width it is rendered for. Tenant text goes through
//! `text::for_terminal`, so no control character in it reaches the terminal.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::path::{AgentLeg, CallPath, Hop, HopKind, HopStatus};
use crate::report::text::{for_terminal, wrap_indented};

/// The characters a tree is drawn with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Glyphs {
    clear: &'static str,
    broken: &'static str,
    unknown: &'static str,
    not_traced: &'static str,
    branch: &'static str,
    last: &'static str,
    pipe: &'static str,
    arrow: &'static str,
}

impl Glyphs {
    pub const UNICODE: Glyphs = Glyphs {
        clear: "✔",
        broken: "✘",
        unknown: "?",
        not_traced: "·",
        branch: "├─ ",
        last: "└─ ",
        pipe: "│  ",
        arrow: "→",
    };
    pub const ASCII: Glyphs = Glyphs {
        clear: "[ok]",
        broken: "[X]",
        unknown: "[?]",
        not_traced: "[-]",
        branch: "|- ",
        last: "`- ",
        pipe: "|  ",
        arrow: "->",
    };

    /// Unicode when the terminal can show it: plain ASCII when `NO_COLOR` is set or the
    /// locale (`LC_ALL`, `LC_CTYPE`, `LANG`, the first one set) is not UTF-8.
    pub fn for_terminal() -> Glyphs {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        if var("NO_COLOR").is_some() {
            return Glyphs::ASCII;
        }
        let locale = var("LC_ALL")
            .or_else(|| var("LC_CTYPE"))
            .or_else(|| var("LANG"));
        match locale {
            Some(l) => {
                let l = l.to_ascii_lowercase();
                if l.contains("utf-8") || l.contains("utf8") {
                    Glyphs::UNICODE
                } else {
                    Glyphs::ASCII
                }
            }
            // Windows consoles have no locale variables and show Unicode.
            None if cfg!(windows) => Glyphs::UNICODE,
            None => Glyphs::ASCII,
        }
    }

    pub fn mark(&self, status: HopStatus) -> &'static str {
        match status {
            HopStatus::Clear => self.clear,
            HopStatus::Broken => self.broken,
            HopStatus::Unknown => self.unknown,
            HopStatus::NotTraced => self.not_traced,
        }
    }
}

/// One path as a tree: the number-side hops, then each agent's leg; with `summarize` (the legs
/// of every agent, `--number` alone), one line that counts where those agents stop instead.
pub fn path(p: &CallPath, summarize: Option<&[AgentLeg]>, g: Glyphs, width: usize) -> String {
    let summarize_agents = summarize.is_some();
    let legs = summarize.unwrap_or(&p.agents);
    let mut out = String::new();
    let number = for_terminal(&p.number);
    let title = match (summarize_agents, legs) {
        (false, [one]) => format!(
            "{number} {} {}: {}",
            g.arrow,
            for_terminal(&one.agent.upn),
            verdict(p, Some(one))
        ),
        _ => format!("{number}: {}", verdict(p, None)),
    };
    let _ = writeln!(out, "{}", wrap_indented(&title, width, "", "  "));
    // The agents (or their summary) always follow, so no number-side hop is the last branch.
    for hop in &p.hops {
        hop_branch(&mut out, hop, "", false, g, width);
    }
    if summarize_agents || legs.is_empty() {
        let line = match (&p.agents_note, legs.is_empty()) {
            (Some(note), true) => format!("agents: none traced ({note})"),
            (None, true) => "agents: none traced".into(),
            _ => format!(
                "{} (--agent UPN shows one agent's leg)",
                agents_summary(legs)
            ),
        };
        let _ = writeln!(
            out,
            "{}",
            wrap_indented(&for_terminal(&line), width, g.last, "   ")
        );
        return out;
    }
    for (i, leg) in legs.iter().enumerate() {
        let last = i + 1 == legs.len();
        let (first, rest) = if last {
            (g.last, "   ")
        } else {
            (g.branch, g.pipe)
        };
        let _ = writeln!(
            out,
            "{}",
            wrap_indented(
                &format!("agent {}", for_terminal(&leg.agent.upn)),
                width,
                first,
                rest
            )
        );
        for (j, hop) in leg.hops.iter().enumerate() {
            hop_branch(&mut out, hop, rest, j + 1 == leg.hops.len(), g, width);
        }
    }
    out
}

/// One hop: its mark, title and label, then its evidence and (on the first break) its fix.
fn hop_branch(out: &mut String, hop: &Hop, prefix: &str, last: bool, g: Glyphs, width: usize) {
    let (first, rest) = if last {
        (g.last, "   ")
    } else {
        (g.branch, g.pipe)
    };
    let head = format!(
        "{} {}: {}",
        g.mark(hop.status),
        hop.kind.title(),
        for_terminal(&hop.label)
    );
    let indent = format!("{prefix}{rest}     ");
    let _ = writeln!(
        out,
        "{}",
        wrap_indented(&head, width, &format!("{prefix}{first}"), &indent)
    );
    let body = format!("{prefix}{rest}  ");
    let more = format!("{body}    ");
    for line in evidence(hop) {
        let _ = writeln!(out, "{}", wrap_indented(&line, width, &body, &more));
    }
    if let Some(fix) = &hop.fix {
        for (i, (command, text)) in paragraphs(fix).into_iter().enumerate() {
            let label = match (i, command) {
                (0, _) => "fix: ",
                (_, true) => "       ",
                (_, false) => "     ",
            };
            let _ = writeln!(
                out,
                "{}",
                wrap_indented(
                    &for_terminal(&text),
                    width,
                    &format!("{body}{label}"),
                    &format!("{more}   ")
                )
            );
        }
    }
}

/// A remediation's paragraphs: an indented line is a command on its own (`true`); other lines
/// continue the prose before them, as the YAML broke them only to keep its lines short.
fn paragraphs(text: &str) -> Vec<(bool, String)> {
    let mut out: Vec<(bool, String)> = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let command = line.starts_with(char::is_whitespace);
        match out.last_mut() {
            Some((false, prose)) if !command => {
                prose.push(' ');
                prose.push_str(line.trim());
            }
            _ => out.push((command, line.trim().to_string())),
        }
    }
    out
}

/// The hop's evidence lines: every result that is not a pass, or the first pass and how many
/// more passed; then its note.
fn evidence(hop: &Hop) -> Vec<String> {
    let mut lines = Vec::new();
    let (decisive, passed): (Vec<_>, Vec<_>) = hop
        .checks
        .iter()
        .partition(|c| !matches!(c.status, crate::engine::Status::Pass));
    for c in &decisive {
        if c.status == crate::engine::Status::Skipped && !passed.is_empty() {
            continue;
        }
        let needs = c
            .needs
            .as_deref()
            .map(|n| format!(" (grant: {n})"))
            .unwrap_or_default();
        lines.push(format!(
            "{} {}: {}{needs}",
            c.check,
            c.status.as_str(),
            for_terminal(&c.evidence)
        ));
    }
    if let Some(c) = passed.first() {
        let more = match passed.len() - 1 {
            0 => String::new(),
            1 => " (and 1 more check passes)".into(),
            n => format!(" (and {n} more checks pass)"),
        };
        if decisive.is_empty() || hop.status == HopStatus::Clear {
            lines.push(format!(
                "{} pass: {}{more}",
                c.check,
                for_terminal(&c.evidence)
            ));
        }
    }
    if let Some(note) = &hop.note {
        lines.push(format!("note: {}", for_terminal(note)));
    }
    lines
}

/// The first hop of the path (number side, then `leg`) that is not clear, if any.
pub fn first_stop<'a>(p: &'a CallPath, leg: Option<&'a AgentLeg>) -> Option<&'a Hop> {
    let find = |s: HopStatus| {
        p.hops
            .iter()
            .chain(leg.into_iter().flat_map(|l| &l.hops))
            .find(|h| h.status == s)
    };
    find(HopStatus::Broken)
        .or_else(|| find(HopStatus::Unknown))
        .or_else(|| find(HopStatus::NotTraced))
}

/// What the path comes to: "clear", "broken at Number (NUM-002), 3 breaks", ...
fn verdict(p: &CallPath, leg: Option<&AgentLeg>) -> String {
    let hops: Vec<&Hop> = p
        .hops
        .iter()
        .chain(leg.into_iter().flat_map(|l| &l.hops))
        .collect();
    let breaks = hops
        .iter()
        .filter(|h| h.status == HopStatus::Broken)
        .count();
    match first_stop(p, leg) {
        None => "clear".into(),
        Some(h) => {
            let what = stop(h);
            if breaks > 1 {
                format!("{what} ({breaks} breaks)")
            } else {
                what
            }
        }
    }
}

/// "broken at Number (NUM-002)", "unknown at Agent (LIC-005)", "not traced at ...".
fn stop(h: &Hop) -> String {
    let word = match h.status {
        HopStatus::Broken => "broken at",
        HopStatus::Unknown => "unknown at",
        HopStatus::NotTraced => "not traced at",
        HopStatus::Clear => "clear at",
    };
    let check = h
        .checks
        .first()
        .filter(|_| h.status != HopStatus::NotTraced)
        .map(|c| format!(" ({})", c.check))
        .unwrap_or_default();
    format!("{word} {}{check}", h.kind.title())
}

/// "3 agents: 1 passes, 2 blocked at external access (EXT-001)".
pub fn agents_summary(legs: &[AgentLeg]) -> String {
    let mut groups: BTreeMap<(u8, HopKind, String), usize> = BTreeMap::new();
    for leg in legs {
        let stop = leg
            .hops
            .iter()
            .find(|h| h.status == HopStatus::Broken)
            .or_else(|| leg.hops.iter().find(|h| h.status == HopStatus::Unknown));
        let key = match stop {
            None => (0, HopKind::Agent, String::new()),
            Some(h) => (
                if h.status == HopStatus::Broken { 1 } else { 2 },
                h.kind,
                h.checks
                    .first()
                    .map(|c| c.check.clone())
                    .unwrap_or_default(),
            ),
        };
        *groups.entry(key).or_default() += 1;
    }
    let parts: Vec<String> = groups
        .iter()
        .map(|((rank, kind, check), n)| match rank {
            0 => format!("{n} {}", if *n == 1 { "passes" } else { "pass" }),
            1 => format!("{n} blocked at {} ({check})", kind.title().to_lowercase()),
            _ => format!("{n} unknown at {} ({check})", kind.title().to_lowercase()),
        })
        .collect();
    let agents = if legs.len() == 1 { "agent" } else { "agents" };
    if parts.is_empty() {
        return format!("0 {agents}");
    }
    format!("{} {agents}: {}", legs.len(), parts.join(", "))
}

/// One line per path: its mark and number, and where it first stops. With `agent`, the path
/// goes on through that agent's leg; else a path clear up to the agents ends with the summary
/// of `agents` (the same legs for every number).
pub fn overview(
    paths: &[CallPath],
    agents: &[AgentLeg],
    agent: Option<&AgentLeg>,
    g: Glyphs,
    width: usize,
) -> String {
    let summary = (agent.is_none() && !agents.is_empty()).then(|| {
        let worst = agents
            .iter()
            .filter_map(|l| first_stop_of(&l.hops))
            .map(|h| h.status)
            .min()
            .unwrap_or(HopStatus::Clear);
        (worst, agents_summary(agents))
    });
    let mut out = String::new();
    for p in paths {
        let stop = first_stop(p, agent);
        let (status, what) = match (stop, &summary) {
            (Some(h), _) => (h.status, stop_line(h)),
            (None, Some((worst, text))) => (*worst, format!("number side clear; {text}")),
            (None, None) if agent.is_some() => (HopStatus::Clear, "clear".into()),
            (None, None) => (
                HopStatus::Clear,
                "clear up to the agents (none traced)".into(),
            ),
        };
        let line = format!("{} {}  {what}", g.mark(status), for_terminal(&p.number));
        let _ = writeln!(out, "{}", wrap_indented(&line, width, "", "    "));
    }
    out
}

fn first_stop_of(hops: &[Hop]) -> Option<&Hop> {
    let find = |s: HopStatus| hops.iter().find(|h| h.status == s);
    find(HopStatus::Broken)
        .or_else(|| find(HopStatus::Unknown))
        .or_else(|| find(HopStatus::NotTraced))
}

/// Where a path stops, with the deciding result's evidence.
fn stop_line(h: &Hop) -> String {
    match h.checks.first() {
        Some(c) if h.status != HopStatus::NotTraced => {
            format!("{}: {}", stop(h), for_terminal(&c.evidence))
        }
        _ => stop(h),
    }
}
