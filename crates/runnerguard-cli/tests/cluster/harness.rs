//! A real control plane for one test binary: `scripts/k8s/start.sh` in a temporary folder,
//! `scripts/k8s/stop.sh` when the [`Cluster`] is dropped.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The workspace root.
pub(crate) fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// What the API server's audit log records: every request's metadata, and Secrets' requests
/// with their answers (so that an answer holding a Secret's data would show).
const AUDIT_POLICY: &str = "apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: RequestResponse
  resources: [{group: \"\", resources: [secrets]}]
- level: Metadata
";

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
        // Every request is in the audit log, Secrets' with their answers: the live loader's
        // requests are checked there (`audit_log`).
        std::fs::write(dir.path().join("audit-policy.yaml"), AUDIT_POLICY).unwrap();
        let audit = format!(
            "--audit-policy-file={} --audit-log-path={} --audit-log-mode=blocking",
            dir.path().join("audit-policy.yaml").display(),
            dir.path().join("audit.log").display()
        );
        let out = Command::new("bash")
            .arg(root().join("scripts/k8s/start.sh"))
            .arg(dir.path())
            .env("APISERVER_EXTRA_ARGS", audit)
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

    /// The API server's audit log: one JSON event per line.
    pub(crate) fn audit_log(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.dir.path().join("audit.log"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// A kubeconfig (written in the scratch folder) that acts as ServiceAccount
    /// `namespace/name` with a token the API server issued, as a pod of it would.
    pub(crate) fn service_account_kubeconfig(&self, namespace: &str, name: &str) -> PathBuf {
        let token = self.kubectl_ok(&["create", "token", name, "-n", namespace], None);
        let view = |path: &str| {
            self.kubectl_ok(
                &[
                    "config",
                    "view",
                    "--raw",
                    "-o",
                    &format!("jsonpath={{{path}}}"),
                ],
                None,
            )
        };
        let kubeconfig = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: {}\n    certificate-authority-data: {}\n\
             users:\n- name: sa\n  user:\n    token: {}\n\
             contexts:\n- name: sa\n  context: {{cluster: test, user: sa}}\ncurrent-context: sa\n",
            view(".clusters[0].cluster.server"),
            view(".clusters[0].cluster.certificate-authority-data"),
            token.trim()
        );
        let file = self
            .dir
            .path()
            .join(format!("{namespace}-{name}.kubeconfig"));
        std::fs::write(&file, kubeconfig).unwrap();
        file
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
