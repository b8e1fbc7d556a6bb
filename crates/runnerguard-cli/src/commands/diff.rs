//! `runnerguard diff`: audit two versions of a setup and say what the change does.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use runnerguard_audit::diff::{Side, compare};
use runnerguard_load::Input;
use runnerguard_report::DiffReport;

use super::audit::{Analysis, Judging, Sources, analyse, outputs, write_outputs};
use super::leak_at_exit;
use crate::args::{DiffArgs, DiffFormat};
use crate::output::Out;

pub(crate) fn run(args: &DiffArgs, out: &mut Out) -> Result<ExitCode> {
    let judging = Judging::new(&args.options, out)?;
    let outputs = outputs(&args.output, DiffFormat::Human)?;
    let sides = Sides::new(args)?;
    for note in &sides.notes {
        out.note(note);
    }
    let analyse_side = |inputs: Vec<Input>, out: &mut Out| {
        let sources = Sources {
            inputs,
            values: &[],
            live: None,
            no_default_roles: args.no_default_roles,
            attribute: false,
        };
        analyse(&sources, &args.options, &judging, out)
    };
    let old = analyse_side(sides.old, out)?;
    let new = analyse_side(sides.new, out)?;
    let comparison = compare(
        &side(&old, &sides.old_prefixes),
        &side(&new, &sides.new_prefixes),
    );
    let old_report = old.report(judging.fail_on);
    let new_report = new.report(judging.fail_on);
    let report = DiffReport {
        old_label: &sides.old_label,
        new_label: &sides.new_label,
        old: &old_report,
        new: &new_report,
        old_policy: &old.policy,
        new_policy: &new.policy,
        comparison: &comparison,
        fail_on: judging.fail_on,
    };
    let root = std::env::current_dir().context("cannot read the working directory")?;
    let fallback = sides.first_new.as_str();
    write_outputs(&outputs, out, |format, w, color| {
        match format {
            DiffFormat::Human => runnerguard_report::diff_human(w, &report, color)?,
            DiffFormat::Json => runnerguard_report::diff_json(w, &report)?,
            // GitLab compares the merge request's report with the target branch's itself: the
            // new side's whole audit is what it needs.
            DiffFormat::Codequality => {
                runnerguard_report::codequality(w, &new_report, &root, fallback)?;
            }
            // The new side's whole audit, each result's `baselineState` against the old side,
            // and the resolved findings as `absent` results in the old side's files.
            DiffFormat::Sarif => {
                let old_fallback = sides.old_prefixes.first().map_or(fallback, String::as_str);
                runnerguard_report::diff_sarif(
                    w,
                    &report,
                    &new.rules,
                    &root,
                    fallback,
                    old_fallback,
                )?;
            }
            DiffFormat::Html => runnerguard_report::diff_html(w, &report)?,
            DiffFormat::Junit => runnerguard_report::diff_junit(w, &report, &new.rules)?,
        }
        Ok(())
    })?;
    let failed = report.failed();
    leak_at_exit(old.policy);
    leak_at_exit(new.policy);
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn side<'a>(analysis: &'a Analysis, prefixes: &'a [String]) -> Side<'a> {
    Side {
        policy: &analysis.policy,
        findings: &analysis.findings,
        topologies: &analysis.topologies,
        prefixes,
    }
}

/// The two sides' inputs, names and path prefixes.
struct Sides {
    old: Vec<Input>,
    new: Vec<Input>,
    old_label: String,
    new_label: String,
    /// The paths each side was given under, left out when findings are matched: `old/x.yaml`
    /// and `new/x.yaml` are the same file of two versions.
    old_prefixes: Vec<String>,
    new_prefixes: Vec<String>,
    /// The new side's first path (where a Code Quality issue with no place points).
    first_new: String,
    /// What to tell the user about how the sides were read.
    notes: Vec<String>,
}

impl Sides {
    fn new(args: &DiffArgs) -> Result<Self> {
        if let Some(rev) = &args.base_ref {
            if args.paths.is_empty() {
                bail!(
                    "--base-ref needs the paths to compare: runnerguard diff --base-ref {rev} PATH..."
                );
            }
            let (old, notes) = runnerguard_load::git::inputs_at(rev, &args.paths)?;
            let new = args.paths.iter().map(|p| Input::parse(p)).collect();
            let joined = args.paths.join(" ");
            return Ok(Self {
                old,
                new,
                old_label: format!("{joined} at {rev}"),
                new_label: joined,
                // Both sides name the files as the working tree does.
                old_prefixes: Vec::new(),
                new_prefixes: Vec::new(),
                first_new: args.paths[0].clone(),
                notes,
            });
        }
        let (old, new): (&[String], &[String]) = if args.old.is_empty() {
            match &args.paths[..] {
                [old, new] => (std::slice::from_ref(old), std::slice::from_ref(new)),
                _ => bail!(
                    "diff compares two sides: give OLD NEW, --old PATH... --new PATH..., or --base-ref REV PATH...\n\
                     try: runnerguard diff old/ new/"
                ),
            }
        } else {
            if !args.paths.is_empty() {
                bail!("give the paths either as OLD NEW or with --old and --new, not both");
            }
            (&args.old, &args.new)
        };
        if old.iter().chain(new).any(|p| p == "-") {
            bail!("diff reads files and directories, not stdin (`-`): save the stream to a file");
        }
        Ok(Self {
            old: old.iter().map(|p| Input::parse(p)).collect(),
            new: new.iter().map(|p| Input::parse(p)).collect(),
            old_label: old.join(" "),
            new_label: new.join(" "),
            old_prefixes: prefixes(old),
            new_prefixes: prefixes(new),
            first_new: new[0].clone(),
            notes: Vec::new(),
        })
    }
}

/// How the files under each path are named: `dir/` for a directory (its files are
/// `dir/x.yaml`), the path itself for a file.
fn prefixes(paths: &[String]) -> Vec<String> {
    paths
        .iter()
        .map(|p| {
            let path = Path::new(p);
            if path.is_dir() {
                format!("{}/", p.trim_end_matches('/'))
            } else {
                p.clone()
            }
        })
        .collect()
}
