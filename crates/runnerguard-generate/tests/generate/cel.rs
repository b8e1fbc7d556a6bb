//! Every generated ValidatingAdmissionPolicy expression, evaluated with the `cel` crate
//! against pods that must be admitted and pods that must be rejected, with the `object` and
//! `request` variables the API server gives a policy.

use std::sync::Arc;

use cel::{Context, Env, Value};
use serde_json::{Value as Json, json};

use crate::{documents, file, files, three_tenants};
use runnerguard_generate::default_config;

/// The validations (expression, message) of the policy in an admission-policy file.
fn validations(text: &str) -> Vec<(String, String)> {
    let docs = documents(text);
    let policy = docs
        .iter()
        .find(|d| d["kind"] == "ValidatingAdmissionPolicy")
        .unwrap();
    assert_eq!(policy["apiVersion"], "admissionregistration.k8s.io/v1");
    let binding = docs
        .iter()
        .find(|d| d["kind"] == "ValidatingAdmissionPolicyBinding")
        .unwrap();
    assert_eq!(binding["spec"]["policyName"], policy["metadata"]["name"]);
    assert_eq!(binding["spec"]["validationActions"], json!(["Deny"]));
    policy["spec"]["validations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["expression"].as_str().unwrap().to_owned(),
                v["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The messages of the validations `pod`, created by `user` in `namespace`, fails; empty
/// when it is admitted. An expression that does not evaluate to a boolean fails the test.
fn rejections(text: &str, namespace: &str, user: &str, pod: &Json) -> Vec<String> {
    let env = Arc::new(Env::stdlib());
    let mut cx = Context::with_env(Arc::clone(&env));
    cx.add_variable("object", cel::to_value(pod).unwrap())
        .unwrap();
    let request = json!({
        "operation": "CREATE",
        "namespace": namespace,
        "userInfo": {"username": user},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
    });
    cx.add_variable("request", cel::to_value(&request).unwrap())
        .unwrap();
    let mut failed = Vec::new();
    for (expression, message) in validations(text) {
        let program = env
            .compile(&expression)
            .unwrap_or_else(|e| panic!("{expression}: {e:?}"));
        match program.execute(&cx) {
            Ok(Value::Bool(true)) => {}
            Ok(Value::Bool(false)) => failed.push(message),
            other => panic!("{expression}\non {pod}\ngave {other:?}"),
        }
    }
    failed
}

/// A pod running as `sa` with one container; `patch` is merged into its spec.
fn pod(sa: Option<&str>, patch: &Json) -> Json {
    let mut spec = json!({
        "containers": [{"name": "build", "image": "alpine:3.20",
                        "securityContext": {"allowPrivilegeEscalation": false,
                                            "capabilities": {"drop": ["ALL"]}}}],
        "imagePullSecrets": [{"name": "runner-abc-project-1-concurrent-0-xyz"}],
        "volumes": [{"name": "repo", "emptyDir": {}}],
    });
    if let Some(sa) = sa {
        spec["serviceAccountName"] = json!(sa);
    }
    if let (Some(s), Some(p)) = (spec.as_object_mut(), patch.as_object()) {
        for (k, v) in p {
            s.insert(k.clone(), v.clone());
        }
    }
    json!({"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "p", "namespace": "x"}, "spec": spec})
}

const MANAGER: &str = "system:serviceaccount:gitlab-runner:gitlab-runner";
const RS_CONTROLLER: &str = "system:serviceaccount:kube-system:replicaset-controller";

#[test]
fn the_job_namespace_admits_job_and_deployer_pods_only() {
    let files = files(&default_config());
    let teams = file(&files, "teams/admission-policy.yaml");
    let admitted = |user: &str, p: &Json| rejections(teams, "teams", user, p).is_empty();
    let none = json!({});

    // A job pod as the runner creates it.
    assert!(admitted(MANAGER, &pod(Some("ci-job"), &none)));
    // A pod a deployed workload creates, as the deployer or the job ServiceAccount.
    assert!(admitted(RS_CONTROLLER, &pod(Some("ci-deployer"), &none)));
    assert!(admitted(RS_CONTROLLER, &pod(Some("ci-job"), &none)));
    // Explicitly unprivileged containers are fine.
    let unprivileged = json!({"containers": [{"name": "a", "image": "i",
        "securityContext": {"privileged": false}}]});
    assert!(admitted(MANAGER, &pod(Some("ci-job"), &unprivileged)));

    // The wrong ServiceAccount, or none at all.
    let wrong = rejections(teams, "teams", "alice", &pod(Some("default"), &none));
    assert_eq!(
        wrong,
        ["pods in teams must run as ServiceAccount ci-job or ci-deployer"]
    );
    assert!(!admitted(RS_CONTROLLER, &pod(None, &none)));
    assert!(!admitted(RS_CONTROLLER, &pod(Some("gitlab-runner"), &none)));
    // The manager never creates pods as the deployer.
    assert_eq!(
        rejections(teams, "teams", MANAGER, &pod(Some("ci-deployer"), &none)),
        ["the runner manager creates job pods only as ServiceAccount ci-job"]
    );
}

#[test]
fn the_job_namespace_rejects_privileged_host_and_hostpath_pods() {
    let files = files(&default_config());
    let teams = file(&files, "teams/admission-policy.yaml");
    let privileged = |list: &str| {
        let mut patch = json!({});
        patch[list] = json!([{"name": "x", "image": "i", "securityContext": {"privileged": true}}]);
        if list != "containers" {
            patch["containers"] = json!([{"name": "build", "image": "i"}]);
        }
        patch
    };
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        assert_eq!(
            rejections(
                teams,
                "teams",
                MANAGER,
                &pod(Some("ci-job"), &privileged(list))
            ),
            ["privileged containers are not allowed here"],
            "{list}"
        );
    }
    let host_path =
        json!({"volumes": [{"name": "docker", "hostPath": {"path": "/var/run/docker.sock"}}]});
    assert_eq!(
        rejections(teams, "teams", MANAGER, &pod(Some("ci-job"), &host_path)),
        ["hostPath volumes are not allowed here"]
    );
    for field in ["hostNetwork", "hostPID", "hostIPC"] {
        let mut patch = json!({});
        patch[field] = json!(true);
        assert_eq!(
            rejections(teams, "teams", MANAGER, &pod(Some("ci-job"), &patch)),
            ["the host's network, PID and IPC namespaces are not allowed here"],
            "{field}"
        );
        patch[field] = json!(false);
        assert!(rejections(teams, "teams", MANAGER, &pod(Some("ci-job"), &patch)).is_empty());
    }
}

#[test]
fn only_the_manager_creates_pods_that_mount_secrets_in_the_job_namespace() {
    let files = files(&default_config());
    let teams = file(&files, "teams/admission-policy.yaml");
    let mounts = [
        json!({"volumes": [{"name": "s", "secret": {"secretName": "runner-job-1"}}]}),
        json!({"volumes": [{"name": "s", "projected": {"sources": [
            {"configMap": {"name": "kube-root-ca.crt"}}, {"secret": {"name": "runner-job-1"}}]}}]}),
        json!({"containers": [{"name": "a", "image": "i", "envFrom": [{"secretRef": {"name": "runner-job-1"}}]}]}),
        json!({"containers": [{"name": "a", "image": "i"}],
               "initContainers": [{"name": "b", "image": "i", "env": [
                   {"name": "PLAIN", "value": "x"},
                   {"name": "T", "valueFrom": {"secretKeyRef": {"name": "runner-job-1", "key": "k"}}}]}]}),
    ];
    for m in &mounts {
        assert_eq!(
            rejections(teams, "teams", RS_CONTROLLER, &pod(Some("ci-deployer"), m)),
            ["only the GitLab Runner manager may create pods that mount Secrets in teams"],
            "{m}"
        );
        assert!(
            rejections(teams, "teams", MANAGER, &pod(Some("ci-job"), m)).is_empty(),
            "{m}"
        );
    }
    // ConfigMaps and plain variables are not Secrets.
    let harmless = json!({
        "volumes": [{"name": "c", "projected": {"sources": [{"configMap": {"name": "kube-root-ca.crt"}}]}}],
        "containers": [{"name": "a", "image": "i", "env": [{"name": "A", "value": "1"},
            {"name": "B", "valueFrom": {"configMapKeyRef": {"name": "c", "key": "k"}}}]}]});
    assert!(
        rejections(
            teams,
            "teams",
            RS_CONTROLLER,
            &pod(Some("ci-job"), &harmless)
        )
        .is_empty()
    );
}

#[test]
fn the_manager_namespace_admits_the_managers_only() {
    let files = files(&default_config());
    let manager = file(&files, "manager/admission-policy.yaml");
    let none = json!({});
    assert!(
        rejections(
            manager,
            "gitlab-runner",
            RS_CONTROLLER,
            &pod(Some("gitlab-runner"), &none)
        )
        .is_empty()
    );
    assert_eq!(
        rejections(
            manager,
            "gitlab-runner",
            "alice",
            &pod(Some("default"), &none)
        ),
        [
            "only the GitLab Runner managers run in gitlab-runner: pods must use ServiceAccount gitlab-runner"
        ]
    );
    assert!(!rejections(manager, "gitlab-runner", RS_CONTROLLER, &pod(None, &none)).is_empty());
    assert!(
        !rejections(
            manager,
            "gitlab-runner",
            MANAGER,
            &pod(Some("ci-job"), &none)
        )
        .is_empty()
    );
    let privileged = json!({"containers": [{"name": "a", "image": "i", "securityContext": {"privileged": true}}]});
    assert_eq!(
        rejections(
            manager,
            "gitlab-runner",
            RS_CONTROLLER,
            &pod(Some("gitlab-runner"), &privileged)
        ),
        ["privileged containers are not allowed here"]
    );
}

#[test]
fn tenants_cannot_use_each_others_service_accounts() {
    let files = files(&three_tenants());
    let manager = file(&files, "manager/admission-policy.yaml");
    for sa in [
        "gitlab-runner-web",
        "gitlab-runner-data",
        "gitlab-runner-ops",
    ] {
        assert!(
            rejections(
                manager,
                "ci-runners",
                RS_CONTROLLER,
                &pod(Some(sa), &json!({}))
            )
            .is_empty(),
            "{sa}"
        );
    }
    let web = file(&files, "web/admission-policy.yaml");
    let web_manager = "system:serviceaccount:ci-runners:gitlab-runner-web";
    assert!(rejections(web, "web-ci", web_manager, &pod(Some("ci-job"), &json!({}))).is_empty());
    assert!(
        !rejections(
            web,
            "web-ci",
            RS_CONTROLLER,
            &pod(Some("ops-deployer"), &json!({}))
        )
        .is_empty()
    );
    // Another tenant's manager is not this tenant's manager: no Secrets for its pods.
    let secret = json!({"volumes": [{"name": "s", "secret": {"secretName": "x"}}]});
    let ops_manager = "system:serviceaccount:ci-runners:gitlab-runner-ops";
    assert!(!rejections(web, "web-ci", ops_manager, &pod(Some("ci-job"), &secret)).is_empty());
    // A tenant without a deploy identity admits only its job ServiceAccount.
    let data = file(&files, "data/admission-policy.yaml");
    assert_eq!(
        rejections(
            data,
            "data",
            RS_CONTROLLER,
            &pod(Some("ci-deployer"), &json!({}))
        ),
        ["pods in data must run as ServiceAccount ci-job"]
    );
}
