"""The demo is consistent: an account and its volunteer record are the same person."""

from __future__ import annotations

from sqlalchemy import select

from iolaos.auth.models import User
from iolaos.db import make_engine, session_scope
from iolaos.volunteers.models import Volunteer


def test_each_account_has_its_volunteer_records_name_and_phone(shared_db):
    engine = make_engine(shared_db)
    with session_scope(engine) as session:
        pairs = session.execute(select(User, Volunteer).join(Volunteer, Volunteer.user_id == User.id)).all()
    engine.dispose()
    assert len(pairs) >= 20  # a leader and a member in each of the ten volunteer organisations
    different = [(u.username, u.full_name, v.full_name) for u, v in pairs if u.full_name != v.full_name]
    assert not different
    assert all(u.phone == v.phone for u, v in pairs)
