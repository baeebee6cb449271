"""A geometry column that is real PostGIS on PostgreSQL and WKB bytes on SQLite.

Python code always sees shapely geometries. On PostgreSQL the column is ``geometry(<type>, 4326)``
so GIS staff can open the tables in QGIS and SQL can use spatial predicates and GiST indexes; values
travel as EWKB (bytea, cast implicitly by PostGIS) and come back as hex EWKB, which shapely reads.
"""

from __future__ import annotations

from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import LargeBinary
from sqlalchemy.types import TypeDecorator, UserDefinedType

SRID = 4326


class _PostgisGeometry(UserDefinedType):
    """The PostGIS column type; only its DDL matters, values are converted by ``GeometryType``."""

    cache_ok = True

    def __init__(self, geometry_type: str = "Geometry") -> None:
        self.geometry_type = geometry_type

    def get_col_spec(self, **_: Any) -> str:
        return f"geometry({self.geometry_type},{SRID})"


class GeometryType(TypeDecorator[BaseGeometry]):
    """Shapely geometry in EPSG:4326 on either backend."""

    impl = LargeBinary
    cache_ok = True

    def __init__(self, geometry_type: str = "Geometry") -> None:
        super().__init__()
        self.geometry_type = geometry_type

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(_PostgisGeometry(self.geometry_type))
        return dialect.type_descriptor(LargeBinary())

    def process_bind_param(self, value: BaseGeometry | None, dialect: Any) -> bytes | None:
        if value is None:
            return None
        if dialect.name == "postgresql":
            return shapely.to_wkb(shapely.set_srid(value, SRID), include_srid=True)
        return shapely.to_wkb(value)

    def process_result_value(self, value: Any, dialect: Any) -> BaseGeometry | None:
        if value is None:
            return None
        if isinstance(value, memoryview):
            value = bytes(value)
        return shapely.from_wkb(value)
