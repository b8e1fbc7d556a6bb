//! The chart's templates that matter to isolation, modelled for when Helm is not installed.
//!
//! Each object below follows one template of the official chart (file named in its comment);
//! where chart versions differ, the variant is chosen by reading that version's own template
//! text from the embedded archive, never by version arithmetic. Only what the audit reads is
//! modelled: names, namespaces, RBAC rules, the manager's ServiceAccount, image and
//! environment, the runner config after `tpl`, and which token keys the Secret holds. The
//! differential test in tests/differential.rs holds this model to `helm template`.

use serde_json::{Map, Value, json};

use crate::tpl::{self, Scope, display, lookup, truthy};
use crate::{Chart, Error, Release, Rendered, values::coalesce};

/// Renders `release` with the model of `chart`: a JSON `List` of the objects `helm template`
/// would produce that the audit reads.
pub fn render_model(release: &Release, chart: &'static Chart) -> Result<Rendered, Error> {
    let chart_error = |message: String| Error::Chart {
        version: chart.version.to_owned(),
        message,
    };
    let [defaults_text, role, role_binding, deployment] = chart.files([
        "values.yaml",
        "templates/role.yaml",
        "templates/role-binding.yaml",
        "templates/deployment.yaml",
    ])?;
    let mut values: Value = serde_saphyr::from_str(&defaults_text)
        .map_err(|e| chart_error(format!("values.yaml: {e}")))?;
    for doc in &release.values {
        let user: Value = serde_json::from_str(&doc.json).map_err(|e| Error::Values {
            name: doc.name.clone(),
            message: e.to_string(),
        })?;
        match &user {
            Value::Object(_) => coalesce(&mut values, &user),
            Value::Null => {}
            _ => {
                return Err(Error::Values {
                    name: doc.name.clone(),
                    message: "expected a mapping of keys".to_owned(),
                });
            }
        }
    }
    let templates = Templates {
        role,
        role_binding,
        deployment,
    };
    let v = Values(&values);
    let mut notes = Vec::new();

    let fullname = fullname(&v, &release.name);
    let labels = json!({
        "app": fullname,
        "chart": format!("gitlab-runner-{}", chart.version),
        "release": release.name,
        "heritage": "Helm",
    });
    // `default .Release.Namespace .Values.namespace` (0.79.0+), else the release namespace.
    let namespace = if templates
        .deployment
        .contains("default .Release.Namespace .Values.namespace")
    {
        v.str("namespace")
            .filter(|n| !n.is_empty())
            .unwrap_or(&release.namespace)
            .to_owned()
    } else {
        release.namespace.clone()
    };
    let sa_name = service_account_name(&v, &fullname);
    let rbac = v.truthy("rbac.create");
    let mut items = Vec::new();

    // templates/service-account.yaml: `if or .Values.serviceAccount.create (and
    // .Values.rbac.create (kindIs "invalid" .Values.serviceAccount.create))`.
    let sa_create = v.get("serviceAccount.create");
    if v.truthy("serviceAccount.create") || (rbac && sa_create.is_none_or(Value::is_null)) {
        items.push(json!({
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": sa_name, "namespace": namespace, "labels": labels},
        }));
    }

    // templates/role.yaml and role-binding.yaml.
    if rbac {
        let cluster = v.truthy("rbac.clusterWideAccess");
        let role_namespace = if templates
            .role
            .contains("coalesce .Values.runners.jobNamespace .Values.namespace .Release.Namespace")
        {
            [v.str("runners.jobNamespace"), v.str("namespace")]
                .into_iter()
                .flatten()
                .find(|n| !n.is_empty())
                .unwrap_or(&release.namespace)
                .to_owned()
        } else if templates
            .role
            .contains("default .Release.Namespace .Values.namespace")
        {
            namespace.clone()
        } else {
            release.namespace.clone()
        };
        let subject_namespace = if templates
            .role_binding
            .contains("default .Release.Namespace .Values.namespace")
        {
            namespace.clone()
        } else {
            release.namespace.clone()
        };
        let mut metadata = json!({"name": fullname, "labels": labels});
        if !cluster {
            metadata["namespace"] = json!(role_namespace);
        }
        items.push(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": if cluster { "ClusterRole" } else { "Role" },
            "metadata": metadata,
            "rules": role_rules(&v),
        }));
        items.push(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": if cluster { "ClusterRoleBinding" } else { "RoleBinding" },
            "metadata": metadata,
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": if cluster { "ClusterRole" } else { "Role" },
                "name": fullname,
            },
            "subjects": [{"kind": "ServiceAccount", "name": sa_name, "namespace": subject_namespace}],
        }));
    }

    // templates/secrets.yaml: keys only; a credential's value never leaves the values file
    // (it arrives redacted), and only whether it is empty matters.
    if v.truthy("runnerRegistrationToken") || v.truthy("runnerToken") {
        let secret_name = match v.str("runners.secret").filter(|s| !s.is_empty()) {
            Some(s) => s.to_owned(),
            None => fullname.clone(),
        };
        let key = |path: &str| {
            if v.truthy(path) {
                // base64 of "redacted": the real value is never read.
                "cmVkYWN0ZWQ="
            } else {
                ""
            }
        };
        items.push(json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": {"name": secret_name, "namespace": namespace, "labels": labels},
            "data": {
                "runner-registration-token": key("runnerRegistrationToken"),
                "runner-token": key("runnerToken"),
            },
        }));
    }

    // templates/configmap.yaml: `config.template.toml: {{ tpl .Values.runners.config $ }}`.
    let mut data = Map::new();
    if let Some(config) = v.get("runners.config").filter(|c| truthy(c)) {
        let text = match config {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let out = tpl::render(
            &text,
            &Scope {
                values: &values,
                release_name: &release.name,
                release_namespace: &release.namespace,
                chart_version: chart.version,
                app_version: chart.app_version,
            },
        );
        for u in out.unknown {
            notes.push(format!(
                "`runners.config`: `{u}` is not evaluated without helm; kept as written"
            ));
        }
        data.insert("config.template.toml".to_owned(), Value::String(out.text));
    }
    items.push(json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": fullname, "namespace": namespace, "labels": labels},
        "data": data,
    }));

    // templates/deployment.yaml with _env_vars.tpl.
    let mut pod_spec = json!({
        "serviceAccountName": sa_name,
        "containers": [{
            "name": fullname,
            "image": image(&v, chart),
            "env": env(&v, &release.namespace),
        }],
    });
    if let Some(automount) = v.get("automountServiceAccountToken") {
        pod_spec["automountServiceAccountToken"] = automount.clone();
    }
    items.push(json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": fullname, "namespace": namespace, "labels": labels},
        "spec": {
            "selector": {"matchLabels": {"app": fullname}},
            "template": {
                "metadata": {"labels": {"app": fullname, "release": release.name}},
                "spec": pod_spec,
            },
        },
    }));

    let list = json!({"apiVersion": "v1", "kind": "List", "items": items});
    Ok(Rendered {
        manifests: serde_json::to_string_pretty(&list).map_err(|e| Error::Io(e.to_string()))?,
        how: format!(
            "modelled without helm (chart gitlab-runner {}); install helm for an exact rendering",
            chart.version
        ),
        notes,
    })
}

/// The template texts whose variants the model follows.
struct Templates {
    role: String,
    role_binding: String,
    deployment: String,
}

/// Values with dotted-path access.
struct Values<'a>(&'a Value);

impl Values<'_> {
    fn get(&self, path: &str) -> Option<&Value> {
        lookup(self.0, path)
    }

    fn str(&self, path: &str) -> Option<&str> {
        self.get(path).and_then(Value::as_str)
    }

    fn truthy(&self, path: &str) -> bool {
        self.get(path).is_some_and(truthy)
    }
}

/// `trunc 63 | trimSuffix "-"`.
fn trunc63(s: &str) -> String {
    let t: String = s.chars().take(63).collect();
    t.strip_suffix('-').map_or_else(|| t.clone(), str::to_owned)
}

/// `_helpers.tpl` `gitlab-runner.fullname`.
fn fullname(v: &Values<'_>, release: &str) -> String {
    if let Some(o) = v.get("fullnameOverride").filter(|o| truthy(o)) {
        return trunc63(&display(o));
    }
    let name = v
        .get("nameOverride")
        .filter(|n| truthy(n))
        .map_or_else(|| "gitlab-runner".to_owned(), display);
    if release.starts_with(&name) {
        trunc63(release)
    } else {
        trunc63(&format!("{release}-{name}"))
    }
}

/// `_helpers.tpl` `gitlab-runner.serviceAccountName`.
fn service_account_name(v: &Values<'_>, fullname: &str) -> String {
    let pick = |path: &str| {
        v.get(path)
            .filter(|n| truthy(n))
            .map_or_else(|| fullname.to_owned(), display)
    };
    if v.truthy("serviceAccount.create") || v.truthy("serviceAccount.name") {
        pick("serviceAccount.name")
    } else if v.truthy("rbac.create") {
        pick("rbac.generatedServiceAccountName")
    } else {
        v.get("rbac.serviceAccountName")
            .map(display)
            .unwrap_or_default()
    }
}

/// templates/role.yaml `rules:`. Each rule's empty fields default to `[""]`, `["*"]`,
/// `["*"]`; `resourceNames` is dropped; empty `rbac.rules` is a `*`/`*` rule on the core group.
fn role_rules(v: &Values<'_>) -> Vec<Value> {
    let mut rules = Vec::new();
    if v.truthy("rbac.podSecurityPolicy.enabled") {
        rules.push(json!({
            "apiGroups": ["policy"],
            "resources": ["podsecuritypolicies"],
            "verbs": ["use"],
            "resourceNames": v.get("rbac.podSecurityPolicy.resourceNames").cloned().unwrap_or(Value::Null),
        }));
    }
    let list = v.get("rbac.rules").filter(|r| truthy(r));
    let Some(Value::Array(items)) = list else {
        rules.push(json!({"apiGroups": [""], "resources": ["*"], "verbs": ["*"]}));
        return rules;
    };
    for item in items {
        let field = |key: &str, default: Value| {
            item.get(key)
                .filter(|x| truthy(x))
                .cloned()
                .unwrap_or(default)
        };
        rules.push(json!({
            "apiGroups": field("apiGroups", json!([""])),
            "resources": field("resources", json!(["*"])),
            "verbs": field("verbs", json!(["*"])),
        }));
    }
    rules
}

/// `_helpers.tpl` `gitlab-runner.image`.
fn image(v: &Values<'_>, chart: &Chart) -> String {
    let registry = v.str("image.registry").unwrap_or_default();
    let registry = if registry.is_empty() {
        String::new()
    } else {
        format!("{registry}/")
    };
    let tag = v
        .get("image.tag")
        .filter(|t| truthy(t))
        .map_or_else(|| format!("alpine-v{}", chart.app_version), display);
    format!(
        "{registry}{}:{tag}",
        v.str("image.image").unwrap_or("gitlab-org/gitlab-runner")
    )
}

/// `_env_vars.tpl` `gitlab-runner.runner-env-vars`: the variables that reach the runner.
fn env(v: &Values<'_>, release_namespace: &str) -> Vec<Value> {
    let var = |name: &str, value: String| json!({"name": name, "value": value});
    let executor = v
        .get("runners.executor")
        .filter(|e| truthy(e))
        .map_or_else(|| "kubernetes".to_owned(), display);
    let locked = v
        .get("runners")
        .and_then(|r| r.get("locked"))
        .is_none_or(truthy);
    let mut out = vec![
        var(
            "CI_SERVER_URL",
            v.get("gitlabUrl").map(display).unwrap_or_default(),
        ),
        var("RUNNER_EXECUTOR", executor.clone()),
        var("REGISTER_LOCKED", locked.to_string()),
        var(
            "RUNNER_TAG_LIST",
            v.get("runners.tags")
                .filter(|t| truthy(t))
                .map(display)
                .unwrap_or_default(),
        ),
    ];
    // `if not (regexMatch "\\s*namespace\\s*=" .Values.runners.config)`: on the raw string,
    // before `tpl`.
    let config = v.get("runners.config").map(display).unwrap_or_default();
    if executor == "kubernetes" && !has_namespace_line(&config) {
        out.push(var("KUBERNETES_NAMESPACE", release_namespace.to_owned()));
    }
    if let Some(Value::Array(vars)) = v.get("envVars") {
        for item in vars {
            out.push(json!({
                "name": item.get("name").map(display).unwrap_or_default(),
                "value": item.get("value").map(display).unwrap_or_default(),
            }));
        }
    }
    if let Some(Value::Object(extra)) = v.get("extraEnv") {
        // `range $key, $value := .Values.extraEnv`: Go ranges over a map in key order.
        let mut keys: Vec<&String> = extra.keys().collect();
        keys.sort();
        for k in keys {
            out.push(var(k, display(&extra[k])));
        }
    }
    out
}

/// Go's `regexp.MatchString("\\s*namespace\\s*=", config)`: `namespace`, optional
/// whitespace, `=`, anywhere.
fn has_namespace_line(config: &str) -> bool {
    config.match_indices("namespace").any(|(i, m)| {
        config[i + m.len()..]
            .trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c'])
            .starts_with('=')
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ValuesDoc;

    fn release(values: &str) -> Release {
        Release {
            name: "gitlab-runner".to_owned(),
            namespace: "ci".to_owned(),
            values: vec![ValuesDoc {
                name: "v.yaml".to_owned(),
                json: values.to_owned(),
            }],
        }
    }

    fn items(r: &Rendered) -> Vec<Value> {
        let v: Value = serde_json::from_str(&r.manifests).unwrap();
        v["items"].as_array().unwrap().clone()
    }

    #[test]
    fn rbac_create_with_empty_rules_is_a_wildcard_role_in_the_job_namespace() {
        let chart = Chart::find("0.86.0").unwrap();
        let r = render_model(
            &release(r#"{"rbac": {"create": true}, "runners": {"jobNamespace": "teams"}}"#),
            chart,
        )
        .unwrap();
        let items = items(&r);
        let role = items.iter().find(|i| i["kind"] == "Role").unwrap();
        assert_eq!(role["metadata"]["namespace"], "teams");
        assert_eq!(
            role["rules"],
            json!([{"apiGroups": [""], "resources": ["*"], "verbs": ["*"]}])
        );
        let sa = items
            .iter()
            .find(|i| i["kind"] == "ServiceAccount")
            .unwrap();
        assert_eq!(sa["metadata"]["name"], "gitlab-runner");
        // 0.77.2 put the Role in the release namespace.
        let old = render_model(
            &release(r#"{"rbac": {"create": true}, "runners": {"jobNamespace": "teams"}}"#),
            Chart::find("0.77.2").unwrap(),
        )
        .unwrap();
        let role = items_of(&old, "Role");
        assert_eq!(role["metadata"]["namespace"], "ci");
    }

    fn items_of(r: &Rendered, kind: &str) -> Value {
        items(r).into_iter().find(|i| i["kind"] == kind).unwrap()
    }

    #[test]
    fn rules_default_fields_and_drop_resource_names() {
        let r = render_model(
            &release(r#"{"rbac": {"create": true, "clusterWideAccess": true, "rules": [{"resources": ["pods"], "resourceNames": ["x"]}, {"apiGroups": ["apps"], "verbs": ["get"]}]}}"#),
            Chart::newest(),
        )
        .unwrap();
        let role = items_of(&r, "ClusterRole");
        assert!(role["metadata"].get("namespace").is_none());
        assert_eq!(
            role["rules"],
            json!([
                {"apiGroups": [""], "resources": ["pods"], "verbs": ["*"]},
                {"apiGroups": ["apps"], "resources": ["*"], "verbs": ["get"]}
            ])
        );
        assert_eq!(
            items_of(&r, "ClusterRoleBinding")["subjects"][0]["namespace"],
            "ci"
        );
    }

    #[test]
    fn env_vars_and_namespace_fallback() {
        let r = render_model(
            &release(r#"{"runners": {"config": "[[runners]]\n[runners.kubernetes]\nimage = \"a\"\n"}, "envVars": [{"name": "KUBERNETES_PRIVILEGED", "value": "true"}], "extraEnv": {"B": 1}}"#),
            Chart::newest(),
        )
        .unwrap();
        let d = items_of(&r, "Deployment");
        let env = &d["spec"]["template"]["spec"]["containers"][0]["env"];
        let names: Vec<&str> = env
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap())
            .collect();
        assert!(names.contains(&"KUBERNETES_NAMESPACE"), "{names:?}");
        assert!(names.contains(&"KUBERNETES_PRIVILEGED"));
        assert!(names.contains(&"B"));
        // The chart's own default config names the namespace: no env var then.
        let r = render_model(&release("{}"), Chart::newest()).unwrap();
        let d = items_of(&r, "Deployment");
        assert!(!d.to_string().contains("KUBERNETES_NAMESPACE"));
        let cm = items_of(&r, "ConfigMap");
        assert!(
            cm["data"]["config.template.toml"]
                .as_str()
                .unwrap()
                .contains("namespace = \"ci\"")
        );
        // No rbac.create: the pod runs as `rbac.serviceAccountName`, empty by default.
        assert_eq!(d["spec"]["template"]["spec"]["serviceAccountName"], "");
    }

    #[test]
    fn namespace_line_match_is_the_charts_regex() {
        assert!(has_namespace_line("  namespace = \"x\""));
        assert!(has_namespace_line("namespace=\"x\""));
        assert!(!has_namespace_line("namespace_overwrite_allowed = \"\""));
    }
}
