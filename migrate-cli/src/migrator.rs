//! The database commands: a migrator binary built from the crate's migrations folder itself
//! (possible because migrations import only the prelude), cached under the crate's `target/`,
//! running the embedded command line of `migrate_runtime::cli` with the same arguments.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use cargo_metadata::{DependencyKind, Metadata, MetadataCommand, Package};

use crate::project::Project;

/// How the migrator depends on a crate the project (`root`) depends on: the same path, or the
/// same version.
fn dependency(metadata: &Metadata, root: &Package, name: &str, project: &Project) -> Result<String> {
    let declared = root.dependencies.iter().any(|d| {
        d.name == name
            && matches!(d.kind, DependencyKind::Normal | DependencyKind::Build | DependencyKind::Development)
    });
    let package: Option<&Package> = metadata.packages.iter().find(|p| p.name.as_str() == name);
    match (declared, package) {
        (true, Some(package)) => Ok(match &package.source {
            None => format!(
                "{{ path = {:?} }}",
                package.manifest_path.parent().map_or(String::new(), |p| p.to_string())
            ),
            Some(_) => format!("{{ version = \"={}\" }}", package.version),
        }),
        _ => bail!(
            "`{}` does not depend on `{name}`\n= help: add migrate-runtime under [dependencies] and migrate-build under \
             [build-dependencies], as the README shows",
            project.manifest.display()
        ),
    }
}

fn write_if_changed(path: &Path, text: &str) -> Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    std::fs::write(path, text).with_context(|| format!("cannot write `{}`", path.display()))
}

/// Builds (or finds built) the migrator of `project`; returns its binary.
fn build(project: &Project) -> Result<PathBuf> {
    let metadata = MetadataCommand::new()
        .manifest_path(&project.manifest)
        .exec()
        .context("cannot read the crate with `cargo metadata`")?;
    let root = metadata
        .packages
        .iter()
        .find(|p| p.manifest_path.as_std_path() == project.manifest)
        .context("cargo metadata does not list this crate")?;
    let runtime = dependency(&metadata, root, "migrate-runtime", project)?;
    let build = dependency(&metadata, root, "migrate-build", project)?;
    let mut hasher = DefaultHasher::new();
    project.dir.hash(&mut hasher);
    let root = metadata.target_directory.as_std_path().join("migrate");
    // A package name of its own per crate: migrators share one target folder, and a shared
    // name would share their build script's output and their binary between crates.
    let name = format!("migrate-migrator-{:016x}", hasher.finish());
    let dir = root.join(&name);
    std::fs::create_dir_all(dir.join("src")).with_context(|| format!("cannot create `{}`", dir.display()))?;
    let runtime = runtime.replacen('{', "{ features = [\"cli\"],", 1);
    write_if_changed(
        &dir.join("Cargo.toml"),
        &format!(
            "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\nmigrate-runtime = {runtime}\n\n[build-dependencies]\nmigrate-build = {build}\n\n[workspace]\n"
        ),
    )?;
    write_if_changed(
        &dir.join("build.rs"),
        &format!(
            "fn main() {{\n    migrate_build::Build::new().for_crate({:?}).compile();\n}}\n",
            project.dir.display().to_string()
        ),
    )?;
    write_if_changed(
        &dir.join("src/main.rs"),
        "static MIGRATIONS: migrate_runtime::Chain = migrate_runtime::embed_migrations!();\n\n\
         fn main() -> std::process::ExitCode {\n    migrate_runtime::cli::run(&MIGRATIONS)\n}\n",
    )?;
    let lock = metadata.workspace_root.as_std_path().join("Cargo.lock");
    if lock.is_file() && !dir.join("Cargo.lock").is_file() {
        std::fs::copy(&lock, dir.join("Cargo.lock")).context("cannot copy Cargo.lock")?;
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--quiet"])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", root.join("target"))
        .env_remove("CARGO_MANIFEST_DIR")
        .status()
        .context("cannot run cargo to build the migrator")?;
    if !status.success() {
        bail!("the migrations do not compile (the errors are above): fix them, then run the command again");
    }
    Ok(root.join("target").join("debug").join(name))
}

/// Runs a database command through the migrator; returns its exit code. The database URL
/// goes in the migrator's environment, never on its command line, where every user of the
/// machine could read it.
pub(crate) fn run(project: &Project, args: &[String], database_url: Option<&str>) -> Result<u8> {
    let binary = build(project)?;
    let mut command = Command::new(&binary);
    command.args(args);
    if let Some(url) = database_url {
        command.env("DATABASE_URL", url);
    }
    let status = command.status().with_context(|| format!("cannot run `{}`", binary.display()))?;
    Ok(status.code().and_then(|c| u8::try_from(c).ok()).unwrap_or(3))
}
