//! The real response shapes: a snapshot whose per-user and number
//! facts arrive in the shapes public callers of the live APIs show is audited to the verdicts of
//! the flat shape the examples store, check by check and subject by subject.
//!
//! The shapes are built from the examples with the fake tenant's `shapes` module (the same
//! functions its switches serve live, see tests/live.rs), each citing its public source:
//!
//! * a. `teams.onlineUsers` as the Teams admin API's REST body, `{"users": [{"objectId",
//!   "userPrincipalName", "accountType", "enterpriseVoiceEnabled", "featureTypes",
//!   "teamsUpgradeEffectiveMode", "effectivePolicyAssignments": [{"policyType",
//!   "policyAssignment": {"displayName", "assignmentType", "policyId"}}]}]}` in camelCase:
//!   terraprovider/go-teams `cs/users.go` (`usersOf`: "The API returns a single
//!   { "users": [ ... ] } envelope") and `cs/users_test.go` (`sampleUsersResult`, "mirrors the
//!   live Get-CsOnlineUser response shape": `objectId`, bare policy names at
//!   `policyAssignment.displayName`, `policyId: "Not Yet Supported."`). Both as one body per user
//!   keyed by user id (what the collector stores for `/Teams.User/users/{id}`) and as one
//!   `{"users": [...]}` list.
//! * b. `graph.userConfigurations` as the documented body of
//!   `GET /admin/teams/userConfigurations/{id}`, `{"value": {"@odata.context": "…/$entity", …}}`
//!   (learn.microsoft.com/graph/api/teamsadministration-teamsuserconfiguration-get; source
//!   microsoft-graph-docs-contrib `api-reference/v1.0/api/teamsadministration-teamsuserconfiguration-get.md`).
//! * c. Teams `telephone-numbers` rows with only `TelephoneNumber`, `TargetId`, `AcquisitionDate`,
//!   the fields KelvinTegelaar/CIPP-API `Invoke-ListTeamsVoice` reads, with Graph
//!   numberAssignments refused so the Teams fallback is read.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, LazyLock};

use ccaudit::engine::check::CheckSet;
use ccaudit::engine::evaluate::{CheckResult, Status};
use ccaudit::engine::{self, cel as celx};
use ccaudit::model::{AuditConfig, TenantModel};
use ccaudit::snapshot::{Snapshot, SourceError, SourceFact};
use fake_tenant::shapes::{
    GlobalPolicies, rest_online_user, rest_user, sparse_telephone_number,
    wrapped_user_configuration,
};
use serde_json::{Map, Value, json};

static CATALOG: LazyLock<(Arc<cel::Env>, CheckSet)> = LazyLock::new(|| {
    let env = celx::environment();
    let set = engine::catalog::load(&env, None).unwrap();
    (env, set)
});

const EXAMPLES: [&str; 2] = ["healthy.snapshot.json", "field-case.snapshot.json"];
const FIELD_CASE: &str = "field-case.snapshot.json";

fn example(name: &str) -> Snapshot {
    Snapshot::load(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples")
            .join(name),
    )
    .expect("the example loads")
}

fn model(snapshot: &Snapshot) -> TenantModel {
    TenantModel::from_snapshot(snapshot, AuditConfig::default())
}

fn audit(snapshot: &Snapshot) -> Vec<CheckResult> {
    let (env, checks) = &*CATALOG;
    engine::evaluate::evaluate(env, checks, &model(snapshot))
}

/// (check, subject id) -> status.
type Verdicts = BTreeMap<(String, String), Status>;

fn verdicts(results: &[CheckResult]) -> Verdicts {
    results
        .iter()
        .map(|r| {
            let subject = r.subject.as_ref().map(|s| s.id.clone()).unwrap_or_default();
            ((r.check.clone(), subject), r.status)
        })
        .collect()
}

/// The (check, subject) pairs whose status differs, one line each, for assertion messages.
fn differences(expected: &Verdicts, got: &Verdicts) -> Vec<String> {
    let mut out = Vec::new();
    for (key, status) in expected {
        match got.get(key) {
            Some(s) if s == status => {}
            Some(s) => out.push(format!(
                "{} [{}]: {} -> {}",
                key.0,
                key.1,
                status.as_str(),
                s.as_str()
            )),
            None => out.push(format!(
                "{} [{}]: {} -> vanished",
                key.0,
                key.1,
                status.as_str()
            )),
        }
    }
    for (key, status) in got {
        if !expected.contains_key(key) {
            out.push(format!("{} [{}]: new, {}", key.0, key.1, status.as_str()));
        }
    }
    out
}

fn assert_same_verdicts(what: &str, flat: &Snapshot, shaped: &Snapshot) {
    let expected = verdicts(&audit(flat));
    let got = verdicts(&audit(shaped));
    let diff = differences(&expected, &got);
    assert!(
        diff.is_empty(),
        "{what}: {} verdicts differ from the flat shape's:\n{}",
        diff.len(),
        diff.join("\n")
    );
}

fn data(snapshot: &Snapshot, key: &str) -> Value {
    snapshot.facts[key]
        .data
        .clone()
        .unwrap_or_else(|| panic!("{key} has data"))
}

fn with_data(snapshot: &Snapshot, key: &str, value: Value) -> Snapshot {
    let mut s = snapshot.clone();
    s.facts.get_mut(key).expect("the fact exists").data = Some(value);
    s
}

fn without(snapshot: &Snapshot, key: &str) -> Snapshot {
    let mut s = snapshot.clone();
    s.facts.remove(key);
    s
}

/// The fact as the service's refusal, as the collector records a 403.
fn refused(snapshot: &Snapshot, key: &str) -> Snapshot {
    let mut s = snapshot.clone();
    let endpoint = s.facts[key].endpoint.clone();
    s.facts.insert(
        key.to_string(),
        SourceFact {
            endpoint,
            data: None,
            error: Some(SourceError {
                status: Some(403),
                code: Some("Forbidden".into()),
                message: "Insufficient privileges to complete the operation.".into(),
            }),
        },
    );
    s
}

fn object(v: &Value) -> &Map<String, Value> {
    v.as_object().expect("an object")
}

// --- the shapes ---------------------------------------------------------------------------------

/// a, keyed: `teams.onlineUsers` as the collector stores `/Teams.User/users/{id}` answers, each
/// the REST body `{"users": [user]}`.
fn rest_keyed(snapshot: &Snapshot, global: GlobalPolicies) -> Snapshot {
    let online = data(snapshot, "teams.onlineUsers");
    let shaped: Map<String, Value> = object(&online)
        .iter()
        .map(|(id, u)| (id.clone(), rest_online_user(u, global)))
        .collect();
    with_data(snapshot, "teams.onlineUsers", Value::Object(shaped))
}

/// a, listed: `teams.onlineUsers` as one REST list response `{"users": [...]}`.
fn rest_listed(snapshot: &Snapshot) -> Snapshot {
    let online = data(snapshot, "teams.onlineUsers");
    let users: Vec<Value> = object(&online)
        .values()
        .map(|u| rest_user(u, GlobalPolicies::Named))
        .collect();
    with_data(snapshot, "teams.onlineUsers", json!({ "users": users }))
}

/// b: `graph.userConfigurations` as the per-user GET answers keyed by user id, each wrapped as
/// documented.
fn wrapped_keyed(snapshot: &Snapshot) -> Snapshot {
    let configs = data(snapshot, "graph.userConfigurations");
    let shaped: Map<String, Value> = configs["value"]
        .as_array()
        .expect("a value list")
        .iter()
        .map(|c| {
            let id = c["id"].as_str().expect("an id").to_string();
            (id, wrapped_user_configuration(c))
        })
        .collect();
    with_data(snapshot, "graph.userConfigurations", Value::Object(shaped))
}

/// b as the collector writes per-user answers today: a `value` list of the bodies it received
/// (src/sources/collect.rs `People::record`, `list`), each `{"value": {…}}`.
fn wrapped_listed(snapshot: &Snapshot) -> Snapshot {
    let configs = data(snapshot, "graph.userConfigurations");
    let bodies: Vec<Value> = configs["value"]
        .as_array()
        .expect("a value list")
        .iter()
        .map(wrapped_user_configuration)
        .collect();
    with_data(
        snapshot,
        "graph.userConfigurations",
        json!({ "value": bodies }),
    )
}

/// c: Teams number rows with only the three fields public callers read.
fn sparse_numbers(snapshot: &Snapshot) -> Snapshot {
    let mut numbers = data(snapshot, "teams.telephoneNumbers");
    for row in numbers["TelephoneNumbers"]
        .as_array_mut()
        .expect("a TelephoneNumbers list")
    {
        *row = sparse_telephone_number(row);
    }
    with_data(snapshot, "teams.telephoneNumbers", numbers)
}

// --- what the field case must keep --------------------------------------------------------------

fn status_of<'a>(results: &'a [CheckResult], check: &str, subject: &str) -> Vec<&'a CheckResult> {
    results
        .iter()
        .filter(|r| {
            r.check == check
                && r.subject
                    .as_ref()
                    .is_some_and(|s| s.name == subject || s.id == subject)
        })
        .collect()
}

/// The field case's findings: ACSFED-002, EXT-001 for agent2 and agent3,
/// EXT-002 and NUM-002 fail; NUM-008 finds a number missing from D365 (status `missing`).
fn assert_field_case_findings(what: &str, results: &[CheckResult]) {
    let has = |check: &str, status: Status| {
        results
            .iter()
            .any(|r| r.check == check && r.status == status)
    };
    for check in ["ACSFED-002", "EXT-002", "NUM-002"] {
        assert!(has(check, Status::Fail), "{what}: {check} no longer fails");
    }
    assert!(
        has("NUM-008", Status::Missing),
        "{what}: NUM-008 no longer finds the number missing"
    );
    for agent in ["agent2@contoso.com", "agent3@contoso.com"] {
        let r = status_of(results, "EXT-001", agent);
        assert!(
            !r.is_empty() && r.iter().all(|r| r.status == Status::Fail),
            "{what}: EXT-001 for {agent}: {r:?}"
        );
    }
}

/// Every example and `shape` of it: the same verdicts; the field case keeps its findings.
fn assert_shape(what: &str, shape: impl Fn(&Snapshot) -> Snapshot) {
    for name in EXAMPLES {
        let flat = example(name);
        let shaped = shape(&flat);
        assert_same_verdicts(&format!("{what}, {name}"), &flat, &shaped);
        if name == FIELD_CASE {
            assert_field_case_findings(&format!("{what}, {name}"), &audit(&shaped));
        }
    }
}

/// The Teams users the model has, with every field a check reads, for comparing two shapes.
/// `effective_policies` (read by no check) is left out: the flat record's `null` policies are
/// not listed there, while a REST body names them `Global`, as Graph's does.
fn users_json(snapshot: &Snapshot) -> Value {
    let m = model(snapshot);
    let users = m
        .teams
        .users
        .value()
        .unwrap_or_else(|| panic!("teams.users available: {:?}", m.teams.users.unavailable()));
    let mut json = serde_json::to_value(users).unwrap();
    for user in json.as_object_mut().unwrap().values_mut() {
        user.as_object_mut()
            .unwrap()
            .shift_remove("effective_policies");
    }
    json
}

// --- a: Teams admin API REST users --------------------------------------------------------------

#[test]
fn teams_rest_user_bodies_keyed_by_user_give_the_flat_verdicts() {
    assert_shape("teams.onlineUsers as REST bodies per user", |s| {
        rest_keyed(s, GlobalPolicies::Named)
    });
}

#[test]
fn teams_rest_users_list_gives_the_flat_verdicts() {
    assert_shape("teams.onlineUsers as one REST users list", rest_listed);
}

/// Without Graph userConfigurations the Teams users are the only source of every agent field:
/// the REST shape alone must carry them all.
#[test]
fn teams_rest_users_alone_give_the_flat_verdicts() {
    for name in EXAMPLES {
        let flat = without(&example(name), "graph.userConfigurations");
        for (what, shaped) in [
            ("keyed", rest_keyed(&flat, GlobalPolicies::Named)),
            ("listed", rest_listed(&flat)),
        ] {
            let what = format!("REST users {what}, no Graph userConfigurations, {name}");
            assert_same_verdicts(&what, &flat, &shaped);
            assert_eq!(users_json(&shaped), users_json(&flat), "{what}");
            if name == FIELD_CASE {
                assert_field_case_findings(&what, &audit(&shaped));
            }
        }
    }
}

/// go-teams reads "no assignment for a policy type" as the tenant-global default; the model does
/// not assume it (absent never becomes "Global" without a Microsoft source), so a
/// subject whose Global policy is not listed may become unknown, but no verdict may flip and no
/// failing subject may be lost.
#[test]
fn teams_rest_users_without_global_assignments_never_flip_a_verdict() {
    for name in EXAMPLES {
        let flat = without(&example(name), "graph.userConfigurations");
        let shaped = rest_keyed(&flat, GlobalPolicies::Omitted);
        let expected = verdicts(&audit(&flat));
        let results = audit(&shaped);
        let got = verdicts(&results);
        // A check that says for the whole tenant that it could not tell covers its subjects.
        let undecided: Vec<String> = results
            .iter()
            .filter(|r| r.subject.is_none() && r.status == Status::Unknown)
            .map(|r| format!("{} []: new, unknown", r.check))
            .collect();
        let covered = |d: &str| {
            undecided.iter().any(|u| {
                let check = u.split(' ').next().unwrap_or("");
                d == u || (d.starts_with(&format!("{check} [")) && d.ends_with("-> vanished"))
            })
        };
        let flips: Vec<String> = differences(&expected, &got)
            .into_iter()
            .filter(|d| !d.ends_with("-> unknown") && !covered(d))
            .collect();
        assert!(flips.is_empty(), "{name}: {}", flips.join("\n"));
        for r in results.iter().filter(|r| {
            r.status == Status::Unknown
                && expected.get(&(
                    r.check.clone(),
                    r.subject.as_ref().map(|s| s.id.clone()).unwrap_or_default(),
                )) != Some(&Status::Unknown)
        }) {
            assert!(
                r.message.contains("effectivePolicyAssignments["),
                "{name}: {} names the missing assignment: {}",
                r.check,
                r.message
            );
        }
    }
}

// --- b: Graph userConfigurations {"value": {…}} ---------------------------------------------------

#[test]
fn graph_user_configurations_wrapped_per_user_give_the_flat_verdicts() {
    assert_shape(
        "graph.userConfigurations as {\"value\": {…}} per user",
        wrapped_keyed,
    );
}

/// Without the Teams users, Graph userConfigurations are the only source of the agents' Teams
/// fields: the wrapped bodies must be read into the same users.
#[test]
fn graph_user_configurations_wrapped_alone_give_the_flat_verdicts() {
    for name in EXAMPLES {
        let flat = without(&example(name), "teams.onlineUsers");
        let shaped = wrapped_keyed(&flat);
        let what = format!("wrapped userConfigurations, no Teams users, {name}");
        assert_same_verdicts(&what, &flat, &shaped);
        assert_eq!(users_json(&shaped), users_json(&flat), "{what}");
    }
}

/// What `ccaudit collect` writes when the service answers the documented wrapper: the bodies as
/// received, in a `value` list.
#[test]
fn graph_user_configurations_wrapped_as_collected_give_the_flat_verdicts() {
    assert_shape(
        "graph.userConfigurations as collected {\"value\": [{\"value\": {…}}]}",
        wrapped_listed,
    );
    for name in EXAMPLES {
        let flat = without(&example(name), "teams.onlineUsers");
        let what = format!("wrapped userConfigurations as collected, no Teams users, {name}");
        assert_eq!(
            users_json(&wrapped_listed(&flat)),
            users_json(&flat),
            "{what}"
        );
    }
}

// --- a and b together -----------------------------------------------------------------------------

/// The measurement: with both user sources in their real shapes the field case's headline
/// finding disappeared and AGT-001, RA-008 and RA-009 became false fails.
#[test]
fn rest_users_and_wrapped_user_configurations_together_give_the_flat_verdicts() {
    assert_shape("REST Teams users and wrapped userConfigurations", |s| {
        wrapped_keyed(&rest_keyed(s, GlobalPolicies::Named))
    });
    assert_shape(
        "REST users list and wrapped userConfigurations as collected",
        |s| wrapped_listed(&rest_listed(s)),
    );
}

// --- c: sparse Teams telephone numbers --------------------------------------------------------------

const NUMBER_CHECKS: [&str; 3] = ["NUM-002", "NUM-003", "NUM-004"];

/// Checks that read a number's type, which the sparse rows lack too (`NumberType`): a subject
/// whose verdict depends on it becomes unknown, naming the field; the others keep theirs.
const NUMBER_TYPE_CHECKS: [&str; 2] = ["LIC-003", "RA-009"];

/// The field each number check needs and the sparse rows lack, as the Teams API spells it.
fn missing_field(check: &str) -> &'static str {
    match check {
        "NUM-002" => "Capability",
        "NUM-003" => "ActivationState",
        _ => "PstnAssignmentStatus",
    }
}

#[test]
fn sparse_teams_number_rows_make_only_the_number_checks_unknown() {
    for name in EXAMPLES {
        let flat = example(name);
        // Graph numberAssignments refused: the Teams telephone-number API is read instead.
        let complete = refused(&flat, "graph.numberAssignments");
        let sparse = sparse_numbers(&complete);
        let expected = verdicts(&audit(&complete));
        let results = audit(&sparse);
        let got = verdicts(&results);

        let mut subjects = 0;
        for check in NUMBER_CHECKS {
            let of_check: Vec<&CheckResult> = results.iter().filter(|r| r.check == check).collect();
            let before = expected.keys().filter(|(c, _)| c == check).count();
            assert!(before > 0, "{name}: {check} had subjects");
            assert_eq!(
                of_check.len(),
                before,
                "{name}: {check} keeps its subjects: {of_check:?}"
            );
            for r in of_check {
                let subject = r.subject.as_ref().expect("a number subject");
                assert_eq!(
                    r.status,
                    Status::Unknown,
                    "{name}: {check} [{}]: {}",
                    subject.name,
                    r.message
                );
                assert!(
                    r.message.contains(missing_field(check))
                        && r.message.contains(&subject.name)
                        && r.message.contains("teams.telephoneNumbers"),
                    "{name}: {check} [{}] names the missing field, the number and the source: {}",
                    subject.name,
                    r.message
                );
                subjects += 1;
            }
        }
        assert!(subjects > 0);

        for r in results
            .iter()
            .filter(|r| NUMBER_TYPE_CHECKS.contains(&r.check.as_str()))
        {
            let key = (
                r.check.clone(),
                r.subject.as_ref().map(|s| s.id.clone()).unwrap_or_default(),
            );
            let before = expected.get(&key).copied();
            assert!(
                before == Some(r.status)
                    || (r.status == Status::Unknown
                        && r.message.contains("NumberType")
                        && r.message.contains("teams.telephoneNumbers")),
                "{name}: {} [{}]: {:?} -> {}: {}",
                key.0,
                key.1,
                before,
                r.status.as_str(),
                r.message
            );
        }

        let others = |v: &Verdicts| -> Verdicts {
            v.iter()
                .filter(|((c, _), _)| {
                    !NUMBER_CHECKS.contains(&c.as_str())
                        && !NUMBER_TYPE_CHECKS.contains(&c.as_str())
                })
                .map(|(k, s)| (k.clone(), *s))
                .collect()
        };
        let diff = differences(&others(&expected), &others(&got));
        assert!(
            diff.is_empty(),
            "{name}: sparse rows changed other verdicts:\n{}",
            diff.join("\n")
        );
        // The complete Teams rows give the verdicts of Graph numberAssignments, so "every
        // other check" is also the default audit's.
        let diff = differences(&others(&verdicts(&audit(&flat))), &others(&got));
        assert!(
            diff.is_empty(),
            "{name}: sparse rows vs the Graph numbers:\n{}",
            diff.join("\n")
        );
    }
}

/// The field case's NUM-002 finding (an Operator Connect range provisioned for users) cannot be
/// seen without capabilities: it is unknown, never a pass.
#[test]
fn sparse_teams_number_rows_never_pass_the_field_case_number_finding() {
    let flat = example(FIELD_CASE);
    let complete = refused(&flat, "graph.numberAssignments");
    let failing: Vec<String> = audit(&complete)
        .iter()
        .filter(|r| r.check == "NUM-002" && r.status == Status::Fail)
        .map(|r| r.subject.as_ref().unwrap().id.clone())
        .collect();
    assert!(!failing.is_empty(), "NUM-002 fails with complete rows");
    let sparse = audit(&sparse_numbers(&complete));
    for id in failing {
        let r = sparse
            .iter()
            .find(|r| r.check == "NUM-002" && r.subject.as_ref().is_some_and(|s| s.id == id))
            .unwrap_or_else(|| panic!("NUM-002 still has {id}"));
        assert_eq!(r.status, Status::Unknown, "{}", r.message);
    }
}
