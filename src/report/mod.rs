//! Outputs: the only module that writes files or standard output.

mod write;

pub use write::{Output, OutputError, check_destination, emit};
