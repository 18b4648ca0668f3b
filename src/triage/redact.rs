//! Pseudonymizing a snapshot so that a partner can share it: personal and identifying values are
//! replaced by keyed hashes, and everything a diagnosis needs stays as collected.
//!
//! The same value maps to the same pseudonym everywhere in the snapshot, and in every snapshot
//! redacted with the same key: a value is normalized before it is keyed (a policy name without
//! `Tag:` and in lower case, a phone number as its digits, a UPN in lower case) and written back
//! in the original's form (`Tag:` kept, `tel:+1 (425) …` keeps its layout). So the relationships
//! the checks test still hold: an agent's department and the IB segment filter that names it, a
//! number in Teams and its Dataverse row, a custom policy where it is defined and wherever a user
//! or group assignment names it. The audit of a redacted snapshot gives every check and subject
//! the verdict the audit of the original gives it (`tests/redact.rs` on both examples and a
//! synthetic tenant with faults, `tests/live.rs` for `audit --tenant --redact`; subjects are
//! followed through [`Pseudonyms`]), and two snapshots of one tenant redacted with one key still
//! diff and explain against each other.
//!
//! What is replaced (HMAC-SHA256 with the key, hex-truncated):
//! * UPNs and mail addresses: `user-<hash8>@domain-<hash6>.example`.
//! * Display names (people, resource accounts, groups, subscriptions, service principals,
//!   Dataverse rows other than setting entries, which are named after their key): `name-<hash8>`
//!   (`group-…` for groups); the tenant's name: `tenant-<hash6>`.
//! * Department, company, office, on-premises extension attributes, city and address:
//!   `dept-…`, `company-…`, `office-…`, `attr-…`, `place-…`, also inside IB `UserGroupFilter`
//!   values, so segment membership evaluates identically.
//! * Phone numbers: the country code and the last two digits stay, the digits between are
//!   replaced by the same count of hashed digits (still E.164; `tel:`, `+`, grouping and `;ext=`
//!   kept as written).
//! * Domains (verified, UPN/mail, federation allow/block lists) and host names (ACS `hostName`,
//!   webhook and Dataverse URLs): `domain-<hash6>.example`, or `domain-<hash6>.<Microsoft
//!   suffix>` when the host is a customer name under a Microsoft service domain
//!   (`contoso.crm.dynamics.com` → `domain-…crm.dynamics.com`). Microsoft's own service hosts
//!   (Graph, ARM, Teams admin, compliance, login) stay.
//! * Custom policy names (Teams policies, IB policies) and IB segment names: `policy-<hash6>`,
//!   `segment-<hash6>`, in policy lists, user and group assignments (`*Policy` values, also as
//!   `{Name|Identity|DisplayName}` objects, `policyAssignment`, `PolicyName`) and any `Tag:…`
//!   value. Microsoft's built-in policy names (`Global`, `Tag:FederationOnly`, …) stay. Matching
//!   is case-insensitive, like the Teams and IB services.
//! * Resource group and resource names in ARM ids and `name` fields: `rg-…`, `res-…`.
//! * The tenant id: a GUID-shaped pseudonym, because anyone signed in to Microsoft 365 can look a
//!   tenant id up; it is replaced inside URLs and compound ids too.
//! * Descriptions: `text-<hash8>`.
//!
//! What is kept: object ids, ACS immutable ids, application ids, SKU ids and part numbers, service
//! plan ids, role template ids, subscription ids and other configuration GUIDs (they are not
//! personal by themselves, and the checks join on them); statuses, flags, enum values, country
//! and usage-location codes, data locations, operator names, timestamps.
//!
//! Every string that no rule above names is still scanned, so nothing slips through: emails, host
//! names (with a known top-level domain), `+`-prefixed phone numbers, ARM ids, the tenant id and
//! the digits of every phone number seen elsewhere are replaced wherever they occur, and the
//! tenant's name wherever it stands as a word. Error messages and other prose also have every
//! name learnt from the fields above replaced.
//!
//! Limit: an IB filter value compared with `-like` and a `*` wildcard is hashed as a whole, so a
//! segment defined by a wildcard can lose members in the redacted snapshot.

use std::collections::{HashMap, HashSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::fact_key::FactKey;
use crate::ids as canonical;
use crate::snapshot::Snapshot;
use crate::sources::endpoints::Cloud;

/// Length in bytes of the keys ccaudit creates.
pub const KEY_LEN: usize = 32;

/// Shortest key accepted from a file (128 bits).
const MIN_KEY_LEN: usize = 16;

/// Built-in Teams policy instance names (without `Tag:`) that are the same in every tenant, so
/// they carry no identifying information and stay readable in a redacted snapshot.
pub const MICROSOFT_DEFAULT_POLICY_NAMES: &[&str] = &[
    "Global",
    "Default",
    "FederationOnly",
    "FederationAndPICDefault",
    "NoFederationAndPIC",
    "AllowCalling",
    "DisallowCalling",
    "AllowCallingPreventTollBypass",
    "AllowCallingPreventForwardingtoPhone",
    "AllOn",
    "AllOff",
    "RestrictedAnonymousAccess",
    "RestrictedAnonymousNoRecording",
    "Kiosk",
    "Firstline",
    "FirstlineWorker",
    "EduStudent",
    "EduFacultyAndStaff",
    "DisallowAllCalling",
];

/// Returns a redacted copy of `snapshot`, pseudonymized with `key` (see the module docs).
pub fn redact(snapshot: &Snapshot, key: &[u8]) -> Snapshot {
    redact_with_pseudonyms(snapshot, key).0
}

/// [`redact`], and the pseudonyms it used, to follow a value of the original into the redacted
/// snapshot (an audit subject, say).
pub fn redact_with_pseudonyms<'k>(
    snapshot: &Snapshot,
    key: &'k [u8],
) -> (Snapshot, Pseudonyms<'k>) {
    let mut redactor = Redactor::new(key, &snapshot.tenant_id);
    // The first pass learns every name and number from the fields that hold them, so the second
    // can also replace them where they occur inside other strings (ids, URLs, messages).
    let _ = redactor.snapshot(snapshot);
    let redacted = redactor.snapshot(snapshot);
    (redacted, Pseudonyms { redactor })
}

/// What the values of one snapshot became in its redaction (from [`redact_with_pseudonyms`]).
pub struct Pseudonyms<'k> {
    redactor: Redactor<'k>,
}

impl Pseudonyms<'_> {
    /// The id an audit of the redacted snapshot gives the subject that the audit of the original
    /// calls `id`: object ids stay (the tenant id does not), policy names, phone numbers (in any
    /// spelling) and UPNs become their pseudonyms.
    pub fn subject_id(&mut self, id: &str) -> String {
        let r = &mut self.redactor;
        let t = id.trim();
        let name = t
            .get(..4)
            .filter(|p| p.eq_ignore_ascii_case("tag:"))
            .map_or(t, |_| t[4..].trim());
        if is_tagged_policy(t) || r.policies.contains(&name.to_lowercase()) {
            r.policy(id)
        } else if looks_like_phone(t) {
            r.phone(id)
        } else if t.contains('@') {
            r.email(id)
        } else {
            r.scan(id, false)
        }
    }
}

/// Where ccaudit keeps the key for a redacted output by default: `<output>.redact-key`.
pub fn key_path_for(output: &Path) -> PathBuf {
    let mut name = output.as_os_str().to_owned();
    name.push(".redact-key");
    PathBuf::from(name)
}

/// How a key was obtained, for the message the command prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOrigin {
    /// Named by the user.
    Given,
    /// Found next to the output from an earlier run.
    Reused,
    /// Created now, next to the output.
    Created,
}

/// A redaction key and the file it lives in.
#[derive(Debug, Clone)]
pub struct RedactionKey {
    pub bytes: Vec<u8>,
    pub path: PathBuf,
    pub origin: KeyOrigin,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "{path}: the redaction key file does not exist (leave the key option out to create one next to the output)"
    )]
    Missing { path: String },
    #[error("{path}: cannot read the redaction key: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "{path}: not a redaction key (expected at least 32 hexadecimal characters, as ccaudit writes them)"
    )]
    Invalid { path: String },
    #[error("{path}: cannot create the redaction key: {source}")]
    Create {
        path: String,
        source: std::io::Error,
    },
}

/// The key to redact into `output`: the `explicit` file when given (it must exist), else
/// `<output>.redact-key`, reused when it exists and otherwise created with a random key and
/// owner-only permissions. Reusing it keeps pseudonyms stable across runs, so snapshots of the
/// same tenant redacted into the same place still diff against each other.
pub fn load_or_create_key(
    output: &Path,
    explicit: Option<&Path>,
) -> Result<RedactionKey, KeyError> {
    if let Some(path) = explicit {
        return match read_key(path) {
            Ok(bytes) => Ok(RedactionKey {
                bytes,
                path: path.to_path_buf(),
                origin: KeyOrigin::Given,
            }),
            Err(KeyError::Read { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                Err(KeyError::Missing {
                    path: path.display().to_string(),
                })
            }
            Err(e) => Err(e),
        };
    }
    let path = key_path_for(output);
    if path.exists() {
        return Ok(RedactionKey {
            bytes: read_key(&path)?,
            path,
            origin: KeyOrigin::Reused,
        });
    }
    let bytes = random_key();
    match write_new_key(&path, &bytes) {
        Ok(()) => Ok(RedactionKey {
            bytes,
            path,
            origin: KeyOrigin::Created,
        }),
        // Another run created it first: use that one, so both agree.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(RedactionKey {
            bytes: read_key(&path)?,
            path,
            origin: KeyOrigin::Reused,
        }),
        Err(source) => Err(KeyError::Create {
            path: path.display().to_string(),
            source,
        }),
    }
}

/// Reads a key file: hexadecimal text (whitespace ignored), at least 16 bytes.
pub fn read_key(path: &Path) -> Result<Vec<u8>, KeyError> {
    let shown = path.display().to_string();
    // A key is 64 hex digits; a file far larger (or `/dev/zero`) is not one.
    let bytes = match crate::files::read_file_capped(path, 64 << 10) {
        Ok(bytes) => bytes,
        Err(crate::files::CappedError::Io(source)) => {
            return Err(KeyError::Read {
                path: shown,
                source,
            });
        }
        Err(crate::files::CappedError::TooLarge { .. }) => {
            return Err(KeyError::Invalid { path: shown });
        }
    };
    let text = String::from_utf8_lossy(&bytes);
    let hex: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    decode_hex(&hex)
        .filter(|b| b.len() >= MIN_KEY_LEN)
        .ok_or(KeyError::Invalid { path: shown })
}

/// 32 bytes from the operating system's random source. uuid's v4 generator is that source
/// (getrandom) with 122 random bits per id; three ids give more than the 256 bits a key holds.
fn random_key() -> Vec<u8> {
    let mut pool = Vec::with_capacity(48);
    for _ in 0..3 {
        pool.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    }
    Sha256::digest(&pool).to_vec()
}

fn write_new_key(path: &Path, key: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    writeln!(file, "{}", hex(key))?;
    file.sync_all()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// HMAC-SHA256 (RFC 2104), written out over `sha2` rather than adding a crate for 15 lines.
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(message);
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    let mut out = [0u8; 32];
    out.copy_from_slice(&outer.finalize());
    out
}

/// What a string property holds, decided by its name and where it sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Email,
    Label(&'static str),
    Tenant,
    Phone,
    PhoneOrLabel,
    Domain,
    Host,
    Policy,
    Segment,
    SegmentList,
    IbFilter,
    ArmGroup,
    ArmName,
    /// Free text written by people or services (messages): every known name is replaced too.
    Prose,
    /// Any other value: only recognisable patterns (emails, hosts, numbers, ids) are replaced.
    Data,
}

/// The snapshot fact a value is in: its source (`teams`, lower-cased) decides for keys this
/// build does not know too; its key, when known, decides the rest.
struct FactName {
    source: String,
    key: Option<FactKey>,
}

impl FactName {
    fn of(key: &str) -> FactName {
        let source = key.split_once('.').map_or(key, |(source, _)| source);
        FactName {
            source: source.to_ascii_lowercase(),
            key: FactKey::parse_ignore_case(key),
        }
    }

    fn is(&self, key: FactKey) -> bool {
        self.key == Some(key)
    }
}

fn kind(fact: &FactName, parent: &str, prop: &str) -> Kind {
    use FactKey::*;
    // Teams facts that are not policy/configuration collections: their `Identity` is a user
    // or an object, not a policy instance name.
    let teams_config = fact.source == "teams"
        && !matches!(
            fact.key,
            Some(
                TeamsOnlineUsers
                    | TeamsApplicationInstances
                    | TeamsApplicationInstanceAssociations
                    | TeamsTelephoneNumbers
            )
        );
    if parent == "onpremisesextensionattributes" || is_numbered_attribute(prop) {
        return Kind::Label("attr");
    }
    if parent == "tags" {
        return Kind::Prose;
    }
    if names_a_policy(parent, prop) {
        return Kind::Policy;
    }
    match prop {
        "userprincipalname" | "mail" | "othermails" | "proxyaddresses" | "sipaddress" | "upn"
        | "email" | "emailaddress" => Kind::Email,
        "mailnickname" | "samaccountname" | "onpremisessamaccountname" => Kind::Label("alias"),
        "displayname" if fact.is(GraphOrganization) => Kind::Tenant,
        "displayname" if fact.is(GraphMemberOf) => Kind::Label("group"),
        "displayname" | "givenname" | "surname" | "fullname" | "friendlyname" => {
            Kind::Label("name")
        }
        "accountname" | "tenantname" | "tenantdisplayname" => Kind::Tenant,
        "department" => Kind::Label("dept"),
        "companyname" | "company" => Kind::Label("company"),
        "officelocation" | "office" | "physicaldeliveryofficename" => Kind::Label("office"),
        "jobtitle" => Kind::Label("title"),
        "city" | "streetaddress" | "street" | "postalcode" | "zipcode" => Kind::Label("place"),
        "description" => Kind::Label("text"),
        "message" | "notes" | "comment" | "details" => Kind::Prose,
        "telephonenumber" | "telephonenumbers" | "phonenumber" | "lineuri"
        | "msdyn_phonenumber" | "businessphones" | "mobilephone" | "faxnumber" => Kind::Phone,
        // Setting entries are named after their key (`DynamicsAppId`), not after people.
        "msdyn_name" if fact.is(DataverseProviderSettingEntries) => Kind::Data,
        "msdyn_name" => Kind::PhoneOrLabel,
        "name" if fact.is(GraphOrganization) && parent == "verifieddomains" => Kind::Domain,
        "name" if fact.source == "arm" && !matches!(parent, "sku" | "plan") => Kind::ArmName,
        "name" | "identity" if fact.is(ComplianceOrganizationSegment) => Kind::Segment,
        "name" | "identity" if fact.is(ComplianceInformationBarrierPolicy) => Kind::Policy,
        "identity" | "configid" if teams_config || fact.is(CompliancePolicyConfig) => Kind::Policy,
        "resourcegroup" | "resourcegroupname" => Kind::ArmGroup,
        "hostname" | "host" | "fqdn" => Kind::Host,
        "domain"
        | "domains"
        | "domainname"
        | "alloweddomains"
        | "blockeddomains"
        | "alloweddomainsasalist"
        | "allowedexternaldomains"
        | "blockedexternaldomains"
        | "allowedtrialtenantdomains"
        | "defaultdomain"
        | "initialdomain"
        | "sipdomain" => Kind::Domain,
        "assignedsegment" if fact.source == "compliance" => Kind::Segment,
        "segmentsallowed" | "segmentsblocked" | "segments" if fact.source == "compliance" => {
            Kind::SegmentList
        }
        "usergroupfilter" => Kind::IbFilter,
        p if fact.source == "teams" && p.ends_with("policy") => Kind::Policy,
        _ => Kind::Data,
    }
}

/// Whether `prop` (inside `parent`) holds the name of a Teams policy instance, wherever a record
/// names one: a policy list's `Identity` is decided by the fact; here are the places a user or
/// group record names its policy: a `*Policy` property given as an object (`{"Name"}`,
/// `{"Identity": "Tag:…"}`, `{"DisplayName"}`, all read by the normalizer), a Graph or Teams
/// `policyAssignment` (`displayName`, and `policyName` / `name` as other callers read it), and
/// group policy assignments (`PolicyName`). A name must get the same pseudonym here as where the
/// policy is defined, or the audit of the redacted snapshot loses the link between them.
fn names_a_policy(parent: &str, prop: &str) -> bool {
    let name_field = matches!(
        prop,
        "name" | "identity" | "displayname" | "policyname" | "instancename"
    );
    prop == "policyname"
        || (name_field && (parent.ends_with("policy") || parent == "policyassignment"))
}

/// `Tag:Name`: how Teams writes a policy instance's identity.
fn is_tagged_policy(s: &str) -> bool {
    let t = s.trim();
    t.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("tag:"))
        && t[4..]
            .trim()
            .chars()
            .next()
            .is_some_and(char::is_alphanumeric)
}

/// `extensionAttribute1`..`15` and `CustomAttribute1`..`15` (Exchange's names for the same).
fn is_numbered_attribute(prop: &str) -> bool {
    prop.strip_prefix("extensionattribute")
        .or_else(|| prop.strip_prefix("customattribute"))
        .is_some_and(|n| matches!(n.parse::<u8>(), Ok(1..=15)))
}

struct Redactor<'k> {
    key: &'k [u8],
    /// The audited tenant's id (lower case) and its pseudonym.
    tenant_id: Option<(String, String)>,
    /// Lower-cased names seen in named fields → pseudonym, replaced inside prose.
    words: HashMap<String, String>,
    /// Names replaced inside every string (the tenant's name): they must never survive.
    strong_words: HashMap<String, String>,
    longest_word: usize,
    /// Digit runs of every phone number seen (with and without country code) → pseudonym digits.
    numbers: HashMap<String, String>,
    /// Custom policy names seen (lower case, without `Tag:`).
    policies: HashSet<String>,
    keep_hosts: Vec<String>,
    ms_suffixes: Vec<String>,
}

/// Microsoft service domains under which a customer picks the leftmost labels (Dataverse org,
/// ACS resource, web app, initial domain). The customer part is hashed, the suffix kept so the
/// reader still sees what kind of host it was. Longest match wins.
const MICROSOFT_SUFFIXES: &[&str] = &[
    "onmicrosoft.com",
    "onmicrosoft.us",
    "partner.onmschina.cn",
    "communication.azure.com",
    "communication.azure.us",
    "blob.core.windows.net",
    "servicebus.windows.net",
    "vault.azure.net",
    "webhook.office.com",
    "logic.azure.com",
    "sharepoint.com",
    "sharepoint.us",
    "azurewebsites.net",
    "azure-api.net",
    "cloudapp.net",
    "trafficmanager.net",
    "azureedge.net",
    "azurefd.net",
    "microsoft.com",
    "microsoft.us",
    "microsoftonline.com",
    "microsoftonline.us",
    "microsoftonline.cn",
    "office.com",
    "office.net",
    "office365.com",
    "office365.us",
    "outlook.com",
    "outlook.cn",
    "live.com",
    "azure.com",
    "azure.us",
    "azure.cn",
    "azure.net",
    "windows.net",
    "usgovcloudapi.net",
    "chinacloudapi.cn",
    "dynamics.com",
    "dynamics.cn",
    "microsoftdynamics.us",
    "appsplatform.us",
    "skype.com",
    "lync.com",
];

/// Microsoft hosts that serve every tenant; the per-cloud service hosts are added from the
/// collectors' own host table.
const SHARED_HOSTS: &[&str] = &[
    "learn.microsoft.com",
    "docs.microsoft.com",
    "go.microsoft.com",
    "aka.ms",
    "schemas.microsoft.com",
    "outlook.office365.com",
    "outlook.office.com",
    "login.windows.net",
    "graph.windows.net",
    "management.core.windows.net",
    "portal.azure.com",
    "admin.microsoft.com",
    "admin.teams.microsoft.com",
    "teams.microsoft.com",
    "globaldisco.crm.dynamics.com",
];

/// Generic top-level domains recognised in free text; any two-letter (country) domain counts
/// too. Kept short on purpose: `Microsoft.Communication` must not read as a host.
const GENERIC_TLDS: &[&str] = &[
    "com",
    "net",
    "org",
    "edu",
    "gov",
    "mil",
    "int",
    "info",
    "biz",
    "name",
    "pro",
    "app",
    "dev",
    "cloud",
    "online",
    "site",
    "tech",
    "example",
    "test",
    "invalid",
    "local",
    "localhost",
    "corp",
    "internal",
    "lan",
    "home",
    "ms",
];

impl<'k> Redactor<'k> {
    fn new(key: &'k [u8], tenant_id: &str) -> Redactor<'k> {
        let mut keep_hosts: Vec<String> = SHARED_HOSTS.iter().map(|h| h.to_string()).collect();
        let mut ms_suffixes: Vec<String> =
            MICROSOFT_SUFFIXES.iter().map(|s| s.to_string()).collect();
        for cloud in Cloud::ALL {
            let h = cloud.hosts();
            keep_hosts.extend(
                [
                    h.login,
                    h.graph,
                    h.teams,
                    h.arm,
                    h.compliance,
                    h.powerplatform,
                ]
                .iter()
                .map(|s| s.to_string()),
            );
            ms_suffixes.push(h.dataverse_suffix.to_string());
        }
        let mut r = Redactor {
            key,
            tenant_id: None,
            words: HashMap::new(),
            strong_words: HashMap::new(),
            longest_word: 0,
            numbers: HashMap::new(),
            policies: HashSet::new(),
            keep_hosts,
            ms_suffixes,
        };
        if let Some(id) = canonical::guid(tenant_id) {
            let pseudo = r.pseudo_guid(&id);
            r.tenant_id = Some((id, pseudo));
        }
        r
    }

    fn tag(&self, kind: &str, value: &str, len: usize) -> String {
        let mut message = Vec::with_capacity(kind.len() + 1 + value.len());
        message.extend_from_slice(kind.as_bytes());
        message.push(0);
        message.extend_from_slice(value.as_bytes());
        let mut h = hex(&hmac_sha256(self.key, &message));
        h.truncate(len);
        h
    }

    /// A GUID-shaped pseudonym (version 4, RFC 4122 variant), so GUID checks still hold.
    fn pseudo_guid(&self, id: &str) -> String {
        let h = self.tag("guid", id, 32);
        format!(
            "{}-{}-4{}-{}{}-{}",
            &h[0..8],
            &h[8..12],
            &h[13..16],
            ["8", "9", "a", "b"][usize::from(h.as_bytes()[16]) % 4],
            &h[17..20],
            &h[20..32]
        )
    }

    fn remember(&mut self, original: &str, pseudo: &str) {
        // Short names ("IT", "US") are too common as parts of other words to replace in text.
        if original.chars().count() >= 4 && original != pseudo {
            self.longest_word = self.longest_word.max(original.len());
            self.words
                .entry(original.to_string())
                .or_insert_with(|| pseudo.to_string());
        }
    }

    fn snapshot(&mut self, s: &Snapshot) -> Snapshot {
        let mut out = s.clone();
        out.tenant_id = match &self.tenant_id {
            Some((_, pseudo)) => pseudo.clone(),
            None => self.scan(&s.tenant_id, false),
        };
        out.tenant_name = s.tenant_name.as_deref().map(|n| self.tenant_name(n));
        if let Some(agents) = &mut out.agents {
            for user in &mut agents.users {
                *user = self.email(user);
            }
        }
        for (key, fact) in &mut out.facts {
            let fact_key = FactName::of(key);
            // Endpoints are ccaudit's own URL templates plus ids and hosts: patterns suffice, and
            // prose replacement would rewrite filter literals such as `'DynamicsAppId'`.
            fact.endpoint = self.scan(&fact.endpoint, false);
            if let Some(data) = &mut fact.data {
                self.value(data, &fact_key, "", "");
            }
            if let Some(error) = &mut fact.error {
                error.message = self.scan(&error.message, true);
            }
        }
        out
    }

    fn value(&mut self, v: &mut Value, fact: &FactName, parent: &str, prop: &str) {
        match v {
            Value::String(s) => *s = self.string(s, kind(fact, parent, prop)),
            // Array items belong to the property that holds the array.
            Value::Array(items) => {
                for item in items {
                    self.value(item, fact, parent, prop);
                }
            }
            Value::Object(map) => {
                for (k, mut child) in std::mem::take(map) {
                    let lower = k.to_ascii_lowercase();
                    self.value(&mut child, fact, prop, &lower);
                    map.insert(self.map_key(&k), child);
                }
            }
            _ => {}
        }
    }

    /// Object keys are property names or ids (user ids, ARM ids); OData annotations stay.
    fn map_key(&mut self, k: &str) -> String {
        if k.starts_with('@') || k.to_ascii_lowercase().contains("@odata.") {
            k.to_string()
        } else {
            self.scan(k, false)
        }
    }

    fn string(&mut self, s: &str, kind: Kind) -> String {
        if s.trim().is_empty() {
            return s.to_string();
        }
        match kind {
            Kind::Email => self.email(s),
            Kind::Label(prefix) => self.label(prefix, s),
            Kind::Tenant => self.tenant_name(s),
            Kind::Phone => self.phone(s),
            Kind::PhoneOrLabel if looks_like_phone(s) => self.phone(s),
            Kind::PhoneOrLabel => self.label("name", s),
            Kind::Domain if is_host_like(s.trim()) => self.host(s.trim()),
            Kind::Host if is_host_like(s.trim()) => self.host(s.trim()),
            Kind::Domain | Kind::Host => self.scan(s, false),
            Kind::Policy => self.policy(s),
            Kind::Segment => self.segment(s),
            Kind::SegmentList => self.segment_list(s),
            Kind::IbFilter => self.ib_filter(s),
            Kind::ArmGroup => self.arm_segment("rg", s),
            Kind::ArmName if s.starts_with('/') => self.scan(s, false),
            Kind::ArmName => self.arm_segment("res", s),
            Kind::Prose => self.scan(s, true),
            // `Tag:` names a policy instance wherever it appears.
            Kind::Data if is_tagged_policy(s) => self.policy(s),
            Kind::Data => self.scan(s, false),
        }
    }

    fn label(&mut self, prefix: &str, v: &str) -> String {
        let norm = v.trim().to_lowercase();
        let out = format!("{prefix}-{}", self.tag("label", &norm, 8));
        self.remember(&norm, &out);
        out
    }

    fn tenant_name(&mut self, v: &str) -> String {
        let norm = v.trim().to_lowercase();
        if norm.is_empty() {
            return v.to_string();
        }
        let out = format!("tenant-{}", self.tag("tenant", &norm, 6));
        self.remember(&norm, &out);
        if norm.chars().count() >= 3 {
            self.longest_word = self.longest_word.max(norm.len());
            self.strong_words.insert(norm, out.clone());
        }
        out
    }

    /// A UPN or mail address (optionally `sip:`/`smtp:`); anything else is scanned as data.
    fn email(&mut self, v: &str) -> String {
        let t = v.trim();
        let (scheme, address) = match t.find(':') {
            Some(i)
                if ["sip", "smtp", "mailto"]
                    .iter()
                    .any(|s| t[..i].eq_ignore_ascii_case(s)) =>
            {
                (&t[..=i], &t[i + 1..])
            }
            _ => ("", t),
        };
        match address.rfind('@') {
            Some(at) if at > 0 && is_host_like(&address[at + 1..]) => {
                let local = self.tag("upn", &address.to_lowercase(), 8);
                let domain = self.host(&address[at + 1..]);
                format!("{scheme}user-{local}@{domain}")
            }
            _ => self.scan(v, false),
        }
    }

    fn host(&mut self, h: &str) -> String {
        let lower = h.trim_end_matches('.').to_ascii_lowercase();
        if self.keep_hosts.contains(&lower) || is_reserved_example(&lower) {
            return h.to_string();
        }
        let tag = self.tag("domain", &lower, 6);
        let out = match self.microsoft_suffix(&lower) {
            Some(suffix) => format!("domain-{tag}.{suffix}"),
            None => format!("domain-{tag}.example"),
        };
        self.remember(&lower, &out);
        out
    }

    /// The Microsoft service suffix of a customer-named host (`crm4.dynamics.com` for
    /// `contoso.crm4.dynamics.com`); `None` for hosts outside Microsoft's domains.
    fn microsoft_suffix(&self, host: &str) -> Option<String> {
        let labels: Vec<&str> = host.split('.').collect();
        // Dataverse regions are numbered: crm, crm2, ..., crm21.
        if let Some(i) = labels.iter().position(|l| {
            l.strip_prefix("crm")
                .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()))
        }) && i > 0
            && labels[i + 1..] == ["dynamics", "com"]
        {
            return Some(labels[i..].join("."));
        }
        self.ms_suffixes
            .iter()
            .filter(|s| host.len() > s.len() && host.ends_with(&format!(".{s}")))
            .max_by_key(|s| s.len())
            .cloned()
    }

    fn phone(&mut self, v: &str) -> String {
        let t = v.trim();
        let (prefix, rest) = match t.get(..4) {
            Some(p) if p.eq_ignore_ascii_case("tel:") => (p, &t[4..]),
            _ => ("", t),
        };
        let (main, ext) = match rest.to_ascii_lowercase().find(";ext=") {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let digits: String = main.chars().filter(char::is_ascii_digit).collect();
        if digits.len() < 7 || main.chars().any(char::is_alphabetic) {
            return self.scan(v, false);
        }
        // Keyed by the digits alone, so `tel:+1…`, `+1 (425) …` and `1425…` share one
        // pseudonym; written back in the original's layout.
        let pseudo = self.phone_digits(&digits);
        format!("{prefix}{}{ext}", relayout(main, &pseudo))
    }

    /// Keeps the country code and the last two digits; the digits between become keyed-hash
    /// digits of the same count, so the result is still a valid E.164 number of the same country.
    fn phone_digits(&mut self, digits: &str) -> String {
        if let Some(known) = self.numbers.get(digits) {
            return known.clone();
        }
        let cc = country_code_len(digits);
        let middle = &digits[cc..digits.len() - 2];
        let mut round = 0u32;
        let replaced = loop {
            let mac = hmac_sha256(self.key, format!("phone\0{round}\0{digits}").as_bytes());
            let candidate: String = mac
                .iter()
                .take(middle.len())
                .map(|b| char::from(b'0' + b % 10))
                .collect();
            if candidate != middle || round > 8 {
                break candidate;
            }
            round += 1;
        };
        let out = format!("{}{replaced}{}", &digits[..cc], &digits[digits.len() - 2..]);
        self.numbers.insert(digits.to_string(), out.clone());
        // The national part alone (ids like `num-4255550100`, local renderings).
        if digits.len() - cc >= 7 {
            self.numbers
                .insert(digits[cc..].to_string(), out[cc..].to_string());
        }
        out
    }

    fn policy(&mut self, v: &str) -> String {
        let t = v.trim();
        let (tag, name) = match t.get(..4) {
            Some(p) if p.eq_ignore_ascii_case("tag:") => (p, t[4..].trim()),
            _ => ("", t),
        };
        if name.is_empty()
            || canonical::is_guid(name)
            || MICROSOFT_DEFAULT_POLICY_NAMES
                .iter()
                .any(|d| d.eq_ignore_ascii_case(name))
        {
            return v.to_string();
        }
        let norm = name.to_lowercase();
        let out = format!("policy-{}", self.tag("policy", &norm, 6));
        self.remember(&norm, &out);
        self.policies.insert(norm);
        format!("{tag}{out}")
    }

    fn segment(&mut self, v: &str) -> String {
        let norm = v.trim().to_lowercase();
        let out = format!("segment-{}", self.tag("segment", &norm, 6));
        self.remember(&norm, &out);
        out
    }

    /// A segment list rendered as one string (`{Sales, Research}`): split exactly as the
    /// normalizer splits it, so the redacted list has the same items.
    fn segment_list(&mut self, v: &str) -> String {
        let t = v.trim();
        let braced = t.starts_with('{') && t.ends_with('}');
        let items: Vec<String> = t
            .trim_start_matches('{')
            .trim_end_matches('}')
            .split([',', ' ', ';'])
            .map(|p| p.trim().trim_matches(|c| c == '\'' || c == '"'))
            .filter(|p| !p.is_empty())
            .map(|p| self.segment(p))
            .collect();
        if braced {
            format!("{{{}}}", items.join(", "))
        } else {
            items.join(", ")
        }
    }

    /// Replaces the quoted values of an OPATH `UserGroupFilter` with the pseudonyms of the user
    /// attributes they are compared with, leaving the syntax untouched.
    fn ib_filter(&mut self, v: &str) -> String {
        let chars: Vec<char> = v.chars().collect();
        let mut out = String::with_capacity(v.len());
        let mut attribute = String::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == '\'' || c == '"' {
                let mut literal = String::new();
                let mut j = i + 1;
                let mut closed = false;
                while j < chars.len() {
                    if chars[j] == c && chars.get(j + 1) == Some(&c) {
                        literal.push(c);
                        j += 2;
                    } else if chars[j] == c {
                        closed = true;
                        j += 1;
                        break;
                    } else {
                        literal.push(chars[j]);
                        j += 1;
                    }
                }
                if !closed {
                    // Unbalanced: the filter is unevaluable anyway; hide the rest of it.
                    out.push(c);
                    out.push_str(&self.label("value", &literal));
                    return out;
                }
                out.push(c);
                out.push_str(&self.filter_value(&attribute, &literal));
                out.push(c);
                i = j;
            } else if c.is_ascii_alphanumeric() || c == '_' {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                // `-eq` and friends are words after a `-`; the attribute is the word before.
                if !(start > 0 && chars[start - 1] == '-') {
                    attribute = word.to_ascii_lowercase();
                }
                out.push_str(&word);
            } else {
                out.push(c);
                i += 1;
            }
        }
        out
    }

    fn filter_value(&mut self, attribute: &str, value: &str) -> String {
        if value.trim().is_empty() || value.trim() == "*" {
            return value.to_string();
        }
        if is_numbered_attribute(attribute) {
            return self.label("attr", value);
        }
        match attribute {
            "department" => self.label("dept", value),
            "company" => self.label("company", value),
            "office" | "physicaldeliveryofficename" => self.label("office", value),
            "usagelocation" | "countryorregion" => value.to_string(),
            "memberof" if canonical::guid(value).is_some() => value.to_string(),
            "memberof" if value.contains('@') => self.email(value.trim()),
            "memberof" => self.label("group", value),
            _ => self.label("value", value),
        }
    }

    fn arm_segment(&mut self, prefix: &str, name: &str) -> String {
        let norm = name.trim().to_ascii_lowercase();
        let out = format!("{prefix}-{}", self.tag("arm", &norm, 6));
        self.remember(&norm, &out);
        out
    }

    /// `/subscriptions/<id>/resourceGroups/<rg>/providers/<ns>/<type>/<name>/...`: resource
    /// group and resource names are hashed; ids, namespaces and types stay.
    fn arm_path(&mut self, path: &str) -> String {
        #[derive(PartialEq)]
        enum At {
            Plain,
            Group,
            Namespace,
            Type,
            Name,
        }
        let mut at = At::Plain;
        let mut parts = Vec::new();
        for seg in path.split('/') {
            let lower = seg.to_ascii_lowercase();
            let (part, next) = match at {
                _ if seg.is_empty() => (seg.to_string(), at),
                At::Plain | At::Type if lower == "providers" => (seg.to_string(), At::Namespace),
                At::Plain if lower == "resourcegroups" => (seg.to_string(), At::Group),
                At::Plain => (self.scan(seg, false), At::Plain),
                At::Group => (self.arm_segment("rg", seg), At::Plain),
                At::Namespace => (seg.to_string(), At::Type),
                At::Type => (seg.to_string(), At::Name),
                At::Name => (self.arm_segment("res", seg), At::Type),
            };
            parts.push(part);
            at = next;
        }
        parts.join("/")
    }

    /// Scans any string for what must not survive: the tenant id, ARM ids, emails, host names,
    /// `+` phone numbers, the digits of known numbers, the tenant's name, and with `prose`
    /// every other known name. Replacements are never rescanned.
    fn scan(&mut self, s: &str, prose: bool) -> String {
        let mut out = String::with_capacity(s.len());
        let mut i = 0;
        while i < s.len() {
            let rest = &s[i..];
            let prev = s[..i].chars().next_back();
            let c = rest.chars().next().unwrap_or_default();
            if let Some((id, pseudo)) = &self.tenant_id
                && rest
                    .get(..id.len())
                    .is_some_and(|p| p.eq_ignore_ascii_case(id))
                && !prev.is_some_and(|p| p.is_ascii_alphanumeric())
                && !rest[id.len()..]
                    .chars()
                    .next()
                    .is_some_and(|n| n.is_ascii_alphanumeric())
            {
                out.push_str(pseudo);
                i += id.len();
                continue;
            }
            if rest
                .get(..15)
                .is_some_and(|p| p.eq_ignore_ascii_case("/subscriptions/"))
            {
                let end = rest
                    .find(|c: char| {
                        c.is_whitespace()
                            || matches!(
                                c,
                                '"' | '\''
                                    | '?'
                                    | '#'
                                    | ','
                                    | ';'
                                    | '('
                                    | ')'
                                    | '{'
                                    | '}'
                                    | '<'
                                    | '>'
                                    | '['
                                    | ']'
                            )
                    })
                    .unwrap_or(rest.len());
                out.push_str(&self.arm_path(&rest[..end]));
                i += end;
                continue;
            }
            // A token may start after punctuation inside a longer one (`*.contoso.com`,
            // `ra_cc.contoso.com`), so a host is found even when the whole token is not one.
            if c.is_ascii_alphanumeric() && !prev.is_some_and(|p| p.is_ascii_alphanumeric()) {
                // A guest's UPN (`name_home.com#EXT#@contoso.onmicrosoft.com`) as one address,
                // so it gets the pseudonym it gets in a UPN field.
                if let Some(len) = guest_upn_len(rest) {
                    out.push_str(&self.email(&rest[..len]));
                    i += len;
                    continue;
                }
                let end = rest.find(|c| !is_token_char(c)).unwrap_or(rest.len());
                let token = rest[..end].trim_end_matches(['.', '-']);
                if let Some(replaced) = self.token(token) {
                    out.push_str(&replaced);
                    i += token.len();
                    continue;
                }
            }
            if c == '+'
                && !prev.is_some_and(char::is_alphanumeric)
                && let Some((len, digits)) = plus_number(rest)
            {
                let pseudo = self.phone_digits(&digits);
                out.push_str(&relayout(&rest[..len], &pseudo));
                i += len;
                continue;
            }
            if c.is_ascii_digit() && !prev.is_some_and(|p| p.is_ascii_digit()) {
                let end = rest
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(rest.len());
                match self.numbers.get(&rest[..end]) {
                    Some(pseudo) => out.push_str(pseudo),
                    None => out.push_str(&rest[..end]),
                }
                i += end;
                continue;
            }
            if c.is_alphanumeric()
                && !prev.is_some_and(char::is_alphanumeric)
                && let Some((len, pseudo)) = self.known_word(rest, prev, prose)
            {
                out.push_str(&pseudo);
                i += len;
                continue;
            }
            out.push(c);
            i += c.len_utf8();
        }
        out
    }

    /// An email or host name token, replaced; `None` when it is neither.
    fn token(&mut self, token: &str) -> Option<String> {
        if let Some(at) = token.rfind('@') {
            let (local, domain) = (&token[..at], &token[at + 1..]);
            return (!local.is_empty() && is_host_like(domain) && has_known_tld(domain))
                .then(|| self.email(token));
        }
        (is_host_like(token) && has_known_tld(token)).then(|| self.host(token))
    }

    /// The longest known name starting at the beginning of `text` and ending at a word boundary.
    /// Outside prose only the tenant's name is replaced, and only where it stands as a word of
    /// text: not inside identifiers (`A.B`, `A_B`, `A-B`, paths), where a short or common tenant
    /// name could otherwise rewrite a configuration value the checks read.
    fn known_word(&self, text: &str, prev: Option<char>, prose: bool) -> Option<(usize, String)> {
        let glued = |c: Option<char>| {
            c.is_some_and(|c| matches!(c, '.' | '_' | '-' | '/' | '\\' | '@' | ':' | '#' | '$'))
        };
        if !prose && glued(prev) {
            return None;
        }
        let limit = self.longest_word.min(text.len());
        let mut best = None;
        for (end, _) in text
            .char_indices()
            .skip(1)
            .chain(std::iter::once((text.len(), ' ')))
        {
            if end > limit {
                break;
            }
            let next = text[end..].chars().next();
            if next.is_some_and(char::is_alphanumeric) {
                continue;
            }
            let candidate = text[..end].to_lowercase();
            let hit = if prose {
                self.strong_words
                    .get(&candidate)
                    .or_else(|| self.words.get(&candidate))
            } else if !glued(next) {
                self.strong_words.get(&candidate)
            } else {
                None
            };
            if let Some(pseudo) = hit {
                best = Some((end, pseudo.clone()));
            }
        }
        best
    }
}

/// Characters that can be part of an email address or a host name.
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '%' | '+' | '@')
}

/// Length of the guest UPN (`…#EXT#@host`) that `text` starts with, if it does.
fn guest_upn_len(text: &str) -> Option<usize> {
    let end = text
        .find(|c: char| !(is_token_char(c) || c == '#'))
        .unwrap_or(text.len());
    let candidate = text[..end].trim_end_matches(['.', '-']);
    let (local, domain) = candidate.rsplit_once('@')?;
    (local.to_ascii_lowercase().ends_with("#ext#") && is_host_like(domain) && has_known_tld(domain))
        .then_some(candidate.len())
}

/// Dot-separated labels of letters, digits and hyphens, at least two of them, ending in a
/// letter-only top-level label.
fn is_host_like(s: &str) -> bool {
    let labels: Vec<&str> = s.trim_end_matches('.').split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|t| t.len() >= 2 && t.chars().all(|c| c.is_ascii_alphabetic()))
}

fn has_known_tld(host: &str) -> bool {
    let tld = host
        .trim_end_matches('.')
        .rsplit('.')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    tld.len() == 2 || GENERIC_TLDS.contains(&tld.as_str())
}

/// RFC 2606 names: already anonymous.
fn is_reserved_example(host: &str) -> bool {
    host == "localhost"
        || ["example", "test", "invalid", "localhost"]
            .iter()
            .any(|t| host.ends_with(&format!(".{t}")))
        || ["example.com", "example.net", "example.org"]
            .iter()
            .any(|d| host == *d || host.ends_with(&format!(".{d}")))
}

/// A phone number written in a name field (`msdyn_name` often repeats the number).
fn looks_like_phone(s: &str) -> bool {
    let t = s.trim();
    let t = match t.get(..4) {
        Some(p) if p.eq_ignore_ascii_case("tel:") => &t[4..],
        _ => t,
    };
    t.chars().filter(char::is_ascii_digit).count() >= 7
        && t.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '.' | '(' | ')'))
}

/// `+` followed by 7 to 15 digits, possibly grouped by spaces, hyphens, dots or parentheses:
/// the length consumed and the digits.
fn plus_number(text: &str) -> Option<(usize, String)> {
    let mut digits = String::new();
    let mut end = 0;
    for (i, c) in text.char_indices().skip(1) {
        if c.is_ascii_digit() {
            digits.push(c);
            end = i + 1;
        } else if !matches!(c, ' ' | '-' | '.' | '(' | ')') || (digits.is_empty() && c != '(') {
            break;
        }
    }
    (7..=15).contains(&digits.len()).then_some((end, digits))
}

/// `written` with its digits replaced, in order, by those of `digits`: separators, `+` and
/// grouping stay where they were.
fn relayout(written: &str, digits: &str) -> String {
    let mut replacement = digits.chars();
    written
        .chars()
        .map(|c| match c {
            '0'..='9' => replacement.next().unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// Length of the ITU-T E.164 country code at the start of `digits` (1 to 3 digits).
fn country_code_len(digits: &str) -> usize {
    const TWO_DIGIT: &[&str] = &[
        "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46",
        "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63",
        "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98",
    ];
    if digits.len() < 7 {
        return 0;
    }
    match digits.as_bytes()[0] {
        b'1' | b'7' => 1,
        _ if TWO_DIGIT.contains(&&digits[..2]) => 2,
        _ => 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn redactor() -> Redactor<'static> {
        Redactor::new(KEY, "11111111-2222-3333-4444-555555555555")
    }

    #[test]
    fn hmac_matches_rfc_4231_test_case_2() {
        assert_eq!(
            hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn hmac_with_a_long_key_hashes_the_key_first() {
        // RFC 4231 test case 6: a 131-byte key.
        assert_eq!(
            hex(&hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn upn_keeps_its_shape_and_the_domain_matches_the_verified_domain() {
        let mut r = redactor();
        let upn = r.email("Agent1@Contoso.com");
        assert!(
            upn.starts_with("user-") && upn.ends_with(".example"),
            "{upn}"
        );
        let (local, domain) = upn.split_once('@').unwrap();
        assert_eq!(local.len(), "user-".len() + 8);
        assert_eq!(domain.len(), "domain-".len() + 6 + ".example".len());
        assert_eq!(domain, r.host("contoso.com"));
        assert_eq!(upn, r.email("agent1@contoso.com"), "case-insensitive");
    }

    #[test]
    fn phone_keeps_country_code_last_two_digits_and_tel_prefix() {
        let mut r = redactor();
        let out = r.phone("tel:+14255550100");
        assert!(out.starts_with("tel:+1"), "{out}");
        assert!(out.ends_with("00"));
        assert_eq!(out.len(), "tel:+14255550100".len());
        assert_ne!(out, "tel:+14255550100");
        assert!(r.phone("+442071234567").starts_with("+44"));
        assert!(r.phone("+3531234567").starts_with("+353"));
        let ext = r.phone("+14255550100;ext=12");
        assert!(ext.ends_with("00;ext=12"), "{ext}");
    }

    #[test]
    fn one_number_gets_one_pseudonym_in_every_spelling() {
        let mut r = redactor();
        let e164 = r.phone("+14255550100");
        let digits = &e164[1..];
        assert_eq!(r.phone("tel:+14255550100"), format!("tel:{e164}"));
        assert_eq!(r.phone("TEL:+14255550100"), format!("TEL:{e164}"));
        assert_eq!(r.phone("14255550100"), digits, "without the plus");
        assert_eq!(
            r.phone("tel:+14255550100;ext=7"),
            format!("tel:{e164};ext=7")
        );
        // The layout is the original's; only its digits change.
        let grouped = r.phone("+1 (425) 555-0100");
        let grouped_digits: String = grouped.chars().filter(char::is_ascii_digit).collect();
        assert_eq!(grouped_digits, digits);
        assert_eq!(
            grouped.replace(|c: char| c.is_ascii_digit(), "9"),
            "+9 (999) 999-9999"
        );
        // In free text too.
        let text = r.scan("call +1 425 555 0100 or 14255550100", true);
        assert_eq!(
            text,
            format!(
                "call +{} {} {} {} or {digits}",
                &digits[..1],
                &digits[1..4],
                &digits[4..7],
                &digits[7..]
            )
        );
    }

    #[test]
    fn a_policy_gets_one_pseudonym_wherever_a_record_names_it() {
        let mut r = redactor();
        let defined = r.policy("Tag:CC-Restricted");
        let bare = &defined["Tag:".len()..];
        let mut user = serde_json::json!({
            "ExternalAccessPolicy": {"Identity": "Tag:CC-Restricted"},
            "TeamsCallingPolicy": {"Name": "cc-restricted"},
            "OnlineVoiceRoutingPolicy": {"DisplayName": "CC-Restricted"},
            "effectivePolicyAssignments": [
                {"policyType": "ExternalAccessPolicy",
                 "policyAssignment": {"displayName": "CC-Restricted", "policyName": "CC-Restricted", "name": "CC-Restricted"}}
            ],
            "GroupPolicyAssignments": [{"PolicyType": "ExternalAccessPolicy", "PolicyName": "CC-Restricted"}],
            "Note": "Tag:CC-Restricted",
        });
        r.value(&mut user, &FactName::of("teams.onlineUsers"), "", "");
        assert_eq!(user["ExternalAccessPolicy"]["Identity"], defined);
        assert_eq!(user["TeamsCallingPolicy"]["Name"], bare);
        assert_eq!(user["OnlineVoiceRoutingPolicy"]["DisplayName"], bare);
        let assignment = &user["effectivePolicyAssignments"][0]["policyAssignment"];
        for key in ["displayName", "policyName", "name"] {
            assert_eq!(assignment[key], bare, "{key}");
        }
        assert_eq!(
            user["effectivePolicyAssignments"][0]["policyType"],
            "ExternalAccessPolicy"
        );
        assert_eq!(user["GroupPolicyAssignments"][0]["PolicyName"], bare);
        assert_eq!(user["Note"], defined);
    }

    #[test]
    fn a_guest_upn_in_free_text_gets_its_upn_pseudonym() {
        let mut r = redactor();
        let upn = "jo_fabrikam.com#EXT#@contoso.onmicrosoft.com";
        let pseudo = r.email(upn);
        assert!(!pseudo.contains("fabrikam"), "{pseudo}");
        assert_eq!(
            r.scan(&format!("user {upn} not found"), false),
            format!("user {pseudo} not found")
        );
    }

    #[test]
    fn subjects_of_an_audit_map_to_their_pseudonyms() {
        let mut r = redactor();
        let policy = r.policy("Tag:CC-Restricted");
        let number = r.phone("tel:+14255550100");
        let upn = r.email("agent1@contoso.com");
        let mut p = Pseudonyms { redactor: r };
        assert_eq!(p.subject_id("Tag:CC-Restricted"), policy);
        assert_eq!(p.subject_id("CC-Restricted"), policy["Tag:".len()..]);
        assert_eq!(p.subject_id("+14255550100"), number["tel:".len()..]);
        assert_eq!(p.subject_id("agent1@contoso.com"), upn);
        assert_eq!(p.subject_id("Global"), "Global");
        let object_id = "5a2f3b9e-0c1d-4e2f-8a9b-1c2d3e4f5a6b";
        assert_eq!(p.subject_id(object_id), object_id);
        assert_ne!(
            p.subject_id("11111111-2222-3333-4444-555555555555"),
            "11111111-2222-3333-4444-555555555555",
            "the tenant id is pseudonymized"
        );
    }

    #[test]
    fn free_text_replaces_numbers_emails_hosts_and_the_tenant_id() {
        let mut r = redactor();
        let number = r.phone("+14255550100");
        let text = "GET https://contoso.crm.dynamics.com/api?x=1 for agent1@contoso.com, \
                    +1 425 555 0100, num-14255550100, tenant 11111111-2222-3333-4444-555555555555_sku";
        let out = r.scan(text, false);
        for gone in ["contoso", "agent1", "4255550100", "11111111-2222"] {
            assert!(!out.contains(gone), "{gone} survived: {out}");
        }
        assert!(out.contains(".crm.dynamics.com/api?x=1"), "{out}");
        assert!(out.contains(&format!("num-{}", &number[1..])), "{out}");
        assert!(
            out.contains(&relayout("+1 425 555 0100", &number[1..])),
            "{out}"
        );
    }

    #[test]
    fn microsoft_service_hosts_and_type_names_stay() {
        let mut r = redactor();
        let text = "GET https://graph.microsoft.com/v1.0/users and \
                    https://api.interfaces.records.teams.microsoft.com/Skype.Policy/x \
                    https://api.bap.microsoft.com/providers/Microsoft.BusinessAppPlatform \
                    Microsoft.Communication/CommunicationServices #microsoft.graph.group";
        assert_eq!(r.scan(text, false), text);
        assert_eq!(
            r.host("acs-cc-prod.unitedstates.communication.azure.com")
                .split_once('.')
                .unwrap()
                .1,
            "communication.azure.com"
        );
        assert!(
            r.host("contoso.onmicrosoft.com")
                .ends_with(".onmicrosoft.com")
        );
        assert!(
            r.host("contoso.crm4.dynamics.com")
                .ends_with(".crm4.dynamics.com")
        );
    }

    #[test]
    fn arm_ids_hide_group_and_resource_names_but_keep_their_structure() {
        let mut r = redactor();
        let id = "/subscriptions/11112222-3333-4444-5555-666677778888/resourceGroups/rg-contact-center/providers/Microsoft.Communication/CommunicationServices/acs-cc-prod";
        let out = r.scan(id, false);
        assert!(
            out.starts_with(
                "/subscriptions/11112222-3333-4444-5555-666677778888/resourceGroups/rg-"
            )
        );
        assert!(out.contains("/providers/Microsoft.Communication/CommunicationServices/res-"));
        assert!(!out.contains("contact-center") && !out.contains("acs-cc-prod"));
        assert_eq!(
            r.arm_segment("res", "ACS-CC-PROD"),
            out.rsplit('/').next().unwrap()
        );
        assert!(canonical::is_arm_path(&out));
    }

    #[test]
    fn policy_names_keep_microsoft_defaults_and_hash_custom_ones_case_insensitively() {
        let mut r = redactor();
        assert_eq!(r.policy("Global"), "Global");
        assert_eq!(r.policy("Tag:FederationOnly"), "Tag:FederationOnly");
        let tagged = r.policy("Tag:CC-Restricted");
        assert!(tagged.starts_with("Tag:policy-"), "{tagged}");
        assert_eq!(r.policy("cc-restricted"), tagged["Tag:".len()..]);
    }

    #[test]
    fn ib_filter_values_match_the_redacted_user_attributes() {
        let mut r = redactor();
        let out = r.ib_filter(
            "(Department -eq 'Research' -or CustomAttribute1 -eq 'R&D') -and UsageLocation -ne \"US\" -and MemberOf -eq 'c0ffee01-aaaa-4bbb-8ccc-0123456789ab'",
        );
        let dept = r.label("dept", "research");
        let attr = r.label("attr", "R&D");
        assert_eq!(
            out,
            format!(
                "(Department -eq '{dept}' -or CustomAttribute1 -eq '{attr}') -and UsageLocation -ne \"US\" -and MemberOf -eq 'c0ffee01-aaaa-4bbb-8ccc-0123456789ab'"
            )
        );
        assert!(crate::model::ib_filter::parse(&out).is_ok());
    }

    #[test]
    fn segment_lists_rendered_as_text_keep_their_items() {
        let mut r = redactor();
        let list = r.segment_list("{Sales, Research}");
        let (sales, research) = (r.segment("sales"), r.segment("Research"));
        assert_eq!(list, format!("{{{sales}, {research}}}"));
    }

    #[test]
    fn prose_replaces_known_names_only_at_word_boundaries() {
        let mut r = redactor();
        let name = r.label("name", "Avery Agent");
        let tenant = r.tenant_name("Contoso");
        let out = r.scan("User Avery Agent of Contoso; Averyx stays", true);
        assert_eq!(out, format!("User {name} of {tenant}; Averyx stays"));
        // Outside prose only the tenant's name is replaced.
        assert_eq!(
            r.scan("Avery Agent at Contoso", false),
            format!("Avery Agent at {tenant}")
        );
    }

    #[test]
    fn a_tenant_name_inside_an_identifier_is_left_alone_outside_prose() {
        let mut r = redactor();
        let tenant = r.tenant_name("Microsoft");
        let arm_type = "Microsoft.Communication/CommunicationServices";
        assert_eq!(r.scan(arm_type, false), arm_type);
        assert_eq!(
            r.scan("owned by Microsoft", false),
            format!("owned by {tenant}")
        );
    }

    #[test]
    fn key_file_is_created_owner_only_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("out.json");
        let first = load_or_create_key(&output, None).unwrap();
        assert_eq!(first.origin, KeyOrigin::Created);
        assert_eq!(first.bytes.len(), KEY_LEN);
        assert_eq!(first.path, dir.path().join("out.json.redact-key"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&first.path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = load_or_create_key(&output, None).unwrap();
        assert_eq!(again.origin, KeyOrigin::Reused);
        assert_eq!(again.bytes, first.bytes);
        let given = load_or_create_key(&dir.path().join("other.json"), Some(&first.path)).unwrap();
        assert_eq!((given.origin, given.bytes), (KeyOrigin::Given, first.bytes));
    }

    #[test]
    fn missing_or_malformed_key_files_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let err = load_or_create_key(&dir.path().join("o"), Some(&missing)).unwrap_err();
        assert!(matches!(err, KeyError::Missing { .. }), "{err}");
        let bad = dir.path().join("bad");
        std::fs::write(&bad, "not hex").unwrap();
        let err = load_or_create_key(&dir.path().join("o"), Some(&bad)).unwrap_err();
        assert!(err.to_string().contains("not a redaction key"), "{err}");
    }
}
