//! The effective external access policy of each agent and contact-center resource account, and
//! whether it lets ACS add that user to a call (`EnableAcsFederationAccess`).
//!
//! Teams applies the policy a user's record names (an assignment, else Global). A user without a
//! Teams user record has an effective policy nobody can name; it is still known to allow ACS when
//! every policy does. Anything the sources did not send makes the answer unknown, naming the
//! field, never a default.

use std::collections::BTreeMap;

use serde::Serialize;

use super::answer::Answer;
use super::fact::Fact;
use super::teams::{ExternalAccessPolicy, TeamsUser};

/// One user's effective external access policy (`tenant.teams.external_access[id]`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExternalAccess {
    /// Object id (lower-case GUID).
    pub id: String,
    /// UPN (the Teams record's, else the directory's).
    pub upn: String,
    /// `agent` or `resource account`.
    pub kind: String,
    /// Identity of the effective policy (`Global`, `Tag:Name`); `null` when it cannot be named
    /// (no Teams user record, an absent assignment, a policy that was not collected).
    pub policy: Option<String>,
    /// Whether the effective policy has EnableAcsFederationAccess True, or why that is unknown.
    pub allows_acs: Answer,
}

/// A user to derive for: object id, UPN and kind.
pub struct Person<'a> {
    pub id: &'a str,
    pub upn: &'a str,
    pub kind: &'a str,
}

/// The effective policy of every person; unavailable when the users or policies are.
pub fn derive(
    people: &[Person<'_>],
    users: &Fact<BTreeMap<String, TeamsUser>>,
    policies: &Fact<BTreeMap<String, ExternalAccessPolicy>>,
) -> Fact<BTreeMap<String, ExternalAccess>> {
    let (users, policies) = match (users, policies) {
        (Fact::Available(u), Fact::Available(p)) => (u, p),
        (Fact::Unavailable(u), _) | (_, Fact::Unavailable(u)) => return Fact::dependency(u),
    };
    Fact::Available(
        people
            .iter()
            .map(|p| (p.id.to_string(), effective(p, users.get(p.id), policies)))
            .collect(),
    )
}

/// One person's effective policy; `user` is `None` when Teams has no record for them.
fn effective(
    person: &Person<'_>,
    user: Option<&TeamsUser>,
    policies: &BTreeMap<String, ExternalAccessPolicy>,
) -> ExternalAccess {
    let upn = user
        .and_then(|u| u.upn.clone())
        .unwrap_or_else(|| person.upn.to_string());
    let (policy, allows_acs) = match user {
        Some(user) => match &user.external_access_policy {
            None => (
                None,
                Answer::missing("external_access_policy", &upn, "external access policy"),
            ),
            Some(key) => match policies.get(key) {
                None => (
                    None,
                    Answer::unknown(format!(
                        "effective external access policy '{key}' of {upn} is not among the collected policies"
                    )),
                ),
                Some(p) => (Some(p.identity.clone()), allows(p)),
            },
        },
        None => (None, every_policy_allows(&upn, policies)),
    };
    ExternalAccess {
        id: person.id.to_string(),
        upn,
        kind: person.kind.to_string(),
        policy,
        allows_acs,
    }
}

fn allows(policy: &ExternalAccessPolicy) -> Answer {
    match policy.enable_acs_federation_access {
        Some(b) => Answer::Known(b),
        None => Answer::missing(
            "enable_acs_federation_access",
            &policy.identity,
            "EnableAcsFederationAccess",
        ),
    }
}

/// Without a Teams user record: true when every policy allows ACS, since the effective one is
/// among them; unknown when one does not (it may be this user's) or does not say.
fn every_policy_allows(upn: &str, policies: &BTreeMap<String, ExternalAccessPolicy>) -> Answer {
    let answers: Vec<Answer> = policies.values().map(allows).collect();
    if answers.contains(&Answer::Known(false)) {
        return Answer::unknown(format!(
            "{upn} has no Teams user record (teams.users), so its effective external access policy is unknown, and not every policy allows ACS"
        ));
    }
    answers
        .into_iter()
        .find(|a| *a != Answer::Known(true))
        .unwrap_or(Answer::Known(true))
}

/// An external access policy that blocks ACS, or may (its EnableAcsFederationAccess was not
/// reported), with the named agents and contact-center resource accounts whose effective policy
/// it is (`tenant.teams.acs_blocking_policies`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BlockingPolicy {
    /// Key into `teams.external_access_policies` (lower-case, without `Tag:`).
    pub key: String,
    /// As returned: `Global` or `Tag:Name`.
    pub identity: String,
    /// Without `Tag:`, case kept.
    pub name: String,
    /// Who has it as their effective policy, sorted by kind then UPN.
    pub holders: Vec<Holder>,
    /// UPNs of the agents among `holders`.
    pub agents: Vec<String>,
    /// UPNs of the resource accounts among `holders`.
    pub resource_accounts: Vec<String>,
    /// True when nobody named holds it; false when someone does; unknown when the policy's
    /// setting was not reported, or nobody is known to hold it but someone's assignment was
    /// not reported (it may be theirs).
    pub held_by_nobody: Answer,
}

/// One agent or resource account holding a policy.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Holder {
    /// `agent` or `resource account`.
    pub kind: String,
    pub upn: String,
}

/// Whose effective policy is which: the policy key, or why it cannot be named.
enum Holds {
    Policy(String),
    /// Teams knows no such user (`teams.users_not_found`): they hold no policy.
    NotATeamsUser,
    /// The assignment, or the whole user record, was not reported.
    Unreported(Answer),
}

/// The policies that block ACS (or do not say) with their holders among `people`; unavailable
/// when the users or policies are. `not_found` lists the users Teams answered it does not know.
pub fn blocking_policies(
    people: &[Person<'_>],
    users: &Fact<BTreeMap<String, TeamsUser>>,
    not_found: &[String],
    policies: &Fact<BTreeMap<String, ExternalAccessPolicy>>,
) -> Fact<Vec<BlockingPolicy>> {
    let (users, policies) = match (users, policies) {
        (Fact::Available(u), Fact::Available(p)) => (u, p),
        (Fact::Unavailable(u), _) | (_, Fact::Unavailable(u)) => return Fact::dependency(u),
    };
    let holds: Vec<(&Person<'_>, Holds)> = people
        .iter()
        .map(|p| (p, holds(p, users.get(p.id), not_found)))
        .collect();
    Fact::Available(
        policies
            .iter()
            .filter(|(_, p)| p.enable_acs_federation_access != Some(true))
            .map(|(key, policy)| blocking(key, policy, &holds))
            .collect(),
    )
}

fn holds(person: &Person<'_>, user: Option<&TeamsUser>, not_found: &[String]) -> Holds {
    match user {
        Some(user) => match &user.external_access_policy {
            Some(key) => Holds::Policy(key.clone()),
            None => {
                let upn = user.upn.as_deref().unwrap_or(person.upn);
                Holds::Unreported(Answer::missing(
                    "external_access_policy",
                    upn,
                    "external access policy",
                ))
            }
        },
        None if not_found.iter().any(|id| id == person.id) => Holds::NotATeamsUser,
        None => Holds::Unreported(match super::absence::kept(person.id, &[person.upn]) {
            Some(a) => Answer::absent(&a),
            None => Answer::unknown(format!("no Teams user record was read for {}", person.upn)),
        }),
    }
}

fn blocking(
    key: &str,
    policy: &ExternalAccessPolicy,
    holds: &[(&Person<'_>, Holds)],
) -> BlockingPolicy {
    let mut holders: Vec<Holder> = holds
        .iter()
        .filter(|(_, h)| matches!(h, Holds::Policy(k) if k == key))
        .map(|(p, _)| Holder {
            kind: p.kind.to_string(),
            upn: p.upn.to_string(),
        })
        .collect();
    holders.sort();
    holders.dedup();
    let upns = |kind: &str| -> Vec<String> {
        holders
            .iter()
            .filter(|h| h.kind == kind)
            .map(|h| h.upn.clone())
            .collect()
    };
    let unreported: Vec<&Answer> = holds
        .iter()
        .filter_map(|(_, h)| match h {
            Holds::Unreported(a) => Some(a),
            _ => None,
        })
        .collect();
    let held_by_nobody = match (allows(policy), holders.is_empty(), unreported.first()) {
        (Answer::Known(_), false, _) => Answer::Known(false),
        (Answer::Known(_), true, None) => Answer::Known(true),
        (Answer::Known(_), true, Some(first)) => {
            might_hold(&policy.identity, first, unreported.len())
        }
        (unknown, _, _) => unknown,
    };
    BlockingPolicy {
        key: key.to_string(),
        identity: policy.identity.clone(),
        name: policy.name.clone(),
        agents: upns("agent"),
        resource_accounts: upns("resource account"),
        holders,
        held_by_nobody,
    }
}

/// Nobody is known to hold `identity`, but `count` people's assignments were not reported:
/// the first one's reason, naming the field and the record, and how many more.
fn might_hold(identity: &str, first: &Answer, count: usize) -> Answer {
    let Answer::Unknown { unknown, absent_in } = first else {
        return first.clone();
    };
    let more = match count {
        1 => String::new(),
        n => format!(" (and {} more agents or resource accounts)", n - 1),
    };
    Answer::Unknown {
        unknown: format!(
            "{unknown}{more}, so whether {identity} is their effective policy is unknown"
        ),
        absent_in: absent_in.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(identity: &str, acs: Option<bool>) -> (String, ExternalAccessPolicy) {
        let name = identity.trim_start_matches("Tag:");
        (
            name.to_ascii_lowercase(),
            ExternalAccessPolicy {
                identity: identity.into(),
                name: name.into(),
                enable_acs_federation_access: acs,
                enable_federation_access: None,
                enable_teams_consumer_access: None,
                communication_with_external_orgs: None,
            },
        )
    }

    fn user(id: &str, policy: Option<&str>) -> (String, TeamsUser) {
        (
            id.into(),
            TeamsUser {
                id: id.into(),
                upn: Some(format!("{id}@contoso.com")),
                account_type: None,
                enterprise_voice_enabled: None,
                feature_types: None,
                teams_upgrade_effective_mode: None,
                external_access_policy: policy.map(str::to_string),
                online_voice_routing_policy: None,
                effective_policies: BTreeMap::new(),
            },
        )
    }

    /// An agent `a` and a resource account `b`.
    const PEOPLE: [Person<'static>; 2] = [
        Person {
            id: "a",
            upn: "a@contoso.com",
            kind: "agent",
        },
        Person {
            id: "b",
            upn: "b@contoso.com",
            kind: "resource account",
        },
    ];

    fn run(
        users: Vec<(String, TeamsUser)>,
        policies: Vec<(String, ExternalAccessPolicy)>,
    ) -> BTreeMap<String, ExternalAccess> {
        derive(
            &PEOPLE,
            &Fact::Available(users.into_iter().collect()),
            &Fact::Available(policies.into_iter().collect()),
        )
        .value()
        .cloned()
        .expect("available")
    }

    #[test]
    fn the_assigned_policy_decides() {
        let r = run(
            vec![user("a", Some("global")), user("b", Some("fedonly"))],
            vec![
                policy("Global", Some(true)),
                policy("Tag:FedOnly", Some(false)),
            ],
        );
        assert_eq!(r["a"].allows_acs, Answer::Known(true));
        assert_eq!(r["a"].policy.as_deref(), Some("Global"));
        assert_eq!(r["b"].allows_acs, Answer::Known(false));
        assert_eq!(r["b"].policy.as_deref(), Some("Tag:FedOnly"));
        assert_eq!(r["b"].kind, "resource account");
    }

    #[test]
    fn an_absent_setting_or_assignment_is_unknown_not_a_default() {
        let r = run(
            vec![user("a", Some("global")), user("b", None)],
            vec![policy("Global", None)],
        );
        assert!(matches!(r["a"].allows_acs, Answer::Unknown { .. }));
        assert!(matches!(r["b"].allows_acs, Answer::Unknown { .. }));
        assert_eq!(r["b"].policy, None);
    }

    #[test]
    fn a_policy_that_was_not_collected_is_unknown() {
        let r = run(
            vec![user("a", Some("gone"))],
            vec![policy("Global", Some(true))],
        );
        let Answer::Unknown { unknown, .. } = &r["a"].allows_acs else {
            panic!("unknown expected")
        };
        assert!(unknown.contains("'gone'"), "{unknown}");
    }

    #[test]
    fn without_a_record_every_policy_must_allow_acs() {
        let all_allow = run(vec![], vec![policy("Global", Some(true))]);
        assert_eq!(all_allow["a"].allows_acs, Answer::Known(true));
        let one_blocks = run(
            vec![],
            vec![policy("Global", Some(true)), policy("Tag:X", Some(false))],
        );
        let Answer::Unknown { unknown, .. } = &one_blocks["a"].allows_acs else {
            panic!("unknown expected")
        };
        assert!(unknown.contains("no Teams user record"), "{unknown}");
        let one_silent = run(
            vec![],
            vec![policy("Global", Some(true)), policy("Tag:X", None)],
        );
        assert!(matches!(one_silent["a"].allows_acs, Answer::Unknown { .. }));
    }

    fn blocking_of(
        users: Vec<(String, TeamsUser)>,
        not_found: &[&str],
        policies: Vec<(String, ExternalAccessPolicy)>,
    ) -> Vec<BlockingPolicy> {
        let not_found: Vec<String> = not_found.iter().map(|s| s.to_string()).collect();
        blocking_policies(
            &PEOPLE,
            &Fact::Available(users.into_iter().collect()),
            &not_found,
            &Fact::Available(policies.into_iter().collect()),
        )
        .value()
        .cloned()
        .expect("available")
    }

    #[test]
    fn a_blocking_policy_lists_its_holders_and_allowing_ones_are_left_out() {
        let r = blocking_of(
            vec![user("a", Some("fedonly")), user("b", Some("fedonly"))],
            &[],
            vec![
                policy("Global", Some(true)),
                policy("Tag:FedOnly", Some(false)),
                policy("Tag:Unused", Some(false)),
            ],
        );
        assert_eq!(r.len(), 2, "{r:?}");
        let fed = &r[0];
        assert_eq!(fed.identity, "Tag:FedOnly");
        assert_eq!(fed.held_by_nobody, Answer::Known(false));
        assert_eq!(fed.agents, ["a@contoso.com"]);
        assert_eq!(fed.resource_accounts, ["b@contoso.com"]);
        assert_eq!(fed.holders[0].kind, "agent");
        assert_eq!(r[1].held_by_nobody, Answer::Known(true));
        assert!(r[1].holders.is_empty());
    }

    #[test]
    fn an_unreported_assignment_makes_an_unheld_policy_unknown_but_not_a_held_one() {
        let r = blocking_of(
            vec![user("a", Some("fedonly")), user("b", None)],
            &[],
            vec![
                policy("Tag:FedOnly", Some(false)),
                policy("Tag:Other", Some(false)),
            ],
        );
        assert_eq!(r[0].held_by_nobody, Answer::Known(false), "a holds it");
        let Answer::Unknown { unknown, .. } = &r[1].held_by_nobody else {
            panic!("unknown expected: {:?}", r[1])
        };
        assert!(
            unknown.contains("external access policy") && unknown.contains("b@contoso.com"),
            "{unknown}"
        );
        assert!(unknown.contains("Tag:Other"), "{unknown}");
    }

    #[test]
    fn a_user_teams_does_not_know_holds_nothing_but_one_not_read_may() {
        let policies = || vec![policy("Tag:FedOnly", Some(false))];
        let known = blocking_of(vec![user("a", Some("global"))], &["b"], policies());
        assert_eq!(known[0].held_by_nobody, Answer::Known(true));
        let unread = blocking_of(vec![user("a", Some("global"))], &[], policies());
        let Answer::Unknown { unknown, .. } = &unread[0].held_by_nobody else {
            panic!("unknown expected")
        };
        assert!(unknown.contains("b@contoso.com"), "{unknown}");
    }

    #[test]
    fn a_policy_that_does_not_say_whether_it_blocks_is_unknown() {
        let r = blocking_of(
            vec![user("a", Some("silent")), user("b", Some("global"))],
            &[],
            vec![policy("Global", Some(true)), policy("Tag:Silent", None)],
        );
        assert_eq!(r.len(), 1);
        assert!(matches!(r[0].held_by_nobody, Answer::Unknown { .. }));
        assert_eq!(r[0].agents, ["a@contoso.com"]);
    }

    #[test]
    fn unreadable_users_make_the_fact_unavailable() {
        let f = derive(
            &[],
            &Fact::Unavailable(crate::model::Unavailable {
                kind: crate::model::UnavailableKind::Forbidden,
                reason: "403".into(),
                needs: None,
                sources: vec![],
            }),
            &Fact::Available(BTreeMap::new()),
        );
        assert!(f.value().is_none());
    }
}
