//! The evaluation engine: checks (YAML + CEL) run against the tenant model.

pub mod budget;
pub mod catalog;
pub mod cel;
pub mod check;
pub mod diff_row;
pub mod docs;
pub mod evaluate;
pub mod fix;
pub mod fixtures;
mod instrument;
pub mod paths;
pub mod template;

pub use budget::Budgets;
pub use check::{Basis, Check, CheckError, CheckSet, Severity};
pub use evaluate::{
    CheckResult, Status, Subject, Suppressed, evaluate, evaluate_json, evaluate_json_within,
    evaluate_within,
};
