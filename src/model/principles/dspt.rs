//! The NHS Data Security and Protection Toolkit (DSPT) items an NHS assurance reader checks for
//! patching and known vulnerabilities (STANDARDS.md): in the non-CAF-aligned edition, National
//! Data Guardian standard 8's items 8.3 and 8.4; in the CAF-aligned edition, outcome B4.d.
//!
//! The toolkit is the organisation's self-assessment of its own estate. A release audit speaks
//! only to the supplier's product, and there only to its third-party components: so what it
//! evidences is never more than `partial`, and it says which part. Wording is quoted no further
//! than STANDARDS.md allows (the items' short titles); the rest is cited by identifier and
//! edition.

use super::{Framework, Principle, Status, entry};

/// What every DSPT entry says of its scope.
const SCOPE: &str = "toward it for the supplier's product only, its third-party components; never the organisation's own estate, which the toolkit asks about and a release audit does not see";

/// The worse of two statuses (not-evidenced worst, then partial, then evidenced).
fn worse(a: Status, b: Status) -> Status {
    a.max(b)
}

/// At most `partial`: a release audit covers part of what the item asks.
fn toward(status: Status) -> Status {
    match status {
        Status::Evidenced => Status::Partial,
        other => other,
    }
}

/// The DSPT entries, from the statuses of the product's patching and of detecting its
/// components' vulnerabilities.
pub(super) fn entries(patched: &(Status, String), detect: (Status, &str)) -> Vec<Principle> {
    let (patched, patched_why) = patched;
    let (detect, detect_why) = detect;
    let dspt = Framework::Dspt;
    vec![
        entry(
            dspt,
            "8.3",
            "Non-CAF-aligned edition, standard 8: Supported systems are kept up-to-date with the latest security patches",
            toward(*patched),
            format!("{SCOPE}: {patched_why}"),
        ),
        entry(
            dspt,
            "8.4",
            "Non-CAF-aligned edition, standard 8: You manage known vulnerabilities in your network and information systems",
            toward(worse(*patched, detect)),
            format!("{SCOPE}: detected: {detect_why}; managed: {patched_why}"),
        ),
        entry(
            dspt,
            "B4.d",
            "CAF-aligned edition, objective B4 (system security): outcome B4.d, vulnerability management",
            toward(detect),
            format!(
                "{SCOPE}: the product's exposure to publicly known vulnerabilities in its components: {detect_why}"
            ),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(map: &[Principle], id: &str) -> Status {
        map.iter().find(|p| p.id == id).unwrap().status
    }

    #[test]
    fn a_release_audit_never_evidences_more_than_part_of_the_toolkit() {
        let map = entries(
            &(Status::Evidenced, "all patched".to_owned()),
            (Status::Evidenced, "all checked"),
        );
        for id in ["8.3", "8.4", "B4.d"] {
            assert_eq!(status(&map, id), Status::Partial, "{id}");
            let evidence = &map.iter().find(|p| p.id == id).unwrap().evidence;
            assert!(
                evidence.contains("never the organisation's own estate"),
                "{evidence}"
            );
        }
    }

    #[test]
    fn a_fix_that_waited_too_long_is_never_evidence_of_managing_vulnerabilities() {
        let map = entries(
            &(Status::NotEvidenced, "1 known fix waited".to_owned()),
            (Status::Evidenced, "all checked"),
        );
        assert_eq!(status(&map, "8.3"), Status::NotEvidenced);
        assert_eq!(status(&map, "8.4"), Status::NotEvidenced);
        // Knowing the exposure is B4.d's question: the check ran on every component.
        assert_eq!(status(&map, "B4.d"), Status::Partial);
        let map = entries(
            &(Status::Evidenced, "all patched".to_owned()),
            (Status::Partial, "some not checked"),
        );
        assert_eq!(status(&map, "8.4"), Status::Partial);
        assert_eq!(status(&map, "B4.d"), Status::Partial);
    }
}
