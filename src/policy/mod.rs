//! Policies: what the supplier holds the product to. Built-in policies (TOML in `policies/`,
//! embedded in the binary) and the supplier's `charter-audit.toml`, which extends one.

pub mod assess;
pub mod config;
pub mod justification;
pub mod model;
pub mod product;
pub mod rules;
pub mod verdict;
pub mod vex;

pub use config::{Config, ConfigError, Exception, Override};
pub use justification::Justification;
pub use model::{Level, Policy};
pub use verdict::{
    AppliedException, AppliedVex, ClockStart, Judgement, Rule, RuleFinding, Verdict,
};

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
            assert_eq!(
                policy.settings.to_map().len(),
                model::SETTINGS.len(),
                "{name}"
            );
        }
        let default = builtin("nhs-charter").unwrap().settings;
        let days = &default.patch_age;
        for window in [days.critical, days.high, days.unscored] {
            assert_eq!(window, 14);
        }
        assert_eq!(days.medium, 30);
        assert_eq!(days.low, 90);
        assert_eq!(default.advisory_db.max_age_days, 7);
        let strict = builtin("nhs-charter-strict").unwrap().settings;
        let halved = &strict.patch_age;
        // The strict policy halves every window.
        for (window, default) in [
            (halved.critical, days.critical),
            (halved.high, days.high),
            (halved.unscored, days.unscored),
            (halved.medium, days.medium),
            (halved.no_fix, days.no_fix),
        ] {
            assert_eq!(window, default / 2);
        }
        assert_eq!(halved.low, 45);
        assert_eq!(strict.advisory_db.max_age_days, 2);
        assert_eq!(strict.exceptions.too_far_ahead, Level::Violation);
    }

    /// The `section.key` names a policy file writes, read from its TOML alone.
    fn names_written(text: &str) -> Vec<String> {
        let table: toml::Table = toml::from_str(text).unwrap();
        let mut names = Vec::new();
        for (key, value) in table {
            match value {
                toml::Value::Table(section) => {
                    names.extend(section.keys().map(|inner| format!("{key}.{inner}")));
                }
                _ => names.push(key),
            }
        }
        names.sort();
        names
    }

    #[test]
    fn every_setting_of_a_builtin_policy_is_a_field_and_every_field_a_setting() {
        let mut known: Vec<String> = model::SETTINGS
            .iter()
            .map(|(section, key, _, _)| model::path(section, key))
            .collect();
        known.sort();
        for (name, text) in BUILTIN {
            let settings = builtin(name).unwrap().settings;
            let map = settings.to_map();
            // The file, the fields and the table of settings name the same settings.
            assert_eq!(names_written(text), known, "{name}: the file and SETTINGS");
            assert_eq!(
                map.keys().cloned().collect::<Vec<_>>(),
                known,
                "{name}: the fields and SETTINGS"
            );
            // Each value survives the trip through the names and back into the fields.
            assert_eq!(
                model::Settings::from_map(&map).as_ref(),
                Some(&settings),
                "{name}"
            );
            // A map missing a setting, or with one more, makes no settings.
            let mut short = map.clone();
            short.remove("licenses.verdict");
            assert_eq!(model::Settings::from_map(&short), None);
            let mut long = map.clone();
            long.insert("patch-age.severe".to_owned(), model::Value::Days(1));
            assert_eq!(model::Settings::from_map(&long), None);
        }
    }

    #[test]
    fn the_digest_of_each_builtin_policy_is_what_reports_have_always_recorded() {
        // The digests reports and attestations of the built-in policies carry: the typed
        // settings serialise to the same `section.key` object, so the same bytes.
        for (name, expected) in [
            (
                "nhs-charter",
                "sha256:f8d83b5ec72cb48c234a30ec28d3eb1d7a2598cedbecfa40421e14548b687663",
            ),
            // Changed once, when `[vex]` was added: its settings are not the defaults.
            (
                "nhs-charter-strict",
                "sha256:2a50a025c39feef082789708ffbd79c5a7abc976dded1e04af42cf0aea5b9e3c",
            ),
        ] {
            let policy = builtin(name).unwrap();
            assert_eq!(digest(&policy), expected, "{name}");
            // Every setting but those left out while they are their defaults: the profile, and
            // (for nhs-charter) the `vex.*` settings added later.
            let mut recorded = policy.settings.to_map();
            assert_eq!(
                recorded.remove(model::PROFILE_SETTING),
                Some(model::Value::Text("ntia-2021".to_owned()))
            );
            recorded.retain(|name, value| model::default_of(name).as_ref() != Some(value));
            assert_eq!(
                serde_json::to_value(&policy.settings).unwrap(),
                serde_json::to_value(recorded).unwrap()
            );
        }
    }

    #[test]
    fn a_profile_other_than_the_default_is_recorded_and_changes_the_digest() {
        let mut policy = builtin("nhs-charter").unwrap();
        let before = digest(&policy);
        policy.settings.sbom_completeness.profile = model::Profile::BsiTr03183_2;
        let recorded = serde_json::to_value(&policy.settings).unwrap();
        assert_eq!(recorded[model::PROFILE_SETTING], "bsi-tr-03183-2");
        assert_ne!(digest(&policy), before);
        // A record without the profile reads as the default; with it, as recorded.
        let map: std::collections::BTreeMap<String, model::Value> =
            serde_json::from_value(recorded).unwrap();
        assert_eq!(
            model::Settings::from_map(&map)
                .unwrap()
                .sbom_completeness
                .profile,
            model::Profile::BsiTr03183_2
        );
        let mut without = map.clone();
        without.remove(model::PROFILE_SETTING);
        assert_eq!(
            model::Settings::from_map(&without)
                .unwrap()
                .sbom_completeness
                .profile,
            model::Profile::Ntia2021
        );
    }

    #[test]
    fn a_profile_that_leaves_out_a_check_is_a_loosening() {
        use model::{Direction, Kind, Value, direction};
        let p = |name: &str| Value::Text(name.to_owned());
        let cases = [
            ("ntia-2021", "bsi-tr-03183-2", Direction::Tightening),
            ("ntia-2021", "cisa-2025-draft", Direction::Tightening),
            ("bsi-tr-03183-2", "ntia-2021", Direction::Loosening),
            ("cisa-2025-draft", "bsi-tr-03183-2", Direction::Loosening),
            ("bsi-tr-03183-2", "cisa-2025-draft", Direction::Loosening),
            ("bsi-tr-03183-2", "bsi-tr-03183-2", Direction::Unchanged),
        ];
        for (base, value, expected) in cases {
            assert_eq!(
                direction(Kind::Profile, &p(base), &p(value)),
                expected,
                "{base} -> {value}"
            );
        }
    }
}
