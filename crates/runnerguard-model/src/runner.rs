//! A GitLab Runner setup as read from its configuration: runner `config.toml` (or the chart's
//! `config.template.toml`) and Helm values for the official chart.

use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::Origin;
use crate::executor::RunnerVersion;

/// A configuration value, as written. Tables are not kept as values: their keys are settings
/// of their own, with dotted names.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum SettingValue {
    /// A string.
    String(String),
    /// A boolean.
    Bool(bool),
    /// An integer.
    Integer(i64),
    /// A floating-point number.
    Float(f64),
    /// A list.
    List(Vec<SettingValue>),
    /// A table (mapping); its entries are settings of their own.
    Table,
    /// Anything else (a date, a null), shown as written.
    Other(String),
}

impl SettingValue {
    /// Prefixes of GitLab tokens (<https://docs.gitlab.com/security/tokens/#token-prefixes>):
    /// runner authentication (`glrt-`, `glrtr-`), registration (`GR1348941`),
    /// personal/project/group access (`glpat-`), deploy (`gldt-`), CI job (`glcbt-`), trigger
    /// (`glptt-`), SCIM/OAuth (`glsoat-`, `gloas-`), feed (`glft-`), incoming mail (`glimt-`),
    /// agent (`glagent-`), workspace (`glwt-`), feature flags client (`glffct-`). A string
    /// starting with one is a credential whatever key holds it.
    pub const TOKEN_PREFIXES: &'static [&'static str] = &[
        "glrt-",
        "GR1348941",
        "glpat-",
        "gldt-",
        "glcbt-",
        "glptt-",
        "glsoat-",
        "glrtr-",
        "glft-",
        "glimt-",
        "glagent-",
        "glwt-",
        "gloas-",
        "glffct-",
    ];

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::String(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Self::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

impl fmt::Display for SettingValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::String(s) => write!(f, "{s:?}"),
            Self::Bool(b) => write!(f, "{b}"),
            Self::Integer(i) => write!(f, "{i}"),
            Self::Float(x) => write!(f, "{x}"),
            Self::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Self::Table => f.write_str("{...}"),
            Self::Other(s) => f.write_str(s),
        }
    }
}

/// One key of a configuration, by its dotted path, with its value and place.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Setting {
    /// The dotted path, relative to the section it belongs to (e.g. `namespace`,
    /// `pod_security_context.run_as_user`, `runners.config`).
    pub key: String,
    /// The value.
    pub value: SettingValue,
    /// Where it is written.
    pub origin: Origin,
}

/// Where a runner configuration came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RunnerConfigSource {
    /// A `config.toml` file.
    File,
    /// A ConfigMap key (`config.toml` or `config.template.toml`), as the chart renders it.
    ConfigMap {
        /// The ConfigMap's namespace.
        namespace: String,
        /// The ConfigMap's name.
        name: String,
        /// The data key.
        key: String,
    },
    /// The `runners.config` string of a Helm values file.
    HelmValues,
}

/// A runner configuration: the `[[runners]]` entries of a `config.toml`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunnerConfig {
    /// Where it came from.
    pub source: RunnerConfigSource,
    /// Where it starts.
    pub origin: Origin,
    /// Whether it is a registration template (`config.template.toml`, the chart's
    /// `runners.config`): merged into the real config by `gitlab-runner register`.
    pub template: bool,
    /// The `[[runners]]` entries.
    pub runners: Vec<RunnerEntry>,
}

/// One `[[runners]]` entry.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunnerEntry {
    /// Where the entry starts.
    pub origin: Origin,
    /// `name`, when set.
    pub name: Option<String>,
    /// `executor`, when set.
    pub executor: Option<String>,
    /// Where `[runners.kubernetes]` starts, when present.
    pub kubernetes_origin: Option<Origin>,
    /// Every key under `[runners.kubernetes]`, dotted paths relative to it (members of an
    /// array of tables under the array's path, e.g. `volumes.host_path.mount_path`).
    pub kubernetes: Vec<Setting>,
    /// Every other key of the entry (`name`, `limit`, `cache.s3.BucketName`, ...), dotted
    /// paths relative to the entry, parents before children. Credentials are redacted as read.
    pub settings: Vec<Setting>,
}

impl RunnerEntry {
    /// The `[runners.kubernetes]` setting `key` (dotted path), if set.
    pub fn kube(&self, key: &str) -> Option<&Setting> {
        self.kubernetes.iter().find(|s| s.key == key)
    }

    /// The setting `key` (dotted path, relative to the entry) outside `[runners.kubernetes]`,
    /// if set.
    pub fn setting(&self, key: &str) -> Option<&Setting> {
        self.settings.iter().find(|s| s.key == key)
    }

    /// How the runner spells key `key` of table `parent` (a dotted path relative to the
    /// `[[runners]]` entry: `""` for the entry itself, `kubernetes`,
    /// `kubernetes.pod_security_context`, ...), as its TOML decoder matches it: the exact
    /// name first, else the first name equal under Unicode case folding. `None` when the
    /// runner does not know the key there, or when [`Self::keys_checked`] is false for
    /// `parent`. Known keys and sections come from data/gitlab-runner/.
    pub fn canonical_key(parent: &str, key: &str) -> Option<&'static str> {
        let catalogue = catalogue()?;
        if !catalogue.checked(parent) {
            return None;
        }
        // BurntSushi/toml `unifyStruct` (decode.go, v1.6.0, the version gitlab-runner's
        // go.mod pins): `if ff.name == key { f = ff; break }` then
        // `if f == nil && strings.EqualFold(ff.name, key) { f = ff }`.
        if let Some(&i) = catalogue.named.get(parent).and_then(|names| names.get(key)) {
            return Some(catalogue.keys[i].name.as_str());
        }
        catalogue
            .children(parent)
            .find(|k| equal_fold(&k.name, key))
            .map(|k| k.name.as_str())
    }

    /// Whether the runner reads the keys of table `parent` (dotted, relative to the entry)
    /// by name, so that a key it does not know there is ignored: true for the entry itself,
    /// `kubernetes` and its nested tables; false for maps (labels, feature flags, node
    /// selectors, ...), for the sections of other executors and features (`docker`, `cache`,
    /// ...), whose contents are not checked, and for tables the runner does not know.
    pub fn keys_checked(parent: &str) -> bool {
        catalogue().is_some_and(|c| c.checked(parent))
    }

    /// The keys the runner reads in table `parent` (dotted, relative to the entry), in the
    /// data's order, without the removed ones. Empty when [`Self::keys_checked`] is false.
    pub fn known_keys(parent: &str) -> Vec<&'static str> {
        catalogue()
            .filter(|c| c.checked(parent))
            .map(|c| {
                c.children(parent)
                    .filter(|k| k.removed.is_none())
                    .map(|k| k.name.as_str())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The runner version that removed key `path` (dotted, relative to the entry, spelled
    /// as the runner spells it), when it was removed: the runner ignores it since.
    pub fn key_removed(path: &str) -> Option<&'static str> {
        catalogue()?
            .rows(path)
            .next()
            .and_then(|k| k.removed.as_deref())
    }

    /// Whether runner `version` reads key `path` (dotted, relative to the entry, spelled as
    /// the runner spells it): the key is in the data, added by `version` (`since`, when
    /// given) and not removed by it (`removed`, when given).
    pub fn key_read_by(path: &str, version: RunnerVersion) -> bool {
        let bound = |v: &Option<String>| v.as_deref().and_then(|v| v.parse::<RunnerVersion>().ok());
        catalogue().is_some_and(|c| {
            c.rows(path).any(|k| {
                bound(&k.since).is_none_or(|s| version >= s)
                    && bound(&k.removed).is_none_or(|r| version < r)
            })
        })
    }

    /// Whether the embedded key data (data/gitlab-runner/) parses, as the tests make sure it
    /// does; the parse error otherwise, when every lookup here answers as for an unknown key.
    pub fn key_data() -> Result<(), &'static str> {
        CATALOGUE.as_ref().map(|_| ()).map_err(String::as_str)
    }
}

impl RunnerConfig {
    /// Whether a top-level key of a runner `config.toml` is `runners` as the runner's TOML
    /// decoder reads it: exactly, or equal under Unicode case folding (`[[Runners]]`).
    pub fn is_runners_key(key: &str) -> bool {
        equal_fold("runners", key)
    }
}

/// Go's `strings.EqualFold` for the runner's keys: equal rune by rune under simple Unicode
/// case folding. Go walks each rune's fold orbit; comparing the single-character lower and
/// upper case mappings gives the same answer for the runner's keys (all ASCII), including
/// the non-ASCII runes that fold onto ASCII letters (`K` KELVIN SIGN onto `k`, `ſ` LONG S
/// onto `s`).
fn equal_fold(a: &str, b: &str) -> bool {
    fn single(mut it: impl Iterator<Item = char>) -> Option<char> {
        let c = it.next()?;
        it.next().is_none().then_some(c)
    }
    a.chars().count() == b.chars().count()
        && a.chars().zip(b.chars()).all(|(x, y)| {
            x == y
                || single(x.to_lowercase()).is_some_and(|l| Some(l) == single(y.to_lowercase()))
                || single(x.to_uppercase()).is_some_and(|u| Some(u) == single(y.to_uppercase()))
        })
}

/// The top level of a `[[runners]]` entry (data/gitlab-runner/runner-config-keys.toml).
const ENTRY_KEYS: &str = include_str!("../../../data/gitlab-runner/runner-config-keys.toml");
/// `[runners.kubernetes]` (data/gitlab-runner/kubernetes-config-keys.toml).
const KUBERNETES_KEYS: &str =
    include_str!("../../../data/gitlab-runner/kubernetes-config-keys.toml");

#[derive(Deserialize)]
struct KeysFile {
    key: Vec<KeyRow>,
}

#[derive(Deserialize)]
struct KeyRow {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    table: bool,
    since: Option<String>,
    removed: Option<String>,
}

/// One key the runner reads, by its path relative to the `[[runners]]` entry.
struct KnownKey {
    path: String,
    /// The dotted path of the table holding it (`""` for the entry).
    parent: String,
    /// Its last segment, as the runner spells it.
    name: String,
    /// Whether it is a table whose keys the runner reads by name (a struct, not a map or
    /// an unchecked section).
    checked: bool,
    since: Option<String>,
    removed: Option<String>,
}

/// The catalogue's maps, hashed with `foldhash`: the loader and RG116 ask them for every
/// setting of every `[[runners]]` entry (1.5 million settings in 100,000 entries; issue #13).
type Fast<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

struct Catalogue {
    keys: Vec<KnownKey>,
    /// The indexes in `keys` of the rows of each path (one, or one per span of versions).
    by_path: Fast<String, Vec<usize>>,
    /// The indexes in `keys` of each table's keys, in the data's order, by the table's path:
    /// the loader asks for every key of every `[[runners]]` entry (100,000 entries, a few
    /// hundred known keys: issue #13).
    by_parent: Fast<String, Vec<usize>>,
    /// The index in `keys` of each table's key of each name (the first row of it), by the
    /// table's path: most keys are spelt as the runner spells them.
    named: Fast<String, Fast<String, usize>>,
}

impl Catalogue {
    fn parse() -> Result<Self, String> {
        let entry: KeysFile =
            toml::from_str(ENTRY_KEYS).map_err(|e| format!("runner-config-keys.toml: {e}"))?;
        let kubernetes: KeysFile = toml::from_str(KUBERNETES_KEYS)
            .map_err(|e| format!("kubernetes-config-keys.toml: {e}"))?;
        let rows = entry
            .key
            .into_iter()
            .map(|r| {
                // Of the entry's sections only `kubernetes` is checked; the others are
                // accepted whole.
                let checked = r.name == "kubernetes";
                (r, checked)
            })
            .chain(kubernetes.key.into_iter().map(|mut r| {
                r.name = format!("kubernetes.{}", r.name);
                let checked = r.table && !r.kind.starts_with("map[");
                (r, checked)
            }));
        let keys: Vec<KnownKey> = rows
            .map(|(r, checked)| {
                let (parent, name) = r.name.rsplit_once('.').unwrap_or(("", &r.name));
                KnownKey {
                    parent: parent.to_owned(),
                    name: name.to_owned(),
                    checked,
                    since: r.since,
                    removed: r.removed,
                    path: r.name,
                }
            })
            .collect();
        let mut by_path: Fast<String, Vec<usize>> = Fast::default();
        let mut by_parent: Fast<String, Vec<usize>> = Fast::default();
        let mut named: Fast<String, Fast<String, usize>> = Fast::default();
        for (i, k) in keys.iter().enumerate() {
            by_path.entry(k.path.clone()).or_default().push(i);
            by_parent.entry(k.parent.clone()).or_default().push(i);
            named
                .entry(k.parent.clone())
                .or_default()
                .entry(k.name.clone())
                .or_insert(i);
        }
        Ok(Self {
            keys,
            by_path,
            by_parent,
            named,
        })
    }

    /// The rows of `path`, in the data's order.
    fn rows<'a>(&'a self, path: &str) -> impl Iterator<Item = &'a KnownKey> {
        self.indexed(&self.by_path, path)
    }

    /// The keys at `index[at]`, in the data's order.
    fn indexed<'a>(
        &'a self,
        index: &'a Fast<String, Vec<usize>>,
        at: &str,
    ) -> impl Iterator<Item = &'a KnownKey> + Clone {
        index
            .get(at)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .map(|&i| &self.keys[i])
    }

    fn checked(&self, parent: &str) -> bool {
        parent.is_empty() || self.rows(parent).any(|k| k.checked)
    }

    fn children<'a>(&'a self, parent: &str) -> impl Iterator<Item = &'a KnownKey> + Clone {
        self.indexed(&self.by_parent, parent)
    }
}

/// The embedded key data, parsed once for the loader, the audit and the generator.
static CATALOGUE: LazyLock<Result<Catalogue, String>> = LazyLock::new(Catalogue::parse);

/// [`CATALOGUE`], `None` only if the embedded files do not parse, which the tests rule out;
/// keys are then left as written and none is reported.
fn catalogue() -> Option<&'static Catalogue> {
    CATALOGUE.as_ref().ok()
}

/// A Helm values file for the official gitlab-runner chart.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HelmValues {
    /// The file and the line where the values document starts.
    pub origin: Origin,
    /// Every key path in the file, parents before children (`runners`, `runners.config`,
    /// ...). List items are not separate entries: a list is the value of its key.
    pub entries: Vec<Setting>,
    /// `runners.config`, parsed, when it is a string of valid TOML.
    pub runner_config: Option<RunnerConfig>,
    /// Whether `runners.config` holds Helm template actions (`{{ ... }}`) that must be
    /// rendered (the chart applies `tpl` to it) before it is TOML.
    pub templated_config: bool,
    /// The whole values document as JSON text, credentials redacted as in `entries`, for
    /// rendering with the chart. Not part of any report.
    #[serde(skip)]
    pub document: String,
    /// What the GitOps wrapper holding these values (an Argo CD `Application`, a Flux
    /// `HelmRelease`) says about their release.
    pub release: ReleaseHints,
}

/// What the object that carries a values document says about its Helm release.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ReleaseHints {
    /// The wrapper, e.g. "Argo CD Application `argocd/gitlab-runner`".
    pub wrapper: Option<String>,
    /// The chart version it installs (`targetRevision`, `spec.chart.spec.version`).
    pub chart_version: Option<String>,
    /// The release name (`helm.releaseName`, `spec.releaseName`).
    pub release_name: Option<String>,
    /// The namespace it installs into (`destination.namespace`, `targetNamespace`).
    pub release_namespace: Option<String>,
}

impl HelmValues {
    /// The entry at dotted `path`, if present.
    pub fn get(&self, path: &str) -> Option<&Setting> {
        self.entries.iter().find(|s| s.key == path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_key_data_parses() {
        let c = catalogue().expect("the embedded key data parses");
        assert!(c.keys.iter().any(|k| k.path == "kubernetes.allowed_images"));
        assert!(c.keys.iter().any(|k| k.path == "limit"));
    }

    #[test]
    fn keys_match_as_the_runners_decoder_matches_them() {
        assert_eq!(RunnerEntry::canonical_key("", "limit"), Some("limit"));
        assert_eq!(RunnerEntry::canonical_key("", "LIMIT"), Some("limit"));
        assert_eq!(
            RunnerEntry::canonical_key("kubernetes", "Privileged"),
            Some("privileged")
        );
        // KELVIN SIGN folds onto `k`, as in Go's strings.EqualFold.
        assert_eq!(
            RunnerEntry::canonical_key("", "\u{212A}ubernetes"),
            Some("kubernetes")
        );
        assert_eq!(
            RunnerEntry::canonical_key("kubernetes.pod_security_context", "Run_As_User"),
            Some("run_as_user")
        );
        assert_eq!(
            RunnerEntry::canonical_key("kubernetes", "alowed_images"),
            None
        );
        assert_eq!(RunnerEntry::canonical_key("", "tls_ca_file"), None);
        assert!(RunnerConfig::is_runners_key("Runners"));
        assert!(!RunnerConfig::is_runners_key("runner"));
    }

    #[test]
    fn maps_and_other_sections_are_not_checked() {
        assert!(RunnerEntry::keys_checked(""));
        assert!(RunnerEntry::keys_checked("kubernetes"));
        assert!(RunnerEntry::keys_checked("kubernetes.volumes.host_path"));
        assert!(!RunnerEntry::keys_checked("kubernetes.node_selector"));
        assert!(!RunnerEntry::keys_checked("docker"));
        assert!(!RunnerEntry::keys_checked("feature_flags"));
        assert!(!RunnerEntry::keys_checked("kubernetes.pod_securty_context"));
        assert_eq!(RunnerEntry::canonical_key("docker", "image"), None);
    }

    #[test]
    fn removed_keys_say_since_when() {
        assert_eq!(RunnerEntry::key_removed("pre_clone_script"), Some("17.0"));
        assert_eq!(
            RunnerEntry::key_removed("kubernetes.terminationGracePeriodSeconds"),
            Some("17.0")
        );
        assert_eq!(RunnerEntry::key_removed("limit"), None);
        assert!(!RunnerEntry::known_keys("").contains(&"pre_clone_script"));
        assert!(RunnerEntry::known_keys("kubernetes").contains(&"allowed_images"));
    }

    #[test]
    fn keys_are_read_from_since_until_removed() {
        let v = |major, minor| RunnerVersion { major, minor };
        assert!(RunnerEntry::key_data().is_ok());
        let seccomp = "kubernetes.pod_security_context.seccomp_profile.type";
        assert!(!RunnerEntry::key_read_by(seccomp, v(18, 9)));
        assert!(RunnerEntry::key_read_by(seccomp, v(18, 11)));
        let grace = "kubernetes.terminationGracePeriodSeconds";
        assert!(RunnerEntry::key_read_by(grace, v(16, 11)));
        assert!(!RunnerEntry::key_read_by(grace, v(17, 0)));
        assert!(!RunnerEntry::key_read_by(
            "kubernetes.no_such_key",
            v(18, 9)
        ));
    }
}
