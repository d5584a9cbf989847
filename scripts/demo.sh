#!/usr/bin/env bash
# The command-line walk-through (the main job is ./scripts/pilot.sh):
# commit two sample partner sets, set up keys (cached in a data directory),
# prove |A ∩ B| <= k, verify, and show a false bound refused and a tampered
# proof rejected. Everything runs locally; nothing is sent anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."

TIER=${ZKTX_DEMO_TIER:-64}
# The sample sets share 12 identifiers (examples/README.md); some appear in
# other letter case or with spaces, which normalisation folds.
TRUE_OVERLAP=12
DATA_DIR=${ZKTX_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/zktx}
KEYS=$DATA_DIR/keys
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
expect_exit() { # expect_exit CODE command...
  local want=$1; shift
  set +e; "$@"; local got=$?; set -e
  if [ "$got" != "$want" ]; then echo "demo: expected exit $want, got $got from: $*" >&2; exit 1; fi
}

step "build (release)"
cargo build --release --locked -q -p zktx
ZKTX=$PWD/target/release/zktx

step "keys for tier $TIER (cached in $KEYS)"
if [ -f "$KEYS/tier-$TIER/manifest.json" ]; then
  echo "using cached keys: $KEYS/tier-$TIER"
else
  "$ZKTX" setup --tier "$TIER" --out "$KEYS" --dev-seed zktx-demo
fi

step "each partner commits to its set"
"$ZKTX" commit --set examples/partner_a.csv --skip-header --tier "$TIER" --out "$WORK/partner_a"
"$ZKTX" commit --set examples/partner_b.csv --skip-header --tier "$TIER" --out "$WORK/partner_b"

step "prove |A ∩ B| <= $TRUE_OVERLAP for context 0x5e55 (a verifier's nonce)"
"$ZKTX" prove --keys "$KEYS" --a "$WORK/partner_a.opening.json" --b "$WORK/partner_b.opening.json" \
  --k "$TRUE_OVERLAP" --context 0x5e55 --out "$WORK/proof.json"

step "verify"
"$ZKTX" verify --keys "$KEYS" "$WORK/proof.json"

step "a false bound (k = $((TRUE_OVERLAP - 1))) is refused: exit 3, no proof written"
expect_exit 3 "$ZKTX" prove --keys "$KEYS" --a "$WORK/partner_a.opening.json" --b "$WORK/partner_b.opening.json" \
  --k "$((TRUE_OVERLAP - 1))" --context 0x5e55 --out "$WORK/false.json"
test ! -e "$WORK/false.json"

step "a proof edited to claim a smaller k, or replayed for another context, is rejected"
sed "s/\"k\": $TRUE_OVERLAP,/\"k\": $((TRUE_OVERLAP - 1)),/" "$WORK/proof.json" > "$WORK/edited.json"
expect_exit 1 "$ZKTX" verify --keys "$KEYS" "$WORK/edited.json"
sed 's/0000000000005e55"/0000000000005e56"/' "$WORK/proof.json" > "$WORK/replayed.json"
expect_exit 1 "$ZKTX" verify --keys "$KEYS" "$WORK/replayed.json"

step "verify all three in one batch: one verdict per file"
expect_exit 1 "$ZKTX" verify-batch --keys "$KEYS" "$WORK/proof.json" "$WORK/edited.json" "$WORK/replayed.json"

step "summary"
printf '%-34s %s\n' "tier (slots per side)" "$TIER" \
  "proved bound" "|A ∩ B| <= $TRUE_OVERLAP" \
  "false bound k=$((TRUE_OVERLAP - 1))" "refused by the prover" \
  "edited / replayed proofs" "rejected by the verifier" \
  "batch of the three" "1 valid, 2 invalid, each named" \
  "keys" "$KEYS/tier-$TIER (DEVELOPMENT keys)"
echo
echo "demo: all checks passed"
