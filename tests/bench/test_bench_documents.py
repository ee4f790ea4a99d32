"""A travel-document read through the daemon against the same APDUs sent directly with pyscard.

Both talk to the same simulated e-passport chip on the same vpcd reader of the
same pcscd, alternating in rounds so background load hits both alike. The
chip carries a face of about 20 KB in DG2, as issued passports do (ICAO
portraits are 15-25 KB), so the read is the real sequence: about 100 READ
BINARY under secure messaging. The direct read is what any PC/SC program must
do for the same bytes: connect, SELECT, BAC, then EF.COM, EF.SOD, DG1 and DG2
under secure messaging. The daemon adds gRPC, the call chain, the lane, the
MRZ check, the hash and signature checks and the face conversion.
Target: median ratio <= 1.2.

A second row reads the deck's tiny test face (306 bytes), where the daemon's
fixed cost per call (about 3 ms) is on its own; it has no target.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import platform
import statistics
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Final

import cv2
import grpc
import numpy as np
import pytest
from smartcard import scard
from support.hall import DOCUMENT_HALL, Hall, by_device
from support.pcscd import READERS, VPCD_PORTS, Pcscd
from support.perf import record

from hallgw_api.v1 import document_pb2
from hallgw_protocols import NEED_DATA
from hallgw_protocols.icao9303 import (
    BacKeys,
    FaceImage,
    ImageDataType,
    LdsFile,
    Mrz,
    MutualAuthentication,
    ResponseApdu,
    SecureMessaging,
    get_challenge,
    parse_challenge,
    read_binary,
    select_application,
    select_file,
)
from hallgw_protocols.icao9303.tlv import object_size
from hallgw_simulators.epassport_chip import EpassportChip
from hallgw_simulators.passport_deck import PassportDocument, build_passport_deck, make_document
from hallgw_simulators.vpcd_card import VpcdCard

pytestmark = pytest.mark.bench

DOC: Final = "td3-uto-1"
ROUNDS: Final = 6
PER_ROUND: Final = 8
CHUNK: Final = 0xDF
SLOT: Final = 1  # dr-d1: no MRZ reader at its station, the MRZ comes with the request


def portrait(width: int = 480, height: int = 640) -> bytes:
    """A JPEG portrait-sized picture with some texture, about 20 KB."""
    rng = np.random.default_rng(7)
    base = cv2.GaussianBlur(rng.integers(0, 255, (height, width), dtype=np.uint8), (0, 0), 6)
    yy, xx = np.mgrid[0:height, 0:width]
    face = (((xx - width / 2) / (width / 3)) ** 2 + ((yy - height / 2) / (height / 2.6)) ** 2 < 1) * 60
    image = np.clip(base.astype(np.int32) + face, 0, 255).astype(np.uint8)
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 92])
    assert ok
    return data.tobytes()


def direct_read(ctx: int, reader: str, mrz: Mrz) -> int:
    """One full read with pyscard's PC/SC calls and the codec; returns the bytes read."""
    rc, card, protocol = scard.SCardConnect(
        ctx, reader, scard.SCARD_SHARE_EXCLUSIVE, scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1
    )
    assert rc == scard.SCARD_S_SUCCESS, scard.SCardGetErrorMessage(rc)

    def send(apdu: bytes) -> bytes:
        rc, resp = scard.SCardTransmit(card, protocol, list(apdu))
        assert rc == scard.SCARD_S_SUCCESS
        return bytes(resp)

    try:
        assert ResponseApdu.from_bytes(send(select_application().to_bytes())).ok
        rnd_icc = parse_challenge(ResponseApdu.from_bytes(send(get_challenge().to_bytes())))
        auth = MutualAuthentication(
            keys=BacKeys.from_mrz(mrz), rnd_icc=rnd_icc, rnd_ifd=os.urandom(8), k_ifd=os.urandom(16)
        )
        sm = SecureMessaging(auth.complete(ResponseApdu.from_bytes(send(auth.command().to_bytes()))))
        total = 0
        for which in (LdsFile.COM, LdsFile.SOD, LdsFile.DG1, LdsFile.DG2):
            assert sm.unwrap(send(sm.wrap(select_file(which.fid)))).ok
            data = sm.unwrap(send(sm.wrap(read_binary(0, 4)))).data
            size = object_size(data)
            assert size is not NEED_DATA and isinstance(size, int)
            while len(data) < size:
                data += sm.unwrap(send(sm.wrap(read_binary(len(data), min(CHUNK, size - len(data)))))).data
            total += size
        return total
    finally:
        scard.SCardDisconnect(card, scard.SCARD_RESET_CARD)


async def measure(
    document: PassportDocument, ctx: int, via_daemon: Callable[[], Awaitable[None]]
) -> tuple[list[float], list[float]]:
    """Alternating rounds of direct and through-the-daemon reads of ``document`` on slot SLOT."""
    card = VpcdCard(EpassportChip(document), port=VPCD_PORTS[SLOT])
    await card.insert()
    direct: list[float] = []
    via: list[float] = []
    try:
        await via_daemon()  # warm-up, and pcscd has seen the card
        await asyncio.to_thread(direct_read, ctx, READERS[SLOT], document.mrz)
        for _ in range(ROUNDS):
            for _ in range(PER_ROUND):
                started = time.perf_counter()
                # The chip is served by this process's event loop: the blocking read runs on a thread.
                await asyncio.to_thread(direct_read, ctx, READERS[SLOT], document.mrz)
                direct.append(time.perf_counter() - started)
            for _ in range(PER_ROUND):
                started = time.perf_counter()
                await via_daemon()
                via.append(time.perf_counter() - started)
    finally:
        await card.remove()
        await asyncio.sleep(0.5)  # pcscd notices the card left before the next one comes
    return direct, via


async def test_bench_document_read(tmp_path: Path, pcscd: Pcscd) -> None:
    small = build_passport_deck()[DOC]
    picture = portrait()
    face = FaceImage(data_type=ImageDataType.JPEG, width=480, height=640, image=picture)
    large = make_document("bench-20k", small.mrz, (face,))
    request = document_pb2.ReadTravelDocumentRequest(
        device=by_device("dr-d1"), request_id="bench", mrz="\n".join(small.mrz.lines)
    )
    hall = Hall(tmp_path / "hall", scenario=DOCUMENT_HALL, baud=0)
    hall.root.mkdir()
    rc, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    assert rc == scard.SCARD_S_SUCCESS

    async def via_daemon() -> None:
        resp = await hall.documents.ReadTravelDocument(request, timeout=10)
        assert resp.document.passive_authentication.hashes_ok

    try:
        await hall.start()
        await hall.wait_all_online()
        large_direct, large_via = await measure(large, ctx, via_daemon)
        small_direct, small_via = await measure(small, ctx, via_daemon)
    finally:
        scard.SCardReleaseContext(ctx)
        await hall.stop()

    rows = []
    for label, direct, via, target in (
        (f"DG2 of {len(picture) // 1024} KB (as issued passports)", large_direct, large_via, "<= 1.20"),
        ("DG2 of 306 bytes (the deck's test face)", small_direct, small_via, "none"),
    ):
        d_med, v_med = statistics.median(direct), statistics.median(via)
        rows.append(
            f"| Full TD3 read, {label}, median of {len(via)} | {d_med * 1e3:.2f} ms (pyscard + codec, same chip) | "
            f"{v_med * 1e3:.2f} ms (ReadTravelDocument) | {v_med / d_med:.3f} | {target} |\n"
        )
    ratio = statistics.median(large_via) / statistics.median(large_direct)
    text = (
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"Python {platform.python_version()}, grpcio {grpc.__version__} (`make bench`).\n\n"
        "| measure | baseline | through hallgwd | ratio | target |\n|---|---|---|---|---|\n" + "".join(rows)
    )
    print("\n" + text)
    record("documents", text)
    assert ratio <= 1.2, f"document read median ratio {ratio:.3f} > 1.2"
