//! `ccaudit permissions [--format table|json|script] [--delegated]`: what a read-only audit
//! needs per source, and which checks each grant unlocks; with `--delegated`, also what a
//! person's own app registration needs (delegated permissions, and the roles the person holds).
//!
//! Nothing here is maintained by hand: the grants come from `source_catalog` (the table the
//! collectors and the "unknown: grant X" messages use), and "which checks" follows check
//! `needs` → model fact paths → snapshot source keys, as the normalizers report them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Serialize;

use super::wrap;
use crate::engine::{self, CheckSet};
use crate::model::{AuditConfig, TenantModel};
use crate::report::ExitStatus;
use crate::sign_in::{SignIn, SignInClient, SignInMethod};
use crate::snapshot::{AgentSelection, SCHEMA_VERSION, Snapshot};
use crate::source_catalog::{Api, Permission, SOURCES, SourceSpec};
use crate::synth::{self, SynthParams};

/// Bumped only on breaking changes to `permissions --format json`.
pub const PERMISSIONS_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, clap::Args)]
pub struct PermissionsArgs {
    /// `script` prints the az commands that create a read-only app registration.
    #[arg(long, value_enum, default_value = "table")]
    pub format: PermissionsFormat,
    /// What a person signing in with their own app registration (`--auth device-code
    /// --client-id`) needs: its delegated permissions and the roles the person must hold, next
    /// to the app-only list; with `--format script`, the az commands for that app instead.
    #[arg(long)]
    pub delegated: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PermissionsFormat {
    Table,
    Json,
    Script,
}

pub fn run(args: PermissionsArgs) -> Result<ExitStatus, String> {
    let text = render(&args)?;
    crate::files::emit_stdout(text.as_bytes(), true).map_err(|e| e.to_string())?;
    Ok(ExitStatus::Success)
}

pub fn render(args: &PermissionsArgs) -> Result<String, String> {
    let env = engine::cel::environment();
    let checks = engine::catalog::load(&env, None).map_err(|e| e.to_string())?;
    let plan = Plan::of(&checks);
    Ok(match args.format {
        PermissionsFormat::Table => table(&plan, args.delegated),
        PermissionsFormat::Json => {
            let mut json = serde_json::to_string_pretty(&plan).map_err(|e| e.to_string())?;
            json.push('\n');
            json
        }
        PermissionsFormat::Script if args.delegated => delegated_script(&plan),
        PermissionsFormat::Script => script(&plan),
    })
}

// ---------------------------------------------------------------------------------------------
// Fact path -> source keys

/// The snapshot sources one model fact is read from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FactSources {
    /// Every source the fact can be read from.
    pub sources: BTreeSet<&'static str>,
    /// Sources without which the fact is unavailable. A source in `sources` but not here has
    /// an alternative (e.g. `teams.users` from Graph or from the Teams admin API).
    pub required: BTreeSet<&'static str>,
}

/// For every model fact path, the sources it comes from, derived from the normalizers: an
/// empty snapshot says which sources each unavailable fact names, and removing one source at a
/// time from a complete synthetic snapshot says which of them the fact cannot do without.
pub fn fact_sources() -> BTreeMap<&'static str, FactSources> {
    let key = |k: &str| {
        SOURCES
            .iter()
            .find(|s| s.key.as_str() == k)
            .map(|s| s.key.as_str())
    };
    let mut out: BTreeMap<&'static str, FactSources> = BTreeMap::new();

    let empty = Snapshot {
        schema_version: SCHEMA_VERSION,
        tool_version: String::new(),
        collected_at: String::new(),
        tenant_id: String::new(),
        tenant_name: None,
        cloud: "public".into(),
        // Named agents, so `agents` is read (from the directory) rather than not requested.
        agents: Some(AgentSelection {
            source: "cli".into(),
            users: vec!["agent@example.com".into()],
        }),
        sign_in: None,
        facts: BTreeMap::new(),
    };
    let model = TenantModel::from_snapshot(&empty, AuditConfig::default());
    for (path, unavailable) in model.facts() {
        let entry = out.entry(path).or_default();
        for s in unavailable
            .map(|u| u.sources.as_slice())
            .unwrap_or_default()
        {
            entry.sources.extend(key(s));
        }
    }

    let config = || AuditConfig {
        contact_center_skus: vec![synth::CONTACT_CENTER_SKU.into()],
    };
    let full = synth::generate(&SynthParams::healthy(2, 3, 2));
    let baseline: BTreeSet<&str> = TenantModel::from_snapshot(&full, config())
        .facts()
        .into_iter()
        .filter(|(_, u)| u.is_none())
        .map(|(p, _)| p)
        .collect();
    for spec in SOURCES {
        let mut without = full.clone();
        without.facts.remove(spec.key.as_str());
        let model = TenantModel::from_snapshot(&without, config());
        for (path, unavailable) in model.facts() {
            if unavailable.is_some() && baseline.contains(path) {
                let entry = out.entry(path).or_default();
                entry.sources.insert(spec.key.as_str());
                entry.required.insert(spec.key.as_str());
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The plan

/// What `permissions --format json` prints.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub schema_version: u32,
    pub sources: Vec<SourceGrants>,
    /// Every application permission an app-only audit needs, each once.
    pub application_permissions: Vec<AppPermission>,
    /// Every delegated permission a person's own app registration needs, each once (their ids
    /// differ per tenant's copy of the API: `--format script --delegated` looks them up).
    pub delegated_permissions: Vec<AppPermission>,
    /// Sources a person's sign-in does not read (app-only access or the collection script
    /// does).
    pub not_read_by_a_person: Vec<&'static str>,
    /// Entra roles that together cover every source that needs one (fewest roles first).
    pub entra_roles: Vec<RoleCover>,
    /// The same for a person signing in: the roles they must hold.
    pub person_entra_roles: Vec<RoleCover>,
    /// Checks no source unlocks (they read only audit settings); normally none.
    pub checks_without_source: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SourceGrants {
    pub key: &'static str,
    pub endpoint: &'static str,
    /// The sentence users see when the source could not be read.
    pub needs: &'static str,
    pub application: Vec<String>,
    pub delegated: Vec<String>,
    /// Any one of them.
    pub entra_roles: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub azure_rbac: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dataverse_role: Option<&'static str>,
    /// The model facts read from it.
    pub facts: Vec<FactUse>,
    /// The checks that need one of those facts.
    pub checks: Vec<String>,
    /// For a source read only to find what to audit: what it finds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discovery: Option<&'static str>,
    /// What else to know about reading it (e.g. an application permission Microsoft documents
    /// only for delegated use).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FactUse {
    pub fact: &'static str,
    /// Other sources that can supply the fact instead of this one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alternatives: Vec<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AppPermission {
    pub api: &'static str,
    pub api_app_id: &'static str,
    pub name: &'static str,
    pub id: Option<&'static str>,
    pub id_confirmed: bool,
    pub sources: Vec<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RoleCover {
    pub role: &'static str,
    pub sources: Vec<&'static str>,
}

fn qualified(p: &Permission) -> String {
    format!("{} {}", p.api.name(), p.name)
}

/// The API's name as a table cell has room for.
fn short(api: Api) -> &'static str {
    match api {
        Api::MicrosoftGraph => "Graph",
        Api::ExchangeOnline => "Exchange Online",
        Api::TeamsAdmin => "Teams admin API",
        Api::AzureServiceManagement => "ARM",
        Api::Dataverse => "Dataverse",
        Api::PowerAppsService => "PowerApps Service",
    }
}

/// A person signed in with their own app registration: what `--delegated` describes.
const OWN_APP_PERSON: SignIn = SignIn {
    method: SignInMethod::DeviceCode,
    client: SignInClient::OwnApp,
};

fn read_by_a_person(spec: &SourceSpec) -> bool {
    OWN_APP_PERSON.tries(spec.key.source())
}

impl Plan {
    pub fn of(checks: &CheckSet) -> Plan {
        let facts = fact_sources();
        let sources: Vec<SourceGrants> = SOURCES
            .iter()
            .map(|spec| source_grants(spec, &facts, checks))
            .collect();
        let unlocked: BTreeSet<&str> = sources
            .iter()
            .flat_map(|s| s.checks.iter().map(String::as_str))
            .collect();
        Plan {
            schema_version: PERMISSIONS_SCHEMA_VERSION,
            application_permissions: permissions_of(|s| s.application),
            delegated_permissions: permissions_of(|s| {
                if read_by_a_person(s) {
                    s.delegated
                } else {
                    &[]
                }
            }),
            not_read_by_a_person: SOURCES
                .iter()
                .filter(|s| !read_by_a_person(s))
                .map(|s| s.key.as_str())
                .collect(),
            entra_roles: role_cover(),
            person_entra_roles: role_cover_of(read_by_a_person),
            checks_without_source: checks
                .keys()
                .filter(|id| !unlocked.contains(id.as_str()))
                .cloned()
                .collect(),
            sources,
        }
    }
}

fn source_grants(
    spec: &'static SourceSpec,
    facts: &BTreeMap<&'static str, FactSources>,
    checks: &CheckSet,
) -> SourceGrants {
    let used: Vec<FactUse> = facts
        .iter()
        .filter(|(_, fs)| fs.sources.contains(spec.key.as_str()))
        .map(|(path, fs)| FactUse {
            fact: path,
            alternatives: if fs.required.contains(spec.key.as_str()) {
                Vec::new()
            } else {
                fs.sources
                    .iter()
                    .copied()
                    .filter(|k| *k != spec.key.as_str() && !fs.required.contains(k))
                    .collect()
            },
        })
        .collect();
    let checks = checks
        .values()
        .filter(|c| {
            c.spec
                .needs
                .iter()
                .any(|n| used.iter().any(|u| u.fact == n.as_str()))
        })
        .map(|c| c.spec.id.clone())
        .collect();
    SourceGrants {
        key: spec.key.as_str(),
        endpoint: spec.endpoint,
        needs: spec.needs,
        application: spec.application.iter().map(qualified).collect(),
        delegated: spec.delegated.iter().map(qualified).collect(),
        entra_roles: spec.entra_roles.to_vec(),
        azure_rbac: spec.azure_rbac,
        dataverse_role: spec.dataverse_role,
        facts: used,
        checks,
        discovery: spec.discovery,
        note: spec.note,
    }
}

/// The permissions `select` picks per source, each once, Graph first, in catalog order.
fn permissions_of(select: fn(&SourceSpec) -> &[Permission]) -> Vec<AppPermission> {
    let mut out: Vec<AppPermission> = Vec::new();
    for spec in SOURCES {
        for p in select(spec) {
            match out
                .iter_mut()
                .find(|a| a.name == p.name && a.api_app_id == p.api.app_id())
            {
                Some(a) => a.sources.push(spec.key.as_str()),
                None => out.push(AppPermission {
                    api: p.api.name(),
                    api_app_id: p.api.app_id(),
                    name: p.name,
                    id: p.id,
                    id_confirmed: p.id_confirmed,
                    sources: vec![spec.key.as_str()],
                }),
            }
        }
    }
    out.sort_by_key(|a| a.api_app_id != Api::MicrosoftGraph.app_id());
    out
}

/// The fewest roles that cover every source needing one: repeatedly the role that covers the
/// most sources not yet covered.
///
/// Discovery sources are left out: the Power Platform admin API does not honour directory roles
/// of an app's service principal (the app is registered with it instead; `script` says how).
fn role_cover() -> Vec<RoleCover> {
    role_cover_of(|_| true)
}

/// [`role_cover`] of the sources `read` keeps (a person's: those a person's sign-in reads).
fn role_cover_of(read: fn(&SourceSpec) -> bool) -> Vec<RoleCover> {
    let mut uncovered: Vec<&SourceSpec> = SOURCES
        .iter()
        .filter(|s| !s.entra_roles.is_empty() && s.discovery.is_none() && read(s))
        .collect();
    let mut out = Vec::new();
    while !uncovered.is_empty() {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for s in &uncovered {
            for r in s.entra_roles {
                *counts.entry(r).or_default() += 1;
            }
        }
        let Some((role, _)) = counts
            .into_iter()
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
        else {
            break;
        };
        let (covered, rest): (Vec<&SourceSpec>, Vec<&SourceSpec>) = uncovered
            .into_iter()
            .partition(|s| s.entra_roles.contains(&role));
        out.push(RoleCover {
            role,
            sources: covered.iter().map(|s| s.key.as_str()).collect(),
        });
        uncovered = rest;
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Renderers

/// The service a source key belongs to, as a heading.
fn service_heading(key: &str) -> &'static str {
    match key.split('.').next().unwrap_or("") {
        "graph" => "Microsoft Graph",
        "teams" => "Teams admin API (the Cs* cmdlets)",
        "arm" => "Azure Resource Manager",
        "dataverse" => "Dataverse (Dynamics 365)",
        "compliance" => "Security & Compliance (information barriers)",
        "powerplatform" => "Power Platform admin API (finding the Dataverse org)",
        _ => "Other",
    }
}

fn grant_lines(s: &SourceGrants) -> Vec<(&'static str, String)> {
    let spec = SOURCES
        .iter()
        .find(|spec| spec.key.as_str() == s.key)
        .expect("grants come from the catalog");
    let perms = |ps: &[Permission]| {
        ps.iter()
            .map(|p| format!("{} {}", short(p.api), p.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut lines = Vec::new();
    if !spec.application.is_empty() {
        lines.push(("app-only:", perms(spec.application)));
    }
    if !spec.delegated.is_empty() {
        lines.push(("delegated:", perms(spec.delegated)));
    }
    if !s.entra_roles.is_empty() {
        let any = if s.entra_roles.len() > 1 {
            " (any one)"
        } else {
            ""
        };
        lines.push(("Entra role:", format!("{}{any}", s.entra_roles.join(" | "))));
    }
    if let Some(rbac) = s.azure_rbac {
        lines.push(("Azure RBAC:", rbac.to_string()));
    }
    if let Some(role) = s.dataverse_role {
        lines.push((
            "Dataverse:",
            format!("an application user with the {role} security role"),
        ));
    }
    lines
}

const WIDTH: usize = 100;
const LABEL: usize = 12;

fn table(plan: &Plan, delegated: bool) -> String {
    let mut out = String::new();
    let mut heading = "";
    for s in &plan.sources {
        let h = service_heading(s.key);
        if h != heading {
            heading = h;
            let _ = writeln!(out, "== {h} ==");
        }
        let _ = writeln!(out, "{}", s.key);
        let mut lines = grant_lines(s);
        let facts: Vec<String> = s
            .facts
            .iter()
            .map(|f| {
                if f.alternatives.is_empty() {
                    f.fact.to_string()
                } else {
                    format!("{} (or from {})", f.fact, f.alternatives.join(", "))
                }
            })
            .collect();
        if !facts.is_empty() {
            lines.push(("reads:", facts.join("; ")));
        }
        if let Some(note) = s.note {
            lines.push(("note:", note.to_string()));
        }
        lines.push((
            "unlocks:",
            if let Some(finds) = s.discovery {
                format!("no check; finds {finds}")
            } else if s.checks.is_empty() {
                "no check (context only)".to_string()
            } else {
                s.checks.join(", ")
            },
        ));
        for (label, text) in lines {
            let _ = writeln!(
                out,
                "  {label:<w$}{}",
                wrap(&text, WIDTH, LABEL + 2),
                w = LABEL
            );
        }
    }
    let _ = writeln!(out, "\n== Summary ==");
    let _ = writeln!(out, "App-only audit, application permissions to grant:");
    for a in &plan.application_permissions {
        let _ = writeln!(out, "  {} {}", a.api, a.name);
    }
    let _ = writeln!(out, "Entra roles for the auditing identity:");
    for r in &plan.entra_roles {
        let line = format!("{} ({})", r.role, r.sources.join(", "));
        let _ = writeln!(out, "  {}", wrap(&line, WIDTH, 4));
    }
    let _ = writeln!(
        out,
        "Azure: Reader on the subscriptions that hold the ACS resources.\n\
         Dataverse: an application user with the Omnichannel administrator role."
    );
    if !plan.checks_without_source.is_empty() {
        let _ = writeln!(
            out,
            "Checks that read only audit settings: {}",
            plan.checks_without_source.join(", ")
        );
    }
    if delegated {
        person_summary(&mut out, plan);
    }
    let _ = writeln!(
        out,
        "`ccaudit permissions --format script` prints the az commands for the app registration."
    );
    let _ = writeln!(
        out,
        "{}",
        if delegated {
            "`ccaudit permissions --format script --delegated` prints them for a person's own app registration."
        } else {
            "`ccaudit permissions --delegated` lists what a person signing in with their own app registration needs."
        }
    );
    out
}

/// The summary for a person who signs in with their own app registration.
fn person_summary(out: &mut String, plan: &Plan) {
    let _ = writeln!(
        out,
        "\nSigned in as a person with your own app registration (--auth device-code --client-id APP_ID),\n\
         delegated permissions to add to it and grant admin consent for (the Azure CLI's own client\n\
         cannot carry most of them):"
    );
    let mut api = "";
    for a in &plan.delegated_permissions {
        if a.api != api {
            api = a.api;
            let _ = writeln!(out, "  {} ({}):", a.api, a.api_app_id);
        }
        let _ = writeln!(out, "    {}", a.name);
    }
    let _ = writeln!(out, "Roles the signed-in person must hold:");
    for r in &plan.person_entra_roles {
        let line = format!("Entra {} ({})", r.role, r.sources.join(", "));
        let _ = writeln!(out, "  {}", wrap(&line, WIDTH, 4));
    }
    let _ = writeln!(
        out,
        "  Azure RBAC Reader on the subscriptions that hold the ACS resources\n  \
         Dataverse: a user with the Omnichannel administrator security role in the environment\n  \
         To find the environment without --dataverse-url: Power Platform Administrator (or\n  \
         Dynamics 365 Administrator)\n  \
         Microsoft Graph reads return no more than the person's own directory role allows: a\n  \
         read-only role such as Global Reader covers the directory reads above"
    );
    let line = format!(
        "Not read with a person's sign-in: {} (app-only access, above, or the collection script an admin runs: `ccaudit collect --script`)",
        plan.not_read_by_a_person.join(", ")
    );
    let _ = writeln!(out, "{}", wrap(&line, WIDTH, 2));
}

fn script(plan: &Plan) -> String {
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(w, "#!/usr/bin/env bash");
    let _ = writeln!(
        w,
        "# A read-only app registration for `ccaudit audit --tenant` / `ccaudit collect`."
    );
    let _ = writeln!(
        w,
        "# Generated by `ccaudit permissions --format script` from ccaudit's source catalog."
    );
    let _ = writeln!(
        w,
        "# Review it, then run it signed in (az login) as an admin who can grant tenant-wide"
    );
    let _ = writeln!(
        w,
        "# admin consent for Microsoft Graph application permissions (Privileged Role Administrator"
    );
    let _ = writeln!(
        w,
        "# or Global Administrator). Ids marked `# verify` come from a single public source."
    );
    let _ = writeln!(w, "set -euo pipefail\n");
    let _ = writeln!(w, "APP_NAME=\"${{APP_NAME:-ccaudit-readonly}}\"");
    let _ = writeln!(w, "\n# 1. The app registration and its service principal.");
    let _ = writeln!(
        w,
        "APP_ID=$(az ad app create --display-name \"$APP_NAME\" --sign-in-audience AzureADMyOrg --query appId -o tsv)"
    );
    let _ = writeln!(
        w,
        "SP_ID=$(az ad sp create --id \"$APP_ID\" --query id -o tsv)"
    );
    let _ = writeln!(
        w,
        "\n# 2. Application permissions, read-only, one per source group."
    );
    let mut api = "";
    for a in &plan.application_permissions {
        let Some(id) = a.id else { continue };
        if a.api_app_id != api {
            api = a.api_app_id;
            let _ = writeln!(w, "# {} ({})", a.api, a.api_app_id);
        }
        let verify = if a.id_confirmed { "" } else { "  # verify" };
        let _ = writeln!(
            w,
            "az ad app permission add --id \"$APP_ID\" --api {} --api-permissions {id}=Role  # {} ({}){verify}",
            a.api_app_id,
            a.name,
            a.sources.join(", ")
        );
    }
    for s in plan.sources.iter().filter(|s| !s.application.is_empty()) {
        if let Some(note) = s.note {
            let text = format!("Note on {}: {note}", s.key);
            for line in wrap(&text, WIDTH - 2, 0).lines() {
                let _ = writeln!(w, "# {line}");
            }
        }
    }
    let _ = writeln!(
        w,
        "\n# 3. Tenant-wide admin consent for the permissions above."
    );
    let _ = writeln!(w, "az ad app permission admin-consent --id \"$APP_ID\"");

    let _ = writeln!(
        w,
        "\n# 4. Entra directory roles for the service principal $SP_ID"
    );
    let _ = writeln!(
        w,
        "#    (Entra admin center > Roles and administrators > role > Add assignments > the app):"
    );
    for r in &plan.entra_roles {
        let _ = writeln!(w, "#    - {}: {}", r.role, r.sources.join(", "));
    }
    let readers = read_only_alternatives();
    if !readers.is_empty() {
        let _ = writeln!(
            w,
            "#    Narrower read-only roles that are enough for some of these sources:"
        );
        for (role, keys) in readers {
            let _ = writeln!(w, "#    - {role}: {}", keys.join(", "));
        }
    }
    let _ = writeln!(
        w,
        "#    The Teams admin API has no application permission: its access comes from the role."
    );
    let _ = writeln!(
        w,
        "#    Information barriers need Exchange.ManageAsApp (above) plus Compliance Administrator."
    );
    let _ = writeln!(
        w,
        "\n# 5. Azure RBAC: Reader on each subscription that holds the ACS resources."
    );
    let _ = writeln!(
        w,
        "#    Set CCAUDIT_SUBSCRIPTIONS=\"<sub-id> <sub-id>\" to grant it here."
    );
    let _ = writeln!(w, "for sub in ${{CCAUDIT_SUBSCRIPTIONS:-}}; do");
    let _ = writeln!(
        w,
        "  az role assignment create --assignee \"$APP_ID\" --role Reader --scope \"/subscriptions/$sub\""
    );
    let _ = writeln!(w, "done");
    let _ = writeln!(
        w,
        "\n# 6. Dataverse: in the Power Platform admin center > Environments > the contact-center"
    );
    let _ = writeln!(
        w,
        "#    environment > Settings > Users + permissions > Application users > New app user:"
    );
    let _ = writeln!(
        w,
        "#    the app $APP_ID with the security role Omnichannel administrator (read of msdyn_oc*)."
    );
    let _ = writeln!(
        w,
        "#    Optional, so ccaudit finds that environment itself (without --dataverse-url): a Power\n\
         #    Platform admin registers the app with the admin API once, in PowerShell:\n\
         #    Install-Module Microsoft.PowerApps.Administration.PowerShell; Add-PowerAppsAccount\n\
         #    New-PowerAppManagementApp -ApplicationId $APP_ID"
    );
    let _ = writeln!(
        w,
        "\n# 7. A credential: a certificate is better than a secret (then set AZURE_CLIENT_ID,"
    );
    let _ = writeln!(
        w,
        "#    AZURE_TENANT_ID and AZURE_CLIENT_CERTIFICATE_PATH or AZURE_CLIENT_SECRET for ccaudit):"
    );
    let _ = writeln!(
        w,
        "#    az ad app credential reset --id \"$APP_ID\" --display-name ccaudit --years 1"
    );
    let _ = writeln!(
        w,
        "echo \"app $APP_NAME: appId $APP_ID, service principal $SP_ID\""
    );
    out
}

/// The az commands for a person's own app registration: a public client (the device-code
/// flow needs one) with the delegated permissions, looked up by name in the tenant's copy of
/// each API, so no scope id is written here that could be wrong.
fn delegated_script(plan: &Plan) -> String {
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(w, "#!/usr/bin/env bash");
    let _ = writeln!(
        w,
        "# A read-only app registration a person signs in with: `ccaudit audit --tenant T --auth\n\
         # device-code --client-id $APP_ID`. Its tokens carry the delegated permissions below, which the\n\
         # Azure CLI's own client cannot. What the audit reads is still limited to what the person's\n\
         # roles allow (step 4).\n\
         # Generated by `ccaudit permissions --format script --delegated` from ccaudit's source catalog.\n\
         # Review it, then run it signed in (az login) as an admin who can grant tenant-wide admin\n\
         # consent (Privileged Role Administrator, Cloud Application Administrator or Global\n\
         # Administrator)."
    );
    let _ = writeln!(w, "set -euo pipefail\n");
    let _ = writeln!(w, "APP_NAME=\"${{APP_NAME:-ccaudit-readonly-delegated}}\"");
    let _ = writeln!(
        w,
        "\n# 1. The app registration, a public client (device-code sign-in), and its service principal."
    );
    let _ = writeln!(
        w,
        "APP_ID=$(az ad app create --display-name \"$APP_NAME\" --sign-in-audience AzureADMyOrg --is-fallback-public-client true --query appId -o tsv)"
    );
    let _ = writeln!(
        w,
        "SP_ID=$(az ad sp create --id \"$APP_ID\" --query id -o tsv)"
    );
    let _ = writeln!(
        w,
        "\n# The id of delegated permission $2 on the API whose appId is $1, in this tenant.\n\
         scope_id() {{\n  \
         local id\n  \
         id=$(az ad sp show --id \"$1\" --query \"oauth2PermissionScopes[?value=='$2'].id | [0]\" -o tsv)\n  \
         if [ -z \"$id\" ]; then echo \"no delegated permission $2 on $1\" >&2; return 1; fi\n  \
         echo \"$id\"\n\
         }}"
    );
    let _ = writeln!(w, "\n# 2. Delegated permissions, read-only.");
    let mut api = "";
    for a in &plan.delegated_permissions {
        if a.api_app_id != api {
            api = a.api_app_id;
            let _ = writeln!(w, "# {} ({})", a.api, a.api_app_id);
        }
        let _ = writeln!(
            w,
            "az ad app permission add --id \"$APP_ID\" --api {api} --api-permissions \"$(scope_id {api} {})=Scope\"  # {}",
            a.name,
            a.sources.join(", ")
        );
    }
    let _ = writeln!(
        w,
        "\n# 3. Tenant-wide admin consent for the permissions above."
    );
    let _ = writeln!(w, "az ad app permission admin-consent --id \"$APP_ID\"");
    let _ = writeln!(
        w,
        "\n# 4. The person who signs in must hold these roles (delegated access is never more than the\n\
         #    person's own): Entra roles"
    );
    for r in &plan.person_entra_roles {
        let _ = writeln!(w, "#    - {}: {}", r.role, r.sources.join(", "));
    }
    let _ = writeln!(
        w,
        "#    Azure RBAC Reader on each subscription that holds the ACS resources; in the contact-center\n\
         #    environment a Dataverse user with the Omnichannel administrator security role; to find\n\
         #    that environment without --dataverse-url, Power Platform Administrator (or Dynamics 365\n\
         #    Administrator). Microsoft Graph reads return no more than the person's directory role\n\
         #    allows: a read-only role such as Global Reader covers them."
    );
    let text = format!(
        "Not read with a person's sign-in: {}. Read them app-only (`ccaudit permissions --format script`) or with the collection script an admin runs (`ccaudit collect --script`).",
        plan.not_read_by_a_person.join(", ")
    );
    for line in wrap(&text, WIDTH - 5, 0).lines() {
        let _ = writeln!(w, "#    {line}");
    }
    let _ = writeln!(
        w,
        "echo \"app $APP_NAME: appId $APP_ID, service principal $SP_ID; sign in with: ccaudit audit --tenant <tenant> --auth device-code --client-id $APP_ID\""
    );
    out
}

/// Roles other than the chosen cover that some sources accept, with those sources.
fn read_only_alternatives() -> Vec<(&'static str, Vec<&'static str>)> {
    let chosen: BTreeSet<&str> = role_cover().iter().map(|r| r.role).collect();
    let mut by_role: BTreeMap<&'static str, Vec<&'static str>> = BTreeMap::new();
    for s in SOURCES.iter().filter(|s| s.discovery.is_none()) {
        for r in s.entra_roles.iter().filter(|r| !chosen.contains(*r)) {
            by_role.entry(r).or_default().push(s.key.as_str());
        }
    }
    by_role.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fallback_sources_are_alternatives_not_requirements() {
        let facts = fact_sources();
        let users = &facts["teams.users"];
        assert!(
            users.sources.contains("graph.userConfigurations"),
            "{users:?}"
        );
        assert!(users.sources.contains("teams.onlineUsers"), "{users:?}");
        assert!(users.required.is_empty(), "{users:?}");
        assert!(
            facts["teams.acs_federation"]
                .required
                .contains("teams.TeamsAcsFederationConfiguration")
        );
    }

    #[test]
    fn one_teams_role_covers_every_teams_admin_source() {
        let cover = role_cover();
        let teams = cover
            .iter()
            .find(|r| r.role == "Teams Administrator")
            .expect("Teams Administrator is chosen");
        for s in SOURCES.iter().filter(|s| s.key.source() == "teams") {
            assert!(teams.sources.contains(&s.key.as_str()), "{}", s.key);
        }
    }
}
