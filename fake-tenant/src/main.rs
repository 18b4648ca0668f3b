//! `fake-tenant --snapshot FILE`: serves a snapshot as a fake Microsoft tenant on loopback
//! until Ctrl-C (for benchmarks and demos). See README.md.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use fake_tenant::{FakeOptions, FakeTenant, Faults};

#[derive(Parser, Debug)]
#[command(
    name = "fake-tenant",
    version,
    about = "Serve a ccaudit snapshot as a fake Microsoft tenant (Graph, Teams admin API, ARM, Dataverse, S&C, Entra token endpoint) on 127.0.0.1"
)]
struct Args {
    /// Snapshot file (*.snapshot.json) to serve as the tenant.
    #[arg(long, value_name = "FILE")]
    snapshot: PathBuf,
    /// Port on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Delay added to every request, in milliseconds (0 to 60000).
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=60_000))]
    latency_ms: u64,
    /// Items per page of paged collections (1 to 10000).
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    page_size: u32,
    /// Client id accepted by the token endpoint.
    #[arg(long, value_name = "X", default_value = fake_tenant::DEFAULT_CLIENT_ID)]
    client_id: String,
    /// Client secret accepted for --client-id.
    #[arg(long, value_name = "Y", default_value = fake_tenant::DEFAULT_CLIENT_SECRET)]
    client_secret: String,
    /// Probability (0..1) of answering a request 429 (half Retry-After seconds, half HTTP-date).
    #[arg(long, value_name = "P", default_value_t = 0.0)]
    throttle_rate: f64,
    /// Probability (0..1) of answering a request 503.
    #[arg(long, value_name = "P", default_value_t = 0.0)]
    unavailable_rate: f64,
    /// Seed for the random faults.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Access token lifetime in seconds (1 to 86400).
    #[arg(long, value_name = "SECS", default_value_t = 3599, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    token_lifetime: u64,
    /// SERVICE=STATUS: answer every request of a service with this status (e.g. teams=403).
    #[arg(long, value_name = "SERVICE=STATUS")]
    service_status: Vec<String>,
    /// Answer S&C InvokeCommand with a 302 to this base, as the real front door does
    /// (e.g. https://nam13b.admin.protection.outlook.com:446); the cmdlets are then served at
    /// /compliance/regions/{region}/.
    #[arg(long, value_name = "URL")]
    compliance_redirect: Option<String>,
    /// List resource accounts only at /Teams.PlatformService/v2/Legacy/ApplicationInstances
    /// (the current path answers 404).
    #[arg(long)]
    legacy_application_instances_only: bool,
    /// Answer GET /Teams.User/users/{id} with the Teams admin API's REST body
    /// ({"users": [{camelCase…, "effectivePolicyAssignments": […]}]}) instead of the cmdlet's record.
    #[arg(long)]
    rest_online_users: bool,
    /// Answer Graph GET /admin/teams/userConfigurations/{id} with the documented {"value": {…}} wrapper.
    #[arg(long)]
    wrapped_user_configurations: bool,
    /// Serve Teams telephone-number rows with only TelephoneNumber, TargetId and AcquisitionDate.
    #[arg(long)]
    sparse_telephone_numbers: bool,
    /// A person's (delegated) token answers 403 "required scopes are missing in the token" at
    /// paths containing PATH (repeatable), as Graph answers the Azure CLI's token.
    #[arg(long, value_name = "PATH")]
    delegated_scopes_missing: Vec<String>,
    /// The token endpoint refuses CLIENT_ID a person's token for SERVICE with AADSTS65002
    /// (repeatable).
    #[arg(long, value_name = "CLIENT_ID=SERVICE")]
    refuse_audience: Vec<String>,
    /// Print one line per request to stderr.
    #[arg(long, short)]
    verbose: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fake-tenant: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    for (name, rate) in [
        ("--throttle-rate", args.throttle_rate),
        ("--unavailable-rate", args.unavailable_rate),
    ] {
        if !(0.0..=1.0).contains(&rate) {
            return Err(format!("{name} must be between 0 and 1 (got {rate})"));
        }
    }
    let text = std::fs::read_to_string(&args.snapshot)
        .map_err(|e| format!("{}: cannot read snapshot: {e}", args.snapshot.display()))?;
    let snapshot: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("{}: not valid JSON: {e}", args.snapshot.display()))?;
    drop(text);
    let mut faults = Faults::default().random(args.throttle_rate, args.unavailable_rate, args.seed);
    for spec in &args.service_status {
        let (svc, status) = spec
            .split_once('=')
            .ok_or_else(|| format!("--service-status {spec}: expected SERVICE=STATUS"))?;
        let status: u16 = status
            .parse()
            .map_err(|_| format!("--service-status {spec}: STATUS must be a number"))?;
        if !fake_tenant::SERVICES.contains(&svc) {
            return Err(format!(
                "--service-status {spec}: SERVICE must be one of {}",
                fake_tenant::SERVICES.join(", ")
            ));
        }
        faults = faults.service_status(svc, status);
    }
    if let Some(location) = &args.compliance_redirect {
        faults = faults.compliance_redirect(location);
    }
    if args.legacy_application_instances_only {
        faults = faults.legacy_application_instances_only();
    }
    if args.rest_online_users {
        faults = faults.rest_online_users();
    }
    if args.wrapped_user_configurations {
        faults = faults.wrapped_user_configurations();
    }
    if args.sparse_telephone_numbers {
        faults = faults.sparse_telephone_numbers();
    }
    for path in &args.delegated_scopes_missing {
        faults = faults.delegated_scopes_missing(path);
    }
    for spec in &args.refuse_audience {
        let (client, svc) = spec
            .split_once('=')
            .ok_or_else(|| format!("--refuse-audience {spec}: expected CLIENT_ID=SERVICE"))?;
        if !fake_tenant::SERVICES.contains(&svc) {
            return Err(format!(
                "--refuse-audience {spec}: SERVICE must be one of {}",
                fake_tenant::SERVICES.join(", ")
            ));
        }
        faults = faults.refuse_audience(client, svc);
    }
    let options = FakeOptions {
        client_id: args.client_id,
        client_secret: args.client_secret,
        token_lifetime: Duration::from_secs(args.token_lifetime),
        page_size: args.page_size as usize,
        latency: Duration::from_millis(args.latency_ms),
        faults,
        log_to_stderr: args.verbose,
        ..FakeOptions::default()
    };
    let fake = FakeTenant::start_on(snapshot, options, args.port)
        .await
        .map_err(|e| format!("{}: {e}", args.snapshot.display()))?;

    print!("{}", fake.banner(&args.snapshot.display().to_string()));
    println!();
    println!("Ctrl-C to stop.");

    tokio::signal::ctrl_c()
        .await
        .map_err(|e| format!("cannot wait for Ctrl-C: {e}"))?;
    let requests = fake.requests();
    eprintln!("fake-tenant: stopping after {} requests", requests.len());
    fake.shutdown();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(extra: &[&str]) -> Result<Args, clap::Error> {
        Args::try_parse_from(["fake-tenant", "--snapshot", "s.json"].iter().chain(extra))
    }

    #[test]
    fn numeric_flags_out_of_range_are_usage_errors() {
        for bad in [
            ["--page-size", "0"],
            ["--page-size", "10001"],
            ["--latency-ms", "60001"],
            ["--token-lifetime", "0"],
            ["--token-lifetime", "18446744073709551615"],
        ] {
            let err = parse(&bad)
                .err()
                .unwrap_or_else(|| panic!("{bad:?} parsed"));
            assert_eq!(
                err.kind(),
                clap::error::ErrorKind::ValueValidation,
                "{bad:?}"
            );
        }
        assert!(parse(&["--page-size", "1", "--token-lifetime", "86400"]).is_ok());
    }
}
