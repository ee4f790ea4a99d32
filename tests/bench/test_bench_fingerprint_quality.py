"""Scoring a fingerprint capture against decoding it, measured in the same run.

The baseline is the codec's unpack of a 4-bit UART upload (36,864 bytes) to the
8-bit image, plus the numpy view the scorer reads; the measure is
:func:`hallgw_daemon.drivers.fingerprint_quality.score` on that image. Both run
alternately, one of each per round, so load on the shared cores hits them alike.
Target: a median score time of at most 5 ms (the upload itself takes about 7 s
at 57600 baud); the ratio is reported. The simulator's render of a capture
(what GetImage costs the simulated module) is reported as well.
"""

import datetime as dt
import platform
import statistics
import time

import cv2
import numpy as np
import pytest
from support.perf import record

from hallgw_daemon.drivers.fingerprint_quality import score
from hallgw_protocols.fingerprint.as608 import IMAGE_HEIGHT, IMAGE_WIDTH, pack_4bit, unpack_4bit
from hallgw_simulators.fingerprint_module import Contact, Finger, render_finger

pytestmark = pytest.mark.bench

ROUNDS = 300
RENDERS = 20
SCORE_TARGET = 5e-3


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def test_bench_score_against_decode() -> None:
    uploads = [
        pack_4bit(render_finger(seed, Finger(finger_id=f"bench/{seed}", contact=contact)))
        for seed, contact in ((1, Contact.GOOD), (2, Contact.MOVING), (3, Contact.DRY), (4, Contact.WET))
    ]
    images = [
        np.frombuffer(unpack_4bit(data).pixels, dtype=np.uint8).reshape(IMAGE_HEIGHT, IMAGE_WIDTH) for data in uploads
    ]
    for image in images:  # warm-up: first calls load cv2's kernels and numpy's paths
        score(image)

    decode_times, score_times = [], []
    for i in range(ROUNDS):
        data, image = uploads[i % len(uploads)], images[i % len(images)]
        started = time.perf_counter()
        pixels = unpack_4bit(data).pixels
        np.frombuffer(pixels, dtype=np.uint8).reshape(IMAGE_HEIGHT, IMAGE_WIDTH)
        decode_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        score(image)
        score_times.append(time.perf_counter() - started)

    render_times: dict[Contact, float] = {}
    for contact in (Contact.GOOD, Contact.MOVING):
        times = []
        for n in range(RENDERS):
            started = time.perf_counter()
            render_finger(100 + n, Finger(finger_id="bench/render", contact=contact))
            times.append(time.perf_counter() - started)
        render_times[contact] = statistics.median(times)

    decode, scored = statistics.median(decode_times), statistics.median(score_times)
    ratio = scored / decode
    text = (
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"Python {platform.python_version()}, numpy {np.__version__}, OpenCV {cv2.__version__} (`make bench`).\n\n"
        "| measure | baseline | measured | ratio | target |\n|---|---|---|---|---|\n"
        f"| score a 256x288 capture, median of {ROUNDS} alternating rounds | "
        f"{decode * 1e6:.0f} µs (unpack the 4-bit upload to 8-bit) | {scored * 1e3:.2f} ms (score) | "
        f"{ratio:.1f} | score <= {SCORE_TARGET * 1e3:.0f} ms |\n"
        f"| same, p99 | {pct(decode_times, 0.99) * 1e6:.0f} µs | {pct(score_times, 0.99) * 1e3:.2f} ms | "
        f"{pct(score_times, 0.99) / pct(decode_times, 0.99):.1f} | |\n"
        f"| simulator render per GetImage, median of {RENDERS} | | {render_times[Contact.GOOD] * 1e3:.1f} ms "
        f"(good contact), {render_times[Contact.MOVING] * 1e3:.1f} ms (moving) | | reported |\n"
    )
    print("\n" + text)
    record("fingerprint-quality", text)
    assert scored <= SCORE_TARGET, f"scoring takes {scored * 1e3:.2f} ms, more than {SCORE_TARGET * 1e3:.0f} ms"
