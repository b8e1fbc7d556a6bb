//! Values in a loaded inventory, rendered into the objects the chart would create.

use std::path::PathBuf;
use std::sync::Arc;

use runnerguard_load::Loaded;
use runnerguard_model::{Release as RenderedRelease, RunnerConfigSource};

use crate::{Chart, ChartSource, Error, Helm, Release, ValuesDoc, render_model};

/// Whether to run helm.
#[derive(Clone, Debug, Default)]
pub enum HelmChoice {
    /// Helm at this path, else `$RUNNERGUARD_HELM`, else `helm` on `PATH`; the model when
    /// there is none.
    #[default]
    Auto,
    /// This helm binary (`--helm PATH`); an error if it does not run.
    At(PathBuf),
    /// Never run helm (`--no-helm`): the model.
    Off,
}

/// How values are rendered.
#[derive(Clone, Debug)]
pub struct RenderOptions {
    /// The release name (`helm template NAME`); else the wrapper's, else `gitlab-runner`.
    pub release_name: Option<String>,
    /// The release namespace; else the wrapper's, else `gitlab-runner`.
    pub release_namespace: Option<String>,
    /// A local chart path instead of the embedded chart.
    pub chart: Option<PathBuf>,
    /// The embedded chart version; else the version a wrapper names when it is embedded, else
    /// the newest.
    pub chart_version: Option<String>,
    /// Whether and which helm to run.
    pub helm: HelmChoice,
    /// Values files that form one release together, in order (`--values a --values b`, as
    /// `helm -f a -f b`). Every other values document is a release of its own.
    pub merged: Vec<Arc<str>>,
}

/// Renders every release of chart values in `loaded` and adds what the chart would create to
/// its inventory ([`runnerguard_model::Inventory::releases`] says which objects came from
/// which values, and how they were rendered). The values' own `runners.config` stops being a
/// runner configuration of its own: the rendered ConfigMap, after `tpl`, is the one the
/// runner reads. Returns notes for the user: how each release was rendered and what the
/// model could not resolve.
pub fn render_inventory(
    loaded: &mut Loaded,
    options: &RenderOptions,
) -> Result<Vec<String>, Error> {
    if loaded.inventory.helm_values.is_empty() {
        return Ok(Vec::new());
    }
    // Group: the `--values` files together, every other document alone.
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut merged_group: Vec<usize> = Vec::new();
    for (i, v) in loaded.inventory.helm_values.iter().enumerate() {
        if options.merged.iter().any(|m| **m == *v.origin.file) {
            merged_group.push(i);
        } else {
            groups.push(vec![i]);
        }
    }
    if !merged_group.is_empty() {
        groups.insert(0, merged_group);
    }

    let helm = match &options.helm {
        HelmChoice::Auto => Helm::locate()?,
        HelmChoice::At(p) => Some(Helm::at(p)?),
        HelmChoice::Off => None,
    };
    if helm.is_none()
        && let Some(p) = &options.chart
    {
        return Err(Error::ChartNeedsHelm(p.display().to_string()));
    }

    let mut notes = Vec::new();
    let mut releases = Vec::new();
    for group in groups {
        let values = &loaded.inventory.helm_values;
        let names = group
            .iter()
            .map(|&i| values[i].origin.file.as_ref())
            .collect::<Vec<_>>()
            .join(" + ");
        let hints = &values[group[0]].release;
        let chart = match (&options.chart, &options.chart_version) {
            (Some(path), _) => ChartSource::Path(path.clone()),
            (None, Some(v)) => ChartSource::Embedded(
                Chart::find(v).ok_or_else(|| Error::UnknownVersion(v.clone()))?,
            ),
            (None, None) => match hints.chart_version.as_deref() {
                Some(v) => {
                    if let Some(c) = Chart::find(v) {
                        ChartSource::Embedded(c)
                    } else {
                        notes.push(format!(
                            "{}: {} names chart version `{v}`, which this build does not embed ({}); rendered with {} (give --chart-version or --chart)",
                            names,
                            hints.wrapper.as_deref().unwrap_or("the wrapper"),
                            Chart::supported(),
                            Chart::newest().version
                        ));
                        ChartSource::Embedded(Chart::newest())
                    }
                }
                None => ChartSource::Embedded(Chart::newest()),
            },
        };
        if let Some(w) = &hints.wrapper {
            notes.push(format!("{names}: values read from {w}"));
        }
        let release = Release {
            name: options
                .release_name
                .clone()
                .or_else(|| hints.release_name.clone())
                .unwrap_or_else(|| "gitlab-runner".to_owned()),
            namespace: options
                .release_namespace
                .clone()
                .or_else(|| hints.release_namespace.clone())
                .unwrap_or_else(|| "gitlab-runner".to_owned()),
            values: group
                .iter()
                .map(|&i| ValuesDoc {
                    name: values[i].origin.file.to_string(),
                    json: values[i].document.clone(),
                })
                .collect(),
        };
        let rendered = match (&helm, &chart) {
            (Some(h), _) => h.render(&release, &chart)?,
            (None, ChartSource::Embedded(c)) => render_model(&release, c)?,
            (None, ChartSource::Path(p)) => {
                return Err(Error::ChartNeedsHelm(p.display().to_string()));
            }
        };
        notes.push(format!("values {names} ({})", rendered.how));
        for n in &rendered.notes {
            notes.push(format!("{names}: {n}"));
        }
        let name = format!("{names} [rendered: {}]", chart.describe());
        let mut out =
            runnerguard_load::load_str(&name, &rendered.manifests).map_err(|e| Error::Output {
                values: names.clone(),
                message: e.to_string(),
            })?;
        // Helm installs what names no namespace into the release's.
        out.place_unnamespaced(&release.namespace);
        let mut objects = out.inventory;
        // What the chart renders is never values itself.
        objects.helm_values.clear();
        // An object the user's own manifests define (a pre-created ServiceAccount, the
        // chart's output given beside its values) is theirs: it stays as given.
        let user = &loaded.inventory;
        retain_new(&mut objects.service_accounts, &user.service_accounts, |a| {
            ("ServiceAccount", &a.namespace, &a.name)
        });
        retain_new(&mut objects.roles, &user.roles, |a| {
            (a.kind.as_str(), &a.namespace, &a.name)
        });
        retain_new(&mut objects.bindings, &user.bindings, |a| {
            (a.kind.as_str(), &a.namespace, &a.name)
        });
        releases.push(RenderedRelease {
            chart_version: match &chart {
                ChartSource::Embedded(c) => c.version.to_owned(),
                ChartSource::Path(_) => String::new(),
            },
            values: group,
            objects,
        });
    }
    let inventory = &mut loaded.inventory;
    inventory
        .runner_configs
        .retain(|c| c.source != RunnerConfigSource::HelmValues);
    for r in &releases {
        inventory.extend(r.objects.clone());
    }
    inventory.releases = releases;
    Ok(notes)
}

/// Keeps the `items` whose identity (`key`) no object of `existing` has.
fn retain_new<T>(
    items: &mut Vec<T>,
    existing: &[T],
    key: impl for<'a> Fn(&'a T) -> (&'a str, &'a str, &'a str),
) {
    items.retain(|a| !existing.iter().any(|b| key(a) == key(b)));
}
