//! Problems found in `runnerguard.toml`, each placed at a file, line and column, with the
//! lines around it as the loader shows them for manifests (runnerguard-load's [`Snippet`]:
//! cut to a width, anything that could be a secret hidden).

use std::fmt;
use std::ops::Range;

use miette::{LabeledSpan, SourceCode};
use runnerguard_load::{Cursor, LineIndex, Snippet};
use runnerguard_model::terminal;

/// A configuration text and its name: places byte spans as `file:line:column` and builds the
/// diagnostics of every check, the reader's and its callers' (generate's validation, the
/// `[audit]` section's rule ids).
pub struct Source<'a> {
    file: &'a str,
    text: &'a str,
    lines: LineIndex,
}

impl<'a> Source<'a> {
    /// `text`, the contents of the file named `file` in diagnostics.
    pub fn new(file: &'a str, text: &'a str) -> Self {
        Self {
            file,
            text,
            lines: LineIndex::new(text),
        }
    }

    /// The text.
    pub fn text(&self) -> &'a str {
        self.text
    }

    /// A problem at the start of `span`: `message` says what is wrong (lowercase, one line,
    /// no final period), `help` what to do about it.
    pub fn error(
        &self,
        span: &Range<usize>,
        message: impl Into<String>,
        help: Option<String>,
    ) -> ConfigDiagnostic {
        let offset = span.start.min(self.text.len());
        let (line, column) = self.lines.position(self.text, offset, &Cursor::default());
        ConfigDiagnostic {
            file: self.file.to_owned(),
            line,
            column,
            message: message.into(),
            help,
            snippet: Snippet::new(self.file, self.text, line, column),
        }
    }
}

/// One problem with a configuration file: where it is, what is wrong, and what to do.
///
/// `Display` gives `file:line:col: message`, with the help on a second line when there is
/// one, so a list of them reads like a compiler's. [`ConfigDiagnostic::into_report`] gives
/// it as the manifests' diagnostics are shown: the place, the lines around it, the help.
#[derive(Clone, Debug)]
pub struct ConfigDiagnostic {
    /// The file name as given to [`Source::new`].
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
    /// What is wrong (lowercase, one line, no final period).
    pub message: String,
    /// What to do about it, when there is something to say.
    pub help: Option<String>,
    /// The lines around the problem, redacted.
    snippet: Snippet,
}

impl ConfigDiagnostic {
    /// The diagnostic as a report to print: `file:line:col: message` over the lines around
    /// the problem and the help, every piece of input text escaped (a key may hold a line
    /// break or an ESC: it is shown, not acted on).
    pub fn into_report(self) -> miette::Report {
        miette::Report::new(Shown(self))
    }
}

/// What identifies a problem: the snippet follows from the place.
impl PartialEq for ConfigDiagnostic {
    fn eq(&self, other: &Self) -> bool {
        (
            &self.file,
            self.line,
            self.column,
            &self.message,
            &self.help,
        ) == (
            &other.file,
            other.line,
            other.column,
            &other.message,
            &other.help,
        )
    }
}

impl Eq for ConfigDiagnostic {}

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

/// A [`ConfigDiagnostic`] as miette draws it: the help below the snippet rather than in the
/// first line, and input text escaped.
struct Shown(ConfigDiagnostic);

/// Input text with what a terminal would act on escaped.
struct Escaped<'a>(&'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        terminal::write_escaped(f, self.0)
    }
}

impl fmt::Debug for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.0;
        write!(
            f,
            "{}:{}:{}: {}",
            Escaped(&d.file),
            d.line,
            d.column,
            Escaped(&d.message)
        )
    }
}

impl std::error::Error for Shown {}

impl miette::Diagnostic for Shown {
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.0
            .help
            .as_deref()
            .map(|h| Box::new(Escaped(h)) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.0.snippet)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let label = LabeledSpan::at_offset(self.0.snippet.label(), "here");
        Some(Box::new(std::iter::once(label)))
    }
}

#[cfg(test)]
mod tests {
    use miette::NarratableReportHandler;

    use super::*;

    fn narrated(d: ConfigDiagnostic) -> String {
        let report = d.into_report();
        let mut out = String::new();
        NarratableReportHandler::new()
            .render_report(&mut out, report.as_ref())
            .map(|()| out)
            .unwrap_or_default()
    }

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let text = "ab\ncé = 1\n\nx";
        let source = Source::new("f", text);
        let at = |offset: usize| {
            let d = source.error(&(offset..offset), "m", None);
            (d.line, d.column)
        };
        assert_eq!(at(0), (1, 1));
        assert_eq!(at(1), (1, 2));
        assert_eq!(at(3), (2, 1));
        // `=` comes after a two-byte character.
        assert_eq!(at(7), (2, 4));
        assert_eq!(at(11), (3, 1));
        assert_eq!(at(12), (4, 1));
        assert_eq!(at(99), (4, 2));
    }

    #[test]
    fn display_reads_like_a_compiler_message() {
        let source = Source::new("runnerguard.toml", "[manager]\n\n[[tenants]]\nnmae = 1\n");
        let d = source.error(
            &(23..27),
            "unknown key `nmae`",
            Some("did you mean `name`?".to_owned()),
        );
        assert_eq!(
            d.to_string(),
            "runnerguard.toml:4:1: unknown key `nmae`\n  help: did you mean `name`?"
        );
    }

    #[test]
    fn the_report_shows_the_lines_around_and_hides_tokens() {
        let text = "[[tenants]]\nname = \"a\"\nrunner_token = \"glrt-CANARY\"\nx = 1\n";
        let source = Source::new("runnerguard.toml", text);
        let d = source.error(
            &(23..35),
            "unknown key `runner_token`\u{1b}[2K",
            Some("help\nline".to_owned()),
        );
        let shown = narrated(d);
        assert!(
            shown.starts_with("runnerguard.toml:3:1: unknown key `runner_token`\\u{1b}[2K"),
            "{shown}"
        );
        assert!(shown.contains("snippet line 2: name = \"a\""), "{shown}");
        assert!(shown.contains("label at line 3, column 1: here"), "{shown}");
        assert!(shown.contains("help\\nline"), "{shown}");
        assert!(!shown.contains("CANARY"), "{shown}");
    }
}
