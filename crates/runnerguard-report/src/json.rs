//! JSON, schema version 1: the audit document ([`v1::Audit`]; docs/json-output.md describes
//! each field).

use std::io::{self, Write};

use serde::Serialize;

use crate::Report;
use crate::schema::v1;

/// Writes the report as pretty JSON followed by a newline. Findings and topologies are made
/// and written one at a time ([`v1::List`]): a report of 80 MB is never a tree in memory.
pub fn json(w: &mut dyn Write, report: &Report<'_>) -> io::Result<()> {
    // Buffered here: the serializer's many small writes stay out of `w`'s dynamic calls.
    let mut buffered = io::BufWriter::with_capacity(64 * 1024, &mut *w);
    let mut ser = serde_json::Serializer::pretty(&mut buffered);
    v1::Audit::from(report)
        .serialize(&mut ser)
        .map_err(io::Error::from)?;
    writeln!(buffered)?;
    buffered.flush()
}
