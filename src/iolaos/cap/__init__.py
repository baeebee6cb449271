"""Public warnings: drafts under authority, the CAP 1.2 lifecycle and its Atom/JSON feed (docs/warnings.md)."""
