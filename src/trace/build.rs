//! Builds the call paths from the audit's results and the model's joins.
//!
//! A path starts at a contact-center number (one assigned to a contact-center resource account,
//! one with a D365 Teams phone-number row, or one a number check reported on) and follows the
//! model's joins: the number's resource account (the Teams assignment, else the D365 row's
//! `msdyn_teamsresourceaccount`), the ACS resource (the account's AcsResourceId and the D365
//! Teams provider's immutable id), the D365 row and its voice channel. Which voice queue serves
//! which number is not in the model, so every path offers its calls to every agent the audit
//! covers, and the Dynamics 365 hop says so.
//!
//! A result belongs to a hop when its check decides that hop (`hop:`) and its subject is on the
//! path (by id or name, ignoring case), or when it has no subject (tenant-wide). The agent legs
//! depend on the agent alone (its policies, barriers and licenses), so they are built once and
//! shared by every path.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::path::{AgentLeg, AgentRef, CallPath, Hop, HopCheck, HopKind, HopStatus};
use crate::engine::{CheckResult, Status};
use crate::model::TenantModel;

/// Why every path names every agent.
pub const NO_QUEUE_JOIN: &str = "which voice queue serves this number is not in the model: the agents shown are every agent the audit covers";

/// The subject kind of results about one number (`subject_kind: number`).
const NUMBER_SUBJECT: &str = "number";

/// Every contact-center number's path, in number order, each with the legs of every agent the
/// audit covers (numbers × agents legs: for a large tenant, use [`Tracer`] and its shared legs).
pub fn call_paths(model: &TenantModel, results: &[CheckResult]) -> Vec<CallPath> {
    let tracer = Tracer::new(model, results);
    tracer
        .numbers()
        .filter_map(|n| tracer.path(n, tracer.legs()))
        .collect()
}

/// The joins and the results indexed by hop and subject, with the agent legs built once.
pub struct Tracer<'a> {
    model: &'a TenantModel,
    results: &'a [CheckResult],
    /// (hop, lower-case subject id or name) → result indices.
    keyed: HashMap<(HopKind, String), Vec<usize>>,
    /// Results without a subject, by hop.
    tenant_wide: BTreeMap<HopKind, Vec<usize>>,
    numbers: BTreeMap<String, NumberJoin>,
    legs: Vec<AgentLeg>,
    agents_note: Option<String>,
}

/// What the model joins to one number.
#[derive(Debug, Default)]
struct NumberJoin {
    /// Object id of the resource account the number is assigned to.
    resource_account: Option<String>,
    /// Ids of the number's D365 phone-number rows.
    d365_rows: Vec<String>,
}

impl<'a> Tracer<'a> {
    pub fn new(model: &'a TenantModel, results: &'a [CheckResult]) -> Tracer<'a> {
        let mut keyed: HashMap<(HopKind, String), Vec<usize>> = HashMap::new();
        let mut tenant_wide: BTreeMap<HopKind, Vec<usize>> = BTreeMap::new();
        let mut reported_numbers = BTreeSet::new();
        for (i, r) in results.iter().enumerate() {
            let Some(hop) = r.hop else { continue };
            match &r.subject {
                None => tenant_wide.entry(hop).or_default().push(i),
                Some(s) => {
                    let id = s.id.to_lowercase();
                    let name = s.name.to_lowercase();
                    if name != id {
                        keyed.entry((hop, name)).or_default().push(i);
                    }
                    keyed.entry((hop, id)).or_default().push(i);
                    if s.kind == NUMBER_SUBJECT && s.name.starts_with('+') {
                        reported_numbers.insert(s.name.clone());
                    }
                }
            }
        }
        let numbers = numbers(model, reported_numbers);
        let mut tracer = Tracer {
            model,
            results,
            keyed,
            tenant_wide,
            numbers,
            legs: Vec::new(),
            agents_note: None,
        };
        match model.agents.value() {
            Some(agents) => {
                tracer.legs = agents
                    .iter()
                    .map(|a| {
                        tracer.leg(AgentRef {
                            id: a.id.clone().unwrap_or_else(|| a.key.clone()),
                            upn: a.upn.clone().unwrap_or_else(|| a.name.clone()),
                        })
                    })
                    .collect();
                if agents.is_empty() {
                    tracer.agents_note = Some("the audit covers no agents".into());
                }
            }
            None => {
                tracer.agents_note = model.agents.unavailable().map(|u| u.reason.clone());
            }
        }
        tracer
    }

    /// The contact-center numbers, in order (E.164).
    pub fn numbers(&self) -> impl Iterator<Item = &str> {
        self.numbers.keys().map(String::as_str)
    }

    /// Every agent's leg, in the order the audit names the agents; each leg's first broken hop
    /// carries its fix.
    pub fn legs(&self) -> &[AgentLeg] {
        &self.legs
    }

    /// Why there are no agent legs (agents not named, or not readable).
    pub fn agents_note(&self) -> Option<&str> {
        self.agents_note.as_deref()
    }

    /// The path of `number` (E.164, as [`Tracer::numbers`] spells it) with the given agent legs;
    /// `None` for a number that is not a contact-center number. The fix sits on the first
    /// broken hop of the path: a number-side hop, or else each leg's first broken hop.
    pub fn path(&self, number: &str, legs: &[AgentLeg]) -> Option<CallPath> {
        let hops = self.number_side(number)?;
        let number_broken = hops.iter().any(|h| h.status == HopStatus::Broken);
        let agents = legs
            .iter()
            .map(|leg| {
                let mut leg = leg.clone();
                if number_broken {
                    for hop in &mut leg.hops {
                        hop.fix = None;
                    }
                }
                leg
            })
            .collect();
        Some(CallPath {
            number: number.to_string(),
            hops,
            agents,
            agents_note: self.agents_note.clone(),
        })
    }

    /// The hops before the agent, in call order, with the fix on the first broken one.
    pub fn number_side(&self, number: &str) -> Option<Vec<Hop>> {
        let join = self.numbers.get(number)?;
        let model = self.model;
        let ra = join.resource_account.as_deref();
        let ra_record = ra.and_then(|id| {
            model
                .teams
                .resource_accounts
                .value()
                .and_then(|m| m.get(id))
        });
        let provider = model.d365.teams_provider.value().cloned().flatten();
        // The ACS resource: the one the account is bound to, and the one D365 calls from; when
        // they differ, RA-style checks fail on the account and both are on the path.
        let mut acs: Vec<String> = Vec::new();
        if let Some(Some(id)) = ra_record.and_then(|r| r.acs_resource_id.clone()) {
            acs.push(id);
        }
        if let Some(p) = &provider {
            if let Some(Some(id)) = &p.immutable_id {
                acs.push(id.clone());
            }
            acs.push(p.id.clone());
        }
        let acs_label = acs.first().cloned();

        let mut hops = Vec::with_capacity(4);
        hops.push(self.hop(HopKind::Number, number.to_string(), &[number], true));
        let ra_label = ra_record
            .map(|r| r.upn.clone())
            .or_else(|| ra.map(str::to_string));
        let mut ra_hop = self.hop(
            HopKind::ResourceAccount,
            ra_label.unwrap_or_else(|| "no resource account".into()),
            ra.as_slice(),
            ra.is_some(),
        );
        if ra.is_none() {
            ra_hop.note = Some("the model assigns this number to no resource account".into());
        }
        hops.push(ra_hop);

        let mut d365_keys: Vec<&str> = vec![number];
        d365_keys.extend(join.d365_rows.iter().map(String::as_str));
        d365_keys.extend(acs.iter().map(String::as_str));
        // A customer-owned ACS resource is reported by its Azure name.
        let azure_names: Vec<&str> = acs
            .iter()
            .filter_map(|id| model.azure.acs_resources.value()?.get(id))
            .map(|r| r.name.as_str())
            .collect();
        d365_keys.extend(azure_names);
        let channel = join.d365_rows.iter().find_map(|row| {
            model
                .d365
                .voice_channels
                .value()
                .and_then(|m| m.get(row))
                .and_then(|chs| chs.iter().find(|c| c.active).or(chs.first()))
                .map(|c| c.name.clone().unwrap_or_else(|| c.id.clone()))
        });
        let d365_label = match (&channel, join.d365_rows.first()) {
            (Some(ch), _) => format!("voice channel {ch}"),
            (None, Some(row)) => format!("phone-number row {row}"),
            (None, None) => "no phone-number row".into(),
        };
        let mut d365 = self.hop(HopKind::Dynamics365, d365_label, &d365_keys, true);
        d365.note = Some(NO_QUEUE_JOIN.into());
        hops.push(d365);

        let acs_keys: Vec<&str> = acs.iter().map(String::as_str).collect();
        let mut fed = self.hop(
            HopKind::AcsFederation,
            acs_label.unwrap_or_else(|| "no ACS resource".into()),
            &acs_keys,
            !acs.is_empty(),
        );
        if acs.is_empty() {
            fed.note = Some(
                "neither the resource account nor D365 names the contact center's ACS resource"
                    .into(),
            );
        }
        hops.push(fed);
        mark_first_broken(&mut hops, self.results);
        Some(hops)
    }

    /// One agent's hops: external access, information barriers, the agent itself.
    fn leg(&self, agent: AgentRef) -> AgentLeg {
        let policy = self
            .model
            .teams
            .external_access
            .value()
            .and_then(|m| m.get(&agent.id))
            .and_then(|e| e.policy.clone());
        let keys = [agent.id.as_str(), agent.upn.as_str()];
        let mut ext_keys = keys.to_vec();
        ext_keys.extend(policy.as_deref());
        let mut hops = vec![
            self.hop(
                HopKind::ExternalAccess,
                policy.clone().unwrap_or_else(|| agent.upn.clone()),
                &ext_keys,
                true,
            ),
            self.hop(HopKind::InformationBarriers, agent.upn.clone(), &keys, true),
            self.hop(HopKind::Agent, agent.upn.clone(), &keys, true),
        ];
        mark_first_broken(&mut hops, self.results);
        AgentLeg { agent, hops }
    }

    /// The hop `kind` labelled `label`, decided by the results about `keys` and the tenant-wide
    /// ones. Without a join (`joined` false) only what is not clear counts: a tenant-wide pass
    /// says nothing about an object the path does not reach.
    fn hop(&self, kind: HopKind, label: String, keys: &[&str], joined: bool) -> Hop {
        let mut idx: Vec<usize> = self.tenant_wide.get(&kind).cloned().unwrap_or_default();
        for key in keys {
            if let Some(found) = self.keyed.get(&(kind, key.to_lowercase())) {
                idx.extend(found);
            }
        }
        idx.sort_unstable();
        idx.dedup();
        let mut checks: Vec<HopCheck> = idx
            .into_iter()
            .map(|i| {
                let r = &self.results[i];
                HopCheck {
                    check: r.check.clone(),
                    status: r.status,
                    evidence: one_line(&r.message),
                    needs: r.needs.clone(),
                    result: i,
                }
            })
            .collect();
        checks.sort_by(|a, b| (a.status, &a.check, a.result).cmp(&(b.status, &b.check, b.result)));
        let worst = checks.first().map(|c| c.status);
        let status = match worst {
            Some(Status::Fail | Status::Missing) => HopStatus::Broken,
            Some(Status::Unknown) => HopStatus::Unknown,
            Some(Status::Pass | Status::Skipped) if joined => HopStatus::Clear,
            _ => HopStatus::NotTraced,
        };
        let note = match (status, joined) {
            (HopStatus::NotTraced, true) => Some("no check that ran decides this hop".into()),
            _ => None,
        };
        Hop {
            kind,
            label,
            status,
            checks,
            note,
            fix: None,
        }
    }
}

/// Puts the fix (the remediation of the hop's worst result) on the first broken hop; whether
/// there was one.
fn mark_first_broken(hops: &mut [Hop], results: &[CheckResult]) -> bool {
    let Some(hop) = hops.iter_mut().find(|h| h.status == HopStatus::Broken) else {
        return false;
    };
    hop.fix = hop
        .checks
        .iter()
        .filter(|c| c.status.is_finding())
        .find_map(|c| results[c.result].remediation.clone());
    true
}

/// The text on one line: line breaks become spaces.
fn one_line(text: &str) -> String {
    if text.contains('\n') {
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    } else {
        text.to_string()
    }
}

/// The contact-center numbers with their joins: those assigned to a contact-center resource
/// account in Teams, those with an active Teams row in D365, and those a check reported on.
fn numbers(model: &TenantModel, reported: BTreeSet<String>) -> BTreeMap<String, NumberJoin> {
    let mut out: BTreeMap<String, NumberJoin> = BTreeMap::new();
    let ras = model.teams.resource_accounts.value();
    let by_target = model.teams.numbers_by_target.value();
    if let (Some(scoped), Some(by_target)) = (model.scope.resource_accounts.value(), by_target) {
        for ra in scoped {
            for n in by_target.get(&ra.id).into_iter().flatten() {
                out.entry(n.clone()).or_default().resource_account = Some(ra.id.clone());
            }
        }
    }
    if let Some(rows) = model.d365.phone_numbers.value() {
        for (n, rows) in rows {
            for row in rows
                .iter()
                .filter(|r| r.active && r.number_type.as_deref().is_none_or(|t| t == "teams"))
            {
                let join = out.entry(n.clone()).or_default();
                join.d365_rows.push(row.id.clone());
                if join.resource_account.is_none()
                    && let Some(Some(id)) = &row.teams_resource_account
                {
                    join.resource_account = Some(id.clone());
                }
            }
        }
    }
    for n in reported {
        out.entry(n).or_default();
    }
    // A number reported on or synced to D365 whose Teams assignment is known joins its account.
    if let (Some(numbers), Some(ras)) = (model.teams.numbers.value(), ras) {
        for (n, join) in out.iter_mut().filter(|(_, j)| j.resource_account.is_none()) {
            if let Some(Some(target)) = numbers.get(n).and_then(|p| p.assignment_target_id.clone())
                && ras.contains_key(&target)
            {
                join.resource_account = Some(target);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{self, Severity};
    use crate::model::AuditConfig;
    use crate::snapshot::Snapshot;

    fn audit(example: &str, skus: &[&str]) -> (TenantModel, Vec<CheckResult>) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(example);
        let snapshot = Snapshot::load(&path).unwrap();
        let model = TenantModel::from_snapshot(
            &snapshot,
            AuditConfig {
                contact_center_skus: skus.iter().map(|s| s.to_string()).collect(),
            },
        );
        let env = engine::cel::environment();
        let checks = engine::catalog::load(&env, None).unwrap();
        let results = engine::evaluate(&env, &checks, &model);
        (model, results)
    }

    fn field_case() -> (TenantModel, Vec<CheckResult>) {
        audit("examples/field-case.snapshot.json", &[])
    }

    fn hop(hops: &[Hop], kind: HopKind) -> &Hop {
        hops.iter().find(|h| h.kind == kind).unwrap()
    }

    fn checks(hop: &Hop) -> Vec<(&str, Status)> {
        hop.checks
            .iter()
            .map(|c| (c.check.as_str(), c.status))
            .collect()
    }

    fn leg<'p>(path: &'p CallPath, upn: &str) -> &'p AgentLeg {
        path.agents.iter().find(|l| l.agent.upn == upn).unwrap()
    }

    #[test]
    fn one_path_per_contact_center_number_in_number_order_with_every_agent() {
        let (model, results) = field_case();
        let paths = call_paths(&model, &results);
        let numbers: Vec<&str> = paths.iter().map(|p| p.number.as_str()).collect();
        assert_eq!(numbers, ["+14255550100", "+14255550150", "+14255550175"]);
        for p in &paths {
            let kinds: Vec<HopKind> = p.hops.iter().map(|h| h.kind).collect();
            assert_eq!(kinds, HopKind::ALL[..4]);
            assert_eq!(p.agents.len(), 3, "{}", p.number);
            for l in &p.agents {
                let kinds: Vec<HopKind> = l.hops.iter().map(|h| h.kind).collect();
                assert_eq!(kinds, HopKind::ALL[4..]);
            }
        }
    }

    #[test]
    fn the_field_case_path_breaks_at_the_number_acs_federation_and_agent2s_policy() {
        let (model, results) = field_case();
        let paths = call_paths(&model, &results);
        let path = paths.iter().find(|p| p.number == "+14255550150").unwrap();
        let number = hop(&path.hops, HopKind::Number);
        assert_eq!(number.status, HopStatus::Broken);
        assert_eq!(number.checks[0].check, "NUM-002");
        assert!(
            number
                .fix
                .as_deref()
                .is_some_and(|f| f.contains("Set-CsPhoneNumberAssignment")),
            "{number:?}"
        );
        let ra = hop(&path.hops, HopKind::ResourceAccount);
        assert_eq!(
            (ra.label.as_str(), ra.status),
            ("ra_cc_sales@contoso.com", HopStatus::Clear)
        );
        // Only this account's results, not the other two accounts'.
        assert!(checks(ra).iter().filter(|(c, _)| *c == "RA-002").count() == 1);
        let fed = hop(&path.hops, HopKind::AcsFederation);
        assert_eq!(fed.status, HopStatus::Broken);
        assert_eq!(fed.label, "bb567890-1234-1234-1234-bbb123456789");
        assert_eq!(fed.checks[0].check, "ACSFED-002");
        assert_eq!(fed.fix, None, "only the first broken hop carries the fix");
        let d365 = hop(&path.hops, HopKind::Dynamics365);
        assert_eq!(d365.status, HopStatus::Clear);
        assert_eq!(d365.note.as_deref(), Some(NO_QUEUE_JOIN));
        // NUM-009 and NUM-011 report on the D365 row, named by the number.
        let d365_checks = checks(d365);
        assert!(
            d365_checks.contains(&("NUM-009", Status::Pass)),
            "{d365_checks:?}"
        );
        assert!(
            d365_checks.contains(&("NUM-011", Status::Pass)),
            "{d365_checks:?}"
        );

        let agent2 = leg(path, "agent2@contoso.com");
        let ext = hop(&agent2.hops, HopKind::ExternalAccess);
        assert_eq!(ext.status, HopStatus::Broken);
        assert_eq!(ext.label, "Tag:CC-Restricted");
        let ext_checks = checks(ext);
        assert!(
            ext_checks.contains(&("EXT-001", Status::Fail)),
            "{ext_checks:?}"
        );
        assert!(
            ext_checks.contains(&("EXT-002", Status::Fail)),
            "{ext_checks:?}"
        );
        assert_eq!(ext.fix, None, "the number's hop is the path's first break");
        // LIC-005 is unknown without --cc-sku: the agent hop says what to pass.
        let agent = hop(&agent2.hops, HopKind::Agent);
        assert_eq!(agent.status, HopStatus::Unknown);
        assert!(agent.checks[0].evidence.contains("--cc-sku"), "{agent:?}");

        let agent1 = leg(path, "agent1@contoso.com");
        assert_eq!(
            hop(&agent1.hops, HopKind::ExternalAccess).status,
            HopStatus::Clear
        );
    }

    #[test]
    fn the_first_break_after_the_number_side_carries_the_fix() {
        let (model, results) = field_case();
        let paths = call_paths(&model, &results);
        // +14255550175 was never synced into D365: the D365 hop is the first break.
        let path = paths.iter().find(|p| p.number == "+14255550175").unwrap();
        let d365 = hop(&path.hops, HopKind::Dynamics365);
        assert_eq!(d365.status, HopStatus::Broken);
        assert_eq!(d365.label, "no phone-number row");
        assert_eq!(checks(d365)[0], ("NUM-008", Status::Missing));
        assert!(d365.fix.is_some());
        assert_eq!(hop(&path.hops, HopKind::Number).fix, None);
        // On a path whose number side is clear, each agent's first break carries its fix.
        let tracer = Tracer::new(&model, &results);
        let agent2 = tracer
            .legs()
            .iter()
            .find(|l| l.agent.upn == "agent2@contoso.com")
            .unwrap();
        assert!(
            hop(&agent2.hops, HopKind::ExternalAccess)
                .fix
                .as_deref()
                .is_some_and(|f| f.contains("Grant-CsExternalAccessPolicy"))
        );
    }

    #[test]
    fn tenant_wide_results_belong_to_every_path() {
        let (model, results) = field_case();
        for path in call_paths(&model, &results) {
            let fed = checks(hop(&path.hops, HopKind::AcsFederation));
            assert!(fed.contains(&("ACSFED-001", Status::Pass)), "{fed:?}");
        }
    }

    #[test]
    fn an_unknown_result_makes_its_hop_unknown_naming_what_to_grant() {
        let (model, mut results) = field_case();
        for r in results.iter_mut().filter(|r| r.check == "RA-004") {
            r.status = Status::Unknown;
            r.needs = Some("Teams Administrator".into());
        }
        let paths = call_paths(&model, &results);
        let ra = hop(&paths[0].hops, HopKind::ResourceAccount);
        assert_eq!(ra.status, HopStatus::Unknown);
        assert_eq!(ra.checks[0].check, "RA-004");
        assert_eq!(ra.checks[0].needs.as_deref(), Some("Teams Administrator"));
    }

    #[test]
    fn a_hop_no_check_decides_is_not_traced_not_clear() {
        let (model, mut results) = field_case();
        results.retain(|r| r.hop != Some(HopKind::Number));
        let paths = call_paths(&model, &results);
        let number = hop(&paths[0].hops, HopKind::Number);
        assert_eq!(number.status, HopStatus::NotTraced);
        assert!(number.note.is_some());
    }

    #[test]
    fn without_a_join_a_tenant_wide_pass_does_not_clear_the_hop() {
        let (mut model, results) = field_case();
        // No ACS resource anywhere: D365 has no Teams provider, and no account names one.
        model.d365.teams_provider = crate::model::Fact::Available(None);
        if let crate::model::Fact::Available(ras) = &mut model.teams.resource_accounts {
            for ra in ras.values_mut() {
                ra.acs_resource_id = Some(None);
            }
        }
        // ACSFED-001 passes tenant-wide, but there is no resource on the path to let in.
        let paths = call_paths(&model, &results);
        let fed = hop(&paths[0].hops, HopKind::AcsFederation);
        assert_eq!(fed.status, HopStatus::NotTraced);
        assert_eq!(fed.label, "no ACS resource");
    }

    #[test]
    fn the_healthy_example_is_clear_end_to_end() {
        let (model, results) = audit(
            "examples/healthy.snapshot.json",
            &["DYN365_CUSTOMER_SERVICE_PREMIUM"],
        );
        let paths = call_paths(&model, &results);
        assert!(!paths.is_empty());
        for p in &paths {
            for h in p.hops.iter().chain(p.agents.iter().flat_map(|l| &l.hops)) {
                assert_eq!(h.status, HopStatus::Clear, "{} {:?}", p.number, h);
                assert_eq!(h.fix, None);
            }
        }
        assert_eq!(
            crate::report::exit_status_of(&results, Severity::Low),
            crate::report::ExitStatus::Success
        );
    }

    #[test]
    fn agents_that_were_not_named_leave_a_note_and_no_legs() {
        let (mut model, results) = field_case();
        model.agents = crate::model::Fact::not_requested("no agents were named");
        let paths = call_paths(&model, &results);
        assert!(paths[0].agents.is_empty());
        assert_eq!(
            paths[0].agents_note.as_deref(),
            Some("no agents were named")
        );
    }
}
