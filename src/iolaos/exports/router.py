"""Download routes: ``/api/v1/exports/{layer}.{gpkg|geojson|csv}``; zones are public, the rest need a token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from sqlmodel import Session

from iolaos.auth.deps import PrincipalDep, SessionDep
from iolaos.auth.principal import Principal
from iolaos.errors import error_responses
from iolaos.exports import service

router = APIRouter(prefix="/api/v1/exports", tags=["exports"])
Reader = Callable[[Session, Principal], list[dict]]
SCOPED: dict[str, Reader] = {"incidents": service.incident_features, "patrols": service.patrol_features,
                             "tracks": service.track_features}


def _file(items: list[dict], layer: str, fmt: str) -> Response:
    body = service.encode(service.frame(items), fmt, layer)
    return Response(body, media_type=service.FORMATS[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{layer}.{fmt}"'})


def _public(fmt: str) -> Callable[..., Response]:
    def export(session: SessionDep) -> Response:
        """Every zone (public reference data)."""
        return _file(service.zone_features(session), "zones", fmt)
    return export


def _scoped(layer: str, fmt: str) -> Callable[..., Response]:
    def export(session: SessionDep, principal: PrincipalDep) -> Response:
        """The layer's objects you may see, as with the REST API."""
        return _file(SCOPED[layer](session, principal), layer, fmt)
    return export


for _fmt, _media in service.FORMATS.items():
    _ok: dict[int | str, dict[str, Any]] = {200: {"content": {_media: {}}}}
    router.add_api_route(f"/zones.{_fmt}", _public(_fmt), methods=["GET"], response_class=Response,
                         summary=f"Zones as {_fmt}", responses={**_ok, **error_responses(422)},
                         operation_id=f"export_zones_{_fmt}")
    for _layer in SCOPED:
        router.add_api_route(f"/{_layer}.{_fmt}", _scoped(_layer, _fmt), methods=["GET"], response_class=Response,
                             summary=f"{_layer.capitalize()} as {_fmt}", responses={**_ok, **error_responses(401, 403)},
                             operation_id=f"export_{_layer}_{_fmt}")
