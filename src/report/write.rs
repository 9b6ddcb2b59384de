//! Atomic output: a temporary file in the destination's folder, renamed into place, so that a
//! failed run never leaves a half-written file.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Where an output goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    Stdout,
    File(PathBuf),
}

impl Output {
    /// `-` is standard output; anything else a file path.
    pub fn parse(value: &str) -> Output {
        if value == "-" {
            Output::Stdout
        } else {
            Output::File(PathBuf::from(value))
        }
    }
}

/// Why an output could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("cannot write {}: the folder {} does not exist; create it first", .path.display(), .folder.display())]
    MissingFolder { path: PathBuf, folder: PathBuf },
    #[error("cannot write {}: it is a folder; name a file such as {}/sbom.cdx.json", .0.display(), .0.display())]
    IsFolder(PathBuf),
    #[error("--out-dir {}: it is a file, not a folder; name a folder (it is created if needed)", .0.display())]
    NotAFolder(PathBuf),
    #[error("cannot write {}: a folder of that name is in the way; remove it or choose another --out-dir", .0.display())]
    FolderInTheWay(PathBuf),
    #[error("{} exists already; it is not replaced: choose another --out or remove it first", .0.display())]
    Exists(PathBuf),
    #[error("cannot write {}: {source}", .path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write to standard output: {0}")]
    Stdout(std::io::Error),
    #[error("cannot write {}: it is {what} {}; name another file", .path.display(), .other.display())]
    Clobbers {
        path: PathBuf,
        what: &'static str,
        other: PathBuf,
    },
}

impl OutputError {
    /// True when the reader of standard output went away (e.g. `| head`): not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, OutputError::Stdout(e) if e.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

/// Fails early, before any work, when a file output cannot be created where asked.
pub fn check_destination(output: &Output) -> Result<(), OutputError> {
    let Output::File(path) = output else {
        return Ok(());
    };
    if path.is_dir() {
        return Err(OutputError::IsFolder(path.clone()));
    }
    let folder = folder_of(path);
    if !folder.is_dir() {
        return Err(OutputError::MissingFolder {
            path: path.clone(),
            folder,
        });
    }
    Ok(())
}

/// Checks that no output is a file the run reads (`inputs`, each with the words that name its
/// role) or another output: writing it would destroy evidence the run stands on, or write
/// one output over another. Files are the same when they are one file (device and inode), or,
/// when one does not exist yet, when their absolute paths are equal.
pub fn check_distinct(
    outputs: &[&Path],
    inputs: &[(&'static str, &Path)],
) -> Result<(), OutputError> {
    for (i, output) in outputs.iter().enumerate() {
        let clash = inputs
            .iter()
            .copied()
            .chain(outputs[..i].iter().map(|o| ("also the output", *o)))
            .find(|(_, other)| same_file(output, other));
        if let Some((what, other)) = clash {
            return Err(OutputError::Clobbers {
                path: output.to_path_buf(),
                what,
                other: other.to_path_buf(),
            });
        }
    }
    Ok(())
}

fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b)) {
        use std::os::unix::fs::MetadataExt;
        return (x.dev(), x.ino()) == (y.dev(), y.ino());
    }
    match (std::path::absolute(a), std::path::absolute(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// Checks that `--out-dir` can be a folder of outputs: absent (it will be created) or a folder.
pub fn check_out_dir(dir: &Path) -> Result<(), OutputError> {
    if dir.exists() && !dir.is_dir() {
        return Err(OutputError::NotAFolder(dir.to_path_buf()));
    }
    Ok(())
}

/// Writes each `(file name, bytes)` into `dir` (created if needed): every file is written in
/// full to a temporary file first, and only then are they all put in place, so that a failure
/// leaves no partial set of evidence behind.
pub fn emit_all(dir: &Path, files: &[(&str, &[u8])]) -> Result<(), OutputError> {
    check_out_dir(dir)?;
    for (name, _) in files {
        let path = dir.join(name);
        if path.is_dir() {
            return Err(OutputError::FolderInTheWay(path));
        }
    }
    std::fs::create_dir_all(dir).map_err(|source| OutputError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut staged = Vec::with_capacity(files.len());
    for (name, bytes) in files {
        let path = dir.join(name);
        let wrap = |source| OutputError::Write {
            path: path.clone(),
            source,
        };
        let mut temp = tempfile::Builder::new()
            .prefix(".charter-audit-")
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(wrap)?;
        temp.write_all(bytes).map_err(wrap)?;
        if let Some(permissions) = default_permissions() {
            temp.as_file().set_permissions(permissions).map_err(wrap)?;
        }
        temp.as_file().sync_all().map_err(wrap)?;
        staged.push((temp, path));
    }
    for (temp, path) in staged {
        temp.persist(&path).map_err(|e| OutputError::Write {
            path,
            source: e.error,
        })?;
    }
    Ok(())
}

/// Removes `name` from `dir` when it is a file (or a link) an earlier run left there, so that
/// an output this run did not make is not found beside the ones it did, looking like its own.
/// A folder of that name is left alone; a file that is not there is no error.
pub fn remove_stale(dir: &Path, name: &str) -> Result<(), OutputError> {
    let path = dir.join(name);
    match std::fs::symlink_metadata(&path) {
        Ok(meta) if !meta.is_dir() => {
            std::fs::remove_file(&path).map_err(|source| OutputError::Write { path, source })
        }
        _ => Ok(()),
    }
}

/// Appends `bytes` to a file that others also write to (GitHub's job summary).
pub fn append(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    let wrap = |source| OutputError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map_err(wrap)?;
    file.write_all(bytes).map_err(wrap)
}

/// Writes `bytes` to the output, atomically for files.
pub fn emit(output: &Output, bytes: &[u8]) -> Result<(), OutputError> {
    match output {
        Output::Stdout => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(bytes)
                .and_then(|()| stdout.flush())
                .map_err(OutputError::Stdout)
        }
        Output::File(path) => write_atomic(path, bytes),
    }
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    check_destination(&Output::File(path.to_path_buf()))?;
    let wrap = |source| OutputError::Write {
        path: path.to_path_buf(),
        source,
    };
    // One rule for every output, `-o` and `--out-dir` alike: a symbolic link where the output
    // goes is replaced by the new file, never written through, so that a link planted in an
    // output folder cannot turn a write onto another file. A device or pipe (`/dev/null`,
    // `/dev/stdout`, itself a link) is written to as it is, never replaced by a file.
    let mut mode = None;
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        let target = std::fs::metadata(path).ok();
        if target.as_ref().is_some_and(|t| !t.is_file() && !t.is_dir()) {
            return write_to_device(path, bytes);
        }
        if meta.is_file() {
            mode = Some(meta.permissions());
        }
    }
    let folder = folder_of(path);
    let mut temp = tempfile::Builder::new()
        .prefix(".charter-audit-")
        .suffix(".tmp")
        .tempfile_in(&folder)
        .map_err(wrap)?;
    temp.write_all(bytes).map_err(wrap)?;
    // Keep the mode of the file replaced; a new file gets the usual 0644, not the temporary
    // file's 0600, so that a CI artefact stays readable.
    if let Some(permissions) = mode.or_else(default_permissions) {
        temp.as_file().set_permissions(permissions).map_err(wrap)?;
    }
    temp.as_file().sync_all().map_err(wrap)?;
    temp.persist(path).map_err(|e| wrap(e.error))?;
    Ok(())
}

/// Writes to a device or pipe: opened without creating or truncating anything, and checked,
/// once open, to be no regular file (a link swapped for one in between is not written
/// through).
fn write_to_device(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    let wrap = |source| OutputError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(wrap)?;
    if file.metadata().map_err(wrap)?.is_file() {
        return Err(wrap(std::io::Error::other(
            "it changed into a regular file while being written; run again",
        )));
    }
    file.write_all(bytes).map_err(wrap)
}

/// Writes a new file that must not exist yet (a key pair is never overwritten), atomically;
/// `private` makes it readable by its owner only (0600).
pub fn create_new(path: &Path, bytes: &[u8], private: bool) -> Result<(), OutputError> {
    let wrap = |source| OutputError::Write {
        path: path.to_path_buf(),
        source,
    };
    if std::fs::symlink_metadata(path).is_ok() {
        return Err(OutputError::Exists(path.to_path_buf()));
    }
    check_destination(&Output::File(path.to_path_buf()))?;
    let mut temp = tempfile::Builder::new()
        .prefix(".charter-audit-")
        .suffix(".tmp")
        .tempfile_in(folder_of(path))
        .map_err(wrap)?;
    temp.write_all(bytes).map_err(wrap)?;
    // The temporary file is 0600 already: a private key stays so from its first byte.
    if !private && let Some(permissions) = default_permissions() {
        temp.as_file().set_permissions(permissions).map_err(wrap)?;
    }
    temp.as_file().sync_all().map_err(wrap)?;
    temp.persist_noclobber(path).map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            OutputError::Exists(path.to_path_buf())
        } else {
            wrap(e.error)
        }
    })?;
    Ok(())
}

/// 0644 for a new file on unix; elsewhere the temporary file's own permissions stand.
fn default_permissions() -> Option<std::fs::Permissions> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        Some(std::fs::Permissions::from_mode(0o644))
    }
    #[cfg(not(unix))]
    {
        None
    }
}

fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_file_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        std::fs::write(&path, "old content that is longer").unwrap();
        emit(&Output::File(path.clone()), b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn links_are_replaced_not_written_through_and_files_keep_their_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.json");
        std::fs::write(&real, "old").unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        emit(&Output::File(link.clone()), b"new").unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().is_file());
        assert_eq!(std::fs::read(&link).unwrap(), b"new");
        assert_eq!(std::fs::read(&real).unwrap(), b"old");
        // A dangling link is replaced too.
        let dangling = dir.path().join("dangling.json");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).unwrap();
        emit(&Output::File(dangling.clone()), b"x").unwrap();
        assert!(std::fs::symlink_metadata(&dangling).unwrap().is_file());
        // A regular file replaced keeps its mode.
        emit(&Output::File(real.clone()), b"newer").unwrap();
        assert_eq!(
            std::fs::metadata(&real).unwrap().permissions().mode() & 0o777,
            0o640
        );
        let fresh = dir.path().join("fresh.json");
        emit(&Output::File(fresh.clone()), b"x").unwrap();
        assert_eq!(
            std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777,
            0o644
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_device_is_written_to_not_replaced() {
        // /dev/null exists on every unix; it must stay a device.
        let null = Path::new("/dev/null");
        emit(&Output::File(null.to_path_buf()), b"discarded").unwrap();
        assert!(!std::fs::metadata(null).unwrap().is_file());
    }

    #[test]
    fn missing_folder_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nope").join("out.json");
        let err = emit(&Output::File(path), b"x").unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
    }
}
