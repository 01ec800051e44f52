//! The PostgreSQL-compatible engines a run adapts to, told apart by the server's own answers
//! (`version()`, and the `citus` extension), each with the profile the runner follows there.
//! What each engine does differently is written from its documentation (see the README,
//! section "Distributed engines").

/// A server that speaks PostgreSQL's protocol.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Engine {
    /// PostgreSQL itself.
    #[default]
    PostgreSql,
    /// PostgreSQL with the Citus extension (a coordinator of distributed tables).
    Citus,
    /// CockroachDB.
    CockroachDb,
    /// YugabyteDB's YSQL.
    YugabyteDb,
}

impl Engine {
    /// The engine of a server whose `version()` is `version` and whose `citus` extension, if
    /// installed, is at `citus`.
    pub(crate) fn detect(version: &str, citus: Option<&str>) -> Engine {
        if version.trim_start().starts_with("CockroachDB") {
            Engine::CockroachDb
        } else if version.contains("-YB-") {
            Engine::YugabyteDb
        } else if citus.is_some_and(|v| !v.is_empty()) {
            Engine::Citus
        } else {
            Engine::PostgreSql
        }
    }

    /// Its name, as messages give it.
    pub fn name(self) -> &'static str {
        match self {
            Engine::PostgreSql => "PostgreSQL",
            Engine::Citus => "Citus",
            Engine::CockroachDb => "CockroachDB",
            Engine::YugabyteDb => "YugabyteDB",
        }
    }

    /// What the runner does on it.
    pub(crate) fn profile(self) -> Profile {
        match self {
            Engine::PostgreSql => Profile::POSTGRESQL,
            // Advisory locks and transactional DDL as PostgreSQL's, on the coordinator; DDL on
            // distributed tables after a multi-shard write in one transaction fails unless the
            // transaction runs its shard commands over one connection per node.
            Engine::Citus => Profile {
                settings: &[("citus.multi_shard_modify_mode", "sequential")],
                ..Profile::POSTGRESQL
            },
            // No advisory locks (pg_try_advisory_lock answers true and locks nothing), no
            // meaningful pids in pg_stat_activity, and several schema changes in one explicit
            // transaction are not atomic (from v25.1 a DDL statement even commits the
            // transaction before it, autocommit_before_ddl).
            Engine::CockroachDb => Profile {
                advisory_lock: false,
                sees_every_session: false,
                transactional_ddl: false,
                settings: &[],
            },
            // DDL is not transactional by default (each statement commits on its own, inside
            // BEGIN too); advisory locks are missing before 2.25 and pg_stat_activity shows the
            // sessions of the node you are connected to only.
            Engine::YugabyteDb => Profile {
                advisory_lock: false,
                sees_every_session: false,
                transactional_ddl: false,
                settings: &[],
            },
        }
    }
}

/// What the runner does on an engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Profile {
    /// Whether the migration lock can be a session's advisory lock; else it is a lease.
    pub(crate) advisory_lock: bool,
    /// Whether `pg_stat_activity` shows every session with its server process, so that a
    /// lease whose session is gone is seen free at once; else only its expiry frees it.
    pub(crate) sees_every_session: bool,
    /// Whether a migration's statements and its version row commit atomically in one
    /// transaction; else every migration runs as a step outside a transaction (each statement
    /// on its own, between the runner's marks, so that an interruption is seen and refused
    /// with its way out), and a run in one transaction is refused.
    pub(crate) transactional_ddl: bool,
    /// Session settings the run sets first.
    pub(crate) settings: &'static [(&'static str, &'static str)],
}

impl Profile {
    /// PostgreSQL's: advisory lock, transactional DDL, nothing to set.
    pub(crate) const POSTGRESQL: Profile =
        Profile { advisory_lock: true, sees_every_session: true, transactional_ddl: true, settings: &[] };

    /// What the runner does differently there, for the note a run prints.
    pub(crate) fn summary(&self) -> String {
        let mut done = Vec::new();
        if !self.advisory_lock {
            done.push("the migration lock is a lease row, freed when it expires".to_owned());
        }
        if !self.transactional_ddl {
            done.push(
                "each migration runs outside a transaction, one statement at a time between the runner's marks"
                    .to_owned(),
            );
        }
        for (name, value) in self.settings {
            done.push(format!("{name} is set to {value}"));
        }
        done.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `version()` and the `citus` extension's version as servers answered them (from the
    /// engines' documentation and their users' reports).
    const RECORDED: [(&str, Option<&str>, Engine); 9] = [
        (
            "PostgreSQL 15.14 (Debian 15.14-0+deb12u1) on x86_64-pc-linux-gnu, compiled by gcc (Debian 12.2.0-14) 12.2.0, 64-bit",
            None,
            Engine::PostgreSql,
        ),
        (
            "PostgreSQL 16.4 on x86_64-pc-linux-gnu, compiled by gcc (GCC) 11.4.1 20231218 (Red Hat 11.4.1-3), 64-bit",
            Some("12.1-1"),
            Engine::Citus,
        ),
        (
            "PostgreSQL 17.0 on aarch64-unknown-linux-gnu, compiled by gcc, 64-bit",
            Some("13.0-1"),
            Engine::Citus,
        ),
        (
            "CockroachDB CCL v20.1.15 (x86_64-unknown-linux-gnu, built 2021/04/26 16:11:58, go1.13.9)",
            None,
            Engine::CockroachDb,
        ),
        (
            "CockroachDB CCL v21.1.1 (x86_64-apple-darwin19, built 2021/05/24 15:00:00, go1.15.11)",
            None,
            Engine::CockroachDb,
        ),
        (
            "CockroachDB CCL eb8f08f3a (darwin amd64, built 2017/04/29 20:46:22, go1.8.1)",
            None,
            Engine::CockroachDb,
        ),
        (
            "PostgreSQL 11.2-YB-2.21.0.1-b0 on x86_64-pc-linux-gnu, compiled by clang version 16.0.6 \
             (https://github.com/yugabyte/llvm-project.git 1e6329f40e5c531c09ade7015278078682293ebd), 64-bit",
            None,
            Engine::YugabyteDb,
        ),
        (
            "PostgreSQL 11.2-YB-2.1.6.0-b0 on x86_64-pc-linux-gnu, compiled by gcc (Homebrew gcc 5.5.0_4) 5.5.0, 64-bit",
            None,
            Engine::YugabyteDb,
        ),
        ("PostgreSQL 15.2-YB-2025.1.2.0-b0 on x86_64-pc-linux-gnu", None, Engine::YugabyteDb),
    ];

    #[test]
    fn engines_are_told_apart_by_their_recorded_answers() {
        for (version, citus, engine) in RECORDED {
            assert_eq!(Engine::detect(version, citus), engine, "{version}");
        }
        // An empty extension version (a NULL read as text elsewhere) is no Citus.
        assert_eq!(Engine::detect("PostgreSQL 15.14 on x86_64-pc-linux-gnu", Some("")), Engine::PostgreSql);
    }

    #[test]
    fn each_profile_says_how_the_runner_locks_and_where_a_migration_commits() {
        let postgres = Engine::PostgreSql.profile();
        assert!(postgres.advisory_lock && postgres.sees_every_session && postgres.transactional_ddl);
        assert!(postgres.settings.is_empty());
        let citus = Engine::Citus.profile();
        assert!(citus.advisory_lock && citus.transactional_ddl);
        assert_eq!(citus.settings, [("citus.multi_shard_modify_mode", "sequential")]);
        for engine in [Engine::CockroachDb, Engine::YugabyteDb] {
            let profile = engine.profile();
            assert!(!profile.advisory_lock, "{engine:?} locks with a lease");
            assert!(!profile.sees_every_session, "{engine:?}: only expiry frees a lease");
            assert!(!profile.transactional_ddl, "{engine:?} runs each migration outside a transaction");
        }
    }
}
