"""AS608 image upload: nibble layout, packet split and reassembly (reference/protocols.md section 2.6)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hallgw_protocols import NEED_DATA, LocalProtocolError, RemoteProtocolError, Role
from hallgw_protocols.fingerprint.as608 import (
    IMAGE_HEIGHT,
    IMAGE_WIDTH,
    UART_IMAGE_SIZE,
    Acknowledgement,
    As608Connection,
    DataPacket,
    ExchangeState,
    GrayImage,
    ImageAssembler,
    UploadImage,
    image_packets,
    pack_4bit,
    quantise,
    split_packets,
    unpack_4bit,
)


def random_image(seed: int, width: int = IMAGE_WIDTH, height: int = IMAGE_HEIGHT) -> GrayImage:
    return GrayImage(width=width, height=height, pixels=random.Random(seed).randbytes(width * height))


def test_left_pixel_travels_in_the_high_nibble() -> None:
    image = GrayImage(width=4, height=2, pixels=bytes([0xA7, 0x3C, 0x00, 0xFF, 0x10, 0x2F, 0xE0, 0x01]))
    packed = pack_4bit(image)
    assert packed == bytes([0xA3, 0x0F, 0x12, 0xE0])
    assert unpack_4bit(packed, width=4, height=2).pixels == bytes([0xAA, 0x33, 0x00, 0xFF, 0x11, 0x22, 0xEE, 0x00])


def test_rows_go_from_the_top_and_keep_their_order() -> None:
    pixels = bytes(row * 16 for row in range(16) for _ in range(256))  # 16 bands, darkest at the top
    packed = pack_4bit(GrayImage(width=256, height=16, pixels=pixels))
    assert packed[:128] == bytes(128)
    assert packed[-128:] == b"\xff" * 128


def test_a_full_image_is_288_packets_of_128_bytes() -> None:
    packets = image_packets(random_image(1))
    assert len(packets) == 288
    assert {len(p.data) for p in packets} == {128}
    assert [p.last for p in packets] == [False] * 287 + [True]
    assert sum(len(p.data) for p in packets) == UART_IMAGE_SIZE == 36864


@pytest.mark.parametrize(("size", "count"), [(32, 1152), (64, 576), (128, 288), (256, 144)])
def test_every_packet_size_splits_evenly(size: int, count: int) -> None:
    assert len(split_packets(bytes(UART_IMAGE_SIZE), size)) == count


def test_split_refuses_sizes_the_module_cannot_have() -> None:
    with pytest.raises(LocalProtocolError):
        split_packets(b"\x00" * 10, 100)
    with pytest.raises(LocalProtocolError):
        split_packets(b"", 128)


def test_whole_upload_through_both_connections_is_40044_bytes_and_the_image_comes_back() -> None:
    image = random_image(7)
    host = As608Connection(Role.HOST)
    device = As608Connection(Role.DEVICE)
    device.receive_data(host.send(UploadImage()))
    assert device.next_event() == UploadImage()
    wire = device.send(Acknowledgement(confirmation=0)) + b"".join(device.send(p) for p in image_packets(image))
    assert len(wire) == 288 * 139 + 12 == 40044
    assembler = ImageAssembler()
    for start in range(0, len(wire), 1000):  # a serial read size
        host.receive_data(wire[start : start + 1000])
        while (event := host.next_event()) is not NEED_DATA:
            if isinstance(event, DataPacket):
                assembler.add(event)
    assert host.state is ExchangeState.IDLE
    assert assembler.done
    result = assembler.image()
    assert (result.width, result.height) == (256, 288)
    assert result.pixels == quantise(image.pixels)
    assert "pixels" not in repr(result)


def test_assembler_refuses_a_short_packet_mid_stream() -> None:
    assembler = ImageAssembler()
    assembler.add(DataPacket(data=bytes(128)))
    with pytest.raises(RemoteProtocolError, match="packet size"):
        assembler.add(DataPacket(data=bytes(127)))


def test_assembler_refuses_an_early_end() -> None:
    assembler = ImageAssembler()
    with pytest.raises(RemoteProtocolError, match="ended after 128"):
        assembler.add(DataPacket(data=bytes(128), last=True))
    assert not assembler.done
    with pytest.raises(LocalProtocolError, match="incomplete"):
        assembler.image()


def test_assembler_refuses_overflow() -> None:
    assembler = ImageAssembler(packet_size=256)
    for _ in range(144):  # the whole image, but never marked last
        assembler.add(DataPacket(data=bytes(256)))
    assert assembler.received == UART_IMAGE_SIZE
    assert not assembler.done
    with pytest.raises(RemoteProtocolError, match="overflows"):
        assembler.add(DataPacket(data=bytes(1), last=True))


def test_assembler_refuses_data_after_the_end() -> None:
    assembler = ImageAssembler(packet_size=256)
    for packet in split_packets(bytes(UART_IMAGE_SIZE), 256):
        assembler.add(packet)
    assert assembler.done
    with pytest.raises(RemoteProtocolError, match="after the end"):
        assembler.add(DataPacket(data=bytes(1), last=True))


def test_unpack_blames_the_module_for_a_wrong_size() -> None:
    with pytest.raises(RemoteProtocolError):
        unpack_4bit(bytes(100))


def test_images_validate_their_size() -> None:
    with pytest.raises(LocalProtocolError):
        GrayImage(width=2, height=2, pixels=bytes(3))
    with pytest.raises(LocalProtocolError, match="odd"):
        pack_4bit(GrayImage(width=3, height=1, pixels=bytes(3)))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32), packet_size=st.sampled_from([32, 64, 128, 256]))
def test_full_image_round_trip_quantises_to_4_bits(seed: int, packet_size: int) -> None:
    image = random_image(seed)
    assembler = ImageAssembler(packet_size=packet_size)
    for packet in image_packets(image, packet_size):
        assembler.add(packet)
    result = assembler.image().pixels
    assert result == quantise(image.pixels)
    assert all(a >> 4 == b >> 4 for a, b in zip(image.pixels[:512], result[:512], strict=True))
    assert set(result) <= {n * 17 for n in range(16)}


@settings(max_examples=100, deadline=None)
@given(width=st.integers(1, 16).map(lambda w: 2 * w), height=st.integers(1, 8), data=st.data())
def test_small_images_round_trip(width: int, height: int, data: st.DataObject) -> None:
    pixels = data.draw(st.binary(min_size=width * height, max_size=width * height))
    image = GrayImage(width=width, height=height, pixels=pixels)
    back = unpack_4bit(pack_4bit(image), width=width, height=height)
    assert back.pixels == quantise(pixels)
    assert quantise(back.pixels) == back.pixels
