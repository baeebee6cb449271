"""Recognition: per-volunteer and per-organisation contribution statements built only from the journal."""
