"""Accept-Language picks the language of error details; the default is the default_language setting."""

from __future__ import annotations

import re

GREEK = re.compile("[\u0370-\u03ff]")


def test_error_details_follow_accept_language(shared_client, sign_in):
    headers = sign_in(shared_client, "dispatcher.sterea")
    url = "/api/v1/incidents/999999"
    greek = shared_client.get(url, headers={**headers, "Accept-Language": "el-GR,el;q=0.9"})
    english = shared_client.get(url, headers={**headers, "Accept-Language": "en-US,en;q=0.9"})
    assert greek.status_code == english.status_code == 404
    assert greek.json() == {"error": "not_found", "detail": "Δεν υπάρχει τέτοιο συμβάν"}
    assert english.json() == {"error": "not_found", "detail": "no such incident"}
    assert greek.headers["content-language"] == "el" and english.headers["content-language"] == "en"
    assert "Accept-Language" in greek.headers["vary"]


def test_default_language_and_unauthenticated_and_validation(shared_client):
    plain = shared_client.get("/api/v1/incidents")
    assert plain.status_code == 401 and GREEK.search(plain.json()["detail"])
    english = shared_client.get("/api/v1/incidents", headers={"Accept-Language": "en"})
    assert english.json()["detail"] == "sign in first: send Authorization: Bearer <token>"
    bad = shared_client.get("/api/v1/zones/locate", params={"lon": "x", "lat": 1}, headers={"Accept-Language": "el"})
    assert bad.status_code == 422 and bad.json()["error"] == "validation_error"
    assert all(GREEK.search(item["msg"]) for item in bad.json()["detail"])
    missing = shared_client.get("/api/v1/no-such-route", headers={"Accept-Language": "el"})
    assert missing.status_code == 404 and GREEK.search(missing.json()["detail"])


def test_structured_details_keep_their_data_and_names_come_with_ids(client, sign_in):
    point = {"type": "Point", "coordinates": [23.45, 38.80]}  # Mantoudi: led by the Central Greece fire command
    created = client.post("/api/v1/incidents", headers=sign_in(client, "leader.limni"),
                          json={"kind": "smoke", "point": point, "severity": "high"})
    assert created.status_code == 201, created.text
    incident = created.json()
    assert incident["lead_organisation_name"] == "Περιφερειακή Διοίκηση Π.Υ. Στερεάς Ελλάδας" or \
        GREEK.search(incident["lead_organisation_name"])
    assert len(incident["notified_organisation_names"]) == len(incident["notified_organisation_ids"])
    url = f"/api/v1/incidents/{incident['id']}/status"
    dispatcher = sign_in(client, "dispatcher.sterea")
    for lang, words in (("el", re.compile("κατάσταση «Αναφέρθηκε»")),
                        ("en", re.compile("cannot go from reported to contained"))):
        wrong = client.post(url, headers={**dispatcher, "Accept-Language": lang}, json={"status": "contained"})
        assert wrong.status_code == 409 and wrong.json()["error"] == "illegal_transition"
        body = wrong.json()["detail"]
        assert words.search(body["message"]) and body["allowed"] == ["acknowledged", "closed"]
    english = client.get(f"/api/v1/incidents/{incident['id']}", headers={**dispatcher, "Accept-Language": "en"})
    assert english.json()["lead_organisation_name"] == "Fire Service Regional Command of Central Greece"
