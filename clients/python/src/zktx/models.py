"""What the API answers, as plain immutable values (the same from gRPC and REST)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Optional, Union

from .errors import ZktxError

Verdict = Literal["valid", "invalid"]


@dataclass(frozen=True)
class ReceiptBatch:
    """A receipt's place in the Merkle tree of its group commit: the group's size, this
    receipt's leaf index and the inclusion path (SHA-256 sibling hashes, hex, from the leaf up)."""

    size: int
    index: int
    path: tuple[str, ...]


@dataclass(frozen=True)
class Receipt:
    """A signed record of one verification; check it offline with :func:`zktx.verify_receipt`."""

    id: str
    tenant: str
    circuit: str
    key_fingerprint: str
    statement_digest: str
    verdict: Verdict
    issued_at_ms: int
    signature: str
    """Hex Ed25519 signature over the group's root text (or the receipt's own bytes)."""
    batch: Optional[ReceiptBatch] = None


@dataclass(frozen=True)
class Verification:
    """The answer for one proof: the verdict, why it is invalid (empty when valid), the signed
    receipt, and whether an earlier receipt for the same valid statement was returned."""

    verdict: Verdict
    reason: str
    receipt: Receipt
    replayed: bool

    @property
    def valid(self) -> bool:
        """Whether the proof verified."""
        return self.verdict == "valid"


ItemResult = Union[Verification, ZktxError]
"""One item of a batch or stream: its verification, or the error that refused it alone."""


@dataclass(frozen=True)
class StreamResult:
    """An answer from :meth:`zktx.Client.verify_stream`: the proof's position in the input and
    its result."""

    index: int
    result: ItemResult


@dataclass(frozen=True)
class Circuit:
    """A circuit (tier and key) the server verifies, and whether the caller's plan allows it."""

    circuit: str
    tier: int
    key_fingerprint: str
    constraints: int
    dev_keys: bool
    allowed: bool


@dataclass(frozen=True)
class Circuits:
    """The server's circuits and the SHA-256 of the admission policy bundle in force."""

    circuits: tuple[Circuit, ...]
    policy_sha256: str


@dataclass(frozen=True)
class Usage:
    """The caller's plan and today's metered proofs (``utc_day``: days since the Unix epoch)."""

    tenant: str
    plan: str
    utc_day: int
    proofs_today: int
    daily_quota: int
    max_batch: int
    requests_per_second: int


@dataclass(frozen=True)
class ReceiptKey:
    """The key that signs receipts: ``algorithm`` is ``ed25519``, ``public_key`` 64 hex digits."""

    algorithm: str
    public_key: str


@dataclass(frozen=True)
class Entitlement:
    """One feature of the caller's plan: on or off, its limit, and why."""

    feature: str
    enabled: bool
    value: str
    reason: str


@dataclass(frozen=True)
class Entitlements:
    """The caller's plan features and the evidence that gates some of them."""

    tenant: str
    plan: str
    edition: str
    price_per_proof_usd: str
    ceremony_keys: bool
    policy_pinned: bool
    policy_sha256: str
    features: tuple[Entitlement, ...] = field(default_factory=tuple)
