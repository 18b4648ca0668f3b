//! The fix templates: one builder per `engine::fix::FixStep` kind, computing read-merge-write
//! steps from a result and the tenant model. Each automated step reads the current value
//! (`read`), computes the desired one from it (`desired`, merging rather than replacing), and
//! changes the tenant only when they differ and `-Apply` is given (`apply`).

use std::fmt::Write as _;

use super::{Action, Change, Module, Step, manual, ps_str, step, subject_id, subject_name};
use crate::engine::fix::{FixStep, Placeholders};
use crate::engine::{CheckResult, Status};
use crate::ids::is_guid;
use crate::model::TenantModel;
use crate::model::directory::{Sku, User, UserLicenses};
use crate::model::teams::{ExternalAccessPolicy, PhoneNumber, ResourceAccount, TeamsUser};
use crate::model::well_known::{ACS_APP_ID, RA_LICENSE_SKU, TEAMS_PHONE_SKU, TEAMS_PHONE_SKU_PART};

/// The policy created for agents when no existing external access policy allows ACS.
const ACS_POLICY: &str = "AcsAllowed";

/// The model, with the look-ups the builders share.
pub(super) struct Ctx<'a> {
    pub(super) model: &'a TenantModel,
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

    /// `text` with the result's subject in its placeholders.
    fn fill(&self, r: &CheckResult, text: &str) -> String {
        let (name, id) = (subject_name(r), subject_id(r));
        Placeholders {
            subject: &name,
            subject_id: &id,
            quote: ps_str,
        }
        .fill(text)
    }

    /// The steps `fix` makes for a fail or missing result.
    pub(super) fn steps(&self, r: &CheckResult, fix: &FixStep) -> Vec<Step> {
        let missing = r.status == Status::Missing;
        match fix {
            FixStep::Manual {
                title,
                text,
                title_missing,
                text_missing,
                once,
            } => {
                let (title, text) = match (missing, title_missing, text_missing) {
                    (true, t, x) => (t.as_ref().unwrap_or(title), x.as_ref().unwrap_or(text)),
                    (false, _, _) => (title, text),
                };
                let lines = text.lines().map(|l| self.fill(r, l)).collect();
                let mut s = manual(r, &self.fill(r, title), lines);
                if *once {
                    s.key = format!("manual:{}", r.check);
                }
                vec![s]
            }
            FixStep::CreateResourceAccount {
                app_id_unknown,
                ids_unknown,
                then,
            } => self.create_ra(r, app_id_unknown, ids_unknown, then),
            FixStep::BindResourceAccount { ids_unknown } => self
                .bind_ra(r, &subject_id(r), ids_unknown)
                .into_iter()
                .collect(),
            FixStep::SetUsageLocation {} => self.usage_location(r, missing),
            FixStep::LicenseResourceAccount {} => self.ra_license(r),
            FixStep::AssignCallingPlan {} => self.calling_plan(r),
            FixStep::LicenseAgentTeamsPhone {} => self.agent_license(r),
            FixStep::EnableEnterpriseVoice { no_teams_user } => {
                self.enterprise_voice(r, no_teams_user)
            }
            FixStep::MoveToTeamsOnly {} => self.teams_only(r),
            FixStep::EnableAcsServicePrincipal {} => vec![self.acs_service_principal(r)],
            FixStep::EnableAcsFederation {} => vec![self.enable_acs_users(r)],
            FixStep::AllowAcsResource { acs_id_unknown } => self
                .allow_acs_resource(r, acs_id_unknown)
                .into_iter()
                .collect(),
            FixStep::GrantAcsPolicy {} => {
                let current = self
                    .teams_user(&subject_id(r))
                    .and_then(|u| u.external_access_policy.as_deref());
                self.grant_acs_policy(r, &subject_name(r), current)
            }
            FixStep::ReassignBlockingPolicy {} => self.reassign_blocking_policy(r),
            FixStep::ReviewInformationBarriers {} => vec![self.information_barriers(r)],
            FixStep::MakeServiceNumber {} => vec![self.not_a_service_number(r)],
            FixStep::ActivateNumber {} => vec![self.activate_number(r)],
            FixStep::AssignNumber {} => vec![self.assign_number(r)],
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

    /// Binds the first contact-center resource account, or creates one when there is none.
    fn create_ra(
        &self,
        r: &CheckResult,
        app_id_unknown: &str,
        ids_unknown: &str,
        then: &str,
    ) -> Vec<Step> {
        let scoped = self
            .model
            .scope
            .resource_accounts
            .value()
            .map(|v| v.as_slice())
            .unwrap_or_default();
        if let Some(first) = scoped.first() {
            // Resource accounts exist but none is bound: the same change as binding the first.
            return self
                .bind_ra(r, &first.id, ids_unknown)
                .into_iter()
                .collect();
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
                vec![self.fill(r, app_id_unknown)],
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
                    self.fill(r, then),
                ],
            },
        );
        s.subjects = vec![upn];
        vec![s]
    }

    /// Binds a resource account to the Dynamics App ID and the D365 ACS resource, then syncs it
    /// (one change per account, whichever check found it).
    fn bind_ra(&self, r: &CheckResult, ra_id: &str, ids_unknown: &str) -> Option<Step> {
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
                vec![self.fill(r, ids_unknown)],
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
            (s.sku_id == TEAMS_PHONE_SKU || s.sku_part_number == TEAMS_PHONE_SKU_PART)
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

    fn enterprise_voice(&self, r: &CheckResult, no_teams_user: &str) -> Vec<Step> {
        let upn = subject_name(r);
        if self.teams_user(&subject_id(r)).is_none() {
            return vec![manual(
                r,
                "Enable the agent for Enterprise Voice",
                vec![self.fill(r, no_teams_user)],
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
    fn allow_acs_resource(&self, r: &CheckResult, acs_id_unknown: &str) -> Option<Step> {
        let Some(acs) = self.acs_id() else {
            return Some(manual(
                r,
                "Allow the D365 ACS resource in Teams ACS federation",
                vec![self.fill(r, acs_id_unknown)],
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
    /// that allows ACS (the same change `grant-acs-policy` makes, so made once).
    fn reassign_blocking_policy(&self, r: &CheckResult) -> Vec<Step> {
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
            (true, Some(upn), Some(n)) => self.assign_number_to(
                r,
                n,
                &upn,
                ("activate", "Assign the number again so it activates", "the activation state"),
                ("ActivationState", "'Activated'".into()),
                vec![
                    "If it fails again, open a Teams support case (or contact the operator) with the number.".into(),
                ],
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

    /// A step that assigns the subject number `n` to `upn`, done when the number's `property`
    /// reads `desired`; `(key, title, what)` name the change.
    fn assign_number_to(
        &self,
        r: &CheckResult,
        n: &PhoneNumber,
        upn: &str,
        (key, title, what): (&str, &str, &str),
        (property, desired): (&str, String),
        notes: Vec<String>,
    ) -> Step {
        let number = subject_name(r);
        self.change(
            r,
            format!("{key}:{number}"),
            title,
            Module::Teams,
            Change {
                what: format!("{what} of {number}"),
                read: vec![format!(
                    "$current = [string](Get-CsPhoneNumberAssignment -TelephoneNumber {}).{property}",
                    ps_str(&number)
                )],
                desired: vec![format!("$desired = {desired}")],
                apply: vec![format!(
                    "Set-CsPhoneNumberAssignment -Identity {} -PhoneNumber {} -PhoneNumberType {}",
                    ps_str(upn),
                    ps_str(&number),
                    ps_str(&pascal(n.number_type.as_deref().unwrap_or_default()))
                )],
                notes,
            },
        )
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
            (Some(n), Some(ra)) if n.assignment_target_id.is_none() => self.assign_number_to(
                r,
                n,
                &ra.upn,
                ("assign", "Assign the number to its resource account", "the assignment"),
                ("AssignedPstnTargetId", ps_str(&ra.id)),
                Vec::new(),
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

/// `callingPlan` → `CallingPlan`, as `-PhoneNumberType` takes it.
fn pascal(camel: &str) -> String {
    let mut chars = camel.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::fix::FixStep as K;
    use crate::model::AuditConfig;
    use crate::snapshot::Snapshot;

    const AGENT2: (&str, &str) = ("6b3c4d5e-1d2e-4f3a-9b8c-2d3e4f5a6b7c", "agent2@contoso.com");
    const RA_SALES: (&str, &str) = (
        "3e5d9c21-6b7a-4f0e-9a1d-2c4b6e8f0a13",
        "ra_cc_sales@contoso.com",
    );
    const ACS_ID: &str = "bb567890-1234-1234-1234-bbb123456789";
    /// An account without a license record (the field case's accounts all have theirs).
    const UNLICENSED: (&str, &str) = ("unlicensed-id", "unlicensed@contoso.com");

    fn field_case() -> TenantModel {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples/field-case.snapshot.json");
        let snapshot = Snapshot::load(&path).expect("the field case loads");
        TenantModel::from_snapshot(&snapshot, AuditConfig::default())
    }

    fn result(status: Status, subject: Option<(&str, &str)>) -> CheckResult {
        CheckResult::sample("TEST-001", status, subject)
    }

    fn steps(model: &TenantModel, kind: &K, subject: Option<(&str, &str)>) -> Vec<Step> {
        Ctx { model }.steps(&result(Status::Fail, subject), kind)
    }

    fn change(step: &Step) -> &Change {
        match &step.action {
            Action::Change(c) => c,
            other => panic!("{}: not a change: {other:?}", step.title),
        }
    }

    /// Read-merge-write: the read lines only read, the desired value is computed, and only the
    /// apply lines (run under `-Apply`) change anything.
    fn assert_read_merge_write(c: &Change) {
        let changing = ["Set-", "Grant-", "New-", "Update-", "Sync-", "Remove-"];
        for line in c.read.iter().chain(&c.desired) {
            assert!(
                !changing.iter().any(|v| line.contains(v)),
                "reads must not change: {line}"
            );
        }
        assert!(c.read.iter().any(|l| l.contains("$current")), "{c:?}");
        assert!(c.desired.iter().any(|l| l.contains("$desired")), "{c:?}");
        assert!(
            c.apply
                .iter()
                .any(|l| changing.iter().any(|v| l.contains(v))),
            "{c:?}"
        );
    }

    #[test]
    fn every_automated_kind_reads_computes_then_changes() {
        let model = field_case();
        let number = Some(("+14255550150", "+14255550150"));
        let cases: [(K, Option<(&str, &str)>); 10] = [
            (
                K::BindResourceAccount {
                    ids_unknown: "x".into(),
                },
                Some(RA_SALES),
            ),
            (K::SetUsageLocation {}, Some(RA_SALES)),
            (K::LicenseResourceAccount {}, Some(UNLICENSED)),
            (
                K::EnableEnterpriseVoice {
                    no_teams_user: "x".into(),
                },
                Some(AGENT2),
            ),
            (K::MoveToTeamsOnly {}, Some(AGENT2)),
            (K::EnableAcsServicePrincipal {}, None),
            (K::EnableAcsFederation {}, None),
            (
                K::AllowAcsResource {
                    acs_id_unknown: "x".into(),
                },
                Some((ACS_ID, ACS_ID)),
            ),
            (K::GrantAcsPolicy {}, Some(AGENT2)),
            (
                K::ReassignBlockingPolicy {},
                Some(("Tag:CC-Restricted", "Tag:CC-Restricted")),
            ),
        ];
        for (kind, subject) in cases {
            let made = steps(&model, &kind, subject);
            assert!(!made.is_empty(), "{kind:?}");
            for s in &made {
                assert_read_merge_write(change(s));
            }
        }
        // The number kinds fall back to a manual step when there is nothing safe to change.
        for kind in [
            K::ActivateNumber {},
            K::AssignNumber {},
            K::MakeServiceNumber {},
        ] {
            assert_eq!(steps(&model, &kind, number).len(), 1, "{kind:?}");
        }
    }

    #[test]
    fn allow_acs_resource_appends_the_d365_id_and_keeps_the_others() {
        let model = field_case();
        let kind = K::AllowAcsResource {
            acs_id_unknown: "x".into(),
        };
        let c = change(&steps(&model, &kind, None)[0]).clone();
        assert!(c.desired.iter().any(|l| l.contains("@($current")), "{c:?}");
        assert!(
            c.desired
                .iter()
                .any(|l| l.contains(ACS_ID) && l.contains("+=")),
            "{c:?}"
        );
    }

    #[test]
    fn allow_acs_resource_without_the_acs_id_is_manual_with_the_check_text() {
        let mut model = field_case();
        model.d365.teams_provider = crate::model::Fact::not_requested("test");
        let kind = K::AllowAcsResource {
            acs_id_unknown: "fix the id check for {subject}".into(),
        };
        let made = steps(&model, &kind, Some(("s", "sub")));
        assert_eq!(
            made[0].action,
            Action::Manual(vec!["fix the id check for sub".into()])
        );
    }

    #[test]
    fn a_license_is_added_to_the_current_ones() {
        let model = field_case();
        let c = change(&steps(&model, &K::LicenseResourceAccount {}, Some(UNLICENSED))[0]).clone();
        assert_eq!(c.desired[0], "$desired = @($current)");
        assert!(c.apply[0].contains("-RemoveLicenses @()"), "{c:?}");
    }

    #[test]
    fn grant_acs_policy_goes_back_to_global_when_global_allows_acs() {
        let model = field_case();
        let made = steps(&model, &K::GrantAcsPolicy {}, Some(AGENT2));
        let c = change(made.last().expect("a grant"));
        assert_eq!(c.desired, vec!["$desired = 'Global'".to_string()]);
        assert!(c.apply[0].ends_with("-PolicyName $null"), "{c:?}");
    }

    #[test]
    fn a_manual_step_fills_its_subject_picks_its_missing_text_and_can_be_made_once() {
        let model = field_case();
        let kind = K::Manual {
            title: "fix {subject}".into(),
            text: "Run X -Identity {subject:ps}\nthen {subject_id}".into(),
            title_missing: Some("create {subject}".into()),
            text_missing: None,
            once: false,
        };
        let ctx = Ctx { model: &model };
        let fail = ctx.steps(&result(Status::Fail, Some(("ID", "o'b"))), &kind);
        assert_eq!(fail[0].title, "fix o'b");
        assert_eq!(
            fail[0].action,
            Action::Manual(vec!["Run X -Identity 'o''b'".into(), "then id".into()])
        );
        let missing = ctx.steps(&result(Status::Missing, Some(("ID", "o'b"))), &kind);
        assert_eq!(missing[0].title, "create o'b");
        let once = K::Manual {
            title: "t".into(),
            text: "x".into(),
            title_missing: None,
            text_missing: None,
            once: true,
        };
        let a = ctx.steps(&result(Status::Fail, Some(("1", "a"))), &once);
        let b = ctx.steps(&result(Status::Fail, Some(("2", "b"))), &once);
        assert_eq!(a[0].key, b[0].key, "one step for every subject");
    }
}
