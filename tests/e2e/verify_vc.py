#!/usr/bin/python3
"""An independent verifier of eddsa-jcs-2022 Data Integrity proofs (W3C "Data Integrity EdDSA
Cryptosuites v1.0", section 3.3), written from the specification for the tests: its own JCS
(RFC 8785) and base58, and Ed25519 from Debian's python3-cryptography.

usage: verify_vc.py CREDENTIAL.json MULTIKEY.json
Exit 0 and "valid" when the proof verifies with the Multikey's public key, 1 and why not otherwise.
"""
import hashlib
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58decode(text):
    n = 0
    for ch in text:
        n = n * 58 + ALPHABET.index(ch)
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


def jcs(value):
    """RFC 8785 for the JSON this platform writes (no floating-point numbers)."""
    if isinstance(value, dict):
        names = sorted(value, key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(jcs(k) + ":" + jcs(value[k]) for k in names) + "}"
    if isinstance(value, list):
        return "[" + ",".join(jcs(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if value is None:
        return "null"
    if isinstance(value, str):
        out = '"'
        for ch in value:
            short = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n",
                     "\r": "\\r", "\t": "\\t"}
            if ch in short:
                out += short[ch]
            elif ord(ch) < 0x20:
                out += "\\u%04x" % ord(ch)
            else:
                out += ch
        return out + '"'
    raise ValueError("unsupported JSON value %r" % (value,))


def fail(why):
    print("invalid: " + why)
    sys.exit(1)


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        secured = json.load(f)
    with open(sys.argv[2], encoding="utf-8") as f:
        multikey = json.load(f)
    proof = secured.pop("proof", None)
    if not isinstance(proof, dict):
        fail("no proof")
    if proof.get("type") != "DataIntegrityProof" or proof.get("cryptosuite") != "eddsa-jcs-2022":
        fail("not an eddsa-jcs-2022 DataIntegrityProof")
    if proof.get("verificationMethod") != multikey.get("id"):
        fail("the proof names another verification method")
    if "https://www.w3.org/ns/credentials/v2" != secured.get("@context", [None])[0]:
        fail("not a VC Data Model 2.0 credential")
    options = dict(proof)
    proof_value = options.pop("proofValue", "")
    if "@context" in options:
        context = secured.get("@context", [])
        if context[: len(options["@context"])] != options["@context"]:
            fail("the proof's @context is not the document's")
        secured["@context"] = options["@context"]
    if not proof_value.startswith("z"):
        fail("proofValue is not base58-btc multibase")
    signature = b58decode(proof_value[1:])
    key = b58decode(multikey["publicKeyMultibase"][1:])
    if key[:2] != b"\xed\x01" or len(key) != 34:
        fail("not an Ed25519 Multikey")
    hash_data = (hashlib.sha256(jcs(options).encode("utf-8")).digest() +
                 hashlib.sha256(jcs(secured).encode("utf-8")).digest())
    try:
        Ed25519PublicKey.from_public_bytes(key[2:]).verify(signature, hash_data)
    except InvalidSignature:
        fail("the signature does not verify")
    print("valid")


if __name__ == "__main__":
    main()
