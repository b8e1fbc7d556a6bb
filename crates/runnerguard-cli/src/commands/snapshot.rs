//! `runnerguard snapshot --live -o FILE`: what a cluster holds, as one List, for an offline
//! audit later.

use std::io::IsTerminal as _;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Result, bail};
use runnerguard_load::{LiveOptions, Snapshot};

use crate::args::{LiveArgs, SnapshotArgs};
use crate::output::Out;

pub(crate) fn run(args: &SnapshotArgs, out: &mut Out) -> Result<ExitCode> {
    if !args.live.live {
        bail!(
            "nothing to snapshot: give --live (the cluster of the current kubeconfig context)\n\
             try: runnerguard snapshot --live -o cluster.json"
        );
    }
    let snapshot = read(&args.live, args.namespace.as_deref(), out)?;
    if args.output == "-" {
        out.stdout().write_all(snapshot.text.as_bytes())?;
        out.stdout().write_all(b"\n")?;
    } else {
        // What the cluster holds is for its owner's eyes: the temporary file's 0600 is kept.
        super::write_file(Path::new(&args.output), 0o600, |w| {
            w.write_all(snapshot.text.as_bytes())?;
            w.write_all(b"\n")?;
            Ok(())
        })?;
        out.note(&format!(
            "{} objects of {} written to {}",
            snapshot.objects, snapshot.source, args.output
        ));
    }
    Ok(if snapshot.unread.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Reads the cluster, with a progress line on a terminal, and warns about every kind not
/// read (and every kind the API server does not serve).
pub(crate) fn read(args: &LiveArgs, namespace: Option<&str>, out: &mut Out) -> Result<Snapshot> {
    let options = LiveOptions::default()
        .kubeconfig(args.kubeconfig.as_ref().map(Into::into))
        .context(args.context.clone())
        .namespace(namespace.map(str::to_owned))
        .timeout(Duration::from_secs(args.request_timeout.max(1)))
        .secrets(!args.no_secrets);
    // A bar on a terminal only: a log gets the warnings below and nothing else.
    let bar = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "reading the cluster {bar:30} {pos}/{len} kinds {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(bar)
    } else {
        None
    };
    let mut progress = |p: runnerguard_load::Progress<'_>| {
        if let Some(bar) = &bar {
            bar.set_length(p.total as u64);
            bar.set_position(p.done as u64);
            bar.set_message(p.kind.to_owned());
        }
    };
    let snapshot = runnerguard_load::read_cluster(&options, &mut progress);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let snapshot = snapshot?;
    for kind in &snapshot.not_served {
        out.note(&format!(
            "{}: {kind} are not served by this API server (none to read)",
            snapshot.source
        ));
    }
    for u in &snapshot.unread {
        out.warn(&unread_line(&snapshot, u));
    }
    for line in skipped_lines(&snapshot) {
        out.note(&line);
    }
    Ok(snapshot)
}

/// `cluster:prod: Secrets not asked for (--no-secrets): ...`, one per kind left out by choice.
pub(crate) fn skipped_lines(snapshot: &Snapshot) -> Vec<String> {
    snapshot
        .skipped
        .iter()
        .map(|kind| {
            format!(
                "{}: {kind} not asked for (--no-secrets): {}",
                snapshot.source,
                runnerguard_load::SKIPPED_SECRETS
            )
        })
        .collect()
}

/// `cluster:prod: Secrets not read: 403: ...`.
pub(crate) fn unread_line(snapshot: &Snapshot, u: &runnerguard_load::Unread) -> String {
    format!("{}: {} not read: {}", snapshot.source, u.kind, u.reason)
}
