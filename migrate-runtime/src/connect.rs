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
    match Database::parse(url) {
        Ok(database) => database.target,
        Err(_) => "(a connection string that cannot be read, not shown)".to_owned(),
    }
}

/// How to reach a database: its connection settings and how to secure the connection.
///
/// Made from a connection string ([`Database::parse`], what a `&str` given to a run is read
/// with) or from settings already parsed ([`Database::new`]), with the TLS connector of your
/// choice ([`Database::tls`]).
#[derive(Clone)]
pub struct Database {
    config: tokio_postgres::Config,
    tls: Tls,
    /// `user@host:port/database`, never the password.
    target: String,
}

/// How a connection is secured.
#[derive(Clone)]
enum Tls {
    /// In plain text.
    None,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database").field("target", &self.target).finish_non_exhaustive()
    }
}

impl Database {
    /// Reads a connection string, a URL (`postgres://user:password@host:port/database?…`) or
    /// key=value settings (`host=… user=… dbname=…`), checked as described in the crate's
    /// documentation.
    pub fn parse(url: &str) -> Result<Database, Error> {
        Ok(Database::new(config(url)?))
    }

    /// Settings already parsed, used as they are.
    pub fn new(config: tokio_postgres::Config) -> Database {
        let target = target(&config);
        Database { config, tls: Tls::None, target }
    }

    /// Who and where: `user@host:port/database`, never the password.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Connects, the connection driven by a task of the current tokio runtime.
    pub(crate) async fn connect(&self) -> Result<tokio_postgres::Client, Error> {
        let connect_error = |source| Error::Connect { target: self.target.clone(), source };
        match &self.tls {
            Tls::None => {
                let (client, connection) =
                    self.config.connect(tokio_postgres::NoTls).await.map_err(connect_error)?;
                // Ends when the client is dropped or the server closes it; the next query
                // then says so.
                tokio::spawn(connection);
                Ok(client)
            }
        }
    }

    /// Asks the server to cancel the statement a session runs, over a connection secured
    /// as the session's was.
    pub(crate) async fn cancel(&self, token: &tokio_postgres::CancelToken) {
        match &self.tls {
            Tls::None => {
                let _ = token.cancel_query(tokio_postgres::NoTls).await;
            }
        }
    }

    /// A synchronous connection for the test kit's and the embedded CLI's own queries.
    #[cfg(feature = "testkit")]
    pub(crate) fn connect_sync(&self) -> Result<postgres::Client, Error> {
        let connect_error = |source| Error::Connect { target: self.target.clone(), source };
        let config = postgres::Config::from(self.config.clone());
        match &self.tls {
            Tls::None => config.connect(postgres::NoTls).map_err(connect_error),
        }
    }
}

/// A synchronous connection for the test kit's and the embedded CLI's own queries, with
/// the same checks and the same safe target in errors.
#[cfg(feature = "testkit")]
pub(crate) fn connect(url: &str) -> Result<postgres::Client, Error> {
    Database::parse(url)?.connect_sync()
}
