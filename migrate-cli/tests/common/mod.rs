//! The fixture crates of the CLI tests: made in temporary folders, as a user's crate is made.

// Helpers panic on setup failures, as the tests themselves do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub mod alembic;

/// A crate depending on the workspace's migrate-runtime and migrate-build, with the given
/// migration files; removed when dropped.
pub struct Fixture {
    /// The crate's folder.
    pub dir: PathBuf,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The target folder the fixtures share.
fn target_dir() -> PathBuf {
    workspace().join("target").join("tests").join("cli")
}

/// The workspace's root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").canonicalize().expect("the workspace")
}

impl Fixture {
    /// Makes the crate, with `files` in its migrations folder.
    pub fn new(test: &str, files: &[(String, String)]) -> Fixture {
        let dir = std::env::temp_dir().join(format!("migrate-cli-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("src")).expect("creates");
        let workspace = workspace();
        std::fs::write(
            dir.join("Cargo.toml"),
            format!(
                "[package]\nname = \"cli-fixture\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[dependencies]\nmigrate-runtime = {{ path = {:?} }}\n\n[build-dependencies]\nmigrate-build = {{ path = {:?} }}\n\n[workspace]\n",
                workspace.join("migrate-runtime").display().to_string(),
                workspace.join("build-support").display().to_string()
            ),
        )
        .expect("writes");
        std::fs::copy(workspace.join("Cargo.lock"), dir.join("Cargo.lock")).expect("copies the lock file");
        std::fs::write(dir.join("build.rs"), "fn main() { migrate_build::compile(); }\n").expect("writes");
        std::fs::write(
            dir.join("src/main.rs"),
            "static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!();\nfn main() { println!(\"{}\", MIGRATIONS.len()); }\n",
        )
        .expect("writes");
        if !files.is_empty() {
            std::fs::create_dir_all(dir.join("migrations")).expect("creates");
        }
        for (name, text) in files {
            std::fs::write(dir.join("migrations").join(name), text).expect("writes");
        }
        Fixture { dir }
    }

    /// `cargo migrate <args>` in the crate, without `DATABASE_URL`.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_cargo-migrate"));
        command
            .arg("migrate")
            .args(args)
            .current_dir(&self.dir)
            // The migrator's dependencies are built once for every fixture.
            .env("CARGO_TARGET_DIR", target_dir())
            .env_remove("DATABASE_URL");
        command
    }

    /// Runs `cargo migrate <args>` in the crate.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("runs cargo-migrate")
    }

    /// Runs `cargo <args>` in the crate, with the fixtures' target folder.
    pub fn cargo(&self, args: &[&str]) -> Output {
        Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .args(args)
            .current_dir(&self.dir)
            .env("CARGO_TARGET_DIR", target_dir())
            .output()
            .expect("runs cargo")
    }

    /// The migrator `cargo migrate` built for the crate, once a database command ran: the
    /// binary whose embedded command line runs the database commands.
    pub fn migrator(&self) -> Option<PathBuf> {
        let dir = self.dir.canonicalize().expect("the crate's folder");
        let migrators = std::fs::read_dir(target_dir().join("migrate")).ok()?;
        let own = migrators.flatten().map(|e| e.path()).find(|m| {
            std::fs::read_to_string(m.join("build.rs"))
                .is_ok_and(|text| text.contains(&format!("{:?}", dir.display().to_string())))
        })?;
        let binary = std::fs::read_to_string(own.join("binary")).ok()?;
        Some(PathBuf::from(binary.trim_end()))
    }

    /// The names in the migrations folder, sorted.
    pub fn migrations(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.dir.join("migrations"))
            .map(|entries| entries.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        names.sort();
        names
    }

    /// A file of the migrations folder.
    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join("migrations").join(name)).expect("reads")
    }
}

/// A migration file (its name and text) whose upgrade is `upgrade` and downgrade `downgrade`
/// (statements on `op`), after `parent`.
pub fn migration(
    stamp: &str,
    rev: &str,
    parent: Option<&str>,
    slug: &str,
    upgrade: &str,
    downgrade: &str,
) -> (String, String) {
    let down = parent.map_or_else(|| "None".to_owned(), |p| format!("\"{p}\""));
    let text = format!(
        "/// Why: {slug}.\n#[migration(rev = \"{rev}\", down_revision = {down})]\nmod {slug} {{\n    use migrate_runtime::prelude::*;\n\n    pub fn upgrade(op: &mut Op) {{\n        {upgrade}\n    }}\n\n    pub fn downgrade(op: &mut Op) {{\n        {downgrade}\n    }}\n}}\n"
    );
    (format!("{stamp}_{rev}_{slug}.rs"), text)
}

/// A migration file (its name and text) creating the table its slug names
/// (`add_notes_table`: `notes`) and dropping it again, after `parents`, with its doc comment
/// `why` and `more` attribute arguments after `down_revision`.
pub fn table_migration(
    stamp: &str,
    rev: &str,
    parents: &[&str],
    slug: &str,
    why: &str,
    more: &str,
) -> (String, String) {
    let down = match parents {
        [] => "None".to_owned(),
        [one] => format!("\"{one}\""),
        many => format!("[{}]", many.iter().map(|p| format!("\"{p}\"")).collect::<Vec<_>>().join(", ")),
    };
    let table = slug.trim_start_matches("add_").trim_end_matches("_table");
    let text = format!(
        "/// {why}\n#[migration(rev = \"{rev}\", down_revision = {down}{more})]\nmod {slug} {{\n    use migrate_runtime::prelude::*;\n\n    pub fn upgrade(op: &mut Op) {{\n        op.create_table(\"{table}\", |t| {{\n            t.column(\"id\", Type::BigInt).identity().primary_key();\n        }});\n    }}\n\n    pub fn downgrade(op: &mut Op) {{\n        op.drop_table(\"{table}\");\n    }}\n}}\n"
    );
    (format!("{stamp}_{rev}_{slug}.rs"), text)
}

/// Standard output, as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Standard error, as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A PostgreSQL client program: from `pg_config --bindir`, where the server's own binaries
/// are, else from `PATH`.
pub fn pg_program(name: &str) -> PathBuf {
    let bindir = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    bindir.map(|dir| dir.join(name)).filter(|p| p.is_file()).unwrap_or_else(|| PathBuf::from(name))
}

/// The schema of `url` as `pg_dump --schema-only` prints it, without the `without` tables and
/// without the random key of its `\restrict` lines: a judge independent of the schema model.
pub fn dump_schema(url: &str, without: &[&str]) -> String {
    let mut command = Command::new(pg_program("pg_dump"));
    command.args(["--schema-only", "--no-owner", "-d", url]);
    for table in without {
        command.args(["-T", table]);
    }
    let output = command.output().expect("runs pg_dump");
    assert!(output.status.success(), "pg_dump: {}", stderr(&output));
    stdout(&output)
        .lines()
        .filter(|l| !l.starts_with("\\restrict") && !l.starts_with("\\unrestrict"))
        .collect::<Vec<_>>()
        .join("\n")
}
