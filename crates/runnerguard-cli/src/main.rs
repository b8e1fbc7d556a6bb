//! `runnerguard`: prove GitLab Runner on Kubernetes is isolated, and answer RBAC questions
//! offline with the Kubernetes authorizer's exact semantics.
//!
//! This crate is the only one that prints: it parses arguments (args.rs), runs one command
//! (commands/), and maps the outcome to an exit code: 0 yes / clean, 1 no / findings, 2 error.

mod args;
mod commands;
mod output;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use crate::args::{Cli, Command};
use crate::output::Out;

fn main() -> ExitCode {
    let mut out = Out::new();
    let command = Cli::command().long_version(args::long_version());
    let parsed = command
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            // A usage error quotes the argument refused, which may be a file name from the
            // merge request: printed plain, escaped line by line (issue #9, T1).
            out.usage_error(&e.render().to_string());
            return ExitCode::from(2);
        }
        Err(e) => {
            // Help and version: clap prints them itself.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
    };
    let result = match &cli.command {
        Command::Audit(args) => commands::audit::run(args, &mut out),
        Command::Init(args) => commands::generate::init(args, &mut out),
        Command::Generate(args) => commands::generate::run(args, &mut out),
        Command::CanI(args) => commands::can_i::run(args, &mut out),
        Command::Paths(args) => commands::paths::run(args, &mut out),
        Command::Rules(args) => commands::rules::run(args, &mut out),
        Command::Snapshot(args) => commands::snapshot::run(args, &mut out),
        Command::Diff(args) => commands::diff::run(args, &mut out),
        Command::WhoCan(args) => commands::who_can::run(args, &mut out),
        Command::Completions(args) => commands::completions(args.shell, &mut out),
        Command::Man => commands::man(&mut out),
    };
    let flushed = out.flush();
    match (result, flushed) {
        (Ok(code), Ok(())) => code,
        (Err(e), _) => report(e, &mut out),
        (Ok(_), Err(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        (Ok(_), Err(e)) => {
            out.error(&format!("cannot write output: {e}"));
            ExitCode::from(2)
        }
    }
}

/// Prints an error with its causes and returns exit code 2; a closed pipe is not an error.
fn report(e: anyhow::Error, out: &mut Out) -> ExitCode {
    if let Some(io) = e.downcast_ref::<std::io::Error>()
        && io.kind() == std::io::ErrorKind::BrokenPipe
    {
        return ExitCode::SUCCESS;
    }
    let e = match e.downcast::<runnerguard_load::Error>() {
        Ok(runnerguard_load::Error::Invalid(diagnostics, more)) => {
            let n = diagnostics.len() + more;
            // Each diagnostic names file:line:column and what was expected, with a snippet.
            for d in diagnostics {
                out.report(&miette::Report::new(d));
            }
            if more > 0 {
                out.note(&format!(
                    "{more} more problem{} not shown (the first {} are)",
                    if more == 1 { "" } else { "s" },
                    runnerguard_load::MAX_DIAGNOSTICS
                ));
            }
            out.error(&format!(
                "{n} malformed input{}; nothing was evaluated",
                if n == 1 { "" } else { "s" }
            ));
            return ExitCode::from(2);
        }
        Ok(other) => anyhow::Error::new(other),
        Err(e) => e,
    };
    out.error(&error_message(&e));
    ExitCode::from(2)
}

/// The error and its causes on one line, `: `-joined, with the input they quote (file names,
/// arguments, names) escaped so that a newline or an ESC in it is shown, not acted on (issue
/// #9, T1). A message written as a literal in the program (`bail!("...")`, `.context("...")`:
/// anyhow keeps it as a `&'static str`) holds no input and keeps its own line breaks, such as
/// the hint kubectl prints under a usage error.
fn error_message(e: &anyhow::Error) -> String {
    let mut message = match e.downcast_ref::<&'static str>() {
        Some(text) => (*text).to_owned(),
        None => runnerguard_report::escape(&e.to_string()).into_owned(),
    };
    for cause in e.chain().skip(1) {
        message.push_str(": ");
        message.push_str(&runnerguard_report::escape(&cause.to_string()));
    }
    message
}

#[cfg(test)]
mod tests {
    use anyhow::{Context as _, anyhow};

    use super::error_message;

    #[test]
    fn error_messages_escape_input_but_not_program_text() {
        // A literal keeps its line break: kubectl's usage error and its hint.
        let e = anyhow!("you must specify two arguments\nSee 'runnerguard can-i -h'");
        assert_eq!(
            error_message(&e),
            "you must specify two arguments\nSee 'runnerguard can-i -h'"
        );
        // A formatted message quotes input: escaped.
        let e = anyhow!("unknown rule `{}`", "RB001\x1b[2K\nerror: fake");
        assert_eq!(
            error_message(&e),
            r"unknown rule `RB001\u{1b}[2K\nerror: fake`"
        );
        // A literal context over a cause that quotes input: the cause is escaped.
        let cause: Result<(), _> = Err(anyhow!("cannot read `{}`", "a\rb"));
        let e = cause.context("loading").unwrap_err();
        assert_eq!(error_message(&e), r"loading: cannot read `a\rb`");
        let cause: Result<(), _> = Err(std::io::Error::other("x\u{202e}y"));
        let e = cause
            .with_context(|| format!("cannot read `{}`", "f\n"))
            .unwrap_err();
        assert_eq!(error_message(&e), r"cannot read `f\n`: x\u{202e}y");
    }
}
