//! Runs one upgrade of a fixture chain, for the tests that need separate processes: several
//! migrators racing, and a process killed in the middle of a migration.
//!
//! `migrate-racer <chain> <database url> <target>`; prints the revisions it applied.

use std::process::ExitCode;

use migrate_runtime::{Chain, Migrator};

static CRM: Chain = migrate_runtime::embed_migrations!("crm");
static SLOW: Chain = migrate_runtime::embed_migrations!("slow");

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [chain, url, target] = args.as_slice() else {
        eprintln!("usage: migrate-racer <crm|slow> <database url> <target>");
        return ExitCode::FAILURE;
    };
    let chain = match chain.as_str() {
        "crm" => &CRM,
        "slow" => &SLOW,
        other => {
            eprintln!("unknown chain `{other}`");
            return ExitCode::FAILURE;
        }
    };
    match Migrator::new(chain).upgrade(url, target) {
        Ok(report) => {
            for step in report.steps {
                println!("{}", step.rev);
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}
