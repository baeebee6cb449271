"""Incident-command forms: ICS-204 assignment lists and ICS-211 check-in lists (ICS-214 logs live in review/)."""
