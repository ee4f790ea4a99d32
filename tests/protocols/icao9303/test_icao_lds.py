"""BER-TLV, EF.COM, DG1 and DG2 (reference/protocols.md 3.6 and 3.7)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hallgw_protocols import NEED_DATA, LocalProtocolError, RemoteProtocolError
from hallgw_protocols.icao9303 import (
    EfCom,
    FaceImage,
    ImageDataType,
    ImageFormat,
    LdsFile,
    MrzCheckError,
    encode_dg1,
    encode_dg2,
    encode_ef_com,
    parse_dg1,
    parse_dg2,
    parse_ef_com,
    parse_mrz,
    sniff_image,
)
from hallgw_protocols.icao9303.dg2 import encode_facial_record, parse_facial_record
from hallgw_protocols.icao9303.tlv import (
    Tlv,
    encode_length,
    encode_tlv,
    is_constructed,
    parse_single,
    parse_tlvs,
    read_tlv,
    tlv_size,
)

FAST = settings(max_examples=100, deadline=None)
EF_COM = bytes.fromhex("60145F0104303130365F36063034303030305C026175")
TD3 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"
JPEG = b"\xff\xd8\xff\xe0" + bytes(40) + b"\xff\xd9"
JP2 = b"\x00\x00\x00\x0cjP  \r\n\x87\n" + bytes(30)
J2K = b"\xff\x4f\xff\x51" + bytes(30)


# --- BER-TLV ---------------------------------------------------------------


def test_multi_byte_tags_and_long_lengths() -> None:
    assert read_tlv(bytes.fromhex("5F1F03414243")) == (Tlv(tag=0x5F1F, value=b"ABC"), 6)
    assert read_tlv(bytes.fromhex("7F618101") + b"x")[0] == Tlv(tag=0x7F61, value=b"x")
    assert read_tlv(bytes.fromhex("1F8101") + bytes(1))[0].tag == 0x1F8101
    long = encode_tlv(0x75, bytes(300))
    assert long[:4] == bytes.fromhex("7582012C")
    assert read_tlv(long) == (Tlv(tag=0x75, value=bytes(300)), 304)
    assert encode_length(0x7F) == b"\x7f"
    assert encode_length(0x80) == b"\x81\x80"
    assert encode_length(0x10000) == b"\x83\x01\x00\x00"
    assert is_constructed(0x7F61)
    assert not is_constructed(0x5F1F)


@pytest.mark.parametrize(
    "bad",
    [
        b"",
        b"\x61",
        b"\x61\x05abc",
        b"\x5f",
        b"\x5f\x9f\x9f\x01\x00",
        b"\x61\x80\x00\x00",
        b"\x61\x85\x00\x00\x00\x00\x01",
        b"\x61\x82\x01",
        b"\x61\x82\xff\xff",
    ],
)
def test_malformed_tlv_is_the_chips_fault(bad: bytes) -> None:
    with pytest.raises(RemoteProtocolError):
        read_tlv(bad)


def test_tlv_size_needs_only_the_header() -> None:
    assert tlv_size(EF_COM[:4]) == len(EF_COM)
    assert tlv_size(b"\x75\x82\x01") is NEED_DATA
    assert tlv_size(b"\x7f") is NEED_DATA
    assert tlv_size(b"\x75\x82\x01\x2c") == 304


def test_parse_single_rejects_trailing_bytes_and_wrong_tags() -> None:
    with pytest.raises(RemoteProtocolError, match="follow"):
        parse_single(EF_COM + b"\x00", 0x60)
    with pytest.raises(RemoteProtocolError, match="expected tag 61"):
        parse_single(EF_COM, 0x61)
    with pytest.raises(LocalProtocolError):
        Tlv(tag=0x5F1F, value=b"").children()


tags = st.sampled_from([0x01, 0x30, 0x5F1F, 0x7F61, 0x1F8101, 0x9F9F01])


@FAST
@given(st.lists(st.tuples(tags, st.binary(max_size=300)), max_size=5))
def test_tlv_round_trips(objects: list[tuple[int, bytes]]) -> None:
    raw = b"".join(encode_tlv(tag, value) for tag, value in objects)
    assert parse_tlvs(raw) == tuple(Tlv(tag=t, value=v) for t, v in objects)
    if objects:
        assert tlv_size(raw) == len(encode_tlv(*objects[0]))


@FAST
@given(st.binary(max_size=64))
def test_arbitrary_bytes_give_objects_or_remote_errors(raw: bytes) -> None:
    try:
        items = parse_tlvs(raw)
    except RemoteProtocolError:
        return
    # Each object has at least a tag byte and a length byte around its value.
    assert sum(len(item.value) + 2 for item in items) <= len(raw)


# --- EF.COM and DG1 --------------------------------------------------------


def test_reference_ef_com() -> None:
    com = parse_ef_com(EF_COM)
    assert com == EfCom(lds_version="1.6", unicode_version="4.0.0", data_groups=(LdsFile.DG1, LdsFile.DG2))
    assert encode_ef_com(com) == EF_COM


def test_ef_com_errors() -> None:
    with pytest.raises(RemoteProtocolError):
        parse_ef_com(EF_COM.replace(b"0106", b"01x6"))
    with pytest.raises(RemoteProtocolError, match="not the tag"):
        parse_ef_com(EF_COM[:-2] + b"\x61\x99")
    with pytest.raises(RemoteProtocolError, match="missing"):
        parse_ef_com(encode_tlv(0x60, encode_tlv(0x5F01, b"0106")))
    with pytest.raises(LocalProtocolError):
        EfCom(lds_version="1.6", unicode_version="4.0.0", data_groups=(LdsFile.SOD,))


def test_file_table() -> None:
    assert (LdsFile.COM.fid, LdsFile.COM.sfi, LdsFile.COM.tag) == (0x011E, 0x1E, 0x60)
    assert (LdsFile.SOD.fid, LdsFile.SOD.sfi, LdsFile.SOD.tag) == (0x011D, 0x1D, 0x77)
    assert LdsFile.data_group(2) is LdsFile.DG2
    assert LdsFile.data_group(16).tag == 0x70
    assert LdsFile.DG4.tag == 0x76
    assert [LdsFile.data_group(n).dg_number for n in range(1, 17)] == list(range(1, 17))
    assert LdsFile.COM.dg_number is None


def test_dg1_round_trip_and_check() -> None:
    mrz = parse_mrz(TD3)
    raw = encode_dg1(mrz)
    assert raw[:5] == bytes.fromhex("615B5F1F58")
    assert parse_dg1(raw) == mrz
    tampered = raw.replace(b"7408122", b"7408132")
    with pytest.raises(MrzCheckError):
        parse_dg1(tampered)
    with pytest.raises(RemoteProtocolError):
        parse_dg1(raw.replace(b"P<UTO", b"P\nUTO"))


# --- DG2 -------------------------------------------------------------------


def test_sniffing() -> None:
    assert sniff_image(JPEG) is ImageFormat.JPEG
    assert sniff_image(JP2) is ImageFormat.JP2
    assert sniff_image(J2K) is ImageFormat.J2K
    assert sniff_image(b"GIF89a") is None


def test_dg2_round_trip_and_structure() -> None:
    face = FaceImage(data_type=ImageDataType.JPEG2000, width=480, height=640, image=JP2, quality=7)
    raw = encode_dg2((face,))
    images = parse_dg2(raw)
    assert images == (face,)
    assert images[0].is_jpeg2000
    # The biometric header template of the reference is there, and the record header is FAC 010.
    assert bytes.fromhex("A1128002010181010282010087020101880200085F2E") in raw
    record = raw[raw.index(b"FAC\x00") :]
    assert record[4:8] == b"010\x00"
    assert int.from_bytes(record[8:12], "big") == len(record)
    assert int.from_bytes(record[14:18], "big") == 20 + 12 + len(JP2)
    assert "jP" not in repr(images[0])


def test_mislabelled_image_goes_by_its_signature() -> None:
    face = FaceImage(data_type=ImageDataType.JPEG, width=1, height=1, image=JP2)
    assert face.is_jpeg2000
    unknown = FaceImage(data_type=ImageDataType.JPEG2000, width=1, height=1, image=b"????")
    assert unknown.is_jpeg2000
    assert not FaceImage(data_type=ImageDataType.JPEG2000, width=1, height=1, image=JPEG).is_jpeg2000


def test_feature_points_and_several_images() -> None:
    points = (bytes.fromhex("0101000A000B0000"), bytes.fromhex("0102000C000D0000"))
    faces = (
        FaceImage(data_type=ImageDataType.JPEG, width=10, height=20, image=JPEG, feature_points=points, gender=2),
        FaceImage(data_type=ImageDataType.JPEG2000, width=30, height=40, image=J2K, expression=1),
    )
    assert parse_facial_record(encode_facial_record(faces)) == faces
    assert parse_dg2(encode_dg2(faces)) == faces


def _corrupt(raw: bytes, offset: int, value: bytes) -> bytes:
    return raw[:offset] + value + raw[offset + len(value) :]


def test_dg2_errors() -> None:
    face = FaceImage(data_type=ImageDataType.JPEG, width=1, height=1, image=JPEG)
    record = encode_facial_record((face,))
    with pytest.raises(RemoteProtocolError, match="FAC"):
        parse_facial_record(b"XYZ\x00" + record[4:])
    with pytest.raises(RemoteProtocolError, match="record length"):
        parse_facial_record(record + b"\x00")
    with pytest.raises(RemoteProtocolError, match="inconsistent"):
        parse_facial_record(_corrupt(record, 14, (10**6).to_bytes(4, "big")))
    with pytest.raises(RemoteProtocolError, match="data type"):
        parse_facial_record(_corrupt(record, 14 + 20 + 1, b"\x07"))
    with pytest.raises(RemoteProtocolError, match="no facial image"):
        parse_facial_record(_corrupt(record, 12, b"\x00\x00"))
    raw = encode_dg2((face,))
    with pytest.raises(RemoteProtocolError, match="instance count"):
        parse_dg2(raw.replace(b"\x02\x01\x01\x7f\x60", b"\x02\x01\x02\x7f\x60"))


@FAST
@given(st.data())
def test_corrupted_dg2_never_raises_anything_but_remote_errors(data: st.DataObject) -> None:
    face = FaceImage(data_type=ImageDataType.JPEG, width=640, height=480, image=JPEG)
    raw = bytearray(encode_dg2((face,)))
    for _ in range(data.draw(st.integers(1, 3))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    with contextlib.suppress(RemoteProtocolError):
        parse_dg2(bytes(raw[:cut]))
