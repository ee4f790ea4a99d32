"""Fixtures every test directory may use."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.pcscd import Pcscd, ensure_pcscd


@pytest.fixture(scope="session")
def pcscd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pcscd]:
    """The machine's pcscd with the vpcd readers, started for the session when it is not running."""
    with ensure_pcscd(tmp_path_factory.mktemp("pcscd")) as daemon:
        yield daemon
