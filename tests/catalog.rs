//! The schema model against a real PostgreSQL: every kind of object is read, two databases
//! built the same way compare equal, the SQL it writes rebuilds the same schema, each kind of
//! difference is named in words, and what is not the user's schema stays out.

use migrate_runtime::catalog::{Change, Key, Kind, Options, Schema, differences};
use migrate_runtime::testkit::TestDatabase;

mod support;
use support::database;

/// One of each kind of object the model reads, with comments on them, in an order the SQL
/// file would not use (types after what needs them is not possible, but views before
/// unrelated tables, functions after tables).
const EVERYTHING: &str = r#"
CREATE SCHEMA app;
COMMENT ON SCHEMA app IS 'the application';
CREATE EXTENSION citext;
CREATE TYPE app.mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE app.pair AS (left_side integer, right_side text COLLATE "C");
CREATE DOMAIN app.email AS citext CONSTRAINT email_has_at CHECK (VALUE ~ '@') NOT NULL;
CREATE TYPE app.floatrange AS RANGE (SUBTYPE = float8, SUBTYPE_DIFF = float8mi);
CREATE SEQUENCE app.tickets START WITH 100 INCREMENT BY 5 CACHE 10;
CREATE TABLE app.accounts (
    id bigint GENERATED ALWAYS AS IDENTITY (START WITH 10) PRIMARY KEY,
    name text COLLATE "C" NOT NULL DEFAULT 'anonymous',
    email app.email,
    mood app.mood DEFAULT 'ok',
    score numeric(10, 2) CHECK (score >= 0),
    doubled numeric GENERATED ALWAYS AS (score * 2) STORED,
    ticket integer DEFAULT nextval('app.tickets'),
    serial_no serial,
    updated_at timestamptz,
    CONSTRAINT accounts_name_unique UNIQUE (name) DEFERRABLE INITIALLY DEFERRED
);
ALTER SEQUENCE app.tickets OWNED BY app.accounts.ticket;
COMMENT ON TABLE app.accounts IS 'who pays';
COMMENT ON COLUMN app.accounts.email IS 'where we write';
CREATE UNLOGGED TABLE app.scratch (note text) WITH (fillfactor = 70);
CREATE TABLE app.events (id bigint, at date NOT NULL, account_id bigint) PARTITION BY RANGE (at);
CREATE TABLE app.events_2026 PARTITION OF app.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE INDEX events_at ON app.events (at);
CREATE TABLE app.notes (account_id bigint, body text);
ALTER TABLE app.notes ADD CONSTRAINT notes_account FOREIGN KEY (account_id) REFERENCES app.accounts (id) ON DELETE CASCADE NOT VALID;
CREATE INDEX accounts_lower_name ON app.accounts (lower(name)) WHERE mood <> 'sad';
COMMENT ON INDEX app.accounts_lower_name IS 'for search';
ALTER TABLE app.accounts ADD CONSTRAINT accounts_no_overlap EXCLUDE USING btree (ticket WITH =);
CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = app AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION app.touch() IS 'stamps a row';
CREATE FUNCTION app.add(a integer, b integer DEFAULT 1) RETURNS integer LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN a + b;
CREATE PROCEDURE app.reset() LANGUAGE sql AS $$ DELETE FROM app.scratch $$;
CREATE TRIGGER accounts_touch BEFORE UPDATE ON app.accounts FOR EACH ROW EXECUTE FUNCTION app.touch();
CREATE TRIGGER accounts_audit AFTER INSERT ON app.accounts FOR EACH STATEMENT EXECUTE FUNCTION app.touch();
ALTER TABLE app.accounts DISABLE TRIGGER accounts_audit;
COMMENT ON TRIGGER accounts_touch ON app.accounts IS 'keeps updated_at';
CREATE VIEW app.happy AS SELECT id, name FROM app.accounts WHERE mood = 'happy';
CREATE VIEW app.happy_names WITH (security_barrier) AS SELECT name FROM app.happy;
COMMENT ON COLUMN app.happy.name IS 'shown name';
CREATE MATERIALIZED VIEW app.scores AS SELECT mood, sum(score) AS total FROM app.accounts GROUP BY mood WITH NO DATA;
CREATE UNIQUE INDEX scores_mood ON app.scores (mood);
ALTER TABLE app.accounts ENABLE ROW LEVEL SECURITY;
CREATE POLICY accounts_own ON app.accounts AS RESTRICTIVE FOR UPDATE TO PUBLIC USING (name = current_user) WITH CHECK (score >= 0);
COMMENT ON POLICY accounts_own ON app.accounts IS 'own rows only';
CREATE COLLATION app.loose (provider = icu, locale = 'und', deterministic = false);
CREATE AGGREGATE app.total(integer) (SFUNC = int4pl, STYPE = integer, INITCOND = '0');
CREATE RULE scratch_quiet AS ON DELETE TO app.scratch DO INSTEAD NOTHING;
CREATE STATISTICS app.accounts_mood_score ON mood, score FROM app.accounts;
ALTER TABLE app.accounts ALTER COLUMN email SET STORAGE EXTERNAL, ALTER COLUMN score SET STATISTICS 500;
ALTER TABLE app.accounts REPLICA IDENTITY FULL;
CREATE INDEX scratch_note ON app.scratch (note);
COMMENT ON COLUMN app.pair.left_side IS 'the left one';
COMMENT ON CONSTRAINT email_has_at ON DOMAIN app.email IS 'an address has an at';
ALTER VIEW app.happy ALTER COLUMN name SET DEFAULT 'someone';
"#;

/// What the script must order by dependency, not by kind: a function of a table's row type
/// with a body PostgreSQL checks, a domain whose CHECK calls a function, a foreign key on a
/// unique index, a view on a materialized view, types and tables built on others named
/// after them, a child table of inheritance named before its parent, a partition with
/// attributes of its own and an index of its own attached to its parent's.
const ORDERED: &str = r#"
CREATE TABLE zz_items (id integer PRIMARY KEY, label text);
CREATE FUNCTION a_labels() RETURNS SETOF zz_items LANGUAGE sql STABLE BEGIN ATOMIC SELECT * FROM zz_items; END;
CREATE FUNCTION z_positive(integer) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT $1 > 0';
CREATE DOMAIN a_positive AS integer CHECK (z_positive(VALUE));
CREATE TYPE z_inner AS (x integer);
CREATE TYPE a_outer AS (y z_inner);
CREATE DOMAIN z_base AS integer;
CREATE DOMAIN a_derived AS z_base;
CREATE TABLE z_codes (code integer);
CREATE UNIQUE INDEX z_codes_code ON z_codes (code);
CREATE TABLE a_uses (code integer REFERENCES z_codes (code), amount a_positive, shape a_outer, base a_derived);
CREATE MATERIALIZED VIEW z_counts AS SELECT count(*) AS n FROM zz_items;
CREATE VIEW a_counts AS SELECT n FROM z_counts;
CREATE TABLE z_parent (a integer);
CREATE TABLE a_child (b integer) INHERITS (z_parent);
CREATE TABLE events (at date NOT NULL, kind text) PARTITION BY RANGE (at);
CREATE TABLE events_2026 PARTITION OF events (kind DEFAULT 'note' NOT NULL) FOR VALUES FROM ('2026-01-01') TO ('2027-01-01') WITH (fillfactor = 50);
ALTER TABLE events_2026 ENABLE ROW LEVEL SECURITY;
CREATE INDEX events_2026_by_kind ON events_2026 (kind);
CREATE INDEX events_by_kind ON events (kind);
CREATE TYPE floatrange AS RANGE (SUBTYPE = float8, SUBTYPE_DIFF = float8mi);
"#;

fn read(database: &TestDatabase) -> Schema {
    let mut client = database.connect().expect("connects");
    Schema::read(&mut client, &Options::new()).expect("reads the catalog")
}

fn built(sql: &str) -> TestDatabase {
    let db = database();
    db.connect().expect("connects").batch_execute(sql).expect("builds the schema");
    db
}

fn key(kind: Kind, table: Option<&str>, name: &str) -> Key {
    Key::new(kind, "app", table, name)
}

#[test]
fn every_kind_is_read_and_two_databases_built_alike_compare_equal() {
    let (first, second) = (read(&built(EVERYTHING)), read(&built(EVERYTHING)));
    assert_eq!(differences(&first.diff(&second)), "");
    let kinds: std::collections::BTreeSet<Kind> = first.objects().map(|(k, _)| k.kind).collect();
    for kind in [
        Kind::Schema,
        Kind::Extension,
        Kind::Enum,
        Kind::Domain,
        Kind::Composite,
        Kind::Range,
        Kind::Sequence,
        Kind::Function,
        Kind::Table,
        Kind::Column,
        Kind::Constraint,
        Kind::Index,
        Kind::View,
        Kind::MaterializedView,
        Kind::Trigger,
        Kind::Policy,
    ] {
        assert!(kinds.contains(&kind), "no {} read", kind.word());
    }
    let get = |kind, table, name, attribute| {
        first.get(&key(kind, table, name)).and_then(|o| o.get(attribute)).map(str::to_owned)
    };
    assert_eq!(get(Kind::Enum, None, "mood", "values").as_deref(), Some("'sad', 'ok', 'happy'"));
    assert_eq!(get(Kind::Table, None, "accounts", "row level security").as_deref(), Some("enabled"));
    assert_eq!(get(Kind::Table, None, "scratch", "persistence").as_deref(), Some("unlogged"));
    assert_eq!(get(Kind::Column, Some("accounts"), "name", "collation").as_deref(), Some("pg_catalog.\"C\""));
    assert_eq!(get(Kind::Column, Some("accounts"), "id", "identity").as_deref(), Some("ALWAYS"));
    assert_eq!(
        get(Kind::Column, Some("accounts"), "doubled", "generated").as_deref(),
        Some("(score * (2)::numeric)")
    );
    assert_eq!(get(Kind::Trigger, Some("accounts"), "accounts_audit", "state").as_deref(), Some("disabled"));
    assert_eq!(get(Kind::Sequence, None, "tickets", "owned by").as_deref(), Some("app.accounts.ticket"));
    assert_eq!(get(Kind::Function, None, "touch()", "security").as_deref(), Some("SECURITY DEFINER"));
    assert_eq!(get(Kind::Function, None, "touch()", "settings").as_deref(), Some("search_path=app"));
    assert!(
        get(Kind::Constraint, Some("notes"), "notes_account", "definition")
            .is_some_and(|d| d.ends_with("NOT VALID")),
        "validity is part of a constraint"
    );
    // What the user did not write stays out: the extension's functions, the identity's and
    // the serial's implicit objects are not objects of their own, plpgsql is not listed.
    assert!(first.objects().all(|(k, _)| !(k.kind == Kind::Function && k.name.starts_with("citext"))));
    assert!(first.objects().all(|(k, _)| k.name != "plpgsql" && k.name != "accounts_id_seq"));
}

#[test]
fn the_sql_it_writes_rebuilds_the_same_schema() {
    for schema in [EVERYTHING, ORDERED] {
        let original = read(&built(schema));
        let script = original.to_sql();
        let copy = built(&script);
        let changes = original.diff(&read(&copy));
        assert!(changes.is_empty(), "{}\n\n{script}", differences(&changes));
        // Deterministic: written twice, the same text.
        assert_eq!(read(&copy).to_sql(), script);
    }
    // A range type's constructors come with it: they are not functions of the user's.
    let ordered = read(&built(ORDERED));
    assert!(ordered.objects().all(|(k, _)| !k.name.starts_with("floatrange(")), "{}", ordered.to_sql());
}

/// Each alteration, made on a copy, and the line that must name it.
const ALTERATIONS: [(&str, &str); 33] = [
    (
        "DROP TRIGGER accounts_audit ON app.accounts; CREATE TRIGGER accounts_audit AFTER INSERT ON app.accounts FOR EACH ROW EXECUTE FUNCTION app.touch(); ALTER TABLE app.accounts DISABLE TRIGGER accounts_audit",
        "~ trigger `accounts_audit` on `app.accounts`: …FOR EACH STATEMENT EXECUTE FUNCTION… → …FOR EACH ROW EXECUTE FUNCTION…",
    ),
    (
        "ALTER TABLE app.accounts ENABLE TRIGGER accounts_audit",
        "~ trigger `accounts_audit` on `app.accounts`: state disabled → (none)",
    ),
    (
        "CREATE OR REPLACE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = app AS $$\nBEGIN\n    NEW.updated_at := clock_timestamp();\n    RETURN NEW;\nEND\n$$",
        "~ function `app.touch()`: body …NEW.updated_at := now(); RETURN NEW;… → …NEW.updated_at := clock_timestamp(); RETURN NEW;…",
    ),
    (
        "ALTER FUNCTION app.touch() SECURITY INVOKER",
        "~ function `app.touch()`: security SECURITY DEFINER → SECURITY INVOKER",
    ),
    (
        "ALTER FUNCTION app.add(integer, integer) VOLATILE",
        "~ function `app.add(a integer, b integer)`: volatility IMMUTABLE → VOLATILE",
    ),
    (
        "ALTER FUNCTION app.touch() RESET search_path",
        "~ function `app.touch()`: settings search_path=app → (none)",
    ),
    (
        "CREATE OR REPLACE VIEW app.happy AS SELECT id, name FROM app.accounts WHERE mood = 'ok'",
        "~ view `app.happy`: …accounts.mood = 'happy'::app.mood; → …accounts.mood = 'ok'::app.mood;",
    ),
    (
        "ALTER TABLE app.accounts DROP COLUMN doubled; ALTER TABLE app.accounts ADD COLUMN doubled numeric GENERATED ALWAYS AS (score * 2) STORED",
        "",
    ),
    (
        "ALTER TABLE app.accounts ALTER COLUMN name SET DEFAULT 'nobody'",
        "~ column `name` of `app.accounts`: default 'anonymous'::text → 'nobody'::text",
    ),
    (
        "ALTER TABLE app.scratch ALTER COLUMN note TYPE text COLLATE \"POSIX\"",
        "~ column `note` of `app.scratch`: collation (none) → pg_catalog.\"POSIX\"",
    ),
    (
        "ALTER TABLE app.accounts ALTER COLUMN id SET GENERATED BY DEFAULT",
        "~ column `id` of `app.accounts`: identity ALWAYS → BY DEFAULT",
    ),
    (
        "ALTER TABLE app.notes VALIDATE CONSTRAINT notes_account",
        "~ constraint `notes_account` on `app.notes`: …DELETE CASCADE NOT VALID → …DELETE CASCADE",
    ),
    (
        "DROP INDEX app.accounts_lower_name; CREATE INDEX accounts_lower_name ON app.accounts (lower(name)); COMMENT ON INDEX app.accounts_lower_name IS 'for search'",
        "~ index `accounts_lower_name` on `app.accounts`: …btree (lower(name)) WHERE (mood <> 'sad'::app.mood) → …btree (lower(name))",
    ),
    ("ALTER SEQUENCE app.tickets INCREMENT BY 1", "~ sequence `app.tickets`: increment 5 → 1"),
    (
        "ALTER SEQUENCE app.tickets OWNED BY NONE",
        "~ sequence `app.tickets`: owned by app.accounts.ticket → (none)",
    ),
    (
        "ALTER TYPE app.mood ADD VALUE 'meh' BEFORE 'ok'",
        "~ enum `app.mood`: values 'sad', 'ok', 'happy' → 'sad', 'meh', 'ok', 'happy'",
    ),
    (
        "ALTER TYPE app.pair ADD ATTRIBUTE extra date",
        "~ composite type `app.pair`: attributes …text COLLATE pg_catalog.\"C\" → …text COLLATE pg_catalog.\"C\", extra date",
    ),
    (
        "ALTER DOMAIN app.email DROP CONSTRAINT email_has_at",
        "~ domain `app.email`: constraints CONSTRAINT email_has_at CHECK ((VALUE OPERATOR(public.~) '@'::public.citext)) → (none)",
    ),
    (
        "ALTER TABLE app.accounts FORCE ROW LEVEL SECURITY",
        "~ table `app.accounts`: row level security enabled → enabled, forced",
    ),
    (
        "ALTER POLICY accounts_own ON app.accounts USING (true)",
        "~ policy `accounts_own` on `app.accounts`: using (name = CURRENT_USER) → true",
    ),
    ("ALTER TABLE app.scratch SET LOGGED", "~ table `app.scratch`: persistence unlogged → permanent"),
    (
        "COMMENT ON TRIGGER accounts_touch ON app.accounts IS NULL",
        "~ trigger `accounts_touch` on `app.accounts`: comment keeps updated_at → (none)",
    ),
    (
        "ALTER TABLE app.scratch DISABLE RULE scratch_quiet",
        "~ rule `scratch_quiet` on `app.scratch`: state (none) → disabled",
    ),
    ("DROP STATISTICS app.accounts_mood_score", "- statistics object `app.accounts_mood_score`"),
    ("DROP AGGREGATE app.total(integer)", "- aggregate `app.total(integer)`"),
    ("DROP PROCEDURE app.reset()", "- procedure `app.reset()`"),
    (
        "ALTER TABLE app.accounts ALTER COLUMN email SET STORAGE EXTENDED",
        "~ column `email` of `app.accounts`: storage EXTERNAL → (none)",
    ),
    (
        "ALTER TABLE app.accounts ALTER COLUMN score SET STATISTICS -1",
        "~ column `score` of `app.accounts`: statistics 500 → (none)",
    ),
    (
        "ALTER TABLE app.accounts REPLICA IDENTITY DEFAULT",
        "~ table `app.accounts`: replica identity FULL → (none)",
    ),
    (
        "COMMENT ON COLUMN app.pair.left_side IS NULL",
        "~ composite type `app.pair`: attribute comments left_side: the left one → (none)",
    ),
    (
        "COMMENT ON CONSTRAINT email_has_at ON DOMAIN app.email IS 'an at'",
        "~ domain `app.email`: constraint comments email_has_at: an address has an at → email_has_at: an at",
    ),
    (
        "ALTER VIEW app.happy ALTER COLUMN name DROP DEFAULT",
        "~ view `app.happy`: column defaults name 'someone'::text → (none)",
    ),
    (
        "ALTER TABLE app.scratch CLUSTER ON scratch_note",
        "~ index `scratch_note` on `app.scratch`: clustered (none) → yes",
    ),
];

#[test]
fn each_kind_of_difference_is_named_in_words() {
    let original = read(&built(EVERYTHING));
    let mut unnamed = Vec::new();
    for (sql, expected) in ALTERATIONS {
        let copy = built(EVERYTHING);
        copy.connect().expect("connects").batch_execute(sql).expect("alters");
        let changes = original.diff(&read(&copy));
        let text = differences(&changes);
        if expected.is_empty() {
            // Re-adding a column moves it to the end: the column order says so.
            assert!(
                changes.iter().any(|c| matches!(c, Change::Changed { attribute: "column order", .. })),
                "{sql}:\n{text}"
            );
        } else if !text.lines().any(|l| l == expected) {
            unnamed.push(format!("{sql}\nexpected: {expected}\nfound:\n{text}"));
        }
    }
    assert!(unnamed.is_empty(), "{}", unnamed.join("\n\n"));
}

#[test]
fn the_runner_tables_and_privileges_are_left_out_unless_asked() {
    let db = built(
        "CREATE TABLE public.alembic_version (version_num varchar(32) PRIMARY KEY); CREATE TABLE public.kept (id int)",
    );
    let mut client = db.connect().expect("connects");
    let runner = migrate_runtime::TableNames::default();
    let schema = Schema::read(&mut client, &Options::new().ignore_runner_tables(&runner)).expect("reads");
    let names: Vec<String> = schema.objects().map(|(k, _)| k.to_string()).collect();
    assert_eq!(names, ["schema `public`", "table `public.kept`", "column `id` of `public.kept`"]);
    let before = Schema::read(&mut client, &Options::new().privileges(true)).expect("reads");
    // A grant taken back leaves an explicit list that means the built-in privileges.
    client
        .batch_execute("GRANT SELECT ON public.kept TO PUBLIC; REVOKE SELECT ON public.kept FROM PUBLIC")
        .expect("grants");
    let taken_back = Schema::read(&mut client, &Options::new().privileges(true)).expect("reads");
    assert_eq!(differences(&before.diff(&taken_back)), "");
    client.batch_execute("GRANT SELECT ON public.kept TO PUBLIC").expect("grants");
    assert!(
        Schema::read(&mut client, &Options::new())
            .expect("reads")
            .diff(&schema)
            .iter()
            .any(|c| c.key().name == "alembic_version")
    );
    let after = Schema::read(&mut client, &Options::new().privileges(true)).expect("reads");
    assert!(
        differences(&before.diff(&after)).contains("~ table `public.kept`: privileges"),
        "{}",
        differences(&before.diff(&after))
    );
}

#[test]
fn what_the_script_cannot_write_is_named_and_left_out_whole() {
    let original = read(&built(
        "CREATE FOREIGN DATA WRAPPER files; CREATE SERVER disk FOREIGN DATA WRAPPER files;
         CREATE FOREIGN TABLE app_log (line text) SERVER disk;
         COMMENT ON FOREIGN TABLE app_log IS 'the log'; COMMENT ON COLUMN app_log.line IS 'one line';
         ALTER FOREIGN TABLE app_log ALTER COLUMN line SET STORAGE EXTERNAL;
         CREATE AGGREGATE my_pct(float8 ORDER BY anyelement) (SFUNC = ordered_set_transition, STYPE = internal,
             FINALFUNC = percentile_disc_final, FINALFUNC_EXTRA);
         CREATE TABLE kept (id integer)",
    ));
    let script = original.to_sql();
    assert!(script.contains("--   table `public.app_log`"), "{script}");
    assert!(
        script.contains("--   aggregate `public.my_pct(double precision ORDER BY anyelement)`"),
        "{script}"
    );
    // It runs, and builds everything else.
    let copy = read(&built(&script));
    let changes = original.diff(&copy);
    let unwritten = |key: &Key| {
        key.name == "app_log" || key.table.as_deref() == Some("app_log") || key.name.starts_with("my_pct(")
    };
    assert!(
        !changes.is_empty() && changes.iter().all(|c| matches!(c, Change::Removed(key) if unwritten(key))),
        "{}",
        differences(&changes)
    );
}
