//! Thousands of odd target strings thrown at `Target::parse` and `Graph::resolve_str_in` over
//! a small labelled graph: nothing panics, and every error names the target as given.

// Test code: a failed setup panics, as the assertions do.
#![allow(clippy::expect_used, clippy::panic)]

use migrate_core::graph::{Graph, NodeId, Revision};

/// A revision: id, parents, labels, dependencies.
type Spec<'a> = (&'a str, &'a [&'a str], &'a [&'a str], &'a [&'a str]);
use migrate_core::target::Target;

/// main: a1 - b2 < c3, d4 (fork), e5 merges them; audit: f6 (labelled `audit`) - a7 (labelled
/// `trail`, depending on `b2`).
fn graph() -> Graph {
    let spec: &[Spec<'_>] = &[
        ("a1a1a1a1a1a1", &[], &["main"], &[]),
        ("b2b2b2b2b2b2", &["a1a1a1a1a1a1"], &[], &[]),
        ("c3c3c3c3c3c3", &["b2b2b2b2b2b2"], &[], &[]),
        ("d4d4d4d4d4d4", &["b2b2b2b2b2b2"], &[], &[]),
        ("e5e5e5e5e5e5", &["c3c3c3c3c3c3", "d4d4d4d4d4d4"], &[], &[]),
        ("f6f6f6f6f6f6", &[], &["audit"], &[]),
        ("a7a7a7a7a7a7", &["f6f6f6f6f6f6"], &["trail"], &["b2b2b2b2b2b2"]),
    ];
    let revisions: Vec<Revision> = spec
        .iter()
        .enumerate()
        .map(|(i, (rev, parents, labels, depends))| {
            let mut r = Revision::new(*rev, parents, format!("{i}"));
            r.labels = labels.iter().map(|l| (*l).to_owned()).collect();
            r.depends_on = depends.iter().map(|d| (*d).to_owned()).collect();
            r
        })
        .collect();
    let (graph, problems) = Graph::build(&revisions);
    assert!(problems.is_empty(), "{problems:?}");
    graph
}

/// The targets: pieces glued together, plus hand-picked odd ones.
fn targets() -> Vec<String> {
    let atoms = [
        "",
        "@",
        "@@",
        "+",
        "-",
        "-0",
        "+0",
        "0",
        "1",
        "+1",
        "-1",
        "+2",
        "-9",
        "99999999999999999999",
        "9223372036854775807",
        "9223372036854775808",
        "head",
        "heads",
        "base",
        "current",
        "main",
        "audit",
        "trail",
        "a1a1",
        "a1a",
        "a1",
        "a",
        "b2b2b2b2b2b2",
        "e5e5",
        "zzzz",
        "é",
        "☃",
        "\u{0}",
        ":",
        " ",
        "\t",
        "\n",
        "ａ",
        "HEAD",
        "a7",
        "f6f6",
        "d4d4d4d4d4d4x",
    ];
    let mut out: Vec<String> = Vec::new();
    for a in atoms {
        for b in atoms {
            out.push(format!("{a}{b}"));
            out.push(format!("{a}@{b}"));
            out.push(format!("{a}+{b}"));
            out.push(format!("{a}-{b}"));
        }
    }
    out.extend(
        [
            "a@",
            "a@b@c",
            "label@heads+1",
            "main@heads+1",
            "main@base-1",
            "audit@base-1",
            "trail@head-3",
            "main@+99999999999999999999",
            "audit@-9223372036854775807",
            "+9223372036854775807",
            "-9223372036854775807",
            "head+9223372036854775807",
            "base-1",
            "e5e5-9223372036854775807",
            "main@e5e5e5e5e5e5",
            "audit@b2b2",
            "a1a1@head",
            "zzzz@head",
            "a1a@head",
            "a@head",
            "main@zzzz",
            "main@a1a",
            "main@a",
            "trail@b2b2+1",
            "main@@head",
            "@head@",
            "main@:",
            "main@ head",
            "😀@😀+1",
        ]
        .map(str::to_owned),
    );
    out.push("x".repeat(10_000));
    out.push(format!("main@{}", "9".repeat(500)));
    out
}

#[test]
fn odd_targets_never_panic_and_errors_name_the_target() {
    let graph = graph();
    let node = |rev: &str| graph.node(rev).expect("known");
    let currents: Vec<Vec<NodeId>> = vec![
        vec![],
        vec![node("a1a1a1a1a1a1")],
        vec![node("c3c3c3c3c3c3"), node("d4d4d4d4d4d4")],
        vec![node("e5e5e5e5e5e5"), node("a7a7a7a7a7a7")],
    ];
    let mut failures = Vec::new();
    let mut checked = 0;
    for text in targets() {
        let parsed = std::panic::catch_unwind(|| Target::parse(&text));
        match parsed {
            Err(_) => failures.push(format!("parse panicked on {text:?}")),
            Ok(Err(e)) if !e.to_string().contains(&format!("`{text}`")) => {
                failures.push(format!("parse error for {text:?} does not name it: {e}"));
            }
            _ => {}
        }
        for current in &currents {
            checked += 1;
            match std::panic::catch_unwind(|| graph.resolve_str_in(&text, current)) {
                Err(_) => failures.push(format!("resolve panicked on {text:?} from {current:?}")),
                Ok(Err(e)) if !e.to_string().contains(&format!("`{text}`")) => {
                    failures.push(format!("error for {text:?} does not name it: {e}"));
                }
                _ => {}
            }
        }
    }
    failures.sort();
    failures.dedup();
    assert!(checked > 5_000, "{checked}");
    assert!(
        failures.is_empty(),
        "{} failures, e.g.:\n{}",
        failures.len(),
        failures.iter().take(40).cloned().collect::<Vec<_>>().join("\n")
    );
}
