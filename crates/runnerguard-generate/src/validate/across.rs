//! What tenants must not share, and where they must not reach each other.

use std::collections::BTreeMap;
use std::ops::Range;

use runnerguard_config::{Checks, Spanned as Sp, Tenant as RawTenant};

use crate::config::Tenant;

/// Names each tenant must not share with another, checked in tenant order; and no tenant
/// may deploy into another's job namespace.
pub(super) fn check_across(w: &mut Checks<'_>, tenants: &[(&Sp<RawTenant>, Tenant)]) {
    let mut seen: BTreeMap<(&str, String), String> = BTreeMap::new();
    for (raw, t) in tenants {
        let name_span = raw
            .name
            .as_ref()
            .map_or(raw.span.clone(), |n| n.span.clone());
        let span_of =
            |f: &Option<Sp<String>>| f.as_ref().map_or(name_span.clone(), |s| s.span.clone());
        let mut claim =
            |w: &mut Checks<'_>, kind: &'static str, value: &str, span: Range<usize>, why: &str| {
                if let Some(other) = seen.get(&(kind, value.to_owned())) {
                    w.error(
                    &span,
                    format!(
                        "tenant `{}` uses {kind} `{value}`, which tenant `{other}` uses too: {why}",
                        t.name
                    ),
                    None,
                );
                } else {
                    seen.insert((kind, value.to_owned()), t.name.clone());
                }
            };
        claim(
            w,
            "name",
            &t.name,
            name_span.clone(),
            "tenant names must be unique",
        );
        claim(
            w,
            "job namespace",
            &t.job_namespace,
            span_of(&raw.job_namespace),
            "each tenant's jobs need a namespace of their own",
        );
        claim(
            w,
            "manager ServiceAccount",
            &t.manager_service_account,
            span_of(&raw.manager_service_account),
            "each tenant's runner needs its own identity",
        );
        claim(
            w,
            "token Secret",
            &t.token_secret,
            span_of(&raw.token_secret),
            "each runner has its own authentication token",
        );
    }
    // A namespace has one Pod Security level: tenants that both create it must agree on it.
    let mut creators: BTreeMap<&str, &Tenant> = BTreeMap::new();
    for (raw, t) in tenants {
        for ns in &t.created_deploy_namespaces {
            match creators.get(ns.as_str()) {
                Some(first) if first.pod_security != t.pod_security => w.error(
                    &deploy_namespace_span(raw, ns),
                    format!(
                        "tenant `{}` creates namespace `{ns}` with Pod Security `{}`, but tenant `{}` creates it with `{}`: a namespace has one level",
                        t.name,
                        t.pod_security.as_str(),
                        first.name,
                        first.pod_security.as_str()
                    ),
                    Some("give the tenants the same pod_security, or let one of them create it (the other lists it as a plain name)".to_owned()),
                ),
                Some(_) => {}
                None => {
                    creators.insert(ns, t);
                }
            }
        }
    }
    // A tenant deploying into another tenant's job namespace reaches that tenant's jobs.
    for (raw, t) in tenants {
        for (_, other) in tenants.iter().filter(|(_, o)| o.name != t.name) {
            if t.deploy_namespaces.contains(&other.job_namespace) {
                let span = deploy_namespace_span(raw, &other.job_namespace);
                w.error(
                    &span,
                    format!(
                        "tenant `{}` deploys into `{}`, the job namespace of tenant `{}`: its CI jobs would reach the other tenant's jobs",
                        t.name, other.job_namespace, other.name
                    ),
                    None,
                );
            }
        }
    }
}

/// Where `raw` lists deploy namespace `namespace` (the tenant's section when it does not).
fn deploy_namespace_span(raw: &Sp<RawTenant>, namespace: &str) -> Range<usize> {
    raw.deploy_namespaces
        .as_ref()
        .and_then(|l| {
            l.value
                .iter()
                .filter_map(Sp::name)
                .find(|n| n.value == namespace)
        })
        .map_or(raw.span.clone(), |n| n.span)
}
