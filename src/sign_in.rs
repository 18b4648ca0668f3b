//! How a live read signed in, as its snapshot records it, and what a refusal means under it.
//!
//! A person signed in through the Azure CLI (`--auth azure-cli`, or `--auth device-code` with the
//! Azure CLI's public client) gets tokens that carry only the scopes the Azure CLI is
//! pre-authorised for. Other Graph reads answer 403 "required scopes are missing in the token",
//! even for a Global Administrator (Azure/azure-cli#23906; #30149 and #33778 show the same for
//! other scopes, and that asking for one is refused with AADSTS65002). Granting an application
//! permission cannot help such a person, so a refusal under a person's sign-in is told in the
//! terms of that sign-in: which service, that its token cannot carry the scope, and the two ways
//! forward — the person's own app registration with the delegated permission consented, or an
//! app-only audit.
//!
//! Security & Compliance is not tried with a person's token: an Azure CLI token is reported
//! rejected there (`UnAuthorized`), public tools use the Exchange Online PowerShell client or
//! app-only access, and no public evidence shows a custom app's delegated token accepted by its
//! REST endpoint.

use serde::{Deserialize, Serialize};

use crate::source_catalog::SourceSpec;

/// `SourceError.code` of a source that was not read because the run's sign-in cannot read it
/// (Security & Compliance under a person's sign-in).
pub const NOT_TRIED: &str = "NotTriedWithThisSignIn";

/// Token-endpoint refusals that mean "this client cannot get this scope for this person":
/// consent missing (65001), a first-party client not pre-authorised for the resource (65002),
/// the resource not among the app's requested permissions (650057).
const REFUSED_SCOPE_CODES: [&str; 3] = ["AADSTS65001", "AADSTS65002", "AADSTS650057"];

/// `--auth`, as a snapshot records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignInMethod {
    AzureCli,
    DeviceCode,
    ClientSecret,
    ClientCertificate,
}

/// The app the tokens were issued to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignInClient {
    /// The Azure CLI's public client (`04b07795-…`): its scopes are fixed by Microsoft.
    AzureCli,
    /// An app registration of the tenant's (`--client-id`, `AZURE_CLIENT_ID`).
    OwnApp,
}

/// How the reads of a snapshot were signed in. Absent from snapshots written before it was
/// recorded; their refusals are told as app-only ones, as before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    pub method: SignInMethod,
    pub client: SignInClient,
}

/// What a refusal under a person's sign-in is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonRefusal {
    /// The token cannot carry the scope the read needs (a 403 "scopes missing", or the token
    /// itself refused for the resource).
    ScopeMissing,
    /// Not tried: this sign-in cannot read the service at all.
    NotTried,
    /// Another 401/403: the person may lack a role, or the token a scope.
    Forbidden,
}

impl SignIn {
    /// Signed in as a person (delegated), not as an app.
    pub fn is_person(self) -> bool {
        matches!(
            self.method,
            SignInMethod::AzureCli | SignInMethod::DeviceCode
        )
    }

    /// Whether the service of snapshot keys starting `service.` is read under this sign-in.
    pub fn tries(self, service: &str) -> bool {
        !(self.is_person() && service == "compliance")
    }

    /// The sign-in, as a reason names it.
    pub fn describe(self) -> &'static str {
        match (self.method, self.client) {
            (SignInMethod::AzureCli, _) => {
                "signed in as a person through the Azure CLI (--auth azure-cli)"
            }
            (SignInMethod::DeviceCode, SignInClient::AzureCli) => {
                "signed in as a person with the Azure CLI's client (--auth device-code without --client-id)"
            }
            (SignInMethod::DeviceCode, SignInClient::OwnApp) => {
                "signed in as a person with your own app registration (--auth device-code --client-id)"
            }
            (SignInMethod::ClientSecret, _) => "signed in app-only (--auth client-secret)",
            (SignInMethod::ClientCertificate, _) => {
                "signed in app-only (--auth client-certificate)"
            }
        }
    }

    /// The reason a read of Security & Compliance was not tried.
    pub fn not_tried_message(self) -> String {
        format!(
            "not read: {}; Security & Compliance is not tried with a person's token (an Azure CLI token is reported rejected there)",
            self.describe()
        )
    }

    /// What a 401/403 or a refused token means under this sign-in; `None` when it is not a
    /// person's, or the error is not a refusal.
    pub fn person_refusal(
        self,
        status: Option<u16>,
        code: Option<&str>,
        message: &str,
    ) -> Option<PersonRefusal> {
        if !self.is_person() {
            return None;
        }
        let code = code.unwrap_or("");
        if code == NOT_TRIED {
            return Some(PersonRefusal::NotTried);
        }
        if REFUSED_SCOPE_CODES.contains(&code) || scope_missing(code, message) {
            return Some(PersonRefusal::ScopeMissing);
        }
        matches!(status, Some(401 | 403)).then_some(PersonRefusal::Forbidden)
    }

    /// The reason's last clause and what to do, for `refusal` of the source `spec` (a source
    /// the catalog does not know gets the generic advice).
    pub fn explain(
        self,
        refusal: PersonRefusal,
        spec: Option<&SourceSpec>,
    ) -> (String, Option<String>) {
        let service = spec
            .map(|s| crate::model::absence::service(s.key.as_str()))
            .unwrap_or("the service");
        let scopes = spec.map(delegated_list).unwrap_or_default();
        let scopes = if scopes.is_empty() {
            "the permission the read needs".to_string()
        } else {
            scopes
        };
        let own_app =
            "sign in with your own app registration (--auth device-code --client-id APP_ID)";
        let app_only = "audit app-only (--auth client-secret or client-certificate; `ccaudit permissions` lists what that app needs)";
        match refusal {
            PersonRefusal::NotTried => (
                String::new(),
                Some(
                    "app-only access (Office 365 Exchange Online Exchange.ManageAsApp plus the Compliance Administrator role; `ccaudit permissions`), or the collection script a compliance admin runs (`ccaudit collect --script`)".to_string(),
                ),
            ),
            PersonRefusal::ScopeMissing => match self.client {
                SignInClient::AzureCli => (
                    format!(
                        "{}, and the Azure CLI's token for {service} cannot carry {scopes}",
                        self.describe()
                    ),
                    Some(format!(
                        "either {own_app} with the delegated permission {scopes} and admin consent (`ccaudit permissions --delegated`), or {app_only}"
                    )),
                ),
                SignInClient::OwnApp => (
                    format!(
                        "{}, and its token for {service} lacks {scopes}",
                        self.describe()
                    ),
                    Some(format!(
                        "either add the delegated permission {scopes} to your app registration and grant admin consent (`ccaudit permissions --delegated`), or {app_only}"
                    )),
                ),
            },
            PersonRefusal::Forbidden => {
                let roles = spec.map(person_roles).unwrap_or_default();
                let who = if roles.is_empty() {
                    "a role that allows the read".to_string()
                } else {
                    roles
                };
                let token = match self.client {
                    SignInClient::AzureCli => format!(
                        "a token with {scopes}; the Azure CLI's token may not carry it: then {own_app} with that delegated permission consented, or {app_only}"
                    ),
                    SignInClient::OwnApp => format!(
                        "a token with {scopes} (a delegated permission of your app registration, admin-consented), or {app_only}"
                    ),
                };
                (
                    self.describe().to_string(),
                    Some(format!("the signed-in person needs {who}, and {token}")),
                )
            }
        }
    }
}

/// A 403 that says the token lacks a scope, in the shapes public callers show: Graph
/// `AccessDenied` "required scopes are missing in the token" (Azure/azure-cli#23906) and
/// "missing permission scope" / `PermissionScopeNotGranted` (Azure/azure-cli#30149, #33778).
fn scope_missing(code: &str, message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    code == "PermissionScopeNotGranted"
        || m.contains("scopes are missing in the token")
        || m.contains("missing permission scope")
        || m.contains("permissionscopenotgranted")
}

/// `Microsoft Graph LicenseAssignment.Read.All`, the delegated permissions of a source.
fn delegated_list(spec: &SourceSpec) -> String {
    spec.delegated
        .iter()
        .map(|p| format!("{} {}", p.api.name(), p.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The roles a person must hold to read a source: Entra roles, Azure RBAC, the Dataverse role.
fn person_roles(spec: &SourceSpec) -> String {
    let mut parts = Vec::new();
    if let Some((first, rest)) = spec.entra_roles.split_first() {
        let others = if rest.is_empty() {
            String::new()
        } else {
            format!(" (or {})", rest.join(", "))
        };
        parts.push(format!("the Entra role {first}{others}"));
    }
    if let Some(rbac) = spec.azure_rbac {
        parts.push(format!("Azure RBAC {rbac}"));
    }
    if let Some(role) = spec.dataverse_role {
        parts.push(format!("the Dataverse security role {role}"));
    }
    parts.join(" and ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fact_key::FactKey;
    use crate::source_catalog::source;

    const CLI: SignIn = SignIn {
        method: SignInMethod::AzureCli,
        client: SignInClient::AzureCli,
    };
    const OWN: SignIn = SignIn {
        method: SignInMethod::DeviceCode,
        client: SignInClient::OwnApp,
    };
    const APP: SignIn = SignIn {
        method: SignInMethod::ClientSecret,
        client: SignInClient::OwnApp,
    };

    #[test]
    fn scope_refusals_are_recognised_in_every_public_shape() {
        let r = |status, code, msg: &str| CLI.person_refusal(status, code, msg);
        assert_eq!(
            r(
                Some(403),
                Some("AccessDenied"),
                "You cannot perform the requested operation, required scopes are missing in the token."
            ),
            Some(PersonRefusal::ScopeMissing)
        );
        assert_eq!(
            r(
                Some(403),
                Some("UnknownError"),
                "{\"errorCode\":\"PermissionScopeNotGranted\",\"message\":\"Authorization failed due to missing permission scope X.\"}"
            ),
            Some(PersonRefusal::ScopeMissing)
        );
        for code in REFUSED_SCOPE_CODES {
            assert_eq!(
                r(None, Some(code), "sign-in failed: …"),
                Some(PersonRefusal::ScopeMissing)
            );
        }
        assert_eq!(
            r(
                Some(403),
                Some("Authorization_RequestDenied"),
                "Insufficient privileges to complete the operation."
            ),
            Some(PersonRefusal::Forbidden)
        );
        assert_eq!(r(Some(503), None, "busy"), None);
        assert_eq!(r(None, Some(NOT_TRIED), "x"), Some(PersonRefusal::NotTried));
        assert_eq!(
            APP.person_refusal(
                Some(403),
                Some("AccessDenied"),
                "required scopes are missing in the token"
            ),
            None,
            "an app's refusal keeps its app-only advice"
        );
    }

    #[test]
    fn a_missing_scope_names_the_service_the_mode_and_both_ways_forward() {
        let spec = source(FactKey::parse("graph.userConfigurations").unwrap());
        let (clause, needs) = CLI.explain(PersonRefusal::ScopeMissing, spec);
        let needs = needs.unwrap();
        assert!(clause.contains("--auth azure-cli"), "{clause}");
        assert!(
            clause.contains("the Azure CLI's token for Microsoft Graph cannot carry Microsoft Graph TeamsUserConfiguration.Read.All"),
            "{clause}"
        );
        assert!(needs.contains("--client-id"), "{needs}");
        assert!(needs.contains("app-only"), "{needs}");
        assert!(!needs.contains("application permission"), "{needs}");
        let (clause, needs) = OWN.explain(PersonRefusal::ScopeMissing, spec);
        assert!(clause.contains("--client-id"), "{clause}");
        assert!(needs.unwrap().contains("add the delegated permission"));
    }

    #[test]
    fn a_forbidden_read_names_the_persons_roles_never_an_application_permission() {
        let (_, needs) = CLI.explain(
            PersonRefusal::Forbidden,
            source(FactKey::parse("teams.TeamsAcsFederationConfiguration").unwrap()),
        );
        let needs = needs.unwrap();
        assert!(
            needs.contains("the Entra role Teams Administrator (or Teams Communications Administrator, Global Reader)"),
            "{needs}"
        );
        assert!(!needs.contains("application permission"), "{needs}");
    }

    #[test]
    fn security_and_compliance_is_not_tried_by_a_person() {
        assert!(!CLI.tries("compliance") && !OWN.tries("compliance"));
        assert!(CLI.tries("graph") && CLI.tries("teams") && APP.tries("compliance"));
        let (_, needs) = CLI.explain(
            PersonRefusal::NotTried,
            source(FactKey::parse("compliance.PolicyConfig").unwrap()),
        );
        let needs = needs.unwrap();
        assert!(needs.contains("app-only") && needs.contains("ccaudit collect --script"));
    }
}
