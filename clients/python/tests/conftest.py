"""A real ``zktx serve`` sandbox for the tests: started once in a temporary data directory
with tier-4 development keys, a few proofs and tenants on plans that provoke each error,
and stopped at the end.

The binary is ``$ZKTX_BIN``, else the workspace's ``target/debug/zktx`` (``cargo build -p
zktx`` makes it; ``scripts/test.sh`` runs these tests after ``cargo test``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

REPO = Path(__file__).resolve().parents[3]
CONFIG = (REPO / "clients" / "testdata" / "sandbox-plans.toml").read_text()


def zktx_binary() -> Path:
    path = Path(os.environ.get("ZKTX_BIN", REPO / "target" / "debug" / "zktx")).resolve()
    if not path.is_file():
        pytest.exit(f"{path} is missing: cargo build -p zktx (or set ZKTX_BIN)", returncode=1)
    return path


def run(binary: Path, cwd: Path, *args: str) -> str:
    done = subprocess.run(
        [str(binary), *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    if done.returncode != 0:
        raise RuntimeError(f"zktx {' '.join(args)} exited {done.returncode}: {done.stderr}")
    return done.stdout


@dataclass
class Sandbox:
    """The running server and what the tests need from it."""

    dir: Path
    grpc: str
    rest: str
    keys: dict[str, str]
    """API keys by tenant: wide, narrow, tiny, slow."""
    proofs: list[Path]
    binary: Path


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    binary = zktx_binary()
    d = tmp_path_factory.mktemp("sandbox")
    run(binary, d, "setup", "--tier", "4", "--out", "keys", "--dev-seed", "python-client")
    (d / "a.csv").write_text("id-1\nid-2\nid-3\n")
    (d / "b.csv").write_text("id-3\nid-4\n")
    for side in ("a", "b"):
        run(binary, d, "commit", "--set", f"{side}.csv", "--tier", "4", "--out", side)
    proofs = []
    for i in range(6):
        out = d / f"proof-{i}.json"
        run(
            binary, d, "prove", "--keys", "keys", "--a", "a.opening.json", "--b", "b.opening.json",
            "--k", "1", "--context", f"{i + 1:02x}", "--out", out.name,
        )
        proofs.append(out)
    config = CONFIG
    keys = {}
    for tenant in ("wide", "narrow", "tiny", "slow"):
        made = run(binary, d, "apikey", "new", "--tenant", tenant, "--plan", tenant)
        match = re.search(r"\bzktx_\S+", made)
        assert match, "apikey new prints the key"
        keys[tenant] = match.group(0)
        config += "\n" + made[made.index("[[tenants]]") :]
    (d / "zktx.toml").write_text(config)
    ready = d / "ready.json"
    log = open(d / "server.log", "ab")
    server = subprocess.Popen(
        [
            str(binary), "serve", "--data-dir", "data", "--config", "zktx.toml", "--keys", "keys",
            "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--ready-file", ready.name,
        ],
        cwd=d, stdout=subprocess.DEVNULL, stderr=log,
    )
    try:
        started = time.monotonic()
        while not ready.exists():
            if server.poll() is not None:
                raise RuntimeError(f"zktx serve exited: {(d / 'server.log').read_text()}")
            if time.monotonic() - started > 120:
                raise RuntimeError("zktx serve did not start in 120 s")
            time.sleep(0.05)
        info = json.loads(ready.read_text())
        yield Sandbox(
            dir=d,
            grpc=info["grpc_addr"],
            rest="http://" + info["http_addr"],
            keys=keys,
            proofs=proofs,
            binary=binary,
        )
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
