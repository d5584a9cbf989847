"""Every method on both transports against a real sandbox, every error class, and receipts
checked offline (a tampered one refused)."""

from __future__ import annotations

import dataclasses
import json
import socket
import time
from pathlib import Path
from typing import Any, Callable

import pytest

import zktx
from zktx import Client, RetryPolicy, load_proof, verify_receipt

from .conftest import Sandbox

TRANSPORTS = ["grpc", "rest"]


def client(sandbox: Sandbox, transport: str, tenant: str = "wide", **options: object) -> Client:
    address = sandbox.grpc if transport == "grpc" else sandbox.rest
    return Client(address, sandbox.keys[tenant], transport, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_verify_answers_a_receipt_that_checks_offline(sandbox: Sandbox, transport: str) -> None:
    with client(sandbox, transport) as c:
        answer = c.verify(load_proof(sandbox.proofs[0]))
        assert answer.valid and answer.verdict == "valid" and answer.reason == ""
        key = c.receipt_key()
        assert key.algorithm == "ed25519" and len(key.public_key) == 64
        verify_receipt(answer.receipt, key.public_key)
        # The same receipt, fetched again, still checks.
        fetched = c.receipt(answer.receipt.id)
        assert fetched.id == answer.receipt.id
        assert fetched.statement_digest == answer.receipt.statement_digest
        verify_receipt(fetched, key.public_key)
        # Verifying the same valid statement again returns the first receipt, not metered.
        again = c.verify(load_proof(sandbox.proofs[0]))
        assert again.replayed and again.receipt.id == answer.receipt.id


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_tampered_receipt_is_refused(sandbox: Sandbox, transport: str) -> None:
    with client(sandbox, transport) as c:
        receipt = c.verify(load_proof(sandbox.proofs[1])).receipt
        key = c.receipt_key().public_key
    verify_receipt(receipt, key)
    assert receipt.batch is not None
    tampered = [
        dataclasses.replace(receipt, verdict="invalid"),
        dataclasses.replace(receipt, statement_digest="0" * 64),
        dataclasses.replace(receipt, tenant="someone-else"),
        dataclasses.replace(receipt, issued_at_ms=receipt.issued_at_ms + 1),
        dataclasses.replace(receipt, signature="00" * 64),
        dataclasses.replace(receipt, signature="not hex"),
        dataclasses.replace(receipt, batch=dataclasses.replace(receipt.batch, index=receipt.batch.index + 1)),
        dataclasses.replace(receipt, batch=dataclasses.replace(receipt.batch, path=("ab" * 32,) + receipt.batch.path)),
    ]
    for bad in tampered:
        with pytest.raises(zktx.ReceiptError):
            verify_receipt(bad, key)
    other_key = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    with pytest.raises(zktx.ReceiptError, match="altered or signed by another key"):
        verify_receipt(receipt, other_key)
    with pytest.raises(zktx.ReceiptError, match="public key"):
        verify_receipt(receipt, "abc")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_changed_statement_is_invalid_with_a_receipt(sandbox: Sandbox, transport: str) -> None:
    proof = load_proof(sandbox.proofs[2])
    changed = dataclasses.replace(proof, public_inputs=dataclasses.replace(proof.public_inputs, k=2))
    with client(sandbox, transport) as c:
        answer = c.verify(changed)
        assert answer.verdict == "invalid" and not answer.valid and answer.reason
        verify_receipt(answer.receipt, c.receipt_key().public_key)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_batches_are_split_by_max_batch_with_one_result_per_proof(sandbox: Sandbox, transport: str) -> None:
    proofs = [load_proof(p) for p in sandbox.proofs[:4]]
    broken = dataclasses.replace(
        proofs[0], public_inputs=dataclasses.replace(proofs[0].public_inputs, commit_a="zz" * 32)
    )
    with client(sandbox, transport, max_batch=2) as c:
        assert c.max_batch() == 2
        results = c.verify_batch([*proofs, broken])
    assert len(results) == 5
    for r in results[:4]:
        assert isinstance(r, zktx.Verification) and r.valid
    assert isinstance(results[4], zktx.InvalidArgument)
    assert results[4].field == "items[4].public_inputs.commit_a", "the caller's index"
    with client(sandbox, transport) as c:
        assert c.max_batch() == 8  # the plan's, asked once
        assert c.verify_batch([]) == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_stream_answers_every_proof_once(sandbox: Sandbox, transport: str) -> None:
    proofs = [load_proof(p) for p in sandbox.proofs]
    with client(sandbox, transport, stream_window=2) as c:
        seen = {}
        for item in c.verify_stream(iter(proofs)):
            assert item.index not in seen
            seen[item.index] = item.result
    assert sorted(seen) == list(range(len(proofs)))
    assert all(isinstance(r, zktx.Verification) and r.valid for r in seen.values())


def test_a_plan_without_streaming_refuses_the_stream(sandbox: Sandbox) -> None:
    proofs = [load_proof(p) for p in sandbox.proofs[:2]]
    with client(sandbox, "grpc", tenant="narrow") as c:
        with pytest.raises(zktx.PermissionDenied):
            list(c.verify_stream(iter(proofs)))
    # REST has no stream: each concurrent call is refused on its own (tier 4 is not in the plan).
    with client(sandbox, "rest", tenant="narrow") as c:
        results = [item.result for item in c.verify_stream(proofs)]
    assert len(results) == 2 and all(isinstance(r, zktx.PermissionDenied) for r in results)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_circuits_usage_entitlements_and_attestation(sandbox: Sandbox, transport: str) -> None:
    with client(sandbox, transport) as c:
        circuits = c.circuits()
        assert [x.tier for x in circuits.circuits] == [4]
        circuit = circuits.circuits[0]
        assert circuit.allowed and circuit.dev_keys and circuit.constraints > 0
        assert circuit.key_fingerprint == load_proof(sandbox.proofs[0]).key_fingerprint
        assert len(circuits.policy_sha256) == 64
        usage = c.usage()
        assert (usage.tenant, usage.plan, usage.max_batch) == ("wide", "wide", 8)
        assert usage.daily_quota == 1_000_000
        entitlements = c.entitlements()
        assert entitlements.tenant == "wide" and entitlements.features
        assert {f.feature for f in entitlements.features} >= {"tiers", "max_batch", "streaming"}
        envelope = json.loads(c.attestation())
        assert envelope["payloadType"] == "application/vnd.zktx.attestation+json"
        assert envelope["signatures"]
    with client(sandbox, transport, tenant="narrow") as c:
        assert not c.circuits().circuits[0].allowed


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_each_error_is_its_own_exception(sandbox: Sandbox, transport: str) -> None:
    proof = load_proof(sandbox.proofs[0])
    address = sandbox.grpc if transport == "grpc" else sandbox.rest
    with Client(address, "zktx_not_a_key", transport) as c:  # type: ignore[arg-type]
        with pytest.raises(zktx.Unauthenticated):
            c.verify(proof)
    with client(sandbox, transport, tenant="narrow") as c:
        with pytest.raises(zktx.PermissionDenied) as denied:
            c.verify(proof)
        assert "tier" in denied.value.message
    with client(sandbox, transport) as c:
        broken = dataclasses.replace(proof, public_inputs=dataclasses.replace(proof.public_inputs, context="x"))
        with pytest.raises(zktx.InvalidArgument) as invalid:
            c.verify(broken)
        assert invalid.value.field == "public_inputs.context"
        assert "x" not in invalid.value.message.split(), "the value is never echoed"
        with pytest.raises(zktx.NotFound):
            c.receipt("0" * 32)
        unknown_key = dataclasses.replace(proof, key_fingerprint="ab" * 32)
        with pytest.raises(zktx.NotFound):
            c.verify(unknown_key)
    with client(sandbox, transport, max_batch=9) as c:
        with pytest.raises(zktx.InvalidArgument) as over:
            c.verify_batch([proof] * 9)
        assert over.value.field == "items" and "at most 8" in over.value.message
        # A proof far larger than any call can need is refused before it is read.
        with pytest.raises(zktx.OutOfRange):
            c.verify(dataclasses.replace(proof, proof=bytes(1 << 20)))


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_spent_daily_quota_is_not_retried(sandbox: Sandbox, transport: str) -> None:
    with client(sandbox, transport, tenant="tiny") as c:
        started = time.monotonic()
        with pytest.raises(zktx.ResourceExhausted) as spent:
            for path in sandbox.proofs[3:]:
                c.verify(load_proof(path))
        assert spent.value.reason == "QUOTA_EXHAUSTED" and not spent.value.retryable
        assert time.monotonic() - started < 5, "returned at once, not retried"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_the_request_rate_is_retried_after_retry_after(sandbox: Sandbox, transport: str) -> None:
    proof = load_proof(sandbox.proofs[0])
    with client(sandbox, transport, tenant="slow", retry=RetryPolicy.none()) as c:
        with pytest.raises(zktx.ResourceExhausted) as limited:
            for _ in range(3):
                c.usage()
        assert limited.value.reason == "RATE_LIMITED" and limited.value.retryable
        assert limited.value.retry_after is not None and limited.value.retry_after >= 1
    with client(sandbox, transport, tenant="slow") as c:
        for _ in range(3):
            assert c.verify(proof).valid  # the client waits retry_after and calls again


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_an_unreachable_server_is_unavailable_and_retried(transport: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"127.0.0.1:{port}" if transport == "grpc" else f"http://127.0.0.1:{port}"
    with Client(address, "k", transport, timeout=10, retry=RetryPolicy(attempts=3, initial_backoff=0.2)) as c:  # type: ignore[arg-type]
        started = time.monotonic()
        with pytest.raises(zktx.Unavailable) as down:
            c.usage()
        assert down.value.retryable
        assert time.monotonic() - started >= 0.2, "retried after a backoff"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_passed_deadline_is_deadline_exceeded(transport: str) -> None:
    # A server that accepts connections and never answers: the call's own deadline ends it.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        address = f"127.0.0.1:{port}" if transport == "grpc" else f"http://127.0.0.1:{port}"
        with Client(address, "k", transport, timeout=0.5) as c:  # type: ignore[arg-type]
            started = time.monotonic()
            with pytest.raises(zktx.DeadlineExceeded):
                c.usage()
            assert time.monotonic() - started < 5


def test_proof_files_are_read_and_refused_by_field(tmp_path: Path, sandbox: Sandbox) -> None:
    proof = load_proof(sandbox.proofs[0])
    assert len(proof.proof) == 192 and proof.public_inputs.k == 1
    junk = tmp_path / "junk.json"
    junk.write_text("not json")
    with pytest.raises(zktx.InvalidArgument) as e:
        load_proof(junk)
    assert e.value.field == "proof_file"
    envelope = json.loads(sandbox.proofs[0].read_text())
    changes: list[tuple[str, Callable[[dict[str, Any]], object]]] = [
        ("proof", lambda env: env.update(proof="AAAA")),
        ("public_inputs.k", lambda env: env["public_inputs"].update(k=-1)),
        ("vk_fingerprint", lambda env: env.pop("vk_fingerprint")),
    ]
    for field, change in changes:
        broken = json.loads(json.dumps(envelope))
        change(broken)
        path = tmp_path / "broken.json"
        path.write_text(json.dumps(broken))
        with pytest.raises(zktx.InvalidArgument) as e:
            load_proof(path)
        assert e.value.field == field
