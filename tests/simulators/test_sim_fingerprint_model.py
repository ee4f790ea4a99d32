"""The AS608 module model without I/O: answers, buffers, library and synthetic images."""

from __future__ import annotations

import statistics

import pytest

from hallgw_protocols.fingerprint.as608 import (
    IMAGE_HEIGHT,
    IMAGE_WIDTH,
    UART_IMAGE_SIZE,
    Acknowledgement,
    Command,
    Confirmation,
    DataPacket,
    DownloadChar,
    GetImage,
    HandShake,
    ImageAssembler,
    ImageToChar,
    Instruction,
    ReadSystemParameters,
    RegisterModel,
    Search,
    SetSystemParameter,
    Store,
    SystemParameter,
    SystemParametersReport,
    TemplateCount,
    UploadChar,
    UploadImage,
    VerifyPassword,
    quantise,
)
from hallgw_simulators.fingerprint_module import (
    CHAR_SIZE,
    As608Model,
    Contact,
    Finger,
    Reply,
    features_of,
    render_finger,
)

SEED = 1234


def _code(reply: Reply) -> int:
    first = reply[0]
    assert not isinstance(first, DataPacket)
    return first.confirmation


def _ack(reply: Reply) -> Acknowledgement:
    assert len(reply) == 1 and isinstance(reply[0], Acknowledgement)
    return reply[0]


def test_system_parameters_follow_the_settings() -> None:
    model = As608Model(seed=SEED, packet_size=64, baud_multiplier=12, library_size=162)
    [report] = model.handle(ReadSystemParameters())
    assert isinstance(report, SystemParametersReport)
    params = report.parameters
    assert (params.packet_size, params.baud, params.library_size, params.security_level) == (64, 115200, 162, 3)
    assert not params.image_valid
    assert _code(model.handle(SetSystemParameter(parameter=SystemParameter.PACKET_SIZE_CODE, value=3))) == 0
    assert _code(model.handle(SetSystemParameter(parameter=SystemParameter.SECURITY_LEVEL, value=9))) == 0x1B
    assert _code(model.handle(Command(instruction=Instruction.SET_SYS_PARA, parameters=b"\x07\x01"))) == 0x1A
    assert model.parameters.packet_size == 256
    with pytest.raises(ValueError, match="packet size"):
        As608Model(seed=SEED, packet_size=100)


def test_password_gate() -> None:
    model = As608Model(seed=SEED, password=0x12345678)
    assert _code(model.handle(GetImage())) == Confirmation.PASSWORD_REQUIRED
    assert _code(model.handle(HandShake())) == Confirmation.OK
    assert _code(model.handle(VerifyPassword(password=1))) == Confirmation.WRONG_PASSWORD
    assert _code(model.handle(TemplateCount())) == Confirmation.PASSWORD_REQUIRED
    assert _code(model.handle(VerifyPassword(password=0x12345678))) == Confirmation.OK
    assert model.parameters.password_verified
    assert _code(model.handle(GetImage())) == Confirmation.NO_FINGER


def test_capture_and_upload_reassemble_to_the_quantised_image() -> None:
    model = As608Model(seed=SEED)
    assert _code(model.handle(UploadImage())) == Confirmation.UPLOAD_IMAGE_FAILED
    assert _code(model.handle(ImageToChar(buffer_id=1))) == Confirmation.NO_VALID_IMAGE
    model.place("alice/right-index")
    assert _code(model.handle(GetImage())) == Confirmation.OK
    assert model.parameters.image_valid
    reply = model.handle(UploadImage())
    assert _code(reply) == Confirmation.OK
    packets = reply[1:]
    assert len(packets) == UART_IMAGE_SIZE // 128 == 288
    assembler = ImageAssembler()
    for packet in packets:
        assert isinstance(packet, DataPacket)
        assembler.add(packet)
    assert assembler.done
    assert model.image is not None
    assert assembler.image().pixels == quantise(model.image.pixels)


def test_poor_captures_still_give_images_that_make_no_features() -> None:
    model = As608Model(seed=SEED)
    cases = [
        (Contact.LIGHT, 1.0, Confirmation.TOO_FEW_FEATURES),
        (Contact.MOVING, 1.0, Confirmation.IMAGE_TOO_MESSY),
        (Contact.DRY, 1.0, Confirmation.TOO_FEW_FEATURES),
        (Contact.WET, 1.0, Confirmation.IMAGE_TOO_MESSY),
        (Contact.GOOD, 0.3, Confirmation.TOO_FEW_FEATURES),
        (Contact.GOOD, 0.8, Confirmation.OK),
    ]
    for contact, coverage, expected in cases:
        model.char_buffers.clear()
        model.place("bob/left-thumb", contact, coverage)
        assert _code(model.handle(GetImage())) == Confirmation.OK
        assert _code(model.handle(ImageToChar(buffer_id=1))) == expected, (contact, coverage)
        assert (1 in model.char_buffers) == (expected == Confirmation.OK)


def test_enroll_store_search_and_count() -> None:
    model = As608Model(seed=SEED, library_size=10)
    model.place("carol/right-middle")
    for buffer_id in (1, 2):
        assert _code(model.handle(GetImage())) == 0
        assert _code(model.handle(ImageToChar(buffer_id=buffer_id))) == 0
    assert _code(model.handle(RegisterModel())) == 0
    assert _code(model.handle(Store(buffer_id=1, page_id=10))) == Confirmation.BAD_PAGE_ID
    assert _code(model.handle(Store(buffer_id=1, page_id=7))) == 0
    assert _ack(model.handle(TemplateCount())).data == b"\x00\x01"
    assert _ack(model.handle(Search(buffer_id=1, start_page=0, count=10))).data == bytes.fromhex("0007 0064")
    index = _ack(model.handle(Command(instruction=Instruction.READ_INDEX_TABLE, parameters=b"\x00")))
    assert index.data[0] == 0x80
    # Another finger is not found; two different fingers do not combine.
    model.place("dave/right-middle")
    model.handle(GetImage())
    model.handle(ImageToChar(buffer_id=2))
    assert _code(model.handle(Search(buffer_id=2, start_page=0, count=10))) == Confirmation.NOT_FOUND
    assert _code(model.handle(RegisterModel())) == Confirmation.COMBINE_FAILED
    assert _code(model.handle(Command(instruction=Instruction.MATCH))) == Confirmation.NO_MATCH
    assert _code(model.handle(Command(instruction=Instruction.EMPTY))) == 0
    assert _ack(model.handle(TemplateCount())).data == b"\x00\x00"


def test_char_upload_and_download() -> None:
    model = As608Model(seed=SEED, packet_size=256)
    assert _code(model.handle(UploadChar(buffer_id=1))) == Confirmation.UPLOAD_TEMPLATE_FAILED
    assert _code(model.handle(DownloadChar(buffer_id=2))) == 0
    blob = features_of(SEED, "erin/left-index")
    model.receive(DataPacket(data=blob[:256]))
    model.receive(DataPacket(data=blob[256:], last=True))
    reply = model.handle(UploadChar(buffer_id=2))
    assert [len(p.data) for p in reply[1:] if isinstance(p, DataPacket)] == [256, 256]
    assert b"".join(p.data for p in reply[1:] if isinstance(p, DataPacket)) == blob == model.char_buffers[2]
    assert len(blob) == CHAR_SIZE


def test_unknown_and_malformed_commands() -> None:
    model = As608Model(seed=SEED)
    assert _code(model.handle(Command(instruction=0x77))) == Confirmation.UNSUPPORTED
    assert _code(model.handle(Command(instruction=Instruction.GEN_IMG, parameters=b"\x01"))) == 0x01
    assert _code(model.handle(ImageToChar(buffer_id=5))) == 0x01  # the AS608 has two char buffers
    assert model.bad_packet() == [Acknowledgement(confirmation=0x01)]


def test_faults_lift_early_and_sensor_failure() -> None:
    model = As608Model(seed=SEED)
    model.place("frank/right-ring")
    model.faults.lift_early = True
    assert _code(model.handle(GetImage())) == Confirmation.NO_FINGER
    assert model.finger is None and not model.faults.lift_early
    model.place("frank/right-ring")
    assert _code(model.handle(GetImage())) == Confirmation.OK
    model.faults.sensor_failure = True
    assert _code(model.handle(GetImage())) == Confirmation.ENROLL_FAILED


def _ridge_contrast(finger: Finger) -> float:
    """Spread of grey levels in the middle of the finger: ridges against valleys."""
    image = render_finger(SEED, finger)
    centre = [
        image.pixels[y * IMAGE_WIDTH + x]
        for y in range(IMAGE_HEIGHT // 2 - 30, IMAGE_HEIGHT // 2 + 30)
        for x in range(IMAGE_WIDTH // 2 - 30, IMAGE_WIDTH // 2 + 30)
    ]
    return statistics.pstdev(centre)


def test_images_are_deterministic_and_differ_by_finger_and_seed() -> None:
    a = render_finger(SEED, Finger(finger_id="a"))
    assert (a.width, a.height) == (256, 288)
    render_finger.cache_clear()
    assert render_finger(SEED, Finger(finger_id="a")).pixels == a.pixels
    assert render_finger(SEED, Finger(finger_id="b")).pixels != a.pixels
    assert render_finger(SEED + 1, Finger(finger_id="a")).pixels != a.pixels
    corner = a.pixels[: IMAGE_WIDTH * 10]
    assert min(corner) > 200  # light background outside the finger


def test_quality_knobs_lower_the_ridge_contrast() -> None:
    good = _ridge_contrast(Finger(finger_id="g"))
    assert good > 50
    assert _ridge_contrast(Finger(finger_id="g", contact=Contact.LIGHT)) < good / 2
    assert _ridge_contrast(Finger(finger_id="g", contact=Contact.MOVING)) < good * 0.8
    # Dry skin prints little ridge (a light mean), wet skin floods the valleys (a dark mean).
    full_mean = statistics.fmean(render_finger(SEED, Finger(finger_id="g")).pixels)
    assert statistics.fmean(render_finger(SEED, Finger(finger_id="g", contact=Contact.DRY)).pixels) > full_mean + 20
    assert statistics.fmean(render_finger(SEED, Finger(finger_id="g", contact=Contact.WET)).pixels) < full_mean - 30
    partial = render_finger(SEED, Finger(finger_id="g", coverage=0.3))
    dark = sum(1 for p in partial.pixels if p < 128)
    full = sum(1 for p in render_finger(SEED, Finger(finger_id="g")).pixels if p < 128)
    assert dark < full / 2


def test_finger_validation() -> None:
    with pytest.raises(ValueError, match="coverage"):
        Finger(finger_id="x", coverage=0.0)
    model = As608Model(seed=SEED)
    with pytest.raises(ValueError, match="no finger"):
        model.press(Contact.LIGHT)
