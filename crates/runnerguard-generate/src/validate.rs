//! `runnerguard.toml` as read ([`ConfigFile`]) → [`Config`]: defaults filled in, and every
//! check a generated setup relies on, each failure a diagnostic at the value that caused it.

use std::collections::BTreeMap;
use std::ops::Range;

use runnerguard_config::{
    ConfigDiagnostic, ConfigFile, Source, Spanned as Sp, TOKEN_HELP, Tenant as RawTenant,
};

use crate::config::{
    CHART_VERSION, ContainerResources, DeployAccess, ExecutorFeature, JobAccess, JobSecurity,
    PodSecurityLevel, Quota, Resources, Tenant, default_config, default_tenant,
};
use crate::quantity::{self, Kind};
use crate::{Config, RunnerVersion};

/// The problems found so far, placed in the file.
pub(crate) struct Checks<'a> {
    source: &'a Source<'a>,
    problems: Vec<ConfigDiagnostic>,
}

impl Checks<'_> {
    /// Records a problem at `span`.
    fn error(&mut self, span: &Range<usize>, message: String, help: Option<String>) {
        self.problems.push(self.source.error(span, message, help));
    }
}

/// Namespaces that belong to Kubernetes itself: no tenant or manager goes there.
const SYSTEM_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

/// The oldest runner version whose executor needs this build knows.
const OLDEST: (u32, u32) = (17, 0);
/// The newest runner version whose executor needs and keys this build knows.
const NEWEST: (u32, u32) = (18, 11);

/// Checks `raw` (read from `source`) and fills in defaults: the configuration, or every
/// problem found, sorted by place.
pub(crate) fn validate(
    raw: &ConfigFile,
    source: &Source<'_>,
) -> Result<Config, Vec<ConfigDiagnostic>> {
    let mut checks = Checks {
        source,
        problems: Vec::new(),
    };
    let config = check(raw, &mut checks);
    if checks.problems.is_empty() {
        Ok(config)
    } else {
        let mut problems = checks.problems;
        problems.sort_by_key(|d| (d.line, d.column));
        Err(problems)
    }
}

fn check(raw: &ConfigFile, w: &mut Checks<'_>) -> Config {
    let mut config = default_config();
    let m = &raw.manager;
    if let Some(ns) = &m.namespace
        && namespace_ok(w, ns, "manager namespace")
    {
        config.manager_namespace.clone_from(&ns.value);
    }
    if let Some(url) = &m.gitlab_url
        && url_ok(w, url)
    {
        config.gitlab_url.clone_from(&url.value);
    }
    if let Some(v) = &m.runner_version {
        match v.value.parse::<RunnerVersion>() {
            Ok(version) if version.minor_version() < OLDEST || version.minor_version() > NEWEST => {
                w.error(
                    &v.span,
                    format!(
                        "runner version `{}` is not one this build knows the executor's needs for",
                        v.value
                    ),
                    Some(format!(
                        "use a version from {}.{} to {}.{}",
                        OLDEST.0, OLDEST.1, NEWEST.0, NEWEST.1
                    )),
                );
            }
            Ok(version) => config.runner_version = version,
            Err(e) => w.error(&v.span, e, None),
        }
    }
    if let Some(v) = &m.chart_version {
        if v.value.trim_start_matches('v') == CHART_VERSION {
            CHART_VERSION.clone_into(&mut config.chart_version);
        } else {
            w.error(
                &v.span,
                format!(
                    "chart version `{}` is not one this build knows the values keys of",
                    v.value
                ),
                Some(format!("use chart_version = \"{CHART_VERSION}\"")),
            );
        }
    }

    if let Some(tenants) = &raw.tenants {
        if tenants.value.is_empty() {
            w.error(
                &tenants.span,
                "`tenants` is empty: there is nothing to generate".to_owned(),
                Some("add a `[[tenants]]` section, or remove `tenants` for the default tenant `teams`".to_owned()),
            );
        }
        let several = tenants.value.len() > 1;
        let checked: Vec<(&Sp<RawTenant>, Tenant)> = tenants
            .value
            .iter()
            .filter_map(|raw| tenant(w, raw, several, &config).map(|t| (raw, t)))
            .collect();
        check_across(w, &checked);
        config.tenants = checked.into_iter().map(|(_, t)| t).collect();
    } else if let Some(ns) = &m.namespace
        && config
            .tenants
            .iter()
            .any(|t| t.job_namespace == ns.value || t.deploy_namespaces.contains(&ns.value))
    {
        w.error(
            &ns.span,
            format!(
                "`{}` is the default tenant's job namespace: jobs would run next to the runner token",
                ns.value
            ),
            Some("choose another manager namespace, or add a `[[tenants]]` section with its own job_namespace".to_owned()),
        );
    }
    config
}

/// One tenant, with its defaults; `None` when it has no usable name.
fn tenant(
    w: &mut Checks<'_>,
    raw: &Sp<RawTenant>,
    several: bool,
    config: &Config,
) -> Option<Tenant> {
    let Some(name) = &raw.name else {
        w.error(
            &raw.span,
            "a tenant needs a `name`".to_owned(),
            Some("add name = \"…\" (a DNS label, e.g. \"teams\")".to_owned()),
        );
        return None;
    };
    if !dns_label_ok(w, name, "tenant name") {
        return None;
    }
    if name.value == "manager" {
        w.error(
            &name.span,
            "tenant name `manager` is reserved (the output directory of the manager namespace)"
                .to_owned(),
            None,
        );
        return None;
    }
    let mut t = default_tenant(&name.value, several);
    let version = config.runner_version;

    if let Some(ns) = &raw.job_namespace
        && namespace_ok(w, ns, "job namespace")
    {
        t.job_namespace.clone_from(&ns.value);
    }
    if t.job_namespace == config.manager_namespace {
        let span = raw.job_namespace.as_ref().map_or(&name.span, |s| &s.span);
        w.error(
            span,
            format!(
                "the job namespace of tenant `{}` is the manager namespace `{}`: jobs would run next to the runner token",
                t.name, config.manager_namespace
            ),
            Some("give the tenant a job namespace of its own".to_owned()),
        );
    }

    if let Some(d) = &raw.deploy {
        t.deploy = d.value;
    }
    if let Some(list) = &raw.deploy_namespaces {
        for entry in &list.value {
            // An entry without a name was reported when the file was read.
            let Some(ns) = &entry.name() else {
                continue;
            };
            if !namespace_ok(w, ns, "deploy namespace") {
                continue;
            }
            if ns.value == config.manager_namespace {
                w.error(
                    &ns.span,
                    format!(
                        "deploy namespace `{}` is the manager namespace: CI jobs must not reach it",
                        ns.value
                    ),
                    None,
                );
            } else if t.deploy_namespaces.contains(&ns.value) {
                w.error(
                    &ns.span,
                    format!("deploy namespace `{}` is listed twice", ns.value),
                    None,
                );
            } else {
                t.deploy_namespaces.push(ns.value.clone());
                match entry.create() {
                    // The job namespace is always created and labelled: `create = false`
                    // would read as a promise to leave it alone that the setup breaks.
                    Some(c) if !c.value && ns.value == t.job_namespace => w.error(
                        &c.span,
                        format!(
                            "`{}` is the job namespace of tenant `{}`, which the setup always creates and labels",
                            ns.value, t.name
                        ),
                        Some("remove `create = false`".to_owned()),
                    ),
                    Some(c) if c.value && ns.value != t.job_namespace => {
                        t.created_deploy_namespaces.push(ns.value.clone());
                    }
                    _ => {}
                }
            }
        }
        if !t.deploy && !list.value.is_empty() {
            w.error(
                &list.span,
                "`deploy_namespaces` is set but `deploy` is not true: CI jobs get no deploy identity".to_owned(),
                Some("set deploy = true, or remove deploy_namespaces".to_owned()),
            );
        }
    }
    if t.deploy && t.deploy_namespaces.is_empty() {
        let span = raw.deploy.as_ref().map_or(&raw.span, |d| &d.span);
        w.error(
            span,
            "`deploy = true` needs `deploy_namespaces`: where may CI jobs deploy?".to_owned(),
            Some(format!(
                "e.g. deploy_namespaces = [\"{}\"]",
                t.job_namespace
            )),
        );
    }

    let sa = |w: &mut Checks<'_>, field: &Option<Sp<String>>, target: &mut String, what: &str| {
        if let Some(s) = field
            && dns_subdomain_ok(w, s, what)
        {
            target.clone_from(&s.value);
        }
    };
    sa(
        w,
        &raw.job_service_account,
        &mut t.job_service_account,
        "job ServiceAccount",
    );
    sa(
        w,
        &raw.deployer_service_account,
        &mut t.deployer_service_account,
        "deployer ServiceAccount",
    );
    let explicit_secret = raw.token_secret.is_some();
    sa(
        w,
        &raw.manager_service_account,
        &mut t.manager_service_account,
        "manager ServiceAccount",
    );
    if !explicit_secret {
        t.token_secret = format!("{}-token", t.manager_service_account);
    }
    sa(w, &raw.token_secret, &mut t.token_secret, "token Secret");
    for (field, value, what) in [
        (
            &raw.job_service_account,
            &t.job_service_account,
            "job ServiceAccount",
        ),
        (
            &raw.manager_service_account,
            &t.manager_service_account,
            "manager ServiceAccount",
        ),
    ] {
        if value == "default" {
            let span = field.as_ref().map_or(&name.span, |s| &s.span);
            w.error(
                span,
                format!("the {what} must not be `default`: every pod of the namespace shares it"),
                None,
            );
        }
    }
    if t.deploy && t.deployer_service_account == t.job_service_account {
        let span = raw
            .deployer_service_account
            .as_ref()
            .or(raw.job_service_account.as_ref())
            .map_or(&name.span, |s| &s.span);
        w.error(
            span,
            format!(
                "the deployer ServiceAccount and the job ServiceAccount are both `{}`: every job would hold the deploy rights",
                t.job_service_account
            ),
            Some("give them different names".to_owned()),
        );
    }

    if let Some(groups) = &raw.developer_groups {
        for g in &groups.value {
            if g.value.trim().is_empty() {
                w.error(&g.span, "a developer group name is empty".to_owned(), None);
            } else if g.value.starts_with("system:") {
                w.error(
                    &g.span,
                    format!(
                        "`{}` is a Kubernetes system group: developer access is for people's groups",
                        g.value
                    ),
                    None,
                );
            } else if !t.developer_groups.contains(&g.value) {
                t.developer_groups.push(g.value.clone());
            }
        }
    }
    if let Some(a) = &raw.developer_job_access {
        match a.value.as_str() {
            "none" => t.developer_job_access = JobAccess::None,
            "view" => t.developer_job_access = JobAccess::View,
            "debug" => t.developer_job_access = JobAccess::Debug,
            other => one_of(
                w,
                &a.span,
                "developer_job_access",
                other,
                &["none", "view", "debug"],
            ),
        }
    }
    if let Some(a) = &raw.developer_deploy_access {
        match a.value.as_str() {
            "none" => t.developer_deploy_access = DeployAccess::None,
            "view" => t.developer_deploy_access = DeployAccess::View,
            "deploy" => t.developer_deploy_access = DeployAccess::Deploy,
            "edit" => w.error(
                &a.span,
                "`edit` lets developers read Secrets, impersonate every ServiceAccount of the namespace and request their tokens".to_owned(),
                Some("use \"deploy\" (view plus the deployer's rights on workload kinds), or bind `edit` yourself outside runnerguard".to_owned()),
            ),
            other => one_of(w, &a.span, "developer_deploy_access", other, &["none", "view", "deploy"]),
        }
    }
    if let Some(p) = &raw.pod_security {
        match p.value.as_str() {
            "baseline" => t.pod_security = PodSecurityLevel::Baseline,
            "restricted" => {
                t.pod_security = PodSecurityLevel::Restricted;
                if !version.at_least(18, 11) {
                    w.error(
                        &p.span,
                        format!(
                            "Pod Security `restricted` needs a seccomp profile on job pods, which runner {version} cannot set (`pod_security_context.seccomp_profile` came in 18.11)"
                        ),
                        Some("use pod_security = \"baseline\", or runner_version = \"18.11.0\" or later".to_owned()),
                    );
                }
            }
            "privileged" => w.error(
                &p.span,
                "Pod Security `privileged` would admit privileged job pods".to_owned(),
                Some("use \"baseline\" or \"restricted\"".to_owned()),
            ),
            other => one_of(
                w,
                &p.span,
                "pod_security",
                other,
                &["baseline", "restricted"],
            ),
        }
    }
    if let Some(image) = &raw.image {
        if image.value.trim().is_empty() || image.value.contains(char::is_whitespace) {
            w.error(
                &image.span,
                format!("`{}` is not an image reference", image.value),
                None,
            );
        } else {
            t.image.clone_from(&image.value);
        }
    }
    for (field, target) in [
        (&raw.allowed_images, &mut t.allowed_images),
        (&raw.allowed_services, &mut t.allowed_services),
    ] {
        if let Some(list) = field {
            for p in &list.value {
                if p.value.trim().is_empty() {
                    w.error(
                        &p.span,
                        "an empty image pattern allows nothing useful".to_owned(),
                        None,
                    );
                } else if !target.contains(&p.value) {
                    target.push(p.value.clone());
                }
            }
        }
    }
    if let Some(c) = &raw.concurrent {
        match u32::try_from(c.value) {
            Ok(n) if (1..=1000).contains(&n) => t.concurrent = n,
            _ => w.error(
                &c.span,
                format!("`concurrent` must be from 1 to 1000, not {}", c.value),
                None,
            ),
        }
    }
    if let Some(list) = &raw.executor_features {
        for f in &list.value {
            match ExecutorFeature::ALL.iter().find(|k| k.as_str() == f.value) {
                Some(&ExecutorFeature::PodDisruptionBudget) if !version.at_least(18, 10) => w.error(
                    &f.span,
                    format!("`pod_disruption_budget` needs runner 18.10 or later (the target is {version})"),
                    None,
                ),
                Some(k) => {
                    if !t.executor_features.contains(k) {
                        t.executor_features.push(*k);
                    }
                }
                None => {
                    let names: Vec<&str> = ExecutorFeature::ALL.iter().map(|k| k.as_str()).collect();
                    let help = match runnerguard_config::closest(&f.value, &names) {
                        Some(k) => format!("did you mean `{k}`?"),
                        None => format!("known features: {}", names.join(", ")),
                    };
                    w.error(&f.span, format!("unknown executor feature `{}`", f.value), Some(help));
                }
            }
        }
        t.executor_features.sort_unstable();
    }

    let r = &raw.resources;
    t.resources = Resources {
        build: container(w, &r.build, t.resources.build.clone(), "build"),
        helper: container(w, &r.helper, t.resources.helper.clone(), "helper"),
        service: container(w, &r.service, t.resources.service.clone(), "service"),
    };
    t.security = security(w, raw, t.security.clone(), t.pod_security);
    t.quota = quota(w, raw, t.quota.clone());
    Some(t)
}

/// Names each tenant must not share with another, checked in tenant order; and no tenant
/// may deploy into another's job namespace.
fn check_across(w: &mut Checks<'_>, tenants: &[(&Sp<RawTenant>, Tenant)]) {
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

fn container(
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
        if let Some(q) = field {
            match quantity::parse(&q.value, kind) {
                Ok(0) => w.error(&q.span, format!("`{}` is zero", q.value), None),
                Ok(_) => target.clone_from(&q.value),
                Err(e) => w.error(&q.span, e, None),
            }
        }
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

fn security(
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

fn quota(w: &mut Checks<'_>, raw: &RawTenant, mut q: Quota) -> Quota {
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
        if let Some(v) = field {
            match quantity::parse(&v.value, kind) {
                Ok(_) => target.clone_from(&v.value),
                Err(e) => w.error(&v.span, e, None),
            }
        }
    }
    q
}

fn one_of(w: &mut Checks<'_>, span: &Range<usize>, key: &str, value: &str, allowed: &[&str]) {
    w.error(
        span,
        format!("`{key}` cannot be `{value}`"),
        Some(format!(
            "use one of: {}",
            allowed
                .iter()
                .map(|a| format!("\"{a}\""))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    );
}

/// A DNS-1123 label (namespaces, tenant names): lowercase alphanumerics and `-`, at most
/// 63 characters, starting and ending alphanumeric.
fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn dns_label_ok(w: &mut Checks<'_>, s: &Sp<String>, what: &str) -> bool {
    if is_dns_label(&s.value) {
        return true;
    }
    w.error(
        &s.span,
        format!("`{}` is not a valid {what}", s.value),
        Some("use lowercase letters, digits and `-` (at most 63, starting and ending with a letter or digit)".to_owned()),
    );
    false
}

fn namespace_ok(w: &mut Checks<'_>, s: &Sp<String>, what: &str) -> bool {
    if !dns_label_ok(w, s, what) {
        return false;
    }
    if SYSTEM_NAMESPACES.contains(&s.value.as_str()) {
        w.error(
            &s.span,
            format!(
                "`{}` belongs to Kubernetes itself and cannot be the {what}",
                s.value
            ),
            Some("use a namespace of its own".to_owned()),
        );
        return false;
    }
    true
}

/// A DNS-1123 subdomain (ServiceAccount and Secret names): labels joined by `.`, at most
/// 253 characters.
fn dns_subdomain_ok(w: &mut Checks<'_>, s: &Sp<String>, what: &str) -> bool {
    if s.value.len() <= 253 && s.value.split('.').all(is_dns_label) {
        return true;
    }
    w.error(
        &s.span,
        format!("`{}` is not a valid {what} name", s.value),
        Some("use lowercase letters, digits, `-` and `.`".to_owned()),
    );
    false
}

fn url_ok(w: &mut Checks<'_>, url: &Sp<String>) -> bool {
    let u = url.value.trim();
    let Some(rest) = u
        .strip_prefix("https://")
        .or_else(|| u.strip_prefix("http://"))
    else {
        w.error(
            &url.span,
            format!("`{u}` is not a GitLab URL"),
            Some(
                "write the instance's address, e.g. gitlab_url = \"https://gitlab.example.com/\""
                    .to_owned(),
            ),
        );
        return false;
    };
    let host = rest.split('/').next().unwrap_or_default();
    if host.contains('@') {
        w.error(
            &url.span,
            "the GitLab URL carries credentials (`user:secret@`)".to_owned(),
            Some(TOKEN_HELP.to_owned()),
        );
        return false;
    }
    if host.is_empty() || u.contains(char::is_whitespace) {
        w.error(&url.span, format!("`{u}` has no host"), None);
        return false;
    }
    if u.starts_with("http://") {
        w.error(
            &url.span,
            "the GitLab URL uses plain http: the runner token and every job's secrets would cross the network unencrypted".to_owned(),
            Some("use https://".to_owned()),
        );
        return false;
    }
    true
}
