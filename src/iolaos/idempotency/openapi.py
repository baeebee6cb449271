"""The ``Idempotency-Key`` header in the OpenAPI document, on every operation the middleware honours it for.

The middleware (``middleware.py``) honours the key on writes (POST, PUT, PATCH, DELETE) made with a bearer
token; generated clients only send what the schema declares, so each such operation lists the header.
"""

from __future__ import annotations

from typing import Any

from iolaos.idempotency.middleware import WRITE_METHODS

HEADER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Retry-safe writes (IETF Idempotency-Key draft): a repeat with the same key and body returns "
                   "the stored answer with `Idempotent-Replayed: true`; the same key with another body answers "
                   "422; a repeat while the first is still running answers 409. Keys are scoped per user.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7e]+$"},
}


def document(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the header to every write operation that takes a bearer token."""
    for path_item in schema.get("paths", {}).values():
        for method, operation in path_item.items():
            if method.upper() not in WRITE_METHODS or not operation.get("security"):
                continue
            params = operation.setdefault("parameters", [])
            if not any(p.get("name") == HEADER["name"] and p.get("in") == "header" for p in params):
                params.append(dict(HEADER))
    return schema
