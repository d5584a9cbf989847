"""The client: one object per server and API key, gRPC or REST, the same methods and errors."""

from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Literal, Optional, Protocol, Sequence, TypeVar

from .errors import DeadlineExceeded, ZktxError
from .models import (
    Circuits,
    Entitlements,
    ItemResult,
    Receipt,
    ReceiptKey,
    StreamResult,
    Usage,
    Verification,
)
from .proof import Proof

T = TypeVar("T")

Transport = Literal["grpc", "rest"]


@dataclass(frozen=True)
class RetryPolicy:
    """When to call again: up to ``attempts`` calls in all, waiting a jittered exponential
    backoff from ``initial_backoff`` seconds (at most ``max_backoff``), and at least the
    server's ``retry_after``. Only errors whose ``retryable`` is true are retried
    (``UNAVAILABLE``, and ``RESOURCE_EXHAUSTED`` unless the daily quota is spent), as the Rust
    client does."""

    attempts: int = 4
    initial_backoff: float = 0.1
    max_backoff: float = 5.0

    @classmethod
    def none(cls) -> "RetryPolicy":
        """One attempt: every error is returned at once."""
        return cls(attempts=1)

    def wait(self, retry: int, retry_after: Optional[float]) -> float:
        """Seconds to wait before retry number ``retry`` (from 1)."""
        backoff = min(self.max_backoff, self.initial_backoff * 2.0 ** (retry - 1))
        jittered = backoff * (0.5 + random.random() / 2)
        return max(jittered, retry_after or 0.0)


class _Calls(Protocol):
    def close(self) -> None: ...
    def verify(self, proof: Proof, timeout: Optional[float]) -> Verification: ...
    def verify_batch(self, proofs: Sequence[Proof], timeout: Optional[float]) -> list[ItemResult]: ...
    def verify_stream(
        self, proofs: Iterable[Proof], window: int, timeout: Optional[float]
    ) -> Iterator[tuple[int, ItemResult]]: ...
    def receipt(self, receipt_id: str, timeout: Optional[float]) -> Receipt: ...
    def circuits(self, timeout: Optional[float]) -> Circuits: ...
    def usage(self, timeout: Optional[float]) -> Usage: ...
    def receipt_key(self, timeout: Optional[float]) -> ReceiptKey: ...
    def entitlements(self, timeout: Optional[float]) -> Entitlements: ...
    def attestation(self, timeout: Optional[float]) -> str: ...


class Client:
    """A zktx client.

    ``address``: ``host:port`` of the gRPC port (``http://127.0.0.1:50051``) or the REST port
    (``http://127.0.0.1:8080``) for ``transport="rest"``. ``timeout``: seconds per call, retries
    included (``None``: no deadline). ``max_batch``: items per ``VerifyBatch`` call (asked from
    the server's usage once when not given). ``stream_window``: proofs unanswered at a time on a
    stream. Use it as a context manager, or call :meth:`close`.

    Errors are :class:`zktx.ZktxError` subclasses by status code; verifying the same statement
    again is safe (a valid statement is metered once and answered with its first receipt).
    """

    def __init__(
        self,
        address: str,
        api_key: str,
        transport: Transport = "grpc",
        *,
        timeout: Optional[float] = 30.0,
        retry: RetryPolicy = RetryPolicy(),
        max_batch: Optional[int] = None,
        stream_window: int = 64,
    ) -> None:
        if transport == "grpc":
            from ._grpc import GrpcTransport

            self._calls: _Calls = GrpcTransport(address, api_key)
        elif transport == "rest":
            from ._rest import RestTransport

            self._calls = RestTransport(address, api_key)
        else:
            raise ValueError(f"transport must be 'grpc' or 'rest', not {transport!r}")
        if stream_window < 1:
            raise ValueError("stream_window must be at least 1")
        if max_batch is not None and max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.transport: Transport = transport
        self._timeout = timeout
        self._retry = retry
        self._max_batch = max_batch
        self._window = stream_window

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Closes the connection."""
        self._calls.close()

    def _with_retries(self, call: Callable[[Optional[float]], T]) -> T:
        deadline = None if self._timeout is None else time.monotonic() + self._timeout
        attempt = 1
        while True:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise DeadlineExceeded("the call's deadline passed before an answer")
            try:
                return call(remaining)
            except ZktxError as e:
                if not e.retryable or attempt >= self._retry.attempts:
                    raise
                pause = self._retry.wait(attempt, e.retry_after)
                if deadline is not None and time.monotonic() + pause >= deadline:
                    raise
                time.sleep(pause)
                attempt += 1

    def verify(self, proof: Proof) -> Verification:
        """Verifies one proof: the verdict, why it is invalid, the signed receipt, ``replayed``."""
        return self._with_retries(lambda t: self._calls.verify(proof, t))

    def max_batch(self) -> int:
        """Items per batch call: as given, or the plan's ``max_batch`` (asked once)."""
        if self._max_batch is None:
            self._max_batch = max(1, self.usage().max_batch)
        return self._max_batch

    def verify_batch(self, proofs: Sequence[Proof]) -> list[ItemResult]:
        """Verifies any number of proofs, sent in calls of :meth:`max_batch` items; one result
        per proof, in order: a :class:`Verification`, or the error that refused that item (its
        ``field`` names the proof by its index in ``proofs``: ``items[12].proof``)."""
        if not proofs:
            return []
        size = self.max_batch()
        results: list[ItemResult] = []
        for start in range(0, len(proofs), size):
            chunk = proofs[start : start + size]
            answers = self._with_retries(lambda t: self._calls.verify_batch(chunk, t))
            results.extend(_reindexed(r, start) for r in answers)
        return results

    def verify_stream(self, proofs: Iterable[Proof]) -> Iterator[StreamResult]:
        """Verifies proofs as they come, yielding a :class:`StreamResult` per proof (its index in
        ``proofs`` and its result) as answers arrive, not necessarily in order. gRPC: one
        ``VerifyStream`` call with at most ``stream_window`` proofs unanswered; REST: that many
        concurrent verify calls. A failure of the whole gRPC stream (an unknown API key, a plan
        without streaming) is raised; it is not retried."""
        for index, result in self._calls.verify_stream(proofs, self._window, self._timeout):
            yield StreamResult(index=index, result=result)

    def receipt(self, receipt_id: str) -> Receipt:
        """A receipt this tenant was issued."""
        return self._with_retries(lambda t: self._calls.receipt(receipt_id, t))

    def circuits(self) -> Circuits:
        """The circuits (tiers and keys) the server verifies, and the policy bundle's hash."""
        return self._with_retries(self._calls.circuits)

    def usage(self) -> Usage:
        """The caller's plan and today's metered proofs."""
        return self._with_retries(self._calls.usage)

    def receipt_key(self) -> ReceiptKey:
        """The key that signs receipts: keep it, and receipts check offline."""
        return self._with_retries(self._calls.receipt_key)

    def entitlements(self) -> Entitlements:
        """The caller's plan features, each on or off with the reason."""
        return self._with_retries(self._calls.entitlements)

    def attestation(self) -> str:
        """The server's signed software attestation (a DSSE envelope, JSON); check it with
        ``zktx attest verify --server``."""
        return self._with_retries(self._calls.attestation)




_ITEM = re.compile(r"^items\[(\d+)\]")


def _reindexed(result: ItemResult, offset: int) -> ItemResult:
    """An item's error names its field by the caller's index, not the call's."""
    if isinstance(result, ZktxError) and result.field:
        result.field = _ITEM.sub(lambda m: f"items[{int(m.group(1)) + offset}]", result.field)
    return result
