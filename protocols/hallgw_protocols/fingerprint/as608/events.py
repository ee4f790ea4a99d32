"""Typed events of the AS608 protocol: commands, acknowledgements and data packets.

A command's payload is its instruction byte followed by its parameters (all
multi-byte values big-endian); an acknowledgement's payload is a confirmation
code followed by return data (reference/protocols.md section 2.3).

Typed commands exist for the instructions the gateway uses; any other
instruction travels as a raw :class:`Command`. The device role decodes a known
instruction with well-formed parameters into its typed command and everything
else into :class:`Command`, so a simulator can answer it as a module would.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import ClassVar, Final, Self

from hallgw_protocols._common import LocalProtocolError
from hallgw_protocols.fingerprint.as608.codes import Confirmation, Instruction, confirmation_text
from hallgw_protocols.fingerprint.as608.packets import MAX_PAYLOAD
from hallgw_protocols.fingerprint.as608.sysparams import SystemParameter, SystemParameters

CHAR_BUFFERS: Final = range(1, 7)
"""CharBuffer ids: 1-2 on AS608/R30x, 1-6 on R503 [2+]. We accept the wider range; the module rejects the rest."""


def _check_byte(name: str, value: int) -> None:
    if not 0 <= value <= 0xFF:
        raise LocalProtocolError(f"{name} out of byte range: {value!r}")


def _check_u16(name: str, value: int) -> None:
    if not 0 <= value <= 0xFFFF:
        raise LocalProtocolError(f"{name} out of 16-bit range: {value!r}")


def _check_buffer(value: int) -> None:
    if value not in CHAR_BUFFERS:
        raise LocalProtocolError(f"char buffer {value!r} outside 1..6")


def _expect_size(cls: type, params: bytes, size: int) -> None:
    if len(params) != size:
        raise ValueError(f"{cls.__name__} takes {size} parameter bytes, got {len(params)}")


class _NoParams:
    """Mixin for commands that are the instruction byte alone."""

    __slots__ = ()

    def params(self) -> bytes:
        return b""

    @classmethod
    def from_params(cls, params: bytes) -> Self:
        _expect_size(cls, params, 0)
        return cls()


# -- commands ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    """Any command, by instruction code and raw parameters."""

    instruction: int
    parameters: bytes = b""

    def __post_init__(self) -> None:
        _check_byte("instruction", self.instruction)
        if 1 + len(self.parameters) > MAX_PAYLOAD:
            raise LocalProtocolError(f"command parameters of {len(self.parameters)} bytes are too long")

    @property
    def known(self) -> Instruction | None:
        """The instruction as a known code, or None."""
        try:
            return Instruction(self.instruction)
        except ValueError:
            return None

    def params(self) -> bytes:
        return self.parameters


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class GetImage(_NoParams):
    """GenImg (01): capture a finger image into the image buffer; NO_FINGER when the sensor is empty."""

    instruction: ClassVar[Instruction] = Instruction.GEN_IMG


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ImageToChar(_NoParams):
    """Img2Tz / GenChar (02): extract features from the image buffer into a char buffer."""

    instruction: ClassVar[Instruction] = Instruction.IMG2TZ
    buffer_id: int = 1

    def __post_init__(self) -> None:
        _check_buffer(self.buffer_id)

    def params(self) -> bytes:
        return bytes([self.buffer_id])

    @classmethod
    def from_params(cls, params: bytes) -> Self:
        _expect_size(cls, params, 1)
        return cls(buffer_id=params[0])


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class RegisterModel(_NoParams):
    """RegModel (05): combine char buffers into a template."""

    instruction: ClassVar[Instruction] = Instruction.REG_MODEL


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Store(_NoParams):
    """Store (06): save a char buffer's template at a library page."""

    instruction: ClassVar[Instruction] = Instruction.STORE
    buffer_id: int = 1
    page_id: int = 0

    def __post_init__(self) -> None:
        _check_buffer(self.buffer_id)
        _check_u16("page_id", self.page_id)

    def params(self) -> bytes:
        return bytes([self.buffer_id]) + self.page_id.to_bytes(2, "big")

    @classmethod
    def from_params(cls, params: bytes) -> Self:
        _expect_size(cls, params, 3)
        return cls(buffer_id=params[0], page_id=int.from_bytes(params[1:3], "big"))


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Search(_NoParams):
    """Search (04): look a char buffer up in ``count`` library pages from ``start_page``."""

    instruction: ClassVar[Instruction] = Instruction.SEARCH
    buffer_id: int = 1
    start_page: int = 0
    count: int

    def __post_init__(self) -> None:
        _check_buffer(self.buffer_id)
        _check_u16("start_page", self.start_page)
        _check_u16("count", self.count)

    def params(self) -> bytes:
        return bytes([self.buffer_id]) + self.start_page.to_bytes(2, "big") + self.count.to_bytes(2, "big")

    @classmethod
    def from_params(cls, params: bytes) -> Self:
        _expect_size(cls, params, 5)
        return cls(
            buffer_id=params[0],
            start_page=int.from_bytes(params[1:3], "big"),
            count=int.from_bytes(params[3:5], "big"),
        )


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class UploadChar(_NoParams):
    """UpChar (08): the module sends a char buffer as data packets after an OK acknowledgement."""

    instruction: ClassVar[Instruction] = Instruction.UP_CHAR
    buffer_id: int = 1

    def __post_init__(self) -> None:
        _check_buffer(self.buffer_id)

    def params(self) -> bytes:
        return bytes([self.buffer_id])

    @classmethod
    def from_params(cls, params: bytes) -> Self:
        _expect_size(cls, params, 1)
        return cls(buffer_id=params[0])


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class DownloadChar(_NoParams):
    """DownChar (09): after an OK acknowledgement the host sends a char buffer as data packets."""

    instruction: ClassVar[Instruction] = Instruction.DOWN_CHAR
    buffer_id: int = 1

    def __post_init__(self) -> None:
        _check_buffer(self.buffer_id)

    def params(self) -> bytes:
        return bytes([self.buffer_id])

    @classmethod
    def from_params(cls, params: bytes) -> Self:
        _expect_size(cls, params, 1)
        return cls(buffer_id=params[0])


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class UploadImage(_NoParams):
    """UpImage (0A): the module sends the image buffer as data packets after an OK acknowledgement."""

    instruction: ClassVar[Instruction] = Instruction.UP_IMAGE


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class DownloadImage(_NoParams):
    """DownImage (0B): after an OK acknowledgement the host sends an image as data packets."""

    instruction: ClassVar[Instruction] = Instruction.DOWN_IMAGE


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class SetSystemParameter(_NoParams):
    """SetSysPara (0E): write one system parameter."""

    instruction: ClassVar[Instruction] = Instruction.SET_SYS_PARA
    parameter: SystemParameter
    value: int

    def __post_init__(self) -> None:
        if not isinstance(self.parameter, SystemParameter):
            raise LocalProtocolError(f"unknown system parameter {self.parameter!r}")
        _check_byte("value", self.value)

    def params(self) -> bytes:
        return bytes([self.parameter, self.value])

    @classmethod
    def from_params(cls, params: bytes) -> Self:
        _expect_size(cls, params, 2)
        return cls(parameter=SystemParameter(params[0]), value=params[1])


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ReadSystemParameters(_NoParams):
    """ReadSysPara (0F): answered by :class:`SystemParametersReport`."""

    instruction: ClassVar[Instruction] = Instruction.READ_SYS_PARA


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class VerifyPassword(_NoParams):
    """VfyPwd (13): unlock the module; the default password is 0. [2+]"""

    instruction: ClassVar[Instruction] = Instruction.VFY_PWD
    password: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.password <= 0xFFFFFFFF:
            raise LocalProtocolError("password out of 32-bit range")

    def __repr__(self) -> str:
        return "VerifyPassword(password=<redacted>)"

    def params(self) -> bytes:
        return self.password.to_bytes(4, "big")

    @classmethod
    def from_params(cls, params: bytes) -> Self:
        _expect_size(cls, params, 4)
        return cls(password=int.from_bytes(params, "big"))


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class TemplateCount(_NoParams):
    """TemplateNum (1D): how many templates the library holds (2 bytes of return data)."""

    instruction: ClassVar[Instruction] = Instruction.TEMPLATE_NUM


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class PortControl(_NoParams):
    """Port_Control (17, AS608): pyfingerprint sends ``17 00`` as its "handshake"."""

    instruction: ClassVar[Instruction] = Instruction.PORT_CONTROL
    on: bool = False

    def params(self) -> bytes:
        return bytes([int(self.on)])

    @classmethod
    def from_params(cls, params: bytes) -> Self:
        _expect_size(cls, params, 1)
        if params[0] > 1:
            raise ValueError(f"port control takes 0 or 1, got {params[0]}")
        return cls(on=bool(params[0]))


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class HandShake(_NoParams):
    """HandShake (40, R503/R502): a liveness probe; OK means the module is ready."""

    instruction: ClassVar[Instruction] = Instruction.HANDSHAKE


TypedCommand = (
    GetImage
    | ImageToChar
    | RegisterModel
    | Store
    | Search
    | UploadChar
    | DownloadChar
    | UploadImage
    | DownloadImage
    | SetSystemParameter
    | ReadSystemParameters
    | VerifyPassword
    | TemplateCount
    | PortControl
    | HandShake
)
AnyCommand = Command | TypedCommand

_TYPED: Final[dict[int, Callable[[bytes], TypedCommand]]] = {
    Instruction.GEN_IMG: GetImage.from_params,
    Instruction.IMG2TZ: ImageToChar.from_params,
    Instruction.REG_MODEL: RegisterModel.from_params,
    Instruction.STORE: Store.from_params,
    Instruction.SEARCH: Search.from_params,
    Instruction.UP_CHAR: UploadChar.from_params,
    Instruction.DOWN_CHAR: DownloadChar.from_params,
    Instruction.UP_IMAGE: UploadImage.from_params,
    Instruction.DOWN_IMAGE: DownloadImage.from_params,
    Instruction.SET_SYS_PARA: SetSystemParameter.from_params,
    Instruction.READ_SYS_PARA: ReadSystemParameters.from_params,
    Instruction.VFY_PWD: VerifyPassword.from_params,
    Instruction.TEMPLATE_NUM: TemplateCount.from_params,
    Instruction.PORT_CONTROL: PortControl.from_params,
    Instruction.HANDSHAKE: HandShake.from_params,
}


def command_payload(command: AnyCommand) -> bytes:
    """The command packet payload: instruction byte, then parameters."""
    return bytes([command.instruction]) + command.params()


def decode_command(payload: bytes) -> AnyCommand:
    """A command payload as its typed command, or as a raw :class:`Command` when unknown or malformed."""
    instruction, params = payload[0], payload[1:]
    parse = _TYPED.get(instruction)
    if parse is not None:
        try:
            return parse(params)
        except (ValueError, LocalProtocolError):
            pass  # a malformed known command: the device model answers it (a module says RECEIVE_ERROR)
    return Command(instruction=instruction, parameters=params)


# -- acknowledgements and data ---------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Acknowledgement:
    """An acknowledge packet: confirmation code and return data.

    ``instruction`` is filled in by the host codec with the command this
    answers (the protocol has no sequence numbers: one command at a time).
    """

    confirmation: int
    data: bytes = b""
    instruction: int | None = dataclasses.field(default=None, compare=False)

    def __post_init__(self) -> None:
        _check_byte("confirmation", self.confirmation)
        if 1 + len(self.data) > MAX_PAYLOAD:
            raise LocalProtocolError(f"acknowledgement data of {len(self.data)} bytes is too long")

    @property
    def code(self) -> Confirmation | None:
        """The confirmation as a known code, or None for an unlisted one."""
        try:
            return Confirmation(self.confirmation)
        except ValueError:
            return None

    @property
    def ok(self) -> bool:
        return self.confirmation == Confirmation.OK

    @property
    def text(self) -> str:
        return confirmation_text(self.confirmation)

    def payload(self) -> bytes:
        return bytes([self.confirmation]) + self.data


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class SystemParametersReport:
    """The OK answer to ReadSysPara, decoded. A failing ReadSysPara arrives as a plain :class:`Acknowledgement`."""

    parameters: SystemParameters

    @property
    def confirmation(self) -> int:
        return Confirmation.OK

    @property
    def ok(self) -> bool:
        return True

    def payload(self) -> bytes:
        return bytes([Confirmation.OK]) + self.parameters.to_bytes()

    @classmethod
    def from_data(cls, data: bytes) -> SystemParametersReport:
        return cls(parameters=SystemParameters.from_bytes(data))


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class DataPacket:
    """One data packet (PID 02), or the last one of a transfer (PID 08) when ``last``.

    The repr leaves the data out: it may be part of a fingerprint image.
    """

    data: bytes
    last: bool = False

    def __post_init__(self) -> None:
        if not 1 <= len(self.data) <= MAX_PAYLOAD:
            raise LocalProtocolError(f"data packet of {len(self.data)} bytes outside 1..{MAX_PAYLOAD}")

    def __repr__(self) -> str:
        return f"DataPacket(<{len(self.data)} bytes>, last={self.last})"


AnyAcknowledgement = Acknowledgement | SystemParametersReport
Event = AnyCommand | AnyAcknowledgement | DataPacket


def decode_acknowledgement(payload: bytes, instruction: int | None) -> AnyAcknowledgement:
    """An acknowledge payload, typed by the command it answers. Bad return data is the module's fault."""
    confirmation, data = payload[0], payload[1:]
    if instruction == Instruction.READ_SYS_PARA and confirmation == Confirmation.OK:
        return SystemParametersReport.from_data(data)
    return Acknowledgement(confirmation=confirmation, data=data, instruction=instruction)
