//! The backup a run writes before its first change ([`crate::Migrator::backup_to`]):
//! `pg_dump` in its custom format, given the run's connection settings in libpq's environment
//! (never on its command line, which other users of the machine can read).

use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use migrate_core::sql::stored_name;

use crate::connect::Database;

/// A PostgreSQL program: on `PATH`, else in `pg_config --bindir`.
pub(crate) fn find_binary(name: &str) -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join(name))
        .find(|p| p.is_file());
    on_path.or_else(|| {
        let output = Command::new("pg_config").arg("--bindir").output().ok()?;
        let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        Some(dir.join(name)).filter(|p| p.is_file())
    })
}

/// `pg_dump` connecting with libpq's `environment` (`PGHOST`, `PGPASSWORD`, …: never on its
/// command line, which every user of the machine can read) and none of this process's own
/// `PG*` variables (a `PGSERVICE`, a `PGSSLCRL` could point it at another database), never
/// asking for a password.
pub(crate) fn pg_dump_command(environment: &[(&'static str, String)]) -> Result<Command, String> {
    let pg_dump = find_binary("pg_dump").ok_or_else(|| {
        "pg_dump was found neither on PATH nor in `pg_config --bindir`: install PostgreSQL's client programs".to_owned()
    })?;
    let mut command = Command::new(&pg_dump);
    for (variable, _) in std::env::vars_os() {
        if variable.to_str().is_some_and(|v| v.starts_with("PG")) {
            command.env_remove(variable);
        }
    }
    command.envs(environment.iter().map(|(name, value)| (*name, value.as_str())));
    command.arg("--no-password");
    Ok(command)
}

/// Dumps `database` (only `schemas`, when some are given) into a new file of `dir`, named with
/// the database and the version rows `rows` it is at; returns the file.
///
/// # Errors
///
/// Why there is no backup: `pg_dump` missing or failing (its own words), the folder not
/// writable. A partial file is removed.
pub(crate) async fn dump(
    database: &Database,
    schemas: &[String],
    dir: &Path,
    rows: &[String],
    bounds: Bounds,
) -> Result<PathBuf, String> {
    let environment = database.libpq_environment()?;
    let host =
        environment.iter().find(|(name, _)| *name == "PGHOST").map_or("localhost", |(_, v)| v.as_str());
    let port = environment.iter().find(|(name, _)| *name == "PGPORT").map_or("5432", |(_, v)| v.as_str());
    let dbname = environment.iter().find(|(name, _)| *name == "PGDATABASE").map_or("", |(_, v)| v.as_str());
    let name = file_name(&[host, port, dbname], schemas.first().map(String::as_str), rows, SystemTime::now());
    let (dir, schemas) = (dir.to_owned(), schemas.to_vec());
    tokio::task::spawn_blocking(move || run_pg_dump(&environment, &schemas, &dir, &name, &bounds))
        .await
        .map_err(|e| format!("the backup's thread failed: {e}"))?
}

/// What bounds a backup: how long `pg_dump` may wait for a table's lock, and the run's
/// interrupt, which stops it.
pub(crate) struct Bounds {
    /// `pg_dump --lock-wait-timeout`.
    pub(crate) lock_wait: Duration,
    /// Set to a signal's number to stop the dump.
    pub(crate) interrupt: Option<Arc<AtomicUsize>>,
}

fn run_pg_dump(
    environment: &[(&'static str, String)],
    schemas: &[String],
    dir: &Path,
    name: &str,
    bounds: &Bounds,
) -> Result<PathBuf, String> {
    let mut command = pg_dump_command(environment)?;
    let pg_dump = PathBuf::from(command.get_program());
    // A backup is a copy of the data: readable by its owner alone, as is a folder made for it.
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| format!("cannot create the folder {}: {e}", dir.display()))?;
    let (file, partial) = reserve(dir, name)?;
    command.arg("--format=custom").arg("--file").arg(&partial);
    command.arg(format!("--lock-wait-timeout={}ms", bounds.lock_wait.as_millis().max(1)));
    for schema in schemas {
        // pg_dump reads a pattern: quoted, the name is matched exactly, as PostgreSQL stored it.
        command.arg("--schema").arg(format!("\"{}\"", stored_name(schema).replace('"', "\"\"")));
    }
    let failed = |reason: String| {
        let _ = std::fs::remove_file(&partial);
        let _ = std::fs::remove_file(&file);
        Err(reason)
    };
    let child = command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => return failed(format!("cannot run {}: {e}", pg_dump.display())),
    };
    // Its error output, read as it comes (a full pipe would stall it).
    let mut stderr = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(stderr) = stderr.as_mut() {
            let _ = std::io::Read::read_to_string(stderr, &mut text);
        }
        text
    });
    let status = loop {
        if bounds.interrupt.as_ref().is_some_and(|flag| flag.load(Ordering::SeqCst) != 0) {
            let _ = child.kill();
            let _ = child.wait();
            let _ = reader.join();
            return failed("interrupted while pg_dump ran".to_owned());
        }
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return failed(format!("cannot wait for pg_dump: {e}")),
        }
    };
    let said = reader.join().unwrap_or_default();
    if !status.success() {
        let said = said.trim().lines().collect::<Vec<_>>().join(" ");
        return failed(format!("pg_dump failed ({status}): {said}"));
    }
    match std::fs::rename(&partial, &file) {
        Ok(()) => Ok(file),
        Err(e) => failed(format!("cannot name the backup {}: {e}", file.display())),
    }
}

/// A file of `dir` named `name` that no other backup has (`-2`, `-3`, … before `.dump` when
/// taken: two tenants whose names differ only in characters a file name cannot hold, dumped
/// in the same second), created empty to hold the name, and the file `pg_dump` writes first.
fn reserve(dir: &Path, name: &str) -> Result<(PathBuf, PathBuf), String> {
    let stem = name.strip_suffix(".dump").unwrap_or(name);
    for n in 1..1_000 {
        let candidate = if n == 1 { format!("{stem}.dump") } else { format!("{stem}-{n}.dump") };
        let file = dir.join(&candidate);
        match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&file) {
            Ok(_) => {
                // pg_dump writes into it, keeping its mode.
                let partial = dir.join(format!("{candidate}.partial"));
                std::fs::OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .mode(0o600)
                    .open(&partial)
                    .map_err(|e| format!("cannot create a file in {}: {e}", dir.display()))?;
                return Ok((file, partial));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(format!("cannot create a file in {}: {e}", dir.display())),
        }
    }
    Err(format!("{} holds a thousand backups named {stem}", dir.display()))
}

/// `<host>_<port>_<database>[_<schema>]-<revisions>-<UTC time>.dump`, each part kept to
/// characters every file system takes (others become `_`): the version rows joined with `+`,
/// `base` when there are none, and the time to the second, so that backups never overwrite
/// each other.
fn file_name(target: &[&str], schema: Option<&str>, rows: &[String], now: SystemTime) -> String {
    let safe = |part: &str| -> String {
        part.chars()
            .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-') { c } else { '_' })
            .collect()
    };
    let mut who: Vec<String> =
        target.iter().map(|part| safe(part.split(',').next().unwrap_or(part))).collect();
    if let Some(schema) = schema {
        who.push(safe(schema));
    }
    let revisions = if rows.is_empty() {
        "base".to_owned()
    } else {
        let mut rows: Vec<String> = rows.iter().map(|row| safe(row)).collect();
        rows.sort();
        rows.join("+")
    };
    format!("{}-{revisions}-{}.dump", who.join("_"), utc(now))
}

/// `YYYYMMDDTHHMMSSZ`.
fn utc(now: SystemTime) -> String {
    let seconds = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    // Days to a civil date (Howard Hinnant's algorithm), from 1970-01-01.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z", rest / 3_600, rest % 3_600 / 60, rest % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backup_is_named_with_the_target_the_revisions_and_the_time() {
        let at = UNIX_EPOCH + Duration::from_secs(1_796_256_000 + 3_661); // 2026-12-03 01:01:01 UTC
        let rows = ["b2".to_owned(), "a1".to_owned()];
        assert_eq!(
            file_name(&["db.example.com", "5432", "crm"], None, &rows, at),
            "db.example.com_5432_crm-a1+b2-20261203T010101Z.dump"
        );
        assert_eq!(
            file_name(&["/run/postgresql", "5433", "crm app"], Some("tenant/1"), &[], at),
            "_run_postgresql_5433_crm_app_tenant_1-base-20261203T010101Z.dump"
        );
        assert_eq!(
            file_name(&["h1,h2", "1,2", "x"], None, &[], UNIX_EPOCH),
            "h1_1_x-base-19700101T000000Z.dump"
        );
    }

    #[test]
    fn a_backup_never_takes_the_name_of_another() {
        let dir = std::env::temp_dir().join(format!("migrate-backup-names-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a folder");
        let first = reserve(&dir, "h_5432_db_tenant_1-base-20261203T010101Z.dump").expect("a name");
        let second = reserve(&dir, "h_5432_db_tenant_1-base-20261203T010101Z.dump").expect("a name");
        assert_eq!(
            first.0.file_name().and_then(|n| n.to_str()),
            Some("h_5432_db_tenant_1-base-20261203T010101Z.dump")
        );
        assert_eq!(
            second.0.file_name().and_then(|n| n.to_str()),
            Some("h_5432_db_tenant_1-base-20261203T010101Z-2.dump")
        );
        assert_eq!(
            second.1.file_name().and_then(|n| n.to_str()),
            Some("h_5432_db_tenant_1-base-20261203T010101Z-2.dump.partial")
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn utc_dates_cross_leap_years_and_centuries() {
        let day = |d: u64| utc(UNIX_EPOCH + Duration::from_secs(d * 86_400));
        assert_eq!(day(0), "19700101T000000Z");
        assert_eq!(day(11_016), "20000229T000000Z");
        assert_eq!(day(19_782), "20240229T000000Z");
        assert_eq!(day(47_541), "21000301T000000Z");
    }
}
