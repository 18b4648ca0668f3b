//! Dataverse collectors (docs/live-requests.md rows 22-25): the D365 Contact Center voice
//! settings, read from the org given by `--dataverse-url`.
//!
//! Every query names its columns: provider settings can hold credentials in other columns,
//! and `$select` is what guarantees a snapshot never carries them.

use super::collect::Run;
use super::endpoints::Service;
use super::paging::Paging;
use crate::snapshot::SourceError;

/// (snapshot key, path and query) of each table read.
const TABLES: [(&str, &str); 4] = [
    (
        "dataverse.msdyn_occommunicationprovidersettings",
        "/api/data/v9.2/msdyn_occommunicationprovidersettings?$select=msdyn_occommunicationprovidersettingid,msdyn_name,msdyn_occommunicationprovider,msdyn_occommunicationproviderimmutableid,msdyn_occommunicationproviderdatalocation,statecode",
    ),
    (
        "dataverse.msdyn_occommunicationprovidersettingentries",
        "/api/data/v9.2/msdyn_occommunicationprovidersettingentries?$select=msdyn_occommunicationprovidersettingentryid,msdyn_key,msdyn_value,msdyn_name,_msdyn_communicationprovidersettingentid_value&$filter=msdyn_key eq 'DynamicsAppId'",
    ),
    (
        "dataverse.msdyn_ocphonenumbers",
        "/api/data/v9.2/msdyn_ocphonenumbers?$select=msdyn_ocphonenumberid,msdyn_name,msdyn_phonenumber,msdyn_phonenumbertype,msdyn_ocphonenumbersource,msdyn_teamsresourceaccount,msdyn_phoneinboundenabled,msdyn_phoneoutboundenabled,statecode,_msdyn_occommunicationprovidersettingid_value",
    ),
    (
        "dataverse.msdyn_ocvoicechannelsettings",
        "/api/data/v9.2/msdyn_ocvoicechannelsettings?$select=msdyn_ocvoicechannelsettingid,msdyn_name,_msdyn_phonenumberid_value,_msdyn_liveworkstreamid_value,statecode",
    ),
];

/// Rows per page asked of Dataverse (it caps at 5000).
const PREFER: (&str, &str) = ("Prefer", "odata.maxpagesize=500");

/// Reads the four tables concurrently.
pub(crate) async fn collect(run: &Run<'_>) {
    let one = |key: &'static str, path: &'static str| async move {
        let result = run
            .client
            .get_paged(Service::Dataverse, path, &[PREFER], Paging::ODataNextLink)
            .await;
        run.record(key, &run.label(Service::Dataverse, path), result);
    };
    let [a, b, c, d] = TABLES;
    tokio::join!(one(a.0, a.1), one(b.0, b.1), one(c.0, c.1), one(d.0, d.1));
}

/// Without `--dataverse-url` the D365 facts are recorded as not collected, with what to pass.
///
/// The code is `NotCollected` (not `NotRequested`): the D365 settings are core prerequisites,
/// so the checks that need them must come out `unknown` (exit 3, "incomplete") rather than
/// `skipped`, which would let an audit that never looked at D365 exit 0.
pub(crate) fn not_requested(run: &Run<'_>) {
    for (key, path) in TABLES {
        let table = path
            .split('?')
            .next()
            .unwrap_or(path)
            .trim_start_matches("/api/data/v9.2/");
        run.record_error(
            key,
            &format!("GET {{org}}/api/data/v9.2/{table}"),
            SourceError {
                status: None,
                code: Some("NotCollected".into()),
                message:
                    "pass --dataverse-url https://<org>.crm.dynamics.com to read the D365 settings"
                        .into(),
            },
        );
    }
}
