//! The stable JSON report (`docs/report-json.md`).

use super::Report;

pub fn render(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).expect("the report serialises");
    s.push('\n');
    escape_controls(s)
}

/// serde_json escapes C0 controls (`\u001b`) but writes DEL and the C1 controls (U+0080–U+009F,
/// which some terminals obey) as they are. They can only be inside strings, where `\u009b` means
/// the same: the report stays valid and lossless, and no control character reaches a terminal.
fn escape_controls(json: String) -> String {
    if !json.chars().any(|c| c.is_control() && c as u32 >= 0x7f) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if c.is_control() && c as u32 >= 0x7f {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}
