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

/// One finding as JSON.
fn finding_json(f: &runnerguard_audit::Finding) -> Value {
    json!({
        "rule": f.rule,
        "name": f.name,
        "severity": f.severity,
        "message": f.message,
        "objects": f.objects,
        "locations": f.locations,
        "path": f.path,
        "remediation": f.remediation,
    })
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
            seq.serialize_element(&finding_json(f))?;
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
    serde_json::to_writer_pretty(&mut *w, &top)?;
    writeln!(w)
}
