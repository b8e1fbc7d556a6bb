//! RG111 `privileged-jobs-possible`: job pods may run privileged or escalate privileges, or the job
//! namespace enforces no Pod Security level.

use runnerguard_model::Setting;

use super::Source;
use crate::rules::common::and_list;
use crate::{Context, Finding, Rule, RuleMeta, declare_rule};

declare_rule! {
    /// ## What it flags
    /// Three ways a CI job's pod can hold more than an ordinary process:
    ///
    /// - a runner configuration that runs job containers privileged: `privileged = true`
    ///   under `[runners.kubernetes]`, a `*_container_security_context` with
    ///   `privileged = true`, or `KUBERNETES_PRIVILEGED` in the manager's environment;
    /// - a runner configuration that does not set `allow_privilege_escalation = false` for
    ///   every container of the job pod. A container's own security context
    ///   (`build_`, `helper_`, `service_`, `init_permissions_container_security_context`)
    ///   overrides the `[runners.kubernetes]` value, as the runner does; unset means
    ///   Kubernetes' default, which allows escalation. When the chart's values set no
    ///   `runners.config`, the chart's default configuration sets neither key;
    /// - a job namespace without a Pod Security `pod-security.kubernetes.io/enforce` label of
    ///   `baseline` or `restricted`, or one whose Namespace object was not among the inputs
    ///   (the audit then cannot show a label).
    ///
    /// ## Why it matters
    /// A privileged container is root on the node: it sees every pod's files and tokens on
    /// that node, including the runner manager's when it shares the node. Privilege
    /// escalation (setuid binaries, file capabilities) lets a job's process gain rights its
    /// user did not have. Jobs run code from anyone who can push, so the runner must not
    /// offer either, and the namespace's Pod Security level is the backstop that rejects
    /// such pods even when a runner is misconfigured. (A cluster-wide Pod Security default
    /// set in the API server's admission configuration is not visible in manifests: label
    /// the namespace anyway.)
    ///
    /// ## How to fix
    /// In `[runners.kubernetes]` set `privileged = false` and
    /// `allow_privilege_escalation = false` (and no container security context that sets
    /// them back); label each job namespace `pod-security.kubernetes.io/enforce: baseline`,
    /// or `restricted` with a matching runner configuration (non-root user, all capabilities
    /// dropped, a seccomp profile). Jobs that build images need no privileges with
    /// rootless image builders (Kaniko, Buildah, rootless `BuildKit`).
    ///
    /// ## Example
    /// ```toml
    /// [[runners]]
    ///   [runners.kubernetes]
    ///     namespace = "teams"
    ///     privileged = true        # flagged
    ///                              # allow_privilege_escalation unset: flagged
    /// ```
    /// ```yaml
    /// apiVersion: v1
    /// kind: Namespace
    /// metadata:
    ///   name: teams               # no pod-security.kubernetes.io/enforce label: flagged
    /// ```
    pub(crate) struct PrivilegedJobsPossible {
        id: "RG111",
        name: "privileged-jobs-possible",
        severity: High,
        summary: "job pods may run privileged or escalate privileges, or the job namespace enforces no Pod Security level",
        remediation: "set privileged = false and allow_privilege_escalation = false, and label the job namespace pod-security.kubernetes.io/enforce: baseline (or restricted)",
    }
}

/// The job pod's containers and the security-context table of each.
const CONTAINERS: [(&str, &str); 4] = [
    ("build", "build_container_security_context"),
    ("helper", "helper_container_security_context"),
    ("service", "service_container_security_context"),
    (
        "init-permissions",
        "init_permissions_container_security_context",
    ),
];

/// `f` with the place of each setting (once) that sets a flag to `true` in `eff`, as
/// [`Source::effective`] gives it.
fn locate_true(mut f: Finding, eff: &[(&str, Option<(bool, &Setting)>)]) -> Finding {
    let mut seen: Vec<&Setting> = Vec::new();
    for (_, v) in eff {
        if let Some((true, s)) = v
            && !seen.contains(s)
        {
            seen.push(s);
            f = f.location(s.key.clone(), s.origin.clone());
        }
    }
    f
}

const ENFORCE: &str = "pod-security.kubernetes.io/enforce";

/// A boolean setting's value, with the setting.
fn as_flag(s: &Setting) -> Option<(bool, &Setting)> {
    s.value.as_bool().map(|b| (b, s))
}

impl Source<'_> {
    fn get(&self, key: &str) -> Option<&Setting> {
        self.settings.iter().find(|s| s.key == key)
    }

    fn bool(&self, key: &str) -> Option<(bool, &Setting)> {
        self.get(key).and_then(as_flag)
    }

    /// The setting `{table}.{key}`, found without writing the key out (asked for each
    /// container of each runner entry).
    fn nested(&self, table: &str, key: &str) -> Option<&Setting> {
        self.settings.iter().find(|s| {
            s.key
                .strip_prefix(table)
                .and_then(|rest| rest.strip_prefix('.'))
                == Some(key)
        })
    }

    /// The effective value of `flag` for each container: its own security context first,
    /// else `[runners.kubernetes]` (`getContainerSecurityContextEffectiveFlagValue`).
    fn effective(&self, flag: &str) -> Vec<(&'static str, Option<(bool, &Setting)>)> {
        let top = self.bool(flag);
        CONTAINERS
            .iter()
            .map(|(container, table)| {
                let own = self.nested(table, flag).and_then(as_flag);
                (*container, own.or(top))
            })
            .collect()
    }
}

impl PrivilegedJobsPossible {
    /// A step saying what the job namespace's Pod Security level does to such pods.
    fn admission_note(
        cx: &Context<'_>,
        namespace: Option<&str>,
        rejecting: &[&str],
    ) -> Option<String> {
        let ns = namespace?;
        let level = cx.namespace(ns)?.labels.get(ENFORCE)?;
        rejecting.contains(&level.as_str()).then(|| {
            format!("`{ns}` enforces Pod Security `{level}`, which rejects such pods: those jobs fail instead")
        })
    }

    fn check_privileged(self, cx: &Context<'_>, src: &Source<'_>, out: &mut Vec<Finding>) {
        let eff = src.effective("privileged");
        let privileged: Vec<String> = eff
            .iter()
            .filter(|(_, v)| matches!(v, Some((true, _))))
            .map(|(c, _)| (*c).to_owned())
            .collect();
        if privileged.is_empty() {
            return;
        }
        let mut f = Finding::new(
            self.meta(),
            format!(
                "{} runs {} of its job pods privileged: a job has root on its node",
                src.name,
                if privileged.len() == CONTAINERS.len() {
                    "every container".to_owned()
                } else {
                    format!("the {} container(s)", and_list(&privileged))
                }
            ),
        )
        .remediation("set `privileged = false` under [runners.kubernetes] and in every *_container_security_context");
        f = locate_true(f, &eff);
        if let Some(note) = Self::admission_note(cx, src.namespace, &["baseline", "restricted"]) {
            f = f.fact(note);
        }
        out.push(f);
    }

    fn check_escalation(self, cx: &Context<'_>, src: &Source<'_>, out: &mut Vec<Finding>) {
        let eff = src.effective("allow_privilege_escalation");
        let containers = |wanted: Option<bool>| -> Vec<String> {
            eff.iter()
                .filter(|(_, v)| v.map(|(b, _)| b) == wanted)
                .map(|(c, _)| (*c).to_owned())
                .collect()
        };
        let (explicit, unset) = (containers(Some(true)), containers(None));
        if explicit.is_empty() && unset.is_empty() {
            return;
        }
        let phrase = |names: &[String]| {
            if names.len() == CONTAINERS.len() {
                "every container".to_owned()
            } else {
                format!(
                    "the {} container{}",
                    and_list(names),
                    if names.len() == 1 { "" } else { "s" }
                )
            }
        };
        let mut parts = Vec::new();
        if !explicit.is_empty() {
            parts.push(format!(
                "{} (`allow_privilege_escalation = true`)",
                phrase(&explicit)
            ));
        }
        if !unset.is_empty() {
            parts.push(format!(
                "{} (not set to false: the Kubernetes default allows it)",
                phrase(&unset)
            ));
        }
        let mut f = Finding::new(
            self.meta(),
            format!(
                "{} allows privilege escalation in {} of its job pods: processes there may gain privileges through setuid binaries or file capabilities",
                src.name,
                parts.join(" and in ")
            ),
        );
        f = locate_true(f, &eff);
        if !unset.is_empty() {
            f = f.location(src.what, src.at.clone());
        }
        if let Some(note) = Self::admission_note(cx, src.namespace, &["restricted"]) {
            f = f.fact(note);
        }
        out.push(f.remediation(
            "set `allow_privilege_escalation = false` under [runners.kubernetes], and true in no *_container_security_context",
        ));
    }

    /// Why `ns` is a job namespace, from the topology's evidence.
    fn namespace_evidence(cx: &Context<'_>, ns: &str) -> String {
        cx.job_evidence(ns).next().map_or_else(
            || format!("job namespace `{ns}`"),
            |e| format!("{}: {}", e.fact, e.source),
        )
    }

    fn check_namespaces(self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        for ns in cx.topology.job_namespaces() {
            let Some(namespace) = cx.namespace(ns) else {
                out.push(
                    Finding::new(
                        self.meta(),
                        format!(
                            "no Namespace object for `{ns}` was read, so no Pod Security enforce label is known for this job namespace"
                        ),
                    )
                    .fact(Self::namespace_evidence(cx, ns))
                    .remediation(format!(
                        "include the Namespace `{ns}` in the audited manifests, labelled `{ENFORCE}: baseline` (or restricted)"
                    )),
                );
                continue;
            };
            let message = match namespace.labels.get(ENFORCE).map(String::as_str) {
                Some("baseline" | "restricted") => continue,
                None => format!(
                    "job namespace `{ns}` has no `{ENFORCE}` label: Pod Security admits privileged job pods there"
                ),
                Some("privileged") => format!(
                    "job namespace `{ns}` enforces Pod Security `privileged`, which admits privileged job pods"
                ),
                Some(other) => format!(
                    "job namespace `{ns}` has `{ENFORCE}: {other}`, which is not a Pod Security level (privileged, baseline, restricted)"
                ),
            };
            out.push(
                Finding::new(self.meta(), message)
                    .object(namespace.object_ref())
                    .remediation(format!(
                        "label Namespace `{ns}` `{ENFORCE}: baseline` (or restricted)"
                    )),
            );
        }
    }
}

impl Rule for PrivilegedJobsPossible {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        // The runner configurations' and the workloads' findings depend on no setup: they are
        // reported under the first only (issue #9 C3: every setup scanned them all).
        if cx.first_report(self.meta().id) {
            self.check_configurations(cx, out);
        }
        self.check_namespaces(cx, out);
    }
}

impl PrivilegedJobsPossible {
    /// What the runner configurations and the manager's environment allow.
    fn check_configurations(self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        for src in cx.sources() {
            self.check_privileged(cx, src, out);
            self.check_escalation(cx, src, out);
        }
        for w in &cx.objects().workloads {
            let Some(value) = w.env("KUBERNETES_PRIVILEGED") else {
                continue;
            };
            // The runner parses it with strconv.ParseBool.
            if !matches!(value, "1" | "t" | "T" | "TRUE" | "true" | "True") {
                continue;
            }
            out.push(
                Finding::new(
                    self.meta(),
                    format!(
                        "{} `{}` sets `KUBERNETES_PRIVILEGED={value}`: the runner registers with `privileged = true` and runs job containers privileged",
                        w.object.kind,
                        crate::qualified(&w.object.namespace, &w.object.name)
                    ),
                )
                .object(w.object.clone())
                .remediation("remove `KUBERNETES_PRIVILEGED` from the manager's environment and set `privileged = false` in `runners.config`"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use runnerguard_model::Origin;
    use runnerguard_model::SettingValue;

    use super::*;

    fn setting(key: &str, value: bool) -> Setting {
        Setting {
            key: key.to_owned(),
            value: SettingValue::Bool(value),
            origin: Origin::default(),
        }
    }

    fn source(settings: &[Setting]) -> Source<'_> {
        Source {
            name: "r".into(),
            what: "",
            settings,
            at: Origin::default(),
            namespace: None,
        }
    }

    fn open(settings: &[Setting]) -> Vec<&'static str> {
        source(settings)
            .effective("allow_privilege_escalation")
            .into_iter()
            .filter(|(_, v)| !matches!(v, Some((false, _))))
            .map(|(c, _)| c)
            .collect()
    }

    #[test]
    fn container_contexts_override_the_runner_value() {
        assert_eq!(open(&[]).len(), 4);
        assert!(open(&[setting("allow_privilege_escalation", false)]).is_empty());
        assert_eq!(
            open(&[
                setting("allow_privilege_escalation", false),
                setting(
                    "build_container_security_context.allow_privilege_escalation",
                    true
                ),
            ]),
            ["build"]
        );
        let all_four: Vec<Setting> = CONTAINERS
            .iter()
            .map(|(_, t)| setting(&format!("{t}.allow_privilege_escalation"), false))
            .collect();
        assert!(open(&all_four).is_empty());
        assert_eq!(open(&all_four[..3]), ["init-permissions"]);
    }

    #[test]
    fn lists_read_as_prose() {
        assert_eq!(and_list(&["a".into()]), "a");
        assert_eq!(
            and_list(&["a".into(), "b".into(), "c".into()]),
            "a, b and c"
        );
    }
}
