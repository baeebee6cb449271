"""Realistic demo actors on the real map."""
