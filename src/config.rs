//! The configuration file (`ccaudit.yaml`, `--config FILE`): who the agents are, which licenses
//! count as Contact Center licenses, the `--fail-on` threshold, and suppressions.
//!
//! Parse → validate → typed `Config`; nothing downstream sees raw YAML. Unknown keys are errors
//! (`deny_unknown_fields`), and every error is one line naming the file and line, like check
//! files: ``ccaudit.yaml:7: suppressions[1].check: unknown check `EXT-010` ``. Command-line flags
//! override what the file says (the merge is in `main.rs`).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer};

use crate::dates::Date;
use crate::engine::Severity;
use crate::suppress::Suppression;

/// Read from the working directory when no `--config` is given and the file exists.
pub const DEFAULT_FILE: &str = "ccaudit.yaml";

/// The largest configuration file read: thousands of agents and suppressions fit in a
/// fraction of it; `/dev/zero` or a snapshot given by mistake do not.
pub const MAX_FILE_BYTES: u64 = 16 << 20;

/// Where [`DOCUMENTED_CONTACT_CENTER_SKUS`] come from, and as of when.
pub const LICENSING_REFERENCE: &str = "https://learn.microsoft.com/entra/identity/users/licensing-service-plan-reference (last updated October 29, 2025)";

/// A license product as Microsoft's licensing reference lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocumentedSku {
    /// `skuPartNumber` ("String ID" in the reference).
    pub part_number: &'static str,
    /// `skuId` ("GUID").
    pub sku_id: &'static str,
    pub product: &'static str,
}

/// The licenses that count as a Contact Center agent license for voice (LIC-005) without any
/// configuration: every product that Microsoft's "Product names and service plan identifiers for
/// licensing" reference
/// (<https://learn.microsoft.com/entra/identity/users/licensing-service-plan-reference>, source
/// MicrosoftDocs/entra-docs `docs/identity/users/licensing-service-plan-reference.md`, "last
/// updated on October 29, 2025") lists as Dynamics 365 Contact Center with a voice service plan
/// (`DYN365_CS_VOICE`, f6ec6dfa-2402-468d-a455-89be11116d43, in each of them).
///
/// Listed there but left out, because they include no voice service plan: Dynamics 365 Contact
/// Center Digital and its Customer Service Enterprise add-on (`DYN365_CC_DIGITAL` only), Dynamics
/// 365 Customer Service Enterprise and Professional. Not listed there at all: Dynamics 365
/// Customer Service Premium, which the D365 Teams Phone page names as the other license for the
/// voice channel. A tenant that licenses its agents with a SKU not in this list names it with
/// `--cc-sku` (which adds to this list); until it does, LIC-005 is unknown for those agents, not
/// failed.
pub const DOCUMENTED_CONTACT_CENTER_SKUS: &[DocumentedSku] = &[
    DocumentedSku {
        part_number: "DYNAMICS_365_CONTACT_CENTER",
        sku_id: "dfb1700c-013e-4132-8bce-0d319c43a95d",
        product: "Dynamics 365 Contact Center",
    },
    DocumentedSku {
        part_number: "DYNAMICS_365_CONTACT_CENTER_VOICE",
        sku_id: "79e2368c-4568-48d5-a352-b0344afabcf8",
        product: "Dynamics 365 Contact Center Voice",
    },
    DocumentedSku {
        part_number: "DYNAMICS_365_CONTACT_CENTER_ADD_ON_FOR_CUSTOMER_SERVICE_ENTERPRISE",
        sku_id: "39a78eb6-3a8a-4e1e-878a-575a5c8984e7",
        product: "Dynamics 365 Contact Center Add-on for Customer Service Enterprise",
    },
    DocumentedSku {
        part_number: "DYNAMICS_365_CONTACT_CENTER_VOICE_ADD_ON_FOR_CUSTOMER_SERVICE_ENTERPRISE",
        sku_id: "73e8b747-20bf-463d-8ffd-274a7d65d0bc",
        product: "Dynamics 365 Contact Center Voice Add-on for Customer Service Enterprise",
    },
];

/// The SKUs a flag, an environment variable or the file named: trimmed, blanks dropped,
/// duplicates (in any case) dropped. An empty result means "none configured": `--cc-sku ""`,
/// an empty `CCAUDIT_CC_SKUS` and `contact_center_skus: []` configure nothing, so the documented
/// list alone applies, rather than a list that nothing matches.
pub fn sku_list<S: AsRef<str>>(values: &[S]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        let v = v.as_ref().trim();
        if !v.is_empty() && !out.iter().any(|o| o.eq_ignore_ascii_case(v)) {
            out.push(v.to_string());
        }
    }
    out
}

/// A validated configuration file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    /// The file it was read from, as given.
    pub origin: String,
    /// Agents (UPNs or object ids) for a live read.
    pub agents: Vec<String>,
    /// A group whose user members are the agents, for a live read.
    pub agent_group: Option<String>,
    /// License SKUs (part numbers or skuIds) that count as Contact Center licenses (LIC-005), in
    /// addition to [`DOCUMENTED_CONTACT_CENTER_SKUS`]. Empty (`[]` or left out): none added.
    pub contact_center_skus: Vec<String>,
    pub fail_on: Option<Severity>,
    pub suppressions: Vec<Suppression>,
}

/// A configuration error: `FILE:LINE: message` (`FILE: message` when no line applies).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    pub origin: String,
    /// 1-based; 0 when the error is about the file as a whole (it cannot be read).
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            0 => write!(f, "{}: {}", self.origin, self.message),
            line => write!(f, "{}:{line}: {}", self.origin, self.message),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    agents: Vec<NonEmpty>,
    #[serde(default)]
    agent_group: Option<NonEmpty>,
    #[serde(default)]
    contact_center_skus: Vec<NonEmpty>,
    #[serde(default)]
    fail_on: Option<Severity>,
    #[serde(default)]
    suppressions: Vec<RawSuppression>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSuppression {
    check: String,
    #[serde(default)]
    subject: Option<String>,
    reason: String,
    #[serde(default)]
    expires: Option<String>,
}

/// A string that is not blank (trimmed).
struct NonEmpty(String);

impl<'de> Deserialize<'de> for NonEmpty {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let t = s.trim();
        if t.is_empty() {
            return Err(serde::de::Error::custom("must not be empty"));
        }
        Ok(NonEmpty(t.to_string()))
    }
}

impl Config {
    /// The configuration to use: `explicit` (which must exist), else `./ccaudit.yaml` when it
    /// exists, else none.
    pub fn discover(explicit: Option<&Path>) -> Result<Option<Config>, ConfigError> {
        match Config::path_for(explicit) {
            Some(path) => Config::load(&path).map(Some),
            None => Ok(None),
        }
    }

    /// The file [`Config::discover`] reads: `explicit`, else `./ccaudit.yaml` when it exists.
    pub fn path_for(explicit: Option<&Path>) -> Option<PathBuf> {
        match explicit {
            Some(p) => Some(p.to_path_buf()),
            None => {
                let default = PathBuf::from(DEFAULT_FILE);
                default.is_file().then_some(default)
            }
        }
    }

    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        use crate::files::{CappedError, read_file_capped};
        let origin = path.display().to_string();
        let error = |message: String| ConfigError {
            origin: origin.clone(),
            line: 0,
            message,
        };
        let bytes = read_file_capped(path, MAX_FILE_BYTES).map_err(|e| {
            error(match e {
                CappedError::Io(e) => format!("cannot read the configuration file: {e}"),
                CappedError::TooLarge { .. } => format!(
                    "not read: over {} MiB, more than any configuration file (is it the right file?)",
                    MAX_FILE_BYTES >> 20
                ),
            })
        })?;
        let text = String::from_utf8(bytes).map_err(|_| {
            error("cannot read the configuration file: it is not UTF-8 text".into())
        })?;
        Config::parse(&origin, &text)
    }

    /// Parses and validates `text`; `origin` names it in errors.
    pub fn parse(origin: &str, text: &str) -> Result<Config, ConfigError> {
        let err = |line: usize, message: String| ConfigError {
            origin: origin.to_string(),
            line,
            message,
        };
        let raw: RawConfig = if is_blank(text) {
            RawConfig::default()
        } else {
            serde_yaml::from_str(text).map_err(|e| {
                let line = e.location().map(|l| l.line()).unwrap_or(1);
                let msg = e.to_string();
                // yaml_serde appends " at line N column M"; the prefix already says where.
                let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
                err(line, msg)
            })?
        };
        let layout = SuppressionLayout::of(text, raw.suppressions.len());
        let mut seen: BTreeMap<(String, Option<String>), usize> = BTreeMap::new();
        let mut suppressions = Vec::with_capacity(raw.suppressions.len());
        for (i, s) in raw.suppressions.into_iter().enumerate() {
            let at = |key: &str| layout.line(i, key);
            let blank = |key: &str| {
                err(
                    at(key),
                    format!("suppressions[{i}].{key}: must not be empty"),
                )
            };
            let check = s.check.trim().to_ascii_uppercase();
            if check.is_empty() {
                return Err(blank("check"));
            }
            let subject = match s.subject.as_deref().map(str::trim) {
                Some("") => {
                    return Err(err(
                        at("subject"),
                        format!(
                            "suppressions[{i}].subject: must not be empty (leave it out to cover every subject of {check})"
                        ),
                    ));
                }
                other => other.map(str::to_string),
            };
            let reason = s.reason.trim().to_string();
            if reason.is_empty() {
                return Err(err(
                    at("reason"),
                    format!(
                        "suppressions[{i}].reason: must not be empty: say why the result is accepted (a ticket, an exception)"
                    ),
                ));
            }
            let expires = match &s.expires {
                None => None,
                Some(text) => Some(Date::parse(text.trim()).ok_or_else(|| {
                    err(
                        at("expires"),
                        format!("suppressions[{i}].expires: `{text}` is not a valid date (write YYYY-MM-DD, e.g. 2026-12-31)"),
                    )
                })?),
            };
            let line = at("check");
            let key = (check.clone(), subject.as_ref().map(|s| s.to_lowercase()));
            if let Some(first) = seen.insert(key, line) {
                return Err(err(
                    line,
                    format!(
                        "suppressions[{i}]: duplicate suppression for {check}{} (first at line {first})",
                        subject
                            .as_ref()
                            .map(|s| format!(" [{s}]"))
                            .unwrap_or_default()
                    ),
                ));
            }
            suppressions.push(Suppression {
                check,
                subject,
                reason,
                expires,
                file: origin.to_string(),
                line,
            });
        }
        Ok(Config {
            origin: origin.to_string(),
            agents: raw.agents.into_iter().map(|a| a.0).collect(),
            agent_group: raw.agent_group.map(|g| g.0),
            contact_center_skus: sku_list(
                &raw.contact_center_skus
                    .into_iter()
                    .map(|s| s.0)
                    .collect::<Vec<_>>(),
            ),
            fail_on: raw.fail_on,
            suppressions,
        })
    }

    /// Checks every suppression names a known check, and rewrites it to the check's own
    /// spelling. `known` lists every loaded check id (before `--only`/`--skip`, so narrowing a
    /// run never turns a valid file into an invalid one). A retired id (`checks/retired.yaml`)
    /// is rewritten to the check that replaced it; the warnings returned say so.
    pub fn validate_checks(&mut self, known: &[&str]) -> Result<Vec<String>, ConfigError> {
        let mut warnings = Vec::new();
        let find = |id: &str| known.iter().find(|k| k.eq_ignore_ascii_case(id)).copied();
        for (i, s) in self.suppressions.iter_mut().enumerate() {
            let retired = crate::engine::catalog::retired()
                .values()
                .find(|r| r.id.eq_ignore_ascii_case(&s.check));
            match (find(&s.check), retired.and_then(|r| find(&r.replaced_by))) {
                (Some(id), _) => s.check = id.to_string(),
                (None, Some(new)) => {
                    warnings.push(format!(
                        "{}:{}: suppressions[{i}].check: `{}` was retired; it now applies to {new}, which replaced it (update the file)",
                        self.origin, s.line, s.check
                    ));
                    s.check = new.to_string();
                }
                (None, None) => {
                    return Err(ConfigError {
                        origin: self.origin.clone(),
                        line: s.line,
                        message: format!(
                            "suppressions[{i}].check: unknown check `{}` (see `ccaudit checks`)",
                            s.check
                        ),
                    });
                }
            }
        }
        Ok(warnings)
    }
}

/// Whether the file holds nothing but blank lines, comments and document markers.
fn is_blank(text: &str) -> bool {
    text.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#') || t == "---" || t == "..."
    })
}

/// Where each suppression entry and its keys are in the text: the YAML parser reports
/// positions only for its own errors, so validation errors and warnings find their line here.
/// Unusual layouts (a flow list on one line) fall back to the entry's or the `suppressions:` line.
struct SuppressionLayout<'a> {
    lines: Vec<&'a str>,
    /// 0-based line of the `suppressions:` key.
    key: usize,
    /// Per entry, its 0-based line range; empty when the layout was not understood.
    entries: Vec<(usize, usize)>,
}

impl<'a> SuppressionLayout<'a> {
    fn of(text: &'a str, count: usize) -> SuppressionLayout<'a> {
        let lines: Vec<&str> = text.lines().collect();
        let key = lines
            .iter()
            .position(|l| l.starts_with("suppressions:"))
            .unwrap_or(0);
        let entries = Self::entries(&lines, key)
            .filter(|e| e.len() == count)
            .unwrap_or_default();
        SuppressionLayout {
            lines,
            key,
            entries,
        }
    }

    fn entries(lines: &[&str], key: usize) -> Option<Vec<(usize, usize)>> {
        // The block ends at the next top-level key.
        let end = lines
            .iter()
            .enumerate()
            .skip(key + 1)
            .find(|(_, l)| {
                l.chars()
                    .next()
                    .is_some_and(|c| !c.is_whitespace() && c != '#' && c != '-')
            })
            .map_or(lines.len(), |(i, _)| i);
        let is_dash = |t: &str| t == "-" || t.starts_with("- ");
        let indent = (key + 1..end).find_map(|i| {
            let t = lines[i].trim_start();
            is_dash(t.trim_end()).then(|| lines[i].len() - t.len())
        })?;
        let starts: Vec<usize> = (key + 1..end)
            .filter(|&i| {
                let l = lines[i];
                l.len() > indent && l[..indent].trim().is_empty() && is_dash(l[indent..].trim_end())
            })
            .collect();
        Some(
            starts
                .iter()
                .enumerate()
                .map(|(n, &first)| (first, starts.get(n + 1).copied().unwrap_or(end)))
                .collect(),
        )
    }

    /// The 1-based line of `key` in entry `index`; the entry's first line when the key is not on
    /// a line of its own, the `suppressions:` line when the entries were not found.
    fn line(&self, index: usize, key: &str) -> usize {
        let Some(&(first, end)) = self.entries.get(index) else {
            return self.key + 1;
        };
        let prefix = format!("{key}:");
        (first..end)
            .find(|&i| {
                let t = self.lines[i].trim_start();
                let t = t.strip_prefix("- ").unwrap_or(t).trim_start();
                t.starts_with(&prefix)
            })
            .unwrap_or(first)
            + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_lines_point_at_each_key() {
        let text = "fail_on: high\nsuppressions:\n  # operator ticket\n  - check: NUM-002\n    reason: x\n  - reason: y\n    check: EXT-001\n  - {check: IB-002, reason: z}\nagents: []\n";
        let layout = SuppressionLayout::of(text, 3);
        let checks: Vec<usize> = (0..3).map(|i| layout.line(i, "check")).collect();
        assert_eq!(checks, [4, 7, 8]);
        assert_eq!(layout.line(0, "reason"), 5);
        assert_eq!(
            layout.line(0, "expires"),
            4,
            "absent keys point at the entry"
        );
    }

    #[test]
    fn entry_lines_fall_back_to_the_suppressions_key() {
        let text = "agents: []\nsuppressions: [{check: NUM-002, reason: x}]\n";
        assert_eq!(SuppressionLayout::of(text, 1).line(0, "check"), 2);
    }
}
