//! One audit of one policy: its setups (a topology and the data for its versions each),
//! discovered once, and the rules run under all of them with their findings merged.

use std::cmp::Reverse;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, RandomState};

use runnerguard_engine::Policy;
use runnerguard_model::Subject;

use crate::context::{Context, Shared};
use crate::rules::{self, Reads};
use crate::{ChartKeys, Error, Finding, PermissionTable, Rule, RunnerVersion, Selection, Severity};
use crate::{Topology, TopologyOptions, executor};

/// What an audit checks against, besides the policy: the topology, the executor's needs for
/// the runner version, and the chart's keys. [`Setup::context`] lends them to the rules.
#[derive(Clone, Debug)]
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
    ///
    /// # Errors
    /// [`Error::Data`] when the embedded executor tables do not cover `version`.
    pub fn new(
        policy: &Policy,
        options: &TopologyOptions,
        version: RunnerVersion,
    ) -> Result<Self, Error> {
        Self::of(
            Topology::discover(policy, options),
            version,
            chart_keys(policy.objects().releases.first()),
        )
    }

    /// A setup of `topology`, checked against runner `version` and `chart`'s keys.
    ///
    /// # Errors
    /// [`Error::Data`] when the embedded executor tables do not cover `version`.
    pub fn of(topology: Topology, version: RunnerVersion, chart: ChartKeys) -> Result<Self, Error> {
        Ok(Self {
            topology,
            version,
            executor: executor_table(version)?,
            chart,
        })
    }

    /// The rules' view of `policy` under this setup.
    pub fn context<'a>(&'a self, policy: &'a Policy) -> Context<'a> {
        Context::new(policy, &self.topology, &self.executor, &self.chart)
    }

    /// [`Setup::context`] sharing with the audit's other setups what `shared` keeps.
    fn sharing<'a>(&'a self, policy: &'a Policy, shared: &'a Shared<'a>) -> Context<'a> {
        Context::sharing(policy, &self.topology, &self.executor, &self.chart, shared)
    }
}

fn executor_table(version: RunnerVersion) -> Result<PermissionTable, Error> {
    let tables = executor::permission_tables().map_err(|e| Error::Data(e.to_string()))?;
    executor::table_for(&tables, version).ok_or_else(|| {
        Error::Data(format!(
            "no executor permission table for GitLab Runner {version} (this build knows 17.0 and later)"
        ))
    })
}

/// The chart keys for the chart a release was rendered with (the nearest embedded one for a
/// user's chart), the newest when values were not rendered.
fn chart_keys(release: Option<&runnerguard_model::Release>) -> ChartKeys {
    match release.map(|r| r.chart_version.as_str()) {
        Some(v) if !v.is_empty() => ChartKeys::nearest(v),
        _ => ChartKeys::newest(),
    }
}

/// An audit of one policy: a [`Setup`] per runner release ([`Topology::discover_all`]),
/// each topology discovered once, and [`Audit::run`] to run rules under all of them.
#[derive(Debug)]
pub struct Audit<'p> {
    policy: &'p Policy,
    setups: Vec<Setup>,
}

impl<'p> Audit<'p> {
    /// One setup per runner release of `policy`, each checked against runner `version` (until
    /// [`Audit::settle_versions`] says otherwise) and the chart its release was rendered
    /// with.
    ///
    /// # Errors
    /// [`Error::Data`] when the embedded executor tables do not cover `version`.
    pub fn new(
        policy: &'p Policy,
        options: &TopologyOptions,
        version: RunnerVersion,
    ) -> Result<Self, Error> {
        let executor = executor_table(version)?;
        let topologies = Topology::discover_all(policy, options);
        let releases = &policy.objects().releases;
        // One topology per rendered release (same order), else one for everything.
        let per_release = topologies.len() == releases.len() && releases.len() > 1;
        let first = chart_keys(releases.first());
        let setups = topologies
            .into_iter()
            .enumerate()
            .map(|(i, topology)| Setup {
                topology,
                version,
                executor: executor.clone(),
                chart: if per_release {
                    chart_keys(releases.get(i))
                } else {
                    first.clone()
                },
            })
            .collect();
        Ok(Self { policy, setups })
    }

    /// An audit of `policy` under the setups given.
    #[must_use]
    pub fn of_setups(policy: &'p Policy, setups: Vec<Setup>) -> Self {
        Self { policy, setups }
    }

    /// The setups, in release order.
    #[must_use]
    pub fn setups(&self) -> &[Setup] {
        &self.setups
    }

    /// Settles each setup's runner and chart versions from what the inputs name
    /// ([`crate::settle_versions`]).
    ///
    /// # Errors
    /// [`Error::Data`] when the embedded executor tables cannot be read.
    pub fn settle_versions(
        &mut self,
        given: Option<RunnerVersion>,
        app_version: &dyn Fn(&str) -> Option<String>,
    ) -> Result<(), Error> {
        crate::settle_versions(&mut self.setups, self.policy.objects(), given, app_version)
    }

    /// Runs the selected rules under every setup, findings merged (a finding found the same
    /// under several setups is reported once) and given the selection's severities.
    ///
    /// Near-linear in the number of setups and findings: a rule whose findings depend on the
    /// policy alone runs once, one that reads only the chart's keys once per chart, the
    /// others once per setup, all on one shared escalation analysis; findings are merged
    /// through a hash, never compared pairwise. The result is what running every rule under
    /// every setup and merging in setup order gives (the test `reference` does that).
    #[must_use]
    pub fn run(&self, selection: &Selection) -> Vec<Finding> {
        let mut findings = self.merged(selection, false).findings;
        set_severities(&mut findings, &selection.severity);
        sort(&mut findings);
        findings
    }

    /// [`Audit::run`], and under which setups (indices into [`Audit::setups`]) each finding
    /// was found. A rule that reads only the policy runs under the first setup alone, one
    /// that reads only the chart keys under the first setup of each chart
    /// ([`crate::rule_scope`]): their findings name that setup.
    pub fn run_attributed(&self, selection: &Selection) -> (Vec<Finding>, FoundUnder) {
        let Merged {
            mut findings,
            mut found_under,
            ..
        } = self.merged(selection, true);
        set_severities(&mut findings, &selection.severity);
        // Sorted as `sort` sorts, in place (an audit of 1 MB of runners holds 165,000
        // findings: no second copy of them), each finding's setups following it.
        let mut order = sorted_order(&findings);
        let mut rank = vec![0u32; findings.len()];
        for (new, &old) in order.iter().enumerate() {
            rank[old as usize] = index(new);
        }
        for pair in &mut found_under {
            pair.0 = rank[pair.0 as usize];
        }
        drop(rank);
        found_under.sort_unstable();
        found_under.dedup();
        permute(&mut findings, &mut order);
        (findings, FoundUnder(found_under))
    }

    /// Every rule under every setup, findings merged, in the order found; with `attribute`,
    /// the setups each was found under.
    fn merged(&self, selection: &Selection, attribute: bool) -> Merged {
        let shared = audit_wide(&self.setups);
        if let [setup] = self.setups.as_slice() {
            // One setup: nothing to merge across setups, and `run_rules` leaves no two equal
            // findings (no index of 165,000 findings: an audit of 1 MB of runners).
            let cx = setup.sharing(self.policy, &shared);
            let findings = run_rules(&cx, selection, |_| true);
            let found_under = if attribute {
                (0..findings.len()).map(|i| (index(i), 0)).collect()
            } else {
                Vec::new()
            };
            return Merged {
                findings,
                attribute,
                found_under,
                ..Merged::default()
            };
        }
        let mut merged = Merged {
            attribute,
            ..Merged::default()
        };
        let mut charts_seen: Vec<(&str, Option<&str>)> = Vec::new();
        for (i, setup) in self.setups.iter().enumerate() {
            let cx = setup.sharing(self.policy, &shared);
            let chart = (setup.chart.version, setup.chart.note());
            let new_chart = !charts_seen.contains(&chart);
            if new_chart {
                charts_seen.push(chart);
            }
            let runs = |rule: &dyn Rule| match rules::reads(rule.meta().id) {
                Reads::Policy => i == 0,
                Reads::Chart => new_chart,
                Reads::Setup => true,
            };
            for finding in run_rules(&cx, selection, runs) {
                merged.add(finding, i);
            }
        }
        merged
    }
}

/// A position in the findings, as stored (an audit holds far fewer than 2^32 findings: the
/// inputs are capped).
fn index(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// Under which setups each finding of an audit was found: (finding, setup) pairs, sorted.
/// Most findings are found under one setup; a pair each costs less than a list each.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FoundUnder(Vec<(u32, u32)>);

impl FoundUnder {
    /// The setups finding `i` was found under, ascending.
    pub fn setups(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        let i = index(i);
        let start = self.0.partition_point(|&(f, _)| f < i);
        self.0[start..]
            .iter()
            .take_while(move |&&(f, _)| f == i)
            .map(|&(_, s)| s as usize)
    }

    /// Whether finding `i` was found under setup `setup`.
    pub fn contains(&self, i: usize, setup: usize) -> bool {
        self.0.binary_search(&(index(i), index(setup))).is_ok()
    }
}

/// What the rules see of every setup under each: where the executor works (RB005's
/// wording), which release each values file belongs to (RG113), and the job pods'
/// ServiceAccounts of all setups (they exist whichever runner is looked at).
fn audit_wide(setups: &[Setup]) -> Shared<'_> {
    let mut shared = Shared::default();
    shared.executors = executors(setups);
    shared.values_owner = setups
        .iter()
        .flat_map(|s| s.topology.values.iter().flatten().map(move |&i| (i, s)))
        .collect();
    let mut seen = HashSet::new();
    shared.job_accounts = setups
        .iter()
        .flat_map(|s| &s.topology.jobs)
        .map(|j| Subject::service_account(&j.namespace, &j.service_account))
        .filter(|sa| seen.insert(sa.clone()))
        .collect();
    shared
}

/// Every setup's manager ServiceAccount with each of its job namespaces: where the
/// Kubernetes executor needs to create pods, for RB005's wording.
fn executors(setups: &[Setup]) -> HashSet<(&str, &str, &str)> {
    setups
        .iter()
        .flat_map(|s| {
            let t = &s.topology;
            t.jobs.iter().map(move |j| {
                (
                    t.manager_namespace.as_str(),
                    t.manager_service_account.as_str(),
                    j.namespace.as_str(),
                )
            })
        })
        .collect()
}

/// Findings merged by identity, in first-seen order: a finding found again, to the letter,
/// under another setup is the same finding. Findings that differ in anything (the namespace
/// their message names, a severity, a remediation) are kept apart: two releases in two
/// namespaces without a NetworkPolicy are two findings. Each finding is hashed once and
/// compared in full only with those of the same hash: linear in the findings (a pairwise
/// search was quadratic, issue #9 C3).
#[derive(Default)]
struct Merged {
    findings: Vec<Finding>,
    /// Whether to keep `found_under`.
    attribute: bool,
    /// (finding, setup) for each setup each finding was found under.
    found_under: Vec<(u32, u32)>,
    /// Indexes into `findings`, by their hash.
    by_hash: HashMap<u64, Vec<usize>>,
    hasher: RandomState,
    /// Full comparisons made, for the test that pins the cost.
    #[cfg(test)]
    comparisons: usize,
}

impl Merged {
    fn add(&mut self, finding: Finding, setup: usize) {
        // Hashed by what sets findings apart in practice (the rule, the message, the objects
        // and places), compared in full within a bucket: hashing every finding's evidence
        // too cost more than the comparisons it saves (issue #13).
        let key = self.hasher.hash_one((
            finding.rule,
            finding.severity,
            &finding.message,
            &finding.objects,
            &finding.locations,
        ));
        let slots = self.by_hash.entry(key).or_default();
        for &i in slots.iter() {
            #[cfg(test)]
            {
                self.comparisons += 1;
            }
            if self.findings.get(i) == Some(&finding) {
                let pair = (index(i), index(setup));
                if self.attribute && self.found_under.last() != Some(&pair) {
                    self.found_under.push(pair);
                }
                return;
            }
        }
        slots.push(self.findings.len());
        if self.attribute {
            self.found_under
                .push((index(self.findings.len()), index(setup)));
        }
        self.findings.push(finding);
    }
}

/// Gives the findings of each rule listed in `severities` (by id) that severity instead of
/// the rule's default, as a configuration's `[audit] severity` asks.
fn set_severities(findings: &mut [Finding], severities: &[(String, crate::Severity)]) {
    for f in findings.iter_mut() {
        if let Some((_, s)) = severities.iter().find(|(id, _)| id == f.rule) {
            f.severity = *s;
        }
    }
}

/// Most severe first, then by rule id, then by message, so output is deterministic; equal
/// keys keep their order (a stable sort).
///
/// The keys are sorted, not the findings, which are then moved once each into place: sorting
/// 400,000 findings of 160 bytes moved each many times (issue #13).
fn sort(findings: &mut [Finding]) {
    // `run_rules` sorts, and with one setup and no severity changed the audit asks again:
    // a look at each pair, not a second sort of 130,000 findings.
    if findings.is_sorted_by(|a, b| order_of(a, b).is_le()) {
        return;
    }
    let mut to = sorted_order(findings);
    permute(findings, &mut to);
}

/// Where each finding goes in [`sort`]'s order: the finding at position `i` of the result is
/// `findings[order[i]]`.
fn sorted_order(findings: &[Finding]) -> Vec<u32> {
    use rayon::slice::ParallelSliceMut as _;
    let mut keys: Vec<(Reverse<Severity>, &str, &str, u32)> = findings
        .iter()
        .enumerate()
        .map(|(i, f)| (Reverse(f.severity), f.rule, f.message.as_str(), index(i)))
        .collect();
    // The position breaks ties, so an unstable sort gives the stable order; on every core
    // (100,000 runner entries give 390,000 findings, whose keys took 0.2 s on one).
    keys.par_sort_unstable();
    keys.into_iter().map(|(.., i)| i).collect()
}

/// Puts `items[to[i]]` at `i` for every `i`, following each cycle of the permutation `to`
/// (left as the identity).
fn permute<T>(items: &mut [T], to: &mut [u32]) {
    for start in 0..items.len() {
        let mut i = start;
        loop {
            let j = to[i] as usize;
            to[i] = index(i);
            if j == start || j == i {
                break;
            }
            items.swap(i, j);
            i = j;
        }
    }
}

fn order_of(a: &Finding, b: &Finding) -> std::cmp::Ordering {
    b.severity
        .cmp(&a.severity)
        .then_with(|| a.rule.cmp(b.rule))
        .then_with(|| a.message.cmp(&b.message))
}

/// Runs the selected rules under one setup, with the selection's severities. Findings come
/// sorted (most severe first, then by rule id, then by message), each once.
pub fn run(cx: &Context<'_>, selection: &Selection) -> Vec<Finding> {
    let mut findings = run_rules(cx, selection, |_| true);
    set_severities(&mut findings, &selection.severity);
    sort(&mut findings);
    findings
}

/// [`run`] for the selected rules that `also` keeps, without the selection's severities.
///
/// The rules run on every core: each reads the context and writes its own findings, and
/// what they share (the escalation analysis, indexes) is worked out once behind locks. The
/// findings are then put in the rules' order and sorted, so the result is what running them
/// one after the other gives.
fn run_rules(
    cx: &Context<'_>,
    selection: &Selection,
    also: impl Fn(&dyn Rule) -> bool,
) -> Vec<Finding> {
    use rayon::prelude::*;
    // The escalation analysis is built (its edges on every core) before the rules start:
    // built lazily by a rule, its initializer would wait for rayon, and the waiting thread
    // could run another rule that asks for it (or for an index whose initializer does):
    // a re-entrant `OnceLock`, a deadlock. Below, nothing uses rayon inside a `OnceLock`
    // initializer or while holding a lock. (A selection without a rule that needs the
    // analysis pays for it: RB001 alone on 10k namespaces, 120 MB more.)
    cx.escalation();
    let rules: Vec<&dyn Rule> = crate::ALL
        .iter()
        .copied()
        .filter(|r| selection.includes(r.meta()) && also(*r))
        .collect();
    // The job identities likewise, searched on every core, when a runner rule may ask.
    if rules.iter().any(|r| r.meta().id.starts_with("RG")) {
        cx.prepare_job_identities();
    }
    let mut per_rule: Vec<Vec<Finding>> = rules
        .par_iter()
        .with_max_len(1)
        .map(|rule| {
            let mut found = Vec::new();
            rule.check(cx, &mut found);
            found.iter_mut().for_each(Finding::shrink);
            found
        })
        .collect();
    // Appended to the longest list, each other freed once moved: a list of every finding
    // beside all the rules' lists would hold each finding's place twice at the peak.
    per_rule.sort_by_key(|found| Reverse(found.len()));
    let mut lists = per_rule.into_iter();
    let mut findings = lists.next().unwrap_or_default();
    findings.reserve_exact(lists.as_slice().iter().map(Vec::len).sum());
    for found in lists {
        findings.extend(found);
    }
    sort(&mut findings);
    dedup_sorted(&mut findings);
    findings
}

/// Removes from sorted `findings` each that equals an earlier one, keeping the first: equal
/// findings sort under the same key (severity, rule, message), so each is compared only with
/// those of its key: pairwise for a few, through a hash set for many (100,000 runner entries
/// give 12,500 findings of one message, told apart by their places).
fn dedup_sorted(findings: &mut Vec<Finding>) {
    let mut keep = vec![true; findings.len()];
    let mut start = 0;
    while start < findings.len() {
        let end = start
            + findings[start..]
                .iter()
                .take_while(|f| order_of(&findings[start], f).is_eq())
                .count();
        let run = &findings[start..end];
        if run.len() <= 8 {
            for j in 1..run.len() {
                keep[start + j] = !run[..j]
                    .iter()
                    .zip(&keep[start..start + j])
                    .any(|(f, &kept)| kept && *f == run[j]);
            }
        } else {
            let mut seen: HashSet<&Finding> = HashSet::with_capacity(run.len());
            for (j, f) in run.iter().enumerate() {
                keep[start + j] = seen.insert(f);
            }
        }
        start = end;
    }
    let mut flags = keep.into_iter();
    findings.retain(|_| flags.next().unwrap_or(true));
}

#[cfg(test)]
mod tests;
