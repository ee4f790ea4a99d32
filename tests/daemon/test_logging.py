"""The redaction processor keeps personal data out of every log line."""

import io
import json
import logging

from hallgw_daemon.logging import configure_logging, get_logger


def test_sensitive_keys_numbers_and_blobs_are_redacted() -> None:
    out = io.StringIO()
    configure_logging(level="debug", fmt="json", stream=out)
    log = get_logger("test")
    log.info(
        "card read",
        name="王小明",
        id_number="11010519491231002X",
        note="holder 11010519491231002X at window",
        photo=b"\x00" * 1024,
        nested={"address": "某某路1号", "ok": 1},
    )
    logging.getLogger("grpc.test").warning("stdlib says %s", "37010219900101001X")
    text = out.getvalue()
    assert "王小明" not in text and "11010519491231002X" not in text and "某某路" not in text
    assert "37010219900101001X" not in text
    lines = [json.loads(line) for line in text.splitlines()]
    first = lines[0]
    assert first["name"] == "[redacted]" and first["photo"] == "[redacted]"
    assert first["note"] == "holder [redacted-number] at window"
    assert first["nested"] == {"address": "[redacted]", "ok": 1}
    assert lines[1]["level"] == "warning" and "[redacted-number]" in lines[1]["event"]
