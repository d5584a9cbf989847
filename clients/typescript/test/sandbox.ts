/** A real `zktx serve` sandbox for the tests: tier-4 development keys, a few proofs and tenants
 * on plans that provoke each error, in a temporary directory; stopped by `stop()`.
 * The binary is `$ZKTX_BIN`, else the workspace's `target/debug/zktx`. */

import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
/** The repository root (this file runs from clients/typescript/dist/test). */
export const REPO = resolve(HERE, "../../../..");

const CONFIG = readFileSync(join(REPO, "clients/testdata/sandbox-plans.toml"), "utf8");

export interface Sandbox {
  dir: string;
  rest: string;
  keys: Record<"wide" | "narrow" | "tiny" | "slow", string>;
  proofs: string[];
  stop: () => Promise<void>;
}

function zktx(binary: string, cwd: string, ...args: string[]): string {
  return execFileSync(binary, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

export async function startSandbox(): Promise<Sandbox> {
  const binary = resolve(process.env["ZKTX_BIN"] ?? join(REPO, "target/debug/zktx"));
  if (!existsSync(binary)) throw new Error(`${binary} is missing: cargo build -p zktx (or set ZKTX_BIN)`);
  const dir = mkdtempSync(join(tmpdir(), "zktx-ts-"));
  zktx(binary, dir, "setup", "--tier", "4", "--out", "keys", "--dev-seed", "typescript-client");
  writeFileSync(join(dir, "a.csv"), "id-1\nid-2\nid-3\n");
  writeFileSync(join(dir, "b.csv"), "id-3\nid-4\n");
  for (const side of ["a", "b"]) zktx(binary, dir, "commit", "--set", `${side}.csv`, "--tier", "4", "--out", side);
  const proofs: string[] = [];
  for (let i = 0; i < 6; i++) {
    const out = `proof-${i}.json`;
    zktx(binary, dir, "prove", "--keys", "keys", "--a", "a.opening.json", "--b", "b.opening.json", "--k", "1",
      "--context", (i + 1).toString(16).padStart(2, "0"), "--out", out);
    proofs.push(join(dir, out));
  }
  let config = CONFIG;
  const keys: Partial<Sandbox["keys"]> = {};
  for (const tenant of ["wide", "narrow", "tiny", "slow"] as const) {
    const made = zktx(binary, dir, "apikey", "new", "--tenant", tenant, "--plan", tenant);
    const key = /\bzktx_\S+/.exec(made)?.[0];
    if (key === undefined) throw new Error("apikey new printed no key");
    keys[tenant] = key;
    config += "\n" + made.slice(made.indexOf("[[tenants]]"));
  }
  writeFileSync(join(dir, "zktx.toml"), config);
  const log = openSync(join(dir, "server.log"), "a");
  const server: ChildProcess = spawn(binary, ["serve", "--data-dir", "data", "--config", "zktx.toml", "--keys", "keys",
    "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--ready-file", "ready.json"],
    { cwd: dir, stdio: ["ignore", "ignore", log] });
  const ready = join(dir, "ready.json");
  const started = Date.now();
  while (!existsSync(ready)) {
    if (server.exitCode !== null) throw new Error(`zktx serve exited: ${readFileSync(join(dir, "server.log"), "utf8")}`);
    if (Date.now() - started > 120_000) throw new Error("zktx serve did not start in 120 s");
    await new Promise((r) => setTimeout(r, 50));
  }
  const info = JSON.parse(readFileSync(ready, "utf8")) as { http_addr: string };
  return {
    dir,
    rest: `http://${info.http_addr}`,
    keys: keys as Sandbox["keys"],
    proofs,
    stop: async () => {
      const exited = new Promise((r) => server.once("exit", r));
      server.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
