//! `diff -o html` and `diff -o sarif` on the fixture pair of issue #11 (the generated default
//! setup, and the same with RoleBinding `teams-edit-runner` giving every ServiceAccount of
//! `teams` the `edit` ClusterRole in the manager's namespace), both ways and against itself.
//!
//! The page: the verdict first, the job identity's new reach into `gitlab-runner`, the
//! findings counted, the graph marking what became reachable; self-contained, hostile names
//! escaped, snapshotted, and opened in headless Chromium (found as `tests/cli/html.rs` finds it:
//! `RUNNERGUARD_CHROMIUM`, else `chromium` on PATH; skipped with a message without it, except
//! in CI). The SARIF log: valid against the OASIS schema, the new side's audit result for
//! result, each with its `baselineState`, and the resolved findings `absent`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::diff::{copy_tree, repo_with, run_in};
use super::html::{assert_self_contained, browse, chromium};
use super::sarif::schema_errors;
use super::{Run, root, run};

const OLD: &str = "fixtures/diff/old/";
const NEW: &str = "fixtures/diff/new/";

/// `diff OLD NEW -o html=FILE` into `dir`: the exit code and the page.
fn page(dir: &Path, old: &str, new: &str) -> (i32, PathBuf, String) {
    let file = dir.join("diff.html");
    let out = format!("html={}", file.display());
    let r = run(&["diff", old, new, "-o", &out]);
    assert!(r.stdout.is_empty(), "-o html=FILE writes nothing on stdout");
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    let text = std::fs::read_to_string(&file).unwrap();
    (r.code, file, text)
}

/// The section of `page` with `id`, up to its end.
fn section<'p>(page: &'p str, id: &str) -> &'p str {
    let start = page
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no section {id}"));
    let rest = &page[start..];
    &rest[..rest.find("</section>").unwrap()]
}

#[test]
fn the_change_as_a_page() {
    let dir = tempfile::tempdir().unwrap();
    let (code, file, page) = page(dir.path(), OLD, NEW);
    assert_eq!(code, 1, "the change fails");
    assert_self_contained(&page);
    // The verdict and its reasons first.
    let verdict = page.find("<span class=\"verdict\">fails</span>").unwrap();
    assert!(verdict < page.find("id=\"into-manager\"").unwrap());
    assert!(page.contains(
        "<ul class=\"reasons\"><li>a job identity gains a way into the runner manager&#39;s namespace: ServiceAccount teams/ci-job</li><li>12 new findings at or above high</li></ul>"
    ), "{page}");
    for count in [
        "<li class=\"chg bad\"><b>1</b> job identity into a manager namespace</li>",
        "<li class=\"chg bad\"><b>11</b> new findings</li>",
        "<li class=\"chg warn\"><b>2</b> changed</li>",
        "<li class=\"chg good zero\"><b>0</b> resolved</li>",
    ] {
        assert!(page.contains(count), "{count}");
    }
    // ServiceAccount teams/ci-job's new way into `gitlab-runner`: the binding, the rights
    // (the runner's Secrets first) and the manager it can now become, with the path.
    let into = section(&page, "into-manager");
    assert!(into.contains(
        "<h3><code>ServiceAccount teams/ci-job</code> → namespace <code>gitlab-runner</code></h3>"
    ));
    assert!(into.contains(
        "through RoleBinding gitlab-runner/teams-edit-runner (fixtures/diff/new/teams/teams-edit-runner.yaml:3)"
    ));
    let first_row = &into[into.find("<tbody>").unwrap()..];
    assert!(
        first_row.starts_with("<tbody>\n<tr class=\"hi\"><td><code>secrets</code></td><td>create delete deletecollection get list patch update watch</td></tr>"),
        "{first_row:.200}"
    );
    assert!(into.contains(
        "<li><code>ServiceAccount gitlab-runner/gitlab-runner</code> <span class=\"n\">in 1 step</span><ol class=\"steps\"><li><div class=\"ev d0\">may create pods, which can run as any ServiceAccount of the namespace → ServiceAccount gitlab-runner/gitlab-runner</div>"
    ), "{into}");
    // Findings: 11 new (RG104 among them), 2 changed from info to high, none resolved.
    let findings = section(&page, "findings");
    assert!(
        findings
            .contains("<h2>Findings <span class=\"n\">11 new, 2 changed, 0 resolved</span></h2>")
    );
    assert_eq!(
        findings
            .matches("<tr class=\"finding failing added\">")
            .count(),
        10
    );
    assert_eq!(
        findings.matches("<tr class=\"finding added\">").count(),
        1,
        "RB009, medium"
    );
    assert_eq!(
        findings
            .matches("<span class=\"sev info\">info</span> <span class=\"to\">→</span> <span class=\"sev high\">high</span>")
            .count(),
        2
    );
    assert!(findings.contains("<code class=\"rule\">RG104</code>"));
    assert!(!findings.contains("<h3>Resolved"));
    // The group's rights shown once, then named for its members.
    let permissions = section(&page, "permissions");
    assert_eq!(
        permissions
            .matches(
                "the same 382 permissions as <a href=\"#r0\">Group system:serviceaccounts:teams</a>"
            )
            .count(),
        2,
        "ci-deployer and ci-job"
    );
    assert!(permissions.contains("<h3>Lost <span class=\"n\">0 subjects</span></h3>"));
    assert!(
        section(&page, "topology").contains("<h2>Topology <span class=\"n\">unchanged</span></h2>")
    );
    // The graph marks what the job can now become: the manager among them, and the step
    // from the job to it.
    let graph = section(&page, "graph");
    assert!(graph.contains("<g class=\"node start new\"><title>ServiceAccount gitlab-runner/gitlab-runner (runner manager) (newly reachable)</title>"), "{graph}");
    assert!(graph.contains("<title>ServiceAccount teams/ci-job → ServiceAccount gitlab-runner/gitlab-runner (new)</title>"), "{graph}");
    assert!(graph.contains("marker-end=\"url(#rg-arrow-new)\""));
    // The markup, sorted and stable; the style (above it) is checked in the browser.
    insta::assert_snapshot!(&page[page.find("</style>").unwrap()..]);

    let Some(chromium) = chromium() else {
        return;
    };
    let dom = dump_dom(&chromium, &file, dir.path());
    for id in [
        "into-manager",
        "findings",
        "permissions",
        "topology",
        "graph",
    ] {
        assert!(dom.contains(&format!("\" id=\"{id}\">")), "section {id}");
    }
    assert_eq!(dom.matches("<section class=\"card").count(), 5);
    assert_eq!(dom.matches("<tr class=\"finding").count(), 13, "{dom}");
    assert!(dom.matches("<table class=\"rights\">").count() >= 2);
    let svg = &dom[dom.find("<svg").expect("an svg")..dom.find("</svg>").unwrap()];
    assert_eq!(svg.matches("<g class=\"node").count(), 5, "{svg}");
    assert_eq!(
        svg.matches("<g class=\"node start new\">").count(),
        1,
        "{svg}"
    );
    assert_eq!(svg.matches("<path class=\"edge new\"").count(), 4, "{svg}");
    assert!(!dom.contains("<script"));
}

#[test]
fn the_reverse_change_passes_and_lists_what_it_resolves() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, page) = page(dir.path(), NEW, OLD);
    assert_eq!(code, 0);
    assert_self_contained(&page);
    assert!(page.contains("<span class=\"verdict\">passes</span>"));
    assert!(page.contains(
        "<p class=\"sentence\">Passes: nothing new at or above high, no new way from a job into a manager namespace; resolves 11 findings.</p>"
    ));
    assert!(
        section(&page, "into-manager")
            .contains("No job identity gains a way into its manager's namespace")
    );
    let findings = section(&page, "findings");
    assert_eq!(
        findings.matches("<tr class=\"finding resolved\">").count(),
        11
    );
    // A resolved finding is placed in the old side's files, and has no fix to show.
    assert!(findings.contains("fixtures/diff/new/teams/teams-edit-runner.yaml:3"));
    let resolved = &findings[findings.find("<h3>Resolved").unwrap()..];
    assert!(!resolved.contains("<p class=\"fix\">"));
    assert!(
        section(&page, "permissions").contains("<h3>Lost <span class=\"n\">4 subjects</span></h3>")
    );
    assert!(section(&page, "graph").contains("The change makes nothing newly reachable"));
}

#[test]
fn the_same_inputs_make_a_quiet_page() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, page) = page(dir.path(), OLD, OLD);
    assert_eq!(code, 0);
    assert!(page.contains("<span class=\"verdict\">passes</span>"));
    assert!(page.contains("The change adds, alters and resolves no finding."));
    assert!(page.contains("No subject gains a permission"));
    assert!(
        !page.contains(" new\"><title>") && !page.contains("edge new"),
        "nothing is marked new"
    );
}

#[test]
fn hostile_names_are_escaped_in_the_diff_page() {
    let dir = tempfile::tempdir().unwrap();
    // The new side, in a directory whose name would be markup, with a RoleBinding named so
    // giving the job ServiceAccount `view` in the manager's namespace.
    let evil = "<script>alert(1)</script><img src=x onerror=alert(2)>";
    let new = dir.path().join("new <b>side</b>");
    copy_tree(&root().join(OLD), &new);
    std::fs::write(
        new.join("evil.yaml"),
        format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: \"{evil}\"\n  namespace: gitlab-runner\nsubjects:\n- kind: ServiceAccount\n  name: ci-job\n  namespace: teams\nroleRef:\n  kind: ClusterRole\n  name: view\n  apiGroup: rbac.authorization.k8s.io\n"
        ),
    )
    .unwrap();
    let new = format!("{}/", new.display());
    let (code, file, page) = page(dir.path(), OLD, &new);
    assert_eq!(code, 1, "the job identity reads the manager's namespace");
    assert_self_contained(&page);
    assert!(!page.contains(evil) && !page.contains("<b>side"));
    let shown = "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;";
    assert!(
        section(&page, "into-manager")
            .contains(&format!("through RoleBinding gitlab-runner/{shown}")),
        "{page}"
    );
    assert!(page.contains("new &lt;b&gt;side&lt;/b&gt;/</code></p>"));
    let Some(chromium) = chromium() else {
        return;
    };
    let dom = dump_dom(&chromium, &file, dir.path());
    assert!(!dom.contains("<script") && !dom.contains("<img") && !dom.contains("<b>side"));
    assert!(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}

// --- SARIF ----------------------------------------------------------------------------

/// The log of `r`, valid against the schema, with `baselineState` on every result.
fn sarif(r: &Run) -> Value {
    let log: Value =
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stderr));
    let errors = schema_errors(&log);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    for result in results(&log) {
        assert!(
            result["baselineState"].is_string(),
            "on every result: {result}"
        );
    }
    log
}

fn results(log: &Value) -> &Vec<Value> {
    log["runs"][0]["results"].as_array().unwrap()
}

/// How many results of `rule` (all rules: `None`) are in each baseline state.
fn states(log: &Value, rule: Option<&str>) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for r in results(log)
        .iter()
        .filter(|r| rule.is_none_or(|id| r["ruleId"] == id))
    {
        *out.entry(r["baselineState"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    out
}

fn counts(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(s, n)| ((*s).to_owned(), *n)).collect()
}

#[test]
fn sarif_of_a_change_has_each_result_against_the_old_side() {
    let log = sarif(&run(&["diff", OLD, NEW, "-o", "sarif"]));
    assert_eq!(states(&log, Some("RG104")), counts(&[("new", 3)]));
    assert_eq!(states(&log, None), counts(&[("new", 11), ("updated", 2)]));
    let run_ = &log["runs"][0];
    assert_eq!(run_["properties"]["runnerguard/baseline"], OLD);
    assert_eq!(run_["invocations"][0]["executionSuccessful"], true);
    // Otherwise the new side's audit, result for result.
    let audit: Value =
        serde_json::from_str(&run(&["audit", "-f", NEW, "-o", "sarif"]).stdout).unwrap();
    let without: Vec<Value> = results(&log)
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r.as_object_mut().unwrap().remove("baselineState");
            r
        })
        .collect();
    assert_eq!(&without, results(&audit));
    assert_eq!(run_["tool"], audit["runs"][0]["tool"]);
}

#[test]
fn sarif_of_the_reverse_change_has_the_resolved_findings_absent() {
    let log = sarif(&run(&["diff", NEW, OLD, "-o", "sarif"]));
    assert_eq!(states(&log, Some("RG104")), counts(&[("absent", 3)]));
    let all = states(&log, None);
    assert!(!all.contains_key("new"), "{all:?}");
    assert_eq!(all["absent"], 11);
    // Absent results point at the old side's files: here the `new/` directory, the old side.
    for r in results(&log)
        .iter()
        .filter(|r| r["baselineState"] == "absent")
    {
        let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        assert!(uri.starts_with(NEW), "{uri}");
    }
    // Fingerprints stay unique in the log.
    let mut prints: Vec<&str> = results(&log)
        .iter()
        .map(|r| r["partialFingerprints"]["runnerguard/v1"].as_str().unwrap())
        .collect();
    let n = prints.len();
    prints.sort_unstable();
    prints.dedup();
    assert_eq!(prints.len(), n);
}

#[test]
fn sarif_of_no_change_is_all_unchanged() {
    let log = sarif(&run(&["diff", OLD, OLD, "-o", "sarif"]));
    let all = states(&log, None);
    assert_eq!(all.keys().collect::<Vec<_>>(), ["unchanged"], "{all:?}");
    assert!(all["unchanged"] > 0);
}

#[test]
fn sarif_against_a_git_revision_names_the_same_repository_paths() {
    // The base has the binding; the work tree removes it.
    let Some(repo) = repo_with(NEW) else {
        return;
    };
    let repo = repo.path();
    std::fs::remove_file(repo.join("deploy/teams/teams-edit-runner.yaml")).unwrap();
    let r = run_in(
        repo,
        &["diff", "--base-ref", "HEAD", "deploy/", "-o", "sarif"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let log = sarif(&r);
    assert_eq!(states(&log, Some("RG104")), counts(&[("absent", 3)]));
    let uris: Vec<&str> = results(&log)
        .iter()
        .filter(|r| r["baselineState"] == "absent")
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert!(
        uris.contains(&"deploy/teams/teams-edit-runner.yaml"),
        "{uris:?}"
    );
}

/// The DOM headless Chromium builds from `page`.
fn dump_dom(chromium: &Path, page: &Path, dir: &Path) -> String {
    String::from_utf8(browse(chromium, page, &["--dump-dom"], dir).stdout).unwrap()
}
