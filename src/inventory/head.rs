//! The commit a workspace is at, read from its `.git` files: git itself is not run, since the
//! audited repository's configuration could make it run a command.

use std::path::Path;

/// The commit `HEAD` names in `root/.git` (a folder; a worktree's `.git` file is followed), or
/// `None` when anything is unusual.
pub fn head_commit(root: &Path) -> Option<String> {
    let mut git = root.join(".git");
    if git.is_file() {
        let text = std::fs::read_to_string(&git).ok()?;
        let target = text.trim().strip_prefix("gitdir:")?.trim();
        git = root.join(target);
    }
    let head = read_small(&git.join("HEAD"))?;
    let head = head.trim();
    let Some(reference) = head.strip_prefix("ref:").map(str::trim) else {
        return is_sha(head).then(|| head.to_owned());
    };
    if !reference.starts_with("refs/") || reference.contains("..") {
        return None;
    }
    // A worktree keeps its refs in the common folder.
    let common = read_small(&git.join("commondir"))
        .map(|c| git.join(c.trim()))
        .unwrap_or_else(|| git.clone());
    for folder in [&git, &common] {
        if let Some(sha) = read_small(&folder.join(reference)) {
            let sha = sha.trim();
            return is_sha(sha).then(|| sha.to_owned());
        }
    }
    let packed = read_small(&common.join("packed-refs"))?;
    packed.lines().find_map(|line| {
        let (sha, name) = line.split_once(' ')?;
        (name.trim() == reference && is_sha(sha)).then(|| sha.to_owned())
    })
}

fn read_small(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > 16 * 1024 * 1024 {
        return None;
    }
    std::fs::read_to_string(path).ok()
}

fn is_sha(text: &str) -> bool {
    (text.len() == 40 || text.len() == 64) && text.chars().all(|c| c.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_through_a_ref_a_packed_ref_or_detached() {
        let dir = tempfile::tempdir().unwrap();
        let git = dir.path().join(".git");
        std::fs::create_dir_all(git.join("refs/heads")).unwrap();
        let sha = "9f1c2e4b7a6d5c3e2f1a0b9c8d7e6f5a4b3c2d1e";
        std::fs::write(git.join("HEAD"), "ref: refs/heads/main\n").unwrap();
        std::fs::write(
            git.join("packed-refs"),
            format!("# pack-refs with: peeled\n{sha} refs/heads/main\n"),
        )
        .unwrap();
        assert_eq!(head_commit(dir.path()).as_deref(), Some(sha));
        let newer = "0123456789abcdef0123456789abcdef01234567";
        std::fs::write(git.join("refs/heads/main"), format!("{newer}\n")).unwrap();
        assert_eq!(head_commit(dir.path()).as_deref(), Some(newer));
        std::fs::write(git.join("HEAD"), format!("{sha}\n")).unwrap();
        assert_eq!(head_commit(dir.path()).as_deref(), Some(sha));
        std::fs::write(git.join("HEAD"), "ref: ../../etc/passwd\n").unwrap();
        assert_eq!(head_commit(dir.path()), None);
    }
}
