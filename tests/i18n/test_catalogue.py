"""The message catalogue covers every error code, fixed error detail, journal action and stored reason, in el
and en, with Greek plural forms; no database needed."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from iolaos import i18n
from iolaos.i18n import coded
from tests.i18n.inventory import http_codes, inventory

LANGS = ("el", "en")
GREEK = re.compile("[\u0370-\u03ff\u1f00-\u1fff]")


@pytest.mark.parametrize("lang", LANGS)
def test_every_error_code_has_text(lang):
    codes = inventory().error_codes | http_codes()
    assert len(codes) > 50
    missing = sorted(c for c in codes if not i18n.has(f"error.{c}", lang))
    assert not missing, f"error codes without {lang} text in the catalogue: {missing}"


def test_every_fixed_error_detail_has_greek_text():
    details = inventory().details
    assert len(details) > 50
    missing = sorted(d for d in details if not i18n.has(d, "el", context="detail"))
    assert not missing, f"error details without Greek text (msgctxt 'detail'): {missing}"


@pytest.mark.parametrize("lang", LANGS)
def test_every_journal_action_has_a_label(lang):
    actions = inventory().actions
    assert {"plan.commit", "patrol.plan", "assignment.accept", "alert.acknowledge", "incident.transition"} <= actions
    missing = sorted(a for a in actions if not i18n.has(f"action.{a}", lang))
    assert not missing, f"journal actions without a {lang} label: {missing}"


@pytest.mark.parametrize("lang", LANGS)
def test_every_stored_reason_has_text(lang):
    keys = inventory().coded
    assert {"reason.gap.no_org", "reason.plan.distance", "reason.resp.routed"} <= keys
    assert not sorted(k for k in keys if not i18n.has(k, lang))


def test_both_catalogues_have_the_same_keys_and_placeholders():
    catalogues = {lang: read_po(i18n.po_path(lang).open("rb"), locale=lang) for lang in LANGS}
    ids = {lang: {(m.id if isinstance(m.id, str) else m.id[0], m.context) for m in cat if m.id}
               for lang, cat in catalogues.items()}
    assert ids["el"] == ids["en"]
    for message in catalogues["en"]:
        if not message.id:
            continue
        greek = catalogues["el"].get(message.id, context=message.context)
        for en_text, el_text in zip(_strings(message), _strings(greek), strict=True):
            assert set(re.findall(r"{(\w+)}", en_text)) >= set(re.findall(r"{(\w+)}", el_text)), message.id
            if message.context != "detail":
                assert not GREEK.search(en_text), f"Greek in the English text of {message.id}"


def test_greek_plural_forms():
    assert i18n.t("doc.open_places", "el", n=1) == "1 κενή θέση"
    assert i18n.t("doc.open_places", "el", n=3) == "3 κενές θέσεις"
    assert i18n.t("doc.open_places", "en", n=1) == "1 open place"


def test_stored_reasons_render_in_each_language_and_plain_text_passes():
    text = coded.encode("reason.gap.none_with_skill", category=coded.ref("action_category", "FFA"),
                        skill=coded.ref("skill", "wildfire_basic"), limit="60")
    greek, english = coded.render(text, "el"), coded.render(text, "en")
    assert "δασοπυρόσβεση" in greek and "Βασική εκπαίδευση δασοπυρόσβεσης" in greek and "wildfire_basic" not in greek
    assert english == "no firefighting (FFA)-registered volunteer with valid Basic wildfire training within 60 km"
    assert coded.render("car broke down", "el") == "car broke down"


def test_accept_language_negotiation():
    assert i18n.negotiate("el-GR,el;q=0.9,en;q=0.8", "en") == "el"
    assert i18n.negotiate("en-US,en;q=0.9", "el") == "en"
    assert i18n.negotiate("fr-FR, en;q=0.5, el;q=0.4", "el") == "en"
    assert i18n.negotiate("de", "el") == "el" and i18n.negotiate(None, "en") == "en"
    assert i18n.negotiate("en;q=0, el", "en") == "el"
    assert i18n.negotiate("fr, el, en", "en") == "el" and i18n.negotiate("fr, en, el", "el") == "en"


def _strings(message):
    return message.string if isinstance(message.string, tuple) else (message.string,)


@pytest.mark.parametrize("lang", LANGS)
def test_every_code_shown_on_forms_has_a_label(lang):
    from iolaos.auth.models import ROLES
    from iolaos.demo.seed import SKILLS
    from iolaos.field.models import ALERT_KINDS
    from iolaos.incidents.models import INCIDENT_KINDS, SEVERITIES, STATUSES
    from iolaos.organisations.models import ACTION_CATEGORIES, ORG_KINDS
    from iolaos.patrols.models import ASSIGNMENT_STATUSES, CAPABILITIES, FIELD_STATUSES, PATROL_STATUSES

    codes = {"patrol_status": PATROL_STATUSES, "assignment_status": ASSIGNMENT_STATUSES, "incident_status": STATUSES,
             "field_status": FIELD_STATUSES, "alert_kind": ALERT_KINDS, "incident_kind": INCIDENT_KINDS,
             "severity": SEVERITIES, "role": ROLES, "ics_position": ROLES, "org_kind": ORG_KINDS, "skill": SKILLS,
             "capability": CAPABILITIES, "action_category": ACTION_CATEGORIES, "risk": ("1", "2", "3", "4", "5")}
    missing = [f"{prefix}.{code}" for prefix, values in codes.items() for code in values
               if not i18n.has(f"{prefix}.{code}", lang)]
    assert not missing
