"""Public warnings under authority: drafts, four-eyes approval and the CAP 1.2 lifecycle (docs/warnings.md)."""
