//! `charter-audit sbom`: inventory → SBOM → output.

use super::Outcome;
use crate::Error;
use crate::cli::SbomArgs;
use crate::inventory;
use crate::report;
use crate::sbom::{self, SbomOptions};
use crate::time::Stamp;

pub(super) fn run(args: &SbomArgs) -> Result<Outcome, Error> {
    // Everything that can be checked before the work is checked first.
    let stamp = Stamp::from_env()?;
    let output = args.output();
    report::check_destination(&output)?;

    // The supplier from the flags, else from the configuration's [supplier] table.
    let supplier = match args.supplier() {
        Some(supplier) => Some(supplier),
        None => {
            let path = args
                .config
                .clone()
                .or_else(|| args.inventory.default_config());
            match path {
                Some(path) => {
                    crate::policy::load(None, Some(&path))?
                        .supplier
                        .map(|s| sbom::Supplier {
                            name: s.name,
                            url: s.url,
                            contact: s.contact,
                        })
                }
                None => None,
            }
        }
    };
    let inventory = inventory::take(&args.inventory.inventory_options())?;
    let document = sbom::generate(
        &inventory,
        &SbomOptions {
            spec: args.spec(),
            format: args.format(),
            supplier,
            authors: args.author.clone(),
            stamp,
        },
    )?;
    report::emit(&output, &document.bytes)?;

    let mut warnings = inventory.warnings;
    warnings.extend(document.warnings);
    Ok(Outcome {
        code: 0,
        warnings,
        ..Outcome::default()
    })
}
