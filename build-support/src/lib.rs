//! The build.rs line of migrate-runtime: checks a crate's migrations folder as a whole and
//! generates the embedded chain.
//!
//! ```ignore
//! // build.rs
//! fn main() { migrate_build::compile(); }
//! ```
//!
//! It reads `[package.metadata.migrate]`, reads every migration file once as proc-macro2
//! tokens, runs every rule over the whole folder once, and writes into `OUT_DIR/migrate/`:
//!
//! - `manifest`: every migration with the diagnostics that concern it, which the
//!   `#[migration]` macro reports under the offending token;
//! - `migrations.rs`: the chain in its linear order, which `embed_migrations!()` includes.
//!
//! It tells cargo to run again when any file of the folder (or Cargo.toml) is added, edited,
//! renamed or deleted, so new migrations are never missed. It never panics: a problem it
//! cannot attach to a migration (an unreadable folder, bad settings, an item outside a
//! migration module) becomes a `compile_error!` in the generated module.

mod error;
mod generate;
mod scan;
mod settings;

use std::path::{Path, PathBuf};

pub use error::Error;
pub use scan::{Folder, FolderSeal, Position, ScannedFile};
pub use settings::Settings;

use migrate_core::manifest::{FILE_NAME, Manifest};

/// Checks the crate's migrations folder and generates its chain: the one line of build.rs.
pub fn compile() {
    Build::new().compile();
}

/// A build of one or more migrations folders; [`compile`] builds the configured one.
#[derive(Clone, Debug, Default)]
pub struct Build {
    folders: Vec<(PathBuf, String)>,
    crate_dir: Option<PathBuf>,
}

impl Build {
    /// The folder of `[package.metadata.migrate]` (default `migrations`), embedded by
    /// `embed_migrations!()`.
    pub fn new() -> Build {
        Build::default()
    }

    /// Builds `folder` (relative to the crate root) as the module `name`, embedded by
    /// `embed_migrations!("name")`. Replaces the default folder; call it once per folder.
    pub fn folder(mut self, folder: impl Into<PathBuf>, name: &str) -> Build {
        self.folders.push((folder.into(), name.to_owned()));
        self
    }

    /// Reads the settings and the folders of another crate, whose migrations this build
    /// embeds: what `cargo migrate` does to run the database commands of any crate.
    pub fn for_crate(mut self, dir: impl Into<PathBuf>) -> Build {
        self.crate_dir = Some(dir.into());
        self
    }

    /// Checks and generates. Never panics; problems reach the user as compiler errors.
    pub fn compile(self) {
        if let Err(error) = self.run() {
            // Without OUT_DIR there is nowhere to write: say so on the build's output.
            println!("cargo:warning=migrate-build: {error}");
            eprintln!("error: {error}\n= help: {}", error.help());
            std::process::exit(1);
        }
    }

    fn run(self) -> Result<(), Error> {
        let crate_dir = match self.crate_dir.clone() {
            Some(dir) => dir,
            None => PathBuf::from(
                std::env::var_os("CARGO_MANIFEST_DIR").ok_or(Error::Environment("CARGO_MANIFEST_DIR"))?,
            ),
        };
        let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").ok_or(Error::Environment("OUT_DIR"))?);
        let out = out_dir.join(migrate_core::manifest::DIR);
        std::fs::create_dir_all(&out)
            .map_err(|e| Error::Write { path: out.display().to_string(), message: e.to_string() })?;
        for (name, text) in self.generate(&crate_dir, &out) {
            write_if_changed(&out.join(name), &text)?;
        }
        Ok(())
    }

    /// The files to write into `out`, with the rerun instructions printed for cargo.
    fn generate(self, crate_dir: &Path, out: &Path) -> Vec<(String, String)> {
        println!("cargo:rerun-if-changed={}", crate_dir.join("Cargo.toml").display());
        let manifest_path = out.join(FILE_NAME);
        let mut manifest = Manifest::default();
        // The manifest first: each module includes it.
        let mut files = vec![(FILE_NAME.to_owned(), String::new())];
        let settings = Settings::read(crate_dir);
        let folders = match (&settings, self.folders.is_empty()) {
            (Ok(settings), true) => vec![(settings.folder.clone(), "migrations".to_owned())],
            (Err(_), true) => vec![(PathBuf::from("migrations"), "migrations".to_owned())],
            (_, false) => self.folders,
        };
        for (folder, name) in folders {
            let path = crate_dir.join(&folder);
            println!("cargo:rerun-if-changed={}", path.display());
            let scanned = match &settings {
                Ok(settings) => Folder::scan_for_build(crate_dir, &folder, &out.join(format!("sums-{name}")))
                    .map(|folder| (settings, folder)),
                Err(error) => Err(error.clone()),
            };
            let text = match scanned {
                Err(error) => generate::failed_module(&format!("{error}\n= help: {}", error.help())),
                Ok((settings, folder)) => {
                    // A file added to a subfolder changes the subfolder, not the folder.
                    for entry in folder.entries.iter().filter(|e| e.is_folder) {
                        println!("cargo:rerun-if-changed={}", entry.path);
                    }
                    for included in folder.files.iter().flat_map(|f| &f.included) {
                        if !included.starts_with(&path) {
                            println!("cargo:rerun-if-changed={}", included.display());
                        }
                    }
                    let text =
                        generate::folder_module(&folder, &settings.config, &mut manifest, &manifest_path);
                    // A cache only: a build that cannot keep it sums again next time.
                    let _ = folder.write_sums(&out.join(format!("sums-{name}")));
                    text
                }
            };
            files.push((format!("{name}.rs"), text));
        }
        files[0].1 = manifest.to_text();
        files
    }
}

/// Writes only when the content differs, so that an unchanged file keeps its timestamp.
fn write_if_changed(path: &Path, text: &str) -> Result<(), Error> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    std::fs::write(path, text)
        .map_err(|e| Error::Write { path: path.display().to_string(), message: e.to_string() })
}
