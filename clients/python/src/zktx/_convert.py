"""Answers of either transport turned into the client's models."""

from __future__ import annotations

from typing import Any, Mapping, Optional

from . import errors
from .errors import ZktxError
from .models import (
    Circuit,
    Circuits,
    Entitlement,
    Entitlements,
    ItemResult,
    Receipt,
    ReceiptBatch,
    ReceiptKey,
    Usage,
    Verdict,
    Verification,
)
from .v1 import verifier_pb2 as pb


class Unreadable(errors.Internal):
    """An answer whose shape this client does not know."""


def _verdict(text: str) -> Verdict:
    if text == "valid":
        return "valid"
    if text == "invalid":
        return "invalid"
    raise Unreadable("the answer's verdict is neither valid nor invalid")


# ---- REST (JSON) ----


def _get(obj: Mapping[str, Any], name: str, kind: type) -> Any:
    value = obj.get(name)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise Unreadable(f"the answer's {name} is missing or not a {kind.__name__}")
    return value


def receipt_from_json(obj: Any) -> Receipt:
    """A receipt as ``GET /v1/receipts/{id}`` returns it (or inside a verify response)."""
    if not isinstance(obj, Mapping):
        raise Unreadable("the answer's receipt is not an object")
    batch: Optional[ReceiptBatch] = None
    raw_batch = obj.get("batch")
    if raw_batch is not None:
        if not isinstance(raw_batch, Mapping):
            raise Unreadable("the answer's receipt batch is not an object")
        path = _get(raw_batch, "path", list)
        if not all(isinstance(h, str) for h in path):
            raise Unreadable("the answer's receipt path is not a list of hex strings")
        batch = ReceiptBatch(
            size=_get(raw_batch, "size", int), index=_get(raw_batch, "index", int), path=tuple(path)
        )
    return Receipt(
        id=_get(obj, "id", str),
        tenant=_get(obj, "tenant", str),
        circuit=_get(obj, "circuit", str),
        key_fingerprint=_get(obj, "key_fingerprint", str),
        statement_digest=_get(obj, "statement_digest", str),
        verdict=_verdict(_get(obj, "verdict", str)),
        issued_at_ms=_get(obj, "issued_at_ms", int),
        signature=_get(obj, "signature", str),
        batch=batch,
    )


def verification_from_json(obj: Any) -> Verification:
    """A REST verify response."""
    if not isinstance(obj, Mapping):
        raise Unreadable("the answer is not an object")
    return Verification(
        verdict=_verdict(_get(obj, "verdict", str)),
        reason=_get(obj, "reason", str),
        receipt=receipt_from_json(obj.get("receipt")),
        replayed=_get(obj, "replayed", bool),
    )


def error_from_json(obj: Any, status: int, retry_after: Optional[float] = None) -> ZktxError:
    """A REST error body (also a batch item's); the bare HTTP status when it is not one."""
    if isinstance(obj, Mapping) and isinstance(obj.get("code"), str):
        secs = obj.get("retry_after_secs")
        return errors.error_for(
            obj["code"],
            str(obj.get("message", "")),
            field=obj.get("field") if isinstance(obj.get("field"), str) else None,
            retry_after=float(secs) if isinstance(secs, int) else retry_after,
            reason=obj.get("reason") if isinstance(obj.get("reason"), str) else None,
        )
    return errors.error_for_status(status, retry_after)


def item_from_json(obj: Any) -> ItemResult:
    """One item of a REST batch response."""
    if isinstance(obj, Mapping) and obj.get("response") is not None:
        return verification_from_json(obj["response"])
    if isinstance(obj, Mapping) and obj.get("error") is not None:
        return error_from_json(obj["error"], 0)
    raise Unreadable("a batch item holds neither a response nor an error")


def circuits_from_json(obj: Any, policy_sha256: str) -> Circuits:
    """``GET /v1/circuits`` (the policy hash rides in a header)."""
    if not isinstance(obj, list):
        raise Unreadable("the circuits answer is not a list")
    return Circuits(
        circuits=tuple(
            Circuit(
                circuit=_get(c, "circuit", str),
                tier=_get(c, "tier", int),
                key_fingerprint=_get(c, "key_fingerprint", str),
                constraints=_get(c, "constraints", int),
                dev_keys=_get(c, "dev_keys", bool),
                allowed=_get(c, "allowed", bool),
            )
            for c in obj
        ),
        policy_sha256=policy_sha256,
    )


def usage_from_json(obj: Any) -> Usage:
    """``GET /v1/usage``."""
    if not isinstance(obj, Mapping):
        raise Unreadable("the usage answer is not an object")
    return Usage(
        tenant=_get(obj, "tenant", str),
        plan=_get(obj, "plan", str),
        utc_day=_get(obj, "utc_day", int),
        proofs_today=_get(obj, "proofs_today", int),
        daily_quota=_get(obj, "daily_quota", int),
        max_batch=_get(obj, "max_batch", int),
        requests_per_second=_get(obj, "requests_per_second", int),
    )


def receipt_key_from_json(obj: Any) -> ReceiptKey:
    """``GET /v1/receipt-key``."""
    if not isinstance(obj, Mapping):
        raise Unreadable("the receipt key answer is not an object")
    return ReceiptKey(algorithm=_get(obj, "algorithm", str), public_key=_get(obj, "public_key", str))


def entitlements_from_json(obj: Any) -> Entitlements:
    """``GET /v1/entitlements``."""
    if not isinstance(obj, Mapping):
        raise Unreadable("the entitlements answer is not an object")
    return Entitlements(
        tenant=_get(obj, "tenant", str),
        plan=_get(obj, "plan", str),
        edition=_get(obj, "edition", str),
        price_per_proof_usd=_get(obj, "price_per_proof_usd", str),
        ceremony_keys=_get(obj, "ceremony_keys", bool),
        policy_pinned=_get(obj, "policy_pinned", bool),
        policy_sha256=_get(obj, "policy_sha256", str),
        features=tuple(
            Entitlement(
                feature=_get(f, "feature", str),
                enabled=_get(f, "enabled", bool),
                value=f.get("value") or "",
                reason=_get(f, "reason", str),
            )
            for f in _get(obj, "features", list)
        ),
    )


# ---- gRPC (protobuf) ----


def _pb_verdict(value: int) -> Verdict:
    if value == pb.VERDICT_VALID:
        return "valid"
    if value == pb.VERDICT_INVALID:
        return "invalid"
    raise Unreadable("the answer's verdict is neither valid nor invalid")


def receipt_from_pb(msg: pb.Receipt) -> Receipt:
    """A receipt message."""
    return Receipt(
        id=msg.id,
        tenant=msg.tenant,
        circuit=msg.circuit,
        key_fingerprint=msg.key_fingerprint,
        statement_digest=msg.statement_digest,
        verdict=_pb_verdict(msg.verdict),
        issued_at_ms=msg.issued_at_ms,
        signature=msg.signature.hex(),
        batch=ReceiptBatch(
            size=msg.batch.size,
            index=msg.batch.index,
            path=tuple(h.hex() for h in msg.batch.path),
        )
        if msg.HasField("batch")
        else None,
    )


def verification_from_pb(msg: pb.VerifyResponse) -> Verification:
    """A verify response message."""
    if not msg.HasField("receipt"):
        raise Unreadable("the answer carries no receipt")
    return Verification(
        verdict=_pb_verdict(msg.verdict),
        reason=msg.reason,
        receipt=receipt_from_pb(msg.receipt),
        replayed=msg.replayed,
    )


def item_from_pb(msg: pb.ItemResult) -> ItemResult:
    """One item of a batch or stream."""
    which = msg.WhichOneof("outcome")
    if which == "response":
        return verification_from_pb(msg.response)
    if which == "error":
        e = msg.error
        return errors.error_for(e.code, e.message, field=e.field, reason=e.reason)
    raise Unreadable("a batch item holds neither a response nor an error")
