//! The only place that writes to the terminal: stdout for answers, stderr for warnings and
//! notes, colour only on a terminal and never with `NO_COLOR`.
//!
//! Text from the inputs (names, file names, arguments) never reaches the terminal raw: it is
//! shown through [`runnerguard_report::Escaped`] (ESC as `\u{1b}`, CR as `\r`, LF as `\n`,
//! ...), so that a crafted name cannot erase or forge the lines around it (issue #9, T1).
//! Warnings and notes are one line and escaped whole here; error messages keep their own line
//! breaks, so their callers escape the input they quote (see `main.rs`); table cells are
//! escaped by [`write_table`].

use std::io::{self, IsTerminal, Write};

use anstyle::{AnsiColor, Style};
use runnerguard_report::escape;

/// Stdout for answers and stderr for everything else.
pub(crate) struct Out {
    stdout: io::BufWriter<io::Stdout>,
    color: bool,
    color_stdout: bool,
}

impl Out {
    pub(crate) fn new() -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Self {
            stdout: io::BufWriter::new(io::stdout()),
            color: io::stderr().is_terminal() && !no_color,
            color_stdout: io::stdout().is_terminal() && !no_color,
        }
    }

    /// Whether reports on stdout may use colour (a terminal, and no `NO_COLOR`).
    pub(crate) fn color_stdout(&self) -> bool {
        self.color_stdout
    }

    /// The answer stream.
    pub(crate) fn stdout(&mut self) -> &mut dyn Write {
        &mut self.stdout
    }

    /// Writes one line to stderr. A closed stderr (`2>&1 | head -1`) is not an error worth
    /// dying for: the line is dropped, where `eprintln!` would panic.
    fn stderr_line(&self, label: &str, style: Style, message: &str) {
        let mut err = io::stderr().lock();
        let _ = if label.is_empty() {
            writeln!(err, "{message}")
        } else if self.color {
            writeln!(err, "{style}{label}{style:#} {message}")
        } else {
            writeln!(err, "{label} {message}")
        };
    }

    /// `Warning: ...` on stderr, as kubectl prints its warnings: one line, every control
    /// character in it escaped.
    pub(crate) fn warn(&mut self, message: &str) {
        self.stderr_line("Warning:", AnsiColor::Yellow.on_default(), &escape(message));
    }

    /// `note: ...` on stderr: context that is not a problem. One line, escaped as
    /// [`Out::warn`] is.
    pub(crate) fn note(&mut self, message: &str) {
        self.stderr_line("note:", AnsiColor::Cyan.on_default(), &escape(message));
    }

    /// `error: ...` on stderr. The message may span lines (kubectl's usage errors end with a
    /// hint on a second line): each line is escaped, the line breaks are kept, so a caller
    /// quoting input escapes it first ([`escape`]) for a newline in it to be shown, not
    /// followed.
    pub(crate) fn error(&mut self, message: &str) {
        let lines: Vec<_> = message.split('\n').map(escape).collect();
        self.stderr_line("error:", AnsiColor::Red.on_default(), &lines.join("\n"));
    }

    /// Prints clap's usage error, rendered without styles, each line escaped: the lines are
    /// clap's (the message, the possible values, the hint), the arguments it quotes are not.
    pub(crate) fn usage_error(&mut self, text: &str) {
        let lines: Vec<_> = text.trim_end().split('\n').map(escape).collect();
        self.stderr_line("", Style::new(), &lines.join("\n"));
    }

    /// Prints a report (a load diagnostic with its source snippet) on stderr. Not escaped
    /// here: it is drawn over several lines, in colour on a terminal; the diagnostic escapes
    /// its file name, message and snippet itself (runnerguard-load's `snippet`), with the
    /// convention of [`runnerguard_report::Escaped`].
    pub(crate) fn report(&mut self, report: &miette::Report) {
        self.stderr_line("", Style::new(), &format!("{report:?}"));
    }

    /// Flushes stdout.
    pub(crate) fn flush(&mut self) -> io::Result<()> {
        self.stdout.flush()
    }
}

/// Writes rows aligned as kubectl's tables ([`runnerguard_report::table::write`]).
pub(crate) use runnerguard_report::table::write as write_table;
