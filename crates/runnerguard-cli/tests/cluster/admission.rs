//! The generated setup applies, and the API server's own admission (the generated
//! ValidatingAdmissionPolicies, Pod Security) admits the job pods the runner manager creates
//! and rejects every other pod in the job and manager namespaces: for the built-in default
//! setup and for the three-tenant example. No kubelet or scheduler runs: admitted pods stay
//! Pending, which is all admission decides.

use std::path::Path;
use std::process::Command;

use super::harness::{Cluster, root};

/// A pod as the manager creates one (or as a test varies it): restricted-compliant, so that
/// only what is varied can be why it is rejected.
fn pod(namespace: &str, name: &str, service_account: &str, extra: &str) -> String {
    pod_with(
        namespace,
        name,
        service_account,
        &format!("{{allowPrivilegeEscalation: false, capabilities: {{drop: [ALL]}}{extra}}}"),
    )
}

/// A pod whose container has `security` as its securityContext.
fn pod_with(namespace: &str, name: &str, service_account: &str, security: &str) -> String {
    format!(
        r"apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  serviceAccountName: {service_account}
  automountServiceAccountToken: false
  securityContext: {{runAsNonRoot: true, runAsUser: 1000, seccompProfile: {{type: RuntimeDefault}}}}
  containers:
  - name: build
    image: alpine:3.22
    securityContext: {security}
"
    )
}

/// What the API server answered to creating `manifest` as `user` (the admin when empty):
/// `Ok` when admitted, else its message.
fn create_as(cluster: &Cluster, user: &str, manifest: &str) -> Result<(), String> {
    let mut args = vec!["create", "-f", "-"];
    if !user.is_empty() {
        args.extend(["--as", user]);
    }
    let out = cluster.kubectl(&args, Some(manifest.as_bytes()));
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn generate(out: &Path, config: Option<&str>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_runnerguard"));
    cmd.arg("generate").arg("--out").arg(out);
    if let Some(c) = config {
        cmd.arg("--config").arg(root().join(c));
    }
    let status = cmd.output().unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
}

/// One tenant: where its jobs run and as whom, and the manager that creates them.
struct Tenant {
    manager_namespace: &'static str,
    manager: &'static str,
    jobs: &'static str,
    job_account: &'static str,
    other_account: &'static str,
}

pub(crate) fn generated_setups_apply_and_admission_holds(cluster: &Cluster) {
    let default = cluster.scratch().join("generated-default");
    generate(&default, None);
    cluster.kubectl_ok(
        &["apply", "--server-side", "-k", default.to_str().unwrap()],
        None,
    );
    check(
        cluster,
        &Tenant {
            manager_namespace: "gitlab-runner",
            manager: "gitlab-runner",
            jobs: "teams",
            job_account: "ci-job",
            other_account: "ci-deployer",
        },
    );

    let tenants = cluster.scratch().join("generated-tenants");
    generate(&tenants, Some("examples/runnerguard-three-tenants.toml"));
    // The deploy namespaces that are not the setup's must exist first, as its INSTALL.md says.
    let install = std::fs::read_to_string(tenants.join("INSTALL.md")).unwrap();
    assert!(install.contains("kubectl get namespace monitoring ingress"));
    cluster.kubectl_ok(&["create", "namespace", "monitoring"], None);
    cluster.kubectl_ok(&["create", "namespace", "ingress"], None);
    cluster.kubectl_ok(
        &["apply", "--server-side", "-k", tenants.to_str().unwrap()],
        None,
    );
    for (manager, jobs) in [
        ("gitlab-runner-data", "data"),
        ("gitlab-runner-ops", "ops-ci"),
        ("gitlab-runner-web", "web-ci"),
    ] {
        check(
            cluster,
            &Tenant {
                manager_namespace: "ci-runners",
                manager,
                jobs,
                job_account: "ci-job",
                other_account: "default",
            },
        );
    }
}

fn check(cluster: &Cluster, t: &Tenant) {
    let manager = format!(
        "system:serviceaccount:{}:{}",
        t.manager_namespace, t.manager
    );
    let ns = t.jobs;
    // A new policy takes effect once the API server's policy controller has read it (about
    // a second): wait, with server-side dry runs, until it refuses what it must.
    let probe = pod(ns, "probe", "default", "");
    let mut active = false;
    for _ in 0..120 {
        let out = cluster.kubectl(
            &["create", "--dry-run=server", "--as", &manager, "-f", "-"],
            Some(probe.as_bytes()),
        );
        if String::from_utf8_lossy(&out.stderr).contains("ValidatingAdmissionPolicy") {
            active = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    assert!(active, "{ns}: the generated policy never took effect");
    // The job pod, as the manager creates it: admitted.
    let admitted = create_as(cluster, &manager, &pod(ns, "job-ok", t.job_account, ""));
    assert_eq!(admitted, Ok(()), "{ns}: the manager's job pod");
    eprintln!(
        "admission: {ns}: manager {manager} creates a job pod as {}: admitted",
        t.job_account
    );

    let rejected = |name: &str, who: &str, manifest: String, expect: &[&str]| {
        let Err(message) = create_as(cluster, who, &manifest) else {
            panic!("{ns}: {name} was admitted");
        };
        assert!(
            expect.iter().any(|e| message.contains(e)),
            "{ns}: {name}: {message}"
        );
        // The answer, not the Pod Security warnings kubectl prints before it.
        let why = message
            .lines()
            .find(|l| l.starts_with("Error from server"))
            .unwrap_or_default()
            .trim()
            .to_owned();
        eprintln!("admission: {ns}: {name}: rejected: {why}");
    };
    rejected(
        "the manager's pod as another ServiceAccount",
        &manager,
        pod(ns, "job-other-sa", t.other_account, ""),
        &["ValidatingAdmissionPolicy"],
    );
    rejected(
        "the manager's pod as `default`",
        &manager,
        pod(ns, "job-default-sa", "default", ""),
        &["ValidatingAdmissionPolicy"],
    );
    // Privileged and hostPath: the namespace's Pod Security level (baseline) and the policy
    // both refuse them; whichever the API server asks first answers.
    rejected(
        "a privileged pod",
        &manager,
        pod_with(ns, "job-privileged", t.job_account, "{privileged: true}"),
        &["ValidatingAdmissionPolicy", "violates PodSecurity"],
    );
    let host_path = pod(ns, "job-hostpath", t.job_account, "")
        + "  volumes:\n  - name: host\n    hostPath: {path: /}\n";
    rejected(
        "a hostPath pod",
        &manager,
        host_path,
        &["ValidatingAdmissionPolicy", "violates PodSecurity"],
    );
    // With Pod Security out of the way (enforce: privileged), the policy alone refuses them.
    let label = "pod-security.kubernetes.io/enforce";
    let was = cluster.kubectl_ok(
        &[
            "get",
            "namespace",
            ns,
            "-o",
            &format!(
                "jsonpath={{.metadata.labels.{}}}",
                label.replace('.', "\\.")
            ),
        ],
        None,
    );
    cluster.kubectl_ok(
        &[
            "label",
            "namespace",
            ns,
            &format!("{label}=privileged"),
            "--overwrite",
        ],
        None,
    );
    rejected(
        "a privileged pod, Pod Security off",
        &manager,
        pod_with(ns, "job-privileged-2", t.job_account, "{privileged: true}"),
        &["ValidatingAdmissionPolicy"],
    );
    rejected(
        "a hostPath pod, Pod Security off",
        &manager,
        pod(ns, "job-hostpath-2", t.job_account, "")
            + "  volumes:\n  - name: host\n    hostPath: {path: /}\n",
        &["ValidatingAdmissionPolicy"],
    );
    cluster.kubectl_ok(
        &[
            "label",
            "namespace",
            ns,
            &format!("{label}={}", was.trim()),
            "--overwrite",
        ],
        None,
    );
    // The manager's namespace holds the manager alone: a pod of any other ServiceAccount,
    // even created by the admin, is refused.
    rejected(
        "a pod in the manager's namespace as `default`",
        "",
        pod(t.manager_namespace, "stray", "default", ""),
        &["ValidatingAdmissionPolicy"],
    );
}
