//! A policy: the thresholds and verdict levels each rule uses, one typed field per setting.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use crate::sbom::Profile;
pub use vex::{Vex, default_of};

mod vex;

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
    /// A completeness profile (`ntia-2021`, `cisa-2025-draft`, `bsi-tr-03183-2`); one that
    /// checks everything another checks is stricter ([`Profile::includes`]).
    Profile,
    /// `true` or `false`: a requirement; `true` is stricter.
    Flag,
}

/// Every setting a policy has: `(section, key, kind, what it means)`, in the order messages
/// list them. Each is a field of [`Settings`]; the test
/// `every_setting_of_a_builtin_policy_is_a_field_and_every_field_a_setting` fails if the two
/// disagree.
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
        "sbom-completeness",
        "profile",
        Kind::Profile,
        "the completeness profile the SBOM is judged by: ntia-2021, cisa-2025-draft or bsi-tr-03183-2",
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
    (
        "vex",
        "max-age",
        Kind::Days,
        "days a VEX statement (from --vex) may be old and still except a finding",
    ),
    (
        "vex",
        "require-justification",
        Kind::Flag,
        "whether a VEX `not_affected` needs a justification (or an impact statement) to except",
    ),
    (
        "vex",
        "require-signed",
        Kind::Flag,
        "whether only VEX documents signed by a --vex-key key may except",
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
    Flag(bool),
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
            Kind::Profile => json
                .as_str()
                .and_then(Profile::parse)
                .map(|p| Value::Text(p.as_str().to_owned())),
            Kind::Flag => json.as_bool().map(Value::Flag),
        }
    }

    pub fn display(&self) -> String {
        match self {
            Value::Days(d) => d.to_string(),
            Value::Level(l) => l.as_str().to_owned(),
            Value::Names(n) => format!("[{}]", n.join(", ")),
            Value::Text(t) => format!("{t:?}"),
            Value::Flag(f) => f.to_string(),
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
        // Requiring is stricter than not.
        (Kind::Flag, Value::Flag(b), Value::Flag(v)) => v.cmp(b),
        (Kind::Profile, Value::Text(b), Value::Text(v)) => {
            match (Profile::parse(b), Profile::parse(v)) {
                (Some(b), Some(v)) if b == v => Equal,
                (Some(b), Some(v)) if v.includes(b) => Greater,
                // A profile that leaves out a check the other makes is looser, whatever it
                // adds of its own.
                _ => Less,
            }
        }
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

/// A complete policy: the built-in policy it is or extends, and every setting's value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Policy {
    /// The built-in policy it is, or extends.
    pub base: String,
    pub settings: Settings,
}

/// Every setting of a policy, one field each, so that a rule reads its setting as a field: a
/// misspelt name is a compile error rather than a silent default, and a setting added here is
/// a compile error in [`Settings::to_map`] until it is named there (and, through the test that
/// compares them, in [`SETTINGS`]). Field names are the TOML names, in kebab-case.
///
/// It serialises as reports and attestations record a policy: one object of `section.key` →
/// value, keys sorted (the bytes [`crate::policy::digest`] hashes).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Settings {
    /// What the policy is for.
    pub description: String,
    pub patch_age: PatchAge,
    pub informational: Informational,
    pub yanked: Yanked,
    pub advisory_db: AdvisoryDb,
    pub sources: Sources,
    pub sbom_completeness: SbomCompleteness,
    pub licenses: Licenses,
    pub exceptions: Exceptions,
    /// Read as its defaults when a report made before VEX was read records none of it.
    #[serde(default)]
    pub vex: Vex,
}

/// `[patch-age]`: days a fix may wait, by the vulnerability's severity.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct PatchAge {
    pub critical: u32,
    pub high: u32,
    pub unscored: u32,
    pub medium: u32,
    pub low: u32,
    /// Days an advisory with no fix yet may stand before it is a violation.
    pub no_fix: u32,
}

/// `[informational]`: RustSec's informational advisories.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Informational {
    pub unmaintained: Level,
    pub unsound: Level,
    pub notice: Level,
}

/// `[yanked]`: a yanked version in use.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Yanked {
    pub verdict: Level,
}

/// `[advisory-db]`: how fresh the advisory database must be.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AdvisoryDb {
    pub max_age_days: u32,
}

/// `[sources]`: where packages may come from.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Sources {
    pub allowed_registries: Vec<String>,
    pub git: Level,
}

/// `[sbom-completeness]`: the NTIA minimum elements.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SbomCompleteness {
    pub missing_supplier_or_author: Level,
    pub components_without_author: Level,
    /// The profile the SBOM is judged by; `ntia-2021` when a report does not record it.
    #[serde(default)]
    pub profile: Profile,
}

/// `[licenses]`: SPDX licence ids allowed and denied (off while both are empty).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Licenses {
    pub allow: Vec<String>,
    pub deny: Vec<String>,
    pub verdict: Level,
}

/// `[exceptions]`: how far ahead an exception may expire.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Exceptions {
    pub max_days_ahead: u32,
    pub too_far_ahead: Level,
}

impl Settings {
    /// Every setting by its `section.key` name, as reports record them. Destructured without
    /// `..`: a field added to [`Settings`] does not compile until it is named here.
    pub fn to_map(&self) -> BTreeMap<String, Value> {
        let Settings {
            description,
            patch_age:
                PatchAge {
                    critical,
                    high,
                    unscored,
                    medium,
                    low,
                    no_fix,
                },
            informational:
                Informational {
                    unmaintained,
                    unsound,
                    notice,
                },
            yanked: Yanked { verdict: yanked },
            advisory_db: AdvisoryDb { max_age_days },
            sources:
                Sources {
                    allowed_registries,
                    git,
                },
            sbom_completeness:
                SbomCompleteness {
                    missing_supplier_or_author,
                    components_without_author,
                    profile,
                },
            licenses:
                Licenses {
                    allow,
                    deny,
                    verdict: licenses,
                },
            exceptions:
                Exceptions {
                    max_days_ahead,
                    too_far_ahead,
                },
            vex:
                Vex {
                    max_age,
                    require_justification,
                    require_signed,
                },
        } = self;
        [
            ("description", Value::Text(description.clone())),
            ("patch-age.critical", Value::Days(*critical)),
            ("patch-age.high", Value::Days(*high)),
            ("patch-age.unscored", Value::Days(*unscored)),
            ("patch-age.medium", Value::Days(*medium)),
            ("patch-age.low", Value::Days(*low)),
            ("patch-age.no-fix", Value::Days(*no_fix)),
            ("informational.unmaintained", Value::Level(*unmaintained)),
            ("informational.unsound", Value::Level(*unsound)),
            ("informational.notice", Value::Level(*notice)),
            ("yanked.verdict", Value::Level(*yanked)),
            ("advisory-db.max-age-days", Value::Days(*max_age_days)),
            (
                "sources.allowed-registries",
                Value::Names(allowed_registries.clone()),
            ),
            ("sources.git", Value::Level(*git)),
            (
                "sbom-completeness.missing-supplier-or-author",
                Value::Level(*missing_supplier_or_author),
            ),
            (
                "sbom-completeness.components-without-author",
                Value::Level(*components_without_author),
            ),
            (
                "sbom-completeness.profile",
                Value::Text(profile.as_str().to_owned()),
            ),
            ("licenses.allow", Value::Names(allow.clone())),
            ("licenses.deny", Value::Names(deny.clone())),
            ("licenses.verdict", Value::Level(*licenses)),
            ("exceptions.max-days-ahead", Value::Days(*max_days_ahead)),
            ("exceptions.too-far-ahead", Value::Level(*too_far_ahead)),
            ("vex.max-age", Value::Days(*max_age)),
            (
                "vex.require-justification",
                Value::Flag(*require_justification),
            ),
            ("vex.require-signed", Value::Flag(*require_signed)),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect()
    }

    /// The settings a map of `section.key` → value holds, when it holds every one of them
    /// and nothing else (the field names are serde's, so they cannot drift from the struct).
    pub fn from_map(map: &BTreeMap<String, Value>) -> Option<Settings> {
        let mut root = serde_json::Map::new();
        for (name, value) in map {
            let value = serde_json::to_value(value).ok()?;
            match name.split_once('.') {
                None => {
                    root.insert(name.clone(), value);
                }
                Some((section, key)) => {
                    let section = root
                        .entry(section)
                        .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
                    section.as_object_mut()?.insert(key.to_owned(), value);
                }
            }
        }
        serde_json::from_value(serde_json::Value::Object(root)).ok()
    }
}

impl Settings {
    /// The settings as reports and attestations record them (and the policy digest hashes
    /// them): every setting, but `sbom-completeness.profile` only when it is not the default
    /// `ntia-2021`, so that the reports and digests of policies that do not choose a profile
    /// are what they were before profiles existed. A record without it reads as `ntia-2021`.
    /// The `vex.*` settings likewise, each left out while it is its default.
    pub fn to_record(&self) -> BTreeMap<String, Value> {
        let mut map = self.to_map();
        map.retain(|name, value| default_of(name).as_ref() != Some(value));
        map
    }
}

/// The profile setting, which a record leaves out while it is the default: see
/// [`Settings::to_record`].
pub const PROFILE_SETTING: &str = "sbom-completeness.profile";

impl Serialize for Settings {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_record().serialize(serializer)
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
