"""The demo's morning routine puts each team on a patrol it can start now (or soonest), not on a later shift."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services import morning

NOW = datetime(2026, 12, 3, 22, 42, tzinfo=UTC)  # 00:42 in Athens: between the evening and the night shift


def _patrol(patrol_id: int, starts_in: timedelta, organisation_id: int, crew_size: int = 3) -> dict:
    start = NOW + starts_in
    return {"patrol_id": patrol_id, "status": "planned", "shift_start": start.isoformat(),
            "shift_end": (start + timedelta(hours=4)).isoformat(), "crew_size": crew_size,
            "executing_organisation_id": organisation_id, "crew": []}


def test_a_patrol_that_may_start_soonest_comes_before_the_teams_own_later_shift():
    own_later = _patrol(1, timedelta(hours=7), organisation_id=7)  # the team's own, in the morning
    other_soon = _patrol(2, timedelta(minutes=78), organisation_id=9)  # another team's night shift, room left
    ranked = morning._candidates([own_later, other_soon], organisation_id=7, volunteer_id=100, now=NOW)
    assert [p["patrol_id"] for p in ranked] == [2, 1]


def test_among_patrols_that_may_start_now_the_teams_own_comes_first():
    under_way = _patrol(1, -timedelta(hours=1), organisation_id=9)
    own_soon = _patrol(2, timedelta(minutes=30), organisation_id=7)  # its start window is open too
    ranked = morning._candidates([under_way, own_soon], organisation_id=7, volunteer_id=100, now=NOW)
    assert [p["patrol_id"] for p in ranked] == [2, 1]
