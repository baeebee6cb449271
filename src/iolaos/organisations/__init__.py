"""Agencies and volunteer organisations, their hierarchy and jurisdiction."""
