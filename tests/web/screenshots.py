"""Screenshots of the three pages at desktop (1440×900) and phone (390×844) sizes, with demo data.

    .venv/bin/python -m tests.web.screenshots [--out docs/screenshots] [--only-season]

Builds a fresh SQLite demo database in a temporary folder (Greece's boundaries and the demo actors), starts the
service, sets up a realistic evening over the API (tests/web/scenario.py: risk maps, tomorrow's plans, incidents,
leaders' answers) and photographs the pages in headless Chromium (/usr/bin/chromium).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from iolaos.auth.actor import system_actor
from iolaos.config import Settings
from iolaos.db import make_engine, session_scope
from iolaos.demo import seed
from iolaos.migrate import upgrade
from iolaos.zones import loading
from tests.web import scenario
from tests.web.server import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE, Server, sign_in

ROOT = Path(__file__).resolve().parents[2]


def demo_database(folder: Path) -> tuple[Settings, dict[str, str]]:
    """A migrated SQLite database with the boundaries and demo actors; returns its settings and the passwords."""
    settings = Settings(database_url=f"sqlite:///{folder / 'screens.db'}")
    upgrade(settings)
    engine = make_engine(settings)
    loading.load_greece(engine, settings, actor=system_actor("screenshots"))
    with session_scope(engine) as session:
        accounts = seed.seed(session)
    engine.dispose()
    return settings, {a.username: a.password for a in accounts}


class Camera:
    """Opens signed-in pages and saves screenshots."""

    def __init__(self, browser, base: str, passwords: dict[str, str], out: Path) -> None:
        self.browser, self.base, self.passwords, self.out = browser, base, passwords, out

    def page(self, path: str, user: str, viewport: dict, lang: str = "el"):
        """A fresh context signed in as ``user`` at ``path`` in language ``lang``."""
        context = self.browser.new_context(viewport=viewport, locale="el-GR" if lang == "el" else "en-GB",
                                           timezone_id="Europe/Athens", is_mobile=viewport is PHONE,
                                           has_touch=viewport is PHONE, permissions=["geolocation"],
                                           geolocation={"longitude": 23.21, "latitude": 38.93, "accuracy": 15})
        context.add_init_script(f"localStorage.setItem('iolaos.lang', '{lang}')")
        page = context.new_page()
        page.on("console", lambda m: print(f"  console {m.type}: {m.text}") if m.type == "error" else None)
        page.goto(self.base + path)
        sign_in(page, user, self.passwords[user])
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(600)
        return page

    def shoot(self, page, name: str, full_page: bool = False) -> None:
        """Save the page as ``name``.png and close its context."""
        page.wait_for_timeout(400)
        page.screenshot(path=str(self.out / f"{name}.png"), full_page=full_page)
        print(f"  {name}.png")
        page.context.close()


def shoot_all(camera: Camera) -> None:
    """Every screenshot shown in the README."""
    page = camera.page("/", "dispatcher.attica", DESKTOP)
    page.locator("#queue li button").nth(1).click()
    camera.shoot(page, "console-desktop")
    page = camera.page("/", "dispatcher.attica", DESKTOP, lang="en")
    page.click("#day-tomorrow")
    page.click("#tab-patrols")
    page.wait_for_selector("#patrols li button")
    page.locator("#patrols li button", has_text="awaiting").first.click()
    camera.shoot(page, "console-desktop-en")
    page = camera.page("/", "dispatcher.sterea", PHONE)
    camera.shoot(page, "console-phone")

    page = camera.page("/field", "leader.north_evia", DESKTOP)
    camera.shoot(page, "field-desktop")
    page = camera.page("/field", "leader.north_evia", PHONE)
    camera.shoot(page, "field-phone")
    page = camera.page("/field", "leader.north_evia", PHONE, lang="en")
    page.context.set_offline(True)
    page.click("#report-open")
    page.wait_for_selector("#loc-text:has-text('38.93')")
    page.fill("#report-note", "Grey smoke behind the ridge, north-west of the village")
    page.click("#report-send")
    page.wait_for_selector("#outbox-items li")
    page.evaluate("window.scrollTo(0, 0)")
    camera.shoot(page, "field-phone-offline-en")

    page = camera.page("/review", "reviewer.attica", DESKTOP)
    page.select_option("#f-org", label="Περιφερειακή Διοίκηση Πυροσβεστικών Υπηρεσιών Αττικής")
    page.click("#apply")
    page.wait_for_timeout(500)
    camera.shoot(page, "review-desktop")
    page = camera.page("/review", "reviewer.attica", DESKTOP)
    page.click("#tab-coverage")
    page.wait_for_selector("#coverage .chart svg")
    camera.shoot(page, "review-coverage-desktop")
    page = camera.page("/review", "reviewer.sterea", PHONE)
    page.click("#tab-incidents")
    page.locator("#inc-list li button").first.click()
    page.wait_for_selector("#timeline .holders")
    page.locator("#timeline").scroll_into_view_if_needed()
    camera.shoot(page, "review-phone")


def fill_season(settings: Settings) -> None:
    """The demo's synthetic fire season (iolaos demo --season) of the latest season begun."""
    from datetime import date

    from iolaos.demo import season

    today = date.today()
    engine = make_engine(settings)
    season.fill(engine, settings, days=season.season_days(today.year if today.month >= 5 else today.year - 1),
                regions=set(season.DEMO_REGIONS), patrols_per_day=season.DEMO_PATROLS_PER_DAY)
    engine.dispose()


def shoot_season(camera: Camera) -> None:
    """The review page's Season tab, in Greek and in English."""
    for lang, name in (("el", "review-season-desktop"), ("en", "review-season-desktop-en")):
        page = camera.page("/review", "reviewer.attica", DESKTOP, lang=lang)
        page.click("#tab-season")
        page.wait_for_selector("#season-heatmap", timeout=60_000)
        page.locator("#season-heatmap").hover(position={"x": 420, "y": 40})
        camera.shoot(page, name, full_page=True)


def main() -> None:
    """Build the demo, serve it and take the screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--only-season", action="store_true", help="only the review page's Season tab")
    args = parser.parse_args()
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="iolaos-screens-") as tmp:
        print("building the demo database…")
        settings, passwords = demo_database(Path(tmp))
        server = Server(settings).start()
        try:
            if not args.only_season:
                scenario.build(server.url, passwords)
            print("filling a synthetic season…")
            fill_season(settings)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                                     args=[*CHROMIUM_ARGS, "--lang=el-GR"])
                camera = Camera(browser, server.url, passwords, out)
                if not args.only_season:
                    shoot_all(camera)
                shoot_season(camera)
                browser.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
