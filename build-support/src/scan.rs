//! Reading a migrations folder: every `.rs` file, parsed once.

use std::borrow::Borrow;
use std::path::{Path, PathBuf};

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
    /// What the seal sums of each module in `source.modules`, read when the folder has a seal.
    pub meanings: Vec<Option<Meaning>>,
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
        Folder::read(crate_dir, folder, false)
    }

    /// [`Folder::scan`], reading what the seal sums of every migration even when the folder has
    /// no seal yet: what `cargo migrate seal` needs.
    pub fn scan_to_seal(crate_dir: &Path, folder: &Path) -> Result<Folder, Error> {
        Folder::read(crate_dir, folder, true)
    }

    fn read(crate_dir: &Path, folder: &Path, to_seal: bool) -> Result<Folder, Error> {
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
        let files = read_in_parallel(&path, &names, crate_dir, to_seal || folder_seal.is_some())?;
        Ok(Folder { path, display, files, entries, seal: folder_seal })
    }

    /// The seal's sum of the meaning of the migration in `self.files[index]`: its tokens and
    /// the files it includes, read now.
    pub fn sum(&self, index: usize) -> Option<String> {
        let meaning = self.files.get(index)?.meanings.first()?.as_ref()?;
        Some(meaning.sum(|path| std::fs::read_to_string(self.path.join(path)).ok()))
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
                        .map(|name| ScannedFile::read(folder, name, crate_dir, sealed))
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
    fn read(folder: &Path, file_name: &str, crate_dir: &Path, sealed: bool) -> Result<ScannedFile, Error> {
        let path = folder.join(file_name);
        let display = display_path(&path, crate_dir);
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
        let parsed = if sealed { syntax::parse_file_with_meaning(&text) } else { syntax::parse_file(&text) };
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
        Ok(ScannedFile { source, positions, text, parse_error, syntax_errors, too_deep, included, meanings })
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
    fn a_missing_folder_is_an_error() {
        let dir = temp_crate("no-folder", &[("Cargo.toml", "")]);
        let error = Folder::scan(&dir, Path::new("migrations")).expect_err("no folder");
        assert_eq!(error.to_string(), "migrations folder `migrations` does not exist");
        std::fs::remove_dir_all(dir).expect("cleans up");
    }
}
