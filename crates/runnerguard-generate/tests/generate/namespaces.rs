//! Issue #8 (point 11): the setup creates and labels only the namespaces it owns. A deploy
//! namespace written as a plain name (`"monitoring"`) already exists and is someone else's:
//! it gets the deploy Role and RoleBinding, never a Namespace object, which `kubectl apply -k`
//! would use to relabel it with Pod Security `enforce` and so reject its next pods. One
//! written as `{ name = "…", create = true }` is created with the tenant's Pod Security
//! labels. INSTALL.md lists both kinds.

use runnerguard_generate::{Config, GeneratedFile, default_config, parse_config};
use serde_json::Value;

use crate::{documents, file, files, three_tenants};

/// Every manifest document of a setup, as JSON values.
fn objects(files: &[GeneratedFile]) -> Vec<Value> {
    files
        .iter()
        .filter(|f| f.is_manifest())
        .flat_map(|f| documents(&f.contents))
        .collect()
}

/// The Namespace objects of a setup: name → the Pod Security `enforce` label.
fn namespace_objects(files: &[GeneratedFile]) -> Vec<(String, String)> {
    objects(files)
        .iter()
        .filter(|o| o["kind"] == "Namespace")
        .map(|o| {
            (
                o["metadata"]["name"].as_str().unwrap().to_owned(),
                o["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned(),
            )
        })
        .collect()
}

/// The names of the objects of `kind` in `namespace`.
fn names_in(files: &[GeneratedFile], kind: &str, namespace: &str) -> Vec<String> {
    objects(files)
        .iter()
        .filter(|o| o["kind"] == kind && o["metadata"]["namespace"] == namespace)
        .map(|o| o["metadata"]["name"].as_str().unwrap().to_owned())
        .collect()
}

fn config(text: &str) -> Config {
    parse_config("runnerguard.toml", text).unwrap()
}

fn rendered_errors(text: &str) -> String {
    parse_config("runnerguard.toml", text)
        .expect_err("the configuration should be rejected")
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn shared_deploy_namespaces_get_rbac_but_no_namespace_object() {
    let files = files(&three_tenants());
    let namespaces = namespace_objects(&files);
    for shared in ["monitoring", "ingress"] {
        assert!(
            !namespaces.iter().any(|(n, _)| n == shared),
            "`{shared}` must not be created or relabelled: {namespaces:?}"
        );
        // The deploy identity still gets its rights there, and developers their access.
        assert_eq!(
            names_in(&files, "Role", shared),
            ["ops-ops-deployer"],
            "{shared}"
        );
        assert_eq!(
            names_in(&files, "RoleBinding", shared),
            ["ops-ops-deployer", "ops-developers-view"],
            "{shared}"
        );
    }
    // Everything the setup owns is still created, each namespace once.
    assert_eq!(
        namespaces,
        [
            ("ci-runners".to_owned(), "restricted".to_owned()),
            ("web-ci".to_owned(), "restricted".to_owned()),
            ("web-staging".to_owned(), "restricted".to_owned()),
            ("data".to_owned(), "baseline".to_owned()),
            ("ops-ci".to_owned(), "baseline".to_owned()),
        ]
    );
    let ops = file(&files, "ops/namespaces.yaml");
    assert!(
        ops.contains("# Not created here: `monitoring`, `ingress`."),
        "{ops}"
    );
}

#[test]
fn create_true_creates_the_namespace_with_pod_security_labels() {
    let text = r#"
[[tenants]]
name = "web"
deploy = true
deploy_namespaces = ["web", { name = "web-staging", create = true }, "shared"]
"#;
    let files = files(&config(text));
    let staging: Vec<Value> = objects(&files)
        .into_iter()
        .filter(|o| o["kind"] == "Namespace" && o["metadata"]["name"] == "web-staging")
        .collect();
    let [ns] = staging.as_slice() else {
        panic!("one Namespace `web-staging`: {staging:?}")
    };
    for mode in ["enforce", "audit", "warn"] {
        assert_eq!(
            ns["metadata"]["labels"][format!("pod-security.kubernetes.io/{mode}")],
            "baseline",
            "{mode}"
        );
    }
    assert_eq!(ns["metadata"]["labels"]["runnerguard/tenant"], "web");
    assert!(
        !namespace_objects(&files).iter().any(|(n, _)| n == "shared"),
        "a plain name is not created"
    );
    assert_eq!(names_in(&files, "Role", "shared"), ["web-ci-deployer"]);
    assert_eq!(names_in(&files, "Role", "web-staging"), ["web-ci-deployer"]);
}

#[test]
fn tables_and_array_of_tables_read_alike() {
    let inline = config(
        "[[tenants]]\nname = \"a\"\ndeploy = true\ndeploy_namespaces = [{ name = \"a-prod\", create = true }, { name = \"mon\" }, { name = \"ing\", create = false }]\n",
    );
    let sections = config(
        "[[tenants]]\nname = \"a\"\ndeploy = true\n\n[[tenants.deploy_namespaces]]\nname = \"a-prod\"\ncreate = true\n\n[[tenants.deploy_namespaces]]\nname = \"mon\"\n\n[[tenants.deploy_namespaces]]\nname = \"ing\"\ncreate = false\n",
    );
    assert_eq!(inline, sections);
    let t = &inline.tenants()[0];
    assert_eq!(t.deploy_namespaces(), ["a-prod", "mon", "ing"]);
    assert!(t.creates_namespace("a-prod"));
    assert!(
        t.creates_namespace("a"),
        "the job namespace is always created"
    );
    assert!(!t.creates_namespace("mon"));
    assert!(!t.creates_namespace("ing"));
    assert_eq!(
        inline.created_namespaces(),
        ["gitlab-runner", "a", "a-prod"]
    );
    assert_eq!(inline.existing_namespaces(), ["mon", "ing"]);
}

#[test]
fn one_tenant_creating_a_shared_namespace_owns_it() {
    // `b` lists `shared` by name, `a` creates it: it is created once, with `a`'s labels.
    let c = config(
        r#"
[[tenants]]
name = "a"
deploy = true
deploy_namespaces = [{ name = "shared", create = true }]

[[tenants]]
name = "b"
deploy = true
deploy_namespaces = ["shared", "other"]
"#,
    );
    assert_eq!(
        c.created_namespaces(),
        ["gitlab-runner", "a", "shared", "b"]
    );
    assert_eq!(c.existing_namespaces(), ["other"]);
    let files = files(&c);
    assert_eq!(
        namespace_objects(&files)
            .iter()
            .filter(|(n, _)| n == "shared")
            .count(),
        1
    );
    let install = file(&files, "INSTALL.md");
    assert!(
        install.contains("- `shared` (baseline): tenant `a`'s deployments"),
        "{install}"
    );
    assert!(
        install.contains("kubectl get namespace other\n"),
        "{install}"
    );
}

#[test]
fn install_md_lists_created_and_existing_namespaces() {
    let files = files(&three_tenants());
    let install = file(&files, "INSTALL.md");
    for line in [
        "- `ci-runners` (restricted): the runner managers",
        "- `web-ci` (restricted): tenant `web`'s jobs",
        "- `web-staging` (restricted): tenant `web`'s deployments",
        "- `data` (baseline): tenant `data`'s jobs",
        "- `ops-ci` (baseline): tenant `ops`'s jobs",
        "- `monitoring`: tenant `ops` deploys here",
        "- `ingress`: tenant `ops` deploys here",
        "kubectl get namespace monitoring ingress\n",
    ] {
        assert!(install.contains(line), "missing {line:?} in:\n{install}");
    }
    // The check comes before the apply.
    let check = install.find("kubectl get namespace").unwrap();
    let apply = install.find("```sh\nkubectl apply -k .\n```").unwrap();
    assert!(check < apply, "{install}");

    // The default setup creates everything it touches: nothing to check.
    let files = crate::files(&default_config());
    let install = file(&files, "INSTALL.md");
    assert!(
        install.contains("- `teams` (baseline): tenant `teams`'s jobs"),
        "{install}"
    );
    assert!(!install.contains("kubectl get namespace"), "{install}");
}

#[test]
fn deploy_namespace_entries_are_checked_and_placed() {
    let text = r#"[[tenants]]
name = "a"
deploy = true
deploy_namespaces = [
  { create = true },
  { name = "x", crate = true },
  { name = "y", create = "yes" },
  { name = "a", create = false },
  3,
  { name = "Bad", create = true },
]
"#;
    let got = rendered_errors(text);
    for e in [
        "runnerguard.toml:5:3: a `deploy_namespaces` entry needs a `name`",
        "runnerguard.toml:6:17: unknown key `crate` in a `deploy_namespaces` entry\n  help: did you mean `create`?",
        "runnerguard.toml:7:26: `create` must be a boolean, found a string",
        "runnerguard.toml:9:3: each entry of `deploy_namespaces` must be a namespace name or a table, found an integer",
    ] {
        assert!(got.contains(e), "missing {e:?} in:\n{got}");
    }
    // Type errors stop before validation; the rest is reported once they are fixed.
    let text = r#"[[tenants]]
name = "a"
deploy = true
deploy_namespaces = [
  { name = "a", create = false },
  { name = "Bad", create = true },
]
"#;
    let got = rendered_errors(text);
    for e in [
        "runnerguard.toml:5:26: `a` is the job namespace of tenant `a`, which the setup always creates and labels\n  help: remove `create = false`",
        "runnerguard.toml:6:12: `Bad` is not a valid deploy namespace",
    ] {
        assert!(got.contains(e), "missing {e:?} in:\n{got}");
    }
    let got =
        rendered_errors("[[tenants]]\nname = \"a\"\ndeploy = true\ndeploy_namespaces = \"a\"\n");
    assert!(
        got.contains("4:21: `deploy_namespaces` must be an array of namespaces, found a string"),
        "{got}"
    );
}

#[test]
fn tenants_creating_one_namespace_agree_on_its_pod_security() {
    let text = r#"[manager]
runner_version = "18.11"

[[tenants]]
name = "a"
deploy = true
deploy_namespaces = [{ name = "shared", create = true }]

[[tenants]]
name = "b"
pod_security = "restricted"
deploy = true
deploy_namespaces = [{ name = "shared", create = true }]
"#;
    let got = rendered_errors(text);
    assert!(
        got.contains(
            "runnerguard.toml:13:31: tenant `b` creates namespace `shared` with Pod Security `restricted`, but tenant `a` creates it with `baseline`"
        ),
        "{got}"
    );
    // The same level is fine: one Namespace object.
    let same = text.replace("pod_security = \"restricted\"\n", "");
    let files = files(&config(&same));
    assert_eq!(
        namespace_objects(&files)
            .iter()
            .filter(|(n, _)| n == "shared")
            .count(),
        1
    );
}
