"""zktx-client: verify bounded-overlap proofs with a zktx server over gRPC or REST, and check
the signed receipts offline.

>>> from zktx import Client, load_proof, verify_receipt
>>> with Client("127.0.0.1:50051", api_key) as client:          # doctest: +SKIP
...     answer = client.verify(load_proof("proof.json"))
...     verify_receipt(answer.receipt, client.receipt_key().public_key)
"""

from .client import Client, RetryPolicy
from .errors import (
    DeadlineExceeded,
    Internal,
    InvalidArgument,
    NotFound,
    OutOfRange,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
    ZktxError,
)
from .models import (
    Circuit,
    Circuits,
    Entitlement,
    Entitlements,
    ItemResult,
    Receipt,
    ReceiptBatch,
    ReceiptKey,
    StreamResult,
    Usage,
    Verification,
)
from .proof import Proof, PublicInputs, load_proof
from .receipt import ReceiptError, verify_receipt

__version__ = "0.1.0"

__all__ = [
    "Client",
    "RetryPolicy",
    "Proof",
    "PublicInputs",
    "load_proof",
    "verify_receipt",
    "ReceiptError",
    "Verification",
    "Receipt",
    "ReceiptBatch",
    "ReceiptKey",
    "Circuit",
    "Circuits",
    "Usage",
    "Entitlement",
    "Entitlements",
    "ItemResult",
    "StreamResult",
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
]
