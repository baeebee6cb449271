"""Issue 15 acceptance 3 in a real browser: the dispatcher warns the public: draft → publish → update → cancel.

The dispatcher drafts a warning from an incident their agency leads, chooses municipalities as the area, sees the
area on the map and the CAP text, publishes it, updates it, and cancels it; the public JSON index follows each
step, and the review page lists the warning with its history. With IOLAOS_SAVE_SCREENSHOTS=1 the pictures go to
docs/screenshots/ (warnings-*.png); otherwise to the test's temporary folder.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from tests.web.scenario import PENTELI, Api, athens_day, incident, set_risk
from tests.web.server import DESKTOP, sign_in

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _index(server) -> list[dict]:
    return httpx.get(f"{server.url}/api/v1/cap/index.json", timeout=10).json()["messages"]


def _until(check, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_dispatcher_drafts_publishes_updates_and_cancels_a_warning(serve, browsing, demo_passwords, tmp_path):
    shots = SHOTS if os.environ.get("IOLAOS_SAVE_SCREENSHOTS") else tmp_path
    server = serve()
    dispatcher = Api(server.url, demo_passwords, "dispatcher.attica")
    set_risk(dispatcher, {"9176": 4, "9217": 3}, [athens_day(0)])
    fire = incident(dispatcher, "wildfire", *PENTELI, severity="critical", description="caller 6944000000 says flames")
    _, page = browsing.open(server, "/", viewport=DESKTOP)
    sign_in(page, "dispatcher.attica", demo_passwords["dispatcher.attica"])
    page.click("#tab-warnings")
    expect(page.locator("#warn-new")).to_be_enabled()  # the templates have loaded
    page.click("#warn-new")
    expect(page.locator("#warn-form")).to_be_visible()
    expect(page.locator("#warn-incident")).to_have_value(str(fire["id"]))
    page.select_option("#warn-source", "risk_map")  # the risk map proposes its municipalities at 4-5
    expect(page.locator("#warn-hazard")).to_have_value("fire_risk")
    assert page.eval_on_selector("#warn-zones", "s => [...s.selectedOptions].map(o => o.value)") == ["9176"]
    page.select_option("#warn-source", "incident")
    page.select_option("#warn-hazard", "wildfire")
    page.select_option("#warn-response", "Evacuate")
    assert "Leave the area now" in page.input_value("#warn-instruction_en")
    page.click("#warn-area-zones")
    page.select_option("#warn-zones", ["9176", "9217"])
    page.select_option("#warn-hours", "6")
    page.screenshot(path=str(shots / "warnings-draft-desktop.png"))
    page.click("#warn-save")
    expect(page.locator("#warn-xml")).to_contain_text("<msgType>Alert</msgType>")
    xml = page.inner_text("#warn-xml")
    assert "<status>Exercise</status>" in xml and "<valueName>YPES</valueName>" in xml
    assert "6944000000" not in xml and "flames" not in xml  # the reporter's words stay out
    assert page.evaluate("window.iolaosConsole.state.warnings.layer.getLayers().length") == 1  # the area on the map
    assert _index(server) == []  # a draft is not public
    page.screenshot(path=str(shots / "warnings-preview-desktop.png"))

    page.click("#warn-publish")
    expect(page.locator("#warn-messages li")).to_have_count(1)
    _until(lambda: [m["msgType"] for m in _index(server)] == ["Alert"])
    page.screenshot(path=str(shots / "warnings-published-desktop.png"))

    page.click("#warn-edit")
    page.click("#warn-area-circle")
    page.fill("#warn-radius", "8")
    page.select_option("#warn-severity", "Extreme")
    page.click("#warn-save")
    expect(page.locator("#warn-xml")).to_contain_text("<msgType>Update</msgType>")
    expect(page.locator("#warn-xml")).to_contain_text("<references>")
    page.click("#warn-publish")
    expect(page.locator("#warn-messages li")).to_have_count(2)
    _until(lambda: [m["msgType"] for m in _index(server)] == ["Update"])
    [update] = _index(server)
    assert len(update["references"]) == 1
    page.screenshot(path=str(shots / "warnings-updated-desktop.png"))

    page.click("#warn-cancel")
    page.fill("#reason-input", "fire contained by ground crews")
    page.click("dialog button[type=submit]")
    expect(page.locator("#warn-messages li")).to_have_count(3)
    _until(lambda: [m["msgType"] for m in _index(server)] == ["Cancel"])
    [cancel] = _index(server)
    assert len(cancel["references"]) == 2 and cancel["state"] == "cancelled"
    page.screenshot(path=str(shots / "warnings-cancelled-desktop.png"))

    _, review = browsing.open(server, "/review", viewport=DESKTOP)
    sign_in(review, "reviewer.attica", demo_passwords["reviewer.attica"])
    review.click("#tab-warnings")
    review.click("#warn-list button[data-warning]")
    expect(review.locator("#warn-messages-table tbody tr")).to_have_count(3)
    assert [r.get_attribute("data-type") for r in review.locator("#warn-messages-table tbody tr").all()] == [
        "Alert", "Update", "Cancel"]
    expect(review.locator("#warn-journal li")).to_have_count(5)  # draft, publish, edit, publish, cancel
    review.screenshot(path=str(shots / "warnings-review-desktop.png"))
    browsing.guard.assert_clean()
