//! `runnerguard who-can`: every subject allowed an action, with the grant.

use std::process::ExitCode;

use anyhow::Result;
use runnerguard_engine::{Identity, SubjectGrant};
use runnerguard_report::Escaped;
use serde_json::json;

use super::{build_action, leak_at_exit, load_policy, request_namespace};
use crate::args::{Format, WhoCanArgs};
use crate::describe;
use crate::output::{Out, write_table};

pub(crate) fn run(args: &WhoCanArgs, out: &mut Out) -> Result<ExitCode> {
    let json_out = args.output == Format::Json;
    let policy = load_policy(&args.input, out)?;
    let namespace = request_namespace(args.namespace.as_deref(), args.all_namespaces);
    let action = build_action(
        &args.verb,
        &args.target,
        &namespace,
        args.all_namespaces,
        args.subresource.as_deref(),
        out,
    )?;
    if args.effective {
        effective(&policy, &action, args, out)?;
        leak_at_exit(policy);
        return Ok(ExitCode::SUCCESS);
    }
    let (subjects, errors) = policy.allowed_subjects(&action);

    if json_out {
        // Upstream's order, not deduplicated: the same list the API server's subject locator
        // returns, with the grant behind each subject.
        let v = json!({
            "version": 1,
            "request": describe::action_json(&action),
            "subjects": subjects.iter().map(|s| {
                let mut v = json!({ "subject": s.subject });
                if let Some(g) = &s.grant {
                    let b = policy.binding(g.binding);
                    if let Some(user) = s.subject.service_account_user(&b.namespace) {
                        v["user"] = json!(user);
                    }
                    v["grant"] = describe::grant_json(&policy, g);
                } else {
                    v["grant"] = json!(null);
                    v["note"] = json!("the API server lets system:masters do anything, whatever RBAC says");
                }
                v
            }).collect::<Vec<_>>(),
            "errors": describe::errors_json(&policy, &errors),
        });
        serde_json::to_writer_pretty(&mut *out.stdout(), &v)?;
        writeln!(out.stdout())?;
        leak_at_exit(policy);
        return Ok(ExitCode::SUCCESS);
    }

    let mut rows: Vec<Vec<String>> = Vec::new();
    if !args.no_headers {
        rows.push(
            ["SUBJECT", "BINDING", "ROLE", "SOURCE"]
                .map(str::to_owned)
                .to_vec(),
        );
    }
    let mut seen = std::collections::HashSet::new();
    for s in &subjects {
        let row = row(&policy, s);
        if seen.insert(row.clone()) {
            rows.push(row);
        }
    }
    write_table(out.stdout(), &rows)?;
    for e in &errors {
        out.warn(&format!(
            "{} grants nothing: {}",
            describe::binding(policy.binding(e.binding)),
            e.message
        ));
    }
    leak_at_exit(policy);
    Ok(ExitCode::SUCCESS)
}

/// One table row: who, through which binding and role, written where.
fn row(policy: &runnerguard_engine::Policy, s: &SubjectGrant) -> Vec<String> {
    let Some(g) = &s.grant else {
        return vec![
            describe::subject(&s.subject, ""),
            "(none needed)".to_owned(),
            "(superuser group)".to_owned(),
            "API server".to_owned(),
        ];
    };
    let b = policy.binding(g.binding);
    let r = policy.role(g.role);
    vec![
        describe::subject(&s.subject, &b.namespace),
        format!("{} {}", b.kind, describe::qualified(&b.namespace, &b.name)),
        format!("{} {}", r.kind, describe::qualified(&r.namespace, &r.name)),
        b.origin.to_string(),
    ]
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
    if args.output == Format::Json {
        let v = json!({
            "version": 1,
            "effective": true,
            "request": describe::action_json(action),
            "subjects": found.iter().map(|(s, via, grant)| json!({
                "subject": s,
                "via": describe::reached_json(policy, via),
                "grant": grant.as_ref().map(|g| describe::grant_json(policy, g)),
            })).collect::<Vec<_>>(),
        });
        serde_json::to_writer_pretty(&mut *out.stdout(), &v)?;
        writeln!(out.stdout())?;
        return Ok(());
    }
    let mut rows: Vec<Vec<String>> = Vec::new();
    if !args.no_headers {
        rows.push(["SUBJECT", "HOW", "ALLOWED BY"].map(str::to_owned).to_vec());
    }
    for (s, via, grant) in &found {
        let how = if via.path.is_empty() {
            "directly".to_owned()
        } else {
            let steps: Vec<String> = via
                .path
                .iter()
                .map(|p| format!("{:?}", p.primitive))
                .collect();
            format!("as {} ({})", Escaped(&via.identity), steps.join(" → "))
        };
        let by = grant.as_ref().map_or_else(
            || "holds everything in scope".to_owned(),
            |g| {
                let b = policy.binding(g.binding);
                let r = policy.role(g.role);
                format!(
                    "{} {} → {} {}",
                    b.kind,
                    describe::qualified(&b.namespace, &b.name),
                    r.kind,
                    describe::qualified(&r.namespace, &r.name)
                )
            },
        );
        rows.push(vec![describe::subject(s, &s.namespace), how, by]);
    }
    write_table(out.stdout(), &rows).map_err(Into::into)
}
