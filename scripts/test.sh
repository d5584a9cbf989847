#!/usr/bin/env bash
# The test command: installs what the tests need beyond cargo when missing
# (scripts/tools.sh: pinned cargo tools, a Python venv), then runs every
# test: the workspace's, the release pipeline's gates (SBOM, scan, licence
# and advisory gate, provenance) and the independent provenance check.
# Prints each stage's time. .ci/run calls this after fmt and clippy.
set -euo pipefail
cd "$(dirname "$0")/.."

started=$(date +%s)
timings=()
stage() {
  local name=$1; shift
  local t0; t0=$(date +%s)
  echo "==> $name: $*"
  "$@"
  local took=$(( $(date +%s) - t0 ))
  timings+=("$(printf '%-12s %5ss' "$name" "$took")")
  echo "<== $name took ${took}s"
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

stage tools scripts/tools.sh
stage cargo-test cargo test --workspace --locked
# The release pipeline on the test build's binary (a real release uses --profile release).
stage release scripts/release.sh --out target/release-check --profile dev
stage provenance independent_provenance_check
stage attested attested_server_check

echo
echo "test stage times:"
printf '  %s\n' "${timings[@]}"
echo "  total        $(( $(date +%s) - started ))s"
