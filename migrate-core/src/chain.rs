//! The compiled chain: the migrations of a folder in their checked, linear order.

use crate::graph::{ChainEntry, Graph, NodeId};
use crate::op::Op;
use crate::target::TargetError;

/// One compiled migration, as `#[migration]` describes it.
#[derive(Debug)]
pub struct Migration {
    /// The revision id.
    pub rev: &'static str,
    /// The parents' ids: none for the first migration, two or more for a merge.
    pub parents: &'static [&'static str],
    /// The branch labels it declares (`label@head` names the head of its branch).
    pub branch_labels: &'static [&'static str],
    /// The revisions (or branch labels) applied before it without merging with it.
    pub depends_on: &'static [&'static str],
    /// The slug: the module's name.
    pub slug: &'static str,
    /// The migration file, relative to the crate root.
    pub file: &'static str,
    /// The doc comment saying why the migration exists.
    pub why: &'static str,
    /// Whether it runs inside a transaction.
    pub transactional: bool,
    /// For the baseline of a squash, which keeps the id of the last revision it replaced:
    /// the checksum databases recorded for that revision, accepted as this migration's own.
    pub squashes: Option<&'static str>,
    /// Records the upgrade's operations.
    pub upgrade: Body,
    /// Records the downgrade's operations.
    pub downgrade: Body,
}

/// What `upgrade` or `downgrade` records, as `#[migration]` compiles it.
#[derive(Clone, Copy, Debug)]
pub enum Body {
    /// The function, called with the `op` to record on.
    Code(fn(&mut Op)),
    /// The SQL texts of a body that only executes literal SQL (`op.execute("…")` and
    /// `op.execute(include_str!("…"))` statements), recorded as those calls would: the macro
    /// embeds such a body as data, as other tools embed SQL files, so that no function is
    /// compiled for it.
    Sql(&'static [&'static str]),
}

impl Body {
    /// Records the body's operations on `op`.
    pub fn record(&self, op: &mut Op) {
        match self {
            Body::Code(function) => function(op),
            Body::Sql(texts) => {
                for text in *texts {
                    op.execute(text);
                }
            }
        }
    }
}

impl Migration {
    /// The operations of the upgrade.
    pub fn upgrade_ops(&self) -> Op {
        let mut op = Op::new();
        self.upgrade.record(&mut op);
        op
    }

    /// The operations of the downgrade.
    pub fn downgrade_ops(&self) -> Op {
        let mut op = Op::new();
        self.downgrade.record(&mut op);
        op
    }

    /// Whether this migration merges several lines.
    pub fn is_merge(&self) -> bool {
        self.parents.len() > 1
    }
}

/// The migrations of a folder, parents before children, in the order build-support
/// documented (chronological where the graph leaves a choice).
#[derive(Clone, Copy, Debug)]
pub struct Chain {
    migrations: &'static [&'static Migration],
}

impl Chain {
    /// The chain of `migrations`, in the order build-support wrote them; what
    /// `embed_migrations!()` expands to, not meant to be called by hand.
    #[doc(hidden)]
    pub const fn new(migrations: &'static [&'static Migration]) -> Chain {
        Chain { migrations }
    }

    /// Every migration, in order.
    pub fn migrations(&self) -> &'static [&'static Migration] {
        self.migrations
    }

    /// Iterates over the migrations, in order.
    pub fn iter(&self) -> impl Iterator<Item = &'static Migration> + use<> {
        self.migrations.iter().copied()
    }

    /// The number of migrations.
    pub fn len(&self) -> usize {
        self.migrations.len()
    }

    /// Whether there is no migration.
    pub fn is_empty(&self) -> bool {
        self.migrations.is_empty()
    }

    /// The migration with this exact revision id.
    pub fn get(&self, rev: &str) -> Option<&'static Migration> {
        self.iter().find(|m| m.rev == rev)
    }

    /// The revision graph; node ids are positions in the chain.
    pub fn graph(&self) -> Graph {
        Graph::from_chain(self.migrations.iter().map(|m| ChainEntry {
            rev: m.rev,
            parents: m.parents,
            depends_on: m.depends_on,
            labels: m.branch_labels,
        }))
        .0
    }

    /// The heads: the migrations nothing follows.
    pub fn heads(&self) -> Vec<&'static Migration> {
        self.of(&self.graph().heads())
    }

    /// Resolves a target (`head`, `base`, `3f2a`, `head-1`, …) to the migrations it names,
    /// given the revisions currently applied (for `+N` and `-N`).
    pub fn resolve(&self, target: &str, current: &[&str]) -> Result<Vec<&'static Migration>, TargetError> {
        let graph = self.graph();
        let current =
            current.iter().map(|rev| graph.lookup(rev)).collect::<Result<Vec<NodeId>, TargetError>>()?;
        Ok(self.of(&graph.resolve_str(target, &current)?))
    }

    fn of(&self, nodes: &[NodeId]) -> Vec<&'static Migration> {
        nodes.iter().map(|&n| self.migrations[n]).collect()
    }
}

impl IntoIterator for &Chain {
    type Item = &'static Migration;
    type IntoIter = std::iter::Copied<std::slice::Iter<'static, &'static Migration>>;

    fn into_iter(self) -> Self::IntoIter {
        self.migrations.iter().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noop(_: &mut Op) {}

    fn two_statements(op: &mut Op) {
        op.execute("CREATE TABLE t (id int)");
        op.execute("INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)");
    }

    #[test]
    fn a_body_of_sql_records_what_its_function_records() {
        let texts: &[&str] =
            &["CREATE TABLE t (id int)", "INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)"];
        let mut from_data = Op::new();
        Body::Sql(texts).record(&mut from_data);
        let mut from_code = Op::new();
        Body::Code(two_statements).record(&mut from_code);
        assert_eq!(from_data.statements(), from_code.statements());
        assert_eq!(from_data.statements().len(), 3);
    }

    const fn migration(rev: &'static str, parents: &'static [&'static str], slug: &'static str) -> Migration {
        Migration {
            rev,
            parents,
            branch_labels: &[],
            depends_on: &[],
            slug,
            file: "",
            why: "",
            transactional: true,
            squashes: None,
            upgrade: Body::Code(noop),
            downgrade: Body::Code(noop),
        }
    }

    static A: Migration = migration("aaaa00000000", &[], "add_people_table");
    static B: Migration = migration("bbbb00000000", &["aaaa00000000"], "add_lead_scores_table");
    static C: Migration = migration("cccc00000000", &["bbbb00000000"], "add_ai_summary_to_interactions");
    static CHAIN: Chain = Chain::new(&[&A, &B, &C]);

    #[test]
    fn a_chain_answers_graph_questions() {
        assert_eq!(CHAIN.len(), 3);
        assert_eq!(CHAIN.get("bbbb00000000").map(|m| m.slug), Some("add_lead_scores_table"));
        assert_eq!(CHAIN.heads().iter().map(|m| m.rev).collect::<Vec<_>>(), ["cccc00000000"]);
        let resolve = |target: &str, current: &[&str]| -> Vec<&str> {
            CHAIN.resolve(target, current).expect("resolves").iter().map(|m| m.rev).collect()
        };
        assert_eq!(resolve("head-1", &[]), ["bbbb00000000"]);
        assert_eq!(resolve("+1", &["aaaa00000000"]), ["bbbb00000000"]);
        assert_eq!(resolve("base", &["cccc00000000"]), Vec::<&str>::new());
        assert!(CHAIN.resolve("+1", &["cccc00000000"]).is_err());
    }
}
