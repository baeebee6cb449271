"""Issue 7, acceptance 5: smoke reported in Mantoudi–Limni–Agia Anna reaches the Central Greece fire console live.

A real uvicorn server in its own process over the test database; the dispatcher's console is a
websocket client subscribed to its command's topic before a volunteer leader reports the smoke over REST.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select

from iolaos.config import Settings
from iolaos.db import session_scope
from iolaos.organisations.models import Organisation
from iolaos.zones.models import Zone
from tests.realtime.live import LiveServer, bearer, connect, recv_until, sign_in

SMOKE_AT = (23.45, 38.80)  # Municipality of Mantoudi–Limni–Agia Anna, north Evia
FIRE_COMMAND = "Fire Service Regional Command of Central Greece"
WITHIN_SECONDS = 2.0


@pytest.fixture
def server(db: Settings) -> Iterator[LiveServer]:
    """uvicorn over the fresh database."""
    live = LiveServer(db).start().wait_ready()
    yield live
    live.stop()


def _ids(engine) -> tuple[int, str]:
    """The Fire Service command for Central Greece and the municipality's zone code."""
    with session_scope(engine) as session:
        fire = session.scalar(select(Organisation.id).where(Organisation.name_en == FIRE_COMMAND,
                                                            Organisation.kind == "fire_service"))
        code = session.scalar(select(Zone.code).where(Zone.name_en.like("%Mantoudi%")))
    return fire, code


async def _console_sees_the_report(server: LiveServer, dispatcher: str, leader: str, fire_id: int
                                   ) -> tuple[dict, dict, float]:
    """Subscribe as the console, report as the leader; (event, REST answer, seconds from POST to event)."""
    ws, welcome, subscribed = await connect(server, dispatcher, [f"org:{fire_id}"])
    try:
        assert welcome["username"] == "dispatcher.sterea"
        assert subscribed["topics"] == [f"org:{fire_id}"] and subscribed["denied"] == []
        await recv_until(ws, lambda m: m["type"] == "live")
        body = {"kind": "smoke", "point": {"type": "Point", "coordinates": list(SMOKE_AT)},
                "description": "καπνός πάνω από το δάσος"}
        began = time.monotonic()
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            resp = await http.post("/api/v1/incidents", json=body, headers=bearer(leader))
        assert resp.status_code == 201, resp.text
        event, _ = await recv_until(ws, lambda m: m["type"] == "event" and m["kind"] == "incident.reported",
                                    timeout=WITHIN_SECONDS + 3)
        return event, resp.json(), time.monotonic() - began
    finally:
        await ws.close()


def test_smoke_in_mantoudi_reaches_the_central_greece_fire_console_live(server, engine, demo_passwords):
    fire_id, mantoudi = _ids(engine)
    assert fire_id is not None and mantoudi is not None
    dispatcher = sign_in(server.url, "dispatcher.sterea", demo_passwords["dispatcher.sterea"])
    leader = sign_in(server.url, "leader.limni", demo_passwords["leader.limni"])
    event, answer, seconds = asyncio.run(_console_sees_the_report(server, dispatcher, leader, fire_id))
    assert answer["lead_organisation_id"] == fire_id and answer["zone_code"] == mantoudi
    assert answer["region_code"] == "GR-H"
    assert event["payload"]["id"] == answer["id"]
    assert event["payload"]["lead_organisation_id"] == fire_id
    assert event["payload"]["kind"] == "smoke" and f"org:{fire_id}" in event["topics"]
    assert seconds <= WITHIN_SECONDS, f"the event took {seconds:.2f} s"
