//! RG112 `manager-network-open`: no NetworkPolicy denies ingress into the manager's namespace
//! (medium: job pods can reach the cloud metadata address).

mod cidr;

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use runnerguard_model::{LabelSelector, NetworkPeer, NetworkPolicy, NetworkRule};

use self::cidr::{block_allows, block_may_hold_pods};
use crate::{Context, Finding, Rule, RuleMeta, Severity, declare_rule};

declare_rule! {
    /// ## What it flags
    /// - high: the runner manager's namespace has no NetworkPolicy that selects all its pods
    ///   (empty `podSelector`) for ingress, or a NetworkPolicy there admits traffic from a job
    ///   namespace (a rule without `from`, a `namespaceSelector` matching the job namespace,
    ///   a pod peer of its own namespace when jobs run there, or an `ipBlock` that may hold
    ///   pod addresses);
    /// - medium: in a job namespace, job pods can reach the cloud metadata address
    ///   `169.254.169.254`: no egress NetworkPolicy selects them, or one allows a destination
    ///   that includes that address (a rule without `to`, or an `ipBlock` containing it that
    ///   no `except` entry excludes).
    ///
    /// NetworkPolicies add up: a pod is reachable if any policy selecting it allows the
    /// traffic. Namespace selectors are matched against the namespace's labels, including
    /// `kubernetes.io/metadata.name`, which the API server sets to the namespace's name; when
    /// the job namespace's Namespace object was not read, a selector on other labels is taken
    /// to match it. Job pods are taken to match any `podSelector` in an allow rule; an egress
    /// policy counts as selecting job pods when its `podSelector` matches the `pod_labels` the
    /// runner configuration gives them. Pod IP ranges are not known, so an ingress `ipBlock`
    /// overlapping private or shared address space (10/8, 172.16/12, 192.168/16, 100.64/10)
    /// or `::/0` is taken to admit pods.
    ///
    /// ## Why it matters
    /// Job pods run code from anyone who can push. Without an ingress policy they can connect
    /// to the manager's metrics and session server ports and to anything else in its
    /// namespace, and probe it from inside the cluster. The metadata address hands out the
    /// node's cloud credentials (and, on many platforms, bootstrap secrets): a job that
    /// reaches it acts as the node in the cloud account.
    ///
    /// ## How to fix
    /// In the manager's namespace, a NetworkPolicy with `podSelector: {}`,
    /// `policyTypes: [Ingress]` and no ingress rules (add narrow rules only for what must
    /// connect, such as Prometheus, never the job namespaces). In each job namespace, an
    /// egress policy for all pods that allows what jobs need (DNS, the GitLab host, the
    /// registry) with `ipBlock: {cidr: 0.0.0.0/0, except: [169.254.169.254/32]}` rather than
    /// an open rule.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: deny-ingress, namespace: gitlab-runner}
    /// spec:
    ///   podSelector: {}
    ///   policyTypes: [Ingress]
    /// ---
    /// apiVersion: networking.k8s.io/v1
    /// kind: NetworkPolicy
    /// metadata: {name: job-egress, namespace: teams}
    /// spec:
    ///   podSelector: {}
    ///   policyTypes: [Egress]
    ///   egress:
    ///   - to:
    ///     - ipBlock: {cidr: 0.0.0.0/0, except: [169.254.169.254/32]}
    /// ```
    pub(crate) struct ManagerNetworkOpen {
        id: "RG112",
        name: "manager-network-open",
        severity: High,
        summary: "no NetworkPolicy denies ingress into the manager's namespace (medium: job pods can reach the cloud metadata address)",
        remediation: "add a NetworkPolicy that denies all ingress to the manager's namespace, and one that denies job egress to 169.254.169.254",
    }
}

/// The cloud metadata address (AWS, GCP, Azure, `OpenStack` and others).
const METADATA: Ipv4Addr = Ipv4Addr::new(169, 254, 169, 254);

/// The label the API server sets on every namespace to its name.
const NAME_LABEL: &str = "kubernetes.io/metadata.name";

fn is_empty(selector: &LabelSelector) -> bool {
    selector.match_labels.is_empty() && selector.match_expressions.is_empty()
}

/// A namespace as NetworkPolicy namespace selectors see it.
struct NamespaceLabels {
    name: String,
    labels: BTreeMap<String, String>,
    /// Whether the Namespace object was read (else only the name label is known).
    known: bool,
}

impl NamespaceLabels {
    fn of(cx: &Context<'_>, name: &str) -> Self {
        let read = cx.namespace(name);
        let mut labels = read.map(|n| n.labels.clone()).unwrap_or_default();
        labels.insert(NAME_LABEL.to_owned(), name.to_owned());
        Self {
            name: name.to_owned(),
            labels,
            known: read.is_some(),
        }
    }

    /// Why `selector` selects this namespace (a phrase completing "admits pods ..."), or
    /// `None` when it does not.
    fn selected_by(&self, selector: &LabelSelector) -> Option<String> {
        let ns = &self.name;
        if is_empty(selector) {
            return Some("of every namespace (`namespaceSelector: {}`)".to_owned());
        }
        match selector.matches(&self.labels) {
            Some(true) => Some(format!(
                "of the namespaces its namespaceSelector matches, `{ns}` among them"
            )),
            None => Some(
                "through an invalid namespaceSelector, which the audit cannot rule out".to_owned(),
            ),
            Some(false) => {
                let other_keys = selector
                    .match_labels
                    .keys()
                    .chain(selector.match_expressions.iter().map(|r| &r.key))
                    .any(|k| k != NAME_LABEL);
                (!self.known && other_keys).then(|| {
                    format!(
                        "of the namespaces its namespaceSelector matches, which may include `{ns}` (its Namespace object was not read, so its labels are unknown)"
                    )
                })
            }
        }
    }
}

/// Why ingress `rule` of a policy in `policy_ns` admits pods of `job` (a phrase completing
/// "its ingress rule N ..."), and whether the admitting peer also has a pod selector.
fn admits(rule: &NetworkRule, policy_ns: &str, job: &NamespaceLabels) -> Option<(String, bool)> {
    if rule.peers.is_empty() {
        return Some(("has no `from`, so it admits every source".to_owned(), false));
    }
    let has_pods = |sel: &Option<LabelSelector>| sel.as_ref().is_some_and(|s| !is_empty(s));
    rule.peers.iter().find_map(|peer| match peer {
        NetworkPeer::Pods {
            namespace_selector: None,
            pod_selector,
        } => (policy_ns == job.name).then(|| {
            (
                format!("admits pods of its own namespace, and jobs run in `{policy_ns}`"),
                has_pods(pod_selector),
            )
        }),
        NetworkPeer::Pods {
            namespace_selector: Some(sel),
            pod_selector,
        } => job
            .selected_by(sel)
            .map(|why| (format!("admits pods {why}"), has_pods(pod_selector))),
        NetworkPeer::IpBlock { cidr, except } => block_may_hold_pods(cidr, except).then(|| {
            (
                format!("admits `ipBlock` {cidr}, which may hold pod addresses"),
                false,
            )
        }),
    })
}

/// Why egress `rule` lets traffic reach the metadata address, or `None`.
fn reaches_metadata(rule: &NetworkRule) -> Option<String> {
    let ports = if rule.ports_restricted {
        " (on the ports it lists)"
    } else {
        ""
    };
    if rule.peers.is_empty() {
        return Some(format!(
            "has no `to`, so it allows every destination{ports}"
        ));
    }
    rule.peers.iter().find_map(|peer| match peer {
        NetworkPeer::IpBlock { cidr, except } if block_allows(cidr, except, METADATA) => Some(
            format!("allows `ipBlock` {cidr}, which contains {METADATA}, and no `except` entry excludes it{ports}"),
        ),
        _ => None,
    })
}

fn name(p: &NetworkPolicy) -> String {
    crate::qualified(&p.object.namespace, &p.object.name)
}

impl ManagerNetworkOpen {
    fn check_ingress(self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let ns = cx.topology.manager_namespace.as_str();
        let jobs: Vec<NamespaceLabels> = cx
            .topology
            .job_namespaces()
            .into_iter()
            .map(|j| NamespaceLabels::of(cx, j))
            .collect();
        // Indexed by namespace once for every setup (a scan of every policy per setup was
        // quadratic in tenants, issue #9 C3).
        let policies: Vec<&NetworkPolicy> = cx
            .network_policies_in(ns)
            .iter()
            .copied()
            .filter(|p| p.ingress_type)
            .collect();
        let mut admitting = Vec::new();
        for p in &policies {
            for (i, rule) in p.ingress.iter().enumerate() {
                for job in &jobs {
                    if let Some((why, pod_selector)) = admits(rule, ns, job) {
                        admitting.push((*p, i, job.name.clone(), why, pod_selector));
                    }
                }
            }
        }
        let isolating: Vec<&&NetworkPolicy> = policies
            .iter()
            .filter(|p| is_empty(&p.pod_selector))
            .collect();
        let elsewhere: Vec<String> = jobs
            .iter()
            .filter(|j| j.name != ns)
            .map(|j| format!("`{}`", j.name))
            .collect();
        let job_pods = if elsewhere.is_empty() {
            format!("job pods (which run in `{ns}` itself)")
        } else {
            format!("job pods (in {})", elsewhere.join(", "))
        };
        if isolating.is_empty() {
            let mut f = Finding::new(
                self.meta(),
                format!(
                    "no NetworkPolicy selects every pod of the manager's namespace `{ns}` for ingress: {job_pods} and any other pod can connect to the manager and everything else there"
                ),
            );
            for p in &policies {
                f = f.object(p.object.clone()).fact(format!(
                    "NetworkPolicy `{}` selects only some pods of `{ns}`",
                    name(p)
                ));
            }
            for (p, i, job, why, _) in &admitting {
                f = f.fact(format!(
                    "NetworkPolicy `{}` would not close it either: its ingress rule {} {why} (job namespace `{job}`)",
                    name(p),
                    i + 1
                ));
            }
            if let Some(n) = cx.namespace(ns) {
                f = f.object(n.object_ref());
            }
            out.push(f.remediation(format!(
                "add a NetworkPolicy in `{ns}` with `podSelector: {{}}`, `policyTypes: [Ingress]` and no ingress rules"
            )));
            return;
        }
        for (p, i, job, why, pod_selector) in admitting {
            let mut f = Finding::new(
                self.meta(),
                format!(
                    "NetworkPolicy `{}` admits job pods from `{job}` into the manager's namespace `{ns}`: its ingress rule {} {why}",
                    name(p),
                    i + 1
                ),
            )
            .object(p.object.clone());
            if pod_selector {
                f = f.fact(format!(
                    "its podSelector does not keep jobs out: job pods get their labels from the runner configuration (and from the job where pod_labels_overwrite_allowed is set), and pods that CI deploys into `{job}` may carry any labels"
                ));
            }
            out.push(
                f
                .fact(format!(
                    "isolated by NetworkPolicy `{}`, but policies add up: any rule that admits a source opens the namespace to it",
                    isolating.first().map_or_else(String::new, |p| name(p))
                ))
                .remediation(format!(
                    "remove the rule, or narrow it to the namespaces and pods that must connect (never a job namespace); `{ns}` needs no ingress from jobs"
                )),
            );
        }
    }

    fn check_metadata(self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        // Runner entries and egress policies by namespace, in input order, indexed once for
        // every setup (issue #9 C3: a scan of every entry and policy per job namespace, then
        // per setup, was quadratic). An entry that names no namespace counts in every one.
        let crate::context::EntriesIn {
            entries,
            by_namespace: entries_in,
            everywhere,
        } = cx.entries_in();
        for &ns in cx.job_namespaces() {
            // The labels the runner configuration gives job pods in this namespace.
            let mut job_labels = BTreeMap::new();
            let mut here: Vec<usize> = entries_in
                .get(ns)
                .into_iter()
                .flatten()
                .chain(everywhere)
                .copied()
                .collect();
            here.sort_unstable();
            for entry in here.into_iter().filter_map(|i| entries.get(i)) {
                for s in &entry.kubernetes {
                    if let (Some(k), Some(v)) =
                        (s.key.strip_prefix("pod_labels."), s.value.as_str())
                    {
                        job_labels.insert(k.trim_matches('"').to_owned(), v.to_owned());
                    }
                }
            }
            let policies: Vec<&NetworkPolicy> = cx
                .network_policies_in(ns)
                .iter()
                .copied()
                .filter(|p| p.egress_type && p.pod_selector.matches(&job_labels) == Some(true))
                .collect();
            if policies.is_empty() {
                let mut f = Finding::new(
                    self.meta(),
                    format!(
                        "no egress NetworkPolicy selects the job pods in `{ns}`: jobs can reach the cloud metadata address {METADATA} (and any other destination)"
                    ),
                )
                .severity(Severity::Medium)
                .remediation(format!(
                    "add an egress NetworkPolicy in `{ns}` for all pods that allows only what jobs need, with `ipBlock: {{cidr: 0.0.0.0/0, except: [169.254.169.254/32]}}`"
                ));
                if let Some(n) = cx.namespace(ns) {
                    f = f.object(n.object_ref());
                }
                out.push(f);
                continue;
            }
            for p in policies {
                for (i, rule) in p.egress.iter().enumerate() {
                    if let Some(why) = reaches_metadata(rule) {
                        out.push(
                            Finding::new(
                                self.meta(),
                                format!(
                                    "NetworkPolicy `{}` lets job pods in `{ns}` reach the cloud metadata address {METADATA}: its egress rule {} {why}",
                                    name(p),
                                    i + 1
                                ),
                            )
                            .severity(Severity::Medium)
                            .object(p.object.clone())
                            .remediation("add `169.254.169.254/32` to the rule's `ipBlock.except`, or allow only the destinations jobs need"),
                        );
                    }
                }
            }
        }
    }
}

impl Rule for ManagerNetworkOpen {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        self.check_ingress(cx, out);
        self.check_metadata(cx, out);
    }
}

#[cfg(test)]
mod tests {
    use runnerguard_model::LabelSelectorRequirement;

    use super::*;

    fn ns(name: &str, labels: &[(&str, &str)], known: bool) -> NamespaceLabels {
        let mut l: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        l.insert(NAME_LABEL.to_owned(), name.to_owned());
        NamespaceLabels {
            name: name.to_owned(),
            labels: l,
            known,
        }
    }

    fn sel(pairs: &[(&str, &str)]) -> LabelSelector {
        LabelSelector {
            match_labels: pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            match_expressions: Vec::new(),
        }
    }

    #[test]
    fn namespace_selectors() {
        let teams = ns("teams", &[("tier", "ci")], true);
        assert!(teams.selected_by(&LabelSelector::default()).is_some());
        assert!(teams.selected_by(&sel(&[(NAME_LABEL, "teams")])).is_some());
        assert!(
            teams
                .selected_by(&sel(&[(NAME_LABEL, "monitoring")]))
                .is_none()
        );
        assert!(teams.selected_by(&sel(&[("tier", "ci")])).is_some());
        assert!(teams.selected_by(&sel(&[("tier", "web")])).is_none());
        // Unknown labels: a selector on other keys may match.
        let unread = ns("teams", &[], false);
        assert!(unread.selected_by(&sel(&[("tier", "web")])).is_some());
        assert!(
            unread
                .selected_by(&sel(&[(NAME_LABEL, "monitoring")]))
                .is_none()
        );
        let not_in = LabelSelector {
            match_labels: BTreeMap::new(),
            match_expressions: vec![LabelSelectorRequirement {
                key: NAME_LABEL.into(),
                operator: "NotIn".into(),
                values: vec!["teams".into()],
            }],
        };
        assert!(teams.selected_by(&not_in).is_none());
    }

    #[test]
    fn ingress_rules() {
        let teams = ns("teams", &[], true);
        let open = NetworkRule {
            peers: Vec::new(),
            ports_restricted: false,
        };
        assert!(admits(&open, "gitlab-runner", &teams).is_some());
        let same_ns = NetworkRule {
            peers: vec![NetworkPeer::Pods {
                namespace_selector: None,
                pod_selector: Some(sel(&[("app", "x")])),
            }],
            ports_restricted: false,
        };
        assert!(admits(&same_ns, "gitlab-runner", &teams).is_none());
        assert!(admits(&same_ns, "teams", &teams).is_some());
        let monitoring = NetworkRule {
            peers: vec![NetworkPeer::Pods {
                namespace_selector: Some(sel(&[(NAME_LABEL, "monitoring")])),
                pod_selector: None,
            }],
            ports_restricted: true,
        };
        assert!(admits(&monitoring, "gitlab-runner", &teams).is_none());
    }

    #[test]
    fn egress_rules() {
        let dns = NetworkRule {
            peers: vec![NetworkPeer::Pods {
                namespace_selector: Some(sel(&[(NAME_LABEL, "kube-system")])),
                pod_selector: None,
            }],
            ports_restricted: true,
        };
        assert!(reaches_metadata(&dns).is_none());
        let internet = NetworkRule {
            peers: vec![NetworkPeer::IpBlock {
                cidr: "0.0.0.0/0".into(),
                except: vec!["169.254.169.254/32".into()],
            }],
            ports_restricted: false,
        };
        assert!(reaches_metadata(&internet).is_none());
        let anywhere = NetworkRule {
            peers: Vec::new(),
            ports_restricted: true,
        };
        assert!(reaches_metadata(&anywhere).is_some_and(|w| w.contains("ports")));
    }
}
