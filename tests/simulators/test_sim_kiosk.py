"""The kiosk simulator against a real Mosquitto, driven by a test gateway speaking the kiosk protocol."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from support.broker import Broker, client, mosquitto_broker

from hallgw_protocols.kiosk import (
    Accepted,
    Channel,
    Command,
    CommandWindow,
    Completion,
    ConsumablesAnswer,
    Destination,
    Done,
    Duplicate,
    EndorsementType,
    GatewayTopics,
    GetConsumables,
    Heartbeat,
    InProgress,
    IssueEndorsement,
    Message,
    NotDone,
    Online,
    OutcomeAnswer,
    Ping,
    Pong,
    PrintTravelRecord,
    Progress,
    QueryOutcome,
    Reason,
    Rejected,
    ReleaseCertificate,
    Reply,
    Stage,
    State,
    Status,
    ends_request,
    parse_for_channel,
    parse_reply,
    parse_topic,
)
from hallgw_simulators.faults import FaultError
from hallgw_simulators.kiosk_device import KioskDevice, KioskTiming, broker_address, now_utc, slot_names

HALL = "test-hall"
GATEWAY = "gw-01"
TOPICS = GatewayTopics(HALL, GATEWAY)


def endorsement(command_id: str) -> IssueEndorsement:
    return IssueEndorsement(
        time=now_utc(),
        command_id=command_id,
        business_ref="APP-2025-0001",
        destination=Destination.HONG_KONG,
        endorsement_type=EndorsementType.INDIVIDUAL_TOURISM,
        entries=1,
        valid_days=90,
        stay_days=7,
    )


def release(command_id: str, slot: str | None = "A-01") -> ReleaseCertificate:
    return ReleaseCertificate(
        time=now_utc(),
        command_id=command_id,
        business_ref="DOC-88213",
        slot=slot,
        pickup_ref=None if slot is not None else "PICK-1",
    )


def record(command_id: str, copies: int = 1) -> PrintTravelRecord:
    return PrintTravelRecord(
        time=now_utc(), command_id=command_id, business_ref="QRY-118", record_ref="REC-77a1c0", copies=copies
    )


class Gateway:
    """Sends commands with a Response Topic and Correlation Data; keeps every reply and kiosk message."""

    def __init__(self, mqtt: aiomqtt.Client) -> None:
        self.mqtt = mqtt
        self.replies: dict[bytes, list[Reply]] = collections.defaultdict(list)
        self.seen: list[tuple[str, Channel, Message, bool]] = []
        """(kiosk id, channel, message, retain) of every state, heartbeat and status."""
        self.raw: list[tuple[str, bytes, bytes | None]] = []
        self._numbers = itertools.count(1)
        self._changed = asyncio.Event()

    async def read(self) -> None:
        async for message in self.mqtt.messages:
            topic = parse_topic(message.topic.value)
            payload = message.payload
            assert isinstance(payload, bytes)
            correlation = getattr(message.properties, "CorrelationData", None)
            self.raw.append((message.topic.value, payload, correlation))
            if topic.channel is Channel.REPLY:
                assert correlation is not None
                self.replies[correlation].append(parse_reply(payload))
            else:
                self.seen.append(
                    (topic.kiosk_id, topic.channel, parse_for_channel(topic.channel, payload), message.retain)
                )
            self._changed.set()

    async def publish(
        self, kiosk_id: str, payload: bytes, *, correlation: bytes | None = None, response_topic: str | None = None
    ) -> None:
        properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        if response_topic is not None:
            properties.ResponseTopic = response_topic
        if correlation is not None:
            properties.CorrelationData = correlation
        await self.mqtt.publish(TOPICS.kiosk(kiosk_id).cmd, payload, qos=1, properties=properties)

    async def send(self, kiosk_id: str, command: Command) -> bytes:
        """Publish a command; returns its Correlation Data."""
        correlation = f"c{next(self._numbers)}".encode()
        await self.publish(
            kiosk_id, command.to_bytes(), correlation=correlation, response_topic=TOPICS.response_topic(kiosk_id)
        )
        return correlation

    async def wait(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while not predicate():
                self._changed.clear()
                await self._changed.wait()

    async def finished(self, correlation: bytes, timeout: float = 5.0) -> list[Reply]:
        """Every reply to a request, once one ends it."""
        await self.wait(lambda: any(ends_request(r) for r in self.replies[correlation]), timeout)
        return self.replies[correlation]

    async def request(self, kiosk_id: str, command: Command, timeout: float = 5.0) -> list[Reply]:
        return await self.finished(await self.send(kiosk_id, command), timeout)

    def kiosk_messages(self, kiosk_id: str, channel: Channel) -> list[Any]:
        return [m for k, c, m, _ in self.seen if k == kiosk_id and c is channel]


@contextlib.asynccontextmanager
async def gateway(url: str) -> AsyncIterator[Gateway]:
    async with client(url, identifier=GATEWAY) as mqtt:
        for topic_filter, qos in TOPICS.subscriptions():
            await mqtt.subscribe(topic_filter, qos=qos)
        gw = Gateway(mqtt)
        reader = asyncio.create_task(gw.read())
        try:
            yield gw
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader


pytestmark = pytest.mark.timeout(60)

MakeKiosk = Callable[..., Awaitable[KioskDevice]]
FAST = KioskTiming(heartbeat_interval=1, step_delay=0.01, pickup_timeout=0.05)


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[Broker]:
    async with mosquitto_broker(tmp_path / "broker") as running:
        yield running


@pytest.fixture
async def gw(broker: Broker) -> AsyncIterator[Gateway]:
    async with gateway(broker.url) as g:
        yield g


@pytest.fixture
async def make_kiosk(broker: Broker, tmp_path: Path) -> AsyncIterator[MakeKiosk]:
    started: list[KioskDevice] = []

    async def make(kiosk_id: str, kind: str, *, timing: KioskTiming = FAST, **kwargs: Any) -> KioskDevice:
        kiosk = KioskDevice(
            kiosk_id=kiosk_id,
            kiosk_kind=kind,
            hall=HALL,
            broker_host=broker.host,
            broker_port=broker.port,
            state_dir=tmp_path / "kiosks",
            seed=3,
            station="area24-01",
            timing=timing,
            **kwargs,
        )
        await kiosk.start()
        started.append(kiosk)
        await kiosk.wait_online()
        return kiosk

    yield make
    for kiosk in started:
        await kiosk.stop()


async def _until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll the simulator's own state (it has no event to await) until ``predicate`` holds."""
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110 - polling a simulator counter, bounded by the timeout
            await asyncio.sleep(0.01)


def _types(replies: list[Any]) -> list[str]:
    return [r.TYPE.value for r in replies]


def _completion(replies: list[Any]) -> Completion:
    completions = [r for r in replies if isinstance(r, Completion)]
    assert len(completions) == 1, _types(replies)
    return completions[0]


def _last_state(gw: Gateway, kiosk_id: str) -> State:
    states: list[State] = gw.kiosk_messages(kiosk_id, Channel.STATE)
    return states[-1]


# -- the three commands -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "command", "stages"),
    [
        (
            "endorsement",
            endorsement,
            ["waiting_for_card", "card_inserted", "writing", "printing", "waiting_for_pickup", "document_taken"],
        ),
        ("collection", release, ["dispensing", "waiting_for_pickup", "document_taken"]),
        ("record_query", record, ["fetching_record", "printing", "waiting_for_pickup", "document_taken"]),
    ],
)
async def test_each_kind_runs_its_command_end_to_end(
    gw: Gateway, make_kiosk: MakeKiosk, kind: str, command: Callable[[str], Any], stages: list[str]
) -> None:
    kiosk = await make_kiosk("k-1", kind)
    await gw.wait(lambda: bool(gw.kiosk_messages("k-1", Channel.STATE)))
    before = _last_state(gw, "k-1")
    replies = await gw.request("k-1", command("req-0001"))
    assert isinstance(replies[0], Accepted) and replies[0].command_id == "req-0001"
    progress = [r for r in replies if isinstance(r, Progress)]
    assert [p.stage.value for p in progress] == stages
    assert [p.seq for p in progress] == list(range(1, len(stages) + 1))
    outcome = _completion(replies).outcome
    assert isinstance(outcome, Done) and outcome.serial == "K-1-00000001"
    assert replies[-1] is not None and isinstance(replies[-1], Completion)
    assert kiosk.counts["done"] == 1
    # The retained state followed: active while running, idle after, consumables or slots used.
    await gw.wait(
        lambda: _last_state(gw, "k-1").active_command is None and len(gw.kiosk_messages("k-1", Channel.STATE)) >= 3
    )
    after = _last_state(gw, "k-1")
    assert any(s.active_command == "req-0001" for s in gw.kiosk_messages("k-1", Channel.STATE))
    if kind == "collection":
        assert before.slots is not None and after.slots is not None
        assert after.slots.occupied == before.slots.occupied - 1
        assert "A-01" not in kiosk.occupied_slots
    else:
        assert kiosk.describe()["consumables"]["paper_pct"] is not None
        assert kiosk._record["paper"] < 2000


async def test_state_and_status_are_retained(broker: Broker, make_kiosk: MakeKiosk) -> None:
    await make_kiosk("k-2", "collection", slots=40)
    async with gateway(broker.url) as late:  # subscribes after the kiosk published
        await late.wait(
            lambda: bool(late.kiosk_messages("k-2", Channel.STATE)) and bool(late.kiosk_messages("k-2", Channel.STATUS))
        )
        (state,) = late.kiosk_messages("k-2", Channel.STATE)
        assert (state.kind.value, state.model, state.mode.value, state.door.value) == (
            "collection",
            "CL-120",
            "in_service",
            "closed",
        )
        assert state.slots is not None and (state.slots.total, state.slots.occupied) == (40, 40)
        assert state.command_window == 1000 and state.active_command is None
        (status,) = late.kiosk_messages("k-2", Channel.STATUS)
        assert (status.status, status.session, status.reason) == (Online.ONLINE, 1, "")
        assert all(retain for k, c, _, retain in late.seen if c in (Channel.STATE, Channel.STATUS))


async def test_unsupported_command_is_rejected_and_spends_the_id(gw: Gateway, make_kiosk: MakeKiosk) -> None:
    kiosk = await make_kiosk("k-3", "endorsement")
    (rejected,) = await gw.request("k-3", record("req-x"))
    assert isinstance(rejected, Rejected) and rejected.reason is Reason.UNSUPPORTED_COMMAND
    (dup,) = await gw.request("k-3", record("req-x"))
    assert isinstance(dup, Duplicate) and isinstance(dup.outcome, NotDone)
    assert dup.outcome.reason is Reason.UNSUPPORTED_COMMAND
    assert (kiosk.counts["rejected"], kiosk.counts["duplicates"], kiosk.counts["done"]) == (1, 1, 0)


async def test_a_duplicate_after_completion_gets_the_first_outcome(gw: Gateway, make_kiosk: MakeKiosk) -> None:
    kiosk = await make_kiosk("k-4", "record_query")
    first = _completion(await gw.request("k-4", record("req-7")))
    (dup,) = await gw.request("k-4", record("req-7"))
    assert isinstance(dup, Duplicate) and dup.outcome == first.outcome
    assert kiosk.counts["done"] == 1 and kiosk.counts["duplicates"] == 1
    # Another id with other parameters under the same id: reused, nothing recorded.
    (reused,) = await gw.request("k-4", record("req-7", copies=2))
    assert isinstance(reused, Rejected) and reused.reason is Reason.COMMAND_ID_REUSED
    assert kiosk.counts["done"] == 1


async def test_a_duplicate_while_in_progress_joins_the_command(gw: Gateway, make_kiosk: MakeKiosk) -> None:
    kiosk = await make_kiosk("k-5", "endorsement", timing=KioskTiming(heartbeat_interval=5, step_delay=0.05))
    first = await gw.send("k-5", endorsement("req-j"))
    await gw.wait(lambda: any(isinstance(r, Progress) for r in gw.replies[first]))
    second = await gw.send("k-5", endorsement("req-j"))
    query = await gw.send("k-5", QueryOutcome(time=now_utc(), command_id="req-j"))
    one, two = await gw.finished(first), await gw.finished(second)
    dup = two[0]
    assert isinstance(dup, Duplicate) and isinstance(dup.outcome, InProgress)
    assert _completion(one).outcome == _completion(two).outcome
    assert any(isinstance(r, Progress) for r in two)  # later progress goes to the repeat too
    answers = await gw.finished(query)
    assert isinstance(answers[0], OutcomeAnswer) and isinstance(answers[0].outcome, InProgress)
    await gw.wait(lambda: any(isinstance(r, Completion) for r in gw.replies[query]))
    assert kiosk.counts["done"] == 1


async def test_query_outcome_known_unknown_and_the_fence(gw: Gateway, make_kiosk: MakeKiosk) -> None:
    kiosk = await make_kiosk("k-6", "collection")
    done = _completion(await gw.request("k-6", release("req-q1", "A-02"))).outcome
    (known,) = await gw.request("k-6", QueryOutcome(time=now_utc(), command_id="req-q1"))
    assert isinstance(known, OutcomeAnswer) and known.outcome == done and known.command is not None
    (unknown,) = await gw.request("k-6", QueryOutcome(time=now_utc(), command_id="req-never"))
    assert isinstance(unknown, OutcomeAnswer) and unknown.command is None
    assert isinstance(unknown.outcome, NotDone) and unknown.outcome.reason is Reason.NOT_RECEIVED
    # A late copy of the fenced command can never run.
    (late,) = await gw.request("k-6", release("req-never", "A-03"))
    assert isinstance(late, Duplicate) and isinstance(late.outcome, NotDone)
    assert late.outcome.reason is Reason.NOT_RECEIVED
    assert "A-03" in kiosk.occupied_slots and kiosk.counts["done"] == 1


async def test_ping_consumables_and_protocol_errors(gw: Gateway, make_kiosk: MakeKiosk) -> None:
    kiosk = await make_kiosk("k-7", "endorsement")
    (pong,) = await gw.request("k-7", Ping(time=now_utc()))
    assert isinstance(pong, Pong)
    (answer,) = await gw.request("k-7", GetConsumables(time=now_utc()))
    assert isinstance(answer, ConsumablesAnswer) and answer.slots is None
    assert (answer.consumables.paper_pct, answer.consumables.ribbon_pct, answer.consumables.card_stock) == (
        100,
        100,
        1000,
    )
    # Malformed: rejected, nothing recorded.
    await gw.publish(
        "k-7", b'{"type": "ping"}', correlation=b"bad", response_topic=f"hallgw/kiosk/v1/{HALL}/k-7/reply/gw-01"
    )
    replies = await gw.finished(b"bad")
    assert isinstance(replies[0], Rejected) and replies[0].reason is Reason.MALFORMED
    # No response topic, or a foreign one: dropped and counted.
    await gw.publish("k-7", Ping(time=now_utc()).to_bytes(), correlation=b"x")
    await gw.publish("k-7", Ping(time=now_utc()).to_bytes(), correlation=b"y", response_topic="elsewhere/reply/gw-01")
    (pong,) = await gw.request("k-7", Ping(time=now_utc()))  # after both, in order
    assert kiosk.counts["dropped"] == 2 and kiosk.counts["protocol_rejections"] == 1
    assert not gw.replies[b"x"] and not gw.replies[b"y"]


async def test_heartbeats_count_up_with_the_interval(gw: Gateway, make_kiosk: MakeKiosk) -> None:
    await make_kiosk("k-8", "record_query")
    await gw.wait(lambda: len(gw.kiosk_messages("k-8", Channel.HEARTBEAT)) >= 2, timeout=5)
    beats: list[Heartbeat] = gw.kiosk_messages("k-8", Channel.HEARTBEAT)
    assert [b.seq for b in beats[:2]] == [0, 1]
    assert beats[0].interval_s == 1 and beats[0].commands_total == 0


# -- faults -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "fault", "args", "command", "reason"),
    [
        ("record_query", "paper_out", [], record, Reason.PAPER_OUT),
        ("endorsement", "ribbon_out", [], endorsement, Reason.RIBBON_OUT),
        ("endorsement", "card_stock", [0], endorsement, Reason.CARD_STOCK_EMPTY),
        ("collection", "door", ["open"], release, Reason.DOOR_OPEN),
        ("collection", "mode", ["out_of_service"], release, Reason.OUT_OF_SERVICE),
        ("record_query", "mode", ["maintenance"], record, Reason.MAINTENANCE),
    ],
)
async def test_supply_door_and_mode_faults_reject_until_cleared(  # noqa: PLR0917 - parametrised
    gw: Gateway,
    make_kiosk: MakeKiosk,
    kind: str,
    fault: str,
    args: list[Any],
    command: Callable[[str], Any],
    reason: Reason,
) -> None:
    kiosk = await make_kiosk("k-9", kind)
    await kiosk.apply_fault(fault, args)
    (rejected,) = await gw.request("k-9", command("req-f1"))
    assert isinstance(rejected, Rejected) and rejected.reason is reason
    assert kiosk.counts["rejected"] == 1 and kiosk.counts["done"] == 0
    state = _last_state(gw, "k-9")
    assert state.consumables.paper_pct == 0 if fault == "paper_out" else True
    assert state.door.value == "open" if fault == "door" else True
    await kiosk.apply_fault("clear")
    replies = await gw.request("k-9", command("req-f2"))
    assert isinstance(_completion(replies).outcome, Done)


async def test_jam_and_card_removed_end_not_done_before_the_irreversible_step(
    gw: Gateway, make_kiosk: MakeKiosk
) -> None:
    kiosk = await make_kiosk("k-10", "endorsement")
    await kiosk.apply_fault("jam")
    replies = await gw.request("k-10", endorsement("req-jam"))
    outcome = _completion(replies).outcome
    assert isinstance(replies[0], Accepted)
    assert isinstance(outcome, NotDone) and outcome.reason is Reason.JAM
    await kiosk.apply_fault("card_removed")
    replies = await gw.request("k-10", endorsement("req-rm"))
    outcome = _completion(replies).outcome
    assert isinstance(outcome, NotDone) and outcome.reason is Reason.CARD_REMOVED
    assert [p.stage for p in replies if isinstance(p, Progress)][-1] is Stage.WRITING
    assert (kiosk.counts["done"], kiosk.counts["not_done"], kiosk._record["serial"]) == (0, 2, 0)
    # One shot: the next one is done.
    assert isinstance(_completion(await gw.request("k-10", endorsement("req-ok"))).outcome, Done)
    with pytest.raises(FaultError, match="only an endorsement kiosk"):
        await (await make_kiosk("k-11", "collection")).apply_fault("card_removed")


async def test_never_taken_is_done_without_document_taken(gw: Gateway, make_kiosk: MakeKiosk) -> None:
    kiosk = await make_kiosk("k-12", "collection")
    await kiosk.apply_fault("never_taken")
    replies = await gw.request("k-12", release("req-nt", None))  # by pickup reference: the first occupied slot
    stages = [p.stage for p in replies if isinstance(p, Progress)]
    assert stages == [Stage.DISPENSING, Stage.WAITING_FOR_PICKUP]
    assert isinstance(_completion(replies).outcome, Done)
    assert kiosk.counts["uncollected"] == 1 and "A-01" not in kiosk.occupied_slots


async def test_slow_ack_and_duplicate_delivery(gw: Gateway, make_kiosk: MakeKiosk) -> None:
    kiosk = await make_kiosk("k-13", "record_query")
    await kiosk.apply_fault("slow_ack", [300])
    started = time.monotonic()
    correlation = await gw.send("k-13", record("req-s"))
    await gw.wait(lambda: bool(gw.replies[correlation]))
    assert time.monotonic() - started >= 0.3
    await gw.finished(correlation)
    await kiosk.apply_fault("slow_ack", [0])
    await kiosk.apply_fault("duplicate_delivery")
    correlation = await gw.send("k-13", record("req-d"))
    await gw.wait(lambda: sum(isinstance(r, Completion) for r in gw.replies[correlation]) == 2)
    one, two = [r for r in gw.replies[correlation] if isinstance(r, Completion)]
    assert one.outcome == two.outcome and kiosk.counts["done"] == 2


async def test_silence_keeps_the_connection_but_answers_nothing(
    broker: Broker, gw: Gateway, make_kiosk: MakeKiosk
) -> None:
    kiosk = await make_kiosk("k-14", "endorsement")
    await gw.wait(lambda: bool(gw.kiosk_messages("k-14", Channel.HEARTBEAT)))
    await kiosk.apply_fault("silence", ["on"])
    beats = len(gw.kiosk_messages("k-14", Channel.HEARTBEAT))
    correlation = await gw.send("k-14", Ping(time=now_utc()))
    await asyncio.sleep(1.5)
    assert not gw.replies[correlation] and len(gw.kiosk_messages("k-14", Channel.HEARTBEAT)) == beats
    assert kiosk.connected and not any(
        isinstance(m, Status) and m.status is Online.OFFLINE for m in gw.kiosk_messages("k-14", Channel.STATUS)
    )
    await kiosk.apply_fault("silence", ["off"])
    assert isinstance((await gw.request("k-14", Ping(time=now_utc())))[0], Pong)


async def test_offline_publishes_the_will_and_online_reconnects(gw: Gateway, make_kiosk: MakeKiosk) -> None:
    kiosk = await make_kiosk("k-15", "record_query")
    await kiosk.apply_fault("offline")
    await gw.wait(lambda: any(s.status is Online.OFFLINE for s in gw.kiosk_messages("k-15", Channel.STATUS)))
    offline = [s for s in gw.kiosk_messages("k-15", Channel.STATUS) if s.status is Online.OFFLINE][-1]
    assert (offline.session, offline.reason) == (1, "connection lost")
    assert kiosk.describe()["faults"]["offline"] is True
    # A command sent while away waits in the kiosk's session and runs after the reconnect.
    correlation = await gw.send("k-15", record("req-away"))
    await kiosk.apply_fault("online")
    replies = await gw.finished(correlation)
    assert isinstance(_completion(replies).outcome, Done)
    online = gw.kiosk_messages("k-15", Channel.STATUS)[-1]
    assert (online.status, online.session) == (Online.ONLINE, 2)


async def test_offline_mid_command_delivers_the_completion_after_reconnect(gw: Gateway, make_kiosk: MakeKiosk) -> None:
    kiosk = await make_kiosk("k-16", "endorsement")
    await kiosk.apply_fault("offline", ["mid"])
    correlation = await gw.send("k-16", endorsement("req-mid"))
    await gw.wait(lambda: any(s.status is Online.OFFLINE for s in gw.kiosk_messages("k-16", Channel.STATUS)))
    await _until(lambda: kiosk.counts["done"] == 1)  # the command runs on while the kiosk is away
    assert not any(isinstance(r, Completion) for r in gw.replies[correlation])
    await kiosk.apply_fault("online")
    replies = await gw.finished(correlation)
    assert [p.seq for p in replies if isinstance(p, Progress)] == [1, 2, 3, 4, 5, 6]
    assert isinstance(_completion(replies).outcome, Done)


async def test_online_calls_off_a_drop_armed_for_the_next_command(gw: Gateway, make_kiosk: MakeKiosk) -> None:
    """'offline mid' then 'online' before any command: the kiosk stays connected (nobody would bring it back)."""
    kiosk = await make_kiosk("k-18", "record_query")
    await kiosk.apply_fault("offline", ["mid"])
    await kiosk.apply_fault("online")
    assert isinstance(_completion(await gw.request("k-18", record("req-kept"))).outcome, Done)
    assert kiosk.connected and kiosk.session == 1
    assert not any(s.status is Online.OFFLINE for s in gw.kiosk_messages("k-18", Channel.STATUS))


async def test_restart_keeps_the_window_and_the_serial(gw: Gateway, make_kiosk: MakeKiosk, tmp_path: Path) -> None:
    kiosk = await make_kiosk("k-17", "record_query")
    first = _completion(await gw.request("k-17", record("req-r1"))).outcome
    await kiosk.apply_fault("restart")
    await kiosk.wait_online()
    await gw.wait(lambda: len(gw.kiosk_messages("k-17", Channel.STATUS)) >= 3)  # online 1, will 1, online 2
    statuses = [(s.status, s.session) for s in gw.kiosk_messages("k-17", Channel.STATUS)]
    assert (Online.OFFLINE, 1) in statuses and statuses[-1] == (Online.ONLINE, 2)
    (dup,) = await gw.request("k-17", record("req-r1"))
    assert isinstance(dup, Duplicate) and dup.outcome == first
    second = _completion(await gw.request("k-17", record("req-r2"))).outcome
    assert isinstance(second, Done) and second.serial == "K-17-00000002"
    stored = CommandWindow.from_json((tmp_path / "kiosks" / "k-17" / "window.json").read_text())
    assert {e.command_id for e in stored.entries()} == {"req-r1", "req-r2"}
    assert json.loads((tmp_path / "kiosks" / "k-17" / "kiosk.json").read_text())["counts"]["done"] == 2


@pytest.mark.parametrize(("stop_at", "expected"), [("card_inserted", "not_done"), ("printing", "done")])
async def test_restart_mid_command_settles_it_from_the_hardware(
    gw: Gateway, make_kiosk: MakeKiosk, stop_at: str, expected: str
) -> None:
    kiosk = await make_kiosk("k-18", "endorsement", timing=KioskTiming(heartbeat_interval=5, step_delay=0.2))
    correlation = await gw.send("k-18", endorsement("req-int"))
    await gw.wait(lambda: any(isinstance(r, Progress) and r.stage.value == stop_at for r in gw.replies[correlation]))
    await kiosk.apply_fault("restart")
    replies = await gw.finished(correlation)
    outcome = _completion(replies).outcome
    if expected == "done":
        assert isinstance(outcome, Done) and kiosk.counts["done"] == 1
    else:
        assert isinstance(outcome, NotDone) and outcome.reason is Reason.INTERRUPTED and kiosk.counts["done"] == 0
    (answer,) = await gw.request("k-18", QueryOutcome(time=now_utc(), command_id="req-int"))
    assert isinstance(answer, OutcomeAnswer) and answer.outcome == outcome


async def test_busy_kiosk_rejects_a_second_command(gw: Gateway, make_kiosk: MakeKiosk) -> None:
    await make_kiosk("k-19", "record_query", timing=KioskTiming(heartbeat_interval=5, step_delay=0.05))
    first = await gw.send("k-19", record("req-b1"))
    (busy,) = await gw.request("k-19", record("req-b2"))
    assert isinstance(busy, Rejected) and busy.reason is Reason.BUSY
    assert isinstance(_completion(await gw.finished(first)).outcome, Done)


async def test_fill_unknown_faults_and_bad_arguments(make_kiosk: MakeKiosk) -> None:
    kiosk = await make_kiosk("k-20", "collection", slots=3)
    assert slot_names(3) == ["A-01", "A-02", "A-03"] and slot_names(41)[-1] == "C-01"
    kiosk._record["slots"]["A-02"] = False
    await kiosk.apply_fault("fill", ["A-02"])
    assert kiosk.occupied_slots == ["A-01", "A-02", "A-03"]
    for name, args, message in [
        ("explode", [], "unknown fault"),
        ("fill", ["Z-99"], "no slot"),
        ("door", ["ajar"], "door takes one of"),
        ("paper_out", [], "has no paper"),
        ("offline", ["later"], "offline takes"),
        ("slow_ack", ["soon"], "takes a number"),
    ]:
        with pytest.raises(FaultError, match=message):
            await kiosk.apply_fault(name, args)


def test_broker_address() -> None:
    assert broker_address("mqtt://127.0.0.1:18830") == ("127.0.0.1", 18830)
    for bad in ("tcp://127.0.0.1:1", "mqtt://127.0.0.1", "mqtt://:1883", "mqtt://h:1/x", "mqtt://h:99999"):
        with pytest.raises(ValueError, match="expected mqtt://HOST:PORT"):
            broker_address(bad)
