//! Synthetic tenants of any size, for benchmarks and scale tests.
//!
//! The generated snapshot has the same facts, shapes and API variants as
//! `examples/healthy.snapshot.json` (upper-case and braced GUIDs, `tel:` prefixes, a Teams
//! config returned as an object, agents with and without an explicit external access policy),
//! scaled to the requested number of resource accounts, phone numbers and agents. It is
//! deterministic: the same parameters always give the same snapshot, byte for byte, so a
//! benchmark measures the same work on every run. Variation comes from a seeded xorshift
//! generator, not from `rand`.
//!
//! With `faults_per_mille = 0` the tenant is healthy; otherwise that share of agents, resource
//! accounts and numbers carries one of the misconfigurations of the field report, so the
//! audit exercises failing paths (remediation templates) as well.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::fact_key::FactKey;
use crate::model::well_known::{
    ACS_APP_ID, RA_LICENSE_SKU, RA_LICENSE_SKU_PART, TEAMS_PHONE_SKU, TEAMS_PHONE_SKU_PART,
};
use crate::snapshot::{AgentSelection, SCHEMA_VERSION, Snapshot, SourceFact};

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SynthParams {
    /// Contact-center resource accounts, each bound to the Dynamics app and the D365 ACS
    /// resource, with one service number synced to D365. One more resource account, for an
    /// auto attendant, is always added to exercise scoping.
    pub resource_accounts: usize,
    /// Phone numbers in the tenant's inventory (at least one per resource account): after the
    /// resource accounts' numbers come agents' personal numbers, then unassigned numbers.
    pub numbers: usize,
    /// Agents named for the audit.
    pub agents: usize,
    /// Share of agents, resource accounts and numbers given a misconfiguration, in 1/1000.
    pub faults_per_mille: u32,
    /// Seed for the variation; different seeds give different (equally valid) tenants.
    pub seed: u64,
}

impl SynthParams {
    /// A healthy tenant of the given size.
    pub fn healthy(resource_accounts: usize, numbers: usize, agents: usize) -> SynthParams {
        SynthParams {
            resource_accounts,
            numbers,
            agents,
            faults_per_mille: 0,
            seed: 0x5eed_cca0_d170,
        }
    }
}

pub const TENANT_ID: &str = "11111111-2222-3333-4444-555555555555";
pub const DYNAMICS_APP_ID: &str = "7c1e3d2a-5b4f-4e6a-9d8c-0a1b2c3d4e5f";
pub const ACS_IMMUTABLE_ID: &str = "bb567890-1234-1234-1234-bbb123456789";
/// The license SKU part number synthetic agents hold for Dynamics 365 (`--cc-sku`).
pub const CONTACT_CENTER_SKU: &str = "DYN365_CUSTOMER_SERVICE_PREMIUM";

const TEAMS_PROVIDER_ID: &str = "1b2c3d4e-5f60-ef11-8409-000d3a5b1234";
const ACS_PROVIDER_ID: &str = "9a8b7c6d-5e4f-ef11-8409-000d3a5b1234";
const AUTO_ATTENDANT_APP_ID: &str = "ce933385-9390-45d1-9512-c8d228074e07";
const WORKSTREAM_ID: &str = "8e9fa0b1-c2d3-ef11-8409-000d3a5b1234";
const SUBSCRIPTION_ID: &str = "11112222-3333-4444-5555-666677778888";

/// A well-known (id, name) pair: a SKU's skuId and part number, or a service plan's id and name.
type IdName = (&'static str, &'static str);

const RA_SKU: IdName = (RA_LICENSE_SKU, RA_LICENSE_SKU_PART);
const E5_SKU: IdName = ("06ebc4ee-1bb5-47dd-8120-11324bc54e06", "SPE_E5");
const E3_SKU: IdName = ("6fd2c87f-b296-42f0-b197-1e91e994b900", "ENTERPRISEPACK");
const MCOEV_SKU: IdName = (TEAMS_PHONE_SKU, TEAMS_PHONE_SKU_PART);
const CC_SKU: IdName = ("2f9a8e7d-6c5b-4a49-9382-71605f4e3d2c", CONTACT_CENTER_SKU);

const PLAN_RA: IdName = ("f47330e9-c134-43b3-9993-e7f004506889", "MCOEV_VIRTUALUSER");
const PLAN_TEAMS: IdName = ("57ff2da0-773e-42df-b2af-ffb7a2317929", "TEAMS1");
const PLAN_MCOEV: IdName = ("4828c8ec-dc2e-4779-b502-87ac9ce28ab7", "MCOEV");
const PLAN_EXO: IdName = (
    "efb87545-963c-4e0d-99df-69c6916d9eb0",
    "EXCHANGE_S_ENTERPRISE",
);
const PLAN_CC: IdName = ("3a0b9f8e-7d6c-4b5a-8493-827160a5f4e3", CONTACT_CENTER_SKU);

const GRAPH_SP_ID: &str = "3c2a1f5e-9d4b-4b5a-9c4f-2c1d0e9f8a77";
const ACS_SP_ID: &str = "8a99e14e-1fbb-45d1-8475-29dddcdc409f";
const SYNC_APP_SP_ID: &str = "d0245a9f-78ac-4265-8208-3d5c027c9450";
const ADMIN_ID: &str = "2b7e9a14-5c3d-4e8f-a1b2-c3d4e5f60718";
const DR_OPERATOR: &str = "7a205197-8e59-487d-b9fa-3fc1b108f1e5";
const OC_OPERATOR: &str = "83d289bc-a4d3-41e6-8a3f-cff260a3f091";

const GRAPH: &str = "https://graph.microsoft.com";
const TEAMS: &str = "https://api.interfaces.records.teams.microsoft.com";
const ARM: &str = "https://management.azure.com";
const ORG: &str = "https://contoso.crm.dynamics.com/api/data/v9.2";

/// xorshift64*: tiny, fast and good enough to vary a synthetic tenant.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        // Zero is xorshift's fixed point; any other value works.
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15 | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// True with probability `per_mille / 1000`.
    fn chance(&mut self, per_mille: u32) -> bool {
        per_mille > 0 && self.next() % 1000 < u64::from(per_mille)
    }

    /// A version-4-shaped GUID, lower case.
    fn guid(&mut self) -> String {
        let a = self.next();
        let b = self.next();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:x}{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            8 + (b >> 62),
            (b >> 48) & 0xfff,
            b & 0xffff_ffff_ffff
        )
    }
}

/// How a resource account is set up.
struct ResourceAccount {
    id: String,
    upn: String,
    name: String,
    number: String,
    direct_routing: bool,
    /// Misconfiguration: the Operator Connect number has only `userAssignment`.
    user_number_only: bool,
    /// Misconfiguration: "Sync from Teams" never created the D365 row.
    unsynced: bool,
    row_id: String,
    channel_id: String,
    app_id: &'static str,
    acs_id: Option<&'static str>,
}

struct Agent {
    id: String,
    upn: String,
    name: String,
    number: Option<String>,
    e5: bool,
    /// `None` = no explicit policy (Global), else the policy name as Get-CsOnlineUser shows it.
    external_access_policy: Option<&'static str>,
    /// Misconfiguration: Enterprise Voice is off.
    voice_disabled: bool,
}

struct Tenant {
    resource_accounts: Vec<ResourceAccount>,
    agents: Vec<Agent>,
    /// Numbers assigned to nobody.
    spare_numbers: Vec<String>,
}

fn number(i: usize) -> String {
    // +1 425 2xx xxxx, unique per index, never colliding with the examples' 555 numbers.
    format!("+1425{:07}", 2_000_000 + i)
}

fn plan(tenant: &SynthParams) -> Tenant {
    let mut rng = Rng::new(tenant.seed);
    let faults = tenant.faults_per_mille;
    let mut next_number = 0usize;
    let mut take_number = || {
        next_number += 1;
        number(next_number - 1)
    };

    let mut resource_accounts = Vec::with_capacity(tenant.resource_accounts + 1);
    for i in 0..tenant.resource_accounts {
        let direct_routing = rng.next().is_multiple_of(2);
        resource_accounts.push(ResourceAccount {
            id: rng.guid(),
            upn: format!("ra_cc_{i:05}@contoso.com"),
            name: format!("Contact Center Line {i}"),
            number: take_number(),
            direct_routing,
            user_number_only: !direct_routing && rng.chance(faults),
            unsynced: rng.chance(faults),
            row_id: rng.guid(),
            channel_id: rng.guid(),
            app_id: DYNAMICS_APP_ID,
            acs_id: Some(ACS_IMMUTABLE_ID),
        });
    }
    resource_accounts.push(ResourceAccount {
        id: "9f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0".into(),
        upn: "ra_aa_reception@contoso.com".into(),
        name: "Reception Auto Attendant".into(),
        number: take_number(),
        direct_routing: false,
        user_number_only: false,
        unsynced: false,
        row_id: String::new(),
        channel_id: String::new(),
        app_id: AUTO_ATTENDANT_APP_ID,
        acs_id: None,
    });

    let remaining = tenant.numbers.saturating_sub(resource_accounts.len());
    let mut agents = Vec::with_capacity(tenant.agents);
    for i in 0..tenant.agents {
        // Most agents have no explicit policy (Global applies); some name Global explicitly.
        let explicit_global = rng.next().is_multiple_of(3);
        let external_access_policy = if rng.chance(faults) {
            Some("FederationOnly")
        } else {
            explicit_global.then_some("Global")
        };
        agents.push(Agent {
            id: rng.guid(),
            upn: format!("agent{i:05}@contoso.com"),
            name: format!("Agent {i}"),
            number: (i < remaining).then(&mut take_number),
            e5: !rng.next().is_multiple_of(4),
            external_access_policy,
            voice_disabled: rng.chance(faults),
        });
    }
    let spare = remaining.saturating_sub(agents.len());
    let spare_numbers = (0..spare).map(|_| take_number()).collect();
    Tenant {
        resource_accounts,
        agents,
        spare_numbers,
    }
}

fn fact(endpoint: String, data: Value) -> SourceFact {
    SourceFact {
        endpoint,
        data: Some(data),
        error: None,
    }
}

fn plans(list: &[(&str, &str)]) -> Value {
    list.iter()
        .map(|(id, name)| {
            json!({"servicePlanId": id, "servicePlanName": name, "provisioningStatus": "Success", "appliesTo": "User"})
        })
        .collect()
}

fn agent_skus(agent: &Agent) -> Vec<(IdName, Vec<IdName>)> {
    let mut skus = if agent.e5 {
        vec![(E5_SKU, vec![PLAN_TEAMS, PLAN_MCOEV, PLAN_EXO])]
    } else {
        vec![
            (E3_SKU, vec![PLAN_TEAMS, PLAN_EXO]),
            (MCOEV_SKU, vec![PLAN_MCOEV]),
        ]
    };
    skus.push((CC_SKU, vec![PLAN_CC]));
    skus
}

/// Generates a snapshot with the requested shape.
pub fn generate(params: &SynthParams) -> Snapshot {
    let tenant = plan(params);
    let ras = &tenant.resource_accounts;
    let agents = &tenant.agents;
    let mut facts = BTreeMap::new();

    facts.insert(
        FactKey::GraphOrganization.to_string(),
        fact(
            format!("GET {GRAPH}/v1.0/organization"),
            json!({"value": [{
                "id": TENANT_ID, "displayName": "Contoso", "countryLetterCode": "US", "tenantType": "AAD",
                "verifiedDomains": [
                    {"capabilities": "Email, OfficeCommunicationsOnline", "isDefault": true, "isInitial": false, "name": "contoso.com", "type": "Managed"},
                    {"capabilities": "Email, OfficeCommunicationsOnline", "isDefault": false, "isInitial": true, "name": "contoso.onmicrosoft.com", "type": "Managed"}
                ]
            }]}),
        ),
    );

    let e5 = agents.iter().filter(|a| a.e5).count() as i64;
    let e3 = agents.len() as i64 - e5;
    let sku =
        |(id, part): (&str, &str), enabled: i64, consumed: i64, service_plans: &[(&str, &str)]| {
            json!({
                "accountName": "Contoso", "appliesTo": "User", "capabilityStatus": "Enabled",
                "consumedUnits": consumed, "id": format!("{TENANT_ID}_{id}"),
                "prepaidUnits": {"enabled": enabled, "lockedOut": 0, "suspended": 0, "warning": 0},
                "servicePlans": plans(service_plans), "skuId": id, "skuPartNumber": part
            })
        };
    let ra_count = ras.len() as i64;
    facts.insert(
        FactKey::GraphSubscribedSkus.to_string(),
        fact(
            format!("GET {GRAPH}/v1.0/subscribedSkus"),
            json!({"value": [
                sku(RA_SKU, ra_count + 25, ra_count, &[PLAN_RA]),
                sku(E5_SKU, e5 + 50, e5, &[PLAN_TEAMS, PLAN_MCOEV, PLAN_EXO]),
                sku(E3_SKU, e3 + 200, e3, &[PLAN_TEAMS, PLAN_EXO]),
                sku(MCOEV_SKU, e3 + 20, e3, &[PLAN_MCOEV]),
                sku(CC_SKU, agents.len() as i64 + 10, agents.len() as i64, &[PLAN_CC]),
            ]}),
        ),
    );

    let no_extension_attributes: Value = (1..=15)
        .map(|i| (format!("extensionAttribute{i}"), Value::Null))
        .collect::<serde_json::Map<_, _>>()
        .into();
    let mut users = Vec::with_capacity(ras.len() + agents.len());
    let mut licenses = serde_json::Map::new();
    let mut member_of = serde_json::Map::new();
    for ra in ras {
        users.push(json!({
            "id": ra.id, "userPrincipalName": ra.upn, "displayName": ra.name, "accountEnabled": false,
            "userType": "Member", "usageLocation": "US",
            "assignedLicenses": [{"disabledPlans": [], "skuId": RA_SKU.0}],
            "department": null, "companyName": null, "officeLocation": null,
            "onPremisesExtensionAttributes": no_extension_attributes
        }));
        licenses.insert(
            ra.id.clone(),
            json!({"value": [{"id": format!("lic-{}", ra.id), "skuId": RA_SKU.0, "skuPartNumber": RA_SKU.1, "servicePlans": plans(&[PLAN_RA])}]}),
        );
        member_of.insert(ra.id.clone(), json!({"value": []}));
    }
    for agent in agents {
        let skus = agent_skus(agent);
        let mut attributes = no_extension_attributes.clone();
        attributes["extensionAttribute1"] = json!("CC-Voice");
        users.push(json!({
            "id": agent.id, "userPrincipalName": agent.upn, "displayName": agent.name, "accountEnabled": true,
            "userType": "Member", "usageLocation": "US",
            "assignedLicenses": skus.iter().map(|((id, _), _)| json!({"disabledPlans": [], "skuId": id})).collect::<Vec<_>>(),
            "department": "Customer Support", "companyName": "Contoso Ltd", "officeLocation": "Redmond",
            "onPremisesExtensionAttributes": attributes
        }));
        let details: Vec<Value> = skus
            .iter()
            .map(|((id, part), service_plans)| {
                json!({"id": format!("lic-{}-{part}", agent.id), "skuId": id, "skuPartNumber": part, "servicePlans": plans(service_plans)})
            })
            .collect();
        licenses.insert(agent.id.clone(), json!({ "value": details }));
        member_of.insert(
            agent.id.clone(),
            json!({"value": [{"@odata.type": "#microsoft.graph.group", "id": "c0ffee01-aaaa-4bbb-8ccc-0123456789ab", "displayName": "CC Voice Agents", "mail": "cc-voice-agents@contoso.com"}]}),
        );
    }
    facts.insert(
        FactKey::GraphUsers.to_string(),
        fact(
            format!("GET {GRAPH}/v1.0/users/{{id}}"),
            json!({ "value": users }),
        ),
    );
    facts.insert(
        FactKey::GraphLicenseDetails.to_string(),
        fact(
            format!("GET {GRAPH}/v1.0/users/{{id}}/licenseDetails (via $batch)"),
            licenses.into(),
        ),
    );
    facts.insert(
        FactKey::GraphMemberOf.to_string(),
        fact(
            format!("GET {GRAPH}/v1.0/users/{{id}}/transitiveMemberOf/microsoft.graph.group (via $batch)"),
            member_of.into(),
        ),
    );

    facts.insert(
        FactKey::GraphServicePrincipals.to_string(),
        fact(
            format!("GET {GRAPH}/v1.0/servicePrincipals?$filter=appId in (...)"),
            json!({"value": [
                {"id": ACS_SP_ID, "appId": ACS_APP_ID, "displayName": "Azure Communication Services", "servicePrincipalType": "Application", "accountEnabled": true},
                {"id": GRAPH_SP_ID, "appId": "00000003-0000-0000-c000-000000000000", "displayName": "Microsoft Graph", "servicePrincipalType": "Application", "accountEnabled": true}
            ]}),
        ),
    );
    facts.insert(
        FactKey::GraphOAuth2PermissionGrants.to_string(),
        fact(
            format!("GET {GRAPH}/v1.0/oauth2PermissionGrants"),
            json!({"value": [{"id": "grant-sync", "clientId": SYNC_APP_SP_ID, "consentType": "AllPrincipals", "principalId": null, "resourceId": GRAPH_SP_ID, "scope": "User.Read TeamsResourceAccount.Read TeamsResourceAccount.Read.All"}]}),
        ),
    );
    facts.insert(
        FactKey::GraphRoleAssignments.to_string(),
        fact(
            format!("GET {GRAPH}/v1.0/roleManagement/directory/roleAssignments?$expand=principal"),
            json!({"value": [{"id": "role-1", "principalId": ADMIN_ID, "roleDefinitionId": "69091246-20e8-4a56-aa4d-066075b2a7a8", "directoryScopeId": "/",
                "principal": {"@odata.type": "#microsoft.graph.user", "id": ADMIN_ID, "displayName": "Dana Admin"}}]}),
        ),
    );

    let user_configurations: Vec<Value> = agents
        .iter()
        .map(|a| {
            json!({
                "id": a.id, "tenantId": TENANT_ID, "userPrincipalName": a.upn,
                "isEnterpriseVoiceEnabled": !a.voice_disabled, "accountType": "user",
                "featureTypes": ["Teams", "AudioConferencing", "PhoneSystem"],
                "telephoneNumbers": a.number.iter().map(|n| json!({"telephoneNumber": n, "assignmentCategory": "primary"})).collect::<Vec<_>>(),
                "effectivePolicyAssignments": [
                    {"policyType": "ExternalAccessPolicy", "policyAssignment": {"displayName": a.external_access_policy.unwrap_or("Global"), "assignmentType": "direct", "policyId": null, "groupId": null}}
                ]
            })
        })
        .collect();
    facts.insert(
        FactKey::GraphUserConfigurations.to_string(),
        fact(
            format!("GET {GRAPH}/v1.0/admin/teams/userConfigurations/{{id}}"),
            json!({ "value": user_configurations }),
        ),
    );

    // Numbers, in both the Graph (camelCase) and the Teams (PascalCase) shapes.
    let mut graph_numbers = Vec::new();
    let mut teams_numbers = Vec::new();
    let mut push_number = |number: &str,
                           target: Option<&str>,
                           kind: &str,
                           capabilities: &[&str],
                           status: &str| {
        let pascal = |s: &str| s[..1].to_ascii_uppercase() + &s[1..];
        graph_numbers.push(json!({
            "id": format!("num-{}", &number[1..]), "telephoneNumber": number,
            "operatorId": if kind == "operatorConnect" { OC_OPERATOR } else { DR_OPERATOR },
            "numberType": kind, "activationState": "activated", "capabilities": capabilities,
            "assignmentTargetId": target, "assignmentCategory": "primary", "assignmentStatus": status,
            "isoCountryCode": "US", "numberSource": if kind == "directRouting" { "onPremises" } else { "online" }
        }));
        teams_numbers.push(json!({
            "TelephoneNumber": number, "NumberType": pascal(kind), "ActivationState": "Activated",
            "TargetId": target, "Capability": capabilities.iter().map(|c| pascal(c)).collect::<Vec<_>>(),
            "PstnAssignmentStatus": pascal(status), "IsoCountryCode": "US"
        }));
    };
    for ra in ras {
        let (kind, capabilities): (&str, &[&str]) = if ra.app_id == AUTO_ATTENDANT_APP_ID {
            (
                "callingPlan",
                &["voiceApplicationAssignment", "conferenceAssignment"],
            )
        } else if ra.direct_routing {
            (
                "directRouting",
                &[
                    "voiceApplicationAssignment",
                    "userAssignment",
                    "conferenceAssignment",
                ],
            )
        } else if ra.user_number_only {
            ("operatorConnect", &["userAssignment"])
        } else {
            (
                "operatorConnect",
                &["voiceApplicationAssignment", "conferenceAssignment"],
            )
        };
        push_number(
            &ra.number,
            Some(&ra.id),
            kind,
            capabilities,
            "voiceApplicationAssigned",
        );
    }
    let user_capabilities = [
        "voiceApplicationAssignment",
        "userAssignment",
        "conferenceAssignment",
    ];
    for agent in agents {
        if let Some(n) = &agent.number {
            push_number(
                n,
                Some(&agent.id),
                "directRouting",
                &user_capabilities,
                "userAssigned",
            );
        }
    }
    for n in &tenant.spare_numbers {
        push_number(n, None, "directRouting", &user_capabilities, "unassigned");
    }
    facts.insert(
        FactKey::GraphNumberAssignments.to_string(),
        fact(
            format!("GET {GRAPH}/v1.0/admin/teams/telephoneNumberManagement/numberAssignments"),
            json!({ "value": graph_numbers }),
        ),
    );
    facts.insert(
        FactKey::TeamsTelephoneNumbers.to_string(),
        fact(
            format!("GET {TEAMS}/Skype.TelephoneNumberMgmt/Tenants/{TENANT_ID}/telephone-numbers?skip=0&top=999"),
            json!({ "TelephoneNumbers": teams_numbers }),
        ),
    );

    // Resource accounts: Graph beta and the Teams API; every third ACS id in upper case.
    let graph_ras: Vec<Value> = ras
        .iter()
        .enumerate()
        .map(|(i, ra)| {
            let acs = ra.acs_id.map(|id| if i % 3 == 1 { id.to_ascii_uppercase() } else { id.to_string() });
            json!({"id": ra.id, "userPrincipalName": ra.upn, "displayName": ra.name, "appId": ra.app_id,
                   "phoneNumber": format!("tel:{}", ra.number), "acsResourceId": acs})
        })
        .collect();
    let instances: Vec<Value> = ras
        .iter()
        .map(|ra| {
            json!({"objectId": ra.id, "tenantId": TENANT_ID, "userPrincipalName": ra.upn, "displayName": ra.name,
                   "applicationId": ra.app_id, "phoneNumber": format!("tel:{}", ra.number), "acsResourceId": ra.acs_id})
        })
        .collect();
    facts.insert(
        FactKey::GraphResourceAccounts.to_string(),
        fact(
            format!("GET {GRAPH}/beta/admin/teams/resourceAccounts"),
            json!({ "value": graph_ras }),
        ),
    );
    facts.insert(
        FactKey::TeamsApplicationInstances.to_string(),
        fact(
            format!("GET {TEAMS}/Teams.PlatformService/v2/ApplicationInstances?pageSize=100"),
            json!({"applicationInstances": instances, "skipToken": null}),
        ),
    );
    let associations: serde_json::Map<String, Value> = ras
        .iter()
        .map(|ra| {
            let list = if ra.app_id == AUTO_ATTENDANT_APP_ID {
                json!([{"Id": ra.id, "ConfigurationId": "e8d7c6b5-a4f3-4e2d-9c1b-0a9f8e7d6c5b", "ConfigurationType": "AutoAttendant", "CallPriority": 3}])
            } else {
                json!([])
            };
            (ra.id.clone(), list)
        })
        .collect();
    facts.insert(
        FactKey::TeamsApplicationInstanceAssociations.to_string(),
        fact(
            format!("GET {TEAMS}/Teams.VoiceApps/applicationinstanceassociations/{{id}}"),
            associations.into(),
        ),
    );

    let mut online = serde_json::Map::new();
    for ra in ras {
        online.insert(
            ra.id.clone(),
            json!({
                "Identity": format!("CN={}", ra.id), "ObjectId": ra.id, "UserPrincipalName": ra.upn,
                "AccountType": "ResourceAccount", "AccountEnabled": false, "EnterpriseVoiceEnabled": true,
                "FeatureTypes": ["VoiceApp", "PhoneSystem"], "ExternalAccessPolicy": null,
                "OnlineVoiceRoutingPolicy": if ra.direct_routing { json!("CC-DirectRouting-US") } else { Value::Null },
                "TeamsUpgradeEffectiveMode": "TeamsOnly"
            }),
        );
    }
    for agent in agents {
        online.insert(
            agent.id.clone(),
            json!({
                "Identity": format!("CN={}", agent.id), "ObjectId": agent.id, "UserPrincipalName": agent.upn,
                "AccountType": "User", "AccountEnabled": true, "EnterpriseVoiceEnabled": !agent.voice_disabled,
                "FeatureTypes": ["Teams", "AudioConferencing", "PhoneSystem"],
                "ExternalAccessPolicy": agent.external_access_policy,
                "OnlineVoiceRoutingPolicy": if agent.number.is_some() { json!("CC-DirectRouting-US") } else { Value::Null },
                "TeamsUpgradeEffectiveMode": "TeamsOnly"
            }),
        );
    }
    facts.insert(
        FactKey::TeamsOnlineUsers.to_string(),
        fact(
            format!("GET {TEAMS}/Teams.User/users/{{id}} (Get-CsOnlineUser)"),
            online.into(),
        ),
    );

    facts.insert(
        FactKey::TeamsAcsFederationConfiguration.to_string(),
        fact(
            format!("GET {TEAMS}/Skype.Policy/configurations/TeamsAcsFederationConfiguration/configuration/Global"),
            json!({
                "Identity": "Global", "EnableAcsUsers": true, "BlockedAcsResources": [],
                "AllowedAcsResources": [format!("{{{}}}", ACS_IMMUTABLE_ID.to_ascii_uppercase())],
                "RequireAcsFederationForMeeting": false, "LabelForAllowedAcsUsers": "External"
            }),
        ),
    );
    let policy = |identity: &str, acs: bool| json!({"Identity": identity, "EnableFederationAccess": true, "EnableAcsFederationAccess": acs, "EnableTeamsConsumerAccess": acs});
    facts.insert(
        FactKey::TeamsExternalAccessPolicy.to_string(),
        fact(
            format!("GET {TEAMS}/Skype.Policy/configurations/ExternalAccessPolicy"),
            json!([policy("Global", true), policy("Tag:FederationOnly", false)]),
        ),
    );
    facts.insert(
        FactKey::TeamsTenantFederationSettings.to_string(),
        fact(
            format!("GET {TEAMS}/Skype.Policy/configurations/TenantFederationSettings"),
            json!([{"Identity": "Global", "AllowFederatedUsers": true, "AllowedDomains": {"AllowAllKnownDomains": {}}, "BlockedDomains": [], "AllowTeamsConsumer": false}]),
        ),
    );

    facts.insert(
        FactKey::ArmSubscriptions.to_string(),
        fact(
            format!("GET {ARM}/subscriptions?api-version=2022-12-01"),
            json!({"value": [{"id": format!("/subscriptions/{SUBSCRIPTION_ID}"), "subscriptionId": SUBSCRIPTION_ID, "tenantId": TENANT_ID, "displayName": "Contoso Contact Center Prod", "state": "Enabled"}]}),
        ),
    );
    facts.insert(
        FactKey::ArmCommunicationServices.to_string(),
        fact(
            format!("GET {ARM}/subscriptions/{{sub}}/providers/Microsoft.Communication/communicationServices?api-version=2023-04-01"),
            json!({"value": []}),
        ),
    );
    facts.insert(
        FactKey::ArmEventSubscriptions.to_string(),
        fact(
            "GET {acsResourceId}/providers/Microsoft.EventGrid/eventSubscriptions?api-version=2025-02-15".into(),
            json!({}),
        ),
    );

    let provider = |id: &str, name: &str, code: i64| {
        json!({"msdyn_occommunicationprovidersettingid": id, "msdyn_name": name, "msdyn_occommunicationprovider": code,
               "msdyn_occommunicationproviderimmutableid": ACS_IMMUTABLE_ID, "msdyn_occommunicationproviderdatalocation": "United States", "statecode": 0})
    };
    facts.insert(
        FactKey::DataverseProviderSettings.to_string(),
        fact(
            format!("GET {ORG}/msdyn_occommunicationprovidersettings"),
            json!({"value": [
                provider(ACS_PROVIDER_ID, "Azure Communication Services", 192_350_000),
                provider(TEAMS_PROVIDER_ID, "Microsoft Teams Phone System", 192_350_003)
            ]}),
        ),
    );
    facts.insert(
        FactKey::DataverseProviderSettingEntries.to_string(),
        fact(
            format!("GET {ORG}/msdyn_occommunicationprovidersettingentries?$filter=msdyn_key eq 'DynamicsAppId'"),
            json!({"value": [{"msdyn_occommunicationprovidersettingentryid": "2c3d4e5f-6071-ef11-8409-000d3a5b1234", "msdyn_key": "DynamicsAppId", "msdyn_value": DYNAMICS_APP_ID, "msdyn_name": "DynamicsAppId", "_msdyn_communicationprovidersettingentid_value": TEAMS_PROVIDER_ID}]}),
        ),
    );
    let synced = ras
        .iter()
        .filter(|ra| ra.app_id == DYNAMICS_APP_ID && !ra.unsynced);
    let (rows, channels): (Vec<Value>, Vec<Value>) = synced
        .map(|ra| {
            let row = json!({
                "msdyn_ocphonenumberid": ra.row_id, "msdyn_name": ra.number, "msdyn_phonenumber": ra.number,
                "msdyn_phonenumbertype": 1, "msdyn_ocphonenumbersource": if ra.direct_routing { 192_350_001 } else { 192_350_000 },
                "msdyn_teamsresourceaccount": ra.id, "msdyn_phoneinboundenabled": true, "msdyn_phoneoutboundenabled": true,
                "statecode": 0, "_msdyn_occommunicationprovidersettingid_value": TEAMS_PROVIDER_ID
            });
            let channel = json!({
                "msdyn_ocvoicechannelsettingid": ra.channel_id, "msdyn_name": format!("Voice channel {}", ra.number),
                "_msdyn_phonenumberid_value": ra.row_id, "_msdyn_liveworkstreamid_value": WORKSTREAM_ID, "statecode": 0
            });
            (row, channel)
        })
        .unzip();
    facts.insert(
        FactKey::DataversePhoneNumbers.to_string(),
        fact(
            format!("GET {ORG}/msdyn_ocphonenumbers"),
            json!({ "value": rows }),
        ),
    );
    facts.insert(
        FactKey::DataverseVoiceChannels.to_string(),
        fact(
            format!("GET {ORG}/msdyn_ocvoicechannelsettings"),
            json!({ "value": channels }),
        ),
    );

    let invoke = format!(
        "POST https://ps.compliance.protection.outlook.com/adminapi/beta/{TENANT_ID}/InvokeCommand"
    );
    facts.insert(
        FactKey::ComplianceInformationBarrierPolicy.to_string(),
        fact(
            format!("{invoke} Get-InformationBarrierPolicy"),
            json!({"value": [
                {"Name": "Sales-Research-Block", "State": "Active", "AssignedSegment": "Sales", "SegmentsAllowed": [], "SegmentsBlocked": ["Research"]},
                {"Name": "Research-Sales-Block", "State": "Active", "AssignedSegment": "Research", "SegmentsAllowed": [], "SegmentsBlocked": ["Sales"]}
            ]}),
        ),
    );
    facts.insert(
        FactKey::ComplianceOrganizationSegment.to_string(),
        fact(
            format!("{invoke} Get-OrganizationSegment"),
            json!({"value": [
                {"Name": "Sales", "UserGroupFilter": "Department -eq 'Sales'"},
                {"Name": "Research", "UserGroupFilter": "Department -eq 'Research' -or CustomAttribute1 -eq 'R&D'"},
                {"Name": "Support", "UserGroupFilter": "Department -eq 'Customer Support'"}
            ]}),
        ),
    );
    facts.insert(
        FactKey::CompliancePolicyConfig.to_string(),
        fact(
            format!("{invoke} Get-PolicyConfig"),
            json!({"InformationBarrierMode": "SingleSegment"}),
        ),
    );

    Snapshot {
        schema_version: SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        collected_at: "2026-11-27T05:00:00Z".to_string(),
        tenant_id: TENANT_ID.to_string(),
        tenant_name: Some("Contoso (synthetic)".to_string()),
        cloud: "public".to_string(),
        agents: Some(AgentSelection {
            source: "cli".to_string(),
            users: agents.iter().map(|a| a.upn.clone()).collect(),
        }),
        sign_in: None,
        facts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> SynthParams {
        SynthParams::healthy(5, 20, 8)
    }

    fn items<'a>(snapshot: &'a Snapshot, key: &str, wrapper: &str) -> &'a Vec<Value> {
        snapshot.facts[key].data.as_ref().expect("data")[wrapper]
            .as_array()
            .expect("array")
    }

    #[test]
    fn same_parameters_give_the_same_snapshot() {
        assert_eq!(
            generate(&small()).to_json_pretty(),
            generate(&small()).to_json_pretty()
        );
    }

    #[test]
    fn another_seed_gives_another_tenant() {
        let other = SynthParams { seed: 7, ..small() };
        assert_ne!(
            generate(&small()).to_json_pretty(),
            generate(&other).to_json_pretty()
        );
    }

    #[test]
    fn sizes_follow_the_parameters() {
        let s = generate(&SynthParams::healthy(50, 500, 200));
        let ras = items(&s, "graph.resourceAccounts", "value");
        assert_eq!(
            ras.len(),
            50 + 1,
            "the contact-center lines plus the auto attendant"
        );
        assert_eq!(items(&s, "graph.numberAssignments", "value").len(), 500);
        assert_eq!(
            items(&s, "teams.telephoneNumbers", "TelephoneNumbers").len(),
            500
        );
        assert_eq!(s.agents.as_ref().unwrap().users.len(), 200);
        assert_eq!(items(&s, "graph.users", "value").len(), 51 + 200);
        assert_eq!(
            items(&s, "dataverse.msdyn_ocphonenumbers", "value").len(),
            50
        );
    }

    #[test]
    fn numbers_are_unique() {
        let s = generate(&SynthParams::healthy(30, 400, 100));
        let numbers: std::collections::BTreeSet<&str> =
            items(&s, "graph.numberAssignments", "value")
                .iter()
                .map(|n| n["telephoneNumber"].as_str().unwrap())
                .collect();
        assert_eq!(numbers.len(), 400);
    }

    #[test]
    fn every_source_fact_is_present() {
        let s = generate(&small());
        for spec in crate::source_catalog::SOURCES
            .iter()
            .filter(|s| s.discovery.is_none())
        {
            assert!(
                s.facts.contains_key(spec.key.as_str()),
                "{} is missing",
                spec.key
            );
        }
    }

    #[test]
    fn generated_snapshot_reads_back_as_a_valid_snapshot() {
        let text = generate(&small()).to_json_pretty();
        Snapshot::parse(&text, "synthetic.json").expect("valid snapshot");
    }

    #[test]
    fn faults_appear_only_when_asked_for() {
        let online_users = |s: &Snapshot| -> Vec<Value> {
            let users = s.facts["teams.onlineUsers"]
                .data
                .as_ref()
                .unwrap()
                .as_object()
                .unwrap();
            users.values().cloned().collect()
        };
        let clean = generate(&SynthParams::healthy(200, 400, 400));
        assert!(
            online_users(&clean)
                .iter()
                .all(|u| u["EnterpriseVoiceEnabled"] == true)
        );
        assert!(
            online_users(&clean)
                .iter()
                .all(|u| u["ExternalAccessPolicy"] != "FederationOnly")
        );
        let faulty = generate(&SynthParams {
            faults_per_mille: 200,
            ..SynthParams::healthy(200, 400, 400)
        });
        let rows = items(&faulty, "dataverse.msdyn_ocphonenumbers", "value").len();
        assert!(rows < 200, "some lines are not synced");
        assert!(
            online_users(&faulty)
                .iter()
                .any(|u| u["EnterpriseVoiceEnabled"] == false)
        );
        assert!(
            online_users(&faulty)
                .iter()
                .any(|u| u["ExternalAccessPolicy"] == "FederationOnly")
        );
    }

    fn audit(params: &SynthParams) -> Vec<crate::engine::CheckResult> {
        use crate::model::{AuditConfig, TenantModel};
        let snapshot = generate(params);
        let config = AuditConfig {
            contact_center_skus: vec![CONTACT_CENTER_SKU.into()],
        };
        let model = TenantModel::from_snapshot(&snapshot, config);
        let env = crate::engine::cel::environment();
        let checks = crate::engine::catalog::load(&env, None).expect("built-in checks load");
        crate::engine::evaluate(&env, &checks, &model)
    }

    #[test]
    fn healthy_synthetic_tenant_passes_every_applicable_check() {
        let results = audit(&SynthParams::healthy(6, 30, 10));
        let bad: Vec<String> = results
            .iter()
            .filter(|r| r.status.is_finding() || r.status == crate::engine::Status::Unknown)
            .map(|r| format!("{} {}: {}", r.status.as_str(), r.check, r.message))
            .collect();
        assert!(bad.is_empty(), "{bad:#?}");
    }

    #[test]
    fn injected_faults_fail_exactly_the_checks_that_detect_them() {
        let results = audit(&SynthParams {
            faults_per_mille: 300,
            ..SynthParams::healthy(30, 80, 30)
        });
        let failing: std::collections::BTreeSet<&str> = results
            .iter()
            .filter(|r| r.status.is_finding())
            .map(|r| r.check.as_str())
            .collect();
        let expected: std::collections::BTreeSet<&str> =
            ["AGT-001", "EXT-001", "EXT-002", "NUM-002", "NUM-008"].into();
        assert_eq!(failing, expected);
    }
}
