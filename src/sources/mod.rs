//! Live collection: the only code that talks to a tenant (sign-in, endpoints, a read-only HTTP
//! client, paging). Collectors built on it turn responses into snapshot facts.

pub mod auth;
pub mod endpoints;
pub mod http;
pub mod paging;
