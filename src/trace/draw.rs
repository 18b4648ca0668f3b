//! What every picture of a path needs: which hops to highlight (the broken hop and everything
//! after it), the status as a symbol and a word (colour is never the only signal), the line
//! that says why, and elision of long values.

use super::{AgentRef, CallPath, Hop, HopStatus};

/// How a hop is drawn relative to the breaks on its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mark {
    /// Before any break: drawn by its own status.
    Normal,
    /// A broken hop (the first or a later one).
    Broken,
    /// After a break: the call never gets here, whatever the hop's own status.
    After,
}

impl Mark {
    pub(crate) fn class(self, status: HopStatus) -> &'static str {
        match self {
            Mark::Broken => "broken",
            Mark::After => "after",
            Mark::Normal => match status {
                HopStatus::Broken => "broken",
                HopStatus::Unknown => "unknown",
                HopStatus::NotTraced => "nottraced",
                HopStatus::Clear => "clear",
            },
        }
    }
}

pub(crate) struct Marked<'a> {
    pub hop: &'a Hop,
    pub mark: Mark,
}

/// The hops of a path with their marks: the shared hops, then one row per agent leg.
pub(crate) struct MarkedPath<'a> {
    pub shared: Vec<Marked<'a>>,
    pub legs: Vec<(&'a AgentRef, Vec<Marked<'a>>)>,
}

pub(crate) fn marked(path: &CallPath) -> MarkedPath<'_> {
    fn mark_all<'a>(hops: &'a [Hop], mut broken: bool) -> (Vec<Marked<'a>>, bool) {
        let marked = hops
            .iter()
            .map(|hop| {
                let mark = if hop.status == HopStatus::Broken {
                    Mark::Broken
                } else if broken {
                    Mark::After
                } else {
                    Mark::Normal
                };
                broken |= hop.status == HopStatus::Broken;
                Marked { hop, mark }
            })
            .collect();
        (marked, broken)
    }
    let (shared, broken) = mark_all(&path.hops, false);
    let legs = path
        .agents
        .iter()
        .map(|leg| (&leg.agent, mark_all(&leg.hops, broken).0))
        .collect();
    MarkedPath { shared, legs }
}

/// The status as a symbol, readable without colour.
pub(crate) fn symbol(status: HopStatus) -> &'static str {
    match status {
        HopStatus::Clear => "✔",
        HopStatus::Broken => "✘",
        HopStatus::Unknown => "?",
        HopStatus::NotTraced => "–",
    }
}

pub(crate) fn word(status: HopStatus) -> &'static str {
    match status {
        HopStatus::Clear => "clear",
        HopStatus::Broken => "broken",
        HopStatus::Unknown => "unknown",
        HopStatus::NotTraced => "not traced",
    }
}

/// Why the hop has its status, in a few words: the deciding check and its verdict, or the note.
pub(crate) fn reason(hop: &Hop) -> String {
    match (hop.checks.first(), &hop.note) {
        (Some(c), _) => format!("{} {}", c.check, c.status.as_str()),
        (None, Some(note)) => note.clone(),
        (None, None) => "no check decides this hop".into(),
    }
}

/// Every hop of the path, shared and per agent.
pub(crate) fn all_hops(path: &CallPath) -> impl Iterator<Item = &Hop> {
    path.hops
        .iter()
        .chain(path.agents.iter().flat_map(|leg| leg.hops.iter()))
}

/// How badly the path breaks, for ordering: broken hops, then unknown ones, most first.
pub fn severity(path: &CallPath) -> (usize, usize) {
    let count = |s: HopStatus| all_hops(path).filter(|h| h.status == s).count();
    (count(HopStatus::Broken), count(HopStatus::Unknown))
}

/// The first hop where the call breaks: a shared one, else the first broken hop of any leg.
pub fn first_break(path: &CallPath) -> Option<&Hop> {
    all_hops(path).find(|h| h.status == HopStatus::Broken)
}

/// The heading of a path: its number and where it first breaks.
pub fn title(path: &CallPath) -> String {
    match first_break(path) {
        Some(hop) => format!(
            "{} ✘ breaks at {} ({})",
            path.number,
            hop.kind.title(),
            reason(hop)
        ),
        None if all_hops(path).all(|h| h.status == HopStatus::Clear) => {
            format!("{} ✔ clear", path.number)
        }
        None => format!("{} ? not fully read", path.number),
    }
}

/// At most `max` characters: longer text keeps its start and end around an ellipsis, so both
/// a UPN's name and its domain, or an ARM path's resource name, stay visible.
pub(crate) fn elide(text: &str, max: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= max || max < 5 {
        return text.to_string();
    }
    let tail = (max - 1) * 2 / 5;
    let head = max - 1 - tail;
    let mut out: String = chars[..head].iter().collect();
    out.push('…');
    out.extend(&chars[chars.len() - tail..]);
    out
}

/// One line: control characters and line breaks become spaces.
pub(crate) fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::sample;

    #[test]
    fn elision_keeps_both_ends_and_the_length() {
        let upn = "ra_cc_sales_queue_for_the_west_coast@contoso.onmicrosoft.com";
        let short = elide(upn, 30);
        assert_eq!(short.chars().count(), 30);
        assert!(short.starts_with("ra_cc_sales"));
        assert!(short.ends_with("crosoft.com"), "{short}");
        assert_eq!(elide("short", 30), "short");
    }

    #[test]
    fn the_broken_hop_and_everything_after_are_marked() {
        let path = sample::field_case();
        let m = marked(&path);
        let marks: Vec<Mark> = m.shared.iter().map(|h| h.mark).collect();
        assert_eq!(
            marks,
            [Mark::Broken, Mark::After, Mark::After, Mark::Broken]
        );
        let leg: Vec<Mark> = m.legs[0].1.iter().map(|h| h.mark).collect();
        assert_eq!(leg, [Mark::Broken, Mark::After, Mark::After]);
        assert!(
            marked(&sample::clear())
                .shared
                .iter()
                .all(|h| h.mark == Mark::Normal)
        );
    }

    #[test]
    fn a_clear_path_has_no_break_and_sorts_last() {
        assert!(first_break(&sample::clear()).is_none());
        assert_eq!(
            first_break(&sample::field_case()).map(|h| h.label.as_str()),
            Some("+14255550150")
        );
        assert!(severity(&sample::field_case()) > severity(&sample::clear()));
    }
}
