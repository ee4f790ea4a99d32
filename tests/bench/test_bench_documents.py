"""A travel-document read through the daemon against the same APDUs sent directly with pyscard.

Both talk to the same simulated e-passport chip on the same vpcd reader of the
same pcscd, alternating in rounds so background load hits both alike. The
direct read is what any PC/SC program must do for the same result: connect,
SELECT, BAC, then EF.COM, EF.SOD, DG1 and DG2 under secure messaging. The
daemon adds gRPC, the call chain, the lane, the MRZ check, hash and signature
checks and the face conversion. Target: median ratio <= 1.2.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Final

import grpc
import pytest
from smartcard import scard
from support.hall import DOCUMENT_HALL, Hall, by_device
from support.pcscd import READERS, Pcscd
from support.perf import record

from hallgw_api.v1 import document_pb2
from hallgw_protocols import NEED_DATA
from hallgw_protocols.icao9303 import (
    BacKeys,
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
from hallgw_simulators.passport_deck import build_passport_deck

pytestmark = pytest.mark.bench

DOC: Final = "td3-uto-1"
ROUNDS: Final = 8
PER_ROUND: Final = 10
CHUNK: Final = 0xDF


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


async def test_bench_document_read(tmp_path: Path, pcscd: Pcscd) -> None:
    deck = build_passport_deck()
    mrz = deck[DOC].mrz
    hall = Hall(tmp_path / "hall", scenario=DOCUMENT_HALL, baud=0)
    hall.root.mkdir()
    rc, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    assert rc == scard.SCARD_S_SUCCESS
    request = document_pb2.ReadTravelDocumentRequest(
        device=by_device("dr-d1"), request_id="bench", mrz="\n".join(mrz.lines)
    )
    direct: list[float] = []
    via: list[float] = []
    try:
        await hall.start()
        await hall.wait_all_online()
        await hall.ctl.fault("dr-d1", "insert", DOC)
        first = await hall.documents.ReadTravelDocument(request, timeout=10)  # warm-up, and a check
        assert first.document.passive_authentication.hashes_ok
        direct_read(ctx, READERS[1], mrz)
        for _ in range(ROUNDS):
            for _ in range(PER_ROUND):
                started = time.perf_counter()
                direct_read(ctx, READERS[1], mrz)
                direct.append(time.perf_counter() - started)
            for _ in range(PER_ROUND):
                started = time.perf_counter()
                await hall.documents.ReadTravelDocument(request, timeout=10)
                via.append(time.perf_counter() - started)
    finally:
        scard.SCardReleaseContext(ctx)
        await hall.stop()

    d_med, v_med = statistics.median(direct), statistics.median(via)
    ratio = v_med / d_med
    text = (
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"Python {platform.python_version()}, grpcio {grpc.__version__} (`make bench`).\n\n"
        "| measure | baseline | through hallgwd | ratio | target |\n|---|---|---|---|---|\n"
        f"| Full TD3 read (BAC, EF.COM, EF.SOD, DG1, DG2), median of {len(via)} | "
        f"{d_med * 1e3:.2f} ms (pyscard + codec, same chip) | {v_med * 1e3:.2f} ms (ReadTravelDocument) | "
        f"{ratio:.3f} | <= 1.20 |\n"
    )
    print("\n" + text)
    record("documents", text)
    assert ratio <= 1.2, f"document read median ratio {ratio:.3f} > 1.2"
