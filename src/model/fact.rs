//! `Fact<T>`: a value the audit could read, or why it could not.
//!
//! Checks must never confuse "could not read" with "is wrong": a check that needs an unavailable
//! fact is `unknown` and names what to grant (`needs`).

use serde::{Serialize, Serializer};

use crate::fact_key::FactKey;
use crate::sign_in::{PersonRefusal, SignIn};
use crate::snapshot::{ErrorCode, RawFact, Snapshot, SourceError};
use crate::source_catalog;

/// Closed list of reasons a fact is unavailable (a user-facing enum, not free text only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnavailableKind {
    /// The snapshot has no entry for the source (older collector, or not attempted).
    NotCollected,
    /// The user did not ask for it (e.g. no agents named); dependent checks are skipped.
    NotRequested,
    /// 401/403: the auditing identity lacks a permission or role.
    Forbidden,
    /// 404 or the service says the object does not exist.
    NotFound,
    /// 429 after retries.
    Throttled,
    /// 5xx, timeouts, transport failures.
    ServiceError,
    /// The response did not have the expected shape.
    Malformed,
    /// The API does not exist in this cloud.
    NotSupportedInCloud,
    /// Derived from another fact that is unavailable.
    Dependency,
    /// The run's sign-in cannot read it: a person's token cannot carry the scope, or the
    /// service is not tried with a person's token.
    SignInMode,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unavailable {
    pub kind: UnavailableKind,
    /// One line: what happened, with the service's own code and message where there was one.
    pub reason: String,
    /// The permission or role that would make the fact readable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub needs: Option<String>,
    /// Snapshot keys the fact was derived from.
    pub sources: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Fact<T> {
    Available(T),
    Unavailable(Unavailable),
}

impl<T> Fact<T> {
    pub fn as_ref(&self) -> Fact<&T> {
        match self {
            Fact::Available(v) => Fact::Available(v),
            Fact::Unavailable(u) => Fact::Unavailable(u.clone()),
        }
    }

    pub fn value(&self) -> Option<&T> {
        match self {
            Fact::Available(v) => Some(v),
            Fact::Unavailable(_) => None,
        }
    }

    pub fn unavailable(&self) -> Option<&Unavailable> {
        match self {
            Fact::Available(_) => None,
            Fact::Unavailable(u) => Some(u),
        }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Fact<U> {
        match self {
            Fact::Available(v) => Fact::Available(f(v)),
            Fact::Unavailable(u) => Fact::Unavailable(u),
        }
    }

    pub fn and_then<U>(self, f: impl FnOnce(T) -> Fact<U>) -> Fact<U> {
        match self {
            Fact::Available(v) => f(v),
            Fact::Unavailable(u) => Fact::Unavailable(u),
        }
    }

    pub fn not_requested(reason: impl Into<String>) -> Fact<T> {
        Fact::Unavailable(Unavailable {
            kind: UnavailableKind::NotRequested,
            reason: reason.into(),
            needs: None,
            sources: Vec::new(),
        })
    }

    /// Derived from `dep`, which is unavailable: keep its reason and needs.
    pub fn dependency(dep: &Unavailable) -> Fact<T> {
        Fact::Unavailable(Unavailable {
            kind: if dep.kind == UnavailableKind::NotRequested {
                UnavailableKind::NotRequested
            } else {
                UnavailableKind::Dependency
            },
            ..dep.clone()
        })
    }
}

/// Available facts serialise as their value, unavailable ones as `null`; the engine consults
/// `TenantModel::unavailable_facts` before evaluating a rule, so checks never read that null.
impl<T: Serialize> Serialize for Fact<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Fact::Available(v) => v.serialize(s),
            Fact::Unavailable(_) => s.serialize_none(),
        }
    }
}

/// Reads source `key` of `snapshot` into a fact with `parse`, telling a refusal in the terms of
/// the snapshot's sign-in: what every normalizer calls for each of its sources.
pub fn read<T>(
    snapshot: &Snapshot,
    key: FactKey,
    parse: impl FnOnce(&serde_json::Value) -> Result<T, String>,
) -> Fact<T> {
    from_raw(key, snapshot.fact(key), snapshot.sign_in, parse)
}

/// Turns a raw snapshot entry into a fact, parsing the data with `parse`.
///
/// A parse error (unexpected shape) makes the fact `Malformed`, naming the key. A refusal is
/// told in the terms of `sign_in`, the run's sign-in (`None` when the snapshot does not record
/// it: an app's).
pub fn from_raw<T>(
    key: FactKey,
    raw: RawFact<'_>,
    sign_in: Option<SignIn>,
    parse: impl FnOnce(&serde_json::Value) -> Result<T, String>,
) -> Fact<T> {
    let needs = source_catalog::source(key).map(|s| s.needs.to_string());
    match raw {
        RawFact::NotCollected => Fact::Unavailable(Unavailable {
            kind: UnavailableKind::NotCollected,
            reason: format!("{key} is not in the snapshot"),
            needs,
            sources: vec![key.to_string()],
        }),
        RawFact::Error { endpoint, error } => {
            if let Some(u) = sign_in.and_then(|s| person_refusal(s, key, endpoint, error)) {
                return Fact::Unavailable(u);
            }
            let kind = classify(error);
            Fact::Unavailable(Unavailable {
                kind,
                reason: format!("{endpoint}: {}", describe(error)),
                // A dependency's fix is the other source's, which its message names; this
                // source's own permission would send the user the wrong way.
                // Nor is a permission the fix for output the collection script wrote wrongly.
                needs: needs.filter(|_| {
                    !matches!(
                        kind,
                        UnavailableKind::Dependency | UnavailableKind::Malformed
                    )
                }),
                sources: vec![key.to_string()],
            })
        }
        RawFact::Data { endpoint, data } => match super::absence::parsing(key, || parse(data)) {
            Ok(v) => Fact::Available(v),
            Err(detail) => Fact::Unavailable(Unavailable {
                kind: UnavailableKind::Malformed,
                reason: format!("{key} from {endpoint} has an unexpected shape: {detail}"),
                needs: None,
                sources: vec![key.to_string()],
            }),
        },
    }
}

/// A refusal under a person's sign-in: the reason names the sign-in, and `needs` the ways
/// forward that can help a person (never an application permission to grant).
fn person_refusal(
    sign_in: SignIn,
    key: FactKey,
    endpoint: &str,
    error: &SourceError,
) -> Option<Unavailable> {
    let refusal = sign_in.person_refusal(
        error.status,
        error.code.as_ref().map(ErrorCode::as_str),
        &error.message,
    )?;
    let (clause, needs) = sign_in.explain(refusal, source_catalog::source(key));
    let said = describe(error);
    let said = said.trim_end_matches('.');
    let reason = if clause.is_empty() {
        format!("{endpoint}: {said}")
    } else {
        format!("{endpoint}: {said}; {clause}")
    };
    Some(Unavailable {
        kind: match refusal {
            PersonRefusal::Forbidden => UnavailableKind::Forbidden,
            PersonRefusal::ScopeMissing | PersonRefusal::NotTried => UnavailableKind::SignInMode,
        },
        reason,
        needs,
        sources: vec![key.to_string()],
    })
}

fn classify(error: &SourceError) -> UnavailableKind {
    match (error.status, &error.code) {
        (Some(401 | 403), _) => UnavailableKind::Forbidden,
        (Some(404), _) => UnavailableKind::NotFound,
        (Some(429), _) => UnavailableKind::Throttled,
        (Some(400) | None, Some(ErrorCode::NotSupportedInCloud)) => {
            UnavailableKind::NotSupportedInCloud
        }
        (Some(_), _) => UnavailableKind::ServiceError,
        (None, Some(ErrorCode::NotRequested)) => UnavailableKind::NotRequested,
        (None, Some(ErrorCode::NotCollected)) => UnavailableKind::NotCollected,
        (None, Some(ErrorCode::DependencyUnavailable)) => UnavailableKind::Dependency,
        (None, Some(ErrorCode::MalformedScriptOutput)) => UnavailableKind::Malformed,
        (None, Some(ErrorCode::NotTriedWithThisSignIn)) => UnavailableKind::SignInMode,
        (None, Some(ErrorCode::Service(_)) | None) => UnavailableKind::ServiceError,
    }
}

fn describe(error: &SourceError) -> String {
    let mut out = String::new();
    if let Some(status) = error.status {
        out.push_str(&format!("HTTP {status} "));
    }
    if let Some(code) = &error.code {
        out.push_str(code.as_str());
        out.push(' ');
    }
    // Service messages can span lines (AADSTS trace ids); keep the first.
    out.push_str(error.message.lines().next().unwrap_or(""));
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn forbidden_source_names_the_permission_to_grant() {
        let err = SourceError {
            status: Some(403),
            code: Some(ErrorCode::Service("Authorization_RequestDenied".into())),
            message: "Insufficient privileges to complete the operation.".into(),
        };
        let fact: Fact<()> = from_raw(
            FactKey::GraphSubscribedSkus,
            RawFact::Error {
                endpoint: "GET /v1.0/subscribedSkus",
                error: &err,
            },
            None,
            |_| Ok(()),
        );
        let u = fact.unavailable().unwrap();
        assert_eq!(u.kind, UnavailableKind::Forbidden);
        assert!(u.reason.contains("HTTP 403 Authorization_RequestDenied"));
        assert!(
            u.needs
                .as_deref()
                .unwrap()
                .contains("LicenseAssignment.Read.All")
        );
    }

    /// The unavailable fact `key` becomes when its source recorded `code` and `message`.
    fn unread(key: FactKey, code: ErrorCode, message: &str) -> Unavailable {
        let err = SourceError {
            status: None,
            code: Some(code),
            message: message.into(),
        };
        let fact: Fact<()> = from_raw(
            key,
            RawFact::Error {
                endpoint: "GET x",
                error: &err,
            },
            None,
            |_| Ok(()),
        );
        fact.unavailable().unwrap().clone()
    }

    #[test]
    fn a_source_not_read_for_want_of_another_is_a_dependency_without_its_own_grant() {
        let u = unread(
            FactKey::ArmCommunicationServices,
            ErrorCode::DependencyUnavailable,
            "not read: the subscription list (arm.subscriptions) is unavailable; grant Reader or pass --subscription ID",
        );
        assert_eq!(u.kind, UnavailableKind::Dependency);
        assert_eq!(u.needs, None, "not this source's permission");
        assert!(u.reason.contains("--subscription"), "{}", u.reason);
    }

    #[test]
    fn a_persons_refusal_is_told_in_the_terms_of_their_sign_in() {
        use crate::sign_in::{SignInClient, SignInMethod};
        let err = SourceError {
            status: Some(403),
            code: Some("AccessDenied".into()),
            message: "You cannot perform the requested operation, required scopes are missing in the token.".into(),
        };
        let read = |sign_in| -> Fact<()> {
            from_raw(
                FactKey::parse("graph.subscribedSkus").unwrap(),
                RawFact::Error {
                    endpoint: "GET /v1.0/subscribedSkus",
                    error: &err,
                },
                sign_in,
                |_| Ok(()),
            )
        };
        let person = SignIn {
            method: SignInMethod::AzureCli,
            client: SignInClient::AzureCli,
        };
        let fact = read(Some(person));
        let u = fact.unavailable().unwrap();
        assert_eq!(u.kind, UnavailableKind::SignInMode);
        assert!(u.reason.contains("HTTP 403 AccessDenied"), "{}", u.reason);
        assert!(u.reason.contains("--auth azure-cli"), "{}", u.reason);
        let needs = u.needs.as_deref().unwrap();
        assert!(
            needs.contains("--client-id") && needs.contains("app-only"),
            "{needs}"
        );
        assert!(!needs.contains("application permission"), "{needs}");
        // Without it (an app's sign-in), the app-only advice.
        let u = read(None).unavailable().cloned().unwrap();
        assert_eq!(u.kind, UnavailableKind::Forbidden);
        assert!(u.needs.unwrap().contains("application permission"));
    }

    #[test]
    fn a_code_this_build_does_not_know_is_a_service_error_not_a_refusal() {
        let u = unread(
            FactKey::GraphUsers,
            ErrorCode::from("SomethingNewer"),
            "from a newer ccaudit",
        );
        assert_eq!(u.kind, UnavailableKind::ServiceError);
        assert!(u.reason.contains("SomethingNewer"), "{}", u.reason);
    }

    #[test]
    fn not_supported_in_cloud_is_read_with_or_without_a_400() {
        for status in [None, Some(400)] {
            let err = SourceError {
                status,
                code: Some(ErrorCode::NotSupportedInCloud),
                message: "not in this cloud".into(),
            };
            assert_eq!(classify(&err), UnavailableKind::NotSupportedInCloud);
        }
    }

    #[test]
    fn unexpected_shape_is_malformed_not_empty() {
        let data = json!({"value": "oops"});
        let fact: Fact<Vec<String>> = from_raw(
            FactKey::GraphSubscribedSkus,
            RawFact::Data {
                endpoint: "GET x",
                data: &data,
            },
            None,
            |_| Err("value is not an array".into()),
        );
        assert_eq!(fact.unavailable().unwrap().kind, UnavailableKind::Malformed);
    }

    #[test]
    fn unavailable_serialises_as_null() {
        let fact: Fact<u8> = Fact::not_requested("no agents named");
        assert_eq!(
            serde_json::to_value(&fact).unwrap(),
            serde_json::Value::Null
        );
    }
}
