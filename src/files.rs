//! Where commands read and write, guarded so that no data is lost or clobbered and nothing
//! hangs: no output may name an input (or another output), output directories are checked
//! before any work starts (a live collection is never read only to be thrown away), inputs are
//! read with a size cap, and a failed write to standard output is an error while a closed pipe
//! (`| head`) is not.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// Why a command's paths are refused before any work; one line that leads with the path and
/// names the flag.
#[derive(Debug, thiserror::Error)]
pub enum PathError {
    #[error(
        "{shown}: {flag} is in the {dir_flag} directory {dir}, where it would replace or add a check file; write it elsewhere"
    )]
    InCheckDir {
        shown: String,
        flag: String,
        dir_flag: String,
        dir: String,
    },
    /// `spelled` is ` (PATH)` when the input is spelled differently from the output.
    #[error(
        "{shown}: {flag} names the same file as {input}{spelled}, which would be overwritten; write to another file"
    )]
    SameAsInput {
        shown: String,
        flag: String,
        input: String,
        spelled: String,
    },
    #[error(
        "{shown}: {flag} and {output}{spelled} name the same file, so one would overwrite the other; give them different files"
    )]
    SameAsOutput {
        shown: String,
        flag: String,
        output: String,
        spelled: String,
    },
    #[error("{shown}: {flag} is a directory; name a file")]
    IsDirectory { shown: String, flag: String },
    #[error("{shown}: cannot write {flag}: directory {dir} does not exist")]
    NoDirectory {
        shown: String,
        flag: String,
        dir: String,
    },
    #[error("{shown}: cannot write {flag} in {dir}: {error}")]
    NotWritable {
        shown: String,
        flag: String,
        dir: String,
        error: io::Error,
    },
}

/// Standard output could not be written (a closed pipe is not this: the reader wanted no more).
#[derive(Debug, thiserror::Error)]
#[error("cannot write to standard output: {0}")]
pub struct StdoutError(pub io::Error);

/// What a command does with a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Read.
    Input,
    /// A directory of check files (`--checks`): every check file below it is read.
    CheckDir,
    /// Written (replaced, or created).
    Output,
}

/// One path a command reads or writes, with the flag that named it.
#[derive(Debug, Clone)]
pub struct Named<'a> {
    pub flag: &'a str,
    pub path: PathBuf,
    pub role: Role,
}

impl<'a> Named<'a> {
    pub fn input(flag: &'a str, path: &Path) -> Named<'a> {
        Named::new(flag, path, Role::Input)
    }

    pub fn output(flag: &'a str, path: &Path) -> Named<'a> {
        Named::new(flag, path, Role::Output)
    }

    pub fn check_dir(flag: &'a str, path: &Path) -> Named<'a> {
        Named::new(flag, path, Role::CheckDir)
    }

    /// A redaction key: `--redact-key FILE`, which must exist, or (`given` false) the default
    /// next to the output, read when it exists and created otherwise.
    pub fn key(path: &Path, given: bool) -> Named<'a> {
        match given {
            true => Named::input("--redact-key", path),
            false if path.exists() => Named::input("the redaction key", path),
            false => Named::output("the redaction key", path),
        }
    }

    fn new(flag: &'a str, path: &Path, role: Role) -> Named<'a> {
        Named {
            flag,
            path: path.to_path_buf(),
            role,
        }
    }
}

/// Refuses, in one line, any output that is also an input, lies in a `--checks` directory as a
/// check file, names the same file as another output, is a directory, or whose directory does
/// not exist or cannot be written. Paths are compared canonically (symbolic links, `..`, and
/// hard links to one file), an output not yet there by its directory's canonical path.
/// Called before any work, so a mistake costs nothing.
pub fn check_paths(paths: &[Named<'_>]) -> Result<(), PathError> {
    for (i, out) in paths.iter().enumerate() {
        if out.role != Role::Output || is_device(&out.path) {
            continue;
        }
        let out_id = identity(&out.path);
        for (j, other) in paths.iter().enumerate() {
            if i == j {
                continue;
            }
            let shown = out.path.display().to_string();
            match other.role {
                Role::CheckDir => {
                    let dir = identity(&other.path);
                    let name = out.path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                    if out_id == dir
                        || (out_id.starts_with(&dir) && crate::engine::catalog::is_check_file(name))
                    {
                        return Err(PathError::InCheckDir {
                            shown,
                            flag: out.flag.to_string(),
                            dir_flag: other.flag.to_string(),
                            dir: other.path.display().to_string(),
                        });
                    }
                }
                _ if is_device(&other.path) => {}
                Role::Input if same_file(&out.path, &out_id, &other.path) => {
                    return Err(PathError::SameAsInput {
                        shown,
                        flag: out.flag.to_string(),
                        input: other.flag.to_string(),
                        spelled: spelled(&other.path, &out.path),
                    });
                }
                // Each pair of outputs once.
                Role::Output if j > i && same_file(&out.path, &out_id, &other.path) => {
                    return Err(PathError::SameAsOutput {
                        shown,
                        flag: out.flag.to_string(),
                        output: other.flag.to_string(),
                        spelled: spelled(&other.path, &out.path),
                    });
                }
                _ => {}
            }
        }
    }
    for out in paths.iter().filter(|p| p.role == Role::Output) {
        writable(out.flag, &out.path)?;
    }
    Ok(())
}

/// ` (PATH)` when `other` is spelled differently from `shown`, which the message leads with.
fn spelled(other: &Path, shown: &Path) -> String {
    if other == shown {
        String::new()
    } else {
        format!(" ({})", other.display())
    }
}

/// A device or pipe (`/dev/stdout`, `/dev/null`): written in place, never replaced, so it
/// clobbers nothing.
fn is_device(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// The canonical path of `path`, or for a file not there yet, its directory's canonical path
/// joined with its name (so `out/../snap.json` and `snap.json` compare equal).
fn identity(path: &Path) -> PathBuf {
    if let Ok(canonical) = path.canonicalize() {
        return canonical;
    }
    let parent = parent_dir(path);
    match (parent.canonicalize(), path.file_name()) {
        (Ok(dir), Some(name)) => dir.join(name),
        _ => std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()),
    }
}

/// Whether `b` is the file `a` (whose identity is `a_id`) names: the same canonical path, or
/// on unix the same inode (a hard link). On Windows a hard link is not recognised (its file id
/// needs an API std has not stabilised); the output then replaces the link's name by rename,
/// so the input's contents are still not overwritten (docs/reliability.md, "Windows").
#[cfg_attr(not(unix), allow(unused_variables))]
fn same_file(a: &Path, a_id: &Path, b: &Path) -> bool {
    if a_id == identity(b) {
        return true;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return x.dev() == y.dev() && x.ino() == y.ino();
        }
    }
    false
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// An output can be written: not a directory, in a directory that exists and in which a file
/// can be created (tried with a probe file, removed at once: permissions, read-only file
/// systems and ACLs all answer the same way).
fn writable(flag: &str, path: &Path) -> Result<(), PathError> {
    let shown = path.display().to_string();
    let flag = flag.to_string();
    if path.is_dir() {
        return Err(PathError::IsDirectory { shown, flag });
    }
    if is_device(path) {
        return Ok(());
    }
    let dir = parent_dir(path);
    if !dir.is_dir() {
        return Err(PathError::NoDirectory {
            shown,
            flag,
            dir: dir.display().to_string(),
        });
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let probe = dir.join(format!(".{name}.probe-{}", std::process::id()));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(error) => Err(PathError::NotWritable {
            shown,
            flag,
            dir: dir.display().to_string(),
            error,
        }),
    }
}

/// Why a capped read stopped.
#[derive(Debug)]
pub enum CappedError {
    Io(io::Error),
    /// Larger than `cap` bytes: `size` when the file says how large it is (a regular file,
    /// refused before reading), `None` when more than `cap` bytes came out of a stream.
    TooLarge {
        size: Option<u64>,
        cap: u64,
    },
}

/// Reads at most `cap` bytes of `reader`; more is an error. Never holds more than `cap + 1`
/// bytes, so `/dev/zero` or an endless pipe cannot exhaust memory.
pub fn read_capped(reader: impl Read, cap: u64, into: &mut Vec<u8>) -> Result<(), CappedError> {
    reader
        .take(cap.saturating_add(1))
        .read_to_end(into)
        .map_err(CappedError::Io)?;
    if into.len() as u64 > cap {
        return Err(CappedError::TooLarge { size: None, cap });
    }
    Ok(())
}

/// Reads the file at `path`, refusing a regular file larger than `cap` before reading any of
/// it, and anything else (a device, a pipe) once more than `cap` bytes came out of it.
pub fn read_file_capped(path: &Path, cap: u64) -> Result<Vec<u8>, CappedError> {
    let file = std::fs::File::open(path).map_err(CappedError::Io)?;
    let meta = file.metadata().map_err(CappedError::Io)?;
    let mut bytes = Vec::new();
    if meta.is_file() {
        if meta.len() > cap {
            return Err(CappedError::TooLarge {
                size: Some(meta.len()),
                cap,
            });
        }
        // The exact size: one allocation.
        bytes.reserve_exact(meta.len() as usize);
    }
    read_capped(file, cap, &mut bytes)?;
    Ok(bytes)
}

/// `n` bytes in MiB, for messages (`17.2 MiB`).
pub fn mib(n: u64) -> String {
    let m = n as f64 / (1024.0 * 1024.0);
    if m >= 10.0 || m.fract() == 0.0 {
        format!("{m:.0} MiB")
    } else {
        format!("{m:.1} MiB")
    }
}

/// Writes `bytes` to `out` and flushes. A closed pipe (`| head`) is not an error: the reader
/// wanted no more, and the command goes on and exits as it would have. Any other failure (a
/// full disk, `> /dev/full`) is, naming standard output.
pub fn emit(out: &mut dyn Write, bytes: &[u8]) -> Result<(), StdoutError> {
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(StdoutError(e)),
    }
}

/// [`emit`] to standard output, through `anstream` (which strips colour when stdout is not a
/// terminal) when the text is `coloured`.
pub fn emit_stdout(bytes: &[u8], coloured: bool) -> Result<(), StdoutError> {
    if coloured {
        emit(&mut anstream::stdout(), bytes)
    } else {
        emit(&mut io::stdout().lock(), bytes)
    }
}

/// One line to standard error. Unlike `eprintln!`, never panics: when stderr itself cannot be
/// written (a closed pipe, a full disk) there is nowhere left to say so.
pub fn note(line: &str) {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "{line}");
}

/// The commands report one line of text; these join the typed errors to them.
impl From<PathError> for String {
    fn from(e: PathError) -> String {
        e.to_string()
    }
}

impl From<StdoutError> for String {
    fn from(e: StdoutError) -> String {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capped_read_stops_one_byte_past_the_cap() {
        let mut out = Vec::new();
        let endless = io::repeat(b'x');
        let err = read_capped(endless, 10, &mut out).unwrap_err();
        assert!(matches!(
            err,
            CappedError::TooLarge {
                size: None,
                cap: 10
            }
        ));
        assert_eq!(out.len(), 11);
        let mut out = Vec::new();
        read_capped(&b"0123456789"[..], 10, &mut out).unwrap();
        assert_eq!(out, b"0123456789");
    }

    #[test]
    fn a_regular_file_over_the_cap_is_refused_by_its_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big");
        std::fs::write(&path, vec![b' '; 100]).unwrap();
        assert!(matches!(
            read_file_capped(&path, 99),
            Err(CappedError::TooLarge {
                size: Some(100),
                cap: 99
            })
        ));
        assert_eq!(read_file_capped(&path, 100).unwrap().len(), 100);
    }

    #[test]
    fn an_output_spelled_differently_is_still_the_input() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("snap.json");
        std::fs::write(&input, "{}").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let spelled = dir.path().join("sub/../snap.json");
        let err = check_paths(&[
            Named::input("--snapshot", &input),
            Named::output("--output", &spelled),
        ])
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("--output names the same file as --snapshot"),
            "{err}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_hard_link_to_the_input_is_the_input() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("snap.json");
        std::fs::write(&input, "{}").unwrap();
        let link = dir.path().join("link.json");
        std::fs::hard_link(&input, &link).unwrap();
        assert!(
            check_paths(&[
                Named::input("--snapshot", &input),
                Named::output("--output", &link),
            ])
            .is_err()
        );
    }

    #[test]
    fn distinct_files_in_a_writable_directory_pass_and_leave_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("snap.json");
        std::fs::write(&input, "{}").unwrap();
        let out = dir.path().join("report.json");
        check_paths(&[
            Named::input("--snapshot", &input),
            Named::output("--output", &out),
        ])
        .unwrap();
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "the probe file is removed");
    }
}
