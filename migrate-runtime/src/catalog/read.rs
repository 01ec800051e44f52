//! Reading the model from the catalog: one query per kind, in one read-only snapshot.
//!
//! The session reads with `search_path` set to `pg_catalog` alone, so that every name the
//! catalog functions print (`pg_get_viewdef`, `format_type`, defaults) is schema-qualified the
//! same way whatever the database's or the role's search path.

use std::collections::{BTreeMap, BTreeSet};

use postgres::{Client, GenericClient, SimpleQueryMessage};

use migrate_core::sql::{quote_ident, quote_literal};

use super::{Key, Kind, Object, Schema};
use crate::runner::TableNames;

/// What [`Schema::read`] reads beyond the schema itself, and what it leaves out.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Options {
    privileges: bool,
    ignored: BTreeSet<(String, String)>,
}

impl Options {
    /// The schema without owners and privileges, every table included.
    pub fn new() -> Options {
        Options::default()
    }

    /// Also compare owners and privileges (grants), which differ between servers whose roles
    /// differ.
    pub fn privileges(mut self, yes: bool) -> Options {
        self.privileges = yes;
        self
    }

    /// Leave out table `schema.name` and everything on it.
    pub fn ignore_table(mut self, schema: &str, name: &str) -> Options {
        self.ignored.insert((schema.to_owned(), name.to_owned()));
        self
    }

    /// Leave out a runner's version, history and lease tables.
    pub fn ignore_runner_tables(self, tables: &TableNames) -> Options {
        self.ignore_table(tables.schema(), tables.version())
            .ignore_table(tables.schema(), tables.history())
            .ignore_table(tables.schema(), &tables.lease())
    }

    fn ignores(&self, schema: &str, table: &str) -> bool {
        self.ignored.contains(&(schema.to_owned(), table.to_owned()))
    }
}

/// A row of text values (`None` for NULL).
type Row = Vec<Option<String>>;

/// The rows of each statement of a batch, in order.
fn result_sets(client: &mut impl GenericClient, batch: &str) -> Result<Vec<Vec<Row>>, postgres::Error> {
    let mut sets = vec![Vec::new()];
    for message in client.simple_query(batch)? {
        match message {
            SimpleQueryMessage::Row(row) => {
                if let Some(set) = sets.last_mut() {
                    set.push((0..row.len()).map(|i| row.get(i).map(str::to_owned)).collect());
                }
            }
            SimpleQueryMessage::CommandComplete(_) => sets.push(Vec::new()),
            _ => {}
        }
    }
    Ok(sets)
}

/// Column `i` of `row`, NULL as `None`.
fn at(row: &Row, i: usize) -> Option<String> {
    row.get(i).cloned().flatten()
}

/// Column `i` of `row`, NULL as the empty string (for columns that are never NULL).
fn text(row: &Row, i: usize) -> String {
    at(row, i).unwrap_or_default()
}

/// A user schema: not PostgreSQL's own, not a temporary or TOAST one.
const USER_SCHEMA: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' \
     AND n.nspname NOT LIKE 'pg\\_temp\\_%'";

/// Not a member of an extension (`CREATE EXTENSION` made it).
fn not_in_extension(catalog: &str, oid: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = '{catalog}'::regclass AND x.objid = {oid} AND x.deptype = 'e')"
    )
}

/// The comment of an object, as a column.
fn comment(oid: &str, catalog: &str) -> String {
    format!("obj_description({oid}, '{catalog}')")
}

/// A collation's qualified, quoted name, as a column.
fn collation(oid: &str) -> String {
    format!(
        "(SELECT quote_ident(cn.nspname) || '.' || quote_ident(co.collname) FROM pg_collation co \
         JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = {oid})"
    )
}

/// An ACL (`{a=r/b,c=arwd/b}`) with its items sorted, so grants made in another order
/// compare equal; `default` for the built-in privileges.
fn acl(value: Option<String>) -> String {
    match value {
        None => "default".to_owned(),
        Some(value) => {
            let mut items: Vec<&str> = value
                .trim_start_matches('{')
                .trim_end_matches('}')
                .split(',')
                .filter(|i| !i.is_empty())
                .collect();
            items.sort_unstable();
            items.join(", ")
        }
    }
}

/// Sorted options (`reloptions`, `proconfig`) as one value; `None` when there are none.
fn sorted_array(column: &str) -> String {
    format!("(SELECT string_agg(o, ', ' ORDER BY o) FROM unnest({column}) o)")
}

/// A function's body with each line's leading and trailing blanks and its empty lines taken
/// out: a body re-indented by a downgrade is the same function. (Blanks inside a multi-line
/// string literal of a body are the one thing this could hide.)
fn indentation_aside(body: &str) -> String {
    body.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("\n")
}

/// The elements of a one-dimensional text array's text form (`{a,"b c"}`).
fn text_array(value: &str) -> Vec<String> {
    let inner = value.strip_prefix('{').and_then(|v| v.strip_suffix('}')).unwrap_or("");
    let mut items = Vec::new();
    let mut chars = inner.chars();
    let mut item = String::new();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match c {
            '"' => quoted = !quoted,
            '\\' => item.extend(chars.next()),
            ',' if !quoted => items.push(std::mem::take(&mut item)),
            c => item.push(c),
        }
    }
    if !inner.is_empty() {
        items.push(item);
    }
    items
}

/// The last column of `row`, an object's oid (0 when there is none).
fn last(row: &Row) -> u32 {
    row.last().cloned().flatten().and_then(|oid| oid.parse().ok()).unwrap_or(0)
}

fn yes(value: Option<String>) -> bool {
    value.as_deref() == Some("t")
}

impl Schema {
    /// Reads the schema of the database `client` is connected to, in one read-only
    /// transaction.
    pub fn read(client: &mut Client, options: &Options) -> Result<Schema, postgres::Error> {
        read(client, options, None, true)
    }
}

/// [`Schema::read`] for a session that reads again and again (the stairway's): its queries are
/// prepared the first time (`prepared` false, then set), and only executed afterwards, which
/// spares PostgreSQL planning them at every read. The session must be the caller's own (a
/// pooled connection would carry the prepared statements to someone else). Dependencies, which
/// only order the creation of objects, are not read: such a schema compares, and its
/// [`Schema::creation_order`] is by kind and name alone.
#[cfg(feature = "testkit")]
pub(crate) fn read_prepared(
    client: &mut Client,
    options: &Options,
    prepared: &mut bool,
) -> Result<Schema, postgres::Error> {
    read(client, options, Some(prepared), false)
}

fn read(
    client: &mut Client,
    options: &Options,
    prepared: Option<&mut bool>,
    dependencies: bool,
) -> Result<Schema, postgres::Error> {
    let mut transaction = client.build_transaction().read_only(true).start()?;
    let version: u32 =
        result_sets(&mut transaction, "SET LOCAL search_path = pg_catalog; SHOW server_version_num")?
            .concat()
            .first()
            .and_then(|r| at(r, 0))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
    let mut reader = Reader { client: &mut transaction, options, version, schema: Schema::default() };
    reader.read_all(prepared, dependencies)?;
    let schema = reader.schema;
    transaction.commit()?;
    Ok(schema)
}

struct Reader<'a, 'c> {
    client: &'a mut postgres::Transaction<'c>,
    options: &'a Options,
    version: u32,
    schema: Schema,
}

impl Reader<'_, '_> {
    /// Owner and privileges, when asked.
    fn ownership(&self, object: &mut Object, owner: Option<String>, privileges: Option<String>) {
        if self.options.privileges {
            object.set("owner", owner);
            object.set("privileges", Some(acl(privileges)));
        }
    }

    fn add(&mut self, kind: Kind, schema: String, table: Option<String>, name: String, object: Object) {
        if let Some(table) = &table
            && self.options.ignores(&schema, table)
        {
            return;
        }
        self.schema.insert(Key { kind, schema, table, name }, object);
    }

    /// Every kind's query, sent in one batch (one round trip), and each kind's results.
    fn read_all(
        &mut self,
        prepared: Option<&mut bool>,
        with_dependencies: bool,
    ) -> Result<(), postgres::Error> {
        type Take<'a, 'c> = fn(&mut Reader<'a, 'c>, Vec<Row>);
        let kinds: [(String, Take<'_, '_>); 16] = [
            (self.schemas_sql(), Reader::schemas),
            (self.extensions_sql(), Reader::extensions),
            (self.collations_sql(), Reader::collations),
            (self.aggregates_sql(), Reader::aggregates),
            (self.statistics_sql(), Reader::statistics),
            (self.rules_sql(), Reader::rules),
            (self.types_sql(), Reader::types),
            (self.sequences_sql(), Reader::sequences),
            (self.functions_sql(), Reader::functions),
            (self.tables_sql(), Reader::tables),
            (self.columns_sql(), Reader::columns),
            (self.constraints_sql(), Reader::constraints),
            (self.indexes_sql(), Reader::indexes),
            (self.views_sql(), Reader::views),
            (self.triggers_sql(), Reader::triggers),
            (self.policies_sql(), Reader::policies),
        ];
        let dependencies = self.dependencies_sql();
        let mut statements: Vec<&str> = kinds.iter().map(|(sql, _)| sql.as_str()).collect();
        if with_dependencies {
            statements.push(&dependencies);
        }
        let batch = match prepared {
            None => statements.join(";\n"),
            Some(done) => {
                if !*done {
                    let prepare: Vec<String> = statements
                        .iter()
                        .enumerate()
                        .map(|(i, sql)| format!("PREPARE migrate_catalog_{i} AS {sql}"))
                        .collect();
                    self.client.batch_execute(&prepare.join(";\n"))?;
                    *done = true;
                }
                (0..statements.len())
                    .map(|i| format!("EXECUTE migrate_catalog_{i}"))
                    .collect::<Vec<_>>()
                    .join(";\n")
            }
        };
        let mut results = result_sets(self.client, &batch)?.into_iter();
        for (_, take) in &kinds {
            take(self, results.next().unwrap_or_default());
        }
        // Dependencies name objects by oid: they are resolved once every object is read.
        if with_dependencies {
            self.dependencies(results.next().unwrap_or_default());
        }
        Ok(())
    }

    fn schemas_sql(&self) -> String {
        format!(
            "SELECT n.nspname, quote_ident(n.nspname), pg_get_userbyid(n.nspowner), \
             coalesce(n.nspacl, acldefault('n', n.nspowner))::text, {} \
             , n.oid FROM pg_namespace n WHERE {USER_SCHEMA} AND {}",
            comment("n.oid", "pg_namespace"),
            not_in_extension("pg_namespace", "n.oid"),
        )
    }

    fn schemas(&mut self, rows: Vec<Row>) {
        for row in rows {
            let mut object = Object { sql_name: text(&row, 1), ..Object::default() };
            object.oid = last(&row);
            self.ownership(&mut object, at(&row, 2), at(&row, 3));
            object.set("comment", at(&row, 4));
            let name = text(&row, 0);
            self.add(Kind::Schema, name.clone(), None, name, object);
        }
    }

    fn extensions_sql(&self) -> String {
        format!(
            "SELECT e.extname, n.nspname, e.extversion, quote_ident(e.extname), quote_ident(n.nspname), {} \
             , e.oid FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname <> 'plpgsql'",
            comment("e.oid", "pg_extension"),
        )
    }

    fn extensions(&mut self, rows: Vec<Row>) {
        for row in rows {
            let mut object = Object { sql_name: text(&row, 3), ..Object::default() };
            object.oid = last(&row);
            object.set("version", at(&row, 2));
            object.set("comment", at(&row, 5));
            object.sql = Some(format!(
                "CREATE EXTENSION IF NOT EXISTS {} WITH SCHEMA {} VERSION {};",
                text(&row, 3),
                text(&row, 4),
                quote_literal(&text(&row, 2))
            ));
            self.add(Kind::Extension, text(&row, 1), None, text(&row, 0), object);
        }
    }

    fn types_sql(&self) -> String {
        format!(
            "SELECT t.typtype, n.nspname, t.typname, quote_ident(n.nspname) || '.' || quote_ident(t.typname), \
             pg_get_userbyid(t.typowner), coalesce(t.typacl, acldefault('T', t.typowner))::text, {comment}, \
             (SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid), \
             (SELECT string_agg(quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod) || \
                 CASE WHEN a.attcollation <> 0 AND a.attcollation <> at.typcollation THEN ' COLLATE ' || {attcollation} ELSE '' END, \
                 ', ' ORDER BY a.attnum) \
              FROM pg_attribute a JOIN pg_type at ON at.oid = a.atttypid WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped), \
             CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END, \
             t.typnotnull, t.typdefault, \
             (SELECT string_agg('CONSTRAINT ' || quote_ident(c.conname) || ' ' || pg_get_constraintdef(c.oid), ' ' ORDER BY c.conname) \
              FROM pg_constraint c WHERE c.contypid = t.oid), \
             CASE WHEN t.typtype = 'd' AND t.typcollation <> 0 AND t.typcollation <> bt.typcollation THEN {typcollation} END, \
             (SELECT format_type(r.rngsubtype, NULL) || \
                 CASE WHEN r.rngsubdiff <> 0 THEN ', SUBTYPE_DIFF = ' || r.rngsubdiff::regproc::text ELSE '' END || \
                 CASE WHEN r.rngcanonical <> 0 THEN ', CANONICAL = ' || r.rngcanonical::regproc::text ELSE '' END || \
                 CASE WHEN r.rngcollation <> 0 THEN ', COLLATION = ' || {rngcollation} ELSE '' END || \
                 CASE WHEN r.rngsubopc <> (SELECT o.oid FROM pg_opclass o WHERE o.opcmethod = 403 AND o.opcintype = r.rngsubtype \
                     AND o.opcdefault LIMIT 1) THEN ', SUBTYPE_OPCLASS = ' || (SELECT quote_ident(o.opcname) FROM pg_opclass o \
                     WHERE o.oid = r.rngsubopc) ELSE '' END || {multirange} \
              FROM pg_range r WHERE r.rngtypid = t.oid), \
             (SELECT string_agg(quote_ident(a.attname) || ': ' || d.description, ', ' ORDER BY a.attnum) \
              FROM pg_attribute a JOIN pg_description d ON d.objoid = a.attrelid AND d.classoid = 'pg_class'::regclass \
                 AND d.objsubid = a.attnum WHERE a.attrelid = t.typrelid AND t.typrelid <> 0), \
             (SELECT string_agg(E'\\nCOMMENT ON COLUMN ' || quote_ident(n.nspname) || '.' || quote_ident(t.typname) || '.' \
                 || quote_ident(a.attname) || ' IS ' || quote_literal(d.description) || ';', '' ORDER BY a.attnum) \
              FROM pg_attribute a JOIN pg_description d ON d.objoid = a.attrelid AND d.classoid = 'pg_class'::regclass \
                 AND d.objsubid = a.attnum WHERE a.attrelid = t.typrelid AND t.typrelid <> 0), \
             (SELECT string_agg(quote_ident(c.conname) || ': ' || d.description, ', ' ORDER BY c.conname) \
              FROM pg_constraint c JOIN pg_description d ON d.objoid = c.oid AND d.classoid = 'pg_constraint'::regclass \
              WHERE c.contypid = t.oid), \
             (SELECT string_agg(E'\\nCOMMENT ON CONSTRAINT ' || quote_ident(c.conname) || ' ON DOMAIN ' || quote_ident(n.nspname) \
                 || '.' || quote_ident(t.typname) || ' IS ' || quote_literal(d.description) || ';', '' ORDER BY c.conname) \
              FROM pg_constraint c JOIN pg_description d ON d.objoid = c.oid AND d.classoid = 'pg_constraint'::regclass \
              WHERE c.contypid = t.oid), t.oid \
             FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace LEFT JOIN pg_type bt ON bt.oid = t.typbasetype \
             WHERE {USER_SCHEMA} AND {ext} AND (t.typtype IN ('e', 'd', 'r') \
                OR (t.typtype = 'c' AND (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c'))",
            comment = comment("t.oid", "pg_type"),
            attcollation = collation("a.attcollation"),
            typcollation = collation("t.typcollation"),
            rngcollation = collation("r.rngcollation"),
            multirange = if self.version >= 140_000 {
                "', MULTIRANGE_TYPE_NAME = ' || format_type(r.rngmultitypid, NULL)"
            } else {
                "''"
            },
            ext = not_in_extension("pg_type", "t.oid"),
        )
    }

    fn types(&mut self, rows: Vec<Row>) {
        for row in rows {
            let name = text(&row, 3);
            let mut object = Object { sql_name: name.clone(), ..Object::default() };
            object.oid = last(&row);
            let kind = match text(&row, 0).as_str() {
                "e" => {
                    object.set("values", at(&row, 7));
                    object.sql =
                        Some(format!("CREATE TYPE {name} AS ENUM ({});", at(&row, 7).unwrap_or_default()));
                    Kind::Enum
                }
                "c" => {
                    object.set("attributes", at(&row, 8));
                    object.set("attribute comments", at(&row, 15));
                    object.sql = Some(format!(
                        "CREATE TYPE {name} AS ({});{}",
                        at(&row, 8).unwrap_or_default(),
                        at(&row, 16).unwrap_or_default()
                    ));
                    Kind::Composite
                }
                "d" => {
                    object.set("type", at(&row, 9));
                    object.set("collation", at(&row, 13));
                    object.set("default", at(&row, 11));
                    object.set("not null", yes(at(&row, 10)).then(|| "yes".to_owned()));
                    object.set("constraints", at(&row, 12));
                    object.set("constraint comments", at(&row, 17));
                    let mut sql = format!("CREATE DOMAIN {name} AS {}", text(&row, 9));
                    for (prefix, value) in
                        [(" COLLATE ", at(&row, 13)), (" DEFAULT ", at(&row, 11)), (" ", at(&row, 12))]
                    {
                        if let Some(value) = value {
                            sql.push_str(&format!("{prefix}{value}"));
                        }
                    }
                    if yes(at(&row, 10)) {
                        sql.push_str(" NOT NULL");
                    }
                    object.sql = Some(format!("{sql};{}", at(&row, 18).unwrap_or_default()));
                    Kind::Domain
                }
                _ => {
                    object.set("subtype", at(&row, 14));
                    object.sql = Some(format!(
                        "CREATE TYPE {name} AS RANGE (SUBTYPE = {});",
                        at(&row, 14).unwrap_or_default()
                    ));
                    Kind::Range
                }
            };
            self.ownership(&mut object, at(&row, 4), at(&row, 5));
            object.set("comment", at(&row, 6));
            self.add(kind, text(&row, 1), None, text(&row, 2), object);
        }
    }

    fn sequences_sql(&self) -> String {
        format!(
            "SELECT n.nspname, c.relname, quote_ident(n.nspname) || '.' || quote_ident(c.relname), \
             format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle, \
             (SELECT quote_ident(tn.nspname) || '.' || quote_ident(tc.relname) || '.' || quote_ident(a.attname) \
              FROM pg_depend d JOIN pg_class tc ON tc.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = tc.relnamespace \
              JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid \
              WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'a'), \
             pg_get_userbyid(c.relowner), coalesce(c.relacl, acldefault('s', c.relowner))::text, {}, c.oid \
             FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE {USER_SCHEMA} AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_class'::regclass \
                AND x.objid = c.oid AND x.deptype IN ('i', 'e'))",
            comment("c.oid", "pg_class"),
        )
    }

    fn sequences(&mut self, rows: Vec<Row>) {
        for row in rows {
            let name = text(&row, 2);
            let mut object = Object { sql_name: name.clone(), ..Object::default() };
            object.oid = last(&row);
            let labels = ["type", "start", "increment", "minimum", "maximum", "cache"];
            for (i, label) in labels.into_iter().enumerate() {
                object.set(label, at(&row, 3 + i));
            }
            let cycle = if yes(at(&row, 9)) { "CYCLE" } else { "NO CYCLE" };
            object.set("cycle", Some(cycle.to_lowercase()));
            object.set("owned by", at(&row, 10));
            object.sql = Some(format!(
                "CREATE SEQUENCE {name} AS {} START WITH {} INCREMENT BY {} MINVALUE {} MAXVALUE {} CACHE {} {cycle};",
                text(&row, 3),
                text(&row, 4),
                text(&row, 5),
                text(&row, 6),
                text(&row, 7),
                text(&row, 8)
            ));
            self.ownership(&mut object, at(&row, 11), at(&row, 12));
            object.set("comment", at(&row, 13));
            self.add(Kind::Sequence, text(&row, 0), None, text(&row, 1), object);
        }
    }

    fn functions_sql(&self) -> String {
        let kind = if self.version >= 110_000 {
            "p.prokind"
        } else {
            "CASE WHEN p.proisagg THEN 'a' WHEN p.proiswindow THEN 'w' ELSE 'f' END"
        };
        let body = if self.version >= 140_000 {
            "CASE WHEN p.prosqlbody IS NOT NULL THEN pg_get_function_sqlbody(p.oid) ELSE p.prosrc END"
        } else {
            "p.prosrc"
        };
        format!(
            "SELECT n.nspname, p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', {kind}, \
             pg_get_function_arguments(p.oid), pg_get_function_result(p.oid), l.lanname, \
             CASE p.provolatile WHEN 'i' THEN 'IMMUTABLE' WHEN 's' THEN 'STABLE' ELSE 'VOLATILE' END, \
             CASE WHEN p.proisstrict THEN 'STRICT' ELSE 'CALLED ON NULL INPUT' END, \
             CASE WHEN p.prosecdef THEN 'SECURITY DEFINER' ELSE 'SECURITY INVOKER' END, \
             CASE p.proparallel WHEN 's' THEN 'PARALLEL SAFE' WHEN 'r' THEN 'PARALLEL RESTRICTED' ELSE 'PARALLEL UNSAFE' END, \
             CASE WHEN p.proleakproof THEN 'LEAKPROOF' ELSE 'NOT LEAKPROOF' END, p.procost, p.prorows, \
             {settings}, {body}, pg_get_functiondef(p.oid), \
             quote_ident(n.nspname) || '.' || quote_ident(p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')', \
             pg_get_userbyid(p.proowner), coalesce(p.proacl, acldefault('f', p.proowner))::text, {comment}, p.oid \
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang \
             WHERE {USER_SCHEMA} AND {kind} IN ('f', 'p', 'w') AND {ext} AND NOT EXISTS (SELECT 1 FROM pg_depend x \
                WHERE x.classid = 'pg_proc'::regclass AND x.objid = p.oid AND x.deptype = 'i')",
            settings = sorted_array("p.proconfig"),
            comment = comment("p.oid", "pg_proc"),
            ext = not_in_extension("pg_proc", "p.oid"),
        )
    }

    fn functions(&mut self, rows: Vec<Row>) {
        for row in rows {
            let mut object = Object { sql_name: text(&row, 16), ..Object::default() };
            object.oid = last(&row);
            let procedure = text(&row, 2) == "p";
            object.set("arguments", at(&row, 3));
            object.set("returns", at(&row, 4));
            object.set("language", at(&row, 5));
            for (i, label) in
                [(6, "volatility"), (7, "strictness"), (8, "security"), (9, "parallel"), (10, "leakproof")]
            {
                object.set(label, if procedure && i != 8 { None } else { at(&row, i) });
            }
            object.set("cost", at(&row, 11));
            object.set("rows", at(&row, 12).filter(|r| r != "0"));
            object.set("settings", at(&row, 13));
            object.set("body", at(&row, 14).map(|body| indentation_aside(&body)));
            object.sql = at(&row, 15).map(|definition| format!("{};", definition.trim_end()));
            self.ownership(&mut object, at(&row, 17), at(&row, 18));
            object.set("comment", at(&row, 19));
            let kind = if procedure { Kind::Procedure } else { Kind::Function };
            self.add(kind, text(&row, 0), None, text(&row, 1), object);
        }
    }

    fn tables_sql(&self) -> String {
        format!(
            "SELECT n.nspname, c.relname, quote_ident(n.nspname) || '.' || quote_ident(c.relname), c.relkind, \
             CASE c.relpersistence WHEN 'u' THEN 'unlogged' WHEN 't' THEN 'temporary' ELSE 'permanent' END, \
             CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END, \
             (SELECT quote_ident(pn.nspname) || '.' || quote_ident(pc.relname) FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent \
              JOIN pg_namespace pn ON pn.oid = pc.relnamespace WHERE i.inhrelid = c.oid AND c.relispartition), \
             CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END, \
             (SELECT string_agg(quote_ident(pn.nspname) || '.' || quote_ident(pc.relname), ', ' ORDER BY i.inhseqno) \
              FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = pc.relnamespace \
              WHERE i.inhrelid = c.oid AND NOT c.relispartition), \
             {options}, c.relrowsecurity, c.relforcerowsecurity, \
             (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) FROM pg_attribute a \
              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), \
             pg_get_userbyid(c.relowner), coalesce(c.relacl, acldefault('r', c.relowner))::text, {comment}, \
             (SELECT array_agg(a.attname ORDER BY a.attnum) FROM pg_attribute a \
              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)::text, \
             CASE c.relreplident WHEN 'n' THEN 'NOTHING' WHEN 'f' THEN 'FULL' WHEN 'i' THEN 'USING INDEX ' || \
                 (SELECT quote_ident(ic.relname) FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid \
                  WHERE i.indrelid = c.oid AND i.indisreplident) END, \
             (SELECT quote_ident(am.amname) FROM pg_am am WHERE am.oid = c.relam AND am.amname <> 'heap'), \
             (SELECT quote_ident(ts.spcname) FROM pg_tablespace ts WHERE ts.oid = c.reltablespace), \
             (SELECT format_type(c.reloftype, NULL) WHERE c.reloftype <> 0), c.oid \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE {USER_SCHEMA} AND c.relkind IN ('r', 'p', 'f') AND {ext}",
            options = sorted_array("c.reloptions"),
            comment = comment("c.oid", "pg_class"),
            ext = not_in_extension("pg_class", "c.oid"),
        )
    }

    fn tables(&mut self, rows: Vec<Row>) {
        let mut parents: BTreeMap<String, String> = BTreeMap::new();
        for row in rows {
            let (schema, name) = (text(&row, 0), text(&row, 1));
            if self.options.ignores(&schema, &name) {
                continue;
            }
            let mut object =
                Object { sql_name: text(&row, 2), columns: text_array(&text(&row, 16)), ..Object::default() };
            object.oid = last(&row);
            object.set(super::COLUMN_ORDER, at(&row, 12));
            object.set("persistence", at(&row, 4).filter(|_| text(&row, 3) != "f"));
            object.set("foreign", (text(&row, 3) == "f").then(|| "yes".to_owned()));
            object.set("partitioned by", at(&row, 5));
            object.set("partition of", at(&row, 6));
            object.set("bound", at(&row, 7));
            object.set("inherits", at(&row, 8));
            object.set("options", at(&row, 9));
            let security = match (yes(at(&row, 10)), yes(at(&row, 11))) {
                (false, false) => None,
                (true, false) => Some("enabled"),
                (false, true) => Some("forced (not enabled)"),
                (true, true) => Some("enabled, forced"),
            };
            object.set("row level security", security.map(str::to_owned));
            object.set("replica identity", at(&row, 17));
            object.set("access method", at(&row, 18));
            object.set("tablespace", at(&row, 19));
            object.set("of type", at(&row, 20));
            self.ownership(&mut object, at(&row, 13), at(&row, 14));
            object.set("comment", at(&row, 15));
            if let Some(parent) = at(&row, 6) {
                parents.insert(text(&row, 2), parent);
            }
            self.add(Kind::Table, schema, None, name, object);
        }
        // A partition is written after its parent.
        let depth = |name: &str| {
            let (mut name, mut depth) = (name, 0);
            while let Some(parent) = parents.get(name) {
                depth += 1;
                name = parent.as_str();
                if depth > parents.len() {
                    break;
                }
            }
            depth
        };
        let depths: Vec<usize> = self
            .schema
            .objects
            .iter()
            .filter(|(k, _)| k.kind == Kind::Table)
            .map(|(_, o)| depth(&o.sql_name))
            .collect();
        for ((_, object), depth) in
            self.schema.objects.iter_mut().filter(|(k, _)| k.kind == Kind::Table).zip(depths)
        {
            object.depth = depth;
        }
    }

    fn columns_sql(&self) -> String {
        let generated = if self.version >= 120_000 { "a.attgenerated" } else { "''" };
        format!(
            "SELECT n.nspname, c.relname, a.attname, quote_ident(a.attname), format_type(a.atttypid, a.atttypmod), a.attnotnull, \
             CASE WHEN {generated} = '' THEN pg_get_expr(d.adbin, d.adrelid) END, \
             CASE a.attidentity WHEN 'a' THEN 'ALWAYS' WHEN 'd' THEN 'BY DEFAULT' END, \
             (SELECT 'START WITH ' || s.seqstart || ' INCREMENT BY ' || s.seqincrement || ' MINVALUE ' || s.seqmin || \
                 ' MAXVALUE ' || s.seqmax || ' CACHE ' || s.seqcache || CASE WHEN s.seqcycle THEN ' CYCLE' ELSE ' NO CYCLE' END \
              FROM pg_depend x JOIN pg_sequence s ON s.seqrelid = x.objid WHERE a.attidentity <> '' \
                 AND x.classid = 'pg_class'::regclass AND x.refclassid = 'pg_class'::regclass AND x.refobjid = c.oid \
                 AND x.refobjsubid = a.attnum AND x.deptype = 'i'), \
             CASE WHEN {generated} = 's' THEN pg_get_expr(d.adbin, d.adrelid) END, \
             CASE WHEN a.attcollation <> t.typcollation THEN {collation} END, \
             col_description(c.oid, a.attnum), a.attacl::text, \
             CASE WHEN a.attstorage <> t.typstorage THEN CASE a.attstorage WHEN 'p' THEN 'PLAIN' WHEN 'e' THEN 'EXTERNAL' \
                 WHEN 'm' THEN 'MAIN' ELSE 'EXTENDED' END END, \
             {compression}, CASE WHEN a.attstattarget > 0 THEN a.attstattarget::text END, {options} \
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_type t ON t.oid = a.atttypid LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
             WHERE {USER_SCHEMA} AND a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'f') AND {ext}",
            collation = collation("a.attcollation"),
            compression = if self.version >= 140_000 {
                "CASE a.attcompression WHEN 'p' THEN 'pglz' WHEN 'l' THEN 'lz4' END"
            } else {
                "NULL"
            },
            options = sorted_array("a.attoptions"),
            ext = not_in_extension("pg_class", "c.oid"),
        )
    }

    fn columns(&mut self, rows: Vec<Row>) {
        for row in rows {
            let mut object = Object { sql_name: text(&row, 3), ..Object::default() };
            object.set("type", at(&row, 4));
            object.set("collation", at(&row, 10));
            object.set("not null", yes(at(&row, 5)).then(|| "yes".to_owned()));
            object.set("default", at(&row, 6));
            object.set("identity", at(&row, 7));
            object.set("identity sequence", at(&row, 8));
            object.set("generated", at(&row, 9));
            object.set("comment", at(&row, 11));
            object.set("storage", at(&row, 13));
            object.set("compression", at(&row, 14));
            object.set("statistics", at(&row, 15));
            object.set("options", at(&row, 16));
            if self.options.privileges {
                object.set("privileges", at(&row, 12).map(|a| acl(Some(a))));
            }
            self.add(Kind::Column, text(&row, 0), Some(text(&row, 1)), text(&row, 2), object);
        }
    }

    fn constraints_sql(&self) -> String {
        let inherited = if self.version >= 110_000 {
            "(con.conparentid <> 0 OR (con.coninhcount > 0 AND NOT con.conislocal))"
        } else {
            "(con.coninhcount > 0 AND NOT con.conislocal)"
        };
        format!(
            "SELECT n.nspname, c.relname, con.conname, quote_ident(con.conname), pg_get_constraintdef(con.oid), \
             quote_ident(n.nspname) || '.' || quote_ident(c.relname), {inherited}, {}, \
             obj_description(con.conindid, 'pg_class'), \
             (SELECT string_agg(o, ', ' ORDER BY o) FROM pg_class ic, unnest(ic.reloptions) o \
              WHERE ic.oid = con.conindid AND con.contype IN ('p', 'u', 'x')), con.oid \
             FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE {USER_SCHEMA} AND con.contype NOT IN ('t', 'n') AND {}",
            comment("con.oid", "pg_constraint"),
            not_in_extension("pg_class", "c.oid"),
        )
    }

    fn constraints(&mut self, rows: Vec<Row>) {
        for row in rows {
            let mut object = Object { sql_name: text(&row, 3), ..Object::default() };
            object.oid = last(&row);
            object.relation = text(&row, 5);
            object.set("definition", at(&row, 4));
            object.set("comment", at(&row, 7));
            object.set("index comment", at(&row, 8));
            object.set("index options", at(&row, 9));
            object.sql = (!yes(at(&row, 6))).then(|| {
                format!("ALTER TABLE {} ADD CONSTRAINT {} {};", text(&row, 5), text(&row, 3), text(&row, 4))
            });
            // Keys first: a foreign key needs the key it references.
            let definition = text(&row, 4);
            object.depth = if definition.starts_with("PRIMARY KEY") || definition.starts_with("UNIQUE") {
                0
            } else if definition.starts_with("FOREIGN KEY") {
                2
            } else {
                1
            };
            self.add(Kind::Constraint, text(&row, 0), Some(text(&row, 1)), text(&row, 2), object);
        }
    }

    fn indexes_sql(&self) -> String {
        format!(
            "SELECT n.nspname, c.relname, ic.relname, quote_ident(n.nspname) || '.' || quote_ident(ic.relname), \
             pg_get_indexdef(i.indexrelid), i.indisvalid, EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid), {}, \
             i.indisclustered, (SELECT quote_ident(ts.spcname) FROM pg_tablespace ts WHERE ts.oid = ic.reltablespace), \
             quote_ident(n.nspname) || '.' || quote_ident(c.relname), i.indexrelid \
             FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class c ON c.oid = i.indrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE {USER_SCHEMA} AND {} AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid \
                AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x'))",
            comment("i.indexrelid", "pg_class"),
            not_in_extension("pg_class", "c.oid"),
        )
    }

    fn indexes(&mut self, rows: Vec<Row>) {
        for row in rows {
            let mut object = Object { sql_name: text(&row, 3), ..Object::default() };
            object.oid = last(&row);
            object.relation = text(&row, 10);
            object.set("definition", at(&row, 4));
            object.set(
                "valid",
                (!yes(at(&row, 5))).then(|| "no (a CREATE INDEX CONCURRENTLY failed)".to_owned()),
            );
            object.set("comment", at(&row, 7));
            object.set("clustered", yes(at(&row, 8)).then(|| "yes".to_owned()));
            object.set("tablespace", at(&row, 9));
            // A partitioned table's index is printed `ON ONLY`, which would build it invalid until
            // every partition's index is attached. Without it, it attaches the partitions' own
            // indexes, written before it (see the dependencies), and builds those missing.
            let mut sql = format!("{};", text(&row, 4).replacen(" ON ONLY ", " ON ", 1));
            if yes(at(&row, 8)) {
                sql.push_str(&format!(
                    "\nALTER TABLE {} CLUSTER ON {};",
                    text(&row, 10),
                    quote_ident(&text(&row, 2))
                ));
            }
            object.sql = Some(sql);
            self.add(Kind::Index, text(&row, 0), Some(text(&row, 1)), text(&row, 2), object);
        }
    }

    fn views_sql(&self) -> String {
        format!(
            "SELECT n.nspname, c.relname, quote_ident(n.nspname) || '.' || quote_ident(c.relname), c.relkind, \
             pg_get_viewdef(c.oid, true), {options}, \
             (SELECT string_agg(quote_ident(a.attname) || ': ' || col_description(c.oid, a.attnum), ', ' ORDER BY a.attnum) \
              FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND col_description(c.oid, a.attnum) IS NOT NULL), \
             (SELECT string_agg(E'\\nCOMMENT ON COLUMN ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) || '.' || quote_ident(a.attname) \
                 || ' IS ' || quote_literal(col_description(c.oid, a.attnum)) || ';', '' ORDER BY a.attnum) \
              FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND col_description(c.oid, a.attnum) IS NOT NULL), \
             pg_get_userbyid(c.relowner), coalesce(c.relacl, acldefault('r', c.relowner))::text, {comment}, \
             (SELECT array_agg(DISTINCT quote_ident(rn.nspname) || '.' || quote_ident(rc.relname)) \
              FROM pg_rewrite r JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid \
              JOIN pg_class rc ON rc.oid = d.refobjid JOIN pg_namespace rn ON rn.oid = rc.relnamespace \
              WHERE r.ev_class = c.oid AND d.refclassid = 'pg_class'::regclass AND rc.oid <> c.oid AND rc.relkind IN ('v', 'm'))::text, \
             c.relispopulated, \
             (SELECT string_agg(quote_ident(a.attname) || ' ' || pg_get_expr(d.adbin, d.adrelid), ', ' ORDER BY a.attnum) \
              FROM pg_attribute a JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum WHERE a.attrelid = c.oid), \
             (SELECT string_agg(E'\\nALTER VIEW ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) || ' ALTER COLUMN ' \
                 || quote_ident(a.attname) || ' SET DEFAULT ' || pg_get_expr(d.adbin, d.adrelid) || ';', '' ORDER BY a.attnum) \
              FROM pg_attribute a JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
              WHERE a.attrelid = c.oid AND c.relkind = 'v'), c.oid \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE {USER_SCHEMA} AND c.relkind IN ('v', 'm') AND {ext}",
            options = sorted_array("c.reloptions"),
            comment = comment("c.oid", "pg_class"),
            ext = not_in_extension("pg_class", "c.oid"),
        )
    }

    fn views(&mut self, rows: Vec<Row>) {
        let mut reads = BTreeMap::new();
        let mut keys = Vec::new();
        for row in rows {
            let name = text(&row, 2);
            let materialized = text(&row, 3) == "m";
            let mut object = Object { sql_name: name.clone(), ..Object::default() };
            object.oid = last(&row);
            let definition = text(&row, 4);
            object.set("definition", Some(definition.clone()));
            object.set("options", at(&row, 5));
            object.set("column comments", at(&row, 6));
            object.set("column defaults", at(&row, 13));
            object.set("populated", (materialized && !yes(at(&row, 12))).then(|| "no".to_owned()));
            self.ownership(&mut object, at(&row, 8), at(&row, 9));
            object.set("comment", at(&row, 10));
            let with = at(&row, 5).map(|o| format!(" WITH ({o})")).unwrap_or_default();
            let body = definition.trim().trim_end_matches(';');
            let column_comments =
                format!("{}{}", at(&row, 7).unwrap_or_default(), at(&row, 14).unwrap_or_default());
            object.sql = Some(if materialized {
                let data = if yes(at(&row, 12)) { "WITH DATA" } else { "WITH NO DATA" };
                format!("CREATE MATERIALIZED VIEW {name}{with} AS\n{body}\n{data};{column_comments}")
            } else {
                format!("CREATE VIEW {name}{with} AS\n{body};{column_comments}")
            });
            let read: Vec<String> = at(&row, 11).map(|r| text_array(&r)).unwrap_or_default();
            reads.insert(name.clone(), read);
            let kind = if materialized { Kind::MaterializedView } else { Kind::View };
            let key = Key { kind, schema: text(&row, 0), table: None, name: text(&row, 1) };
            keys.push((key.clone(), name));
            self.schema.insert(key, object);
        }
        // A view is written after the views it reads.
        fn depth(name: &str, reads: &BTreeMap<String, Vec<String>>, seen: usize) -> usize {
            if seen > reads.len() {
                return seen;
            }
            reads.get(name).into_iter().flatten().map(|r| 1 + depth(r, reads, seen + 1)).max().unwrap_or(0)
        }
        for (key, name) in keys {
            let value = depth(&name, &reads, 0);
            if let Some(object) = self.schema.objects.get_mut(&key) {
                object.depth = value;
            }
        }
    }

    fn triggers_sql(&self) -> String {
        let inherited = if self.version >= 130_000 { "t.tgparentid <> 0" } else { "false" };
        format!(
            "SELECT n.nspname, c.relname, t.tgname, quote_ident(t.tgname), pg_get_triggerdef(t.oid, true), \
             CASE t.tgenabled WHEN 'O' THEN 'enabled' WHEN 'D' THEN 'disabled' WHEN 'R' THEN 'replica only' ELSE 'always' END, \
             quote_ident(n.nspname) || '.' || quote_ident(c.relname), {inherited}, {}, t.oid \
             FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE {USER_SCHEMA} AND NOT t.tgisinternal AND {}",
            comment("t.oid", "pg_trigger"),
            not_in_extension("pg_class", "c.oid"),
        )
    }

    fn triggers(&mut self, rows: Vec<Row>) {
        for row in rows {
            let mut object = Object { sql_name: text(&row, 3), ..Object::default() };
            object.oid = last(&row);
            object.relation = text(&row, 6);
            object.set("definition", at(&row, 4));
            let enabled = text(&row, 5);
            let toggle = match enabled.as_str() {
                "disabled" => "DISABLE TRIGGER",
                "replica only" => "ENABLE REPLICA TRIGGER",
                "always" => "ENABLE ALWAYS TRIGGER",
                _ => "",
            };
            object.set("state", (enabled != "enabled").then_some(enabled));
            object.set("comment", at(&row, 8));
            // A partition's copy of its parent's trigger comes with the partition; its state
            // is its own.
            let mut sql = Vec::new();
            if !yes(at(&row, 7)) {
                sql.push(format!("{};", text(&row, 4)));
            }
            if !toggle.is_empty() {
                sql.push(format!("ALTER TABLE {} {toggle} {};", text(&row, 6), text(&row, 3)));
            }
            object.sql = (!sql.is_empty()).then(|| sql.join("\n"));
            self.add(Kind::Trigger, text(&row, 0), Some(text(&row, 1)), text(&row, 2), object);
        }
    }

    fn collations_sql(&self) -> String {
        let locale = match self.version {
            170_000.. => "c.colllocale",
            150_000.. => "c.colliculocale",
            _ => "NULL",
        };
        format!(
            "SELECT n.nspname, c.collname, quote_ident(n.nspname) || '.' || quote_ident(c.collname), \
             CASE c.collprovider WHEN 'i' THEN 'icu' WHEN 'c' THEN 'libc' WHEN 'b' THEN 'builtin' ELSE 'default' END, \
             c.collcollate, c.collctype, {locale}, c.collisdeterministic, {}, c.oid \
             FROM pg_collation c JOIN pg_namespace n ON n.oid = c.collnamespace WHERE {USER_SCHEMA} AND {}",
            comment("c.oid", "pg_collation"),
            not_in_extension("pg_collation", "c.oid"),
        )
    }

    fn collations(&mut self, rows: Vec<Row>) {
        for row in rows {
            let name = text(&row, 2);
            let mut object = Object { sql_name: name.clone(), ..Object::default() };
            object.oid = last(&row);
            let provider = text(&row, 3);
            object.set("provider", Some(provider.clone()));
            object.set("locale", at(&row, 6));
            object.set("lc_collate", at(&row, 4));
            object.set("lc_ctype", at(&row, 5));
            object.set("deterministic", (!yes(at(&row, 7))).then(|| "no".to_owned()));
            object.set("comment", at(&row, 8));
            let mut options = vec![format!("provider = {provider}")];
            for (label, column) in [("locale", 6), ("lc_collate", 4), ("lc_ctype", 5)] {
                if let Some(value) = at(&row, column) {
                    options.push(format!("{label} = {}", quote_literal(&value)));
                }
            }
            if !yes(at(&row, 7)) {
                options.push("deterministic = false".to_owned());
            }
            object.sql = Some(format!("CREATE COLLATION {name} ({});", options.join(", ")));
            self.add(Kind::Collation, text(&row, 0), None, text(&row, 1), object);
        }
    }

    fn aggregates_sql(&self) -> String {
        format!(
            "SELECT n.nspname, p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', \
             quote_ident(n.nspname) || '.' || quote_ident(p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')', \
             a.aggkind, a.aggtransfn::regproc::text, format_type(a.aggtranstype, NULL), \
             NULLIF(a.aggfinalfn::regproc::text, '-'), NULLIF(a.aggcombinefn::regproc::text, '-'), a.agginitval, \
             pg_get_userbyid(p.proowner), coalesce(p.proacl, acldefault('f', p.proowner))::text, {}, p.oid \
             FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid JOIN pg_namespace n ON n.oid = p.pronamespace \
             WHERE {USER_SCHEMA} AND {}",
            comment("p.oid", "pg_proc"),
            not_in_extension("pg_proc", "p.oid"),
        )
    }

    fn aggregates(&mut self, rows: Vec<Row>) {
        for row in rows {
            let name = text(&row, 2);
            let mut object = Object { sql_name: name.clone(), ..Object::default() };
            object.oid = last(&row);
            let ordinary = text(&row, 3) == "n";
            object.set("kind", (!ordinary).then(|| "ordered-set".to_owned()));
            object.set("state function", at(&row, 4));
            object.set("state type", at(&row, 5));
            object.set("final function", at(&row, 6));
            object.set("combine function", at(&row, 7));
            object.set("initial state", at(&row, 8));
            self.ownership(&mut object, at(&row, 9), at(&row, 10));
            object.set("comment", at(&row, 11));
            let mut options =
                vec![format!("SFUNC = {}", text(&row, 4)), format!("STYPE = {}", text(&row, 5))];
            for (label, column) in [("FINALFUNC", 6), ("COMBINEFUNC", 7)] {
                if let Some(value) = at(&row, column) {
                    options.push(format!("{label} = {value}"));
                }
            }
            if let Some(value) = at(&row, 8) {
                options.push(format!("INITCOND = {}", quote_literal(&value)));
            }
            object.sql = Some(if ordinary {
                format!("CREATE AGGREGATE {name} ({});", options.join(", "))
            } else {
                format!("-- {name} is an ordered-set aggregate: it is not written out.")
            });
            self.add(Kind::Aggregate, text(&row, 0), None, text(&row, 1), object);
        }
    }

    fn statistics_sql(&self) -> String {
        let target = if self.version >= 130_000 {
            "CASE WHEN s.stxstattarget > 0 THEN s.stxstattarget::text END"
        } else {
            "NULL"
        };
        format!(
            "SELECT n.nspname, s.stxname, quote_ident(n.nspname) || '.' || quote_ident(s.stxname), \
             pg_get_statisticsobjdef(s.oid), {target}, {}, s.oid \
             FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace WHERE {USER_SCHEMA}",
            comment("s.oid", "pg_statistic_ext"),
        )
    }

    fn statistics(&mut self, rows: Vec<Row>) {
        for row in rows {
            let name = text(&row, 2);
            let mut object = Object { sql_name: name.clone(), ..Object::default() };
            object.oid = last(&row);
            object.set("definition", at(&row, 3));
            object.set("statistics", at(&row, 4));
            object.set("comment", at(&row, 5));
            let mut sql = format!("{};", text(&row, 3));
            if let Some(target) = at(&row, 4) {
                sql.push_str(&format!("\nALTER STATISTICS {name} SET STATISTICS {target};"));
            }
            object.sql = Some(sql);
            self.add(Kind::Statistics, text(&row, 0), None, text(&row, 1), object);
        }
    }

    fn rules_sql(&self) -> String {
        format!(
            "SELECT n.nspname, c.relname, r.rulename, quote_ident(r.rulename), pg_get_ruledef(r.oid, true), \
             CASE r.ev_enabled WHEN 'O' THEN 'enabled' WHEN 'D' THEN 'disabled' WHEN 'R' THEN 'replica only' ELSE 'always' END, \
             quote_ident(n.nspname) || '.' || quote_ident(c.relname), {}, r.oid \
             FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE {USER_SCHEMA} AND r.rulename <> '_RETURN' AND {}",
            comment("r.oid", "pg_rewrite"),
            not_in_extension("pg_class", "c.oid"),
        )
    }

    fn rules(&mut self, rows: Vec<Row>) {
        for row in rows {
            let mut object = Object { sql_name: text(&row, 3), ..Object::default() };
            object.oid = last(&row);
            object.relation = text(&row, 6);
            object.set("definition", at(&row, 4));
            let state = text(&row, 5);
            let toggle = match state.as_str() {
                "disabled" => "DISABLE RULE",
                "replica only" => "ENABLE REPLICA RULE",
                "always" => "ENABLE ALWAYS RULE",
                _ => "",
            };
            let mut sql = text(&row, 4);
            if !toggle.is_empty() {
                sql.push_str(&format!("\nALTER TABLE {} {toggle} {};", text(&row, 6), text(&row, 3)));
            }
            object.sql = Some(sql);
            object.set("state", (state != "enabled").then_some(state));
            object.set("comment", at(&row, 7));
            self.add(Kind::Rule, text(&row, 0), Some(text(&row, 1)), text(&row, 2), object);
        }
    }

    /// What depends on what among the objects of the user's schemas (oids from
    /// `FirstNormalObjectId` up), and how a row of a catalog the model does not read leads to
    /// one it does: an array type to its element, a table's row type to the table, a composite
    /// type's relation to the type, the index behind a key to its constraint, a default to its
    /// table, a view's rule to the view, a domain's constraint to the domain, an extension's
    /// member to the extension.
    fn dependencies_sql(&self) -> String {
        "SELECT 'depends', classid::regclass::text, objid::text, refclassid::regclass::text, refobjid::text, deptype::text \
         FROM pg_depend WHERE objid >= 16384 AND refobjid >= 16384 AND deptype IN ('n', 'a', 'P') \
         UNION ALL SELECT 'is', 'pg_type', t.oid::text, \
            CASE WHEN t.typcategory = 'A' AND t.typelem <> 0 THEN 'pg_type' ELSE 'pg_class' END, \
            CASE WHEN t.typcategory = 'A' AND t.typelem <> 0 THEN t.typelem ELSE t.typrelid END::text, '' \
         FROM pg_type t WHERE t.oid >= 16384 AND ((t.typcategory = 'A' AND t.typelem <> 0) \
            OR (t.typrelid <> 0 AND (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) <> 'c')) \
         UNION ALL SELECT 'is', 'pg_class', c.oid::text, 'pg_type', c.reltype::text, '' FROM pg_class c \
            WHERE c.oid >= 16384 AND c.relkind = 'c' \
         UNION ALL SELECT 'is', 'pg_class', k.conindid::text, 'pg_constraint', k.oid::text, '' FROM pg_constraint k \
            WHERE k.oid >= 16384 AND k.contype IN ('p', 'u', 'x') AND k.conindid <> 0 \
         UNION ALL SELECT 'is', 'pg_attrdef', d.oid::text, 'pg_class', d.adrelid::text, '' FROM pg_attrdef d WHERE d.oid >= 16384 \
         UNION ALL SELECT 'is', 'pg_rewrite', r.oid::text, 'pg_class', r.ev_class::text, '' FROM pg_rewrite r \
            WHERE r.oid >= 16384 AND r.rulename = '_RETURN' \
         UNION ALL SELECT 'is', 'pg_constraint', k.oid::text, 'pg_type', k.contypid::text, '' FROM pg_constraint k \
            WHERE k.oid >= 16384 AND k.contypid <> 0 \
         UNION ALL SELECT 'is', classid::regclass::text, objid::text, 'pg_extension', refobjid::text, '' FROM pg_depend \
            WHERE deptype = 'e' AND objid >= 16384"
            .to_owned()
    }

    /// Resolves the dependencies to keys: each object's `dependencies`, the objects it is
    /// built on.
    fn dependencies(&mut self, rows: Vec<Row>) {
        let mut keys: BTreeMap<(String, u32), Key> = BTreeMap::new();
        for (key, object) in &self.schema.objects {
            if object.oid != 0 && key.kind != Kind::Column {
                keys.insert((key.kind.catalog().to_owned(), object.oid), key.clone());
            }
        }
        let number = |row: &Row, i: usize| at(row, i).and_then(|v| v.parse::<u32>().ok()).unwrap_or(0);
        let mut is: BTreeMap<(String, u32), (String, u32)> = BTreeMap::new();
        let mut edges = Vec::new();
        for row in &rows {
            let from = (text(row, 1), number(row, 2));
            let to = (text(row, 3), number(row, 4));
            if text(row, 0) == "is" {
                is.insert(from, to);
            } else {
                edges.push((from, to, text(row, 5)));
            }
        }
        let resolve = |mut at: (String, u32)| {
            for _ in 0..8 {
                if let Some(key) = keys.get(&at) {
                    return Some(key.clone());
                }
                at = is.get(&at)?.clone();
            }
            None
        };
        for (from, to, kind) in edges {
            let (Some(mut dependent), Some(mut referenced)) = (resolve(from), resolve(to)) else {
                continue;
            };
            if dependent == referenced {
                continue;
            }
            // A partition's index is written before the parent's index, which attaches it.
            if kind == "P" && dependent.kind == Kind::Index {
                std::mem::swap(&mut dependent, &mut referenced);
            }
            // A sequence owned by a column is written before its table, whose default reads it.
            if dependent.kind == Kind::Sequence && referenced.kind == Kind::Table {
                continue;
            }
            self.schema.dependencies.entry(dependent).or_default().insert(referenced);
        }
    }

    fn policies_sql(&self) -> String {
        format!(
            "SELECT n.nspname, c.relname, p.polname, quote_ident(p.polname), quote_ident(n.nspname) || '.' || quote_ident(c.relname), \
             CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END, \
             CASE WHEN p.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END, \
             (SELECT string_agg(role, ', ' ORDER BY role) FROM (SELECT CASE WHEN r = 0 THEN 'PUBLIC' \
                ELSE quote_ident(pg_get_userbyid(r)) END AS role FROM unnest(p.polroles) r) roles), \
             pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid), obj_description(p.oid, 'pg_policy'), p.oid \
             FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE {USER_SCHEMA}"
        )
    }

    fn policies(&mut self, rows: Vec<Row>) {
        for row in rows {
            let mut object = Object { sql_name: text(&row, 3), ..Object::default() };
            object.oid = last(&row);
            object.relation = text(&row, 4);
            object.set("command", at(&row, 5));
            object.set("kind", at(&row, 6));
            object.set("roles", at(&row, 7));
            object.set("using", at(&row, 8));
            object.set("with check", at(&row, 9));
            object.set("comment", at(&row, 10));
            let mut sql = format!(
                "CREATE POLICY {} ON {} AS {} FOR {} TO {}",
                text(&row, 3),
                text(&row, 4),
                text(&row, 6),
                text(&row, 5),
                text(&row, 7)
            );
            if let Some(using) = at(&row, 8) {
                sql.push_str(&format!(" USING ({using})"));
            }
            if let Some(check) = at(&row, 9) {
                sql.push_str(&format!(" WITH CHECK ({check})"));
            }
            object.sql = Some(format!("{sql};"));
            self.add(Kind::Policy, text(&row, 0), Some(text(&row, 1)), text(&row, 2), object);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::acl;

    #[test]
    fn text_arrays_are_split() {
        assert_eq!(super::text_array(r#"{id,"a b","q\"x",NULL2}"#), ["id", "a b", "q\"x", "NULL2"]);
        assert!(super::text_array("{}").is_empty());
    }

    #[test]
    fn grants_compare_in_any_order() {
        assert_eq!(acl(Some("{b=r/o,a=arwd/o}".into())), acl(Some("{a=arwd/o,b=r/o}".into())));
        assert_eq!(acl(None), "default");
    }
}
