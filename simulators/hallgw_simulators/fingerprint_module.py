"""State model of an AS608 / ZFM / R30x fingerprint module, and the fingers it sees.

Theory of operation
-------------------
:class:`As608Model` is sans-IO: it takes the commands the codec decodes in the
device role (:mod:`hallgw_protocols.fingerprint.as608`) and returns what the
module sends back: one acknowledgement, followed by data packets for an upload.
It holds what a module holds (reference/protocols.md section 2): a password, an
address, the system parameters (packet size and baud multiplier included), a
template library of ``library_size`` pages, the image buffer and two char
buffers. The finger on the sensor is set from outside (:meth:`As608Model.place`,
:meth:`As608Model.lift`), like the card slot of the ID card reader model.

What the module answers:

* GetImage (01): ``02`` with no finger; ``03`` when the sensor fails; else ``00``
  and the image buffer holds the finger's image. A light or moving finger still
  gives an image (faint or smeared): it is ImageToChar that refuses it.
* ImageToChar (02): ``15`` with no image; ``06`` (too messy) for a moving or
  a wet finger; ``07`` (too few feature points) for a light press, a dry finger
  or a finger covering less than half the sensor; else ``00`` and the char buffer holds the
  finger's features (512 bytes derived from the seed and the finger id, so the
  same finger always gives the same features).
* UpImage (0A): ``0F`` with no image, else ``00`` and the image at 4 bits per
  pixel in data packets of the module's packet size, the last one an end packet.
* VfyPwd (13): ``00`` or ``13`` (wrong password). While a non-zero password is
  unverified, every command but VfyPwd, HandShake and PortControl answers ``21``.
* ReadSysPara (0F), SetSysPara (0E: ``1A`` for an unknown parameter, ``1B`` for
  a value out of range; a new packet size takes effect at once), TemplateNum
  (1D), RegModel (05), Store (06), LoadChar (07), Search (04 and 1B), Match
  (03), DeleteChar (0C), Empty (0D), UpChar (08), DownChar (09), DownImage (0B),
  ReadIndexTable (1F), GetRandomCode (14), PortControl (17), HandShake (40).
* A known instruction with malformed parameters: ``01`` (error receiving the
  packet). An instruction the model does not implement: ``FC`` (unsupported
  command: the only "illegal instruction" code of the reference, [single source]).

Fingerprint images are synthesised (:func:`render_finger`): ridges along a
whorl, loop or arch flow field inside an elliptical finger on a light
background. The print (pattern, core, ridge period, warp) is fixed by (seed,
finger id); the noise by (seed, finger id, contact, coverage), so every image
is the same in every run. Two knobs make the captures a quality check must
rank (the grey levels and defects of each contact are in :data:`CONTACTS`):

* ``contact``:

  - ``good``: clean, dark ridges (grey 35) on light valleys (215), a little
    speckle.
  - ``light``: too little pressure: faint ridges (150 on 205) with many
    lighter pixels.
  - ``moving``: the finger slides by about two ridge periods during the
    capture: the print is averaged over seven points of the slide, so ridges
    across the slide wash out to mid grey and those along it survive.
  - ``dry``: thin, light ridges (95 on 222, the crests only) broken into
    fragments, with smooth gaps over about half the finger where the skin
    misses the glass.
  - ``wet``: fat ridges that merge over the valleys, valleys only as light as
    105, and dark blotches of sweat over about a third of the finger.

* ``coverage`` (0.1..1.0): the finger sits off to the right and a slanted
  sensor edge cuts away its left part: 1.0 is the whole finger, 0.3 a strip.

Drawing is vectorised (numpy): about 10 ms an image, 45 ms for a moving
finger; images are cached all the same.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import math
import random
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeAlias

import numpy as np
import numpy.typing as npt

from hallgw_protocols import LocalProtocolError
from hallgw_protocols.fingerprint.as608 import (
    DEFAULT_ADDRESS,
    IMAGE_HEIGHT,
    IMAGE_WIDTH,
    PACKET_SIZES,
    UART_IMAGE_SIZE,
    Acknowledgement,
    AnyAcknowledgement,
    AnyCommand,
    Command,
    Confirmation,
    DataPacket,
    DownloadChar,
    DownloadImage,
    GetImage,
    GrayImage,
    HandShake,
    ImageToChar,
    Instruction,
    PortControl,
    ReadSystemParameters,
    RegisterModel,
    Search,
    SetSystemParameter,
    StatusRegister,
    Store,
    SystemParameter,
    SystemParameters,
    SystemParametersReport,
    TemplateCount,
    UploadChar,
    UploadImage,
    VerifyPassword,
    pack_4bit,
    split_packets,
    unpack_4bit,
)

DEFAULT_LIBRARY_SIZE: Final = 300
"""Template pages of an AS608 (reference section 2.5)."""
CHAR_SIZE: Final = 512
"""Bytes in one char buffer on AS608/R30x (reference section 2.6)."""
CHAR_BUFFER_IDS: Final = (1, 2)
"""The AS608 has two char buffers; the codec accepts 1..6 (R503), the model refuses the rest."""
MATCH_SCORE: Final = 100
"""The score a match reports (the reference's worked Search answer)."""
MIN_COVERAGE: Final = 0.5
"""Below this fraction of the sensor, ImageToChar finds too few feature points."""
BACKGROUND: Final = 232
"""Grey of the bare sensor."""

Grid: TypeAlias = npt.NDArray[np.float64]
"""A float image the size of the sensor, or a scalar broadcast over one."""
Reply = list[AnyAcknowledgement | DataPacket]
"""What the module sends for one command: an acknowledgement, then any data packets."""


class Contact(enum.Enum):
    """How the finger lies on the sensor."""

    LIGHT = "light"
    """Too little pressure: a faint image with broken ridges."""
    GOOD = "good"
    MOVING = "moving"
    """The finger slides during the capture: a smeared image."""
    DRY = "dry"
    """Dry skin: thin, light ridges broken into fragments, with gaps where skin misses the glass."""
    WET = "wet"
    """Wet skin: fat ridges merging over the valleys, dark blotches, little valley contrast."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Finger:
    """A finger on the sensor. ``finger_id`` names a finger (e.g. "alice/right-index"): it fixes the print."""

    finger_id: str
    contact: Contact = Contact.GOOD
    coverage: float = 1.0
    """Fraction of the finger's area on the sensor (a finger placed off to one side)."""

    def __post_init__(self) -> None:
        if not self.finger_id:
            raise ValueError("a finger needs an id")
        if not 0.1 <= self.coverage <= 1.0:
            raise ValueError(f"coverage {self.coverage!r} outside 0.1..1.0")

    @property
    def readable(self) -> Confirmation:
        """What ImageToChar makes of this finger's image."""
        if self.contact in (Contact.MOVING, Contact.WET):
            return Confirmation.IMAGE_TOO_MESSY
        if self.contact in (Contact.LIGHT, Contact.DRY) or self.coverage < MIN_COVERAGE:
            return Confirmation.TOO_FEW_FEATURES
        return Confirmation.OK


@dataclasses.dataclass(slots=True)
class ModuleFaults:
    """Faults that change what the module answers (not how the bytes travel)."""

    lift_early: bool = False
    """The next GetImage answers no finger and the finger is gone: lifted before the capture."""
    sensor_failure: bool = False
    """Every GetImage answers 03 (failed to capture the finger)."""


# -- synthetic fingerprints ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class _Print:
    """The fixed shape of one finger's print, drawn from (seed, finger id)."""

    pattern: str
    core_x: float
    core_y: float
    axis_x: float
    axis_y: float
    period: float
    spiral: float
    """Whole ridge periods gained per turn around the core (whorls and loops)."""
    warp: float
    warp_phase: float
    tilt: float


def _print_of(seed: int, finger_id: str) -> _Print:
    rng = random.Random(f"hallsim/{seed}/finger/{finger_id}/shape")  # noqa: S311 - test data, not secrets
    return _Print(
        pattern=rng.choice(("whorl", "loop", "arch")),
        core_x=IMAGE_WIDTH / 2 + rng.uniform(-12, 12),
        core_y=IMAGE_HEIGHT / 2 + rng.uniform(-16, 16),
        axis_x=rng.uniform(92, 110),
        axis_y=rng.uniform(118, 134),
        period=rng.uniform(8.0, 10.0),
        spiral=rng.choice((-1.0, 1.0)),  # whole turns: the ridge phase stays continuous across atan2's cut
        warp=rng.uniform(2.0, 5.0),
        warp_phase=rng.uniform(0, math.tau),
        tilt=rng.uniform(-0.25, 0.25),
    )


def _phase(shape: _Print, x: Grid, y: Grid) -> Grid:
    """Ridge phase in ridge periods at each (x, y): its level lines are the ridges."""
    dx, dy = x - shape.core_x, y - shape.core_y
    # A tilted frame, plus a slow warp so no two ridges are exact copies.
    cos, sin = math.cos(shape.tilt), math.sin(shape.tilt)
    u = dx * cos - dy * sin
    v = dx * sin + dy * cos
    u = u + shape.warp * np.sin(v / 37.0 + shape.warp_phase)
    v = v + shape.warp * np.sin(u / 41.0 - shape.warp_phase)
    if shape.pattern == "whorl":
        distance = np.hypot(u, v * 0.85) + shape.spiral * shape.period * np.arctan2(v, u) / math.tau
    elif shape.pattern == "loop":
        # Rings around the core above it, ridges that open downwards below it.
        bend = np.where(v < 0, np.hypot(u, v), np.hypot(u, v * 0.3) + 0.6 * v)
        distance = bend + shape.spiral * shape.period * np.arctan2(v, np.abs(u) + 1e-9) / math.tau
    else:
        # Arches: rows of ridges bulging upwards over the core.
        distance = v + 28.0 * np.exp(-(u * u) / 3200.0)
    result: Grid = distance / shape.period
    return result


def _seed_of(key: str) -> int:
    """A numpy seed from a text key: the same key, the same noise, in every process."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")


def _blobs(rng: np.random.Generator, cell: float) -> Grid:
    """Smooth random patches about ``cell`` pixels across, values 0..1 (value noise, bilinear)."""
    rows, cols = int(IMAGE_HEIGHT / cell) + 2, int(IMAGE_WIDTH / cell) + 2
    coarse = rng.random((rows, cols))
    fy = np.arange(IMAGE_HEIGHT) / cell
    fx = np.arange(IMAGE_WIDTH) / cell
    iy, ix = fy.astype(np.intp), fx.astype(np.intp)
    ty, tx = fy - iy, fx - ix
    ty, tx = (ty * ty * (3 - 2 * ty))[:, None], (tx * tx * (3 - 2 * tx))[None, :]  # smoothstep: no creases
    top = coarse[iy][:, ix] * (1 - tx) + coarse[iy][:, ix + 1] * tx
    bottom = coarse[iy + 1][:, ix] * (1 - tx) + coarse[iy + 1][:, ix + 1] * tx
    result: Grid = top * (1 - ty) + bottom * ty
    return result


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Look:
    """How one contact prints: grey levels, ridge shape and defects. Fractions are 0..1."""

    valley: float
    """Grey of a valley (skin that does not touch the glass between ridges)."""
    ridge: float
    """Grey of a ridge in full contact."""
    width: float = 1.0
    """Ridge width against a normal press: below 1 thinner (dry skin), above 1 fatter until ridges merge (wet)."""
    grain: float = 0.0
    """Share of single ridge pixels that print lighter (pores, speckle)."""
    gaps: float = 0.0
    """Share of the finger where patches of skin miss the glass and the ridges break."""
    blotches: float = 0.0
    """Share of the finger under dark blotches of sweat."""
    smear: float = 0.0
    """Slide during the capture per step, in ridge periods; seven steps are averaged."""


CONTACTS: Final[Mapping[Contact, Look]] = {
    Contact.GOOD: Look(valley=215.0, ridge=35.0, grain=0.12),
    Contact.LIGHT: Look(valley=205.0, ridge=150.0, grain=0.55),
    Contact.MOVING: Look(valley=215.0, ridge=35.0, grain=0.12, smear=0.3),
    Contact.DRY: Look(valley=222.0, ridge=95.0, width=0.45, grain=0.4, gaps=0.45),
    Contact.WET: Look(valley=105.0, ridge=30.0, width=1.9, grain=0.03, blotches=0.35),
}
"""What each contact does to the print (the knobs of :func:`render_finger`)."""


@functools.cache
def render_finger(seed: int, finger: Finger) -> GrayImage:
    """The 256x288 8-bit image a module captures of ``finger``: deterministic from (seed, finger).

    Ridges are dark on a light background inside an elliptical finger with a
    soft edge; :data:`CONTACTS` says how each contact changes them, and a
    partial coverage keeps only the part of the finger on one side of a
    slanted edge. The whole image is drawn at once with numpy (a few ms; a
    moving finger, drawn at seven points of its slide, takes a few times
    longer). Images are cached.
    """
    shape = _print_of(seed, finger.finger_id)
    look = CONTACTS[finger.contact]
    key = f"hallsim/{seed}/finger/{finger.finger_id}/{finger.contact.value}/{finger.coverage}"
    rng = np.random.default_rng(_seed_of(key))
    y, x = np.mgrid[0:IMAGE_HEIGHT, 0:IMAGE_WIDTH].astype(np.float64)
    # Where the finger touches: an ellipse with a soft edge, cut by the sensor edge for a partial coverage.
    r2 = ((x - shape.core_x) / shape.axis_x) ** 2 + ((y - shape.core_y) / shape.axis_y) ** 2
    mask = np.clip((1.0 - r2) * 6.0, 0.0, 1.0)
    if finger.coverage < 1.0:
        # The finger sits off to the right; its edge moves in from the left.
        edge = -IMAGE_WIDTH * 0.1 + (1.0 - finger.coverage) * IMAGE_WIDTH * 1.1
        mask *= np.clip((x - edge - 0.2 * (y - IMAGE_HEIGHT / 2)) / 6.0, 0.0, 1.0)
    # Ridge-ness, 0 in a valley to 1 on a ridge's crest; a moving finger averages it along its slide.
    slide = [k * shape.period * look.smear for k in range(-3, 4)] if look.smear else [0.0]
    ridge = np.zeros_like(x)
    for s in slide:
        ridge += (1.0 - np.cos(math.tau * _phase(shape, x + s, y + s * 0.5))) / 2.0
    ridge /= len(slide)
    if look.width < 1.0:
        ridge = np.clip((ridge - (1.0 - look.width)) / look.width, 0.0, 1.0)  # only the crests print
    elif look.width > 1.0:
        ridge = np.clip(ridge * look.width, 0.0, 1.0)  # the crests spread into the valleys
    if look.gaps:
        # Patches of skin that miss the glass: the ridges break there, with soft ends.
        broken = np.clip((_blobs(rng, 7.0) - (1.0 - look.gaps)) * 6.0 + 0.5, 0.0, 1.0)
        ridge *= 1.0 - broken
    if look.grain:
        # Pores and speckle: single ridge pixels that print lighter.
        drop = rng.random(ridge.shape) < look.grain
        ridge = np.where(drop, ridge * rng.random(ridge.shape), ridge)
    level = look.valley + (look.ridge - look.valley) * ridge
    if look.blotches:
        # Sweat pooled on the glass: dark blotches over ridges and valleys alike.
        pool = np.clip((_blobs(rng, 16.0) - (1.0 - look.blotches)) * 5.0 + 0.5, 0.0, 1.0)
        level = level * (1.0 - pool) + (look.ridge - 5.0) * pool
    noise = (rng.random(mask.shape) - 0.5) * np.where(mask > 0.0, 10.0, 6.0)
    value = BACKGROUND * (1.0 - mask) + level * mask + noise
    pixels = np.clip(value, 0.0, 255.0).astype(np.uint8)
    return GrayImage(width=IMAGE_WIDTH, height=IMAGE_HEIGHT, pixels=pixels.tobytes())


def features_of(seed: int, finger_id: str) -> bytes:
    """The char-buffer features of a finger: 512 bytes, the same for every good capture of it."""
    out = bytearray()
    counter = 0
    while len(out) < CHAR_SIZE:
        out += hashlib.sha256(f"hallsim/{seed}/finger/{finger_id}/features/{counter}".encode()).digest()
        counter += 1
    return bytes(out[:CHAR_SIZE])


# -- the module ------------------------------------------------------------------------------


_OPEN_WITHOUT_PASSWORD: Final = frozenset({Instruction.VFY_PWD, Instruction.HANDSHAKE, Instruction.PORT_CONTROL})


def _ack(code: Confirmation, data: bytes = b"") -> Reply:
    return [Acknowledgement(confirmation=code, data=data)]


class As608Model:
    """What one AS608 module answers, given its settings, buffers, library, finger and faults."""

    def __init__(
        self,
        *,
        seed: int,
        password: int = 0,
        address: int = DEFAULT_ADDRESS,
        library_size: int = DEFAULT_LIBRARY_SIZE,
        security_level: int = 3,
        packet_size: int = 128,
        baud_multiplier: int = 6,
        system_id: int = 0,
    ) -> None:
        codes = {size: code for code, size in PACKET_SIZES.items()}
        if packet_size not in codes:
            raise ValueError(f"packet size {packet_size} is not one of {sorted(codes)}")
        self.seed = seed
        self.password = password
        self.address = address
        self.system_id = system_id
        self.library_size = library_size
        self.security_level = security_level
        self.packet_size_code = codes[packet_size]
        self.baud_multiplier = baud_multiplier
        self.library: dict[int, bytes] = {}
        """Stored templates by page."""
        self.char_buffers: dict[int, bytes] = {}
        self.image: GrayImage | None = None
        """The image buffer at 8 bits per pixel (what the sensor saw); the host gets its high nibbles."""
        self.image_finger: Finger | None = None
        """The finger the image buffer was captured from (None after a DownImage)."""
        self.finger: Finger | None = None
        self.faults = ModuleFaults()
        self._verified = False
        self._download: tuple[int, int, bytearray] | None = None
        """(instruction, buffer id, bytes so far) while the host streams a DownChar/DownImage."""
        self._rng = random.Random(f"hallsim/{seed}/as608/random")  # noqa: S311 - GetRandomCode is test data
        self.parameters  # noqa: B018 - validate the settings now, not at the first ReadSysPara

    # -- settings ------------------------------------------------------------------------
    @property
    def packet_size(self) -> int:
        """Bytes of data per data packet."""
        return PACKET_SIZES[self.packet_size_code]

    @property
    def parameters(self) -> SystemParameters:
        """The system parameters as ReadSysPara reports them now."""
        status = StatusRegister(0)
        if self._verified:
            status |= StatusRegister.PWD
        if self.image is not None:
            status |= StatusRegister.IMG_BUF_STAT
        return SystemParameters(
            status=int(status),
            system_id=self.system_id,
            library_size=self.library_size,
            security_level=self.security_level,
            address=self.address,
            packet_size_code=self.packet_size_code,
            baud_multiplier=self.baud_multiplier,
        )

    # -- the sensor ----------------------------------------------------------------------
    def place(self, finger_id: str, contact: Contact = Contact.GOOD, coverage: float = 1.0) -> None:
        """Put a finger on the sensor (replacing any finger there)."""
        self.finger = Finger(finger_id=finger_id, contact=contact, coverage=coverage)

    def press(self, contact: Contact) -> None:
        """Change how the finger on the sensor lies; raises ValueError with no finger."""
        if self.finger is None:
            raise ValueError("no finger on the sensor")
        self.finger = dataclasses.replace(self.finger, contact=contact)

    def lift(self) -> None:
        """Take the finger off the sensor."""
        self.finger = None

    def describe(self) -> dict[str, Any]:
        """Sensor and buffer state for the control protocol (never the pixels)."""
        finger = self.finger
        return {
            "finger": None
            if finger is None
            else {"id": finger.finger_id, "contact": finger.contact.value, "coverage": finger.coverage},
            "image": self.image is not None,
            "char_buffers": sorted(self.char_buffers),
            "templates": len(self.library),
            "packet_size": self.packet_size,
            "baud_multiplier": self.baud_multiplier,
        }

    # -- the protocol --------------------------------------------------------------------
    def bad_packet(self) -> Reply:
        """The answer to a packet that failed its checksum or length check."""
        return _ack(Confirmation.RECEIVE_ERROR)

    def handle(self, command: AnyCommand) -> Reply:
        """The module's answer to one command."""
        self._download = None  # a command ends any download the host left unfinished
        if self.password and not self._verified and command.instruction not in _OPEN_WITHOUT_PASSWORD:
            return _ack(Confirmation.PASSWORD_REQUIRED)
        if isinstance(command, Command):
            raw = _RAW_HANDLERS.get(command.instruction)
            if raw is not None:
                return raw(self, command.parameters)
            if command.known in _TYPED_INSTRUCTIONS:
                return _ack(Confirmation.RECEIVE_ERROR)  # a known command with malformed parameters
            return _ack(Confirmation.UNSUPPORTED)
        handler = _TYPED_HANDLERS[type(command)]
        return handler(self, command)

    def receive(self, packet: DataPacket) -> None:
        """A data packet from the host: part of a DownChar/DownImage, else ignored as a module does."""
        if self._download is None:
            return
        instruction, buffer_id, data = self._download
        data += packet.data
        limit = CHAR_SIZE if instruction == Instruction.DOWN_CHAR else UART_IMAGE_SIZE
        if len(data) > limit:
            self._download = None
            return
        if not packet.last:
            return
        self._download = None
        if instruction == Instruction.DOWN_CHAR:
            self.char_buffers[buffer_id] = bytes(data)
        elif len(data) == UART_IMAGE_SIZE:
            self.image = unpack_4bit(bytes(data))
            self.image_finger = None

    # -- typed commands --------------------------------------------------------------------
    def _get_image(self, _: GetImage) -> Reply:
        if self.faults.sensor_failure:
            return _ack(Confirmation.ENROLL_FAILED)
        if self.faults.lift_early and self.finger is not None:
            self.faults.lift_early = False
            self.finger = None
        if self.finger is None:
            return _ack(Confirmation.NO_FINGER)
        self.image = render_finger(self.seed, self.finger)
        self.image_finger = self.finger
        return _ack(Confirmation.OK)

    def _image_to_char(self, command: ImageToChar) -> Reply:
        if command.buffer_id not in CHAR_BUFFER_IDS:
            return _ack(Confirmation.RECEIVE_ERROR)
        if self.image is None:
            return _ack(Confirmation.NO_VALID_IMAGE)
        finger = self.image_finger
        if finger is None:
            # A downloaded image: features of its bytes, so the same image gives the same features.
            self.char_buffers[command.buffer_id] = features_of(self.seed, hashlib.sha256(self.image.pixels).hexdigest())
            return _ack(Confirmation.OK)
        verdict = finger.readable
        if verdict is Confirmation.OK:
            self.char_buffers[command.buffer_id] = features_of(self.seed, finger.finger_id)
        return _ack(verdict)

    def _upload_image(self, _: UploadImage) -> Reply:
        if self.image is None:
            return _ack(Confirmation.UPLOAD_IMAGE_FAILED)
        return [Acknowledgement(confirmation=Confirmation.OK), *split_packets(pack_4bit(self.image), self.packet_size)]

    def _download_image(self, _: DownloadImage) -> Reply:
        self._download = (Instruction.DOWN_IMAGE, 0, bytearray())
        return _ack(Confirmation.OK)

    def _upload_char(self, command: UploadChar) -> Reply:
        data = self.char_buffers.get(command.buffer_id)
        if data is None:
            return _ack(Confirmation.UPLOAD_TEMPLATE_FAILED)
        return [Acknowledgement(confirmation=Confirmation.OK), *split_packets(data, self.packet_size)]

    def _download_char(self, command: DownloadChar) -> Reply:
        if command.buffer_id not in CHAR_BUFFER_IDS:
            return _ack(Confirmation.CANNOT_RECEIVE_DATA)
        self._download = (Instruction.DOWN_CHAR, command.buffer_id, bytearray())
        return _ack(Confirmation.OK)

    def _register_model(self, _: RegisterModel) -> Reply:
        first, second = (self.char_buffers.get(i) for i in CHAR_BUFFER_IDS)
        if first is None or first != second:
            return _ack(Confirmation.COMBINE_FAILED)
        return _ack(Confirmation.OK)  # the template stays in both buffers

    def _store(self, command: Store) -> Reply:
        if command.page_id >= self.library_size:
            return _ack(Confirmation.BAD_PAGE_ID)
        data = self.char_buffers.get(command.buffer_id)
        if data is None:
            return _ack(Confirmation.BAD_TEMPLATE)
        self.library[command.page_id] = data
        return _ack(Confirmation.OK)

    def _search(self, command: Search) -> Reply:
        data = self.char_buffers.get(command.buffer_id)
        end = min(self.library_size, command.start_page + command.count)
        for page in range(command.start_page, end):
            if data is not None and self.library.get(page) == data:
                return _ack(Confirmation.OK, page.to_bytes(2, "big") + MATCH_SCORE.to_bytes(2, "big"))
        return _ack(Confirmation.NOT_FOUND, bytes(4))

    def _set_parameter(self, command: SetSystemParameter) -> Reply:
        value = command.value
        if command.parameter is SystemParameter.BAUD_MULTIPLIER and 1 <= value <= 12:
            self.baud_multiplier = value
        elif command.parameter is SystemParameter.SECURITY_LEVEL and 1 <= value <= 5:
            self.security_level = value
        elif command.parameter is SystemParameter.PACKET_SIZE_CODE and value in PACKET_SIZES:
            self.packet_size_code = value
        else:
            return _ack(Confirmation.BAD_REGISTER_CONFIG)
        return _ack(Confirmation.OK)

    def _read_parameters(self, _: ReadSystemParameters) -> Reply:
        return [SystemParametersReport(parameters=self.parameters)]

    def _verify_password(self, command: VerifyPassword) -> Reply:
        self._verified = command.password == self.password
        return _ack(Confirmation.OK if self._verified else Confirmation.WRONG_PASSWORD)

    def _template_count(self, _: TemplateCount) -> Reply:
        return _ack(Confirmation.OK, len(self.library).to_bytes(2, "big"))

    def _ok(self, _: PortControl | HandShake) -> Reply:
        return _ack(Confirmation.OK)

    # -- raw commands (no typed event in the codec) ----------------------------------------
    def _match(self, params: bytes) -> Reply:
        if params:
            return _ack(Confirmation.RECEIVE_ERROR)
        first, second = (self.char_buffers.get(i) for i in CHAR_BUFFER_IDS)
        if first is None or first != second:
            return _ack(Confirmation.NO_MATCH, bytes(2))
        return _ack(Confirmation.OK, MATCH_SCORE.to_bytes(2, "big"))

    def _load_char(self, params: bytes) -> Reply:
        if len(params) != 3 or params[0] not in CHAR_BUFFER_IDS:
            return _ack(Confirmation.RECEIVE_ERROR)
        page = int.from_bytes(params[1:3], "big")
        if page >= self.library_size:
            return _ack(Confirmation.BAD_PAGE_ID)
        if page not in self.library:
            return _ack(Confirmation.BAD_TEMPLATE)
        self.char_buffers[params[0]] = self.library[page]
        return _ack(Confirmation.OK)

    def _delete(self, params: bytes) -> Reply:
        if len(params) != 4:
            return _ack(Confirmation.RECEIVE_ERROR)
        start, count = int.from_bytes(params[0:2], "big"), int.from_bytes(params[2:4], "big")
        if count == 0 or start + count > self.library_size:
            return _ack(Confirmation.DELETE_FAILED)
        for page in range(start, start + count):
            self.library.pop(page, None)
        return _ack(Confirmation.OK)

    def _empty(self, params: bytes) -> Reply:
        if params:
            return _ack(Confirmation.RECEIVE_ERROR)
        self.library.clear()
        return _ack(Confirmation.OK)

    def _index_table(self, params: bytes) -> Reply:
        if len(params) != 1 or params[0] > 3:
            return _ack(Confirmation.RECEIVE_ERROR)
        bitmap = bytearray(32)
        for page in self.library:
            slot = page - params[0] * 256
            if 0 <= slot < 256:
                bitmap[slot // 8] |= 1 << (slot % 8)
        return _ack(Confirmation.OK, bytes(bitmap))

    def _random_code(self, params: bytes) -> Reply:
        if params:
            return _ack(Confirmation.RECEIVE_ERROR)
        return _ack(Confirmation.OK, self._rng.getrandbits(32).to_bytes(4, "big"))


_TYPED_HANDLERS: Final[dict[type, Callable[[As608Model, Any], Reply]]] = {
    GetImage: As608Model._get_image,
    ImageToChar: As608Model._image_to_char,
    UploadImage: As608Model._upload_image,
    DownloadImage: As608Model._download_image,
    UploadChar: As608Model._upload_char,
    DownloadChar: As608Model._download_char,
    RegisterModel: As608Model._register_model,
    Store: As608Model._store,
    Search: As608Model._search,
    SetSystemParameter: As608Model._set_parameter,
    ReadSystemParameters: As608Model._read_parameters,
    VerifyPassword: As608Model._verify_password,
    TemplateCount: As608Model._template_count,
    PortControl: As608Model._ok,
    HandShake: As608Model._ok,
}
"""Every typed command of the codec."""

_TYPED_INSTRUCTIONS: Final = frozenset(
    {
        Instruction.GEN_IMG,
        Instruction.IMG2TZ,
        Instruction.UP_IMAGE,
        Instruction.DOWN_IMAGE,
        Instruction.UP_CHAR,
        Instruction.DOWN_CHAR,
        Instruction.REG_MODEL,
        Instruction.STORE,
        Instruction.SEARCH,
        Instruction.SET_SYS_PARA,
        Instruction.READ_SYS_PARA,
        Instruction.VFY_PWD,
        Instruction.TEMPLATE_NUM,
        Instruction.PORT_CONTROL,
        Instruction.HANDSHAKE,
    }
)


def _high_speed_search(model: As608Model, params: bytes) -> Reply:
    if len(params) != 5:
        return _ack(Confirmation.RECEIVE_ERROR)
    try:
        search = Search.from_params(params)
    except (ValueError, LocalProtocolError):
        return _ack(Confirmation.RECEIVE_ERROR)
    return model._search(search)


def _bad_parameter(model: As608Model, params: bytes) -> Reply:
    # SetSysPara reaches here only when the codec did not know the parameter number.
    return _ack(Confirmation.BAD_REGISTER if len(params) == 2 else Confirmation.RECEIVE_ERROR)


_RAW_HANDLERS: Final[dict[int, Callable[[As608Model, bytes], Reply]]] = {
    Instruction.MATCH: As608Model._match,
    Instruction.LOAD_CHAR: As608Model._load_char,
    Instruction.DELETE_CHAR: As608Model._delete,
    Instruction.EMPTY: As608Model._empty,
    Instruction.READ_INDEX_TABLE: As608Model._index_table,
    Instruction.GET_RANDOM_CODE: As608Model._random_code,
    Instruction.HIGH_SPEED_SEARCH: _high_speed_search,
    Instruction.SET_SYS_PARA: _bad_parameter,
}
"""Instructions without a typed event in the codec that the model answers from raw parameters."""
