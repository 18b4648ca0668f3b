//! ccaudit: audits a Microsoft tenant's prerequisites for Dynamics 365 Contact Center voice over
//! Teams Phone extensibility.
//!
//! Data flows one way: `sources` (live reads) → `snapshot` (raw API JSON) → `model` (typed,
//! variants absorbed) → `engine` (YAML + CEL checks) → `report` (table, JSON, ...), with `trace` (the call path
//! assembled from the results and the model's joins) between the last two. Below them
//! sit the small shared pieces (`fact_key`, `ids`, `json`, `dates`, `files`, `private_file`,
//! `source_catalog`, `sign_in`); beside them the triage features that work on a snapshot
//! (`triage`); `commands` holds one module per subcommand.

pub mod commands;
pub mod config;
pub mod dates;
pub mod engine;
pub mod fact_key;
pub mod files;
pub mod ids;
pub mod json;
pub mod model;
pub mod private_file;
pub mod report;
pub mod sign_in;
pub mod snapshot;
pub mod source_catalog;
pub mod sources;
pub mod suppress;
pub mod synth;
pub mod trace;
pub mod triage;
