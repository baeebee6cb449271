"""Acceptance 2: random draft, publish, update, cancel and expire sequences keep CAP's lifecycle rules.

Each example draws the deployment's CAP status and sender, then drives the service (the clock is an input) and
checks every message sent: unique identifiers, Updates and Cancels referencing every earlier message of their
warning, ``sent`` strictly increasing, ``expires`` present, ``status`` from the settings, valid against the OASIS
XSD, and read back by cap-tools with the fields we meant to send. A small model predicts which moves the
lifecycle must refuse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from iolaos.auth.models import User
from iolaos.auth.principal import Principal
from iolaos.db import make_engine, session_scope
from iolaos.errors import Conflict
from iolaos.organisations.models import Organisation
from iolaos.warnings import area as areas
from iolaos.warnings import service, templates
from iolaos.warnings.models import PublicWarning, WarningMessage
from iolaos.warnings.schemas import WarningContent, WarningDraft
from tests.warnings import capcheck

AREAS = [
    {"kind": "zones", "zone_codes": ["9176"]},
    {"kind": "zones", "zone_codes": ["9176", "9220"]},
    {"kind": "circle", "lon": 23.88, "lat": 38.06, "radius_km": 3.5},
    {"kind": "polygon", "geometry": {"type": "Polygon", "coordinates": [
        [[23.85, 38.03], [23.95, 38.03], [23.95, 38.10], [23.85, 38.03]]]}},
]
CONTENT = st.fixed_dictionaries({
    "hazard": st.just("wildfire"), "response_type": st.sampled_from(["Evacuate", "Shelter", "Avoid", "Monitor"]),
    "severity": st.sampled_from([None, "Extreme", "Severe"]), "area": st.sampled_from(AREAS),
    "hours": st.integers(1, 12), "description_en": st.sampled_from(["", "Fire front moving north-east."]),
})
OPS = st.lists(st.one_of(
    st.tuples(st.just("draft"), CONTENT), st.tuples(st.just("publish"), st.integers(0, 5)),
    st.tuples(st.just("update"), st.integers(0, 5), CONTENT), st.tuples(st.just("cancel"), st.integers(0, 5)),
    st.tuples(st.just("expire"), st.integers(0, 5)), st.tuples(st.just("tick"), st.integers(0, 3)),
), min_size=1, max_size=12)
SEEN: set[str] = set()  # identifiers across every example and backend: never reused
DEPLOYMENTS = st.tuples(st.sampled_from(["Actual", "Exercise", "Test"]),
                        st.sampled_from(["warnings@attica.example.gr", "cap@civilprotection.example.gr"]))


@dataclass
class Model:
    """What the lifecycle should allow: per warning its status, expiry and whether it has unsent changes."""

    status: str = "draft"
    expires: datetime = field(default_factory=lambda: datetime.min.replace(tzinfo=UTC))
    dirty: bool = True

    def open(self, now: datetime) -> bool:
        """A draft stays editable after its expiry passed (to set a new one); a published warning expires."""
        return self.status == "draft" or (self.status == "published" and self.expires > now)


def _principal(engine, username: str) -> Principal:
    with session_scope(engine) as session:
        query = select(User, Organisation).join(Organisation, User.organisation_id == Organisation.id)
        user, org = session.execute(query.where(User.username == username)).one()
        return Principal(user_id=user.id, username=user.username, full_name=user.full_name, role=user.role,
                         organisation_id=org.id, organisation_kind=org.kind, region_id=org.region_id)


def _content(draw: dict, now: datetime, *, draft: bool) -> WarningContent:
    body = {k: v for k, v in draw.items() if k != "hours"} | {"expires": now + timedelta(hours=draw["hours"])}
    return WarningDraft(source="risk_map", **body) if draft else WarningContent(**body)


@pytest.fixture
def world(db):
    engine = make_engine(db)
    yield db, engine, _principal(engine, "dispatcher.attica")
    engine.dispose()


class Run:
    """One example: the settings it drew, the clock, the warnings it made and the model of each."""

    def __init__(self, settings, engine, principal, start: datetime) -> None:
        self.settings, self.engine, self.principal, self.now = settings, engine, principal, start
        self.ids: list[int] = []
        self.model: dict[int, Model] = {}

    def call(self, fn, predicted_ok: bool, **kw):
        """Run one service move in its own transaction; it must succeed exactly when the model says so."""
        try:
            with session_scope(self.engine) as session:
                result = fn(session, self.settings, principal=self.principal, now=self.now, **kw)
                out = result.id if isinstance(result, PublicWarning) else result
        except Conflict as exc:
            assert not predicted_ok, f"{fn.__name__} refused unexpectedly: {exc.code} {exc.detail}"
            return None
        assert predicted_ok, f"{fn.__name__} should have been refused"
        return out

    def revision(self, wid: int) -> int:
        with session_scope(self.engine) as session:
            return session.get(PublicWarning, wid).revision

    def step(self, op: tuple) -> None:
        kind = op[0]
        if kind == "tick":
            self.now += timedelta(seconds=op[1])  # 0 on purpose: two messages in one second
            return
        if kind == "draft":
            wid = self.call(service.draft, True, data=_content(op[1], self.now, draft=True))
            self.ids.append(wid)
            self.model[wid] = Model(expires=self.now + timedelta(hours=op[1]["hours"]))
            return
        if not self.ids:
            return
        wid = self.ids[op[1] % len(self.ids)]
        m = self.model[wid]
        if kind == "publish":
            if self.call(service.publish, m.open(self.now) and m.dirty and m.expires > self.now, warning_id=wid,
                         revision=self.revision(wid)) is not None:
                m.status, m.dirty = "published", False
                _check_content(self, wid)
        elif kind == "update":
            if self.call(service.edit, m.open(self.now), warning_id=wid,
                         data=_content(op[2], self.now, draft=False)) is not None:
                m.expires, m.dirty = self.now + timedelta(hours=op[2]["hours"]), True
                self.call(service.publish, True, warning_id=wid, revision=self.revision(wid))
                m.status, m.dirty = "published", False
                _check_content(self, wid)
        elif kind == "cancel":
            if self.call(service.cancel, m.open(self.now), warning_id=wid, reason="property test") is not None:
                m.status = "discarded" if m.status == "draft" else "cancelled"
        elif kind == "expire":
            self.now = max(self.now, m.expires + timedelta(minutes=1))


def _check_content(run: Run, wid: int) -> None:
    """The message just published, read back by cap-tools, says exactly what the warning's revision says."""
    with session_scope(run.engine) as session:
        warning = session.get(PublicWarning, wid)
        row = session.scalars(select(WarningMessage).where(WarningMessage.warning_id == wid)
                              .order_by(WarningMessage.id.desc())).first()
        parsed = capcheck.read(row.xml)
        hazard = templates.hazard(warning.hazard)
        polygons, circles = areas.cap_shapes(warning.area_kind, warning.area, warning.radius_km)
        assert row.revision == warning.revision
        for info, lang in zip(parsed.infos, templates.LANGUAGES, strict=True):
            el = lang == "el-GR"
            assert info.language == lang and info.event == hazard.event(lang)
            assert [c.value for c in info.categories] == [hazard.category]
            assert [r.value for r in info.response_types] == [warning.response_type]
            assert (info.urgency.value, info.severity.value, info.certainty.value) == (
                warning.urgency, warning.severity, warning.certainty)
            assert info.effective == parsed.sent and info.expires.to_datetime() == warning.expires
            assert info.instruction == (warning.instruction_el if el else warning.instruction_en)
            assert (info.description or "") == (warning.description_el if el else warning.description_en)
            [area] = info.areas
            assert area.area_desc == (warning.area_desc_el if el else warning.area_desc_en)
            assert (tuple(area.polygons), tuple(area.circles)) == (polygons, circles)
            assert capcheck.geocodes(area) == warning.geocode_pairs
            for polygon in area.polygons:
                pairs = capcheck.polygon_pairs(polygon)
                assert len(pairs) >= 4 and pairs[0] == pairs[-1]


def _check_messages(run: Run, seen: set[str]) -> int:
    """Every message of the run's warnings against the rules; returns how many there were."""
    count = 0
    with session_scope(run.engine) as session:
        for wid in run.ids:
            warning = session.get(PublicWarning, wid)
            rows = list(session.scalars(select(WarningMessage).where(WarningMessage.warning_id == wid)
                                        .order_by(WarningMessage.id)))
            earlier: list[tuple[str, str, datetime]] = []
            for index, row in enumerate(rows):
                parsed = capcheck.read(row.xml)  # XSD first, then cap-tools
                assert row.identifier not in seen and parsed.identifier == row.identifier
                seen.add(row.identifier)
                assert parsed.sender == run.settings.cap_sender and parsed.status.value == run.settings.cap_status
                assert parsed.sent.to_datetime() == row.sent
                expected_type = "Alert" if index == 0 else row.msg_type
                assert parsed.msg_type.value == row.msg_type == expected_type
                assert row.msg_type in (("Alert",) if index == 0 else ("Update", "Cancel"))
                refs = [(r.sender, r.identifier, r.sent.to_datetime()) for r in parsed.references_to_list()]
                assert refs == earlier, "an Update or Cancel must reference every earlier message"
                if earlier:
                    assert row.sent > rows[index - 1].sent
                for info in parsed.infos:
                    assert info.expires is not None and info.expires.to_datetime() == row.expires
                    assert info.areas and info.areas[0].area_desc
                assert [i.language for i in parsed.infos] == ["el-GR", "en-US"]
                assert parsed.infos[1].headline == row.headline_en and parsed.infos[0].headline == row.headline_el
                earlier.append((row.sender, row.identifier, row.sent))
                count += 1
            assert warning.status != "cancelled" or rows[-1].msg_type == "Cancel"
    return count


_ZONES = {"hazard": "wildfire", "response_type": "Avoid", "severity": None, "area": AREAS[0], "hours": 3,
          "description_en": ""}
_CIRCLE = {**_ZONES, "response_type": "Evacuate", "area": AREAS[2], "hours": 5}


# Every move at least once, all in the same second: Alert, Update, Update, Cancel; an Alert that expires and then
# can be neither updated nor cancelled; a draft discarded, which then cannot be published.
EXPLICIT = [("draft", _ZONES), ("publish", 0), ("update", 0, _CIRCLE), ("update", 0, _ZONES), ("cancel", 0),
            ("draft", _CIRCLE), ("publish", 1), ("expire", 1), ("update", 1, _ZONES), ("cancel", 1),
            ("draft", _ZONES), ("cancel", 2), ("publish", 2)]


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(ops=OPS, deployment=DEPLOYMENTS, offset=st.integers(0, 10_000))
@example(ops=EXPLICIT, deployment=("Test", "cap@civilprotection.example.gr"), offset=0)
def test_random_lifecycles_follow_cap_rules(world, ops, deployment, offset):
    db, engine, principal = world
    status, sender = deployment
    run_settings = db.model_copy(update={"cap_status": status, "cap_sender": sender})
    run = Run(run_settings, engine, principal, datetime(2026, 7, 20, 6, 0, tzinfo=UTC) + timedelta(minutes=offset))
    for op in ops:
        run.step(op)
    sent = _check_messages(run, SEEN)
    if ops == EXPLICIT:
        assert sent == 5
