//! `ccaudit collect --script FILE`: a read-only PowerShell script that a customer's admin runs
//! where no app can be granted, writing one JSON file that `audit --snapshot` reads directly
//! (`snapshot::powershell` turns it into a snapshot).
//!
//! The script is a template (`collect_script.ps1`) with the agents, the Dataverse org and the
//! paths ccaudit's own collectors read filled in, so both read the same data.

use crate::sources::{arm, dataverse, graph};
use crate::triage::remediation_script::ps_str;

const TEMPLATE: &str = include_str!("collect_script.ps1");

/// Delegated Microsoft Graph scopes the script asks for: read-only, one per Graph section.
const GRAPH_SCOPES: [&str; 9] = [
    "Organization.Read.All",
    "User.Read.All",
    "GroupMember.Read.All",
    "Application.Read.All",
    "DelegatedPermissionGrant.Read.All",
    "RoleManagement.Read.Directory",
    "TeamsUserConfiguration.Read.All",
    "TeamsTelephoneNumber.Read.All",
    "TeamsResourceAccount.Read.All",
];

/// What the script reads beyond the tenant-wide sections.
#[derive(Debug, Clone, Default)]
pub struct ScriptOptions {
    /// Agents' UPNs or object ids (`--agents`); without them, the members of the Dynamics 365
    /// voice queues when the org is given.
    pub agents: Vec<String>,
    /// The Dynamics 365 org URL (`--dataverse-url`); without it, Dataverse is not read.
    pub dataverse_url: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    #[error("--dataverse-url `{0}` must be an https URL such as https://contoso.crm.dynamics.com")]
    DataverseUrl(String),
}

/// The script's text: UTF-8 with a byte-order mark, which Windows PowerShell 5.1 needs to read
/// a script as UTF-8 (without it, a non-ASCII agent name would be misread).
pub fn render(options: &ScriptOptions) -> Result<String, ScriptError> {
    let dataverse = match &options.dataverse_url {
        Some(url) => {
            let org = url.trim().trim_end_matches('/');
            let valid =
                url::Url::parse(org).is_ok_and(|u| u.scheme() == "https" && u.host_str().is_some());
            if !valid {
                return Err(ScriptError::DataverseUrl(url.clone()));
            }
            (ps_str(org), dataverse_sections())
        }
        None => (
            "''".to_string(),
            "# Not read: no --dataverse-url was given to `ccaudit collect --script`.\n".to_string(),
        ),
    };
    let agents: Vec<String> = options
        .agents
        .iter()
        .map(|a| a.trim())
        .filter(|a| !a.is_empty())
        .map(ps_str)
        .collect();
    let scopes: Vec<String> = GRAPH_SCOPES.iter().map(|s| ps_str(s)).collect();
    let text = TEMPLATE
        .replace("{{VERSION_STR}}", &ps_str(env!("CARGO_PKG_VERSION")))
        .replace("{{VERSION}}", env!("CARGO_PKG_VERSION"))
        .replace("{{AGENTS}}", &agents.join(", "))
        .replace("{{DATAVERSE_URL}}", &dataverse.0)
        .replace("{{DATAVERSE}}", &dataverse.1)
        .replace("{{GRAPH_SCOPES}}", &scopes.join(", "))
        .replace(
            "{{SERVICE_PRINCIPALS_PATH}}",
            &ps_str(graph::SERVICE_PRINCIPALS_PATH),
        )
        .replace("{{USER_SELECT}}", graph::USER_SELECT)
        .replace("{{GROUP_SELECT}}", graph::GROUP_SELECT)
        .replace(
            "{{VOICE_QUEUE_MEMBERS_PATH}}",
            &ps_str(dataverse::VOICE_QUEUE_MEMBERS.1),
        )
        .replace("{{ACS_API}}", arm::ACS_API)
        .replace("{{EVENT_GRID_API}}", arm::EVENT_GRID_API);
    Ok(format!("\u{FEFF}{text}"))
}

/// One section per Dataverse table ccaudit's live collector reads, with the same `$select`
/// (which never includes the secret columns).
fn dataverse_sections() -> String {
    let mut out = String::new();
    for (key, path) in dataverse::TABLES {
        let table = path
            .trim_start_matches("/api/data/v9.2/")
            .split('?')
            .next()
            .unwrap_or(path);
        out.push_str(&format!(
            "Get-CcaudSection {key} 'dataverse' {command} {{\n    Get-CcaudRestList ($DataverseUrl + {path}) (Get-CcaudToken $DataverseUrl)\n}}\n",
            key = ps_str(key.as_str()),
            command = ps_str(&format!("Invoke-RestMethod -Method Get /api/data/v9.2/{table}")),
            path = ps_str(path),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_placeholder_is_filled() {
        let script = render(&ScriptOptions {
            agents: vec!["agent1@contoso.com".into()],
            dataverse_url: Some("https://contoso.crm.dynamics.com/".into()),
        })
        .unwrap();
        assert!(!script.contains("{{"), "an unfilled placeholder");
        assert!(script.contains("$Agents = @('agent1@contoso.com')"));
        assert!(script.contains("$DataverseUrl = 'https://contoso.crm.dynamics.com'"));
        assert!(script.contains("'dataverse.msdyn_ocphonenumbers'"));
    }

    #[test]
    fn agent_names_cannot_break_out_of_their_string() {
        let script = render(&ScriptOptions {
            agents: vec!["o'hara@contoso.com'; Remove-Item C:\\ #".into()],
            dataverse_url: None,
        })
        .unwrap();
        assert!(script.contains("@('o''hara@contoso.com''; Remove-Item C:\\ #')"));
        assert!(script.contains("# Not read: no --dataverse-url"));
    }

    #[test]
    fn a_dataverse_url_that_is_not_https_is_refused() {
        let err = render(&ScriptOptions {
            agents: Vec::new(),
            dataverse_url: Some("contoso.crm.dynamics.com'; Remove-Item x".into()),
        })
        .unwrap_err();
        assert!(err.to_string().contains("--dataverse-url"), "{err}");
    }
}
