//! The customer-run collection script (`ccaudit collect --script`): it parses as PowerShell,
//! calls only commands that read, and what it writes — in both PowerShell dialects — audits to
//! the same verdicts as the example snapshots the fixtures were built from.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use ccaudit::engine;
use ccaudit::model::{AuditConfig, TenantModel};
use ccaudit::snapshot::Snapshot;
use ccaudit::triage::collect_script::{ScriptOptions, render};

/// The license SKU the example agents hold for Dynamics 365 (what `--cc-sku` names).
const CONTACT_CENTER_SKU: &str = "DYN365_CUSTOMER_SERVICE_PREMIUM";

/// Commands that neither read a tenant nor change anything.
const HARMLESS: [&str; 4] = ["Write-Host", "Select-Object", "Out-Null", "ConvertTo-Json"];

/// .NET methods the script may call: conversions and lookups, nothing that writes.
const METHODS: [&str; 7] = [
    "ToString",
    "ToUniversalTime",
    "ToLowerInvariant",
    "EscapeDataString",
    "ContainsKey",
    "Contains",
    "new",
];

fn script() -> String {
    render(&ScriptOptions {
        agents: vec![
            "agent1@contoso.com".into(),
            "agent2@contoso.com".into(),
            "agent3@contoso.com".into(),
        ],
        dataverse_url: Some("https://contoso.crm.dynamics.com".into()),
    })
    .expect("the script renders")
}

fn text<'a>(node: tree_sitter::Node<'_>, src: &'a str) -> &'a str {
    &src[node.byte_range()]
}

/// Every command the script calls, checked: the first that is not allowed (or a syntax error)
/// is the error. Returns the names of the commands called.
fn read_only_commands(src: &str) -> Result<BTreeSet<String>, String> {
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_powershell::LANGUAGE.into())
        .expect("the PowerShell grammar loads");
    let tree = parser.parse(src, None).expect("the parser returns a tree");
    let line = |n: tree_sitter::Node<'_>| n.start_position().row + 1;
    let mut functions = BTreeSet::new();
    let mut commands = Vec::new();
    let mut methods = Vec::new();
    let mut stack = vec![tree.root_node()];
    while let Some(node) = stack.pop() {
        if node.is_error() || node.is_missing() {
            return Err(format!("syntax error at line {}", line(node)));
        }
        match node.kind() {
            "function_name" => {
                functions.insert(text(node, src).to_string());
            }
            "command" => commands.push(node),
            "invokation_expression" => methods.push(node),
            _ => {}
        }
        let mut cursor = node.walk();
        stack.extend(node.children(&mut cursor));
    }
    let mut called = BTreeSet::new();
    for command in commands {
        let name_node = command
            .child_by_field_name("command_name")
            .ok_or_else(|| format!("line {}: a command without a name", line(command)))?;
        let name = text(name_node, src);
        let mut cursor = command.walk();
        let invoked = command
            .children(&mut cursor)
            .any(|c| c.kind() == "command_invokation_operator");
        if invoked || name_node.kind() != "command_name" {
            // Only `& $Read`: the section's script block, itself part of this script.
            if name == "$Read" && invoked {
                continue;
            }
            return Err(format!("line {}: dynamic call `{name}`", line(command)));
        }
        let elements: Vec<&str> = command
            .child_by_field_name("command_elements")
            .map(|e| {
                let mut c = e.walk();
                e.named_children(&mut c)
                    .filter(|n| n.kind() != "command_argument_sep")
                    .map(|n| text(n, src))
                    .collect()
            })
            .unwrap_or_default();
        let argument = |parameter: &str| {
            elements
                .iter()
                .position(|e| e.eq_ignore_ascii_case(parameter))
                .and_then(|i| elements.get(i + 1))
                .copied()
        };
        let defined_or_read =
            functions.contains(name) || name.starts_with("Connect-") || name.starts_with("Get-");
        let allowed = if defined_or_read {
            true
        } else if name == "Invoke-RestMethod" || name == "Invoke-MgGraphRequest" {
            argument("-Method").is_some_and(|m| m.eq_ignore_ascii_case("Get"))
        } else if name == "Out-File" {
            argument("-FilePath") == Some("$OutFile")
        } else if name == "Set-Content" {
            argument("-Path") == Some("$OutFile")
        } else {
            HARMLESS.contains(&name)
        };
        if !allowed {
            return Err(format!(
                "line {}: `{}` is not a read",
                line(command),
                text(command, src)
            ));
        }
        called.insert(name.to_string());
    }
    for call in methods {
        let mut cursor = call.walk();
        let member = call
            .named_children(&mut cursor)
            .find(|c| c.kind() == "member_name")
            .map(|m| text(m, src))
            .unwrap_or("");
        if !METHODS.iter().any(|m| m.eq_ignore_ascii_case(member)) {
            return Err(format!(
                "line {}: method `{member}` is not on the list",
                line(call)
            ));
        }
    }
    Ok(called)
}

#[test]
fn the_check_refuses_what_would_change_or_hide_a_call() {
    for bad in [
        "Remove-Item C:\\x\n",
        "Set-CsTeamsAcsFederationConfiguration -EnableAcsUsers $true\n",
        "Invoke-RestMethod -Method Post -Uri $u\n",
        "Invoke-RestMethod -Uri $u\n",
        "Invoke-MgGraphRequest -Method PATCH -Uri $u\n",
        "$c = 'Remove-Item'; & $c x\n",
        "[System.IO.File]::Delete('x')\n",
        "'x' | Out-File -FilePath C:\\Windows\\x.txt\n",
        "if ($true) { Write-Host 'open'\n",
    ] {
        assert!(read_only_commands(bad).is_err(), "accepted: {bad}");
    }
    assert!(read_only_commands("Get-CsOnlineUser -Identity $id | Out-Null\n").is_ok());
}

#[test]
fn the_script_parses_and_calls_only_commands_that_read() {
    let script = script();
    let called = read_only_commands(&script).unwrap_or_else(|e| panic!("{e}"));
    // Every documented source is read through the command the issue names.
    for command in [
        "Get-CsTeamsAcsFederationConfiguration",
        "Get-CsExternalAccessPolicy",
        "Get-CsTenantFederationConfiguration",
        "Get-CsOnlineApplicationInstance",
        "Get-CsOnlineApplicationInstanceAssociation",
        "Get-CsPhoneNumberAssignment",
        "Get-CsOnlineUser",
        "Get-InformationBarrierPolicy",
        "Get-OrganizationSegment",
        "Connect-IPPSSession",
        "Connect-MicrosoftTeams",
        "Connect-MgGraph",
        "Invoke-MgGraphRequest",
        "Invoke-RestMethod",
        "ConvertTo-Json",
        "Out-File",
    ] {
        assert!(called.contains(command), "{command} is not called");
    }
}

#[test]
fn without_agents_the_script_reads_the_voice_queue_members_and_stays_read_only() {
    let discovery = render(&ScriptOptions {
        agents: Vec::new(),
        dataverse_url: Some("https://contoso.crm.dynamics.com".into()),
    })
    .expect("renders");
    assert!(discovery.contains("'dataverse.systemusers'"));
    assert!(discovery.contains("msdyn_queuetype eq 192350002"));
    read_only_commands(&discovery).unwrap_or_else(|e| panic!("{e}"));
    let bare = render(&ScriptOptions::default()).expect("renders");
    read_only_commands(&bare).unwrap_or_else(|e| panic!("{e}"));
    assert!(bare.contains("$Agents = @()"));
}

#[test]
fn the_script_reads_every_fact_the_examples_hold() {
    let script = script();
    let example = load(&example_path("field-case.snapshot.json"));
    for key in example.facts.keys() {
        assert!(
            script.contains(&format!("'{key}'")),
            "the script has no section for {key}"
        );
    }
}

#[test]
fn the_script_never_selects_the_dataverse_secret_columns() {
    let script = script().to_ascii_lowercase();
    assert!(!script.contains("msdyn_secret"));
    assert!(!script.contains("msdyn_securesecret"));
}

// --- the files it writes --------------------------------------------------------------------

fn example_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
}

fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/collect-script")
        .join(name)
}

fn load(path: &Path) -> Snapshot {
    Snapshot::load(path).unwrap_or_else(|e| panic!("{e}"))
}

/// (check, subject, status) of every result: what the audit concluded, without the wording
/// (which names the command the data came from).
fn verdicts(snapshot: &Snapshot) -> Vec<(String, String, String)> {
    let config = AuditConfig {
        contact_center_skus: vec![CONTACT_CENTER_SKU.into()],
    };
    let model = TenantModel::from_snapshot(snapshot, config);
    let env = engine::cel::environment();
    let checks = engine::catalog::load(&env, None).expect("the built-in checks load");
    let mut out: Vec<_> = engine::evaluate(&env, &checks, &model)
        .into_iter()
        .map(|r| {
            (
                r.check.clone(),
                r.subject.map(|s| s.name).unwrap_or_default(),
                r.status.as_str().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

fn same_verdicts_as_the_example(fixture: &str, example: &str) {
    let expected = verdicts(&load(&example_path(example)));
    let got = verdicts(&load(&fixture_path(fixture)));
    assert!(!expected.is_empty());
    assert_eq!(got, expected, "{fixture} audits differently from {example}");
}

#[test]
fn windows_powershell_output_of_the_field_case_audits_as_the_example() {
    let bytes = std::fs::read(fixture_path("field-case.ps51.json")).expect("the fixture");
    assert_eq!(bytes[..2], [0xFF, 0xFE], "UTF-16LE, as Out-File writes it");
    same_verdicts_as_the_example("field-case.ps51.json", "field-case.snapshot.json");
}

#[test]
fn windows_powershell_output_of_the_healthy_tenant_audits_as_the_example() {
    let bytes = std::fs::read(fixture_path("healthy.ps51.json")).expect("the fixture");
    assert_eq!(
        bytes[..3],
        [0xEF, 0xBB, 0xBF],
        "UTF-8 with a byte-order mark"
    );
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("\\/Date("), "5.1 dates");
    same_verdicts_as_the_example("healthy.ps51.json", "healthy.snapshot.json");
}

#[test]
fn powershell_7_output_audits_as_the_examples() {
    same_verdicts_as_the_example("field-case.ps7.json", "field-case.snapshot.json");
    same_verdicts_as_the_example("healthy.ps7.json", "healthy.snapshot.json");
}

#[test]
fn the_file_says_what_wrote_it() {
    let snapshot = load(&fixture_path("healthy.ps51.json"));
    assert!(
        snapshot
            .tool_version
            .starts_with("collection script 0.1.0, PowerShell 5.1"),
        "{}",
        snapshot.tool_version
    );
    let fact = &snapshot.facts["teams.ExternalAccessPolicy"];
    assert_eq!(
        fact.endpoint,
        "Get-CsExternalAccessPolicy (collection script)"
    );
    // The dialect is undone: no 5.1 date and no 5.1 array wrapper reaches the normalizers.
    let field_case = load(&fixture_path("field-case.ps51.json"));
    let json = field_case.to_json_pretty();
    assert!(!json.contains("/Date("), "a 5.1 date was left");
    let acs = field_case.facts["teams.TeamsAcsFederationConfiguration"]
        .data
        .as_ref()
        .expect("data");
    assert!(acs[0]["AllowedAcsResources"].is_array(), "{acs}");
}

#[test]
fn a_section_that_failed_is_unknown_naming_the_command_and_the_error() {
    let text = std::fs::read_to_string(fixture_path("field-case.ps7.json")).expect("the fixture");
    let mut value: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    value["sections"]["teams.TeamsAcsFederationConfiguration"] = serde_json::json!({
        "command": "Get-CsTeamsAcsFederationConfiguration",
        "error": {"message": "Access Denied.", "code": "AccessDenied,Microsoft.Teams.ConfigApi.Cmdlets"}
    });
    let snapshot = Snapshot::parse(&value.to_string(), "failed.json").expect("it reads");
    let model = TenantModel::from_snapshot(&snapshot, AuditConfig::default());
    let unavailable = serde_json::to_string(&model.unavailable_facts()).expect("JSON");
    assert!(
        unavailable.contains("Get-CsTeamsAcsFederationConfiguration (collection script)"),
        "{unavailable}"
    );
    assert!(unavailable.contains("Access Denied."), "{unavailable}");
}

// --- the command line -----------------------------------------------------------------------

fn ccaudit() -> assert_cmd::Command {
    let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("ccaudit");
    cmd.env_remove("CCAUDIT_CONFIG");
    cmd
}

/// Runs `ccaudit collect --script DIR/collect.ps1 ARGS`: the directory, the script's path and
/// what the run returned.
fn collect_script(args: &[&str]) -> (tempfile::TempDir, PathBuf, std::process::Output) {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let path = dir.path().join("collect.ps1");
    let out = ccaudit()
        .args(["collect", "--script"])
        .arg(&path)
        .args(args)
        .output()
        .expect("runs");
    (dir, path, out)
}

#[test]
fn collect_script_writes_the_script_for_the_agents_and_org_given() {
    let (_dir, path, out) = collect_script(&[
        "--agents",
        "agent1@contoso.com,agent2@contoso.com",
        "--dataverse-url",
        "https://contoso.crm.dynamics.com",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let written = std::fs::read_to_string(&path).expect("the script");
    assert!(written.contains("$Agents = @('agent1@contoso.com', 'agent2@contoso.com')"));
    read_only_commands(&written).unwrap_or_else(|e| panic!("{e}"));
    assert!(stderr.contains("audit --snapshot"), "{stderr}");
}

#[test]
fn collect_script_refuses_flags_of_a_live_read() {
    let (_dir, path, out) = collect_script(&["--tenant", "contoso.onmicrosoft.com"]);
    assert!(!out.status.success());
    assert!(!path.exists());
    let (_dir, path, out) = collect_script(&["--agent-group", "g"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--agent-group"), "{stderr}");
    assert!(!path.exists());
}

#[test]
fn audit_reads_the_scripts_file_directly_with_the_examples_exit_code() {
    let run = |snapshot: PathBuf| {
        ccaudit()
            .args(["audit", "--cc-sku", CONTACT_CENTER_SKU, "--snapshot"])
            .arg(snapshot)
            .output()
            .expect("runs")
            .status
            .code()
    };
    assert_eq!(
        run(fixture_path("field-case.ps51.json")),
        run(example_path("field-case.snapshot.json"))
    );
    assert_eq!(
        run(fixture_path("healthy.ps7.json")),
        run(example_path("healthy.snapshot.json"))
    );
}
