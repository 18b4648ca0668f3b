//! ccaudit: audits a Microsoft tenant's prerequisites for Dynamics 365 Contact Center voice over
//! Teams Phone extensibility.
//!
//! Data flows one way: `snapshot` (raw API JSON) → `model` (typed, variants absorbed) →
//! `engine` (YAML + CEL checks) → `report` (table, JSON, ...).

pub mod collect_script;
pub mod commands;
pub mod config;
pub mod dates;
pub mod diff;
pub mod engine;
pub mod explain;
pub mod fact_key;
pub mod files;
pub mod ids;
pub mod json;
pub mod model;
pub mod private_file;
pub mod redact;
pub mod remediation_script;
pub mod report;
pub mod sign_in;
pub mod snapshot;
pub mod source_catalog;
pub mod sources;
pub mod suppress;
pub mod synth;
