//! JSON, schema version 1: the audit document ([`v1::Audit`]; docs/json-output.md describes
//! each field).

use std::io::{self, Write};

use rayon::prelude::*;
use serde::Serialize;
use serde_json::ser::Formatter;

use crate::Report;
use crate::schema::v1;

/// Writes the report as pretty JSON followed by a newline, byte for byte what
/// `serde_json::to_writer_pretty` writes of [`v1::Audit`]. The findings are made and written
/// a window at a time, each window's findings on every core: a report of 800 MB is never
/// in memory, and writing it is not one core's work (issue #13).
pub fn json(w: &mut dyn Write, report: &Report<'_>) -> io::Result<()> {
    // Buffered here: the serializer's many small writes stay out of `w`'s dynamic calls.
    let mut buffered = io::BufWriter::with_capacity(256 * 1024, &mut *w);
    // The document without its findings, which `Splice` writes where the empty list is.
    let mut doc = v1::Audit::from(report);
    doc.findings = v1::List::new(&[]);
    let mut splice = Splice {
        out: &mut buffered,
        pending: Vec::new(),
        findings: Some(report.findings),
    };
    doc.serialize(&mut serde_json::Serializer::pretty(&mut splice))
        .map_err(io::Error::from)?;
    splice.finish()?;
    writeln!(buffered)?;
    buffered.flush()
}

/// The empty findings list as the pretty serializer writes it. It cannot occur inside a
/// string (a quote there is escaped), and `findings` is the document's third field, so the
/// bytes before it are two short values.
const EMPTY_FINDINGS: &[u8] = b"\"findings\": []";

/// How many findings are made and written at a time: enough for both cores to share, few
/// enough that the window's JSON stays small (a finding is a few kilobytes).
const WINDOW: usize = 1024;

/// A writer that passes the document through, writing the findings in place of the empty
/// list the document was serialized with.
struct Splice<'w, 'r, W: Write> {
    out: &'w mut W,
    /// What came before the empty list, while it has not been seen.
    pending: Vec<u8>,
    /// The findings, until written.
    findings: Option<&'r [runnerguard_audit::Finding]>,
}

impl<W: Write> Splice<'_, '_, W> {
    /// Checks that the findings were written.
    fn finish(self) -> io::Result<()> {
        if self.findings.is_some() {
            return Err(io::Error::other(
                "the audit document has no findings list to write the findings into",
            ));
        }
        Ok(())
    }
}

impl<W: Write> Write for Splice<'_, '_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let Some(findings) = self.findings else {
            return self.out.write(buf);
        };
        self.pending.extend_from_slice(buf);
        if let Some(at) = self
            .pending
            .windows(EMPTY_FINDINGS.len())
            .position(|w| w == EMPTY_FINDINGS)
        {
            self.out.write_all(&self.pending[..at])?;
            self.out.write_all(b"\"findings\": ")?;
            write_findings(self.out, findings)?;
            self.out
                .write_all(&self.pending[at + EMPTY_FINDINGS.len()..])?;
            self.pending = Vec::new();
            self.findings = None;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// The findings list, as the pretty serializer writes it at the document's second level.
fn write_findings<W: Write>(
    out: &mut W,
    findings: &[runnerguard_audit::Finding],
) -> io::Result<()> {
    if findings.is_empty() {
        return out.write_all(b"[]");
    }
    out.write_all(b"[")?;
    for (w, window) in findings.chunks(WINDOW).enumerate() {
        let parts: Vec<io::Result<Vec<u8>>> = window
            .par_chunks(64)
            .enumerate()
            .map(|(c, chunk)| {
                let mut buf = Vec::with_capacity(chunk.len() * 8 * 1024);
                for (i, finding) in chunk.iter().enumerate() {
                    let first = w == 0 && c == 0 && i == 0;
                    buf.extend_from_slice(if first { b"\n    " } else { b",\n    " });
                    let mut ser = serde_json::Serializer::with_formatter(&mut buf, Nested::new(2));
                    v1::Finding::from(finding)
                        .serialize(&mut ser)
                        .map_err(io::Error::from)?;
                }
                Ok(buf)
            })
            .collect();
        for part in parts {
            out.write_all(&part?)?;
        }
    }
    out.write_all(b"\n  ]")
}

/// `serde_json`'s pretty formatter (two spaces a level) for a value that starts `depth` levels
/// down: what it writes is what `PrettyFormatter` writes of the same value there.
struct Nested {
    current_indent: usize,
    has_value: bool,
}

impl Nested {
    fn new(depth: usize) -> Self {
        Self {
            current_indent: depth,
            has_value: false,
        }
    }

    fn indent<W: ?Sized + Write>(&self, w: &mut W) -> io::Result<()> {
        for _ in 0..self.current_indent {
            w.write_all(b"  ")?;
        }
        Ok(())
    }

    /// `[` or `{`: one level down.
    fn open<W: ?Sized + Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.current_indent += 1;
        self.has_value = false;
        w.write_all(bracket)
    }

    /// `]` or `}`: one level up, on a line of its own when the container was not empty.
    fn close<W: ?Sized + Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.current_indent -= 1;
        if self.has_value {
            w.write_all(b"\n")?;
            self.indent(w)?;
        }
        w.write_all(bracket)
    }

    /// Before an element or a key: a new line, after a comma unless it is the first.
    fn next_line<W: ?Sized + Write>(&self, w: &mut W, first: bool) -> io::Result<()> {
        w.write_all(if first { b"\n" } else { b",\n" })?;
        self.indent(w)
    }
}

// Each method as `serde_json::ser::PrettyFormatter` has it (serde_json 1.0, src/ser.rs).
impl Formatter for Nested {
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.next_line(w, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.next_line(w, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail on any error")]

    use serde::Serialize;

    use super::Nested;

    #[test]
    fn nested_formatter_writes_what_the_pretty_one_writes_at_that_depth() {
        let value = serde_json::json!({
            "a": [1, {"b": [], "c": {}, "d": [[], [2, "x\ny"]]}],
            "e": {"f": null},
        });
        for depth in 0..4 {
            // The pretty serializer's output of `value` nested `depth` arrays down, cut out.
            let mut wrapped = value.clone();
            for _ in 0..depth {
                wrapped = serde_json::json!([wrapped]);
            }
            let whole = serde_json::to_string_pretty(&wrapped).unwrap();
            let mut nested = Vec::new();
            value
                .serialize(&mut serde_json::Serializer::with_formatter(
                    &mut nested,
                    Nested::new(depth),
                ))
                .unwrap();
            let nested = String::from_utf8(nested).unwrap();
            assert!(
                whole.contains(&format!("\n{}{nested}", "  ".repeat(depth))) || depth == 0,
                "depth {depth}: {nested}"
            );
            if depth == 0 {
                assert_eq!(nested, whole);
            }
        }
    }
}
