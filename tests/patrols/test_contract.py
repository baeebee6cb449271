"""Only patrols/ changes a patrol's status or crew (the import contract of issue 14, checked on the syntax tree).

Outside ``src/iolaos/patrols`` no module may construct ``Patrol`` or ``Assignment`` rows, issue UPDATE/DELETE
statements on their tables, or assign the fields that make a patrol's status and crew to an object named as a
patrol or an assignment. Reading them is free.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "iolaos"
OWNER = SRC / "patrols"
GUARDED = {"status", "field_status", "crew_size", "required_skills", "capability", "risk_category", "slot_skill",
           "checked_in_at", "checked_out_at", "organisation_id", "volunteer_id", "patrol_id", "shift_start",
           "shift_end"}
CLASSES = {"Patrol", "Assignment"}
SYNTHETIC = {"demo/season.py"}
"""Bulk synthetic history for the demo's season view and its benchmark (``iolaos demo --season``): written
directly, like the demo seed, because it fabricates past seasons rather than running them; never on a live path."""


def _named_like_patrol(node: ast.expr) -> bool:
    name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""
    return "patrol" in name.lower() or "assignment" in name.lower()


def _targets(node: ast.AST) -> list[ast.expr]:
    if isinstance(node, ast.Assign):
        out: list[ast.expr] = []
        for target in node.targets:
            out += list(target.elts) if isinstance(target, ast.Tuple) else [target]
        return out
    if isinstance(node, ast.AugAssign | ast.AnnAssign):
        return [node.target]
    return []


def violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    rel = path.relative_to(SRC) if SRC in path.parents else path.name
    found = []
    for node in ast.walk(tree):
        for target in _targets(node):
            if isinstance(target, ast.Attribute) and target.attr in GUARDED and _named_like_patrol(target.value):
                found.append(f"{rel}:{node.lineno}: assigns {target.attr}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in CLASSES:
                found.append(f"{rel}:{node.lineno}: constructs {node.func.id}")
            if node.func.id in ("update", "delete", "insert") and node.args and isinstance(node.args[0], ast.Name) \
                    and node.args[0].id in CLASSES:
                found.append(f"{rel}:{node.lineno}: {node.func.id}({node.args[0].id})")
    return found


def test_only_patrols_changes_patrols_and_crews():
    outside = [p for p in SRC.rglob("*.py") if OWNER not in p.parents and "migrations" not in p.parts
               and str(p.relative_to(SRC)) not in SYNTHETIC]
    found = [v for p in outside for v in violations(p)]
    assert found == [], "patrol status and crew change only in src/iolaos/patrols/service.py:\n" + "\n".join(found)


def test_the_check_sees_a_write(tmp_path):
    bad = tmp_path / "probe.py"
    bad.write_text("def f(patrol, assignment):\n    patrol.status = 'active'\n    x = Assignment(patrol_id=1)\n"
                   "    s.execute(insert(Patrol), [])\n")
    assert len(violations(bad)) == 3
