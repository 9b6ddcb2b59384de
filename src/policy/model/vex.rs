//! `[vex]`: the policy's trust in VEX documents, and the settings a record may leave out while
//! they are their defaults (added after reports were first signed).

use serde::Deserialize;

use super::{PROFILE_SETTING, Profile, Value};

/// `[vex]`: how far a VEX document the auditor brings (`audit --vex`) is trusted to except a
/// finding.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Vex {
    /// Days a statement may be old (and it may not be dated after the evaluation time).
    #[serde(default = "Vex::default_max_age")]
    pub max_age: u32,
    /// Whether `not_affected` needs a justification, an impact statement or a detail.
    #[serde(default = "Vex::yes")]
    pub require_justification: bool,
    /// Whether only documents signed by a `--vex-key` key may except.
    #[serde(default)]
    pub require_signed: bool,
}

impl Vex {
    fn default_max_age() -> u32 {
        90
    }
    fn yes() -> bool {
        true
    }
}

impl Default for Vex {
    /// `nhs-charter`'s values, which a record leaves out ([`super::Settings::to_record`]).
    fn default() -> Vex {
        Vex {
            max_age: Vex::default_max_age(),
            require_justification: true,
            require_signed: false,
        }
    }
}

/// The value a setting has when a record leaves it out, for the settings a record may leave
/// out (those added after reports were first signed): `None` for every other.
pub fn default_of(name: &str) -> Option<Value> {
    let vex = Vex::default();
    match name {
        PROFILE_SETTING => Some(Value::Text(Profile::default().as_str().to_owned())),
        "vex.max-age" => Some(Value::Days(vex.max_age)),
        "vex.require-justification" => Some(Value::Flag(vex.require_justification)),
        "vex.require-signed" => Some(Value::Flag(vex.require_signed)),
        _ => None,
    }
}
