//! JSON, schema version 1: `{"version", "runnerVersion", "chartVersion", "topology",
//! "topologies", "findings", "summary"}` (docs/json-output.md describes each field).

use std::io::{self, Write};

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Value, json};

use crate::Report;

/// One topology, written field by field in the sorted key order of a `serde_json` map: a
/// topology of 30,000 runners is never a tree in memory, and the first is not built twice
/// (it is both `topology` and `topologies[0]`).
struct TopologyJson<'a>(&'a runnerguard_audit::Topology);

impl Serialize for TopologyJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let t = self.0;
        let mut map = s.serialize_map(Some(4))?;
        map.serialize_entry("evidence", &t.evidence)?;
        map.serialize_entry("jobs", &Jobs(&t.jobs))?;
        map.serialize_entry("managerNamespace", &t.manager_namespace)?;
        map.serialize_entry("managerServiceAccount", &t.manager_service_account)?;
        map.end()
    }
}

struct Jobs<'a>(&'a [runnerguard_audit::JobTarget]);

impl Serialize for Jobs<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for j in self.0 {
            seq.serialize_element(&json!({
                "namespace": j.namespace,
                "serviceAccount": j.service_account,
                "automountServiceAccountToken": j.automount_token,
            }))?;
        }
        seq.end()
    }
}

struct Topologies<'a>(&'a [runnerguard_audit::Topology]);

impl Serialize for Topologies<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for t in self.0 {
            seq.serialize_element(&TopologyJson(t))?;
        }
        seq.end()
    }
}

/// One finding as JSON, keys in the sorted order of a `serde_json` map, written straight from
/// the data (a finding of 10 grants is never a tree in memory). `objects` and `locations`
/// keep the sorted keys they had when findings went through a map.
struct FindingJson<'a>(&'a runnerguard_audit::Finding);

impl Serialize for FindingJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let f = self.0;
        let path: Vec<String> = crate::evidence::lines(&f.evidence)
            .into_iter()
            .map(|l| l.text)
            .collect();
        let mut map = s.serialize_map(Some(10))?;
        map.serialize_entry("evidence", &f.evidence)?;
        map.serialize_entry("locations", &Sorted(&f.locations))?;
        map.serialize_entry("message", &f.message)?;
        map.serialize_entry("name", f.name)?;
        map.serialize_entry("objects", &Sorted(&f.objects))?;
        map.serialize_entry("path", &path)?;
        map.serialize_entry("remediation", &f.remediation)?;
        map.serialize_entry("rule", f.rule)?;
        map.serialize_entry("severity", &f.severity)?;
        map.end()
    }
}

/// Objects or locations with their keys sorted, as a `serde_json` map writes them.
struct Sorted<'a, T>(&'a [T]);

impl Serialize for Sorted<'_, runnerguard_model::ObjectRef> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for o in self.0 {
            seq.serialize_element(&SortedObject(o))?;
        }
        seq.end()
    }
}

struct SortedObject<'a>(&'a runnerguard_model::ObjectRef);

impl Serialize for SortedObject<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let o = self.0;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("apiVersion", &o.api_version)?;
        map.serialize_entry("column", &o.origin.column)?;
        map.serialize_entry("file", &*o.origin.file)?;
        map.serialize_entry("kind", &o.kind)?;
        map.serialize_entry("line", &o.origin.line)?;
        map.serialize_entry("name", &o.name)?;
        if !o.namespace.is_empty() {
            map.serialize_entry("namespace", &o.namespace)?;
        }
        map.end()
    }
}

impl Serialize for Sorted<'_, runnerguard_audit::Location> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for l in self.0 {
            seq.serialize_element(&SortedLocation(l))?;
        }
        seq.end()
    }
}

struct SortedLocation<'a>(&'a runnerguard_audit::Location);

impl Serialize for SortedLocation<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let l = self.0;
        let mut map = s.serialize_map(Some(4))?;
        map.serialize_entry("column", &l.origin.column)?;
        map.serialize_entry("file", &*l.origin.file)?;
        map.serialize_entry("line", &l.origin.line)?;
        map.serialize_entry("what", &l.what)?;
        map.end()
    }
}

/// The report's fields, with `findings` and the topologies written one item at a time: a
/// report of 80 MB is never a tree in memory. Keys stay in the sorted order of a `serde_json`
/// map.
struct Top<'a> {
    fields: serde_json::Map<String, Value>,
    findings: &'a [runnerguard_audit::Finding],
    topologies: &'a [runnerguard_audit::Topology],
}

impl Serialize for Top<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.fields.len()))?;
        for (k, v) in &self.fields {
            if k == "findings" {
                map.serialize_entry(k, &Findings(self.findings))?;
            } else if k == "topology" {
                map.serialize_entry(k, &self.topologies.first().map(TopologyJson))?;
            } else if k == "topologies" {
                map.serialize_entry(k, &Topologies(self.topologies))?;
            } else {
                map.serialize_entry(k, v)?;
            }
        }
        map.end()
    }
}

struct Findings<'a>(&'a [runnerguard_audit::Finding]);

impl Serialize for Findings<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for f in self.0 {
            seq.serialize_element(&FindingJson(f))?;
        }
        seq.end()
    }
}

/// Writes the report as pretty JSON followed by a newline.
pub fn json(w: &mut dyn Write, report: &Report<'_>) -> io::Result<()> {
    let by_severity: serde_json::Map<String, Value> = report
        .counts()
        .into_iter()
        .map(|(s, n)| (s.as_str().to_owned(), json!(n)))
        .collect();
    let v = json!({
        "version": 1,
        "runnerVersion": report.runner_version,
        "chartVersion": report.chart_version,
        "topology": Value::Null,
        "topologies": Value::Null,
        "runnerFound": report.runner_found(),
        "inputs": report.inputs,
        "complete": report.complete(),
        "unreadable": report.unreadable,
        "findings": Value::Null,
        "summary": {
            "total": report.findings.len(),
            "bySeverity": by_severity,
            "failOn": report.fail_on,
            "failed": report.failed(),
        },
    });
    let Value::Object(fields) = v else {
        return Err(io::Error::other("the report is a JSON object"));
    };
    let top = Top {
        fields,
        findings: report.findings,
        topologies: report.topologies,
    };
    // Buffered here: the serializer's many small writes stay out of `w`'s dynamic calls.
    let mut buffered = io::BufWriter::with_capacity(64 * 1024, &mut *w);
    let mut ser = serde_json::Serializer::with_formatter(&mut buffered, Pretty::default());
    top.serialize(&mut ser).map_err(io::Error::from)?;
    writeln!(buffered)?;
    buffered.flush()
}

/// `serde_json`'s pretty formatter (two spaces), byte for byte, writing each newline and its
/// indentation at once instead of one write per level: an audit's JSON is tens of megabytes
/// of deeply nested evidence.
#[derive(Default)]
struct Pretty {
    depth: usize,
    has_value: bool,
}

/// A comma, a newline and enough indentation for 64 levels.
const BREAK: &[u8; 130] = b",\n                                                                                                                                ";

impl Pretty {
    /// A newline (after a comma unless `first`) and the current indentation.
    fn new_line<W: ?Sized + Write>(&self, w: &mut W, first: bool) -> io::Result<()> {
        let start = usize::from(first);
        if let Some(bytes) = BREAK.get(start..2 + 2 * self.depth) {
            return w.write_all(bytes);
        }
        w.write_all(if first { b"\n" } else { b",\n" })?;
        for _ in 0..self.depth {
            w.write_all(b"  ")?;
        }
        Ok(())
    }

    fn end<W: ?Sized + Write>(&mut self, w: &mut W, close: &[u8]) -> io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            self.new_line(w, true)?;
        }
        w.write_all(close)
    }
}

impl serde_json::ser::Formatter for Pretty {
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        w.write_all(b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.end(w, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.new_line(w, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        w.write_all(b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.end(w, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.new_line(w, first)
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
    use serde_json::json;

    use super::Pretty;

    #[test]
    fn pretty_writes_what_serde_json_pretty_writes() {
        // Deeper than the indentation kept at hand, with empty and one-item containers.
        let mut deep = json!({"leaf": [1, {}, [], "x"]});
        for i in 0..70 {
            deep = if i % 2 == 0 {
                json!([deep, i, null])
            } else {
                json!({"a": deep, "b": {"c": []}, "d": i})
            };
        }
        let mut out = Vec::new();
        let mut ser = serde_json::Serializer::with_formatter(&mut out, Pretty::default());
        deep.serialize(&mut ser).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            serde_json::to_string_pretty(&deep).unwrap()
        );
    }
}
