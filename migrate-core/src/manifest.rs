//! The manifest build-support writes into `OUT_DIR` and the macro reads: every migration of
//! the crate with the diagnostics that concern it.
//!
//! A plain text format, one record per line, fields separated by tabs, with `\\`, `\t` and
//! `\n` escaped:
//!
//! ```text
//! migrate-manifest 3
//! migration <path> <module> <display> <transactional 0|1> <clean 0|1> <rev> <parents> <labels> <depends_on> <squashes> <why>
//! diagnostic <path> <module or empty> <locator> <rule> <message> <help>
//! ```
//!
//! The macro reads it once per compiler process and looks its migration up by file path and
//! module name.

use std::collections::BTreeMap;

use crate::diagnostic::{Diagnostic, Locator, RuleId};

/// The first line of every manifest; its number changes with the format.
pub const HEADER: &str = "migrate-manifest 3";

/// The manifest's file name inside `OUT_DIR/migrate/`.
pub const FILE_NAME: &str = "manifest";

/// The folder of `OUT_DIR` where migrate-build writes the manifest and the generated modules.
pub const DIR: &str = "migrate";

/// One migration module known to the build.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestEntry {
    /// The file's key: its absolute path.
    pub path: String,
    /// The module's name.
    pub module: String,
    /// The path shown to users.
    pub display: String,
    /// Whether the migration runs inside a transaction.
    pub transactional: bool,
    /// Whether the migration reads well and no rule found anything: the macro then emits
    /// its descriptor from this entry without reading the module again.
    pub clean: bool,
    /// The revision id (meaningful when clean).
    pub rev: String,
    /// The parents' ids (meaningful when clean; ids hold no whitespace).
    pub parents: Vec<String>,
    /// The branch labels (meaningful when clean; labels hold no whitespace).
    pub labels: Vec<String>,
    /// The `depends_on` names (meaningful when clean; they hold no whitespace).
    pub depends_on: Vec<String>,
    /// The checksum of `squashes = "…"`, or empty.
    pub squashes: String,
    /// The doc comment saying why, as one paragraph.
    pub why: String,
}

/// Everything the macro needs to know about the crate's migrations.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    /// The migrations, in the order they were added.
    pub entries: Vec<ManifestEntry>,
    /// The diagnostics of every migration.
    pub diagnostics: Vec<Diagnostic>,
    index: BTreeMap<(String, String), usize>,
}

fn escape(field: &str) -> String {
    field.replace('\\', "\\\\").replace('\t', "\\t").replace('\n', "\\n")
}

fn unescape(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

impl Manifest {
    /// Adds a migration.
    pub fn add_entry(&mut self, entry: ManifestEntry) {
        self.index.insert((entry.path.clone(), entry.module.clone()), self.entries.len());
        self.entries.push(entry);
    }

    /// The migration `module` of file `path`.
    pub fn entry(&self, path: &str, module: &str) -> Option<&ManifestEntry> {
        self.index.get(&(path.to_owned(), module.to_owned())).map(|&i| &self.entries[i])
    }

    /// The migrations named `module`, whatever their file.
    pub fn entries_named<'a>(&'a self, module: &str) -> impl Iterator<Item = &'a ManifestEntry> + 'a {
        let module = module.to_owned();
        self.entries.iter().filter(move |e| e.module == module)
    }

    /// The diagnostics of the migration `module` of file `path`.
    pub fn diagnostics_for<'a>(
        &'a self,
        path: &'a str,
        module: &'a str,
    ) -> impl Iterator<Item = &'a Diagnostic> + 'a {
        self.diagnostics.iter().filter(move |d| d.file == path && d.module.as_deref() == Some(module))
    }

    /// The manifest as text.
    pub fn to_text(&self) -> String {
        let mut text = format!("{HEADER}\n");
        for e in &self.entries {
            let fields = [
                escape(&e.path),
                escape(&e.module),
                escape(&e.display),
                u8::from(e.transactional).to_string(),
                u8::from(e.clean).to_string(),
                escape(&e.rev),
                escape(&e.parents.join(" ")),
                escape(&e.labels.join(" ")),
                escape(&e.depends_on.join(" ")),
                escape(&e.squashes),
                escape(&e.why),
            ];
            text.push_str(&format!("migration\t{}\n", fields.join("\t")));
        }
        for d in &self.diagnostics {
            let fields = [
                escape(&d.file),
                escape(d.module.as_deref().unwrap_or("")),
                d.locator.to_string(),
                d.rule.to_string(),
                escape(&d.message),
                escape(&d.help),
            ];
            text.push_str(&format!("diagnostic\t{}\n", fields.join("\t")));
        }
        text
    }

    /// Reads a manifest written by [`Manifest::to_text`].
    pub fn parse(text: &str) -> Result<Manifest, String> {
        let mut lines = text.lines();
        match lines.next() {
            Some(HEADER) => {}
            Some(other) => return Err(format!("it starts with `{other}`, not `{HEADER}`")),
            None => return Err("it is empty".to_owned()),
        }
        let mut manifest = Manifest::default();
        for (n, line) in lines.enumerate() {
            let bad = || format!("line {} is malformed", n + 2);
            let fields: Vec<&str> = line.split('\t').collect();
            match fields.as_slice() {
                [
                    "migration",
                    path,
                    module,
                    display,
                    transactional,
                    clean,
                    rev,
                    parents,
                    labels,
                    depends_on,
                    squashes,
                    why,
                ] => manifest.add_entry(ManifestEntry {
                    path: unescape(path),
                    module: unescape(module),
                    display: unescape(display),
                    transactional: *transactional == "1",
                    clean: *clean == "1",
                    rev: unescape(rev),
                    parents: words(parents),
                    labels: words(labels),
                    depends_on: words(depends_on),
                    squashes: unescape(squashes),
                    why: unescape(why),
                }),
                ["diagnostic", file, module, locator, rule, message, help] => {
                    let module = unescape(module);
                    manifest.diagnostics.push(Diagnostic {
                        file: unescape(file),
                        module: (!module.is_empty()).then_some(module),
                        locator: locator.parse::<Locator>().map_err(|()| bad())?,
                        rule: rule.parse::<RuleId>().map_err(|()| bad())?,
                        message: unescape(message),
                        help: unescape(help),
                    });
                }
                _ => return Err(bad()),
            }
        }
        Ok(manifest)
    }
}

/// A field of names separated by spaces.
fn words(field: &str) -> Vec<String> {
    unescape(field).split_whitespace().map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut manifest = Manifest::default();
        manifest.add_entry(ManifestEntry {
            path: "/crate/migrations/a\tb.rs".into(),
            module: "add_x".into(),
            display: "migrations/a\tb.rs".into(),
            transactional: false,
            clean: false,
            rev: "3f2a9c1b7d4e".into(),
            parents: vec!["a1b2c3d4e5f6".into(), "b2c3d4e5f6a1".into()],
            labels: vec!["billing".into()],
            depends_on: vec!["c3d4e5f6a1b2".into(), "core".into()],
            squashes: "0".repeat(64),
            why: "Why,\tand how.".into(),
        });
        manifest.diagnostics.push(Diagnostic {
            file: "/crate/migrations/a\tb.rs".into(),
            module: Some("add_x".into()),
            locator: Locator::Literal(3),
            rule: RuleId::HardcodedSecret,
            message: "line one\nline \\two".into(),
            help: "help".into(),
        });
        manifest.diagnostics.push(Diagnostic {
            file: "/crate/migrations/c.rs".into(),
            module: None,
            locator: Locator::Item(0),
            rule: RuleId::ItemOutsideMigration,
            message: "m".into(),
            help: "h".into(),
        });
        let parsed = Manifest::parse(&manifest.to_text()).expect("parses");
        assert_eq!(parsed, manifest);
        assert!(parsed.entry("/crate/migrations/a\tb.rs", "add_x").is_some());
        assert_eq!(parsed.diagnostics_for("/crate/migrations/a\tb.rs", "add_x").count(), 1);
    }

    #[test]
    fn foreign_text_is_refused() {
        assert!(Manifest::parse("").is_err());
        assert!(Manifest::parse("migrate-manifest 0\n").is_err());
        assert!(Manifest::parse("migrate-manifest 1\nmigration\tonly-two\n").is_err());
        assert!(
            Manifest::parse("migrate-manifest 1\ndiagnostic\tf\tm\tnowhere\tvague_slug\tm\th\n").is_err()
        );
    }
}
