//! What a partner or admin does with a snapshot besides auditing it: compare two (`diff`),
//! explain an error code (`explain`), pseudonymize it for sharing (`redact`), turn failures into
//! a reviewed PowerShell fix (`remediation_script`), and have a customer's admin collect it
//! (`collect_script`). Each reads the pipeline's output; none is part of it.

pub mod collect_script;
pub mod diff;
pub mod explain;
pub mod redact;
pub mod remediation_script;
