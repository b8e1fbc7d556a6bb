//! Which Helm values keys the official gitlab-runner chart reads, by chart version.
//!
//! The key lists are data (data/gitlab-runner-chart/, with provenance); what a list cannot
//! say (a map rendered whole, a key read only as a switch) is annotated here.

use std::collections::BTreeSet;

/// The values keys one chart version reads.
#[derive(Debug)]
pub struct ChartKeys {
    /// The chart version, e.g. `0.86.0`.
    pub version: &'static str,
    read: BTreeSet<&'static str>,
    whole: &'static [&'static str],
    switches: &'static [(&'static str, &'static str)],
}

/// How the chart treats a values key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyUse {
    /// A template reads it (or a map it belongs to is rendered whole).
    Read,
    /// No template reads it: setting it does nothing.
    Ignored,
    /// Read only to switch something on; the value itself is ignored. The text says what
    /// setting it does.
    Switch(&'static str),
}

const CHART_0_86_0: &str =
    include_str!("../../../data/gitlab-runner-chart/0.86.0-values-paths.txt");

impl ChartKeys {
    /// The keys of chart 0.86.0 (appVersion 18.9.0), the newest this build knows.
    pub fn v0_86_0() -> Self {
        Self {
            version: "0.86.0",
            read: CHART_0_86_0
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .collect(),
            // `toYaml .Values.podSecurityContext` in templates/deployment.yaml.
            whole: &["podSecurityContext"],
            // templates/_env_vars.tpl: `if or .Values.runners.namespace (not (regexMatch
            // "\\s*namespace\\s*=" .Values.runners.config))` then `KUBERNETES_NAMESPACE` is the
            // release namespace.
            switches: &[(
                "runners.namespace",
                "when set, the chart makes jobs run in the release namespace (env KUBERNETES_NAMESPACE), whatever its value",
            )],
        }
    }

    /// How the chart treats the values key at dotted `path`.
    ///
    /// A key is read when a template reads it, when it is a parent of a key a template reads
    /// (the template walks through it), or when it sits below a key that is consumed as a
    /// whole value (a leaf of the list, or a map rendered whole).
    pub fn key_use(&self, path: &str) -> KeyUse {
        if let Some((_, effect)) = self.switches.iter().find(|(k, _)| *k == path) {
            return KeyUse::Switch(effect);
        }
        if self.read.contains(path) {
            return KeyUse::Read;
        }
        let prefix = format!("{path}.");
        if self
            .read
            .range(prefix.as_str()..)
            .next()
            .is_some_and(|k| k.starts_with(&prefix))
        {
            return KeyUse::Read;
        }
        let mut ancestor = path;
        while let Some((parent, _)) = ancestor.rsplit_once('.') {
            ancestor = parent;
            if self.read.contains(parent) {
                let parent_prefix = format!("{parent}.");
                let is_leaf = !self
                    .read
                    .range(parent_prefix.as_str()..)
                    .next()
                    .is_some_and(|k| k.starts_with(&parent_prefix));
                if is_leaf || self.whole.contains(&parent) {
                    return KeyUse::Read;
                }
            }
        }
        KeyUse::Ignored
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_0_86_0_keys() {
        let c = ChartKeys::v0_86_0();
        assert_eq!(c.key_use("runners.config"), KeyUse::Read);
        assert_eq!(c.key_use("runners"), KeyUse::Read);
        assert_eq!(c.key_use("runners.kubernetes"), KeyUse::Ignored);
        assert_eq!(c.key_use("runners.kubernetes.namespace"), KeyUse::Ignored);
        assert!(matches!(c.key_use("runners.namespace"), KeyUse::Switch(_)));
        // Leaves of the list consume whatever is below them.
        assert_eq!(c.key_use("nodeSelector.disktype"), KeyUse::Read);
        assert_eq!(c.key_use("podAnnotations.a.b"), KeyUse::Read);
        // A map rendered whole, although one of its keys is listed too.
        assert_eq!(c.key_use("podSecurityContext.runAsNonRoot"), KeyUse::Read);
        assert_eq!(c.key_use("rbac.create"), KeyUse::Read);
        assert_eq!(c.key_use("rbac.bogus"), KeyUse::Ignored);
        assert_eq!(c.key_use("serviceAccount.name"), KeyUse::Read);
        assert_eq!(c.key_use("serviceAccountName"), KeyUse::Ignored);
    }
}
