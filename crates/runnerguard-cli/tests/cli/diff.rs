//! `runnerguard diff`: the fixture pair of issue #11 (the generated default setup, and the
//! same with a RoleBinding giving every ServiceAccount of `teams` the `edit` ClusterRole in
//! the manager's namespace), both ways, as two directories and through `--base-ref` on a git
//! repository made in the test.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::{Run, root, run};

const OLD: &str = "fixtures/diff/old/";
const NEW: &str = "fixtures/diff/new/";

fn json(r: &Run) -> Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout))
}

fn rules(v: &Value, which: &str) -> Vec<String> {
    v["findings"][which]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_binding_that_lets_jobs_edit_the_manager_namespace_fails() {
    let r = run(&["diff", OLD, NEW]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let out = &r.stdout;
    // Why, first: the job identity, then the binding, the new rights and the path.
    let fails = out.find("fails:").unwrap();
    assert!(out[fails..].starts_with(
        "fails:\n  a job identity gains a way into the runner manager's namespace: ServiceAccount teams/ci-job\n"
    ), "{out}");
    assert!(
        out.contains("ServiceAccount teams/ci-job → namespace `gitlab-runner`"),
        "{out}"
    );
    assert!(
        out.contains("through RoleBinding gitlab-runner/teams-edit-runner"),
        "{out}"
    );
    assert!(
        out.lines().any(|l| l.trim_start().starts_with("secrets ")
            && l.contains("get")
            && l.contains("list")),
        "the new right to read the runner's Secrets is listed: {out}"
    );
    assert!(
        out.contains(
            "can now become ServiceAccount gitlab-runner/gitlab-runner:\n      1. may create pods"
        ),
        "{out}"
    );
    assert!(out.contains("+ CRITICAL RG104"), "{out}");
    assert!(out.contains("Topology: unchanged"), "{out}");

    let v = json(&run(&["diff", OLD, NEW, "-o", "json"]));
    assert_eq!(v["failed"], true);
    let job = &v["intoManagerNamespace"][0];
    assert_eq!(job["job"]["name"], "ci-job");
    assert_eq!(job["managerNamespace"], "gitlab-runner");
    assert_eq!(job["rights"][0]["bindings"][0]["name"], "teams-edit-runner");
    assert!(
        job["reach"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["identity"]["name"] == "gitlab-runner"
                && !r["path"].as_array().unwrap().is_empty())
    );
    let group = v["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["description"] == "Group system:serviceaccounts:teams")
        .expect("the group the binding names gains");
    let gained = &group["gained"][0];
    assert_eq!(gained["namespace"], "gitlab-runner");
    assert!(gained["rules"].as_array().unwrap().iter().any(|r| {
        r["resources"][0] == "secrets"
            && r["verbs"].as_array().unwrap().contains(&Value::from("get"))
    }));
    assert!(rules(&v, "new").contains(&"RG104".to_owned()));
    assert!(
        rules(&v, "resolved").is_empty(),
        "{:?}",
        rules(&v, "resolved")
    );
    // RB005 of the executor's binding is the same finding, now graded higher.
    let changed = v["findings"]["changed"].as_array().unwrap();
    assert!(
        changed
            .iter()
            .any(|c| c["old"]["severity"] == "info" && c["new"]["severity"] == "high")
    );
}

#[test]
fn removing_the_binding_passes_and_lists_what_it_resolves() {
    let r = run(&["diff", NEW, OLD]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("passes: nothing new at or above high"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("- CRITICAL RG104"), "{}", r.stdout);
    let v = json(&run(&["diff", NEW, OLD, "-o", "json"]));
    assert_eq!(v["failed"], false);
    assert!(v["intoManagerNamespace"].as_array().unwrap().is_empty());
    assert!(rules(&v, "new").is_empty());
    let resolved = rules(&v, "resolved");
    for rule in ["RG104", "RG106", "RB003", "RB006", "RB009"] {
        assert!(
            resolved.contains(&rule.to_owned()),
            "{rule} resolved: {resolved:?}"
        );
    }
    let group = v["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["description"] == "Group system:serviceaccounts:teams")
        .unwrap();
    assert!(group["gained"].as_array().unwrap().is_empty());
    assert_eq!(group["lost"][0]["bindings"][0]["name"], "teams-edit-runner");
}

#[test]
fn the_same_inputs_change_nothing() {
    let r = run(&["diff", OLD, OLD]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("Findings: 0 new, 0 changed, 0 resolved"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("Permissions gained: 0 subjects"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("Permissions lost: 0 subjects"),
        "{}",
        r.stdout
    );
}

#[test]
fn findings_that_only_moved_are_the_same_findings() {
    // The old side's files, with lines added at the top of each: every finding moves.
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&root().join(OLD), dir.path());
    for file in walk(dir.path()) {
        if file.extension().is_some_and(|e| e == "yaml") {
            let text = std::fs::read_to_string(&file).unwrap();
            std::fs::write(&file, format!("# moved\n# down\n{text}")).unwrap();
        }
    }
    let moved = dir.path().to_str().unwrap();
    let v = json(&run(&["diff", OLD, moved, "-o", "json"]));
    assert_eq!(v["failed"], false);
    for which in ["new", "resolved", "changed"] {
        assert!(
            v["findings"][which].as_array().unwrap().is_empty(),
            "{which}: {v}"
        );
    }
}

#[test]
fn wrong_arguments_are_errors() {
    let r = run(&["diff", OLD]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("diff compares two sides"), "{}", r.stderr);
    let r = run(&["diff", OLD, NEW, "-o", "yaml"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("yaml"), "{}", r.stderr);
    let r = run(&["diff", "--base-ref", "HEAD"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("--base-ref needs the paths"),
        "{}",
        r.stderr
    );
}

#[test]
fn junit_of_a_diff_fails_the_isolation_case() {
    let r = run(&["diff", OLD, NEW, "-o", "junit"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let report = quick_junit::Report::deserialize_from_str(&r.stdout).unwrap();
    let suite = &report.test_suites[0];
    let case = |name: &str| {
        suite
            .test_cases
            .iter()
            .find(|c| c.name.as_str() == name)
            .unwrap_or_else(|| panic!("no case {name}"))
    };
    assert!(!passed(
        &case("job identities stay out of the manager namespace").status
    ));
    assert!(!passed(&case("RG104 job-reaches-manager-namespace").status));
    assert!(passed(&case("inputs read").status));
    let reverse = run(&["diff", NEW, OLD, "-o", "junit"]);
    assert_eq!(reverse.code, 0);
    let report = quick_junit::Report::deserialize_from_str(&reverse.stdout).unwrap();
    assert!(
        report.test_suites[0]
            .test_cases
            .iter()
            .all(|c| passed(&c.status))
    );
}

// --- --base-ref, on a repository made here -------------------------------------------

pub(super) fn git_binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("git"))
        .find(|p| p.is_file())
}

pub(super) fn git(repo: &Path, args: &[&str]) -> String {
    let out = Command::new(git_binary().unwrap())
        .args(args)
        .current_dir(repo)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

pub(super) fn copy_tree(from: &Path, to: &Path) {
    for file in walk(from) {
        let dest = to.join(file.strip_prefix(from).unwrap());
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&file, &dest).unwrap();
    }
}

/// Runs runnerguard in `dir` with git available through `RUNNERGUARD_GIT` only.
pub(super) fn run_in(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_runnerguard"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("RUNNERGUARD_HELM")
        .env("PATH", "")
        .env("RUNNERGUARD_GIT", git_binary().unwrap())
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// A repository whose one commit holds `side` (a fixture directory) under `deploy/`; `None`,
/// said on stderr, when there is no git (required in CI).
#[expect(clippy::print_stderr, reason = "a skipped test says so")]
pub(super) fn repo_with(side: &str) -> Option<tempfile::TempDir> {
    if git_binary().is_none() {
        assert!(std::env::var_os("CI").is_none(), "git is required in CI");
        eprintln!("skipped: no git on PATH");
        return None;
    }
    let repo = tempfile::tempdir().unwrap();
    git(repo.path(), &["init", "-q", "-b", "main"]);
    copy_tree(&root().join(side), &repo.path().join("deploy"));
    git(repo.path(), &["add", "."]);
    git(repo.path(), &["commit", "-q", "-m", side]);
    Some(repo)
}

#[test]
fn base_ref_reads_the_old_side_from_git_without_touching_the_work_tree() {
    let Some(repo) = repo_with(OLD) else {
        return;
    };
    let repo = repo.path();
    let base = git(repo, &["rev-parse", "HEAD"]).trim().to_owned();
    // The merge request's change, not committed: the work tree is the new side.
    std::fs::copy(
        root().join(NEW).join("teams/teams-edit-runner.yaml"),
        repo.join("deploy/teams/teams-edit-runner.yaml"),
    )
    .unwrap();
    let status = git(repo, &["status", "--porcelain"]);

    let r = run_in(repo, &["diff", "--base-ref", &base, "deploy/"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains(&format!("deploy/ at {base} → deploy/")),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("through RoleBinding gitlab-runner/teams-edit-runner"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("can now become ServiceAccount gitlab-runner/gitlab-runner"),
        "{}",
        r.stdout
    );
    // As the two directories compare: both sides name the files `deploy/...`, so nothing is
    // new or resolved only because it was read from elsewhere.
    let via_git = json(&run_in(
        repo,
        &["diff", "--base-ref", &base, "deploy/", "-o", "json"],
    ));
    let via_dirs = json(&run(&["diff", OLD, NEW, "-o", "json"]));
    for which in ["new", "changed", "resolved"] {
        assert_eq!(
            via_git["findings"][which].as_array().unwrap().len(),
            via_dirs["findings"][which].as_array().unwrap().len(),
            "{which}"
        );
    }
    assert_eq!(
        git(repo, &["status", "--porcelain"]),
        status,
        "the work tree is untouched"
    );

    // Committed, then removed again: against the commit that had it, the change passes.
    git(repo, &["add", "."]);
    git(repo, &["commit", "-q", "-m", "let teams edit the runner"]);
    git(repo, &["rm", "-q", "deploy/teams/teams-edit-runner.yaml"]);
    git(repo, &["commit", "-q", "-m", "revert"]);
    let r = run_in(repo, &["diff", "--base-ref", "HEAD~1", "deploy/"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("- CRITICAL RG104"), "{}", r.stdout);

    // A file given alone, and a revision that does not exist.
    let r = run_in(
        repo,
        &[
            "diff",
            "--base-ref",
            "HEAD~1",
            "deploy/teams/executor-role.yaml",
        ],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let r = run_in(repo, &["diff", "--base-ref", "no-such-branch", "deploy/"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("`no-such-branch` is not a commit"),
        "{}",
        r.stderr
    );
}

#[test]
fn base_ref_outside_a_repository_is_an_error() {
    if git_binary().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.yaml"),
        "kind: Namespace\napiVersion: v1\nmetadata:\n  name: x\n",
    )
    .unwrap();
    let r = run_in(dir.path(), &["diff", "--base-ref", "HEAD", "a.yaml"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.contains("git rev-parse"), "{}", r.stderr);
}

fn passed(status: &quick_junit::TestCaseStatus) -> bool {
    matches!(status, quick_junit::TestCaseStatus::Success { .. })
}

#[test]
fn a_file_at_the_revision_that_is_not_text_is_a_problem_of_that_input() {
    if git_binary().is_none() {
        return;
    }
    let repo = tempfile::tempdir().unwrap();
    let repo = repo.path();
    git(repo, &["init", "-q", "-b", "main"]);
    copy_tree(&root().join(OLD), &repo.join("deploy"));
    std::fs::write(repo.join("deploy/bad.yaml"), b"kind: Role\n\xff\xfe\n").unwrap();
    git(repo, &["add", "."]);
    git(repo, &["commit", "-q", "-m", "with a binary file"]);
    std::fs::remove_file(repo.join("deploy/bad.yaml")).unwrap();
    // As in the work tree: named with file, line and column, the rest compared, the side
    // incomplete (exit 1), not the end of the run.
    let r = run_in(repo, &["diff", "--base-ref", "HEAD", "deploy/"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("deploy/bad.yaml:2:1"), "{}", r.stderr);
    assert!(r.stderr.contains("not UTF-8"), "{}", r.stderr);
    assert!(
        r.stdout.contains("the old side could not be read whole"),
        "{}",
        r.stdout
    );
}
