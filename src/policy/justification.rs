//! Why an excepted finding does not affect the product, in words VEX readers know: the optional
//! `justification` of an `[[exception]]`. The configuration names one of OpenVEX's five terms;
//! CycloneDX has a vocabulary of its own, so [`TABLE`] maps each to its nearest CycloneDX term in
//! one place, where a reviewer can read every pair at once.

use serde::{Deserialize, Serialize};

/// One of OpenVEX 0.2.0's justifications for `not_affected` (the spec's "Status Justifications").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Justification {
    ComponentNotPresent,
    VulnerableCodeNotPresent,
    VulnerableCodeNotInExecutePath,
    VulnerableCodeCannotBeControlledByAdversary,
    InlineMitigationsAlreadyExist,
}

/// Each justification: its OpenVEX term (what `charter-audit.toml` and the report write) and
/// the CycloneDX `analysis.justification` nearest in meaning.
///
/// CycloneDX has no term for a component that is absent (it describes the components a BOM
/// lists), so `component_not_present` becomes `code_not_present`: absent component, absent
/// code. An adversary who cannot control the vulnerable code (`cannot_be_controlled_by_adversary`)
/// is CycloneDX's `requires_environment`: the attack needs conditions the product does not
/// give. Mitigations built in (`inline_mitigations_already_exist`) are CycloneDX's general
/// `protected_by_mitigating_control`, not one of its narrower compiler, runtime or perimeter
/// terms, which the configuration cannot tell apart. The same pairs, read the other way, are
/// how trivy maps CycloneDX VEX onto OpenVEX's terms.
pub const TABLE: [(Justification, &str, &str); 5] = [
    (
        Justification::ComponentNotPresent,
        "component_not_present",
        "code_not_present",
    ),
    (
        Justification::VulnerableCodeNotPresent,
        "vulnerable_code_not_present",
        "code_not_present",
    ),
    (
        Justification::VulnerableCodeNotInExecutePath,
        "vulnerable_code_not_in_execute_path",
        "code_not_reachable",
    ),
    (
        Justification::VulnerableCodeCannotBeControlledByAdversary,
        "vulnerable_code_cannot_be_controlled_by_adversary",
        "requires_environment",
    ),
    (
        Justification::InlineMitigationsAlreadyExist,
        "inline_mitigations_already_exist",
        "protected_by_mitigating_control",
    ),
];

impl Justification {
    /// The justification an OpenVEX term names, if it is one.
    pub fn parse(term: &str) -> Option<Justification> {
        TABLE
            .iter()
            .find(|(_, t, _)| *t == term)
            .map(|(j, _, _)| *j)
    }

    /// Its OpenVEX term.
    pub fn openvex(self) -> &'static str {
        TABLE
            .iter()
            .find(|(j, _, _)| *j == self)
            .map_or("", |(_, term, _)| term)
    }

    /// The CycloneDX term nearest to it.
    pub fn cyclonedx(self) -> &'static str {
        TABLE
            .iter()
            .find(|(j, _, _)| *j == self)
            .map_or("", |(_, _, term)| term)
    }

    /// The OpenVEX terms, comma-separated, for messages.
    pub fn allowed() -> String {
        TABLE.map(|(_, term, _)| term).join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_term_reads_back_and_serialises_as_written() {
        for (justification, openvex, cyclonedx) in TABLE {
            assert_eq!(Justification::parse(openvex), Some(justification));
            assert_eq!(justification.openvex(), openvex);
            assert_eq!(justification.cyclonedx(), cyclonedx);
            assert_eq!(
                serde_json::to_value(justification).unwrap(),
                serde_json::Value::from(openvex)
            );
        }
        assert_eq!(Justification::parse("code_not_present"), None);
    }
}
