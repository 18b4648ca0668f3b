//! Contact-center agents: the users named for the audit, resolved against the directory.

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
    pub display_name: Option<String>,
    /// Whether the directory has this user.
    pub found: bool,
}

/// Resolves the snapshot's agent selection against the directory users.
pub fn normalize(snapshot: &Snapshot, directory: &Directory) -> Fact<Vec<Agent>> {
    let Some(selection) = &snapshot.agents else {
        return Fact::not_requested(HOW_TO_NAME_AGENTS);
    };
    if selection.users.is_empty() {
        return Fact::not_requested(HOW_TO_NAME_AGENTS);
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
                display_name: user.and_then(|u| u.display_name.clone()),
                found: user.is_some(),
            }
        })
        .collect();
    Fact::Available(agents)
}
