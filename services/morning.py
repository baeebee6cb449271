"""The demo's morning routine, through the public API: today's risk map, today's plan, teams out in the field.

Used by ``services.field_simulator --prepare``. Every step is a request a person would make in the console or on
the field page, so all of it lands in the audit journal with the right actor:

1. each region's dispatcher publishes today's fire-risk categories (the demo map; unchanged ones are skipped)
   and commits today's plan when the region has no patrols yet;
2. each team leader declares availability for the shift that may start soonest (under way, or whose start
   window opens within the next 90 minutes; the team's own patrols first among those), the region's dispatcher
   puts the leader on one of its patrols (a direct assignment with a reason), the leader accepts the team's
   proposals on it, checks the crew in and starts the patrol. When the start rules refuse (minimum crew,
   required skills, or another team's patrol), the dispatcher puts more of the team on it and the start is tried
   again; between shifts (at night) the checked-in teams wait for the start window to open.

Teams whose leader no patrol starting soon can take (the hard constraints refuse, or there is none) are skipped
with a line saying why: the demo goes on with the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

Log = Callable[[str], None]
REASON = "team leader joins the patrol (field simulator)"
# IOLAOS_PATROL_START_LEAD_MINUTES' default: a patrol may start this long before its shift.
START_LEAD = timedelta(hours=1)
# A team whose patrol's start window opens within this long waits for it (at night the next shift is near).
LONGEST_WAIT = timedelta(minutes=90)


class Refused(RuntimeError):
    """The service refused a call: the status and the error shape's body."""

    def __init__(self, text: str, status: int, body: Any) -> None:
        super().__init__(text)
        self.status, self.body = status, body


class NotYet(RuntimeError):
    """The patrol's start window opens at ``opens``: the team goes out then."""

    def __init__(self, text: str, opens: datetime) -> None:
        super().__init__(text)
        self.opens = opens


class Api:
    """Signed-in calls that raise with the service's error message."""

    def __init__(self, http: httpx.AsyncClient, token: str, who: str) -> None:
        self.http, self.who = http, who
        self.headers = {"Authorization": f"Bearer {token}"}

    async def call(self, method: str, path: str, *, ok: tuple[int, ...] = (200, 201), **kwargs: Any) -> Any:
        """One request; the JSON answer, or RuntimeError with the error shape's code and message."""
        resp = await self.http.request(method, path, headers=self.headers, **kwargs)
        if resp.status_code not in ok:
            try:
                body = resp.json()
            except ValueError:
                body = None
            raise Refused(f"{self.who}: {method} {path}: {resp.status_code} {resp.text[:300]}", resp.status_code, body)
        return resp.json() if resp.content else None


async def sign_in(http: httpx.AsyncClient, username: str, password: str) -> str:
    """A bearer token for ``username`` (RuntimeError with the service's answer when refused)."""
    resp = await http.post("/api/v1/auth/token", data={"username": username, "password": password})
    if resp.status_code != 200:
        raise RuntimeError(f"sign-in as {username} refused: {resp.status_code} {resp.text[:200]}")
    return str(resp.json()["access_token"])


async def _signed_in(http: httpx.AsyncClient, username: str, password: str) -> Api:
    return Api(http, await sign_in(http, username, password), username)


def today() -> str:
    """Today in Greece (the planning day)."""
    return datetime.now(ZoneInfo("Europe/Athens")).date().isoformat()


async def prepare(http: httpx.AsyncClient, credentials: dict[str, str], *, regions: list[str], log: Log) -> None:
    """Run the morning routine for ``regions`` with the accounts in ``credentials``."""
    dispatchers = await _dispatchers(http, credentials, regions)
    for region, api in dispatchers.items():
        await _risk_and_plan(api, region, log)
    waiting: dict[str, tuple[Api, datetime]] = {}
    for username, password in credentials.items():
        if username.startswith("leader."):
            api = await _signed_in(http, username, password)
            try:
                await _team_out(api, dispatchers, log)
            except NotYet as exc:
                waiting[username] = (api, exc.opens)
            except RuntimeError as exc:
                log(f"morning: {username}: skipped ({exc})")
    if waiting:  # between shifts (at night): wait for the next start window rather than leave the teams idle
        opens = max(at for _, at in waiting.values())
        log(f"morning: {', '.join(sorted(waiting))}: checked in, starting when the shift's window opens at "
            f"{opens.isoformat(timespec='minutes')}")
        await asyncio.sleep(max(0.0, (opens - datetime.now(UTC)).total_seconds()) + 1)
        for username, (api, _) in waiting.items():
            try:
                await _team_out(api, dispatchers, log)
            except RuntimeError as exc:
                log(f"morning: {username}: skipped ({exc})")


async def _dispatchers(http: httpx.AsyncClient, credentials: dict[str, str], regions: list[str]) -> dict[str, Api]:
    """region code → a signed-in dispatcher of that region."""
    found: dict[str, Api] = {}
    for username, password in credentials.items():
        if not username.startswith("dispatcher."):
            continue
        api = await _signed_in(http, username, password)
        me = await api.call("GET", "/api/v1/auth/me")
        org = await api.call("GET", f"/api/v1/organisations/{me['organisation_id']}")
        if org["region_code"] in regions and org["region_code"] not in found:
            found[org["region_code"]] = api
    missing = sorted(set(regions) - set(found))
    if missing:
        raise RuntimeError(f"no dispatcher account for {', '.join(missing)} in the credentials file")
    return found


async def demo_map(api: Api, region: str) -> dict[str, int]:
    """The demo's risk map of ``region`` (zone code → category), read from the published map like any client.

    ``iolaos demo`` publishes it once, for the day after seeding, with source ``demo``: the region's history names
    that day, and the map of that day gives the region's own entries (inherited categories are not republished).
    """
    history = await api.call("GET", f"/api/v1/zones/{region}/risk", params={"limit": 1000})
    seeded = next((level["date"] for level in history if level["source"] == "demo"), None)
    if seeded is None:
        return {}
    found = await api.call("GET", "/api/v1/zones", params={"parent": region, "limit": 1000, "geometry": "false"})
    codes = {z["id"] for z in found["features"]} | {region}
    published = await api.call("GET", f"/api/v1/zones/risk/{seeded}")
    return {level["zone_code"]: level["category"] for level in published
            if level["source"] == "demo" and not level["inherited"] and level["zone_code"] in codes}


async def _risk_and_plan(api: Api, region: str, log: Log) -> None:
    day = today()
    levels = [{"zone_code": code, "date": day, "category": category, "note": "demo map"}
              for code, category in (await demo_map(api, region)).items()]
    if levels:
        changed = await api.call("POST", "/api/v1/risk/levels", json={"levels": levels})
        log(f"morning: {region}: risk map for {day} published ({changed['created']} new categories)")
    else:
        log(f"morning: {region}: no demo risk map to publish (`iolaos demo` publishes it)")
    if await api.call("GET", "/api/v1/patrols", params={"date": day, "limit": 1}):
        log(f"morning: {region}: today's plan is already committed")
        return
    preview = await api.call("GET", "/api/v1/plans/preview", params={"date": day, "region": region}, timeout=120)
    plan = await api.call("POST", "/api/v1/plans", json={"date": day, "region_code": region,
                                                         "fingerprint": preview["fingerprint"]}, timeout=120)
    log(f"morning: {region}: plan committed, {len(plan['patrols'])} patrols, "
        f"{plan['objective']['filled']} of {plan['objective']['places']} places proposed")


async def _team_out(api: Api, dispatchers: dict[str, Api], log: Log) -> None:
    me = await api.call("GET", "/api/v1/auth/me")
    org = await api.call("GET", f"/api/v1/organisations/{me['organisation_id']}")
    volunteers = await api.call("GET", "/api/v1/volunteers", params={"limit": 500})
    mine = next((v for v in volunteers if v["user_id"] == me["id"]), None)
    if mine is None:
        raise RuntimeError("the leader's account is linked to no volunteer")
    own = await api.call("GET", "/api/v1/patrols", params={"date": today(), "limit": 500})
    if any(p["status"] == "active" and _on_crew(p, mine["id"], "checked_in") for p in own):
        log(f"morning: {api.who}: already in the field")
        return
    dispatcher = dispatchers.get(org["region_code"] or "")
    if dispatcher is None:
        raise RuntimeError(f"no dispatcher for region {org['region_code']}")
    region = await dispatcher.call("GET", "/api/v1/patrols", params={"date": today(), "limit": 500})
    refusals: list[str] = []
    if mine["status"] in ("off_duty", "unavailable"):  # the leader reports for duty (not when already on patrol)
        mine = await api.call("PATCH", f"/api/v1/volunteers/{mine['id']}", json={"status": "available"})
    soon = datetime.now(UTC) + LONGEST_WAIT + START_LEAD
    candidates = [p for p in _candidates(region, me["organisation_id"], mine["id"]) if _at(p["shift_start"]) <= soon]
    for patrol in candidates[:MAX_TRIES]:
        if not _on_crew(patrol, mine["id"]):
            mine = await _available_for(api, mine, patrol)
            try:
                await dispatcher.call("POST", f"/api/v1/patrols/{patrol['patrol_id']}/crew",
                                      json={"volunteer_id": mine["id"], "reason": REASON})
            except RuntimeError as exc:  # a hard constraint (rest, skills…): try the next patrol
                refusals.append(str(exc).rsplit(": ", 1)[-1][:120])
                continue
        team = [v for v in volunteers if v["user_id"] is None and v["status"] == "available"]
        how = await _crew_out(api, patrol, me["organisation_id"], dispatcher, team)
        log(f"morning: {api.who}: patrol {patrol['patrol_id']} in zone {patrol['zone_code']} "
            f"({patrol['zone_name_en']}) started{how}")
        return
    raise RuntimeError("no patrol starting within the next two and a half hours could take the leader"
                       + (f": {refusals[0]}" if refusals else ""))


MAX_TRIES = 12


def _on_crew(patrol: dict[str, Any], volunteer_id: int, status: str | None = None) -> bool:
    return any(c["volunteer_id"] == volunteer_id and (status is None or c["status"] == status)
               for c in patrol["crew"])


def _candidates(patrols: list[dict[str, Any]], organisation_id: int, volunteer_id: int,
                now: datetime | None = None) -> list[dict[str, Any]]:
    """Planned patrols not over yet that the leader is on or that have room: first those that may start now (or
    whose window opens soonest: a team put on a later shift would sit idle until then), then the leader's own,
    then the team's, then by start."""
    now = now or datetime.now(UTC)

    def ours(p: dict[str, Any]) -> bool:
        return p["executing_organisation_id"] == organisation_id or any(
            c["organisation_id"] == organisation_id for c in p["crew"])

    def room(p: dict[str, Any]) -> bool:
        return sum(c["status"] in ("proposed", "accepted") for c in p["crew"]) < p["crew_size"]

    open_ = [p for p in patrols if p["status"] in ("planned", "staffed") and _at(p["shift_end"]) > now
             and (room(p) or _on_crew(p, volunteer_id))]
    soonest = min((max(_at(p["shift_start"]) - START_LEAD, now) for p in open_), default=now)
    return sorted(open_, key=lambda p: (max(_at(p["shift_start"]) - START_LEAD, now) > soonest,
                                        not _on_crew(p, volunteer_id), not ours(p), p["shift_start"]))


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def _available_for(api: Api, volunteer: dict[str, Any], patrol: dict[str, Any]) -> dict[str, Any]:
    """Add the shift to the leader's availability, merged with the windows already declared."""
    windows = [(_at(w["starts_at"]), _at(w["ends_at"])) for w in volunteer.get("availability", [])]
    margin = timedelta(minutes=30)
    windows.append((_at(patrol["shift_start"]) - margin, _at(patrol["shift_end"]) + margin))
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(windows):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    body = {"availability": [{"starts_at": s.isoformat(), "ends_at": e.isoformat()} for s, e in merged]}
    return await api.call("PUT", f"/api/v1/volunteers/{volunteer['id']}/availability", json=body)


async def _crew_out(api: Api, patrol: dict[str, Any], organisation_id: int, dispatcher: Api,
                    team: list[dict[str, Any]]) -> str:
    """Accept the team's proposals on the patrol, check the accepted crew in and start the patrol; when the start
    rules refuse (minimum crew, required skills, or a leader joining another team's patrol), the dispatcher puts
    more of the team on it and tries again. What was needed, for the log."""
    patrol_id = patrol["patrol_id"]
    await _accept_and_check_in(api, patrol_id, organisation_id)
    try:
        await _start(api, patrol_id)
        return ""
    except Refused as exc:
        if exc.status not in (404, 409) or _window_opens(exc):
            raise
    added = 0
    for volunteer in team:
        current = await dispatcher.call("GET", f"/api/v1/patrols/{patrol_id}")
        if sum(c["status"] in ("accepted", "checked_in") for c in current["crew"]) >= current["crew_size"]:
            break
        if _on_crew(current, volunteer["id"]):
            continue
        await _available_for(api, volunteer, patrol)
        try:
            await dispatcher.call("POST", f"/api/v1/patrols/{patrol_id}/crew",
                                  json={"volunteer_id": volunteer["id"], "reason": REASON})
            added += 1
        except RuntimeError:  # rest, another patrol at that time…: the next one
            continue
    await _accept_and_check_in(api, patrol_id, organisation_id)
    try:
        await _start(api, patrol_id)
    except Refused as exc:  # still another team's patrol (the leader may not start it): the dispatcher does
        if exc.status != 404:
            raise
        await _start(dispatcher, patrol_id)
        return f" (by the dispatcher, {added} more of the team put on it)"
    return f" ({added} more of the team put on it)"


async def _accept_and_check_in(api: Api, patrol_id: int, organisation_id: int) -> None:
    patrol = await api.call("GET", f"/api/v1/patrols/{patrol_id}")
    for member in patrol["crew"]:
        if member["organisation_id"] == organisation_id and member["status"] == "proposed":
            await api.call("POST", f"/api/v1/assignments/{member['assignment_id']}/accept", ok=(200, 409))
    patrol = await api.call("GET", f"/api/v1/patrols/{patrol_id}")
    ready = [m["volunteer_id"] for m in patrol["crew"]
             if m["organisation_id"] == organisation_id and m["status"] == "accepted"]
    if ready:
        try:
            await api.call("POST", f"/api/v1/patrols/{patrol_id}/check-in", json={"volunteer_ids": ready})
        except Refused as exc:  # check-in opens earlier than start, but a far candidate may still be before it
            opens = _window_opens(exc)
            if opens is not None:
                raise NotYet(str(exc), opens) from exc
            raise


def _window_opens(exc: Refused) -> datetime | None:
    """When the refused start's window opens, if that is soon (the team waits for it); None otherwise."""
    body = exc.body if isinstance(exc.body, dict) else {}
    opens = body.get("detail", {}).get("opens") if isinstance(body.get("detail"), dict) else None
    if exc.status != 409 or body.get("error") != "outside_window" or not opens:
        return None
    at = _at(opens)
    return at if datetime.now(UTC) < at <= datetime.now(UTC) + LONGEST_WAIT else None


async def _start(api: Api, patrol_id: int) -> None:
    try:
        await api.call("POST", f"/api/v1/patrols/{patrol_id}/start")
    except Refused as exc:
        opens = _window_opens(exc)
        if opens is not None:
            raise NotYet(str(exc), opens) from exc
        raise
