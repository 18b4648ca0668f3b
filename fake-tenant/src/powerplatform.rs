//! The Power Platform admin API (`/powerplatform/providers/Microsoft.BusinessAppPlatform/...`,
//! apis.md D.5): the tenant's environments, which is how ccaudit finds the Dataverse org when
//! `--dataverse-url` is not given.
//!
//! Like a real tenant, this one has two environments with a database: the Default environment
//! (`/dataverse/orgs/default`, no Contact Center solution, so its `msdyn_*` tables do not exist)
//! and the Contact Center one (`/dataverse`, the snapshot's D365 data). A snapshot whose
//! `powerplatform.environments` fact is an error record is served as that error.

use crate::fact_key::FactKey;
use serde_json::{Value, json};

use crate::http::{Ctx, Reply, Service, fact_error, missing_api_version, not_found, route};
use crate::index::Fact;

pub(crate) fn handle(ctx: &Ctx) -> Reply {
    if route(
        &ctx.segs,
        &[
            "providers",
            "Microsoft.BusinessAppPlatform",
            "scopes",
            "admin",
            "environments",
        ],
    )
    .is_none()
    {
        return not_found(
            Service::PowerPlatform,
            "fake-tenant: the Power Platform admin API serves only /providers/Microsoft.BusinessAppPlatform/scopes/admin/environments",
        );
    }
    if let Some(refused) = missing_api_version(ctx, Service::PowerPlatform) {
        return refused;
    }
    if let Some((_, Fact::Error(e))) = ctx
        .st
        .index
        .fact_ci(FactKey::PowerPlatformEnvironments.as_str())
    {
        return fact_error(Service::PowerPlatform, e);
    }
    let base = &ctx.st.base;
    let tenant = &ctx.st.index.tenant_id;
    Reply::json(
        200,
        json!({ "value": [
            environment(tenant, "Default-".to_string() + tenant, "Contoso (default)", true,
                &format!("{base}/dataverse/orgs/default/")),
            environment(tenant, "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9".into(), "Contact Center", false,
                &format!("{base}/dataverse/")),
        ]}),
    )
}

fn environment(tenant: &str, name: String, display: &str, default: bool, url: &str) -> Value {
    json!({
        "id": format!("/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments/{name}"),
        "name": name,
        "type": "Microsoft.BusinessAppPlatform/scopes/environments",
        "location": "unitedstates",
        "properties": {
            "tenantId": tenant,
            "displayName": display,
            "environmentSku": if default { "Default" } else { "Production" },
            "isDefault": default,
            "provisioningState": "Succeeded",
            "linkedEnvironmentMetadata": {
                "friendlyName": display,
                "instanceUrl": url,
                "instanceApiUrl": url,
                "instanceState": "Ready",
                "version": "9.2.25101.00180",
                "baseLanguage": 1033,
            },
        },
    })
}
