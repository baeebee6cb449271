"""Issue 20 in a real browser: the console map's categories are the planner's, and the review page's Season tab.

1. The console colours every municipality by its effective category (own, or inherited from its region): the
   levels its map holds for today and tomorrow equal the planner's requirements and the REST map.
2. A reviewer opens the Season tab of a (short, synthetic) season: heatmap, Lorenz curve, worst served, and
   the CSV download holds one row per zone-day of the report.
"""

from __future__ import annotations

import csv
import io

import pytest

from iolaos.config import Settings
from iolaos.db import make_engine, session_scope
from iolaos.demo import season
from iolaos.planning import instance as builder
from iolaos.risk import service as risk
from tests.web.scenario import Api, athens_day, set_risk
from tests.web.server import DESKTOP, sign_in
from tests.web.waits import until

pytestmark = pytest.mark.browser




def _planner(settings: Settings, offset: int) -> dict[str, int]:
    engine = make_engine(settings)
    with session_scope(engine) as session:
        tree = risk.zone_tree(session)
        found = {tree.by_id[r.zone_id].code: r.category
                 for r in builder.requirements(session, athens_day(offset), None,  # the whole day, whatever the hour
                                               now=builder.day_bounds(athens_day(offset))[0])}
    engine.dispose()
    return found


def test_console_map_shows_the_planners_categories(serve, browsing, demo_passwords, web_db):
    server = serve()
    admin = Api(server.url, demo_passwords, "admin")
    set_risk(admin, {"GR-H": 3, "9155": 5, "GR-I": 4, "9220": 3}, [athens_day(0)])
    set_risk(admin, {"GR-H": 4, "9153": 3}, [athens_day(1)])
    _, page = browsing.open(server, "/", viewport=DESKTOP)
    sign_in(page, "dispatcher.sterea", demo_passwords["dispatcher.sterea"])
    for offset, button in ((0, "#day-today"), (1, "#day-tomorrow")):
        page.click(button)
        day = athens_day(offset).isoformat()
        until(page, f"window.iolaosConsole.state.day === '{day}' && window.iolaosConsole.state.zones"  # zones load late
                     f" && Object.keys(window.iolaosConsole.state.zones"
                     f".levels).length > 0 && Object.values(window.iolaosConsole.state.zones.levels)[0].date === "
                     f"'{day}'")
        shown = page.evaluate("Object.fromEntries(Object.entries(window.iolaosConsole.state.zones.levels)"
                              ".map(([code, level]) => [code, [level.category, level.inherited]]))")
        planner = _planner(web_db, offset)
        assert {code: c for code, (c, _) in shown.items()} == planner  # municipalities are the leaves here
        assert len(shown) == (25 + 66 if offset == 0 else 25)
        assert shown["9155"] == ([5, False] if offset == 0 else [4, True])  # own entry today, the region's tomorrow
        tooltip = page.evaluate(  # a DOM node (text nodes, never HTML): its text
            "window.iolaosConsole.state.zones.tooltip({code: '9153', name_el: 'Μαντούδι'}).textContent")
        assert ("GR-H" in tooltip) == (offset == 0)  # inherited today (the region's 3), its own 3 tomorrow
    browsing.guard.assert_clean()


def test_season_tab_shows_a_season_and_downloads_it(serve, browsing, demo_passwords, web_db, tmp_path):
    days = [athens_day(-d) for d in range(5, 0, -1)]
    engine = make_engine(web_db)
    season.fill(engine, web_db, days=days, regions={"GR-I"}, patrols_per_day=60)
    engine.dispose()
    server = serve()
    _, page = browsing.open(server, "/review", viewport=DESKTOP, accept_downloads=True)
    sign_in(page, "reviewer.attica", demo_passwords["reviewer.attica"])
    page.click("#tab-season")
    page.fill("#sea-start", days[0].strftime("%d/%m/%Y"))
    page.fill("#sea-end", days[-1].strftime("%d/%m/%Y"))
    page.click("#sea-form button[type=submit]")
    page.wait_for_selector("#season-heatmap")
    data = page.evaluate("window.iolaosReview.state.season.data")
    assert len(data["heatmap"]["days"]) == 5 and data["heatmap"]["zones"]
    assert page.locator("#season-worst tbody tr").count() == min(15, len(data["municipalities"]))
    assert page.locator("#season-gini .value").inner_text() == f"{data['gini']:.2f}".replace(".", ",")
    with page.expect_download() as download:
        page.click("#sea-csv")
    path = tmp_path / "season.csv"
    download.value.save_as(path)
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert rows and {r["date"] for r in rows} <= {d.isoformat() for d in days}
    assert sum(float(r["need_hours"]) for r in rows) == pytest.approx(data["totals"]["need_hours"], abs=1)
    browsing.guard.assert_clean()
