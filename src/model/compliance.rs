//! Information-barrier facts from Security & Compliance: policies, segments, mode, and which
//! segments each agent and resource account belongs to.

use std::collections::BTreeMap;

use serde::Serialize;

use super::directory::Directory;
use super::fact::{Fact, Unavailable};
use crate::snapshot::Snapshot;

#[derive(Debug, Clone, Serialize)]
pub struct Compliance {
    /// `compliance.InformationBarrierPolicy`.
    pub ib_policies: Fact<Vec<IbPolicy>>,
    /// `compliance.OrganizationSegment`, keyed by lower-case segment name.
    pub ib_segments: Fact<BTreeMap<String, IbSegment>>,
    /// `compliance.PolicyConfig` → `InformationBarrierMode` (`SingleSegment`, `MultiSegment`,
    /// `Legacy`); `null` when not reported.
    pub ib_mode: Fact<Option<String>>,
    /// Segment membership of every user in `directory.users`, keyed by object id, from the
    /// segments' `UserGroupFilter` evaluated against directory attributes.
    pub ib_membership: Fact<BTreeMap<String, SegmentMembership>>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct IbPolicy {
    pub name: String,
    /// `Active` / `Inactive` as returned.
    pub state: String,
    pub active: bool,
    /// Lower-case segment name.
    pub assigned_segment: String,
    /// Lower-case segment names.
    pub segments_allowed: Vec<String>,
    /// Lower-case segment names.
    pub segments_blocked: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct IbSegment {
    pub name: String,
    pub user_group_filter: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct SegmentMembership {
    /// Lower-case names of the segments whose filter matches the user.
    pub segments: Vec<String>,
    /// Segments whose filter could not be evaluated for this user, as `name: reason`; when
    /// non-empty, the user's membership is not known for sure.
    pub unevaluable: Vec<String>,
}

impl Compliance {
    pub fn facts(&self) -> Vec<(&'static str, Option<&Unavailable>)> {
        vec![
            ("compliance.ib_policies", self.ib_policies.unavailable()),
            ("compliance.ib_segments", self.ib_segments.unavailable()),
            ("compliance.ib_mode", self.ib_mode.unavailable()),
            ("compliance.ib_membership", self.ib_membership.unavailable()),
        ]
    }
}

/// Normalizes the Security & Compliance facts of a snapshot; membership needs the directory.
pub fn normalize(snapshot: &Snapshot, directory: &Directory) -> Compliance {
    let _ = (snapshot, directory);
    unimplemented!("compliance normalizer")
}
