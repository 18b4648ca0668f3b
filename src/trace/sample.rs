//! Paths for the renderers' tests, modelled on the field report: calls on +14255550150 break at
//! the number (not a voice-app service number), the ACS federation allow-list and agent2's
//! external access policy; and a path that is clear end to end.

// Test-only: `mod.rs` declares this module under `#[cfg(test)]`; the attribute is repeated
// here so the line-based scan for check ids in non-test code sees that too.
#[cfg(test)]
use super::{AgentLeg, AgentRef, CallPath, Hop, HopCheck, HopKind, HopStatus};
use crate::engine::Status;

fn check(check: &str, status: Status, evidence: &str, result: usize) -> HopCheck {
    HopCheck {
        check: check.into(),
        status,
        evidence: evidence.into(),
        needs: None,
        result,
    }
}

fn hop(kind: HopKind, label: &str, status: HopStatus, checks: Vec<HopCheck>) -> Hop {
    Hop {
        kind,
        label: label.into(),
        status,
        checks,
        note: None,
        fix: None,
    }
}

pub(crate) fn field_case() -> CallPath {
    use HopKind::*;
    use HopStatus::{Broken, Clear};
    let mut number = hop(
        Number,
        "+14255550150",
        Broken,
        vec![check(
            "NUM-002",
            Status::Fail,
            "+14255550150 is an Operator Connect user number, not a voice app service number",
            3,
        )],
    );
    number.fix = Some(
        "Ask the operator to reprovision +14255550150 as a voice app (service) number, then \
         assign it to ra_cc_sales@contoso.com."
            .into(),
    );
    CallPath {
        agents_note: None,
        number: "+14255550150".into(),
        hops: vec![
            number,
            hop(
                ResourceAccount,
                "ra_cc_sales@contoso.com",
                Clear,
                vec![check(
                    "RA-001",
                    Status::Pass,
                    "bound to the Dynamics App ID",
                    20,
                )],
            ),
            hop(
                Dynamics365,
                "contoso.crm.dynamics.com",
                Clear,
                vec![check(
                    "D365-003",
                    Status::Pass,
                    "number row and voice channel",
                    21,
                )],
            ),
            hop(
                AcsFederation,
                "bb567890-1234-1234-1234-bbb123456789",
                Broken,
                vec![check(
                    "ACSFED-002",
                    Status::Fail,
                    "bb567890-1234-1234-1234-bbb123456789 is not in the allow-list",
                    1,
                )],
            ),
        ],
        agents: vec![AgentLeg {
            agent: AgentRef {
                id: "00000000-0000-0000-0000-0000000000a2".into(),
                upn: "agent2@contoso.com".into(),
            },
            hops: vec![
                hop(
                    ExternalAccess,
                    "Tag:RestrictedExternal",
                    Broken,
                    vec![check("EXT-001", Status::Fail, "ACS users are blocked", 2)],
                ),
                hop(
                    InformationBarriers,
                    "no barrier",
                    Clear,
                    vec![check("IB-001", Status::Pass, "no segments", 22)],
                ),
                hop(
                    Agent,
                    "agent2@contoso.com",
                    Clear,
                    vec![check("AGT-001", Status::Pass, "licensed, TeamsOnly", 23)],
                ),
            ],
        }],
    }
}

pub(crate) fn clear() -> CallPath {
    let mut path = field_case();
    path.number = "+14255550100".into();
    for hop in path
        .hops
        .iter_mut()
        .chain(path.agents.iter_mut().flat_map(|l| l.hops.iter_mut()))
    {
        hop.status = HopStatus::Clear;
        hop.fix = None;
        for c in &mut hop.checks {
            c.status = Status::Pass;
            c.evidence = "as required".into();
        }
    }
    path.hops[0].label = "+14255550100".into();
    path.agents[0].agent.upn = "agent1@contoso.com".into();
    path.agents[0].hops[0].label = "Global".into();
    path.agents[0].hops[2].label = "agent1@contoso.com".into();
    path
}

/// The field case's audit report, carrying `paths`.
pub(crate) fn report(paths: Vec<CallPath>) -> crate::report::Report {
    use crate::model::{AuditConfig, TenantModel};
    let file =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/field-case.snapshot.json");
    let snapshot = crate::snapshot::Snapshot::load(&file).expect("the example snapshot loads");
    let model = TenantModel::from_snapshot(&snapshot, AuditConfig::default());
    let env = crate::engine::cel::environment();
    let checks = crate::engine::catalog::load(&env, None).expect("the built-in checks load");
    let results = crate::engine::evaluate(&env, &checks, &model);
    let mut report = crate::report::Report::new(&model, "snapshot", results);
    report.call_paths = paths;
    report
}

/// `n` numbers with different shapes: every fifth clear, the others broken at varying hops, one
/// to three agents each, long UPNs; hop results point at real result rows.
pub(crate) fn many(n: usize, results: usize) -> Vec<CallPath> {
    (0..n)
        .map(|i| {
            let mut path = if i % 5 == 0 { clear() } else { field_case() };
            path.number = format!("+1425555{i:04}");
            path.hops[0].label = path.number.clone();
            path.hops[1].label =
                format!("ra_contact_center_queue_number_{i}@contoso.onmicrosoft.com");
            let leg = path.agents[0].clone();
            path.agents = (0..1 + i % 3)
                .map(|a| {
                    let mut leg = leg.clone();
                    leg.agent.upn = format!("agent{a}.with.a.long.name@contoso.onmicrosoft.com");
                    leg.hops[2].label = leg.agent.upn.clone();
                    leg
                })
                .collect();
            for (h, hop) in path
                .hops
                .iter_mut()
                .chain(path.agents.iter_mut().flat_map(|l| l.hops.iter_mut()))
                .enumerate()
            {
                for c in &mut hop.checks {
                    c.result = (i + h) % results.max(1);
                }
            }
            path
        })
        .collect()
}
