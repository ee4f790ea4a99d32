"""The AS608 connection: typed commands on the reference's worked packets, the host exchange table, resync."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hallgw_protocols import NEED_DATA, LocalProtocolError, RemoteProtocolError, Role
from hallgw_protocols.fingerprint.as608 import (
    HOST_TRANSITIONS,
    Acknowledgement,
    AnyCommand,
    As608Connection,
    Command,
    Confirmation,
    DataPacket,
    DownloadImage,
    Event,
    ExchangeInput,
    ExchangeState,
    GetImage,
    HandShake,
    ImageToChar,
    Instruction,
    Packet,
    PacketId,
    PortControl,
    ReadSystemParameters,
    RegisterModel,
    Search,
    SetSystemParameter,
    Store,
    SystemParameter,
    SystemParameters,
    SystemParametersReport,
    TemplateCount,
    UploadImage,
    VerifyPassword,
)
from hallgw_protocols.fingerprint.as608.connection import REMOTE_INPUTS

# Typed commands against the worked packets of reference/protocols.md 2.2.
REFERENCE_COMMANDS: list[tuple[AnyCommand, str]] = [
    (GetImage(), "EF 01 FF FF FF FF 01 00 03 01 00 05"),
    (ImageToChar(buffer_id=1), "EF 01 FF FF FF FF 01 00 04 02 01 00 08"),
    (RegisterModel(), "EF 01 FF FF FF FF 01 00 03 05 00 09"),
    (Store(buffer_id=1, page_id=0), "EF 01 FF FF FF FF 01 00 06 06 01 00 00 00 0E"),
    (Search(buffer_id=1, start_page=0, count=163), "EF 01 FF FF FF FF 01 00 08 04 01 00 00 00 A3 00 B1"),
    (VerifyPassword(password=0), "EF 01 FF FF FF FF 01 00 07 13 00 00 00 00 00 1B"),
    (ReadSystemParameters(), "EF 01 FF FF FF FF 01 00 03 0F 00 13"),
    (TemplateCount(), "EF 01 FF FF FF FF 01 00 03 1D 00 21"),
    (UploadImage(), "EF 01 FF FF FF FF 01 00 03 0A 00 0E"),
    (Command(instruction=Instruction.READ_INDEX_TABLE, parameters=b"\x00"), "EF 01 FF FF FF FF 01 00 04 1F 00 00 24"),
]
ACK_OK = bytes.fromhex("EF 01 FF FF FF FF 07 00 03 00 00 0A")
ACK_NO_FINGER = bytes.fromhex("EF 01 FF FF FF FF 07 00 03 02 00 0C")
ACK_SEARCH_FOUND = bytes.fromhex("EF 01 FF FF FF FF 07 00 07 00 00 05 00 64 00 77")

PARAMS = SystemParameters(
    status=0x0004,
    system_id=0x0000,
    library_size=300,
    security_level=3,
    address=0xFFFFFFFF,
    packet_size_code=2,
    baud_multiplier=6,
)


def drain(conn: As608Connection) -> list[Event]:
    events: list[Event] = []
    while (event := conn.next_event()) is not NEED_DATA:
        assert not isinstance(event, type(NEED_DATA))
        events.append(event)
    return events


def state_of(conn: As608Connection) -> ExchangeState:
    """The state, read through a call so that mypy does not keep an earlier narrowing."""
    return conn.state


def host_after(command: AnyCommand, *acks: bytes) -> As608Connection:
    host = As608Connection(Role.HOST)
    host.send(command)
    for ack in acks:
        host.receive_data(ack)
    drain(host)
    return host


@pytest.mark.parametrize(("command", "wire"), REFERENCE_COMMANDS)
def test_reference_commands_go_out_byte_for_byte_and_come_back_typed(command: AnyCommand, wire: str) -> None:
    host = As608Connection(Role.HOST)
    raw = host.send(command)
    assert raw == bytes.fromhex(wire)
    assert host.state is ExchangeState.AWAITING_ACK
    assert host.pending == command.instruction
    device = As608Connection(Role.DEVICE)
    device.receive_data(raw)
    assert drain(device) == [command]


def test_handshakes_and_parameter_commands_encode_their_parameters() -> None:
    host = As608Connection(Role.HOST)
    assert host.send(HandShake())[6:10] == b"\x01\x00\x03\x40"
    host.abandon()
    assert host.send(PortControl(on=False))[9:11] == b"\x17\x00"
    host.abandon()
    raw = host.send(SetSystemParameter(parameter=SystemParameter.PACKET_SIZE_CODE, value=3))
    assert raw[9:12] == b"\x0e\x06\x03"


def test_the_password_stays_out_of_reprs() -> None:
    assert "1234" not in repr(VerifyPassword(password=1234))


def test_acknowledgements_carry_their_meaning_and_the_command_they_answer() -> None:
    host = As608Connection(Role.HOST)
    host.send(GetImage())
    host.receive_data(ACK_NO_FINGER)
    (ack,) = drain(host)
    assert isinstance(ack, Acknowledgement)
    assert ack.code is Confirmation.NO_FINGER
    assert not ack.ok
    assert ack.text == "no finger on the sensor"
    assert ack.instruction == Instruction.GEN_IMG
    assert host.state is ExchangeState.IDLE
    assert host.pending is None


def test_search_acknowledgement_keeps_its_return_data() -> None:
    host = As608Connection(Role.HOST)
    host.send(Search(count=163))
    host.receive_data(ACK_SEARCH_FOUND)
    (ack,) = drain(host)
    assert isinstance(ack, Acknowledgement)
    assert ack.ok
    assert int.from_bytes(ack.data[:2], "big") == 5
    assert int.from_bytes(ack.data[2:], "big") == 100


def test_the_device_sends_the_reference_acknowledgements() -> None:
    device = As608Connection(Role.DEVICE)
    assert device.send(Acknowledgement(confirmation=Confirmation.OK)) == ACK_OK
    assert device.send(Acknowledgement(confirmation=Confirmation.NO_FINGER)) == ACK_NO_FINGER
    assert device.send(Acknowledgement(confirmation=0, data=bytes.fromhex("0005 0064"))) == ACK_SEARCH_FOUND


def test_system_parameters_report_is_decoded_for_read_sys_para() -> None:
    device = As608Connection(Role.DEVICE)
    wire = device.send(SystemParametersReport(parameters=PARAMS))
    assert len(wire) == 28  # "total packet 28 bytes"
    assert wire[7:9] == b"\x00\x13"
    host = As608Connection(Role.HOST)
    host.send(ReadSystemParameters())
    host.receive_data(wire)
    (report,) = drain(host)
    assert isinstance(report, SystemParametersReport)
    assert report.parameters == PARAMS
    assert report.parameters.packet_size == 128
    assert report.parameters.baud == 57600


def test_a_failed_read_sys_para_is_a_plain_acknowledgement() -> None:
    host = host_after(ReadSystemParameters())
    host.receive_data(Packet(pid=PacketId.ACK, payload=b"\x01").to_bytes())
    (ack,) = drain(host)
    assert isinstance(ack, Acknowledgement)
    assert ack.code is Confirmation.RECEIVE_ERROR


def test_a_short_system_parameters_block_is_the_modules_fault() -> None:
    host = host_after(ReadSystemParameters())
    wire = Packet(pid=PacketId.ACK, payload=b"\x00" + bytes(10)).to_bytes()
    host.receive_data(wire)
    with pytest.raises(RemoteProtocolError, match="16") as info:
        host.next_event()
    assert info.value.discarded == len(wire)
    assert host.state is ExchangeState.IDLE
    assert host.buffered == 0


def test_upload_exchange_runs_through_receiving_data_until_the_end_packet() -> None:
    host = As608Connection(Role.HOST)
    device = As608Connection(Role.DEVICE)
    device.receive_data(host.send(UploadImage()))
    assert drain(device) == [UploadImage()]
    host.receive_data(device.send(Acknowledgement(confirmation=0)))
    assert drain(host) == [Acknowledgement(confirmation=0)]
    assert host.state is ExchangeState.RECEIVING_DATA
    host.receive_data(device.send(DataPacket(data=b"\x12" * 128)))
    host.receive_data(device.send(DataPacket(data=b"\x34" * 128, last=True)))
    packets = drain(host)
    assert packets == [DataPacket(data=b"\x12" * 128), DataPacket(data=b"\x34" * 128, last=True)]
    assert state_of(host) is ExchangeState.IDLE


def test_refused_upload_returns_to_idle() -> None:
    host = host_after(UploadImage())
    host.receive_data(Packet(pid=PacketId.ACK, payload=bytes([Confirmation.UPLOAD_IMAGE_FAILED])).to_bytes())
    (ack,) = drain(host)
    assert isinstance(ack, Acknowledgement)
    assert ack.code is Confirmation.UPLOAD_IMAGE_FAILED
    assert host.state is ExchangeState.IDLE


def test_download_exchange_lets_the_host_stream_data() -> None:
    host = host_after(DownloadImage(), ACK_OK)
    assert host.state is ExchangeState.SENDING_DATA
    device = As608Connection(Role.DEVICE)
    device.receive_data(host.send(DataPacket(data=b"\x01\x02")))
    device.receive_data(host.send(DataPacket(data=b"\x03", last=True)))
    assert drain(device) == [DataPacket(data=b"\x01\x02"), DataPacket(data=b"\x03", last=True)]
    assert state_of(host) is ExchangeState.IDLE


# -- the exchange table, walked pair by pair ---------------------------------------------------

_COMMAND_FOR_INPUT: dict[ExchangeInput, AnyCommand] = {
    ExchangeInput.RECEIVE_ACK_DATA_FOLLOWS: UploadImage(),
    ExchangeInput.RECEIVE_ACK_SEND_DATA: DownloadImage(),
}


def reach(state: ExchangeState, step: ExchangeInput) -> As608Connection:
    host = As608Connection(Role.HOST)
    if state is ExchangeState.AWAITING_ACK:
        host.send(_COMMAND_FOR_INPUT.get(step, GetImage()))
    elif state is ExchangeState.RECEIVING_DATA:
        host.send(UploadImage())
        host.receive_data(ACK_OK)
        drain(host)
    elif state is ExchangeState.SENDING_DATA:
        host.send(DownloadImage())
        host.receive_data(ACK_OK)
        drain(host)
    assert host.state is state
    return host


def _feed(wire: bytes) -> Callable[[As608Connection], object]:
    def apply(host: As608Connection) -> object:
        host.receive_data(wire)
        return drain(host)

    return apply


APPLY: dict[ExchangeInput, Callable[[As608Connection], object]] = {
    ExchangeInput.SEND_COMMAND: lambda host: host.send(GetImage()),
    ExchangeInput.RECEIVE_ACK: _feed(ACK_NO_FINGER),
    ExchangeInput.RECEIVE_ACK_DATA_FOLLOWS: _feed(ACK_OK),
    ExchangeInput.RECEIVE_ACK_SEND_DATA: _feed(ACK_OK),
    ExchangeInput.RECEIVE_DATA: _feed(Packet(pid=PacketId.DATA, payload=b"\x00").to_bytes()),
    ExchangeInput.RECEIVE_END: _feed(Packet(pid=PacketId.END, payload=b"\x00").to_bytes()),
    ExchangeInput.SEND_DATA: lambda host: host.send(DataPacket(data=b"\x00")),
    ExchangeInput.SEND_END: lambda host: host.send(DataPacket(data=b"\x00", last=True)),
    ExchangeInput.ABANDON: lambda host: host.abandon(),
}


@pytest.mark.parametrize("state", list(ExchangeState))
@pytest.mark.parametrize("step", list(ExchangeInput))
def test_every_state_input_pair_follows_the_table(state: ExchangeState, step: ExchangeInput) -> None:
    host = reach(state, step)
    target = HOST_TRANSITIONS.get((state, step))
    if target is not None:
        APPLY[step](host)
        assert host.state is target
        return
    error = RemoteProtocolError if step in REMOTE_INPUTS else LocalProtocolError
    with pytest.raises(error):
        APPLY[step](host)
    assert host.state is state


def test_roles_refuse_what_they_never_send() -> None:
    with pytest.raises(LocalProtocolError, match="host"):
        As608Connection(Role.HOST).send(Acknowledgement(confirmation=0))
    with pytest.raises(LocalProtocolError, match="device"):
        As608Connection(Role.DEVICE).send(GetImage())
    with pytest.raises(LocalProtocolError, match="while awaiting"):
        host_after(GetImage()).send(GetImage())


def test_wrong_direction_packets_are_consumed_and_reported() -> None:
    host = As608Connection(Role.HOST)
    wire = bytes.fromhex(REFERENCE_COMMANDS[0][1])
    host.receive_data(wire + ACK_OK)
    with pytest.raises(RemoteProtocolError, match="command packet") as info:
        host.next_event()
    assert info.value.discarded == len(wire)
    device = As608Connection(Role.DEVICE)
    device.receive_data(ACK_OK)
    with pytest.raises(RemoteProtocolError, match="acknowledge"):
        device.next_event()
    assert device.buffered == 0


def test_malformed_known_commands_reach_the_device_raw() -> None:
    device = As608Connection(Role.DEVICE)
    device.receive_data(Packet(pid=PacketId.COMMAND, payload=b"\x02\x01\x01").to_bytes())
    device.receive_data(Packet(pid=PacketId.COMMAND, payload=b"\x0e\x09\x01").to_bytes())
    device.receive_data(Packet(pid=PacketId.COMMAND, payload=b"\x02\x09").to_bytes())
    device.receive_data(Packet(pid=PacketId.COMMAND, payload=b"\x99").to_bytes())
    assert drain(device) == [
        Command(instruction=0x02, parameters=b"\x01\x01"),
        Command(instruction=0x0E, parameters=b"\x09\x01"),
        Command(instruction=0x02, parameters=b"\x09"),
        Command(instruction=0x99),
    ]


# -- reassembly and resynchronisation ----------------------------------------------------------


def test_byte_at_a_time_delivery() -> None:
    host = host_after(GetImage())
    for i, b in enumerate(ACK_NO_FINGER):
        host.receive_data(bytes([b]))
        events = drain(host)
        assert (events != []) == (i == len(ACK_NO_FINGER) - 1)
    assert host.discarded_bytes == 0


def test_garbage_and_power_on_byte_before_a_packet_are_dropped() -> None:
    host = host_after(GetImage())
    host.receive_data(b"\x55\x00\x12\xef")
    assert host.next_event() is NEED_DATA
    assert host.buffered == 1  # a trailing EF may start a header
    host.receive_data(b"\x99" + ACK_OK)
    assert drain(host) == [Acknowledgement(confirmation=0)]
    assert host.discarded_bytes == 5


def test_bad_checksum_resyncs_to_the_next_header() -> None:
    host = host_after(GetImage())
    corrupt = ACK_NO_FINGER[:-1] + b"\x00"
    host.receive_data(corrupt + ACK_OK)
    with pytest.raises(RemoteProtocolError, match="checksum") as info:
        host.next_event()
    assert info.value.discarded == 1
    assert drain(host) == [Acknowledgement(confirmation=0)]
    assert host.discarded_bytes == len(corrupt)
    assert host.protocol_errors == 1


@pytest.mark.parametrize(
    "false_header",
    [
        b"\xef\x01\xff\xff\xff\xff\x03\x00\x03",
        b"\xef\x01\xff\xff\xff\xff\x07\x02\x00",
        b"\xef\x01\x00\x00\x00\x00\x07\x00\x01",
    ],
)
def test_bad_pid_or_length_costs_one_byte(false_header: bytes) -> None:
    host = host_after(GetImage())
    host.receive_data(false_header + ACK_OK)
    with pytest.raises(RemoteProtocolError, match=r"identifier|length") as info:
        host.next_event()
    assert info.value.discarded == 1
    assert drain(host) == [Acknowledgement(confirmation=0)]


def test_buffer_is_capped() -> None:
    host = As608Connection(Role.HOST, buffer_cap=1000)
    host.receive_data(b"\xef" * 5000)
    assert host.buffered == 1000
    assert host.discarded_bytes == 4000
    with pytest.raises(LocalProtocolError):
        As608Connection(Role.HOST, buffer_cap=100)


def test_abandon_drops_a_late_answer() -> None:
    host = host_after(UploadImage(), ACK_OK)
    host.receive_data(Packet(pid=PacketId.DATA, payload=b"\x00" * 64).to_bytes()[:30])
    host.abandon()
    assert host.state is ExchangeState.IDLE
    assert host.buffered == 0
    assert host.pending is None


def test_outgoing_packets_carry_the_configured_address() -> None:
    host = As608Connection(Role.HOST, address=0x12345678)
    assert host.send(GetImage())[2:6] == b"\x12\x34\x56\x78"
