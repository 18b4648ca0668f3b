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

    fn run(
        users: Vec<(String, TeamsUser)>,
        policies: Vec<(String, ExternalAccessPolicy)>,
    ) -> BTreeMap<String, ExternalAccess> {
        let people = [
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
        derive(
            &people,
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
