"""Strict configuration: every bad input stops start-up with the file, key path and expectation."""

from pathlib import Path

import pytest

from hallgw_daemon.config import ConfigError, load_config, parse_config

GOOD = """
[gateway]
hall = "jinan-1"
id = "gw-01"
state_dir = "/var/lib/hallgw"

[supervision]
probe_interval = 2

[[stations]]
id = "window-07"
kind = "window"

[[devices]]
id = "idr-07"
kind = "idcard_reader"
station = "window-07"
link = "serial:///dev/ttyUSB0?baud=115200"
[devices.supervision]
probe_interval = 0.5
"""


def test_good_config_and_overrides() -> None:
    cfg = parse_config(GOOD)
    dev = cfg.devices[0]
    assert cfg.supervision_for(dev).probe_interval == 0.5
    assert cfg.supervision_for(dev).queue_limit == 4
    assert cfg.supervision.probe_interval == 2


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        (("[gateway]", "[gateway]\nbogus = 1"), "cfg.toml: gateway.bogus: unknown key"),
        (
            ('kind = "idcard_reader"', 'kind = "idcard_readr"'),
            "devices[0].kind: Value error, expected one of 'idcard_reader'",
        ),
        (('link = "serial', 'link = "ftp'), "devices[0].link"),
        (
            ("probe_interval = 0.5", "probe_interval = -1"),
            "devices[0].supervision.probe_interval: Input should be greater than 0",
        ),
        (('station = "window-07"', 'station = "window-99"'), "no station 'window-99' is declared"),
        (('hall = "jinan-1"', 'hall = "Jinan 1"'), "gateway.hall"),
        (
            ('state_dir = "/var/lib/hallgw"', 'state_dir = "relative"'),
            "gateway.state_dir: Value error, expected an absolute path",
        ),
        (
            ("[supervision]", "[supervision]\nbackoff_initial = 5.0\nbackoff_max = 1.0"),
            "backoff_initial must not exceed backoff_max",
        ),
        (('id = "gw-01"', "id = 7"), "gateway.id: Input should be a valid string"),
    ],
)
def test_bad_values_name_the_key_path(patch: tuple[str, str], expected: str) -> None:
    text = GOOD.replace(*patch, 1)
    with pytest.raises(ConfigError) as info:
        parse_config(text, source="cfg.toml")
    assert expected in str(info.value)
    assert str(info.value).startswith("cfg.toml:")


def test_duplicate_ids_and_roles() -> None:
    dup = GOOD + '\n[[devices]]\nid = "idr-07"\nkind = "idcard_reader"\nlink = "tcp://127.0.0.1:1"\n'
    with pytest.raises(ConfigError, match="duplicate device ids"):
        parse_config(dup)
    role = (
        GOOD
        + '\n[[devices]]\nid = "idr-08"\nkind = "idcard_reader"\nstation = "window-07"\nlink = "tcp://127.0.0.1:1"\n'
    )
    with pytest.raises(ConfigError, match="already has a idcard_reader"):
        parse_config(role)


def test_not_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        parse_config("[gateway", source="x.toml")
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "absent.toml")


def test_example_config_is_valid() -> None:
    example = Path(__file__).parents[2] / "systemd" / "hallgw.example.toml"
    cfg = load_config(example)
    assert cfg.devices, "the example config shows at least one device"


PHOTO = """
[gateway]
hall = "jinan-1"
id = "gw-01"
state_dir = "/var/lib/hallgw"

[[stations]]
id = "booth-1"
kind = "booth"

[[devices]]
id = "cam-b1"
kind = "camera"
station = "booth-1"
link = "rtsp://user:secret@10.0.0.5/stream"

[[devices]]
id = "lights-b1"
kind = "lighting"
station = "booth-1"
link = "serial:///dev/ttyUSB3"
[devices.lighting]
capture = { 1 = 255, 2 = 200 }
idle = { 1 = 20 }
"""


CAMERA_WITH_LEVELS = 'link = "rtsp://x/s"\n[devices.lighting]\ncapture = { 1 = 1 }\n'


def test_photo_machine_devices() -> None:
    cfg = parse_config(PHOTO)
    camera, lights = cfg.devices
    assert camera.lighting is None and lights.lighting is not None
    assert lights.lighting.capture_levels() == {1: 255, 2: 200} and lights.lighting.idle_levels() == {1: 20}
    assert lights.lighting.settle == 0.3


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        (("capture = { 1 = 255, 2 = 200 }", "capture = { 0 = 255 }"), "channel '0': DMX channels are 1 to 512"),
        (("capture = { 1 = 255, 2 = 200 }", "capture = { 513 = 1 }"), "DMX channels are 1 to 512"),
        (("capture = { 1 = 255, 2 = 200 }", 'capture = { a = 1 }'), "channel 'a'"),
        (("idle = { 1 = 20 }", "idle = { 1 = 256 }"), "level 256 is not 0 to 255"),
        (("capture = { 1 = 255, 2 = 200 }", "capture = { 1 = 0 }"), "at least one channel must be lit"),
        (("[devices.lighting]\ncapture = { 1 = 255, 2 = 200 }\nidle = { 1 = 20 }\n", ""), "a lighting device needs"),
        (('link = "rtsp://user:secret@10.0.0.5/stream"\n', CAMERA_WITH_LEVELS),
         "only a lighting device has levels, not a camera"),
        (('link = "rtsp://user:secret@10.0.0.5/stream"', 'link = "serial:///dev/video0"'),
         "a camera takes a camera link, not serial://"),
        (('link = "rtsp://user:secret@10.0.0.5/stream"', 'link = "camera://front"'), "camera://INDEX"),
        (('link = "serial:///dev/ttyUSB3"', 'link = "camera://0"'), "a lighting takes a serial or tcp link"),
        (('link = "rtsp://user:secret@10.0.0.5/stream"', 'link = "rtsp://user:secret@10.0.0.5:99999/s"'),
         "'rtsp://***@10.0.0.5:99999/s': the port is not a number"),
        (('link = "rtsp://user:secret@10.0.0.5/stream"', 'link = "http://user:secret@/v"'), "names a host"),
        (('link = "rtsp://user:secret@10.0.0.5/stream"', 'link = "ftp://user:secret@h/v"'),
         "'ftp://***@h/v': unsupported link scheme"),
    ],
)  # fmt: skip
def test_bad_photo_machine_config(patch: tuple[str, str], expected: str) -> None:
    text = PHOTO.replace(*patch, 1)
    assert text != PHOTO
    with pytest.raises(ConfigError) as info:
        parse_config(text, source="cfg.toml")
    assert expected in str(info.value)
    assert "secret" not in str(info.value)
