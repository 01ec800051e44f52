//! The seal: the committed record of the deployed migrations of a folder, checked by every build.
//!
//! `cargo migrate seal` writes it into the folder, beside the migrations ([`FILE_NAME`], as
//! Atlas keeps `atlas.sum`, so that the build, which watches the folder, sees it appear): one
//! line per sealed migration, in the chain's order, with its revision, its parents and the sum
//! of its meaning, under a first line holding the sum of all of them. The rules
//! `sealed_migration_changed`, `sealed_migration_deleted`, `inserted_before_sealed` and
//! `unreadable_seal` read it; `duplicate_revision` blames the copy it does not hold.
//!
//! The meaning of a migration ([`Meaning`]) is what a database that applied it ran: its
//! attribute but `down_revision` (kept apart, as the parents), and its module but the doc
//! comments and the `downgrade` function, as tokens, so that formatting and comments do not
//! count; plus the text of every file those include, its line endings made `\n`. The runtime's
//! checksum covers the same part (the SQL the upgrade renders), also with `\r\n` read as `\n`:
//! an edit the seal lets through is never refused at run time for having changed, and a
//! downgrade may be corrected under both.
//!
//! The file is line-oriented on purpose: two branches that seal migrations both change its
//! first line and append after the same last one, so git reports a conflict, and the build
//! reports the conflict markers of an unresolved one.

use std::fmt::Write as _;

use sha2::{Digest, Sha256};

/// The seal's file name, inside the migrations folder.
pub const FILE_NAME: &str = "seal.lock";

/// The first word of the line that holds the format version and the sum of the entries.
const HEADER: &str = "seal";

/// The format written and read.
const FORMAT: &str = "1";

/// A seal file, read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Seal {
    /// The sealed migrations, in the chain's order.
    pub entries: Vec<SealEntry>,
}

/// One sealed migration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealEntry {
    /// Its revision id.
    pub rev: String,
    /// Its parents (`down_revision`), in order.
    pub parents: Vec<String>,
    /// The sum of its meaning: [`Meaning::sum`].
    pub sum: String,
    /// Its file name when it was sealed, for messages.
    pub file_name: String,
    /// Its 1-based line in the seal file (0 for an entry not read from a file).
    pub line: usize,
}

/// Why a seal file cannot be read: the 1-based line and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealError {
    /// The line.
    pub line: usize,
    /// What is wrong, a lowercase phrase.
    pub message: String,
    /// What to do.
    pub help: String,
}

/// The lowercase hex of a SHA-256 digest.
fn hex(digest: &[u8]) -> String {
    let mut text = String::with_capacity(64);
    for byte in digest {
        let _ = write!(text, "{byte:02x}");
    }
    text
}

/// `text` with every `\r\n` read as `\n`: how the seal's sums and the runtime's checksums
/// both read line endings.
pub fn unix_line_endings(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('\r') { text.replace("\r\n", "\n").into() } else { text.into() }
}

impl SealEntry {
    /// The entry's line, as the file holds it.
    fn to_line(&self) -> String {
        let parents = if self.parents.is_empty() { "-".to_owned() } else { self.parents.join(",") };
        format!("{} {} {} {}", self.rev, parents, self.sum, self.file_name)
    }
}

impl Seal {
    /// The entry of `rev`.
    pub fn get(&self, rev: &str) -> Option<&SealEntry> {
        self.entries.iter().find(|e| e.rev == rev)
    }

    /// The sum of the entry lines: the seal's first line.
    fn total(&self) -> String {
        let mut hasher = Sha256::new();
        for entry in &self.entries {
            hasher.update(entry.to_line().as_bytes());
            hasher.update(b"\n");
        }
        hex(&hasher.finalize())
    }

    /// The file's text. `folder` names the migrations folder in its comment.
    pub fn render(&self, folder: &str) -> String {
        let mut text = format!(
            "# The sealed (deployed) migrations of `{folder}`, written by `cargo migrate seal` and checked\n\
             # by every build: a sealed migration keeps its meaning, stays in the folder, and no new\n\
             # migration goes before it. Do not edit by hand. A conflict here means two branches sealed\n\
             # migrations: see \"The seal\" in the README of migrate.\n\
             {HEADER} {FORMAT} {}\n",
            self.total()
        );
        for entry in &self.entries {
            text.push_str(&entry.to_line());
            text.push('\n');
        }
        text
    }

    /// Reads a seal file. `#` lines and blank lines are comments.
    pub fn parse(text: &str) -> Result<Seal, SealError> {
        let error =
            |line: usize, message: String, help: &str| SealError { line, message, help: help.to_owned() };
        const REWRITE: &str = "restore the file from version control (`git checkout -- <file>`); it is written \
                               only by `cargo migrate seal`";
        let mut total = None;
        let mut seal = Seal::default();
        let mut revs = std::collections::HashSet::new();
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let content = raw.trim_end_matches('\r');
            if ["<<<<<<<", "=======", ">>>>>>>", "|||||||"].iter().any(|m| content.starts_with(m)) {
                return Err(error(
                    line,
                    "holds a git conflict marker: two branches sealed migrations".to_owned(),
                    "keep the seal of the branch merged into (`git checkout --theirs <file>` while \
                     rebasing, `--ours` while merging), give your new migrations a `down_revision` after \
                     its last sealed one, and seal them again with `cargo migrate seal` once deployed",
                ));
            }
            if content.trim().is_empty() || content.starts_with('#') {
                continue;
            }
            if total.is_none() {
                let words: Vec<&str> = content.split(' ').collect();
                match words.as_slice() {
                    [HEADER, FORMAT, sum] => total = Some(((*sum).to_owned(), line)),
                    [HEADER, format, _] => {
                        return Err(error(
                            line,
                            format!("is in format {format}; this version of migrate reads format {FORMAT}"),
                            "build with the version of migrate that wrote it, or a newer one",
                        ));
                    }
                    _ => {
                        return Err(error(
                            line,
                            format!("should start with `{HEADER} {FORMAT} <sum>`"),
                            REWRITE,
                        ));
                    }
                }
                continue;
            }
            let mut words = content.splitn(4, ' ');
            let (Some(rev), Some(parents), Some(sum), Some(file_name)) =
                (words.next(), words.next(), words.next(), words.next())
            else {
                return Err(error(
                    line,
                    "is not `<revision> <parents> <sum> <file name>`".to_owned(),
                    REWRITE,
                ));
            };
            if sum.len() != 64 || !sum.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(error(line, format!("holds `{sum}`, which is not a sum"), REWRITE));
            }
            if !revs.insert(rev) {
                return Err(error(line, format!("seals revision `{rev}` a second time"), REWRITE));
            }
            let parents =
                if parents == "-" { Vec::new() } else { parents.split(',').map(str::to_owned).collect() };
            seal.entries.push(SealEntry {
                rev: rev.to_owned(),
                parents,
                sum: sum.to_owned(),
                file_name: file_name.to_owned(),
                line,
            });
        }
        let Some((sum, line)) = total else {
            return Err(error(1, format!("has no `{HEADER} {FORMAT} <sum>` line"), REWRITE));
        };
        if sum != seal.total() {
            return Err(error(
                line,
                "does not match the lines below it: the file was edited by hand or merged".to_owned(),
                "restore the seal of the branch merged into (`git checkout <branch> -- <file>`); after a \
                 merge, put your new migrations after its last sealed one and seal again with \
                 `cargo migrate seal`",
            ));
        }
        Ok(seal)
    }
}

/// The meaning of a migration as the seal sums it: its tokens in a canonical form (see the
/// module's documentation), built by `syntax`, and the paths of the files it includes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Meaning {
    /// The canonical tokens.
    pub tokens: String,
    /// The `include_str!` paths, in order, relative to the migrations folder.
    pub includes: Vec<String>,
}

impl Meaning {
    /// The SHA-256 of the tokens and of each included file's text (`read` returns it, `None`
    /// when it cannot be read), line endings made `\n`, in lowercase hex.
    pub fn sum(&self, mut read: impl FnMut(&str) -> Option<String>) -> String {
        let mut hasher = Sha256::new();
        hasher.update(b"migrate meaning 1\n");
        hasher.update(self.tokens.as_bytes());
        for path in &self.includes {
            hasher.update(format!("\ninclude {}:{path}\n", path.len()).as_bytes());
            match read(path) {
                Some(text) => {
                    let text = unix_line_endings(&text);
                    hasher.update(format!("{}:", text.len()).as_bytes());
                    hasher.update(text.as_bytes());
                }
                None => hasher.update(b"unreadable"),
            }
        }
        hex(&hasher.finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(rev: &str, parents: &[&str], sum: char, file_name: &str) -> SealEntry {
        SealEntry {
            rev: rev.to_owned(),
            parents: parents.iter().map(|p| (*p).to_owned()).collect(),
            sum: sum.to_string().repeat(64),
            file_name: file_name.to_owned(),
            line: 0,
        }
    }

    fn sample() -> Seal {
        Seal {
            entries: vec![
                entry("a1b2c3d4e5f6", &[], 'a', "20241021_0900_a1b2c3d4e5f6_add_people_table.rs"),
                entry(
                    "b2c3d4e5f6a1",
                    &["a1b2c3d4e5f6"],
                    'b',
                    "20241022_0900_b2c3d4e5f6a1_add_notes_table.rs",
                ),
                entry("c3d4e5f6a1b2", &["a1b2c3d4e5f6"], 'c', "20241022_1000_c3d4e5f6a1b2_add_tags_table.rs"),
                entry(
                    "d4e5f6a1b2c3",
                    &["b2c3d4e5f6a1", "c3d4e5f6a1b2"],
                    'd',
                    "20241023_0900_d4e5f6a1b2c3_merge notes and tags.rs",
                ),
            ],
        }
    }

    fn lines_of(seal: &Seal) -> Vec<usize> {
        seal.entries.iter().map(|e| e.line).collect()
    }

    #[test]
    fn a_seal_reads_back_what_it_wrote() {
        let text = sample().render("migrations");
        let mut read = Seal::parse(&text).expect("reads");
        assert_eq!(lines_of(&read), [6, 7, 8, 9]);
        for entry in &mut read.entries {
            entry.line = 0;
        }
        assert_eq!(read, sample());
        // Line endings of a Windows checkout do not matter.
        assert!(Seal::parse(&text.replace('\n', "\r\n")).is_ok());
    }

    #[test]
    fn an_edited_line_breaks_the_total() {
        let text = sample().render("migrations").replace(&"b".repeat(64), &"e".repeat(64));
        let error = Seal::parse(&text).expect_err("edited");
        assert_eq!(error.line, 5);
        assert_eq!(error.message, "does not match the lines below it: the file was edited by hand or merged");
        // A line dropped, or two merged seals kept side by side, break it too.
        let text = sample().render("migrations");
        let dropped: Vec<&str> = text.lines().filter(|l| !l.starts_with("c3d4")).collect();
        assert_eq!(Seal::parse(&dropped.join("\n")).expect_err("dropped").line, 5);
    }

    #[test]
    fn a_conflict_is_named_as_such() {
        let text = sample().render("migrations");
        let (head, tail) = text.split_once("seal 1").expect("header");
        let conflicted =
            format!("{head}<<<<<<< HEAD\nseal 1 {}=======\nseal 1{tail}>>>>>>> feature\n", "0".repeat(64));
        let error = Seal::parse(&conflicted).expect_err("conflict");
        assert_eq!(
            (error.line, error.message.as_str()),
            (5, "holds a git conflict marker: two branches sealed migrations")
        );
    }

    #[test]
    fn malformed_seals_name_their_line() {
        for (text, line, message) in [
            ("", 1, "has no `seal 1 <sum>` line"),
            ("# only a comment\nseal 2 abc\n", 2, "is in format 2; this version of migrate reads format 1"),
            ("sealed\n", 1, "should start with `seal 1 <sum>`"),
            ("seal 1 x\na1b2c3d4e5f6 -\n", 2, "is not `<revision> <parents> <sum> <file name>`"),
            ("seal 1 x\na1b2c3d4e5f6 - abc f.rs\n", 2, "holds `abc`, which is not a sum"),
        ] {
            let error = Seal::parse(text).expect_err(text);
            assert_eq!((error.line, error.message.as_str()), (line, message), "{text:?}");
        }
        let twice = Seal {
            entries: vec![entry("a1b2c3d4e5f6", &[], 'a', "a.rs"), entry("a1b2c3d4e5f6", &[], 'b', "b.rs")],
        };
        let error = Seal::parse(&twice.render("m")).expect_err("twice");
        assert_eq!(error.message, "seals revision `a1b2c3d4e5f6` a second time");
    }

    #[test]
    fn the_sum_covers_included_files_but_not_their_line_endings() {
        let meaning = Meaning { tokens: "i2:op".to_owned(), includes: vec!["sql/a.sql".to_owned()] };
        let lf = meaning.sum(|_| Some("CREATE TABLE a ();\nSELECT 1;\n".to_owned()));
        let crlf = meaning.sum(|_| Some("CREATE TABLE a ();\r\nSELECT 1;\r\n".to_owned()));
        let edited = meaning.sum(|_| Some("CREATE TABLE a (id int);\nSELECT 1;\n".to_owned()));
        let missing = meaning.sum(|_| None);
        assert_eq!(lf, crlf);
        assert_ne!(lf, edited);
        assert_ne!(lf, missing);
        assert_eq!(lf.len(), 64);
        let other = Meaning { tokens: "i2:Op".to_owned(), ..meaning.clone() };
        assert_ne!(other.sum(|_| Some("CREATE TABLE a ();\nSELECT 1;\n".to_owned())), lf);
    }
}
