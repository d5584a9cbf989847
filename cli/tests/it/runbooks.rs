//! The runbooks (`deploy/runbooks/`) name only commands and flags that
//! exist: every `zktx ...` they show, in code blocks and inline code, is
//! walked down `zktx --help` subcommand by subcommand, and each `--flag` it
//! uses must be in that subcommand's help.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

fn help(path: &[String]) -> Option<String> {
    let output = Command::new(env!("CARGO_BIN_EXE_zktx"))
        .args(path)
        .arg("--help")
        .output()
        .unwrap();
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The subcommand names listed under "Commands:" in a help text.
fn subcommands(help: &str) -> BTreeSet<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

/// Every `zktx ...` invocation in a Markdown document: lines of fenced code
/// blocks and inline code spans that start with `zktx `.
fn invocations(markdown: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_block = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if in_block {
            let l = line.trim().trim_start_matches("$ ");
            if l.starts_with("zktx ") {
                out.push(l.to_string());
            }
            // Commands after `--` of kubectl exec.
            if let Some((_, rest)) = l.split_once("-- zktx ") {
                out.push(format!("zktx {rest}"));
            }
            continue;
        }
        for (i, span) in line.split('`').enumerate() {
            if i % 2 == 1 {
                if span.starts_with("zktx ") {
                    out.push(span.to_string());
                }
                if let Some((_, rest)) = span.split_once("-- zktx ") {
                    out.push(format!("zktx {rest}"));
                }
            }
        }
    }
    out
}

/// Checks one invocation; returns what is wrong with it.
fn check(invocation: &str) -> Option<String> {
    let words: Vec<&str> = invocation.split_whitespace().skip(1).collect();
    let mut path: Vec<String> = Vec::new();
    let mut text = help(&path).expect("zktx --help");
    for word in &words {
        if word.starts_with('-') {
            break;
        }
        if subcommands(&text).contains(*word) {
            path.push(word.to_string());
            text = help(&path)?;
        } else if subcommands(&text).is_empty() {
            break; // a positional argument
        } else {
            return Some(format!(
                "`{word}` is not a subcommand of `zktx {}`",
                path.join(" ")
            ));
        }
    }
    if path.is_empty() {
        return Some("no subcommand".into());
    }
    for flag in words.iter().filter(|w| w.starts_with("--")) {
        let flag = flag.split('=').next().unwrap_or(flag);
        if !text.contains(&format!("{flag} ")) && !text.contains(&format!("{flag}\n")) {
            return Some(format!("`zktx {}` has no {flag}", path.join(" ")));
        }
    }
    None
}

#[test]
fn every_command_a_runbook_names_exists_in_zktx_help() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/runbooks");
    let mut pages = 0;
    let mut problems = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "md") {
            continue;
        }
        pages += 1;
        let text = std::fs::read_to_string(&path).unwrap();
        let found = invocations(&text);
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name != "README.md" {
            assert!(!found.is_empty(), "{name} names no zktx command");
        }
        for invocation in found {
            if let Some(problem) = check(&invocation) {
                problems.push(format!("{name}: {invocation}: {problem}"));
            }
        }
    }
    assert!(pages >= 6, "the runbooks are missing ({pages} pages)");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_checker_refuses_what_does_not_exist() {
    assert_eq!(check("zktx audit verify --data-dir /x"), None);
    assert_eq!(check("zktx keys list --keys k"), None);
    assert!(check("zktx audit rewind --data-dir /x").is_some());
    assert!(check("zktx audit verify --no-such-flag").is_some());
    assert!(check("zktx frobnicate").is_some());
    assert_eq!(
        invocations("run `zktx policy hash` then\n```sh\n$ zktx store backup --out f\nkubectl exec p -- zktx audit verify\n```\n"),
        vec![
            "zktx policy hash",
            "zktx store backup --out f",
            "zktx audit verify"
        ]
    );
}
