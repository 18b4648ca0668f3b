//! Finding the Dataverse environment when `--dataverse-url` is not given (apis.md D.5).
//!
//! The Power Platform admin API (BAP) lists the tenant's environments; those with a Dataverse
//! database carry an `instanceUrl`. Every tenant has at least the Default environment, so "the
//! only one" rarely settles it: when there are several, each is asked (one GET, one row) whether
//! it holds Contact Center voice provider settings, and the one that does is audited. Anything
//! else (none, several, an unreadable list) leaves the D365 facts not collected, with the
//! environments found and the flag to pass.

use serde_json::{Value, json};
use url::Url;

use super::endpoints::{Cloud, Service, is_loopback};
use super::http::ReadOnlyClient;
use super::paging::Paging;
use super::run::{NoEnvironment, Run};
use crate::fact_key::FactKey;
use crate::json::str_prop;

/// Snapshot key of the environment list.
pub(crate) const FACT: FactKey = FactKey::PowerPlatformEnvironments;
pub(crate) const ENVIRONMENTS_PATH: &str =
    "/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments?api-version=2020-10-01";
/// One row of the ACS provider settings: whether an org runs Contact Center voice.
const PROBE_PATH: &str = "/api/data/v9.2/msdyn_occommunicationprovidersettings?$select=msdyn_occommunicationprovidersettingid&$top=1";

/// An environment with a Dataverse database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Candidate {
    pub name: String,
    pub url: Url,
}

/// What asking one candidate for voice provider settings showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Probe {
    /// It has at least one provider-settings row.
    Voice,
    /// The table is empty or does not exist there (no Contact Center solution).
    NoVoice,
    /// It could not be read (why, in one line).
    Unreadable(String),
}

/// The client to read Dataverse with: the run's own when `--dataverse-url` was given, else
/// the org the Power Platform admin API leads to (looked up once, however many collectors
/// ask), or why there is none.
pub(crate) async fn dataverse_client<'r>(
    run: &'r Run<'_>,
) -> Result<&'r ReadOnlyClient, &'r NoEnvironment> {
    if run.client.endpoints().base(Service::Dataverse).is_some() {
        return Ok(run.client);
    }
    run.dataverse
        .get_or_init(|| find_environment(run))
        .await
        .as_ref()
}

/// Lists the environments (recorded as [`FACT`]) and returns a client for the one to audit,
/// or why there is none.
pub(crate) async fn find_environment(run: &Run<'_>) -> Result<ReadOnlyClient, NoEnvironment> {
    let label = run.label(Service::PowerPlatform, ENVIRONMENTS_PATH);
    let listed = run
        .client
        .get_paged(
            Service::PowerPlatform,
            ENVIRONMENTS_PATH,
            &[],
            Paging::ArmNextLink,
        )
        .await;
    let listed = match listed {
        Ok(v) => project(&v),
        Err(e) => {
            let why = NoEnvironment::NotListed(e.clone());
            run.record(FACT, &label, Err(e));
            return Err(why);
        }
    };
    let trust_loopback = run
        .client
        .endpoints()
        .base(Service::PowerPlatform)
        .is_some_and(is_loopback);
    let found = candidates(&listed, run.cloud(), trust_loopback);
    run.record(FACT, &label, Ok(listed));
    let probes = if found.len() > 1 {
        probe_all(run.client, &found).await
    } else {
        Vec::new()
    };
    let chosen = choose(&found, &probes)?;
    Ok(run.client.with_dataverse(&found[chosen].url)?)
}

/// The environment list, reduced to what ccaudit uses (BAP has no `$select`): names, default
/// flag, SKU and the Dataverse instance. Keeps the snapshot free of the rest of the metadata.
fn project(listed: &Value) -> Value {
    let rows = listed
        .get("value")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let value: Vec<Value> = rows
        .iter()
        .map(|env| {
            let props = env.get("properties").unwrap_or(&Value::Null);
            let linked = props
                .get("linkedEnvironmentMetadata")
                .unwrap_or(&Value::Null);
            json!({
                "name": env.get("name").cloned().unwrap_or(Value::Null),
                "properties": {
                    "displayName": props.get("displayName").cloned().unwrap_or(Value::Null),
                    "isDefault": props.get("isDefault").cloned().unwrap_or(Value::Null),
                    "environmentSku": props.get("environmentSku").cloned().unwrap_or(Value::Null),
                    "linkedEnvironmentMetadata": {
                        "instanceUrl": linked.get("instanceUrl").cloned().unwrap_or(Value::Null),
                        "instanceState": linked.get("instanceState").cloned().unwrap_or(Value::Null),
                    },
                },
            })
        })
        .collect();
    json!({ "value": value })
}

/// Environments with a ready Dataverse instance on a Dynamics host of this cloud. A bearer
/// token is sent to the URL found, so a host outside Microsoft's Dynamics domains is never
/// trusted (loopback only when the admin API itself was pointed at loopback: the fake tenant).
pub(crate) fn candidates(listed: &Value, cloud: Cloud, trust_loopback: bool) -> Vec<Candidate> {
    let rows = listed
        .get("value")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    rows.iter()
        .filter_map(|env| {
            let linked = env.pointer("/properties/linkedEnvironmentMetadata")?;
            let state = str_prop(linked, &["instanceState"]);
            if state.is_some_and(|s| !s.eq_ignore_ascii_case("Ready")) {
                return None;
            }
            let url = Url::parse(&str_prop(linked, &["instanceUrl"])?).ok()?;
            let trusted = dynamics_host(&url, cloud) || (trust_loopback && is_loopback(&url));
            if !trusted {
                return None;
            }
            let name = env
                .pointer("/properties/displayName")
                .and_then(Value::as_str)
                .map(str::to_string)
                .or_else(|| str_prop(env, &["name"]))
                .unwrap_or_else(|| "(unnamed)".to_string());
            Some(Candidate { name, url })
        })
        .collect()
}

/// `https://<org>.<region>.dynamics.com` and the national clouds' equivalents.
fn dynamics_host(url: &Url, cloud: Cloud) -> bool {
    let domains: &[&str] = match cloud {
        Cloud::Public | Cloud::Gcc => &[".dynamics.com"],
        Cloud::GccHigh => &[".microsoftdynamics.us"],
        Cloud::Dod => &[".appsplatform.us"],
        Cloud::China => &[".dynamics.cn"],
    };
    url.scheme() == "https"
        && url.host_str().is_some_and(|h| {
            let h = h.to_ascii_lowercase();
            domains.iter().any(|d| h.ends_with(d))
        })
}

/// Asks every candidate at once; results in the order of `found`.
async fn probe_all(client: &ReadOnlyClient, found: &[Candidate]) -> Vec<Probe> {
    let mut tasks = tokio::task::JoinSet::new();
    for (i, c) in found.iter().enumerate() {
        let (client, c) = (client.clone(), c.clone());
        tasks.spawn(async move { (i, probe(&client, &c).await) });
    }
    let mut probes = vec![Probe::Unreadable("not asked".into()); found.len()];
    while let Some(joined) = tasks.join_next().await {
        if let Ok((i, p)) = joined {
            probes[i] = p;
        }
    }
    probes
}

async fn probe(client: &ReadOnlyClient, candidate: &Candidate) -> Probe {
    let org = match client.with_dataverse(&candidate.url) {
        Ok(org) => org,
        Err(e) => return Probe::Unreadable(e.to_string()),
    };
    match org.get(Service::Dataverse, PROBE_PATH, &[]).await {
        Ok(v) => match v.get("value").and_then(Value::as_array) {
            Some(rows) if !rows.is_empty() => Probe::Voice,
            _ => Probe::NoVoice,
        },
        // The table does not exist in an org without the Contact Center solution.
        Err(e) if e.status == Some(404) => Probe::NoVoice,
        Err(e) => Probe::Unreadable(match (e.status, &e.code) {
            (Some(s), Some(c)) => format!("HTTP {s} {c}"),
            (Some(s), None) => format!("HTTP {s}"),
            _ => e.message,
        }),
    }
}

/// The index of the environment to audit: the only one, or the only one with voice settings.
/// `probes` is empty when there was nothing to ask (zero or one candidate).
pub(crate) fn choose(found: &[Candidate], probes: &[Probe]) -> Result<usize, NoEnvironment> {
    match found.len() {
        0 => return Err(NoEnvironment::NoneReady),
        1 => return Ok(0),
        _ => {}
    }
    let voice: Vec<usize> = (0..found.len())
        .filter(|&i| probes.get(i) == Some(&Probe::Voice))
        .collect();
    if let [only] = voice.as_slice() {
        return Ok(*only);
    }
    let listed: Vec<String> = found
        .iter()
        .zip(probes)
        .map(|(c, p)| {
            let what = match p {
                Probe::Voice => "has voice settings".to_string(),
                Probe::NoVoice => "no voice settings".to_string(),
                Probe::Unreadable(why) => format!("not readable: {why}"),
            };
            format!(
                "{} {} ({what})",
                c.name,
                c.url.as_str().trim_end_matches('/')
            )
        })
        .collect();
    let how_many = if voice.is_empty() {
        "none has".to_string()
    } else {
        format!("{} have", voice.len())
    };
    Err(NoEnvironment::Ambiguous {
        count: found.len(),
        how_many,
        listed: listed.join(", "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str, url: &str, state: &str) -> Value {
        json!({"name": format!("id-{name}"), "properties": {"displayName": name, "isDefault": name == "Default",
            "linkedEnvironmentMetadata": {"instanceUrl": url, "instanceState": state, "uniqueName": "x"}}})
    }

    fn list(envs: Vec<Value>) -> Value {
        json!({ "value": envs })
    }

    #[test]
    fn only_ready_dataverse_instances_on_dynamics_hosts_are_candidates() {
        let listed = list(vec![
            env("CC", "https://contoso.crm4.dynamics.com/", "Ready"),
            env("Disabled", "https://old.crm.dynamics.com/", "Disabled"),
            json!({"name": "no-db", "properties": {"displayName": "Teams only"}}),
            env(
                "Evil",
                "https://contoso.crm.dynamics.com.evil.example/",
                "Ready",
            ),
            env("Plain", "http://contoso.crm.dynamics.com/", "Ready"),
            env("Local", "http://127.0.0.1:9/dataverse/", "Ready"),
        ]);
        let names = |c: Vec<Candidate>| c.into_iter().map(|c| c.name).collect::<Vec<_>>();
        assert_eq!(names(candidates(&listed, Cloud::Public, false)), ["CC"]);
        assert_eq!(
            names(candidates(&listed, Cloud::Public, true)),
            ["CC", "Local"]
        );
        assert!(candidates(&listed, Cloud::GccHigh, false).is_empty());
    }

    #[test]
    fn projection_keeps_only_what_discovery_uses() {
        let mut e = env("CC", "https://contoso.crm.dynamics.com/", "Ready");
        e["properties"]["tenantId"] = json!("t");
        let p = project(&list(vec![e]));
        let row = &p["value"][0];
        assert_eq!(row["properties"]["displayName"], "CC");
        assert!(row["properties"].get("tenantId").is_none());
        assert!(
            row["properties"]["linkedEnvironmentMetadata"]
                .get("uniqueName")
                .is_none()
        );
        assert_eq!(
            candidates(&p, Cloud::Public, false)[0].url.as_str(),
            "https://contoso.crm.dynamics.com/"
        );
    }

    fn cand(name: &str) -> Candidate {
        Candidate {
            name: name.into(),
            url: Url::parse(&format!("https://{name}.crm.dynamics.com/")).unwrap(),
        }
    }

    #[test]
    fn one_candidate_is_taken_without_asking() {
        assert_eq!(choose(&[cand("a")], &[]), Ok(0));
    }

    #[test]
    fn of_several_the_only_one_with_voice_settings_is_taken() {
        let found = [cand("default"), cand("cc"), cand("dev")];
        let probes = [
            Probe::NoVoice,
            Probe::Voice,
            Probe::Unreadable("HTTP 403".into()),
        ];
        assert_eq!(choose(&found, &probes), Ok(1));
    }

    #[test]
    fn none_or_several_with_voice_settings_name_every_environment_and_the_flag() {
        let found = [cand("default"), cand("cc")];
        let e = choose(
            &found,
            &[Probe::NoVoice, Probe::Unreadable("HTTP 403".into())],
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("none has"), "{e}");
        assert!(
            e.contains("https://cc.crm.dynamics.com (not readable: HTTP 403)"),
            "{e}"
        );
        assert!(e.contains("--dataverse-url"), "{e}");
        let e = choose(&found, &[Probe::Voice, Probe::Voice])
            .unwrap_err()
            .to_string();
        assert!(e.contains("2 have"), "{e}");
        let e = choose(&[], &[]).unwrap_err().to_string();
        assert!(e.contains("no environment"), "{e}");
    }
}
