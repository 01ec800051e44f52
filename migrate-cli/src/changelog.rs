//! `changelog`: `CHANGELOG_DB.md` beside the crate's Cargo.toml, the story of the schema told
//! by its migrations, newest first: each one's date (from its file name), slug, revision,
//! the revisions a merge merges, and its doc comment as markdown.
//!
//! The file is a pure function of the migrations folder (and, with `--db`, of the database's
//! history table): no time of writing, so the same inputs give the same bytes and `--check`
//! (and `cargo migrate check`) can tell a stale file by comparing bytes. Its header records
//! the options it was written with, which the check uses to write it again.
//!
//! **Grouping.** `--by month`: a `## YYYY-MM` heading per month of the file names' dates,
//! newest month first, migrations without a date last under `## Undated`; inside a month, the
//! reverse of the chain's linear order. `--by branch`: under `## Mainline`, the first-parent
//! line down from each head (heads and effective heads), newest first; each merge on it is
//! followed by what it brought in (the ancestors of its other parents that are neither on
//! the mainline nor brought in by an older merge), newest first, one heading level deeper.
//!
//! **Doc comments** are markdown, kept readable: what would break the file's own structure is
//! escaped with a backslash outside code spans and fenced blocks (a heading `#`, a line of
//! `-`, `=`, `*` or `_` alone, both also inside a block quote or list item, the `[` of what
//! would be a link reference definition, `<` that would open HTML, `|` of a table, a backtick
//! no other closes, the backtick of a line starting as the file's header does); a fenced block
//! left open is closed (a fence closes as CommonMark says: indented at most three spaces).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use migrate_core::graph::{Graph, NodeId};
use migrate_core::listing::{Mark, marks};
use migrate_core::naming::FileName;
use migrate_core::text::without_url_passwords;
use migrate_core::version::Tables;
use migrate_runtime::cli::Exit;

use crate::project::printable;
use crate::project::{History, Project};

/// The file's name, beside the crate's Cargo.toml.
pub(crate) const FILE: &str = "CHANGELOG_DB.md";

/// The command that writes the file, as its header names it.
const COMMAND: &str = "cargo migrate changelog";

/// The file's first line, its title.
const TITLE: &str = "# Database changelog";

/// How the header's line starts, the third of the file: the title, a blank line, then it.
const HEADER_START: &str = "Written by `";

/// The most changed lines a stale file's difference shows.
const SHOWN_LINES: usize = 12;

/// How the changelog groups its entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Grouping {
    /// By the month of each migration's date.
    Month,
    /// By the branch each merge brought in.
    Branch,
}

impl Grouping {
    /// As `--by` spells it.
    fn as_str(self) -> &'static str {
        match self {
            Grouping::Month => "month",
            Grouping::Branch => "branch",
        }
    }
}

/// The options a changelog is written with, which its header records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Options {
    by: Grouping,
    db: bool,
}

impl Options {
    /// The command line that writes the file with these options.
    fn command_line(self) -> String {
        let db = if self.db { " --db" } else { "" };
        format!("{COMMAND} --by {}{db}", self.by.as_str())
    }

    /// The options the header of `text` records; `None` when it has no header this command
    /// wrote. The header is read at its own place only (the title, a blank line, then it), so
    /// that no line further down, a doc comment's, is taken for it.
    fn from_header(text: &str) -> Option<Options> {
        let mut lines = text.lines();
        if lines.next() != Some(TITLE) || lines.next() != Some("") {
            return None;
        }
        let line = lines.next()?.strip_prefix(HEADER_START)?;
        let words = line.split('`').next()?.strip_prefix(COMMAND)?;
        let mut options = Options { by: Grouping::Month, db: false };
        let mut words = words.split_whitespace();
        while let Some(word) = words.next() {
            match word {
                "--db" => options.db = true,
                "--by" => {
                    options.by = match words.next()? {
                        "month" => Grouping::Month,
                        "branch" => Grouping::Branch,
                        _ => return None,
                    }
                }
                _ => return None,
            }
        }
        Some(options)
    }
}

/// What the database says of a migration, with `--db`.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Applied {
    /// Applied; the time of its last successful upgrade (UTC, to the minute), when one is
    /// recorded after its last downgrade (a stamped revision has none, nor one stamped again
    /// after it was reverted).
    Yes(Option<String>),
    /// Not applied; the time of its last successful upgrade when it was applied once and
    /// reverted since.
    No(Option<String>),
}

impl Applied {
    /// As an entry says it.
    fn said(&self) -> String {
        match self {
            Applied::Yes(Some(at)) => format!("applied {at} UTC"),
            Applied::Yes(None) => "applied (stamped: no upgrade recorded)".to_owned(),
            Applied::No(None) => "not applied".to_owned(),
            Applied::No(Some(at)) => format!("not applied (reverted since its upgrade of {at} UTC)"),
        }
    }
}

/// One migration, as the changelog shows it.
struct Entry {
    rev: String,
    slug: String,
    /// `YYYY-MM-DD HH:MM` from the file name, when it has a date.
    date: Option<String>,
    parents: Vec<String>,
    depends_on: Vec<String>,
    /// The doc comment, one string per line, as written.
    doc: Vec<String>,
    applied: Option<Applied>,
}

/// `YYYY-MM-DD HH:MM` from a file name `YYYYMMDD_HHMM_…`, when it starts with a real date
/// and time.
fn date_of(file_name: &str) -> Option<String> {
    let stamp = file_name.get(..13)?;
    if file_name.as_bytes().get(13) != Some(&b'_') || FileName::check_timestamp(stamp).is_err() {
        return None;
    }
    Some(format!("{}-{}-{} {}:{}", &stamp[..4], &stamp[4..6], &stamp[6..8], &stamp[9..11], &stamp[11..13]))
}

/// `text` as a markdown code span, whatever backticks or line breaks it holds.
fn code(text: &str) -> String {
    let text: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    if longest == 0 && !text.is_empty() {
        return format!("`{text}`");
    }
    let fence = "`".repeat(longest + 1);
    format!("{fence} {text} {fence}")
}

/// The fence a line opens at the top level, as (its character, its length): three or more
/// backticks or tildes at the start of the line (a backtick fence's info string holds no
/// backtick). Strict on purpose: a line taken for a fence is not escaped.
fn opens_fence(line: &str) -> Option<(char, usize)> {
    let c = line.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let length = line.chars().take_while(|x| *x == c).count();
    let rest = &line[length..];
    (length >= 3 && !(c == '`' && rest.contains('`'))).then_some((c, length))
}

/// Whether `line` closes the fence `(c, length)`, as CommonMark says: at most three spaces of
/// indentation, a run of `c` at least `length` long, then nothing but spaces or tabs. A line
/// indented further is the block's text: taken for a close, it would leave the block open in
/// the file, every later entry turned to code.
fn closes_fence(line: &str, (c, length): (char, usize)) -> bool {
    let spaces = line.chars().take_while(|x| *x == ' ').count();
    if spaces > 3 {
        return false;
    }
    let line = &line[spaces..];
    let run = line.chars().take_while(|x| *x == c).count();
    run >= length && line[run..].chars().all(|x| x == ' ' || x == '\t')
}

/// The length, in characters, of the block quote markers (`>`) and list item markers (`-`,
/// `+`, `*`, or up to nine digits and `.` or `)`, each followed by a space or a tab) `chars`
/// starts with, with the spaces and tabs around them.
fn containers(chars: &[char]) -> usize {
    let blank = |i: usize| chars.get(i).is_some_and(|c| *c == ' ' || *c == '\t');
    let mut i = 0;
    loop {
        while blank(i) {
            i += 1;
        }
        let marker = match chars.get(i) {
            Some('>') => 1,
            Some('-' | '+' | '*') if blank(i + 1) => 1,
            Some(c) if c.is_ascii_digit() => {
                let digits = chars[i..].iter().take_while(|c| c.is_ascii_digit()).count();
                let ends = matches!(chars.get(i + digits), Some('.' | ')')) && blank(i + digits + 1);
                if digits <= 9 && ends { digits + 1 } else { 0 }
            }
            _ => 0,
        };
        if marker == 0 {
            return i;
        }
        i += marker;
    }
}

/// A doc comment line outside fenced blocks, with what would break the file's structure
/// escaped: see the module's documentation.
fn escape_line(line: &str) -> String {
    let trimmed = line.trim_start();
    let indent = &line[..line.len() - trimmed.len()];
    // A setext underline or a thematic break, which would make the line above a heading.
    let breaks = |text: &str| {
        !text.is_empty() && text.chars().all(|c| matches!(c, '-' | '=' | '*' | '_' | ' ' | '\t'))
    };
    if breaks(trimmed) {
        return format!("{indent}\\{trimmed}");
    }
    let chars: Vec<char> = line.chars().collect();
    // Where the line's first block starts, inside its block quotes and list items: a heading,
    // a break or a link reference definition there is one as much as at the line's start.
    let start = containers(&chars);
    let (outer, inner): (String, String) = (chars[..start].iter().collect(), chars[start..].iter().collect());
    if breaks(&inner) {
        return format!("{outer}\\{inner}");
    }
    let mut out = String::with_capacity(line.len() + 8);
    out.push_str(&outer);
    let mut i = start;
    if inner.starts_with(HEADER_START) {
        // As the header starts: its backtick escaped, so that no line reads as the header.
        out.push_str(HEADER_START.trim_end_matches('`'));
        out.push_str("\\`");
        i += HEADER_START.chars().count();
    }
    while i < chars.len() {
        let c = chars[i];
        if c == '`' {
            let run = chars[i..].iter().take_while(|x| **x == '`').count();
            // A code span: the next run of exactly as many backticks closes it.
            let mut j = i + run;
            let mut close = None;
            while j < chars.len() {
                let other = chars[j..].iter().take_while(|x| **x == '`').count();
                if other == run {
                    close = Some(j);
                    break;
                }
                j += other.max(1);
            }
            match close {
                Some(j) => {
                    out.extend(&chars[i..j + run]);
                    i = j + run;
                }
                None => {
                    for _ in 0..run {
                        out.push_str("\\`");
                    }
                    i += run;
                }
            }
            continue;
        }
        match c {
            // A backslash before punctuation would escape it (or the escape added after it).
            '\\' if chars.get(i + 1).is_some_and(char::is_ascii_punctuation) => out.push_str("\\\\"),
            '<' | '|' => {
                out.push('\\');
                out.push(c);
            }
            '#' if i == start => out.push_str("\\#"),
            // A link reference definition (`[label]: destination`, its label perhaps going on
            // to the next line): it would show nothing and redirect links all over the file.
            '[' if i == start && (inner.contains("]:") || !inner.contains(']')) => out.push_str("\\["),
            c => out.push(c),
        }
        i += 1;
    }
    out
}

/// A doc comment as markdown lines: its common indentation removed (as rustdoc does),
/// trailing spaces and blank lines at either end dropped, runs of blank lines made one,
/// structure-breaking text escaped, a fenced block left open closed.
fn why_markdown(doc: &[String]) -> Vec<String> {
    let lines: Vec<String> =
        doc.iter().flat_map(|l| l.split('\n')).map(|l| l.replace('\r', "").trim_end().to_owned()).collect();
    let indent = lines
        .iter()
        .filter(|l| !l.is_empty())
        .map(|l| l.chars().take_while(|c| *c == ' ').count())
        .min()
        .unwrap_or(0);
    let mut out: Vec<String> = Vec::new();
    let mut fence: Option<(char, usize)> = None;
    for line in &lines {
        let line = line.get(indent..).unwrap_or("");
        match fence {
            Some(open) => {
                out.push(line.to_owned());
                if closes_fence(line, open) {
                    fence = None;
                }
            }
            None if line.is_empty() => {
                if out.last().is_some_and(|l| !l.is_empty()) {
                    out.push(String::new());
                }
            }
            None => match opens_fence(line) {
                Some(open) => {
                    fence = Some(open);
                    out.push(line.to_owned());
                }
                None => out.push(escape_line(line)),
            },
        }
    }
    if let Some((c, length)) = fence {
        out.push(c.to_string().repeat(length));
    }
    while out.last().is_some_and(String::is_empty) {
        out.pop();
    }
    out
}

/// Appends one entry under a heading of `level` (`###` or `####`).
fn write_entry(out: &mut String, entry: &Entry, level: &str) {
    let _ = writeln!(out, "{level} {}\n", code(&entry.slug));
    let mut said = vec![entry.date.as_ref().map_or_else(|| "undated".to_owned(), |d| format!("{d} UTC"))];
    said.push(format!("revision {}", code(&entry.rev)));
    if entry.parents.len() > 1 {
        let parents: Vec<String> = entry.parents.iter().map(|p| code(p)).collect();
        said.push(format!("merges {}", parents.join(", ")));
    }
    if !entry.depends_on.is_empty() {
        let names: Vec<String> = entry.depends_on.iter().map(|p| code(p)).collect();
        said.push(format!("depends on {}", names.join(", ")));
    }
    if let Some(applied) = &entry.applied {
        said.push(applied.said());
    }
    let _ = writeln!(out, "{}\n", said.join(" · "));
    let why = why_markdown(&entry.doc);
    if !why.is_empty() {
        let _ = writeln!(out, "{}\n", why.join("\n"));
    }
}

/// The nodes newest first: the reverse of the linear order.
fn newest_first(graph: &Graph, nodes: impl IntoIterator<Item = NodeId>) -> Vec<NodeId> {
    let mut nodes: Vec<NodeId> = nodes.into_iter().collect();
    nodes.sort_by_key(|&n| std::cmp::Reverse(graph.position(n)));
    nodes
}

/// `from` and its ancestors through parents only (dependencies link branches, they do not
/// bring them in).
fn parent_ancestors(graph: &Graph, from: &[NodeId]) -> Vec<bool> {
    let mut seen = vec![false; graph.len()];
    let mut stack: Vec<NodeId> = from.to_vec();
    while let Some(node) = stack.pop() {
        if !std::mem::replace(&mut seen[node], true) {
            stack.extend(graph.parents(node));
        }
    }
    seen
}

/// The mainline (the first-parent line down from every revision nothing grows from), newest
/// first, each with what it brought in (empty but for merges), newest first.
fn branches(graph: &Graph) -> Vec<(NodeId, Vec<NodeId>)> {
    let n = graph.len();
    let mut mainline = vec![false; n];
    for tip in (0..n).filter(|&id| graph.children(id).is_empty()) {
        let mut node = Some(tip);
        while let Some(id) = node.filter(|&id| !mainline[id]) {
            mainline[id] = true;
            node = graph.parents(id).first().copied();
        }
    }
    let mut taken = mainline.clone();
    let mut brought: BTreeMap<NodeId, Vec<NodeId>> = BTreeMap::new();
    // Oldest merge first: a migration belongs to the first merge that brought it in.
    for &merge in graph.linear().iter().filter(|&&id| mainline[id]) {
        let Some((first, others)) = graph.parents(merge).split_first() else {
            continue;
        };
        let before = parent_ancestors(graph, &[*first]);
        let reached = parent_ancestors(graph, others);
        let mine: Vec<NodeId> = (0..n).filter(|&id| reached[id] && !before[id] && !taken[id]).collect();
        for &id in &mine {
            taken[id] = true;
        }
        brought.insert(merge, newest_first(graph, mine));
    }
    // Every revision is on the mainline or behind one of its merges; whatever is not (no
    // graph this module knows makes one) is listed on the mainline rather than left out.
    let listed = (0..n).filter(|&id| mainline[id] || !taken[id]);
    newest_first(graph, listed).into_iter().map(|id| (id, brought.remove(&id).unwrap_or_default())).collect()
}

/// The text of the changelog.
fn render(entries: &[Entry], graph: &Graph, options: Options, folder: &str) -> String {
    let mut out = format!(
        "{TITLE}\n\n{HEADER_START}{}` from the migrations folder {}, newest first: do not edit it \
         by hand. Run that command again after a migration changes and commit the file; `cargo migrate check` \
         fails while it is stale.\n\n",
        options.command_line(),
        code(folder)
    );
    if entries.is_empty() {
        out.push_str("No migrations yet.\n");
        return out;
    }
    match options.by {
        Grouping::Month => {
            let mut months: BTreeMap<std::cmp::Reverse<Option<String>>, Vec<NodeId>> = BTreeMap::new();
            for id in newest_first(graph, 0..graph.len()) {
                let month = entries[id].date.as_ref().map(|d| d[..7].to_owned());
                months.entry(std::cmp::Reverse(month)).or_default().push(id);
            }
            for (std::cmp::Reverse(month), ids) in &months {
                let _ = writeln!(out, "## {}\n", month.as_deref().unwrap_or("Undated"));
                for &id in ids {
                    write_entry(&mut out, &entries[id], "###");
                }
            }
        }
        Grouping::Branch => {
            out.push_str(
                "## Mainline\n\nThe first-parent line down from each head, newest first; after each merge, the \
                 migrations it brought in, newest first.\n\n",
            );
            for (id, brought) in branches(graph) {
                write_entry(&mut out, &entries[id], "###");
                if !brought.is_empty() {
                    let _ = writeln!(out, "Brought in by {}:\n", code(&entries[id].slug));
                    for other in brought {
                        write_entry(&mut out, &entries[other], "####");
                    }
                }
            }
        }
    }
    // One newline at the end, as editors leave it.
    let end = out.trim_end().len();
    out.truncate(end);
    out.push('\n');
    out
}

/// The rows of `sql`, as text.
fn rows(client: &mut postgres::Client, sql: &str) -> Result<Vec<Vec<Option<String>>>> {
    crate::project::text_rows(client, sql).map_err(|e| {
        anyhow::anyhow!(
            "cannot read the database's migration history: {}",
            without_url_passwords(&crate::project::db_message(&e))
        )
    })
}

/// What the database at `url` says of each node of `graph`: applied (below its version
/// rows) or not, and the time of each revision's last successful upgrade.
fn applied(graph: &Graph, url: &str) -> Result<Vec<Applied>> {
    // The runner's own connection (its TLS settings, its errors and their help, which never
    // show the password; hidden again in case a message quotes the URL).
    let mut client = migrate_runtime::testkit::client(url)
        .map_err(|e| anyhow::anyhow!("{}", without_url_passwords(&e.to_string())))?;
    let tables = Tables::default();
    let exist = rows(&mut client, &tables.exist_sql())?;
    let flag = |i: usize| exist.first().and_then(|r| r.get(i)).cloned().flatten().as_deref() == Some("t");
    let (version_exists, history_exists) = (flag(0), flag(1));
    let mut current = Vec::new();
    if version_exists {
        let [version_rows, _, _] = tables.state_sql();
        for row in rows(&mut client, &version_rows)? {
            let Some(rev) = row.into_iter().next().flatten() else {
                continue;
            };
            match graph.node(&rev) {
                Some(node) => current.push(node),
                None => bail!(
                    "the database's version row `{}` is no migration of this folder: which migrations it applied \
                     cannot be told\n= help: run the changelog with --db against the database of this crate, or \
                     without --db",
                    printable(&rev)
                ),
            }
        }
    }
    // Each revision's last successful upgrade: its time, and whether a successful downgrade
    // of the revision came after it (then a revision applied now was stamped since, and its
    // upgrade is not what applied it).
    let mut upgraded: BTreeMap<String, (String, bool)> = BTreeMap::new();
    if history_exists {
        let sql = format!(
            "SELECT DISTINCT ON (revision) revision, to_char(coalesce(finished_at, started_at) AT TIME ZONE 'UTC', \
             'YYYY-MM-DD HH24:MI'), EXISTS (SELECT 1 FROM {history} d WHERE d.revision = u.revision AND \
             d.direction = 'downgrade' AND d.success AND d.id > u.id) FROM {history} u WHERE direction = 'upgrade' \
             AND success ORDER BY revision, id DESC",
            history = tables.history_table()
        );
        for row in rows(&mut client, &sql)? {
            if let [Some(rev), Some(at), reverted] = row.as_slice() {
                upgraded.insert(rev.clone(), (at.clone(), reverted.as_deref() != Some("f")));
            }
        }
    }
    let marks = marks(graph, &current);
    Ok((0..graph.len())
        .map(|id| {
            let last = upgraded.get(graph.rev(id));
            match marks[id] {
                Mark::Pending => Applied::No(last.map(|(at, _)| at.clone())),
                Mark::Applied | Mark::Current => {
                    Applied::Yes(last.filter(|(_, reverted)| !reverted).map(|(at, _)| at.clone()))
                }
            }
        })
        .collect())
}

/// The changelog of the project's folder with `options`; with `--db`, `url` is the
/// database, which must be given. Returns the text and the number of migrations.
fn changelog(project: &Project, options: Options, url: Option<String>) -> Result<(String, usize)> {
    let folder = project.scan()?;
    let history = History::of(&folder);
    // The doc comment of each revision, as written (the listing's `why` is one paragraph):
    // the first file of a revision, as the graph keeps the first of duplicates.
    let mut docs: BTreeMap<&str, &[String]> = BTreeMap::new();
    for file in &folder.files {
        if let Some(module) = file.source.modules.first()
            && let Some(rev) = &module.rev
        {
            docs.entry(rev.as_str()).or_insert(module.doc.as_slice());
        }
    }
    let applied = if options.db {
        let url = migrate_runtime::cli::need_url(url).map_err(|e| {
            anyhow::anyhow!("{e}\n= help: --db reads when each migration was applied from it")
        })?;
        Some(applied(&history.graph, &url)?)
    } else {
        None
    };
    let entries: Vec<Entry> = history
        .entries
        .iter()
        .enumerate()
        .map(|(id, listed)| {
            let name = Path::new(&listed.file).file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
            Entry {
                rev: listed.rev.clone(),
                slug: listed.slug.clone(),
                date: date_of(&name),
                parents: listed.parents.clone(),
                depends_on: listed.depends_on.clone(),
                doc: docs.get(listed.rev.as_str()).map(|d| d.to_vec()).unwrap_or_default(),
                applied: applied.as_ref().map(|a| a[id].clone()),
            }
        })
        .collect();
    let text = render(&entries, &history.graph, options, &folder.display);
    Ok((text, entries.len()))
}

/// The changelog's path, beside the crate's Cargo.toml.
fn path(project: &Project) -> PathBuf {
    project.dir.join(FILE)
}

/// The most lines of the middle of a stale file compared line by line (beyond, what differs
/// is shown as two blocks).
const COMPARED_CELLS: usize = 4_000_000;

/// What differs between the file's text and what would be written, as hunks of `-` (in the
/// file) and `+` (written now) lines under `@@ line N @@` (N in the file), at most
/// [`SHOWN_LINES`] changed lines in all.
fn differences(found: &str, expected: &str) -> Vec<String> {
    let (a, b): (Vec<&str>, Vec<&str>) = (found.lines().collect(), expected.lines().collect());
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..].iter().rev().zip(b[prefix..].iter().rev()).take_while(|(x, y)| x == y).count();
    let (removed, added) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    if removed.is_empty() && added.is_empty() {
        return vec!["the lines are the same; the line endings or the final newline differ".to_owned()];
    }
    // Each line of the middle: its sign (` ` kept, `-` in the file only, `+` written now only),
    // the file's line it stands at, its text.
    let mut edits: Vec<(char, usize, &str)> = Vec::new();
    if (removed.len() + 1) * (added.len() + 1) <= COMPARED_CELLS {
        // The longest common subsequence of the middle, from the end.
        let (n, m) = (removed.len(), added.len());
        let mut longest = vec![0u32; (n + 1) * (m + 1)];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                longest[i * (m + 1) + j] = if removed[i] == added[j] {
                    longest[(i + 1) * (m + 1) + j + 1] + 1
                } else {
                    longest[(i + 1) * (m + 1) + j].max(longest[i * (m + 1) + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n || j < m {
            if i < n && j < m && removed[i] == added[j] {
                edits.push((' ', prefix + i, removed[i]));
                (i, j) = (i + 1, j + 1);
            } else if j == m || (i < n && longest[(i + 1) * (m + 1) + j] >= longest[i * (m + 1) + j + 1]) {
                edits.push(('-', prefix + i, removed[i]));
                i += 1;
            } else {
                edits.push(('+', prefix + i, added[j]));
                j += 1;
            }
        }
    } else {
        edits.extend(removed.iter().enumerate().map(|(i, l)| ('-', prefix + i, *l)));
        edits.extend(added.iter().map(|l| ('+', prefix + removed.len(), *l)));
    }
    let mut lines = Vec::new();
    let mut shown = 0;
    let mut in_hunk = false;
    let changes = edits.iter().filter(|(sign, _, _)| *sign != ' ').count();
    for (sign, line, text) in edits {
        if sign == ' ' {
            in_hunk = false;
            continue;
        }
        if shown == SHOWN_LINES {
            lines.push(format!("… {} more changed lines", changes - shown));
            break;
        }
        if !in_hunk {
            lines.push(format!("@@ line {} @@", line + 1));
            in_hunk = true;
        }
        lines.push(format!("{sign} {text}"));
        shown += 1;
    }
    lines
}

/// `bytes` with each `\r\n` made `\n`.
fn without_carriage_returns(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    for (i, &b) in bytes.iter().enumerate() {
        if !(b == b'\r' && bytes.get(i + 1) == Some(&b'\n')) {
            out.push(b);
        }
    }
    out
}

/// The verdict of a check of the file.
enum Verdict {
    /// The file is what would be written.
    UpToDate(String),
    /// It is not, or it is missing: the message.
    Stale(String),
    /// It was written with `--db` and no database is given: not checked, the note.
    NotChecked(String),
}

/// Checks the file against what its header's options write now. `need_db`: a file written
/// with `--db` is an error without a database (else it is not checked).
fn verdict(project: &Project, url: Option<String>, need_db: bool) -> Result<Verdict> {
    let path = path(project);
    let shown = crate::shown(&path);
    let found = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Verdict::Stale(format!(
                "`{shown}` is missing\n= help: run `{COMMAND}` and commit the file"
            )));
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read `{shown}`")),
    };
    let text = String::from_utf8_lossy(&found);
    let recorded = Options::from_header(&text);
    let options = recorded.unwrap_or(Options { by: Grouping::Month, db: false });
    if options.db && !need_db && migrate_runtime::cli::need_url(url.clone()).is_err() {
        return Ok(Verdict::NotChecked(format!(
            "`{shown}` was written with --db and no database is set (--database-url, DATABASE_URL, ./.env): not \
             checked"
        )));
    }
    let (expected, count) = changelog(project, options, url)?;
    let help = format!("= help: run `{}` and commit the file", options.command_line());
    if recorded.is_none() {
        return Ok(Verdict::Stale(format!(
            "`{shown}` is stale: its header does not say which `{COMMAND}` options wrote it (`Written by \
             `{COMMAND} …``); compared with the default options (- in the file, + written now):\n{}\n{help}",
            differences(&text, &expected).join("\n")
        )));
    }
    // Line endings as git may check them out (core.autocrlf): `\r\n` read as `\n`.
    if without_carriage_returns(&found) == expected.as_bytes() {
        return Ok(Verdict::UpToDate(format!(
            "`{shown}` is up to date ({count} migration{})",
            if count == 1 { "" } else { "s" }
        )));
    }
    Ok(Verdict::Stale(format!(
        "`{shown}` is stale: it is not what `{}` writes now (- in the file, + written now):\n{}\n{help}",
        options.command_line(),
        differences(&text, &expected).join("\n")
    )))
}

/// After a command changed the folder (`squash`, `prune`): the file, when it exists, written
/// again with the options its header records, so that it does not go stale in the same change.
/// Returns what to say: that it was written, or, for a file written with `--db` (which needs
/// the database), the command that brings it up to date.
pub(crate) fn refresh(project: &Project) -> Result<Option<String>> {
    let path = path(project);
    let shown = crate::shown(&path);
    let Ok(found) = std::fs::read_to_string(&path) else {
        return Ok(None);
    };
    let options = Options::from_header(&found).unwrap_or(Options { by: Grouping::Month, db: false });
    if options.db {
        return Ok(Some(format!(
            "`{shown}` was written with --db: run `{}` and commit it",
            options.command_line()
        )));
    }
    let (text, _) = changelog(project, options, None)?;
    std::fs::write(&path, &text).with_context(|| format!("cannot write `{shown}`"))?;
    Ok(Some(format!("wrote `{shown}` again ({})", options.command_line())))
}

/// `cargo migrate check`'s part: when the file exists, whether it is up to date (a file
/// written with `--db` is checked only when a database is set; a note says so otherwise).
/// Says it on stdout, or on stderr when stdout holds JSON. Returns false when it is stale.
pub(crate) fn check_if_present(project: &Project, url: Option<String>, json: bool) -> Result<bool> {
    if !path(project).exists() {
        return Ok(true);
    }
    let say = |text: &str| -> std::io::Result<()> {
        use std::io::Write as _;
        if json { writeln!(std::io::stderr().lock(), "{text}") } else { outln!("{text}") }
    };
    match verdict(project, url, false)? {
        Verdict::UpToDate(said) => say(&said)?,
        Verdict::NotChecked(said) => say(&format!("note: {said}"))?,
        Verdict::Stale(said) => {
            say(&format!("error: {said}"))?;
            return Ok(false);
        }
    }
    Ok(true)
}

/// `cargo migrate changelog [--by month|branch] [--db] [--check]`: writes the file, or with
/// `check` compares it with what the options of its header write now. `url` is
/// `--database-url`, used with `--db` (else `DATABASE_URL`, else `./.env`).
pub(crate) fn run(
    project: &Project,
    by: Grouping,
    db: bool,
    url: Option<String>,
    check: bool,
) -> Result<Exit> {
    if check {
        return Ok(match verdict(project, url, true)? {
            Verdict::UpToDate(said) => {
                outln!("{said}")?;
                Exit::Done
            }
            Verdict::Stale(said) => {
                outln!("error: {said}")?;
                Exit::CheckFailed
            }
            Verdict::NotChecked(said) => bail!("{said}"),
        });
    }
    let (text, count) = changelog(project, Options { by, db }, url)?;
    let path = path(project);
    let shown = crate::shown(&path);
    std::fs::write(&path, &text).with_context(|| format!("cannot write `{shown}`"))?;
    outln!("wrote {shown} ({count} migration{})", if count == 1 { "" } else { "s" })?;
    Ok(Exit::Done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|l| format!(" {l}")).collect()
    }

    #[test]
    fn dates_come_from_real_timestamps_only() {
        assert_eq!(date_of("20241025_1412_abc_x.rs").as_deref(), Some("2024-10-25 14:12"));
        for name in
            ["0001_abc_x.rs", "20241325_1412_abc_x.rs", "20241025_2460_abc_x.rs", "20241025_1412.rs", "é"]
        {
            assert_eq!(date_of(name), None, "{name}");
        }
    }

    #[test]
    fn code_spans_hold_any_text() {
        assert_eq!(code("abc"), "`abc`");
        assert_eq!(code("a`b"), "`` a`b ``");
        assert_eq!(code("a\nb"), "`a b`");
    }

    #[test]
    fn the_header_gives_back_its_options() {
        for options in
            [Options { by: Grouping::Month, db: false }, Options { by: Grouping::Branch, db: true }]
        {
            let text = format!("{TITLE}\n\nWritten by `{}` from …\n", options.command_line());
            assert_eq!(Options::from_header(&text), Some(options));
        }
        let header = |line: &str| Options::from_header(&format!("{TITLE}\n\n{line}\n"));
        assert_eq!(header("Written by `cargo migrate changelog --by year`"), None);
        assert_eq!(header("Written by `cargo migrate changelog --dbx`"), None);
        assert_eq!(Options::from_header("# no header\n"), None);
    }

    #[test]
    fn structure_breaking_text_is_escaped_and_the_rest_kept() {
        let why = why_markdown(&doc(&[
            "# Not a heading",
            "a | b and `x | y` and <script>alert(1)</script>",
            "---",
            "- a list item stays",
            "unclosed `tick and \\<",
            "",
            "",
            "```sql",
            "SELECT '<b>' | 1;",
            "```",
            "~~~",
            "# inside an open fence",
        ]));
        assert_eq!(
            why,
            [
                "\\# Not a heading",
                "a \\| b and `x | y` and \\<script>alert(1)\\</script>",
                "\\---",
                "- a list item stays",
                "unclosed \\`tick and \\\\\\<",
                "",
                "```sql",
                "SELECT '<b>' | 1;",
                "```",
                "~~~",
                "# inside an open fence",
                "~~~",
            ]
        );
    }

    #[test]
    fn an_indented_fence_is_not_trusted() {
        // Inside a list item, a fence indented under it ends where the item does: its lines
        // are escaped as text.
        let why = why_markdown(&doc(&["- item", "  ```", "<!--", "  ```"]));
        assert_eq!(why, ["- item", "  \\`\\`\\`", "\\<!--", "  \\`\\`\\`"]);
    }

    #[test]
    fn a_fence_indented_four_spaces_does_not_close() {
        // Indented four spaces, the line is the block's text: the block stays open, and is
        // closed after the doc comment.
        let why = why_markdown(&doc(&[
            "Starts a fence:",
            "```",
            "code",
            "    ```",
            "# Forged heading after the fake close",
        ]));
        assert_eq!(
            why,
            ["Starts a fence:", "```", "code", "    ```", "# Forged heading after the fake close", "```"]
        );
        let open = ('`', 3);
        for closing in ["```", "   ```", "````", "```  ", "``` \t"] {
            assert!(closes_fence(closing, open), "{closing:?}");
        }
        for other in ["    ```", "\t```", "``", "``` x", "~~~", " ```a"] {
            assert!(!closes_fence(other, open), "{other:?}");
        }
        assert!(closes_fence("  ~~~~~", ('~', 4)));
    }

    #[test]
    fn the_header_is_read_at_its_own_place_only() {
        let header = "Written by `cargo migrate changelog --by branch --db` from …";
        // The header line gone, a doc comment's line further down starting as it does.
        let forged = format!("# Database changelog\n\nhand edit\n\n{header}\n");
        assert_eq!(Options::from_header(&forged), None);
        assert_eq!(Options::from_header(&format!("# Database changelog\n{header}\n")), None);
        assert_eq!(Options::from_header(&format!("# Other\n\n{header}\n")), None);
        assert_eq!(
            Options::from_header(&format!("# Database changelog\r\n\r\n{header}\r\n")),
            Some(Options { by: Grouping::Branch, db: true })
        );
        // And a doc comment's line never starts as the header does.
        let why = why_markdown(&doc(&[
            "Written by `cargo migrate changelog --by branch --db` forged",
            "> Written by `x`",
        ]));
        assert_eq!(
            why,
            ["Written by \\`cargo migrate changelog --by branch --db\\` forged", "> Written by \\`x\\`"]
        );
    }

    #[test]
    fn headings_and_definitions_inside_quotes_and_lists_are_escaped() {
        let why = why_markdown(&doc(&[
            "> # quoted heading",
            "> > ## deeper",
            "- # listed heading",
            "* > + # nested",
            "12. # numbered",
            "3) # numbered too",
            "> ---",
            "[evil]: https://evil.example/",
            "> [evil]: <https://evil.example/>",
            "[a label going",
            "on]: https://evil.example/",
            "[a link](https://example.com/) stays, as # and [x] inside a line",
            "-# no list marker, #hashtag, 1234567890. # too many digits",
        ]));
        assert_eq!(
            why,
            [
                "> \\# quoted heading",
                "> > \\## deeper",
                "- \\# listed heading",
                "* > + \\# nested",
                "12. \\# numbered",
                "3) \\# numbered too",
                "> \\---",
                "\\[evil]: https://evil.example/",
                "> \\[evil]: \\<https://evil.example/>",
                "\\[a label going",
                "on]: https://evil.example/",
                "[a link](https://example.com/) stays, as # and [x] inside a line",
                "-# no list marker, #hashtag, 1234567890. # too many digits",
            ]
        );
    }

    #[test]
    fn carriage_returns_before_newlines_only_are_dropped() {
        assert_eq!(without_carriage_returns(b"a\r\nb\r\n"), b"a\nb\n");
        assert_eq!(without_carriage_returns(b"a\rb\r"), b"a\rb\r");
        assert_eq!(printable("ab\ncd\u{1b}[31m"), "ab\\ncd\\u{1b}[31m");
    }

    #[test]
    fn differences_show_the_first_changed_lines() {
        assert_eq!(differences("a\nb\nc\n", "a\nB\nc\n"), ["@@ line 2 @@", "- b", "+ B"]);
        assert_eq!(differences("a\n", "a\nb\n"), ["@@ line 2 @@", "+ b"]);
        // Two changes far apart are two hunks, the lines between them not shown.
        let file = "h\n1\n2\n3\n4\nx\n";
        assert_eq!(
            differences(file, "H\n1\n2\n3\n4\nX\n"),
            ["@@ line 1 @@", "- h", "+ H", "@@ line 6 @@", "- x", "+ X"]
        );
        assert_eq!(differences(file, "h\n1\n3\n4\nx\n"), ["@@ line 3 @@", "- 2"]);
        let many: String = (0..20).map(|i| format!("{i}\n")).collect();
        let shown = differences(&many, "");
        assert_eq!(shown.len(), 1 + SHOWN_LINES + 1, "{shown:?}");
        assert_eq!(shown.last().map(String::as_str), Some("… 8 more changed lines"));
        assert_eq!(
            differences("a\n", "a"),
            ["the lines are the same; the line endings or the final newline differ"]
        );
    }
}
