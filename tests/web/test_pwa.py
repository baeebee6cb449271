"""Issue 18, acceptance 1, in a real browser: the field page as an offline app.

After one online visit the field page loads with no network at all (the server is stopped and the browser is
offline), a smoke report made then waits in the outbox, and it arrives exactly once when the network and the server
return. The page asks for notification permission only when the person presses the button, never on load.
"""

from __future__ import annotations

import threading
import time

import pytest
import uvicorn
from sqlalchemy import select

from iolaos.app import create_app
from iolaos.db import session_scope
from iolaos.incidents.models import Incident
from tests.web.scenario import LIMNI
from tests.web.server import PHONE, Server, sign_in
from tests.web.waits import incidents, quiet, until

pytestmark = pytest.mark.browser
COUNT_PERMISSION_ASKS = """
  window.__permissionAsks = 0;
  if ('Notification' in window) {
    const ask = Notification.requestPermission.bind(Notification);
    Notification.requestPermission = (...args) => { window.__permissionAsks += 1; return ask(...args); };
  }
"""








def _same_port(settings, port: int) -> Server:
    """A server over the same database on the port the browser knows (the phone's bookmark)."""
    server = Server(settings)
    server.port, server.url = port, f"http://127.0.0.1:{port}"
    server.server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                                  log_level="warning"))
    server.thread = threading.Thread(target=server.server.run, daemon=True)
    return server


def _vapid_key(folder):
    from typer.testing import CliRunner

    from iolaos.cli import app

    out = folder / "vapid.pem"
    assert CliRunner().invoke(app, ["notify", "vapid-keygen", "--out", str(out)]).exit_code == 0
    return out


def test_field_page_opens_offline_and_sends_the_queued_report_once(serve, browsing, demo_passwords, engine, web_db,
                                                                    tmp_path):
    web_db = web_db.model_copy(update={"notify_vapid_private_key": _vapid_key(tmp_path)})
    server = serve(notify_vapid_private_key=web_db.notify_vapid_private_key)
    context, page = browsing.open(server, "/field", viewport=PHONE, is_mobile=True, has_touch=True,
                                  geolocation={"longitude": LIMNI[0], "latitude": LIMNI[1], "accuracy": 12},
                                  permissions=["geolocation"])
    page.add_init_script(COUNT_PERMISSION_ASKS)
    page.reload()
    sign_in(page, "leader.limni", demo_passwords["leader.limni"])
    page.wait_for_selector("body[data-offline-ready]", timeout=20_000)
    assert page.evaluate("navigator.serviceWorker.controller !== null")
    page.wait_for_selector("#notify-enable")  # offered, not asked
    assert page.evaluate("window.__permissionAsks") == 0
    assert page.evaluate("fetch('/manifest.webmanifest').then(r => r.json()).then(m => m.start_url)") == "/field"
    before = incidents(engine)

    quiet(page, for_seconds=0.5)
    context.set_offline(True)
    page.wait_for_selector('#conn[data-state="offline"]')
    server.server.force_exit = True  # do not wait for the offline page's idle connections
    server.stop()  # no network, and nothing behind it either
    assert not server.thread.is_alive()
    page.reload()
    page.wait_for_selector("#report-open", timeout=20_000)
    assert page.locator("#orgline").inner_text().startswith("Εθελοντές Δασοπροστασίας Λίμνης")
    until(page, "Boolean(window.iolaosField && window.iolaosField.state.zones)", timeout=20)
    assert page.evaluate("window.__permissionAsks") == 0

    page.click("#report-open")
    page.wait_for_selector("#loc-text:has-text('38.77')")
    page.fill("#report-note", "Καπνός στη ρεματιά, χωρίς σήμα")
    page.click("#report-send")
    page.wait_for_selector('#outbox-items li[data-state="pending"]')
    time.sleep(1.0)
    assert incidents(engine) == before, "nothing can leave the phone while it is offline"

    again = _same_port(web_db, server.port).start()
    try:
        with page.expect_response(lambda r: r.url.endswith("/api/v1/incidents") and r.request.method == "POST"
                                  ) as got:
            context.set_offline(False)
        assert got.value.status == 201
        page.wait_for_selector("#outbox", state="hidden", timeout=20_000)
        page.wait_for_selector('#conn[data-state="live"]', timeout=20_000)
        time.sleep(1.5)  # time for a second flush (Background Sync, reconnect) to repeat it, if it were to
        assert incidents(engine) == before + 1, "the queued report must arrive exactly once"
        with session_scope(engine) as session:
            newest = session.scalars(select(Incident).order_by(Incident.id.desc()).limit(1)).one()
            assert newest.description.startswith("Καπνός στη ρεματιά")
        browsing.guard.assert_clean()
    finally:
        again.stop()


def test_console_shows_each_notifications_delivery_status(serve, browsing, demo_passwords, engine):
    from iolaos.auth.models import User
    from iolaos.volunteers.models import Volunteer
    from tests.web.server import DESKTOP

    with session_scope(engine) as session:  # the Limni leader is on duty, so a smoke report in their area reaches them
        leader = session.scalar(select(User.id).where(User.username == "leader.limni"))
        session.scalar(select(Volunteer).where(Volunteer.user_id == leader)).status = "available"
    server = serve()
    _, page = browsing.open(server, "/", viewport=DESKTOP)
    sign_in(page, "dispatcher.sterea", demo_passwords["dispatcher.sterea"])
    token = page.evaluate("localStorage.getItem('iolaos.token')")
    made = page.evaluate("""(token) => fetch('/api/v1/incidents', {method: 'POST', headers: {'Content-Type':
        'application/json', Authorization: `Bearer ${token}`}, body: JSON.stringify({kind: 'smoke',
        point: {type: 'Point', coordinates: [23.45, 38.80]}})}).then(r => r.status)""", token)
    assert made == 201
    page.click("#tab-safety")
    page.evaluate("window.iolaosConsole.state.notifications.load()")
    badge = page.locator('#notifications li .deliveries [data-channel="email"]').first
    badge.wait_for(timeout=15_000)
    assert badge.get_attribute("data-status") == "pending"
    assert "αναμονή" in badge.inner_text()
    row = page.locator("#notifications li").first.inner_text()
    assert "Καπνός" in row
    browsing.guard.assert_clean()
