//! Diagnostics: which rule, what is wrong, what to do, and what to point at.
//!
//! A diagnostic carries no span: it names the file, the migration module and a [`Locator`]
//! (the `rev` literal, the second `down_revision` literal, the third `use`, ...). The macro
//! turns a locator into a span over the tokens it receives; the command line turns it into a
//! line and column over the file. Both therefore point at the same token.

use std::fmt;
use std::str::FromStr;

macro_rules! rules {
    ($($(#[$doc:meta])* $variant:ident = $id:literal,)*) => {
        /// The compile-time rules. Each id names the rule's file in `migrate-core/src/rules/`,
        /// its UI test in `tests/ui/`, its README row and the command line's `error[id]`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum RuleId {
            $($(#[$doc])* $variant,)*
        }

        impl RuleId {
            /// Every rule, in the order of the README table.
            pub const ALL: &'static [RuleId] = &[$(RuleId::$variant,)*];

            /// The rule's id, as written everywhere.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(RuleId::$variant => $id,)*
                }
            }
        }

        impl FromStr for RuleId {
            type Err = ();
            fn from_str(s: &str) -> Result<Self, ()> {
                match s {
                    $($id => Ok(RuleId::$variant),)*
                    _ => Err(()),
                }
            }
        }
    };
}

rules! {
    /// Two migrations declare the same revision id.
    DuplicateRevision = "duplicate_revision",
    /// A down revision names no migration.
    UnknownDownRevision = "unknown_down_revision",
    /// Revisions that are each other's ancestors.
    RevisionCycle = "revision_cycle",
    /// A `depends_on` naming neither a revision nor a branch label.
    UnknownDependsOn = "unknown_depends_on",
    /// Revisions that need each other first, through at least one `depends_on`.
    DependencyCycle = "dependency_cycle",
    /// Two migrations declare the same branch label.
    DuplicateBranchLabel = "duplicate_branch_label",
    /// A branch label a target would read as something else.
    BranchLabelClash = "branch_label_clash",
    /// More than one head without a merge.
    MultipleHeads = "multiple_heads",
    /// More than one base.
    MultipleBases = "multiple_bases",
    /// A merge list naming fewer than two distinct parents.
    MergeNeedsTwoParents = "merge_needs_two_parents",
    /// A revision id not of the configured format.
    InvalidRevisionId = "invalid_revision_id",
    /// A migration file not named `YYYYMMDD_HHMM_<rev>_<slug>.rs`.
    InvalidFileName = "invalid_file_name",
    /// The file name's revision or slug differ from the attribute's or the module's.
    FileNameMismatch = "file_name_mismatch",
    /// A slug that does not name the change.
    VagueSlug = "vague_slug",
    /// No doc comment saying why.
    MissingWhy = "missing_why",
    /// No `downgrade` function.
    MissingDowngrade = "missing_downgrade",
    /// An `upgrade` function that records no operation, outside a merge.
    EmptyUpgrade = "empty_upgrade",
    /// A `downgrade` function that does nothing.
    EmptyDowngrade = "empty_downgrade",
    /// A placeholder of the `revision` template (`todo!(…)`) still in place.
    UnwrittenTemplate = "unwritten_template",
    /// An import of anything but the prelude.
    ForeignImport = "foreign_import",
    /// A password, token or key in a string literal.
    HardcodedSecret = "hardcoded_secret",
    /// An argument `#[migration]` does not know.
    UnknownArgument = "unknown_argument",
    /// `#[migration]` used without the build.rs line.
    MissingManifest = "missing_manifest",
    /// Anything in a migration file besides the migration module.
    ItemOutsideMigration = "item_outside_migration",
    /// An entry of the migrations folder that is neither a migration file nor included.
    StrayFile = "stray_file",
    /// A sealed (deployed) migration whose meaning changed, or that moved among sealed ones.
    SealedMigrationChanged = "sealed_migration_changed",
    /// A sealed migration no longer in the folder.
    SealedMigrationDeleted = "sealed_migration_deleted",
    /// A new migration placed before a sealed one.
    InsertedBeforeSealed = "inserted_before_sealed",
    /// A seal file that cannot be read (a conflict, an edit by hand).
    UnreadableSeal = "unreadable_seal",
    /// An index built or dropped without `CONCURRENTLY` on a table that holds rows.
    BlockingIndex = "blocking_index",
    /// A foreign key or CHECK added without `NOT VALID`, or validated in the transaction that
    /// added it.
    ConstraintWithoutNotValid = "constraint_without_not_valid",
    /// `SET NOT NULL` that scans the table, or a new NOT NULL column without a default.
    BlockingNotNull = "blocking_not_null",
    /// A column type change that rewrites the table.
    RewritingTypeChange = "rewriting_type_change",
    /// A new column whose default or kind rewrites the table.
    RewritingAddColumn = "rewriting_add_column",
    /// A unique constraint, primary key or exclusion constraint built under the table's lock.
    BlockingUnique = "blocking_unique",
    /// An enum value added in a transaction that cannot hold it, or used before it commits.
    EnumValueInTransaction = "enum_value_in_transaction",
    /// A drop or a rename that running code or data depend on.
    DestructiveChange = "destructive_change",
    /// SQL that turns the lock timeout off.
    LockTimeoutDisabled = "lock_timeout_disabled",
    /// A statement refused inside a transaction block, in a migration marked `transactional = true`.
    TransactionNotAllowed = "transaction_not_allowed",
    /// SQL the rules cannot read.
    UncheckedSql = "unchecked_sql",
    /// An `allow(…)` that takes no effect.
    UnusedAllow = "unused_allow",
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a diagnostic points at, inside one migration module (or its file).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Locator {
    /// The `#[migration(...)]` attribute as a whole.
    Attribute,
    /// The `rev` string literal.
    Revision,
    /// The value of `down_revision` as a whole (`None`, a literal, or the list).
    DownRevisionValue,
    /// The n-th literal of `down_revision` (0 for a single parent).
    DownRevision(usize),
    /// The n-th literal of `branch_labels`.
    BranchLabel(usize),
    /// The n-th literal of `depends_on`.
    DependsOn(usize),
    /// The name of the n-th argument of the attribute.
    Argument(usize),
    /// The module's name.
    Module,
    /// The n-th import of the module (see `ModuleSource::imports`).
    Import(usize),
    /// The n-th string literal of the module's body.
    Literal(usize),
    /// The name of the n-th function of the module.
    Function(usize),
    /// The n-th placeholder macro call (`todo!(…)`) of the module's functions.
    Placeholder(usize),
    /// The n-th item of the file outside the migration module.
    Item(usize),
    /// The n-th statement of `upgrade` that records something (see `ModuleSource::recorded`).
    Recorded(usize),
    /// The rule id of the n-th entry of `allow(…)`.
    Allow(usize),
}

impl fmt::Display for Locator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Locator::Attribute => f.write_str("attribute"),
            Locator::Revision => f.write_str("rev"),
            Locator::DownRevisionValue => f.write_str("down"),
            Locator::DownRevision(i) => write!(f, "down:{i}"),
            Locator::BranchLabel(i) => write!(f, "label:{i}"),
            Locator::DependsOn(i) => write!(f, "depends:{i}"),
            Locator::Argument(i) => write!(f, "arg:{i}"),
            Locator::Module => f.write_str("module"),
            Locator::Import(i) => write!(f, "import:{i}"),
            Locator::Literal(i) => write!(f, "literal:{i}"),
            Locator::Function(i) => write!(f, "fn:{i}"),
            Locator::Placeholder(i) => write!(f, "placeholder:{i}"),
            Locator::Item(i) => write!(f, "item:{i}"),
            Locator::Recorded(i) => write!(f, "recorded:{i}"),
            Locator::Allow(i) => write!(f, "allow:{i}"),
        }
    }
}

impl FromStr for Locator {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        let indexed = |prefix: &str| -> Option<usize> { s.strip_prefix(prefix)?.parse().ok() };
        Ok(match s {
            "attribute" => Locator::Attribute,
            "rev" => Locator::Revision,
            "down" => Locator::DownRevisionValue,
            "module" => Locator::Module,
            _ => {
                if let Some(i) = indexed("down:") {
                    Locator::DownRevision(i)
                } else if let Some(i) = indexed("label:") {
                    Locator::BranchLabel(i)
                } else if let Some(i) = indexed("depends:") {
                    Locator::DependsOn(i)
                } else if let Some(i) = indexed("arg:") {
                    Locator::Argument(i)
                } else if let Some(i) = indexed("import:") {
                    Locator::Import(i)
                } else if let Some(i) = indexed("literal:") {
                    Locator::Literal(i)
                } else if let Some(i) = indexed("fn:") {
                    Locator::Function(i)
                } else if let Some(i) = indexed("placeholder:") {
                    Locator::Placeholder(i)
                } else if let Some(i) = indexed("item:") {
                    Locator::Item(i)
                } else if let Some(i) = indexed("recorded:") {
                    Locator::Recorded(i)
                } else if let Some(i) = indexed("allow:") {
                    Locator::Allow(i)
                } else {
                    return Err(());
                }
            }
        })
    }
}

/// One violation of one rule.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diagnostic {
    /// The migration file, by the key the scanner gave it (an absolute path in builds).
    pub file: String,
    /// The migration module concerned, or `None` for the file as a whole.
    pub module: Option<String>,
    /// What to point at.
    pub locator: Locator,
    /// The rule violated.
    pub rule: RuleId,
    /// A lowercase phrase saying what is wrong, with values in backticks.
    pub message: String,
    /// What to do about it.
    pub help: String,
}

impl Diagnostic {
    /// The message as rustc shows it: the phrase, then `= help:` on its own line.
    pub fn rustc_message(&self) -> String {
        format!("{}\n= help: {}", self.message, self.help)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_round_trip_and_are_snake_case() {
        for rule in RuleId::ALL {
            assert_eq!(rule.as_str().parse(), Ok(*rule));
            assert!(rule.as_str().bytes().all(|b| b == b'_' || b.is_ascii_lowercase()));
        }
        assert_eq!(RuleId::ALL.len(), 41);
    }

    #[test]
    fn locators_round_trip() {
        let all = [
            Locator::Attribute,
            Locator::Revision,
            Locator::DownRevisionValue,
            Locator::DownRevision(2),
            Locator::Argument(1),
            Locator::Module,
            Locator::Import(0),
            Locator::Literal(12),
            Locator::Function(1),
            Locator::Placeholder(0),
            Locator::Item(3),
            Locator::Recorded(4),
            Locator::Allow(1),
        ];
        for locator in all {
            assert_eq!(locator.to_string().parse(), Ok(locator));
        }
        assert_eq!("down:x".parse::<Locator>(), Err(()));
    }
}
