"""Migrations and models agree, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from iolaos.db import make_engine, metadata
from iolaos.models import import_all_models

SPATIAL_INDEXES = {"ix_zone_geom", "ix_volunteer_home_base", "ix_incident_point", "ix_position_report_point",
                   "ix_patrol_route"}


def test_migrated_schema_matches_the_models(db):
    import_all_models()
    engine = make_engine(db)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        diffs = compare_metadata(context, metadata)
    engine.dispose()
    # PostGIS's own tables are not ours to model; GiST indexes exist only on PostgreSQL (made in migrations).
    diffs = [d for d in diffs if not (d[0] == "remove_table" and d[1].name == "spatial_ref_sys")]
    diffs = [d for d in diffs if not (d[0] == "remove_index" and d[1].name in SPATIAL_INDEXES)]
    assert diffs == []
