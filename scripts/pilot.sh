#!/usr/bin/env bash
# The main job: the sandbox pilot, end to end on this machine (see `zktx pilot --help`):
# synthetic partner sets with known overlaps are committed and proved (false bounds refused),
# a sandbox server is started, every proof and a tampered twin are checked against the ground
# truth over gRPC, receipts are verified offline, a short pilot load runs against its
# objectives, then the chaos runs (hang-ups, SIGKILL and restart). Exit 0 when all pass.
# Extra arguments go to `zktx pilot` (e.g. --load-scale 1 for the full 60 s load).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q -p zktx
exec ./target/release/zktx pilot ${ZKTX_DATA_DIR:+--data-dir "$ZKTX_DATA_DIR"} "$@"
