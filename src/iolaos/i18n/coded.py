"""Texts stored as a catalogue key and parameters, rendered in the reader's language when shown.

Machine-written texts that end up in the database or the journal (plan reasons, why a place stayed open, why
someone holds an incident) are stored as ``i18n:<key> {json parameters}``, not as English prose, so a Greek
reader and an English reader each see them in their own language. A parameter written ``@<key>`` is itself a
catalogue key (a skill, a status), rendered in the same language. Anything else (a reason a person typed) is
shown as it was written.
"""

from __future__ import annotations

import json
from typing import Any

from iolaos import i18n

PREFIX = "i18n:"


def encode(key: str, **params: Any) -> str:
    """A stored text: the catalogue key and its parameters."""
    if not params:
        return PREFIX + key
    return f"{PREFIX}{key} {json.dumps(params, ensure_ascii=False, sort_keys=True, separators=(',', ':'))}"


def ref(prefix: str, value: str | None) -> str | None:
    """A parameter that names a catalogue entry (e.g. ``ref("skill", "first_aid")``)."""
    return None if value is None else f"@{prefix}.{value}"


def decode(text: str) -> tuple[str, dict[str, Any]] | None:
    """``(key, params)`` of a stored text, or None for plain text."""
    if not text.startswith(PREFIX):
        return None
    key, _, raw = text[len(PREFIX):].partition(" ")
    try:
        params = json.loads(raw) if raw else {}
    except ValueError:
        return None
    return key, params if isinstance(params, dict) else {}


def render(text: str | None, lang: str | None = None) -> str | None:
    """A stored text in ``lang`` (default: the current request's language)."""
    if text is None:
        return None
    decoded = decode(text)
    if decoded is None:
        return text
    key, params = decoded
    if not i18n.has(key, lang or i18n.current_language()):
        return text
    shown = {name: _param(value, lang) for name, value in params.items()}
    try:
        return i18n.t(key, lang, **shown)
    except (KeyError, IndexError, ValueError):  # a parameter the text does not expect; show the key, not a 500
        return key


def _param(value: Any, lang: str | None) -> Any:
    if isinstance(value, str) and value.startswith(PREFIX):
        return render(value, lang)
    if isinstance(value, str) and value.startswith("@"):
        prefix, _, code = value[1:].rpartition(".")
        return i18n.label(prefix, code, lang)
    return value
