//! One checker: over a few hundred malformed migration files generated from a valid one with a
//! fixed seed (tokens and lines deleted, duplicated, swapped, truncated; odd attributes; deep
//! nesting), the build's verdict equals `cargo migrate check`'s, and nothing panics.
//!
//! The build's verdict is taken in process, from what decides it: rustc's lexer and parser
//! (`syn::parse_file` stands in for the parser), build-support's refusal of a file nested too
//! deeply (its generated module reports the file instead of including it), the `#[migration]`
//! macro's own reading
//! (`syntax::parse_file` runs `parse_module`, the function the macro calls, on the tokens the
//! macro receives) and the rules build-support runs (`Folder::check`, whose diagnostics the
//! macro reports). `check`'s verdict is its exit code, the real binary run over the file.
//! `a_few_cases_through_cargo_build` ties the in-process verdict to real builds.

// Helpers panic on setup failures, as the tests themselves do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use common::{Fixture, stdout};
use migrate_build::Folder;
use migrate_core::config::Config;
use migrate_core::syntax;

const NAME: &str = "20241021_0900_aaaa00000001_add_people_table.rs";

const VALID: &str = "/// People first.\n#[migration(rev = \"aaaa00000001\", down_revision = None)]\nmod add_people_table {\n    use migrate_runtime::prelude::*;\n\n    pub fn upgrade(op: &mut Op) {\n        op.create_table(\"people\", |t| {\n            t.column(\"id\", Type::BigInt).identity().primary_key();\n            t.column(\"name\", Type::Text).not_null();\n        });\n        op.execute(\"UPDATE people SET name = 'x'\");\n    }\n\n    pub fn downgrade(op: &mut Op) {\n        op.drop_table(\"people\");\n    }\n}\n";

/// The generator's seed: the cases are the same on every run.
const SEED: u64 = 0x5eed_2026_1202_0001;

/// Attribute lines a careless hand writes.
const ODD_ATTRIBUTES: &[&str] = &[
    "#[migration]",
    "#[migration()]",
    "#[migration(rev = 12)]",
    "#[migration(rev = \"aaaa00000001\", down_revision = Some(\"bbbb00000002\"))]",
    "#[migration(rev = \"aaaa00000001\", down_revision)]",
    "#[migration(rev = \"aaaa00000001\", down_revision = None, transactional = 1)]",
    "#[migration(rev = \"aaaa00000001\",, down_revision = None)]",
    "#[migration(rev = \"aaaa00000001\", rev = \"aaaa00000001\")]",
    "#[migration(down_revision = None)]",
    "#[migration(rev)]",
    "#[migration(rev = \"aaaa00000001\", down_revision = [])]",
    "#[migration(rev = \"aaaa00000001\", down_revision = [None])]",
    "#[migration(\"aaaa00000001\")]",
    "#[migration(rev = 'a')]",
    "#[migration(rev = \"aaaa00000001\", down_revision = None, colour = \"red\")]",
    "#[migration = \"aaaa00000001\"]",
    "#[migration(rev = \"aaaa00000001\")]",
];

/// A small, fixed-seed generator (xorshift), so that the cases are the same on every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

/// The text cut into tokens (words, string literals, single punctuation) and the spaces
/// between them, each its own piece.
fn pieces(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        let c = chars[i];
        if c.is_whitespace() {
            while i < chars.len() && chars[i].is_whitespace() {
                i += 1;
            }
        } else if c.is_alphanumeric() || c == '_' {
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += 1;
            }
            i = (i + 1).min(chars.len());
        } else {
            i += 1;
        }
        out.push(chars[start..i].iter().collect());
    }
    out
}

/// The n-th mutation of `VALID`.
fn mutate(rng: &mut Rng) -> (String, String) {
    let mut tokens = pieces(VALID);
    let words: Vec<usize> = (0..tokens.len()).filter(|&i| !tokens[i].trim().is_empty()).collect();
    let mut lines: Vec<String> = VALID.lines().map(str::to_owned).collect();
    let a = words[rng.below(words.len())];
    let b = words[rng.below(words.len())];
    let l = rng.below(lines.len());
    let m = rng.below(lines.len());
    let kind = rng.below(10);
    let text = match kind {
        0 => {
            tokens.remove(a);
            tokens.concat()
        }
        1 => {
            let copy = tokens[a].clone();
            tokens.insert(a, copy);
            tokens.concat()
        }
        2 => {
            tokens.swap(a, b);
            tokens.concat()
        }
        3 => tokens[..a].concat(),
        4 => {
            lines.remove(l);
            lines.join("\n")
        }
        5 => {
            let copy = lines[l].clone();
            lines.insert(m, copy);
            lines.join("\n")
        }
        6 => {
            lines.swap(l, m);
            lines.join("\n")
        }
        7 => lines[..l].join("\n"),
        8 => {
            lines[1] = ODD_ATTRIBUTES[rng.below(ODD_ATTRIBUTES.len())].to_owned();
            lines.join("\n")
        }
        _ => {
            let depth = [3, 100, 128, 129, 200, 1_300, 5_000][rng.below(7)];
            let deep = format!("{}0{}", "(".repeat(depth), ")".repeat(depth));
            VALID
                .replace("op.drop_table(\"people\");", &format!("op.drop_table(\"people\"); let _ = {deep};"))
        }
    };
    let what = [
        "delete a token",
        "duplicate a token",
        "swap tokens",
        "truncate at a token",
        "delete a line",
        "duplicate a line",
        "swap lines",
        "truncate at a line",
        "odd attribute",
        "deep nesting",
    ][kind];
    (what.to_owned(), text)
}

/// The build's verdict, in process (see the module's doc): whether it fails.
fn build_rejects(crate_dir: &Path, text: &str) -> bool {
    let Ok(parsed) = syntax::parse_file(text) else {
        return true; // rustc's lexer
    };
    if parsed.too_deep.is_some() {
        return true; // build-support's generated module, instead of the file
    }
    if parsed.modules.iter().any(|m| m.source.syntax_error.is_some()) {
        return true; // the macro's own report
    }
    if syn::parse_file(text).is_err() {
        return true; // rustc's parser
    }
    let folder = Folder::scan(crate_dir, Path::new("migrations")).expect("scans");
    !folder.check(&Config::default()).diagnostics.is_empty()
}

/// The generated cases, with the build's and check's verdicts.
#[test]
fn build_and_check_agree_on_generated_malformed_files() {
    let fixture = Fixture::new("differential", &[(NAME.to_owned(), VALID.to_owned())]);
    let file = fixture.dir.join("migrations").join(NAME);
    let valid = fixture.run(&["check"]);
    assert!(valid.status.success(), "{}", stdout(&valid));
    let mut rng = Rng(SEED);
    let (mut generated, mut rejected, mut agreed) = (0, 0, 0);
    let mut disagreements = Vec::new();
    for _ in 0..300 {
        let (what, text) = mutate(&mut rng);
        std::fs::write(&file, &text).expect("writes");
        generated += 1;
        let dir = fixture.dir.clone();
        let build = std::panic::catch_unwind(|| build_rejects(&dir, &text))
            .unwrap_or_else(|_| panic!("the build's reading panicked on ({what}):\n{text}"));
        let check = fixture.run(&["check"]);
        let code = check.status.code();
        assert!(
            matches!(code, Some(0 | 1)),
            "check crashed ({code:?}) on ({what}):\n{text}\n{}",
            stdout(&check)
        );
        rejected += usize::from(build);
        if build == (code == Some(1)) {
            agreed += 1;
        } else {
            disagreements.push(format!("({what}) build rejects: {build}\n{text}\n{}", stdout(&check)));
        }
    }
    println!(
        "generated {generated}, rejected {rejected}, accepted {}, agreements {agreed}",
        generated - rejected
    );
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n----\n"));
    assert!(rejected > generated / 2, "too few rejected: {rejected} of {generated}");
}

/// The in-process verdict tied to real builds: the hand-made cases below and the first
/// generated ones through `cargo build`, which fails with an error naming the file, never a
/// crash of rustc.
#[test]
fn a_few_cases_through_cargo_build() {
    let deep = format!("let _ = {}0{};", "(".repeat(1_300), ")".repeat(1_300));
    let attribute = "#[migration(rev = \"aaaa00000001\", down_revision = None)]";
    let mut cases = vec![
        (VALID.to_owned(), true),
        (VALID.replace(attribute, "#[migration(rev = 12)]"), false),
        (VALID.replace(attribute, "#[migration]"), false),
        (VALID.replace("= None)]", "= Some(\"bbbb00000002\"))]"), false),
        (VALID.replace("pub fn downgrade(op", "pub fn (op"), false),
        (VALID.replace("op.drop_table(\"people\");", &format!("op.drop_table(\"people\"); {deep}")), false),
    ];
    let mut rng = Rng(SEED);
    for _ in 0..8 {
        let (_, text) = mutate(&mut rng);
        cases.push((text, true));
    }
    let fixture = Fixture::new("differential-build", &[(NAME.to_owned(), VALID.to_owned())]);
    let file = fixture.dir.join("migrations").join(NAME);
    for (n, (text, builds)) in cases.into_iter().enumerate() {
        std::fs::write(&file, &text).expect("writes");
        let in_process = !build_rejects(&fixture.dir, &text);
        // The hand-made cases say what they expect; the generated ones are as the test above
        // decided them.
        let builds = if n < 6 { builds } else { in_process };
        let build = fixture.cargo(&["build", "--quiet"]);
        let errors = String::from_utf8_lossy(&build.stderr);
        let check = fixture.run(&["check"]);
        assert_eq!(build.status.success(), builds, "case {n}:\n{text}\n{errors}");
        assert_eq!(check.status.success(), builds, "case {n}:\n{text}\n{}", stdout(&check));
        assert_eq!(in_process, builds, "case {n}:\n{text}");
        assert!(!errors.contains("overflowed") && !errors.contains("panicked"), "case {n}:\n{errors}");
        if !builds {
            assert!(errors.contains(NAME), "case {n}: the build names no file:\n{errors}");
        }
    }
}

/// What only the build used to see is reported by `check` at the token, with exit 1.
#[test]
fn check_reports_unreadable_attributes_syntax_errors_and_deep_nesting() {
    let attribute = "#[migration(rev = \"aaaa00000001\", down_revision = None)]";
    let deep = format!("let _ = {}0{};", "(".repeat(1_300), ")".repeat(1_300));
    let cases = [
        (VALID.replace(attribute, "#[migration(rev = 12)]"), "error: `rev` takes a string literal", ":2:13"),
        (VALID.replace(attribute, "#[migration]"), "error: `#[migration]` needs the revision id", ":2:1"),
        (
            VALID.replace("= None)]", "= Some(\"bbbb00000002\"))]"),
            "error: `down_revision` takes `None`, a string literal",
            ":2:51",
        ),
        (
            VALID.replace("pub fn downgrade(op", "pub fn (op"),
            "is not valid Rust: expected identifier",
            ":14:12",
        ),
        (
            VALID.replace("op.drop_table(\"people\");", &format!("op.drop_table(\"people\"); {deep}")),
            "error: the migration is nested too deeply (more than 128 levels of brackets)",
            ":15:168",
        ),
    ];
    let fixture = Fixture::new("differential-check", &[(NAME.to_owned(), VALID.to_owned())]);
    let file = fixture.dir.join("migrations").join(NAME);
    for (text, message, place) in cases {
        std::fs::write(&file, &text).expect("writes");
        let check = fixture.run(&["check"]);
        let out = stdout(&check);
        assert_eq!(check.status.code(), Some(1), "{out}");
        assert!(out.contains(message), "{out}");
        assert!(out.contains(&format!("--> migrations/{NAME}{place}\n")), "{out}");
    }
}

/// Every generated file the in-process verdict accepts, through `cargo build`. Neither the
/// build script nor `check` compiles the migration, so rustc's later passes (names, types,
/// borrows) can still reject one: this measures that gap and holds that it is only that (no
/// failure is a lexing or parsing error, none a crash). Slow (a build per file), so run on
/// demand: `cargo test -p migrate-cli --test differential -- --ignored`.
#[test]
#[ignore = "one cargo build per accepted file: about 20 s"]
fn every_accepted_case_through_cargo_build() {
    let fixture = Fixture::new("differential-accepted", &[(NAME.to_owned(), VALID.to_owned())]);
    let file = fixture.dir.join("migrations").join(NAME);
    let mut rng = Rng(SEED);
    let (mut accepted, mut built, mut semantic) = (0, 0, 0);
    for _ in 0..300 {
        let (what, text) = mutate(&mut rng);
        std::fs::write(&file, &text).expect("writes");
        if build_rejects(&fixture.dir, &text) {
            continue;
        }
        accepted += 1;
        let build = fixture.cargo(&["build", "--quiet"]);
        let errors = String::from_utf8_lossy(&build.stderr);
        if build.status.success() {
            built += 1;
            continue;
        }
        // Names, types, borrows: not a lexing or parsing error (`expected …`), not a crash.
        let parse_error =
            errors.lines().any(|l| l.starts_with("error: expected") || l.starts_with("error: unexpected"));
        let crash = errors.contains("overflowed")
            || errors.contains("panicked")
            || errors.contains("internal compiler error");
        assert!(!parse_error && !crash, "({what}) not a semantic error:\n{text}\n{errors}");
        semantic += 1;
    }
    println!("accepted {accepted}: built {built}, rejected by rustc's later passes {semantic}");
}
