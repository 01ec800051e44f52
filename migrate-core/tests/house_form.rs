//! Every compile-time rule is done in the house form: its core file with unit tests, a UI
//! pair (`tests/ui/<id>.rs` + `.stderr`) with its fixture folder, a pass case that shows the
//! nearest legal form, and a README row linking both. Read from the files on disk, every
//! missing piece of every rule reported at once.

use std::path::{Path, PathBuf};

use migrate_core::diagnostic::RuleId;

/// Rules whose UI case needs no fixture folder: `missing_manifest` is a crate with no
/// manifest at all, so no migrations folder to hold.
const NO_FIXTURE_FOLDER: &[&str] = &["missing_manifest"];

/// The workspace root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The rows of the table under "## The rules", up to the next section.
fn rule_rows(readme: &str) -> Vec<&str> {
    let Some((_, after)) = readme.split_once("\n## The rules\n") else { return Vec::new() };
    let section = after.split("\n## ").next().unwrap_or(after);
    section.lines().filter(|l| l.starts_with("| `")).collect()
}

/// The leading `//!` lines of a file, joined.
fn leading_doc(text: &str) -> String {
    text.lines().take_while(|l| l.starts_with("//!")).collect::<Vec<_>>().join("\n")
}

/// The targets of the Markdown links in `text` that start with `prefix`.
fn links<'a>(text: &'a str, prefix: &str) -> Vec<&'a str> {
    let opening = format!("]({prefix}");
    text.match_indices(&opening)
        .filter_map(|(at, _)| {
            let target = &text[at + 2..];
            target.find(')').map(|end| &target[..end])
        })
        .collect()
}

/// What `id` lacks of the house form, one line each.
fn missing(id: &str, root: &Path, readme: &str) -> Vec<String> {
    let mut missing = Vec::new();
    let core = format!("migrate-core/src/rules/{id}.rs");
    match std::fs::read_to_string(root.join(&core)) {
        Ok(text) if !(text.contains("#[cfg(test)]") && text.contains("#[test]")) => {
            missing.push(format!("{core} has no unit test (`#[cfg(test)]` with a `#[test]`)"));
        }
        Ok(_) => {}
        Err(_) => missing.push(format!("{core} is missing")),
    }
    for ui in [format!("tests/ui/{id}.rs"), format!("tests/ui/{id}.stderr")] {
        if !root.join(&ui).is_file() {
            missing.push(format!("{ui} is missing"));
        }
    }
    if !NO_FIXTURE_FOLDER.contains(&id) && !root.join(format!("tests/ui/{id}")).is_dir() {
        missing.push(format!("the fixture folder tests/ui/{id}/ is missing"));
    }

    let start = format!("| `{id}` |");
    let Some(row) = rule_rows(readme).into_iter().find(|r| r.starts_with(&start)) else {
        missing.push(format!("README.md has no row `{start}` in the table under \"## The rules\""));
        return missing;
    };
    let last = row.trim_end().strip_suffix('|').and_then(|r| r.rsplit_once('|')).map_or("", |(_, c)| c);
    let stderr = format!("tests/ui/{id}.stderr");
    if !links(last, "tests/ui/").contains(&stderr.as_str()) {
        missing.push(format!("README.md's `{id}` row does not link {stderr} in its last column"));
    }
    let passes = links(last, "tests/ui/pass/");
    if passes.is_empty() {
        missing.push(format!(
            "README.md's `{id}` row links no pass case tests/ui/pass/<name>.rs in its last column"
        ));
    }
    for pass in passes {
        let Some(folder) = pass.strip_suffix(".rs") else {
            missing.push(format!("README.md's `{id}` row links {pass}, not a pass case `.rs`"));
            continue;
        };
        let Ok(text) = std::fs::read_to_string(root.join(pass)) else {
            missing.push(format!("README.md's `{id}` row links {pass}, which is missing"));
            continue;
        };
        if !root.join(folder).is_dir() {
            missing.push(format!("the pass case {pass} has no fixture folder {folder}/"));
        }
        if !leading_doc(&text).contains(&format!("`{id}`")) {
            missing.push(format!("the leading `//!` doc of {pass} does not name `{id}`"));
        }
    }
    missing
}

#[test]
fn every_rule_has_its_core_file_ui_pair_pass_case_and_readme_row() {
    let root = root();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap_or_default();
    assert!(!readme.is_empty(), "README.md is missing or empty at {}", root.display());
    let missing: Vec<String> =
        RuleId::ALL.iter().flat_map(|rule| missing(rule.as_str(), &root, &readme)).collect();
    assert!(missing.is_empty(), "rules not in the house form:\n- {}", missing.join("\n- "));
}
