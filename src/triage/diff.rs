//! Two tenants side by side: the "works in the partner's tenant, not in ours" tool.
//!
//! A diff compares the normalized prerequisite settings of two tenant models and the verdicts of
//! the checks run on each. Values that naturally differ between tenants (ids, names, UPNs,
//! numbers) are never compared as such: what is compared is what they mean in their own tenant.
//! "Is this tenant's own D365 ACS id in its allow-list?" is a yes/no that can be compared across
//! tenants, where the two GUIDs could not. Counts over contact-center subjects are shown as
//! "n of m" so a tenant with more agents does not differ merely for that.
//!
//! Either side is an [`Audited`] tenant, made from any `Snapshot` (a file, a live read, a
//! redacted copy), so where a side comes from is the caller's business.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Arc;

use serde::Serialize;
use tabled::builder::Builder;
use tabled::settings::object::Columns;
use tabled::settings::{Modify, Style as TableStyle, Width};

use crate::engine::diff_row::DiffRow;
use crate::engine::{self, CheckResult, CheckSet, Status};
use crate::model::d365::ProviderSetting;
use crate::model::directory::Sku;
use crate::model::teams::{
    DOCUMENTED_D365_APP_ID, ExternalAccessPolicy, PhoneNumber, ResourceAccount,
};
use crate::model::well_known::{RA_LICENSE_SKU, RA_LICENSE_SKU_PART};
use crate::model::{AuditConfig, Fact, TenantModel, UnavailableKind};
use crate::report::{ExitStatus, Summary};
use crate::snapshot::Snapshot;
use crate::triage::redact::MICROSOFT_DEFAULT_POLICY_NAMES;

/// Bumped only on breaking changes to `diff --format json`.
pub const DIFF_SCHEMA_VERSION: u32 = 1;

/// One side of a diff: a tenant model and the results of the checks run on it.
#[derive(Debug, Clone)]
pub struct Audited {
    pub model: TenantModel,
    pub results: Vec<CheckResult>,
}

impl Audited {
    /// Normalizes `snapshot` and runs `checks` on it, as `ccaudit audit` does.
    pub fn from_snapshot(
        snapshot: &Snapshot,
        config: AuditConfig,
        env: &Arc<cel::Env>,
        checks: &CheckSet,
    ) -> Audited {
        let model = TenantModel::from_snapshot(snapshot, config);
        let results = engine::evaluate(env, checks, &model);
        Audited { model, results }
    }
}

/// A compared value, as the JSON shows it: a boolean, a number, `{"count", "of"}`, text, an
/// object of counts, a list of policies in use, `{"unavailable": kind}`,
/// `{"not_applicable": why}`, or `null` (absent on this side).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Val {
    Bool(bool),
    /// A count of things whose number is the tenant's own business (resource accounts,
    /// segments): only "none" versus "some" is compared.
    Int(i64),
    /// How many of the contact center's subjects have a property: compared as none / some / all,
    /// so a tenant with more agents does not differ merely for that.
    Ratio {
        count: usize,
        of: usize,
    },
    Text(String),
    /// Occurrences by kind (number types, SKUs): the kinds are compared, not the counts.
    Counts(BTreeMap<String, usize>),
    /// Effective policies and how many subjects have each: compared by what they allow, with
    /// custom policy names (which differ between tenants by nature) left out.
    Policies(Vec<PolicyUse>),
    /// The fact could not be read on this side (kind as in the model: `forbidden`, ...).
    Unavailable {
        unavailable: String,
    },
    /// The setting does not apply on this side (no agents named, no D365 ACS id, ...).
    NotApplicable {
        not_applicable: String,
    },
    /// The thing does not exist on this side (a policy only the other tenant has).
    Absent,
}

/// An external access policy in effect for some subjects.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct PolicyUse {
    /// `Global`, `Tag:Name`; or `no Teams record` for subjects Teams does not know.
    pub policy: String,
    /// A Microsoft built-in policy (same name in every tenant).
    pub builtin: bool,
    /// `EnableAcsFederationAccess`; `null` when the policy was not collected.
    pub acs_allowed: Option<bool>,
    pub count: usize,
}

/// none / some / all of a ratio; `None` when there was nothing to count.
fn ratio_class(count: usize, of: usize) -> Option<u8> {
    match (count, of) {
        (_, 0) => None,
        (0, _) => Some(0),
        (c, o) if c >= o => Some(2),
        _ => Some(1),
    }
}

impl Val {
    fn na(why: &str) -> Val {
        Val::NotApplicable {
            not_applicable: why.to_string(),
        }
    }

    fn ratio(count: usize, of: usize) -> Val {
        Val::Ratio { count, of }
    }

    fn opt_bool(b: Option<bool>) -> Val {
        b.map(Val::Bool).unwrap_or(Val::Absent)
    }

    /// Whether two sides say the same thing (see each variant for what is compared).
    pub fn same(&self, other: &Val) -> bool {
        match (self, other) {
            (Val::Int(a), Val::Int(b)) => (*a == 0) == (*b == 0),
            (Val::Ratio { count: c, of: o }, Val::Ratio { count: d, of: p }) => {
                ratio_class(*c, *o) == ratio_class(*d, *p)
            }
            (Val::Counts(a), Val::Counts(b)) => a.keys().eq(b.keys()),
            (Val::Policies(a), Val::Policies(b)) => {
                let class = |uses: &[PolicyUse]| -> BTreeSet<(String, Option<bool>)> {
                    uses.iter()
                        .map(|u| {
                            let name = if u.builtin {
                                u.policy.to_ascii_lowercase()
                            } else {
                                "custom".into()
                            };
                            (name, u.acs_allowed)
                        })
                        .collect()
                };
                class(a) == class(b)
            }
            _ => self == other,
        }
    }

    /// How the table shows the value.
    pub fn display(&self) -> String {
        match self {
            Val::Bool(true) => "yes".into(),
            Val::Bool(false) => "no".into(),
            Val::Int(n) => n.to_string(),
            Val::Ratio { count, of: 0 } => format!("{count} (none to check)"),
            Val::Ratio { count, of } => format!("{count} of {of}"),
            Val::Text(s) => s.clone(),
            Val::Counts(c) if c.is_empty() => "none".into(),
            Val::Counts(c) => c
                .iter()
                .map(|(k, n)| format!("{k}: {n}"))
                .collect::<Vec<_>>()
                .join(", "),
            Val::Policies(p) if p.is_empty() => "none".into(),
            Val::Policies(p) => p
                .iter()
                .map(|u| {
                    let acs = match u.acs_allowed {
                        Some(true) => " (ACS allowed)",
                        Some(false) => " (ACS blocked)",
                        None => "",
                    };
                    format!("{}{acs}: {}", u.policy, u.count)
                })
                .collect::<Vec<_>>()
                .join(", "),
            Val::Unavailable { unavailable } => format!("unavailable ({unavailable})"),
            Val::NotApplicable { not_applicable } => format!("n/a: {not_applicable}"),
            Val::Absent => "—".into(),
        }
    }
}

/// One compared setting.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// Stable machine key (`acs_federation.d365_acs_id_allowed`).
    pub key: String,
    pub setting: String,
    pub a: Val,
    pub b: Val,
    pub differs: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Section {
    pub name: String,
    pub rows: Vec<Row>,
}

/// A check's verdict on one side: the worst status over its results, and how many of each.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckVerdict {
    pub status: Status,
    pub counts: BTreeMap<Status, usize>,
}

impl CheckVerdict {
    fn of(results: &[&CheckResult]) -> Option<CheckVerdict> {
        let status = results.iter().map(|r| r.status).min()?;
        let mut counts = BTreeMap::new();
        for r in results {
            *counts.entry(r.status).or_insert(0) += 1;
        }
        Some(CheckVerdict { status, counts })
    }

    fn display(&self) -> String {
        if self.counts.len() == 1 && self.counts.values().all(|n| *n == 1) {
            return self.status.as_str().to_string();
        }
        self.counts
            .iter()
            .map(|(s, n)| format!("{n} {}", s.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub check: String,
    pub title: String,
    pub area: String,
    /// `null` when the check did not run on this side.
    pub a: Option<CheckVerdict>,
    pub b: Option<CheckVerdict>,
    pub differs: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SideInfo {
    /// Where the side came from (a file name, `live`); set by the caller.
    pub source: String,
    pub tenant_id: String,
    pub tenant_name: Option<String>,
    pub collected_at: String,
    pub summary: Summary,
}

/// Totals over everything compared, kept when the diff is narrowed to its differences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub settings: usize,
    pub settings_differ: usize,
    pub checks: usize,
    pub verdicts_differ: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diff {
    pub schema_version: u32,
    pub a: SideInfo,
    pub b: SideInfo,
    pub totals: Totals,
    pub settings: Vec<Section>,
    pub verdicts: Vec<Verdict>,
}

impl Diff {
    /// `Findings` (1) when any check's verdict differs, else `Success` (0). Settings alone do not
    /// count: tenants legitimately differ in many of them.
    pub fn exit_status(&self) -> ExitStatus {
        if self.totals.verdicts_differ > 0 {
            ExitStatus::Findings
        } else {
            ExitStatus::Success
        }
    }

    /// The same diff with equal settings and verdicts left out (the default view).
    pub fn only_differences(mut self) -> Diff {
        for section in &mut self.settings {
            section.rows.retain(|r| r.differs);
        }
        self.settings.retain(|s| !s.rows.is_empty());
        self.verdicts.retain(|v| v.differs);
        self
    }

    /// Names the sides in the output (file names, `live`).
    pub fn with_sources(mut self, a: &str, b: &str) -> Diff {
        self.a.source = a.to_string();
        self.b.source = b.to_string();
        self
    }

    /// The row with this key, wherever it is.
    pub fn row(&self, key: &str) -> Option<&Row> {
        self.settings
            .iter()
            .flat_map(|s| &s.rows)
            .find(|r| r.key == key)
    }
}

/// Compares tenant A (`a`, with check results `ra`) with tenant B.
pub fn diff(a: &TenantModel, ra: &[CheckResult], b: &TenantModel, rb: &[CheckResult]) -> Diff {
    let va = View { m: a, results: ra };
    let vb = View { m: b, results: rb };
    let mut settings = Vec::new();
    for (name, rows) in [
        ("D365 provider settings", d365_rows(&va, &vb)),
        ("ACS federation", acs_federation_rows(&va, &vb)),
        ("External access", external_access_rows(&va, &vb)),
        ("Information barriers", ib_rows(&va, &vb)),
        ("Resource accounts", resource_account_rows(&va, &vb)),
        ("Licenses", license_rows(&va, &vb)),
        ("Numbers", number_rows(&va, &vb)),
    ] {
        settings.push(Section {
            name: name.to_string(),
            rows,
        });
    }
    let verdicts = verdicts(ra, rb);
    let totals = Totals {
        settings: settings.iter().map(|s| s.rows.len()).sum(),
        settings_differ: settings
            .iter()
            .flat_map(|s| &s.rows)
            .filter(|r| r.differs)
            .count(),
        checks: verdicts.len(),
        verdicts_differ: verdicts.iter().filter(|v| v.differs).count(),
    };
    Diff {
        schema_version: DIFF_SCHEMA_VERSION,
        a: side_info(a, ra, "A"),
        b: side_info(b, rb, "B"),
        totals,
        settings,
        verdicts,
    }
}

fn side_info(m: &TenantModel, results: &[CheckResult], source: &str) -> SideInfo {
    SideInfo {
        source: source.to_string(),
        tenant_id: m.info.id.clone(),
        tenant_name: m.info.name.clone(),
        collected_at: m.info.collected_at.clone(),
        summary: Summary::of(results),
    }
}

fn verdicts(ra: &[CheckResult], rb: &[CheckResult]) -> Vec<Verdict> {
    let mut ids: BTreeMap<&str, (&str, &str)> = BTreeMap::new();
    for r in ra.iter().chain(rb) {
        ids.entry(&r.check).or_insert((&r.title, &r.area));
    }
    ids.into_iter()
        .map(|(id, (title, area))| {
            let of = |results: &[CheckResult]| {
                let mine: Vec<&CheckResult> = results.iter().filter(|r| r.check == id).collect();
                CheckVerdict::of(&mine)
            };
            let (a, b) = (of(ra), of(rb));
            Verdict {
                check: id.to_string(),
                title: title.to_string(),
                area: area.to_string(),
                differs: a.as_ref().map(|v| v.status) != b.as_ref().map(|v| v.status),
                a,
                b,
            }
        })
        .collect()
}

// --- reading the model ------------------------------------------------------------------------

/// One side's model and results, with the lookups the rows share. Each lookup returns the
/// value, or the `Val` to show when it cannot be computed (a fact is unavailable, nothing to
/// compare with).
struct View<'a> {
    m: &'a TenantModel,
    results: &'a [CheckResult],
}

type Got<T> = Result<T, Val>;

/// How a value the source did not send is counted where values are tallied by kind.
const NOT_REPORTED: &str = "not_reported";

/// A field the source may not have sent: absent compares as unavailable, never as a value.
fn sent<T>(field: &Option<T>) -> Got<&T> {
    field.as_ref().ok_or_else(|| Val::Unavailable {
        unavailable: "not_reported".to_string(),
    })
}

fn get<T>(fact: &Fact<T>) -> Got<&T> {
    match fact {
        Fact::Available(v) => Ok(v),
        Fact::Unavailable(u) if u.kind == UnavailableKind::NotRequested => {
            Err(Val::na("not requested"))
        }
        Fact::Unavailable(u) => Err(Val::Unavailable {
            unavailable: serde_json::to_value(u.kind)
                .ok()
                .and_then(|k| k.as_str().map(str::to_string))
                .unwrap_or_else(|| "unavailable".into()),
        }),
    }
}

impl View<'_> {
    /// The active Teams Phone System provider setting in D365.
    fn teams_provider(&self) -> Got<&ProviderSetting> {
        get(&self.m.d365.teams_provider)?
            .as_ref()
            .ok_or_else(|| Val::na("no Teams provider in D365"))
    }

    /// The ACS immutable id D365 records for its Teams Phone System provider.
    fn d365_acs_id(&self) -> Got<String> {
        sent(&self.teams_provider()?.immutable_id)?
            .clone()
            .ok_or_else(|| Val::na("no ACS id in D365"))
    }

    fn dynamics_app_id(&self) -> Got<String> {
        sent(get(&self.m.d365.dynamics_app_id)?)?
            .clone()
            .ok_or_else(|| Val::na("no Dynamics App ID in D365"))
    }

    /// Object ids of the named agents found in the directory.
    fn agent_ids(&self) -> Got<Vec<String>> {
        let agents = get(&self.m.agents).map_err(|e| match e {
            Val::NotApplicable { .. } => Val::na("no agents named"),
            other => other,
        })?;
        Ok(agents.iter().filter_map(|a| a.id.clone()).collect())
    }

    /// Object ids of the contact-center resource accounts.
    fn ra_ids(&self) -> Got<Vec<String>> {
        Ok(get(&self.m.scope.resource_accounts)?
            .iter()
            .map(|s| s.id.clone())
            .collect())
    }

    /// The distinct numbers assigned to contact-center resource accounts, with their owner.
    fn ra_numbers(&self) -> Got<Vec<(String, &PhoneNumber)>> {
        let ids = self.ra_ids()?;
        let by_target = get(&self.m.teams.numbers_by_target)?;
        let numbers = get(&self.m.teams.numbers)?;
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for id in &ids {
            for n in by_target.get(id).into_iter().flatten() {
                if let Some(number) = numbers.get(n)
                    && seen.insert(n.clone())
                {
                    out.push((id.clone(), number));
                }
            }
        }
        Ok(out)
    }

    /// Counts `ids` whose effective external access policy allows ACS, and lists the policies
    /// in effect.
    fn policy_use(&self, ids: &[String]) -> Got<(usize, Vec<PolicyUse>)> {
        let users = get(&self.m.teams.users)?;
        let policies = get(&self.m.teams.external_access_policies)?;
        let mut uses: BTreeMap<String, PolicyUse> = BTreeMap::new();
        for id in ids {
            let (policy, acs_allowed) = match users.get(id) {
                None => ("no Teams record".to_string(), None),
                Some(u) => match &u.external_access_policy {
                    None => ("not reported".to_string(), None),
                    Some(key) => match policies.get(key) {
                        None => (key.clone(), None),
                        Some(p) => (p.identity.clone(), p.enable_acs_federation_access),
                    },
                },
            };
            let builtin = builtin_policy(&policy) || users.get(id).is_none();
            uses.entry(policy.clone())
                .or_insert(PolicyUse {
                    policy,
                    builtin,
                    acs_allowed,
                    count: 0,
                })
                .count += 1;
        }
        let allowed = uses
            .values()
            .filter(|u| u.acs_allowed == Some(true))
            .map(|u| u.count)
            .sum();
        Ok((allowed, uses.into_values().collect()))
    }

    fn licensed(&self, ids: &[String], plans: &[&str]) -> Got<usize> {
        let licenses = get(&self.m.directory.licenses)?;
        Ok(ids
            .iter()
            .filter(|id| {
                licenses.get(*id).is_some_and(|l| {
                    plans.iter().any(|p| {
                        l.plans
                            .as_ref()
                            .and_then(|plans| plans.get(*p))
                            .is_some_and(|s| s.eq_ignore_ascii_case("Success"))
                    })
                })
            })
            .count())
    }
}

/// A Microsoft built-in policy instance (`Global`, `Tag:FederationOnly`): the same name in every
/// tenant, so comparable by name.
fn builtin_policy(identity: &str) -> bool {
    let name = identity.strip_prefix("Tag:").unwrap_or(identity);
    MICROSOFT_DEFAULT_POLICY_NAMES
        .iter()
        .any(|d| d.eq_ignore_ascii_case(name))
}

fn counted(items: impl IntoIterator<Item = String>) -> Val {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for item in items {
        *counts.entry(item).or_insert(0) += 1;
    }
    Val::Counts(counts)
}

/// Builds rows by evaluating each metric on both sides.
struct Rows<'v, 'a> {
    a: &'v View<'a>,
    b: &'v View<'a>,
    rows: Vec<Row>,
}

impl<'v, 'a> Rows<'v, 'a> {
    fn new(a: &'v View<'a>, b: &'v View<'a>) -> Self {
        Rows {
            a,
            b,
            rows: Vec::new(),
        }
    }

    fn add(&mut self, key: &str, setting: &str, metric: impl Fn(&View<'a>) -> Got<Val>) {
        let a = metric(self.a).unwrap_or_else(|v| v);
        let b = metric(self.b).unwrap_or_else(|v| v);
        self.rows.push(Row {
            key: key.to_string(),
            setting: setting.to_string(),
            differs: !a.same(&b),
            a,
            b,
        });
    }
}

// --- the compared settings ----------------------------------------------------------------------

fn d365_rows(a: &View, b: &View) -> Vec<Row> {
    let mut r = Rows::new(a, b);
    r.add(
        "d365.teams_provider_active",
        "Teams Phone System provider setting is active",
        |v| Ok(Val::Bool(get(&v.m.d365.teams_provider)?.is_some())),
    );
    r.add(
        "d365.acs_provider_active",
        "ACS provider setting is active",
        |v| Ok(Val::Bool(get(&v.m.d365.acs_provider)?.is_some())),
    );
    r.add(
        "d365.acs_id_recorded",
        "Teams provider records an ACS immutable id",
        |v| Ok(Val::Bool(v.teams_provider()?.immutable_id.is_some())),
    );
    r.add("d365.acs_id_is_guid", "that ACS id is a GUID", |v| {
        v.d365_acs_id()?;
        Ok(Val::Bool(*sent(&v.teams_provider()?.immutable_id_is_guid)?))
    });
    r.add(
        "d365.providers_share_acs_id",
        "Teams and ACS provider settings record the same ACS id",
        |v| {
            let teams = v.d365_acs_id()?;
            let acs = get(&v.m.d365.acs_provider)?
                .as_ref()
                .ok_or_else(|| Val::na("no ACS provider in D365"))?;
            Ok(Val::Bool(
                sent(&acs.immutable_id)?.as_deref() == Some(teams.as_str()),
            ))
        },
    );
    r.add(
        "d365.dynamics_app_id_recorded",
        "Dynamics App ID is recorded",
        |v| Ok(Val::Bool(sent(get(&v.m.d365.dynamics_app_id)?)?.is_some())),
    );
    r.add(
        "d365.dynamics_app_id_is_guid",
        "Dynamics App ID is a GUID",
        |v| Ok(Val::Bool(crate::ids::guid(&v.dynamics_app_id()?).is_some())),
    );
    r.add(
        "d365.dynamics_app_id_is_documented_example",
        "Dynamics App ID is the value the D365 docs' commands use (4b8f0dce-…)",
        |v| Ok(Val::Bool(v.dynamics_app_id()? == DOCUMENTED_D365_APP_ID)),
    );
    r.add("d365.data_location", "Teams provider data location", |v| {
        let p = v.teams_provider()?;
        Ok(sent(&p.data_location)?
            .clone()
            .map(Val::Text)
            .unwrap_or(Val::Absent))
    });
    r.rows
}

fn acs_federation_rows(a: &View, b: &View) -> Vec<Row> {
    let mut r = Rows::new(a, b);
    r.add("acs_federation.enable_acs_users", "EnableAcsUsers", |v| {
        Ok(Val::Bool(*sent(
            &get(&v.m.teams.acs_federation)?.enable_acs_users,
        )?))
    });
    r.add(
        "acs_federation.d365_acs_id_allowed",
        "AllowedAcsResources holds this tenant's D365 ACS id",
        |v| {
            let fed = get(&v.m.teams.acs_federation)?;
            Ok(Val::Bool(
                sent(&fed.allowed_acs_resources)?.contains(&v.d365_acs_id()?),
            ))
        },
    );
    r.add(
        "acs_federation.allowed_count",
        "AllowedAcsResources entries",
        |v| {
            let fed = get(&v.m.teams.acs_federation)?;
            Ok(Val::Int(sent(&fed.allowed_acs_resources)?.len() as i64))
        },
    );
    r.add(
        "acs_federation.invalid_count",
        "AllowedAcsResources entries that are not immutable ids (ARM paths?)",
        |v| {
            let fed = get(&v.m.teams.acs_federation)?;
            Ok(Val::Int(fed.allowed_acs_resources_invalid.len() as i64))
        },
    );
    r.add(
        "acs_federation.allow_all_acs_resources",
        "AllowAllAcsResources (deprecated)",
        |v| {
            Ok(Val::opt_bool(
                get(&v.m.teams.acs_federation)?.allow_all_acs_resources,
            ))
        },
    );
    r.add(
        "acs_federation.blocked_count",
        "BlockedAcsResources entries (deprecated)",
        |v| {
            let fed = get(&v.m.teams.acs_federation)?;
            Ok(Val::Int(fed.blocked_acs_resources.len() as i64))
        },
    );
    r.add(
        "acs_federation.d365_acs_id_blocked",
        "BlockedAcsResources holds this tenant's D365 ACS id",
        |v| {
            let fed = get(&v.m.teams.acs_federation)?;
            Ok(Val::Bool(
                fed.blocked_acs_resources.contains(&v.d365_acs_id()?),
            ))
        },
    );
    r.add(
        "acs_federation.require_acs_federation_for_meeting",
        "RequireAcsFederationForMeeting",
        |v| {
            Ok(Val::opt_bool(
                get(&v.m.teams.acs_federation)?.require_acs_federation_for_meeting,
            ))
        },
    );
    r.rows
}

fn external_access_rows(a: &View, b: &View) -> Vec<Row> {
    let mut r = Rows::new(a, b);
    // Built-in policies (Global, Tag:FederationOnly) exist in every tenant and are compared by
    // name. Custom policy names are each tenant's own, so custom policies are compared by what
    // they allow, in one row.
    let mut keys: BTreeMap<String, String> = BTreeMap::new();
    for v in [a, b] {
        if let Ok(policies) = get(&v.m.teams.external_access_policies) {
            for (key, p) in policies {
                if builtin_policy(&p.identity) {
                    keys.entry(key.clone())
                        .or_insert_with(|| p.identity.clone());
                }
            }
        }
    }
    let mut ordered: Vec<(String, String)> = keys.into_iter().collect();
    ordered.sort_by_key(|(k, _)| (k != "global", k.clone()));
    for (key, identity) in &ordered {
        let flag = |pick: fn(&ExternalAccessPolicy) -> Val| {
            move |v: &View| -> Got<Val> {
                let policies = get(&v.m.teams.external_access_policies)?;
                Ok(policies.get(key).map(pick).unwrap_or(Val::Absent))
            }
        };
        r.add(
            &format!("external_access.policy.{key}.enable_acs_federation_access"),
            &format!("policy {identity}: EnableAcsFederationAccess"),
            flag(|p| {
                p.enable_acs_federation_access
                    .map(Val::Bool)
                    .unwrap_or(Val::Unavailable {
                        unavailable: "not_reported".to_string(),
                    })
            }),
        );
        r.add(
            &format!("external_access.policy.{key}.enable_federation_access"),
            &format!("policy {identity}: EnableFederationAccess"),
            flag(|p| Val::opt_bool(p.enable_federation_access)),
        );
    }
    r.add(
        "external_access.custom_policies",
        "custom policies (with the number of audited users that have each)",
        |v| {
            let policies = get(&v.m.teams.external_access_policies)?;
            let users = get(&v.m.teams.users)?;
            Ok(Val::Policies(
                policies
                    .iter()
                    .filter(|(_, p)| !builtin_policy(&p.identity))
                    .map(|(key, p)| PolicyUse {
                        policy: p.identity.clone(),
                        builtin: false,
                        acs_allowed: p.enable_acs_federation_access,
                        count: users
                            .values()
                            .filter(|u| u.external_access_policy.as_ref() == Some(key))
                            .count(),
                    })
                    .collect(),
            ))
        },
    );
    r.add(
        "external_access.agents_found",
        "agents found in the directory",
        |v| {
            let named = get(&v.m.agents).map_err(|_| Val::na("no agents named"))?;
            Ok(Val::ratio(
                named.iter().filter(|a| a.found).count(),
                named.len(),
            ))
        },
    );
    r.add(
        "external_access.agents_acs_allowed",
        "agents whose effective policy allows ACS",
        |v| {
            let ids = v.agent_ids()?;
            Ok(Val::ratio(v.policy_use(&ids)?.0, ids.len()))
        },
    );
    r.add(
        "external_access.agent_policies",
        "agents' effective external access policies",
        |v| Ok(Val::Policies(v.policy_use(&v.agent_ids()?)?.1)),
    );
    r.add(
        "external_access.ras_acs_allowed",
        "contact-center resource accounts whose effective policy allows ACS",
        |v| {
            let ids = v.ra_ids()?;
            Ok(Val::ratio(v.policy_use(&ids)?.0, ids.len()))
        },
    );
    r.add(
        "external_access.ra_policies",
        "contact-center resource accounts' effective external access policies",
        |v| Ok(Val::Policies(v.policy_use(&v.ra_ids()?)?.1)),
    );
    r.add(
        "tenant_federation.allow_federated_users",
        "AllowFederatedUsers (tenant federation)",
        |v| {
            Ok(Val::opt_bool(
                get(&v.m.teams.tenant_federation)?.allow_federated_users,
            ))
        },
    );
    r.add(
        "tenant_federation.allowed_domains",
        "federation allowed domains",
        |v| {
            let f = get(&v.m.teams.tenant_federation)?;
            Ok(Val::Text(if f.allowed_domains_mode == "all_known" {
                "all known domains".into()
            } else {
                "an allow-list".into()
            }))
        },
    );
    r.add(
        "tenant_federation.allowed_domain_count",
        "federation allow-list entries",
        |v| {
            Ok(Val::Int(
                get(&v.m.teams.tenant_federation)?.allowed_domains.len() as i64,
            ))
        },
    );
    r.add(
        "tenant_federation.blocked_domains",
        "federation blocked domains",
        |v| {
            Ok(Val::Int(
                get(&v.m.teams.tenant_federation)?.blocked_domains.len() as i64,
            ))
        },
    );
    r.rows
}

fn ib_rows(a: &View, b: &View) -> Vec<Row> {
    let mut r = Rows::new(a, b);
    r.add(
        "ib.active_policies",
        "active information barrier policies",
        |v| {
            let policies = get(&v.m.compliance.ib_policies)?;
            Ok(Val::ratio(
                policies.iter().filter(|p| p.active).count(),
                policies.len(),
            ))
        },
    );
    r.add("ib.mode", "InformationBarrierMode", |v| {
        Ok(get(&v.m.compliance.ib_mode)?
            .clone()
            .map(Val::Text)
            .unwrap_or(Val::Absent))
    });
    r.add("ib.segments", "organization segments", |v| {
        Ok(Val::Int(get(&v.m.compliance.ib_segments)?.len() as i64))
    });
    let in_segment = |ids: Got<Vec<String>>, v: &View| -> Got<Val> {
        let ids = ids?;
        let membership = get(&v.m.compliance.ib_membership)?;
        Ok(Val::ratio(
            ids.iter()
                .filter(|id| membership.get(*id).is_some_and(|m| !m.segments.is_empty()))
                .count(),
            ids.len(),
        ))
    };
    r.add(
        "ib.agents_in_a_segment",
        "agents in at least one segment",
        |v| in_segment(v.agent_ids(), v),
    );
    r.add(
        "ib.ras_in_a_segment",
        "contact-center resource accounts in at least one segment",
        |v| in_segment(v.ra_ids(), v),
    );
    r.add(
        "ib.unevaluable_memberships",
        "users whose segment membership cannot be evaluated",
        |v| {
            let membership = get(&v.m.compliance.ib_membership)?;
            Ok(Val::Int(
                membership
                    .values()
                    .filter(|m| !m.unevaluable.is_empty())
                    .count() as i64,
            ))
        },
    );
    // The checks that declare this row (`diff_row` in their YAML) decide it.
    let checks = tallied_by(DiffRow::IbSeparated);
    let names = checks.join(", ");
    r.add(
        DiffRow::IbSeparated.as_str(),
        &format!("{names} results where IB separates agents from contact-center resource accounts"),
        |v| {
            // Counted over the check's own subjects (whatever it groups by), so unknowns show
            // in the check's verdict rather than here.
            let results: Vec<&CheckResult> = v
                .results
                .iter()
                .filter(|r| checks.contains(&r.check.as_str()) && r.status != Status::Skipped)
                .collect();
            if results.is_empty() {
                return Ok(Val::na(&format!("{names} has nothing to check")));
            }
            let fail = results.iter().filter(|r| r.status == Status::Fail).count();
            Ok(Val::ratio(fail, results.len()))
        },
    );
    r.rows
}

/// The built-in checks whose results the diff row `row` tallies (their `diff_row`), in id order.
fn tallied_by(row: DiffRow) -> Vec<&'static str> {
    engine::catalog::builtin_specs()
        .values()
        .filter(|s| s.diff_row == Some(row))
        .map(|s| s.id.as_str())
        .collect()
}

fn resource_account_rows(a: &View, b: &View) -> Vec<Row> {
    let mut r = Rows::new(a, b);
    r.add("resource_accounts.count", "resource accounts", |v| {
        Ok(Val::Int(get(&v.m.teams.resource_accounts)?.len() as i64))
    });
    r.add(
        "resource_accounts.in_scope",
        "contact-center resource accounts (in scope)",
        |v| Ok(Val::Int(v.ra_ids()?.len() as i64)),
    );
    let over_scope = |v: &View, test: &dyn Fn(&ResourceAccount) -> bool| {
        let ids = v.ra_ids()?;
        let ras = get(&v.m.teams.resource_accounts)?;
        Ok(Val::ratio(
            ids.iter()
                .filter(|id| ras.get(*id).is_some_and(test))
                .count(),
            ids.len(),
        ))
    };
    r.add(
        "resource_accounts.app_id_is_dynamics_app_id",
        "ApplicationId equals this tenant's Dynamics App ID",
        |v| {
            let app_id = v.dynamics_app_id()?;
            over_scope(v, &|ra| {
                ra.application_id.clone().flatten().as_deref() == Some(app_id.as_str())
            })
        },
    );
    r.add(
        "resource_accounts.acs_id_is_d365_acs_id",
        "AcsResourceId equals this tenant's D365 ACS id",
        |v| {
            let acs_id = v.d365_acs_id()?;
            over_scope(v, &|ra| {
                ra.acs_resource_id.clone().flatten().as_deref() == Some(acs_id.as_str())
            })
        },
    );
    r.add(
        "resource_accounts.acs_id_not_guid",
        "AcsResourceId set but not a GUID",
        |v| {
            over_scope(v, &|ra| {
                matches!(ra.acs_resource_id, Some(Some(_)))
                    && ra.acs_resource_id_is_guid == Some(false)
            })
        },
    );
    r.add(
        "resource_accounts.licensed",
        "licensed (Teams Phone Resource Account plan provisioned)",
        |v| {
            let ids = v.ra_ids()?;
            Ok(Val::ratio(
                v.licensed(&ids, &["MCOEV_VIRTUALUSER"])?,
                ids.len(),
            ))
        },
    );
    r.add(
        "resource_accounts.usage_location",
        "with a usage location",
        |v| {
            let ids = v.ra_ids()?;
            let users = get(&v.m.directory.users)?;
            Ok(Val::ratio(
                ids.iter()
                    .filter(|id| {
                        users
                            .get(*id)
                            .and_then(|u| u.usage_location.clone().flatten())
                            .is_some_and(|l| !l.is_empty())
                    })
                    .count(),
                ids.len(),
            ))
        },
    );
    r.add(
        "resource_accounts.account_type",
        "Teams account type is resourceAccount",
        |v| {
            let ids = v.ra_ids()?;
            let users = get(&v.m.teams.users)?;
            Ok(Val::ratio(
                ids.iter()
                    .filter(|id| {
                        users.get(*id).and_then(|u| u.account_type.as_deref())
                            == Some("resourceAccount")
                    })
                    .count(),
                ids.len(),
            ))
        },
    );
    r.add(
        "resource_accounts.one_number",
        "with exactly one phone number",
        |v| {
            let ids = v.ra_ids()?;
            let by_target = get(&v.m.teams.numbers_by_target)?;
            Ok(Val::ratio(
                ids.iter()
                    .filter(|id| by_target.get(*id).is_some_and(|n| n.len() == 1))
                    .count(),
                ids.len(),
            ))
        },
    );
    r.rows
}

fn license_rows(a: &View, b: &View) -> Vec<Row> {
    let mut r = Rows::new(a, b);
    let ra_sku = |v: &View| -> Got<Option<Sku>> {
        Ok(get(&v.m.directory.skus)?
            .iter()
            .find(|s| s.sku_id == RA_LICENSE_SKU || s.sku_part_number == RA_LICENSE_SKU_PART)
            .cloned())
    };
    r.add(
        "licenses.ra_sku_subscribed",
        "Teams Phone Resource Account SKU subscribed",
        |v| Ok(Val::Bool(ra_sku(v)?.is_some())),
    );
    r.add(
        "licenses.ra_sku_available",
        "Teams Phone Resource Account SKU has unassigned units",
        |v| {
            let sku = ra_sku(v)?.ok_or_else(|| Val::na("not subscribed"))?;
            Ok(Val::Bool(*sent(&sku.available_units)? > 0))
        },
    );
    r.add(
        "licenses.ra_sku_status",
        "Teams Phone Resource Account SKU status",
        |v| {
            let sku = ra_sku(v)?.ok_or_else(|| Val::na("not subscribed"))?;
            Ok(Val::Text(sent(&sku.capability_status)?.clone()))
        },
    );
    r.add(
        "licenses.agents_teams",
        "agents with Microsoft Teams provisioned",
        |v| {
            let ids = v.agent_ids()?;
            Ok(Val::ratio(
                v.licensed(&ids, &["TEAMS1", "TEAMS_GOV"])?,
                ids.len(),
            ))
        },
    );
    r.add(
        "licenses.agents_teams_phone",
        "agents with Teams Phone provisioned",
        |v| {
            let ids = v.agent_ids()?;
            Ok(Val::ratio(
                v.licensed(&ids, &["MCOEV", "MCOEV_GOV"])?,
                ids.len(),
            ))
        },
    );
    r.add(
        "licenses.agents_contact_center",
        "agents with a Contact Center license (--cc-sku)",
        |v| {
            let ids = v.agent_ids()?;
            let skus =
                get(&v.m.config.contact_center_skus).map_err(|_| Val::na("no --cc-sku given"))?;
            let licenses = get(&v.m.directory.licenses)?;
            Ok(Val::ratio(
                ids.iter()
                    .filter(|id| {
                        licenses.get(*id).is_some_and(|l| {
                            skus.iter().any(|s| {
                                l.sku_part_numbers
                                    .iter()
                                    .flatten()
                                    .any(|p| p.eq_ignore_ascii_case(s))
                                    || l.sku_ids.iter().any(|i| i.eq_ignore_ascii_case(s))
                            })
                        })
                    })
                    .count(),
                ids.len(),
            ))
        },
    );
    r.add("licenses.agent_skus", "agents' licenses", |v| {
        let ids = v.agent_ids()?;
        let licenses = get(&v.m.directory.licenses)?;
        Ok(counted(
            ids.iter()
                .filter_map(|id| licenses.get(id))
                .flat_map(|l| l.sku_part_numbers.iter().flatten().cloned()),
        ))
    });
    r.rows
}

fn number_rows(a: &View, b: &View) -> Vec<Row> {
    let mut r = Rows::new(a, b);
    r.add("numbers.by_type", "phone numbers by type", |v| {
        Ok(counted(get(&v.m.teams.numbers)?.values().map(|n| {
            n.number_type.clone().unwrap_or_else(|| NOT_REPORTED.into())
        })))
    });
    r.add(
        "numbers.ra_by_type",
        "contact-center numbers by type",
        |v| {
            Ok(counted(v.ra_numbers()?.into_iter().map(|(_, n)| {
                n.number_type.clone().unwrap_or_else(|| NOT_REPORTED.into())
            })))
        },
    );
    // One row per number type either side uses for its contact center: the capability Teams
    // needs is per number, and Operator Connect ranges often lack it.
    let mut types = BTreeSet::new();
    for v in [a, b] {
        if let Ok(numbers) = v.ra_numbers() {
            types.extend(
                numbers
                    .into_iter()
                    .map(|(_, n)| n.number_type.clone().unwrap_or_else(|| NOT_REPORTED.into())),
            );
        }
    }
    for number_type in &types {
        r.add(
            &format!("numbers.ra_{number_type}_voice_application"),
            &format!("contact-center {number_type} numbers with voiceApplicationAssignment"),
            |v| {
                let numbers: Vec<_> = v
                    .ra_numbers()?
                    .into_iter()
                    .filter(|(_, n)| {
                        n.number_type.as_deref().unwrap_or(NOT_REPORTED) == number_type
                    })
                    .collect();
                if numbers.is_empty() {
                    return Ok(Val::Absent);
                }
                Ok(Val::ratio(
                    numbers
                        .iter()
                        .filter(|(_, n)| {
                            n.capabilities
                                .iter()
                                .flatten()
                                .any(|c| c == "voiceApplicationAssignment")
                        })
                        .count(),
                    numbers.len(),
                ))
            },
        );
    }
    r.add(
        "numbers.ra_activated",
        "contact-center numbers activated",
        |v| {
            let numbers = v.ra_numbers()?;
            Ok(Val::ratio(
                numbers
                    .iter()
                    .filter(|(_, n)| n.activation_state.as_deref() == Some("activated"))
                    .count(),
                numbers.len(),
            ))
        },
    );
    r.add(
        "numbers.ra_synced_to_d365",
        "contact-center numbers synced to D365 (active Teams row for the same resource account)",
        |v| {
            let numbers = v.ra_numbers()?;
            let rows = get(&v.m.d365.phone_numbers)?;
            let provider = v.teams_provider()?;
            // A row that lacks a column it would need to match leaves its number undecided.
            let synced = |ra: &str, number: &str| -> Got<bool> {
                let mut undecided = false;
                for row in rows.get(number).into_iter().flatten().filter(|r| r.active) {
                    let matches = [
                        row.number_type.as_ref().map(|t| t == "teams"),
                        row.teams_resource_account
                            .as_ref()
                            .map(|id| id.as_deref() == Some(ra)),
                        row.provider_setting_id
                            .as_ref()
                            .map(|id| id.as_deref() == Some(provider.id.as_str())),
                    ];
                    if matches.contains(&Some(false)) {
                        continue;
                    }
                    if matches.contains(&None) {
                        undecided = true;
                    } else {
                        return Ok(true);
                    }
                }
                if undecided {
                    sent::<bool>(&None)?;
                }
                Ok(false)
            };
            let mut count = 0;
            for (ra, n) in &numbers {
                if synced(ra, &n.number)? {
                    count += 1;
                }
            }
            Ok(Val::ratio(count, numbers.len()))
        },
    );
    r.add(
        "numbers.ra_voice_channel",
        "contact-center numbers bound to an active D365 voice channel",
        |v| {
            let numbers = v.ra_numbers()?;
            let rows = get(&v.m.d365.phone_numbers)?;
            let channels = get(&v.m.d365.voice_channels)?;
            Ok(Val::ratio(
                numbers
                    .iter()
                    .filter(|(_, n)| {
                        rows.get(&n.number).is_some_and(|rows| {
                            rows.iter().any(|row| {
                                channels
                                    .get(&row.id)
                                    .is_some_and(|c| c.iter().any(|c| c.active))
                            })
                        })
                    })
                    .count(),
                numbers.len(),
            ))
        },
    );
    r.add(
        "numbers.d365_rows_by_type",
        "D365 phone-number rows by type",
        |v| {
            Ok(counted(
                get(&v.m.d365.phone_numbers)?.values().flatten().map(|row| {
                    row.number_type
                        .clone()
                        .unwrap_or_else(|| "not reported".into())
                }),
            ))
        },
    );
    r.rows
}

// --- rendering ----------------------------------------------------------------------------------

/// Wrap widths that keep the tables inside a 120-column terminal.
const SETTING_WIDTH: usize = 48;
const VALUE_WIDTH: usize = 30;
const TITLE_WIDTH: usize = 44;

fn side_line(label: &str, s: &SideInfo) -> String {
    let name = s.tenant_name.as_deref().unwrap_or("(no name)");
    let t = &s.summary;
    format!(
        "  {label}  {} — tenant {name} ({}), collected {}: {} pass, {} fail, {} missing, {} unknown, {} skipped",
        s.source, s.tenant_id, s.collected_at, t.pass, t.fail, t.missing, t.unknown, t.skipped
    )
}

/// The terminal rendering: verdicts first (they decide the exit code), then settings by area.
/// Rows that are equal on both sides are left out unless the diff still holds them (`--all`);
/// differing rows are marked `≠` when equal rows are shown too.
pub fn render_table(diff: &Diff) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "ccaudit diff");
    let _ = writeln!(out, "{}", side_line("A", &diff.a));
    let _ = writeln!(out, "{}", side_line("B", &diff.b));
    let t = diff.totals;
    let shows_equal = diff.verdicts.iter().any(|v| !v.differs)
        || diff
            .settings
            .iter()
            .flat_map(|s| &s.rows)
            .any(|r| !r.differs);
    let mark = |differs: bool| if differs { "≠" } else { "" }.to_string();

    let _ = writeln!(
        out,
        "\nCheck verdicts: {} of {} differ",
        t.verdicts_differ, t.checks
    );
    if !diff.verdicts.is_empty() {
        let mut header = vec!["check", "title", "A", "B"];
        header.extend(shows_equal.then_some(""));
        let mut builder = Builder::new();
        builder.push_record(header);
        for v in &diff.verdicts {
            let mut line = vec![
                v.check.clone(),
                v.title.clone(),
                v.a.as_ref().map_or("not run".into(), CheckVerdict::display),
                v.b.as_ref().map_or("not run".into(), CheckVerdict::display),
            ];
            line.extend(shows_equal.then(|| mark(v.differs)));
            builder.push_record(line);
        }
        let mut table = builder.build();
        table
            .with(TableStyle::sharp())
            .with(Modify::new(Columns::one(1)).with(Width::wrap(TITLE_WIDTH).keep_words(true)));
        let _ = writeln!(out, "{table}");
    }

    let _ = writeln!(
        out,
        "\nSettings: {} of {} differ",
        t.settings_differ, t.settings
    );
    for section in &diff.settings {
        let _ = writeln!(out, "\n== {} ==", section.name);
        let mut header = vec!["setting", "A", "B"];
        header.extend(shows_equal.then_some(""));
        let mut builder = Builder::new();
        builder.push_record(header);
        for r in &section.rows {
            let mut line = vec![r.setting.clone(), r.a.display(), r.b.display()];
            line.extend(shows_equal.then(|| mark(r.differs)));
            builder.push_record(line);
        }
        let mut table = builder.build();
        table
            .with(TableStyle::sharp())
            .with(Modify::new(Columns::one(0)).with(Width::wrap(SETTING_WIDTH).keep_words(true)))
            .with(Modify::new(Columns::new(1..3)).with(Width::wrap(VALUE_WIDTH).keep_words(true)));
        let _ = writeln!(out, "{table}");
    }
    let _ = writeln!(
        out,
        "\n{}",
        if t.verdicts_differ == 0 && t.settings_differ == 0 {
            "no differences".to_string()
        } else {
            format!(
                "{} check verdict(s) and {} setting(s) differ{}",
                t.verdicts_differ,
                t.settings_differ,
                if shows_equal {
                    ""
                } else {
                    " (--all shows the equal ones too)"
                }
            )
        }
    );
    out
}

/// The JSON rendering (`diff --format json`), pretty-printed with a trailing newline.
pub fn render_json(diff: &Diff) -> String {
    let mut s = serde_json::to_string_pretty(diff).expect("the diff serialises");
    s.push('\n');
    s
}
