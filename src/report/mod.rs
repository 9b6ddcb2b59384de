//! Outputs: the only module that writes files or standard output.

pub mod audit;
mod write;

pub use write::{Output, OutputError, check_destination, emit};
