"""The leak check used after every end-to-end run does catch a leak."""

from pathlib import Path

import pytest
from support.hall import assert_no_personal_data


def test_leak_check_finds_plain_and_ucs2_values(tmp_path: Path) -> None:
    (tmp_path / "clean.log").write_text('{"event": "card read", "device_id": "idr-01"}\n')
    assert_no_personal_data(tmp_path, ("王小明", "11010519491231002X"))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "dump.bin").write_bytes(b"\x00" + "王小明".encode("utf-16-le"))
    with pytest.raises(AssertionError, match=r"dump\.bin"):
        assert_no_personal_data(tmp_path, ("王小明", "11010519491231002X"))
    (tmp_path / "sub" / "dump.bin").unlink()
    (tmp_path / "x.log").write_text("id 11010519491231002X")
    with pytest.raises(AssertionError, match=r"x\.log"):
        assert_no_personal_data(tmp_path, ("王小明", "11010519491231002X"))
