//! RG115 `job-resources-unbounded`: build, helper or service containers have no CPU/memory limits
//! and the job namespace has no LimitRange.

use runnerguard_model::ObjectRef;

use super::Source;
use crate::rules::common::and_list;
use crate::{Context, Finding, Rule, RuleMeta, declare_rule};

declare_rule! {
    /// ## What it flags
    /// A runner configuration (a `[[runners]]` entry, or the chart's default
    /// `runners.config` when the values set none) that leaves the CPU or memory limit of a
    /// job pod's containers unset: `cpu_limit`/`memory_limit` (build container),
    /// `helper_cpu_limit`/`helper_memory_limit`, `service_cpu_limit`/`service_memory_limit`,
    /// while the job namespace has no LimitRange giving containers a default or maximum CPU
    /// and memory limit. Pod-level `pod_cpu_limit`/`pod_memory_limit` (runner 18.10+) bound
    /// every container and count for all three. One finding per runner configuration, listing
    /// what is missing.
    ///
    /// ## Why it matters
    /// A container without limits may use all the CPU and memory of its node. One runaway
    /// or malicious job (a fork bomb, a crypto miner, a test that leaks memory) then starves
    /// other tenants' jobs and the workloads sharing the node, and memory pressure makes the
    /// kubelet evict pods, possibly the runner manager's. Limits set in the chart's top-level
    /// `resources` apply to the manager pod only, and a `runners.kubernetes.resources` block
    /// is ignored by the chart (RG107).
    ///
    /// ## How to fix
    /// Set the limits under `[runners.kubernetes]` in `runners.config`, or give the job
    /// namespace a LimitRange with `default` (and `max`) CPU and memory for `Container`, so
    /// that every container the runner creates gets limits even when a key is forgotten.
    ///
    /// ## Example
    /// ```toml
    /// [[runners]]
    ///   [runners.kubernetes]
    ///     namespace = "teams"
    ///     cpu_limit = "1"
    ///     memory_limit = "1Gi"
    ///     # helper_* and service_* limits unset: flagged (unless `teams` has a LimitRange)
    /// ```
    pub(crate) struct JobResourcesUnbounded {
        id: "RG115",
        name: "job-resources-unbounded",
        severity: Low,
        summary: "build, helper or service containers have no CPU/memory limits and the job namespace has no LimitRange",
        remediation: "set cpu_limit/memory_limit (and helper_/service_ variants) in [runners.kubernetes], or a LimitRange in the job namespace",
    }
}

/// The job pod's containers and their limit keys.
const LIMITS: [(&str, &str, &str); 3] = [
    ("build", "cpu_limit", "memory_limit"),
    ("helper", "helper_cpu_limit", "helper_memory_limit"),
    ("service", "service_cpu_limit", "service_memory_limit"),
];

impl Source<'_> {
    fn is_set(&self, key: &str) -> bool {
        // A non-string (a TOML number) is a type error to the runner, not a missing limit.
        self.settings
            .iter()
            .find(|s| s.key == key)
            .is_some_and(|s| s.value.as_str().is_none_or(|v| !v.trim().is_empty()))
    }

    /// The limit keys left unset, as `build (cpu_limit, memory_limit)`.
    fn missing(&self) -> Vec<String> {
        let pod_cpu = self.is_set("pod_cpu_limit");
        let pod_memory = self.is_set("pod_memory_limit");
        let mut out = Vec::new();
        for (container, cpu, memory) in LIMITS {
            let keys: Vec<&str> = [(cpu, pod_cpu), (memory, pod_memory)]
                .into_iter()
                .filter(|(k, pod)| !pod && !self.is_set(k))
                .map(|(k, _)| k)
                .collect();
            if !keys.is_empty() {
                out.push(format!("{container} ({})", keys.join(", ")));
            }
        }
        out
    }
}

impl Rule for JobResourcesUnbounded {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        // The LimitRanges by namespace, each with its input position, indexed once (issue #9
        // C3: a scan of every LimitRange per runner entry was quadratic).
        let in_namespace = |ns: &str| cx.limit_ranges_in(ns);
        // A configuration that names its namespace is found the same under every setup:
        // looked at under the first only (a scan of every one per setup was quadratic).
        let sources = cx.sources();
        let todo = cx.once_or_again(self.meta().id, sources.len(), |i| {
            sources.get(i).is_some_and(|s| s.namespace.is_none())
        });
        for src in todo.into_iter().filter_map(|i| sources.get(i)) {
            let missing = src.missing();
            if missing.is_empty() {
                continue;
            }
            // The namespace its jobs run in; when the configuration names none, every job
            // namespace of the topology (the fallback is one of them).
            let namespaces: Vec<&str> = match src.namespace {
                Some(n) => vec![n],
                None => cx.job_namespaces().to_vec(),
            };
            let unbounded: Vec<&str> = namespaces
                .into_iter()
                .filter(|ns| !in_namespace(ns).iter().any(|(_, l)| l.container_limits))
                .collect();
            if unbounded.is_empty() {
                continue;
            }
            let ns_list = unbounded
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let mut f = Finding::new(
                self.meta(),
                format!(
                    "{} leaves CPU/memory limits unset for the {} container{}, and {ns_list} {} no LimitRange that gives containers limits: a job may use all of its node",
                    src.name,
                    and_list(&missing),
                    if missing.len() == 1 { "" } else { "s" },
                    if unbounded.len() == 1 { "has" } else { "have" }
                ),
            )
            .location(src.what, src.at.clone());
            // In input order, as a scan of every LimitRange would list them.
            let mut others: Vec<(usize, &ObjectRef)> = unbounded
                .iter()
                .flat_map(|ns| in_namespace(ns))
                .map(|(i, l)| (*i, &l.object))
                .collect();
            others.sort_unstable_by_key(|(i, _)| *i);
            let others = others.into_iter().map(|(_, o)| o);
            for l in others {
                f = f.object(l.clone()).fact(format!(
                    "LimitRange `{}` sets no default or maximum CPU and memory for containers",
                    crate::qualified(&l.namespace, &l.name)
                ));
            }
            out.push(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use runnerguard_model::SettingValue;
    use runnerguard_model::{Origin, Setting};

    use super::*;

    fn s(key: &str, value: &str) -> Setting {
        Setting {
            key: key.to_owned(),
            value: SettingValue::String(value.to_owned()),
            origin: Origin::default(),
        }
    }

    fn missing(settings: &[Setting]) -> Vec<String> {
        Source {
            name: String::new(),
            what: "",
            settings,
            at: Origin::default(),
            namespace: None,
        }
        .missing()
    }

    #[test]
    fn lists_what_is_missing() {
        assert_eq!(missing(&[]).len(), 3);
        assert_eq!(
            missing(&[
                s("cpu_limit", "1"),
                s("memory_limit", ""),
                s("helper_cpu_limit", "1"),
                s("helper_memory_limit", "1Gi")
            ]),
            [
                "build (memory_limit)",
                "service (service_cpu_limit, service_memory_limit)"
            ]
        );
        assert!(missing(&[s("pod_cpu_limit", "2"), s("pod_memory_limit", "2Gi")]).is_empty());
        assert_eq!(missing(&[s("pod_cpu_limit", "2")]).len(), 3);
    }
}
