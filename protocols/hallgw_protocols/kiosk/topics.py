"""The kiosk topic tree: ``hallgw/kiosk/v1/<hall>/<kiosk id>/<channel>``.

| channel | direction | QoS | retained | carries |
|---|---|---|---|---|
| ``cmd`` | gateway to kiosk | 1 | no | commands, with Response Topic and Correlation Data |
| ``reply/<gateway id>`` | kiosk to gateway | 1 | no | acknowledgements, progress, completions, answers |
| ``state`` | kiosk | 1 | yes | kind, model, firmware, mode, door, consumables, slots |
| ``heartbeat`` | kiosk | 0 | no | a beat every ``interval_s`` |
| ``status`` | kiosk | 1 | yes | online on connect; offline as the Last Will or on a clean stop |

Every id (hall, kiosk, gateway) has the syntax of the daemon's device ids: 1 to
63 lower-case letters, digits or ``-``, not ``-`` first. So an id never holds
``/``, ``+`` or ``#``, and nothing but a kiosk id fits the kiosk segment.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from typing import Final

from hallgw_protocols.kiosk.errors import ForeignTopic

TOPIC_ROOT: Final = "hallgw/kiosk/v1"
"""The root of the tree; ``v1`` is the version of the tree, not of the payloads."""

ID_PATTERN: Final = r"[a-z0-9][a-z0-9-]{0,62}"
_ID: Final = re.compile(ID_PATTERN)

COMMAND_EXPIRY_S: Final = 60
"""The Message Expiry Interval the gateway sets on commands: none starts long after the applicant left."""
SESSION_EXPIRY_S: Final = 3600
"""The least Session Expiry Interval of kiosk and gateway connections, so QoS 1 messages wait across a reconnect."""
MAX_KEEPALIVE_S: Final = 10
"""The longest keepalive a kiosk uses, so the broker publishes its will within 15 s of silence."""

MAX_CORRELATION_BYTES: Final = 64
"""Correlation Data the gateway sets is 1 to 64 bytes; a kiosk echoes it unchanged."""


class Channel(enum.Enum):
    """What a topic of a kiosk carries."""

    CMD = "cmd"
    REPLY = "reply"
    STATE = "state"
    HEARTBEAT = "heartbeat"
    STATUS = "status"


@dataclasses.dataclass(frozen=True, slots=True)
class Delivery:
    """How messages are published on a channel."""

    qos: int
    retain: bool


DELIVERY: Final[dict[Channel, Delivery]] = {
    Channel.CMD: Delivery(qos=1, retain=False),
    Channel.REPLY: Delivery(qos=1, retain=False),
    Channel.STATE: Delivery(qos=1, retain=True),
    Channel.HEARTBEAT: Delivery(qos=0, retain=False),
    Channel.STATUS: Delivery(qos=1, retain=True),
}


def is_valid_id(value: object) -> bool:
    """True if ``value`` is a hall, kiosk or gateway id (``[a-z0-9][a-z0-9-]{0,62}``)."""
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def check_id(value: str, what: str) -> str:
    """``value`` if it is a valid id; ValueError naming ``what`` otherwise."""
    if not is_valid_id(value):
        raise ValueError(f"{what} {value!r} is not an id: 1 to 63 lower-case letters, digits or '-', not '-' first")
    return value


def check_correlation_data(data: object) -> bytes:
    """The Correlation Data if it is 1 to 64 bytes; ValueError otherwise."""
    if not isinstance(data, bytes) or not 1 <= len(data) <= MAX_CORRELATION_BYTES:
        raise ValueError(f"correlation data must be 1 to {MAX_CORRELATION_BYTES} bytes")
    return data


@dataclasses.dataclass(frozen=True, slots=True)
class KioskTopics:
    """The topics of one kiosk (what the kiosk publishes and subscribes to)."""

    hall: str
    kiosk_id: str
    root: str = TOPIC_ROOT

    def __post_init__(self) -> None:
        check_id(self.hall, "hall")
        check_id(self.kiosk_id, "kiosk id")

    @property
    def base(self) -> str:
        return f"{self.root}/{self.hall}/{self.kiosk_id}"

    @property
    def cmd(self) -> str:
        """Commands to the kiosk; the kiosk subscribes to it with QoS 1."""
        return f"{self.base}/cmd"

    def reply(self, gateway_id: str) -> str:
        """Where the kiosk answers gateway ``gateway_id``: the Response Topic of that gateway's commands."""
        return f"{self.base}/reply/{check_id(gateway_id, 'gateway id')}"

    @property
    def state(self) -> str:
        return f"{self.base}/state"

    @property
    def heartbeat(self) -> str:
        return f"{self.base}/heartbeat"

    @property
    def status(self) -> str:
        """Retained online/offline; the offline message is the kiosk's Last Will."""
        return f"{self.base}/status"

    def reply_gateway(self, response_topic: str) -> str:
        """The gateway id of a Response Topic, checked to be this kiosk's reply topic.

        A kiosk calls it on every command's Response Topic and answers only
        when it passes: it never publishes outside its own tree (ForeignTopic).
        """
        prefix = f"{self.base}/reply/"
        gateway_id = response_topic.removeprefix(prefix)
        if gateway_id == response_topic or not is_valid_id(gateway_id):
            raise ForeignTopic("the response topic is not a reply topic of this kiosk", field="response_topic")
        return gateway_id


@dataclasses.dataclass(frozen=True, slots=True)
class GatewayTopics:
    """What one gateway subscribes to: every kiosk of its hall."""

    hall: str
    gateway_id: str
    root: str = TOPIC_ROOT

    def __post_init__(self) -> None:
        check_id(self.hall, "hall")
        check_id(self.gateway_id, "gateway id")

    def kiosk(self, kiosk_id: str) -> KioskTopics:
        return KioskTopics(self.hall, kiosk_id, self.root)

    def response_topic(self, kiosk_id: str) -> str:
        """The Response Topic this gateway sets on commands to ``kiosk_id``."""
        return self.kiosk(kiosk_id).reply(self.gateway_id)

    @property
    def replies(self) -> str:
        """Filter: this gateway's replies from every kiosk of the hall."""
        return f"{self.root}/{self.hall}/+/reply/{self.gateway_id}"

    @property
    def states(self) -> str:
        return f"{self.root}/{self.hall}/+/state"

    @property
    def heartbeats(self) -> str:
        return f"{self.root}/{self.hall}/+/heartbeat"

    @property
    def statuses(self) -> str:
        return f"{self.root}/{self.hall}/+/status"

    def subscriptions(self) -> tuple[tuple[str, int], ...]:
        """Every (filter, QoS) the gateway subscribes to, replies first."""
        return (
            (self.replies, DELIVERY[Channel.REPLY].qos),
            (self.statuses, DELIVERY[Channel.STATUS].qos),
            (self.states, DELIVERY[Channel.STATE].qos),
            (self.heartbeats, DELIVERY[Channel.HEARTBEAT].qos),
        )


@dataclasses.dataclass(frozen=True, slots=True)
class KioskTopic:
    """A parsed kiosk topic."""

    hall: str
    kiosk_id: str
    channel: Channel
    gateway_id: str | None = None
    """The gateway a reply is for; None on every other channel."""


def parse_topic(topic: str, root: str = TOPIC_ROOT) -> KioskTopic:
    """Hall, kiosk id, channel (and gateway of a reply) of a kiosk topic.

    Raises :class:`ForeignTopic` for anything else: another tree, an unknown
    channel, a bad id, an empty level or a wildcard (a filter, not a topic).
    """
    if not isinstance(topic, str) or not topic.startswith(root + "/"):
        raise ForeignTopic(f"not a kiosk topic (they start with {root}/)")
    parts = topic[len(root) + 1 :].split("/")
    gateway_id: str | None = None
    match parts:
        case [hall, kiosk_id, "reply", gateway]:
            channel, gateway_id = Channel.REPLY, gateway
        case [hall, kiosk_id, ("cmd" | "state" | "heartbeat" | "status") as name]:
            channel = Channel(name)
        case _:
            raise ForeignTopic(f"unknown kiosk topic: {len(parts)} levels after {root}/ with no known channel")
    for what, value in (("hall", hall), ("kiosk id", kiosk_id), ("gateway id", gateway_id)):
        if value is not None and not is_valid_id(value):
            raise ForeignTopic(f"the {what} level of a kiosk topic is not an id", field=what.replace(" ", "_"))
    return KioskTopic(hall, kiosk_id, channel, gateway_id)
