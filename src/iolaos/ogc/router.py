"""OGC API – Features (Part 1 Core, GeoJSON) under ``/ogc``: zones and risk are public, incidents and tracks not.

Each collection has its own routes, so that the public ones are plainly public and the others plainly take a
bearer token; the item ids are the REST API's own (zone code, incident id, patrol id) with the same scoping.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from iolaos.auth.deps import PrincipalDep, SessionDep
from iolaos.errors import error_responses
from iolaos.kit.geo import parse_bbox
from iolaos.kit.time import utcnow
from iolaos.ogc import service
from iolaos.ogc.paging import GEOJSON, JSON, feature_collection, parse_datetime

router = APIRouter(prefix="/ogc", tags=["ogc"])
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
GREECE = [19.3, 34.7, 29.7, 41.8]
COLLECTIONS: dict[str, tuple[str, str, bool]] = {  # id → (title, description, temporal)
    "zones": ("Zones", "Regions, municipalities and sectors (public reference data)", False),
    "risk": ("Fire-risk levels", "Fire-risk category per zone on a day; datetime picks the day (public)", True),
    "incidents": ("Incidents", "Reported incidents you may see (bearer token)", True),
    "tracks": ("Patrol tracks", "Positions of patrols you may locate, as lines (bearer token)", True),
}
Bbox = Annotated[str | None, Query(max_length=200, description="minLon,minLat,maxLon,maxLat (CRS84)")]
Datetime = Annotated[str | None, Query(max_length=80, description="RFC 3339 instant or interval start/end, '..'")]
Limit = Annotated[int, Query(ge=1, le=10000)]
Offset = Annotated[int, Query(ge=0, le=10**7)]
Kind = Annotated[str | None, Query(pattern="^(region|municipality|sector)$")]
Fmt = Annotated[str | None, Query(pattern="^(json|geojson)$", description="only JSON/GeoJSON is served")]
GEOJSON_OK: dict[int | str, dict[str, Any]] = {
    200: {"description": "GeoJSON", "content": {GEOJSON: {"schema": {"type": "object"}}}}}
ITEMS_ERRORS = error_responses(404, 422)
TOKEN_ERRORS = error_responses(401, 403, 404, 422)
PUBLIC_ITEMS = {**GEOJSON_OK, **ITEMS_ERRORS}
TOKEN_ITEMS = {**GEOJSON_OK, **TOKEN_ERRORS}


def _json(body: dict[str, Any], media_type: str = JSON) -> JSONResponse:
    return JSONResponse(body, media_type=media_type)


def _base(request: Request) -> str:
    return str(request.url_for("ogc_landing")).rstrip("/")


def _collection(request: Request, cid: str) -> dict[str, Any]:
    title, description, temporal = COLLECTIONS[cid]
    base = f"{_base(request)}/collections/{cid}"
    extent: dict[str, Any] = {"spatial": {"bbox": [GREECE], "crs": CRS84}}
    if temporal:
        extent["temporal"] = {"interval": [[None, None]], "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}
    return {
        "id": cid, "title": title, "description": description, "itemType": "feature", "crs": [CRS84],
        "extent": extent,
        "links": [{"href": base, "rel": "self", "type": JSON, "title": title},
                  {"href": f"{base}/items", "rel": "items", "type": GEOJSON, "title": f"{title} (GeoJSON)"}],
    }


def _query(bbox: str | None, when: str | None, limit: int, offset: int) -> service.Query:
    return service.Query(parse_bbox(bbox) if bbox else None, parse_datetime(when), limit, offset)


def _items(request: Request, page: service.Page, query: service.Query) -> JSONResponse:
    body = feature_collection(request, page.features, offset=query.offset, limit=query.limit,
                              matched=page.matched, now=utcnow())
    return _json(body, GEOJSON)


def _item(request: Request, feature: dict[str, Any]) -> JSONResponse:
    self_url = str(request.url.replace(query=""))
    feature["links"] = [{"href": self_url, "rel": "self", "type": GEOJSON},
                        {"href": self_url.rsplit("/items/", 1)[0], "rel": "collection", "type": JSON}]
    return _json(feature, GEOJSON)


@router.get("", name="ogc_landing", summary="OGC API – Features landing page")
def landing(request: Request, f: Fmt = None) -> JSONResponse:
    """Links to the API definition, the conformance classes and the collections."""
    base = _base(request)
    return _json({
        "title": "IOLAOS OGC API – Features", "description": "Zones, fire-risk levels, incidents and patrol tracks",
        "links": [{"href": base, "rel": "self", "type": JSON, "title": "this document"},
                  {"href": f"{str(request.base_url).rstrip('/')}/openapi.json", "rel": "service-desc",
                   "type": "application/vnd.oai.openapi+json;version=3.0", "title": "the API definition"},
                  {"href": f"{base}/conformance", "rel": "conformance", "type": JSON, "title": "conformance"},
                  {"href": f"{base}/collections", "rel": "data", "type": JSON, "title": "collections"}],
    })


@router.get("/conformance", summary="Conformance classes")
def conformance(f: Fmt = None) -> JSONResponse:
    """The OGC conformance classes implemented."""
    return _json({"conformsTo": CONFORMANCE})


@router.get("/collections", summary="Feature collections")
def collections(request: Request, f: Fmt = None) -> JSONResponse:
    """Every collection (incidents and tracks list here, but their items need a token)."""
    base = f"{_base(request)}/collections"
    return _json({"links": [{"href": base, "rel": "self", "type": JSON}],
                  "collections": [_collection(request, cid) for cid in COLLECTIONS]})


@router.get("/collections/zones", summary="The zones collection")
def zones_collection(request: Request, f: Fmt = None) -> JSONResponse:
    """Metadata of the zones collection."""
    return _json(_collection(request, "zones"))


@router.get("/collections/zones/items", summary="Zones as features", responses=PUBLIC_ITEMS)
def zones_items(request: Request, session: SessionDep, bbox: Bbox = None, datetime: Datetime = None,
                limit: Limit = 10, offset: Offset = 0, kind: Kind = None, f: Fmt = None) -> JSONResponse:
    """Zones intersecting ``bbox``, by code; ``datetime`` is accepted and ignored (zones are timeless)."""
    query = _query(bbox, datetime, limit, offset)
    return _items(request, service.zone_items(session, query, kind), query)


@router.get("/collections/zones/items/{code}", summary="One zone", responses=PUBLIC_ITEMS)
def zones_item(request: Request, session: SessionDep, code: Annotated[str, Path(max_length=40)],
               f: Fmt = None) -> JSONResponse:
    """One zone by code."""
    return _item(request, service.zone_item(session, code))


@router.get("/collections/risk", summary="The fire-risk collection")
def risk_collection(request: Request, f: Fmt = None) -> JSONResponse:
    """Metadata of the fire-risk collection."""
    return _json(_collection(request, "risk"))


@router.get("/collections/risk/items", summary="Fire-risk levels of a day as features", responses=PUBLIC_ITEMS)
def risk_items(request: Request, session: SessionDep, bbox: Bbox = None, datetime: Datetime = None,
               limit: Limit = 10, offset: Offset = 0, kind: Kind = None, f: Fmt = None) -> JSONResponse:
    """Zones with a category in force on the day ``datetime`` names (today, Europe/Athens, by default)."""
    query = _query(bbox, datetime, limit, offset)
    return _items(request, service.risk_items(session, query, kind), query)


@router.get("/collections/risk/items/{code}", summary="One zone's fire-risk level", responses=PUBLIC_ITEMS)
def risk_item(request: Request, session: SessionDep, code: Annotated[str, Path(max_length=40)],
              datetime: Datetime = None, f: Fmt = None) -> JSONResponse:
    """The zone's category on the day ``datetime`` names (today by default)."""
    return _item(request, service.risk_item(session, code, parse_datetime(datetime)))


@router.get("/collections/incidents", summary="The incidents collection", responses=TOKEN_ERRORS)
def incidents_collection(request: Request, principal: PrincipalDep, f: Fmt = None) -> JSONResponse:
    """Metadata of the incidents collection."""
    return _json(_collection(request, "incidents"))


@router.get("/collections/incidents/items", summary="Incidents as features", responses=TOKEN_ITEMS)
def incidents_items(request: Request, session: SessionDep, principal: PrincipalDep, bbox: Bbox = None,
                    datetime: Datetime = None, limit: Limit = 10, offset: Offset = 0, f: Fmt = None) -> JSONResponse:
    """Incidents you may see, in ``bbox``, reported within ``datetime``, newest first."""
    query = _query(bbox, datetime, limit, offset)
    return _items(request, service.incident_items(session, principal, query), query)


@router.get("/collections/incidents/items/{incident_id}", summary="One incident", responses=TOKEN_ITEMS)
def incidents_item(request: Request, session: SessionDep, principal: PrincipalDep,
                   incident_id: Annotated[int, Path(ge=1, le=2**31 - 1)], f: Fmt = None) -> JSONResponse:
    """One incident you may see; others answer 404."""
    return _item(request, service.incident_item(session, principal, incident_id))


@router.get("/collections/tracks", summary="The patrol-tracks collection", responses=TOKEN_ERRORS)
def tracks_collection(request: Request, principal: PrincipalDep, f: Fmt = None) -> JSONResponse:
    """Metadata of the patrol-tracks collection."""
    return _json(_collection(request, "tracks"))


@router.get("/collections/tracks/items", summary="Patrol tracks as features", responses=TOKEN_ITEMS)
def tracks_items(request: Request, session: SessionDep, principal: PrincipalDep, bbox: Bbox = None,
                 datetime: Datetime = None, limit: Limit = 10, offset: Offset = 0, f: Fmt = None) -> JSONResponse:
    """Tracks of patrols you may locate (volunteer.location), in ``bbox`` and within ``datetime``."""
    query = _query(bbox, datetime, limit, offset)
    return _items(request, service.track_items(session, principal, query), query)


@router.get("/collections/tracks/items/{patrol_id}", summary="One patrol's track", responses=TOKEN_ITEMS)
def tracks_item(request: Request, session: SessionDep, principal: PrincipalDep,
                patrol_id: Annotated[int, Path(ge=1, le=2**31 - 1)], f: Fmt = None) -> JSONResponse:
    """One patrol's track; patrols you may not see answer 404."""
    return _item(request, service.track_item(session, principal, patrol_id))
