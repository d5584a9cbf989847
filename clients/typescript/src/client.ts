/** The REST client: `fetch` (Node 20+ and browsers), the API key as a bearer token, the
 * deadline in `x-zktx-timeout-ms`, retries only where the other clients retry. */

import { DeadlineExceeded, Internal, Unavailable, ZktxError, errorFor, errorForStatus } from "./errors.js";
import type { Proof } from "./proof.js";
import type { AttestationEnvelope, Circuit, Entitlements, ErrorBody, Receipt, ReceiptKey, Usage, Verification } from "./types.js";

/** One item of a batch or stream: its verification, or the error that refused it alone. */
export type ItemResult = Verification | ZktxError;

/** An answer of {@link Client.verifyStream}: the proof's position in the input and its result. */
export interface StreamResult {
  index: number;
  result: ItemResult;
}

/** The circuits the server verifies and the SHA-256 of the admission policy in force. */
export interface Circuits {
  circuits: Circuit[];
  policySha256: string;
}

/** When to call again: up to `attempts` calls in all, a jittered exponential backoff from
 * `initialBackoff` seconds (at most `maxBackoff`), and at least the server's `retryAfter`. */
export interface RetryPolicy {
  attempts: number;
  initialBackoff: number;
  maxBackoff: number;
}

/** 4 attempts from 100 ms, as the Rust and Python clients. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, initialBackoff: 0.1, maxBackoff: 5 };
/** One attempt: every error is returned at once. */
export const NO_RETRY: RetryPolicy = { attempts: 1, initialBackoff: 0, maxBackoff: 0 };

/** Options of a {@link Client}. */
export interface ClientOptions {
  /** Seconds per call, retries included (`null`: no deadline). Default 30. */
  timeout?: number | null;
  retry?: RetryPolicy;
  /** Items per batch call; the plan's `max_batch` (asked once) when not given. */
  maxBatch?: number;
  /** Concurrent calls of {@link Client.verifyStream}. Default 64. */
  streamWindow?: number;
  /** The `fetch` to use (the global one by default). */
  fetch?: typeof fetch;
}

const sleep = (seconds: number) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function errorFromBody(body: unknown, status: number, retryAfter?: number): ZktxError {
  if (isObject(body) && typeof body["code"] === "string") {
    const e = body as ErrorBody;
    return errorFor(e.code, e.message ?? "", {
      field: e.field ?? undefined,
      retryAfter: typeof e.retry_after_secs === "number" ? e.retry_after_secs : retryAfter,
      reason: e.reason ?? undefined,
    });
  }
  return errorForStatus(status, retryAfter);
}

/** An item's error names its field by the caller's index, not the call's. */
function reindexed(error: ZktxError, offset: number): ZktxError {
  const field = error.field?.replace(/^items\[(\d+)\]/, (_, n: string) => `items[${Number(n) + offset}]`);
  return field === error.field ? error : errorFor(error.code, error.detail, { field, retryAfter: error.retryAfter, reason: error.reason });
}

/** A zktx REST client: `new Client("http://127.0.0.1:8080", apiKey)`. */
export class Client {
  readonly #base: string;
  readonly #apiKey: string;
  readonly #timeout: number | null;
  readonly #retry: RetryPolicy;
  readonly #window: number;
  readonly #fetch: typeof fetch;
  #maxBatch: number | undefined;

  constructor(address: string, apiKey: string, options: ClientOptions = {}) {
    this.#base = (address.includes("://") ? address : `http://${address}`).replace(/\/+$/, "");
    this.#apiKey = apiKey;
    this.#timeout = options.timeout === undefined ? 30 : options.timeout;
    this.#retry = options.retry ?? DEFAULT_RETRY;
    this.#window = options.streamWindow ?? 64;
    this.#maxBatch = options.maxBatch;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    if (this.#window < 1) throw new RangeError("streamWindow must be at least 1");
    if (this.#maxBatch !== undefined && this.#maxBatch < 1) throw new RangeError("maxBatch must be at least 1");
  }

  async #once(method: string, path: string, body: unknown, timeout: number | null): Promise<{ text: string; headers: Headers }> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.#apiKey}`,
      accept: "application/json",
    };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (timeout !== null) headers["x-zktx-timeout-ms"] = String(Math.max(1, Math.floor(timeout * 1000)));
    let response: Response;
    try {
      response = await this.#fetch(this.#base + path, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...(timeout === null ? {} : { signal: AbortSignal.timeout(Math.max(1, timeout * 1000)) }),
      });
    } catch (e) {
      const name = (e as { name?: string }).name;
      if (name === "TimeoutError" || name === "AbortError") {
        throw new DeadlineExceeded("no answer before the deadline");
      }
      throw new Unavailable(`cannot reach ${this.#base}: ${(e as Error).message}`);
    }
    let text: string;
    try {
      text = await response.text();
    } catch (e) {
      const name = (e as { name?: string }).name;
      if (name === "TimeoutError" || name === "AbortError") {
        throw new DeadlineExceeded("no answer before the deadline");
      }
      throw new Unavailable(`the connection to ${this.#base} failed`);
    }
    if (!response.ok) {
      const header = response.headers.get("retry-after");
      const retryAfter = header !== null && /^\d+$/.test(header) ? Number(header) : undefined;
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      throw errorFromBody(parsed, response.status, retryAfter);
    }
    return { text, headers: response.headers };
  }

  async #call(method: string, path: string, body?: unknown): Promise<{ text: string; headers: Headers }> {
    const deadline = this.#timeout === null ? null : Date.now() + this.#timeout * 1000;
    for (let attempt = 1; ; attempt++) {
      const remaining = deadline === null ? null : (deadline - Date.now()) / 1000;
      if (remaining !== null && remaining <= 0) {
        throw new DeadlineExceeded("the call's deadline passed before an answer");
      }
      try {
        return await this.#once(method, path, body, remaining);
      } catch (e) {
        if (!(e instanceof ZktxError) || !e.retryable || attempt >= this.#retry.attempts) throw e;
        const backoff = Math.min(this.#retry.maxBackoff, this.#retry.initialBackoff * 2 ** (attempt - 1));
        const pause = Math.max(backoff * (0.5 + Math.random() / 2), e.retryAfter ?? 0);
        if (deadline !== null && Date.now() + pause * 1000 >= deadline) throw e;
        await sleep(pause);
      }
    }
  }

  async #json<T>(method: string, path: string, body?: unknown): Promise<{ value: T; headers: Headers }> {
    const { text, headers } = await this.#call(method, path, body);
    try {
      return { value: JSON.parse(text) as T, headers };
    } catch {
      throw new Internal("the answer is not JSON");
    }
  }

  /** Verifies one proof: the verdict, why it is invalid, the signed receipt, `replayed`. */
  async verify(proof: Proof): Promise<Verification> {
    return (await this.#json<Verification>("POST", "/v1/verify", proof)).value;
  }

  /** Items per batch call: as given, or the plan's `max_batch` (asked once). */
  async maxBatch(): Promise<number> {
    if (this.#maxBatch === undefined) this.#maxBatch = Math.max(1, (await this.usage()).max_batch);
    return this.#maxBatch;
  }

  /** Verifies any number of proofs in calls of {@link maxBatch} items; one result per proof,
   * in order: a verification, or the error that refused that item (its `field` names the
   * proof by its index in `proofs`: `items[12].proof`). */
  async verifyBatch(proofs: readonly Proof[]): Promise<ItemResult[]> {
    if (proofs.length === 0) return [];
    const size = await this.maxBatch();
    const results: ItemResult[] = [];
    for (let start = 0; start < proofs.length; start += size) {
      const items = proofs.slice(start, start + size);
      const { value } = await this.#json<{ results: unknown[] }>("POST", "/v1/verify/batch", { items });
      if (!Array.isArray(value.results) || value.results.length !== items.length) {
        throw new Internal("the batch answer does not have one result per proof");
      }
      for (const r of value.results) {
        if (isObject(r) && isObject(r["response"])) results.push(r["response"] as unknown as Verification);
        else if (isObject(r) && isObject(r["error"])) results.push(reindexed(errorFromBody(r["error"], 0), start));
        else throw new Internal("a batch item holds neither a response nor an error");
      }
    }
    return results;
  }

  /** Verifies proofs as they come with up to `streamWindow` concurrent calls (REST has no
   * stream), yielding each proof's index and result as answers arrive. */
  async *verifyStream(proofs: Iterable<Proof> | AsyncIterable<Proof>): AsyncGenerator<StreamResult> {
    const pending = new Map<number, Promise<StreamResult>>();
    const one = async (index: number, proof: Proof): Promise<StreamResult> => {
      try {
        return { index, result: await this.verify(proof) };
      } catch (e) {
        if (e instanceof ZktxError) return { index, result: e };
        throw e;
      }
    };
    let index = 0;
    for await (const proof of proofs) {
      const i = index++;
      pending.set(i, one(i, proof));
      if (pending.size >= this.#window) {
        const done = await Promise.race(pending.values());
        pending.delete(done.index);
        yield done;
      }
    }
    while (pending.size > 0) {
      const done = await Promise.race(pending.values());
      pending.delete(done.index);
      yield done;
    }
  }

  /** A receipt this tenant was issued. */
  async receipt(id: string): Promise<Receipt> {
    return (await this.#json<Receipt>("GET", `/v1/receipts/${encodeURIComponent(id)}`)).value;
  }

  /** The circuits the server verifies, and the policy bundle's hash. */
  async circuits(): Promise<Circuits> {
    const { value, headers } = await this.#json<Circuit[]>("GET", "/v1/circuits");
    return { circuits: value, policySha256: headers.get("x-zktx-policy-sha256") ?? "" };
  }

  /** The caller's plan and today's metered proofs. */
  async usage(): Promise<Usage> {
    return (await this.#json<Usage>("GET", "/v1/usage")).value;
  }

  /** The key that signs receipts: keep it, and receipts check offline. */
  async receiptKey(): Promise<ReceiptKey> {
    return (await this.#json<ReceiptKey>("GET", "/v1/receipt-key")).value;
  }

  /** The caller's plan features, each on or off with the reason. */
  async entitlements(): Promise<Entitlements> {
    return (await this.#json<Entitlements>("GET", "/v1/entitlements")).value;
  }

  /** The server's signed software attestation; check it with `zktx attest verify --server`. */
  async attestation(): Promise<AttestationEnvelope> {
    return (await this.#json<AttestationEnvelope>("GET", "/v1/attestation")).value;
  }
}
