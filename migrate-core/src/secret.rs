//! Finding passwords, tokens and keys in the text of a migration.
//!
//! A migration is committed, reviewed, copied to every environment and kept forever; a
//! credential written into one leaks everywhere the repository goes. The detectors below
//! look for the shapes credentials take in SQL and configuration text:
//!
//! - a quoted value given to a credential-named column or key: `INSERT INTO users (email,
//!   password) VALUES ('a@x.com', 'password123')`, `UPDATE … SET api_key = '…'`,
//!   `"token": "…"`;
//! - a role password: `CREATE ROLE app LOGIN PASSWORD 'hunter2'`;
//! - credentials inside a URL: `postgres://app:hunter2@db/crm`;
//! - well-known key formats: AWS access key ids, PEM private keys, GitHub, Slack and Stripe
//!   tokens.
//!
//! Empty values and placeholders (`$1`, `:name`, `${VAR}`, `<password>`, `****`) are not
//! secrets; a hash is (it is credential material, and it identifies the password).

use crate::sql::is_word;

/// A credential found in a text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Secret {
    /// What was found, as a phrase: "a value for `password`".
    pub what: String,
    /// The line it is on, 1-based.
    pub line: usize,
}

/// Finds the first credential in `text`.
pub fn find_secret(text: &str) -> Option<Secret> {
    let found = [
        assigned_to_credential(text),
        insert_into_credential_column(text),
        role_password(text),
        url_credentials(text),
        known_key_format(text),
    ];
    found
        .into_iter()
        .flatten()
        .min_by_key(|(at, _)| *at)
        .map(|(at, what)| Secret { what, line: text[..at].matches('\n').count() + 1 })
}

/// Whether a column or key name says it holds a credential.
pub(crate) fn is_credential_name(name: &str) -> bool {
    const WORDS: &[&str] = &[
        "password",
        "passwd",
        "pwd",
        "passphrase",
        "secret",
        "apikey",
        "credential",
        "credentials",
        "token",
    ];
    const NOT_A_VALUE: &[&str] = &[
        "at", "on", "date", "count", "length", "policy", "required", "enabled", "type", "id", "expires",
        "expiry", "hint", "name", "kind", "changed", "sent", "reset",
    ];
    // Every credential name holds one of these: most identifiers are turned away here, without
    // an allocation (the build script checks every identifier of every text).
    const STEMS: &[&[u8]] = &[b"pass", b"pwd", b"secret", b"key", b"credential", b"token"];
    let bytes = name.as_bytes();
    if !STEMS.iter().any(|stem| bytes.windows(stem.len()).any(|w| w.eq_ignore_ascii_case(stem))) {
        return false;
    }
    let lower = name.to_ascii_lowercase();
    let words: Vec<&str> = lower.split('_').filter(|w| !w.is_empty()).collect();
    let Some(last) = words.last() else {
        return false;
    };
    if NOT_A_VALUE.contains(last) {
        return false;
    }
    let compound = ["api_key", "access_key", "private_key", "secret_key", "signing_key", "client_secret"]
        .iter()
        .any(|c| lower.contains(c));
    compound || words.iter().any(|w| WORDS.contains(w))
}

/// A quoted value that is not empty and not a placeholder.
fn quoted_value(text: &str, at: usize) -> Option<&str> {
    let bytes = text.as_bytes();
    let quote = *bytes.get(at)?;
    if quote != b'\'' && quote != b'"' {
        return None;
    }
    let end = text[at + 1..].find(quote as char)? + at + 1;
    let value = &text[at + 1..end];
    let placeholder = value.is_empty()
        || (value.len() > 1 && value.starts_with('$') && value[1..].bytes().all(|b| b.is_ascii_digit()))
        || value.starts_with("${")
        || value.starts_with(':')
        || value.starts_with('{')
        || value.starts_with('<')
        || value.starts_with('%')
        || value == "?"
        || value.bytes().all(|b| b == b'*' || b == b'x' || b == b'X');
    (!placeholder).then_some(value)
}

fn skip_spaces(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(|b| b.is_ascii_whitespace()) {
        at += 1;
    }
    at
}

/// Identifiers of `text` with their start offsets.
fn identifiers(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let bytes = text.as_bytes();
    let mut at = 0;
    std::iter::from_fn(move || {
        while at < bytes.len() && !(bytes[at].is_ascii_alphabetic() || bytes[at] == b'_') {
            at += 1;
        }
        if at >= bytes.len() {
            return None;
        }
        let start = at;
        while at < bytes.len() && is_word(bytes[at]) {
            at += 1;
        }
        Some((start, &text[start..at]))
    })
}

/// `password = '…'`, `"api_key": "…"`, `token => '…'`, `secret := '…'`.
fn assigned_to_credential(text: &str) -> Option<(usize, String)> {
    let bytes = text.as_bytes();
    identifiers(text).find_map(|(start, name)| {
        if !is_credential_name(name) {
            return None;
        }
        let mut at = start + name.len();
        if matches!(bytes.get(at), Some(b'"' | b'\'')) {
            at += 1;
        }
        at = skip_spaces(bytes, at);
        let operator = [":=", "=>", "=", ":"].iter().find(|op| text[at..].starts_with(**op))?;
        at = skip_spaces(bytes, at + operator.len());
        quoted_value(text, at)?;
        Some((start, format!("a value for `{name}`")))
    })
}

/// `INSERT INTO t (…, password, …) VALUES (…, '…', …)`.
fn insert_into_credential_column(text: &str) -> Option<(usize, String)> {
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = lower[from..].find("insert") {
        let start = from + found;
        from = start + 6;
        let Some(open) = lower[start..].find('(').map(|i| start + i) else {
            continue;
        };
        let Some(close) = lower[open..].find(')').map(|i| open + i) else {
            continue;
        };
        let columns: Vec<&str> =
            text[open + 1..close].split(',').map(|c| c.trim().trim_matches('"')).collect();
        if !columns.iter().any(|c| is_credential_name(c)) {
            continue;
        }
        let Some(values) = lower[close..].find("values").map(|i| close + i + 6) else {
            continue;
        };
        let mut at = skip_spaces(text.as_bytes(), values);
        // Every row of the VALUES list.
        while text[at..].starts_with('(') {
            let row = split_row(&text[at + 1..]);
            for (column, value) in columns.iter().zip(&row.values) {
                if is_credential_name(column) && quoted_value(value.trim(), 0).is_some() {
                    return Some((start, format!("a value for `{column}`")));
                }
            }
            at = skip_spaces(text.as_bytes(), at + 1 + row.len);
            if text[at..].starts_with(',') {
                at = skip_spaces(text.as_bytes(), at + 1);
            } else {
                break;
            }
        }
    }
    None
}

struct Row<'a> {
    values: Vec<&'a str>,
    /// Bytes consumed, the closing parenthesis included.
    len: usize,
}

/// Splits `a, 'b, c', f(d, e))…` at top-level commas up to the closing parenthesis.
fn split_row(text: &str) -> Row<'_> {
    let mut values = Vec::new();
    let (mut depth, mut quote, mut start) = (0usize, None, 0);
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') if depth == 0 => {
                values.push(&text[start..i]);
                return Row { values, len: i + 1 };
            }
            (None, ')') => depth -= 1,
            (None, ',') if depth == 0 => {
                values.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    values.push(&text[start..]);
    Row { values, len: text.len() }
}

/// `CREATE ROLE … PASSWORD '…'`, `ALTER USER … WITH ENCRYPTED PASSWORD '…'`.
fn role_password(text: &str) -> Option<(usize, String)> {
    identifiers(text).find_map(|(start, word)| {
        if !word.eq_ignore_ascii_case("password") {
            return None;
        }
        let at = skip_spaces(text.as_bytes(), start + word.len());
        if text.as_bytes().get(at) != Some(&b'\'') {
            return None;
        }
        quoted_value(text, at)?;
        Some((start, "a role password".to_owned()))
    })
}

/// `scheme://user:password@host`.
fn url_credentials(text: &str) -> Option<(usize, String)> {
    let mut from = 0;
    while let Some(found) = text[from..].find("://") {
        let start = from + found + 3;
        from = start;
        let authority_end = text[start..]
            .find(|c: char| c == '/' || c.is_whitespace() || c == '\'' || c == '"')
            .map_or(text.len(), |i| start + i);
        let authority = &text[start..authority_end];
        if let Some((userinfo, _host)) = authority.rsplit_once('@')
            && let Some((_user, password)) = userinfo.split_once(':')
            && !password.is_empty()
            && !password.starts_with('$')
            && !password.starts_with('{')
            && !password.bytes().all(|b| b == b'*')
        {
            return Some((start, "credentials in a connection URL".to_owned()));
        }
    }
    None
}

/// Well-known key and token formats.
fn known_key_format(text: &str) -> Option<(usize, String)> {
    let bytes = text.as_bytes();
    let run = |at: usize, ok: fn(u8) -> bool| bytes[at..].iter().take_while(|b| ok(**b)).count();
    /// A prefix, the least number of following bytes of the right kind, and what it is.
    type Format = (&'static str, usize, fn(u8) -> bool, &'static str);
    let formats: &[Format] = &[
        ("AKIA", 16, |b| b.is_ascii_uppercase() || b.is_ascii_digit(), "an AWS access key id"),
        ("ghp_", 36, |b| b.is_ascii_alphanumeric(), "a GitHub token"),
        ("gho_", 36, |b| b.is_ascii_alphanumeric(), "a GitHub token"),
        ("ghs_", 36, |b| b.is_ascii_alphanumeric(), "a GitHub token"),
        ("ghu_", 36, |b| b.is_ascii_alphanumeric(), "a GitHub token"),
        ("ghr_", 36, |b| b.is_ascii_alphanumeric(), "a GitHub token"),
        ("github_pat_", 22, is_word, "a GitHub token"),
        ("xoxb-", 10, |b| b.is_ascii_alphanumeric() || b == b'-', "a Slack token"),
        ("xoxp-", 10, |b| b.is_ascii_alphanumeric() || b == b'-', "a Slack token"),
        ("xoxa-", 10, |b| b.is_ascii_alphanumeric() || b == b'-', "a Slack token"),
        ("xoxr-", 10, |b| b.is_ascii_alphanumeric() || b == b'-', "a Slack token"),
        ("xoxs-", 10, |b| b.is_ascii_alphanumeric() || b == b'-', "a Slack token"),
        ("rk_live_", 16, |b| b.is_ascii_alphanumeric(), "a Stripe secret key"),
        ("sk_live_", 16, |b| b.is_ascii_alphanumeric(), "a Stripe secret key"),
    ];
    let mut best: Option<(usize, String)> = None;
    for (prefix, min, ok, what) in formats {
        let mut from = 0;
        while let Some(found) = text[from..].find(prefix) {
            let at = from + found;
            from = at + prefix.len();
            let boundary = at == 0 || !is_word(bytes[at - 1]);
            if boundary && run(at + prefix.len(), *ok) >= *min {
                if best.as_ref().is_none_or(|(b, _)| at < *b) {
                    best = Some((at, (*what).to_owned()));
                }
                break;
            }
        }
    }
    if let Some(at) = text.find("-----BEGIN")
        && text[at..].lines().next().is_some_and(|l| l.contains("PRIVATE KEY"))
        && best.as_ref().is_none_or(|(b, _)| at < *b)
    {
        best = Some((at, "a private key".to_owned()));
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn what(text: &str) -> Option<String> {
        find_secret(text).map(|s| s.what)
    }

    #[test]
    fn the_guides_example_is_caught() {
        assert_eq!(
            what("INSERT INTO users (email, password) VALUES ('admin@alforis.com', 'password123')"),
            Some("a value for `password`".into())
        );
    }

    #[test]
    fn credentials_are_caught() {
        let cases = [
            (
                "insert into users (email, password_hash) values ('a@x', '$2b$12$abc')",
                Some("a value for `password_hash`"),
            ),
            (
                "INSERT INTO users (\"email\", \"password_hash\") VALUES ('a@x', 'e3b0c442')",
                Some("a value for `password_hash`"),
            ),
            ("INSERT INTO t (name, api_key) VALUES ('a', 'k1'), ('b', 'k2')", Some("a value for `api_key`")),
            ("INSERT INTO t (name, api_key) VALUES ('a', NULL), ('b', 'k2')", Some("a value for `api_key`")),
            ("UPDATE integrations SET api_key = 'sk_test_123' WHERE id = 1", Some("a value for `api_key`")),
            ("UPDATE users SET password='hunter2'", Some("a value for `password`")),
            (r#"{"token": "abc.def.ghi"}"#, Some("a value for `token`")),
            ("CREATE ROLE app LOGIN PASSWORD 'hunter2'", Some("a role password")),
            ("ALTER USER app WITH ENCRYPTED PASSWORD 'md5abc'", Some("a role password")),
            (
                "CREATE SERVER s FOREIGN DATA WRAPPER x OPTIONS (dsn 'postgres://app:hunter2@db/crm')",
                Some("credentials in a connection URL"),
            ),
            ("-- key AKIAIOSFODNN7EXAMPLE", Some("an AWS access key id")),
            ("ghp_abcdefghijklmnopqrstuvwxyz0123456789", Some("a GitHub token")),
            ("-----BEGIN RSA PRIVATE KEY-----\nMIIE", Some("a private key")),
            ("sk_live_0123456789abcdefABCD", Some("a Stripe secret key")),
        ];
        for (text, expected) in cases {
            let got = what(text);
            assert_eq!(got.as_deref(), expected, "{text}");
        }
    }

    #[test]
    fn ordinary_sql_is_not_a_secret() {
        let clean = [
            "CREATE TABLE users (id bigserial PRIMARY KEY, email text, password_hash text NOT NULL)",
            "ALTER TABLE users ADD COLUMN password_changed_at timestamptz",
            "UPDATE users SET password_changed_at = '2024-01-01' WHERE id = 1",
            "UPDATE users SET password = $1 WHERE id = $2",
            "UPDATE users SET password = '' WHERE password IS NULL",
            "INSERT INTO tokens (token_type, scope) VALUES ('bearer', 'read')",
            "COMMENT ON COLUMN users.password_hash IS 'bcrypt hash, never plain text'",
            "UPDATE interactions SET status='pending' WHERE status IS NULL",
            "ALTER TYPE interaction_type ADD VALUE IF NOT EXISTS 'linkedin_message'",
            "INSERT INTO settings (key, value) VALUES ('theme', 'dark')",
            "postgres://app@db/crm",
            "CREATE ROLE app LOGIN PASSWORD NULL",
            "https://example.com/a:b",
        ];
        for text in clean {
            assert_eq!(what(text), None, "{text}");
        }
    }

    #[test]
    fn each_token_shape_is_caught_and_its_near_misses_are_not() {
        let cases = [
            ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", Some("a Stripe secret key")),
            ("sk_live_short", None),
            ("sk_test_4eC39HqLyjWDarjtT1zdp7dc", None),
            ("AKIAIOSFODNN7EXAMPLE", Some("an AWS access key id")),
            ("AKIA_not_a_key", None),
            ("ghp_16C7e42F292c6912E7710c838347Ae178B4a", Some("a GitHub token")),
            ("ghp_short", None),
            ("xoxb-123456789012-abcdefghij", Some("a Slack token")),
            ("xoxp-1234-5678-abcdefgh", Some("a Slack token")),
            ("xox", None),
            ("-----BEGIN PRIVATE KEY-----\nMIIEv", Some("a private key")),
            ("-----BEGIN OPENSSH PRIVATE KEY-----", Some("a private key")),
            ("-----BEGIN EC PRIVATE KEY-----", Some("a private key")),
            ("-----BEGIN PUBLIC KEY-----", None),
            ("-----BEGIN CERTIFICATE-----", None),
        ];
        for (text, expected) in cases {
            assert_eq!(what(text).as_deref(), expected, "{text}");
        }
    }

    /// False positives: the SQL of the crates.io migrations (hundreds of real files, with
    /// tokens, API keys and password-free credentials tables) holds no secret.
    #[test]
    fn the_crates_io_corpus_holds_no_secret() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/crates-io/migrations");
        let mut stack = vec![root.clone()];
        let mut files = 0;
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    stack.push(path);
                } else if let Ok(text) = std::fs::read_to_string(&path) {
                    files += 1;
                    assert_eq!(find_secret(&text), None, "{}", path.display());
                }
            }
        }
        assert!(files > 100, "only {files} files under {}", root.display());
    }

    #[test]
    fn the_line_is_reported() {
        let text = "-- seed\nSELECT 1;\nCREATE ROLE app PASSWORD 'x1';\n";
        assert_eq!(find_secret(text).map(|s| s.line), Some(3));
    }
}
