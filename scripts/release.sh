#!/usr/bin/env bash
# Builds a release and the evidence a partner's security review asks for,
# into one directory, and checks every gate. Exits non-zero naming the gate
# that failed.
#
# usage: scripts/release.sh --out DIR [--profile release|dev] [--keys DIR] [--key-file FILE]
#                           [--binary FILE]
#
#   DIR/zktx                 the binary (cargo build --locked)
#   DIR/keys/tier-N/         the verifying keys it is released with (verifying_key.bin,
#                            manifest.json): --keys DIR (ceremony keys), else the
#                            sandbox's development keys (derived from a public seed)
#   DIR/sbom.cdx.json        CycloneDX 1.5 SBOM of the binary (cargo-cyclonedx)
#   DIR/scan.json            advisories, bans and sources (cargo-deny over the offline
#                            RustSec snapshot) and the supply-chain gate's decision
#   DIR/provenance.dsse.json in-toto Statement v1 + SLSA Provenance v1, DSSE, Ed25519
#   DIR/provenance.pub       the signing public key (hex)
#   DIR/evidence/            the evidence pack (zktx evidence): index.md, index.html, their
#                            signed digests (evidence.dsse.json, evidence.pub)
#
# The signing key comes from --key-file or ZKTX_PROVENANCE_KEY (64 hex), never from the
# repository; without one a throwaway key signs and the provenance says it is unofficial.
# --profile dev builds the test profile (CI passes the binary its tests built with --binary
# and checks the pipeline with it); a real release uses the default, release. --binary FILE
# releases that binary instead of building one (the one copied out of the container image,
# so that the provenance names what the image runs; see docs/deploy.md). The advisory snapshot is ../shared/advisory-db, or
# ZKTX_ADVISORY_DB.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

out="" profile=release keys="" key_file="" binary=""
while [ $# -gt 0 ]; do
  case $1 in
    --out) out=$2; shift 2 ;;
    --profile) profile=$2; shift 2 ;;
    --keys) keys=$2; shift 2 ;;
    --key-file) key_file=$2; shift 2 ;;
    --binary) binary=$2; shift 2 ;;
    -h|--help) sed -n '2,29p' "$0"; exit 0 ;;
    *) echo "release: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$out" ] || { echo "release: --out DIR is required" >&2; exit 2; }
case $profile in release|dev) ;; *) echo "release: --profile is release or dev" >&2; exit 2 ;; esac
advisory_db=${ZKTX_ADVISORY_DB:-$root/../shared/advisory-db}

fail() { echo "release: GATE FAILED: $*" >&2; exit 1; }
started=$(date +%s)
step_t0=$started
step() {
  local now; now=$(date +%s)
  echo "==> release: $* (+$((now - started))s)"
  step_t0=$now
}

step "tools (pinned cargo-cyclonedx, cargo-deny)"
scripts/tools.sh cargo

if [ -n "$binary" ]; then
  step "binary ($binary, built elsewhere with --locked)"
  [ -x "$binary" ] || fail "binary: $binary is not an executable"
  "$binary" --version >/dev/null || fail "binary: $binary does not run"
else
  step "build (cargo build --locked --profile $profile -p zktx)"
  cargo build --locked --profile "$profile" -p zktx --quiet
  binary=target/$([ "$profile" = dev ] && echo debug || echo release)/zktx
fi
rm -rf "$out"
mkdir -p "$out/keys"
out=$(cd "$out" && pwd)
cp "$binary" "$out/zktx"
zktx=$out/zktx
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step "verifying keys"
if [ -n "$keys" ]; then
  src=$keys
else
  src=$work/dev-keys
  for tier in 16 64; do
    "$zktx" setup --tier "$tier" --out "$src" --dev-seed zktx-sandbox >/dev/null
  done
fi
for dir in "$src"/tier-*; do
  [ -f "$dir/verifying_key.bin" ] || fail "keys: $dir has no verifying_key.bin"
  mkdir -p "$out/keys/$(basename "$dir")"
  cp "$dir/verifying_key.bin" "$dir/manifest.json" "$out/keys/$(basename "$dir")/"
done
"$zktx" keys list --keys "$out/keys" || fail "keys: the verifying keys do not list"

step "SBOM (cargo cyclonedx)"
cargo cyclonedx --manifest-path cli/Cargo.toml --format json --spec-version 1.5 \
  --describe binaries --no-build-deps --quiet
mv cli/zktx_bin.cdx.json "$out/sbom.cdx.json"

step "scan (cargo deny, offline, against $(basename "$advisory_db"))"
[ -f "$advisory_db/SNAPSHOT.md" ] || fail "scan: no advisory snapshot at $advisory_db (set ZKTX_ADVISORY_DB)"
# cargo-deny reads the database from db-path/advisory-db-<hash of its URL> as a git
# repository: ask it for the directory, then put a committed copy of the snapshot there.
dbs=target/advisory-dbs
rm -rf "$dbs" && mkdir -p "$dbs"
dbdir=$(cargo deny --offline --manifest-path cli/Cargo.toml check advisories 2>&1 \
  | grep -o 'advisory-db-[0-9a-f]\{16\}' | head -1 || true)
[ -n "$dbdir" ] || fail "scan: cargo-deny did not name its advisory database directory"
cp -r "$advisory_db" "$dbs/$dbdir"
(cd "$dbs/$dbdir" && git init -q && git add -A \
  && git -c user.name=zktx-release -c user.email=release@zktx.invalid commit -q -m snapshot)
# cargo-deny's exit code is not the gate: its report is, decided by the Rego policy.
cargo deny --offline --format json --manifest-path cli/Cargo.toml \
  check advisories bans sources 2> "$work/deny.jsonl" || true
"$zktx" supply-chain check --sbom "$out/sbom.cdx.json" --deny-report "$work/deny.jsonl" \
  --advisory-db "$advisory_db" --scanner "$(cargo deny --version)" --out "$out/scan.json" \
  || fail "supply-chain (licences, advisories, sources): see the BLOCKED lines above and $out/scan.json"

step "provenance (in-toto Statement v1, SLSA v1, DSSE, Ed25519)"
subjects=(--subject zktx --subject sbom.cdx.json --subject scan.json)
for f in "$out"/keys/tier-*/*; do subjects+=(--subject "${f#"$out"/}"); done
key_args=()
[ -n "$key_file" ] && key_args=(--key-file "$key_file")
"$zktx" attest provenance --artifacts "$out" "${subjects[@]}" "${key_args[@]}" \
  --cargo-profile "$profile" --out "$out/provenance.dsse.json" \
  --public-key-out "$out/provenance.pub"
"$zktx" attest verify --provenance "$out/provenance.dsse.json" \
  --public-key "$(cat "$out/provenance.pub")" --artifacts "$out" \
  || fail "provenance: the signed provenance does not verify against the artifacts"

step "evidence pack (zktx evidence)"
"$zktx" evidence --release "$out" --out "$out/evidence" "${key_args[@]}" \
  || fail "evidence: the evidence pack could not be written or does not verify"

echo "release: every gate passed; artifacts in $out ($(( $(date +%s) - started ))s)"
