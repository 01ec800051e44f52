//! What the rules see of a migration file: a plain model without spans.
//!
//! The `syntax` module (feature `syntax`) builds it from Rust tokens; the positions of the
//! vectors below are the indices that [`Locator`](crate::diagnostic::Locator)s use.

use crate::sql::{needs_no_transaction, no_transaction_call};

/// One file of a migrations folder.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MigrationFile {
    /// The key that identifies the file: its absolute path in builds.
    pub path: String,
    /// The path shown to users, relative to the crate root (`migrations/…rs`).
    pub display: String,
    /// The file name (`20241025_1412_3f2a9c1b7d4e_add_lead_scores_table.rs`).
    pub file_name: String,
    /// The `#[migration]` modules of the file, in source order (normally exactly one).
    pub modules: Vec<ModuleSource>,
    /// Everything else at the top of the file, in source order.
    pub stray_items: Vec<StrayItem>,
    /// Whether the file parsed as Rust. A file that does not is left to rustc to report.
    pub parsed: bool,
}

/// An item of a migration file outside the migration module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StrayItem {
    /// What the item is, as a user would say it: `fn helper`, `use`, `struct User`.
    pub description: String,
    /// Its line, 1-based.
    pub line: usize,
    /// Its column, 1-based.
    pub column: usize,
}

/// The `down_revision` argument.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum DownRevision {
    /// Not given: a base.
    #[default]
    Absent,
    /// `None`: a base.
    None,
    /// One parent.
    One(String),
    /// A list: a merge of these parents.
    Many(Vec<String>),
}

impl DownRevision {
    /// The parents named, in order.
    pub fn parents(&self) -> Vec<&str> {
        match self {
            DownRevision::Absent | DownRevision::None => Vec::new(),
            DownRevision::One(p) => vec![p.as_str()],
            DownRevision::Many(ps) => ps.iter().map(String::as_str).collect(),
        }
    }
}

/// One `#[migration]` module.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModuleSource {
    /// The module's name: the migration's slug.
    pub name: String,
    /// The revision id, or `None` when the attribute could not be read.
    pub rev: Option<String>,
    /// The parents.
    pub down_revision: DownRevision,
    /// `branch_labels = […]`: the names the migration's branch answers to (`label@head`).
    pub branch_labels: Vec<String>,
    /// `depends_on = […]`: revisions or branch labels applied before this one without merging
    /// with it.
    pub depends_on: Vec<String>,
    /// `transactional = …`, if given.
    pub transactional: Option<bool>,
    /// `squashes = "…"`: the checksum databases recorded for this revision before a squash
    /// replaced the migrations up to it with this one (64 hex digits).
    pub squashes: Option<String>,
    /// The names of the attribute's arguments, in order.
    pub arguments: Vec<String>,
    /// A syntax error in the attribute or the module's shape, which the macro reports;
    /// `None` when the migration reads well.
    pub syntax_error: Option<String>,
    /// The doc comment above the module, one line per `///` line.
    pub doc: Vec<String>,
    /// Every import and path that reaches outside the module, in source order.
    pub imports: Vec<Import>,
    /// Every text the module carries, in source order: the module's doc comment, then the
    /// string and byte-string literals, `concat!`s, `bulk_insert` cells and doc comments of its
    /// body; last, its `//` comments when the whole file was read (see [`Carrier`]).
    pub literals: Vec<Literal>,
    /// The functions at the top of the module.
    pub functions: Vec<Function>,
    /// The names of the methods called in the module (`.concurrently()` gives `concurrently`).
    pub method_calls: Vec<String>,
    /// The placeholder macro calls (`todo!(…)`) in the module's functions, in source order.
    pub placeholders: Vec<Placeholder>,
    /// What `upgrade` records, statement by statement, as read from its tokens: what the lock
    /// rules judge.
    pub recorded: Vec<Recorded>,
    /// The rules the migration knowingly breaks, from `allow(rule_id = "reason", …)` in its
    /// attribute.
    pub allows: Vec<Allow>,
}

/// One statement of `upgrade` that records something, as the lock rules read it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Recorded {
    /// An operation whose arguments are all literals (`op.create_index("i", "t", &["a"])`),
    /// with the SQL it renders, statement by statement.
    Operation {
        /// The call as users name it: `create_index("i")`.
        call: String,
        /// The statements it renders.
        statements: Vec<String>,
    },
    /// `op.execute` of a string literal or of an included file: the position of the literal
    /// (or of the included file's path) in [`ModuleSource::literals`].
    Sql {
        /// The literal.
        literal: usize,
    },
    /// `op.execute` of SQL written in the module other than as one literal: a `const`, or
    /// `concat!` of literals.
    Text {
        /// The call, as users name it: `execute(concat!(…))`.
        call: String,
        /// The SQL.
        sql: String,
    },
    /// A use of `op` whose SQL the rules cannot know from the tokens, and why.
    Unreadable {
        /// The call, as written: `op.execute(&sql)`.
        call: String,
        /// Why it cannot be read: `its argument is not a literal`.
        why: String,
    },
}

/// One entry of `allow(…)`: a rule the migration knowingly breaks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allow {
    /// The rule's id, as written.
    pub rule: String,
    /// Why breaking it is safe here; `None` when no reason was given (or it is blank).
    pub reason: Option<String>,
}

/// A placeholder macro call (`todo!(…)`, `unimplemented!(…)`) left in a function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placeholder {
    /// The function holding it.
    pub function: String,
    /// The macro's name: `todo`.
    pub name: String,
}

/// A way a migration reaches code outside itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Import {
    /// How it reads in the source, whitespace removed: `crate::models::User`, `extern crate serde`.
    pub text: String,
    /// What it is.
    pub kind: ImportKind,
}

/// The kinds of [`Import`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportKind {
    /// A `use` declaration.
    Use,
    /// An `extern crate` declaration.
    ExternCrate,
    /// A path written in code, a type or a macro call that reaches outside the module:
    /// `crate::…`, `super::…`, `serde_json::json!`, `include!(…)` (see `foreign_import`).
    Path,
}

/// A string literal of a migration body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Literal {
    /// The literal's value.
    pub value: String,
    /// When the literal is the path of an `include_str!`, the file it includes.
    pub included: Option<Included>,
    /// What carries the text: a string, a byte string, a comment, a `bulk_insert` cell.
    pub carrier: Carrier,
}

/// What carries the text of a [`Literal`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Carrier {
    /// A string literal (`"…"`, `r#"…"#`), or the path of an `include_str!`.
    #[default]
    Str,
    /// A byte string (`b"…"`, `br"…"`).
    Bytes,
    /// The literal parts of a `concat!`, joined.
    Concat,
    /// A doc comment (`///`, `#[doc = "…"]`), on the module or inside it.
    Doc,
    /// A `//` or `/* */` comment, which only a reader of the file's text sees; its 1-based line.
    Comment(usize),
    /// A cell of a `bulk_insert` row under a credential-named column, as `column = 'value'`.
    Row,
}

impl Carrier {
    /// Whether the text is code the migration runs (SQL), rather than a comment or a copy.
    pub fn is_code(self) -> bool {
        matches!(self, Carrier::Str | Carrier::Bytes | Carrier::Concat)
    }
}

/// A file included with `include_str!`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Included {
    /// The path as shown to users.
    pub display: String,
    /// The file's text, when the scanner could read it.
    pub text: Option<String>,
}

/// A function at the top of a migration module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Function {
    /// Its name.
    pub name: String,
    /// Whether its body records no operation: it never calls a method on its `op` parameter
    /// nor passes `op` on (see `syntax::records_on`), whatever else it holds.
    pub empty: bool,
}

impl ModuleSource {
    /// The position and the function named `name`.
    pub fn function(&self, name: &str) -> Option<(usize, &Function)> {
        self.functions.iter().enumerate().find(|(_, f)| f.name == name)
    }

    /// Whether the migration runs inside a transaction: as `transactional = …` says, or else
    /// unless it calls an operation that cannot run in one ([`no_transaction_call`]:
    /// `.concurrently()`, `add_enum_value`, …) or its SQL (literal or included) holds such a statement.
    pub fn is_transactional(&self) -> bool {
        if let Some(explicit) = self.transactional {
            return explicit;
        }
        if self.method_calls.iter().any(|m| no_transaction_call(m).is_some()) {
            return false;
        }
        let texts = self
            .literals
            .iter()
            .filter(|l| l.carrier.is_code())
            .map(|l| l.included.as_ref().and_then(|i| i.text.as_deref()).unwrap_or(&l.value));
        !texts.into_iter().any(needs_no_transaction)
    }

    /// The doc comment as one paragraph: its lines trimmed and joined by spaces.
    pub fn why(&self) -> String {
        self.doc.iter().map(|l| l.trim()).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ")
    }
}
