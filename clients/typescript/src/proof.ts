/** Proof files (`zktx prove` writes them) and what a call submits. */

import { InvalidArgument } from "./errors.js";

/** A compressed Groth16 proof over BLS12-381 is 192 bytes. */
export const PROOF_BYTES = 192;

/** The statement: both commitments and the context as 64 hex digits, and the bound k. */
export interface PublicInputs {
  commit_a: string;
  commit_b: string;
  k: number;
  context: string;
}

/** One proof and what it claims, as the REST API takes it (`proof` is base64). */
export interface Proof {
  key_fingerprint: string;
  public_inputs: PublicInputs;
  proof: string;
}

function text(obj: Record<string, unknown>, name: string, path: string): string {
  const value = obj[name];
  if (typeof value !== "string") {
    throw new InvalidArgument(`${path} is missing or not a string`, { field: path });
  }
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The proof in a parsed proof file. Throws {@link InvalidArgument} naming the field that is
 * missing or malformed (never its value). */
export function proofFromEnvelope(envelope: unknown): Proof {
  if (!isObject(envelope)) {
    throw new InvalidArgument("the proof file is not a JSON object", { field: "proof_file" });
  }
  const inputs = envelope["public_inputs"];
  if (!isObject(inputs)) {
    throw new InvalidArgument("public_inputs is missing or not an object", { field: "public_inputs" });
  }
  const k = inputs["k"];
  if (typeof k !== "number" || !Number.isSafeInteger(k) || k < 0) {
    throw new InvalidArgument("public_inputs.k is not a whole number", { field: "public_inputs.k" });
  }
  const proof = text(envelope, "proof", "proof");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(proof) || proof.length % 4 !== 0) {
    throw new InvalidArgument("proof is not base64", { field: "proof" });
  }
  const bytes = (proof.length / 4) * 3 - (proof.endsWith("==") ? 2 : proof.endsWith("=") ? 1 : 0);
  if (bytes !== PROOF_BYTES) {
    throw new InvalidArgument(`proof is ${bytes} bytes, not ${PROOF_BYTES}`, { field: "proof" });
  }
  return {
    key_fingerprint: text(envelope, "vk_fingerprint", "vk_fingerprint"),
    public_inputs: {
      commit_a: text(inputs, "commit_a", "public_inputs.commit_a"),
      commit_b: text(inputs, "commit_b", "public_inputs.commit_b"),
      k,
      context: text(inputs, "context", "public_inputs.context"),
    },
    proof,
  };
}

/** Reads a proof file (Node). Throws {@link InvalidArgument} when it is not one. */
export async function loadProof(path: string): Promise<Proof> {
  const { readFile } = await import("node:fs/promises");
  const data = await readFile(path, "utf8");
  let envelope: unknown;
  try {
    envelope = JSON.parse(data);
  } catch {
    throw new InvalidArgument("the proof file is not JSON", { field: "proof_file" });
  }
  return proofFromEnvelope(envelope);
}
