//! Where each service lives: the per-cloud host table (apis.md 0.1), endpoint overrides, and
//! the token audience of each service.
//!
//! Overrides exist for tests, proxies and the fake tenant: `--endpoint graph=http://127.0.0.1:8080/graph`
//! or `CCAUDIT_ENDPOINT_GRAPH=...`. An override may be plain http and may carry a path prefix,
//! which [`join`] never drops. Audiences always stay the real cloud's strings, so a token
//! requested through an overridden login host still names the real resource (the fake maps them).

use std::fmt;
use std::str::FromStr;

use url::Url;

/// A Microsoft cloud: selects every default host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Cloud {
    /// Commercial (worldwide).
    Public,
    /// US Government Community Cloud (moderate): commercial hosts, `crm9` Dataverse.
    Gcc,
    /// US Government L4.
    GccHigh,
    /// US Government L5 (DoD).
    Dod,
    /// China, operated by 21Vianet.
    China,
}

/// The default hosts of one cloud.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloudHosts {
    pub login: &'static str,
    pub graph: &'static str,
    pub teams: &'static str,
    pub arm: &'static str,
    pub compliance: &'static str,
    /// The Power Platform admin API (BAP), where the Dataverse environment is found when
    /// `--dataverse-url` is not given.
    pub powerplatform: &'static str,
    /// Its token resource (the PowerApps service).
    pub powerplatform_resource: &'static str,
    /// Dataverse org hosts are `{org}.{dataverse_suffix}`.
    pub dataverse_suffix: &'static str,
    /// The S&C front door answers `InvokeCommand` with a 302 to
    /// `https://{region}.{compliance_redirect}:446/…`, a back end not reachable from outside;
    /// the working client re-sends to `{region}.{compliance}` (apis.md A.10). `None` where no
    /// public source shows the redirect (the national clouds): there it is refused.
    pub compliance_redirect: Option<&'static str>,
}

impl Cloud {
    pub const ALL: [Cloud; 5] = [
        Cloud::Public,
        Cloud::Gcc,
        Cloud::GccHigh,
        Cloud::Dod,
        Cloud::China,
    ];

    /// The name used on the command line and in snapshots.
    pub fn as_str(self) -> &'static str {
        match self {
            Cloud::Public => "public",
            Cloud::Gcc => "gcc",
            Cloud::GccHigh => "gcc-high",
            Cloud::Dod => "dod",
            Cloud::China => "china",
        }
    }

    pub fn hosts(self) -> CloudHosts {
        match self {
            Cloud::Public | Cloud::Gcc => CloudHosts {
                login: "login.microsoftonline.com",
                graph: "graph.microsoft.com",
                teams: "api.interfaces.records.teams.microsoft.com",
                arm: "management.azure.com",
                compliance: "ps.compliance.protection.outlook.com",
                powerplatform: if self == Cloud::Gcc {
                    "gov.api.bap.microsoft.us"
                } else {
                    "api.bap.microsoft.com"
                },
                powerplatform_resource: if self == Cloud::Gcc {
                    "https://gov.service.powerapps.us"
                } else {
                    "https://service.powerapps.com"
                },
                dataverse_suffix: if self == Cloud::Gcc {
                    "crm9.dynamics.com"
                } else {
                    "crm.dynamics.com"
                },
                compliance_redirect: Some("admin.protection.outlook.com"),
            },
            Cloud::GccHigh => CloudHosts {
                login: "login.microsoftonline.us",
                graph: "graph.microsoft.us",
                teams: "api.interfaces.records.gov.teams.microsoft.us",
                arm: "management.usgovcloudapi.net",
                compliance: "ps.compliance.protection.office365.us",
                powerplatform: "high.api.bap.microsoft.us",
                powerplatform_resource: "https://high.service.powerapps.us",
                dataverse_suffix: "crm.microsoftdynamics.us",
                compliance_redirect: None,
            },
            Cloud::Dod => CloudHosts {
                login: "login.microsoftonline.us",
                graph: "dod-graph.microsoft.us",
                teams: "api.interfaces.records.dod.teams.microsoft.us",
                arm: "management.usgovcloudapi.net",
                compliance: "l5.ps.compliance.protection.office365.us",
                powerplatform: "api.bap.appsplatform.us",
                powerplatform_resource: "https://service.apps.appsplatform.us",
                dataverse_suffix: "crm.appsplatform.us",
                compliance_redirect: None,
            },
            Cloud::China => CloudHosts {
                login: "login.partner.microsoftonline.cn",
                graph: "microsoftgraph.chinacloudapi.cn",
                teams: "api.interfaces.records.teams.microsoftonline.cn",
                arm: "management.chinacloudapi.cn",
                compliance: "ps.compliance.protection.partner.outlook.cn",
                powerplatform: "api.bap.partner.microsoftonline.cn",
                powerplatform_resource: "https://service.powerapps.cn",
                dataverse_suffix: "crm.dynamics.cn",
                compliance_redirect: None,
            },
        }
    }
}

impl fmt::Display for Cloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Cloud {
    type Err = EndpointError;

    fn from_str(s: &str) -> Result<Cloud, EndpointError> {
        Cloud::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                EndpointError(format!(
                    "unknown cloud `{s}`; use public, gcc, gcc-high, dod or china"
                ))
            })
    }
}

/// A tenant-facing service read by the collectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    Graph,
    /// The Teams tenant admin config API (what the `Get-Cs*` cmdlets call).
    Teams,
    Arm,
    Dataverse,
    /// Security & Compliance PowerShell REST (`InvokeCommand`).
    Compliance,
    /// The Power Platform admin API: only to find the Dataverse environment.
    PowerPlatform,
}

impl Service {
    pub const ALL: [Service; 6] = [
        Service::Graph,
        Service::Teams,
        Service::Arm,
        Service::Dataverse,
        Service::Compliance,
        Service::PowerPlatform,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Service::Graph => "graph",
            Service::Teams => "teams",
            Service::Arm => "arm",
            Service::Dataverse => "dataverse",
            Service::Compliance => "compliance",
            Service::PowerPlatform => "powerplatform",
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The hosts that `--endpoint KEY=URL` and `CCAUDIT_ENDPOINT_<KEY>` can override. Dataverse
/// has its own flag (`--dataverse-url`), since it is per organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndpointKey {
    Login,
    Graph,
    Teams,
    Arm,
    Compliance,
    PowerPlatform,
}

impl EndpointKey {
    pub const ALL: [EndpointKey; 6] = [
        EndpointKey::Login,
        EndpointKey::Graph,
        EndpointKey::Teams,
        EndpointKey::Arm,
        EndpointKey::Compliance,
        EndpointKey::PowerPlatform,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EndpointKey::Login => "login",
            EndpointKey::Graph => "graph",
            EndpointKey::Teams => "teams",
            EndpointKey::Arm => "arm",
            EndpointKey::Compliance => "compliance",
            EndpointKey::PowerPlatform => "powerplatform",
        }
    }

    /// The environment variable that overrides this host, e.g. `CCAUDIT_ENDPOINT_GRAPH`.
    pub fn env_var(self) -> String {
        format!("CCAUDIT_ENDPOINT_{}", self.as_str().to_ascii_uppercase())
    }
}

impl FromStr for EndpointKey {
    type Err = EndpointError;

    fn from_str(s: &str) -> Result<EndpointKey, EndpointError> {
        EndpointKey::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                EndpointError(format!(
                    "unknown endpoint key `{s}`; use login, graph, teams, arm, compliance or powerplatform (Dataverse: --dataverse-url)"
                ))
            })
    }
}

/// One `--endpoint KEY=URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointOverride {
    pub key: EndpointKey,
    pub url: Url,
}

impl FromStr for EndpointOverride {
    type Err = EndpointError;

    /// Parses `KEY=URL`; usable as a clap `value_parser`.
    fn from_str(s: &str) -> Result<EndpointOverride, EndpointError> {
        let Some((key, url)) = s.split_once('=') else {
            return Err(EndpointError(format!(
                "`{s}` is not KEY=URL (e.g. graph=http://127.0.0.1:8080/graph)"
            )));
        };
        let key: EndpointKey = key.parse()?;
        let url = parse_base_url(url, key.as_str())?;
        Ok(EndpointOverride { key, url })
    }
}

/// A bad cloud name, endpoint override, Dataverse URL or path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EndpointError(pub String);

/// A token audience: the resource a token is issued for.
///
/// `resource()` is what `az account get-access-token --resource` takes; `scope()` is the v2
/// `.default` scope the token endpoint takes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Audience(String);

/// The Skype and Teams Tenant Admin API, the same GUID in every cloud.
pub const TEAMS_ADMIN_API_RESOURCE: &str = "48ac35b8-9aa8-4d74-927d-1f4a14a0b239";

/// Under a compliance base overridden to a host that is not Microsoft's (a proxy, the fake
/// tenant), the path segment that stands for the regional hosts: `{override}/regions/{region}`.
pub const COMPLIANCE_REGIONS_SEGMENT: &str = "regions";

impl Audience {
    pub fn new(resource: impl Into<String>) -> Audience {
        Audience(resource.into().trim_end_matches('/').to_string())
    }

    /// A resource whose App ID URI ends with `/`, kept as written: its v2 scope then has a
    /// double slash. The PowerApps service is one: Microsoft documents its scope as
    /// `https://service.powerapps.com//.default`, and the token request fails without the
    /// second slash (power-platform/admin/programmability-authentication; CIPP uses the same).
    pub fn app_id_uri(resource: impl Into<String>) -> Audience {
        let resource = resource.into();
        Audience(format!("{}/", resource.trim_end_matches('/')))
    }

    pub fn resource(&self) -> &str {
        &self.0
    }

    pub fn scope(&self) -> String {
        format!("{}/.default", self.0)
    }
}

impl fmt::Display for Audience {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Resolved base URLs of every service for one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    cloud: Cloud,
    login: Url,
    graph: Url,
    teams: Url,
    arm: Url,
    compliance: Url,
    powerplatform: Url,
    dataverse: Option<Url>,
}

impl Endpoints {
    /// The cloud's default hosts, no Dataverse org.
    pub fn for_cloud(cloud: Cloud) -> Endpoints {
        let h = cloud.hosts();
        let https = |host: &str| Url::parse(&format!("https://{host}")).expect("static host");
        Endpoints {
            cloud,
            login: https(h.login),
            graph: https(h.graph),
            teams: https(h.teams),
            arm: https(h.arm),
            compliance: https(h.compliance),
            powerplatform: https(h.powerplatform),
            dataverse: None,
        }
    }

    /// Applies overrides in precedence order: `--endpoint` flags, then `CCAUDIT_ENDPOINT_<KEY>`
    /// from the process environment, then the cloud table.
    pub fn resolve(
        cloud: Cloud,
        overrides: &[EndpointOverride],
        dataverse_url: Option<&str>,
    ) -> Result<Endpoints, EndpointError> {
        Endpoints::resolve_with_env(cloud, overrides, dataverse_url, |name| {
            std::env::var(name).ok()
        })
    }

    /// [`Endpoints::resolve`] with an injected environment (for tests).
    pub fn resolve_with_env(
        cloud: Cloud,
        overrides: &[EndpointOverride],
        dataverse_url: Option<&str>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Endpoints, EndpointError> {
        let mut endpoints = Endpoints::for_cloud(cloud);
        for key in EndpointKey::ALL {
            let var = key.env_var();
            if let Some(value) = env(&var).filter(|v| !v.trim().is_empty()) {
                let url = parse_base_url(&value, &var)?;
                *endpoints.slot(key) = url;
            }
        }
        for o in overrides {
            *endpoints.slot(o.key) = o.url.clone();
        }
        if let Some(d) = dataverse_url {
            endpoints.set_dataverse(d)?;
        }
        Ok(endpoints)
    }

    fn slot(&mut self, key: EndpointKey) -> &mut Url {
        match key {
            EndpointKey::Login => &mut self.login,
            EndpointKey::Graph => &mut self.graph,
            EndpointKey::Teams => &mut self.teams,
            EndpointKey::Arm => &mut self.arm,
            EndpointKey::Compliance => &mut self.compliance,
            EndpointKey::PowerPlatform => &mut self.powerplatform,
        }
    }

    /// Sets the Dataverse org (from `--dataverse-url` or discovery). Accepts a URL
    /// (`https://contoso.crm.dynamics.com`), a bare host, or a bare org name (`contoso`, completed
    /// with the cloud's Dataverse suffix). A trailing `/api/data/v9.x` is dropped: collectors
    /// add it.
    pub fn set_dataverse(&mut self, value: &str) -> Result<(), EndpointError> {
        let value = value.trim();
        let text = if value.contains("://") {
            value.to_string()
        } else if value.contains('.') || value.contains(':') {
            format!("https://{value}")
        } else if !value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            format!("https://{value}.{}", self.cloud.hosts().dataverse_suffix)
        } else {
            return Err(EndpointError(format!(
                "--dataverse-url `{value}` is not a URL (e.g. https://contoso.crm.dynamics.com)"
            )));
        };
        let mut url = parse_base_url(&text, "--dataverse-url")?;
        let path = url.path().trim_end_matches('/').to_string();
        if let Some(idx) = path.find("/api/data") {
            url.set_path(&path[..idx]);
        }
        self.dataverse = Some(url);
        Ok(())
    }

    pub fn cloud(&self) -> Cloud {
        self.cloud
    }

    /// The Entra login base (authority host, possibly overridden).
    pub fn login(&self) -> &Url {
        &self.login
    }

    /// The base URL of a service; `None` only for Dataverse when no org is known.
    pub fn base(&self, service: Service) -> Option<&Url> {
        match service {
            Service::Graph => Some(&self.graph),
            Service::Teams => Some(&self.teams),
            Service::Arm => Some(&self.arm),
            Service::Compliance => Some(&self.compliance),
            Service::PowerPlatform => Some(&self.powerplatform),
            Service::Dataverse => self.dataverse.as_ref(),
        }
    }

    /// `base(service)` joined with `path_and_query`, keeping any override path prefix.
    pub fn url(&self, service: Service, path_and_query: &str) -> Result<Url, EndpointError> {
        let base = self.base(service).ok_or_else(|| {
            EndpointError("no Dataverse environment: pass --dataverse-url".to_string())
        })?;
        join(base, path_and_query)
    }

    /// Where an S&C `InvokeCommand` is re-sent when the front door answered `request` with a
    /// redirect to `location`: the request's own path and query on `{region}.{compliance host}`
    /// (`nam13b.ps.compliance.protection.outlook.com`), the region being the first label of
    /// `location`'s host, which must be `{region}.{compliance_redirect}` of this cloud
    /// (`nam13b.admin.protection.outlook.com:446`). Nothing else of `location` is used. With the
    /// compliance base overridden to a host that is not Microsoft's (a proxy, the fake tenant),
    /// the regional host is `{override}/regions/{region}`: a redirect never leads the request, or
    /// its token, off the configured hosts. The error says in one line why `location` is refused.
    pub fn compliance_regional(&self, request: &Url, location: &Url) -> Result<Url, EndpointError> {
        let h = self.cloud.hosts();
        let host = location.host_str().unwrap_or("").to_ascii_lowercase();
        let region = h
            .compliance_redirect
            .and_then(|suffix| host.strip_suffix(suffix)?.strip_suffix('.'))
            .filter(|r| is_dns_label(r));
        let Some(region) = region else {
            let expected = match h.compliance_redirect {
                Some(suffix) => format!("only <region>.{suffix} is"),
                None => format!("none is known in the {} cloud", self.cloud),
            };
            let host = if host.is_empty() { "(no host)" } else { &host };
            return Err(EndpointError(format!(
                "{host} is not an allow-listed Security & Compliance regional host ({expected})"
            )));
        };
        let base = &self.compliance;
        let prefix = base.path().trim_end_matches('/');
        let rest = Some(request)
            .filter(|r| r.origin() == base.origin())
            .and_then(|r| r.path().strip_prefix(prefix))
            .filter(|rest| rest.starts_with('/'))
            .ok_or_else(|| {
                EndpointError(format!(
                    "{} is not on the Security & Compliance endpoint",
                    describe("POST", request)
                ))
            })?;
        let on_microsoft = base.host_str().is_some_and(|b| {
            let b = b.to_ascii_lowercase();
            b == h.compliance || b.ends_with(&format!(".{}", h.compliance))
        });
        let regional = if on_microsoft {
            Url::parse(&format!("https://{region}.{}", h.compliance))
                .map_err(|e| EndpointError(format!("regional host for `{region}`: {e}")))?
        } else {
            join(base, &format!("/{COMPLIANCE_REGIONS_SEGMENT}/{region}"))?
        };
        match request.query() {
            Some(q) => join(&regional, &format!("{rest}?{q}")),
            None => join(&regional, rest),
        }
    }

    /// The token audience for a service. Overridden hosts keep the real cloud's audience; the
    /// Dataverse audience is the org URL as given (`https://contoso.crm.dynamics.com`; for an
    /// override with a prefix, `http://127.0.0.1:8080/dataverse`, which the fake maps).
    pub fn audience(&self, service: Service) -> Option<Audience> {
        let h = self.cloud.hosts();
        Some(match service {
            Service::Graph => Audience::new(format!("https://{}", h.graph)),
            Service::Teams => Audience::new(TEAMS_ADMIN_API_RESOURCE),
            Service::Arm => Audience::new(format!("https://{}", h.arm)),
            Service::Compliance => Audience::new(format!("https://{}", h.compliance)),
            Service::PowerPlatform => Audience::app_id_uri(h.powerplatform_resource),
            Service::Dataverse => Audience::new(self.dataverse.as_ref()?.as_str()),
        })
    }

    /// `POST {login}/{tenant}/oauth2/v2.0/token`.
    pub fn token_url(&self, tenant: &str) -> Result<Url, EndpointError> {
        token_url(&self.login, tenant)
    }

    /// True when every configured host is a loopback address (the fake tenant): no system
    /// proxy should be used.
    pub fn is_loopback_only(&self) -> bool {
        let mut all = vec![
            &self.login,
            &self.graph,
            &self.teams,
            &self.arm,
            &self.compliance,
            &self.powerplatform,
        ];
        all.extend(self.dataverse.as_ref());
        all.into_iter().all(is_loopback)
    }
}

/// `{login}/{tenant}/oauth2/v2.0/token`.
pub fn token_url(login: &Url, tenant: &str) -> Result<Url, EndpointError> {
    check_tenant(tenant)?;
    join(login, &format!("/{tenant}/oauth2/v2.0/token"))
}

/// `{login}/{tenant}/oauth2/v2.0/devicecode`.
pub fn device_code_url(login: &Url, tenant: &str) -> Result<Url, EndpointError> {
    check_tenant(tenant)?;
    join(login, &format!("/{tenant}/oauth2/v2.0/devicecode"))
}

/// A tenant id or domain goes into a URL path: refuse anything that could change the path.
pub fn check_tenant(tenant: &str) -> Result<(), EndpointError> {
    let ok = !tenant.is_empty()
        && tenant.len() <= 256
        && tenant
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        && !tenant.contains("..");
    if ok {
        Ok(())
    } else {
        Err(EndpointError(format!(
            "tenant `{tenant}` is not a tenant id or domain"
        )))
    }
}

/// One DNS label: 1 to 63 letters, digits or hyphens, not starting or ending with a hyphen.
fn is_dns_label(label: &str) -> bool {
    (1..=63).contains(&label.len())
        && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Parses an override or Dataverse base: http(s), a host, no query or fragment, and no
/// credentials; a trailing `/` is dropped so joining adds exactly one.
fn parse_base_url(text: &str, what: &str) -> Result<Url, EndpointError> {
    let text = text.trim();
    let mut url = Url::parse(text)
        .map_err(|e| EndpointError(format!("{what}: `{text}` is not a URL ({e})")))?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(EndpointError(format!(
            "{what}: `{text}` must be an http or https URL"
        )));
    }
    if url.host().is_none() {
        return Err(EndpointError(format!("{what}: `{text}` has no host")));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(EndpointError(format!(
            "{what}: `{text}` must not have a query or fragment"
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(EndpointError(format!(
            "{what}: credentials in the URL are not allowed"
        )));
    }
    let path = url.path().trim_end_matches('/').to_string();
    url.set_path(&path);
    Ok(url)
}

/// Joins a base URL (which may carry a path prefix such as `/graph`) and a path with an
/// optional query (`/v1.0/organization?$top=1`). The prefix is always kept: this is string
/// concatenation of paths, not RFC 3986 reference resolution (which would drop `/graph` for an
/// absolute path).
pub fn join(base: &Url, path_and_query: &str) -> Result<Url, EndpointError> {
    if path_and_query.contains("://") && !path_and_query.starts_with('/') {
        return Err(EndpointError(format!(
            "`{path_and_query}` is an absolute URL, not a path"
        )));
    }
    let (path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path_and_query, None),
    };
    if path.split('/').any(|seg| seg == ".." || seg == ".") {
        return Err(EndpointError(format!(
            "`{path}` contains a dot segment, which could escape the base path"
        )));
    }
    let prefix = base.path().trim_end_matches('/');
    let rest = path.trim_start_matches('/');
    let mut url = base.clone();
    url.set_path(&format!("{prefix}/{rest}"));
    url.set_query(query.filter(|q| !q.is_empty()));
    url.set_fragment(None);
    Ok(url)
}

/// `METHOD host[:port]/path`, never the query: the form used in errors, logs and facts.
pub fn describe(method: &str, url: &Url) -> String {
    let host = url.host_str().unwrap_or("");
    match url.port() {
        Some(port) => format!("{method} {host}:{port}{}", url.path()),
        None => format!("{method} {host}{}", url.path()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn join_keeps_override_path_prefix() {
        let base = Url::parse("http://127.0.0.1:8080/graph").unwrap();
        let url = join(&base, "/v1.0/organization").unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:8080/graph/v1.0/organization"
        );

        let base = Url::parse("http://127.0.0.1:8080/graph/").unwrap();
        let url = join(&base, "v1.0/organization?$top=1").unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:8080/graph/v1.0/organization?$top=1"
        );
    }

    #[test]
    fn join_without_prefix_and_with_odata_query() {
        let base = Url::parse("https://graph.microsoft.com").unwrap();
        let url = join(
            &base,
            "/v1.0/servicePrincipals?$filter=appId in ('1fd5118e-2576-4263-8130-9503064c837a')&$select=id",
        )
        .unwrap();
        assert_eq!(url.path(), "/v1.0/servicePrincipals");
        assert!(url.query().unwrap().starts_with("$filter=appId%20in%20("));
        assert!(url.query().unwrap().ends_with("&$select=id"));
    }

    #[test]
    fn join_refuses_dot_segments_and_absolute_urls() {
        let base = Url::parse("http://127.0.0.1:8080/graph").unwrap();
        assert!(join(&base, "/../teams/x").is_err());
        assert!(join(&base, "https://evil.example/x").is_err());
    }

    #[test]
    fn join_encodes_fragment_characters_in_ids() {
        let base = Url::parse("https://graph.microsoft.com").unwrap();
        let url = join(&base, "/v1.0/users/a_b.com#EXT#@contoso.onmicrosoft.com").unwrap();
        assert_eq!(url.fragment(), None);
        assert!(url.path().contains("%23EXT%23"));
    }

    #[test]
    fn cloud_table_matches_apis_md() {
        let p = Cloud::Public.hosts();
        assert_eq!(p.login, "login.microsoftonline.com");
        assert_eq!(p.graph, "graph.microsoft.com");
        assert_eq!(p.teams, "api.interfaces.records.teams.microsoft.com");
        assert_eq!(p.arm, "management.azure.com");
        assert_eq!(p.compliance, "ps.compliance.protection.outlook.com");
        assert_eq!(p.dataverse_suffix, "crm.dynamics.com");
        assert_eq!(Cloud::Gcc.hosts().graph, "graph.microsoft.com");
        assert_eq!(Cloud::Gcc.hosts().dataverse_suffix, "crm9.dynamics.com");
        let h = Cloud::GccHigh.hosts();
        assert_eq!(h.login, "login.microsoftonline.us");
        assert_eq!(h.graph, "graph.microsoft.us");
        assert_eq!(h.teams, "api.interfaces.records.gov.teams.microsoft.us");
        assert_eq!(h.arm, "management.usgovcloudapi.net");
        assert_eq!(h.dataverse_suffix, "crm.microsoftdynamics.us");
        let d = Cloud::Dod.hosts();
        assert_eq!(d.graph, "dod-graph.microsoft.us");
        assert_eq!(d.teams, "api.interfaces.records.dod.teams.microsoft.us");
        assert_eq!(d.compliance, "l5.ps.compliance.protection.office365.us");
        assert_eq!(d.dataverse_suffix, "crm.appsplatform.us");
        let c = Cloud::China.hosts();
        assert_eq!(c.login, "login.partner.microsoftonline.cn");
        assert_eq!(c.graph, "microsoftgraph.chinacloudapi.cn");
        assert_eq!(c.teams, "api.interfaces.records.teams.microsoftonline.cn");
        assert_eq!(c.arm, "management.chinacloudapi.cn");
        assert_eq!(c.dataverse_suffix, "crm.dynamics.cn");
    }

    #[test]
    fn cloud_names_round_trip() {
        for cloud in Cloud::ALL {
            assert_eq!(cloud.as_str().parse::<Cloud>().unwrap(), cloud);
            let clap_name = clap::ValueEnum::to_possible_value(&cloud).unwrap();
            assert_eq!(clap_name.get_name(), cloud.as_str());
        }
        assert!("azure".parse::<Cloud>().is_err());
    }

    #[test]
    fn audiences_per_service() {
        let mut e = Endpoints::for_cloud(Cloud::Public);
        e.set_dataverse("https://contoso.crm.dynamics.com/")
            .unwrap();
        let scope = |s| e.audience(s).unwrap().scope();
        assert_eq!(
            scope(Service::Graph),
            "https://graph.microsoft.com/.default"
        );
        assert_eq!(
            scope(Service::Teams),
            "48ac35b8-9aa8-4d74-927d-1f4a14a0b239/.default"
        );
        assert_eq!(scope(Service::Arm), "https://management.azure.com/.default");
        assert_eq!(
            scope(Service::Compliance),
            "https://ps.compliance.protection.outlook.com/.default"
        );
        assert_eq!(
            scope(Service::Dataverse),
            "https://contoso.crm.dynamics.com/.default"
        );
        assert_eq!(
            scope(Service::PowerPlatform),
            "https://service.powerapps.com//.default"
        );
        assert_eq!(
            e.audience(Service::Graph).unwrap().resource(),
            "https://graph.microsoft.com"
        );
        let gov = Endpoints::for_cloud(Cloud::GccHigh);
        assert_eq!(
            gov.audience(Service::Graph).unwrap().scope(),
            "https://graph.microsoft.us/.default"
        );
        assert_eq!(
            gov.audience(Service::Teams).unwrap().resource(),
            TEAMS_ADMIN_API_RESOURCE
        );
        assert!(gov.audience(Service::Dataverse).is_none());
    }

    #[test]
    fn overrides_keep_real_audiences() {
        let o: EndpointOverride = "graph=http://127.0.0.1:8080/graph".parse().unwrap();
        let e = Endpoints::resolve_with_env(Cloud::Public, &[o], None, no_env).unwrap();
        assert_eq!(
            e.url(Service::Graph, "/v1.0/organization")
                .unwrap()
                .as_str(),
            "http://127.0.0.1:8080/graph/v1.0/organization"
        );
        assert_eq!(
            e.audience(Service::Graph).unwrap().scope(),
            "https://graph.microsoft.com/.default"
        );
        assert_eq!(
            e.base(Service::Arm).unwrap().as_str(),
            "https://management.azure.com/"
        );
    }

    #[test]
    fn flag_beats_env_beats_cloud_table() {
        let env = |name: &str| match name {
            "CCAUDIT_ENDPOINT_GRAPH" => Some("http://127.0.0.1:1/env-graph".to_string()),
            "CCAUDIT_ENDPOINT_LOGIN" => Some("http://127.0.0.1:1/env-login/".to_string()),
            _ => None,
        };
        let flag: EndpointOverride = "graph=http://127.0.0.1:2/flag-graph".parse().unwrap();
        let e = Endpoints::resolve_with_env(Cloud::GccHigh, &[flag], None, env).unwrap();
        assert_eq!(e.base(Service::Graph).unwrap().path(), "/flag-graph");
        assert_eq!(e.login().as_str(), "http://127.0.0.1:1/env-login");
        assert_eq!(
            e.token_url("contoso.onmicrosoft.com").unwrap().as_str(),
            "http://127.0.0.1:1/env-login/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
        assert_eq!(
            e.base(Service::Teams).unwrap().host_str(),
            Some("api.interfaces.records.gov.teams.microsoft.us")
        );
        assert!(!e.is_loopback_only());
    }

    #[test]
    fn bad_overrides_are_one_line_errors() {
        for bad in [
            "graph",
            "dataverse=http://x",
            "graph=ftp://x",
            "graph=http://x/?a=b",
            "graph=not a url",
            "graph=http://user:pw@x/",
        ] {
            let err = bad.parse::<EndpointOverride>().unwrap_err().to_string();
            assert!(!err.contains('\n'), "{err}");
        }
        let env = |_: &str| Some("nope".to_string());
        let err = Endpoints::resolve_with_env(Cloud::Public, &[], None, env).unwrap_err();
        assert!(err.0.starts_with("CCAUDIT_ENDPOINT_LOGIN"), "{err}");
    }

    #[test]
    fn dataverse_url_forms() {
        let mut e = Endpoints::for_cloud(Cloud::Public);
        e.set_dataverse("contoso").unwrap();
        assert_eq!(
            e.base(Service::Dataverse).unwrap().as_str(),
            "https://contoso.crm.dynamics.com/"
        );
        e.set_dataverse("contoso.crm4.dynamics.com").unwrap();
        assert_eq!(
            e.url(Service::Dataverse, "/api/data/v9.2/msdyn_ocphonenumbers")
                .unwrap()
                .as_str(),
            "https://contoso.crm4.dynamics.com/api/data/v9.2/msdyn_ocphonenumbers"
        );
        e.set_dataverse("https://contoso.crm.dynamics.com/api/data/v9.2/")
            .unwrap();
        assert_eq!(
            e.base(Service::Dataverse).unwrap().as_str(),
            "https://contoso.crm.dynamics.com/"
        );
        e.set_dataverse("http://127.0.0.1:9000/dataverse").unwrap();
        assert_eq!(
            e.url(Service::Dataverse, "/api/data/v9.2/x")
                .unwrap()
                .as_str(),
            "http://127.0.0.1:9000/dataverse/api/data/v9.2/x"
        );
        assert_eq!(
            e.audience(Service::Dataverse).unwrap().scope(),
            "http://127.0.0.1:9000/dataverse/.default"
        );
        let mut gcc = Endpoints::for_cloud(Cloud::Gcc);
        gcc.set_dataverse("contoso").unwrap();
        assert_eq!(
            gcc.base(Service::Dataverse).unwrap().host_str(),
            Some("contoso.crm9.dynamics.com")
        );
        assert!(gcc.set_dataverse("con toso").is_err());
        let none = Endpoints::for_cloud(Cloud::Public);
        assert!(
            none.url(Service::Dataverse, "/x")
                .unwrap_err()
                .0
                .contains("--dataverse-url")
        );
    }

    #[test]
    fn compliance_redirect_maps_the_region_onto_the_compliance_host() {
        let front = |e: &Endpoints| {
            e.url(Service::Compliance, "/adminapi/beta/tid/InvokeCommand")
                .unwrap()
        };
        let location = Url::parse(
            "https://nam13b.admin.protection.outlook.com:446/adminapi/beta/tid/InvokeCommand",
        )
        .unwrap();
        for cloud in [Cloud::Public, Cloud::Gcc] {
            let e = Endpoints::for_cloud(cloud);
            assert_eq!(
                e.compliance_regional(&front(&e), &location)
                    .unwrap()
                    .as_str(),
                "https://nam13b.ps.compliance.protection.outlook.com/adminapi/beta/tid/InvokeCommand"
            );
        }
        // Only the region comes from the location: path, query and port are the request's own.
        let e = Endpoints::for_cloud(Cloud::Public);
        let page = e
            .url(
                Service::Compliance,
                "/adminapi/beta/tid/InvokeCommand?$skiptoken=2",
            )
            .unwrap();
        let elsewhere =
            Url::parse("https://ZAF01B.admin.protection.outlook.com:446/other?x=1").unwrap();
        assert_eq!(
            e.compliance_regional(&page, &elsewhere).unwrap().as_str(),
            "https://zaf01b.ps.compliance.protection.outlook.com/adminapi/beta/tid/InvokeCommand?$skiptoken=2"
        );
    }

    #[test]
    fn compliance_redirect_under_an_override_stays_on_the_override() {
        let o: EndpointOverride = "compliance=http://127.0.0.1:9/compliance".parse().unwrap();
        let e = Endpoints::resolve_with_env(Cloud::Public, &[o], None, no_env).unwrap();
        let request = e
            .url(Service::Compliance, "/adminapi/beta/tid/InvokeCommand")
            .unwrap();
        let location = Url::parse(
            "https://nam13b.admin.protection.outlook.com:446/adminapi/beta/tid/InvokeCommand",
        )
        .unwrap();
        assert_eq!(
            e.compliance_regional(&request, &location).unwrap().as_str(),
            "http://127.0.0.1:9/compliance/regions/nam13b/adminapi/beta/tid/InvokeCommand"
        );
        // A request that is not on the compliance endpoint is not re-sent anywhere.
        let other = Url::parse("http://127.0.0.1:9/graph/adminapi/beta/tid/InvokeCommand").unwrap();
        let err = e.compliance_regional(&other, &location).unwrap_err().0;
        assert!(
            err.contains("not on the Security & Compliance endpoint"),
            "{err}"
        );
    }

    #[test]
    fn compliance_redirect_to_any_other_host_is_refused() {
        let e = Endpoints::for_cloud(Cloud::Public);
        let request = e
            .url(Service::Compliance, "/adminapi/beta/tid/InvokeCommand")
            .unwrap();
        for bad in [
            "https://evil.example/adminapi/beta/tid/InvokeCommand",
            "https://nam13b.admin.protection.outlook.com.evil.example/x",
            "https://evil-admin.protection.outlook.com/x",
            "https://a.b.admin.protection.outlook.com/x",
            "https://-nam.admin.protection.outlook.com/x",
            "https://admin.protection.outlook.com/x",
            "http://127.0.0.1:446/x",
        ] {
            let location = Url::parse(bad).unwrap();
            let err = e.compliance_regional(&request, &location).unwrap_err().0;
            assert!(!err.contains('\n'), "{err}");
            assert!(
                err.contains(location.host_str().unwrap())
                    && err.contains("only <region>.admin.protection.outlook.com is"),
                "{bad}: {err}"
            );
        }
        // No public source shows the redirect in the national clouds: refused there.
        let gov = Endpoints::for_cloud(Cloud::GccHigh);
        let request = gov
            .url(Service::Compliance, "/adminapi/beta/tid/InvokeCommand")
            .unwrap();
        let location = Url::parse("https://nam13b.admin.protection.outlook.com:446/x").unwrap();
        let err = gov.compliance_regional(&request, &location).unwrap_err().0;
        assert!(err.contains("none is known in the gcc-high cloud"), "{err}");
    }

    #[test]
    fn tenant_cannot_change_the_token_path() {
        let login = Url::parse("https://login.microsoftonline.com").unwrap();
        assert!(token_url(&login, "../evil").is_err());
        assert!(token_url(&login, "a/b").is_err());
        assert!(token_url(&login, "a?b").is_err());
        assert_eq!(
            device_code_url(&login, "organizations").unwrap().as_str(),
            "https://login.microsoftonline.com/organizations/oauth2/v2.0/devicecode"
        );
    }

    #[test]
    fn describe_has_no_query() {
        let url = Url::parse("http://127.0.0.1:8080/graph/v1.0/users?$skiptoken=abc&x=1").unwrap();
        assert_eq!(describe("GET", &url), "GET 127.0.0.1:8080/graph/v1.0/users");
        let url = Url::parse("https://graph.microsoft.com/v1.0/users?$top=1").unwrap();
        assert_eq!(describe("GET", &url), "GET graph.microsoft.com/v1.0/users");
    }

    #[test]
    fn loopback_only_detection() {
        let overrides: Vec<EndpointOverride> = EndpointKey::ALL
            .iter()
            .map(|k| {
                format!("{k}=http://127.0.0.1:9/{k}", k = k.as_str())
                    .parse()
                    .unwrap()
            })
            .collect();
        let e = Endpoints::resolve_with_env(
            Cloud::Public,
            &overrides,
            Some("http://localhost:9/dv"),
            no_env,
        )
        .unwrap();
        assert!(e.is_loopback_only());
        let partial = Endpoints::resolve_with_env(
            Cloud::Public,
            &overrides[..overrides.len() - 1],
            Some("http://localhost:9/dv"),
            no_env,
        )
        .unwrap();
        assert!(
            !partial.is_loopback_only(),
            "the Power Platform admin API is still the real one"
        );
    }
}
