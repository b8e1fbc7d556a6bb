//! `runnerguard rules` and `runnerguard rules explain ID`.

use std::process::ExitCode;

use anyhow::{Result, anyhow};
use runnerguard_audit::{ALL, find_rule};

use crate::args::{RulesArgs, RulesCommand};
use crate::output::{Out, write_table};

pub(crate) fn run(args: &RulesArgs, out: &mut Out) -> Result<ExitCode> {
    match &args.command {
        None => {
            let mut rows = vec![
                ["ID", "NAME", "SEVERITY", "SUMMARY"]
                    .map(str::to_owned)
                    .to_vec(),
            ];
            for r in ALL {
                let m = r.meta();
                rows.push(vec![
                    m.id.to_owned(),
                    m.name.to_owned(),
                    m.severity.to_string(),
                    m.summary.to_owned(),
                ]);
            }
            write_table(out.stdout(), &rows)?;
            writeln!(out.stdout())?;
            writeln!(
                out.stdout(),
                "`runnerguard rules explain ID` prints a rule's documentation."
            )?;
        }
        Some(RulesCommand::Explain { rule }) => {
            let r = find_rule(rule)
                .ok_or_else(|| anyhow!("unknown rule `{rule}` (see `runnerguard rules`)"))?;
            out.stdout()
                .write_all(runnerguard_audit::rule_markdown(r.meta()).as_bytes())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
