//! The guide's examples 1 to 5 and its indexes, unique constraints and foreign keys, as the
//! migrations a user writes (`chains/guide/`), applied to a real PostgreSQL and reverted, with
//! the schema they leave read back from the catalog and the behaviour it implies tried with
//! rows. One fresh database per test; nothing skips: without a server the tests fail.

use migrate_runtime::catalog::{Schema, differences};
use migrate_runtime::testkit::{self, TestDatabase};
use migrate_runtime::{Chain, Error, Migrator};
use postgres::error::SqlState;

mod support;
use support::{database, rows};

static GUIDE: Chain = migrate_runtime::embed_migrations!("guide");

/// The CRM the examples start from: organisations, people, users, interactions, campaigns.
const CRM: &str = "9d0000000005";
/// Example 1: `add_ai_summary_to_interactions`.
const EXAMPLE_1: &str = "9d00000000e1";
/// Example 2: `add_lead_scores_table`.
const EXAMPLE_2: &str = "9d00000000e2";
/// Example 3: `fix_interaction_statuses`.
const EXAMPLE_3: &str = "9d00000000e3";
/// Example 5: `rename_body_to_description`.
const EXAMPLE_5: &str = "9d00000000e5";
/// Indexes and constraints: `add_interactions_org_created_index`.
const INDEX: &str = "9d00000000a1";
/// Indexes and constraints: `add_unique_email_campaign_name`.
const UNIQUE: &str = "9d00000000a2";
/// Indexes and constraints: `add_interaction_assignee_foreign_key`.
const FOREIGN_KEY: &str = "9d00000000a3";
/// Example 4: `add_linkedin_message_type`, the head, irreversible.
const EXAMPLE_4: &str = "9d00000000e4";

/// A fresh database, its empty schema, and the migrator of the guide's chain.
fn setup() -> (TestDatabase, Schema, Migrator) {
    let database = database();
    let migrator = Migrator::new(&GUIDE);
    let empty = database.schema(&migrator).expect("reads the schema");
    (database, empty, migrator)
}

fn upgrade(database: &TestDatabase, migrator: &Migrator, target: &str) {
    migrator.upgrade(database.url(), target).unwrap_or_else(|e| panic!("upgrade to {target}: {e}"));
}

fn downgrade(database: &TestDatabase, migrator: &Migrator, target: &str) {
    migrator.downgrade(database.url(), target).unwrap_or_else(|e| panic!("downgrade to {target}: {e}"));
}

/// Reverts everything and checks that the schema is the empty one again.
fn back_to_base(database: &TestDatabase, migrator: &Migrator, empty: &Schema) {
    downgrade(database, migrator, "base");
    let changes = empty.diff(&database.schema(migrator).expect("reads the schema"));
    assert!(changes.is_empty(), "base leaves an empty schema:\n{}", differences(&changes));
    assert_eq!(migrator.current(database.url()).expect("reads"), Vec::<String>::new());
}

fn execute(database: &TestDatabase, sql: &str) {
    database.connect().expect("connects").batch_execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// The SQLSTATE `sql` fails with.
fn fails_with(database: &TestDatabase, sql: &str) -> SqlState {
    let error = database.connect().expect("connects").batch_execute(sql).expect_err(sql);
    error.code().cloned().unwrap_or_else(|| panic!("{sql}: no SQLSTATE in {error}"))
}

/// A column as the catalog describes it: type, nullability, default and identity; empty when
/// there is no such column.
fn column(database: &TestDatabase, table: &str, column: &str) -> Vec<String> {
    rows(
        &format!(
            "SELECT format_type(a.atttypid, a.atttypmod), \
             CASE WHEN a.attnotnull THEN 'not null' ELSE 'null' END, \
             coalesce(pg_get_expr(d.adbin, d.adrelid), 'no default'), \
             CASE a.attidentity WHEN '' THEN 'no identity' ELSE 'identity' END \
             FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
             WHERE a.attrelid = to_regclass('public.{table}') AND a.attname = '{column}' AND NOT a.attisdropped"
        ),
        database,
    )
}

/// The columns of a table, in order.
fn column_names(database: &TestDatabase, table: &str) -> Vec<String> {
    rows(
        &format!(
            "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass('public.{table}') \
             AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
        ),
        database,
    )
}

/// A table's constraints of one kind (`f`, `u`, `p`, `c`), each as its name and definition.
fn constraints(database: &TestDatabase, table: &str, kind: char) -> Vec<String> {
    rows(
        &format!(
            "SELECT conname || ': ' || pg_get_constraintdef(oid) FROM pg_constraint \
             WHERE conrelid = to_regclass('public.{table}') AND contype = '{kind}' ORDER BY conname"
        ),
        database,
    )
}

#[test]
fn the_guide_chain_passes_the_stairway() {
    // Every migration applied, reverted, compared with the schema before it, and applied again.
    let report = testkit::stairway(&Migrator::new(&GUIDE)).expect("runs the stairway");
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.checked.len(), GUIDE.len() - 1, "{report}");
    assert_eq!(
        report.irreversible,
        [(
            EXAMPLE_4.to_owned(),
            "PostgreSQL cannot drop an enum value; recreate the type to remove it".to_owned()
        )]
    );
}

#[test]
fn example_1_adds_an_optional_text_column() {
    let (db, empty, migrator) = setup();
    upgrade(&db, &migrator, CRM);
    execute(
        &db,
        "INSERT INTO organisations (name) VALUES ('Acme'); INSERT INTO interactions (organisation_id, type) VALUES (1, 'call')",
    );
    assert_eq!(column(&db, "interactions", "ai_summary"), Vec::<String>::new());

    upgrade(&db, &migrator, EXAMPLE_1);
    assert_eq!(column(&db, "interactions", "ai_summary"), ["text null no default no identity"]);
    // Rows already there have none, and new ones need not give one.
    execute(&db, "INSERT INTO interactions (organisation_id, type) VALUES (1, 'email')");
    assert_eq!(rows("SELECT count(*) FROM interactions WHERE ai_summary IS NULL", &db), ["2"]);
    execute(&db, "UPDATE interactions SET ai_summary = 'Asked for a demo' WHERE id = 1");

    downgrade(&db, &migrator, CRM);
    assert_eq!(column(&db, "interactions", "ai_summary"), Vec::<String>::new());
    assert_eq!(rows("SELECT count(*) FROM interactions", &db), ["2"], "the rows stay");
    back_to_base(&db, &migrator, &empty);
}

#[test]
fn example_2_creates_lead_scores_referencing_people() {
    let (db, empty, migrator) = setup();
    upgrade(&db, &migrator, EXAMPLE_2);
    assert_eq!(column_names(&db, "lead_scores"), ["id", "person_id", "score", "last_activity_at"]);
    assert_eq!(column(&db, "lead_scores", "id"), ["bigint not null no default identity"]);
    assert_eq!(column(&db, "lead_scores", "person_id"), ["bigint not null no default no identity"]);
    assert_eq!(column(&db, "lead_scores", "score"), ["integer not null 0 no identity"]);
    assert_eq!(
        column(&db, "lead_scores", "last_activity_at"),
        ["timestamp with time zone null no default no identity"]
    );
    assert_eq!(constraints(&db, "lead_scores", 'p'), ["lead_scores_pkey: PRIMARY KEY (id)"]);
    assert_eq!(
        constraints(&db, "lead_scores", 'f'),
        ["lead_scores_person_id_fkey: FOREIGN KEY (person_id) REFERENCES people(id)"]
    );

    // A score needs a real person, and starts at 0.
    assert_eq!(
        fails_with(&db, "INSERT INTO lead_scores (person_id) VALUES (42)"),
        SqlState::FOREIGN_KEY_VIOLATION
    );
    execute(
        &db,
        "INSERT INTO people (full_name) VALUES ('Ada'); INSERT INTO lead_scores (person_id) VALUES (1)",
    );
    assert_eq!(rows("SELECT person_id, score FROM lead_scores", &db), ["1 0"]);
    assert_eq!(fails_with(&db, "DELETE FROM people"), SqlState::FOREIGN_KEY_VIOLATION);

    downgrade(&db, &migrator, EXAMPLE_1);
    assert_eq!(rows("SELECT to_regclass('public.lead_scores') IS NULL", &db), ["t"]);
    back_to_base(&db, &migrator, &empty);
}

#[test]
fn example_3_fills_missing_statuses_then_makes_them_required() {
    let (db, empty, migrator) = setup();
    upgrade(&db, &migrator, EXAMPLE_2);
    execute(
        &db,
        "INSERT INTO organisations (name) VALUES ('Acme');
         INSERT INTO interactions (organisation_id, type, status) VALUES (1, 'call', NULL), (1, 'email', 'done'), (1, 'meeting', NULL)",
    );
    assert_eq!(column(&db, "interactions", "status"), ["character varying(50) null no default no identity"]);

    upgrade(&db, &migrator, EXAMPLE_3);
    assert_eq!(rows("SELECT status FROM interactions ORDER BY id", &db), ["pending", "done", "pending"]);
    assert_eq!(
        column(&db, "interactions", "status"),
        ["character varying(50) not null no default no identity"]
    );
    assert_eq!(
        fails_with(&db, "INSERT INTO interactions (organisation_id, type) VALUES (1, 'call')"),
        SqlState::NOT_NULL_VIOLATION
    );
    let step = GUIDE.iter().find(|m| m.rev == EXAMPLE_3).expect("in the chain");
    assert!(step.transactional, "the data and the constraint commit together");

    // The downgrade lifts the constraint and keeps the filled-in statuses.
    downgrade(&db, &migrator, EXAMPLE_2);
    assert_eq!(column(&db, "interactions", "status"), ["character varying(50) null no default no identity"]);
    assert_eq!(rows("SELECT status FROM interactions ORDER BY id", &db), ["pending", "done", "pending"]);
    execute(&db, "INSERT INTO interactions (organisation_id, type) VALUES (1, 'call')");
    back_to_base(&db, &migrator, &empty);
}

#[test]
fn example_3_failing_undoes_its_backfill_too() {
    // The backfill and the constraint run in one transaction: when SET NOT NULL fails, the
    // UPDATE before it is rolled back with it. A trigger that puts the NULL back (and marks
    // the rows it touched) makes it fail.
    let (db, _, migrator) = setup();
    upgrade(&db, &migrator, EXAMPLE_2);
    execute(
        &db,
        "INSERT INTO organisations (name) VALUES ('Acme');
         INSERT INTO interactions (organisation_id, type) VALUES (1, 'call');
         CREATE FUNCTION keep_status_null() RETURNS trigger LANGUAGE plpgsql
             AS $$ BEGIN NEW.status := NULL; NEW.body := 'touched'; RETURN NEW; END $$;
         CREATE TRIGGER keep_status_null BEFORE UPDATE ON interactions
             FOR EACH ROW EXECUTE FUNCTION keep_status_null();",
    );
    let error = migrator.upgrade(db.url(), EXAMPLE_3).expect_err("SET NOT NULL fails");
    let Error::MigrationFailed(failure) = &error else { panic!("unexpected error: {error}") };
    assert_eq!((failure.rev.as_str(), failure.code.as_deref()), (EXAMPLE_3, Some("23502")), "{error}");
    assert_eq!(rows("SELECT status, body FROM interactions", &db), ["NULL NULL"], "the UPDATE is undone");
    assert_eq!(column(&db, "interactions", "status"), ["character varying(50) null no default no identity"]);
    assert_eq!(migrator.current(db.url()).expect("reads"), [EXAMPLE_2]);
}

#[test]
fn example_5_renames_body_to_description_with_its_data() {
    let (db, empty, migrator) = setup();
    upgrade(&db, &migrator, EXAMPLE_3);
    execute(
        &db,
        "INSERT INTO organisations (name) VALUES ('Acme');
         INSERT INTO interactions (organisation_id, type, status, body) VALUES (1, 'call', 'done', 'Intro call')",
    );

    upgrade(&db, &migrator, EXAMPLE_5);
    assert_eq!(column(&db, "interactions", "body"), Vec::<String>::new());
    assert_eq!(column(&db, "interactions", "description"), ["text null no default no identity"]);
    assert_eq!(rows("SELECT description FROM interactions", &db), ["Intro call"]);

    downgrade(&db, &migrator, EXAMPLE_3);
    assert_eq!(column(&db, "interactions", "description"), Vec::<String>::new());
    assert_eq!(rows("SELECT body FROM interactions", &db), ["Intro call"]);
    back_to_base(&db, &migrator, &empty);
}

#[test]
fn an_index_on_organisation_and_creation_time() {
    let (db, empty, migrator) = setup();
    upgrade(&db, &migrator, INDEX);
    assert_eq!(
        rows("SELECT indexdef FROM pg_indexes WHERE indexname = 'idx_interactions_org_created'", &db),
        [
            "CREATE INDEX idx_interactions_org_created ON public.interactions USING btree (organisation_id, created_at)"
        ]
    );
    assert_eq!(
        rows(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('public.idx_interactions_org_created')",
            &db
        ),
        ["t"]
    );

    downgrade(&db, &migrator, EXAMPLE_5);
    assert_eq!(
        rows("SELECT count(*) FROM pg_indexes WHERE indexname = 'idx_interactions_org_created'", &db),
        ["0"]
    );
    back_to_base(&db, &migrator, &empty);
}

#[test]
fn a_unique_constraint_on_campaign_names() {
    let (db, empty, migrator) = setup();
    upgrade(&db, &migrator, UNIQUE);
    assert_eq!(constraints(&db, "email_campaigns", 'u'), ["uq_email_campaign_name: UNIQUE (name)"]);
    execute(&db, "INSERT INTO email_campaigns (name) VALUES ('Black Friday')");
    assert_eq!(
        fails_with(&db, "INSERT INTO email_campaigns (name) VALUES ('Black Friday')"),
        SqlState::UNIQUE_VIOLATION
    );

    downgrade(&db, &migrator, INDEX);
    assert_eq!(constraints(&db, "email_campaigns", 'u'), Vec::<String>::new());
    execute(&db, "INSERT INTO email_campaigns (name) VALUES ('Black Friday')");
    // Back up with a duplicate, the constraint cannot be made: the step fails and is undone.
    let error = migrator.upgrade(db.url(), UNIQUE).expect_err("duplicates refuse the constraint");
    let Error::MigrationFailed(failure) = &error else { panic!("unexpected error: {error}") };
    assert_eq!(failure.code.as_deref(), Some("23505"), "{error}");
    assert_eq!(migrator.current(db.url()).expect("reads"), [INDEX]);
    back_to_base(&db, &migrator, &empty);
}

#[test]
fn a_foreign_key_from_interactions_to_their_assignee() {
    let (db, empty, migrator) = setup();
    upgrade(&db, &migrator, FOREIGN_KEY);
    assert_eq!(
        constraints(&db, "interactions", 'f'),
        [
            "fk_interaction_assignee: FOREIGN KEY (assignee_id) REFERENCES users(id) ON DELETE SET NULL",
            "interactions_organisation_id_fkey: FOREIGN KEY (organisation_id) REFERENCES organisations(id)",
            "interactions_person_id_fkey: FOREIGN KEY (person_id) REFERENCES people(id)",
        ]
    );
    execute(
        &db,
        "INSERT INTO organisations (name) VALUES ('Acme');
         INSERT INTO users (email) VALUES ('sam@example.com');
         INSERT INTO interactions (organisation_id, type, status, assignee_id) VALUES (1, 'call', 'pending', 1)",
    );
    assert_eq!(fails_with(&db, "UPDATE interactions SET assignee_id = 99"), SqlState::FOREIGN_KEY_VIOLATION);
    // Deleting the user unassigns the interaction.
    execute(&db, "DELETE FROM users");
    assert_eq!(rows("SELECT assignee_id FROM interactions", &db), ["NULL"]);

    downgrade(&db, &migrator, UNIQUE);
    assert_eq!(constraints(&db, "interactions", 'f').len(), 2);
    execute(&db, "UPDATE interactions SET assignee_id = 99");
    back_to_base(&db, &migrator, &empty);
}

#[test]
fn example_4_adds_an_enum_value_outside_a_transaction_and_cannot_be_undone() {
    let (db, _, migrator) = setup();
    upgrade(&db, &migrator, "head");
    assert_eq!(migrator.current(db.url()).expect("reads"), [EXAMPLE_4]);
    assert_eq!(
        rows(
            "SELECT string_agg(enumlabel, ', ' ORDER BY enumsortorder) FROM pg_enum \
             WHERE enumtypid = 'interaction_type'::regtype",
            &db
        ),
        ["call, email, meeting, linkedin_message"]
    );
    // The value was committed: the application can use it at once.
    execute(
        &db,
        "INSERT INTO organisations (name) VALUES ('Acme');
         INSERT INTO interactions (organisation_id, type, status) VALUES (1, 'linkedin_message', 'pending')",
    );
    assert_eq!(rows("SELECT type FROM interactions", &db), ["linkedin_message"]);
    // It alone of the guide's migrations runs outside a transaction.
    let outside: Vec<&str> = GUIDE.iter().filter(|m| !m.transactional).map(|m| m.rev).collect();
    assert_eq!(outside, [EXAMPLE_4]);

    // The guide's downgrade is `pass` with a comment; here it says so, and the runtime refuses
    // to go below it, touching nothing.
    let before = db.schema(&migrator).expect("reads the schema");
    let error = migrator.downgrade(db.url(), "base").expect_err("refused");
    assert!(matches!(&error, Error::Irreversible { rev, .. } if rev == EXAMPLE_4), "{error}");
    assert!(error.report().contains("PostgreSQL cannot drop an enum value"), "{error}");
    assert_eq!(db.schema(&migrator).expect("reads the schema"), before);
    assert_eq!(migrator.current(db.url()).expect("reads"), [EXAMPLE_4]);
}
