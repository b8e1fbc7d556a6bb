//! `runnerguard init` and `runnerguard generate`.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, Result, anyhow, bail};
use runnerguard_generate::{
    ConfigDiagnostic, default_config, generate, init_template, parse_config, to_stream, write_dir,
};

use crate::args::{GenerateArgs, InitArgs};
use crate::output::Out;

pub(crate) fn init(args: &InitArgs, out: &mut Out) -> Result<ExitCode> {
    if args.out == "-" {
        out.stdout().write_all(init_template().as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    }
    let path = Path::new(&args.out);
    if path.exists() && !args.force {
        bail!("`{}` exists; use --force to overwrite it", args.out);
    }
    // Write a temporary file beside it and rename, so a failure leaves nothing partial. The
    // temporary file is created new (O_EXCL): an existing file or symbolic link of that name,
    // perhaps committed to the repository, is never written through (issue #9 W1).
    let name = path
        .file_name()
        .map_or_else(|| "runnerguard.toml".into(), |n| n.to_string_lossy());
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .with_context(|| format!("cannot create `{}`", tmp.display()))?
        .write_all(init_template().as_bytes())
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot write `{}`", args.out));
    }
    out.note(&format!(
        "wrote {}; edit it, then `runnerguard generate --config {} --out setup/`",
        args.out, args.out
    ));
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn run(args: &GenerateArgs, out: &mut Out) -> Result<ExitCode> {
    let config = match &args.config {
        None => {
            out.note("no --config: the built-in default setup (`runnerguard init` writes it as a file to edit)");
            default_config()
        }
        Some(file) => {
            let text =
                std::fs::read_to_string(file).with_context(|| format!("cannot read `{file}`"))?;
            parse_config(file, &text)
                .map_err(|problems| config_problems(file, problems, "generated", out))?
        }
    };
    let files = generate(&config)?;
    match &args.out {
        None => out.stdout().write_all(to_stream(&files).as_bytes())?,
        Some(dir) => {
            let summary = write_dir(Path::new(dir), &files, args.force)?;
            out.note(&format!(
                "{dir}: {} written, {} unchanged, {} removed; next: {}",
                summary.written.len(),
                summary.unchanged.len(),
                summary.removed.len(),
                Path::new(dir).join("INSTALL.md").display()
            ));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints the problems of configuration `file`, each with the lines around it (input text
/// escaped by the diagnostic), and returns the error that ends the command: nothing was
/// `done` (`generated`, `audited`).
pub(crate) fn config_problems(
    file: &str,
    problems: Vec<ConfigDiagnostic>,
    done: &str,
    out: &mut Out,
) -> anyhow::Error {
    let n = problems.len();
    for d in problems {
        out.report(&d.into_report());
    }
    anyhow!(
        "{n} problem{} in `{file}`; nothing was {done}",
        if n == 1 { "" } else { "s" }
    )
}
