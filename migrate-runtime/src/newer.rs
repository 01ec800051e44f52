//! Revisions a newer release applied, which this binary's chain does not have: after the
//! code is rolled back, the older binary reverts them with the downgrades their history rows
//! stored when they were applied ([`migrate_core::version::Undo`]), then goes on with its own.
//!
//! The chain is extended with a descriptor per stored revision, after its own migrations (so
//! that the chain's node ids stay the same), and the graph built from both: every walk, row
//! change and check is then the one a run of the chain makes.

use std::collections::{BTreeMap, BTreeSet};

use migrate_core::chain::{Body, Chain, Migration};
use migrate_core::graph::{Graph, NodeId};
use migrate_core::version::Undo;

use crate::error::Error;
use crate::plan::{Planned, Planner, State};
use crate::session::Rows;

/// What the history stored of one revision: its last successful upgrade.
#[derive(Debug, Default)]
struct Stored {
    /// The history row's id: the order the revisions were applied in.
    id: i64,
    slug: String,
    checksum: String,
    /// Whether the row holds a downgrade (rows written before downgrades were stored do not).
    complete: bool,
    undo: Undo,
}

/// The chain extended with the revisions a newer release applied.
pub(crate) struct Newer {
    chain: Chain,
    graph: Graph,
    compiled: Vec<String>,
    stored: BTreeMap<NodeId, Undo>,
}

impl Newer {
    /// From the rows of [`migrate_core::version::Tables::stored_sql`]: the revisions `unknown`
    /// (version rows the chain does not have) and every revision below them that the chain
    /// does not have either, each with the downgrade its history stored. One without (stamped,
    /// or applied before downgrades were stored) cannot be reverted here: refused, naming it.
    pub(crate) fn read(
        own: &Chain,
        compiled: &[String],
        state: &State,
        unknown: &[String],
        rows: &Rows,
    ) -> Result<Newer, Error> {
        let mut records: BTreeMap<String, Stored> = BTreeMap::new();
        for row in rows {
            let [Some(rev), Some(what), _, value] = row.as_slice() else {
                continue;
            };
            let record = records.entry(rev.clone()).or_default();
            let value = value.clone();
            match what.as_str() {
                "id" => record.id = value.and_then(|v| v.parse().ok()).unwrap_or_default(),
                "slug" => record.slug = value.unwrap_or_default(),
                "checksum" => record.checksum = value.unwrap_or_default(),
                "stored" => record.complete = value.as_deref() == Some("true"),
                "transactional" => record.undo.transactional = value.as_deref() != Some("false"),
                "irreversible" => record.undo.irreversible = value,
                "parent" => record.undo.parents.extend(value),
                "depends_on" => record.undo.depends_on.extend(value),
                "statement" => record.undo.statements.extend(value),
                "setting" => {
                    if let Some((name, value)) = value.as_deref().and_then(|v| v.split_once('=')) {
                        record.undo.settings.push((name.to_owned(), value.to_owned()));
                    }
                }
                _ => {}
            }
        }
        // The revisions to revert: the unknown rows and what they stand on, down to the chain.
        let mut needed: BTreeSet<String> = BTreeSet::new();
        let mut missing: Vec<String> = Vec::new();
        let mut queue: Vec<String> = unknown.to_vec();
        while let Some(rev) = queue.pop() {
            if own.get(&rev).is_some() || needed.contains(&rev) || missing.contains(&rev) {
                continue;
            }
            match records.get(&rev).filter(|r| r.complete) {
                Some(record) => {
                    needed.insert(rev);
                    queue.extend(record.undo.parents.iter().chain(&record.undo.depends_on).cloned());
                }
                None => missing.push(rev),
            }
        }
        if !missing.is_empty() {
            missing.sort();
            return Err(Error::NotStored { revisions: missing });
        }
        // In the order they were applied: parents before children.
        let mut order: Vec<&String> = needed.iter().collect();
        order.sort_by_key(|rev| records.get(*rev).map_or(0, |r| r.id));
        let mut migrations: Vec<&'static Migration> = own.migrations().to_vec();
        let mut compiled: Vec<String> = compiled.to_vec();
        let mut stored = BTreeMap::new();
        for rev in order {
            let Some(record) = records.remove(rev) else { continue };
            let descriptor = descriptor(rev, &record);
            compiled.push(state.checksums.get(rev).cloned().unwrap_or(record.checksum));
            stored.insert(migrations.len(), record.undo);
            migrations.push(descriptor);
        }
        // Leaked: a chain is made of static descriptors. This runs once per run that reverts
        // revisions a newer release applied, a rare and explicit command, for a few hundred
        // bytes per revision.
        let chain = Chain::new(Vec::leak(migrations));
        let graph = chain.graph();
        Ok(Newer { chain, graph, compiled, stored })
    }

    /// The planner over the extended chain, as `base` plans over the chain alone.
    pub(crate) fn planner<'a>(&'a self, base: &Planner<'a>) -> Planner<'a> {
        Planner {
            chain: &self.chain,
            graph: &self.graph,
            compiled: &self.compiled,
            transactional_ddl: base.transactional_ddl,
            stored: &self.stored,
            own: Some(base.graph),
        }
    }

    /// The refusal of a run that would revert them without being told to: what it would
    /// run, each stored downgrade in full.
    pub(crate) fn refusal(&self, unknown: &[String], steps: &[Planned]) -> Error {
        Error::Newer { revisions: unknown.to_vec(), shown: shown(steps) }
    }
}

/// The stored steps of `steps`, as a person reads them before agreeing to run them: the
/// revision, its slug, then each statement.
pub(crate) fn shown(steps: &[Planned]) -> Vec<String> {
    steps
        .iter()
        .filter(|step| step.stored)
        .map(|step| {
            let mut text = format!("{} ({})", step.migration.rev, step.migration.slug);
            if step.statements.is_empty() {
                text.push_str(": no statement");
            }
            for statement in &step.statements {
                text.push_str("\n    ");
                text.push_str(&statement.sql.replace('\n', "\n    "));
                text.push(';');
            }
            text
        })
        .collect()
}

/// A descriptor of a stored revision: its place in the graph and its flag; its bodies record
/// nothing (the planner takes the stored downgrade instead, and never upgrades it).
fn descriptor(rev: &str, record: &Stored) -> &'static Migration {
    let leak = |text: &str| -> &'static str { String::leak(text.to_owned()) };
    let list = |items: &[String]| -> &'static [&'static str] {
        Vec::leak(items.iter().map(|item| leak(item)).collect::<Vec<_>>())
    };
    Box::leak(Box::new(Migration {
        rev: leak(rev),
        parents: list(&record.undo.parents),
        branch_labels: &[],
        depends_on: list(&record.undo.depends_on),
        slug: leak(&record.slug),
        file: "(stored in the history table)",
        why: "",
        transactional: record.undo.transactional,
        squashes: None,
        upgrade: Body::Sql(&[]),
        downgrade: Body::Sql(&[]),
    }))
}
