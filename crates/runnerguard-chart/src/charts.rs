//! The official chart archives, embedded unmodified (data/charts/gitlab-runner/, with
//! PROVENANCE.md), and reading files out of them.

use std::io::Read;

use crate::Error;

/// One official gitlab-runner chart archive.
#[derive(Debug)]
pub struct Chart {
    /// The chart version, e.g. `0.86.0`.
    pub version: &'static str,
    /// Its appVersion: the GitLab Runner release the chart installs by default.
    pub app_version: &'static str,
    /// The `.tgz` archive, byte for byte as GitLab published it.
    pub archive: &'static [u8],
}

macro_rules! embed {
    ($($chart:literal => $app:literal,)*) => {
        /// Every embedded chart, oldest first: the releases of
        /// [`runnerguard_model::versions`], each with its archive.
        pub static CHARTS: &[Chart] = &[
            $(Chart {
                version: $chart,
                app_version: $app,
                archive: include_bytes!(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../../data/charts/gitlab-runner/gitlab-runner-",
                    $chart,
                    ".tgz"
                )),
            },)*
        ];
    };
}

runnerguard_model::with_chart_releases!(embed);

impl Chart {
    /// The embedded chart `version` (exact), if this build has it.
    pub fn find(version: &str) -> Option<&'static Chart> {
        let version = version.trim_start_matches('v');
        CHARTS.iter().find(|c| c.version == version)
    }

    /// The newest embedded chart, the default.
    pub fn newest() -> &'static Chart {
        CHARTS
            .last()
            .unwrap_or_else(|| unreachable!("at least one chart is embedded"))
    }

    /// The versions this build embeds, oldest first, comma-separated (for messages).
    pub fn supported() -> String {
        CHARTS
            .iter()
            .map(|c| c.version)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The text of `path` inside the chart (`values.yaml`, `templates/role.yaml`).
    pub fn file(&self, path: &str) -> Result<String, Error> {
        let [text] = self.files([path])?;
        Ok(text)
    }

    /// The texts of several files of the chart, read in one pass over the archive.
    pub fn files<const N: usize>(&self, paths: [&str; N]) -> Result<[String; N], Error> {
        let error = |message: String| Error::Chart {
            version: self.version.to_owned(),
            message,
        };
        let mut found: [Option<String>; N] = std::array::from_fn(|_| None);
        let gz = flate2::read::GzDecoder::new(self.archive);
        let mut archive = tar::Archive::new(gz);
        for entry in archive.entries().map_err(|e| error(e.to_string()))? {
            let mut entry = entry.map_err(|e| error(e.to_string()))?;
            let path = entry.path().map_err(|e| error(e.to_string()))?;
            let Some(i) = path
                .to_str()
                .and_then(|p| p.strip_prefix("gitlab-runner/"))
                .and_then(|p| paths.iter().position(|w| *w == p))
            else {
                continue;
            };
            let mut text = String::new();
            entry
                .read_to_string(&mut text)
                .map_err(|e| error(e.to_string()))?;
            found[i] = Some(text);
            if found.iter().all(Option::is_some) {
                break;
            }
        }
        let mut out: [String; N] = std::array::from_fn(|_| String::new());
        for (i, text) in found.into_iter().enumerate() {
            out[i] = text.ok_or_else(|| error(format!("no `{}` in the archive", paths[i])))?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_archive_has_its_version_and_values() {
        for chart in CHARTS {
            let meta = chart.file("Chart.yaml").unwrap();
            assert!(
                meta.lines()
                    .any(|l| l.trim() == format!("version: {}", chart.version)),
                "{}: {meta}",
                chart.version
            );
            assert!(
                meta.lines().any(|l| l.trim().trim_matches('"')
                    == format!("appVersion: {}", chart.app_version)
                    || l.trim() == format!("appVersion: {}", chart.app_version)),
                "{}: appVersion",
                chart.version
            );
            assert!(chart.file("values.yaml").unwrap().contains("runners:"));
        }
        // The archives are the releases of `versions`, in order, and the default is the newest.
        let versions: Vec<_> = CHARTS.iter().map(|c| (c.version, c.app_version)).collect();
        let releases: Vec<_> = runnerguard_model::versions::CHART_RELEASES
            .iter()
            .map(|c| (c.version, c.app_version))
            .collect();
        assert_eq!(versions, releases);
        assert_eq!(
            Chart::newest().version,
            runnerguard_model::versions::DEFAULT_CHART.version
        );
        assert!(Chart::find("v0.77.2").is_some());
        assert!(Chart::find("0.40.0").is_none());
    }
}
