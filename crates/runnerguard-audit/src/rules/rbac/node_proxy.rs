//! RB007 `node-proxy`: `nodes/proxy` is granted: exec into any pod on the nodes through the
//! kubelet.

use super::{Groups, Probe, evidence, input_hits, through};
use crate::rules::common::and_list;
use crate::{Context, Finding, Rule, RuleMeta, declare_rule};

declare_rule! {
    /// ## What it flags
    /// Each subject of an input ClusterRoleBinding whose role allows any verb on
    /// `nodes/proxy` (`get`, `create`, `update`, `patch`, `delete`: the kubelet maps HTTP
    /// methods to them), on any node or on the nodes its `resourceNames` list. One finding
    /// per subject, listing the bindings. Nodes are cluster-scoped, so a RoleBinding never
    /// grants it; Kubernetes' default bindings (the API server's own kubelet client) are not
    /// reported.
    ///
    /// ## Why it matters
    /// `nodes/proxy` forwards requests to the kubelet's API on the node: `/exec`, `/run`,
    /// `/attach` and `/portforward` into every pod scheduled there, `/logs`, `/pods` and
    /// more. Through it a subject runs commands in any pod of the node, the pods of
    /// controllers and of the control plane included, and reads what they mount, without
    /// any `pods/exec` right; the API server's audit log sees only a proxy request, and
    /// admission control never sees the exec. Even `get` is enough: exec upgrades a GET
    /// request to a WebSocket.
    ///
    /// ## How to fix
    /// Do not grant `nodes/proxy`. Monitoring agents that scrape kubelet metrics need
    /// `nodes/metrics` and `nodes/stats` (or the `/metrics` non-resource URL), not the proxy;
    /// debugging goes through `kubectl debug node/...`, which RBAC and admission see.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ClusterRole
    /// metadata: {name: metrics-scraper}
    /// rules:
    /// - apiGroups: [""]
    ///   resources: ["nodes", "nodes/proxy"]   # flagged: use nodes/metrics, nodes/stats
    ///   verbs: ["get", "list", "watch"]
    /// ```
    pub(crate) struct NodeProxy {
        id: "RB007",
        name: "node-proxy",
        severity: Critical,
        summary: "`nodes/proxy` is granted: exec into any pod on the nodes through the kubelet",
        remediation: "do not grant `nodes/proxy`; grant `nodes/metrics` and `nodes/stats` for monitoring",
    }
}

const PROBES: [Probe; 5] = [
    Probe::new("get", "", "nodes", "proxy").named().cluster(),
    Probe::new("create", "", "nodes", "proxy").named().cluster(),
    Probe::new("update", "", "nodes", "proxy").named().cluster(),
    Probe::new("patch", "", "nodes", "proxy").named().cluster(),
    Probe::new("delete", "", "nodes", "proxy").named().cluster(),
];

impl Rule for NodeProxy {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        let mut groups: Groups<()> = Groups::default();
        for hit in input_hits(cx, &PROBES) {
            groups.add_hit(cx, &hit, &());
        }
        for (subject, (), group) in groups {
            let mut verbs: Vec<&str> = Vec::new();
            let mut names: Vec<String> = Vec::new();
            let mut any = false;
            for p in &group.perms {
                for v in &p.verbs {
                    if !verbs.contains(&v.as_str()) {
                        verbs.push(v);
                    }
                }
                any |= p.resource_names.is_empty();
                names.extend(p.resource_names.iter().map(|n| format!("`{n}`")));
            }
            names.sort();
            names.dedup();
            let nodes = if any {
                "any node".to_owned()
            } else {
                format!("nodes {}", and_list(&names))
            };
            let via = through(cx, &group.grants);
            let f = Finding::new(
                self.meta(),
                format!(
                    "{subject} may {} nodes/proxy on {nodes} through {via}: it can run commands in every pod on those nodes through the kubelet, bypassing `pods/exec` RBAC, admission and most of the audit log",
                    verbs.join(", ")
                ),
            )
            .remediation(format!(
                "remove {subject} from {via}, or drop `nodes/proxy` from the role (use `nodes/metrics` and `nodes/stats`)"
            ));
            out.push(evidence(cx, f, &group.grants));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::NodeProxy;
    use crate::rules::testing::{JOBS, run};

    fn yaml(binding: &str) -> String {
        format!(
            r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {{name: scraper}}
rules:
- {{apiGroups: [""], resources: ["nodes/proxy"], verbs: ["get"]}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: {binding}
metadata: {{name: scraper, namespace: monitoring}}
subjects: [{{kind: ServiceAccount, name: prometheus, namespace: monitoring}}]
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: scraper}}
"#
        )
    }

    #[test]
    fn only_cluster_role_bindings_grant_node_proxy() {
        let out = run(&NodeProxy, &yaml("ClusterRoleBinding"), JOBS);
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(
            out[0].message.starts_with(
                "ServiceAccount monitoring/prometheus may get nodes/proxy on any node"
            ),
            "{}",
            out[0].message
        );
        assert!(run(&NodeProxy, &yaml("RoleBinding"), JOBS).is_empty());
    }
}
