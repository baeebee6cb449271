"""Season analytics (issue 20): distribution rows match the coverage report for every zone-day of a scripted
week (acceptance 3), Athens day boundaries, season-long ranges, the season report, its files, the baseline."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pyogrio
import pytest
from sqlalchemy import func, select

from iolaos.db import session_scope
from iolaos.patrols.models import Assignment, Patrol
from iolaos.planning import season
from iolaos.volunteers.models import Volunteer
from iolaos.zones.models import Zone
from tests.planning.helpers import tomorrow

ATHENS = ZoneInfo("Europe/Athens")
WEEK = [date(2025, 10, 23) + timedelta(days=i) for i in range(7)]  # summer time ended on Sunday 26 October
FIELDS = ("required", "planned", "proposed", "staffed", "need_hours", "staffed_hours", "weighted_shortfall")


def _at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=ATHENS).astimezone(UTC)


def _patrol(session, zone_id: int, start: datetime, hours: int, crew: list[tuple[int, str]], *,
            status: str = "planned", crew_size: int = 2) -> None:
    patrol = Patrol(zone_id=zone_id, shift_start=start, shift_end=start + timedelta(hours=hours), crew_size=crew_size,
                    status=status, risk_category=3)
    session.add(patrol)
    session.flush()
    for volunteer_id, state in crew:
        checked_in = start + timedelta(minutes=10) if state in ("checked_in", "checked_out") else None
        checked_out = start + timedelta(hours=hours) if state == "checked_out" else None
        session.add(Assignment(patrol_id=patrol.id, volunteer_id=volunteer_id, status=state,
                               checked_in_at=checked_in, checked_out_at=checked_out))


@pytest.fixture
def scripted(client, engine, sign_in):
    """Central Greece at 3 all week, Chalkida at 4 on three days and Mantoudi at 5 on one; patrols of every kind,
    among them one starting 00:30 Athens time (the evening before in UTC) and one on the night the clocks change."""
    admin = sign_in(client, "admin")
    levels = [{"zone_code": "GR-H", "date": d.isoformat(), "category": 3} for d in WEEK]
    levels += [{"zone_code": "9155", "date": WEEK[i].isoformat(), "category": 4} for i in (2, 3, 4)]
    levels.append({"zone_code": "9153", "date": WEEK[3].isoformat(), "category": 5})
    assert client.post("/api/v1/risk/levels", json={"levels": levels}, headers=admin).status_code == 201
    with session_scope(engine) as session:
        zone = dict(session.execute(select(Zone.code, Zone.id)).all())
        people = list(session.scalars(select(Volunteer.id).order_by(Volunteer.id).limit(6)))
        chalkida, mantoudi, lamia = zone["9155"], zone["9153"], zone["9160"]
        _patrol(session, chalkida, _at(WEEK[3], 0, 30), 4, [(people[0], "accepted"), (people[1], "proposed")])
        _patrol(session, chalkida, _at(WEEK[3], 2, 0), 4, [(people[2], "checked_out"), (people[3], "declined")],
                status="completed")  # 02:00 on the 26th: the night summer time ended
        _patrol(session, chalkida, _at(WEEK[2], 23, 30), 4, [(people[4], "checked_in")], status="active")
        _patrol(session, mantoudi, _at(WEEK[3], 10), 4, [(people[0], "accepted"), (people[5], "accepted")],
                crew_size=4, status="staffed")
        _patrol(session, lamia, _at(WEEK[5], 14), 4, [(people[1], "proposed")], status="cancelled")
        _patrol(session, lamia, _at(WEEK[6], 18), 4, [(people[2], "proposed"), (people[3], "proposed")])
    return admin


def _get(client, path: str, headers: dict, start: date, end: date):
    resp = client.get(path, params={"start": start.isoformat(), "end": end.isoformat(), "region": "GR-H"},
                      headers=headers)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_distribution_matches_the_report_for_every_zone_day(client, scripted):
    week_rows = _get(client, "/api/v1/coverage/report", scripted, WEEK[0], WEEK[-1])
    by_zone_day = {(r["zone_code"], r["date"]): r for r in week_rows}
    assert len(by_zone_day) == len(week_rows) == 25 * 7  # every municipality of Central Greece, every day
    for day in WEEK:
        report = {r["zone_code"]: r for r in _get(client, "/api/v1/coverage/report", scripted, day, day)}
        distribution = {d["zone_code"]: d for d in _get(client, "/api/v1/coverage/equity", scripted, day,
                                                        day)["distribution"]}
        assert set(report) == set(distribution), day
        for code, row in report.items():
            assert {k: distribution[code][k] for k in (*FIELDS, "category")} == {k: row[k] for k in (*FIELDS,
                                                                                                 "category")}
            assert row == by_zone_day[(code, day.isoformat())]  # one day alone = the same day within the week
    week = _get(client, "/api/v1/coverage/equity", scripted, WEEK[0], WEEK[-1])
    for d in week["distribution"]:
        rows = [r for r in week_rows if r["zone_code"] == d["zone_code"]]
        for k in FIELDS:
            assert d[k] == pytest.approx(sum(r[k] for r in rows), abs=0.05), (d["zone_code"], k)
        assert d["category"] == max(r["category"] for r in rows) and (d["start"], d["end"]) == (
            WEEK[0].isoformat(), WEEK[-1].isoformat())


def test_zone_days_are_athens_days(client, scripted):
    rows = {(r["zone_code"], r["date"]): r for r in _get(client, "/api/v1/coverage/report", scripted, WEEK[0],
                                                         WEEK[-1])}
    sunday, saturday = rows[("9155", WEEK[3].isoformat())], rows[("9155", WEEK[2].isoformat())]
    # 00:30 and 02:00 on Sunday (Saturday evening in UTC) are Sunday's; 23:30 on Saturday is Saturday's
    assert (sunday["planned"], sunday["proposed"], sunday["staffed"]) == (4, 1, 2)
    assert (saturday["planned"], saturday["staffed"], saturday["category"]) == (2, 1, 4)
    assert sunday["category"] == 4 and sunday["inherited"] is False and sunday["required"] == 6 * 3
    assert sunday["need_hours"] == 6 * 4 * 3 and sunday["staffed_hours"] == pytest.approx(2 * 4)
    assert sunday["patrolled_hours"] == pytest.approx(4 - 1 / 6, abs=0.01)  # checked in 10 minutes late, out at the end
    mantoudi = rows[("9153", WEEK[3].isoformat())]
    assert (mantoudi["category"], mantoudi["planned"], mantoudi["staffed"], mantoudi["required"]) == (5, 4, 2, 48)
    tuesday = rows[("9160", WEEK[5].isoformat())]  # Lamia: its only patrol was cancelled
    assert (tuesday["planned"], tuesday["proposed"], tuesday["inherited"]) == (0, 0, True)
    assert rows[("9160", WEEK[6].isoformat())]["proposed"] == 2


def test_season_long_ranges_and_the_season_report(client, scripted, tmp_path):
    start, end = date(2025, 5, 1), date(2025, 10, 31)
    assert len(season.period(start, end, 184)) == 184
    whole = client.get("/api/v1/coverage/report", params={"start": "2025-05-01", "end": "2025-10-31"},
                       headers=scripted)
    assert whole.status_code == 200 and len(whole.json()) == 25 * 7  # the scripted week, found in the season
    over = client.get("/api/v1/coverage/report", params={"start": "2025-05-01", "end": "2025-11-01"},
                      headers=scripted)
    assert over.status_code == 422 and over.json()["error"] == "invalid_period"
    report = _get(client, "/api/v1/coverage/season", scripted, WEEK[0], WEEK[-1])
    rows = _get(client, "/api/v1/coverage/report", scripted, WEEK[0], WEEK[-1])
    assert report["totals"]["need_hours"] == pytest.approx(sum(r["need_hours"] for r in rows), abs=0.5)
    assert report["totals"]["staffed_hours"] == pytest.approx(sum(r["staffed_hours"] for r in rows), abs=0.5)
    assert report["zone_days"] == 25 * 7 and len(report["municipalities"]) == 25
    assert report["lorenz"][0] == [0.0, 0.0] and report["lorenz"][-1] == [1.0, 1.0] and 0 < report["gini"] < 1
    worst = [m["code"] for m in report["worst"]]
    assert worst[:2] == ["9153", "9155"] and report["worst"][0]["name_en"]  # a category-5 day, then Chalkida
    assert [m["weighted_shortfall"] for m in report["worst"]] == sorted(
        (m["weighted_shortfall"] for m in report["worst"]), reverse=True)
    heat = report["heatmap"]
    assert len(heat["zones"]) == 25 and len(heat["days"]) == 7 and heat["zones"][1]["code"] == "9155"
    assert heat["unmet"][1][3] == pytest.approx(1 - 8 / 72, abs=0.001) and heat["category"][1][3] == 4
    assert heat["unmet"][1][0] == 1 and heat["category"][1][0] == 3  # Thursday: inherited 3, nothing staffed
    assert heat["source"][1] == "iioooii"  # Chalkida's own entries on Saturday to Monday
    csv_text = client.get("/api/v1/coverage/season.csv", params={"start": WEEK[0].isoformat(),
                          "end": WEEK[-1].isoformat(), "region": "GR-H"}, headers=scripted).text
    assert csv_text.count("\n") == 1 + 25 * 7 and "weighted_shortfall" in csv_text.splitlines()[0]
    gpkg = client.get("/api/v1/coverage/season.gpkg", params={"start": WEEK[0].isoformat(),
                      "end": WEEK[-1].isoformat(), "region": "GR-H"}, headers=scripted)
    assert gpkg.status_code == 200
    (tmp_path / "season.gpkg").write_bytes(gpkg.content)
    layers = dict(pyogrio.list_layers(tmp_path / "season.gpkg"))
    assert set(layers) == {"municipalities", "zone_days"} and layers["municipalities"] == "MultiPolygon"


def test_the_planner_against_greedy_on_under_covered_high_risk_days(client, sign_in):
    day = tomorrow()  # the demo volunteers are available this coming week
    admin = sign_in(client, "admin")
    levels = [{"zone_code": c, "date": day.isoformat(), "category": 5} for c in ("9155", "9150")]
    assert client.post("/api/v1/risk/levels", json={"levels": levels}, headers=admin).status_code == 201
    out = _get(client, "/api/v1/coverage/baseline", admin, day, day)
    assert [d["zone_codes"] for d in out["days"]] == [["9150", "9155"]] and out["days_not_compared"] == 0
    assert out["places"] == 2 * 2 * 6 * 4  # two zones, two patrols of four in each of six shifts
    assert 0 < out["greedy_coverage"] <= out["planner_coverage"]
    assert client.get("/api/v1/coverage/baseline", params={"start": day.isoformat(), "end": day.isoformat()},
                      headers=sign_in(client, "leader.penteli")).status_code == 403


def test_gini_and_lorenz():
    assert season.gini([3, 3, 3]) == 0 and season.gini([]) == 0 and season.gini([0, 0]) == 0
    assert season.gini([0, 0, 3]) == pytest.approx(2 / 3)
    assert season.lorenz([1, 3]) == [(0.0, 0.0), (0.5, 0.25), (1.0, 1.0)]


def test_demo_season_flag_fills_once_with_a_progress_bar(db, engine, monkeypatch):
    from typer.testing import CliRunner

    from iolaos.cli import app as cli_app
    from iolaos.config import get_settings
    from iolaos.demo import season as demo_season
    from iolaos.journal.models import AuditRecord

    days = [date(2025, 8, 1) + timedelta(days=i) for i in range(5)]
    monkeypatch.setattr(demo_season, "season_days", lambda year: days)  # five days (a season's curve) keep it quick
    monkeypatch.setenv("IOLAOS_DATABASE_URL", db.database_url)
    get_settings.cache_clear()
    try:
        first = CliRunner().invoke(cli_app, ["demo", "--no-serve", "--season", "2025"])
        again = CliRunner().invoke(cli_app, ["demo", "--no-serve", "--season", "2025"])
    finally:
        get_settings.cache_clear()
    assert first.exit_code == 0, first.output
    assert "season 2025" in first.output and "patrols" in first.output
    assert "already filled" in again.output
    with session_scope(engine) as session:
        per_day = session.execute(select(Patrol.plan_key, func.count()).group_by(Patrol.plan_key)).all()
        records = session.scalars(select(AuditRecord.subject_id).where(AuditRecord.action == "demo.season")).all()
    assert {key for key, _ in per_day} <= {f"season:{d.isoformat()}" for d in days} and per_day
    assert all(0 < n <= demo_season.DEMO_PATROLS_PER_DAY for _, n in per_day)
    assert sorted(records) == [d.isoformat() for d in days]  # one journal record per day, none on the second run
