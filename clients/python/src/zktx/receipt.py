"""Checking a receipt offline: its bytes, its group's Merkle path and the Ed25519 signature.

A receipt's bytes are a fixed line-oriented text (see the README, "Receipts"); the server signs
the receipts of one group commit together, over the root of an RFC 9162 Merkle tree of their
bytes, and each receipt carries its inclusion path. This is the same check as
``zktx receipt verify`` and the Rust client's ``Client::verify_receipt``.
"""

from __future__ import annotations

import hashlib
from typing import Optional, Sequence

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .models import Receipt

__all__ = ["ReceiptError", "verify_receipt", "signing_bytes", "group_root"]


class ReceiptError(ValueError):
    """Why a receipt does not check out (malformed key, signature or path, or a signature that
    does not match: the receipt was altered or signed by another key)."""


def signing_bytes(receipt: Receipt) -> bytes:
    """The receipt's own bytes: the leaf of its group's tree."""
    return (
        "zktx-receipt-v1\n"
        f"id={receipt.id}\n"
        f"tenant={receipt.tenant}\n"
        f"circuit={receipt.circuit}\n"
        f"key_fingerprint={receipt.key_fingerprint}\n"
        f"statement_digest={receipt.statement_digest}\n"
        f"verdict={receipt.verdict}\n"
        f"issued_at_ms={receipt.issued_at_ms}\n"
    ).encode("utf-8")


def _leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _root_from_path(leaf: bytes, index: int, size: int, path: Sequence[bytes]) -> Optional[bytes]:
    # RFC 9162, 2.1.3.2: verifying an inclusion proof.
    if index >= size:
        return None
    fn, sn = index, size - 1
    r = leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 == 1 or fn == sn:
            r = _node(p, r)
            if fn & 1 == 0:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = _node(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def group_root(receipt: Receipt) -> Optional[bytes]:
    """The Merkle root of the receipt's group rebuilt from its path (what the server's audit
    chain records), or ``None`` for a receipt signed alone."""
    batch = receipt.batch
    if batch is None:
        return None
    try:
        path = [bytes.fromhex(h) for h in batch.path]
    except ValueError:
        path = []
        valid = False
    else:
        valid = all(len(h) == 32 for h in path)
    root = _root_from_path(_leaf(signing_bytes(receipt)), batch.index, batch.size, path) if valid else None
    if root is None:
        raise ReceiptError(
            f"the inclusion path does not fit leaf {batch.index} of a group of {batch.size}"
        )
    return root


def verify_receipt(receipt: Receipt, public_key: str) -> None:
    """Checks that ``receipt`` was signed by ``public_key`` (64 hex digits, from
    ``Client.receipt_key()``) and not altered. Raises :class:`ReceiptError` when not."""
    try:
        key_bytes = bytes.fromhex(public_key.strip())
        if len(key_bytes) != 32:
            raise ValueError
        key = Ed25519PublicKey.from_public_bytes(key_bytes)
    except ValueError:
        raise ReceiptError("the public key is not 64 hex digits of an Ed25519 key") from None
    try:
        signature = bytes.fromhex(receipt.signature)
    except ValueError:
        signature = b""
    if len(signature) != 64:
        raise ReceiptError("the signature is not 128 hex digits")
    root = group_root(receipt)
    if root is not None and receipt.batch is not None:
        message = f"zktx-receipt-batch-v1\nroot={root.hex()}\nsize={receipt.batch.size}\n".encode()
    else:
        message = signing_bytes(receipt)
    try:
        key.verify(signature, message)
    except InvalidSignature:
        raise ReceiptError(
            "the signature does not match: the receipt was altered or signed by another key"
        ) from None
