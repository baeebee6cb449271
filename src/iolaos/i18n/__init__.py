"""One message catalogue (gettext .po files read with Babel) for every text the service shows people.

The catalogue lives in ``i18n/locale/<lang>/LC_MESSAGES/iolaos.po``. It is compiled in memory when first used
(Babel writes the .mo into a buffer that :class:`gettext.GNUTranslations` reads), so there is no build step and
no binary file to keep in step with its source. Keys are stable identifiers (``error.not_found``,
``action.patrol.plan``, ``reason.gap.no_org``…); the English catalogue holds the English text, so a missing
Greek entry can never silently fall back to an English sentence (the completeness test checks both).
Error details raised as fixed English sentences are looked up under the context ``detail``.

The language of the current request is a context variable set by :mod:`iolaos.i18n.middleware` from
``Accept-Language`` (default: the ``default_language`` setting).
"""

from __future__ import annotations

import gettext
import io
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES = ("el", "en")
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "iolaos"

_language: ContextVar[str] = ContextVar("iolaos_language", default="el")


def current_language() -> str:
    """The language of the current request (or the process default outside one)."""
    return _language.get()


def set_language(lang: str) -> Any:
    """Make ``lang`` the current language; returns the token that :func:`reset_language` takes."""
    return _language.set(lang if lang in LANGUAGES else "el")


def reset_language(token: Any) -> None:
    """Undo :func:`set_language`."""
    _language.reset(token)


def po_path(lang: str) -> Path:
    """The .po file of ``lang``."""
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=len(LANGUAGES))
def catalog(lang: str) -> Catalog:
    """The Babel catalogue of ``lang``, read from its .po once per process."""
    with po_path(lang).open("rb") as handle:
        return read_po(handle, locale=lang, domain=DOMAIN)


@lru_cache(maxsize=len(LANGUAGES))
def translations(lang: str) -> gettext.GNUTranslations:
    """The catalogue of ``lang`` compiled in memory, for gettext's lookups and plural rules."""
    buffer = io.BytesIO()
    write_mo(buffer, catalog(lang), use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def _lang(lang: str | None) -> str:
    return lang if lang in LANGUAGES else current_language()


def has(key: str, lang: str | None = None, *, context: str | None = None) -> bool:
    """True when the catalogue of ``lang`` has a (non-empty, not fuzzy) text for ``key``."""
    message = catalog(_lang(lang)).get(key, context=context)
    if message is None or message.fuzzy:
        return False
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return all(strings)


def is_plural(key: str) -> bool:
    """True when ``key`` has singular and plural texts."""
    message = catalog("en").get(key)
    return message is not None and message.pluralizable


def t(key: str, lang: str | None = None, /, **params: Any) -> str:
    """The text of ``key`` in ``lang`` (default: the current language), with ``{name}`` placeholders filled.

    A key with plural forms takes its count from ``n``.
    """
    cat = translations(_lang(lang))
    if "n" in params and is_plural(key):
        text = cat.ngettext(key, key + ".plural", int(params["n"]))
    else:
        text = cat.gettext(key)
    return text.format(**params) if params else text


def label(prefix: str, value: str | None, lang: str | None = None) -> str:
    """The label of a code (``status.planned``, ``action.plan.commit``…), or the code itself if unknown."""
    if value is None:
        return "—"
    key = f"{prefix}.{value}"
    return t(key, lang) if has(key, _lang(lang)) else value


def detail(english: str, lang: str | None = None) -> str | None:
    """The text of a fixed English error detail in ``lang``, or None when the catalogue lacks it."""
    if not has(english, lang, context="detail"):
        return None
    return translations(_lang(lang)).pgettext("detail", english)


def negotiate(header: str | None, default: str) -> str:
    """The best of our languages for an ``Accept-Language`` header (RFC 9110 §12.5.4), else ``default``."""
    best, best_q = default, 0.0
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        primary = tag.strip().lower().split("-")[0]
        if tag.strip() == "*":
            primary = default
        # Earlier entries win ties, as a client lists its preferences in order.
        ranked = q - position * 1e-6
        if primary in LANGUAGES and q > 0 and ranked > best_q:
            best, best_q = primary, ranked
    return best
