"""``hallsim``: run a virtual hall, and drive it from the shell.

``hallsim run [SCENARIO.toml]`` starts the simulators of a scenario (the
packaged demo hall without one), writes the daemon config that points at them
and a ready file, prints one ``hallsim: ready`` line, and runs until SIGINT or
SIGTERM; then it closes every pty, removes the symlinks and the ready file and
exits 0. A scenario with kiosks needs an MQTT broker (hallsim starts none):
``--broker mqtt://HOST:PORT`` or ``[hall] broker`` in the scenario.

``hallsim ctl ...`` sends one control request and prints the JSON answer;
exit status 0 when the hall answered ``ok``, 1 otherwise.

``hallsim probe`` runs one card transaction against a device, as a host, and
prints the SAM id and the card's layout and sizes (never its fields).

Exit statuses: 0 success, 1 a failed request or run, 2 a usage or scenario error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hallgw_protocols import ProtocolError
from hallgw_simulators.control import ControlClient
from hallgw_simulators.daemon_config import LOG_LEVELS, write_atomically
from hallgw_simulators.hall import VirtualHall
from hallgw_simulators.hostside import ProbeError, open_link, probe
from hallgw_simulators.kiosk_device import broker_address
from hallgw_simulators.kiosk_fleet import FleetError
from hallgw_simulators.links import BAUD_RATES
from hallgw_simulators.scenario import ScenarioError, load_demo_scenario, load_scenario

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def _address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host, int(port)


def _cups(text: str) -> str:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT of a CUPS server, got {text!r}")
    return text


def _broker(text: str) -> str:
    try:
        broker_address(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return text


def _baud(text: str) -> int:
    if not text.isdigit() or (int(text) and int(text) not in BAUD_RATES):
        raise argparse.ArgumentTypeError(f"expected 0 (unpaced) or one of {', '.join(map(str, BAUD_RATES))}")
    return int(text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hallsim", description="Simulated devices for a hallgw hall.")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run a virtual hall until SIGINT/SIGTERM")
    run.add_argument("scenario", nargs="?", type=Path, help="scenario TOML (default: the packaged demo hall)")
    run.add_argument("--state-dir", type=Path, required=True, help="where pty symlinks go")
    run.add_argument("--config-out", type=Path, required=True, help="where to write the daemon config")
    run.add_argument("--api-listen", default="127.0.0.1:50051", help="the daemon's gRPC address in the config")
    run.add_argument("--log-level", choices=LOG_LEVELS, default="info", help="the daemon's log level in the config")
    run.add_argument("--control", type=_address, help="control server HOST:PORT (default 127.0.0.1:<scenario>)")
    run.add_argument("--ready-file", type=Path, help="JSON file written once everything listens")
    run.add_argument("--seed", type=int, help="override the scenario's seed")
    run.add_argument(
        "--baud", type=_baud, help="line rate of every serial device, overriding the scenario (0 = unpaced)"
    )
    run.add_argument(
        "--cups", type=_cups, help="the CUPS server of the form printers' queues, HOST:PORT (overrides [hall] cups)"
    )
    run.add_argument(
        "--broker", type=_broker, help="the kiosks' MQTT broker, mqtt://HOST:PORT (overrides [hall] broker)"
    )

    ctl = commands.add_parser("ctl", help="send one request to a running hall")
    where = ctl.add_mutually_exclusive_group(required=True)
    where.add_argument("--control", type=_address, help="control server HOST:PORT")
    where.add_argument("--ready-file", type=Path, help="read the control address from a ready file")
    ops = ctl.add_subparsers(dest="op", required=True)
    ops.add_parser("list", help="devices, links, card state and faults")
    ops.add_parser("cards", help="the deck's card ids and layouts")
    insert = ops.add_parser("insert", help="put a card on a reader")
    insert.add_argument("device")
    insert.add_argument("card")
    remove = ops.add_parser("remove", help="take the card off a reader")
    remove.add_argument("device")
    ops.add_parser("documents", help="the passport deck's document ids and layouts")
    kiosks = ops.add_parser("kiosks", help="the kiosks with their state and counts, and fleet totals")
    kiosks.add_argument("--station", help="only the kiosks of this station")
    kiosks.add_argument("--kind", help="only kiosks of this kind (endorsement, collection, record_query)")
    kiosks.add_argument("--device", help="only this kiosk")
    place = ops.add_parser(
        "place", help="present a document at a station: its MRZ through the MRZ reader, its chip on the reader"
    )
    place.add_argument("station")
    place.add_argument("document")
    place.add_argument("options", nargs="*", help="tampered-dg1, tampered-dg2, bad-signature")
    finger = ops.add_parser(
        "finger", help="put a finger on a fingerprint scanner, e.g. `finger fp-01 alice/right-index light 0.8`"
    )
    finger.add_argument("device")
    finger.add_argument("finger_id")
    finger.add_argument("contact", nargs="?", default="good", help="good, light, moving, dry or wet")
    finger.add_argument("coverage", nargs="?", default="1.0", help="0.1 .. 1.0")
    fault = ops.add_parser("fault", help="apply a fault, e.g. `fault idr-01 corrupt 2`")
    fault.add_argument("device")
    fault.add_argument("fault")
    fault.add_argument("args", nargs="*")

    probe = commands.add_parser(
        "probe", help="run one card transaction against a device (not while the daemon uses it)"
    )
    target = probe.add_mutually_exclusive_group(required=True)
    target.add_argument("--ready-file", type=Path, help="find the device's link in a ready file")
    target.add_argument("--link", help="serial:///PATH or tcp://HOST:PORT")
    probe.add_argument("device", nargs="?", help="device id (with --ready-file)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hallsim`` console script."""
    args = _parser().parse_args(argv)
    if args.command == "run":
        return _run(args)
    if args.command == "probe":
        return _probe(args)
    return _ctl(args)


# -- run ------------------------------------------------------------------------------


def _run(args: argparse.Namespace) -> int:
    try:
        scenario = load_scenario(args.scenario) if args.scenario else load_demo_scenario()
    except ScenarioError as err:
        print(f"hallsim: {err}", file=sys.stderr)
        return EXIT_USAGE
    host, port = args.control if args.control else ("127.0.0.1", None)
    try:
        hall = VirtualHall(
            scenario,
            state_dir=args.state_dir,
            control_host=host,
            control_port=port,
            seed=args.seed,
            baud=args.baud,
            broker=args.broker,
            cups=args.cups,
        )
    except ScenarioError as err:
        print(f"hallsim: {err}", file=sys.stderr)
        return EXIT_USAGE
    if len(hall.kiosks):
        _raise_open_files_limit(len(hall.kiosks))
    ready_file: Path | None = args.ready_file.resolve() if args.ready_file else None
    try:
        return asyncio.run(_serve(hall, args, ready_file))
    except (OSError, FleetError) as err:
        print(f"hallsim: {err}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        # The ready file describes a running hall: it must not outlive it.
        if ready_file is not None:
            with contextlib.suppress(FileNotFoundError):
                ready_file.unlink()


def _raise_open_files_limit(kiosks: int) -> None:
    """One socket per kiosk: lift the soft limit on open files towards the hard one when it is too low."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = kiosks + 256
    if soft != resource.RLIM_INFINITY and soft < wanted:
        new = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))


async def _serve(hall: VirtualHall, args: argparse.Namespace, ready_file: Path | None) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    config_out: Path = args.config_out.resolve()
    async with hall:
        write_atomically(config_out, hall.daemon_config(api_listen=args.api_listen, log_level=args.log_level))
        info: dict[str, Any] = {**hall.ready_info(), "config": str(config_out), "pid": os.getpid()}
        if ready_file is not None:
            write_atomically(ready_file, json.dumps(info, indent=2) + "\n")
        host, port = hall.control_address
        # One line on stdout so a parent process can await readiness without polling.
        print(f"hallsim: ready control={host}:{port} seed={hall.seed} config={config_out}", flush=True)
        await stop.wait()
    return EXIT_OK


# -- ctl ------------------------------------------------------------------------------


def _ctl(args: argparse.Namespace) -> int:
    try:
        host, port = args.control if args.control else _address_from_ready_file(args.ready_file)
    except (OSError, ValueError, KeyError, TypeError) as err:
        print(f"hallsim: cannot read the control address from {args.ready_file}: {err}", file=sys.stderr)
        return EXIT_USAGE
    request: dict[str, Any] = {"op": args.op}
    if args.op == "finger":  # the place fault, spelt for people
        request = {"op": "fault", "fault": "place", "args": [args.finger_id, args.contact, args.coverage]}
    if args.op in ("insert", "remove", "fault", "finger"):
        request["device"] = args.device
    if args.op == "insert":
        request["card"] = args.card
    if args.op == "place":
        request.update(station=args.station, document=args.document, options=list(args.options))
    if args.op == "fault":
        request["fault"] = args.fault
        request["args"] = list(args.args)
    if args.op == "kiosks":
        request.update({k: v for k in ("station", "kind", "device") if (v := getattr(args, k)) is not None})
    try:
        answer = asyncio.run(_call(host, port, request))
    except (OSError, ValueError) as err:
        print(f"hallsim: control server {host}:{port}: {err}", file=sys.stderr)
        return EXIT_FAILED
    if not answer.get("ok"):
        print(f"hallsim: {answer.get('error', 'request failed')}", file=sys.stderr)
        return EXIT_FAILED
    print(json.dumps(answer, indent=2, ensure_ascii=False))
    return EXIT_OK


def _address_from_ready_file(path: Path) -> tuple[str, int]:
    control = json.loads(path.read_text(encoding="utf-8"))["control"]
    return str(control["host"]), int(control["port"])


async def _call(host: str, port: int, request: dict[str, Any]) -> dict[str, Any]:
    async with asyncio.timeout(10):
        async with await ControlClient.connect(host, port) as client:
            return await client.call(request)


# -- probe ----------------------------------------------------------------------------


def _probe(args: argparse.Namespace) -> int:
    link: str | None = args.link
    if link is None:
        if not args.device:
            print("hallsim: probe --ready-file needs a device id", file=sys.stderr)
            return EXIT_USAGE
        try:
            devices = json.loads(args.ready_file.read_text(encoding="utf-8"))["devices"]
            link = next((str(d["link"]) for d in devices if d["id"] == args.device), None)
        except (OSError, ValueError, KeyError, TypeError) as err:
            print(f"hallsim: cannot read {args.ready_file}: {err}", file=sys.stderr)
            return EXIT_USAGE
        if link is None:
            print(f"hallsim: no device {args.device!r} in {args.ready_file}", file=sys.stderr)
            return EXIT_USAGE
    try:
        summary = asyncio.run(_probe_link(link))
    except (OSError, EOFError, TimeoutError, ValueError, ProbeError, ProtocolError) as err:
        print(f"hallsim: probe {link}: {type(err).__name__}: {err}", file=sys.stderr)
        return EXIT_FAILED
    print(json.dumps({"link": link, **summary}, indent=2))
    return EXIT_OK


async def _probe_link(link: str) -> dict[str, Any]:
    host = await open_link(link)
    try:
        return await probe(host)
    finally:
        host.close()
