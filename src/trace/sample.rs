//! Paths for the renderers' tests, modelled on the field report: calls on +14255550150 break at
//! the number (not a voice-app service number), the ACS federation allow-list and agent2's
//! external access policy; and a path that is clear end to end.

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
