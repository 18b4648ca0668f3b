//! `ccaudit synth --output FILE`: a generated tenant snapshot of a given size, for benchmarks,
//! demos and the fake tenant server.

use std::path::PathBuf;

use super::options::save_snapshot;
use crate::files::{self, Named};
use crate::report::ExitStatus;
use crate::synth::{self, SynthParams};

/// `synth` sizes stop at 20 times S (docs/performance.md): about 350 MiB of snapshot, under the
/// default `--max-snapshot-mib`, so whatever `synth` writes can be audited.
#[derive(Debug, Clone, clap::Args)]
pub struct SynthArgs {
    /// Contact-center resource accounts (0 to 10000).
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(0..=10_000))]
    pub resource_accounts: u32,
    /// Phone numbers in the tenant (0 to 100000).
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u32).range(0..=100_000))]
    pub numbers: u32,
    /// Agents (0 to 40000).
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u32).range(0..=40_000))]
    pub agents: u32,
    /// Share of agents, resource accounts and numbers given a misconfiguration, per thousand
    /// (0 to 1000).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=1000))]
    pub faults_per_mille: u32,
    #[arg(long)]
    pub output: PathBuf,
}

pub fn run(args: SynthArgs) -> Result<ExitStatus, String> {
    files::check_paths(&[Named::output("--output", &args.output)])?;
    let size = |n: u32| n as usize;
    let mut params = SynthParams::healthy(
        size(args.resource_accounts),
        size(args.numbers),
        size(args.agents),
    );
    params.faults_per_mille = args.faults_per_mille;
    save_snapshot(&args.output, &synth::generate(&params))?;
    Ok(ExitStatus::Success)
}
