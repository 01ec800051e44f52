//! Reading a connection string, and naming its target without its password.

use std::str::FromStr;
use std::time::Duration;

use tokio_postgres::config::Host;

use crate::error::Error;

/// The connection settings of `url`, checked: a URL whose host or database name holds an
/// `@` is refused before anything connects, since only an unencoded `@` in the password
/// puts one there (and the name shown in errors would then show a part of it).
pub(crate) fn config(url: &str) -> Result<tokio_postgres::Config, Error> {
    let mut config = tokio_postgres::Config::from_str(url).map_err(|source| Error::Connect {
        target: "the database (its connection string cannot be read, so it is not shown)".to_owned(),
        source,
    })?;
    let in_host = config.get_hosts().iter().any(|h| matches!(h, Host::Tcp(name) if name.contains('@')));
    let in_dbname = config.get_dbname().is_some_and(|d| d.contains('@'));
    if in_host || in_dbname {
        return Err(Error::MalformedUrl);
    }
    // A dead peer is noticed in about a minute instead of the system's two hours.
    if config.get_keepalives_idle() == Duration::from_secs(2 * 60 * 60) {
        config.keepalives_idle(Duration::from_secs(30));
        config.keepalives_interval(Duration::from_secs(10));
        config.keepalives_retries(3);
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(30));
    }
    if config.get_application_name().is_none() {
        config.application_name("migrate");
    }
    Ok(config)
}

/// `user@host:port/database`, from the parsed settings: never the connection string, so
/// never its password, however it was written.
pub(crate) fn target(config: &tokio_postgres::Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| {
            let port = config.get_ports().get(i).or(config.get_ports().first()).copied().unwrap_or(5432);
            match host {
                Host::Tcp(name) if name.contains(':') => format!("[{name}]:{port}"),
                Host::Tcp(name) => format!("{name}:{port}"),
                #[cfg(unix)]
                Host::Unix(path) => format!("{}:{port}", path.display()),
            }
        })
        .collect();
    let hosts = if hosts.is_empty() { "localhost:5432".to_owned() } else { hosts.join(",") };
    let user = config.get_user().unwrap_or("(default user)");
    format!("{user}@{hosts}/{}", config.get_dbname().unwrap_or(user))
}

/// The target of `url`, for messages: [`target`] when it can be read.
pub fn redact(url: &str) -> String {
    match config(url) {
        Ok(config) => target(&config),
        Err(_) => "(a connection string that cannot be read, not shown)".to_owned(),
    }
}

/// A synchronous connection for the test kit's and the embedded CLI's own queries, with
/// the same checks and the same safe target in errors.
#[cfg(feature = "testkit")]
pub(crate) fn connect(url: &str) -> Result<postgres::Client, Error> {
    let config = config(url)?;
    let target = target(&config);
    postgres::Config::from(config)
        .connect(postgres::NoTls)
        .map_err(|source| Error::Connect { target, source })
}
