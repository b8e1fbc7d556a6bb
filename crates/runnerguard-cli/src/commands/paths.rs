//! `runnerguard paths`: the identities a subject can become, with the shortest path to each.

use std::process::ExitCode;

use anyhow::{Result, bail};
use runnerguard_engine::{Escalation, Identity, UserInfo};
use runnerguard_report::answers;

use super::{RequestScope, effective, leak_at_exit, load_policy};
use crate::args::{Format, PathsArgs};
use crate::output::Out;

pub(crate) fn run(args: &PathsArgs, out: &mut Out) -> Result<ExitCode> {
    let policy = load_policy(&args.input, out)?;
    let escalation = Escalation::new(&policy);
    if args.all_service_accounts {
        all_service_accounts(&escalation, args, out)?;
        // Like the policy, the escalation graph's caches are not freed piece by piece.
        std::mem::forget(escalation);
        leak_at_exit(policy);
        return Ok(ExitCode::SUCCESS);
    }
    let as_user = args.as_user.as_deref().unwrap_or_default();
    if as_user.is_empty() {
        bail!("--as needs a user name");
    }
    let user = UserInfo::impersonated(as_user, &args.as_groups);

    if let Some(to) = &args.to {
        let action = parse_permission(to, out)?;
        let code = effective(&policy, &escalation, &user, &action, |answer| {
            match args.output {
                Format::Json => answer.paths_json(out.stdout()),
                Format::Human => answer.paths_human(out.stdout()),
            }
        })?;
        leak_at_exit(policy);
        return Ok(code);
    }

    let reached = escalation.reach(&user);
    let shown: Vec<_> = reached
        .iter()
        .skip(1)
        .filter(|r| {
            args.namespace
                .as_deref()
                .is_none_or(|ns| in_namespace(&r.identity, ns))
        })
        .collect();
    let answer = answers::Paths {
        policy: &policy,
        user: &user,
        namespace: args.namespace.as_deref(),
        reached: &shown,
    };
    match args.output {
        Format::Json => answer.json(out.stdout())?,
        Format::Human => answer.human(out.stdout())?,
    }
    leak_at_exit(policy);
    Ok(ExitCode::SUCCESS)
}

/// `--all-service-accounts`: for every ServiceAccount, the identities it can become.
fn all_service_accounts(
    escalation: &Escalation<'_>,
    args: &PathsArgs,
    out: &mut Out,
) -> Result<()> {
    let results: Vec<(String, String, Vec<Identity>)> = escalation
        .service_accounts_reach(args.namespace.as_deref())
        .into_iter()
        .map(|((ns, name), reached)| (ns.to_owned(), name.to_owned(), reached))
        .collect();
    let answer = answers::AllServiceAccounts { accounts: &results };
    if args.output == Format::Json {
        answer.json(out.stdout())?;
    } else {
        answer.human(out.stdout())?;
    }
    Ok(())
}

/// Whether an identity belongs to namespace `ns`, or to no namespace in particular.
fn in_namespace(identity: &Identity, ns: &str) -> bool {
    match identity {
        Identity::ServiceAccount { namespace, .. } | Identity::NamespaceAdmin { namespace } => {
            namespace == ns
        }
        Identity::BoundRole { scope, .. } => scope.is_empty() || scope == ns,
        _ => true,
    }
}

/// Parses `--to 'VERB TYPE[/NAME] [-n NS|--namespace NS] [--subresource S]'`.
pub(crate) fn parse_permission(text: &str, out: &mut Out) -> Result<runnerguard_engine::Action> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut positional = Vec::new();
    let mut namespace = None;
    let mut subresource = None;
    let mut i = 0;
    while i < words.len() {
        match words[i] {
            "-n" | "--namespace" => {
                namespace = words.get(i + 1).copied();
                i += 2;
            }
            "--subresource" => {
                subresource = words.get(i + 1).copied();
                i += 2;
            }
            w if w.starts_with("--namespace=") => {
                namespace = w.strip_prefix("--namespace=");
                i += 1;
            }
            w if w.starts_with("--subresource=") => {
                subresource = w.strip_prefix("--subresource=");
                i += 1;
            }
            w => {
                positional.push(w);
                i += 1;
            }
        }
    }
    let [verb, target] = positional[..] else {
        bail!(
            "--to takes 'VERB TYPE[/NAME] [-n NAMESPACE] [--subresource S]', e.g. 'get secrets -n gitlab-runner'; got `{text}`"
        );
    };
    RequestScope::new(namespace, false, subresource).action(verb, target, out)
}
