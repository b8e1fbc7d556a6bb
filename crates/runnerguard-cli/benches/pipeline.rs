//! `runnerguard audit -o json -f INVENTORY` stage by stage, on the inventory
//! `tools/gen-inventory` writes (seed 42, 10 role bindings per namespace), with 1,000 and
//! 3,000 namespaces so that growth shows (16,650 and 49,633 objects before the default
//! policy).
//!
//! ```text
//! cargo bench -p runnerguard-cli --bench pipeline
//! ```
//!
//! Each benchmark calls the library functions `commands/audit.rs` (and, for the escalation
//! analysis, `commands/paths.rs`) calls, in the same order, and measures one stage; what the
//! stage needs is built once before (statics) or per sample outside the measurement
//! (`with_inputs`), and what it returns is dropped outside it.
//!
//! - `load`: reading the inventory file as `-f` does (`load_inputs_with` on a file in
//!   `CARGO_TARGET_TMPDIR`, keep-going as the audit loads) and merging the embedded default
//!   policy into it. (Chart rendering returns at once: the inventory holds no values.)
//! - `policy_new`: indexing the loaded objects (`Policy::new`).
//! - `topology`: `has_runner`, `Audit::new` (which runs `Topology::discover_all`) and
//!   `Audit::settle_versions`.
//! - `escalation_all_service_accounts`: what `paths --all-service-accounts` computes before it
//!   writes: `Escalation::new`, then `service_accounts_reach` (every ServiceAccount's edges
//!   prepared, then `reachable` of each, on every core).
//! - `full_run`: `Audit::run` with the command's selection: every rule, and as the inventory
//!   holds no runner, the RBAC (RB) rules only (so this is also the RB family alone);
//!   findings merged, given severities, sorted.
//! - `full_run_attributed`: the same through `Audit::run_attributed`, which the command
//!   uses instead when a JUnit report is asked for.
//! - `rule`: `Audit::run` of one heavy RB rule alone (`--select RB003` and so on).
//! - `with_runner`: `Audit::run` of a rule family on the audit `--runner-namespace ns-0
//!   --job-namespace ns-1` makes of the 1,000-namespace inventory, since without a runner
//!   the command never runs the runner (RG) rules: `RB` alone, `RG` alone, and `all` the
//!   rules.
//! - `write`: each `-o` format writing the full audit's report (the findings of `full_run`)
//!   to `std::io::sink()`.
//!
//! Before any benchmark runs, `main` checks that the inputs are what the names say: the
//! inventories' sizes, that they hold no runner, that the full audit finds RB003, RB005 and
//! RB006 findings and each of those rules alone finds its own, and that the runner topology
//! is the one the flags name and gives RG findings. Setting all this up (and those checks)
//! takes about 15 s before the first benchmark; the whole run about 2 minutes on 2 cores.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use divan::{Bencher, black_box};
use gen_inventory::{Counts, Options};
use runnerguard_audit::{
    Audit, Finding, FoundUnder, RuleMeta, Selection, Severity, TopologyOptions,
};
use runnerguard_engine::{Escalation, Policy};
use runnerguard_load::{Input, LoadOptions, Loaded};
use runnerguard_model::Inventory;
use runnerguard_model::versions::DEFAULT_RUNNER;
use runnerguard_report::Report;

fn main() {
    for size in SIZES {
        let fixture = fixture(size);
        assert_eq!(fixture.counts.namespaces, size);
        assert_eq!(fixture.counts.role_bindings, size * BINDINGS_PER_NAMESPACE);
        // The default policy's `kube-*` and `default` namespaces come on top.
        assert!(fixture.policy.objects().namespaces.len() >= size);
        assert!(
            !runnerguard_audit::has_runner(fixture.policy.objects(), &TopologyOptions::default()),
            "the generated inventory is meant to hold no runner: the audit runs the RB rules only"
        );
        let findings = &FULLS[index(size)].findings;
        assert!(findings.iter().all(|f| f.rule.starts_with("RB")));
        for id in RULES {
            assert!(
                findings.iter().any(|f| f.rule == id),
                "the full audit of {size} namespaces has no {id}"
            );
        }
    }
    for id in RULES {
        let found = AUDITS[0].run(&selection(&[id], true));
        assert!(!found.is_empty(), "{id} alone finds nothing");
        assert!(found.iter().all(|f| f.rule == id));
    }
    let setups = WITH_RUNNER.setups();
    assert_eq!(setups.len(), 1);
    assert_eq!(setups[0].topology.manager_namespace, "ns-0");
    assert!(
        WITH_RUNNER
            .run(&selection(&["RG"], false))
            .iter()
            .any(|f| f.rule.starts_with("RG"))
    );
    divan::main();
}

/// The inventory sizes (namespaces).
const SIZES: [usize; 2] = [1_000, 3_000];
const BINDINGS_PER_NAMESPACE: usize = 10;
/// The RB rules that cost the most, each benchmarked alone.
const RULES: [&str; 3] = ["RB003", "RB005", "RB006"];

/// One generated inventory, as a file and loaded.
struct Fixture {
    counts: Counts,
    /// The inventory file, as `-f` names it.
    path: PathBuf,
    /// The objects loaded, the default policy merged in: what `Policy::new` is given.
    inventory: Inventory,
    policy: Policy,
}

static FIXTURES: [LazyLock<Fixture>; 2] = [
    LazyLock::new(|| Fixture::new(SIZES[0])),
    LazyLock::new(|| Fixture::new(SIZES[1])),
];

/// Where `namespaces` is in [`SIZES`].
fn index(namespaces: usize) -> usize {
    SIZES
        .iter()
        .position(|&n| n == namespaces)
        .expect("a size of SIZES")
}

fn fixture(namespaces: usize) -> &'static Fixture {
    &FIXTURES[index(namespaces)]
}

impl Fixture {
    fn new(namespaces: usize) -> Self {
        let (json, counts) = gen_inventory::generate(&Options {
            namespaces,
            bindings_per_namespace: BINDINGS_PER_NAMESPACE,
            seed: 42,
        });
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "pipeline-inventory-{namespaces}x{BINDINGS_PER_NAMESPACE}.json"
        ));
        std::fs::write(&path, json).expect("writing the inventory file");
        let loaded = load(&path);
        assert!(loaded.warnings.is_empty() && loaded.unreadable.is_empty());
        let inventory = loaded.inventory;
        let policy = Policy::new(inventory.clone());
        Self {
            counts,
            path,
            inventory,
            policy,
        }
    }
}

/// What `audit` does with `-f PATH` before it indexes: load (keep-going) and merge the
/// embedded default policy.
fn load(path: &Path) -> Loaded {
    let options = LoadOptions::default().keep_going(true);
    let mut loaded = runnerguard_load::load_inputs_with(&[Input::Path(path.to_owned())], &options)
        .expect("the inventory loads");
    loaded
        .add_default_policy()
        .expect("the default policy loads");
    loaded
}

/// The audit `audit -f INVENTORY` runs: its setups, versions settled.
fn audit<'p>(policy: &'p Policy, options: &TopologyOptions) -> Audit<'p> {
    let mut audit = Audit::new(policy, options, DEFAULT_RUNNER).expect("embedded data");
    audit
        .settle_versions(None, &|chart| {
            runnerguard_chart::Chart::find(chart).map(|c| c.app_version.to_owned())
        })
        .expect("embedded data");
    audit
}

/// The rules `select` names (all when empty), as the command selects them; `rbac_only` when
/// the inputs hold no runner.
fn selection(select: &[&str], rbac_only: bool) -> Selection {
    Selection {
        select: select.iter().map(|s| (*s).to_owned()).collect(),
        rbac_only,
        ..Selection::default()
    }
}

/// The audit of each inventory, as the command makes it.
static AUDITS: [LazyLock<Audit<'static>>; 2] = [
    LazyLock::new(|| audit(&FIXTURES[0].policy, &TopologyOptions::default())),
    LazyLock::new(|| audit(&FIXTURES[1].policy, &TopologyOptions::default())),
];

/// The flags that give the inventory a runner: its manager in `ns-0`, jobs in `ns-1`.
static RUNNER_FLAGS: LazyLock<TopologyOptions> = LazyLock::new(|| TopologyOptions {
    runner_namespace: Some("ns-0".to_owned()),
    job_namespaces: vec!["ns-1".to_owned()],
    ..TopologyOptions::default()
});

/// The audit `audit -f INVENTORY --runner-namespace ns-0 --job-namespace ns-1` makes of the
/// 1,000-namespace inventory.
static WITH_RUNNER: LazyLock<Audit<'static>> =
    LazyLock::new(|| audit(&FIXTURES[0].policy, &RUNNER_FLAGS));

/// What the full audit of an inventory hands the reports.
struct Full {
    findings: Vec<Finding>,
    found_under: FoundUnder,
    rules: Vec<&'static RuleMeta>,
    inputs: Vec<String>,
}

static FULLS: [LazyLock<Full>; 2] = [
    LazyLock::new(|| Full::new(SIZES[0])),
    LazyLock::new(|| Full::new(SIZES[1])),
];

impl Full {
    fn new(namespaces: usize) -> Self {
        let selection = selection(&[], true);
        let (findings, found_under) = AUDITS[index(namespaces)].run_attributed(&selection);
        let rules = runnerguard_audit::ALL
            .iter()
            .map(|r| r.meta())
            .filter(|m| selection.includes(m))
            .collect();
        // The note the command adds when it finds no runner, then those about placeholders.
        let mut inputs = vec![
            "no GitLab Runner found in the inputs (no chart values, no config.toml with the Kubernetes executor, no runner Deployment): only the RBAC rules (RB) ran; give the runner's values or config.toml, or --runner-namespace and --job-namespace, to check the runner rules (RG)"
                .to_owned(),
        ];
        inputs.extend(runnerguard_audit::placeholder_notes(
            &fixture(namespaces).policy,
            &[],
        ));
        Self {
            findings,
            found_under,
            rules,
            inputs,
        }
    }
}

#[divan::bench(args = SIZES, sample_count = 5, sample_size = 1)]
fn load_file(bencher: Bencher<'_, '_>, namespaces: usize) {
    let path = &fixture(namespaces).path;
    bencher.bench_local(|| load(black_box(path)));
}

#[divan::bench(args = SIZES, sample_count = 10, sample_size = 1)]
fn policy_new(bencher: Bencher<'_, '_>, namespaces: usize) {
    let inventory = &fixture(namespaces).inventory;
    bencher
        .with_inputs(|| inventory.clone())
        .bench_local_values(Policy::new);
}

#[divan::bench(args = SIZES, sample_count = 10, sample_size = 1)]
fn topology(bencher: Bencher<'_, '_>, namespaces: usize) {
    let policy = &fixture(namespaces).policy;
    let options = TopologyOptions::default();
    bencher.bench_local(|| {
        let runner = runnerguard_audit::has_runner(policy.objects(), &options);
        (runner, audit(black_box(policy), &options))
    });
}

#[divan::bench(args = SIZES, sample_count = 3, sample_size = 1)]
fn escalation_all_service_accounts(bencher: Bencher<'_, '_>, namespaces: usize) {
    let policy = &fixture(namespaces).policy;
    bencher.bench_local(|| {
        let escalation = Escalation::new(black_box(policy));
        let reached: Vec<usize> = escalation
            .service_accounts_reach(None)
            .into_iter()
            .map(|(_, reached)| reached.len())
            .collect();
        (reached, escalation)
    });
}

#[divan::bench(args = SIZES, sample_count = 3, sample_size = 1)]
fn full_run(bencher: Bencher<'_, '_>, namespaces: usize) {
    let (audit, selection) = (&*AUDITS[index(namespaces)], selection(&[], true));
    bencher.bench_local(|| audit.run(black_box(&selection)));
}

#[divan::bench(args = SIZES, sample_count = 3, sample_size = 1)]
fn full_run_attributed(bencher: Bencher<'_, '_>, namespaces: usize) {
    let (audit, selection) = (&*AUDITS[index(namespaces)], selection(&[], true));
    bencher.bench_local(|| audit.run_attributed(black_box(&selection)));
}

#[divan::bench(consts = SIZES, args = RULES, sample_count = 3, sample_size = 1)]
fn rule<const NAMESPACES: usize>(bencher: Bencher<'_, '_>, id: &str) {
    let (audit, selection) = (&*AUDITS[index(NAMESPACES)], selection(&[id], true));
    bencher.bench_local(|| audit.run(black_box(&selection)));
}

#[divan::bench(args = ["RB", "RG", "all"], sample_count = 5, sample_size = 1)]
fn with_runner(bencher: Bencher<'_, '_>, family: &str) {
    let select: &[&str] = if family == "all" { &[] } else { &[family] };
    let (audit, selection) = (&*WITH_RUNNER, selection(select, false));
    bencher.bench_local(|| audit.run(black_box(&selection)));
}

#[divan::bench(
    consts = SIZES,
    args = ["json", "human", "junit", "sarif", "codequality", "html"],
    sample_count = 3,
    sample_size = 1,
)]
fn write<const NAMESPACES: usize>(bencher: Bencher<'_, '_>, format: &str) {
    let full = &*FULLS[index(NAMESPACES)];
    let report = Report {
        topologies: &[],
        findings: &full.findings,
        fail_on: Severity::High,
        runner_version: DEFAULT_RUNNER.to_string(),
        chart_version: runnerguard_audit::ChartKeys::newest().version.to_owned(),
        inputs: &full.inputs,
        unreadable: &[],
    };
    let root = std::env::current_dir().expect("a working directory");
    let fixture = fixture(NAMESPACES);
    let fallback = fixture.path.display().to_string();
    bencher.bench_local(|| {
        let w = &mut io::sink();
        match format {
            "json" => runnerguard_report::json(w, &report),
            "human" => runnerguard_report::human(w, &report, false),
            "junit" => runnerguard_report::junit(w, &report, &full.rules, &full.found_under),
            "sarif" => runnerguard_report::sarif(w, &report, &full.rules, &root, &fallback),
            "codequality" => runnerguard_report::codequality(w, &report, &root, &fallback),
            "html" => runnerguard_report::html(w, &report, &fixture.policy),
            _ => unreachable!("a format of the list"),
        }
        .expect("writing to a sink");
    });
}
