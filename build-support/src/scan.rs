//! Reading a migrations folder: every `.rs` file, parsed once.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::UNIX_EPOCH;

use migrate_core::config::Config;
use migrate_core::diagnostic::{Diagnostic, Locator};
use migrate_core::rules::stray_file::{self, FolderEntry};
use migrate_core::rules::{self, Checked, Sealing};
use migrate_core::seal::{self, Meaning, Seal, SealError};
use migrate_core::source::MigrationFile;
use migrate_core::syntax::{self, LexError, Range};

use crate::error::Error;

/// A migrations folder, read and parsed.
#[derive(Debug)]
pub struct Folder {
    /// The folder's absolute path.
    pub path: PathBuf,
    /// The folder as shown to users, relative to the crate root.
    pub display: String,
    /// Its migration files, sorted by file name.
    pub files: Vec<ScannedFile>,
    /// Every other entry, subfolders and their contents included, sorted by name: what
    /// `stray_file` checks.
    pub entries: Vec<FolderEntry>,
    /// The folder's seal (`seal.lock`), when it has one.
    pub seal: Option<FolderSeal>,
}

/// The seal file of a folder, read.
#[derive(Debug)]
pub struct FolderSeal {
    /// Its absolute path.
    pub path: String,
    /// Its path relative to the crate root.
    pub display: String,
    /// The seal, or why it cannot be read.
    pub seal: Result<Seal, SealError>,
}

/// One migration file.
#[derive(Debug)]
pub struct ScannedFile {
    /// What the rules see.
    pub source: MigrationFile,
    /// Where the locators of each module in `source.modules` point.
    pub positions: Vec<Vec<(Locator, Position)>>,
    /// The file's text.
    pub text: String,
    /// Why the file could not be read as Rust tokens; rustc reports it again when it
    /// compiles the file.
    pub parse_error: Option<LexError>,
    /// The syntax error of each `#[migration]` module that has one (an unreadable attribute,
    /// a module without a body, nesting deeper than the reader goes), where the macro reports
    /// it: the message (with its `= help:` line when it has one) and the position.
    pub syntax_errors: Vec<(String, Position)>,
    /// Where the file nests groups deeper than the reader goes (`syntax::MAX_DEPTH`): the
    /// build reports the file instead of compiling it, and so does `cargo migrate check`.
    pub too_deep: Option<Position>,
    /// Files the migration includes with `include_str!`, resolved.
    pub included: Vec<PathBuf>,
    /// What the seal sums of each module in `source.modules`, read when the folder has a seal
    /// and no earlier build's sum of the file still holds.
    pub meanings: Vec<Option<Meaning>>,
    /// The file's stamp when it was read.
    stamp: Option<Stamp>,
    /// An earlier build's sum of the file that still holds (see [`Folder::scan_for_build`]).
    known: Option<KnownSum>,
    /// The sum computed by this build, once asked for.
    computed: OnceLock<Option<KnownSum>>,
}

/// The first line of the kept sums: sums kept by another version of this crate (whose canonical
/// form may differ) are not reused.
const SUMS_HEADER: &str = concat!("migrate-build ", env!("CARGO_PKG_VERSION"), " sums 1");

/// A file's modification time (nanoseconds since the epoch) and size: what cargo itself
/// compares to decide that a file changed.
type Stamp = (u128, u64);

fn stamp(path: &Path) -> Option<Stamp> {
    let metadata = std::fs::metadata(path).ok()?;
    Some((metadata.modified().ok()?.duration_since(UNIX_EPOCH).ok()?.as_nanos(), metadata.len()))
}

/// The seal's sum of a migration file, with the stamps of the file and of what it includes
/// when the sum was made.
#[derive(Clone, Debug, PartialEq, Eq)]
struct KnownSum {
    stamp: Stamp,
    includes: Vec<(String, Stamp)>,
    sum: String,
}

impl KnownSum {
    /// `name`, the stamps and the sum on one line, tab-separated.
    fn to_line(&self, name: &str) -> String {
        let mut line = format!("{name}\t{}\t{}\t{}", self.stamp.0, self.stamp.1, self.sum);
        for (path, (time, len)) in &self.includes {
            line.push_str(&format!("\t{path}\t{time}\t{len}"));
        }
        line
    }

    /// A line of [`KnownSum::to_line`]; `None` for anything else.
    fn parse(line: &str) -> Option<(String, KnownSum)> {
        let fields: Vec<&str> = line.split('\t').collect();
        let [name, time, len, sum, rest @ ..] = fields.as_slice() else {
            return None;
        };
        let mut includes = Vec::new();
        for include in rest.chunks(3) {
            let [path, time, len] = include else {
                return None;
            };
            includes.push(((*path).to_owned(), (time.parse().ok()?, len.parse().ok()?)));
        }
        let known =
            KnownSum { stamp: (time.parse().ok()?, len.parse().ok()?), includes, sum: (*sum).to_owned() };
        Some(((*name).to_owned(), known))
    }
}

/// Where a diagnostic points in its file, 1-based, the end column exclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    /// The first line.
    pub line: usize,
    /// The first column.
    pub column: usize,
    /// The last line.
    pub end_line: usize,
    /// The column after the last character.
    pub end_column: usize,
}

impl Position {
    fn of(range: Range) -> Position {
        let (line, column) = range.line_column();
        let (end_line, end_column) = range.end_line_column();
        Position { line, column, end_line, end_column }
    }
}

fn display_path(path: &Path, crate_dir: &Path) -> String {
    path.strip_prefix(crate_dir).unwrap_or(path).display().to_string()
}

impl Folder {
    /// Reads every `.rs` file of `folder` (relative to `crate_dir` unless absolute).
    pub fn scan(crate_dir: &Path, folder: &Path) -> Result<Folder, Error> {
        Folder::read(crate_dir, folder, false, None)
    }

    /// [`Folder::scan`], reading what the seal sums of every migration even when the folder has
    /// no seal yet: what `cargo migrate seal` needs.
    pub fn scan_to_seal(crate_dir: &Path, folder: &Path) -> Result<Folder, Error> {
        Folder::read(crate_dir, folder, true, None)
    }

    /// [`Folder::scan`] for a build, which keeps the seal's sums in `sums` (in `OUT_DIR`): a
    /// file whose size and modification time, and those of what it includes, are the ones an
    /// earlier build summed keeps its sum, as cargo itself decides what changed; a clean build
    /// (and `cargo migrate check`) sums every file.
    pub fn scan_for_build(crate_dir: &Path, folder: &Path, sums: &Path) -> Result<Folder, Error> {
        Folder::read(crate_dir, folder, false, Some(sums))
    }

    /// Keeps the sums this build knows in `sums`, for the next: see [`Folder::scan_for_build`].
    pub fn write_sums(&self, sums: &Path) -> Result<(), Error> {
        let mut text = format!("{SUMS_HEADER}\n");
        for file in &self.files {
            if let Some(known) = file.known.as_ref().or(file.computed.get().and_then(Option::as_ref)) {
                text.push_str(&known.to_line(&file.source.file_name));
                text.push('\n');
            }
        }
        if text.lines().count() == 1 && !sums.exists() {
            return Ok(());
        }
        std::fs::write(sums, text)
            .map_err(|e| Error::Write { path: sums.display().to_string(), message: e.to_string() })
    }

    fn read(crate_dir: &Path, folder: &Path, to_seal: bool, sums: Option<&Path>) -> Result<Folder, Error> {
        let path = crate_dir.join(folder);
        let display = display_path(&path, crate_dir);
        if !path.is_dir() {
            return Err(Error::NoFolder { path: display });
        }
        let read_error = |e: std::io::Error| Error::Read { path: display.clone(), message: e.to_string() };
        let mut names = Vec::new();
        let mut entries = Vec::new();
        let mut folder_seal = None;
        for entry in std::fs::read_dir(&path).map_err(read_error)? {
            let entry = entry.map_err(read_error)?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let kind = entry.file_type().map_err(read_error)?;
            if kind.is_file() && name.ends_with(".rs") && !name.starts_with('.') {
                names.push(name);
            } else if kind.is_file() && name == seal::FILE_NAME {
                let seal_path = entry.path();
                let text = std::fs::read_to_string(&seal_path).map_err(read_error)?;
                folder_seal = Some(FolderSeal {
                    path: seal_path.to_string_lossy().into_owned(),
                    display: display_path(&seal_path, crate_dir),
                    seal: Seal::parse(&text),
                });
            } else {
                list_entries(&entry.path(), &name, kind.is_dir(), crate_dir, &mut entries)
                    .map_err(read_error)?;
            }
        }
        names.sort();
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        // What the seal sums is read only where there is a seal to compare it with.
        let sealed = to_seal || folder_seal.is_some();
        let known: HashMap<String, KnownSum> = match sums {
            Some(sums) if sealed => match std::fs::read_to_string(sums) {
                Ok(text) if text.lines().next() == Some(SUMS_HEADER) => {
                    text.lines().skip(1).filter_map(KnownSum::parse).collect()
                }
                _ => HashMap::new(),
            },
            _ => HashMap::new(),
        };
        let files = read_in_parallel(&path, &names, crate_dir, sealed, &known)?;
        Ok(Folder { path, display, files, entries, seal: folder_seal })
    }

    /// The seal's sum of the meaning of the migration in `self.files[index]`: its tokens and
    /// the files it includes, read now (or an earlier build's, see [`Folder::scan_for_build`]).
    pub fn sum(&self, index: usize) -> Option<String> {
        let file = self.files.get(index)?;
        if let Some(known) = &file.known {
            return Some(known.sum.clone());
        }
        let computed = file.computed.get_or_init(|| {
            let meaning = file.meanings.first()?.as_ref()?;
            let mut includes = Vec::new();
            let mut stamped = true;
            let sum = meaning.sum(|path| {
                let included = self.path.join(path);
                // Stamped before it is read: an edit made meanwhile is seen by the next build.
                match stamp(&included) {
                    Some(at) => includes.push((path.to_owned(), at)),
                    None => stamped = false,
                }
                std::fs::read_to_string(included).ok()
            });
            // A sum without every stamp is never reused (no file has the stamp 0).
            let stamp = file.stamp.filter(|_| stamped).unwrap_or((0, 0));
            Some(KnownSum { stamp, includes, sum })
        });
        computed.as_ref().map(|known| known.sum.clone())
    }

    /// Runs every rule over the folder and orders its migrations.
    pub fn check(&self, config: &Config) -> Checked {
        let sum = |index: usize| self.sum(index);
        let sealing = self.seal.as_ref().map(|seal| Sealing {
            path: &seal.path,
            display: &seal.display,
            seal: &seal.seal,
            sum: &sum,
        });
        let mut checked = rules::check_sealed_folder(&self.files, config, sealing.as_ref());
        let included: Vec<String> = self
            .files
            .iter()
            .flat_map(|f| &f.included)
            .map(|p| normalize(p).to_string_lossy().into_owned())
            .collect();
        checked.diagnostics.extend(stray_file::check(&self.entries, &included, config));
        checked.diagnostics.sort();
        checked
    }

    /// The file a diagnostic concerns.
    pub fn file(&self, diagnostic: &Diagnostic) -> Option<&ScannedFile> {
        self.files.iter().find(|f| f.source.path == diagnostic.file)
    }

    /// Where a diagnostic points, as rustc would show it.
    pub fn position(&self, diagnostic: &Diagnostic) -> Option<Position> {
        let file = self.file(diagnostic)?;
        if let Locator::Item(i) = diagnostic.locator {
            let item = file.source.stray_items.get(i)?;
            return Some(Position {
                line: item.line,
                column: item.column,
                end_line: item.line,
                end_column: item.column + 1,
            });
        }
        let Some(name) = &diagnostic.module else {
            return Some(Position { line: 1, column: 1, end_line: 1, end_column: 1 });
        };
        let index = file.source.modules.iter().position(|m| &m.name == name)?;
        file.positions[index].iter().find(|(l, _)| *l == diagnostic.locator).map(|(_, p)| *p)
    }
}

/// `path` without its `.` components and with each `..` taking the component before it away,
/// as `include_str!` resolves it.
fn normalize(path: &Path) -> PathBuf {
    let mut normal = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                normal.pop();
            }
            other => normal.push(other),
        }
    }
    normal
}

/// Adds `path` (named `name` inside the migrations folder) to `entries`, and what it holds
/// when it is a folder.
fn list_entries(
    path: &Path,
    name: &str,
    is_folder: bool,
    crate_dir: &Path,
    entries: &mut Vec<FolderEntry>,
) -> std::io::Result<()> {
    entries.push(FolderEntry {
        path: normalize(path).to_string_lossy().into_owned(),
        display: display_path(path, crate_dir),
        name: name.to_owned(),
        is_folder,
    });
    if is_folder {
        for entry in std::fs::read_dir(path)? {
            let entry = entry?;
            let inner = format!("{name}/{}", entry.file_name().to_string_lossy());
            list_entries(&entry.path(), &inner, entry.file_type()?.is_dir(), crate_dir, entries)?;
        }
    }
    Ok(())
}

/// Reads the files on every core: parsing dominates a build script's time, and build scripts
/// are compiled without optimisation by default.
fn read_in_parallel(
    folder: &Path,
    names: &[String],
    crate_dir: &Path,
    sealed: bool,
    known: &HashMap<String, KnownSum>,
) -> Result<Vec<ScannedFile>, Error> {
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get).min(8);
    let chunk = names.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = names
            .chunks(chunk)
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|name| ScannedFile::read(folder, name, crate_dir, sealed, known.get(name)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut files = Vec::with_capacity(names.len());
        for worker in workers {
            let read = worker.join().map_err(|_| Error::Read {
                path: folder.display().to_string(),
                message: "a reading thread stopped unexpectedly".to_owned(),
            })?;
            for file in read {
                files.push(file?);
            }
        }
        Ok(files)
    })
}

impl Borrow<MigrationFile> for ScannedFile {
    fn borrow(&self) -> &MigrationFile {
        &self.source
    }
}

impl ScannedFile {
    fn read(
        folder: &Path,
        file_name: &str,
        crate_dir: &Path,
        sealed: bool,
        known: Option<&KnownSum>,
    ) -> Result<ScannedFile, Error> {
        let path = folder.join(file_name);
        let display = display_path(&path, crate_dir);
        // Stamped before it is read: an edit made meanwhile is seen by the next build.
        let file_stamp = stamp(&path);
        let known = known
            .filter(|k| {
                Some(k.stamp) == file_stamp
                    && k.includes.iter().all(|(included, at)| stamp(&folder.join(included)) == Some(*at))
            })
            .cloned();
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Error::Read { path: display.clone(), message: e.to_string() })?;
        let mut source = MigrationFile {
            path: path.to_string_lossy().into_owned(),
            display,
            file_name: file_name.to_owned(),
            ..MigrationFile::default()
        };
        let mut positions = Vec::new();
        let mut included = Vec::new();
        let mut parse_error = None;
        let mut syntax_errors = Vec::new();
        let mut too_deep = None;
        let mut meanings = Vec::new();
        let parsed = if sealed && known.is_none() {
            syntax::parse_file_with_meaning(&text)
        } else {
            syntax::parse_file(&text)
        };
        match parsed {
            Err(error) => parse_error = Some(error),
            Ok(parsed) => {
                source.parsed = true;
                too_deep = parsed.too_deep.map(Position::of);
                source.stray_items = parsed.stray_items;
                for mut module in parsed.modules {
                    for literal in &mut module.source.literals {
                        if let Some(file) = &mut literal.included {
                            let resolved = folder.join(&literal.value);
                            file.display = display_path(&resolved, crate_dir);
                            file.text = std::fs::read_to_string(&resolved).ok();
                            included.push(resolved);
                        }
                    }
                    if let (Some(message), Some(range)) =
                        (&module.source.syntax_error, module.spans.syntax_error)
                    {
                        syntax_errors.push((message.clone(), Position::of(range)));
                    }
                    source.modules.push(module.source);
                    meanings.push(module.meaning);
                    // Spans resolve to lines only on the thread that read them: keep positions.
                    positions
                        .push(module.spans.all().into_iter().map(|(l, r)| (l, Position::of(r))).collect());
                }
            }
        }
        Ok(ScannedFile {
            source,
            positions,
            text,
            parse_error,
            syntax_errors,
            too_deep,
            included,
            meanings,
            stamp: file_stamp,
            known,
            computed: OnceLock::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_crate(test: &str, files: &[(&str, &str)]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("migrate-build-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (name, text) in files {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().expect("has a parent")).expect("creates");
            std::fs::write(path, text).expect("writes");
        }
        dir
    }

    #[test]
    fn a_folder_reads_with_positions_and_included_files() {
        let dir = temp_crate(
            "scan",
            &[
                (
                    "migrations/20241021_0900_a1b2c3d4e5f6_add_admin_account.rs",
                    "/// Admins need an account.\n#[migration(rev = \"a1b2c3d4e5f6\")]\nmod add_admin_account {\n    use migrate_runtime::prelude::*;\n    pub fn upgrade(op: &mut Op) { op.execute(include_str!(\"sql/admin.sql\")); }\n    pub fn downgrade(op: &mut Op) { op.execute(\"DELETE FROM users\"); }\n}\n",
                ),
                (
                    "migrations/sql/admin.sql",
                    "INSERT INTO users (email, password) VALUES ('a@x.com', 'password123');\n",
                ),
                ("migrations/notes.txt", "not a migration"),
                ("migrations/broken.rs", "mod {"),
            ],
        );
        let folder = Folder::scan(&dir, Path::new("migrations")).expect("scans");
        assert_eq!(folder.display, "migrations");
        let names: Vec<&str> = folder.files.iter().map(|f| f.source.file_name.as_str()).collect();
        assert_eq!(names, ["20241021_0900_a1b2c3d4e5f6_add_admin_account.rs", "broken.rs"]);
        assert!(folder.files[1].parse_error.is_some());
        assert!(!folder.files[1].source.parsed);

        let diagnostics = folder.check(&Config::default()).diagnostics;
        let found: Vec<(String, Option<Position>)> =
            diagnostics.iter().map(|d| (d.rule.to_string(), folder.position(d))).collect();
        assert_eq!(
            found,
            [
                (
                    "hardcoded_secret".to_owned(),
                    Some(Position { line: 5, column: 59, end_line: 5, end_column: 74 })
                ),
                // `notes.txt` is named; `sql/admin.sql`, which the migration includes, is not.
                ("stray_file".to_owned(), None)
            ]
        );
        assert!(diagnostics[1].file.ends_with("migrations/notes.txt"), "{:?}", diagnostics[1]);
        let entries: Vec<&str> = folder.entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(entries, ["notes.txt", "sql", "sql/admin.sql"]);
        assert_eq!(
            diagnostics[0].message,
            "`migrations/sql/admin.sql` line 1 holds a hardcoded secret: a value for `password`"
        );
        std::fs::remove_dir_all(dir).expect("cleans up");
    }

    #[test]
    fn a_build_reuses_the_sums_of_unchanged_files_and_no_other() {
        let migration = |rev: &str, down: &str, table: &str| {
            format!(
                "/// Why.\n#[migration(rev = \"{rev}\", down_revision = {down})]\nmod add_{table}_table {{\n    use migrate_runtime::prelude::*;\n    pub fn upgrade(op: &mut Op) {{ op.execute(include_str!(\"sql/{table}.sql\")); }}\n    pub fn downgrade(op: &mut Op) {{ op.execute(\"DROP TABLE {table}\"); }}\n}}\n"
            )
        };
        let people = "20241021_0900_a1b2c3d4e5f6_add_people_table.rs";
        let notes = "20241022_0900_b2c3d4e5f6a1_add_notes_table.rs";
        let dir = temp_crate(
            "sums",
            &[
                (&format!("migrations/{people}"), &migration("a1b2c3d4e5f6", "None", "people")),
                (&format!("migrations/{notes}"), &migration("b2c3d4e5f6a1", "\"a1b2c3d4e5f6\"", "notes")),
                ("migrations/sql/people.sql", "CREATE TABLE people (id int)"),
                ("migrations/sql/notes.sql", "CREATE TABLE notes (id int)"),
            ],
        );
        let folder = Folder::scan_to_seal(&dir, Path::new("migrations")).expect("scans");
        let entries = folder
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| migrate_core::seal::SealEntry {
                rev: f.source.modules[0].rev.clone().expect("a revision"),
                parents: f.source.modules[0].down_revision.parents().into_iter().map(str::to_owned).collect(),
                sum: folder.sum(i).expect("summed"),
                file_name: f.source.file_name.clone(),
                line: 0,
            })
            .collect();
        std::fs::write(dir.join("migrations/seal.lock"), Seal { entries }.render("migrations"))
            .expect("seals");
        let sums = dir.join("sums");
        let build = |expected: &[&str]| {
            let folder = Folder::scan_for_build(&dir, Path::new("migrations"), &sums).expect("scans");
            let rules: Vec<String> =
                folder.check(&Config::default()).diagnostics.iter().map(|d| d.rule.to_string()).collect();
            assert_eq!(rules, expected);
            folder.write_sums(&sums).expect("keeps the sums");
            folder.files.iter().map(|f| f.known.is_some()).collect::<Vec<bool>>()
        };
        // The first build sums both; the second reuses both.
        assert_eq!(build(&[]), [false, false]);
        assert_eq!(build(&[]), [true, true]);
        // An edit of an included file, of the same size: its stamp changed, so it is summed again.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(dir.join("migrations/sql/notes.sql"), "CREATE TABLE notez (id int)").expect("edits");
        assert_eq!(build(&["sealed_migration_changed"]), [true, false]);
        // The sum kept is the new one: the next build reports the edit again, without summing.
        assert_eq!(build(&["sealed_migration_changed"]), [true, true]);
        // `cargo migrate check` keeps no sums: it sums every file and sees the edit as well.
        let folder = Folder::scan(&dir, Path::new("migrations")).expect("scans");
        let rules: Vec<String> =
            folder.check(&Config::default()).diagnostics.iter().map(|d| d.rule.to_string()).collect();
        assert_eq!(rules, ["sealed_migration_changed"]);
        std::fs::remove_dir_all(dir).expect("cleans up");
    }

    #[test]
    fn a_missing_folder_is_an_error() {
        let dir = temp_crate("no-folder", &[("Cargo.toml", "")]);
        let error = Folder::scan(&dir, Path::new("migrations")).expect_err("no folder");
        assert_eq!(error.to_string(), "migrations folder `migrations` does not exist");
        std::fs::remove_dir_all(dir).expect("cleans up");
    }
}
