//! The revision graph: parents, heads, bases, cycles, the linear order, and paths.
//!
//! A revision names its parents (`down_revision`): none for a base, one for a step, two or
//! more for a merge. Building a graph never fails: duplicate ids, unknown parents and cycles
//! are returned as [`Problem`]s next to a graph that leaves the faulty edges out, so that every
//! problem of a folder can be reported in one build.
//!
//! **Linear order.** Parents come before children. Among the revisions whose parents are all
//! placed, the one with the smallest sort key comes first; build-support uses the file name,
//! which starts with the creation date and time, so the order is chronological wherever the
//! graph leaves a choice. Revisions on a cycle (and what grows from them) come last, by key.
//! Building the order costs O(N log N).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

/// A node id: an index into the graph.
pub type NodeId = usize;

/// One revision as the graph builder receives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revision {
    /// The revision id.
    pub rev: String,
    /// The ids of its parents, in declaration order.
    pub parents: Vec<String>,
    /// The sort key that breaks ties in the linear order.
    pub key: String,
}

impl Revision {
    /// A revision with its parents, sorted by `key` where the graph leaves a choice.
    pub fn new(rev: impl Into<String>, parents: &[&str], key: impl Into<String>) -> Self {
        Revision {
            rev: rev.into(),
            parents: parents.iter().map(|p| (*p).to_owned()).collect(),
            key: key.into(),
        }
    }
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
}

/// A checked revision graph with its linear order.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    revs: Vec<String>,
    parents: Vec<Vec<NodeId>>,
    children: Vec<Vec<NodeId>>,
    index: BTreeMap<String, NodeId>,
    order: Vec<NodeId>,
    position: Vec<usize>,
    input: Vec<NodeId>,
}

impl Graph {
    /// Builds the graph of `revisions`, returning it with every problem found.
    ///
    /// Node ids are assigned in input order to the inputs the graph keeps (the first of
    /// duplicates); edges to unknown parents and edges closing a cycle are left out.
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
        graph.input = kept_inputs.clone();
        graph.parents = vec![Vec::new(); graph.revs.len()];
        graph.children = vec![Vec::new(); graph.revs.len()];
        for (id, &i) in kept_inputs.iter().enumerate() {
            for (position, parent) in revisions[i].parents.iter().enumerate() {
                match graph.index.get(parent) {
                    Some(&p) if !graph.parents[id].contains(&p) => graph.parents[id].push(p),
                    Some(_) => {}
                    None => problems.push(Problem::UnknownParent { child: i, position }),
                }
            }
        }

        // Cycles: strongly connected components of more than one node, or with a self-edge.
        let mut on_cycle = vec![false; graph.revs.len()];
        for component in graph.strongly_connected() {
            let cyclic = component.len() > 1 || graph.parents[component[0]].contains(&component[0]);
            if !cyclic {
                continue;
            }
            for &n in &component {
                on_cycle[n] = true;
            }
            let members = graph.cycle_through(&component, &keys);
            problems.push(Problem::Cycle { members: members.iter().map(|&n| kept_inputs[n]).collect() });
        }
        // Edges inside a cycle are dropped so the graph stays acyclic for every later query.
        for id in 0..graph.revs.len() {
            if on_cycle[id] {
                let parents = std::mem::take(&mut graph.parents[id]);
                graph.parents[id] = parents.into_iter().filter(|&p| !on_cycle[p]).collect();
            }
        }
        for id in 0..graph.revs.len() {
            for p in graph.parents[id].clone() {
                graph.children[p].push(id);
            }
        }
        graph.linearize(&keys, &on_cycle);
        (graph, problems)
    }

    /// Builds a graph from revisions known to be sound, such as an embedded chain already
    /// checked at build time; the input order is the tie-break.
    pub fn from_chain<'a>(
        revisions: impl IntoIterator<Item = (&'a str, &'a [&'a str])>,
    ) -> (Graph, Vec<Problem>) {
        let revisions: Vec<Revision> = revisions
            .into_iter()
            .enumerate()
            .map(|(i, (rev, parents))| Revision::new(rev, parents, format!("{i:010}")))
            .collect();
        Graph::build(&revisions)
    }

    fn linearize(&mut self, keys: &[&str], on_cycle: &[bool]) {
        let n = self.revs.len();
        let mut pending: Vec<usize> = self.parents.iter().map(Vec::len).collect();
        let mut ready: BinaryHeap<Reverse<(&str, NodeId)>> = (0..n)
            .filter(|&id| pending[id] == 0 && !on_cycle[id])
            .map(|id| Reverse((keys[id], id)))
            .collect();
        let mut placed = vec![false; n];
        while let Some(Reverse((_, id))) = ready.pop() {
            placed[id] = true;
            self.order.push(id);
            for &child in &self.children[id] {
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

    /// Tarjan's algorithm, iteratively, over child -> parent edges.
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
                if let Some(&parent) = self.parents[node].get(*edge) {
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
    /// following parents.
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
            let Some(&parent) = self.parents[node].iter().find(|&&p| inside[p]) else {
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

    /// The revisions nothing grows from, in linear order.
    pub fn heads(&self) -> Vec<NodeId> {
        self.order.iter().copied().filter(|&id| self.children[id].is_empty()).collect()
    }

    /// The revisions without parents, in linear order.
    pub fn bases(&self) -> Vec<NodeId> {
        self.order.iter().copied().filter(|&id| self.parents[id].is_empty()).collect()
    }

    /// Marks `from` and every ancestor of a node in `from`.
    pub fn ancestors(&self, from: &[NodeId]) -> Vec<bool> {
        self.reach(from, &self.parents)
    }

    /// Marks `from` and every descendant of a node in `from`.
    pub fn descendants(&self, from: &[NodeId]) -> Vec<bool> {
        self.reach(from, &self.children)
    }

    fn reach(&self, from: &[NodeId], edges: &[Vec<NodeId>]) -> Vec<bool> {
        let mut seen = vec![false; self.revs.len()];
        let mut todo: Vec<NodeId> = from.to_vec();
        while let Some(id) = todo.pop() {
            if !std::mem::replace(&mut seen[id], true) {
                todo.extend(edges[id].iter().copied().filter(|&n| !seen[n]));
            }
        }
        seen
    }

    /// The revisions to apply, in order, to go from the applied heads `current` up to
    /// `target` (empty for base): every ancestor of the target that is not already below a
    /// current head. Merges are walked through: all their parents' lines are included.
    pub fn upgrade_path(&self, current: &[NodeId], target: &[NodeId]) -> Vec<NodeId> {
        let needed = self.ancestors(target);
        let applied = self.ancestors(current);
        self.order.iter().copied().filter(|&id| needed[id] && !applied[id]).collect()
    }

    /// The revisions to revert, in order, to go from the applied heads `current` down to
    /// `target` (empty for base): every applied revision that descends from a target
    /// revision, newest first. Lines that do not grow from the target are left alone, and a
    /// merge is undone before any of its parents' lines.
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

    /// The applied heads once `path` is applied (`upgrade`) or reverted from `current`.
    pub fn heads_after(&self, current: &[NodeId], path: &[NodeId], upgrade: bool) -> Vec<NodeId> {
        let mut present = self.ancestors(current);
        for &id in path {
            present[id] = upgrade;
        }
        let mut heads: Vec<NodeId> = (0..self.revs.len())
            .filter(|&id| present[id] && self.children[id].iter().all(|&c| !present[c]))
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

    #[test]
    fn long_lines_do_not_overflow_the_stack() {
        // A 100,000-revision line: the iterative algorithms must not overflow the stack.
        let revisions: Vec<Revision> = (0..100_000)
            .map(|i| Revision {
                rev: format!("{i:012x}"),
                parents: if i == 0 { vec![] } else { vec![format!("{:012x}", i - 1)] },
                key: format!("{i:012}"),
            })
            .collect();
        let (graph, problems) = Graph::build(&revisions);
        assert!(problems.is_empty());
        assert_eq!(graph.heads().len(), 1);
        assert_eq!(graph.linear().first(), Some(&0));
    }
}
