//! The files behind `-f` arguments, read with limits: regular files only, at most
//! [`limits::MAX_FILE_BYTES`], directories walked without following links.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::{Error, Result, limits};

/// Reads a regular file, at most [`limits::MAX_FILE_BYTES`].
///
/// Anything else is refused before it is opened: opening a FIFO blocks until a writer comes,
/// and a device (`/dev/zero`, perhaps behind a committed link) never ends. Streams are read
/// with `-f -`.
pub(super) fn read_file(path: &Path) -> Result<Vec<u8>> {
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, &e))?;
    if !meta.is_file() {
        let what = special_kind(&meta);
        return Err(Error::Io {
            path: path.display().to_string(),
            message: format!(
                "not a regular file but {what}; runnerguard reads files and directories (pipe a stream in with `-f -`)"
            ),
        });
    }
    // Refused before a byte is read: no buffer for a file that is too large.
    let limit = limits::MAX_FILE_BYTES.get();
    if usize::try_from(meta.len()).map_or(true, |len| len > limit) {
        return Err(too_large(path, limit));
    }
    let file = std::fs::File::open(path).map_err(|e| io_error(path, &e))?;
    read_capped(file, path)
}

/// The error of an input larger than `limit` bytes.
pub(crate) fn too_large(path: &Path, limit: usize) -> Error {
    Error::Io {
        path: path.display().to_string(),
        message: format!(
            "larger than {limit} bytes, the most runnerguard reads from one input (raise it with {}=BYTES)",
            limits::MAX_FILE_BYTES.env
        ),
    }
}

/// What a non-regular file is, in words.
fn special_kind(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    let _ = meta;
    "a special file"
}

/// Reads everything from `reader`, refusing more than [`limits::MAX_FILE_BYTES`].
///
/// The buffer grows by doubling but never past the limit, so a stream that does not end
/// costs at most the limit, not twice it.
pub(super) fn read_capped(mut reader: impl Read, path: &Path) -> Result<Vec<u8>> {
    let limit = limits::MAX_FILE_BYTES.get();
    let mut bytes: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => return Ok(bytes),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_error(path, &e)),
        };
        let len = bytes.len() + n;
        if len > limit {
            return Err(too_large(path, limit));
        }
        if len > bytes.capacity() {
            let target = (bytes.capacity() * 2).max(len).min(limit);
            bytes
                .try_reserve_exact(target - bytes.len())
                .map_err(|e| io_error(path, &std::io::Error::other(e)))?;
        }
        bytes.extend_from_slice(&chunk[..n]);
    }
}

fn io_error(path: &Path, e: &std::io::Error) -> Error {
    Error::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// The files behind one path: the file itself, or the manifests under a directory, sorted,
/// without following symlinked directories (which could loop).
pub(super) fn manifest_files(path: &Path) -> Result<Vec<PathBuf>> {
    let meta = std::fs::metadata(path).map_err(|e| io_error(path, &e))?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| io_error(&dir, &e))?;
        for entry in entries {
            let entry = entry.map_err(|e| io_error(&dir, &e))?;
            let p = entry.path();
            let kind = entry.file_type().map_err(|e| io_error(&p, &e))?;
            if kind.is_dir() {
                stack.push(p);
            } else if is_manifest(&p) && std::fs::metadata(&p).is_ok_and(|m| m.is_file()) {
                files.push(p);
            }
        }
    }
    if files.is_empty() {
        return Err(Error::Empty {
            path: path.display().to_string(),
        });
    }
    files.sort();
    Ok(files)
}

/// Whether `path` is a file `-f DIR` reads: `*.yaml`, `*.yml`, `*.json`, `*.toml`.
pub(crate) fn is_manifest(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json" | "toml")
    )
}
