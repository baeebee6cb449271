"""What the catalogue must cover, read from the source tree at test time (so new code is checked too).

- error codes: ``code=`` of every error raised or answered (``InvalidInput(…, code=…)``, ``error_body(code, …)``),
  the error classes' own codes and the codes given to HTTP statuses;
- fixed English error details: a constant first argument of a raised error, or a dict's constant ``message``;
- journal action codes: the ``action=`` of every ``record(…)`` call, following helpers that take an ``action``
  parameter and pass it on (``_record(…, "patrol.start")``);
- stored reasons: every ``encode("<key>", …)`` of :mod:`iolaos.i18n.coded`.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "iolaos"
REASON_KEY = re.compile(r"^reason\.[a-z_]+\.[a-z_.]+$")
ERROR_CALLS = {"IolaosError", "InvalidInput", "NotFound", "Conflict", "Unauthenticated", "Forbidden",
               "TooManyRequests", "ServiceUnavailable", "ImportFailed"}


def _name(func: ast.expr) -> str | None:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _strings(node: ast.expr | None) -> set[str]:
    """Constant strings an expression may evaluate to (a constant, or either side of ``a if c else b``)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _strings(node.body) | _strings(node.orelse)
    return set()


@dataclass
class Inventory:
    """Everything found."""

    error_codes: set[str] = field(default_factory=set)
    details: set[str] = field(default_factory=set)
    actions: set[str] = field(default_factory=set)
    coded: set[str] = field(default_factory=set)


def _trees() -> list[ast.Module]:
    return [ast.parse(p.read_text(encoding="utf-8")) for p in sorted(SRC.rglob("*.py")) if "migrations" not in p.parts]


def _action_helpers(trees: list[ast.Module]) -> dict[str, int]:
    """Functions with an ``action`` parameter passed on as ``action=action`` to ``record``: name → position."""
    helpers = {}
    for tree in trees:
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef):
                continue
            params = [a.arg for a in fn.args.posonlyargs + fn.args.args]
            if "action" not in params:
                continue
            for call in ast.walk(fn):
                if isinstance(call, ast.Call) and _name(call.func) in ("record", "_append") and any(
                        k.arg == "action" and isinstance(k.value, ast.Name) and k.value.id == "action"
                        for k in call.keywords):
                    helpers[fn.name] = params.index("action")
    return helpers


@cache
def inventory() -> Inventory:
    """Scan src/iolaos once per test session."""
    trees, found = _trees(), Inventory()
    helpers = _action_helpers(trees)
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and any(_name(b) in ERROR_CALLS for b in node.bases):
                for stmt in node.body:
                    if isinstance(stmt, ast.Assign) and any(getattr(t, "id", "") == "code" for t in stmt.targets):
                        found.error_codes |= _strings(stmt.value)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and REASON_KEY.match(node.value):
                found.coded.add(node.value)  # a reason key chosen before it is encoded
            if not isinstance(node, ast.Call):
                continue
            name = _name(node.func)
            keywords = {k.arg: k.value for k in node.keywords}
            if name in ERROR_CALLS:
                found.error_codes |= _strings(keywords.get("code"))
                first = node.args[0] if node.args else keywords.get("detail")
                found.details |= _strings(first)
                if isinstance(first, ast.Dict):
                    for key, value in zip(first.keys, first.values, strict=True):
                        if isinstance(key, ast.Constant) and key.value == "message":
                            found.details |= _strings(value)
            elif name == "error_body":
                found.error_codes |= _strings(node.args[0] if node.args else None)
            elif name == "record" and "action" in keywords:
                found.actions |= _strings(keywords["action"])
            elif name in helpers:
                position = helpers[name]
                found.actions |= _strings(node.args[position] if len(node.args) > position else keywords.get("action"))
            elif (name == "encode" and isinstance(node.func, ast.Attribute) and node.args
                  and getattr(node.func.value, "id", "") == "coded"):
                found.coded |= _strings(node.args[0])
            if name == "_append" and "action" in keywords:
                found.actions |= _strings(keywords["action"])
    return found


def http_codes() -> set[str]:
    """The codes given to HTTP statuses by the error handler."""
    from iolaos.errors import _HTTP_CODES

    return set(_HTTP_CODES.values())
