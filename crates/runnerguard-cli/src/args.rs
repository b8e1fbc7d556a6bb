//! Command-line arguments, exactly as clap parses them. Commands turn them into validated
//! options; libraries never see these types.

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Declares a clap arguments struct whose body may name, as `..group,`, a group of arguments
/// several commands take with the same meaning and help: written once here, so their help
/// cannot drift apart, and still plain fields of each struct.
macro_rules! arguments {
    ($(#[$meta:meta])* $vis:vis struct $name:ident { $($body:tt)* }) => {
        arguments!(@fields [$(#[$meta])* $vis struct $name] [] $($body)*);
    };
    (@fields [$($head:tt)*] [$($done:tt)*]) => {
        $($head)* { $($done)* }
    };
    (@fields $head:tt [$($done:tt)*] ..output, $($rest:tt)*) => {
        arguments!(@fields $head [$($done)*
            /// Output format.
            #[arg(short = 'o', long, value_enum, default_value_t = Format::Human)]
            pub(crate) output: Format,
        ] $($rest)*);
    };
    // `can-i` and `who-can`: where the request is.
    (@fields $head:tt [$($done:tt)*] ..request_scope, $($rest:tt)*) => {
        arguments!(@fields $head [$($done)*
            /// The namespace of the request.
            #[arg(short = 'n', long, value_name = "NAMESPACE")]
            pub(crate) namespace: Option<String>,

            /// Ask about all namespaces at once: only cluster-wide grants (ClusterRoleBindings) count.
            #[arg(short = 'A', long, conflicts_with = "namespace")]
            pub(crate) all_namespaces: bool,

            /// The subresource, e.g. exec, log, status, token.
            #[arg(long, value_name = "SUBRESOURCE")]
            pub(crate) subresource: Option<String>,
        ] $($rest)*);
    };
    // `can-i` and `paths`: the asking identity's groups.
    (@fields $head:tt [$($done:tt)*] ..as_groups, $($rest:tt)*) => {
        arguments!(@fields $head [$($done)*
            /// A group of that user. Repeatable. Replaces the groups a ServiceAccount gets by default.
            #[arg(long = "as-group", value_name = "GROUP")]
            pub(crate) as_groups: Vec<String>,
        ] $($rest)*);
    };
    (@fields $head:tt [$($done:tt)*]
        $(#[$attr:meta])* $fvis:vis $field:ident: $ty:ty, $($rest:tt)*) => {
        arguments!(@fields $head [$($done)* $(#[$attr])* $fvis $field: $ty,] $($rest)*);
    };
}

/// Prove GitLab Runner on Kubernetes is isolated, and answer RBAC questions offline with the
/// Kubernetes authorizer's exact semantics.
#[derive(Debug, Parser)]
#[command(
    name = "runnerguard",
    version,
    propagate_version = true,
    after_help = "Exit codes: 0 = yes / clean, 1 = no / findings, 2 = runnerguard could not do its job.\n\
                  Every command that reads manifests also loads Kubernetes' default cluster roles\n\
                  and bindings (cluster-admin, admin/edit/view, system:basic-user, ...), as every\n\
                  real cluster has them; --no-default-roles turns that off."
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Write a commented runnerguard.toml (the built-in default setup, explained).
    #[command(after_help = "Examples:\n  runnerguard init\n  runnerguard init --out - | less")]
    Init(InitArgs),
    /// Generate the hardened runner setup: namespaces, RBAC, NetworkPolicies, limits,
    /// admission policies, Helm values, a kustomization and INSTALL.md.
    #[command(
        long_about = "Generate a complete, hardened, namespace-isolated GitLab Runner setup for the \
                      official Helm chart, from runnerguard.toml (or the built-in default: manager in \
                      `gitlab-runner`, jobs and deployments in `teams`). Output is byte-for-byte \
                      deterministic and passes `runnerguard audit`.",
        after_help = "Examples:\n  \
            runnerguard generate                        # one YAML stream on stdout\n  \
            runnerguard generate --out setup/           # files, a kustomization and INSTALL.md\n  \
            runnerguard generate --config runnerguard.toml --out setup/ && runnerguard audit -f setup/"
    )]
    Generate(GenerateArgs),
    /// Audit a GitLab Runner setup: manifests, Helm values, the chart's rendered output, a
    /// runner config.toml.
    #[command(
        long_about = "Audit a GitLab Runner setup the way an attacker and the runner itself see it: \
                      whether CI jobs can reach the runner manager, whether the manager can run jobs \
                      at all and holds nothing more, and whether job pods are contained.\n\n\
                      Reads Kubernetes manifests (YAML, JSON, Lists, `helm template` output), Helm \
                      values for the official gitlab-runner chart (recognised by their keys, given \
                      with --values, or inside an Argo CD Application or Flux HelmRelease), and \
                      runner config.toml files. Values are audited as the chart renders them: with \
                      `helm template` on an embedded copy of the official chart when helm is found \
                      (--helm, $RUNNERGUARD_HELM, PATH), else with a built-in model of the chart; \
                      the report's \"Inputs\" says which. Works out the topology (manager namespace \
                      and ServiceAccount, job namespaces and ServiceAccount) from them, prints it, \
                      and checks every rule (`runnerguard rules`). When the inputs hold no runner, \
                      only the RBAC rules (RB) run.",
        after_help = "Examples:\n  \
            # The widely shared setup, and everything wrong with it\n  \
            runnerguard audit -f examples/seed/\n\n  \
            # The chart's rendered output, as CI would check it\n  \
            helm template gitlab-runner gitlab/gitlab-runner -n gitlab-runner -f values.yaml \\\n      \
              | runnerguard audit -f - -o json --fail-on high\n\n  \
            # Values alone, for a release in another namespace: rendered with the real chart\n  \
            # (helm template on the embedded chart) when helm is installed, else modelled\n  \
            runnerguard audit --values values.yaml --release-namespace ci-runners\n\n  \
            # Two values files of one release, merged as `helm -f base.yaml -f prod.yaml` merges them\n  \
            runnerguard audit --values base.yaml --values prod.yaml --chart-version 0.84.1\n\n  \
            # Only the RBAC rules about the manager\n  \
            runnerguard audit -f rbac/ --select RG102 --select RG103\n\n  \
            # Rules, severities and fail-on from runnerguard.toml's [audit] section\n  \
            runnerguard audit -f setup/ --config runnerguard.toml\n\n  \
            # The cluster itself, read-only, through the current kubeconfig context\n  \
            runnerguard audit --live\n  \
            runnerguard audit --live --context prod -n gitlab-runner -o json\n\n  \
            # What is about to be applied, over what is there\n  \
            runnerguard audit --live -f setup/\n\n\
            --live reads the cluster read-only (get and list, never a watch or a write): Namespaces, \
            ClusterRoles, ClusterRoleBindings, ValidatingAdmissionPolicies and their bindings (all, \
            cluster-scoped), and Roles, RoleBindings, ServiceAccounts, Deployments, StatefulSets, \
            DaemonSets, ReplicaSets, ReplicationControllers, Jobs, CronJobs, Pods, NetworkPolicies, \
            LimitRanges, ResourceQuotas, ConfigMaps and Secrets (in -n NAMESPACE, else everywhere). \
            Secrets are read as metadata only: their data never leaves the API server. The reader \
            needs get and list on those kinds (a kind it may not list is named under \"Not read\" and \
            the audit fails as incomplete). The cluster's own default roles and bindings are used \
            instead of the embedded ones (docs/live.md).\n\n\
            Exit codes: 0 = no finding at or above --fail-on, 1 = findings at or above it, or the \
            audit is incomplete, 2 = error."
    )]
    // Boxed: the audit takes many more flags than the other commands.
    Audit(Box<AuditArgs>),
    /// Write what a cluster holds (no Secret data) as one List, to audit offline later.
    #[command(
        long_about = "Read a cluster through its API server, read-only, and write what was read as one \
                      `v1` List JSON document: the objects `audit --live` reads (RBAC, \
                      ServiceAccounts, Namespaces, workloads, Pods, ConfigMaps, NetworkPolicies, \
                      LimitRanges, ResourceQuotas, ValidatingAdmissionPolicies and their bindings) \
                      and Secrets by their metadata only: a Secret's data never leaves the API \
                      server (it is listed as PartialObjectMetadata). `runnerguard audit -f FILE` \
                      then repeats the audit offline, or on another machine, with the same findings.\n\n\
                      The file is written whole or not at all. Kinds that could not be read \
                      (forbidden, failed) are named on stderr and the exit code is 1.",
        after_help = "Examples:\n  \
            runnerguard snapshot --live -o cluster.json\n  \
            runnerguard snapshot --live --context prod -n gitlab-runner -o prod.json\n  \
            runnerguard audit -f prod.json\n\n\
            RBAC the reader needs: get and list on the kinds above (`audit --help`, docs/live.md).\n\
            Exit codes: 0 = written, 1 = written, but some kinds could not be read, 2 = error."
    )]
    Snapshot(SnapshotArgs),
    /// What a change does: permissions gained and lost, findings new and resolved, the
    /// topology before and after.
    #[command(
        long_about = "Compare two versions of a runner setup, as a reviewer of a merge request needs: \
                      per subject, the permissions gained and lost, directly and through escalation \
                      (with the path to each newly reachable identity), grouped by namespace; the \
                      audit findings the change adds and resolves (matched by a fingerprint that \
                      ignores line numbers and file locations); the runner topology before and after.\n\n\
                      The old side is a path, or the same paths at a git revision (--base-ref), read \
                      with `git` without touching the working tree.",
        after_help = "Examples:\n  \
            runnerguard diff old/ new/\n  \
            runnerguard diff --base-ref origin/main deploy/runner/\n  \
            runnerguard diff --base-ref \"$CI_MERGE_REQUEST_DIFF_BASE_SHA\" deploy/ -o human -o codequality=gl-code-quality-report.json\n  \
            runnerguard diff --old a.yaml --old b.yaml --new a.yaml --new c.yaml -o json\n\n\
            Exit codes: 0 = the change adds nothing at or above --fail-on and opens no way from a\n\
            job identity into a manager namespace (removing rights passes); 1 = it does; 2 = error."
    )]
    Diff(Box<DiffArgs>),
    /// Check whether an identity may perform an action (mirrors `kubectl auth can-i`).
    #[command(
        name = "can-i",
        long_about = "Check whether an identity may perform an action, offline, with the kube-apiserver \
                      RBAC authorizer's exact semantics.\n\n\
                      VERB is a Kubernetes API verb (get, list, watch, create, update, patch, delete, \
                      deletecollection, use, bind, escalate, impersonate, approve, sign, ...).\n\
                      TYPE is a resource type, with kubectl's short names and group suffixes \
                      (po, deploy, deployments.apps, cj, sa, ...); TYPE/NAME names one object.\n\
                      NONRESOURCEURL is a path starting with `/` (e.g. /healthz, /logs/*).\n\n\
                      Prints `yes` or `no` and exits 0 or 1, like kubectl.",
        after_help = "Examples:\n  \
            # Can the runner manager exec into job pods in `teams`?\n  \
            runnerguard can-i create pods --subresource=exec -n teams \\\n      \
              --as system:serviceaccount:gitlab-runner:gitlab-runner -f examples/seed/\n\n  \
            # ...and if not, which rule came closest and why it misses\n  \
            runnerguard can-i create pods --subresource=exec -n teams \\\n      \
              --as system:serviceaccount:gitlab-runner:gitlab-runner -f examples/seed/ --explain\n\n  \
            # One named Secret\n  \
            runnerguard can-i get secrets/runner-token -n gitlab-runner --as alice -f rbac/\n\n  \
            # Everything a ServiceAccount may do in a namespace\n  \
            runnerguard can-i --list -n teams --as system:serviceaccount:teams:default -f rbac/\n\n  \
            # A non-resource URL\n  \
            runnerguard can-i get /healthz --as system:anonymous"
    )]
    CanI(CanIArgs),
    /// List every subject allowed an action, with the binding and role that allow it.
    #[command(
        name = "who-can",
        long_about = "List every subject allowed an action, with the binding, the role and the rule \
                      that allow it, exactly as the kube-apiserver's subject locator finds them \
                      (the group system:masters first: the API server lets it do anything).",
        after_help = "Examples:\n  \
            runnerguard who-can get secrets -n teams -f examples/seed/\n  \
            runnerguard who-can create pods/exec -n teams -f rbac/ -o json\n  \
            runnerguard who-can '*' '*' -A -f rbac/"
    )]
    WhoCan(WhoCanArgs),
    /// Every identity a subject can become, and the shortest path to each (escalation).
    #[command(
        long_about = "Every identity a subject can become through RBAC escalation, with the shortest \
                      path to each: creating pods (any ServiceAccount of the namespace), reading or \
                      writing Secrets, token requests, exec, bind, escalate, impersonate, \
                      nodes/proxy, admission webhooks, CSR approval. Every edge is an exact \
                      authorizer answer, shown as binding -> role -> rule.\n\n\
                      With --to, asks whether (and how) the subject can reach one permission.",
        after_help = "Examples:\n  \
            runnerguard paths --as system:serviceaccount:teams:default -f rbac/\n  \
            runnerguard paths --as alice -f rbac/ --to 'get secrets -n gitlab-runner'\n  \
            runnerguard paths --as system:serviceaccount:teams:ci-job -n teams -f rbac/ -o json\n\n\
            Exit codes: 0 = listed (with --to: reachable), 1 = with --to: not reachable, 2 = error."
    )]
    Paths(PathsArgs),
    /// List the audit rules, or explain one (`rules explain RG102`).
    Rules(RulesArgs),
    /// Print a shell completion script.
    #[command(after_help = "Examples:\n  \
        runnerguard completions bash > /etc/bash_completion.d/runnerguard\n  \
        runnerguard completions zsh > \"${fpath[1]}/_runnerguard\"\n  \
        runnerguard completions fish > ~/.config/fish/completions/runnerguard.fish")]
    Completions(CompletionsArgs),
    /// Print the man page (roff): `runnerguard man > runnerguard.1; man ./runnerguard.1`.
    Man,
}

/// `completions`' arguments.
#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub(crate) shell: clap_complete::Shell,
}

/// `--version`: the version, then the versions of the data this build embeds.
pub(crate) fn long_version() -> String {
    use runnerguard_model::versions::{CHART_RELEASES, DEFAULT_CHART};
    let charts = match (CHART_RELEASES.first(), CHART_RELEASES.last()) {
        (Some(first), Some(last)) => format!("{} to {}", first.version, last.version),
        _ => "none".to_owned(),
    };
    let runners = runnerguard_model::executor::known_versions().map_or_else(
        |e| format!("unreadable ({e})"),
        |r| format!("{} to {}", r.start(), r.end()),
    );
    format!(
        "{}\nKubernetes default RBAC policy: {}\ngitlab-runner charts: {charts} (default {}, GitLab Runner {})\nGitLab Runner executor needs: {runners}",
        env!("CARGO_PKG_VERSION"),
        runnerguard_load::DEFAULT_POLICY_VERSION,
        DEFAULT_CHART.version,
        DEFAULT_CHART.app_version,
    )
}

/// `init`'s arguments.
#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// Where to write the config (`-` for stdout).
    #[arg(long, value_name = "FILE", default_value = "runnerguard.toml")]
    pub(crate) out: String,

    /// Overwrite an existing file.
    #[arg(long)]
    pub(crate) force: bool,
}

/// `generate`'s arguments.
#[derive(Debug, Args)]
pub(crate) struct GenerateArgs {
    /// The configuration (default: the built-in default setup).
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<String>,

    /// Write files into this directory instead of one YAML stream on stdout.
    #[arg(long, value_name = "DIR")]
    pub(crate) out: Option<String>,

    /// Overwrite files in --out that runnerguard did not generate.
    #[arg(long)]
    pub(crate) force: bool,
}

/// `snapshot`'s arguments.
#[derive(Debug, Args)]
pub(crate) struct SnapshotArgs {
    #[command(flatten)]
    pub(crate) live: LiveArgs,

    /// Read namespaced kinds in this namespace only (cluster-scoped kinds are read whole).
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    pub(crate) namespace: Option<String>,

    /// The file to write (`-` for stdout).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub(crate) output: String,
}

/// Reading a cluster (`audit --live`, `snapshot --live`).
#[derive(Debug, Args)]
pub(crate) struct LiveArgs {
    /// Read the cluster of the current kubeconfig context (or of --context, or the pod's own
    /// in a cluster), read-only.
    #[arg(long)]
    pub(crate) live: bool,

    /// The kubeconfig context to read [default: the current context].
    #[arg(long, value_name = "CONTEXT", requires = "live")]
    pub(crate) context: Option<String>,

    /// The kubeconfig file [default: $KUBECONFIG, else ~/.kube/config, else in-cluster].
    #[arg(long, value_name = "FILE", requires = "live")]
    pub(crate) kubeconfig: Option<String>,

    /// Read every namespace (the default without -n).
    #[arg(short = 'A', long, requires = "live", conflicts_with = "namespace")]
    pub(crate) all_namespaces: bool,

    /// Seconds one request to the API server may take (each is retried up to 3 times after
    /// a timeout, a failed connection, a 429 or a 5xx).
    #[arg(long, value_name = "SECONDS", default_value_t = 30, requires = "live")]
    pub(crate) request_timeout: u64,

    /// Do not list Secrets, not even their metadata: for a reader not granted `list` on
    /// them by choice. The report says what that leaves unseen; the audit stays complete.
    #[arg(long, requires = "live")]
    pub(crate) no_secrets: bool,
}

arguments! {
    /// `audit`'s arguments.
    #[derive(Debug, Args)]
    pub(crate) struct AuditArgs {
        #[command(flatten)]
        pub(crate) input: InputArgs,

        #[command(flatten)]
        pub(crate) live: LiveArgs,

        /// A Helm values file for the gitlab-runner chart (read as values whatever its keys).
        /// Repeatable: several are one release, merged as `helm -f a.yaml -f b.yaml` merges them.
        #[arg(long = "values", value_name = "FILE")]
        pub(crate) values: Vec<String>,

        /// Output format, and where: `FORMAT` on stdout, `FORMAT=FILE` into FILE (written whole
        /// or not at all). Repeatable, one on stdout at most: `-o human -o
        /// codequality=gl-code-quality-report.json -o junit=runnerguard.xml`. `codequality` is
        /// GitLab's Code Quality report (paths relative to the working directory), `junit` a
        /// JUnit report with a test case per rule (and per runner topology for the rules that
        /// judge one), `sarif` SARIF 2.1.0, `html` one self-contained page [default: human].
        #[arg(short = 'o', long, value_name = "FORMAT[=FILE]", value_parser = OutputParser::<AuditFormat>::new())]
        pub(crate) output: Vec<Output>,

        #[command(flatten)]
        pub(crate) options: AuditOptions,
    }
}

/// How `audit` and `diff` read and judge what they are given: where the runner is, how
/// values are rendered, which rules run and when the run fails.
#[derive(Debug, Args)]
pub(crate) struct AuditOptions {
    /// The namespace manifests without `metadata.namespace` are applied to, as with
    /// `kubectl apply -n` [default: they are checked in `default` and in every runner
    /// namespace they could land in]. With --live, also: only this namespace's namespaced
    /// objects are read.
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    pub(crate) namespace: Option<String>,

    /// Read the chart's values from under this top-level key of each values document: an
    /// umbrella chart's alias for the gitlab-runner subchart (Big Bang: `upstream`).
    #[arg(long, value_name = "KEY")]
    pub(crate) values_key: Option<String>,

    /// The runner manager's namespace (default: from the inputs, else the release namespace).
    #[arg(long, value_name = "NAMESPACE")]
    pub(crate) runner_namespace: Option<String>,

    /// The runner manager's ServiceAccount (default: from the chart's Deployment or values).
    #[arg(long, value_name = "NAME")]
    pub(crate) runner_service_account: Option<String>,

    /// A namespace where CI jobs run (default: from the runner configuration). Repeatable.
    #[arg(long = "job-namespace", value_name = "NAMESPACE")]
    pub(crate) job_namespaces: Vec<String>,

    /// The job pods' ServiceAccount (default: `service_account` of the runner configuration,
    /// else `default`).
    #[arg(long, value_name = "NAME")]
    pub(crate) job_service_account: Option<String>,

    /// The Helm release's namespace, when only values are read [default: gitlab-runner].
    #[arg(long, value_name = "NAMESPACE")]
    pub(crate) release_namespace: Option<String>,

    /// The Helm release name values are rendered under (`helm template NAME`); the chart's
    /// object names derive from it [default: the wrapper's, else gitlab-runner].
    #[arg(long, value_name = "NAME")]
    pub(crate) release_name: Option<String>,

    /// The gitlab-runner chart version values are rendered with (embedded: 0.77.2-0.86.0)
    /// [default: the newest embedded, or the chart version a wrapper names].
    #[arg(long, value_name = "VERSION")]
    pub(crate) chart_version: Option<String>,

    /// A local chart archive (.tgz) or directory to render values with instead of the
    /// embedded official chart (needs helm; never fetched from the network).
    #[arg(long, value_name = "PATH")]
    pub(crate) chart: Option<String>,

    /// The helm binary to render values with [default: `$RUNNERGUARD_HELM`, else helm on PATH;
    /// without helm, a built-in model of the chart is used].
    #[arg(long, value_name = "PATH", conflicts_with = "no_helm")]
    pub(crate) helm: Option<String>,

    /// Do not run helm: render values with the built-in model of the chart.
    #[arg(long)]
    pub(crate) no_helm: bool,

    /// The GitLab Runner version whose needs are checked (MAJOR.MINOR) [default: the tag of
    /// the manager's gitlab-runner image, else the chart's appVersion, else the runner the
    /// default chart installs, as `generate` targets].
    #[arg(long, value_name = "VERSION")]
    pub(crate) runner_version: Option<String>,

    /// Exit 1 when a finding is at or above this severity [default: `fail-on` of the
    /// --config file's `[audit]` section, else high].
    #[arg(long, value_enum)]
    pub(crate) fail_on: Option<FailOn>,

    /// Run only these rules (ids, names or id prefixes such as RG1). Repeatable [default:
    /// `select` of the --config file's `[audit]` section, else every rule].
    #[arg(long, value_name = "RULE")]
    pub(crate) select: Vec<String>,

    /// Leave these rules out. Repeatable [default: `ignore` of the --config file's `[audit]`
    /// section].
    #[arg(long, value_name = "RULE")]
    pub(crate) ignore: Vec<String>,

    /// A runnerguard.toml whose `[audit]` section sets what runs (select, ignore), rule
    /// severities and fail-on; the flags above win over it (docs/config.md).
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<String>,
}

/// `--fail-on` levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum FailOn {
    /// Any finding.
    Info,
    /// Low and above.
    Low,
    /// Medium and above.
    Medium,
    /// High and above.
    High,
    /// Critical only.
    Critical,
}

/// `rules`' arguments.
#[derive(Debug, Args)]
pub(crate) struct RulesArgs {
    #[command(subcommand)]
    pub(crate) command: Option<RulesCommand>,
}

/// `rules` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum RulesCommand {
    /// Print a rule's documentation: what it flags, why it matters, how to fix, an example.
    Explain {
        /// The rule's id (RG102) or name (executor-permission-missing).
        rule: String,
    },
}

arguments! {
    /// `paths`' arguments.
    #[derive(Debug, Args)]
    pub(crate) struct PathsArgs {
        /// The subject: a user, or system:serviceaccount:NAMESPACE:NAME.
        #[arg(
            long = "as",
            value_name = "USER",
            required_unless_present = "all_service_accounts"
        )]
        pub(crate) as_user: Option<String>,

        /// Every ServiceAccount the inputs know (read, or named by a binding), each with the
        /// identities it can become (a summary; `--as` shows one subject's paths).
        #[arg(long, conflicts_with_all = ["as_user", "to"])]
        pub(crate) all_service_accounts: bool,

        ..as_groups,

        /// Show only identities in this namespace (and cluster-wide ones). With
        /// --all-service-accounts: only the ServiceAccounts of this namespace. Not used with --to,
        /// whose permission names its own namespace.
        #[arg(short = 'n', long, value_name = "NAMESPACE")]
        pub(crate) namespace: Option<String>,

        /// A permission to reach, as can-i takes it: 'VERB TYPE[/NAME] [-n NS] [--subresource S]'.
        #[arg(long, value_name = "PERMISSION")]
        pub(crate) to: Option<String>,

        ..output,

        #[command(flatten)]
        pub(crate) input: InputArgs,
    }
}

/// Where manifests come from.
#[derive(Debug, Args)]
pub(crate) struct InputArgs {
    /// Manifests to read: a file, a directory (recursive; *.yaml, *.yml, *.json, *.toml) or
    /// `-` for stdin (YAML or JSON). Repeatable. Multi-document YAML, JSON, `kind: List`, Helm
    /// values and runner config.toml (as a *.toml file) are understood.
    #[arg(short = 'f', long = "filename", value_name = "PATH")]
    pub(crate) filenames: Vec<String>,

    /// Do not add Kubernetes' default cluster roles and bindings to the inputs.
    #[arg(long)]
    pub(crate) no_default_roles: bool,
}

/// One `-o FORMAT[=FILE]` of `audit` or `diff`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Output<F = AuditFormat> {
    /// The format.
    pub(crate) format: F,
    /// The file, or stdout.
    pub(crate) file: Option<std::path::PathBuf>,
}

/// Parses `FORMAT[=FILE]` for the formats `F`; lists them for `--help` and completions.
#[derive(Clone, Debug)]
pub(crate) struct OutputParser<F = AuditFormat>(std::marker::PhantomData<F>);

impl<F> OutputParser<F> {
    pub(crate) const fn new() -> Self {
        Self(std::marker::PhantomData)
    }
}

impl<F: ValueEnum + Clone + Send + Sync + 'static> clap::builder::TypedValueParser
    for OutputParser<F>
{
    type Value = Output<F>;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Output<F>, clap::Error> {
        let text = value.to_str().ok_or_else(|| {
            clap::Error::raw(
                clap::error::ErrorKind::InvalidUtf8,
                "the output is not UTF-8\n",
            )
            .with_cmd(cmd)
        })?;
        let (name, file) = match text.split_once('=') {
            Some((name, file)) if !file.is_empty() => (name, Some(file.into())),
            Some(_) => {
                return Err(clap::Error::raw(
                    clap::error::ErrorKind::InvalidValue,
                    format!("`-o {text}` names no file after `=`\n"),
                )
                .with_cmd(cmd));
            }
            None => (text, None),
        };
        let format = clap::builder::EnumValueParser::<F>::new().parse_ref(
            cmd,
            arg,
            std::ffi::OsStr::new(name),
        )?;
        Ok(Output { format, file })
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            F::value_variants()
                .iter()
                .filter_map(ValueEnum::to_possible_value),
        ))
    }
}

/// The audit's output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum AuditFormat {
    /// Text for people.
    Human,
    /// JSON, schema version 1 (docs/json-output.md).
    Json,
    /// GitLab Code Quality JSON (docs/ci-reports.md).
    Codequality,
    /// JUnit XML, a test case per rule, and per topology for the rules that judge one
    /// (docs/ci-reports.md).
    Junit,
    /// SARIF 2.1.0, for code scanning (docs/ci-reports.md).
    Sarif,
    /// One self-contained HTML page: findings, access matrix, escalation graph
    /// (docs/html-report.md).
    Html,
}

/// `diff`'s output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum DiffFormat {
    /// Text for people: what changed, who gains what, why it fails.
    Human,
    /// JSON, schema version 1 (docs/json-output.md).
    Json,
    /// GitLab Code Quality JSON of the new side's audit: GitLab works out new and resolved
    /// issues against the target branch's report (docs/ci-reports.md).
    Codequality,
    /// JUnit XML: a test case per rule (failed when the change adds a finding at or above
    /// --fail-on) and one for the job identities' reach into the manager namespace.
    Junit,
    /// SARIF 2.1.0 of the new side's audit, each result's baselineState against the old side,
    /// and the resolved findings as absent results (docs/diff.md).
    Sarif,
    /// One self-contained HTML page: the verdict, the job identities' new ways into the
    /// manager namespace, the findings and permissions that changed, the topology and the
    /// escalation graph with what became reachable marked (docs/html-report.md).
    Html,
}

/// `diff`'s arguments.
#[derive(Debug, Args)]
pub(crate) struct DiffArgs {
    /// `OLD NEW` (a file or directory each), or with --base-ref the paths to compare with
    /// their state at that revision.
    #[arg(value_name = "PATH")]
    pub(crate) paths: Vec<String>,

    /// Read the old side from this git revision of the repository the paths live in (a
    /// branch, tag or commit: `origin/main`, `$CI_MERGE_REQUEST_DIFF_BASE_SHA`); the paths
    /// as they are now are the new side. Nothing in the working tree is touched.
    #[arg(long, value_name = "REV", conflicts_with_all = ["old", "new"])]
    pub(crate) base_ref: Option<String>,

    /// A path of the old side, when it is more than one. Repeatable; give --new too.
    #[arg(long, value_name = "PATH", requires = "new")]
    pub(crate) old: Vec<String>,

    /// A path of the new side, when it is more than one. Repeatable; give --old too.
    #[arg(long, value_name = "PATH", requires = "old")]
    pub(crate) new: Vec<String>,

    /// Do not add Kubernetes' default cluster roles and bindings to either side.
    #[arg(long)]
    pub(crate) no_default_roles: bool,

    /// Output format, and where: `FORMAT` on stdout, `FORMAT=FILE` into FILE. Repeatable, one
    /// on stdout at most [default: human].
    #[arg(short = 'o', long, value_name = "FORMAT[=FILE]", value_parser = OutputParser::<DiffFormat>::new())]
    pub(crate) output: Vec<Output<DiffFormat>>,

    #[command(flatten)]
    pub(crate) options: AuditOptions,
}

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// Text for people.
    Human,
    /// JSON, schema version 1 (docs/json-output.md).
    Json,
}

arguments! {
    #[derive(Debug, Args)]
    // `allow`, not `expect`: clippy does not look into structs a macro writes, so the lint
    // may not fire here, but it would without the macro.
    #[allow(
        clippy::struct_excessive_bools,
        reason = "kubectl's flags are booleans"
    )]
    pub(crate) struct CanIArgs {
        /// The verb, e.g. get, list, create.
        #[arg(value_name = "VERB")]
        pub(crate) verb: Option<String>,

        /// TYPE, TYPE/NAME or NONRESOURCEURL.
        #[arg(value_name = "TYPE[/NAME] | NONRESOURCEURL")]
        pub(crate) target: Option<String>,

        /// Extra arguments are an error, as in kubectl; kept to say so clearly.
        #[arg(hide = true, trailing_var_arg = true)]
        pub(crate) rest: Vec<String>,

        ..request_scope,

        /// The user to ask about, e.g. alice or system:serviceaccount:NAMESPACE:NAME.
        #[arg(long = "as", value_name = "USER")]
        pub(crate) as_user: Option<String>,

        ..as_groups,

        /// List every rule the identity holds in the namespace.
        #[arg(long)]
        pub(crate) list: bool,

        /// With human output, print nothing; the exit code is the answer.
        #[arg(short = 'q', long)]
        pub(crate) quiet: bool,

        /// With --list, print no header line.
        #[arg(long)]
        pub(crate) no_headers: bool,

        /// Say why: each granting binding → role → rule; for "no", the rules that came closest.
        #[arg(long)]
        pub(crate) explain: bool,

        /// Answer on effective permissions: also through every identity the subject can become
        /// (see `runnerguard paths`).
        #[arg(long)]
        pub(crate) effective: bool,

        ..output,

        #[command(flatten)]
        pub(crate) input: InputArgs,
    }
}

arguments! {
    #[derive(Debug, Args)]
    pub(crate) struct WhoCanArgs {
        /// The verb, e.g. get, list, create.
        #[arg(value_name = "VERB")]
        pub(crate) verb: String,

        /// TYPE, TYPE/NAME or NONRESOURCEURL.
        #[arg(value_name = "TYPE[/NAME] | NONRESOURCEURL")]
        pub(crate) target: String,

        ..request_scope,

        ..output,

        /// Print no header line.
        #[arg(long)]
        pub(crate) no_headers: bool,

        /// List subjects allowed on effective permissions: also those that can become an identity
        /// that is allowed, with the path.
        #[arg(long)]
        pub(crate) effective: bool,

        #[command(flatten)]
        pub(crate) input: InputArgs,
    }
}
