"""One effective category everywhere (issue 20, acceptance 1).

For every zone of the demo (13 regions, 326 municipalities and a patrol sector under Chalkida) and every day
of a scripted week, the category from REST (/zones/risk/{day}), OGC (risk items), the console's data call
(the same URL and query as web/static/js/map.js) and the planner's requirements must agree, own or inherited.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import box

from iolaos.auth.actor import system_actor
from iolaos.db import session_scope
from iolaos.planning import instance as builder
from iolaos.risk import service as risk
from iolaos.zones import loading

WEEK = [date(2027, 7, 12) + timedelta(days=i) for i in range(7)]
MAP_JS = Path(__file__).resolve().parents[2] / "web" / "static" / "js" / "map.js"
SECTOR = "9155-S1"  # a patrol sector of Chalkida: it has no entry of its own, ever


def _script(day_index: int) -> list[dict]:
    """The week's risk map: regions change day by day, some municipalities and their regions both have entries."""
    day = WEEK[day_index].isoformat()
    levels = [{"zone_code": "GR-H", "date": day, "category": 2 + day_index % 4},
              {"zone_code": "GR-I", "date": day, "category": 1 + (day_index + 2) % 5}]
    if day_index % 2 == 0:
        levels.append({"zone_code": "9155", "date": day, "category": 5})  # Chalkida's own entry, every other day
    if day_index in (1, 4):
        levels += [{"zone_code": "9220", "date": day, "category": 3}, {"zone_code": "GR-A", "date": day, "category": 4}]
    if day_index == 6:
        levels = []  # a day with nothing published: every answer is empty
    return levels


@pytest.fixture
def week(client, engine, sign_in):
    """A sector under Chalkida, a policy that plans every category, and the scripted week's risk map."""
    frame = gpd.GeoDataFrame({"code": [SECTOR], "name_el": ["Τομέας Χαλκίδας"], "name_en": ["Chalkida sector"],
                              "parent_code": ["9155"]}, geometry=[box(23.58, 38.45, 23.61, 38.48)], crs=4326)
    loading.import_frame(engine, frame, kind="sector", actor=system_actor("tests"), source="test")
    admin = sign_in(client, "admin")
    rules = [{"category": c, "patrols_per_zone": 1, "crew_size": 2, "shifts": ["10:00-14:00"]} for c in (1, 2)]
    assert client.put("/api/v1/coverage/policy", json={"rules": rules}, headers=admin).status_code == 200
    for i in range(len(WEEK)):
        if _script(i):
            resp = client.post("/api/v1/risk/levels", json={"levels": _script(i)}, headers=admin)
            assert resp.status_code == 201, resp.text
    return admin


def _planner(engine, day: date) -> dict[str, int]:
    with session_scope(engine) as session:
        tree = risk.zone_tree(session)
        return {tree.by_id[r.zone_id].code: r.category for r in builder.requirements(session, day, None)}


def _ogc(client, day: date) -> dict[str, tuple[int, bool, str]]:
    resp = client.get("/ogc/collections/risk/items", params={"datetime": f"{day}T09:00:00Z", "limit": 10000})
    assert resp.status_code == 200, resp.text
    return {f["properties"]["code"]: (f["properties"]["category"], f["properties"]["inherited"],
                                      f["properties"]["from_zone_code"]) for f in resp.json()["features"]}


def test_console_reads_the_effective_map():
    """The console's risk layer reads the one REST call this test checks (no second source of categories)."""
    source = MAP_JS.read_text(encoding="utf-8")
    assert re.search(r"api\(`/api/v1/zones/risk/\$\{day\}`, \{ query: \{ kind: 'municipality', region \} \}\)", source)


def test_every_zone_every_day_agrees(client, engine, week):
    with session_scope(engine) as session:
        tree = risk.zone_tree(session)
        codes = {z.code: z for z in tree.by_id.values()}
        leaves = {tree.by_id[z].code for z in tree.leaves()}
        # what the planner plans: leaves, and a municipality whose sectors leave part of it uncovered (issue 14)
        units = {tree.by_id[z].code for z in builder.planning_units(session)}
    assert len(codes) == 13 + 326 + 1 and SECTOR in leaves and "9155" not in leaves and "9155" in units
    for day in WEEK:
        rest = {r["zone_code"]: (r["category"], r["inherited"], r["from_zone_code"])
                for r in client.get(f"/api/v1/zones/risk/{day}").json()}
        ogc = _ogc(client, day)
        planner = _planner(engine, day)
        assert rest == ogc, day
        console = {r["zone_code"]: r["category"] for r in client.get(
            f"/api/v1/zones/risk/{day}", params={"kind": "municipality"}).json()}
        assert console == {c: v[0] for c, v in rest.items() if codes[c].kind == "municipality"}
        for region in ("GR-H", "GR-I"):  # a regional console asks for its region only
            regional = client.get(f"/api/v1/zones/risk/{day}", params={"kind": "municipality", "region": region})
            assert {r["zone_code"] for r in regional.json()} <= set(console)
            assert all(console[r["zone_code"]] == r["category"] for r in regional.json())
        assert planner == {c: v[0] for c, v in rest.items() if c in units}, day
        for code, (_, inherited, origin) in rest.items():
            assert inherited == (origin != code)
    # the script itself, spelled out for a few zones: own, inherited from the region, inherited twice over
    monday = {r["zone_code"]: r for r in client.get(f"/api/v1/zones/risk/{WEEK[0]}").json()}
    assert (monday["9155"]["category"], monday["9155"]["inherited"]) == (5, False)
    assert (monday[SECTOR]["category"], monday[SECTOR]["from_zone_code"]) == (5, "9155")
    assert (monday["9153"]["category"], monday["9153"]["from_zone_code"]) == (2, "GR-H")
    tuesday = {r["zone_code"]: r for r in client.get(f"/api/v1/zones/risk/{WEEK[1]}").json()}
    assert (tuesday[SECTOR]["category"], tuesday[SECTOR]["from_zone_code"]) == (3, "GR-H")
    assert client.get(f"/api/v1/zones/risk/{WEEK[6]}").json() == [] and _planner(engine, WEEK[6]) == {}


def test_single_zone_answers_agree(client, engine, week):
    """Per zone (Central Greece, its sector, and an Attica municipality): history and OGC item.

    (Risk no longer becomes a public CAP alert by itself: warnings are issued under authority, docs/warnings.md.)
    """
    with session_scope(engine) as session:
        tree = risk.zone_tree(session)
        zones = [tree.by_id[z].code for z in tree.below({tree.by_code()["GR-H"]})] + ["9220", "GR-I"]
    for day in WEEK[:2]:
        rest = {r["zone_code"]: r for r in client.get(f"/api/v1/zones/risk/{day}").json()}
        for code in zones:
            history = client.get(f"/api/v1/zones/{code}/risk", params={"date": day.isoformat()}).json()
            item = client.get(f"/ogc/collections/risk/items/{code}", params={"datetime": f"{day}T09:00:00Z"})
            if code not in rest:
                assert history == [] and item.status_code == 404
                continue
            expected = rest[code]
            assert history and history[0]["category"] == expected["category"], (code, day)  # first = in force
            assert history[0]["inherited"] == expected["inherited"]
            assert item.json()["properties"]["category"] == expected["category"]
