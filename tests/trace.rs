//! `ccaudit trace` as a user meets it: the field case's broken path and the healthy example's
//! clear one as goldens (tree at 80 and 120 columns), each mode, number forms, closest-match
//! errors, exit codes and the plain-ASCII tree.

use assert_cmd::Command;
use clap::Parser;
use serde_json::Value;

use ccaudit::commands::trace::{TraceArgs, render};
use ccaudit::report::ExitStatus;
use ccaudit::trace::tree::Glyphs;

const FIELD_CASE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/examples/field-case.snapshot.json"
);
const HEALTHY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/examples/healthy.snapshot.json"
);

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: TraceArgs,
}

fn args(argv: &[&str]) -> TraceArgs {
    Cli::try_parse_from(std::iter::once("trace").chain(argv.iter().copied()))
        .unwrap_or_else(|e| panic!("{argv:?} does not parse: {e}"))
        .args
}

fn trace_at(argv: &[&str], width: usize) -> (String, ExitStatus) {
    render(&args(argv), Glyphs::UNICODE, width).unwrap_or_else(|e| panic!("{argv:?}: {e}"))
}

fn trace(argv: &[&str]) -> (String, ExitStatus) {
    trace_at(argv, 100)
}

fn error(argv: &[&str]) -> String {
    render(&args(argv), Glyphs::UNICODE, 100).expect_err("an error")
}

const FIELD_PATH: [&str; 6] = [
    "--number",
    "+14255550150",
    "--agent",
    "agent2@contoso.com",
    "--snapshot",
    FIELD_CASE,
];

#[test]
fn the_field_case_path_shows_its_three_breaks_and_the_first_ones_fix() {
    let (text, status) = trace(&FIELD_PATH);
    assert_eq!(status, ExitStatus::Findings);
    let first = text.lines().next().unwrap();
    assert!(
        first.contains("broken at Number (NUM-002) (3 breaks)"),
        "{first}"
    );
    for (hop, check) in [
        ("✘ Number: +14255550150", "NUM-002 fail"),
        ("✘ ACS federation: bb567890", "ACSFED-002 fail"),
        ("✘ External access: Tag:CC-Restricted", "EXT-001 fail"),
    ] {
        let at = text.find(hop).unwrap_or_else(|| panic!("{hop}:\n{text}"));
        assert!(text[at..].contains(check), "{check}:\n{text}");
    }
    // Only the first break carries a fix, and it is NUM-002's.
    assert_eq!(text.matches("fix: ").count(), 1, "{text}");
    let fix = text.find("fix: ").unwrap();
    assert!(fix < text.find("✘ ACS federation").unwrap());
    assert!(text[fix..].contains("Set-CsPhoneNumberAssignment"));
}

#[test]
fn golden_field_case_broken_path_at_80_and_120_columns() {
    for width in [80, 120] {
        let (text, _) = trace_at(&FIELD_PATH, width);
        for line in text.lines() {
            assert!(
                line.chars().count() <= width,
                "over {width} columns: {line}"
            );
        }
        insta::assert_snapshot!(format!("field_case_path_{width}"), text);
    }
}

#[test]
fn golden_healthy_clear_path() {
    let (text, status) = trace(&[
        "--number",
        "+14255550150",
        "--agent",
        "agent2@contoso.com",
        "--snapshot",
        HEALTHY,
        "--cc-sku",
        "DYN365_CUSTOMER_SERVICE_PREMIUM",
    ]);
    assert_eq!(status, ExitStatus::Success, "{text}");
    assert!(!text.contains('✘') && !text.contains("? "), "{text}");
    insta::assert_snapshot!("healthy_path", text);
}

#[test]
fn number_alone_summarizes_the_agents() {
    let (text, status) = trace(&["--number", "+14255550150", "--snapshot", FIELD_CASE]);
    assert_eq!(status, ExitStatus::Findings);
    assert!(
        text.contains(
            "3 agents: 2 blocked at external access (EXT-001), 1 unknown at agent (LIC-005)"
        ),
        "{text}"
    );
    assert!(!text.contains("agent agent2@contoso.com"), "{text}");
}

#[test]
fn agent_alone_lists_every_number_the_agent_serves() {
    let (text, _) = trace(&["--agent", "AGENT1@Contoso.com", "--snapshot", FIELD_CASE]);
    for n in ["+14255550100", "+14255550150", "+14255550175"] {
        assert!(text.contains(n), "{n}:\n{text}");
    }
    // By object id too.
    let (by_id, _) = trace(&[
        "--agent",
        "5a2f3b9e-0c1d-4e2f-8a9b-1c2d3e4f5a6b",
        "--snapshot",
        FIELD_CASE,
    ]);
    assert_eq!(by_id, text);
}

#[test]
fn neither_gives_one_line_per_number_with_its_first_break() {
    let (text, status) = trace(&["--snapshot", FIELD_CASE]);
    assert_eq!(status, ExitStatus::Findings);
    let heads: Vec<&str> = text.lines().filter(|l| !l.starts_with(' ')).collect();
    assert_eq!(heads.len(), 3, "{text}");
    assert!(heads[0].contains("+14255550100  broken at ACS federation (ACSFED-002)"));
    assert!(heads[1].contains("+14255550150  broken at Number (NUM-002)"));
    assert!(heads[2].contains("+14255550175  broken at Dynamics 365 (NUM-008)"));
}

#[test]
fn numbers_are_accepted_in_any_common_form() {
    let (want, _) = trace(&FIELD_PATH);
    for form in [
        "+1 425 555 0150",
        "tel:+14255550150",
        "14255550150",
        "(425) 555-0150",
    ] {
        let mut argv = FIELD_PATH;
        argv[1] = form;
        assert_eq!(trace(&argv).0, want, "{form}");
    }
}

#[test]
fn an_unknown_number_or_agent_is_one_line_naming_the_closest() {
    let e = error(&["--number", "+14255550151", "--snapshot", FIELD_CASE]);
    assert!(!e.contains('\n'));
    assert!(
        e.contains("no contact-center number +14255550151") && e.contains("closest: +14255550150"),
        "{e}"
    );
    let e = error(&["--agent", "agent22@contoso.com", "--snapshot", FIELD_CASE]);
    assert!(!e.contains('\n'));
    assert!(e.contains("closest: agent2@contoso.com"), "{e}");
}

#[test]
fn json_gives_the_call_paths() {
    let mut argv = FIELD_PATH.to_vec();
    argv.extend(["--format", "json"]);
    let (text, _) = trace(&argv);
    let paths: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(paths[0]["number"], "+14255550150");
    assert_eq!(paths[0]["hops"][0]["status"], "broken");
    assert_eq!(paths[0]["agents"][0]["agent"]["upn"], "agent2@contoso.com");
    assert_eq!(paths[0]["agents"][0]["hops"][0]["kind"], "external-access");
}

fn ccaudit() -> Command {
    let mut cmd = Command::cargo_bin("ccaudit").unwrap();
    cmd.env_remove("NO_COLOR")
        .env_remove("LC_ALL")
        .env_remove("LC_CTYPE")
        .env("LANG", "en_US.UTF-8")
        .env("COLUMNS", "100");
    cmd
}

#[test]
fn exit_codes_are_the_audits() {
    let mut argv = vec!["trace"];
    argv.extend(FIELD_PATH);
    ccaudit().args(&argv).assert().code(1);
    // Clear up to the agents, but LIC-005 is unknown without --cc-sku.
    ccaudit()
        .args([
            "trace",
            "--number",
            "+14255550150",
            "--agent",
            "agent1@contoso.com",
            "--snapshot",
            HEALTHY,
        ])
        .assert()
        .code(3);
    ccaudit()
        .args(["trace", "--number", "+14255550150", "--snapshot", HEALTHY])
        .args(["--cc-sku", "DYN365_CUSTOMER_SERVICE_PREMIUM"])
        .assert()
        .code(0);
    ccaudit()
        .args([
            "trace",
            "--number",
            "+19999999999",
            "--snapshot",
            FIELD_CASE,
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("closest: +1425555"));
}

#[test]
fn the_tree_is_plain_ascii_with_no_color_or_without_utf8() {
    let mut argv = vec!["trace"];
    argv.extend(FIELD_PATH);
    let unicode = ccaudit().args(&argv).output().unwrap();
    assert!(String::from_utf8_lossy(&unicode.stdout).contains("✘ Number"));
    for (key, value) in [("NO_COLOR", "1"), ("LANG", "C")] {
        let out = ccaudit().env(key, value).args(&argv).output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.is_ascii(), "{key}={value}:\n{text}");
        assert!(text.contains("[X] Number: +14255550150"), "{text}");
    }
}

/// The README's "Why can't this agent take calls on this number?" shows the command's real
/// output (at 100 columns, in Unicode).
#[test]
fn the_readme_shows_the_field_case_trace_as_printed() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let section = readme
        .split("## Why can't this agent take calls on this number?")
        .nth(1)
        .expect("README has the trace section");
    let block = section
        .split("```text\n")
        .nth(1)
        .and_then(|b| b.split("\n```").next())
        .expect("the section has a ```text block");
    let (text, _) = trace_at(&FIELD_PATH, 100);
    assert_eq!(
        block,
        text.trim_end(),
        "README trace sample differs from the output"
    );
}
