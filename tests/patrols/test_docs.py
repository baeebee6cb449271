"""docs/patrols.md shows the transition table the code enforces."""

from __future__ import annotations

from pathlib import Path

from iolaos.config import Settings
from iolaos.patrols.machine import BEGIN, END, TRANSITIONS, render_section

DOC = Path(__file__).resolve().parents[2] / "docs" / "patrols.md"


def test_the_doc_shows_the_code_table():
    text = DOC.read_text(encoding="utf-8")
    section = BEGIN + text.split(BEGIN, 1)[1].split(END, 1)[0] + END
    assert section == render_section(Settings.model_construct()), "run `iolaos docs patrols` and commit the result"


def test_every_transition_is_in_the_doc():
    text = DOC.read_text(encoding="utf-8")
    assert all(f"| `{name}` |" in text for name in TRANSITIONS)
