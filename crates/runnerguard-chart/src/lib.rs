//! The official gitlab-runner Helm chart, embedded, and the two ways runnerguard renders chart
//! values with it.
//!
//! A values file does nothing by itself: the chart's templates turn it into a ServiceAccount,
//! a Role or ClusterRole and its binding (from `rbac.*`), a Deployment whose environment
//! overrides the runner's TOML (`envVars`, `extraEnv`, `KUBERNETES_NAMESPACE`), and a
//! ConfigMap holding `runners.config` after Helm's `tpl`. An audit of values must audit that
//! rendering, so this crate produces it:
//!
//! - [`Helm`]: the real `helm template`, run on local files only (the embedded chart archive
//!   or a chart path the user gives), with a timeout and an isolated Helm home, so the result
//!   is exactly what `helm install` would apply;
//! - [`model`](render_model): without Helm, a model of the templates that matter to isolation,
//!   read from the same embedded chart (its `values.yaml` defaults, its template variants by
//!   version). A differential test holds it to Helm's answers.
//!
//! Both return a YAML or JSON stream of Kubernetes objects for the `load` crate to read like
//! any other manifest. The crate does no printing; [`Rendered::notes`] says what the model
//! could not resolve.

mod charts;
mod helm;
mod inventory;
mod model;
mod tpl;
mod values;

pub use charts::{CHARTS, Chart};
pub use helm::Helm;
pub use inventory::{HelmChoice, RenderOptions, render_inventory};
pub use model::render_model;
pub use values::coalesce;

use std::path::PathBuf;

/// Why a chart could not be rendered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `helm` could not be started, failed, or timed out; the message is Helm's own.
    #[error("helm template failed: {0}")]
    Helm(String),
    /// A values document is not a mapping (Helm refuses it too).
    #[error("values `{name}` are not a mapping: {message}")]
    Values {
        /// The values file.
        name: String,
        /// What was wrong.
        message: String,
    },
    /// The embedded chart archive could not be read (a bug in this build).
    #[error("embedded chart {version}: {message}")]
    Chart {
        /// The chart version.
        version: String,
        /// What was wrong.
        message: String,
    },
    /// Writing the temporary chart or values files failed.
    #[error("temporary files: {0}")]
    Io(String),
    /// The chart version asked for is not embedded.
    #[error("chart version `{0}` is not embedded (this build has {supported}); give --chart PATH to a local copy of that chart (rendered with helm)", supported = Chart::supported())]
    UnknownVersion(String),
    /// A chart path was given but no helm is available to render it.
    #[error(
        "--chart `{0}` needs helm to render it: install helm, or give --helm PATH (the built-in model knows only the embedded charts)"
    )]
    ChartNeedsHelm(String),
    /// What was rendered could not be read back (a chart that renders invalid objects).
    #[error("the chart's output for {values} could not be read: {message}")]
    Output {
        /// The values files rendered.
        values: String,
        /// What the loader said.
        message: String,
    },
}

/// A Helm release to render: its name, namespace and values, in `-f` order.
#[derive(Clone, Debug)]
pub struct Release {
    /// The release name (`helm template NAME`); the chart's object names derive from it.
    pub name: String,
    /// The release namespace (`--namespace`).
    pub namespace: String,
    /// The values documents, each as JSON text, later ones winning as with `-f a -f b`.
    pub values: Vec<ValuesDoc>,
}

/// One values document.
#[derive(Clone, Debug)]
pub struct ValuesDoc {
    /// Where it came from, for messages (a file path, `-`).
    pub name: String,
    /// The document as JSON text (a mapping). Credentials may be redacted: the chart only
    /// tests whether they are empty.
    pub json: String,
}

/// Which chart renders a release.
#[derive(Clone, Debug)]
pub enum ChartSource {
    /// One of the embedded official charts.
    Embedded(&'static Chart),
    /// A local chart archive or directory given by the user (rendered with Helm only).
    Path(PathBuf),
}

impl ChartSource {
    /// How the chart is named in reports: `gitlab-runner 0.86.0` or the path.
    pub fn describe(&self) -> String {
        match self {
            Self::Embedded(c) => format!("gitlab-runner {}", c.version),
            Self::Path(p) => p.display().to_string(),
        }
    }
}

/// A rendered release.
#[derive(Clone, Debug)]
pub struct Rendered {
    /// The objects, as one YAML (Helm) or JSON `List` (model) text.
    pub manifests: String,
    /// How it was rendered, for the report: "rendered by helm v4.1.4 with chart gitlab-runner
    /// 0.86.0" or "modelled without helm (chart gitlab-runner 0.86.0); install helm for an
    /// exact rendering".
    pub how: String,
    /// What the model could not resolve (template expressions it kept as unknown); empty for
    /// Helm.
    pub notes: Vec<String>,
}
