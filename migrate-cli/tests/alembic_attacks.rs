//! Attacks on `import --from alembic` from outside, through Alembic's offline scripts (no
//! Python needed): hostile revision scripts are refused naming the file, with nothing written;
//! odd but valid ones import and pass `check`.

// Helpers panic on setup failures, as the tests themselves do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};

use common::{Fixture, stderr, stdout};

/// One revision: id, down revisions, extra fields (Python), docstring.
struct Rev<'a> {
    id: &'a str,
    down: &'a [&'a str],
    more: &'a str,
    doc: &'a str,
}

fn script(rev: &Rev<'_>) -> String {
    let down = match rev.down {
        [] => "None".to_owned(),
        [one] => format!("'{one}'"),
        many => format!("({})", many.iter().map(|d| format!("'{d}'")).collect::<Vec<_>>().join(", ")),
    };
    format!(
        "{doc}\nfrom alembic import op\n\nrevision = '{id}'\ndown_revision = {down}\n{more}\n\ndef upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n",
        doc = rev.doc,
        id = rev.id,
        more = rev.more
    )
}

/// Alembic's offline scripts for `revs` in order (a linear or simple history).
fn offline(revs: &[Rev<'_>]) -> (String, String) {
    let mut up = String::from(
        "BEGIN;\n\nCREATE TABLE alembic_version (\n    version_num VARCHAR(32) NOT NULL, \n    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)\n);\n\n",
    );
    for rev in revs {
        up.push_str(&format!(
            "-- Running upgrade {} -> {}\n\nCREATE TABLE t_{} (id int);\n\nINSERT INTO alembic_version (version_num) VALUES ('{}') RETURNING alembic_version.version_num;\n\n",
            rev.down.join(", "),
            rev.id,
            rev.id.to_lowercase(),
            rev.id
        ));
    }
    up.push_str("COMMIT;\n\n");
    let mut down = String::from("BEGIN;\n\n");
    for rev in revs.iter().rev() {
        down.push_str(&format!(
            "-- Running downgrade {} -> {}\n\nDROP TABLE t_{};\n\n",
            rev.id,
            rev.down.join(", "),
            rev.id.to_lowercase()
        ));
    }
    down.push_str("DROP TABLE alembic_version;\n\nCOMMIT;\n\n");
    (up, down)
}

/// A project folder with `versions/` holding the scripts (as bytes, after `edit`), and the two
/// offline scripts; returns it.
fn project(name: &str, revs: &[Rev<'_>], edit: &dyn Fn(&str, Vec<u8>) -> Vec<u8>) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("alembic-attacks-source-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("versions")).expect("creates");
    for rev in revs {
        let file = format!("{}_step.py", rev.id);
        std::fs::write(dir.join("versions").join(&file), edit(&file, script(rev).into_bytes()))
            .expect("writes");
    }
    let (up, down) = offline(revs);
    std::fs::write(dir.join("up.sql"), up).expect("writes");
    std::fs::write(dir.join("down.sql"), down).expect("writes");
    dir
}

fn import(name: &str, dir: &Path) -> (Fixture, std::process::Output) {
    let fixture = Fixture::new(&format!("alembic-attacks-{name}"), &[]);
    let output = fixture.run(&[
        "import",
        "--from",
        "alembic",
        dir.join("versions").to_str().expect("UTF-8"),
        "--upgrade-sql",
        dir.join("up.sql").to_str().expect("UTF-8"),
        "--downgrade-sql",
        dir.join("down.sql").to_str().expect("UTF-8"),
    ]);
    (fixture, output)
}

fn doc(message: &str) -> String {
    format!("\"\"\"{message}\n\nRevision ID: x\nRevises: \nCreate Date: 2024-01-01 09:00:00.000000\n\n\"\"\"")
}

fn keep(_: &str, bytes: Vec<u8>) -> Vec<u8> {
    bytes
}

/// The import must refuse naming `file`, with `expected` in its message, and write nothing.
fn refused(
    name: &str,
    revs: &[Rev<'_>],
    edit: &dyn Fn(&str, Vec<u8>) -> Vec<u8>,
    file: &str,
    expected: &str,
) {
    let dir = project(name, revs, edit);
    let (fixture, output) = import(name, &dir);
    let said = format!("{}{}", stdout(&output), stderr(&output));
    assert!(!output.status.success(), "{name}: imported:\n{said}");
    assert!(!said.contains("panicked"), "{name}: {said}");
    assert!(said.contains(file), "{name}: the file `{file}` is not named:\n{said}");
    assert!(said.contains(expected), "{name}: expected {expected:?} in:\n{said}");
    assert!(fixture.migrations().is_empty(), "{name}: written: {:?}", fixture.migrations());
    let manifest = std::fs::read_to_string(fixture.dir.join("Cargo.toml")).expect("reads");
    assert!(!manifest.contains("[package.metadata.migrate]"), "{name}: Cargo.toml written");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn odd_but_valid_scripts_import_and_check() {
    let triple = "'''Add \"\"\" quoted people\n\nRevision ID: a1\nRevises: \nCreate Date: 2024-01-01 09:00:00.000000\n\n'''";
    let revs = [
        Rev { id: "a1a1", down: &[], more: "branch_labels = None\ndepends_on = None", doc: triple },
        Rev { id: "b2b2", down: &["a1a1"], more: "", doc: &doc("add posts table") },
    ];
    let crlf =
        |_: &str, bytes: Vec<u8>| String::from_utf8(bytes).expect("UTF-8").replace('\n', "\r\n").into_bytes();
    for (name, edit) in [("plain", &keep as &dyn Fn(&str, Vec<u8>) -> Vec<u8>), ("crlf", &crlf)] {
        let dir = project(name, &revs, edit);
        let (fixture, output) = import(name, &dir);
        assert!(output.status.success(), "{name}: {}{}", stdout(&output), stderr(&output));
        let check = fixture.run(&["check"]);
        assert!(check.status.success(), "{name}: {}{}", stdout(&check), stderr(&check));
        let first = fixture
            .migrations()
            .into_iter()
            .find(|n| n.contains("a1a1") && n.ends_with(".rs"))
            .expect("a1a1");
        let text = fixture.read(&first);
        assert!(text.contains("/// Add \"\"\" quoted people"), "{name}: {text}");
        assert!(!text.contains('\r'), "{name}: {text:?}");
        let _ = std::fs::remove_dir_all(dir);
    }
    // Ids differing only by case are two revisions to Alembic and to PostgreSQL's varchar, and
    // their files differ by slug: imported as they are, each target naming one.
    let people = doc("add people table");
    let posts = doc("add posts table");
    let revs = [
        Rev { id: "abcd", down: &[], more: "", doc: &people },
        Rev { id: "ABCD", down: &["abcd"], more: "", doc: &posts },
    ];
    let dir = project("case", &revs, &keep);
    let (fixture, output) = import("case", &dir);
    assert!(output.status.success(), "{}{}", stdout(&output), stderr(&output));
    let check = fixture.run(&["check"]);
    assert!(check.status.success(), "{}{}", stdout(&check), stderr(&check));
    let history = stdout(&fixture.run(&["history"]));
    assert!(history.contains("abcd -> ABCD"), "{history}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn hostile_scripts_are_refused_naming_the_file() {
    let people = doc("add people table");
    let posts = doc("add posts table");
    // Bytes that are not UTF-8 in the docstring.
    let latin1 = |file: &str, mut bytes: Vec<u8>| {
        if file.starts_with("b2b2") {
            bytes.splice(3..3, [0xe9, 0xff]);
        }
        bytes
    };
    refused(
        "latin1",
        &[
            Rev { id: "a1a1", down: &[], more: "", doc: &people },
            Rev { id: "b2b2", down: &["a1a1"], more: "", doc: &posts },
        ],
        &latin1,
        "b2b2_step.py",
        "UTF-8",
    );
    let long = "a".repeat(33);
    refused(
        "long",
        &[Rev { id: &long, down: &[], more: "", doc: &people }],
        &keep,
        &format!("{long}_step.py"),
        "32",
    );
}

#[test]
fn a_down_revision_naming_no_script_is_refused_naming_the_file() {
    let people = doc("add people table");
    let posts = doc("add posts table");
    refused(
        "missing",
        &[
            Rev { id: "a1a1", down: &[], more: "", doc: &people },
            Rev { id: "b2b2", down: &["zzzz"], more: "", doc: &posts },
        ],
        &keep,
        "b2b2_step.py",
        "zzzz",
    );
}

#[test]
fn a_label_equal_to_an_id_is_refused_naming_the_file() {
    let people = doc("add people table");
    let posts = doc("add posts table");
    refused(
        "label_is_an_id",
        &[
            Rev { id: "a1a1", down: &[], more: "", doc: &people },
            Rev { id: "b2b2", down: &["a1a1"], more: "branch_labels = ('a1a1',)", doc: &posts },
        ],
        &keep,
        "b2b2_step.py",
        "a1a1",
    );
}
