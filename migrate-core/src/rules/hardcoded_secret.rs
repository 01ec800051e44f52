//! `hardcoded_secret`: a password, token or key in a string literal or an included SQL file.
//!
//! Why: the guide forbids sensitive data in migrations (its example inserts an admin with
//! `'password123'`). A migration is committed, copied to every environment and kept
//! forever; a credential in one leaks everywhere the repository goes. See
//! [`crate::secret`] for the shapes detected.

use super::Report;
use crate::diagnostic::{Locator, RuleId};
use crate::secret::find_secret;
use crate::source::{MigrationFile, ModuleSource};

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
                format!("string literal holds a hardcoded secret: {}", secret.what)
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
            Literal { value: "users".into(), included: None },
            Literal {
                value: "INSERT INTO users (email, password) VALUES ('admin@alforis.com', 'password123')"
                    .into(),
                included: None,
            },
            Literal {
                value: "sql/roles.sql".into(),
                included: Some(Included {
                    display: "migrations/sql/roles.sql".into(),
                    text: Some("-- roles\nCREATE ROLE app LOGIN PASSWORD 'hunter2';\n".into()),
                }),
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
}
