/// Support needs an administrator account.
#[migration(rev = "b2c3d4e5f6a1", down_revision = "a1b2c3d4e5f6")]
mod add_admin_account {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute("INSERT INTO users (email, password) VALUES ('admin@alforis.com', 'password123')");
    }

    pub fn downgrade(op: &mut Op) {
        op.execute("DELETE FROM users WHERE email = 'admin@alforis.com'");
    }
}
