"""GIS exports of zones, patrols, tracks and incidents (GeoPackage, GeoJSON, CSV) with geopandas."""
