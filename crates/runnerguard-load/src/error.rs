//! Load errors: one diagnostic per problem, each pointing into its file.

use std::fmt;
use std::sync::Arc;

use miette::{NamedSource, SourceSpan};

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why inputs could not be loaded.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum Error {
    /// A path could not be read.
    #[error("cannot read `{path}`: {message}")]
    Io {
        /// The path given.
        path: String,
        /// What the operating system said.
        message: String,
    },
    /// A `-f` path matched no manifest files.
    #[error("no manifests found in `{path}` (looked for *.yaml, *.yml, *.json and *.toml)")]
    Empty {
        /// The path given.
        path: String,
    },
    /// Standard input (`-f -`) held nothing: a command before the pipe most likely failed.
    #[error(
        "standard input (`-f -`) is empty: nothing to read (did the command before the pipe fail?)"
    )]
    EmptyStdin,
    /// One or more inputs are malformed.
    #[error("{} malformed input{}", .0.len(), if .0.len() == 1 { "" } else { "s" })]
    Invalid(#[related] Vec<Diagnostic>),
}

/// One problem in one input, with its place.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{file}:{line}:{column}: {message}")]
pub struct Diagnostic {
    /// The file (`-` for stdin).
    pub file: Arc<str>,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// What is wrong and what was expected.
    pub message: String,
    #[source_code]
    source_code: NamedSource<Arc<str>>,
    #[label("here")]
    span: SourceSpan,
    #[help]
    help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic at `line`:`column` of `file`, whose text is `text`.
    pub(crate) fn new(
        file: &Arc<str>,
        text: &str,
        (line, column): (u32, u32),
        message: String,
    ) -> Self {
        let offset = offset_of(text, line, column);
        Self {
            file: file.clone(),
            line,
            column,
            message,
            // The file's text is copied only here, when something is wrong with it.
            source_code: NamedSource::new(file, Arc::from(text)),
            span: SourceSpan::new(offset.into(), 0),
            help: None,
        }
    }

    /// Adds a hint on how to fix it.
    pub(crate) fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// Something worth saying about the input that did not stop loading it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// The file (`-` for stdin).
    pub file: Arc<str>,
    /// 1-based line, 0 when unknown.
    pub line: u32,
    /// What was noticed.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        }
    }
}

/// The byte offset of 1-based `line`:`column` (columns count characters) in `text`.
fn offset_of(text: &str, line: u32, column: u32) -> usize {
    let start = if line <= 1 {
        0
    } else {
        text.match_indices('\n')
            .nth(line as usize - 2)
            .map_or(text.len(), |(i, _)| i + 1)
    };
    let rest = &text[start..];
    let col = column.saturating_sub(1) as usize;
    start
        + rest
            .char_indices()
            .take_while(|(_, c)| *c != '\n')
            .nth(col)
            .map_or_else(|| rest.find('\n').unwrap_or(rest.len()), |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::offset_of;

    #[test]
    fn offsets() {
        let t = "ab\ncdé\nf";
        assert_eq!(offset_of(t, 1, 1), 0);
        assert_eq!(offset_of(t, 2, 2), 4);
        assert_eq!(offset_of(t, 2, 4), 7);
        assert_eq!(offset_of(t, 3, 1), 8);
        assert_eq!(offset_of(t, 9, 1), 9);
    }
}
