//! The live loader against a loopback stand-in API server, and how a cluster's objects
//! merge with files'.

use super::*;

fn cluster_role_binding(name: &str, labelled: bool) -> String {
    let labels = if labelled {
        r#""labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},"#
    } else {
        ""
    };
    format!(
        r#"{{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
          "metadata": {{{labels} "name": "{name}"}},
          "roleRef": {{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"}},
          "subjects": [{{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:masters"}}]}}"#
    )
}

#[test]
fn a_clusters_own_defaults_count_as_the_default_policy() {
    let builtin = |name: &str, labelled: bool| {
        let text = format!(
            r#"{{"apiVersion": "v1", "kind": "List", "items": [{}]}}"#,
            cluster_role_binding(name, labelled)
        );
        let loaded = load_str("cluster:test", &text).unwrap();
        loaded.inventory.bindings[0].origin.is_builtin()
    };
    // Labelled by the server, and granting no more than the embedded default of that name.
    assert!(builtin("cluster-admin", true));
    // The label with a reserved `system:` name that is no default, a name of one's own, or
    // a default's name without the label: audited as written (tests/bootstrap_label.rs has
    // the widened defaults).
    assert!(!builtin("system:some-newer-default", true));
    assert!(!builtin("break-glass", true));
    assert!(!builtin("cluster-admin", false));
}

#[test]
fn files_replace_the_clusters_objects() {
    let cluster = load_str("cluster:test", &cluster_role_binding("x", false)).unwrap();
    let mut files = load_str("f.json", &cluster_role_binding("x", false)).unwrap();
    files.add_cluster(cluster);
    assert_eq!(files.inventory.bindings.len(), 1);
    assert_eq!(&*files.inventory.bindings[0].origin.file, "f.json");
    assert!(
        files
            .warnings
            .iter()
            .any(|w| w.message.contains("cluster:test"))
    );
    // Kinds the loader does not deduplicate: the file's Secret and ConfigMap (with its
    // runner configuration) replace the cluster's, the cluster's others stay.
    let objects = |secrets: &[&str]| {
        let mut items: Vec<String> = secrets
            .iter()
            .map(|n| {
                format!(
                    r#"{{"apiVersion": "v1", "kind": "Secret", "metadata": {{"name": "{n}", "namespace": "r"}}}}"#
                )
            })
            .collect();
        items.push(
            r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "r"},
                "data": {"config.toml": "[[runners]]\nexecutor = \"kubernetes\"\n"}}"#
                .to_owned(),
        );
        format!(
            r#"{{"apiVersion": "v1", "kind": "List", "items": [{}]}}"#,
            items.join(",")
        )
    };
    let cluster = load_str("cluster:test", &objects(&["a", "b"])).unwrap();
    assert_eq!(cluster.inventory.runner_configs.len(), 1);
    let mut files = load_str("f.json", &objects(&["a"])).unwrap();
    files.add_cluster(cluster);
    let inv = &files.inventory;
    let secrets: Vec<(&str, &str)> = inv
        .secrets
        .iter()
        .map(|s| (s.object.name.as_str(), &*s.object.origin.file))
        .collect();
    assert_eq!(secrets, [("b", "cluster:test"), ("a", "f.json")]);
    assert_eq!(inv.others.len(), 1, "one ConfigMap");
    assert_eq!(inv.runner_configs.len(), 1, "one runner configuration");
}

/// A stand-in API server on loopback: each request gets a new connection (`Connection:
/// close`), and `answer(path with query, how many times this path was asked)` gives the
/// status and body (the request's headers lowercased, for a check); `None` never answers.
struct StandIn {
    kubeconfig: tempfile::NamedTempFile,
}

impl StandIn {
    fn start(answer: fn(&str, usize, &str) -> Option<(u16, String)>) -> Self {
        use std::io::{BufRead as _, BufReader, Write as _};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let mut asked: std::collections::HashMap<String, usize> =
                std::collections::HashMap::new();
            let mut silent = Vec::new();
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut first = String::new();
                let _ = reader.read_line(&mut first);
                let mut headers = String::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    headers.push_str(&line.to_ascii_lowercase());
                }
                let target = first.split(' ').nth(1).unwrap_or_default().to_owned();
                let path = target.split('?').next().unwrap_or_default().to_owned();
                let n = asked.entry(path).or_default();
                *n += 1;
                let Some((code, body)) = answer(&target, *n, &headers) else {
                    silent.push(stream);
                    continue;
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {code} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        let mut kubeconfig = tempfile::NamedTempFile::new().unwrap();
        write!(
            kubeconfig,
            "apiVersion: v1\nkind: Config\nclusters:\n- name: s\n  cluster: {{server: \"http://127.0.0.1:{port}\"}}\n\
             users:\n- name: u\n  user: {{token: t}}\ncontexts:\n- name: stand-in\n  context: {{cluster: s, user: u}}\n\
             current-context: stand-in\n"
        )
        .unwrap();
        Self { kubeconfig }
    }

    fn read(&self, timeout: Duration) -> Result<Snapshot, LiveError> {
        let options = LiveOptions::default()
            .kubeconfig(Some(self.kubeconfig.path().to_owned()))
            .timeout(timeout)
            .retries(2);
        read_cluster(&options, &mut |_: Progress<'_>| {})
    }
}

#[allow(
    clippy::unnecessary_wraps,
    reason = "a stand-in answer, which may be none"
)]
fn empty() -> Option<(u16, String)> {
    Some((
        200,
        r#"{"apiVersion": "v1", "kind": "List", "metadata": {}, "items": []}"#.to_owned(),
    ))
}

#[allow(
    clippy::unnecessary_wraps,
    reason = "a stand-in answer, which may be none"
)]
fn status(code: u16, reason: &str) -> Option<(u16, String)> {
    Some((
        code,
        format!(
            r#"{{"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": "{reason}", "reason": "{reason}", "code": {code}}}"#
        ),
    ))
}

#[test]
fn a_429_is_retried_and_pages_are_followed() {
    let server = StandIn::start(|target, n, headers| match target {
        t if t.starts_with("/api/v1/namespaces?") && n == 1 => status(429, "TooManyRequests"),
        t if t.starts_with("/api/v1/namespaces?") && !t.contains("continue") => Some((
            200,
            r#"{"apiVersion": "v1", "kind": "NamespaceList", "metadata": {"continue": "p2"},
                "items": [{"metadata": {"name": "one"}}]}"#
                .to_owned(),
        )),
        t if t.starts_with("/api/v1/namespaces?") => Some((
            200,
            r#"{"apiVersion": "v1", "kind": "NamespaceList", "metadata": {},
                "items": [{"metadata": {"name": "two", "managedFields": [{"manager": "m"}]}}]}"#
                .to_owned(),
        )),
        // Secrets are asked for as metadata only, or refused here.
        t if t.starts_with("/api/v1/secrets?")
            && !headers.contains("as=partialobjectmetadatalist") =>
        {
            status(400, "NotMetadata")
        }
        _ => empty(),
    });
    let snapshot = server.read(Duration::from_secs(5)).unwrap();
    assert!(snapshot.unread.is_empty(), "{:?}", snapshot.unread);
    assert_eq!(snapshot.source, "cluster:stand-in");
    assert!(!snapshot.text.contains("managedFields"));
    let loaded = snapshot.load().unwrap();
    let names: Vec<&str> = loaded
        .inventory
        .namespaces
        .iter()
        .map(|n| n.name.as_str())
        .collect();
    assert_eq!(names, ["one", "two"]);
    assert_eq!(
        &*loaded.inventory.namespaces[0].origin.file,
        "cluster:stand-in"
    );
}

#[test]
fn a_forbidden_kind_is_named_and_the_rest_is_read() {
    let server = StandIn::start(|target, _, _| {
        if target.starts_with("/api/v1/secrets") {
            status(403, "Forbidden")
        } else if target.starts_with("/apis/admissionregistration.k8s.io/") {
            status(404, "NotFound")
        } else {
            empty()
        }
    });
    let snapshot = server.read(Duration::from_secs(5)).unwrap();
    assert_eq!(snapshot.unread.len(), 1, "{:?}", snapshot.unread);
    assert_eq!(snapshot.unread[0].kind, "Secrets");
    assert!(snapshot.unread[0].reason.starts_with("403"));
    assert_eq!(
        snapshot.not_served,
        [
            "ValidatingAdmissionPolicies",
            "ValidatingAdmissionPolicyBindings"
        ]
    );
    // The snapshot keeps the mark: its offline audit is incomplete too.
    let mut loaded = snapshot.load().unwrap();
    let marks = loaded.take_marks();
    assert_eq!(marks.cluster.as_deref(), Some("cluster:stand-in"));
    let lines = marks.not_read;
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("cluster:stand-in:")
            && lines[0].ends_with("Secrets were not read when the snapshot was taken"),
        "{}",
        lines[0]
    );
    assert!(loaded.inventory.others.is_empty());
}

#[test]
fn without_secrets_none_is_asked_for_and_the_snapshot_says_so() {
    static ASKED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let server = StandIn::start(|target, _, _| {
        if target.starts_with("/api/v1/secrets") {
            ASKED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            status(403, "Forbidden")
        } else {
            empty()
        }
    });
    let options = LiveOptions::default()
        .kubeconfig(Some(server.kubeconfig.path().to_owned()))
        .timeout(Duration::from_secs(5))
        .secrets(false);
    let snapshot = read_cluster(&options, &mut |_: Progress<'_>| {}).unwrap();
    assert_eq!(ASKED.load(std::sync::atomic::Ordering::SeqCst), 0);
    assert!(snapshot.unread.is_empty(), "{:?}", snapshot.unread);
    assert_eq!(snapshot.skipped, ["Secrets"]);
    let mut loaded = snapshot.load().unwrap();
    let marks = loaded.take_marks();
    assert!(marks.not_read.is_empty(), "not asked for is not unread");
    assert_eq!(marks.skipped.len(), 1);
    assert!(
        marks.skipped[0].contains("Secrets were not asked for when the snapshot was taken"),
        "{}",
        marks.skipped[0]
    );
}

#[test]
fn a_server_that_never_answers_times_out() {
    let server = StandIn::start(|_, _, _| None);
    let started = std::time::Instant::now();
    let e = server.read(Duration::from_millis(300)).unwrap_err();
    // Three attempts of 0.3 s and two pauses (0.2 s, 0.4 s): about 1.5 s, well under 10.
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        matches!(&e, LiveError::Unreachable { message, .. } if message.contains("no answer")),
        "{e}"
    );
}
