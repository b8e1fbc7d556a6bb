//! JSON, schema version 1: `{"version", "runnerVersion", "chartVersion", "topology",
//! "topologies", "findings", "summary"}` (docs/json-output.md describes each field).

use std::io::{self, Write};

use serde_json::{Value, json};

use crate::Report;

fn topology_json(t: &runnerguard_audit::Topology) -> Value {
    json!({
        "managerNamespace": t.manager_namespace,
        "managerServiceAccount": t.manager_service_account,
        "jobs": t.jobs.iter().map(|j| json!({
            "namespace": j.namespace,
            "serviceAccount": j.service_account,
            "automountServiceAccountToken": j.automount_token,
        })).collect::<Vec<_>>(),
        "evidence": t.evidence,
    })
}

/// Writes the report as pretty JSON followed by a newline.
pub fn json(w: &mut dyn Write, report: &Report<'_>) -> io::Result<()> {
    let findings: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
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
        })
        .collect();
    let by_severity: serde_json::Map<String, Value> = report
        .counts()
        .into_iter()
        .map(|(s, n)| (s.as_str().to_owned(), json!(n)))
        .collect();
    let v = json!({
        "version": 1,
        "runnerVersion": report.runner_version,
        "chartVersion": report.chart_version,
        "topology": report.topologies.first().map(topology_json),
        "topologies": report.topologies.iter().map(topology_json).collect::<Vec<_>>(),
        "runnerFound": report.runner_found(),
        "inputs": report.inputs,
        "complete": report.complete(),
        "unreadable": report.unreadable,
        "findings": findings,
        "summary": {
            "total": report.findings.len(),
            "bySeverity": by_severity,
            "failOn": report.fail_on,
            "failed": report.failed(),
        },
    });
    serde_json::to_writer_pretty(&mut *w, &v)?;
    writeln!(w)
}
