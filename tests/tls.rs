//! TLS as libpq does it, against real servers: a cluster with TLS only (plain text refused by
//! `pg_hba.conf`), a cluster without TLS, certificates made with `openssl` for each test (a
//! CA, a server certificate for `localhost` only, client certificates, and a second CA that
//! signed nothing the server shows). Every run goes through the public API; the runner's own
//! session records what `pg_stat_ssl` says of it (the chain `tls`). Nothing here skips.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use migrate_runtime::testkit::{self, Cluster, ClusterSettings};
use migrate_runtime::{Chain, Database, Error, Migrator};
use rustls::pki_types::pem::PemObject;

static TLS: Chain = migrate_runtime::embed_migrations!("tls");

const RECORD: &str = "ab1500000001";
const WAIT: &str = "ab1500000002";
/// The password of role `app`, which must never show in an error.
const PASSWORD: &str = "Tls-Pa55-w0rd-9f3b";

/// Certificates in a folder of their own, removed afterwards.
struct Pki {
    dir: PathBuf,
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl").args(args).current_dir(dir).output().expect("runs openssl");
    assert!(output.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&output.stderr));
}

/// A key and a certificate signing request for `subject`.
fn request(dir: &Path, name: &str, subject: &str) {
    let key = format!("{name}.key");
    let csr = format!("{name}.csr");
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &csr,
            "-subj",
            subject,
        ],
    );
}

/// Signs `name`'s request with CA `ca`, with the extensions `extensions`.
fn sign(dir: &Path, name: &str, ca: &str, serial: &str, extensions: &str) {
    let ext = format!("{name}.ext");
    std::fs::write(dir.join(&ext), extensions).expect("writes");
    let (csr, crt, ca_crt, ca_key) =
        (format!("{name}.csr"), format!("{name}.crt"), format!("{ca}.crt"), format!("{ca}.key"));
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca_crt,
            "-CAkey",
            &ca_key,
            "-set_serial",
            serial,
            "-days",
            "2",
            "-out",
            &crt,
            "-extfile",
            &ext,
        ],
    );
}

fn authority(dir: &Path, name: &str, subject: &str) {
    let (key, crt) = (format!("{name}.key"), format!("{name}.crt"));
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &crt,
            "-days",
            "2",
            "-subj",
            subject,
        ],
    );
}

impl Pki {
    /// `ca` signs `server` (DNS:localhost only) and `client` (CN=certuser); `other-ca`, a CA
    /// the server does not know, signs `stranger` (CN=certuser too).
    fn new() -> Pki {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "migrate-tls-{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("creates the certificates' folder");
        authority(&dir, "ca", "/CN=migrate test CA");
        authority(&dir, "other-ca", "/CN=another CA");
        request(&dir, "server", "/CN=localhost");
        sign(
            &dir,
            "server",
            "ca",
            "2",
            "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
        );
        let client_ext =
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n";
        request(&dir, "client", "/CN=certuser");
        sign(&dir, "client", "ca", "3", client_ext);
        request(&dir, "stranger", "/CN=certuser");
        sign(&dir, "stranger", "other-ca", "4", client_ext);
        use std::os::unix::fs::PermissionsExt;
        for key in ["client.key", "stranger.key"] {
            std::fs::set_permissions(dir.join(key), std::fs::Permissions::from_mode(0o600))
                .expect("restricts");
        }
        Pki { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.dir.join(name)).expect("reads")
    }
}

/// A server that speaks TLS only: plain text is refused by `pg_hba.conf`, except for role
/// `plainonly`, whose TLS connections are refused instead; `certuser` logs in with a client
/// certificate, `app` with its password.
fn tls_server(pki: &Pki) -> Cluster {
    let settings = ClusterSettings::default()
        .file("server.crt", pki.read("server.crt"))
        .file("server.key", pki.read("server.key"))
        .file("ca.crt", pki.read("ca.crt"))
        .conf("ssl = on")
        .conf("ssl_cert_file = 'server.crt'")
        .conf("ssl_key_file = 'server.key'")
        .conf("ssl_ca_file = 'ca.crt'")
        .hba("hostssl all certuser 127.0.0.1/32 cert")
        .hba("hostssl all plainonly 127.0.0.1/32 reject")
        .hba("hostnossl all plainonly 127.0.0.1/32 trust")
        .hba("hostssl all app 127.0.0.1/32 scram-sha-256")
        .hba("hostnossl all all all reject");
    let cluster = Cluster::start_with(&settings).unwrap_or_else(|e| panic!("no TLS server: {e}"));
    let mut admin = testkit::client(&admin(&cluster, pki, "postgres")).expect("the admin connects over TLS");
    admin
        .batch_execute(&format!(
            "CREATE ROLE app LOGIN SUPERUSER PASSWORD '{PASSWORD}'; CREATE ROLE certuser LOGIN SUPERUSER; \
             CREATE ROLE plainonly LOGIN SUPERUSER"
        ))
        .expect("creates the roles");
    cluster
}

/// The superuser's connection string, over TLS checked to the end.
fn admin(cluster: &Cluster, pki: &Pki, database: &str) -> String {
    format!(
        "postgres://postgres@localhost:{}/{database}?sslmode=verify-full&sslrootcert={}",
        cluster.port(),
        pki.path("ca.crt")
    )
}

/// A fresh database on `cluster`.
fn database(cluster: &Cluster, pki: &Pki) -> String {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let name = format!("tls_{}", COUNT.fetch_add(1, Ordering::SeqCst));
    let mut admin = testkit::client(&admin(cluster, pki, "postgres")).expect("the admin connects");
    admin.batch_execute(&format!("CREATE DATABASE {name}")).expect("creates a database");
    name
}

/// `app`'s connection string (its password in it) for `host`, with `options`.
fn app(cluster: &Cluster, host: &str, database: &str, options: &str) -> String {
    format!("postgres://app:{PASSWORD}@{host}:{}/{database}?connect_timeout=10&{options}", cluster.port())
}

/// Runs the first migration on `url` and says what the runner's session saw of its TLS:
/// `ssl version client_dn`.
fn session_tls(url: &str, admin_url: &str) -> String {
    let report = Migrator::new(&TLS).upgrade(url, RECORD).unwrap_or_else(|e| panic!("{url}: {e}"));
    assert_eq!(report.after, [RECORD]);
    let mut client = testkit::client(admin_url).expect("the admin connects");
    let rows = client
        .simple_query("SELECT ssl::text || ' ' || version || ' ' || client_dn FROM session_tls")
        .expect("reads");
    rows.into_iter()
        .find_map(|m| match m {
            postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
            _ => None,
        })
        .expect("a row")
}

/// The error of reading where `url`'s database stands, checked for the password and for
/// the help line.
fn refused(url: &str) -> Error {
    let error = match Migrator::new(&TLS).current(url) {
        Ok(rows) => panic!("{url} connected ({rows:?})"),
        Err(error) => error,
    };
    let text = error.report();
    assert!(
        !text.contains(PASSWORD) && !format!("{error:?}").contains(PASSWORD),
        "the password shows: {text}"
    );
    assert!(text.contains("\n= help: "), "{text}");
    error
}

#[test]
fn require_and_prefer_reach_a_tls_only_server_and_disable_is_refused() {
    let pki = Pki::new();
    let cluster = tls_server(&pki);
    for (options, tls) in
        [("sslmode=require", "true TLSv1.3 "), ("", "true TLSv1.3 "), ("sslmode=allow", "true TLSv1.3 ")]
    {
        let db = database(&cluster, &pki);
        let seen = session_tls(&app(&cluster, "127.0.0.1", &db, options), &admin(&cluster, &pki, &db));
        assert_eq!(seen, tls, "{options}");
    }
    // Asking for TLS 1.2 only is honoured.
    let db = database(&cluster, &pki);
    let seen = session_tls(
        &app(&cluster, "127.0.0.1", &db, "sslmode=require&ssl_max_protocol_version=TLSv1.2"),
        &admin(&cluster, &pki, &db),
    );
    assert_eq!(seen, "true TLSv1.2 ");
    let error = refused(&app(&cluster, "127.0.0.1", "postgres", "sslmode=disable"));
    let text = error.report();
    assert!(matches!(error, Error::Connect { .. }), "{error:?}");
    assert!(text.contains("rejects connection") && text.contains("no encryption"), "{text}");
}

#[test]
fn verify_full_checks_the_chain_and_the_host_name() {
    let pki = Pki::new();
    let cluster = tls_server(&pki);
    let root = format!("sslrootcert={}", pki.path("ca.crt"));
    let db = database(&cluster, &pki);
    let seen = session_tls(
        &app(&cluster, "localhost", &db, &format!("sslmode=verify-full&{root}")),
        &admin(&cluster, &pki, &db),
    );
    assert_eq!(seen, "true TLSv1.3 ");
    // The password exchange is bound to the TLS channel (SCRAM-SHA-256-PLUS) when asked.
    let db = database(&cluster, &pki);
    let bound =
        app(&cluster, "localhost", &db, &format!("sslmode=verify-full&{root}&channel_binding=require"));
    assert_eq!(session_tls(&bound, &admin(&cluster, &pki, &db)), "true TLSv1.3 ");

    let other = pki.path("other-ca.crt");
    let error =
        refused(&app(&cluster, "localhost", "postgres", &format!("sslmode=verify-full&sslrootcert={other}")));
    assert!(matches!(error, Error::Tls { .. }), "{error:?}");
    let text = error.report();
    assert!(
        text.starts_with(&format!(
            "cannot connect to app@localhost:{}/postgres over TLS: the server's certificate is not signed by the root certificates in `{other}`\n= help: ",
            cluster.port()
        )),
        "{text}"
    );

    let text =
        refused(&app(&cluster, "127.0.0.1", "postgres", &format!("sslmode=verify-full&{root}"))).report();
    assert!(
        text.contains(
            "the server's certificate is not valid for host `127.0.0.1` (it names localhost)\n= help: "
        ),
        "{text}"
    );
    assert!(text.contains("sslmode=verify-ca"), "{text}");

    // A root certificate makes require check the chain, as libpq does.
    let text =
        refused(&app(&cluster, "localhost", "postgres", &format!("sslmode=require&sslrootcert={other}")))
            .report();
    assert!(text.contains("is not signed by the root certificates in"), "{text}");
    // In key=value form, the path quoted.
    let text = refused(&format!(
        "host=localhost port={} user=app password='{PASSWORD}' dbname=postgres sslmode=verify-full sslrootcert='{other}'",
        cluster.port()
    ))
    .report();
    assert!(text.contains(&format!("is not signed by the root certificates in `{other}`")), "{text}");
    // The system's roots do not know a private CA.
    let text = refused(&app(&cluster, "localhost", "postgres", "sslrootcert=system")).report();
    assert!(text.contains("is not signed by any of the system's root certificates"), "{text}");
}

#[test]
fn verify_ca_checks_the_chain_only() {
    let pki = Pki::new();
    let cluster = tls_server(&pki);
    let db = database(&cluster, &pki);
    let seen = session_tls(
        &app(&cluster, "127.0.0.1", &db, &format!("sslmode=verify-ca&sslrootcert={}", pki.path("ca.crt"))),
        &admin(&cluster, &pki, &db),
    );
    assert_eq!(seen, "true TLSv1.3 ");
    let text = refused(&app(
        &cluster,
        "127.0.0.1",
        "postgres",
        &format!("sslmode=verify-ca&sslrootcert={}", pki.path("other-ca.crt")),
    ))
    .report();
    assert!(text.contains("is not signed by the root certificates in"), "{text}");
}

#[test]
fn a_server_without_tls_is_reached_in_plain_text_by_prefer_only() {
    let pki = Pki::new();
    let cluster = Cluster::start().unwrap_or_else(|e| panic!("no server: {e}"));
    let plain = |db: &str, options: &str| {
        format!("postgres://postgres:{PASSWORD}@127.0.0.1:{}/{db}?{options}", cluster.port())
    };
    let mut admin = testkit::client(&plain("postgres", "sslmode=disable")).expect("connects");
    for (i, options) in ["", "sslmode=prefer", "sslmode=allow"].into_iter().enumerate() {
        let db = format!("plain_{i}");
        admin.batch_execute(&format!("CREATE DATABASE {db}")).expect("creates");
        let seen = session_tls(&plain(&db, options), &plain(&db, "sslmode=disable"));
        assert_eq!(seen, "false  ", "{options}");
    }
    for mode in ["require", "verify-ca", "verify-full"] {
        let url = plain("postgres", &format!("sslmode={mode}&sslrootcert={}", pki.path("ca.crt")));
        let error = refused(&url);
        assert!(matches!(error, Error::Tls { .. }), "{error:?}");
        let text = error.report();
        assert!(
            text.starts_with(&format!(
                "cannot connect to postgres@127.0.0.1:{}/postgres over TLS: the server does not accept TLS but sslmode={mode}\n= help: ",
                cluster.port()
            )),
            "{text}"
        );
    }
}

#[test]
fn prefer_retries_in_plain_text_when_the_server_refuses_tls() {
    let pki = Pki::new();
    let cluster = tls_server(&pki);
    let db = database(&cluster, &pki);
    let url = |options: &str| format!("postgres://plainonly@127.0.0.1:{}/{db}?{options}", cluster.port());
    assert_eq!(session_tls(&url(""), &admin(&cluster, &pki, &db)), "false  ");
    let error = refused(&url("sslmode=require"));
    let text = error.report();
    assert!(matches!(error, Error::Connect { .. }), "{error:?}");
    assert!(text.contains("rejects connection") && text.contains("SSL encryption"), "{text}");
}

#[test]
fn a_client_certificate_logs_its_user_in() {
    let pki = Pki::new();
    let cluster = tls_server(&pki);
    let db = database(&cluster, &pki);
    let root = format!("sslmode=verify-full&sslrootcert={}", pki.path("ca.crt"));
    let url =
        |options: &str| format!("postgres://certuser@localhost:{}/{db}?{root}&{options}", cluster.port());
    let certificate = format!("sslcert={}&sslkey={}", pki.path("client.crt"), pki.path("client.key"));
    assert_eq!(session_tls(&url(&certificate), &admin(&cluster, &pki, &db)), "true TLSv1.3 /CN=certuser");
    // Without a certificate, or with one signed by a CA the server does not trust.
    let text = refused(&url("")).report();
    assert!(text.contains("connection requires a valid client certificate"), "{text}");
    let stranger = format!("sslcert={}&sslkey={}", pki.path("stranger.crt"), pki.path("stranger.key"));
    let error = refused(&url(&stranger));
    assert!(matches!(error, Error::Tls { .. }), "{error:?}");
    let text = error.report();
    assert!(
        text.contains("the server refused the TLS handshake") && text.contains("sslcert and sslkey"),
        "{text}"
    );
    // A key that others may read is refused, as libpq refuses it.
    use std::os::unix::fs::PermissionsExt;
    std::fs::copy(pki.dir.join("client.key"), pki.dir.join("open.key")).expect("copies");
    std::fs::set_permissions(pki.dir.join("open.key"), std::fs::Permissions::from_mode(0o644))
        .expect("opens");
    let open = format!("sslcert={}&sslkey={}", pki.path("client.crt"), pki.path("open.key"));
    let text = refused(&url(&open)).report();
    assert!(
        text.contains(&format!(
            "the client key file `{}` (sslkey) may be read by others",
            pki.path("open.key")
        )),
        "{text}"
    );
    // A key that is not the certificate's.
    let mismatched = format!("sslcert={}&sslkey={}", pki.path("client.crt"), pki.path("stranger.key"));
    let text = refused(&url(&mismatched)).report();
    assert!(text.contains("cannot be used with the certificate"), "{text}");
}

#[test]
fn certificate_files_that_cannot_be_read_are_named() {
    let pki = Pki::new();
    let cluster = tls_server(&pki);
    let missing = pki.path("no-such-ca.crt");
    for mode in ["prefer", "require", "verify-ca", "verify-full"] {
        let error = refused(&app(
            &cluster,
            "localhost",
            "postgres",
            &format!("sslmode={mode}&sslrootcert={missing}"),
        ));
        assert!(matches!(error, Error::Tls { .. }), "{error:?}");
        let text = error.report();
        assert!(
            text.contains(&format!(
                "cannot read the root certificate file `{missing}` (sslrootcert): No such file"
            )),
            "{text}"
        );
    }
    let not_pem = pki.path("server.ext");
    let text = refused(&app(&cluster, "localhost", "postgres", &format!("sslrootcert={not_pem}"))).report();
    assert!(
        text.contains(&format!(
            "cannot read the root certificate file `{not_pem}` (sslrootcert): it holds no certificate"
        )),
        "{text}"
    );
    let text = refused(&app(
        &cluster,
        "localhost",
        "postgres",
        &format!("sslcert={}&sslkey={}", pki.path("no-such.crt"), pki.path("client.key")),
    ))
    .to_string();
    assert!(
        text.contains(&format!(
            "cannot read the client certificate file `{}` (sslcert)",
            pki.path("no-such.crt")
        )),
        "{text}"
    );
    // Refused while reading the string, before any file: sslrootcert=system asks for verify-full.
    let error = refused(&app(&cluster, "localhost", "postgres", "sslmode=verify-ca&sslrootcert=system"));
    assert!(matches!(error, Error::TlsSettings { .. }), "{error:?}");
}

#[test]
fn a_cancel_request_goes_over_the_same_tls() {
    let pki = Pki::new();
    let cluster = tls_server(&pki);
    let db = database(&cluster, &pki);
    let url =
        app(&cluster, "localhost", &db, &format!("sslmode=verify-full&sslrootcert={}", pki.path("ca.crt")));
    let flag = Arc::new(AtomicUsize::new(0));
    let setter = Arc::clone(&flag);
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(2));
        setter.store(15, Ordering::SeqCst);
    });
    let started = Instant::now();
    let result = Migrator::new(&TLS).interrupt_on(flag).upgrade(url.as_str(), WAIT);
    assert!(matches!(result, Err(Error::Interrupted { signal: 15, .. })), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(20), "the statement ran on: {:?}", started.elapsed());
}

#[test]
fn a_connector_of_ones_own_secures_the_connections() {
    let pki = Pki::new();
    let cluster = tls_server(&pki);
    let db = database(&cluster, &pki);
    let connector = |ca: &str| {
        let mut roots = rustls::RootCertStore::empty();
        for certificate in rustls::pki_types::CertificateDer::pem_file_iter(pki.path(ca)).expect("reads") {
            roots.add(certificate.expect("parses")).expect("adds");
        }
        let config =
            rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .expect("versions")
                .with_root_certificates(roots)
                .with_no_client_auth();
        tokio_postgres_rustls::MakeRustlsConnect::new(config)
    };
    let url = app(&cluster, "localhost", &db, "sslmode=require");
    let database = Database::parse(&url).expect("parses").tls(connector("ca.crt"));
    let report = Migrator::new(&TLS).upgrade(database, RECORD).expect("upgrades over the caller's TLS");
    assert_eq!(report.after, [RECORD]);
    // The caller's connector decides: one that trusts another CA fails, with the target named.
    let error = Migrator::new(&TLS)
        .current(Database::parse(&url).expect("parses").tls(connector("other-ca.crt")))
        .expect_err("an unknown issuer is refused");
    let text = error.to_string();
    assert!(!text.contains(PASSWORD), "{text}");
    assert!(
        text.starts_with(&format!(
            "cannot connect to app@localhost:{}/{db} over TLS: the server's certificate is not signed",
            cluster.port()
        )),
        "{text}"
    );
}
