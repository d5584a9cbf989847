#!/usr/bin/env bash
# The mutation check of the circuit (issue 19; docs/soundness.md records its
# result and time). Not part of .ci/run: it rebuilds and reruns the circuit's
# tests once per mutant.
#
# 1. Named weakenings: each `weaken-*` feature of zktx-circuits removes one
#    check of the soundness argument; `cargo test -p zktx-circuits` must fail
#    with every one of them.
# 2. cargo-mutants (pinned) over circuit.rs, gadgets.rs, encoding.rs and
#    poseidon.rs: no mutant may survive; timeouts and unviable mutants are
#    listed apart, not counted as caught.
#
# usage: scripts/mutants.sh [weakenings] [mutants]    (no argument: both)
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO_MUTANTS_VERSION=27.1.0
started=$(date +%s)
status=0

weakenings() {
  local features
  features=$(sed -n 's/^\(weaken-[a-z-]*\) = .*/\1/p' circuits/Cargo.toml)
  [ -n "$features" ] || { echo "mutants: no weaken-* features in circuits/Cargo.toml" >&2; exit 1; }
  for feature in $features; do
    local t0; t0=$(date +%s)
    if cargo test -p zktx-circuits --features "$feature" >"target/mutants-$feature.log" 2>&1; then
      echo "mutants: SURVIVED $feature: the circuit's tests pass without that check ($(( $(date +%s) - t0 ))s)"
      status=1
    else
      local failed
      failed=$(grep -c '^test .* FAILED$' "target/mutants-$feature.log" || true)
      echo "mutants: caught $feature: $failed tests fail ($(( $(date +%s) - t0 ))s)"
    fi
  done
}

mutants() {
  if ! cargo mutants --version 2>/dev/null | grep -q " $CARGO_MUTANTS_VERSION\$"; then
    echo "mutants: installing cargo-mutants $CARGO_MUTANTS_VERSION (cargo install --locked)"
    cargo install --locked --quiet "cargo-mutants@$CARGO_MUTANTS_VERSION"
  fi
  # nextest stops a mutant's run at its first failing test and kills the
  # tests still running (cargo test runs every test of the binary, and the
  # exhaustive sweep takes most of a minute), which is most of the saving.
  cargo nextest --version >/dev/null 2>&1 || cargo install --locked --quiet cargo-nextest
  cargo mutants --package zktx-circuits --no-shuffle --output target --test-tool nextest \
    --cargo-test-arg=--max-fail=1:immediate \
    --file circuits/src/circuit.rs --file circuits/src/gadgets.rs \
    --file circuits/src/encoding.rs --file circuits/src/poseidon.rs || status=1
  local out=target/mutants.out
  echo "mutants: caught $(wc -l < "$out/caught.txt"), survived $(wc -l < "$out/missed.txt"), timeouts $(wc -l < "$out/timeout.txt"), unviable $(wc -l < "$out/unviable.txt")"
  [ -s "$out/missed.txt" ] && { echo "mutants: SURVIVED:"; cat "$out/missed.txt"; status=1; }
  [ -s "$out/timeout.txt" ] && { echo "mutants: timeouts (not counted as caught):"; cat "$out/timeout.txt"; }
  return 0
}

wanted=("$@")
[ ${#wanted[@]} -eq 0 ] && wanted=(weakenings mutants)
for what in "${wanted[@]}"; do
  case $what in
    weakenings) weakenings ;;
    mutants) mutants ;;
    *) echo "mutants: unknown part $what (weakenings, mutants)" >&2; exit 2 ;;
  esac
done
echo "mutants: done in $(( $(date +%s) - started ))s"
exit $status
