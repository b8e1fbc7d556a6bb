//! Text from inputs is escaped before it reaches a terminal (issue #9 T1).
//!
//! User and Group names are not validated by the API server, and RBAC object names only
//! refuse `/` and `%` (apimachinery `path.IsValidPathSegmentName`), so a merge request can
//! name a subject `mallory\x1b[2K\rRB001 fixed`: printed raw, the terminal erases the line
//! that reports it and shows the forged text instead. Human output, warnings and errors show
//! such characters escaped (`\u{1b}`, `\r`, `\n`); JSON keeps the exact names.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::*;

/// Text an input puts after a newline or a carriage return: it must never start a line.
const INJECTED: &str = "INJECTED";

/// ESC sequences that erase a line and move the cursor, CR, LF, an OSC 8 hyperlink, a
/// right-to-left override and a C1 CSI.
const USER: &str = "mallory\x1b[2K\rINJECTED RB001 fixed\nINJECTED line\x1b]8;;https://evil.example/\x07link\x1b]8;;\x07\u{202e}txt.exe\u{9b}";
const GROUP: &str = "devs\r\x1b[2KINJECTED";
const SA: &str = "sa\x1b[1A\u{202e}";
const SA_NAMESPACE: &str = "ns\nINJECTED";
const BINDING: &str = "crb\x1b[2K\rINJECTED";
const OTHER_BINDING: &str = "crb2\x1b[2K\rINJECTED";
const NAMESPACE: &str = "teams\x1b[2K\nINJECTED";
const ROLE: &str = "reader\r\u{202e}";
const ROLE_BINDING: &str = "rb\x1b[1A\u{2066}";
const RESOURCE_NAME: &str = "tok\x1b]8;;https://evil.example/\x07\nINJECTED";
const FILE_NAME: &str = "rbac\x1b[31m\nINJECTED.json";

/// The characters that must not reach a terminal raw: every control character (C0, DEL, C1)
/// but the output's own newlines, the bidi controls and the line and paragraph separators.
fn raw_controls(text: &str) -> Vec<char> {
    text.chars()
        .filter(|&c| {
            (c.is_control() && c != '\n')
                || matches!(
                    c,
                    '\u{061c}'
                        | '\u{200e}'
                        | '\u{200f}'
                        | '\u{202a}'..='\u{202e}'
                        | '\u{2066}'..='\u{2069}'
                        | '\u{2028}'
                        | '\u{2029}'
                )
        })
        .collect()
}

fn assert_terminal_safe(what: &str, text: &str) {
    let raw = raw_controls(text);
    assert!(
        raw.is_empty(),
        "{what}: raw {raw:?} in:\n{}",
        text.escape_debug()
    );
    for line in text.lines() {
        assert!(
            !line.starts_with(INJECTED),
            "{what}: input text starts a line: {line:?}"
        );
    }
}

/// A ClusterRoleBinding to cluster-admin for a hostile User, Group and ServiceAccount, a Role
/// and RoleBinding with hostile names in a hostile namespace, and a second binding whose
/// ServiceAccount subject has no namespace (a loader warning quoting both names).
fn manifests() -> Value {
    let rbac = "rbac.authorization.k8s.io";
    json!({
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRoleBinding",
                "metadata": { "name": BINDING },
                "subjects": [
                    { "kind": "User", "name": USER, "apiGroup": rbac },
                    { "kind": "Group", "name": GROUP, "apiGroup": rbac },
                    { "kind": "ServiceAccount", "name": SA, "namespace": SA_NAMESPACE },
                ],
                "roleRef": { "apiGroup": rbac, "kind": "ClusterRole", "name": "cluster-admin" },
            },
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "Role",
                "metadata": { "name": ROLE, "namespace": NAMESPACE },
                "rules": [{
                    "apiGroups": [""],
                    "resources": ["secrets"],
                    "resourceNames": [RESOURCE_NAME],
                    "verbs": ["get"],
                }],
            },
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": { "name": ROLE_BINDING, "namespace": NAMESPACE },
                "subjects": [{ "kind": "User", "name": "bob", "apiGroup": rbac }],
                "roleRef": { "apiGroup": rbac, "kind": "Role", "name": ROLE },
            },
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRoleBinding",
                "metadata": { "name": OTHER_BINDING },
                "subjects": [{ "kind": "ServiceAccount", "name": SA }],
                "roleRef": { "apiGroup": rbac, "kind": "ClusterRole", "name": "view" },
            },
        ],
    })
}

/// The manifests in a file whose name is hostile too (file names come from the merge
/// request as well).
struct Fixture {
    _dir: tempfile::TempDir,
    file: PathBuf,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(FILE_NAME);
        std::fs::write(&file, manifests().to_string()).unwrap();
        Self { _dir: dir, file }
    }

    fn path(&self) -> &str {
        self.file.to_str().unwrap()
    }

    fn dir(&self) -> &Path {
        self.file.parent().unwrap()
    }
}

/// Runs a command and checks both streams.
fn run_safe(what: &str, args: &[&str]) -> Run {
    let r = run(args);
    assert_terminal_safe(&format!("{what}: stdout"), &r.stdout);
    assert_terminal_safe(&format!("{what}: stderr"), &r.stderr);
    r
}

#[test]
fn audit_escapes_names_and_still_reports_them() {
    let f = Fixture::new();
    let r = run_safe("audit", &["audit", "-f", f.path()]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    // RB001 reports the binding once, through one of its subjects.
    let subjects = [
        r"User mallory\u{1b}[2K\rINJECTED RB001 fixed\nINJECTED line\u{1b}]8;;https://evil.example/\u{7}link\u{1b}]8;;\u{7}\u{202e}txt.exe\u{9b} holds",
        r"Group devs\r\u{1b}[2KINJECTED holds",
        r"ServiceAccount ns\nINJECTED/sa\u{1b}[1A\u{202e} holds",
    ];
    let rb001 = r
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("RB001"))
        .unwrap_or_else(|| panic!("no RB001:\n{}", r.stdout));
    assert!(
        subjects.iter().any(|s| rb001.contains(s))
            && rb001.contains(
                r"through ClusterRoleBinding crb\u{1b}[2K\rINJECTED (ClusterRole cluster-admin)"
            ),
        "{rb001}"
    );
    assert!(
        r.stdout
            .contains(r"ClusterRoleBinding crb\u{1b}[2K\rINJECTED  "),
        "{}",
        r.stdout
    );
    // The file name too, wherever the evidence gives it.
    assert!(
        r.stdout.contains(r"rbac\u{1b}[31m\nINJECTED.json:1"),
        "{}",
        r.stdout
    );
    // The loader's warning quotes the binding and the subject, and names the file.
    assert!(
        r.stderr.contains(r"Warning: ")
            && r.stderr.contains(r"rbac\u{1b}[31m\nINJECTED.json:1: ClusterRoleBinding `crb2\u{1b}[2K\rINJECTED`: ServiceAccount subject `sa\u{1b}[1A\u{202e}` has no namespace"),
        "{}",
        r.stderr
    );

    let r = run(&["audit", "-f", f.path(), "-o", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    // JSON escapes control characters itself: nothing raw on stdout, every name exact.
    assert!(!r.stdout.contains('\x1b') && !r.stdout.contains('\r'));
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let rb001 = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "RB001")
        .unwrap();
    let message = rb001["message"].as_str().unwrap();
    assert!(
        [
            format!("User {USER} holds"),
            format!("Group {GROUP} holds"),
            format!("ServiceAccount {SA_NAMESPACE}/{SA} holds"),
        ]
        .iter()
        .any(|s| message.starts_with(s))
            && message.contains(&format!("through ClusterRoleBinding {BINDING} (")),
        "{message:?}"
    );
    let objects = rb001["objects"].as_array().unwrap();
    assert!(
        objects
            .iter()
            .any(|o| o["name"] == BINDING && o["file"] == f.path()),
        "{objects:?}"
    );
}

#[test]
fn can_i_list_and_explain_escape_names() {
    let f = Fixture::new();
    let r = run_safe(
        "can-i --list",
        &[
            "can-i",
            "--list",
            "--as",
            "bob",
            "-n",
            NAMESPACE,
            "-f",
            f.path(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let line = r.stdout.lines().find(|l| l.starts_with("secrets "));
    let line = line.unwrap_or_else(|| panic!("no secrets row:\n{}", r.stdout));
    assert!(
        line.contains(r"[tok\u{1b}]8;;https://evil.example/\u{7}\nINJECTED]")
            && line.ends_with("[get]"),
        "{line}"
    );

    let r = run_safe(
        "can-i --explain (allowed)",
        &[
            "can-i",
            "get",
            "pods",
            "--explain",
            "--as",
            USER,
            "-f",
            f.path(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains(r"identity: mallory\u{1b}[2K\rINJECTED RB001 fixed\nINJECTED line")
            && r.stdout
                .contains(r"ClusterRoleBinding crb\u{1b}[2K\rINJECTED (/")
            && r.stdout
                .contains(r"/rbac\u{1b}[31m\nINJECTED.json:1) → ClusterRole cluster-admin")
            && r.stdout
                .contains(r"subject User mallory\u{1b}[2K\rINJECTED"),
        "{}",
        r.stdout
    );

    let r = run_safe(
        "can-i --explain (near misses)",
        &[
            "can-i",
            "get",
            "secrets",
            "--explain",
            "--as",
            "bob",
            "-n",
            NAMESPACE,
            "-f",
            f.path(),
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout
            .contains(r"RoleBinding teams\u{1b}[2K\nINJECTED/rb\u{1b}[1A\u{2066} (/")
            && r.stdout.contains(
                r"/rbac\u{1b}[31m\nINJECTED.json:1) → Role teams\u{1b}[2K\nINJECTED/reader\r\u{202e} ("
            )
            && r.stdout.contains(
                r#"resourceNames: ["tok\u{1b}]8;;https://evil.example/\u{7}\nINJECTED"]"#
            ),
        "{}",
        r.stdout
    );

    let r = run(&[
        "can-i",
        "--list",
        "--as",
        "bob",
        "-n",
        NAMESPACE,
        "-f",
        f.path(),
        "-o",
        "json",
    ]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["namespace"], NAMESPACE);
    let rules = v["rules"].as_array().unwrap();
    assert!(
        rules.iter().any(|g| g["binding"]["name"] == ROLE_BINDING
            && g["role"]["name"] == ROLE
            && g["rule"]["resourceNames"][0] == RESOURCE_NAME),
        "{rules:?}"
    );
}

#[test]
fn who_can_escapes_subjects_and_bindings() {
    let f = Fixture::new();
    let r = run_safe("who-can", &["who-can", "get", "pods", "-f", f.path()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for expected in [
        r"User mallory\u{1b}[2K\rINJECTED RB001 fixed\nINJECTED line",
        r"Group devs\r\u{1b}[2KINJECTED ",
        r"ServiceAccount ns\nINJECTED/sa\u{1b}[1A\u{202e} ",
    ] {
        let row = r.stdout.lines().find(|l| l.starts_with(expected));
        let row = row.unwrap_or_else(|| panic!("no row for {expected}:\n{}", r.stdout));
        assert!(
            row.contains(r"ClusterRoleBinding crb\u{1b}[2K\rINJECTED ")
                && row.ends_with(r"rbac\u{1b}[31m\nINJECTED.json:1"),
            "{row}"
        );
    }
    // The columns are aligned on what is shown, the escaped text.
    let header = r.stdout.lines().next().unwrap();
    let column = header.find("BINDING").unwrap();
    for row in r.stdout.lines().skip(1) {
        assert_eq!(row.chars().nth(column - 1), Some(' '), "misaligned: {row}");
    }

    let r = run(&["who-can", "get", "pods", "-f", f.path(), "-o", "json"]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let subjects: Vec<&Value> = v["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["subject"])
        .collect();
    for (kind, name) in [("User", USER), ("Group", GROUP), ("ServiceAccount", SA)] {
        assert!(
            subjects
                .iter()
                .any(|s| s["kind"] == kind && s["name"] == name),
            "{kind} {name:?} not in {subjects:?}"
        );
    }
}

#[test]
fn paths_escapes_identities_and_steps() {
    let f = Fixture::new();
    let r = run_safe("paths", &["paths", "--as", USER, "-f", f.path()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .starts_with(r"mallory\u{1b}[2K\rINJECTED RB001 fixed\nINJECTED line")
            && r.stdout
                .contains(r"ClusterRoleBinding crb\u{1b}[2K\rINJECTED (/"),
        "{}",
        r.stdout
    );

    let r = run_safe(
        "paths --to",
        &[
            "paths",
            "--as",
            USER,
            "-f",
            f.path(),
            "--to",
            "get secrets -n kube-system",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains(r"mallory\u{1b}[2K\rINJECTED RB001 fixed\nINJECTED line"),
        "{}",
        r.stdout
    );

    let r = run_safe(
        "paths --all-service-accounts",
        &["paths", "--all-service-accounts", "-f", f.path()],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains(r"ServiceAccount ns\nINJECTED/sa\u{1b}[1A\u{202e} → every permission"),
        "{}",
        r.stdout
    );

    let r = run(&[
        "paths",
        "--all-service-accounts",
        "-f",
        f.path(),
        "-o",
        "json",
    ]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(
        v["serviceAccounts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["namespace"] == SA_NAMESPACE && s["name"] == SA),
        "{}",
        r.stdout
    );
}

#[test]
fn warnings_and_errors_escape_input() {
    let f = Fixture::new();
    // A file that is not a Kubernetes object: the warning names the file.
    let other = f.dir().join("notes\x1b[2K\rINJECTED\u{202e}.yaml");
    std::fs::write(&other, "foo: bar\n").unwrap();
    let r = run_safe(
        "loader warning",
        &["who-can", "get", "pods", "-f", other.to_str().unwrap()],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains(r"notes\u{1b}[2K\rINJECTED\u{202e}.yaml:1: neither a Kubernetes object"),
        "{}",
        r.stderr
    );

    // A missing file: the top-level error names it.
    let missing = f.dir().join("missing\x1b[2K\nINJECTED.yaml");
    let r = run_safe(
        "missing file",
        &["who-can", "get", "pods", "-f", missing.to_str().unwrap()],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains(r"cannot read `")
            && r.stderr.contains(r"missing\u{1b}[2K\nINJECTED.yaml"),
        "{}",
        r.stderr
    );

    // A malformed file: the diagnostic names the file and shows the line, raw ESC and CR
    // included (escaped in runnerguard-load's snippet), then the CLI's error line.
    let bad = f.dir().join("bad\x1b[2K\nINJECTED.yaml");
    std::fs::write(
        &bad,
        "kind: Role\nmetadata: {name: \"a\x1b[2K\rINJECTED\"\n",
    )
    .unwrap();
    let r = run_safe(
        "malformed file",
        &["who-can", "get", "pods", "-f", bad.to_str().unwrap()],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains(r"bad\u{1b}[2K\nINJECTED.yaml:")
            && r.stderr.contains("error: 1 malformed input"),
        "{}",
        r.stderr
    );

    // Arguments are shown escaped too: a warning quoting the verb, an error quoting `--to`.
    let r = run_safe(
        "unknown verb",
        &[
            "can-i",
            "get\x1b[2K\nINJECTED",
            "pods",
            "--as",
            "bob",
            "-f",
            f.path(),
        ],
    );
    assert!(
        r.stderr
            .contains(r"verb 'get\u{1b}[2K\nINJECTED' is not a known verb"),
        "{}",
        r.stderr
    );
    let r = run_safe(
        "bad --to",
        &[
            "paths",
            "--as",
            "bob",
            "-f",
            f.path(),
            "--to",
            "get pods \x1b[2K\nINJECTED",
        ],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains(r"got `get pods \u{1b}[2K\nINJECTED`"),
        "{}",
        r.stderr
    );
    let r = run_safe(
        "unknown rule",
        &["rules", "explain", "RB001\x1b[2K\rINJECTED"],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains(r"unknown rule `RB001\u{1b}[2K\rINJECTED`"),
        "{}",
        r.stderr
    );

    // A usage error from the argument parser quotes the refused value.
    let r = run_safe(
        "usage error",
        &["audit", "--fail-on", "x\x1b[2K\rINJECTED\u{202e}"],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("error: invalid value 'x")
            && r.stderr.contains(r"\rINJECTED\u{202e}' for '--fail-on")
            && r.stderr.contains("\n  [possible values: info, low"),
        "{}",
        r.stderr
    );

    // Messages the program writes over several lines keep their lines: only input is
    // escaped.
    let r = run(&["can-i", "get"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("verb resource/resourceName\nSee 'runnerguard can-i -h'"),
        "{}",
        r.stderr
    );
    // Ordinary non-ASCII text is shown as it is.
    let r = run(&["paths", "--as", "zoë-日本", "--to", "get pods"]);
    assert!(r.stdout.contains("zoë-日本 cannot reach"), "{}", r.stdout);
}

#[test]
fn generate_config_errors_escape_keys() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("runnerguard.toml");
    // A TOML key may hold any character through an escape: here a line break and ESC.
    std::fs::write(&config, "[manager]\n\"bad\\nINJECTED\\u001b[2K\" = 1\n").unwrap();
    let out = dir.path().join("setup");
    let r = run(&[
        "generate",
        "--config",
        config.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_terminal_safe("generate error", &r.stderr);
    assert!(
        r.stderr.contains("unknown key `bad\\nINJECTED\\u{1b}[2K`"),
        "{}",
        r.stderr
    );
    // The help stays a line of its own.
    assert!(
        r.stderr.lines().any(|l| l.starts_with("  help: ")),
        "{}",
        r.stderr
    );
}
