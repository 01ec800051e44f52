//! Revision ids: the accepted formats, their validation and a generator.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hasher};

/// The longest revision id a version table row can hold: Alembic's `alembic_version.version_num`
/// is `varchar(32)`, and PostgreSQL would refuse a longer id only after the migration ran.
pub const MAX_ID_LEN: usize = 32;

/// Words of the target grammar that can never be revision ids or branch labels.
pub const RESERVED_WORDS: &[&str] = &["head", "heads", "base", "current"];

/// Characters the target grammar gives a meaning (`rev+1`, `rev-1`, `branch@rev`, `a:b`), which
/// no revision id or branch label may hold.
pub const RESERVED_CHARS: &[char] = &['@', '-', '+', ':'];

/// How the revision ids of a migrations folder look.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IdFormat {
    /// Twelve lowercase hexadecimal characters, as `cargo migrate revision` generates them.
    #[default]
    Hex12,
    /// Any id Alembic accepts, for histories adopted from it: 1 to 32 characters, no
    /// whitespace, none of `@ - + :`, and not a word of the target grammar.
    Alembic,
}

impl IdFormat {
    /// The name of the format in `[package.metadata.migrate] id_format`.
    pub fn name(self) -> &'static str {
        match self {
            IdFormat::Hex12 => "hex12",
            IdFormat::Alembic => "alembic",
        }
    }

    /// Reads a format from its name in `[package.metadata.migrate] id_format`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "hex12" => Some(IdFormat::Hex12),
            "alembic" => Some(IdFormat::Alembic),
            _ => None,
        }
    }

    /// Checks that `id` is a revision id of this format.
    pub fn check(self, id: &str) -> Result<(), IdError> {
        match self {
            IdFormat::Hex12 => {
                if id.len() == 12 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
                    Ok(())
                } else {
                    Err(IdError::NotHex12)
                }
            }
            IdFormat::Alembic => {
                if id.is_empty() {
                    return Err(IdError::Empty);
                }
                if id.len() > MAX_ID_LEN {
                    return Err(IdError::TooLong { len: id.len() });
                }
                if let Some(c) = id.chars().find(|c| RESERVED_CHARS.contains(c)) {
                    return Err(IdError::ReservedChar(c));
                }
                if id.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    return Err(IdError::Whitespace);
                }
                if RESERVED_WORDS.contains(&id) {
                    return Err(IdError::ReservedWord);
                }
                Ok(())
            }
        }
    }
}

/// Why a string is not a revision id of the configured format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdError {
    /// The id is empty.
    Empty,
    /// The id is longer than the version table's column.
    TooLong {
        /// The id's length in bytes.
        len: usize,
    },
    /// The id is not twelve lowercase hexadecimal characters.
    NotHex12,
    /// The id contains a character the target grammar reserves.
    ReservedChar(char),
    /// The id contains whitespace or a control character.
    Whitespace,
    /// The id is a word of the target grammar.
    ReservedWord,
}

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdError::Empty => f.write_str("is empty"),
            IdError::TooLong { len } => {
                write!(f, "is {len} characters long; the version table holds at most {MAX_ID_LEN}")
            }
            IdError::NotHex12 => f.write_str("is not 12 lowercase hexadecimal characters"),
            IdError::ReservedChar(c) => {
                write!(f, "contains `{c}`, which the target grammar reserves")
            }
            IdError::Whitespace => f.write_str("contains whitespace"),
            IdError::ReservedWord => f.write_str("is a word of the target grammar"),
        }
    }
}

/// Returns a fresh twelve-hex revision id that is not in `taken`.
///
/// The randomness comes from the standard library's per-process random hasher keys, so two
/// developers creating a revision at the same moment get different ids.
pub fn generate_id(taken: impl Fn(&str) -> bool) -> String {
    let state = RandomState::new();
    let mut counter = 0u64;
    loop {
        let mut hasher = state.build_hasher();
        hasher.write_u64(counter);
        let id = format!("{:012x}", hasher.finish() & 0xffff_ffff_ffff);
        if !taken(&id) {
            return id;
        }
        counter += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex12_accepts_only_twelve_lowercase_hex() {
        let cases = [
            ("3f2a9c1b7d4e", Ok(())),
            ("000000000000", Ok(())),
            ("3F2A9C1B7D4E", Err(IdError::NotHex12)),
            ("3f2a9c1b7d4", Err(IdError::NotHex12)),
            ("3f2a9c1b7d4e0", Err(IdError::NotHex12)),
            ("3f2a9c1b7d4g", Err(IdError::NotHex12)),
            ("", Err(IdError::NotHex12)),
        ];
        for (id, expected) in cases {
            assert_eq!(IdFormat::Hex12.check(id), expected, "{id:?}");
        }
    }

    #[test]
    fn alembic_format_accepts_what_alembic_accepts() {
        let cases = [
            ("0001_init", Ok(())),
            ("ae1027a6acf", Ok(())),
            ("headache", Ok(())),
            ("", Err(IdError::Empty)),
            ("ab-cd", Err(IdError::ReservedChar('-'))),
            ("ab+cd", Err(IdError::ReservedChar('+'))),
            ("ab@cd", Err(IdError::ReservedChar('@'))),
            ("ab:cd", Err(IdError::ReservedChar(':'))),
            ("ab cd", Err(IdError::Whitespace)),
            ("head", Err(IdError::ReservedWord)),
            ("base", Err(IdError::ReservedWord)),
            ("0009_agent_ownership_public_channel_model", Err(IdError::TooLong { len: 41 })),
        ];
        for (id, expected) in cases {
            assert_eq!(IdFormat::Alembic.check(id), expected, "{id:?}");
        }
    }

    #[test]
    fn generated_ids_are_valid_and_avoid_taken_ones() {
        let first = generate_id(|_| false);
        assert_eq!(IdFormat::Hex12.check(&first), Ok(()));
        let second = generate_id(|id| id == first);
        assert_ne!(first, second);
        assert_eq!(IdFormat::Hex12.check(&second), Ok(()));
    }

    #[test]
    fn format_names_round_trip() {
        for format in [IdFormat::Hex12, IdFormat::Alembic] {
            assert_eq!(IdFormat::from_name(format.name()), Some(format));
        }
        assert_eq!(IdFormat::from_name("uuid"), None);
    }
}
