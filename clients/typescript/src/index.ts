/** @zktx/client: verify bounded-overlap proofs with a zktx server over REST, and check its
 * signed receipts offline with WebCrypto. */

export { Client, DEFAULT_RETRY, NO_RETRY } from "./client.js";
export type { Circuits, ClientOptions, ItemResult, RetryPolicy, StreamResult } from "./client.js";
export {
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
} from "./errors.js";
export type { ErrorDetails } from "./errors.js";
export { loadProof, proofFromEnvelope, PROOF_BYTES } from "./proof.js";
export type { Proof, PublicInputs } from "./proof.js";
export { ReceiptError, verifyReceipt, signingBytes, groupRoot } from "./receipt.js";
export type * from "./types.js";
