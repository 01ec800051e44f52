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
//! | `+N`, `-N` | N steps up or down from the database's current revision |
//! | `head-N`, `base+N` | N steps from the head or from base |
//! | `<rev>+N`, `<rev>-N` | N steps from a revision |
//!
//! A step moves along one edge. Stepping up from a branch point or down from a merge has no
//! single answer and is an error that names the revisions to choose from, as is going past
//! the head or below base.

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
}

/// Where a target points or where relative steps start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Anchor {
    /// The database's current revision (only for a bare `+N` / `-N`).
    Current,
    /// `head`.
    Head,
    /// `base`.
    Base,
    /// A revision id or a prefix of one.
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
    /// No revision has this id or starts with this prefix.
    Unknown {
        /// The id or prefix as given.
        target: String,
        /// A known id one typo away, if any.
        closest: Option<String>,
    },
    /// Several revisions start with this prefix.
    AmbiguousPrefix {
        /// The prefix as given.
        target: String,
        /// The revisions starting with it.
        candidates: Vec<String>,
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
    /// A step meets a branch point (going up) or a merge (going down).
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
                write!(f, "unknown revision `{target}`: no revision has this id")?;
                if target.len() >= MIN_PREFIX {
                    write!(f, " or starts with it")?;
                } else {
                    write!(f, " (a prefix needs at least {MIN_PREFIX} characters)")?;
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
                        "target `{target}` steps up through a fork: {place} has several children ({}); name the revision to go to instead",
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
                "target `{target}` is ambiguous: there are {} heads ({}); use `heads` or name one of them",
                heads.len(),
                list(heads)
            ),
            TargetError::SeveralCurrent { target, current } => write!(
                f,
                "target `{target}` steps from the current revision, but the database is at {} heads ({}); name the revision to go to instead",
                current.len(),
                list(current)
            ),
        }
    }
}

impl std::error::Error for TargetError {}

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

impl Graph {
    /// Finds the revision an id or a unique prefix (of at least [`MIN_PREFIX`] characters)
    /// names.
    pub fn lookup(&self, id: &str) -> Result<NodeId, TargetError> {
        if let Some(node) = self.node(id) {
            return Ok(node);
        }
        let unknown = || TargetError::Unknown {
            target: id.to_owned(),
            closest: closest(id, self.all_ids().map(String::as_str)).map(str::to_owned),
        };
        if id.len() < MIN_PREFIX {
            return Err(unknown());
        }
        let candidates: Vec<(&String, &NodeId)> = self.ids_from(id).collect();
        match candidates.as_slice() {
            [] => Err(unknown()),
            [(_, node)] => Ok(**node),
            many => Err(TargetError::AmbiguousPrefix {
                target: id.to_owned(),
                candidates: many.iter().map(|(rev, _)| (*rev).clone()).collect(),
            }),
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
        match target {
            Target::Heads => Ok(self.heads()),
            Target::Point(anchor) => Ok(self.anchor(anchor, text, current)?.into_iter().collect()),
            Target::Relative { from, steps } => {
                let start = self.anchor(from, text, current)?;
                Ok(self.walk(start, *steps, text)?.into_iter().collect())
            }
        }
    }

    /// Parses and resolves a target in one call.
    pub fn resolve_str(&self, text: &str, current: &[NodeId]) -> Result<Vec<NodeId>, TargetError> {
        self.resolve(&Target::parse(text)?, text, current)
    }

    fn anchor(&self, anchor: &Anchor, text: &str, current: &[NodeId]) -> Result<Option<NodeId>, TargetError> {
        match anchor {
            Anchor::Base => Ok(None),
            Anchor::Revision(id) => self.lookup(id).map(Some),
            Anchor::Head => match self.heads().as_slice() {
                [] => Ok(None),
                [head] => Ok(Some(*head)),
                heads => Err(TargetError::MultipleHeads {
                    target: text.to_owned(),
                    heads: self.revs_of(heads).into_iter().map(str::to_owned).collect(),
                }),
            },
            Anchor::Current => match current {
                [] => Ok(None),
                [one] => Ok(Some(*one)),
                several => Err(TargetError::SeveralCurrent {
                    target: text.to_owned(),
                    current: self.revs_of(several).into_iter().map(str::to_owned).collect(),
                }),
            },
        }
    }

    /// Takes `steps` single steps from `start` (`None`: base).
    fn walk(&self, start: Option<NodeId>, steps: i64, text: &str) -> Result<Option<NodeId>, TargetError> {
        let owned = |nodes: &[NodeId]| self.revs_of(nodes).into_iter().map(str::to_owned).collect();
        let out_of_range = |taken: u64| TargetError::OutOfRange {
            target: text.to_owned(),
            from: start.map(|n| self.rev(n).to_owned()),
            up: steps > 0,
            steps: steps.unsigned_abs(),
            available: taken,
        };
        let mut at = start;
        for taken in 0..steps.unsigned_abs() {
            at = if steps > 0 {
                let next = match at {
                    None => self.bases(),
                    Some(node) => self.children(node),
                };
                match next.as_slice() {
                    [] => return Err(out_of_range(taken)),
                    [one] => Some(*one),
                    several => {
                        return Err(TargetError::Branching {
                            target: text.to_owned(),
                            at: at.map(|n| self.rev(n).to_owned()),
                            kind: Branching::Fork,
                            choices: owned(several),
                        });
                    }
                }
            } else {
                let Some(node) = at else {
                    return Err(out_of_range(taken));
                };
                match self.parents(node) {
                    [] => None,
                    [one] => Some(*one),
                    several => {
                        return Err(TargetError::Branching {
                            target: text.to_owned(),
                            at: Some(self.rev(node).to_owned()),
                            kind: Branching::Merge,
                            choices: owned(several),
                        });
                    }
                }
            };
        }
        Ok(at)
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
        ];
        for (text, target) in cases {
            assert_eq!(Target::parse(text), Ok(target), "{text}");
        }
        for bad in ["", "3f1c+1zzz", "+", "head-", "+0", "heads-1", "a b", "a+1-2", "+99999999999999999999"] {
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
        assert_eq!(err("ffff", &[]), "unknown revision `ffff`: no revision has this id or starts with it");
        assert_eq!(
            err("1a0000000001", &[]),
            "unknown revision `1a0000000001`: no revision has this id or starts with it; did you mean `1a0000000000`?"
        );
        assert_eq!(
            err("1a", &[]),
            "unknown revision `1a`: no revision has this id (a prefix needs at least 4 characters)"
        );
        assert_eq!(
            err("3c", &[]),
            "unknown revision `3c`: no revision has this id (a prefix needs at least 4 characters)"
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
            "target `+3` steps up through a fork: `2b0000000000` has several children (`3c0000000000` and `3c1100000000`); name the revision to go to instead"
        );
        assert_eq!(
            err("head-2", &[]),
            "target `head-2` steps down through a merge: `4d0000000000` merges `3c0000000000` and `3c1100000000`; name the revision to go to instead"
        );
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
