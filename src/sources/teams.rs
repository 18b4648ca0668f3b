//! Teams tenant admin API collectors (docs/live-requests.md rows 12-18): what the `Get-Cs*`
//! cmdlets read, called directly so no PowerShell module is needed.

use serde_json::Value;

use super::endpoints::Service;
use super::graph::object_ids;
use super::http::FetchError;
use super::paging::Paging;
use super::run::Run;
use crate::fact_key::FactKey;

/// The Teams admin centre's application id, which the telephone-number API requires.
const TNM_APPLICATION_ID: &str = "045268c0-445e-4ac1-9157-d58f67b167d9";
/// The telephone-number API allows at most 999 rows per page.
const NUMBER_PAGE: u32 = 999;

/// The three tenant policies (rows 12-14), concurrently.
pub(crate) async fn policies(run: &Run<'_>) {
    // The configuration's name is the key's name (`teams.ExternalAccessPolicy`).
    let one = |key: FactKey| async move {
        let path = format!("/Skype.Policy/configurations/{}", key.name());
        let result = run.client.get(Service::Teams, &path, &[]).await;
        run.record(key, &run.label(Service::Teams, &path), result);
    };
    tokio::join!(
        one(FactKey::TeamsAcsFederationConfiguration),
        one(FactKey::TeamsExternalAccessPolicy),
        one(FactKey::TeamsTenantFederationSettings),
    );
}

/// The resource-account list: where ccaudit (like CIPP) reads it, and where the MicrosoftTeams
/// module does (apis.md B.4), tried when the first answers 404.
const APPLICATION_INSTANCES: [&str; 2] = [
    "/Teams.PlatformService/v2/ApplicationInstances?pageSize=100",
    "/Teams.PlatformService/v2/Legacy/ApplicationInstances?pageSize=100",
];

/// teams.applicationInstances (row 15), the fallback resource-account list. Returns the
/// accounts' lower-case object ids, or `None` when it could not be read either.
pub(crate) async fn application_instances(run: &Run<'_>) -> Option<Vec<String>> {
    let read = |path: &'static str| async move {
        let result = run
            .client
            .get_paged(Service::Teams, path, &[], Paging::teams_skip_token())
            .await;
        (path, result)
    };
    let [current, legacy] = APPLICATION_INSTANCES;
    let (path, result) = match read(current).await {
        (_, Err(e)) if e.status == Some(404) => match read(legacy).await {
            (_, Err(l)) if l.status == Some(404) => (current, Err(neither_path(e, l))),
            answered => answered,
        },
        answered => answered,
    };
    let ids = result
        .as_ref()
        .ok()
        .map(|v| object_ids(v, "applicationInstances"));
    run.record(
        FactKey::TeamsApplicationInstances,
        &run.label(Service::Teams, path),
        result,
    );
    ids
}

/// One 404 naming both resource-account paths, so "not found" does not read as if only one
/// was tried.
fn neither_path(current: FetchError, legacy: FetchError) -> FetchError {
    FetchError {
        message: format!(
            "{}; the Teams module's path {} is not found either: {}",
            current.message, legacy.endpoint, legacy.message
        ),
        code: current.code.or(legacy.code),
        ..current
    }
}

/// teams.telephoneNumbers (row 17), the fallback for Graph numberAssignments.
pub(crate) async fn telephone_numbers(run: &Run<'_>) {
    let tenant = super::graph::tenant_id(run).await;
    let path =
        format!("/Skype.TelephoneNumberMgmt/Tenants/{tenant}/telephone-numbers?locale=en-US");
    let result = run
        .client
        .get_paged(
            Service::Teams,
            &path,
            &[("x-ms-tnm-applicationid", TNM_APPLICATION_ID)],
            Paging::teams_top_skip(NUMBER_PAGE),
        )
        .await;
    run.record(
        FactKey::TeamsTelephoneNumbers,
        &run.label(Service::Teams, &format!("{path}&skip=0&top={NUMBER_PAGE}")),
        result,
    );
}

/// One GET per `(id, path)` on the Teams API, all in flight at once; the client bounds how
/// many actually run. Results come back in input order.
pub(crate) async fn get_each(
    run: &Run<'_>,
    requests: Vec<(String, String)>,
) -> Vec<(String, Result<Value, FetchError>)> {
    let mut tasks = tokio::task::JoinSet::new();
    for (i, (id, path)) in requests.iter().enumerate() {
        let client = run.client.clone();
        let (id, path) = (id.clone(), path.clone());
        tasks.spawn(async move { (i, id, client.get(Service::Teams, &path, &[]).await) });
    }
    let mut out: Vec<Option<(String, Result<Value, FetchError>)>> =
        (0..requests.len()).map(|_| None).collect();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((i, id, result)) => {
                if let Some(slot) = out.get_mut(i) {
                    *slot = Some((id, result));
                }
            }
            Err(e) => tracing::debug!(error = %e, "a Teams per-user task failed"),
        }
    }
    out.into_iter()
        .zip(requests)
        .map(|(done, (id, path))| {
            done.unwrap_or_else(|| {
                (
                    id,
                    Err(FetchError {
                        endpoint: format!("GET {}{path}", run.base(Service::Teams)),
                        status: None,
                        code: None,
                        message: "the request task ended without a result".into(),
                    }),
                )
            })
        })
        .collect()
}
