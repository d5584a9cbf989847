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

stage tools scripts/tools.sh
stage cargo-test cargo test --workspace --locked
# The release pipeline on the test build's binary (a real release uses --profile release).
stage release scripts/release.sh --out target/release-check --profile dev
stage provenance independent_provenance_check

echo
echo "test stage times:"
printf '  %s\n' "${timings[@]}"
echo "  total        $(( $(date +%s) - started ))s"
