//! Progress on long work (the database download, registry index lookups): a bar on standard
//! error when it is a terminal, nothing otherwise, so logs and pipes stay clean.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// A bar counting `len` items, labelled `what`.
pub fn items(len: u64, what: &str) -> ProgressBar {
    let bar = visible(len);
    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_owned());
    bar
}

/// A bar counting bytes of a download (of unknown length when `len` is `None`).
pub fn bytes(len: Option<u64>, what: &str) -> ProgressBar {
    let bar = visible(len.unwrap_or(0));
    let template = if len.is_some() {
        "{msg} [{bar:30}] {bytes}/{total_bytes}"
    } else {
        "{msg} {spinner} {bytes}"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_owned());
    bar
}

fn visible(len: u64) -> ProgressBar {
    if std::io::stderr().is_terminal() {
        ProgressBar::new(len)
    } else {
        ProgressBar::hidden()
    }
}
