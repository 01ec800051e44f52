//! Migration file names (`YYYYMMDD_HHMM_<rev>_<slug>.rs`) and slugs.

use std::collections::BTreeSet;
use std::fmt;

/// Words that name no change on their own: a slug made only of these says nothing.
///
/// The first group is the guide's list of vague words; the second group are generic verbs,
/// nouns and small words that carry no business meaning by themselves (`add_stuff`,
/// `change_table` are as vague as `update_db`).
pub const DEFAULT_VAGUE_WORDS: &[&str] = &[
    // vague words
    "db",
    "database",
    "stuff",
    "thing",
    "things",
    "misc",
    "various",
    "change",
    "changes",
    "update",
    "updates",
    "fix",
    "fixes",
    "migration",
    "migrations",
    "migrate",
    "schema",
    "tmp",
    "temp",
    "test",
    "tests",
    "wip",
    "new",
    "old",
    "version",
    "final",
    "cleanup",
    "tweak",
    "tweaks",
    "patch",
    "todo",
    // generic verbs, nouns and small words
    "add",
    "create",
    "drop",
    "remove",
    "delete",
    "alter",
    "modify",
    "rename",
    "set",
    "make",
    "move",
    "table",
    "tables",
    "column",
    "columns",
    "field",
    "fields",
    "data",
    "to",
    "from",
    "in",
    "on",
    "of",
    "for",
    "and",
    "or",
    "the",
    "a",
    "an",
    "with",
    "into",
    "some",
    "more",
];

/// The word lists a slug is checked against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WordLists {
    vague: BTreeSet<String>,
    specific: BTreeSet<String>,
}

impl Default for WordLists {
    fn default() -> Self {
        WordLists {
            vague: DEFAULT_VAGUE_WORDS.iter().map(|w| (*w).to_owned()).collect(),
            specific: BTreeSet::new(),
        }
    }
}

impl WordLists {
    /// The default lists extended with a team's own vague words, minus the words the team
    /// declares specific (a team whose business is schemas may declare `schema` specific).
    pub fn new<V, S>(extra_vague: V, specific: S) -> Self
    where
        V: IntoIterator,
        V::Item: Into<String>,
        S: IntoIterator,
        S::Item: Into<String>,
    {
        let mut lists = WordLists::default();
        lists.vague.extend(extra_vague.into_iter().map(Into::into));
        lists.specific = specific.into_iter().map(Into::into).collect();
        lists
    }

    /// Whether `word` names nothing on its own: a listed vague word not declared specific, a
    /// version word (`v2`), or a number.
    pub fn is_vague(&self, word: &str) -> bool {
        if self.specific.contains(word) {
            return false;
        }
        let version_word =
            word.len() > 1 && word.starts_with('v') && word[1..].bytes().all(|b| b.is_ascii_digit());
        let number = word.bytes().all(|b| b.is_ascii_digit());
        self.vague.contains(word) || version_word || number
    }
}

/// Why a slug is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SlugProblem {
    /// Not lowercase words of letters and digits joined by single underscores.
    NotSnakeCase,
    /// A single word: a slug names a change, which takes at least two words.
    OneWord,
    /// Every word is vague.
    Vague,
}

impl fmt::Display for SlugProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SlugProblem::NotSnakeCase => "is not snake_case",
            SlugProblem::OneWord => "is a single word",
            SlugProblem::Vague => "is vague: none of its words names what changes",
        })
    }
}

/// Checks a slug: snake_case, at least two words, at least one word that is not vague.
pub fn check_slug(slug: &str, words: &WordLists) -> Result<(), SlugProblem> {
    let parts: Vec<&str> = slug.split('_').collect();
    let snake = parts
        .iter()
        .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
        && slug.starts_with(|c: char| c.is_ascii_lowercase());
    if !snake {
        return Err(SlugProblem::NotSnakeCase);
    }
    if parts.len() < 2 {
        return Err(SlugProblem::OneWord);
    }
    if parts.iter().all(|w| words.is_vague(w)) {
        return Err(SlugProblem::Vague);
    }
    Ok(())
}

/// The parts of a migration file name `YYYYMMDD_HHMM_<rev>_<slug>.rs`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileName {
    /// `YYYYMMDD_HHMM`: sorts chronologically.
    pub timestamp: String,
    /// The revision id.
    pub rev: String,
    /// The slug.
    pub slug: String,
}

/// Why a file name is not `YYYYMMDD_HHMM_<rev>_<slug>.rs`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileNameProblem {
    /// The name does not have the shape `YYYYMMDD_HHMM_<rev>_<slug>.rs`.
    Shape,
    /// The date is not a real date.
    Date,
    /// The time is not a real time of day.
    Time,
    /// The slug holds what no module name can, such as the ` (copy)` a file manager appends:
    /// `name` holds the parts before it (its slug cut where the stray text starts).
    Slug {
        /// The name's parts, the slug cut to its leading identifier (maybe empty).
        name: FileName,
        /// The rest of the slug, from its first character no identifier holds.
        stray: String,
    },
}

impl fmt::Display for FileNameProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FileNameProblem::Shape => "is not `YYYYMMDD_HHMM_<rev>_<slug>.rs`",
            FileNameProblem::Date => "does not start with a real date `YYYYMMDD`",
            FileNameProblem::Time => "does not carry a real time of day `HHMM`",
            FileNameProblem::Slug { name, stray } if name.slug.is_empty() => {
                return write!(f, "has a slug `{stray}` that is not a module name");
            }
            FileNameProblem::Slug { name, stray } => {
                return write!(f, "has `{stray}` after the slug `{}`, which no module name holds", name.slug);
            }
        })
    }
}

impl FileName {
    /// Parses a migration file name.
    ///
    /// The revision is the part after the time up to the next underscore, unless `rev` (the
    /// revision the migration declares) is itself followed by an underscore there: ids of the
    /// `alembic` format may contain underscores.
    pub fn parse(name: &str, rev: Option<&str>) -> Result<FileName, FileNameProblem> {
        let stem = name.strip_suffix(".rs").ok_or(FileNameProblem::Shape)?;
        let bytes = stem.as_bytes();
        let digits = |range: std::ops::Range<usize>| {
            bytes.get(range).is_some_and(|s| s.iter().all(u8::is_ascii_digit))
        };
        if !(digits(0..8) && bytes.get(8) == Some(&b'_') && digits(9..13)) || bytes.get(13) != Some(&b'_') {
            return Err(FileNameProblem::Shape);
        }
        let rest = &stem[14..];
        let (file_rev, slug) = match rev {
            Some(rev)
                if rest.len() > rev.len() && rest.starts_with(rev) && rest[rev.len()..].starts_with('_') =>
            {
                (rev, &rest[rev.len() + 1..])
            }
            _ => rest.split_once('_').ok_or(FileNameProblem::Shape)?,
        };
        if file_rev.is_empty() || slug.is_empty() {
            return Err(FileNameProblem::Shape);
        }
        FileName::check_timestamp(&stem[..13])?;
        let name =
            FileName { timestamp: stem[..13].to_owned(), rev: file_rev.to_owned(), slug: slug.to_owned() };
        // The slug names the module: text no identifier holds (a file manager's ` (copy)`,
        // ` (1)`, `-2`) makes a name that no module can agree with.
        let ident = slug
            .char_indices()
            .find(|&(at, c)| !(c == '_' || if at == 0 { c.is_alphabetic() } else { c.is_alphanumeric() }))
            .map(|(at, _)| at);
        match ident {
            None => Ok(name),
            Some(at) => Err(FileNameProblem::Slug {
                stray: slug[at..].to_owned(),
                name: FileName { slug: slug[..at].to_owned(), ..name },
            }),
        }
    }

    /// Checks a `YYYYMMDD_HHMM` timestamp: its shape, a real date, a real time of day.
    pub fn check_timestamp(stamp: &str) -> Result<(), FileNameProblem> {
        let bytes = stamp.as_bytes();
        let digits = |range: std::ops::Range<usize>| bytes[range].iter().all(u8::is_ascii_digit);
        if bytes.len() != 13 || !digits(0..8) || bytes[8] != b'_' || !digits(9..13) {
            return Err(FileNameProblem::Shape);
        }
        let number = |range: std::ops::Range<usize>| -> u32 { stamp[range].parse().unwrap_or(u32::MAX) };
        let (year, month, day) = (number(0..4), number(4..6), number(6..8));
        if !is_real_date(year, month, day) {
            return Err(FileNameProblem::Date);
        }
        if number(9..11) > 23 || number(11..13) > 59 {
            return Err(FileNameProblem::Time);
        }
        Ok(())
    }

    /// The file name for a migration created at `timestamp` (`YYYYMMDD_HHMM`).
    pub fn format(timestamp: &str, rev: &str, slug: &str) -> String {
        format!("{timestamp}_{rev}_{slug}.rs")
    }
}

fn is_real_date(year: u32, month: u32, day: u32) -> bool {
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1970..=9999).contains(&year) && (1..=days).contains(&day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guides_names() {
        let words = WordLists::default();
        let good = [
            "add_lead_scores_table",
            "add_status_to_interactions",
            "add_embeddings_to_emails",
            "fix_interaction_statuses",
            "rename_body_to_description",
            "add_interactions_v1",
            "email_marketing_lite",
            "add_ai_summary_to_interactions",
            "fix_status_default_value",
        ];
        for slug in good {
            assert_eq!(check_slug(slug, &words), Ok(()), "{slug}");
        }
        let bad = [
            ("update_db", SlugProblem::Vague),
            ("fix_stuff", SlugProblem::Vague),
            ("migration_v2", SlugProblem::Vague),
            ("add_stuff", SlugProblem::Vague),
            ("update_schema_v3", SlugProblem::Vague),
            ("wip_tmp", SlugProblem::Vague),
            ("changes", SlugProblem::OneWord),
            ("misc", SlugProblem::OneWord),
            ("users", SlugProblem::OneWord),
            ("AddUsers", SlugProblem::NotSnakeCase),
            ("add__users", SlugProblem::NotSnakeCase),
            ("add_users_", SlugProblem::NotSnakeCase),
            ("_add_users", SlugProblem::NotSnakeCase),
            ("2fa_codes", SlugProblem::NotSnakeCase),
            ("add-users", SlugProblem::NotSnakeCase),
        ];
        for (slug, problem) in bad {
            assert_eq!(check_slug(slug, &words), Err(problem), "{slug}");
        }
    }

    #[test]
    fn word_lists_are_configurable() {
        let words = WordLists::new(["crm"], ["schema"]);
        assert_eq!(check_slug("update_crm", &words), Err(SlugProblem::Vague));
        assert_eq!(check_slug("update_schema", &words), Ok(()));
        assert_eq!(check_slug("update_schema", &WordLists::default()), Err(SlugProblem::Vague));
    }

    #[test]
    fn file_names() {
        let ok = FileName::parse("20241025_1412_3f2a9c1b7d4e_add_lead_scores_table.rs", None);
        assert_eq!(
            ok,
            Ok(FileName {
                timestamp: "20241025_1412".into(),
                rev: "3f2a9c1b7d4e".into(),
                slug: "add_lead_scores_table".into(),
            })
        );
        let alembic = FileName::parse("20241025_1412_0001_init_add_people_table.rs", Some("0001_init"));
        assert_eq!(alembic.map(|f| (f.rev, f.slug)), Ok(("0001_init".into(), "add_people_table".into())));

        let cases = [
            ("20241025_1412_3f2a9c1b7d4e_add_x.sql", FileNameProblem::Shape),
            ("add_lead_scores_table.rs", FileNameProblem::Shape),
            ("2024102_1412_3f2a9c1b7d4e_add_x.rs", FileNameProblem::Shape),
            ("20241025-1412_3f2a9c1b7d4e_add_x.rs", FileNameProblem::Shape),
            ("20241025_1412_3f2a9c1b7d4e.rs", FileNameProblem::Shape),
            ("20241025_1412__add_x.rs", FileNameProblem::Shape),
            ("20241325_1412_3f2a9c1b7d4e_add_x.rs", FileNameProblem::Date),
            ("20230229_1412_3f2a9c1b7d4e_add_x.rs", FileNameProblem::Date),
            ("20241000_1412_3f2a9c1b7d4e_add_x.rs", FileNameProblem::Date),
            ("20241025_2412_3f2a9c1b7d4e_add_x.rs", FileNameProblem::Time),
            ("20241025_1460_3f2a9c1b7d4e_add_x.rs", FileNameProblem::Time),
        ];
        for (name, problem) in cases {
            assert_eq!(FileName::parse(name, None), Err(problem), "{name}");
        }
        assert!(FileName::parse("20240229_0000_3f2a9c1b7d4e_add_x.rs", None).is_ok());
    }

    #[test]
    fn a_slug_no_module_can_be_named_is_a_problem_naming_the_stray_text() {
        let copy = FileName::parse("20241022_0900_b2c3d4e5f6a1_add_interactions_table (copy).rs", None);
        let name = FileName {
            timestamp: "20241022_0900".into(),
            rev: "b2c3d4e5f6a1".into(),
            slug: "add_interactions_table".into(),
        };
        assert_eq!(copy, Err(FileNameProblem::Slug { name, stray: " (copy)".into() }));
        assert_eq!(
            copy.map(|_| ()).unwrap_err().to_string(),
            "has ` (copy)` after the slug `add_interactions_table`, which no module name holds"
        );
        let numbered = FileName::parse("20241022_0900_b2c3d4e5f6a1_1st.rs", None).map(|_| ()).unwrap_err();
        assert_eq!(numbered.to_string(), "has a slug `1st` that is not a module name");
        assert!(FileName::parse("20241022_0900_b2c3d4e5f6a1_add_x2_to_people.rs", None).is_ok());
    }
}
