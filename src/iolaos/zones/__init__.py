"""Zones: regions, municipalities and patrol sectors with their boundaries."""
