#!/usr/bin/env bash
# Installs what the tests and the release need beyond cargo, when missing,
# at pinned versions: cargo tools with `cargo install --locked`, Python
# tools in a venv at target/venv. Safe to run again: present tools at the
# pinned version are kept.
#
# usage: scripts/tools.sh [cargo] [python]    (no argument: both)
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
  cargo install --locked --quiet "$crate@$version"
}

python_tools() {
  if [ ! -x "$VENV/bin/python" ]; then
    echo "tools: creating $VENV"
    python3 -m venv "$VENV"
  fi
  if ! cmp -s scripts/requirements-ci.txt "$VENV/.requirements" 2>/dev/null; then
    echo "tools: installing scripts/requirements-ci.txt into $VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r scripts/requirements-ci.txt
    cp scripts/requirements-ci.txt "$VENV/.requirements"
  fi
}

wanted=("$@")
[ ${#wanted[@]} -eq 0 ] && wanted=(cargo python)
for what in "${wanted[@]}"; do
  case $what in
    cargo)
      cargo_tool cargo-cyclonedx "$CARGO_CYCLONEDX_VERSION" cyclonedx
      cargo_tool cargo-deny "$CARGO_DENY_VERSION" deny
      ;;
    python) python_tools ;;
    *) echo "tools: unknown group $what (cargo, python)" >&2; exit 2 ;;
  esac
done
