//! The data of a traced call path, shared by the builder and the renderers.

use serde::{Deserialize, Serialize};

use crate::engine::evaluate::Status;

/// The hops of the call path, in the order a call traverses them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HopKind {
    /// The Teams number: a service number, activated, assigned to the resource account.
    Number,
    /// The resource account the number is assigned to: bound to the Dynamics App ID and the ACS
    /// resource, licensed, with its policies.
    ResourceAccount,
    /// Dynamics 365: the Teams provider setting, the number's row and its voice channel.
    Dynamics365,
    /// Teams lets the ACS resource in: ACS federation and its allow-list.
    AcsFederation,
    /// The agent's effective external access policy allows ACS.
    ExternalAccess,
    /// No information barrier separates the agent from the resource account.
    InformationBarriers,
    /// The agent: enabled, licensed, Enterprise Voice, TeamsOnly.
    Agent,
}

impl HopKind {
    /// Every hop, in call order.
    pub const ALL: [HopKind; 7] = [
        HopKind::Number,
        HopKind::ResourceAccount,
        HopKind::Dynamics365,
        HopKind::AcsFederation,
        HopKind::ExternalAccess,
        HopKind::InformationBarriers,
        HopKind::Agent,
    ];

    /// Whether the hop belongs to the agent's leg of the path (it differs per agent).
    pub fn is_agent_leg(self) -> bool {
        matches!(
            self,
            HopKind::ExternalAccess | HopKind::InformationBarriers | HopKind::Agent
        )
    }

    /// The hop's name as check YAML and JSON spell it (`resource-account`).
    pub fn name(self) -> &'static str {
        match self {
            HopKind::Number => "number",
            HopKind::ResourceAccount => "resource-account",
            HopKind::Dynamics365 => "dynamics365",
            HopKind::AcsFederation => "acs-federation",
            HopKind::ExternalAccess => "external-access",
            HopKind::InformationBarriers => "information-barriers",
            HopKind::Agent => "agent",
        }
    }

    /// The hop named `name` (as [`HopKind::name`] spells it).
    pub fn from_name(name: &str) -> Option<HopKind> {
        HopKind::ALL.into_iter().find(|h| h.name() == name)
    }

    /// A short title for the hop ("Number", "Resource account", ...).
    pub fn title(self) -> &'static str {
        match self {
            HopKind::Number => "Number",
            HopKind::ResourceAccount => "Resource account",
            HopKind::Dynamics365 => "Dynamics 365",
            HopKind::AcsFederation => "ACS federation",
            HopKind::ExternalAccess => "External access",
            HopKind::InformationBarriers => "Information barriers",
            HopKind::Agent => "Agent",
        }
    }
}

/// A hop's verdict: the worst of the results that decide it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HopStatus {
    /// A deciding check failed or found something missing: the call breaks here.
    Broken,
    /// A deciding check could not read its data; `HopCheck::needs` names what to grant.
    Unknown,
    /// The model has no join to this hop (for example which voice queue serves a number).
    NotTraced,
    /// Every deciding check passed (or was skipped as not applicable).
    Clear,
}

/// One check result that decides a hop.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HopCheck {
    pub check: String,
    pub status: Status,
    /// The result's message: the value seen, in one line.
    pub evidence: String,
    /// For unknown: the permission or role that would make the data readable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub needs: Option<String>,
    /// Index of the result in `Report::results`, for links to it.
    pub result: usize,
}

/// One hop of one path.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hop {
    pub kind: HopKind,
    /// What the hop is on this path: the number, the resource account's UPN, the ACS resource's
    /// immutable id, the agent's UPN.
    pub label: String,
    pub status: HopStatus,
    /// The results that decide the hop, worst first.
    pub checks: Vec<HopCheck>,
    /// Why the hop is not traced, or other context in one line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The fix, on the first broken hop of a path only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// An agent who can receive the number's calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentRef {
    pub id: String,
    pub upn: String,
}

/// The part of the path that differs per agent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentLeg {
    pub agent: AgentRef,
    /// The agent-leg hops (`HopKind::is_agent_leg`), in call order.
    pub hops: Vec<Hop>,
}

/// The path of calls on one number: the hops every call shares, then one leg per agent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallPath {
    /// The number in E.164 (`+14255550150`).
    pub number: String,
    /// The hops before the agent (`!HopKind::is_agent_leg`), in call order.
    pub hops: Vec<Hop>,
    /// The agents traced: one with `--agent`, otherwise every agent the audit covers.
    pub agents: Vec<AgentLeg>,
    /// Why no agent is traced (no agents named for the audit, or they could not be read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agents_note: Option<String>,
}
