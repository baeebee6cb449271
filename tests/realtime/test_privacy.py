"""Acceptance 6: a subscriber of organisation A never receives an event private to organisation B."""

from __future__ import annotations

import asyncio

import httpx

from tests.realtime.conftest import People
from tests.realtime.live import Journal, LiveServer, connect, events, get, patch_volunteer, recv_until

ATHENS = "9186"  # a municipality of Attica (GR-I)


def test_a_subscriber_never_receives_or_subscribes_to_another_organisations_events(
        rt_server: LiveServer, rt_journal: Journal, people: People):
    listed = get(rt_server.url, people.token("admin"), "/api/v1/organisations?limit=200")
    orgs = {o["id"]: o["region_code"] for o in listed}
    penteli = people.me("leader.penteli")["organisation_id"]
    lamia, lamia_user = people.me("leader.lamia")["organisation_id"], people.me("leader.lamia")["id"]
    lamia_volunteer = people.volunteer_ids("leader.lamia")[0]
    geographic = ["region:GR-I", f"zone:{ATHENS}", "zones"]
    foreign = [f"org:{lamia}", f"volunteer:{lamia_volunteer}", f"user:{lamia_user}", "region:GR-H"]
    foreign += [f"org:{o}" for o in orgs if o != penteli and orgs[o] == "GR-I"][:3]
    marker = {"marker": True}

    async def run():
        leader, _, sub = await connect(rt_server, people.token("leader.penteli"),
                                       [f"org:{penteli}", *geographic, *foreign])
        dispatcher, _, dsub = await connect(rt_server, people.token("dispatcher.attica"),
                                            ["region:GR-I", f"org:{lamia}"])
        await recv_until(leader, lambda m: m["type"] == "live")
        await recv_until(dispatcher, lambda m: m["type"] == "live")
        for org in orgs:  # one event private to each organisation, on the shared geographic topics too
            await asyncio.to_thread(rt_journal.record, [f"org:{org}", *geographic], {"private_to": org})
        await asyncio.to_thread(rt_journal.record, ["zones"], {"public": True})
        with httpx.Client() as http:
            await asyncio.to_thread(patch_volunteer, http, rt_server.url, people.token("leader.lamia"),
                                    lamia_volunteer, "available")
        await asyncio.to_thread(rt_journal.record, [f"org:{penteli}", "region:GR-I"], marker)
        _, seen = await recv_until(leader, lambda m: m.get("payload") == marker, timeout=10)
        _, dseen = await recv_until(dispatcher, lambda m: m.get("payload") == marker, timeout=10)
        await leader.close()
        await dispatcher.close()
        return sub, dsub, events(seen), events(dseen)
    sub, dsub, seen, dseen = asyncio.run(run())

    assert {d["topic"] for d in sub["denied"]} == set(foreign), "foreign topics must be refused"
    assert set(sub["topics"]) == {f"org:{penteli}", *geographic}
    assert {d["topic"] for d in dsub["denied"]} == {f"org:{lamia}"}
    private = [e["payload"].get("private_to") for e in seen if "private_to" in e["payload"]]
    assert private == [penteli], f"leader of {penteli} received events private to {private}"
    assert all(f"org:{o}" not in e["topics"] for e in seen for o in orgs if o != penteli)
    assert any(e["payload"] == {"public": True} for e in seen), "an event naming no organisation reaches everyone"
    region_orgs = sorted(o for o, region in orgs.items() if region == "GR-I")
    assert sorted(e["payload"]["private_to"] for e in dseen if "private_to" in e["payload"]) == region_orgs
