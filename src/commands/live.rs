//! Reading a tenant live, shared by every command that can take `--tenant` instead of a
//! snapshot (`audit`, `collect`, `explain`, `diff`): the flags, sign-in, the collection run and
//! its progress display on stderr.

use std::io::IsTerminal;
use std::sync::Arc;

use crate::config::Config;
use crate::snapshot::Snapshot;
use crate::source_catalog;
use crate::sources::auth::{AuthMethod, Credential, TokenProvider};
use crate::sources::collect::{self, CollectOptions, Progress};
use crate::sources::endpoints::{Cloud, EndpointOverride, Endpoints, Service};
use crate::sources::http::{ClientSettings, ReadOnlyClient};
use crate::sources::timeouts::{self, TimeoutSpec, Timeouts};

/// Where and how to read a tenant live. Declared once for every command that flattens it: the
/// flags are listed under one help heading, and those that only mean something for a tenant
/// read live form a group that requires `--tenant` (`--quiet` and `--verbose` stay outside it:
/// they are harmless on a snapshot). Flatten it after a command's other flags: clap keeps the
/// heading for the flags that follow it.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Live collection")]
#[group(skip)]
#[command(group(
    clap::ArgGroup::new("live_only")
        .multiple(true)
        .requires("tenant")
        .args([
            "cloud",
            "auth",
            "client_id",
            "endpoints",
            "dataverse_url",
            "subscriptions",
            "agents",
            "agent_group",
            "concurrency",
            "timeouts",
            "connect_timeouts",
            "deadline",
        ])
))]
pub struct LiveArgs {
    /// Read this tenant live (tenant id or domain) instead of a snapshot.
    #[arg(long)]
    pub tenant: Option<String>,
    /// The Microsoft cloud the tenant lives in.
    #[arg(long, value_enum, default_value = "public")]
    pub cloud: Cloud,
    /// Sign-in method (default: client-secret or client-certificate when AZURE_CLIENT_SECRET or
    /// AZURE_CLIENT_CERTIFICATE_PATH is set, else azure-cli).
    #[arg(long, value_enum)]
    pub auth: Option<AuthMethod>,
    /// The app registration to sign in with (as AZURE_CLIENT_ID): with device-code, your own
    /// app with the delegated permissions of `ccaudit permissions --delegated`, whose tokens
    /// carry scopes the Azure CLI's cannot. Without --auth and without an app credential in
    /// the environment it means --auth device-code.
    #[arg(long, value_name = "APP_ID")]
    pub client_id: Option<String>,
    /// Override a service host: KEY is login, graph, teams, arm, compliance or powerplatform
    /// (repeatable).
    #[arg(long = "endpoint", value_name = "KEY=URL")]
    pub endpoints: Vec<EndpointOverride>,
    /// The Dynamics 365 org (https://<org>.crm.dynamics.com); without it the org is found
    /// through the Power Platform admin API, or the D365 checks are unknown saying why.
    #[arg(long, value_name = "URL")]
    pub dataverse_url: Option<String>,
    /// Limit Azure to this subscription (repeatable; default: every visible subscription).
    #[arg(long = "subscription", value_name = "ID")]
    pub subscriptions: Vec<String>,
    /// The contact-center agents: UPNs or object ids (comma-separated); with neither this nor
    /// --agent-group, the members of the Dataverse voice queues.
    #[arg(long, value_delimiter = ',', value_name = "UPN,...")]
    pub agents: Vec<String>,
    /// A group whose user members are the contact-center agents.
    #[arg(long, value_name = "GROUP_ID")]
    pub agent_group: Option<String>,
    /// Requests in flight per service.
    #[arg(
        long,
        default_value_t = crate::sources::http::DEFAULT_CONCURRENCY as u16,
        value_parser = clap::value_parser!(u16).range(1..=64)
    )]
    pub concurrency: u16,
    /// How long to wait for one request: SECS for every service, or SERVICE=SECS (login,
    /// graph, teams, arm, dataverse, compliance, powerplatform); repeatable. Default: login 20,
    /// arm and powerplatform 30, graph and dataverse 60, teams and compliance 90.
    #[arg(long = "timeout", value_name = "[SERVICE=]SECS")]
    pub timeouts: Vec<TimeoutSpec>,
    /// How long to wait for a connection: SECS or SERVICE=SECS, as --timeout. Default 10.
    #[arg(long = "connect-timeout", value_name = "[SERVICE=]SECS")]
    pub connect_timeouts: Vec<TimeoutSpec>,
    /// Wall time for the whole live read, sign-in included; what is not read by then is
    /// unknown in the report, naming the deadline. Default 900.
    #[arg(
        long,
        value_name = "SECS",
        value_parser = timeouts::parse_deadline
    )]
    pub deadline: Option<std::time::Duration>,
    /// No progress display on stderr.
    #[arg(long, short)]
    pub quiet: bool,
    /// Log every request (method, host, path, status, ms) to stderr.
    #[arg(long, short)]
    pub verbose: bool,
}

/// No tenant: what a command that was given a snapshot instead sees.
impl Default for LiveArgs {
    fn default() -> LiveArgs {
        LiveArgs {
            tenant: None,
            cloud: Cloud::Public,
            auth: None,
            client_id: None,
            endpoints: Vec::new(),
            dataverse_url: None,
            subscriptions: Vec::new(),
            agents: Vec::new(),
            agent_group: None,
            concurrency: crate::sources::http::DEFAULT_CONCURRENCY as u16,
            timeouts: Vec::new(),
            connect_timeouts: Vec::new(),
            deadline: None,
            quiet: false,
            verbose: false,
        }
    }
}

impl LiveArgs {
    /// The first live-only flag given without `--tenant`, if any. clap does not enforce
    /// `requires = "tenant"` when `--tenant` conflicts with a `--snapshot` that is present, so
    /// commands that take either call this rather than silently ignoring the flag.
    pub fn unused_flag(&self) -> Option<&'static str> {
        if self.tenant.is_some() {
            return None;
        }
        [
            ("--auth", self.auth.is_some()),
            ("--client-id", self.client_id.is_some()),
            ("--endpoint", !self.endpoints.is_empty()),
            ("--dataverse-url", self.dataverse_url.is_some()),
            ("--subscription", !self.subscriptions.is_empty()),
            ("--agents", !self.agents.is_empty()),
            ("--agent-group", self.agent_group.is_some()),
            ("--timeout", !self.timeouts.is_empty()),
            ("--connect-timeout", !self.connect_timeouts.is_empty()),
            ("--deadline", self.deadline.is_some()),
        ]
        .into_iter()
        .find(|(_, used)| *used)
        .map(|(flag, _)| flag)
    }

    /// The configuration file's agents and agent group, unless the command line names agents
    /// or a group: the selection is taken as a whole from one place, never mixed.
    pub fn agents_from(&mut self, config: Option<&Config>) {
        let Some(config) = config else { return };
        if self.agents.is_empty() && self.agent_group.is_none() {
            self.agents = config.agents.clone();
            self.agent_group = config.agent_group.clone();
        }
    }
}

/// Signs in, reads the tenant and returns its snapshot.
pub fn read_tenant(live: &LiveArgs) -> Result<Snapshot, String> {
    let Some(tenant) = live.tenant.clone() else {
        return Err("--tenant is required to read a tenant live".into());
    };
    crate::sources::http::service_budget_from_env().map_err(|e| e.to_string())?;
    if live.verbose {
        init_tracing();
    }
    let endpoints = Endpoints::resolve(live.cloud, &live.endpoints, live.dataverse_url.as_deref())
        .map_err(|e| e.to_string())?;
    let credential = credential(live, &tenant, |name| std::env::var(name).ok())?;
    let bars = Bars::new(
        !live.quiet && !live.verbose && std::io::stderr().is_terminal(),
        live.dataverse_url.is_none(),
    );
    let prompt_bars = bars.multi.clone();
    let mut limits = Timeouts::default();
    limits.apply(&live.timeouts, false);
    limits.apply(&live.connect_timeouts, true);
    let tokens = Arc::new(
        TokenProvider::new(credential, endpoints.login())
            .and_then(|t| t.with_timeout(limits.login()))
            .map_err(|e| e.to_string())?
            .with_prompt(move |message| prompt_bars.suspend(|| eprintln!("{message}"))),
    );
    let deadline = live.deadline.unwrap_or(timeouts::DEFAULT_DEADLINE);
    let settings = ClientSettings {
        concurrency: usize::from(live.concurrency),
        timeouts: limits,
        deadline,
        ..ClientSettings::default()
    };
    let client =
        ReadOnlyClient::new(endpoints, tokens.clone(), settings).map_err(|e| e.to_string())?;
    let options = CollectOptions {
        tenant,
        agents: live.agents.clone(),
        agent_group: live.agent_group.clone(),
        subscriptions: live.subscriptions.clone(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    // The client fails what is not read by the deadline, so the run ends with what it could
    // read; this bounds what the client does not see (a sign-in that hangs), shortly after.
    let hard_stop = deadline + HARD_STOP_GRACE;
    // What was pending is read while the collection is still alive (dropping it ends its
    // calls, and their counts with them).
    let result = runtime.block_on(async {
        let collecting = collect::collect(&client, &tokens, &options, &bars);
        tokio::pin!(collecting);
        tokio::select! {
            collected = &mut collecting => Ok(collected),
            () = tokio::time::sleep(hard_stop) => Err(pending(&tokens, &client)),
        }
    });
    let snapshot = match result {
        Ok(Ok(snapshot)) => {
            bars.finish();
            snapshot
        }
        Ok(Err(e)) => {
            bars.clear();
            return Err(e.to_string());
        }
        Err(pending) => {
            bars.clear();
            return Err(format!(
                "the live read did not finish within the run's deadline of {} s (--deadline SECS allows longer); still pending: {pending}",
                timeouts::secs(deadline)
            ));
        }
    };
    let cut = client.cut_by_deadline();
    if !cut.is_empty() {
        let services: Vec<String> = cut
            .iter()
            .map(|(service, n)| format!("{service} ({n} {})", plural(*n, "read")))
            .collect();
        eprintln!(
            "ccaudit: the run's deadline of {} s passed while these services were still being read: {}; what they had not read is unknown in the report (--deadline SECS allows longer)",
            timeouts::secs(deadline),
            services.join(", ")
        );
    }
    Ok(snapshot)
}

/// The credential of `--auth`, `--client-id` and the environment (`env`).
fn credential(
    live: &LiveArgs,
    tenant: &str,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Credential, String> {
    let set = |name: &str| env(name).is_some_and(|v| !v.trim().is_empty());
    let method = match (live.auth, &live.client_id) {
        (Some(AuthMethod::AzureCli), Some(_)) => {
            return Err("--client-id cannot be used with --auth azure-cli: the Azure CLI signs in with its own client; use --auth device-code --client-id APP_ID".into());
        }
        // A person's own app: the Azure CLI cannot sign in with it, the device code can.
        (None, Some(_)) if !set("AZURE_CLIENT_SECRET") && !set("AZURE_CLIENT_CERTIFICATE_PATH") => {
            Some(AuthMethod::DeviceCode)
        }
        (method, _) => method,
    };
    Credential::from_lookup(method, Some(tenant), |name| match &live.client_id {
        Some(id) if name == "AZURE_CLIENT_ID" => Some(id.clone()),
        _ => env(name),
    })
    .map_err(|e| e.to_string())
}

/// What a run is waiting for: the sign-in, and the services with reads under way.
fn pending(tokens: &TokenProvider, client: &ReadOnlyClient) -> String {
    let mut pending: Vec<String> = Vec::new();
    if tokens.signing_in() {
        pending.push("sign-in (login)".into());
    }
    pending.extend(
        client
            .pending()
            .into_iter()
            .map(|(service, n)| format!("{service} ({n} {})", plural(n, "read"))),
    );
    if pending.is_empty() {
        "nothing in flight".to_string()
    } else {
        pending.join(", ")
    }
}

/// How long after the deadline a run that has not ended is stopped regardless.
const HARD_STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        word.to_string()
    } else {
        format!("{word}s")
    }
}

/// `-v`: debug events of ccaudit (one per request) to stderr; `RUST_LOG` refines it. The
/// events are styled and `anstream` decides what reaches stderr, as for the report: plain when
/// it is not a terminal (or with `NO_COLOR`), and on a Windows console without ANSI support the
/// styles become console colours instead of escape codes.
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("ccaudit=debug"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(anstream::stderr)
        .with_ansi(true)
        .with_target(false)
        .try_init();
}

/// One progress bar per service on stderr (hidden when stderr is not a terminal, with
/// `--quiet`, or with `-v`, whose log lines would tear the bars).
struct Bars {
    multi: indicatif::MultiProgress,
    bars: Vec<(Service, indicatif::ProgressBar)>,
    /// The sign-in line while the first sign-in runs.
    sign_in: std::sync::Mutex<Option<indicatif::ProgressBar>>,
}

impl Bars {
    /// `find_org`: the Dataverse org will be looked for, so the Power Platform admin API gets a
    /// bar too (its one read).
    fn new(visible: bool, find_org: bool) -> Bars {
        let target = if visible {
            indicatif::ProgressDrawTarget::stderr()
        } else {
            indicatif::ProgressDrawTarget::hidden()
        };
        let multi = indicatif::MultiProgress::with_draw_target(target);
        let style = indicatif::ProgressStyle::with_template(
            "{prefix:>13} {bar:24.cyan/blue} {pos:>2}/{len:<2} {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
        let bars = Service::ALL
            .into_iter()
            .filter(|&service| service != Service::PowerPlatform || find_org)
            .map(|service| {
                let total = source_catalog::SOURCES
                    .iter()
                    .filter(|s| {
                        s.key.source() == service.as_str()
                            && (s.discovery.is_none() || service == Service::PowerPlatform)
                    })
                    .count();
                let bar = multi.add(
                    indicatif::ProgressBar::new(total as u64)
                        .with_style(style.clone())
                        .with_prefix(service.as_str()),
                );
                (service, bar)
            })
            .collect();
        Bars {
            multi,
            bars,
            sign_in: std::sync::Mutex::new(None),
        }
    }

    /// Removes the bars: the run ends with an error, which stands alone.
    fn clear(&self) {
        self.signed_in();
        for (_, bar) in &self.bars {
            bar.finish_and_clear();
        }
    }

    /// Ends every bar at what was actually read (fallback sources are only read when needed,
    /// so a service can finish below its catalog count).
    fn finish(&self) {
        for (_, bar) in &self.bars {
            bar.set_length(bar.position());
            bar.finish();
        }
    }
}

impl Progress for Bars {
    fn signing_in(&self, method: &str, at: &str) {
        let style = indicatif::ProgressStyle::with_template("{spinner} {msg} {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner());
        let line = self.multi.insert(
            0,
            indicatif::ProgressBar::new_spinner()
                .with_style(style)
                .with_message(format!("signing in ({method}) at {at}")),
        );
        line.enable_steady_tick(std::time::Duration::from_millis(200));
        *self.sign_in.lock().unwrap_or_else(|p| p.into_inner()) = Some(line);
    }

    fn signed_in(&self) {
        if let Some(line) = self
            .sign_in
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            line.finish_and_clear();
        }
    }

    fn fact_done(&self, key: &str, ok: bool) {
        let service = key.split('.').next().unwrap_or("");
        if let Some((_, bar)) = self.bars.iter().find(|(s, _)| s.as_str() == service) {
            if bar.position() >= bar.length().unwrap_or(0) {
                bar.inc_length(1);
            }
            bar.inc(1);
            let name = key.split_once('.').map(|(_, n)| n).unwrap_or(key);
            bar.set_message(if ok {
                name.to_string()
            } else {
                format!("{name} (unavailable)")
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::{Args, Command, FromArgMatches};

    use super::*;

    fn command() -> Command {
        LiveArgs::augment_args(Command::new("ccaudit"))
    }

    fn parse(args: &[&str]) -> Result<LiveArgs, clap::Error> {
        let matches = command()
            .try_get_matches_from(std::iter::once("ccaudit").chain(args.iter().copied()))?;
        LiveArgs::from_arg_matches(&matches)
    }

    #[test]
    fn live_only_flags_require_a_tenant() {
        for args in [
            ["--cloud", "gcc"],
            ["--agents", "a@contoso.com"],
            ["--concurrency", "2"],
            ["--deadline", "5"],
            ["--endpoint", "graph=http://127.0.0.1:1"],
        ] {
            let err = parse(&args).err().map(|e| e.kind());
            assert_eq!(
                err,
                Some(clap::error::ErrorKind::MissingRequiredArgument),
                "{args:?}"
            );
            let mut with_tenant = vec!["--tenant", "contoso.onmicrosoft.com"];
            with_tenant.extend(args);
            assert!(parse(&with_tenant).is_ok(), "{args:?}");
        }
    }

    fn live(auth: Option<AuthMethod>, client_id: Option<&str>) -> LiveArgs {
        LiveArgs {
            tenant: Some("t".into()),
            auth,
            client_id: client_id.map(str::to_string),
            ..LiveArgs::default()
        }
    }

    #[test]
    fn progress_flags_need_no_tenant() {
        assert!(parse(&["-q"]).is_ok_and(|l| l.quiet));
        assert!(parse(&["--verbose"]).is_ok_and(|l| l.verbose));
        assert!(parse(&[]).is_ok_and(|l| l.tenant.is_none()));
    }

    #[test]
    fn every_flag_but_tenant_and_progress_is_live_only_and_all_share_one_heading() {
        let command = command();
        let group = command
            .get_groups()
            .find(|g| g.get_id() == "live_only")
            .expect("the live-only group");
        let members: Vec<&str> = group.get_args().map(|id| id.as_str()).collect();
        for arg in command.get_arguments() {
            let id = arg.get_id().as_str();
            let outside = ["tenant", "quiet", "verbose"].contains(&id);
            assert_eq!(members.contains(&id), !outside, "{id}");
            assert_eq!(arg.get_help_heading(), Some("Live collection"), "{id}");
        }
    }

    #[test]
    fn client_id_signs_a_person_in_with_their_own_app() {
        let none = |_: &str| None;
        let c = credential(&live(None, Some("app-1")), "t", none).unwrap();
        assert_eq!(c.method(), AuthMethod::DeviceCode);
        assert_eq!(c.client_id(), Some("app-1"));
        let c = credential(&live(None, None), "t", none).unwrap();
        assert_eq!(c.method(), AuthMethod::AzureCli);
        let secret = |n: &str| (n == "AZURE_CLIENT_SECRET").then(|| "s".to_string());
        let c = credential(&live(None, Some("app-2")), "t", secret).unwrap();
        assert_eq!(c.method(), AuthMethod::ClientSecret);
        assert_eq!(c.client_id(), Some("app-2"));
        let e = credential(&live(Some(AuthMethod::AzureCli), Some("x")), "t", none).unwrap_err();
        assert!(e.contains("--auth device-code --client-id"), "{e}");
    }
}
