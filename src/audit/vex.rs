//! The VEX documents the auditor names (`--vex FILE`, never found in the audited project): read
//! bounded, parsed into typed statements (`crate::vex`), and, for a DSSE envelope, its
//! signature checked against the `--vex-key` keys before anything in it is believed. A signed
//! document that no given key verifies is refused (exit 2), never read as an unsigned one: a
//! signature that does not check is a reason for doubt, not the absence of a claim.

use std::path::{Path, PathBuf};

use crate::attest::dsse;
use crate::attest::keys::PublicKey;
use crate::vex::{self, Document};

/// The most bytes a `--vex-key` file may have.
const MAX_KEY_BYTES: u64 = 64 * 1024;

/// Why a VEX document or key was refused (exit 2): the file, and what is wrong with it.
#[derive(Debug, thiserror::Error)]
pub enum VexInputError {
    #[error("--vex {}: {message}", .path.display())]
    Document { path: PathBuf, message: String },
    #[error("--vex-key {}: {message}", .path.display())]
    Key { path: PathBuf, message: String },
    #[error(
        "--vex {}: it is signed (a DSSE envelope), but no --vex-key is given to check it: pass the signer's public key with --vex-key FILE",
        .path.display()
    )]
    NoKey { path: PathBuf },
    #[error(
        "--vex {}: its signature does not verify against any --vex-key given (key id hints: {hints}): it is refused, not read as unsigned",
        .path.display()
    )]
    NotVerified { path: PathBuf, hints: String },
}

/// Reads every `--vex` document, checking the signed ones against `keys`.
pub fn read_all(paths: &[PathBuf], key_paths: &[PathBuf]) -> Result<Vec<Document>, VexInputError> {
    let keys = read_keys(key_paths)?;
    paths.iter().map(|path| read(path, &keys)).collect()
}

fn read_keys(paths: &[PathBuf]) -> Result<Vec<PublicKey>, VexInputError> {
    let mut keys = Vec::new();
    for path in paths {
        let error = |message: String| VexInputError::Key {
            path: path.clone(),
            message,
        };
        let text = crate::regular_file::read_named_text(path, MAX_KEY_BYTES)
            .map_err(|e| error(e.to_string()))?;
        let key = PublicKey::from_pem(&text, &format!("--vex-key {}", path.display()))
            .map_err(|e| error(e.to_string()))?;
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    Ok(keys)
}

fn read(path: &Path, keys: &[PublicKey]) -> Result<Document, VexInputError> {
    let error = |message: String| VexInputError::Document {
        path: path.to_path_buf(),
        message,
    };
    let bytes = crate::regular_file::read_named(path, vex::MAX_BYTES).map_err(|e| match e {
        crate::regular_file::RegularFileError::TooLarge { .. } => {
            error(vex::VexError::TooLarge.to_string())
        }
        other => error(other.to_string()),
    })?;
    // The file's name only: the report never holds a path of the auditor's machine.
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "vex.json".to_owned());
    let parsed = vex::parse(&name, &bytes).map_err(|e| error(e.to_string()))?;
    let mut document = parsed.document;
    if let Some(envelope) = parsed.envelope {
        document.signer = Some(signer(path, &envelope, keys)?);
    }
    Ok(document)
}

/// The id of the first given key whose signature over the envelope verifies.
fn signer(
    path: &Path,
    envelope: &vex::Envelope,
    keys: &[PublicKey],
) -> Result<String, VexInputError> {
    if keys.is_empty() {
        return Err(VexInputError::NoKey {
            path: path.to_path_buf(),
        });
    }
    let checked = dsse::Envelope {
        payload: String::new(),
        payload_type: envelope.payload_type.clone(),
        signatures: envelope
            .signatures
            .iter()
            .map(|(keyid, sig)| dsse::Signature {
                keyid: keyid.clone(),
                sig: sig.clone(),
            })
            .collect(),
    };
    let signers = dsse::signers(&checked, &envelope.payload, keys);
    match signers.first() {
        Some(key) => key.keyid().map_err(|e| VexInputError::Key {
            path: path.to_path_buf(),
            message: e.to_string(),
        }),
        None => Err(VexInputError::NotVerified {
            path: path.to_path_buf(),
            hints: envelope
                .signatures
                .iter()
                .map(|(k, _)| if k.is_empty() { "none" } else { k.as_str() })
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}
