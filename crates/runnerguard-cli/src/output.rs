//! The only place that writes to the terminal: stdout for answers, stderr for warnings and
//! notes, colour only on a terminal and never with `NO_COLOR`.

use std::io::{self, IsTerminal, Write};

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
    fn stderr_line(&self, label: &str, code: &str, message: &str) {
        let mut err = io::stderr().lock();
        let _ = if label.is_empty() {
            writeln!(err, "{message}")
        } else if self.color {
            writeln!(err, "\x1b[{code}m{label}\x1b[0m {message}")
        } else {
            writeln!(err, "{label} {message}")
        };
    }

    /// `Warning: ...` on stderr, as kubectl prints its warnings.
    pub(crate) fn warn(&mut self, message: &str) {
        self.stderr_line("Warning:", "33", message);
    }

    /// `note: ...` on stderr: context that is not a problem.
    pub(crate) fn note(&mut self, message: &str) {
        self.stderr_line("note:", "36", message);
    }

    /// `error: ...` on stderr.
    pub(crate) fn error(&mut self, message: &str) {
        self.stderr_line("error:", "31", message);
    }

    /// Prints a report (a load diagnostic with its source snippet) on stderr.
    pub(crate) fn report(&mut self, report: &miette::Report) {
        self.stderr_line("", "", &format!("{report:?}"));
    }

    /// Flushes stdout.
    pub(crate) fn flush(&mut self) -> io::Result<()> {
        self.stdout.flush()
    }
}

/// Writes rows aligned like Go's `tabwriter` as kubectl configures it (minimum width 6,
/// padding 3); the last column is not padded.
pub(crate) fn write_table(w: &mut dyn Write, rows: &[Vec<String>]) -> io::Result<()> {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; columns];
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count() + 3).max(6);
        }
    }
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.extend(std::iter::repeat_n(' ', widths[i] - cell.chars().count()));
            }
        }
        writeln!(w, "{}", line.trim_end())?;
    }
    Ok(())
}
