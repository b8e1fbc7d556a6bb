#![allow(clippy::unwrap_used, reason = "tests fail on any error")]

use std::path::{Path, PathBuf};

use runnerguard_engine::Policy;

use super::*;
use crate::rules::{ALL, Reads, reads};
use crate::{
    Evidence, GrantPath, JobTarget, RunnerVersion, Selection, Setup, Severity, Topology,
    TopologyOptions,
};

/// A finding of RB001 with one object of its own.
fn finding(i: usize, message: &str) -> Finding {
    let meta = ALL[0].meta();
    Finding::new(meta, message).object(runnerguard_model::ObjectRef {
        api_version: "v1".to_owned(),
        kind: "Namespace".to_owned(),
        namespace: String::new(),
        name: format!("ns-{i}"),
        origin: runnerguard_model::Origin::default(),
    })
}

#[test]
fn the_merge_compares_a_finding_only_with_those_of_its_hash() {
    // K copies of N distinct findings, as K setups that find the same: N findings, and
    // one full comparison per repeat, where a pairwise search makes ~K·N²/2.
    const N: usize = 300;
    const K: usize = 4;
    let mut merged = Merged::default();
    for _ in 0..K {
        for i in 0..N {
            merged.add(finding(i, "m"), 0);
        }
    }
    assert_eq!(merged.findings.len(), N);
    assert_eq!(merged.comparisons, (K - 1) * N);
    // The same evidence worded otherwise (another namespace named) is another finding,
    // kept in its place: no message replaces another.
    merged.add(finding(7, "longer"), 0);
    merged.add(finding(7, "x"), 0);
    assert_eq!(merged.findings[7].message, "m");
    assert_eq!(merged.findings[N].message, "longer");
    assert_eq!(merged.findings.len(), N + 2);
}

#[test]
fn findings_merge_on_equal_evidence_data_not_on_shared_values() {
    // The same grant resolved twice (as two setups' contexts do) is the same evidence;
    // another rule of the role is not.
    let object = |kind: &str, name: &str| runnerguard_model::ObjectRef {
        api_version: "rbac.authorization.k8s.io/v1".to_owned(),
        kind: kind.to_owned(),
        namespace: "teams".to_owned(),
        name: name.to_owned(),
        origin: runnerguard_model::Origin::default(),
    };
    let grant = |rule_index: usize| {
        Evidence::grant(GrantPath {
            binding: std::sync::Arc::new(object("RoleBinding", "ci")),
            role: std::sync::Arc::new(object("Role", "deploy")),
            rule_index,
            rule: std::sync::Arc::new(runnerguard_model::PolicyRule::default()),
            aggregated_from: None,
            note: None,
        })
    };
    let with = |e: Evidence| finding(1, "m").evidence(e);
    let mut merged = Merged::default();
    merged.add(with(grant(0)), 0);
    merged.add(with(grant(0)), 0);
    merged.add(with(grant(1)), 0);
    merged.add(with(Evidence::fact_under("x", vec![grant(0)])), 0);
    assert_eq!(merged.findings.len(), 3);
}

#[test]
fn two_releases_without_network_policies_are_two_findings() {
    // The same rule, no object, two namespaces: each is a finding of its own (they were
    // one, the longer message kept, before issue #10 step 6).
    let policy = policy_of(&root().join("RG112/bad"));
    let one = |ns: &str| setup(topology((ns, "gitlab-runner"), &[(ns, "default")]));
    let audit = Audit::of_setups(&policy, vec![one("ns-a"), one("ns-b")]);
    let rg112: Vec<String> = audit
        .run(&Selection::default())
        .into_iter()
        .filter(|f| f.rule == "RG112" && f.message.contains("for ingress"))
        .map(|f| f.message)
        .collect();
    assert_eq!(rg112.len(), 2, "{rg112:#?}");
    assert!(
        rg112[0].contains("`ns-a`") && rg112[1].contains("`ns-b`"),
        "{rg112:#?}"
    );
}

#[test]
fn severities_and_selection_apply_to_the_merged_findings() {
    let policy = policy_of(&root().join("RB001/bad"));
    let audit = Audit::new(
        &policy,
        &TopologyOptions::default(),
        "18.9".parse().unwrap(),
    )
    .unwrap();
    let all = audit.run(&Selection::default());
    assert!(
        all.iter()
            .any(|f| f.rule == "RB001" && f.severity == Severity::Critical)
    );
    let selection = Selection {
        select: vec!["RB00*".to_owned()],
        severity: vec![("RB001".to_owned(), Severity::Low)],
        ..Selection::default()
    };
    selection.validate().unwrap();
    let some = audit.run(&selection);
    assert!(!some.is_empty());
    assert!(some.iter().all(|f| f.rule.starts_with("RB00")));
    assert!(
        some.iter()
            .filter(|f| f.rule == "RB001")
            .all(|f| f.severity == Severity::Low)
    );
    assert!(some.iter().any(|f| f.rule == "RB001"));
    // Sorted again after the severity changed: most severe first.
    assert!(some.windows(2).all(|w| w[0].severity >= w[1].severity));
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn policy_of(dir: &Path) -> Policy {
    let input = runnerguard_load::Input::Path(dir.to_owned());
    let mut loaded = runnerguard_load::load_inputs(&[input]).unwrap();
    loaded.add_default_policy().unwrap();
    Policy::new(loaded.inventory)
}

fn setup(topology: Topology) -> Setup {
    let version: RunnerVersion = "18.9".parse().unwrap();
    Setup::of(topology, version, ChartKeys::for_version("0.86.0").unwrap()).unwrap()
}

fn topology(manager: (&str, &str), jobs: &[(&str, &str)]) -> Topology {
    Topology {
        manager_namespace: manager.0.to_owned(),
        manager_service_account: manager.1.to_owned(),
        jobs: jobs
            .iter()
            .map(|(ns, sa)| JobTarget {
                namespace: (*ns).to_owned(),
                service_account: (*sa).to_owned(),
                automount_token: None,
            })
            .collect(),
        evidence: Vec::new(),
        values: None,
    }
}

/// Setups that differ in every way a rule can see: the discovered one; a manager and
/// jobs running as a ServiceAccount the policy knows (RB005 and RB006 then share their
/// work); jobs as a ServiceAccount nothing else names (they work it out for that setup).
fn setups(policy: &Policy) -> Vec<Setup> {
    let known = policy
        .service_accounts()
        .iter()
        .find(|sa| !sa.origin.is_builtin())
        .map_or(("teams", "default"), |sa| {
            (sa.namespace.as_str(), sa.name.as_str())
        });
    // A manager that an input RoleBinding names, with jobs in that binding's namespace
    // (whose `default` ServiceAccount is known): RB005 words its findings there for the
    // executor.
    let bound = policy
        .bindings()
        .iter()
        .filter(|b| b.kind == runnerguard_model::BindingKind::RoleBinding)
        .filter(|b| !b.origin.is_builtin())
        .find_map(|b| {
            let s = b.subjects.iter().find(|s| s.kind == "ServiceAccount")?;
            let ns = if s.namespace.is_empty() {
                &b.namespace
            } else {
                &s.namespace
            };
            Some(((ns.as_str(), s.name.as_str()), b.namespace.as_str()))
        });
    let (manager, job_ns) = bound.unwrap_or((known, known.0));
    vec![
        setup(Topology::discover(policy, &TopologyOptions::default())),
        setup(topology(manager, &[(job_ns, "default")])),
        setup(topology(known, &[known, ("gitlab-runner", "default")])),
        setup(topology(
            ("elsewhere", "runner"),
            &[("ghost-ns", "ghost-sa"), known],
        )),
        setup(topology(known, &[known])),
    ]
}

/// What [`Audit::run`] must give: every rule under every setup, each in a context of its
/// own (with what the audit knows of every setup), merged by a pairwise search.
fn reference(policy: &Policy, setups: &[Setup]) -> Vec<Finding> {
    let mut findings: Vec<Finding> = Vec::new();
    for s in setups {
        let shared = audit_wide(setups);
        // A context of its own, sharing with the other setups' only what the audit knows of
        // all of them.
        let cx = Context::sharing(policy, &s.topology, &s.executor, &s.chart, &shared);
        for finding in run(&cx, &Selection::default()) {
            if !findings.contains(&finding) {
                findings.push(finding);
            }
        }
    }
    sort(&mut findings);
    findings
}

fn fixture_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root())
        .unwrap()
        .map(|e| e.unwrap().path().join("bad"))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= ALL.len(), "{dirs:?}");
    dirs
}

#[test]
fn the_audit_finds_what_every_rule_under_every_setup_finds() {
    for dir in fixture_dirs() {
        let policy = policy_of(&dir);
        let setups = setups(&policy);
        let expected = reference(&policy, &setups);
        assert!(!expected.is_empty(), "{}", dir.display());
        assert_eq!(
            Audit::of_setups(&policy, setups).run(&Selection::default()),
            expected,
            "{}",
            dir.display()
        );
    }
}

#[test]
fn policy_only_rules_find_the_same_under_every_setup() {
    let mut fired = 0;
    for dir in fixture_dirs() {
        let policy = policy_of(&dir);
        let setups = setups(&policy);
        for rule in ALL.iter().filter(|r| reads(r.meta().id) != Reads::Setup) {
            let under = |s: &Setup| {
                let mut out = Vec::new();
                rule.check(&s.context(&policy), &mut out);
                out
            };
            let first = under(&setups[0]);
            fired += usize::from(!first.is_empty());
            for s in &setups[1..] {
                assert_eq!(under(s), first, "{} on {}", rule.meta().id, dir.display());
            }
        }
    }
    // Each listed rule fires on its own fixture at least.
    let listed = ALL
        .iter()
        .filter(|r| reads(r.meta().id) != Reads::Setup)
        .count();
    assert!(fired >= listed, "{fired} < {listed}");
}

#[test]
fn later_setups_look_again_only_at_what_depends_on_them() {
    // Issue #9 C3: with a setup per tenant, a rule that looked at every item under every
    // setup was quadratic. Shared by the setups of `Audit::run`, the first setup looks at
    // every item and reports what is the same under all; later ones only at those that
    // depend on the setup.
    let policy = policy_of(&root().join("RG111/bad"));
    let setups = setups(&policy);
    let shared = Shared::default();
    let depends = |i: usize| i.is_multiple_of(3);
    let mut looked = Vec::new();
    let mut first = Vec::new();
    for s in &setups {
        let cx = Context::sharing(&policy, &s.topology, &s.executor, &s.chart, &shared);
        looked.push(cx.once_or_again("test", 10, depends));
        first.push(cx.first_report("test"));
    }
    assert_eq!(looked[0], (0..10).collect::<Vec<_>>());
    for l in &looked[1..] {
        assert_eq!(l, &[0, 3, 6, 9]);
    }
    assert_eq!(first, [true, false, false, false, false]);
    // A context of its own looks at every item, every time.
    let cx = setups[1].context(&policy);
    for _ in 0..2 {
        assert_eq!(cx.once_or_again("test", 4, depends), [0, 1, 2, 3]);
        assert!(cx.first_report("test"));
    }
    // The items of a rule found the same under every setup are looked at once: RG111's
    // runner configurations and workloads under the first setup only.
    let rule = ALL
        .iter()
        .find(|r| r.meta().id == "RG111")
        .copied()
        .unwrap();
    let shared = Shared::default();
    let mut counts = Vec::new();
    for s in &setups {
        let cx = Context::sharing(&policy, &s.topology, &s.executor, &s.chart, &shared);
        let mut out = Vec::new();
        rule.check(&cx, &mut out);
        counts.push(out.len() - cx.job_namespaces().len().min(out.len()));
    }
    assert!(counts[0] > 0, "{counts:?}");
    assert!(counts[1..].iter().all(|&c| c == 0), "{counts:?}");
}

#[test]
fn identical_setups_give_the_findings_of_one() {
    let policy = policy_of(&root().join("RB005/bad"));
    let one = setups(&policy).swap_remove(1);
    let many: Vec<Setup> = (0..5).map(|_| setup(one.topology.clone())).collect();
    let single = Audit::of_setups(&policy, vec![one]).run(&Selection::default());
    assert!(!single.is_empty());
    assert_eq!(
        Audit::of_setups(&policy, many).run(&Selection::default()),
        single
    );
}

#[test]
fn equal_findings_are_removed_within_their_sort_key_keeping_the_first() {
    // Findings of one message told apart by their objects, each twice and not side by side
    // after sorting (the sort keeps the order within a key): a few (compared pairwise) and
    // many (through a hash set), as one setup's rules give them.
    for n in [3, 500] {
        let mut findings: Vec<Finding> = (0..n).map(|i| finding(i, "m")).collect();
        findings.extend((0..n).rev().map(|i| finding(i, "m")));
        findings.push(finding(0, "another message"));
        sort(&mut findings);
        dedup_sorted(&mut findings);
        let names: Vec<&str> = findings
            .iter()
            .map(|f| f.objects[0].name.as_str())
            .collect();
        let mut expected: Vec<String> = (0..n).map(|i| format!("ns-{i}")).collect();
        expected.insert(0, "ns-0".to_owned()); // "another message" sorts first
        assert_eq!(names, expected, "n = {n}");
        assert_eq!(findings[0].message, "another message");
    }
}

#[test]
fn the_sort_is_the_stable_sort_by_severity_rule_and_message() {
    // Ties in every key (findings told apart only by their objects keep their order), in an
    // order that no key gives.
    let rules: Vec<&crate::RuleMeta> = ALL.iter().take(4).map(|r| r.meta()).collect();
    let severities = [Severity::Low, Severity::Critical, Severity::High];
    let mut findings: Vec<Finding> = (0..300)
        .map(|i| {
            let meta = rules[(i * 7) % rules.len()];
            let message = ["b", "a", "c"][(i * 5) % 3];
            Finding::new(meta, message)
                .severity(severities[(i * 11) % 3])
                .object(runnerguard_model::ObjectRef {
                    api_version: "v1".to_owned(),
                    kind: "Namespace".to_owned(),
                    namespace: String::new(),
                    name: format!("ns-{i}"),
                    origin: runnerguard_model::Origin::default(),
                })
        })
        .collect();
    let mut expected = findings.clone();
    expected.sort_by(order_of);
    sort(&mut findings);
    assert_eq!(findings, expected);
}

#[test]
fn a_permutation_puts_each_item_in_its_place() {
    // Every permutation of five items: cycles of every length, fixed points included.
    let mut to = [0u32, 1, 2, 3, 4];
    let mut seen = 0;
    loop {
        let mut items = ['a', 'b', 'c', 'd', 'e'];
        let expected: Vec<char> = to.iter().map(|&i| items[i as usize]).collect();
        let mut scratch = to;
        permute(&mut items, &mut scratch);
        assert_eq!(items.to_vec(), expected, "{to:?}");
        seen += 1;
        // The next permutation in lexicographic order.
        let Some(i) = (0..4).rev().find(|&i| to[i] < to[i + 1]) else {
            break;
        };
        let j = (i + 1..5).rev().find(|&j| to[j] > to[i]).unwrap();
        to.swap(i, j);
        to[i + 1..].reverse();
    }
    assert_eq!(seen, 120);
}

#[test]
fn findings_give_back_large_spare_room_only() {
    let meta = ALL[0].meta();
    // A rule's own remediation is not copied into each finding.
    assert!(matches!(
        Finding::new(meta, "m").remediation,
        std::borrow::Cow::Borrowed(_)
    ));
    let mut roomy = String::with_capacity(4096);
    roomy.push_str("a message formatted piece by piece");
    let mut tight = String::with_capacity(48);
    tight.push_str("a remediation of forty bytes, near full");
    let mut f = Finding::new(meta, roomy).remediation(tight);
    let before = f.clone();
    f.shrink();
    assert_eq!(f, before);
    assert_eq!(f.message.capacity(), f.message.len());
    let std::borrow::Cow::Owned(remediation) = &f.remediation else {
        panic!("an owned remediation stays owned");
    };
    assert_eq!(remediation.capacity(), 48, "a little spare room is left");
}

#[test]
fn the_audit_holds_no_message_with_large_spare_room() {
    let dir = fixture_dirs().remove(0);
    let policy = policy_of(&dir);
    let findings = Audit::of_setups(&policy, setups(&policy)).run(&Selection::default());
    assert!(!findings.is_empty());
    for f in &findings {
        let spare = f.message.capacity() - f.message.len();
        assert!(spare <= 32 || spare <= f.message.len() / 8, "{}", f.message);
    }
}
