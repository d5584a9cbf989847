#!/usr/bin/env bash
# The test command: installs what the tests need beyond cargo when missing
# (scripts/tools.sh: pinned cargo tools, Python venvs, Node packages,
# Debian's prometheus), then runs every test: the workspace's (with a real
# Prometheus and snarkjs), the release pipeline's gates (SBOM, scan, licence
# and advisory gate, provenance, evidence pack), the independent provenance
# check, the released binary's attestation, the deployment checks
# (Kubernetes schemas, checkov, alert rules), the v1 contract's checks (buf
# lint and breaking), and the Python and TypeScript clients against a real
# sandbox. Prints each stage's time and writes target/ci/test-summary.json
# (what the evidence pack reports). .ci/run calls this after fmt and clippy.
set -euo pipefail
cd "$(dirname "$0")/.."

started=$(date +%s)
timings=()
stages=()
stage() {
  local name=$1; shift
  local t0; t0=$(date +%s)
  echo "==> $name: $*"
  "$@"
  local took=$(( $(date +%s) - t0 ))
  timings+=("$(printf '%-12s %5ss' "$name" "$took")")
  stages+=("$name $took")
  echo "<== $name took ${took}s"
  summary
}

# target/ci/test-summary.json: the commit, whether the tree was dirty, the
# tests counted from cargo's "test result" lines and the clients' suites
# (pytest's summary, Node's test runner's counts), and the stages so far.
summary() {
  mkdir -p target/ci
  python3 - "$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
    "$( [ -n "$(git status --porcelain 2>/dev/null)" ] && echo true || echo false)" \
    "${stages[@]}" > target/ci/test-summary.json <<'PY'
import datetime, json, re, sys
commit, dirty, stages = sys.argv[1], sys.argv[2] == "true", sys.argv[3:]
counts = {"passed": 0, "failed": 0, "ignored": 0}
def read(path):
    try:
        return open(path).read()
    except FileNotFoundError:
        return ""
for m in re.finditer(r"test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored",
                     read("target/ci/cargo-test.log")):
    for key, value in zip(("passed", "failed", "ignored"), m.groups()):
        counts[key] += int(value)
# pytest's last line ("25 passed in 21.15s", "1 failed, 24 passed in ...").
for m in re.finditer(r"(\d+) (passed|failed|skipped)", (read("target/ci/python-client.log").strip().splitlines() or [""])[-1]):
    counts["ignored" if m.group(2) == "skipped" else m.group(2)] += int(m.group(1))
# Node's test runner: "# pass 13", "# fail 0", "# skipped 0".
for m in re.finditer(r"^# (pass|fail|skipped) (\d+)$", read("target/ci/ts-client.log"), re.M):
    counts[{"pass": "passed", "fail": "failed", "skipped": "ignored"}[m.group(1)]] += int(m.group(2))
print(json.dumps({
    "commit": commit, "dirty": dirty,
    "finished_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    **counts,
    "stages": [{"name": s.split()[0], "seconds": int(s.split()[1]), "status": "passed"} for s in stages],
}, indent=2))
PY
}

cargo_test() {
  mkdir -p target/ci
  # A real Prometheus (cli/tests/it/observability.rs) and snarkjs
  # (cli/tests/it/snarkjs.rs) are part of the tests.
  ZKTX_REQUIRE_PROMETHEUS=1 ZKTX_REQUIRE_SNARKJS=1 cargo test --workspace --locked 2>&1 | tee target/ci/cargo-test.log
}

independent_provenance_check() {
  local dir=target/release-check
  target/venv/bin/python scripts/check_provenance.py \
    "$dir/provenance.dsse.json" "$(cat "$dir/provenance.pub")" "$dir"
}

# "What answered me": the released binary, started as a sandbox, attests to
# being that release (its digest and its keys are subjects of the provenance).
attested_server_check() {
  local dir=target/release-check data
  data=$(mktemp -d)
  "$dir/zktx" serve --data-dir "$data" --keys "$dir/keys" --grpc-addr 127.0.0.1:0 \
    --http-addr 127.0.0.1:0 --ready-file "$data/ready.json" > "$data/serve.log" 2>&1 &
  local pid=$!
  for _ in $(seq 120); do [ -s "$data/ready.json" ] && break; sleep 0.5; done
  local http key status=0
  http=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["http_addr"])' "$data/ready.json")
  key=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["receipt_public_key"])' "$data/ready.json")
  "$dir/zktx" attest verify --provenance "$dir/provenance.dsse.json" \
    --public-key "$(cat "$dir/provenance.pub")" --server "http://$http" --receipt-key "$key" || status=$?
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$data"
  return "$status"
}

# The Python client: mypy --strict, then pytest against a real sandbox started
# from the binary cargo test built (clients/python/tests/conftest.py).
python_client_tests() {
  (cd clients/python && ../../target/venv-client/bin/mypy && \
    ZKTX_BIN=../../target/debug/zktx ../../target/venv-client/bin/pytest -q -p no:cacheprovider) \
    2>&1 | tee target/ci/python-client.log
}

# The TypeScript client: tsc --strict, then Node's test runner against a real sandbox.
typescript_client_tests() {
  (cd clients/typescript && rm -rf dist && npx --no-install tsc -p tsconfig.json && \
    ZKTX_BIN=../../target/debug/zktx node --test dist/test/*.test.js) 2>&1 | tee target/ci/ts-client.log
}

rm -f target/ci/test-summary.json target/ci/cargo-test.log target/ci/python-client.log target/ci/ts-client.log
stage tools scripts/tools.sh
stage cargo-test cargo_test
# The clients and the contract before the release, so that the evidence
# pack's test summary counts the clients' suites.
stage proto scripts/proto-check.sh
stage python-client python_client_tests
stage ts-client typescript_client_tests
# The release pipeline on the binary the tests built (a real release builds --profile release).
stage release scripts/release.sh --out target/release-check --profile dev --binary target/debug/zktx
stage provenance independent_provenance_check
stage attested attested_server_check
stage deploy scripts/deploy-check.sh

echo
echo "test stage times:"
printf '  %s\n' "${timings[@]}"
echo "  total        $(( $(date +%s) - started ))s"
