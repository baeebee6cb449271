"""OGC API – Features: zones, risk levels, incidents and patrol tracks for GIS clients such as QGIS."""
