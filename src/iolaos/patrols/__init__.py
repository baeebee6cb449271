"""Patrols and the volunteers assigned to them."""
