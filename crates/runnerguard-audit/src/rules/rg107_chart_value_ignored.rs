use crate::{Context, Finding, KeyUse, Rule, RuleMeta, declare_rule};

declare_rule! {
    /// ## What it flags
    /// A key in Helm values for the gitlab-runner chart that no template of the chart reads
    /// (for example `runners.kubernetes`, `runners.serviceAccountName`), or that the chart
    /// reads only as a switch while the value looks meant (`runners.namespace`).
    ///
    /// ## Why it matters
    /// The chart has no values schema, so `helm lint` and `helm install` accept any key and
    /// the setting silently does nothing. The classic case is a whole `runners.kubernetes:`
    /// block: namespace, ServiceAccount, token automount, security context and resources for
    /// job pods never reach them, and jobs run in the release namespace with defaults.
    ///
    /// ## How to fix
    /// Job-pod settings belong in the TOML string `runners.config`, under
    /// `[runners.kubernetes]` (for example `namespace = "teams"`,
    /// `service_account = "ci-job"`, `automount_service_account_token = false`). Remove keys
    /// the chart does not read.
    ///
    /// ## Example
    /// ```yaml
    /// runners:
    ///   kubernetes:          # not read by the chart: flagged
    ///     namespace: teams
    /// ```
    pub(crate) struct ChartValueIgnored {
        id: "RG107",
        name: "chart-value-ignored",
        severity: High,
        summary: "a Helm values key is not read by the chart: the setting does nothing",
        remediation: "move job-pod settings into `runners.config` under [runners.kubernetes]; remove keys the chart does not read",
    }
}

impl Rule for ChartValueIgnored {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Context<'_>, out: &mut Vec<Finding>) {
        for values in &cx.objects().helm_values {
            let mut reported: Vec<&str> = Vec::new();
            for entry in &values.entries {
                // Report the topmost ignored key once, with what sits below it.
                if reported
                    .iter()
                    .any(|r| entry.key.starts_with(r) && entry.key[r.len()..].starts_with('.'))
                {
                    continue;
                }
                match cx.chart.key_use(&entry.key) {
                    KeyUse::Read => {}
                    KeyUse::Ignored => {
                        reported.push(&entry.key);
                        let below: Vec<&str> = values
                            .entries
                            .iter()
                            .filter_map(|e| e.key.strip_prefix(&format!("{}.", entry.key)))
                            .filter(|k| !k.contains('.'))
                            .collect();
                        let mut f = Finding::new(
                            self.meta(),
                            format!(
                                "`{}` is not read by the gitlab-runner chart {}: it does nothing",
                                entry.key, cx.chart.version
                            ),
                        )
                        .location(entry.key.clone(), entry.origin.clone());
                        if !below.is_empty() {
                            f = f.step(format!("ignored with it: {}", below.join(", ")));
                        }
                        if entry.key == "runners.kubernetes"
                            || entry.key.starts_with("runners.kubernetes.")
                        {
                            f = f.step(
                                "job-pod settings are read only from the TOML in `runners.config`, under [runners.kubernetes]"
                                    .to_owned(),
                            );
                        }
                        out.push(f);
                    }
                    KeyUse::Switch(effect) => {
                        out.push(
                            Finding::new(
                                self.meta(),
                                format!(
                                    "`{}` = {} is read only as a switch by chart {}: {effect}",
                                    entry.key, entry.value, cx.chart.version
                                ),
                            )
                            .location(entry.key.clone(), entry.origin.clone())
                            .remediation(
                                "remove it; set the job namespace with `namespace` under [runners.kubernetes] in `runners.config`",
                            ),
                        );
                    }
                }
            }
        }
    }
}
