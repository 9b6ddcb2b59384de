#!/usr/bin/env python3
"""DSSE interoperability with securesystemslib, both ways.

usage: interop_dsse.py check SAMPLES   securesystemslib verifies every envelope charter-audit
                                       signed (SAMPLES/ALG.intoto.json with SAMPLES/ALG.pub),
                                       under the key id it computes itself
       interop_dsse.py sign SAMPLES OUT  securesystemslib signs the same statements with new
                                       Ed25519 and ECDSA P-256 keys: OUT/ALG.intoto.json and
                                       OUT/ALG.pub, for `charter-audit verify`
"""
import base64
import json
import pathlib
import sys

from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_public_key,
)
from securesystemslib.dsse import Envelope
from securesystemslib.signer import CryptoSigner, SSlibKey

ALGORITHMS = ["ed25519", "ecdsa-p256"]


def check(samples: pathlib.Path) -> int:
    failed = 0
    for algorithm in ALGORITHMS:
        # The private key charter-audit keygen wrote loads in Python's cryptography (so in
        # securesystemslib's CryptoSigner), and matches the public key.
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        private = load_pem_private_key((samples / f"{algorithm}.key").read_bytes(), None)
        public = load_pem_public_key((samples / f"{algorithm}.pub").read_bytes())
        if private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo) != public.public_bytes(
            Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
        ):
            print(f"{algorithm}: keygen's private key does not match its public key")
            failed += 1
        envelope = json.loads((samples / f"{algorithm}.intoto.json").read_text())
        key = SSlibKey.from_crypto(load_pem_public_key((samples / f"{algorithm}.pub").read_bytes()))
        # The key id charter-audit wrote must be the one securesystemslib computes.
        if envelope["signatures"][0]["keyid"] != key.keyid:
            print(f"{algorithm}: key id {envelope['signatures'][0]['keyid']} is not securesystemslib's {key.keyid}")
            failed += 1
            continue
        try:
            Envelope.from_dict(envelope).verify([key], 1)
        except Exception as error:  # noqa: BLE001 - any failure is the answer
            print(f"{algorithm}: securesystemslib did not verify it: {error!r}")
            failed += 1
            continue
        # And a tampered payload must fail.
        tampered = dict(envelope)
        payload = bytearray(base64.b64decode(envelope["payload"]))
        payload[10] ^= 1
        tampered["payload"] = base64.b64encode(bytes(payload)).decode()
        try:
            Envelope.from_dict(tampered).verify([key], 1)
            print(f"{algorithm}: securesystemslib verified a tampered envelope")
            failed += 1
        except Exception:  # noqa: BLE001
            print(f"{algorithm}: securesystemslib verifies charter-audit's envelope, key id {key.keyid}")
    return 1 if failed else 0


def sign(samples: pathlib.Path, out: pathlib.Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    for algorithm in ALGORITHMS:
        source = json.loads((samples / f"{algorithm}.intoto.json").read_text())
        signer = CryptoSigner.generate_ed25519() if algorithm == "ed25519" else CryptoSigner.generate_ecdsa()
        envelope = Envelope(base64.b64decode(source["payload"]), source["payloadType"], {})
        envelope.sign(signer)
        (out / f"{algorithm}.intoto.json").write_text(json.dumps(envelope.to_dict()))
        public = signer.public_key.keyval["public"]
        if algorithm == "ed25519":
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

            pem = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public)).public_bytes(
                Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
            )
        else:
            pem = public.encode()
        (out / f"{algorithm}.pub").write_bytes(pem)
        print(f"{algorithm}: securesystemslib signed {out / (algorithm + '.intoto.json')}")
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "check":
        sys.exit(check(pathlib.Path(sys.argv[2])))
    sys.exit(sign(pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])))
