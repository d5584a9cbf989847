"""The client's errors: one exception class per API status code, the same on both transports."""

from __future__ import annotations

from typing import Optional

__all__ = [
    "ZktxError",
    "InvalidArgument",
    "Unauthenticated",
    "PermissionDenied",
    "NotFound",
    "OutOfRange",
    "ResourceExhausted",
    "Unavailable",
    "DeadlineExceeded",
    "Internal",
    "error_for",
    "error_for_status",
]


class ZktxError(Exception):
    """A call that failed: the API's status ``code``, the offending ``field`` (for
    ``INVALID_ARGUMENT``), a ``message`` a partner can act on, and, when waiting helps,
    ``retry_after`` (seconds) and the ``reason`` (``RATE_LIMITED``, ``QUOTA_EXHAUSTED``,
    ``OVERLOADED``, ``SHUTTING_DOWN``)."""

    code = "UNKNOWN"

    def __init__(
        self,
        message: str,
        *,
        field: Optional[str] = None,
        retry_after: Optional[float] = None,
        reason: Optional[str] = None,
    ) -> None:
        super().__init__(f"{self.code}: {message}")
        self.message = message
        self.field = field
        self.retry_after = retry_after
        self.reason = reason

    @property
    def retryable(self) -> bool:
        """Whether waiting and calling again can succeed: ``UNAVAILABLE``, and
        ``RESOURCE_EXHAUSTED`` for the request rate (a spent daily quota refills at 00:00 UTC)."""
        return False


class InvalidArgument(ZktxError):
    """A field of the request is malformed; ``field`` names it (e.g. ``proof``,
    ``items[3].public_inputs.k``)."""

    code = "INVALID_ARGUMENT"


class Unauthenticated(ZktxError):
    """No API key, an unknown one, or an expired auditor key."""

    code = "UNAUTHENTICATED"


class PermissionDenied(ZktxError):
    """The tenant's plan does not allow this (a circuit, streaming, an auditor calling verify)."""

    code = "PERMISSION_DENIED"


class NotFound(ZktxError):
    """The named verifying key or receipt does not exist on this server."""

    code = "NOT_FOUND"


class OutOfRange(ZktxError):
    """The call is larger than the plan can need (a batch above ``max_batch``)."""

    code = "OUT_OF_RANGE"


class ResourceExhausted(ZktxError):
    """The request rate (``reason`` ``RATE_LIMITED``, retry after ``retry_after`` seconds) or the
    daily proof quota (``QUOTA_EXHAUSTED``: it refills at 00:00 UTC) is spent."""

    code = "RESOURCE_EXHAUSTED"

    @property
    def retryable(self) -> bool:
        return self.reason != "QUOTA_EXHAUSTED"


class Unavailable(ZktxError):
    """The server cannot be reached, is shedding load (``OVERLOADED``) or is shutting down."""

    code = "UNAVAILABLE"

    @property
    def retryable(self) -> bool:
        return True


class DeadlineExceeded(ZktxError):
    """The call's deadline passed before an answer."""

    code = "DEADLINE_EXCEEDED"


class Internal(ZktxError):
    """A fault on the server's side, or an answer this client cannot read."""

    code = "INTERNAL"


_BY_CODE: dict[str, type[ZktxError]] = {
    cls.code: cls
    for cls in (
        InvalidArgument,
        Unauthenticated,
        PermissionDenied,
        NotFound,
        OutOfRange,
        ResourceExhausted,
        Unavailable,
        DeadlineExceeded,
        Internal,
    )
}


def error_for(
    code: str,
    message: str,
    *,
    field: Optional[str] = None,
    retry_after: Optional[float] = None,
    reason: Optional[str] = None,
) -> ZktxError:
    """The exception for a status code name (``INTERNAL`` for a code the API does not use)."""
    cls = _BY_CODE.get(code, Internal)
    return cls(message, field=field or None, retry_after=retry_after, reason=reason or None)


_BY_HTTP_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    413: "OUT_OF_RANGE",
    429: "RESOURCE_EXHAUSTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def error_for_status(status: int, retry_after: Optional[float] = None) -> ZktxError:
    """The exception for an HTTP status whose body is not an error body."""
    return error_for(_BY_HTTP_STATUS.get(status, "INTERNAL"), f"HTTP {status}", retry_after=retry_after)
