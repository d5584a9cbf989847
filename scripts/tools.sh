#!/usr/bin/env bash
# Installs what the tests and the release need beyond cargo, when missing,
# at pinned versions: cargo tools with `cargo install --locked`, Python
# tools in a venv at target/venv (scripts/requirements-*.txt), the Python
# client with its dev tools in target/venv-client, Node tools (snarkjs, buf;
# the TypeScript client's tsc and openapi-typescript) from their
# package-lock.json files, and Prometheus (prometheus, promtool) from
# Debian's package. Safe to run again: present tools at the pinned version
# are kept.
#
# usage: scripts/tools.sh [cargo] [python] [node] [system]    (no argument: all)
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_CYCLONEDX_VERSION=0.5.9
CARGO_DENY_VERSION=0.20.2
VENV=target/venv

cargo_tool() { # crate version subcommand
  local crate=$1 version=$2 sub=$3
  if cargo "$sub" --version 2>/dev/null | grep -q " $version\$"; then
    return
  fi
  echo "tools: installing $crate $version (cargo install --locked)"
  # The tools' own release profiles (fat LTO, one codegen unit) cost minutes
  # of CI on 2 cores for programs that run for seconds: opt-level 1, no LTO.
  # One build directory for both tools: the dependencies they share (clap,
  # serde, cargo_metadata, ...) are compiled once.
  CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_LTO=false \
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_DEBUG=0 \
    CARGO_TARGET_DIR=target/cargo-tools cargo install --locked --quiet "$crate@$version"
}

# The Python client's venv: the client itself (editable) with its dev extra
# (grpcio-tools, mypy-protobuf, mypy, pytest, type stubs), all pinned in
# clients/python/pyproject.toml; reinstalled when that file changes.
VENV_CLIENT=target/venv-client
python_client() {
  if [ ! -x "$VENV_CLIENT/bin/python" ]; then
    echo "tools: creating $VENV_CLIENT"
    python3 -m venv "$VENV_CLIENT"
  fi
  if ! cmp -s clients/python/pyproject.toml "$VENV_CLIENT/.pyproject"; then
    echo "tools: installing clients/python[dev] into $VENV_CLIENT"
    "$VENV_CLIENT/bin/pip" install --quiet --disable-pip-version-check -e 'clients/python[dev]'
    cp clients/python/pyproject.toml "$VENV_CLIENT/.pyproject"
  fi
}

python_tools() {
  if [ ! -x "$VENV/bin/python" ]; then
    echo "tools: creating $VENV"
    python3 -m venv "$VENV"
  fi
  local wanted
  wanted=$(cat scripts/requirements-ci.txt scripts/requirements-deploy.txt)
  if [ "$wanted" != "$(cat "$VENV/.requirements" 2>/dev/null)" ]; then
    echo "tools: installing scripts/requirements-{ci,deploy}.txt into $VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check \
      -r scripts/requirements-ci.txt -r scripts/requirements-deploy.txt
    printf '%s' "$wanted" > "$VENV/.requirements"
  fi
}

# npm ci from the lock file: exactly the pinned versions, nothing fetched
# beyond the npm registry (buf's binary is the @bufbuild/buf-linux-x64 package).
node_tools() {
  command -v npm >/dev/null || { echo "tools: npm is missing (Node.js 20 or later)" >&2; exit 1; }
  local dir stamp
  for dir in scripts/node clients/typescript; do
    stamp=$dir/node_modules/.zktx-lock
    cmp -s "$dir/package-lock.json" "$stamp" && continue
    echo "tools: installing $dir/package-lock.json (npm ci)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    cp "$dir/package-lock.json" "$stamp"
  done
}

# Debian's prometheus package: prometheus (the integration test's server)
# and promtool (rule checks and rule unit tests).
system_tools() {
  if command -v promtool >/dev/null && command -v prometheus >/dev/null; then
    return
  fi
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "tools: installing Debian's prometheus package (prometheus, promtool)"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus \
    >/dev/null 2>&1 || {
    $sudo apt-get update -q >/dev/null
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus >/dev/null
  }
  # The package's service is not wanted: the tests start their own on loopback.
  command -v promtool >/dev/null || { echo "tools: promtool still missing" >&2; exit 1; }
}

wanted=("$@")
[ ${#wanted[@]} -eq 0 ] && wanted=(cargo python node system)
for what in "${wanted[@]}"; do
  case $what in
    cargo)
      cargo_tool cargo-cyclonedx "$CARGO_CYCLONEDX_VERSION" cyclonedx
      cargo_tool cargo-deny "$CARGO_DENY_VERSION" deny
      ;;
    python) python_tools; python_client ;;
    node) node_tools ;;
    system) system_tools ;;
    *) echo "tools: unknown group $what (cargo, python, node, system)" >&2; exit 2 ;;
  esac
done
