//! Policies: what the supplier holds the product to. Built-in policies (TOML in `policies/`,
//! embedded in the binary) and the supplier's `charter-audit.toml`, which extends one.

pub mod config;
pub mod model;

pub use config::{Config, ConfigError, Exception, Override};
pub use model::{Level, Policy};

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

/// The names of the built-in policies.
pub fn names() -> Vec<&'static str> {
    BUILTIN.iter().map(|(name, _)| *name).collect()
}

/// A built-in policy by name.
pub fn builtin(name: &str) -> Option<Policy> {
    let (name, text) = BUILTIN.iter().find(|(n, _)| *n == name)?;
    config::parse_policy(&format!("policies/{name}.toml"), name, text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

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
