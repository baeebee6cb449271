"""Import rules that import-linter cannot express (issue 21; the layers are contracts in pyproject.toml).

A name starting with an underscore is private to the feature (top-level package or module of ``iolaos``) that
defines it: another feature that needs it asks for a public function of the owning module instead.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"


def _feature(module: str) -> str:
    """``iolaos.planning.workflow`` → ``planning``; ``iolaos.config`` → ``config``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_imports(path: Path) -> list[str]:
    """Every use, in ``path``, of an underscored name of another feature: imported directly, or read as an
    attribute of an imported module of another feature."""
    here = _feature(_module_name(path))
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    modules: dict[str, str] = {}  # local name → the iolaos module (or module attribute) it stands for
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("iolaos"):
            for alias in node.names:
                modules[alias.asname or alias.name] = f"{node.module}.{alias.name}"
                if _private(alias.name) and _feature(node.module) != here:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: from {node.module} import {alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("iolaos") and alias.asname:
                    modules[alias.asname] = alias.name
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and _private(node.attr):
            target = modules.get(node.value.id)
            if target is not None and _feature(target) != here:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value.id}.{node.attr} ({target})")
    return found


def test_no_private_names_across_features() -> None:
    found = [hit for path in sorted((SRC / "iolaos").rglob("*.py")) for hit in private_imports(path)]
    assert found == [], "private names used across features; make them public in the owning module:\n" + \
        "\n".join(found)


def test_the_check_sees_both_forms(tmp_path: Path) -> None:
    """The scanner itself: both ways of reaching into another feature are found, a feature's own are not."""
    probe = SRC / "iolaos" / "field" / "_probe_private_imports.py"
    probe.write_text("from iolaos.incidents.service import _visible_clause\n"
                     "from iolaos.field.alerts import _own_helper\n"
                     "from iolaos.planning import workflow\n"
                     "workflow._load_subject\n", encoding="utf-8")
    try:
        hits = private_imports(probe)
    finally:
        probe.unlink()
    assert len(hits) == 2
    assert "_visible_clause" in hits[0] and "workflow._load_subject" in hits[1]


def test_import_contracts_are_kept() -> None:
    """lint-imports (make test runs it too) with the contracts of pyproject.toml: 0 broken."""
    lint = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run([str(lint), "--config", str(ROOT / "pyproject.toml")], cwd=ROOT, capture_output=True,
                         text=True, timeout=300, env={"PYTHONPATH": str(SRC), "PATH": str(lint.parent)})
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert " 0 broken" in out.stdout
