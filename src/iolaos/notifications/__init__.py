"""Notifications by rule over Web Push, e-mail and SMS (docs/notifications.md)."""
