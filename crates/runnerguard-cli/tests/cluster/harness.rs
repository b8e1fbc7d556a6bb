//! A real control plane for one test binary: `scripts/k8s/start.sh` in a temporary folder,
//! `scripts/k8s/stop.sh` when the [`Cluster`] is dropped.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The workspace root.
pub(crate) fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A running kube-apiserver (with etcd and the controller manager) and a kubectl for it.
pub(crate) struct Cluster {
    dir: tempfile::TempDir,
    kubectl: PathBuf,
}

/// Why the cluster tests cannot run here, or `None` when they can.
fn missing() -> Option<String> {
    let Some(assets) = std::env::var_os("KUBEBUILDER_ASSETS") else {
        return Some(
            "KUBEBUILDER_ASSETS is not set (a folder holding kube-apiserver, etcd and kube-controller-manager: `export KUBEBUILDER_ASSETS=$(../shared/k8s/unpack.sh)`)".to_owned(),
        );
    };
    let assets = PathBuf::from(assets);
    for binary in ["kube-apiserver", "etcd", "kube-controller-manager"] {
        if !assets.join(binary).is_file() {
            return Some(format!(
                "no {binary} in KUBEBUILDER_ASSETS ({})",
                assets.display()
            ));
        }
    }
    if kubectl().is_none() {
        return Some(
            "no kubectl (set RUNNERGUARD_KUBECTL, or run scripts/install-tools.sh)".to_owned(),
        );
    }
    None
}

/// `RUNNERGUARD_KUBECTL`, else the one scripts/install-tools.sh installs.
fn kubectl() -> Option<PathBuf> {
    std::env::var_os("RUNNERGUARD_KUBECTL")
        .map(PathBuf::from)
        .or_else(|| Some(root().join("target/tools/bin/kubectl")))
        .filter(|p| p.is_file())
}

impl Cluster {
    /// Starts a control plane, or says why not and returns `None`: the tests are skipped on
    /// a machine without the binaries, and fail in CI (`CI` set), where they are required.
    pub(crate) fn start() -> Option<Self> {
        if let Some(why) = missing() {
            assert!(
                std::env::var_os("CI").is_none(),
                "the real-API-server tests are required in CI: {why}"
            );
            eprintln!("skipped: {why}");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("bash")
            .arg(root().join("scripts/k8s/start.sh"))
            .arg(dir.path())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let cluster = Self {
            dir,
            kubectl: kubectl().unwrap(),
        };
        assert!(
            out.status.success(),
            "start.sh failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Some(cluster)
    }

    /// The admin kubeconfig (`system:masters`).
    pub(crate) fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    /// A scratch folder that lives as long as the cluster.
    pub(crate) fn scratch(&self) -> &Path {
        self.dir.path()
    }

    /// Runs kubectl as the admin with `stdin` piped in; the output, whatever the exit code.
    pub(crate) fn kubectl(&self, args: &[&str], stdin: Option<&[u8]>) -> Output {
        let mut child = Command::new(&self.kubectl)
            .args(args)
            .env("KUBECONFIG", self.kubeconfig())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut pipe = child.stdin.take().unwrap();
        let input = stdin.map(<[u8]>::to_vec);
        let writer = std::thread::spawn(move || {
            if let Some(bytes) = input {
                let _ = pipe.write_all(&bytes);
            }
        });
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap();
        out
    }

    /// Runs kubectl and requires success; its stdout.
    pub(crate) fn kubectl_ok(&self, args: &[&str], stdin: Option<&[u8]>) -> String {
        let out = self.kubectl(args, stdin);
        assert!(
            out.status.success(),
            "kubectl {args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(root().join("scripts/k8s/stop.sh"))
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}
