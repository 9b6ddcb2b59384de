//! Inventory is the first stage: it may use the foundation modules, never a later stage (a
//! supplier's SBOM reader once imported the advisories stage, which tied every stage into one
//! import loop). A wider check of every stage's arrows belongs with the architecture page; this
//! one pins the inventory's.

use std::path::Path;

/// What inventory may import from the rest of the crate.
const ALLOWED: [&str; 7] = [
    "inventory",
    "net",
    "process",
    "progress",
    "regular_file",
    "text",
    "time",
];

/// The top-level modules a file names after `crate::`, grouped imports (`crate::{a, b}`)
/// included.
fn crate_modules(source: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (at, _) in source.match_indices("crate::") {
        let rest = &source[at + "crate::".len()..];
        let names = match rest.strip_prefix('{') {
            Some(group) => group.split('}').next().unwrap_or_default(),
            None => rest,
        };
        for item in names.split(',') {
            let name: String = item
                .trim_start()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.push(name);
            }
            if rest.starts_with('{') {
                continue;
            }
            break;
        }
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn inventory_imports_no_other_stage() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/inventory");
    let mut files = Vec::new();
    rust_files(&dir, &mut files);
    assert!(
        files.len() > 5,
        "no inventory sources under {}",
        dir.display()
    );
    let mut arrows = Vec::new();
    // This file names later stages on purpose, to test the scanner.
    for file in files.iter().filter(|f| !f.ends_with("import_tests.rs")) {
        let source = std::fs::read_to_string(file).unwrap();
        for module in crate_modules(&source) {
            if !ALLOWED.contains(&module.as_str()) {
                arrows.push(format!("{} -> crate::{module}", file.display()));
            }
        }
    }
    assert!(
        arrows.is_empty(),
        "inventory imports a later stage: {arrows:#?}"
    );
}

#[test]
fn grouped_and_nested_imports_are_seen() {
    let source = "use crate::text::clean;\nuse crate::{advisories::foreign, policy};\nlet x = crate::sbom::input::MAX;";
    assert_eq!(
        crate_modules(source),
        ["text", "advisories", "policy", "sbom"]
    );
}
