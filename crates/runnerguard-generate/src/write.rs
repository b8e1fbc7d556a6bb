//! Writing a setup to a directory: never over a file runnerguard did not write (unless
//! forced), never half-written.
//!
//! A marker file, [`MARKER`], lists the paths the last run wrote; those are the files a later
//! run may replace (or remove, when the configuration no longer produces them). A new
//! directory is written whole under a temporary name and renamed into place; in an existing
//! one each file is written to a temporary file beside it and renamed over the old one, and
//! the marker goes last, so an interrupted run leaves every file either old or new.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::{GenerateError, GeneratedFile};

/// The marker file in an output directory: one generated path per line, after a comment.
pub const MARKER: &str = ".runnerguard-generated";

const MARKER_HEADER: &str =
    "# Files written by `runnerguard generate`; it replaces only these. Do not edit.\n";

/// What [`write_dir`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriteSummary {
    /// Files created or changed.
    pub written: Vec<String>,
    /// Files that already had the generated contents.
    pub unchanged: Vec<String>,
    /// Files an earlier run generated that this configuration no longer produces.
    pub removed: Vec<String>,
}

fn io(path: &Path, e: &std::io::Error) -> GenerateError {
    GenerateError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// The paths an earlier run wrote into `dir`, from its marker.
fn owned(dir: &Path) -> Result<BTreeSet<String>, GenerateError> {
    let marker = dir.join(MARKER);
    match fs::read_to_string(&marker) {
        Ok(text) => Ok(text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_owned)
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeSet::new()),
        Err(e) => Err(io(&marker, &e)),
    }
}

/// `path` below `dir`, refusing anything that could leave it.
fn target(dir: &Path, path: &str) -> Result<PathBuf, GenerateError> {
    let rel = Path::new(path);
    let safe = !path.is_empty()
        && rel
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
    if safe {
        Ok(dir.join(rel))
    } else {
        Err(GenerateError::Io {
            path: path.to_owned(),
            message: "not a relative path inside the output directory".to_owned(),
        })
    }
}

fn marker_text(files: &[GeneratedFile]) -> String {
    let mut text = String::from(MARKER_HEADER);
    for f in files {
        text.push_str(&f.path);
        text.push('\n');
    }
    text
}

/// Writes `contents` to `path` through a temporary file beside it and a rename.
fn write_atomic(path: &Path, contents: &str) -> Result<(), GenerateError> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    fs::create_dir_all(dir).map_err(|e| io(dir, &e))?;
    let mut tmp = tempfile_in(dir, path)?;
    tmp.1
        .write_all(contents.as_bytes())
        .and_then(|()| tmp.1.sync_all())
        .map_err(|e| io(&tmp.0, &e))?;
    drop(tmp.1);
    fs::rename(&tmp.0, path).map_err(|e| {
        let _ = fs::remove_file(&tmp.0);
        io(path, &e)
    })
}

/// A new file next to `path`, with a name no one else uses.
fn tempfile_in(dir: &Path, path: &Path) -> Result<(PathBuf, fs::File), GenerateError> {
    let base = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    for i in 0..1000u32 {
        let candidate = dir.join(format!(".{base}.{}.{i}.tmp", std::process::id()));
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&candidate)
        {
            Ok(f) => return Ok((candidate, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io(&candidate, &e)),
        }
    }
    Err(GenerateError::Io {
        path: dir.display().to_string(),
        message: "cannot create a temporary file".to_owned(),
    })
}

/// Writes `files` into `dir`, with the marker [`MARKER`].
///
/// Refuses, writing nothing, when a file of `files` exists in `dir` with other contents and
/// the marker does not list it (someone else's file), unless `force`. Files the marker lists
/// that `files` no longer has are removed. A `dir` that does not exist is created whole and
/// renamed into place; otherwise each file is replaced atomically.
pub fn write_dir(
    dir: &Path,
    files: &[GeneratedFile],
    force: bool,
) -> Result<WriteSummary, GenerateError> {
    let mut summary = WriteSummary::default();
    let targets: Vec<PathBuf> = files
        .iter()
        .map(|f| target(dir, &f.path))
        .collect::<Result<_, _>>()?;

    if !dir.exists() {
        return write_new(dir, files, &targets);
    }
    if !dir.is_dir() {
        return Err(GenerateError::Io {
            path: dir.display().to_string(),
            message: "exists and is not a directory".to_owned(),
        });
    }
    let owned = owned(dir)?;
    let mut conflicts = Vec::new();
    let mut changed = Vec::new();
    for (f, path) in files.iter().zip(&targets) {
        match fs::read(path) {
            Ok(old) if old == f.contents.as_bytes() => summary.unchanged.push(f.path.clone()),
            Ok(_) => {
                if !owned.contains(&f.path) && !force {
                    conflicts.push(f.path.clone());
                }
                changed.push((f, path));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => changed.push((f, path)),
            Err(e) if path.is_dir() => {
                let _ = e;
                conflicts.push(f.path.clone());
            }
            Err(e) => return Err(io(path, &e)),
        }
    }
    if !conflicts.is_empty() {
        return Err(GenerateError::Conflict {
            dir: dir.display().to_string(),
            paths: conflicts,
        });
    }
    for (f, path) in changed {
        write_atomic(path, &f.contents)?;
        summary.written.push(f.path.clone());
    }
    let now: BTreeSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    for old in owned.iter().filter(|o| !now.contains(o.as_str())) {
        let Ok(path) = target(dir, old) else {
            continue;
        };
        match fs::remove_file(&path) {
            Ok(()) => summary.removed.push(old.clone()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(&path, &e)),
        }
        // Leave directories that are now empty tidy; keep any that hold other files.
        if let Some(parent) = path.parent()
            && parent != dir
        {
            let _ = fs::remove_dir(parent);
        }
    }
    write_atomic(&dir.join(MARKER), &marker_text(files))?;
    Ok(summary)
}

/// Writes a new directory under a temporary name beside `dir`, then renames it into place.
fn write_new(
    dir: &Path,
    files: &[GeneratedFile],
    targets: &[PathBuf],
) -> Result<WriteSummary, GenerateError> {
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(|e| io(&parent, &e))?;
    let name = dir
        .file_name()
        .map_or_else(|| "out".to_owned(), |n| n.to_string_lossy().into_owned());
    let mut staging = None;
    for i in 0..1000u32 {
        let candidate = parent.join(format!(".{name}.{}.{i}.tmp", std::process::id()));
        match fs::create_dir(&candidate) {
            Ok(()) => {
                staging = Some(candidate);
                break;
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io(&candidate, &e)),
        }
    }
    let staging = staging.ok_or_else(|| GenerateError::Io {
        path: parent.display().to_string(),
        message: "cannot create a temporary directory".to_owned(),
    })?;
    let result = (|| {
        for (f, path) in files.iter().zip(targets) {
            let rel = path.strip_prefix(dir).unwrap_or(path);
            let file = staging.join(rel);
            if let Some(p) = file.parent() {
                fs::create_dir_all(p).map_err(|e| io(p, &e))?;
            }
            fs::write(&file, &f.contents).map_err(|e| io(&file, &e))?;
        }
        let marker = staging.join(MARKER);
        fs::write(&marker, marker_text(files)).map_err(|e| io(&marker, &e))?;
        fs::rename(&staging, dir).map_err(|e| io(dir, &e))
    })();
    if let Err(e) = result {
        let _ = fs::remove_dir_all(&staging);
        return Err(e);
    }
    Ok(WriteSummary {
        written: files.iter().map(|f| f.path.clone()).collect(),
        ..WriteSummary::default()
    })
}
