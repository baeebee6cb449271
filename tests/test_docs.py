"""Docs that match the code: every ``docs/…`` path named in code or docs exists, and the package map of
docs/architecture.md is the one generated from the package list. Both read the tree as it is at test time."""

from __future__ import annotations

import re
from pathlib import Path

from iolaos.kit.package_map import entries, render

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("src", "tests", "services", "bench", "deploy", "web", "docs", ".ci")
SUFFIXES = {".py", ".md", ".js", ".html", ".sh", ".yaml", ".yml", ".toml", ".txt", ".conf", ""}
DOC_PATH = re.compile(r"(?<![\w/.-])docs/[\w./-]*[\w/]")
LINK = re.compile(r"\]\((?!https?:|#|mailto:)([^)#\s]+)")


def _texts() -> list[Path]:
    files = [ROOT / "README.md", ROOT / "Makefile", ROOT / "pyproject.toml"]
    for folder in SOURCES:
        base = ROOT / folder
        if base.is_dir():
            files += [p for p in base.rglob("*") if p.is_file() and p.suffix in SUFFIXES
                      and "node_modules" not in p.parts and "__pycache__" not in p.parts]
    return [f for f in files if f.exists()]


def test_every_docs_path_named_in_code_or_docs_exists():
    named: dict[str, set[str]] = {}
    for path in _texts():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for found in DOC_PATH.findall(text):
            named.setdefault(found.rstrip("/."), set()).add(str(path.relative_to(ROOT)))
    assert "docs/incidents.md" in named and "docs/field.md" in named  # the ones this check was written for
    missing = {p: sorted(where) for p, where in named.items() if not (ROOT / p).exists()}
    assert not missing, f"docs paths named but missing: {missing}"


def test_links_between_docs_resolve():
    broken = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)} → {target}")
    assert not broken, broken


def test_architecture_map_is_generated_from_the_package_list():
    document = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert render() in document, "docs/architecture.md's package map is stale: run `iolaos docs architecture`"
    names = {name for name, _ in entries()}
    assert {"i18n/", "documents/", "field/", "cap/", "ogc/", "admission.py"} <= names
    for name in names:
        assert f"  {name} " in document


def test_the_map_names_a_new_package(tmp_path):
    """The check above can fail: a package added to a tree shows up in the generated map."""
    package = tmp_path / "iolaos"
    (package / "newthing").mkdir(parents=True)
    (package / "newthing" / "__init__.py").write_text('"""A new feature."""\n')
    (package / "app.py").write_text('"""The app."""\n')
    assert "  newthing/  A new feature." in render(package)
