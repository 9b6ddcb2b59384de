//! Policies: what the supplier holds the product to. Built-in policies (TOML in `policies/`,
//! embedded in the binary) and the supplier's `charter-audit.toml`, which extends one.

pub mod assess;
pub mod config;
pub mod model;
pub mod product;
pub mod rules;
pub mod verdict;

pub use config::{Config, ConfigError, Exception, Override};
pub use model::{Level, Policy};
pub use verdict::{AppliedException, ClockStart, Judgement, Rule, RuleFinding, Verdict};

/// The built-in policies: name, TOML text.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "nhs-charter",
        include_str!("../../policies/nhs-charter.toml"),
    ),
    (
        "nhs-charter-strict",
        include_str!("../../policies/nhs-charter-strict.toml"),
    ),
];

/// The commented `charter-audit.toml` that `policy init` writes.
pub const INIT_TEMPLATE: &str = include_str!("../../policies/init.toml");

/// The names of the built-in policies.
pub fn names() -> Vec<&'static str> {
    BUILTIN.iter().map(|(name, _)| *name).collect()
}

/// A built-in policy by name.
pub fn builtin(name: &str) -> Option<Policy> {
    let (name, text) = BUILTIN.iter().find(|(n, _)| *n == name)?;
    config::parse_policy(&format!("policies/{name}.toml"), name, text).ok()
}

/// Why the policy could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("unknown policy `{name}`: the built-in policies are {}; see `charter-audit policy list`", names().join(", "))]
    Unknown { name: String },
    #[error("could not read {}: {source}", .path.display())]
    Read {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("{}: not a regular file; --config names a charter-audit.toml", .path.display())]
    NotAFile { path: std::path::PathBuf },
    #[error(
        "{} is larger than {} MiB, the most a charter-audit.toml may be: it is read from the audited project, so its size is capped; keep the exceptions to those reviewed (at most {})",
        .path.display(), config::MAX_CONFIG_BYTES / (1024 * 1024), config::MAX_EXCEPTIONS
    )]
    TooLarge { path: std::path::PathBuf },
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// Reads a configuration file: a regular file (a FIFO would hang the run), of at most
/// `MAX_CONFIG_BYTES`.
fn read_config(path: &std::path::Path) -> Result<String, PolicyError> {
    use std::io::Read;
    let read = |source| PolicyError::Read {
        path: path.to_path_buf(),
        source,
    };
    // Looked at before it is opened: opening a FIFO blocks until something writes to it.
    if !std::fs::metadata(path).map_err(read)?.is_file() {
        return Err(PolicyError::NotAFile {
            path: path.to_path_buf(),
        });
    }
    let file = std::fs::File::open(path).map_err(read)?;
    let mut bytes = Vec::new();
    file.take(config::MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read)?;
    if bytes.len() as u64 > config::MAX_CONFIG_BYTES {
        return Err(PolicyError::TooLarge {
            path: path.to_path_buf(),
        });
    }
    String::from_utf8(bytes).map_err(|_| {
        read(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "not UTF-8 text, as TOML must be",
        ))
    })
}

/// The effective configuration: `--config FILE` (or a `charter-audit.toml` found by the
/// caller) over the built-in policy `--policy` names (else the file's `extends`, else
/// `nhs-charter`).
pub fn load(policy: Option<&str>, config: Option<&std::path::Path>) -> Result<Config, PolicyError> {
    if let Some(name) = policy
        && builtin(name).is_none()
    {
        return Err(PolicyError::Unknown {
            name: name.to_owned(),
        });
    }
    match config {
        Some(path) => {
            let text = read_config(path)?;
            Ok(config::parse_config(
                &path.display().to_string(),
                &text,
                &builtin,
                &names(),
                policy,
            )?)
        }
        None => {
            let name = policy.unwrap_or("nhs-charter");
            let policy = builtin(name).ok_or_else(|| PolicyError::Unknown {
                name: name.to_owned(),
            })?;
            Ok(Config {
                policy,
                overrides: Vec::new(),
                supplier: None,
                exceptions: Vec::new(),
                private: Vec::new(),
            })
        }
    }
}

/// The SHA-256 of the effective policy's canonical JSON (sorted keys), as recorded in reports.
pub fn digest(policy: &Policy) -> String {
    use sha2::Digest;
    let json = serde_json::to_vec(&policy.settings).unwrap_or_default();
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(&json)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_init_template_is_a_valid_configuration() {
        let config =
            config::parse_config("init.toml", INIT_TEMPLATE, &builtin, &names(), None).unwrap();
        assert_eq!(config.policy.base, "nhs-charter");
        assert!(config.overrides.is_empty());
        assert_eq!(config.supplier.unwrap().name, "Example Health Ltd");
    }

    #[test]
    fn every_builtin_policy_parses_and_is_complete() {
        for (name, text) in BUILTIN {
            let policy = config::parse_policy(name, name, text).unwrap();
            assert_eq!(policy.settings.len(), model::SETTINGS.len(), "{name}");
        }
        let default = builtin("nhs-charter").unwrap();
        for severity in ["critical", "high", "unscored"] {
            assert_eq!(default.days(&format!("patch-age.{severity}")), 14);
        }
        assert_eq!(default.days("patch-age.medium"), 30);
        assert_eq!(default.days("patch-age.low"), 90);
        assert_eq!(default.days("advisory-db.max-age-days"), 7);
        let strict = builtin("nhs-charter-strict").unwrap();
        // The strict policy halves every window.
        for key in ["critical", "high", "unscored", "medium", "no-fix"] {
            let p = format!("patch-age.{key}");
            assert_eq!(strict.days(&p), default.days(&p) / 2, "{p}");
        }
        assert_eq!(strict.days("patch-age.low"), 45);
        assert_eq!(strict.days("advisory-db.max-age-days"), 2);
        assert_eq!(strict.level("exceptions.too-far-ahead"), Level::Violation);
    }
}
