//! The evidence model: the typed values that more than one output stage reads. The report
//! (written by `report`'s renderers, read back and attested by `attest`) lives here, so that
//! neither of those two stages imports the other. This module imports the stages upstream of it
//! (inventory, advisories, registry, policy) for the facts it carries, and never `report`,
//! `attest`, `commands` or `cli`.

mod check;
pub mod principles;
pub mod report;
pub mod verification;
