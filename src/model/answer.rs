//! A yes/no fact the model derives for one subject, or why it cannot say.
//!
//! A rule reads it as its whole answer (`tenant.teams.external_access[subject.id].allows_acs`):
//! `true`/`false` is the verdict, and `{"unknown": reason}` is the engine's explicit unknown.
//! When the answer is unknown because a source did not send a field, `absent_in` names that
//! source, so the report's data quality part counts the subject, as it does for a lookup of the
//! absent field itself.

use serde::Serialize;

use super::absence::Absence;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Answer {
    Known(bool),
    Unknown {
        unknown: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        absent_in: Option<String>,
    },
}

impl Answer {
    /// Unknown, for a reason that is not a missing field.
    pub fn unknown(reason: impl Into<String>) -> Answer {
        Answer::Unknown {
            unknown: reason.into(),
            absent_in: None,
        }
    }

    /// Unknown because a source did not send a field: the note's message, and its source.
    pub fn absent(absence: &Absence) -> Answer {
        Answer::Unknown {
            unknown: absence.message(),
            absent_in: Some(absence.source.clone()),
        }
    }

    /// Unknown because `field` of `record` was not sent: the note about it when the normalizer
    /// made one, else a plain sentence naming both.
    pub fn missing(model_field: &str, record: &str, what: &str) -> Answer {
        match super::absence::kept(model_field, &[record]) {
            Some(a) => Answer::absent(&a),
            None => Answer::unknown(format!("no {what} was reported for {record}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_serialize_as_a_bool_or_an_unknown_reason() {
        assert_eq!(
            serde_json::to_value(Answer::Known(false)).unwrap(),
            serde_json::json!(false)
        );
        assert_eq!(
            serde_json::to_value(Answer::unknown("why")).unwrap(),
            serde_json::json!({"unknown": "why"})
        );
    }

    #[test]
    fn a_field_with_no_note_is_still_named() {
        let a = Answer::missing(
            "external_access_policy",
            "a@contoso.com",
            "external access policy",
        );
        assert_eq!(
            a,
            Answer::unknown("no external access policy was reported for a@contoso.com")
        );
    }
}
