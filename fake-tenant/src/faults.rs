//! Fault injection: persistent per-service statuses, seeded random 429/503, once-only faults
//! keyed by path substring, and the nextLink cycle.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use axum::body::Bytes;

use crate::Inner;
use crate::http::{
    Payload, Reply, Service, aad_error, default_code, default_message, service_error,
};

/// What to break, and how often. `Faults::default()` breaks nothing.
#[derive(Clone, Debug)]
pub struct Faults {
    /// Service name (`graph`, `teams`, `arm`, `dataverse`, `compliance`, `login`) -> status
    /// answered to every request of that service (after token validation), in the service's
    /// error shape (e.g. `teams` 403 `Forbidden`, or 503).
    pub service_status: HashMap<String, u16>,
    /// Probability (0..=1) that a request (or a `$batch` part) is answered 429: half of them with
    /// `Retry-After: 1`, half with an HTTP-date 1-2 s ahead. Never applied to `login`.
    pub throttle_rate: f64,
    /// Probability (0..=1) that a request is answered 503 (`Retry-After: 1`). Never `login`.
    pub unavailable_rate: f64,
    /// Seed of the deterministic generator behind the two rates.
    pub seed: u64,
    /// A given request (method and URL, plus the body of a `$batch` or InvokeCommand POST,
    /// which share one URL) gets at most this many random faults in a row, so a client that
    /// retries always gets through (0 = no limit).
    pub max_random_faults_per_url: u32,
    /// Faults that fire on the first request(s) whose `/service/path?query` contains a string.
    pub once: Vec<OnceFault>,
    /// Path substrings whose collection's last page links back to its first page.
    pub next_link_cycle: Vec<String>,
    /// The S&C front door answers every `InvokeCommand` with a 302 to
    /// `{compliance_redirect}/adminapi/beta/{tid}/InvokeCommand`, as the real one redirects to
    /// `https://{region}.admin.protection.outlook.com:446` (apis.md A.10); the cmdlets are
    /// served at the regional stand-in `/compliance/regions/{region}/…`. `None`: served at the
    /// front door.
    pub compliance_redirect: Option<String>,
    /// Resource accounts are listed only at the Teams module's legacy path
    /// (`/Teams.PlatformService/v2/Legacy/ApplicationInstances`); the current one answers 404.
    pub legacy_application_instances_only: bool,
    /// `GET /Teams.User/users/{id}` answers the Teams admin API's REST body
    /// (`{"users": [{…camelCase…, "effectivePolicyAssignments": […]}]}`, Global named `Global`)
    /// built from the snapshot's Get-CsOnlineUser record ([`crate::shapes::rest_online_user`]).
    pub rest_online_users: bool,
    /// Graph `GET /admin/teams/userConfigurations/{id}` (also as a `$batch` part) answers the
    /// documented `{"value": {…}}` wrapper ([`crate::shapes::wrapped_user_configuration`]).
    pub wrapped_user_configurations: bool,
    /// Teams `telephone-numbers` rows carry only `TelephoneNumber`, `TargetId` and
    /// `AcquisitionDate` ([`crate::shapes::sparse_telephone_number`]).
    pub sparse_telephone_numbers: bool,
    /// Path substrings a person's (delegated) token may not read: the request, or `$batch`
    /// part, answers 403 `AccessDenied` "required scopes are missing in the token", as Graph
    /// answers a token of the Azure CLI's client (Azure/azure-cli#23906). App-only tokens are
    /// served.
    pub delegated_scopes_missing: Vec<String>,
    /// (client id, service): a person's token for that service is refused to that client at
    /// the token endpoint (devicecode and refresh grants) with AADSTS65002, as a first-party
    /// client not pre-authorised for a resource is.
    pub refused_audiences: Vec<(String, String)>,
}

impl Default for Faults {
    fn default() -> Faults {
        Faults {
            service_status: HashMap::new(),
            throttle_rate: 0.0,
            unavailable_rate: 0.0,
            seed: 0x00c0_ffee,
            max_random_faults_per_url: 3,
            once: Vec::new(),
            next_link_cycle: Vec::new(),
            compliance_redirect: None,
            legacy_application_instances_only: false,
            rest_online_users: false,
            wrapped_user_configurations: false,
            sparse_telephone_numbers: false,
            delegated_scopes_missing: Vec::new(),
            refused_audiences: Vec::new(),
        }
    }
}

impl Faults {
    /// Every request of `service` answered `status`.
    pub fn service_status(mut self, service: &str, status: u16) -> Faults {
        self.service_status.insert(service.to_string(), status);
        self
    }

    /// Random 429s and 503s with a seed.
    pub fn random(mut self, throttle_rate: f64, unavailable_rate: f64, seed: u64) -> Faults {
        self.throttle_rate = throttle_rate;
        self.unavailable_rate = unavailable_rate;
        self.seed = seed;
        self
    }

    /// `kind` fires once, on the first request whose path (with service prefix and query)
    /// contains `path_contains`.
    pub fn once(mut self, path_contains: &str, kind: FaultKind) -> Faults {
        self.once.push(OnceFault::new(path_contains, kind));
        self
    }

    /// The collection at paths containing `path_contains` never ends: its last page links back
    /// to the first.
    pub fn next_link_cycle(mut self, path_contains: &str) -> Faults {
        self.next_link_cycle.push(path_contains.to_string());
        self
    }

    /// The S&C front door redirects `InvokeCommand` to `location_base` (scheme, host, port:
    /// `https://nam13b.admin.protection.outlook.com:446`) instead of answering.
    pub fn compliance_redirect(mut self, location_base: &str) -> Faults {
        self.compliance_redirect = Some(location_base.trim_end_matches('/').to_string());
        self
    }

    /// Only the legacy resource-account path answers; the current one is 404.
    pub fn legacy_application_instances_only(mut self) -> Faults {
        self.legacy_application_instances_only = true;
        self
    }

    /// Teams users are answered in the REST shape public callers show, not the cmdlet's.
    pub fn rest_online_users(mut self) -> Faults {
        self.rest_online_users = true;
        self
    }

    /// Graph per-user userConfigurations are answered as `{"value": {…}}`.
    pub fn wrapped_user_configurations(mut self) -> Faults {
        self.wrapped_user_configurations = true;
        self
    }

    /// Teams telephone-number rows without capabilities, activation, type or status.
    pub fn sparse_telephone_numbers(mut self) -> Faults {
        self.sparse_telephone_numbers = true;
        self
    }

    /// A person's token answers 403 "required scopes are missing in the token" at paths
    /// containing `path_contains`.
    pub fn delegated_scopes_missing(mut self, path_contains: &str) -> Faults {
        self.delegated_scopes_missing
            .push(path_contains.to_string());
        self
    }

    /// The token endpoint refuses `client_id` a person's token for `service` (AADSTS65002).
    pub fn refuse_audience(mut self, client_id: &str, service: &str) -> Faults {
        self.refused_audiences
            .push((client_id.to_string(), service.to_string()));
        self
    }
}

/// The 403 Graph answers a delegated token that lacks the scope a read needs (the body of
/// Azure/azure-cli#23906), in the service's error shape.
pub(crate) fn scopes_missing(svc: Service) -> Reply {
    service_error(
        svc,
        403,
        "AccessDenied",
        "You cannot perform the requested operation, required scopes are missing in the token.",
    )
    .fault("delegated_scopes_missing")
}

/// A fault that fires `times` times (default once) on matching requests.
#[derive(Clone, Debug)]
pub struct OnceFault {
    /// Substring of `/service/path?query` (e.g. `"/graph/v1.0/organization"`, `"licenseDetails"`).
    pub path_contains: String,
    pub kind: FaultKind,
    pub times: u32,
}

impl OnceFault {
    pub fn new(path_contains: &str, kind: FaultKind) -> OnceFault {
        OnceFault {
            path_contains: path_contains.to_string(),
            kind,
            times: 1,
        }
    }
}

/// The ways a response can be broken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// 401 `InvalidAuthenticationToken` "Lifetime validation failed, the token is expired."
    /// in the service's shape (the token itself stays valid). Applies to `$batch` parts too.
    ExpiredToken,
    /// 502 with an HTML gateway page.
    Html502,
    /// 200 with an HTML page (`text/html`).
    Html200,
    /// 200 `application/json` with the real body cut in half.
    TruncatedJson,
    /// Headers announce the real body's length; half of it is sent, then the connection drops.
    ResetMidBody,
    /// 200 `application/json` with an empty body.
    EmptyBody,
    /// 200 with `Content-Encoding: gzip` and a body that is not valid gzip.
    InvalidGzip,
    /// 200 with a valid JSON body of this many MiB, streamed (never held in memory).
    HugeBody { megabytes: usize },
    /// This status in the service's error shape (429/503 with `Retry-After: 1`). Applies to
    /// `$batch` parts too.
    Status(u16),
}

impl FaultKind {
    pub(crate) fn name(&self) -> String {
        match self {
            FaultKind::ExpiredToken => "expired_token".into(),
            FaultKind::Html502 => "html_502".into(),
            FaultKind::Html200 => "html_200".into(),
            FaultKind::TruncatedJson => "truncated_json".into(),
            FaultKind::ResetMidBody => "reset_mid_body".into(),
            FaultKind::EmptyBody => "empty_body".into(),
            FaultKind::InvalidGzip => "invalid_gzip".into(),
            FaultKind::HugeBody { megabytes } => format!("huge_body_{megabytes}mb"),
            FaultKind::Status(s) => format!("status_{s}"),
        }
    }

    /// Whether the fault can be expressed as a `$batch` part (a status and a JSON body).
    pub(crate) fn fits_batch_part(&self) -> bool {
        matches!(self, FaultKind::ExpiredToken | FaultKind::Status(_))
    }
}

/// A random fault decided for one request.
pub(crate) enum RandomFault {
    Throttle { http_date: bool },
    Unavailable,
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

impl Inner {
    /// Takes one matching once-only fault, if any is left.
    pub(crate) fn take_once(&self, key: &str, batch_part: bool) -> Option<FaultKind> {
        let faults = &self.opts.faults.once;
        if faults.is_empty() {
            return None;
        }
        let mut left = self.once_left.lock().unwrap_or_else(|e| e.into_inner());
        for (i, fault) in faults.iter().enumerate() {
            if left[i] == 0 || fault.path_contains.is_empty() || !key.contains(&fault.path_contains)
            {
                continue;
            }
            if batch_part && !fault.kind.fits_batch_part() {
                continue;
            }
            left[i] -= 1;
            return Some(fault.kind.clone());
        }
        None
    }

    /// Rolls the seeded dice for a request identified by `key`.
    pub(crate) fn roll(&self, key: &str, allow_unavailable: bool) -> Option<RandomFault> {
        let f = &self.opts.faults;
        let unavailable = if allow_unavailable {
            f.unavailable_rate
        } else {
            0.0
        };
        if f.throttle_rate <= 0.0 && unavailable <= 0.0 {
            return None;
        }
        let n = self
            .rng_counter
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let x = splitmix64(f.seed ^ splitmix64(n));
        let r = (x >> 11) as f64 / (1u64 << 53) as f64;
        let decided = if r < f.throttle_rate {
            Some(RandomFault::Throttle {
                http_date: x & 1 == 1,
            })
        } else if r < f.throttle_rate + unavailable {
            Some(RandomFault::Unavailable)
        } else {
            None
        };
        let mut streak = self.streaks.lock().unwrap_or_else(|e| e.into_inner());
        match decided {
            Some(fault) => {
                let count = streak.entry(key.to_string()).or_insert(0);
                if f.max_random_faults_per_url > 0 && *count >= f.max_random_faults_per_url {
                    streak.remove(key);
                    None
                } else {
                    *count += 1;
                    Some(fault)
                }
            }
            None => {
                streak.remove(key);
                None
            }
        }
    }
}

/// `Retry-After` as delta-seconds (`1`) or as an HTTP-date 1-2 s ahead.
pub(crate) fn retry_after(http_date: bool) -> String {
    if http_date {
        httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(2))
    } else {
        "1".to_string()
    }
}

pub(crate) fn random_reply(svc: Service, fault: &RandomFault) -> Reply {
    match fault {
        RandomFault::Throttle { http_date } => error_for(svc, 429)
            .header("Retry-After", retry_after(*http_date))
            .fault(if *http_date {
                "throttle_429_http_date"
            } else {
                "throttle_429_seconds"
            }),
        RandomFault::Unavailable => error_for(svc, 503)
            .header("Retry-After", "1")
            .fault("unavailable_503"),
    }
}

/// An error for `status` in the service's shape (AADSTS-shaped for login).
pub(crate) fn error_for(svc: Service, status: u16) -> Reply {
    if svc == Service::Login {
        let (error, code) = match status {
            400 => ("invalid_request", 900144),
            401 => ("invalid_client", 7000215),
            429 => ("temporarily_unavailable", 50196),
            _ => ("temporarily_unavailable", 90055),
        };
        return aad_error(status, error, code, default_message(svc, status));
    }
    service_error(
        svc,
        status,
        default_code(svc, status),
        default_message(svc, status),
    )
}

const HTML_502: &str = "<!DOCTYPE html>\n<html><head><title>502 - Web server received an invalid response while acting as a gateway or proxy server.</title></head>\n<body><h1>Server Error</h1><h2>502 - Web server received an invalid response while acting as a gateway or proxy server.</h2>\n<p>There is a problem with the page you are looking for, and it cannot be displayed.</p></body></html>\n";

const HTML_200: &str = "<!DOCTYPE html>\n<html><head><title>Sign in to your account</title></head>\n<body><form method=\"post\" action=\"https://login.microsoftonline.com/\"><p>Please sign in to continue.</p></form></body></html>\n";

/// A fault that replaces the response without looking at it. `None` for the post faults.
pub(crate) fn pre_fault_reply(svc: Service, kind: &FaultKind) -> Option<Reply> {
    let reply = match kind {
        FaultKind::ExpiredToken => {
            if svc == Service::Login {
                error_for(svc, 401)
            } else {
                service_error(
                    svc,
                    401,
                    "InvalidAuthenticationToken",
                    "Lifetime validation failed, the token is expired.",
                )
            }
        }
        FaultKind::Html502 => Reply::raw(502, "text/html; charset=utf-8", HTML_502),
        FaultKind::Html200 => Reply::raw(200, "text/html; charset=utf-8", HTML_200),
        FaultKind::EmptyBody => Reply::raw(200, "application/json; charset=utf-8", Bytes::new()),
        FaultKind::InvalidGzip => {
            // A gzip member header followed by bytes that are not a deflate stream.
            let mut body = vec![0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff];
            body.extend_from_slice(b"\xde\xad\xbe\xef this is not deflate data \xff\xff\xff\xff");
            Reply::raw(200, "application/json; charset=utf-8", body)
                .header("Content-Encoding", "gzip")
        }
        FaultKind::HugeBody { megabytes } => Reply {
            status: 200,
            headers: Vec::new(),
            payload: Box::new(Payload::Huge {
                total: megabytes.saturating_mul(1024 * 1024),
            }),
            notes: Vec::new(),
            fault: None,
        },
        FaultKind::Status(status) => {
            let status = if (400..=599).contains(status) {
                *status
            } else {
                500
            };
            let reply = error_for(svc, status);
            if status == 429 || status == 503 {
                reply.header("Retry-After", "1")
            } else {
                reply
            }
        }
        FaultKind::TruncatedJson | FaultKind::ResetMidBody => return None,
    };
    Some(reply.fault(kind.name()))
}

/// Applies a post fault to a real reply.
pub(crate) fn post_fault(mut reply: Reply, kind: &FaultKind) -> Reply {
    let bytes: Bytes = match reply.payload.as_ref() {
        Payload::Json(v) => serde_json::to_vec(v).unwrap_or_default().into(),
        Payload::Raw { bytes, .. } | Payload::ResetAfter { bytes, .. } => bytes.clone(),
        Payload::Huge { .. } => return reply,
    };
    *reply.payload = match kind {
        FaultKind::TruncatedJson => {
            let cut = (bytes.len() / 2).max(1).min(bytes.len());
            Payload::Raw {
                content_type: "application/json; charset=utf-8",
                bytes: bytes.slice(..cut),
            }
        }
        _ => Payload::ResetAfter {
            content_type: "application/json; charset=utf-8",
            bytes,
        },
    };
    reply.fault(kind.name())
}

/// Bookkeeping for the once-only faults: how many firings are left for each.
pub(crate) fn once_budget(faults: &Faults) -> Vec<u32> {
    faults.once.iter().map(|f| f.times).collect()
}

/// Streak counters per URL for `max_random_faults_per_url`.
pub(crate) type Streaks = HashMap<String, u32>;
