//! `ccaudit explain`: the error-code knowledge base (`checks/errors.yaml`), finding known codes
//! and messages in whatever a user pastes (a bare code, `403/2203`, a log line, a JSON error
//! body), and ranking the checks that cause them in one tenant.
//!
//! The knowledge base is data, like the checks: one entry per error, with how sure we are and
//! the checks that cause it, most likely first. Checks also name the codes they explain
//! (`error_codes`); those checks are added after the ranked ones, so the two never disagree
//! silently.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::engine::{Basis, CheckResult, CheckSet, Status};

/// The built-in knowledge base, embedded at build time.
const BUILTIN: &str = include_str!("../../checks/errors.yaml");
const BUILTIN_ORIGIN: &str = "checks/errors.yaml";

/// One known error, as written in `checks/errors.yaml` (the file's header documents the fields).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub codes: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub generic: Vec<String>,
    #[serde(default)]
    pub messages: Vec<String>,
    pub seen_in: String,
    pub meaning: String,
    pub confidence: Basis,
    pub sources: Vec<Source>,
    /// Ranked check ids as written; `KnowledgeBase::linked_checks` adds the checks that name
    /// this entry's codes in their `error_codes`.
    #[serde(default)]
    pub checks: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uncovered: Option<String>,
}

/// Where a meaning comes from.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub url: String,
    pub what: String,
}

#[derive(Debug, thiserror::Error)]
#[error("{origin}:{line}: {message}")]
pub struct KbError {
    pub origin: String,
    pub line: usize,
    pub message: String,
}

/// A code as the matcher understands it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Code {
    /// A bare number such as `400801`.
    Number(u64),
    /// `STATUS/SUBCODE`, such as `403/2203`.
    Pair(u64, u64),
    /// `0x80048d0b`, lower case.
    Hex(String),
    /// An identifier such as `UserLicenseNotPresentForbidden`, lower case.
    Name(String),
}

impl Code {
    fn parse(text: &str) -> Option<Code> {
        let t = text.trim();
        if is_digits(t) {
            return t.parse().ok().map(Code::Number);
        }
        if let Some((s, n)) = t.split_once('/') {
            if s.len() == 3 && is_digits(s) && is_digits(n) {
                return Some(Code::Pair(s.parse().ok()?, n.parse().ok()?));
            }
            return None;
        }
        if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
            return (!hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit()))
                .then(|| Code::Hex(t.to_ascii_lowercase()));
        }
        let mut chars = t.chars();
        let first = chars.next()?;
        ((first.is_ascii_alphabetic() || first == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then(|| Code::Name(t.to_ascii_lowercase()))
    }

    /// The subcode a bare number in the input may stand for.
    fn subcode(&self) -> Option<u64> {
        match self {
            Code::Pair(_, n) => Some(*n),
            Code::Number(n) => Some(*n),
            _ => None,
        }
    }
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.len() <= 12 && s.chars().all(|c| c.is_ascii_digit())
}

/// A message phrase: `*` matches any text; case and runs of whitespace do not matter.
#[derive(Debug, Clone)]
struct Phrase {
    source: String,
    segments: Vec<String>,
}

impl Phrase {
    fn new(source: &str) -> Phrase {
        Phrase {
            source: source.to_string(),
            segments: source
                .split('*')
                .map(normalize_space)
                .filter(|s| !s.is_empty())
                .collect(),
        }
    }

    /// Byte offset (in `text`, already normalized) where the phrase starts, if it occurs.
    fn find(&self, text: &str) -> Option<usize> {
        let mut from = 0;
        let mut start = None;
        for seg in &self.segments {
            let at = text[from..].find(seg.as_str())? + from;
            start.get_or_insert(at);
            from = at + seg.len();
        }
        start
    }
}

/// Lower case with every run of whitespace turned into one space.
fn normalize_space(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// An entry with its codes and phrases compiled.
#[derive(Debug, Clone)]
struct Compiled {
    codes: Vec<(String, Code)>,
    generic: BTreeSet<String>,
    phrases: Vec<Phrase>,
}

/// The knowledge base: entries in file order.
#[derive(Debug, Clone)]
pub struct KnowledgeBase {
    origin: String,
    entries: Vec<Entry>,
    compiled: Vec<Compiled>,
    /// 1-based line of each entry, for errors.
    lines: Vec<usize>,
}

/// One entry found in the input.
#[derive(Debug, Clone, Serialize)]
pub struct Found<'a> {
    pub entry: &'a Entry,
    /// How the entry is named in sentences: the most specific code found, else the phrase.
    pub label: String,
    /// What in the input matched (codes as written in the knowledge base, phrases in quotes).
    pub matched: Vec<String>,
    /// Only generic codes matched (e.g. the 0x80048d0b wrapper alone).
    pub generic_only: bool,
    /// Caveats about the match (e.g. a status that differs from the knowledge base's).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    #[serde(skip)]
    position: usize,
}

/// An input code that matched nothing, with the known codes that look most like it.
#[derive(Debug, Clone, Serialize)]
pub struct Unknown {
    pub query: String,
    pub closest: Vec<Near>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Near {
    pub code: String,
    pub entry: String,
    pub title: String,
}

/// Everything `explain` found in one input.
#[derive(Debug, Clone, Serialize)]
pub struct Lookup<'a> {
    pub found: Vec<Found<'a>>,
    pub unknown: Vec<Unknown>,
}

impl KnowledgeBase {
    /// The knowledge base built into ccaudit.
    pub fn builtin() -> Result<KnowledgeBase, KbError> {
        KnowledgeBase::parse(BUILTIN_ORIGIN, BUILTIN)
    }

    /// Parses and validates a knowledge base file (not its check ids: see `validate_checks`).
    pub fn parse(origin: &str, text: &str) -> Result<KnowledgeBase, KbError> {
        let err = |line: usize, message: String| KbError {
            origin: origin.to_string(),
            line,
            message,
        };
        let entries: Vec<Entry> = serde_yaml::from_str(text).map_err(|e| {
            let line = e.location().map(|l| l.line()).unwrap_or(1);
            let msg = e.to_string();
            let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
            err(line, msg)
        })?;
        let mut seen = BTreeSet::new();
        let mut compiled = Vec::with_capacity(entries.len());
        let mut lines = Vec::with_capacity(entries.len());
        for e in &entries {
            let line = entry_line(text, &e.id);
            lines.push(line);
            let bad = |message: String| err(line, format!("entry `{}`: {message}", e.id));
            if !seen.insert(e.id.as_str()) {
                return Err(bad("duplicate id".into()));
            }
            if e.codes.is_empty() && e.messages.is_empty() {
                return Err(bad("needs at least one code or message".into()));
            }
            if e.sources.is_empty() || e.sources.iter().any(|s| !s.url.starts_with("https://")) {
                return Err(bad("sources must list at least one https:// url".into()));
            }
            let mut codes = Vec::new();
            for c in &e.codes {
                let code = Code::parse(c).ok_or_else(|| {
                    bad(format!(
                        "code `{c}` is not a number, STATUS/SUBCODE, 0x hex code or name \
                         (put phrases under `messages`)"
                    ))
                })?;
                codes.push((c.clone(), code));
            }
            for g in &e.generic {
                if !e.codes.contains(g) {
                    return Err(bad(format!("generic code `{g}` is not in `codes`")));
                }
            }
            if e.messages
                .iter()
                .any(|m| Phrase::new(m).segments.is_empty())
            {
                return Err(bad("a message phrase is empty".into()));
            }
            let mut ids = BTreeSet::new();
            if let Some(dup) = e.checks.iter().find(|c| !ids.insert(c.as_str())) {
                return Err(bad(format!("check `{dup}` is listed twice")));
            }
            compiled.push(Compiled {
                codes,
                generic: e.generic.iter().cloned().collect(),
                phrases: e.messages.iter().map(|m| Phrase::new(m)).collect(),
            });
        }
        Ok(KnowledgeBase {
            origin: origin.to_string(),
            entries,
            compiled,
            lines,
        })
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Every check id the knowledge base names must exist in `checks`.
    pub fn validate_checks(&self, checks: &CheckSet) -> Result<(), KbError> {
        for (e, line) in self.entries.iter().zip(&self.lines) {
            if let Some(missing) = e.checks.iter().find(|id| !checks.contains_key(id.as_str())) {
                return Err(KbError {
                    origin: self.origin.clone(),
                    line: *line,
                    message: format!(
                        "entry `{}` names check `{missing}`, which does not exist",
                        e.id
                    ),
                });
            }
        }
        Ok(())
    }

    /// The checks that cause `entry`, most likely first: its ranked list, then the checks whose
    /// `error_codes` name one of its codes or messages.
    pub fn linked_checks(&self, entry: &Entry, checks: &CheckSet) -> Vec<String> {
        let mut out: Vec<String> = entry.checks.clone();
        for check in checks.values() {
            if out.contains(&check.spec.id) {
                continue;
            }
            let names_entry = check.spec.error_codes.iter().any(|code| {
                self.lookup(code)
                    .found
                    .iter()
                    .any(|f| f.entry.id == entry.id && !f.generic_only)
            });
            if names_entry {
                out.push(check.spec.id.clone());
            }
        }
        out
    }

    /// Finds every known code and message in `input`; codes typed on their own that match
    /// nothing come back as unknown, with the closest known codes.
    pub fn lookup(&self, input: &str) -> Lookup<'_> {
        let scan = Scan::of(input);
        let text = normalize_space(input);
        let mut consumed = BTreeSet::new();
        let mut found = Vec::new();
        for (entry, compiled) in self.entries.iter().zip(&self.compiled) {
            let mut matched: Vec<(usize, String)> = Vec::new();
            let mut notes = Vec::new();
            let mut specific = false;
            for (written, code) in &compiled.codes {
                let hit = scan.find(code, &mut consumed, &mut notes);
                if let Some(pos) = hit {
                    matched.push((pos, written.clone()));
                    specific |= !compiled.generic.contains(written);
                }
            }
            for phrase in &compiled.phrases {
                if let Some(pos) = phrase.find(&text) {
                    matched.push((pos, format!("\"{}\"", phrase.source)));
                    specific = true;
                }
            }
            if matched.is_empty() {
                continue;
            }
            matched.sort();
            let position = matched[0].0;
            // A message identifies the entry as well as its code does, so name it by its code.
            let primary = compiled
                .codes
                .iter()
                .map(|(w, _)| w)
                .find(|w| !compiled.generic.contains(*w));
            let label = match (specific, primary) {
                (true, Some(code)) => code.clone(),
                (true, None) => matched
                    .iter()
                    .find(|(_, m)| m.starts_with('"'))
                    .map(|(_, m)| m.clone())
                    .unwrap_or_else(|| matched[0].1.clone()),
                (false, _) => matched[0].1.clone(),
            };
            let mut matched: Vec<String> = matched.into_iter().map(|(_, m)| m).collect();
            matched.dedup();
            // Repeats need not be adjacent (`404 … 2203, 405 … 2203, 404 … 2203`).
            let mut seen = BTreeSet::new();
            notes.retain(|n| seen.insert(n.clone()));
            found.push(Found {
                entry,
                label,
                matched,
                generic_only: !specific,
                notes,
                position,
            });
        }
        found.sort_by_key(|f| f.position);
        let unknown = scan
            .queries(&consumed, !found.is_empty())
            .into_iter()
            .map(|query| Unknown {
                closest: self.closest(&query, 5),
                query,
            })
            .collect();
        Lookup { found, unknown }
    }

    /// Up to `n` known codes that look most like `query` (edit distance, then shared digits).
    pub fn closest(&self, query: &str, n: usize) -> Vec<Near> {
        let q = query.trim().to_ascii_lowercase();
        let q_code = Code::parse(&q);
        let mut scored: Vec<((usize, usize, usize), Near)> = Vec::new();
        for (i, (entry, compiled)) in self.entries.iter().zip(&self.compiled).enumerate() {
            for (written, code) in &compiled.codes {
                let w = written.to_ascii_lowercase();
                let mut distance = levenshtein(&q, &w);
                // A bare status (`403`) is closest to the entries with that status.
                if let (Some(Code::Number(s)), Code::Pair(status, _)) = (&q_code, code)
                    && s == status
                {
                    distance = 0;
                }
                // `403/9999` vs `403/2203`, or `10125` vs `403/10124`: compare the subcodes too.
                if let (Some(qs), Some(cs)) =
                    (q_code.as_ref().and_then(Code::subcode), code.subcode())
                {
                    distance = distance.min(levenshtein(&qs.to_string(), &cs.to_string()));
                }
                let shared = shared_digits(&q, &w);
                scored.push((
                    (distance, usize::MAX - shared, i),
                    Near {
                        code: written.clone(),
                        entry: entry.id.clone(),
                        title: entry.title.clone(),
                    },
                ));
            }
        }
        scored.sort_by_key(|a| a.0);
        let mut out: Vec<Near> = Vec::new();
        for (_, near) in scored {
            if out.len() == n {
                break;
            }
            if !out.iter().any(|o| o.entry == near.entry) {
                out.push(near);
            }
        }
        out
    }
}

/// 1-based line of `- id: <id>` in the knowledge base text (1 when not found).
fn entry_line(text: &str, id: &str) -> usize {
    text.lines()
        .position(|l| {
            let l = l.trim_start().trim_start_matches("- ").trim();
            l.strip_prefix("id:").map(str::trim) == Some(id)
        })
        .map(|i| i + 1)
        .unwrap_or(1)
}

pub(crate) fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut row = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            row.push((prev[j] + cost).min(prev[j + 1] + 1).min(row[j] + 1));
        }
        prev = row;
    }
    prev[b.len()]
}

/// How many digits two strings share, counting repeats (a multiset intersection).
fn shared_digits(a: &str, b: &str) -> usize {
    let count = |s: &str| {
        let mut c = [0usize; 10];
        for d in s.chars().filter_map(|ch| ch.to_digit(10)) {
            c[d as usize] += 1;
        }
        c
    };
    let (ca, cb) = (count(a), count(b));
    (0..10).map(|i| ca[i].min(cb[i])).sum()
}

/// Unknown codes reported per input.
const MAX_QUERIES: usize = 8;

/// No error code is longer; a longer token (a base64 blob, a hash) is not one, and comparing
/// it with every known code would cost its length times theirs.
const MAX_CODE_LEN: usize = 64;

/// Words that join a status to its subcode (`403 subcode 2203`) or carry no code themselves.
const GLUE: &[&str] = &[
    "sub",
    "subcode",
    "code",
    "status",
    "statuscode",
    "http",
    "error",
    "errorcode",
    "suberrorcode",
    "and",
    "with",
];

/// The code-like tokens of an input, with their positions in the whitespace-normalized text.
#[derive(Debug, Default)]
struct Scan {
    tokens: Vec<Token>,
    /// (status token index, subcode token index) for `403/2203`, `403 subcode 2203`,
    /// `"code":403,"subCode":2203`.
    pairs: Vec<(usize, usize)>,
    /// Whether the input is a list of codes (short, code-like) rather than pasted text.
    codes_only: bool,
}

#[derive(Debug)]
struct Token {
    text: String,
    kind: TokenKind,
    position: usize,
    /// For a subcode paired with a status (`403 subcode 2203`), the status token's index: found
    /// in constant time, so matching stays linear in the input.
    status: Option<usize>,
}

#[derive(Debug, PartialEq)]
enum TokenKind {
    Number(u64),
    Hex,
    Word,
}

impl Scan {
    fn of(input: &str) -> Scan {
        let text = normalize_space(input);
        let mut tokens = Vec::new();
        // `-` and `.` belong to tokens so GUIDs, dates and versions stay whole: their digit
        // groups must not pass for subcodes.
        let is_token_char = |c: char| c.is_alphanumeric() || matches!(c, '_' | '-' | '.');
        let mut start = None;
        for (i, c) in text
            .char_indices()
            .chain(std::iter::once((text.len(), ' ')))
        {
            match (start, is_token_char(c)) {
                (None, true) => start = Some(i),
                (Some(s), false) => {
                    push_token(&text, s, i, &mut tokens);
                    start = None;
                }
                _ => {}
            }
        }
        let mut pairs = Vec::new();
        let numbers: Vec<usize> = (0..tokens.len())
            .filter(|&i| matches!(tokens[i].kind, TokenKind::Number(_)))
            .collect();
        for w in numbers.windows(2) {
            let (a, b) = (&tokens[w[0]], &tokens[w[1]]);
            let TokenKind::Number(status) = a.kind else {
                continue;
            };
            if a.text.len() != 3 || !(100..=599).contains(&status) {
                continue;
            }
            let between: String = text[a.position + a.text.len()..b.position]
                .chars()
                .filter(|c| c.is_alphanumeric())
                .collect();
            if between.is_empty() || (between.len() <= 24 && between.ends_with("subcode")) {
                pairs.push((w[0], w[1]));
            }
        }
        for &(status, sub) in &pairs {
            tokens[sub].status = Some(status);
        }
        let codes_only = tokens.len() <= 8
            && tokens.iter().all(|t| {
                t.kind != TokenKind::Word || GLUE.contains(&t.text.as_str()) || looks_like_code(t)
            });
        Scan {
            tokens,
            pairs,
            codes_only,
        }
    }

    /// Where `code` occurs, marking the tokens it used as consumed.
    fn find(
        &self,
        code: &Code,
        consumed: &mut BTreeSet<usize>,
        notes: &mut Vec<String>,
    ) -> Option<usize> {
        let mut hit = None;
        let mut take = |i: usize, consumed: &mut BTreeSet<usize>| {
            consumed.insert(i);
            let p = self.tokens[i].position;
            hit = Some(hit.map_or(p, |h: usize| h.min(p)));
        };
        match code {
            Code::Number(n) => {
                for (i, t) in self.tokens.iter().enumerate() {
                    if t.kind == TokenKind::Number(*n) {
                        take(i, consumed);
                        if let Some(s) = t.status {
                            consumed.insert(s);
                        }
                    }
                }
            }
            Code::Pair(status, sub) => {
                for (i, t) in self.tokens.iter().enumerate() {
                    if t.kind != TokenKind::Number(*sub) || t.text.len() < 4 {
                        continue;
                    }
                    take(i, consumed);
                    if let Some(s) = t.status {
                        consumed.insert(s);
                        if self.tokens[s].kind != TokenKind::Number(*status) {
                            notes.push(format!(
                                "the input pairs subcode {sub} with status {}; the knowledge \
                                 base knows it with status {status}",
                                self.tokens[s].text
                            ));
                        }
                    }
                }
            }
            Code::Hex(h) => {
                for (i, t) in self.tokens.iter().enumerate() {
                    if t.kind == TokenKind::Hex && t.text == *h {
                        take(i, consumed);
                    }
                }
            }
            Code::Name(name) => {
                for (i, t) in self.tokens.iter().enumerate() {
                    let whole = t.text == *name;
                    // `SCENARIO_INBOUND_ACCEPT2CONNECTED-failed`: hyphens join names in logs.
                    let part = t.text.contains('-') && t.text.split('-').any(|p| p == name);
                    if t.kind == TokenKind::Word && (whole || part) {
                        take(i, consumed);
                    }
                }
            }
        }
        hit
    }

    /// The code-like tokens nothing consumed, to report as unknown. Pasted text is full of
    /// numbers that are not error codes, so it reports only when nothing at all was found.
    fn queries(&self, consumed: &BTreeSet<usize>, found_any: bool) -> Vec<String> {
        if !self.codes_only && found_any {
            return Vec::new();
        }
        let mut out = Vec::new();
        // Only the first few are reported: stop there, and look repeats up in a set, so a
        // paste of thousands of distinct numbers costs one pass, not one per number.
        let mut seen = std::collections::HashSet::new();
        let mut used = consumed.clone();
        for &(a, b) in &self.pairs {
            if out.len() == MAX_QUERIES {
                break;
            }
            if !used.contains(&a) && !used.contains(&b) {
                out.push(format!("{}/{}", self.tokens[a].text, self.tokens[b].text));
                used.insert(a);
                used.insert(b);
            }
        }
        for (i, t) in self.tokens.iter().enumerate() {
            if out.len() == MAX_QUERIES {
                break;
            }
            if used.contains(&i) {
                continue;
            }
            let code_like = match t.kind {
                TokenKind::Number(_) => t.text.len() >= 3,
                TokenKind::Hex => true,
                TokenKind::Word => !GLUE.contains(&t.text.as_str()) && looks_like_code(t),
            };
            if code_like && seen.insert(t.text.as_str()) {
                out.push(t.text.clone());
            }
        }
        if out.is_empty() && !found_any {
            let mut text = String::new();
            for t in &self.tokens {
                if text.len() >= 80 {
                    break;
                }
                if !text.is_empty() {
                    text.push(' ');
                }
                text.push_str(&t.text);
            }
            if !text.is_empty() {
                out.push(text.chars().take(80).collect());
            }
        }
        out
    }
}

fn push_token(text: &str, start: usize, end: usize, out: &mut Vec<Token>) {
    let raw = &text[start..end];
    let trimmed = raw.trim_matches(|c| matches!(c, '-' | '.'));
    if trimmed.is_empty() {
        return;
    }
    let position = start + raw.find(trimmed).unwrap_or(0);
    let kind = if is_digits(trimmed) {
        match trimmed.parse() {
            Ok(n) => TokenKind::Number(n),
            Err(_) => TokenKind::Word,
        }
    } else if matches!(Code::parse(trimmed), Some(Code::Hex(_))) {
        TokenKind::Hex
    } else {
        TokenKind::Word
    };
    out.push(Token {
        text: trimmed.to_string(),
        kind,
        position,
        status: None,
    });
}

/// An identifier that could be an error code name rather than an English word:
/// `usernotfound` is not decidable once lower-cased, so anything long without spaces counts
/// when it has a digit or an underscore, or is one long word.
fn looks_like_code(t: &Token) -> bool {
    let s = &t.text;
    (4..=MAX_CODE_LEN).contains(&s.len())
        && (s.chars().any(|c| c.is_ascii_digit() || c == '_') || s.len() >= 12)
        && !s.contains('.')
}

// ---------------------------------------------------------------------------------------------
// In a tenant

/// One linked check, as it came out in the tenant.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CheckVerdict {
    pub check: String,
    pub title: String,
    pub area: String,
    /// 1 = most likely cause.
    pub rank: usize,
    /// The worst status over its subjects: fail, missing, unknown, pass, skipped.
    pub status: Status,
    pub subject_kind: String,
    /// Results with a verdict (not skipped).
    pub evaluated: usize,
    /// Subjects that fail or are missing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failing: Vec<String>,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub needs: Option<String>,
    /// For a finding: the check's fix steps (from its `fix:`), as `engine::fix` describes them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fix: Vec<String>,
}

impl CheckVerdict {
    /// `ACSFED-002 (fail)`, `EXT-001 (fail for 2 of 3 agents)`.
    pub fn phrase(&self) -> String {
        let word = self.status.as_str();
        if self.status.is_finding() && self.evaluated > 1 && self.subject_kind != "tenant" {
            format!(
                "{} ({word} for {} of {} {})",
                self.check,
                self.failing.len(),
                self.evaluated,
                plural(&self.subject_kind)
            )
        } else {
            format!("{} ({word})", self.check)
        }
    }
}

/// A check's fix steps described for people, its subject shown as `<kind>`.
fn fix_lines(spec: &crate::engine::check::CheckSpec) -> Vec<String> {
    let Some(fix) = &spec.fix else {
        return Vec::new();
    };
    let (name, id) = (
        format!("<{}>", spec.subject_kind),
        format!("<{} id>", spec.subject_kind),
    );
    let subject = crate::engine::fix::Placeholders {
        subject: &name,
        subject_id: &id,
        quote: str::to_string,
    };
    fix.steps
        .iter()
        .flat_map(|s| s.describe())
        .map(|l| subject.fill(&l))
        .collect()
}

/// How the checks linked to one entry came out in a tenant, findings first.
#[derive(Debug, Clone, Serialize)]
pub struct TenantView {
    /// One paragraph: the likely causes here, what could not be evaluated, what is ruled out.
    pub summary: String,
    pub checks: Vec<CheckVerdict>,
}

/// Ranks `linked` (most likely first) by how they came out in `results`: findings, then
/// unknown, then pass (ruled out), then skipped.
pub fn in_tenant(
    label: &str,
    linked: &[String],
    checks: &CheckSet,
    results: &[CheckResult],
) -> TenantView {
    let mut verdicts: Vec<CheckVerdict> = linked
        .iter()
        .enumerate()
        .filter_map(|(i, id)| {
            let check = checks.get(id)?;
            let mine: Vec<&CheckResult> = results.iter().filter(|r| &r.check == id).collect();
            let status = mine
                .iter()
                .map(|r| r.status)
                .min()
                .unwrap_or(Status::Skipped);
            let failing: Vec<String> = mine
                .iter()
                .filter(|r| r.status.is_finding())
                .map(|r| {
                    r.subject
                        .as_ref()
                        .map(|s| s.name.clone())
                        .unwrap_or_else(|| "tenant".into())
                })
                .collect();
            let first = mine.iter().find(|r| r.status == status);
            Some(CheckVerdict {
                check: id.clone(),
                title: check.spec.title.clone(),
                area: check.spec.area.clone(),
                rank: i + 1,
                status,
                subject_kind: check.spec.subject_kind.clone(),
                evaluated: mine.iter().filter(|r| r.status != Status::Skipped).count(),
                failing,
                message: first.map(|r| r.message.clone()).unwrap_or_default(),
                needs: first.and_then(|r| r.needs.clone()),
                fix: if status.is_finding() {
                    fix_lines(&check.spec)
                } else {
                    Vec::new()
                },
            })
        })
        .collect();
    verdicts.sort_by_key(|v| (group(v.status), v.rank));
    TenantView {
        summary: summarize(label, &verdicts),
        checks: verdicts,
    }
}

/// Fail and missing lead together (rank decides between them), then unknown, pass, skipped.
fn group(status: Status) -> u8 {
    match status {
        Status::Fail | Status::Missing => 0,
        Status::Unknown => 1,
        Status::Pass => 2,
        Status::Skipped => 3,
    }
}

fn summarize(label: &str, verdicts: &[CheckVerdict]) -> String {
    if verdicts.is_empty() {
        return format!("No check covers {label}; see the meaning above.");
    }
    let findings: Vec<String> = verdicts
        .iter()
        .filter(|v| v.status.is_finding())
        .map(CheckVerdict::phrase)
        .collect();
    let unknown: Vec<&str> = verdicts
        .iter()
        .filter(|v| v.status == Status::Unknown)
        .map(|v| v.check.as_str())
        .collect();
    let mut parts = Vec::new();
    parts.push(if findings.is_empty() {
        format!("No check linked to {label} fails in this tenant")
    } else {
        format!(
            "{label} is most likely caused here by {}",
            join_and(&findings)
        )
    });
    if !unknown.is_empty() {
        parts.push(format!(
            "{} could not be evaluated (unknown: grant access and re-collect)",
            join_and(&unknown)
        ));
    }
    // An area is ruled out when every linked check in it that gave a verdict passes.
    let mut areas: Vec<(&str, Vec<&str>)> = Vec::new();
    let mut spoiled = BTreeSet::new();
    let mut by_rank: Vec<&CheckVerdict> = verdicts.iter().collect();
    by_rank.sort_by_key(|v| v.rank);
    for v in by_rank {
        match v.status {
            Status::Pass => match areas.iter_mut().find(|(a, _)| *a == v.area) {
                Some((_, ids)) => ids.push(&v.check),
                None => areas.push((&v.area, vec![&v.check])),
            },
            Status::Skipped => {}
            _ => {
                spoiled.insert(v.area.as_str());
            }
        }
    }
    let ruled_out: Vec<&(&str, Vec<&str>)> =
        areas.iter().filter(|(a, _)| !spoiled.contains(a)).collect();
    if let Some(((area, ids), rest)) = ruled_out.split_first().map(|(f, r)| (*f, r)) {
        let name = area_name(area);
        let verb = if ids.len() == 1 { "passes" } else { "pass" };
        let mut sentence = format!(
            "{} {verb}, so {name} {} ruled out",
            join_and(ids),
            if name.ends_with('s') { "are" } else { "is" }
        );
        if !rest.is_empty() {
            let others: Vec<String> = rest
                .iter()
                .map(|(a, ids)| format!("{} ({})", area_name(a), ids.join(", ")))
                .collect();
            sentence.push_str(&format!(", as are {}", join_and(&others)));
        }
        parts.push(sentence);
    }
    let mut summary = parts.join("; ");
    summary.push('.');
    summary
}

/// An area as a phrase in a sentence.
pub fn area_name(area: &str) -> &str {
    match area {
        "d365" => "the D365 settings",
        "acs-federation" => "ACS federation",
        "external-access" => "external access",
        "information-barriers" => "information barriers",
        "resource-accounts" => "resource accounts",
        "licensing" => "licensing",
        "agents" => "agent accounts",
        "numbers" => "phone numbers",
        "acs" => "ACS authorization",
        other => other,
    }
}

/// `agent` → `agents`, `external access policy` → `external access policies`.
pub fn plural(kind: &str) -> String {
    if let Some(stem) = kind.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'i', 'o', 'u'])
    {
        return format!("{stem}ies");
    }
    format!("{kind}s")
}

/// `a`, `a and b`, `a, b and c`.
pub fn join_and<S: AsRef<str>>(items: &[S]) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_string(),
        [init @ .., last] => format!(
            "{} and {}",
            init.iter()
                .map(|s| s.as_ref())
                .collect::<Vec<_>>()
                .join(", "),
            last.as_ref()
        ),
    }
}

/// Check ids linked to the found entries, each once, in order of first appearance.
pub fn all_linked(kb: &KnowledgeBase, found: &[Found<'_>], checks: &CheckSet) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for f in found {
        for id in kb.linked_checks(f.entry, checks) {
            if !out.contains(&id) {
                out.push(id);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kb() -> &'static KnowledgeBase {
        static KB: std::sync::LazyLock<KnowledgeBase> = std::sync::LazyLock::new(|| {
            KnowledgeBase::builtin().expect("the built-in knowledge base parses")
        });
        &KB
    }

    fn ids(lookup: &Lookup<'_>) -> Vec<String> {
        lookup.found.iter().map(|f| f.entry.id.clone()).collect()
    }

    #[test]
    fn bare_code_pair_and_subcode_phrasing_find_the_same_entry() {
        let kb = kb();
        for input in [
            "403/2203",
            "403 subcode 2203",
            "2203",
            "403, subcode 2203",
            "403 / 2203",
        ] {
            assert_eq!(ids(&kb.lookup(input)), ["acs-403-2203"], "{input}");
        }
    }

    #[test]
    fn json_error_body_is_searched_for_codes_and_messages() {
        let kb = kb();
        let body = r#"{"error":{"code":"0x80048d0b","message":"API Error : Operation is not supported in Open state","@Microsoft.PowerApps.CDS.ErrorDetails.SubErrorCode":"400801"}}"#;
        let l = kb.lookup(body);
        assert_eq!(ids(&l), ["accept-open-state"]);
        assert!(!l.found[0].generic_only);
        assert_eq!(
            l.found[0].label, "400801",
            "a message names the entry by its code"
        );
        assert!(l.unknown.is_empty());
    }

    #[test]
    fn call_end_reason_json_pairs_code_and_subcode() {
        let l = kb().lookup(r#"{"callEndReason":{"code":487,"subCode":10004}}"#);
        assert_eq!(ids(&l), ["acs-487-10004"]);
        assert_eq!(l.found[0].matched, ["487/10004"]);
    }

    #[test]
    fn generic_wrapper_alone_is_flagged() {
        let l = kb().lookup("0x80048d0b");
        assert_eq!(ids(&l), ["accept-open-state"]);
        assert!(l.found[0].generic_only);
    }

    #[test]
    fn guid_digit_groups_are_not_subcodes() {
        // 2203 and 8523 hide in these GUIDs; neither may match.
        let l = kb().lookup("request-id 1fd5118e-2203-4263-8523-9503064c837a failed at 2026-11-27");
        assert!(l.found.is_empty(), "{:?}", ids(&l));
    }

    #[test]
    fn status_mismatch_is_noted_not_hidden() {
        let l = kb().lookup("403/10004");
        assert_eq!(ids(&l), ["acs-487-10004"]);
        assert!(
            l.found[0].notes[0].contains("487"),
            "{:?}",
            l.found[0].notes
        );
    }

    #[test]
    fn names_match_case_insensitively_and_inside_hyphenated_log_tokens() {
        let l = kb().lookup(
            "scenario SCENARIO_INBOUND_ACCEPT2CONNECTED-failed reason=takingtoolongtoconnecttocall",
        );
        assert_eq!(ids(&l), ["accept-to-connected-timeout"]);
    }

    #[test]
    fn every_occurrence_in_a_log_is_found_in_order() {
        let log = "AddParticipantFailed 403 subcode 2203 ... later: Invalid cancellation token; accept: 400801";
        assert_eq!(
            ids(&kb().lookup(log)),
            ["acs-403-2203", "invite-cancel-token", "accept-open-state"]
        );
    }

    #[test]
    fn unknown_code_lists_closest_known_ones() {
        let l = kb().lookup("403/10125");
        assert!(l.found.is_empty());
        assert_eq!(l.unknown.len(), 1);
        assert_eq!(l.unknown[0].query, "403/10125");
        assert_eq!(l.unknown[0].closest[0].code, "403/10124");
    }

    #[test]
    fn a_bare_status_is_closest_to_the_entries_with_that_status() {
        let l = kb().lookup("487");
        assert!(l.found.is_empty());
        let codes: Vec<&str> = l.unknown[0]
            .closest
            .iter()
            .map(|n| n.code.as_str())
            .collect();
        assert!(
            codes[..2].iter().all(|c| c.starts_with("487/")),
            "{codes:?}"
        );
    }

    #[test]
    fn a_typed_list_reports_the_unknown_code_next_to_the_known_one() {
        let l = kb().lookup("400801 12345");
        assert_eq!(ids(&l), ["accept-open-state"]);
        assert_eq!(l.unknown.len(), 1);
        assert_eq!(l.unknown[0].query, "12345");
    }

    #[test]
    fn many_unknown_codes_report_the_first_eight_once_each() {
        let text: String = (0..20)
            .map(|i| format!("{} {} ", 70_000 + i, 70_000 + i))
            .collect();
        let l = kb().lookup(&text);
        let queries: Vec<&str> = l.unknown.iter().map(|u| u.query.as_str()).collect();
        let first: Vec<String> = (0..8).map(|i| (70_000 + i).to_string()).collect();
        assert_eq!(queries, first);
    }

    #[test]
    fn a_token_longer_than_any_code_is_not_an_unknown_code() {
        let blob = "a1".repeat(100);
        let l = kb().lookup(&format!("{blob} 12345"));
        let queries: Vec<&str> = l.unknown.iter().map(|u| u.query.as_str()).collect();
        assert_eq!(queries, ["12345"]);
    }

    #[test]
    fn a_subcode_repeated_with_other_statuses_notes_each_status_once() {
        let l = kb().lookup("404 subcode 10391, 405 subcode 10391, 404 subcode 10391");
        let found = &l.found[0];
        assert_eq!(found.notes.len(), 2, "{:?}", found.notes);
    }

    #[test]
    fn pasted_text_with_a_known_code_does_not_report_its_other_numbers() {
        let l = kb()
            .lookup("at 2026-11-27 05:22:03 the call 55123 failed with 403/10391 after 3000 ms");
        assert_eq!(ids(&l), ["acs-403-10391"]);
        assert!(l.unknown.is_empty(), "{:?}", l.unknown);
    }

    const ENTRY: &str = "- id: a
  title: t
  codes: ['123']
  seen_in: s
  meaning: m
  confidence: documented
  sources: [{url: 'https://x', what: w}]
";

    #[test]
    fn a_phrase_written_as_a_code_is_rejected_with_its_line() {
        let text = format!(
            "{ENTRY}{}",
            ENTRY
                .replace("id: a", "id: b")
                .replace("'123'", "'not a code!'")
        );
        let err = KnowledgeBase::parse("kb.yaml", &text).unwrap_err();
        assert_eq!(err.line, 8, "{err}");
        assert!(err.message.contains("not a code!"), "{err}");
    }

    #[test]
    fn duplicate_entry_ids_are_rejected() {
        let err = KnowledgeBase::parse("kb.yaml", &format!("{ENTRY}{ENTRY}")).unwrap_err();
        assert!(err.message.contains("duplicate"), "{err}");
    }

    #[test]
    fn plural_and_join() {
        assert_eq!(plural("agent"), "agents");
        assert_eq!(plural("external access policy"), "external access policies");
        assert_eq!(join_and(&["a", "b", "c"]), "a, b and c");
    }
}
