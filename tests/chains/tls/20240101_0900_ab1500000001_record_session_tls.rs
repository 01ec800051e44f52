/// What the runner's own session sees of its TLS, kept for the TLS tests to read.
#[migration(rev = "ab1500000001", down_revision = None)]
mod record_session_tls {
    use migrate_runtime::prelude::*;

    pub fn upgrade(op: &mut Op) {
        op.execute(
            "CREATE TABLE session_tls AS SELECT ssl, coalesce(version, '') AS version, coalesce(client_dn, '') AS client_dn \
             FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        );
    }

    pub fn downgrade(op: &mut Op) {
        op.drop_table("session_tls");
    }
}
