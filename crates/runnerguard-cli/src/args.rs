//! Command-line arguments, exactly as clap parses them. Commands turn them into validated
//! options; libraries never see these types.

use clap::{Args, Parser, Subcommand, ValueEnum};

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
}

/// Where manifests come from.
#[derive(Debug, Args)]
pub(crate) struct InputArgs {
    /// Manifests to read: a file, a directory (recursive; *.yaml, *.yml, *.json) or `-` for
    /// stdin. Repeatable. Multi-document YAML, JSON and `kind: List` are understood.
    #[arg(short = 'f', long = "filename", value_name = "PATH")]
    pub(crate) filenames: Vec<String>,

    /// Do not add Kubernetes' default cluster roles and bindings to the inputs.
    #[arg(long)]
    pub(crate) no_default_roles: bool,
}

/// Output formats of can-i and who-can.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// Text for people.
    Human,
    /// JSON, schema version 1 (docs/json-output.md).
    Json,
}

#[derive(Debug, Args)]
#[expect(
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

    /// The namespace of the request.
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    pub(crate) namespace: Option<String>,

    /// Ask about all namespaces at once: only cluster-wide grants (ClusterRoleBindings) count.
    #[arg(short = 'A', long, conflicts_with = "namespace")]
    pub(crate) all_namespaces: bool,

    /// The subresource, e.g. exec, log, status, token.
    #[arg(long, value_name = "SUBRESOURCE")]
    pub(crate) subresource: Option<String>,

    /// The user to ask about, e.g. alice or system:serviceaccount:NAMESPACE:NAME.
    #[arg(long = "as", value_name = "USER")]
    pub(crate) as_user: Option<String>,

    /// A group of that user. Repeatable. Replaces the groups a ServiceAccount gets by default.
    #[arg(long = "as-group", value_name = "GROUP")]
    pub(crate) as_groups: Vec<String>,

    /// List every rule the identity holds in the namespace.
    #[arg(long)]
    pub(crate) list: bool,

    /// Print nothing; the exit code is the answer.
    #[arg(short = 'q', long)]
    pub(crate) quiet: bool,

    /// With --list, print no header line.
    #[arg(long)]
    pub(crate) no_headers: bool,

    /// Say why: each granting binding → role → rule; for "no", the rules that came closest.
    #[arg(long)]
    pub(crate) explain: bool,

    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Format::Human)]
    pub(crate) output: Format,

    #[command(flatten)]
    pub(crate) input: InputArgs,
}

#[derive(Debug, Args)]
pub(crate) struct WhoCanArgs {
    /// The verb, e.g. get, list, create.
    #[arg(value_name = "VERB")]
    pub(crate) verb: String,

    /// TYPE, TYPE/NAME or NONRESOURCEURL.
    #[arg(value_name = "TYPE[/NAME] | NONRESOURCEURL")]
    pub(crate) target: String,

    /// The namespace of the request.
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    pub(crate) namespace: Option<String>,

    /// Ask about all namespaces at once: only cluster-wide grants (ClusterRoleBindings) count.
    #[arg(short = 'A', long, conflicts_with = "namespace")]
    pub(crate) all_namespaces: bool,

    /// The subresource, e.g. exec, log, status, token.
    #[arg(long, value_name = "SUBRESOURCE")]
    pub(crate) subresource: Option<String>,

    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Format::Human)]
    pub(crate) output: Format,

    /// Print no header line.
    #[arg(long)]
    pub(crate) no_headers: bool,

    #[command(flatten)]
    pub(crate) input: InputArgs,
}
