//! Security & Compliance collectors (docs/live-requests.md row 26): information-barrier
//! policies, segments and mode through the REST `InvokeCommand` endpoint, so no Exchange
//! PowerShell module is needed. The client refuses any cmdlet that is not `Get-*`.

use super::endpoints::Service;
use super::run::Run;
use crate::fact_key::FactKey;
use crate::sign_in::{NOT_TRIED, SignIn};
use crate::snapshot::SourceError;

/// The system mailbox Exchange Online routes admin REST calls by.
const ANCHOR_MAILBOX: &str = "SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}";

/// (snapshot key, cmdlet).
const CMDLETS: [(FactKey, &str); 3] = [
    (
        FactKey::ComplianceInformationBarrierPolicy,
        "Get-InformationBarrierPolicy",
    ),
    (
        FactKey::ComplianceOrganizationSegment,
        "Get-OrganizationSegment",
    ),
    (FactKey::CompliancePolicyConfig, "Get-PolicyConfig"),
];

/// Runs the three cmdlets concurrently. The anchor mailbox needs the tenant's initial
/// `*.onmicrosoft.com` domain, which comes from the (shared) organization read.
///
/// Under a person's sign-in nothing is sent: each cmdlet is recorded as not tried, saying why
/// (`crate::sign_in`).
pub(crate) async fn collect(run: &Run<'_>, sign_in: SignIn) {
    if !sign_in.tries("compliance") {
        let endpoint = format!(
            "POST {}/adminapi/beta/{{tenantId}}/InvokeCommand",
            run.base(Service::Compliance)
        );
        for (key, cmdlet) in CMDLETS {
            run.record_error(
                key,
                &format!("{endpoint} {cmdlet}"),
                SourceError {
                    status: None,
                    code: Some(NOT_TRIED.into()),
                    message: sign_in.not_tried_message(),
                },
            );
        }
        return;
    }
    let org = super::graph::org(run).await;
    let tenant = org
        .tenant_id
        .clone()
        .unwrap_or_else(|| run.options.tenant.clone());
    let domain = org.initial_domain.clone().unwrap_or_else(|| {
        let t = run.options.tenant.trim().to_ascii_lowercase();
        if t.contains('.') {
            t
        } else {
            format!("{t}.onmicrosoft.com")
        }
    });
    let anchor = format!("UPN:{ANCHOR_MAILBOX}@{domain}");
    let Some(base) = run.client.endpoints().base(Service::Compliance).cloned() else {
        return;
    };
    let endpoint = format!(
        "POST {}/adminapi/beta/{tenant}/InvokeCommand",
        run.base(Service::Compliance)
    );
    let one = |key: FactKey, cmdlet: &'static str| {
        let (base, tenant, anchor, endpoint) = (&base, &tenant, &anchor, &endpoint);
        async move {
            let result = run
                .client
                .invoke_get_cmdlet(base, tenant, cmdlet, anchor)
                .await;
            run.record(key, &format!("{endpoint} {cmdlet}"), result);
        }
    };
    let [a, b, c] = CMDLETS;
    tokio::join!(one(a.0, a.1), one(b.0, b.1), one(c.0, c.1));
}
