//! `ccaudit collect --script FILE`: writes the read-only collection script for a tenant's own
//! admin to run (`crate::triage::collect_script`), for the agents and the Dynamics 365 org given.

use std::path::Path;

use super::live::LiveArgs;
use crate::files::{self, Named};
use crate::sources::endpoints::Cloud;
use crate::triage::collect_script::{self, ScriptOptions};

/// Writes the script to `path` and says on stderr what to do with it.
pub fn run(path: &Path, live: &LiveArgs) -> Result<(), String> {
    // The script signs in itself: what only a live read uses would be silently ignored.
    let live_only = [
        ("--auth", live.auth.is_some()),
        ("--endpoint", !live.endpoints.is_empty()),
        ("--subscription", !live.subscriptions.is_empty()),
        ("--agent-group", live.agent_group.is_some()),
        ("--timeout", !live.timeouts.is_empty()),
        ("--connect-timeout", !live.connect_timeouts.is_empty()),
        ("--deadline", live.deadline.is_some()),
    ];
    if let Some((flag, _)) = live_only.iter().find(|(_, used)| *used) {
        return Err(format!(
            "{flag} applies to a live read (--tenant), not to --script (the script signs in as the admin who runs it; name agents with --agents)"
        ));
    }
    if !matches!(live.cloud, Cloud::Public | Cloud::Gcc) {
        return Err(
            "the collection script reads the commercial cloud (public, gcc) only; read a sovereign-cloud tenant live with --tenant"
                .into(),
        );
    }
    files::check_paths(&[Named::output("--script", path)])?;
    let script = collect_script::render(&ScriptOptions {
        agents: live.agents.clone(),
        dataverse_url: live.dataverse_url.clone(),
    })
    .map_err(|e| e.to_string())?;
    crate::private_file::write(path, script.as_bytes())
        .map_err(|e| format!("{}: cannot write the script: {e}", path.display()))?;
    if !live.quiet {
        let shown = path.display();
        files::note(&format!(
            "wrote {shown}: ask the tenant's admin to run it (powershell -File {shown} -OutFile ccaudit-collection.json) and send back the file, then: ccaudit audit --snapshot ccaudit-collection.json"
        ));
        if live.dataverse_url.is_none() {
            files::note(
                "without --dataverse-url the script does not read Dynamics 365: its checks will be unknown",
            );
        }
        if live.agents.is_empty() && live.dataverse_url.is_none() {
            files::note(
                "without --agents or --dataverse-url the script reads no agents: the agent checks will be skipped",
            );
        }
    }
    Ok(())
}
