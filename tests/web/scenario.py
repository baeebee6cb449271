"""Demo scenario for the browser tests and the screenshots, set up over the HTTP API like a user would."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

ATTICA = {"9220": 4, "9176": 4, "9217": 3, "9232": 4, "9186": 2, "9187": 3, "9225": 2}  # Marathon, Penteli, …
EVIA = {"9153": 4, "9150": 5, "9155": 3, "9160": 2}  # Mantoudi-Limni-Agia Anna, Istiaia-Aidipsos, Chalkida, Lamia
LIMNI = (23.3201, 38.7712)  # a hillside above Limni, Evia (municipality 9153)
PENTELI = (23.8890, 38.0660)  # Mount Penteli (municipality 9176)


def athens_day(offset: int = 0) -> date:
    """Today in Athens plus ``offset`` days."""
    return datetime.now(ZoneInfo("Europe/Athens")).date() + timedelta(days=offset)


class Api:
    """A signed-in HTTP client for one demo account."""

    def __init__(self, base: str, passwords: dict[str, str], username: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=60)
        resp = self.http.post("/api/v1/auth/token", data={"username": username, "password": passwords[username]})
        resp.raise_for_status()
        self.http.headers["Authorization"] = f"Bearer {resp.json()['access_token']}"

    def post(self, path: str, body: dict) -> dict:
        """POST JSON and return the answer (raises on an error status)."""
        resp = self.http.post(path, json=body)
        assert resp.status_code < 300, f"{path}: {resp.status_code} {resp.text[:300]}"
        return resp.json()

    def get(self, path: str, **params) -> dict | list:
        """GET and return the answer (raises on an error status)."""
        resp = self.http.get(path, params=params)
        assert resp.status_code < 300, f"{path}: {resp.status_code} {resp.text[:300]}"
        return resp.json()


def set_risk(api: Api, levels: dict[str, int], days: list[date]) -> None:
    """Publish risk categories for ``levels`` on each day."""
    items = [{"zone_code": z, "date": d.isoformat(), "category": c} for d in days for z, c in levels.items()]
    api.post("/api/v1/risk/levels", {"levels": items})


def incident(api: Api, kind: str, lon: float, lat: float, severity: str = "medium", description: str = "") -> dict:
    """Report an incident at a point."""
    return api.post("/api/v1/incidents", {"kind": kind, "severity": severity, "description": description,
                                          "point": {"type": "Point", "coordinates": [lon, lat]}})


def plans_under_way(api: Api, region: str, levels: dict[str, int]) -> dict:
    """Today's plan of ``region``, with yesterday's patrols added: just after midnight in Athens the shift under way
    (22:00-02:00) belongs to yesterday's plan, and a test must find a current patrol whatever the hour it runs."""
    yesterday, today = athens_day(-1), athens_day(0)
    set_risk(api, levels, [yesterday, today])
    late = api.http.post("/api/v1/plans", json={"date": yesterday.isoformat(), "region_code": region})
    # Once yesterday's last shift has ended there is nothing left of it to plan (409 nothing_to_plan).
    assert late.status_code < 300 or late.json()["error"] == "nothing_to_plan", late.text[:300]
    patrols = late.json()["patrols"] if late.status_code < 300 else []
    patrols += api.post("/api/v1/plans", {"date": today.isoformat(), "region_code": region})["patrols"]
    return {"patrols": patrols}


def _current(patrol: dict, now: datetime) -> bool:
    """The patrol's shift is under way, or starts within the hour (its check-in and start windows are open)."""
    start, end = datetime.fromisoformat(patrol["shift_start"]), datetime.fromisoformat(patrol["shift_end"])
    return start - timedelta(hours=1) <= now < end


def leader_on_patrol(dispatcher: Api, leader: Api, plan: dict, day: date) -> int:
    """Put the leader's own volunteer record on a patrol of the shift under way (whatever the time of day, so the
    check-in and start windows are open), and fill its skilled places from the leader's team; its id."""
    me = leader.get("/api/v1/auth/me")["id"]
    team = leader.get("/api/v1/volunteers", limit=500)
    mine = next(v for v in team if v["user_id"] == me)
    window = {"starts_at": f"{day - timedelta(days=1)}T00:00:00Z", "ends_at": f"{day + timedelta(days=2)}T00:00:00Z"}
    for person in [mine, *(v for v in team if v["user_id"] is None)][:25]:
        leader.http.patch(f"/api/v1/volunteers/{person['id']}", json={"status": "available"})
        leader.http.put(f"/api/v1/volunteers/{person['id']}/availability", json={"availability": [window]})
    now = datetime.now(UTC)
    for patrol in (p for p in plan["patrols"] if _current(p, now)):
        resp = dispatcher.http.post(f"/api/v1/patrols/{patrol['patrol_id']}/crew",
                                    json={"volunteer_id": mine["id"], "reason": "ο αρχηγός βγαίνει με την ομάδα"})
        if resp.status_code == 200:
            _fill_skilled_places(dispatcher, team, patrol["patrol_id"])
            return patrol["patrol_id"]
    raise AssertionError("no patrol of the shift under way could take the leader")


def _fill_skilled_places(dispatcher: Api, team: list[dict], patrol_id: int) -> None:
    """Team members holding the skills the patrol's open places need, put on directly (the start rule wants them)."""
    for person in (v for v in team if v["user_id"] is None):
        patrol = dispatcher.get(f"/api/v1/patrols/{patrol_id}")
        if not any(place["skill"] for place in patrol["open_places"]):
            return
        dispatcher.http.post(f"/api/v1/patrols/{patrol_id}/crew",
                             json={"volunteer_id": person["id"], "reason": "συμπλήρωση πληρώματος"})


def out_on_patrol(dispatcher: Api, leader: Api, plan: dict, day: date, lon: float, lat: float) -> int:
    """The leader's crew checks in, starts, and the leader's phone reports a position; the patrol id."""
    patrol_id = leader_on_patrol(dispatcher, leader, plan, day)
    crew = [c["volunteer_id"] for c in leader.get(f"/api/v1/patrols/{patrol_id}")["crew"] if c["status"] == "accepted"]
    leader.post(f"/api/v1/patrols/{patrol_id}/check-in", {"volunteer_ids": crew})
    leader.post(f"/api/v1/patrols/{patrol_id}/start", {})
    at = datetime.now(UTC).isoformat()
    leader.post("/api/v1/positions", {"reports": [{"patrol_id": patrol_id, "at": at, "lon": lon, "lat": lat,
                                                   "accuracy_m": 12}]})
    return patrol_id


def build(base: str, passwords: dict[str, str]) -> dict:
    """Risk for today and tomorrow in Attica and Central Greece, tomorrow's plans, incidents and some replies."""
    attica = Api(base, passwords, "dispatcher.attica")
    sterea = Api(base, passwords, "dispatcher.sterea")
    days = [athens_day(0), athens_day(1)]
    set_risk(attica, ATTICA, days)
    set_risk(sterea, EVIA, days)
    plans = {}
    for api, region in ((attica, "GR-I"), (sterea, "GR-H")):
        plans[region] = api.post("/api/v1/plans", {"date": days[1].isoformat(), "region_code": region})
    first = incident(attica, "smoke", *PENTELI, "high", "Λευκός καπνός στη ΒΑ πλαγιά, ορατός από Νέα Πεντέλη")
    attica.post(f"/api/v1/incidents/{first['id']}/status", {"status": "acknowledged", "note": "ενημερώθηκε το 112"})
    incident(attica, "suspicious_activity", 23.9712, 38.1553, "medium", "Όχημα σταθμευμένο σε δασικό δρόμο")
    leader = Api(base, passwords, "leader.limni")
    incident(leader, "smoke", *LIMNI, "medium", "Καπνός πάνω από το φαράγγι")
    incident(sterea, "wildfire", 23.2350, 38.9100, "critical", "Μέτωπο 200 μ., άνεμος ΒΑ 5 Μποφόρ")
    for leader_name, region in (("leader.north_evia", "GR-H"), ("leader.limni", "GR-H"), ("leader.penteli", "GR-I"),
                                ("leader.marathon", "GR-I"), ("leader.parnitha", "GR-I")):
        _respond(Api(base, passwords, leader_name), plans[region])
    today = {region: plans_under_way(api, region, levels)
             for api, region, levels in ((attica, "GR-I", ATTICA), (sterea, "GR-H", EVIA))}
    out_on_patrol(attica, Api(base, passwords, "leader.penteli"), today["GR-I"], days[0], 23.935, 38.105)
    evia = Api(base, passwords, "leader.north_evia")
    sos = out_on_patrol(sterea, evia, today["GR-H"], days[0], 23.205, 38.925)
    evia.post(f"/api/v1/patrols/{sos}/sos", {"note": "Τραυματισμός στο πόδι, χρειαζόμαστε μεταφορά"})
    return plans


def _respond(leader: Api, plan: dict) -> None:
    """A leader accepts most of their organisation's proposals and declines one, as on a real evening."""
    own = leader.get("/api/v1/auth/me")["organisation_id"]
    mine = [c for p in plan["patrols"] for c in p["crew"] if c["organisation_id"] == own and c["assignment_id"]]
    for index, member in enumerate(mine[:6]):
        if index == 3:
            leader.post(f"/api/v1/assignments/{member['assignment_id']}/decline", {"reason": "βάρδια στο νοσοκομείο"})
        else:
            leader.post(f"/api/v1/assignments/{member['assignment_id']}/accept", {})
