//! The HTML report in a real browser: headless Chromium loads the field-report tenant's page and
//! dumps the DOM after the page's script has run, so these tests see what a reader sees: the
//! script started, every result is a row, and the filters and sorting in the URL fragment were
//! applied.
//!
//! Runs only where `/usr/bin/chromium` exists (Debian: `apt-get install chromium`); elsewhere
//! each test says it was skipped and passes.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ccaudit::engine::{self, Status, Suppressed};
use ccaudit::model::{AuditConfig, TenantModel};
use ccaudit::report::{Report, html};
use ccaudit::snapshot::Snapshot;

const CHROMIUM: &str = "/usr/bin/chromium";
const TIMEOUT: Duration = Duration::from_secs(90);

fn chromium_available(test: &str) -> bool {
    let found = Path::new(CHROMIUM).exists();
    if !found {
        eprintln!("{test}: skipped, {CHROMIUM} is not installed");
    }
    found
}

/// The field case, with NUM-002's failure suppressed so the page has a suppressed row.
fn report() -> Report {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/field-case.snapshot.json");
    let snapshot = Snapshot::load(&path).expect("the example snapshot loads");
    let model = TenantModel::from_snapshot(&snapshot, AuditConfig::default());
    let env = engine::cel::environment();
    let checks = engine::catalog::load(&env, None).expect("the built-in checks load");
    let mut report = Report::new(&model, "snapshot", engine::evaluate(&env, &checks, &model));
    if let Some(r) = report
        .results
        .iter_mut()
        .find(|r| r.check == "NUM-002" && r.status == Status::Fail)
    {
        r.suppressed = Some(Suppressed {
            reason: "operator ticket".into(),
            expires: None,
        });
    }
    report
}

/// Writes the page where it can be looked at after the run (`target/tmp/browser-report.html`).
fn write_page(report: &Report) -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-report.html");
    std::fs::write(&path, html::render(report)).expect("the page is written");
    path
}

/// The DOM after load, as Chromium serialises it. The dump goes to a file, not a pipe: a page
/// larger than the pipe buffer would block Chromium until someone reads it.
fn dump_dom(page: &Path, fragment: &str) -> String {
    let scratch = tempfile::tempdir().expect("a temporary browser profile");
    let dump = scratch.path().join("dom.html");
    let url = format!("file://{}{fragment}", page.display());
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--virtual-time-budget=5000",
        ])
        .arg(format!(
            "--user-data-dir={}",
            scratch.path().join("profile").display()
        ))
        .arg("--dump-dom")
        .arg(&url)
        .stdin(Stdio::null())
        .stdout(File::create(&dump).expect("the dump file"))
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("chromium can be waited for") {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish loading {url} within {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "chromium failed on {url}: {status}");
    std::fs::read_to_string(&dump).expect("the DOM dump is UTF-8")
}

/// The start tags of the result rows, in document order.
fn result_rows(dom: &str) -> Vec<&str> {
    dom.match_indices("<tbody class=\"result ")
        .map(|(i, _)| {
            let tag = &dom[i..];
            &tag[..tag.find('>').expect("the tag closes")]
        })
        .collect()
}

fn attribute<'a>(tag: &'a str, name: &str) -> &'a str {
    let key = format!(" {name}=\"");
    let start = tag
        .find(&key)
        .unwrap_or_else(|| panic!("no {name} in {tag}"))
        + key.len();
    &tag[start..start + tag[start..].find('"').expect("the value closes")]
}

fn shown_count(dom: &str) -> &str {
    let start = dom.find("id=\"shown-count\"").expect("the count element");
    let tag_end = start + dom[start..].find('>').expect("the tag closes") + 1;
    &dom[tag_end..tag_end + dom[tag_end..].find('<').expect("the element closes")]
}

#[test]
fn script_runs_and_shows_every_result() {
    if !chromium_available("script_runs_and_shows_every_result") {
        return;
    }
    let report = report();
    let dom = dump_dom(&write_page(&report), "");
    let root = &dom[dom.find("<html").expect("an html element")..];
    let root = &root[..root.find('>').expect("the tag closes")];
    assert_eq!(
        attribute(root, "data-ready"),
        "true",
        "the script ran: {root}"
    );
    assert_eq!(attribute(root, "class"), "js");

    let rows = result_rows(&dom);
    assert_eq!(rows.len(), report.results.len());
    assert!(rows.iter().all(|r| !r.contains(" hidden")));
    let total = report.results.len();
    assert_eq!(shown_count(&dom), format!("Showing all {total} results"));
}

#[test]
fn filters_and_sorting_in_the_fragment_are_applied() {
    if !chromium_available("filters_and_sorting_in_the_fragment_are_applied") {
        return;
    }
    let report = report();
    let dom = dump_dom(&write_page(&report), "#status=attention&sort=severity");

    let wanted = report
        .results
        .iter()
        .filter(|r| {
            matches!(r.status, Status::Fail | Status::Missing | Status::Unknown)
                && r.suppressed.is_none()
        })
        .count();
    let rows = result_rows(&dom);
    let visible: Vec<&&str> = rows.iter().filter(|r| !r.contains(" hidden")).collect();
    assert_eq!(visible.len(), wanted);
    assert!(
        visible
            .iter()
            .all(|r| attribute(r, "data-suppressed") == "false"
                && ["fail", "missing", "unknown"].contains(&attribute(r, "data-status")))
    );
    assert_eq!(
        shown_count(&dom),
        format!("Showing {wanted} of {} results", report.results.len())
    );

    let ranks: Vec<u32> = rows
        .iter()
        .map(|r| attribute(r, "data-k-severity").parse().expect("a rank"))
        .collect();
    assert!(
        ranks.windows(2).all(|w| w[0] <= w[1]),
        "rows sorted by severity, most severe first: {ranks:?}"
    );
    assert!(dom.contains("aria-sort=\"ascending\""));
}
