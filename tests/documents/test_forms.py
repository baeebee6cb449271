"""ICS-204, ICS-211 and ICS-214 of a scripted day, read back with pdftotext: the Greek forms carry no journal
action code and no English text from the catalogue, the English ones no Greek catalogue text; the blocks an
incident commander signs are there, with page X of Y.

With IOLAOS_FORM_SCREENSHOTS=1 the first page of each form in both languages is written to docs/screenshots.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from iolaos import i18n
from iolaos.kit.time import utcnow
from tests.documents import scripted_day
from tests.i18n.inventory import inventory

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils (pdftotext)")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
LATIN_WORD = re.compile(r"[A-Za-z]{4,}")
GREEK_WORD = re.compile(r"[\u0370-\u03ff\u1f00-\u1fff]{4,}")


def _catalogue_words(lang: str, pattern: re.Pattern) -> set[str]:
    words: set[str] = set()
    with i18n.po_path(lang).open("rb") as handle:
        for message in read_po(handle, locale=lang):
            if not message.id or message.context == "detail":
                continue
            texts = message.string if isinstance(message.string, tuple) else (message.string,)
            for text in texts:
                words |= set(pattern.findall(re.sub(r"{\w+}", " ", text)))
    return words


def _text(pdf: bytes, tmp_path: Path, name: str) -> str:
    source = tmp_path / f"{name}.pdf"
    source.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(source), "-"], check=True, capture_output=True,
                          text=True).stdout


def _forms(client, day: scripted_day.Day, headers: dict[str, dict[str, str]], lang: str) -> dict[str, bytes]:
    get = client.get
    forms = {
        "ics204": get("/api/v1/documents/ics204.pdf", headers=headers["dispatcher"],
                      params={"day": day.day.isoformat(), "lang": lang, "zone": "9153"}),
        "ics204-now": get("/api/v1/documents/ics204.pdf", headers=headers["dispatcher"],
                          params={"day": day.day.isoformat(), "lang": lang, "zone": "9153",
                                  "at": utcnow().isoformat()}),
        "ics211": get("/api/v1/documents/ics211.pdf", headers=headers["dispatcher"],
                      params={"day": day.day.isoformat(), "lang": lang}),
        "ics214": get("/api/v1/activity-log.pdf", headers=headers["reviewer"],
                      params={"organisation_id": day.fire_sterea, "lang": lang}),
        "ics214-unit": get("/api/v1/activity-log.pdf", headers=headers["reviewer"],
                           params={"organisation_id": day.limni, "lang": lang}),
    }
    for name, resp in forms.items():
        assert resp.status_code == 200 and resp.content.startswith(b"%PDF"), (name, resp.text[:300])
    return {name: resp.content for name, resp in forms.items()}


def test_forms_of_a_scripted_day_speak_one_language(client, engine, sign_in, tmp_path):
    day = scripted_day.run(client, engine, sign_in)
    headers = {"dispatcher": sign_in(client, "dispatcher.sterea"), "reviewer": sign_in(client, "reviewer.sterea")}
    english_words = _catalogue_words("en", LATIN_WORD) - _catalogue_words("el", LATIN_WORD)
    greek_words = _catalogue_words("el", GREEK_WORD) - _catalogue_words("en", GREEK_WORD)
    typed = {w for text in scripted_day.TYPED for w in GREEK_WORD.findall(text)}
    actions = inventory().actions
    texts = {}
    for lang in ("el", "en"):
        for name, pdf in _forms(client, day, headers, lang).items():
            text = texts[(name, lang)] = _text(pdf, tmp_path, f"{name}-{lang}")
            leaked = sorted(a for a in actions if a in text)
            assert not leaked, f"{name} ({lang}) prints action codes {leaked}"
            assert "i18n:" not in text and "@skill" not in text
            if lang == "el":
                found = sorted(set(LATIN_WORD.findall(text)) & english_words)
                assert not found, f"{name} (el) has English catalogue words: {found}"
            else:
                found = sorted((set(GREEK_WORD.findall(text)) & greek_words) - typed)
                assert not found, f"{name} (en) has Greek catalogue words: {found}"
            assert re.search(r"(Σελίδα|Page) 1 (από|of) \d+", text), f"{name} ({lang}) has no page X of Y"
            if os.environ.get("IOLAOS_FORM_SCREENSHOTS") and name != "ics204":
                _screenshot(pdf, f"{name}-{lang}", tmp_path)
    _blocks_are_there(texts, day)
    _per_person_and_per_patrol(client, day, headers)


def _per_person_and_per_patrol(client, day: scripted_day.Day, headers: dict[str, dict[str, str]]) -> None:
    me = client.get("/api/v1/auth/me", headers=headers["dispatcher"]).json()
    person = client.get("/api/v1/activity-log", headers=headers["reviewer"], params={
        "organisation_id": day.fire_sterea, "user_id": me["id"], "lang": "en"}).json()
    assert person["name"] == me["full_name"] and person["ics_position"] == "Operations Section Chief"
    assert [p["name"] for p in person["personnel"]] == [me["full_name"]]
    assert person["activities"] and all(a["who"].startswith(me["full_name"]) for a in person["activities"])
    one = client.get("/api/v1/documents/ics211", headers=headers["dispatcher"],
                     params={"patrol_id": day.patrol_id, "lang": "el"}).json()
    assert len(one["entries"]) == 3 and one["check_in_location"].startswith("Δήμος Μαντουδίου")
    assert {e["position"] for e in one["entries"]} == {"Αρχηγός ομάδας", "Μέλος ομάδας"}
    assert client.get("/api/v1/documents/ics211", headers=headers["dispatcher"]).status_code == 422


def _blocks_are_there(texts: dict[tuple[str, str], str], day: scripted_day.Day) -> None:
    now = " ".join(texts[("ics204-now", "el")].split())
    assert f"Περιπολία #{day.patrol_id}" in now and now.count("1. Όνομα συμβάντος") == 1  # one division and period
    assert f"Καπνός #{day.incident_id}, Δήμος Μαντουδίου" in now  # the incident its crew was sent to
    ics204 = " ".join(texts[("ics204", "el")].split())
    for block in ("1. Όνομα συμβάντος", "2. Επιχειρησιακή περίοδος", "Τομέας (ζώνη)", "4. Προσωπικό επιχειρήσεων",
                  "5. Πόροι που ανατέθηκαν", "6. Αναθέσεις εργασίας", "7. Ειδικές οδηγίες", "8. Επικοινωνίες",
                  "Υπογραφή", f"Περιπολία #{day.patrol_id}", "Μαντουδίου", "VHF", "112"):
        assert block in ics204, block
    assert "κενή θέση" in ics204 and "1 κενές" not in ics204  # four places, three people: Greek singular
    ics214 = " ".join(texts[("ics214", "el")].split())
    assert "Αναφέρθηκε → Επιβεβαιώθηκε" in ics214 and "Υπό έλεγχο → Αντιμετωπίστηκε" in ics214
    assert ics214.count(scripted_day.NOTE) >= 4  # every transition keeps its note
    assert "Οριστικοποίηση σχεδίου περιπολιών" in ics214 and "Σχεδιασμός περιπολίας" not in ics214
    assert "Υπεύθυνος επιχειρήσεων" in ics214  # the dispatcher's ICS position
    unit = " ".join(texts[("ics214-unit", "en")].split())
    assert "Crew checked in" in unit and "Strike Team Leader" in unit and "Limni Evia Forest Volunteers" in unit
    ics211 = " ".join(texts[("ics211", "en")].split())
    assert "Check-In List" in ics211 and "Limni Evia Forest Volunteers" in ics211
    assert f"Patrol #{day.patrol_id}" in ics211


def _screenshot(pdf: bytes, name: str, tmp_path: Path) -> None:
    source = tmp_path / f"shot-{name}.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "96", "-f", "1", "-l", "1", "-singlefile", str(source),
                    str(SCREENSHOTS / f"form-{name}")], check=True)
