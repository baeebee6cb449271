"""OASIS CAP 1.2 public warnings: zones at fire-risk 4–5 and incidents that call for a public warning."""
