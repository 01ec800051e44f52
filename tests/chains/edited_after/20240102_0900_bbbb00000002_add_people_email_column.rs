/// Contact addresses.
#[migration(rev = "bbbb00000002", down_revision = "aaaa00000001")]
mod add_people_email_column {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.add_column("people", "mail_2", Type::Text);
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_column("people", "mail_2");
    }
}
