//! `diff -o sarif`: the new side's audit, each result's `baselineState` against the old side
//! (SARIF 2.1.0 §3.27.24), and the findings the change resolves as `absent` results, placed
//! in the old side's files (the same repository paths with `--base-ref`, the old directory's
//! files for two directories).

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::Path;

use runnerguard_audit::{Finding, RuleMeta};

use super::log::{Message, Notification};
use super::{Batch, invocation, write_log};
use crate::DiffReport;

/// Writes the diff `d` as SARIF 2.1.0: the new side's audit as [`super::sarif`] writes it (`fallback`
/// its first input), each result with its `baselineState` against the old side, then the
/// resolved findings as `absent` results, placed in the old side's files (`old_fallback` its
/// first input). `rules` are the rules that ran.
pub fn diff_sarif(
    w: &mut dyn Write,
    d: &DiffReport<'_>,
    rules: &[&RuleMeta],
    root: &Path,
    fallback: &str,
    old_fallback: &str,
) -> io::Result<()> {
    let c = d.comparison;
    // The comparison's findings are copies of the new side's: counted, they tell each of the
    // new side's findings what it is (two alike are one finding twice).
    let mut added = multiset(c.new_findings.iter());
    let mut updated = multiset(c.changed_findings.iter().map(|(_, new)| new));
    let states: Vec<&'static str> = d
        .new
        .findings
        .iter()
        .map(|f| {
            if take(&mut added, f) {
                "new"
            } else if take(&mut updated, f) {
                "updated"
            } else {
                "unchanged"
            }
        })
        .collect();
    let resolved = &c.resolved_findings;
    let batches = vec![
        Batch::new(d.new, d.new.findings, fallback, states),
        Batch::new(
            d.old,
            resolved,
            old_fallback,
            vec!["absent"; resolved.len()],
        ),
    ];
    // Successful when both sides were read whole: an input of the old side not read may hold
    // what the new side is compared with.
    let mut run = invocation(d.new);
    run.execution_successful = d.complete();
    let baseline_unread = d.old.unreadable.iter().map(|u| Notification {
        level: "error",
        message: Message::new(format!(
            "baseline input not read, the comparison is incomplete: {u}"
        )),
    });
    let at = d.new.unreadable.len();
    run.tool_execution_notifications
        .splice(at..at, baseline_unread);
    run.tool_execution_notifications.push(Notification {
        level: "note",
        message: Message::new(format!(
            "baselineState is against {}: {} new, {} updated, {} absent",
            d.old_label,
            c.new_findings.len(),
            c.changed_findings.len(),
            resolved.len()
        )),
    });
    write_log(w, d.new, rules, root, batches, run, Some(d.old_label))
}

/// How many times each finding is in `findings`.
fn multiset<'f>(findings: impl Iterator<Item = &'f Finding>) -> HashMap<&'f Finding, usize> {
    let mut counts = HashMap::new();
    for f in findings {
        *counts.entry(f).or_default() += 1;
    }
    counts
}

/// Takes one `f` out of `counts`: whether there was one.
fn take(counts: &mut HashMap<&Finding, usize>, f: &Finding) -> bool {
    match counts.get_mut(f) {
        Some(n) if *n > 0 => {
            *n -= 1;
            true
        }
        _ => false,
    }
}
