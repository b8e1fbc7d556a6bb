//! runnerguard installs and behaves like a tool of its ecosystem: shell completions and a man
//! page generated from the same definitions as `--help`, `--version` naming the embedded data,
//! and the binary working as a kubectl plugin through a real kubectl.

use std::path::PathBuf;
use std::process::Command;

use super::{root, run};

#[test]
fn completions_for_every_shell_know_the_commands_and_the_audit_formats() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let r = run(&["completions", shell]);
        assert_eq!(r.code, 0, "{shell}: {}", r.stderr);
        for word in ["audit", "can-i", "who-can", "paths", "codequality"] {
            assert!(r.stdout.contains(word), "{shell} completion lacks {word}");
        }
    }
    // The bash script is valid bash.
    let r = run(&["completions", "bash"]);
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("runnerguard.bash");
    std::fs::write(&script, &r.stdout).unwrap();
    let check = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let r = run(&["completions", "tcsh"]);
    assert_eq!(r.code, 2, "an unknown shell is a usage error");
}

#[test]
fn the_man_page_is_roff_with_every_command() {
    let r = run(&["man"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains(".TH runnerguard 1"), "{:.200}", r.stdout);
    for section in [".SH NAME", ".SH SYNOPSIS", ".SH SUBCOMMANDS", ".SH VERSION"] {
        assert!(r.stdout.contains(section), "no {section}");
    }
    for command in ["audit", "can\\-i", "who\\-can", "generate", "completions"] {
        assert!(
            r.stdout.contains(&format!("runnerguard\\-{command}")),
            "no {command}"
        );
    }
    // The version section names the embedded data, as --version does.
    assert!(r.stdout.contains("Kubernetes default RBAC policy"));
}

#[test]
fn version_names_the_embedded_data() {
    let r = run(&["--version"]);
    assert_eq!(r.code, 0);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(
        lines[0],
        format!("runnerguard {}", env!("CARGO_PKG_VERSION"))
    );
    assert!(
        lines[1].starts_with("Kubernetes default RBAC policy: v1."),
        "{lines:?}"
    );
    assert!(
        lines[2].starts_with("gitlab-runner charts: 0.77.2 to "),
        "{lines:?}"
    );
    assert!(
        lines[3].starts_with("GitLab Runner executor needs: 17.0 to "),
        "{lines:?}"
    );
    // -V stays one line, as clap's short version.
    let r = run(&["-V"]);
    assert_eq!(
        r.stdout.trim(),
        format!("runnerguard {}", env!("CARGO_PKG_VERSION"))
    );
}

/// The kubectl in `RUNNERGUARD_KUBECTL`, else the one scripts/install-tools.sh installs.
fn kubectl() -> Option<PathBuf> {
    std::env::var_os("RUNNERGUARD_KUBECTL")
        .map(PathBuf::from)
        .or_else(|| Some(root().join("target/tools/bin/kubectl")))
        .filter(|p| p.is_file())
}

#[test]
fn kubectl_runnerguard_audit_works_through_a_real_kubectl() {
    let Some(kubectl) = kubectl() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "kubectl is required in CI (scripts/install-tools.sh)"
        );
        eprintln!("skipped: no kubectl (set RUNNERGUARD_KUBECTL or run scripts/install-tools.sh)");
        return;
    };
    // kubectl finds plugins as `kubectl-NAME` on PATH.
    let bin = tempfile::tempdir().unwrap();
    let plugin = bin.path().join("kubectl-runnerguard");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_runnerguard"), &plugin).unwrap();
    let out = Command::new(&kubectl)
        .args(["runnerguard", "audit", "-f", "examples/seed/"])
        .current_dir(root())
        .env("PATH", bin.path())
        .env("NO_COLOR", "1")
        // As `run` does: values rendered by the built-in model, not a helm CI provides.
        .env_remove("RUNNERGUARD_HELM")
        .env("KUBECONFIG", bin.path().join("none"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let direct = run(&["audit", "-f", "examples/seed/"]);
    assert_eq!(
        stdout, direct.stdout,
        "the plugin answers as the binary does"
    );
    // kubectl lists it among its plugins.
    let list = Command::new(&kubectl)
        .args(["plugin", "list", "--name-only"])
        .env("PATH", bin.path())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&list.stdout).contains("kubectl-runnerguard"));
}
