"""Structured logging: structlog's production recipe plus one redaction processor.

JSON lines on stdout (for journald) or console rendering on a TTY; stdlib
loggers (grpc, asyncio) go through the same chain. :func:`redact` is applied
to every event so personal data cannot reach a log line even if a caller
passes it by mistake: sensitive keys are replaced, byte blobs reduced to their
length, and anything shaped like an ID or card number is masked in text.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, Final, Literal

import structlog
from structlog.typing import FilteringBoundLogger

SENSITIVE_KEYS: Final = frozenset(
    {
        "name",
        "english_name",
        "chinese_name",
        "address",
        "id_number",
        "card_number",
        "birth_date",
        "photo",
        "fingerprint",
        "text",
        "mrz",
        "travel_permit_number",
        "previous_card_link",
        "identity_card",
        "payment_code",
    }
)
"""Keys whose values are personal data wherever they appear."""

REDACTED: Final = "[redacted]"

# Citizen ID numbers (18, last may be X; old 15-digit form), foreign permanent
# resident card numbers (3 letters + 12 digits) and any other run of 9 or more
# digits. Every one of them contains nine digits in a row: the cheap pre-check.
_NINE_DIGITS: Final = re.compile(r"\d{9}")
_NUMBER_LIKE: Final = re.compile(r"[A-Z]{3}\d{12}|\d{9,}[Xx]?")
_PLAIN: Final = (int, float, bool, type(None))


def _scrub_text(value: str) -> str:
    return _NUMBER_LIKE.sub("[redacted-number]", value) if _NINE_DIGITS.search(value) else value


def _scrub(value: object) -> object:
    if isinstance(value, str):
        return _scrub_text(value)
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value)} bytes>"
    if isinstance(value, Mapping):
        return {k: (REDACTED if k in SENSITIVE_KEYS else _scrub(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return _scrub_text(str(value))


def redact(_logger: object, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: remove personal data from an event (see module doc)."""
    for key, value in event_dict.items():  # values are replaced in place; no key is added or removed
        if key in SENSITIVE_KEYS:
            event_dict[key] = REDACTED
        elif type(value) is str:
            if _NINE_DIGITS.search(value):
                event_dict[key] = _NUMBER_LIKE.sub("[redacted-number]", value)
        elif not isinstance(value, _PLAIN):
            event_dict[key] = _scrub(value)
    return event_dict


def configure_logging(
    *, level: str = "info", fmt: Literal["auto", "json", "console"] = "auto", stream: Any = None
) -> None:
    """Set up structlog and the stdlib root logger once, at start-up.

    The daemon's own events take structlog's native path (a filtering bound
    logger writing straight to the stream: one line costs a few microseconds,
    which matters with one line per RPC); stdlib records (grpc, asyncio) are
    rendered by the same processors through a ``ProcessorFormatter``.
    """
    out = stream if stream is not None else sys.stdout
    use_console = fmt == "console" or (fmt == "auto" and hasattr(out, "isatty") and out.isatty())
    tail: list[Any] = [
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact,
    ]
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=True)
        if use_console
        else structlog.processors.JSONRenderer(ensure_ascii=False)
    )
    numeric = logging.getLevelNamesMapping()[level.upper()]
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            _name_logger,
            *tail,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.WriteLoggerFactory(file=out),
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_log_level, structlog.stdlib.add_logger_name, *tail],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    # Library chatter below WARNING is noise on a gateway.
    for noisy in ("grpc", "asyncio"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, numeric))


def get_logger(name: str) -> FilteringBoundLogger:
    """A logger for a daemon module (bound lazily, so module-level loggers follow the configuration)."""
    logger: FilteringBoundLogger = structlog.get_logger(_logger_name=name)
    return logger


def _name_logger(_logger: object, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Put the module name bound by :func:`get_logger` under ``logger``, as stdlib records have it."""
    name = event_dict.pop("_logger_name", None)
    if name is not None:
        event_dict["logger"] = name
    return event_dict
