//! RG107: Helm values keys that the chart does not read, judged against one chart version.

use crate::chart::is_below;
use crate::{ChartKeys, Context, Finding, KeyUse, Rule, RuleMeta, declare_rule};

declare_rule! {
    /// ## What it flags
    /// A key in Helm values for the gitlab-runner chart that no template of the chart reads
    /// (for example `runners.kubernetes`, `runners.serviceAccountName`), or that only the
    /// chart's install notes (templates/NOTES.txt) read, such as `runners.namespace`: that
    /// changes the message `helm install` prints and nothing in the cluster. Keys are judged
    /// against one chart version, named in every finding; the key lists of charts 0.77.2 to
    /// 0.86.0 are built in (data/gitlab-runner-chart/).
    ///
    /// Not flagged: keys that the values file's own templates read. The chart renders
    /// `runners.config` (and a few other strings) with Helm's `tpl`, so
    /// `{{ .Values.runners.job.registry }}` in `runners.config` reads `runners.job.registry`,
    /// its parents and everything below it.
    ///
    /// ## Why it matters
    /// The chart has no values schema, so `helm lint` and `helm install` accept any key and
    /// the setting silently does nothing. The classic case is a whole `runners.kubernetes:`
    /// block: namespace, ServiceAccount, token automount, security context and resources for
    /// job pods never reach them, and jobs run in the release namespace with defaults.
    /// `runners.namespace` is worse: when `runners.config` sets a namespace too, the install
    /// notes claim that the `runners.config` namespace will be ignored, while it is the one
    /// used.
    ///
    /// ## How to fix
    /// Job-pod settings belong in the TOML string `runners.config`, under
    /// `[runners.kubernetes]` (for example `namespace = "teams"`,
    /// `service_account = "ci-job"`, `automount_service_account_token = false`). Remove keys
    /// the chart does not read. If the finding names a chart version other than the one you
    /// install, check the key against that version's templates.
    ///
    /// ## Example
    /// ```yaml
    /// runners:
    ///   namespace: teams     # read only by the install notes: flagged
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
        // Each values file is judged against the chart of its own release, once (this rule
        // runs under the first setup of each chart).
        for values in cx
            .objects()
            .helm_values
            .iter()
            .enumerate()
            .filter(|&(i, _)| cx.judges_values(i))
            .map(|(_, v)| v)
        {
            // Keys that this file's own `tpl`-rendered strings read count as read (issue #8).
            let chart = cx.chart.with_tpl_reads(values);
            let mut reported: Vec<&str> = Vec::new();
            for entry in &values.entries {
                // Report the topmost ignored key once, with what sits below it.
                if reported.iter().any(|r| is_below(&entry.key, r)) {
                    continue;
                }
                let key_use = chart.key_use(&entry.key);
                if key_use == KeyUse::Read {
                    continue;
                }
                reported.push(&entry.key);
                let below: Vec<&str> = values
                    .entries
                    .iter()
                    .filter_map(|e| e.key.strip_prefix(&format!("{}.", entry.key)))
                    .filter(|k| !k.contains('.'))
                    .collect();
                let mut f = match key_use {
                    KeyUse::NotesOnly => notes_only(self.meta(), &chart, &entry.key),
                    _ => Finding::new(
                        self.meta(),
                        format!(
                            "`{}` is not read by the gitlab-runner chart {}: it does nothing",
                            entry.key, chart.version
                        ),
                    ),
                }
                .location(entry.key.clone(), entry.origin.clone());
                if !below.is_empty() {
                    f = f.fact(format!("ignored with it: {}", below.join(", ")));
                }
                if entry.key == "runners.kubernetes" || entry.key.starts_with("runners.kubernetes.")
                {
                    f = f.fact(
                        "job-pod settings are read only from the TOML in `runners.config`, under [runners.kubernetes]"
                            .to_owned(),
                    );
                }
                if let Some(note) = chart.note() {
                    f = f.fact(note.to_owned());
                }
                out.push(f);
            }
        }
    }
}

/// A key that only templates/NOTES.txt reads.
fn notes_only(meta: &'static RuleMeta, chart: &ChartKeys, key: &str) -> Finding {
    let version = chart.version;
    let f = Finding::new(
        meta,
        format!(
            "`{key}` is read only by the install notes (templates/NOTES.txt) of the gitlab-runner chart {version}: it does nothing to the cluster"
        ),
    );
    if key != "runners.namespace" {
        return f.remediation("remove it: no template of the chart applies it");
    }
    // Checked in every embedded version (0.77.2 to 0.86.0): NOTES.txt reads it inside
    // `if regexMatch "\\s*namespace\\s*=" .Values.runners.config`; templates/_env_vars.tpl
    // sets KUBERNETES_NAMESPACE from `runners.config` alone.
    f.fact(format!(
        "chart {version}: when `runners.config` also has a `namespace =` line, the install notes warn that the `runners.config` namespace will be ignored; it is not: no template reads `runners.namespace`"
    ))
    .fact(format!(
        "chart {version}: jobs run in the `namespace` under [runners.kubernetes] in `runners.config`, or, when it has none, in the release namespace (env KUBERNETES_NAMESPACE)"
    ))
    .remediation(
        "remove it; set the job namespace with `namespace` under [runners.kubernetes] in `runners.config`",
    )
}
