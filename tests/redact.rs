//! Redaction for sharing a snapshot (`ccaudit redact`, `--redact`): on the field-report tenant,
//! no personal or identifying value of the original survives anywhere in the redacted snapshot
//! or in the audit report of it, and the audit of the redacted snapshot reaches exactly the same
//! verdicts. Pseudonyms depend only on the key.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;

use ccaudit::commands::redact::{RedactArgs, run};
use ccaudit::engine::{self, CheckResult, Status};
use ccaudit::model::{AuditConfig, TenantModel};
use ccaudit::report::{self, ExitStatus, Report};
use ccaudit::snapshot::Snapshot;
use ccaudit::triage::diff::{self, Audited};
use ccaudit::triage::redact::{KEY_LEN, key_path_for, redact, redact_with_pseudonyms};

const KEY: &[u8; KEY_LEN] = b"a test key that is 32 bytes long";
const OTHER_KEY: &[u8; KEY_LEN] = b"another key, also 32 bytes long!";
const CONTACT_CENTER_SKU: &str = "DYN365_CUSTOMER_SERVICE_PREMIUM";

fn example_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
}

fn field_case() -> Snapshot {
    Snapshot::load(&example_path("field-case.snapshot.json")).expect("the example loads")
}

fn audit(snapshot: &Snapshot) -> (TenantModel, Vec<CheckResult>) {
    let env = engine::cel::environment();
    let checks = engine::catalog::load(&env, None).expect("the built-in checks load");
    let config = AuditConfig {
        contact_center_skus: vec![CONTACT_CENTER_SKU.into()],
    };
    let a = Audited::from_snapshot(snapshot, config, &env, &checks);
    (a.model, a.results)
}

/// The field case redacted with `KEY`, and its audit (computed once).
fn redacted() -> &'static (Snapshot, TenantModel, Vec<CheckResult>) {
    static REDACTED: OnceLock<(Snapshot, TenantModel, Vec<CheckResult>)> = OnceLock::new();
    REDACTED.get_or_init(|| {
        let snapshot = redact(&field_case(), KEY);
        let (model, results) = audit(&snapshot);
        (snapshot, model, results)
    })
}

/// Property names (lower case) whose values identify a person, the tenant or its organization.
const IDENTIFYING: &[&str] = &[
    "userprincipalname",
    "displayname",
    "mail",
    "department",
    "companyname",
    "officelocation",
    "city",
    "accountname",
    "domain",
    "description",
    "fullname",
    "domainname",
];
/// The tenant that owns Microsoft's first-party applications.
const MICROSOFT_TENANT: &str = "f8cdef31-a31e-4b4a-93e4-5f571e91255a";
const PHONE: &[&str] = &[
    "telephonenumber",
    "phonenumber",
    "lineuri",
    "msdyn_phonenumber",
];

#[derive(Default)]
struct Originals {
    /// Compared case-insensitively.
    text: BTreeSet<String>,
    /// Digits of phone numbers.
    numbers: BTreeSet<String>,
}

/// Every identifying value of a snapshot, found generically by property name and shape, not
/// from a hand-made list of the example's values.
fn originals(snapshot: &Snapshot) -> Originals {
    let mut found = Originals::default();
    let json = serde_json::to_value(snapshot).unwrap();
    walk(&json, "", "", &mut found);
    found
}

fn add_text(found: &mut Originals, value: &str) {
    let v = value.trim();
    if v.is_empty() {
        return;
    }
    found.text.insert(v.to_lowercase());
    if let Some((_, domain)) = v.rsplit_once('@') {
        found.text.insert(domain.to_lowercase());
    }
}

fn walk(v: &Value, parent: &str, prop: &str, found: &mut Originals) {
    match v {
        Value::Object(map) => {
            // Microsoft's own applications (the ACS and Graph service principals) are named
            // the same in every tenant: their names identify nobody.
            let microsoft_app = map
                .get("appOwnerOrganizationId")
                .is_some_and(|o| o == MICROSOFT_TENANT);
            for (k, child) in map {
                if microsoft_app && k == "displayName" {
                    continue;
                }
                walk(child, prop, &k.to_ascii_lowercase(), found);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| walk(i, parent, prop, found)),
        Value::String(s) => {
            let digits: String = s.chars().filter(char::is_ascii_digit).collect();
            let phone_like = s.trim_start_matches("tel:").starts_with('+') && digits.len() >= 7;
            if PHONE.contains(&prop) || (prop == "msdyn_name" && phone_like) {
                found.numbers.insert(digits);
            } else if prop == "displayname" && parent == "policyassignment" {
                // A policy name: built-in ones (Global) stay by design; custom ones below.
            } else if IDENTIFYING.contains(&prop)
                || parent == "onpremisesextensionattributes"
                || (parent == "verifieddomains" && prop == "name")
                || prop == "tenant_name"
                || (parent == "agents" && prop == "users")
            {
                add_text(found, s);
            } else if prop == "usergroupfilter" {
                // The attribute values a segment is defined by: 'Sales', 'R&D'.
                for (i, part) in s.split('\'').enumerate() {
                    if i % 2 == 1 {
                        add_text(found, part);
                    }
                }
            } else if prop.ends_with("policy") || prop == "identity" || prop == "configid" {
                // Custom Teams policy names (built-in ones are Global and Tag:Microsoft names).
                let name = s.strip_prefix("Tag:").unwrap_or(s);
                let builtin = ccaudit::triage::redact::MICROSOFT_DEFAULT_POLICY_NAMES
                    .iter()
                    .any(|d| d.eq_ignore_ascii_case(name));
                if !builtin && !name.starts_with("CN=") && name.len() > 3 {
                    add_text(found, name);
                }
            } else if let Some(rest) = s.find("://").map(|i| &s[i + 3..]) {
                // The tenant's own hosts (the Dataverse org), not Microsoft's shared ones.
                let host = rest.split('/').next().unwrap_or("");
                if host.contains(".crm") {
                    add_text(found, host);
                }
            } else if s.starts_with("/subscriptions/") {
                // Resource group and resource names in ARM ids.
                let parts: Vec<&str> = s.split('/').collect();
                for (i, p) in parts.iter().enumerate() {
                    if i > 0 && ["resourceGroups", "CommunicationServices"].contains(&parts[i - 1])
                    {
                        add_text(found, p);
                    }
                }
            }
        }
        _ => {}
    }
}

/// The originals that survive in `text`, phone numbers by their digits (all but the country
/// code and the last two digits must be gone).
fn survivors(originals: &Originals, text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let mut out: Vec<String> = originals
        .text
        .iter()
        .filter(|v| lower.contains(v.as_str()))
        .cloned()
        .collect();
    for digits in &originals.numbers {
        let inner = &digits[1..digits.len() - 2];
        if text.contains(digits.as_str()) || text.contains(&digits[1..]) || text.contains(inner) {
            out.push(format!("number {digits}"));
        }
    }
    out
}

#[test]
fn the_collector_finds_the_field_case_identities() {
    // Guards the test below: an empty collection would make it pass vacuously.
    let o = originals(&field_case());
    for expected in [
        "agent1@contoso.com",
        "contoso.com",
        "contoso",
        "avery agent",
        "contact center main line",
        "customer support",
        "r&d",
        "cc-restricted",
        "contoso.crm.dynamics.com",
        "acs-cc-prod",
        "fabrikam.com",
    ] {
        assert!(o.text.contains(expected), "{expected} not collected");
    }
    assert!(o.numbers.contains("14255550100"));
}

#[test]
fn no_original_identity_survives_in_the_redacted_snapshot() {
    let originals = originals(&field_case());
    let text = redacted().0.to_json_pretty();
    let left = survivors(&originals, &text);
    assert!(left.is_empty(), "survived redaction: {left:?}");
}

#[test]
fn no_original_identity_survives_in_the_audit_report_of_the_redacted_snapshot() {
    let originals = originals(&field_case());
    let (_, model, results) = redacted();
    let report = Report::new(model, "snapshot", results.clone());
    for (format, text) in [
        ("json", report::json::render(&report)),
        ("table", report::table::render(&report)),
    ] {
        let left = survivors(&originals, &text);
        assert!(left.is_empty(), "{format} report shows {left:?}");
    }
}

/// The field case as a run that had to find its Dataverse org and its agents: the environment
/// list and the voice-queue members, built from the example's own organization and agents.
fn field_case_with_discovery_facts() -> Snapshot {
    let mut s = field_case();
    let users = s.facts["graph.users"].data.clone().unwrap();
    let rows: Vec<Value> = users["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            serde_json::json!({
                "azureactivedirectoryobjectid": u["id"], "domainname": u["userPrincipalName"],
                "fullname": u["displayName"], "isdisabled": false,
            })
        })
        .collect();
    let org = s.facts["dataverse.msdyn_ocphonenumbers"].endpoint.clone();
    let org_url = org
        .split("/api/")
        .next()
        .unwrap()
        .trim_start_matches("GET ");
    let fact = |endpoint: String, data: Value| ccaudit::snapshot::SourceFact {
        endpoint,
        data: Some(data),
        error: None,
    };
    s.facts.insert(
        "dataverse.systemusers".into(),
        fact(
            format!("GET {org_url}/api/data/v9.2/systemusers"),
            serde_json::json!({ "value": rows }),
        ),
    );
    let tenant_name = s.tenant_name.clone().unwrap_or_default();
    s.facts.insert(
        "powerplatform.environments".into(),
        fact(
            "GET https://api.bap.microsoft.com/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments?api-version=2020-10-01".into(),
            serde_json::json!({"value": [{"name": "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9", "properties": {
                "displayName": format!("{tenant_name} Contact Center"), "isDefault": false,
                "linkedEnvironmentMetadata": {"instanceUrl": format!("{org_url}/"), "instanceState": "Ready"}}}]}),
        ),
    );
    s
}

#[test]
fn discovery_facts_are_redacted_like_the_rest() {
    let original = field_case_with_discovery_facts();
    let originals = originals(&original);
    assert!(originals.text.iter().any(|t| t.contains("contact center")));
    let text = redact(&original, KEY).to_json_pretty();
    let left = survivors(&originals, &text);
    assert!(left.is_empty(), "survived redaction: {left:?}");
    assert!(
        text.contains("https://api.bap.microsoft.com/providers/"),
        "Microsoft's own hosts stay"
    );
}

/// (check, subject id) → the statuses of its results, each subject id passed through `id`.
fn by_subject(
    results: &[CheckResult],
    mut id: impl FnMut(&str) -> String,
) -> BTreeMap<(String, String), Vec<Status>> {
    let mut out: BTreeMap<(String, String), Vec<Status>> = BTreeMap::new();
    for r in results {
        let subject = r.subject.as_ref().map_or(String::new(), |s| id(&s.id));
        out.entry((r.check.clone(), subject))
            .or_default()
            .push(r.status);
    }
    out.values_mut().for_each(|v| v.sort());
    out
}

/// The property: the audit of `redact(s)` gives every check and every subject (followed through
/// the pseudonyms) the status the audit of `s` gives it. Returns the original's results.
fn assert_redaction_keeps_every_verdict(original: &Snapshot, what: &str) -> Vec<CheckResult> {
    let (redacted, mut pseudonyms) = redact_with_pseudonyms(original, KEY);
    let (_, before) = audit(original);
    let (_, after) = audit(&redacted);
    let distinct = by_subject(&before, str::to_string).len();
    let expected = by_subject(&before, |id| pseudonyms.subject_id(id));
    assert_eq!(
        expected.len(),
        distinct,
        "{what}: two subjects share a pseudonym"
    );
    let actual = by_subject(&after, str::to_string);
    let differing: Vec<String> = expected
        .keys()
        .chain(actual.keys())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .filter(|k| expected.get(*k) != actual.get(*k))
        .map(|k| {
            format!(
                "{} [{}]: {:?} before, {:?} after redaction",
                k.0,
                k.1,
                expected.get(k),
                actual.get(k)
            )
        })
        .collect();
    assert!(
        differing.is_empty(),
        "{what}: redaction changed verdicts:\n{}",
        differing.join("\n")
    );
    before
}

fn failing(results: &[CheckResult]) -> BTreeSet<(String, String)> {
    results
        .iter()
        .filter(|r| matches!(r.status, Status::Fail | Status::Missing))
        .map(|r| {
            let name = r.subject.as_ref().map_or(String::new(), |s| s.name.clone());
            (r.check.clone(), name)
        })
        .collect()
}

#[test]
fn the_redacted_field_case_gets_the_same_verdicts_subject_by_subject() {
    let original = field_case();
    let results = assert_redaction_keeps_every_verdict(&original, "field case");
    // Not trivially equal: the seed case's faults are among them, on pseudonymized subjects.
    let failing = failing(&results);
    for (check, subject) in [
        ("ACSFED-002", "bb567890-1234-1234-1234-bbb123456789"),
        ("EXT-001", "agent2@contoso.com"),
        ("EXT-001", "agent3@contoso.com"),
        ("EXT-002", "Tag:CC-Restricted"),
        ("NUM-002", "+14255550150"),
        ("NUM-008", "+14255550175"),
    ] {
        assert!(
            failing.contains(&(check.to_string(), subject.to_string())),
            "{check} [{subject}] should fail: {failing:?}"
        );
    }
}

#[test]
fn the_redacted_healthy_example_gets_the_same_verdicts_subject_by_subject() {
    let original = Snapshot::load(&example_path("healthy.snapshot.json")).unwrap();
    let results = assert_redaction_keeps_every_verdict(&original, "healthy example");
    assert!(results.iter().any(|r| r.status == Status::Pass));
}

#[test]
fn a_synthetic_tenant_with_faults_gets_the_same_verdicts_after_redaction() {
    use ccaudit::synth::{SynthParams, generate};
    // `ccaudit synth --faults-per-mille 50`, smaller.
    let original = generate(&SynthParams {
        resource_accounts: 20,
        numbers: 60,
        agents: 60,
        faults_per_mille: 50,
        seed: 1,
    });
    let results = assert_redaction_keeps_every_verdict(&original, "synthetic tenant");
    assert!(
        !failing(&results).is_empty(),
        "the faults make some checks fail, so equal verdicts are not trivially equal"
    );
}

/// The field case with policies named the other ways the normalizer reads them: an agent's
/// `ExternalAccessPolicy` as an object (`{"Identity": "Tag:…"}`, `{"DisplayName": …}`) and
/// no Graph user configurations to take precedence. Redaction used to pseudonymize those names
/// unlike the policy list's, turning EXT-002 from fail to pass and EXT-001 from fail to unknown.
#[test]
fn policy_names_written_as_objects_keep_their_verdicts_after_redaction() {
    let mut original = field_case();
    original.facts.remove("graph.userConfigurations");
    let users = original
        .facts
        .get_mut("teams.onlineUsers")
        .and_then(|f| f.data.as_mut())
        .and_then(Value::as_object_mut)
        .unwrap();
    let mut rewritten = 0;
    for user in users.values_mut() {
        let policy = &mut user["ExternalAccessPolicy"];
        if policy == "Tag:CC-Restricted" {
            *policy = serde_json::json!({"Identity": "Tag:CC-Restricted"});
            rewritten += 1;
        } else if policy == "CC-Restricted" {
            *policy = serde_json::json!({"DisplayName": "CC-Restricted"});
            rewritten += 1;
        }
    }
    assert_eq!(rewritten, 2, "agent2 and agent3 hold the custom policy");
    let results = assert_redaction_keeps_every_verdict(&original, "object-valued policies");
    let failing = failing(&results);
    assert!(failing.contains(&("EXT-002".into(), "Tag:CC-Restricted".into())));
    assert!(failing.contains(&("EXT-001".into(), "agent2@contoso.com".into())));
}

#[test]
fn the_redacted_snapshot_diffs_like_its_original() {
    // Every relationship the diff compares (allow-list holds the D365 id, number synced for the
    // same resource account, agents in a segment) survives pseudonymization.
    let (model, results) = audit(&field_case());
    let (_, r_model, r_results) = redacted();
    let d = diff::diff(&model, &results, r_model, r_results);
    let differing: Vec<&str> = d
        .settings
        .iter()
        .flat_map(|s| &s.rows)
        .filter(|r| r.differs)
        .map(|r| r.key.as_str())
        .collect();
    assert!(differing.is_empty(), "{differing:?}");
    assert_eq!(d.exit_status(), ExitStatus::Success);
}

#[test]
fn configuration_ids_needed_for_diagnosis_are_kept() {
    let text = redacted().0.to_json_pretty();
    for id in [
        "bb567890-1234-1234-1234-bbb123456789", // D365 ACS immutable id
        "7c1e3d2a-5b4f-4e6a-9d8c-0a1b2c3d4e5f", // Dynamics App ID
        "440eaaa8-b3e0-484b-a8be-62870b9ba70a", // PHONESYSTEM_VIRTUALUSER skuId
        "748a7c7c-a489-4de4-8a68-4415f1d19a9c", // a resource account's object id
        "69091246-20e8-4a56-aa4d-066075b2a7a8", // Teams Administrator role template
    ] {
        assert!(text.contains(id), "{id} was removed");
    }
    assert!(
        text.contains("\"Tag:FederationOnly\""),
        "built-in policy names stay"
    );
    assert!(
        !text.contains("11111111-2222-3333-4444-555555555555"),
        "the tenant id goes"
    );
}

#[test]
fn numbers_keep_country_code_last_two_digits_and_tel_prefix() {
    let text = redacted().0.to_json_pretty();
    let model = &redacted().1;
    let numbers = model.teams.numbers.value().unwrap();
    assert_eq!(numbers.len(), 5);
    for n in numbers.keys() {
        assert!(
            n.starts_with("+1") && n.len() == "+14255550100".len(),
            "{n}"
        );
    }
    assert!(numbers.keys().any(|n| n.ends_with("00")));
    assert!(text.contains("\"tel:+1"), "tel: prefixes stay");
}

#[test]
fn redaction_is_deterministic_for_a_key_and_differs_between_keys() {
    let original = field_case();
    let once = redact(&original, KEY).to_json_pretty();
    assert_eq!(once, redact(&original, KEY).to_json_pretty());
    let other = redact(&original, OTHER_KEY);
    assert_ne!(once, other.to_json_pretty());
    // Either key keeps the verdicts: the same statuses on the same (unpseudonymized) subjects.
    let (_, results) = audit(&other);
    let statuses = |results: &[CheckResult]| {
        let mut s: Vec<(String, Status)> = results
            .iter()
            .map(|r| (r.check.clone(), r.status))
            .collect();
        s.sort();
        s
    };
    assert_eq!(statuses(&results), statuses(&redacted().2));
}

#[test]
fn command_writes_an_owner_only_redacted_snapshot_and_reuses_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("shared.json");
    let args = RedactArgs {
        snapshot: example_path("field-case.snapshot.json"),
        output: output.clone(),
        redact_key: None,
        limit: Default::default(),
    };
    assert_eq!(run(args.clone()).unwrap(), ExitStatus::Success);
    let first = std::fs::read_to_string(&output).unwrap();
    let key_file = key_path_for(&output);
    assert!(key_file.exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for path in [&output, &key_file] {
            let mode = std::fs::metadata(path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{}", path.display());
        }
    }
    let parsed = Snapshot::parse(&first, "shared.json").expect("the output is a snapshot");
    assert_eq!(parsed.facts.len(), field_case().facts.len());

    // Run again: the key next to the output is reused, so the pseudonyms are the same.
    run(args).unwrap();
    assert_eq!(std::fs::read_to_string(&output).unwrap(), first);

    // Another output with that key explicitly: the same pseudonyms again.
    let second = dir.path().join("second.json");
    run(RedactArgs {
        snapshot: example_path("field-case.snapshot.json"),
        output: second.clone(),
        redact_key: Some(key_file),
        limit: Default::default(),
    })
    .unwrap();
    assert_eq!(std::fs::read_to_string(&second).unwrap(), first);
}

#[test]
fn command_refuses_to_overwrite_its_input_or_use_a_missing_key() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.json");
    std::fs::copy(example_path("field-case.snapshot.json"), &input).unwrap();
    let err = run(RedactArgs {
        snapshot: input.clone(),
        output: input.clone(),
        redact_key: None,
        limit: Default::default(),
    })
    .unwrap_err();
    assert!(err.contains("names the same file as --snapshot"), "{err}");
    let err = run(RedactArgs {
        snapshot: input,
        output: dir.path().join("out.json"),
        redact_key: Some(dir.path().join("missing.key")),
        limit: Default::default(),
    })
    .unwrap_err();
    assert!(err.contains("missing.key") && !err.contains('\n'), "{err}");
    assert!(!dir.path().join("out.json").exists());
}

#[test]
fn redaction_keeps_the_verdicts_of_synthetic_tenants_with_faults() {
    use ccaudit::synth::{SynthParams, generate};
    for seed in [1, 2, 3] {
        let original = generate(&SynthParams {
            resource_accounts: 12,
            numbers: 40,
            agents: 30,
            faults_per_mille: 300,
            seed,
        });
        assert_redaction_keeps_every_verdict(&original, &format!("seed {seed}"));
        let (model, results) = audit(&original);
        let (r_model, r_results) = audit(&redact(&original, KEY));
        let d = diff::diff(&model, &results, &r_model, &r_results);
        assert_eq!(d.totals.settings_differ, 0, "seed {seed}");
    }
}

#[test]
fn command_line_takes_snapshot_output_and_an_optional_key() {
    use clap::{CommandFactory, Parser};
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: RedactArgs,
    }
    Cli::command().debug_assert();
    let cli = Cli::try_parse_from([
        "redact",
        "--snapshot",
        "in.json",
        "--output",
        "out.json",
        "--redact-key",
        "k",
    ])
    .expect("parses");
    assert_eq!(cli.args.redact_key, Some(PathBuf::from("k")));
    assert!(Cli::try_parse_from(["redact", "--snapshot", "in.json"]).is_err());
}
