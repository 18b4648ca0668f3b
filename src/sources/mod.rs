//! Live collection: the only code that talks to a tenant (sign-in, endpoints, a read-only HTTP
//! client, paging). Collectors built on it turn responses into snapshot facts.

pub mod arm;
pub mod auth;
pub mod collect;
pub mod compliance;
pub mod dataverse;
pub mod endpoints;
pub mod graph;
pub mod http;
pub mod paging;
pub mod powerplatform;
pub mod run;
pub mod teams;
pub mod timeouts;
pub mod wire;
