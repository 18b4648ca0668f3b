//! Contact-center agents: the users named for the audit, resolved against the directory.

use crate::fact_key::FactKey;
use serde::Serialize;

use super::directory::Directory;
use super::fact::Fact;
use crate::snapshot::Snapshot;

/// What to tell a user whose audit named no agents.
pub const HOW_TO_NAME_AGENTS: &str = "no agents were named for this audit: collect with --agents UPN,... or --agent-group GROUP_ID (or give Dataverse access so agents are found in voice queues)";

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Agent {
    /// As named (UPN or object id).
    pub key: String,
    /// Lower-case object id, when found in the directory.
    pub id: Option<String>,
    pub upn: Option<String>,
    /// The UPN when found, else the key as named: what a report calls the agent.
    pub name: String,
    pub display_name: Option<String>,
    /// Whether the directory has this user.
    pub found: bool,
}

/// The snapshot fact that lists the voice-queue members when agents were found in Dataverse.
pub const VOICE_QUEUE_MEMBERS: FactKey = FactKey::DataverseSystemUsers;

/// Resolves the snapshot's agent selection against the directory users.
pub fn normalize(snapshot: &Snapshot, directory: &Directory) -> Fact<Vec<Agent>> {
    let Some(selection) = &snapshot.agents else {
        // Agents were looked for in Dataverse and could not be read: say why.
        let reason = match snapshot
            .facts
            .get(VOICE_QUEUE_MEMBERS.as_str())
            .and_then(|f| f.error.as_ref())
        {
            Some(e) => format!(
                "no agents were named, and the voice-queue members could not be read from Dataverse ({}): collect with --agents UPN,... or --agent-group GROUP_ID",
                e.message
            ),
            None => HOW_TO_NAME_AGENTS.to_string(),
        };
        return Fact::not_requested(reason);
    };
    if selection.users.is_empty() {
        return Fact::not_requested(if selection.source == "dataverse" {
            "no enabled user is a member of a voice queue in Dataverse: name the agents with --agents UPN,... or --agent-group GROUP_ID"
        } else {
            HOW_TO_NAME_AGENTS
        });
    }
    let (users, by_upn) = match (&directory.users, &directory.user_ids_by_upn) {
        (Fact::Available(u), Fact::Available(b)) => (u, b),
        (Fact::Unavailable(u), _) | (_, Fact::Unavailable(u)) => return Fact::dependency(u),
    };
    let agents = selection
        .users
        .iter()
        .map(|given| {
            let key = given.trim().to_ascii_lowercase();
            let id = if users.contains_key(&key) {
                Some(key.clone())
            } else {
                by_upn.get(&key).cloned()
            };
            let user = id.as_ref().and_then(|id| users.get(id));
            Agent {
                key: given.trim().to_string(),
                id: user.map(|u| u.id.clone()),
                upn: user.map(|u| u.upn.clone()),
                name: user.map_or_else(|| given.trim().to_string(), |u| u.upn.clone()),
                display_name: user.and_then(|u| u.display_name.clone()),
                found: user.is_some(),
            }
        })
        .collect();
    Fact::Available(agents)
}
