"""hallctl as a process: the console entry point, Ctrl-C, a closed pipe."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest

from hallgw_api.v1 import device_pb2

from .hallctl_fake import WAIT_LIMIT_S, FakeGateway, FakeHall

ENTRY = [sys.executable, "-c", "from hallgw_daemon.cli.main import main; main()"]


def start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*ENTRY, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    try:
        out, err = process.communicate(timeout=WAIT_LIMIT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    return process.returncode, out, err


@pytest.mark.parametrize("command", [["watch", "--current", "--json"], ["trace", "idr-07", "--json"]])
def test_ctrl_c_ends_a_stream_with_exit_0(
    gateway: FakeGateway, hall: FakeHall, hallctl_env: dict[str, str], command: list[str]
) -> None:
    process = start(hallctl_env, "--target", gateway.target, *command)
    first = process.stdout.readline() if process.stdout else ""
    assert json.loads(first)  # the stream is running
    process.send_signal(signal.SIGINT)
    code, _, err = finish(process)
    assert code == 0, err
    assert "Traceback" not in err
    # The watch was cancelled on the gateway too, not left dangling.
    assert hall.wait_for_subscribers(lambda subs: not subs)


def test_ctrl_c_cancels_a_read_and_exits_130(gateway: FakeGateway, hall: FakeHall, hallctl_env: dict[str, str]) -> None:
    hall.stall_reads.add("idr-07")
    process = start(hallctl_env, "--target", gateway.target, "read-id", "idr-07", "--wait", "30")
    assert hall.read_started.wait(WAIT_LIMIT_S)
    process.send_signal(signal.SIGINT)
    code, _, err = finish(process)
    assert code == 130, err
    assert "interrupted" in err
    # The gateway learns at once that nobody waits for the card any more.
    assert hall.read_cancelled.wait(WAIT_LIMIT_S)


def test_unreachable_gateway_from_the_entry_point(closed_target: str, hallctl_env: dict[str, str]) -> None:
    code, out, err = finish(start(hallctl_env, "--target", closed_target, "devices"))
    assert code == 3
    assert out == ""
    assert err.startswith(f"hallctl: GATEWAY_UNREACHABLE: cannot reach the gateway at {closed_target}")
    assert err.count("\n") == 1  # one clear line, no traceback


@pytest.mark.parametrize("output", [["--json"], []], ids=["json", "human"])
def test_a_closed_pipe_ends_watch_quietly(
    gateway: FakeGateway, hall: FakeHall, hallctl_env: dict[str, str], output: list[str]
) -> None:
    # `hallctl watch | head -1`: the reader goes away after the first line.
    process = start(hallctl_env, "--target", gateway.target, "watch", "--current", *output)
    assert process.stdout is not None
    assert process.stdout.readline()
    process.stdout.close()
    reader = hall.devices["idr-07"]
    for _ in range(50):  # enough to fill any buffer between us and the closed pipe
        hall.publish(reader, link_fault=device_pb2.LinkFault(message="x" * 2000))
    assert process.stderr is not None
    try:
        code = process.wait(timeout=WAIT_LIMIT_S)
    finally:
        process.kill()
    err = process.stderr.read()
    assert code == 0, err
    assert "Traceback" not in err
