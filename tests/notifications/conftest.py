"""Fixtures of the notification tests: real receivers, a VAPID key, settings that point at them, a field patrol."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from iolaos.app import create_app
from iolaos.auth.models import User
from iolaos.config import Settings
from iolaos.db import session_scope
from iolaos.kit.time import utcnow
from iolaos.organisations.models import Organisation
from iolaos.patrols.models import Assignment, Patrol
from iolaos.responsibility.models import Responsibility
from iolaos.volunteers.models import Volunteer
from iolaos.zones.models import Zone
from tests.notifications.receivers import start_push_service, start_sms_gateway, start_smtp


@pytest.fixture
def push_service():
    """A Web Push service that verifies VAPID and decrypts every payload."""
    service, server = start_push_service()
    yield service
    server.shutdown()
    assert service.problems == []


@pytest.fixture
def mailbox():
    """An SMTP server (aiosmtpd)."""
    box, controller = start_smtp()
    box.port = controller.port
    yield box
    controller.stop(no_assert=True)


@pytest.fixture
def sms_gateway():
    """The fake SMS gateway on its own port (``.url``)."""
    gateway, server, url = start_sms_gateway()
    gateway.url = url
    yield gateway
    server.should_exit = True


@pytest.fixture(scope="session")
def vapid_key(tmp_path_factory) -> tuple[Path, str]:
    """A VAPID key made by ``iolaos notify vapid-keygen``: (private key file, public key)."""
    from iolaos.cli import app

    out = tmp_path_factory.mktemp("vapid") / "vapid.pem"
    result = CliRunner().invoke(app, ["notify", "vapid-keygen", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert oct(out.stat().st_mode)[-3:] == "600"
    public = result.output.split("applicationServerKey): ", 1)[1].split()[0]
    return out, public


@pytest.fixture
def notify_settings(db: Settings, push_service, mailbox, sms_gateway, vapid_key) -> Settings:
    """The fresh database's settings with every channel pointing at the local receivers."""
    push_service.vapid_public_key = vapid_key[1]
    return db.model_copy(update={
        "notify_vapid_private_key": vapid_key[0], "notify_vapid_subject": "mailto:ops@example.org",
        "notify_smtp_host": "127.0.0.1", "notify_smtp_port": mailbox.port, "notify_sms_url": sms_gateway.url,
        "notify_send_timeout": 5.0, "field_sweep_seconds": 0.0})


@pytest.fixture
def nclient(notify_settings: Settings) -> Iterator[TestClient]:
    """An HTTP client on an app configured for notifications."""
    with TestClient(create_app(notify_settings), raise_server_exceptions=False) as client:
        yield client


@dataclass
class Team:
    """The Limni patrol in Mantoudi, its crew and the people the tests look at."""

    patrol_id: int
    crew: list[int]
    org_id: int
    leader_user: int
    leader_volunteer: int
    dispatcher_user: int


@pytest.fixture
def team(engine) -> Team:
    """A Limni patrol in Mantoudi with accepted crew, held by dispatcher.sterea; the leader is available, has an
    e-mail address and a phone."""
    now = utcnow()
    with session_scope(engine) as s:
        org = s.scalar(select(Organisation).where(Organisation.name_en == "Limni Evia Forest Volunteers"))
        zone = s.scalar(select(Zone).where(Zone.code == "9153"))
        leader = s.scalar(select(User).where(User.username == "leader.limni"))
        leader.email = "leader.limni@example.org"
        leader.phone = "+30 6900000001"
        leader_volunteer = s.scalar(select(Volunteer).where(Volunteer.user_id == leader.id))
        leader_volunteer.status = "available"
        member = s.scalar(select(User.id).where(User.username == "volunteer.limni"))
        crew = list(s.scalars(select(Volunteer.id).where(Volunteer.user_id == member)))
        dispatcher = s.scalar(select(User).where(User.username == "dispatcher.sterea"))
        dispatcher.email = "duty.sterea@example.org"
        patrol = Patrol(zone_id=zone.id, organisation_id=org.id, shift_start=now - timedelta(hours=1),
                        shift_end=now + timedelta(hours=6), crew_size=1, status="planned", risk_category=4)
        s.add(patrol)
        s.flush()
        s.add_all([Assignment(patrol_id=patrol.id, volunteer_id=v, status="accepted") for v in crew])
        s.add(Responsibility(subject_type="patrol", subject_id=patrol.id, holder_user_id=dispatcher.id,
                             holder_organisation_id=dispatcher.organisation_id, since=now - timedelta(hours=2),
                             reason="test", audit_seq=0))
        return Team(patrol.id, crew, org.id, leader.id, leader_volunteer.id, dispatcher.id)
