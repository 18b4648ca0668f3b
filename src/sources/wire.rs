//! HTTP reading shared by sign-in and the read-only client: bodies read with a cap, JSON or a
//! one-line reason why not, transport errors without URLs, `Retry-After` and backoff. Both
//! `auth` and `http` build on it, so neither has to reach into the other for it.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use serde_json::Value;

/// Longest exponential backoff step.
const BACKOFF_CAP: Duration = Duration::from_secs(30);

/// Makes ring's primitives the process's rustls crypto provider, once, before the first
/// client is built (reqwest is built without a provider of its own; see Cargo.toml). A
/// provider installed earlier by the embedding program is kept.
pub(crate) fn use_ring_for_tls() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Counts a call in flight for as long as it lives.
pub(crate) struct InFlight<'a>(&'a AtomicUsize);

impl<'a> InFlight<'a> {
    pub(crate) fn new(counter: &'a AtomicUsize) -> InFlight<'a> {
        counter.fetch_add(1, Ordering::SeqCst);
        InFlight(counter)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Parses a body as JSON, or says in one line what it was instead.
pub(crate) fn json_body(
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Value, String> {
    let trimmed = body.trim_ascii_start();
    if trimmed.trim_ascii_end().is_empty() {
        return Err(format!("empty body instead of JSON (HTTP {status})"));
    }
    let html = trimmed.first() == Some(&b'<')
        || content_type.is_some_and(|c| c.to_ascii_lowercase().contains("html"));
    if html {
        return Err(if status >= 400 {
            format!("HTML error page instead of JSON (HTTP {status})")
        } else {
            format!("HTML page instead of JSON (HTTP {status})")
        });
    }
    serde_json::from_slice(body).map_err(|e| {
        if e.classify() == serde_json::error::Category::Eof {
            format!(
                "truncated JSON body (HTTP {status}, ends after {} bytes)",
                body.len()
            )
        } else if matches!(trimmed.first(), Some(b'{' | b'[')) {
            format!("invalid JSON body (HTTP {status}): {e}")
        } else {
            let preview: String = String::from_utf8_lossy(trimmed)
                .lines()
                .next()
                .unwrap_or("")
                .chars()
                .take(80)
                .collect();
            format!("not JSON (HTTP {status}): {preview}")
        }
    })
}

pub(crate) enum BodyError {
    TooLarge(usize),
    Transport(String),
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BodyError::TooLarge(cap) => write!(f, "response larger than {cap} bytes"),
            BodyError::Transport(m) => f.write_str(m),
        }
    }
}

/// Reads a body chunk by chunk, stopping at `cap` bytes: memory stays bounded whatever the
/// server sends (decompressed size counts).
pub(crate) async fn read_capped(
    resp: &mut reqwest::Response,
    cap: usize,
) -> Result<Vec<u8>, BodyError> {
    if resp.content_length().is_some_and(|len| len > cap as u64) {
        return Err(BodyError::TooLarge(cap));
    }
    let mut buf = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if buf.len() + chunk.len() > cap {
                    return Err(BodyError::TooLarge(cap));
                }
                buf.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(buf),
            Err(e) => {
                return Err(BodyError::Transport(format!(
                    "response body cut off after {} bytes: {}",
                    buf.len(),
                    transport_message(&e)
                )));
            }
        }
    }
}

/// A reqwest error as one line, without its URL: the kind plus the root cause.
pub(crate) fn transport_message(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() {
        "response body error"
    } else if e.is_decode() {
        "cannot decode the response"
    } else if e.is_builder() {
        "invalid request"
    } else {
        "request failed"
    };
    let mut root: Option<String> = None;
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        root = Some(s.to_string());
        source = s.source();
    }
    match root {
        Some(r) if !r.is_empty() => format!("{kind}: {r}"),
        _ => kind.to_string(),
    }
}

/// `Retry-After` as delta-seconds or an HTTP-date, capped.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime, cap: Duration) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs).min(cap));
    }
    if let Ok(secs) = v.parse::<f64>()
        && secs.is_finite()
        && secs >= 0.0
    {
        return Some(Duration::from_secs_f64(secs.min(cap.as_secs_f64())));
    }
    httpdate::parse_http_date(v)
        .ok()
        .map(|at| at.duration_since(now).unwrap_or(Duration::ZERO).min(cap))
}

/// Exponential backoff with jitter: step `base * 2^(attempt-1)` capped at 30 s, and a delay
/// drawn from the upper half of the step (never zero, never above the cap).
pub(crate) fn backoff_delay(attempt: u32, base: Duration) -> Duration {
    let step = base
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
        .min(BACKOFF_CAP);
    step / 2 + step.mul_f64(random_unit() / 2.0)
}

/// A uniform number in [0, 1) from the std hasher's per-instance random keys (no RNG crate).
fn random_unit() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// A tiny HTTP/1.1 responder on loopback for unit tests: records every request and answers
/// from a handler, including broken answers (truncated bodies, hang-ups).
#[cfg(test)]
pub(crate) mod loopback {
    use std::sync::{Arc, Mutex};

    use serde_json::Value;
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    use tokio::net::TcpListener;
    use url::Url;

    #[derive(Debug, Clone)]
    pub(crate) struct Recorded {
        pub method: String,
        /// Path and query as sent.
        pub path: String,
        pub headers: Vec<(String, String)>,
        pub body: Vec<u8>,
    }

    impl Recorded {
        pub fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        }
    }

    pub(crate) enum Reply {
        Full {
            status: u16,
            headers: Vec<(String, String)>,
            body: Vec<u8>,
        },
        /// Declares `declared` bytes, sends `body`, closes.
        Truncated {
            status: u16,
            declared: usize,
            body: Vec<u8>,
        },
    }

    impl Reply {
        pub fn json(status: u16, v: Value) -> Reply {
            Reply::text(status, "application/json", &v.to_string())
        }

        pub fn text(status: u16, content_type: &str, body: &str) -> Reply {
            Reply::Full {
                status,
                headers: vec![("Content-Type".into(), content_type.into())],
                body: body.as_bytes().to_vec(),
            }
        }

        pub fn header(mut self, name: &str, value: &str) -> Reply {
            if let Reply::Full { headers, .. } = &mut self {
                headers.push((name.into(), value.into()));
            }
            self
        }
    }

    pub(crate) struct Server {
        base: Url,
        log: Arc<Mutex<Vec<Recorded>>>,
    }

    impl Server {
        pub fn url(&self, path: &str) -> Url {
            self.base.join(path.trim_start_matches('/')).unwrap()
        }

        pub fn requests(&self) -> Vec<Recorded> {
            self.log.lock().unwrap().clone()
        }
    }

    pub(crate) async fn serve<F>(handler: F) -> Server
    where
        F: Fn(&Recorded) -> Reply + Send + Sync + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let handler = Arc::new(handler);
        let log2 = log.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let handler = handler.clone();
                let log = log2.clone();
                tokio::spawn(async move {
                    let mut reader = BufReader::new(stream);
                    {
                        let mut line = String::new();
                        if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let mut parts = line.split_whitespace();
                        let method = parts.next().unwrap_or("").to_string();
                        let path = parts.next().unwrap_or("").to_string();
                        let mut headers = Vec::new();
                        loop {
                            let mut h = String::new();
                            if reader.read_line(&mut h).await.unwrap_or(0) == 0 {
                                return;
                            }
                            let h = h.trim_end();
                            if h.is_empty() {
                                break;
                            }
                            if let Some((k, v)) = h.split_once(':') {
                                headers.push((k.trim().to_string(), v.trim().to_string()));
                            }
                        }
                        let len = headers
                            .iter()
                            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                            .and_then(|(_, v)| v.parse::<usize>().ok())
                            .unwrap_or(0);
                        let mut body = vec![0; len];
                        if reader.read_exact(&mut body).await.is_err() {
                            return;
                        }
                        let req = Recorded {
                            method,
                            path,
                            headers,
                            body,
                        };
                        log.lock().unwrap().push(req.clone());
                        let h = handler.clone();
                        let reply = tokio::task::spawn_blocking(move || h(&req)).await.unwrap();
                        let stream = reader.get_mut();
                        let (status, headers, body, declared) = match reply {
                            Reply::Full {
                                status,
                                headers,
                                body,
                            } => {
                                let n = body.len();
                                (status, headers, body, n)
                            }
                            Reply::Truncated {
                                status,
                                declared,
                                body,
                            } => (
                                status,
                                vec![("Content-Type".into(), "application/json".into())],
                                body,
                                declared,
                            ),
                        };
                        let mut head = format!(
                            "HTTP/1.1 {status} X\r\nContent-Length: {declared}\r\nConnection: close\r\n"
                        );
                        for (k, v) in headers {
                            head.push_str(&format!("{k}: {v}\r\n"));
                        }
                        head.push_str("\r\n");
                        let _ = stream.write_all(head.as_bytes()).await;
                        let _ = stream.write_all(&body).await;
                        let _ = stream.shutdown().await;
                    }
                });
            }
        });
        Server {
            base: Url::parse(&format!("http://{addr}/")).unwrap(),
            log,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn retry_after_delta_seconds_and_http_date() {
        let now = SystemTime::now();
        let cap = Duration::from_secs(60);
        assert_eq!(
            parse_retry_after("5", now, cap),
            Some(Duration::from_secs(5))
        );
        assert_eq!(parse_retry_after(" 0 ", now, cap), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("3600", now, cap), Some(cap));
        assert_eq!(
            parse_retry_after("1.5", now, cap),
            Some(Duration::from_millis(1500))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(10));
        let d = parse_retry_after(&later, now, cap).unwrap();
        assert!(
            d <= Duration::from_secs(10) && d >= Duration::from_secs(9),
            "{d:?}"
        );
        let past = httpdate::fmt_http_date(now - Duration::from_secs(100));
        assert_eq!(parse_retry_after(&past, now, cap), Some(Duration::ZERO));
        let far = httpdate::fmt_http_date(now + Duration::from_secs(7200));
        assert_eq!(parse_retry_after(&far, now, cap), Some(cap));
        assert_eq!(parse_retry_after("soon", now, cap), None);
        assert_eq!(parse_retry_after("-3", now, cap), None);
    }

    #[test]
    fn backoff_grows_and_stays_bounded() {
        let base = Duration::from_millis(500);
        for attempt in 1..=40 {
            let d = backoff_delay(attempt, base);
            let step = base
                .saturating_mul(1 << (attempt - 1).min(16))
                .min(BACKOFF_CAP);
            assert!(d >= step / 2 && d <= step, "attempt {attempt}: {d:?}");
            assert!(d <= BACKOFF_CAP);
        }
        assert!(backoff_delay(1, base) <= Duration::from_millis(500));
        assert!(backoff_delay(4, base) >= Duration::from_secs(2));
    }

    #[test]
    fn non_json_bodies_are_described() {
        let html = b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>";
        assert_eq!(
            json_body(502, Some("text/html"), html).unwrap_err(),
            "HTML error page instead of JSON (HTTP 502)"
        );
        assert_eq!(
            json_body(200, None, html).unwrap_err(),
            "HTML page instead of JSON (HTTP 200)"
        );
        assert_eq!(
            json_body(200, None, b"  \n").unwrap_err(),
            "empty body instead of JSON (HTTP 200)"
        );
        assert!(
            json_body(200, None, br#"{"value":[{"id":"#)
                .unwrap_err()
                .starts_with("truncated JSON body (HTTP 200")
        );
        assert!(
            json_body(200, None, br#"{"value":]}"#)
                .unwrap_err()
                .starts_with("invalid JSON body")
        );
        assert_eq!(
            json_body(503, Some("text/plain"), b"Service Unavailable\nmore").unwrap_err(),
            "not JSON (HTTP 503): Service Unavailable"
        );
        assert_eq!(json_body(200, None, b"[1]").unwrap(), json!([1]));
    }
}
