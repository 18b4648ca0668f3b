//! Writing a file that describes a tenant (a snapshot, a report, a remediation script): owner-only
//! from the first byte and replaced atomically, so neither a half-written file nor a
//! world-readable one ever appears at its path. Live collection and the offline commands write
//! through here alike.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::snapshot::Snapshot;

/// Writes a snapshot as [`write`] does: a reader never sees a half-written snapshot, and tenant
/// data is never world-readable, even briefly.
pub fn write_snapshot(path: &Path, snapshot: &Snapshot) -> std::io::Result<()> {
    write(path, snapshot.to_json_pretty().as_bytes())
}

/// Writes `contents` to `path` for its owner only: a temp file in the same directory (so the
/// rename is atomic), mode 0600 on unix, synced, then renamed over `path`. A `path` that exists
/// and is not a regular file (`/dev/stdout`, a pipe) is written in place: renaming over it would
/// replace the device.
pub fn write(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    if fs::metadata(path).is_ok_and(|m| !m.is_file()) {
        return fs::OpenOptions::new()
            .write(true)
            .open(path)?
            .write_all(contents);
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "snapshot.json".into());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let _ = fs::remove_file(&tmp);
    let written = (|| {
        let mut file = options.open(&tmp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::SystemTime;

    use super::*;
    use crate::dates::rfc3339;
    use crate::snapshot::SCHEMA_VERSION;

    #[test]
    fn snapshot_file_is_owner_only_and_replaced_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.snapshot.json");
        let snapshot = Snapshot {
            schema_version: SCHEMA_VERSION,
            tool_version: "0".into(),
            collected_at: rfc3339(SystemTime::now()),
            tenant_id: "t".into(),
            tenant_name: None,
            cloud: "public".into(),
            agents: None,
            facts: BTreeMap::new(),
            sign_in: None,
        };
        std::fs::write(&path, "old").unwrap();
        write_snapshot(&path, &snapshot).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(Snapshot::parse(&text, "t").unwrap(), snapshot);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temp file left behind");
    }

    #[cfg(unix)]
    #[test]
    fn private_files_are_owner_only_and_devices_are_written_in_place() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.txt");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        write(&path, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        // /dev/null stays the device.
        write(Path::new("/dev/null"), b"x").unwrap();
        assert!(!std::fs::metadata("/dev/null").unwrap().is_file());
    }
}
