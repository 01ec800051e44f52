//! `[package.metadata.migrate]`, read from the crate's Cargo.toml.

use std::path::{Path, PathBuf};

use migrate_core::config::Config;
use migrate_core::id::IdFormat;
use migrate_core::naming::WordLists;
use serde::Deserialize;

use crate::error::Error;

/// The crate's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// The migrations folder, relative to the crate root unless absolute (default `migrations`).
    pub folder: PathBuf,
    /// What the rules read.
    pub config: Config,
}

#[derive(Deserialize)]
struct Manifest {
    package: Option<Package>,
}

#[derive(Deserialize)]
struct Package {
    metadata: Option<Metadata>,
}

#[derive(Deserialize)]
struct Metadata {
    migrate: Option<Migrate>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Migrate {
    folder: Option<PathBuf>,
    id_format: Option<String>,
    allow_multiple_heads: Option<bool>,
    #[serde(default)]
    vague_words: Vec<String>,
    #[serde(default)]
    specific_words: Vec<String>,
}

impl Settings {
    /// Reads the settings of the crate whose Cargo.toml is in `crate_dir`.
    pub fn read(crate_dir: &Path) -> Result<Settings, Error> {
        let path = crate_dir.join("Cargo.toml");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Error::Read { path: path.display().to_string(), message: e.to_string() })?;
        Settings::parse(&text)
            .map_err(|message| Error::Settings { path: path.display().to_string(), message })
    }

    /// Reads the settings from a Cargo.toml's text.
    pub fn parse(cargo_toml: &str) -> Result<Settings, String> {
        let manifest: Manifest = toml::from_str(cargo_toml).map_err(|e| e.message().to_owned())?;
        let migrate = manifest.package.and_then(|p| p.metadata).and_then(|m| m.migrate).unwrap_or_default();
        let id_format = match migrate.id_format.as_deref() {
            None => IdFormat::default(),
            Some(name) => IdFormat::from_name(name).ok_or_else(|| {
                format!("`id_format = \"{name}\"` is not a format: use \"hex12\" or \"alembic\"")
            })?,
        };
        Ok(Settings {
            folder: migrate.folder.unwrap_or_else(|| PathBuf::from("migrations")),
            config: Config {
                id_format,
                allow_multiple_heads: migrate.allow_multiple_heads.unwrap_or(false),
                words: WordLists::new(migrate.vague_words, migrate.specific_words),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_without_a_table() {
        let settings =
            Settings::parse("[package]\nname = \"crm\"\nversion.workspace = true\n").expect("parses");
        assert_eq!(settings.folder, PathBuf::from("migrations"));
        assert_eq!(settings.config, Config::default());
    }

    #[test]
    fn every_key() {
        let settings = Settings::parse(
            r#"
            [package]
            name = "crm"
            [package.metadata.other-tool]
            anything = 1
            [package.metadata.migrate]
            folder = "db/migrations"
            id_format = "alembic"
            allow_multiple_heads = true
            vague_words = ["crm"]
            specific_words = ["schema"]
            "#,
        )
        .expect("parses");
        assert_eq!(settings.folder, PathBuf::from("db/migrations"));
        assert_eq!(settings.config.id_format, IdFormat::Alembic);
        assert!(settings.config.allow_multiple_heads);
        assert!(settings.config.words.is_vague("crm"));
        assert!(!settings.config.words.is_vague("schema"));
    }

    #[test]
    fn mistakes_are_named() {
        let unknown =
            Settings::parse("[package.metadata.migrate]\nfolders = \"x\"\n").expect_err("unknown key");
        assert!(unknown.contains("unknown field `folders`"), "{unknown}");
        let format =
            Settings::parse("[package.metadata.migrate]\nid_format = \"uuid\"\n").expect_err("bad format");
        assert_eq!(format, "`id_format = \"uuid\"` is not a format: use \"hex12\" or \"alembic\"");
    }
}
