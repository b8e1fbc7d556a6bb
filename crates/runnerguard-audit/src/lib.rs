//! The audit: a GitLab Runner setup seen the way an attacker and the runner itself would.
//!
//! This crate owns the rules (`RG1xx` for the runner topology; `RB0xx`, for RBAC anywhere, come
//! with the escalation analysis), their documentation, the [`Topology`] they check, and the
//! data they rely on: what the Kubernetes executor needs by runner version ([`executor`]) and
//! which Helm values keys the chart reads ([`ChartKeys`]). Rules ask the engine every RBAC
//! question; none matches role text. Loading is the `load` crate's job, rendering the `report`
//! crate's.

mod chart;
mod context;
mod evidence;
mod finding;
mod placeholders;
mod rule;
mod rules;
mod topology;
mod versions;

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

pub use chart::{ChartKeys, KeyUse};
pub use context::{Context, JobIdentity, qualified};
pub use evidence::{
    EscalationStep, Evidence, GrantPath, ObjectEvidence, RuleEvidence, RuleOrigin, SettingEvidence,
    StepPermission,
};
pub use executor::{Need, Permission, PermissionTable, RunnerVersion};
pub use finding::{Finding, Location};
pub use placeholders::{placeholder_kind, placeholder_notes};
pub use rule::{Rule, RuleMeta, Severity};
pub use rules::ALL;
pub use runnerguard_model::executor;
pub use topology::{
    Evidence as TopologyEvidence, JobTarget, Topology, TopologyOptions, has_runner,
};
pub use versions::settle_versions;

/// Why the audit could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Embedded data is malformed (a bug in this build).
    #[error("embedded data is malformed: {0}")]
    Data(String),
    /// A rule selector names no rule.
    #[error("unknown rule `{0}` (see `runnerguard rules`)")]
    UnknownRule(String),
}

/// What an audit checks against, besides the policy: the topology, the executor's needs for
/// the runner version, and the chart's keys. [`Setup::context`] lends them to the rules.
#[derive(Debug)]
pub struct Setup {
    /// Where the manager and the jobs run.
    pub topology: Topology,
    /// The runner version checked.
    pub version: RunnerVersion,
    /// What the executor needs for that version.
    pub executor: PermissionTable,
    /// The chart's values keys.
    pub chart: ChartKeys,
}

impl Setup {
    /// Works out the topology of `policy`'s objects and loads the data for `version`.
    pub fn new(
        policy: &runnerguard_engine::Policy,
        options: &TopologyOptions,
        version: RunnerVersion,
    ) -> Result<Self, Error> {
        let tables = executor::permission_tables().map_err(|e| Error::Data(e.to_string()))?;
        let executor = executor::table_for(&tables, version).ok_or_else(|| {
            Error::Data(format!(
                "no executor permission table for GitLab Runner {version} (this build knows 17.0 and later)"
            ))
        })?;
        Ok(Self {
            topology: Topology::discover(policy, options),
            version,
            executor,
            chart: chart_keys(policy.objects().releases.first()),
        })
    }

    /// One setup per runner release ([`Topology::discover_all`]): the same data, one topology
    /// each.
    pub fn all(
        policy: &runnerguard_engine::Policy,
        options: &TopologyOptions,
        version: RunnerVersion,
    ) -> Result<Vec<Self>, Error> {
        let first = Self::new(policy, options, version)?;
        let topologies = Topology::discover_all(policy, options);
        let releases = &policy.objects().releases;
        // One topology per rendered release (same order), else one for everything.
        let per_release = topologies.len() == releases.len() && releases.len() > 1;
        Ok(topologies
            .into_iter()
            .enumerate()
            .map(|(i, topology)| Self {
                topology,
                version,
                executor: first.executor.clone(),
                chart: if per_release {
                    chart_keys(releases.get(i))
                } else {
                    first.chart.clone()
                },
            })
            .collect())
    }

    /// The rules' view of `policy` under this setup.
    pub fn context<'a>(&'a self, policy: &'a runnerguard_engine::Policy) -> Context<'a> {
        Context::new(policy, &self.topology, &self.executor, &self.chart)
    }

    /// [`Setup::context`] sharing what depends on the policy alone with other setups'.
    fn context_sharing<'a>(
        &'a self,
        policy: &'a runnerguard_engine::Policy,
        shared: &'a context::Shared<'a>,
    ) -> Context<'a> {
        Context::sharing(policy, &self.topology, &self.executor, &self.chart, shared)
    }
}

/// The chart keys for the chart a release was rendered with (the nearest embedded one for a
/// user's chart), the newest when values were not rendered.
fn chart_keys(release: Option<&runnerguard_model::Release>) -> ChartKeys {
    match release.map(|r| r.chart_version.as_str()) {
        Some(v) if !v.is_empty() => ChartKeys::nearest(v),
        _ => ChartKeys::newest(),
    }
}

/// Which rules run: `select` prefixes (all when empty), minus `ignore` prefixes.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Ids, names or id prefixes (`RG1`, `RG102`, `jobs-in-manager-namespace`).
    pub select: Vec<String>,
    /// Ids, names or id prefixes to leave out.
    pub ignore: Vec<String>,
    /// Only the RBAC rules (`RB`): the inputs hold no runner for the `RG` rules to check.
    pub rbac_only: bool,
}

impl Selection {
    /// Checks that every selector names at least one rule.
    pub fn validate(&self) -> Result<(), Error> {
        for s in self.select.iter().chain(&self.ignore) {
            if !ALL.iter().any(|r| matches(r.meta(), s)) {
                return Err(Error::UnknownRule(s.clone()));
            }
        }
        Ok(())
    }

    /// Whether the rule runs.
    pub fn includes(&self, meta: &RuleMeta) -> bool {
        (self.select.is_empty() || self.select.iter().any(|s| matches(meta, s)))
            && !self.ignore.iter().any(|s| matches(meta, s))
            && (!self.rbac_only || meta.id.starts_with("RB"))
    }
}

fn matches(meta: &RuleMeta, selector: &str) -> bool {
    meta.id.starts_with(&selector.to_ascii_uppercase()) || meta.name == selector
}

/// A rule's documentation as Markdown: title, severity, summary, then its docs. The same
/// text is `runnerguard rules explain ID` and docs/rules/ID.md.
pub fn rule_markdown(meta: &RuleMeta) -> String {
    let docs: String = meta
        .docs
        .lines()
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n");
    format!(
        "# {} {}\n\nDefault severity: **{}**. {}.\n\n{}\n",
        meta.id,
        meta.name,
        meta.severity,
        meta.summary,
        docs.trim()
    )
}

/// The rule with id or name `key`.
pub fn find_rule(key: &str) -> Option<&'static dyn Rule> {
    ALL.iter()
        .copied()
        .find(|r| r.meta().id.eq_ignore_ascii_case(key) || r.meta().name == key)
}

/// Runs the selected rules under every setup (one per runner release), findings merged:
/// a finding that does not depend on the topology is reported once.
///
/// Near-linear in the number of setups and findings: a rule whose findings depend on the
/// policy alone runs once, one that reads only the chart's keys once per chart, the others
/// once per setup, all on one shared escalation analysis; findings are merged through a hash
/// of their identity, never compared pairwise. The result is what running every rule under
/// every setup and merging in setup order gives (see `Merged`).
pub fn run_all(
    policy: &runnerguard_engine::Policy,
    setups: &[Setup],
    selection: &Selection,
) -> Vec<Finding> {
    let shared = context::Shared::default();
    let mut merged = Merged::default();
    let mut charts_seen: Vec<(&str, Option<&str>)> = Vec::new();
    for (i, setup) in setups.iter().enumerate() {
        let cx = setup.context_sharing(policy, &shared);
        let chart = (setup.chart.version, setup.chart.note());
        let new_chart = !charts_seen.contains(&chart);
        if new_chart {
            charts_seen.push(chart);
        }
        let runs = |rule: &dyn Rule| match rules::reads(rule.meta().id) {
            rules::Reads::Policy => i == 0,
            rules::Reads::Chart => new_chart,
            rules::Reads::Setup => true,
        };
        for finding in run_rules(&cx, selection, runs) {
            merged.add(finding);
        }
    }
    let mut findings = merged.findings;
    sort(&mut findings);
    findings
}

/// Findings merged by identity: the same rule, severity, objects, locations and evidence
/// found under two releases is one finding, which keeps the more specific (longer)
/// message, the one that says what one release's topology adds; ties keep the first. In
/// first-seen order. Each finding is hashed once and compared in full only with those of
/// the same hash: linear in the findings (a pairwise search was quadratic, issue #9 C3).
#[derive(Default)]
struct Merged {
    findings: Vec<Finding>,
    /// Indexes into `findings`, by [`identity_hash`].
    by_identity: HashMap<u64, Vec<usize>>,
    /// Full identity comparisons made, for the test that pins the cost.
    #[cfg(test)]
    comparisons: usize,
}

impl Merged {
    fn add(&mut self, finding: Finding) {
        let slots = self.by_identity.entry(identity_hash(&finding)).or_default();
        for &i in slots.iter() {
            #[cfg(test)]
            {
                self.comparisons += 1;
            }
            let Some(f) = self.findings.get_mut(i) else {
                continue;
            };
            if same_identity(f, &finding) {
                if f.message.len() < finding.message.len() {
                    *f = finding;
                }
                return;
            }
        }
        slots.push(self.findings.len());
        self.findings.push(finding);
    }
}

/// Whether two findings are the same evidence: everything but the message (and what follows
/// from rule and severity).
fn same_identity(a: &Finding, b: &Finding) -> bool {
    a.rule == b.rule
        && a.severity == b.severity
        && a.objects == b.objects
        && a.locations == b.locations
        && a.evidence == b.evidence
}

/// A hash of what [`same_identity`] compares.
fn identity_hash(f: &Finding) -> u64 {
    let mut h = DefaultHasher::new();
    f.rule.hash(&mut h);
    f.severity.hash(&mut h);
    f.objects.hash(&mut h);
    f.locations.hash(&mut h);
    f.evidence.hash(&mut h);
    h.finish()
}

/// Gives the findings of each rule listed in `severities` (by id) that severity instead of
/// the rule's default, as a configuration's `[audit] severity` asks, and sorts them again:
/// reports and `--fail-on` then see the severity given.
pub fn set_severities(findings: &mut [Finding], severities: &[(String, Severity)]) {
    if severities.is_empty() {
        return;
    }
    for f in findings.iter_mut() {
        if let Some((_, s)) = severities.iter().find(|(id, _)| id == f.rule) {
            f.severity = *s;
        }
    }
    sort(findings);
}

fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.rule.cmp(b.rule))
            .then_with(|| a.message.cmp(&b.message))
    });
}

/// Runs the selected rules. Findings come sorted: most severe first, then by rule id, then
/// by message, so output is deterministic.
pub fn run(cx: &Context<'_>, selection: &Selection) -> Vec<Finding> {
    run_rules(cx, selection, |_| true)
}

/// [`run`] for the selected rules that `also` keeps.
fn run_rules(
    cx: &Context<'_>,
    selection: &Selection,
    also: impl Fn(&dyn Rule) -> bool,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for rule in ALL
        .iter()
        .filter(|r| selection.includes(r.meta()) && also(**r))
    {
        rule.check(cx, &mut findings);
    }
    sort(&mut findings);
    findings.dedup();
    findings
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail on any error")]

    use std::path::{Path, PathBuf};

    use runnerguard_engine::Policy;

    use super::*;
    use crate::rules::{Reads, reads};

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
    fn the_merge_compares_a_finding_only_with_those_of_its_identity() {
        // K copies of N distinct findings, as K setups that find the same: N findings, and
        // one full comparison per repeat, where a pairwise search makes ~K·N²/2.
        const N: usize = 300;
        const K: usize = 4;
        let mut merged = Merged::default();
        for _ in 0..K {
            for i in 0..N {
                merged.add(finding(i, "m"));
            }
        }
        assert_eq!(merged.findings.len(), N);
        assert_eq!(merged.comparisons, (K - 1) * N);
        // A longer message for the same evidence replaces the finding, in its place; an
        // equal or shorter one does not.
        merged.add(finding(7, "longer"));
        merged.add(finding(7, "other!"));
        merged.add(finding(7, "x"));
        assert_eq!(merged.findings[7].message, "longer");
        assert_eq!(merged.findings.len(), N);
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
        let with = |e: Evidence, message: &str| finding(1, message).evidence(e);
        let mut merged = Merged::default();
        merged.add(with(grant(0), "m"));
        merged.add(with(grant(0), "longer"));
        merged.add(with(grant(1), "m"));
        merged.add(with(Evidence::fact_under("x", vec![grant(0)]), "m"));
        assert_eq!(merged.findings.len(), 3);
        assert_eq!(merged.findings[0].message, "longer");
        assert_eq!(
            identity_hash(&with(grant(0), "a")),
            identity_hash(&with(grant(0), "b"))
        );
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
        let tables = executor::permission_tables().unwrap();
        Setup {
            topology,
            version,
            executor: executor::table_for(&tables, version).unwrap(),
            chart: ChartKeys::v0_86_0(),
        }
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

    /// `run_all` as it was: every rule under every setup, merged by a pairwise search.
    fn reference(policy: &Policy, setups: &[Setup]) -> Vec<Finding> {
        let mut findings: Vec<Finding> = Vec::new();
        for finding in setups
            .iter()
            .flat_map(|s| run(&s.context(policy), &Selection::default()))
        {
            match findings.iter_mut().find(|f| same_identity(f, &finding)) {
                Some(f) if f.message.len() < finding.message.len() => *f = finding,
                Some(_) => {}
                None => findings.push(finding),
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
    fn run_all_finds_what_every_rule_under_every_setup_finds() {
        for dir in fixture_dirs() {
            let policy = policy_of(&dir);
            let setups = setups(&policy);
            let expected = reference(&policy, &setups);
            assert!(!expected.is_empty(), "{}", dir.display());
            assert_eq!(
                run_all(&policy, &setups, &Selection::default()),
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
        // setup was quadratic. Shared by the setups of `run_all`, the first setup looks at
        // every item and reports what is the same under all; later ones only at those that
        // depend on the setup.
        let policy = policy_of(&root().join("RG111/bad"));
        let setups = setups(&policy);
        let shared = context::Shared::default();
        let depends = |i: usize| i.is_multiple_of(3);
        let mut looked = Vec::new();
        let mut first = Vec::new();
        for s in &setups {
            let cx = s.context_sharing(&policy, &shared);
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
        let shared = context::Shared::default();
        let mut counts = Vec::new();
        for s in &setups {
            let cx = s.context_sharing(&policy, &shared);
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
        let single = run_all(&policy, std::slice::from_ref(&one), &Selection::default());
        let many: Vec<Setup> = (0..5).map(|_| setup(one.topology.clone())).collect();
        assert!(!single.is_empty());
        assert_eq!(run_all(&policy, &many, &Selection::default()), single);
    }
}
