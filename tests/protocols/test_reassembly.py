"""The shared reassembly buffer: cap, hunting for the marker, counting what it drops."""

from hallgw_protocols._reassembly import ReassemblyBuffer


def test_hunt_drops_to_the_marker_and_keeps_a_split_marker() -> None:
    buf = ReassemblyBuffer(marker=b"\xaa\xaa\x96", cap=64)
    buf.feed(b"noise\xaa\xaa")
    assert not buf.hunt()
    assert (len(buf), buf.discarded) == (2, 5)  # the tail may begin a marker
    buf.feed(b"\x96rest")
    assert buf.hunt()
    assert buf.peek(3) == b"\xaa\xaa\x96"
    assert buf.take(7) == b"\xaa\xaa\x96rest"
    assert (len(buf), buf.discarded) == (0, 5)


def test_cap_drops_the_oldest_and_counts_them() -> None:
    buf = ReassemblyBuffer(marker=b"\xef\x01", cap=8)
    buf.feed(bytes(range(12)))
    assert buf.peek(8) == bytes(range(4, 12))
    assert buf.discarded == 4
    buf.drop(100)  # never more than is there
    assert (len(buf), buf.discarded) == (0, 12)
    buf.feed(b"\x00\xef")
    buf.clear()
    assert buf.discarded == 14
