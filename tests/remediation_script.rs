//! The remediation script (`audit --remediation-script FILE`) as the administrator who reviews
//! and runs it relies on it: fixes in dependency order, values from the tenant's own data,
//! merges instead of overwrites, nothing changed without `-Apply`, manual steps for what a
//! script cannot do, and a script that parses whatever the tenant data holds. `pwsh` is not
//! installable here, so parsing is checked twice: by the tree-sitter PowerShell grammar (syntax
//! errors anywhere) and by a small lexer here (changes only inside `if ($Apply)`).

use std::path::Path;

use ccaudit::engine::{self, CheckResult, Status, Subject, Suppressed};
use ccaudit::model::{AuditConfig, Fact, TenantModel};
use ccaudit::report::Report;
use ccaudit::snapshot::Snapshot;
use ccaudit::triage::remediation_script::{self, Action, Phase, Plan};

const FIELD_CASE: &str = "examples/field-case.snapshot.json";
const HEALTHY: &str = "examples/healthy.snapshot.json";
/// The D365 ACS resource's immutable id in the field case (from Dataverse).
const FIELD_CASE_ACS_ID: &str = "bb567890-1234-1234-1234-bbb123456789";
/// The field case's Dynamics App ID (from Dataverse).
const FIELD_CASE_APP_ID: &str = "7c1e3d2a-5b4f-4e6a-9d8c-0a1b2c3d4e5f";
/// The app id printed in the D365 documentation's examples: never the value to use.
const DOCUMENTED_APP_ID: &str = "4b8f0dce-d7d5-47a3-a27c-1764b90505e2";
/// Cmdlet verbs that change a tenant.
const CHANGING_VERBS: &[&str] = &[
    "Set", "Grant", "New", "Remove", "Update", "Sync", "Add", "Enable", "Disable", "Start",
    "Revoke", "Register", "Clear",
];

struct Audit {
    model: TenantModel,
    report: Report,
}

fn audit(snapshot: &str, cc_skus: &[&str]) -> Audit {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(snapshot);
    let snapshot = Snapshot::load(&path).expect("the example snapshot loads");
    let config = AuditConfig {
        contact_center_skus: cc_skus.iter().map(|s| s.to_string()).collect(),
    };
    let model = TenantModel::from_snapshot(&snapshot, config);
    let env = engine::cel::environment();
    let checks = engine::catalog::load(&env, None).expect("the built-in checks load");
    let results = engine::evaluate(&env, &checks, &model);
    let report = Report::new(&model, "snapshot", results);
    Audit { model, report }
}

impl Audit {
    fn script(&self) -> String {
        remediation_script::render(&self.report, &self.model)
    }

    fn plan(&self) -> Plan {
        Plan::build(&self.report.results, &self.model)
    }

    /// The script for these results instead of the audit's own, against the same tenant.
    fn script_for(&self, results: Vec<CheckResult>) -> String {
        let mut report = self.report.clone();
        report.results = results;
        remediation_script::render(&report, &self.model)
    }
}

/// A result of `check` about `subject` (`(id, name)`), shaped like the engine's.
fn result(check: &str, status: Status, subject: Option<(&str, &str)>) -> CheckResult {
    CheckResult {
        check: check.into(),
        title: format!("{check} title"),
        area: "test".into(),
        severity: engine::Severity::High,
        basis: engine::Basis::Documented,
        status,
        subject: subject.map(|(id, name)| Subject {
            kind: "test".into(),
            id: id.into(),
            name: name.into(),
        }),
        message: format!("{check} message"),
        remediation: Some("from the check file".into()),
        docs: Vec::new(),
        needs: None,
        error_codes: Vec::new(),
        suppressed: None,
        absent_in: None,
        hop: None,
    }
}

fn position(text: &str, needle: &str) -> usize {
    text.find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in the script:\n{text}"))
}

// --- a small PowerShell lexer: enough to check what we generate -------------------------------

/// One line's code with string literals blanked to `''` and the comment dropped, or why the
/// line does not lex (a string left open).
fn code_of(line: &str) -> Result<String, String> {
    let is_single = |c: char| matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}');
    let mut code = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '#' => break,
            c if is_single(c) => {
                loop {
                    match chars.next() {
                        None => return Err(format!("unclosed single-quoted string: {line}")),
                        Some(q) if is_single(q) => {
                            if chars.peek().is_some_and(|n| is_single(*n)) {
                                chars.next();
                            } else {
                                break;
                            }
                        }
                        Some(_) => {}
                    }
                }
                code.push_str("''");
            }
            '"' => {
                loop {
                    match chars.next() {
                        None => return Err(format!("unclosed double-quoted string: {line}")),
                        Some('`') => {
                            chars.next();
                        }
                        Some('$') if chars.peek() == Some(&'(') => {
                            return Err(format!(
                                "subexpression inside a double-quoted string: {line}"
                            ));
                        }
                        Some('"') => {
                            if chars.peek() == Some(&'"') {
                                chars.next();
                            } else {
                                break;
                            }
                        }
                        Some(_) => {}
                    }
                }
                code.push_str("''");
            }
            c => code.push(c),
        }
    }
    Ok(code)
}

/// Checks brackets balance and strings close, and that every cmdlet that changes the tenant runs
/// inside an `if ($Apply) { ... }` block. Returns the changing calls found, with their line.
/// The script parsed with the tree-sitter PowerShell grammar: the first syntax error, if any.
fn parses_as_powershell(script: &str) -> Result<(), String> {
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_powershell::LANGUAGE.into())
        .expect("the PowerShell grammar loads");
    let tree = parser
        .parse(script, None)
        .expect("the parser returns a tree");
    let mut stack = vec![tree.root_node()];
    while let Some(node) = stack.pop() {
        if node.is_error() || node.is_missing() {
            let at = node.start_position();
            let line = script.lines().nth(at.row).unwrap_or("");
            return Err(format!(
                "PowerShell syntax error at line {}: {line}",
                at.row + 1
            ));
        }
        if node.has_error() {
            let mut cursor = node.walk();
            stack.extend(node.children(&mut cursor));
        }
    }
    Ok(())
}

/// Both parse checks; what the lexer returns (the changing lines and their guard).
fn lint(script: &str) -> Result<Vec<(usize, String)>, String> {
    parses_as_powershell(script)?;
    lex(script)
}

fn lex(script: &str) -> Result<Vec<(usize, String)>, String> {
    // (opening bracket, whether the block is guarded by `if ($Apply)`)
    let mut stack: Vec<(char, bool)> = Vec::new();
    let mut changes = Vec::new();
    for (n, line) in script.trim_start_matches('\u{FEFF}').lines().enumerate() {
        let n = n + 1;
        let code = code_of(line).map_err(|e| format!("line {n}: {e}"))?;
        let mut word = String::new();
        for (i, c) in code.char_indices() {
            if c.is_ascii_alphanumeric() || c == '-' {
                word.push(c);
                continue;
            }
            check_word(&word, &stack, n, &mut changes)?;
            word.clear();
            match c {
                '{' | '(' | '[' => {
                    let guard = c == '{' && code[..i].trim_end().ends_with("if ($Apply)");
                    stack.push((c, guard));
                }
                '}' | ')' | ']' => {
                    let open = match c {
                        '}' => '{',
                        ')' => '(',
                        _ => '[',
                    };
                    match stack.pop() {
                        Some((o, _)) if o == open => {}
                        other => {
                            return Err(format!("line {n}: `{c}` closes {other:?}: {line}"));
                        }
                    }
                }
                _ => {}
            }
        }
        check_word(&word, &stack, n, &mut changes)?;
    }
    if !stack.is_empty() {
        return Err(format!("unclosed at the end: {stack:?}"));
    }
    Ok(changes)
}

fn check_word(
    word: &str,
    stack: &[(char, bool)],
    line: usize,
    changes: &mut Vec<(usize, String)>,
) -> Result<(), String> {
    let Some((verb, noun)) = word.split_once('-') else {
        return Ok(());
    };
    let changing = CHANGING_VERBS.contains(&verb)
        && noun.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && !(verb == "Start" && noun == "Sleep");
    if !changing {
        return Ok(());
    }
    if !stack.iter().any(|(_, guard)| *guard) {
        return Err(format!(
            "line {line}: {word} runs without an `if ($Apply)` guard"
        ));
    }
    changes.push((line, word.to_string()));
    Ok(())
}

// --- the field-report tenant -------------------------------------------------------------------

#[test]
fn the_grammar_catches_what_powershell_would_refuse() {
    assert!(parses_as_powershell("if ($Apply) {\n    Set-CsUser -Identity 'a'\n}\n").is_ok());
    assert!(parses_as_powershell("\u{feff}# bom\nWrite-Host 'x'\n").is_ok());
    for broken in [
        "if ($x) {\n  Write-Host \"a\n}\n",
        "$a = @(1, 2\n",
        "foreach ($u in $users) {\n",
        "Write-Host 'a' -ForegroundColor )\n",
    ] {
        assert!(parses_as_powershell(broken).is_err(), "{broken:?}");
    }
}

#[test]
fn the_lint_catches_an_unguarded_change_and_an_open_string() {
    assert!(lint("Set-CsTeamsAcsFederationConfiguration -Identity Global\n").is_err());
    assert!(lint("if ($Apply) {\n    Set-CsUser -Identity 'a'\n}\n").is_ok());
    assert!(lint("if ($other) {\n    Grant-CsPolicy\n}\n").is_err());
    assert!(lint("Write-Host 'it''s fine'\n").is_ok());
    assert!(lint("Write-Host 'open\n").is_err());
    assert!(lint("& {\n").is_err());
    assert!(lint("# Set-CsUser in a comment\nWrite-Host 'Set-CsUser in a string'\n").is_ok());
}

#[test]
fn field_case_script_appends_the_d365_acs_id_to_allowed_acs_resources_keeping_the_rest() {
    let script = audit(FIELD_CASE, &[]).script();
    let step = &script[position(&script, "ACSFED-002 [")..];
    let step = &step[..position(step, "\n}\n")];
    // Read first, keep the immutable ids already there (dropping ARM paths), append ours.
    let read = position(
        step,
        "$config = Get-CsTeamsAcsFederationConfiguration -Identity Global",
    );
    let keep = position(
        step,
        "$desired = @($current | Where-Object { $_ -match $guid })",
    );
    let append = position(
        step,
        &format!(
            "if ($desired -notcontains '{FIELD_CASE_ACS_ID}') {{ $desired += '{FIELD_CASE_ACS_ID}' }}"
        ),
    );
    let set = position(
        step,
        "Set-CsTeamsAcsFederationConfiguration -Identity Global -AllowedAcsResources $desired",
    );
    assert!(read < keep && keep < append && append < set, "{step}");
}

#[test]
fn field_case_script_grants_agent2_and_agent3_a_policy_that_allows_acs_once_each() {
    // With the agents' license SKU named, so LIC-005 (unknown without it) adds no agent steps.
    let script = audit(FIELD_CASE, &["DYN365_CUSTOMER_SERVICE_PREMIUM"]).script();
    for agent in ["agent2@contoso.com", "agent3@contoso.com"] {
        let grant = format!("Grant-CsExternalAccessPolicy -Identity '{agent}' -PolicyName $null");
        assert_eq!(
            script.matches(&grant).count(),
            1,
            "EXT-001 and EXT-002 ask for the same change; it is made once:\n{script}"
        );
        assert!(
            script.contains(&format!("EXT-001, EXT-002 [{agent}]")),
            "{script}"
        );
    }
    assert!(
        !script.contains("agent1@contoso.com"),
        "agent1 passes EXT-001"
    );
}

#[test]
fn field_case_script_has_a_manual_step_for_the_operator_connect_number() {
    let audit = audit(FIELD_CASE, &[]);
    let plan = audit.plan();
    let step = plan
        .steps
        .iter()
        .find(|s| s.checks == ["NUM-002"])
        .expect("a NUM-002 step");
    assert_eq!(step.subjects, ["+14255550150"]);
    let Action::Manual(lines) = &step.action else {
        panic!("re-provisioning by the operator is manual: {step:?}");
    };
    assert!(
        lines
            .iter()
            .any(|l| l.contains("re-provision the range containing +14255550150"))
    );
    let script = audit.script();
    let manual = &script[position(&script, "NUM-002 [+14255550150] (manual)")..];
    assert!(
        manual
            .lines()
            .nth(2)
            .is_some_and(|l| l.starts_with("# MANUAL: "))
    );
}

#[test]
fn field_case_script_ends_with_the_sync_from_teams_step_for_num_008() {
    let audit = audit(FIELD_CASE, &[]);
    let plan = audit.plan();
    let last = plan.steps.last().expect("steps");
    assert_eq!(last.checks, ["NUM-008"]);
    assert_eq!(last.phase, Phase::Sync);
    assert_eq!(last.subjects, ["+14255550175"]);
    assert!(
        audit
            .script()
            .contains("Teams phone system\n# MANUAL: tab > Sync.")
    );
}

#[test]
fn field_case_steps_run_in_dependency_order() {
    let script = audit(FIELD_CASE, &[]).script();
    let order = [
        "ACSFED-002 [bb567890-1234-1234-1234-bbb123456789] ---",
        "EXT-001, EXT-002 [agent2@contoso.com] ---",
        "EXT-001, EXT-002 [agent3@contoso.com] ---",
        "NUM-002 [+14255550150] (manual) ---",
        "NUM-008 [+14255550175] (manual) ---",
    ];
    let positions: Vec<usize> = order.iter().map(|s| position(&script, s)).collect();
    assert!(
        positions.is_sorted(),
        "{order:?} at {positions:?}:\n{script}"
    );
    let phases: Vec<Phase> = audit(FIELD_CASE, &[])
        .plan()
        .steps
        .iter()
        .map(|s| s.phase)
        .collect();
    assert!(phases.is_sorted(), "{phases:?}");
}

#[test]
fn field_case_script_changes_nothing_without_apply_and_parses() {
    let script = audit(FIELD_CASE, &[]).script();
    let changes = lint(&script).unwrap_or_else(|e| panic!("{e}\n{script}"));
    let cmdlets: Vec<&str> = changes.iter().map(|(_, c)| c.as_str()).collect();
    assert_eq!(
        cmdlets,
        [
            "Set-CsTeamsAcsFederationConfiguration",
            "Grant-CsExternalAccessPolicy",
            "Grant-CsExternalAccessPolicy"
        ]
    );
    assert!(script.contains("param([switch]$Apply)"));
    assert!(
        script.contains("'would change'"),
        "the dry run says what it would change"
    );
}

#[test]
fn every_automated_step_compares_the_current_value_before_changing_it() {
    let script = audit(FIELD_CASE, &[]).script();
    for step in script.split("\nInvoke-Step ").skip(1) {
        let compare = position(step, "if (Test-SameValue $current $desired) {");
        let current = position(step, "$current = ");
        let apply = position(step, "if ($Apply) {");
        assert!(current < compare && compare < apply, "{step}");
    }
}

#[test]
fn unknown_results_are_comments_naming_what_to_grant() {
    let audit = audit(FIELD_CASE, &[]);
    // A fact that could not be read: the step names what to grant.
    let mut unreadable = result("LIC-004", Status::Unknown, None);
    unreadable.needs = Some("LicenseAssignment.Read.All".into());
    let mut results = audit.report.results.clone();
    results.push(unreadable);
    let script = audit.script_for(results);
    let step_of = |heading: &str| {
        let step = &script[position(&script, heading)..];
        let step = &step[..position(step, "\n\n")];
        assert!(step.lines().skip(1).all(|l| l.starts_with('#')), "{step}");
        step.to_string()
    };
    let step = step_of("LIC-004 (not audited)");
    assert!(
        step.contains("# Grant: LicenseAssignment.Read.All"),
        "{step}"
    );
    // A check that could not decide on the data it had (LIC-005 without --cc-sku): the step
    // carries its reason, which says what to pass.
    let step = step_of("LIC-005 [agent1@contoso.com] (not audited)");
    assert!(
        step.contains("rerun with --cc-sku DYN365_CUSTOMER_SERVICE_PREMIUM"),
        "{step}"
    );
}

#[test]
fn the_healthy_tenant_script_has_no_steps() {
    let audit = audit(HEALTHY, &["DYN365_CUSTOMER_SERVICE_PREMIUM"]);
    assert!(audit.plan().steps.is_empty(), "{:?}", audit.plan().steps);
    let script = audit.script();
    assert!(!script.contains("Invoke-Step '"), "{script}");
    assert!(!script.contains("# ---"), "{script}");
    assert!(script.contains("Nothing to fix"));
    lint(&script).expect("parses");
}

#[test]
fn suppressed_results_get_no_step() {
    let mut audit = audit(FIELD_CASE, &[]);
    for r in audit
        .report
        .results
        .iter_mut()
        .filter(|r| r.check == "NUM-002")
    {
        r.suppressed = Some(Suppressed {
            reason: "operator ticket".into(),
            expires: None,
        });
    }
    assert!(
        !audit
            .plan()
            .steps
            .iter()
            .any(|s| s.checks.contains(&"NUM-002".to_string()))
    );
    assert!(!audit.script().contains("NUM-002"));
}

// --- values from the tenant's own data -----------------------------------------------------------

#[test]
fn a_resource_account_is_bound_to_the_ids_dynamics_365_records_never_the_documented_example() {
    let audit = audit(FIELD_CASE, &[]);
    let ra = (
        "3e5d9c21-6b7a-4f0e-9a1d-2c4b6e8f0a13",
        "ra_cc_sales@contoso.com",
    );
    let script = audit.script_for(vec![
        result("RA-002", Status::Fail, Some(ra)),
        result("RA-004", Status::Fail, Some(ra)),
    ]);
    assert_eq!(
        script
            .matches(&format!(
                "Set-CsOnlineApplicationInstance -Identity 'ra_cc_sales@contoso.com' -ApplicationId '{FIELD_CASE_APP_ID}' -AcsResourceId '{FIELD_CASE_ACS_ID}'"
            ))
            .count(),
        1,
        "RA-002 and RA-004 are one change:\n{script}"
    );
    assert!(script.contains(&format!(
        "Sync-CsOnlineApplicationInstance -ObjectId '{}' -ApplicationId '{FIELD_CASE_APP_ID}' -AcsResourceId '{FIELD_CASE_ACS_ID}'",
        ra.0
    )));
    assert!(
        script
            .contains("$ra = Get-CsOnlineApplicationInstance -Identity 'ra_cc_sales@contoso.com'")
    );
    assert!(!script.contains(DOCUMENTED_APP_ID), "{script}");
    lint(&script).unwrap_or_else(|e| panic!("{e}\n{script}"));
}

#[test]
fn a_license_is_added_to_those_the_account_already_has() {
    let mut audit = audit(FIELD_CASE, &[]);
    let ra = "a4b5c6d7-e8f9-4a0b-9c1d-2e3f4a5b6c7d";
    if let Fact::Available(licenses) = &mut audit.model.directory.licenses {
        licenses.remove(ra);
    }
    let script = audit.script_for(vec![result(
        "LIC-002",
        Status::Fail,
        Some((ra, "ra_cc_support@contoso.com")),
    )]);
    assert!(script.contains("-AddLicenses @(@{ SkuId = '440eaaa8-b3e0-484b-a8be-62870b9ba70a' }) -RemoveLicenses @()"), "{script}");
    assert!(script.contains("$desired = @($current)"));
}

#[test]
fn steps_the_script_cannot_do_safely_are_manual() {
    let audit = audit(FIELD_CASE, &[]);
    for (check, subject) in [
        ("LIC-001", None),
        ("D365-003", None),
        ("NUM-008", Some(("+14255550175", "+14255550175"))),
        ("NUM-002", Some(("+14255550150", "+14255550150"))),
        (
            "IB-002",
            Some(("6b3c4d5e-1d2e-4f3a-9b8c-2d3e4f5a6b7c", "agent2@contoso.com")),
        ),
    ] {
        let plan = Plan::build(&[result(check, Status::Fail, subject)], &audit.model);
        assert!(
            plan.steps
                .iter()
                .all(|s| matches!(s.action, Action::Manual(_))),
            "{check}: {:?}",
            plan.steps
        );
    }
}

/// One fail and one missing result for every built-in check, about subjects of the field case:
/// every builder's output must parse and change nothing without `-Apply`.
fn every_check_failing() -> Vec<CheckResult> {
    let env = engine::cel::environment();
    let checks = engine::catalog::load(&env, None).expect("the built-in checks load");
    let subject = |check: &str| -> Option<(&str, &str)> {
        let prefix = check.split('-').next().unwrap_or("");
        match (prefix, check) {
            (_, "EXT-002") => Some(("Tag:CC-Restricted", "Tag:CC-Restricted")),
            (_, "EXT-004") | ("RA", _) | (_, "LIC-002") | (_, "LIC-003") | (_, "NUM-001") => {
                Some((
                    "3e5d9c21-6b7a-4f0e-9a1d-2c4b6e8f0a13",
                    "ra_cc_sales@contoso.com",
                ))
            }
            ("AGT", _)
            | (_, "EXT-001")
            | (_, "LIC-004")
            | (_, "LIC-005")
            | (_, "IB-002")
            | (_, "IB-003") => Some(("6b3c4d5e-1d2e-4f3a-9b8c-2d3e4f5a6b7c", "agent2@contoso.com")),
            ("NUM", _) => Some(("+14255550150", "+14255550150")),
            (_, "ACSFED-002") | (_, "ACSFED-003") => Some((FIELD_CASE_ACS_ID, FIELD_CASE_ACS_ID)),
            _ => None,
        }
    };
    checks
        .keys()
        .flat_map(|id| {
            [Status::Fail, Status::Missing, Status::Unknown]
                .map(|status| result(id, status, subject(id)))
        })
        .collect()
}

#[test]
fn a_check_without_a_builder_gets_its_remediation_as_a_manual_step() {
    let audit = audit(FIELD_CASE, &[]);
    let mut results = every_check_failing();
    let mut custom = results[0].clone();
    custom.check = "CUSTOM-001".into();
    custom.title = "A check added as data only".into();
    custom.remediation = Some("Run Fix-Something -Identity 'x'".into());
    results.push(custom);
    let script = audit.script_for(results);
    assert!(
        script.contains("No automated step for CUSTOM-001"),
        "{script}"
    );
    assert!(
        script.contains("# MANUAL: Run Fix-Something -Identity"),
        "{script}"
    );
    lint(&script).unwrap_or_else(|e| panic!("{e}\n{script}"));
}

#[test]
fn every_builder_writes_a_script_that_parses_and_changes_nothing_without_apply() {
    let audit = audit(FIELD_CASE, &[]);
    let script = audit.script_for(every_check_failing());
    let changes = lint(&script).unwrap_or_else(|e| panic!("{e}\n{script}"));
    assert!(changes.len() > 10, "{changes:?}");
    assert!(!script.contains(DOCUMENTED_APP_ID));
}

// --- hostile tenant data -------------------------------------------------------------------------

#[test]
fn tenant_data_cannot_break_out_of_strings_or_comments() {
    let audit = audit(FIELD_CASE, &[]);
    let payloads = [
        "x'; Remove-Item C:\\ -Recurse; '",
        "x\u{2019}; Remove-Item C:\\ -Recurse; \u{2018}",
        "x\nRemove-Item C:\\ -Recurse\n#",
        "x\r\nRemove-Item C:\\ -Recurse",
        "x\u{2028}Remove-Item C:\\ -Recurse",
        "x\"; Remove-Item C:\\ -Recurse; \"",
        "x`\"; $(Remove-Item C:\\ -Recurse)",
        "x} ; Remove-Item C:\\ -Recurse ; {",
    ];
    for payload in payloads {
        let results = [
            "EXT-001", "AGT-001", "AGT-003", "NUM-002", "NUM-008", "RA-003", "LIC-005",
        ]
        .into_iter()
        .map(|check| result(check, Status::Fail, Some((payload, payload))))
        .chain([result("LIC-005", Status::Unknown, None)].map(|mut r| {
            r.message = payload.into();
            r.needs = Some(payload.into());
            r
        }))
        .collect();
        let script = audit.script_for(results);
        let changes = lint(&script).unwrap_or_else(|e| panic!("{payload:?}: {e}\n{script}"));
        assert!(
            changes.iter().all(|(_, c)| c != "Remove-Item"),
            "{payload:?} escaped into code:\n{script}"
        );
    }
}

#[test]
fn the_script_starts_with_a_byte_order_mark_for_windows_powershell() {
    let script = audit(FIELD_CASE, &[]).script();
    assert!(script.starts_with('\u{FEFF}'));
    assert!(script.contains("\nparam([switch]$Apply)\n"));
    let before: Vec<&str> = script[..position(&script, "param(")]
        .trim_start_matches('\u{FEFF}')
        .lines()
        .filter(|l| !l.is_empty())
        .collect();
    assert!(
        before.iter().all(|l| l.starts_with('#')),
        "param() must be the first statement"
    );
}

// --- the command line ----------------------------------------------------------------------------

/// `ccaudit audit --snapshot SNAPSHOT --no-config --format json`, from the repository root.
fn audit_command(snapshot: &str) -> assert_cmd::Command {
    let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("ccaudit");
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("CCAUDIT_CC_SKUS")
        .env_remove("CCAUDIT_CONFIG")
        .args([
            "audit",
            "--snapshot",
            snapshot,
            "--no-config",
            "--format",
            "json",
        ]);
    cmd
}

#[test]
fn audit_writes_the_script_where_asked_and_keeps_its_exit_code() {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let path = dir.path().join("fix.ps1");
    let output = audit_command(FIELD_CASE)
        .arg("--remediation-script")
        .arg(&path)
        .output()
        .expect("ccaudit runs");
    assert_eq!(output.status.code(), Some(1));
    let script = std::fs::read_to_string(&path).expect("the script is written");
    assert_eq!(script, audit(FIELD_CASE, &[]).script());
    serde_json::from_slice::<serde_json::Value>(&output.stdout)
        .expect("stdout is still the report");
}

/// A check added with `--checks` reuses a built-in fix template by naming its kind: its step is
/// built by that template, in the phase its YAML names, with no Rust change.
#[test]
fn a_check_added_with_checks_uses_an_existing_fix_kind() {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let checks = dir.path().join("checks");
    std::fs::create_dir(&checks).expect("checks dir");
    std::fs::write(
        checks.join("MINE-001.yaml"),
        "id: MINE-001\n\
         title: ACS federation is on (our own check)\n\
         area: acs-federation\n\
         severity: high\n\
         basis: inferred\n\
         description: Always fails, to exercise its fix.\n\
         rule: \"false\"\n\
         message: {pass: ok, fail: bad}\n\
         remediation: Turn ACS federation on.\n\
         docs: [https://learn.microsoft.com/x]\n\
         fix:\n  phase: acs-federation\n  steps:\n    - kind: enable-acs-federation\n",
    )
    .expect("check written");
    let path = dir.path().join("fix.ps1");
    let output = audit_command(HEALTHY)
        .arg("--checks")
        .arg(&checks)
        .args(["--only", "MINE-001", "--remediation-script"])
        .arg(&path)
        .output()
        .expect("ccaudit runs");
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let script = std::fs::read_to_string(&path).expect("the script is written");
    assert!(script.contains("# ==== ACS federation ===="), "{script}");
    assert!(script.contains(": MINE-001 ---"), "{script}");
    assert!(
        script.contains(
            "Set-CsTeamsAcsFederationConfiguration -Identity Global -EnableAcsUsers $true"
        ),
        "{script}"
    );
    assert!(
        !script.contains("No automated step for MINE-001"),
        "{script}"
    );
}
