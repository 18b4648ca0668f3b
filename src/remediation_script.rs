//! `audit --remediation-script FILE`: a PowerShell script with the fixes for every fail and
//! missing result, for an administrator to review and run. ccaudit never runs it and never
//! writes to a tenant.
//!
//! Steps are built per check id from the results and the tenant model (never by pasting the
//! check's remediation text), so every value is the tenant's own: the Dynamics App ID and the ACS
//! immutable id come from Dataverse, never from documentation examples. Each automated step
//! reads the current value, computes the desired one from it (merging, e.g. appending to
//! `AllowedAcsResources` rather than replacing it), does nothing when they already agree, and
//! changes anything only inside `if ($Apply)`; without `-Apply` it prints "would change X from A
//! to B". What a script cannot do safely (buying licenses, operator re-provisioning, D365's "Sync
//! from Teams" button, policy decisions) is a commented manual step; an unknown result is a
//! comment naming what to grant so the audit can see it. Steps run in dependency order
//! (`Phase`).

use std::fmt::Write as _;

use crate::engine::{CheckResult, Status};
use crate::ids::is_guid;
use crate::model::TenantModel;
use crate::model::directory::{Sku, User, UserLicenses};
use crate::model::teams::{ExternalAccessPolicy, PhoneNumber, ResourceAccount, TeamsUser};
use crate::report::Report;

/// Microsoft Teams Phone Resource Account.
const RA_LICENSE_SKU: &str = "440eaaa8-b3e0-484b-a8be-62870b9ba70a";
/// Microsoft Teams Phone Standard (MCOEV).
const TEAMS_PHONE_SKU: &str = "e43b5b99-8dfb-405f-9987-dc307f34bcbd";
/// The Azure Communication Services first-party application.
const ACS_APP_ID: &str = "1fd5118e-2576-4263-8130-9503064c837a";
/// The policy created for agents when no existing external access policy allows ACS.
const ACS_POLICY: &str = "AcsAllowed";

/// The order fixes must be applied in: what later steps read comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
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
    /// Checks this script has no builder for (added with `--checks`).
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

/// Check ids in the order their fixes run (the phase, then the position within it).
const ORDER: &[(&str, Phase)] = &[
    ("D365-001", Phase::D365Ids),
    ("D365-002", Phase::D365Ids),
    ("D365-003", Phase::D365Ids),
    ("D365-004", Phase::D365Ids),
    ("RA-001", Phase::ResourceAccounts),
    ("RA-008", Phase::ResourceAccounts),
    ("RA-002", Phase::ResourceAccounts),
    ("RA-004", Phase::ResourceAccounts),
    ("RA-003", Phase::ResourceAccounts),
    ("RA-006", Phase::ResourceAccounts),
    ("RA-009", Phase::ResourceAccounts),
    ("LIC-001", Phase::Licenses),
    ("LIC-002", Phase::Licenses),
    ("LIC-003", Phase::Licenses),
    ("LIC-004", Phase::Licenses),
    ("LIC-005", Phase::Licenses),
    ("AGT-002", Phase::Agents),
    ("AGT-001", Phase::Agents),
    ("AGT-003", Phase::Agents),
    ("ACSAUTH-001", Phase::AcsFederation),
    ("ACSFED-001", Phase::AcsFederation),
    ("ACSFED-003", Phase::AcsFederation),
    ("ACSFED-002", Phase::AcsFederation),
    ("ACSAUTH-003", Phase::AcsFederation),
    ("EXT-001", Phase::ExternalAccess),
    ("EXT-004", Phase::ExternalAccess),
    ("EXT-002", Phase::ExternalAccess),
    ("EXT-003", Phase::ExternalAccess),
    ("IB-001", Phase::InformationBarriers),
    ("IB-002", Phase::InformationBarriers),
    ("IB-003", Phase::InformationBarriers),
    ("NUM-001", Phase::Numbers),
    ("NUM-004", Phase::Numbers),
    ("NUM-002", Phase::Numbers),
    ("NUM-003", Phase::Numbers),
    ("NUM-010", Phase::Sync),
    ("NUM-008", Phase::Sync),
    ("NUM-011", Phase::Sync),
    ("NUM-009", Phase::Sync),
];

/// Where a step's cmdlets come from; decides the imports and the connect hints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Module {
    Teams,
    /// Microsoft Graph users and licenses (`User.ReadWrite.All`).
    GraphUsers,
    /// Microsoft Graph service principals (`Application.ReadWrite.All`).
    GraphApplications,
    /// Security & Compliance PowerShell (ExchangeOnlineManagement, `Connect-IPPSSession`).
    Compliance,
}

/// One step of the script.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub phase: Phase,
    /// The checks this step fixes (several when their fixes are the same change).
    pub checks: Vec<String>,
    /// The subjects it is about (UPN, number, policy); empty for the tenant.
    pub subjects: Vec<String>,
    pub title: String,
    pub module: Option<Module>,
    pub action: Action,
    /// Steps with the same key are the same change, made once.
    key: String,
    /// Position in `ORDER`, then within the check (a policy is created before it is granted).
    rank: (usize, u8),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// An idempotent change, made only with `-Apply`.
    Change(Change),
    /// Something a script cannot do safely: instructions for a person, as comments.
    Manual(Vec<String>),
    /// A result the audit could not decide: what to grant so it can.
    NotAudited {
        message: String,
        grant: Option<String>,
    },
}

/// Read, compare, change. `read` sets `$current` (reads only); `desired` sets `$desired`,
/// usually derived from `$current`; `apply` runs only when they differ and `-Apply` is given.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// What is changed, as the dry run names it.
    pub what: String,
    pub read: Vec<String>,
    pub desired: Vec<String>,
    pub apply: Vec<String>,
    /// Comments shown above the step.
    pub notes: Vec<String>,
}

/// The steps for a set of results, deduplicated and in dependency order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    pub steps: Vec<Step>,
}

impl Plan {
    /// Builds the plan: one or more steps per fail, missing or unknown result that is not
    /// suppressed.
    pub fn build(results: &[CheckResult], model: &TenantModel) -> Plan {
        let ctx = Ctx { model };
        let mut steps: Vec<Step> = Vec::new();
        for r in results.iter().filter(|r| r.suppressed.is_none()) {
            let new = match r.status {
                Status::Fail | Status::Missing => ctx.fix(r),
                Status::Unknown => vec![not_audited(r)],
                Status::Pass | Status::Skipped => Vec::new(),
            };
            for step in new {
                match steps.iter_mut().find(|s| s.key == step.key) {
                    Some(same) => {
                        for c in step.checks {
                            if !same.checks.contains(&c) {
                                same.checks.push(c);
                            }
                        }
                        for s in step.subjects {
                            if !same.subjects.contains(&s) {
                                same.subjects.push(s);
                            }
                        }
                    }
                    None => steps.push(step),
                }
            }
        }
        // Stable: within a rank, results keep their report order (check id, then subject).
        steps.sort_by_key(|s| s.rank);
        Plan { steps }
    }

    /// The PowerShell script for this plan; `report` names the tenant and the audit.
    pub fn script(&self, report: &Report) -> String {
        script(self, report)
    }
}

/// The remediation script for `report`: its fail, missing and unknown results that are not
/// suppressed, with values from `model`.
pub fn render(report: &Report, model: &TenantModel) -> String {
    Plan::build(&report.results, model).script(report)
}

// --- building steps ------------------------------------------------------------------------------

fn rank_of(check: &str) -> (usize, Phase) {
    ORDER
        .iter()
        .position(|(id, _)| *id == check)
        .map_or((ORDER.len(), Phase::Other), |i| (i, ORDER[i].1))
}

/// A step for `result`'s check; `key` identifies the change so duplicates are made once.
fn step(result: &CheckResult, key: String, title: String, action: Action) -> Step {
    let (rank, phase) = rank_of(&result.check);
    Step {
        phase,
        checks: vec![result.check.clone()],
        subjects: result.subject.iter().map(|s| s.name.clone()).collect(),
        title,
        module: None,
        action,
        key,
        rank: (rank, 1),
    }
}

fn manual(result: &CheckResult, title: &str, lines: Vec<String>) -> Step {
    let key = format!("manual:{}:{}", result.check, subject_id(result));
    step(result, key, title.to_string(), Action::Manual(lines))
}

fn not_audited(result: &CheckResult) -> Step {
    let key = format!("unknown:{}:{}", result.check, subject_id(result));
    step(
        result,
        key,
        result.title.clone(),
        Action::NotAudited {
            message: result.message.clone(),
            grant: result.needs.clone(),
        },
    )
}

fn subject_id(result: &CheckResult) -> String {
    result
        .subject
        .as_ref()
        .map(|s| s.id.to_ascii_lowercase())
        .unwrap_or_default()
}

fn subject_name(result: &CheckResult) -> String {
    result
        .subject
        .as_ref()
        .map(|s| s.name.clone())
        .unwrap_or_default()
}

/// The model, with the look-ups the builders share.
struct Ctx<'a> {
    model: &'a TenantModel,
}

impl<'a> Ctx<'a> {
    /// The tenant's Dynamics App ID from Dataverse, when it is a GUID.
    fn app_id(&self) -> Option<&'a str> {
        self.model
            .d365
            .dynamics_app_id
            .value()
            .and_then(|v| v.as_ref())
            .and_then(|v| v.as_deref())
            .filter(|v| is_guid(v))
    }

    /// The D365 ACS resource's immutable id from Dataverse, when it is a GUID.
    fn acs_id(&self) -> Option<&'a str> {
        self.model
            .d365
            .teams_provider
            .value()
            .and_then(|p| p.as_ref())
            .filter(|p| p.immutable_id_is_guid == Some(true))
            .and_then(|p| p.immutable_id.as_ref()?.as_deref())
    }

    fn ra(&self, id: &str) -> Option<&'a ResourceAccount> {
        self.model.teams.resource_accounts.value()?.get(id)
    }

    fn teams_user(&self, id: &str) -> Option<&'a TeamsUser> {
        self.model.teams.users.value()?.get(id)
    }

    fn user(&self, id: &str) -> Option<&'a User> {
        self.model.directory.users.value()?.get(id)
    }

    fn licenses(&self, id: &str) -> Option<&'a UserLicenses> {
        self.model.directory.licenses.value()?.get(id)
    }

    fn skus(&self) -> &'a [Sku] {
        self.model
            .directory
            .skus
            .value()
            .map_or(&[][..], |s| s.as_slice())
    }

    fn number(&self, e164: &str) -> Option<&'a PhoneNumber> {
        self.model.teams.numbers.value()?.get(e164)
    }

    fn policies(&self) -> impl Iterator<Item = (&'a String, &'a ExternalAccessPolicy)> {
        self.model
            .teams
            .external_access_policies
            .value()
            .into_iter()
            .flatten()
    }

    fn ra_upn(&self, id: &str) -> Option<&'a str> {
        self.ra(id).map(|ra| ra.upn.as_str())
    }

    /// The steps that fix a fail or missing result.
    fn fix(&self, r: &CheckResult) -> Vec<Step> {
        let missing = r.status == Status::Missing;
        match r.check.as_str() {
            "D365-001" => vec![manual(
                r,
                "Provision the voice channel's Teams phone system integration",
                vec![
                    "In Copilot Service admin center: Channels > Phone numbers > Manage > Advanced > Manage".into(),
                    "telephony > Teams phone system tab. Provision the voice channel if it is not, and turn on".into(),
                    "the Teams phone system integration. Then audit again: the later steps need the ids it records.".into(),
                ],
            )],
            "D365-002" => vec![manual(
                r,
                "Record the ACS immutable id in Dynamics 365",
                vec![
                    "Re-open Copilot Service admin center > Channels > Phone numbers > Manage > Advanced > Manage".into(),
                    "telephony > Teams phone system tab so D365 completes provisioning, or open a Microsoft support".into(),
                    "case for the voice channel. Audit again afterwards: this script uses only the id D365 records.".into(),
                ],
            )],
            "D365-003" => vec![manual(
                r,
                "Record the Dynamics App ID in Dynamics 365",
                vec![
                    "Open Copilot Service admin center > Channels > Phone numbers > Manage > Advanced > Manage".into(),
                    "telephony > Teams phone system tab and check that it shows the Dynamics App ID; audit again".into(),
                    "afterwards. Never use the documentation's example app id in its place.".into(),
                ],
            )],
            "D365-004" => vec![manual(
                r,
                "ACS data location differs from the tenant's country",
                vec![
                    "The data location of an ACS resource cannot be changed in place. Open a Microsoft support".into(),
                    "case for the voice channel, or confirm with your compliance team that the mismatch is acceptable.".into(),
                ],
            )],
            "RA-001" => self.ra_001(r),
            "RA-002" | "RA-004" => self.bind_ra(r, &subject_id(r)).into_iter().collect(),
            "RA-003" => vec![manual(
                r,
                "Detach the resource account from its auto attendant or call queue",
                vec![
                    format!(
                        "{} is associated with an auto attendant or call queue. Give that auto attendant or call queue",
                        subject_name(r)
                    ),
                    "a resource account of its own first, then remove the association (Teams Administrator):".into(),
                    format!(
                        "  Remove-CsOnlineApplicationInstanceAssociation -Identities {}",
                        ps_str(&subject_id(r))
                    ),
                ],
            )],
            "RA-006" => self.usage_location(r, missing),
            "RA-008" => vec![manual(
                r,
                "Re-create the account as a Teams resource account",
                vec![
                    format!(
                        "Teams does not see {} as a resource account. If it was created in the last hours, wait and",
                        subject_name(r)
                    ),
                    "audit again. Otherwise create a resource account bound to the Dynamics App ID (New-CsOnlineApplicationInstance),".into(),
                    "move the number to it and remove the old account.".into(),
                ],
            )],
            "RA-009" => vec![manual(
                r,
                "Grant the resource account a voice routing policy",
                vec![
                    format!(
                        "Choose the voice routing policy whose PSTN usages reach your SBC (Get-CsOnlineVoiceRoutingPolicy), then:"
                    ),
                    format!(
                        "  Grant-CsOnlineVoiceRoutingPolicy -Identity {} -PolicyName <policy>",
                        ps_str(&subject_name(r))
                    ),
                ],
            )],
            "LIC-001" => vec![manual(
                r,
                "Buy Microsoft Teams Phone Resource Account licenses",
                vec![
                    "Microsoft 365 admin center > Billing > Purchase services > \"Microsoft Teams Phone Resource Account\"".into(),
                    "(free with Teams Phone Standard): one unit per contact-center resource account. The license steps".into(),
                    "below fail until the units exist.".into(),
                ],
            )],
            "LIC-002" => self.ra_license(r),
            "LIC-003" => self.calling_plan(r),
            "LIC-004" => self.agent_license(r),
            "LIC-005" => vec![manual(
                r,
                "Assign the agent a Contact Center license",
                vec![
                    format!(
                        "Assign {} Dynamics 365 Contact Center (or the Contact Center Voice add-on) in Microsoft 365",
                        subject_name(r)
                    ),
                    "admin center > Users > Active users > Licenses and apps (License Administrator); buy units first".into(),
                    "if none are free.".into(),
                ],
            )],
            "AGT-001" => self.enterprise_voice(r),
            "AGT-002" => vec![manual(
                r,
                "Enable the agent's account, or stop counting it as an agent",
                vec![
                    format!(
                        "{} is disabled or does not exist. A disabled account is usually deliberate: enable it",
                        subject_name(r)
                    ),
                    "(Update-MgUser -AccountEnabled:$true) only if the person still works as an agent; otherwise".into(),
                    "remove it from the agents list, the agent group or the D365 queue.".into(),
                ],
            )],
            "AGT-003" => self.teams_only(r),
            "ACSAUTH-001" => vec![self.acs_service_principal(r)],
            "ACSAUTH-003" => vec![manual(
                r,
                "Route IncomingCall from the customer-owned ACS resource",
                vec![
                    format!(
                        "Create an Event Grid subscription on {} for Microsoft.Communication.IncomingCall that",
                        subject_name(r)
                    ),
                    "delivers to the application answering the calls (its callback URL is not in the tenant data).".into(),
                ],
            )],
            "ACSFED-001" => vec![self.enable_acs_users(r)],
            "ACSFED-002" => self.allow_acs_resource(r).into_iter().collect(),
            "ACSFED-003" => vec![manual(
                r,
                "Leave the deprecated ACS allow-all mode",
                vec![
                    "BlockedAcsResources and AllowAllAcsResources are deprecated and missing from current".into(),
                    "MicrosoftTeams versions. Remove the resource from BlockedAcsResources and set".into(),
                    "AllowAllAcsResources to False with a module that still has them, or ask Microsoft support".into(),
                    "to clear the legacy settings; the ACS federation steps of this script then allow it explicitly.".into(),
                ],
            )],
            "EXT-001" | "EXT-004" => {
                let current = self
                    .teams_user(&subject_id(r))
                    .and_then(|u| u.external_access_policy.as_deref());
                self.grant_acs_policy(r, &subject_name(r), current)
            }
            "EXT-002" => self.ext_002(r),
            "EXT-003" => vec![manual(
                r,
                "Tenant federation (informational)",
                vec![
                    "Tenant federation settings do not govern calls from ACS: no change is needed for Dynamics 365".into(),
                    "Contact Center voice.".into(),
                ],
            )],
            "IB-001" | "IB-002" | "IB-003" => vec![self.information_barriers(r)],
            "NUM-001" => vec![manual(
                r,
                if missing {
                    "Assign a service number to the resource account"
                } else {
                    "Keep one number on the resource account"
                },
                vec![
                    if missing {
                        format!(
                            "Choose a service number (Calling Plan, Operator Connect or Direct Routing) for {} and assign it:",
                            subject_name(r)
                        )
                    } else {
                        format!(
                            "{} has several numbers: keep one and move the others to resource accounts of their own:",
                            subject_name(r)
                        )
                    },
                    format!(
                        "  Set-CsPhoneNumberAssignment -Identity {} -PhoneNumber <+E164> -PhoneNumberType <type>",
                        ps_str(&subject_name(r))
                    ),
                ],
            )],
            "NUM-002" => vec![self.not_a_service_number(r)],
            "NUM-003" => vec![self.activate_number(r)],
            "NUM-004" => vec![self.assign_number(r)],
            "NUM-008" => vec![sync_from_teams(r)],
            "NUM-009" => vec![manual(
                r,
                "Bind the number to a voice channel",
                vec![
                    format!(
                        "In Copilot Service admin center, add a voice channel for {} to a voice workstream",
                        subject_name(r)
                    ),
                    "(Customer support > Workstreams), or reactivate the one that uses it, and route it to a voice queue.".into(),
                ],
            )],
            "NUM-010" => vec![manual(
                r,
                "Admin-consent TeamsResourceAccount.Read.All for Sync from Teams",
                vec![
                    "Entra admin center > App registrations > the app used for the sync > API permissions > Microsoft".into(),
                    "Graph > Delegated > TeamsResourceAccount.Read.All > Grant admin consent (Cloud Application".into(),
                    "Administrator). Which app D365 uses is not in the tenant data, so this script does not choose one.".into(),
                ],
            )],
            "NUM-011" => vec![manual(
                r,
                "Refresh the stale D365 phone-number row",
                vec![
                    format!(
                        "After Sync from Teams, if the row for {} still points at the old resource account, remove it",
                        subject_name(r)
                    ),
                    "from its voice channel, deactivate it (Channels > Phone numbers > the number > Deactivate) and sync again.".into(),
                ],
            )],
            // A check without a dedicated builder (a new or user-supplied check) still gets its
            // remediation, as a manual step, so adding a check needs no Rust change.
            other => {
                let mut lines = vec![format!(
                    "No automated step for {other}; its remediation from the audit:"
                )];
                lines.extend(
                    r.remediation
                        .as_deref()
                        .unwrap_or("see the audit report")
                        .lines()
                        .map(|l| l.to_string()),
                );
                vec![manual(r, &r.title, lines)]
            }
        }
    }

    fn change(
        &self,
        r: &CheckResult,
        key: String,
        title: &str,
        module: Module,
        change: Change,
    ) -> Step {
        let mut s = step(r, key, title.to_string(), Action::Change(change));
        s.module = Some(module);
        s
    }

    fn ra_001(&self, r: &CheckResult) -> Vec<Step> {
        let scoped = self
            .model
            .scope
            .resource_accounts
            .value()
            .map(|v| v.as_slice())
            .unwrap_or_default();
        if let Some(first) = scoped.first() {
            // Resource accounts exist but none is bound: the same change as RA-002 for the first.
            return self.bind_ra(r, &first.id).into_iter().collect();
        }
        let (Some(app), Some(domain)) = (
            self.app_id(),
            self.model
                .directory
                .organization
                .value()
                .and_then(|o| o.default_domain.as_deref()),
        ) else {
            return vec![manual(
                r,
                "Create a resource account bound to the Dynamics App ID",
                vec![
                    "The Dynamics App ID or the tenant's default domain is not known; fix D365-003 and audit again.".into(),
                ],
            )];
        };
        let upn = format!("cc-voice@{domain}");
        let mut apply = vec![
            "if ($ra) {".to_string(),
            format!(
                "    Set-CsOnlineApplicationInstance -Identity {} -ApplicationId {}",
                ps_str(&upn),
                ps_str(app)
            ),
            "} else {".into(),
            format!(
                "    New-CsOnlineApplicationInstance -UserPrincipalName {} -DisplayName 'Contact center' -ApplicationId {}",
                ps_str(&upn),
                ps_str(app)
            ),
            "    Start-Sleep -Seconds 30".into(),
            "}".into(),
        ];
        if let Some(acs) = self.acs_id() {
            apply.push(format!(
                "$ra = Get-CsOnlineApplicationInstance -Identity {}",
                ps_str(&upn)
            ));
            apply.push(format!(
                "Set-CsOnlineApplicationInstance -Identity $ra.ObjectId -AcsResourceId {}",
                ps_str(acs)
            ));
            apply.push(format!(
                "Sync-CsOnlineApplicationInstance -ObjectId $ra.ObjectId -ApplicationId {} -AcsResourceId {}",
                ps_str(app),
                ps_str(acs)
            ));
        }
        let mut s = self.change(
            r,
            format!("create-ra:{upn}"),
            "Create the contact-center resource account",
            Module::Teams,
            Change {
                what: format!("the ApplicationId of resource account {upn}"),
                read: vec![
                    format!(
                        "$ra = Get-CsOnlineApplicationInstance -Identity {} -ErrorAction SilentlyContinue",
                        ps_str(&upn)
                    ),
                    "$current = if ($ra) { [string]$ra.ApplicationId } else { $null }".into(),
                ],
                desired: vec![format!("$desired = {}", ps_str(app))],
                apply,
                notes: vec![
                    format!(
                        "{upn} is a suggested name: change it here before running with -Apply if you prefer another."
                    ),
                    "Then license it (LIC-002) and give it a service number (NUM-001).".into(),
                ],
            },
        );
        s.subjects = vec![upn];
        vec![s]
    }

    /// Binds a resource account to the Dynamics App ID and the D365 ACS resource, then syncs it
    /// (RA-002, RA-004: one change per account, whichever check found it).
    fn bind_ra(&self, r: &CheckResult, ra_id: &str) -> Option<Step> {
        let Some(ra) = self.ra(ra_id) else {
            return Some(manual(
                r,
                "Bind the resource account",
                vec![format!(
                    "Resource account {} is not in the tenant data; audit again.",
                    subject_name(r)
                )],
            ));
        };
        let (app, acs) = (self.app_id(), self.acs_id());
        if app.is_none() && acs.is_none() {
            return Some(manual(
                r,
                "Bind the resource account",
                vec!["Neither the Dynamics App ID nor the ACS immutable id is known; fix D365-002/D365-003 first.".into()],
            ));
        }
        let mut read = vec![format!(
            "$ra = Get-CsOnlineApplicationInstance -Identity {}",
            ps_str(&ra.upn)
        )];
        let mut current = Vec::new();
        let mut desired = Vec::new();
        let mut params = String::new();
        if let Some(app) = app {
            current.push("('ApplicationId=' + $ra.ApplicationId)".to_string());
            desired.push(ps_str(&format!("ApplicationId={app}")));
            let _ = write!(params, " -ApplicationId {}", ps_str(app));
        }
        if let Some(acs) = acs {
            current.push("('AcsResourceId=' + $ra.AcsResourceId)".to_string());
            desired.push(ps_str(&format!("AcsResourceId={acs}")));
            let _ = write!(params, " -AcsResourceId {}", ps_str(acs));
        }
        read.push(format!("$current = @({})", current.join(", ")));
        let sync_app = app
            .map(str::to_string)
            .or_else(|| ra.application_id.clone().flatten().filter(|a| is_guid(a)));
        let mut apply = vec![format!(
            "Set-CsOnlineApplicationInstance -Identity {}{params}",
            ps_str(&ra.upn)
        )];
        match (sync_app, acs) {
            (Some(a), Some(acs)) => apply.push(format!(
                "Sync-CsOnlineApplicationInstance -ObjectId {} -ApplicationId {} -AcsResourceId {}",
                ps_str(&ra.id),
                ps_str(&a),
                ps_str(acs)
            )),
            (Some(a), None) => apply.push(format!(
                "Sync-CsOnlineApplicationInstance -ObjectId {} -ApplicationId {}",
                ps_str(&ra.id),
                ps_str(&a)
            )),
            _ => {}
        }
        let mut s = self.change(
            r,
            format!("bind-ra:{}", ra.id),
            "Bind the resource account to the Dynamics App ID and the D365 ACS resource",
            Module::Teams,
            Change {
                what: format!("the binding of resource account {}", ra.upn),
                read,
                desired: vec![format!("$desired = @({})", desired.join(", "))],
                apply,
                notes: vec![
                    "If Sync says \"An item with the same key has already been added\", clear the old mapping".into(),
                    format!(
                        "first: Sync-CsOnlineApplicationInstance -ObjectId {} -ApplicationId 00000000-0000-0000-0000-000000000000",
                        ps_str(&ra.id)
                    ),
                ],
            },
        );
        s.subjects = vec![ra.upn.clone()];
        Some(s)
    }

    fn usage_location(&self, r: &CheckResult, missing: bool) -> Vec<Step> {
        let id = subject_id(r);
        let country = self
            .model
            .directory
            .organization
            .value()
            .and_then(|o| o.country_letter_code.as_deref())
            .filter(|c| c.len() == 2);
        match (missing || self.user(&id).is_none(), country) {
            (false, Some(country)) => vec![self.change(
                r,
                format!("usage-location:{id}"),
                "Give the resource account a usage location",
                Module::GraphUsers,
                Change {
                    what: format!("the usage location of {}", subject_name(r)),
                    read: vec![format!(
                        "$current = (Get-MgUser -UserId {} -Property UsageLocation).UsageLocation",
                        ps_str(&id)
                    )],
                    // An existing location is kept: only an empty one is set.
                    desired: vec![format!(
                        "$desired = if ($current) {{ $current }} else {{ {} }}",
                        ps_str(country)
                    )],
                    apply: vec![format!(
                        "Update-MgUser -UserId {} -UsageLocation $desired",
                        ps_str(&id)
                    )],
                    notes: vec![format!(
                        "{country} is the tenant's country; use the country where the number is used if it differs."
                    )],
                },
            )],
            _ => vec![manual(
                r,
                "Give the resource account a usage location",
                vec![format!(
                    "Check that the Entra user of {} exists, then set its usage location (Microsoft 365 admin center > Users).",
                    subject_name(r)
                )],
            )],
        }
    }

    /// Adds a license to a user, keeping the ones it has.
    fn add_license(
        &self,
        r: &CheckResult,
        user_id: &str,
        sku: &str,
        sku_name: &str,
        title: &str,
    ) -> Step {
        self.change(
            r,
            format!("license:{user_id}:{sku}"),
            title,
            Module::GraphUsers,
            Change {
                what: format!("the licenses (skuIds) of {}", subject_name(r)),
                read: vec![format!(
                    "$current = @(Get-MgUserLicenseDetail -UserId {} | ForEach-Object {{ [string]$_.SkuId }})",
                    ps_str(user_id)
                )],
                desired: vec![
                    "$desired = @($current)".into(),
                    format!(
                        "if ($desired -notcontains {sku_q}) {{ $desired += {sku_q} }}",
                        sku_q = ps_str(sku)
                    ),
                ],
                apply: vec![format!(
                    "Set-MgUserLicense -UserId {} -AddLicenses @(@{{ SkuId = {} }}) -RemoveLicenses @()",
                    ps_str(user_id),
                    ps_str(sku)
                )],
                notes: vec![format!(
                    "Adds {sku_name} ({sku}); the user's other licenses stay. Needs a free unit and a usage location."
                )],
            },
        )
    }

    fn ra_license(&self, r: &CheckResult) -> Vec<Step> {
        let id = subject_id(r);
        let has_sku = self
            .licenses(&id)
            .is_some_and(|l| l.sku_ids.iter().any(|s| s == RA_LICENSE_SKU));
        if has_sku {
            return vec![manual(
                r,
                "Provision the resource account's Teams Phone Resource Account license",
                vec![
                    format!(
                        "{} has the license but its MCOEV_VIRTUALUSER plan is not provisioned: switch the plan on in",
                        subject_name(r)
                    ),
                    "Microsoft 365 admin center > Users > Active users > Licenses and apps, or remove and re-assign it.".into(),
                ],
            )];
        }
        vec![self.add_license(
            r,
            &id,
            RA_LICENSE_SKU,
            "Microsoft Teams Phone Resource Account",
            "License the resource account (Teams Phone Resource Account)",
        )]
    }

    fn calling_plan(&self, r: &CheckResult) -> Vec<Step> {
        let mut free: Vec<&Sku> = self
            .skus()
            .iter()
            .filter(|s| {
                s.capability_status.as_deref() == Some("Enabled")
                    && s.available_units.is_some_and(|n| n > 0)
                    && s.service_plans
                        .iter()
                        .flatten()
                        .any(|p| p.starts_with("MCOPSTN"))
            })
            .collect();
        free.sort_by(|a, b| a.sku_part_number.cmp(&b.sku_part_number));
        match free.first() {
            Some(sku) => vec![self.add_license(
                r,
                &subject_id(r),
                &sku.sku_id,
                &sku.sku_part_number,
                "Give the resource account a Calling Plan for outbound calls",
            )],
            None => vec![manual(
                r,
                "Give the resource account a Calling Plan for outbound calls",
                vec![format!(
                    "No subscription has a free Calling Plan or Communications Credits unit: buy one (for example the pay-as-you-go Calling Plan) and assign it to {}.",
                    subject_name(r)
                )],
            )],
        }
    }

    fn agent_license(&self, r: &CheckResult) -> Vec<Step> {
        let id = subject_id(r);
        let plans = self.licenses(&id).and_then(|l| l.plans.as_ref());
        let has_phone_plan =
            plans.is_some_and(|p| p.contains_key("MCOEV") || p.contains_key("MCOEV_GOV"));
        let free_phone = self.skus().iter().find(|s| {
            (s.sku_id == TEAMS_PHONE_SKU || s.sku_part_number == "MCOEV")
                && s.capability_status.as_deref() == Some("Enabled")
                && s.available_units.is_some_and(|n| n > 0)
        });
        match (self.user(&id), has_phone_plan, free_phone) {
            (Some(_), false, Some(sku)) => vec![self.add_license(
                r,
                &id,
                &sku.sku_id,
                "Microsoft Teams Phone Standard",
                "License the agent for Teams Phone",
            )],
            _ => vec![manual(
                r,
                "License the agent for Teams and Teams Phone",
                vec![
                    format!(
                        "Give {} Microsoft Teams and Teams Phone with both apps switched on (Microsoft 365 admin",
                        subject_name(r)
                    ),
                    "center > Users > Active users > Licenses and apps). The tenant data shows no free Teams Phone".into(),
                    "Standard unit to assign, or the plan is assigned but switched off or not provisioned.".into(),
                ],
            )],
        }
    }

    fn enterprise_voice(&self, r: &CheckResult) -> Vec<Step> {
        let upn = subject_name(r);
        if self.teams_user(&subject_id(r)).is_none() {
            return vec![manual(
                r,
                "Enable the agent for Enterprise Voice",
                vec![format!(
                    "Teams has no user record for {upn} yet: license it (LIC-004), wait for Teams to provision it, and audit again."
                )],
            )];
        }
        vec![self.online_user_setting(
            r,
            "ev",
            "Enable the agent for Enterprise Voice",
            ("EnterpriseVoiceEnabled", "True"),
            format!(
                "Set-CsPhoneNumberAssignment -Identity {} -EnterpriseVoiceEnabled $true",
                ps_str(&upn)
            ),
        )]
    }

    fn teams_only(&self, r: &CheckResult) -> Vec<Step> {
        let upn = subject_name(r);
        vec![self.online_user_setting(
            r,
            "teamsonly",
            "Move the agent to TeamsOnly",
            ("TeamsUpgradeEffectiveMode", "TeamsOnly"),
            format!(
                "Grant-CsTeamsUpgradePolicy -Identity {} -PolicyName 'UpgradeToTeams'",
                ps_str(&upn)
            ),
        )]
    }

    /// A step that brings one `Get-CsOnlineUser` property of the subject user to `desired` by
    /// running `apply`.
    fn online_user_setting(
        &self,
        r: &CheckResult,
        key: &str,
        title: &str,
        (property, desired): (&str, &str),
        apply: String,
    ) -> Step {
        let upn = subject_name(r);
        self.change(
            r,
            format!("{key}:{}", subject_id(r)),
            title,
            Module::Teams,
            Change {
                what: format!("{property} of {upn}"),
                read: vec![format!(
                    "$current = [string](Get-CsOnlineUser -Identity {}).{property}",
                    ps_str(&upn)
                )],
                desired: vec![format!("$desired = {}", ps_str(desired))],
                apply: vec![apply],
                notes: Vec::new(),
            },
        )
    }

    fn acs_service_principal(&self, r: &CheckResult) -> Step {
        self.change(
            r,
            "acs-service-principal".into(),
            "Create or enable the Azure Communication Services service principal",
            Module::GraphApplications,
            Change {
                what: "the Azure Communication Services service principal".into(),
                read: vec![
                    format!(
                        "$sp = Get-MgServicePrincipal -Filter {}",
                        ps_str(&format!("appId eq '{ACS_APP_ID}'"))
                    ),
                    "$current = if ($sp) { 'AccountEnabled=' + $sp.AccountEnabled } else { $null }".into(),
                ],
                desired: vec!["$desired = 'AccountEnabled=True'".into()],
                apply: vec![
                    "if ($sp) {".into(),
                    "    Update-MgServicePrincipal -ServicePrincipalId $sp.Id -AccountEnabled:$true".into(),
                    "} else {".into(),
                    format!("    New-MgServicePrincipal -AppId {}", ps_str(ACS_APP_ID)),
                    "}".into(),
                ],
                notes: Vec::new(),
            },
        )
    }

    fn enable_acs_users(&self, r: &CheckResult) -> Step {
        self.change(
            r,
            "acs-federation:enable".into(),
            "Enable Teams ACS federation (EnableAcsUsers)",
            Module::Teams,
            Change {
                what: "EnableAcsUsers of the Global ACS federation configuration".into(),
                read: vec![
                    "$current = [string](Get-CsTeamsAcsFederationConfiguration -Identity Global).EnableAcsUsers".into(),
                ],
                desired: vec!["$desired = 'True'".into()],
                // Only the switch: AllowedAcsResources keeps its entries.
                apply: vec![
                    "Set-CsTeamsAcsFederationConfiguration -Identity Global -EnableAcsUsers $true"
                        .into(),
                ],
                notes: vec!["Changes can take up to 30 minutes to apply.".into()],
            },
        )
    }

    /// Appends the D365 ACS immutable id to `AllowedAcsResources`, keeping the other entries and
    /// dropping those that are not immutable ids (ARM paths), which Teams cannot use.
    fn allow_acs_resource(&self, r: &CheckResult) -> Option<Step> {
        let Some(acs) = self.acs_id() else {
            return Some(manual(
                r,
                "Allow the D365 ACS resource in Teams ACS federation",
                vec!["The ACS immutable id is not known; fix D365-002 and audit again.".into()],
            ));
        };
        Some(self.change(
            r,
            format!("acs-federation:allow:{acs}"),
            "Allow the D365 ACS resource in Teams ACS federation",
            Module::Teams,
            Change {
                what: "AllowedAcsResources of the Global ACS federation configuration".into(),
                read: vec![
                    "$config = Get-CsTeamsAcsFederationConfiguration -Identity Global".into(),
                    "$current = @($config.AllowedAcsResources | ForEach-Object { ([string]$_).Trim(' {}''\"') } | Where-Object { $_ })".into(),
                ],
                desired: vec![
                    "$guid = '^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$'".into(),
                    "$desired = @($current | Where-Object { $_ -match $guid })".into(),
                    format!(
                        "if ($desired -notcontains {acs_q}) {{ $desired += {acs_q} }}",
                        acs_q = ps_str(acs)
                    ),
                ],
                apply: vec![
                    "Set-CsTeamsAcsFederationConfiguration -Identity Global -AllowedAcsResources $desired"
                        .into(),
                ],
                notes: vec![
                    "Keeps every immutable id already in the list and removes entries that are not immutable ids".into(),
                    "(ARM paths), which Teams cannot match. Changes can take up to 30 minutes to apply.".into(),
                ],
            },
        ))
    }

    /// Gives `upn` an external access policy that allows ACS: back to Global when Global
    /// allows it, else an existing policy that does, else a new `AcsAllowed` policy.
    fn grant_acs_policy(&self, r: &CheckResult, upn: &str, current: Option<&str>) -> Vec<Step> {
        let global_allows = self
            .policies()
            .any(|(k, p)| k == "global" && p.enable_acs_federation_access == Some(true));
        let mut steps = Vec::new();
        let target: Option<String> = if global_allows && current != Some("global") {
            None
        } else {
            let mut allowing: Vec<&str> = self
                .policies()
                .filter(|(k, p)| *k != "global" && p.enable_acs_federation_access == Some(true))
                .map(|(_, p)| p.name.as_str())
                .collect();
            allowing.sort_unstable();
            match allowing.first() {
                Some(name) => Some(name.to_string()),
                None => {
                    steps.push(self.create_acs_policy(r));
                    Some(ACS_POLICY.to_string())
                }
            }
        };
        let (desired, policy_param) = match &target {
            None => ("Global".to_string(), "$null".to_string()),
            Some(name) => (name.clone(), ps_str(name)),
        };
        let mut grant = self.change(
            r,
            format!("external-access:{}", upn.to_ascii_lowercase()),
            "Give the user an external access policy that allows ACS",
            Module::Teams,
            Change {
                what: format!("the external access policy of {upn}"),
                read: vec![
                    format!("$user = Get-CsOnlineUser -Identity {}", ps_str(upn)),
                    "$current = if ($user.ExternalAccessPolicy) { ([string]$user.ExternalAccessPolicy) -replace '^Tag:', '' } else { 'Global' }".into(),
                ],
                desired: vec![format!("$desired = {}", ps_str(&desired))],
                apply: vec![format!(
                    "Grant-CsExternalAccessPolicy -Identity {} -PolicyName {policy_param}",
                    ps_str(upn)
                )],
                notes: vec![
                    format!(
                        "{desired} allows ACS (EnableAcsFederationAccess). If the current policy comes from a group policy"
                    ),
                    "assignment, change that group's assignment instead. Allow up to 30 minutes.".into(),
                ],
            },
        );
        grant.subjects = vec![upn.to_string()];
        steps.push(grant);
        steps
    }

    fn create_acs_policy(&self, r: &CheckResult) -> Step {
        let identity = format!("Tag:{ACS_POLICY}");
        let mut s = self.change(
            r,
            format!("external-access-policy:{ACS_POLICY}"),
            "Create an external access policy that allows ACS",
            Module::Teams,
            Change {
                what: format!("EnableAcsFederationAccess of external access policy {identity}"),
                read: vec![
                    format!(
                        "$policy = Get-CsExternalAccessPolicy -Identity {} -ErrorAction SilentlyContinue",
                        ps_str(&identity)
                    ),
                    "$current = if ($policy) { [string]$policy.EnableAcsFederationAccess } else { $null }".into(),
                ],
                desired: vec!["$desired = 'True'".into()],
                apply: vec![
                    "if ($policy) {".into(),
                    format!(
                        "    Set-CsExternalAccessPolicy -Identity {} -EnableAcsFederationAccess $true",
                        ps_str(&identity)
                    ),
                    "} else {".into(),
                    format!(
                        "    New-CsExternalAccessPolicy -Identity {} -EnableAcsFederationAccess $true",
                        ps_str(ACS_POLICY)
                    ),
                    "}".into(),
                ],
                notes: vec![
                    "No existing policy allows ACS; the grants below use this one. Copy the other settings of the".into(),
                    "users' current policies into it if they matter.".into(),
                ],
            },
        );
        s.subjects = vec![identity];
        s.rank.1 = 0;
        s
    }

    /// A policy that blocks ACS is held by agents or resource accounts: give each holder one
    /// that allows ACS (the same change EXT-001/EXT-004 make, so made once).
    fn ext_002(&self, r: &CheckResult) -> Vec<Step> {
        let name = subject_name(r);
        let Some((key, _)) = self
            .policies()
            .find(|(_, p)| p.identity.eq_ignore_ascii_case(&name))
        else {
            return vec![manual(
                r,
                "Reassign the external access policy that blocks ACS",
                vec![format!(
                    "Policy {name} is not in the tenant data; audit again."
                )],
            )];
        };
        let users = self.model.teams.users.value();
        let holds = |id: &str| {
            users
                .and_then(|u| u.get(id))
                .is_some_and(|u| u.external_access_policy.as_ref() == Some(key))
        };
        let mut holders: Vec<String> = Vec::new();
        for a in self.model.agents.value().into_iter().flatten() {
            if let (Some(id), Some(upn)) = (&a.id, &a.upn)
                && holds(id)
            {
                holders.push(upn.clone());
            }
        }
        for s in self
            .model
            .scope
            .resource_accounts
            .value()
            .into_iter()
            .flatten()
        {
            if holds(&s.id)
                && let Some(upn) = self.ra_upn(&s.id)
            {
                holders.push(upn.to_string());
            }
        }
        holders.sort();
        holders.dedup();
        holders
            .iter()
            .flat_map(|upn| self.grant_acs_policy(r, upn, Some(key.as_str())))
            .collect()
    }

    fn information_barriers(&self, r: &CheckResult) -> Step {
        let mut s = manual(
            r,
            "Review the information barriers that separate agents from the resource accounts",
            vec![
                "Information barrier policies are an organisational decision, so this script changes none.".into(),
                "Security & Compliance PowerShell (Connect-IPPSSession, Compliance Administrator):".into(),
                "  Get-InformationBarrierPolicy | Format-List Name,State,AssignedSegment,SegmentsAllowed,SegmentsBlocked".into(),
                "  Get-OrganizationSegment | Format-List Name,UserGroupFilter".into(),
                format!(
                    "Put {} and the contact-center resource accounts in segments that may communicate (or",
                    if r.subject.is_some() { subject_name(r) } else { "the agents".into() }
                ),
                "change the blocking policy), then run Start-InformationBarrierPoliciesApplication; it can take hours.".into(),
            ],
        );
        s.module = Some(Module::Compliance);
        s
    }

    fn not_a_service_number(&self, r: &CheckResult) -> Step {
        let number = subject_name(r);
        let n = self.number(&number);
        let lines = match n.and_then(|n| n.number_type.as_deref()) {
            Some("operatorConnect") => vec![
                format!(
                    "Ask {} to re-provision the range containing {number} for voice applications (service",
                    n.and_then(|n| n.operator_name.as_deref())
                        .unwrap_or("the operator")
                ),
                "numbers with outbound calling for voice apps). An operator's provisioning cannot be changed".into(),
                "from the tenant. When the number shows the voiceApplicationAssignment capability, assign it again:".into(),
                format!(
                    "  Set-CsPhoneNumberAssignment -Identity {} -PhoneNumber {} -PhoneNumberType OperatorConnect",
                    ps_str(&self.assignee(n).unwrap_or_else(|| "<resource account>".into())),
                    ps_str(&number)
                ),
            ],
            Some("callingPlan") => vec![
                format!(
                    "{number} is a Calling Plan user number. Get a service number (Teams admin center > Voice > Phone"
                ),
                "numbers > Add, usage \"Voice applications\") and assign it to the resource account instead.".into(),
            ],
            _ => vec![
                format!(
                    "{number} lacks the voiceApplicationAssignment capability. Provision it as a voice-application"
                ),
                "number with its carrier or SBC, then assign it to the resource account.".into(),
            ],
        };
        manual(r, "Make the number a Teams service number", lines)
    }

    /// The UPN of the resource account a number is assigned to.
    fn assignee(&self, n: Option<&PhoneNumber>) -> Option<String> {
        let target = n?.assignment_target_id.as_ref()?.as_deref()?;
        self.ra_upn(target).map(str::to_string)
    }

    fn activate_number(&self, r: &CheckResult) -> Step {
        let number = subject_name(r);
        let n = self.number(&number);
        let failed = n.is_some_and(|n| {
            n.activation_state
                .as_deref()
                .is_some_and(|s| s.ends_with("Failed"))
        });
        match (failed, self.assignee(n), n) {
            (true, Some(upn), Some(n)) => self.change(
                r,
                format!("activate:{number}"),
                "Assign the number again so it activates",
                Module::Teams,
                Change {
                    what: format!("the activation state of {number}"),
                    read: vec![format!(
                        "$current = [string](Get-CsPhoneNumberAssignment -TelephoneNumber {}).ActivationState",
                        ps_str(&number)
                    )],
                    desired: vec!["$desired = 'Activated'".into()],
                    apply: vec![format!(
                        "Set-CsPhoneNumberAssignment -Identity {} -PhoneNumber {} -PhoneNumberType {}",
                        ps_str(&upn),
                        ps_str(&number),
                        ps_str(&pascal(n.number_type.as_deref().unwrap_or_default()))
                    )],
                    notes: vec![
                        "If it fails again, open a Teams support case (or contact the operator) with the number.".into(),
                    ],
                },
            ),
            _ => manual(
                r,
                "Wait for the number assignment to activate",
                vec![format!(
                    "The assignment of {number} is still pending: wait (minutes, up to a few hours) and audit again; if it stays pending, assign it again."
                )],
            ),
        }
    }

    fn assign_number(&self, r: &CheckResult) -> Step {
        let number = subject_name(r);
        let n = self.number(&number);
        let ra = self
            .model
            .scope
            .resource_accounts
            .value()
            .into_iter()
            .flatten()
            .filter_map(|s| self.ra(&s.id))
            .find(|ra| {
                ra.phone_number.as_deref() == Some(number.as_str())
                    || self
                        .model
                        .teams
                        .numbers_by_target
                        .value()
                        .and_then(|m| m.get(&ra.id))
                        .is_some_and(|ns| ns.contains(&number))
            });
        match (n, ra) {
            (Some(n), Some(ra)) if n.assignment_target_id.is_none() => self.change(
                r,
                format!("assign:{number}"),
                "Assign the number to its resource account",
                Module::Teams,
                Change {
                    what: format!("the assignment of {number}"),
                    read: vec![format!(
                        "$current = [string](Get-CsPhoneNumberAssignment -TelephoneNumber {}).AssignedPstnTargetId",
                        ps_str(&number)
                    )],
                    desired: vec![format!("$desired = {}", ps_str(&ra.id))],
                    apply: vec![format!(
                        "Set-CsPhoneNumberAssignment -Identity {} -PhoneNumber {} -PhoneNumberType {}",
                        ps_str(&ra.upn),
                        ps_str(&number),
                        ps_str(&pascal(n.number_type.as_deref().unwrap_or_default()))
                    )],
                    notes: Vec::new(),
                },
            ),
            _ => manual(
                r,
                "Assign the number to its resource account",
                vec![
                    format!(
                        "{number} is missing from Teams or assigned elsewhere. Taking a number from a user or another"
                    ),
                    "account is a decision for a person: acquire or port it, or remove the other assignment, then".into(),
                    "assign it to the resource account as a voice-application number (Set-CsPhoneNumberAssignment).".into(),
                ],
            ),
        }
    }
}

/// D365's "Sync from Teams" is a button: one manual step for every number it must bring in.
fn sync_from_teams(r: &CheckResult) -> Step {
    let mut s = manual(
        r,
        "Run Sync from Teams in Dynamics 365",
        vec![
            "In Copilot Service admin center (Teams Administrator or Teams Telephony Administrator, plus a".into(),
            "D365 admin): Channels > Phone numbers > Manage > Advanced > Manage telephony > Teams phone system".into(),
            "tab > Sync. Run it after every step above has been applied; then audit again and check that the".into(),
            "numbers listed above appear as Teams numbers. If they do not, check NUM-010 (admin consent).".into(),
        ],
    );
    s.key = "d365-sync-from-teams".into();
    s
}

/// `callingPlan` → `CallingPlan`, as `-PhoneNumberType` takes it.
fn pascal(camel: &str) -> String {
    let mut chars = camel.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

// --- rendering ---------------------------------------------------------------------------------

/// A PowerShell single-quoted string literal. Inside one, only a quote is special, and
/// PowerShell treats the typographic single quotes as quotes too: each is doubled. Control
/// characters (which no UPN, id or number contains) become spaces, so a literal never spans
/// lines.
pub fn ps_str(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}') {
            out.push(c);
        }
        out.push(if is_line_break(c) { ' ' } else { c });
    }
    out.push('\'');
    out
}

/// Text for a `#` comment: tenant data must never end the comment and become code.
fn comment_text(text: &str) -> String {
    text.chars()
        .map(|c| if is_line_break(c) { ' ' } else { c })
        .collect()
}

/// Control characters and the Unicode line and paragraph separators.
fn is_line_break(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{85}')
}

fn comment(out: &mut String, indent: &str, text: &str) {
    match text {
        "" => {
            let _ = writeln!(out, "{indent}#");
        }
        _ => {
            let _ = writeln!(out, "{indent}# {}", comment_text(text));
        }
    }
}

const HELPERS: &str = r#"$ErrorActionPreference = 'Stop'

function Format-Value {
    param($Value)
    $items = @($Value | Where-Object { $null -ne $_ -and [string]$_ -ne '' })
    if ($items.Count -eq 0) { return '(not set)' }
    return ($items | ForEach-Object { [string]$_ }) -join ', '
}

function Test-SameValue {
    param($Current, $Desired)
    return (Format-Value $Current) -eq (Format-Value $Desired)
}

function Show-Change {
    param([string]$What, $Current, $Desired)
    $verb = if ($Apply) { 'changing' } else { 'would change' }
    Write-Host ('{0} {1} from {2} to {3}' -f $verb, $What, (Format-Value $Current), (Format-Value $Desired))
}

function Show-Unchanged {
    param([string]$What, $Current)
    Write-Host ('ok: {0} is already {1}' -f $What, (Format-Value $Current))
}

function Invoke-Step {
    param([string]$Name, [scriptblock]$Body)
    try {
        & $Body
    } catch {
        Write-Warning ('{0} failed: {1}' -f $Name, $_)
        if ($Apply) { throw }
    }
}
"#;

fn script(plan: &Plan, report: &Report) -> String {
    // A byte-order mark: Windows PowerShell 5.1 reads a file without one in the ANSI code page,
    // where the bytes of some UTF-8 characters in tenant data decode to typographic quotes that
    // would end a string literal.
    let mut out = String::from('\u{FEFF}');
    let tenant = report.tenant.name.as_deref().unwrap_or(&report.tenant.id);
    let count = |f: fn(&Action) -> bool| plan.steps.iter().filter(|s| f(&s.action)).count();
    let changes = count(|a| matches!(a, Action::Change(_)));
    let manuals = count(|a| matches!(a, Action::Manual(_)));
    let unknown = count(|a| matches!(a, Action::NotAudited { .. }));
    for line in [
        "ccaudit remediation script".to_string(),
        format!(
            "Tenant {tenant} ({}), {} collected {}, audited by {} {}.",
            report.tenant.id, report.source, report.collected_at, report.tool.name, report.tool.version
        ),
        format!(
            "{} steps: {changes} automated, {manuals} manual, {unknown} not audited.",
            plan.steps.len()
        ),
        String::new(),
        "Review every step. Run it first without -Apply: it reads the tenant and prints what it would".into(),
        "change. Then run it with -Apply. Each automated step reads the current value, keeps what is".into(),
        "already there, and changes only what differs, so a second run changes nothing. Manual steps".into(),
        "are comments: a person must do them. ccaudit never runs this script.".into(),
    ] {
        comment(&mut out, "", &line);
    }
    let modules: Vec<Module> = {
        let mut m: Vec<Module> = plan.steps.iter().filter_map(|s| s.module).collect();
        m.sort();
        m.dedup();
        m
    };
    if !modules.is_empty() {
        comment(&mut out, "", "");
        comment(
            &mut out,
            "",
            "Connect first, as an administrator with the roles the steps name:",
        );
        let scopes: Vec<&str> = modules
            .iter()
            .filter_map(|m| match m {
                Module::GraphUsers => Some("User.ReadWrite.All"),
                Module::GraphApplications => Some("Application.ReadWrite.All"),
                _ => None,
            })
            .collect();
        if modules.contains(&Module::Teams) {
            comment(&mut out, "", "  Connect-MicrosoftTeams");
        }
        if !scopes.is_empty() {
            let scopes: Vec<String> = scopes.iter().map(|s| ps_str(s)).collect();
            comment(
                &mut out,
                "",
                &format!("  Connect-MgGraph -Scopes {}", scopes.join(", ")),
            );
        }
        if modules.contains(&Module::Compliance) {
            comment(
                &mut out,
                "",
                "  Connect-IPPSSession   (module ExchangeOnlineManagement; only for the manual information-barrier steps)",
            );
        }
    }
    out.push_str("\nparam([switch]$Apply)\n\n");
    out.push_str(HELPERS);
    out.push('\n');
    let changed: Vec<Module> = plan
        .steps
        .iter()
        .filter(|s| matches!(s.action, Action::Change(_)))
        .filter_map(|s| s.module)
        .collect();
    for (module, names) in [
        (Module::Teams, &["MicrosoftTeams"][..]),
        (
            Module::GraphUsers,
            &["Microsoft.Graph.Users", "Microsoft.Graph.Users.Actions"][..],
        ),
        (
            Module::GraphApplications,
            &["Microsoft.Graph.Applications"][..],
        ),
    ] {
        if changed.contains(&module) {
            for name in names {
                let _ = writeln!(out, "Import-Module {name}");
            }
        }
    }
    if plan.steps.is_empty() {
        out.push_str("\nWrite-Host 'Nothing to fix: the audit found no fail, missing or unknown result that is not suppressed.'\n");
        return out;
    }
    out.push_str(
        "\nif (-not $Apply) {\n    Write-Host 'Dry run: nothing is changed. Run again with -Apply to make the changes.'\n}\n",
    );
    let total = plan.steps.len();
    let mut phase = None;
    for (i, s) in plan.steps.iter().enumerate() {
        if phase != Some(s.phase) {
            phase = Some(s.phase);
            let _ = writeln!(out, "\n# ==== {} ====", s.phase.title());
        }
        render_step(&mut out, s, i + 1, total);
    }
    out
}

fn render_step(out: &mut String, s: &Step, n: usize, total: usize) {
    let checks = s.checks.join(", ");
    let subjects = if s.subjects.is_empty() {
        String::new()
    } else {
        format!(" [{}]", s.subjects.join(", "))
    };
    let kind = match s.action {
        Action::Change(_) => "",
        Action::Manual(_) => " (manual)",
        Action::NotAudited { .. } => " (not audited)",
    };
    let name = format!("Step {n} of {total} ({checks}{subjects})");
    out.push('\n');
    comment(
        out,
        "",
        &format!("--- Step {n} of {total}: {checks}{subjects}{kind} ---"),
    );
    comment(out, "", &s.title);
    match &s.action {
        Action::Change(c) => {
            for note in &c.notes {
                comment(out, "", note);
            }
            let _ = writeln!(out, "Invoke-Step {} {{", ps_str(&name));
            for line in c.read.iter().chain(&c.desired) {
                let _ = writeln!(out, "    {line}");
            }
            let what = ps_str(&c.what);
            let _ = writeln!(out, "    if (Test-SameValue $current $desired) {{");
            let _ = writeln!(out, "        Show-Unchanged {what} $current");
            let _ = writeln!(out, "        return");
            let _ = writeln!(out, "    }}");
            let _ = writeln!(out, "    Show-Change {what} $current $desired");
            let _ = writeln!(out, "    if ($Apply) {{");
            for line in &c.apply {
                let _ = writeln!(out, "        {line}");
            }
            let _ = writeln!(out, "    }}");
            let _ = writeln!(out, "}}");
        }
        Action::Manual(lines) => {
            for line in lines {
                comment(out, "", &format!("MANUAL: {line}"));
            }
            let _ = writeln!(
                out,
                "Write-Host {}",
                ps_str(&format!(
                    "manual: {name}: {}; see the script's comments",
                    s.title
                ))
            );
        }
        Action::NotAudited { message, grant } => {
            comment(out, "", &format!("NOT AUDITED: {message}"));
            match grant {
                Some(g) => comment(
                    out,
                    "",
                    &format!(
                        "Grant: {g}; then audit again. This script has no fix for it until then."
                    ),
                ),
                None => comment(out, "", "Audit again once the data can be read."),
            }
        }
    }
}
