//! RG110 `job-overwrite-allowed`: a job can choose its namespace, ServiceAccount or API token, or
//! its pod's labels, annotations and nodes.

use std::cell::OnceCell;

use runnerguard_engine::Action;
use runnerguard_model::{RunnerEntry, SettingValue, Workload};

use crate::{Context, Finding, Rule, RuleMeta, Severity, declare_rule};

declare_rule! {
    /// ## What it flags
    /// A runner's `[runners.kubernetes]` settings (or the manager's environment, from which
    /// `gitlab-runner register` takes them) that let a CI job change where and as whom its
    /// pod runs, through job variables:
    ///
    /// - high: `namespace_overwrite_allowed` (job variable `KUBERNETES_NAMESPACE_OVERWRITE`)
    ///   or `service_account_overwrite_allowed` (`KUBERNETES_SERVICE_ACCOUNT_OVERWRITE`) set
    ///   to a regular expression, or `bearer_token_overwrite_allowed = true`
    ///   (`KUBERNETES_BEARER_TOKEN`);
    /// - medium: `pod_labels_overwrite_allowed`, `pod_annotations_overwrite_allowed`,
    ///   `node_selector_overwrite_allowed` or `node_tolerations_overwrite_allowed` set, which
    ///   let a job label, annotate and place its pod.
    ///
    /// The `*_overwrite_max_allowed` resource keys are not flagged: the runner treats each as
    /// a hard cap (a job asking for more fails; empty disables the overwrite), so none can be
    /// unbounded. Missing limits are RG115's concern.
    ///
    /// ## Why it matters
    /// Whoever can push to a project controls its job variables. With the namespace overwrite
    /// a job moves its pod into any namespace the manager may create pods in (the manager's
    /// own, another tenant's); with the ServiceAccount overwrite it runs as any
    /// ServiceAccount there and gets its token and rights; with the bearer-token overwrite
    /// the runner talks to the API server with a token the job supplies. Each undoes the
    /// isolation the runner's configuration was meant to give. The patterns are Go regular
    /// expressions matched anywhere in the value unless written `^...$`: `ci-` also matches
    /// `kube-ci-system`. Labels can make a job pod match NetworkPolicies and Services written
    /// for other pods; annotations drive controllers and webhooks (cloud IAM roles, sidecar
    /// injection); node selectors and tolerations put the pod on other tenants' or system
    /// nodes.
    ///
    /// ## How to fix
    /// Leave every `*_overwrite_allowed` key empty (or unset) and
    /// `bearer_token_overwrite_allowed = false`. Where teams need different namespaces or
    /// identities, give each its own runner (one Helm release per tenant) instead. If an
    /// overwrite must stay, anchor its pattern (`^ci-[a-z0-9-]+$`).
    ///
    /// ## Example
    /// ```toml
    /// [[runners]]
    ///   [runners.kubernetes]
    ///     namespace = "teams"
    ///     namespace_overwrite_allowed = "ci-.*"         # flagged: unanchored
    ///     service_account_overwrite_allowed = ".*"      # flagged: any ServiceAccount
    ///     bearer_token_overwrite_allowed = true         # flagged
    /// ```
    pub(crate) struct JobOverwriteAllowed {
        id: "RG110",
        name: "job-overwrite-allowed",
        severity: High,
        summary: "a job can choose its namespace, ServiceAccount or API token, or its pod's labels, annotations and nodes",
        remediation: "leave every *_overwrite_allowed key empty and set bearer_token_overwrite_allowed = false; give tenants separate runners instead",
    }
}

/// One overwrite switch: the TOML key, the manager environment variable that sets it at
/// registration, the job variable it opens, what a job gains, and how bad that is.
struct Overwrite {
    key: &'static str,
    env: &'static str,
    job_variable: &'static str,
    effect: &'static str,
    severity: Severity,
}

const REGEX_OVERWRITES: &[Overwrite] = &[
    Overwrite {
        key: "namespace_overwrite_allowed",
        env: "KUBERNETES_NAMESPACE_OVERWRITE_ALLOWED",
        job_variable: "KUBERNETES_NAMESPACE_OVERWRITE",
        effect: "a job may run its pod in any namespace the pattern matches where the manager may create pods",
        severity: Severity::High,
    },
    Overwrite {
        key: "service_account_overwrite_allowed",
        env: "KUBERNETES_SERVICE_ACCOUNT_OVERWRITE_ALLOWED",
        job_variable: "KUBERNETES_SERVICE_ACCOUNT_OVERWRITE",
        effect: "a job may run as any ServiceAccount of its namespace the pattern matches, with that ServiceAccount's token and rights",
        severity: Severity::High,
    },
    Overwrite {
        key: "pod_labels_overwrite_allowed",
        env: "KUBERNETES_POD_LABELS_OVERWRITE_ALLOWED",
        job_variable: "KUBERNETES_POD_LABELS_*",
        effect: "a job may label its pod, and so match NetworkPolicies, Services and admission rules written for other pods",
        severity: Severity::Medium,
    },
    Overwrite {
        key: "pod_annotations_overwrite_allowed",
        env: "KUBERNETES_POD_ANNOTATIONS_OVERWRITE_ALLOWED",
        job_variable: "KUBERNETES_POD_ANNOTATIONS_*",
        effect: "a job may annotate its pod, and so steer controllers and webhooks that act on annotations (cloud IAM roles, sidecar injection)",
        severity: Severity::Medium,
    },
    Overwrite {
        key: "node_selector_overwrite_allowed",
        env: "KUBERNETES_NODE_SELECTOR_OVERWRITE_ALLOWED",
        job_variable: "KUBERNETES_NODE_SELECTOR_*",
        effect: "a job may choose the nodes its pod runs on (other tenants' or system nodes)",
        severity: Severity::Medium,
    },
    Overwrite {
        key: "node_tolerations_overwrite_allowed",
        env: "KUBERNETES_NODE_TOLERATIONS_OVERWRITE_ALLOWED",
        job_variable: "KUBERNETES_NODE_TOLERATIONS_*",
        effect: "a job may tolerate taints, and so run on nodes reserved for others (control plane, dedicated pools)",
        severity: Severity::Medium,
    },
];

const BEARER: Overwrite = Overwrite {
    key: "bearer_token_overwrite_allowed",
    env: "KUBERNETES_BEARER_TOKEN_OVERWRITE_ALLOWED",
    job_variable: "KUBERNETES_BEARER_TOKEN",
    effect: "a job may hand the runner a Kubernetes API token of its own, which the runner then uses to create and run the job's pod",
    severity: Severity::High,
};

/// What a Go regular expression pattern lets through, for the message.
fn pattern_note(pattern: &str) -> Option<&'static str> {
    const ANY: &[&str] = &[
        ".*", ".+", "^.*$", "^.+$", "^.*", "^.+", ".*$", ".+$", "(.*)", "(.+)",
    ];
    if ANY.contains(&pattern) {
        Some("the pattern matches every value")
    } else if !(pattern.starts_with('^') && pattern.ends_with('$')) {
        Some(
            "the pattern is not anchored (`^...$`): Go matches it anywhere in the value, so more values pass than it seems",
        )
    } else {
        None
    }
}

/// `strconv.ParseBool`, which the runner uses for boolean environment variables.
fn go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// How a `[[runners]]` entry is named in messages.
fn entry_name(entry: &RunnerEntry) -> String {
    match &entry.name {
        Some(n) => format!("runner `{n}`"),
        None => format!("the [[runners]] entry at {}", entry.origin),
    }
}

impl JobOverwriteAllowed {
    /// Where the manager may create pods: the namespaces a job can move to with the
    /// namespace overwrite. "every namespace" when a cluster-wide grant allows it.
    fn pod_namespaces(cx: &Context<'_>) -> String {
        let manager = cx.manager();
        let may_create = |ns: &str| {
            cx.policy
                .authorize(
                    &manager,
                    &Action::resource("create", ns, "", "pods", "", ""),
                )
                .allowed
        };
        // The empty namespace asks for all namespaces at once (`-A`): only a cluster-wide
        // grant allows that.
        if may_create("") {
            return "the manager may create pods in every namespace (a cluster-wide grant)"
                .to_owned();
        }
        let mut names: Vec<&str> = cx
            .objects()
            .namespaces
            .iter()
            .map(|n| n.name.as_str())
            .chain(cx.policy.bindings().iter().map(|b| b.namespace.as_str()))
            .chain(std::iter::once(cx.topology.manager_namespace.as_str()))
            .chain(cx.job_namespaces().iter().copied())
            .filter(|n| !n.is_empty())
            .collect();
        names.sort_unstable();
        names.dedup();
        let allowed: Vec<String> = names
            .into_iter()
            .filter(|n| may_create(n))
            .map(|n| format!("`{n}`"))
            .collect();
        if allowed.is_empty() {
            "the inputs grant the manager pod creation in no namespace".to_owned()
        } else {
            format!("the manager may create pods in {}", allowed.join(", "))
        }
    }

    /// A finding for an overwrite pattern; `what` says where it is set.
    fn regex_finding(
        self,
        cx: &Context<'_>,
        pods: &OnceCell<String>,
        o: &Overwrite,
        pattern: &str,
        what: &str,
        first_step: Option<String>,
    ) -> Finding {
        let mut f = Finding::new(
            self.meta(),
            format!(
                "{what} lets jobs overwrite with `{}`: {}",
                o.job_variable, o.effect
            ),
        )
        .severity(o.severity)
        .remediation(format!(
            "set `{} = \"\"` (or remove it): empty disables the overwrite",
            o.key
        ));
        if let Some(step) = first_step {
            f = f.fact(step);
        }
        if let Some(note) = pattern_note(pattern) {
            f = f.fact(note);
        }
        if o.key == "namespace_overwrite_allowed" {
            // Worked out once per check: it asks about every namespace (issue #9 C3).
            f = f.fact(pods.get_or_init(|| Self::pod_namespaces(cx)).clone());
        }
        f
    }

    fn check_entry(
        self,
        cx: &Context<'_>,
        pods: &OnceCell<String>,
        entry: &RunnerEntry,
        out: &mut Vec<Finding>,
    ) {
        for o in REGEX_OVERWRITES {
            let Some(s) = entry.kube(o.key) else {
                continue;
            };
            let Some(pattern) = s.value.as_str().filter(|p| !p.is_empty()) else {
                continue;
            };
            let f = self
                .regex_finding(
                    cx,
                    pods,
                    o,
                    pattern,
                    &format!("`{} = {pattern:?}`", o.key),
                    Some(format!("set for {}", entry_name(entry))),
                )
                .location(o.key, s.origin.clone());
            out.push(f);
        }
        if let Some(s) = entry.kube(BEARER.key)
            && s.value == SettingValue::Bool(true)
        {
            out.push(
                Finding::new(
                    self.meta(),
                    format!(
                        "`{} = true` lets jobs overwrite with `{}`: {}",
                        BEARER.key, BEARER.job_variable, BEARER.effect
                    ),
                )
                .location(BEARER.key, s.origin.clone())
                .fact(format!("set for {}", entry_name(entry)))
                .remediation(format!("set `{} = false` (the default)", BEARER.key)),
            );
        }
    }

    fn check_workload(
        self,
        cx: &Context<'_>,
        pods: &OnceCell<String>,
        w: &Workload,
        out: &mut Vec<Finding>,
    ) {
        let name = format!(
            "{} `{}`",
            w.object.kind,
            crate::qualified(&w.object.namespace, &w.object.name)
        );
        let env = |var: &str| {
            w.containers
                .iter()
                .flat_map(|c| &c.env)
                .find(|e| e.name == var)
        };
        for o in REGEX_OVERWRITES {
            let Some(var) = env(o.env) else {
                continue;
            };
            let f = match var.value.as_deref() {
                Some("") => continue,
                Some(pattern) => {
                    self.regex_finding(cx, pods, o, pattern, &format!("{name} sets `{}={pattern}`, which", o.env), None)
                }
                // Not on the loader's list of plain variables, or from a reference: the value
                // is not known, only that it is set.
                None => Finding::new(
                    self.meta(),
                    format!(
                        "{name} sets `{}` (value not read): unless it is empty, jobs may overwrite with `{}`: {}",
                        o.env, o.job_variable, o.effect
                    ),
                )
                .severity(o.severity),
            };
            out.push(
                f.object(w.object.clone())
                    .fact(format!(
                        "`gitlab-runner register` writes `{}` into the runner's config.toml as `{}`",
                        o.env, o.key
                    ))
                    .remediation(format!("remove `{}` from the manager's environment", o.env)),
            );
        }
        if let Some(var) = env(BEARER.env) {
            let known = var.value.as_deref().map(go_bool);
            if matches!(known, Some(Some(false))) {
                return;
            }
            let shown = var.value.as_deref().unwrap_or("value not read");
            out.push(
                Finding::new(
                    self.meta(),
                    format!(
                        "{name} sets `{}` ({shown}): jobs may overwrite with `{}`: {}",
                        BEARER.env, BEARER.job_variable, BEARER.effect
                    ),
                )
                .object(w.object.clone())
                .fact(format!(
                    "`gitlab-runner register` writes `{}` into the runner's config.toml as `{}`",
                    BEARER.env, BEARER.key
                ))
                .remediation(format!(
                    "remove `{}` from the manager's environment",
                    BEARER.env
                )),
            );
        }
    }
}

impl Rule for JobOverwriteAllowed {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let pods = OnceCell::new();
        // Only a namespace overwrite's findings depend on the setup (the namespaces where its
        // manager may create pods): the entries and workloads that set no pattern are looked at
        // under the first setup only (a scan of all of them per setup was quadratic in
        // tenants, issue #9 C3).
        let Some(namespace) = REGEX_OVERWRITES
            .iter()
            .find(|o| o.key == "namespace_overwrite_allowed")
        else {
            return;
        };
        let entries = &cx.entries_in().entries;
        let todo = cx.once_or_again("RG110 entries", entries.len(), |i| {
            entries.get(i).is_some_and(|e| {
                e.kube(namespace.key)
                    .and_then(|s| s.value.as_str())
                    .is_some_and(|p| !p.is_empty())
            })
        });
        for entry in todo.into_iter().filter_map(|i| entries.get(i)) {
            self.check_entry(cx, &pods, entry, out);
        }
        let workloads = &cx.objects().workloads;
        let todo = cx.once_or_again("RG110 workloads", workloads.len(), |i| {
            workloads.get(i).is_some_and(|w| {
                w.containers
                    .iter()
                    .flat_map(|c| &c.env)
                    .find(|e| e.name == namespace.env)
                    .and_then(|e| e.value.as_deref())
                    .is_some_and(|p| !p.is_empty())
            })
        });
        for w in todo.into_iter().filter_map(|i| workloads.get(i)) {
            self.check_workload(cx, &pods, w, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert_eq!(pattern_note(".*"), Some("the pattern matches every value"));
        assert!(pattern_note("ci-.*").is_some_and(|n| n.contains("not anchored")));
        assert_eq!(pattern_note("^ci-[a-z]+$"), None);
    }

    #[test]
    fn go_booleans() {
        assert_eq!(go_bool("True"), Some(true));
        assert_eq!(go_bool("0"), Some(false));
        assert_eq!(go_bool("yes"), None);
    }
}
