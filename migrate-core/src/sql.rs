//! SQL text helpers: quoting, splitting a script into statements, and telling which
//! statements PostgreSQL refuses inside a transaction block.

/// Quotes an identifier for PostgreSQL: always in double quotes, embedded quotes doubled.
/// Quoting every identifier keeps mixed case, reserved words and odd characters intact.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quotes a possibly schema-qualified name: `crm.people` becomes `"crm"."people"`.
///
/// A dot always separates schema and name here; a table whose own name contains a dot is
/// written with [`quote_ident`].
pub fn quote_qualified(name: &str) -> String {
    name.split('.').map(quote_ident).collect::<Vec<_>>().join(".")
}

/// Quotes a string literal for PostgreSQL (with `standard_conforming_strings` on, the
/// default since 9.1): in single quotes, embedded quotes doubled.
pub fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// Quotes a string literal that reads the same whatever `standard_conforming_strings` says:
/// with a backslash in it, as an escape string (`E'…'`, backslashes doubled), else as
/// [`quote_literal`]. For names that come from outside (a tenant's schema) in the runner's own
/// statements, some sent in the batch that turns `standard_conforming_strings` on.
pub fn quote_literal_always(value: &str) -> String {
    if value.contains('\\') {
        format!("E'{}'", value.replace('\\', "\\\\").replace('\'', "''"))
    } else {
        quote_literal(value)
    }
}

/// PostgreSQL's longest name, in bytes (`NAMEDATALEN` - 1).
pub const NAME_BYTES: usize = 63;

/// `name` as PostgreSQL stores it: cut at [`NAME_BYTES`], on a character's boundary.
pub fn stored_name(name: &str) -> &str {
    let mut end = name.len().min(NAME_BYTES);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

/// Statements as one text for one simple query: each ended by `;` on its own line.
pub fn join_statements<S: AsRef<str>>(statements: &[S]) -> String {
    statements.iter().map(|s| format!("{};\n", s.as_ref())).collect()
}

/// Splits a script into its statements, without their terminating semicolons, trimmed,
/// leaving out empty ones. Quotes, quoted identifiers, dollar-quoted bodies, comments and
/// `BEGIN ATOMIC … END` bodies are honoured, so semicolons inside them do not split.
/// Comments after a statement's last token are left out of it: a `-- note` closing a file
/// would otherwise swallow the semicolon put after the statement.
pub fn split_statements(script: &str) -> Vec<&str> {
    let bytes = script.as_bytes();
    let mut statements = Vec::new();
    let mut start = 0;
    // Just past the last byte of the current statement that is neither space nor comment.
    let mut code_end = 0;
    let mut i = 0;
    let mut atomic_depth = 0usize;
    while i < bytes.len() {
        let before = i;
        match bytes[i] {
            b'\'' => {
                let escapes =
                    i > 0 && matches!(bytes[i - 1], b'e' | b'E') && (i < 2 || !is_word(bytes[i - 2]));
                i = skip_quoted(bytes, i, b'\'', escapes);
            }
            b'"' => i = skip_quoted(bytes, i, b'"', false),
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = script[i..].find('\n').map_or(bytes.len(), |n| i + n + 1);
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = skip_block_comment(bytes, i);
                continue;
            }
            b'$' if i == 0 || !is_word(bytes[i - 1]) => i = skip_dollar_quoted(script, i),
            b';' if atomic_depth == 0 => {
                push_statement(&mut statements, &script[start..code_end.max(start)]);
                i += 1;
                start = i;
                code_end = i;
                continue;
            }
            b if b.is_ascii_alphabetic() && (i == 0 || !is_word(bytes[i - 1])) => {
                let end = i + bytes[i..].iter().take_while(|b| is_word(**b)).count();
                let word = &script[i..end];
                let opens_atomic = word.eq_ignore_ascii_case("atomic")
                    && previous_word(script, i).is_some_and(|w| w.eq_ignore_ascii_case("begin"));
                let opens_inner = atomic_depth > 0
                    && (word.eq_ignore_ascii_case("case") || word.eq_ignore_ascii_case("begin"));
                if opens_atomic || opens_inner {
                    atomic_depth += 1;
                } else if atomic_depth > 0 && word.eq_ignore_ascii_case("end") {
                    atomic_depth -= 1;
                }
                i = end;
            }
            b if b.is_ascii_whitespace() => {
                i += 1;
                continue;
            }
            _ => i += 1,
        }
        debug_assert!(i > before);
        code_end = i;
    }
    push_statement(&mut statements, &script[start..code_end.max(start)]);
    statements
}

fn push_statement<'a>(statements: &mut Vec<&'a str>, text: &'a str) {
    let text = text.trim();
    if !strip_comments(text).trim().is_empty() {
        statements.push(text);
    }
}

/// Whether `b` can be part of an identifier or a keyword.
pub(crate) fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn previous_word(script: &str, before: usize) -> Option<&str> {
    let head = script[..before].trim_end();
    let start = head.rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).map_or(0, |i| i + 1);
    let word = &head[start..];
    (!word.is_empty()).then_some(word)
}

/// Returns the index just past a quoted run starting at `i`.
fn skip_quoted(bytes: &[u8], i: usize, quote: u8, backslash_escapes: bool) -> usize {
    let mut j = i + 1;
    while j < bytes.len() {
        if backslash_escapes && bytes[j] == b'\\' {
            j += 2;
            continue;
        }
        if bytes[j] == quote {
            if bytes.get(j + 1) == Some(&quote) {
                j += 2;
                continue;
            }
            return j + 1;
        }
        j += 1;
    }
    bytes.len()
}

/// Returns the index just past a (nested) block comment starting at `i`.
fn skip_block_comment(bytes: &[u8], i: usize) -> usize {
    let mut depth = 0usize;
    let mut j = i;
    while j + 1 < bytes.len() {
        match (bytes[j], bytes[j + 1]) {
            (b'/', b'*') => {
                depth += 1;
                j += 2;
            }
            (b'*', b'/') => {
                depth -= 1;
                j += 2;
                if depth == 0 {
                    return j;
                }
            }
            _ => j += 1,
        }
    }
    bytes.len()
}

/// Returns the index just past a `$tag$ … $tag$` body starting at `i`, or `i + 1` when the
/// `$` opens no dollar quote (a positional parameter like `$1`).
fn skip_dollar_quoted(script: &str, i: usize) -> usize {
    let bytes = script.as_bytes();
    let tag_len = bytes[i + 1..].iter().take_while(|b| is_word(**b)).count();
    let tag_end = i + 1 + tag_len;
    let opens = bytes.get(tag_end) == Some(&b'$') && !bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
    if !opens {
        return i + 1;
    }
    let tag = &script[i..=tag_end];
    match script[tag_end + 1..].find(tag) {
        Some(n) => tag_end + 1 + n + tag.len(),
        None => bytes.len(),
    }
}

/// The statement without its comments and with quoted text blanked, for classification.
fn strip_comments(statement: &str) -> String {
    let bytes = statement.as_bytes();
    let mut out = String::with_capacity(statement.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = statement[i..].find('\n').map_or(bytes.len(), |n| i + n);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = skip_block_comment(bytes, i);
                out.push(' ');
            }
            b'\'' | b'"' => {
                // Quoted text is blanked: words inside a string are not keywords.
                let quote = bytes[i];
                i = skip_quoted(bytes, i, quote, false);
                out.push(quote as char);
                out.push(quote as char);
            }
            _ => {
                let len = statement[i..].chars().next().map_or(1, char::len_utf8);
                out.push_str(&statement[i..i + len]);
                i += len;
            }
        }
    }
    out
}

/// Whether any statement of `script` must run outside a transaction block (see
/// [`no_transaction_reason`]).
pub fn needs_no_transaction(script: &str) -> bool {
    split_statements(script).into_iter().any(|s| no_transaction_reason(s).is_some())
}

/// The reason [`no_transaction_reason`] gives for `ALTER TYPE … ADD VALUE`, which PostgreSQL 12
/// and later do accept in a transaction: a migration adding a value runs on its own so that the
/// value can be used after it.
pub const ENUM_VALUE: &str = "a new enum value cannot be used before the transaction that added it commits";
/// The reason given for a `DO` block that commits.
const DO_COMMIT: &str = "a DO block that commits or rolls back cannot run inside a transaction block";

/// Why a call of the `Op` method `method` (as written in a migration, `concurrently` for
/// `.concurrently()`) makes its migration run outside a transaction, or `None`. With
/// [`no_transaction_reason`], the one judge of what runs outside a transaction: the build
/// reads the calls in a migration's source and the SQL of its literals, and
/// `Statement::no_transaction` the SQL of a statement and the call it comes from. Each call
/// listed renders a statement that one of them marks.
///
/// ```
/// use migrate_core::sql::no_transaction_call;
///
/// assert!(no_transaction_call("concurrently").is_some());
/// assert!(no_transaction_call("set_not_null_through_check").is_some());
/// assert!(no_transaction_call("backfill").is_some());
/// assert_eq!(no_transaction_call("set_not_null"), None);
/// ```
pub fn no_transaction_call(method: &str) -> Option<&'static str> {
    match method {
        "concurrently" => Some("a concurrent index build or drop cannot run inside a transaction block"),
        "add_enum_value" => Some(ENUM_VALUE),
        "set_not_null_through_check" => Some(
            "each statement of set_not_null_through_check commits on its own, so that no lock blocking writes lasts through the validation",
        ),
        "backfill" => Some(DO_COMMIT),
        _ => None,
    }
}

/// Why PostgreSQL refuses `statement` inside a transaction block, or `None` when it accepts
/// it there. `ALTER TYPE … ADD VALUE` is included: from PostgreSQL 12 it may run in a
/// transaction, but the new value cannot be used before that transaction commits, so a
/// migration adding one runs on its own. So is a `DO` block whose body holds `COMMIT` or
/// `ROLLBACK` as a keyword (not in a string, a quoted name or a comment): PostgreSQL runs it
/// only outside a transaction block ("invalid transaction termination" inside one).
pub fn no_transaction_reason(statement: &str) -> Option<&'static str> {
    let text = strip_comments(statement).to_ascii_uppercase();
    let words: Vec<&str> =
        text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter(|w| !w.is_empty()).collect();
    let starts = |prefix: &[&str]| words.len() >= prefix.len() && words[..prefix.len()] == *prefix;
    let has = |word: &str| words.contains(&word);
    if (starts(&["CREATE", "INDEX"]) || starts(&["CREATE", "UNIQUE", "INDEX"])) && has("CONCURRENTLY") {
        return Some("CREATE INDEX CONCURRENTLY cannot run inside a transaction block");
    }
    if starts(&["DROP", "INDEX", "CONCURRENTLY"]) {
        return Some("DROP INDEX CONCURRENTLY cannot run inside a transaction block");
    }
    if starts(&["REINDEX"]) && (has("CONCURRENTLY") || has("SCHEMA") || has("DATABASE") || has("SYSTEM")) {
        return Some("this REINDEX cannot run inside a transaction block");
    }
    if starts(&["ALTER", "TABLE"]) && has("DETACH") && has("CONCURRENTLY") {
        return Some("DETACH PARTITION CONCURRENTLY cannot run inside a transaction block");
    }
    if starts(&["VACUUM"]) {
        return Some("VACUUM cannot run inside a transaction block");
    }
    if words.as_slice() == ["CLUSTER"] {
        return Some("CLUSTER without a table cannot run inside a transaction block");
    }
    if starts(&["CREATE", "DATABASE"]) || starts(&["DROP", "DATABASE"]) {
        return Some("CREATE/DROP DATABASE cannot run inside a transaction block");
    }
    if starts(&["ALTER", "DATABASE"]) && has("TABLESPACE") {
        return Some("ALTER DATABASE … SET TABLESPACE cannot run inside a transaction block");
    }
    if starts(&["CREATE", "TABLESPACE"]) || starts(&["DROP", "TABLESPACE"]) {
        return Some("CREATE/DROP TABLESPACE cannot run inside a transaction block");
    }
    if starts(&["ALTER", "SYSTEM"]) {
        return Some("ALTER SYSTEM cannot run inside a transaction block");
    }
    if starts(&["COMMIT", "PREPARED"]) || starts(&["ROLLBACK", "PREPARED"]) {
        return Some("COMMIT/ROLLBACK PREPARED cannot run inside a transaction block");
    }
    if starts(&["ALTER", "TYPE"]) && has("ADD") && has("VALUE") {
        return Some(ENUM_VALUE);
    }
    if starts(&["DO"]) && do_body(statement).is_some_and(|body| ends_transactions(&body)) {
        return Some(DO_COMMIT);
    }
    None
}

/// The body of a `DO [LANGUAGE name] 'code'` statement: the text of its string constant
/// (dollar-quoted, or quoted with its quotes undoubled), or `None` when there is none.
fn do_body(statement: &str) -> Option<String> {
    let bytes = statement.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = statement[i..].find('\n').map_or(bytes.len(), |n| i + n);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => i = skip_block_comment(bytes, i),
            b'"' => i = skip_quoted(bytes, i, b'"', false),
            b'$' => {
                let end = skip_dollar_quoted(statement, i);
                let tag_len = bytes[i + 1..].iter().take_while(|b| is_word(**b)).count() + 2;
                if end - i < 2 * tag_len {
                    return None;
                }
                return Some(statement[i + tag_len..end - tag_len].to_owned());
            }
            b'\'' => {
                let escapes = i > 0 && matches!(bytes[i - 1], b'e' | b'E');
                let end = skip_quoted(bytes, i, b'\'', escapes);
                let inner = statement.get(i + 1..end.saturating_sub(1).max(i + 1)).unwrap_or("");
                return Some(inner.replace("''", "'"));
            }
            _ => i += 1,
        }
    }
    None
}

/// Whether PL/pgSQL code holds `COMMIT` or `ROLLBACK` as a keyword: outside its strings,
/// quoted names, dollar-quoted texts and comments.
fn ends_transactions(code: &str) -> bool {
    let bytes = code.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = code[i..].find('\n').map_or(bytes.len(), |n| i + n);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => i = skip_block_comment(bytes, i),
            b'\'' => {
                let escapes =
                    i > 0 && matches!(bytes[i - 1], b'e' | b'E') && (i < 2 || !is_word(bytes[i - 2]));
                i = skip_quoted(bytes, i, b'\'', escapes);
            }
            b'"' => i = skip_quoted(bytes, i, b'"', false),
            b'$' if i == 0 || !is_word(bytes[i - 1]) => i = skip_dollar_quoted(code, i),
            b if is_word(b) => {
                let end = i + bytes[i..].iter().take_while(|b| is_word(**b)).count();
                let word = &code[i..end];
                // `x.commit` names a column or a field, not the statement.
                let qualified = i > 0 && bytes[i - 1] == b'.';
                if !qualified
                    && (word.eq_ignore_ascii_case("commit") || word.eq_ignore_ascii_case("rollback"))
                {
                    return true;
                }
                i = end;
            }
            _ => i += 1,
        }
    }
    false
}

/// What a statement that runs outside a transaction leaves behind, when the runner can look
/// it up in the catalog: so that an interrupted migration is described by what it did, and a
/// concurrent index build is retried without tripping over the invalid index its earlier
/// attempt left.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// `CREATE [UNIQUE] INDEX CONCURRENTLY [IF NOT EXISTS] <name> ON [ONLY] <table>`.
    Index {
        /// The table, as written (quoted parts kept, for `to_regclass`).
        table: String,
        /// The index's name as the catalog stores it (unquoted, folded to lower case unless
        /// it was quoted).
        name: String,
    },
    /// `DROP INDEX CONCURRENTLY [IF EXISTS] <index>`.
    DroppedIndex {
        /// The index, as written (quoted parts kept, for `to_regclass`).
        index: String,
    },
    /// `ALTER TYPE <type> ADD VALUE [IF NOT EXISTS] '<label>'`.
    EnumValue {
        /// The type, as written (quoted parts kept, for `to_regtype`).
        type_name: String,
        /// The new label.
        label: String,
    },
}

impl Effect {
    /// A query of one row and one value: `valid`, `invalid` (an index a failed or
    /// interrupted concurrent build left) or `absent` for an index; `present` or `absent`
    /// for an enum value.
    pub fn state_sql(&self) -> String {
        match self {
            Effect::Index { table, name } => format!(
                "SELECT coalesce((SELECT CASE WHEN i.indisvalid THEN 'valid' ELSE 'invalid' END FROM pg_index i \
                 JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = {} AND i.indrelid = to_regclass({})), 'absent')",
                quote_literal(name),
                quote_literal(table)
            ),
            Effect::DroppedIndex { index } => format!(
                "SELECT CASE WHEN to_regclass({}) IS NULL THEN 'absent' ELSE 'present' END",
                quote_literal(index)
            ),
            Effect::EnumValue { type_name, label } => format!(
                "SELECT CASE WHEN EXISTS (SELECT FROM pg_enum WHERE enumtypid = to_regtype({}) AND enumlabel = {}) \
                 THEN 'present' ELSE 'absent' END",
                quote_literal(type_name),
                quote_literal(label)
            ),
        }
    }

    /// Whether a state [`Effect::state_sql`] read means the statement took effect.
    pub fn took_effect(&self, state: &str) -> bool {
        match self {
            Effect::DroppedIndex { .. } => state == "absent",
            Effect::Index { .. } => state == "valid",
            Effect::EnumValue { .. } => state == "present",
        }
    }

    /// The effect and its state, for a person.
    pub fn describe(&self, state: &str) -> String {
        match self {
            Effect::Index { table, name } => format!("index {name} on {table}: {state}"),
            Effect::DroppedIndex { index } => format!("index {index} (dropped by the step): {state}"),
            Effect::EnumValue { type_name, label } => format!("value '{label}' of {type_name}: {state}"),
        }
    }

    /// Drops the index `qualified`, as [`Effect::invalid_index_sql`] names it, without
    /// blocking writes.
    pub fn drop_index_sql(qualified: &str) -> String {
        format!("DROP INDEX CONCURRENTLY IF EXISTS {qualified}")
    }

    /// The schema-qualified name of the INVALID index this effect's build would trip on,
    /// when there is one: a query of zero or one row.
    pub fn invalid_index_sql(&self) -> Option<String> {
        let Effect::Index { table, name } = self else { return None };
        Some(format!(
            "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_index i \
             JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE NOT i.indisvalid AND c.relname = {} AND i.indrelid = to_regclass({})",
            quote_literal(name),
            quote_literal(table)
        ))
    }
}

/// A token of a statement, for recognising the few statements [`effect`] knows.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Token<'a> {
    /// A keyword or unquoted identifier, as written.
    Word(&'a str),
    /// A quoted identifier, quotes included.
    Quoted(&'a str),
    /// A string literal's value.
    Str(String),
    /// Any other character.
    Punct(char),
}

fn tokens(statement: &str) -> Vec<Token<'_>> {
    let bytes = statement.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = statement[i..].find('\n').map_or(bytes.len(), |n| i + n);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => i = skip_block_comment(bytes, i),
            b'"' => {
                let end = skip_quoted(bytes, i, b'"', false);
                out.push(Token::Quoted(&statement[i..end]));
                i = end;
            }
            b'\'' => {
                let end = skip_quoted(bytes, i, b'\'', false);
                let inner = statement.get(i + 1..end.saturating_sub(1).max(i + 1)).unwrap_or("");
                out.push(Token::Str(inner.replace("''", "'")));
                i = end;
            }
            b if is_word(b) || b >= 0x80 => {
                let end = i + bytes[i..].iter().take_while(|b| is_word(**b) || **b >= 0x80).count();
                out.push(Token::Word(&statement[i..end]));
                i = end;
            }
            b if b.is_ascii_whitespace() => i += 1,
            b => {
                out.push(Token::Punct(char::from(b)));
                i += 1;
            }
        }
    }
    out
}

/// Reads a possibly qualified name (`a`, `"A"."b"`) at `at`: the text as written and the last
/// part as the catalog stores it.
fn qualified_name(statement_tokens: &[Token<'_>], at: usize) -> Option<(String, String, usize)> {
    let mut written = String::new();
    let mut last;
    let mut i = at;
    loop {
        match statement_tokens.get(i)? {
            Token::Word(w) => {
                written.push_str(w);
                last = w.to_lowercase();
            }
            Token::Quoted(q) => {
                written.push_str(q);
                last = q.get(1..q.len().saturating_sub(1)).unwrap_or("").replace("\"\"", "\"");
            }
            _ => return None,
        }
        i += 1;
        if statement_tokens.get(i) == Some(&Token::Punct('.')) {
            written.push('.');
            i += 1;
        } else {
            return Some((written, last, i));
        }
    }
}

/// What `statement` leaves in the catalog, when it is a concurrent index build with a name or
/// an enum value added (see [`Effect`]).
pub fn effect(statement: &str) -> Option<Effect> {
    let t = tokens(statement);
    let word = |i: usize, w: &str| matches!(t.get(i), Some(Token::Word(x)) if x.eq_ignore_ascii_case(w));
    let mut i = 0;
    if word(0, "CREATE") {
        i += 1;
        if word(i, "UNIQUE") {
            i += 1;
        }
        if !(word(i, "INDEX") && word(i + 1, "CONCURRENTLY")) {
            return None;
        }
        i += 2;
        if word(i, "IF") && word(i + 1, "NOT") && word(i + 2, "EXISTS") {
            i += 3;
        }
        if word(i, "ON") {
            return None;
        }
        let (_, name, next) = qualified_name(&t, i)?;
        i = next;
        if !word(i, "ON") {
            return None;
        }
        i += 1;
        if word(i, "ONLY") {
            i += 1;
        }
        let (table, _, _) = qualified_name(&t, i)?;
        return Some(Effect::Index { table, name });
    }
    if word(0, "DROP") && word(1, "INDEX") && word(2, "CONCURRENTLY") {
        i = 3;
        if word(i, "IF") && word(i + 1, "EXISTS") {
            i += 2;
        }
        let (index, _, next) = qualified_name(&t, i)?;
        // One index only: a list names several, whose states a single check cannot give.
        if t.get(next).is_some_and(|token| *token == Token::Punct(',')) {
            return None;
        }
        return Some(Effect::DroppedIndex { index });
    }
    if word(0, "ALTER") && word(1, "TYPE") {
        let (type_name, _, next) = qualified_name(&t, 2)?;
        i = next;
        if !(word(i, "ADD") && word(i + 1, "VALUE")) {
            return None;
        }
        i += 2;
        if word(i, "IF") && word(i + 1, "NOT") && word(i + 2, "EXISTS") {
            i += 3;
        }
        if let Some(Token::Str(label)) = t.get(i) {
            return Some(Effect::EnumValue { type_name, label: label.clone() });
        }
    }
    None
}

/// Whether `statement` takes no lock that blocks reads or writes of its table, even while it
/// waits for one: `CREATE [UNIQUE] INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY`,
/// `REINDEX … CONCURRENTLY` (the keyword, or the option not turned off), and
/// `ALTER TABLE [IF EXISTS] [ONLY] <table> VALIDATE CONSTRAINT <name>` when that is its only
/// action. They take SHARE UPDATE EXCLUSIVE at most on the table (a foreign key's validation
/// also ROW SHARE on the table it references), which conflicts with neither reads (ACCESS
/// SHARE) nor writes (ROW EXCLUSIVE): no query queues behind them, even while they wait. A
/// concurrent index build also waits, through lock waits, for the transactions older than it
/// to end; such a wait holds up nobody. The runner therefore lets them wait without its
/// default `lock_timeout`.
///
/// Comments, quoted names and strings and case do not change the answer; a text of several
/// statements, or an `ALTER TABLE` with any other action (which takes that action's lock),
/// is not one of them.
///
/// ```
/// use migrate_core::sql::takes_no_blocking_lock;
///
/// assert!(takes_no_blocking_lock(r#"CREATE UNIQUE INDEX CONCURRENTLY "uq_people_email" ON "people" ("email")"#));
/// assert!(takes_no_blocking_lock("alter table people validate constraint people_email_not_null"));
/// assert!(!takes_no_blocking_lock("ALTER TABLE people VALIDATE CONSTRAINT c, ADD COLUMN x int"));
/// assert!(!takes_no_blocking_lock("CREATE INDEX idx_people_email ON people (email)"));
/// assert!(!takes_no_blocking_lock("/* CREATE INDEX CONCURRENTLY i ON t (a) */ LOCK TABLE t"));
/// ```
pub fn takes_no_blocking_lock(statement: &str) -> bool {
    if split_statements(statement).len() != 1 {
        return false;
    }
    let mut t = tokens(statement);
    while t.last() == Some(&Token::Punct(';')) {
        t.pop();
    }
    let word = |i: usize, w: &str| matches!(t.get(i), Some(Token::Word(x)) if x.eq_ignore_ascii_case(w));
    if word(0, "CREATE") {
        let i = if word(1, "UNIQUE") { 2 } else { 1 };
        return word(i, "INDEX") && word(i + 1, "CONCURRENTLY");
    }
    if word(0, "DROP") {
        return word(1, "INDEX") && word(2, "CONCURRENTLY");
    }
    if word(0, "REINDEX") {
        // REINDEX [ ( option [, …] ) ] { INDEX | TABLE | SCHEMA | DATABASE } [ CONCURRENTLY ] …
        let mut i = 1;
        let mut concurrently = false;
        if t.get(i) == Some(&Token::Punct('(')) {
            i += 1;
            loop {
                let Some(Token::Word(option)) = t.get(i) else { return false };
                i += 1;
                let value = match t.get(i) {
                    Some(Token::Word(value)) => Some(value.to_ascii_lowercase()),
                    Some(Token::Str(value)) => Some(value.to_ascii_lowercase()),
                    _ => None,
                };
                if value.is_some() {
                    i += 1;
                }
                if option.eq_ignore_ascii_case("CONCURRENTLY") {
                    concurrently = !matches!(value.as_deref(), Some("false" | "off" | "0" | "no"));
                }
                match t.get(i) {
                    Some(Token::Punct(',')) => i += 1,
                    Some(Token::Punct(')')) => {
                        i += 1;
                        break;
                    }
                    _ => return false,
                }
            }
        }
        if !["INDEX", "TABLE", "SCHEMA", "DATABASE"].iter().any(|kind| word(i, kind)) {
            return false;
        }
        return concurrently || word(i + 1, "CONCURRENTLY");
    }
    if word(0, "ALTER") && word(1, "TABLE") {
        let mut i = 2;
        if word(i, "IF") && word(i + 1, "EXISTS") {
            i += 2;
        }
        if word(i, "ONLY") {
            i += 1;
        }
        let Some((_, _, next)) = qualified_name(&t, i) else { return false };
        i = next;
        if t.get(i) == Some(&Token::Punct('*')) {
            i += 1;
        }
        // The constraint's name, then nothing: one action only.
        return word(i, "VALIDATE")
            && word(i + 1, "CONSTRAINT")
            && matches!(t.get(i + 2), Some(Token::Word(_) | Token::Quoted(_)))
            && t.len() == i + 3;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote_ident("people"), "\"people\"");
        assert_eq!(quote_ident("Order"), "\"Order\"");
        assert_eq!(quote_ident("we\"ird"), "\"we\"\"ird\"");
        assert_eq!(quote_qualified("crm.people"), "\"crm\".\"people\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(quote_literal_always("it's"), "'it''s'");
        assert_eq!(quote_literal_always("a\\'b"), "E'a\\\\''b'");
        assert_eq!(stored_name(&"ü".repeat(40)).len(), 62, "cut on a character's boundary");
        assert_eq!(stored_name(&"x".repeat(70)).len(), 63);
        assert_eq!(stored_name("tenant_1"), "tenant_1");
    }

    #[test]
    fn comments_after_the_last_token_stay_out_of_the_statement() {
        let script = "ALTER TABLE a ADD COLUMN b int;\n\nCOMMENT ON COLUMN a.b IS 'x'\n\n-- later, by hand:\n-- UPDATE a SET b = 1;";
        assert_eq!(
            split_statements(script),
            ["ALTER TABLE a ADD COLUMN b int", "COMMENT ON COLUMN a.b IS 'x'"]
        );
        assert_eq!(split_statements("SELECT 1 /* one */ ; SELECT 2 -- two"), ["SELECT 1", "SELECT 2"]);
        assert_eq!(split_statements("-- only\nSELECT 1 -- a\n + 2"), ["-- only\nSELECT 1 -- a\n + 2"]);
    }

    #[test]
    fn splitting_honours_quotes_comments_and_bodies() {
        let script = r#"
            CREATE TABLE a (x text DEFAULT 'a;b');  -- a comment; with a semicolon
            /* block; /* nested; */ still */
            INSERT INTO "we;ird" VALUES (E'it\'s; fine');
            CREATE FUNCTION f() RETURNS int AS $body$ BEGIN RETURN 1; END; $body$ LANGUAGE plpgsql;
            CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 2 END; END;
            SELECT $1;
            ;
            -- trailing comment only
        "#;
        let statements = split_statements(script);
        assert_eq!(statements.len(), 5, "{statements:#?}");
        assert!(statements[0].starts_with("CREATE TABLE a") && statements[0].ends_with("'a;b')"));
        assert!(
            statements[1].contains("INSERT INTO \"we;ird\"") && statements[1].ends_with("'it\\'s; fine')")
        );
        assert!(statements[2].ends_with("LANGUAGE plpgsql"));
        assert!(statements[3].ends_with("END; END"));
        assert_eq!(statements[4], "SELECT $1");
    }

    #[test]
    fn statements_refused_in_a_transaction() {
        let refused = [
            "CREATE INDEX CONCURRENTLY idx ON t (a)",
            "create unique index concurrently if not exists idx on t (a)",
            "DROP INDEX CONCURRENTLY idx",
            "REINDEX INDEX CONCURRENTLY idx",
            "REINDEX DATABASE crm",
            "ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY",
            "VACUUM ANALYZE people",
            "vacuum",
            "CLUSTER",
            "CREATE DATABASE crm",
            "DROP DATABASE crm",
            "ALTER DATABASE crm SET TABLESPACE fast",
            "CREATE TABLESPACE fast LOCATION '/x'",
            "ALTER SYSTEM SET work_mem = '64MB'",
            "COMMIT PREPARED 'x'",
            "ALTER TYPE interaction_type ADD VALUE IF NOT EXISTS 'linkedin_message'",
            "/* hint */ -- note\nVACUUM people",
        ];
        for statement in refused {
            assert!(no_transaction_reason(statement).is_some(), "{statement}");
        }
        let accepted = [
            "CREATE INDEX idx ON t (a)",
            "DROP INDEX idx",
            "REINDEX TABLE people",
            "ANALYZE people",
            "CLUSTER people USING idx",
            "ALTER TYPE interaction_type RENAME VALUE 'a' TO 'b'",
            "SELECT 'VACUUM'",
            "COMMENT ON TABLE t IS 'CREATE INDEX CONCURRENTLY later'",
        ];
        for statement in accepted {
            assert_eq!(no_transaction_reason(statement), None, "{statement}");
        }
    }
    #[test]
    fn do_blocks_that_commit_run_outside_a_transaction() {
        let refused = [
            "DO $$ BEGIN UPDATE t SET a = 1; COMMIT; END $$",
            "do $body$ begin loop exit; end loop; commit; end $body$",
            "DO LANGUAGE plpgsql $x$ BEGIN ROLLBACK; END $x$",
            "DO 'BEGIN INSERT INTO t VALUES (''a''); COMMIT; END'",
            "/* first */ DO $$ BEGIN PERFORM 1; -- note\n COMMIT AND CHAIN; END $$",
        ];
        for statement in refused {
            assert!(no_transaction_reason(statement).is_some_and(|r| r.contains("DO block")), "{statement}");
        }
        let accepted = [
            "DO $$ BEGIN RAISE NOTICE 'COMMIT'; END $$",
            "DO $$ BEGIN UPDATE t SET note = 'commit'; END $$",
            "DO $$ BEGIN -- COMMIT later\n PERFORM 1; END $$",
            "DO $$ BEGIN /* COMMIT; */ PERFORM 1; END $$",
            "DO $$ BEGIN UPDATE t SET \"commit\" = true; UPDATE t SET x = r.commit; END $$",
            "DO $$ BEGIN EXECUTE $q$COMMIT$q$; END $$",
            "DO $$ BEGIN PERFORM committed_at FROM t; END $$",
            "SELECT 'DO $$ BEGIN COMMIT; END $$'",
            "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN COMMIT; END $$",
            "DO",
        ];
        for statement in accepted {
            assert_eq!(no_transaction_reason(statement), None, "{statement}");
        }
    }

    #[test]
    fn every_call_that_runs_outside_a_transaction_gives_a_reason() {
        for call in ["concurrently", "add_enum_value", "set_not_null_through_check", "backfill"] {
            assert!(no_transaction_call(call).is_some(), "{call}");
        }
        for call in ["create_index", "set_not_null", "validate_constraint", "execute", "not_valid"] {
            assert_eq!(no_transaction_call(call), None, "{call}");
        }
    }

    #[test]
    fn statements_that_take_no_lock_blocking_reads_or_writes() {
        let lifted = [
            "CREATE INDEX CONCURRENTLY idx ON t (a)",
            "create unique index concurrently if not exists \"Idx\" on only crm.\"People\" (a) where b = 'x'",
            "CREATE INDEX CONCURRENTLY ON t (a)",
            "/* build */ -- without blocking\nCREATE INDEX CONCURRENTLY idx ON t (a);",
            "DROP INDEX CONCURRENTLY IF EXISTS crm.\"Idx\"",
            "drop index concurrently a, b",
            "REINDEX INDEX CONCURRENTLY idx",
            "reindex table concurrently crm.people",
            "REINDEX (VERBOSE, CONCURRENTLY) TABLE people",
            "REINDEX (CONCURRENTLY true, TABLESPACE fast) INDEX idx",
            "REINDEX (CONCURRENTLY off) TABLE CONCURRENTLY people",
            "REINDEX SCHEMA CONCURRENTLY crm",
            "ALTER TABLE people VALIDATE CONSTRAINT people_email_not_null",
            "alter table if exists only \"crm\".\"People\" validate constraint \"Fk People\"",
            "ALTER TABLE people * VALIDATE CONSTRAINT c;",
            "ALTER TABLE people /* , ADD COLUMN x int */ VALIDATE CONSTRAINT c -- , DROP COLUMN y",
        ];
        for statement in lifted {
            assert!(takes_no_blocking_lock(statement), "{statement}");
        }
        let kept = [
            "CREATE INDEX idx ON t (a)",
            "CREATE UNIQUE INDEX idx ON t (a)",
            "DROP INDEX idx",
            "REINDEX INDEX idx",
            "REINDEX (VERBOSE) TABLE people",
            "REINDEX (CONCURRENTLY false) TABLE people",
            "REINDEX SYSTEM CONCURRENTLY crm",
            "ALTER TABLE people VALIDATE CONSTRAINT c, ADD COLUMN x int",
            "ALTER TABLE people VALIDATE CONSTRAINT c, VALIDATE CONSTRAINT d",
            "ALTER TABLE people ADD CONSTRAINT c CHECK (a > 0) NOT VALID",
            "ALTER TABLE people ADD CONSTRAINT uq UNIQUE USING INDEX uq",
            "ALTER TABLE people ALTER COLUMN email SET NOT NULL",
            "ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY",
            "ALTER INDEX idx RENAME TO idx2",
            "SELECT 'CREATE INDEX CONCURRENTLY idx ON t (a)'",
            "COMMENT ON TABLE t IS 'ALTER TABLE t VALIDATE CONSTRAINT c'",
            "-- CREATE INDEX CONCURRENTLY idx ON t (a)\nLOCK TABLE t",
            "CREATE INDEX CONCURRENTLY idx ON t (a); DROP TABLE u",
            "ALTER TABLE people VALIDATE CONSTRAINT c; LOCK TABLE people",
            "\"CREATE\" INDEX CONCURRENTLY idx ON t (a)",
            "",
        ];
        for statement in kept {
            assert!(!takes_no_blocking_lock(statement), "{statement}");
        }
    }

    #[test]
    fn effects_of_statements_outside_a_transaction() {
        let index = |table: &str, name: &str| Some(Effect::Index { table: table.into(), name: name.into() });
        assert_eq!(
            effect("CREATE INDEX CONCURRENTLY idx_people_email ON people (email)"),
            index("people", "idx_people_email")
        );
        assert_eq!(
            effect("create unique index concurrently if not exists \"Idx\" on only crm.\"People\" (a)"),
            index("crm.\"People\"", "Idx")
        );
        assert_eq!(
            effect("/* x */ CREATE INDEX CONCURRENTLY Idx_A ON t USING btree (a)"),
            index("t", "idx_a")
        );
        assert_eq!(effect("CREATE INDEX CONCURRENTLY ON t (a)"), None, "no name: PostgreSQL picks one");
        assert_eq!(effect("CREATE INDEX idx ON t (a)"), None);
        assert_eq!(
            effect("ALTER TYPE \"crm\".interaction_type ADD VALUE IF NOT EXISTS 'it''s' AFTER 'call'"),
            Some(Effect::EnumValue { type_name: "\"crm\".interaction_type".into(), label: "it's".into() })
        );
        assert_eq!(effect("ALTER TYPE t RENAME VALUE 'a' TO 'b'"), None);
        assert_eq!(
            effect("DROP INDEX CONCURRENTLY IF EXISTS crm.\"Idx\" CASCADE"),
            Some(Effect::DroppedIndex { index: "crm.\"Idx\"".into() })
        );
        assert_eq!(effect("DROP INDEX CONCURRENTLY a, b"), None);
        assert_eq!(effect("VACUUM people"), None);
        assert_eq!(effect(""), None);
        assert_eq!(effect("CREATE INDEX CONCURRENTLY \"unterminated ON t"), None);
    }
}
