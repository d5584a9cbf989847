#!/usr/bin/env bash
# Installs what the tests and the release need beyond cargo, when missing,
# at pinned versions: cargo tools with `cargo install --locked`, Python
# tools in a venv at target/venv (scripts/requirements-*.txt), and
# Prometheus (prometheus, promtool) from Debian's package. Safe to run
# again: present tools at the pinned version are kept.
#
# usage: scripts/tools.sh [cargo] [python] [system]    (no argument: all)
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
  local wanted
  wanted=$(cat scripts/requirements-ci.txt scripts/requirements-deploy.txt)
  if [ "$wanted" != "$(cat "$VENV/.requirements" 2>/dev/null)" ]; then
    echo "tools: installing scripts/requirements-{ci,deploy}.txt into $VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check \
      -r scripts/requirements-ci.txt -r scripts/requirements-deploy.txt
    printf '%s' "$wanted" > "$VENV/.requirements"
  fi
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
[ ${#wanted[@]} -eq 0 ] && wanted=(cargo python system)
for what in "${wanted[@]}"; do
  case $what in
    cargo)
      cargo_tool cargo-cyclonedx "$CARGO_CYCLONEDX_VERSION" cyclonedx
      cargo_tool cargo-deny "$CARGO_DENY_VERSION" deny
      ;;
    python) python_tools ;;
    system) system_tools ;;
    *) echo "tools: unknown group $what (cargo, python, system)" >&2; exit 2 ;;
  esac
done
