"""Calls for tests/api/test_every_write_is_audited.py: one succeeding and one failing call per notification route."""

from __future__ import annotations

P256DH = "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM"
SUBSCRIPTION = {"endpoint": "https://push.example.org/send/abcdef", "expirationTime": None,
                "keys": {"p256dh": P256DH, "auth": "tBHItJI5svbpez7KI4CCXg"}}


def _call(username, path, json=None):
    from tests.api.test_every_write_is_audited import Call

    return Call(username, path, json)


def preferences(ids, pw, c, si):
    """Choose channels and quiet hours (good) / one end of the quiet hours only (bad)."""
    return (_call("leader.limni", "/api/v1/notifications/preferences",
                  {"channels": ["push", "sms"], "quiet_start": "23:00", "quiet_end": "07:00"}),
            _call("leader.limni", "/api/v1/notifications/preferences", {"channels": ["push"], "quiet_start": "23:00"}))


def subscribe(ids, pw, c, si):
    """Register a browser (good) / keys that are not base64url (bad)."""
    bad = {**SUBSCRIPTION, "keys": {"p256dh": "not base64!", "auth": "x"}}
    return (_call("leader.limni", "/api/v1/notifications/subscriptions", SUBSCRIPTION),
            _call("leader.limni", "/api/v1/notifications/subscriptions", bad))


def unsubscribe(ids, pw, c, si):
    """Forget a registered browser (good) / an endpoint that is not a URL (bad)."""
    assert c.post("/api/v1/notifications/subscriptions", headers=si(c, "leader.limni"),
                  json=SUBSCRIPTION).status_code == 204
    return (_call("leader.limni", "/api/v1/notifications/subscriptions/remove", {"endpoint": SUBSCRIPTION["endpoint"]}),
            _call("leader.limni", "/api/v1/notifications/subscriptions/remove", {"endpoint": "nowhere"}))


RECIPES = {
    ("PUT", "/api/v1/notifications/preferences"): preferences,
    ("POST", "/api/v1/notifications/subscriptions"): subscribe,
    ("POST", "/api/v1/notifications/subscriptions/remove"): unsubscribe,
}
