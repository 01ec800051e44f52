//! The words of `heads`, `history` and `show`, in text and JSON, for every command line (the
//! source one, which reads files, and the embedded one, which reads a compiled chain).
//!
//! History is listed newest first, one line per revision as Alembic prints it:
//! `<parents> (<depends on>) -> <rev> (<branch names>) (head) (branchpoint) (mergepoint), <slug>: <why>`.
//!
//! **Branch names.** As in Alembic, a revision shows the labels of its branch, not only those
//! it declares: a label reaches every descendant of the revision declaring it (through
//! children, past merges), and its ancestors down to the branch's start
//! ([`Graph::branch_root`]: the line stops at a branch point or a merge). A head some revision
//! depends on is an `(effective head)`: the dependant's version row stands for it.

use crate::graph::{Graph, NodeId};
use crate::target::TargetError;

/// A revision as listings show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    /// The revision id.
    pub rev: String,
    /// Its parents.
    pub parents: Vec<String>,
    /// The revisions or branch labels it depends on, as written.
    pub depends_on: Vec<String>,
    /// Its slug.
    pub slug: String,
    /// Its doc comment.
    pub why: String,
    /// Its file.
    pub file: String,
}

/// What the database says of a revision, when a database was asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    /// Not applied.
    Pending,
    /// Applied, below a version row.
    Applied,
    /// A version row.
    Current,
}

/// A string as a JSON string literal.
pub fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON array of strings, on one line.
pub fn json_list<S: AsRef<str>>(items: &[S]) -> String {
    format!("[{}]", items.iter().map(|i| json_string(i.as_ref())).collect::<Vec<_>>().join(", "))
}

/// A listing of a graph whose node `n` is `entries[n]`.
pub struct Listing<'a> {
    graph: &'a Graph,
    entries: &'a [Listed],
    marks: Option<&'a [Mark]>,
    names: Vec<Vec<String>>,
}

impl<'a> Listing<'a> {
    /// Lists `entries` (by node) of `graph`, with the database's `marks` when known.
    pub fn new(graph: &'a Graph, entries: &'a [Listed], marks: Option<&'a [Mark]>) -> Listing<'a> {
        Listing { graph, entries, marks, names: branch_names(graph) }
    }

    /// The branch names of node `node`, in label order (see the module's documentation).
    pub fn branch_names(&self, node: NodeId) -> &[String] {
        &self.names[node]
    }

    /// ` (a, b)` for a revision with branch names, else nothing.
    fn names(&self, node: NodeId) -> String {
        match self.names[node].as_slice() {
            [] => String::new(),
            names => format!(" ({})", names.join(", ")),
        }
    }

    fn is_head(&self, node: NodeId) -> bool {
        self.graph.children(node).is_empty() && self.graph.dependants(node).is_empty()
    }

    fn is_effective_head(&self, node: NodeId) -> bool {
        self.graph.children(node).is_empty() && !self.graph.dependants(node).is_empty()
    }

    fn tags(&self, node: NodeId) -> String {
        let mut tags = String::new();
        if self.is_head(node) {
            tags.push_str(" (head)");
        } else if self.is_effective_head(node) {
            tags.push_str(" (effective head)");
        }
        if self.graph.children(node).len() > 1 {
            tags.push_str(" (branchpoint)");
        }
        if self.graph.parents(node).len() > 1 {
            tags.push_str(" (mergepoint)");
        }
        match self.marks.map(|m| m[node]) {
            Some(Mark::Current) => tags.push_str(" (current)"),
            Some(Mark::Applied) => tags.push_str(" (applied)"),
            Some(Mark::Pending) => tags.push_str(" (pending)"),
            None => {}
        }
        tags
    }

    /// One history line.
    pub fn line(&self, node: NodeId) -> String {
        let entry = &self.entries[node];
        let mut parents =
            if entry.parents.is_empty() { "<base>".to_owned() } else { entry.parents.join(", ") };
        if !entry.depends_on.is_empty() {
            parents.push_str(&format!(" ({})", entry.depends_on.join(", ")));
        }
        let why = if entry.why.is_empty() { String::new() } else { format!(": {}", entry.why) };
        format!("{parents} -> {}{}{}, {}{why}", entry.rev, self.names(node), self.tags(node), entry.slug)
    }

    /// The full entry of a revision, as `show` and `history --verbose` print it.
    pub fn entry(&self, node: NodeId) -> String {
        let entry = &self.entries[node];
        let mut text = format!("Rev: {}{}\n", entry.rev, self.tags(node));
        match entry.parents.as_slice() {
            [] => text.push_str("Parent: <base>\n"),
            [one] => text.push_str(&format!("Parent: {one}\n")),
            many => text.push_str(&format!("Merges: {}\n", many.join(", "))),
        }
        if !entry.depends_on.is_empty() {
            text.push_str(&format!("Also depends on: {}\n", entry.depends_on.join(", ")));
        }
        let children = self.graph.children(node);
        if children.len() > 1 {
            let names: Vec<&str> = children.iter().map(|&c| self.graph.rev(c)).collect();
            text.push_str(&format!("Branches into: {}\n", names.join(", ")));
        }
        if !self.names[node].is_empty() {
            text.push_str(&format!("Branch names: {}\n", self.names[node].join(", ")));
        }
        text.push_str(&format!("Slug: {}\nPath: {}\n", entry.slug, entry.file));
        if !entry.why.is_empty() {
            text.push_str(&format!("\n    {}\n", entry.why));
        }
        text
    }

    /// The nodes of a history range `start:end` (either side may be empty, each side any
    /// target of the grammar), newest first. `start:` is the start and what grows from it
    /// (children and dependants); `:end` is the end and what it needs. A branch on the start
    /// side (`label@base:`, `label@head-2:`) keeps that branch and what it needs only: its
    /// lineage and their ancestors, dependencies included.
    pub fn range(&self, range: Option<&str>) -> Result<Vec<NodeId>, TargetError> {
        let mut nodes: Vec<NodeId> = self.graph.linear().iter().rev().copied().collect();
        let Some(range) = range else {
            return Ok(nodes);
        };
        let (start, end) = range.split_once(':').unwrap_or((range, ""));
        if !start.is_empty() {
            let from = self.graph.resolve_str_in(start, &[])?;
            if !from.nodes.is_empty() {
                let above = self.graph.descendants(&from.nodes);
                nodes.retain(|&n| above[n]);
            }
            if let Some(branch) = from.branch {
                let lineage = self.graph.lineage(branch);
                let members: Vec<NodeId> = (0..self.graph.len()).filter(|&n| lineage[n]).collect();
                let needed = self.graph.ancestors(&members);
                nodes.retain(|&n| needed[n]);
            }
        }
        if !end.is_empty() {
            let to = self.graph.resolve_str(end, &[])?;
            let below = self.graph.ancestors(&to);
            nodes.retain(|&n| below[n]);
        }
        Ok(nodes)
    }

    /// `history`: one line per revision, or full entries with `verbose`.
    pub fn history(&self, nodes: &[NodeId], verbose: bool) -> String {
        let items: Vec<String> = nodes
            .iter()
            .map(|&n| if verbose { self.entry(n) } else { format!("{}\n", self.line(n)) })
            .collect();
        items.join(if verbose { "\n" } else { "" })
    }

    /// The heads as `heads` lists them: the heads, then the effective heads.
    pub fn head_nodes(&self) -> Vec<NodeId> {
        let mut nodes = self.graph.heads();
        nodes.extend(self.graph.effective_heads());
        nodes
    }

    /// `heads`: one line per head, then per effective head, marked `(effective head)`.
    pub fn heads(&self) -> String {
        self.short(&self.head_nodes())
    }

    /// `bases`: one line per base (a revision without a down revision).
    pub fn bases(&self) -> String {
        self.short(&self.graph.bases())
    }

    /// `<rev> (<branch names>) <tags>, <slug>`, one line each.
    fn short(&self, nodes: &[NodeId]) -> String {
        nodes
            .iter()
            .map(|&n| {
                format!(
                    "{}{}{}, {}\n",
                    self.entries[n].rev,
                    self.names(n),
                    self.tags(n),
                    self.entries[n].slug
                )
            })
            .collect()
    }

    /// One revision as a JSON object.
    pub fn json(&self, node: NodeId) -> String {
        let entry = &self.entries[node];
        let mut fields = vec![
            format!("\"rev\": {}", json_string(&entry.rev)),
            format!("\"parents\": {}", json_list(&entry.parents)),
            format!("\"depends_on\": {}", json_list(&entry.depends_on)),
            format!("\"labels\": {}", json_list(&self.names[node])),
            format!("\"slug\": {}", json_string(&entry.slug)),
            format!("\"why\": {}", json_string(&entry.why)),
            format!("\"file\": {}", json_string(&entry.file)),
            format!("\"head\": {}", self.is_head(node)),
            format!("\"effective_head\": {}", self.is_effective_head(node)),
        ];
        if let Some(marks) = self.marks {
            fields.push(format!("\"applied\": {}", marks[node] != Mark::Pending));
            fields.push(format!("\"current\": {}", marks[node] == Mark::Current));
        }
        format!("{{{}}}", fields.join(", "))
    }

    /// Revisions as a JSON array.
    pub fn json_array(&self, nodes: &[NodeId]) -> String {
        format!("[{}]\n", nodes.iter().map(|&n| self.json(n)).collect::<Vec<_>>().join(",\n "))
    }
}

/// The branch names of every node: each label on the revision declaring it, its descendants
/// through children, and the line below it down to [`Graph::branch_root`].
fn branch_names(graph: &Graph) -> Vec<Vec<String>> {
    let mut names = vec![Vec::new(); graph.len()];
    for (label, declared) in graph.labels() {
        let mut seen = vec![false; graph.len()];
        let mut todo = vec![declared];
        while let Some(node) = todo.pop() {
            if !std::mem::replace(&mut seen[node], true) {
                todo.extend(graph.children(node));
            }
        }
        let root = graph.branch_root(declared);
        let mut at = declared;
        while at != root {
            match graph.parents(at) {
                [parent] => at = *parent,
                _ => break,
            }
            seen[at] = true;
        }
        for (node, member) in seen.into_iter().enumerate() {
            if member {
                names[node].push(label.to_owned());
            }
        }
    }
    names
}

/// The marks of every node given the version rows `current`.
pub fn marks(graph: &Graph, current: &[NodeId]) -> Vec<Mark> {
    let applied = graph.ancestors(current);
    (0..graph.len())
        .map(|n| {
            if current.contains(&n) {
                Mark::Current
            } else if applied[n] {
                Mark::Applied
            } else {
                Mark::Pending
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diamond() -> (Graph, Vec<Listed>) {
        let spec: &[(&str, &[&str])] =
            &[("aaaa", &[]), ("bbbb", &["aaaa"]), ("cccc", &["aaaa"]), ("dddd", &["bbbb", "cccc"])];
        let graph = Graph::from_chain(spec.iter().map(|(r, p)| crate::graph::ChainEntry::new(r, p))).0;
        let entries = spec
            .iter()
            .map(|(rev, parents)| Listed {
                rev: (*rev).to_owned(),
                parents: parents.iter().map(|p| (*p).to_owned()).collect(),
                depends_on: Vec::new(),
                slug: format!("add_{rev}_table"),
                why: if *rev == "dddd" { String::new() } else { format!("Why {rev}.") },
                file: format!("migrations/{rev}.rs"),
            })
            .collect();
        (graph, entries)
    }

    #[test]
    fn history_lines_read_like_alembic() {
        let (graph, entries) = diamond();
        let listing = Listing::new(&graph, &entries, None);
        let all = listing.range(None).expect("all");
        assert_eq!(
            listing.history(&all, false),
            "bbbb, cccc -> dddd (head) (mergepoint), add_dddd_table\n\
             aaaa -> cccc, add_cccc_table: Why cccc.\n\
             aaaa -> bbbb, add_bbbb_table: Why bbbb.\n\
             <base> -> aaaa (branchpoint), add_aaaa_table: Why aaaa.\n"
        );
        assert_eq!(listing.heads(), "dddd (head) (mergepoint), add_dddd_table\n");
        let range = listing.range(Some("bbbb:")).expect("range");
        assert_eq!(graph.revs_of(&range), ["dddd", "bbbb"]);
        let range = listing.range(Some(":cccc")).expect("range");
        assert_eq!(graph.revs_of(&range), ["cccc", "aaaa"]);
        assert!(listing.range(Some("zzzz:")).is_err());
    }

    #[test]
    fn entries_marks_and_json() {
        let (graph, entries) = diamond();
        let marks = marks(&graph, &[graph.node("bbbb").expect("known")]);
        let listing = Listing::new(&graph, &entries, Some(&marks));
        assert_eq!(
            listing.entry(0),
            "Rev: aaaa (branchpoint) (applied)\nParent: <base>\nBranches into: bbbb, cccc\nSlug: add_aaaa_table\nPath: migrations/aaaa.rs\n\n    Why aaaa.\n"
        );
        assert_eq!(
            listing.json(1),
            "{\"rev\": \"bbbb\", \"parents\": [\"aaaa\"], \"depends_on\": [], \"labels\": [], \"slug\": \"add_bbbb_table\", \"why\": \"Why bbbb.\", \"file\": \"migrations/bbbb.rs\", \"head\": false, \"effective_head\": false, \"applied\": true, \"current\": true}"
        );
        assert_eq!(json_string("a \"b\"\n\\"), "\"a \\\"b\\\"\\n\\\\\"");
    }

    /// A revision, its parents, what it depends on and its labels.
    type Spec = (&'static str, &'static [&'static str], &'static [&'static str], &'static [&'static str]);

    /// `core` on a line from `aaaa`, `lib` on a second base whose head `mmmm` is what `cccc`
    /// depends on.
    fn labelled() -> (Graph, Vec<Listed>) {
        use crate::graph::ChainEntry;
        let spec: &[Spec] = &[
            ("aaaa", &[], &[], &[]),
            ("bbbb", &["aaaa"], &[], &["core"]),
            ("llll", &[], &[], &["lib"]),
            ("mmmm", &["llll"], &[], &[]),
            ("cccc", &["bbbb"], &["mmmm"], &[]),
        ];
        let chain = spec.iter().map(|(rev, parents, depends_on, labels)| ChainEntry {
            rev,
            parents,
            depends_on,
            labels,
        });
        let (graph, problems) = Graph::from_chain(chain);
        assert_eq!(problems, []);
        let entries = spec
            .iter()
            .map(|(rev, parents, depends_on, _)| Listed {
                rev: (*rev).to_owned(),
                parents: parents.iter().map(|p| (*p).to_owned()).collect(),
                depends_on: depends_on.iter().map(|d| (*d).to_owned()).collect(),
                slug: format!("add_{rev}_table"),
                why: String::new(),
                file: format!("migrations/{rev}.rs"),
            })
            .collect();
        (graph, entries)
    }

    #[test]
    fn labels_dependencies_and_effective_heads_read_like_alembic() {
        let (graph, entries) = labelled();
        let listing = Listing::new(&graph, &entries, None);
        let all = listing.range(None).expect("all");
        assert_eq!(
            listing.history(&all, false),
            "bbbb (mmmm) -> cccc (core) (head), add_cccc_table\n\
             llll -> mmmm (lib) (effective head), add_mmmm_table\n\
             <base> -> llll (lib), add_llll_table\n\
             aaaa -> bbbb (core), add_bbbb_table\n\
             <base> -> aaaa (core), add_aaaa_table\n"
        );
        assert_eq!(
            listing.heads(),
            "cccc (core) (head), add_cccc_table\nmmmm (lib) (effective head), add_mmmm_table\n"
        );
        assert_eq!(listing.bases(), "aaaa (core), add_aaaa_table\nllll (lib), add_llll_table\n");
        let cccc = graph.node("cccc").expect("known");
        assert_eq!(
            listing.entry(cccc),
            "Rev: cccc (head)\nParent: bbbb\nAlso depends on: mmmm\nBranch names: core\nSlug: add_cccc_table\nPath: migrations/cccc.rs\n"
        );
        let mmmm = graph.node("mmmm").expect("known");
        assert_eq!(
            listing.json(mmmm),
            "{\"rev\": \"mmmm\", \"parents\": [\"llll\"], \"depends_on\": [], \"labels\": [\"lib\"], \"slug\": \"add_mmmm_table\", \"why\": \"\", \"file\": \"migrations/mmmm.rs\", \"head\": false, \"effective_head\": true}"
        );
    }

    #[test]
    fn ranges_take_every_target_form() {
        let (graph, entries) = labelled();
        let listing = Listing::new(&graph, &entries, None);
        let range = |text: &str| listing.range(Some(text)).map(|nodes| graph.revs_of(&nodes).join(" "));
        // A branch from its base: its lineage and what it needs, no other branch.
        assert_eq!(range("lib@base:").as_deref(), Ok("mmmm llll"));
        assert_eq!(range("core@base:").as_deref(), Ok("cccc mmmm llll bbbb aaaa"));
        assert_eq!(range(":lib@head").as_deref(), Ok("mmmm llll"));
        assert_eq!(range(":core@head").as_deref(), Ok("cccc mmmm llll bbbb aaaa"));
        assert_eq!(range("core@head-1:").as_deref(), Ok("cccc bbbb"));
        assert_eq!(range("lib:").as_deref(), Ok("cccc mmmm llll"));
        assert_eq!(range("llll:lib@head").as_deref(), Ok("mmmm llll"));
        assert_eq!(range("aaaa:bbbb").as_deref(), Ok("bbbb aaaa"));
        // The grammar's errors pass through.
        assert!(matches!(listing.range(Some("nope@head:")), Err(TargetError::UnknownBranch { .. })));
        assert!(matches!(listing.range(Some(":lib@cccc")), Err(TargetError::NotOnBranch { .. })));
        assert!(matches!(listing.range(Some("lib@head-5:")), Err(TargetError::OutOfRange { .. })));
    }
}
