//! Suppressions: results an organisation has decided to accept for now (an operator ticket, a
//! policy exception), applied after evaluation.
//!
//! A suppressed result keeps the status the audit reached and gains a `suppressed` note; the
//! exit status ignores it (`Report::exit_status`). Like cargo-deny's allow-lists, suppressions
//! must not rot silently: one that has expired stops applying and one that covers nothing is
//! reported, each naming the line of the configuration file that defines it.

use crate::dates::Date;
use crate::engine::{CheckResult, Status, Suppressed};

/// One accepted result, as the configuration file defines it (validated by `config`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    /// Canonical check id (`EXT-001`).
    pub check: String,
    /// A subject name or id (UPN, number, object id); `None` covers every subject of the check.
    pub subject: Option<String>,
    pub reason: String,
    /// Last day (UTC) the suppression applies.
    pub expires: Option<Date>,
    /// The configuration file that defines it, and the line.
    pub file: String,
    pub line: usize,
}

impl Suppression {
    /// `ccaudit.yaml:12`.
    pub fn origin(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }

    /// `EXT-001` or `EXT-001 [agent2@contoso.com]`, as reports name results.
    pub fn label(&self) -> String {
        match &self.subject {
            Some(subject) => format!("{} [{subject}]", self.check),
            None => self.check.clone(),
        }
    }

    fn covers(&self, result: &CheckResult) -> bool {
        if !result.check.eq_ignore_ascii_case(&self.check) {
            return false;
        }
        match (&self.subject, &result.subject) {
            (None, _) => true,
            (Some(wanted), Some(s)) => {
                wanted.eq_ignore_ascii_case(&s.name) || wanted.eq_ignore_ascii_case(&s.id)
            }
            (Some(_), None) => false,
        }
    }
}

/// Marks the results the suppressions cover and returns the run warnings (expired suppressions,
/// suppressions that covered nothing), in the order the suppressions are defined.
///
/// Only fail, missing and unknown results are suppressed: pass and skipped ones need no
/// exception, so a suppression that finds only those is stale and reported as such. A
/// suppression for a check that did not run (`--only`, `--skip`) is neither applied nor reported.
pub fn apply(
    suppressions: &[Suppression],
    results: &mut [CheckResult],
    today: Date,
) -> Vec<String> {
    let mut warnings = Vec::new();
    for s in suppressions {
        if let Some(expires) = s.expires.filter(|e| *e < today) {
            warnings.push(format!(
                "suppression for {} ({}) expired on {expires}; it no longer applies",
                s.label(),
                s.origin()
            ));
            continue;
        }
        let mut ran = false;
        let mut matched = 0;
        for r in results.iter_mut() {
            if !r.check.eq_ignore_ascii_case(&s.check) {
                continue;
            }
            ran = true;
            let needs_exception =
                matches!(r.status, Status::Fail | Status::Missing | Status::Unknown);
            if needs_exception && s.covers(r) {
                matched += 1;
                if r.suppressed.is_none() {
                    r.suppressed = Some(Suppressed {
                        reason: s.reason.clone(),
                        expires: s.expires.map(|d| d.to_string()),
                    });
                }
            }
        }
        if ran && matched == 0 {
            warnings.push(format!(
                "suppression for {} ({}) matched no result",
                s.label(),
                s.origin()
            ));
        }
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(check: &str, status: Status, subject: Option<(&str, &str)>) -> CheckResult {
        CheckResult::sample(check, status, subject)
    }

    fn suppression(check: &str, subject: Option<&str>, expires: Option<&str>) -> Suppression {
        Suppression {
            check: check.into(),
            subject: subject.map(Into::into),
            reason: "ticket 42".into(),
            expires: expires.map(|e| Date::parse(e).expect("test date")),
            file: "ccaudit.yaml".into(),
            line: 3,
        }
    }

    fn today() -> Date {
        Date::parse("2026-06-15").unwrap()
    }

    #[test]
    fn a_suppression_without_subject_covers_every_finding_of_its_check_and_keeps_the_status() {
        let mut results = vec![
            result("EXT-001", Status::Fail, Some(("a2", "agent2@contoso.com"))),
            result("EXT-001", Status::Fail, Some(("a3", "agent3@contoso.com"))),
            result("EXT-001", Status::Pass, Some(("a1", "agent1@contoso.com"))),
            result("ACSFED-002", Status::Fail, None),
        ];
        let warnings = apply(&[suppression("EXT-001", None, None)], &mut results, today());
        assert!(warnings.is_empty(), "{warnings:?}");
        assert!(results[0].suppressed.is_some() && results[1].suppressed.is_some());
        assert_eq!(results[0].status, Status::Fail);
        assert!(results[2].suppressed.is_none(), "a pass needs no exception");
        assert!(
            results[3].suppressed.is_none(),
            "other checks are untouched"
        );
    }

    #[test]
    fn a_subject_matches_by_name_or_id_case_insensitively() {
        let mut results = vec![
            result("EXT-001", Status::Fail, Some(("a2", "agent2@contoso.com"))),
            result(
                "EXT-001",
                Status::Fail,
                Some(("A3-ID", "agent3@contoso.com")),
            ),
        ];
        apply(
            &[suppression("EXT-001", Some("Agent2@Contoso.com"), None)],
            &mut results,
            today(),
        );
        assert!(results[0].suppressed.is_some());
        assert!(results[1].suppressed.is_none());
        apply(
            &[suppression("EXT-001", Some("a3-id"), None)],
            &mut results,
            today(),
        );
        assert!(results[1].suppressed.is_some());
    }

    #[test]
    fn the_suppression_records_its_reason_and_expiry_on_the_result() {
        let mut results = vec![result("NUM-002", Status::Fail, Some(("+1", "+1")))];
        apply(
            &[suppression("NUM-002", None, Some("2026-06-15"))],
            &mut results,
            today(),
        );
        assert_eq!(
            results[0].suppressed,
            Some(Suppressed {
                reason: "ticket 42".into(),
                expires: Some("2026-06-15".into())
            }),
            "a suppression applies through its expiry day"
        );
    }

    #[test]
    fn an_expired_suppression_stops_applying_and_is_reported() {
        let mut results = vec![result("NUM-002", Status::Fail, None)];
        let warnings = apply(
            &[suppression("NUM-002", None, Some("2026-06-14"))],
            &mut results,
            today(),
        );
        assert!(results[0].suppressed.is_none());
        assert_eq!(
            warnings,
            [
                "suppression for NUM-002 (ccaudit.yaml:3) expired on 2026-06-14; it no longer applies"
            ]
        );
    }

    #[test]
    fn a_suppression_that_covers_nothing_is_reported() {
        let mut results = vec![
            result("EXT-001", Status::Pass, Some(("a1", "agent1@contoso.com"))),
            result("EXT-001", Status::Fail, Some(("a2", "agent2@contoso.com"))),
        ];
        let warnings = apply(
            &[
                suppression("EXT-001", Some("agent1@contoso.com"), None),
                suppression("EXT-001", Some("agent9@contoso.com"), None),
            ],
            &mut results,
            today(),
        );
        assert_eq!(
            warnings,
            [
                "suppression for EXT-001 [agent1@contoso.com] (ccaudit.yaml:3) matched no result",
                "suppression for EXT-001 [agent9@contoso.com] (ccaudit.yaml:3) matched no result",
            ]
        );
        assert!(results.iter().all(|r| r.suppressed.is_none()));
    }

    #[test]
    fn a_suppression_for_a_check_that_did_not_run_is_silent() {
        let mut results = vec![result("EXT-001", Status::Fail, None)];
        let warnings = apply(&[suppression("NUM-002", None, None)], &mut results, today());
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn unknown_results_can_be_suppressed() {
        let mut results = vec![result("LIC-005", Status::Unknown, None)];
        apply(&[suppression("LIC-005", None, None)], &mut results, today());
        assert!(results[0].suppressed.is_some());
    }
}
