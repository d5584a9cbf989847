/** The client's errors: one class per API status code, as in the Python and Rust clients. */

/** What an error carries besides its message. */
export interface ErrorDetails {
  /** The offending field, for `INVALID_ARGUMENT` (e.g. `proof`, `items[3].public_inputs.k`). */
  field?: string | undefined;
  /** Seconds to wait before calling again, when the server said. */
  retryAfter?: number | undefined;
  /** Why a `RESOURCE_EXHAUSTED` or `UNAVAILABLE` was answered: `RATE_LIMITED`,
   * `QUOTA_EXHAUSTED`, `OVERLOADED` or `SHUTTING_DOWN`. */
  reason?: string | undefined;
}

/** A call that failed: the API's status `code`, the offending `field`, a `detail` message a
 * partner can act on, and when waiting helps, `retryAfter` and `reason`. */
export class ZktxError extends Error {
  /** The status code name, e.g. `INVALID_ARGUMENT`. */
  readonly code: string = "UNKNOWN";
  readonly detail: string;
  readonly field: string | undefined;
  readonly retryAfter: number | undefined;
  readonly reason: string | undefined;

  constructor(detail: string, details: ErrorDetails = {}) {
    super(detail);
    this.detail = detail;
    this.field = details.field || undefined;
    this.retryAfter = details.retryAfter;
    this.reason = details.reason || undefined;
    this.name = new.target.name;
  }

  /** Whether waiting and calling again can succeed: `UNAVAILABLE`, and `RESOURCE_EXHAUSTED`
   * unless the daily quota is spent (it refills at 00:00 UTC). */
  get retryable(): boolean {
    return false;
  }
}

/** A field of the request is malformed; `field` names it. */
export class InvalidArgument extends ZktxError {
  override readonly code = "INVALID_ARGUMENT";
}
/** No API key, an unknown one, or an expired auditor key. */
export class Unauthenticated extends ZktxError {
  override readonly code = "UNAUTHENTICATED";
}
/** The tenant's plan does not allow this. */
export class PermissionDenied extends ZktxError {
  override readonly code = "PERMISSION_DENIED";
}
/** The named verifying key or receipt does not exist on this server. */
export class NotFound extends ZktxError {
  override readonly code = "NOT_FOUND";
}
/** The call is larger than the plan can need (a batch above `max_batch`). */
export class OutOfRange extends ZktxError {
  override readonly code = "OUT_OF_RANGE";
}
/** The request rate (`RATE_LIMITED`) or the daily quota (`QUOTA_EXHAUSTED`) is spent. */
export class ResourceExhausted extends ZktxError {
  override readonly code = "RESOURCE_EXHAUSTED";
  override get retryable(): boolean {
    return this.reason !== "QUOTA_EXHAUSTED";
  }
}
/** The server cannot be reached, is shedding load or is shutting down. */
export class Unavailable extends ZktxError {
  override readonly code = "UNAVAILABLE";
  override get retryable(): boolean {
    return true;
  }
}
/** The call's deadline passed before an answer. */
export class DeadlineExceeded extends ZktxError {
  override readonly code = "DEADLINE_EXCEEDED";
}
/** A fault on the server's side, or an answer this client cannot read. */
export class Internal extends ZktxError {
  override readonly code = "INTERNAL";
}

const BY_CODE: Record<string, new (detail: string, details?: ErrorDetails) => ZktxError> = {
  INVALID_ARGUMENT: InvalidArgument,
  UNAUTHENTICATED: Unauthenticated,
  PERMISSION_DENIED: PermissionDenied,
  NOT_FOUND: NotFound,
  OUT_OF_RANGE: OutOfRange,
  RESOURCE_EXHAUSTED: ResourceExhausted,
  UNAVAILABLE: Unavailable,
  DEADLINE_EXCEEDED: DeadlineExceeded,
  INTERNAL: Internal,
};

const BY_STATUS: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  413: "OUT_OF_RANGE",
  429: "RESOURCE_EXHAUSTED",
  502: "UNAVAILABLE",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

/** The error for a status code name (`INTERNAL` for one the API does not use). */
export function errorFor(code: string, detail: string, details: ErrorDetails = {}): ZktxError {
  const Class = BY_CODE[code] ?? Internal;
  return new Class(detail, details);
}

/** The error for an HTTP status whose body is not an error body. */
export function errorForStatus(status: number, retryAfter?: number): ZktxError {
  return errorFor(BY_STATUS[status] ?? "INTERNAL", `HTTP ${status}`, { retryAfter });
}
