//! Whether each agent holds a Contact Center license: the agent's SKUs compared with the SKUs
//! that count (Microsoft's licensing reference and the configured ones).
//!
//! The reference is known to be incomplete (it lists no Customer Service Premium SKU), so while
//! nothing is configured, an agent with licenses but none of the listed ones is unknown and the
//! reason names the `--cc-sku` to pass; once SKUs are configured, or when the agent has no
//! license at all, it is a plain no.

use std::collections::BTreeMap;

use serde::Serialize;

use super::answer::Answer;
use super::directory::UserLicenses;
use super::fact::Fact;

/// One agent's Contact Center license (`tenant.directory.contact_center_licenses[id]`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContactCenterLicense {
    /// The agent's SKUs that count: part numbers when one matched, else skuIds.
    pub matched: Vec<String>,
    /// Whether the agent has one of the SKUs that count, or why that is unknown.
    pub covered: Answer,
}

/// Words in a part number that suggest a Dynamics 365 license, offered as the `--cc-sku` to
/// pass when the reference list has none of the agent's SKUs.
const LIKELY: [&str; 4] = ["DYN", "D365", "CONTACT_CENTER", "CUSTOMER_SERVICE"];

/// Every agent's license; unavailable when the licenses are. `agents` are (object id, UPN).
pub fn derive(
    agents: &[(&str, &str)],
    licenses: &Fact<BTreeMap<String, UserLicenses>>,
    counted: &[String],
    configured: &[String],
) -> Fact<BTreeMap<String, ContactCenterLicense>> {
    let licenses = match licenses {
        Fact::Available(l) => l,
        Fact::Unavailable(u) => return Fact::dependency(u),
    };
    Fact::Available(
        agents
            .iter()
            .map(|(id, upn)| {
                let license = match licenses.get(*id) {
                    Some(l) => coverage(upn, l, counted, configured.is_empty()),
                    None => ContactCenterLicense {
                        matched: Vec::new(),
                        covered: Answer::missing(id, upn, "licenseDetails"),
                    },
                };
                (id.to_string(), license)
            })
            .collect(),
    )
}

fn coverage(
    upn: &str,
    license: &UserLicenses,
    counted: &[String],
    none_configured: bool,
) -> ContactCenterLicense {
    let counts = |s: &&String| counted.iter().any(|c| c.eq_ignore_ascii_case(s));
    let ids: Vec<String> = license.sku_ids.iter().filter(counts).cloned().collect();
    let Some(parts) = &license.sku_part_numbers else {
        // A matching skuId decides without the part numbers; otherwise they are needed.
        return ContactCenterLicense {
            covered: if ids.is_empty() {
                Answer::missing("sku_part_numbers", upn, "skuPartNumber")
            } else {
                Answer::Known(true)
            },
            matched: ids,
        };
    };
    let names: Vec<String> = parts.iter().filter(counts).cloned().collect();
    let covered = if !names.is_empty() || !ids.is_empty() {
        Answer::Known(true)
    } else if none_configured && !parts.is_empty() {
        Answer::unknown(incomplete_list(parts))
    } else {
        Answer::Known(false)
    };
    ContactCenterLicense {
        matched: if names.is_empty() { ids } else { names },
        covered,
    }
}

/// Why an agent with none of the listed SKUs is unknown, and which flag would decide it.
fn incomplete_list(parts: &[String]) -> String {
    let likely: Vec<&str> = parts
        .iter()
        .filter(|p| LIKELY.iter().any(|w| p.to_ascii_uppercase().contains(w)))
        .map(String::as_str)
        .collect();
    let flag = if likely.is_empty() {
        "SKU_PART_NUMBER".to_string()
    } else {
        likely.join(",")
    };
    format!(
        "has none of the Contact Center SKUs that Microsoft's licensing reference lists (it has {}), and that list is incomplete (Customer Service Premium is not in it): if its Contact Center license is among these, rerun with --cc-sku {flag}",
        parts.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lic(ids: &[&str], parts: Option<&[&str]>) -> UserLicenses {
        UserLicenses {
            sku_ids: ids.iter().map(|s| s.to_string()).collect(),
            sku_part_numbers: parts.map(|p| p.iter().map(|s| s.to_string()).collect()),
            plans: None,
        }
    }

    fn run(l: UserLicenses, counted: &[&str], configured: &[&str]) -> ContactCenterLicense {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        derive(
            &[("a", "a@contoso.com")],
            &Fact::Available(BTreeMap::from([("a".to_string(), l)])),
            &s(counted),
            &s(configured),
        )
        .value()
        .and_then(|m| m.get("a").cloned())
        .expect("derived")
    }

    #[test]
    fn a_counted_part_number_or_sku_id_covers_in_any_case() {
        let by_name = run(lic(&["x"], Some(&["Dyn_CC"])), &["DYN_CC"], &[]);
        assert_eq!(by_name.covered, Answer::Known(true));
        assert_eq!(by_name.matched, vec!["Dyn_CC"]);
        let by_id = run(lic(&["abc"], Some(&["OTHER"])), &["ABC"], &["ABC"]);
        assert_eq!(by_id.covered, Answer::Known(true));
        assert_eq!(by_id.matched, vec!["abc"]);
    }

    #[test]
    fn none_of_the_listed_skus_is_unknown_until_some_are_configured() {
        let listed_only = run(
            lic(&["x"], Some(&["SPE_E5", "DYN365_CS_PREMIUM"])),
            &["DYN_CC"],
            &[],
        );
        let Answer::Unknown { unknown, .. } = &listed_only.covered else {
            panic!("unknown expected")
        };
        assert!(unknown.ends_with("--cc-sku DYN365_CS_PREMIUM"), "{unknown}");
        let configured = run(lic(&["x"], Some(&["SPE_E5"])), &["DYN_CC"], &["DYN_CC"]);
        assert_eq!(configured.covered, Answer::Known(false));
    }

    #[test]
    fn no_license_at_all_is_a_no_either_way() {
        assert_eq!(
            run(lic(&[], Some(&[])), &["DYN_CC"], &[]).covered,
            Answer::Known(false)
        );
    }

    #[test]
    fn absent_part_numbers_or_a_missing_record_are_unknown() {
        assert!(matches!(
            run(lic(&["x"], None), &["DYN_CC"], &[]).covered,
            Answer::Unknown { .. }
        ));
        assert_eq!(
            run(lic(&["dyn"], None), &["DYN"], &[]).covered,
            Answer::Known(true)
        );
        let unread = derive(
            &[("b", "b@contoso.com")],
            &Fact::Available(BTreeMap::new()),
            &[],
            &[],
        );
        assert!(matches!(
            unread.value().unwrap()["b"].covered,
            Answer::Unknown { .. }
        ));
    }
}
