"""Fixtures for the patrol rules."""

from __future__ import annotations

import pytest

from tests.patrols.world import World, build_world


@pytest.fixture
def world(engine, db) -> World:
    return build_world(engine, db)
