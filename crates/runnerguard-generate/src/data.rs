//! The runner facts the generator builds from, read from the project's data files (each with
//! its provenance beside it): what the Kubernetes executor needs, by runner version
//! (data/gitlab-runner/executor-permissions.toml, parsed once for the audit and the generator
//! in `runnerguard_model::executor`), and which `[runners.kubernetes]` keys a
//! runner version reads (data/gitlab-runner/kubernetes-config-keys.toml, parsed once for the
//! loader, the audit and the generator in `runnerguard_model::RunnerEntry`).

use std::fmt;
use std::str::FromStr;

use runnerguard_model::RunnerEntry;
use runnerguard_model::executor::{self, Permission};

use crate::GenerateError;

/// A GitLab Runner version. Permissions and keys change with `major.minor`; the patch level
/// only names the image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RunnerVersion {
    /// Major version.
    pub major: u32,
    /// Minor version.
    pub minor: u32,
    /// Patch level.
    pub patch: u32,
}

impl RunnerVersion {
    /// Parses `MAJOR.MINOR.PATCH` at compile time, for a version written in the source
    /// (a chart's appVersion); only ever called to build a constant.
    ///
    /// # Panics
    /// On a malformed version ([`runnerguard_model::versions::release_numbers`]), which, in
    /// a constant, fails the build instead.
    pub(crate) const fn parse_const(s: &str) -> Self {
        let [major, minor, patch] = runnerguard_model::versions::release_numbers(s);
        Self::new(major, minor, patch)
    }

    /// `major.minor.patch`.
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        Self {
            major,
            minor,
            patch,
        }
    }

    /// `(major, minor)`, what version comparisons use.
    pub(crate) fn minor_version(self) -> (u32, u32) {
        (self.major, self.minor)
    }

    /// Whether this version is `major.minor` or later.
    pub(crate) fn at_least(self, major: u32, minor: u32) -> bool {
        self.minor_version() >= (major, minor)
    }
}

impl FromStr for RunnerVersion {
    type Err = String;

    /// Parses `18.9`, `18.9.1` or `v18.9.0`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad =
            || format!("`{s}` is not a runner version (expected MAJOR.MINOR[.PATCH], e.g. 18.9.0)");
        let t = s.trim().trim_start_matches('v');
        let parts: Vec<&str> = t.split('.').collect();
        if !(2..=3).contains(&parts.len()) {
            return Err(bad());
        }
        let num = |p: &str| -> Result<u32, String> {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            p.parse().map_err(|_| bad())
        };
        Ok(Self {
            major: num(parts[0])?,
            minor: num(parts[1])?,
            patch: parts.get(2).map_or(Ok(0), |p| num(p))?,
        })
    }
}

impl fmt::Display for RunnerVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// The executor's permissions for `version`: its range's table (shared with the audit, in
/// `runnerguard_model::executor`) without the rows whose `since`/`until` leave it out. `None`
/// for versions before the oldest range.
pub(crate) fn executor_rows(
    version: RunnerVersion,
) -> Result<Option<Vec<Permission>>, GenerateError> {
    let tables = executor::permission_tables().map_err(|e| GenerateError::Data(e.to_string()))?;
    let minor = executor::RunnerVersion {
        major: version.major,
        minor: version.minor,
    };
    Ok(executor::table_for(&tables, minor).map(|t| t.permissions))
}

/// The `[runners.kubernetes]` keys of the data file, as the model reads them.
pub(crate) struct Keys;

impl Keys {
    /// Checks that the embedded data file parses.
    pub(crate) fn load() -> Result<Self, GenerateError> {
        RunnerEntry::key_data().map_err(|e| GenerateError::Data(e.to_owned()))?;
        Ok(Self)
    }

    /// Whether runner `version` reads `[runners.kubernetes]` key `name` (dotted below
    /// `[runners.kubernetes]`, e.g. `pod_security_context.run_as_user`).
    #[expect(clippy::unused_self, reason = "a `Keys` proves the data parses")]
    pub(crate) fn reads(&self, version: RunnerVersion, name: &str) -> bool {
        let version = executor::RunnerVersion {
            major: version.major,
            minor: version.minor,
        };
        RunnerEntry::key_read_by(&format!("kubernetes.{name}"), version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> RunnerVersion {
        s.parse().unwrap()
    }

    #[test]
    fn versions_parse() {
        assert_eq!(v("18.9"), RunnerVersion::new(18, 9, 0));
        assert_eq!(v("v18.11.2"), RunnerVersion::new(18, 11, 2));
        assert_eq!(v("18.9.0").to_string(), "18.9.0");
        // The compile-time parse of the default chart's appVersion agrees with the parser.
        let app = runnerguard_model::versions::DEFAULT_CHART.app_version;
        assert_eq!(RunnerVersion::parse_const(app), v(app));
        assert_eq!(crate::DEFAULT_RUNNER_VERSION, v(app));
        for bad in ["18", "18.x", "18.9.0.1", "", "18..1", "18.9.0-rc1"] {
            assert!(bad.parse::<RunnerVersion>().is_err(), "{bad}");
        }
        assert!(v("18.10").at_least(18, 9));
        assert!(!v("17.11").at_least(18, 0));
    }

    #[test]
    fn executor_rows_follow_the_version() {
        let rows = executor_rows(v("18.9")).unwrap().unwrap();
        assert!(
            rows.iter()
                .any(|r| r.resource == "pods/exec" && r.need == executor::Need::Required)
        );
        assert!(!rows.iter().any(|r| r.resource == "poddisruptionbudgets"));
        let rows = executor_rows(v("18.11")).unwrap().unwrap();
        assert!(rows.iter().any(|r| r.resource == "poddisruptionbudgets"));
        assert!(executor_rows(v("16.11")).unwrap().is_none());
    }

    #[test]
    fn keys_follow_the_version() {
        let keys = Keys::load().unwrap();
        assert!(keys.reads(v("18.9"), "automount_service_account_token"));
        assert!(keys.reads(v("18.9"), "pod_security_context.run_as_user"));
        assert!(!keys.reads(v("18.9"), "pod_security_context.seccomp_profile.type"));
        assert!(keys.reads(v("18.11"), "pod_security_context.seccomp_profile.type"));
        assert!(!keys.reads(v("18.9"), "terminationGracePeriodSeconds"));
        assert!(!keys.reads(v("18.9"), "no_such_key"));
    }
}
