"""Generates the v1 messages and gRPC stubs (with their .pyi types) from proto/ into src/zktx/v1,
or into another directory (the staleness test compares the two).

usage: python tools/generate.py [OUT_DIR]
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROTO_ROOT = HERE.parent.parent.parent / "proto"
PROTO = "zktx/v1/verifier.proto"
FILES = ("verifier_pb2.py", "verifier_pb2.pyi", "verifier_pb2_grpc.py", "verifier_pb2_grpc.pyi")


def generate(out_root: Path) -> list[Path]:
    """Runs protoc (grpcio-tools) with the grpc and mypy plugins; returns the files written,
    under ``out_root/zktx/v1``."""
    from grpc_tools import protoc  # the pinned dev dependency

    bin_dir = Path(sys.executable).parent
    if shutil.which("protoc-gen-mypy", path=str(bin_dir)) is None:
        raise SystemExit("protoc-gen-mypy is missing: pip install mypy-protobuf (the dev extra)")
    os.environ["PATH"] = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    out_root.mkdir(parents=True, exist_ok=True)
    include = Path(protoc.__file__).parent / "_proto"
    code = protoc.main(
        [
            "grpc_tools.protoc",
            f"-I{PROTO_ROOT}",
            f"-I{include}",
            f"--python_out={out_root}",
            f"--mypy_out={out_root}",
            f"--grpc_python_out={out_root}",
            f"--mypy_grpc_out={out_root}",
            PROTO,
        ]
    )
    if code != 0:
        raise SystemExit(f"protoc failed with status {code}")
    return [out_root / "zktx" / "v1" / name for name in FILES]


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parent / "src"
    for path in generate(out):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
