//! Canonical forms for identifiers that the APIs spell in several ways, shared by the
//! collectors and the normalizers (and the features that match ids after them).
//!
//! GUIDs: lower-case, bare (`{'FACED04C-...'}` → `faced04c-...`). Numbers: E.164 with `+`
//! (`tel:+14255550100` → `+14255550100`; a Direct Routing `;ext=` suffix is kept).

/// Lower-case bare GUID, or `None` when `raw` is not a GUID after stripping braces and quotes.
pub fn guid(raw: &str) -> Option<String> {
    let trimmed = raw
        .trim()
        .trim_matches(|c| matches!(c, '{' | '}' | '\'' | '"' | ' '))
        .to_ascii_lowercase();
    is_guid(&trimmed).then_some(trimmed)
}

/// True for `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (hex, any case).
pub fn is_guid(s: &str) -> bool {
    let bytes = s.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// The GUID form if `raw` is one, else the trimmed raw text (so checks can show what is wrong,
/// e.g. an ARM path where a GUID belongs).
pub fn guid_or_raw(raw: &str) -> String {
    guid(raw).unwrap_or_else(|| {
        raw.trim()
            .trim_matches(|c| matches!(c, '{' | '}' | '\'' | '"' | ' '))
            .to_string()
    })
}

/// E.164 form of a phone number as the APIs write it, or `None` if it has no digits.
pub fn e164(raw: &str) -> Option<String> {
    let s = raw.trim();
    let s = s
        .strip_prefix("tel:")
        .or_else(|| s.strip_prefix("TEL:"))
        .unwrap_or(s);
    let (main, ext) = match s.to_ascii_lowercase().find(";ext=") {
        Some(i) => (&s[..i], Some(&s[i + 5..])),
        None => (s, None),
    };
    let digits: String = main.chars().filter(|c| c.is_ascii_digit()).collect();
    if digits.is_empty() {
        return None;
    }
    let mut out = format!("+{digits}");
    if let Some(ext) = ext.filter(|e| !e.is_empty()) {
        out.push_str(";ext=");
        out.push_str(ext);
    }
    Some(out)
}

/// True when `s` looks like an ARM resource id rather than an immutable GUID.
pub fn is_arm_path(s: &str) -> bool {
    s.trim_start()
        .to_ascii_lowercase()
        .starts_with("/subscriptions/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guid_variants_canonicalise() {
        let want = Some("faced04c-2ced-433d-90db-063e424b87b1".to_string());
        assert_eq!(guid("faced04c-2ced-433d-90db-063e424b87b1"), want);
        assert_eq!(guid("{'FACED04C-2CED-433D-90DB-063E424B87B1'}"), want);
        assert_eq!(guid("\"faced04c-2ced-433d-90db-063e424b87b1\""), want);
        assert_eq!(guid(" {faced04c-2ced-433d-90db-063e424b87b1} "), want);
        assert_eq!(guid("/subscriptions/x/resourceGroups/y"), None);
        assert_eq!(guid("faced04c2ced433d90db063e424b87b1"), None);
    }

    #[test]
    fn arm_path_is_kept_raw_and_recognised() {
        let p = "/subscriptions/1/resourceGroups/rg/providers/Microsoft.Communication/CommunicationServices/acs";
        assert_eq!(guid_or_raw(p), p);
        assert!(is_arm_path(p));
    }

    #[test]
    fn number_variants_canonicalise() {
        assert_eq!(e164("tel:+14255550100").as_deref(), Some("+14255550100"));
        assert_eq!(e164("+1 (425) 555-0100").as_deref(), Some("+14255550100"));
        assert_eq!(e164("14255550100").as_deref(), Some("+14255550100"));
        assert_eq!(
            e164("+14255550100;ext=12").as_deref(),
            Some("+14255550100;ext=12")
        );
        assert_eq!(e164("tel:"), None);
    }
}
