//! Attacks on branch labels and `depends_on` at build time, from outside: hostile labels,
//! dependencies on a parent, on the migration's own label, on a descendant, labels on a
//! merge, malformed arguments, and the seal's view of labels and dependencies. `check` reads
//! the files with the rules the build runs; the seal and one malformed argument are also built.

// Helpers panic on setup failures, as the tests themselves do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Output;

use common::{Fixture, stderr, stdout};

const A: &str = "aaaa00000001";
const B: &str = "bbbb00000002";
const C: &str = "cccc00000003";
const D: &str = "dddd00000004";

fn migration(stamp: &str, rev: &str, parents: &[&str], slug: &str, more: &str) -> (String, String) {
    common::table_migration(stamp, rev, parents, slug, &format!("Why {slug}."), more)
}

/// A (base) - B, with `a` and `b` added to their attributes.
fn chain(a: &str, b: &str) -> Vec<(String, String)> {
    vec![
        migration("20240101_0900", A, &[], "add_people_table", a),
        migration("20240102_0900", B, &[A], "add_notes_table", b),
    ]
}

fn text(output: &Output) -> String {
    format!("{}{}", stdout(output), stderr(output))
}

/// Runs `check` over `files`: never a panic, and the output.
fn check(name: &str, files: &[(String, String)]) -> (bool, String) {
    let fixture = Fixture::new(&format!("label-attacks-{name}"), files);
    let output = fixture.run(&["check"]);
    let said = text(&output);
    assert!(!said.contains("panicked"), "{name}: {said}");
    assert!(matches!(output.status.code(), Some(0 | 1)), "{name}: {said}");
    (output.status.success(), said)
}

fn passes(name: &str, files: &[(String, String)]) {
    let (ok, said) = check(name, files);
    assert!(ok, "{name} should pass: {said}");
}

fn fails(name: &str, files: &[(String, String)], expected: &[&str]) -> String {
    let (ok, said) = check(name, files);
    assert!(!ok, "{name} should fail: {said}");
    for e in expected {
        assert!(said.contains(e), "{name}: expected {e:?} in:\n{said}");
    }
    said
}

#[test]
fn hostile_labels() {
    passes("unicode", &chain(", branch_labels = [\"überwachung_☃\"]", ""));
    passes("long", &chain(&format!(", branch_labels = [\"{}\"]", "l".repeat(200)), ""));
    passes("quote", &chain(", branch_labels = [\"o\\\"brien\"]", ""));
    passes("backtick", &chain(", branch_labels = [\"a`b\"]", ""));
    passes("slug", &chain(", branch_labels = [\"add_notes_table\"]", ""));
    fails(
        "newline",
        &chain(", branch_labels = [\"audit\\ntrail\"]", ""),
        &["error[branch_label_clash]", "holds whitespace"],
    );
    fails("empty", &chain(", branch_labels = [\"\"]", ""), &["error[branch_label_clash]", "is empty"]);
    fails(
        "prefix",
        &chain(", branch_labels = [\"bbbb\"]", ""),
        &["error[branch_label_clash]", "reads as a prefix of revision `bbbb00000002`"],
    );
    fails(
        "twice",
        &chain(", branch_labels = [\"audit\", \"audit\"]", ""),
        &["error[duplicate_branch_label]"],
    );
    fails(
        "twice_across",
        &chain(", branch_labels = \"audit\"", ", branch_labels = \"audit\""),
        &[
            "error[duplicate_branch_label]",
            "branch label `audit` is already declared by revision `aaaa00000001`",
        ],
    );
}

#[test]
fn dependencies_on_a_parent_a_label_a_descendant() {
    // Its own parent: already applied first, fine.
    passes("parent", &chain("", &format!(", depends_on = [\"{A}\"]")));
    // Another migration's label.
    passes("label", &chain(", branch_labels = [\"people\"]", ", depends_on = \"people\""));
    // Its own label, its own id: a cycle of one.
    fails(
        "own_label",
        &chain("", ", branch_labels = [\"notes\"], depends_on = [\"notes\"]"),
        &["error[dependency_cycle]"],
    );
    fails("own_id", &chain("", &format!(", depends_on = [\"{B}\"]")), &["error[dependency_cycle]"]);
    // A descendant: the base depends on what grows from it.
    fails("descendant", &chain(&format!(", depends_on = [\"{B}\"]"), ""), &["error[dependency_cycle]"]);
    fails(
        "descendant_label",
        &chain(", depends_on = \"notes\"", ", branch_labels = \"notes\""),
        &["error[dependency_cycle]"],
    );
    fails("unknown", &chain("", ", depends_on = [\"nope\"]"), &["error[unknown_depends_on]"]);
    // A label declared on a merge.
    let mut merge = chain("", "");
    merge.push(migration("20240103_0900", C, &[A], "add_tags_table", ""));
    merge.push(migration(
        "20240104_0900",
        D,
        &[B, C],
        "merge_notes_and_tags",
        ", branch_labels = [\"merged\"]",
    ));
    passes("merge_label", &merge);
    // `None`, as Alembic's scripts write it, declares nothing.
    passes("none", &chain(", branch_labels = None", ", depends_on = None"));
}

#[test]
fn malformed_arguments_are_syntax_errors_under_the_token() {
    for (name, more, message, caret) in [
        ("labels_empty_list", ", branch_labels = []", "`branch_labels = []` names nothing", "^^"),
        ("depends_empty_list", ", depends_on = []", "`depends_on = []` names nothing", "^^"),
        (
            "labels_number",
            ", branch_labels = 5",
            "`branch_labels` takes `None`, a string literal or a list",
            "^",
        ),
        (
            "labels_nested",
            ", branch_labels = [[\"a\"]]",
            "`branch_labels` takes `None`, a string literal",
            "^^^^^^^",
        ),
        (
            "depends_twice",
            ", depends_on = \"aaaa\", depends_on = \"aaaa\"",
            "argument `depends_on` is given twice",
            "^^^^^^^^^^",
        ),
    ] {
        let said = fails(name, &chain("", more), &[message]);
        // The caret sits under the value (or the repeated name), at the column where it starts.
        let source = said.lines().find(|l| l.contains("#[migration(")).expect("the source line");
        let carets =
            said.lines().find(|l| l.trim_start_matches([' ', '|']).starts_with('^')).expect("carets");
        let column = carets.find('^').expect("a caret");
        let token = more.rsplit(" = ").next().expect("a value");
        let at = if name == "depends_twice" { source.rfind("depends_on") } else { source.rfind(token) };
        assert_eq!(Some(column), at, "{name}: not under the token:\n{said}");
        assert_eq!(carets.trim_start_matches([' ', '|']).trim_end(), caret, "{name}:\n{said}");
    }
}

/// Replaces `from` with `to` in the migration file of `rev`.
fn edit(fixture: &Fixture, rev: &str, from: &str, to: &str) {
    let name =
        fixture.migrations().into_iter().find(|n| n.contains(rev) && n.ends_with(".rs")).expect("the file");
    let path = fixture.dir.join("migrations").join(name);
    let text = std::fs::read_to_string(&path).expect("reads");
    assert!(text.contains(from), "{from} in {text}");
    std::fs::write(&path, text.replacen(from, to, 1)).expect("writes");
}

#[test]
fn sealed_labels_may_change_sealed_dependencies_may_not_at_build_time() {
    let fixture = Fixture::new("label-attacks-seal", &chain("", &format!(", depends_on = [\"{A}\"]")));
    let seal = fixture.run(&["seal"]);
    assert!(seal.status.success(), "{}", text(&seal));
    let build = |what: &str| {
        let output = fixture.cargo(&["build", "--quiet"]);
        let said = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(!said.contains("panicked"), "{what}: {said}");
        (output.status.success(), said)
    };
    let (ok, said) = build("sealed");
    assert!(ok, "{said}");
    // Labels are left out of the seal's meaning: added, then removed again.
    edit(&fixture, A, "down_revision = None", "down_revision = None, branch_labels = [\"people\"]");
    edit(&fixture, B, "depends_on = [", "branch_labels = \"notes\", depends_on = [");
    let (ok, said) = build("labels added");
    assert!(ok, "adding branch labels to sealed migrations must build: {said}");
    let check = fixture.run(&["check"]);
    assert!(check.status.success(), "{}", text(&check));
    edit(&fixture, A, ", branch_labels = [\"people\"]", "");
    let (ok, said) = build("label removed");
    assert!(ok, "removing a branch label from a sealed migration must build: {said}");
    // A dependency is meaning: removing it is refused, under the sealed migration.
    edit(&fixture, B, &format!(", depends_on = [\"{A}\"]"), "");
    let (ok, said) = build("dependency removed");
    assert!(!ok, "removing a sealed dependency must not build");
    assert!(said.contains("migration `add_notes_table` is sealed as deployed"), "{said}");
    let check = fixture.run(&["check"]);
    assert!(text(&check).contains("error[sealed_migration_changed]"), "{}", text(&check));
}
