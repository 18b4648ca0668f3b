//! The check catalog: the built-in checks embedded at build time, plus `--checks DIR`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use cel::Env;
use include_dir::{Dir, include_dir};

use super::check::{Check, CheckError, CheckSet, CheckSpec};
use super::fix::Fix;

static BUILTIN: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/checks");

/// One check file's text and where it came from.
struct Source {
    origin: String,
    stem: String,
    text: String,
}

/// Loads the built-in checks, then the files under `extra` (which add checks or replace
/// built-ins with the same id).
pub fn load(env: &Env, extra: Option<&Path>) -> Result<CheckSet, CheckError> {
    // Every expression is parsed on one thread with a stack the parser cannot exhaust within
    // the expression limits (see `cel::with_parser_stack`).
    super::cel::with_parser_stack(|| load_here(env, extra))
}

/// The largest check file read from `--checks DIR`; the largest built-in one is under 10 KiB.
pub const MAX_CHECK_FILE_BYTES: u64 = 1 << 20;

fn load_here(env: &Env, extra: Option<&Path>) -> Result<CheckSet, CheckError> {
    let fact_paths = crate::model::fact_paths();
    let mut set = CheckSet::new();
    let mut builtin = Vec::new();
    collect_builtin(&BUILTIN, &mut builtin);
    add_all(env, &mut set, builtin, &fact_paths, false)?;
    if let Some(dir) = extra {
        let mut files = Vec::new();
        collect_dir(dir, &mut files)?;
        add_all(env, &mut set, files, &fact_paths, true)?;
    }
    Ok(set)
}

fn add_all(
    env: &Env,
    set: &mut CheckSet,
    mut sources: Vec<Source>,
    fact_paths: &[&str],
    overriding: bool,
) -> Result<(), CheckError> {
    sources.sort_by(|a, b| a.origin.cmp(&b.origin));
    let mut seen_here = std::collections::BTreeMap::<String, String>::new();
    for src in sources {
        let check = Check::load(env, &src.origin, &src.stem, &src.text, fact_paths)?;
        super::paths::check_spec(&check.spec, &src.origin, &src.text)?;
        if let Some(previous) = seen_here.insert(check.spec.id.clone(), src.origin.clone()) {
            return Err(CheckError {
                origin: src.origin,
                line: 1,
                message: format!(
                    "duplicate check id `{}` (also in {previous})",
                    check.spec.id
                ),
            });
        }
        if !overriding && set.contains_key(&check.spec.id) {
            return Err(CheckError {
                origin: src.origin,
                line: 1,
                message: format!("duplicate check id `{}`", check.spec.id),
            });
        }
        set.insert(check.spec.id.clone(), check);
    }
    Ok(())
}

/// The built-in check specs by id, parsed once without compiling their expressions: what the
/// remediation script and the diff read when they are given results without the checks that
/// made them. A file that does not parse is left out here; `load` reports it.
pub fn builtin_specs() -> &'static BTreeMap<String, CheckSpec> {
    static SPECS: OnceLock<BTreeMap<String, CheckSpec>> = OnceLock::new();
    SPECS.get_or_init(|| {
        let mut sources = Vec::new();
        collect_builtin(&BUILTIN, &mut sources);
        sources
            .iter()
            .filter_map(|s| serde_yaml::from_str::<CheckSpec>(&s.text).ok())
            .map(|spec| (spec.id.clone(), spec))
            .collect()
    })
}

/// A check id that no longer exists, and the check that now covers it (`checks/retired.yaml`).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retired {
    pub id: String,
    pub replaced_by: String,
    pub why: String,
}

/// The retired check ids, by id. The file is checked by the test suite; were it unreadable,
/// no id would redirect (a suppression naming one is then refused as unknown).
pub fn retired() -> &'static BTreeMap<String, Retired> {
    static RETIRED: OnceLock<BTreeMap<String, Retired>> = OnceLock::new();
    RETIRED.get_or_init(|| {
        BUILTIN
            .get_file("retired.yaml")
            .and_then(|f| f.contents_utf8())
            .and_then(|text| serde_yaml::from_str::<Vec<Retired>>(text).ok())
            .unwrap_or_default()
            .into_iter()
            .map(|r| (r.id.clone(), r))
            .collect()
    })
}

/// Each check's fix by id, for `remediation_script::Plan::build_with`.
pub fn fixes(set: &CheckSet) -> BTreeMap<String, Fix> {
    set.iter()
        .filter_map(|(id, c)| Some((id.clone(), c.spec.fix.clone()?)))
        .collect()
}

/// Whether a file named `name` in a `--checks` directory is read as a check.
pub fn is_check_file(name: &str) -> bool {
    (name.ends_with(".yaml") || name.ends_with(".yml"))
        && !name.starts_with('_')
        && fixture_id(name, false).is_none()
}

/// The check id a fixture file is for: `<ID>.test.yaml` anywhere, or `<ID>.yaml` inside a
/// `fixtures/` folder. Fixtures sit beside checks but are never loaded as checks.
pub fn fixture_id(name: &str, in_fixtures_folder: bool) -> Option<String> {
    let stem = name
        .strip_suffix(".yaml")
        .or_else(|| name.strip_suffix(".yml"))?;
    match stem.strip_suffix(".test") {
        Some(id) => Some(id.to_string()),
        None if in_fixtures_folder => Some(stem.to_string()),
        None => None,
    }
}

fn collect_builtin(dir: &Dir<'_>, out: &mut Vec<Source>) {
    for file in dir.files() {
        let path = file.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !is_check_file(name) || path.components().count() < 2 {
            // Top-level files (errors.yaml, ...) are other catalogs, not checks.
            continue;
        }
        out.push(Source {
            origin: format!("checks/{}", path.display()),
            stem: stem(name),
            text: file.contents_utf8().unwrap_or_default().to_string(),
        });
    }
    for sub in dir.dirs() {
        collect_builtin(sub, out);
    }
}

fn collect_dir(dir: &Path, out: &mut Vec<Source>) -> Result<(), CheckError> {
    let io_err = |path: &Path, e: std::io::Error| CheckError {
        origin: path.display().to_string(),
        line: 0,
        message: format!("cannot read: {e}"),
    };
    let entries = std::fs::read_dir(dir).map_err(|e| io_err(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| io_err(dir, e))?;
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "fixtures") {
                continue;
            }
            collect_dir(&path, out)?;
            continue;
        }
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !is_check_file(name) {
            continue;
        }
        let text = read_capped(&path).map_err(|e| io_err(&path, e))?;
        out.push(Source {
            origin: path.display().to_string(),
            stem: stem(name),
            text,
        });
    }
    Ok(())
}

/// Reads a check file, refusing one larger than `MAX_CHECK_FILE_BYTES` before reading it whole.
fn read_capped(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(MAX_CHECK_FILE_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_CHECK_FILE_BYTES {
        return Err(std::io::Error::other(format!(
            "larger than the {} KiB a check file may have",
            MAX_CHECK_FILE_BYTES >> 10
        )));
    }
    String::from_utf8(bytes)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text"))
}

fn stem(name: &str) -> String {
    name.trim_end_matches(".yaml")
        .trim_end_matches(".yml")
        .to_string()
}
