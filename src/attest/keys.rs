//! Signing keys: Ed25519 and ECDSA P-256 (SHA-256, DER signatures), as PKCS#8 (private) and
//! SPKI (public) PEM, with securesystemslib's key ids so that its users verify with no extra
//! step. A private key never appears in any output, log or error: errors say what is wrong
//! with it, never what is in it.

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signer, Verifier};
use sha2::{Digest, Sha256};

/// A signature algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    Ed25519,
    EcdsaP256,
}

impl Algorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Ed25519 => "ed25519",
            Algorithm::EcdsaP256 => "ecdsa-p256",
        }
    }
}

/// Why a key could not be used. Never holds key material.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "{what}: not a PKCS#8 PEM private key for Ed25519 or ECDSA P-256 (`-----BEGIN PRIVATE KEY-----`); make one with `charter-audit keygen`"
    )]
    NotPrivate { what: String },
    #[error(
        "{what}: not an SPKI PEM public key for Ed25519 or ECDSA P-256 (`-----BEGIN PUBLIC KEY-----`)"
    )]
    NotPublic { what: String },
    #[error("could not encode the key as PEM")]
    Encode,
}

enum Private {
    Ed25519(ed25519_dalek::SigningKey),
    EcdsaP256(p256::ecdsa::SigningKey),
}

/// A private signing key.
pub struct PrivateKey {
    inner: Private,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrivateKey({}, redacted)", self.algorithm().as_str())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Public {
    Ed25519(ed25519_dalek::VerifyingKey),
    EcdsaP256(p256::ecdsa::VerifyingKey),
}

/// A public key, to verify with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    inner: Public,
}

impl PrivateKey {
    /// A new key from the operating system's random source.
    pub fn generate(algorithm: Algorithm) -> PrivateKey {
        let mut rng = rand_core::OsRng;
        let inner = match algorithm {
            Algorithm::Ed25519 => Private::Ed25519(ed25519_dalek::SigningKey::generate(&mut rng)),
            Algorithm::EcdsaP256 => Private::EcdsaP256(p256::ecdsa::SigningKey::random(&mut rng)),
        };
        PrivateKey { inner }
    }

    /// Reads a PKCS#8 PEM private key; `what` names where it came from, for errors.
    pub fn from_pem(text: &str, what: &str) -> Result<PrivateKey, KeyError> {
        let text = text.trim();
        if let Ok(key) = ed25519_dalek::SigningKey::from_pkcs8_pem(text) {
            return Ok(PrivateKey {
                inner: Private::Ed25519(key),
            });
        }
        if let Ok(key) = p256::ecdsa::SigningKey::from_pkcs8_pem(text) {
            return Ok(PrivateKey {
                inner: Private::EcdsaP256(key),
            });
        }
        Err(KeyError::NotPrivate {
            what: what.to_owned(),
        })
    }

    /// The PKCS#8 PEM text (zeroised when dropped).
    pub fn to_pem(&self) -> Result<zeroize::Zeroizing<String>, KeyError> {
        let pem = match &self.inner {
            // PKCS#8 v1 (RFC 8410), without the optional public key of v2, which OpenSSL 3.0
            // and Python's cryptography do not read.
            Private::Ed25519(k) => ed25519_dalek::ed25519::pkcs8::KeypairBytes {
                secret_key: k.to_bytes(),
                public_key: None,
            }
            .to_pkcs8_pem(LineEnding::LF),
            Private::EcdsaP256(k) => k.to_pkcs8_pem(LineEnding::LF),
        };
        pem.map_err(|_| KeyError::Encode)
    }

    pub fn algorithm(&self) -> Algorithm {
        match self.inner {
            Private::Ed25519(_) => Algorithm::Ed25519,
            Private::EcdsaP256(_) => Algorithm::EcdsaP256,
        }
    }

    pub fn public(&self) -> PublicKey {
        let inner = match &self.inner {
            Private::Ed25519(k) => Public::Ed25519(k.verifying_key()),
            Private::EcdsaP256(k) => Public::EcdsaP256(*k.verifying_key()),
        };
        PublicKey { inner }
    }

    /// Signs `message`: Ed25519's 64 bytes, or ECDSA P-256 over SHA-256 in DER.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        match &self.inner {
            Private::Ed25519(k) => k.sign(message).to_bytes().to_vec(),
            Private::EcdsaP256(k) => {
                let signature: p256::ecdsa::Signature = k.sign(message);
                signature.to_der().as_bytes().to_vec()
            }
        }
    }
}

impl PublicKey {
    /// Reads an SPKI PEM public key; `what` names where it came from, for errors.
    pub fn from_pem(text: &str, what: &str) -> Result<PublicKey, KeyError> {
        let text = text.trim();
        if let Ok(key) = ed25519_dalek::VerifyingKey::from_public_key_pem(text) {
            return Ok(PublicKey {
                inner: Public::Ed25519(key),
            });
        }
        if let Ok(key) = p256::ecdsa::VerifyingKey::from_public_key_pem(text) {
            return Ok(PublicKey {
                inner: Public::EcdsaP256(key),
            });
        }
        Err(KeyError::NotPublic {
            what: what.to_owned(),
        })
    }

    /// The SPKI PEM text, with its trailing newline.
    pub fn to_pem(&self) -> Result<String, KeyError> {
        let pem = match &self.inner {
            Public::Ed25519(k) => k.to_public_key_pem(LineEnding::LF),
            Public::EcdsaP256(k) => k.to_public_key_pem(LineEnding::LF),
        };
        pem.map_err(|_| KeyError::Encode)
    }

    pub fn algorithm(&self) -> Algorithm {
        match self.inner {
            Public::Ed25519(_) => Algorithm::Ed25519,
            Public::EcdsaP256(_) => Algorithm::EcdsaP256,
        }
    }

    /// The SHA-256 fingerprint of the DER public key (SPKI), as `openssl pkey -pubin -outform
    /// DER | sha256sum` computes it.
    pub fn fingerprint(&self) -> Result<String, KeyError> {
        let der = match &self.inner {
            Public::Ed25519(k) => k.to_public_key_der(),
            Public::EcdsaP256(k) => k.to_public_key_der(),
        }
        .map_err(|_| KeyError::Encode)?;
        Ok(hex::encode(Sha256::digest(der.as_bytes())))
    }

    /// securesystemslib's key id: the SHA-256 of the canonical JSON of its key object,
    /// `{"keytype":"ed25519","keyval":{"public":"<hex>"},"scheme":"ed25519"}` or
    /// `{"keytype":"ecdsa","keyval":{"public":"<SPKI PEM>"},"scheme":"ecdsa-sha2-nistp256"}`.
    pub fn keyid(&self) -> Result<String, KeyError> {
        let (keytype, scheme, public) = match &self.inner {
            Public::Ed25519(k) => ("ed25519", "ed25519", hex::encode(k.as_bytes())),
            Public::EcdsaP256(_) => ("ecdsa", "ecdsa-sha2-nistp256", self.to_pem()?),
        };
        // Canonical JSON (OLPC, as securesystemslib writes it): keys sorted, no spaces, and in
        // strings only `\` and `"` escaped (a PEM's newlines stay raw).
        let json = format!(
            "{{\"keytype\":{},\"keyval\":{{\"public\":{}}},\"scheme\":{}}}",
            canonical_string(keytype),
            canonical_string(&public),
            canonical_string(scheme)
        );
        Ok(hex::encode(Sha256::digest(json.as_bytes())))
    }

    /// Whether `signature` is this key's over `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match &self.inner {
            Public::Ed25519(k) => ed25519_dalek::Signature::from_slice(signature)
                .is_ok_and(|s| k.verify(message, &s).is_ok()),
            Public::EcdsaP256(k) => p256::ecdsa::Signature::from_der(signature)
                .is_ok_and(|s| k.verify(message, &s).is_ok()),
        }
    }
}

fn canonical_string(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_verify_with_both_algorithms() {
        for algorithm in [Algorithm::Ed25519, Algorithm::EcdsaP256] {
            let key = PrivateKey::generate(algorithm);
            let pem = key.to_pem().unwrap();
            let again = PrivateKey::from_pem(&pem, "test").unwrap();
            let public = PublicKey::from_pem(&again.public().to_pem().unwrap(), "test").unwrap();
            assert_eq!(public, key.public());
            let signature = key.sign(b"message");
            assert!(public.verify(b"message", &signature));
            assert!(!public.verify(b"messagE", &signature));
            assert_eq!(public.algorithm(), algorithm);
        }
    }

    #[test]
    fn keyid_is_securesystemslibs() {
        // RFC 8032 test 1's public key, and the key id securesystemslib computes for it.
        let raw = hex::decode("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
            .unwrap();
        let key = ed25519_dalek::VerifyingKey::from_bytes(&raw.try_into().unwrap()).unwrap();
        let public = PublicKey {
            inner: Public::Ed25519(key),
        };
        // securesystemslib 1.6.0: hashlib.sha256(encode_canonical({...}).encode()).hexdigest().
        let expected = "74c181c7ad8a0855d4b55e44d2ba87aabdddb196832571f15f92fece332e4916";
        assert_eq!(public.keyid().unwrap(), expected);
    }

    #[test]
    fn errors_never_hold_the_key() {
        let text = "-----BEGIN PRIVATE KEY-----\nc2VjcmV0IHNlY3JldA==\n-----END PRIVATE KEY-----\n";
        let error = PrivateKey::from_pem(text, "CHARTER_AUDIT_SIGNING_KEY").unwrap_err();
        let message = error.to_string();
        assert!(message.starts_with("CHARTER_AUDIT_SIGNING_KEY: not a PKCS#8 PEM"));
        assert!(!message.contains("c2VjcmV0"));
        let key = PrivateKey::generate(Algorithm::Ed25519);
        assert_eq!(format!("{key:?}"), "PrivateKey(ed25519, redacted)");
    }
}
