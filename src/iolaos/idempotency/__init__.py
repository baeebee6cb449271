"""Idempotency-Key support: a phone that retries a POST changes things once and gets the same answer."""
