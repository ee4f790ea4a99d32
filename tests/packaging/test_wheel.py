"""The wheel holds the four packages and nothing else, with the API and the commands.

Builds the wheel once per run from the working tree (hatchling, no build isolation, so it
is quick and needs no network) and inspects the archive.
"""

from __future__ import annotations

import configparser
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

pytestmark = pytest.mark.packaging

REPO = Path(__file__).resolve().parents[2]
PACKAGES = {"hallgw_api", "hallgw_daemon", "hallgw_protocols", "hallgw_simulators"}
SCRIPTS = {
    "hallgwd": "hallgw_daemon.app:main",
    "hallctl": "hallgw_daemon.cli.main:main",
    "hallsim": "hallgw_simulators.cli:main",
}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[zipfile.ZipFile]:
    out = tmp_path_factory.mktemp("wheel")
    build = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(REPO)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if build.returncode != 0:
        pytest.fail(f"wheel build failed (exit {build.returncode}):\n{build.stdout}\n{build.stderr}")
    (path,) = out.glob("hallgw-*.whl")
    with zipfile.ZipFile(path) as archive:
        yield archive


def _names(wheel: zipfile.ZipFile) -> list[PurePosixPath]:
    return [PurePosixPath(n) for n in wheel.namelist()]


def _dist_info(wheel: zipfile.ZipFile) -> str:
    (dist_info,) = {p.parts[0] for p in _names(wheel) if p.parts[0].endswith(".dist-info")}
    return dist_info


def test_top_level_names_are_exactly_the_four_packages(wheel: zipfile.ZipFile) -> None:
    top = {p.parts[0] for p in _names(wheel)}
    assert top == PACKAGES | {_dist_info(wheel)}
    assert re.fullmatch(r"hallgw-[^-]+\.dist-info", _dist_info(wheel))
    for package in PACKAGES:
        assert f"{package}/__init__.py" in wheel.namelist()


def test_no_bytecode_or_tests_in_the_wheel(wheel: zipfile.ZipFile) -> None:
    unwanted = [
        str(p)
        for p in _names(wheel)
        if "__pycache__" in p.parts or p.suffix == ".pyc" or p.name.startswith("test_") or p.name == "conftest.py"
    ]
    assert not unwanted


def test_api_protos_and_generated_code_are_shipped(wheel: zipfile.ZipFile) -> None:
    stems = sorted(p.stem for p in (REPO / "proto" / "hallgw_api" / "v1").glob("*.proto"))
    assert stems, "no .proto files under proto/hallgw_api/v1"
    names = set(wheel.namelist())
    expected = {
        f"hallgw_api/v1/{stem}{suffix}"
        for stem in stems
        for suffix in (".proto", "_pb2.py", "_pb2.pyi", "_pb2_grpc.py")
    }
    assert not expected - names, f"missing from the wheel: {sorted(expected - names)}"


def test_simulator_assets_are_shipped(wheel: zipfile.ZipFile) -> None:
    """The simulated camera's portrait and its credit travel with the simulators (hallsim needs them)."""
    names = set(wheel.namelist())
    assets = {
        f"hallgw_simulators/assets/{p.name}" for p in (REPO / "simulators" / "hallgw_simulators" / "assets").iterdir()
    }
    assert {"hallgw_simulators/assets/astronaut.png", "hallgw_simulators/assets/CREDITS.md"} <= assets
    assert not assets - names, f"missing from the wheel: {sorted(assets - names)}"


def test_console_scripts_are_declared(wheel: zipfile.ZipFile) -> None:
    entry_points = configparser.ConfigParser()
    entry_points.read_string(wheel.read(f"{_dist_info(wheel)}/entry_points.txt").decode())
    assert dict(entry_points["console_scripts"]) == SCRIPTS


def test_runtime_floors_satisfy_the_generated_code(wheel: zipfile.ZipFile) -> None:
    """grpcio and protobuf floors must admit no version the generated code refuses at import."""
    generated = "".join(
        wheel.read(n).decode() for n in wheel.namelist() if re.fullmatch(r"hallgw_api/v1/\w+_pb2(_grpc)?\.py", n)
    )
    needs = {
        "grpcio": max(Version(v) for v in re.findall(r"GRPC_GENERATED_VERSION = '([\d.]+)'", generated)),
        "protobuf": max(Version(v) for v in re.findall(r"# Protobuf Python Version: ([\d.]+)", generated)),
    }
    metadata = wheel.read(f"{_dist_info(wheel)}/METADATA").decode()
    requirements = [
        Requirement(line.split(":", 1)[1]) for line in metadata.splitlines() if line.startswith("Requires-Dist:")
    ]
    for name, needed in needs.items():
        (requirement,) = [r for r in requirements if r.name == name and not r.marker]
        floors = [Version(s.version) for s in requirement.specifier if s.operator in {">=", "==", "~="}]
        assert floors, f"{name} has no lower bound; the generated code needs {name}>={needed}"
        assert max(floors) >= needed, (
            f"pyproject.toml allows {name}{requirement.specifier}, but the generated code in proto/ refuses to "
            f"import with {name} below {needed}: raise the floor to {name}>={needed}"
        )
