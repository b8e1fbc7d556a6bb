//! `runnerguard audit`: read a runner setup, work out its topology, run the rules, report.

use std::process::ExitCode;

use anyhow::{Result, anyhow};
use runnerguard_audit::{RunnerVersion, Selection, Setup, Severity, TopologyOptions, executor};
use runnerguard_load::Input;
use runnerguard_report::Report;

use super::leak_at_exit;
use crate::args::{AuditArgs, FailOn, Format};
use crate::output::Out;

pub(crate) fn run(args: &AuditArgs, out: &mut Out) -> Result<ExitCode> {
    let selection = Selection {
        select: args.select.clone(),
        ignore: args.ignore.clone(),
    };
    selection.validate()?;
    let version: RunnerVersion = match &args.runner_version {
        Some(v) => v.parse().map_err(|e: String| anyhow!(e))?,
        None => executor::NEWEST,
    };

    let mut inputs: Vec<Input> = args
        .input
        .filenames
        .iter()
        .map(|f| Input::parse(f))
        .collect();
    inputs.extend(args.values.iter().map(|v| Input::Values(v.into())));
    if inputs.is_empty() {
        return Err(anyhow!(
            "nothing to audit: give -f PATH (manifests, values, config.toml; `-` for stdin) or --values FILE\n\
             try: runnerguard audit -f examples/seed/"
        ));
    }
    let policy = super::load_policy_from(&inputs, args.input.no_default_roles, out)?;
    let options = TopologyOptions {
        runner_namespace: args.runner_namespace.clone(),
        runner_service_account: args.runner_service_account.clone(),
        job_namespaces: args.job_namespaces.clone(),
        job_service_account: args.job_service_account.clone(),
        release_namespace: args.release_namespace.clone(),
    };
    let setups = Setup::all(&policy, &options, version)?;
    let findings = runnerguard_audit::run_all(&policy, &setups, &selection);
    let topologies: Vec<_> = setups.iter().map(|s| s.topology.clone()).collect();
    let report = Report {
        topologies: &topologies,
        findings: &findings,
        fail_on: severity(args.fail_on),
        runner_version: version.to_string(),
        chart_version: runnerguard_audit::ChartKeys::v0_86_0().version.to_owned(),
    };
    match args.output {
        Format::Json => runnerguard_report::json(out.stdout(), &report)?,
        Format::Human => {
            let color = out.color_stdout();
            runnerguard_report::human(out.stdout(), &report, color)?;
        }
    }
    let failed = report.failed();
    leak_at_exit(policy);
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
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
