//! The schema model: a PostgreSQL schema read from the catalog of a live database, normalized
//! so that two databases built the same way compare equal, compared into lines a person
//! reads, and written out as SQL.
//!
//! Every schema comparison of the project goes through it: the stairway of the test kit,
//! `check --db`'s drift gate, the committed schema snapshot and autogenerate.
//!
//! ```no_run
//! # use migrate_runtime::catalog::{Options, Schema, differences};
//! # let (mut left, mut right): (postgres::Client, postgres::Client) = todo!();
//! let before = Schema::read(&mut left, &Options::new())?;
//! let after = Schema::read(&mut right, &Options::new())?;
//! for change in before.diff(&after) {
//!     // ~ trigger `touch` on `public.accounts`: …FOR EACH STATEMENT EXECUTE FUNCTION… → …FOR EACH ROW EXECUTE FUNCTION…
//!     println!("{change}");
//! }
//! # Ok::<(), postgres::Error>(())
//! ```
//!
//! What is read, for each kind of object ([`Kind`]), is listed in the README ("The schema
//! model"), with the kinds it leaves out; comments on everything are read, and owners and
//! privileges when asked. Left out: the runner's own tables, objects that belong to an
//! extension, the `plpgsql` extension every database has, system schemas, and data.

mod read;
mod render;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use migrate_core::text::on_one_line;

pub use read::Options;
#[cfg(feature = "testkit")]
pub(crate) use read::read_prepared;

/// The kind of a schema object, in the order a schema is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// `CREATE SCHEMA`.
    Schema,
    /// `CREATE EXTENSION`.
    Extension,
    /// `CREATE COLLATION`.
    Collation,
    /// `CREATE TYPE … AS ENUM`.
    Enum,
    /// `CREATE DOMAIN`.
    Domain,
    /// `CREATE TYPE … AS (…)`.
    Composite,
    /// `CREATE TYPE … AS RANGE`.
    Range,
    /// `CREATE SEQUENCE`.
    Sequence,
    /// `CREATE FUNCTION`.
    Function,
    /// `CREATE PROCEDURE`.
    Procedure,
    /// `CREATE AGGREGATE`.
    Aggregate,
    /// `CREATE TABLE`.
    Table,
    /// A column of a table.
    Column,
    /// A constraint of a table.
    Constraint,
    /// `CREATE INDEX`.
    Index,
    /// `CREATE VIEW`.
    View,
    /// `CREATE MATERIALIZED VIEW`.
    MaterializedView,
    /// `CREATE TRIGGER`.
    Trigger,
    /// `CREATE POLICY`.
    Policy,
    /// `CREATE RULE`.
    Rule,
    /// `CREATE STATISTICS`.
    Statistics,
}

impl Kind {
    /// The word a person reads: `trigger`, `materialized view`.
    pub const fn word(self) -> &'static str {
        match self {
            Kind::Schema => "schema",
            Kind::Extension => "extension",
            Kind::Collation => "collation",
            Kind::Enum => "enum",
            Kind::Domain => "domain",
            Kind::Composite => "composite type",
            Kind::Range => "range type",
            Kind::Sequence => "sequence",
            Kind::Function => "function",
            Kind::Procedure => "procedure",
            Kind::Aggregate => "aggregate",
            Kind::Table => "table",
            Kind::Column => "column",
            Kind::Constraint => "constraint",
            Kind::Index => "index",
            Kind::View => "view",
            Kind::MaterializedView => "materialized view",
            Kind::Trigger => "trigger",
            Kind::Policy => "policy",
            Kind::Rule => "rule",
            Kind::Statistics => "statistics object",
        }
    }

    /// The system catalog its objects are rows of.
    pub(crate) const fn catalog(self) -> &'static str {
        match self {
            Kind::Schema => "pg_namespace",
            Kind::Extension => "pg_extension",
            Kind::Collation => "pg_collation",
            Kind::Enum | Kind::Domain | Kind::Composite | Kind::Range => "pg_type",
            Kind::Function | Kind::Procedure | Kind::Aggregate => "pg_proc",
            Kind::Sequence
            | Kind::Table
            | Kind::Column
            | Kind::Index
            | Kind::View
            | Kind::MaterializedView => "pg_class",
            Kind::Constraint => "pg_constraint",
            Kind::Trigger => "pg_trigger",
            Kind::Policy => "pg_policy",
            Kind::Rule => "pg_rewrite",
            Kind::Statistics => "pg_statistic_ext",
        }
    }

    /// Whether objects of this kind belong to a table (or a view, for indexes and triggers).
    pub const fn on_table(self) -> bool {
        matches!(
            self,
            Kind::Column | Kind::Constraint | Kind::Index | Kind::Trigger | Kind::Policy | Kind::Rule
        )
    }
}

/// Which object: its kind, its schema, the table it belongs to (columns, constraints,
/// indexes, triggers, policies) and its name (a function's with its argument types:
/// `touch(integer)`). Names are as the catalog stores them, unquoted.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub struct Key {
    /// The kind.
    pub kind: Kind,
    /// The schema (an extension's: the one it is installed in; a schema's: its own name).
    pub schema: String,
    /// The table or view it belongs to, for kinds on a table.
    pub table: Option<String>,
    /// The name.
    pub name: String,
}

impl Key {
    /// The object of `kind` named `name` in `schema`, on `table` for kinds on a table.
    pub fn new(kind: Kind, schema: &str, table: Option<&str>, name: &str) -> Key {
        Key { kind, schema: schema.to_owned(), table: table.map(str::to_owned), name: name.to_owned() }
    }
}

/// A name as a diff line shows it: bare when it is a plain identifier, else quoted and escaped
/// as SQL would need it quoted (`"x.y"`, `"a, b"`, `"line\ntwo"`), so that a hostile name cannot
/// pass for another object or break the line. A function's argument list is kept as PostgreSQL
/// prints it, its control characters and backticks escaped.
fn shown(name: &str) -> String {
    let (head, arguments) = match name.find('(') {
        Some(at) if name.ends_with(')') => name.split_at(at),
        _ => (name, ""),
    };
    let plain = head.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && head.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$');
    let arguments = on_one_line(arguments).replace('`', "\\`");
    if plain {
        format!("{head}{arguments}")
    } else {
        format!("{}{arguments}", format!("{head:?}").replace('`', "\\`"))
    }
}

impl fmt::Display for Key {
    /// `trigger \`touch\` on \`public.accounts\``, `column \`email\` of \`public.people\``,
    /// `function \`public.touch()\``, `schema \`app\``.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = self.kind.word();
        let (schema, name) = (shown(&self.schema), shown(&self.name));
        match (&self.table, self.kind) {
            (Some(table), Kind::Column) => write!(f, "{word} `{name}` of `{schema}.{}`", shown(table)),
            (Some(table), _) => write!(f, "{word} `{name}` on `{schema}.{}`", shown(table)),
            (None, Kind::Schema | Kind::Extension) => write!(f, "{word} `{name}`"),
            (None, _) => write!(f, "{word} `{schema}.{name}`"),
        }
    }
}

/// One object: its compared attributes, in the order they are shown, and what writing it
/// out as SQL needs (not compared).
#[derive(Clone, Debug, Default)]
pub struct Object {
    attributes: Vec<(&'static str, String)>,
    /// Its name as SQL writes it, schema-qualified and quoted where needed.
    sql_name: String,
    /// The statement that creates it, when the catalog gives it whole; `None` for what
    /// PostgreSQL creates by itself (a partition's copy of its parent's index).
    sql: Option<String>,
    /// How many objects of its kind it is built on (a view on a view, a partition of a
    /// partition, a foreign key after the keys): the order of the SQL file.
    depth: usize,
    /// A table's columns, in order.
    columns: Vec<String>,
    /// Its row's oid in its catalog (0 for a column), to resolve dependencies.
    oid: u32,
    /// For an object on a table or a view, that relation's name as SQL writes it.
    relation: String,
}

impl PartialEq for Object {
    fn eq(&self, other: &Object) -> bool {
        self.attributes == other.attributes
    }
}

impl Eq for Object {}

impl Object {
    /// The attribute `name` (`type`, `default`, `definition`, `comment`), if the object has it.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }

    /// Every compared attribute, in the order a difference is shown.
    pub fn attributes(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.attributes.iter().map(|(n, v)| (*n, v.as_str()))
    }

    /// For an object on a table or a view (a constraint, an index, a trigger, a rule, a
    /// policy), that relation's name as SQL writes it, schema-qualified; `None` otherwise.
    pub fn relation(&self) -> Option<&str> {
        (!self.relation.is_empty()).then_some(self.relation.as_str())
    }

    /// A column's definition as `CREATE TABLE` and `ADD COLUMN` write it: name, type, collation,
    /// generated expression, identity, default, NOT NULL.
    pub fn column_definition(&self) -> String {
        let mut line = format!("{} {}", self.sql_name, self.get("type").unwrap_or_default());
        if let Some(collation) = self.get("collation") {
            line.push_str(&format!(" COLLATE {collation}"));
        }
        if let Some(expression) = self.get("generated") {
            line.push_str(&format!(" GENERATED ALWAYS AS ({expression}) STORED"));
        }
        if let Some(identity) = self.get("identity") {
            line.push_str(&format!(" GENERATED {identity} AS IDENTITY"));
            if let Some(sequence) = self.get("identity sequence") {
                line.push_str(&format!(" ({sequence})"));
            }
        }
        if let Some(default) = self.get("default") {
            line.push_str(&format!(" DEFAULT {default}"));
        }
        if self.get("not null").is_some() {
            line.push_str(" NOT NULL");
        }
        line
    }

    /// Its name as SQL writes it, quoted where needed: schema-qualified for what has a schema of
    /// its own (a table, a type, a function, an index…), bare for what is named within a
    /// relation (a column, a constraint, a trigger, a rule, a policy: see [`Object::relation`]).
    pub fn sql_name(&self) -> &str {
        &self.sql_name
    }

    /// How many objects of its kind it is built on (a view on a view, a partition of a
    /// partition, a foreign key after the keys): objects of one kind are created in this order,
    /// and dropped in the reverse.
    pub fn depth(&self) -> usize {
        self.depth
    }

    fn set(&mut self, name: &'static str, value: Option<String>) {
        if let Some(value) = value {
            self.attributes.push((name, value));
        }
    }
}

/// A database's schema, as the catalog describes it.
#[derive(Clone, Debug, Default)]
pub struct Schema {
    objects: BTreeMap<Key, Object>,
    /// What each object is built on (`pg_depend`), for the order objects are created in; not
    /// compared.
    dependencies: BTreeMap<Key, BTreeSet<Key>>,
}

impl PartialEq for Schema {
    fn eq(&self, other: &Schema) -> bool {
        self.objects == other.objects
    }
}

impl Eq for Schema {}

/// One difference between two schemas, from the first (the one expected) to the second.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    /// In the first only: `- index \`people_email\` on \`public.people\``.
    Removed(Key),
    /// In the second only: `+ …`.
    Added(Key),
    /// In both, with one attribute different: `~ …: before → after`.
    Changed {
        /// The object.
        key: Key,
        /// The attribute: `definition`, `type`, `default`, `comment`, `column order`…
        attribute: &'static str,
        /// Its value in the first schema (`(none)` when it has none).
        before: String,
        /// Its value in the second.
        after: String,
    },
}

impl Change {
    /// The object changed.
    pub fn key(&self) -> &Key {
        match self {
            Change::Removed(key) | Change::Added(key) | Change::Changed { key, .. } => key,
        }
    }
}

/// How a [`Change::Changed`] shows an attribute one side does not have.
pub const ABSENT: &str = "(none)";

/// Attributes shown without their name: their value says what it is.
const SELF_DESCRIBED: [&str; 1] = ["definition"];

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Removed(key) => write!(f, "- {key}"),
            Change::Added(key) => write!(f, "+ {key}"),
            Change::Changed { key, attribute, before, after } => {
                let (before, after) = excerpt(before, after);
                if SELF_DESCRIBED.contains(attribute) {
                    write!(f, "~ {key}: {before} → {after}")
                } else {
                    write!(f, "~ {key}: {attribute} {before} → {after}")
                }
            }
        }
    }
}

/// A table's attribute listing its columns in order, compared as [`moved_columns`] says.
const COLUMN_ORDER: &str = "column order";

/// The columns whose place differs between two orders of a table's columns, each with the
/// column it follows in each (`first` at the start); `None` when the columns both orders have
/// are in the same order (a column only in one is a column added or removed, named as such).
/// The columns that stay are the longest run both orders share (their longest common
/// subsequence); the others moved.
fn moved_columns(before: &[String], after: &[String]) -> Option<(String, String)> {
    let before: Vec<&String> = before.iter().filter(|c| after.contains(c)).collect();
    let after: Vec<&String> = after.iter().filter(|c| before.contains(c)).collect();
    if before == after {
        return None;
    }
    let (n, m) = (before.len(), after.len());
    let mut longest = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            longest[i][j] = if before[i] == after[j] {
                longest[i + 1][j + 1] + 1
            } else {
                longest[i + 1][j].max(longest[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut stay) = (0, 0, Vec::new());
    while i < n && j < m {
        if before[i] == after[j] {
            stay.push(before[i]);
            i += 1;
            j += 1;
        } else if longest[i + 1][j] >= longest[i][j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    let place = |order: &[&String], column: &String| {
        let at = order.iter().position(|c| *c == column).unwrap_or(0);
        match at.checked_sub(1) {
            None => format!("`{}` first", shown(column)),
            Some(previous) => format!("`{}` after `{}`", shown(column), shown(order[previous])),
        }
    };
    let moved: Vec<&String> = before.iter().copied().filter(|c| !stay.contains(c)).collect();
    let describe = |order: &[&String]| moved.iter().map(|c| place(order, c)).collect::<Vec<_>>().join(", ");
    Some((describe(&before), describe(&after)))
}

/// Changes one per line, as [`Change`] displays them.
pub fn differences(changes: &[Change]) -> String {
    changes.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
}

/// Values longer than this are shown around their difference only.
const SHORT: usize = 60;
/// Words of context kept each side of a difference.
const CONTEXT: usize = 2;
/// The longest differing part shown.
const LONGEST: usize = 160;

/// The part of two values that differs, with a little context: whole when both are short,
/// else the differing words with `CONTEXT` words each side and `…` where text is left out.
/// Values that differ in blanks only are shown by the first line where they do, quoted.
fn excerpt(before: &str, after: &str) -> (String, String) {
    if before.chars().count() <= SHORT
        && after.chars().count() <= SHORT
        && !before.contains('\n')
        && !after.contains('\n')
    {
        return (on_one_line(before), on_one_line(after));
    }
    let (b, a): (Vec<&str>, Vec<&str>) =
        (before.split_whitespace().collect(), after.split_whitespace().collect());
    if b == a {
        // Blanks alone differ: the first line where they do, quoted.
        let (b, a): (Vec<&str>, Vec<&str>) = (before.split('\n').collect(), after.split('\n').collect());
        let at = b.iter().zip(&a).take_while(|(x, y)| x == y).count();
        let line = |lines: &[&str]| match lines.get(at) {
            Some(text) => format!("line {}: {text:?}", at + 1),
            None => format!("no line {}", at + 1),
        };
        return (line(&b), line(&a));
    }
    let prefix = b.iter().zip(&a).take_while(|(x, y)| x == y).count();
    let suffix = b[prefix..].iter().rev().zip(a[prefix..].iter().rev()).take_while(|(x, y)| x == y).count();
    let show = |words: &[&str]| {
        let start = prefix.saturating_sub(CONTEXT);
        let end = (words.len() - suffix + CONTEXT).min(words.len());
        let middle = migrate_core::text::shorten(&words[start..end].join(" "), LONGEST);
        let lead = if start > 0 { "…" } else { "" };
        let tail = if end < words.len() && !middle.ends_with('…') { "…" } else { "" };
        format!("{lead}{middle}{tail}")
    };
    (show(&b), show(&a))
}

impl Schema {
    /// Every object, in the order of their keys (kind, schema, table, name).
    pub fn objects(&self) -> impl Iterator<Item = (&Key, &Object)> {
        self.objects.iter()
    }

    /// The object `key`, if there is one.
    pub fn get(&self, key: &Key) -> Option<&Object> {
        self.objects.get(key)
    }

    /// How many objects it holds.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// Whether it holds no object.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// What differs from `self` to `other`: objects only in `self` ([`Change::Removed`]),
    /// only in `other` ([`Change::Added`]), and every attribute that differs
    /// ([`Change::Changed`]), in the order of the keys. Empty when they compare equal.
    pub fn diff(&self, other: &Schema) -> Vec<Change> {
        let keys: BTreeSet<&Key> = self.objects.keys().chain(other.objects.keys()).collect();
        let mut changes = Vec::new();
        for key in keys {
            match (self.objects.get(key), other.objects.get(key)) {
                (Some(_), None) => changes.push(Change::Removed(key.clone())),
                (None, Some(_)) => changes.push(Change::Added(key.clone())),
                (Some(before), Some(after)) if before != after => {
                    let mut names: Vec<&'static str> = before.attributes.iter().map(|(n, _)| *n).collect();
                    names
                        .extend(after.attributes.iter().map(|(n, _)| *n).filter(|n| before.get(n).is_none()));
                    for attribute in names {
                        let (b, a) = (before.get(attribute), after.get(attribute));
                        if attribute == COLUMN_ORDER {
                            if let Some((b, a)) = moved_columns(&before.columns, &after.columns) {
                                changes.push(Change::Changed {
                                    key: key.clone(),
                                    attribute,
                                    before: b,
                                    after: a,
                                });
                            }
                        } else if b != a {
                            changes.push(Change::Changed {
                                key: key.clone(),
                                attribute,
                                before: b.unwrap_or(ABSENT).to_owned(),
                                after: a.unwrap_or(ABSENT).to_owned(),
                            });
                        }
                    }
                }
                _ => {}
            }
        }
        changes
    }

    /// The schema as a SQL script that builds it on an empty database, in dependency order,
    /// deterministic: the committed schema snapshot.
    pub fn to_sql(&self) -> String {
        render::script(self)
    }

    /// Every object in an order it can be created in: each after what it is built on (its
    /// schema, the types its columns have, the table its index is on, the key its foreign key
    /// references, the function its default calls, the views a view reads, as PostgreSQL
    /// records them), else by kind (types before tables, tables before indexes) and name.
    /// Drops go the other way. A cycle, which PostgreSQL allows through function bodies only,
    /// is broken by kind and name.
    pub fn creation_order(&self) -> Vec<&Key> {
        const RANK: [Kind; 21] = [
            Kind::Schema,
            Kind::Extension,
            Kind::Collation,
            Kind::Enum,
            Kind::Domain,
            Kind::Composite,
            Kind::Range,
            Kind::Sequence,
            Kind::Function,
            Kind::Procedure,
            Kind::Aggregate,
            Kind::Table,
            Kind::Column,
            Kind::Constraint,
            Kind::View,
            Kind::MaterializedView,
            Kind::Index,
            Kind::Trigger,
            Kind::Rule,
            Kind::Policy,
            Kind::Statistics,
        ];
        let place = |key: &Key| {
            let rank = RANK.iter().position(|k| *k == key.kind).unwrap_or(RANK.len());
            (rank, self.objects.get(key).map_or(0, |o| o.depth))
        };
        let mut waiting: BTreeMap<&Key, usize> = BTreeMap::new();
        let mut dependents: BTreeMap<&Key, Vec<&Key>> = BTreeMap::new();
        for key in self.objects.keys() {
            // A column comes after its table, so after what the table is built on.
            let table = (key.kind == Kind::Column).then(|| Key {
                kind: Kind::Table,
                schema: key.schema.clone(),
                table: None,
                name: key.table.clone().unwrap_or_default(),
            });
            let on: Vec<&Key> = self
                .dependencies
                .get(key)
                .into_iter()
                .flatten()
                .chain(table.as_ref())
                .filter_map(|d| self.objects.get_key_value(d).map(|(k, _)| k))
                .collect();
            waiting.insert(key, on.len());
            for d in on {
                dependents.entry(d).or_default().push(key);
            }
        }
        let mut ready: BTreeSet<((usize, usize), &Key)> =
            waiting.iter().filter(|(_, n)| **n == 0).map(|(k, _)| (place(k), *k)).collect();
        let mut order = Vec::with_capacity(self.objects.len());
        while order.len() < self.objects.len() {
            let next = match ready.pop_first() {
                Some((_, key)) => key,
                // A cycle: the first of what is left.
                None => match waiting.iter().filter(|(_, n)| **n > 0).map(|(k, _)| (place(k), *k)).min() {
                    Some((_, key)) => key,
                    None => break,
                },
            };
            waiting.insert(next, 0);
            order.push(next);
            for dependent in dependents.get(next).into_iter().flatten() {
                if let Some(n) = waiting.get_mut(dependent)
                    && *n > 0
                {
                    *n -= 1;
                    if *n == 0 {
                        ready.insert((place(dependent), *dependent));
                    }
                }
            }
            waiting.remove(next);
        }
        order
    }

    /// The statement that creates object `key` as it is here, comment aside (`CREATE TABLE` with
    /// its columns, `CREATE INDEX`, `CREATE OR REPLACE FUNCTION`, `CREATE VIEW`…); `None` for a
    /// column (part of its table's), for the public schema, and for what PostgreSQL builds by
    /// itself (a partition's copy of its parent's index).
    pub fn create_statement(&self, key: &Key) -> Option<String> {
        render::statement(self, key, self.objects.get(key)?)
    }

    /// How SQL names object `key` after `COMMENT ON` or `DROP`: `TRIGGER touch ON
    /// public.accounts`, `FUNCTION public.touch()`, `MATERIALIZED VIEW public.counts`.
    pub fn sql_target(&self, key: &Key) -> Option<String> {
        Some(render::comment_target(self, key, self.objects.get(key)?))
    }

    /// `COMMENT ON … IS …;` for the comment of object `key`, if it has one.
    pub fn comment_statement(&self, key: &Key) -> Option<String> {
        render::comment_statement(self, key, self.objects.get(key)?)
    }

    fn insert(&mut self, key: Key, object: Object) {
        self.objects.insert(key, object);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kind: Kind, table: Option<&str>, name: &str) -> Key {
        Key { kind, schema: "public".into(), table: table.map(str::to_owned), name: name.into() }
    }

    fn schema(objects: Vec<(Key, Vec<(&'static str, &str)>)>) -> Schema {
        let mut schema = Schema::default();
        for (key, attributes) in objects {
            let object = Object {
                attributes: attributes.into_iter().map(|(n, v)| (n, v.to_owned())).collect(),
                ..Object::default()
            };
            schema.insert(key, object);
        }
        schema
    }

    #[test]
    fn a_trigger_of_another_level_reads_as_the_level_alone() {
        let trigger = key(Kind::Trigger, Some("accounts"), "touch");
        let definition = |level: &str| {
            format!(
                "CREATE TRIGGER touch AFTER INSERT OR UPDATE ON public.accounts FOR EACH {level} EXECUTE FUNCTION public.touch()"
            )
        };
        let before = schema(vec![(trigger.clone(), vec![("definition", &definition("STATEMENT"))])]);
        let after = schema(vec![(trigger, vec![("definition", &definition("ROW"))])]);
        assert_eq!(
            differences(&before.diff(&after)),
            "~ trigger `touch` on `public.accounts`: …FOR EACH STATEMENT EXECUTE FUNCTION… → …FOR EACH ROW EXECUTE FUNCTION…"
        );
        assert!(before.diff(&before).is_empty());
    }

    #[test]
    fn objects_and_attributes_on_one_side_only_are_named() {
        let column = key(Kind::Column, Some("people"), "email");
        let index = key(Kind::Index, Some("people"), "people_email");
        let before =
            schema(vec![(column.clone(), vec![("type", "text")]), (index, vec![("definition", "x")])]);
        let after = schema(vec![
            (column, vec![("type", "character varying(200)"), ("comment", "where we write")]),
            (key(Kind::Function, None, "touch()"), vec![("body", "BEGIN END")]),
        ]);
        assert_eq!(
            differences(&before.diff(&after)),
            "+ function `public.touch()`\n\
             ~ column `email` of `public.people`: type text → character varying(200)\n\
             ~ column `email` of `public.people`: comment (none) → where we write\n\
             - index `people_email` on `public.people`"
        );
    }

    #[test]
    fn a_column_moved_is_named_with_its_places_and_a_column_removed_moves_nothing() {
        let names = |list: &str| list.split(' ').map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(
            moved_columns(&names("id name email created_at"), &names("id name created_at email")),
            Some(("`email` after `name`".to_owned(), "`email` after `created_at`".to_owned()))
        );
        assert_eq!(
            moved_columns(&names("id name email"), &names("email id name")),
            Some(("`email` after `name`".to_owned(), "`email` first".to_owned()))
        );
        assert_eq!(moved_columns(&names("id name email"), &names("id email")), None);
        assert_eq!(moved_columns(&names("id email"), &names("id email phone")), None);
    }

    #[test]
    fn hostile_names_cannot_pass_for_other_objects() {
        let column = |schema: &str, table: &str, name: &str| Key {
            kind: Kind::Column,
            schema: schema.into(),
            table: Some(table.into()),
            name: name.into(),
        };
        let (one, other) = (column("public.x", "y", "b, c"), column("public", "x.y", "b, c"));
        assert_ne!(one.to_string(), other.to_string());
        assert_eq!(one.to_string(), "column `\"b, c\"` of `\"public.x\".y`");
        assert_eq!(column("public", "t", "line\ntwo").to_string().lines().count(), 1);
        assert_eq!(
            column("public", "t`1", "a` of `b").to_string(),
            "column `\"a\\` of \\`b\"` of `public.\"t\\`1\"`"
        );
        let function =
            Key { kind: Kind::Function, schema: "public".into(), table: None, name: "touch(integer)".into() };
        assert_eq!(function.to_string(), "function `public.touch(integer)`");
    }

    #[test]
    fn long_values_show_their_difference_with_context() {
        let body = |n: &str| {
            format!(
                "BEGIN\n    NEW.updated_at := now();\n    NEW.version := NEW.version + {n};\n    RETURN NEW;\nEND"
            )
        };
        assert_eq!(
            excerpt(&body("1"), &body("2")),
            ("…NEW.version + 1; RETURN NEW;…".to_owned(), "…NEW.version + 2; RETURN NEW;…".to_owned())
        );
        assert_eq!(
            excerpt("BEGIN\n  RETURN NEW;\nEND", "BEGIN\n    RETURN NEW;\nEND"),
            ("line 2: \"  RETURN NEW;\"".to_owned(), "line 2: \"    RETURN NEW;\"".to_owned())
        );
        assert_eq!(excerpt("a", "b"), ("a".to_owned(), "b".to_owned()));
    }
}
