//! `runnerguard paths`: the identities a subject can become, with the shortest path to each.

use std::process::ExitCode;

use anyhow::{Result, bail};
use runnerguard_engine::{Escalation, Identity, UserInfo};
use runnerguard_report::Escaped;
use serde_json::json;

use super::{build_action, leak_at_exit, load_policy, request_namespace};
use crate::args::{Format, PathsArgs};
use crate::describe;
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
        let d = escalation.authorize(&user, &action);
        match args.output {
            Format::Json => {
                let v = json!({
                    "version": 1,
                    "user": user,
                    "request": describe::action_json(&action),
                    "allowed": d.allowed,
                    "via": d.via.as_ref().map(|r| describe::reached_json(&policy, r)),
                    "grant": d.grant.as_ref().map(|g| describe::grant_json(&policy, g)),
                });
                serde_json::to_writer_pretty(&mut *out.stdout(), &v)?;
                writeln!(out.stdout())?;
            }
            Format::Human => {
                let w = out.stdout();
                let name = Escaped(&user.name);
                let action = Escaped(&action);
                match &d.via {
                    None => writeln!(
                        w,
                        "no: {name} cannot reach `{action}`, directly or through any identity it can become"
                    )?,
                    Some(via) => {
                        writeln!(w, "yes")?;
                        if via.path.is_empty() {
                            writeln!(w, "{name} may `{action}` itself")?;
                        } else {
                            writeln!(
                                w,
                                "{name} reaches `{action}` as {}:",
                                Escaped(&via.identity)
                            )?;
                            describe::write_path(w, &policy, via)?;
                        }
                        match &d.grant {
                            Some(g) => {
                                writeln!(w, "  allowed by {}", describe::grant_path(&policy, g))?;
                            }
                            None => {
                                writeln!(
                                    w,
                                    "  ({} holds every permission in scope)",
                                    Escaped(&via.identity)
                                )?;
                            }
                        }
                    }
                }
            }
        }
        leak_at_exit(policy);
        return Ok(if d.allowed {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
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
    match args.output {
        Format::Json => {
            let v = json!({
                "version": 1,
                "user": user,
                "namespace": args.namespace,
                "reached": shown.iter().map(|r| describe::reached_json(&policy, r)).collect::<Vec<_>>(),
            });
            serde_json::to_writer_pretty(&mut *out.stdout(), &v)?;
            writeln!(out.stdout())?;
        }
        Format::Human => {
            let w = out.stdout();
            let scope = args
                .namespace
                .as_deref()
                .map(|ns| format!(" in namespace `{}` (or cluster-wide)", Escaped(ns)))
                .unwrap_or_default();
            let name = Escaped(&user.name);
            if shown.is_empty() {
                writeln!(w, "{name} can become no other identity{scope}")?;
            } else {
                writeln!(
                    w,
                    "{name} can become {} identit{}{scope}:",
                    shown.len(),
                    if shown.len() == 1 { "y" } else { "ies" }
                )?;
                for r in &shown {
                    writeln!(w)?;
                    writeln!(w, "{}", Escaped(&r.identity))?;
                    describe::write_path(w, &policy, r)?;
                }
            }
        }
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
    let accounts: Vec<(String, String)> = escalation
        .service_accounts()
        .filter(|(ns, _)| args.namespace.as_deref().is_none_or(|n| n == *ns))
        .map(|(ns, name)| (ns.to_owned(), name.to_owned()))
        .collect();
    let users: Vec<UserInfo> = accounts
        .iter()
        .map(|(ns, name)| {
            UserInfo::impersonated(&runnerguard_model::service_account_user(ns, name), &[])
        })
        .collect();
    escalation.prepare(&users);
    let mut results = Vec::new();
    for ((ns, name), user) in accounts.iter().zip(&users) {
        let reached: Vec<Identity> = escalation.reachable(user);
        results.push((ns, name, reached));
    }
    if args.output == Format::Json {
        let v = json!({
            "version": 1,
            "serviceAccounts": results.iter().map(|(ns, name, reached)| json!({
                "namespace": ns,
                "name": name,
                "reached": reached,
            })).collect::<Vec<_>>(),
        });
        serde_json::to_writer(&mut *out.stdout(), &v)?;
        writeln!(out.stdout())?;
        return Ok(());
    }
    let w = out.stdout();
    let escalating = results.iter().filter(|(_, _, r)| !r.is_empty()).count();
    writeln!(
        w,
        "{} ServiceAccounts; {escalating} can become another identity",
        results.len()
    )?;
    for (ns, name, reached) in results.iter().filter(|(_, _, r)| !r.is_empty()) {
        let shown: Vec<String> = reached
            .iter()
            .take(3)
            .map(|r| Escaped(r).to_string())
            .collect();
        let more = reached.len().saturating_sub(3);
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        writeln!(
            w,
            "ServiceAccount {}/{} → {}{more}",
            Escaped(ns),
            Escaped(name),
            shown.join("; ")
        )?;
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
    let ns = request_namespace(namespace, false);
    build_action(verb, target, &ns, false, subresource, out)
}
