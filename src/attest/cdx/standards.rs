//! The standards the attestation speaks of, as CycloneDX 1.6 `definitions.standards`: each
//! requirement of the principle map with a `bom-ref` the attestation's map points at.
//!
//! - NIST SSDF 1.1 reuses CycloneDX's published encoding
//!   (CycloneDX/official-3rd-party-standards, `nist_secure-software-development-framework_1.1.cdx.json`;
//!   the repository is Apache-2.0, the text NIST's, under "Fair Use of Other NIST Data/Works",
//!   https://www.nist.gov/open/license): standard `ssdf-1.1`, requirements `ssdf-1.1-PS.3.2`
//!   and so on, so that other tools join on them. Only the requirements the map references are
//!   included, each copied verbatim (identifier, text, documentation link); a test compares them
//!   with the published file.
//! - The Charter, the Code of Practice and the DSPT have no published encoding: their
//!   requirements are cited by identifier and URL, with charter-audit's short titles (the DSPT
//!   items quoted no further than STANDARDS.md allows), never the publishers' full wording.

use super::model::{ExternalReference, Requirement, Standard};
use crate::model::principles::{Framework, Principle};

/// The NIST SSDF requirements the principle map references, as CycloneDX publishes them:
/// bom-ref, identifier, text, documentation URL.
pub const SSDF: [(&str, &str, &str, &str); 4] = [
    (
        "ssdf-1.1-PS.3.2",
        "PS.3.2",
        "Collect, safeguard, maintain, and share provenance data for all components of each software release (e.g., in a software bill of materials [SBOM]).",
        "https://csrc.nist.gov/csrc/media/Publications/sp/800-218/final/documents/NIST.SP.800-218.SSDF-table.xlsx#SSDF!B18",
    ),
    (
        "ssdf-1.1-PW.4.1",
        "PW.4.1",
        "Acquire and maintain well-secured software components (e.g., software libraries, modules, middleware, frameworks) from commercial, open-source, and other third-party developers for use by the organization\u{2019}s software.",
        "https://csrc.nist.gov/csrc/media/Publications/sp/800-218/final/documents/NIST.SP.800-218.SSDF-table.xlsx#SSDF!B23",
    ),
    (
        "ssdf-1.1-PW.4.4",
        "PW.4.4",
        "Verify that acquired commercial, open-source, and all other third-party software components comply with the requirements, as defined by the organization, throughout their life cycles.",
        "https://csrc.nist.gov/csrc/media/Publications/sp/800-218/final/documents/NIST.SP.800-218.SSDF-table.xlsx#SSDF!B25",
    ),
    (
        "ssdf-1.1-RV.1.1",
        "RV.1.1",
        "Gather information from software acquirers, users, and public sources on potential vulnerabilities in the software and third-party components that the software uses, and investigate all credible reports.",
        "https://csrc.nist.gov/csrc/media/Publications/sp/800-218/final/documents/NIST.SP.800-218.SSDF-table.xlsx#SSDF!B35",
    ),
];

const CHARTER_URL: &str = "https://digital.nhs.uk/cyber-and-data-security/guidance-and-assurance/cyber-security-charter-for-suppliers-to-the-nhs";
const COP_URL: &str = "https://www.gov.uk/government/publications/software-security-code-of-practice/software-security-code-of-practice";
const DSPT_URL: &str = "https://www.dsptoolkit.nhs.uk/";
const CAF_DSPT_URL: &str = "https://digital.nhs.uk/cyber-and-data-security/guidance-and-assurance/caf-aligned-dspt-guidance";

/// Which standard a requirement of the map belongs to: the DSPT's two editions are two
/// standards.
fn standard_ref(framework: Framework, id: &str) -> &'static str {
    match framework {
        Framework::Charter => "nhs-cyber-security-charter-2025",
        Framework::CodeOfPractice => "software-security-code-of-practice-2025",
        Framework::Ssdf => "ssdf-1.1",
        Framework::Dspt if id.starts_with('B') => "nhs-dspt-caf-aligned",
        Framework::Dspt => "nhs-dspt-non-caf-aligned",
    }
}

/// The `bom-ref` of a requirement of the map: CycloneDX's own for SSDF.
pub fn requirement_ref(framework: Framework, id: &str) -> String {
    format!("{}-{id}", standard_ref(framework, id))
}

fn documentation(url: &str) -> Vec<ExternalReference> {
    vec![ExternalReference {
        kind: "documentation".to_owned(),
        url: url.to_owned(),
        comment: None,
    }]
}

/// The standard whose `bom-ref` is `reference`, with no requirements yet.
fn standard(reference: &str) -> Standard {
    let (name, version, description, owner, url) = match reference {
        "nhs-cyber-security-charter-2025" => (
            "Cyber security charter for suppliers to the NHS",
            "2025",
            "NHS England's eight supplier commitments, cited by number; titles are charter-audit's short forms, not the charter's words",
            "NHS England",
            CHARTER_URL,
        ),
        "software-security-code-of-practice-2025" => (
            "Software Security Code of Practice",
            "2025-05-07",
            "The DSIT/NCSC code's provisions, cited by number; titles are charter-audit's short forms, not the code's words",
            "Department for Science, Innovation and Technology; National Cyber Security Centre",
            COP_URL,
        ),
        "ssdf-1.1" => (
            "Secure Software Development Framework (SSDF) Version 1.1",
            "1.1",
            "NIST Special Publication 800-218",
            "National Institute of Standards and Technology",
            "https://nvlpubs.nist.gov/nistpubs/SpecialPublications/NIST.SP.800-218.pdf",
        ),
        "nhs-dspt-caf-aligned" => (
            "Data Security and Protection Toolkit, CAF-aligned edition",
            "CAF-aligned",
            "The toolkit's Cyber Assessment Framework-aligned edition (from 2024-25 for many organisations), cited by objective and outcome",
            "NHS England",
            CAF_DSPT_URL,
        ),
        _ => (
            "Data Security and Protection Toolkit, non-CAF-aligned edition",
            "non-CAF-aligned",
            "The toolkit's edition organised by the National Data Guardian's standards, cited by standard and item",
            "NHS England",
            DSPT_URL,
        ),
    };
    Standard {
        bom_ref: reference.to_owned(),
        name: name.to_owned(),
        version: version.to_owned(),
        description: description.to_owned(),
        owner: owner.to_owned(),
        requirements: Vec::new(),
        external_references: documentation(url),
    }
}

/// The requirement a principle of the map is about.
fn requirement(principle: &Principle) -> Requirement {
    let reference = requirement_ref(principle.framework, &principle.id);
    if let Some((_, identifier, text, url)) = SSDF.iter().find(|(r, ..)| *r == reference) {
        return Requirement {
            bom_ref: reference,
            identifier: (*identifier).to_owned(),
            title: None,
            text: Some((*text).to_owned()),
            descriptions: Vec::new(),
            parent: None,
            external_references: documentation(url),
        };
    }
    // The Code of Practice's organisational provisions carry no title of ours: cited by number.
    let title = (principle.title != "organisational").then(|| principle.title.clone());
    Requirement {
        bom_ref: reference,
        identifier: principle.id.clone(),
        title,
        text: None,
        descriptions: Vec::new(),
        parent: None,
        external_references: Vec::new(),
    }
}

/// The standards of the map's requirements, in the order given, each with its requirements.
pub fn standards<'a>(map: impl IntoIterator<Item = &'a Principle>) -> Vec<Standard> {
    let mut out: Vec<Standard> = Vec::new();
    for principle in map {
        let reference = standard_ref(principle.framework, &principle.id);
        let index = match out.iter().position(|s| s.bom_ref == reference) {
            Some(index) => index,
            None => {
                out.push(standard(reference));
                out.len() - 1
            }
        };
        out[index].requirements.push(requirement(principle));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[ignore = "needs ../shared: run by .ci/run"]
    fn the_ssdf_requirements_are_cyclonedx_s_published_ones() {
        let text = std::fs::read_to_string(
            "../shared/specs/cyclonedx-standards/nist_secure-software-development-framework_1.1.cdx.json",
        )
        .unwrap();
        let published: serde_json::Value = serde_json::from_str(&text).unwrap();
        let theirs = &published["definitions"]["standards"][0];
        assert_eq!(theirs["bom-ref"], "ssdf-1.1");
        let ours = standard("ssdf-1.1");
        assert_eq!(theirs["name"], ours.name.as_str());
        assert_eq!(theirs["version"], ours.version.as_str());
        for (reference, identifier, text, url) in SSDF {
            let requirement = theirs["requirements"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["bom-ref"] == reference)
                .unwrap_or_else(|| panic!("{reference} is not published"));
            assert_eq!(requirement["identifier"], identifier);
            assert_eq!(requirement["text"], text);
            assert_eq!(requirement["externalReferences"][0]["url"], url);
        }
    }
}
