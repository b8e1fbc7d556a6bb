//! What the GitLab Runner Kubernetes executor needs, by runner version: data from
//! data/gitlab-runner/executor-permissions.toml (sources in its PROVENANCE.md), embedded in
//! the binary. The audit checks a manager's rights against it; the generator writes the
//! executor Role from it.

use std::fmt;
use std::ops::RangeInclusive;
use std::str::FromStr;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

/// A runner version, `major.minor` (patch versions do not change permissions).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct RunnerVersion {
    /// Major version.
    pub major: u32,
    /// Minor version.
    pub minor: u32,
}

impl RunnerVersion {
    /// `major.minor`.
    pub const fn new(major: u32, minor: u32) -> Self {
        Self { major, minor }
    }

    /// The `major.minor` of a release written in the source ([`crate::versions`]), at
    /// compile time; only ever called to build a constant.
    ///
    /// # Panics
    /// On a malformed release ([`crate::versions::release_numbers`]), which, in a constant,
    /// fails the build instead.
    pub(crate) const fn parse_const(s: &str) -> Self {
        let [major, minor, _] = crate::versions::release_numbers(s);
        Self { major, minor }
    }
}

impl FromStr for RunnerVersion {
    type Err = String;

    /// Parses `18.9`, `18.9.1`, `v18.9.0` or `18.9.0-rc1`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("invalid runner version `{s}` (expected MAJOR.MINOR, e.g. 18.9)");
        let t = s.trim().trim_start_matches('v');
        let mut parts = t.split(['.', '-']);
        let major = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let minor = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        Ok(Self { major, minor })
    }
}

impl fmt::Display for RunnerVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// How much a permission matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Need {
    /// Jobs fail without it.
    Required,
    /// Jobs run, with a warning or a fallback.
    Degraded,
    /// Only when a feature is configured.
    Feature,
}

/// Namespace or cluster scope.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// In each job namespace.
    #[default]
    Namespace,
    /// Cluster-wide.
    Cluster,
}

/// One permission the executor uses.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct Permission {
    /// The API group (`""` for core).
    pub group: String,
    /// The resource, possibly `resource/subresource`.
    pub resource: String,
    /// The verbs it needs.
    pub verbs: Vec<String>,
    /// Further verbs the runner documentation lists but the code does not use.
    #[serde(default)]
    pub docs_also: Vec<String>,
    /// How much it matters.
    pub need: Need,
    /// For [`Need::Feature`]: the feature that needs it.
    #[serde(default)]
    pub feature: String,
    /// Why the runner needs it.
    pub why: String,
    /// Namespace or cluster scope.
    #[serde(default)]
    pub scope: Scope,
    /// The first version of its range that needs it, when later than the range's start.
    #[serde(default, deserialize_with = "opt_version")]
    pub since: Option<RunnerVersion>,
    /// The last version of its range that needs it.
    #[serde(default, deserialize_with = "opt_version")]
    pub until: Option<RunnerVersion>,
}

impl Permission {
    /// Whether `version` needs this permission (its `since`/`until` bounds).
    pub fn applies_to(&self, version: RunnerVersion) -> bool {
        self.since.is_none_or(|s| version >= s) && self.until.is_none_or(|u| version <= u)
    }
}

/// The permissions of one range of runner versions.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct PermissionTable {
    /// The range's name, e.g. `18.0-18.10`.
    pub name: String,
    /// First version of the range.
    #[serde(deserialize_with = "version")]
    pub min: RunnerVersion,
    /// Last version of the range; open-ended when absent.
    #[serde(default, deserialize_with = "opt_version")]
    pub max: Option<RunnerVersion>,
    /// The permissions.
    #[serde(rename = "permission")]
    pub permissions: Vec<Permission>,
}

fn version<'de, D: serde::Deserializer<'de>>(d: D) -> Result<RunnerVersion, D::Error> {
    String::deserialize(d)?
        .parse()
        .map_err(serde::de::Error::custom)
}

fn opt_version<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<RunnerVersion>, D::Error> {
    version(d).map(Some)
}

#[derive(Deserialize)]
struct File {
    range: Vec<PermissionTable>,
}

const DATA: &str = include_str!("../../../data/gitlab-runner/executor-permissions.toml");

/// The embedded permission data does not parse (a build of this crate with a broken data
/// file; the crate's tests catch it).
#[derive(Debug)]
pub struct DataError(String);

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "executor-permissions.toml: {}", self.0)
    }
}

impl std::error::Error for DataError {}

/// The tables, parsed once per process.
static TABLES: LazyLock<Result<Vec<PermissionTable>, String>> = LazyLock::new(|| {
    let mut file: File = toml::from_str(DATA).map_err(|e| e.to_string())?;
    file.range.sort_by_key(|t| t.min);
    Ok(file.range)
});

/// The executor's permission tables, oldest range first.
pub fn permission_tables() -> Result<Vec<PermissionTable>, DataError> {
    TABLES.clone().map_err(DataError)
}

/// The runner versions the tables describe: from the oldest range's first version to the
/// newest version they name (a range's bounds, a row's `since` or `until`). [`table_for`]
/// applies the open-ended newest range to later versions too, but what those releases need
/// is not known yet: `generate` refuses them. Adding a release's data widens this span with no
/// code change.
pub fn known_versions() -> Result<RangeInclusive<RunnerVersion>, DataError> {
    let tables = TABLES.as_ref().map_err(|e| DataError(e.clone()))?;
    let oldest = tables
        .first()
        .map(|t| t.min)
        .ok_or_else(|| DataError("no [[range]]".to_owned()))?;
    let newest = tables
        .iter()
        .flat_map(|t| {
            let rows = t
                .permissions
                .iter()
                .flat_map(|p| p.since.into_iter().chain(p.until));
            std::iter::once(t.min).chain(t.max).chain(rows)
        })
        .max()
        .unwrap_or(oldest);
    Ok(oldest..=newest)
}

/// The permissions `version` needs: its range's table (the newest range for versions newer
/// than every range), without the rows whose `since`/`until` exclude `version`.
pub fn table_for(tables: &[PermissionTable], version: RunnerVersion) -> Option<PermissionTable> {
    let range = tables
        .iter()
        .find(|t| t.min <= version && t.max.is_none_or(|max| version <= max))
        .or_else(|| tables.last().filter(|t| version >= t.min))?;
    let mut table = range.clone();
    table.permissions.retain(|p| p.applies_to(version));
    Some(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse() {
        let v: RunnerVersion = "v18.9.0".parse().unwrap();
        assert_eq!((v.major, v.minor), (18, 9));
        assert!("18".parse::<RunnerVersion>().is_err());
        assert!("18.10".parse::<RunnerVersion>().unwrap() > "18.9".parse().unwrap());
    }

    #[test]
    fn known_versions_span_the_tables() {
        let known = known_versions().unwrap();
        let v = |s: &str| s.parse::<RunnerVersion>().unwrap();
        assert_eq!(known, v("17.0")..=v("18.11"));
        let tables = permission_tables().unwrap();
        assert!(table_for(&tables, *known.start()).is_some());
        let before = RunnerVersion {
            major: known.start().major - 1,
            minor: 99,
        };
        assert!(table_for(&tables, before).is_none());
    }

    #[test]
    fn embedded_tables_load_and_cover_17_to_18() {
        let tables = permission_tables().unwrap();
        for v in ["17.0", "17.9", "18.0", "18.9", "18.10", "18.11", "19.3"] {
            let t = table_for(&tables, v.parse().unwrap());
            assert!(t.is_some(), "no table for {v}");
        }
        let t = table_for(&tables, "18.9".parse().unwrap()).unwrap();
        // `since = "18.10"` rows are not in 18.9's table, but are in 18.10's.
        assert!(
            !t.permissions
                .iter()
                .any(|p| p.resource == "poddisruptionbudgets")
        );
        let t10 = table_for(&tables, "18.10".parse().unwrap()).unwrap();
        assert!(
            t10.permissions
                .iter()
                .any(|p| p.resource == "poddisruptionbudgets")
        );
        // `until = "17.1"` rows are gone by 17.2.
        let t17_1 = table_for(&tables, "17.1".parse().unwrap()).unwrap();
        let t17_2 = table_for(&tables, "17.2".parse().unwrap()).unwrap();
        let degraded_events = |t: &PermissionTable| {
            t.permissions
                .iter()
                .any(|p| p.resource == "events" && p.need == Need::Degraded)
        };
        assert!(!degraded_events(&t17_1) && degraded_events(&t17_2));
        let needs = |res: &str| {
            t.permissions
                .iter()
                .any(|p| p.resource == res && p.need == Need::Required)
        };
        assert!(needs("pods/exec") && needs("pods/attach") && needs("pods"));
    }
}
