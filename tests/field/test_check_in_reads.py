"""Check-in works out the patrol's executing organisation (the crew as it is now) once, not once per check."""

from __future__ import annotations

import re

from sqlalchemy import event
from sqlalchemy.engine import Engine

# The crew as it is now (patrols.access.crew_now): assignments joined to volunteers, filtered by status.
CREW_NOW = re.compile(r"FROM assignment JOIN volunteer .*assignment\.status IN", re.DOTALL | re.IGNORECASE)


def test_a_leaders_check_in_reads_the_crew_as_it_is_now_once(client, sign_in, crew):
    leader = sign_in(client, "leader.limni")
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", seen)
    try:
        resp = client.post(f"/api/v1/patrols/{crew.patrol_id}/check-in", json={"volunteer_ids": crew.volunteer_ids},
                           headers=leader)
    finally:
        event.remove(Engine, "before_cursor_execute", seen)
    assert resp.status_code == 200, resp.text
    assert {a["status"] for a in resp.json()["crew"]} == {"checked_in"}
    reads = [s for s in statements if CREW_NOW.search(s)]
    assert len(reads) == 1, reads
