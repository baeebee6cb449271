"""ICS-214-style activity logs: a unit, an operational period, its people and notable activities."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from iolaos.auth.principal import Principal
from iolaos.review.service import AuditFilter, iter_all, organisation_and_people, redact, sees_personal_data

ATHENS = ZoneInfo("Europe/Athens")
MAX_ACTIVITIES = 5000

# action → (Greek, English) wording of a notable activity; unknown actions fall back to their code.
WORDING: dict[str, tuple[str, str]] = {
    "auth.sign_in": ("Σύνδεση στο σύστημα", "Signed in"),
    "auth.sign_out": ("Αποσύνδεση", "Signed out"),
    "user.create": ("Δημιουργία λογαριασμού", "Account created"),
    "user.update": ("Αλλαγή λογαριασμού", "Account changed"),
    "user.revoke_tokens": ("Ανάκληση συνδέσεων χρήστη", "User signed out everywhere"),
    "user.change_password": ("Αλλαγή κωδικού", "Password changed"),
    "organisation.create": ("Δημιουργία οργανισμού", "Organisation created"),
    "organisation.update": ("Αλλαγή οργανισμού", "Organisation changed"),
    "organisation.jurisdiction": ("Αλλαγή περιοχής ευθύνης", "Jurisdiction changed"),
    "volunteer.create": ("Εγγραφή εθελοντή", "Volunteer registered"),
    "volunteer.update": ("Αλλαγή στοιχείων εθελοντή", "Volunteer details changed"),
    "volunteer.skills": ("Αλλαγή δεξιοτήτων εθελοντή", "Volunteer skills changed"),
    "volunteer.availability": ("Αλλαγή διαθεσιμότητας εθελοντή", "Volunteer availability changed"),
    "incident.report": ("Αναφορά συμβάντος", "Incident reported"),
    "incident.transition": ("Αλλαγή κατάστασης συμβάντος", "Incident status changed"),
    "responsibility.assign": ("Ανάθεση ευθύνης", "Responsibility assigned"),
    "responsibility.take": ("Ανάληψη ευθύνης", "Responsibility taken"),
    "responsibility.handover": ("Παράδοση ευθύνης", "Responsibility handed over"),
}


def summary(action: str, subject_type: str, subject_id: str, data: dict[str, Any], lang: str) -> str:
    """One line describing a notable activity, in Greek or English."""
    words = WORDING.get(action, (action, action))[0 if lang == "el" else 1]
    text = f"{words} — {subject_type} #{subject_id}"
    detail = data.get("reason") or data.get("note") or ("{} → {}".format(data["from"], data["to"])
                                                          if "from" in data and "to" in data else "")
    return f"{text}: {detail}" if detail else text


def activity_log(session: Session, principal: Principal, *, organisation_id: int, since: datetime,
                 until: datetime, lang: str) -> dict[str, Any]:
    """The ICS-214 content for one organisation and operational period (times in Europe/Athens)."""
    org, people = organisation_and_people(session, principal, organisation_id)
    flt = AuditFilter(since=since, until=until, organisation_id=organisation_id)
    personal = sees_personal_data(principal)
    activities = []
    for record in iter_all(session, principal, flt):
        if record.action == "auth.sign_in" or len(activities) >= MAX_ACTIVITIES:
            continue
        data = json.loads(record.data) if personal else redact(json.loads(record.data))
        activities.append({
            "at": record.occurred_at.astimezone(ATHENS).isoformat(timespec="minutes"), "seq": record.seq,
            "who": record.actor_name, "role": record.actor_role,
            "activity": summary(record.action, record.subject_type, record.subject_id, data, lang),
        })
    return {
        "form": "ICS 214 — Activity Log",
        "unit": {"id": org.id, "name": org.name_el if lang == "el" else org.name_en, "kind": org.kind},
        "operational_period": {"from": since.astimezone(ATHENS).isoformat(timespec="minutes"),
                               "to": until.astimezone(ATHENS).isoformat(timespec="minutes")},
        "personnel": [{"name": p.full_name, "role": p.role, "active": p.is_active} for p in people],
        "activities": activities,
        "prepared_by": {"name": principal.full_name, "role": principal.role},
        "language": lang,
    }
