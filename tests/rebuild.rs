//! A crate made as the README says rebuilds whenever a migration file is added, edited,
//! renamed or deleted, with no extra setup (sqlx and refinery miss new files).
//!
//! The test writes a small crate under `target/tests/rebuild`, builds it with cargo, and
//! runs it after each change of its migrations folder; the binary prints its embedded chain.

use std::path::{Path, PathBuf};
use std::process::Command;

struct Fixture {
    dir: PathBuf,
    target: PathBuf,
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn migration(stamp: &str, rev: &str, parent: Option<&str>, slug: &str, why: &str) -> (String, String) {
    let down = parent.map_or("None".to_owned(), |p| format!("\"{p}\""));
    let text = format!(
        "/// {why}\n#[migration(rev = \"{rev}\", down_revision = {down})]\nmod {slug} {{\n    use migrate_runtime::prelude::*;\n\n    pub fn upgrade(op: &mut Op) {{\n        op.execute(\"SELECT 1\");\n    }}\n\n    pub fn downgrade(op: &mut Op) {{\n        op.execute(\"SELECT 2\");\n    }}\n}}\n"
    );
    (format!("{stamp}_{rev}_{slug}.rs"), text)
}

impl Fixture {
    fn new() -> Fixture {
        let root = workspace().join("target").join("tests").join("rebuild");
        let dir = root.join("crate");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("src")).expect("creates the crate");
        std::fs::create_dir_all(dir.join("migrations")).expect("creates the folder");
        let runtime = workspace().join("migrate-runtime");
        let build = workspace().join("build-support");
        std::fs::write(
            dir.join("Cargo.toml"),
            format!(
                "[package]\nname = \"rebuild-fixture\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[dependencies]\nmigrate-runtime = {{ path = {:?} }}\n\n[build-dependencies]\nmigrate-build = {{ path = {:?} }}\n\n[workspace]\n",
                runtime.display().to_string(),
                build.display().to_string()
            ),
        )
        .expect("writes Cargo.toml");
        std::fs::copy(workspace().join("Cargo.lock"), dir.join("Cargo.lock")).expect("copies the lock file");
        std::fs::write(dir.join("build.rs"), "fn main() { migrate_build::compile(); }\n")
            .expect("writes build.rs");
        std::fs::write(
            dir.join("src/main.rs"),
            "static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!();\n\nfn main() {\n    for m in &MIGRATIONS {\n        println!(\"{} {} {}\", m.rev, m.file, m.why);\n    }\n}\n",
        )
        .expect("writes main.rs");
        Fixture { dir, target: root.join("target") }
    }

    fn write(&self, (name, text): &(String, String)) {
        std::fs::write(self.dir.join("migrations").join(name), text).expect("writes a migration");
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join("migrations").join(name)
    }

    /// Builds with cargo, as a user would, and runs the binary.
    fn run(&self) -> Vec<String> {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--quiet", "--offline"])
            .current_dir(&self.dir)
            .env("CARGO_TARGET_DIR", &self.target)
            .env_remove("RUSTFLAGS")
            .status()
            .expect("runs cargo");
        assert!(status.success(), "cargo build failed");
        let output =
            Command::new(self.target.join("debug").join("rebuild-fixture")).output().expect("runs the crate");
        String::from_utf8_lossy(&output.stdout).lines().map(str::to_owned).collect()
    }
}

fn main() {
    let fixture = Fixture::new();
    let first = migration("20241021_0900", "a1b2c3d4e5f6", None, "add_people_table", "People first.");
    let second = migration(
        "20241022_0900",
        "b2c3d4e5f6a1",
        Some("a1b2c3d4e5f6"),
        "add_interactions_table",
        "Then interactions.",
    );
    fixture.write(&first);
    fixture.write(&second);
    let revs = |lines: &[String]| lines.iter().map(|l| l[..12].to_owned()).collect::<Vec<_>>();
    assert_eq!(revs(&fixture.run()), ["a1b2c3d4e5f6", "b2c3d4e5f6a1"]);

    // Added.
    let third = migration(
        "20241023_0900",
        "c3d4e5f6a1b2",
        Some("b2c3d4e5f6a1"),
        "add_email_campaigns_table",
        "Then campaigns.",
    );
    fixture.write(&third);
    assert_eq!(revs(&fixture.run()), ["a1b2c3d4e5f6", "b2c3d4e5f6a1", "c3d4e5f6a1b2"]);

    // Edited.
    let edited = (third.0.clone(), third.1.replace("Then campaigns.", "Marketing sends campaigns."));
    fixture.write(&edited);
    let lines = fixture.run();
    assert!(lines[2].ends_with("Marketing sends campaigns."), "{lines:?}");

    // Renamed: a new date in the file name.
    let renamed = third.0.replace("20241023_0900", "20241024_1000");
    std::fs::rename(fixture.path(&third.0), fixture.path(&renamed)).expect("renames");
    let lines = fixture.run();
    assert!(lines[2].contains("migrations/20241024_1000_c3d4e5f6a1b2"), "{lines:?}");

    // Deleted.
    std::fs::remove_file(fixture.path(&renamed)).expect("deletes");
    assert_eq!(revs(&fixture.run()), ["a1b2c3d4e5f6", "b2c3d4e5f6a1"]);
    println!("test rebuild ... ok: added, edited, renamed and deleted migrations were all picked up");
}
