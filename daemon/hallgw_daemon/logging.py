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
# resident card numbers (3 letters + 12 digits) and any long digit run.
_NUMBER_LIKE: Final = re.compile(r"\b(?:\d{17}[\dXx]|\d{15}|[A-Z]{3}\d{12}|\d{9,})\b")


def _scrub(value: object) -> object:
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value)} bytes>"
    if isinstance(value, str):
        return _NUMBER_LIKE.sub("[redacted-number]", value)
    if isinstance(value, Mapping):
        return {k: (REDACTED if k in SENSITIVE_KEYS else _scrub(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def redact(_logger: object, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: remove personal data from an event (see module doc)."""
    for key in list(event_dict):
        if key in SENSITIVE_KEYS:
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _scrub(event_dict[key])
    return event_dict


def configure_logging(
    *, level: str = "info", fmt: Literal["auto", "json", "console"] = "auto", stream: Any = None
) -> None:
    """Set up structlog and the stdlib root logger once, at start-up."""
    out = stream if stream is not None else sys.stdout
    use_console = fmt == "console" or (fmt == "auto" and hasattr(out, "isatty") and out.isatty())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact,
    ]
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=True)
        if use_console
        else structlog.processors.JSONRenderer(ensure_ascii=False)
    )
    structlog.configure(
        processors=[structlog.stdlib.filter_by_level, *shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Library chatter below WARNING is noise on a gateway.
    for noisy in ("grpc", "asyncio"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A logger for a daemon module."""
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger
