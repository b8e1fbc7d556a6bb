//! What a tenant's job pods may use and run as: container resources, the security context
//! and the namespace's quota.

use runnerguard_config::{Checks, Spanned as Sp, Tenant as RawTenant};

use crate::config::{ContainerResources, JobSecurity, PodSecurityLevel, Quota};
use crate::quantity::{self, Kind};

pub(super) fn container(
    w: &mut Checks<'_>,
    raw: &runnerguard_config::Container,
    mut c: ContainerResources,
    name: &str,
) -> ContainerResources {
    for (field, target, kind) in [
        (&raw.cpu_request, &mut c.cpu_request, Kind::Cpu),
        (&raw.cpu_limit, &mut c.cpu_limit, Kind::Cpu),
        (&raw.memory_request, &mut c.memory_request, Kind::Memory),
        (&raw.memory_limit, &mut c.memory_limit, Kind::Memory),
    ] {
        quantity_field(w, field.as_ref(), target, kind, false);
    }
    for (request, limit, rspan, kind, what) in [
        (
            &c.cpu_request,
            &c.cpu_limit,
            raw.cpu_request.as_ref().or(raw.cpu_limit.as_ref()),
            Kind::Cpu,
            "CPU",
        ),
        (
            &c.memory_request,
            &c.memory_limit,
            raw.memory_request.as_ref().or(raw.memory_limit.as_ref()),
            Kind::Memory,
            "memory",
        ),
    ] {
        if let (Ok(r), Ok(l), Some(span)) = (
            quantity::parse(request, kind),
            quantity::parse(limit, kind),
            rspan,
        ) && r > l
        {
            w.error(
                &span.span,
                format!(
                    "the {name} container's {what} request `{request}` is above its limit `{limit}`"
                ),
                None,
            );
        }
    }
    c
}

pub(super) fn security(
    w: &mut Checks<'_>,
    raw: &Sp<RawTenant>,
    mut s: JobSecurity,
    level: PodSecurityLevel,
) -> JobSecurity {
    let r = &raw.security_context;
    if let Some(b) = &r.run_as_non_root {
        s.run_as_non_root = b.value;
        if !b.value && level == PodSecurityLevel::Restricted {
            w.error(
                &b.span,
                "Pod Security `restricted` rejects pods that may run as root".to_owned(),
                Some("set run_as_non_root = true, or pod_security = \"baseline\"".to_owned()),
            );
        }
    }
    for (field, target, what) in [
        (&r.run_as_user, &mut s.run_as_user, "run_as_user"),
        (&r.run_as_group, &mut s.run_as_group, "run_as_group"),
        (&r.fs_group, &mut s.fs_group, "fs_group"),
    ] {
        if let Some(id) = field {
            if (0..=i64::from(i32::MAX)).contains(&id.value) {
                *target = Some(id.value);
            } else {
                w.error(
                    &id.span,
                    format!("`{what}` must be from 0 to 2147483647, not {}", id.value),
                    None,
                );
            }
        }
    }
    if s.run_as_non_root && s.run_as_user == Some(0) {
        let span = r.run_as_user.as_ref().map_or(&raw.span, |u| &u.span);
        w.error(
            span,
            "`run_as_user = 0` is root, and `run_as_non_root = true` rejects it: job pods would not start".to_owned(),
            None,
        );
    }
    s
}

pub(super) fn quota(w: &mut Checks<'_>, raw: &RawTenant, mut q: Quota) -> Quota {
    let r = &raw.quota;
    if let Some(p) = &r.pods {
        match u32::try_from(p.value) {
            Ok(n) if n >= 1 => q.pods = n,
            _ => w.error(
                &p.span,
                format!("`pods` must be at least 1, not {}", p.value),
                None,
            ),
        }
    }
    for (field, target, kind) in [
        (&r.requests_cpu, &mut q.requests_cpu, Kind::Cpu),
        (&r.requests_memory, &mut q.requests_memory, Kind::Memory),
        (&r.limits_cpu, &mut q.limits_cpu, Kind::Cpu),
        (&r.limits_memory, &mut q.limits_memory, Kind::Memory),
    ] {
        quantity_field(w, field.as_ref(), target, kind, true);
    }
    q
}

/// Takes a quantity the config gives into `target`, or reports why it cannot: not a
/// quantity of `kind`, or zero where zero is not allowed.
fn quantity_field(
    w: &mut Checks<'_>,
    field: Option<&Sp<String>>,
    target: &mut String,
    kind: Kind,
    zero_allowed: bool,
) {
    let Some(q) = field else {
        return;
    };
    match quantity::parse(&q.value, kind) {
        Ok(0) if !zero_allowed => w.error(&q.span, format!("`{}` is zero", q.value), None),
        Ok(_) => target.clone_from(&q.value),
        Err(e) => w.error(&q.span, e, None),
    }
}
