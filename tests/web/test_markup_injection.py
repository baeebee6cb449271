"""Issue 16 in a real browser: names and notes that look like HTML are shown as text, never parsed as markup.

A volunteer's name, a zone's name (from a boundary file someone imported), an SOS note and an incident's
description all hold ``<img …><b>x</b>``. The console's crew tooltip, zone tooltip, alert list and incident
details, and the field page's zone tooltip and incident list, must show those characters literally and create
no ``<img>`` or ``<b>`` element from them. The page guard adds that no request for ``x`` was made (it would
fail with a console error) and that the CSP refused no inline handler.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from iolaos.db import session_scope
from iolaos.zones.models import Zone
from tests.field import scenario as field
from tests.web.scenario import LIMNI, Api, incident
from tests.web.server import DESKTOP, PHONE, sign_in
from tests.web.waits import until

pytestmark = pytest.mark.browser
MARKUP = '<img src=x onerror="window.injected=1"><b>x</b>'
CREW_AT = (23.45, 38.80)  # in Mantoudi-Limni-Agia Anna (9153), some way east of Limni
INJECTED = "Boolean(window.injected)"


def _hover(page, lon: float, lat: float) -> None:
    """Centre the map on a point and move the mouse there (what opens a Leaflet tooltip)."""
    the_map = "(window.iolaosConsole?.map ?? window.iolaosField.state.map)"
    until(page, f"!{the_map}._animatingZoom")  # the page's own fitBounds may still be zooming
    page.evaluate(f"([lat, lon]) => {{ {the_map}.setView([lat, lon], 12, {{animate: false}}); }}", [lat, lon])
    until(page, f"!{the_map}._animatingZoom")
    box = page.locator("#map").bounding_box()
    x, y = page.evaluate(f"([lat, lon]) => {{ const p = {the_map}.latLngToContainerPoint([lat, lon]);"
                         " return [p.x, p.y]; }", [lat, lon])
    page.mouse.move(box["x"] + x - 5, box["y"] + y - 5)
    page.mouse.move(box["x"] + x, box["y"] + y)


def _assert_text_only(page, selector: str, text: str) -> None:
    """The element shows ``text`` literally and holds no element made from the markup."""
    element = page.locator(selector).filter(has_text=text.split()[0]).first
    expect(element).to_contain_text(text)
    assert element.locator("img").count() == 0
    assert element.locator("b").count() == 0


def _world(engine, server, passwords) -> tuple[int, tuple[float, float]]:
    """A patrol under way in 9153 whose crew member is named with markup, an SOS and an incident with markup: the
    patrol's id and a point of the zone away from the markers.

    The patrol is written around the current time (tests/field/scenario.py), so the test does not depend on
    the hour it runs at."""
    with session_scope(engine) as session:  # as if a hostile boundary file had been imported
        session.execute(update(Zone).where(Zone.code == "9153").values(name_el=f"Λίμνη {MARKUP}",
                                                                       name_en=f"Limni {MARKUP}"))
    apis: dict[str, Api] = {}

    def call(username: str, method: str, path: str, json: dict | None = None):
        api = apis.setdefault(username, Api(server.url, passwords, username))
        return api.http.request(method, path, json=json)

    me = call("volunteer.limni", "GET", "/api/v1/auth/me").json()["id"]
    mine = next(v for v in call("leader.limni", "GET", "/api/v1/volunteers?limit=500").json() if v["user_id"] == me)
    resp = call("leader.limni", "PATCH", f"/api/v1/volunteers/{mine['id']}", {"full_name": f"Νίκος {MARKUP}"})
    assert resp.status_code == 200, resp.text
    day = field.plan(engine)
    field.accept(call, day)
    field.go_out(call, day)
    assert field.report(call, day, "empty", CREW_AT).json()["accepted"] == 1
    patrol_id = day.patrols["empty"]
    assert call("volunteer.limni", "POST", f"/api/v1/patrols/{patrol_id}/sos", {"note": f"SOS {MARKUP}"}).is_success
    incident(apis["leader.limni"], "smoke", *LIMNI, "high", f"Καπνός {MARKUP}")
    inside = day.inside["empty"]
    assert min(abs(inside[0] - x) + abs(inside[1] - y) for x, y in (CREW_AT, LIMNI)) > 0.02
    return patrol_id, inside


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_console_tooltips_and_lists_show_markup_as_text(serve, browsing, demo_passwords, engine, viewport):
    server = serve()
    patrol_id, inside = _world(engine, server, demo_passwords)
    _, console = browsing.open(server, "/", viewport=viewport)
    sign_in(console, "dispatcher.sterea", demo_passwords["dispatcher.sterea"])
    until(console, f"[...window.iolaosConsole.state.field.positions.keys()].some(k => k.startsWith('{patrol_id}:'))")
    until(console, f"window.iolaosConsole.state.field.patrols.has({patrol_id})")
    until(console, "Boolean(window.iolaosConsole.state.zones)")

    _hover(console, *CREW_AT)
    _assert_text_only(console, ".leaflet-tooltip .crew-tooltip", f"Νίκος {MARKUP}")
    expect(console.locator(".leaflet-tooltip .crew-tooltip")).to_contain_text(f"Λίμνη {MARKUP}")
    console.mouse.move(0, 0)
    _hover(console, *inside)
    _assert_text_only(console, ".leaflet-tooltip .zone-tooltip", f"Λίμνη {MARKUP}")

    _assert_text_only(console, "#alerts li.alert-sos", f"SOS {MARKUP}")
    console.locator("#queue li[data-incident]").first.click()
    _assert_text_only(console, "dd", f"Καπνός {MARKUP}")
    assert console.locator("img[src=x], img[src$='/x']").count() == 0
    assert console.evaluate(INJECTED) is False
    browsing.guard.assert_clean()


def test_field_page_shows_markup_as_text_on_a_phone(serve, browsing, demo_passwords, engine):
    server = serve()
    _, inside = _world(engine, server, demo_passwords)
    _, phone = browsing.open(server, "/field", viewport=PHONE, is_mobile=True, has_touch=True)
    sign_in(phone, "leader.limni", demo_passwords["leader.limni"])
    until(phone, "Boolean(window.iolaosField && window.iolaosField.state.zones)")

    _assert_text_only(phone, "li[data-incident]", f"Καπνός {MARKUP}")
    _hover(phone, *inside)
    _assert_text_only(phone, ".leaflet-tooltip .zone-tooltip", f"Λίμνη {MARKUP}")
    assert phone.locator("img[src=x], img[src$='/x']").count() == 0
    assert phone.evaluate(INJECTED) is False
    browsing.guard.assert_clean()
