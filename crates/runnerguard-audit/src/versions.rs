//! Which GitLab Runner and chart versions each setup is checked against.
//!
//! A runner's needs and a chart's keys change between versions, so each setup is judged by
//! the versions its inputs name, in this order:
//! - runner: `--runner-version`; else the tag of the manager's `gitlab-runner` image
//!   (`alpine-v18.2.1`, `v17.9.0`); else the appVersion of the chart the release was rendered
//!   with (or that the manager's `chart`/`helm.sh/chart` label names); else the runner of
//!   the default chart release, the one `generate` targets
//!   ([`runnerguard_model::versions::DEFAULT_RUNNER`]);
//! - chart: the rendered release's chart version (set by [`crate::Audit::new`]); else, for
//!   `helm template` output, the manager's `chart: gitlab-runner-X` label; else the newest.
//!
//! Each decision is added to the topology's evidence, so the report says where it came from.

use std::collections::HashMap;

use runnerguard_model::executor::{self, RunnerVersion};
use runnerguard_model::versions;
use runnerguard_model::{Inventory, Workload};

use crate::{ChartKeys, Error, Setup, TopologyEvidence as Evidence, TopologyFact as Fact};

/// Settles each setup's runner version (and executor table) and, for rendered input without
/// a release, its chart keys. `given` is `--runner-version`; `app_version` gives a chart
/// version's appVersion (the runner release the chart installs by default), when known.
///
/// # Errors
/// [`Error::Data`] when the embedded executor tables cannot be read.
pub fn settle_versions(
    setups: &mut [Setup],
    objects: &Inventory,
    given: Option<RunnerVersion>,
    app_version: &dyn Fn(&str) -> Option<String>,
) -> Result<(), Error> {
    let tables = executor::permission_tables().map_err(|e| Error::Data(e.to_string()))?;
    let oldest = tables.first().map(|t| t.min);
    let runners: Vec<&Workload> = objects
        .workloads
        .iter()
        .filter(|w| runner_image(w).is_some())
        .collect();
    let single = setups.len() == 1 && runners.len() == 1;
    // The first runner workload of each manager identity: one lookup per setup.
    let mut by_manager: HashMap<(&str, &str), &Workload> = HashMap::new();
    for w in &runners {
        by_manager
            .entry((w.object.namespace.as_str(), w.service_account.as_str()))
            .or_insert(w);
    }
    for setup in setups.iter_mut() {
        let t = &setup.topology;
        let manager = by_manager
            .get(&(
                t.manager_namespace.as_str(),
                t.manager_service_account.as_str(),
            ))
            .copied()
            .or_else(|| runners.first().copied().filter(|_| single));
        let mut evidence = Vec::new();

        // The chart: a release's version is already set; rendered input names it in a label.
        let chart_version = if objects.releases.is_empty() {
            manager.and_then(|w| chart_label(w).map(|v| (v, w)))
        } else {
            None
        };
        if let Some((version, w)) = &chart_version {
            setup.chart = ChartKeys::nearest(version);
            evidence.push(Evidence {
                fact: Fact::Chart(setup.chart.version.to_owned()),
                source: if setup.chart.version == version.as_str() {
                    format!("label of {}", describe(w))
                } else {
                    format!(
                        "label of {} names chart {version}; the nearest this build knows",
                        describe(w)
                    )
                },
            });
        }
        let chart = chart_version
            .as_ref()
            .map(|(v, _)| v.clone())
            .or_else(|| (!objects.releases.is_empty()).then(|| setup.chart.version.to_owned()));

        let (version, source) = if let Some(v) = given {
            (v, "--runner-version".to_owned())
        } else if let Some((v, tag, w)) = manager.and_then(|w| {
            let (tag, v) = runner_image(w)?;
            Some((v?, tag, w))
        }) {
            (v, format!("image tag `{tag}` of {}", describe(w)))
        } else if let Some((v, c)) = chart
            .as_deref()
            .and_then(|c| Some((app_version(c)?.parse::<RunnerVersion>().ok()?, c)))
        {
            (v, format!("appVersion of chart {c}"))
        } else {
            (
                versions::DEFAULT_RUNNER,
                format!(
                    "nothing names it: the runner chart {} installs, as `generate` does (set --runner-version)",
                    versions::DEFAULT_CHART.version
                ),
            )
        };
        let (version, source) = match oldest {
            Some(min) if version < min => (
                min,
                format!(
                    "{source} says {version}, older than any this build knows: checked against {min}"
                ),
            ),
            _ => (version, source),
        };
        setup.version = version;
        setup.executor = executor::table_for(&tables, version).ok_or_else(|| {
            Error::Data(format!(
                "no executor permission table for GitLab Runner {version}"
            ))
        })?;
        evidence.push(Evidence {
            fact: Fact::Runner(version.to_string()),
            source,
        });
        setup.topology.evidence.extend(evidence);
    }
    Ok(())
}

/// `Deployment ns/name (file:line)`.
fn describe(w: &Workload) -> String {
    format!(
        "{} {}/{} ({})",
        w.object.kind, w.object.namespace, w.object.name, w.object.origin
    )
}

/// The tag of the workload's `gitlab-runner` image (not the helper's) and the version it
/// names, if any: `alpine-v18.2.1` and `ubuntu-v17.9.0` name one, `latest` or a digest none.
fn runner_image(w: &Workload) -> Option<(&str, Option<RunnerVersion>)> {
    w.containers.iter().find_map(|c| {
        let (repository, tag) = split_image(&c.image)?;
        let name = repository.rsplit('/').next().unwrap_or(repository);
        (name == "gitlab-runner").then(|| (tag, version_in_tag(tag)))
    })
}

/// `registry:5000/a/b:tag@sha256:...` → (`registry:5000/a/b`, `tag`); no tag → `latest`.
fn split_image(image: &str) -> Option<(&str, &str)> {
    let image = image.split('@').next()?;
    let last = image.rfind('/').map_or(0, |i| i + 1);
    match image[last..].find(':') {
        Some(i) => Some((&image[..last + i], &image[last + i + 1..])),
        None => Some((image, "latest")),
    }
}

/// The runner version in an image tag: after a `v` (`alpine3.19-v18.2.1`), else at the
/// start (`18.2.1`).
fn version_in_tag(tag: &str) -> Option<RunnerVersion> {
    let digits_after = |i: usize| tag[i..].starts_with(|c: char| c.is_ascii_digit());
    let start = tag
        .char_indices()
        .find(|&(i, c)| c == 'v' && digits_after(i + 1))
        .map(|(i, _)| i + 1)
        .or_else(|| digits_after(0).then_some(0))?;
    let rest = &tag[start..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// The chart version in a `chart: gitlab-runner-0.86.0` or `helm.sh/chart` label.
fn chart_label(w: &Workload) -> Option<String> {
    ["chart", "helm.sh/chart"].iter().find_map(|k| {
        let v = w.labels.get(*k)?.strip_prefix("gitlab-runner-")?;
        v.starts_with(|c: char| c.is_ascii_digit())
            .then(|| v.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_name_versions() {
        let v = |t: &str| version_in_tag(t).map(|v| v.to_string());
        assert_eq!(v("alpine-v18.2.1").as_deref(), Some("18.2"));
        assert_eq!(v("alpine3.19-v17.9.0").as_deref(), Some("17.9"));
        assert_eq!(v("ubuntu-v18.9.0").as_deref(), Some("18.9"));
        assert_eq!(v("v18.11.0").as_deref(), Some("18.11"));
        assert_eq!(v("18.4.0").as_deref(), Some("18.4"));
        assert_eq!(v("latest"), None);
        assert_eq!(v("bleeding"), None);
        assert_eq!(v("alpine"), None);
    }

    #[test]
    fn images_split_into_repository_and_tag() {
        assert_eq!(
            split_image("registry.gitlab.com/gitlab-org/gitlab-runner:alpine-v18.9.0"),
            Some((
                "registry.gitlab.com/gitlab-org/gitlab-runner",
                "alpine-v18.9.0"
            ))
        );
        assert_eq!(
            split_image("localhost:5000/gitlab-runner"),
            Some(("localhost:5000/gitlab-runner", "latest"))
        );
        assert_eq!(
            split_image("gitlab/gitlab-runner:v17.1.0@sha256:abcd"),
            Some(("gitlab/gitlab-runner", "v17.1.0"))
        );
    }
}
