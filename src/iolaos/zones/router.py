"""HTTP routes for zones (public reference data, read-only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from iolaos.deps import SessionDep
from iolaos.kit.geo import parse_bbox
from iolaos.kit.ids import saved_id
from iolaos.zones import geometry as wire
from iolaos.zones import service
from iolaos.zones.schemas import LocateResult, ZoneCollection, ZoneFeature

router = APIRouter(prefix="/api/v1/zones", tags=["zones"])


@router.get("", response_model=ZoneCollection, summary="List zones as a GeoJSON FeatureCollection")
def list_zones(
    request: Request,
    session: SessionDep,
    kind: Annotated[str | None, Query(description="region, municipality or sector")] = None,
    parent: Annotated[str | None, Query(max_length=40, description="code of the parent zone")] = None,
    bbox: Annotated[str | None, Query(max_length=200, description="minLon,minLat,maxLon,maxLat")] = None,
    geometry: Annotated[bool, Query(description="include geometries")] = True,
    zoom: Annotated[int | None, Query(ge=0, le=wire.MAX_ZOOM, description="simplify the geometries for a web "
                                      "map at this zoom level (at most half a pixel off); omit for full geometry")
                    ] = None,
    tolerance: Annotated[float | None, Query(gt=0, le=1, description="simplify with this tolerance in degrees "
                                             "instead (overrides zoom)")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    """Zones matching the filters, ordered by code, with paging links; full geometry unless zoom/tolerance."""
    box = parse_bbox(bbox) if bbox else None
    zones, total = service.list_zones(session, kind=kind, parent_code=parent, bbox=box, limit=limit, offset=offset,
                                      defer_geometry=True)
    parents = service.parent_codes(session, zones)
    texts = wire.geometry_texts(session, zones, wire.tolerance_for(zoom, tolerance)) if geometry else {}
    links = [{"href": str(request.url), "rel": "self"}]
    if offset + len(zones) < total:
        links.append({"href": str(request.url.include_query_params(offset=offset + limit)), "rel": "next"})
    # Encoded here from cached geometry texts (zones/geometry.py): the shape is ZoneCollection's.
    body = wire.collection_json([(z, texts.get(saved_id(z))) for z in zones], parents, matched=total, links=links)
    return Response(body, media_type="application/json")


@router.get("/locate", response_model=LocateResult, summary="Zones containing a point")
def locate(
    session: SessionDep,
    lon: Annotated[float, Query(ge=-180, le=180)],
    lat: Annotated[float, Query(ge=-90, le=90)],
) -> dict:
    """The municipality, region and sectors containing the point; an empty list at sea."""
    zones = service.locate(session, lon, lat)
    return {"lon": lon, "lat": lat, "zones": [
        {"code": z.code, "kind": z.kind, "name_el": z.name_el, "name_en": z.name_en} for z in zones]}


@router.get("/{code}", response_model=ZoneFeature, summary="One zone as a GeoJSON Feature")
def get_zone(session: SessionDep, code: str,
             geometry: Annotated[bool, Query(description="include the geometry")] = True) -> dict:
    """One zone by its code (e.g. 9186 for Athens, GR-I for Attica); ``geometry=false`` for its properties only."""
    zone = service.get_zone(session, code, with_geometry=geometry)
    return service.zone_feature(zone, service.parent_code(service.parent_codes(session, [zone]), zone),
                                with_geometry=geometry)
