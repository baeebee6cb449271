"""Log output: plain text (default) or one JSON object per line (``IOLAOS_LOG_FORMAT=json``).

The JSON formatter never writes secrets: bearer tokens, ``token=``/``ticket=``/``password=`` values in URLs or
messages, passwords in database URLs, and extra fields whose names look secret are replaced by ``[REDACTED]``.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

from uvicorn.config import LOGGING_CONFIG

from iolaos.config import Settings

REDACTED = "[REDACTED]"
_SECRET_KEYS = re.compile(r"pass(word)?|secret|token|ticket|authorization|cookie|api_?key|private", re.I)
_PATTERNS = [
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+"), r"\1 " + REDACTED),
    (re.compile(r"(?i)([?&;\s\"']?(?:access_token|token|ticket|password|secret|api_key)[\"']?\s*[=:]\s*[\"']?)"
                r"[^&\s\"',;]+"), r"\1" + REDACTED),
    (re.compile(r"(?i)([a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]+@"), r"\1" + REDACTED + "@"),
]
# Attributes every LogRecord has; anything else came in through ``extra=`` and is written as a field.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


def redact(text: str) -> str:
    """``text`` with tokens, tickets, passwords and URL credentials replaced by ``[REDACTED]``."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _clean(key: str, value: Any) -> Any:
    if _SECRET_KEYS.search(key):
        return REDACTED
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, int | float | bool) or value is None:
        return value
    return redact(str(value))


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ts, level, logger, msg, extra fields, exc (all redacted)."""

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as a single JSON line."""
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace(
                "+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = _clean(key, value)
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(settings: Settings) -> None:
    """Send the root logger (and uvicorn's, which propagate to it) to stderr in the configured format."""
    handler = logging.StreamHandler(sys.stderr)
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True


def uvicorn_log_config(settings: Settings) -> dict[str, Any] | None:
    """``log_config`` for ``uvicorn.run``: None (keep ours) in JSON mode, uvicorn's default otherwise."""
    if settings.log_format == "json":
        return None
    return LOGGING_CONFIG
