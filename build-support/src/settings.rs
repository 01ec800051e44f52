//! `[package.metadata.migrate]`, read from the crate's Cargo.toml.

use std::path::{Path, PathBuf};

use migrate_core::config::Config;
use migrate_core::id::IdFormat;
use migrate_core::naming::WordLists;
use toml::{Table, Value};

use crate::error::Error;

/// The crate's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// The migrations folder, relative to the crate root unless absolute (default `migrations`).
    pub folder: PathBuf,
    /// The committed schema file `cargo migrate schema` writes and `cargo migrate check`
    /// checks, relative to the crate root unless absolute (default `schema.sql`).
    pub schema_file: PathBuf,
    /// What the rules read.
    pub config: Config,
    /// The declared schema `revision --autogenerate` makes the head into: a `.sql` file, or a
    /// folder whose `.sql` files run in name order; relative to the crate root unless absolute
    /// (default `schema`).
    pub declared_schema: PathBuf,
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
        let manifest: Table = cargo_toml.parse().map_err(|e: toml::de::Error| e.message().to_owned())?;
        let empty = Table::new();
        let migrate =
            match manifest.get("package").and_then(|p| p.get("metadata")).and_then(|m| m.get("migrate")) {
                None => &empty,
                Some(Value::Table(table)) => table,
                Some(_) => return Err("`package.metadata.migrate` must be a table".to_owned()),
            };
        let mut settings = Settings {
            folder: PathBuf::from("migrations"),
            schema_file: PathBuf::from("schema.sql"),
            config: Config::default(),
            declared_schema: PathBuf::from("schema"),
        };
        let mut vague_words = Vec::new();
        let mut specific_words = Vec::new();
        for (key, value) in migrate {
            match key.as_str() {
                "folder" => settings.folder = PathBuf::from(string(key, value)?),
                "declared_schema" => {
                    let path = string(key, value)?;
                    if path.trim().is_empty() {
                        return Err(format!(
                            "`{key}` must name a `.sql` file or a folder of `.sql` files, such as \"schema\""
                        ));
                    }
                    let file = Path::new(path);
                    if file.extension().is_some_and(|e| e != "sql") {
                        return Err(format!(
                            "`{key} = \"{path}\"` is neither a `.sql` file nor a folder: name a `.sql` file or a folder of `.sql` files"
                        ));
                    }
                    settings.declared_schema = PathBuf::from(path);
                }
                "schema_file" => {
                    let path = string(key, value)?;
                    if path.is_empty() || path.ends_with('/') || path.ends_with('\\') {
                        return Err(format!("`{key}` must name a file, such as \"schema.sql\""));
                    }
                    settings.schema_file = PathBuf::from(path);
                }
                "id_format" => {
                    let name = string(key, value)?;
                    settings.config.id_format = IdFormat::from_name(name).ok_or_else(|| {
                        format!("`id_format = \"{name}\"` is not a format: use \"hex12\" or \"alembic\"")
                    })?;
                }
                "allow_multiple_heads" => {
                    settings.config.allow_multiple_heads =
                        value.as_bool().ok_or_else(|| format!("`{key}` must be `true` or `false`"))?;
                }
                "allow_multiple_bases" => {
                    settings.config.allow_multiple_bases =
                        value.as_bool().ok_or_else(|| format!("`{key}` must be `true` or `false`"))?;
                }
                "vague_words" => vague_words = words(key, value)?,
                "specific_words" => specific_words = words(key, value)?,
                "start_after" => settings.config.start_after = Some(string(key, value)?.to_owned()),
                "ignore" => settings.config.ignore = words(key, value)?,
                "postgres_version" => {
                    let version = value.as_integer().filter(|v| (10..=18).contains(v)).ok_or_else(|| {
                        format!("`{key}` must be a PostgreSQL major version from 10 to 18, such as 15")
                    })?;
                    settings.config.postgres_version = u32::try_from(version).ok();
                }
                other => return Err(format!("unknown key `{other}`")),
            }
        }
        settings.config.words = WordLists::new(vague_words, specific_words);
        if settings.schema_file.starts_with(&settings.folder) {
            return Err(format!(
                "`schema_file = \"{}\"` is inside the migrations folder, where it would be a stray file: put it \
                 beside Cargo.toml, such as \"schema.sql\"",
                settings.schema_file.display()
            ));
        }
        if settings.declared_schema == settings.schema_file
            || settings.schema_file.starts_with(&settings.declared_schema)
        {
            return Err(format!(
                "`declared_schema = \"{}\"` holds the schema file `{}`, which `cargo migrate schema` writes over: \
                 keep the schema you write apart from the one it writes, such as declared_schema = \"schema\" and \
                 schema_file = \"schema.sql\"",
                settings.declared_schema.display(),
                settings.schema_file.display()
            ));
        }
        Ok(settings)
    }
}

fn string<'a>(key: &str, value: &'a Value) -> Result<&'a str, String> {
    value.as_str().ok_or_else(|| format!("`{key}` must be a string"))
}

fn words(key: &str, value: &Value) -> Result<Vec<String>, String> {
    let list = value.as_array().ok_or_else(|| format!("`{key}` must be a list of words"))?;
    list.iter()
        .map(|w| w.as_str().map(str::to_owned).ok_or_else(|| format!("`{key}` must be a list of words")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_without_a_table() {
        let settings =
            Settings::parse("[package]\nname = \"crm\"\nversion.workspace = true\n").expect("parses");
        assert_eq!(settings.folder, PathBuf::from("migrations"));
        assert_eq!(settings.schema_file, PathBuf::from("schema.sql"));
        assert_eq!(settings.declared_schema, PathBuf::from("schema"));
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
            allow_multiple_bases = true
            vague_words = ["crm"]
            specific_words = ["schema"]
            start_after = "a1b2c3d4e5f6"
            ignore = ["README.md", "drafts"]
            postgres_version = 12
            schema_file = "db/schema.sql"
            declared_schema = "db/declared"
            "#,
        )
        .expect("parses");
        assert_eq!(settings.folder, PathBuf::from("db/migrations"));
        assert_eq!(settings.config.id_format, IdFormat::Alembic);
        assert!(settings.config.allow_multiple_heads);
        assert!(settings.config.allow_multiple_bases);
        assert!(settings.config.words.is_vague("crm"));
        assert!(!settings.config.words.is_vague("schema"));
        assert_eq!(settings.config.start_after.as_deref(), Some("a1b2c3d4e5f6"));
        assert_eq!(settings.config.ignore, ["README.md", "drafts"]);
        assert_eq!(settings.config.postgres_version(), 12);
        assert_eq!(settings.schema_file, PathBuf::from("db/schema.sql"));
        assert_eq!(settings.declared_schema, PathBuf::from("db/declared"));
    }

    #[test]
    fn wrong_types_are_named() {
        let cases = [
            ("[package.metadata.migrate]\nfolder = 1\n", "`folder` must be a string"),
            (
                "[package.metadata.migrate]\nallow_multiple_heads = \"yes\"\n",
                "`allow_multiple_heads` must be `true` or `false`",
            ),
            (
                "[package.metadata.migrate]\nallow_multiple_bases = 1\n",
                "`allow_multiple_bases` must be `true` or `false`",
            ),
            ("[package.metadata.migrate]\nvague_words = \"crm\"\n", "`vague_words` must be a list of words"),
            (
                "[package.metadata.migrate]\npostgres_version = 9\n",
                "`postgres_version` must be a PostgreSQL major version from 10 to 18, such as 15",
            ),
            ("[package.metadata]\nmigrate = 1\n", "`package.metadata.migrate` must be a table"),
            ("[package.metadata.migrate]\ndeclared_schema = 1\n", "`declared_schema` must be a string"),
            (
                "[package.metadata.migrate]\ndeclared_schema = \"\"\n",
                "`declared_schema` must name a `.sql` file or a folder of `.sql` files, such as \"schema\"",
            ),
            (
                "[package.metadata.migrate]\ndeclared_schema = \"schema.rs\"\n",
                "`declared_schema = \"schema.rs\"` is neither a `.sql` file nor a folder: name a `.sql` file or a folder of `.sql` files",
            ),
            ("[package.metadata.migrate]\nschema_file = 1\n", "`schema_file` must be a string"),
            (
                "[package.metadata.migrate]\nschema_file = \"\"\n",
                "`schema_file` must name a file, such as \"schema.sql\"",
            ),
            (
                "[package.metadata.migrate]\nschema_file = \"migrations/schema.sql\"\n",
                "`schema_file = \"migrations/schema.sql\"` is inside the migrations folder, where it would be a stray \
                 file: put it beside Cargo.toml, such as \"schema.sql\"",
            ),
            (
                "[package.metadata.migrate]\ndeclared_schema = \"schema.sql\"\n",
                "`declared_schema = \"schema.sql\"` holds the schema file `schema.sql`, which `cargo migrate schema` \
                 writes over: keep the schema you write apart from the one it writes, such as declared_schema = \
                 \"schema\" and schema_file = \"schema.sql\"",
            ),
            (
                "[package.metadata.migrate]\ndeclared_schema = \"db\"\nschema_file = \"db/schema.sql\"\n",
                "`declared_schema = \"db\"` holds the schema file `db/schema.sql`, which `cargo migrate schema` \
                 writes over: keep the schema you write apart from the one it writes, such as declared_schema = \
                 \"schema\" and schema_file = \"schema.sql\"",
            ),
        ];
        for (text, message) in cases {
            assert_eq!(Settings::parse(text).expect_err(text), message);
        }
        assert!(Settings::parse("[package\n").is_err());
    }

    #[test]
    fn mistakes_are_named() {
        let unknown =
            Settings::parse("[package.metadata.migrate]\nfolders = \"x\"\n").expect_err("unknown key");
        assert_eq!(unknown, "unknown key `folders`");
        let format =
            Settings::parse("[package.metadata.migrate]\nid_format = \"uuid\"\n").expect_err("bad format");
        assert_eq!(format, "`id_format = \"uuid\"` is not a format: use \"hex12\" or \"alembic\"");
    }
}
