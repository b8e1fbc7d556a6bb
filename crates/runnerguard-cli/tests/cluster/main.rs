//! Tests against a real Kubernetes control plane (kube-apiserver, etcd and the controller
//! manager from `KUBEBUILDER_ASSETS`, started by scripts/k8s/start.sh): where Kubernetes
//! decides, Kubernetes answers.
//!
//! Needs `KUBEBUILDER_ASSETS` (a folder holding `kube-apiserver`, `etcd` and
//! `kube-controller-manager`: `../shared/k8s/unpack.sh` prints one) and kubectl
//! (`RUNNERGUARD_KUBECTL`, else `target/tools/bin/kubectl` from scripts/install-tools.sh).
//! Without them the tests are skipped with a message; in CI (`CI` set) they fail.
//!
//! One control plane serves the whole binary: the checks run one after another in a single
//! test, each in its own namespaces and with its own subjects, so they cannot see each other.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers fail the test on any error"
)]
#![allow(
    clippy::print_stderr,
    reason = "a skipped run and the differential's query count are said on stderr"
)]

mod admission;
mod can_i;
mod harness;
mod in_cluster;
mod live;

#[test]
fn against_a_real_api_server() {
    let Some(cluster) = harness::Cluster::start() else {
        return;
    };
    // First: it audits the whole cluster, which the differential's scenarios would add to.
    live::audits_the_cluster_as_its_files(&cluster);
    admission::generated_setups_apply_and_admission_holds(&cluster);
    in_cluster::the_in_cluster_example_reads_what_it_needs(&cluster);
    can_i::agrees_with_subject_access_reviews(&cluster);
}
