//! Attestation: in-toto statements of an audit, signed as DSSE envelopes, and their
//! verification for the NHS organisation that receives them.

pub mod accept;
pub mod bundle;
mod bundle_check;
pub mod cdx;
pub mod consistency;
pub mod dsse;
pub mod keys;
pub mod predicate;
pub mod statement;
pub mod ustar;
pub mod verify;
