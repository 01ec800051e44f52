/// Sales look people up by email; the index builds without locking the table.
#[migration(rev = "a1b2c3d4e5f6", down_revision = None, transactional = false)]
mod add_people_email_index {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        // Written in place of the template's `todo!()`.
        op.execute("CREATE INDEX CONCURRENTLY people_email ON people (email)");
    }

    pub fn downgrade(op: &mut Op) {
        // Written in place of the template's `todo!()`.
        op.execute("DROP INDEX CONCURRENTLY people_email");
    }
}
