//! Reading a connection string, and naming its target without its password.

use std::str::FromStr;
use std::time::Duration;

use tokio_postgres::config::Host;

use crate::error::Error;

/// The connection settings of `url`, checked: a URL with an unencoded `@` after its
/// authority (in its path or query: in a password given there), or whose host holds one (an
/// unencoded `@` in the password of its user part), is refused before anything connects.
/// The driver splits a URL at its first `@`, wherever it is, and the target shown in errors
/// would then show a part of the password. (A database name may hold an `@`, percent-encoded
/// in a URL.)
pub(crate) fn config(url: &str) -> Result<tokio_postgres::Config, Error> {
    if let Some(rest) = url.strip_prefix("postgres://").or_else(|| url.strip_prefix("postgresql://")) {
        let authority = rest.find(['/', '?']).unwrap_or(rest.len());
        if rest[authority..].contains('@') {
            return Err(Error::MalformedUrl);
        }
    }
    let mut config = tokio_postgres::Config::from_str(url).map_err(unreadable)?;
    if config.get_hosts().iter().any(|h| matches!(h, Host::Tcp(name) if name.contains('@'))) {
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

/// Why a connection string cannot be read, without what the driver quotes of it: the name
/// of an unknown option may be a part of a password (cut at an unencoded `&` or space).
fn unreadable(source: tokio_postgres::Error) -> Error {
    let cause = std::error::Error::source(&source).map(ToString::to_string).unwrap_or_default();
    let reason = if cause.starts_with("unknown option") {
        "it names an option PostgreSQL does not know (not shown: a part of a password with an unencoded `&`, `=` or \
         space reads as one)"
            .to_owned()
    } else {
        cause
    };
    Error::UnreadableConnectionString { reason }
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

/// The target of `url`, for messages: `user@host:port/database` from its parsed settings,
/// never its password; a placeholder when it cannot be read.
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
