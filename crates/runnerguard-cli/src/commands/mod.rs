//! One module per subcommand, and what they share: loading the policy, building the identity
//! and the request from kubectl-style arguments.

pub(crate) mod audit;
pub(crate) mod can_i;
pub(crate) mod diff;
pub(crate) mod generate;
pub(crate) mod paths;
pub(crate) mod rules;
pub(crate) mod snapshot;
pub(crate) mod who_can;

use std::io;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use runnerguard_engine::{Action, Escalation, Policy, UserInfo, kubectl};
use runnerguard_load::{Input, load_inputs};
use runnerguard_report::answers;

use crate::args::InputArgs;
use crate::output::Out;

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
/// loader's warnings. Objects that came to repeat one another after loading (placed by `-n`,
/// rendered from a chart) are folded either way: merging the defaults does it, and without
/// them [`runnerguard_load::Loaded::deduplicate`].
pub(crate) fn policy_from_loaded(
    mut loaded: runnerguard_load::Loaded,
    no_default_roles: bool,
    out: &mut Out,
) -> Result<Policy> {
    if no_default_roles {
        loaded.deduplicate();
    } else {
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

/// Lets the process end without freeing a large policy (or an audit's findings) piece by
/// piece: the operating system takes the memory back at exit at once (on a 165k-object
/// inventory, freeing the policy took 0.14 s; its 130k findings as long again).
pub(crate) fn leak_at_exit<T>(value: T) {
    std::mem::forget(value);
}

/// Where a request is made: `-n`, `-A` and `--subresource`, as kubectl's `can-i` takes them.
pub(crate) struct RequestScope<'a> {
    /// The request's namespace: none with `-A`, `-n` when given, else `default`, the
    /// namespace kubectl uses when the context names none.
    pub(crate) namespace: String,
    all_namespaces: bool,
    subresource: Option<&'a str>,
}

impl<'a> RequestScope<'a> {
    pub(crate) fn new(
        namespace: Option<&str>,
        all_namespaces: bool,
        subresource: Option<&'a str>,
    ) -> Self {
        let namespace = if all_namespaces {
            String::new()
        } else {
            namespace.unwrap_or("default").to_owned()
        };
        Self {
            namespace,
            all_namespaces,
            subresource,
        }
    }

    /// Builds the request from `VERB` and `TYPE[/NAME] | NONRESOURCEURL` as kubectl's `can-i`
    /// parses them ([`kubectl::RequestArgs::build`]), printing kubectl's warnings.
    pub(crate) fn action(&self, verb: &str, target: &str, out: &mut Out) -> Result<Action> {
        let built = kubectl::RequestArgs {
            verb,
            target,
            namespace: &self.namespace,
            all_namespaces: self.all_namespaces,
            subresource: self.subresource,
        }
        .build()?;
        for w in &built.warnings {
            out.warn(&w.to_string());
        }
        Ok(built.action)
    }
}

/// `can-i --effective` and `paths --to`: whether `user`, or an identity it can become, may
/// perform `action`, written by `write`; the exit code is the answer.
pub(crate) fn effective(
    policy: &Policy,
    escalation: &Escalation<'_>,
    user: &UserInfo,
    action: &Action,
    write: impl FnOnce(&answers::Effective<'_>) -> io::Result<()>,
) -> Result<ExitCode> {
    let decision = escalation.authorize(user, action);
    write(&answers::Effective {
        policy,
        user,
        action,
        decision: &decision,
    })?;
    Ok(answer_code(decision.allowed))
}

/// The exit code of a yes-or-no answer, as kubectl's `can-i` gives it: 0 yes, 1 no.
pub(crate) fn answer_code(allowed: bool) -> ExitCode {
    if allowed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// `runnerguard completions SHELL`: the completion script for the whole command line.
pub(crate) fn completions(shell: clap_complete::Shell, out: &mut Out) -> Result<ExitCode> {
    let mut command = <crate::args::Cli as clap::CommandFactory>::command();
    // Into memory first: clap_complete panics when its writer fails (a closed pipe).
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "runnerguard", &mut script);
    out.stdout().write_all(&script)?;
    Ok(ExitCode::SUCCESS)
}

/// `runnerguard man`: the man page, from the same definitions as `--help`.
pub(crate) fn man(out: &mut Out) -> Result<ExitCode> {
    let command = <crate::args::Cli as clap::CommandFactory>::command()
        .long_version(crate::args::long_version());
    clap_mangen::Man::new(command).render(out.stdout())?;
    Ok(ExitCode::SUCCESS)
}

/// Writes `path` whole or not at all, with permissions `mode`: streamed by `write` into a
/// temporary file beside it, renamed over it once written (a large report is never held
/// whole in memory, and a failed run leaves the old file).
pub(crate) fn write_file(
    path: &std::path::Path,
    mode: u32,
    write: impl FnOnce(&mut dyn io::Write) -> Result<()>,
) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => std::path::Path::new("."),
    };
    let mut file = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in `{}`", dir.display()))?;
    {
        let mut w = io::BufWriter::new(file.as_file_mut());
        write(&mut w)
            .and_then(|()| io::Write::flush(&mut w).map_err(Into::into))
            .with_context(|| format!("cannot write `{}`", path.display()))?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        file.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("cannot write `{}`", path.display()))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    file.persist(path)
        .with_context(|| format!("cannot write `{}`", path.display()))?;
    Ok(())
}
