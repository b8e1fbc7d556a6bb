//! The only place that writes to the terminal: stdout for answers, stderr for warnings and
//! notes, colour only on a terminal and never with `NO_COLOR`.

#![expect(
    clippy::print_stderr,
    reason = "the CLI's output module is where printing belongs"
)]

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

    /// `Warning: ...` on stderr, as kubectl prints its warnings.
    pub(crate) fn warn(&mut self, message: &str) {
        if self.color {
            eprintln!("\x1b[33mWarning:\x1b[0m {message}");
        } else {
            eprintln!("Warning: {message}");
        }
    }

    /// `note: ...` on stderr: context that is not a problem.
    pub(crate) fn note(&mut self, message: &str) {
        if self.color {
            eprintln!("\x1b[36mnote:\x1b[0m {message}");
        } else {
            eprintln!("note: {message}");
        }
    }

    /// `error: ...` on stderr.
    pub(crate) fn error(&mut self, message: &str) {
        if self.color {
            eprintln!("\x1b[31merror:\x1b[0m {message}");
        } else {
            eprintln!("error: {message}");
        }
    }

    /// Prints a report (a load diagnostic with its source snippet) on stderr.
    #[expect(
        clippy::unused_self,
        reason = "printing goes through `Out`, even when it needs no state"
    )]
    pub(crate) fn report(&mut self, report: &miette::Report) {
        eprintln!("{report:?}");
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
