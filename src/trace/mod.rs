//! The call path: the hops a call on a contact-center number traverses, from the number to the
//! agent who accepts it, each with the verdict of the checks that decide it.
//!
//! A path is assembled from the audit's own results and the model's joins (number → resource
//! account → ACS resource → agent), never from new reads; a hop the model cannot join is
//! `NotTraced`, not guessed. Which hop a check decides is data: the `hop:` field of its YAML.
//! The renderers (terminal tree, mermaid, SVG) draw a `CallPath` and know nothing of checks.

mod build;
pub mod draw;
pub mod mermaid;
mod path;
#[cfg(test)]
pub(crate) mod sample;
pub mod svg;
pub mod tree;

pub use build::{NO_QUEUE_JOIN, Tracer, call_paths};
pub use draw::{first_break, severity};
pub use path::{AgentLeg, AgentRef, CallPath, Hop, HopCheck, HopKind, HopStatus};
