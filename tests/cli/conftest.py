"""Fixtures of the hallctl tests: a fake hall behind a real gRPC server, and a CLI runner."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from .hallctl_fake import FakeGateway, FakeHall, make_hall


@pytest.fixture
def hall() -> FakeHall:
    return make_hall()


@pytest.fixture
def gateway(hall: FakeHall) -> Iterator[FakeGateway]:
    server = FakeGateway(hall)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def runner() -> CliRunner:
    # A wide, colourless, target-less environment, whatever the developer's shell has.
    return CliRunner(env={"COLUMNS": "200", "FORCE_COLOR": None, "TTY_COMPATIBLE": None, "HALLGW_TARGET": None})


@pytest.fixture
def closed_target() -> str:
    """An address where nothing listens: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"127.0.0.1:{port}"


@pytest.fixture
def hallctl_env() -> dict[str, str]:
    """The environment of hallctl subprocesses."""
    env = {key: value for key, value in os.environ.items() if key not in {"HALLGW_TARGET", "FORCE_COLOR"}}
    env["COLUMNS"] = "200"
    return env
