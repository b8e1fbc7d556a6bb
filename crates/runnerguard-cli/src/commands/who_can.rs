//! `runnerguard who-can`: every subject allowed an action, with the grant.

use std::process::ExitCode;

use anyhow::Result;
use runnerguard_engine::Identity;
use runnerguard_report::answers;

use super::{RequestScope, leak_at_exit, load_policy};
use crate::args::{Format, WhoCanArgs};
use crate::output::Out;

pub(crate) fn run(args: &WhoCanArgs, out: &mut Out) -> Result<ExitCode> {
    let json_out = args.output == Format::Json;
    let scope = RequestScope::new(
        args.namespace.as_deref(),
        args.all_namespaces,
        args.subresource.as_deref(),
    );
    let policy = load_policy(&args.input, out)?;
    let action = scope.action(&args.verb, &args.target, out)?;
    if args.effective {
        effective(&policy, &action, args, out)?;
        leak_at_exit(policy);
        return Ok(ExitCode::SUCCESS);
    }
    let (subjects, errors) = policy.allowed_subjects(&action);
    let answer = answers::WhoCan {
        policy: &policy,
        action: &action,
        subjects: &subjects,
        errors: &errors,
    };
    if json_out {
        answer.json(out.stdout())?;
    } else {
        answer.human(out.stdout(), !args.no_headers)?;
        for warning in answer.warnings() {
            out.warn(&warning);
        }
    }
    leak_at_exit(policy);
    Ok(ExitCode::SUCCESS)
}

/// `who-can --effective`: every subject named by a binding (and `system:masters`) that may
/// perform the action itself or through an identity it can become, with the path.
fn effective(
    policy: &runnerguard_engine::Policy,
    action: &runnerguard_engine::Action,
    args: &WhoCanArgs,
    out: &mut Out,
) -> Result<()> {
    let escalation = runnerguard_engine::Escalation::new(policy);
    let mut found = Vec::new();
    for subject in policy.subjects() {
        let Some(user) = Identity::of_subject(&subject).and_then(|i| i.user_info()) else {
            continue;
        };
        let d = escalation.authorize(&user, action);
        if let Some(via) = d.via {
            found.push((subject, via, d.grant));
        }
    }
    let answer = answers::WhoCanEffective {
        policy,
        action,
        subjects: &found,
    };
    if args.output == Format::Json {
        answer.json(out.stdout())?;
    } else {
        answer.human(out.stdout(), !args.no_headers)?;
    }
    Ok(())
}
