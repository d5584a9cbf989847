/** The API's bodies, as named types over the schema generated from the server's
 * `/openapi.json` (`src/schema.ts`, checked fresh by `test/generated.test.ts`). */

import type { components } from "./schema.js";

type Schemas = components["schemas"];

/** A signed record of one verification; check it offline with `verifyReceipt`. */
export type Receipt = Schemas["Receipt"];
/** A receipt's place in the Merkle tree of its group commit. */
export type ReceiptBatch = Schemas["ReceiptBatch"];
/** The answer for one proof: verdict, reason, signed receipt, `replayed`. */
export type Verification = Schemas["RestVerifyResponse"];
/** A circuit (tier and key) the server verifies. */
export type Circuit = Schemas["RestCircuit"];
/** The caller's plan and today's metered proofs. */
export type Usage = Schemas["UsageReport"];
/** The key that signs receipts. */
export type ReceiptKey = Schemas["RestReceiptKey"];
/** The caller's plan features and the evidence that gates some of them. */
export type Entitlements = Schemas["RestEntitlements"];
/** The server's signed software attestation (a DSSE envelope). */
export type AttestationEnvelope = Schemas["RestAttestationEnvelope"];
/** A REST error body. */
export type ErrorBody = Schemas["ErrorBody"];
