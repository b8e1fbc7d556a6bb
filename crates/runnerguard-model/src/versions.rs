//! Every version this build supports, in one place.
//!
//! The official gitlab-runner chart releases embedded in the binary, each with the GitLab
//! Runner release it installs (its `appVersion`), are listed once, in
//! [`with_chart_releases!`](crate::with_chart_releases). Everything else is derived from
//! that list: the chart archives (`runnerguard-chart`), the values keys each release reads
//! (`runnerguard-audit`), and the defaults `generate` writes and `audit` assumes.
//!
//! Supporting a new chart release is a change of this file: one line in the list, plus the
//! release's files under `data/` (its archive in `data/charts/gitlab-runner/`, its
//! values-paths from `scripts/chart-values-paths.py` in `data/gitlab-runner-chart/`, and
//! the PROVENANCE.md entries). The runner's own needs (`data/gitlab-runner/`) are
//! versioned by their own ranges, which may reach past the newest chart's runner.

use crate::executor::RunnerVersion;

/// Calls `$callback! { "chart" => "appVersion", ... }` with every embedded chart release,
/// oldest first: the one list of supported chart versions. A crate that embeds a file per
/// release defines a `macro_rules!` that takes that list, so a literal path can be built
/// for `include_bytes!`.
#[macro_export]
macro_rules! with_chart_releases {
    ($callback:ident) => {
        $callback! {
            "0.77.2" => "18.0.2",
            "0.79.0" => "18.2.0",
            "0.79.1" => "18.2.1",
            "0.80.1" => "18.3.1",
            "0.81.0" => "18.4.0",
            "0.82.0" => "18.5.0",
            "0.83.1" => "18.6.1",
            "0.83.2" => "18.6.2",
            "0.83.3" => "18.6.3",
            "0.84.1" => "18.7.1",
            "0.85.0" => "18.8.0",
            "0.86.0" => "18.9.0",
        }
    };
}

/// One official chart release.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChartRelease {
    /// The chart version, e.g. `0.86.0`.
    pub version: &'static str,
    /// Its appVersion: the GitLab Runner release it installs by default, e.g. `18.9.0`.
    pub app_version: &'static str,
    /// The runner version it installs, `major.minor`: `app_version`, parsed when this build
    /// was compiled.
    pub runner: RunnerVersion,
}

macro_rules! releases {
    ($($chart:literal => $app:literal,)*) => {
        /// Every embedded chart release, oldest first.
        pub const CHART_RELEASES: &[ChartRelease] = &[
            $(ChartRelease {
                version: $chart,
                app_version: $app,
                runner: RunnerVersion::parse_const($app),
            },)*
        ];
    };
}

with_chart_releases!(releases);

/// The numbers of a GitLab Runner release written in the source, `MAJOR.MINOR.PATCH` (an
/// appVersion of [`with_chart_releases!`](crate::with_chart_releases)), read at compile
/// time: both `RunnerVersion`s (this crate's `major.minor`, and the generator's, which keeps
/// the patch for the image tag) are built from it.
///
/// # Panics
/// On a malformed release, which, in a constant, fails the build instead.
pub const fn release_numbers(s: &str) -> [u32; 3] {
    let bytes = s.as_bytes();
    let mut parts = [0u32; 3];
    let mut part = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'.' && part < 2 {
            part += 1;
        } else if b.is_ascii_digit() {
            parts[part] = parts[part] * 10 + (b - b'0') as u32;
        } else {
            panic!("a runner release is MAJOR.MINOR.PATCH");
        }
        i += 1;
    }
    assert!(part == 2, "a runner release is MAJOR.MINOR.PATCH");
    parts
}

/// The chart release `generate` targets and `audit` assumes when nothing names one: the
/// newest embedded.
pub const DEFAULT_CHART: ChartRelease = CHART_RELEASES[CHART_RELEASES.len() - 1];

/// The GitLab Runner version `generate` targets and `audit` assumes when nothing names one:
/// the one [`DEFAULT_CHART`] installs, so that `audit` judges `generate`'s setup by the runner
/// it deploys.
pub const DEFAULT_RUNNER: RunnerVersion = DEFAULT_CHART.runner;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_are_sorted_and_their_app_versions_parse() {
        for pair in CHART_RELEASES.windows(2) {
            let key = |c: &ChartRelease| {
                c.version
                    .split('.')
                    .map(|p| p.parse::<u32>().unwrap())
                    .collect::<Vec<_>>()
            };
            assert!(key(&pair[0]) < key(&pair[1]), "{pair:?}");
            assert!(pair[0].runner <= pair[1].runner, "{pair:?}");
        }
        for c in CHART_RELEASES {
            assert_eq!(
                c.runner,
                c.app_version.parse::<RunnerVersion>().unwrap(),
                "{c:?}"
            );
        }
    }

    #[test]
    fn the_default_is_the_newest_release_and_its_runner() {
        assert_eq!(Some(&DEFAULT_CHART), CHART_RELEASES.last());
        assert_eq!(DEFAULT_RUNNER, DEFAULT_CHART.app_version.parse().unwrap());
    }
}
