//! End-to-end tests of the `runnerguard` binary: stdout, stderr and exit code, snapshotted.
//!
//! Commands run from the workspace root so that file names in the output are the stable,
//! relative ones a user would type (`examples/seed/...`).

#![allow(
    clippy::unwrap_used,
    reason = "test helpers fail the test on any error"
)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

const MANAGER: &str = "system:serviceaccount:gitlab-runner:gitlab-runner";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// The three streams as one snapshot.
    fn snapshot(&self) -> String {
        format!(
            "exit: {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

fn run_with_stdin(args: &[&str], stdin: Option<&str>) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_runnerguard"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        // Values are rendered with the built-in model unless a test passes --helm: the
        // snapshots must not depend on whether helm is installed.
        .env_remove("RUNNERGUARD_HELM")
        .env("PATH", "")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn run(args: &[&str]) -> Run {
    run_with_stdin(args, None)
}

mod audit;
mod can_i;
mod codequality;
mod component;
mod config;
mod decode;
mod diff;
mod diff_reports;
mod errors;
mod generate;
mod hostile;
mod hostile_write;
mod html;
mod junit;
mod leaks;
mod namespaces;
mod paths;
mod render;
mod sarif;
mod schema;
mod terminal;
mod tool;
mod who_can;
