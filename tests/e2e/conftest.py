"""Fixtures of the end-to-end tests: a virtual hall with the real daemon."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support.hall import Hall, running_hall

from hallgw_simulators.deck import Deck, build_deck

pytestmark = pytest.mark.e2e


@pytest.fixture
async def hall(tmp_path: Path) -> AsyncIterator[Hall]:
    """The packaged demo hall, unpaced (baud 0) so tests are quick."""
    async with running_hall(tmp_path / "hall", baud=0) as h:
        yield h


@pytest.fixture
def deck(hall: Hall) -> Deck:
    return build_deck(int(hall.ready["seed"]))
