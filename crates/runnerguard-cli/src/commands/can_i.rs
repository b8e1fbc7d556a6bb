//! `runnerguard can-i`: `kubectl auth can-i`, offline, with `--explain`.

use std::process::ExitCode;

use anyhow::{Result, bail};
use runnerguard_engine::{Escalation, Policy, UserInfo};
use runnerguard_report::answers;

use super::{RequestScope, answer_code, effective, leak_at_exit, load_policy};
use crate::args::{CanIArgs, Format};
use crate::output::Out;

/// How many near misses `--explain` shows at most.
const NEAR_MISS_LIMIT: usize = 5;

pub(crate) fn run(args: &CanIArgs, out: &mut Out) -> Result<ExitCode> {
    validate(args)?;
    let quiet = args.quiet;
    let user = identity(args, out)?;
    let policy = load_policy(&args.input, out)?;
    let scope = RequestScope::new(
        args.namespace.as_deref(),
        args.all_namespaces,
        args.subresource.as_deref(),
    );

    if args.list {
        list(&policy, &user, &scope.namespace, args, out)?;
        leak_at_exit(policy);
        return Ok(ExitCode::SUCCESS);
    }

    let (Some(verb), Some(target)) = (args.verb.as_deref(), args.target.as_deref()) else {
        bail!("you must specify two arguments: verb resource or verb resource/resourceName");
    };
    let action = scope.action(verb, target, out)?;
    if args.effective {
        let escalation = Escalation::new(&policy);
        let code = effective(&policy, &escalation, &user, &action, |answer| {
            match args.output {
                Format::Json => answer.can_i_json(out.stdout()),
                Format::Human if !quiet => answer.can_i_human(out.stdout(), args.explain),
                Format::Human => Ok(()),
            }
        })?;
        leak_at_exit(policy);
        return Ok(code);
    }
    let decision = policy.authorize(&user, &action);
    let misses = if decision.allowed || !(args.explain || args.output == Format::Json) {
        Vec::new()
    } else {
        policy.near_misses(&user, &action, NEAR_MISS_LIMIT)
    };
    let answer = answers::CanI {
        policy: &policy,
        user: &user,
        action: &action,
        decision: &decision,
        near_misses: &misses,
    };
    match args.output {
        Format::Json => answer.json(out.stdout())?,
        Format::Human if !quiet => answer.human(out.stdout(), args.explain)?,
        Format::Human => {}
    }
    leak_at_exit(policy);
    Ok(answer_code(decision.allowed))
}

/// kubectl's argument rules (cani.go `Complete`, `Validate`), with its messages.
fn validate(args: &CanIArgs) -> Result<()> {
    if args.list {
        if args.verb.is_some() || args.target.is_some() || !args.rest.is_empty() {
            bail!("list option must be specified with no arguments");
        }
        if args.quiet || args.all_namespaces || args.subresource.is_some() {
            bail!(
                "list option can't be specified with neither quiet, all-namespaces nor subresource options"
            );
        }
        if args.explain {
            bail!(
                "--explain cannot be used with --list (use --list -o json to see the binding and role of each rule)"
            );
        }
        return Ok(());
    }
    if args.verb.is_none() || args.target.is_none() || !args.rest.is_empty() {
        bail!(
            "you must specify two arguments: verb resource or verb resource/resourceName\n\
             See 'runnerguard can-i -h' for help and examples"
        );
    }
    if args.no_headers {
        bail!("--no-headers cannot be set without --list specified");
    }
    Ok(())
}

/// The identity asked about: `--as` with the groups impersonation gives it, or the anonymous
/// user when no `--as` is given (offline there is no "current user").
fn identity(args: &CanIArgs, out: &mut Out) -> Result<UserInfo> {
    match &args.as_user {
        Some(user) if user.is_empty() => bail!("--as needs a user name"),
        Some(user) => Ok(UserInfo::impersonated(user, &args.as_groups)),
        None if !args.as_groups.is_empty() => {
            bail!("requesting groups without impersonating a user: give --as USER with --as-group")
        }
        None => {
            let user = UserInfo::anonymous();
            {
                out.note(&format!(
                    "no --as given: asking as {user}; use --as USER or --as system:serviceaccount:NAMESPACE:NAME"
                ));
            }
            Ok(user)
        }
    }
}

/// `--list`: every rule the identity holds in the namespace, broken down, compacted and
/// sorted as kubectl prints them ([`runnerguard_engine::kubectl::list_rows`]).
fn list(
    policy: &Policy,
    user: &UserInfo,
    namespace: &str,
    args: &CanIArgs,
    out: &mut Out,
) -> Result<()> {
    let rules = policy.rules_for(user, namespace);
    let answer = answers::RuleList {
        policy,
        user,
        namespace,
        rules: &rules,
    };
    if args.output == Format::Json {
        return answer.json(out.stdout()).map_err(Into::into);
    }
    answer.human(out.stdout(), !args.no_headers)?;
    for warning in answer.warnings() {
        out.warn(&warning);
    }
    Ok(())
}
