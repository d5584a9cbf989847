"""The committed messages and stubs are what the pinned generators make of proto/ today."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tools"))

import generate  # noqa: E402


def test_generated_code_is_fresh(tmp_path: Path) -> None:
    committed = HERE.parent / "src" / "zktx" / "v1"
    for fresh in generate.generate(tmp_path):
        assert fresh.read_bytes() == (committed / fresh.name).read_bytes(), (
            f"src/zktx/v1/{fresh.name} is stale: run python tools/generate.py"
        )
