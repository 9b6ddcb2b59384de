//! The shared model (`src/model/`) imports neither `report` nor `attest` (nor the command
//! layer): `report` renders it and `attest` makes it, so neither has to import the other.

use std::path::Path;

#[test]
fn the_model_imports_no_stage_and_no_command() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/model");
    let mut read = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        read += 1;
        let text = std::fs::read_to_string(&path).unwrap();
        for forbidden in [
            "crate::report",
            "crate::attest",
            "crate::commands",
            "crate::cli",
        ] {
            assert!(
                !text.contains(forbidden),
                "{} names {forbidden}: the model imports neither report nor attest nor commands",
                path.display()
            );
        }
    }
    assert!(read >= 2, "src/model/ holds mod.rs and verification.rs");
}
