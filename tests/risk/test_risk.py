"""The risk map: authorised writes with history, the public map, and all-or-nothing imports (acceptance 3)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from iolaos.cli import app as cli_app
from iolaos.config import get_settings
from iolaos.db import session_scope
from iolaos.journal.models import AuditRecord, Event
from iolaos.risk.models import RiskLevel
from tests.planning.helpers import set_risk

DAY = "2027-07-15"


def _rows(engine) -> int:
    with session_scope(engine) as s:
        return s.scalar(select(func.count()).select_from(RiskLevel))


def test_levels_are_public_with_colours_and_history(client, engine, sign_in):
    headers = sign_in(client, "dispatcher.attica")
    from datetime import date

    resp = set_risk(client, headers, ["9220", "9186"], date.fromisoformat(DAY), 4)
    assert resp.status_code == 201, resp.text
    assert resp.json()["created"] == 2
    assert set_risk(client, headers, ["9220"], date.fromisoformat(DAY), 5).json()["created"] == 1
    assert set_risk(client, headers, ["9220"], date.fromisoformat(DAY), 5).json() ["created"] == 0  # unchanged
    public = client.get(f"/api/v1/zones/risk/{DAY}")  # no token: published reference data
    assert public.status_code == 200
    by_zone = {r["zone_code"]: r for r in public.json()}
    assert by_zone["9220"]["category"] == 5 and by_zone["9220"]["colour"] == "red"
    assert by_zone["9186"]["colour"] == "orange" and by_zone["9186"]["hex"].startswith("#")
    history = client.get("/api/v1/zones/9220/risk", params={"date": DAY}).json()
    assert [h["category"] for h in history] == [5, 4]  # newest first, nothing overwritten
    assert _rows(engine) == 3
    with session_scope(engine) as s:
        topics = " ".join(s.scalars(select(Event.topics).where(Event.kind == "risk.changed")))
        assert "zone:9220" in topics and "region:GR-I" in topics and " risk " in topics
    assert client.get(f"/api/v1/zones/risk/{DAY}", params={"kind": "region"}).json() == []
    assert client.get("/api/v1/zones/NOPE/risk").status_code == 404


def test_writes_are_scoped_and_refused_whole(client, engine, sign_in):
    from datetime import date

    day = date.fromisoformat(DAY)
    resp = set_risk(client, sign_in(client, "dispatcher.attica"), ["9220", "9153"], day)  # 9153 is in Evia
    assert resp.status_code == 403 and resp.json()["detail"]["zone_codes"] == ["9153"]
    assert set_risk(client, sign_in(client, "leader.penteli"), ["9220"], day).status_code == 403
    assert set_risk(client, sign_in(client, "admin"), ["9220", "9153"], day).status_code == 201  # national
    before = _rows(engine)
    body = {"levels": [{"zone_code": "9220", "date": DAY, "category": 3},
                       {"zone_code": "XX", "date": DAY, "category": 4},
                       {"zone_code": "9186", "date": "2027-02-30", "category": 9}]}
    resp = client.post("/api/v1/risk/levels", json=body, headers=sign_in(client, "dispatcher.attica"))
    assert resp.status_code == 422
    errors = resp.json()["detail"]["errors"]
    assert [e["item"] for e in errors] == [2, 3]
    assert len(errors[1]["problems"]) == 2
    assert _rows(engine) == before


CSV_BAD = """zone_code,date,category
9220,2027-07-15,4
NOWHERE,2027-07-15,3
9186,2027-07-32,2
9153,2027-07-15,7
9150,15/07/2027,0
"""


@pytest.fixture
def cli(db, monkeypatch):
    """Run the ``iolaos`` command against the test database."""
    monkeypatch.setenv("IOLAOS_DATABASE_URL", db.database_url)
    get_settings.cache_clear()
    yield lambda *args: CliRunner().invoke(cli_app, list(args))
    get_settings.cache_clear()


def test_import_rejects_the_whole_file_listing_every_bad_line(cli, engine, tmp_path):
    bad = tmp_path / "risk.csv"
    bad.write_text(CSV_BAD, encoding="utf-8")
    audit_before = _audit(engine)
    result = cli("risk", "import", str(bad))
    assert result.exit_code == 2, result.output
    text = result.output
    for expected in ("NOWHERE", "2027-07-32", "category 7", "15/07/2027", "category 0"):
        assert expected in text
    listed = json.loads(text[text.index("{"):])["errors"]
    assert [e["line"] for e in listed] == [3, 4, 5, 6]
    assert _rows(engine) == 0 and _audit(engine) == audit_before
    as_json = tmp_path / "risk.json"
    as_json.write_text(json.dumps([{"zone_code": "9220", "date": DAY, "category": 4},
                                   {"zone_code": "9220", "date": DAY, "category": "5"},
                                   {"zone": "9186", "date": "tomorrow", "category": 3}]), encoding="utf-8")
    result = cli("risk", "import", str(as_json))
    assert result.exit_code == 2
    assert [e["line"] for e in json.loads(result.output[result.output.index("{"):])["errors"]] == [2, 3]
    assert _rows(engine) == 0


def test_import_of_a_good_file(cli, engine, tmp_path):
    good = tmp_path / "risk.csv"
    good.write_text("zone_code,date,category\n9220,2027-07-15,4\nGR-H,2027-07-15,5\n", encoding="utf-8")
    result = cli("risk", "import", str(good))
    assert result.exit_code == 0, result.output
    assert "2 changed" in result.output
    assert _rows(engine) == 2
    assert cli("risk", "import", str(good)).output.strip().endswith("0 changed, 2 unchanged")


def _audit(engine) -> int:
    with session_scope(engine) as s:
        return s.scalar(select(func.count()).select_from(AuditRecord))


def test_demo_map_for_tomorrow_gives_a_plan(client, engine, sign_in):
    from iolaos.risk import demo

    with session_scope(engine) as session:
        assert demo.seed_tomorrow(session).created == len(demo.TOMORROW)
    with session_scope(engine) as session:
        assert demo.seed_tomorrow(session).created == 0
    from tests.planning.helpers import tomorrow

    resp = client.get("/api/v1/plans/preview", params={"date": tomorrow().isoformat()},
                      headers=sign_in(client, "dispatcher.attica"))
    assert resp.status_code == 200, resp.text
    plan = resp.json()
    zones = {p["zone_code"] for p in plan["patrols"]}
    assert {"9220", "9176"} <= zones and "9153" not in zones  # Attica's dispatcher plans Attica only
    assert plan["objective"]["filled"] > 0
    print(f"\ndemo plan for Attica: {len(plan['patrols'])} patrols, {plan['objective']}, {plan['seconds']} s")


def test_import_of_a_geojson_risk_map(cli, engine, tmp_path):
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": None, "properties": {"zone_code": "9153", "date": DAY, "category": 5}},
        {"type": "Feature", "geometry": None, "properties": {"zone_code": "9150", "date": DAY, "category": 4}},
    ]}
    path = tmp_path / "risk.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    result = cli("risk", "import", str(path))
    assert result.exit_code == 0, result.output
    assert _rows(engine) == 2
    doc["features"][1]["properties"]["category"] = 9
    path.write_text(json.dumps(doc), encoding="utf-8")
    bad = cli("risk", "import", str(path))
    assert bad.exit_code == 2 and _rows(engine) == 2
