"""Volunteers: people of volunteer organisations, their skills and availability."""
