/// A team tier before enterprise; the downgrade recreates the enum as free, enterprise, pro.
#[migration(rev = "fa0000000021", down_revision = "fa0000000020")]
mod add_team_account_tier {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.add_enum_value("account_tier", "team").before("enterprise");
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_enum("account_tier");
        op.create_enum("account_tier", &["free", "enterprise", "pro"]);
    }
}
