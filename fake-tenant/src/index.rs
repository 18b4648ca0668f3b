//! The snapshot, indexed once at start so requests never re-parse it.
//!
//! Only the fields the fake needs are read: `tenant_id`, and per fact either `data` or
//! `error {status, code, message}` (docs/snapshot.md). Per-object facts (keyed by lower-case
//! object id or ARM id) get a hash map each; users are indexed by id and UPN.

use crate::fact_key::FactKey;
use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value, json};

/// An error record stored in the snapshot instead of data.
#[derive(Clone, Debug)]
pub(crate) struct FactError {
    pub status: Option<u16>,
    pub code: Option<String>,
    pub message: String,
}

pub(crate) enum Fact {
    Data(Value),
    Error(FactError),
}

/// Facts stored as `{"<lower-case id>": <response>}`.
const KEYED_FACTS: [&str; 5] = [
    FactKey::GraphLicenseDetails.as_str(),
    FactKey::GraphMemberOf.as_str(),
    FactKey::TeamsOnlineUsers.as_str(),
    FactKey::TeamsApplicationInstanceAssociations.as_str(),
    FactKey::ArmEventSubscriptions.as_str(),
];

pub(crate) struct Index {
    pub tenant_id: String,
    /// The snapshot's `agents.users` when the audit named them (`agents.source` is not
    /// `dataverse`): what `--agents` must name for a live audit to read the same agents.
    pub agents: Vec<String>,
    /// Lower-case tenant id and verified domain names.
    tenant_aliases: HashSet<String>,
    facts: HashMap<String, Fact>,
    /// Lower-case fact key -> fact key, for case-insensitive lookups (policy names, cmdlets).
    facts_ci: HashMap<String, String>,
    keyed: HashMap<&'static str, HashMap<String, Value>>,
    users: Vec<Value>,
    /// Lower-case id or UPN -> position in `users`.
    user_by_key: HashMap<String, usize>,
    /// Lower-case UPN -> lower-case id (graph.users, graph.userConfigurations, teams.onlineUsers).
    upn_to_id: HashMap<String, String>,
    /// Lower-case id or UPN -> graph.userConfigurations item.
    user_configs: HashMap<String, Value>,
    /// Lower-case group id -> members (derived from graph.memberOf and graph.users).
    group_members: HashMap<String, Vec<Value>>,
    /// Lower-case ARM ids of the Communication Services resources.
    acs_ids: HashSet<String>,
    /// Lower-case subscription ids, when arm.subscriptions holds data.
    subscriptions: Option<HashSet<String>>,
}

impl Index {
    pub(crate) fn build(snapshot: &Value) -> Result<Index, String> {
        let top = snapshot
            .as_object()
            .ok_or("snapshot: the top level must be a JSON object")?;
        let tenant_id = top
            .get("tenant_id")
            .and_then(Value::as_str)
            .ok_or("snapshot: missing string field `tenant_id`")?
            .to_string();
        // `dataverse`: the agents were found in the voice queues, which a live audit without
        // --agents does again; `cli` and `group`: the users the audit named.
        let agents = match top.get("agents") {
            Some(a) if a.get("source").and_then(Value::as_str) != Some("dataverse") => a
                .get("users")
                .and_then(Value::as_array)
                .map(|users| {
                    users
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        let raw_facts = top
            .get("facts")
            .and_then(Value::as_object)
            .ok_or("snapshot: missing object field `facts`")?;

        let mut facts = HashMap::new();
        for (key, entry) in raw_facts {
            let Some(entry) = entry.as_object() else {
                return Err(format!("snapshot: fact `{key}` must be an object"));
            };
            if let Some(data) = entry.get("data") {
                facts.insert(key.clone(), Fact::Data(data.clone()));
            } else if let Some(err) = entry.get("error") {
                facts.insert(key.clone(), Fact::Error(parse_error(err)));
            }
        }
        let facts_ci = facts
            .keys()
            .map(|k| (k.to_ascii_lowercase(), k.clone()))
            .collect();

        let mut index = Index {
            tenant_aliases: HashSet::from([tenant_id.to_ascii_lowercase()]),
            tenant_id,
            agents,
            facts,
            facts_ci,
            keyed: HashMap::new(),
            users: Vec::new(),
            user_by_key: HashMap::new(),
            upn_to_id: HashMap::new(),
            user_configs: HashMap::new(),
            group_members: HashMap::new(),
            acs_ids: HashSet::new(),
            subscriptions: None,
        };
        index.index_keyed();
        index.index_users();
        index.index_groups();
        index.index_tenant_and_arm();
        Ok(index)
    }

    fn data(&self, key: &str) -> Option<&Value> {
        match self.facts.get(key) {
            Some(Fact::Data(v)) => Some(v),
            _ => None,
        }
    }

    fn index_keyed(&mut self) {
        for key in KEYED_FACTS {
            let mut map = HashMap::new();
            if let Some(obj) = self.data(key).and_then(Value::as_object) {
                for (k, v) in obj {
                    map.insert(k.to_ascii_lowercase(), v.clone());
                }
            }
            self.keyed.insert(key, map);
        }
    }

    fn index_users(&mut self) {
        let users: Vec<Value> = self
            .data(FactKey::GraphUsers.as_str())
            .and_then(|d| d.get("value"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for (i, user) in users.iter().enumerate() {
            let id = str_field(user, "id");
            let upn = str_field(user, "userPrincipalName");
            if let Some(id) = &id {
                self.user_by_key.insert(id.clone(), i);
            }
            if let Some(upn) = &upn {
                self.user_by_key.insert(upn.clone(), i);
                if let Some(id) = &id {
                    self.upn_to_id.insert(upn.clone(), id.clone());
                }
            }
        }
        self.users = users;

        // A `value` list of entities (each possibly the documented per-user body
        // `{"value": {…}}`, as collected from a tenant answering that shape), or per-user
        // bodies keyed by user id. Each is served as stored.
        let configs: Vec<(Option<String>, Value)> =
            match self.data(FactKey::GraphUserConfigurations.as_str()) {
                Some(d) => match d.get("value") {
                    Some(Value::Array(list)) => list.iter().map(|i| (None, i.clone())).collect(),
                    _ => d
                        .as_object()
                        .into_iter()
                        .flatten()
                        .filter(|(k, v)| !k.starts_with('@') && v.is_object())
                        .map(|(k, v)| (Some(k.to_ascii_lowercase()), v.clone()))
                        .collect(),
                },
                None => Vec::new(),
            };
        for (key, item) in configs {
            let entity = item.get("value").filter(|v| v.is_object()).unwrap_or(&item);
            let id = str_field(entity, "id").or(key);
            let upn = str_field(entity, "userPrincipalName");
            if let (Some(id), Some(upn)) = (&id, &upn) {
                self.upn_to_id.entry(upn.clone()).or_insert(id.clone());
            }
            if let Some(upn) = upn {
                self.user_configs.insert(upn, item.clone());
            }
            if let Some(id) = id {
                self.user_configs.insert(id, item);
            }
        }

        let mut online_upns = Vec::new();
        if let Some(online) = self.keyed.get(FactKey::TeamsOnlineUsers.as_str()) {
            for (id, user) in online {
                if let Some(upn) = str_field(user, "UserPrincipalName") {
                    online_upns.push((upn, id.clone()));
                }
            }
        }
        for (upn, id) in online_upns {
            self.upn_to_id.entry(upn).or_insert(id);
        }
    }

    fn index_groups(&mut self) {
        let Some(member_of) = self
            .data(FactKey::GraphMemberOf.as_str())
            .and_then(Value::as_object)
        else {
            return;
        };
        let mut groups: HashMap<String, Vec<Value>> = HashMap::new();
        for (user_id, resp) in member_of {
            let user_id = user_id.to_ascii_lowercase();
            let summary = match self.user_by_key.get(&user_id).map(|&i| &self.users[i]) {
                Some(u) => json!({
                    "@odata.type": "#microsoft.graph.user",
                    "id": u.get("id").cloned().unwrap_or(Value::Null),
                    "userPrincipalName": u.get("userPrincipalName").cloned().unwrap_or(Value::Null),
                    "displayName": u.get("displayName").cloned().unwrap_or(Value::Null),
                }),
                None => json!({"@odata.type": "#microsoft.graph.user", "id": user_id}),
            };
            let Some(list) = resp.get("value").and_then(Value::as_array) else {
                continue;
            };
            for group in list {
                if let Some(gid) = str_field(group, "id") {
                    groups.entry(gid).or_default().push(summary.clone());
                }
            }
        }
        self.group_members = groups;
    }

    fn index_tenant_and_arm(&mut self) {
        let mut aliases = Vec::new();
        if let Some(orgs) = self
            .data(FactKey::GraphOrganization.as_str())
            .and_then(|d| d.get("value"))
            .and_then(Value::as_array)
        {
            for org in orgs {
                for domain in org
                    .get("verifiedDomains")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(name) = str_field(domain, "name") {
                        aliases.push(name);
                    }
                }
            }
        }
        self.tenant_aliases.extend(aliases);

        let acs: HashSet<String> = self
            .data(FactKey::ArmCommunicationServices.as_str())
            .and_then(|d| d.get("value"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|r| str_field(r, "id"))
            .collect();
        self.acs_ids = acs;

        self.subscriptions = self
            .data(FactKey::ArmSubscriptions.as_str())
            .and_then(|d| d.get("value"))
            .and_then(Value::as_array)
            .map(|subs| {
                subs.iter()
                    .filter_map(|s| str_field(s, "subscriptionId"))
                    .collect()
            });
    }

    /// The fact stored under `key` (exact key).
    pub(crate) fn fact(&self, key: &str) -> Option<&Fact> {
        self.facts.get(key)
    }

    /// The fact whose key equals `key` ignoring ASCII case; returns the stored key too.
    pub(crate) fn fact_ci(&self, key: &str) -> Option<(&str, &Fact)> {
        let real = self.facts_ci.get(&key.to_ascii_lowercase())?;
        self.facts.get(real).map(|f| (real.as_str(), f))
    }

    /// A value of a per-object fact; `id` may be an id or (for user facts) a UPN.
    pub(crate) fn keyed(&self, fact: &str, id: &str) -> Option<&Value> {
        let map = self.keyed.get(fact)?;
        let id = id.to_ascii_lowercase();
        if let Some(v) = map.get(&id) {
            return Some(v);
        }
        let resolved = self.upn_to_id.get(&id)?;
        map.get(resolved)
    }

    /// A graph.users item by id or UPN.
    pub(crate) fn user(&self, key: &str) -> Option<&Value> {
        self.user_by_key
            .get(&key.to_ascii_lowercase())
            .map(|&i| &self.users[i])
    }

    /// Whether the user is known anywhere in the snapshot (users list or a per-user fact).
    pub(crate) fn user_known(&self, key: &str) -> bool {
        let key = key.to_ascii_lowercase();
        let id = self.upn_to_id.get(&key).cloned().unwrap_or(key);
        self.user_by_key.contains_key(&id)
            || self.user_configs.contains_key(&id)
            || KEYED_FACTS[..4]
                .iter()
                .any(|f| self.keyed.get(f).is_some_and(|m| m.contains_key(&id)))
    }

    pub(crate) fn user_config(&self, key: &str) -> Option<&Value> {
        self.user_configs.get(&key.to_ascii_lowercase())
    }

    pub(crate) fn group_members(&self, group_id: &str) -> Option<&Vec<Value>> {
        self.group_members.get(&group_id.to_ascii_lowercase())
    }

    pub(crate) fn acs_known(&self, arm_id: &str) -> bool {
        self.acs_ids.contains(&arm_id.to_ascii_lowercase())
    }

    /// `None` when the subscription list is not in the snapshot (then any id is accepted).
    pub(crate) fn subscription_known(&self, sub: &str) -> Option<bool> {
        self.subscriptions
            .as_ref()
            .map(|s| s.contains(&sub.to_ascii_lowercase()))
    }

    /// Whether `name` is this tenant (id or verified domain), or a multi-tenant alias.
    pub(crate) fn is_tenant(&self, name: &str) -> bool {
        let name = name.to_ascii_lowercase();
        self.tenant_aliases.contains(&name) || name == "organizations" || name == "common"
    }
}

fn parse_error(err: &Value) -> FactError {
    FactError {
        status: err
            .get("status")
            .and_then(Value::as_u64)
            .and_then(|s| u16::try_from(s).ok()),
        code: err.get("code").and_then(Value::as_str).map(str::to_string),
        message: err
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("error recorded in the snapshot")
            .to_string(),
    }
}

/// A string field, lower-cased.
fn str_field(v: &Value, name: &str) -> Option<String> {
    v.get(name)
        .and_then(Value::as_str)
        .map(|s| s.to_ascii_lowercase())
}

/// Copies every member except the paging ones, for building a page.
pub(crate) fn without_paging(obj: &Map<String, Value>, array_key: &str) -> Map<String, Value> {
    obj.iter()
        .filter(|(k, _)| {
            k.as_str() != array_key
                && !matches!(
                    k.as_str(),
                    "@odata.nextLink" | "nextLink" | "skipToken" | "@odata.count"
                )
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}
