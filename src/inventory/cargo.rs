//! Running the toolchain: `cargo metadata` on the audited workspace and `rustc -vV`.
//!
//! The audited project is untrusted input. Nothing of it runs: cargo is started from a neutral
//! folder outside the project (see [`super::workdir`]: no `rust-toolchain.toml` or
//! `.cargo/config.toml` of the project applies), with the compiler
//! wrappers and any `build.rustc` of the project overridden, no credential provider or registry
//! name of the project's (see [`super::cargo_config`]), and `--locked` so that `Cargo.lock` is
//! never rewritten.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::cargo_config::{AuditorRegistries, project_configs, sanitized_config};

/// The compiler that cargo would use, for the SBOM (the Code of Practice asks for the toolchain).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RustcInfo {
    /// e.g. `rustc 1.95.0 (59807616e 2026-04-14)`.
    pub version: String,
    /// The host target triple, e.g. `x86_64-unknown-linux-gnu`.
    pub host: String,
}

/// Why cargo could not give the inventory.
#[derive(Debug, thiserror::Error)]
pub enum CargoError {
    #[error(
        "no Cargo.toml at {}: run charter-audit in your workspace, or pass --manifest-path PATH/Cargo.toml (or --lockfile Cargo.lock)",
        .0.display()
    )]
    NoManifest(PathBuf),
    #[error(
        "cargo was not found (looked for `{program}` on PATH): install Rust with rustup, or read the lockfile without cargo with --lockfile Cargo.lock"
    )]
    CargoNotFound { program: String },
    #[error(
        "the Rust compiler was not found (looked for `{program}` on PATH): install Rust with rustup, or read the lockfile without cargo with --lockfile Cargo.lock"
    )]
    RustcNotFound { program: String },
    #[error("could not run `{program}`: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("{}: Cargo.toml does not parse: {summary}", .manifest.display())]
    ManifestParse { manifest: PathBuf, summary: String },
    #[error(
        "no Cargo.lock for {}: run `cargo generate-lockfile` and commit Cargo.lock, so the SBOM describes exactly what ships",
        .manifest.display()
    )]
    NoLockfile { manifest: PathBuf },
    #[error(
        "Cargo.lock for {} is out of date with the manifests{}: run `cargo update --workspace` (or build once) and commit Cargo.lock; charter-audit never changes it",
        .manifest.display(),
        .detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default()
    )]
    LockfileOutdated {
        manifest: PathBuf,
        detail: Option<String>,
    },
    #[error("cargo metadata could not reach a source for {}: {summary}", .manifest.display())]
    SourceUnreachable { manifest: PathBuf, summary: String },
    #[error("cargo metadata failed for {}: {summary}", .manifest.display())]
    MetadataFailed { manifest: PathBuf, summary: String },
    #[error("cargo metadata for {} printed output that is not valid metadata: {source}", .manifest.display())]
    MetadataOutput {
        manifest: PathBuf,
        source: cargo_metadata::Error,
    },
    #[error("`{program} -vV` failed: {summary}")]
    Rustc { program: String, summary: String },
    #[error("could not prepare to run cargo (working folder): {0}")]
    TempDir(std::io::Error),
    #[error(transparent)]
    Workdir(#[from] super::workdir::WorkdirError),
    #[error("{}: {message}", .path.display())]
    Lockfile { path: PathBuf, message: String },
}

/// The flags given to `cargo metadata`.
pub(crate) struct MetadataArgs<'a> {
    pub manifest: &'a Path,
    pub features: &'a super::Features,
    /// `--filter-platform`; `None` keeps every platform's dependencies.
    pub filter_platform: Option<&'a str>,
    pub offline: bool,
    /// `--no-deps`: the workspace's own packages only, no resolution (works with no network).
    pub no_deps: bool,
}

/// Runs `cargo metadata --format-version 1 --locked` and parses its output.
pub(crate) fn metadata(args: &MetadataArgs<'_>) -> Result<cargo_metadata::Metadata, CargoError> {
    if !args.manifest.is_file() {
        let shown =
            std::path::absolute(args.manifest).unwrap_or_else(|_| args.manifest.to_path_buf());
        return Err(CargoError::NoManifest(shown));
    }
    // cargo runs from a neutral folder, so every path handed to it must be absolute.
    let manifest = std::path::absolute(args.manifest).map_err(CargoError::TempDir)?;
    let neutral = super::workdir::neutral(&manifest)?;
    let (mut command, program) = cargo_command(
        &manifest,
        neutral.path(),
        &["metadata", "--format-version", "1", "--locked"],
    )?;
    command.args(args.no_deps.then_some("--no-deps"));
    if args.offline {
        command.arg("--offline");
    }
    if args.features.all_features {
        command.arg("--all-features");
    }
    if args.features.no_default_features {
        command.arg("--no-default-features");
    }
    if !args.features.features.is_empty() {
        command
            .arg("--features")
            .arg(args.features.features.join(","));
    }
    if let Some(triple) = args.filter_platform {
        command.arg("--filter-platform").arg(triple);
    }
    let output = run(&mut command, &program)?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(classify_failure(
            args.manifest,
            &absolute_locations(&stderr, neutral.path()),
        ));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    cargo_metadata::MetadataCommand::parse(stdout.as_ref()).map_err(|source| {
        CargoError::MetadataOutput {
            manifest: args.manifest.to_path_buf(),
            source,
        }
    })
}

/// The manifest of the workspace root cargo finds for `manifest`, asked of `cargo
/// locate-project --workspace` run exactly as `cargo metadata` is (which does not read the
/// lockfile): the root may lie anywhere a member's `package.workspace` points, not only above
/// it. `None` when cargo cannot tell or cannot run (then `cargo metadata` fails and says why).
pub(crate) fn workspace_root(manifest: &Path) -> Result<Option<PathBuf>, CargoError> {
    if !manifest.is_file() {
        return Ok(None);
    }
    let manifest = std::path::absolute(manifest).map_err(CargoError::TempDir)?;
    let neutral = super::workdir::neutral(&manifest)?;
    let (mut command, program) = cargo_command(
        &manifest,
        neutral.path(),
        &["locate-project", "--workspace", "--message-format", "plain"],
    )?;
    // Any failure here (no cargo, a manifest cargo refuses) is reported by the steps that
    // follow, in their order; cargo metadata cannot run where this could not.
    let Ok(output) = run(&mut command, &program) else {
        return Ok(None);
    };
    if !output.status.success() {
        return Ok(None);
    }
    let mut line = output.stdout.as_slice();
    line = line.strip_suffix(b"\n").unwrap_or(line);
    line = line.strip_suffix(b"\r").unwrap_or(line);
    Ok((!line.is_empty()).then(|| path_of_bytes(line)))
}

#[cfg(unix)]
fn path_of_bytes(bytes: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
}

#[cfg(not(unix))]
fn path_of_bytes(bytes: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
}

/// cargo with `args`, for the absolute `manifest`, as the audit runs it: from the `neutral`
/// folder, with cargo's home, the sanitized configuration of the project and no compiler
/// wrapper. Returns the command and the program's name.
fn cargo_command(
    manifest: &Path,
    neutral: &Path,
    args: &[&str],
) -> Result<(Command, String), CargoError> {
    let program = cargo_program();
    let mut command = Command::new(&program);
    command
        .args(args)
        .arg("--manifest-path")
        .arg(manifest)
        .current_dir(neutral);
    // cargo reads `.cargo/config.toml` from its working folder upwards; since that is a neutral
    // folder, hand it what it needs of the project's own: source replacement (vendored crates)
    // and the index URLs of registries the auditor does not define, and nothing else (no
    // credential providers, no compiler).
    // cargo finds its home itself (`$CARGO_HOME`, `$HOME`, the password database); it is told
    // the one resolved here, so the registry names read below come from the files cargo reads.
    let home = super::cargo_config::cargo_home();
    match &home {
        Some(home) => command.env("CARGO_HOME", home),
        None => command.env_remove("CARGO_HOME"),
    };
    let auditor = AuditorRegistries::read_with_home(neutral, home.as_deref());
    for (index, config) in project_configs(manifest).iter().enumerate() {
        if let Some(text) = sanitized_config(config, &auditor) {
            let copy = neutral.join(format!("project-config-{index}.toml"));
            std::fs::write(&copy, text).map_err(CargoError::TempDir)?;
            command.arg("--config").arg(copy);
        }
    }
    harden(&mut command);
    Ok((command, program))
}

/// Asks the compiler cargo uses for its version and host triple, from a folder outside the
/// project of `manifest` (rustup would take the project's `rust-toolchain.toml` otherwise).
pub(crate) fn rustc_info(manifest: &Path) -> Result<RustcInfo, CargoError> {
    let program = rustc_program();
    let manifest = std::path::absolute(manifest).map_err(CargoError::TempDir)?;
    let neutral = super::workdir::neutral(&manifest)?;
    let mut command = Command::new(&program);
    command.arg("-vV").current_dir(neutral.path());
    let output = run(&mut command, &program.to_string_lossy()).map_err(|e| match e {
        CargoError::CargoNotFound { program } => CargoError::RustcNotFound { program },
        other => other,
    })?;
    let text = String::from_utf8_lossy(&output.stdout);
    let version = text.lines().next().unwrap_or_default().trim().to_owned();
    let host = text
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .map(|host| host.trim().to_owned());
    match host {
        Some(host) if output.status.success() && !version.is_empty() => {
            Ok(RustcInfo { version, host })
        }
        _ => Err(CargoError::Rustc {
            program: program.to_string_lossy().into_owned(),
            summary: summarize(&String::from_utf8_lossy(&output.stderr)),
        }),
    }
}

fn cargo_program() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

fn rustc_program() -> OsString {
    std::env::var_os("RUSTC").unwrap_or_else(|| OsString::from("rustc"))
}

/// Keeps the audited project from running anything through cargo's configuration.
fn harden(command: &mut Command) {
    command
        .env("RUSTC_WRAPPER", "")
        .env("RUSTC_WORKSPACE_WRAPPER", "")
        // Overrides a `build.rustc` in the project's config: metadata asks rustc for target info.
        .env("RUSTC", rustc_program())
        .env("CARGO_TERM_COLOR", "never")
        .env("CARGO_TERM_PROGRESS_WHEN", "never")
        // The signing key is charter-audit's alone: no child process sees it.
        .env_remove(crate::process::KEY_VARIABLE);
}

fn run(command: &mut Command, program: &str) -> Result<Output, CargoError> {
    command.output().map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            CargoError::CargoNotFound {
                program: program.to_owned(),
            }
        } else {
            CargoError::Spawn {
                program: program.to_owned(),
                source,
            }
        }
    })
}

/// The error for a lockfile left with merge-conflict markers, if it is one (read bounded: a
/// lockfile cargo just refused is still the project's file).
fn merge_conflict(path: &Path) -> Option<CargoError> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(path)
        .ok()?
        .take(MAX_LOCKFILE_SCAN)
        .read_to_string(&mut text)
        .ok()?;
    let (marker, line) = super::lockfile::conflict_marker(&text)?;
    Some(CargoError::Lockfile {
        path: path.to_path_buf(),
        message: super::lockfile::conflict_message(marker, line),
    })
}

/// How much of a lockfile cargo refused is searched for merge-conflict markers.
const MAX_LOCKFILE_SCAN: u64 = 256 << 20;

/// Turns cargo's error output into the error a user can act on.
fn classify_failure(manifest: &Path, stderr: &str) -> CargoError {
    let summary = summarize(stderr);
    let manifest = manifest.to_path_buf();
    // Before the manifest checks: cargo's lockfile errors quote TOML errors too.
    if stderr.contains("failed to parse lock file") {
        let path = super::find_lockfile(&manifest).unwrap_or_else(|| manifest.clone());
        if let Some(error) = merge_conflict(&path) {
            return error;
        }
        return CargoError::Lockfile {
            path,
            message: format!("Cargo.lock does not parse: {summary}"),
        };
    }
    let manifest_location = stderr
        .lines()
        .any(|line| line.trim_start().starts_with("--> ") && line.contains("Cargo.toml:"));
    if stderr.contains("failed to parse manifest")
        || stderr.contains("TOML parse error")
        || manifest_location
    {
        return CargoError::ManifestParse { manifest, summary };
    }
    if let Some(rest) = stderr
        .split("could not find specification for target \"")
        .nth(1)
    {
        let target = rest.split('"').next().unwrap_or_default();
        return CargoError::MetadataFailed {
            manifest,
            summary: format!(
                "`{target}` is not a target rustc knows: give a triple from `rustc --print target-list`, or `all`"
            ),
        };
    }
    if stderr.contains("cannot create the lock file") {
        return CargoError::NoLockfile { manifest };
    }
    if stderr.contains("needs to be updated but --locked was passed")
        || stderr.contains("cannot update the lock file")
    {
        return if super::find_lockfile(&manifest).is_some() {
            CargoError::LockfileOutdated {
                manifest,
                detail: None,
            }
        } else {
            CargoError::NoLockfile { manifest }
        };
    }
    const UNREACHABLE: &[&str] = &[
        "you are in the offline mode",
        "--offline was specified",
        "failed to load source for dependency",
        "failed to get `",
        "failed to fetch",
        "failed to download",
        "Unable to update",
        "no matching package named",
        "Couldn't resolve host",
        "spurious network error",
    ];
    if UNREACHABLE.iter().any(|marker| stderr.contains(marker)) {
        return CargoError::SourceUnreachable { manifest, summary };
    }
    CargoError::MetadataFailed { manifest, summary }
}

/// cargo names files relative to its working folder, a temporary one here: make them absolute
/// so that the user can find them.
fn absolute_locations(stderr: &str, cwd: &Path) -> String {
    stderr
        .lines()
        .map(|line| {
            let trimmed = line.trim_start();
            let Some(location) = trimmed.strip_prefix("--> ") else {
                return line.to_owned();
            };
            if Path::new(location).is_absolute() {
                return line.to_owned();
            }
            let mut resolved = cwd.to_path_buf();
            for part in location.split('/') {
                match part {
                    ".." => {
                        resolved.pop();
                    }
                    "." | "" => {}
                    part => resolved.push(part),
                }
            }
            format!("--> {}", resolved.display())
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first error line and its causes, on one line, without cargo's hints and snippets, and
/// without the user information of any URL (a credential in a source URL goes no further).
fn summarize(stderr: &str) -> String {
    super::source::strip_userinfo_in_text(&summarize_raw(stderr))
}

fn summarize_raw(stderr: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut in_error = false;
    for line in stderr.lines() {
        let trimmed = line.trim();
        if let Some(message) = trimmed.strip_prefix("error:") {
            in_error = true;
            parts.push(message.trim().to_owned());
        } else if in_error && !trimmed.is_empty() && trimmed != "Caused by:" {
            if trimmed.starts_with("note:") || trimmed.starts_with("help:") || is_snippet(trimmed) {
                continue;
            }
            match trimmed.strip_prefix("--> ") {
                Some(location) => parts.push(format!("at {location}")),
                None => parts.push(trimmed.to_owned()),
            }
        }
        if parts.len() >= 6 {
            break;
        }
    }
    if parts.is_empty() {
        let last = stderr.lines().rev().find(|line| !line.trim().is_empty());
        return last.unwrap_or("no error message").trim().to_owned();
    }
    parts.join(": ")
}

/// A line of a source snippet (`  |`, `1 | [package`, `  |  ^`).
fn is_snippet(line: &str) -> bool {
    let rest = line
        .trim_start_matches(|c: char| c.is_ascii_digit())
        .trim_start();
    rest.starts_with('|') || rest.starts_with('^')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_joins_error_and_causes() {
        let stderr = "error: failed to get `nhs-number` as a dependency of package `x v1.0.0`\n\nCaused by:\n  failed to load source for dependency `nhs-number`\n\nCaused by:\n  can't checkout from 'https://example.org/x': you are in the offline mode (--offline)\n";
        let summary = summarize(stderr);
        assert_eq!(
            summary,
            "failed to get `nhs-number` as a dependency of package `x v1.0.0`: failed to load source for dependency `nhs-number`: can't checkout from 'https://example.org/x': you are in the offline mode (--offline)"
        );
        assert!(matches!(
            classify_failure(Path::new("/nowhere/Cargo.toml"), stderr),
            CargoError::SourceUnreachable { .. }
        ));
    }

    #[test]
    fn outdated_lockfile_is_never_a_fallback() {
        let stderr = "error: the lock file /w/Cargo.lock needs to be updated but --locked was passed to prevent this\nIf you want to try to generate the lock file without accessing the network, remove the --locked flag and use --offline instead.\n";
        assert!(matches!(
            classify_failure(Path::new("/nowhere/at/all/Cargo.toml"), stderr),
            CargoError::NoLockfile { .. } | CargoError::LockfileOutdated { .. }
        ));
    }
}
