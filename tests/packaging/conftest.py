"""The `packaging` marker of the tests in this directory.

These tests check the shape of what is shipped (the wheel, the generated gRPC code, the
source roots, the systemd files) rather than behaviour. They run in the default test run and
can be selected alone with `pytest -m packaging`. Each module finds the repository from its
own path, so they import nothing from here and work under any pytest import mode.
"""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "packaging: shape of the shipped artefacts (wheel, generated code, systemd)")
