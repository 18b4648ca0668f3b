//! Microsoft's fixed ids that ccaudit reads or writes: one home for each, so the model, the
//! diff, the remediation script and the sources cannot disagree.

/// The Azure Communication Services first-party application id, as a literal for `concat!` in
/// request paths.
#[macro_export]
macro_rules! acs_app_id {
    () => {
        "1fd5118e-2576-4263-8130-9503064c837a"
    };
}

/// The Azure Communication Services first-party application.
pub const ACS_APP_ID: &str = acs_app_id!();

/// Microsoft Teams Phone Resource Account (the free license of resource accounts).
pub const RA_LICENSE_SKU: &str = "440eaaa8-b3e0-484b-a8be-62870b9ba70a";
/// The part number of `RA_LICENSE_SKU`.
pub const RA_LICENSE_SKU_PART: &str = "PHONESYSTEM_VIRTUALUSER";

/// Microsoft Teams Phone Standard.
pub const TEAMS_PHONE_SKU: &str = "e43b5b99-8dfb-405f-9987-dc307f34bcbd";
/// The part number of `TEAMS_PHONE_SKU`.
pub const TEAMS_PHONE_SKU_PART: &str = "MCOEV";
