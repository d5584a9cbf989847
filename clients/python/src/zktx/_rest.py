"""The REST transport: JSON over HTTP/1.1 with the standard library, the API key as a bearer
token and the deadline in ``x-zktx-timeout-ms``."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any, Iterable, Iterator, Optional, Sequence

from . import _convert, errors
from .models import Circuits, Entitlements, ItemResult, Receipt, ReceiptKey, Usage, Verification
from .proof import Proof

USER_AGENT = "zktx-client-python/0.1.0"


class RestTransport:
    """Calls over REST. ``address`` is ``http://host:port`` or ``https://host:port``."""

    def __init__(self, address: str, api_key: str) -> None:
        if "://" not in address:
            address = "http://" + address
        self._base = address.rstrip("/")
        self._api_key = api_key

    def close(self) -> None:
        """Nothing to close: every call has its own connection."""

    def _call(
        self, method: str, path: str, body: Any, timeout: Optional[float]
    ) -> tuple[Any, dict[str, str]]:
        text, headers = self._call_raw(method, path, body, timeout)
        try:
            return json.loads(text), headers
        except ValueError:
            raise _convert.Unreadable("the answer is not JSON") from None

    def _call_raw(
        self, method: str, path: str, body: Any, timeout: Optional[float]
    ) -> tuple[bytes, dict[str, str]]:
        headers = {
            "authorization": f"Bearer {self._api_key}",
            "accept": "application/json",
            "user-agent": USER_AGENT,
        }
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["content-type"] = "application/json"
        if timeout is not None:
            headers["x-zktx-timeout-ms"] = str(max(1, int(timeout * 1000)))
        request = urllib.request.Request(self._base + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                text = response.read()
                answer_headers = {k.lower(): v for k, v in response.headers.items()}
        except urllib.error.HTTPError as e:
            raw = e.read()
            retry_after: Optional[float] = None
            header = e.headers.get("retry-after") if e.headers else None
            if header and header.isdigit():
                retry_after = float(header)
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = None
            raise _convert.error_from_json(parsed, e.code, retry_after) from None
        except (socket.timeout, TimeoutError):
            raise errors.DeadlineExceeded("no answer before the deadline") from None
        except urllib.error.URLError as e:
            if isinstance(e.reason, (socket.timeout, TimeoutError)):
                raise errors.DeadlineExceeded("no answer before the deadline") from None
            raise errors.Unavailable(f"cannot reach {self._base}: {e.reason}") from None
        except (ConnectionError, OSError) as e:
            raise errors.Unavailable(f"the connection to {self._base} failed: {e}") from None
        return text, answer_headers

    def verify(self, proof: Proof, timeout: Optional[float]) -> Verification:
        answer, _ = self._call("POST", "/v1/verify", proof.to_json(), timeout)
        return _convert.verification_from_json(answer)

    def verify_batch(self, proofs: Sequence[Proof], timeout: Optional[float]) -> list[ItemResult]:
        answer, _ = self._call(
            "POST", "/v1/verify/batch", {"items": [p.to_json() for p in proofs]}, timeout
        )
        results = answer.get("results") if isinstance(answer, dict) else None
        if not isinstance(results, list) or len(results) != len(proofs):
            raise _convert.Unreadable("the batch answer does not have one result per proof")
        return [_convert.item_from_json(r) for r in results]

    def verify_stream(
        self, proofs: Iterable[Proof], window: int, timeout: Optional[float]
    ) -> Iterator[tuple[int, ItemResult]]:
        """REST has no stream: up to ``window`` concurrent ``POST /v1/verify`` calls, each
        proof's error its own item. Yields ``(index, result)`` as answers come."""

        def one(proof: Proof) -> ItemResult:
            try:
                return self.verify(proof, timeout)
            except errors.ZktxError as e:
                return e

        with ThreadPoolExecutor(max_workers=window, thread_name_prefix="zktx-rest") as pool:
            pending: dict[Future[ItemResult], int] = {}
            source = iter(enumerate(proofs))
            exhausted = False
            while True:
                while not exhausted and len(pending) < window:
                    item = next(source, None)
                    if item is None:
                        exhausted = True
                        break
                    pending[pool.submit(one, item[1])] = item[0]
                if not pending:
                    return
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    yield pending.pop(future), future.result()

    def receipt(self, receipt_id: str, timeout: Optional[float]) -> Receipt:
        quoted = urllib.parse.quote(receipt_id, safe="")
        answer, _ = self._call("GET", f"/v1/receipts/{quoted}", None, timeout)
        return _convert.receipt_from_json(answer)

    def circuits(self, timeout: Optional[float]) -> Circuits:
        answer, headers = self._call("GET", "/v1/circuits", None, timeout)
        return _convert.circuits_from_json(answer, headers.get("x-zktx-policy-sha256", ""))

    def usage(self, timeout: Optional[float]) -> Usage:
        answer, _ = self._call("GET", "/v1/usage", None, timeout)
        return _convert.usage_from_json(answer)

    def receipt_key(self, timeout: Optional[float]) -> ReceiptKey:
        answer, _ = self._call("GET", "/v1/receipt-key", None, timeout)
        return _convert.receipt_key_from_json(answer)

    def entitlements(self, timeout: Optional[float]) -> Entitlements:
        answer, _ = self._call("GET", "/v1/entitlements", None, timeout)
        return _convert.entitlements_from_json(answer)

    def attestation(self, timeout: Optional[float]) -> str:
        # The envelope byte for byte, as GetAttestation's envelope_json carries it.
        text, _ = self._call_raw("GET", "/v1/attestation", None, timeout)
        try:
            return text.decode("utf-8")
        except UnicodeDecodeError:
            raise _convert.Unreadable("the attestation is not UTF-8") from None
