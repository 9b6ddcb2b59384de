//! DSSE envelopes (<https://github.com/secure-systems-lab/dsse>): the signature is over the
//! pre-authentication encoding of the payload type and the payload, never the payload alone.

use base64::Engine;
use serde::{Deserialize, Serialize};

use super::keys::{PrivateKey, PublicKey};

/// The payload type of an in-toto statement.
pub const IN_TOTO: &str = "application/vnd.in-toto+json";

/// A DSSE envelope, as JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// The payload, base64.
    pub payload: String,
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    pub signatures: Vec<Signature>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    /// A hint of which key signed; it never decides trust.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub keyid: String,
    /// The signature, base64.
    pub sig: String,
}

/// PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths in bytes as
/// ASCII decimal.
pub fn pae(payload_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// Signs `payload` with `key` into a one-signature envelope.
pub fn sign(
    payload: &[u8],
    payload_type: &str,
    key: &PrivateKey,
) -> Result<Envelope, super::keys::KeyError> {
    let signature = key.sign(&pae(payload_type, payload));
    let engine = base64::engine::general_purpose::STANDARD;
    Ok(Envelope {
        payload: engine.encode(payload),
        payload_type: payload_type.to_owned(),
        signatures: vec![Signature {
            keyid: key.public().keyid()?,
            sig: engine.encode(signature),
        }],
    })
}

/// Decodes base64 in the standard or the URL-safe alphabet, padded or not (DSSE allows both).
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    [STANDARD, URL_SAFE, STANDARD_NO_PAD, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(text.trim()).ok())
}

/// Which trusted keys signed the envelope's payload: each counted once, however many of its
/// signatures there are; key ids are ignored.
pub fn signers<'a>(
    envelope: &Envelope,
    payload: &[u8],
    keys: &'a [PublicKey],
) -> Vec<&'a PublicKey> {
    let message = pae(&envelope.payload_type, payload);
    let mut signed = vec![false; keys.len()];
    for signature in &envelope.signatures {
        let Some(bytes) = decode_base64(&signature.sig) else {
            continue;
        };
        for (index, key) in keys.iter().enumerate() {
            if !signed[index] && key.verify(&message, &bytes) {
                signed[index] = true;
            }
        }
    }
    keys.iter()
        .zip(signed)
        .filter_map(|(key, signed)| signed.then_some(key))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attest::keys::Algorithm;

    #[test]
    fn pae_known_answers() {
        // The DSSE specification's example.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ");
        // Lengths are bytes, not characters.
        assert_eq!(pae("t", "é".as_bytes()), "DSSEv1 1 t 2 é".as_bytes());
    }

    #[test]
    fn one_key_signing_twice_counts_once() {
        let key = PrivateKey::generate(Algorithm::Ed25519);
        let mut envelope = sign(b"{}", IN_TOTO, &key).unwrap();
        envelope.signatures.push(envelope.signatures[0].clone());
        let keys = [key.public()];
        assert_eq!(signers(&envelope, b"{}", &keys).len(), 1);
        // URL-safe base64 reads too.
        let bytes = decode_base64(&envelope.signatures[0].sig).unwrap();
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes);
        assert_eq!(decode_base64(&url).unwrap(), bytes);
    }
}
