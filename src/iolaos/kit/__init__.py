"""Helpers that know nothing of the domain."""
