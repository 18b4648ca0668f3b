//! The tenant-facing HTTP client: read-only, bounded, patient with throttling, strict about
//! what it accepts as a response.
//!
//! # Read-only by construction
//!
//! [`ReadOnlyClient`] owns its `reqwest::Client` privately and exposes no generic request
//! method. The only requests it can build are:
//!
//! * `GET` ([`ReadOnlyClient::get`], [`ReadOnlyClient::get_paged`]);
//! * `POST {graph}/v1.0/$batch` whose parts are [`BatchGet`]s — a type with no method field,
//!   serialised with the literal method `GET` ([`ReadOnlyClient::graph_batch`]);
//! * `POST {compliance}/adminapi/beta/{tenant}/InvokeCommand` for a cmdlet whose name starts
//!   with `Get-` ([`ReadOnlyClient::invoke_get_cmdlet`]); when the front door redirects it to
//!   `{region}.admin.protection.outlook.com:446`, the same POST once more to
//!   `{region}.ps.compliance.protection.outlook.com` (a host mapping on an allow-list; the
//!   location is never contacted).
//!
//! The token POSTs live in `auth.rs` on a separate client. No code path can send `PUT`,
//! `PATCH` or `DELETE`, and method-override headers are refused:
//!
//! ```compile_fail
//! # async fn f(client: ccaudit::sources::http::ReadOnlyClient) {
//! // There is no way to reach the inner reqwest::Client or choose a method.
//! client.request(reqwest::Method::DELETE, "https://graph.microsoft.com/v1.0/users/x").await;
//! # }
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use reqwest::Method;
use reqwest::header::{
    ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, LOCATION, RETRY_AFTER,
};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use url::Url;

use super::auth::{AuthError, TokenProvider};
use super::endpoints::{Audience, EndpointError, Endpoints, Service, check_tenant, describe, join};
use super::paging::{Pager, Paging};
use super::timeouts::{self, Timeouts};
use super::wire::{
    BodyError, InFlight, backoff_delay, json_body, parse_retry_after, read_capped,
    transport_message, use_ring_for_tls,
};
use crate::snapshot::{ErrorCode, SourceError};

/// Most redirects followed for one request.
const MAX_REDIRECTS: u32 = 5;
/// Parts per Graph `$batch` request (the service's limit).
pub const GRAPH_BATCH_LIMIT: usize = 20;
/// Service messages are cut to this many characters in errors.
const MESSAGE_CAP: usize = 400;
/// Requests in flight per service by default. A large contact center needs one Teams GET per
/// agent and resource account (Get-CsOnlineUser, associations: 3,000 at 2,000 agents); at 4
/// in flight that is 750 round trips end to end, at 16 it is under 200 (docs/performance.md).
/// Every service answers overload with 429/503 and `Retry-After`, which the client honours,
/// so a higher bound costs waits, never correctness.
pub const DEFAULT_CONCURRENCY: usize = 16;
/// Requests of a service that may time out in a row, with no answer from it in between, before
/// it counts as not answering: its further requests then fail at once instead of each waiting
/// out its own timeout (an unresponsive service costs about one timeout, not the budget).
pub const SILENT_AFTER: u32 = 2;
/// Environment variable overriding [`ClientSettings::service_budget`] (seconds).
pub const SERVICE_BUDGET_ENV: &str = "CCAUDIT_SERVICE_BUDGET_SECS";
/// [`ClientSettings::service_budget`] unless [`SERVICE_BUDGET_ENV`] says otherwise.
pub const DEFAULT_SERVICE_BUDGET: Duration = Duration::from_secs(600);
/// The range [`SERVICE_BUDGET_ENV`] accepts, in seconds: one second to a day.
pub const SERVICE_BUDGET_RANGE: std::ops::RangeInclusive<f64> = 1.0..=86_400.0;

/// A [`SERVICE_BUDGET_ENV`] value that is not a number of seconds in [`SERVICE_BUDGET_RANGE`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{SERVICE_BUDGET_ENV}={given}: must be a number of seconds from {} to {}",
    SERVICE_BUDGET_RANGE.start(),
    SERVICE_BUDGET_RANGE.end()
)]
pub struct ServiceBudgetError {
    /// The value as set, control characters escaped.
    pub given: String,
}

/// The per-service budget [`SERVICE_BUDGET_ENV`] sets (`None` when unset), or why its value is
/// not one: a number of seconds in [`SERVICE_BUDGET_RANGE`].
pub fn service_budget_from_env() -> Result<Option<Duration>, ServiceBudgetError> {
    let Ok(raw) = std::env::var(SERVICE_BUDGET_ENV) else {
        return Ok(None);
    };
    match raw.trim().parse::<f64>() {
        Ok(secs) if SERVICE_BUDGET_RANGE.contains(&secs) => Ok(Some(Duration::from_secs_f64(secs))),
        _ => Err(ServiceBudgetError {
            given: raw.escape_debug().to_string(),
        }),
    }
}

/// Why one read failed: the endpoint (`GET host/path`, never a query or token), the HTTP
/// status when there was a response, the service's error code, and a one-line message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{endpoint}: {}", self.detail())]
pub struct FetchError {
    pub endpoint: String,
    pub status: Option<u16>,
    pub code: Option<String>,
    pub message: String,
}

impl FetchError {
    fn new(endpoint: impl Into<String>, message: impl Into<String>) -> FetchError {
        FetchError {
            endpoint: endpoint.into(),
            status: None,
            code: None,
            message: message.into(),
        }
    }

    fn detail(&self) -> String {
        match (self.status, &self.code) {
            (Some(s), Some(c)) => format!("HTTP {s} {c}: {}", self.message),
            (Some(s), None) if !self.message.contains(&format!("HTTP {s}")) => {
                format!("HTTP {s}: {}", self.message)
            }
            _ => self.message.clone(),
        }
    }
}

impl From<FetchError> for SourceError {
    fn from(e: FetchError) -> SourceError {
        SourceError {
            status: e.status,
            code: e.code.map(ErrorCode::from),
            message: e.message,
        }
    }
}

/// Limits and timeouts of the tenant client.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientSettings {
    /// Requests in flight per service.
    pub concurrency: usize,
    /// Attempts per request on 503/504 and connection errors (the first included).
    pub max_attempts: u32,
    /// 429 answers a request may get before it gives up, counted apart from `max_attempts`:
    /// a 429 says the service is up and when to come back, so it is waited out longer than
    /// an error (the time budgets still bound the wait). Also the rounds a throttled `$batch`
    /// part is retried.
    pub max_throttled_attempts: u32,
    /// Wall time for one call (`get`, all pages of `get_paged`, one `graph_batch`), retries
    /// and waits included.
    pub time_budget: Duration,
    /// Wall time for everything asked of one service in a run, from its first request: once
    /// it is used up, that service's remaining requests fail at once, so a service that is
    /// down (persistent 503, timeouts) costs at most this, however many reads it had left.
    /// Default 600 s, or `CCAUDIT_SERVICE_BUDGET_SECS` when set.
    pub service_budget: Duration,
    /// Largest response body read (after decompression); larger is an error.
    pub max_body_bytes: usize,
    /// Most pages followed by one `get_paged`.
    pub max_pages: usize,
    /// First exponential backoff step (doubles per attempt, with jitter, capped at 30 s).
    pub backoff_base: Duration,
    /// Longest `Retry-After` honoured.
    pub retry_after_cap: Duration,
    /// Connect and per-request timeouts per service (`--connect-timeout`, `--timeout`).
    pub timeouts: Timeouts,
    /// Wall time for the whole run, from when the client is made (`--deadline`): requests not
    /// done by then fail, naming it, so the run ends with what it could read.
    pub deadline: Duration,
}

impl Default for ClientSettings {
    fn default() -> ClientSettings {
        ClientSettings {
            concurrency: DEFAULT_CONCURRENCY,
            max_attempts: 5,
            max_throttled_attempts: 10,
            time_budget: Duration::from_secs(300),
            // A bad value is refused before a live read starts (`commands::live`); here it
            // leaves the default.
            service_budget: service_budget_from_env()
                .ok()
                .flatten()
                .unwrap_or(DEFAULT_SERVICE_BUDGET),
            max_body_bytes: 64 << 20,
            max_pages: 10_000,
            backoff_base: Duration::from_millis(500),
            retry_after_cap: Duration::from_secs(60),
            timeouts: Timeouts::default(),
            deadline: timeouts::DEFAULT_DEADLINE,
        }
    }
}

/// One part of a Graph `$batch`: always a GET (the type has no method).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchGet {
    /// Unique within the call; results carry it back.
    pub id: String,
    /// Relative to `/v1.0`, e.g. `/users/{id}/licenseDetails`.
    pub relative_url: String,
}

impl BatchGet {
    pub fn new(id: impl Into<String>, relative_url: impl Into<String>) -> BatchGet {
        BatchGet {
            id: id.into(),
            relative_url: relative_url.into(),
        }
    }
}

/// The outcome of one `$batch` part.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchResult {
    pub id: String,
    /// `GET host/v1.0/path` of the part, for facts and errors.
    pub endpoint: String,
    pub result: Result<Value, FetchError>,
}

/// A cmdlet name that starts with `Get-`; the only thing `InvokeCommand` can be sent for.
#[derive(Debug, Clone)]
struct GetCmdlet(String);

impl GetCmdlet {
    fn parse(name: &str) -> Option<GetCmdlet> {
        let noun = name
            .get(..4)
            .filter(|v| v.eq_ignore_ascii_case("get-"))
            .map(|_| &name[4..])?;
        let ok = !noun.is_empty()
            && noun.len() <= 100
            && noun.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        ok.then(|| GetCmdlet(name.to_string()))
    }
}

/// Everything this client can send. `method()` is GET or POST; nothing else exists.
enum ReadKind {
    Get,
    GraphBatch(Vec<BatchGet>),
    InvokeGetCmdlet(GetCmdlet),
}

impl ReadKind {
    fn method(&self) -> Method {
        match self {
            ReadKind::Get => Method::GET,
            ReadKind::GraphBatch(_) | ReadKind::InvokeGetCmdlet(_) => Method::POST,
        }
    }

    fn body(&self) -> Option<Value> {
        match self {
            ReadKind::Get => None,
            ReadKind::GraphBatch(parts) => Some(json!({
                "requests": parts
                    .iter()
                    .map(|p| json!({"id": p.id, "method": "GET", "url": p.relative_url}))
                    .collect::<Vec<_>>()
            })),
            ReadKind::InvokeGetCmdlet(GetCmdlet(name)) => Some(json!({
                "CmdletInput": {"CmdletName": name, "Parameters": {}}
            })),
        }
    }
}

/// The read-only tenant client; cheap to clone (one connection pool, shared limits).
#[derive(Clone)]
pub struct ReadOnlyClient {
    inner: Arc<Inner>,
}

struct Inner {
    /// One client per service: reqwest's connect timeout is per client.
    http: HashMap<Service, reqwest::Client>,
    tokens: Arc<TokenProvider>,
    endpoints: Endpoints,
    limits: HashMap<Service, Arc<Semaphore>>,
    /// What the run has seen of each service (shared with [`ReadOnlyClient::with_dataverse`]).
    state: Arc<HashMap<Service, ServiceState>>,
    /// When the run's deadline passes ([`ClientSettings::deadline`] after the client was made).
    run_deadline: Instant,
    settings: ClientSettings,
}

/// The run's view of one service.
#[derive(Default)]
struct ServiceState {
    /// When it was first asked something (its budget runs from there).
    started: std::sync::OnceLock<Instant>,
    /// Calls under way (waiting for a permit, a token, a response or a retry).
    in_flight: AtomicUsize,
    /// Requests that timed out since its last answer (any HTTP status is an answer).
    silent: AtomicU32,
    /// The last of those timeouts, for the message of the requests not sent.
    silence: std::sync::Mutex<Option<Silence>>,
    /// Calls that failed because the run's deadline passed.
    cut_by_deadline: AtomicUsize,
}

/// A request that timed out: no connection, or no (whole) answer, within the timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Silence {
    Connect(Duration),
    Request(Duration),
}

impl Silence {
    /// `no answer from graph within 60 s (--timeout graph=SECS waits longer)`.
    fn message(self, service: Service) -> String {
        match self {
            Silence::Connect(d) => format!(
                "could not connect to {service} within {} s (--connect-timeout {service}=SECS waits longer)",
                timeouts::secs(d)
            ),
            Silence::Request(d) => format!(
                "no answer from {service} within {} s (--timeout {service}=SECS waits longer)",
                timeouts::secs(d)
            ),
        }
    }

    /// Why a request was not sent after `n` of them timed out in a row.
    fn not_sent(self, service: Service, n: u32) -> String {
        let (what, flag, d) = match self {
            Silence::Connect(d) => ("could not connect", "--connect-timeout", d),
            Silence::Request(d) => ("got no answer", "--timeout", d),
        };
        format!(
            "not sent: {service} is not answering ({n} requests in a row {what} within {} s; {flag} {service}=SECS waits longer)",
            timeouts::secs(d)
        )
    }
}

/// Which limit bounds a request: the call's time budget, the service's, or the run's deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Budget {
    Call(Duration),
    Service(Service, Duration),
    Run(Duration),
}

impl Budget {
    fn label(self) -> String {
        match self {
            Budget::Call(d) => format!("time budget of {} s", d.as_secs_f64()),
            Budget::Service(s, d) => format!("{s} time budget of {} s", d.as_secs_f64()),
            Budget::Run(d) => format!("run's deadline of {} s", timeouts::secs(d)),
        }
    }

    /// Why a request was not (or no longer) waited for.
    fn used_up(self) -> String {
        match self {
            Budget::Run(d) => format!(
                "not read: the run's deadline of {} s passed (--deadline SECS allows longer)",
                timeouts::secs(d)
            ),
            other => format!("{} used up", other.label()),
        }
    }
}

impl fmt::Debug for ReadOnlyClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadOnlyClient")
            .field("endpoints", &self.inner.endpoints)
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

impl ReadOnlyClient {
    pub fn new(
        endpoints: Endpoints,
        tokens: Arc<TokenProvider>,
        settings: ClientSettings,
    ) -> Result<ReadOnlyClient, FetchError> {
        use_ring_for_tls();
        let run_deadline = Instant::now() + settings.deadline;
        // Services with the same connect timeout share a client (and its connection pool).
        let mut by_connect: Vec<(Duration, reqwest::Client)> = Vec::new();
        let mut http = HashMap::new();
        for service in Service::ALL {
            let timeout = settings.timeouts.service(service);
            let client = match by_connect.iter().find(|(c, _)| *c == timeout.connect) {
                Some((_, client)) => client.clone(),
                None => {
                    let mut builder = reqwest::Client::builder()
                        .connect_timeout(timeout.connect)
                        .gzip(true)
                        .redirect(reqwest::redirect::Policy::none())
                        .user_agent(concat!("ccaudit/", env!("CARGO_PKG_VERSION")));
                    if endpoints.is_loopback_only() {
                        builder = builder.no_proxy();
                    }
                    let client = builder.build().map_err(|e| {
                        FetchError::new(
                            "client",
                            format!("cannot build the HTTP client: {}", transport_message(&e)),
                        )
                    })?;
                    by_connect.push((timeout.connect, client.clone()));
                    client
                }
            };
            http.insert(service, client);
        }
        let permits = settings.concurrency.max(1);
        let limits = Service::ALL
            .into_iter()
            .map(|s| (s, Arc::new(Semaphore::new(permits))))
            .collect();
        let state = Service::ALL
            .into_iter()
            .map(|s| (s, ServiceState::default()))
            .collect::<HashMap<_, _>>()
            .into();
        Ok(ReadOnlyClient {
            inner: Arc::new(Inner {
                http,
                tokens,
                endpoints,
                limits,
                state,
                run_deadline,
                settings,
            }),
        })
    }

    pub fn endpoints(&self) -> &Endpoints {
        &self.inner.endpoints
    }

    pub fn settings(&self) -> &ClientSettings {
        &self.inner.settings
    }

    /// The token provider this client signs in with.
    pub fn tokens(&self) -> &TokenProvider {
        &self.inner.tokens
    }

    /// Services with calls under way now, and how many: what a run that has to stop was
    /// still waiting for.
    pub fn pending(&self) -> Vec<(Service, usize)> {
        self.count(|s| s.in_flight.load(Ordering::SeqCst))
    }

    /// Services whose calls failed because the run's deadline passed, and how many.
    pub fn cut_by_deadline(&self) -> Vec<(Service, usize)> {
        self.count(|s| s.cut_by_deadline.load(Ordering::SeqCst))
    }

    fn count(&self, f: impl Fn(&ServiceState) -> usize) -> Vec<(Service, usize)> {
        Service::ALL
            .into_iter()
            .map(|s| (s, f(&self.inner.state[&s])))
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// The same client (connections, tokens, per-service limits and budgets) pointed at another
    /// Dataverse org: how an environment found through the Power Platform admin API is read.
    pub fn with_dataverse(&self, org: &Url) -> Result<ReadOnlyClient, EndpointError> {
        let mut endpoints = self.inner.endpoints.clone();
        endpoints.set_dataverse(org.as_str())?;
        Ok(ReadOnlyClient {
            inner: Arc::new(Inner {
                http: self.inner.http.clone(),
                tokens: self.inner.tokens.clone(),
                endpoints,
                limits: self.inner.limits.clone(),
                state: self.inner.state.clone(),
                run_deadline: self.inner.run_deadline,
                settings: self.inner.settings.clone(),
            }),
        })
    }

    /// One GET. `url` is a path and query relative to the service base
    /// (`/v1.0/organization`, the override prefix is kept) or an absolute URL on the service's
    /// own origin (a next link). `extra_headers` add to `Accept: application/json` (and the
    /// OData version headers for Dataverse); `Authorization` and method overrides are refused.
    pub async fn get(
        &self,
        service: Service,
        url: &str,
        extra_headers: &[(&str, &str)],
    ) -> Result<Value, FetchError> {
        self.get_paged(service, url, extra_headers, Paging::None)
            .await
    }

    /// GETs every page of a collection and merges them (see `paging.rs`).
    pub async fn get_paged(
        &self,
        service: Service,
        url: &str,
        extra_headers: &[(&str, &str)],
        paging: Paging,
    ) -> Result<Value, FetchError> {
        let deadline = Instant::now() + self.inner.settings.time_budget;
        let (first, base) = self.target(service, url)?;
        let headers = self.headers(service, extra_headers, &first)?;
        let mut pager = Pager::new(paging, &base, first, self.inner.settings.max_pages);
        let mut current = pager.first_url().clone();
        loop {
            let (page, _) = self
                .execute(service, &ReadKind::Get, &current, &headers, deadline)
                .await?;
            match pager.accept(page, &current) {
                Ok(Some(next)) => current = next,
                Ok(None) => return Ok(pager.finish()),
                Err(e) => return Err(FetchError::new(describe("GET", &current), e.0)),
            }
        }
    }

    /// GETs many Graph resources through `POST /v1.0/$batch`, 20 parts per request (chunks run
    /// concurrently within the Graph limit). Throttled parts are retried in a later batch.
    /// Results come back in the order of `parts`. An `Err` means the batch itself failed.
    pub async fn graph_batch(&self, parts: Vec<BatchGet>) -> Result<Vec<BatchResult>, FetchError> {
        let batch_url = self
            .inner
            .endpoints
            .url(Service::Graph, "/v1.0/$batch")
            .map_err(|e| FetchError::new("POST graph/v1.0/$batch", e.0))?;
        let endpoint = describe("POST", &batch_url);
        let mut ids = std::collections::HashSet::new();
        for p in &parts {
            if p.id.is_empty() || !ids.insert(p.id.as_str()) {
                return Err(FetchError::new(
                    &endpoint,
                    format!("$batch part id `{}` is empty or repeated", p.id),
                ));
            }
            if !p.relative_url.starts_with('/') || p.relative_url.contains("://") {
                return Err(FetchError::new(
                    &endpoint,
                    format!("$batch part `{}` must be a path such as /users/ID", p.id),
                ));
            }
        }
        let deadline = Instant::now() + self.inner.settings.time_budget;
        let order: Vec<String> = parts.iter().map(|p| p.id.clone()).collect();
        let mut tasks = tokio::task::JoinSet::new();
        for chunk in parts.chunks(GRAPH_BATCH_LIMIT) {
            let client = self.clone();
            let chunk = chunk.to_vec();
            let url = batch_url.clone();
            tasks.spawn(async move { client.batch_chunk(chunk, &url, deadline).await });
        }
        let mut results: HashMap<String, BatchResult> = HashMap::new();
        while let Some(joined) = tasks.join_next().await {
            let chunk = joined
                .map_err(|e| FetchError::new(&endpoint, format!("batch task failed: {e}")))??;
            results.extend(chunk.into_iter().map(|r| (r.id.clone(), r)));
        }
        Ok(order
            .into_iter()
            .filter_map(|id| results.remove(&id))
            .collect())
    }

    /// Runs a `Get-*` Security & Compliance cmdlet through the REST `InvokeCommand` endpoint
    /// and merges its `value` pages. Anything not starting with `Get-` is refused before a
    /// request is made. `base` is the compliance endpoint or a regional host under it;
    /// `anchor` goes into `X-AnchorMailbox`.
    pub async fn invoke_get_cmdlet(
        &self,
        base: &Url,
        tenant_id: &str,
        cmdlet: &str,
        anchor: &str,
    ) -> Result<Value, FetchError> {
        let label = |url: &Url| format!("{} {cmdlet}", describe("POST", url));
        let Some(get) = GetCmdlet::parse(cmdlet) else {
            return Err(FetchError {
                endpoint: format!(
                    "POST {}/adminapi/beta/{tenant_id}/InvokeCommand {cmdlet}",
                    base.host_str().unwrap_or("")
                ),
                status: None,
                code: Some("NotReadOnly".into()),
                message: format!(
                    "refused: `{cmdlet}` is not a Get- cmdlet; only Get-* cmdlets are ever sent"
                ),
            });
        };
        check_tenant(tenant_id).map_err(|e| FetchError::new(label(base), e.0))?;
        let compliance = self
            .inner
            .endpoints
            .base(Service::Compliance)
            .expect("compliance always has a base");
        if !same_or_subdomain(base, compliance) {
            return Err(FetchError::new(
                label(base),
                format!(
                    "refused: {} is not the Security & Compliance endpoint",
                    base.host_str().unwrap_or("?")
                ),
            ));
        }
        let url = join(base, &format!("/adminapi/beta/{tenant_id}/InvokeCommand"))
            .map_err(|e| FetchError::new(label(base), e.0))?;
        let headers = self.headers(Service::Compliance, &[("X-AnchorMailbox", anchor)], &url)?;
        let kind = ReadKind::InvokeGetCmdlet(get);
        let deadline = Instant::now() + self.inner.settings.time_budget;
        // EXO v3 REST pages by `@odata.nextLink`, re-POSTing the same command to it.
        let mut pager = Pager::new(
            Paging::ODataNextLink,
            base,
            url,
            self.inner.settings.max_pages,
        );
        let mut current = pager.first_url().clone();
        loop {
            let (page, served) = self
                .execute(Service::Compliance, &kind, &current, &headers, deadline)
                .await
                .map_err(|mut e| {
                    e.endpoint = format!("{} {cmdlet}", e.endpoint);
                    e
                })?;
            match pager.accept(page, &served) {
                Ok(Some(next)) => current = next,
                Ok(None) => return Ok(pager.finish()),
                Err(e) => return Err(FetchError::new(label(&current), e.0)),
            }
        }
    }

    async fn batch_chunk(
        &self,
        parts: Vec<BatchGet>,
        batch_url: &Url,
        deadline: Instant,
    ) -> Result<Vec<BatchResult>, FetchError> {
        let settings = &self.inner.settings;
        let headers = self.headers(Service::Graph, &[], batch_url)?;
        let graph = self
            .inner
            .endpoints
            .base(Service::Graph)
            .expect("graph always has a base");
        let part_endpoint = |p: &BatchGet| match join(graph, &format!("/v1.0{}", p.relative_url)) {
            Ok(u) => describe("GET", &u),
            Err(_) => format!("GET /v1.0{}", p.relative_url),
        };
        let mut done: Vec<BatchResult> = Vec::new();
        let mut pending = parts;
        let mut round: u32 = 0;
        let mut refreshed = false;
        while !pending.is_empty() {
            round += 1;
            let kind = ReadKind::GraphBatch(pending.clone());
            let (response, _) = self
                .execute(Service::Graph, &kind, batch_url, &headers, deadline)
                .await?;
            let Some(responses) = response.get("responses").and_then(Value::as_array) else {
                return Err(FetchError::new(
                    describe("POST", batch_url),
                    "the $batch response has no `responses` list",
                ));
            };
            let mut throttled = Vec::new();
            let mut unauthorized = Vec::new();
            let mut wait: Option<Duration> = None;
            for part in std::mem::take(&mut pending) {
                let endpoint = part_endpoint(&part);
                let Some(r) = responses
                    .iter()
                    .find(|r| r.get("id").and_then(Value::as_str) == Some(part.id.as_str()))
                else {
                    done.push(BatchResult {
                        id: part.id,
                        result: Err(FetchError::new(
                            &endpoint,
                            "missing from the $batch response",
                        )),
                        endpoint,
                    });
                    continue;
                };
                let status = r
                    .get("status")
                    .and_then(Value::as_u64)
                    .and_then(|s| u16::try_from(s).ok())
                    .unwrap_or(0);
                let body = r.get("body").cloned().unwrap_or(Value::Null);
                if status == 401 && !refreshed {
                    unauthorized.push(part);
                    continue;
                }
                let rounds = if status == 429 {
                    settings.max_throttled_attempts
                } else {
                    settings.max_attempts
                };
                if matches!(status, 429 | 503 | 504) && round < rounds {
                    let retry_after = r
                        .get("headers")
                        .and_then(Value::as_object)
                        .and_then(|h| {
                            h.iter()
                                .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
                                .and_then(|(_, v)| {
                                    v.as_str()
                                        .map(str::to_string)
                                        .or_else(|| v.as_u64().map(|n| n.to_string()))
                                })
                        })
                        .and_then(|v| {
                            parse_retry_after(&v, SystemTime::now(), settings.retry_after_cap)
                        });
                    wait = wait.max(retry_after);
                    throttled.push(part);
                    continue;
                }
                let result = if (200..300).contains(&status) {
                    Ok(body)
                } else {
                    Err(error_from_json(&endpoint, status, &body))
                };
                done.push(BatchResult {
                    id: part.id,
                    endpoint,
                    result,
                });
            }
            if !unauthorized.is_empty() {
                // A part refused the token (expired mid-run): sign in again once, retry them.
                refreshed = true;
                let audience = self.audience(Service::Graph, &describe("POST", batch_url))?;
                self.inner.tokens.invalidate(&audience).await;
                if throttled.is_empty() {
                    pending = unauthorized;
                    continue;
                }
                throttled.extend(unauthorized);
            }
            if throttled.is_empty() {
                break;
            }
            let delay = wait.unwrap_or_else(|| backoff_delay(round, settings.backoff_base));
            if Instant::now() + delay >= deadline {
                for part in throttled {
                    let endpoint = part_endpoint(&part);
                    done.push(BatchResult {
                        id: part.id,
                        result: Err(FetchError {
                            endpoint: endpoint.clone(),
                            status: Some(429),
                            code: None,
                            message: "throttled, and the time budget ran out before a retry".into(),
                        }),
                        endpoint,
                    });
                }
                break;
            }
            tracing::debug!(
                parts = throttled.len(),
                wait_ms = delay.as_millis() as u64,
                "retrying throttled $batch parts"
            );
            tokio::time::sleep(delay).await;
            pending = throttled;
        }
        Ok(done)
    }

    /// Resolves `url` for `service`: returns (target, service base).
    fn target(&self, service: Service, url: &str) -> Result<(Url, Url), FetchError> {
        let Some(base) = self.inner.endpoints.base(service) else {
            return Err(FetchError {
                endpoint: format!("GET {service}"),
                status: None,
                code: Some("NoEndpoint".into()),
                message: "no Dataverse environment: pass --dataverse-url".into(),
            });
        };
        if url.starts_with("https://") || url.starts_with("http://") {
            let parsed = Url::parse(url)
                .map_err(|_| FetchError::new(format!("GET {service}"), "not a valid URL"))?;
            if parsed.origin() != base.origin() {
                return Err(FetchError::new(
                    describe("GET", &parsed),
                    format!(
                        "refused: not on the {service} endpoint ({})",
                        base.host_str().unwrap_or("?")
                    ),
                ));
            }
            return Ok((parsed, base.clone()));
        }
        let joined = join(base, url).map_err(|e| FetchError::new(format!("GET {service}"), e.0))?;
        Ok((joined, base.clone()))
    }

    fn headers(
        &self,
        service: Service,
        extra: &[(&str, &str)],
        url: &Url,
    ) -> Result<HeaderMap, FetchError> {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        if service == Service::Dataverse {
            headers.insert("OData-MaxVersion", HeaderValue::from_static("4.0"));
            headers.insert("OData-Version", HeaderValue::from_static("4.0"));
        }
        for (name, value) in extra {
            let lower = name.to_ascii_lowercase();
            let forbidden = matches!(
                lower.as_str(),
                "authorization"
                    | "host"
                    | "content-length"
                    | "transfer-encoding"
                    | "cookie"
                    | "proxy-authorization"
            ) || lower.contains("method");
            if forbidden {
                return Err(FetchError::new(
                    describe("GET", url),
                    format!("refused: header `{name}` cannot be set by a collector"),
                ));
            }
            let n = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                FetchError::new(
                    describe("GET", url),
                    format!("invalid header name `{name}`"),
                )
            })?;
            let v = HeaderValue::from_str(value).map_err(|_| {
                FetchError::new(
                    describe("GET", url),
                    format!("invalid value for header `{name}`"),
                )
            })?;
            headers.insert(n, v);
        }
        Ok(headers)
    }

    fn audience(&self, service: Service, endpoint: &str) -> Result<Audience, FetchError> {
        self.inner.endpoints.audience(service).ok_or_else(|| {
            FetchError::new(endpoint, "no Dataverse environment: pass --dataverse-url")
        })
    }

    /// Sends one request with retries, token refresh and redirects, and returns its JSON and
    /// the URL that answered (after redirects: a next link on a regional host is accepted when
    /// that host served the page).
    ///
    /// Redirects are followed on the service's own origin or a subdomain of its base. An S&C
    /// `InvokeCommand` redirected anywhere else is re-sent once, with the same body and headers,
    /// to the regional host [`Endpoints::compliance_regional`] maps the location's host to;
    /// the location itself is never contacted.
    async fn execute(
        &self,
        service: Service,
        kind: &ReadKind,
        url: &Url,
        headers: &HeaderMap,
        deadline: Instant,
    ) -> Result<(Value, Url), FetchError> {
        let settings = &self.inner.settings;
        let method = kind.method();
        let body = kind.body();
        let audience = self.audience(service, &describe(method.as_str(), url))?;
        let state = &self.inner.state[&service];
        let _in_flight = InFlight::new(&state.in_flight);
        let timeout = settings.timeouts.service(service);
        let service_deadline = *state.started.get_or_init(Instant::now) + settings.service_budget;
        let (deadline, budget) = [
            (deadline, Budget::Call(settings.time_budget)),
            (
                service_deadline,
                Budget::Service(service, settings.service_budget),
            ),
            (self.inner.run_deadline, Budget::Run(settings.deadline)),
        ]
        .into_iter()
        .min_by_key(|(at, _)| *at)
        .expect("three limits");
        let used_up = |endpoint: String| {
            if matches!(budget, Budget::Run(_)) {
                state.cut_by_deadline.fetch_add(1, Ordering::SeqCst);
            }
            FetchError::new(endpoint, budget.used_up())
        };
        let limit = self.inner.limits[&service].clone();
        let mut url = url.clone();
        let mut attempt: u32 = 0;
        // 429 answers so far; `attempt - throttled` counts against `max_attempts`.
        let mut throttled: u32 = 0;
        let mut refreshed = false;
        let mut redirects = 0;
        // Whether an S&C front-door redirect was already mapped to its regional host.
        let mut regional = false;
        loop {
            attempt += 1;
            let endpoint = describe(method.as_str(), &url);
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(used_up(endpoint));
            }
            let silent = state.silent.load(Ordering::SeqCst);
            if silent >= SILENT_AFTER {
                let last = *state.silence.lock().unwrap_or_else(|p| p.into_inner());
                let last = last.unwrap_or(Silence::Request(timeout.request));
                return Err(FetchError::new(endpoint, last.not_sent(service, silent)));
            }
            let token =
                match tokio::time::timeout(remaining, self.inner.tokens.token(&audience)).await {
                    Ok(token) => token.map_err(|e| auth_error(&endpoint, e))?,
                    Err(_) => return Err(used_up(endpoint)),
                };
            let permit = match tokio::time::timeout_at(deadline.into(), limit.acquire()).await {
                Ok(permit) => permit.expect("semaphores are never closed"),
                Err(_) => return Err(used_up(endpoint)),
            };
            let remaining = deadline.saturating_duration_since(Instant::now());
            let started = Instant::now();
            let mut request = self.inner.http[&service]
                .request(method.clone(), url.clone())
                .headers(headers.clone())
                .bearer_auth(token.expose_secret())
                .timeout(remaining.min(timeout.request));
            if let Some(b) = &body {
                request = request.json(b);
            }
            let sent = request.send().await;
            let outcome = match sent {
                Ok(mut resp) => {
                    let status = resp.status().as_u16();
                    let resp_headers = resp.headers().clone();
                    let read = read_capped(&mut resp, settings.max_body_bytes).await;
                    Ok((status, resp_headers, read))
                }
                Err(e) => Err(e),
            };
            drop(permit);
            let ms = started.elapsed().as_millis() as u64;
            let host = url.host_str().unwrap_or("");
            let path = url.path();
            let (status, resp_headers, read) = match outcome {
                Err(e) if e.is_timeout() && remaining < timeout.request && !e.is_connect() => {
                    // The budget, not the service's timeout, ended the wait.
                    tracing::debug!(method = method.as_str(), host, path, ms, "budget ran out");
                    return Err(used_up(endpoint));
                }
                Err(e) if e.is_timeout() => {
                    let silence = if e.is_connect() {
                        Silence::Connect(timeout.connect)
                    } else {
                        Silence::Request(timeout.request)
                    };
                    let what = silence.message(service);
                    tracing::debug!(method = method.as_str(), host, path, ms, error = %what, "request timed out");
                    *state.silence.lock().unwrap_or_else(|p| p.into_inner()) = Some(silence);
                    let silent = state.silent.fetch_add(1, Ordering::SeqCst) + 1;
                    let delay = backoff_delay(attempt, settings.backoff_base);
                    if silent < SILENT_AFTER
                        && attempt - throttled < settings.max_attempts
                        && Instant::now() + delay < deadline
                    {
                        tokio::time::sleep(delay).await;
                        continue;
                    }
                    return Err(FetchError::new(endpoint, gave_up(what, attempt)));
                }
                Err(e) => {
                    let message = transport_message(&e);
                    tracing::debug!(method = method.as_str(), host, path, ms, error = %message, "request failed");
                    let retryable = e.is_connect() || e.is_request();
                    let delay = backoff_delay(attempt, settings.backoff_base);
                    if retryable
                        && attempt - throttled < settings.max_attempts
                        && Instant::now() + delay < deadline
                    {
                        tokio::time::sleep(delay).await;
                        continue;
                    }
                    return Err(FetchError::new(endpoint, gave_up(message, attempt)));
                }
                Ok(parts) => {
                    // An answer, whatever its status: the service is there.
                    state.silent.store(0, Ordering::SeqCst);
                    parts
                }
            };
            tracing::debug!(method = method.as_str(), host, path, status, ms, "request");
            let bytes = match read {
                Ok(b) => b,
                Err(BodyError::TooLarge(cap)) => {
                    return Err(FetchError {
                        endpoint,
                        status: Some(status),
                        code: None,
                        message: format!("response larger than {} MiB, not read", cap >> 20),
                    });
                }
                Err(BodyError::Transport(message)) => {
                    let delay = backoff_delay(attempt, settings.backoff_base);
                    if attempt - throttled < settings.max_attempts
                        && Instant::now() + delay < deadline
                    {
                        tokio::time::sleep(delay).await;
                        continue;
                    }
                    return Err(FetchError {
                        endpoint,
                        status: Some(status),
                        code: None,
                        message: gave_up(message, attempt),
                    });
                }
            };
            let content_type = resp_headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
            if matches!(status, 301 | 302 | 303 | 307 | 308) {
                let base = self.inner.endpoints.base(service).unwrap_or(&url).clone();
                let next = resp_headers
                    .get(LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|loc| url.join(loc).ok());
                match next {
                    Some(next)
                        if redirects < MAX_REDIRECTS
                            && (next.origin() == url.origin()
                                || same_or_subdomain(&next, &base)) =>
                    {
                        redirects += 1;
                        attempt -= 1;
                        url = next;
                        continue;
                    }
                    Some(next) if matches!(kind, ReadKind::InvokeGetCmdlet(_)) => {
                        let mapped = if regional {
                            Err("the regional host redirected again".to_string())
                        } else {
                            self.inner
                                .endpoints
                                .compliance_regional(&url, &next)
                                .map_err(|e| e.0)
                        };
                        match mapped {
                            Ok(target) => {
                                tracing::debug!(
                                    from = next.host_str().unwrap_or(""),
                                    to = %describe("POST", &target),
                                    "S&C front door redirect: re-sent to the regional host"
                                );
                                regional = true;
                                redirects += 1;
                                attempt -= 1;
                                url = target;
                                continue;
                            }
                            Err(why) => {
                                return Err(FetchError {
                                    endpoint,
                                    status: Some(status),
                                    code: None,
                                    message: format!(
                                        "redirected to {}, not followed (no token sent there): {why}",
                                        host_port(&next)
                                    ),
                                });
                            }
                        }
                    }
                    Some(next) => {
                        return Err(FetchError {
                            endpoint,
                            status: Some(status),
                            code: None,
                            message: format!(
                                "redirected to {}, not followed",
                                describe(method.as_str(), &next)
                            ),
                        });
                    }
                    None => {
                        return Err(FetchError {
                            endpoint,
                            status: Some(status),
                            code: None,
                            message: "redirect without a usable Location".into(),
                        });
                    }
                }
            }
            if status == 401 && !refreshed {
                refreshed = true;
                self.inner
                    .tokens
                    .invalidate_if_current(&audience, &token)
                    .await;
                continue;
            }
            if matches!(status, 429 | 503 | 504) {
                let retry_after = resp_headers
                    .get(RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| {
                        parse_retry_after(v, SystemTime::now(), settings.retry_after_cap)
                    });
                let delay =
                    retry_after.unwrap_or_else(|| backoff_delay(attempt, settings.backoff_base));
                let may_retry = if status == 429 {
                    throttled += 1;
                    throttled < settings.max_throttled_attempts
                } else {
                    attempt - throttled < settings.max_attempts
                };
                if may_retry {
                    if Instant::now() + delay < deadline {
                        tracing::debug!(
                            method = method.as_str(),
                            host,
                            path,
                            status,
                            wait_ms = delay.as_millis() as u64,
                            "retrying"
                        );
                        tokio::time::sleep(delay).await;
                        continue;
                    }
                    let mut e = service_error(endpoint, status, content_type, &bytes);
                    e.message = format!(
                        "{} (retry in {} s would exceed the {})",
                        e.message,
                        delay.as_secs_f64().ceil(),
                        budget.label()
                    );
                    return Err(e);
                }
                let mut e = service_error(endpoint, status, content_type, &bytes);
                e.message = gave_up(e.message, attempt);
                return Err(e);
            }
            if (200..300).contains(&status) {
                return json_body(status, content_type, &bytes)
                    .map(|value| (value, url))
                    .map_err(|message| FetchError {
                        endpoint,
                        status: Some(status),
                        code: None,
                        message,
                    });
            }
            return Err(service_error(endpoint, status, content_type, &bytes));
        }
    }
}

/// `host[:port]` of a URL, for messages.
fn host_port(url: &Url) -> String {
    let host = url.host_str().unwrap_or("(no host)");
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

fn gave_up(message: String, attempts: u32) -> String {
    if attempts > 1 {
        format!("{message} (gave up after {attempts} attempts)")
    } else {
        message
    }
}

/// `url` is on `base`'s host or a subdomain of it, without a scheme downgrade (the S&C front
/// door redirects to regional hosts such as `nam13b.ps.compliance.protection.outlook.com`).
fn same_or_subdomain(url: &Url, base: &Url) -> bool {
    if url.origin() == base.origin() {
        return true;
    }
    let (Some(host), Some(base_host)) = (url.host_str(), base.host_str()) else {
        return false;
    };
    url.scheme() == base.scheme()
        && url.port_or_known_default() == base.port_or_known_default()
        && host
            .to_ascii_lowercase()
            .ends_with(&format!(".{}", base_host.to_ascii_lowercase()))
}

fn auth_error(endpoint: &str, e: AuthError) -> FetchError {
    FetchError {
        endpoint: endpoint.to_string(),
        status: None,
        code: e.code(),
        message: format!("sign-in failed: {e}"),
    }
}

/// A non-2xx response as a [`FetchError`]: the service's code and message when the body has
/// one of the error shapes of apis.md 0.3, else a description of the body.
fn service_error(
    endpoint: String,
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
) -> FetchError {
    match json_body(status, content_type, body) {
        Ok(v) => error_from_json(&endpoint, status, &v),
        Err(message) if body.iter().all(u8::is_ascii_whitespace) => FetchError {
            endpoint,
            status: Some(status),
            code: None,
            message: canonical_reason(status)
                .map(str::to_string)
                .unwrap_or(message),
        },
        Err(message) => FetchError {
            endpoint,
            status: Some(status),
            code: None,
            message,
        },
    }
}

fn canonical_reason(status: u16) -> Option<&'static str> {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
}

/// Graph/ARM/Dataverse/Teams `{"error":{"code","message"}}`, OAuth `{"error","error_description"}`,
/// Teams `{"Message"}`.
fn error_from_json(endpoint: &str, status: u16, v: &Value) -> FetchError {
    let str_of = |v: Option<&Value>| {
        v.and_then(|m| {
            m.as_str()
                .or_else(|| m.get("value").and_then(Value::as_str))
        })
        .map(str::to_string)
        .filter(|s| !s.trim().is_empty())
    };
    let (code, message) = match v.get("error") {
        Some(err @ Value::Object(_)) => (str_of(err.get("code")), str_of(err.get("message"))),
        Some(Value::String(code)) => (Some(code.clone()), str_of(v.get("error_description"))),
        _ => (
            str_of(v.get("ErrorCode")).or_else(|| str_of(v.get("code"))),
            str_of(v.get("Message")).or_else(|| str_of(v.get("message"))),
        ),
    };
    let message = message
        .map(|m| one_line(&m))
        .or_else(|| canonical_reason(status).map(str::to_string))
        .unwrap_or_else(|| format!("HTTP {status}"));
    FetchError {
        endpoint: endpoint.to_string(),
        status: (status != 0).then_some(status),
        code,
        message,
    }
}

fn one_line(s: &str) -> String {
    let line = s
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    if line.chars().count() > MESSAGE_CAP {
        let cut: String = line.chars().take(MESSAGE_CAP).collect();
        format!("{cut}…")
    } else {
        line.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::auth::Credential;
    use crate::sources::endpoints::{Cloud, EndpointOverride};
    use crate::sources::wire::loopback::{self, Recorded, Reply};
    use secrecy::SecretString;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const SECRET: &str = "s3cr3t-http-7f3a";

    fn fast() -> ClientSettings {
        ClientSettings {
            backoff_base: Duration::from_millis(2),
            time_budget: Duration::from_secs(20),
            ..ClientSettings::default()
        }
    }

    /// A handler for every service under one loopback server: `/login/...` issues tokens
    /// `tok-1`, `tok-2`, ...; everything else goes to `api`.
    fn tenant<F>(api: F) -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static
    where
        F: Fn(&Recorded) -> Reply + Send + Sync + 'static,
    {
        let issued = AtomicUsize::new(0);
        move |req| {
            if req.path.starts_with("/login/") {
                let n = issued.fetch_add(1, Ordering::SeqCst) + 1;
                Reply::json(
                    200,
                    json!({"access_token": format!("tok-{n}"), "expires_in": 3600}),
                )
            } else {
                api(req)
            }
        }
    }

    async fn client_for(server: &loopback::Server, settings: ClientSettings) -> ReadOnlyClient {
        let overrides: Vec<EndpointOverride> = ["login", "graph", "teams", "arm", "compliance"]
            .iter()
            .map(|k| {
                format!("{k}={}", server.url(&format!("/{k}")))
                    .parse()
                    .unwrap()
            })
            .collect();
        let dv = server.url("/dataverse").to_string();
        let endpoints =
            Endpoints::resolve_with_env(Cloud::Public, &overrides, Some(&dv), |_| None).unwrap();
        let cred = Credential::ClientSecret {
            tenant: "tid".into(),
            client_id: "app".into(),
            secret: SecretString::from(SECRET),
        };
        let tokens = Arc::new(TokenProvider::new(cred, endpoints.login()).unwrap());
        ReadOnlyClient::new(endpoints, tokens, settings).unwrap()
    }

    fn api_requests(server: &loopback::Server) -> Vec<Recorded> {
        server
            .requests()
            .into_iter()
            .filter(|r| !r.path.starts_with("/login/"))
            .collect()
    }

    const ANCHOR: &str =
        "UPN:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@contoso.onmicrosoft.com";
    /// Where the S&C front door redirects `InvokeCommand` (apis.md A.10).
    const FRONT_DOOR_REDIRECT: &str =
        "https://nam13b.admin.protection.outlook.com:446/adminapi/beta/tid/InvokeCommand";

    /// A client of `server` and its compliance base.
    async fn compliance_client(server: &loopback::Server) -> (ReadOnlyClient, Url) {
        let client = client_for(server, fast()).await;
        let base = client
            .endpoints()
            .base(Service::Compliance)
            .unwrap()
            .clone();
        (client, base)
    }

    /// Graph answers only after `silent_for` of its requests went unanswered (each held 1 s,
    /// past the 0.2 s timeout).
    async fn slow_graph(silent_for: usize) -> loopback::Server {
        let seen = AtomicUsize::new(0);
        loopback::serve(tenant(move |req| {
            if req.path.starts_with("/graph/") && seen.fetch_add(1, Ordering::SeqCst) < silent_for {
                std::thread::sleep(Duration::from_secs(1));
            }
            Reply::json(200, json!({"value": [{"id": "org"}]}))
        }))
        .await
    }

    fn short_timeouts() -> ClientSettings {
        ClientSettings {
            timeouts: Timeouts::uniform(Duration::from_secs(5), Duration::from_millis(200)),
            ..fast()
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_timed_out_request_is_retried_once_and_an_answer_resets_the_count() {
        let server = slow_graph(1).await;
        let client = client_for(&server, short_timeouts()).await;
        let v = client
            .get(Service::Graph, "/v1.0/organization", &[])
            .await
            .unwrap();
        assert_eq!(v["value"][0]["id"], "org");
        assert_eq!(api_requests(&server).len(), 2, "sent twice");
        // The answer reset the count: the next request is sent, not refused.
        client
            .get(Service::Graph, "/v1.0/subscribedSkus", &[])
            .await
            .unwrap();
        assert_eq!(api_requests(&server).len(), 3);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_silent_service_costs_two_timeouts_then_is_not_asked_again() {
        let server = slow_graph(usize::MAX).await;
        let client = client_for(&server, short_timeouts()).await;
        let started = Instant::now();
        let e = client
            .get(Service::Graph, "/v1.0/organization", &[])
            .await
            .unwrap_err();
        assert_eq!(
            e.message,
            "no answer from graph within 0.2 s (--timeout graph=SECS waits longer) (gave up after 2 attempts)"
        );
        assert!(e.endpoint.starts_with("GET 127.0.0.1:"), "{e}");
        assert_eq!(api_requests(&server).len(), 2);
        let e = client
            .get(Service::Graph, "/v1.0/subscribedSkus", &[])
            .await
            .unwrap_err();
        assert_eq!(
            e.message,
            "not sent: graph is not answering (2 requests in a row got no answer within 0.2 s; --timeout graph=SECS waits longer)"
        );
        assert_eq!(api_requests(&server).len(), 2, "not sent");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        // Other services are asked as usual.
        client
            .get(Service::Arm, "/subscriptions?api-version=1", &[])
            .await
            .unwrap();
        assert_eq!(client.pending(), vec![], "nothing left in flight");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_run_deadline_fails_what_is_not_read_by_then_and_counts_it() {
        let server = slow_graph(usize::MAX).await;
        let settings = ClientSettings {
            deadline: Duration::from_millis(300),
            timeouts: Timeouts::uniform(Duration::from_secs(5), Duration::from_secs(5)),
            ..fast()
        };
        let client = client_for(&server, settings).await;
        let started = Instant::now();
        let e = client
            .get(Service::Graph, "/v1.0/organization", &[])
            .await
            .unwrap_err();
        assert!(
            started.elapsed() < Duration::from_millis(900),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(
            e.message,
            "not read: the run's deadline of 0.3 s passed (--deadline SECS allows longer)"
        );
        // Other services too, however quick they are.
        let e = client
            .get(Service::Teams, "/Skype.Policy/configurations/X", &[])
            .await
            .unwrap_err();
        assert!(e.message.contains("run's deadline of 0.3 s passed"), "{e}");
        assert_eq!(
            client.cut_by_deadline(),
            vec![(Service::Graph, 1), (Service::Teams, 1)]
        );
    }

    #[test]
    fn service_error_shapes() {
        let graph = br#"{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation.","innerError":{"request-id":"r"}}}"#;
        let e = service_error("GET g/v1.0/x".into(), 403, None, graph);
        assert_eq!(e.code.as_deref(), Some("Authorization_RequestDenied"));
        assert_eq!(
            e.message,
            "Insufficient privileges to complete the operation."
        );
        assert_eq!(
            e.to_string(),
            "GET g/v1.0/x: HTTP 403 Authorization_RequestDenied: Insufficient privileges to complete the operation."
        );
        let teams = br#"{"Message":"Authorization has been denied for this request."}"#;
        let e = service_error("GET t".into(), 403, None, teams);
        assert_eq!(
            (e.code.as_deref(), e.message.as_str()),
            (None, "Authorization has been denied for this request.")
        );
        let dv = br#"{"error":{"code":"0x80040220","message":"Principal user is missing prvReadmsdyn_ocphonenumber privilege"}}"#;
        assert_eq!(
            service_error("d".into(), 403, None, dv).code.as_deref(),
            Some("0x80040220")
        );
        let e = service_error("g".into(), 404, None, b"");
        assert_eq!(e.message, "Not Found");
        let e = service_error("g".into(), 502, Some("text/html"), b"<html>oops</html>");
        assert_eq!(
            e.to_string(),
            "g: HTML error page instead of JSON (HTTP 502)"
        );
        let src: SourceError = e.into();
        assert_eq!(src.status, Some(502));
        assert_eq!(src.message, "HTML error page instead of JSON (HTTP 502)");
    }

    #[tokio::test]
    async fn get_keeps_prefix_and_sends_bearer_token() {
        let server = loopback::serve(tenant(|_| {
            Reply::json(200, json!({"value":[{"id":"org"}]}))
        }))
        .await;
        let client = client_for(&server, fast()).await;
        let v = client
            .get(Service::Graph, "/v1.0/organization", &[])
            .await
            .unwrap();
        assert_eq!(v, json!({"value":[{"id":"org"}]}));
        let reqs = api_requests(&server);
        assert_eq!(reqs.len(), 1);
        assert_eq!(reqs[0].method, "GET");
        assert_eq!(reqs[0].path, "/graph/v1.0/organization");
        assert_eq!(reqs[0].header("authorization"), Some("Bearer tok-1"));
        assert_eq!(reqs[0].header("accept"), Some("application/json"));
        let login = &server.requests()[0];
        let form = String::from_utf8_lossy(&login.body).to_string();
        assert!(
            form.contains("scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"),
            "{form}"
        );
    }

    #[tokio::test]
    async fn dataverse_gets_odata_headers_and_extra_headers() {
        let server = loopback::serve(tenant(|_| Reply::json(200, json!({"value":[]})))).await;
        let client = client_for(&server, fast()).await;
        client
            .get_paged(
                Service::Dataverse,
                "/api/data/v9.2/msdyn_ocphonenumbers?$select=msdyn_name",
                &[("Prefer", "odata.maxpagesize=500")],
                Paging::ODataNextLink,
            )
            .await
            .unwrap();
        let r = &api_requests(&server)[0];
        assert_eq!(
            r.path,
            "/dataverse/api/data/v9.2/msdyn_ocphonenumbers?$select=msdyn_name"
        );
        assert_eq!(r.header("OData-Version"), Some("4.0"));
        assert_eq!(r.header("Prefer"), Some("odata.maxpagesize=500"));
        let login = String::from_utf8_lossy(&server.requests()[0].body).to_string();
        let dv = server.url("/dataverse");
        let scope: String = url::form_urlencoded::byte_serialize(
            format!("{}/.default", dv.as_str().trim_end_matches('/')).as_bytes(),
        )
        .collect();
        assert!(login.contains(&scope), "{login}");
    }

    #[tokio::test]
    async fn refuses_dangerous_headers_and_foreign_urls() {
        let server = loopback::serve(tenant(|_| Reply::json(200, json!({})))).await;
        let client = client_for(&server, fast()).await;
        for h in ["Authorization", "X-HTTP-Method-Override", "X-HTTP-Method"] {
            let e = client
                .get(Service::Graph, "/v1.0/x", &[(h, "DELETE")])
                .await
                .unwrap_err();
            assert!(e.message.starts_with("refused"), "{e}");
        }
        let e = client
            .get(
                Service::Graph,
                "https://graph.microsoft.com/v1.0/users",
                &[],
            )
            .await
            .unwrap_err();
        assert!(
            e.message.starts_with("refused: not on the graph endpoint"),
            "{e}"
        );
        assert!(api_requests(&server).is_empty());
        let abs = server.url("/graph/v1.0/users?$skiptoken=x").to_string();
        client.get(Service::Graph, &abs, &[]).await.unwrap();
        assert_eq!(
            api_requests(&server)[0].path,
            "/graph/v1.0/users?$skiptoken=x"
        );
    }

    #[tokio::test]
    async fn throttling_honours_retry_after_both_forms() {
        let n = Arc::new(AtomicUsize::new(0));
        let n2 = n.clone();
        let server = loopback::serve(tenant(move |_| match n2.fetch_add(1, Ordering::SeqCst) {
            0 => Reply::json(
                429,
                json!({"error":{"code":"TooManyRequests","message":"slow"}}),
            )
            .header("Retry-After", "0"),
            1 => Reply::json(503, json!({})).header(
                "Retry-After",
                &httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(5)),
            ),
            2 => Reply::json(504, json!({})),
            _ => Reply::json(200, json!({"value":[1]})),
        }))
        .await;
        let client = client_for(&server, fast()).await;
        let v = client
            .get(Service::Arm, "/subscriptions?api-version=2022-12-01", &[])
            .await
            .unwrap();
        assert_eq!(v, json!({"value":[1]}));
        assert_eq!(api_requests(&server).len(), 4);
    }

    #[tokio::test]
    async fn persistent_503_gives_up_after_max_attempts() {
        let server = loopback::serve(tenant(|_| {
            Reply::json(
                503,
                json!({"error":{"code":"ServiceUnavailable","message":"Try later"}}),
            )
        }))
        .await;
        let client = client_for(
            &server,
            ClientSettings {
                max_attempts: 3,
                ..fast()
            },
        )
        .await;
        let e = client
            .get(Service::Graph, "/v1.0/subscribedSkus", &[])
            .await
            .unwrap_err();
        assert_eq!(e.status, Some(503));
        assert_eq!(e.code.as_deref(), Some("ServiceUnavailable"));
        assert_eq!(e.message, "Try later (gave up after 3 attempts)");
        assert_eq!(api_requests(&server).len(), 3);
    }

    #[tokio::test]
    async fn retry_after_beyond_budget_fails_fast() {
        let server = loopback::serve(tenant(|_| {
            Reply::json(429, json!({})).header("Retry-After", "30")
        }))
        .await;
        let client = client_for(
            &server,
            ClientSettings {
                time_budget: Duration::from_secs(2),
                ..fast()
            },
        )
        .await;
        let started = Instant::now();
        let e = client
            .get(
                Service::Teams,
                "/Skype.Policy/configurations/ExternalAccessPolicy",
                &[],
            )
            .await
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(e.status, Some(429));
        assert!(e.message.contains("time budget"), "{e}");
    }

    #[tokio::test]
    async fn other_4xx_are_not_retried() {
        let server = loopback::serve(tenant(|_| {
            Reply::json(403, json!({"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation."}}))
        }))
        .await;
        let client = client_for(&server, fast()).await;
        let e = client
            .get(
                Service::Graph,
                "/v1.0/roleManagement/directory/roleAssignments",
                &[],
            )
            .await
            .unwrap_err();
        assert_eq!(e.status, Some(403));
        assert_eq!(
            e.endpoint,
            format!(
                "GET 127.0.0.1:{}/graph/v1.0/roleManagement/directory/roleAssignments",
                server.url("/").port().unwrap()
            )
        );
        assert_eq!(api_requests(&server).len(), 1);
    }

    #[tokio::test]
    async fn unauthorized_refreshes_the_token_once() {
        let server = loopback::serve(tenant(|req| {
            if req.header("authorization") == Some("Bearer tok-1") {
                Reply::json(401, json!({"error":{"code":"InvalidAuthenticationToken","message":"Lifetime validation failed, the token is expired."}}))
            } else {
                Reply::json(200, json!({"ok":true}))
            }
        }))
        .await;
        let client = client_for(&server, fast()).await;
        assert_eq!(
            client
                .get(Service::Graph, "/v1.0/organization", &[])
                .await
                .unwrap(),
            json!({"ok":true})
        );
        let logins = server
            .requests()
            .iter()
            .filter(|r| r.path.starts_with("/login/"))
            .count();
        assert_eq!(logins, 2);

        // A 401 that survives the refresh is reported, after exactly one refresh.
        let server = loopback::serve(tenant(|_| {
            Reply::json(401, json!({"error":{"code":"InvalidAuthenticationToken","message":"Access token is empty."}}))
        }))
        .await;
        let client = client_for(&server, fast()).await;
        let e = client
            .get(Service::Graph, "/v1.0/organization", &[])
            .await
            .unwrap_err();
        assert_eq!(
            (e.status, e.code.as_deref()),
            (Some(401), Some("InvalidAuthenticationToken"))
        );
        assert_eq!(api_requests(&server).len(), 2);
    }

    #[tokio::test]
    async fn broken_bodies_become_clear_errors() {
        let server = loopback::serve(tenant(|req| match req.path.as_str() {
            "/graph/html502" => Reply::text(
                502,
                "text/html",
                "<html><head><title>502 Bad Gateway</title></head></html>",
            ),
            "/graph/html200" => Reply::text(
                200,
                "text/html; charset=utf-8",
                "<!DOCTYPE html><html>login</html>",
            ),
            "/graph/empty" => Reply::text(200, "application/json", ""),
            "/graph/truncated-json" => {
                Reply::text(200, "application/json", r#"{"value":[{"id":"1"},{"id":"#)
            }
            "/graph/cut" => Reply::Truncated {
                status: 200,
                declared: 5000,
                body: br#"{"value":[{"id":"1"}"#.to_vec(),
            },
            _ => Reply::json(404, json!({})),
        }))
        .await;
        let client = client_for(
            &server,
            ClientSettings {
                max_attempts: 2,
                ..fast()
            },
        )
        .await;
        let msg = |path: &'static str| {
            let client = client.clone();
            async move { client.get(Service::Graph, path, &[]).await.unwrap_err() }
        };
        let e = msg("/html502").await;
        assert_eq!(
            (e.status, e.message.as_str()),
            (Some(502), "HTML error page instead of JSON (HTTP 502)")
        );
        assert!(e.endpoint.ends_with("/graph/html502"));
        assert_eq!(
            msg("/html200").await.message,
            "HTML page instead of JSON (HTTP 200)"
        );
        assert_eq!(
            msg("/empty").await.message,
            "empty body instead of JSON (HTTP 200)"
        );
        assert!(
            msg("/truncated-json")
                .await
                .message
                .starts_with("truncated JSON body (HTTP 200")
        );
        let e = msg("/cut").await;
        assert!(e.message.starts_with("response body cut off after"), "{e}");
        assert!(e.message.ends_with("(gave up after 2 attempts)"), "{e}");
    }

    #[tokio::test]
    async fn oversized_body_is_refused() {
        let big = format!(r#"{{"value":["{}"]}}"#, "x".repeat(10_000));
        let server =
            loopback::serve(tenant(move |_| Reply::text(200, "application/json", &big))).await;
        let client = client_for(
            &server,
            ClientSettings {
                max_body_bytes: 4096,
                ..fast()
            },
        )
        .await;
        let e = client
            .get(Service::Graph, "/v1.0/x", &[])
            .await
            .unwrap_err();
        assert!(e.message.starts_with("response larger than"), "{e}");
    }

    #[tokio::test]
    async fn connection_refused_is_retried_then_reported() {
        let server = loopback::serve(tenant(|_| Reply::json(200, json!({})))).await;
        // A port with nothing listening.
        let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = dead.local_addr().unwrap().port();
        drop(dead);
        let overrides = vec![
            format!("login={}", server.url("/login"))
                .parse::<EndpointOverride>()
                .unwrap(),
            format!("graph=http://127.0.0.1:{port}/graph")
                .parse()
                .unwrap(),
        ];
        let endpoints =
            Endpoints::resolve_with_env(Cloud::Public, &overrides, None, |_| None).unwrap();
        let cred = Credential::ClientSecret {
            tenant: "tid".into(),
            client_id: "app".into(),
            secret: SecretString::from(SECRET),
        };
        let tokens = Arc::new(TokenProvider::new(cred, endpoints.login()).unwrap());
        let client = ReadOnlyClient::new(
            endpoints,
            tokens,
            ClientSettings {
                max_attempts: 3,
                ..fast()
            },
        )
        .unwrap();
        let e = client
            .get(Service::Graph, "/v1.0/organization", &[])
            .await
            .unwrap_err();
        assert_eq!(e.status, None);
        assert!(e.message.starts_with("connection failed"), "{e}");
        assert!(e.message.ends_with("(gave up after 3 attempts)"), "{e}");
    }

    #[tokio::test]
    async fn paging_loop_over_http_is_an_error_not_a_hang() {
        let server = Arc::new(Mutex::new(None::<Url>));
        let s2 = server.clone();
        let srv = loopback::serve(tenant(move |req| {
            let base = s2.lock().unwrap().clone().unwrap();
            let self_link = base.join(req.path.trim_start_matches('/')).unwrap();
            Reply::json(200, json!({"value":[{"p":req.path}], "@odata.nextLink": self_link.to_string().replace("x=1", "x=2")}))
        }))
        .await;
        *server.lock().unwrap() = Some(srv.url("/"));
        let client = client_for(&srv, fast()).await;
        let e = client
            .get_paged(
                Service::Graph,
                "/v1.0/users?x=1",
                &[],
                Paging::ODataNextLink,
            )
            .await
            .unwrap_err();
        assert!(
            e.message.starts_with("paging loop at GET 127.0.0.1:"),
            "{e}"
        );
        assert_eq!(api_requests(&srv).len(), 2);
    }

    #[tokio::test]
    async fn next_links_across_pages_are_merged() {
        let srv_url = Arc::new(Mutex::new(None::<Url>));
        let s2 = srv_url.clone();
        let srv = loopback::serve(tenant(move |req| {
            let base = s2.lock().unwrap().clone().unwrap();
            if req.path.contains("skiptoken") {
                Reply::json(200, json!({"value":[{"id":2}],"nextLink":null}))
            } else {
                Reply::json(200, json!({"value":[{"id":1}],"nextLink": base.join("arm/subscriptions?api-version=1&$skiptoken=a").unwrap().to_string()}))
            }
        }))
        .await;
        *srv_url.lock().unwrap() = Some(srv.url("/"));
        let client = client_for(&srv, fast()).await;
        let v = client
            .get_paged(
                Service::Arm,
                "/subscriptions?api-version=1",
                &[],
                Paging::ArmNextLink,
            )
            .await
            .unwrap();
        assert_eq!(v, json!({"value":[{"id":1},{"id":2}]}));
    }

    #[tokio::test]
    async fn invoke_get_cmdlet_refuses_anything_but_get() {
        let server = loopback::serve(tenant(|_| Reply::json(200, json!({"value":[]})))).await;
        let (client, base) = compliance_client(&server).await;
        for bad in [
            "Set-X",
            "Remove-InformationBarrierPolicy",
            "Sync-CsOnlineApplicationInstance",
            "Get-",
            "Get-X; Set-Y",
            "Get-X -Confirm",
            "GetX",
        ] {
            let e = client
                .invoke_get_cmdlet(&base, "tid", bad, "UPN:x")
                .await
                .unwrap_err();
            assert!(e.message.starts_with("refused"), "{bad}: {e}");
        }
        let e = client
            .invoke_get_cmdlet(&base, "tid", "Set-X", "UPN:x")
            .await
            .unwrap_err();
        assert_eq!(e.code.as_deref(), Some("NotReadOnly"));
        assert!(
            server.requests().is_empty(),
            "nothing sent, not even a token request"
        );
        // Another host than the compliance endpoint is refused too.
        let graph = client.endpoints().base(Service::Graph).unwrap().clone();
        let other = Url::parse(&format!("http://localhost:{}/", graph.port().unwrap())).unwrap();
        let e = client
            .invoke_get_cmdlet(&other, "tid", "Get-OrganizationSegment", "UPN:x")
            .await
            .unwrap_err();
        assert!(e.message.starts_with("refused"), "{e}");
        assert!(server.requests().is_empty());
    }

    #[tokio::test]
    async fn invoke_get_cmdlet_posts_the_command() {
        let server = loopback::serve(tenant(|req| {
            let body: Value = serde_json::from_slice(&req.body).unwrap();
            assert_eq!(body, json!({"CmdletInput":{"CmdletName":"Get-InformationBarrierPolicy","Parameters":{}}}));
            assert_eq!(req.header("X-AnchorMailbox"), Some("UPN:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@contoso.onmicrosoft.com"));
            assert_eq!(req.header("content-type"), Some("application/json"));
            Reply::json(200, json!({"@odata.context":"c","value":[{"Name":"P1","State":"Active"}]}))
        }))
        .await;
        let (client, base) = compliance_client(&server).await;
        let v = client
            .invoke_get_cmdlet(
                &base,
                "tid",
                "Get-InformationBarrierPolicy",
                "UPN:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@contoso.onmicrosoft.com",
            )
            .await
            .unwrap();
        assert_eq!(
            v,
            json!({"@odata.context":"c","value":[{"Name":"P1","State":"Active"}]})
        );
        let r = &api_requests(&server)[0];
        assert_eq!(
            (r.method.as_str(), r.path.as_str()),
            ("POST", "/compliance/adminapi/beta/tid/InvokeCommand")
        );
        let login = String::from_utf8_lossy(&server.requests()[0].body).to_string();
        assert!(
            login.contains("ps.compliance.protection.outlook.com%2F.default"),
            "{login}"
        );
    }

    /// The host and port a loopback request was sent to.
    fn host_of(req: &Recorded) -> String {
        req.header("host").unwrap().to_string()
    }

    #[tokio::test]
    async fn invoke_command_redirect_is_resent_once_to_the_regional_host() {
        let server = loopback::serve(tenant(|req| match req.path.as_str() {
            "/compliance/adminapi/beta/tid/InvokeCommand" => {
                Reply::text(302, "text/html", "").header("Location", FRONT_DOOR_REDIRECT)
            }
            "/compliance/regions/nam13b/adminapi/beta/tid/InvokeCommand" => {
                let next = format!(
                    "http://{}/compliance/regions/nam13b/adminapi/beta/tid/InvokeCommand?$skiptoken=2",
                    host_of(req)
                );
                Reply::json(200, json!({"value":[{"Name":"P1"}],"@odata.nextLink": next}))
            }
            "/compliance/regions/nam13b/adminapi/beta/tid/InvokeCommand?$skiptoken=2" => {
                Reply::json(200, json!({"value":[{"Name":"P2"}]}))
            }
            other => Reply::json(404, json!({"error":{"code":"NotFound","message":other}})),
        }))
        .await;
        let (client, base) = compliance_client(&server).await;
        let v = client
            .invoke_get_cmdlet(&base, "tid", "Get-InformationBarrierPolicy", ANCHOR)
            .await
            .unwrap();
        assert_eq!(v, json!({"value":[{"Name":"P1"},{"Name":"P2"}]}));
        let sent = api_requests(&server);
        let paths: Vec<&str> = sent.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/compliance/adminapi/beta/tid/InvokeCommand",
                "/compliance/regions/nam13b/adminapi/beta/tid/InvokeCommand",
                "/compliance/regions/nam13b/adminapi/beta/tid/InvokeCommand?$skiptoken=2",
            ]
        );
        // The same POST: method, body, anchor mailbox and token.
        for r in &sent {
            assert_eq!(r.method, "POST");
            assert_eq!(r.body, sent[0].body);
            assert_eq!(r.header("X-AnchorMailbox"), Some(ANCHOR));
            assert_eq!(r.header("authorization"), sent[0].header("authorization"));
        }
    }

    #[tokio::test]
    async fn invoke_command_redirect_elsewhere_is_refused_and_gets_no_token() {
        let trap =
            loopback::serve(|_| Reply::json(200, json!({"value":[{"Name":"stolen"}]}))).await;
        let trap_host = trap.url("/").host_str().unwrap().to_string();
        let trap_port = trap.url("/").port().unwrap();
        let location = format!("http://{trap_host}:{trap_port}/adminapi/beta/tid/InvokeCommand");
        let server = loopback::serve(tenant(move |req| {
            // Get-OrganizationSegment goes to the region, whose host redirects again.
            let to = if req.path.contains("/regions/")
                || String::from_utf8_lossy(&req.body).contains("Get-OrganizationSegment")
            {
                FRONT_DOOR_REDIRECT
            } else {
                location.as_str()
            };
            Reply::text(302, "text/html", "").header("Location", to)
        }))
        .await;
        let (client, base) = compliance_client(&server).await;
        let e = client
            .invoke_get_cmdlet(&base, "tid", "Get-InformationBarrierPolicy", ANCHOR)
            .await
            .unwrap_err();
        let shown = e.to_string();
        assert!(!shown.contains('\n'), "{shown}");
        assert!(
            e.endpoint.ends_with(
                "/compliance/adminapi/beta/tid/InvokeCommand Get-InformationBarrierPolicy"
            ),
            "{shown}"
        );
        assert!(
            e.message.starts_with(&format!(
                "redirected to {trap_host}:{trap_port}, not followed"
            )),
            "{shown}"
        );
        assert!(
            e.message
                .contains("only <region>.admin.protection.outlook.com is"),
            "{shown}"
        );
        assert_eq!(e.status, Some(302));
        assert!(
            trap.requests().is_empty(),
            "nothing was sent to the location"
        );
        assert_eq!(api_requests(&server).len(), 1);

        let e = client
            .invoke_get_cmdlet(&base, "tid", "Get-OrganizationSegment", ANCHOR)
            .await
            .unwrap_err();
        assert!(
            e.message.contains("the regional host redirected again"),
            "{e}"
        );
        assert!(e.endpoint.contains("/compliance/regions/nam13b/"), "{e}");
        assert_eq!(
            api_requests(&server).len(),
            3,
            "front door, regional host, no more"
        );
    }

    #[tokio::test]
    async fn graph_batch_chunks_retries_throttled_parts_and_keeps_order() {
        let throttled_once = Arc::new(AtomicUsize::new(0));
        let t2 = throttled_once.clone();
        let server = loopback::serve(tenant(move |req| {
            assert_eq!((req.method.as_str(), req.path.as_str()), ("POST", "/graph/v1.0/$batch"));
            let body: Value = serde_json::from_slice(&req.body).unwrap();
            let parts = body["requests"].as_array().unwrap();
            assert!(parts.len() <= GRAPH_BATCH_LIMIT);
            let responses: Vec<Value> = parts
                .iter()
                .map(|p| {
                    assert_eq!(p["method"], "GET");
                    let id = p["id"].as_str().unwrap();
                    if id == "u7" && t2.fetch_add(1, Ordering::SeqCst) == 0 {
                        json!({"id":id,"status":429,"headers":{"Retry-After":"0"},"body":{"error":{"code":"TooManyRequests","message":"x"}}})
                    } else if id == "u3" {
                        json!({"id":id,"status":404,"body":{"error":{"code":"Request_ResourceNotFound","message":"Resource 'x' does not exist."}}})
                    } else {
                        json!({"id":id,"status":200,"body":{"url":p["url"]}})
                    }
                })
                .collect();
            Reply::json(200, json!({"responses": responses}))
        }))
        .await;
        let client = client_for(&server, fast()).await;
        let parts: Vec<BatchGet> = (0..25)
            .map(|i| BatchGet::new(format!("u{i}"), format!("/users/u{i}/licenseDetails")))
            .collect();
        let results = client.graph_batch(parts).await.unwrap();
        assert_eq!(results.len(), 25);
        for (i, r) in results.iter().enumerate() {
            assert_eq!(r.id, format!("u{i}"));
            if i == 3 {
                let e = r.result.as_ref().unwrap_err();
                assert_eq!(
                    (e.status, e.code.as_deref()),
                    (Some(404), Some("Request_ResourceNotFound"))
                );
                assert!(
                    e.endpoint.ends_with("/graph/v1.0/users/u3/licenseDetails"),
                    "{}",
                    e.endpoint
                );
            } else {
                assert_eq!(
                    r.result.as_ref().unwrap()["url"],
                    format!("/users/u{i}/licenseDetails")
                );
            }
        }
        // Two chunks (20 + 5) and one retry batch for the throttled part.
        assert_eq!(api_requests(&server).len(), 3);
        let e = client
            .graph_batch(vec![BatchGet::new("a", "https://evil.example/x")])
            .await
            .unwrap_err();
        assert!(e.message.contains("must be a path"), "{e}");
        let e = client
            .graph_batch(vec![BatchGet::new("a", "/x"), BatchGet::new("a", "/y")])
            .await
            .unwrap_err();
        assert!(e.message.contains("repeated"), "{e}");
    }

    #[tokio::test]
    async fn graph_batch_part_401_refreshes_the_token_once() {
        let server = loopback::serve(tenant(|req| {
            let fresh = req.header("authorization") == Some("Bearer tok-2");
            let body: Value = serde_json::from_slice(&req.body).unwrap();
            let responses: Vec<Value> = body["requests"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    if fresh || p["id"] == "ok" {
                        json!({"id":p["id"],"status":200,"body":{"id":p["id"]}})
                    } else {
                        json!({"id":p["id"],"status":401,"body":{"error":{"code":"InvalidAuthenticationToken","message":"Lifetime validation failed, the token is expired."}}})
                    }
                })
                .collect();
            Reply::json(200, json!({ "responses": responses }))
        }))
        .await;
        let client = client_for(&server, fast()).await;
        let results = client
            .graph_batch(vec![
                BatchGet::new("ok", "/users/a"),
                BatchGet::new("stale", "/users/b"),
            ])
            .await
            .unwrap();
        assert_eq!(results[1].result.as_ref().unwrap()["id"], "stale");
        let logins = server
            .requests()
            .iter()
            .filter(|r| r.path.starts_with("/login/"))
            .count();
        assert_eq!(logins, 2);
        assert_eq!(api_requests(&server).len(), 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrency_is_bounded_per_service() {
        let in_flight = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let (f, p) = (in_flight.clone(), peak.clone());
        let server = loopback::serve(tenant(move |_| {
            let now = f.fetch_add(1, Ordering::SeqCst) + 1;
            p.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(40));
            f.fetch_sub(1, Ordering::SeqCst);
            Reply::json(200, json!({}))
        }))
        .await;
        let client = client_for(
            &server,
            ClientSettings {
                concurrency: 2,
                ..fast()
            },
        )
        .await;
        let mut set = tokio::task::JoinSet::new();
        for i in 0..8 {
            let c = client.clone();
            set.spawn(async move {
                c.get(Service::Graph, &format!("/v1.0/users/{i}"), &[])
                    .await
            });
        }
        while let Some(r) = set.join_next().await {
            r.unwrap().unwrap();
        }
        assert!(
            peak.load(Ordering::SeqCst) <= 2,
            "peak {}",
            peak.load(Ordering::SeqCst)
        );
        assert_eq!(api_requests(&server).len(), 8);
    }

    #[tokio::test]
    async fn redirect_to_another_host_is_not_followed() {
        let server = loopback::serve(tenant(|req| {
            if req.path == "/graph/v1.0/here" {
                return Reply::json(200, json!({"here":true}));
            }
            let port = req
                .header("host")
                .unwrap()
                .rsplit(':')
                .next()
                .unwrap()
                .to_string();
            let target = if req.path == "/graph/v1.0/same" {
                format!("http://127.0.0.1:{port}/graph/v1.0/here")
            } else {
                format!("http://localhost:{port}/graph/v1.0/here")
            };
            Reply::text(307, "text/plain", "").header("Location", &target)
        }))
        .await;
        let client = client_for(&server, fast()).await;
        assert_eq!(
            client.get(Service::Graph, "/v1.0/same", &[]).await.unwrap(),
            json!({"here":true})
        );
        let e = client
            .get(Service::Graph, "/v1.0/away", &[])
            .await
            .unwrap_err();
        assert!(e.message.starts_with("redirected to GET localhost:"), "{e}");
    }

    /// Everything `-v` (and deeper) logs during a request, and every error, for a known secret
    /// and token: neither appears.
    #[tokio::test]
    async fn tokens_and_secrets_never_logged_or_shown() {
        #[derive(Clone, Default)]
        struct Sink(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Sink {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let sink = Sink::default();
        let s2 = sink.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || s2.clone())
            .finish();
        // tracing-core caches "never" for a callsite first hit on another test's thread while
        // exactly one (scoped) dispatcher is registered; a second live one avoids that.
        let _other = tracing::Dispatch::new(tracing_subscriber::registry());
        let _guard = tracing::subscriber::set_default(subscriber);

        let server = loopback::serve(tenant(|req| match req.path.as_str() {
            "/graph/v1.0/ok" => Reply::json(200, json!({"value":[]})),
            _ => Reply::json(
                401,
                json!({"error":{"code":"InvalidAuthenticationToken","message":"bad"}}),
            ),
        }))
        .await;
        let client = client_for(&server, fast()).await;
        let mut shown = Vec::new();
        client.get(Service::Graph, "/v1.0/ok", &[]).await.unwrap();
        let e = client
            .get(Service::Graph, "/v1.0/denied", &[])
            .await
            .unwrap_err();
        shown.push(format!("{e} {e:?}"));
        shown.push(format!("{client:?}"));
        let src: SourceError = e.into();
        shown.push(serde_json::to_string(&src).unwrap());
        let logged = String::from_utf8_lossy(&sink.0.lock().unwrap()).to_string();
        assert!(
            logged.contains("request"),
            "the -v event is there: {logged}"
        );
        assert!(logged.contains("status=200"), "{logged}");
        shown.push(logged);
        for out in &shown {
            for token in ["tok-1", "tok-2", "tok-3", SECRET] {
                assert!(!out.contains(token), "`{token}` in {out}");
            }
            assert!(!out.to_ascii_lowercase().contains("bearer"), "{out}");
        }
    }
}
