//! The target grammar of `upgrade`, `downgrade`, `stamp` and friends, and its resolution
//! against a [`Graph`].
//!
//! | form | meaning |
//! |---|---|
//! | `head` | the single head (an error when there are several) |
//! | `heads` | every head |
//! | `base` | nothing applied |
//! | `3f2a9c1b7d4e` | that revision |
//! | `3f2a` | the one revision whose id starts with it (4 characters at least) |
//! | `billing` | the revision declaring branch label `billing` |
//! | `+N`, `-N` | N steps up or down from the database's current revision |
//! | `head-N`, `base+N` | N steps from the head or from base |
//! | `<rev>+N`, `<rev>-N` | N steps from a revision (or a label) |
//! | `billing@head`, `billing@heads` | the head (heads) of the branch `billing` |
//! | `billing@base` | nothing of the branch: `downgrade billing@base` reverts that branch alone, from where it forks ([`Graph::branch_root`]) |
//! | `billing@<rev>` | `<rev>`, which must be on the branch; `downgrade` then reverts that branch alone |
//! | `billing@+N`, `billing@-N` | N steps within the branch from the branch's current revision |
//! | `billing@head-N`, `billing@base+N`, `billing@<rev>±N` | N steps within the branch |
//!
//! Before `@`, a revision id or prefix stands for its branch as a label does: `3f2a@head` is
//! the head of the branch holding `3f2a`. A branch is a revision's lineage through
//! `down_revision`: its ancestors and its descendants.
//!
//! A step moves along one edge (within the branch, for `label@…`). Stepping up from a branch
//! point has no single answer and is an error naming the revisions to choose from, as is
//! going past the head or below base. The last step down from a merge goes to all its parents
//! (`downgrade -1` right after a merge reverts the merge); a further step from there has no
//! single answer.

use std::fmt;

use crate::graph::{Graph, NodeId};
use crate::text::{closest, list};

/// The shortest prefix that may stand for a revision id.
pub const MIN_PREFIX: usize = 4;

/// A parsed target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// `heads`: every head.
    Heads,
    /// A single point: `head`, `base` or a revision.
    Point(Anchor),
    /// N steps from an anchor: up for a positive count, down for a negative one.
    Relative {
        /// Where the steps start.
        from: Anchor,
        /// The signed number of steps, never zero.
        steps: i64,
    },
    /// `branch@target`: a target within one branch.
    Branch {
        /// The branch label, or a revision id or prefix standing for its branch.
        branch: String,
        /// The target within the branch: never itself a `Branch`.
        target: Box<Target>,
    },
}

/// Where a target points or where relative steps start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Anchor {
    /// The database's current revision (only for a bare `+N` / `-N`; within a branch, the
    /// branch's current revision).
    Current,
    /// `head`.
    Head,
    /// `base`.
    Base,
    /// A revision id, a prefix of one, or a branch label.
    Revision(String),
}

/// Which way a step goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Branching {
    /// Stepping up from a revision with several children.
    Fork,
    /// Stepping down from a merge revision.
    Merge,
}

/// Why a target does not name one place in the graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetError {
    /// The text is not in the grammar.
    Invalid {
        /// The target as given.
        target: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// No revision has this id or starts with this prefix, and no branch has this label.
    Unknown {
        /// The id or prefix as given.
        target: String,
        /// A known id or label one typo away, if any.
        closest: Option<String>,
    },
    /// Several revisions start with this prefix.
    AmbiguousPrefix {
        /// The prefix as given.
        target: String,
        /// The revisions starting with it.
        candidates: Vec<String>,
    },
    /// The prefix is shorter than [`MIN_PREFIX`] though revisions start with it.
    ShortPrefix {
        /// The prefix as given.
        target: String,
        /// The revisions starting with it.
        candidates: Vec<String>,
    },
    /// No branch label or revision has the name before `@`.
    UnknownBranch {
        /// The target as given.
        target: String,
        /// The name before `@`.
        branch: String,
        /// A known label one typo away, if any.
        closest: Option<String>,
    },
    /// The revision after `@` is not on the branch named before it.
    NotOnBranch {
        /// The target as given.
        target: String,
        /// The revision.
        rev: String,
        /// The branch, as named.
        branch: String,
    },
    /// The steps go past the head or below base.
    OutOfRange {
        /// The target as given.
        target: String,
        /// The revision the steps start from (`None`: base).
        from: Option<String>,
        /// Whether the steps go up (towards the heads).
        up: bool,
        /// The number of steps asked for.
        steps: u64,
        /// The number of steps the graph allows from there.
        available: u64,
    },
    /// A step meets a branch point (going up) or a merge (going down, before the last step).
    Branching {
        /// The target as given.
        target: String,
        /// Where the step is ambiguous (`None`: base, with several bases).
        at: Option<String>,
        /// Fork or merge.
        kind: Branching,
        /// The revisions the step could go to.
        choices: Vec<String>,
    },
    /// `head` with several heads.
    MultipleHeads {
        /// The target as given.
        target: String,
        /// The heads.
        heads: Vec<String>,
    },
    /// A revision or a branch named inside a longer target (`zzzz+1`, `audit@zzzz`) that
    /// names no one place: what is wrong with the name, quoted with the target as given.
    Within {
        /// The target as given.
        target: String,
        /// What is wrong with the name inside it.
        error: Box<TargetError>,
    },
    /// A step from the current revision while the database is at several heads.
    SeveralCurrent {
        /// The target as given.
        target: String,
        /// The database's current heads.
        current: Vec<String>,
    },
}

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetError::Invalid { target, reason } => {
                write!(f, "invalid target `{target}`: {reason}")
            }
            TargetError::Unknown { target, closest } => {
                if target.len() >= MIN_PREFIX {
                    write!(
                        f,
                        "unknown revision `{target}`: no revision has this id or starts with it, and no branch has this label"
                    )?;
                } else {
                    write!(
                        f,
                        "unknown revision `{target}`: no revision has this id and no branch has this label (a prefix needs at least {MIN_PREFIX} characters)"
                    )?;
                }
                match closest {
                    Some(c) => write!(f, "; did you mean `{c}`?"),
                    None => Ok(()),
                }
            }
            TargetError::AmbiguousPrefix { target, candidates } => write!(
                f,
                "ambiguous revision prefix `{target}`: {} revisions start with it ({}); type more characters",
                candidates.len(),
                list(candidates)
            ),
            TargetError::ShortPrefix { target, candidates } => match candidates.as_slice() {
                [one] => write!(
                    f,
                    "revision prefix `{target}` is too short: a prefix needs at least {MIN_PREFIX} characters; did you mean `{one}`?"
                ),
                many => write!(
                    f,
                    "revision prefix `{target}` is too short: a prefix needs at least {MIN_PREFIX} characters, and {} revisions start with it ({})",
                    many.len(),
                    list(many)
                ),
            },
            TargetError::UnknownBranch { target, branch, closest } => {
                write!(
                    f,
                    "unknown branch `{branch}` in `{target}`: no branch has this label and no revision this id or prefix"
                )?;
                match closest {
                    Some(c) => write!(f, "; did you mean `{c}`?"),
                    None => Ok(()),
                }
            }
            TargetError::NotOnBranch { target, rev, branch } => write!(
                f,
                "target `{target}`: revision `{rev}` is not on branch `{branch}` (neither below nor above it); name a revision of that branch"
            ),
            TargetError::OutOfRange { target, from, up, steps, available } => {
                let place = from.as_deref().map_or("base".to_owned(), |r| format!("`{r}`"));
                let (direction, side) = if *up { ("up", "above") } else { ("down", "below") };
                write!(
                    f,
                    "target `{target}` is out of range: it goes {steps} step{} {direction} from {place}, but only {available} revision{} lie{} {side} it",
                    plural(*steps),
                    plural(*available),
                    if *available == 1 { "s" } else { "" },
                )
            }
            TargetError::Branching { target, at, kind, choices } => {
                let place = at.as_deref().map_or("base".to_owned(), |r| format!("`{r}`"));
                match kind {
                    Branching::Fork => write!(
                        f,
                        "target `{target}` steps up through a fork: {place} has several children ({}); name the revision to go to instead, or the branch (`<label>@+1`)",
                        list(choices)
                    ),
                    Branching::Merge => write!(
                        f,
                        "target `{target}` steps down through a merge: {place} merges {}; name the revision to go to instead",
                        list(choices)
                    ),
                }
            }
            TargetError::MultipleHeads { target, heads } => write!(
                f,
                "target `{target}` is ambiguous: there are {} heads ({}); use `heads`, name one of them, or name a branch (`<label>@head`)",
                heads.len(),
                list(heads)
            ),
            TargetError::Within { target, error } => write!(f, "target `{target}`: {error}"),
            TargetError::SeveralCurrent { target, current } => write!(
                f,
                "target `{target}` steps from the current revision, but the database is at {} heads ({}); name the revision to go to instead, or step within one branch (`<label>@+1`, `<label>@-1`)",
                current.len(),
                list(current)
            ),
        }
    }
}

impl std::error::Error for TargetError {}

/// `error`, about `name`, quoted with the whole target `text` when the name is only part of it.
fn within(text: &str, name: &str, error: TargetError) -> TargetError {
    if text == name { error } else { TargetError::Within { target: text.to_owned(), error: Box::new(error) } }
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

impl Target {
    /// Parses a target. The whole text must match: `3f1c+1zzz` is an error, not `3f1c+1`.
    pub fn parse(text: &str) -> Result<Target, TargetError> {
        let invalid = |reason| TargetError::Invalid { target: text.to_owned(), reason };
        if text.is_empty() {
            return Err(invalid("it is empty"));
        }
        if text.chars().any(char::is_whitespace) {
            return Err(invalid("it contains whitespace"));
        }
        if text.contains(':') {
            return Err(invalid("a range `FROM:TO` is only for `history -r` and for `--sql`"));
        }
        if let Some((branch, rest)) = text.split_once('@') {
            if branch.is_empty() {
                return Err(invalid("name the branch before `@`, as in `billing@head`"));
            }
            if branch.contains(['+', '-']) {
                return Err(invalid("a step goes after `@`, as in `billing@-1`"));
            }
            if rest.is_empty() {
                return Err(invalid(
                    "name where to go in the branch after `@`: `head`, `base`, a revision or a step",
                ));
            }
            if rest.contains('@') {
                return Err(invalid("only one branch may be named"));
            }
            let target = Target::parse_plain(rest, text)?;
            return Ok(Target::Branch { branch: branch.to_owned(), target: Box::new(target) });
        }
        Target::parse_plain(text, text)
    }

    /// Parses a target without `@`; errors quote `whole`.
    fn parse_plain(text: &str, whole: &str) -> Result<Target, TargetError> {
        let invalid = |reason| TargetError::Invalid { target: whole.to_owned(), reason };
        if text == "heads" {
            return Ok(Target::Heads);
        }
        if let Some(at) = text.rfind(['+', '-']) {
            let (symbol, count) = (&text[..at], &text[at + 1..]);
            if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid("a step is a sign followed by a number, as in `+1` or `head-2`"));
            }
            let count: i64 = count.parse().map_err(|_| invalid("the number of steps is too large"))?;
            if count == 0 {
                return Err(invalid("a step of 0 goes nowhere"));
            }
            let steps = if text.as_bytes()[at] == b'+' { count } else { -count };
            let from = match symbol {
                "" => Anchor::Current,
                "heads" => return Err(invalid("steps start from one revision; use `head`")),
                s if s.contains(['+', '-']) => {
                    return Err(invalid("only one step count is allowed"));
                }
                s => Target::anchor(s),
            };
            return Ok(Target::Relative { from, steps });
        }
        Ok(Target::Point(Target::anchor(text)))
    }

    fn anchor(symbol: &str) -> Anchor {
        match symbol {
            "head" => Anchor::Head,
            "base" => Anchor::Base,
            rev => Anchor::Revision(rev.to_owned()),
        }
    }
}

/// What a target names: revisions, and the branch it was restricted to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resolved {
    /// The revisions named (empty for base).
    pub nodes: Vec<NodeId>,
    /// For `branch@…`, the revision standing for the branch: its label's or the one named.
    pub branch: Option<NodeId>,
}

/// The scope of a walk: the whole graph, or one branch's lineage.
struct Scope<'a> {
    lineage: Option<&'a [bool]>,
}

impl Scope<'_> {
    fn keeps(&self, node: NodeId) -> bool {
        self.lineage.is_none_or(|l| l[node])
    }
}

impl Graph {
    /// Finds the revision an id, a branch label or a unique prefix (of at least
    /// [`MIN_PREFIX`] characters) names.
    pub fn lookup(&self, id: &str) -> Result<NodeId, TargetError> {
        if let Some(node) = self.node(id).or_else(|| self.label(id)) {
            return Ok(node);
        }
        let candidates: Vec<(&String, &NodeId)> = self.ids_from(id).collect();
        let names = || candidates.iter().map(|(rev, _)| (*rev).clone()).collect();
        match candidates.as_slice() {
            [] => Err(TargetError::Unknown {
                target: id.to_owned(),
                closest: closest(id, self.all_ids().map(String::as_str).chain(self.labels().map(|(l, _)| l)))
                    .map(str::to_owned),
            }),
            _ if id.len() < MIN_PREFIX => {
                Err(TargetError::ShortPrefix { target: id.to_owned(), candidates: names() })
            }
            [(_, node)] => Ok(**node),
            _ => Err(TargetError::AmbiguousPrefix { target: id.to_owned(), candidates: names() }),
        }
    }

    /// Resolves `target` to the set of revisions it names (empty for base), given the
    /// database's current heads (needed for `+N` and `-N`).
    pub fn resolve(
        &self,
        target: &Target,
        text: &str,
        current: &[NodeId],
    ) -> Result<Vec<NodeId>, TargetError> {
        Ok(self.resolve_in(target, text, current)?.nodes)
    }

    /// Resolves `target` to the revisions it names and the branch it is restricted to.
    pub fn resolve_in(
        &self,
        target: &Target,
        text: &str,
        current: &[NodeId],
    ) -> Result<Resolved, TargetError> {
        let Target::Branch { branch, target } = target else {
            let nodes = self.resolve_plain(target, text, current, &Scope { lineage: None }, None)?;
            return Ok(Resolved { nodes, branch: None });
        };
        let node = self.lookup(branch).map_err(|error| match error {
            TargetError::Unknown { closest, .. } => {
                TargetError::UnknownBranch { target: text.to_owned(), branch: branch.clone(), closest }
            }
            other => within(text, branch, other),
        })?;
        let lineage = self.lineage(node);
        let scope = Scope { lineage: Some(&lineage) };
        let nodes = self.resolve_plain(target, text, current, &scope, Some(branch))?;
        Ok(Resolved { nodes, branch: Some(node) })
    }

    /// Parses and resolves a target in one call.
    pub fn resolve_str(&self, text: &str, current: &[NodeId]) -> Result<Vec<NodeId>, TargetError> {
        self.resolve(&Target::parse(text)?, text, current)
    }

    /// Parses and resolves a target in one call, keeping its branch.
    pub fn resolve_str_in(&self, text: &str, current: &[NodeId]) -> Result<Resolved, TargetError> {
        self.resolve_in(&Target::parse(text)?, text, current)
    }

    fn resolve_plain(
        &self,
        target: &Target,
        text: &str,
        current: &[NodeId],
        scope: &Scope<'_>,
        branch: Option<&String>,
    ) -> Result<Vec<NodeId>, TargetError> {
        match target {
            Target::Heads => Ok(self.scoped_heads(scope)),
            Target::Point(anchor) => {
                Ok(self.anchor(anchor, text, current, scope, branch)?.into_iter().collect())
            }
            Target::Relative { from, steps } => {
                let start = self.anchor(from, text, current, scope, branch)?;
                self.walk(start, *steps, text, scope)
            }
            Target::Branch { .. } => {
                Err(TargetError::Invalid { target: text.to_owned(), reason: "only one branch may be named" })
            }
        }
    }

    /// The heads of the scope: every head, or the tips of the branch (effective heads too:
    /// `label@head` of a branch others depend on is its last revision).
    fn scoped_heads(&self, scope: &Scope<'_>) -> Vec<NodeId> {
        match scope.lineage {
            None => self.heads(),
            Some(lineage) => self
                .linear()
                .iter()
                .copied()
                .filter(|&n| lineage[n] && self.children(n).iter().all(|&c| !lineage[c]))
                .collect(),
        }
    }

    fn anchor(
        &self,
        anchor: &Anchor,
        text: &str,
        current: &[NodeId],
        scope: &Scope<'_>,
        branch: Option<&String>,
    ) -> Result<Option<NodeId>, TargetError> {
        match anchor {
            Anchor::Base => Ok(None),
            Anchor::Revision(id) => {
                let node = self.lookup(id).map_err(|error| within(text, id, error))?;
                match branch {
                    Some(branch) if !scope.keeps(node) => Err(TargetError::NotOnBranch {
                        target: text.to_owned(),
                        rev: self.rev(node).to_owned(),
                        branch: branch.clone(),
                    }),
                    _ => Ok(Some(node)),
                }
            }
            Anchor::Head => match self.scoped_heads(scope).as_slice() {
                [] => Ok(None),
                [head] => Ok(Some(*head)),
                heads => {
                    Err(TargetError::MultipleHeads { target: text.to_owned(), heads: self.owned(heads) })
                }
            },
            Anchor::Current => {
                let on_branch: Vec<NodeId> = match scope.lineage {
                    None => current.to_vec(),
                    // The branch's current revision: the topmost applied revision on it.
                    Some(lineage) => {
                        let applied = self.ancestors(current);
                        self.linear()
                            .iter()
                            .copied()
                            .filter(|&n| {
                                lineage[n]
                                    && applied[n]
                                    && self.children(n).iter().all(|&c| !(lineage[c] && applied[c]))
                            })
                            .collect()
                    }
                };
                match on_branch.as_slice() {
                    [] => Ok(None),
                    [one] => Ok(Some(*one)),
                    several => Err(TargetError::SeveralCurrent {
                        target: text.to_owned(),
                        current: self.owned(several),
                    }),
                }
            }
        }
    }

    fn owned(&self, nodes: &[NodeId]) -> Vec<String> {
        self.revs_of(nodes).into_iter().map(str::to_owned).collect()
    }

    /// Takes `steps` single steps from `start` (`None`: base) within `scope`. The last step
    /// down from a merge goes to all its parents.
    fn walk(
        &self,
        start: Option<NodeId>,
        steps: i64,
        text: &str,
        scope: &Scope<'_>,
    ) -> Result<Vec<NodeId>, TargetError> {
        let out_of_range = |taken: u64| TargetError::OutOfRange {
            target: text.to_owned(),
            from: start.map(|n| self.rev(n).to_owned()),
            up: steps > 0,
            steps: steps.unsigned_abs(),
            available: taken,
        };
        let count = steps.unsigned_abs();
        let mut at = start;
        for taken in 0..count {
            let last = taken + 1 == count;
            if steps > 0 {
                let mut next = match at {
                    None => self.bases(),
                    Some(node) => self.children(node),
                };
                next.retain(|&n| scope.keeps(n));
                at = match next.as_slice() {
                    [] => return Err(out_of_range(taken)),
                    [one] => Some(*one),
                    several => {
                        return Err(TargetError::Branching {
                            target: text.to_owned(),
                            at: at.map(|n| self.rev(n).to_owned()),
                            kind: Branching::Fork,
                            choices: self.owned(several),
                        });
                    }
                };
            } else {
                let Some(node) = at else {
                    return Err(out_of_range(taken));
                };
                let parents: Vec<NodeId> =
                    self.parents(node).iter().copied().filter(|&p| scope.keeps(p)).collect();
                at = match parents.as_slice() {
                    [] => None,
                    [one] => Some(*one),
                    several if last => return Ok(several.to_vec()),
                    several => {
                        return Err(TargetError::Branching {
                            target: text.to_owned(),
                            at: Some(self.rev(node).to_owned()),
                            kind: Branching::Merge,
                            choices: self.owned(several),
                        });
                    }
                };
            }
        }
        Ok(at.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::Revision;

    /// base 1a00.. - 2b00.. < 3c00.. , 3c11.. (fork at 2b) ; 4d00 merges both; 5e00 after it.
    fn diamond() -> Graph {
        let spec: &[(&str, &[&str])] = &[
            ("1a0000000000", &[]),
            ("2b0000000000", &["1a0000000000"]),
            ("3c0000000000", &["2b0000000000"]),
            ("3c1100000000", &["2b0000000000"]),
            ("4d0000000000", &["3c0000000000", "3c1100000000"]),
            ("5e0000000000", &["4d0000000000"]),
        ];
        let revisions: Vec<Revision> =
            spec.iter().enumerate().map(|(i, (r, p))| Revision::new(*r, p, format!("{i}"))).collect();
        let (graph, problems) = Graph::build(&revisions);
        assert!(problems.is_empty());
        graph
    }

    #[test]
    fn parsing() {
        let rev = |s: &str| Anchor::Revision(s.to_owned());
        let branch = |b: &str, t: Target| Target::Branch { branch: b.to_owned(), target: Box::new(t) };
        let cases = [
            ("head", Target::Point(Anchor::Head)),
            ("heads", Target::Heads),
            ("base", Target::Point(Anchor::Base)),
            ("3f2a", Target::Point(rev("3f2a"))),
            ("+2", Target::Relative { from: Anchor::Current, steps: 2 }),
            ("-1", Target::Relative { from: Anchor::Current, steps: -1 }),
            ("head-3", Target::Relative { from: Anchor::Head, steps: -3 }),
            ("base+1", Target::Relative { from: Anchor::Base, steps: 1 }),
            ("3f2a+1", Target::Relative { from: rev("3f2a"), steps: 1 }),
            ("3f2a-12", Target::Relative { from: rev("3f2a"), steps: -12 }),
            ("left@head", branch("left", Target::Point(Anchor::Head))),
            ("left@heads", branch("left", Target::Heads)),
            ("left@base", branch("left", Target::Point(Anchor::Base))),
            ("left@3f2a", branch("left", Target::Point(rev("3f2a")))),
            ("left@-1", branch("left", Target::Relative { from: Anchor::Current, steps: -1 })),
            ("left@+2", branch("left", Target::Relative { from: Anchor::Current, steps: 2 })),
            ("3f2a@head-1", branch("3f2a", Target::Relative { from: Anchor::Head, steps: -1 })),
            ("left@base+1", branch("left", Target::Relative { from: Anchor::Base, steps: 1 })),
        ];
        for (text, target) in cases {
            assert_eq!(Target::parse(text), Ok(target), "{text}");
        }
        for bad in [
            "",
            "3f1c+1zzz",
            "+",
            "head-",
            "+0",
            "heads-1",
            "a b",
            "a+1-2",
            "+99999999999999999999",
            "@head",
            "left@",
            "left@right@head",
            "left-1@head",
            "a:b",
            "left@heads-1",
        ] {
            assert!(
                matches!(Target::parse(bad), Err(TargetError::Invalid { .. })),
                "{bad:?} should be invalid"
            );
        }
    }

    #[test]
    fn resolution() {
        let graph = diamond();
        let at = |rev: &str| vec![graph.node(rev).expect("known")];
        let cases: &[(&str, &[&str], &[&str])] = &[
            ("head", &[], &["5e0000000000"]),
            ("heads", &[], &["5e0000000000"]),
            ("base", &["5e0000000000"], &[]),
            ("1a0000000000", &[], &["1a0000000000"]),
            ("3c11", &[], &["3c1100000000"]),
            ("+1", &[], &["1a0000000000"]),
            ("+2", &[], &["2b0000000000"]),
            ("+1", &["4d0000000000"], &["5e0000000000"]),
            ("-1", &["5e0000000000"], &["4d0000000000"]),
            ("-1", &["1a0000000000"], &[]),
            ("head-1", &[], &["4d0000000000"]),
            ("base+2", &[], &["2b0000000000"]),
            ("3c00+1", &[], &["4d0000000000"]),
            ("3c11-2", &[], &["1a0000000000"]),
            ("2b00-2", &[], &[]),
            // The last step down from a merge goes to all its parents.
            ("-1", &["4d0000000000"], &["3c0000000000", "3c1100000000"]),
            ("head-2", &[], &["3c0000000000", "3c1100000000"]),
        ];
        for (text, current, expected) in cases {
            let current: Vec<NodeId> = current.iter().flat_map(|r| at(r)).collect();
            let got = graph.resolve_str(text, &current).map(|nodes| graph.revs_of(&nodes).join(","));
            assert_eq!(got, Ok(expected.join(",")), "{text} from {current:?}");
        }
    }

    #[test]
    fn the_four_errors_name_the_revisions_involved() {
        let graph = diamond();
        let err = |text: &str, current: &[&str]| {
            let current: Vec<NodeId> = current.iter().map(|r| graph.node(r).expect("known")).collect();
            graph.resolve_str(text, &current).expect_err(text).to_string()
        };
        assert_eq!(
            err("ffff", &[]),
            "unknown revision `ffff`: no revision has this id or starts with it, and no branch has this label"
        );
        assert_eq!(
            err("1a0000000001", &[]),
            "unknown revision `1a0000000001`: no revision has this id or starts with it, and no branch has this label; did you mean `1a0000000000`?"
        );
        assert_eq!(
            err("1a", &[]),
            "revision prefix `1a` is too short: a prefix needs at least 4 characters; did you mean `1a0000000000`?"
        );
        assert_eq!(
            err("3c", &[]),
            "revision prefix `3c` is too short: a prefix needs at least 4 characters, and 2 revisions start with it (`3c0000000000` and `3c1100000000`)"
        );
        assert_eq!(
            err("zz", &[]),
            "unknown revision `zz`: no revision has this id and no branch has this label (a prefix needs at least 4 characters)"
        );
        assert_eq!(graph.lookup("3c00"), Ok(graph.node("3c0000000000").expect("known")));
        assert_eq!(graph.lookup("3c00000"), Ok(graph.node("3c0000000000").expect("known")));
        let ambiguous = Graph::build(&[
            Revision::new("7ab4e2c9d012", &[], "1"),
            Revision::new("7ab4e2c9d013", &["7ab4e2c9d012"], "2"),
        ])
        .0;
        assert_eq!(
            ambiguous.resolve_str("7ab4", &[]).map_err(|e| e.to_string()),
            Err("ambiguous revision prefix `7ab4`: 2 revisions start with it (`7ab4e2c9d012` and `7ab4e2c9d013`); type more characters".to_owned())
        );
        assert_eq!(
            err("+3", &["4d0000000000"]),
            "target `+3` is out of range: it goes 3 steps up from `4d0000000000`, but only 1 revision lies above it"
        );
        assert_eq!(
            err("head+1", &[]),
            "target `head+1` is out of range: it goes 1 step up from `5e0000000000`, but only 0 revisions lie above it"
        );
        assert_eq!(
            err("-3", &["2b0000000000"]),
            "target `-3` is out of range: it goes 3 steps down from `2b0000000000`, but only 2 revisions lie below it"
        );
        assert_eq!(
            err("-1", &[]),
            "target `-1` is out of range: it goes 1 step down from base, but only 0 revisions lie below it"
        );
        assert_eq!(
            err("+3", &[]),
            "target `+3` steps up through a fork: `2b0000000000` has several children (`3c0000000000` and `3c1100000000`); name the revision to go to instead, or the branch (`<label>@+1`)"
        );
        assert_eq!(
            err("head-3", &[]),
            "target `head-3` steps down through a merge: `4d0000000000` merges `3c0000000000` and `3c1100000000`; name the revision to go to instead"
        );
    }

    /// a - b, then two arms: left (w1 - w2, labelled at w1) and right (x1 - x2, labelled at x1).
    fn arms() -> Graph {
        let (graph, problems) = Graph::build(&[
            Revision::new("a", &[], "1"),
            Revision::new("b", &["a"], "2"),
            Revision::new("w1", &["b"], "3").labelled(&["left"]),
            Revision::new("w2", &["w1"], "4"),
            Revision::new("x1", &["b"], "5").labelled(&["right"]),
            Revision::new("x2", &["x1"], "6"),
        ]);
        assert!(problems.is_empty());
        graph
    }

    #[test]
    fn targets_within_a_branch() {
        let graph = arms();
        let resolve = |text: &str, current: &[&str]| {
            let current: Vec<NodeId> = current.iter().map(|r| graph.node(r).expect("known")).collect();
            graph
                .resolve_str(text, &current)
                .map(|nodes| graph.revs_of(&nodes).join(","))
                .map_err(|e| e.to_string())
        };
        let cases: &[(&str, &[&str], &str)] = &[
            ("left", &[], "w1"),
            ("left@head", &[], "w2"),
            ("right@head", &[], "x2"),
            ("left@heads", &[], "w2"),
            ("w2@head", &[], "w2"),
            ("left@base", &["w2"], ""),
            ("left@b", &[], "b"),
            ("left@w2-1", &[], "w1"),
            ("left@+1", &[], "a"),
            ("left@+3", &[], "w1"),
            ("left@base+3", &[], "w1"),
            ("left@head-2", &[], "b"),
            ("left@-1", &["w2", "x2"], "w1"),
            ("right@-2", &["w2", "x2"], "b"),
            // The right arm applied: the left branch's current revision is b.
            ("left@+1", &["x2"], "w1"),
            ("left+1", &[], "w2"),
            ("b@heads", &[], "w2,x2"),
        ];
        for (text, current, expected) in cases {
            assert_eq!(resolve(text, current), Ok((*expected).to_owned()), "{text} from {current:?}");
        }
        let errors: &[(&str, &[&str], &str)] = &[
            (
                "b@head",
                &[],
                "target `b@head` is ambiguous: there are 2 heads (`w2` and `x2`); use `heads`, name one of them, or name a branch (`<label>@head`)",
            ),
            (
                "left@x1",
                &[],
                "target `left@x1`: revision `x1` is not on branch `left` (neither below nor above it); name a revision of that branch",
            ),
            (
                "lefty@head",
                &[],
                "unknown branch `lefty` in `lefty@head`: no branch has this label and no revision this id or prefix; did you mean `left`?",
            ),
            (
                "left@head+1",
                &[],
                "target `left@head+1` is out of range: it goes 1 step up from `w2`, but only 0 revisions lie above it",
            ),
            (
                "-1",
                &["w2", "x2"],
                "target `-1` steps from the current revision, but the database is at 2 heads (`w2` and `x2`); name the revision to go to instead, or step within one branch (`<label>@+1`, `<label>@-1`)",
            ),
        ];
        for (text, current, expected) in errors {
            assert_eq!(resolve(text, current), Err((*expected).to_owned()), "{text}");
        }
        let scoped = graph.resolve_str_in("left@base", &[]).expect("resolves");
        assert_eq!((scoped.nodes.len(), scoped.branch), (0, graph.node("w1")));
    }

    #[test]
    fn several_heads_or_current_revisions() {
        let graph = Graph::build(&[
            Revision::new("aaaa00000000", &[], "1"),
            Revision::new("bbbb00000000", &["aaaa00000000"], "2"),
            Revision::new("cccc00000000", &["aaaa00000000"], "3"),
        ])
        .0;
        assert!(matches!(
            graph.resolve_str("head", &[]),
            Err(TargetError::MultipleHeads { heads, .. }) if heads == ["bbbb00000000", "cccc00000000"]
        ));
        assert_eq!(graph.resolve_str("heads", &[]).map(|h| h.len()), Ok(2));
        let current = graph.heads();
        assert!(matches!(
            graph.resolve_str("-1", &current),
            Err(TargetError::SeveralCurrent { current, .. }) if current == ["bbbb00000000", "cccc00000000"]
        ));
        let forest =
            Graph::build(&[Revision::new("aaaa00000000", &[], "1"), Revision::new("bbbb00000000", &[], "2")])
                .0;
        assert!(matches!(
            forest.resolve_str("+1", &[]),
            Err(TargetError::Branching { at: None, kind: Branching::Fork, .. })
        ));
    }
}
