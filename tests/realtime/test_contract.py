"""Acceptance 1 (and 3): one contract, passed by every fan-out backend (memory, Redis, PostgreSQL NOTIFY).

Changes are made through one instance and clients listen on another (the same process for the in-process
backend). Polls are 30 s apart there, so prompt delivery proves the backend's wake-ups work.
"""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
import websockets

from iolaos.realtime.backends import make_backend
from iolaos.realtime.backends.base import Backend
from tests.realtime.conftest import Pair
from tests.realtime.live import bearer, connect, events, patch_volunteer, recv, recv_until

ATHENS, MANTOUDI = "9186", "9153"  # municipalities in Attica (GR-I) and Central Greece (GR-H)


def _ids(pair: Pair) -> dict[str, int]:
    people = pair.people
    return {"penteli": people.me("leader.penteli")["organisation_id"],
            "lamia": people.me("leader.lamia")["organisation_id"],
            "penteli_user": people.me("leader.penteli")["id"], "lamia_user": people.me("leader.lamia")["id"],
            "penteli_vol": people.volunteer_ids("leader.penteli")[0],
            "lamia_vol": people.volunteer_ids("leader.lamia")[0]}


def test_token_in_first_message_gets_a_welcome_with_the_journal_position(pair: Pair):
    async def run():
        ws, welcome, _ = await connect(pair.reader, pair.people.token("leader.penteli"))
        await ws.close()
        return welcome
    welcome = asyncio.run(run())
    seq, epoch = pair.journal.head()
    assert welcome["username"] == "leader.penteli" and welcome["epoch"] == epoch and welcome["seq"] <= seq


@pytest.mark.parametrize("first", [{"type": "auth", "token": "garbage"}, {"type": "subscribe", "topics": []},
                                   {"type": "auth"}, None])
def test_missing_or_bad_authentication_closes_with_4001(pair: Pair, first):
    async def run():
        async with websockets.connect(pair.reader.ws_url) as ws:
            if first is not None:
                await ws.send(json.dumps(first))
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 5)  # None: says nothing, times out after 1.5 s
            return closed.value.rcvd.code
    assert asyncio.run(run()) == 4001


def test_a_ticket_works_once_and_expires(pair: Pair):
    token = pair.people.token("leader.penteli")

    def ticket() -> str:
        resp = httpx.post(pair.reader.url + "/api/v1/realtime/ticket", headers=bearer(token), timeout=5)
        assert resp.status_code == 200, resp.text
        assert resp.json()["expires_in"] <= 60
        return resp.json()["ticket"]

    async def use(value: str, in_url: bool) -> object:
        url = pair.reader.ws_url + (f"?ticket={value}" if in_url else "")
        async with websockets.connect(url) as ws:
            if not in_url:
                await ws.send(json.dumps({"type": "auth", "ticket": value}))
            try:
                return (await recv(ws))["type"]
            except websockets.ConnectionClosed as exc:
                return exc.rcvd.code

    first = ticket()
    assert asyncio.run(use(first, True)) == "welcome"
    assert asyncio.run(use(first, True)) == 4001  # single use
    assert asyncio.run(use(ticket(), False)) == "welcome"
    late = ticket()
    time.sleep(1.3)
    assert asyncio.run(use(late, False)) == 4001  # expired
    assert httpx.post(pair.reader.url + "/api/v1/realtime/ticket", timeout=5).status_code == 401


def test_origin_must_be_the_same_site_or_absent(pair: Pair):
    async def opens(origin: str | None) -> bool:
        try:
            async with websockets.connect(pair.reader.ws_url, origin=origin):
                return True
        except websockets.InvalidStatus as exc:
            assert exc.response.status_code == 403
            return False
    assert asyncio.run(opens(None))
    assert asyncio.run(opens(f"http://127.0.0.1:{pair.reader.port}"))
    assert not asyncio.run(opens("http://evil.example"))
    assert not asyncio.run(opens(f"http://127.0.0.1:{pair.reader.port + 1}"))


def test_each_topic_is_authorised_for_the_subscriber(pair: Pair):
    ids = _ids(pair)
    wanted = {
        f"org:{ids['penteli']}": None, f"org:{ids['lamia']}": "forbidden",
        f"volunteer:{ids['penteli_vol']}": None, f"volunteer:{ids['lamia_vol']}": "forbidden",
        f"user:{ids['penteli_user']}": None, f"user:{ids['lamia_user']}": "forbidden",
        "region:GR-I": None, "region:GR-H": "forbidden", f"zone:{ATHENS}": None, f"zone:{MANTOUDI}": "forbidden",
        "zones": None, "incident:999999": "forbidden", "patrol:1": "forbidden", "org:999999": "forbidden",
        "nonsense": "invalid_topic", "org:abc": "invalid_topic",
    }

    async def run():
        ws, _, subscribed = await connect(pair.reader, pair.people.token("leader.penteli"), list(wanted))
        await ws.close()
        return subscribed
    subscribed = asyncio.run(run())
    denied = {d["topic"]: d["reason"] for d in subscribed["denied"]}
    assert set(subscribed["topics"]) == {t for t, reason in wanted.items() if reason is None}
    assert denied == {t: reason for t, reason in wanted.items() if reason is not None}


def test_a_change_arrives_live_within_a_second(pair: Pair):
    ids, token = _ids(pair), pair.people.token("leader.penteli")

    async def run():
        ws, _, _ = await connect(pair.reader, token, [f"org:{ids['penteli']}"])
        await recv_until(ws, lambda m: m["type"] == "live")
        started = time.monotonic()
        await asyncio.to_thread(patch_volunteer, httpx.Client(), pair.writer.url, token, ids["penteli_vol"],
                                "unavailable")
        event, _ = await recv_until(ws, lambda m: m["type"] == "event", timeout=3)
        await ws.close()
        return event, time.monotonic() - started
    event, took = asyncio.run(run())
    assert took < 1.5, f"{pair.fanout}: {took:.2f}s (poll interval is 30 s: the wake-up was lost)"
    assert event["kind"] == "volunteer.update" and event["payload"]["status"] == "unavailable"
    assert set(event["topics"]) == {f"org:{ids['penteli']}", f"volunteer:{ids['penteli_vol']}"}


def test_change_through_instance_a_reaches_client_on_instance_b(pair: Pair):
    """Acceptance 3 (Redis and PostgreSQL backends: two uvicorn processes on one database)."""
    if pair.writer is pair.reader:
        pytest.skip("the in-process backend serves one process")
    test_a_change_arrives_live_within_a_second(pair)


def test_resume_replays_exactly_the_missed_events_then_streams_live(pair: Pair):
    ids, token = _ids(pair), pair.people.token("leader.penteli")
    lamia = pair.people.token("leader.lamia")
    start, epoch = pair.journal.head()
    with httpx.Client() as http:
        for i in range(4):
            patch_volunteer(http, pair.writer.url, token, ids["penteli_vol"], ["available", "off_duty"][i % 2])
            patch_volunteer(http, pair.writer.url, lamia, ids["lamia_vol"], "available")
    missed = pair.journal.wait_seqs(f"org:{ids['penteli']}", start, 4)
    assert len(missed) == 4

    async def run():
        ws, _, subscribed = await connect(pair.reader, token, [f"org:{ids['penteli']}"], after=start, epoch=epoch)
        live, before = await recv_until(ws, lambda m: m["type"] == "live")
        await asyncio.to_thread(patch_volunteer, httpx.Client(), pair.writer.url, token, ids["penteli_vol"],
                                "unavailable")
        after_live, _ = await recv_until(ws, lambda m: m["type"] == "event", timeout=3)
        await ws.close()
        return subscribed, before, live, after_live
    subscribed, before, live, after_live = asyncio.run(run())
    assert subscribed["after"] == start
    assert [e["seq"] for e in events(before)] == missed
    assert live["seq"] >= missed[-1] and after_live["seq"] > live["seq"]


@pytest.mark.parametrize("case", ["other_epoch", "future", "too_far_behind"])
def test_a_resume_that_cannot_replay_gets_reset(pair: Pair, case):
    head, epoch = pair.journal.head()
    after, sent_epoch, reason = {"other_epoch": (head, "0" * 36, "epoch_changed"),
                                 "future": (head + 1000, epoch, "unknown_position"),
                                 "too_far_behind": (max(head - 21, 0), epoch, "too_far_behind")}[case]
    assert head > 21, "the template journal should hold more events than max_replay (20)"

    async def run():
        ws, _, subscribed = await connect(pair.reader, pair.people.token("admin"), ["zones"], after=after,
                                          epoch=sent_epoch)
        reset, _ = await recv_until(ws, lambda m: m["type"] == "reset")
        live, skipped = await recv_until(ws, lambda m: m["type"] == "live")
        await ws.close()
        return subscribed, reset, live, skipped
    subscribed, reset, live, skipped = asyncio.run(run())
    assert reset["reason"] == reason and reset["epoch"] == epoch
    assert subscribed["after"] == reset["seq"] == live["seq"] <= pair.journal.head()[0]
    assert not events(skipped)


def test_heartbeats_carry_a_resume_point_and_pings_get_pongs(pair: Pair):
    ids = _ids(pair)

    async def run():
        ws, _, _ = await connect(pair.reader, pair.people.token("leader.penteli"), [f"org:{ids['penteli']}"])
        live, _ = await recv_until(ws, lambda m: m["type"] == "live")
        ping, _ = await recv_until(ws, lambda m: m["type"] == "ping", timeout=3)
        await ws.send(json.dumps({"type": "ping"}))
        pong, _ = await recv_until(ws, lambda m: m["type"] == "pong")
        await ws.close()
        return live, ping, pong
    live, ping, pong = asyncio.run(run())
    assert live["seq"] <= ping["seq"] <= pair.journal.head()[0]
    assert pong == {"type": "pong"}


def test_unsubscribe_unknown_messages_and_bad_json(pair: Pair):
    ids, token = _ids(pair), pair.people.token("leader.penteli")

    async def run():
        ws, _, _ = await connect(pair.reader, token, [f"org:{ids['penteli']}", "zones"])
        await ws.send(json.dumps({"type": "unsubscribe", "topics": [f"org:{ids['penteli']}"]}))
        unsubscribed, _ = await recv_until(ws, lambda m: m["type"] == "unsubscribed")
        await ws.send(json.dumps({"type": "dance"}))
        error, _ = await recv_until(ws, lambda m: m["type"] == "error")
        await asyncio.to_thread(patch_volunteer, httpx.Client(), pair.writer.url, token, ids["penteli_vol"],
                                "available")
        await ws.send("{not json")
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                message = await recv(ws)
                assert message["type"] != "event", "unsubscribed topic delivered"
        return unsubscribed, error, closed.value.rcvd.code
    unsubscribed, error, code = asyncio.run(run())
    assert unsubscribed["topics"] == [f"org:{ids['penteli']}"]
    assert error["error"] == "unknown_type"
    assert code == 4000


def test_the_backend_carries_wakeups_between_two_instances(pair: Pair):
    """The backend interface itself: a wake-up published by one instance reaches another."""
    from iolaos.config import Settings

    settings = Settings(database_url=pair.journal.engine.url.render_as_string(hide_password=False),
                        fanout=pair.fanout, broker_url=pair.writer.env.get("IOLAOS_BROKER_URL"))

    async def run():
        heard: list[int] = []
        first, second = make_backend(settings), make_backend(settings)
        await first.start(lambda seq: None)
        await second.start(heard.append)
        try:
            await _until_connected(first, second)
            await asyncio.sleep(0.2)
            first.publish(424242)
            deadline = time.monotonic() + 3
            while 424242 not in heard and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
        finally:
            await first.stop()
            await second.stop()
        return heard
    assert 424242 in asyncio.run(run())


async def _until_connected(*backends: Backend) -> None:
    deadline = time.monotonic() + 5
    while not all(b.connected for b in backends):
        assert time.monotonic() < deadline, "backend did not connect"
        await asyncio.sleep(0.02)
