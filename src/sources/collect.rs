//! Live collection: reads a tenant over Graph, the Teams admin API, ARM, Dataverse and
//! Security & Compliance, and produces exactly the [`Snapshot`] an offline audit reads.
//!
//! Producing the snapshot (rather than feeding the model directly) is deliberate: a live audit
//! and `ccaudit audit --snapshot` of the saved file then go through the same normalizers and
//! checks, so they cannot disagree, and a saved live run is a complete regression case.
//!
//! # Shape of a run
//!
//! * Sign in to Graph first: a refused credential is one usage error, not thirty unknown facts.
//! * Independent services run concurrently (`tokio::join!`); the per-service bound on requests
//!   in flight lives in the [`ReadOnlyClient`].
//! * Dependent reads start as soon as their input is known: the resource-account list feeds the
//!   per-user Graph `$batch` and the Teams per-user reads for those accounts, while the agent
//!   list (from `--agents` / `--agent-group`) feeds the same reads for agents in parallel.
//! * Every fact ends up as data (all pages merged, raw) or as the error that prevented reading
//!   it. One fact failing never stops another; only sign-in and bad input end a run.
//!
//! Per-user facts are all-or-nothing: the normalizers read "no entry for a user" as "nothing
//! there" (no licenses, no groups), so a fact with one failed part is recorded as that error
//! rather than as a map with a silent hole that would turn "could not read" into "fail".

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;
use std::time::SystemTime;

use serde_json::{Value, json};

use super::auth::{AuthError, TokenProvider};
use super::endpoints::{Cloud, Service};
use super::graph::{self, UserPart, UserPartKind};
use super::http::{FetchError, ReadOnlyClient};
use super::run::Run;
pub use super::run::{CollectOptions, NoProgress, Progress};
use super::{arm, compliance, dataverse, teams};
use crate::dates::rfc3339;
use crate::fact_key::FactKey;
use crate::ids as canonical;
use crate::json::str_prop;
use crate::snapshot::{AgentSelection, ErrorCode, SCHEMA_VERSION, Snapshot, SourceError};

/// Why a run could not produce a snapshot at all. Anything else becomes a fact error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CollectError {
    /// The credential was refused (or the token endpoint unreachable) for Graph.
    #[error("sign-in failed: {0}")]
    SignIn(AuthError),
    /// `--agent-group` could not be expanded: the audit cannot check the agents it was asked
    /// to check, so it stops instead of silently skipping them.
    #[error(
        "--agent-group {group}: cannot read the group's members ({detail}); check the id, grant GroupMember.Read.All, or name agents with --agents"
    )]
    AgentGroup { group: String, detail: String },
    /// A flag value that cannot be used in a request.
    #[error("{0}")]
    Input(String),
}

/// Reads the tenant and returns its snapshot.
///
/// `tokens` is the provider the client signs in with; it is asked for a Graph token up front
/// so a refused credential ends the run with one clear error.
pub async fn collect(
    client: &ReadOnlyClient,
    tokens: &TokenProvider,
    options: &CollectOptions,
    progress: &dyn Progress,
) -> Result<Snapshot, CollectError> {
    validate(options)?;
    if let Some(audience) = client.endpoints().audience(Service::Graph) {
        let method = tokens.credential().method();
        let at = match method {
            super::auth::AuthMethod::AzureCli => "az".to_string(),
            _ => {
                let login = tokens.login();
                let host = login.host_str().unwrap_or("login");
                match login.port() {
                    Some(port) => format!("{host}:{port}"),
                    None => host.to_string(),
                }
            }
        };
        progress.signing_in(method.as_str(), &at);
        let signed_in = tokens.token(&audience).await;
        progress.signed_in();
        signed_in.map_err(CollectError::SignIn)?;
    }
    let run = Run::new(client, options, progress);
    let people = People::default();
    let dataverse = dataverse::collect(&run);
    let ((), (), (), (), (), (), agents) = tokio::try_join!(
        unit(graph::tenant_wide(&run)),
        unit(numbers(&run)),
        unit(teams::policies(&run)),
        unit(arm::collect(&run)),
        unit(dataverse),
        unit(compliance::collect(&run, tokens.credential().sign_in())),
        people_branches(&run, &people),
    )?;
    people.record(&run, agents.is_some());
    let org = graph::org(&run).await.clone();
    let facts = run.facts.into_inner().unwrap_or_else(|p| p.into_inner());
    Ok(Snapshot {
        schema_version: SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        collected_at: rfc3339(SystemTime::now()),
        tenant_id: org
            .tenant_id
            .unwrap_or_else(|| options.tenant.to_ascii_lowercase()),
        tenant_name: org.display_name,
        cloud: client.endpoints().cloud().as_str().to_string(),
        agents,
        sign_in: Some(tokens.credential().sign_in()),
        facts,
    })
}

async fn unit(f: impl Future<Output = ()>) -> Result<(), CollectError> {
    f.await;
    Ok(())
}

/// Refuses flag values that cannot go into a URL path before anything is sent.
fn validate(options: &CollectOptions) -> Result<(), CollectError> {
    if let Some(group) = &options.agent_group
        && !canonical::is_guid(group.trim())
    {
        return Err(CollectError::Input(format!(
            "--agent-group `{group}` is not a group object id (a GUID)"
        )));
    }
    for sub in &options.subscriptions {
        if !canonical::is_guid(sub.trim()) {
            return Err(CollectError::Input(format!(
                "--subscription `{sub}` is not a subscription id (a GUID)"
            )));
        }
    }
    for agent in &options.agents {
        let a = agent.trim();
        if a.is_empty() || a.len() > 256 || a.chars().any(|c| c.is_control() || c == '/') {
            return Err(CollectError::Input(format!(
                "--agents `{agent}` is not a UPN or object id"
            )));
        }
    }
    Ok(())
}

/// Numbers: Graph numberAssignments, or the Teams telephone-number API where Graph's does not
/// exist (national clouds) or refuses (403/404/400), as apis.md B.6 recommends.
async fn numbers(run: &Run<'_>) {
    let graph_available = matches!(run.cloud(), Cloud::Public | Cloud::Gcc);
    let fall_back = if graph_available {
        match graph::number_assignments(run).await {
            Ok(()) => false,
            Err(status) => matches!(status, Some(400 | 401 | 403 | 404)),
        }
    } else {
        run.record_error(
            FactKey::GraphNumberAssignments,
            &run.label(
                Service::Graph,
                graph::NUMBER_ASSIGNMENTS_PATH,
            ),
            SourceError {
                status: None,
                code: Some(ErrorCode::NotSupportedInCloud),
                message: format!(
                    "Graph numberAssignments is not available in the {} cloud; numbers are read from the Teams telephone-number API",
                    run.cloud()
                ),
            },
        );
        true
    };
    if fall_back {
        teams::telephone_numbers(run).await;
    }
}

/// The resource-account branch and the agent branch, side by side; returns the agent selection.
async fn people_branches(
    run: &Run<'_>,
    people: &People,
) -> Result<Option<AgentSelection>, CollectError> {
    let ((), agents) = tokio::join!(
        resource_account_branch(run, people),
        agent_branch(run, people)
    );
    agents
}

/// Resource accounts (Graph, else Teams application instances), then their per-user data.
async fn resource_account_branch(run: &Run<'_>, people: &People) {
    let ids = match graph::resource_accounts(run).await {
        Some(ids) => Some(ids),
        None => teams::application_instances(run).await,
    };
    let Some(ids) = ids else {
        people.lock().ra_list_unavailable = true;
        return;
    };
    let graph_parts = people.claim(
        &ids,
        &[
            UserPartKind::User,
            UserPartKind::LicenseDetails,
            UserPartKind::MemberOf,
        ],
    );
    let online = people.claim_teams(&ids, TeamsPart::OnlineUser);
    let assoc = people.claim_teams(&ids, TeamsPart::Association);
    tokio::join!(
        graph_user_parts(run, people, graph_parts),
        teams_user_parts(run, people, TeamsPart::OnlineUser, online),
        teams_user_parts(run, people, TeamsPart::Association, assoc),
    );
}

/// Agents: named (`--agents`) and/or group members (`--agent-group`), or else the members of
/// the Dataverse voice queues, resolved to ids, then their per-user data. `None` when none
/// were named and Dataverse could not say.
async fn agent_branch(
    run: &Run<'_>,
    people: &People,
) -> Result<Option<AgentSelection>, CollectError> {
    let options = run.options;
    let mut keys: Vec<String> = Vec::new();
    let mut seen = HashSet::new();
    let mut add = |k: &str, keys: &mut Vec<String>| {
        let k = k.trim();
        if !k.is_empty() && seen.insert(k.to_ascii_lowercase()) {
            keys.push(k.to_string());
        }
    };
    for a in &options.agents {
        add(a, &mut keys);
    }
    if let Some(group) = &options.agent_group {
        let members = graph::group_members(run, group.trim()).await.map_err(|e| {
            CollectError::AgentGroup {
                group: group.clone(),
                detail: e.to_string(),
            }
        })?;
        for m in members {
            add(&m, &mut keys);
        }
    }
    let selection = match (options.agents.is_empty(), options.agent_group.is_none()) {
        (true, true) => match dataverse::voice_queue_members(run).await {
            Some(members) => {
                for m in members {
                    add(&m, &mut keys);
                }
                "dataverse"
            }
            None => return Ok(None),
        },
        (false, true) => "cli",
        (true, false) => "group",
        (false, false) => "cli+group",
    };
    let selection = AgentSelection {
        source: selection.to_string(),
        users: keys.clone(),
    };

    // Phase 1: the user objects (a UPN resolves to its id here).
    let mut ids: Vec<String> = Vec::new();
    let mut lookups = Vec::new();
    for key in &keys {
        match canonical::guid(key) {
            Some(id) => {
                let id = id.to_ascii_lowercase();
                lookups.extend(people.claim(std::slice::from_ref(&id), &[UserPartKind::User]));
                ids.push(id);
            }
            None => lookups.push(UserPart {
                kind: UserPartKind::User,
                key: key.clone(),
            }),
        }
    }
    for id in graph_user_parts(run, people, lookups).await {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }

    // Phase 2: everything keyed by id.
    let graph_parts = people.claim(
        &ids,
        &[
            UserPartKind::LicenseDetails,
            UserPartKind::MemberOf,
            UserPartKind::UserConfiguration,
        ],
    );
    let online = people.claim_teams(&ids, TeamsPart::OnlineUser);
    tokio::join!(
        graph_user_parts(run, people, graph_parts),
        teams_user_parts(run, people, TeamsPart::OnlineUser, online),
    );
    Ok(Some(selection))
}

/// Runs per-user Graph parts through `$batch` and stores the results; returns the ids of the
/// user objects read (how a UPN becomes an id).
async fn graph_user_parts(run: &Run<'_>, people: &People, parts: Vec<UserPart>) -> Vec<String> {
    if parts.is_empty() {
        return Vec::new();
    }
    let results = graph::user_parts(run, parts).await;
    let mut state = people.lock();
    let mut resolved = Vec::new();
    for (part, result) in results {
        let slot = state.graph_slot(part.kind);
        match result {
            Ok(body) => {
                let id = if part.kind == UserPartKind::User {
                    match str_prop(&body, &["id"]) {
                        Some(id) => id.to_ascii_lowercase(),
                        None => {
                            slot.fail(FetchError {
                                endpoint: format!("GET /users/{}", part.key),
                                status: None,
                                code: None,
                                message: "the user object has no `id`".into(),
                            });
                            continue;
                        }
                    }
                } else {
                    part.key.to_ascii_lowercase()
                };
                if part.kind == UserPartKind::User {
                    resolved.push(id.clone());
                }
                slot.entries.insert(id, body);
            }
            // The user (or its Teams configuration) does not exist: nothing to record; the
            // model reports a named agent that is not found.
            Err(e) if e.status == Some(404) => {}
            Err(e) => slot.fail(e),
        }
    }
    resolved
}

/// Per-user reads on the Teams API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TeamsPart {
    /// `Teams.User/users/{id}` (Get-CsOnlineUser).
    OnlineUser,
    /// `Teams.VoiceApps/applicationinstanceassociations/{id}`.
    Association,
}

async fn teams_user_parts(run: &Run<'_>, people: &People, part: TeamsPart, ids: Vec<String>) {
    if ids.is_empty() {
        return;
    }
    let path = |id: &str| match part {
        TeamsPart::OnlineUser => format!("/Teams.User/users/{id}"),
        TeamsPart::Association => format!("/Teams.VoiceApps/applicationinstanceassociations/{id}"),
    };
    let results = teams::get_each(run, ids.iter().map(|id| (id.clone(), path(id))).collect()).await;
    let mut state = people.lock();
    let slot = match part {
        TeamsPart::OnlineUser => &mut state.online,
        TeamsPart::Association => &mut state.associations,
    };
    for (id, result) in results {
        match result {
            Ok(v) => {
                slot.entries.insert(id, v);
            }
            Err(e) if e.status == Some(404) => {
                // No associations is a 404; an online user that does not exist is absent.
                if part == TeamsPart::Association {
                    slot.entries.insert(id, json!([]));
                }
            }
            Err(e) => slot.fail(e),
        }
    }
}

/// Results of one per-user fact while it is being read.
#[derive(Default)]
struct Keyed {
    entries: BTreeMap<String, Value>,
    error: Option<FetchError>,
    claimed: HashSet<String>,
}

impl Keyed {
    fn fail(&mut self, e: FetchError) {
        if self.error.is_none() {
            self.error = Some(e);
        }
    }
}

#[derive(Default)]
struct PeopleState {
    users: Keyed,
    licenses: Keyed,
    member_of: Keyed,
    configs: Keyed,
    online: Keyed,
    associations: Keyed,
    ra_list_unavailable: bool,
}

impl PeopleState {
    fn graph_slot(&mut self, kind: UserPartKind) -> &mut Keyed {
        match kind {
            UserPartKind::User => &mut self.users,
            UserPartKind::LicenseDetails => &mut self.licenses,
            UserPartKind::MemberOf => &mut self.member_of,
            UserPartKind::UserConfiguration => &mut self.configs,
        }
    }
}

/// Per-user facts of resource accounts and agents, filled by both branches. Claims make sure a
/// user who is both (or named twice) is read once.
#[derive(Default)]
struct People(Mutex<PeopleState>);

impl People {
    fn lock(&self) -> std::sync::MutexGuard<'_, PeopleState> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The parts of `kinds` for `ids` not already claimed by the other branch.
    fn claim(&self, ids: &[String], kinds: &[UserPartKind]) -> Vec<UserPart> {
        let mut state = self.lock();
        let mut parts = Vec::new();
        for id in ids {
            for &kind in kinds {
                if state.graph_slot(kind).claimed.insert(id.clone()) {
                    parts.push(UserPart {
                        kind,
                        key: id.clone(),
                    });
                }
            }
        }
        parts
    }

    fn claim_teams(&self, ids: &[String], part: TeamsPart) -> Vec<String> {
        let mut state = self.lock();
        let slot = match part {
            TeamsPart::OnlineUser => &mut state.online,
            TeamsPart::Association => &mut state.associations,
        };
        ids.iter()
            .filter(|id| slot.claimed.insert((*id).clone()))
            .cloned()
            .collect()
    }

    /// Writes the six per-user facts.
    fn record(self, run: &Run<'_>, agents_requested: bool) {
        let state = self.0.into_inner().unwrap_or_else(|p| p.into_inner());
        let graph = run.base(Service::Graph);
        let teams = run.base(Service::Teams);
        let put = |key: FactKey,
                   endpoint: String,
                   slot: Keyed,
                   data: fn(BTreeMap<String, Value>) -> Value| {
            match slot.error {
                Some(e) => run.record(key, &endpoint, Err(e)),
                None => run.record(key, &endpoint, Ok(data(slot.entries))),
            }
        };
        let keyed = |m: BTreeMap<String, Value>| Value::Object(m.into_iter().collect());
        let list =
            |m: BTreeMap<String, Value>| json!({ "value": m.into_values().collect::<Vec<_>>() });
        put(
            FactKey::GraphUsers,
            format!(
                "GET {graph}/v1.0/users/{{id}}?$select={} (via $batch)",
                graph::USER_SELECT
            ),
            state.users,
            list,
        );
        put(
            FactKey::GraphLicenseDetails,
            format!("GET {graph}/v1.0/users/{{id}}/licenseDetails (via $batch)"),
            state.licenses,
            keyed,
        );
        put(
            FactKey::GraphMemberOf,
            format!(
                "GET {graph}/v1.0/users/{{id}}/transitiveMemberOf/microsoft.graph.group?$select={} (via $batch)",
                graph::GROUP_SELECT
            ),
            state.member_of,
            keyed,
        );
        let configs_endpoint =
            format!("GET {graph}/v1.0/admin/teams/userConfigurations/{{id}} (via $batch)");
        if agents_requested {
            put(
                FactKey::GraphUserConfigurations,
                configs_endpoint,
                state.configs,
                list,
            );
        } else {
            // Read for agents only (resource accounts are not returned there); none named.
            run.record(
                FactKey::GraphUserConfigurations,
                &configs_endpoint,
                Ok(json!({"value": []})),
            );
        }
        put(
            FactKey::TeamsOnlineUsers,
            format!("GET {teams}/Teams.User/users/{{id}}"),
            state.online,
            keyed,
        );
        let assoc_endpoint =
            format!("GET {teams}/Teams.VoiceApps/applicationinstanceassociations/{{id}}");
        if state.ra_list_unavailable {
            run.record_error(
                FactKey::TeamsApplicationInstanceAssociations,
                &assoc_endpoint,
                SourceError {
                    status: None,
                    code: Some(ErrorCode::DependencyUnavailable),
                    message: "not read: the resource-account list (graph.resourceAccounts and teams.applicationInstances) is unavailable".into(),
                },
            );
        } else {
            put(
                FactKey::TeamsApplicationInstanceAssociations,
                assoc_endpoint,
                state.associations,
                keyed,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_flag_values_are_refused_before_any_request() {
        let bad = |o: CollectOptions| validate(&o).unwrap_err().to_string();
        let base = CollectOptions {
            tenant: "contoso.onmicrosoft.com".into(),
            ..CollectOptions::default()
        };
        assert!(
            bad(CollectOptions {
                agent_group: Some("../x".into()),
                ..base.clone()
            })
            .contains("--agent-group")
        );
        assert!(
            bad(CollectOptions {
                subscriptions: vec!["nope".into()],
                ..base.clone()
            })
            .contains("--subscription")
        );
        assert!(
            bad(CollectOptions {
                agents: vec!["a/b@contoso.com".into()],
                ..base.clone()
            })
            .contains("--agents")
        );
        assert!(validate(&base).is_ok());
    }
}
