//! The folder cargo and rustc start from, proven to be outside the audited project.
//!
//! cargo reads `.cargo/config.toml` (whose `[env]` reaches the processes it starts) from its
//! working folder and every folder above it, and rustup picks the toolchain from a
//! `rust-toolchain.toml` there. A fresh temporary folder is neutral only if it lies outside the
//! project and no folder at or above it holds such a file: `TMPDIR` may point into the project
//! (or to a folder a project's file sits above), and `/tmp/.cargo/config.toml` may have been
//! left by anyone. So each candidate is checked after it is made, on its real path (symbolic
//! links resolved), and the first that qualifies is used; if none does, the run stops.

use std::path::{Path, PathBuf};

/// Files in a folder at or above the working folder that would configure cargo or rustup.
const CONFIGURING: [&str; 4] = [
    ".cargo/config.toml",
    ".cargo/config",
    "rust-toolchain.toml",
    "rust-toolchain",
];

/// Why no folder could be found to start cargo from.
#[derive(Debug, thiserror::Error)]
#[error(
    "found no folder to start cargo from that lies outside the audited project and its cargo \
     configuration ({}): set TMPDIR to a folder outside the project, with no .cargo/config.toml \
     or rust-toolchain.toml in it or above it",
    .refused.join("; ")
)]
pub struct WorkdirError {
    /// Each candidate and why it was refused.
    pub refused: Vec<String>,
}

/// A fresh private folder (removed when dropped) from which cargo reads nothing of the project
/// whose manifest is `manifest`: in the temporary folder, else in `/tmp` or `/var/tmp`.
pub(crate) fn neutral(manifest: &Path) -> Result<tempfile::TempDir, WorkdirError> {
    let home = super::cargo_config::cargo_home().and_then(|h| h.canonicalize().ok());
    let project = project_folders(manifest);
    let mut refused = Vec::new();
    let mut candidates = vec![std::env::temp_dir()];
    for fallback in ["/tmp", "/var/tmp"] {
        let fallback = PathBuf::from(fallback);
        if !candidates.contains(&fallback) {
            candidates.push(fallback);
        }
    }
    for base in candidates {
        let dir = match tempfile::tempdir_in(&base) {
            Ok(dir) => dir,
            Err(e) => {
                refused.push(format!("{}: {e}", base.display()));
                continue;
            }
        };
        match why_not_neutral(dir.path(), &project, home.as_deref()) {
            None => return Ok(dir),
            Some(reason) => refused.push(format!("{}: {reason}", base.display())),
        }
    }
    Err(WorkdirError { refused })
}

/// The folders of the project: the manifest's, and the workspace root's where its lockfile
/// sits, with symbolic links resolved.
fn project_folders(manifest: &Path) -> Vec<PathBuf> {
    let mut folders = Vec::new();
    let manifest = std::path::absolute(manifest).unwrap_or_else(|_| manifest.to_path_buf());
    if let Some(folder) = manifest.parent() {
        folders.push(folder.to_path_buf());
    }
    if let Some(lockfile) = super::find_lockfile(&manifest)
        && let Some(folder) = lockfile.parent()
    {
        folders.push(folder.to_path_buf());
    }
    folders
        .into_iter()
        .map(|f| f.canonicalize().unwrap_or(f))
        .collect()
}

/// Why `dir` is not a neutral place for cargo to start, if it is not.
fn why_not_neutral(dir: &Path, project: &[PathBuf], home: Option<&Path>) -> Option<String> {
    let real = match dir.canonicalize() {
        Ok(real) => real,
        Err(e) => return Some(format!("could not resolve {}: {e}", dir.display())),
    };
    if let Some(folder) = project.iter().find(|folder| real.starts_with(folder)) {
        return Some(format!(
            "it lies inside the project at {}",
            folder.display()
        ));
    }
    for ancestor in real.ancestors() {
        for name in CONFIGURING {
            let file = ancestor.join(name);
            // The auditor's own `$CARGO_HOME/config.toml` is read wherever cargo starts.
            if name.starts_with(".cargo/")
                && home.is_some_and(|home| ancestor.join(".cargo") == home)
            {
                continue;
            }
            if file.exists() {
                return Some(format!(
                    "{} would configure cargo or choose its toolchain",
                    file.display()
                ));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_under_a_configuring_file_is_refused() {
        let outer = tempfile::tempdir().unwrap();
        let inner = outer.path().join("a/b");
        std::fs::create_dir_all(&inner).unwrap();
        assert_eq!(why_not_neutral(&inner, &[], None), None);
        std::fs::write(outer.path().join("rust-toolchain.toml"), "").unwrap();
        let reason = why_not_neutral(&inner, &[], None).unwrap();
        assert!(reason.contains("rust-toolchain.toml"), "{reason}");
        let project = [outer.path().canonicalize().unwrap()];
        let reason = why_not_neutral(&inner, &project, None).unwrap();
        assert!(reason.contains("inside the project"), "{reason}");
    }
}
