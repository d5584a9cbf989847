#!/usr/bin/env python3
"""Writes deploy/k8s/configmap.yaml from deploy/zktx.example.toml (verbatim),
or with --check exits 1 when the committed ConfigMap differs from it."""
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent
SOURCE = ROOT / "zktx.example.toml"
TARGET = ROOT / "k8s" / "configmap.yaml"


def render() -> str:
    lines = [
        "# Generated from deploy/zktx.example.toml (verbatim): deploy/render_configmap.py",
        "# (scripts/deploy-check.sh fails when the two differ).",
        "apiVersion: v1",
        "kind: ConfigMap",
        "metadata:",
        "  name: zktx-config",
        "  namespace: zktx",
        "  labels:",
        "    app.kubernetes.io/name: zktx",
        "data:",
        "  zktx.toml: |",
    ]
    lines += [("    " + line) if line else "" for line in SOURCE.read_text().splitlines()]
    return "\n".join(lines) + "\n"


def main() -> int:
    if sys.argv[1:] == ["--check"]:
        if TARGET.read_text() != render():
            print(f"{TARGET} differs from {SOURCE}: run deploy/render_configmap.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
