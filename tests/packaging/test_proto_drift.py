"""The committed gRPC code is exactly what the .proto files generate.

Generated code is never edited by hand: `make proto` (scripts/gen_proto.sh) regenerates it.
This test runs the same script into a temporary directory and compares byte for byte, so a
.proto edited without regenerating, a hand edit or a stale file fails here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.packaging

REPO = Path(__file__).resolve().parents[2]
V1 = Path("hallgw_api") / "v1"
#: What scripts/gen_proto.sh writes for each .proto file.
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")


def _generated_files(root: Path) -> dict[str, bytes]:
    return {
        p.name: p.read_bytes()
        for p in sorted((root / V1).iterdir())
        if p.is_file() and p.name.endswith(GENERATED_SUFFIXES)
    }


def test_committed_grpc_code_matches_the_proto_files(tmp_path: Path) -> None:
    subprocess.run(
        ["bash", str(REPO / "scripts" / "gen_proto.sh"), str(tmp_path)],
        check=True,
        env={**os.environ, "PYTHON": sys.executable},
        timeout=60,
    )
    fresh = _generated_files(tmp_path)
    committed = _generated_files(REPO / "proto")
    assert fresh, "scripts/gen_proto.sh generated nothing"

    problems = [f"proto/{V1}/{name}: missing, not generated yet" for name in sorted(fresh.keys() - committed.keys())]
    problems += [
        f"proto/{V1}/{name}: stale, no .proto generates it any more" for name in sorted(committed.keys() - fresh.keys())
    ]
    problems += [
        f"proto/{V1}/{name}: differs from what its .proto generates"
        for name in sorted(fresh.keys() & committed.keys())
        if fresh[name] != committed[name]
    ]
    assert not problems, (
        "generated gRPC code is out of date with the .proto files:\n  "
        + "\n  ".join(problems)
        + "\nRun `make proto` and commit the result (never edit generated files by hand)."
    )
