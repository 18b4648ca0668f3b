//! The fields a check can read: every path of `tenant`, with its type and meaning.
//!
//! Checks are validated against it when they load (`engine::paths`), and so are fixture
//! patches, so a mistyped field name is a `file:line` error rather than an `unknown` at run
//! time; `ccaudit checks schema` prints it. The table is kept in step with the Rust model
//! types by a test that serializes the models of both examples and a synthetic tenant with
//! faults and requires every path they produce to be here with a matching type, and every
//! path here to be produced by one of them.
//!
//! Paths are written without `tenant.`; `[…]` is any entry of a map (object ids, numbers,
//! policy keys) or list. Types: `string`, `bool`, `int`, `list`, `map`, `object`, and
//! `answer` (a derived `true`/`false`, or `{"unknown": reason}`, which a rule can return as its
//! verdict); `?` marks a value that may be `null`. Fact paths (`model::fact_paths`) are also
//! `null` when the fact is unavailable.

/// One field of the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// Path below `tenant`, with `[…]` for any entry.
    pub path: &'static str,
    pub kind: &'static str,
    /// One line; empty for containers whose entries are described.
    pub meaning: &'static str,
}

/// Every field, sorted by path.
pub fn fields() -> impl Iterator<Item = Field> {
    FIELDS.iter().map(|&(path, kind, meaning)| Field {
        path,
        kind,
        meaning,
    })
}

/// The field at `path` (below `tenant`, `[…]` for entries).
pub fn field(path: &str) -> Option<Field> {
    FIELDS
        .binary_search_by(|(p, _, _)| (*p).cmp(path))
        .ok()
        .map(|i| {
            let (path, kind, meaning) = FIELDS[i];
            Field {
                path,
                kind,
                meaning,
            }
        })
}

/// The names of the fields directly below `path` (`""` for `tenant` itself).
pub fn children(path: &str) -> Vec<&'static str> {
    FIELDS
        .iter()
        .filter_map(|(p, _, _)| {
            let rest = if path.is_empty() {
                *p
            } else {
                p.strip_prefix(path)?.strip_prefix('.')?
            };
            (!rest.contains(['.', '['])).then_some(rest)
        })
        .collect()
}

/// Whether entries of `path` are reached with `[…]` (a map or a list).
pub fn has_entries(path: &str) -> bool {
    field(&format!("{path}[…]")).is_some()
}

/// The path of `child` below `parent` (`""` for `tenant`).
pub fn join(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_string()
    } else {
        format!("{parent}.{child}")
    }
}

#[rustfmt::skip]
const FIELDS: &[(&str, &str, &str)] = &[
    ("agents", "list", ""),
    ("agents[…]", "object", ""),
    ("agents[…].display_name", "string", "The directory display name, when found."),
    ("agents[…].found", "bool", "Whether the directory has this user."),
    ("agents[…].id", "string", "Lower-case object id, when found in the directory."),
    ("agents[…].key", "string", "As named (UPN or object id)."),
    ("agents[…].name", "string", "The UPN when found, else the key as named: what a report calls the agent."),
    ("agents[…].upn", "string", "The directory UPN, when found."),
    ("azure", "object", ""),
    ("azure.acs_resources", "map", ""),
    ("azure.acs_resources[…]", "object", ""),
    ("azure.acs_resources[…].arm_id", "string", "The ARM resource id, as returned."),
    ("azure.acs_resources[…].data_location", "string?", "`dataLocation`, e.g. `United States`; absent when the resource does not carry it, `null` when null or empty."),
    ("azure.acs_resources[…].host_name", "string?", "`hostName`."),
    ("azure.acs_resources[…].immutable_resource_id", "string", "Same as the key: the id Teams (`AllowedAcsResources`, `acsResourceId`) and Dataverse use."),
    ("azure.acs_resources[…].name", "string", "`name`, else the last segment of the ARM id."),
    ("azure.acs_resources[…].provisioning_state", "string?", "`Succeeded`, `Failed`, …"),
    ("azure.acs_resources[…].subscription_id", "string?", "From the ARM id."),
    ("azure.event_subscriptions", "map", ""),
    ("azure.event_subscriptions[…]", "list", "The Event Grid subscriptions of one ACS resource (by immutable id)."),
    ("azure.event_subscriptions[…][…]", "object", ""),
    ("azure.event_subscriptions[…][…].endpoint_type", "string?", "`destination.endpointType`: `WebHook`, `AzureFunction`, …"),
    ("azure.event_subscriptions[…][…].included_event_types", "list", "`properties.filter.includedEventTypes`; absent when the subscription does not carry it."),
    ("azure.event_subscriptions[…][…].included_event_types[…]", "string", ""),
    ("azure.event_subscriptions[…][…].includes_all_event_types", "bool", "`true` when `includedEventTypes` is `null` (every default event type, IncomingCall included); absent with `included_event_types`."),
    ("azure.event_subscriptions[…][…].name", "string", "`name`, else the last segment of `id`."),
    ("azure.event_subscriptions[…][…].provisioning_state", "string?", "`Succeeded`, …; absent when not sent, `null` when null or empty."),
    ("azure.subscriptions", "list", ""),
    ("azure.subscriptions[…]", "object", ""),
    ("azure.subscriptions[…].display_name", "string", "`displayName`."),
    ("azure.subscriptions[…].id", "string", "`subscriptionId`, or the segment after `/subscriptions/` in `id`; canonical GUID."),
    ("azure.subscriptions[…].state", "string", "`Enabled`, `Disabled`, `Warned`, …"),
    ("compliance", "object", ""),
    ("compliance.agent_restrictions", "list", "Derived, per named agent: the active IB policies that restrict one of its segments."),
    ("compliance.agent_restrictions[…]", "object", ""),
    ("compliance.agent_restrictions[…].found", "bool", "Whether the directory has this agent."),
    ("compliance.agent_restrictions[…].id", "string?", "Lower-case object id; `null` when the agent is not in the directory."),
    ("compliance.agent_restrictions[…].key", "string", "As named (UPN or object id)."),
    ("compliance.agent_restrictions[…].restricting", "list", "Active policies assigned to one of the agent's segments that allow or block segments, sorted."),
    ("compliance.agent_restrictions[…].restricting[…]", "string", ""),
    ("compliance.agent_restrictions[…].segments", "list", "The agent's segments (lower-case)."),
    ("compliance.agent_restrictions[…].segments[…]", "string", ""),
    ("compliance.agent_restrictions[…].unrestricted", "answer", "True when no active policy restricts a segment of the agent, false when one does, unknown when its membership was not computed or cannot be evaluated."),
    ("compliance.agent_restrictions[…].upn", "string", "The directory UPN when found, else the key."),
    ("compliance.agent_segment_groups", "list", ""),
    ("compliance.agent_segment_groups[…]", "object", ""),
    ("compliance.agent_segment_groups[…].members", "list", ""),
    ("compliance.agent_segment_groups[…].members[…]", "object", ""),
    ("compliance.agent_segment_groups[…].members[…].id", "string", ""),
    ("compliance.agent_segment_groups[…].members[…].upn", "string", ""),
    ("compliance.agent_segment_groups[…].segments", "list", ""),
    ("compliance.agent_segment_groups[…].segments[…]", "string", ""),
    ("compliance.agent_segment_groups[…].unevaluable", "list", ""),
    ("compliance.agent_segment_groups[…].unevaluable[…]", "string", ""),
    ("compliance.agent_separation", "list", ""),
    ("compliance.agent_separation[…]", "object", ""),
    ("compliance.agent_separation[…].blocked_ras", "list", "UPNs of the resource accounts an active policy separates the agent from."),
    ("compliance.agent_separation[…].blocked_ras[…]", "string", ""),
    ("compliance.agent_separation[…].blocking_policies", "list", "The policies that do, sorted."),
    ("compliance.agent_separation[…].blocking_policies[…]", "string", ""),
    ("compliance.agent_separation[…].id", "string", ""),
    ("compliance.agent_separation[…].ra_total", "int", "How many contact-center resource accounts there are."),
    ("compliance.agent_separation[…].segments", "list", "The agent's segments (lower-case, sorted)."),
    ("compliance.agent_separation[…].segments[…]", "string", "The agent's segments (lower-case, sorted)."),
    ("compliance.agent_separation[…].unevaluable", "list", "Why the agent's own membership cannot be evaluated (empty when it can)."),
    ("compliance.agent_separation[…].unevaluable[…]", "string", ""),
    ("compliance.agent_separation[…].unevaluable_ras", "list", "Resource accounts whose membership cannot be evaluated, as `upn (why)`."),
    ("compliance.agent_separation[…].unevaluable_ras[…]", "string", ""),
    ("compliance.agent_separation[…].upn", "string", ""),
    ("compliance.ib_membership", "map", ""),
    ("compliance.ib_membership[…]", "object", ""),
    ("compliance.ib_membership[…].segments", "list", "Lower-case names of the segments whose filter matches the user."),
    ("compliance.ib_membership[…].segments[…]", "string", "Lower-case names of the segments whose filter matches the user."),
    ("compliance.ib_membership[…].unevaluable", "list", "`name: reason` for each segment whose filter could not be evaluated for this user (unsupported syntax, group memberships not collected). When it is not…"),
    ("compliance.ib_membership[…].unevaluable[…]", "string", ""),
    ("compliance.ib_mode", "string", ""),
    ("compliance.ib_policies", "list", ""),
    ("compliance.ib_policies[…]", "object", ""),
    ("compliance.ib_policies[…].active", "bool", "`state` is `Active` (any case)."),
    ("compliance.ib_policies[…].assigned_segment", "string", "Lower-case segment name."),
    ("compliance.ib_policies[…].name", "string", "`Name`."),
    ("compliance.ib_policies[…].segments_allowed", "list", "Lower-case segment names, from an array or a PowerShell `{A, B}` string. Names may contain spaces."),
    ("compliance.ib_policies[…].segments_allowed[…]", "string", ""),
    ("compliance.ib_policies[…].segments_blocked", "list", "The same, for `SegmentsBlocked`."),
    ("compliance.ib_policies[…].segments_blocked[…]", "string", "The same, for `SegmentsBlocked`."),
    ("compliance.ib_policies[…].state", "string", "`Active` / `Inactive`, as returned."),
    ("compliance.ib_segments", "map", ""),
    ("compliance.ib_segments[…]", "object", ""),
    ("compliance.ib_segments[…].name", "string", "`Name`, case kept."),
    ("compliance.ib_segments[…].user_group_filter", "string", "`UserGroupFilter` (e.g. `Department -eq 'Sales'`); empty when missing."),
    ("compliance.resource_account_segment_groups", "list", ""),
    ("compliance.resource_account_segment_groups[…]", "object", ""),
    ("compliance.resource_account_segment_groups[…].members", "list", ""),
    ("compliance.resource_account_segment_groups[…].members[…]", "object", ""),
    ("compliance.resource_account_segment_groups[…].members[…].id", "string", ""),
    ("compliance.resource_account_segment_groups[…].members[…].upn", "string", ""),
    ("compliance.resource_account_segment_groups[…].segments", "list", ""),
    ("compliance.resource_account_segment_groups[…].segments[…]", "string", ""),
    ("compliance.resource_account_segment_groups[…].unevaluable", "list", ""),
    ("compliance.resource_account_segment_groups[…].unevaluable[…]", "string", ""),
    ("config", "object", ""),
    ("config.configured_contact_center_skus", "list", "The configured SKUs alone (trimmed, blanks and repeats dropped; empty when none). While it is empty, the Contact Center license check is unknown, not fail, for an agent whose…"),
    ("config.configured_contact_center_skus[…]", "string", ""),
    ("config.contact_center_skus", "list", "SKU part numbers and skuIds that count as a Contact Center agent license: those the reference…"),
    ("config.contact_center_skus[…]", "string", "SKU part numbers and skuIds that count as a Contact Center agent license: those the reference…"),
    ("d365", "object", ""),
    ("d365.acs_data_location", "object", ""),
    ("d365.acs_data_location.country", "string", "ISO code of a single-country ACS geography (`United States` → `US`, `UK` → `GB`, …;…"),
    ("d365.acs_data_location.data_location", "string", "The location used (trimmed); `null` when neither source records one; absent when the source it comes from did not send the field."),
    ("d365.acs_data_location.immutable_id", "string", "The provider's ACS immutable resource id."),
    ("d365.acs_data_location.location_source", "string", "`ARM dataLocation of <name>` or `the D365 Teams provider setting`."),
    ("d365.acs_provider", "object", ""),
    ("d365.acs_provider.active", "bool", ""),
    ("d365.acs_provider.data_location", "string", ""),
    ("d365.acs_provider.id", "string", ""),
    ("d365.acs_provider.immutable_id", "string", ""),
    ("d365.acs_provider.immutable_id_is_guid", "bool", ""),
    ("d365.acs_provider.name", "string", ""),
    ("d365.acs_provider.provider", "string", ""),
    ("d365.acs_provider.provider_code", "int", ""),
    ("d365.dynamics_app_id", "string", ""),
    ("d365.phone_numbers", "map", ""),
    ("d365.phone_numbers[…]", "list", ""),
    ("d365.phone_numbers[…][…]", "object", ""),
    ("d365.phone_numbers[…][…].active", "bool", "`statecode == 0`."),
    ("d365.phone_numbers[…][…].id", "string", "`msdyn_ocphonenumberid`."),
    ("d365.phone_numbers[…][…].inbound_enabled", "bool", "`msdyn_phoneinboundenabled`."),
    ("d365.phone_numbers[…][…].number", "string", "E.164 (same as the key)."),
    ("d365.phone_numbers[…][…].number_type", "string", "`teams` (`msdyn_phonenumbertype` 1), `acs` (0), `unknown` (another value, or `null`). Absent, not `acs`, when the row lacks the column (see…"),
    ("d365.phone_numbers[…][…].outbound_enabled", "bool", "`msdyn_phoneoutboundenabled`."),
    ("d365.phone_numbers[…][…].provider_setting_id", "string", "`_msdyn_occommunicationprovidersettingid_value`; `null` when empty."),
    ("d365.phone_numbers[…][…].teams_resource_account", "string?", "`msdyn_teamsresourceaccount`, canonical GUID: the RA object id that the sync wrote; `null` when empty. When absent, the rows cannot tie resource accounts to…"),
    ("d365.provider_settings", "list", ""),
    ("d365.provider_settings[…]", "object", ""),
    ("d365.provider_settings[…].active", "bool", "`statecode == 0`."),
    ("d365.provider_settings[…].data_location", "string", "`msdyn_occommunicationproviderdatalocation`; `null` when empty (the location comparison is skipped)."),
    ("d365.provider_settings[…].id", "string", "`msdyn_occommunicationprovidersettingid`, canonical GUID."),
    ("d365.provider_settings[…].immutable_id", "string", "`msdyn_occommunicationproviderimmutableid`: canonical GUID, or the raw text (e.g. an ARM path); `null` when empty (then missing). This is the ACS…"),
    ("d365.provider_settings[…].immutable_id_is_guid", "bool", "Whether `immutable_id` is a GUID (`false` when it is `null`); absent with it."),
    ("d365.provider_settings[…].name", "string", "`msdyn_name`, for display only: `null` when absent or empty."),
    ("d365.provider_settings[…].provider", "string", "`acs` (192350000), `twilio` (…001), `telesign` (…002), `teams` (…003, Microsoft Teams Phone System), `unknown`."),
    ("d365.provider_settings[…].provider_code", "int", "The raw option value."),
    ("d365.teams_provider", "object", ""),
    ("d365.teams_provider.active", "bool", ""),
    ("d365.teams_provider.data_location", "string", ""),
    ("d365.teams_provider.id", "string", ""),
    ("d365.teams_provider.immutable_id", "string", ""),
    ("d365.teams_provider.immutable_id_is_guid", "bool", ""),
    ("d365.teams_provider.name", "string", ""),
    ("d365.teams_provider.provider", "string", ""),
    ("d365.teams_provider.provider_code", "int", ""),
    ("d365.voice_channels", "map", ""),
    ("d365.voice_channels[…]", "list", ""),
    ("d365.voice_channels[…][…]", "object", ""),
    ("d365.voice_channels[…][…].active", "bool", "`statecode == 0`."),
    ("d365.voice_channels[…][…].id", "string", "`msdyn_ocvoicechannelsettingid`."),
    ("d365.voice_channels[…][…].name", "string", "`msdyn_name`, for display only: `null` when absent or empty."),
    ("d365.voice_channels[…][…].workstream_id", "string", "`_msdyn_liveworkstreamid_value`; `null` when empty."),
    ("directory", "object", ""),
    ("directory.consent_grants", "list", ""),
    ("directory.consent_grants[…]", "object", ""),
    ("directory.consent_grants[…].client_id", "string", "Object id of the client service principal (lower-case)."),
    ("directory.consent_grants[…].consent_type", "string", "`AllPrincipals` (admin consent) or `Principal`."),
    ("directory.consent_grants[…].principal_id", "string?", "The consenting user for `Principal` grants; `null` for admin consent."),
    ("directory.consent_grants[…].resource_id", "string", "Object id of the resource service principal, for example Microsoft Graph's. Join it with `service_principals[appId].id`."),
    ("directory.consent_grants[…].scopes", "list", "`scope` split on any whitespace (`\"A B\\tC\"` → `[A, B, C]`)."),
    ("directory.consent_grants[…].scopes[…]", "string", "`scope` split on any whitespace (`\"A B\\tC\"` → `[A, B, C]`)."),
    ("directory.contact_center_licenses", "map", "Derived, per found agent (object id): whether the agent holds a Contact Center license."),
    ("directory.contact_center_licenses[…]", "object", ""),
    ("directory.contact_center_licenses[…].covered", "answer", "Whether one of the agent's SKUs counts (`config.contact_center_skus`), or why that is unknown."),
    ("directory.contact_center_licenses[…].matched", "list", "The agent's SKUs that count: part numbers when one matched, else skuIds."),
    ("directory.contact_center_licenses[…].matched[…]", "string", ""),
    ("directory.group_memberships", "map", ""),
    ("directory.group_memberships[…]", "list", ""),
    ("directory.group_memberships[…][…]", "object", ""),
    ("directory.group_memberships[…][…].display_name", "string", "`displayName`."),
    ("directory.group_memberships[…][…].id", "string", "Group object id, lower-case."),
    ("directory.group_memberships[…][…].mail", "string", "`mail`."),
    ("directory.licenses", "map", ""),
    ("directory.licenses[…]", "object", ""),
    ("directory.licenses[…].plans", "map", "`servicePlanName` → `provisioningStatus` (`Success`, `Disabled`, `PendingInput`, `PendingActivation`, `PendingProvisioning`, `Error`), across all the user's…"),
    ("directory.licenses[…].plans[…]", "string", "`servicePlanName` → `provisioningStatus` (`Success`, `Disabled`, `PendingInput`, `PendingActivation`, `PendingProvisioning`, `Error`), across all the user's…"),
    ("directory.licenses[…].sku_ids", "list", "Canonical skuIds, no duplicates."),
    ("directory.licenses[…].sku_ids[…]", "string", "Canonical skuIds, no duplicates."),
    ("directory.licenses[…].sku_part_numbers", "list", "`skuPartNumber`s, no duplicates. Absent when a license lacks it."),
    ("directory.licenses[…].sku_part_numbers[…]", "string", "`skuPartNumber`s, no duplicates. Absent when a license lacks it."),
    ("directory.organization", "object", ""),
    ("directory.organization.country_letter_code", "string", "`countryLetterCode`, the tenant's country, compared with the ACS data location."),
    ("directory.organization.default_domain", "string", "The verified domain with `isDefault: true`."),
    ("directory.organization.display_name", "string", "`displayName`."),
    ("directory.organization.id", "string", "Tenant id (canonical GUID)."),
    ("directory.organization.verified_domains", "list", "`verifiedDomains[].name`, in API order."),
    ("directory.organization.verified_domains[…]", "string", "`verifiedDomains[].name`, in API order."),
    ("directory.role_assignments", "list", ""),
    ("directory.role_assignments[…]", "object", ""),
    ("directory.role_assignments[…].principal_display_name", "string", "The expanded principal's `displayName`."),
    ("directory.role_assignments[…].principal_id", "string", "Lower-case object id of the assignee."),
    ("directory.role_assignments[…].principal_type", "string", "From the expanded principal's `@odata.type`: `#microsoft.graph.servicePrincipal` → `servicePrincipal`, likewise `user` and `group`. `null` without an…"),
    ("directory.role_assignments[…].role_definition_id", "string", "Role template id, canonical GUID."),
    ("directory.role_assignments[…].role_name", "string", "Well-known name for the template id, or `null` for any other role: Teams Administrator `69091246-…`, Teams Communications Administrator `baf37b3a-…`, Teams…"),
    ("directory.service_principals", "map", ""),
    ("directory.service_principals[…]", "object", ""),
    ("directory.service_principals[…].account_enabled", "bool", "`accountEnabled`."),
    ("directory.service_principals[…].app_id", "string", "appId, lower-case (same as the key)."),
    ("directory.service_principals[…].display_name", "string", "`displayName`."),
    ("directory.service_principals[…].id", "string", "Object id of the service principal, lower-case. This is the id that consent grants refer to."),
    ("directory.skus", "list", ""),
    ("directory.skus[…]", "object", ""),
    ("directory.skus[…].available_units", "int", "`enabled_units - consumed_units`. Negative when licenses are over-assigned. Absent when either is."),
    ("directory.skus[…].capability_status", "string", "`Enabled`, `Warning`, `Suspended`, `Deleted`, `LockedOut`."),
    ("directory.skus[…].consumed_units", "int", "`consumedUnits`; 0 when absent."),
    ("directory.skus[…].enabled_units", "int", "`prepaidUnits.enabled`; 0 when absent."),
    ("directory.skus[…].service_plans", "list", "`servicePlans[].servicePlanName`."),
    ("directory.skus[…].service_plans[…]", "string", "`servicePlans[].servicePlanName`."),
    ("directory.skus[…].sku_id", "string", "`skuId`, canonical GUID (`440eaaa8-…` = PHONESYSTEM_VIRTUALUSER)."),
    ("directory.skus[…].sku_part_number", "string", "`skuPartNumber` as returned (`PHONESYSTEM_VIRTUALUSER`, `MCOEV`, …)."),
    ("directory.user_ids_by_upn", "map", ""),
    ("directory.user_ids_by_upn[…]", "string", ""),
    ("directory.users", "map", ""),
    ("directory.users[…]", "object", ""),
    ("directory.users[…].account_enabled", "bool", "`accountEnabled`. `false` is normal for resource accounts (they never sign in), so no check reads it for them; the agent checks read it for agents."),
    ("directory.users[…].assigned_sku_ids", "list", "`assignedLicenses[].skuId`, canonical GUIDs."),
    ("directory.users[…].assigned_sku_ids[…]", "string", "`assignedLicenses[].skuId`, canonical GUIDs."),
    ("directory.users[…].company_name", "string?", "`companyName`."),
    ("directory.users[…].department", "string?", "`department` (also used by IB segment filters)."),
    ("directory.users[…].display_name", "string", "`displayName`."),
    ("directory.users[…].extension_attributes", "map", "`onPremisesExtensionAttributes`, keyed `extensionAttribute1`…`15`, holding only the attributes that are set (not null, not empty)."),
    ("directory.users[…].extension_attributes[…]", "string", "`onPremisesExtensionAttributes`, keyed `extensionAttribute1`…`15`, holding only the attributes that are set (not null, not empty)."),
    ("directory.users[…].id", "string", "Lower-case object id (same as the key)."),
    ("directory.users[…].office_location", "string?", "`officeLocation`."),
    ("directory.users[…].upn", "string", "`userPrincipalName` as written (case kept)."),
    ("directory.users[…].usage_location", "string", "Two-letter usage location. `null` (reported, not set) blocks license assignment."),
    ("directory.users[…].user_type", "string", "`Member` or `Guest`."),
    ("info", "object", ""),
    ("info.cloud", "string", "`public`, `gcc`, `gcc-high`, `dod` or `china`."),
    ("info.collected_at", "string", "RFC 3339 time the collection finished."),
    ("info.id", "string", "Tenant id as the collector recorded it."),
    ("info.name", "string", "Snapshot `tenant_name`, else `directory.organization.display_name`."),
    ("scope", "object", ""),
    ("scope.resource_accounts", "list", ""),
    ("scope.resource_accounts[…]", "object", ""),
    ("scope.resource_accounts[…].id", "string", "Resource account object id."),
    ("scope.resource_accounts[…].reasons", "list", "`dynamics_app_id` (application id equals `d365.dynamics_app_id`), `d365_acs_resource` (ACS id equals the Teams provider's immutable id), `d365_phone_number`…"),
    ("scope.resource_accounts[…].reasons[…]", "string", "`dynamics_app_id` (application id equals `d365.dynamics_app_id`), `d365_acs_resource` (ACS id equals the Teams provider's immutable id), `d365_phone_number`…"),
    ("teams", "object", ""),
    ("teams.acs_blocking_policies", "list", "Derived: the external access policies with EnableAcsFederationAccess False or not reported, each with the named agents and contact-center resource accounts whose effective policy it is."),
    ("teams.acs_blocking_policies[…]", "object", ""),
    ("teams.acs_blocking_policies[…].agents", "list", "UPNs of the agents among `holders`."),
    ("teams.acs_blocking_policies[…].agents[…]", "string", ""),
    ("teams.acs_blocking_policies[…].held_by_nobody", "answer", "True when no named agent or resource account holds it, false when one does, unknown when its setting or someone's assignment was not reported."),
    ("teams.acs_blocking_policies[…].holders", "list", "Who has it as their effective policy, sorted by kind then UPN."),
    ("teams.acs_blocking_policies[…].holders[…]", "object", ""),
    ("teams.acs_blocking_policies[…].holders[…].kind", "string", "`agent` or `resource account`."),
    ("teams.acs_blocking_policies[…].holders[…].upn", "string", ""),
    ("teams.acs_blocking_policies[…].identity", "string", "As returned: `Global` or `Tag:Name`."),
    ("teams.acs_blocking_policies[…].key", "string", "Key into `teams.external_access_policies`."),
    ("teams.acs_blocking_policies[…].name", "string", "Without `Tag:`, case kept."),
    ("teams.acs_blocking_policies[…].resource_accounts", "list", "UPNs of the resource accounts among `holders`."),
    ("teams.acs_blocking_policies[…].resource_accounts[…]", "string", ""),
    ("teams.acs_federation", "object", ""),
    ("teams.acs_federation.allow_all_acs_resources", "bool?", "Deprecated `AllowAllAcsResources`. `null` when the service no longer returns it (current tenants), so a check can tell \"absent\" from `false`."),
    ("teams.acs_federation.allowed_acs_resources", "list", "`AllowedAcsResources` (`null` = empty): each GUID entry canonical (lower-case, bare), de-duplicated. **Entries that are not GUIDs (ARM paths, typos) are…"),
    ("teams.acs_federation.allowed_acs_resources[…]", "string", "`AllowedAcsResources` (`null` = empty): each GUID entry canonical (lower-case, bare), de-duplicated. **Entries that are not GUIDs (ARM paths, typos) are…"),
    ("teams.acs_federation.allowed_acs_resources_invalid", "list", "The subset of `allowed_acs_resources` that is not a GUID (for example `/subscriptions/…/communicationServices/x`). The cmdlet expects immutable ids, so…"),
    ("teams.acs_federation.allowed_acs_resources_invalid[…]", "string", "The subset of `allowed_acs_resources` that is not a GUID (for example `/subscriptions/…/communicationServices/x`). The cmdlet expects immutable ids, so…"),
    ("teams.acs_federation.blocked_acs_resources", "list", "Deprecated `BlockedAcsResources`, canonical like the allow-list. Only meaningful when `allow_all_acs_resources` is `true`."),
    ("teams.acs_federation.blocked_acs_resources[…]", "string", ""),
    ("teams.acs_federation.enable_acs_users", "bool", "`EnableAcsUsers`."),
    ("teams.acs_federation.label_for_allowed_acs_users", "string", "`LabelForAllowedAcsUsers` (`Unverified` default, or `External`)."),
    ("teams.acs_federation.require_acs_federation_for_meeting", "bool", "`RequireAcsFederationForMeeting`."),
    ("teams.external_access", "map", "Derived, per found agent and contact-center resource account (object id): the effective external access policy."),
    ("teams.external_access[…]", "object", ""),
    ("teams.external_access[…].allows_acs", "answer", "Whether the effective policy has EnableAcsFederationAccess True, or why that is unknown."),
    ("teams.external_access[…].id", "string", "Object id (lower-case GUID)."),
    ("teams.external_access[…].kind", "string", "`agent` or `resource account`."),
    ("teams.external_access[…].policy", "string?", "Identity of the effective policy (`Global`, `Tag:Name`); `null` when it cannot be named (no Teams user record, an absent assignment, a policy not collected)."),
    ("teams.external_access[…].upn", "string", "UPN (the Teams record's, else the directory's)."),
    ("teams.external_access_policies", "map", ""),
    ("teams.external_access_policies[…]", "object", ""),
    ("teams.external_access_policies[…].communication_with_external_orgs", "string?", "`CommunicationWithExternalOrgs` (`OrganizationDefault`, `AllowAllExternalDomains`, …)."),
    ("teams.external_access_policies[…].enable_acs_federation_access", "bool", "`EnableAcsFederationAccess`, the per-user ACS switch. A non-boolean value is `malformed`."),
    ("teams.external_access_policies[…].enable_federation_access", "bool", "`EnableFederationAccess`."),
    ("teams.external_access_policies[…].enable_teams_consumer_access", "bool", "`EnableTeamsConsumerAccess`."),
    ("teams.external_access_policies[…].identity", "string", "As returned: `Global` or `Tag:Name`."),
    ("teams.external_access_policies[…].name", "string", "Without `Tag:`, case kept: `Global`, `FederationOnly`."),
    ("teams.numbers", "map", ""),
    ("teams.numbers[…]", "object", ""),
    ("teams.numbers[…].activation_state", "string", "`activated`, `assignmentPending`, `assignmentFailed`, `updatePending`, `updateFailed`; from Teams `ActivationState`."),
    ("teams.numbers[…].assignment_status", "string", "`unassigned`, `userAssigned`, `voiceApplicationAssigned`, `thirdPartyAppAssigned`, `conferenceAssigned`, `policyAssigned`, …; from Teams…"),
    ("teams.numbers[…].assignment_target_id", "string", "Lower-case object id of the user or resource account. Graph `assignmentTargetId`; Teams `TargetId`, `AssignedPstnTargetId` or `AssignedTo.id` (each has been…"),
    ("teams.numbers[…].capabilities", "list", "`voiceApplicationAssignment`, `userAssignment`, `conferenceAssignment`, `teamsPhoneMobile`. From Teams `Capability`: a list, or a PowerShell `{A,…"),
    ("teams.numbers[…].capabilities[…]", "string", "`voiceApplicationAssignment`, `userAssignment`, `conferenceAssignment`, `teamsPhoneMobile`. From Teams `Capability`: a list, or a PowerShell `{A,…"),
    ("teams.numbers[…].iso_country_code", "string", "`isoCountryCode`."),
    ("teams.numbers[…].number", "string", "E.164 (same as the key). `telephoneNumber` / `TelephoneNumber`, `tel:` removed."),
    ("teams.numbers[…].number_type", "string", "`callingPlan`, `operatorConnect`, `directRouting`, …; from Teams `NumberType` (`DirectRouting` → `directRouting`)."),
    ("teams.numbers[…].operator_id", "string", "`operatorId` / `OperatorId` (Teams also `PstnPartnerId`)."),
    ("teams.numbers[…].operator_name", "string?", "Teams `PstnPartnerName` (the number checks name the operator in their fix). Graph does not report it (`null`)."),
    ("teams.numbers[…].source", "string", "`graph` or `teams`."),
    ("teams.numbers_by_target", "map", ""),
    ("teams.numbers_by_target[…]", "list", ""),
    ("teams.numbers_by_target[…][…]", "string", ""),
    ("teams.ra_associations", "map", ""),
    ("teams.ra_associations[…]", "list", ""),
    ("teams.ra_associations[…][…]", "object", ""),
    ("teams.ra_associations[…][…].config_id", "string", "`ConfigurationId`, canonical GUID: the auto attendant or call queue."),
    ("teams.ra_associations[…][…].config_type", "string", "`ConfigurationType`: `AutoAttendant` or `CallQueue`."),
    ("teams.resource_accounts", "map", ""),
    ("teams.resource_accounts[…]", "object", ""),
    ("teams.resource_accounts[…].acs_resource_id", "string?", "`acsResourceId` / `AcsResourceId`: canonical GUID, or the raw text when it is not a GUID (for example an ARM path). `null` when unset or `\"\"`. Compare it…"),
    ("teams.resource_accounts[…].acs_resource_id_is_guid", "bool", "Whether `acs_resource_id` is a GUID; `false` when it is `null`; absent when it is."),
    ("teams.resource_accounts[…].application_id", "string", "`appId` / `ApplicationId`: canonical GUID, or the raw text when it is not a GUID. `null` when unset or empty. Compare it with `tenant.d365.dynamics_app_id`…"),
    ("teams.resource_accounts[…].application_kind", "string", "`auto_attendant` (`ce933385-…`), `call_queue` (`11cd3e2e-…`), `documented_example` (`4b8f0dce-…`, the value the D365 docs'…"),
    ("teams.resource_accounts[…].display_name", "string", "`displayName`."),
    ("teams.resource_accounts[…].id", "string", "Object id, lower-case GUID (same as the key and as `directory.users` keys)."),
    ("teams.resource_accounts[…].phone_number", "string", "`phoneNumber` (`tel:+1…`) as E.164. The number assignment itself is in `teams.numbers`."),
    ("teams.resource_accounts[…].source", "string", "`graph` or `teams`: which source the record came from."),
    ("teams.resource_accounts[…].upn", "string", "`userPrincipalName`."),
    ("teams.tenant_federation", "object", ""),
    ("teams.tenant_federation.allow_federated_users", "bool", "`AllowFederatedUsers`."),
    ("teams.tenant_federation.allow_teams_consumer", "bool", "`AllowTeamsConsumer`."),
    ("teams.tenant_federation.allow_teams_consumer_inbound", "bool?", "`AllowTeamsConsumerInbound`."),
    ("teams.tenant_federation.allowed_domains", "list", "The allow-list domains in `list` mode, as written (the `Domain=` prefix removed)."),
    ("teams.tenant_federation.allowed_domains[…]", "string", "The allow-list domains in `list` mode, as written (the `Domain=` prefix removed)."),
    ("teams.tenant_federation.allowed_domains_mode", "string", "`all_known` or `list`; see the table above."),
    ("teams.tenant_federation.block_all_subdomains", "bool?", "`BlockAllSubdomains`."),
    ("teams.tenant_federation.blocked_domains", "list", "`BlockedDomains` as strings, as `{\"Domain\": …}` objects, as `{\"BlockedDomain\": [...]}`, or as a PowerShell string."),
    ("teams.tenant_federation.blocked_domains[…]", "string", ""),
    ("teams.tenant_federation.external_access_with_trial_tenants", "string?", "`ExternalAccessWithTrialTenants` (`Allowed` / `Blocked`)."),
    ("teams.users", "map", ""),
    ("teams.users[…]", "object", ""),
    ("teams.users[…].account_type", "string", "camelCase: `user`, `resourceAccount`, `guest`, `sfbOnPremUser`, `unknown`, `ineligibleUser`. Teams `ResourceAccount` → `resourceAccount`."),
    ("teams.users[…].effective_policies", "map", "policyType → policy name as reported: Graph `effectivePolicyAssignments` (including `Global`), completed by Get-CsOnlineUser's non-empty `*Policy`…"),
    ("teams.users[…].effective_policies[…]", "string", "policyType → policy name as reported: Graph `effectivePolicyAssignments` (including `Global`), completed by Get-CsOnlineUser's non-empty `*Policy`…"),
    ("teams.users[…].enterprise_voice_enabled", "bool", "`isEnterpriseVoiceEnabled` / `EnterpriseVoiceEnabled`."),
    ("teams.users[…].external_access_policy", "string", "Key into `tenant.teams.external_access_policies` for the effective policy: lower-case, without `Tag:`. `global` when nothing is assigned (an empty or `null`…"),
    ("teams.users[…].feature_types", "list", "`featureTypes` / `FeatureTypes` as written (`Teams`, `PhoneSystem`, `VoiceApp`, `CallingPlan`, …). Taken from Graph when Graph lists any, otherwise from…"),
    ("teams.users[…].feature_types[…]", "string", "`featureTypes` / `FeatureTypes` as written (`Teams`, `PhoneSystem`, `VoiceApp`, `CallingPlan`, …). Taken from Graph when Graph lists any, otherwise from…"),
    ("teams.users[…].id", "string", "Lower-case object id (same as the key)."),
    ("teams.users[…].online_voice_routing_policy", "string?", "Name of the assigned online voice routing policy, without `Tag:`. `null` when none is assigned and the Global (org-wide default) policy applies: an…"),
    ("teams.users[…].teams_upgrade_effective_mode", "string", "`TeamsUpgradeEffectiveMode` (`TeamsOnly`, `Islands`, …). Only Get-CsOnlineUser reports it, so it is absent when that source is unavailable."),
    ("teams.users[…].upn", "string", "`userPrincipalName` as written (case kept)."),
    ("teams.users_not_found", "list", ""),
    ("teams.users_not_found[…]", "string", ""),
];

/// Whether `value` has the type `kind` says; `fact` values may also be `null` (unavailable).
pub fn matches(kind: &str, value: &serde_json::Value, fact: bool) -> bool {
    use serde_json::Value;
    let (kind, nullable) = match kind.strip_suffix('?') {
        Some(k) => (k, true),
        None => (kind, false),
    };
    if value.is_null() {
        return nullable || fact || kind == "null";
    }
    kind.split('|').any(|k| match k {
        "string" => value.is_string(),
        "bool" => value.is_boolean(),
        "int" => value.is_i64() || value.is_u64(),
        "list" => value.is_array(),
        "map" | "object" => value.is_object(),
        "answer" => {
            value.is_boolean()
                || value
                    .as_object()
                    .is_some_and(|m| m.get("unknown").is_some_and(Value::is_string))
        }
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::Value;

    use super::*;
    use crate::model::{AuditConfig, TenantModel};
    use crate::snapshot::Snapshot;

    /// Every path of `value` with what is wrong with it, if anything.
    fn walk(value: &Value, path: &str, seen: &mut BTreeSet<String>, wrong: &mut Vec<String>) {
        if !path.is_empty() {
            let Some(f) = field(path) else {
                wrong.push(format!("{path}: not in the schema"));
                return;
            };
            seen.insert(path.to_string());
            let fact = crate::model::fact_paths().contains(&path);
            if !matches(f.kind, value, fact) {
                wrong.push(format!("{path}: {value} is not {}", f.kind));
            }
            if f.kind.starts_with("answer") {
                return;
            }
        }
        let entries = has_entries(path);
        match value {
            Value::Object(m) => {
                for (k, v) in m {
                    let child = if entries {
                        format!("{path}[…]")
                    } else {
                        join(path, k)
                    };
                    walk(v, &child, seen, wrong);
                }
            }
            Value::Array(a) => {
                for v in a {
                    walk(v, &format!("{path}[…]"), seen, wrong);
                }
            }
            _ => {}
        }
    }

    fn model_json(snapshot: &Snapshot) -> Value {
        let config = AuditConfig {
            contact_center_skus: vec!["DYN365_CUSTOMER_SERVICE_PREMIUM".into()],
        };
        TenantModel::from_snapshot(snapshot, config).to_json()
    }

    /// The schema is the serialized model's: nothing the model writes is missing from it, with
    /// the type it says, and nothing in it is a field the model no longer has.
    #[test]
    fn the_schema_is_the_serialized_models() {
        let mut models: Vec<Value> = ["healthy", "field-case"]
            .iter()
            .map(|name| {
                let path = format!("examples/{name}.snapshot.json");
                model_json(&Snapshot::load(std::path::Path::new(&path)).expect("example loads"))
            })
            .collect();
        let mut params = crate::synth::SynthParams::healthy(12, 40, 30);
        params.faults_per_mille = 200;
        models.push(model_json(&crate::synth::generate(&params)));
        let mut seen = BTreeSet::new();
        let mut wrong = Vec::new();
        for m in &models {
            walk(m, "", &mut seen, &mut wrong);
        }
        // Records none of those tenants has: serialized from the Rust types directly.
        let acs = crate::model::azure::AcsResource {
            arm_id: "/subscriptions/s/resourceGroups/g/providers/Microsoft.Communication/communicationServices/a".into(),
            name: "a".into(),
            immutable_resource_id: "i".into(),
            data_location: Some(Some("United States".into())),
            provisioning_state: Some("Succeeded".into()),
            host_name: Some("a.communication.azure.com".into()),
            subscription_id: Some("s".into()),
        };
        let sub = crate::model::azure::EventSubscription {
            name: "incoming".into(),
            included_event_types: Some(vec!["Microsoft.Communication.IncomingCall".into()]),
            includes_all_event_types: Some(false),
            provisioning_state: Some(Some("Succeeded".into())),
            endpoint_type: Some("WebHook".into()),
        };
        let samples = [
            (
                "azure.acs_resources[…]",
                serde_json::to_value(acs).expect("serializes"),
            ),
            (
                "azure.event_subscriptions[…]",
                serde_json::to_value(vec![sub]).expect("serializes"),
            ),
        ];
        for (path, value) in &samples {
            walk(value, path, &mut seen, &mut wrong);
        }
        // Lists of strings that are empty in those tenants.
        for f in fields().filter(|f| f.path.ends_with("[…]") && f.kind == "string") {
            let list = f.path.trim_end_matches("[…]");
            if !seen.contains(f.path) && field(list).is_some_and(|l| l.kind.starts_with("list")) {
                seen.insert(f.path.to_string());
            }
        }
        wrong.sort();
        wrong.dedup();
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
        let unused: Vec<&str> = fields()
            .map(|f| f.path)
            .filter(|p| !seen.contains(*p))
            .collect();
        assert!(
            unused.is_empty(),
            "in the schema, not in any model: {unused:?}"
        );
    }

    #[test]
    fn fields_are_sorted_so_lookups_find_them() {
        assert!(FIELDS.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(field("teams.users[…].external_access_policy").is_some());
        assert!(children("").contains(&"teams"));
        assert!(has_entries("teams.users"));
        assert!(!has_entries("teams"));
    }

    #[test]
    fn types_are_checked_with_null_for_facts_and_optionals() {
        assert!(matches("string?", &Value::Null, false));
        assert!(!matches("string", &Value::Null, false));
        assert!(matches("map", &Value::Null, true));
        assert!(matches(
            "answer",
            &serde_json::json!({"unknown": "x"}),
            false
        ));
        assert!(!matches("bool", &serde_json::json!("true"), false));
    }
}
