//! A check's fix as data: the `fix:` field of a check file names its phase in the dependency
//! order and its steps, each a typed template (`kind`) with its parameters. The remediation
//! script builds its PowerShell from these templates (`crate::triage::remediation_script`), and
//! `explain` shows them; no Rust code matches on a check id to find a check's fix.

use serde::{Deserialize, Serialize};

/// The order fixes must be applied in: what later steps read comes first.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// The ids everything else is bound to.
    D365Ids,
    ResourceAccounts,
    Licenses,
    /// Enterprise Voice and TeamsOnly need the agent's licenses.
    Agents,
    AcsFederation,
    ExternalAccess,
    InformationBarriers,
    Numbers,
    /// D365 "Sync from Teams" and what it needs; last, because it reads all of the above.
    Sync,
    /// Checks without a `fix` (added with `--checks`, or not yet given one).
    #[default]
    Other,
}

impl Phase {
    pub fn title(self) -> &'static str {
        match self {
            Phase::D365Ids => "Dynamics 365 ids (ACS immutable id, Dynamics App ID)",
            Phase::ResourceAccounts => "Resource accounts",
            Phase::Licenses => "Licenses",
            Phase::Agents => "Agents",
            Phase::AcsFederation => "ACS federation",
            Phase::ExternalAccess => "External access policies",
            Phase::InformationBarriers => "Information barriers",
            Phase::Numbers => "Phone numbers",
            Phase::Sync => "Sync into Dynamics 365",
            Phase::Other => "Other checks",
        }
    }
}

/// The `fix:` field of a check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fix {
    pub phase: Phase,
    /// Position within the phase (lower first); checks with the same position keep id order.
    #[serde(default)]
    pub order: u32,
    pub steps: Vec<FixStep>,
}

/// One step of a fix: a template and its parameters. Texts may name the subject with
/// `{subject}` (its name) or `{subject_id}`, and `{subject:ps}` / `{subject_id:ps}` for the same
/// as a PowerShell string literal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum FixStep {
    /// Instructions for a person, as comments: what a script cannot do safely.
    Manual {
        title: String,
        /// One comment line per line.
        text: String,
        /// Used instead of `title`/`text` for a `missing` result.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title_missing: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text_missing: Option<String>,
        /// One step for all subjects (a button pressed once), not one per subject.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        once: bool,
    },
    /// Binds the first contact-center resource account, or creates one bound to the Dynamics App
    /// ID when there is none.
    CreateResourceAccount {
        /// Shown when the Dynamics App ID or the default domain is not known.
        app_id_unknown: String,
        /// Shown when binding an existing account and neither D365 id is known.
        ids_unknown: String,
        /// A note on what to do after creating it.
        then: String,
    },
    /// Binds the subject resource account to the Dynamics App ID and the D365 ACS resource.
    BindResourceAccount {
        /// Shown when neither D365 id is known.
        ids_unknown: String,
    },
    /// Sets the tenant's country as the usage location when none is set.
    SetUsageLocation {},
    /// Adds the Teams Phone Resource Account license.
    LicenseResourceAccount {},
    /// Adds a free Calling Plan license.
    AssignCallingPlan {},
    /// Adds a free Teams Phone Standard license to the agent.
    LicenseAgentTeamsPhone {},
    /// Turns on Enterprise Voice for the agent.
    EnableEnterpriseVoice {
        /// Shown when Teams has no user record for the agent yet.
        no_teams_user: String,
    },
    /// Moves the agent to TeamsOnly.
    MoveToTeamsOnly {},
    /// Creates or enables the Azure Communication Services service principal.
    EnableAcsServicePrincipal {},
    /// Turns on `EnableAcsUsers` of the Teams ACS federation configuration.
    EnableAcsFederation {},
    /// Appends the D365 ACS immutable id to `AllowedAcsResources`.
    AllowAcsResource {
        /// Shown when the ACS immutable id is not known.
        acs_id_unknown: String,
    },
    /// Gives the subject user an external access policy that allows ACS.
    GrantAcsPolicy {},
    /// Gives every agent and resource account holding the subject policy one that allows ACS.
    ReassignBlockingPolicy {},
    /// Information barrier policies: what to review, as comments.
    ReviewInformationBarriers {},
    /// What makes the subject number a Teams service number, per number type.
    MakeServiceNumber {},
    /// Assigns a number again when its activation failed.
    ActivateNumber {},
    /// Assigns an unassigned number to its resource account.
    AssignNumber {},
}

/// Every kind, as written in YAML (docs/writing-checks.md lists each with its parameters).
pub const KINDS: &[&str] = &[
    "manual",
    "create-resource-account",
    "bind-resource-account",
    "set-usage-location",
    "license-resource-account",
    "assign-calling-plan",
    "license-agent-teams-phone",
    "enable-enterprise-voice",
    "move-to-teams-only",
    "enable-acs-service-principal",
    "enable-acs-federation",
    "allow-acs-resource",
    "grant-acs-policy",
    "reassign-blocking-policy",
    "review-information-barriers",
    "make-service-number",
    "activate-number",
    "assign-number",
];

/// The placeholders a fix text may use.
pub const PLACEHOLDERS: &[&str] = &["subject", "subject_id", "subject:ps", "subject_id:ps"];

/// What each kind does, for `explain` and the docs: its name, whether it changes the tenant, and
/// how (read, compute, change).
pub struct KindInfo {
    pub kind: &'static str,
    pub automated: bool,
    pub summary: &'static str,
}

impl FixStep {
    pub fn info(&self) -> KindInfo {
        let (kind, automated, summary) = match self {
            FixStep::Manual { .. } => (
                "manual",
                false,
                "instructions for a person, written into the script as comments",
            ),
            FixStep::CreateResourceAccount { .. } => (
                "create-resource-account",
                true,
                "reads the account's ApplicationId; binds the first contact-center resource account, or creates cc-voice@<default domain> bound to the Dynamics App ID (and the ACS immutable id)",
            ),
            FixStep::BindResourceAccount { .. } => (
                "bind-resource-account",
                true,
                "reads the account's ApplicationId and AcsResourceId; sets those D365 records that differ, then syncs",
            ),
            FixStep::SetUsageLocation {} => (
                "set-usage-location",
                true,
                "reads the usage location; sets the tenant's country only when it is empty",
            ),
            FixStep::LicenseResourceAccount {} => (
                "license-resource-account",
                true,
                "reads the account's licenses; adds Teams Phone Resource Account, keeping the others",
            ),
            FixStep::AssignCallingPlan {} => (
                "assign-calling-plan",
                true,
                "reads the account's licenses; adds a free Calling Plan, keeping the others",
            ),
            FixStep::LicenseAgentTeamsPhone {} => (
                "license-agent-teams-phone",
                true,
                "reads the agent's licenses; adds a free Teams Phone Standard unit, keeping the others",
            ),
            FixStep::EnableEnterpriseVoice { .. } => (
                "enable-enterprise-voice",
                true,
                "reads EnterpriseVoiceEnabled; turns it on",
            ),
            FixStep::MoveToTeamsOnly {} => (
                "move-to-teams-only",
                true,
                "reads TeamsUpgradeEffectiveMode; grants UpgradeToTeams",
            ),
            FixStep::EnableAcsServicePrincipal {} => (
                "enable-acs-service-principal",
                true,
                "reads the ACS service principal; creates or enables it",
            ),
            FixStep::EnableAcsFederation {} => (
                "enable-acs-federation",
                true,
                "reads EnableAcsUsers; turns it on, leaving AllowedAcsResources as it is",
            ),
            FixStep::AllowAcsResource { .. } => (
                "allow-acs-resource",
                true,
                "reads AllowedAcsResources; appends the D365 ACS immutable id, keeping the other immutable ids",
            ),
            FixStep::GrantAcsPolicy {} => (
                "grant-acs-policy",
                true,
                "reads the user's external access policy; grants Global, an existing policy that allows ACS, or a new AcsAllowed one",
            ),
            FixStep::ReassignBlockingPolicy {} => (
                "reassign-blocking-policy",
                true,
                "for each agent and resource account holding the policy: as grant-acs-policy",
            ),
            FixStep::ReviewInformationBarriers {} => (
                "review-information-barriers",
                false,
                "the Security & Compliance cmdlets to review the segments and policies, as comments",
            ),
            FixStep::MakeServiceNumber {} => (
                "make-service-number",
                false,
                "what to ask the operator or carrier for, per number type, as comments",
            ),
            FixStep::ActivateNumber {} => (
                "activate-number",
                true,
                "reads the activation state; assigns a failed number again (else waits)",
            ),
            FixStep::AssignNumber {} => (
                "assign-number",
                true,
                "reads the number's assignment; assigns an unassigned number to its resource account",
            ),
        };
        KindInfo {
            kind,
            automated,
            summary,
        }
    }

    /// The texts of this step, for validating their placeholders.
    fn texts(&self) -> Vec<&str> {
        match self {
            FixStep::Manual {
                title,
                text,
                title_missing,
                text_missing,
                ..
            } => [
                Some(title),
                Some(text),
                title_missing.as_ref(),
                text_missing.as_ref(),
            ]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect(),
            FixStep::CreateResourceAccount {
                app_id_unknown,
                ids_unknown,
                then,
            } => vec![app_id_unknown, ids_unknown, then],
            FixStep::BindResourceAccount { ids_unknown } => vec![ids_unknown],
            FixStep::EnableEnterpriseVoice { no_teams_user } => vec![no_teams_user],
            FixStep::AllowAcsResource { acs_id_unknown } => vec![acs_id_unknown],
            _ => Vec::new(),
        }
    }

    /// Lines describing the step for people: its kind and what it does, and a manual step's
    /// text (placeholders left as written).
    pub fn describe(&self) -> Vec<String> {
        let info = self.info();
        match self {
            FixStep::Manual { title, text, .. } => std::iter::once(format!("manual: {title}"))
                .chain(text.lines().map(|l| format!("  {l}")))
                .collect(),
            _ if info.automated => vec![format!(
                "{}: {} (changes only with -Apply)",
                info.kind, info.summary
            )],
            _ => vec![format!("{} (manual): {}", info.kind, info.summary)],
        }
    }
}

impl Fix {
    /// Checks what serde cannot: at least one step, texts not empty, known placeholders only.
    pub fn validate(&self) -> Result<(), String> {
        if self.steps.is_empty() {
            return Err("fix.steps is empty".into());
        }
        if self.phase == Phase::Other {
            return Err(
                "fix.phase `other` is for checks without a fix; name the phase the fix belongs to"
                    .into(),
            );
        }
        for (i, step) in self.steps.iter().enumerate() {
            let kind = step.info().kind;
            for text in step.texts() {
                if text.trim().is_empty() {
                    return Err(format!("fix.steps[{i}] ({kind}): a text is empty"));
                }
                if let Some(bad) = unknown_placeholder(text) {
                    return Err(format!(
                        "fix.steps[{i}] ({kind}): unknown placeholder `{{{bad}}}` (known: {})",
                        PLACEHOLDERS
                            .iter()
                            .map(|p| format!("{{{p}}}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The first `{name}` in `text` that is not a known placeholder (or an unclosed `{`).
fn unknown_placeholder(text: &str) -> Option<String> {
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else {
            return Some(after.to_string());
        };
        let name = &after[..end];
        if !PLACEHOLDERS.contains(&name) {
            return Some(name.to_string());
        }
        rest = &after[end + 1..];
    }
    None
}

/// The values a fix text's placeholders stand for.
pub struct Placeholders<'a> {
    pub subject: &'a str,
    pub subject_id: &'a str,
    /// Quotes a value as a PowerShell string literal.
    pub quote: fn(&str) -> String,
}

impl Placeholders<'_> {
    /// `text` with its placeholders replaced.
    pub fn fill(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find('{') {
            out.push_str(&rest[..start]);
            let after = &rest[start + 1..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[start..]);
                return out;
            };
            match &after[..end] {
                "subject" => out.push_str(self.subject),
                "subject_id" => out.push_str(self.subject_id),
                "subject:ps" => out.push_str(&(self.quote)(self.subject)),
                "subject_id:ps" => out.push_str(&(self.quote)(self.subject_id)),
                other => {
                    out.push('{');
                    out.push_str(other);
                    out.push('}');
                }
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<Fix, String> {
        let fix: Fix = serde_yaml::from_str(yaml).map_err(|e| e.to_string())?;
        fix.validate()?;
        Ok(fix)
    }

    #[test]
    fn a_fix_with_a_manual_and_a_typed_step_parses() {
        let fix = parse(
            "phase: external-access\norder: 2\nsteps:\n  - kind: grant-acs-policy\n  - kind: manual\n    title: t\n    text: \"Run it for {subject:ps}\"\n",
        )
        .unwrap();
        assert_eq!(fix.phase, Phase::ExternalAccess);
        assert_eq!(fix.order, 2);
        assert_eq!(fix.steps[0], FixStep::GrantAcsPolicy {});
    }

    #[test]
    fn an_unknown_kind_is_refused() {
        let err = parse("phase: agents\nsteps:\n  - kind: reboot-tenant\n").unwrap_err();
        assert!(err.contains("reboot-tenant"), "{err}");
    }

    #[test]
    fn a_missing_or_unknown_parameter_is_refused() {
        let err = parse("phase: agents\nsteps:\n  - kind: bind-resource-account\n").unwrap_err();
        assert!(err.contains("ids_unknown"), "{err}");
        let err = parse("phase: agents\nsteps:\n  - kind: grant-acs-policy\n    policy: x\n")
            .unwrap_err();
        assert!(err.contains("policy"), "{err}");
    }

    #[test]
    fn an_unknown_phase_an_empty_fix_and_an_unknown_placeholder_are_refused() {
        assert!(parse("phase: later\nsteps: [{kind: grant-acs-policy}]\n").is_err());
        assert!(parse("phase: agents\nsteps: []\n").is_err());
        let err =
            parse("phase: agents\nsteps:\n  - kind: manual\n    title: t\n    text: \"{upn}\"\n")
                .unwrap_err();
        assert!(err.contains("{upn}"), "{err}");
    }

    #[test]
    fn placeholders_are_filled_and_quoted() {
        let p = Placeholders {
            subject: "a'b@contoso.com",
            subject_id: "id-1",
            quote: |v| format!("<{v}>"),
        };
        assert_eq!(
            p.fill("{subject} {subject:ps} {subject_id} {subject_id:ps} {x"),
            "a'b@contoso.com <a'b@contoso.com> id-1 <id-1> {x"
        );
    }

    #[test]
    fn every_kind_is_a_template_and_documented() {
        let docs = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/writing-checks.md"),
        )
        .unwrap_or_default();
        for kind in KINDS {
            // Parameterless kinds parse alone; the others fail only for a missing parameter.
            match serde_yaml::from_str::<FixStep>(&format!("kind: {kind}")) {
                Ok(step) => assert_eq!(step.info().kind, *kind),
                Err(e) => assert!(e.to_string().contains("missing field"), "{kind}: {e}"),
            }
            assert!(
                docs.contains(&format!("| `{kind}` |")),
                "{kind} is not in the docs table"
            );
        }
        assert!(
            serde_yaml::from_str::<FixStep>("kind: nope")
                .unwrap_err()
                .to_string()
                .contains("unknown variant")
        );
    }
}
