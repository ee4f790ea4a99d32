"""The topic tree: every topic the gateway builds parses back; nothing else does."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hallgw_protocols.telemetry import TOPIC_ROOT, TopicKind, Topics, parse_topic

FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

segments = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", fullmatch=True)
BAD_SEGMENTS = [
    "",
    "a/b",
    "/",
    "+",
    "a+",
    "#",
    "a#b",
    "-a",
    ".a",
    "_a",
    "a b",
    "a\n",
    "a\x00",
    "é",
    "x" * 65,
]
# Anything around MQTT's level separator or a wildcard, and the hand-picked ones.
bad_segments = st.sampled_from(BAD_SEGMENTS) | st.builds(
    lambda a, c, b: a + c + b, st.text(max_size=8), st.sampled_from("/+#"), st.text(max_size=8)
)

Builder = Callable[[Topics, str, str], str]
# (what the gateway calls, the kind parse_topic must find, how many parameters it carries)
BUILDERS: list[tuple[str, Builder, TopicKind, int]] = [
    ("status", lambda t, a, b: t.status, TopicKind.STATUS, 0),
    ("gateway_metrics", lambda t, a, b: t.gateway_metrics, TopicKind.GATEWAY_METRICS, 0),
    ("device_state", lambda t, a, b: t.device_state(a), TopicKind.DEVICE_STATE, 1),
    ("device_metrics", lambda t, a, b: t.device_metrics(a), TopicKind.DEVICE_METRICS, 1),
    ("alarm", lambda t, a, b: t.alarm(a), TopicKind.ALARM, 1),
    ("availability", lambda t, a, b: t.availability(a, b), TopicKind.AVAILABILITY, 2),
    ("dropped", lambda t, a, b: t.dropped, TopicKind.DROPPED, 0),
    ("rebirth", lambda t, a, b: t.rebirth, TopicKind.REBIRTH, 0),
]


def test_every_topic_kind_has_a_builder() -> None:
    assert {kind for _, _, kind, _ in BUILDERS} == set(TopicKind)


@pytest.mark.parametrize("case", BUILDERS, ids=[b[0] for b in BUILDERS])
@FAST
@given(hall=segments, gateway=segments, a=segments, b=segments)
def test_every_topic_parses_back_to_its_kind_and_parameters(
    case: tuple[str, Builder, TopicKind, int], hall: str, gateway: str, a: str, b: str
) -> None:
    _, build, kind, n_params = case
    topic = build(Topics(hall, gateway), a, b)
    assert topic.startswith(f"{TOPIC_ROOT}/{hall}/{gateway}/")
    assert parse_topic(topic) == (kind, hall, gateway, (a, b)[:n_params])


def test_the_topic_names_are_the_documented_ones() -> None:
    t = Topics("jinan-lixia", "gw-01")
    assert t.status == "hallgw/v1/jinan-lixia/gw-01/status"
    assert t.gateway_metrics == "hallgw/v1/jinan-lixia/gw-01/metrics"
    assert t.device_state("idr-07") == "hallgw/v1/jinan-lixia/gw-01/device/idr-07/state"
    assert t.device_metrics("idr-07") == "hallgw/v1/jinan-lixia/gw-01/device/idr-07/metrics"
    assert t.alarm("idr-07.offline") == "hallgw/v1/jinan-lixia/gw-01/alarm/idr-07.offline"
    assert t.availability("id_card_reading", "window") == (
        "hallgw/v1/jinan-lixia/gw-01/availability/id_card_reading/window"
    )
    assert t.dropped == "hallgw/v1/jinan-lixia/gw-01/dropped"
    assert t.rebirth == "hallgw/v1/jinan-lixia/gw-01/cmd/rebirth"
    assert t.everything == "hallgw/v1/jinan-lixia/gw-01/#"


def test_another_root_round_trips_with_that_root_only() -> None:
    t = Topics("h1", "g1", root="test/hallgw/v1")
    assert parse_topic(t.device_state("d1"), root="test/hallgw/v1") == (TopicKind.DEVICE_STATE, "h1", "g1", ("d1",))
    with pytest.raises(ValueError, match="not a hallgw telemetry topic"):
        parse_topic(t.device_state("d1"))


@pytest.mark.parametrize("bad", BAD_SEGMENTS)
def test_bad_hall_or_gateway_is_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match="cannot be a topic segment"):
        Topics(bad, "gw-01")
    with pytest.raises(ValueError, match="cannot be a topic segment"):
        Topics("jinan-lixia", bad)


WITH_PARAMS = [b for b in BUILDERS if b[3]]


@pytest.mark.parametrize("case", WITH_PARAMS, ids=[b[0] for b in WITH_PARAMS])
@FAST
@given(bad=bad_segments, good=segments, position=st.integers(0, 1))
def test_a_bad_parameter_is_rejected(
    case: tuple[str, Builder, TopicKind, int], bad: str, good: str, position: int
) -> None:
    _, build, _, n_params = case
    args = (bad, good) if position == 0 or n_params == 1 else (good, bad)
    with pytest.raises(ValueError, match="cannot be a topic segment"):
        build(Topics("jinan-lixia", "gw-01"), *args)


@pytest.mark.parametrize("bad", BAD_SEGMENTS)
def test_every_bad_segment_is_rejected_by_every_parameter(bad: str) -> None:
    t = Topics("jinan-lixia", "gw-01")
    calls: list[Callable[[], str]] = [
        lambda: t.device_state(bad),
        lambda: t.device_metrics(bad),
        lambda: t.alarm(bad),
        lambda: t.availability(bad, "window"),
        lambda: t.availability("id_card_reading", bad),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="cannot be a topic segment"):
            call()


@pytest.mark.parametrize(
    "topic",
    [
        "",
        "hallgw",
        "hallgw/v1",
        "hallgw/v1/h/g",
        "hallgw/v1/h/g/",
        "hallgw/v2/h/g/status",
        "hallgw/v10/h/g/status",
        "other/v1/h/g/status",
        "/hallgw/v1/h/g/status",
        "hallgw/v1/h/g/status/",
        "hallgw/v1/h/g/status/extra",
        "hallgw/v1/h/g/device/d1",
        "hallgw/v1/h/g/device/d1/other",
        "hallgw/v1/h/g/alarm",
        "hallgw/v1/h/g/alarm/a/b",
        "hallgw/v1/h/g/availability/f",
        "hallgw/v1/h/g/cmd/other",
        "hallgw/v1/h/g/#",
        "hallgw/v1/h/g/Status",
    ],
)
def test_what_is_no_telemetry_topic_is_rejected(topic: str) -> None:
    with pytest.raises(ValueError, match="hallgw telemetry topic"):
        parse_topic(topic)


@pytest.mark.parametrize(
    "topic",
    [
        "hallgw/v1//g/status",
        "hallgw/v1/h//status",
        "hallgw/v1/+/+/status",
        "hallgw/v1/h/g/device/+/state",
        "hallgw/v1/h/g/device//state",
        "hallgw/v1/h/g/alarm/+",
        "hallgw/v1/h/g/alarm/#",
        "hallgw/v1/h/g/availability/+/window",
        "hallgw/v1/h/g/availability/id_card_reading/",
        "hallgw/v1/h\n/g/status",
    ],
)
def test_filters_and_empty_segments_are_no_telemetry_topic(topic: str) -> None:
    with pytest.raises(ValueError, match="bad segment"):
        parse_topic(topic)


@FAST
@given(topic=st.text(max_size=60))
def test_any_text_parses_or_raises_value_error(topic: str) -> None:
    try:
        kind, hall, gateway, params = parse_topic(topic)
    except ValueError:
        return
    assert topic.startswith(Topics(hall, gateway).base + "/")  # Topics() accepts what was parsed
    assert isinstance(kind, TopicKind)
    assert all(params)
