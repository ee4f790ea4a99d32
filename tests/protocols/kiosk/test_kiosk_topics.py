"""The kiosk topic tree: building, parsing, ids, wildcards and the reply topic check."""

from __future__ import annotations

import pytest

from hallgw_protocols.kiosk import (
    DELIVERY,
    Channel,
    ForeignTopic,
    GatewayTopics,
    KioskProtocolError,
    KioskTopic,
    KioskTopics,
    check_correlation_data,
    check_id,
    is_valid_id,
    parse_topic,
)

HALL, KIOSK, GW = "jinan-lixia", "kiosk-12", "gw-01"


def test_kiosk_topics() -> None:
    t = KioskTopics(HALL, KIOSK)
    assert t.cmd == "hallgw/kiosk/v1/jinan-lixia/kiosk-12/cmd"
    assert t.reply(GW) == "hallgw/kiosk/v1/jinan-lixia/kiosk-12/reply/gw-01"
    assert t.state == "hallgw/kiosk/v1/jinan-lixia/kiosk-12/state"
    assert t.heartbeat == "hallgw/kiosk/v1/jinan-lixia/kiosk-12/heartbeat"
    assert t.status == "hallgw/kiosk/v1/jinan-lixia/kiosk-12/status"


def test_gateway_subscriptions_cover_every_kiosk_of_the_hall() -> None:
    g = GatewayTopics(HALL, GW)
    assert g.subscriptions() == (
        ("hallgw/kiosk/v1/jinan-lixia/+/reply/gw-01", 1),
        ("hallgw/kiosk/v1/jinan-lixia/+/status", 1),
        ("hallgw/kiosk/v1/jinan-lixia/+/state", 1),
        ("hallgw/kiosk/v1/jinan-lixia/+/heartbeat", 0),
    )
    assert g.response_topic(KIOSK) == KioskTopics(HALL, KIOSK).reply(GW)
    assert g.kiosk(KIOSK).cmd.endswith("/kiosk-12/cmd")


def test_delivery_per_channel() -> None:
    assert {c: (d.qos, d.retain) for c, d in DELIVERY.items()} == {
        Channel.CMD: (1, False),
        Channel.REPLY: (1, False),
        Channel.STATE: (1, True),
        Channel.HEARTBEAT: (0, False),
        Channel.STATUS: (1, True),
    }


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("hallgw/kiosk/v1/h/k-1/cmd", KioskTopic("h", "k-1", Channel.CMD)),
        ("hallgw/kiosk/v1/h/k-1/state", KioskTopic("h", "k-1", Channel.STATE)),
        ("hallgw/kiosk/v1/h/k-1/heartbeat", KioskTopic("h", "k-1", Channel.HEARTBEAT)),
        ("hallgw/kiosk/v1/h/k-1/status", KioskTopic("h", "k-1", Channel.STATUS)),
        ("hallgw/kiosk/v1/h/k-1/reply/gw-01", KioskTopic("h", "k-1", Channel.REPLY, "gw-01")),
    ],
)
def test_parse_topic(topic: str, expected: KioskTopic) -> None:
    assert parse_topic(topic) == expected


def test_built_topics_parse_back() -> None:
    t = KioskTopics(HALL, KIOSK)
    assert parse_topic(t.reply(GW)) == KioskTopic(HALL, KIOSK, Channel.REPLY, GW)
    for channel, topic in ((Channel.CMD, t.cmd), (Channel.STATE, t.state), (Channel.STATUS, t.status)):
        assert parse_topic(topic) == KioskTopic(HALL, KIOSK, channel)


@pytest.mark.parametrize(
    "topic",
    [
        "hallgw/v1/jinan-lixia/gw-01/status",  # telemetry, another tree
        "hallgw/kiosk/v2/h/k/cmd",  # another tree version
        "hallgw/kiosk/v1/h/k/unknown",
        "hallgw/kiosk/v1/h/k",
        "hallgw/kiosk/v1/h/k/cmd/extra",
        "hallgw/kiosk/v1/h/k/reply",
        "hallgw/kiosk/v1/h/+/state",  # a filter, not a topic
        "hallgw/kiosk/v1/h/#",
        "hallgw/kiosk/v1/h//cmd",
        "hallgw/kiosk/v1/H/k/cmd",  # upper case
        "hallgw/kiosk/v1/h/-k/cmd",
        "hallgw/kiosk/v1/h/k/reply/GW",
        "hallgw/kiosk/v1/h/k/reply/+",
        "",
    ],
)
def test_foreign_topics_are_refused(topic: str) -> None:
    with pytest.raises(ForeignTopic):
        parse_topic(topic)


def test_foreign_topic_is_a_protocol_error_naming_the_level() -> None:
    with pytest.raises(KioskProtocolError) as info:
        parse_topic("hallgw/kiosk/v1/h/Kiosk/cmd")
    assert info.value.field == "kiosk_id"


@pytest.mark.parametrize("value", ["a", "0", "kiosk-12", "a" * 63, "a-"])
def test_valid_ids(value: str) -> None:
    assert is_valid_id(value)
    assert check_id(value, "kiosk id") == value


@pytest.mark.parametrize("value", ["", "-a", "A", "a_b", "a.b", "a/b", "a+", "#", "a" * 64, "ä", "a\n", 7])
def test_invalid_ids(value: object) -> None:
    assert not is_valid_id(value)


@pytest.mark.parametrize(("hall", "kiosk"), [("Hall", "k"), ("h", "k/1"), ("h", ""), ("h", "+")])
def test_topics_refuse_bad_ids(hall: str, kiosk: str) -> None:
    with pytest.raises(ValueError, match="not an id"):
        KioskTopics(hall, kiosk)


def test_reply_topic_needs_a_gateway_id() -> None:
    with pytest.raises(ValueError, match="gateway id"):
        KioskTopics(HALL, KIOSK).reply("GW")
    with pytest.raises(ValueError, match="gateway id"):
        GatewayTopics(HALL, "gw/1")


def test_kiosk_answers_only_on_its_own_reply_topics() -> None:
    t = KioskTopics(HALL, KIOSK)
    assert t.reply_gateway(t.reply(GW)) == GW
    for bad in (
        KioskTopics(HALL, "kiosk-13").reply(GW),  # another kiosk's
        t.state,
        "some/other/topic",
        t.reply(GW) + "/x",
        f"{t.base}/reply/",
    ):
        with pytest.raises(ForeignTopic):
            t.reply_gateway(bad)


def test_correlation_data() -> None:
    assert check_correlation_data(b"x") == b"x"
    assert check_correlation_data(b"x" * 64) == b"x" * 64
    for bad in (b"", b"x" * 65, "text", None):
        with pytest.raises(ValueError, match="correlation data"):
            check_correlation_data(bad)
