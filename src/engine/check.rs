//! Check definitions: one YAML file per check, parsed strictly and compiled once at load.

use std::collections::BTreeMap;

use cel::Env;
use serde::{Deserialize, Serialize};

use super::cel::{self as celx, Expr};
use super::diff_row::DiffRow;
use super::fix::Fix;
use super::template::Template;
use crate::trace::HopKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// How sure we are that the prerequisite matters, shown to users as is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Basis {
    /// A Microsoft document states it.
    Documented,
    /// Field reports (forums, scripts) say so; no Microsoft document does.
    FieldReported,
    /// Our inference from several sources.
    Inferred,
}

impl Basis {
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Documented => "documented",
            Basis::FieldReported => "field-reported",
            Basis::Inferred => "inferred",
        }
    }
}

/// The YAML shape of a check (see `docs/writing-checks.md`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CheckSpec {
    pub id: String,
    pub title: String,
    pub area: String,
    pub severity: Severity,
    pub basis: Basis,
    /// Where the basis comes from (doc page, thread), shown with the basis.
    #[serde(default)]
    pub basis_source: Option<String>,
    /// Why the prerequisite matters, in a sentence or two.
    pub description: String,
    /// Model fact paths the check reads; an unavailable one makes the check unknown.
    #[serde(default)]
    pub needs: Vec<String>,
    /// What one result is about: `tenant`, `agent`, `resource account`, `number`, ...
    #[serde(default = "default_subject_kind")]
    pub subject_kind: String,
    /// CEL list; one result per element (bound as `subject`). Default: the tenant, once.
    #[serde(default)]
    pub subjects: Option<String>,
    /// CEL string naming a subject in reports. Required with `subjects`.
    #[serde(default)]
    pub subject_name: Option<String>,
    /// CEL bool over `tenant`; false skips the whole check with `skip_reason`.
    #[serde(default)]
    pub applies: Option<String>,
    #[serde(default)]
    pub skip_reason: Option<String>,
    /// CEL bool per subject; false skips that subject with `subject_skip_reason`.
    #[serde(default)]
    pub subject_applies: Option<String>,
    #[serde(default)]
    pub subject_skip_reason: Option<String>,
    /// Reported (as skipped) when `subjects` yields nothing.
    #[serde(default)]
    pub no_subjects: Option<String>,
    /// CEL bool; true means the prerequisite object does not exist at all.
    #[serde(default)]
    pub missing: Option<String>,
    /// CEL bool; true = pass, false = fail.
    pub rule: String,
    pub message: Messages,
    /// Exact fix for fail/missing, with the cmdlet; a template.
    pub remediation: String,
    /// The fix as structured steps (see `engine::fix`); without one, the remediation script
    /// shows `remediation` as a manual step in the "Other" phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<Fix>,
    /// A `ccaudit diff` row that tallies this check's results (see `triage::diff`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff_row: Option<DiffRow>,
    pub docs: Vec<String>,
    #[serde(default)]
    pub error_codes: Vec<String>,
    /// Which hop of the call path the check decides (`HopKind::name`), or `none` for a check
    /// that is not on the path; validated at load. Absent counts as `none`, so checks written
    /// before the field still load; every built-in check declares it (a test holds that).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hop: Option<String>,
}

/// The `hop:` value of a check that decides no hop of the call path.
pub const NO_HOP: &str = "none";

impl CheckSpec {
    /// The hop the check decides; `None` for `none`, an absent `hop:` or (in a spec that was not
    /// loaded through `Check::load`) an unknown name.
    pub fn hop_kind(&self) -> Option<HopKind> {
        self.hop.as_deref().and_then(HopKind::from_name)
    }
}

fn default_subject_kind() -> String {
    "tenant".into()
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Messages {
    pub pass: String,
    pub fail: String,
    #[serde(default)]
    pub missing: Option<String>,
}

/// A loaded check: the spec plus its compiled expressions.
#[derive(Debug, Clone)]
pub struct Check {
    pub spec: CheckSpec,
    /// Where it came from (`checks/acs-federation/ACSFED-002.yaml` or `builtin:...`).
    pub origin: String,
    pub(crate) subjects: Option<Expr>,
    pub(crate) subject_name: Option<Expr>,
    pub(crate) applies: Option<Expr>,
    pub(crate) skip_reason: Option<Template>,
    pub(crate) subject_applies: Option<Expr>,
    pub(crate) subject_skip_reason: Option<Template>,
    pub(crate) no_subjects: Option<Template>,
    pub(crate) missing: Option<Expr>,
    pub(crate) rule: Expr,
    pub(crate) message_pass: Template,
    pub(crate) message_fail: Template,
    pub(crate) message_missing: Option<Template>,
    pub(crate) remediation: Template,
}

#[derive(Debug, thiserror::Error)]
#[error("{origin}:{line}: {message}")]
pub struct CheckError {
    pub origin: String,
    pub line: usize,
    pub message: String,
}

/// The known areas, in the order an admin should work through them (the field report's "where
/// to begin"); reports and docs list areas in this order.
pub const AREAS: &[&str] = &[
    "d365",
    "acs-federation",
    "external-access",
    "information-barriers",
    "resource-accounts",
    "licensing",
    "agents",
    "numbers",
    "acs",
];

/// Position of `area` in `AREAS` (unknown areas last), for sorting.
pub fn area_rank(area: &str) -> usize {
    AREAS.iter().position(|a| *a == area).unwrap_or(AREAS.len())
}

/// Ids are `AREA-NNN` in upper case, e.g. `ACSFED-002`.
fn valid_id(id: &str) -> bool {
    let Some((prefix, num)) = id.split_once('-') else {
        return false;
    };
    !prefix.is_empty()
        && prefix
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && num.len() == 3
        && num.chars().all(|c| c.is_ascii_digit())
}

impl Check {
    /// Parses and compiles a check file. `file_stem` must equal the id.
    pub fn load(
        env: &Env,
        origin: &str,
        file_stem: &str,
        text: &str,
        fact_paths: &[&str],
    ) -> Result<Check, CheckError> {
        let err = |line: usize, message: String| CheckError {
            origin: origin.to_string(),
            line,
            message,
        };
        let spec: CheckSpec = serde_yaml::from_str(text).map_err(|e| {
            let line = e.location().map(|l| l.line()).unwrap_or(1);
            let msg = e.to_string();
            // yaml_serde appends " at line N column M"; the prefix already says where.
            let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
            err(line, msg)
        })?;
        let line_of = |key: &str| key_line(text, key);

        if spec.id != file_stem {
            return Err(err(
                line_of("id"),
                format!("id `{}` must equal the file name `{file_stem}`", spec.id),
            ));
        }
        if !valid_id(&spec.id) {
            return Err(err(
                line_of("id"),
                format!(
                    "id `{}` must look like AREA-NNN (upper-case letters or digits, a dash, three digits)",
                    spec.id
                ),
            ));
        }
        if !AREAS.contains(&spec.area.as_str()) {
            return Err(err(
                line_of("area"),
                format!("unknown area `{}` (known: {})", spec.area, AREAS.join(", ")),
            ));
        }
        for need in &spec.needs {
            if !fact_paths.contains(&need.as_str()) {
                return Err(err(
                    line_of("needs"),
                    format!(
                        "`needs` lists `{need}`, which is not a model fact (see docs/model.md)"
                    ),
                ));
            }
        }
        if spec.remediation.trim().is_empty() {
            return Err(err(line_of("remediation"), "remediation is empty".into()));
        }
        if let Some(hop) = spec.hop.as_deref()
            && hop != NO_HOP
            && HopKind::from_name(hop).is_none()
        {
            let known: Vec<&str> = HopKind::ALL.iter().map(|h| h.name()).collect();
            return Err(err(
                line_of("hop"),
                format!(
                    "unknown hop `{hop}` (known: {}, or {NO_HOP} for a check not on the call path)",
                    known.join(", ")
                ),
            ));
        }
        if let Some(fix) = &spec.fix {
            fix.validate().map_err(|m| err(line_of("fix"), m))?;
        }
        if spec.docs.is_empty() || spec.docs.iter().any(|d| !d.starts_with("https://")) {
            return Err(err(
                line_of("docs"),
                "docs must list at least one https:// link".into(),
            ));
        }
        if spec.subjects.is_some() != spec.subject_name.is_some() {
            return Err(err(
                line_of("subjects"),
                "`subjects` and `subject_name` go together".into(),
            ));
        }

        let expr = |key: &str, src: &Option<String>| -> Result<Option<Expr>, CheckError> {
            src.as_deref()
                .map(|s| {
                    celx::compile(env, s).map_err(|e| err(line_of(key), format!("{key}: {e}")))
                })
                .transpose()
        };
        let template = |key: &str, src: &Option<String>| -> Result<Option<Template>, CheckError> {
            src.as_deref()
                .map(|s| {
                    Template::compile(env, s).map_err(|e| err(line_of(key), format!("{key}: {e}")))
                })
                .transpose()
        };
        let required_template = |key: &str, src: &str| -> Result<Template, CheckError> {
            Template::compile(env, src).map_err(|e| err(line_of(key), format!("{key}: {e}")))
        };

        Ok(Check {
            subjects: expr("subjects", &spec.subjects)?,
            subject_name: expr("subject_name", &spec.subject_name)?,
            applies: expr("applies", &spec.applies)?,
            skip_reason: template("skip_reason", &spec.skip_reason)?,
            subject_applies: expr("subject_applies", &spec.subject_applies)?,
            subject_skip_reason: template("subject_skip_reason", &spec.subject_skip_reason)?,
            no_subjects: template("no_subjects", &spec.no_subjects)?,
            missing: expr("missing", &spec.missing)?,
            rule: celx::compile(env, &spec.rule)
                .map_err(|e| err(line_of("rule"), format!("rule: {e}")))?,
            message_pass: required_template("message", &spec.message.pass)?,
            message_fail: required_template("message", &spec.message.fail)?,
            message_missing: template("message", &spec.message.missing)?,
            remediation: required_template("remediation", &spec.remediation)?,
            origin: origin.to_string(),
            spec,
        })
    }
}

/// 1-based line of a top-level `key:` in YAML text (1 when not found).
fn key_line(text: &str, key: &str) -> usize {
    let prefix = format!("{key}:");
    text.lines()
        .position(|l| l.starts_with(&prefix))
        .map(|i| i + 1)
        .unwrap_or(1)
}

/// Checks by id, in id order.
pub type CheckSet = BTreeMap<String, Check>;

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "id: ACSFED-001
title: t
area: acs-federation
severity: critical
basis: documented
description: d
needs: [teams.acs_federation]
rule: tenant.teams.acs_federation.enable_acs_users
message: {pass: ok, fail: bad}
remediation: Set-CsTeamsAcsFederationConfiguration -EnableAcsUsers $true
docs: [https://learn.microsoft.com/x]
";

    fn load(text: &str) -> Result<Check, CheckError> {
        let env = celx::environment();
        Check::load(
            &env,
            "checks/acs-federation/ACSFED-001.yaml",
            "ACSFED-001",
            text,
            &["teams.acs_federation"],
        )
    }

    #[test]
    fn well_formed_check_loads() {
        load(GOOD).unwrap();
    }

    #[test]
    fn unknown_field_is_rejected_with_file_and_line() {
        let err = load(&GOOD.replace("description: d", "description: d\nrulez: x")).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("checks/acs-federation/ACSFED-001.yaml:"),
            "{text}"
        );
        assert!(text.contains("rulez"), "{text}");
    }

    #[test]
    fn invalid_cel_points_at_the_rule_line() {
        let err = load(&GOOD.replace("enable_acs_users\n", "enable_acs_users &&\n")).unwrap_err();
        assert_eq!(err.line, 8, "{err}");
        assert!(err.message.starts_with("rule:"), "{err}");
    }

    #[test]
    fn id_must_match_file_name() {
        let err = load(&GOOD.replace("id: ACSFED-001", "id: ACSFED-009")).unwrap_err();
        assert!(err.message.contains("file name"), "{err}");
    }

    #[test]
    fn hop_names_a_call_path_hop_or_none() {
        let with_hop = |hop: &str| GOOD.replace("docs:", &format!("hop: {hop}\ndocs:"));
        let c = load(&with_hop("acs-federation")).unwrap();
        assert_eq!(c.spec.hop_kind(), Some(HopKind::AcsFederation));
        let c = load(&with_hop("none")).unwrap();
        assert_eq!(c.spec.hop_kind(), None);
        let err = load(&with_hop("acs-federederation")).unwrap_err();
        assert_eq!(err.line, 11, "{err}");
        assert!(
            err.to_string().starts_with("checks/acs-federation/ACSFED-001.yaml:11: unknown hop `acs-federederation` (known: number, resource-account,"),
            "{err}"
        );
    }

    #[test]
    fn unknown_need_is_rejected() {
        let err = load(&GOOD.replace("[teams.acs_federation]", "[teams.nope]")).unwrap_err();
        assert!(err.message.contains("teams.nope"), "{err}");
    }

    #[test]
    fn an_unknown_diff_row_fails_at_load_with_its_line() {
        load(&GOOD.replace("docs:", "diff_row: ib.separated\ndocs:")).unwrap();
        let err = load(&GOOD.replace("docs:", "diff_row: ib.seperated\ndocs:")).unwrap_err();
        assert_eq!(err.line, 11, "{err}");
        assert!(
            err.to_string().starts_with(
                "checks/acs-federation/ACSFED-001.yaml:11: diff_row: unknown variant `ib.seperated`"
            ),
            "{err}"
        );
        assert!(
            err.message.contains("ib.separated"),
            "names the known rows: {err}"
        );
    }

    #[test]
    fn a_fix_with_an_unknown_kind_or_bad_params_fails_at_load_with_its_line() {
        let with_fix = |fix: &str| GOOD.replace("docs:", &format!("fix:\n{fix}docs:"));
        load(&with_fix(
            "  phase: acs-federation\n  steps:\n    - kind: enable-acs-federation\n",
        ))
        .unwrap();
        for bad in [
            "  phase: acs-federation\n  steps:\n    - kind: reboot-tenant\n",
            "  phase: acs-federation\n  steps:\n    - kind: enable-acs-federation\n      policy: x\n",
            "  phase: acs-federation\n  steps:\n    - kind: manual\n      title: t\n      text: \"{upn}\"\n",
        ] {
            let err = load(&with_fix(bad)).unwrap_err();
            assert!(
                (10..=15).contains(&err.line),
                "{err} should point into the fix (lines 10-15)"
            );
            assert!(
                err.to_string()
                    .starts_with("checks/acs-federation/ACSFED-001.yaml:"),
                "{err}"
            );
        }
    }
}
