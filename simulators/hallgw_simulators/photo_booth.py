"""A simulated photo machine: the scripted applicant of the camera, drawn by the photo-scene composer.

:func:`booth_camera` joins :mod:`hallgw_simulators.camera_device` (the MJPEG
camera and its :class:`~hallgw_simulators.camera_device.Timeline`) to
:mod:`hallgw_simulators.photo_scene` (the composed portrait). Scripts:

- ``walk_in`` (:data:`~hallgw_simulators.camera_device.DEFAULT_SCRIPT`): the
  applicant walks in small and far left, sits too far left and tilted,
  corrects, then holds still for five seconds. A capture started with the
  script hears MOVE_CLOSER, then MOVE_LEFT (the head is in the image's left
  part: the applicant's right), then HOLD_STILL, and gets its photo;
- ``still``: a compliant applicant from the first frame.

The script's ``scale`` is relative to the ideal head size (1.0), which the
composer's :data:`~hallgw_simulators.photo_scene.COMPLIANT` gives as a share of
the frame height.

The studio lights matter: ``lit`` (a callable, usually "the station's DMX
widget has channels up") says whether the booth is lit. Unlit, the scene is
drawn at :data:`UNLIT_GAIN` of its light, too dark for the standard, so a
capture without working lights is told MORE_LIGHT, as in a real booth.

Frames with the same parameters are drawn once and reused (the still parts of
a script cost only their JPEG encoding): the composer takes about 40 ms for a
1280x720 frame, and a hall has several cameras.

:func:`write_booth_video` writes the same script as an MJPG ``.avi`` for a
camera read from a file (``camera:///PATH?loop=1``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from hallgw_simulators.camera_device import (
    DEFAULT_FPS,
    DEFAULT_SCRIPT,
    DEFAULT_SIZE,
    CameraDevice,
    FrameContext,
    Image,
    Timeline,
    lerp_fields,
    scripted,
    write_video,
)
from hallgw_simulators.faults import FaultArg, FaultError
from hallgw_simulators.photo_scene import COMPLIANT, SceneParams, compose

__all__ = ["SCRIPTS", "UNLIT_GAIN", "VideoFileCamera", "booth_camera", "booth_renderer", "write_booth_video"]

Script = tuple[tuple[float, dict[str, float]], ...]

SCRIPTS: Final[Mapping[str, Script]] = {
    "walk_in": DEFAULT_SCRIPT,
    "still": ((5.0, {"offset_x": 0.0, "offset_y": 0.0, "scale": 1.0, "roll_deg": 0.0}),),
}
"""The scripts a scenario's camera can play, by name."""
UNLIT_GAIN: Final = 0.35
"""The scene's light with the studio lights off: the face too dark for the exposure check."""


def _always_lit() -> bool:
    return True


def booth_renderer(
    script: str, *, seed: int, lit: Callable[[], bool] = _always_lit, loop: bool = False
) -> Callable[[FrameContext], Image]:
    """A renderer playing ``script`` (a name of :data:`SCRIPTS`); ValueError for an unknown name."""
    if script not in SCRIPTS:
        raise ValueError(f"unknown camera script {script!r}; known: {', '.join(SCRIPTS)}")
    timeline = Timeline(SCRIPTS[script], loop=loop, interpolate=lerp_fields())
    cache: dict[SceneParams, tuple[tuple[int, int], Image]] = {}

    def draw(p: dict[str, float], ctx: FrameContext) -> Image:
        params = SceneParams(
            offset_x=round(p["offset_x"], 4),
            offset_y=round(p["offset_y"], 4),
            scale=round(p["scale"] * COMPLIANT.scale, 4),
            roll_deg=round(p["roll_deg"], 2),
            second_face=ctx.two_faces,
            light=1.0 if lit() else UNLIT_GAIN,
        )
        hit = cache.get(params)
        if hit is not None and hit[0] == ctx.size:
            return hit[1]
        frame = compose(params, size=ctx.size, seed=seed)
        cache.clear()  # one entry: the frame of the moment
        cache[params] = (ctx.size, frame)
        return frame

    return scripted(timeline, draw)


def booth_camera(
    device_id: str,
    *,
    script: str = "walk_in",
    seed: int = 0,
    lit: Callable[[], bool] = _always_lit,
    fps: float = DEFAULT_FPS,
    size: tuple[int, int] = DEFAULT_SIZE,
    port: int = 0,
    station: str | None = None,
    name: str | None = None,
) -> CameraDevice:
    """A photo machine's camera serving ``script`` as MJPEG over HTTP (restart it when a capture begins)."""
    return CameraDevice(
        device_id=device_id,
        render=booth_renderer(script, seed=seed, lit=lit),
        fps=fps,
        size=size,
        port=port,
        station=station,
        name=name,
    )


def write_booth_video(
    path: Path,
    *,
    script: str = "walk_in",
    seed: int = 0,
    fps: float = DEFAULT_FPS,
    size: tuple[int, int] = DEFAULT_SIZE,
) -> int:
    """Write ``script`` as an MJPG ``.avi`` (every frame of it, lights on); the number of frames."""
    render = booth_renderer(script, seed=seed)
    total = int(sum(d for d, _ in SCRIPTS[script]) * fps)
    frames = (render(FrameContext(t=i / fps, index=i, size=size)) for i in range(total))
    return write_video(path, frames, fps=fps)


class VideoFileCamera:
    """A camera whose frames come from a video file: the script written once as MJPG, read in a loop.

    The daemon's link is ``camera:///PATH?loop=1``: OpenCV reads the file at
    its frame rate and starts over at its end, as a camera that keeps filming
    the same applicant. The file is written at :meth:`start` (deterministic
    from the seed, kept across restarts of the hall). It takes no faults.
    """

    kind: Final = "camera"

    def __init__(
        self,
        device_id: str,
        *,
        path: Path,
        script: str = "walk_in",
        seed: int = 0,
        fps: float = DEFAULT_FPS,
        size: tuple[int, int] = DEFAULT_SIZE,
        station: str | None = None,
        name: str | None = None,
    ) -> None:
        if script not in SCRIPTS:
            raise ValueError(f"unknown camera script {script!r}; known: {', '.join(SCRIPTS)}")
        self.device_id = device_id
        self.path = path.resolve()
        self.script = script
        self.seed = seed
        self.fps = fps
        self.size = size
        self.station = station
        self.name = name
        self.frames = 0

    @property
    def link_url(self) -> str:
        return f"camera://{self.path}?loop=1"

    async def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        staging = self.path.with_name(f".{self.path.stem}.new{self.path.suffix}")
        self.frames = write_booth_video(staging, script=self.script, seed=self.seed, fps=self.fps, size=self.size)
        staging.replace(self.path)

    async def stop(self) -> None:
        return None

    async def apply_fault(self, name: str, args: Sequence[FaultArg] = ()) -> None:
        raise FaultError(f"{self.device_id} plays a video file and takes no faults (a camera on http does)")

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.device_id,
            "kind": self.kind,
            "station": self.station,
            "transport": "file",
            "link": self.link_url,
            "script": self.script,
            "frames": self.frames,
            "fps": self.fps,
            "size": list(self.size),
        }
