//! Inputs as they were at a git revision (`runnerguard diff --base-ref REV`): the files under
//! each path, read from the repository's object database with the `git` binary, never
//! through a checkout, so the working tree and the index are not touched.
//!
//! Each file is named as it would be read from the working tree (`deploy/values.yaml`), so
//! that findings of both sides name the same files. What is read is what `-f PATH` reads:
//! `*.yaml`, `*.yml`, `*.json` and `*.toml` files, directories recursively; symbolic links
//! and submodules are not followed (git stores a link as its target's name). Each file is
//! held to the same size limit as a file on disk.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::input::{is_manifest, too_large};
use crate::{Error, Input, Result, limits};

/// The inputs at `rev` for each of `paths` (files or directories in a git work tree), and a
/// note per path with no file at `rev` (it was added since). `git` is `$RUNNERGUARD_GIT`,
/// else `git` on `PATH`.
pub fn inputs_at(rev: &str, paths: &[String]) -> Result<(Vec<Input>, Vec<String>)> {
    let git =
        std::env::var_os("RUNNERGUARD_GIT").map_or_else(|| PathBuf::from("git"), PathBuf::from);
    let mut inputs = Vec::new();
    let mut notes = Vec::new();
    for path in paths {
        let given = Path::new(path);
        let dir = if given.is_dir() {
            given.to_path_buf()
        } else {
            match given.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            }
        };
        let top = git_text(&git, &dir, &["rev-parse", "--show-toplevel"], path)?;
        let prefix = git_text(&git, &dir, &["rev-parse", "--show-prefix"], path)?;
        let commit = git_text(
            &git,
            &dir,
            &["rev-parse", "--verify", "--quiet", "--end-of-options", &format!("{rev}^{{commit}}")],
            path,
        )
        .map_err(|_| Error::Io {
            path: path.clone(),
            message: format!(
                "`{rev}` is not a commit of the repository at `{top}` (a shallow clone may lack it: fetch it, e.g. `git fetch --depth=1 origin {rev}`)"
            ),
        })?;
        // The path inside the repository: the directory's prefix, and the file name.
        let mut in_repo = prefix.clone();
        if !given.is_dir()
            && let Some(name) = given.file_name()
        {
            in_repo.push_str(&name.to_string_lossy());
        }
        let in_repo = in_repo.trim_end_matches('/').to_owned();
        let entries = tree_entries(&git, Path::new(&top), &commit, &in_repo, path)?;
        if entries.is_empty() {
            notes.push(format!(
                "`{path}` has no manifest at {rev}: the old side has nothing there"
            ));
            continue;
        }
        let limit = limits::MAX_FILE_BYTES.get();
        if let Some(big) = entries.iter().find(|e| e.size > limit) {
            let name = name_for(path, given.is_dir(), &in_repo, &big.path);
            return Err(too_large(Path::new(&format!("{name} at {rev}")), limit));
        }
        let texts = blobs(&git, Path::new(&top), &entries, path)?;
        for (entry, bytes) in entries.iter().zip(texts) {
            let name = name_for(path, given.is_dir(), &in_repo, &entry.path);
            inputs.push(Input::Bytes { name, bytes });
        }
    }
    Ok((inputs, notes))
}

/// How a file of the tree is named: as `-f PATH` would name it in the working tree.
fn name_for(given: &str, is_dir: bool, in_repo: &str, entry: &str) -> String {
    if !is_dir {
        return given.to_owned();
    }
    let rest = entry
        .strip_prefix(in_repo)
        .unwrap_or(entry)
        .trim_start_matches('/');
    Path::new(given).join(rest).display().to_string()
}

/// One blob of the tree.
struct Entry {
    oid: String,
    size: usize,
    path: String,
}

/// The manifest files at `path` (a file or directory, repository-relative) in `commit`.
fn tree_entries(
    git: &Path,
    top: &Path,
    commit: &str,
    path: &str,
    given: &str,
) -> Result<Vec<Entry>> {
    let mut args = vec!["ls-tree", "-r", "-z", "-l", "--full-tree", commit];
    if !path.is_empty() {
        args.extend(["--", path]);
    }
    let out = run(git, top, &args, given)?;
    let mut entries = Vec::new();
    for record in out.split(|&b| b == 0).filter(|r| !r.is_empty()) {
        let record = String::from_utf8_lossy(record);
        // `<mode> SP <type> SP <object> SP+ <size> TAB <path>`
        let Some((meta, file)) = record.split_once('\t') else {
            continue;
        };
        let fields: Vec<&str> = meta.split_whitespace().collect();
        let [mode, kind, oid, size] = fields[..] else {
            continue;
        };
        // Regular files only: a link (120000) holds its target's name, a submodule (commit)
        // is another repository.
        if kind != "blob" || mode == "120000" || !is_manifest(Path::new(file)) {
            continue;
        }
        // `path` names a file or a directory: a file of the same prefix (`a.yaml2`) is not it.
        if !path.is_empty() && file != path && !file.starts_with(&format!("{path}/")) {
            continue;
        }
        entries.push(Entry {
            oid: oid.to_owned(),
            size: size.parse().unwrap_or(usize::MAX),
            path: file.to_owned(),
        });
    }
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(entries)
}

/// The contents of `entries`, through one `git cat-file --batch`.
fn blobs(git: &Path, top: &Path, entries: &[Entry], given: &str) -> Result<Vec<Vec<u8>>> {
    let io = |e: std::io::Error| Error::Io {
        path: given.to_owned(),
        message: format!("running git: {e}"),
    };
    let mut child = Command::new(git)
        .args(["cat-file", "--batch"])
        .current_dir(top)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(io)?;
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| io(std::io::Error::other("no stdin")))?;
    let mut oids = String::new();
    for e in entries {
        oids.push_str(&e.oid);
        oids.push('\n');
    }
    // Written from another thread: git answers while it reads, and a full pipe both ways
    // would stop both.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(oids.as_bytes());
    });
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| io(std::io::Error::other("no stdout")))?;
    let mut reader = BufReader::new(stdout);
    let mut out = Vec::with_capacity(entries.len());
    for entry in entries {
        let mut header = String::new();
        reader.read_line(&mut header).map_err(io)?;
        // `<oid> SP <type> SP <size> LF <contents> LF`
        let size: usize = header
            .split_whitespace()
            .nth(2)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| Error::Io {
                path: given.to_owned(),
                message: format!("git could not read `{}`: {}", entry.path, header.trim()),
            })?;
        let mut bytes = vec![0; size];
        reader.read_exact(&mut bytes).map_err(io)?;
        let mut newline = [0u8; 1];
        reader.read_exact(&mut newline).map_err(io)?;
        out.push(bytes);
    }
    let _ = writer.join();
    let _ = child.wait();
    Ok(out)
}

/// Runs git in `dir`, its standard output as text without the final newline.
fn git_text(git: &Path, dir: &Path, args: &[&str], given: &str) -> Result<String> {
    let out = run(git, dir, args, given)?;
    Ok(String::from_utf8_lossy(&out)
        .trim_end_matches('\n')
        .to_owned())
}

/// Runs git in `dir`; a failure is an error naming `given` and git's message.
fn run(git: &Path, dir: &Path, args: &[&str], given: &str) -> Result<Vec<u8>> {
    let out = Command::new(git)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::Io {
            path: given.to_owned(),
            message: format!(
                "cannot run `{}` ({e}): --base-ref needs git (or $RUNNERGUARD_GIT)",
                git.display()
            ),
        })?;
    if !out.status.success() {
        let message = String::from_utf8_lossy(&out.stderr);
        let message = message.lines().next().unwrap_or("failed").trim().to_owned();
        return Err(Error::Io {
            path: given.to_owned(),
            message: format!("git {}: {message}", args.first().copied().unwrap_or("")),
        });
    }
    Ok(out.stdout)
}
