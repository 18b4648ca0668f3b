//! The normalizers' reading of raw API JSON: the shared readers of [`crate::json`], and
//! [`reported`], which notes a property a record should carry but does not.

use serde_json::Value;

pub use crate::json::{
    ShapeError, bool_prop, camel, int_prop, items, keyed, kind, prop, prop_any, records,
    required_str, str_prop, string_list,
};

/// A property every record of its kind should carry, read with `read`: `None` when the record
/// does not have it (absent, null or unreadable), which is noted as an absence of `record`'s
/// `names[0]`, read into `model_field`, so a check that needs it is unknown for that record.
pub fn reported<T>(
    obj: &Value,
    record: &str,
    names: &[&str],
    model_field: &str,
    read: impl FnOnce(&Value, &[&str]) -> Option<T>,
) -> Option<T> {
    let value = read(obj, names);
    if value.is_none() {
        super::absence::note(
            record,
            names.first().copied().unwrap_or("?"),
            model_field,
            obj,
        );
    }
    value
}
