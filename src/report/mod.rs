//! Outputs: the only module that writes files or standard output.

pub mod audit;
pub mod html;
pub mod markdown;
pub mod principles;
pub mod sarif;
pub mod verify;
pub mod verify_html;
pub mod vex;
pub mod vex_in;
mod write;

pub use write::{
    Output, OutputError, append, check_destination, check_distinct, check_out_dir, create_new,
    emit, emit_all, remove_stale,
};
