//! `runnerguard can-i`: `kubectl auth can-i`, offline, with `--explain`.

use std::process::ExitCode;

use anyhow::{Result, bail};
use runnerguard_engine::{Decision, Policy, UserInfo, kubectl};
use runnerguard_report::Escaped;
use serde_json::json;

use super::{build_action, leak_at_exit, load_policy, request_namespace};
use crate::args::{CanIArgs, Format};
use crate::describe;
use crate::output::{Out, write_table};

/// How many near misses `--explain` shows at most.
const NEAR_MISS_LIMIT: usize = 5;

pub(crate) fn run(args: &CanIArgs, out: &mut Out) -> Result<ExitCode> {
    validate(args)?;
    let quiet = args.quiet;
    let user = identity(args, out)?;
    let policy = load_policy(&args.input, out)?;
    let namespace = request_namespace(args.namespace.as_deref(), args.all_namespaces);

    if args.list {
        list(&policy, &user, &namespace, args, out)?;
        leak_at_exit(policy);
        return Ok(ExitCode::SUCCESS);
    }

    let (Some(verb), Some(target)) = (args.verb.as_deref(), args.target.as_deref()) else {
        bail!("you must specify two arguments: verb resource or verb resource/resourceName");
    };
    let action = build_action(
        verb,
        target,
        &namespace,
        args.all_namespaces,
        args.subresource.as_deref(),
        out,
    )?;
    if args.effective {
        let escalation = runnerguard_engine::Escalation::new(&policy);
        let d = escalation.authorize(&user, &action);
        match args.output {
            Format::Json => {
                let v = json!({
                    "version": 1,
                    "effective": true,
                    "allowed": d.allowed,
                    "user": user,
                    "request": describe::action_json(&action),
                    "via": d.via.as_ref().map(|r| describe::reached_json(&policy, r)),
                    "grant": d.grant.as_ref().map(|g| describe::grant_json(&policy, g)),
                });
                serde_json::to_writer_pretty(&mut *out.stdout(), &v)?;
                writeln!(out.stdout())?;
            }
            Format::Human if !quiet => {
                writeln!(out.stdout(), "{}", if d.allowed { "yes" } else { "no" })?;
                if args.explain {
                    let w = out.stdout();
                    writeln!(w)?;
                    writeln!(w, "identity: {}", Escaped(&user))?;
                    writeln!(w, "request:  {}", Escaped(&action))?;
                    match &d.via {
                        None => writeln!(
                            w,
                            "neither directly nor through any identity it can become (see `runnerguard paths`)"
                        )?,
                        Some(via) => {
                            if !via.path.is_empty() {
                                writeln!(w, "as {}:", Escaped(&via.identity))?;
                                describe::write_path(w, &policy, via)?;
                            }
                            match &d.grant {
                                Some(g) => {
                                    writeln!(w, "allowed by {}", describe::grant_path(&policy, g))?;
                                }
                                None => writeln!(
                                    w,
                                    "({} holds every permission in scope)",
                                    Escaped(&via.identity)
                                )?,
                            }
                        }
                    }
                }
            }
            Format::Human => {}
        }
        leak_at_exit(policy);
        return Ok(if d.allowed {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    let decision = policy.authorize(&user, &action);
    let misses = if decision.allowed || !(args.explain || args.output == Format::Json) {
        Vec::new()
    } else {
        policy.near_misses(&user, &action, NEAR_MISS_LIMIT)
    };

    match args.output {
        Format::Json => {
            let v = json!({
                "version": 1,
                "allowed": decision.allowed,
                "user": user,
                "request": describe::action_json(&action),
                "grants": decision.grants.iter().map(|g| describe::grant_json(&policy, g)).collect::<Vec<_>>(),
                "nearMisses": misses.iter().map(|m| {
                    let mut g = describe::grant_json(&policy, &m.grant);
                    g["mismatches"] = json!(m.mismatches);
                    g
                }).collect::<Vec<_>>(),
                "errors": describe::errors_json(&policy, &decision.errors),
            });
            serde_json::to_writer_pretty(&mut *out.stdout(), &v)?;
            writeln!(out.stdout())?;
        }
        Format::Human => {
            if !quiet {
                writeln!(
                    out.stdout(),
                    "{}",
                    if decision.allowed { "yes" } else { "no" }
                )?;
            }
            if args.explain && !quiet {
                explain(&policy, &user, &action, &decision, &misses, out)?;
            }
        }
    }
    leak_at_exit(policy);
    Ok(if decision.allowed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
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

fn explain(
    policy: &Policy,
    user: &UserInfo,
    action: &runnerguard_engine::Action,
    decision: &Decision,
    misses: &[runnerguard_engine::NearMiss],
    out: &mut Out,
) -> Result<()> {
    let w = out.stdout();
    writeln!(w)?;
    writeln!(w, "identity: {}", Escaped(user))?;
    writeln!(w, "request:  {}", Escaped(action))?;
    if decision.allowed {
        writeln!(w, "allowed by:")?;
        for g in &decision.grants {
            let b = policy.binding(g.binding);
            writeln!(w, "  {}", describe::grant_path(policy, g))?;
            writeln!(
                w,
                "      subject {} matches; rule {}",
                describe::subject(&b.subjects[g.subject_index], &b.namespace),
                Escaped(policy.rule(g))
            )?;
        }
    } else if misses.is_empty() {
        writeln!(
            w,
            "no binding names this user or any of its groups{}",
            if user.groups.is_empty() {
                String::new()
            } else {
                format!(" ({})", Escaped(user.groups.join(", ")))
            }
        )?;
    } else {
        let n = misses[0].mismatches.len();
        writeln!(
            w,
            "no rule allows it; the closest ({n} difference{}):",
            if n == 1 { "" } else { "s" }
        )?;
        for m in misses {
            let b = policy.binding(m.grant.binding);
            let rule = policy.rule(&m.grant);
            writeln!(w, "  {}", describe::grant_path(policy, &m.grant))?;
            writeln!(w, "      rule {}", Escaped(rule))?;
            for &mm in &m.mismatches {
                writeln!(w, "      - {}", describe::mismatch(mm, rule, b, action))?;
            }
        }
    }
    for e in &decision.errors {
        let b = policy.binding(e.binding);
        writeln!(
            w,
            "note: {} grants nothing: {}",
            describe::binding(b),
            Escaped(&e.message)
        )?;
    }
    Ok(())
}

/// `--list`: every rule the identity holds in the namespace, broken down, compacted and
/// sorted as kubectl prints them ([`kubectl::list_rows`]).
fn list(
    policy: &Policy,
    user: &UserInfo,
    namespace: &str,
    args: &CanIArgs,
    out: &mut Out,
) -> Result<()> {
    let rules = policy.rules_for(user, namespace);
    if args.output == Format::Json {
        let v = json!({
            "version": 1,
            "user": user,
            "namespace": namespace,
            "rules": rules.rules.iter().map(|e| describe::grant_json(policy, &e.grant)).collect::<Vec<_>>(),
            "errors": describe::errors_json(policy, &rules.errors),
        });
        serde_json::to_writer_pretty(&mut *out.stdout(), &v)?;
        writeln!(out.stdout())?;
        return Ok(());
    }
    let mut rows = Vec::new();
    if !args.no_headers {
        rows.push(kubectl::ListRow::HEADER.map(str::to_owned).to_vec());
    }
    rows.extend(
        kubectl::list_rows(rules.rules.iter().map(|e| policy.rule(&e.grant)))
            .into_iter()
            .map(|row| row.into_cells().to_vec()),
    );
    write_table(out.stdout(), &rows)?;
    for e in &rules.errors {
        out.warn(&format!(
            "the list may be incomplete: {}: {}",
            describe::binding(policy.binding(e.binding)),
            e.message
        ));
    }
    Ok(())
}
