"""The single write path for history: hash-chained audit records and live events."""
