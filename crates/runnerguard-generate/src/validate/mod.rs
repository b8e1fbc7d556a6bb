//! `runnerguard.toml` as read ([`ConfigFile`]) → [`Config`]: defaults filled in, and every
//! check a generated setup relies on, each failure a diagnostic at the value that caused it.

mod across;
mod limits;

use runnerguard_config::{
    Checks, ConfigDiagnostic, ConfigFile, Source, Spanned as Sp, Tenant as RawTenant,
};
use runnerguard_model::executor;

use self::across::check_across;
use self::limits::{container, quota, security};
use crate::config::{
    CHART_VERSION, DeployAccess, ExecutorFeature, JobAccess, PodSecurityLevel, Resources, Tenant,
    default_config, default_tenant,
};
use crate::{Config, RunnerVersion};

/// Checks `raw` (read from `source`) and fills in defaults: the configuration, or every
/// problem found, sorted by place.
pub(crate) fn validate(
    raw: &ConfigFile,
    source: &Source<'_>,
) -> Result<Config, Vec<ConfigDiagnostic>> {
    let mut checks = Checks::new(source);
    let config = check(raw, &mut checks);
    checks.finish(config)
}

fn check(raw: &ConfigFile, w: &mut Checks<'_>) -> Config {
    let mut config = default_config();
    let m = &raw.manager;
    if let Some(ns) = &m.namespace
        && w.namespace(ns, "manager namespace")
    {
        config.manager_namespace.clone_from(&ns.value);
    }
    if let Some(url) = &m.gitlab_url
        && w.gitlab_url(url)
    {
        config.gitlab_url.clone_from(&url.value);
    }
    if let Some(v) = &m.runner_version {
        match v.value.parse::<RunnerVersion>() {
            Ok(version) => {
                let minor = executor::RunnerVersion::new(version.major, version.minor);
                match executor::known_versions() {
                    Ok(known) if known.contains(&minor) => config.runner_version = version,
                    Ok(known) => w.error(
                        &v.span,
                        format!(
                            "runner version `{}` is not one this build knows the executor's needs for",
                            v.value
                        ),
                        Some(format!(
                            "use a version from {} to {}",
                            known.start(),
                            known.end()
                        )),
                    ),
                    Err(e) => w.error(&v.span, e.to_string(), None),
                }
            }
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
    if !w.dns_label(name, "tenant name") {
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
    namespaces(w, raw, name, &mut t, config);
    identities(w, raw, name, &mut t);
    access(w, raw, &mut t);
    jobs(w, raw, &mut t, config.runner_version);

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

/// The tenant's job namespace, and where and whether its CI jobs deploy.
fn namespaces(
    w: &mut Checks<'_>,
    raw: &Sp<RawTenant>,
    name: &Sp<String>,
    t: &mut Tenant,
    config: &Config,
) {
    if let Some(ns) = &raw.job_namespace
        && w.namespace(ns, "job namespace")
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
            if !w.namespace(ns, "deploy namespace") {
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
}

/// The ServiceAccounts of the tenant's jobs, deployer and manager, and its token Secret.
fn identities(w: &mut Checks<'_>, raw: &Sp<RawTenant>, name: &Sp<String>, t: &mut Tenant) {
    let sa = |w: &mut Checks<'_>, field: &Option<Sp<String>>, target: &mut String, what: &str| {
        if let Some(s) = field
            && w.dns_subdomain(s, what)
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
}

/// What the tenant's developer groups get.
fn access(w: &mut Checks<'_>, raw: &Sp<RawTenant>, t: &mut Tenant) {
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
            other => w.one_of(
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
            other => w.one_of(&a.span, "developer_deploy_access", other, &["none", "view", "deploy"]),
        }
    }
}

/// What the tenant's jobs may be: Pod Security, images, concurrency, executor features.
fn jobs(w: &mut Checks<'_>, raw: &Sp<RawTenant>, t: &mut Tenant, version: RunnerVersion) {
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
            other => w.one_of(&p.span, "pod_security", other, &["baseline", "restricted"]),
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
}

#[cfg(test)]
mod tests {
    use crate::parse_config;

    /// The span of accepted runner versions is the executor data's: both ends are accepted,
    /// one minor release past either is refused, and the help names the span.
    #[test]
    fn runner_versions_are_those_of_the_executor_data() {
        let with =
            |v: &str| parse_config("x.toml", &format!("[manager]\nrunner_version = \"{v}\"\n"));
        assert_eq!(with("17.0").map(|c| c.runner_version.minor), Ok(0));
        assert_eq!(with("18.11.2").map(|c| c.runner_version.patch), Ok(2));
        for outside in ["16.11", "18.12"] {
            let e = with(outside).expect_err(outside);
            assert_eq!(
                e[0].message,
                format!(
                    "runner version `{outside}` is not one this build knows the executor's needs for"
                )
            );
            assert_eq!(
                e[0].help.as_deref(),
                Some("use a version from 17.0 to 18.11")
            );
        }
    }
}
