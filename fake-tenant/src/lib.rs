//! A fake Microsoft tenant for ccaudit's tests and benchmarks.
//!
//! One loopback HTTP server serves a snapshot (docs/snapshot.md) as a live tenant, with the
//! URL shapes, paging, error bodies, token checks and throttling of the real services
//! (`shared/reference/apis.md`, `docs/live-requests.md`), under path prefixes per service:
//! `/login` (Entra token endpoint), `/graph`, `/teams`, `/arm`, `/dataverse`, `/compliance`,
//! `/powerplatform` (the environment list that leads to `/dataverse`).
//!
//! ```no_run
//! # async fn demo(snapshot: serde_json::Value) -> Result<(), String> {
//! use fake_tenant::{FakeOptions, FakeTenant, Faults};
//! let fake = FakeTenant::start(snapshot, FakeOptions {
//!     faults: Faults::default().service_status("teams", 403),
//!     ..FakeOptions::default()
//! }).await?;
//! let graph = fake.url("graph"); // http://127.0.0.1:PORT/graph
//! // ... run ccaudit with fake.endpoint_args() ...
//! assert!(fake.requests().iter().all(|r| r.method == "GET" || r.method == "POST"));
//! fake.shutdown();
//! # Ok(()) }
//! ```
//!
//! Only GET and the allow-listed read POSTs (token, devicecode, Graph `$batch` with GET parts,
//! S&C `InvokeCommand` with a `Get-*` cmdlet) are served; any other method gets 405 and is
//! logged. See README.md for routes, paging and faults.

mod arm;
mod auth;
mod compliance;
mod dataverse;
// The snapshot's fact keys, the same file ccaudit compiles: the fake serves what ccaudit
// reads, under the same names. Not every key is looked up by name here.
#[allow(dead_code)]
#[path = "../../src/fact_key.rs"]
mod fact_key;
mod faults;
mod graph;
mod http;
mod index;
mod paging;
mod powerplatform;
pub mod shapes;
mod teams;

use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use futures_util::stream;
use serde_json::Value;

pub use auth::DeviceCodeOptions;
pub use faults::{FaultKind, Faults, OnceFault};

use crate::faults::{Streaks, error_for, once_budget, post_fault, pre_fault_reply, random_reply};
use crate::http::{Ctx, Payload, Reply, Service, service_error};
use crate::index::Index;

/// Client id accepted by default (client credentials).
pub const DEFAULT_CLIENT_ID: &str = "00000000-0000-4000-8000-00000000cafe";
/// Client secret accepted by default.
pub const DEFAULT_CLIENT_SECRET: &str = "fake-tenant-client-secret";
/// The services, in the order `endpoint_args` lists them.
pub const SERVICES: [&str; 7] = [
    "login",
    "graph",
    "teams",
    "arm",
    "dataverse",
    "compliance",
    "powerplatform",
];

/// Largest request body read (token forms, `$batch`, InvokeCommand).
const MAX_REQUEST_BODY: usize = 4 * 1024 * 1024;

/// How the fake tenant behaves.
#[derive(Clone, Debug)]
pub struct FakeOptions {
    /// The only client id the token endpoint knows (others: 400 AADSTS700016).
    pub client_id: String,
    /// The secret accepted for `client_id` (others: 401 AADSTS7000215). Client assertions
    /// are accepted when well formed (signature not verified).
    pub client_secret: String,
    /// Token lifetime (`expires_in`); requests with an older token get 401 "Lifetime
    /// validation failed, the token is expired.".
    pub token_lifetime: Duration,
    pub device_code: DeviceCodeOptions,
    /// Items per page for paged collections (capped further by the client's `$top`,
    /// `pageSize` or `Prefer: odata.maxpagesize`). Small by default so paging is exercised.
    pub page_size: usize,
    /// Delay added to every request before it is answered.
    pub latency: Duration,
    pub faults: Faults,
    /// Print one line per request to stderr.
    pub log_to_stderr: bool,
}

impl Default for FakeOptions {
    fn default() -> FakeOptions {
        FakeOptions {
            client_id: DEFAULT_CLIENT_ID.to_string(),
            client_secret: DEFAULT_CLIENT_SECRET.to_string(),
            token_lifetime: Duration::from_secs(3599),
            device_code: DeviceCodeOptions::default(),
            page_size: 3,
            latency: Duration::ZERO,
            faults: Faults::default(),
            log_to_stderr: false,
        }
    }
}

/// One request as the fake saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoggedRequest {
    pub method: String,
    /// `login`, `graph`, `teams`, `arm`, `dataverse`, `compliance`, or `""` when the path
    /// matched no service prefix.
    pub service: String,
    /// Path after the service prefix, as received (`/v1.0/organization`).
    pub path: String,
    /// Raw query string (without `?`).
    pub query: String,
    pub status: u16,
    pub elapsed_ms: u64,
    /// The injected fault or refusal that shaped the answer (`throttle_429_seconds`,
    /// `html_502`, `auth_expired_token`, `method_not_allowed`, ...), if any.
    pub fault: Option<String>,
    /// For `$batch`: `GET <url>` per part; for InvokeCommand: the cmdlet name.
    pub detail: Vec<String>,
}

pub(crate) struct Inner {
    pub(crate) base: String,
    pub(crate) index: Index,
    pub(crate) opts: FakeOptions,
    pub(crate) auth: Mutex<auth::AuthState>,
    pub(crate) log: Mutex<Vec<LoggedRequest>>,
    pub(crate) once_left: Mutex<Vec<u32>>,
    pub(crate) rng_counter: AtomicU64,
    pub(crate) streaks: Mutex<Streaks>,
}

/// A running fake tenant. Dropping it (or [`FakeTenant::shutdown`]) stops the server.
pub struct FakeTenant {
    inner: Arc<Inner>,
    addr: SocketAddr,
    stop: tokio::sync::watch::Sender<bool>,
}

impl FakeTenant {
    /// Serves `snapshot` on `127.0.0.1` at a free port.
    pub async fn start(snapshot: Value, options: FakeOptions) -> Result<FakeTenant, String> {
        FakeTenant::start_on(snapshot, options, 0).await
    }

    /// Serves `snapshot` on `127.0.0.1:port` (0 = any free port).
    pub async fn start_on(
        snapshot: Value,
        options: FakeOptions,
        port: u16,
    ) -> Result<FakeTenant, String> {
        let index = Index::build(&snapshot)?;
        drop(snapshot);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|e| format!("cannot bind 127.0.0.1:{port}: {e}"))?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("cannot read the bound address: {e}"))?;
        let inner = Arc::new(Inner {
            base: format!("http://{addr}"),
            index,
            once_left: Mutex::new(once_budget(&options.faults)),
            opts: options,
            auth: Mutex::new(auth::AuthState::default()),
            log: Mutex::new(Vec::new()),
            rng_counter: AtomicU64::new(0),
            streaks: Mutex::new(Streaks::new()),
        });
        let app = Router::new().fallback(handle).with_state(inner.clone());
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            let shutdown = async move {
                while !*stopped.borrow() {
                    if stopped.changed().await.is_err() {
                        break;
                    }
                }
            };
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await;
        });
        Ok(FakeTenant { inner, addr, stop })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.inner.base.clone()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Base URL of a service: `login`, `graph`, `teams`, `arm`, `dataverse`, `compliance`
    /// (`http://127.0.0.1:PORT/graph`). The Dataverse one is the org URL (`--dataverse-url`).
    pub fn url(&self, service: &str) -> String {
        format!("{}/{}", self.inner.base, service.trim_matches('/'))
    }

    /// The snapshot's tenant id.
    pub fn tenant_id(&self) -> &str {
        &self.inner.index.tenant_id
    }

    pub fn options(&self) -> &FakeOptions {
        &self.inner.opts
    }

    /// ccaudit flags pointing every service at this fake:
    /// `--endpoint login=URL ... --endpoint powerplatform=URL --dataverse-url URL`.
    pub fn endpoint_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        for svc in [
            "login",
            "graph",
            "teams",
            "arm",
            "compliance",
            "powerplatform",
        ] {
            args.push("--endpoint".to_string());
            args.push(format!("{svc}={}", self.url(svc)));
        }
        args.push("--dataverse-url".to_string());
        args.push(self.url("dataverse"));
        args
    }

    /// The agents the snapshot names (`agents.users`), unless it found them in Dataverse's
    /// voice queues (`agents.source: dataverse`), which a live audit without `--agents` does too.
    pub fn agents(&self) -> &[String] {
        &self.inner.index.agents
    }

    /// Everything after `ccaudit audit` that reads this fake as the snapshot's tenant:
    /// `--tenant`, [`FakeTenant::endpoint_args`] and `--agents` (when the snapshot names
    /// agents), so the live audit reaches the verdicts of the offline audit of the snapshot.
    pub fn audit_args(&self) -> Vec<String> {
        let mut args = vec!["--tenant".to_string(), self.tenant_id().to_string()];
        args.extend(self.endpoint_args());
        if !self.agents().is_empty() {
            args.push("--agents".to_string());
            args.push(self.agents().join(","));
        }
        args
    }

    /// One shell command line: the client-secret environment, then `ccaudit audit` with
    /// [`FakeTenant::audit_args`], each word quoted for a POSIX shell where it needs it.
    pub fn audit_command(&self) -> String {
        let env = self
            .env_vars()
            .into_iter()
            .map(|(k, v)| format!("{k}={}", shell_quote(&v)));
        let args = self.audit_args();
        env.chain(["ccaudit".to_string(), "audit".to_string()])
            .chain(args.iter().map(|a| shell_quote(a)))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET` for client-secret sign-in.
    pub fn env_vars(&self) -> Vec<(String, String)> {
        vec![
            ("AZURE_TENANT_ID".into(), self.inner.index.tenant_id.clone()),
            ("AZURE_CLIENT_ID".into(), self.inner.opts.client_id.clone()),
            (
                "AZURE_CLIENT_SECRET".into(),
                self.inner.opts.client_secret.clone(),
            ),
        ]
    }

    /// What the `fake-tenant` binary prints once it serves `snapshot` (its path as given):
    /// the base URLs, then one complete command, environment included, for the live audit
    /// that reaches the offline audit's verdicts, then the flags and environment on their own
    /// for the other commands (`collect`, `explain`, `diff`).
    pub fn banner(&self, snapshot: &str) -> String {
        let mut out = format!(
            "fake-tenant serving {snapshot} as tenant {}\n",
            self.tenant_id()
        );
        for svc in SERVICES {
            out.push_str(&format!("  {svc:<13} {}\n", self.url(svc)));
        }
        out.push_str(&format!(
            "\nlive audit (the verdicts of `ccaudit audit --snapshot {snapshot}`):\n  {}\n",
            self.audit_command()
        ));
        if self.agents().is_empty() {
            out.push_str(
                "  (the snapshot names no agents: the live audit finds them in the Dataverse voice queues)\n",
            );
        }
        out.push_str("\nccaudit flags (collect, explain, diff):\n");
        out.push_str(&format!(
            "  {}\n",
            self.audit_args()
                .iter()
                .map(|a| shell_quote(a))
                .collect::<Vec<_>>()
                .join(" ")
        ));
        out.push_str("environment (client-secret sign-in):\n");
        for (k, v) in self.env_vars() {
            out.push_str(&format!("  export {k}={}\n", shell_quote(&v)));
        }
        out
    }

    /// Every request served so far, in completion order.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.inner
            .log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Forgets the request log.
    pub fn clear_requests(&self) {
        self.inner
            .log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Stops accepting connections; in-flight requests finish. Idempotent.
    pub fn shutdown(&self) {
        let _ = self.stop.send(true);
    }
}

impl Drop for FakeTenant {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Splits `/graph/v1.0/x` into (graph, "/v1.0/x").
fn split_service(path: &str) -> (Option<Service>, &str) {
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    let (first, _) = trimmed.split_once('/').unwrap_or((trimmed, ""));
    match Service::parse(first) {
        Some(svc) if first == svc.as_str() => (Some(svc), &trimmed[first.len()..]),
        _ => (None, path),
    }
}

/// Whether the path is one of the allow-listed read POSTs (which accept nothing but POST).
fn post_only(svc: Service, segs: &[String]) -> bool {
    let is = |pattern: &[&str]| http::route(segs, pattern).is_some();
    match svc {
        Service::Login => {
            is(&["*", "oauth2", "v2.0", "token"]) || is(&["*", "oauth2", "v2.0", "devicecode"])
        }
        Service::Graph => is(&["*", "$batch"]),
        Service::Compliance => is(&compliance::FRONT_DOOR) || is(&compliance::REGIONAL),
        _ => false,
    }
}

async fn handle(State(st): State<Arc<Inner>>, req: Request) -> Response {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let method = parts.method.as_str().to_string();
    let raw_path = parts.uri.path().to_string();
    let raw_query = parts.uri.query().unwrap_or("").to_string();
    if !st.opts.latency.is_zero() {
        tokio::time::sleep(st.opts.latency).await;
    }
    let body = axum::body::to_bytes(body, MAX_REQUEST_BODY).await;
    let (service, rest) = split_service(&raw_path);
    let reply = match body {
        Ok(body) => process(
            &st,
            service,
            &method,
            &raw_path,
            &raw_query,
            &parts.headers,
            &body,
        ),
        Err(_) => Reply::json(
            413,
            serde_json::json!({"error": {"code": "RequestEntityTooLarge", "message": "fake-tenant: request body too large or unreadable"}}),
        ),
    };
    let entry = LoggedRequest {
        method,
        service: service.map(|s| s.as_str().to_string()).unwrap_or_default(),
        path: rest.to_string(),
        query: raw_query,
        status: reply.status,
        elapsed_ms: started.elapsed().as_millis() as u64,
        fault: reply.fault.clone(),
        detail: reply.notes.clone(),
    };
    if st.opts.log_to_stderr {
        eprintln!(
            "{} {:<10} {} {}{}{} {}ms{}",
            entry.status,
            entry.service,
            entry.method,
            entry.path,
            if entry.query.is_empty() { "" } else { "?" },
            entry.query,
            entry.elapsed_ms,
            entry
                .fault
                .as_deref()
                .map(|f| format!(" [{f}]"))
                .unwrap_or_default()
        );
    }
    st.log.lock().unwrap_or_else(|e| e.into_inner()).push(entry);
    render(service, reply)
}

fn process(
    st: &Inner,
    service: Option<Service>,
    method: &str,
    raw_path: &str,
    raw_query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Reply {
    let Some(svc) = service else {
        return Reply::json(
            404,
            serde_json::json!({"error": {"code": "NotFound", "message": format!(
                "fake-tenant: no service at {raw_path}; paths start with /login, /graph, /teams, /arm, /dataverse, /compliance or /powerplatform"
            )}}),
        )
        .fault("unknown_service");
    };
    let ctx = Ctx::new(st, svc, raw_path, raw_query, headers);

    // 1. Only GET and the allow-listed read POSTs.
    let allowed = match method {
        "GET" => !post_only(svc, &ctx.segs),
        "POST" => post_only(svc, &ctx.segs),
        _ => false,
    };
    if !allowed {
        let allow = if post_only(svc, &ctx.segs) {
            "POST"
        } else {
            "GET"
        };
        let msg = format!(
            "fake-tenant: {method} is not allowed on {raw_path} (ccaudit is read-only; only GET and the allow-listed read POSTs are served)"
        );
        let reply = if svc == Service::Login {
            http::aad_error(405, "invalid_request", 900561, &msg)
        } else {
            service_error(svc, 405, http::default_code(svc, 405), &msg)
        };
        return reply.header("Allow", allow).fault("method_not_allowed");
    }

    // 2. A valid bearer token for this service's audience.
    if svc != Service::Login
        && let Err(problem) = st.check_token(svc, headers)
    {
        return auth::token_refused(svc, &problem);
    }

    // 3. Faults: persistent per-service status, once-only faults, random 429/503.
    if let Some(&status) = st.opts.faults.service_status.get(svc.as_str()) {
        let reply = error_for(svc, status);
        return reply.fault(format!("service_status_{status}"));
    }
    let key = if raw_query.is_empty() {
        raw_path.to_string()
    } else {
        format!("{raw_path}?{raw_query}")
    };
    if st.scopes_missing(&key, headers) {
        return faults::scopes_missing(svc);
    }
    let mut post = None;
    if let Some(kind) = st.take_once(&key, false) {
        match pre_fault_reply(svc, &kind) {
            Some(reply) => return reply,
            None => post = Some(kind),
        }
    }
    // A request is its method, URL and (for the read POSTs: `$batch`, InvokeCommand) body, so
    // "at most N random faults in a row" holds for each batch and each cmdlet, not for all
    // requests that share the URL.
    let identity = if body.is_empty() {
        format!("{method} {key}")
    } else {
        format!("{method} {key} #{:016x}", fnv1a(body))
    };
    if svc != Service::Login
        && let Some(fault) = st.roll(&identity, true)
    {
        return random_reply(svc, &fault);
    }

    // 4. The service itself.
    let reply = match svc {
        Service::Login => auth::handle(&ctx, method, body),
        Service::Graph => graph::handle(&ctx, method, body),
        Service::Teams => teams::handle(&ctx),
        Service::Arm => arm::handle(&ctx),
        Service::Dataverse => dataverse::handle(&ctx),
        Service::Compliance => compliance::handle(&ctx, body),
        Service::PowerPlatform => powerplatform::handle(&ctx),
    };
    match post {
        Some(kind) => post_fault(reply, &kind),
        None => reply,
    }
}

/// FNV-1a: a cheap, stable fingerprint of a request body.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Headers every response of a service carries.
fn service_headers(svc: Option<Service>) -> Vec<(&'static str, String)> {
    let id = || uuid::Uuid::new_v4().to_string();
    match svc {
        Some(Service::Graph) => vec![("request-id", id()), ("client-request-id", id())],
        Some(Service::Arm) => vec![
            ("x-ms-request-id", id()),
            ("x-ms-correlation-request-id", id()),
            (
                "x-ms-ratelimit-remaining-subscription-reads",
                "11999".into(),
            ),
        ],
        Some(Service::Dataverse) => vec![("OData-Version", "4.0".into()), ("REQ_ID", id())],
        Some(Service::Teams) | Some(Service::Compliance) => vec![("X-Ms-Correlation-Id", id())],
        Some(Service::PowerPlatform) => vec![("x-ms-request-id", id())],
        Some(Service::Login) => vec![("Cache-Control", "no-store, no-cache".into())],
        None => vec![],
    }
}

fn render(svc: Option<Service>, reply: Reply) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let (content_type, length, body) = match *reply.payload {
        Payload::Json(v) => {
            let bytes = serde_json::to_vec(&v).unwrap_or_default();
            (
                "application/json; charset=utf-8",
                bytes.len(),
                Body::from(bytes),
            )
        }
        Payload::Raw {
            content_type,
            bytes,
        } => (content_type, bytes.len(), Body::from(bytes)),
        Payload::Huge { total } => {
            let (length, body) = huge_body(total);
            ("application/json; charset=utf-8", length, body)
        }
        Payload::ResetAfter {
            content_type,
            bytes,
        } => (content_type, bytes.len(), reset_body(bytes)),
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert("content-type", HeaderValue::from_static(content_type));
    headers.insert("content-length", HeaderValue::from(length));
    let extra = service_headers(svc)
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .chain(reply.headers);
    for (k, v) in extra {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(&v),
        ) {
            headers.insert(name, value);
        }
    }
    response
}

/// A valid JSON document of (about) `total` bytes, streamed from one shared padding chunk.
fn huge_body(total: usize) -> (usize, Body) {
    const PAD: usize = 64 * 1024;
    let head = Bytes::from_static(b"{\"value\":[");
    let tail = Bytes::from_static(b"]}");
    let pad = Bytes::from(vec![b'x'; PAD]);
    let item_head = |i: usize| format!("{{\"id\":\"pad-{i:08}\",\"padding\":\"");
    let item_len = item_head(0).len() + PAD + 2;
    let count = total
        .saturating_sub(head.len() + tail.len())
        .div_ceil(item_len + 1);
    let length = head.len() + tail.len() + count * item_len + count.saturating_sub(1);
    let chunks = std::iter::once(head)
        .chain((0..count).flat_map(move |i| {
            let sep = if i == 0 { "" } else { "," };
            [
                Bytes::from(format!("{sep}{}", item_head(i))),
                pad.clone(),
                Bytes::from_static(b"\"}"),
            ]
        }))
        .chain(std::iter::once(tail))
        .map(Ok::<Bytes, std::io::Error>);
    (length, Body::from_stream(stream::iter(chunks)))
}

/// Sends the first half of `bytes`, then fails the body so the connection is dropped.
fn reset_body(bytes: Bytes) -> Body {
    let half = bytes.slice(..bytes.len() / 2);
    let stream = stream::unfold(0u8, move |step| {
        let half = half.clone();
        async move {
            match step {
                0 => Some((Ok(half), 1)),
                1 => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    Some((
                        Err(std::io::Error::new(
                            std::io::ErrorKind::ConnectionReset,
                            "fake-tenant: connection reset mid-body (injected)",
                        )),
                        2,
                    ))
                }
                _ => None,
            }
        }
    });
    Body::from_stream(stream)
}

/// `word` as a POSIX shell reads it back: as is when it holds only characters no shell treats
/// specially, else in single quotes (a `'` inside as `'\''`).
pub fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_service_prefixes() {
        assert_eq!(
            split_service("/graph/v1.0/users"),
            (Some(Service::Graph), "/v1.0/users")
        );
        assert_eq!(split_service("/arm"), (Some(Service::Arm), ""));
        assert_eq!(split_service("/Graph/x"), (None, "/Graph/x"));
        assert_eq!(split_service("/graphx/y"), (None, "/graphx/y"));
        assert_eq!(split_service("/"), (None, "/"));
        assert_eq!(split_service(""), (None, ""));
    }

    #[test]
    fn huge_body_length_is_exact() {
        for total in [0usize, 10, 1 << 20, 3 << 20] {
            let (length, _) = huge_body(total);
            if total >= 1 << 20 {
                assert!(
                    length >= total && length < total + 70 * 1024,
                    "{total} -> {length}"
                );
            }
        }
    }
}
