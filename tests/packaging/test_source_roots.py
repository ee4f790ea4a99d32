"""Each source root holds exactly one package and nothing else.

The editable install puts proto/, protocols/, daemon/ and simulators/ on sys.path, so any
other module or package placed there would become a top-level import name (and, for the
wheel, an accident waiting to happen).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.packaging

REPO = Path(__file__).resolve().parents[2]
#: The four source roots and the one package each holds (DESIGN.md section 1).
SOURCE_ROOTS = {
    "proto": "hallgw_api",
    "protocols": "hallgw_protocols",
    "daemon": "hallgw_daemon",
    "simulators": "hallgw_simulators",
}

# Left behind by tools, never shipped: the wheel build follows .gitignore.
IGNORED = {"__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"}


@pytest.mark.parametrize(("root", "package"), sorted(SOURCE_ROOTS.items()))
def test_source_root_holds_exactly_its_package(root: str, package: str) -> None:
    entries = sorted(p.name for p in (REPO / root).iterdir() if p.name not in IGNORED)
    assert entries == [package], (
        f"{root}/ must hold only the package {package}/ (a source root, no __init__.py of its own); "
        f"found {entries}: move stray modules into {package}/"
    )
    assert (REPO / root / package / "__init__.py").is_file(), f"{root}/{package}/ has no __init__.py"


def test_wheel_config_lists_the_four_source_roots() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    packages = config["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    assert sorted(packages) == sorted(f"{root}/{package}" for root, package in SOURCE_ROOTS.items())
