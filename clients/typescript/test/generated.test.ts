/** The committed `openapi.json` is what the server serves, and `src/schema.ts` is what the
 * pinned openapi-typescript makes of it. */

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { REPO, startSandbox } from "./sandbox.js";

const PACKAGE = join(REPO, "clients/typescript");

test("openapi.json and src/schema.ts are fresh", async () => {
  const sandbox = await startSandbox();
  let served: unknown;
  try {
    served = await (await fetch(`${sandbox.rest}/openapi.json`)).json();
  } finally {
    await sandbox.stop();
  }
  const committed = JSON.parse(readFileSync(join(PACKAGE, "openapi.json"), "utf8")) as unknown;
  assert.deepEqual(committed, served, "openapi.json is stale: fetch the server's /openapi.json (see README)");
  const dir = mkdtempSync(join(tmpdir(), "zktx-schema-"));
  const spec = join(dir, "openapi.json");
  writeFileSync(spec, JSON.stringify(served));
  const out = join(dir, "schema.ts");
  execFileSync(join(PACKAGE, "node_modules/.bin/openapi-typescript"), [spec, "-o", out], { stdio: "ignore" });
  assert.equal(
    readFileSync(join(PACKAGE, "src/schema.ts"), "utf8"),
    readFileSync(out, "utf8"),
    "src/schema.ts is stale: npm run generate",
  );
});
