"""Hazard templates in Greek and English, the CAP code lists a warning may use, and the public geocodes.

The words here are the authority's fixed vocabulary: a public message carries only these texts, the
area's public names and what the person publishing wrote, never a reporter's free text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from iolaos.errors import InvalidInput

LANGUAGES = ("el-GR", "en-US")
URGENCIES = ("Immediate", "Expected", "Future")
SEVERITIES = ("Extreme", "Severe", "Moderate", "Minor")
CERTAINTIES = ("Observed", "Likely", "Possible")
# What people are told to do; each response type comes with its own default instruction, so the words and the
# code never disagree (e.g. never "Monitor" beside "keep away from the area").
INSTRUCTIONS: dict[str, dict[str, str]] = {
    "Evacuate": {
        "el-GR": "Απομακρυνθείτε τώρα από την περιοχή, από τους δρόμους που ορίζουν οι αρχές. "
                 "Ακολουθήστε τις οδηγίες της Πολιτικής Προστασίας και του 112.",
        "en-US": "Leave the area now by the routes the authorities give. "
                 "Follow the instructions of Civil Protection and of 112.",
    },
    "Shelter": {
        "el-GR": "Μείνετε σε κλειστό χώρο, κλείστε πόρτες και παράθυρα και μην κυκλοφορείτε χωρίς λόγο.",
        "en-US": "Stay indoors, close doors and windows and do not travel unless you must.",
    },
    "Avoid": {
        "el-GR": "Μην πλησιάζετε την περιοχή. Αφήστε τους δρόμους ελεύθερους για τα οχήματα έκτακτης ανάγκης.",
        "en-US": "Keep away from the area. Leave the roads free for emergency vehicles.",
    },
    "Prepare": {
        "el-GR": "Αποφύγετε κάθε εργασία που μπορεί να προκαλέσει πυρκαγιά. Αναφέρετε αμέσως καπνό ή φωτιά στο 112.",
        "en-US": "Avoid any activity that could start a fire. Report smoke or fire to 112 at once.",
    },
    "Monitor": {
        "el-GR": "Παρακολουθείτε τις ανακοινώσεις των αρχών για την περιοχή.",
        "en-US": "Follow the authorities' announcements for the area.",
    },
}
CANCEL_RESPONSE = "AllClear"
CANCEL_WORDS = {
    "el-GR": ("Άρση προειδοποίησης", "Η προειδοποίηση για την περιοχή άρθηκε. Ακολουθείτε τις οδηγίες των αρχών."),
    "en-US": ("Warning cancelled", "The warning for the area has been cancelled. Keep following the authorities."),
}
EXERCISE_NOTE = {"Exercise": "ΑΣΚΗΣΗ / EXERCISE: not a real warning", "Test": "ΔΟΚΙΜΗ / TEST: not a real warning"}


@dataclass(frozen=True)
class Hazard:
    """One hazard template: the event's words, the CAP category and the choices that fit it."""

    event_el: str
    event_en: str
    responses: tuple[str, ...]
    urgency: str
    severity: str
    certainty: str
    category: str = "Fire"

    def event(self, lang: str) -> str:
        """The event's name in ``lang``."""
        return self.event_el if lang == "el-GR" else self.event_en


HAZARDS: dict[str, Hazard] = {
    "wildfire": Hazard("Δασική πυρκαγιά", "Wildfire", ("Evacuate", "Shelter", "Avoid", "Monitor"),
                       "Immediate", "Severe", "Observed"),
    "wildfire_smoke": Hazard("Καπνός από πυρκαγιά", "Wildfire smoke", ("Shelter", "Avoid", "Monitor"),
                             "Immediate", "Moderate", "Observed"),
    "fire_risk": Hazard("Πολύ υψηλός κίνδυνος πυρκαγιάς", "Very high fire danger", ("Prepare", "Avoid", "Monitor"),
                        "Expected", "Severe", "Likely"),
}

# Public geocodes (docs/warnings.md): the municipality's Ministry of Interior (ΥΠΕΣ) Kallikratis code, the
# region's ISO 3166-2 code and its NUTS-2 (2016) code, as in the shared boundary files (`region_nuts2`).
# The boundary files carry no LAU codes, so none are sent rather than guessed.
GEOCODE_YPES = "YPES"
GEOCODE_ISO = "ISO3166-2"
GEOCODE_NUTS2 = "NUTS2"
NUTS2_BY_REGION = {
    "GR-A": "EL51", "GR-B": "EL52", "GR-C": "EL53", "GR-D": "EL54", "GR-E": "EL61", "GR-F": "EL62", "GR-G": "EL63",
    "GR-H": "EL64", "GR-I": "EL30", "GR-J": "EL65", "GR-K": "EL41", "GR-L": "EL42", "GR-M": "EL43",
}

# Personal data never goes into a public message: a phone number (7 or more digits, spaces and dashes allowed)
# or an e-mail address in the authority's own text is refused. Short public numbers (112, 199) pass.
_PHONE = re.compile(r"\+?\d(?:[\s\-./]?\d){6,}")
_EMAIL = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")


def check_public_text(field: str, text: str) -> None:
    """422 when a public text carries what looks like a phone number or an e-mail address."""
    if _PHONE.search(text) or _EMAIL.search(text):
        raise InvalidInput({"field": field, "message": "a public warning must not carry phone numbers or e-mail "
                            "addresses"}, code="personal_data")


def hazard(key: str) -> Hazard:
    """The template of a hazard, or 422."""
    found = HAZARDS.get(key)
    if found is None:
        raise InvalidInput(f"unknown hazard {key!r}; one of {sorted(HAZARDS)}", code="invalid_warning")
    return found


def catalogue() -> dict:
    """Templates and code lists for the console."""
    return {
        "hazards": {k: {"event": {"el": h.event_el, "en": h.event_en}, "responses": list(h.responses),
                        "urgency": h.urgency, "severity": h.severity, "certainty": h.certainty}
                    for k, h in HAZARDS.items()},
        "instructions": {r: {"el": t["el-GR"], "en": t["en-US"]} for r, t in INSTRUCTIONS.items()},
        "urgencies": list(URGENCIES), "severities": list(SEVERITIES), "certainties": list(CERTAINTIES),
    }
