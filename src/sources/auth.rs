//! Sign-in: one bearer token per audience, from the Azure CLI, a client secret, a client
//! certificate or the device-code flow.
//!
//! Hand-written OAuth2 over its own reqwest client (rustls), so the authority host can be a
//! plain-http loopback fake and certificates need no OpenSSL. Secrets, assertions, device codes,
//! refresh tokens and access tokens are `SecretString`s: no `Debug`, `Display`, log line or error
//! of this module shows them.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use url::Url;

use super::endpoints::{Audience, describe, device_code_url, token_url};
use super::timeouts::{self, Timeout, Timeouts};
use super::wire::{backoff_delay, json_body, parse_retry_after, read_capped, transport_message};

/// The Azure CLI's public client id, used by `--auth device-code` unless `AZURE_CLIENT_ID` is
/// set: it is pre-authorised for Graph, ARM and most first-party resources.
pub const AZURE_CLI_CLIENT_ID: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";

/// A cached token is used until this long before it expires.
const EXPIRY_MARGIN: Duration = Duration::from_secs(300);
/// Client assertions are valid this long.
const ASSERTION_LIFETIME: u64 = 600;
/// Attempts per token POST on throttling, 5xx or connection errors (a timeout is not retried:
/// an endpoint that did not answer in time is not waited for again).
const TOKEN_ATTEMPTS: u32 = 3;
const TOKEN_RETRY_AFTER_CAP: Duration = Duration::from_secs(60);
const TOKEN_BODY_CAP: usize = 1 << 20;
const AZ_TIMEOUT: Duration = Duration::from_secs(120);
/// The Azure CLI's launcher, tried in this order. On Windows it is a batch file, which std
/// starts only when named with its extension (then through cmd.exe, arguments escaped for it):
/// `az.cmd` from the MSI and winget installs, `az.bat` from `pip install azure-cli`.
const AZ_LAUNCHERS: &[&str] = if cfg!(windows) {
    &["az.cmd", "az.bat"]
} else {
    &["az"]
};
const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// `--auth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuthMethod {
    AzureCli,
    ClientSecret,
    ClientCertificate,
    DeviceCode,
}

impl AuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::AzureCli => "azure-cli",
            AuthMethod::ClientSecret => "client-secret",
            AuthMethod::ClientCertificate => "client-certificate",
            AuthMethod::DeviceCode => "device-code",
        }
    }
}

impl fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who signs in, and how.
#[derive(Debug)]
pub enum Credential {
    /// `az account get-access-token --resource R [--tenant T]` per audience.
    AzureCli {
        tenant: Option<String>,
        /// `az` (`az.cmd`, then `az.bat`, on Windows) unless set otherwise.
        program: PathBuf,
    },
    ClientSecret {
        tenant: String,
        client_id: String,
        secret: SecretString,
    },
    ClientCertificate {
        tenant: String,
        client_id: String,
        certificate: ClientCertificate,
    },
    /// Delegated sign-in of an admin; `tenant` may be `organizations`.
    DeviceCode { tenant: String, client_id: String },
}

impl Credential {
    /// Reads the Azure SDK environment variables (`AZURE_TENANT_ID`, `AZURE_CLIENT_ID`,
    /// `AZURE_CLIENT_SECRET`, `AZURE_CLIENT_CERTIFICATE_PATH`,
    /// `AZURE_CLIENT_CERTIFICATE_PASSWORD`). `tenant` (`--tenant`) wins over `AZURE_TENANT_ID`.
    /// Without `method`: client-secret or client-certificate when their variables are set,
    /// else azure-cli.
    pub fn from_env(
        method: Option<AuthMethod>,
        tenant: Option<&str>,
    ) -> Result<Credential, AuthError> {
        Credential::from_lookup(method, tenant, |name| std::env::var(name).ok())
    }

    /// [`Credential::from_env`] with an injected environment (for tests).
    pub fn from_lookup(
        method: Option<AuthMethod>,
        tenant: Option<&str>,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Credential, AuthError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let tenant = tenant
            .map(str::to_string)
            .filter(|t| !t.trim().is_empty())
            .or_else(|| get("AZURE_TENANT_ID"));
        let client_id = get("AZURE_CLIENT_ID");
        let method = method.unwrap_or_else(|| {
            let app = tenant.is_some() && client_id.is_some();
            if app && get("AZURE_CLIENT_SECRET").is_some() {
                AuthMethod::ClientSecret
            } else if app && get("AZURE_CLIENT_CERTIFICATE_PATH").is_some() {
                AuthMethod::ClientCertificate
            } else {
                AuthMethod::AzureCli
            }
        });
        let require = |needed: &[(&str, bool)]| {
            let missing: Vec<&str> = needed
                .iter()
                .filter(|(_, present)| !present)
                .map(|(name, _)| *name)
                .collect();
            if missing.is_empty() {
                Ok(())
            } else {
                Err(AuthError::Config(format!(
                    "--auth {method} needs {}",
                    missing.join(", ")
                )))
            }
        };
        match method {
            AuthMethod::AzureCli => Ok(Credential::AzureCli {
                tenant,
                program: PathBuf::from(AZ_LAUNCHERS[0]),
            }),
            AuthMethod::ClientSecret => {
                let secret = get("AZURE_CLIENT_SECRET");
                require(&[
                    ("AZURE_TENANT_ID (or --tenant)", tenant.is_some()),
                    ("AZURE_CLIENT_ID", client_id.is_some()),
                    ("AZURE_CLIENT_SECRET", secret.is_some()),
                ])?;
                let (Some(tenant), Some(client_id), Some(secret)) = (tenant, client_id, secret)
                else {
                    unreachable!("checked by require")
                };
                Ok(Credential::ClientSecret {
                    tenant,
                    client_id,
                    secret: SecretString::from(secret),
                })
            }
            AuthMethod::ClientCertificate => {
                let path = get("AZURE_CLIENT_CERTIFICATE_PATH");
                require(&[
                    ("AZURE_TENANT_ID (or --tenant)", tenant.is_some()),
                    ("AZURE_CLIENT_ID", client_id.is_some()),
                    ("AZURE_CLIENT_CERTIFICATE_PATH", path.is_some()),
                ])?;
                let (Some(tenant), Some(client_id), Some(path)) = (tenant, client_id, path) else {
                    unreachable!("checked by require")
                };
                let password = lookup("AZURE_CLIENT_CERTIFICATE_PASSWORD").map(SecretString::from);
                let certificate =
                    ClientCertificate::from_file(Path::new(&path), password.as_ref())?;
                Ok(Credential::ClientCertificate {
                    tenant,
                    client_id,
                    certificate,
                })
            }
            AuthMethod::DeviceCode => Ok(Credential::DeviceCode {
                tenant: tenant.unwrap_or_else(|| "organizations".to_string()),
                client_id: client_id.unwrap_or_else(|| AZURE_CLI_CLIENT_ID.to_string()),
            }),
        }
    }

    pub fn method(&self) -> AuthMethod {
        match self {
            Credential::AzureCli { .. } => AuthMethod::AzureCli,
            Credential::ClientSecret { .. } => AuthMethod::ClientSecret,
            Credential::ClientCertificate { .. } => AuthMethod::ClientCertificate,
            Credential::DeviceCode { .. } => AuthMethod::DeviceCode,
        }
    }

    /// The tenant signed in to, when known before sign-in.
    pub fn tenant(&self) -> Option<&str> {
        match self {
            Credential::AzureCli { tenant, .. } => tenant.as_deref(),
            Credential::ClientSecret { tenant, .. }
            | Credential::ClientCertificate { tenant, .. }
            | Credential::DeviceCode { tenant, .. } => Some(tenant),
        }
    }

    /// How this credential signs in, as a snapshot records it.
    pub fn sign_in(&self) -> crate::sign_in::SignIn {
        use crate::sign_in::{SignIn, SignInClient, SignInMethod};
        let method = match self.method() {
            AuthMethod::AzureCli => SignInMethod::AzureCli,
            AuthMethod::DeviceCode => SignInMethod::DeviceCode,
            AuthMethod::ClientSecret => SignInMethod::ClientSecret,
            AuthMethod::ClientCertificate => SignInMethod::ClientCertificate,
        };
        let client = match self {
            Credential::AzureCli { .. } => SignInClient::AzureCli,
            Credential::DeviceCode { client_id, .. } if client_id == AZURE_CLI_CLIENT_ID => {
                SignInClient::AzureCli
            }
            _ => SignInClient::OwnApp,
        };
        SignIn { method, client }
    }

    /// The app signing in, for app-only and device-code sign-in.
    pub fn client_id(&self) -> Option<&str> {
        match self {
            Credential::AzureCli { .. } => None,
            Credential::ClientSecret { client_id, .. }
            | Credential::ClientCertificate { client_id, .. }
            | Credential::DeviceCode { client_id, .. } => Some(client_id),
        }
    }
}

/// A certificate credential: an RSA key and the thumbprints of its certificate.
pub struct ClientCertificate {
    /// Signs the client assertion, PS256 (RSASSA-PSS with SHA-256), with ring. Boxed: the key
    /// pair is large, and `Credential` holds this inline.
    key: Box<ring::signature::RsaKeyPair>,
    x5t: String,
    x5t_s256: String,
    origin: String,
}

impl fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCertificate")
            .field("origin", &self.origin)
            .field("alg", &"PS256")
            .field("x5t#S256", &self.x5t_s256)
            .finish_non_exhaustive()
    }
}

impl ClientCertificate {
    /// Loads a PEM file (certificate and unencrypted private key, any order) or a PFX/PKCS#12
    /// file (optionally password-protected).
    pub fn from_file(
        path: &Path,
        password: Option<&SecretString>,
    ) -> Result<ClientCertificate, AuthError> {
        let origin = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| AuthError::Certificate {
            path: origin.clone(),
            detail: format!("cannot read it: {e}"),
        })?;
        if bytes.windows(11).any(|w| w == b"-----BEGIN ") {
            ClientCertificate::from_pem(&bytes, &origin)
        } else {
            let password = password.map(|p| p.expose_secret()).unwrap_or("");
            ClientCertificate::from_pfx(&bytes, password, &origin)
        }
    }

    /// Parses PEM text holding a certificate and an RSA private key (PKCS#8 or PKCS#1).
    pub fn from_pem(pem: &[u8], origin: &str) -> Result<ClientCertificate, AuthError> {
        let bad = |detail: &str| AuthError::Certificate {
            path: origin.to_string(),
            detail: detail.to_string(),
        };
        let cert = CertificateDer::pem_slice_iter(pem)
            .next()
            .ok_or_else(|| bad("no CERTIFICATE block in the PEM file"))?
            .map_err(|_| bad("the CERTIFICATE block is not valid PEM"))?;
        if pem.windows(21).any(|w| w == b"ENCRYPTED PRIVATE KEY") {
            return Err(bad(
                "the private key is encrypted; export it unencrypted or use a PFX file with AZURE_CLIENT_CERTIFICATE_PASSWORD",
            ));
        }
        let key = PrivateKeyDer::from_pem_slice(pem)
            .map_err(|_| bad("no PRIVATE KEY block in the PEM file"))?;
        let rsa = match &key {
            PrivateKeyDer::Pkcs1(k) => k.secret_pkcs1_der().to_vec(),
            PrivateKeyDer::Pkcs8(k) => pkcs8_rsa_key(k.secret_pkcs8_der())
                .ok_or_else(|| bad("the private key is not an RSA key (Entra needs RSA)"))?
                .to_vec(),
            _ => return Err(bad("the private key is not an RSA key (Entra needs RSA)")),
        };
        ClientCertificate::from_parts(cert.as_ref(), &rsa, origin)
    }

    /// Parses a PFX/PKCS#12 archive (legacy 3DES/RC2 ones too).
    pub fn from_pfx(
        der: &[u8],
        password: &str,
        origin: &str,
    ) -> Result<ClientCertificate, AuthError> {
        let bad = |detail: String| AuthError::Certificate {
            path: origin.to_string(),
            detail,
        };
        let store = p12_keystore::KeyStore::from_pkcs12(
            der,
            password,
            p12_keystore::Pkcs12ImportPolicy::Strict,
        )
        .map_err(|e| {
            bad(format!(
                "cannot open it as PFX ({e}); wrong AZURE_CLIENT_CERTIFICATE_PASSWORD, or not a PEM/PFX file?"
            ))
        })?;
        let (_, chain) = store
            .private_key_chain()
            .ok_or_else(|| bad("the PFX holds no private key with its certificate".into()))?;
        let cert = chain
            .certs()
            .first()
            .ok_or_else(|| bad("the PFX holds no certificate for its key".into()))?;
        let rsa = pkcs8_rsa_key(chain.key().as_der())
            .ok_or_else(|| bad("the private key is not an RSA key (Entra needs RSA)".into()))?;
        ClientCertificate::from_parts(cert.as_der(), rsa, origin)
    }

    fn from_parts(
        cert_der: &[u8],
        rsa_pkcs1: &[u8],
        origin: &str,
    ) -> Result<ClientCertificate, AuthError> {
        use sha1::Digest as _;
        let x5t = URL_SAFE_NO_PAD.encode(sha1::Sha1::digest(cert_der));
        let x5t_s256 = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(cert_der));
        // PS256 is what Entra documents today; every RSA key ring accepts can sign it.
        let key = ring::signature::RsaKeyPair::from_der(rsa_pkcs1).map(Box::new).map_err(|e| {
            AuthError::Certificate {
                path: origin.to_string(),
                detail: format!(
                    "the private key cannot sign ({e}): Entra needs an RSA key, and ccaudit signs with keys of 2048 to 4096 bits"
                ),
            }
        })?;
        Ok(ClientCertificate {
            key,
            x5t,
            x5t_s256,
            origin: origin.to_string(),
        })
    }

    /// Base64url SHA-1 thumbprint of the certificate (`x5t`).
    pub fn x5t(&self) -> &str {
        &self.x5t
    }

    /// Base64url SHA-256 thumbprint of the certificate (`x5t#S256`).
    pub fn x5t_s256(&self) -> &str {
        &self.x5t_s256
    }

    /// A signed client assertion for `token_endpoint` (its `aud`).
    pub(crate) fn assertion(
        &self,
        client_id: &str,
        token_endpoint: &str,
        now: SystemTime,
    ) -> Result<SecretString, AuthError> {
        let now = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let header = json!({
            "typ": "JWT",
            "alg": "PS256",
            "x5t": self.x5t,
            "x5t#S256": self.x5t_s256,
        });
        let claims = json!({
            "aud": token_endpoint,
            "iss": client_id,
            "sub": client_id,
            "jti": uuid::Uuid::new_v4().to_string(),
            "nbf": now,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(
                &ring::signature::RSA_PSS_SHA256,
                &ring::rand::SystemRandom::new(),
                signing_input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| AuthError::Certificate {
                path: self.origin.clone(),
                detail: "cannot sign the client assertion".to_string(),
            })?;
        Ok(SecretString::from(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        )))
    }
}

/// The RSAPrivateKey inside a PKCS#8 PrivateKeyInfo, when the algorithm is rsaEncryption.
fn pkcs8_rsa_key(der: &[u8]) -> Option<&[u8]> {
    const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    let (tag, info, _) = der_tlv(der)?;
    (tag == 0x30).then_some(())?;
    let (tag, _version, rest) = der_tlv(info)?;
    (tag == 0x02).then_some(())?;
    let (tag, algorithm, rest) = der_tlv(rest)?;
    (tag == 0x30).then_some(())?;
    let (tag, oid, _) = der_tlv(algorithm)?;
    (tag == 0x06 && oid == RSA_ENCRYPTION).then_some(())?;
    let (tag, key, _) = der_tlv(rest)?;
    (tag == 0x04).then_some(key)
}

/// One DER tag-length-value: (tag, contents, rest).
fn der_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// A sign-in failure, as one line a user can act on. Never holds a secret or token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Missing or contradictory settings.
    #[error("{0}")]
    Config(String),
    #[error("client certificate {path}: {detail}")]
    Certificate { path: String, detail: String },
    #[error("Azure CLI not found: install it or use --auth client-secret")]
    AzCliNotFound,
    /// `az` failed; `detail` is the first line of its stderr.
    #[error("az: {detail}; run `{login}`")]
    AzCliFailed { detail: String, login: String },
    #[error("az account get-access-token returned unexpected output: {0}")]
    AzCliOutput(String),
    /// The token endpoint refused: `message` starts with `AADSTS<n>:` when the service gave one.
    #[error("{message}")]
    Refused {
        code: Option<String>,
        message: String,
    },
    /// The token endpoint could not be reached or answered something other than OAuth JSON.
    #[error("{endpoint}: {message}")]
    Transport { endpoint: String, message: String },
    #[error("device-code sign-in: {0}")]
    DeviceCode(String),
}

impl AuthError {
    /// A short code for reports: `AADSTS7000215`, the OAuth `error`, or the kind of failure.
    pub fn code(&self) -> Option<String> {
        match self {
            AuthError::Refused { code, .. } => code.clone(),
            // az prints the token endpoint's refusal (`AADSTS65002: …`): keep its code, which
            // says whether the Azure CLI can get this resource at all.
            AuthError::AzCliFailed { detail, .. } => {
                Some(aadsts_code(detail).unwrap_or_else(|| "AzureCli".to_string()))
            }
            AuthError::AzCliNotFound | AuthError::AzCliOutput(_) => Some("AzureCli".to_string()),
            AuthError::Certificate { .. } => Some("ClientCertificate".to_string()),
            AuthError::DeviceCode(_) => Some("DeviceCode".to_string()),
            AuthError::Config(_) | AuthError::Transport { .. } => None,
        }
    }
}

/// `AADSTS65002` from text that holds one.
fn aadsts_code(text: &str) -> Option<String> {
    let at = text.find("AADSTS")?;
    let digits: String = text[at + 6..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    (!digits.is_empty()).then(|| format!("AADSTS{digits}"))
}

/// Context for turning AADSTS errors into one-line messages.
struct Ctx<'a> {
    client_id: Option<&'a str>,
    tenant: Option<&'a str>,
    audience: &'a Audience,
}

/// One line from an OAuth error body: a friendly sentence for the common AADSTS codes, else
/// the first sentence of `error_description`; never trace or correlation ids.
fn refusal(error: &str, description: &str, codes: Option<u64>, ctx: &Ctx<'_>) -> AuthError {
    let line = description
        .lines()
        .next()
        .unwrap_or("")
        .split(" Trace ID:")
        .next()
        .unwrap_or("")
        .trim();
    let (code, rest) = match line.strip_prefix("AADSTS").and_then(|r| r.split_once(':')) {
        Some((digits, rest))
            if digits.chars().all(|c| c.is_ascii_digit()) && !digits.is_empty() =>
        {
            (digits.parse::<u64>().ok(), rest.trim())
        }
        _ => (codes, line),
    };
    let first_sentence = match rest.find(". ") {
        Some(i) => &rest[..=i],
        None => rest,
    }
    .trim();
    let app = ctx.client_id.unwrap_or("?");
    let tenant = ctx.tenant.unwrap_or("?");
    let friendly = match code {
        Some(7000215) => Some(format!(
            "invalid client secret for app {app}; check AZURE_CLIENT_SECRET (the secret's value, not its id)"
        )),
        Some(7000222) => Some(format!(
            "the client secret of app {app} has expired; create a new one"
        )),
        Some(700016) => Some(format!(
            "app {app} was not found in tenant {tenant}; check AZURE_CLIENT_ID and the tenant"
        )),
        Some(700027) => Some(format!(
            "the certificate is not registered on app {app}, or the assertion signature is invalid"
        )),
        Some(700024) => Some(
            "the client assertion is outside its valid time range; check the system clock".into(),
        ),
        Some(90002 | 900023) => Some(format!(
            "tenant {tenant} was not found; check --tenant / AZURE_TENANT_ID"
        )),
        Some(500011) => Some(format!(
            "resource {} is not provisioned in tenant {tenant}",
            ctx.audience
        )),
        Some(65001) => Some(format!(
            "app {app} has no consent for {}; an admin must grant it",
            ctx.audience
        )),
        Some(53003) => Some("sign-in blocked by Conditional Access".into()),
        _ => None,
    };
    let text = friendly.unwrap_or_else(|| {
        if first_sentence.is_empty() {
            format!("{error} from the token endpoint")
        } else {
            first_sentence.to_string()
        }
    });
    match code {
        Some(n) => AuthError::Refused {
            code: Some(format!("AADSTS{n}")),
            message: format!("AADSTS{n}: {text}"),
        },
        None => AuthError::Refused {
            code: (!error.is_empty()).then(|| error.to_string()),
            message: format!("{error}: {text}"),
        },
    }
}

/// What came back from a token-endpoint POST that was not a token.
enum PostError {
    /// An OAuth error body (`error`, `error_description`, `error_codes`).
    OAuth {
        error: String,
        description: String,
        code: Option<u64>,
    },
    Other(AuthError),
}

struct CachedToken {
    token: SecretString,
    expires_at: SystemTime,
}

impl CachedToken {
    fn fresh(&self, now: SystemTime) -> bool {
        self.expires_at
            .duration_since(now)
            .is_ok_and(|left| left > EXPIRY_MARGIN)
    }
}

/// A sign-in outcome kept for the run: a token, or the error (a refused app stays refused).
type Slot = Arc<tokio::sync::Mutex<Option<Result<CachedToken, AuthError>>>>;

/// Hands out bearer tokens, one per audience, cached until 5 minutes before expiry.
/// Concurrent requests for one audience share a single sign-in.
pub struct TokenProvider {
    credential: Credential,
    login: Url,
    http: reqwest::Client,
    slots: Mutex<HashMap<Audience, Slot>>,
    /// Device-code sign-in: the refresh token that gets the other audiences; also serialises
    /// the interactive flow so only one prompt is shown.
    refresh_token: tokio::sync::Mutex<Option<SecretString>>,
    prompt: Box<dyn Fn(&str) + Send + Sync>,
    /// One second in production; tests shrink device-code polling with it.
    poll_unit: Duration,
    backoff_base: Duration,
    /// Connect and request timeouts of the token endpoint (`--timeout login=SECS`).
    timeout: Timeout,
    /// Set once the token endpoint did not answer in time: every later sign-in fails at once
    /// with the same error rather than waiting again (each audience and each request would).
    silent: Mutex<Option<AuthError>>,
    /// Sign-ins under way.
    in_flight: std::sync::atomic::AtomicUsize,
}

impl fmt::Debug for TokenProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenProvider")
            .field("method", &self.credential.method())
            .field("login", &self.login.as_str())
            .finish_non_exhaustive()
    }
}

impl TokenProvider {
    /// `login` is the Entra authority base (`Endpoints::login()`).
    pub fn new(credential: Credential, login: &Url) -> Result<TokenProvider, AuthError> {
        let timeout = Timeouts::default().login();
        Ok(TokenProvider {
            credential,
            login: login.clone(),
            http: Self::client(login, timeout)?,
            slots: Mutex::new(HashMap::new()),
            refresh_token: tokio::sync::Mutex::new(None),
            prompt: Box::new(|message| eprintln!("{message}")),
            poll_unit: Duration::from_secs(1),
            backoff_base: Duration::from_millis(500),
            timeout,
            silent: Mutex::new(None),
            in_flight: std::sync::atomic::AtomicUsize::new(0),
        })
    }

    fn client(login: &Url, timeout: Timeout) -> Result<reqwest::Client, AuthError> {
        super::wire::use_ring_for_tls();
        let mut builder = reqwest::Client::builder()
            .connect_timeout(timeout.connect)
            .timeout(timeout.request)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("ccaudit/", env!("CARGO_PKG_VERSION")));
        if super::endpoints::is_loopback(login) {
            builder = builder.no_proxy();
        }
        builder.build().map_err(|e| AuthError::Transport {
            endpoint: login.as_str().to_string(),
            message: format!("cannot build the HTTP client: {}", transport_message(&e)),
        })
    }

    /// The token endpoint's connect and request timeouts (default: `Timeouts::default().login()`).
    pub fn with_timeout(mut self, timeout: Timeout) -> Result<TokenProvider, AuthError> {
        self.http = Self::client(&self.login, timeout)?;
        self.timeout = timeout;
        Ok(self)
    }

    /// The Entra authority base signed in at.
    pub fn login(&self) -> &Url {
        &self.login
    }

    /// Whether a sign-in is under way now.
    pub fn signing_in(&self) -> bool {
        self.in_flight.load(std::sync::atomic::Ordering::SeqCst) > 0
    }

    /// Where the device-code message goes (stderr by default; a progress display may want to
    /// print it above its bars).
    pub fn with_prompt(mut self, prompt: impl Fn(&str) + Send + Sync + 'static) -> TokenProvider {
        self.prompt = Box::new(prompt);
        self
    }

    pub fn credential(&self) -> &Credential {
        &self.credential
    }

    /// A bearer token for `audience`, from the cache or a fresh sign-in.
    pub async fn token(&self, audience: &Audience) -> Result<SecretString, AuthError> {
        let slot = self.slot(audience);
        let mut guard = slot.lock().await;
        match guard.as_ref() {
            Some(Ok(cached)) if cached.fresh(SystemTime::now()) => {
                return Ok(cached.token.clone());
            }
            Some(Err(e)) => return Err(e.clone()),
            _ => {}
        }
        let fetched = {
            let _signing_in = super::wire::InFlight::new(&self.in_flight);
            self.fetch(audience).await
        };
        let out = match &fetched {
            Ok(t) => Ok(t.token.clone()),
            Err(e) => Err(e.clone()),
        };
        // A refusal stays a refusal for the run; a network failure may pass, so it is not kept.
        *guard = match fetched {
            Err(AuthError::Transport { .. }) => None,
            other => Some(other),
        };
        out
    }

    /// Drops the cached token (or error) of `audience`; the next `token` signs in again.
    pub async fn invalidate(&self, audience: &Audience) {
        *self.slot(audience).lock().await = None;
    }

    /// Drops the cached token only if it is still `used`: when several requests get a 401 for
    /// the same token, only the first refreshes it.
    pub(crate) async fn invalidate_if_current(&self, audience: &Audience, used: &SecretString) {
        let slot = self.slot(audience);
        let mut guard = slot.lock().await;
        if let Some(Ok(cached)) = guard.as_ref()
            && cached.token.expose_secret() == used.expose_secret()
        {
            *guard = None;
        }
    }

    fn slot(&self, audience: &Audience) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.entry(audience.clone()).or_default().clone()
    }

    async fn fetch(&self, audience: &Audience) -> Result<CachedToken, AuthError> {
        let ctx = Ctx {
            client_id: self.credential.client_id(),
            tenant: self.credential.tenant(),
            audience,
        };
        match &self.credential {
            Credential::AzureCli { tenant, program } => {
                az_token(program, tenant.as_deref(), audience).await
            }
            Credential::ClientSecret {
                tenant,
                client_id,
                secret,
            } => {
                let url = self.token_url(tenant)?;
                let scope = audience.scope();
                let form = [
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id.as_str()),
                    ("scope", scope.as_str()),
                    ("client_secret", secret.expose_secret()),
                ];
                self.request_token(&url, &form, &ctx).await
            }
            Credential::ClientCertificate {
                tenant,
                client_id,
                certificate,
            } => {
                let url = self.token_url(tenant)?;
                let assertion =
                    certificate.assertion(client_id, url.as_str(), SystemTime::now())?;
                let scope = audience.scope();
                let form = [
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id.as_str()),
                    ("scope", scope.as_str()),
                    ("client_assertion_type", JWT_BEARER),
                    ("client_assertion", assertion.expose_secret()),
                ];
                self.request_token(&url, &form, &ctx).await
            }
            Credential::DeviceCode { tenant, client_id } => {
                self.device_code_token(tenant, client_id, audience, &ctx)
                    .await
            }
        }
    }

    fn token_url(&self, tenant: &str) -> Result<Url, AuthError> {
        token_url(&self.login, tenant).map_err(|e| AuthError::Config(e.0))
    }

    async fn request_token(
        &self,
        url: &Url,
        form: &[(&str, &str)],
        ctx: &Ctx<'_>,
    ) -> Result<CachedToken, AuthError> {
        match self.post_form(url, form).await {
            Ok(body) => parse_token_response(&body, url).map(|(t, _)| t),
            Err(PostError::OAuth {
                error,
                description,
                code,
            }) => Err(refusal(&error, &description, code, ctx)),
            Err(PostError::Other(e)) => Err(e),
        }
    }

    /// Device code for the first audience, then the refresh token for every other one.
    async fn device_code_token(
        &self,
        tenant: &str,
        client_id: &str,
        audience: &Audience,
        ctx: &Ctx<'_>,
    ) -> Result<CachedToken, AuthError> {
        let mut refresh = self.refresh_token.lock().await;
        let url = self.token_url(tenant)?;
        let scope = format!("{} offline_access", audience.scope());
        let body = if let Some(rt) = refresh.as_ref() {
            let form = [
                ("grant_type", "refresh_token"),
                ("client_id", client_id),
                ("scope", scope.as_str()),
                ("refresh_token", rt.expose_secret()),
            ];
            match self.post_form(&url, &form).await {
                Ok(body) => body,
                Err(PostError::OAuth {
                    error,
                    description,
                    code,
                }) => return Err(refusal(&error, &description, code, ctx)),
                Err(PostError::Other(e)) => return Err(e),
            }
        } else {
            self.device_code_flow(tenant, client_id, &scope, &url, ctx)
                .await?
        };
        let (token, new_refresh) = parse_token_response(&body, &url)?;
        if let Some(rt) = new_refresh {
            *refresh = Some(rt);
        }
        Ok(token)
    }

    async fn device_code_flow(
        &self,
        tenant: &str,
        client_id: &str,
        scope: &str,
        token_url: &Url,
        ctx: &Ctx<'_>,
    ) -> Result<Value, AuthError> {
        let dc_url = device_code_url(&self.login, tenant).map_err(|e| AuthError::Config(e.0))?;
        let start = match self
            .post_form(&dc_url, &[("client_id", client_id), ("scope", scope)])
            .await
        {
            Ok(body) => body,
            Err(PostError::OAuth {
                error,
                description,
                code,
            }) => return Err(refusal(&error, &description, code, ctx)),
            Err(PostError::Other(e)) => return Err(e),
        };
        let device_code = start
            .get("device_code")
            .and_then(Value::as_str)
            .map(SecretString::from)
            .ok_or_else(|| AuthError::DeviceCode("the service sent no device_code".into()))?;
        let message = match start.get("message").and_then(Value::as_str) {
            Some(m) => m.to_string(),
            None => format!(
                "To sign in, open {} and enter the code {}.",
                start
                    .get("verification_uri")
                    .and_then(Value::as_str)
                    .unwrap_or("https://microsoft.com/devicelogin"),
                start
                    .get("user_code")
                    .and_then(Value::as_str)
                    .unwrap_or("?")
            ),
        };
        (self.prompt)(&message);
        let mut interval = json_u64(start.get("interval")).unwrap_or(5);
        let expires_in = json_u64(start.get("expires_in")).unwrap_or(900);
        let deadline = Instant::now() + self.poll_unit * u32::try_from(expires_in).unwrap_or(900);
        let expired = || {
            AuthError::DeviceCode(format!(
                "the code expired before sign-in finished; run again and sign in within {} minutes",
                expires_in.div_ceil(60)
            ))
        };
        loop {
            tokio::time::sleep(self.poll_unit * u32::try_from(interval).unwrap_or(5)).await;
            if Instant::now() >= deadline {
                return Err(expired());
            }
            let form = [
                ("grant_type", DEVICE_CODE_GRANT),
                ("client_id", client_id),
                ("device_code", device_code.expose_secret()),
            ];
            match self.post_form(token_url, &form).await {
                Ok(body) => return Ok(body),
                Err(PostError::OAuth {
                    error,
                    description,
                    code,
                }) => match error.as_str() {
                    "authorization_pending" => {}
                    "slow_down" => interval += 5,
                    "expired_token" | "code_expired" => return Err(expired()),
                    "authorization_declined" => {
                        return Err(AuthError::DeviceCode("sign-in was declined".into()));
                    }
                    "bad_verification_code" => {
                        return Err(AuthError::DeviceCode(
                            "the service did not recognise the device code".into(),
                        ));
                    }
                    _ => return Err(refusal(&error, &description, code, ctx)),
                },
                Err(PostError::Other(e)) => return Err(e),
            }
        }
    }

    /// POSTs a form to the token or device-code endpoint, retrying throttling, 5xx and
    /// connection errors a few times. A 200 gives its JSON body.
    async fn post_form(&self, url: &Url, form: &[(&str, &str)]) -> Result<Value, PostError> {
        let endpoint = describe("POST", url);
        if let Some(e) = self
            .silent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            return Err(PostError::Other(e));
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let started = Instant::now();
            let sent = self.http.post(url.clone()).form(form).send().await;
            let mut resp = match sent {
                Ok(r) => r,
                Err(e) if e.is_timeout() => {
                    let message = if e.is_connect() {
                        format!(
                            "could not connect to login within {} s (--connect-timeout login=SECS waits longer)",
                            timeouts::secs(self.timeout.connect)
                        )
                    } else {
                        format!(
                            "no answer from login within {} s (--timeout login=SECS waits longer)",
                            timeouts::secs(self.timeout.request)
                        )
                    };
                    let e = AuthError::Transport { endpoint, message };
                    *self.silent.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.clone());
                    return Err(PostError::Other(e));
                }
                Err(e) => {
                    let retry = e.is_connect() || e.is_request();
                    if retry && attempt < TOKEN_ATTEMPTS {
                        tokio::time::sleep(backoff_delay(attempt, self.backoff_base)).await;
                        continue;
                    }
                    return Err(PostError::Other(AuthError::Transport {
                        endpoint,
                        message: transport_message(&e),
                    }));
                }
            };
            let status = resp.status().as_u16();
            let retry_after = resp
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, SystemTime::now(), TOKEN_RETRY_AFTER_CAP));
            let content_type = resp
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let body = read_capped(&mut resp, TOKEN_BODY_CAP).await;
            tracing::debug!(
                method = "POST",
                host = url.host_str().unwrap_or(""),
                path = url.path(),
                status,
                ms = started.elapsed().as_millis() as u64,
                "token request"
            );
            let body = match body {
                Ok(b) => b,
                Err(e) => {
                    if attempt < TOKEN_ATTEMPTS {
                        tokio::time::sleep(backoff_delay(attempt, self.backoff_base)).await;
                        continue;
                    }
                    return Err(PostError::Other(AuthError::Transport {
                        endpoint,
                        message: e.to_string(),
                    }));
                }
            };
            if matches!(status, 429 | 500 | 502 | 503 | 504) && attempt < TOKEN_ATTEMPTS {
                let delay =
                    retry_after.unwrap_or_else(|| backoff_delay(attempt, self.backoff_base));
                tokio::time::sleep(delay).await;
                continue;
            }
            let parsed = match json_body(status, content_type.as_deref(), &body) {
                Ok(v) => v,
                Err(message) => {
                    return Err(PostError::Other(AuthError::Transport { endpoint, message }));
                }
            };
            if let Some(error) = parsed.get("error").and_then(Value::as_str) {
                return Err(PostError::OAuth {
                    error: error.to_string(),
                    description: parsed
                        .get("error_description")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                    code: parsed
                        .get("error_codes")
                        .and_then(Value::as_array)
                        .and_then(|c| c.first())
                        .and_then(Value::as_u64),
                });
            }
            if (200..300).contains(&status) {
                return Ok(parsed);
            }
            return Err(PostError::Other(AuthError::Transport {
                endpoint,
                message: format!("HTTP {status} without an OAuth error"),
            }));
        }
    }
}

fn json_u64(v: Option<&Value>) -> Option<u64> {
    let v = v?;
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

/// The longest token lifetime believed: one day.
const MAX_TOKEN_LIFETIME_SECS: u64 = 86_400;

/// `access_token` + `expires_in` (a number, or a string in v1 responses) + `refresh_token`.
fn parse_token_response(
    body: &Value,
    url: &Url,
) -> Result<(CachedToken, Option<SecretString>), AuthError> {
    let token = body
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| AuthError::Transport {
            endpoint: describe("POST", url),
            message: "the token response has no access_token".into(),
        })?;
    // A lifetime longer than a day is not one Entra issues; capping it keeps a hostile or
    // broken endpoint from overflowing the clock (and the token is refreshed sooner, not later).
    let expires_in = json_u64(body.get("expires_in"))
        .unwrap_or(3599)
        .min(MAX_TOKEN_LIFETIME_SECS);
    let refresh = body
        .get("refresh_token")
        .and_then(Value::as_str)
        .map(SecretString::from);
    Ok((
        CachedToken {
            token: SecretString::from(token),
            expires_at: SystemTime::now() + Duration::from_secs(expires_in),
        },
        refresh,
    ))
}

async fn az_token(
    program: &Path,
    tenant: Option<&str>,
    audience: &Audience,
) -> Result<CachedToken, AuthError> {
    let login = match tenant {
        Some(t) => format!("az login --tenant {t}"),
        None => "az login".to_string(),
    };
    // The default launcher has other names to try; a program set otherwise is the only one.
    let candidates: Vec<&Path> = if program == Path::new(AZ_LAUNCHERS[0]) {
        AZ_LAUNCHERS.iter().map(Path::new).collect()
    } else {
        vec![program]
    };
    let mut spawned = None;
    for candidate in candidates {
        let result =
            tokio::time::timeout(AZ_TIMEOUT, az_command(candidate, tenant, audience).output())
                .await;
        let absent = matches!(&result, Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound);
        spawned = Some((candidate, result));
        if !absent {
            break;
        }
    }
    let Some((program, spawned)) = spawned else {
        return Err(AuthError::AzCliNotFound);
    };
    let output = match spawned {
        Err(_) => {
            return Err(AuthError::AzCliFailed {
                detail: format!("no answer within {} s", AZ_TIMEOUT.as_secs()),
                login,
            });
        }
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(AuthError::AzCliNotFound);
        }
        Ok(Err(e)) => {
            return Err(AuthError::AzCliFailed {
                detail: format!("cannot run {}: {e}", program.display()),
                login,
            });
        }
        Ok(Ok(output)) => output,
    };
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let lines: Vec<&str> = stderr
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let detail = lines
            .iter()
            .find_map(|l| l.strip_prefix("ERROR:"))
            .or(lines.first().copied())
            .map(|l| l.trim().trim_end_matches('.').to_string())
            .unwrap_or_else(|| format!("exited with {}", output.status));
        return Err(AuthError::AzCliFailed { detail, login });
    }
    parse_az_output(&output.stdout, SystemTime::now())
}

/// `az account get-access-token --resource R -o json [--tenant T]`, run with no input and its
/// output captured; killed if the run gives up on it.
fn az_command(
    program: &Path,
    tenant: Option<&str>,
    audience: &Audience,
) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(program);
    cmd.args([
        "account",
        "get-access-token",
        "--resource",
        audience.resource(),
        "-o",
        "json",
    ]);
    if let Some(t) = tenant {
        cmd.args(["--tenant", t]);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

/// `accessToken` with `expires_on` (POSIX seconds, newer CLIs) or, failing that, the token's own
/// `exp` claim. `expiresOn` is local time without a zone, so it cannot be placed on the clock
/// without a time-zone database; when neither of the above exists the token is treated as
/// short-lived and re-read from az soon (az refreshes tokens with less than 5 minutes left).
fn parse_az_output(stdout: &[u8], now: SystemTime) -> Result<CachedToken, AuthError> {
    let v: Value =
        serde_json::from_slice(stdout).map_err(|_| AuthError::AzCliOutput("not JSON".into()))?;
    let token = v
        .get("accessToken")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| AuthError::AzCliOutput("no accessToken".into()))?;
    let expires_at = json_u64(v.get("expires_on"))
        .or_else(|| jwt_exp(token))
        .map(|secs| UNIX_EPOCH + Duration::from_secs(secs))
        .unwrap_or(now + EXPIRY_MARGIN + Duration::from_secs(60));
    Ok(CachedToken {
        token: SecretString::from(token),
        expires_at,
    })
}

/// The `exp` claim of a JWT, read without verifying it (only to schedule a refresh).
fn jwt_exp(token: &str) -> Option<u64> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    json_u64(claims.get("exp"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::wire::loopback::{self, Reply};
    use std::sync::atomic::{AtomicUsize, Ordering};

    const SECRET: &str = "s3cr3t-VALUE-6b1f0e";
    const TOKEN: &str = "tok-AbC-98a7d2-never-print";

    const TEST_CERT_PEM: &str = r"-----BEGIN CERTIFICATE-----
MIIDETCCAfmgAwIBAgIUcMDtRl6O4fSyJDSo8dPFvMEg+4gwDQYJKoZIhvcNAQEL
BQAwFzEVMBMGA1UEAwwMY2NhdWRpdC10ZXN0MCAXDTI2MTEyNzA2MDc0NVoYDzIx
MjYxMTAzMDYwNzQ1WjAXMRUwEwYDVQQDDAxjY2F1ZGl0LXRlc3QwggEiMA0GCSqG
SIb3DQEBAQUAA4IBDwAwggEKAoIBAQC2DDffSZ4RzxaosGgogZlB4FHuZccIuVse
AeSHeHFgcHiyZv504JUYGAB0dp49SJZTYcNX3M+KEKIwZwDGIYWFCRb5om+gQuqx
Rqw+qr6kq4mh0rMcP/GwHkTwde8n9ZkHr6/4fYDQDcNf+xX73QsD4l88HZkpmMdk
L4UNSVx3TXsclwLRTfrTLRUn+sfI/BA2KIar/QtHfsmbdmWnbOeMz+6d39vnMfsj
0tAdexGb53wMYN4jmyKtPRcSNlZvIkcLdjB9zPteBTSSCGOUmfdzN/P+3eABTE5d
qJhthMlY7yZwLe2f23569euB/kIlE3SaucIVnv6njTauRQ0lHczBAgMBAAGjUzBR
MB0GA1UdDgQWBBTX5gjJ5dAdGtaNwwd/gTNL8us4bzAfBgNVHSMEGDAWgBTX5gjJ
5dAdGtaNwwd/gTNL8us4bzAPBgNVHRMBAf8EBTADAQH/MA0GCSqGSIb3DQEBCwUA
A4IBAQCe7ShS5Jv6f4SLaCWKgiLgw6fIuCqm8ueWsrdn+FWpoCKS9nUlzKtmO+GL
nTEACxZ0/1WxzT6NARmDrNKjjQBMeQX65Czb4+Gq542pE1f57FdBykIkmk+BtL1S
1vKEM0DAhKGUSlhVqUxGjCd243zXelShi4JAsSjB5L4cr4VwL+3j6mvyokN6puVV
E4MOpKUB3awXngSSJgk9k/PJbPxPg9P56bHnnpcaZXamaETjKE/MwOuURxmvUoB3
AlSUvUlVOjziuPvQmL3GKk4828+v+yhdDPaOkUQf7pqxOPqqosYAOkK3cHvlVt9r
F1E5HZqsLm+mU08Iz1FBnG9uDKMF
-----END CERTIFICATE-----
";
    const TEST_KEY_PKCS8_PEM: &str = r"-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQC2DDffSZ4Rzxao
sGgogZlB4FHuZccIuVseAeSHeHFgcHiyZv504JUYGAB0dp49SJZTYcNX3M+KEKIw
ZwDGIYWFCRb5om+gQuqxRqw+qr6kq4mh0rMcP/GwHkTwde8n9ZkHr6/4fYDQDcNf
+xX73QsD4l88HZkpmMdkL4UNSVx3TXsclwLRTfrTLRUn+sfI/BA2KIar/QtHfsmb
dmWnbOeMz+6d39vnMfsj0tAdexGb53wMYN4jmyKtPRcSNlZvIkcLdjB9zPteBTSS
CGOUmfdzN/P+3eABTE5dqJhthMlY7yZwLe2f23569euB/kIlE3SaucIVnv6njTau
RQ0lHczBAgMBAAECggEAANP6djSybDUghqn2f9Jq1iI3KjAGozQtYUQXwBtey+YY
EPLrqvA9cl6T1DPIy4lgtGpzNBtjKucBZ1olFmmfLvIyG2ajFofuY4n5WSe/ei4U
8DZWOelzK+J/3JaDPO+ys3aXxLf8q7mXzSA+JuMYCHOFbI97h5VAKS0niC5odhsT
SGjt5n9H3GvbhQ1KpVcd0rO6zi4hUp3ldWQb99iRCxizHyg+UlJk7HhPkO4XzSq5
ZgPuLwBih5beF9QV2SdvZ2MSUwW0oMXpabEMhYXhXr8/QEWOsZa/DyDDXIASsc5w
LiruMu6bkx2zj+djWQptA6SSaGMlLWohpr/i1rlWAQKBgQD8+gwvGeWXeWpG67oG
ye48hXbGZae+5YArRCd2tV5VDhOaZyWDWt1kT6TDB7I6lPNX6wZITfiC1sYlk6Ur
cqwiqQDsYANg5O/DT/kjOO39aqIoIIMfFj62uCSL0EE8K8VSYkCJf0C0/Ud5w82E
Op4ZW39EW2TWjrOIuaOBtzWPAQKBgQC4OSv1nwuLumbimiFmMz3i3/aHRPdWvpwI
02YiYJHLORlfvhOLS36KHgW17P1Sk78U3m9EVbJ8OFj/VchGILCY9QKfvQpkvISv
FSq8y0qYiC0Gi55wmmDZNd1fZUHhmjkcLq5N1hwOWdTUXBbsTElZk+gH1wE7qeiS
OkSqcGn9wQKBgQCkBI7/vt+f3SWtw8pB+oyPCs1ehqxC1dPKuY6IpcD6jnzhP/0P
dEtUbVra5FOHLem0V/ojyQHV+uBPnrGZQOkgM8kYeIvYN7bIQEK8tn1/L7LhJ2s8
LZUNrMhtKeIR3CM8bd2ACFRwxEKiTPQjxkmZETyrmkH/5le6zvmW8a01AQKBgQCt
akQTRtAbjDBlhymBhyLuel0bILSkF3HSbQ1rtvQHFYzpL4g+S6amZXSCuMAOB76L
6odbEECf5nsAgMOyH/udQKZjsBQkl8Fe/tHoPoXN6AJacvuGjAw27BmjPzIxKHgy
K08xPifS6oUKElYRwg4aILz/BEnI3DxtyiPxPTjJAQKBgGIwi2NJGeWvaFdp9Ann
uDfp2DvkfoQE9K+n8KelR3mLpmYacJ9aSFnQ4qYrYgi4xql7jwbsusNunmaOVbW8
adfPo36ElrCqqvr+CjnDPI1k33B0ZL8bOCizsdmj/krpUeUGfBfCTf1ABcGUZVW4
hXdQpfrs8CuaH6dG8lAq11gy
-----END PRIVATE KEY-----
";
    const TEST_KEY_PKCS1_PEM: &str = r"-----BEGIN RSA PRIVATE KEY-----
MIIEpAIBAAKCAQEAtgw330meEc8WqLBoKIGZQeBR7mXHCLlbHgHkh3hxYHB4smb+
dOCVGBgAdHaePUiWU2HDV9zPihCiMGcAxiGFhQkW+aJvoELqsUasPqq+pKuJodKz
HD/xsB5E8HXvJ/WZB6+v+H2A0A3DX/sV+90LA+JfPB2ZKZjHZC+FDUlcd017HJcC
0U360y0VJ/rHyPwQNiiGq/0LR37Jm3Zlp2znjM/und/b5zH7I9LQHXsRm+d8DGDe
I5sirT0XEjZWbyJHC3Ywfcz7XgU0kghjlJn3czfz/t3gAUxOXaiYbYTJWO8mcC3t
n9t+evXrgf5CJRN0mrnCFZ7+p402rkUNJR3MwQIDAQABAoIBAADT+nY0smw1IIap
9n/SatYiNyowBqM0LWFEF8AbXsvmGBDy66rwPXJek9QzyMuJYLRqczQbYyrnAWda
JRZpny7yMhtmoxaH7mOJ+Vknv3ouFPA2Vjnpcyvif9yWgzzvsrN2l8S3/Ku5l80g
PibjGAhzhWyPe4eVQCktJ4guaHYbE0ho7eZ/R9xr24UNSqVXHdKzus4uIVKd5XVk
G/fYkQsYsx8oPlJSZOx4T5DuF80quWYD7i8AYoeW3hfUFdknb2djElMFtKDF6Wmx
DIWF4V6/P0BFjrGWvw8gw1yAErHOcC4q7jLum5Mds4/nY1kKbQOkkmhjJS1qIaa/
4ta5VgECgYEA/PoMLxnll3lqRuu6BsnuPIV2xmWnvuWAK0QndrVeVQ4Tmmclg1rd
ZE+kwweyOpTzV+sGSE34gtbGJZOlK3KsIqkA7GADYOTvw0/5Izjt/WqiKCCDHxY+
trgki9BBPCvFUmJAiX9AtP1HecPNhDqeGVt/RFtk1o6ziLmjgbc1jwECgYEAuDkr
9Z8Li7pm4pohZjM94t/2h0T3Vr6cCNNmImCRyzkZX74Ti0t+ih4Ftez9UpO/FN5v
RFWyfDhY/1XIRiCwmPUCn70KZLyErxUqvMtKmIgtBouecJpg2TXdX2VB4Zo5HC6u
TdYcDlnU1FwW7ExJWZPoB9cBO6nokjpEqnBp/cECgYEApASO/77fn90lrcPKQfqM
jwrNXoasQtXTyrmOiKXA+o584T/9D3RLVG1a2uRThy3ptFf6I8kB1frgT56xmUDp
IDPJGHiL2De2yEBCvLZ9fy+y4SdrPC2VDazIbSniEdwjPG3dgAhUcMRCokz0I8ZJ
mRE8q5pB/+ZXus75lvGtNQECgYEArWpEE0bQG4wwZYcpgYci7npdGyC0pBdx0m0N
a7b0BxWM6S+IPkumpmV0grjADge+i+qHWxBAn+Z7AIDDsh/7nUCmY7AUJJfBXv7R
6D6FzegCWnL7howMNuwZoz8yMSh4MitPMT4n0uqFChJWEcIOGiC8/wRJyNw8bcoj
8T04yQECgYBiMItjSRnlr2hXafQJ57g36dg75H6EBPSvp/CnpUd5i6ZmGnCfWkhZ
0OKmK2IIuMape48G7LrDbp5mjlW1vGnXz6N+hJawqqr6/go5wzyNZN9wdGS/Gzgo
s7HZo/5K6VHlBnwXwk39QAXBlGVVuIV3UKX67PArmh+nRvJQKtdYMg==
-----END RSA PRIVATE KEY-----
";
    /// `openssl pkcs12 -export` (OpenSSL 3, AES) of the cert and key above, password `pfx-pass`.
    const TEST_PFX_B64: &str = concat!(
        "MIIJ3wIBAzCCCZUGCSqGSIb3DQEHAaCCCYYEggmCMIIJfjCCA/IGCSqGSIb3DQEHBqCCA+MwggPf",
        "AgEAMIID2AYJKoZIhvcNAQcBMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAikUopRJ0gQ",
        "oAICCAAwDAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEET+p5eh3kM9GxIO+eIjCZyAggNwpHey",
        "A2iGl4a3t0EmlF2OCT6xjviidk81O4gacs3DI6f5sPB38JjfgKRFk8NombPmQYtrY+907tQ5HYJF",
        "goHDrzNLVyfN5chyoh/m/CLZ3dS39L589xfbbMoF3wSw6JNDtkwqrSyDJaHaZ3rQl3nEwas7cU3Y",
        "VHNqc1jhfKF1YA3Zhnv2UYzyZX/wQuWfc1gqfQdW9cZHnoRn2tvHvtUHYF3qeIdMK+SMPuZz+Uow",
        "qdJsXioywhPuOS3qFEijLVKlJyItzlLVq/xNwbGjdAaVGN498irCDBkyJewSqj80n2Z3jJHXvgXu",
        "4lb3ugYpuC77uR9oW02HFO/YOqOc8dNnguvENRhEpWHRTlb+gnQNRjNRGSr/rdQStLWhD1ljx6nQ",
        "eqbhopwEFqSCGWbRU3bCuK6ulLTr84VzlWwf4Jcf7u9hwy4s+fITTISGSBfYu/onO/+4A8IImms7",
        "9ZdDbCT1DshF0VYwX8H8INghFBh7Vs1D3qfLhdycShKMISBuOU8v+5EgQzwq/7fQW9BzrsrQEjnz",
        "CT6SpPuQ2zqhR+6ipL8GcNMePle/T14WllkCilmTD3S3a2VHQ2ry0hGRE5MoA6q01M6setq4BnXl",
        "zUlHydA8DdXR8EYStcEuNTRcPh+i/3LyVKDHAq5QTpSihCkDX0foTTyP3cIxE2LfE5Ddvlud8HVb",
        "bm541TfetgPS7PkIW2XZzEiUdiT9nBgN9M3FzjJZZpBJspBqCukP5uy44SFPsQW18YvIjvtmXE1J",
        "vTRKxcpRqfxvVO94JPtzqJpzKf7w79VUwc9U8Eits4HJuSgrBFYgyOtltQdOM+39+E4O0KxOOsIN",
        "4jZGOrlfV/SJMCZUkQoTceghJjecK/CEjW1bEDghLg1kbXG+qRIhucMPQYry0r6/0eEWQSSI2FRe",
        "vqhdarlE8k+UnXbQAl9xFPYPFwYN+cImMo8pbQBUgmYXK7LWNmfVthNQjFgH53ZdeN4MGn2R94dc",
        "Se+YJwhrDkYyyAGAMCvYob8tdyG056h6/vCzBEyed98h/6zyZvJTYdEqzohvrjLFjPRqFuy5P1dZ",
        "mRRwazdp/DS6+cY7hPn142gh3TshtpDHQX/tZ6+YGpKZwuj8R4JVXR+jEt6j3Q5igMiUSX+ZKj7Y",
        "rMxDJ5p3N+1LQK/aQkx8tteFgvKx8DCCBYQGCSqGSIb3DQEHAaCCBXUEggVxMIIFbTCCBWkGCyqG",
        "SIb3DQEMCgECoIIFMTCCBS0wVwYJKoZIhvcNAQUNMEowKQYJKoZIhvcNAQUMMBwECEU+4JGLI0Zj",
        "AgIIADAMBggqhkiG9w0CCQUAMB0GCWCGSAFlAwQBKgQQmiaLSr+cr/GFquw9rQOiKgSCBNBf2zNc",
        "KROjd/UapDjC35lzHKPOz83lu78aqSheLjLZJnqUV7G38KvPe3o0/WYySw5Jxcy3gqkc+9IkJ0b2",
        "mQh4clqfq7W3ALyMEr0OLA1CCAzZ1J+AnJPieJGUWUKrKp8/W2CzNnD7rsg6ihHhbrWhbVH3d6Pb",
        "eHNSS1JWc0M795L9LpGXCefViluoL4teJPL5YwBvBMnkK3Qq6ZoCmRGq0mLSA6elorqgkttn8JCl",
        "lk/CwU0W0p54e+FF4gEK+rjY84idBRat2c0bt7HC/zgFQpTSGgbk2Hvf6iTHX/W0TCMq+ZKxI9K/",
        "6dhsZoe+aEwycN66lMJ2qZoDkasJfXUh8tqQxdoFTJE+w8/cnShgFsm1qxpRlF3ztTRML1YZRA/4",
        "iRO6YdoSXrlbqjeiAlz8tS1PjSFPXyBjXYlMvBgDpV4y0s9KSa3iP8ou1dhGuhcZMJVVxqnxle4G",
        "8fgZXWchvYCsqlghP17UFVgcEryBtW7PN7YprlPJrbJCUOFAtOyZ1jsTo6z5Rac/nCFBHM8SvRmo",
        "qAUfgKNthhmSfuEqrTv4n+8L2YgJ18M69rf6s4tsE5zXSsN3GqPB9hFLC3fjCjZ6l+8faMVq7TqQ",
        "zW1PqE23YtcZrw/tpzwdI+Pm2ALfwINH71z6pHkKmh9cTVIp/v9wNfT7Ekyqa5nbvPFSiwDvqT53",
        "61EUkZGvPGRCbHT+7Th6nha46e5IMO4uF9b0ps062EfltqCBiMvmR1+olD9geToKjLxq2YLzw5+l",
        "rTmVHh0Gi94+6Z5XUxVrhVoatjDRjVGm30TXqMZk0MH+W0zHH7CDRu5S8xXms1JpdUXmb/qBwdYU",
        "AiRo5VTde84PhZh591sqm5IjjgbdM26V11J0IdUPt64swo3nZY3AyCv7LLuaFI5rj8veyW7zh9R+",
        "x1FtFTDPbdmcbmSpYhJG6xvHxMoLI36iY6FUsZCBEfKRwyh3hXGeNW0rux3aIrVYWMqbMvbxM2Ig",
        "h6BKkJhA9WShr++Kec9tFZQJxT/zzKanV3g4k1Q2tVk68ctgviGSniAgyWSHFxuV6w+dfvU1XzFa",
        "+jXWuHsmzAX19GIzZMLyyXyFsNVGwSWSJ5UhvxeExskuvngkTj85X//bWC2Q40+MSQs8/LD4FrEW",
        "Ji2akP3UnVm8Z/Kkmv+e/jkPqPt9xz4yo2qNV2uC09EbcHmTcVWgal6up5FKQEgz47rdXj9QuPQ7",
        "ueJy3mTm8qsZvdObiIVJgcLPDUBy9qfxga7lfQY3Zo4+zleUSvoJS0FRXQvn6AmDgjtkc6ns54Ge",
        "2/aMQuRjhY2N+uIQDbKPZWsf9CpW+x3NbodPt0+NhdxRUdBIi7sTG+MRLBrzop/YqEUjWrmJJCmm",
        "HNQktn96cFZvGC9QW9KZ45qJOsYCMZPE9/nnMab+t8spZM+Fr1SxWx7RTbJHQzcDWfHnaxb0tHMG",
        "N3ui972hLomCgXxCsTR7Kr+tf+S4Hcow7xBD//VMfFwWnN68DvBm47d/GnHfDpaUmsXWLxN3QL/H",
        "vZIeQd9C6Ir9PfnzEp3KT43c++OnOW3qyS5Qet/Y9dmM1kE3dOWL1xCpOnuPGICDP9H3asFilO+H",
        "dqx+sO7O28fcvdk8ldA2yxUngJn5cz8dN1HQopMlATElMCMGCSqGSIb3DQEJFTEWBBSCDBCDtfTN",
        "IPOaDVsp+1KaRX8RnjBBMDEwDQYJYIZIAWUDBAIBBQAEICaumNcA5d9d8SC4a765QwLzFHdk9Iy2",
        "kHw0pUsS9QNMBAj71OhZHx/aWQICCAA=",
    );
    const TEST_PUBLIC_KEY_PEM: &str = r"-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAtgw330meEc8WqLBoKIGZ
QeBR7mXHCLlbHgHkh3hxYHB4smb+dOCVGBgAdHaePUiWU2HDV9zPihCiMGcAxiGF
hQkW+aJvoELqsUasPqq+pKuJodKzHD/xsB5E8HXvJ/WZB6+v+H2A0A3DX/sV+90L
A+JfPB2ZKZjHZC+FDUlcd017HJcC0U360y0VJ/rHyPwQNiiGq/0LR37Jm3Zlp2zn
jM/und/b5zH7I9LQHXsRm+d8DGDeI5sirT0XEjZWbyJHC3Ywfcz7XgU0kghjlJn3
czfz/t3gAUxOXaiYbYTJWO8mcC3tn9t+evXrgf5CJRN0mrnCFZ7+p402rkUNJR3M
wQIDAQAB
-----END PUBLIC KEY-----
";
    /// `x5t#S256` of TEST_CERT_PEM, computed with `openssl x509 -outform der | openssl dgst -sha256`.
    const TEST_CERT_S256: &str = "CqIX6PNwqrYchzFL2BvQKOYXQuTCReqCMVqSi_4G4JM";

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    fn graph() -> Audience {
        Audience::new("https://graph.microsoft.com")
    }

    fn secret_credential(tenant: &str) -> Credential {
        Credential::ClientSecret {
            tenant: tenant.into(),
            client_id: "app-1".into(),
            secret: SecretString::from(SECRET),
        }
    }

    fn test_cert() -> ClientCertificate {
        let pem = format!("{TEST_KEY_PKCS8_PEM}{TEST_CERT_PEM}");
        ClientCertificate::from_pem(pem.as_bytes(), "test.pem").unwrap()
    }

    #[test]
    fn default_method_follows_the_azure_sdk_variables() {
        let c = Credential::from_lookup(
            None,
            None,
            env(&[
                ("AZURE_TENANT_ID", "t"),
                ("AZURE_CLIENT_ID", "c"),
                ("AZURE_CLIENT_SECRET", SECRET),
            ]),
        )
        .unwrap();
        assert_eq!(c.method(), AuthMethod::ClientSecret);
        assert_eq!(c.tenant(), Some("t"));

        let c = Credential::from_lookup(None, Some("contoso.com"), env(&[])).unwrap();
        assert_eq!(c.method(), AuthMethod::AzureCli);
        assert_eq!(c.tenant(), Some("contoso.com"));

        // A secret without a client id is not enough for app-only sign-in.
        let c = Credential::from_lookup(
            None,
            None,
            env(&[("AZURE_TENANT_ID", "t"), ("AZURE_CLIENT_SECRET", SECRET)]),
        )
        .unwrap();
        assert_eq!(c.method(), AuthMethod::AzureCli);

        let c = Credential::from_lookup(Some(AuthMethod::DeviceCode), None, env(&[])).unwrap();
        assert_eq!(c.tenant(), Some("organizations"));
        assert_eq!(c.client_id(), Some(AZURE_CLI_CLIENT_ID));
    }

    #[test]
    fn default_method_picks_certificate_when_its_path_is_set() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.pem");
        std::fs::write(&path, format!("{TEST_CERT_PEM}{TEST_KEY_PKCS1_PEM}")).unwrap();
        let path = path.to_str().unwrap().to_string();
        let c = Credential::from_lookup(
            None,
            Some("contoso.onmicrosoft.com"),
            env(&[
                ("AZURE_CLIENT_ID", "c"),
                ("AZURE_CLIENT_CERTIFICATE_PATH", path.as_str()),
            ]),
        )
        .unwrap();
        assert_eq!(c.method(), AuthMethod::ClientCertificate);
        assert_eq!(c.tenant(), Some("contoso.onmicrosoft.com"));
    }

    #[test]
    fn explicit_method_names_missing_variables() {
        let err = Credential::from_lookup(
            Some(AuthMethod::ClientSecret),
            None,
            env(&[("AZURE_CLIENT_ID", "c")]),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "--auth client-secret needs AZURE_TENANT_ID (or --tenant), AZURE_CLIENT_SECRET"
        );
        let err = Credential::from_lookup(
            Some(AuthMethod::ClientCertificate),
            Some("t"),
            env(&[
                ("AZURE_CLIENT_ID", "c"),
                ("AZURE_CLIENT_CERTIFICATE_PATH", "/nonexistent/x.pem"),
            ]),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("client certificate /nonexistent/x.pem: cannot read it"),
            "{err}"
        );
    }

    #[test]
    fn pem_certificate_in_pkcs8_and_pkcs1_forms() {
        let a = test_cert();
        assert_eq!(a.x5t_s256(), TEST_CERT_S256);
        let pkcs1 = format!("{TEST_CERT_PEM}{TEST_KEY_PKCS1_PEM}");
        let b = ClientCertificate::from_pem(pkcs1.as_bytes(), "b.pem").unwrap();
        assert_eq!(b.x5t(), a.x5t());
        assert_eq!(b.x5t().len(), 27, "base64url SHA-1 without padding");
    }

    /// A 1024-bit key, generated for this test only (`openssl req -x509 -newkey rsa:1024`).
    const TEST_1024_PEM: &str = r"-----BEGIN CERTIFICATE-----
MIICFjCCAX+gAwIBAgIUL6nnGlGGKq03yqQohvru62VfV8AwDQYJKoZIhvcNAQEL
BQAwHDEaMBgGA1UEAwwRY2NhdWRpdC10ZXN0LTEwMjQwIBcNMjYxMjAyMTUyMjU3
WhgPMjEyNjExMDgxNTIyNTdaMBwxGjAYBgNVBAMMEWNjYXVkaXQtdGVzdC0xMDI0
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQCUFvQzVMG2TaYOHEKq3rA49YjM
VSktgVd2VrRusK5a6w585XDaVqWUM+6xO4Tb6w1T0ww4xPYAMV7CyT8s2lXRZJwL
/xA8Q1Hp4bFOajYjN/4I+c0ekQvOBEkLU0W7xQv3UyPvnKBc0RH0mKrKVScjg4FU
yuwuYn3NSD355SO8/wIDAQABo1MwUTAdBgNVHQ4EFgQU8r5njRpOZa1oARBW6jRo
WZjAFkYwHwYDVR0jBBgwFoAU8r5njRpOZa1oARBW6jRoWZjAFkYwDwYDVR0TAQH/
BAUwAwEB/zANBgkqhkiG9w0BAQsFAAOBgQCJo48iOrAV+ckHsC6DslusxjzFrzIy
04but9X3ZV3GTtIb52dNh1x4UJiOckegmYDjCvg1gxMi9T8cyvIe0wsuaFJcUbfy
oDn2wIOL7Mm405FAsiCAQXMj6q26sFkVeIDuttoWmrgCegzTYGlFMW84mJluUWMT
brf3wjBqf6hPSA==
-----END CERTIFICATE-----
-----BEGIN PRIVATE KEY-----
MIICdwIBADANBgkqhkiG9w0BAQEFAASCAmEwggJdAgEAAoGBAJQW9DNUwbZNpg4c
QqresDj1iMxVKS2BV3ZWtG6wrlrrDnzlcNpWpZQz7rE7hNvrDVPTDDjE9gAxXsLJ
PyzaVdFknAv/EDxDUenhsU5qNiM3/gj5zR6RC84ESQtTRbvFC/dTI++coFzREfSY
qspVJyODgVTK7C5ifc1IPfnlI7z/AgMBAAECgYEAhqyZSFU8FV5oNUzeFCaQfDxP
PAP2fruxnp0bWc6zwVsiwdKm3ukNi8nuuJ84JAePBzxXUQlN7r73Po1mNpQYlgKU
EuZ9k+y1nveQidlVJoLSe+oLsWsYP9uTBpfUDlWS5feIRcCWVPj0WYZkZHIzjzSS
YmMkJQMZUkaGTjJVMQECQQDDVU54h9Om2S9h60i9jYxHQIp8nT2i0Ef/7+hTc1kP
w4/wo8SYc89Xi0mojNlsP/+JS/XDn6qVZcKMj7voEU95AkEAwhVfU74+gecegX5n
ojd4Hg9ZzgshXYZ0i2FOP9Pe/XBIjR4b/wlXdcZdcF3PAAddzwrejt1rpcpcGp8a
Nux6NwJBAIELOmwmT41KriLibYvMl3/7A4KP3shRET/kHngDHDNt3wn7J0YQPEp5
mo/ffUQmg4sQw6wZL3jDYWO7EUifJwECQGFTFlqILBA4NbP6Dz3pUvK//+iy7Cha
JFdAlFytgkTU6YzabG+X36PPtUuDvynkh8YrTS+XGUQqFcXDwwGH1EECQFj2pbpW
4cmspIf/LjaCORY5PSmcdyNY2MwK57WfqK4BjgwZeCbnzFeC6QyL/O1tUQ3qce44
467d+SxcMw4I4Rc=
-----END PRIVATE KEY-----
";

    #[test]
    fn a_key_too_short_to_sign_is_refused_when_loaded() {
        let err = ClientCertificate::from_pem(TEST_1024_PEM.as_bytes(), "short.pem")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("client certificate short.pem: the private key cannot sign (")
                && err.ends_with("keys of 2048 to 4096 bits"),
            "{err}"
        );
    }

    #[test]
    fn pem_errors_are_specific() {
        let err = ClientCertificate::from_pem(TEST_CERT_PEM.as_bytes(), "c.pem").unwrap_err();
        assert!(err.to_string().contains("no PRIVATE KEY block"), "{err}");
        let err = ClientCertificate::from_pem(TEST_KEY_PKCS8_PEM.as_bytes(), "k.pem").unwrap_err();
        assert!(err.to_string().contains("no CERTIFICATE block"), "{err}");
        let enc = format!(
            "{TEST_CERT_PEM}-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"
        );
        let err = ClientCertificate::from_pem(enc.as_bytes(), "e.pem").unwrap_err();
        assert!(err.to_string().contains("encrypted"), "{err}");
    }

    #[test]
    fn pfx_from_openssl_with_password() {
        let der = base64::engine::general_purpose::STANDARD
            .decode(TEST_PFX_B64)
            .unwrap();
        let c = ClientCertificate::from_pfx(&der, "pfx-pass", "t.pfx").unwrap();
        assert_eq!(c.x5t_s256(), TEST_CERT_S256);
        let err = ClientCertificate::from_pfx(&der, "wrong", "t.pfx").unwrap_err();
        assert!(
            err.to_string()
                .contains("AZURE_CLIENT_CERTIFICATE_PASSWORD"),
            "{err}"
        );

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.pfx");
        std::fs::write(&path, &der).unwrap();
        let c = ClientCertificate::from_file(&path, Some(&SecretString::from("pfx-pass"))).unwrap();
        assert_eq!(c.x5t_s256(), TEST_CERT_S256);
    }

    #[test]
    fn client_assertion_has_thumbprints_and_claims() {
        let cert = test_cert();
        let aud = "https://login.microsoftonline.com/t/oauth2/v2.0/token";
        let jwt = cert.assertion("app-1", aud, SystemTime::now()).unwrap();
        let header = jwt_part(jwt.expose_secret(), 0);
        assert_eq!(header["alg"], "PS256");
        assert_eq!(header["typ"], "JWT");
        assert_eq!(header["x5t#S256"], TEST_CERT_S256);
        assert_eq!(header["x5t"], cert.x5t());
        let claims = jwt_part(jwt.expose_secret(), 1);
        assert_eq!(claims["aud"], aud);
        assert_eq!(claims["iss"], "app-1");
        assert_eq!(claims["sub"], "app-1");
        assert!(uuid::Uuid::parse_str(claims["jti"].as_str().unwrap()).is_ok());
        let (nbf, iat, exp) = (
            claims["nbf"].as_u64().unwrap(),
            claims["iat"].as_u64().unwrap(),
            claims["exp"].as_u64().unwrap(),
        );
        assert_eq!(nbf, iat);
        assert_eq!(exp - iat, ASSERTION_LIFETIME);
        // The signature verifies against the certificate's public key (PS256), and only
        // over what was signed.
        let spki = rustls_pki_types::SubjectPublicKeyInfoDer::from_pem_slice(
            TEST_PUBLIC_KEY_PEM.as_bytes(),
        )
        .unwrap();
        let (_, info, _) = der_tlv(spki.as_ref()).unwrap();
        let (_, _algorithm, rest) = der_tlv(info).unwrap();
        let (tag, bits, _) = der_tlv(rest).unwrap();
        assert_eq!(
            (tag, bits[0]),
            (0x03, 0),
            "a BIT STRING with no unused bits"
        );
        let public = ring::signature::UnparsedPublicKey::new(
            &ring::signature::RSA_PSS_2048_8192_SHA256,
            &bits[1..],
        );
        let (signed, signature) = jwt.expose_secret().rsplit_once('.').unwrap();
        let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
        public.verify(signed.as_bytes(), &signature).unwrap();
        let tampered = signed.replacen('e', "f", 1);
        assert!(public.verify(tampered.as_bytes(), &signature).is_err());
    }

    /// The JSON of part `n` of a compact JWT (0 header, 1 claims).
    fn jwt_part(jwt: &str, n: usize) -> Value {
        let part = jwt.split('.').nth(n).unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    #[test]
    fn aadsts_bodies_become_one_line() {
        let ctx = Ctx {
            client_id: Some("11111111-aaaa"),
            tenant: Some("contoso.onmicrosoft.com"),
            audience: &graph(),
        };
        let e = refusal(
            "invalid_client",
            "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.\r\nTrace ID: 0b7f4c1e-1111\r\nCorrelation ID: 55137716\r\nTimestamp: 2026-11-27 05:22:03Z",
            Some(7000215),
            &ctx,
        );
        let msg = e.to_string();
        assert!(
            msg.starts_with("AADSTS7000215: invalid client secret for app 11111111-aaaa"),
            "{msg}"
        );
        assert!(!msg.contains("Trace") && !msg.contains('\n'));
        assert_eq!(e.code().as_deref(), Some("AADSTS7000215"));

        let e = refusal(
            "invalid_request",
            "AADSTS1234567: Something odd happened. More detail here.\r\nTrace ID: x",
            None,
            &ctx,
        );
        assert_eq!(e.to_string(), "AADSTS1234567: Something odd happened.");

        let e = refusal("invalid_grant", "", None, &ctx);
        assert_eq!(
            e.to_string(),
            "invalid_grant: invalid_grant from the token endpoint"
        );
        assert_eq!(e.code().as_deref(), Some("invalid_grant"));

        let e = refusal(
            "unauthorized_client",
            "AADSTS700016: Application with identifier 'x' was not found in the directory 'Contoso'. This can happen if …\r\nTrace ID: t",
            Some(700016),
            &ctx,
        );
        assert_eq!(
            e.to_string(),
            "AADSTS700016: app 11111111-aaaa was not found in tenant contoso.onmicrosoft.com; check AZURE_CLIENT_ID and the tenant"
        );
    }

    fn token_reply(token: &str, expires_in: u64) -> Reply {
        Reply::json(
            200,
            json!({"token_type":"Bearer","expires_in":expires_in,"access_token":token}),
        )
    }

    #[tokio::test]
    async fn client_secret_token_is_cached_and_coalesced() {
        let calls = Arc::new(AtomicUsize::new(0));
        let c2 = calls.clone();
        let server = loopback::serve(move |req| {
            c2.fetch_add(1, Ordering::SeqCst);
            assert_eq!(req.method, "POST");
            assert_eq!(req.path, "/login/tid/oauth2/v2.0/token");
            let body = String::from_utf8_lossy(&req.body).to_string();
            assert!(body.contains("grant_type=client_credentials"));
            assert!(body.contains("scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"));
            assert!(body.contains(&format!("client_secret={SECRET}")));
            std::thread::sleep(Duration::from_millis(50));
            token_reply(TOKEN, 3600)
        })
        .await;
        let provider =
            Arc::new(TokenProvider::new(secret_credential("tid"), &server.url("/login")).unwrap());
        let mut handles = Vec::new();
        for _ in 0..8 {
            let p = provider.clone();
            handles.push(tokio::spawn(async move { p.token(&graph()).await }));
        }
        for h in handles {
            assert_eq!(h.await.unwrap().unwrap().expose_secret(), TOKEN);
        }
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "one sign-in for 8 concurrent requests"
        );
        provider.invalidate(&graph()).await;
        provider.token(&graph()).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    /// A token endpoint that takes the connection and never answers in time: one request, an
    /// error naming login, its timeout and the flag; later sign-ins, for any audience, fail
    /// with it at once without another request.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_unresponsive_token_endpoint_is_asked_once() {
        let calls = Arc::new(AtomicUsize::new(0));
        let c2 = calls.clone();
        let server = loopback::serve(move |_| {
            c2.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(Duration::from_secs(1));
            token_reply(TOKEN, 3600)
        })
        .await;
        let timeout = Timeout {
            connect: Duration::from_secs(5),
            request: Duration::from_millis(200),
        };
        let provider = TokenProvider::new(secret_credential("tid"), &server.url("/login"))
            .unwrap()
            .with_timeout(timeout)
            .unwrap();
        let started = Instant::now();
        let e = provider.token(&graph()).await.unwrap_err().to_string();
        assert!(e.starts_with("POST 127.0.0.1:"), "{e}");
        assert!(
            e.ends_with(
                "/login/tid/oauth2/v2.0/token: no answer from login within 0.2 s (--timeout login=SECS waits longer)"
            ),
            "{e}"
        );
        let other = Audience::new("https://management.azure.com");
        assert_eq!(provider.token(&other).await.unwrap_err().to_string(), e);
        assert_eq!(provider.token(&graph()).await.unwrap_err().to_string(), e);
        assert_eq!(calls.load(Ordering::SeqCst), 1, "asked once");
        assert!(started.elapsed() < Duration::from_millis(900));
        assert!(!provider.signing_in());
    }

    #[tokio::test]
    async fn token_close_to_expiry_is_refetched() {
        let calls = Arc::new(AtomicUsize::new(0));
        let c2 = calls.clone();
        let server = loopback::serve(move |_| {
            c2.fetch_add(1, Ordering::SeqCst);
            token_reply(TOKEN, 200) // under the 5-minute margin
        })
        .await;
        let provider = TokenProvider::new(secret_credential("tid"), &server.url("/login")).unwrap();
        provider.token(&graph()).await.unwrap();
        provider.token(&graph()).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn token_endpoint_errors_are_one_line_and_cached() {
        let calls = Arc::new(AtomicUsize::new(0));
        let c2 = calls.clone();
        let server = loopback::serve(move |_| {
            c2.fetch_add(1, Ordering::SeqCst);
            Reply::json(
                401,
                json!({
                    "error":"invalid_client",
                    "error_description":"AADSTS7000215: Invalid client secret provided. Ensure…\r\nTrace ID: abc\r\nCorrelation ID: def",
                    "error_codes":[7000215],
                    "trace_id":"abc"
                }),
            )
        })
        .await;
        let provider = TokenProvider::new(secret_credential("tid"), &server.url("/login")).unwrap();
        let err = provider.token(&graph()).await.unwrap_err();
        assert!(
            err.to_string()
                .starts_with("AADSTS7000215: invalid client secret for app app-1")
        );
        let again = provider.token(&graph()).await.unwrap_err();
        assert_eq!(err, again);
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "a refusal is not retried per request"
        );
    }

    #[tokio::test]
    async fn html_from_token_endpoint_is_clear() {
        let server = loopback::serve(|_| {
            Reply::text(502, "text/html", "<html><body>Bad gateway</body></html>")
        })
        .await;
        let mut provider =
            TokenProvider::new(secret_credential("tid"), &server.url("/login")).unwrap();
        provider.backoff_base = Duration::from_millis(1);
        let err = provider.token(&graph()).await.unwrap_err().to_string();
        assert!(
            err.contains("HTML error page instead of JSON (HTTP 502)"),
            "{err}"
        );
        assert!(err.starts_with("POST 127.0.0.1:"), "{err}");
    }

    #[tokio::test]
    async fn client_certificate_posts_an_assertion() {
        let server = loopback::serve(|req| {
            let body = String::from_utf8_lossy(&req.body).to_string();
            let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
                .into_owned()
                .collect();
            assert_eq!(form["client_assertion_type"], JWT_BEARER);
            assert!(!form.contains_key("client_secret"));
            let header = jwt_part(&form["client_assertion"], 0);
            assert_eq!(header["x5t#S256"], TEST_CERT_S256);
            token_reply(TOKEN, 3600)
        })
        .await;
        let cred = Credential::ClientCertificate {
            tenant: "tid".into(),
            client_id: "app-1".into(),
            certificate: test_cert(),
        };
        let provider = TokenProvider::new(cred, &server.url("/login")).unwrap();
        assert_eq!(
            provider.token(&graph()).await.unwrap().expose_secret(),
            TOKEN
        );
    }

    #[tokio::test]
    async fn device_code_polls_pending_slow_down_then_refreshes_other_audiences() {
        let polls = Arc::new(AtomicUsize::new(0));
        let p2 = polls.clone();
        let server = loopback::serve(move |req| {
            let body = String::from_utf8_lossy(&req.body).to_string();
            if req.path.ends_with("/devicecode") {
                assert!(body.contains("offline_access"));
                return Reply::json(
                    200,
                    json!({"user_code":"ABCD","device_code":"dc-secret","verification_uri":"https://microsoft.com/devicelogin","expires_in":900,"interval":1,"message":"To sign in, enter ABCD"}),
                );
            }
            if body.contains("grant_type=refresh_token") {
                assert!(body.contains("refresh_token=rt-1"));
                assert!(body.contains("48ac35b8"));
                return Reply::json(
                    200,
                    json!({"access_token":"teams-token","expires_in":3600,"refresh_token":"rt-2"}),
                );
            }
            let n = p2.fetch_add(1, Ordering::SeqCst);
            match n {
                0 => Reply::json(400, json!({"error":"authorization_pending","error_description":"AADSTS70016: pending"})),
                1 => Reply::json(400, json!({"error":"slow_down"})),
                _ => Reply::json(
                    200,
                    json!({"access_token":TOKEN,"expires_in":3600,"refresh_token":"rt-1"}),
                ),
            }
        })
        .await;
        let prompts = Arc::new(Mutex::new(Vec::<String>::new()));
        let pr = prompts.clone();
        let cred = Credential::DeviceCode {
            tenant: "organizations".into(),
            client_id: AZURE_CLI_CLIENT_ID.into(),
        };
        let mut provider = TokenProvider::new(cred, &server.url("/login"))
            .unwrap()
            .with_prompt(move |m| pr.lock().unwrap().push(m.to_string()));
        provider.poll_unit = Duration::from_millis(5);
        let started = Instant::now();
        assert_eq!(
            provider.token(&graph()).await.unwrap().expose_secret(),
            TOKEN
        );
        // interval 1, then 1, then 6 after slow_down: at least 8 poll units.
        assert!(started.elapsed() >= Duration::from_millis(40));
        assert_eq!(
            *prompts.lock().unwrap(),
            vec!["To sign in, enter ABCD".to_string()]
        );
        let teams = Audience::new(crate::sources::endpoints::TEAMS_ADMIN_API_RESOURCE);
        assert_eq!(
            provider.token(&teams).await.unwrap().expose_secret(),
            "teams-token"
        );
        assert_eq!(polls.load(Ordering::SeqCst), 3);
        assert_eq!(prompts.lock().unwrap().len(), 1, "one prompt per run");
    }

    #[tokio::test]
    async fn device_code_declined_and_expired() {
        for (error, expect) in [
            ("authorization_declined", "sign-in was declined"),
            ("expired_token", "the code expired"),
        ] {
            let server = loopback::serve(move |req| {
                if req.path.ends_with("/devicecode") {
                    return Reply::json(
                        200,
                        json!({"user_code":"A","device_code":"d","verification_uri":"u","expires_in":900,"interval":1}),
                    );
                }
                Reply::json(400, json!({"error":error}))
            })
            .await;
            let cred = Credential::DeviceCode {
                tenant: "organizations".into(),
                client_id: "c".into(),
            };
            let mut provider = TokenProvider::new(cred, &server.url("/login"))
                .unwrap()
                .with_prompt(|_| {});
            provider.poll_unit = Duration::from_millis(1);
            let err = provider.token(&graph()).await.unwrap_err().to_string();
            assert!(err.starts_with("device-code sign-in: "), "{err}");
            assert!(err.contains(expect), "{err}");
        }
    }

    #[cfg(unix)]
    fn fake_az(dir: &Path, script: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join("az");
        std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn azure_cli_token_with_resource_and_tenant() {
        let dir = tempfile::tempdir().unwrap();
        let args_file = dir.path().join("args");
        let az = fake_az(
            dir.path(),
            &format!(
                "echo \"$@\" > {}\necho '{{\"accessToken\":\"{TOKEN}\",\"expiresOn\":\"2030-01-01 00:00:00.000000\",\"expires_on\":4102444800,\"tokenType\":\"Bearer\"}}'",
                args_file.display()
            ),
        );
        az_gets_its_arguments_and_answers(az, &args_file).await;
    }

    /// `az` (a script or batch file that writes its arguments to `args_file` and prints a
    /// token) is asked for the Teams audience in the given tenant, and its token is used.
    async fn az_gets_its_arguments_and_answers(az: PathBuf, args_file: &Path) {
        let cred = Credential::AzureCli {
            tenant: Some("contoso.onmicrosoft.com".into()),
            program: az,
        };
        let provider = TokenProvider::new(
            cred,
            &Url::parse("https://login.microsoftonline.com").unwrap(),
        )
        .unwrap();
        let teams = Audience::new(crate::sources::endpoints::TEAMS_ADMIN_API_RESOURCE);
        assert_eq!(provider.token(&teams).await.unwrap().expose_secret(), TOKEN);
        let args = std::fs::read_to_string(args_file).unwrap();
        assert_eq!(
            args.trim(),
            "account get-access-token --resource 48ac35b8-9aa8-4d74-927d-1f4a14a0b239 -o json --tenant contoso.onmicrosoft.com"
        );
    }

    /// `az` (a script or a batch file) that fails with an expired refresh token: the error is
    /// one line, naming the fix.
    async fn az_expired_refresh_token_is_one_line(az: PathBuf) {
        let cred = Credential::AzureCli {
            tenant: Some("t1".into()),
            program: az,
        };
        let login = Url::parse("https://login.microsoftonline.com").unwrap();
        let provider = TokenProvider::new(cred, &login).unwrap();
        let err = provider.token(&graph()).await.unwrap_err().to_string();
        assert_eq!(
            err,
            "az: AADSTS70043: The refresh token has expired; run `az login --tenant t1`"
        );
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn azure_cli_failure_and_absence_are_one_line() {
        let dir = tempfile::tempdir().unwrap();
        let az = fake_az(
            dir.path(),
            "echo 'WARNING: something' >&2\necho \"ERROR: AADSTS70043: The refresh token has expired.\" >&2\nexit 1",
        );
        az_expired_refresh_token_is_one_line(az).await;
        let login = Url::parse("https://login.microsoftonline.com").unwrap();
        let cred = Credential::AzureCli {
            tenant: None,
            program: dir.path().join("no-such-az"),
        };
        let provider = TokenProvider::new(cred, &login).unwrap();
        let err = provider.token(&graph()).await.unwrap_err().to_string();
        assert_eq!(
            err,
            "Azure CLI not found: install it or use --auth client-secret"
        );
    }

    /// A batch file standing in for `az.cmd`: what Windows runs (through cmd.exe).
    #[cfg(windows)]
    fn fake_az_cmd(dir: &Path, script: &str) -> PathBuf {
        let path = dir.join("az.cmd");
        std::fs::write(&path, format!("@echo off\r\n{script}\r\n")).unwrap();
        path
    }

    #[cfg(windows)]
    #[tokio::test]
    async fn azure_cli_as_a_batch_file_gets_its_arguments_and_answers() {
        let dir = tempfile::tempdir().unwrap();
        let args_file = dir.path().join("args");
        let az = fake_az_cmd(
            dir.path(),
            &format!(
                "echo %*> \"{}\"\r\necho {{\"accessToken\":\"{TOKEN}\",\"expires_on\":4102444800}}",
                args_file.display()
            ),
        );
        az_gets_its_arguments_and_answers(az, &args_file).await;
    }

    #[cfg(windows)]
    #[tokio::test]
    async fn azure_cli_batch_file_failure_is_one_line() {
        let dir = tempfile::tempdir().unwrap();
        let az = fake_az_cmd(
            dir.path(),
            "echo ERROR: AADSTS70043: The refresh token has expired. 1>&2\r\nexit /b 1",
        );
        az_expired_refresh_token_is_one_line(az).await;
    }

    #[test]
    fn an_az_refusal_keeps_the_token_endpoints_code() {
        let failed = |detail: &str| AuthError::AzCliFailed {
            detail: detail.into(),
            login: "az login".into(),
        };
        let e = failed(
            "AADSTS65002: Consent between first party application '04b07795-8ddb-461a-bbee-02f9e1bf7b46' and first party resource '48ac35b8-9aa8-4d74-927d-1f4a14a0b239' must be configured via preauthorization",
        );
        assert_eq!(e.code().as_deref(), Some("AADSTS65002"));
        assert_eq!(
            failed("Please run 'az login' to setup account")
                .code()
                .as_deref(),
            Some("AzureCli")
        );
    }

    #[test]
    fn a_credential_says_how_it_signs_in() {
        use crate::sign_in::{SignInClient, SignInMethod};
        let person = Credential::DeviceCode {
            tenant: "t".into(),
            client_id: AZURE_CLI_CLIENT_ID.into(),
        };
        assert_eq!(person.sign_in().method, SignInMethod::DeviceCode);
        assert_eq!(person.sign_in().client, SignInClient::AzureCli);
        let own = Credential::DeviceCode {
            tenant: "t".into(),
            client_id: "own".into(),
        };
        assert_eq!(own.sign_in().client, SignInClient::OwnApp);
        assert!(!secret_credential("t").sign_in().is_person());
    }

    #[test]
    fn az_output_expiry_forms() {
        let now = SystemTime::now();
        let t = parse_az_output(br#"{"accessToken":"x","expires_on":"1795674123"}"#, now).unwrap();
        assert_eq!(
            t.expires_at,
            UNIX_EPOCH + Duration::from_secs(1_795_674_123)
        );
        // Old CLI: only the local-time expiresOn; the JWT's exp claim is used.
        let payload = URL_SAFE_NO_PAD.encode(br#"{"exp":1795674000,"aud":"x"}"#);
        let jwt = format!("e30.{payload}.sig");
        let out = format!(r#"{{"accessToken":"{jwt}","expiresOn":"2026-11-27 06:22:03.000000"}}"#);
        let t = parse_az_output(out.as_bytes(), now).unwrap();
        assert_eq!(
            t.expires_at,
            UNIX_EPOCH + Duration::from_secs(1_795_674_000)
        );
        // Neither: short-lived, re-read soon.
        let t = parse_az_output(br#"{"accessToken":"opaque","expiresOn":"x"}"#, now).unwrap();
        assert!(t.fresh(now) && !t.fresh(now + Duration::from_secs(120)));
        assert!(parse_az_output(b"Please run 'az login'", now).is_err());
        assert!(parse_az_output(br#"{"tokenType":"Bearer"}"#, now).is_err());
    }

    /// Every Debug and Display this module can produce, for a known secret and token: neither
    /// may appear.
    #[tokio::test]
    async fn secrets_and_tokens_never_printed() {
        let mut outputs = Vec::new();
        let cred = secret_credential("tid");
        outputs.push(format!("{cred:?}"));
        let cert_cred = Credential::ClientCertificate {
            tenant: "t".into(),
            client_id: "c".into(),
            certificate: test_cert(),
        };
        outputs.push(format!("{cert_cred:?}"));
        let assertion = test_cert()
            .assertion("c", "aud", SystemTime::now())
            .unwrap();
        outputs.push(format!("{assertion:?}"));
        let cached = CachedToken {
            token: SecretString::from(TOKEN),
            expires_at: SystemTime::now(),
        };
        outputs.push(format!("{:?}", cached.token));

        let server = loopback::serve(|_| {
            Reply::json(
                401,
                json!({"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215]}),
            )
        })
        .await;
        let provider = TokenProvider::new(cred, &server.url("/login")).unwrap();
        outputs.push(format!("{provider:?}"));
        let err = provider.token(&graph()).await.unwrap_err();
        outputs.push(format!("{err}"));
        outputs.push(format!("{err:?}"));
        for e in [
            AuthError::AzCliNotFound,
            AuthError::Config("x".into()),
            AuthError::DeviceCode("y".into()),
        ] {
            outputs.push(format!("{e} {e:?}"));
        }
        let pem = format!("{TEST_KEY_PKCS8_PEM}{TEST_CERT_PEM}");
        let key_body: String = TEST_KEY_PKCS8_PEM.lines().nth(1).unwrap().to_string();
        let c = ClientCertificate::from_pem(pem.as_bytes(), "x").unwrap();
        outputs.push(format!("{c:?}"));
        for out in &outputs {
            assert!(!out.contains(SECRET), "secret in {out}");
            assert!(!out.contains(TOKEN), "token in {out}");
            assert!(!out.contains(&key_body), "private key in {out}");
            assert!(
                !out.contains(assertion.expose_secret()),
                "assertion in {out}"
            );
        }
    }

    #[test]
    fn a_huge_token_lifetime_is_capped_not_a_panic() {
        let url = Url::parse("https://login.microsoftonline.com/t/oauth2/v2.0/token").unwrap();
        let body = json!({"access_token": "t", "expires_in": u64::MAX});
        let (token, _) = parse_token_response(&body, &url).expect("a token");
        let left = token
            .expires_at
            .duration_since(SystemTime::now())
            .unwrap_or_default();
        assert!(
            left <= Duration::from_secs(MAX_TOKEN_LIFETIME_SECS),
            "{left:?}"
        );
    }
}
