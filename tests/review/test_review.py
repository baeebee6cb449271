"""Regional reviewers read, filter and export the journal of their region, and print ICS-214 logs."""

from __future__ import annotations

import csv
import io

import pypdf
from sqlalchemy import select

from iolaos.db import session_scope
from iolaos.organisations.models import Organisation

MANTOUDI = {"type": "Point", "coordinates": [23.45, 38.80]}


def _org(engine, name_en: str) -> Organisation:
    with session_scope(engine) as session:
        return session.scalar(select(Organisation).where(Organisation.name_en == name_en))


def _activity(client, sign_in):
    limni = sign_in(client, "leader.limni")
    client.post("/api/v1/incidents", headers=limni, json={"kind": "smoke", "point": MANTOUDI})
    penteli = sign_in(client, "leader.penteli")
    client.post("/api/v1/incidents", headers=penteli,
                json={"kind": "smoke", "point": {"type": "Point", "coordinates": [23.88, 38.05]}})


def _all_pages(client, headers, **params):
    records, cursor = [], 0
    while cursor is not None:
        body = client.get("/api/v1/audit", headers=headers, params={**params, "cursor": cursor, "limit": 7}).json()
        records += body["records"]
        cursor = body["next_cursor"]
    return records


def test_reviewer_sees_only_their_region(client, engine, sign_in):
    _activity(client, sign_in)
    reviewer = sign_in(client, "reviewer.sterea")
    records = _all_pages(client, reviewer, action="incident.*")
    limni, penteli = _org(engine, "Limni Evia Forest Volunteers"), _org(engine, "Penteli Forest Protection Volunteers")
    orgs = {r["actor_organisation_id"] for r in records}
    assert limni.id in orgs and penteli.id not in orgs
    assert all(r["action"].startswith("incident.") for r in records)
    seqs = [r["seq"] for r in records]
    assert seqs == sorted(set(seqs))  # cursor pages neither overlap nor skip


def test_filters_narrow_and_bad_ranges_are_rejected(client, engine, sign_in):
    _activity(client, sign_in)
    reviewer = sign_in(client, "reviewer.sterea")
    limni = _org(engine, "Limni Evia Forest Volunteers")
    records = _all_pages(client, reviewer, organisation_id=limni.id, action="incident.report")
    assert len(records) == 1 and records[0]["data"]["kind"] == "smoke"
    future = _all_pages(client, reviewer, since="2099-01-01T00:00:00+00:00")  # the latest year accepted
    assert future == []
    bad = client.get("/api/v1/audit", headers=reviewer,
                     params={"since": "2026-02-01T00:00:00+00:00", "until": "2026-01-01T00:00:00+00:00"})
    assert bad.status_code == 422 and bad.json()["error"] == "invalid_range"
    penteli = _org(engine, "Penteli Forest Protection Volunteers")
    foreign = client.get("/api/v1/audit", headers=reviewer, params={"organisation_id": penteli.id})
    assert foreign.status_code == 404


def test_roles_without_audit_read_are_refused(client, sign_in):
    for username in ("dispatcher.sterea", "leader.limni", "volunteer.limni"):
        resp = client.get("/api/v1/audit", headers=sign_in(client, username))
        assert resp.status_code == 403, username
        assert resp.json()["error"] == "forbidden"


def test_csv_export_matches_the_listing(client, sign_in):
    _activity(client, sign_in)
    reviewer = sign_in(client, "reviewer.sterea")
    listed = _all_pages(client, reviewer)
    resp = client.get("/api/v1/audit/export.csv", headers=reviewer)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    assert [int(r["seq"]) for r in rows] == [r["seq"] for r in listed]
    assert any("Μαντουδίου" in r["data"] or r["action"] == "incident.report" for r in rows)


def test_verify_reports_an_intact_chain(client, sign_in):
    _activity(client, sign_in)
    body = client.get("/api/v1/audit/verify", headers=sign_in(client, "reviewer.sterea")).json()
    assert body["ok"] is True and body["checked"] == body["head_seq"] > 0


def test_activity_log_json_and_pdf(client, engine, sign_in):
    _activity(client, sign_in)
    reviewer = sign_in(client, "reviewer.sterea")
    limni = _org(engine, "Limni Evia Forest Volunteers")
    log = client.get("/api/v1/activity-log", headers=reviewer, params={"organisation_id": limni.id}).json()
    assert log["unit"]["name"] == "Εθελοντές Δασοπροστασίας Λίμνης Ευβοίας"
    assert any(a["activity"].startswith("Αναφορά συμβάντος") for a in log["activities"])
    resp = client.get("/api/v1/activity-log.pdf", headers=reviewer,
                      params={"organisation_id": limni.id, "lang": "el"})
    assert resp.status_code == 200 and resp.content.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(resp.content)).pages)
    assert "Εθελοντές Δασοπροστασίας Λίμνης Ευβοίας" in text
    assert "Αναφορά συμβάντος" in text
    assert log["activities"][0]["at"][11:16] in text  # the time, in Europe/Athens
    english = client.get("/api/v1/activity-log.pdf", headers=reviewer,
                         params={"organisation_id": limni.id, "lang": "en"})
    assert "Incident reported" in "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(english.content)).pages)
