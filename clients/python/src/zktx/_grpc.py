"""The gRPC transport: one HTTP/2 channel, the API key in the ``authorization`` metadata."""

from __future__ import annotations

import threading
from typing import Iterable, Iterator, Optional, Sequence, TypeVar

import grpc

from . import _convert, errors
from .errors import ZktxError
from .models import (
    Circuit,
    Circuits,
    Entitlement,
    Entitlements,
    ItemResult,
    Receipt,
    ReceiptKey,
    Usage,
    Verification,
)
from .proof import Proof
from .v1 import verifier_pb2 as pb
from .v1 import verifier_pb2_grpc as pb_grpc

Req = TypeVar("Req")
Resp = TypeVar("Resp")

# Transport failures below the API (the call may be retried): what the Rust client maps too.
_BELOW_THE_API = {grpc.StatusCode.UNKNOWN, grpc.StatusCode.CANCELLED}


def error_from_rpc(e: grpc.RpcError) -> ZktxError:
    """The client's error for a failed call, its trailers included."""
    call = e if isinstance(e, grpc.Call) else None
    code = call.code() if call is not None else grpc.StatusCode.UNAVAILABLE
    message = (call.details() if call is not None else None) or str(e)
    trailers: dict[str, str] = {}
    if call is not None:
        for key, value in call.trailing_metadata() or ():
            if isinstance(value, str):
                trailers[key] = value
    retry_after: Optional[float] = None
    if trailers.get("retry-after", "").isdigit():
        retry_after = float(trailers["retry-after"])
    name = "UNAVAILABLE" if code in _BELOW_THE_API else code.name
    return errors.error_for(
        name,
        message,
        field=trailers.get("x-zktx-field"),
        retry_after=retry_after,
        reason=trailers.get("x-zktx-reason"),
    )


def _submission(proof: Proof) -> pb.ProofSubmission:
    i = proof.public_inputs
    return pb.ProofSubmission(
        key_fingerprint=proof.key_fingerprint,
        public_inputs=pb.PublicInputs(commit_a=i.commit_a, commit_b=i.commit_b, k=i.k, context=i.context),
        proof=proof.proof,
    )


class GrpcTransport:
    """Calls over gRPC. ``address`` is ``host:port``, ``http://host:port`` or
    ``https://host:port`` (TLS with the system's roots)."""

    def __init__(self, address: str, api_key: str) -> None:
        if address.startswith("https://"):
            self._channel = grpc.secure_channel(
                address[len("https://") :], grpc.ssl_channel_credentials()
            )
        else:
            self._channel = grpc.insecure_channel(address.removeprefix("http://"))
        self._stub = pb_grpc.VerifierStub(self._channel)
        self._metadata = (("authorization", f"Bearer {api_key}"),)

    def close(self) -> None:
        """Closes the channel."""
        self._channel.close()

    def _unary(
        self, method: "grpc.UnaryUnaryMultiCallable[Req, Resp]", request: Req, timeout: Optional[float]
    ) -> Resp:
        try:
            return method(request, timeout=timeout, metadata=self._metadata)
        except grpc.RpcError as e:
            raise error_from_rpc(e) from None

    def verify(self, proof: Proof, timeout: Optional[float]) -> Verification:
        request = pb.VerifyRequest(submission=_submission(proof))
        return _convert.verification_from_pb(self._unary(self._stub.Verify, request, timeout))

    def verify_batch(self, proofs: Sequence[Proof], timeout: Optional[float]) -> list[ItemResult]:
        request = pb.VerifyBatchRequest(items=[_submission(p) for p in proofs])
        answer = self._unary(self._stub.VerifyBatch, request, timeout)
        if len(answer.results) != len(proofs):
            raise _convert.Unreadable("the batch answer does not have one result per proof")
        return [_convert.item_from_pb(r) for r in answer.results]

    def verify_stream(
        self, proofs: Iterable[Proof], window: int, timeout: Optional[float]
    ) -> Iterator[tuple[int, ItemResult]]:
        """One ``VerifyStream`` call: at most ``window`` proofs unanswered at a time; yields
        ``(index, result)`` as answers come. A failure of the whole stream is raised."""
        slots = threading.Semaphore(window)
        done = threading.Event()

        def requests() -> Iterator[pb.VerifyStreamRequest]:
            for index, proof in enumerate(proofs):
                while not slots.acquire(timeout=0.1):
                    if done.is_set():
                        return
                if done.is_set():
                    return
                yield pb.VerifyStreamRequest(sequence=index, submission=_submission(proof))

        responses = self._stub.VerifyStream(requests(), timeout=timeout, metadata=self._metadata)
        try:
            for response in responses:
                slots.release()
                yield response.sequence, _convert.item_from_pb(response.result)
        except grpc.RpcError as e:
            raise error_from_rpc(e) from None
        finally:
            done.set()
            responses.cancel()

    def receipt(self, receipt_id: str, timeout: Optional[float]) -> Receipt:
        request = pb.GetReceiptRequest(id=receipt_id)
        return _convert.receipt_from_pb(self._unary(self._stub.GetReceipt, request, timeout))

    def circuits(self, timeout: Optional[float]) -> Circuits:
        answer = self._unary(self._stub.ListCircuits, pb.ListCircuitsRequest(), timeout)
        return Circuits(
            circuits=tuple(
                Circuit(
                    circuit=c.circuit,
                    tier=c.tier,
                    key_fingerprint=c.key_fingerprint,
                    constraints=c.constraints,
                    dev_keys=c.dev_keys,
                    allowed=c.allowed,
                )
                for c in answer.circuits
            ),
            policy_sha256=answer.policy_sha256,
        )

    def usage(self, timeout: Optional[float]) -> Usage:
        u = self._unary(self._stub.GetUsage, pb.GetUsageRequest(), timeout)
        return Usage(
            tenant=u.tenant,
            plan=u.plan,
            utc_day=u.utc_day,
            proofs_today=u.proofs_today,
            daily_quota=u.daily_quota,
            max_batch=u.max_batch,
            requests_per_second=u.requests_per_second,
        )

    def receipt_key(self, timeout: Optional[float]) -> ReceiptKey:
        k = self._unary(self._stub.GetReceiptKey, pb.GetReceiptKeyRequest(), timeout)
        return ReceiptKey(algorithm=k.algorithm, public_key=k.public_key)

    def entitlements(self, timeout: Optional[float]) -> Entitlements:
        e = self._unary(self._stub.GetEntitlements, pb.GetEntitlementsRequest(), timeout)
        return Entitlements(
            tenant=e.tenant,
            plan=e.plan,
            edition=e.edition,
            price_per_proof_usd=e.price_per_proof_usd,
            ceremony_keys=e.ceremony_keys,
            policy_pinned=e.policy_pinned,
            policy_sha256=e.policy_sha256,
            features=tuple(
                Entitlement(
                    feature=f.feature, enabled=f.enabled, value=f.value, reason=f.reason
                )
                for f in e.features
            ),
        )

    def attestation(self, timeout: Optional[float]) -> str:
        a = self._unary(self._stub.GetAttestation, pb.GetAttestationRequest(), timeout)
        return a.envelope_json
