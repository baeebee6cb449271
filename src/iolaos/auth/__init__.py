"""Accounts, sign-in and data-scoped authorisation."""
