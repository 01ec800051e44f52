//! Small helpers for messages: quoting lists of names, shortening a text, finding the closest
//! name.

/// `a`, `b` and `c`: names in backticks, joined for a sentence. Long lists end with
/// "and N more".
pub fn list<S: AsRef<str>>(names: &[S]) -> String {
    const SHOWN: usize = 5;
    let quoted: Vec<String> = names.iter().take(SHOWN).map(|n| format!("`{}`", n.as_ref())).collect();
    let more = names.len().saturating_sub(SHOWN);
    match (quoted.as_slice(), more) {
        ([], _) => String::new(),
        ([one], 0) => one.clone(),
        (all, 0) => {
            let (last, rest) = all.split_last().unwrap_or((&all[0], &[]));
            format!("{} and {last}", rest.join(", "))
        }
        (all, more) => format!("{} and {more} more", all.join(", ")),
    }
}

/// `text` for a message: runs of whitespace made one space, cut after `chars` characters
/// with `…`.
pub fn shorten(text: &str, chars: usize) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match text.char_indices().nth(chars) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

/// `text` on one line: each control character (a newline, a carriage return, a tab…) written
/// as its escape (`\n`), so that a name quoted in a comment or a message cannot end the line.
pub fn on_one_line(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_owned();
    }
    text.chars()
        .map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() })
        .collect()
}

/// The candidate closest to `word` by edit distance, if it is close enough to be a likely
/// typo (at most a third of the word's length, and at least 1 edit allowed).
pub fn closest<'a, I>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|&(d, _)| d <= limit)
        .min()
        .map(|(_, c)| c)
}

/// Levenshtein distance between two strings, by characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

/// `text` without the arguments that look like a connection string: a command-line parser or
/// an unknown revision quotes a misplaced argument back, and a connection string may hold a
/// password. One looks like it when it holds `://` or `password`, or a `user:password@`
/// part (a `:` before its first `@`); a target such as `billing@head` or
/// `billing@base:billing@head` does not.
pub fn without_connection_strings(text: &str, args: &[String]) -> String {
    let mut text = text.to_owned();
    for arg in args {
        if is_connection_string(arg) {
            text = text.replace(arg.as_str(), "(a connection string, not shown)");
        }
    }
    text
}

/// `text` with the password of each `scheme://user:password@host` URL in it written `***`:
/// for text another program printed, such as a traceback quoting the URL of its settings,
/// where the connection strings are not known in advance.
pub fn without_url_passwords(text: &str) -> String {
    let mut shown = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(found) = rest.find("://") {
        let start = found + 3;
        let end = rest[start..]
            .find(|c: char| c == '/' || c.is_whitespace() || c == '\'' || c == '"')
            .map_or(rest.len(), |i| start + i);
        // The password runs from the first `:` to the last `@`, which may be in it.
        let userinfo = rest[start..end].rsplit_once('@').map(|(userinfo, _)| userinfo);
        match userinfo.and_then(|u| u.split_once(':')) {
            Some((user, password)) if !password.is_empty() => {
                let host = start + user.len() + 1 + password.len();
                shown.push_str(&rest[..start + user.len() + 1]);
                shown.push_str("***");
                shown.push_str(&rest[host..end]);
            }
            _ => shown.push_str(&rest[..end]),
        }
        rest = &rest[end..];
    }
    shown.push_str(rest);
    shown
}

fn is_connection_string(arg: &str) -> bool {
    let userinfo = arg.split_once('@').is_some_and(|(before, _)| before.contains(':'));
    arg.contains("://") || arg.contains("password") || userinfo
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorten_collapses_whitespace_and_cuts_at_a_character() {
        assert_eq!(shorten("CREATE  INDEX\n  i", 80), "CREATE INDEX i");
        assert_eq!(shorten("é".repeat(5).as_str(), 3), "ééé…");
    }

    #[test]
    fn url_passwords_are_hidden_and_the_rest_is_kept() {
        let cases = [
            (
                "sqlalchemy.exc.OperationalError: postgresql+psycopg2://app:Hunter2@db:5432/crm failed",
                "sqlalchemy.exc.OperationalError: postgresql+psycopg2://app:***@db:5432/crm failed",
            ),
            ("url = 'postgresql://app:p@ss:w0rd@db/crm'", "url = 'postgresql://app:***@db/crm'"),
            ("a://u:x@h b://v:y@k\n", "a://u:***@h b://v:***@k\n"),
            ("(postgres://app:Hunter2@db)", "(postgres://app:***@db)"),
            ("postgres://app@db/crm, postgres://db/crm", "postgres://app@db/crm, postgres://db/crm"),
            ("postgres://app:@db/crm", "postgres://app:@db/crm"),
            ("https://example.com/a:b@c", "https://example.com/a:b@c"),
            ("no url: a:b@c ://", "no url: a:b@c ://"),
            ("é://ü:ö@ä", "é://ü:***@ä"),
        ];
        for (text, shown) in cases {
            assert_eq!(without_url_passwords(text), shown, "{text}");
        }
    }

    #[test]
    fn connection_strings_are_hidden_and_targets_are_not() {
        let args: Vec<String> = [
            "postgres://app:Hunter2@db/crm",
            "app:Hunter2@db",
            "app:p@ss@db",
            "host=db password=Hunter2",
            "billing@head",
            "billing@base:billing@head",
            "3f2a@-1",
        ]
        .iter()
        .map(|a| (*a).to_owned())
        .collect();
        let shown: Vec<String> = args.iter().map(|a| without_connection_strings(a, &args)).collect();
        let hidden = "(a connection string, not shown)";
        assert_eq!(
            shown,
            [hidden, hidden, hidden, hidden, "billing@head", "billing@base:billing@head", "3f2a@-1"]
        );
    }

    #[test]
    fn lists_read_as_sentences() {
        assert_eq!(list::<&str>(&[]), "");
        assert_eq!(list(&["a"]), "`a`");
        assert_eq!(list(&["a", "b"]), "`a` and `b`");
        assert_eq!(list(&["a", "b", "c"]), "`a`, `b` and `c`");
        assert_eq!(list(&["1", "2", "3", "4", "5", "6", "7"]), "`1`, `2`, `3`, `4`, `5` and 2 more");
    }

    #[test]
    fn closest_finds_typos_only() {
        let ids = ["3f2a9c1b7d4e", "a1b2c3d4e5f6", "0c9d8e7f6a5b"];
        assert_eq!(closest("3f2a9c1b7d4f", ids), Some("3f2a9c1b7d4e"));
        assert_eq!(closest("a1b2c3d4e5", ids), Some("a1b2c3d4e5f6"));
        assert_eq!(closest("ffffffffffff", ids), None);
        assert_eq!(closest("down_revison", ["rev", "down_revision", "transactional"]), Some("down_revision"));
    }

    #[test]
    fn edit_distances() {
        let cases =
            [("", "", 0), ("abc", "", 3), ("kitten", "sitting", 3), ("flaw", "lawn", 2), ("same", "same", 0)];
        for (a, b, d) in cases {
            assert_eq!(edit_distance(a, b), d, "{a} {b}");
            assert_eq!(edit_distance(b, a), d, "{b} {a}");
        }
    }
}
