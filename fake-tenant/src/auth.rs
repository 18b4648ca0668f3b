//! The Entra token endpoint (client credentials with a secret or a client assertion, device
//! code, refresh token) and bearer-token validation for the other services.
//!
//! Scope -> audience mapping (a token is bound to exactly one service):
//! * a scope containing the Teams admin API app id `48ac35b8-9aa8-4d74-927d-1f4a14a0b239` -> teams;
//! * a URL scope whose path starts with a service prefix (`http://127.0.0.1:P/graph/.default`,
//!   `.../teams/.default`, `.../arm/.default`, `.../dataverse/.default`,
//!   `.../compliance/.default`) -> that service: this is what `{override URL}/.default` gives;
//! * a real cloud host: `graph.microsoft.*`, `*graph*.chinacloudapi.cn`, `dod-graph.*` -> graph;
//!   `management.*` -> arm; `api.interfaces.records.*` -> teams; `*.crm*.dynamics.*`,
//!   `*.crm.microsoftdynamics.us`, `*.crm.appsplatform.us`, `*.crm.dynamics.cn` -> dataverse;
//!   `*compliance.protection.*` -> compliance;
//! * anything else -> 400 `invalid_resource` AADSTS500011.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::Inner;
use crate::http::{Ctx, Reply, Service, aad_error, route, service_error};

pub(crate) const TEAMS_APP_ID: &str = "48ac35b8-9aa8-4d74-927d-1f4a14a0b239";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

pub(crate) struct Token {
    service: Service,
    expires: Instant,
    /// Issued to a person (device code, refresh token), not to an app.
    delegated: bool,
}

pub(crate) struct Device {
    client_id: String,
    service: Service,
    scope: String,
    polls: u32,
    slow_down_sent: bool,
    created: Instant,
}

pub(crate) struct RefreshGrant {
    client_id: String,
}

#[derive(Default)]
pub(crate) struct AuthState {
    tokens: HashMap<String, Token>,
    devices: HashMap<String, Device>,
    refresh: HashMap<String, RefreshGrant>,
}

/// Why a bearer token was refused.
pub(crate) enum TokenProblem {
    Missing,
    Unknown,
    WrongAudience,
    Expired,
}

impl TokenProblem {
    pub(crate) fn message(&self) -> &'static str {
        match self {
            TokenProblem::Missing => "Access token is empty.",
            TokenProblem::Unknown => "Access token validation failure. Invalid token.",
            TokenProblem::WrongAudience => "Access token validation failure. Invalid audience.",
            TokenProblem::Expired => "Lifetime validation failed, the token is expired.",
        }
    }
}

impl Inner {
    fn auth(&self) -> std::sync::MutexGuard<'_, AuthState> {
        self.auth.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Checks `Authorization: Bearer <token>` for `svc`.
    pub(crate) fn check_token(
        &self,
        svc: Service,
        headers: &HeaderMap,
    ) -> Result<(), TokenProblem> {
        let value = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .trim();
        let token = match value.split_once(' ') {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
            _ => "",
        };
        if token.is_empty() {
            return Err(TokenProblem::Missing);
        }
        let auth = self.auth();
        let Some(t) = auth.tokens.get(token) else {
            return Err(TokenProblem::Unknown);
        };
        if t.service != svc {
            return Err(TokenProblem::WrongAudience);
        }
        if Instant::now() >= t.expires {
            return Err(TokenProblem::Expired);
        }
        Ok(())
    }

    /// Whether the request's bearer token was issued to a person.
    pub(crate) fn delegated_token(&self, headers: &HeaderMap) -> bool {
        let value = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let token = value.split_once(' ').map(|(_, t)| t.trim()).unwrap_or("");
        self.auth().tokens.get(token).is_some_and(|t| t.delegated)
    }

    /// A person's token at `key` (`/service/path?query`) that lacks the scope, when the fault
    /// is set for it.
    pub(crate) fn scopes_missing(&self, key: &str, headers: &HeaderMap) -> bool {
        let paths = &self.opts.faults.delegated_scopes_missing;
        paths.iter().any(|p| key.contains(p.as_str())) && self.delegated_token(headers)
    }

    fn issue(&self, svc: Service, delegated: bool) -> (String, u64) {
        let token = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let lifetime = self.opts.token_lifetime;
        self.auth().tokens.insert(
            token.clone(),
            Token {
                service: svc,
                expires: Instant::now() + lifetime,
                delegated,
            },
        );
        (token, lifetime.as_secs())
    }
}

/// A 401 for a refused bearer token, in the service's shape.
pub(crate) fn token_refused(svc: Service, problem: &TokenProblem) -> Reply {
    service_error(svc, 401, "InvalidAuthenticationToken", problem.message()).fault(match problem {
        TokenProblem::Missing => "auth_missing_token",
        TokenProblem::Unknown => "auth_unknown_token",
        TokenProblem::WrongAudience => "auth_wrong_audience",
        TokenProblem::Expired => "auth_expired_token",
    })
}

/// `/login/...` requests.
pub(crate) fn handle(ctx: &Ctx, method: &str, body: &[u8]) -> Reply {
    if method == "GET" && route(&ctx.segs, &["devicelogin"]).is_some() {
        return Reply::raw(
            200,
            "text/html; charset=utf-8",
            "<html><body><p>fake-tenant: device codes are approved automatically after the configured number of polls.</p></body></html>",
        );
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if let Some(c) = route(&ctx.segs, &["*", "oauth2", "v2.0", "token"]) {
        if !ctx.st.index.is_tenant(c[0]) {
            return tenant_not_found(c[0]);
        }
        return token(ctx.st, c[0], &form);
    }
    if let Some(c) = route(&ctx.segs, &["*", "oauth2", "v2.0", "devicecode"]) {
        if !ctx.st.index.is_tenant(c[0]) {
            return tenant_not_found(c[0]);
        }
        return devicecode(ctx.st, &form);
    }
    aad_error(
        404,
        "invalid_request",
        900561,
        "The endpoint only accepts POST requests to /{tenant}/oauth2/v2.0/token and /{tenant}/oauth2/v2.0/devicecode (fake-tenant).",
    )
}

fn tenant_not_found(tenant: &str) -> Reply {
    aad_error(
        400,
        "invalid_request",
        90002,
        &format!(
            "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
        ),
    )
}

fn token(st: &Inner, tenant: &str, form: &HashMap<String, String>) -> Reply {
    let grant = form.get("grant_type").map(String::as_str).unwrap_or("");
    match grant {
        "client_credentials" => client_credentials(st, tenant, form),
        DEVICE_GRANT => device_poll(st, form),
        "refresh_token" => refresh(st, tenant, form),
        "" => aad_error(
            400,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'grant_type'.",
        ),
        other => aad_error(
            400,
            "unsupported_grant_type",
            70003,
            &format!("The app requested an unsupported grant type '{other}'."),
        ),
    }
}

fn client_credentials(st: &Inner, tenant: &str, form: &HashMap<String, String>) -> Reply {
    let client_id = form.get("client_id").map(String::as_str).unwrap_or("");
    if let Some(reply) = check_client(st, tenant, client_id) {
        return reply;
    }
    let svc = match resolve_scope(form.get("scope").map(String::as_str), true, tenant) {
        Ok(s) => s,
        Err(reply) => return reply,
    };
    if let Some(secret) = form.get("client_secret") {
        if *secret != st.opts.client_secret {
            return aad_error(
                401,
                "invalid_client",
                7000215,
                &format!(
                    "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
                ),
            );
        }
    } else if let Some(assertion) = form.get("client_assertion") {
        if form.get("client_assertion_type").map(String::as_str) != Some(JWT_BEARER) {
            return aad_error(
                400,
                "invalid_request",
                90014,
                "The required field 'client_assertion_type' is missing or not 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'.",
            );
        }
        if let Err(reply) = check_assertion(assertion, client_id) {
            return reply;
        }
    } else {
        return aad_error(
            401,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        );
    }
    let (access, expires_in) = st.issue(svc, false);
    Reply::json(
        200,
        json!({"token_type": "Bearer", "expires_in": expires_in, "ext_expires_in": expires_in, "access_token": access}),
    )
}

fn check_client(st: &Inner, tenant: &str, client_id: &str) -> Option<Reply> {
    if client_id.is_empty() {
        return Some(aad_error(
            400,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'client_id'.",
        ));
    }
    if client_id != st.opts.client_id {
        return Some(aad_error(
            400,
            "unauthorized_client",
            700016,
            &format!(
                "Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
            ),
        ));
    }
    None
}

/// Parses (does not verify) a client assertion: header with `x5t#S256` or `x5t`, claims
/// `iss` = `sub` = client id, `aud` present, `exp` in the future, `nbf` not in the future.
fn check_assertion(jwt: &str, client_id: &str) -> Result<(), Reply> {
    let invalid = |why: &str| {
        aad_error(
            401,
            "invalid_client",
            700027,
            &format!("Client assertion failed signature validation or is malformed: {why}."),
        )
    };
    let parts: Vec<&str> = jwt.trim().split('.').collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty()) {
        return Err(invalid("not a compact JWS (header.claims.signature)"));
    }
    let decode = |p: &str| -> Option<Value> {
        let bytes = URL_SAFE_NO_PAD.decode(p.trim_end_matches('=')).ok()?;
        serde_json::from_slice(&bytes).ok()
    };
    let header = decode(parts[0]).ok_or_else(|| invalid("header is not base64url JSON"))?;
    let claims = decode(parts[1]).ok_or_else(|| invalid("claims are not base64url JSON"))?;
    URL_SAFE_NO_PAD
        .decode(parts[2].trim_end_matches('='))
        .map_err(|_| invalid("signature is not base64url"))?;
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
    if !matches!(
        alg,
        "RS256" | "PS256" | "RS384" | "PS384" | "RS512" | "PS512"
    ) {
        return Err(invalid("header `alg` must be RS256 or PS256"));
    }
    let thumb = ["x5t#S256", "x5t"].iter().any(|k| {
        header
            .get(*k)
            .and_then(Value::as_str)
            .is_some_and(|v| !v.is_empty())
    });
    if !thumb {
        return Err(invalid("header has neither `x5t#S256` nor `x5t`"));
    }
    for claim in ["iss", "sub"] {
        if claims.get(claim).and_then(Value::as_str) != Some(client_id) {
            return Err(invalid(&format!(
                "claim `{claim}` must equal the client id"
            )));
        }
    }
    if claims
        .get("aud")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(invalid("claim `aud` is missing"));
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let exp = claims.get("exp").and_then(Value::as_i64);
    let nbf = claims.get("nbf").and_then(Value::as_i64);
    let out_of_range = match exp {
        None => true,
        Some(exp) => exp <= now || nbf.is_some_and(|n| n > now + 300),
    };
    if out_of_range {
        return Err(aad_error(
            401,
            "invalid_client",
            700024,
            "Client assertion is not within its valid time range.",
        ));
    }
    Ok(())
}

/// Maps the `scope` form field to the service whose tokens it asks for.
fn resolve_scope(scope: Option<&str>, app_only: bool, tenant: &str) -> Result<Service, Reply> {
    let scope = scope.unwrap_or("").trim();
    let invalid = |why: String| {
        aad_error(
            400,
            "invalid_scope",
            70011,
            &format!("The provided value for the input parameter 'scope' is not valid. {why}"),
        )
    };
    let resources: Vec<&str> = scope
        .split_whitespace()
        .filter(|s| !matches!(*s, "offline_access" | "openid" | "profile" | "email"))
        .collect();
    let [one] = resources.as_slice() else {
        return Err(invalid(format!(
            "Exactly one resource scope is needed (got '{scope}')."
        )));
    };
    let Some((resource, permission)) = one.rsplit_once('/') else {
        return Err(invalid(format!("The scope {one} is not valid.")));
    };
    if app_only && permission != ".default" {
        return Err(invalid(format!(
            "The scope {one} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
        )));
    }
    service_for_resource(resource).ok_or_else(|| {
        aad_error(
            400,
            "invalid_resource",
            500011,
            &format!(
                "The resource principal named {resource} was not found in the tenant named {tenant}. (fake-tenant maps a scope to a service by its path prefix /graph, /teams, /arm, /dataverse, /compliance, /powerplatform, by the Teams app id {TEAMS_APP_ID}, or by a real Microsoft host.)"
            ),
        )
    })
}

pub(crate) fn service_for_resource(resource: &str) -> Option<Service> {
    let lower = resource.to_ascii_lowercase();
    if lower.contains(TEAMS_APP_ID) {
        return Some(Service::Teams);
    }
    let Ok(url) = url::Url::parse(&lower) else {
        return None;
    };
    if let Some(first) = url.path_segments().and_then(|mut s| s.next())
        && let Some(svc) = Service::parse(first)
        && svc != Service::Login
    {
        return Some(svc);
    }
    let host = url.host_str().unwrap_or("");
    if host.starts_with("graph.")
        || host.starts_with("dod-graph.")
        || host.starts_with("microsoftgraph.")
    {
        Some(Service::Graph)
    } else if host.starts_with("management.") {
        Some(Service::Arm)
    } else if host.starts_with("api.interfaces.records.") {
        Some(Service::Teams)
    } else if host.contains(".crm") && (host.contains("dynamics") || host.contains("appsplatform"))
    {
        Some(Service::Dataverse)
    } else if host.contains("compliance.protection.") {
        Some(Service::Compliance)
    } else if host.starts_with("service.powerapps.")
        || host.ends_with(".service.powerapps.us")
        || host == "service.apps.appsplatform.us"
    {
        Some(Service::PowerPlatform)
    } else {
        None
    }
}

fn devicecode(st: &Inner, form: &HashMap<String, String>) -> Reply {
    let client_id = form.get("client_id").map(String::as_str).unwrap_or("");
    if client_id.is_empty() {
        return aad_error(
            400,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'client_id'.",
        );
    }
    let scope = form.get("scope").cloned().unwrap_or_default();
    let svc = match resolve_scope(Some(&scope), false, &st.index.tenant_id) {
        Ok(s) => s,
        Err(reply) => return reply,
    };
    let device_code = format!(
        "DAQABAAEAAAD{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let user_code: String = uuid::Uuid::new_v4()
        .simple()
        .to_string()
        .chars()
        .take(8)
        .collect::<String>()
        .to_ascii_uppercase();
    let opts = &st.opts.device_code;
    st.auth().devices.insert(
        device_code.clone(),
        Device {
            client_id: client_id.to_string(),
            service: svc,
            scope,
            polls: 0,
            slow_down_sent: false,
            created: Instant::now(),
        },
    );
    let uri = format!("{}/login/devicelogin", st.base);
    Reply::json(
        200,
        json!({
            "user_code": user_code,
            "device_code": device_code,
            "verification_uri": uri,
            "expires_in": opts.expires_in.as_secs(),
            "interval": opts.interval.as_secs(),
            "message": format!("To sign in, use a web browser to open the page {uri} and enter the code {user_code} to authenticate."),
        }),
    )
}

fn device_poll(st: &Inner, form: &HashMap<String, String>) -> Reply {
    let code = form.get("device_code").map(String::as_str).unwrap_or("");
    let client_id = form.get("client_id").map(String::as_str).unwrap_or("");
    let opts = &st.opts.device_code;
    let (svc, scope) = {
        let mut auth = st.auth();
        let Some(dev) = auth.devices.get_mut(code) else {
            return aad_error(
                400,
                "bad_verification_code",
                70000,
                "The provided device_code was not recognized (unknown, or already redeemed).",
            );
        };
        if dev.client_id != client_id {
            return aad_error(
                400,
                "invalid_grant",
                70000,
                "The device_code was issued to a different client.",
            );
        }
        if dev.created.elapsed() >= opts.expires_in {
            auth.devices.remove(code);
            return aad_error(
                400,
                "expired_token",
                70020,
                "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
            );
        }
        if opts.slow_down && !dev.slow_down_sent {
            dev.slow_down_sent = true;
            return aad_error(
                400,
                "slow_down",
                70016,
                "The client is polling too quickly; increase the polling interval by 5 seconds.",
            );
        }
        if opts.decline {
            auth.devices.remove(code);
            return aad_error(
                400,
                "authorization_declined",
                70000,
                "The end user denied the authorization request.",
            );
        }
        if dev.polls < opts.pending_polls {
            dev.polls += 1;
            return aad_error(
                400,
                "authorization_pending",
                70016,
                "The provided request has not yet been authorized by the user. The device will poll until the user has authorized the request.",
            );
        }
        let dev = auth.devices.remove(code);
        match dev {
            Some(d) => (d.service, d.scope),
            None => return aad_error(400, "bad_verification_code", 70000, "Unknown device code."),
        }
    };
    delegated_tokens(st, client_id, svc, &scope)
}

fn delegated_tokens(st: &Inner, client_id: &str, svc: Service, scope: &str) -> Reply {
    if let Some(refused) = refused_audience(st, client_id, svc) {
        return refused;
    }
    let (access, expires_in) = st.issue(svc, true);
    let refresh = format!("0.fake-refresh.{}", uuid::Uuid::new_v4().simple());
    st.auth().refresh.insert(
        refresh.clone(),
        RefreshGrant {
            client_id: client_id.to_string(),
        },
    );
    let id_token = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(
            json!({"aud": client_id, "tid": st.index.tenant_id, "iss": format!("{}/login/{}/v2.0", st.base, st.index.tenant_id), "name": "Fake Admin", "preferred_username": "admin@fake-tenant.invalid"})
                .to_string()
        )
    );
    Reply::json(
        200,
        json!({
            "token_type": "Bearer",
            "scope": scope,
            "expires_in": expires_in,
            "ext_expires_in": expires_in,
            "access_token": access,
            "refresh_token": refresh,
            "id_token": id_token,
        }),
    )
}

/// AADSTS65002 when the faults refuse `client_id` a person's token for `svc`.
fn refused_audience(st: &Inner, client_id: &str, svc: Service) -> Option<Reply> {
    let refused = st
        .opts
        .faults
        .refused_audiences
        .iter()
        .any(|(c, s)| c.eq_ignore_ascii_case(client_id) && Service::parse(s) == Some(svc));
    refused.then(|| {
        aad_error(
            400,
            "invalid_grant",
            65002,
            &format!(
                "Consent between first party application '{client_id}' and first party resource '{}' must be configured via preauthorization - applications owned and operated by Microsoft must get approval from the API owner before requesting tokens for that API.",
                svc.as_str()
            ),
        )
        .fault("refused_audience")
    })
}

fn refresh(st: &Inner, tenant: &str, form: &HashMap<String, String>) -> Reply {
    let token = form.get("refresh_token").map(String::as_str).unwrap_or("");
    let client_id = form.get("client_id").map(String::as_str).unwrap_or("");
    let known = st
        .auth()
        .refresh
        .get(token)
        .map(|g| g.client_id == client_id);
    match known {
        Some(true) => {}
        Some(false) => {
            return aad_error(
                400,
                "invalid_grant",
                70000,
                "The refresh token was issued to a different client.",
            );
        }
        None => {
            return aad_error(
                400,
                "invalid_grant",
                9002313,
                "Invalid request. Request is malformed or invalid (unknown refresh token).",
            );
        }
    }
    let scope = form.get("scope").cloned().unwrap_or_default();
    let svc = match resolve_scope(Some(&scope), false, tenant) {
        Ok(s) => s,
        Err(reply) => return reply,
    };
    delegated_tokens(st, client_id, svc, &scope)
}

/// Device-code flow behaviour.
#[derive(Clone, Debug)]
pub struct DeviceCodeOptions {
    /// Polls answered `authorization_pending` before the token is issued.
    pub pending_polls: u32,
    /// Answer `slow_down` once, on the first poll (before the pending ones).
    pub slow_down: bool,
    /// Answer `authorization_declined` instead of issuing a token.
    pub decline: bool,
    /// `interval` in the devicecode response (whole seconds; 0 allowed for fast tests).
    pub interval: Duration,
    /// `expires_in` of the device code; polls after it answer `expired_token`.
    pub expires_in: Duration,
}

impl Default for DeviceCodeOptions {
    fn default() -> DeviceCodeOptions {
        DeviceCodeOptions {
            pending_polls: 1,
            slow_down: false,
            decline: false,
            interval: Duration::from_secs(1),
            expires_in: Duration::from_secs(900),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_mapping() {
        let m = |s: &str| service_for_resource(s);
        assert_eq!(m("http://127.0.0.1:5000/graph"), Some(Service::Graph));
        assert_eq!(m("http://127.0.0.1:5000/Teams"), Some(Service::Teams));
        assert_eq!(m("http://127.0.0.1:5000/arm"), Some(Service::Arm));
        assert_eq!(
            m("http://127.0.0.1:5000/dataverse"),
            Some(Service::Dataverse)
        );
        assert_eq!(
            m("http://127.0.0.1:5000/compliance"),
            Some(Service::Compliance)
        );
        assert_eq!(m(TEAMS_APP_ID), Some(Service::Teams));
        assert_eq!(m("https://graph.microsoft.com"), Some(Service::Graph));
        assert_eq!(m("https://dod-graph.microsoft.us"), Some(Service::Graph));
        assert_eq!(
            m("https://management.usgovcloudapi.net"),
            Some(Service::Arm)
        );
        assert_eq!(
            m("https://api.interfaces.records.teams.microsoft.com"),
            Some(Service::Teams)
        );
        assert_eq!(
            m("https://contoso.crm4.dynamics.com"),
            Some(Service::Dataverse)
        );
        assert_eq!(
            m("https://ps.compliance.protection.outlook.com"),
            Some(Service::Compliance)
        );
        assert_eq!(
            m("https://service.powerapps.com"),
            Some(Service::PowerPlatform)
        );
        // The PowerApps service's App ID URI ends with `/`: its v2 scope has a double slash.
        assert_eq!(
            m("https://service.powerapps.com/"),
            Some(Service::PowerPlatform)
        );
        assert_eq!(
            m("https://high.service.powerapps.us"),
            Some(Service::PowerPlatform)
        );
        assert_eq!(m("http://127.0.0.1:5000"), None);
        assert_eq!(m("http://127.0.0.1:5000/login"), None);
        assert_eq!(m("not a url"), None);
    }
}
