//! charter-audit: evidence that a supplier's product is kept patched, for the NHS England
//! Cyber Security Charter and the DSIT/NCSC Software Security Code of Practice.
//!
//! Data flows one way: [`inventory`] (what is in the product) → [`sbom`] (the CycloneDX
//! document) → outputs written by [`report`]. The [`commands`] module wires the stages together
//! for the binary; nothing below it prints.
#![forbid(unsafe_code)]

pub mod advisories;
pub mod attest;
pub mod audit;
pub mod cdx16;
pub mod cli;
pub mod commands;
pub mod compiled;
pub mod error;
pub mod inventory;
pub mod json;
pub mod model;
pub mod net;
pub mod policy;
pub mod process;
pub mod progress;
pub mod registry;
mod regular_file;
pub mod report;
pub mod sbom;
pub mod text;
pub mod time;
pub mod vex;

pub use error::Error;
