//! No secret reaches any output, error paths included (issue #9 S1, C1).
//!
//! Inputs carry canary secrets (a Secret's `data` and `stringData`, a runner
//! `token = "glrt-..."`, a URL with a `glpat-` password, a `last-applied-configuration`
//! annotation, a one-line JSON file) next to malformed lines; every error path and every
//! output format is run over them, and no canary may appear on stdout or stderr, while errors
//! still name `file:line:column`.

use std::path::Path;

use super::{Run, run, run_with_stdin};

/// In every canary; nothing else in the outputs says it.
const CANARY: &str = "CANARY";

/// A Secret with canaries in `data`, `stringData` and the last-applied annotation, then a
/// malformed `metadata.name` (YAML syntax error at line 12, column 9).
fn secret_yaml() -> String {
    format!(
        "apiVersion: v1\n\
         kind: Secret\n\
         data:\n  \
           runner-token: Z2xydC1{CANARY}Qo=\n  \
           other: {CANARY}b3RoZXI=\n\
         stringData:\n  \
           runner-registration-token: GR1348941{CANARY}x\n  \
           plain: {CANARY}-plain\n\
         metadata:\n  \
           annotations:\n    \
             kubectl.kubernetes.io/last-applied-configuration: '{{\"stringData\":{{\"t\":\"glrt-{CANARY}\"}}}}'\n  \
           name: [oops\n"
    )
}

/// A runner config.toml with a token and a URL with credentials, then a syntax error at
/// line 5, column 14.
fn runner_toml(broken: &str) -> String {
    format!(
        "concurrent = 4\n\
         [[runners]]\n  \
           token = \"glrt-{CANARY}tok\"\n  \
           url = \"https://gitlab-ci-token:glpat-{CANARY}@gitlab.example.com/\"\n  \
           {broken}\n"
    )
}

fn write(dir: &Path, name: &str, text: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[track_caller]
fn assert_clean(r: &Run, what: &str) {
    assert!(
        !r.stdout.contains(CANARY) && !r.stderr.contains(CANARY),
        "{what}: a canary leaked\n--- stdout\n{}\n--- stderr\n{}",
        r.stdout,
        r.stderr
    );
}

/// An error path: a failure (2; `audit` may report a problem in an object it could read and
/// go on, then 1), the place named, nothing secret shown.
#[track_caller]
fn assert_error(r: &Run, place: &str, what: &str) {
    assert!(
        matches!(r.code, 1 | 2),
        "{what}: exit {}: {}",
        r.code,
        r.stderr
    );
    assert!(
        r.stderr.contains(place),
        "{what}: no `{place}` in\n{}",
        r.stderr
    );
    assert_clean(r, what);
}

#[test]
fn yaml_syntax_error_next_to_a_secret() {
    let text = secret_yaml();
    let r = run_with_stdin(&["audit", "-f", "-"], Some(&text));
    assert_error(&r, "-:12:9: invalid YAML", "stdin");
    // The offending line is still shown, with its caret.
    assert!(r.stderr.contains("name: [oops"), "{}", r.stderr);
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "secret.yaml", text.as_bytes());
    for args in [
        vec!["audit", "-f", &file],
        vec!["audit", "-f", &file, "-o", "json"],
        vec!["who-can", "get", "pods", "-f", &file, "-o", "json"],
    ] {
        let r = run(&args);
        assert_error(&r, &format!("{file}:12:9"), &args.join(" "));
    }
}

#[test]
fn json_syntax_error_in_a_one_line_file() {
    // kubectl get -o json | jq -c: one line, the error at its end.
    let text = format!(
        r#"{{"apiVersion":"v1","kind":"Secret","metadata":{{"name":"s","namespace":"gitlab-runner","annotations":{{"kubectl.kubernetes.io/last-applied-configuration":"{{\"data\":{{\"t\":\"glrt-{CANARY}\"}}}}"}}}},"data":{{"runner-token":"Z2xy{CANARY}"}},"stringData":{{"x":"glpat-{CANARY}"}},"type":"Opaque"]"#
    );
    let column = text.len();
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "secret.json", text.as_bytes());
    let r = run(&["audit", "-f", &file]);
    assert_error(
        &r,
        &format!("{file}:1:{column}: invalid JSON"),
        "one-line JSON",
    );
    let r = run_with_stdin(&["audit", "-f", "-"], Some(&text));
    assert_error(
        &r,
        &format!("-:1:{column}: invalid JSON"),
        "one-line JSON on stdin",
    );
}

#[test]
fn typed_decode_errors_do_not_quote_values() {
    let cases = [
        // serde quotes the string it refused: `invalid type: string "glrt-...", expected ...`.
        (
            format!(
                "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: b, namespace: ns}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}}\nsubjects: \"glrt-{CANARY}\"\n"
            ),
            "-:5:11: invalid RoleBinding at `subjects`",
        ),
        (
            format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  namespace: gitlab-runner\n  labels: \"glpat-{CANARY}\"\ndata:\n  config.toml: |\n    [[runners]]\n      token = \"glrt-{CANARY}\"\n"
            ),
            "-:6:11: invalid ConfigMap at `metadata.labels`",
        ),
        (
            format!(
                "apiVersion: v1\nkind: Secret\nmetadata: {{name: s, namespace: gitlab-runner}}\ndata:\n  runner-token: Z2xydC1{CANARY}\ntype: [Opaque]\nstringData:\n  t: glrt-{CANARY}\n"
            ),
            "-:6:7: invalid Secret at `type`",
        ),
        // The same in JSON, where serde_json quotes the value too.
        (
            format!(
                r#"{{"apiVersion":"v1","kind":"Secret","metadata":{{"name":"s"}},"data":{{"a":"{CANARY}"}},"type":"Opaque","immutable":"glrt-{CANARY}"}}"#
            ),
            "-:1:",
        ),
    ];
    for (text, place) in cases {
        let r = run_with_stdin(&["audit", "-f", "-"], Some(&text));
        if place == "-:1:" {
            // `immutable` is not read: the document may load; either way nothing leaks.
            assert_clean(&r, &text);
            continue;
        }
        assert_error(&r, place, &text);
    }
}

#[test]
fn toml_errors_next_to_a_runner_token() {
    let dir = tempfile::tempdir().unwrap();
    // A syntax error.
    let file = write(
        dir.path(),
        "config.toml",
        runner_toml("executor = =").as_bytes(),
    );
    let r = run(&["audit", "-f", &file]);
    assert_error(&r, &format!("{file}:5:"), "TOML syntax error");
    assert!(r.stderr.contains("executor = ="), "{}", r.stderr);
    // A type error: `runners` must be an array of tables.
    let text = format!("concurrent = 1\ntoken = \"glrt-{CANARY}\"\nrunners = \"glrt-{CANARY}\"\n");
    let file = write(dir.path(), "types.toml", text.as_bytes());
    let r = run(&["audit", "-f", &file]);
    assert_error(&r, &format!("{file}:3:"), "TOML type error");
    // A runner config inside a ConfigMap, broken.
    let cm = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: gitlab-runner, namespace: gitlab-runner}}\ndata:\n  config.toml: |\n    [[runners]]\n      token = \"glrt-{CANARY}\"\n      url = \"https://u:glpat-{CANARY}@gitlab.example.com\"\n      executor = =\n"
    );
    let r = run_with_stdin(&["audit", "-f", "-"], Some(&cm));
    assert_error(&r, "-:9:", "TOML in a ConfigMap");
    // The chart's `runners.config`, broken.
    let values = format!(
        "gitlabUrl: https://gitlab.example.com/\nrunnerToken: glrt-{CANARY}\nrunners:\n  config: |\n    [[runners]]\n      token = \"glrt-{CANARY}\"\n      executor = =\n"
    );
    let file = write(dir.path(), "values.yaml", values.as_bytes());
    let r = run(&["audit", "--values", &file]);
    assert_error(&r, &format!("{file}:"), "TOML in runners.config");
}

#[test]
fn invalid_utf8_next_to_a_token() {
    let mut bytes = runner_toml("executor = \"kubernetes\"").into_bytes();
    bytes.extend_from_slice(b"  name = \"\xff\xfe\"\n");
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "config.toml", &bytes);
    let r = run(&["audit", "-f", &file]);
    assert_error(&r, &format!("{file}:6:"), "invalid UTF-8");
    let yaml = [secret_yaml().as_bytes(), b"x: \xff\n"].concat();
    let file = write(dir.path(), "secret.yaml", &yaml);
    let r = run(&["audit", "-f", &file]);
    assert_error(&r, &format!("{file}:13:"), "invalid UTF-8 in YAML");
}

/// C1: a huge scalar next to an error does not reach stderr (it wrote the whole line: a
/// 200 MB scalar wrote 209 MB).
#[test]
fn a_huge_scalar_stays_out_of_stderr() {
    let scalar = "A".repeat(10 << 20);
    let text = format!(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {{name: r, namespace: ns, labels: {{a: {scalar}}}}}\nrules: \"{scalar}glrt-{CANARY}\"\n"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "big.yaml", text.as_bytes());
    let r = run(&["audit", "-f", &file]);
    assert_error(
        &r,
        &format!("{file}:4:8: invalid Role at `rules`"),
        "huge scalar",
    );
    assert!(r.stderr.len() < 8_000, "{} bytes on stderr", r.stderr.len());
}

/// Many bad documents: each diagnostic is small (it copied the whole file).
#[test]
fn many_diagnostics_stay_small() {
    let text = format!("kind: Role\nx: glrt-{CANARY}\n---\n").repeat(2_000);
    let r = run_with_stdin(&["audit", "-f", "-"], Some(&text));
    assert_error(&r, "-:1:1:", "many diagnostics");
    let per = r.stderr.len() / 2_000;
    assert!(per < 1_000, "{per} bytes per diagnostic");
}

/// Valid input holding canaries, through every command and format.
#[test]
fn valid_input_in_every_format() {
    let secret = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: gitlab-runner\n  namespace: gitlab-runner\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: '{{\"stringData\":{{\"runner-token\":\"glrt-{CANARY}\"}}}}'\ndata:\n  runner-token: Z2xy{CANARY}\nstringData:\n  runner-registration-token: GR1348941{CANARY}\n"
    );
    let config = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: gitlab-runner, namespace: gitlab-runner}}\ndata:\n  config.toml: |\n    [[runners]]\n      name = \"r\"\n      url = \"https://u:glpat-{CANARY}@gitlab.example.com/\"\n      token = \"glrt-{CANARY}\"\n      executor = \"kubernetes\"\n      [runners.kubernetes]\n        namespace = \"teams\"\n        privileged = true\n"
    );
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "secret.yaml", secret.as_bytes());
    write(dir.path(), "config.yaml", config.as_bytes());
    write(
        dir.path(),
        "config.toml",
        runner_toml("executor = \"kubernetes\"").as_bytes(),
    );
    let d = dir.path().display().to_string();
    let seed = "examples/seed/";
    let runs: Vec<Vec<&str>> = vec![
        vec!["audit", "-f", seed, "-f", &d],
        vec!["audit", "-f", seed, "-f", &d, "-o", "json"],
        vec!["audit", "-f", seed, "-f", &d, "-o", "sarif"],
        vec![
            "can-i",
            "get",
            "secrets",
            "-n",
            "gitlab-runner",
            "--as",
            super::MANAGER,
            "-f",
            seed,
            "-f",
            &d,
            "-o",
            "json",
        ],
        vec![
            "who-can",
            "get",
            "secrets",
            "-n",
            "gitlab-runner",
            "-f",
            seed,
            "-f",
            &d,
            "-o",
            "json",
        ],
        vec![
            "paths",
            "--as",
            "system:serviceaccount:teams:default",
            "--to",
            "get secrets -n gitlab-runner",
            "-f",
            seed,
            "-f",
            &d,
            "-o",
            "json",
        ],
    ];
    for args in runs {
        let r = run(&args);
        assert!(r.code != 2, "{}: {}", args.join(" "), r.stderr);
        assert!(!r.stdout.is_empty(), "{}: no output", args.join(" "));
        assert_clean(&r, &args.join(" "));
    }
}
