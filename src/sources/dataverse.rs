//! Dataverse collectors (docs/live-requests.md rows 22-25a and 28): the D365 Contact Center voice
//! settings, read from the org given by `--dataverse-url` or found through the Power Platform
//! admin API, and the members of the voice queues when no agents are named.
//!
//! Every query names its columns: provider settings can hold credentials in other columns,
//! and `$select` is what guarantees a snapshot never carries them.

use serde_json::Value;

use super::endpoints::Service;
use super::http::ReadOnlyClient;
use super::paging::Paging;
use super::powerplatform::dataverse_client;
use super::run::{NoEnvironment, Run};
use crate::fact_key::FactKey;
use crate::ids as canonical;
use crate::json::str_prop;
use crate::snapshot::{ErrorCode, SourceError};

/// (snapshot key, path and query) of each table read.
pub(crate) const TABLES: [(FactKey, &str); 4] = [
    (
        FactKey::DataverseProviderSettings,
        "/api/data/v9.2/msdyn_occommunicationprovidersettings?$select=msdyn_occommunicationprovidersettingid,msdyn_name,msdyn_occommunicationprovider,msdyn_occommunicationproviderimmutableid,msdyn_occommunicationproviderdatalocation,statecode",
    ),
    (
        FactKey::DataverseProviderSettingEntries,
        "/api/data/v9.2/msdyn_occommunicationprovidersettingentries?$select=msdyn_occommunicationprovidersettingentryid,msdyn_key,msdyn_value,msdyn_name,_msdyn_communicationprovidersettingentid_value&$filter=msdyn_key eq 'DynamicsAppId'",
    ),
    (
        FactKey::DataversePhoneNumbers,
        "/api/data/v9.2/msdyn_ocphonenumbers?$select=msdyn_ocphonenumberid,msdyn_name,msdyn_phonenumber,msdyn_phonenumbertype,msdyn_ocphonenumbersource,msdyn_teamsresourceaccount,msdyn_phoneinboundenabled,msdyn_phoneoutboundenabled,statecode,_msdyn_occommunicationprovidersettingid_value",
    ),
    (
        FactKey::DataverseVoiceChannels,
        "/api/data/v9.2/msdyn_ocvoicechannelsettings?$select=msdyn_ocvoicechannelsettingid,msdyn_name,_msdyn_phonenumberid_value,_msdyn_liveworkstreamid_value,statecode",
    ),
];

/// Rows per page asked of Dataverse (it caps at 5000).
const PREFER: (&str, &str) = ("Prefer", "odata.maxpagesize=500");

/// Users who are members of a voice queue (`msdyn_queuetype` 192350002 = Voice; the queues
/// voice workstreams route to), enabled only. The same `queuemembership_association` the
/// admin center's queue page and Agent Readiness Checker read.
pub(crate) const VOICE_QUEUE_MEMBERS: (FactKey, &str) = (
    FactKey::DataverseSystemUsers,
    "/api/data/v9.2/systemusers?$select=systemuserid,azureactivedirectoryobjectid,domainname,fullname,isdisabled&$filter=isdisabled eq false and queuemembership_association/any(q:q/msdyn_queuetype eq 192350002)",
);

/// Reads the four tables concurrently, or records why the org is unknown.
pub(crate) async fn collect(run: &Run<'_>) {
    let client = match dataverse_client(run).await {
        Ok(client) => client,
        Err(why) => return not_collected(run, &TABLES, why),
    };
    let one = |key: FactKey, path: &'static str| async move {
        let result = read(client, path).await;
        run.record(key, &run.label(Service::Dataverse, path), result);
    };
    let [a, b, c, d] = TABLES;
    tokio::join!(one(a.0, a.1), one(b.0, b.1), one(c.0, c.1), one(d.0, d.1));
}

async fn read(client: &ReadOnlyClient, path: &str) -> Result<Value, super::http::FetchError> {
    client
        .get_paged(Service::Dataverse, path, &[PREFER], Paging::ODataNextLink)
        .await
}

/// The Entra object ids of the voice-queue members (recorded as `dataverse.systemusers`), or
/// `None` when Dataverse could not be read (the fact says why).
pub(crate) async fn voice_queue_members(run: &Run<'_>) -> Option<Vec<String>> {
    let (key, path) = VOICE_QUEUE_MEMBERS;
    let client = match dataverse_client(run).await {
        Ok(client) => client,
        Err(why) => {
            not_collected(run, &[VOICE_QUEUE_MEMBERS], why);
            return None;
        }
    };
    let result = read(client, path).await;
    let members = result.as_ref().ok().map(|v| {
        v.get("value")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter_map(|u| canonical::guid(&str_prop(u, &["azureactivedirectoryobjectid"])?))
            .map(|id| id.to_ascii_lowercase())
            .collect()
    });
    run.record(key, &run.label(Service::Dataverse, path), result);
    members
}

/// Without an org the D365 facts are recorded as not collected, with why and what to pass.
///
/// The code is `NotCollected` (not `NotRequested`): the D365 settings are core prerequisites,
/// so the checks that need them must come out `unknown` (exit 3, "incomplete") rather than
/// `skipped`, which would let an audit that never looked at D365 exit 0.
fn not_collected(run: &Run<'_>, tables: &[(FactKey, &str)], why: &NoEnvironment) {
    for &(key, path) in tables {
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
                code: Some(ErrorCode::NotCollected),
                message: why.to_string(),
            },
        );
    }
}
