//! The template subset: values, conditionals with trim markers, actions kept unrendered.

use super::*;
use serde_json::json;

fn run(t: &str, values: &Value) -> Output {
    render(
        t,
        &Scope {
            values,
            release_name: "gitlab-runner",
            release_namespace: "ci",
            chart_version: "0.86.0",
            app_version: "18.9.0",
        },
    )
}

#[test]
fn reads_values_and_release() {
    let v = json!({"runners": {"jobNamespace": "", "job": {"registry": "reg.example"}}});
    let out = run(
        "namespace = \"{{ default .Release.Namespace .Values.runners.jobNamespace }}\"\nimage = \"{{ .Values.runners.job.registry }}/alpine\"\nx = {{ printf \"%s-%s\" .Release.Name \"a\" | quote }}",
        &v,
    );
    assert_eq!(
        out.text,
        "namespace = \"ci\"\nimage = \"reg.example/alpine\"\nx = \"gitlab-runner-a\""
    );
    assert!(out.unknown.is_empty());
}

#[test]
fn if_else_and_trim_markers() {
    let v = json!({"on": true, "off": false});
    let t =
        "a\n{{- if .Values.off }}\nb\n{{- else if .Values.on }}\nc\n{{- else }}\nd\n{{- end }}\ne";
    assert_eq!(run(t, &v).text, "a\nc\ne");
    let t = "{{- if not .Values.off }}\nprivileged = false\n{{- end }}";
    assert_eq!(run(t, &v).text, "\nprivileged = false");
}

#[test]
fn unknown_actions_are_kept_and_named() {
    let v = json!({});
    let out = run(
        "image = \"{{ include \"x\" . }}\"\nn = {{ $x := 1 }}\n{{ range .Values.l }}y{{ end }}z",
        &v,
    );
    assert_eq!(out.unknown.len(), 3, "{:?}", out.unknown);
    assert!(
        out.text
            .starts_with("image = \"{{ include \"x\" . }}\"\nn = \"")
    );
    assert!(out.text.ends_with('z'));
    // The bare value stays a TOML string.
    assert!(out.text.contains("n = \"{{ $x := 1 }}\""), "{}", out.text);
}

#[test]
fn parenthesised_field_access() {
    let v = json!({"sessionServer": {"ingress": {"enabled": true}}});
    let out = run(
        "{{ if ((.Values.sessionServer).ingress).enabled }}yes{{ end }}",
        &v,
    );
    assert_eq!(out.text, "yes");
}
