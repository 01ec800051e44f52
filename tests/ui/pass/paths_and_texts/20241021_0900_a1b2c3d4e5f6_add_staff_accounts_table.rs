/// Support staff sign in with their own accounts; the password hash is set by the app.
#[migration(rev = "a1b2c3d4e5f6", down_revision = None)]
mod add_staff_accounts_table {
    use migrate_runtime::prelude::*;
    use std::fmt::Write;

    /// The table, named once.
    const TABLE: &str = "staff_accounts";

    mod columns {
        pub const EMAIL: &str = "email";
    }

    fn create(op: &mut Op) {
        // The password_hash column stays NULL until the person signs in the first time.
        op.create_table(self::TABLE, |t| {
            t.column("id", Type::BigInt).identity().primary_key();
            t.column(columns::EMAIL, Type::Text).not_null();
            t.column("password_hash", Type::Text);
        });
    }

    pub fn upgrade(op: &mut Op) {
        create(op);
        let mut comment = String::from("Staff accounts");
        let _ = write!(comment, ", {} at most", i64::from(u8::MAX));
        op.comment_on_table(TABLE, Some(&comment));
        op.execute(concat!("CREATE INDEX staff_accounts_email ON staff_accounts ", "(email)"));
        let _timeout = std::time::Duration::from_secs(5) + Duration::from_millis(1);
        op.bulk_insert(
            TABLE,
            &["email", "password_hash"],
            vec![vec!["support@example.com".into(), None::<String>.into()]],
        );
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_table(TABLE);
    }
}
