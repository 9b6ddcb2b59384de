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
    let inventory = inventory::take(&args.inventory.inventory_options())?;
    let document = sbom::generate(
        &inventory,
        &SbomOptions {
            spec: args.spec(),
            format: args.format(),
            supplier,
            authors: args.supplier.author.clone(),
            stamp,
            evaluated_at: None,
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
