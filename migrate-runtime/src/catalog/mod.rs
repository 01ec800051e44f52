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
//!     println!("{change}"); // ~ trigger `touch` on `public.accounts`: …FOR EACH STATEMENT… → …FOR EACH ROW…
//! }
//! # Ok::<(), postgres::Error>(())
//! ```
//!
//! What is read, per object (README, "What the schema model compares"): schemas; extensions
//! (version); enums (values in order), composite types (attributes in order), domains (type,
//! default, NOT NULL, constraints, collation), range types; sequences (type, parameters,
//! ownership); functions and procedures (arguments with defaults, result, language,
//! volatility, strictness, security, parallel safety, leakproofness, cost, rows, settings,
//! body); tables (column order, persistence, partitioning, partition bound, inheritance,
//! storage options, row-level security); columns (type, NOT NULL, default, identity and its
//! sequence, generated expression, collation); constraints of every kind (definition, which
//! says NOT VALID, DEFERRABLE, ON DELETE); indexes (definition, validity); views and
//! materialized views (definition, options, column comments); triggers (definition, enabled
//! state); row-level security policies; comments on all of these; and, when asked, owners and
//! privileges. Left out: the runner's own tables, objects that belong to an extension, the
//! `plpgsql` extension every database has, system schemas, and data (a sequence's position, a
//! materialized view's rows).

mod read;
mod render;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

pub use read::Options;

/// The kind of a schema object, in the order a schema is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// `CREATE SCHEMA`.
    Schema,
    /// `CREATE EXTENSION`.
    Extension,
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
    /// `CREATE FUNCTION`, `CREATE PROCEDURE`.
    Function,
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
}

impl Kind {
    /// The word a person reads: `trigger`, `materialized view`.
    pub const fn word(self) -> &'static str {
        match self {
            Kind::Schema => "schema",
            Kind::Extension => "extension",
            Kind::Enum => "enum",
            Kind::Domain => "domain",
            Kind::Composite => "composite type",
            Kind::Range => "range type",
            Kind::Sequence => "sequence",
            Kind::Function => "function",
            Kind::Table => "table",
            Kind::Column => "column",
            Kind::Constraint => "constraint",
            Kind::Index => "index",
            Kind::View => "view",
            Kind::MaterializedView => "materialized view",
            Kind::Trigger => "trigger",
            Kind::Policy => "policy",
        }
    }

    /// Whether objects of this kind belong to a table (or a view, for indexes and triggers).
    pub const fn on_table(self) -> bool {
        matches!(self, Kind::Column | Kind::Constraint | Kind::Index | Kind::Trigger | Kind::Policy)
    }
}

/// Which object: its kind, its schema, the table it belongs to (columns, constraints,
/// indexes, triggers, policies) and its name (a function's with its argument types:
/// `touch(integer)`). Names are as the catalog stores them, unquoted.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
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

impl fmt::Display for Key {
    /// `trigger \`touch\` on \`public.accounts\``, `column \`email\` of \`public.people\``,
    /// `function \`public.touch()\``, `schema \`app\``.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = self.kind.word();
        match (&self.table, self.kind) {
            (Some(table), Kind::Column) => write!(f, "{word} `{}` of `{}.{table}`", self.name, self.schema),
            (Some(table), _) => write!(f, "{word} `{}` on `{}.{table}`", self.name, self.schema),
            (None, Kind::Schema | Kind::Extension) => write!(f, "{word} `{}`", self.name),
            (None, _) => write!(f, "{word} `{}.{}`", self.schema, self.name),
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

    /// Its name as SQL writes it: schema-qualified (the table's name alone for objects on a
    /// table, as `ALTER TABLE … RENAME` and `CREATE INDEX` take it), quoted where needed.
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
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Schema {
    objects: BTreeMap<Key, Object>,
}

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
        /// Its value in the first schema (`none` when it has none).
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
            None => format!("`{column}` first"),
            Some(previous) => format!("`{column}` after `{}`", order[previous]),
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
    if before.chars().count() <= SHORT && after.chars().count() <= SHORT && !before.contains('\n') {
        return (before.to_owned(), after.to_owned());
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
                                before: b.unwrap_or("none").to_owned(),
                                after: a.unwrap_or("none").to_owned(),
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

    /// The statement that creates object `key` as it is here, comment aside (`CREATE TABLE` with
    /// its columns, `CREATE INDEX`, `CREATE OR REPLACE FUNCTION`, `CREATE VIEW`…); `None` for a
    /// column (part of its table's), for the public schema, and for what PostgreSQL builds by
    /// itself (a partition's copy of its parent's index).
    pub fn create_statement(&self, key: &Key) -> Option<String> {
        render::statement(self, key, self.objects.get(key)?)
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
             ~ column `email` of `public.people`: comment none → where we write\n\
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
