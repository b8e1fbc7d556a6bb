//! The GitLab CI component, templates/runnerguard.yml: its `spec:inputs` as GitLab reads them,
//! and its jobs' scripts run as GitLab would run them (inputs interpolated, variables
//! expanded, the script's lines in one `sh -e`) in a git repository made here, with the
//! predefined variables of a merge request pipeline and of a default-branch pipeline.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::diff::{copy_tree, git, git_binary};
use super::root;

/// The component's two documents: the header (`spec`) and the jobs, with `inputs`
/// interpolated into the jobs as GitLab does (`$[[ inputs.NAME ]]`).
fn component(inputs: &BTreeMap<&str, &str>) -> (Value, Value) {
    let text = std::fs::read_to_string(root().join("templates/runnerguard.yml")).unwrap();
    let (header, jobs) = text
        .split_once("\n---\n")
        .expect("a header, `---`, the jobs");
    let header: Value = serde_saphyr::from_str(header).unwrap();
    let spec = header["spec"]["inputs"].as_object().unwrap();
    let mut jobs = jobs.to_owned();
    while let Some(start) = jobs.find("$[[") {
        let end = start + jobs[start..].find("]]").unwrap() + 2;
        let name = jobs[start + 3..end - 2]
            .trim()
            .strip_prefix("inputs.")
            .unwrap()
            .to_owned();
        let input = spec
            .get(&name)
            .unwrap_or_else(|| panic!("input {name} is not in spec"));
        let value = inputs
            .get(name.as_str())
            .map(|v| (*v).to_owned())
            .or_else(|| {
                input
                    .get("default")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| panic!("input {name} has no default and was not given"));
        jobs.replace_range(start..end, &value);
    }
    (header, serde_saphyr::from_str(&jobs).unwrap())
}

/// `$NAME` and `${NAME}` in `text` from `vars` (GitLab expands variables in `variables:`).
fn expand(text: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = text.to_owned();
    for (k, v) in vars {
        out = out
            .replace(&format!("${{{k}}}"), v)
            .replace(&format!("${k}"), v);
    }
    out
}

/// Runs `job` of `jobs` (its template's variables, then its own) in `dir` with the
/// predefined variables `ci`; the script's lines in one shell, as the runner runs them.
fn run_job(jobs: &Value, job: &str, dir: &Path, ci: &BTreeMap<String, String>) -> i32 {
    let j = &jobs[job];
    let template = &jobs[j["extends"].as_str().unwrap()];
    let mut vars = ci.clone();
    for source in [template, j] {
        if let Some(v) = source["variables"].as_object() {
            for (k, value) in v {
                let value = expand(value.as_str().unwrap(), &vars);
                vars.insert(k.clone(), value);
            }
        }
    }
    let script: Vec<&str> = j["script"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_runnerguard"));
    let git_dir = git_binary().unwrap().parent().unwrap().to_path_buf();
    let path = std::env::join_paths([
        bin.parent().unwrap(),
        &git_dir,
        Path::new("/bin"),
        Path::new("/usr/bin"),
    ])
    .unwrap();
    let status = Command::new("sh")
        .arg("-ec")
        .arg(script.join("\n"))
        .current_dir(dir)
        .env_clear()
        .envs(&vars)
        .env("PATH", path)
        .env("HOME", dir)
        .env("NO_COLOR", "1")
        .status()
        .unwrap();
    status.code().unwrap_or(-1)
}

fn codequality(dir: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(dir.join("gl-code-quality-report.json")).unwrap();
    serde_json::from_str::<Value>(&text)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn junit_failed(dir: &Path, case: &str) -> bool {
    let text = std::fs::read_to_string(dir.join("runnerguard-junit.xml")).unwrap();
    let report = quick_junit::Report::deserialize_from_str(&text).unwrap();
    let c = report.test_suites[0]
        .test_cases
        .iter()
        .find(|c| c.name.as_str() == case)
        .unwrap_or_else(|| panic!("no case {case}"));
    matches!(c.status, quick_junit::TestCaseStatus::NonSuccess { .. })
}

#[test]
fn the_component_declares_its_inputs() {
    let (header, jobs) = component(&BTreeMap::from([("paths", "deploy/")]));
    let inputs = header["spec"]["inputs"].as_object().unwrap();
    for name in ["paths", "fail-on", "base-ref", "image", "stage", "args"] {
        let input = &inputs[name];
        assert!(
            input["description"].as_str().is_some_and(|d| !d.is_empty()),
            "{name}"
        );
    }
    assert!(
        inputs["paths"].get("default").is_none(),
        "paths must be given"
    );
    assert_eq!(
        inputs["base-ref"]["default"],
        "$CI_MERGE_REQUEST_DIFF_BASE_SHA"
    );
    assert_eq!(inputs["fail-on"]["default"], "high");
    let options: Vec<&str> = inputs["fail-on"]["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o.as_str().unwrap())
        .collect();
    assert_eq!(options, ["info", "low", "medium", "high", "critical"]);
    // Merge requests get the diff, the default branch the audit; both publish both reports.
    assert_eq!(
        jobs["runnerguard-diff"]["rules"][0]["if"],
        "$CI_PIPELINE_SOURCE == \"merge_request_event\""
    );
    assert_eq!(
        jobs["runnerguard-audit"]["rules"][0]["if"],
        "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"
    );
    let reports = &jobs[".runnerguard"]["artifacts"]["reports"];
    assert_eq!(reports["codequality"], "gl-code-quality-report.json");
    assert_eq!(reports["junit"], "runnerguard-junit.xml");
    assert_eq!(jobs[".runnerguard"]["artifacts"]["when"], "always");
}

#[test]
fn the_jobs_run_in_a_merge_request_and_on_the_default_branch() {
    if git_binary().is_none() {
        assert!(std::env::var_os("CI").is_none(), "git is required in CI");
        eprintln!("skipped: no git on PATH");
        return;
    }
    // The project: the generated setup on `main`; origin is a bare copy, as on GitLab.
    let work = tempfile::tempdir().unwrap();
    let upstream = work.path().join("upstream");
    std::fs::create_dir_all(&upstream).unwrap();
    git(&upstream, &["init", "-q", "-b", "main"]);
    copy_tree(&root().join("fixtures/diff/old"), &upstream.join("deploy"));
    git(&upstream, &["add", "."]);
    git(&upstream, &["commit", "-q", "-m", "the generated setup"]);
    let base = git(&upstream, &["rev-parse", "HEAD"]).trim().to_owned();
    // The merge request's branch adds the binding.
    git(&upstream, &["checkout", "-q", "-b", "let-teams-edit"]);
    std::fs::copy(
        root().join("fixtures/diff/new/teams/teams-edit-runner.yaml"),
        upstream.join("deploy/teams/teams-edit-runner.yaml"),
    )
    .unwrap();
    git(&upstream, &["add", "."]);
    git(
        &upstream,
        &[
            "commit",
            "-q",
            "-m",
            "let teams edit the runner's namespace",
        ],
    );
    git(
        &upstream,
        &["config", "uploadpack.allowReachableSHA1InWant", "true"],
    );
    // GitLab clones shallowly (GIT_DEPTH 20 by default; 1 here): the base is not there.
    let clone = work.path().join("clone");
    let url = format!("file://{}", upstream.display());
    git(
        work.path(),
        &[
            "clone",
            "-q",
            "--depth=1",
            "--branch",
            "let-teams-edit",
            &url,
            "clone",
        ],
    );
    assert!(
        Command::new(git_binary().unwrap())
            .args(["cat-file", "-e", &format!("{base}^{{commit}}")])
            .current_dir(&clone)
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap()
            .code()
            != Some(0),
        "the shallow clone lacks the base"
    );

    let (_, jobs) = component(&BTreeMap::from([("paths", "deploy/")]));
    let mr = BTreeMap::from([
        (
            "CI_PIPELINE_SOURCE".to_owned(),
            "merge_request_event".to_owned(),
        ),
        ("CI_MERGE_REQUEST_DIFF_BASE_SHA".to_owned(), base.clone()),
        ("CI_COMMIT_BRANCH".to_owned(), String::new()),
        ("CI_DEFAULT_BRANCH".to_owned(), "main".to_owned()),
    ]);
    assert_eq!(
        run_job(&jobs, "runnerguard-diff", &clone, &mr),
        1,
        "the change fails"
    );
    assert!(junit_failed(
        &clone,
        "job identities stay out of the manager namespace"
    ));
    let issues = codequality(&clone);
    assert!(issues.iter().any(|i| i["check_name"] == "RG104"));
    assert!(
        issues.iter().all(|i| i["location"]["path"]
            .as_str()
            .unwrap()
            .starts_with("deploy/")),
        "paths relative to the repository root"
    );

    // The default branch: the audit of the setup as it is, which passes.
    let main = work.path().join("main");
    git(
        work.path(),
        &["clone", "-q", "--depth=1", "--branch", "main", &url, "main"],
    );
    let default = BTreeMap::from([
        ("CI_PIPELINE_SOURCE".to_owned(), "push".to_owned()),
        ("CI_COMMIT_BRANCH".to_owned(), "main".to_owned()),
        ("CI_DEFAULT_BRANCH".to_owned(), "main".to_owned()),
    ]);
    assert_eq!(run_job(&jobs, "runnerguard-audit", &main, &default), 0);
    assert!(!junit_failed(&main, "RG104 job-reaches-manager-namespace"));
    // ...and of the merge request's side, which does not, with an input passed through.
    let (_, strict) = component(&BTreeMap::from([
        ("paths", "deploy/manager deploy/teams"),
        ("fail-on", "critical"),
        ("args", "--select RG104"),
    ]));
    assert_eq!(run_job(&strict, "runnerguard-audit", &clone, &default), 1);
    let issues = codequality(&clone);
    assert!(!issues.is_empty() && issues.iter().all(|i| i["check_name"] == "RG104"));
}
