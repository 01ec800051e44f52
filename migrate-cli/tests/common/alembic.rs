//! The real Alembic and the Alembic project of `tests/alembic`, for the tests that import it
//! or measure against it (`alembic.rs`, `alembic_differential.rs`).
//!
//! Alembic is `MIGRATE_TEST_ALEMBIC` when set, else the one pinned in
//! `tests/alembic/requirements.txt`, installed into `target/venv-alembic` from PyPI when it is
//! not there yet; without it the tests fail, they never skip.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use migrate_runtime::catalog::{Options, Schema};
use migrate_runtime::testkit;

use super::{Fixture, stderr, workspace};

/// `MIGRATE_TEST_ALEMBIC`, else the Alembic pinned in `tests/alembic/requirements.txt`,
/// installed from PyPI into `target/venv-alembic` the first time (as `.ci/run` does); a
/// failing install fails the tests.
pub fn alembic() -> PathBuf {
    if let Some(path) = std::env::var_os("MIGRATE_TEST_ALEMBIC") {
        let path = PathBuf::from(path);
        assert!(path.is_file(), "MIGRATE_TEST_ALEMBIC names no program: {}", path.display());
        return path;
    }
    static INSTALLED: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            let venv = workspace().join("target/venv-alembic");
            let program = venv.join("bin/alembic");
            if program.is_file() {
                return program;
            }
            let requirements = workspace().join("tests/alembic/requirements.txt");
            let steps: [(&str, Vec<&std::ffi::OsStr>); 2] = [
                ("python3", vec!["-m".as_ref(), "venv".as_ref(), venv.as_os_str()]),
                (
                    "pip",
                    vec!["install".as_ref(), "--quiet".as_ref(), "-r".as_ref(), requirements.as_os_str()],
                ),
            ];
            for (name, args) in steps {
                let program = if name == "pip" { venv.join("bin/pip") } else { PathBuf::from(name) };
                let output = Command::new(&program)
                    .args(&args)
                    .output()
                    .unwrap_or_else(|e| panic!("cannot run {} to install Alembic: {e}", program.display()));
                assert!(
                    output.status.success(),
                    "installing Alembic into {} failed ({}): {}",
                    venv.display(),
                    program.display(),
                    String::from_utf8_lossy(&output.stderr)
                );
            }
            assert!(program.is_file(), "no alembic program at {} after installing it", program.display());
            program
        })
        .clone()
}

/// A copy of `tests/alembic` in a temporary folder, with `edits` (path, text) written over it:
/// Alembic runs in the copy, so the tests may break it and leave nothing behind in the source.
pub fn project(test: &str, edits: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("migrate-cli-alembic-project-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let source = workspace().join("tests").join("alembic");
    let mut folders = vec![PathBuf::new()];
    while let Some(folder) = folders.pop() {
        std::fs::create_dir_all(dir.join(&folder)).expect("creates");
        for entry in std::fs::read_dir(source.join(&folder)).expect("reads the Alembic project").flatten() {
            let name = folder.join(entry.file_name());
            if entry.path().is_dir() {
                if entry.file_name() != "__pycache__" {
                    folders.push(name);
                }
            } else {
                std::fs::copy(entry.path(), dir.join(&name)).expect("copies");
            }
        }
    }
    for (path, text) in edits {
        std::fs::write(dir.join(path), text).expect("writes");
    }
    dir
}

/// Runs Alembic in `project` against the database `url`, whatever the outcome.
pub fn alembic_output(project: &Path, url: &str, args: &[&str]) -> Output {
    Command::new(alembic())
        .args(["-c", "alembic.ini"])
        .args(args)
        .current_dir(project)
        .env("ALEMBIC_DATABASE_URL", url)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("runs alembic")
}

/// Runs Alembic in `project` against the database `url`; it must succeed.
pub fn run_alembic(project: &Path, url: &str, args: &[&str]) -> Output {
    let output = alembic_output(project, url, args);
    assert!(output.status.success(), "alembic {args:?}: {}", stderr(&output));
    output
}

/// `cargo migrate import --from alembic <project>` with the pinned Alembic, and `more`.
pub fn import(fixture: &Fixture, project: &Path, more: &[&str]) -> Output {
    let alembic = alembic();
    let mut args = vec!["import", "--from", "alembic", project.to_str().expect("UTF-8")];
    if more.is_empty() {
        args.extend(["--alembic", alembic.to_str().expect("UTF-8")]);
    }
    args.extend(more);
    fixture.run(&args)
}

/// The schema of database `url` through the project's schema model, the version tables left out.
pub fn schema(url: &str) -> Schema {
    let mut client = testkit::client(url).expect("connects");
    let runner = migrate_runtime::TableNames::default();
    Schema::read(&mut client, &Options::new().ignore_runner_tables(&runner)).expect("reads the catalog")
}

/// The rows of `alembic_version`, sorted; none when the table does not exist.
pub fn version_rows(url: &str) -> Vec<String> {
    let mut client = testkit::client(url).expect("connects");
    let exists: bool = client
        .query_one("SELECT to_regclass('public.alembic_version') IS NOT NULL", &[])
        .expect("looks for alembic_version")
        .get(0);
    if !exists {
        return Vec::new();
    }
    let mut rows: Vec<String> = client
        .query("SELECT version_num FROM alembic_version", &[])
        .expect("reads alembic_version")
        .iter()
        .map(|row| row.get(0))
        .collect();
    rows.sort();
    rows
}
