//! Information-barrier facts from Security & Compliance: policies, segments, mode, and which
//! segments each agent and resource account belongs to.

use crate::fact_key::FactKey;
use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::directory::Directory;
use super::fact::{Fact, Unavailable, read};
use super::ib_filter::{self, Filter, Subject, Truth};
use super::raw::{ShapeError, prop, records, required_str, str_prop, string_list};
use crate::snapshot::Snapshot;

#[derive(Debug, Clone, Serialize)]
pub struct Compliance {
    /// `compliance.InformationBarrierPolicy`.
    pub ib_policies: Fact<Vec<IbPolicy>>,
    /// `compliance.OrganizationSegment`, keyed by lower-case segment name.
    pub ib_segments: Fact<BTreeMap<String, IbSegment>>,
    /// `compliance.PolicyConfig` → `InformationBarrierMode` (`SingleSegment`, `MultiSegment`,
    /// `Legacy`); `null` when not reported.
    pub ib_mode: Fact<Option<String>>,
    /// Segment membership of every user in `directory.users`, keyed by object id, from the
    /// segments' `UserGroupFilter` evaluated against directory attributes.
    pub ib_membership: Fact<BTreeMap<String, SegmentMembership>>,
    /// The named agents grouped by identical segment membership. IB rules run once per group
    /// pair rather than once per agent × resource account pair (2,000 × 500 pairs would take
    /// minutes and gigabytes in CEL); results are still reported per agent.
    pub agent_segment_groups: Fact<Vec<SegmentGroup>>,
    /// The contact-center resource accounts (`scope.resource_accounts`) grouped the same way.
    pub resource_account_segment_groups: Fact<Vec<SegmentGroup>>,
    /// Per named agent: which contact-center resource accounts active IB policies separate it
    /// from, and through which policies (IB-002).
    pub agent_separation: Fact<Vec<AgentSeparation>>,
    /// Per named agent: the active policies that restrict one of its segments
    /// (`ib_restriction::derive`).
    pub agent_restrictions: Fact<Vec<super::ib_restriction::AgentRestriction>>,
}

/// What the active information barrier policies say between one agent and the contact-center
/// resource accounts.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AgentSeparation {
    pub id: String,
    pub upn: String,
    /// The agent's segments (lower-case, sorted).
    pub segments: Vec<String>,
    /// Why the agent's own membership cannot be evaluated (empty when it can).
    pub unevaluable: Vec<String>,
    /// Resource accounts (UPN) an active policy separates the agent from.
    pub blocked_ras: Vec<String>,
    /// The policies that separate them, sorted.
    pub blocking_policies: Vec<String>,
    /// Resource accounts whose membership cannot be evaluated: `upn (why)`.
    pub unevaluable_ras: Vec<String>,
    /// How many contact-center resource accounts there are.
    pub ra_total: usize,
}

/// Whether `policy` (active) separates a user in segments `a` from one in segments `b`, in
/// either direction: the policy of a side's segment blocks the other side's segments, or allows
/// only segments the other side is not in.
fn separates(policy: &IbPolicy, a: &[String], b: &[String]) -> bool {
    let one_way = |own: &[String], other: &[String]| {
        own.contains(&policy.assigned_segment)
            && (other.iter().any(|s| policy.segments_blocked.contains(s))
                || (!policy.segments_allowed.is_empty()
                    && !other.iter().any(|s| policy.segments_allowed.contains(s))))
    };
    policy.active && (one_way(a, b) || one_way(b, a))
}

/// Agent × resource-account separation, computed once per pair of segment groups (members
/// with the same segments get the same answer) and reported per agent.
pub fn agent_separation(
    policies: &Fact<Vec<IbPolicy>>,
    agents: &Fact<Vec<SegmentGroup>>,
    ras: &Fact<Vec<SegmentGroup>>,
) -> Fact<Vec<AgentSeparation>> {
    let (policies, agents, ras) = match (policies, agents, ras) {
        (Fact::Available(p), Fact::Available(a), Fact::Available(r)) => (p, a, r),
        (Fact::Unavailable(u), _, _)
        | (_, Fact::Unavailable(u), _)
        | (_, _, Fact::Unavailable(u)) => {
            return Fact::dependency(u);
        }
    };
    let ra_total = ras.iter().map(|g| g.members.len()).sum();
    let unevaluable_ras: Vec<String> = ras
        .iter()
        .filter(|g| !g.unevaluable.is_empty())
        .flat_map(|g| {
            g.members
                .iter()
                .map(move |m| format!("{} ({})", m.upn, g.unevaluable.join("; ")))
        })
        .collect();
    let mut out = Vec::new();
    for ag in agents {
        let mut blocked_ras = Vec::new();
        let mut blocking = std::collections::BTreeSet::new();
        for rg in ras.iter().filter(|g| g.unevaluable.is_empty()) {
            let through: Vec<&str> = policies
                .iter()
                .filter(|p| separates(p, &ag.segments, &rg.segments))
                .map(|p| p.name.as_str())
                .collect();
            if !through.is_empty() {
                blocked_ras.extend(rg.members.iter().map(|m| m.upn.clone()));
                blocking.extend(through);
            }
        }
        for m in &ag.members {
            out.push(AgentSeparation {
                id: m.id.clone(),
                upn: m.upn.clone(),
                segments: ag.segments.clone(),
                unevaluable: ag.unevaluable.clone(),
                blocked_ras: blocked_ras.clone(),
                blocking_policies: blocking.iter().map(|p| p.to_string()).collect(),
                unevaluable_ras: unevaluable_ras.clone(),
                ra_total,
            });
        }
    }
    Fact::Available(out)
}

/// Users that share the same segment membership.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SegmentGroup {
    /// Lower-case segment names, sorted.
    pub segments: Vec<String>,
    /// As in `SegmentMembership::unevaluable`; `membership not computed` when the user has no
    /// membership entry.
    pub unevaluable: Vec<String>,
    pub members: Vec<GroupMember>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GroupMember {
    pub id: String,
    pub upn: String,
}

/// Groups `members` (id, upn) by their segment membership.
pub fn group_by_membership(
    members: Fact<Vec<GroupMember>>,
    membership: &Fact<BTreeMap<String, SegmentMembership>>,
) -> Fact<Vec<SegmentGroup>> {
    let members = match members {
        Fact::Available(m) => m,
        Fact::Unavailable(u) => return Fact::dependency(&u),
    };
    let membership = match membership {
        Fact::Available(m) => m,
        Fact::Unavailable(u) => return Fact::dependency(u),
    };
    let mut groups: BTreeMap<(Vec<String>, Vec<String>), Vec<GroupMember>> = BTreeMap::new();
    for member in members {
        let key = match membership.get(&member.id) {
            Some(m) => {
                let mut segments = m.segments.clone();
                segments.sort();
                segments.dedup();
                (segments, m.unevaluable.clone())
            }
            None => (Vec::new(), vec!["membership not computed".to_string()]),
        };
        groups.entry(key).or_default().push(member);
    }
    Fact::Available(
        groups
            .into_iter()
            .map(|((segments, unevaluable), members)| SegmentGroup {
                segments,
                unevaluable,
                members,
            })
            .collect(),
    )
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct IbPolicy {
    pub name: String,
    /// `Active` / `Inactive` as returned.
    pub state: String,
    pub active: bool,
    /// Lower-case segment name.
    pub assigned_segment: String,
    /// Lower-case segment names.
    pub segments_allowed: Vec<String>,
    /// Lower-case segment names.
    pub segments_blocked: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct IbSegment {
    pub name: String,
    pub user_group_filter: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct SegmentMembership {
    /// Lower-case names of the segments whose filter matches the user.
    pub segments: Vec<String>,
    /// Segments whose filter could not be evaluated for this user, as `name: reason`; when
    /// non-empty, the user's membership is not known for sure.
    pub unevaluable: Vec<String>,
}

impl Compliance {
    pub fn facts(&self) -> Vec<(&'static str, Option<&Unavailable>)> {
        vec![
            ("compliance.ib_policies", self.ib_policies.unavailable()),
            ("compliance.ib_segments", self.ib_segments.unavailable()),
            ("compliance.ib_mode", self.ib_mode.unavailable()),
            ("compliance.ib_membership", self.ib_membership.unavailable()),
            (
                "compliance.agent_segment_groups",
                self.agent_segment_groups.unavailable(),
            ),
            (
                "compliance.resource_account_segment_groups",
                self.resource_account_segment_groups.unavailable(),
            ),
            (
                "compliance.agent_separation",
                self.agent_separation.unavailable(),
            ),
            (
                "compliance.agent_restrictions",
                self.agent_restrictions.unavailable(),
            ),
        ]
    }
}

const POLICIES: FactKey = FactKey::ComplianceInformationBarrierPolicy;
const SEGMENTS: FactKey = FactKey::ComplianceOrganizationSegment;
const POLICY_CONFIG: FactKey = FactKey::CompliancePolicyConfig;

/// Normalizes the Security & Compliance facts of a snapshot; membership needs the directory.
pub fn normalize(snapshot: &Snapshot, directory: &Directory) -> Compliance {
    let ib_policies = read(snapshot, POLICIES, parse_policies);
    let ib_segments = read(snapshot, SEGMENTS, parse_segments);
    let ib_mode = read(snapshot, POLICY_CONFIG, parse_mode);
    let ib_membership = membership(&ib_policies, &ib_segments, directory);
    Compliance {
        ib_policies,
        ib_segments,
        ib_mode,
        ib_membership,
        // Filled by `TenantModel::from_snapshot` once agents and scope are known.
        agent_segment_groups: Fact::Available(Vec::new()),
        resource_account_segment_groups: Fact::Available(Vec::new()),
        agent_separation: Fact::Available(Vec::new()),
        agent_restrictions: Fact::Available(Vec::new()),
    }
}

fn parse_policies(data: &Value) -> Result<Vec<IbPolicy>, String> {
    records(data, &[])?
        .into_iter()
        .enumerate()
        .map(|(i, row)| {
            let name = required_str(row, &["Name"]).map_err(|e| format!("policy {i}: {e}"))?;
            let context = |e: ShapeError| format!("policy `{name}`: {e}");
            let state = required_str(row, &["State"]).map_err(context)?;
            let assigned_segment = required_str(row, &["AssignedSegment"]).map_err(context)?;
            Ok(IbPolicy {
                active: state.eq_ignore_ascii_case("active"),
                state,
                assigned_segment: assigned_segment.to_lowercase(),
                segments_allowed: segment_names(prop(row, "SegmentsAllowed")),
                segments_blocked: segment_names(prop(row, "SegmentsBlocked")),
                name,
            })
        })
        .collect()
}

/// Lower-case segment names from an array, or from PowerShell's `{A, B}` rendering of one.
///
/// Unlike `raw::string_list`, a string is split on commas and semicolons only: segment names
/// may contain spaces (`Contact Center Agents`).
fn segment_names(v: Option<&Value>) -> Vec<String> {
    let names = match v {
        Some(Value::String(s)) => s
            .trim()
            .trim_start_matches('{')
            .trim_end_matches('}')
            .split([',', ';'])
            .map(|p| p.trim().trim_matches(|c| c == '\'' || c == '"').to_string())
            .filter(|p| !p.is_empty())
            .collect(),
        other => string_list(other, &["Name"]),
    };
    names.into_iter().map(|n| n.to_lowercase()).collect()
}

fn parse_segments(data: &Value) -> Result<BTreeMap<String, IbSegment>, String> {
    let mut segments = BTreeMap::new();
    for (i, row) in records(data, &[])?.into_iter().enumerate() {
        let name = required_str(row, &["Name"]).map_err(|e| format!("segment {i}: {e}"))?;
        // A missing filter is kept empty: membership reports the segment as unevaluable.
        let user_group_filter = str_prop(row, &["UserGroupFilter"]).unwrap_or_default();
        segments.insert(
            name.to_lowercase(),
            IbSegment {
                name,
                user_group_filter,
            },
        );
    }
    Ok(segments)
}

/// `InformationBarrierMode` from `Get-PolicyConfig`, which arrives as one object or as a
/// `value` array holding it.
fn parse_mode(data: &Value) -> Result<Option<String>, String> {
    let instances = match data {
        Value::Object(map) if map.is_empty() => Vec::new(),
        _ => records(data, &[])?,
    };
    Ok(instances
        .into_iter()
        .find_map(|row| str_prop(row, &["InformationBarrierMode"])))
}

/// Which segments each directory user falls in, from the segments' filters.
///
/// Policies are required too: without them a membership list cannot be read as "allowed" or
/// "blocked", so a partial answer would only invite a guess downstream.
fn membership(
    policies: &Fact<Vec<IbPolicy>>,
    segments: &Fact<BTreeMap<String, IbSegment>>,
    directory: &Directory,
) -> Fact<BTreeMap<String, SegmentMembership>> {
    let (segments, users) = match (segments, policies, &directory.users) {
        (Fact::Available(segments), Fact::Available(_), Fact::Available(users)) => {
            (segments, users)
        }
        (Fact::Unavailable(u), _, _)
        | (_, Fact::Unavailable(u), _)
        | (_, _, Fact::Unavailable(u)) => {
            return Fact::dependency(u);
        }
    };
    let filters: Vec<(&String, Result<Filter, String>)> = segments
        .iter()
        .map(|(key, segment)| (key, ib_filter::parse(&segment.user_group_filter)))
        .collect();
    let result = users
        .iter()
        .map(|(id, user)| {
            let groups = match &directory.group_memberships {
                Fact::Unavailable(u) => Err(format!(
                    "MemberOf needs the users' group memberships, which could not be read ({})",
                    u.reason
                )),
                Fact::Available(all) => all
                    .get(id)
                    .or_else(|| all.get(&id.to_lowercase()))
                    .map(Vec::as_slice)
                    .ok_or_else(|| {
                        "MemberOf: graph.memberOf has no entry for this user".to_string()
                    }),
            };
            let subject = Subject { user, groups };
            let mut entry = SegmentMembership::default();
            for (key, filter) in &filters {
                let truth = match filter {
                    Ok(filter) => filter.evaluate(&subject),
                    Err(unparsed) => Truth::Unknown(unparsed.clone()),
                };
                match truth {
                    Truth::True => entry.segments.push((*key).clone()),
                    Truth::False => {}
                    Truth::Unknown(reason) => entry.unevaluable.push(format!("{key}: {reason}")),
                }
            }
            (id.clone(), entry)
        })
        .collect();
    Fact::Available(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::directory::{GroupRef, User};
    use crate::model::fact::UnavailableKind;
    use crate::model::test_support::snapshot_from_json as snapshot;
    use serde_json::json;

    const AGENT: &str = "11111111-0000-0000-0000-000000000001";
    const RA: &str = "748a7c7c-a489-4de4-8a68-4415f1d19a9c";

    fn data(v: Value) -> Value {
        json!({"endpoint": "POST InvokeCommand", "data": v})
    }

    fn forbidden() -> Value {
        json!({"endpoint": "POST InvokeCommand", "error": {"status": 403, "code": "Forbidden",
            "message": "The user is not authorized to run Get-OrganizationSegment."}})
    }

    fn user(id: &str, department: Option<&str>) -> User {
        User {
            id: id.into(),
            upn: format!("{id}@contoso.com"),
            display_name: None,
            account_enabled: Some(true),
            user_type: Some("Member".into()),
            usage_location: Some(Some("US".into())),
            assigned_sku_ids: Vec::new(),
            department: department.map(str::to_string),
            company_name: None,
            office_location: None,
            extension_attributes: BTreeMap::new(),
        }
    }

    fn directory(groups: Fact<BTreeMap<String, Vec<GroupRef>>>) -> Directory {
        let users = BTreeMap::from([
            (AGENT.to_string(), user(AGENT, Some("Contact Center"))),
            (RA.to_string(), user(RA, None)),
        ]);
        Directory {
            organization: Fact::not_requested("test"),
            skus: Fact::not_requested("test"),
            users: Fact::Available(users),
            user_ids_by_upn: Fact::not_requested("test"),
            licenses: Fact::not_requested("test"),
            group_memberships: groups,
            service_principals: Fact::not_requested("test"),
            consent_grants: Fact::not_requested("test"),
            role_assignments: Fact::not_requested("test"),
            contact_center_licenses: Fact::not_requested("test"),
        }
    }

    fn agent_groups() -> Fact<BTreeMap<String, Vec<GroupRef>>> {
        let cc = GroupRef {
            id: "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0".into(),
            display_name: Some("CC Agents".into()),
            mail: None,
        };
        Fact::Available(BTreeMap::from([
            (AGENT.to_string(), vec![cc]),
            (RA.to_string(), vec![]),
        ]))
    }

    fn policies() -> Value {
        json!({"value": [{"Name": "Agents-to-RA", "State": "Active", "AssignedSegment": "Contact Center Agents",
            "SegmentsAllowed": ["Contact Center Agents", "Resource Accounts"], "SegmentsBlocked": [],
            "BlockVisibility": false, "BlockCommunication": false, "ExOPolicyId": "e0000000-0000-0000-0000-000000000001"}]})
    }

    fn with_segments(segments: Value, groups: Fact<BTreeMap<String, Vec<GroupRef>>>) -> Compliance {
        normalize(
            &snapshot(json!({
                "compliance.InformationBarrierPolicy": data(policies()),
                "compliance.OrganizationSegment": data(segments),
            })),
            &directory(groups),
        )
    }

    fn segment(name: &str, filter: &str) -> Value {
        json!({"Name": name, "UserGroupFilter": filter})
    }

    #[test]
    fn policies_are_read_in_pascal_case_with_lower_case_segment_names() {
        let c = normalize(
            &snapshot(
                json!({"compliance.InformationBarrierPolicy": data(json!({"value": [
                    {"Name": "Agents-to-RA", "State": "ACTIVE", "AssignedSegment": "Contact Center Agents",
                     "SegmentsAllowed": "{Contact Center Agents, Resource Accounts}", "SegmentsBlocked": null},
                    {"name": "HR-block", "state": "Inactive", "assignedSegment": "HR", "segmentsBlocked": ["Contact Center Agents"]},
                ]}))}),
            ),
            &directory(agent_groups()),
        );
        let policies = c.ib_policies.value().unwrap();
        assert_eq!(
            policies[0],
            IbPolicy {
                name: "Agents-to-RA".into(),
                state: "ACTIVE".into(),
                active: true,
                assigned_segment: "contact center agents".into(),
                segments_allowed: vec!["contact center agents".into(), "resource accounts".into()],
                segments_blocked: vec![],
            }
        );
        assert!(!policies[1].active);
        assert_eq!(policies[1].segments_blocked, ["contact center agents"]);
    }

    #[test]
    fn policy_without_assigned_segment_is_malformed() {
        let c = normalize(
            &snapshot(
                json!({"compliance.InformationBarrierPolicy": data(json!({"value": [{"Name": "p", "State": "Active"}]}))}),
            ),
            &directory(agent_groups()),
        );
        let u = c.ib_policies.unavailable().unwrap();
        assert_eq!(u.kind, UnavailableKind::Malformed);
        assert!(u.reason.contains("AssignedSegment"), "{}", u.reason);
    }

    #[test]
    fn segments_are_keyed_by_lower_case_name() {
        let c = with_segments(
            json!({"value": [segment("Contact Center Agents", "Department -eq 'Contact Center'")]}),
            agent_groups(),
        );
        let segments = c.ib_segments.value().unwrap();
        assert_eq!(
            segments["contact center agents"].name,
            "Contact Center Agents"
        );
        assert_eq!(
            segments["contact center agents"].user_group_filter,
            "Department -eq 'Contact Center'"
        );
    }

    #[test]
    fn ib_mode_is_read_from_a_value_array_or_a_single_object() {
        let mode = |config: Value| {
            normalize(
                &snapshot(json!({"compliance.PolicyConfig": data(config)})),
                &directory(agent_groups()),
            )
            .ib_mode
        };
        assert_eq!(
            mode(json!({"value": [{"InformationBarrierMode": "SingleSegment"}]})).value(),
            Some(&Some("SingleSegment".to_string()))
        );
        assert_eq!(
            mode(json!({"Identity": "x", "informationBarrierMode": "MultiSegment"})).value(),
            Some(&Some("MultiSegment".to_string()))
        );
        assert_eq!(
            mode(json!({"value": [{"Identity": "x"}]})).value(),
            Some(&None)
        );
        assert_eq!(mode(json!({})).value(), Some(&None));
        assert_eq!(
            mode(json!("SingleSegment")).unavailable().unwrap().kind,
            UnavailableKind::Malformed
        );
    }

    #[test]
    fn membership_lists_the_segments_whose_filter_matches_each_user() {
        let c = with_segments(
            json!({"value": [
                segment("Contact Center Agents", "Department -eq 'contact center'"),
                segment("Resource Accounts", "-not (Department -like '*')"),
                segment("Group Based", "MemberOf -eq 'CC Agents'"),
            ]}),
            agent_groups(),
        );
        let m = c.ib_membership.value().unwrap();
        assert_eq!(m[AGENT].segments, ["contact center agents", "group based"]);
        assert!(m[AGENT].unevaluable.is_empty());
        assert_eq!(m[RA].segments, ["resource accounts"]);
    }

    #[test]
    fn unsupported_attribute_makes_the_segment_unevaluable_not_a_miss() {
        let c = with_segments(
            json!({"value": [segment("Titles", "Title -eq 'Agent'")]}),
            agent_groups(),
        );
        let m = c.ib_membership.value().unwrap();
        assert!(m[AGENT].segments.is_empty());
        assert_eq!(
            m[AGENT].unevaluable,
            ["titles: unsupported attribute `Title`"]
        );
    }

    #[test]
    fn member_of_without_group_memberships_is_unevaluable_naming_the_fact() {
        let groups = Fact::Unavailable(Unavailable {
            kind: UnavailableKind::Forbidden,
            reason: "HTTP 403".into(),
            needs: None,
            sources: vec!["graph.memberOf".into()],
        });
        let c = with_segments(
            json!({"value": [
                segment("Group Based", "MemberOf -eq 'CC Agents'"),
                segment("Dept", "Department -eq 'Contact Center'"),
            ]}),
            groups,
        );
        let m = c.ib_membership.value().unwrap();
        assert_eq!(m[AGENT].segments, ["dept"]);
        assert_eq!(m[AGENT].unevaluable.len(), 1);
        assert!(m[AGENT].unevaluable[0].starts_with("group based: "));
        assert!(m[AGENT].unevaluable[0].contains("group memberships, which could not be read"));
    }

    #[test]
    fn member_of_for_a_user_whose_groups_were_not_collected_is_unevaluable() {
        let groups = Fact::Available(BTreeMap::new());
        let c = with_segments(
            json!({"value": [segment("Group Based", "MemberOf -eq 'CC Agents'")]}),
            groups,
        );
        assert_eq!(c.ib_membership.value().unwrap()[AGENT].unevaluable.len(), 1);
    }

    #[test]
    fn unreadable_segments_policies_or_users_make_membership_a_dependency() {
        let c = normalize(
            &snapshot(json!({
                "compliance.InformationBarrierPolicy": data(policies()),
                "compliance.OrganizationSegment": forbidden(),
            })),
            &directory(agent_groups()),
        );
        assert_eq!(
            c.ib_segments.unavailable().unwrap().kind,
            UnavailableKind::Forbidden
        );
        let u = c.ib_membership.unavailable().unwrap();
        assert_eq!(u.kind, UnavailableKind::Dependency);
        assert!(
            u.needs
                .as_deref()
                .unwrap()
                .contains("Compliance Administrator")
        );

        let c = normalize(
            &snapshot(json!({"compliance.OrganizationSegment": data(json!({"value": []}))})),
            &directory(agent_groups()),
        );
        assert_eq!(
            c.ib_membership.unavailable().unwrap().kind,
            UnavailableKind::Dependency
        );

        let mut dir = directory(agent_groups());
        dir.users = Fact::not_requested("no agents named");
        let c = normalize(
            &snapshot(json!({
                "compliance.InformationBarrierPolicy": data(policies()),
                "compliance.OrganizationSegment": data(json!({"value": []})),
            })),
            &dir,
        );
        assert_eq!(
            c.ib_membership.unavailable().unwrap().kind,
            UnavailableKind::NotRequested
        );
    }

    #[test]
    fn garbage_filters_make_segments_unevaluable_without_panicking() {
        let garbage = [
            "",
            "(",
            "Department -eq 'x",
            "Department -eq 'x' -and",
            "-",
            "))((",
            "Department -eq 'x' Company",
            "🦀 -eq '🦀'",
            "Department -eq \"x'",
            "-not",
            "Department -eq 'x' -or ()",
        ];
        let segments: Vec<Value> = garbage
            .iter()
            .enumerate()
            .map(|(i, f)| segment(&format!("s{i}"), f))
            .collect();
        let c = with_segments(json!({"value": segments}), agent_groups());
        let m = c.ib_membership.value().unwrap();
        assert!(m[AGENT].segments.is_empty());
        assert_eq!(m[AGENT].unevaluable.len(), garbage.len());
        assert!(
            m[AGENT]
                .unevaluable
                .iter()
                .any(|u| u.contains("unbalanced quote"))
        );
    }

    fn policy(name: &str, assigned: &str, allowed: &[&str], blocked: &[&str]) -> IbPolicy {
        IbPolicy {
            name: name.into(),
            state: "Active".into(),
            active: true,
            assigned_segment: assigned.into(),
            segments_allowed: allowed.iter().map(|s| s.to_string()).collect(),
            segments_blocked: blocked.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn group(segments: &[&str], unevaluable: &[&str], upns: &[&str]) -> SegmentGroup {
        SegmentGroup {
            segments: segments.iter().map(|s| s.to_string()).collect(),
            unevaluable: unevaluable.iter().map(|s| s.to_string()).collect(),
            members: upns
                .iter()
                .map(|u| GroupMember {
                    id: format!("id-{u}"),
                    upn: u.to_string(),
                })
                .collect(),
        }
    }

    #[test]
    fn a_policy_blocking_the_other_side_separates_in_either_direction() {
        let p = policy("Sales-Blocks-CC", "sales", &[], &["contactcenter"]);
        let s = |a: &[&str], b: &[&str]| {
            let a: Vec<String> = a.iter().map(|x| x.to_string()).collect();
            let b: Vec<String> = b.iter().map(|x| x.to_string()).collect();
            separates(&p, &a, &b)
        };
        assert!(s(&["sales"], &["contactcenter"]));
        assert!(
            s(&["contactcenter"], &["sales"]),
            "the other side's policy counts too"
        );
        assert!(!s(&["sales"], &["support"]));
        let inactive = IbPolicy {
            active: false,
            ..p.clone()
        };
        assert!(!separates(
            &inactive,
            &["sales".into()],
            &["contactcenter".into()]
        ));
    }

    #[test]
    fn an_allow_list_separates_everyone_not_on_it() {
        let p = policy("Sales-Only-Sales", "sales", &["sales"], &[]);
        assert!(separates(&p, &["sales".into()], &["contactcenter".into()]));
        assert!(!separates(
            &p,
            &["sales".into()],
            &["sales".into(), "emea".into()]
        ));
    }

    #[test]
    fn separation_is_reported_per_agent_with_the_blocked_accounts_and_policies() {
        let policies = Fact::Available(vec![
            policy("Sales-Blocks-CC", "sales", &[], &["contactcenter"]),
            policy("Other", "hr", &[], &["sales"]),
        ]);
        let agents = Fact::Available(vec![
            group(&["sales"], &[], &["a1@contoso.com", "a2@contoso.com"]),
            group(&["support"], &[], &["a3@contoso.com"]),
        ]);
        let ras = Fact::Available(vec![
            group(&["contactcenter"], &[], &["ra1@contoso.com"]),
            group(
                &[],
                &["filter uses an unknown attribute"],
                &["ra2@contoso.com"],
            ),
        ]);
        let Fact::Available(out) = agent_separation(&policies, &agents, &ras) else {
            panic!("available");
        };
        assert_eq!(out.len(), 3);
        let a1 = out.iter().find(|s| s.upn == "a1@contoso.com").unwrap();
        assert_eq!(a1.blocked_ras, ["ra1@contoso.com"]);
        assert_eq!(a1.blocking_policies, ["Sales-Blocks-CC"]);
        assert_eq!(a1.ra_total, 2);
        assert_eq!(
            a1.unevaluable_ras,
            ["ra2@contoso.com (filter uses an unknown attribute)"]
        );
        let a3 = out.iter().find(|s| s.upn == "a3@contoso.com").unwrap();
        assert!(a3.blocked_ras.is_empty() && a3.blocking_policies.is_empty());
    }

    #[test]
    fn separation_is_unavailable_when_the_policies_are() {
        let forbidden = Fact::<Vec<IbPolicy>>::Unavailable(Unavailable {
            kind: UnavailableKind::Forbidden,
            reason: "403".into(),
            needs: Some("Compliance Administrator".into()),
            sources: vec![],
        });
        let empty = Fact::Available(Vec::new());
        assert!(
            agent_separation(&forbidden, &empty, &empty)
                .unavailable()
                .is_some()
        );
    }
}
