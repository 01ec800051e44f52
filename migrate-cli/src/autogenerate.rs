//! `revision --autogenerate -m <slug>`: a migration that makes the head's schema into the
//! declared one.
//!
//! The declared schema (`declared_schema`: a `.sql` file, or a folder of `.sql` files run in
//! name order) is run on a throwaway database; the head is built on another by the crate's
//! migrator (`upgrade heads`). Both are read through the schema model
//! (`migrate_runtime::catalog`), and the difference, head → declared, is written as operations
//! in dependency order: `upgrade` makes the head into the declared schema, `downgrade` makes it
//! back (the same planning, the other way). Ordinary additions take the safe recipes (an index
//! on an existing table built concurrently, a foreign key or check added `NOT VALID` then
//! validated, `NOT NULL` through a check); what a person must decide (a drop, a possible
//! rename, a `NOT NULL` over existing rows, a type change that rewrites) is written with a
//! `// DECIDE:` comment above it and listed when the command ends. Structure only: data
//! migrations stay hand-written.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, anyhow, bail};
use migrate_core::text::on_one_line;
use migrate_runtime::TableNames;
use migrate_runtime::catalog::{Change, Key, Kind, Object, Options, Schema};
use migrate_runtime::testkit::TestDatabase;

use crate::project::Project;
use crate::revision::{Refused, next_revision, write_migration};

/// What the command did.
pub(crate) enum Outcome {
    /// A migration was written: its path, the decisions it asks for, and notes.
    Written { path: String, decisions: Vec<String>, notes: Vec<String> },
    /// The head's schema is the declared one: nothing written.
    Same { declared: String },
}

/// `revision --autogenerate -m <slug>`.
pub(crate) fn autogenerate(project: &Project, slug: &str) -> Result<Result<Outcome, Refused>> {
    let (rev, parent) = match next_revision(project, slug)? {
        Ok(next) => next,
        Err(refused) => return Ok(Err(refused)),
    };
    let (shown, files) = declared_files(project)?;
    let declared = realize_declared(&files, project)?;
    let head = realize_head(project)?;
    let upgrade = plan(&head, &declared, true);
    if upgrade.steps.is_empty() && upgrade.notes.is_empty() {
        return Ok(Ok(Outcome::Same { declared: shown }));
    }
    let downgrade = plan(&declared, &head, false);
    let outside = upgrade.steps.iter().chain(&downgrade.steps).any(|s| s.outside);
    let why = format!(
        "{}\n///\n/// Written by `cargo migrate revision --autogenerate` from `{shown}`: structure only. Data\n/// \
         migrations (filling a new column, moving values before a drop) are not generated: write them here.",
        migrate_core::rules::missing_why::WHY_PLACEHOLDER
    );
    let functions = format!(
        "    pub fn upgrade(op: &mut Op) {{\n{}    }}\n\n    pub fn downgrade(op: &mut Op) {{\n{}    }}\n",
        body(&upgrade),
        body(&downgrade)
    );
    let more = if outside { ", transactional = false" } else { "" };
    let path = write_migration(project, &rev, slug, &parent, &why, more, &functions)?;
    let mut decisions = upgrade.decisions;
    decisions.extend(downgrade.decisions.into_iter().map(|d| format!("downgrade: {d}")));
    Ok(Ok(Outcome::Written { path, decisions, notes: upgrade.notes }))
}

/// The declared schema's location as shown, and its files in the order they run.
fn declared_files(project: &Project) -> Result<(String, Vec<PathBuf>)> {
    let setting = &project.settings.declared_schema;
    let path = project.dir.join(setting);
    let shown = setting.display().to_string();
    let help = "= help: write the schema you want as SQL there (a `.sql` file, or a folder of `.sql` files run in \
                name order), or point `declared_schema` in [package.metadata.migrate] at yours";
    if path.is_file() {
        return Ok((shown, vec![path]));
    }
    if !path.is_dir() {
        bail!(
            "the declared schema `{shown}` (setting `declared_schema`, default \"schema\") does not exist: `{}`\n{help}",
            path.display()
        );
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&path)
        .with_context(|| format!("cannot read `{}`", path.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!(
            "the declared schema `{shown}` (setting `declared_schema`) holds no `.sql` file: `{}`\n{help}",
            path.display()
        );
    }
    Ok((format!("{}/", shown.trim_end_matches('/')), files))
}

fn options() -> Options {
    Options::new().ignore_runner_tables(&TableNames::default())
}

fn testkit<T>(result: Result<T, migrate_runtime::testkit::TestkitError>) -> Result<T> {
    result.map_err(|e| anyhow!("{e}"))
}

/// Runs the declared files on a throwaway database and reads its schema.
fn realize_declared(files: &[PathBuf], project: &Project) -> Result<Schema> {
    let database = testkit(TestDatabase::new())?;
    let mut client = testkit(database.connect())?;
    for file in files {
        let shown = file.strip_prefix(&project.dir).unwrap_or(file).display().to_string();
        let text = std::fs::read_to_string(file).with_context(|| format!("cannot read `{shown}`"))?;
        if let Err(error) = client.batch_execute(&text) {
            bail!("{}", sql_error(&shown, &text, &error));
        }
    }
    Schema::read(&mut client, &options()).context("cannot read the declared schema's catalog")
}

/// `schema/10_tables.sql line 4: column "x" does not exist`.
fn sql_error(file: &str, text: &str, error: &postgres::Error) -> String {
    let Some(db) = error.as_db_error() else {
        return format!("`{file}` failed: {error}");
    };
    let line = match db.position() {
        Some(postgres::error::ErrorPosition::Original(at)) => {
            let before = (*at as usize).saturating_sub(1);
            Some(text.chars().take(before).filter(|c| *c == '\n').count() + 1)
        }
        _ => None,
    };
    let mut message = match line {
        Some(line) => format!("`{file}` line {line}: {}", db.message()),
        None => format!("`{file}`: {} (PostgreSQL gives no position)", db.message()),
    };
    if let Some(detail) = db.detail() {
        message.push_str(&format!("\n= detail: {detail}"));
    }
    message.push_str("\n= help: the declared schema must run on an empty database: fix the file, then run the command again");
    message
}

/// Builds the head's schema on a throwaway database with the crate's migrator, and reads it.
fn realize_head(project: &Project) -> Result<Schema> {
    let database = testkit(TestDatabase::new())?;
    if project.folder().is_dir() && !project.scan()?.files.is_empty() {
        let binary = crate::migrator::binary(project)?;
        let output = Command::new(&binary)
            .args(["upgrade", "heads"])
            .env("DATABASE_URL", database.url())
            .output()
            .with_context(|| format!("cannot run `{}`", binary.display()))?;
        if !output.status.success() {
            bail!(
                "the migrations do not apply on an empty database, so the head's schema is unknown:\n{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
    let mut client = testkit(database.connect())?;
    Schema::read(&mut client, &options()).context("cannot read the head's catalog")
}

/// The function body: each step's lines, indented.
fn body(plan: &Plan) -> String {
    let mut steps: Vec<&Step> = plan.steps.iter().collect();
    steps.sort_by(|a, b| a.order.cmp(&b.order));
    let mut out = String::new();
    for step in steps {
        for line in &step.lines {
            // A raw string's lines are SQL as the catalog wrote it (a function's body): kept as they are.
            let raw = line.contains("r#");
            for (i, physical) in line.lines().enumerate() {
                if raw && i > 0 {
                    out.push_str(&format!("{physical}\n"));
                } else if physical.is_empty() {
                    out.push('\n');
                } else {
                    out.push_str(&format!("        {physical}\n"));
                }
            }
        }
    }
    out
}

/// One operation or a few that belong together, with what orders it.
struct Step {
    /// The phase, the object's place in it (the schema model's creation order; reversed for
    /// removals), the step's place among the object's steps, the object.
    order: (u32, usize, usize, Key),
    lines: Vec<String>,
    /// It must run outside a transaction (a concurrent build, a validation after `NOT VALID`…).
    outside: bool,
}

#[derive(Default)]
struct Plan {
    steps: Vec<Step>,
    decisions: Vec<String>,
    notes: Vec<String>,
}

/// The phase of a removal: before every creation.
const REMOVAL: u32 = 0;
/// The phase of a creation or a change.
const CREATION: u32 = 1;
/// After the creations: a sequence's owner.
const OWNERSHIP: u32 = 2;
/// Last: comments.
const COMMENTS: u32 = 3;

/// A Rust string literal of `text`: quoted, or raw when it holds quotes or lines.
fn lit(text: &str) -> String {
    if text.contains('"') || text.contains('\n') || text.contains('\\') {
        let mut hashes = 1;
        while text.contains(&format!("\"{}", "#".repeat(hashes))) {
            hashes += 1;
        }
        let h = "#".repeat(hashes);
        format!("r{h}\"{text}\"{h}")
    } else {
        format!("{text:?}")
    }
}

/// A name as the operations take it: the schema left out when it is `public`.
fn op_name(schema: &str, name: &str) -> String {
    if schema == "public" { name.to_owned() } else { format!("{schema}.{name}") }
}

fn table_key(key: &Key) -> Key {
    Key::new(Kind::Table, &key.schema, None, key.table.as_deref().unwrap_or_default())
}

/// The columns of a table, in order.
fn columns_of<'s>(schema: &'s Schema, table: &Key) -> Vec<(&'s Key, &'s Object)> {
    let order: Vec<String> =
        schema.get(table).and_then(|t| t.get("column order")).map(split_identifiers).unwrap_or_default();
    let mut columns: Vec<(&Key, &Object)> = schema
        .objects()
        .filter(|(k, _)| {
            k.kind == Kind::Column
                && k.schema == table.schema
                && k.table.as_deref() == Some(table.name.as_str())
        })
        .collect();
    columns.sort_by_key(|(k, _)| order.iter().position(|n| *n == k.name).unwrap_or(usize::MAX));
    columns
}

/// `a, "b c", d` into its names, unquoted.
fn split_identifiers(list: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut name = String::new();
    let mut quoted = false;
    let mut chars = list.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                name.push('"');
            }
            '"' => quoted = !quoted,
            ',' if !quoted => names.push(std::mem::take(&mut name).trim().to_owned()),
            c => name.push(c),
        }
    }
    if !name.trim().is_empty() {
        names.push(name.trim().to_owned());
    }
    names
}

/// Whether `text` is a list of plain column names (`a, "b c"`), not expressions.
fn plain_identifiers(text: &str) -> Option<Vec<String>> {
    let mut names = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        if let Some(quoted) = rest.strip_prefix('"') {
            let mut name = String::new();
            let mut chars = quoted.char_indices().peekable();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                if c == '"' {
                    if chars.peek().map(|(_, c)| *c) == Some('"') {
                        chars.next();
                        name.push('"');
                    } else {
                        end = Some(i + 1);
                        break;
                    }
                } else {
                    name.push(c);
                }
            }
            names.push(name);
            rest = quoted[end?..].trim_start();
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            let name = rest[..end].trim();
            if name.is_empty()
                || !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            {
                return None;
            }
            names.push(name.to_owned());
            rest = &rest[end..];
        }
        rest = match rest.strip_prefix(',') {
            Some(after) => after.trim_start(),
            None if rest.is_empty() => rest,
            None => return None,
        };
    }
    (!names.is_empty()).then_some(names)
}

/// `&["a", "b"]`.
fn slice(names: &[String]) -> String {
    format!("&[{}]", names.iter().map(|n| lit(n)).collect::<Vec<_>>().join(", "))
}

/// The values of an enum's `values` attribute (`'a', 'b''c'`).
fn enum_values(text: &str) -> Vec<String> {
    let mut values = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\'' {
            continue;
        }
        let mut value = String::new();
        while let Some(c) = chars.next() {
            if c == '\'' {
                if chars.peek() == Some(&'\'') {
                    chars.next();
                    value.push('\'');
                } else {
                    break;
                }
            } else {
                value.push(c);
            }
        }
        values.push(value);
    }
    values
}

/// A type as the operations write it (`Type::Text`), from the catalog's `format_type`.
fn rust_type(sql: &str) -> String {
    fn simple(sql: &str) -> Option<String> {
        let named = match sql {
            "smallint" => "SmallInt",
            "integer" => "Integer",
            "bigint" => "BigInt",
            "boolean" => "Boolean",
            "real" => "Real",
            "double precision" => "Double",
            "text" => "Text",
            "date" => "Date",
            "time without time zone" => "Time",
            "timestamp without time zone" => "Timestamp",
            "timestamp with time zone" => "TimestampTz",
            "interval" => "Interval",
            "uuid" => "Uuid",
            "json" => "Json",
            "jsonb" => "Jsonb",
            "bytea" => "Bytea",
            "inet" => "Inet",
            _ => {
                let args = |prefix: &str| {
                    sql.strip_prefix(prefix).and_then(|r| r.strip_suffix(')')).map(|r| {
                        r.split(',').map(|n| n.trim().parse::<u32>()).collect::<Result<Vec<u32>, _>>()
                    })
                };
                return match (args("character varying("), args("character("), args("numeric(")) {
                    (Some(Ok(n)), _, _) if n.len() == 1 => Some(format!("Type::Varchar({})", n[0])),
                    (_, Some(Ok(n)), _) if n.len() == 1 => Some(format!("Type::Char({})", n[0])),
                    (_, _, Some(Ok(n))) if n.len() == 2 => Some(format!("Type::Numeric({}, {})", n[0], n[1])),
                    _ => None,
                };
            }
        };
        Some(format!("Type::{named}"))
    }
    if let Some(simple) = simple(sql) {
        return simple;
    }
    if let Some(inner) = sql.strip_suffix("[]")
        && let Some(inner) = simple(inner)
    {
        return format!("Type::Array(&{inner})");
    }
    format!("Type::Sql({})", lit(sql))
}

/// Whether changing a column from `before` to `after` rewrites the table: the lock rule's own
/// judgement (`rewriting_type_change`), so that what autogenerate asks to decide is what the
/// build would refuse.
fn rewrites(before: &str, after: &str) -> bool {
    !migrate_core::lint::type_changes_in_place(before, after)
}

/// An identity's sequence options (`START WITH 1 INCREMENT BY 1 … NO CYCLE`, as the schema model
/// reads them) as `ALTER COLUMN … SET GENERATED …` takes them: ` SET START WITH 1 SET INCREMENT
/// BY 1 …`.
fn identity_settings(options: &str) -> String {
    let words: Vec<&str> = options.split_whitespace().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < words.len() {
        let take = match words[i] {
            "START" | "INCREMENT" => 3,
            "MINVALUE" | "MAXVALUE" | "CACHE" | "NO" => 2,
            _ => 1,
        };
        let end = (i + take).min(words.len());
        out.push_str(&format!(" SET {}", words[i..end].join(" ")));
        i = end;
    }
    out
}

/// The identity sequence PostgreSQL gives a column of this type by default.
fn default_identity(ty: &str) -> String {
    let max = match ty {
        "smallint" => "32767",
        "integer" => "2147483647",
        _ => "9223372036854775807",
    };
    format!("START WITH 1 INCREMENT BY 1 MINVALUE 1 MAXVALUE {max} CACHE 1 NO CYCLE")
}

/// The sequence a `serial` column of `schema` owns, and the type to write the column with.
fn serial(schema: &Schema, column: &Key, object: &Object) -> Option<(Key, &'static str)> {
    let default = object.get("default")?;
    let table = column.table.as_deref()?;
    let name = format!("{table}_{}_seq", column.name);
    let key = Key::new(Kind::Sequence, &column.schema, None, &name);
    let sequence = schema.get(&key)?;
    let owner = format!(
        "{}.{}",
        schema.get(&table_key(column)).map(Object::sql_name).unwrap_or_default(),
        object.sql_name()
    );
    let expected = format!("nextval('{}'::regclass)", sequence.sql_name().replace('\'', "''"));
    if default != expected || sequence.get("owned by") != Some(owner.as_str()) {
        return None;
    }
    let ty = match object.get("type")? {
        "integer" => "Type::Serial",
        "bigint" => "Type::BigSerial",
        "smallint" => "Type::Sql(\"smallserial\")",
        _ => return None,
    };
    (sequence.get("type") == object.get("type")).then_some((key, ty))
}

/// Whether the column builder writes this column exactly: otherwise its SQL is written.
fn builder_fits(object: &Object) -> bool {
    let ty = object.get("type").unwrap_or_default();
    object.get("collation").is_none()
        && object.get("generated").is_none()
        && match object.get("identity") {
            None => true,
            Some("BY DEFAULT") => object.get("identity sequence").is_none_or(|s| s == default_identity(ty)),
            Some(_) => false,
        }
}

/// The column builder's calls after its name and type.
fn column_calls(object: &Object, serial: bool) -> String {
    let mut calls = String::new();
    if object.get("identity").is_some() {
        calls.push_str(".identity()");
    }
    if object.get("not null").is_some() && object.get("identity").is_none() {
        calls.push_str(".not_null()");
    }
    if let Some(default) = object.get("default").filter(|_| !serial) {
        calls.push_str(&format!(".server_default(sql({}))", lit(default)));
    }
    calls
}

/// A constraint's definition read into an operation: `(call, needs a validation)`.
enum Constraint {
    Key { primary: bool, columns: Vec<String> },
    Check { condition: String, not_valid: bool },
    Foreign { columns: Vec<String>, table: String, referred: Vec<String>, actions: String, not_valid: bool },
}

fn parse_constraint(definition: &str) -> Option<Constraint> {
    let (definition, not_valid) = match definition.strip_suffix(" NOT VALID") {
        Some(rest) => (rest, true),
        None => (definition, false),
    };
    fn list(text: &str) -> Option<(Vec<String>, &str)> {
        let inner = text.strip_prefix('(')?;
        let end = inner.find(')')?;
        Some((plain_identifiers(&inner[..end])?, inner[end + 1..].trim_start()))
    }
    if let Some(rest) = definition.strip_prefix("PRIMARY KEY ").or_else(|| definition.strip_prefix("UNIQUE "))
    {
        let (columns, rest) = list(rest)?;
        return (rest.is_empty() && !not_valid)
            .then(|| Constraint::Key { primary: definition.starts_with("PRIMARY"), columns });
    }
    if let Some(rest) = definition.strip_prefix("CHECK ") {
        if rest.contains(" NO INHERIT") || !rest.starts_with('(') || !rest.ends_with(')') {
            return None;
        }
        let condition = rest[1..rest.len() - 1].to_owned();
        return Some(Constraint::Check { condition, not_valid });
    }
    let rest = definition.strip_prefix("FOREIGN KEY ")?;
    let (columns, rest) = list(rest)?;
    let rest = rest.strip_prefix("REFERENCES ")?;
    let open = rest.find('(')?;
    let table = rest[..open].trim();
    if table.contains('"') {
        return None;
    }
    let table = table.strip_prefix("public.").unwrap_or(table).to_owned();
    let (referred, mut rest) = list(&rest[open..])?;
    let mut actions = String::new();
    for (words, method) in [("ON UPDATE ", "on_update"), ("ON DELETE ", "on_delete")] {
        if let Some(after) = rest.strip_prefix(words) {
            let (action, len) = [
                ("NO ACTION", "NoAction"),
                ("RESTRICT", "Restrict"),
                ("CASCADE", "Cascade"),
                ("SET NULL", "SetNull"),
                ("SET DEFAULT", "SetDefault"),
            ]
            .into_iter()
            .find_map(|(sql, rust)| after.strip_prefix(sql).map(|r| (rust, after.len() - r.len())))?;
            if after[len..].starts_with(" (") {
                return None;
            }
            actions.push_str(&format!(".{method}(Action::{action})"));
            rest = after[len..].trim_start();
        }
    }
    rest.is_empty().then_some(Constraint::Foreign { columns, table, referred, actions, not_valid })
}

/// An index's definition read into `create_index`: `(unique, columns, method, predicate)`.
fn parse_index(definition: &str) -> Option<(bool, Vec<String>, String, Option<String>)> {
    let (unique, rest) = match definition.strip_prefix("CREATE UNIQUE INDEX ") {
        Some(rest) => (true, rest),
        None => (false, definition.strip_prefix("CREATE INDEX ")?),
    };
    let using = rest.find(" USING ")?;
    let rest = &rest[using + 7..];
    let open = rest.find(" (")?;
    let method = rest[..open].to_owned();
    let rest = &rest[open + 2..];
    let close = rest.find(')')?;
    let columns = plain_identifiers(&rest[..close])?;
    let tail = rest[close + 1..].trim_start();
    let predicate = match tail.strip_prefix("WHERE ") {
        Some(predicate) => Some(predicate.to_owned()),
        None if tail.is_empty() => None,
        None => return None,
    };
    Some((unique, columns, method, predicate))
}

/// The statement that drops an object of `schema`.
fn drop_sql(schema: &Schema, key: &Key, object: &Object) -> String {
    let table = || match object.relation() {
        Some(relation) => relation.to_owned(),
        None => schema.get(&table_key(key)).map(Object::sql_name).unwrap_or_default().to_owned(),
    };
    match (key.kind, schema.sql_target(key)) {
        (Kind::Column, _) => format!("ALTER TABLE {} DROP COLUMN {}", table(), object.sql_name()),
        (Kind::Constraint, _) => format!("ALTER TABLE {} DROP CONSTRAINT {}", table(), object.sql_name()),
        (_, Some(target)) => format!("DROP {target}"),
        (_, None) => format!("-- {key}"),
    }
}

/// The planning of one direction: from `from` to `to`. `upgrade` says whether decisions are
/// marked (the downgrade undoes what the upgrade did, which the developer decided there).
struct Planner<'a> {
    from: &'a Schema,
    to: &'a Schema,
    upgrade: bool,
    plan: Plan,
    /// Each object's place in the creation order of `from` and of `to`.
    places: [BTreeMap<Key, usize>; 2],
}

impl Planner<'_> {
    /// A step of `phase`: objects are removed in the reverse of the order `from` was built in,
    /// and created or changed in the order `to` is built in (the schema model's creation order,
    /// which follows PostgreSQL's dependencies); `sub` orders one object's steps.
    fn step(&mut self, phase: u32, sub: usize, key: &Key, lines: Vec<String>, outside: bool) {
        let [from, to] = &self.places;
        let place = if phase == REMOVAL {
            from.get(key).map_or(0, |p| from.len() - p)
        } else {
            to.get(key).or_else(|| from.get(key)).copied().unwrap_or(usize::MAX)
        };
        self.plan.steps.push(Step { order: (phase, place, sub, key.clone()), lines, outside });
    }

    /// `// DECIDE: …` above the lines in the upgrade, and listed.
    fn decide(&mut self, what: String, mut lines: Vec<String>) -> Vec<String> {
        if self.upgrade {
            lines.insert(0, format!("// DECIDE: {}", on_one_line(&what)));
            self.plan.decisions.push(what);
        }
        lines
    }

    fn unsupported(&mut self, key: &Key, what: String) {
        let lines = vec![
            format!("// DECIDE: {}: no operation does it; write it with op.execute(…)", on_one_line(&what)),
            format!("todo!({});", lit(&format!("{key}: {what}"))),
        ];
        self.plan.decisions.push(format!("{key}: {what}: write it by hand"));
        self.step(CREATION, 0, key, lines, false);
    }

    fn execute(sql: &str) -> String {
        format!("op.execute({});", lit(sql.trim_end().trim_end_matches(';')))
    }

    fn table_added(&self, key: &Key) -> bool {
        key.table.is_some() && self.from.get(&table_key(key)).is_none()
    }

    fn table_removed(&self, key: &Key) -> bool {
        key.table.is_some() && self.to.get(&table_key(key)).is_none()
    }

    fn run(mut self) -> Plan {
        let changes = self.from.diff(self.to);
        let mut grouped: BTreeMap<Key, Vec<Change>> = BTreeMap::new();
        for change in changes {
            grouped.entry(change.key().clone()).or_default().push(change);
        }
        let renames = self.renames(&grouped);
        for (key, changes) in &grouped {
            match &changes[0] {
                Change::Added(_) => self.added(key),
                Change::Removed(_) => self.removed(key, &renames),
                _ => self.changed(key, changes),
            }
        }
        self.plan
    }

    /// The rename lines to suggest above each drop: a column dropped and another of the
    /// same type added in the same table, a table dropped and another of the same column
    /// types added.
    fn renames(&mut self, grouped: &BTreeMap<Key, Vec<Change>>) -> BTreeMap<Key, Vec<String>> {
        let mut notes: BTreeMap<Key, Vec<String>> = BTreeMap::new();
        if !self.upgrade {
            return notes;
        }
        let added: Vec<&Key> =
            grouped.iter().filter(|(_, c)| matches!(c[0], Change::Added(_))).map(|(k, _)| k).collect();
        let removed: Vec<&Key> =
            grouped.iter().filter(|(_, c)| matches!(c[0], Change::Removed(_))).map(|(k, _)| k).collect();
        let ty = |schema: &Schema, key: &Key| schema.get(key).and_then(|o| o.get("type")).map(str::to_owned);
        let old_columns: Vec<&Key> =
            removed.iter().copied().filter(|k| k.kind == Kind::Column && !self.table_removed(k)).collect();
        let new_columns: Vec<&Key> =
            added.iter().copied().filter(|k| k.kind == Kind::Column && !self.table_added(k)).collect();
        for old in old_columns {
            for new in new_columns.iter().filter(|k| k.schema == old.schema && k.table == old.table) {
                if ty(self.from, old) == ty(self.to, new) {
                    let table = op_name(&old.schema, old.table.as_deref().unwrap_or_default());
                    let line =
                        format!("op.rename_column({}, {}, {});", lit(&table), lit(&old.name), lit(&new.name));
                    self.plan.notes.push(format!(
                        "`{table}.{}` dropped and `{table}.{}` added with the same type: if it is a rename, use `{line}`",
                        old.name, new.name
                    ));
                    let (was, now) = (on_one_line(&old.name), on_one_line(&new.name));
                    notes.entry(old.clone()).or_default().push(format!(
                        "// RENAME? `{was}` is dropped and `{now}` added with the same type: if `{was}` was renamed (its \
                         data kept),\n// write this instead of the drop and the add:\n// {}",
                        on_one_line(&line)
                    ));
                }
            }
        }
        let types = |schema: &Schema, key: &Key| -> Vec<String> {
            columns_of(schema, key)
                .iter()
                .map(|(_, o)| o.get("type").unwrap_or_default().to_owned())
                .collect()
        };
        for old in removed.iter().filter(|k| k.kind == Kind::Table) {
            for new in added.iter().filter(|k| k.kind == Kind::Table && k.schema == old.schema) {
                if types(self.from, old) == types(self.to, new) {
                    let line = format!(
                        "op.rename_table({}, {});",
                        lit(&op_name(&old.schema, &old.name)),
                        lit(&op_name(&new.schema, &new.name))
                    );
                    self.plan.notes.push(format!(
                        "table `{}` dropped and `{}` added with the same column types: if it is a rename, use `{line}` \
                         (and rename_column for its columns)",
                        old.name, new.name
                    ));
                    notes.entry((*old).clone()).or_default().push(format!(
                        "// RENAME? table `{}` is dropped and `{}` added with the same column types: if it was renamed\n\
                         // (its rows kept), write this instead of the drop and the creation:\n// {}",
                        on_one_line(&old.name),
                        on_one_line(&new.name),
                        on_one_line(&line)
                    ));
                }
            }
        }
        notes
    }

    fn added(&mut self, key: &Key) {
        let Some(object) = self.to.get(key) else { return };
        let phase = CREATION;
        match key.kind {
            Kind::Table => self.create_table(key, object),
            Kind::Column if self.table_added(key) => {}
            Kind::Column => self.add_column(key, object),
            Kind::Constraint => self.add_constraint(key, object),
            Kind::Index => self.add_index(key, object),
            Kind::Enum => {
                let values: Vec<String> = enum_values(object.get("values").unwrap_or_default());
                let line =
                    format!("op.create_enum({}, {});", lit(&op_name(&key.schema, &key.name)), slice(&values));
                self.step(phase, 0, key, vec![line], false);
            }
            Kind::Sequence if self.owned_serial(self.to, key) => {}
            Kind::Schema
            | Kind::Extension
            | Kind::Domain
            | Kind::Composite
            | Kind::Range
            | Kind::Sequence
            | Kind::Function
            | Kind::Procedure
            | Kind::Aggregate
            | Kind::Collation
            | Kind::Statistics
            | Kind::Rule
            | Kind::View
            | Kind::MaterializedView
            | Kind::Trigger
            | Kind::Policy => match self.to.create_statement(key) {
                Some(sql) => {
                    if key.kind == Kind::Sequence
                        && let Some(owner) = object.get("owned by")
                    {
                        let owned = format!("ALTER SEQUENCE {} OWNED BY {owner}", object.sql_name());
                        self.step(OWNERSHIP, 0, key, vec![Self::execute(&owned)], false);
                    }
                    self.step(phase, object.depth(), key, vec![Self::execute(&sql)], false);
                }
                None if key.kind == Kind::Schema => {}
                None => self.unsupported(key, "created".to_owned()),
            },
            _ => self.unsupported(key, "created".to_owned()),
        }
        if object.get("comment").is_some() {
            self.comment(key, object.get("comment"));
        }
    }

    /// A sequence a serial column of an added table or column owns: made by its column.
    fn owned_serial(&self, schema: &Schema, key: &Key) -> bool {
        schema
            .objects()
            .any(|(k, o)| k.kind == Kind::Column && serial(schema, k, o).is_some_and(|(s, _)| s == *key))
    }

    fn create_table(&mut self, key: &Key, object: &Object) {
        let name = op_name(&key.schema, &key.name);
        let columns = columns_of(self.to, key);
        let plain = object.attributes().all(|(n, v)| {
            matches!(n, "column order" | "comment") || (n == "persistence" && v == "permanent")
        }) && columns.iter().all(|(_, c)| builder_fits(c));
        let lines = if plain {
            let mut text = format!("op.create_table({}, |t| {{\n", lit(&name));
            for (column, c) in &columns {
                let serial = serial(self.to, column, c);
                let ty = serial
                    .as_ref()
                    .map_or_else(|| rust_type(c.get("type").unwrap_or_default()), |(_, t)| (*t).to_owned());
                text.push_str(&format!(
                    "    t.column({}, {ty}){};\n",
                    lit(&column.name),
                    column_calls(c, serial.is_some())
                ));
            }
            text.push_str("});");
            vec![text]
        } else {
            match self.to.create_statement(key) {
                Some(sql) => vec![Self::execute(&sql)],
                None => return self.unsupported(key, "created".to_owned()),
            }
        };
        self.step(CREATION, object.depth(), key, lines, false);
        for (column, c) in columns {
            if c.get("comment").is_some() {
                self.comment(column, c.get("comment"));
            }
        }
    }

    fn add_column(&mut self, key: &Key, object: &Object) {
        let table = op_name(&key.schema, key.table.as_deref().unwrap_or_default());
        let column = &key.name;
        let mut lines = Vec::new();
        if builder_fits(object) {
            let serial = serial(self.to, key, object);
            let ty = serial
                .as_ref()
                .map_or_else(|| rust_type(object.get("type").unwrap_or_default()), |(_, t)| (*t).to_owned());
            lines.push(format!(
                "op.add_column({}, {}, {ty}){};",
                lit(&table),
                lit(column),
                column_calls(object, serial.is_some())
            ));
        } else {
            let table_sql = self.to.get(&table_key(key)).map(Object::sql_name).unwrap_or_default();
            lines.push(Self::execute(&format!(
                "ALTER TABLE {table_sql} ADD COLUMN {}",
                object.column_definition()
            )));
        }
        if object.get("not null").is_some()
            && object.get("default").is_none()
            && object.get("identity").is_none()
        {
            lines = self.decide(
                format!(
                    "`{table}.{column}` is NOT NULL without a default: adding it fails on the first existing row; \
                     give it a default, or add it nullable, fill it, then set_not_null_through_check()"
                ),
                lines,
            );
        }
        self.step(CREATION, 0, key, lines, false);
    }

    fn add_constraint(&mut self, key: &Key, object: &Object) {
        let table = op_name(&key.schema, key.table.as_deref().unwrap_or_default());
        let existing = !self.table_added(key);
        let definition = object.get("definition").unwrap_or_default();
        let (name, t) = (lit(&key.name), lit(&table));
        let mut outside = false;
        let mut lines = Vec::new();
        let sub;
        match parse_constraint(definition) {
            Some(Constraint::Key { primary, columns }) => {
                sub = 0;
                let call = if primary { "create_primary_key" } else { "create_unique_constraint" };
                let concurrently = if existing { ".concurrently()" } else { "" };
                outside = existing;
                lines.push(format!("op.{call}({name}, {t}, {}){concurrently};", slice(&columns)));
            }
            Some(Constraint::Check { condition, not_valid }) => {
                sub = 1;
                let later = existing && !not_valid;
                let not_valid_call = if existing || not_valid { ".not_valid()" } else { "" };
                lines.push(format!(
                    "op.create_check_constraint({name}, {t}, {}){not_valid_call};",
                    lit(&condition)
                ));
                if later {
                    lines.push(format!("op.validate_constraint({t}, {name});"));
                    outside = true;
                }
            }
            Some(Constraint::Foreign { columns, table: referred_table, referred, actions, not_valid }) => {
                sub = 2;
                let later = existing && !not_valid;
                let not_valid_call = if existing || not_valid { ".not_valid()" } else { "" };
                lines.push(format!(
                    "op.create_foreign_key({name}, {t}, {}, {}, {}){actions}{not_valid_call};",
                    lit(&referred_table),
                    slice(&columns),
                    slice(&referred)
                ));
                if later {
                    lines.push(format!("op.validate_constraint({t}, {name});"));
                    outside = true;
                }
            }
            None => {
                sub = 3;
                let Some(sql) = self.to.create_statement(key) else {
                    return self.unsupported(key, "created".to_owned());
                };
                lines.push(Self::execute(&sql));
                if existing {
                    lines = self.decide(
                        format!("`{}` on `{table}` has no safe form: it may lock the table while it checks its rows", key.name),
                        lines,
                    );
                }
            }
        }
        self.step(CREATION, sub, key, lines, outside);
    }

    fn add_index(&mut self, key: &Key, object: &Object) {
        let table = op_name(&key.schema, key.table.as_deref().unwrap_or_default());
        let existing = !self.table_added(key);
        let definition = object.get("definition").unwrap_or_default();
        let line = match parse_index(definition) {
            Some((unique, columns, method, predicate)) if key.schema == "public" => {
                let mut line =
                    format!("op.create_index({}, {}, {})", lit(&key.name), lit(&table), slice(&columns));
                if unique {
                    line.push_str(".unique()");
                }
                if method != "btree" {
                    line.push_str(&format!(".using({})", lit(&method)));
                }
                if let Some(predicate) = predicate {
                    line.push_str(&format!(".where_sql({})", lit(&predicate)));
                }
                if existing {
                    line.push_str(".concurrently()");
                }
                format!("{line};")
            }
            _ => {
                let mut sql = self.to.create_statement(key).unwrap_or_else(|| format!("{definition};"));
                if existing {
                    sql = sql.replacen("CREATE INDEX ", "CREATE INDEX CONCURRENTLY ", 1).replacen(
                        "CREATE UNIQUE INDEX ",
                        "CREATE UNIQUE INDEX CONCURRENTLY ",
                        1,
                    );
                }
                Self::execute(&sql)
            }
        };
        self.step(CREATION, 0, key, vec![line], existing);
    }

    fn removed(&mut self, key: &Key, renames: &BTreeMap<Key, Vec<String>>) {
        let Some(object) = self.from.get(key) else { return };
        if key.table.is_some() && self.table_removed(key) {
            return; // dropped with its table
        }
        let phase = REMOVAL;
        let mut outside = false;
        let (lines, what) = match key.kind {
            Kind::Table => (
                vec![format!("op.drop_table({});", lit(&op_name(&key.schema, &key.name)))],
                format!(
                    "table `{}` is dropped with its rows: keep it, or state it with allow(destructive_change = \"…\")",
                    key.name
                ),
            ),
            Kind::Column => {
                let table = op_name(&key.schema, key.table.as_deref().unwrap_or_default());
                (
                    vec![format!("op.drop_column({}, {});", lit(&table), lit(&key.name))],
                    format!(
                        "column `{table}.{}` is dropped with its data, and deployed code that reads it breaks: keep it, or \
                         state it with allow(destructive_change = \"…\")",
                        key.name
                    ),
                )
            }
            Kind::Constraint => {
                let table = op_name(&key.schema, key.table.as_deref().unwrap_or_default());
                (
                    vec![format!("op.drop_constraint({}, {});", lit(&table), lit(&key.name))],
                    format!(
                        "constraint `{}` on `{table}` is dropped: the rows it kept out may come in",
                        key.name
                    ),
                )
            }
            Kind::Index => {
                outside = true;
                (
                    vec![format!("op.drop_index({}).concurrently();", lit(&op_name(&key.schema, &key.name)))],
                    format!("index `{}` is dropped: the queries it served may get slower", key.name),
                )
            }
            Kind::Enum => (
                vec![format!("op.drop_enum({});", lit(&op_name(&key.schema, &key.name)))],
                format!("enum `{}` is dropped", key.name),
            ),
            Kind::Sequence if self.owned_serial(self.from, key) => return,
            _ => (vec![Self::execute(&drop_sql(self.from, key, object))], format!("{key} is dropped")),
        };
        let mut lines = self.decide(what, lines);
        if let Some(notes) = renames.get(key) {
            lines.splice(0..0, notes.iter().cloned());
        }
        let sub = usize::MAX - object.depth();
        self.step(phase, sub, key, lines, outside);
    }

    fn changed(&mut self, key: &Key, changes: &[Change]) {
        let (Some(before), Some(after)) = (self.from.get(key), self.to.get(key)) else { return };
        let attributes: Vec<&'static str> = changes
            .iter()
            .filter_map(|c| match c {
                Change::Changed { attribute, .. } => Some(*attribute),
                _ => None,
            })
            .collect();
        if attributes.contains(&"comment") {
            self.comment(key, after.get("comment"));
        }
        let rest: Vec<&'static str> = attributes.iter().copied().filter(|a| *a != "comment").collect();
        if rest.is_empty() {
            return;
        }
        match key.kind {
            Kind::Column => self.change_column(key, before, after, &rest),
            Kind::Table => self.change_table(key, before, after, &rest),
            Kind::Enum => self.change_enum(key, before, after),
            Kind::Constraint
                if rest == ["definition"]
                    && before.get("definition").and_then(|d| d.strip_suffix(" NOT VALID"))
                        == after.get("definition") =>
            {
                let table = op_name(&key.schema, key.table.as_deref().unwrap_or_default());
                let line = format!("op.validate_constraint({}, {});", lit(&table), lit(&key.name));
                self.step(CREATION, 3, key, vec![line], true);
            }
            Kind::Extension if rest == ["version"] => {
                let sql = format!(
                    "ALTER EXTENSION {} UPDATE TO {}",
                    after.sql_name(),
                    migrate_core::sql::quote_literal(after.get("version").unwrap_or_default())
                );
                self.step(CREATION, 0, key, vec![Self::execute(&sql)], false);
            }
            Kind::Function | Kind::Procedure
                if !rest.iter().any(|a| matches!(*a, "returns" | "arguments")) =>
            {
                if let Some(sql) = self.to.create_statement(key) {
                    self.step(CREATION, 0, key, vec![Self::execute(&sql)], false);
                }
            }
            Kind::Sequence => {
                let sql = format!(
                    "ALTER SEQUENCE {} AS {} INCREMENT BY {} MINVALUE {} MAXVALUE {} START WITH {} CACHE {} {}",
                    after.sql_name(),
                    after.get("type").unwrap_or("bigint"),
                    after.get("increment").unwrap_or("1"),
                    after.get("minimum").unwrap_or("1"),
                    after.get("maximum").unwrap_or("9223372036854775807"),
                    after.get("start").unwrap_or("1"),
                    after.get("cache").unwrap_or("1"),
                    after.get("cycle").unwrap_or("no cycle").to_uppercase()
                );
                let owner = format!(
                    "ALTER SEQUENCE {} OWNED BY {}",
                    after.sql_name(),
                    after.get("owned by").unwrap_or("NONE")
                );
                self.step(CREATION, 0, key, vec![Self::execute(&sql)], false);
                if rest.contains(&"owned by") {
                    self.step(OWNERSHIP, 0, key, vec![Self::execute(&owner)], false);
                }
            }
            _ => {
                // Dropped and made again as it is declared.
                self.removed_for_replace(key, before);
                self.added_for_replace(key, after);
            }
        }
    }

    fn removed_for_replace(&mut self, key: &Key, before: &Object) {
        let table = op_name(&key.schema, key.table.as_deref().unwrap_or_default());
        let (line, outside) = match key.kind {
            Kind::Index => {
                (format!("op.drop_index({}).concurrently();", lit(&op_name(&key.schema, &key.name))), true)
            }
            Kind::Constraint => (format!("op.drop_constraint({}, {});", lit(&table), lit(&key.name)), false),
            _ => (Self::execute(&drop_sql(self.from, key, before)), false),
        };
        let sub = usize::MAX - before.depth();
        self.step(
            REMOVAL,
            sub,
            key,
            vec![format!("// {key} changes: dropped, then made again"), line],
            outside,
        );
    }

    fn added_for_replace(&mut self, key: &Key, after: &Object) {
        match key.kind {
            Kind::Index => self.add_index(key, after),
            Kind::Constraint => self.add_constraint(key, after),
            _ => match self.to.create_statement(key) {
                Some(sql) => self.step(CREATION, after.depth(), key, vec![Self::execute(&sql)], false),
                None => self.unsupported(key, "changed".to_owned()),
            },
        }
    }

    fn change_column(&mut self, key: &Key, before: &Object, after: &Object, attributes: &[&'static str]) {
        let table = op_name(&key.schema, key.table.as_deref().unwrap_or_default());
        let alter = format!("op.alter_column({}, {})", lit(&table), lit(&key.name));
        let column = format!("{table}.{}", key.name);
        let phase = CREATION;
        let mut outside = false;
        let mut lines = Vec::new();
        let (b_type, a_type) =
            (before.get("type").unwrap_or_default(), after.get("type").unwrap_or_default());
        if attributes.contains(&"type") {
            let line = format!("{alter}.set_type({});", rust_type(a_type));
            if rewrites(b_type, a_type) {
                lines.extend(self.decide(
                    format!(
                        "`{column}` changes type ({b_type} → {a_type}): this rewrites the table under an ACCESS EXCLUSIVE lock, \
                         and its values may need a conversion (set_type_using); or add a new column, fill it, switch"
                    ),
                    vec![line],
                ));
            } else {
                lines.push(line);
            }
        }
        if attributes.contains(&"collation") {
            let collation = after.get("collation").map(|c| format!(" COLLATE {c}")).unwrap_or_default();
            let table_sql = self.to.get(&table_key(key)).map(Object::sql_name).unwrap_or_default();
            let sql =
                format!("ALTER TABLE {table_sql} ALTER COLUMN {} TYPE {a_type}{collation}", after.sql_name());
            lines.extend(self.decide(
                format!(
                    "`{column}` changes collation: its indexes are rebuilt under an ACCESS EXCLUSIVE lock"
                ),
                vec![Self::execute(&sql)],
            ));
        }
        if attributes.contains(&"default") {
            lines.push(match after.get("default") {
                Some(default) => format!("{alter}.set_default(sql({}));", lit(default)),
                None => format!("{alter}.drop_default();"),
            });
        }
        if attributes.contains(&"not null") {
            if after.get("not null").is_some() {
                outside = true;
                lines.extend(self.decide(
                    format!(
                        "`{column}` becomes NOT NULL: existing rows holding NULL make it fail; fill them first (backfill) \
                         or give them a value in this migration"
                    ),
                    vec![format!("{alter}.set_not_null_through_check();")],
                ));
            } else {
                lines.push(format!("{alter}.drop_not_null();"));
            }
        }
        for attribute in
            attributes.iter().filter(|a| !matches!(**a, "type" | "collation" | "default" | "not null"))
        {
            let table_sql = self.to.get(&table_key(key)).map(Object::sql_name).unwrap_or_default();
            let name = after.sql_name();
            match *attribute {
                "identity" | "identity sequence"
                    if !attributes.contains(&"identity") || attribute == &"identity" =>
                {
                    let sql = match (before.get("identity"), after.get("identity")) {
                        (_, None) => format!("ALTER TABLE {table_sql} ALTER COLUMN {name} DROP IDENTITY"),
                        (None, Some(kind)) => format!(
                            "ALTER TABLE {table_sql} ALTER COLUMN {name} ADD GENERATED {kind} AS IDENTITY ({})",
                            after.get("identity sequence").unwrap_or_default()
                        ),
                        (Some(_), Some(kind)) => format!(
                            "ALTER TABLE {table_sql} ALTER COLUMN {name} SET GENERATED {kind}{}",
                            identity_settings(after.get("identity sequence").unwrap_or_default())
                        ),
                    };
                    lines.push(Self::execute(&sql));
                }
                "identity sequence" => {}
                other => {
                    let what = format!("`{column}` changes {other}");
                    return self.unsupported(key, what);
                }
            }
        }
        if !lines.is_empty() {
            self.step(phase, 1, key, lines, outside);
        }
    }

    fn change_table(&mut self, key: &Key, before: &Object, after: &Object, attributes: &[&'static str]) {
        for attribute in attributes {
            match *attribute {
                "column order" => {
                    let old = split_identifiers(before.get("column order").unwrap_or_default());
                    let new = split_identifiers(after.get("column order").unwrap_or_default());
                    let kept: Vec<&String> = new.iter().filter(|c| old.contains(c)).collect();
                    let old_kept: Vec<&String> = old.iter().filter(|c| new.contains(c)).collect();
                    let appended = new.iter().skip_while(|c| old.contains(c)).all(|c| !old.contains(c));
                    if (kept != old_kept || !appended) && self.upgrade {
                        self.plan.notes.push(format!(
                            "table `{}`: the declared column order ({}) cannot be reached: PostgreSQL adds columns at the \
                             end and never moves one; declare new columns last",
                            key.name,
                            new.join(", ")
                        ));
                    }
                }
                "row level security" => {
                    let name = after.sql_name();
                    let value = after.get("row level security").unwrap_or_default();
                    let enable = if value.starts_with("enabled") { "ENABLE" } else { "DISABLE" };
                    let force = if value.contains("forced") { "FORCE" } else { "NO FORCE" };
                    let sql = format!(
                        "ALTER TABLE {name} {enable} ROW LEVEL SECURITY;\nALTER TABLE {name} {force} ROW LEVEL SECURITY"
                    );
                    self.step(CREATION, 1, key, vec![Self::execute(&sql)], false);
                }
                other => self.unsupported(key, format!("`{}` changes {other}", key.name)),
            }
        }
    }

    /// New values are added in place; a value dropped or moved makes the type again.
    fn change_enum(&mut self, key: &Key, before: &Object, after: &Object) {
        let old = enum_values(before.get("values").unwrap_or_default());
        let new = enum_values(after.get("values").unwrap_or_default());
        let name = op_name(&key.schema, &key.name);
        let kept: Vec<&String> = new.iter().filter(|v| old.contains(v)).collect();
        if kept.len() == old.len() && kept.iter().zip(&old).all(|(a, b)| *a == b) {
            let mut lines = Vec::new();
            for (i, value) in new.iter().enumerate() {
                if old.contains(value) {
                    continue;
                }
                // Values are added in order: the one before is there already; at the front, the
                // first value the type had is.
                let place = match (i, new[i..].iter().find(|v| old.contains(v))) {
                    (_, None) => String::new(),
                    (0, Some(first_kept)) => format!(".before({})", lit(first_kept)),
                    _ => format!(".after({})", lit(&new[i - 1])),
                };
                lines.push(format!("op.add_enum_value({}, {}){place};", lit(&name), lit(value)));
            }
            self.step(CREATION, 0, key, lines, true);
            return;
        }
        // Made again: renamed away, created with the new values, every column converted.
        let sql_name = after.sql_name();
        let old_name = format!("{}__old", key.name);
        let mut lines = vec![Self::execute(&format!(
            "ALTER TYPE {sql_name} RENAME TO {}",
            migrate_core::sql::quote_ident(&old_name)
        ))];
        lines.push(format!("op.create_enum({}, {});", lit(&name), slice(&new)));
        for (column, object) in self.from.objects().filter(|(k, _)| k.kind == Kind::Column) {
            let ty = object.get("type").unwrap_or_default();
            let array = ty.ends_with("[]");
            if ty.trim_end_matches("[]") != sql_name || self.to.get(column).is_none() {
                continue;
            }
            let table_sql = self.from.get(&table_key(column)).map(Object::sql_name).unwrap_or_default();
            let col = object.sql_name();
            let (text, target) =
                if array { ("text[]", format!("{sql_name}[]")) } else { ("text", sql_name.to_owned()) };
            if object.get("default").is_some() {
                lines
                    .push(Self::execute(&format!("ALTER TABLE {table_sql} ALTER COLUMN {col} DROP DEFAULT")));
            }
            lines.push(Self::execute(&format!(
                "ALTER TABLE {table_sql} ALTER COLUMN {col} TYPE {target} USING {col}::{text}::{target}"
            )));
            if let Some(default) = object.get("default") {
                lines.push(Self::execute(&format!(
                    "ALTER TABLE {table_sql} ALTER COLUMN {col} SET DEFAULT {default}"
                )));
            }
        }
        let old_sql = if key.schema == "public" {
            format!("public.{}", migrate_core::sql::quote_ident(&old_name))
        } else {
            format!(
                "{}.{}",
                migrate_core::sql::quote_ident(&key.schema),
                migrate_core::sql::quote_ident(&old_name)
            )
        };
        lines.push(Self::execute(&format!("DROP TYPE {old_sql}")));
        let dropped: Vec<&String> = old.iter().filter(|v| !new.contains(v)).collect();
        let lines = if self.upgrade {
            self.decide(
                format!(
                    "enum `{}` loses or reorders values ({}): PostgreSQL cannot drop an enum value, so the type is made \
                     again and every column converted, under an ACCESS EXCLUSIVE lock; rows holding a dropped value make \
                     it fail",
                    key.name,
                    dropped.iter().map(|v| format!("'{v}'")).collect::<Vec<_>>().join(", ")
                ),
                lines,
            )
        } else {
            let mut lines = lines;
            lines.insert(
                0,
                format!(
                    "// PostgreSQL cannot drop an enum value: `{}` is made again without the values the upgrade added;\n\
                     // rows holding one of them make this fail.",
                    on_one_line(&key.name)
                ),
            );
            lines
        };
        self.step(CREATION, 0, key, lines, false);
    }

    fn comment(&mut self, key: &Key, text: Option<&str>) {
        let table = || op_name(&key.schema, key.table.as_deref().unwrap_or_default());
        let value = text.map_or_else(|| "None".to_owned(), |t| format!("Some({})", lit(t)));
        let line = match key.kind {
            Kind::Table => {
                format!("op.comment_on_table({}, {value});", lit(&op_name(&key.schema, &key.name)))
            }
            Kind::Column => format!("op.comment_on_column({}, {}, {value});", lit(&table()), lit(&key.name)),
            _ => {
                let sql = match text {
                    Some(_) => self.to.comment_statement(key),
                    None => self.from.sql_target(key).map(|target| format!("COMMENT ON {target} IS NULL")),
                };
                match sql {
                    Some(sql) => Self::execute(&sql),
                    None => return,
                }
            }
        };
        self.step(COMMENTS, 0, key, vec![line], false);
    }
}

/// The steps that make `from` into `to`.
fn plan(from: &Schema, to: &Schema, upgrade: bool) -> Plan {
    let places = [from, to].map(|schema| {
        schema.creation_order().into_iter().enumerate().map(|(place, key)| (key.clone(), place)).collect()
    });
    Planner { from, to, upgrade, plan: Plan::default(), places }.run()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_written_as_the_operations_write_them() {
        assert_eq!(rust_type("integer"), "Type::Integer");
        assert_eq!(rust_type("character varying(50)"), "Type::Varchar(50)");
        assert_eq!(rust_type("numeric(10,2)"), "Type::Numeric(10, 2)");
        assert_eq!(rust_type("text[]"), "Type::Array(&Type::Text)");
        assert_eq!(rust_type("timestamp with time zone"), "Type::TimestampTz");
        assert_eq!(rust_type("public.citext"), "Type::Sql(\"public.citext\")");
        assert_eq!(rust_type("character varying"), "Type::Sql(\"character varying\")");
    }

    #[test]
    fn definitions_are_read_into_operations() {
        let Some(Constraint::Foreign { columns, table, referred, actions, not_valid }) =
            parse_constraint("FOREIGN KEY (person_id) REFERENCES public.people(id) ON DELETE SET NULL")
        else {
            panic!("a foreign key");
        };
        assert_eq!(
            (columns, table, referred),
            (vec!["person_id".to_owned()], "people".to_owned(), vec!["id".to_owned()])
        );
        assert_eq!((actions.as_str(), not_valid), (".on_delete(Action::SetNull)", false));
        assert!(matches!(
            parse_constraint("CHECK ((score >= 0)) NOT VALID"),
            Some(Constraint::Check { not_valid: true, .. })
        ));
        assert!(parse_constraint("EXCLUDE USING gist (r WITH &&)").is_none());
        assert_eq!(
            parse_index("CREATE INDEX i ON public.t USING gin (tags) WHERE (done IS NULL)"),
            Some((false, vec!["tags".to_owned()], "gin".to_owned(), Some("(done IS NULL)".to_owned())))
        );
        assert_eq!(parse_index("CREATE INDEX i ON public.t USING btree (lower(email))"), None);
        assert_eq!(enum_values("'a', 'b''c'"), ["a", "b'c"]);
        assert_eq!(split_identifiers("id, \"a b\", c"), ["id", "a b", "c"]);
    }

    #[test]
    fn binary_compatible_type_changes_do_not_rewrite() {
        assert!(!rewrites("character varying(50)", "character varying(100)"));
        assert!(!rewrites("character varying(50)", "text"));
        assert!(!rewrites("numeric(10,2)", "numeric(12,2)"));
        assert!(rewrites("integer", "bigint"));
        assert!(rewrites("character varying(100)", "character varying(50)"));
    }

    #[test]
    fn a_name_cannot_end_a_comment_and_become_code() {
        let (from, to) = (Schema::default(), Schema::default());
        let mut planner = Planner {
            from: &from,
            to: &to,
            upgrade: true,
            plan: Plan::default(),
            places: [BTreeMap::new(), BTreeMap::new()],
        };
        let lines = planner.decide(
            "column `a\nop.execute(\"DROP TABLE accounts\");` is dropped".to_owned(),
            vec!["op.drop_column(\"t\", \"a\");".to_owned()],
        );
        assert_eq!(lines[0], "// DECIDE: column `a\\nop.execute(\"DROP TABLE accounts\");` is dropped");
        let plan = Plan {
            steps: vec![Step {
                order: (0, 0, 0, Key::new(Kind::Column, "public", Some("t"), "a")),
                lines,
                outside: false,
            }],
            ..Plan::default()
        };
        assert!(
            body(&plan)
                .lines()
                .all(|l| l.trim_start().starts_with("//") || l.trim_start().starts_with("op.drop_column"))
        );
    }

    #[test]
    fn identity_options_become_settings() {
        assert_eq!(
            identity_settings("START WITH 10 INCREMENT BY 5 MINVALUE 1 MAXVALUE 100 CACHE 1 NO CYCLE"),
            " SET START WITH 10 SET INCREMENT BY 5 SET MINVALUE 1 SET MAXVALUE 100 SET CACHE 1 SET NO CYCLE"
        );
        assert_eq!(identity_settings(""), "");
    }

    #[test]
    fn literals_stay_rust() {
        assert_eq!(lit("abc"), "\"abc\"");
        assert_eq!(lit("a \"b\""), "r#\"a \"b\"\"#");
        assert_eq!(lit("x\"#y"), "r##\"x\"#y\"##");
    }
}
