//! The units `cargo build` builds for the crate, as `cargo tree` prints them: each package
//! with the features it is built with, for the target or for the host (build scripts, proc
//! macros and what they use), which resolver 2 resolves apart. `cargo metadata` gives only
//! the union of every use (dev-dependencies and the other side included), which would make
//! the migrator ask for features the crate's build did not use, and so rebuild.

use std::collections::{BTreeMap, BTreeSet};

/// Where a package comes from, as far as the migrator needs to name it again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    /// crates.io (`cargo tree` prints no source for it).
    CratesIo,
    /// A folder.
    Path(String),
    /// Another registry, or git: not pinned.
    Other(String),
}

/// A package as one side of the build uses it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Unit {
    /// The package's name.
    pub(crate) name: String,
    /// Its version.
    pub(crate) version: String,
    /// Where it comes from.
    pub(crate) source: Source,
    /// The features it is built with.
    pub(crate) features: Vec<String>,
    /// Built for the host: a proc macro, a build dependency, or something one of them uses.
    pub(crate) host: bool,
}

/// A unit's identity: the package, and the side it is built for.
type Key = (String, String, String, bool);

/// The crate's units and what each uses.
#[derive(Debug, Default)]
pub(crate) struct Tree {
    units: BTreeMap<Key, Unit>,
    children: BTreeMap<Key, BTreeSet<Key>>,
}

/// What the dependencies that follow a header are.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Normal,
    Build,
    Dev,
}

/// The characters of `cargo tree --charset ascii`'s indentation.
fn is_indent(c: char) -> bool {
    matches!(c, ' ' | '|' | '`' | '-')
}

/// `name vX.Y.Z (proc-macro) (source) [features]`, from `--format "{p} [{f}]"`.
fn unit(text: &str) -> Option<(Unit, bool)> {
    let text = text.strip_suffix(" (*)").unwrap_or(text);
    let (head, features) = text.rsplit_once(" [")?;
    let features = features.strip_suffix(']')?;
    let mut words = head.splitn(3, ' ');
    let name = words.next()?.to_owned();
    let version = words.next()?.strip_prefix('v')?.to_owned();
    let mut rest = words.next().unwrap_or("").trim();
    let proc_macro = rest.starts_with("(proc-macro)");
    if proc_macro {
        rest = rest.trim_start_matches("(proc-macro)").trim();
    }
    let source = match rest.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        None => Source::CratesIo,
        Some(path) if std::path::Path::new(path).is_absolute() => Source::Path(path.to_owned()),
        Some(other) => Source::Other(other.to_owned()),
    };
    let features = features.split(',').filter(|f| !f.is_empty()).map(str::to_owned).collect();
    Some((Unit { name, version, source, features, host: false }, proc_macro))
}

fn key(unit: &Unit) -> Key {
    let source = match &unit.source {
        Source::CratesIo => String::new(),
        Source::Path(s) | Source::Other(s) => s.clone(),
    };
    (unit.name.clone(), unit.version.clone(), source, unit.host)
}

impl Tree {
    /// Reads the output of `cargo tree -e normal,build --charset ascii --format "{p} [{f}]"`.
    pub(crate) fn parse(text: &str) -> Tree {
        let mut tree = Tree::default();
        // The unit at each depth of the current path; None under a dev-dependency.
        let mut path: Vec<Option<Key>> = Vec::new();
        // The kind of dependency at each depth, as the last header said.
        let mut sections: Vec<Section> = vec![Section::Normal];
        for line in text.lines() {
            let indent = line.chars().take_while(|&c| is_indent(c)).count();
            let rest = &line[indent..];
            if rest.is_empty() {
                continue;
            }
            if rest.starts_with('[') {
                let level = indent / 4 + 1;
                sections.truncate(level);
                sections.resize(level, Section::Normal);
                sections.push(match rest {
                    "[build-dependencies]" => Section::Build,
                    "[dev-dependencies]" => Section::Dev,
                    _ => Section::Normal,
                });
                continue;
            }
            let depth = indent / 4;
            let Some((mut unit, proc_macro)) = unit(rest) else {
                continue;
            };
            path.truncate(depth);
            sections.truncate(depth + 1);
            sections.resize(depth + 1, Section::Normal);
            let section = sections[depth];
            sections.push(Section::Normal);
            let parent = match depth {
                0 => None,
                _ => match path.last() {
                    Some(Some(parent)) => Some(parent.clone()),
                    // Under a dev-dependency, or a line out of place.
                    _ => {
                        path.push(None);
                        continue;
                    }
                },
            };
            if depth > 0 && section == Section::Dev {
                path.push(None);
                continue;
            }
            unit.host = proc_macro || section == Section::Build || parent.as_ref().is_some_and(|p| p.3);
            let key = key(&unit);
            if let Some(parent) = parent {
                tree.children.entry(parent).or_default().insert(key.clone());
            }
            tree.units.entry(key.clone()).or_insert(unit);
            path.push(Some(key));
        }
        tree
    }

    /// Every unit of a package of `seeds` on its side (true for the host), and every unit
    /// they use, directly or not; each once.
    pub(crate) fn reachable(&self, seeds: &[(&str, bool)]) -> Vec<&Unit> {
        let mut seen: BTreeSet<&Key> = BTreeSet::new();
        let mut queue: Vec<&Key> = self
            .units
            .keys()
            .filter(|k| seeds.iter().any(|&(name, host)| k.0 == name && k.3 == host))
            .collect();
        while let Some(key) = queue.pop() {
            if seen.insert(key) {
                queue.extend(self.children.get(key).into_iter().flatten());
            }
        }
        seen.into_iter().filter_map(|k| self.units.get(k)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TREE: &str = "\
app v0.1.0 (/work/app) []
|-- migrate-runtime v0.1.0 (/work/migrate/migrate-runtime) [cli,testkit]
|   |-- migrate-core v0.1.0 (/work/migrate/migrate-core) []
|   |-- migrate-macros v0.1.0 (proc-macro) (/work/migrate/migrate-macros) []
|   |   |-- migrate-core v0.1.0 (/work/migrate/migrate-core) [syntax]
|   |   `-- proc-macro2 v1.0.107 [default,proc-macro]
|   `-- tokio v1.54.1 [default,rt]
|       `-- libc v0.2.191 [default,std]
|-- serde_json v1.0.154 [default,std]
|   `-- serde_core v1.0.229 [std]
`-- tokio v1.54.1 [default,rt] (*)
[build-dependencies]
`-- migrate-build v0.1.0 (/work/migrate/build-support) []
    |-- migrate-core v0.1.0 (/work/migrate/migrate-core) [syntax] (*)
    `-- toml v0.9.12+spec-1.1.0 [parse,serde,std]
        |-- serde_core v1.0.229 [alloc,std]
        `-- git-thing v0.1.0 (https://example.com/git-thing?branch=main#0123abcd) []
[dev-dependencies]
`-- tokio v1.54.1 [default,macros,rt]
";

    fn names(units: &[&Unit]) -> Vec<String> {
        let mut names: Vec<String> = units
            .iter()
            .map(|u| {
                format!(
                    "{} {}{} [{}]",
                    u.name,
                    u.version,
                    if u.host { " host" } else { "" },
                    u.features.join(",")
                )
            })
            .collect();
        names.sort();
        names
    }

    #[test]
    fn sides_and_features_are_those_of_the_build() {
        let tree = Tree::parse(TREE);
        assert_eq!(
            names(&tree.reachable(&[("migrate-runtime", false)])),
            [
                "libc 0.2.191 [default,std]",
                "migrate-core 0.1.0 []",
                "migrate-core 0.1.0 host [syntax]",
                "migrate-macros 0.1.0 host []",
                "migrate-runtime 0.1.0 [cli,testkit]",
                "proc-macro2 1.0.107 host [default,proc-macro]",
                "tokio 1.54.1 [default,rt]",
            ]
        );
        let build = tree.reachable(&[("migrate-build", true)]);
        assert_eq!(
            names(&build),
            [
                "git-thing 0.1.0 host []",
                "migrate-build 0.1.0 host []",
                "migrate-core 0.1.0 host [syntax]",
                "serde_core 1.0.229 host [alloc,std]",
                "toml 0.9.12+spec-1.1.0 host [parse,serde,std]",
            ]
        );
        let git = build.iter().find(|u| u.name == "git-thing").map(|u| u.source.clone());
        assert_eq!(git, Some(Source::Other("https://example.com/git-thing?branch=main#0123abcd".to_owned())));
        let both = tree.reachable(&[("migrate-runtime", false), ("migrate-build", true)]);
        assert_eq!(both.iter().filter(|u| u.name == "migrate-core").count(), 2, "each unit once");
        let runtime = tree.reachable(&[("migrate-runtime", false)]);
        let core = runtime.iter().find(|u| u.name == "migrate-core" && !u.host).map(|u| u.source.clone());
        assert_eq!(core, Some(Source::Path("/work/migrate/migrate-core".to_owned())));
        // The dev-dependency's features are not the build's.
        assert!(tree.units.values().all(|u| !u.features.contains(&"macros".to_owned())));
    }
}
