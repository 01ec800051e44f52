//! `import --from alembic <dir>`: an Alembic project becomes migrations that keep its revision
//! ids, its graph (down revisions, merges, `branch_labels`, `depends_on`) and, byte for byte,
//! the SQL Alembic itself renders for each revision offline, so a database Alembic migrated
//! carries on from its `alembic_version` rows with no stamp.
//!
//! `<dir>` is the folder holding `alembic.ini`, where `alembic` commands run: the revision
//! scripts are found through its `script_location` (its `versions/` folder, or the
//! `version_locations`). With `--upgrade-sql` and `--downgrade-sql` (Alembic's offline scripts,
//! made by the user) Alembic is not run, and `<dir>` may also be the script folder (with
//! `env.py` and `versions/`) or the `versions/` folder itself.
//!
//! The fields of each revision script (`revision`, `down_revision`, `branch_labels`,
//! `depends_on`, the docstring with its message and `Create Date`) are read by a small reader
//! of the module's top-level assignments of Python literals, not by asking Alembic's
//! `ScriptDirectory`: the `--upgrade-sql` route must work where no Python is installed, one
//! reader serves both routes, and reading does not import the application code a script
//! imports. What it cannot read (a computed value, an f-string) is an error naming the file
//! and the field; the scripts' revisions must also be exactly the steps of Alembic's output.
//!
//! The SQL is Alembic's own offline output, `alembic upgrade base:heads --sql` and `alembic
//! downgrade heads:base --sql`, cut at its `-- Running upgrade X -> Y` and `-- Running
//! downgrade Y -> X` lines, without Alembic's version-table statements and its `BEGIN;` and
//! `COMMIT;`. A `COMMIT;` inside a step is an `autocommit_block`: the migration becomes
//! `transactional = false`. Offline, Alembic starts a downgrade from one revision, so several
//! heads take one run per head. When a downgrade run stops (a downgrade that raises), each
//! revision it did not reach is asked for on its own (`downgrade REV:PARENT --sql`, whose first
//! step is REV's), and the one that raises becomes `op.irreversible` with Alembic's message.
//!
//! Everything is read, run and planned before anything is written: a refusal leaves the crate
//! as it was.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, anyhow, bail};
use migrate_core::id::IdFormat;
use migrate_core::naming::FileName;
use migrate_core::sql::needs_no_transaction;
use migrate_core::text::without_url_passwords;

use crate::import::{slug_of, stamp_of};
use crate::project::Project;
use crate::revision::migration_text;
use crate::time::stamp_now;

/// How the SQL is had: by running Alembic, or from the offline scripts the user made.
#[derive(Debug, Default)]
pub(crate) struct Options {
    /// The `alembic` program (default: `alembic` on `PATH`).
    pub(crate) alembic: Option<PathBuf>,
    /// The output of `alembic upgrade base:heads --sql`, instead of running Alembic.
    pub(crate) upgrade_sql: Option<PathBuf>,
    /// The output of `alembic downgrade heads:base --sql`, with `upgrade_sql`.
    pub(crate) downgrade_sql: Option<PathBuf>,
}

/// One revision script, as read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Script {
    /// The file, as shown in messages.
    file: String,
    revision: String,
    down_revision: Vec<String>,
    branch_labels: Vec<String>,
    depends_on: Vec<String>,
    /// The docstring's first line: the `-m` message.
    message: String,
    /// The docstring without Alembic's `Revision ID`, `Revises` and `Create Date` lines.
    why: Vec<String>,
    /// `Create Date`, as written.
    create_date: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Finding the project.

/// Where the project's pieces are.
struct Layout {
    /// The folder of `alembic.ini`, where Alembic runs; `None` for a script or versions folder.
    ini_dir: Option<PathBuf>,
    /// The folders holding revision scripts.
    versions: Vec<PathBuf>,
    /// `recursive_version_locations = true`.
    recursive: bool,
}

/// The value of `key` in the `[alembic]` section of an ini text, continuation lines joined.
fn ini_value(ini: &str, key: &str) -> Option<String> {
    let mut section = String::new();
    let mut found: Option<String> = None;
    for line in ini.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') && trimmed.ends_with(']') {
            section = trimmed[1..trimmed.len() - 1].trim().to_owned();
            if found.is_some() {
                break;
            }
            continue;
        }
        if section != "alembic" || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if let Some(value) = &mut found {
            if line.starts_with([' ', '\t']) && !trimmed.is_empty() {
                value.push(' ');
                value.push_str(trimmed);
                continue;
            }
            break;
        }
        if let Some((name, value)) = trimmed.split_once(['=', ':'])
            && name.trim() == key
        {
            found = Some(value.trim().to_owned());
        }
    }
    found
}

fn locate(dir: &Path) -> Result<Layout> {
    let ini = dir.join("alembic.ini");
    if ini.is_file() {
        let text =
            std::fs::read_to_string(&ini).with_context(|| format!("cannot read `{}`", ini.display()))?;
        let here = dir.display().to_string();
        let expand = |value: String| dir.join(value.replace("%(here)s", &here));
        let Some(location) = ini_value(&text, "script_location") else {
            bail!(
                "`{}` has no `script_location` under [alembic]\n= help: Alembic needs it too: point it at the folder of env.py",
                ini.display()
            );
        };
        if location.contains(':') && !Path::new(&location.replace("%(here)s", &here)).is_dir() {
            bail!(
                "`script_location = {location}` in `{}` names a package resource, which this import does not read\n\
                 = help: set it to the folder of env.py",
                ini.display()
            );
        }
        let versions = match ini_value(&text, "version_locations") {
            Some(locations) => {
                let separator = ini_value(&text, "version_path_separator").unwrap_or_default();
                let parts: Vec<String> = match separator.as_str() {
                    "" | "space" | "newline" => locations.split_whitespace().map(str::to_owned).collect(),
                    ":" | "colon" => locations.split(':').map(str::to_owned).collect(),
                    ";" | "semicolon" => locations.split(';').map(str::to_owned).collect(),
                    "os" | "/" => locations.split(':').map(str::to_owned).collect(),
                    other => locations.split(other).map(str::to_owned).collect(),
                };
                parts.into_iter().map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()).map(expand).collect()
            }
            None => vec![expand(location).join("versions")],
        };
        let recursive = ini_value(&text, "recursive_version_locations").is_some_and(|v| v == "true");
        return Ok(Layout { ini_dir: Some(dir.to_path_buf()), versions, recursive });
    }
    if dir.join("versions").is_dir() {
        return Ok(Layout { ini_dir: None, versions: vec![dir.join("versions")], recursive: false });
    }
    if dir.is_dir() {
        return Ok(Layout { ini_dir: None, versions: vec![dir.to_path_buf()], recursive: false });
    }
    bail!("`{}` is not a folder", dir.display())
}

/// The revision scripts, as Alembic loads them: every `.py` file of the versions folders (and
/// their subfolders when recursive) but `__init__.py` and editor files `.#*`, sorted.
fn script_files(layout: &Layout) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut folders = layout.versions.clone();
    while let Some(folder) = folders.pop() {
        let entries =
            std::fs::read_dir(&folder).with_context(|| format!("cannot read `{}`", folder.display()))?;
        for entry in entries {
            let path = entry.with_context(|| format!("cannot read `{}`", folder.display()))?.path();
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if path.is_dir() {
                if layout.recursive && name != "__pycache__" {
                    folders.push(path);
                }
            } else if name.ends_with(".py") && name != "__init__.py" && !name.starts_with(".#") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

// ---------------------------------------------------------------------------------------------
// The reader of a revision script's literals.

/// A token of the Python reader.
#[derive(Clone, Debug, PartialEq)]
enum Token {
    /// A string literal, decoded.
    Str(String),
    /// A name or keyword.
    Name(String),
    /// One character of punctuation: `( ) [ ] { } , = :`, or any other character.
    Punct(char),
    /// The end of a logical line (outside brackets).
    Newline,
}

/// A token with its line (1-based) and whether it starts a line at column 0.
#[derive(Clone, Debug)]
struct Located {
    token: Token,
    line: usize,
    column_zero: bool,
}

/// Decodes the escapes of a Python string body.
fn unescape(body: &str) -> String {
    let mut out = String::new();
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(next) = chars.next() else {
            out.push('\\');
            break;
        };
        let mut hex = |n: usize| -> Option<char> {
            let digits: String = (0..n).filter_map(|_| chars.next()).collect();
            u32::from_str_radix(&digits, 16).ok().and_then(char::from_u32)
        };
        match next {
            '\n' => {}
            '\\' | '\'' | '"' => out.push(next),
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'x' => out.extend(hex(2)),
            'u' => out.extend(hex(4)),
            'U' => out.extend(hex(8)),
            other => {
                out.push('\\');
                out.push(other);
            }
        }
    }
    out
}

/// Splits Python source into the tokens the reader needs; `Err` with a line for a string that
/// does not end.
fn tokenize(text: &str) -> Result<Vec<Located>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let (mut i, mut line, mut depth, mut line_start) = (0, 1, 0usize, true);
    let mut column = 0;
    while i < chars.len() {
        let c = chars[i];
        let start_line = line;
        let column_zero = line_start && column == 0;
        match c {
            '\n' => {
                if depth == 0 && !matches!(tokens.last(), Some(Located { token: Token::Newline, .. }) | None)
                {
                    tokens.push(Located { token: Token::Newline, line, column_zero: false });
                }
                line += 1;
                i += 1;
                column = 0;
                line_start = true;
                continue;
            }
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            '\\' if chars.get(i + 1) == Some(&'\n') => {
                i += 2;
                line += 1;
                column = 1;
                continue;
            }
            c if c == ' ' || c == '\t' || c == '\r' || c == '\x0c' => {
                i += 1;
                column += 1;
                continue;
            }
            _ => {}
        }
        line_start = false;
        // A string, with its prefix.
        let prefix_len = chars[i..].iter().take_while(|c| c.is_ascii_alphabetic()).count();
        let prefix: String = chars[i..i + prefix_len].iter().collect::<String>().to_ascii_lowercase();
        let quote_at = i + prefix_len;
        let is_string = prefix_len <= 2
            && matches!(chars.get(quote_at), Some('"' | '\''))
            && matches!(prefix.as_str(), "" | "r" | "u" | "b" | "f" | "rb" | "br" | "fr" | "rf");
        if is_string {
            let quote = chars[quote_at];
            let triple = chars.get(quote_at + 1) == Some(&quote) && chars.get(quote_at + 2) == Some(&quote);
            let delimiter = if triple { 3 } else { 1 };
            let mut j = quote_at + delimiter;
            let body_start = j;
            loop {
                match chars.get(j) {
                    None => return Err(format!("line {start_line}: a string that does not end")),
                    Some('\\') => {
                        if chars.get(j + 1) == Some(&'\n') {
                            line += 1;
                        }
                        j += 2;
                    }
                    Some('\n') if !triple => {
                        return Err(format!("line {start_line}: a string that does not end"));
                    }
                    Some('\n') => {
                        line += 1;
                        j += 1;
                    }
                    Some(&q)
                        if q == quote
                            && (!triple
                                || (chars.get(j + 1) == Some(&q) && chars.get(j + 2) == Some(&q))) =>
                    {
                        break;
                    }
                    Some(_) => j += 1,
                }
            }
            let body: String = chars[body_start..j].iter().collect();
            column += j + delimiter - i;
            i = j + delimiter;
            if prefix.contains('b') || prefix.contains('f') {
                tokens.push(Located { token: Token::Punct('?'), line: start_line, column_zero });
                continue;
            }
            let value = if prefix.contains('r') { body } else { unescape(&body) };
            tokens.push(Located { token: Token::Str(value), line: start_line, column_zero });
            continue;
        }
        if c.is_alphanumeric() || c == '_' {
            let len = chars[i..].iter().take_while(|c| c.is_alphanumeric() || **c == '_').count();
            tokens.push(Located {
                token: Token::Name(chars[i..i + len].iter().collect()),
                line,
                column_zero,
            });
            i += len;
            column += len;
            continue;
        }
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        tokens.push(Located { token: Token::Punct(c), line, column_zero });
        i += 1;
        column += 1;
    }
    tokens.push(Located { token: Token::Newline, line, column_zero: false });
    Ok(tokens)
}

/// A value of the four fields: `None`, a string, or a tuple or list of strings.
fn literal(tokens: &[Located]) -> Option<Vec<String>> {
    let tokens: Vec<&Token> = tokens.iter().map(|t| &t.token).collect();
    match tokens.as_slice() {
        [Token::Name(none)] if none == "None" => Some(Vec::new()),
        [Token::Str(one)] => Some(vec![one.clone()]),
        [Token::Punct('(' | '['), inner @ .., Token::Punct(close @ (')' | ']'))] => {
            let (open, close) = (tokens[0], *close);
            if (open == &Token::Punct('(')) != (close == ')') {
                return None;
            }
            strings(inner)
        }
        // A bare tuple: `"a", "b"`.
        inner if inner.len() > 1 => strings(inner),
        _ => None,
    }
}

/// `"a", "b",` as strings.
fn strings(tokens: &[&Token]) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut expect_string = true;
    for token in tokens {
        match (expect_string, token) {
            (true, Token::Str(s)) => {
                out.push(s.clone());
                expect_string = false;
            }
            (false, Token::Punct(',')) => expect_string = true,
            _ => return None,
        }
    }
    Some(out)
}

/// The fields of a revision script; `Err` with what cannot be read.
fn read_script(file: &str, text: &str) -> Result<Script, String> {
    let tokens = tokenize(text)?;
    let mut script = Script { file: file.to_owned(), ..Script::default() };
    if let [Located { token: Token::Str(doc), .. }, Located { token: Token::Newline, .. }, ..] =
        tokens.as_slice()
    {
        let mut lines: Vec<String> = Vec::new();
        for line in doc.replace('\r', "").lines() {
            let trimmed = line.trim();
            if let Some(date) = trimmed.strip_prefix("Create Date:") {
                script.create_date = Some(date.trim().to_owned());
            } else if !(trimmed.starts_with("Revision ID:") || trimmed.starts_with("Revises:")) {
                lines.push(line.trim_end().to_owned());
            }
        }
        while lines.first().is_some_and(|l| l.trim().is_empty()) {
            lines.remove(0);
        }
        while lines.last().is_some_and(|l| l.trim().is_empty()) {
            lines.pop();
        }
        script.message = lines.first().map(|l| l.trim().to_owned()).unwrap_or_default();
        script.why = lines;
    }
    let mut seen = BTreeSet::new();
    let mut at = 0;
    while at < tokens.len() {
        let Located { token, line, column_zero } = &tokens[at];
        let end =
            tokens[at..].iter().position(|t| t.token == Token::Newline).map_or(tokens.len(), |n| at + n);
        let statement = &tokens[at..end];
        at = end + 1;
        let Token::Name(name) = token else { continue };
        if !column_zero
            || !matches!(name.as_str(), "revision" | "down_revision" | "branch_labels" | "depends_on")
        {
            continue;
        }
        // `name = value` or `name: annotation = value`.
        let value_at = match statement.get(1).map(|t| &t.token) {
            Some(Token::Punct('=')) => 2,
            Some(Token::Punct(':')) => {
                let mut depth = 0i32;
                let mut found = None;
                for (n, t) in statement.iter().enumerate().skip(2) {
                    match t.token {
                        Token::Punct('(' | '[' | '{') => depth += 1,
                        Token::Punct(')' | ']' | '}') => depth -= 1,
                        Token::Punct('=') if depth == 0 => {
                            found = Some(n + 1);
                            break;
                        }
                        _ => {}
                    }
                }
                match found {
                    Some(n) => n,
                    None => continue,
                }
            }
            _ => continue,
        };
        let Some(value) = literal(&statement[value_at..]) else {
            return Err(format!(
                "line {line}: `{name}` is not a string, None, or a tuple or list of strings, which is all this import reads"
            ));
        };
        seen.insert(name.clone());
        match name.as_str() {
            "revision" => match value.as_slice() {
                [one] => script.revision = one.clone(),
                _ => return Err(format!("line {line}: `revision` must be one string")),
            },
            "down_revision" => script.down_revision = value,
            "branch_labels" => script.branch_labels = value,
            _ => script.depends_on = value,
        }
    }
    if !seen.contains("revision") {
        return Err("no `revision = \"…\"` assignment: Alembic cannot load it either".to_owned());
    }
    if !seen.contains("down_revision") {
        return Err("no `down_revision = …` assignment: Alembic cannot load it either".to_owned());
    }
    Ok(script)
}

// ---------------------------------------------------------------------------------------------
// Alembic's offline output.

/// One step of an offline script: a revision's SQL.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Step {
    /// The SQL, without Alembic's version-table statements and transaction wrapper.
    sql: String,
    /// Whether it had a `COMMIT;` inside: an `autocommit_block`.
    autocommit: bool,
}

/// An offline script cut into steps.
#[derive(Debug, Default)]
struct Steps {
    /// Each revision's step, in the script's order.
    steps: Vec<(String, Step)>,
    /// The revision of the last step, which is incomplete when the run failed.
    last: Option<String>,
    /// SQL of the script outside any step other than Alembic's own.
    outside: String,
}

/// Whether a line is one of Alembic's version-table statements.
fn is_version_statement(line: &str) -> bool {
    [
        "INSERT INTO alembic_version ",
        "UPDATE alembic_version ",
        "DELETE FROM alembic_version ",
        "DROP TABLE alembic_version;",
    ]
    .iter()
    .any(|prefix| line.starts_with(prefix))
}

/// Whether a line is Alembic's, not the migration's: a version statement or the transaction.
fn is_alembic_line(line: &str) -> bool {
    line == "BEGIN;" || line == "COMMIT;" || is_version_statement(line)
}

/// The revision a marker line steps to (upgrade) or from (downgrade).
fn marker(line: &str, upgrade: bool) -> Option<String> {
    let rest = line.strip_prefix(if upgrade { "-- Running upgrade " } else { "-- Running downgrade " })?;
    let (from, to) = rest.split_once("->")?;
    let rev = if upgrade { to.trim() } else { from.trim() };
    (!rev.is_empty() && !rev.contains(',')).then(|| rev.to_owned())
}

/// Joins lines, dropping the blank line that followed each removed one and the blank lines at
/// both ends; ends with a newline unless empty.
fn join_kept(lines: &[&str], keep: impl Fn(usize) -> bool) -> String {
    let mut out: Vec<&str> = Vec::new();
    let mut skip_blank = false;
    for (n, line) in lines.iter().enumerate() {
        if !keep(n) {
            skip_blank = true;
            continue;
        }
        if skip_blank && line.is_empty() {
            skip_blank = false;
            continue;
        }
        skip_blank = false;
        out.push(line);
    }
    while out.first().is_some_and(|l| l.trim().is_empty()) {
        out.remove(0);
    }
    while out.last().is_some_and(|l| l.trim().is_empty()) {
        out.pop();
    }
    if out.is_empty() { String::new() } else { out.join("\n") + "\n" }
}

/// The SQL of one step's lines (after its marker).
fn step_of(lines: &[&str]) -> Step {
    // Alembic's tail: the version statements, then `COMMIT;`/`BEGIN;` of a run with a
    // transaction per migration or of the script's end.
    let mut end = lines.len();
    while end > 0 && (lines[end - 1].trim().is_empty() || is_alembic_line(lines[end - 1])) {
        end -= 1;
    }
    let mut start = 0;
    while start < end && (lines[start].trim().is_empty() || lines[start] == "BEGIN;") {
        start += 1;
    }
    let body = &lines[start..end];
    let autocommit = body.contains(&"COMMIT;");
    Step { sql: join_kept(body, |n| !is_alembic_line(body[n])), autocommit }
}

/// Cuts an offline script (`upgrade` or downgrade) at its markers.
fn split(script: &str, upgrade: bool) -> Steps {
    let lines: Vec<&str> = script.lines().collect();
    let mut steps = Steps::default();
    let marks: Vec<(usize, String)> =
        lines.iter().enumerate().filter_map(|(n, l)| marker(l, upgrade).map(|rev| (n, rev))).collect();
    let preamble_end = marks.first().map_or(lines.len(), |(n, _)| *n);
    // Before the first step: `BEGIN;` and `CREATE TABLE alembic_version (…);`.
    let preamble = &lines[..preamble_end];
    let mut in_create = false;
    let kept: Vec<bool> = preamble
        .iter()
        .map(|line| {
            if line.starts_with("CREATE TABLE alembic_version ") {
                in_create = !line.ends_with(';');
                return false;
            }
            if in_create {
                in_create = !line.ends_with(';');
                return false;
            }
            !is_alembic_line(line)
        })
        .collect();
    steps.outside = join_kept(preamble, |n| kept[n]);
    for (k, (at, rev)) in marks.iter().enumerate() {
        let end = marks.get(k + 1).map_or(lines.len(), |(n, _)| *n);
        steps.steps.push((rev.clone(), step_of(&lines[at + 1..end])));
    }
    steps.last = marks.last().map(|(_, rev)| rev.clone());
    steps
}

/// The end of Alembic's standard error, enough to see its error, with the passwords of the
/// URLs in it hidden: a SQLAlchemy traceback may quote `sqlalchemy.url`.
fn stderr_tail(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with("INFO  [alembic")).collect();
    without_url_passwords(&lines[lines.len().saturating_sub(25)..].join("\n"))
}

/// The exception line Alembic's traceback ends with, with the passwords of the URLs in it
/// hidden.
fn error_line(run: &Run) -> String {
    if let Some(failed) = run.stdout.lines().find(|l| l.starts_with("FAILED:")) {
        return without_url_passwords(failed);
    }
    let text = String::from_utf8_lossy(&run.stderr);
    without_url_passwords(text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no message").trim())
}

/// Runs Alembic in the project.
struct Alembic {
    program: PathBuf,
    dir: PathBuf,
}

/// What one run printed.
struct Run {
    ok: bool,
    stdout: String,
    stderr: Vec<u8>,
    command: String,
}

impl Alembic {
    fn run(&self, args: &[&str]) -> Result<Run> {
        let command = format!("alembic {}", args.join(" "));
        let output = Command::new(&self.program)
            .args(["-c", "alembic.ini"])
            .args(args)
            .current_dir(&self.dir)
            // Leave no __pycache__ in the user's project.
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .output()
            .map_err(|e| {
                anyhow!(
                    "cannot run `{}`: {e}\n= help: install Alembic where the project's env.py runs (`pip install alembic`) and \
                     pass its program with --alembic, or give Alembic's offline scripts with --upgrade-sql and --downgrade-sql",
                    self.program.display()
                )
            })?;
        Ok(Run {
            ok: output.status.success(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: output.stderr,
            command,
        })
    }
}

fn alembic_failed(run: &Run) -> anyhow::Error {
    anyhow!(
        "Alembic failed: `{}` in the project exited with an error:\n{}\n= help: make that command work, then import again",
        run.command,
        // Alembic prints its own errors (`FAILED: …`) on standard output, tracebacks on error.
        [
            stderr_tail(&run.stderr),
            without_url_passwords(
                &run.stdout.lines().filter(|l| l.starts_with("FAILED:")).collect::<Vec<_>>().join("\n")
            )
        ]
        .iter()
        .filter(|part| !part.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join("\n")
    )
}

/// The revisions some revision needs: its down revisions and dependencies (a label naming its
/// revision). The others are the heads a version row stands for.
fn required(scripts: &[Script]) -> BTreeSet<String> {
    let labels: BTreeMap<&str, &str> = scripts
        .iter()
        .flat_map(|s| s.branch_labels.iter().map(|l| (l.as_str(), s.revision.as_str())))
        .collect();
    let mut required = BTreeSet::new();
    for script in scripts {
        required.extend(script.down_revision.iter().cloned());
        required.extend(
            script.depends_on.iter().map(|d| labels.get(d.as_str()).copied().unwrap_or(d).to_owned()),
        );
    }
    required
}

/// Each revision's downgrade, or why Alembic could not produce it.
type Downgrades = BTreeMap<String, Result<Step, String>>;

/// The downgrades from Alembic: the whole history in one run, then, where that run stopped,
/// each revision it did not reach in a run of its own.
fn downgrades_from_alembic(alembic: &Alembic, scripts: &[Script]) -> Result<(Downgrades, String)> {
    let mut found: Downgrades = BTreeMap::new();
    let mut outside = String::new();
    // Offline, Alembic starts a downgrade from one revision: `heads` works for one head (and
    // the effective heads its dependencies are), else each head's lineage is a run.
    let mut ranges = vec!["heads:base".to_owned()];
    let mut at = 0;
    while let Some(range) = ranges.get(at).cloned() {
        at += 1;
        let run = alembic.run(&["downgrade", &range, "--sql"])?;
        let steps = split(&run.stdout, false);
        if run.ok && at == 1 {
            outside = steps.outside.clone();
        }
        if !run.ok && at == 1 && steps.steps.is_empty() {
            let required = required(scripts);
            ranges.extend(
                scripts
                    .iter()
                    .filter(|s| !required.contains(&s.revision))
                    .map(|s| format!("{}:base", s.revision)),
            );
        }
        let complete = if run.ok { steps.steps.len() } else { steps.steps.len().saturating_sub(1) };
        for (rev, step) in steps.steps.into_iter().take(complete) {
            found.entry(rev).or_insert(Ok(step));
        }
    }
    for script in scripts {
        if found.contains_key(&script.revision) {
            continue;
        }
        let to = script.down_revision.first().map_or("base", String::as_str);
        let range = format!("{}:{to}", script.revision);
        let run = alembic.run(&["downgrade", &range, "--sql"])?;
        let steps = split(&run.stdout, false);
        match steps.steps.into_iter().next() {
            Some((rev, step))
                if rev == script.revision && (run.ok || steps.last.as_deref() != Some(&rev)) =>
            {
                found.insert(rev, Ok(step));
            }
            Some((rev, _)) if rev == script.revision => {
                found.insert(
                    rev,
                    Err(format!("Alembic could not produce its downgrade: {}", error_line(&run))),
                );
            }
            _ => return Err(alembic_failed(&run)),
        }
    }
    Ok((found, outside))
}

// ---------------------------------------------------------------------------------------------
// Planning and writing.

/// A Rust string literal of `text`.
fn rust_string(text: &str) -> String {
    format!("{text:?}")
}

/// `["a", "b"]`.
fn rust_list(items: &[String]) -> String {
    format!("[{}]", items.iter().map(|i| rust_string(i)).collect::<Vec<_>>().join(", "))
}

/// A revision id that cannot be part of a file name, or is not an id the `alembic` format takes.
fn check_id(script: &Script) -> Result<()> {
    let rev = &script.revision;
    if let Err(problem) = IdFormat::Alembic.check(rev) {
        bail!(
            "`{}`: revision `{rev}` {problem}\n= help: rename it in Alembic first (the script and the `alembic_version` rows), then import again",
            script.file
        );
    }
    let name = FileName::format("20000101_0000", rev, "x");
    let round_trip = FileName::parse(&name, Some(rev)).is_ok_and(|f| &f.rev == rev);
    if rev.contains(['/', '\\', '\0']) || rev.starts_with('.') || !round_trip {
        bail!(
            "`{}`: revision `{rev}` cannot be part of a migration file name `YYYYMMDD_HHMM_<rev>_<slug>.rs`\n\
             = help: rename it in Alembic first (the script and the `alembic_version` rows), then import again",
            script.file
        );
    }
    Ok(())
}

/// Refuses, naming the script, a graph the build would refuse (a down revision or a dependency
/// naming no script, a cycle, a branch label declared twice or that a target would read as
/// something else): Alembic's offline scripts given by hand need not come from these scripts,
/// and Alembic accepts labels that clash. Nothing is written then.
fn check_graph(scripts: &[Script]) -> Result<()> {
    use migrate_core::graph::{Graph, Problem, Revision};
    let revisions: Vec<Revision> = scripts
        .iter()
        .map(|s| {
            let parents: Vec<&str> = s.down_revision.iter().map(String::as_str).collect();
            let mut revision = Revision::new(s.revision.as_str(), &parents, s.file.as_str());
            revision.labels = s.branch_labels.clone();
            revision.depends_on = s.depends_on.clone();
            revision
        })
        .collect();
    let (_, problems) = Graph::build(&revisions);
    let Some(problem) = problems.first() else {
        return Ok(());
    };
    let named = |input: usize, names: fn(&Script) -> &Vec<String>, position: usize| {
        scripts.get(input).and_then(|s| names(s).get(position)).map_or("", String::as_str)
    };
    let (input, what) = match problem {
        Problem::Duplicate { again, .. } => {
            (*again, "declares a revision another script declares".to_owned())
        }
        Problem::UnknownParent { child, position } => (
            *child,
            format!(
                "down revision `{}` names no revision script",
                named(*child, |s| &s.down_revision, *position)
            ),
        ),
        Problem::Cycle { members } | Problem::DependencyCycle { members, .. } => {
            let revs: Vec<&str> =
                members.iter().filter_map(|&m| scripts.get(m)).map(|s| s.revision.as_str()).collect();
            (
                members.first().copied().unwrap_or(0),
                format!("is on a cycle of revisions: {}", revs.join(" → ")),
            )
        }
        Problem::UnknownDependency { child, position } => (
            *child,
            format!(
                "`depends_on` name `{}` is neither a revision nor a branch label",
                named(*child, |s| &s.depends_on, *position)
            ),
        ),
        Problem::DuplicateLabel { again, position, .. } => (
            *again,
            format!("branch label `{}` is declared twice", named(*again, |s| &s.branch_labels, *position)),
        ),
        Problem::LabelClash { input, position, .. } => (
            *input,
            format!(
                "branch label `{}` would read as something else in a target (a revision id or its start, `head`, \
                 `heads`, `base`, `current`, or a name holding `@ : + -` or whitespace)",
                named(*input, |s| &s.branch_labels, *position)
            ),
        ),
    };
    let file = scripts.get(input).map_or("", |s| s.file.as_str());
    bail!(
        "the revision script `{file}` {what}\n= help: the build would refuse it: fix it in Alembic first, then \
         import again; nothing was written"
    )
}

/// The functions of a migration.
fn functions(stem: &str, up: &str, down: &Result<Step, String>) -> String {
    let mut text = String::new();
    if up.is_empty() {
        text.push_str("    pub fn upgrade(_op: &mut Op) {}\n\n");
    } else {
        let _ = write!(
            text,
            "    pub fn upgrade(op: &mut Op) {{\n        op.execute(include_str!(\"{stem}.up.sql\"));\n    }}\n\n"
        );
    }
    match down {
        Ok(step) if step.sql.is_empty() => text.push_str("    pub fn downgrade(_op: &mut Op) {}\n"),
        Ok(_) => {
            let _ = write!(
                text,
                "    pub fn downgrade(op: &mut Op) {{\n        op.execute(include_str!(\"{stem}.down.sql\"));\n    }}\n"
            );
        }
        Err(reason) => {
            let _ = write!(
                text,
                "    pub fn downgrade(op: &mut Op) {{\n        op.irreversible({});\n    }}\n",
                rust_string(reason)
            );
        }
    }
    text
}

/// The files of the import, in upgrade order, with what the summary reports.
struct Plan {
    files: Vec<(String, String)>,
    settings: Vec<(&'static str, String)>,
    count: usize,
    outside_transaction: usize,
    irreversible: Vec<(String, String)>,
    heads: Vec<String>,
    bases: usize,
}

fn plan(scripts: &[Script], upgrades: &Steps, downgrades: &Downgrades) -> Result<Plan> {
    let by_rev: BTreeMap<&str, &Script> = scripts.iter().map(|s| (s.revision.as_str(), s)).collect();
    // The scripts are exactly the steps of Alembic's upgrade.
    let stepped: BTreeSet<&str> = upgrades.steps.iter().map(|(rev, _)| rev.as_str()).collect();
    for script in scripts {
        if !stepped.contains(script.revision.as_str()) {
            bail!(
                "Alembic's offline upgrade has no step for revision `{}` of `{}`\n= help: give the output of `alembic upgrade base:heads --sql`",
                script.revision,
                script.file
            );
        }
    }
    for rev in &stepped {
        if !by_rev.contains_key(rev) {
            bail!(
                "Alembic's offline upgrade runs revision `{rev}`, which no script of the versions folder declares as read\n= help: write its `revision = \"{rev}\"` as a plain string literal"
            );
        }
    }
    // Stamps in upgrade order: the script's own Create Date, else the previous one's.
    let own: Vec<Option<String>> = upgrades
        .steps
        .iter()
        .map(|(rev, _)| by_rev[rev.as_str()].create_date.as_deref().and_then(stamp_of))
        .collect();
    let mut last = own.iter().flatten().next().cloned().unwrap_or_else(stamp_now);
    let mut plan = Plan {
        files: Vec::new(),
        settings: Vec::new(),
        count: 0,
        outside_transaction: 0,
        irreversible: Vec::new(),
        heads: Vec::new(),
        bases: 0,
    };
    let mut done = BTreeSet::new();
    for ((rev, up), stamp) in upgrades.steps.iter().zip(own) {
        if !done.insert(rev.clone()) {
            bail!(
                "Alembic's offline upgrade runs revision `{rev}` twice\n= help: give the output of one `alembic upgrade base:heads --sql`"
            );
        }
        if let Some(stamp) = stamp {
            last = stamp;
        }
        let script = by_rev[rev.as_str()];
        let down = downgrades
            .get(rev)
            .cloned()
            .unwrap_or_else(|| Err("Alembic's offline downgrade script has no step for it".to_owned()));
        let slug = slug_of(&script.message, rev);
        let file_name = FileName::format(&last, rev, &slug);
        let stem = file_name.trim_end_matches(".rs").to_owned();
        let autocommit = up.autocommit || down.as_ref().is_ok_and(|d| d.autocommit);
        let inferred =
            needs_no_transaction(&up.sql) || down.as_ref().is_ok_and(|d| needs_no_transaction(&d.sql));
        let mut more = String::new();
        if !script.branch_labels.is_empty() {
            let _ = write!(more, ", branch_labels = {}", rust_list(&script.branch_labels));
        }
        if !script.depends_on.is_empty() {
            let _ = write!(more, ", depends_on = {}", rust_list(&script.depends_on));
        }
        match (autocommit, inferred) {
            (true, _) => more.push_str(", transactional = false"),
            // Alembic runs it in a transaction although its SQL looks as if it could not.
            (false, true) => more.push_str(", transactional = true"),
            (false, false) => {}
        }
        let down_revision = match script.down_revision.as_slice() {
            [] => "None".to_owned(),
            [one] => rust_string(one),
            many => rust_list(many),
        };
        let mut why: Vec<String> = script.why.clone();
        if !why.is_empty() {
            why.push(String::new());
        }
        let file = Path::new(&script.file)
            .file_name()
            .map_or(script.file.clone(), |f| f.to_string_lossy().into_owned());
        why.push(format!("Imported from the Alembic revision `{rev}` ({file})."));
        let why =
            why.iter().map(|l| l.trim_end()).collect::<Vec<_>>().join("\n/// ").replace("/// \n", "///\n");
        let literal = rust_string(rev);
        let text = migration_text(
            &why,
            &literal[1..literal.len() - 1],
            &down_revision,
            &more,
            &slug,
            &functions(&stem, &up.sql, &down),
        );
        if !up.sql.is_empty() {
            plan.files.push((format!("{stem}.up.sql"), up.sql.clone()));
        }
        match &down {
            Ok(step) if !step.sql.is_empty() => {
                plan.files.push((format!("{stem}.down.sql"), step.sql.clone()))
            }
            Ok(_) => {}
            Err(reason) => plan.irreversible.push((rev.clone(), reason.clone())),
        }
        plan.files.push((file_name, text));
        plan.count += 1;
        plan.outside_transaction += usize::from(autocommit);
    }
    // The heads a version row stands for.
    let required = required(scripts);
    plan.heads = upgrades
        .steps
        .iter()
        .map(|(rev, _)| rev.clone())
        .filter(|rev| !required.contains(rev.as_str()))
        .collect();
    plan.bases = scripts.iter().filter(|s| s.down_revision.is_empty()).count();
    let start_after = plan.heads.last().cloned().unwrap_or_default();
    plan.settings.push(("id_format", "\"alembic\"".to_owned()));
    plan.settings.push(("start_after", rust_string(&start_after)));
    if plan.bases > 1 {
        plan.settings.push(("allow_multiple_bases", "true".to_owned()));
    }
    if plan.heads.len() > 1 {
        plan.settings.push(("allow_multiple_heads", "true".to_owned()));
    }
    Ok(plan)
}

/// The Cargo.toml text with each `key = value` under `[package.metadata.migrate]` (added or
/// replaced), the rest of the file as it was.
fn with_settings(manifest: &str, settings: &[(&str, String)]) -> Result<String> {
    let mut lines: Vec<String> = manifest.lines().map(str::to_owned).collect();
    let header = match lines.iter().position(|l| l.trim() == "[package.metadata.migrate]") {
        Some(header) => header,
        None => {
            while lines.last().is_some_and(|l| l.trim().is_empty()) {
                lines.pop();
            }
            lines.push(String::new());
            lines.push("[package.metadata.migrate]".to_owned());
            lines.len() - 1
        }
    };
    for (key, value) in settings.iter().rev() {
        let end = lines[header + 1..]
            .iter()
            .position(|l| l.trim_start().starts_with('['))
            .map_or(lines.len(), |n| header + 1 + n);
        let setting = format!("{key} = {value}");
        match (header + 1..end).find(|&i| lines[i].split('=').next().is_some_and(|k| k.trim() == *key)) {
            Some(i) => lines[i] = setting,
            None => lines.insert(header + 1, setting),
        }
    }
    let text = lines.join("\n") + "\n";
    let table: toml::Table = text.parse().context("Cargo.toml would not stay valid TOML")?;
    let migrate = table.get("package").and_then(|p| p.get("metadata")).and_then(|m| m.get("migrate"));
    for (key, value) in settings {
        let expected: toml::Value = format!("v = {value}")
            .parse::<toml::Table>()
            .ok()
            .and_then(|t| t.get("v").cloned())
            .unwrap_or(toml::Value::Boolean(false));
        if migrate.and_then(|m| m.get(*key)) != Some(&expected) {
            bail!(
                "cannot add `{key} = {value}` under [package.metadata.migrate] in Cargo.toml by itself\n= help: add it by hand"
            );
        }
    }
    Ok(text)
}

/// Imports the Alembic project in `dir` into the project's empty migrations folder; returns the
/// summary's lines.
pub(crate) fn import(project: &Project, dir: &Path, options: &Options) -> Result<Vec<String>> {
    let folder = project.folder();
    if folder.is_dir() && !project.scan()?.files.is_empty() {
        bail!(
            "`{}` already holds migrations: an import starts a history\n= help: import into a crate whose migrations folder is empty",
            folder.display()
        );
    }
    let layout = locate(dir)?;
    let mut scripts = Vec::new();
    for path in script_files(&layout)? {
        let text =
            std::fs::read_to_string(&path).with_context(|| format!("cannot read `{}`", path.display()))?;
        let file = path.strip_prefix(dir).unwrap_or(&path).display().to_string();
        let script = read_script(&file, &text).map_err(|problem| {
            anyhow!("cannot read the revision script `{}`: {problem}\n= help: write its revision fields as plain literals, as `alembic revision` does", path.display())
        })?;
        check_id(&script)?;
        scripts.push(script);
    }
    if scripts.is_empty() {
        bail!(
            "no Alembic revision script in `{}`",
            layout.versions.iter().map(|v| v.display().to_string()).collect::<Vec<_>>().join("`, `")
        );
    }
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for script in &scripts {
        if let Some(first) = seen.insert(&script.revision, &script.file) {
            bail!(
                "`{first}` and `{}` declare the same revision `{}`\n= help: Alembic keeps only one of them: remove or renumber one",
                script.file,
                script.revision
            );
        }
    }
    check_graph(&scripts)?;
    let (upgrades, downgrades, outside) = match (&options.upgrade_sql, &options.downgrade_sql) {
        (Some(up), Some(down)) => {
            let read = |p: &PathBuf| {
                std::fs::read_to_string(p).with_context(|| format!("cannot read `{}`", p.display()))
            };
            let upgrades = split(&read(up)?, true);
            let down = split(&read(down)?, false);
            let outside = down.outside.clone();
            let downgrades = down.steps.into_iter().map(|(rev, step)| (rev, Ok(step))).collect();
            (upgrades, downgrades, outside)
        }
        (None, None) => {
            let Some(ini_dir) = layout.ini_dir.clone() else {
                bail!(
                    "`{}` has no alembic.ini to run Alembic in\n= help: give the folder of alembic.ini, or Alembic's offline scripts with --upgrade-sql and --downgrade-sql",
                    dir.display()
                );
            };
            let alembic = Alembic {
                program: options.alembic.clone().unwrap_or_else(|| PathBuf::from("alembic")),
                dir: ini_dir,
            };
            let run = alembic.run(&["upgrade", "base:heads", "--sql"])?;
            if !run.ok {
                return Err(alembic_failed(&run));
            }
            let upgrades = split(&run.stdout, true);
            let (downgrades, outside) = downgrades_from_alembic(&alembic, &scripts)?;
            (upgrades, downgrades, outside)
        }
        _ => bail!(
            "--upgrade-sql and --downgrade-sql go together\n= help: give both of Alembic's offline scripts"
        ),
    };
    let plan = plan(&scripts, &upgrades, &downgrades)?;
    let manifest_text = std::fs::read_to_string(&project.manifest)
        .with_context(|| format!("cannot read `{}`", project.manifest.display()))?;
    let manifest_text = with_settings(&manifest_text, &plan.settings)?;
    std::fs::create_dir_all(&folder).with_context(|| format!("cannot create `{}`", folder.display()))?;
    for (name, text) in &plan.files {
        let path = folder.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write `{}`", path.display()))?;
    }
    std::fs::write(&project.manifest, manifest_text)
        .with_context(|| format!("cannot write `{}`", project.manifest.display()))?;

    let mut lines = vec![format!(
        "imported {} Alembic revisions into {} ({} outside a transaction, {} without a downgrade)",
        plan.count,
        project.settings.folder.display(),
        plan.outside_transaction,
        plan.irreversible.len()
    )];
    for (rev, reason) in &plan.irreversible {
        lines.push(format!("irreversible {rev}: {reason}"));
    }
    for (what, sql) in [("upgrade", &upgrades.outside), ("downgrade", &outside)] {
        if !sql.is_empty() {
            lines.push(format!(
                "not imported: SQL env.py prints before the first {what} step:\n{}",
                sql.trim_end()
            ));
        }
    }
    let settings: Vec<String> = plan.settings.iter().map(|(k, v)| format!("{k} = {v}")).collect();
    lines.push(format!(
        "set {} in Cargo.toml: the style rules apply to the migrations after the head",
        settings.join(", ")
    ));
    if plan.heads.len() > 1 {
        lines.push(format!(
            "several heads ({}): start_after exempts the ancestors of {} only",
            plan.heads.join(", "),
            plan.heads.last().map_or("", String::as_str)
        ));
    }
    lines.push(
        "a database Alembic migrated carries on from its alembic_version rows: cargo migrate upgrade heads"
            .to_owned(),
    );
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alembics_errors_are_shown_without_url_passwords() {
        let run = Run {
            ok: false,
            stdout: "FAILED: Can't connect to postgresql://app:Hunter2@db/crm\n".to_owned(),
            stderr: b"Traceback (most recent call last):\n  File \"env.py\", line 9\n\
                      sqlalchemy.exc.OperationalError: connection to postgresql+psycopg2://app:Hunter2@db:5432/crm failed\n"
                .to_vec(),
            command: "alembic upgrade head --sql".to_owned(),
        };
        let message = alembic_failed(&run).to_string();
        assert!(!message.contains("Hunter2"), "{message}");
        assert!(message.contains("postgresql+psycopg2://app:***@db:5432/crm failed"), "{message}");
        assert!(message.contains("FAILED: Can't connect to postgresql://app:***@db/crm"), "{message}");
        let line = error_line(&run);
        assert_eq!(line, "FAILED: Can't connect to postgresql://app:***@db/crm");
        let run = Run { stdout: String::new(), ..run };
        assert!(
            error_line(&run).ends_with("postgresql+psycopg2://app:***@db:5432/crm failed"),
            "{}",
            error_line(&run)
        );
    }

    const TEMPLATE: &str = r#""""Add "quoted" things — it's fine

A second paragraph
of why.

Revision ID: 0001_init
Revises:
Create Date: 2024-01-02 03:04:05.678901

"""
from typing import Sequence, Union

# revision identifiers, used by Alembic.
revision: str = '0001_init'
down_revision: Union[str, None] = None
branch_labels: Union[str, Sequence[str], None] = ('core',)
depends_on: Union[str, Sequence[str], None] = None

def upgrade() -> None:
    revision = "inner"  # not at the top level
"#;

    #[test]
    fn the_template_is_read() {
        let script = read_script("v.py", TEMPLATE).expect("reads");
        assert_eq!(script.revision, "0001_init");
        assert!(script.down_revision.is_empty());
        assert_eq!(script.branch_labels, ["core"]);
        assert_eq!(script.message, "Add \"quoted\" things — it's fine");
        assert_eq!(script.why, ["Add \"quoted\" things — it's fine", "", "A second paragraph", "of why."]);
        assert_eq!(script.create_date.as_deref(), Some("2024-01-02 03:04:05.678901"));
    }

    #[test]
    fn merges_lists_and_escapes_are_read() {
        let text = "'''x'''\nrevision = \"a\\x62c\"\ndown_revision = (\n  'b',  # one\n  \"c\",\n)\ndepends_on = ['lib']\nbranch_labels = r'x\\y'\n";
        let script = read_script("v.py", text).expect("reads");
        assert_eq!(script.revision, "abc");
        assert_eq!(script.down_revision, ["b", "c"]);
        assert_eq!(script.depends_on, ["lib"]);
        assert_eq!(script.branch_labels, ["x\\y"]);
    }

    #[test]
    fn what_cannot_be_read_is_named() {
        let computed = read_script("v.py", "revision = make_id()\ndown_revision = None\n").unwrap_err();
        assert!(computed.starts_with("line 1: `revision` is not a string"), "{computed}");
        let fstring = read_script("v.py", "revision = 'a'\ndown_revision = f'{x}'\n").unwrap_err();
        assert!(fstring.starts_with("line 2: `down_revision`"), "{fstring}");
        assert!(read_script("v.py", "down_revision = None\n").unwrap_err().contains("no `revision"));
        assert!(read_script("v.py", "revision = 'a\n").unwrap_err().contains("does not end"));
    }

    const PER_MIGRATION: &str = "BEGIN;\n\nCREATE TABLE alembic_version (\n    version_num VARCHAR(32) NOT NULL, \n    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)\n);\n\nCOMMIT;\n\nBEGIN;\n\n-- Running upgrade  -> a\n\nCREATE TABLE t (\n    id int\n);\n\nINSERT INTO alembic_version (version_num) VALUES ('a') RETURNING alembic_version.version_num;\n\nCOMMIT;\n\nBEGIN;\n\n-- Running upgrade a -> b\n\nCOMMIT;\n\nCREATE INDEX CONCURRENTLY i ON t (id);\n\nBEGIN;\n\nUPDATE alembic_version SET version_num='b' WHERE alembic_version.version_num = 'a';\n\nCOMMIT;\n\nBEGIN;\n\n-- Running upgrade a, b -> m\n\nDELETE FROM alembic_version WHERE alembic_version.version_num = 'a';\n\nCOMMIT;\n\n";

    #[test]
    fn steps_lose_alembics_statements_and_keep_theirs() {
        let steps = split(PER_MIGRATION, true);
        let sql: Vec<(&str, &str, bool)> =
            steps.steps.iter().map(|(rev, s)| (rev.as_str(), s.sql.as_str(), s.autocommit)).collect();
        assert_eq!(
            sql,
            [
                ("a", "CREATE TABLE t (\n    id int\n);\n", false),
                ("b", "CREATE INDEX CONCURRENTLY i ON t (id);\n", true),
                ("m", "", false),
            ]
        );
        assert_eq!(steps.outside, "");
        let down = split(
            "BEGIN;\n\n-- Running downgrade b -> \n\nDROP TABLE t;\n\nDELETE FROM alembic_version WHERE alembic_version.version_num = 'b';\n\nDROP TABLE alembic_version;\n\nCOMMIT;\n\n",
            false,
        );
        assert_eq!(
            down.steps,
            [("b".to_owned(), Step { sql: "DROP TABLE t;\n".to_owned(), autocommit: false })]
        );
    }

    #[test]
    fn markers_name_one_revision() {
        assert_eq!(marker("-- Running upgrade  -> 1a2b", true).as_deref(), Some("1a2b"));
        assert_eq!(marker("-- Running upgrade a, b -> m", true).as_deref(), Some("m"));
        assert_eq!(marker("-- Running downgrade m -> a, b", false).as_deref(), Some("m"));
        assert_eq!(marker("-- Running downgrade b -> ", false).as_deref(), Some("b"));
        assert_eq!(marker("-- Running upgrade a -> b", false), None);
    }

    #[test]
    fn settings_are_added_or_replaced() {
        let plain = "[package]\nname = \"x\"\n\n[package.metadata.migrate]\nstart_after = \"old\"\n\n[dependencies]\n";
        let settings = [("id_format", "\"alembic\"".to_owned()), ("start_after", "\"a.b\"".to_owned())];
        assert_eq!(
            with_settings(plain, &settings).expect("edits"),
            "[package]\nname = \"x\"\n\n[package.metadata.migrate]\nid_format = \"alembic\"\nstart_after = \"a.b\"\n\n[dependencies]\n"
        );
        assert_eq!(
            with_settings("[package]\nname = \"x\"\n", &settings).expect("adds"),
            "[package]\nname = \"x\"\n\n[package.metadata.migrate]\nid_format = \"alembic\"\nstart_after = \"a.b\"\n"
        );
    }

    #[test]
    fn ids_that_no_file_name_holds_are_refused() {
        let script = |rev: &str| Script { file: "v.py".into(), revision: rev.into(), ..Script::default() };
        assert!(check_id(&script("0004.idx_email")).is_ok());
        assert!(
            check_id(&script("ab/cd"))
                .unwrap_err()
                .to_string()
                .contains("cannot be part of a migration file name")
        );
        assert!(check_id(&script("ab-cd")).unwrap_err().to_string().contains("reserves"));
    }
}
