"""A backed-up console queue keeps only the newest position per patrol crew member, and batches frames."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

from iolaos.auth.principal import Principal
from iolaos.realtime import protocol
from iolaos.realtime.connection import Connection
from iolaos.realtime.store import coalesce_key

AT = datetime(2026, 8, 1, 12, 0, tzinfo=UTC)


def _event(seq: int, kind: str, payload: dict) -> tuple[int, str, object]:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return seq, protocol.event_message(seq, AT, kind, ("org:1",), text), coalesce_key(kind, text)


def _position(seq: int, patrol: int, volunteer: int) -> tuple[int, str, object]:
    return _event(seq, "position", {"patrol_id": patrol, "volunteer_id": volunteer, "lon": 23.0 + seq / 1000,
                                    "lat": 38.0, "at": AT.isoformat(), "organisation_id": 1})


def _connection(batch: bool, coalesce_after: int) -> Connection:
    principal = Principal(user_id=1, username="d", full_name="D", role="dispatcher", organisation_id=1,
                          organisation_kind="fire_service", region_id=None)
    conn = Connection(principal, "token", None, max_queue=100, coalesce_after=coalesce_after)
    conn.batch_frames = batch
    return conn


async def _drain(conn: Connection) -> list[str]:
    """Run the sender until the queue is empty; the frames it sent."""
    frames: list[str] = []

    async def send(frame: str) -> None:
        frames.append(frame)

    sender = asyncio.create_task(conn.run_sender(send))
    while conn.queue:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.01)
    sender.cancel()
    return frames


def _offer_backlog(conn: Connection) -> None:
    for seq in (1, 2, 3, 4):  # four incidents: the queue is backed up from here on
        conn.offer(*_event(seq, "incident.updated", {"id": seq}))
    for item in (_position(5, 10, 100), _position(6, 10, 100), _position(7, 10, 101), _position(8, 10, 100),
                 _position(9, 11, 100), _event(10, "incident.updated", {"id": 10})):
        conn.offer(*item)


def test_a_backed_up_queue_keeps_the_newest_position_per_crew_member_in_one_frame():
    conn = _connection(batch=True, coalesce_after=4)
    _offer_backlog(conn)
    frames = asyncio.run(_drain(conn))
    assert len(frames) == 1  # the backlog goes out as one frame, one message per line
    messages = [json.loads(line) for line in frames[0].split("\n")]
    assert [m["seq"] for m in messages] == [1, 2, 3, 4, 7, 8, 9, 10]  # seq order kept
    by_seq = {m["seq"]: m for m in messages}
    assert by_seq[8]["coalesced"] == [5, 6] and by_seq[8]["payload"]["lon"] == 23.008
    assert "coalesced" not in by_seq[7] and "coalesced" not in by_seq[9]  # another crew member, another patrol
    assert conn.coalesced == 2 and conn.sent == 8


def test_without_a_backlog_or_batching_every_message_has_its_own_frame():
    conn = _connection(batch=False, coalesce_after=50)
    _offer_backlog(conn)
    frames = asyncio.run(_drain(conn))
    assert [json.loads(f)["seq"] for f in frames] == list(range(1, 11))
    assert not any("coalesced" in json.loads(f) for f in frames) and conn.coalesced == 0
