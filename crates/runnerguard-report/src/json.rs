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
        map.serialize_entry(
            "jobs",
            &Each(&t.jobs, |j| {
                json!({
                    "namespace": j.namespace,
                    "serviceAccount": j.service_account,
                    "automountServiceAccountToken": j.automount_token,
                })
            }),
        )?;
        map.serialize_entry("managerNamespace", &t.manager_namespace)?;
        map.serialize_entry("managerServiceAccount", &t.manager_service_account)?;
        map.end()
    }
}

/// A slice as a JSON array, each item written as the function makes it: one at a time, never
/// a tree of them all.
struct Each<'a, T, W>(&'a [T], fn(&'a T) -> W);

impl<T, W: Serialize> Serialize for Each<'_, T, W> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for item in self.0 {
            seq.serialize_element(&(self.1)(item))?;
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
        let lines = crate::evidence::lines(&f.evidence);
        let mut map = s.serialize_map(Some(9))?;
        map.serialize_entry("evidence", &f.evidence)?;
        map.serialize_entry("locations", &Each(&f.locations, SortedLocation))?;
        map.serialize_entry("message", &f.message)?;
        map.serialize_entry("name", f.name)?;
        map.serialize_entry("objects", &Each(&f.objects, SortedObject))?;
        map.serialize_entry("path", &Each(&lines, |l| &l.text))?;
        map.serialize_entry("remediation", &f.remediation)?;
        map.serialize_entry("rule", f.rule)?;
        map.serialize_entry("severity", &f.severity)?;
        map.end()
    }
}

/// An object with its keys sorted, as a `serde_json` map writes them.
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

/// A location with its keys sorted, as a `serde_json` map writes them.
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
                map.serialize_entry(k, &Each(self.findings, FindingJson))?;
            } else if k == "topology" {
                map.serialize_entry(k, &self.topologies.first().map(TopologyJson))?;
            } else if k == "topologies" {
                map.serialize_entry(k, &Each(self.topologies, TopologyJson))?;
            } else {
                map.serialize_entry(k, v)?;
            }
        }
        map.end()
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
    let mut ser = serde_json::Serializer::pretty(&mut buffered);
    top.serialize(&mut ser).map_err(io::Error::from)?;
    writeln!(buffered)?;
    buffered.flush()
}
