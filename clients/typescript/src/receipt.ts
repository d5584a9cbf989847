/** Checking a receipt offline with WebCrypto: its bytes, its group's Merkle path (RFC 9162)
 * and the Ed25519 signature. The same check as `zktx receipt verify` and the other clients. */

import type { Receipt } from "./types.js";

/** Why a receipt does not check out. */
export class ReceiptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ReceiptError";
  }
}

const encoder = new TextEncoder();

/** Bytes backed by a plain ArrayBuffer, as WebCrypto takes them. */
type Bytes = Uint8Array<ArrayBuffer>;

/** The receipt's own bytes: the leaf of its group's tree. */
export function signingBytes(receipt: Receipt): Bytes {
  return encoder.encode(
    "zktx-receipt-v1\n" +
      `id=${receipt.id}\n` +
      `tenant=${receipt.tenant}\n` +
      `circuit=${receipt.circuit}\n` +
      `key_fingerprint=${receipt.key_fingerprint}\n` +
      `statement_digest=${receipt.statement_digest}\n` +
      `verdict=${receipt.verdict}\n` +
      `issued_at_ms=${receipt.issued_at_ms}\n`,
  );
}

function fromHex(hex: string, bytes: number): Bytes | undefined {
  if (hex.length !== bytes * 2 || !/^[0-9a-fA-F]*$/.test(hex)) return undefined;
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function sha256(...parts: Uint8Array[]): Promise<Bytes> {
  const data = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    data.set(p, at);
    at += p.length;
  }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
}

const leaf = (data: Uint8Array): Promise<Bytes> => sha256(Uint8Array.of(0), data);
const node = (left: Uint8Array, right: Uint8Array): Promise<Bytes> => sha256(Uint8Array.of(1), left, right);

async function rootFromPath(
  leafHash: Bytes,
  index: number,
  size: number,
  path: Bytes[],
): Promise<Bytes | undefined> {
  // RFC 9162, 2.1.3.2: verifying an inclusion proof.
  if (index >= size) return undefined;
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of path) {
    if (sn === 0) return undefined;
    if (fn % 2 === 1 || fn === sn) {
      r = await node(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = await node(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : undefined;
}

/** The Merkle root of the receipt's group rebuilt from its path, or `undefined` for a receipt
 * signed alone. Throws {@link ReceiptError} when the path does not fit. */
export async function groupRoot(receipt: Receipt): Promise<Bytes | undefined> {
  const batch = receipt.batch;
  if (batch === undefined || batch === null) return undefined;
  const path = batch.path.map((h) => fromHex(h, 32));
  const fits = path.every((h) => h !== undefined);
  const root = fits
    ? await rootFromPath(await leaf(signingBytes(receipt)), batch.index, batch.size, path as Bytes[])
    : undefined;
  if (root === undefined) {
    throw new ReceiptError(`the inclusion path does not fit leaf ${batch.index} of a group of ${batch.size}`);
  }
  return root;
}

/** Checks that `receipt` was signed by `publicKey` (64 hex digits, from
 * `client.receiptKey()`) and not altered. Throws {@link ReceiptError} when not. */
export async function verifyReceipt(receipt: Receipt, publicKey: string): Promise<void> {
  const keyBytes = fromHex(publicKey.trim(), 32);
  if (keyBytes === undefined) throw new ReceiptError("the public key is not 64 hex digits");
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey("raw", keyBytes, { name: "Ed25519" }, false, ["verify"]);
  } catch {
    throw new ReceiptError("the public key is not an Ed25519 key");
  }
  const signature = fromHex(receipt.signature, 64);
  if (signature === undefined) throw new ReceiptError("the signature is not 128 hex digits");
  const root = await groupRoot(receipt);
  const message =
    root !== undefined && receipt.batch
      ? encoder.encode(`zktx-receipt-batch-v1\nroot=${toHex(root)}\nsize=${receipt.batch.size}\n`)
      : signingBytes(receipt);
  let ok = false;
  try {
    ok = await crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new ReceiptError("the signature does not match: the receipt was altered or signed by another key");
  }
}
