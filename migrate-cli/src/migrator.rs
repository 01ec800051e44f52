//! The database commands: a migrator binary built from the crate's migrations folder itself
//! (possible because migrations import only the prelude), running the embedded command line of
//! `migrate_runtime::cli` with the arguments `cargo migrate` was given.
//!
//! The migrator is built in the crate's own target folder, from the crate's Cargo.lock and
//! `[profile]` settings, and it asks for every package it shares with the crate's build at the
//! same version, with the same features, for the same side (target or host), as `cargo tree`
//! shows the crate's build: cargo reuses a unit only when all of these match, so the first
//! command compiles the migrator and what the crate itself does not use (clap, when the crate
//! has no `cli` feature), not a second copy of postgres and tokio. Its files live in
//! `target/migrate/<its package name>/`, written again only when the crate's manifests or
//! Cargo.lock change; each crate's migrator has a package name of its own.

use std::collections::BTreeSet;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::{BufRead as _, BufReader, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use cargo_metadata::{Dependency, DependencyKind, Message, Metadata, MetadataCommand, Package};
use migrate_runtime::cli::Exit;
use toml::{Table, Value};

use crate::project::Project;
use crate::tree::{Source, Tree, Unit};

/// Changes when the generated files change shape, so that older ones are written again.
const GENERATION: &str = "2";

/// The migrator's files, in its folder.
const GENERATED: [&str; 3] = ["Cargo.toml", "build.rs", "src/main.rs"];

/// Runs a database command through the migrator. The database URL (and the dev server's, for
/// `check --db`) goes in the migrator's environment, never on its command line, where every
/// user of the machine could read it.
pub(crate) fn run(
    project: &Project,
    args: &[String],
    database_url: Option<&str>,
    dev_url: Option<&str>,
) -> Result<Exit> {
    let (command, binary) = command(project, args, database_url, dev_url)?;
    exec(command, &binary)
}

/// The migrator (built first if need be) with `args`, and the database URL and the dev
/// server's in its environment.
fn command(
    project: &Project,
    args: &[String],
    database_url: Option<&str>,
    dev_url: Option<&str>,
) -> Result<(Command, PathBuf)> {
    let binary = build(project)?;
    let mut command = Command::new(&binary);
    command.args(args);
    if let Some(url) = database_url {
        command.env("DATABASE_URL", url);
    }
    if let Some(url) = dev_url {
        command.env("MIGRATE_DEV_URL", url);
    }
    Ok((command, binary))
}

/// Runs a database command through the migrator as a child, for a command of `cargo migrate`'s
/// own that goes on after it (`check` checking the schema file); its stdout goes to stderr
/// when `stdout_to_stderr` (stdout holds JSON). Returns its exit.
pub(crate) fn run_child(
    project: &Project,
    args: &[String],
    database_url: Option<&str>,
    stdout_to_stderr: bool,
) -> Result<Exit> {
    let (mut command, binary) = command(project, args, database_url, None)?;
    let _ = std::io::stdout().flush();
    let status = if stdout_to_stderr {
        // Its output is passed on to stderr once it ends (it is short: a check's verdict).
        let output = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .output()
            .with_context(|| format!("cannot run `{}`", binary.display()))?;
        std::io::stderr().write_all(&output.stdout).context("cannot write to stderr")?;
        output.status
    } else {
        command.status().with_context(|| format!("cannot run `{}`", binary.display()))?
    };
    Ok(exit_of(status))
}

/// The exit a finished migrator's status stands for.
fn exit_of(status: std::process::ExitStatus) -> Exit {
    match status.code() {
        Some(0) => Exit::Done,
        Some(1) => Exit::CheckFailed,
        Some(2) => Exit::Usage,
        Some(code @ 129..=255) => Exit::Interrupted(u8::try_from(code - 128).unwrap_or(0)),
        _ => Exit::Failed,
    }
}

/// The migrator takes this process's place: Ctrl-C and SIGTERM reach it alone, which stops
/// its run cleanly and says where the database stands, and its exit code is the command's.
#[cfg(unix)]
fn exec(mut command: Command, binary: &Path) -> Result<Exit> {
    use std::os::unix::process::CommandExt as _;
    let error = command.exec();
    Err(error).with_context(|| format!("cannot run `{}`", binary.display()))
}

/// Without `exec`, the migrator runs as a child, whose exit code is the command's.
#[cfg(not(unix))]
fn exec(mut command: Command, binary: &Path) -> Result<Exit> {
    let status = command.status().with_context(|| format!("cannot run `{}`", binary.display()))?;
    Ok(exit_of(status))
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    // Set when this runs under cargo (`cargo test`): it would name another package.
    command.env_remove("CARGO_MANIFEST_DIR");
    command
}

fn say(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

fn write_if_changed(path: &Path, text: &str) -> Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    std::fs::write(path, text).with_context(|| format!("cannot write `{}`", path.display()))
}

/// The crate's workspace, without its dependencies: `cargo metadata --no-deps` answers in a
/// few milliseconds, where resolving the graph takes a tenth of a second on every command.
fn metadata(project: &Project) -> Result<(Metadata, String)> {
    let mut command = MetadataCommand::new();
    command.manifest_path(&project.manifest).no_deps();
    let output = command
        .cargo_command()
        .env_remove("CARGO_MANIFEST_DIR")
        .stderr(Stdio::inherit())
        .output()
        .context("cannot run `cargo metadata`")?;
    if !output.status.success() {
        bail!("cannot read the crate with `cargo metadata` (its error is above)");
    }
    let raw =
        String::from_utf8(output.stdout).context("`cargo metadata` printed something that is not UTF-8")?;
    let metadata = MetadataCommand::parse(&raw).context("cannot read what `cargo metadata` printed")?;
    Ok((metadata, raw))
}

/// How the crate (`root`) declares `name`.
fn declaration<'m>(root: &'m Package, name: &str, project: &Project) -> Result<&'m Dependency> {
    let found = root.dependencies.iter().find(|d| {
        d.name == name
            && matches!(d.kind, DependencyKind::Normal | DependencyKind::Build | DependencyKind::Development)
    });
    match found {
        Some(dependency) => Ok(dependency),
        None => bail!(
            "`{}` does not depend on `{name}`\n= help: add migrate-runtime under [dependencies] and migrate-build under \
             [build-dependencies], as the README shows",
            project.manifest.display()
        ),
    }
}

/// The migrator of `project`, built when it is not yet or a migration changed.
pub(crate) fn binary(project: &Project) -> Result<PathBuf> {
    build(project)
}

/// Builds (or finds built) the migrator of `project`; returns its binary.
fn build(project: &Project) -> Result<PathBuf> {
    let (metadata, raw) = metadata(project)?;
    let root = metadata
        .packages
        .iter()
        .find(|p| p.manifest_path.as_std_path() == project.manifest)
        .context("cargo metadata does not list this crate")?;
    let runtime = declaration(root, "migrate-runtime", project)?;
    let build = declaration(root, "migrate-build", project)?;
    let mut hasher = DefaultHasher::new();
    project.dir.hash(&mut hasher);
    // A package name of its own per crate: migrators share target folders, and a shared name
    // would share their build script's output and their binary between crates.
    let name = format!("migrate-migrator-{:016x}", hasher.finish());
    let target = metadata.target_directory.as_std_path();
    let dir = target.join("migrate").join(&name);
    let workspace_root = metadata.workspace_root.as_std_path();
    let workspace_manifest = workspace_root.join("Cargo.toml");
    let workspace_text = std::fs::read_to_string(&workspace_manifest)
        .with_context(|| format!("cannot read `{}`", workspace_manifest.display()))?;
    let lock = std::fs::read_to_string(workspace_root.join("Cargo.lock")).ok();

    // Written again only when what they are made from changed (the crate's manifests and
    // Cargo.lock, the manifests of the packages in folders it asks for) or they did.
    let inputs = |paths: &[String]| {
        let mut hasher = DefaultHasher::new();
        (GENERATION, env!("CARGO_PKG_VERSION"), &raw, &workspace_text, &lock).hash(&mut hasher);
        for path in paths.iter().map(PathBuf::from).chain(GENERATED.iter().map(|f| dir.join(f))) {
            (&path, std::fs::read_to_string(&path).ok()).hash(&mut hasher);
        }
        format!("{:016x}\n", hasher.finish())
    };
    let paths_file = dir.join("manifests");
    let paths: Vec<String> = std::fs::read_to_string(&paths_file)
        .map(|t| t.lines().map(str::to_owned).collect())
        .unwrap_or_default();
    if std::fs::read_to_string(dir.join("inputs")).ok() != Some(inputs(&paths)) {
        std::fs::create_dir_all(dir.join("src"))
            .with_context(|| format!("cannot create `{}`", dir.display()))?;
        let tree = units(project)?;
        let workspace: Table = workspace_text
            .parse()
            .with_context(|| format!("cannot read `{}`", workspace_manifest.display()))?;
        let (manifest, paths) =
            manifest(&name, &root.name, &tree, runtime, build, workspace_root, &workspace);
        write_if_changed(&dir.join("Cargo.toml"), &manifest)?;
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
        // The crate's versions; cargo adds the migrator and what only it uses.
        if let Some(lock) = &lock {
            write_if_changed(&dir.join("Cargo.lock"), lock)?;
        }
        write_if_changed(&paths_file, &paths.iter().map(|p| format!("{p}\n")).collect::<String>())?;
        write_if_changed(&dir.join("inputs"), &inputs(&paths))?;
    }
    compile(project, &root.name, &name, &dir, &metadata)
}

/// The crate's units, as `cargo build` in its folder builds them.
fn units(project: &Project) -> Result<Tree> {
    let output = cargo()
        .current_dir(&project.dir)
        .arg("tree")
        .arg("--manifest-path")
        .arg(&project.manifest)
        .args(["-e", "normal,build", "--charset", "ascii", "--format", "{p} [{f}]"])
        .output()
        .context("cannot run `cargo tree`")?;
    if !output.status.success() {
        bail!(
            "cannot read the crate's dependencies with `cargo tree`:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(Tree::parse(&String::from_utf8_lossy(&output.stdout)))
}

/// A dependency as the crate declares it: a folder, git, or a registry's version.
fn declared(dependency: &Dependency) -> Table {
    let mut spec = Table::new();
    let source = dependency.source.as_ref().map(|s| s.repr.as_str()).unwrap_or("");
    if let Some(path) = &dependency.path {
        spec.insert("path".into(), path.to_string().into());
    } else if let Some(git) = source.strip_prefix("git+") {
        let git = git.split('#').next().unwrap_or(git);
        let (url, query) = git.split_once('?').unwrap_or((git, ""));
        spec.insert("git".into(), url.into());
        for (key, value) in query.split('&').filter_map(|pair| pair.split_once('=')) {
            if matches!(key, "branch" | "tag" | "rev") {
                spec.insert(key.into(), value.into());
            }
        }
    } else {
        spec.insert("version".into(), dependency.req.to_string().into());
        if let Some(index) = &dependency.registry {
            spec.insert("registry-index".into(), index.clone().into());
        }
    }
    spec
}

/// A package the crate's build uses, asked for exactly as it was built; None for a source
/// that cannot be named again here (another registry, git).
fn pinned(unit: &Unit) -> Option<Table> {
    let mut spec = Table::new();
    spec.insert("package".into(), unit.name.clone().into());
    match &unit.source {
        // Build metadata (`+spec-1.1.0`) is not part of a requirement.
        Source::CratesIo => {
            let version = unit.version.split('+').next().unwrap_or(&unit.version);
            spec.insert("version".into(), format!("={version}").into());
        }
        Source::Path(path) => {
            spec.insert("path".into(), path.clone().into());
        }
        Source::Other(_) => return None,
    }
    Some(spec)
}

fn features(list: impl IntoIterator<Item = String>) -> Value {
    let set: BTreeSet<String> = list.into_iter().collect();
    Value::Array(set.into_iter().map(Value::from).collect())
}

/// The migrator's Cargo.toml, and the manifests of the packages it asks for in folders.
fn manifest(
    name: &str,
    crate_name: &str,
    tree: &Tree,
    runtime: &Dependency,
    build: &Dependency,
    workspace_root: &Path,
    workspace: &Table,
) -> (String, Vec<String>) {
    let mut dependencies = Table::new();
    let mut build_dependencies = Table::new();
    let mut paths = BTreeSet::new();
    for unit in tree.reachable(&[("migrate-runtime", false), ("migrate-build", true)]) {
        let (table, declaration) = match (unit.name.as_str(), unit.host) {
            ("migrate-runtime", false) => (&mut dependencies, Some(runtime)),
            ("migrate-build", true) => (&mut build_dependencies, Some(build)),
            _ if unit.host => (&mut build_dependencies, None),
            _ => (&mut dependencies, None),
        };
        let mut list = unit.features.clone();
        let (key, spec) = match declaration {
            Some(declaration) => {
                if declaration.name == "migrate-runtime" {
                    list.push("cli".into());
                }
                (declaration.name.clone(), declared(declaration))
            }
            None => {
                let Some(spec) = pinned(unit) else {
                    continue;
                };
                let version: String =
                    unit.version.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
                let base = format!("pin-{}-{version}", unit.name);
                let key = (1..)
                    .map(|n| if n == 1 { base.clone() } else { format!("{base}-{n}") })
                    .find(|k| !table.contains_key(k))
                    .unwrap_or(base);
                (key, spec)
            }
        };
        let mut spec = spec;
        if let Some(Value::String(path)) = spec.get("path") {
            paths.insert(Path::new(path).join("Cargo.toml").display().to_string());
        }
        spec.insert("default-features".into(), false.into());
        spec.insert("features".into(), features(list));
        table.insert(key, spec.into());
    }
    // The two the migrator cannot do without, should the tree not show them.
    for (table, declaration, extra) in
        [(&mut dependencies, runtime, Some("cli")), (&mut build_dependencies, build, None)]
    {
        if !table.contains_key(&declaration.name) {
            let mut spec = declared(declaration);
            let mut list = declaration.features.clone();
            list.extend(extra.map(str::to_owned));
            spec.insert("default-features".into(), declaration.uses_default_features.into());
            spec.insert("features".into(), features(list));
            table.insert(declaration.name.clone(), spec.into());
        }
    }

    let mut manifest = Table::new();
    manifest.insert("dependencies".into(), dependencies.into());
    manifest.insert("build-dependencies".into(), build_dependencies.into());
    // The crate's workspace's profiles: a unit built with other settings is another unit.
    if let Some(profile) = workspace.get("profile") {
        manifest.insert("profile".into(), profile.clone());
    }
    // Its patches, with their folders made absolute: they resolve the same versions.
    if let Some(Value::Table(patch)) = workspace.get("patch") {
        let mut patch = patch.clone();
        for (_, specs) in patch.iter_mut() {
            for (_, spec) in specs.as_table_mut().into_iter().flat_map(|t| t.iter_mut()) {
                if let Some(Value::String(path)) = spec.get_mut("path") {
                    let absolute = workspace_root.join(path.as_str()).display().to_string();
                    *path = absolute;
                }
            }
        }
        manifest.insert("patch".into(), patch.into());
    }
    let mut own = Table::new();
    if let Some(resolver) = workspace.get("workspace").and_then(|w| w.get("resolver")) {
        own.insert("resolver".into(), resolver.clone());
    }
    manifest.insert("workspace".into(), own.into());
    let text = toml::to_string(&manifest).unwrap_or_default();
    (
        format!(
            "# The migrator of `{crate_name}`, written by cargo-migrate: each package it shares with the crate's \
             build\n# is asked for as that build uses it, so that cargo reuses what the crate compiled.\n\n\
             [package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n{text}"
        ),
        paths.into_iter().collect(),
    )
}

/// Builds the migrator with cargo, in the crate's folder (its `.cargo/config.toml` applies) and
/// its target folder; returns the binary. Cargo's progress goes to stderr, nothing to stdout.
fn compile(
    project: &Project,
    crate_name: &str,
    name: &str,
    dir: &Path,
    metadata: &Metadata,
) -> Result<PathBuf> {
    let target = metadata.target_directory.as_std_path();
    let recorded = dir.join("binary");
    let first = std::fs::read_to_string(&recorded).map_or(true, |path| !Path::new(path.trim_end()).is_file());
    let mut command = cargo();
    command
        .current_dir(&project.dir)
        .args(["build", "--message-format=json-render-diagnostics", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target)
        .stdout(Stdio::piped());
    if let Some(build_dir) = metadata.build_directory.as_ref().filter(|b| b.as_std_path() != target) {
        command.arg("--config").arg(format!("build.build-dir={}", Value::from(build_dir.to_string())));
    }
    if first {
        say(&format!("building the migrator of `{crate_name}` (first time; later runs reuse it)"));
    } else {
        // Cargo's lines pass through this process, which keeps a run with nothing to build quiet.
        if std::io::stderr().is_terminal() && std::env::var_os("CARGO_TERM_COLOR").is_none() {
            command.arg("--color=always");
        }
        command.stderr(Stdio::piped());
    }
    let mut child = command.spawn().context("cannot run cargo to build the migrator")?;
    let relay = child.stderr.take().map(|stderr| {
        let crate_name = crate_name.to_owned();
        std::thread::spawn(move || relay(stderr, &crate_name))
    });
    let mut executable = None;
    if let Some(stdout) = child.stdout.take() {
        for message in Message::parse_stream(BufReader::new(stdout)).flatten() {
            if let Message::CompilerArtifact(artifact) = message
                && artifact.target.name == name
                && let Some(path) = artifact.executable
            {
                executable = Some(path.into_std_path_buf());
            }
        }
    }
    let status = child.wait().context("cannot wait for cargo")?;
    if let Some(relay) = relay {
        let _ = relay.join();
    }
    if !status.success() {
        bail!(
            "the migrator of `{crate_name}` does not build (cargo's errors are above): fix them, then run the command again"
        );
    }
    let executable = executable.context("cargo built the migrator without saying where it put it")?;
    write_if_changed(&recorded, &executable.display().to_string())?;
    Ok(executable)
}

/// Passes cargo's stderr on, but for the lone `Finished` line of a build with nothing to do;
/// says why it builds when it compiles.
fn relay(stderr: impl std::io::Read, crate_name: &str) {
    let mut reader = BufReader::new(stderr);
    let mut line = Vec::new();
    let mut passed = false;
    let mut announced = false;
    let mut out = std::io::stderr();
    while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
        let text = without_colors(&String::from_utf8_lossy(&line));
        let text = text.trim_start();
        if text.starts_with("Compiling ") && !announced {
            announced = true;
            let _ = writeln!(
                out,
                "rebuilding the migrator of `{crate_name}` (a migration or a dependency changed)"
            );
        }
        if passed || !text.starts_with("Finished ") {
            passed = true;
            let _ = out.write_all(&line);
        }
        line.clear();
    }
}

/// `text` without its terminal escape sequences.
fn without_colors(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colors_are_stripped_to_read_cargo() {
        assert_eq!(without_colors("\u{1b}[1m\u{1b}[32m   Compiling\u{1b}[0m x v1"), "   Compiling x v1");
    }
}
