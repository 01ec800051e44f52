//! Reading a connection string, naming its target without its password, and securing the
//! connection as libpq does.
//!
//! # TLS
//!
//! The TLS options of libpq are read out of the connection string (URL query or key=value
//! form) before the driver reads the rest, since `tokio-postgres` knows only `sslmode`
//! `disable`, `prefer` and `require` and refuses the others:
//!
//! | `sslmode` | TLS | the server's certificate |
//! |---|---|---|
//! | `disable` | never | — |
//! | `allow` | as `prefer` (libpq tries plain text first; asking for TLS first is never less safe) | as `prefer` |
//! | `prefer` (the default) | when the server offers it; plain text when it does not, or when the TLS attempt fails or is refused (libpq's retry) | not checked, unless a root certificate is given: then its chain |
//! | `require` | always | not checked, unless a root certificate is given: then its chain (libpq's rule) |
//! | `verify-ca` | always | its chain, up to a root of `sslrootcert` or `~/.postgresql/root.crt` |
//! | `verify-full` | always | its chain and the host name; roots as above, else the system's |
//!
//! `sslrootcert=<file>` (PEM, one or more certificates) names the roots; without it,
//! `~/.postgresql/root.crt` is used when it exists (libpq's default file). `sslrootcert=system`
//! takes the system's roots, and then, as in libpq 16, only `verify-full` is allowed (any
//! public CA signs certificates for names of its choice, so a chain alone proves nothing) and
//! is the default. Where libpq refuses `verify-full` without any root file, the system's roots
//! are used; `verify-ca` without a root file is refused. `sslcert` and `sslkey` (PEM; PKCS#8,
//! PKCS#1 or SEC1 keys, unencrypted, not readable by group or others) give a client
//! certificate; `~/.postgresql/postgresql.crt` and `postgresql.key` are used when they exist.
//! Unlike libpq, an `sslrootcert` or `sslcert` naming a file that does not exist is an
//! error in every mode, not a silent downgrade.

use std::borrow::Cow;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::str::FromStr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::tls::{MakeTlsConnect, TlsConnect};
use tokio_postgres::{CancelToken, NoTls, Socket};

use crate::error::{Error, describe};

/// The connection settings of `url`, checked: a URL with an unencoded `@` after its
/// authority (in its path or query: in a password given there), or whose host holds one (an
/// unencoded `@` in the password of its user part), is refused before anything connects.
/// The driver splits a URL at its first `@`, wherever it is, and the target shown in errors
/// would then show a part of the password. (A database name may hold an `@`, percent-encoded
/// in a URL.) The TLS options are read out first (see the module's documentation); the
/// driver's `sslmode` is set from them.
fn config(url: &str) -> Result<(tokio_postgres::Config, TlsOptions), Error> {
    if let Some(rest) = url.strip_prefix("postgres://").or_else(|| url.strip_prefix("postgresql://")) {
        let authority = rest.find(['/', '?']).unwrap_or(rest.len());
        if rest[authority..].contains('@') {
            return Err(Error::MalformedUrl);
        }
    }
    let (rest, options) = strip_tls_options(url)?;
    let mut config = tokio_postgres::Config::from_str(&rest).map_err(unreadable)?;
    if config.get_hosts().iter().any(|h| matches!(h, Host::Tcp(name) if name.contains('@'))) {
        return Err(Error::MalformedUrl);
    }
    let options = options.checked()?;
    config.ssl_mode(driver_mode(options.mode(), &config));
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
    Ok((config, options))
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

/// The driver's `sslmode` for libpq's `mode`: `allow` and `prefer` are its `prefer`, the
/// verifying modes its `require` (the verification is the connector's). Over Unix sockets
/// PostgreSQL offers no TLS and libpq ignores `sslmode`: so do we, when every host is one.
fn driver_mode(mode: Mode, config: &tokio_postgres::Config) -> SslMode {
    // A host with a `hostaddr` is reached over TCP at that address, whatever the host says:
    // only sockets without one go unencrypted, as libpq has it.
    let all_unix = !config.get_hosts().is_empty()
        && config.get_hostaddrs().is_empty()
        && config.get_hosts().iter().all(|h| !matches!(h, Host::Tcp(_)));
    match mode {
        _ if all_unix => SslMode::Disable,
        Mode::Disable => SslMode::Disable,
        Mode::Allow | Mode::Prefer => SslMode::Prefer,
        Mode::Require | Mode::VerifyCa | Mode::VerifyFull => SslMode::Require,
    }
}

/// `user@host:port/database`, from the parsed settings: never the connection string, so
/// never its password, however it was written.
pub(crate) fn target(config: &tokio_postgres::Config) -> String {
    let port = |i: usize| config.get_ports().get(i).or(config.get_ports().first()).copied().unwrap_or(5432);
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| match host {
            Host::Tcp(name) if name.contains(':') => format!("[{name}]:{}", port(i)),
            Host::Tcp(name) => format!("{name}:{}", port(i)),
            #[cfg(unix)]
            Host::Unix(path) => format!("{}:{}", path.display(), port(i)),
        })
        .collect();
    let addresses = || {
        let named: Vec<String> = config
            .get_hostaddrs()
            .iter()
            .enumerate()
            .map(|(i, address)| match address {
                std::net::IpAddr::V6(v6) => format!("[{v6}]:{}", port(i)),
                std::net::IpAddr::V4(v4) => format!("{v4}:{}", port(i)),
            })
            .collect();
        if named.is_empty() { "localhost:5432".to_owned() } else { named.join(",") }
    };
    let hosts = if hosts.is_empty() { addresses() } else { hosts.join(",") };
    let user = config.get_user().unwrap_or("(default user)");
    format!("{user}@{hosts}/{}", config.get_dbname().unwrap_or(user))
}

/// The target of `url`, for messages: `user@host:port/database` from its parsed settings,
/// never its password; a placeholder when it cannot be read. No file is read.
#[cfg(test)]
pub(crate) fn redact(url: &str) -> String {
    match config(url) {
        Ok((config, _)) => target(&config),
        Err(_) => "(a connection string that cannot be read, not shown)".to_owned(),
    }
}

// ---------------------------------------------------------------------------------------
// The TLS options of a connection string.
// ---------------------------------------------------------------------------------------

/// libpq's `sslmode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl Mode {
    const NAMES: [(&'static str, Mode); 6] = [
        ("disable", Mode::Disable),
        ("allow", Mode::Allow),
        ("prefer", Mode::Prefer),
        ("require", Mode::Require),
        ("verify-ca", Mode::VerifyCa),
        ("verify-full", Mode::VerifyFull),
    ];

    fn name(self) -> &'static str {
        Mode::NAMES.iter().find(|(_, m)| *m == self).map_or("prefer", |(n, _)| n)
    }
}

/// The TLS versions libpq names in `ssl_min_protocol_version` / `ssl_max_protocol_version`;
/// rustls speaks 1.2 and 1.3.
const TLS_VERSIONS: [&str; 4] = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];

/// libpq's TLS options of a connection string, as given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct TlsOptions {
    /// `sslmode`, when given.
    mode: Option<Mode>,
    /// `sslrootcert`: a file, or `system`.
    root_cert: Option<String>,
    /// `sslcert`.
    cert: Option<String>,
    /// `sslkey`.
    key: Option<String>,
    /// `sslsni`: whether the host name is sent in the handshake (default yes).
    sni: Option<bool>,
    /// `sslcertmode=disable`: no client certificate is sent.
    no_client_cert: bool,
    /// `ssl_min_protocol_version=TLSv1.3`.
    tls13_only: bool,
    /// `ssl_max_protocol_version=TLSv1.2`.
    tls12_only: bool,
}

/// The options that are read here, never handed to the driver.
const TLS_KEYS: [&str; 13] = [
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "sslsni",
    "sslcompression",
    "sslcertmode",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
    "gssencmode",
    "sslpassword",
    "sslcrl",
    "sslcrldir",
];

fn settings_error(problem: impl Into<String>, help: impl Into<String>) -> Error {
    Error::TlsSettings { problem: problem.into(), help: help.into() }
}

impl TlsOptions {
    /// Records option `key` (one of [`TLS_KEYS`]). Values are never quoted in errors: an
    /// unencoded `&` or space in a password can make a part of it read as one.
    fn set(&mut self, key: &str, value: String) -> Result<(), Error> {
        let one_of = |names: &[&str]| names.join(", ");
        match key {
            "sslmode" => {
                let mode = Mode::NAMES.iter().find(|(name, _)| *name == value).map(|(_, mode)| *mode);
                self.mode = Some(mode.ok_or_else(|| {
                    settings_error(
                        "sslmode has a value libpq does not know (not shown)",
                        format!("use one of {}", one_of(&Mode::NAMES.map(|(n, _)| n))),
                    )
                })?);
            }
            "sslrootcert" => self.root_cert = Some(value).filter(|v| !v.is_empty()),
            "sslcert" => self.cert = Some(value).filter(|v| !v.is_empty()),
            "sslkey" => self.key = Some(value).filter(|v| !v.is_empty()),
            "sslsni" => {
                self.sni = Some(match value.as_str() {
                    "1" => true,
                    "0" => false,
                    _ => {
                        return Err(settings_error(
                            "sslsni has a value other than 0 or 1",
                            "use sslsni=1 or sslsni=0",
                        ));
                    }
                });
            }
            // Ignored by libpq since PostgreSQL 16, never supported by rustls.
            "sslcompression" => {}
            "sslcertmode" => match value.as_str() {
                "allow" => self.no_client_cert = false,
                "disable" => self.no_client_cert = true,
                _ => {
                    return Err(settings_error(
                        "sslcertmode=require is not supported (only disable and allow)",
                        "remove it, or use sslcertmode=allow: the server decides whether a client certificate is required",
                    ));
                }
            },
            "ssl_min_protocol_version" | "ssl_max_protocol_version" => {
                if !TLS_VERSIONS.contains(&value.as_str()) {
                    return Err(settings_error(
                        format!("{key} has a value libpq does not know"),
                        format!("use one of {}", one_of(&TLS_VERSIONS)),
                    ));
                }
                if key == "ssl_min_protocol_version" {
                    self.tls13_only = value == "TLSv1.3";
                } else if value == "TLSv1.2" {
                    self.tls12_only = true;
                } else if value != "TLSv1.3" {
                    return Err(settings_error(
                        format!("{key}={value} cannot be met: TLS versions before 1.2 are not supported"),
                        "use TLSv1.2 or TLSv1.3",
                    ));
                }
            }
            // No GSSAPI here: as if the server offered none, which `prefer` and `allow` accept.
            "gssencmode" => {
                if !matches!(value.as_str(), "disable" | "allow" | "prefer") {
                    return Err(settings_error(
                        "gssencmode=require is not supported: GSSAPI encryption is not available",
                        "remove it, and use sslmode=verify-full to encrypt and authenticate the connection",
                    ));
                }
            }
            _ => {
                let why = match key {
                    "sslpassword" => "encrypted client keys are not supported",
                    _ => "certificate revocation lists are not supported",
                };
                return Err(settings_error(
                    format!("{key} is not supported: {why}"),
                    "remove it (decrypt a key with `openssl pkey -in <key> -out <key>`), or connect with a TLS connector of your own (`Database::tls`)",
                ));
            }
        }
        Ok(())
    }

    /// The options, checked together.
    fn checked(self) -> Result<TlsOptions, Error> {
        if self.root_cert.as_deref() == Some("system") && self.mode.is_some_and(|m| m != Mode::VerifyFull) {
            return Err(settings_error(
                format!(
                    "sslmode={} may not be used with sslrootcert=system: any public certificate authority signs certificates for names of its choice, so only the host name check makes its signature mean something",
                    self.mode.map_or("prefer", Mode::name)
                ),
                "use sslmode=verify-full (the default with sslrootcert=system), or give the root of your own CA with sslrootcert=<file>",
            ));
        }
        if self.tls13_only && self.tls12_only {
            return Err(settings_error(
                "ssl_min_protocol_version is above ssl_max_protocol_version",
                "allow at least one TLS version",
            ));
        }
        Ok(self)
    }

    /// libpq's mode: as given, else `verify-full` with `sslrootcert=system`, else `prefer`.
    fn mode(&self) -> Mode {
        self.mode.unwrap_or(if self.root_cert.as_deref() == Some("system") {
            Mode::VerifyFull
        } else {
            Mode::Prefer
        })
    }
}

/// `url` without its TLS options, and the options: from the query of a URL (percent-decoded)
/// or from key=value settings (quoted or escaped). A string that cannot be split as the driver
/// splits it is handed on whole, for the driver to refuse.
fn strip_tls_options(url: &str) -> Result<(Cow<'_, str>, TlsOptions), Error> {
    let mut options = TlsOptions::default();
    let (rest, found) = match ["postgres://", "postgresql://"].iter().find(|p| url.starts_with(*p)) {
        Some(prefix) => split_url(url, prefix.len()),
        None => split_key_values(url),
    };
    let Some(found) = found else { return Ok((Cow::Borrowed(url), options)) };
    for (key, value) in found {
        options.set(&key, value)?;
    }
    Ok((rest, options))
}

/// The options of [`TLS_KEYS`] in a URL's query, as the driver reads it: the query starts
/// at the first `?` after the user part (which ends at the first `@`); a key runs to the
/// next `=` and its value to the next `&`, both percent-decoded.
#[allow(clippy::type_complexity, reason = "a private helper's pair of results")]
fn split_url(url: &str, prefix: usize) -> (Cow<'_, str>, Option<Vec<(String, String)>>) {
    let rest = &url[prefix..];
    let user_end = rest.find('@').map_or(0, |at| at + 1);
    let Some(question) = rest[user_end..].find('?') else { return (Cow::Borrowed(url), Some(Vec::new())) };
    let query_start = prefix + user_end + question + 1;
    let mut query = &url[query_start..];
    let mut kept: Vec<&str> = Vec::new();
    let mut found = Vec::new();
    while !query.is_empty() {
        let Some(equals) = query.find('=') else { return (Cow::Borrowed(url), None) };
        let value_end = query[equals + 1..].find('&').map_or(query.len(), |amp| equals + 1 + amp);
        let (raw_key, raw_value) = (&query[..equals], &query[equals + 1..value_end]);
        match decode(raw_key) {
            Some(key) if TLS_KEYS.contains(&key.as_str()) => match decode(raw_value) {
                Some(value) => found.push((key, value)),
                None => return (Cow::Borrowed(url), None),
            },
            _ => kept.push(&query[..value_end]),
        }
        query = query.get(value_end + 1..).unwrap_or("");
    }
    if found.is_empty() {
        return (Cow::Borrowed(url), Some(found));
    }
    let head = if kept.is_empty() { &url[..query_start - 1] } else { &url[..query_start] };
    (Cow::Owned(format!("{head}{}", kept.join("&"))), Some(found))
}

fn decode(text: &str) -> Option<String> {
    percent_encoding::percent_decode_str(text).decode_utf8().ok().map(Cow::into_owned)
}

/// The options of [`TLS_KEYS`] in key=value settings, read as the driver reads them:
/// `key = value`, the value bare (a backslash escapes the next character) or in single quotes
/// (`\'` and `\\` inside). The rest of the string is kept byte for byte.
#[allow(clippy::type_complexity, reason = "a private helper's pair of results")]
fn split_key_values(text: &str) -> (Cow<'_, str>, Option<Vec<(String, String)>>) {
    let bytes: Vec<(usize, char)> = text.char_indices().collect();
    let at = |i: usize| bytes.get(i).map(|&(_, c)| c);
    let offset = |i: usize| bytes.get(i).map_or(text.len(), |&(o, _)| o);
    let skip_ws = |mut i: usize| {
        while at(i).is_some_and(char::is_whitespace) {
            i += 1;
        }
        i
    };
    let mut i = 0;
    let mut removed: Vec<(usize, usize)> = Vec::new();
    let mut found = Vec::new();
    loop {
        i = skip_ws(i);
        let start = i;
        while at(i).is_some_and(|c| !c.is_whitespace() && c != '=') {
            i += 1;
        }
        if i == start {
            break;
        }
        let key = &text[offset(start)..offset(i)];
        i = skip_ws(i);
        if at(i) != Some('=') {
            return (Cow::Borrowed(text), None);
        }
        i = skip_ws(i + 1);
        let mut value = String::new();
        if at(i) == Some('\'') {
            i += 1;
            loop {
                match at(i) {
                    None => return (Cow::Borrowed(text), None),
                    Some('\'') => break,
                    Some('\\') => {
                        value.extend(at(i + 1));
                        i += 2;
                    }
                    Some(c) => {
                        value.push(c);
                        i += 1;
                    }
                }
            }
            i += 1;
        } else {
            while let Some(c) = at(i).filter(|c| !c.is_whitespace()) {
                if c == '\\' {
                    value.extend(at(i + 1));
                    i += 2;
                } else {
                    value.push(c);
                    i += 1;
                }
            }
            if value.is_empty() {
                return (Cow::Borrowed(text), None);
            }
        }
        if TLS_KEYS.contains(&key) {
            found.push((key.to_owned(), value));
            removed.push((offset(start), offset(i.min(bytes.len()))));
        }
    }
    if removed.is_empty() {
        return (Cow::Borrowed(text), Some(found));
    }
    let mut rest = String::with_capacity(text.len());
    let mut from = 0;
    for (start, end) in removed {
        rest.push_str(&text[from..start]);
        from = end;
    }
    rest.push_str(&text[from..]);
    (Cow::Owned(rest), Some(found))
}

// ---------------------------------------------------------------------------------------
// Database: settings, and how the connection is secured.
// ---------------------------------------------------------------------------------------

/// How to reach a database: its connection settings and how to secure the connection.
///
/// Made from a connection string ([`Database::parse`], what a `&str` given to a run is read
/// with) or from settings already parsed ([`Database::new`]); the connection is secured as
/// libpq secures it, following `sslmode`, `sslrootcert`, `sslcert` and `sslkey` (see the
/// crate's README, section TLS), with rustls, or with the TLS connector of your choice
/// ([`Database::tls`]). Every connection of a run goes through it: the runner's, its cancel
/// requests, and the test kit's and the embedded CLI's own.
#[derive(Clone)]
pub struct Database {
    config: tokio_postgres::Config,
    /// libpq's `sslmode`, for the messages, and for the retry in plain text of `prefer`.
    mode: Mode,
    tls: Tls,
    /// `user@host:port/database`, never the password.
    target: String,
}

/// How a connection is secured.
#[derive(Clone)]
enum Tls {
    /// By libpq's options: the connector is made on first use (the certificate files are
    /// read then, as libpq reads them when connecting), and kept.
    Libpq(Arc<Libpq>),
    /// By the caller's connector.
    Own(Arc<dyn Connector>),
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("target", &self.target)
            .field("sslmode", &self.mode.name())
            .finish_non_exhaustive()
    }
}

impl Database {
    /// Reads a connection string, a URL (`postgres://user:password@host:port/database?…`) or
    /// key=value settings (`host=… user=… dbname=…`), checked as described in the crate's
    /// documentation, with libpq's TLS options (`sslmode`, `sslrootcert`, `sslcert`, `sslkey`,
    /// `sslsni`, `sslcertmode`, `ssl_min_protocol_version`, `ssl_max_protocol_version`).
    /// No file is read until a connection is made.
    pub fn parse(url: &str) -> Result<Database, Error> {
        let (config, options) = config(url)?;
        Ok(Database::with_options(config, options))
    }

    /// Settings already parsed, used as they are: TLS as libpq's `sslmode` of the same name
    /// (`disable`, `prefer`, `require`), with the default files of `~/.postgresql` (a root
    /// certificate there makes the server's chain checked; a client certificate there is sent).
    pub fn new(config: tokio_postgres::Config) -> Database {
        let mode = match config.get_ssl_mode() {
            SslMode::Disable => Mode::Disable,
            SslMode::Prefer => Mode::Prefer,
            _ => Mode::Require,
        };
        Database::with_options(config, TlsOptions { mode: Some(mode), ..TlsOptions::default() })
    }

    fn with_options(config: tokio_postgres::Config, options: TlsOptions) -> Database {
        let target = target(&config);
        let mode = options.mode();
        let libpq = Libpq { mode, options, home: home(), made: OnceLock::new() };
        Database { config, mode, tls: Tls::Libpq(Arc::new(libpq)), target }
    }

    /// Secures the connections with `connector` instead of rustls set up from the connection
    /// string: a `tokio_postgres_rustls::MakeRustlsConnect` with a `rustls::ClientConfig` of
    /// your own, a `postgres-openssl` or `postgres-native-tls` connector, …
    ///
    /// `sslrootcert`, `sslcert`, `sslkey` and the other certificate options are then ignored:
    /// the connector decides what is verified and which client certificate is sent. `sslmode`
    /// still decides whether TLS is asked for: `disable` never; `allow` and `prefer` first,
    /// in plain text when the server offers no TLS, or when the handshake fails or the server
    /// refuses the connection over TLS; `require`, `verify-ca` and `verify-full` always. The
    /// runner's cancel requests go through the same connector.
    pub fn tls<M>(mut self, connector: M) -> Database
    where
        M: MakeTlsConnect<Socket> + Clone + Send + Sync + 'static,
        M::Stream: Send + 'static,
        M::TlsConnect: Send,
        M::Error: Send,
        <M::TlsConnect as TlsConnect<Socket>>::Future: Send + 'static,
    {
        self.tls = Tls::Own(Arc::new(connector));
        self
    }

    /// The same settings for the database `name` of the same server.
    #[cfg(feature = "cli")]
    pub(crate) fn with_dbname(&self, name: &str) -> Database {
        let mut database = self.clone();
        database.config.dbname(name);
        database.target = target(&database.config);
        database
    }

    /// Who and where: `user@host:port/database`, never the password.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The settings as libpq's environment (`PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`,
    /// `PGSSLMODE`, …), for a libpq program such as `pg_dump`: a password stays out of its
    /// command line, which other users of the machine can read.
    ///
    /// # Errors
    ///
    /// Why libpq cannot be given them: a TLS connector of the caller's, a password that is not
    /// UTF-8.
    pub(crate) fn libpq_environment(&self) -> Result<Vec<(&'static str, String)>, String> {
        let Tls::Libpq(libpq) = &self.tls else {
            return Err(
                "its connections are secured by a TLS connector of the program's, which pg_dump cannot use"
                    .to_owned(),
            );
        };
        let config = &self.config;
        let mut env: Vec<(&'static str, String)> = Vec::new();
        let hosts: Vec<String> = config
            .get_hosts()
            .iter()
            .map(|host| match host {
                Host::Tcp(name) => name.clone(),
                #[cfg(unix)]
                Host::Unix(path) => path.display().to_string(),
            })
            .collect();
        if !hosts.is_empty() {
            env.push(("PGHOST", hosts.join(",")));
        }
        let addresses: Vec<String> = config.get_hostaddrs().iter().map(ToString::to_string).collect();
        if !addresses.is_empty() {
            env.push(("PGHOSTADDR", addresses.join(",")));
        }
        let ports: Vec<String> = config.get_ports().iter().map(ToString::to_string).collect();
        if !ports.is_empty() {
            env.push(("PGPORT", ports.join(",")));
        }
        if let Some(user) = config.get_user() {
            env.push(("PGUSER", user.to_owned()));
        }
        if let Some(dbname) = config.get_dbname() {
            env.push(("PGDATABASE", dbname.to_owned()));
        }
        if let Some(password) = config.get_password() {
            let password = String::from_utf8(password.to_vec()).map_err(|_| {
                "its password is not UTF-8, which libpq's environment cannot carry".to_owned()
            })?;
            env.push(("PGPASSWORD", password));
        }
        if let Some(options) = config.get_options() {
            env.push(("PGOPTIONS", options.to_owned()));
        }
        if let Some(timeout) = config.get_connect_timeout() {
            env.push(("PGCONNECT_TIMEOUT", timeout.as_secs().max(1).to_string()));
        }
        // With several hosts, the one the run reached: the writable one, when asked.
        match config.get_target_session_attrs() {
            tokio_postgres::config::TargetSessionAttrs::ReadWrite => {
                env.push(("PGTARGETSESSIONATTRS", "read-write".to_owned()));
            }
            tokio_postgres::config::TargetSessionAttrs::ReadOnly => {
                env.push(("PGTARGETSESSIONATTRS", "read-only".to_owned()));
            }
            _ => {}
        }
        env.push(("PGAPPNAME", "migrate backup".to_owned()));
        let options = &libpq.options;
        env.push(("PGSSLMODE", libpq.mode.name().to_owned()));
        for (name, value) in
            [("PGSSLROOTCERT", &options.root_cert), ("PGSSLCERT", &options.cert), ("PGSSLKEY", &options.key)]
        {
            if let Some(value) = value {
                env.push((name, value.clone()));
            }
        }
        Ok(env)
    }

    /// The connector, made on first use.
    fn connector(&self) -> Result<(Arc<dyn Connector>, Option<&str>), Error> {
        match &self.tls {
            Tls::Own(connector) => {
                Ok((Arc::clone(connector), Some("the root certificates of the TLS connector")))
            }
            Tls::Libpq(libpq) => {
                let made = match libpq.made.get() {
                    Some(made) => made,
                    None => {
                        let made = libpq.make().map_err(|(problem, help)| Error::Tls {
                            target: self.target.clone(),
                            problem,
                            help,
                            source: None,
                        })?;
                        // A concurrent first use made the same; either serves.
                        let _ = libpq.made.set(made);
                        libpq
                            .made
                            .get()
                            .ok_or_else(|| Error::Runtime("the TLS connector was lost".to_owned()))?
                    }
                };
                Ok((Arc::clone(&made.connector), made.roots.as_deref()))
            }
        }
    }

    /// Whether a failed attempt is retried in plain text: `prefer` (and `allow`) when the TLS
    /// handshake failed, or when the server refused the connection after it (libpq's retry;
    /// a `pg_hba.conf` with `hostnossl` lines only refuses TLS connections).
    fn retries_plain(&self, error: &tokio_postgres::Error, handshake: Handshake) -> bool {
        self.config.get_ssl_mode() == SslMode::Prefer
            && (handshake == Handshake::Failed
                || (handshake == Handshake::Done && error.as_db_error().is_some()))
    }

    /// The settings of the retry in plain text.
    fn plain(&self) -> tokio_postgres::Config {
        let mut config = self.config.clone();
        config.ssl_mode(SslMode::Disable);
        config
    }

    /// Connects, the connection driven by a task of the current tokio runtime.
    pub(crate) async fn connect(&self) -> Result<tokio_postgres::Client, Error> {
        let (connector, roots) = self.connector()?;
        let (result, handshake) = connector.connect(&self.config).await;
        match result {
            Ok(client) => Ok(client),
            Err(error) if self.retries_plain(&error, handshake) => {
                match connector.connect(&self.plain()).await.0 {
                    Ok(client) => Ok(client),
                    Err(_) if handshake == Handshake::Failed => Err(self.failure(error, handshake, roots)),
                    Err(plain) => Err(self.failure(plain, Handshake::NotTried, roots)),
                }
            }
            Err(error) => Err(self.failure(error, handshake, roots)),
        }
    }

    /// Asks the server to cancel the statement a session runs, over a connection secured
    /// as the session's was (the token carries whether it fell back to plain text).
    pub(crate) async fn cancel(&self, token: &CancelToken) {
        if let Ok((connector, _)) = self.connector() {
            let _ = connector.cancel(token).await;
        }
    }

    /// A synchronous connection for the test kit's and the embedded CLI's own queries.
    #[cfg(feature = "testkit")]
    pub(crate) fn connect_sync(&self) -> Result<postgres::Client, Error> {
        let (connector, roots) = self.connector()?;
        let (result, handshake) = connector.connect_sync(&self.config);
        match result {
            Ok(client) => Ok(client),
            Err(error) if self.retries_plain(&error, handshake) => {
                match connector.connect_sync(&self.plain()).0 {
                    Ok(client) => Ok(client),
                    Err(_) if handshake == Handshake::Failed => Err(self.failure(error, handshake, roots)),
                    Err(plain) => Err(self.failure(plain, Handshake::NotTried, roots)),
                }
            }
            Err(error) => Err(self.failure(error, handshake, roots)),
        }
    }

    /// The error of a failed connection: what TLS refused, said plainly, else the driver's.
    fn failure(&self, error: tokio_postgres::Error, handshake: Handshake, roots: Option<&str>) -> Error {
        let tls = |problem: String, help: &str, error| Error::Tls {
            target: self.target.clone(),
            problem,
            help: help.to_owned(),
            source: Some(error),
        };
        // A refusal may come after the handshake: with TLS 1.3, the server checks the client's
        // certificate once the client has finished, and says so with an alert.
        if let Some(refusal) = rustls_error(&error) {
            let (problem, help) = self.explain(refusal, roots);
            return tls(problem, &help, error);
        }
        if handshake == Handshake::Failed {
            let problem = format!("the TLS handshake failed: {}", describe(&error));
            return tls(problem, "check the server's TLS settings and those of the TLS connector", error);
        }
        let refused =
            std::error::Error::source(&error).is_some_and(|s| s.to_string() == "server does not support TLS");
        if handshake == Handshake::NotTried && refused {
            let problem = format!("the server does not accept TLS but sslmode={}", self.mode.name());
            let help = "turn TLS on in the server (`ssl = on`, with `ssl_cert_file` and `ssl_key_file`), or, where plain text \
                        is acceptable, connect with sslmode=prefer";
            return tls(problem, help, error);
        }
        Error::Connect { target: self.target.clone(), source: error }
    }

    /// What rustls refused, and what to do.
    fn explain(&self, refusal: &rustls::Error, roots: Option<&str>) -> (String, String) {
        let host = || {
            self.config.get_hosts().iter().find_map(|h| match h {
                Host::Tcp(name) => Some(name.clone()),
                #[cfg(unix)]
                Host::Unix(_) => None,
            })
        };
        let name_help = "connect with a host name the certificate names (its subjectAltName), or use sslmode=verify-ca to check \
                         only that one of the root certificates signed it";
        match refusal {
            rustls::Error::InvalidCertificate(CertificateError::NotValidForNameContext { expected, presented }) => (
                format!(
                    "the server's certificate is not valid for host `{}` (it names {})",
                    expected.to_str(),
                    if presented.is_empty() {
                        "no host".to_owned()
                    } else {
                        presented.iter().map(|name| bare_name(name)).collect::<Vec<_>>().join(", ")
                    }
                ),
                name_help.to_owned(),
            ),
            rustls::Error::InvalidCertificate(CertificateError::NotValidForName) => (
                format!("the server's certificate is not valid for host `{}`", host().unwrap_or_default()),
                name_help.to_owned(),
            ),
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) => (
                format!("the server's certificate is not signed by {}", roots.unwrap_or("the root certificates given")),
                "give the root certificate of the CA that signed the server's certificate (sslrootcert=<file>, PEM, or \
                 the roots of your TLS connector)"
                    .to_owned(),
            ),
            rustls::Error::InvalidCertificate(
                CertificateError::Expired | CertificateError::ExpiredContext { .. },
            ) => ("the server's certificate has expired".to_owned(), "renew the server's certificate".to_owned()),
            rustls::Error::InvalidCertificate(
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. },
            ) => (
                "the server's certificate is not valid yet".to_owned(),
                "check the clocks of the server and of this machine".to_owned(),
            ),
            rustls::Error::InvalidCertificate(_) => (
                format!("the server's certificate was refused: {refusal}"),
                "check the server's certificate (ssl_cert_file) and the root certificates (sslrootcert)".to_owned(),
            ),
            rustls::Error::AlertReceived(alert) => (
                format!("the server refused the TLS handshake (alert: {alert:?})"),
                "if the server asks for a client certificate, give one signed by a CA it trusts (its ssl_ca_file) with \
                 sslcert and sslkey"
                    .to_owned(),
            ),
            other => (
                format!("the TLS handshake failed: {other}"),
                "check the server's TLS settings (ssl_min_protocol_version, ssl_ciphers): TLS 1.2 or 1.3 is needed".to_owned(),
            ),
        }
    }
}

/// A name webpki found in a certificate, without its debug dress: `DnsName("localhost")` is
/// `localhost`, `IpAddress(127.0.0.1)` is `127.0.0.1`.
fn bare_name(presented: &str) -> &str {
    presented
        .strip_prefix("DnsName(\"")
        .and_then(|rest| rest.strip_suffix("\")"))
        .or_else(|| presented.strip_prefix("IpAddress(").and_then(|rest| rest.strip_suffix(')')))
        .unwrap_or(presented)
}

/// What rustls refused, found in the driver's error.
fn rustls_error(error: &tokio_postgres::Error) -> Option<&rustls::Error> {
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(refusal) = cause.downcast_ref::<rustls::Error>() {
            return Some(refusal);
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>()
            && let Some(refusal) = io.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return Some(refusal);
        }
        source = cause.source();
    }
    None
}

/// A synchronous connection for the test kit's and the embedded CLI's own queries, with
/// the same checks, the same TLS and the same safe target in errors.
#[cfg(feature = "testkit")]
pub(crate) fn connect(url: &str) -> Result<postgres::Client, Error> {
    Database::parse(url)?.connect_sync()
}

/// The home directory, where libpq's default certificate files are (`~/.postgresql/`): the
/// one environment read of the connection code.
fn home() -> Option<PathBuf> {
    std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from)
}

// ---------------------------------------------------------------------------------------
// libpq's options, made into a rustls connector.
// ---------------------------------------------------------------------------------------

/// libpq's TLS settings of a connection, and the connector made of them on first use.
struct Libpq {
    mode: Mode,
    options: TlsOptions,
    home: Option<PathBuf>,
    made: OnceLock<Made>,
}

/// A connector made of libpq's settings.
struct Made {
    connector: Arc<dyn Connector>,
    /// Where the root certificates came from, for messages: "the root certificates in `…`".
    roots: Option<String>,
}

/// Where the root certificates come from.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Roots {
    File(PathBuf),
    System,
}

/// What is wrong, and what to do.
type Problem = (String, String);

impl Libpq {
    fn default_file(&self, name: &str) -> Option<PathBuf> {
        self.home.as_ref().map(|home| home.join(".postgresql").join(name)).filter(|path| path.exists())
    }

    /// Where the roots come from, if the server's certificate is checked at all.
    fn roots(&self) -> Result<Option<Roots>, Problem> {
        match self.options.root_cert.as_deref() {
            Some("system") => Ok(Some(Roots::System)),
            Some(file) => Ok(Some(Roots::File(PathBuf::from(file)))),
            None => match (self.default_file("root.crt"), self.mode) {
                (Some(file), _) => Ok(Some(Roots::File(file))),
                (None, Mode::VerifyFull) => Ok(Some(Roots::System)),
                (None, Mode::VerifyCa) => Err((
                    "sslmode=verify-ca needs the root certificate that signed the server's: no sslrootcert is given and \
                     ~/.postgresql/root.crt does not exist"
                        .to_owned(),
                    "give it with sslrootcert=<file> (PEM); the system's roots serve only verify-full, which checks the host \
                     name too"
                        .to_owned(),
                )),
                (None, _) => Ok(None),
            },
        }
    }

    /// The rustls connector of these settings (nothing for `disable`).
    fn make(&self) -> Result<Made, Problem> {
        if self.mode == Mode::Disable {
            return Ok(Made { connector: Arc::new(NoTls), roots: None });
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let versions: &[&rustls::SupportedProtocolVersion] = if self.options.tls13_only {
            &[&rustls::version::TLS13]
        } else if self.options.tls12_only {
            &[&rustls::version::TLS12]
        } else {
            rustls::DEFAULT_VERSIONS
        };
        let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_protocol_versions(versions)
            .map_err(|e| {
                (format!("TLS cannot be set up: {e}"), "check ssl_min_protocol_version".to_owned())
            })?;
        let roots = self.roots()?;
        let verifier: Arc<dyn ServerCertVerifier> = match &roots {
            None => Arc::new(Unverified(Arc::clone(&provider))),
            Some(roots) => {
                let store = Arc::new(root_store(roots)?);
                let webpki = WebPkiServerVerifier::builder_with_provider(store, Arc::clone(&provider))
                    .build()
                    .map_err(|e| {
                        (format!("the root certificates cannot be used: {e}"), sslrootcert_help())
                    })?;
                if self.mode == Mode::VerifyFull { webpki } else { Arc::new(ChainOnly(webpki)) }
            }
        };
        let builder = builder.dangerous().with_custom_certificate_verifier(verifier);
        let mut config = match self.client_certificate()? {
            None => builder.with_no_client_auth(),
            Some((cert, key, chain, private)) => {
                builder.with_client_auth_cert(chain, private).map_err(|e| {
                    let why = match e {
                        rustls::Error::InconsistentKeys(_) => "it is not the certificate's key".to_owned(),
                        other => other.to_string(),
                    };
                    (
                        format!(
                            "the client key `{}` cannot be used with the certificate `{}`: {why}",
                            key.display(),
                            cert.display()
                        ),
                        "give the key that belongs to the certificate (sslkey), as PEM".to_owned(),
                    )
                })?
            }
        };
        // libpq 17 sends it, and PostgreSQL 17 requires it for sslnegotiation=direct.
        config.alpn_protocols = vec![b"postgresql".to_vec()];
        config.enable_sni = self.options.sni.unwrap_or(true);
        let roots = roots.map(|roots| match roots {
            Roots::File(file) => format!("the root certificates in `{}`", file.display()),
            Roots::System => "any of the system's root certificates".to_owned(),
        });
        Ok(Made { connector: Arc::new(tokio_postgres_rustls::MakeRustlsConnect::new(config)), roots })
    }

    /// The client certificate and key, with their files: `sslcert` and `sslkey`, else the
    /// default files when the certificate's exists; none with `sslcertmode=disable`.
    #[allow(clippy::type_complexity, reason = "a private helper's tuple")]
    fn client_certificate(
        &self,
    ) -> Result<Option<(PathBuf, PathBuf, Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>, Problem>
    {
        if self.options.no_client_cert {
            return Ok(None);
        }
        let cert = match &self.options.cert {
            Some(file) => PathBuf::from(file),
            None => match self.default_file("postgresql.crt") {
                Some(file) => file,
                None if self.options.key.is_some() => {
                    return Err((
                        "sslkey is given without sslcert".to_owned(),
                        "give the client certificate with sslcert=<file> too".to_owned(),
                    ));
                }
                None => return Ok(None),
            },
        };
        let key = match &self.options.key {
            Some(file) => PathBuf::from(file),
            None => {
                self.home.as_ref().map(|home| home.join(".postgresql").join("postgresql.key")).ok_or_else(
                    || {
                        (
                            "sslcert is given without sslkey".to_owned(),
                            "give the client key with sslkey=<file> too".to_owned(),
                        )
                    },
                )?
            }
        };
        let chain = read_certificates(&cert, "client certificate", "sslcert")?;
        let text = read_file(&key, "client key", "sslkey")?;
        key_permissions(&key)?;
        let private = PrivateKeyDer::from_pem_slice(&text).map_err(|e| {
            let why = match e {
                rustls::pki_types::pem::Error::NoItemsFound => {
                    "it holds no private key (`-----BEGIN PRIVATE KEY-----`, RSA or EC; an encrypted key is not supported)"
                        .to_owned()
                }
                other => other.to_string(),
            };
            (
                format!("cannot read the client key file `{}` (sslkey): {why}", key.display()),
                "give an unencrypted PEM key (`openssl pkey -in <key> -out <key>` decrypts one)".to_owned(),
            )
        })?;
        Ok(Some((cert, key, chain, private)))
    }
}

fn sslrootcert_help() -> String {
    "give a readable PEM file of root certificates with sslrootcert=<file>, or sslrootcert=system with sslmode=verify-full"
        .to_owned()
}

fn read_file(file: &Path, what: &str, option: &str) -> Result<Vec<u8>, Problem> {
    std::fs::read(file).map_err(|e| {
        (
            format!("cannot read the {what} file `{}` ({option}): {e}", file.display()),
            format!("check the path given with {option}, and that this process may read it"),
        )
    })
}

/// The certificates of a PEM file, at least one.
fn read_certificates(file: &Path, what: &str, option: &str) -> Result<Vec<CertificateDer<'static>>, Problem> {
    let text = read_file(file, what, option)?;
    let unreadable = |why: String| {
        (
            format!("cannot read the {what} file `{}` ({option}): {why}", file.display()),
            format!("give a PEM file (`-----BEGIN CERTIFICATE-----`) with {option}"),
        )
    };
    let certificates = CertificateDer::pem_slice_iter(&text)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| unreadable(e.to_string()))?;
    if certificates.is_empty() {
        return Err(unreadable("it holds no certificate".to_owned()));
    }
    Ok(certificates)
}

/// libpq's rule for a client key: not readable by group or others (0600 or less), or, owned
/// by root, not by others (0640 or less).
fn key_permissions(file: &Path) -> Result<(), Problem> {
    use std::os::unix::fs::MetadataExt;
    let Ok(metadata) = std::fs::metadata(file) else { return Ok(()) };
    let allowed = if metadata.uid() == 0 { 0o640 } else { 0o600 };
    if metadata.mode() & 0o777 & !allowed != 0 {
        return Err((
            format!(
                "the client key file `{}` (sslkey) may be read by {} (mode {:o})",
                file.display(),
                if metadata.mode() & 0o007 != 0 { "others" } else { "its group" },
                metadata.mode() & 0o777
            ),
            format!("make it private: `chmod 600 {}`", file.display()),
        ));
    }
    Ok(())
}

fn root_store(roots: &Roots) -> Result<RootCertStore, Problem> {
    let mut store = RootCertStore::empty();
    match roots {
        Roots::File(file) => {
            for certificate in read_certificates(file, "root certificate", "sslrootcert")? {
                store.add(certificate).map_err(|e| {
                    (
                        format!("the root certificate file `{}` (sslrootcert) holds a certificate that cannot be a root: {e}", file.display()),
                        sslrootcert_help(),
                    )
                })?;
            }
        }
        Roots::System => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = store.add_parsable_certificates(found.certs);
            if added == 0 {
                let why = found.errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
                return Err((
                    format!(
                        "no root certificate of the system could be read{}",
                        if why.is_empty() { String::new() } else { format!(" ({why})") }
                    ),
                    "install the system's CA certificates (the ca-certificates package), or give the roots with sslrootcert=<file>"
                        .to_owned(),
                ));
            }
        }
    }
    Ok(store)
}

/// `verify-ca` (and a root certificate with `require`, `prefer`, `allow`): the chain is
/// verified as for `verify-full`, and a certificate valid for other names than the host's
/// accepted. webpki checks the name last, after the chain, its validity and revocation.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.0.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }

    fn root_hint_subjects(&self) -> Option<&[rustls::DistinguishedName]> {
        self.0.root_hint_subjects()
    }
}

/// `prefer`, `allow` and `require` without a root certificate: encrypted, the certificate
/// not checked (libpq's rule); the handshake's signatures still are.
#[derive(Debug)]
struct Unverified(Arc<CryptoProvider>);

impl ServerCertVerifier for Unverified {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

// ---------------------------------------------------------------------------------------
// Any connector, its types erased.
// ---------------------------------------------------------------------------------------

type Pending<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// How far an attempt got with TLS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Handshake {
    /// No handshake began: the server offered no TLS, none was asked for, or the attempt
    /// failed before.
    NotTried,
    /// The handshake failed.
    Failed,
    /// The connection was secured (whatever happened next).
    Done,
}

/// A TLS connector with its types erased: what a [`Database`] keeps.
trait Connector: Send + Sync {
    /// Connects with `config`, the connection driven by a task of the current tokio runtime;
    /// says how far TLS got.
    fn connect<'a>(
        &'a self,
        config: &'a tokio_postgres::Config,
    ) -> Pending<'a, (Result<tokio_postgres::Client, tokio_postgres::Error>, Handshake)>;

    /// Sends a cancel request.
    fn cancel<'a>(&'a self, token: &'a CancelToken) -> Pending<'a, Result<(), tokio_postgres::Error>>;

    /// Connects synchronously.
    #[cfg(feature = "testkit")]
    fn connect_sync(
        &self,
        config: &tokio_postgres::Config,
    ) -> (Result<postgres::Client, postgres::Error>, Handshake);
}

impl<M> Connector for M
where
    M: MakeTlsConnect<Socket> + Clone + Send + Sync + 'static,
    M::Stream: Send + 'static,
    M::TlsConnect: Send,
    M::Error: Send,
    <M::TlsConnect as TlsConnect<Socket>>::Future: Send + 'static,
{
    fn connect<'a>(
        &'a self,
        config: &'a tokio_postgres::Config,
    ) -> Pending<'a, (Result<tokio_postgres::Client, tokio_postgres::Error>, Handshake)> {
        let tracked = Tracked { inner: self.clone(), state: Arc::new(AtomicU8::new(NOT_TRIED)) };
        let state = Arc::clone(&tracked.state);
        Box::pin(async move {
            let result = config.connect(tracked).await.map(|(client, connection)| {
                // Ends when the client is dropped or the server closes it; the next query
                // then says so.
                tokio::spawn(connection);
                client
            });
            (result, handshake(&state))
        })
    }

    fn cancel<'a>(&'a self, token: &'a CancelToken) -> Pending<'a, Result<(), tokio_postgres::Error>> {
        Box::pin(token.cancel_query(self.clone()))
    }

    #[cfg(feature = "testkit")]
    fn connect_sync(
        &self,
        config: &tokio_postgres::Config,
    ) -> (Result<postgres::Client, postgres::Error>, Handshake) {
        let tracked = Tracked { inner: self.clone(), state: Arc::new(AtomicU8::new(NOT_TRIED)) };
        let state = Arc::clone(&tracked.state);
        let result = postgres::Config::from(config.clone()).connect(tracked);
        (result, handshake(&state))
    }
}

const NOT_TRIED: u8 = 0;
const STARTED: u8 = 1;
const FAILED: u8 = 2;
const DONE: u8 = 3;

fn handshake(state: &AtomicU8) -> Handshake {
    match state.load(Ordering::SeqCst) {
        NOT_TRIED => Handshake::NotTried,
        DONE => Handshake::Done,
        _ => Handshake::Failed,
    }
}

/// A connector that records how far its handshake got, for the retry of `prefer` and the
/// messages.
#[derive(Clone)]
struct Tracked<M> {
    inner: M,
    state: Arc<AtomicU8>,
}

impl<M> MakeTlsConnect<Socket> for Tracked<M>
where
    M: MakeTlsConnect<Socket>,
    <M::TlsConnect as TlsConnect<Socket>>::Future: Send + 'static,
{
    type Stream = M::Stream;
    type TlsConnect = TrackedConnect<M::TlsConnect>;
    type Error = M::Error;

    fn make_tls_connect(&mut self, domain: &str) -> Result<Self::TlsConnect, Self::Error> {
        Ok(TrackedConnect { inner: self.inner.make_tls_connect(domain)?, state: Arc::clone(&self.state) })
    }
}

/// One handshake of a [`Tracked`] connector.
struct TrackedConnect<T> {
    inner: T,
    state: Arc<AtomicU8>,
}

impl<T> TlsConnect<Socket> for TrackedConnect<T>
where
    T: TlsConnect<Socket>,
    T::Future: Send + 'static,
{
    type Stream = T::Stream;
    type Error = T::Error;
    type Future = Pending<'static, Result<T::Stream, T::Error>>;

    fn connect(self, stream: Socket) -> Self::Future {
        self.state.store(STARTED, Ordering::SeqCst);
        let state = self.state;
        let handshake = self.inner.connect(stream);
        Box::pin(async move {
            let result = handshake.await;
            state.store(if result.is_ok() { DONE } else { FAILED }, Ordering::SeqCst);
            result
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_socket_host_reached_at_a_hostaddr_keeps_its_tls_mode() {
        use std::str::FromStr;
        let config = tokio_postgres::Config::from_str(
            "host=/nonexistent hostaddr=127.0.0.1 port=5601 user=u dbname=d",
        )
        .unwrap();
        assert_eq!(
            super::driver_mode(super::Mode::VerifyFull, &config),
            tokio_postgres::config::SslMode::Require
        );
        assert_eq!(
            super::driver_mode(super::Mode::Require, &config),
            tokio_postgres::config::SslMode::Require
        );
        let socket = tokio_postgres::Config::from_str("host=/run/postgresql user=u").unwrap();
        assert_eq!(
            super::driver_mode(super::Mode::Require, &socket),
            tokio_postgres::config::SslMode::Disable
        );
        let address =
            tokio_postgres::Config::from_str("hostaddr=127.0.0.1 port=5601 user=u dbname=d").unwrap();
        assert_eq!(super::target(&address), "u@127.0.0.1:5601/d");
    }

    use super::*;

    fn options(url: &str) -> (String, TlsOptions) {
        match strip_tls_options(url) {
            Ok((rest, options)) => (rest.into_owned(), options),
            Err(e) => panic!("{url}: {e}"),
        }
    }

    fn refused(url: &str) -> String {
        match config(url) {
            Ok(_) => panic!("{url} was accepted"),
            Err(e) => e.report(),
        }
    }

    #[test]
    fn tls_options_are_read_out_of_a_url_query_percent_decoded() {
        let cases = [
            (
                "postgres://u:p@h:5432/db?sslmode=verify-full&sslrootcert=%2Ftmp%2Fca%20dir%2Fca.pem",
                "postgres://u:p@h:5432/db",
                Some(Mode::VerifyFull),
                Some("/tmp/ca dir/ca.pem"),
            ),
            (
                "postgres://u@h/db?application_name=x&ssl%6Dode=require&connect_timeout=5",
                "postgres://u@h/db?application_name=x&connect_timeout=5",
                Some(Mode::Require),
                None,
            ),
            ("postgres://u@h/db?connect_timeout=5", "postgres://u@h/db?connect_timeout=5", None, None),
            ("postgresql://h/db?sslrootcert=system", "postgresql://h/db", None, Some("system")),
            // A `?` in the password (before the first `@`) does not start the query.
            ("postgres://u:a?b@h/db?sslmode=disable", "postgres://u:a?b@h/db", Some(Mode::Disable), None),
            // The last value wins, as in libpq.
            (
                "postgres://h/db?sslmode=disable&sslmode=verify-ca&x=1",
                "postgres://h/db?x=1",
                Some(Mode::VerifyCa),
                None,
            ),
        ];
        for (url, rest, mode, root) in cases {
            let (left, options) = options(url);
            assert_eq!(left, rest, "{url}");
            assert_eq!(options.mode, mode, "{url}");
            assert_eq!(options.root_cert.as_deref(), root, "{url}");
        }
    }

    #[test]
    fn tls_options_are_read_out_of_key_value_settings_quoted_or_escaped() {
        let cases = [
            (
                "host=h sslmode=verify-full user=u sslrootcert='/a b/c\\'s.pem' dbname=d",
                "host=h  user=u  dbname=d",
                Some(Mode::VerifyFull),
                Some("/a b/c's.pem"),
            ),
            ("host = h  sslmode = require", "host = h  ", Some(Mode::Require), None),
            (
                "sslrootcert=/x\\ y.pem password='p sslmode=disable'",
                " password='p sslmode=disable'",
                None,
                Some("/x y.pem"),
            ),
            ("host=h user=u", "host=h user=u", None, None),
        ];
        for (text, rest, mode, root) in cases {
            let (left, options) = options(text);
            assert_eq!(left, rest, "{text}");
            assert_eq!(options.mode, mode, "{text}");
            assert_eq!(options.root_cert.as_deref(), root, "{text}");
        }
        let (_, cert) = options("sslcert = '/c.pem' sslkey=/k.pem sslsni=0");
        assert_eq!(
            (cert.cert.as_deref(), cert.key.as_deref(), cert.sni),
            (Some("/c.pem"), Some("/k.pem"), Some(false))
        );
    }

    #[test]
    fn strings_the_driver_cannot_split_are_handed_on_whole() {
        for text in [
            "host=h sslmode",
            "host=h password='unterminated sslmode=require",
            "password='it''s' sslmode=prefer",
            "postgres://h/db?sslmode",
        ] {
            let (left, options) = options(text);
            assert_eq!(left, text);
            assert_eq!(options, TlsOptions::default());
        }
    }

    #[test]
    fn the_driver_gets_its_own_sslmode() {
        let cases = [
            ("postgres://u@h/db", SslMode::Prefer),
            ("postgres://u@h/db?sslmode=allow", SslMode::Prefer),
            ("postgres://u@h/db?sslmode=disable", SslMode::Disable),
            ("postgres://u@h/db?sslmode=verify-ca&sslrootcert=/x", SslMode::Require),
            ("host=h sslrootcert=system", SslMode::Require),
            ("host=/tmp sslmode=verify-full", SslMode::Disable),
        ];
        for (url, expected) in cases {
            let (config, _) = config(url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(config.get_ssl_mode(), expected, "{url}");
        }
    }

    #[test]
    fn bad_tls_options_are_refused_without_their_values() {
        let cases = [
            ("postgres://u:Secret1@h/db?sslmode=Secret2", "sslmode has a value libpq does not know"),
            ("host=h password=Secret1 sslmode=Secret2", "sslmode has a value libpq does not know"),
            (
                "postgres://u:Secret1@h/db?sslrootcert=system&sslmode=verify-ca",
                "sslmode=verify-ca may not be used with sslrootcert=system",
            ),
            (
                "postgres://u:Secret1@h/db?sslrootcert=system&sslmode=require",
                "sslmode=require may not be used",
            ),
            ("host=h sslpassword=Secret2", "sslpassword is not supported"),
            ("host=h sslcrl=/Secret2", "sslcrl is not supported"),
            ("host=h gssencmode=require", "gssencmode=require is not supported"),
            ("host=h sslsni=Secret2", "sslsni has a value other than 0 or 1"),
            ("host=h ssl_max_protocol_version=TLSv1.1", "TLS versions before 1.2 are not supported"),
            (
                "host=h ssl_min_protocol_version=Secret2",
                "ssl_min_protocol_version has a value libpq does not know",
            ),
        ];
        for (url, expected) in cases {
            let message = refused(url);
            assert!(message.contains(expected), "{url}: {message}");
            assert!(message.contains("= help: "), "{url}: {message}");
            assert!(!message.contains("Secret"), "{url}: {message}");
        }
        // Ignored as libpq ignores them, or as if no GSSAPI were offered.
        for url in [
            "host=h sslcompression=1 gssencmode=disable",
            "postgres://h/db?gssencmode=prefer&sslcertmode=disable",
        ] {
            assert!(config(url).is_ok(), "{url}");
        }
    }

    #[test]
    fn redact_reads_no_file_and_shows_no_option() {
        assert_eq!(
            redact("postgres://u:pw@h:6543/db?sslmode=verify-full&sslrootcert=/no/such/file"),
            "u@h:6543/db"
        );
    }

    fn libpq(mode: Mode, root: Option<&str>, home: Option<&Path>) -> Libpq {
        Libpq {
            mode,
            options: TlsOptions {
                mode: Some(mode),
                root_cert: root.map(str::to_owned),
                ..TlsOptions::default()
            },
            home: home.map(Path::to_path_buf),
            made: OnceLock::new(),
        }
    }

    #[test]
    fn roots_come_from_sslrootcert_then_the_default_file_then_the_system_for_verify_full() {
        let home = std::env::temp_dir().join(format!("migrate-tls-home-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&home);
        assert_eq!(libpq(Mode::Require, None, Some(&home)).roots(), Ok(None));
        assert_eq!(libpq(Mode::Prefer, None, None).roots(), Ok(None));
        assert_eq!(libpq(Mode::VerifyFull, None, Some(&home)).roots(), Ok(Some(Roots::System)));
        let Err((problem, help)) = libpq(Mode::VerifyCa, None, Some(&home)).roots() else {
            panic!("verify-ca without roots")
        };
        assert!(problem.contains("sslmode=verify-ca needs the root certificate"), "{problem}");
        assert!(help.contains("sslrootcert=<file>"), "{help}");
        assert_eq!(
            libpq(Mode::VerifyCa, Some("/ca.pem"), Some(&home)).roots(),
            Ok(Some(Roots::File(PathBuf::from("/ca.pem"))))
        );
        // libpq's default file, once it exists, is used in every mode that tries TLS.
        let default = home.join(".postgresql").join("root.crt");
        std::fs::create_dir_all(home.join(".postgresql")).expect("creates");
        std::fs::write(&default, "").expect("writes");
        for mode in [Mode::Prefer, Mode::Require, Mode::VerifyCa, Mode::VerifyFull] {
            assert_eq!(
                libpq(mode, None, Some(&home)).roots(),
                Ok(Some(Roots::File(default.clone()))),
                "{mode:?}"
            );
        }
        assert_eq!(libpq(Mode::VerifyFull, Some("system"), Some(&home)).roots(), Ok(Some(Roots::System)));
        let _ = std::fs::remove_dir_all(&home);
    }

    #[test]
    fn unreadable_certificate_files_are_named() {
        let Err((problem, help)) = libpq(Mode::VerifyFull, Some("/no/such/ca.pem"), None).make().map(|_| ())
        else {
            panic!("a missing root file was accepted")
        };
        assert!(
            problem.starts_with("cannot read the root certificate file `/no/such/ca.pem` (sslrootcert): "),
            "{problem}"
        );
        assert!(help.contains("sslrootcert"), "{help}");
        let mut client = libpq(Mode::Require, None, None);
        client.options.cert = Some("/no/such/client.crt".to_owned());
        client.options.key = Some("/no/such/client.key".to_owned());
        let Err((problem, _)) = client.make().map(|_| ()) else {
            panic!("a missing client certificate was accepted")
        };
        assert!(
            problem.starts_with("cannot read the client certificate file `/no/such/client.crt` (sslcert)"),
            "{problem}"
        );
    }
}
