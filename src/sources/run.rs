//! What the collectors of one run share: the client and options, the facts recorded so far,
//! progress, and the organization and Dataverse client found once for all of them. The
//! collectors (`graph`, `teams`, `arm`, ...) and `collect`, which runs them, all build on this
//! module and it on none of them.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde_json::Value;

use super::endpoints::{Cloud, EndpointError, Service};
use super::http::{FetchError, ReadOnlyClient};
use crate::fact_key::FactKey;
use crate::snapshot::{ErrorCode, SourceError, SourceFact};

/// What to read, beyond the endpoints and credential the client already carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CollectOptions {
    /// `--tenant`: a tenant id or domain. The snapshot records the organization's id when
    /// Graph can read it.
    pub tenant: String,
    /// `--agents`: UPNs or object ids, as given.
    pub agents: Vec<String>,
    /// `--agent-group`: a group whose user members are the agents.
    pub agent_group: Option<String>,
    /// `--subscription`: limits ARM to these subscription ids (empty = all visible).
    pub subscriptions: Vec<String>,
}

/// Receives progress while collecting (the CLI draws bars from it; tests ignore it).
pub trait Progress: Send + Sync {
    /// A fact was recorded (`ok` = data, not an error record).
    fn fact_done(&self, key: &str, ok: bool);
    /// The first sign-in started: `method` (`client-secret`, …) at `at` (the login host, or
    /// `az` for the Azure CLI). It can take a while (an unresponsive endpoint, a device code).
    fn signing_in(&self, _method: &str, _at: &str) {}
    /// The first sign-in ended (signed in or not).
    fn signed_in(&self) {}
}

/// Progress that goes nowhere.
pub struct NoProgress;

impl Progress for NoProgress {
    fn fact_done(&self, _key: &str, _ok: bool) {}
}

/// What the organization read told the rest of the run.
#[derive(Debug, Clone, Default)]
pub(crate) struct OrgInfo {
    pub tenant_id: Option<String>,
    pub display_name: Option<String>,
    /// `contoso.onmicrosoft.com`: the S&C `X-AnchorMailbox` needs it.
    pub initial_domain: Option<String>,
}

/// State shared by the collectors of one run.
pub(crate) struct Run<'a> {
    pub client: &'a ReadOnlyClient,
    pub options: &'a CollectOptions,
    pub(super) facts: Mutex<BTreeMap<String, SourceFact>>,
    progress: &'a dyn Progress,
    pub(super) org: tokio::sync::OnceCell<OrgInfo>,
    /// The client for the Dataverse org, found through the Power Platform admin API when
    /// `--dataverse-url` was not given; or why there is none.
    pub(super) dataverse: tokio::sync::OnceCell<Result<ReadOnlyClient, NoEnvironment>>,
}

impl<'a> Run<'a> {
    pub(super) fn new(
        client: &'a ReadOnlyClient,
        options: &'a CollectOptions,
        progress: &'a dyn Progress,
    ) -> Run<'a> {
        Run {
            client,
            options,
            facts: Mutex::new(BTreeMap::new()),
            progress,
            org: tokio::sync::OnceCell::new(),
            dataverse: tokio::sync::OnceCell::new(),
        }
    }

    pub fn cloud(&self) -> Cloud {
        self.client.endpoints().cloud()
    }

    /// Records a fact: data under `endpoint`, or the error under the endpoint that failed.
    pub fn record(&self, key: FactKey, endpoint: &str, result: Result<Value, FetchError>) {
        match result {
            Ok(data) => self.put(
                key,
                SourceFact {
                    endpoint: endpoint.to_string(),
                    data: Some(data),
                    error: None,
                },
            ),
            Err(e) => self.record_error(key, &e.endpoint.clone(), e.into()),
        }
    }

    pub fn record_error(&self, key: FactKey, endpoint: &str, error: SourceError) {
        self.put(
            key,
            SourceFact {
                endpoint: endpoint.to_string(),
                data: None,
                error: Some(error),
            },
        );
    }

    fn put(&self, key: FactKey, fact: SourceFact) {
        let ok = fact.data.is_some();
        let key = key.as_str();
        match &fact.error {
            Some(e) => {
                tracing::debug!(key, status = e.status, code = e.code.as_ref().map(ErrorCode::as_str), message = %e.message, "fact unavailable")
            }
            None => tracing::debug!(key, "fact read"),
        }
        self.facts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key.to_string(), fact);
        self.progress.fact_done(key, ok);
    }

    /// `GET <full url>` for a path on a service: how data facts name their source.
    /// The query stays as written (`$filter=appId in ('…')`), not percent-encoded, so a user can
    /// read it and paste it into Graph Explorer.
    pub fn label(&self, service: Service, path_and_query: &str) -> String {
        format!("GET {}{path_and_query}", self.base(service))
    }

    /// The base URL of a service without a trailing slash, for endpoint templates.
    pub fn base(&self, service: Service) -> String {
        let client = match (service, self.dataverse.get()) {
            (Service::Dataverse, Some(Ok(found))) => found,
            _ => self.client,
        };
        client
            .endpoints()
            .base(service)
            .map(|u| u.as_str().trim_end_matches('/').to_string())
            .unwrap_or_else(|| format!("{{{service}}}"))
    }
}

/// How every "could not find the org" reason ends.
const PASS: &str = "pass --dataverse-url with the org to audit";

/// Why no Dataverse org was found to audit; each says to pass `--dataverse-url`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoEnvironment {
    #[error("the Power Platform admin API could not list the environments ({0}); {PASS}")]
    NotListed(FetchError),
    #[error(
        "the Power Platform admin API lists no environment with a ready Dataverse database; {PASS}"
    )]
    NoneReady,
    /// Several have a database and not exactly one has voice settings.
    #[error(
        "{count} environments have a Dataverse database and {how_many} Contact Center voice settings: {listed}; {PASS}"
    )]
    Ambiguous {
        count: usize,
        /// `none has` or `N have`.
        how_many: String,
        /// Each candidate with its URL and what its probe found.
        listed: String,
    },
    /// The chosen org's URL cannot be used as the Dataverse endpoint.
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
}
