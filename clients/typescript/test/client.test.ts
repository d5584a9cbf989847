/** Every method against a real sandbox, every error class, receipts checked offline with
 * WebCrypto and tampered ones refused. */

import assert from "node:assert/strict";
import { createServer, type Socket } from "node:net";
import { after, before, test } from "node:test";

import {
  Client,
  DeadlineExceeded,
  InvalidArgument,
  NO_RETRY,
  NotFound,
  OutOfRange,
  PermissionDenied,
  ReceiptError,
  ResourceExhausted,
  Unauthenticated,
  Unavailable,
  ZktxError,
  loadProof,
  verifyReceipt,
  type Proof,
  type Verification,
} from "../src/index.js";
import { startSandbox, type Sandbox } from "./sandbox.js";

let sandbox: Sandbox;
let proofs: Proof[];

before(async () => {
  sandbox = await startSandbox();
  proofs = await Promise.all(sandbox.proofs.map((p) => loadProof(p)));
});
after(async () => {
  await sandbox.stop();
});

const client = (tenant: keyof Sandbox["keys"] = "wide", options = {}) =>
  new Client(sandbox.rest, sandbox.keys[tenant], options);
const proof = (i: number): Proof => {
  const p = proofs[i];
  assert.ok(p);
  return p;
};
const isVerification = (r: unknown): r is Verification => !(r instanceof ZktxError);

test("verify answers a receipt that checks offline, and a replay returns it", async () => {
  const c = client();
  const answer = await c.verify(proof(0));
  assert.equal(answer.verdict, "valid");
  assert.equal(answer.reason, "");
  const key = await c.receiptKey();
  assert.equal(key.algorithm, "ed25519");
  await verifyReceipt(answer.receipt, key.public_key);
  const fetched = await c.receipt(answer.receipt.id);
  assert.equal(fetched.statement_digest, answer.receipt.statement_digest);
  await verifyReceipt(fetched, key.public_key);
  const again = await c.verify(proof(0));
  assert.ok(again.replayed);
  assert.equal(again.receipt.id, answer.receipt.id);
});

test("a tampered receipt is refused", async () => {
  const c = client();
  const receipt = (await c.verify(proof(1))).receipt;
  const key = (await c.receiptKey()).public_key;
  await verifyReceipt(receipt, key);
  const batch = receipt.batch;
  assert.ok(batch);
  const tampered = [
    { ...receipt, verdict: "invalid" as const },
    { ...receipt, statement_digest: "0".repeat(64) },
    { ...receipt, tenant: "someone-else" },
    { ...receipt, issued_at_ms: receipt.issued_at_ms + 1 },
    { ...receipt, signature: "00".repeat(64) },
    { ...receipt, signature: "not hex" },
    { ...receipt, batch: { ...batch, index: batch.index + 1 } },
    { ...receipt, batch: { ...batch, path: ["ab".repeat(32), ...batch.path] } },
  ];
  for (const bad of tampered) {
    await assert.rejects(verifyReceipt(bad, key), ReceiptError);
  }
  await assert.rejects(
    verifyReceipt(receipt, "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"),
    /altered or signed by another key/,
  );
  await assert.rejects(verifyReceipt(receipt, "abc"), /public key/);
});

test("a changed statement is invalid, with a receipt", async () => {
  const c = client();
  const p = proof(2);
  const answer = await c.verify({ ...p, public_inputs: { ...p.public_inputs, k: 2 } });
  assert.equal(answer.verdict, "invalid");
  assert.ok(answer.reason.length > 0);
  await verifyReceipt(answer.receipt, (await c.receiptKey()).public_key);
});

test("batches are split by max_batch with one result per proof, in order", async () => {
  const p0 = proof(0);
  const broken: Proof = { ...p0, public_inputs: { ...p0.public_inputs, commit_a: "zz".repeat(32) } };
  const c = client("wide", { maxBatch: 2 });
  assert.equal(await c.maxBatch(), 2);
  const results = await c.verifyBatch([proof(0), proof(1), proof(2), proof(3), broken]);
  assert.equal(results.length, 5);
  for (const r of results.slice(0, 4)) assert.ok(isVerification(r) && r.verdict === "valid");
  const last = results[4];
  assert.ok(last instanceof InvalidArgument);
  assert.equal(last.field, "items[4].public_inputs.commit_a", "the caller's index");
  assert.equal(await client().maxBatch(), 8);
  assert.deepEqual(await client().verifyBatch([]), []);
});

test("a stream answers every proof once", async () => {
  const c = client("wide", { streamWindow: 2 });
  const seen = new Map<number, unknown>();
  for await (const item of c.verifyStream(proofs)) {
    assert.ok(!seen.has(item.index));
    seen.set(item.index, item.result);
  }
  assert.deepEqual([...seen.keys()].sort(), [0, 1, 2, 3, 4, 5]);
  for (const r of seen.values()) assert.ok(isVerification(r) && r.verdict === "valid");
});

test("circuits, usage, entitlements and attestation", async () => {
  const c = client();
  const circuits = await c.circuits();
  assert.deepEqual(circuits.circuits.map((x) => x.tier), [4]);
  const circuit = circuits.circuits[0];
  assert.ok(circuit && circuit.allowed && circuit.dev_keys && circuit.constraints > 0);
  assert.equal(circuit.key_fingerprint, proof(0).key_fingerprint);
  assert.equal(circuits.policySha256.length, 64);
  const usage = await c.usage();
  assert.deepEqual([usage.tenant, usage.plan, usage.max_batch, usage.daily_quota], ["wide", "wide", 8, 1_000_000]);
  const entitlements = await c.entitlements();
  assert.equal(entitlements.tenant, "wide");
  const features = new Set(entitlements.features.map((f) => f.feature));
  for (const f of ["tiers", "max_batch", "streaming"]) assert.ok(features.has(f), f);
  const attestation = await c.attestation();
  assert.equal(attestation.payloadType, "application/vnd.zktx.attestation+json");
  assert.ok(attestation.signatures.length > 0);
  assert.equal((await client("narrow").circuits()).circuits[0]?.allowed, false);
});

test("each error is its own class", async () => {
  await assert.rejects(new Client(sandbox.rest, "zktx_not_a_key").verify(proof(0)), Unauthenticated);
  await assert.rejects(client("narrow").verify(proof(0)), (e: unknown) => {
    assert.ok(e instanceof PermissionDenied);
    assert.match(e.detail, /tier/);
    return true;
  });
  const p = proof(0);
  await assert.rejects(client().verify({ ...p, public_inputs: { ...p.public_inputs, context: "x" } }), (e: unknown) => {
    assert.ok(e instanceof InvalidArgument);
    assert.equal(e.field, "public_inputs.context");
    return true;
  });
  await assert.rejects(client().receipt("0".repeat(32)), NotFound);
  await assert.rejects(client().verify({ ...p, key_fingerprint: "ab".repeat(32) }), NotFound);
  await assert.rejects(client("wide", { maxBatch: 9 }).verifyBatch(Array(9).fill(p) as Proof[]), (e: unknown) => {
    assert.ok(e instanceof InvalidArgument);
    assert.equal(e.field, "items");
    assert.match(e.detail, /at most 8/);
    return true;
  });
  // A proof far larger than any call can need is refused before it is read.
  await assert.rejects(client().verify({ ...p, proof: "A".repeat(4 << 18) }), OutOfRange);
});

test("a spent daily quota is not retried", async () => {
  const c = client("tiny");
  const started = Date.now();
  await assert.rejects(
    (async () => {
      for (const p of proofs.slice(3)) await c.verify(p);
    })(),
    (e: unknown) => {
      assert.ok(e instanceof ResourceExhausted);
      assert.equal(e.reason, "QUOTA_EXHAUSTED");
      assert.equal(e.retryable, false);
      return true;
    },
  );
  assert.ok(Date.now() - started < 5000, "returned at once");
});

test("the request rate is retried after retry-after", async () => {
  const once = client("slow", { retry: NO_RETRY });
  await assert.rejects(
    (async () => {
      for (let i = 0; i < 3; i++) await once.usage();
    })(),
    (e: unknown) => {
      assert.ok(e instanceof ResourceExhausted);
      assert.equal(e.reason, "RATE_LIMITED");
      assert.ok(e.retryable && (e.retryAfter ?? 0) >= 1);
      return true;
    },
  );
  const retrying = client("slow");
  for (let i = 0; i < 3; i++) assert.equal((await retrying.verify(proof(0))).verdict, "valid");
});

test("an unreachable server is unavailable, after retries", async () => {
  const port = await new Promise<number>((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const address = s.address();
      s.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
  const c = new Client(`http://127.0.0.1:${port}`, "k", { retry: { attempts: 3, initialBackoff: 0.2, maxBackoff: 1 } });
  const started = Date.now();
  await assert.rejects(c.usage(), (e: unknown) => e instanceof Unavailable && e.retryable);
  assert.ok(Date.now() - started >= 200, "retried after a backoff");
});

test("a passed deadline is DEADLINE_EXCEEDED", async () => {
  // A server that accepts connections and never answers: the call's own deadline ends it.
  const sockets = new Set<Socket>();
  const silent = createServer((socket) => sockets.add(socket));
  const port = await new Promise<number>((resolve) => {
    silent.listen(0, "127.0.0.1", () => {
      const address = silent.address();
      resolve(typeof address === "object" && address ? address.port : 0);
    });
  });
  try {
    const started = Date.now();
    await assert.rejects(new Client(`http://127.0.0.1:${port}`, "k", { timeout: 0.5 }).usage(), DeadlineExceeded);
    assert.ok(Date.now() - started < 5000);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise((r) => silent.close(r));
  }
});

test("proof files are refused by field", async () => {
  const { writeFile } = await import("node:fs/promises");
  const { join } = await import("node:path");
  const junk = join(sandbox.dir, "junk.json");
  await writeFile(junk, "not json");
  await assert.rejects(loadProof(junk), (e: unknown) => e instanceof InvalidArgument && e.field === "proof_file");
  const { readFile } = await import("node:fs/promises");
  const envelope = JSON.parse(await readFile(sandbox.proofs[0] ?? "", "utf8")) as Record<string, unknown>;
  const cases: [string, (env: Record<string, any>) => void][] = [
    ["proof", (env) => { env["proof"] = "AAAA"; }],
    ["public_inputs.k", (env) => { env["public_inputs"]["k"] = -1; }],
    ["vk_fingerprint", (env) => { delete env["vk_fingerprint"]; }],
  ];
  for (const [field, change] of cases) {
    const broken = JSON.parse(JSON.stringify(envelope)) as Record<string, any>;
    change(broken);
    const path = join(sandbox.dir, "broken.json");
    await writeFile(path, JSON.stringify(broken));
    await assert.rejects(loadProof(path), (e: unknown) => e instanceof InvalidArgument && e.field === field);
  }
});
