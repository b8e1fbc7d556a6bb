//! `runnerguard audit`: read a runner setup, work out its topology, run the rules, report.

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, Result, anyhow};
use runnerguard_audit::{
    Audit, ChartKeys, Finding, FoundUnder, RuleMeta, RunnerVersion, Selection, Setup, Severity,
    Topology, TopologyOptions,
};
use runnerguard_chart::{HelmChoice, RenderOptions};
use runnerguard_config::{AuditSettings, Catalogue, Source};
use runnerguard_engine::Policy;
use runnerguard_load::{Input, LoadOptions, Loaded};
use runnerguard_model::versions::DEFAULT_RUNNER;
use runnerguard_report::Report;

use super::leak_at_exit;
use crate::args::{AuditArgs, AuditFormat, AuditOptions, FailOn, LiveArgs, Output};
use crate::output::Out;

pub(crate) fn run(args: &AuditArgs, out: &mut Out) -> Result<ExitCode> {
    let judging = Judging::new(&args.options, out)?;
    let outputs = outputs(&args.output, AuditFormat::Human)?;
    let mut inputs: Vec<Input> = args
        .input
        .filenames
        .iter()
        .map(|f| Input::parse(f))
        .collect();
    inputs.extend(args.values.iter().map(|v| Input::Values(v.into())));
    if inputs.is_empty() && !args.live.live {
        return Err(anyhow!(
            "nothing to audit: give -f PATH (manifests, values, config.toml; `-` for stdin), --values FILE or --live\n\
             try: runnerguard audit -f examples/seed/"
        ));
    }
    let sources = Sources {
        inputs,
        values: &args.values,
        live: args.live.live.then_some(&args.live),
        no_default_roles: args.input.no_default_roles,
        attribute: outputs.iter().any(|o| o.format == AuditFormat::Junit),
    };
    let analysis = analyse(&sources, &args.options, &judging, out)?;
    let report = analysis.report(judging.fail_on);
    let fallback = args
        .input
        .filenames
        .first()
        .or(args.values.first())
        .map_or("-", String::as_str);
    // CI runs in the repository's root: Code Quality paths are made relative to it.
    let root = std::env::current_dir().context("cannot read the working directory")?;
    let context = Reports {
        report: &report,
        rules: &analysis.rules,
        found_under: &analysis.found_under,
        root: &root,
        fallback,
        policy: &analysis.policy,
    };
    write_outputs(&outputs, out, |format, w, color| {
        context.write(format, w, color)
    })?;
    let failed = report.failed();
    leak_at_exit(report);
    leak_at_exit(analysis);
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Writes each output: one to stdout (in colour when it is a terminal that wants it), the
/// others each into its file, written whole or not at all.
pub(crate) fn write_outputs<F: Copy>(
    outputs: &[Output<F>],
    out: &mut Out,
    write: impl Fn(F, &mut dyn Write, bool) -> Result<()>,
) -> Result<()> {
    for output in outputs {
        match &output.file {
            None => {
                let color = out.color_stdout();
                write(output.format, out.stdout(), color)?;
            }
            Some(path) => {
                // A report is for CI to upload and people to read: the mode `>` gives.
                super::write_file(path, 0o644, |w| write(output.format, w, false))?;
            }
        }
    }
    Ok(())
}

/// What is judged and when the run fails: the rules selected, their severities, `--fail-on`
/// and the runner version asked for, from the flags and the --config file's `[audit]`
/// section (the flags win).
pub(crate) struct Judging {
    /// The rules that run, with their severities.
    pub(crate) selection: Selection,
    /// The severity at or above which the run fails.
    pub(crate) fail_on: Severity,
    /// `--runner-version`.
    pub(crate) given: Option<RunnerVersion>,
}

impl Judging {
    /// Reads and checks the flags and the --config file.
    pub(crate) fn new(options: &AuditOptions, out: &mut Out) -> Result<Self> {
        let config = match &options.config {
            Some(file) => audit_settings(file, out)?,
            None => AuditSettings::default(),
        };
        let or_config = |flags: &Vec<String>, file: Vec<String>| {
            if flags.is_empty() {
                file
            } else {
                flags.clone()
            }
        };
        let selection = Selection {
            select: or_config(&options.select, config.select),
            ignore: or_config(&options.ignore, config.ignore),
            rbac_only: false,
            severity: config.severity,
        };
        selection.validate()?;
        let fail_on = options
            .fail_on
            .map(severity)
            .or(config.fail_on)
            .unwrap_or(Severity::High);
        let given: Option<RunnerVersion> = match &options.runner_version {
            Some(v) => Some(v.parse().map_err(|e: String| anyhow!(e))?),
            None => None,
        };
        Ok(Self {
            selection,
            fail_on,
            given,
        })
    }
}

/// What an audit reads.
pub(crate) struct Sources<'a> {
    /// Files, directories, stdin, values files, texts read from git.
    pub(crate) inputs: Vec<Input>,
    /// The `--values` files among them: one release, merged.
    pub(crate) values: &'a [String],
    /// The cluster, when read live.
    pub(crate) live: Option<&'a LiveArgs>,
    /// `--no-default-roles`.
    pub(crate) no_default_roles: bool,
    /// Whether to say under which topologies each finding was found (for JUnit).
    pub(crate) attribute: bool,
}

/// What was read and what the rules found in it.
pub(crate) struct Analysis {
    /// Everything read, indexed.
    pub(crate) policy: Policy,
    /// The findings, most severe first.
    pub(crate) findings: Vec<Finding>,
    /// The runner topologies checked (none when the inputs hold no runner).
    pub(crate) topologies: Vec<Topology>,
    /// The runner versions checked, comma-separated.
    pub(crate) runner_version: String,
    /// The chart versions checked against, comma-separated.
    pub(crate) chart_version: String,
    /// How the inputs were understood.
    pub(crate) inputs: Vec<String>,
    /// The inputs that could not be read.
    pub(crate) unreadable: Vec<String>,
    /// The rules that ran.
    pub(crate) rules: Vec<&'static RuleMeta>,
    /// The topologies (indices into `topologies`) each finding was found under, when asked
    /// ([`Sources::attribute`]); else empty.
    pub(crate) found_under: FoundUnder,
}

impl Analysis {
    /// The report of this analysis, failing at `fail_on`.
    pub(crate) fn report(&self, fail_on: Severity) -> Report<'_> {
        Report {
            topologies: &self.topologies,
            findings: &self.findings,
            fail_on,
            runner_version: self.runner_version.clone(),
            chart_version: self.chart_version.clone(),
            inputs: &self.inputs,
            unreadable: &self.unreadable,
        }
    }
}

/// Reads `sources`, renders values, works out the topologies and runs the rules.
pub(crate) fn analyse(
    sources: &Sources<'_>,
    options: &AuditOptions,
    judging: &Judging,
    out: &mut Out,
) -> Result<Analysis> {
    let mut selection = judging.selection.clone();
    // A file that cannot be read does not stop the others from being audited; the report
    // names it and the run fails as incomplete. Nothing readable at all is still exit 2.
    let load = LoadOptions::default()
        .values_key(options.values_key.clone())
        .keep_going(true);
    let mut loaded = if sources.inputs.is_empty() {
        Loaded::default()
    } else {
        runnerguard_load::load_inputs_with(&sources.inputs, &load)?
    };
    let mut unreadable = unreadable(&mut loaded, out);
    // A snapshot taken without some kinds is as incomplete offline as it was live.
    let marks = loaded.take_marks();
    for line in marks.not_read {
        out.warn(&line);
        unreadable.push(line);
    }
    if let Some(ns) = &options.namespace {
        loaded.place_unnamespaced(ns);
    }
    let render = RenderOptions {
        release_name: options.release_name.clone(),
        release_namespace: options.release_namespace.clone(),
        chart: options.chart.as_ref().map(PathBuf::from),
        chart_version: options.chart_version.clone(),
        helm: match (&options.helm, options.no_helm) {
            (_, true) => HelmChoice::Off,
            (Some(p), false) => HelmChoice::At(p.into()),
            (None, false) => HelmChoice::Auto,
        },
        merged: sources
            .values
            .iter()
            .map(|v| Arc::from(Path::new(v).display().to_string()))
            .collect(),
    };
    let mut inputs = runnerguard_chart::render_inventory(&mut loaded, &render)?;
    if let Some(live) = sources.live {
        // A kind the cluster would not list is missing from the audit exactly as an
        // unreadable file is: named under "Not read", and the run fails as incomplete.
        let snapshot = super::snapshot::read(live, options.namespace.as_deref(), out)?;
        unreadable.extend(
            snapshot
                .unread
                .iter()
                .map(|u| super::snapshot::unread_line(&snapshot, u)),
        );
        inputs.extend(super::snapshot::skipped_lines(&snapshot));
        let mut cluster = snapshot.load()?;
        // Its marks of the kinds not read are the lines above, with the API server's reasons.
        cluster.take_marks();
        // After rendering: what the values render replaces the cluster's objects too.
        loaded.add_cluster(cluster);
    }
    let topology_options = TopologyOptions {
        runner_namespace: options.runner_namespace.clone(),
        runner_service_account: options.runner_service_account.clone(),
        job_namespaces: options.job_namespaces.clone(),
        job_service_account: options.job_service_account.clone(),
        release_namespace: options.release_namespace.clone(),
    };
    if let Some(note) = spread_unnamespaced(&mut loaded, &topology_options) {
        inputs.push(note);
    }
    // A cluster read live has its own default roles and bindings: the embedded ones would
    // add what it may have removed, or lack what it added. A snapshot file is a file: its
    // `Snapshot` mark is text anyone can write, so it cannot switch the embedded defaults
    // off (a `cluster-admin` binding would then refer to no role and grant nothing). The
    // cluster's own defaults in it replace the embedded ones of the same name, which only
    // fill in what it lacks; the API server recreates its defaults at every start anyway.
    let no_defaults = sources.no_default_roles || sources.live.is_some();
    inputs.extend(marks.skipped);
    if let Some(cluster) = &marks.cluster {
        inputs.push(format!(
            "a snapshot of {cluster}: its default roles and bindings replace the embedded ones of the same names"
        ));
    }
    let policy = super::policy_from_loaded(loaded, no_defaults, out)?;
    let runner = runnerguard_audit::has_runner(policy.objects(), &topology_options);
    if !runner {
        // Nothing to check the runner rules against: never invent a topology.
        selection.rbac_only = true;
        inputs.push(
            "no GitLab Runner found in the inputs (no chart values, no config.toml with the Kubernetes executor, no runner Deployment): only the RBAC rules (RB) ran; give the runner's values or config.toml, or --runner-namespace and --job-namespace, to check the runner rules (RG)"
                .to_owned(),
        );
    }
    let given = judging.given;
    let mut audit = Audit::new(&policy, &topology_options, given.unwrap_or(DEFAULT_RUNNER))?;
    // Each setup is judged by the runner and chart versions its inputs name.
    audit.settle_versions(given, &|chart| {
        runnerguard_chart::Chart::find(chart).map(|c| c.app_version.to_owned())
    })?;
    // Which setups each finding was found under costs memory; only JUnit asks.
    let (findings, found_under) = if sources.attribute {
        audit.run_attributed(&selection)
    } else {
        (audit.run(&selection), FoundUnder::default())
    };
    let setups = audit.setups();
    let topologies: Vec<_> = if runner {
        setups.iter().map(|s| s.topology.clone()).collect()
    } else {
        Vec::new()
    };
    let runner_version = runner_versions(setups, given);
    let chart_version = chart_versions(setups);
    drop(audit);
    inputs.extend(runnerguard_audit::placeholder_notes(&policy, &topologies));
    let rules = runnerguard_audit::ALL
        .iter()
        .map(|r| r.meta())
        .filter(|m| selection.includes(m))
        .collect();
    Ok(Analysis {
        policy,
        findings,
        topologies,
        runner_version,
        chart_version,
        inputs,
        unreadable,
        rules,
        found_under,
    })
}

/// The outputs asked for (`-o`, `human` on stdout when none), checked before any work: one
/// on stdout at most, each file once.
pub(crate) fn outputs<F: Clone>(asked: &[Output<F>], human: F) -> Result<Vec<Output<F>>> {
    if asked.is_empty() {
        return Ok(vec![Output {
            format: human,
            file: None,
        }]);
    }
    if asked.iter().filter(|o| o.file.is_none()).count() > 1 {
        return Err(anyhow!(
            "more than one -o writes to stdout: give the others a file (`-o junit=runnerguard.xml`)"
        ));
    }
    for (i, o) in asked.iter().enumerate() {
        if let Some(file) = &o.file
            && asked[..i].iter().any(|p| p.file.as_ref() == Some(file))
        {
            return Err(anyhow!("-o writes `{}` twice", file.display()));
        }
    }
    Ok(asked.to_vec())
}

/// What every report format is written from.
struct Reports<'a> {
    report: &'a Report<'a>,
    /// The rules that ran.
    rules: &'a [&'static RuleMeta],
    /// The topologies each finding was found under.
    found_under: &'a FoundUnder,
    /// Where paths in Code Quality reports are relative to.
    root: &'a Path,
    /// The input a Code Quality issue with no place of its own points at.
    fallback: &'a str,
    /// What was audited: the HTML report's access matrix and escalation graph ask it.
    policy: &'a Policy,
}

impl Reports<'_> {
    fn write(&self, format: AuditFormat, w: &mut dyn Write, color: bool) -> Result<()> {
        match format {
            AuditFormat::Human => runnerguard_report::human(w, self.report, color)?,
            AuditFormat::Json => runnerguard_report::json(w, self.report)?,
            AuditFormat::Codequality => {
                runnerguard_report::codequality(w, self.report, self.root, self.fallback)?;
            }
            AuditFormat::Junit => {
                runnerguard_report::junit(w, self.report, self.rules, self.found_under)?;
            }
            AuditFormat::Sarif => {
                runnerguard_report::sarif(w, self.report, self.rules, self.root, self.fallback)?;
            }
            AuditFormat::Html => runnerguard_report::html(w, self.report, self.policy)?,
        }
        Ok(())
    }
}

/// The `[audit]` section of configuration `file`, checked against this build's rules. Its
/// problems, and those of the rest of the file (unknown keys, wrong types), are printed.
fn audit_settings(file: &str, out: &mut Out) -> Result<AuditSettings<Severity>> {
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read `{file}`"))?;
    let source = Source::new(file, &text);
    let rules: Vec<(&str, &str)> = runnerguard_audit::ALL
        .iter()
        .map(|r| (r.meta().id, r.meta().name))
        .collect();
    let severities = Severity::ALL.map(|s| (s.as_str(), s));
    let catalogue = Catalogue {
        rules: &rules,
        severities: &severities,
    };
    runnerguard_config::read(&source)
        .and_then(|c| c.audit.resolve(&source, &catalogue))
        .map_err(|problems| super::generate::config_problems(file, problems, "audited", out))
}

/// Roles and RoleBindings without a namespace land wherever they are applied (`kubectl apply
/// -n`, Helm's release namespace, Argo CD's destination): besides `default`, they are checked
/// in every namespace of the runner topologies, and the report says so.
fn spread_unnamespaced(loaded: &mut Loaded, options: &TopologyOptions) -> Option<String> {
    if loaded.inventory.unnamespaced.is_empty() {
        return None;
    }
    // The topologies come from the runner's objects, which these do not change.
    let probe = runnerguard_engine::Policy::new(loaded.inventory.clone());
    let mut namespaces: Vec<String> = Vec::new();
    if runnerguard_audit::has_runner(probe.objects(), options) {
        for t in Topology::discover_all(&probe, options) {
            for ns in
                std::iter::once(t.manager_namespace).chain(t.jobs.into_iter().map(|j| j.namespace))
            {
                if !namespaces.contains(&ns) {
                    namespaces.push(ns);
                }
            }
        }
    }
    let copied = loaded.spread_unnamespaced(&namespaces);
    if copied.is_empty() {
        return None;
    }
    let mut what = copied[..copied.len().min(3)].join(", ");
    if copied.len() > 3 {
        let _ = write!(what, " and {} more", copied.len() - 3);
    }
    let places: Vec<String> = std::iter::once("`default`".to_owned())
        .chain(
            namespaces
                .iter()
                .filter(|n| *n != "default")
                .map(|n| format!("`{n}`")),
        )
        .collect();
    Some(if namespaces.iter().all(|n| n == "default") {
        format!(
            "{what} name no namespace: checked in `default` only, where `kubectl apply` without -n puts them; give -n NAMESPACE if they are applied elsewhere"
        )
    } else {
        format!(
            "{what} name no namespace: checked in {} (where `kubectl apply -n`, Helm or Argo CD could put them); give -n NAMESPACE to say where they go",
            places.join(", ")
        )
    })
}

/// Prints the problems of the inputs that could not be read, with their snippets, and returns
/// them as the report's one-line entries.
fn unreadable(loaded: &mut Loaded, out: &mut Out) -> Vec<String> {
    let problems = std::mem::take(&mut loaded.unreadable);
    let mut lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
    if loaded.more_problems > 0 {
        lines.push(format!(
            "... and {} more problem{} not shown",
            loaded.more_problems,
            if loaded.more_problems == 1 { "" } else { "s" }
        ));
    }
    let n = problems.len() + loaded.more_problems;
    for d in problems {
        out.report(&miette::Report::new(d));
    }
    if n > 0 {
        out.warn(&format!(
            "{n} input problem{}: the rest was audited; the report is incomplete",
            if n == 1 { "" } else { "s" }
        ));
    }
    lines
}

/// The runner versions checked, each once, in setup order (`--runner-version`, or the
/// default runner, when there is no setup).
fn runner_versions(setups: &[Setup], given: Option<RunnerVersion>) -> String {
    distinct(setups.iter().map(|s| s.version.to_string()))
        .unwrap_or_else(|| given.unwrap_or(DEFAULT_RUNNER).to_string())
}

/// The chart versions checked against, each once, in setup order (the default chart when
/// there is no setup): releases of several charts are each checked against their own.
fn chart_versions(setups: &[Setup]) -> String {
    distinct(setups.iter().map(|s| s.chart.version.to_owned()))
        .unwrap_or_else(|| ChartKeys::newest().version.to_owned())
}

/// `versions` each once, in order, comma-separated; `None` when there are none.
fn distinct(versions: impl Iterator<Item = String>) -> Option<String> {
    let mut seen: Vec<String> = Vec::new();
    for v in versions {
        if !seen.contains(&v) {
            seen.push(v);
        }
    }
    (!seen.is_empty()).then(|| seen.join(", "))
}

fn severity(f: FailOn) -> Severity {
    match f {
        FailOn::Info => Severity::Info,
        FailOn::Low => Severity::Low,
        FailOn::Medium => Severity::Medium,
        FailOn::High => Severity::High,
        FailOn::Critical => Severity::Critical,
    }
}
