//! The real `helm template`, on local files only.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{ChartSource, Error, Release, Rendered};

/// How long one `helm` run may take. Rendering the chart takes about 0.1 s; a run that takes
/// this long is stuck (a hostile chart path, a plugin waiting on something).
const TIMEOUT: Duration = Duration::from_secs(60);

/// A `helm` binary that answered `helm version`.
#[derive(Clone, Debug)]
pub struct Helm {
    path: PathBuf,
    version: String,
}

impl Helm {
    /// The helm to use: `$RUNNERGUARD_HELM`, else `helm` on `PATH`. `Ok(None)` when neither
    /// is there; an error when the one named does not run.
    pub fn locate() -> Result<Option<Self>, Error> {
        let path = std::env::var_os("RUNNERGUARD_HELM")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| find_on_path("helm"));
        path.map(|p| Self::at(&p)).transpose()
    }

    /// The helm binary at `path`, checked by running `helm version --short`.
    pub fn at(path: &Path) -> Result<Self, Error> {
        let mut cmd = Command::new(path);
        cmd.args(["version", "--short"]);
        let (status, stdout, stderr) = run(cmd, None, path)?;
        if !status {
            return Err(Error::Helm(format!(
                "`{} version` failed: {}",
                path.display(),
                stderr.trim()
            )));
        }
        let version = stdout
            .trim()
            .split('+')
            .next()
            .unwrap_or_default()
            .to_owned();
        Ok(Self {
            path: path.to_path_buf(),
            version,
        })
    }

    /// Helm's version, e.g. `v4.1.4`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Renders `release` with `chart`: `helm template NAME CHART --namespace NS -f ...`, in
    /// an isolated Helm home (no repositories, plugins or registry logins of the user's), on
    /// local files only.
    pub fn render(&self, release: &Release, chart: &ChartSource) -> Result<Rendered, Error> {
        let dir = tempfile::tempdir().map_err(|e| Error::Io(e.to_string()))?;
        let chart_path = match chart {
            ChartSource::Embedded(c) => {
                let p = dir.path().join(format!("gitlab-runner-{}.tgz", c.version));
                std::fs::write(&p, c.archive).map_err(|e| Error::Io(e.to_string()))?;
                p
            }
            ChartSource::Path(p) => {
                if !p.exists() {
                    return Err(Error::Helm(format!(
                        "chart `{}` not found: give a local chart archive (.tgz) or directory",
                        p.display()
                    )));
                }
                p.clone()
            }
        };
        let mut cmd = Command::new(&self.path);
        cmd.arg("template")
            .arg(&release.name)
            .arg(&chart_path)
            .arg("--namespace")
            .arg(&release.namespace);
        for (i, values) in release.values.iter().enumerate() {
            let p = dir.path().join(format!("values-{i}.json"));
            let mut f = std::fs::File::create(&p).map_err(|e| Error::Io(e.to_string()))?;
            f.write_all(values.json.as_bytes())
                .map_err(|e| Error::Io(e.to_string()))?;
            cmd.arg("--values").arg(&p);
        }
        let home = dir.path().join("helm-home");
        for var in ["HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"] {
            cmd.env(var, &home);
        }
        cmd.env("HELM_PLUGINS", home.join("plugins"))
            .env("HELM_REGISTRY_CONFIG", home.join("registry.json"))
            .env("HELM_REPOSITORY_CONFIG", home.join("repositories.yaml"))
            .env("HELM_REPOSITORY_CACHE", home.join("repository"))
            .env_remove("KUBECONFIG");
        let (ok, stdout, stderr) = run(cmd, Some(TIMEOUT), &self.path)?;
        if !ok {
            let names: Vec<&str> = release.values.iter().map(|v| v.name.as_str()).collect();
            return Err(Error::Helm(format!(
                "{} (values: {})",
                clean_helm_error(&stderr, dir.path()),
                names.join(", ")
            )));
        }
        Ok(Rendered {
            manifests: stdout,
            how: format!(
                "rendered by helm {} with chart {}",
                self.version,
                chart.describe()
            ),
            notes: Vec::new(),
        })
    }
}

/// Helm's message without our temporary paths, which mean nothing to the user.
fn clean_helm_error(stderr: &str, dir: &Path) -> String {
    let text = stderr.trim().replace(&format!("{}/", dir.display()), "");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Runs `cmd` with no stdin, collecting stdout and stderr, killing it after `timeout`.
fn run(
    mut cmd: Command,
    timeout: Option<Duration>,
    path: &Path,
) -> Result<(bool, String, String), Error> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| Error::Helm(format!("cannot run `{}`: {e}", path.display())))?;
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let out = std::thread::spawn(move || {
        let mut s = Vec::new();
        if let Some(o) = stdout.as_mut() {
            let _ = o.read_to_end(&mut s);
        }
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = Vec::new();
        if let Some(o) = stderr.as_mut() {
            let _ = o.read_to_end(&mut s);
        }
        s
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {
                if timeout.is_some_and(|t| start.elapsed() > t) {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(Error::Helm(format!(
                        "`{}` did not finish within {} s",
                        path.display(),
                        timeout.map_or(0, |t| t.as_secs())
                    )));
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => return Err(Error::Helm(e.to_string())),
        }
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    Ok((
        status.success(),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    ))
}
