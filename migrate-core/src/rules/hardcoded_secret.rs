//! `hardcoded_secret`: a password, token or key in any text a migration carries: string and
//! byte-string literals, `concat!` parts joined, `bulk_insert` cells under credential-named
//! columns, doc comments (embedded in the binary, printed by `history`), `//` and `/* */`
//! comments (committed with it), and `include_str!`'d files.
//!
//! Why: the guide forbids sensitive data in migrations (its example inserts an admin with
//! `'password123'`). A migration is committed, copied to every environment and kept
//! forever; a credential in one leaks everywhere the repository goes. See
//! [`crate::secret`] for the shapes detected.

use super::Report;
use crate::diagnostic::{Locator, RuleId};
use crate::secret::find_secret;
use crate::source::{Carrier, MigrationFile, ModuleSource};

pub(crate) fn check(file: &MigrationFile, module: &ModuleSource, report: &mut Report) {
    for (i, literal) in module.literals.iter().enumerate() {
        let message = match &literal.included {
            Some(included) => {
                let Some(secret) = included.text.as_deref().and_then(find_secret) else {
                    continue;
                };
                format!(
                    "`{}` line {} holds a hardcoded secret: {}",
                    included.display, secret.line, secret.what
                )
            }
            None => {
                let Some(secret) = find_secret(&literal.value) else {
                    continue;
                };
                match literal.carrier {
                    Carrier::Str => format!("string literal holds a hardcoded secret: {}", secret.what),
                    Carrier::Bytes => format!("byte string holds a hardcoded secret: {}", secret.what),
                    Carrier::Concat => format!("`concat!` holds a hardcoded secret: {}", secret.what),
                    Carrier::Doc => format!("doc comment holds a hardcoded secret: {}", secret.what),
                    Carrier::Comment(line) => format!(
                        "comment on line {} holds a hardcoded secret: {}",
                        line + secret.line - 1,
                        secret.what
                    ),
                    Carrier::Row => format!("`bulk_insert` row holds a hardcoded secret: {}", secret.what),
                }
            }
        };
        report.push(
            file,
            Some(module),
            Locator::Literal(i),
            RuleId::HardcodedSecret,
            message,
            "never commit credentials in a migration: create accounts from a separate script or the admin \
             interface, and read secrets from the environment at run time"
                .to_owned(),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::rules::check;
    use crate::rules::fixtures::{file, found, rows};
    use crate::source::{Included, Literal};

    #[test]
    fn literals_and_included_files() {
        let mut f = file("20241021_0900", "a1b2c3d4e5f6", &[], "add_admin_account");
        f.modules[0].literals = vec![
            Literal { value: "users".into(), ..Literal::default() },
            Literal {
                value: "INSERT INTO users (email, password) VALUES ('admin@alforis.com', 'password123')"
                    .into(),
                ..Literal::default()
            },
            Literal {
                value: "sql/roles.sql".into(),
                included: Some(Included {
                    display: "migrations/sql/roles.sql".into(),
                    text: Some("-- roles\nCREATE ROLE app LOGIN PASSWORD 'hunter2';\n".into()),
                }),
                ..Literal::default()
            },
        ];
        assert_eq!(
            found(&[f.clone()]),
            rows(&[
                ("hardcoded_secret", "a1b2c3d4e5f6", "literal:1"),
                ("hardcoded_secret", "a1b2c3d4e5f6", "literal:2")
            ])
        );
        let messages: Vec<String> = check(&[f], &Config::default()).into_iter().map(|d| d.message).collect();
        assert_eq!(
            messages,
            [
                "string literal holds a hardcoded secret: a value for `password`",
                "`migrations/sql/roles.sql` line 2 holds a hardcoded secret: a role password"
            ]
        );
    }

    /// Each carrier of a migration's text, read from source as the build reads it.
    fn messages_of(body: &str) -> Vec<String> {
        let text = format!(
            "/// Why.\n#[migration(rev = \"a1b2c3d4e5f6\", down_revision = None)]\nmod add_admin_account {{\n    use migrate_runtime::prelude::*;\n    pub fn upgrade(op: &mut Op) {{\n{body}\n    }}\n    pub fn downgrade(op: &mut Op) {{ op.execute(\"SELECT 1\"); }}\n}}\n"
        );
        let parsed = crate::syntax::parse_file(&text).expect("parses");
        let mut f = file("20241021_0900", "a1b2c3d4e5f6", &[], "add_admin_account");
        f.modules = parsed.modules.into_iter().map(|m| m.source).collect();
        check(&[f], &Config::default())
            .into_iter()
            .filter(|d| d.rule.as_str() == "hardcoded_secret")
            .map(|d| d.message)
            .collect()
    }

    #[test]
    fn every_carrier_is_checked() {
        let cases = [
            (
                r#"op.bulk_insert("users", &["email", "password"], vec![vec!["admin@alforis.com".into(), "password123".into()]]);"#,
                "`bulk_insert` row holds a hardcoded secret: a value for `password`",
            ),
            (
                r#"op.execute(String::from_utf8_lossy(b"UPDATE users SET password = 'hunter2'").as_ref());"#,
                "byte string holds a hardcoded secret: a value for `password`",
            ),
            (
                r#"op.execute(concat!("UPDATE users SET password = '", "hunter2", "'"));"#,
                "`concat!` holds a hardcoded secret: a value for `password`",
            ),
            (
                "/// The admin logs in with password = 'hunter2'.\nop.execute(\"SELECT 1\");",
                "doc comment holds a hardcoded secret: a value for `password`",
            ),
            (
                "// admin: password = 'hunter2'\nop.execute(\"SELECT 1\");",
                "comment on line 6 holds a hardcoded secret: a value for `password`",
            ),
            (
                "op.execute(\"SELECT 1\"); /* the key:\n   -----BEGIN RSA PRIVATE KEY----- */",
                "comment on line 7 holds a hardcoded secret: a private key",
            ),
            (
                r#"op.execute("SELECT 'AKIAIOSFODNN7EXAMPLE'");"#,
                "string literal holds a hardcoded secret: an AWS access key id",
            ),
        ];
        for (body, expected) in cases {
            assert_eq!(messages_of(body), [expected], "{body}");
        }
        // Harmless rows and text pass.
        for body in [
            r#"op.bulk_insert("users", &["email", "password_hash"], vec![vec!["a@x.com".into(), Value::Null]]);"#,
            r#"op.bulk_insert("tags", &["label", "rank"], vec![vec!["vip".into(), 1.into()]]);"#,
            r#"op.execute(concat!("SELECT ", "1"));"#,
            "// the password column is filled by the sign-up form\nop.execute(\"SELECT 1\");",
        ] {
            assert!(messages_of(body).is_empty(), "{body}");
        }
    }
}
