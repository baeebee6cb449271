"""Shared steps of the planning tests: a category-4 day in Attica and Evia, set over the API."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

ATTICA_ZONES = ["9220", "9176", "9217", "9232"]  # Marathon, Penteli, Dionysos, Fyli
EVIA_ZONES = ["9153", "9150"]  # Mantoudi-Limni-Agia Anna, Istiaia-Aidipsos


def tomorrow() -> date:
    """Tomorrow in Athens."""
    return datetime.now(ZoneInfo("Europe/Athens")).date() + timedelta(days=1)


def set_risk(client, headers: dict, zones: list[str], day: date, category: int = 4):
    """Set ``zones`` to ``category`` on ``day``; returns the response."""
    body = {"levels": [{"zone_code": z, "date": day.isoformat(), "category": category} for z in zones]}
    return client.post("/api/v1/risk/levels", json=body, headers=headers)


def category4_day(client, sign_in) -> date:
    """Attica's and Evia's dispatchers put some of their zones at category 4 tomorrow."""
    day = tomorrow()
    assert set_risk(client, sign_in(client, "dispatcher.attica"), ATTICA_ZONES, day).status_code == 201
    assert set_risk(client, sign_in(client, "dispatcher.sterea"), EVIA_ZONES, day).status_code == 201
    return day


def committed_plan(client, sign_in, region: str = "GR-I") -> dict:
    """A committed plan for Attica tomorrow."""
    day = category4_day(client, sign_in)
    resp = client.post("/api/v1/plans", json={"date": day.isoformat(), "region_code": region},
                       headers=sign_in(client, "dispatcher.attica" if region == "GR-I" else "dispatcher.sterea"))
    assert resp.status_code == 201, resp.text
    return resp.json()


def first_proposal(plan: dict) -> tuple[int, int, int]:
    """(patrol id, assignment id, organisation id) of the first proposal in a committed plan."""
    for patrol in plan["patrols"]:
        for member in patrol["crew"]:
            return patrol["patrol_id"], member["assignment_id"], member["organisation_id"]
    raise AssertionError("the plan has no proposals")
