"""Proof files (``zktx prove`` writes them) and what a call submits."""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass
from typing import Any, Mapping, Union

from .errors import InvalidArgument

PROOF_BYTES = 192
"""A compressed Groth16 proof over BLS12-381: A (G1, 48) | B (G2, 96) | C (G1, 48)."""


@dataclass(frozen=True)
class PublicInputs:
    """The statement: both commitments and the context as 64 hex digits, and the bound k."""

    commit_a: str
    commit_b: str
    k: int
    context: str

    def to_json(self) -> dict[str, Any]:
        """The REST body's ``public_inputs``."""
        return {
            "commit_a": self.commit_a,
            "commit_b": self.commit_b,
            "k": self.k,
            "context": self.context,
        }


@dataclass(frozen=True)
class Proof:
    """One proof and what it claims, ready to submit."""

    key_fingerprint: str
    public_inputs: PublicInputs
    proof: bytes

    @classmethod
    def from_envelope(cls, envelope: Mapping[str, Any]) -> "Proof":
        """The proof in a parsed proof file. Raises :class:`InvalidArgument` naming the field
        that is missing or malformed (never its value)."""

        def text(obj: Mapping[str, Any], name: str, path: str) -> str:
            value = obj.get(name)
            if not isinstance(value, str):
                raise InvalidArgument(f"{path} is missing or not a string", field=path)
            return value

        inputs = envelope.get("public_inputs")
        if not isinstance(inputs, Mapping):
            raise InvalidArgument("public_inputs is missing or not an object", field="public_inputs")
        k = inputs.get("k")
        if not isinstance(k, int) or isinstance(k, bool) or k < 0:
            raise InvalidArgument("public_inputs.k is not a whole number", field="public_inputs.k")
        try:
            raw = base64.b64decode(text(envelope, "proof", "proof"), validate=True)
        except (binascii.Error, ValueError):
            raise InvalidArgument("proof is not base64", field="proof") from None
        if len(raw) != PROOF_BYTES:
            raise InvalidArgument(
                f"proof is {len(raw)} bytes, not {PROOF_BYTES}", field="proof"
            )
        return cls(
            key_fingerprint=text(envelope, "vk_fingerprint", "vk_fingerprint"),
            public_inputs=PublicInputs(
                commit_a=text(inputs, "commit_a", "public_inputs.commit_a"),
                commit_b=text(inputs, "commit_b", "public_inputs.commit_b"),
                k=k,
                context=text(inputs, "context", "public_inputs.context"),
            ),
            proof=raw,
        )

    def to_json(self) -> dict[str, Any]:
        """The REST body of one submission."""
        return {
            "key_fingerprint": self.key_fingerprint,
            "public_inputs": self.public_inputs.to_json(),
            "proof": base64.b64encode(self.proof).decode("ascii"),
        }


def load_proof(path: Union[str, "os.PathLike[str]"]) -> Proof:
    """Reads a proof file. Raises :class:`InvalidArgument` when it is not a proof file."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        envelope = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InvalidArgument("the proof file is not JSON", field="proof_file") from None
    if not isinstance(envelope, dict):
        raise InvalidArgument("the proof file is not a JSON object", field="proof_file")
    return Proof.from_envelope(envelope)
