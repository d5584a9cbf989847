#!/usr/bin/env python3
"""An independent check of zktx release provenance.

Verifies the DSSE envelope with securesystemslib (not zktx's code): the
Ed25519 signature over the DSSE pre-authentication encoding, with the key
given as hex; then reads the in-toto Statement v1 and checks every
subject's SHA-256 against the artifacts directory with hashlib. It also
checks that a copy with one payload byte changed is refused, so a verifier
that accepted everything would fail here.

usage: check_provenance.py PROVENANCE.dsse.json PUBLIC_KEY_HEX ARTIFACTS_DIR
"""

import base64
import copy
import hashlib
import json
import os
import sys

from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import VerificationError
from securesystemslib.signer import SSlibKey

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
SLSA_PROVENANCE_V1 = "https://slsa.dev/provenance/v1"


def key_from_hex(public_hex: str) -> SSlibKey:
    raw = bytes.fromhex(public_hex.strip())
    if len(raw) != 32:
        raise SystemExit("public key: expected 32 bytes of Ed25519 key as hex")
    # zktx's key id: the SHA-256 of the raw public key.
    keyid = hashlib.sha256(raw).hexdigest()
    return SSlibKey(keyid, "ed25519", "ed25519", {"public": raw.hex()})


def verify(envelope_json: dict, key: SSlibKey) -> dict:
    # from_dict rewrites the signatures in place: give it a copy.
    envelope = Envelope.from_dict(copy.deepcopy(envelope_json))
    if envelope.payload_type != "application/vnd.in-toto+json":
        raise VerificationError(f"payloadType is {envelope.payload_type!r}")
    envelope.verify([key], 1)
    return json.loads(envelope.payload)


def main() -> int:
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    path, public_hex, artifacts = sys.argv[1:]
    with open(path, encoding="utf-8") as f:
        envelope_json = json.load(f)
    key = key_from_hex(public_hex)
    try:
        statement = verify(envelope_json, key)
    except VerificationError as e:
        print(f"provenance: the DSSE signature does not verify: {e}", file=sys.stderr)
        return 1
    if statement.get("_type") != STATEMENT_TYPE:
        print("provenance: not an in-toto Statement v1", file=sys.stderr)
        return 1
    if statement.get("predicateType") != SLSA_PROVENANCE_V1:
        print("provenance: the predicate is not SLSA Provenance v1", file=sys.stderr)
        return 1
    subjects = statement.get("subject") or []
    if not subjects:
        print("provenance: no subjects", file=sys.stderr)
        return 1
    for subject in subjects:
        name = subject["name"]
        file = os.path.join(artifacts, name)
        if not os.path.isfile(file):
            print(f"subject {name}: missing", file=sys.stderr)
            return 1
        with open(file, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        if digest != subject["digest"]["sha256"]:
            print(f"subject {name}: SHA-256 differs", file=sys.stderr)
            return 1

    # A verifier that accepts anything would pass the above: show this one refuses.
    payload = bytearray(base64.b64decode(envelope_json["payload"]))
    payload[len(payload) // 2] ^= 0x01
    tampered = dict(envelope_json, payload=base64.b64encode(bytes(payload)).decode())
    try:
        verify(tampered, key)
    except VerificationError:
        pass
    else:
        print("provenance: a tampered payload verified: the check is broken", file=sys.stderr)
        return 1

    builder = statement["predicate"]["runDetails"]["builder"]["id"]
    print(
        f"securesystemslib: DSSE signature valid (key {key.keyid[:16]}), "
        f"{len(subjects)} subjects match, builder {builder}; a tampered payload is refused"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
