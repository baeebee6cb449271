"""The typed helpers for stored rows: an id is there once the row is flushed; the Core table is the mapped one."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlmodel import Session

from iolaos.kit.ids import id_column, saved_id
from iolaos.kit.tables import table_of
from iolaos.notifications.models import NotificationDelivery
from iolaos.organisations.models import Organisation


def test_a_row_has_no_saved_id_before_its_flush_and_has_one_after(engine):
    with Session(engine) as session:
        org = Organisation(kind="volunteer_org", name_el="Δοκιμή", name_en="Test")
        with pytest.raises(RuntimeError, match="flush it first"):
            saved_id(org)
        session.add(org)
        session.flush()
        assert saved_id(org) == org.id and isinstance(org.id, int)
        assert org.id in session.scalars(select(id_column(Organisation.id))).all()
        session.rollback()


def test_table_of_is_the_table_the_class_is_mapped_to():
    table = table_of(NotificationDelivery)
    assert table is NotificationDelivery.__table__  # type: ignore[attr-defined]  # what table_of stands in for
    assert table.name == "notification_delivery" and "lease_owner" in table.c
