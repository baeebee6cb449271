"""Error details in the reader's language.

Services raise errors with an English detail (a sentence, or a dict whose ``message`` is one). In English that
detail is answered as raised, being the most specific text. In another language a fixed sentence is looked up
in the catalogue (context ``detail``); a sentence built at run time falls back to the error code's own text,
so a Greek reader never gets English. Structured details keep their data (``allowed``, ``volunteer_ids``…);
only their ``message`` changes. Validation errors keep ``loc`` and ``type``; their ``msg`` is translated by type.
"""

from __future__ import annotations

from typing import Any

from iolaos import i18n


def _sentence(code: str, text: Any, lang: str) -> Any:
    if not isinstance(text, str):
        return text
    if lang == "en":
        return text if text != code.replace("_", " ") else _code_text(code, lang)
    return i18n.detail(text, lang) or _code_text(code, lang)


def _code_text(code: str, lang: str) -> str:
    key = f"error.{code}"
    return i18n.t(key, lang) if i18n.has(key, lang) else i18n.t("error.bad_request", lang)


def _status(code: str, lang: str) -> str:
    """A status's label, whichever lifecycle it belongs to (incident, patrol, assignment, alert)."""
    for prefix in ("incident_status", "patrol_status", "assignment_status", "alert_status"):
        if i18n.has(f"{prefix}.{code}", lang):
            return i18n.t(f"{prefix}.{code}", lang)
    return code


def _items(value: Any, lang: str) -> Any:
    """A list of fixed sentences (e.g. the constraints a placement breaks) in ``lang`` where the catalogue has
    them; sentences built at run time stay as they are, as they carry the figures."""
    if lang == "en" or not isinstance(value, list):
        return value
    return [i18n.detail(item, lang) or item if isinstance(item, str) else item for item in value]


def _validation_item(item: Any, lang: str) -> Any:
    if not isinstance(item, dict) or lang == "en":
        return item
    key = f"validation.{item.get('type', '')}"
    return {**item, "msg": i18n.t(key if i18n.has(key, lang) else "validation.other", lang)}


def localise(code: str, detail: Any, lang: str | None = None) -> Any:
    """``detail`` of an error with ``code`` in ``lang`` (default: the current request's language)."""
    lang = lang if lang in i18n.LANGUAGES else i18n.current_language()
    if detail is None:
        return _code_text(code, lang)
    if isinstance(detail, dict) and "message" in detail:
        shown = {key: _items(value, lang) for key, value in detail.items()}
        message = _sentence(code, detail["message"], lang)
        if lang != "en" and code == "illegal_transition" and isinstance(detail.get("status"), str) \
                and i18n.detail(detail["message"], lang) is None:
            message = i18n.t("error.illegal_transition.from", lang, status=_status(detail["status"], lang))
        return {**shown, "message": message}
    if isinstance(detail, list) and code == "validation_error":
        return [_validation_item(item, lang) for item in detail]
    return _sentence(code, detail, lang)
