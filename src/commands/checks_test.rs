//! `ccaudit checks test DIR`: runs the fixtures kept beside check files, as `opa test` or
//! `conftest verify` do for policy authors, so a check can be written and proven outside this
//! repository without building Rust.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::Args;

use crate::engine::{self, fixtures};
use crate::report::ExitStatus;

#[derive(Debug, Args)]
pub struct ChecksTestArgs {
    /// Folder of check files with their fixtures: `<ID>.test.yaml` beside `<ID>.yaml`, or
    /// `<ID>.yaml` in a `fixtures/` folder. Each case patches the built-in healthy example's
    /// model (see docs/writing-checks.md).
    pub dir: PathBuf,
}

/// Runs every fixture file under `args.dir` against its check (the folder's checks over the
/// built-in ones). Exit 0 when every case passes and covers the check's outcomes, 1 otherwise,
/// 2 when the checks or fixtures cannot be read.
pub fn run(args: ChecksTestArgs) -> Result<ExitStatus, String> {
    let env = engine::cel::environment();
    let set = engine::catalog::load(&env, Some(&args.dir)).map_err(|e| e.to_string())?;
    let files = fixtures::find(&args.dir)
        .map_err(|e| format!("{}: cannot read: {e}", args.dir.display()))?;
    if files.is_empty() {
        return Err(format!(
            "{}: no fixture files (<ID>.test.yaml, or fixtures/<ID>.yaml)",
            args.dir.display()
        ));
    }
    let base = fixtures::base();
    let mut out = anstream::stdout();
    let (mut passed, mut failed) = (0usize, 0usize);
    for (id, path) in &files {
        let origin = shown(path);
        let Some(check) = set.get(id) else {
            return Err(format!("{origin}: no check `{id}` to test"));
        };
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("{origin}: cannot read: {e}"))?;
        let outcome = fixtures::run_file(&env, check, &origin, &text, &base)?;
        for (case, error) in &outcome.cases {
            match error {
                None => {
                    passed += 1;
                    let _ = writeln!(out, "ok    {id} / {case}");
                }
                Some(e) => {
                    failed += 1;
                    let _ = writeln!(out, "FAIL  {id} / {case}\n      {e}");
                }
            }
        }
        if !outcome.uncovered.is_empty() {
            failed += 1;
            let _ = writeln!(
                out,
                "FAIL  {id}: no case shows {} (every outcome the check can reach needs a case)",
                outcome.uncovered.join(", ")
            );
        }
    }
    let _ = writeln!(
        out,
        "{passed} passed, {failed} failed ({} fixture file(s))",
        files.len()
    );
    Ok(if failed == 0 {
        ExitStatus::Success
    } else {
        ExitStatus::Findings
    })
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}
