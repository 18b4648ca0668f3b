//! Which named agents sit in an information-barrier segment that an active policy restricts
//! (`tenant.compliance.agent_restrictions`).
//!
//! A policy restricts its assigned segment when it lists segments it allows or blocks. An agent
//! whose membership was not computed, or could not be evaluated for every segment, is unknown
//! unless a known segment already puts it under a restriction.

use std::collections::BTreeMap;

use serde::Serialize;

use super::agents::Agent;
use super::answer::Answer;
use super::compliance::{IbPolicy, SegmentMembership};
use super::fact::Fact;

/// One named agent's information-barrier restrictions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentRestriction {
    /// Lower-case object id; `null` when the agent is not in the directory.
    pub id: Option<String>,
    /// As named (UPN or object id).
    pub key: String,
    /// The directory UPN when found, else the key.
    pub upn: String,
    /// Whether the directory has this agent.
    pub found: bool,
    /// The agent's segments (lower-case).
    pub segments: Vec<String>,
    /// Active policies assigned to one of those segments that allow or block segments, sorted.
    pub restricting: Vec<String>,
    /// True when no active policy restricts a segment of the agent; false when one does;
    /// unknown when the membership was not computed or cannot be evaluated.
    pub unrestricted: Answer,
}

/// The restrictions of every agent; unavailable when the agents, policies or memberships are.
pub fn derive(
    agents: &Fact<Vec<Agent>>,
    policies: &Fact<Vec<IbPolicy>>,
    membership: &Fact<BTreeMap<String, SegmentMembership>>,
) -> Fact<Vec<AgentRestriction>> {
    let (agents, policies, membership) = match (agents, policies, membership) {
        (Fact::Available(a), Fact::Available(p), Fact::Available(m)) => (a, p, m),
        (Fact::Unavailable(u), _, _)
        | (_, Fact::Unavailable(u), _)
        | (_, _, Fact::Unavailable(u)) => return Fact::dependency(u),
    };
    Fact::Available(
        agents
            .iter()
            .map(|a| {
                let entry =
                    a.id.as_ref()
                        .filter(|_| a.found)
                        .and_then(|id| membership.get(id));
                restriction(a, policies, entry)
            })
            .collect(),
    )
}

fn restriction(
    agent: &Agent,
    policies: &[IbPolicy],
    membership: Option<&SegmentMembership>,
) -> AgentRestriction {
    let upn = agent.name.clone();
    let segments = membership.map(|m| m.segments.clone()).unwrap_or_default();
    let mut restricting: Vec<String> = policies
        .iter()
        .filter(|p| {
            p.active
                && segments.contains(&p.assigned_segment)
                && (!p.segments_allowed.is_empty() || !p.segments_blocked.is_empty())
        })
        .map(|p| p.name.clone())
        .collect();
    restricting.sort();
    let unrestricted = match membership {
        None if !agent.found => Answer::unknown(format!("{upn} was not found in the directory")),
        None => Answer::unknown(format!("IB segment membership of {upn} was not computed")),
        Some(_) if !restricting.is_empty() => Answer::Known(false),
        Some(m) if !m.unevaluable.is_empty() => Answer::unknown(format!(
            "IB segment membership of {upn} cannot be evaluated ({})",
            m.unevaluable.join("; ")
        )),
        Some(_) => Answer::Known(true),
    };
    AgentRestriction {
        id: agent.id.clone(),
        key: agent.key.clone(),
        upn,
        found: agent.found,
        segments,
        restricting,
        unrestricted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(id: &str, found: bool) -> Agent {
        Agent {
            key: format!("{id}@contoso.com"),
            id: found.then(|| id.to_string()),
            upn: found.then(|| format!("{id}@contoso.com")),
            name: format!("{id}@contoso.com"),
            display_name: None,
            found,
        }
    }

    fn policy(name: &str, segment: &str, blocked: &[&str], active: bool) -> IbPolicy {
        IbPolicy {
            name: name.into(),
            state: if active { "Active" } else { "Inactive" }.into(),
            active,
            assigned_segment: segment.into(),
            segments_allowed: Vec::new(),
            segments_blocked: blocked.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn member(segments: &[&str], unevaluable: &[&str]) -> SegmentMembership {
        SegmentMembership {
            segments: segments.iter().map(|s| s.to_string()).collect(),
            unevaluable: unevaluable.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn run(
        agents: Vec<Agent>,
        policies: Vec<IbPolicy>,
        membership: Vec<(&str, SegmentMembership)>,
    ) -> Vec<AgentRestriction> {
        derive(
            &Fact::Available(agents),
            &Fact::Available(policies),
            &Fact::Available(
                membership
                    .into_iter()
                    .map(|(id, m)| (id.to_string(), m))
                    .collect(),
            ),
        )
        .value()
        .cloned()
        .expect("available")
    }

    #[test]
    fn an_active_policy_with_allowed_or_blocked_segments_restricts_its_segment() {
        let r = run(
            vec![agent("a", true), agent("b", true)],
            vec![
                policy("Sales-Block", "sales", &["research"], true),
                policy("Old", "support", &["research"], false),
                policy("Open", "support", &[], true),
            ],
            vec![
                ("a", member(&["sales"], &[])),
                ("b", member(&["support"], &[])),
            ],
        );
        assert_eq!(r[0].unrestricted, Answer::Known(false));
        assert_eq!(r[0].restricting, ["Sales-Block"]);
        assert_eq!(r[1].unrestricted, Answer::Known(true));
        assert!(r[1].restricting.is_empty());
    }

    #[test]
    fn an_unevaluable_membership_is_unknown_unless_a_known_segment_restricts() {
        let policies = || vec![policy("Sales-Block", "sales", &["research"], true)];
        let r = run(
            vec![agent("a", true), agent("b", true)],
            policies(),
            vec![
                ("a", member(&["sales"], &["research: not collected"])),
                ("b", member(&["support"], &["research: not collected"])),
            ],
        );
        assert_eq!(r[0].unrestricted, Answer::Known(false));
        let Answer::Unknown { unknown, .. } = &r[1].unrestricted else {
            panic!("unknown expected")
        };
        assert!(unknown.contains("research: not collected"), "{unknown}");
    }

    #[test]
    fn an_agent_without_a_membership_is_unknown_and_one_not_found_is_marked() {
        let r = run(
            vec![agent("a", true), agent("ghost", false)],
            vec![policy("Sales-Block", "sales", &["research"], true)],
            vec![],
        );
        let Answer::Unknown { unknown, .. } = &r[0].unrestricted else {
            panic!("unknown expected")
        };
        assert!(unknown.contains("not computed"), "{unknown}");
        assert!(!r[1].found);
        assert_eq!(r[1].id, None);
    }
}
