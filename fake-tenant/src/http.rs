//! Shared plumbing: the services, the reply type, per-request context, error body shapes, time.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::http::HeaderMap;
use serde_json::{Value, json};

use crate::Inner;
use crate::index::FactError;

/// The services the fake serves, one path prefix each (`/login`, `/graph`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Service {
    Login,
    Graph,
    Teams,
    Arm,
    Dataverse,
    Compliance,
    /// The Power Platform admin API (BAP): the environment list.
    PowerPlatform,
}

impl Service {
    pub(crate) const ALL: [Service; 7] = [
        Service::Login,
        Service::Graph,
        Service::Teams,
        Service::Arm,
        Service::Dataverse,
        Service::Compliance,
        Service::PowerPlatform,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Service::Login => "login",
            Service::Graph => "graph",
            Service::Teams => "teams",
            Service::Arm => "arm",
            Service::Dataverse => "dataverse",
            Service::Compliance => "compliance",
            Service::PowerPlatform => "powerplatform",
        }
    }

    pub(crate) fn parse(name: &str) -> Option<Service> {
        Service::ALL
            .iter()
            .copied()
            .find(|s| s.as_str().eq_ignore_ascii_case(name))
    }
}

/// A response body before it is put on the wire.
pub(crate) enum Payload {
    Json(Value),
    Raw {
        content_type: &'static str,
        bytes: Bytes,
    },
    /// A valid JSON document of `total` bytes, streamed in chunks (huge-body fault).
    Huge {
        total: usize,
    },
    /// Headers announce all of `bytes`; half is sent, then the connection is reset.
    ResetAfter {
        content_type: &'static str,
        bytes: Bytes,
    },
}

/// What a handler answers; turned into an HTTP response (or a `$batch` part) by the caller.
pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// Boxed to keep `Reply` small (it travels in `Result::Err`s).
    pub payload: Box<Payload>,
    /// Extra facts for the request log (batch parts, cmdlet name).
    pub notes: Vec<String>,
    /// Name of the injected fault, if one fired.
    pub fault: Option<String>,
}

impl Reply {
    pub(crate) fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            payload: Box::new(Payload::Json(body)),
            notes: Vec::new(),
            fault: None,
        }
    }

    pub(crate) fn raw(status: u16, content_type: &'static str, bytes: impl Into<Bytes>) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            payload: Box::new(Payload::Raw {
                content_type,
                bytes: bytes.into(),
            }),
            notes: Vec::new(),
            fault: None,
        }
    }

    pub(crate) fn header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub(crate) fn fault(mut self, name: impl Into<String>) -> Reply {
        self.fault = Some(name.into());
        self
    }
}

/// The error code a service uses for a status when the fake has to make one up.
pub(crate) fn default_code(svc: Service, status: u16) -> &'static str {
    match (svc, status) {
        (_, 401) => "InvalidAuthenticationToken",
        (Service::Graph, 400) => "Request_BadRequest",
        (Service::Graph, 403) => "Authorization_RequestDenied",
        (Service::Graph, 404) => "Request_ResourceNotFound",
        (Service::Graph, 405) => "Request_BadRequest",
        (Service::Arm, 403) => "AuthorizationFailed",
        (Service::Arm, 404) => "ResourceNotFound",
        (Service::Dataverse, 403) => "0x80072560",
        (Service::Dataverse, 404) => "0x80060888",
        (Service::Dataverse, 429) => "0x80072322",
        (Service::Dataverse, _) => "0x80040216",
        (_, 400) => "BadRequest",
        (_, 403) => "Forbidden",
        (_, 404) => "NotFound",
        (_, 405) => "MethodNotAllowed",
        (_, 429) => "TooManyRequests",
        (_, 502) => "BadGateway",
        (_, 503) => "ServiceUnavailable",
        (_, 504) => "GatewayTimeout",
        _ => "InternalServerError",
    }
}

/// A generic message for a status, for injected faults.
pub(crate) fn default_message(svc: Service, status: u16) -> &'static str {
    match (svc, status) {
        (Service::Dataverse, 429) => {
            "Number of requests exceeded the limit of 6000 over time window of 300 seconds."
        }
        (_, 429) => "Too many requests. Please retry after the time in the Retry-After header.",
        (_, 401) => "Lifetime validation failed, the token is expired.",
        (_, 403) => "Insufficient privileges to complete the operation.",
        (_, 404) => "The requested resource does not exist.",
        (_, 502) => "Bad gateway.",
        (_, 503) => "The service is temporarily unavailable. Please retry later.",
        (_, 504) => "Gateway timeout.",
        _ => "An error occurred (injected by fake-tenant).",
    }
}

/// An error in the service's own body shape (apis.md 0.3).
pub(crate) fn service_error(svc: Service, status: u16, code: &str, message: &str) -> Reply {
    let body = match svc {
        Service::Graph => {
            let rid = uuid::Uuid::new_v4().to_string();
            json!({"error": {"code": code, "message": message, "innerError": {
                "date": iso_utc(SystemTime::now(), 'T', false),
                "request-id": rid,
                "client-request-id": rid,
            }}})
        }
        Service::Login => {
            return aad_error(status, &code.to_ascii_lowercase(), 0, message);
        }
        _ => json!({"error": {"code": code, "message": message}}),
    };
    let mut reply = Reply::json(status, body);
    if status == 401 {
        reply = reply.header(
            "WWW-Authenticate",
            format!(
                "Bearer realm=\"\", error=\"invalid_token\", error_description=\"{}\"",
                message.replace('"', "'")
            ),
        );
    }
    reply
}

/// ARM's 400 for a request without `api-version` (the Power Platform admin API answers alike);
/// `None` when the parameter is there.
pub(crate) fn missing_api_version(ctx: &Ctx, svc: Service) -> Option<Reply> {
    ctx.param("api-version")
        .is_none_or(|v| v.trim().is_empty())
        .then(|| {
            service_error(
                svc,
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )
        })
}

/// 404 in the service's shape.
pub(crate) fn not_found(svc: Service, message: &str) -> Reply {
    service_error(svc, 404, default_code(svc, 404), message)
}

/// A snapshot error record served as the service would have answered.
pub(crate) fn fact_error(svc: Service, err: &FactError) -> Reply {
    let status = err.status.unwrap_or(500);
    let status = if (400..=599).contains(&status) {
        status
    } else {
        500
    };
    let code = err
        .code
        .clone()
        .unwrap_or_else(|| default_code(svc, status).to_string());
    let reply = service_error(svc, status, &code, &err.message);
    if status == 429 || status == 503 {
        reply.header("Retry-After", "1")
    } else {
        reply
    }
}

/// The Entra token endpoint's error body (apis.md E.4).
pub(crate) fn aad_error(status: u16, error: &str, aadsts: u32, text: &str) -> Reply {
    let now = SystemTime::now();
    let ts = iso_utc(now, ' ', true);
    let trace = uuid::Uuid::new_v4().to_string();
    let correlation = uuid::Uuid::new_v4().to_string();
    let prefix = if aadsts > 0 {
        format!("AADSTS{aadsts}: ")
    } else {
        String::new()
    };
    let description = format!(
        "{prefix}{text}\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\nTimestamp: {ts}"
    );
    let codes: Vec<u32> = if aadsts > 0 { vec![aadsts] } else { vec![] };
    Reply::json(
        status,
        json!({
            "error": error,
            "error_description": description,
            "error_codes": codes,
            "timestamp": ts,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": format!("https://login.microsoftonline.com/error?code={aadsts}"),
        }),
    )
}

/// Per-request context handed to the service handlers.
pub(crate) struct Ctx<'a> {
    pub st: &'a Inner,
    /// The path as received, including the service prefix (`/graph/v1.0/users`).
    pub raw_path: String,
    /// Percent-decoded path segments after the service prefix.
    pub segs: Vec<String>,
    pub raw_query: String,
    pub query: Vec<(String, String)>,
    pub headers: &'a HeaderMap,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(
        st: &'a Inner,
        svc: Service,
        raw_path: &str,
        raw_query: &str,
        headers: &'a HeaderMap,
    ) -> Ctx<'a> {
        let prefix_len = 1 + svc.as_str().len();
        let rest = raw_path.get(prefix_len..).unwrap_or("");
        let segs = rest
            .split('/')
            .filter(|s| !s.is_empty())
            .map(pct_decode)
            .collect();
        let query = url::form_urlencoded::parse(raw_query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Ctx {
            st,
            raw_path: raw_path.to_string(),
            segs,
            raw_query: raw_query.to_string(),
            query,
            headers,
        }
    }

    /// A query parameter, name matched case-insensitively.
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Whether the nextLink-cycle fault applies to this path.
    pub(crate) fn cycle(&self) -> bool {
        self.st
            .opts
            .faults
            .next_link_cycle
            .iter()
            .any(|s| !s.is_empty() && self.raw_path.contains(s.as_str()))
    }

    pub(crate) fn page_size(&self) -> usize {
        self.st.opts.page_size.max(1)
    }

    /// An absolute link to this path on the fake's own host: the query without the `drop`
    /// parameters, plus `add` (already URL-safe).
    pub(crate) fn link(&self, drop: &[&str], add: &[(&str, String)]) -> String {
        let mut parts: Vec<String> = self
            .raw_query
            .split('&')
            .filter(|seg| !seg.is_empty())
            .filter(|seg| {
                let key = pct_decode(seg.split('=').next().unwrap_or(""));
                !drop.iter().any(|d| d.eq_ignore_ascii_case(&key))
            })
            .map(str::to_string)
            .collect();
        for (k, v) in add {
            parts.push(format!("{k}={v}"));
        }
        if parts.is_empty() {
            format!("{}{}", self.st.base, self.raw_path)
        } else {
            format!("{}{}?{}", self.st.base, self.raw_path, parts.join("&"))
        }
    }
}

/// Matches decoded segments against a pattern; `*` captures one segment. Case-insensitive.
pub(crate) fn route<'s>(segs: &'s [String], pattern: &[&str]) -> Option<Vec<&'s str>> {
    if segs.len() != pattern.len() {
        return None;
    }
    let mut captures = Vec::new();
    for (seg, pat) in segs.iter().zip(pattern) {
        if *pat == "*" {
            captures.push(seg.as_str());
        } else if !seg.eq_ignore_ascii_case(pat) {
            return None;
        }
    }
    Some(captures)
}

/// Percent-decodes (lossy UTF-8); `+` is kept as is.
pub(crate) fn pct_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-encodes everything except unreserved characters.
pub(crate) fn pct_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `2026-11-27T05:22:03` (or with `sep` ' ' and a trailing `Z`).
pub(crate) fn iso_utc(t: SystemTime, sep: char, zulu: bool) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let t = i64::try_from(secs)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}{sep}{:02}:{:02}:{:02}{}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        if zulu { "Z" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn iso_dates() {
        let t = UNIX_EPOCH + Duration::from_secs(1_795_756_923);
        assert_eq!(iso_utc(t, 'T', false), "2026-11-27T05:22:03");
        assert_eq!(iso_utc(t, ' ', true), "2026-11-27 05:22:03Z");
        assert_eq!(iso_utc(UNIX_EPOCH, 'T', false), "1970-01-01T00:00:00");
    }

    #[test]
    fn pct_roundtrip_and_odd_input() {
        assert_eq!(pct_decode("a%40b.com"), "a@b.com");
        assert_eq!(pct_decode("%"), "%");
        assert_eq!(pct_decode("%4"), "%4");
        assert_eq!(pct_decode("%zz"), "%zz");
        assert_eq!(
            pct_decode(&pct_encode("<cookie a=\"1\" />")),
            "<cookie a=\"1\" />"
        );
    }

    #[test]
    fn route_matching() {
        let segs: Vec<String> = ["Users", "abc", "licenseDetails"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            route(&segs, &["users", "*", "licensedetails"]),
            Some(vec!["abc"])
        );
        assert_eq!(route(&segs, &["users", "*"]), None);
    }
}
