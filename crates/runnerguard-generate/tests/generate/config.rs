//! `runnerguard.toml`: the init template is the default configuration, and every problem is
//! reported at its `file:line:col` with what to do.

use runnerguard_generate::{
    ConfigDiagnostic, PodSecurityLevel, default_config, init_template, parse_config,
};

fn errors(text: &str) -> Vec<ConfigDiagnostic> {
    parse_config("runnerguard.toml", text).expect_err("the configuration should be rejected")
}

fn rendered(text: &str) -> String {
    errors(text)
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_init_template_is_the_default_configuration() {
    assert_eq!(
        parse_config("runnerguard.toml", &init_template()),
        Ok(default_config())
    );
    assert_eq!(parse_config("runnerguard.toml", ""), Ok(default_config()));
    // Only [manager]: the default tenant.
    let c = parse_config("x.toml", "[manager]\nnamespace = \"runners\"\n").unwrap();
    assert_eq!(c.manager_namespace(), "runners");
    assert_eq!(c.tenants()[0].name(), "teams");
}

#[test]
fn the_default_configuration() {
    let c = default_config();
    assert_eq!(c.manager_namespace(), "gitlab-runner");
    assert_eq!(c.chart_version(), "0.86.0");
    assert_eq!(c.runner_version().to_string(), "18.9.0");
    let [t] = c.tenants() else {
        panic!("one tenant")
    };
    assert_eq!(t.name(), "teams");
    assert_eq!(t.job_namespace(), "teams");
    assert_eq!(t.deploy_namespaces(), ["teams"]);
    assert_eq!(t.deployer_service_account(), Some("ci-deployer"));
    assert_eq!(t.manager_service_account(), "gitlab-runner");
    assert_eq!(t.token_secret(), "gitlab-runner-token");
    assert_eq!(t.pod_security(), PodSecurityLevel::Baseline);
}

#[test]
fn a_typo_is_placed_and_gets_a_suggestion() {
    let text = "[manager]\nnamespace = \"gitlab-runner\"\n\n[[tenants]]\nname = \"teams\"\njob_namspace = \"teams\"\n";
    assert_eq!(
        rendered(text),
        "runnerguard.toml:6:1: unknown key `job_namspace` in [[tenants]]\n  help: did you mean `job_namespace`?"
    );
}

#[test]
fn a_token_in_clear_is_refused_with_what_to_do() {
    let text = "[[tenants]]\nname = \"teams\"\nrunner_token = \"glrt-abcdef\"\n";
    let e = errors(text);
    assert_eq!(e.len(), 2, "{e:?}");
    assert_eq!((e[0].line, e[0].column), (3, 1));
    assert!(
        e[0].message.contains("runner tokens do not belong"),
        "{}",
        e[0].message
    );
    assert_eq!((e[1].line, e[1].column), (3, 16));
    assert!(
        e[1].message.contains("looks like a GitLab token"),
        "{}",
        e[1].message
    );
    for d in &e {
        assert!(d.help.as_deref().unwrap_or("").contains("token_secret"));
        // The token itself is never repeated.
        assert!(!d.to_string().contains("abcdef"));
    }
    // A token pasted into a known key is caught too.
    let e = errors("[[tenants]]\nname = \"teams\"\ntoken_secret = \"glrt-abcdef\"\n");
    assert_eq!((e[0].line, e[0].column), (3, 16));
    // Credentials in the URL.
    let e = errors("[manager]\ngitlab_url = \"https://ci:s3cret@gitlab.example.com/\"\n");
    assert!(e[0].message.contains("credentials"), "{e:?}");
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = r#"[manager]
namespace = "kube-system"
runner_version = "16.0"
chart_version = "0.70.0"
gitlab_url = "http://gitlab.example.com"

[[tenants]]
name = "Web"

[[tenants]]
name = "api"
job_namespace = "api"
deploy = true
pod_security = "restricted"
concurrent = 0
executor_features = ["portz"]
developer_deploy_access = "edit"

[tenants.resources.build]
cpu_request = "2"
cpu_limit = "1"
memory_limit = "lots"

[tenants.security_context]
run_as_user = 0
"#;
    let got = rendered(text);
    let expected = [
        "runnerguard.toml:2:13: `kube-system` belongs to Kubernetes itself and cannot be the manager namespace",
        "runnerguard.toml:5:14: the GitLab URL uses plain http",
        "runnerguard.toml:3:18: runner version `16.0` is not one this build knows",
        "runnerguard.toml:4:17: chart version `0.70.0` is not one this build knows",
        "runnerguard.toml:8:8: `Web` is not a valid tenant name",
        "runnerguard.toml:13:10: `deploy = true` needs `deploy_namespaces`",
        "runnerguard.toml:15:14: `concurrent` must be from 1 to 1000, not 0",
        "runnerguard.toml:16:22: unknown executor feature `portz`",
        "help: did you mean `ports`?",
        "runnerguard.toml:17:27: `edit` lets developers read Secrets",
        "runnerguard.toml:20:15: the build container's CPU request `2` is above its limit `1`",
        "runnerguard.toml:22:16: `lots` is not a memory quantity",
        "runnerguard.toml:25:15: `run_as_user = 0` is root",
    ];
    for e in expected {
        assert!(got.contains(e), "missing {e:?} in:\n{got}");
    }
}

#[test]
fn type_errors_are_placed() {
    let text = "[manager]\nnamespace = 5\n[[tenants]]\nname = \"teams\"\ndeploy = \"yes\"\ndeveloper_groups = \"devs\"\n";
    let got = rendered(text);
    assert!(
        got.contains("runnerguard.toml:2:13: `namespace` must be a string, found an integer"),
        "{got}"
    );
    assert!(
        got.contains("runnerguard.toml:5:10: `deploy` must be a boolean, found a string"),
        "{got}"
    );
    assert!(
        got.contains("runnerguard.toml:6:20: `developer_groups` must be an array of strings"),
        "{got}"
    );
    let got = rendered("tenants = 3\n");
    assert!(
        got.contains("1:11: `tenants` must be an array of tables"),
        "{got}"
    );
    let got = rendered("[manager\n");
    assert!(got.starts_with("runnerguard.toml:1:"), "{got}");
    assert!(got.contains("invalid TOML"), "{got}");
}

#[test]
fn tenants_cannot_share_or_reach_each_other() {
    let text = r#"
[[tenants]]
name = "a"
job_namespace = "shared"

[[tenants]]
name = "b"
job_namespace = "shared"
manager_service_account = "gitlab-runner-a"

[[tenants]]
name = "c"
deploy = true
deploy_namespaces = ["a-prod", "shared", "gitlab-runner"]
"#;
    let got = rendered(text);
    for e in [
        "8:17: tenant `b` uses job namespace `shared`, which tenant `a` uses too",
        "9:27: tenant `b` uses manager ServiceAccount `gitlab-runner-a`, which tenant `a` uses too",
        "14:42: deploy namespace `gitlab-runner` is the manager namespace",
        "14:32: tenant `c` deploys into `shared`, the job namespace of tenant `a`",
    ] {
        assert!(got.contains(e), "missing {e:?} in:\n{got}");
    }
    let got = rendered("[[tenants]]\nname = \"a\"\njob_namespace = \"gitlab-runner\"\n");
    assert!(
        got.contains("3:17: the job namespace of tenant `a` is the manager namespace"),
        "{got}"
    );
    let got = rendered("[manager]\nnamespace = \"teams\"\n");
    assert!(
        got.contains("2:13: `teams` is the default tenant's job namespace"),
        "{got}"
    );
    let got = rendered("[[tenants]]\nname = \"a\"\njob_service_account = \"default\"\n");
    assert!(got.contains("must not be `default`"), "{got}");
    let got = rendered(
        "[[tenants]]\nname = \"a\"\ndeploy = true\ndeploy_namespaces = [\"a\"]\ndeployer_service_account = \"ci-job\"\n",
    );
    assert!(
        got.contains("every job would hold the deploy rights"),
        "{got}"
    );
}

#[test]
fn several_tenants_get_a_manager_each() {
    let c = crate::three_tenants();
    let names: Vec<(&str, &str)> = c
        .tenants()
        .iter()
        .map(|t| (t.manager_service_account(), t.token_secret()))
        .collect();
    assert_eq!(
        names,
        [
            ("gitlab-runner-web", "gitlab-runner-web-token"),
            ("gitlab-runner-data", "gitlab-runner-data-token"),
            ("gitlab-runner-ops", "gitlab-runner-ops-token"),
        ]
    );
    assert_eq!(c.tenants()[1].job_namespace(), "data");
    assert_eq!(c.tenants()[1].deployer_service_account(), None);
}

#[test]
fn restricted_needs_a_runner_that_sets_seccomp() {
    let got = rendered("[[tenants]]\nname = \"a\"\npod_security = \"restricted\"\n");
    assert!(
        got.contains("3:16: Pod Security `restricted` needs a seccomp profile"),
        "{got}"
    );
    let ok = "[manager]\nrunner_version = \"18.11\"\n[[tenants]]\nname = \"a\"\npod_security = \"restricted\"\n";
    assert!(parse_config("x", ok).is_ok());
}
