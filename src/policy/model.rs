//! A policy: the thresholds and verdict levels each rule uses, as named settings.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What a rule makes of a finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    Warning,
    Violation,
}

impl Level {
    pub fn parse(text: &str) -> Option<Level> {
        match text {
            "warning" => Some(Level::Warning),
            "violation" => Some(Level::Violation),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Warning => "warning",
            Level::Violation => "violation",
        }
    }
}

/// The type of a setting, and which way is stricter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Whole days; fewer is stricter.
    Days,
    /// `warning` or `violation`; a violation is stricter.
    Level,
    /// A list of names (allowed registries); fewer is stricter.
    Names,
    /// SPDX licence ids allowed; empty allows every licence; fewer (but some) is stricter.
    LicenseAllow,
    /// SPDX licence ids denied; more is stricter.
    LicenseDeny,
    /// Free text (a description); neither.
    Text,
}

/// Every setting a policy has: `(section, key, kind, what it means)`.
pub const SETTINGS: &[(&str, &str, Kind, &str)] = &[
    ("", "description", Kind::Text, "what the policy is for"),
    (
        "patch-age",
        "critical",
        Kind::Days,
        "days a fix for a critical vulnerability may wait",
    ),
    (
        "patch-age",
        "high",
        Kind::Days,
        "days a fix for a high vulnerability may wait",
    ),
    (
        "patch-age",
        "unscored",
        Kind::Days,
        "days a fix for an unscored vulnerability may wait",
    ),
    (
        "patch-age",
        "medium",
        Kind::Days,
        "days a fix for a medium vulnerability may wait",
    ),
    (
        "patch-age",
        "low",
        Kind::Days,
        "days a fix for a low vulnerability may wait",
    ),
    (
        "patch-age",
        "no-fix",
        Kind::Days,
        "days an advisory with no fix yet may stand before it is a violation",
    ),
    (
        "informational",
        "unmaintained",
        Kind::Level,
        "an unmaintained crate in use",
    ),
    (
        "informational",
        "unsound",
        Kind::Level,
        "an unsound crate in use",
    ),
    (
        "informational",
        "notice",
        Kind::Level,
        "a RustSec notice about a crate in use",
    ),
    ("yanked", "verdict", Kind::Level, "a yanked version in use"),
    (
        "advisory-db",
        "max-age-days",
        Kind::Days,
        "how recently the advisory database must have been updated",
    ),
    (
        "sources",
        "allowed-registries",
        Kind::Names,
        "registries packages may come from",
    ),
    ("sources", "git", Kind::Level, "a git dependency"),
    (
        "sbom-completeness",
        "missing-supplier-or-author",
        Kind::Level,
        "an SBOM without its supplier or its author (NTIA minimum elements)",
    ),
    (
        "sbom-completeness",
        "components-without-author",
        Kind::Level,
        "components whose manifest names no author",
    ),
    (
        "licenses",
        "allow",
        Kind::LicenseAllow,
        "SPDX licence ids allowed (empty: every licence)",
    ),
    (
        "licenses",
        "deny",
        Kind::LicenseDeny,
        "SPDX licence ids denied (the rule is off while both lists are empty)",
    ),
    (
        "licenses",
        "verdict",
        Kind::Level,
        "a component whose licence expression the lists do not allow",
    ),
    (
        "exceptions",
        "max-days-ahead",
        Kind::Days,
        "how far ahead an exception may expire",
    ),
    (
        "exceptions",
        "too-far-ahead",
        Kind::Level,
        "an exception that expires further ahead",
    ),
];

/// A setting's value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Days(u32),
    Level(Level),
    Names(Vec<String>),
    Text(String),
}

impl Value {
    /// A setting's value of `kind` from JSON, as reports and attestations record it.
    pub fn from_json(kind: Kind, json: &serde_json::Value) -> Option<Value> {
        match kind {
            Kind::Days => json
                .as_u64()
                .and_then(|d| u32::try_from(d).ok())
                .map(Value::Days),
            Kind::Level => json.as_str().and_then(Level::parse).map(Value::Level),
            Kind::Names | Kind::LicenseAllow | Kind::LicenseDeny => json
                .as_array()?
                .iter()
                .map(|n| n.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .map(Value::Names),
            Kind::Text => json.as_str().map(|t| Value::Text(t.to_owned())),
        }
    }

    pub fn display(&self) -> String {
        match self {
            Value::Days(d) => d.to_string(),
            Value::Level(l) => l.as_str().to_owned(),
            Value::Names(n) => format!("[{}]", n.join(", ")),
            Value::Text(t) => format!("{t:?}"),
        }
    }
}

/// Whether an override makes the policy stricter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    Tightening,
    Loosening,
    Unchanged,
}

impl Direction {
    /// As reports write it (`tightening`).
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Tightening => "tightening",
            Direction::Loosening => "loosening",
            Direction::Unchanged => "unchanged",
        }
    }
}

/// Which way a change from `base` to `value` goes.
pub fn direction(kind: Kind, base: &Value, value: &Value) -> Direction {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let order = match (kind, base, value) {
        (Kind::Days, Value::Days(b), Value::Days(v)) => v.cmp(b).reverse(),
        (Kind::Level, Value::Level(b), Value::Level(v)) => v.cmp(b),
        (Kind::Names, Value::Names(b), Value::Names(v)) => allowing(b, v),
        // An empty allow list allows everything.
        (Kind::LicenseAllow, Value::Names(b), Value::Names(v)) => {
            match (b.is_empty(), v.is_empty()) {
                (true, true) => Equal,
                (true, false) => Greater,
                (false, true) => Less,
                (false, false) => allowing(b, v),
            }
        }
        (Kind::LicenseDeny, Value::Names(b), Value::Names(v)) => allowing(b, v).reverse(),
        _ => Equal,
    };
    match order {
        Greater => Direction::Tightening,
        Less => Direction::Loosening,
        Equal => Direction::Unchanged,
    }
}

/// How a list of allowed names changes: adding one loosens, removing one tightens (`Greater`).
fn allowing(base: &[String], value: &[String]) -> std::cmp::Ordering {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let added = value.iter().any(|n| !base.contains(n));
    let removed = base.iter().any(|n| !value.contains(n));
    match (added, removed) {
        (true, _) => Less,
        (false, true) => Greater,
        (false, false) => Equal,
    }
}

/// A complete policy: every setting of [`SETTINGS`] has a value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Policy {
    /// The built-in policy it is, or extends.
    pub base: String,
    /// `section.key` → value.
    pub settings: BTreeMap<String, Value>,
}

impl Policy {
    /// Days of a `Days` setting (0 when absent: validation guarantees every setting is there).
    pub fn days(&self, path: &str) -> u32 {
        match self.settings.get(path) {
            Some(Value::Days(d)) => *d,
            _ => 0,
        }
    }

    /// The level of a `Level` setting.
    pub fn level(&self, path: &str) -> Level {
        match self.settings.get(path) {
            Some(Value::Level(l)) => *l,
            _ => Level::Violation,
        }
    }

    /// The names of a `Names` setting.
    pub fn names(&self, path: &str) -> &[String] {
        match self.settings.get(path) {
            Some(Value::Names(n)) => n,
            _ => &[],
        }
    }
}

/// `section.key`, or `key` for the top level.
pub fn path(section: &str, key: &str) -> String {
    if section.is_empty() {
        key.to_owned()
    } else {
        format!("{section}.{key}")
    }
}
