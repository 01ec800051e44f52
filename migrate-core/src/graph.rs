//! The revision graph: parents, dependencies, branch labels, heads, bases, cycles, the linear
//! order, and paths.
//!
//! A revision names its parents (`down_revision`): none for a base, one for a step, two or
//! more for a merge. It may also name dependencies (`depends_on`, revisions or branch labels):
//! they are applied before it, and reverting one reverts it, but it does not merge with them,
//! so they stay heads of their own branches when nothing else grows from them. Building a
//! graph never fails: duplicate ids and labels, unknown parents and dependencies, labels that
//! could be read as a revision, and cycles are returned as [`Problem`]s next to a graph that
//! leaves the faulty edges out, so that every problem of a folder can be reported in one build.
//!
//! **Heads.** A head is a revision no other revision names as its parent. A head some revision
//! depends on is an *effective head* ([`Graph::effective_heads`]): the version row of its
//! dependant stands for it, so it is not one of [`Graph::heads`].
//!
//! **Linear order.** Parents and dependencies come before children. Among the revisions whose parents are all
//! placed, the one with the smallest sort key comes first; build-support uses the file name,
//! which starts with the creation date and time, so the order is chronological wherever the
//! graph leaves a choice. Revisions on a cycle (and what grows from them) come last, by key.
//! Building the order costs O(N log N).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use crate::id::{RESERVED_CHARS, RESERVED_WORDS};

/// A node id: an index into the graph.
pub type NodeId = usize;

/// One revision as the graph builder receives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revision {
    /// The revision id.
    pub rev: String,
    /// The ids of its parents, in declaration order.
    pub parents: Vec<String>,
    /// The revisions or branch labels it depends on, in declaration order.
    pub depends_on: Vec<String>,
    /// The branch labels it declares.
    pub labels: Vec<String>,
    /// The sort key that breaks ties in the linear order.
    pub key: String,
}

impl Revision {
    /// A revision with its parents, sorted by `key` where the graph leaves a choice.
    pub fn new(rev: impl Into<String>, parents: &[&str], key: impl Into<String>) -> Self {
        Revision {
            rev: rev.into(),
            parents: parents.iter().map(|p| (*p).to_owned()).collect(),
            depends_on: Vec::new(),
            labels: Vec::new(),
            key: key.into(),
        }
    }

    /// The same revision, depending on these revisions or labels.
    pub fn depending_on(mut self, names: &[&str]) -> Self {
        self.depends_on = names.iter().map(|n| (*n).to_owned()).collect();
        self
    }

    /// The same revision, declaring these branch labels.
    pub fn labelled(mut self, labels: &[&str]) -> Self {
        self.labels = labels.iter().map(|l| (*l).to_owned()).collect();
        self
    }
}

/// A revision of an embedded chain, as [`Graph::from_chain`] reads it.
#[derive(Clone, Copy, Debug, Default)]
pub struct ChainEntry<'a> {
    /// The revision id.
    pub rev: &'a str,
    /// The parents' ids.
    pub parents: &'a [&'a str],
    /// The revisions or labels it depends on.
    pub depends_on: &'a [&'a str],
    /// The labels it declares.
    pub labels: &'a [&'a str],
}

impl<'a> ChainEntry<'a> {
    /// A revision with only parents.
    pub fn new(rev: &'a str, parents: &'a [&'a str]) -> Self {
        ChainEntry { rev, parents, depends_on: &[], labels: &[] }
    }
}

/// Why a branch label cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Clash {
    /// It is the id of this input's revision.
    Revision(usize),
    /// It is the start of the id of this input's revision, so it reads as a prefix of it.
    Prefix(usize),
    /// It is a word of the target grammar (`head`, `heads`, `base`, `current`).
    Reserved,
    /// It is empty, or holds whitespace or a character of the target grammar.
    Character(char),
}

/// One edge of a cycle: how a member names the next one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edge {
    /// Through this position of its `down_revision`.
    Parent(usize),
    /// Through this position of its `depends_on`.
    DependsOn(usize),
}

/// A defect found while building a graph. Indices are positions in the builder's input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// Input `again` has the same id as the earlier input `first`, which the graph keeps.
    Duplicate {
        /// The input the graph keeps.
        first: usize,
        /// The input left out.
        again: usize,
    },
    /// Input `child` names a parent no input has.
    UnknownParent {
        /// The input naming the parent.
        child: usize,
        /// The position of the parent in the child's parent list.
        position: usize,
    },
    /// These inputs form a cycle: each one's parent is the next, the last one's is the first.
    Cycle {
        /// The inputs on the cycle, in parent order.
        members: Vec<usize>,
    },
    /// These inputs form a cycle through at least one dependency: each one names the next as a
    /// parent or a dependency (`via`, one edge per member), the last one names the first.
    DependencyCycle {
        /// The inputs on the cycle, in order.
        members: Vec<usize>,
        /// How each member names the next one.
        via: Vec<Edge>,
    },
    /// Input `child` depends on a name that is neither a revision nor a branch label.
    UnknownDependency {
        /// The input naming it.
        child: usize,
        /// Its position in the input's `depends_on`.
        position: usize,
    },
    /// Input `again` declares a label the earlier input `first` declares (the same input, for
    /// a label listed twice).
    DuplicateLabel {
        /// The input that keeps the label.
        first: usize,
        /// The input declaring it again.
        again: usize,
        /// The label's position in `again`'s labels.
        position: usize,
    },
    /// A label of input `input` could be read as something else.
    LabelClash {
        /// The input declaring the label.
        input: usize,
        /// The label's position in its labels.
        position: usize,
        /// What it clashes with.
        clash: Clash,
    },
}

/// A checked revision graph with its linear order.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    revs: Vec<String>,
    parents: Vec<Vec<NodeId>>,
    depends: Vec<Vec<NodeId>>,
    children: Vec<Vec<NodeId>>,
    dependants: Vec<Vec<NodeId>>,
    index: BTreeMap<String, NodeId>,
    labels: BTreeMap<String, NodeId>,
    labels_of: Vec<Vec<String>>,
    order: Vec<NodeId>,
    position: Vec<usize>,
    input: Vec<NodeId>,
}

impl Graph {
    /// Builds the graph of `revisions`, returning it with every problem found.
    ///
    /// Node ids are assigned in input order to the inputs the graph keeps (the first of
    /// duplicates); edges to unknown parents or dependencies, edges closing a cycle, and
    /// labels that clash or repeat are left out.
    pub fn build(revisions: &[Revision]) -> (Graph, Vec<Problem>) {
        let mut problems = Vec::new();
        let mut graph = Graph::default();
        let mut keys: Vec<&str> = Vec::new();
        let mut kept_inputs = Vec::new();
        for (i, revision) in revisions.iter().enumerate() {
            if let Some(&first) = graph.index.get(&revision.rev) {
                problems.push(Problem::Duplicate { first: kept_inputs[first], again: i });
                continue;
            }
            let id = graph.revs.len();
            graph.index.insert(revision.rev.clone(), id);
            graph.revs.push(revision.rev.clone());
            keys.push(&revision.key);
            kept_inputs.push(i);
        }
        let n = graph.revs.len();
        graph.input = kept_inputs.clone();
        graph.labels_of = vec![Vec::new(); n];
        for (id, &i) in kept_inputs.iter().enumerate() {
            for (position, label) in revisions[i].labels.iter().enumerate() {
                if let Some(clash) = graph.clash(label) {
                    let clash = match clash {
                        Clash::Revision(node) => Clash::Revision(kept_inputs[node]),
                        Clash::Prefix(node) => Clash::Prefix(kept_inputs[node]),
                        other => other,
                    };
                    problems.push(Problem::LabelClash { input: i, position, clash });
                } else if let Some(&first) = graph.labels.get(label) {
                    problems.push(Problem::DuplicateLabel { first: kept_inputs[first], again: i, position });
                } else {
                    graph.labels.insert(label.clone(), id);
                    graph.labels_of[id].push(label.clone());
                }
            }
        }
        graph.parents = vec![Vec::new(); n];
        graph.depends = vec![Vec::new(); n];
        graph.children = vec![Vec::new(); n];
        graph.dependants = vec![Vec::new(); n];
        for (id, &i) in kept_inputs.iter().enumerate() {
            for (position, parent) in revisions[i].parents.iter().enumerate() {
                match graph.index.get(parent) {
                    Some(&p) if !graph.parents[id].contains(&p) => graph.parents[id].push(p),
                    Some(_) => {}
                    None => problems.push(Problem::UnknownParent { child: i, position }),
                }
            }
            for (position, name) in revisions[i].depends_on.iter().enumerate() {
                match graph.named(name) {
                    Some(d) if !graph.parents[id].contains(&d) && !graph.depends[id].contains(&d) => {
                        graph.depends[id].push(d);
                    }
                    Some(_) => {}
                    None => problems.push(Problem::UnknownDependency { child: i, position }),
                }
            }
        }

        // Cycles: strongly connected components of more than one node, or with a self-edge.
        let mut on_cycle = vec![false; n];
        for component in graph.strongly_connected() {
            let first = component[0];
            let cyclic = component.len() > 1 || graph.requires(first).contains(&first);
            if !cyclic {
                continue;
            }
            for &node in &component {
                on_cycle[node] = true;
            }
            let members = graph.cycle_through(&component, &keys);
            let via: Vec<Edge> = members
                .iter()
                .enumerate()
                .map(|(k, &member)| {
                    let next = members[(k + 1) % members.len()];
                    graph.edge(&revisions[kept_inputs[member]], next)
                })
                .collect();
            let inputs = members.iter().map(|&m| kept_inputs[m]).collect();
            if via.iter().all(|e| matches!(e, Edge::Parent(_))) {
                problems.push(Problem::Cycle { members: inputs });
            } else {
                problems.push(Problem::DependencyCycle { members: inputs, via });
            }
        }
        // Edges inside a cycle are dropped so the graph stays acyclic for every later query.
        for id in 0..n {
            if on_cycle[id] {
                graph.parents[id].retain(|&p| !on_cycle[p]);
                graph.depends[id].retain(|&p| !on_cycle[p]);
            }
        }
        for id in 0..n {
            for p in graph.parents[id].clone() {
                graph.children[p].push(id);
            }
            for d in graph.depends[id].clone() {
                graph.dependants[d].push(id);
            }
        }
        graph.linearize(&keys, &on_cycle);
        (graph, problems)
    }

    /// Why `label` cannot be a branch label of this graph, if it cannot.
    fn clash(&self, label: &str) -> Option<Clash> {
        if let Some(c) = label.chars().find(|&c| c.is_whitespace() || RESERVED_CHARS.contains(&c)) {
            return Some(Clash::Character(c));
        }
        if label.is_empty() {
            return Some(Clash::Character(' '));
        }
        if RESERVED_WORDS.contains(&label) {
            return Some(Clash::Reserved);
        }
        if let Some(&node) = self.index.get(label) {
            return Some(Clash::Revision(node));
        }
        if label.len() >= crate::target::MIN_PREFIX
            && let Some((_, &node)) = self.ids_from(label).next()
        {
            return Some(Clash::Prefix(node));
        }
        None
    }

    /// The node a `depends_on` name stands for: a revision id, else a branch label.
    fn named(&self, name: &str) -> Option<NodeId> {
        self.index.get(name).or_else(|| self.labels.get(name)).copied()
    }

    /// How `revision` names `next`: the first parent or dependency naming it.
    fn edge(&self, revision: &Revision, next: NodeId) -> Edge {
        let rev = self.rev(next);
        if let Some(position) = revision.parents.iter().position(|p| p == rev) {
            return Edge::Parent(position);
        }
        let position = revision.depends_on.iter().position(|d| self.named(d) == Some(next)).unwrap_or(0);
        Edge::DependsOn(position)
    }

    /// Builds a graph from revisions known to be sound, such as an embedded chain already
    /// checked at build time; the input order is the tie-break.
    pub fn from_chain<'a>(revisions: impl IntoIterator<Item = ChainEntry<'a>>) -> (Graph, Vec<Problem>) {
        let revisions: Vec<Revision> = revisions
            .into_iter()
            .enumerate()
            .map(|(i, entry)| {
                Revision::new(entry.rev, entry.parents, format!("{i:010}"))
                    .depending_on(entry.depends_on)
                    .labelled(entry.labels)
            })
            .collect();
        Graph::build(&revisions)
    }

    fn linearize(&mut self, keys: &[&str], on_cycle: &[bool]) {
        let n = self.revs.len();
        let mut pending: Vec<usize> =
            (0..n).map(|id| self.parents[id].len() + self.depends[id].len()).collect();
        let mut ready: BinaryHeap<Reverse<(&str, NodeId)>> = (0..n)
            .filter(|&id| pending[id] == 0 && !on_cycle[id])
            .map(|id| Reverse((keys[id], id)))
            .collect();
        let mut placed = vec![false; n];
        while let Some(Reverse((_, id))) = ready.pop() {
            placed[id] = true;
            self.order.push(id);
            for &child in self.children[id].iter().chain(&self.dependants[id]) {
                pending[child] -= 1;
                if pending[child] == 0 && !on_cycle[child] {
                    ready.push(Reverse((keys[child], child)));
                }
            }
        }
        let mut rest: Vec<NodeId> = (0..n).filter(|&id| !placed[id]).collect();
        rest.sort_by_key(|&id| (keys[id], id));
        self.order.extend(rest);
        self.position = vec![0; n];
        for (i, &id) in self.order.iter().enumerate() {
            self.position[id] = i;
        }
    }

    /// Tarjan's algorithm, iteratively, over child -> parent and dependant -> dependency edges.
    fn strongly_connected(&self) -> Vec<Vec<NodeId>> {
        let n = self.revs.len();
        let mut index = vec![usize::MAX; n];
        let mut low = vec![0; n];
        let mut on_stack = vec![false; n];
        let mut stack = Vec::new();
        let mut components = Vec::new();
        let mut next = 0;
        for root in 0..n {
            if index[root] != usize::MAX {
                continue;
            }
            let mut work = vec![(root, 0usize)];
            while let Some(&mut (node, ref mut edge)) = work.last_mut() {
                if *edge == 0 && index[node] == usize::MAX {
                    index[node] = next;
                    low[node] = next;
                    next += 1;
                    stack.push(node);
                    on_stack[node] = true;
                }
                let (parents, depends) = (&self.parents[node], &self.depends[node]);
                let next = parents.get(*edge).or_else(|| depends.get(*edge - parents.len()));
                if let Some(&parent) = next {
                    *edge += 1;
                    if index[parent] == usize::MAX {
                        work.push((parent, 0));
                    } else if on_stack[parent] {
                        low[node] = low[node].min(index[parent]);
                    }
                    continue;
                }
                work.pop();
                if let Some(&(caller, _)) = work.last() {
                    low[caller] = low[caller].min(low[node]);
                }
                if low[node] == index[node] {
                    let mut component = Vec::new();
                    while let Some(member) = stack.pop() {
                        on_stack[member] = false;
                        component.push(member);
                        if member == node {
                            break;
                        }
                    }
                    components.push(component);
                }
            }
        }
        components
    }

    /// One cycle inside a strongly connected component, starting at its smallest key and
    /// following parents, then dependencies.
    fn cycle_through(&self, component: &[NodeId], keys: &[&str]) -> Vec<NodeId> {
        let mut inside = vec![false; self.revs.len()];
        for &n in component {
            inside[n] = true;
        }
        let Some(&start) = component.iter().min_by_key(|&&n| (keys[n], n)) else {
            return Vec::new();
        };
        let mut path = vec![start];
        let mut seen_at = BTreeMap::from([(start, 0)]);
        let mut node = start;
        loop {
            let Some(&parent) = self.parents[node].iter().chain(&self.depends[node]).find(|&&p| inside[p])
            else {
                return path;
            };
            if let Some(&at) = seen_at.get(&parent) {
                return path.split_off(at);
            }
            seen_at.insert(parent, path.len());
            path.push(parent);
            node = parent;
        }
    }

    /// The number of revisions in the graph.
    pub fn len(&self) -> usize {
        self.revs.len()
    }

    /// Whether the graph has no revision.
    pub fn is_empty(&self) -> bool {
        self.revs.is_empty()
    }

    /// The id of node `id`.
    pub fn rev(&self, id: NodeId) -> &str {
        &self.revs[id]
    }

    /// The node of revision `rev`, by exact id.
    pub fn node(&self, rev: &str) -> Option<NodeId> {
        self.index.get(rev).copied()
    }

    /// The builder input node `id` came from.
    pub fn input_of(&self, id: NodeId) -> usize {
        self.input[id]
    }

    /// The parents of node `id` that the graph kept.
    pub fn parents(&self, id: NodeId) -> &[NodeId] {
        &self.parents[id]
    }

    /// The dependencies of node `id` that the graph kept (labels resolved).
    pub fn depends(&self, id: NodeId) -> &[NodeId] {
        &self.depends[id]
    }

    /// The revisions depending on node `id`.
    pub fn dependants(&self, id: NodeId) -> &[NodeId] {
        &self.dependants[id]
    }

    /// What node `id` needs applied before it: its parents, then its dependencies.
    pub fn requires(&self, id: NodeId) -> Vec<NodeId> {
        self.parents[id].iter().chain(&self.depends[id]).copied().collect()
    }

    /// The children of node `id`, in linear order.
    pub fn children(&self, id: NodeId) -> Vec<NodeId> {
        let mut children = self.children[id].clone();
        children.sort_by_key(|&c| self.position[c]);
        children
    }

    /// Every node in linear order: parents before children.
    pub fn linear(&self) -> &[NodeId] {
        &self.order
    }

    /// The position of node `id` in the linear order.
    pub fn position(&self, id: NodeId) -> usize {
        self.position[id]
    }

    /// The heads: the revisions nothing grows from and nothing depends on, in linear order.
    /// These are the version rows of a database at every head.
    pub fn heads(&self) -> Vec<NodeId> {
        self.order
            .iter()
            .copied()
            .filter(|&id| self.children[id].is_empty() && self.dependants[id].is_empty())
            .collect()
    }

    /// The effective heads: revisions nothing grows from but some revision depends on, in
    /// linear order. The row of a dependant stands for them.
    pub fn effective_heads(&self) -> Vec<NodeId> {
        self.order
            .iter()
            .copied()
            .filter(|&id| self.children[id].is_empty() && !self.dependants[id].is_empty())
            .collect()
    }

    /// The revisions without parents, in linear order.
    pub fn bases(&self) -> Vec<NodeId> {
        self.order.iter().copied().filter(|&id| self.parents[id].is_empty()).collect()
    }

    /// The revision declaring branch label `label`.
    pub fn label(&self, label: &str) -> Option<NodeId> {
        self.labels.get(label).copied()
    }

    /// The branch labels node `id` declares.
    pub fn labels_of(&self, id: NodeId) -> &[String] {
        &self.labels_of[id]
    }

    /// Marks `from` and every ancestor of a node in `from`, through parents and dependencies:
    /// what must be applied for `from` to be.
    pub fn ancestors(&self, from: &[NodeId]) -> Vec<bool> {
        self.reach(from, |id| self.parents[id].iter().chain(&self.depends[id]))
    }

    /// Marks `from` and every descendant of a node in `from`, through children and
    /// dependants: what must be reverted for `from` to be.
    pub fn descendants(&self, from: &[NodeId]) -> Vec<bool> {
        self.reach(from, |id| self.children[id].iter().chain(&self.dependants[id]))
    }

    /// Marks the branch of node `id`: it, its ancestors through parents and its descendants
    /// through children. Dependencies link branches; they do not make them one.
    pub fn lineage(&self, id: NodeId) -> Vec<bool> {
        let below = self.reach(&[id], |n| self.parents[n].iter());
        let above = self.reach(&[id], |n| self.children[n].iter());
        below.iter().zip(&above).map(|(b, a)| *b || *a).collect()
    }

    /// Where the branch of node `id` starts: going down from `id` while the line neither
    /// forks nor merges, the lowest revision reached (a base, or the child of a branch point).
    /// `downgrade label@base` reverts from there.
    pub fn branch_root(&self, id: NodeId) -> NodeId {
        let mut at = id;
        while let [parent] = self.parents[at].as_slice()
            && self.children[*parent].len() == 1
        {
            at = *parent;
        }
        at
    }

    fn reach<'a, I: Iterator<Item = &'a NodeId>>(
        &'a self,
        from: &[NodeId],
        edges: impl Fn(NodeId) -> I,
    ) -> Vec<bool> {
        let mut seen = vec![false; self.revs.len()];
        let mut todo: Vec<NodeId> = from.to_vec();
        while let Some(id) = todo.pop() {
            if !std::mem::replace(&mut seen[id], true) {
                todo.extend(edges(id).copied().filter(|&n| !seen[n]));
            }
        }
        seen
    }

    /// The revisions to apply, in order, to go from the applied heads `current` up to
    /// `target` (empty for base): every ancestor of the target, dependencies included, that
    /// is not already below a current head. Merges are walked through: all their parents'
    /// lines are included.
    pub fn upgrade_path(&self, current: &[NodeId], target: &[NodeId]) -> Vec<NodeId> {
        let needed = self.ancestors(target);
        let applied = self.ancestors(current);
        self.order.iter().copied().filter(|&id| needed[id] && !applied[id]).collect()
    }

    /// The revisions to revert, in order, to go from the applied heads `current` down to
    /// `target` (empty for base): every applied revision that descends from a target
    /// revision, dependants included, newest first. Lines that do not grow from the target
    /// are left alone, and a merge is undone before any of its parents' lines.
    pub fn downgrade_path(&self, current: &[NodeId], target: &[NodeId]) -> Vec<NodeId> {
        let applied = self.ancestors(current);
        let keep = self.ancestors(target);
        let remove: Vec<bool> = if target.is_empty() {
            applied.clone()
        } else {
            let below = self.descendants(target);
            (0..self.revs.len()).map(|id| applied[id] && below[id] && !keep[id]).collect()
        };
        self.order.iter().rev().copied().filter(|&id| remove[id]).collect()
    }

    /// The revisions to revert, newest first, to take away `roots` and what grows from them
    /// (dependants included) from the applied heads `current`, keeping `keep` and its
    /// ancestors: a downgrade restricted to one branch.
    pub fn remove_path(&self, current: &[NodeId], roots: &[NodeId], keep: &[NodeId]) -> Vec<NodeId> {
        let applied = self.ancestors(current);
        let kept = self.ancestors(keep);
        let below = self.descendants(roots);
        self.order.iter().rev().copied().filter(|&id| applied[id] && below[id] && !kept[id]).collect()
    }

    /// The applied heads once `path` is applied (`upgrade`) or reverted from `current`.
    pub fn heads_after(&self, current: &[NodeId], path: &[NodeId], upgrade: bool) -> Vec<NodeId> {
        let mut present = self.ancestors(current);
        for &id in path {
            present[id] = upgrade;
        }
        let mut heads: Vec<NodeId> = (0..self.revs.len())
            .filter(|&id| {
                present[id] && self.children[id].iter().chain(&self.dependants[id]).all(|&c| !present[c])
            })
            .collect();
        heads.sort_by_key(|&id| self.position[id]);
        heads
    }

    /// The ids of `nodes`, in the order given.
    pub fn revs_of(&self, nodes: &[NodeId]) -> Vec<&str> {
        nodes.iter().map(|&id| self.rev(id)).collect()
    }

    /// Every id, for lookups by prefix.
    pub(crate) fn ids_from<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a String, &'a NodeId)> + 'a {
        self.index
            .range::<str, _>((std::ops::Bound::Included(prefix), std::ops::Bound::Unbounded))
            .take_while(move |(rev, _)| rev.starts_with(prefix))
    }

    /// Every id, in id order.
    pub(crate) fn all_ids(&self) -> impl Iterator<Item = &String> {
        self.index.keys()
    }

    /// Every branch label, in label order, with the revision declaring it.
    pub fn labels(&self) -> impl Iterator<Item = (&str, NodeId)> {
        self.labels.iter().map(|(label, &node)| (label.as_str(), node))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Revisions with their parents.
    type Spec = &'static [(&'static str, &'static [&'static str])];

    fn build(spec: &[(&str, &[&str])]) -> (Graph, Vec<Problem>) {
        let revisions: Vec<Revision> = spec
            .iter()
            .enumerate()
            .map(|(i, (rev, parents))| Revision::new(*rev, parents, format!("{i:03}")))
            .collect();
        Graph::build(&revisions)
    }

    fn revs(graph: &Graph, nodes: &[NodeId]) -> Vec<String> {
        nodes.iter().map(|&n| graph.rev(n).to_owned()).collect()
    }

    fn ids(graph: &Graph, names: &[&str]) -> Vec<NodeId> {
        names.iter().map(|n| graph.node(n).expect("known revision")).collect()
    }

    /// a - b - c - d: a line.
    const LINE: Spec = &[("a", &[]), ("b", &["a"]), ("c", &["b"]), ("d", &["c"])];

    /// a - b < c1 - c2 , d1 > m - n: a fork at b merged again at m.
    const DIAMOND: Spec = &[
        ("a", &[]),
        ("b", &["a"]),
        ("c1", &["b"]),
        ("d1", &["b"]),
        ("c2", &["c1"]),
        ("m", &["c2", "d1"]),
        ("n", &["m"]),
    ];

    #[test]
    fn heads_bases_and_order() {
        /// A graph, its heads, its bases and its linear order.
        type Case = (Spec, &'static [&'static str], &'static [&'static str], &'static [&'static str]);
        let cases: &[Case] = &[
            (LINE, &["d"], &["a"], &["a", "b", "c", "d"]),
            (DIAMOND, &["n"], &["a"], &["a", "b", "c1", "d1", "c2", "m", "n"]),
            (&[("a", &[]), ("b", &["a"]), ("c", &["a"])], &["b", "c"], &["a"], &["a", "b", "c"]),
            (&[("x", &[]), ("y", &[])], &["x", "y"], &["x", "y"], &["x", "y"]),
            (
                // listed child-first: the order still puts parents first
                &[("c", &["b"]), ("b", &["a"]), ("a", &[])],
                &["c"],
                &["a"],
                &["a", "b", "c"],
            ),
            (&[], &[], &[], &[]),
        ];
        for (spec, heads, bases, order) in cases {
            let (graph, problems) = build(spec);
            assert!(problems.is_empty(), "{spec:?}: {problems:?}");
            assert_eq!(revs(&graph, &graph.heads()), *heads, "heads of {spec:?}");
            assert_eq!(revs(&graph, &graph.bases()), *bases, "bases of {spec:?}");
            assert_eq!(revs(&graph, graph.linear()), *order, "order of {spec:?}");
        }
    }

    #[test]
    fn the_sort_key_breaks_ties_chronologically() {
        let revisions = [
            Revision::new("a", &[], "20240101_0000"),
            Revision::new("late", &["a"], "20240301_0000"),
            Revision::new("early", &["a"], "20240201_0000"),
            Revision::new("m", &["late", "early"], "20240401_0000"),
        ];
        let (graph, problems) = Graph::build(&revisions);
        assert!(problems.is_empty());
        assert_eq!(revs(&graph, graph.linear()), ["a", "early", "late", "m"]);
    }

    #[test]
    fn problems_are_all_reported() {
        let (graph, problems) = build(&[("a", &[]), ("b", &["a"]), ("b", &["a"]), ("c", &["b", "zz"])]);
        assert_eq!(
            problems,
            [Problem::Duplicate { first: 1, again: 2 }, Problem::UnknownParent { child: 3, position: 1 }]
        );
        assert_eq!(graph.len(), 3);
        assert_eq!(graph.input_of(2), 3);
        assert_eq!(revs(&graph, graph.parents(2)), ["b"]);
    }

    #[test]
    fn cycles_name_only_their_members() {
        // a - b, then c -> d -> e -> c is a loop hanging off b, and f grows from e.
        let (graph, problems) = build(&[
            ("a", &[]),
            ("b", &["a"]),
            ("c", &["e", "b"]),
            ("d", &["c"]),
            ("e", &["d"]),
            ("f", &["e"]),
        ]);
        assert_eq!(problems, [Problem::Cycle { members: vec![2, 4, 3] }]);
        // The graph stays usable: every node is still in the order.
        assert_eq!(graph.linear().len(), 6);

        let (_, self_loop) = build(&[("a", &[]), ("b", &["b"])]);
        assert_eq!(self_loop, [Problem::Cycle { members: vec![1] }]);
    }

    #[test]
    fn upgrade_paths_walk_through_merges() {
        let (graph, _) = build(DIAMOND);
        let cases: &[(&[&str], &[&str], &[&str])] = &[
            (&[], &["n"], &["a", "b", "c1", "d1", "c2", "m", "n"]),
            (&["b"], &["n"], &["c1", "d1", "c2", "m", "n"]),
            (&["c2"], &["m"], &["d1", "m"]),
            (&["c2", "d1"], &["n"], &["m", "n"]),
            (&["n"], &["n"], &[]),
            (&["n"], &["b"], &[]),
            (&[], &["d1"], &["a", "b", "d1"]),
            (&["d1"], &["c1"], &["c1"]),
        ];
        for (current, target, path) in cases {
            let got = graph.upgrade_path(&ids(&graph, current), &ids(&graph, target));
            assert_eq!(revs(&graph, &got), *path, "{current:?} -> {target:?}");
        }
    }

    #[test]
    fn downgrade_paths_walk_through_merges() {
        let (graph, _) = build(DIAMOND);
        let cases: &[(&[&str], &[&str], &[&str])] = &[
            (&["n"], &[], &["n", "m", "c2", "d1", "c1", "b", "a"]),
            (&["n"], &["b"], &["n", "m", "c2", "d1", "c1"]),
            (&["n"], &["c2"], &["n", "m"]),
            (&["n"], &["n"], &[]),
            // two arms applied: going down to c1 leaves the other arm alone
            (&["c2", "d1"], &["c1"], &["c2"]),
            (&["c2", "d1"], &["b"], &["c2", "d1", "c1"]),
        ];
        for (current, target, path) in cases {
            let got = graph.downgrade_path(&ids(&graph, current), &ids(&graph, target));
            assert_eq!(revs(&graph, &got), *path, "{current:?} -> {target:?}");
        }
    }

    #[test]
    fn heads_after_a_path() {
        let (graph, _) = build(DIAMOND);
        let up = graph.upgrade_path(&ids(&graph, &["b"]), &ids(&graph, &["c2"]));
        assert_eq!(revs(&graph, &graph.heads_after(&ids(&graph, &["b"]), &up, true)), ["c2"]);
        let down = graph.downgrade_path(&ids(&graph, &["n"]), &ids(&graph, &["c2"]));
        let after = graph.heads_after(&ids(&graph, &["n"]), &down, false);
        assert_eq!(revs(&graph, &after), ["d1", "c2"]);
    }

    /// Two trees: a - b - c, and the labelled `net` line n1 - n2 where n2 depends on b; and
    /// `lib` (k), a third base that n1 depends on through its label.
    fn forest() -> Graph {
        let (graph, problems) = Graph::build(&[
            Revision::new("a", &[], "1"),
            Revision::new("b", &["a"], "2"),
            Revision::new("k", &[], "3").labelled(&["lib"]),
            Revision::new("n1", &[], "4").labelled(&["net"]).depending_on(&["lib"]),
            Revision::new("n2", &["n1"], "5").depending_on(&["b"]),
            Revision::new("c", &["b"], "6"),
        ]);
        assert!(problems.is_empty(), "{problems:?}");
        graph
    }

    #[test]
    fn dependencies_order_and_hide_effective_heads() {
        let graph = forest();
        assert_eq!(revs(&graph, graph.linear()), ["a", "b", "k", "n1", "n2", "c"]);
        // k is a head nothing grows from, but n1 depends on it: an effective head.
        assert_eq!(revs(&graph, &graph.heads()), ["n2", "c"]);
        assert_eq!(revs(&graph, &graph.effective_heads()), ["k"]);
        assert_eq!(revs(&graph, &graph.bases()), ["a", "k", "n1"]);
        assert_eq!(graph.label("net"), graph.node("n1"));
        assert_eq!(revs(&graph, graph.depends(graph.node("n1").expect("known"))), ["k"]);
        // Upgrading the net line pulls in what it depends on, and nothing of c.
        let up = graph.upgrade_path(&[], &ids(&graph, &["n2"]));
        assert_eq!(revs(&graph, &up), ["a", "b", "k", "n1", "n2"]);
        // Reverting b reverts what depends on it, in the other tree too.
        let down = graph.downgrade_path(&ids(&graph, &["n2", "c"]), &ids(&graph, &["a"]));
        assert_eq!(revs(&graph, &down), ["c", "n2", "b"]);
        let lineage = graph.lineage(graph.node("n2").expect("known"));
        let on: Vec<&str> = (0..graph.len()).filter(|&n| lineage[n]).map(|n| graph.rev(n)).collect();
        assert_eq!(on, ["n1", "n2"]);
    }

    #[test]
    fn a_dependants_row_stands_for_its_dependency() {
        let graph = forest();
        let step = |rows: &[&str], rev: &str, upgrade: bool| {
            let (_, after) = graph.row_changes(&ids(&graph, rows), ids(&graph, &[rev])[0], upgrade);
            revs(&graph, &after)
        };
        // n1's parents are none, its dependency k is a row: k's row becomes n1's.
        assert_eq!(step(&["k"], "n1", true), ["n1"]);
        assert_eq!(step(&["b", "n1"], "n2", true), ["n2"]);
        // c grows from b, which only n2's row implies: a new row.
        assert_eq!(step(&["n2"], "c", true), ["n2", "c"]);
        // Reverting n2 brings back the rows of its parent and its dependency.
        assert_eq!(step(&["n2"], "n2", false), ["b", "n1"]);
        // With c still applied, b stays implied by c: only n1 comes back.
        assert_eq!(step(&["n2", "c"], "n2", false), ["n1", "c"]);
        assert_eq!(step(&["n1"], "n1", false), ["k"]);
        assert_eq!(
            revs(&graph, &graph.heads_after(&ids(&graph, &["n2", "c"]), &ids(&graph, &["n2"]), false)),
            ["n1", "c"]
        );
    }

    #[test]
    fn label_and_dependency_problems() {
        let (_, problems) = Graph::build(&[
            Revision::new("a1b2c3d4e5f6", &[], "1").labelled(&["core", "core"]),
            Revision::new("b2", &["a1b2c3d4e5f6"], "2").labelled(&[
                "core",
                "a1b2c3d4e5f6",
                "a1b2",
                "head",
                "x-y",
                "",
            ]),
            Revision::new("c3", &["b2"], "3").depending_on(&["nothing", "core"]),
        ]);
        assert_eq!(
            problems,
            [
                Problem::DuplicateLabel { first: 0, again: 0, position: 1 },
                Problem::DuplicateLabel { first: 0, again: 1, position: 0 },
                Problem::LabelClash { input: 1, position: 1, clash: Clash::Revision(0) },
                Problem::LabelClash { input: 1, position: 2, clash: Clash::Prefix(0) },
                Problem::LabelClash { input: 1, position: 3, clash: Clash::Reserved },
                Problem::LabelClash { input: 1, position: 4, clash: Clash::Character('-') },
                Problem::LabelClash { input: 1, position: 5, clash: Clash::Character(' ') },
                Problem::UnknownDependency { child: 2, position: 0 },
            ]
        );
    }

    #[test]
    fn cycles_through_dependencies_are_named_with_their_edges() {
        // a - b - c, and a depends on c: a cycle closed by a dependency.
        let (graph, problems) = Graph::build(&[
            Revision::new("a", &[], "1").depending_on(&["c"]),
            Revision::new("b", &["a"], "2"),
            Revision::new("c", &["b"], "3"),
            Revision::new("d", &[], "4").depending_on(&["d"]),
        ]);
        assert_eq!(
            problems,
            [
                Problem::DependencyCycle {
                    members: vec![0, 2, 1],
                    via: vec![Edge::DependsOn(0), Edge::Parent(0), Edge::Parent(0)],
                },
                Problem::DependencyCycle { members: vec![3], via: vec![Edge::DependsOn(0)] },
            ]
        );
        assert_eq!(graph.linear().len(), 4);
    }

    #[test]
    fn long_lines_do_not_overflow_the_stack() {
        // A 100,000-revision line: the iterative algorithms must not overflow the stack.
        let revisions: Vec<Revision> = (0..100_000)
            .map(|i| Revision {
                rev: format!("{i:012x}"),
                parents: if i == 0 { vec![] } else { vec![format!("{:012x}", i - 1)] },
                depends_on: Vec::new(),
                labels: Vec::new(),
                key: format!("{i:012}"),
            })
            .collect();
        let (graph, problems) = Graph::build(&revisions);
        assert!(problems.is_empty());
        assert_eq!(graph.heads().len(), 1);
        assert_eq!(graph.linear().first(), Some(&0));
    }
}
