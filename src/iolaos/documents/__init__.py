"""Incident-command documents: ICS-204-style assignment lists (ICS-214 logs live in review/)."""
