//! The words of `heads`, `history` and `show`, in text and JSON, for every command line (the
//! source one, which reads files, and the embedded one, which reads a compiled chain).
//!
//! History is listed newest first, one line per revision as Alembic prints it:
//! `<parents> -> <rev> (head) (branchpoint) (mergepoint), <slug>: <why>`.

use crate::graph::{Graph, NodeId};
use crate::target::TargetError;

/// A revision as listings show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    /// The revision id.
    pub rev: String,
    /// Its parents.
    pub parents: Vec<String>,
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
}

impl<'a> Listing<'a> {
    /// Lists `entries` (by node) of `graph`, with the database's `marks` when known.
    pub fn new(graph: &'a Graph, entries: &'a [Listed], marks: Option<&'a [Mark]>) -> Listing<'a> {
        Listing { graph, entries, marks }
    }

    fn tags(&self, node: NodeId) -> String {
        let mut tags = String::new();
        if self.graph.children(node).is_empty() {
            tags.push_str(" (head)");
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
        let parents = if entry.parents.is_empty() { "<base>".to_owned() } else { entry.parents.join(", ") };
        let why = if entry.why.is_empty() { String::new() } else { format!(": {}", entry.why) };
        format!("{parents} -> {}{}, {}{why}", entry.rev, self.tags(node), entry.slug)
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
        let children = self.graph.children(node);
        if children.len() > 1 {
            let names: Vec<&str> = children.iter().map(|&c| self.graph.rev(c)).collect();
            text.push_str(&format!("Branches into: {}\n", names.join(", ")));
        }
        text.push_str(&format!("Slug: {}\nPath: {}\n", entry.slug, entry.file));
        if !entry.why.is_empty() {
            text.push_str(&format!("\n    {}\n", entry.why));
        }
        text
    }

    /// The nodes of a history range `start:end` (either side may be empty), newest first.
    pub fn range(&self, range: Option<&str>) -> Result<Vec<NodeId>, TargetError> {
        let mut nodes: Vec<NodeId> = self.graph.linear().iter().rev().copied().collect();
        let Some(range) = range else {
            return Ok(nodes);
        };
        let (start, end) = range.split_once(':').unwrap_or((range, ""));
        if !start.is_empty() {
            let from = self.graph.resolve_str(start, &[])?;
            let below = self.graph.descendants(&from);
            nodes.retain(|&n| below[n]);
        }
        if !end.is_empty() {
            let to = self.graph.resolve_str(end, &[])?;
            let above = self.graph.ancestors(&to);
            nodes.retain(|&n| above[n]);
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

    /// `heads`: one line per head.
    pub fn heads(&self) -> String {
        self.graph
            .heads()
            .iter()
            .map(|&n| format!("{}{}, {}\n", self.entries[n].rev, self.tags(n), self.entries[n].slug))
            .collect()
    }

    /// One revision as a JSON object.
    pub fn json(&self, node: NodeId) -> String {
        let entry = &self.entries[node];
        let mut fields = vec![
            format!("\"rev\": {}", json_string(&entry.rev)),
            format!("\"parents\": {}", json_list(&entry.parents)),
            format!("\"slug\": {}", json_string(&entry.slug)),
            format!("\"why\": {}", json_string(&entry.why)),
            format!("\"file\": {}", json_string(&entry.file)),
            format!("\"head\": {}", self.graph.children(node).is_empty()),
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
            "{\"rev\": \"bbbb\", \"parents\": [\"aaaa\"], \"slug\": \"add_bbbb_table\", \"why\": \"Why bbbb.\", \"file\": \"migrations/bbbb.rs\", \"head\": false, \"applied\": true, \"current\": true}"
        );
        assert_eq!(json_string("a \"b\"\n\\"), "\"a \\\"b\\\"\\n\\\\\"");
    }
}
