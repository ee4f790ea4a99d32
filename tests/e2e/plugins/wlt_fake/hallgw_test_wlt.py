"""A stand-in WLT decoder plugin for the tests: it proves the hook, it decodes nothing.

It returns a tiny BMP header followed by the length of what it was given, so a
test can tell its output reached the caller. A real plugin wraps a vendor library.
"""


def decode(wlt: bytes) -> bytes:
    return b"BM" + len(wlt).to_bytes(4, "little")
