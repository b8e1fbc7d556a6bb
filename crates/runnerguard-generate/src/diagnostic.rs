//! Problems found in `runnerguard.toml`, each placed at a file, line and column.

use std::fmt;

/// One problem with a configuration file: where it is, what is wrong, and what to do.
///
/// `Display` gives `file:line:col: message`, with the help on a second line when there is
/// one, so a list of them reads like a compiler's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigDiagnostic {
    /// The file name as given to [`crate::parse_config`].
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
    /// What is wrong (lowercase, one line, no final period).
    pub message: String,
    /// What to do about it, when there is something to say.
    pub help: Option<String>,
}

impl fmt::Display for ConfigDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )?;
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigDiagnostic {}

/// Byte offsets of a text turned into 1-based lines and columns.
pub(crate) struct Lines<'a> {
    text: &'a str,
    /// The byte offset where each line starts.
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        Self { text, starts }
    }

    /// The line and column (both 1-based, the column in characters) of byte `offset`.
    pub(crate) fn position(&self, offset: usize) -> (u32, u32) {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|s| *s <= offset).max(1);
        let start = self.starts.get(line - 1).copied().unwrap_or(0);
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count())
            + 1;
        (to_u32(line), to_u32(column))
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let lines = Lines::new("ab\ncé = 1\n\nx");
        assert_eq!(lines.position(0), (1, 1));
        assert_eq!(lines.position(1), (1, 2));
        assert_eq!(lines.position(3), (2, 1));
        // `=` comes after a two-byte character.
        assert_eq!(lines.position(7), (2, 4));
        assert_eq!(lines.position(11), (3, 1));
        assert_eq!(lines.position(12), (4, 1));
        assert_eq!(lines.position(99), (4, 2));
    }

    #[test]
    fn display_reads_like_a_compiler_message() {
        let d = ConfigDiagnostic {
            file: "runnerguard.toml".to_owned(),
            line: 3,
            column: 1,
            message: "unknown key `nmae`".to_owned(),
            help: Some("did you mean `name`?".to_owned()),
        };
        assert_eq!(
            d.to_string(),
            "runnerguard.toml:3:1: unknown key `nmae`\n  help: did you mean `name`?"
        );
    }
}
