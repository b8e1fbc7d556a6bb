//! Reading a cluster through its API server, read-only (`audit --live`, `snapshot --live`).
//!
//! Every kind the file loader understands is listed (get/list only, paginated), Secrets by
//! their metadata alone (`PartialObjectMetadataList`: their data never leaves the API server),
//! and the result is one `v1` `List` document, the [`Snapshot`]. It is decoded by the same
//! decoder as files ([`crate::load_str`]), so a live read and an offline audit of the written
//! snapshot cannot read an object differently.
//!
//! The caller stays synchronous: [`read_cluster`] runs its own current-thread tokio runtime.

use std::path::PathBuf;
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use crate::{Loaded, load_str};

mod list;

use list::{KINDS, Listed, list_kind};

/// How to reach the cluster and what to read of it.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct LiveOptions {
    /// A kubeconfig file (`--kubeconfig`) [default: `KUBECONFIG`, else `~/.kube/config`, else
    /// the in-cluster configuration of a pod].
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context (`--context`) [default: its current context].
    pub context: Option<String>,
    /// Read namespaced kinds in this namespace only (`-n`); cluster-scoped kinds are always
    /// read whole.
    pub namespace: Option<String>,
    /// How long one request may take before it is retried.
    pub timeout: Duration,
    /// How many times a request is retried after a 429, a 5xx or a transport failure.
    pub retries: u32,
    /// Items asked for per page (`limit`).
    pub page_size: u32,
    /// Whether to list Secrets (as metadata); `false` for `--no-secrets`, when the reader is
    /// not granted `list` on them by choice: they are then not asked for at all.
    pub secrets: bool,
}

impl Default for LiveOptions {
    fn default() -> Self {
        Self {
            kubeconfig: None,
            context: None,
            namespace: None,
            timeout: Duration::from_secs(30),
            retries: 3,
            page_size: 500,
            secrets: true,
        }
    }
}

impl LiveOptions {
    /// A kubeconfig file (see [`LiveOptions::kubeconfig`]).
    #[must_use]
    pub fn kubeconfig(mut self, file: Option<PathBuf>) -> Self {
        self.kubeconfig = file;
        self
    }

    /// A kubeconfig context (see [`LiveOptions::context`]).
    #[must_use]
    pub fn context(mut self, context: Option<String>) -> Self {
        self.context = context;
        self
    }

    /// One namespace (see [`LiveOptions::namespace`]).
    #[must_use]
    pub fn namespace(mut self, namespace: Option<String>) -> Self {
        self.namespace = namespace;
        self
    }

    /// The timeout of one request (see [`LiveOptions::timeout`]).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Retries per request (see [`LiveOptions::retries`]).
    #[must_use]
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    /// Whether to list Secrets (see [`LiveOptions::secrets`]).
    #[must_use]
    pub fn secrets(mut self, yes: bool) -> Self {
        self.secrets = yes;
        self
    }
}

/// Why a cluster could not be read at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LiveError {
    /// No usable kubeconfig or in-cluster configuration.
    #[error("no cluster to read: {0}")]
    Config(String),
    /// The API server did not answer (timeouts, refused connections, TLS), after retries.
    #[error("cannot reach the API server of {source_name} ({what}): {message}")]
    Unreachable {
        /// `cluster:<context>`.
        source_name: String,
        /// The list that failed, such as `ClusterRoles`.
        what: String,
        /// The last failure.
        message: String,
    },
    /// The tokio runtime could not start.
    #[error("cannot start the client's runtime: {0}")]
    Runtime(#[from] std::io::Error),
    /// What was read could not be decoded (a bug: the API server serves valid objects).
    #[error("cannot decode what the API server served: {0}")]
    Decode(#[from] crate::Error),
}

/// A kind that could not be read, and why: the view of the cluster is incomplete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unread {
    /// The kind, plural, as people say it (`Secrets`, `ClusterRoleBindings`).
    pub kind: &'static str,
    /// The API server's answer (`403 Forbidden: ...`) or the last failure.
    pub reason: String,
}

/// What was read of a cluster: one `v1` `List`, with what could not be read.
#[derive(Debug)]
pub struct Snapshot {
    /// `cluster:<context>` (`cluster:in-cluster` in a pod): the origin of every object.
    pub source: String,
    /// The `List` as JSON text: what [`Snapshot::load`] decodes, and what `snapshot` writes.
    pub text: String,
    /// How many objects the List holds.
    pub objects: usize,
    /// Kinds that could not be read (forbidden, failed).
    pub unread: Vec<Unread>,
    /// Kinds this API server does not serve (404): there are none of them to read.
    pub not_served: Vec<&'static str>,
    /// Kinds not asked for, by choice (`--no-secrets`).
    pub skipped: Vec<&'static str>,
}

impl Snapshot {
    /// Decodes the List through the file loader, the objects' origin being
    /// [`Snapshot::source`].
    pub fn load(&self) -> Result<Loaded, LiveError> {
        Ok(load_str(&self.source, &self.text)?)
    }
}

/// The `apiVersion` of a snapshot's marks: `NotRead` (a kind it could not read) and
/// `Snapshot` (that it is one, and of which cluster).
const MARK_API_VERSION: &str = "runnerguard.dev/v1";
const NOT_READ_KIND: &str = "NotRead";
const NOT_ASKED_KIND: &str = "NotAsked";

/// What an audit without Secrets cannot tell.
pub const SKIPPED_SECRETS: &str = "which Secret holds the runner's token, and ServiceAccount token Secrets that make reading Secrets an escalation, are not known (RB004, RG105, RG108 may be missing)";
const SNAPSHOT_KIND: &str = "Snapshot";

/// What a snapshot's marks said ([`Loaded::take_marks`]).
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Marks {
    /// One line per kind the snapshot could not read (`FILE:LINE: Secrets were not read when
    /// the snapshot was taken`): its audit is as incomplete as the live read was.
    pub not_read: Vec<String>,
    /// The cluster a snapshot among the inputs was taken of (`cluster:<context>`): it holds
    /// the cluster's own default roles, which replace the embedded ones as in a live read.
    pub cluster: Option<String>,
    /// One line per kind a snapshot did not ask for, by choice (`--no-secrets`): what the
    /// audit cannot see, said, but not an incomplete read.
    pub skipped: Vec<String>,
}

impl Loaded {
    /// Adds what was read of a cluster to what was read of files: the cluster's objects come
    /// first, and an object of a file replaces the cluster's of the same kind, namespace and
    /// name (the files are what is about to be applied over it).
    pub fn add_cluster(&mut self, mut cluster: Loaded) {
        use runnerguard_model::{ObjectRef, RunnerConfigSource};
        // RBAC objects, ServiceAccounts and Namespaces are replaced by the loader's own
        // deduplication; the other kinds are left out here when a file gives them.
        {
            let inv = &self.inventory;
            let given: std::collections::HashSet<(&str, &str, &str)> = inv
                .workloads
                .iter()
                .map(|x| &x.object)
                .chain(inv.network_policies.iter().map(|x| &x.object))
                .chain(inv.limit_ranges.iter().map(|x| &x.object))
                .chain(inv.resource_quotas.iter().map(|x| &x.object))
                .chain(inv.secrets.iter().map(|x| &x.object))
                .chain(inv.admission_policies.iter().map(|x| &x.object))
                .chain(inv.admission_bindings.iter().map(|x| &x.object))
                .chain(inv.others.iter().map(|x| &x.object))
                .map(|o| (o.kind.as_str(), o.namespace.as_str(), o.name.as_str()))
                .collect();
            let kept = |o: &ObjectRef| {
                !given.contains(&(o.kind.as_str(), o.namespace.as_str(), o.name.as_str()))
            };
            let c = &mut cluster.inventory;
            c.workloads.retain(|x| kept(&x.object));
            c.network_policies.retain(|x| kept(&x.object));
            c.limit_ranges.retain(|x| kept(&x.object));
            c.resource_quotas.retain(|x| kept(&x.object));
            c.secrets.retain(|x| kept(&x.object));
            c.admission_policies.retain(|x| kept(&x.object));
            c.admission_bindings.retain(|x| kept(&x.object));
            c.others.retain(|x| kept(&x.object));
            c.runner_configs.retain(|r| match &r.source {
                RunnerConfigSource::ConfigMap {
                    namespace, name, ..
                } => !given.contains(&("ConfigMap", namespace.as_str(), name.as_str())),
                _ => true,
            });
        }
        self.warnings.extend(cluster.warnings);
        crate::input::merge_defaults(self, cluster.inventory);
    }

    /// Takes out a snapshot's marks (see [`Marks`]): they are not objects of the cluster.
    pub fn take_marks(&mut self) -> Marks {
        let mut marks = Marks::default();
        self.inventory.others.retain(|o| {
            let o = &o.object;
            if o.api_version != MARK_API_VERSION {
                return true;
            }
            match o.kind.as_str() {
                NOT_READ_KIND => marks.not_read.push(format!(
                    "{}: {} were not read when the snapshot was taken",
                    o.origin, o.name
                )),
                SNAPSHOT_KIND => marks.cluster = Some(o.name.clone()),
                NOT_ASKED_KIND => marks.skipped.push(format!(
                    "{}: {} were not asked for when the snapshot was taken (--no-secrets): {}",
                    o.origin, o.name, SKIPPED_SECRETS
                )),
                _ => return true,
            }
            false
        });
        marks
    }
}

/// How far a read of the cluster is: `done` of `total` kinds read, the last one `kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress<'a> {
    /// Kinds read so far.
    pub done: usize,
    /// Kinds to read.
    pub total: usize,
    /// The kind just read, plural (`Roles`).
    pub kind: &'a str,
}

/// Reads the cluster `options` name: every kind the file loader reads, concurrently. `progress` is
/// told each kind as it is read.
///
/// A kind the API server refuses (403) or fails to serve is named in
/// [`Snapshot::unread`]; an API server that does not answer at all is an error.
pub fn read_cluster(
    options: &LiveOptions,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Snapshot, LiveError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(read(options, progress))
}

/// The client for `options`, and the source name (`cluster:<context>`).
async fn client(options: &LiveOptions) -> Result<(Client, String), LiveError> {
    let from_file = match &options.kubeconfig {
        Some(file) => Some(
            Kubeconfig::read_from(file)
                .map_err(|e| LiveError::Config(format!("{}: {e}", file.display())))?,
        ),
        None => match Kubeconfig::read() {
            Ok(k) => Some(k),
            // No kubeconfig at all: a pod's in-cluster configuration, unless a context was
            // asked for (which only a kubeconfig has) or KUBECONFIG names files that are not
            // there (a typo must not silently read another cluster).
            Err(e) if options.context.is_some() || std::env::var_os("KUBECONFIG").is_some() => {
                return Err(LiveError::Config(format!(
                    "cannot read the kubeconfig: {e}"
                )));
            }
            Err(_) => None,
        },
    };
    let (mut config, source) = if let Some(kubeconfig) = from_file {
        let context = options
            .context
            .clone()
            .or_else(|| kubeconfig.current_context.clone())
            .unwrap_or_default();
        let kube_options = KubeConfigOptions {
            context: options.context.clone(),
            ..KubeConfigOptions::default()
        };
        let config = Config::from_custom_kubeconfig(kubeconfig, &kube_options)
            .await
            .map_err(|e| LiveError::Config(e.to_string()))?;
        (config, format!("cluster:{context}"))
    } else {
        let config = Config::incluster().map_err(|e| {
            LiveError::Config(format!(
                "no kubeconfig (KUBECONFIG, ~/.kube/config, --kubeconfig) and not in a pod: {e}"
            ))
        })?;
        (config, "cluster:in-cluster".to_owned())
    };
    // Retries are ours: a few, bounded, the same for every failure (kube's default retries
    // 15 times for up to 1000 s each).
    config.default_retry = false;
    config.read_timeout = Some(options.timeout);
    config.connect_timeout = Some(options.timeout);
    let client = Client::try_from(config).map_err(|e| LiveError::Config(e.to_string()))?;
    Ok((client, source))
}

async fn read(
    options: &LiveOptions,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Snapshot, LiveError> {
    let (client, source) = client(options).await?;
    let mut tasks = tokio::task::JoinSet::new();
    let skip = |k: &list::Collection| !options.secrets && k.name == "Secrets";
    let skipped: Vec<&'static str> = KINDS.iter().filter(|k| skip(k)).map(|k| k.name).collect();
    for (index, k) in KINDS.iter().enumerate() {
        if skip(k) {
            continue;
        }
        let client = client.clone();
        let options = options.clone();
        tasks.spawn(async move { (index, list_kind(&client, k, &options).await) });
    }
    let mut results: Vec<Option<Result<Listed, String>>> = KINDS.iter().map(|_| None).collect();
    let mut done = 0;
    while let Some(joined) = tasks.join_next().await {
        let Ok((index, result)) = joined else {
            continue;
        };
        done += 1;
        progress(Progress {
            done,
            total: KINDS.len() - skipped.len(),
            kind: KINDS[index].name,
        });
        results[index] = Some(result);
    }
    let mut items = Vec::new();
    let mut unread = Vec::new();
    let mut not_served = Vec::new();
    for (k, result) in KINDS.iter().zip(results) {
        if skip(k) {
            continue;
        }
        match result {
            Some(Ok(Listed::Items(listed))) => items.extend(listed),
            Some(Ok(Listed::Forbidden(reason))) => unread.push(Unread {
                kind: k.name,
                reason,
            }),
            Some(Ok(Listed::NotServed)) => not_served.push(k.name),
            Some(Err(message)) => {
                return Err(LiveError::Unreachable {
                    source_name: source,
                    what: k.name.to_owned(),
                    message,
                });
            }
            None => unread.push(Unread {
                kind: k.name,
                reason: "the list did not finish".to_owned(),
            }),
        }
    }
    let objects = items.len();
    // A snapshot says what it could not read, for an offline audit of it to be incomplete as
    // the live one was: one mark per kind, after the objects (their lines stay those of a
    // live read's origins).
    items.extend(unread.iter().map(|u| {
        serde_json::json!({
            "apiVersion": MARK_API_VERSION,
            "kind": NOT_READ_KIND,
            "metadata": {
                "name": u.kind,
                "annotations": {"runnerguard.dev/reason": u.reason},
            },
        })
    }));
    items.extend(skipped.iter().map(|kind| {
        serde_json::json!({
            "apiVersion": MARK_API_VERSION,
            "kind": NOT_ASKED_KIND,
            "metadata": {"name": kind},
        })
    }));
    items.push(serde_json::json!({
        "apiVersion": MARK_API_VERSION,
        "kind": SNAPSHOT_KIND,
        "metadata": {"name": source},
    }));
    let list = serde_json::json!({
        "apiVersion": "v1",
        "kind": "List",
        "metadata": {},
        "items": items,
    });
    let text = serde_json::to_string_pretty(&list).map_err(|e| LiveError::Config(e.to_string()))?;
    Ok(Snapshot {
        source,
        text,
        objects,
        unread,
        not_served,
        skipped,
    })
}

#[cfg(test)]
mod tests;
