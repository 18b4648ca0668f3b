//! The HTML report in a real browser: headless Chromium loads the field-report tenant's page and
//! dumps the DOM after the page's script has run, so these tests see what a reader sees: the
//! script started, every result is a row, and the filters and sorting in the URL fragment were
//! applied.
//!
//! The call-path diagrams are checked the same way: a script in the page measures every label
//! and reports any two that overlap or any that leaves its box; screenshots are kept in
//! `target/tmp/` for a person to look at.
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
use ccaudit::trace::{AgentLeg, AgentRef, CallPath, Hop, HopCheck, HopKind, HopStatus, svg};

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
    chromium(&scratch, &["--dump-dom".into(), url], &dump);
    std::fs::read_to_string(&dump).expect("the DOM dump is UTF-8")
}

/// A PNG of the page's first `width` x `height` pixels, next to the page.
fn screenshot(page: &Path, width: u32, height: u32) -> PathBuf {
    let scratch = tempfile::tempdir().expect("a temporary browser profile");
    let png = page.with_extension("png");
    let _ = std::fs::remove_file(&png);
    chromium(
        &scratch,
        &[
            format!("--screenshot={}", png.display()),
            format!("--window-size={width},{height}"),
            "--hide-scrollbars".into(),
            format!("file://{}", page.display()),
        ],
        &scratch.path().join("out.txt"),
    );
    assert!(
        png.exists(),
        "chromium wrote no screenshot of {}",
        page.display()
    );
    png
}

fn chromium(scratch: &tempfile::TempDir, args: &[String], stdout: &Path) {
    let url = args.last().cloned().unwrap_or_default();
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
        .args(args)
        .stdin(Stdio::null())
        .stdout(File::create(stdout).expect("the output file"))
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

/// Measures the diagrams' labels once the page is laid out: any two that overlap, any that
/// leaves its box. The findings land on `<body>` as attributes, which `--dump-dom` shows.
const MEASURE: &str = r#"<script>
(function () {
  var texts = [].slice.call(document.querySelectorAll("svg.cp text"));
  var boxes = texts.map(function (t) { return t.getBoundingClientRect(); });
  var seen = function (b) { return b.width > 0 && b.height > 0; };
  var overlaps = [], outside = [];
  for (var i = 0; i < boxes.length; i++) {
    for (var j = i + 1; j < boxes.length; j++) {
      var a = boxes[i], b = boxes[j];
      if (seen(a) && seen(b) && a.left < b.right - 0.5 && b.left < a.right - 0.5 &&
          a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5) {
        overlaps.push(texts[i].textContent + " / " + texts[j].textContent);
      }
    }
    var rect = texts[i].parentNode.querySelector(":scope > rect");
    if (rect && seen(boxes[i])) {
      var r = rect.getBoundingClientRect(), t = boxes[i];
      if (t.left < r.left || t.right > r.right || t.top < r.top || t.bottom > r.bottom) {
        outside.push(texts[i].textContent);
      }
    }
  }
  document.body.setAttribute("data-texts", String(texts.filter(function (t, i) { return seen(boxes[i]); }).length));
  document.body.setAttribute("data-overlaps", overlaps.slice(0, 5).join(" | ") || "none");
  document.body.setAttribute("data-outside", outside.slice(0, 5).join(" | ") || "none");
})();
</script>"#;

fn hop(kind: HopKind, label: String, status: HopStatus, check: &str, result: usize) -> Hop {
    Hop {
        kind,
        label,
        status,
        checks: vec![HopCheck {
            check: check.into(),
            status: if status == HopStatus::Broken {
                Status::Fail
            } else {
                Status::Pass
            },
            evidence: "the value seen".into(),
            needs: None,
            result,
        }],
        note: None,
        fix: None,
    }
}

/// A path with `hops` shared hops (the second one broken when `broken`) and `agents` agents,
/// with long UPNs and ARM paths so elision is exercised.
fn path(number: &str, hops: usize, agents: usize, broken: bool, results: usize) -> CallPath {
    let shared = [
        HopKind::Number,
        HopKind::ResourceAccount,
        HopKind::Dynamics365,
        HopKind::AcsFederation,
    ];
    let status = |i: usize| {
        if broken && i == 1 {
            HopStatus::Broken
        } else {
            HopStatus::Clear
        }
    };
    CallPath {
        agents_note: None,
        number: number.into(),
        hops: (0..hops)
            .map(|i| {
                let label = match i % 4 {
                    0 => number.to_string(),
                    1 => format!("ra_contact_center_sales_queue_{i}@contoso.onmicrosoft.com"),
                    2 => "contoso-customer-service.crm4.dynamics.com".into(),
                    _ => "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/\
                          rg-contact-center/providers/Microsoft.Communication/\
                          communicationServices/acs-westeurope"
                        .into(),
                };
                hop(shared[i % 4], label, status(i), "CHK-001", i % results)
            })
            .collect(),
        agents: (0..agents)
            .map(|a| {
                let upn = format!("agent.number.{a}.with.a.long.name@contoso.onmicrosoft.com");
                AgentLeg {
                    agent: AgentRef {
                        id: format!("agent-{a}"),
                        upn: upn.clone(),
                    },
                    hops: vec![
                        hop(
                            HopKind::ExternalAccess,
                            "Tag:RestrictedExternalAccess".into(),
                            if a % 2 == 1 {
                                HopStatus::Broken
                            } else {
                                HopStatus::Clear
                            },
                            "CHK-002",
                            a % results,
                        ),
                        hop(
                            HopKind::InformationBarriers,
                            "no barrier".into(),
                            HopStatus::Clear,
                            "CHK-003",
                            0,
                        ),
                        hop(
                            HopKind::Agent,
                            upn,
                            if broken {
                                HopStatus::Unknown
                            } else {
                                HopStatus::Clear
                            },
                            "CHK-004",
                            1 % results,
                        ),
                    ],
                }
            })
            .collect(),
    }
}

/// Loads `page` with the measuring script and asserts no label overlaps another or leaves its
/// box; returns how many labels were measured.
fn assert_labels_apart(page: &Path) -> usize {
    let dom = dump_dom(page, "");
    let body = &dom[dom.find("<body").expect("a body")..];
    let body = &body[..body.find('>').expect("the tag closes")];
    assert_eq!(
        attribute(body, "data-overlaps"),
        "none",
        "in {}",
        page.display()
    );
    assert_eq!(
        attribute(body, "data-outside"),
        "none",
        "in {}",
        page.display()
    );
    attribute(body, "data-texts").parse().expect("a count")
}

#[test]
fn diagram_labels_do_not_overlap_for_1_5_and_30_hops_and_agents() {
    if !chromium_available("diagram_labels_do_not_overlap_for_1_5_and_30_hops_and_agents") {
        return;
    }
    for n in [1, 5, 30] {
        let paths = [path("+14255550150", n, n, true, 10)];
        let drawing = svg::render(&paths);
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let file = dir.join(format!("call-path-{n}.svg"));
        std::fs::write(&file, &drawing).expect("the SVG is written");
        let png = screenshot(&file, 1600, 900);
        assert!(std::fs::metadata(&png).expect("the screenshot").len() > 1000);

        let page = dir.join(format!("call-path-{n}.html"));
        std::fs::write(
            &page,
            format!("<!DOCTYPE html><html><body>{drawing}{MEASURE}</body></html>"),
        )
        .expect("the page is written");
        let measured = assert_labels_apart(&page);
        // Heading, legend and three lines per hop, every one laid out.
        assert_eq!(measured, 2 + 3 * (n + 3 * n), "labels measured for {n}");
    }
}

#[test]
fn call_paths_section_and_the_worst_path_on_the_first_screen() {
    if !chromium_available("call_paths_section_and_the_worst_path_on_the_first_screen") {
        return;
    }
    let mut report = report();
    let results = report.results.len();
    report.call_paths = vec![
        path("+14255550100", 4, 1, false, results),
        path("+14255550150", 4, 3, true, results),
        path("+14255550175", 4, 5, true, results),
    ];
    let page = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-call-paths.html");
    let html = html::render(&report).replace("</body>", &format!("{MEASURE}</body>"));
    std::fs::write(&page, html).expect("the page is written");
    let measured = assert_labels_apart(&page);
    // The worst path twice (summary and section), the other broken one and the clear one
    // (folded, but Chromium lays out closed details too): three lines per hop, one heading each.
    assert_eq!(
        measured,
        3 * (2 * (4 + 15) + (4 + 9) + (4 + 3)) + 4,
        "labels measured"
    );
    let png = screenshot(&page, 1400, 1400);
    assert!(std::fs::metadata(&png).expect("the screenshot").len() > 1000);

    // A hop's link shows its result even when the filters hid it.
    let dom = dump_dom(&write_page(&report), "#result-0");
    let row = result_rows(&dom)
        .into_iter()
        .find(|r| r.contains("id=\"result-0\""))
        .expect("the linked row");
    assert!(row.contains(" open"), "the linked result is opened: {row}");
    assert!(!row.contains(" hidden"));
}
