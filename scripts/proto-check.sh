#!/usr/bin/env bash
# The v1 contract's checks: `buf lint` over proto/ and `buf breaking` against
# the newest release's copy in proto/released/<version>/ (wire and JSON
# compatibility; clients/VERSIONING.md says what counts as breaking). Then a
# self-check: a copy of proto/ with one field renumbered must be refused, so a
# check that stopped comparing would not pass unnoticed.
# buf is the pinned npm package in scripts/node (scripts/tools.sh node).
set -euo pipefail
cd "$(dirname "$0")/.."
buf=scripts/node/node_modules/.bin/buf
[ -x "$buf" ] || { echo "proto-check: $buf is missing: run scripts/tools.sh node" >&2; exit 1; }

released=$(ls -d proto/released/*/ | sort -V | tail -1)
released=${released%/}
echo "proto-check: buf $("$buf" --version), baseline $released"
(cd proto && "../$buf" lint)
echo "proto-check: lint ok"
(cd proto && "../$buf" breaking . --against "../$released")
echo "proto-check: no breaking change against $released"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp -r proto/buf.yaml proto/zktx "$scratch/"
sed -i 's/^  uint64 k = 3;/  uint64 k = 9;/' "$scratch/zktx/v1/verifier.proto"
if ! grep -q '^  uint64 k = 9;' "$scratch/zktx/v1/verifier.proto"; then
  echo "proto-check: self-check could not renumber PublicInputs.k" >&2
  exit 1
fi
if (cd "$scratch" && "$OLDPWD/$buf" breaking . --against "$OLDPWD/$released") > "$scratch/out" 2>&1; then
  echo "proto-check: self-check FAILED: renumbering PublicInputs.k was not reported as breaking" >&2
  exit 1
fi
grep -q 'PublicInputs' "$scratch/out" || { cat "$scratch/out" >&2; exit 1; }
echo "proto-check: self-check ok (a renumbered field is refused: $(head -1 "$scratch/out"))"
