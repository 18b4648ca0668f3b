//! Text for terminals and documents: tenant data neutralized (no control character reaches a
//! terminal or a document from it), and lines wrapped to a display width.

use std::borrow::Cow;

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Whether `c` must not reach an output as is: C0 controls (ESC, BEL, CR, ...) but newline and
/// tab, DEL, and the C1 controls (U+0080–U+009F, which some terminals obey as CSI, OSC, ...).
pub fn is_unsafe(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

/// `s` with every unsafe character written as a visible escape, `\u{1b}`.
pub fn neutralize(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// For the terminal table: `neutralize`, and a tab as a space (a tab's width depends on the
/// column it lands in, so a cell holding one would not line up).
pub fn for_terminal(s: &str) -> Cow<'_, str> {
    match neutralize(s) {
        Cow::Borrowed(b) if !b.contains('\t') => Cow::Borrowed(b),
        other => Cow::Owned(other.replace('\t', " ")),
    }
}

/// Display width of `s` in a terminal (wide characters count two).
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// Characters after which a word too long for a line may be broken: path, list and name
/// separators (`/subscriptions/…/providers/…`, GUIDs, `a,b`, `user@domain.com`).
const BREAK_AFTER: &[char] = &['/', '\\', '-', ',', '.', '@', '_', ':', ';'];

/// Wraps `text` to lines of at most `width` columns: at spaces, and a word longer than a line at
/// the separators in `BREAK_AFTER` (at a character boundary when it has none). Newlines in the
/// text are kept. Returns at least one line.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    wrap_hanging(text, width, width)
}

/// `wrap`, with the first line `first` columns wide and the others `width`.
fn wrap_hanging(text: &str, first: usize, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for paragraph in text.split('\n') {
        // Leading spaces (an indented command) indent every line the paragraph wraps to.
        let body = paragraph.trim_start_matches(' ');
        let lead = &paragraph[..paragraph.len() - body.len()];
        let room_of = |lines: &Vec<String>| if lines.is_empty() { first } else { width }.max(1);
        let lead = if lead.len() + 8 > room_of(&lines) {
            ""
        } else {
            lead
        };
        let start = lines.len();
        // Columns for text on the line being filled, after the lead.
        let avail = |lines: &Vec<String>| room_of(lines) - lead.len();
        let mut line = String::new();
        let mut line_width = 0;
        for word in body.split(' ') {
            let w = self::width(word);
            let sep = usize::from(!line.is_empty());
            let room = avail(&lines);
            if line_width + sep + w <= room {
                if sep == 1 {
                    line.push(' ');
                }
                line.push_str(word);
                line_width += sep + w;
                continue;
            }
            // A word that fits on a line of its own goes there, unless this line holds only a
            // short label (`docs:`) and the word can be cut at a separator.
            let label_only = line_width * 4 < room && word.contains(BREAK_AFTER);
            if w <= width.saturating_sub(lead.len()) && !label_only {
                lines.push(std::mem::take(&mut line));
                line.push_str(word);
                line_width = w;
                continue;
            }
            // Cut the word at separators. It starts on this line when a quarter of the line
            // is left, so a long path does not leave a line nearly empty.
            if !line.is_empty() {
                if room - line_width > room / 4 {
                    line.push(' ');
                    line_width += 1;
                } else {
                    lines.push(std::mem::take(&mut line));
                    line_width = 0;
                }
            }
            let mut rest = word;
            while !rest.is_empty() {
                let room = avail(&lines) - line_width;
                let rest_width = self::width(rest);
                if rest_width <= room {
                    line.push_str(rest);
                    line_width += rest_width;
                    break;
                }
                let cut = cut_point(rest, room, line_width == 0);
                if cut > 0 {
                    line.push_str(&rest[..cut]);
                    rest = &rest[cut..];
                }
                lines.push(std::mem::take(&mut line));
                line_width = 0;
            }
        }
        lines.push(line);
        if !lead.is_empty() {
            for l in &mut lines[start..] {
                l.insert_str(0, lead);
            }
        }
    }
    lines
}

/// Where to cut `word` so that its head fits in `room` columns: after a path or name separator
/// (`/`, `\\`, `@`, `,`) that leaves at least half the room used, else after the last
/// separator of any kind that fits (on a fresh line, or using a third of the room), else — on a
/// fresh line — at the last character that fits. 0 means nothing worth putting on this line:
/// continue on the next.
fn cut_point(word: &str, room: usize, fresh_line: bool) -> usize {
    let (mut used, mut last_strong, mut last_sep, mut last_fit) = (0, None, None, 0);
    for (i, c) in word.char_indices() {
        used += c.width().unwrap_or(0);
        if used > room {
            break;
        }
        let end = i + c.len_utf8();
        last_fit = end;
        if matches!(c, '/' | '\\' | '@' | ',') {
            last_strong = Some((end, used));
        }
        if BREAK_AFTER.contains(&c) {
            last_sep = Some((end, used));
        }
    }
    match (last_strong, last_sep) {
        (Some((end, w)), _) if 2 * w >= room => end,
        (_, Some((end, w))) if fresh_line || 3 * w >= room => end,
        _ if fresh_line => last_fit.max(word.chars().next().map_or(0, char::len_utf8)),
        _ => 0,
    }
}

/// `text` wrapped to `width` columns, each line after the first indented by `indent` (and the
/// first by `first`); the lines joined with newlines, without a final one.
pub fn wrap_indented(text: &str, width: usize, first: &str, indent: &str) -> String {
    let first_room = width.saturating_sub(self::width(first)).max(8);
    let room = width.saturating_sub(self::width(indent)).max(8);
    let mut out = String::new();
    for (i, line) in wrap_hanging(text, first_room, room).into_iter().enumerate() {
        if i > 0 {
            out.push('\n');
            out.push_str(indent);
        } else {
            out.push_str(first);
        }
        out.push_str(&line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_text_is_kept() {
        assert_eq!(
            neutralize("a\x1b]0;owned\x07b\x1b[2J\r\u{9b}c\u{7f}"),
            "a\\u{1b}]0;owned\\u{7}b\\u{1b}[2J\\u{d}\\u{9b}c\\u{7f}"
        );
        assert_eq!(neutralize("line\n\tnext é 名"), "line\n\tnext é 名");
        assert!(matches!(neutralize("plain"), Cow::Borrowed(_)));
        assert_eq!(for_terminal("a\tb\x1b"), "a b\\u{1b}");
    }

    #[test]
    fn words_wrap_at_spaces() {
        assert_eq!(
            wrap("the quick brown fox jumps", 10),
            ["the quick", "brown fox", "jumps"]
        );
        assert_eq!(wrap("", 10), [""]);
        assert_eq!(wrap("a\nb c", 3), ["a", "b c"]);
        assert_eq!(
            wrap("    Set-Cs -A 1 -B 2", 14),
            ["    Set-Cs -A", "    1 -B 2"]
        );
    }

    #[test]
    fn a_long_path_wraps_at_its_separators_not_mid_word() {
        let path = "(ARM paths?): /subscriptions/11112222-3333-4444-5555-666677778888/\
                    resourceGroups/rg-contact-center/providers/Microsoft.Communication/\
                    CommunicationServices/acs-cc-prod)";
        let lines = wrap(path, 30);
        for line in &lines {
            assert!(width(line) <= 30, "{lines:#?}");
        }
        assert_eq!(lines.concat().replace(' ', ""), path.replace(' ', ""));
        // Every break is at a space or after a separator, never inside a name.
        for pair in lines.windows(2) {
            let before = pair[0].rsplit(' ').next().unwrap();
            let after = pair[1].split(' ').next().unwrap();
            assert!(
                before.ends_with(BREAK_AFTER) || path.contains(&format!("{before} {after}")),
                "{lines:#?}"
            );
        }
        assert!(
            lines.iter().any(|l| l.ends_with("resourceGroups/")),
            "{lines:#?}"
        );
    }

    #[test]
    fn a_word_without_separators_is_cut_at_the_width_and_wide_characters_count_two() {
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        let lines = wrap("名前名前名前", 5);
        assert!(lines.iter().all(|l| width(l) <= 5), "{lines:?}");
        assert_eq!(lines.concat(), "名前名前名前");
    }

    #[test]
    fn indented_lines_fit_the_width() {
        let text = wrap_indented("aaaa bbbb cccc dddd eeee", 12, "    ", "      ");
        for line in text.lines() {
            assert!(width(line) <= 12, "{text}");
        }
        assert!(text.starts_with("    aaaa"));
        assert!(text.lines().nth(1).unwrap().starts_with("      "));
    }
}
