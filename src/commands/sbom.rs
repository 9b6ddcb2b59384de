//! `charter-audit sbom`: inventory → SBOM → output.

use super::Outcome;
use crate::Error;
use crate::cli::SbomArgs;
use crate::inventory;
use crate::report;
use crate::sbom::profile::{Cause, Gap};
use crate::sbom::{self, Artifact, Format, Profile, SbomError, SbomOptions};
use crate::time::Stamp;

pub(super) fn run(args: &SbomArgs) -> Result<Outcome, Error> {
    // Everything that can be checked before the work is checked first.
    let stamp = Stamp::from_env()?;
    let output = args.output();
    report::check_destination(&output)?;

    // The supplier from the flags, else from the configuration's [supplier] table.
    let config = match &args.supplier.supplier {
        Some(_) => None,
        None => args
            .config
            .clone()
            .or_else(|| args.inventory.default_config())
            .map(|path| crate::policy::load(None, Some(&path)))
            .transpose()?,
    };
    let supplier = args
        .supplier
        .supplier(config.as_ref().and_then(|c| c.supplier.as_ref()));
    let artifacts = super::attest::subjects(&args.subject)?
        .into_iter()
        .map(|s| Artifact {
            name: s.name,
            sha512: s.sha512,
        })
        .collect();
    let inventory = inventory::take(&args.inventory.inventory_options())?;
    let options = SbomOptions {
        spec: args.spec(),
        format: args.format(),
        supplier,
        authors: args.supplier.author.clone(),
        stamp,
        evaluated_at: None,
        profile: args.profile().unwrap_or_default(),
        artifacts,
    };
    let document = sbom::generate(&inventory, &options)?;
    // The profile's list is read from the JSON of the same SBOM (of the XML's twin).
    let notes = match args.profile() {
        None => Vec::new(),
        Some(profile) => {
            let json = match options.format {
                Format::Json => document.bytes.clone(),
                Format::Xml => {
                    sbom::generate(
                        &inventory,
                        &SbomOptions {
                            format: Format::Json,
                            ..options.clone()
                        },
                    )?
                    .bytes
                }
            };
            let gaps = sbom::profile::gaps(profile, &json)
                .map_err(|e| SbomError::Readback(e.to_string()))?;
            profile_notes(profile, &gaps)
        }
    };
    report::emit(&output, &document.bytes)?;

    let mut warnings = inventory.warnings;
    warnings.extend(document.warnings);
    Ok(Outcome {
        code: 0,
        warnings,
        notes,
    })
}

/// What the SBOM lacks of the profile, field by field, for standard error.
fn profile_notes(profile: Profile, gaps: &[Gap]) -> Vec<String> {
    if gaps.is_empty() {
        return vec![format!(
            "{}: the SBOM holds every field {} asks for",
            profile.as_str(),
            profile.title()
        )];
    }
    let mut notes = vec![format!(
        "{}: {} gap(s) against {}, field by field (the SBOM is written all the same):",
        profile.as_str(),
        gaps.len(),
        profile.title()
    )];
    for (cause, heading) in [
        (Cause::Supplier, "yours to give"),
        (Cause::Absent, "not in the document"),
        (Cause::Unknowable, "not known, and not invented"),
    ] {
        for gap in gaps.iter().filter(|g| g.cause == cause) {
            notes.push(format!("  [{heading}] {}", gap.describe()));
        }
    }
    notes
}
