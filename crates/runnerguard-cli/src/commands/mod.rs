//! One module per subcommand, and what they share: loading the policy, building the identity
//! and the request from kubectl-style arguments.

pub(crate) mod audit;
pub(crate) mod can_i;
pub(crate) mod generate;
pub(crate) mod paths;
pub(crate) mod rules;
pub(crate) mod who_can;

use anyhow::{Context as _, Result, bail};
use runnerguard_engine::{Action, Policy};
use runnerguard_load::{Input, load_inputs};
use runnerguard_model::resolve_resource;

use crate::args::InputArgs;
use crate::output::Out;

/// The verbs `kubectl auth can-i` knows for resources (cani.go `resourceVerbs`, with `approve`,
/// `sign` and `escalate` added in Kubernetes 1.31).
const RESOURCE_VERBS: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
    "use",
    "bind",
    "impersonate",
    "approve",
    "sign",
    "escalate",
    "*",
];

/// The verbs kubectl knows for non-resource URLs (cani.go `nonResourceURLVerbs`).
const NON_RESOURCE_VERBS: &[&str] = &[
    "get", "put", "post", "head", "options", "delete", "patch", "*",
];

/// The resource names kubectl passes through without warning (cani.go
/// `nonStandardResourceNames`, plus the impersonation resources of authentication.k8s.io).
const NON_STANDARD_RESOURCES: &[&str] = &["users", "groups", "uids", "userextras"];

/// Reads the inputs and indexes them, with the default cluster policy unless turned off.
/// Warnings go to stderr (as kubectl's do, `-q` only silences stdout).
pub(crate) fn load_policy(input: &InputArgs, out: &mut Out) -> Result<Policy> {
    let inputs: Vec<Input> = input.filenames.iter().map(|f| Input::parse(f)).collect();
    let policy = load_policy_from(&inputs, input.no_default_roles, out)?;
    if inputs.is_empty() {
        if input.no_default_roles {
            out.note("no -f given and --no-default-roles: nothing grants anything");
        } else {
            out.note(
                "no -f given: answering from Kubernetes' default cluster roles and bindings only",
            );
        }
    }
    Ok(policy)
}

/// [`load_policy`] on inputs already parsed (the audit adds `--values` files to them).
pub(crate) fn load_policy_from(
    inputs: &[Input],
    no_default_roles: bool,
    out: &mut Out,
) -> Result<Policy> {
    let loaded = if inputs.is_empty() {
        runnerguard_load::Loaded::default()
    } else {
        load_inputs(inputs)?
    };
    policy_from_loaded(loaded, no_default_roles, out)
}

/// Indexes what was loaded, with the default cluster policy unless turned off, printing the
/// loader's warnings.
pub(crate) fn policy_from_loaded(
    mut loaded: runnerguard_load::Loaded,
    no_default_roles: bool,
    out: &mut Out,
) -> Result<Policy> {
    if !no_default_roles {
        loaded
            .add_default_policy()
            .context("loading the default cluster policy")?;
    }
    for w in &loaded.warnings {
        // File names and quoted names are input: `warn` escapes them (issue #9, T1).
        out.warn(&w.to_string());
    }
    Ok(Policy::new(loaded.inventory))
}

/// Lets the process end without freeing a large policy piece by piece: the operating system
/// takes the memory back at exit at once (on a 165k-object inventory, freeing took 0.14 s).
pub(crate) fn leak_at_exit(policy: Policy) {
    std::mem::forget(policy);
}

/// The namespace a request is made in: none with `-A`, `-n` when given, else `default`, the
/// namespace kubectl uses when the context names none.
pub(crate) fn request_namespace(namespace: Option<&str>, all: bool) -> String {
    if all {
        String::new()
    } else {
        namespace.unwrap_or("default").to_owned()
    }
}

/// Builds the request from `VERB` and `TYPE[/NAME] | NONRESOURCEURL`, as kubectl's
/// `can-i` parses them (cani.go `Complete` and `Validate`), printing kubectl's warnings.
///
/// One deliberate difference: kubectl sends `-n` (or the context's namespace) whatever the
/// resource, so for a built-in cluster-scoped resource (nodes, namespaces, clusterroles, ...) a
/// RoleBinding in that namespace can make it answer "yes" to a request the API server would
/// never allow, and "no" to `delete namespaces/NAME` that a RoleBinding in NAME allows. Here
/// the namespace is the one of the request the API server authorizes
/// ([`Action::request`]): none for a cluster-scoped resource, so only ClusterRoleBindings
/// count, except that a Namespace addressed by name is in itself (issue #8, point 9).
pub(crate) fn build_action(
    verb: &str,
    target: &str,
    namespace: &str,
    all_namespaces: bool,
    subresource: Option<&str>,
    out: &mut Out,
) -> Result<Action> {
    let subresource = subresource.unwrap_or_default();
    if target.starts_with('/') {
        if !subresource.is_empty() {
            bail!("--subresource can not be used with NonResourceURL");
        }
        if !NON_RESOURCE_VERBS.contains(&verb) {
            out.warn(&format!("verb '{verb}' is not a known verb"));
        }
        return Ok(Action::non_resource(verb, target));
    }
    let (type_arg, name) = target.split_once('/').unwrap_or((target, ""));
    if type_arg.is_empty() {
        bail!("you must specify a resource type before `/` in `{target}`");
    }
    let resolved = resolve_resource(type_arg);
    if resolved.known.is_none() && !NON_STANDARD_RESOURCES.contains(&resolved.resource.as_str()) {
        if resolved.group.is_empty() {
            out.warn(&format!(
                "the server doesn't have a resource type '{}' (not a built-in kind; used as given)",
                resolved.resource
            ));
        } else {
            out.warn(&format!(
                "the server doesn't have a resource type '{}' in group '{}' (not a built-in kind; used as given)",
                resolved.resource, resolved.group
            ));
        }
    }
    if !all_namespaces && !RESOURCE_VERBS.contains(&verb) {
        out.warn(&format!("verb '{verb}' is not a known verb"));
    }
    let action = Action::request(
        verb,
        namespace,
        &resolved.group,
        &resolved.resource,
        subresource,
        name,
    );
    if let Some(known) = resolved.known
        && !known.namespaced
    {
        // kubectl warns unless `-A` (cani.go); runnerguard also says where it asks instead.
        let group = if known.group.is_empty() {
            String::new()
        } else {
            format!(" in group '{}'", known.group)
        };
        if !action.namespace.is_empty() {
            // Said with `-A` too: kubectl would ask cluster-wide and answer differently.
            out.warn(&format!(
                "resource '{}' is not namespace scoped{group}: asking in namespace '{ns}', as the API server does for a request on Namespace '{ns}' (RoleBindings there apply)",
                known.resource,
                ns = action.namespace
            ));
        } else if !namespace.is_empty() {
            out.warn(&format!(
                "resource '{}' is not namespace scoped{group}: asking cluster-wide, where only ClusterRoleBindings apply",
                known.resource
            ));
        }
    }
    Ok(action)
}
