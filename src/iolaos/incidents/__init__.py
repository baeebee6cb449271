"""Incidents: smoke, fire and other reports, routed to the agency that must act."""
