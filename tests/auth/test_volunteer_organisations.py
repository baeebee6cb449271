"""Volunteer organisations are validated; a volunteer belongs to exactly one organisation."""

from __future__ import annotations

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from iolaos.kit.time import utcnow
from iolaos.volunteers.models import Volunteer

NEW_TEAM = {"kind": "volunteer_org", "name_el": "Εθελοντική Ομάδα Δοκιμής", "name_en": "Test Volunteer Team",
            "registry_number": "4321", "action_categories": ["FPA"], "region_code": "GR-I"}


@pytest.fixture
def admin(client, bearer):
    """Headers of the national administrator."""
    return bearer("admin")


def test_a_malformed_registry_number_is_refused(client, admin):
    for registry in ["ABC", "1234567", "12-34", "", " 123", "١٢٣", "12\n", 1234]:
        resp = client.post("/api/v1/organisations", json=NEW_TEAM | {"registry_number": registry}, headers=admin)
        assert resp.status_code == 422, f"{registry!r}: {resp.text}"
        assert set(resp.json()) == {"error", "detail"}


def test_missing_or_unknown_action_categories_and_registry_are_refused(client, admin):
    for change, code in [
        ({"registry_number": None}, "invalid_registry_number"),
        ({"action_categories": ["XYZ"]}, "validation_error"),
        ({"action_categories": ["fpa"]}, "validation_error"),
        ({"action_categories": []}, "invalid_action_categories"),
        ({"action_categories": ["FPA", "FFA", "FPA"]}, "validation_error"),
    ]:
        body = {k: v for k, v in (NEW_TEAM | change).items() if v is not None}
        resp = client.post("/api/v1/organisations", json=body, headers=admin)
        assert resp.status_code == 422, f"{change}: {resp.text}"
        assert resp.json()["error"] == code, change


def test_a_valid_volunteer_organisation_is_created_with_its_categories(client, admin):
    resp = client.post("/api/v1/organisations", json=NEW_TEAM | {"action_categories": ["FFA", "FPA"]}, headers=admin)
    assert resp.status_code == 201, resp.text
    team = resp.json()
    assert (team["registry_number"], team["action_categories"], team["region_code"]) == ("4321", ["FPA", "FFA"], "GR-I")
    same_again = client.post("/api/v1/organisations", json=NEW_TEAM | {"name_en": "Another team"}, headers=admin)
    assert same_again.status_code == 409
    assert same_again.json()["error"] == "duplicate_registry_number"


def test_only_volunteer_organisations_carry_registry_data(client, admin):
    body = {"kind": "municipality", "name_el": "Δήμος Δοκιμής", "name_en": "Test Municipality"}
    for extra in ({"registry_number": "77"}, {"action_categories": ["FPA"]}):
        resp = client.post("/api/v1/organisations", json=body | extra, headers=admin)
        assert resp.status_code == 422, resp.text


def test_editing_a_volunteer_organisation_is_validated(client, admin, world):
    url = f"/api/v1/organisations/{world.org_of('leader.penteli').id}"
    for change in ({"registry_number": "12a"}, {"registry_number": None}, {"action_categories": ["FOO"]},
                   {"action_categories": []}, {"action_categories": None}, {"name_en": None}, {"active": None},
                   {"registry_number": "1000"}):  # 1000 is Penteli's own; a duplicate of another answers 409
        resp = client.patch(url, json=change, headers=admin)
        expected = 200 if change == {"registry_number": "1000"} else 422
        assert resp.status_code == expected, f"{change}: {resp.text}"
    taken = client.patch(url, json={"registry_number": "1037"}, headers=admin)  # Parnitha's
    assert taken.status_code == 409
    ok = client.patch(url, json={"action_categories": ["FPA"], "registry_number": "2024"}, headers=admin)
    assert ok.status_code == 200 and ok.json()["action_categories"] == ["FPA"]


def test_an_organisation_stays_in_the_region_of_the_one_above_it(client, admin, world):
    fire_attica = world.org_named("Fire Service Regional Command of Attica").id
    body = {"kind": "fire_service", "name_el": "Πυροσβεστικός Σταθμός", "name_en": "Fire Station",
            "parent_id": fire_attica}
    assert client.post("/api/v1/organisations", json=body | {"region_code": "GR-H"}, headers=admin).status_code == 422
    station = client.post("/api/v1/organisations", json=body, headers=admin)
    assert station.status_code == 201 and station.json()["region_code"] == "GR-I"


def test_a_person_is_a_volunteer_of_one_organisation_only(client, bearer, world):
    penteli, lamia = bearer("leader.penteli"), bearer("leader.lamia")
    person = {"full_name": "Γιάννης Δοκιμαστικός", "national_id": "AK123456"}
    assert client.post("/api/v1/volunteers", json=person, headers=penteli).status_code == 201
    for headers in (lamia, penteli):
        again = client.post("/api/v1/volunteers", json=person | {"full_name": "Ίδιος Άνθρωπος"}, headers=headers)
        assert again.status_code == 409, again.text
        assert again.json()["error"] == "already_a_volunteer"
    admin = bearer("admin")
    lamia_id = world.org_of("leader.lamia").id
    via_admin = client.post(f"/api/v1/organisations/{lamia_id}/volunteers", json=person, headers=admin)
    assert via_admin.status_code == 409


def test_an_account_is_linked_to_at_most_one_volunteer_of_its_own_organisation(client, bearer, world):
    headers = bearer("leader.penteli")
    linked = world.accounts["volunteer.penteli"].id  # linked to a volunteer by the demo
    resp = client.post("/api/v1/volunteers", json={"full_name": "Δεύτερη Κάρτα", "user_id": linked}, headers=headers)
    assert resp.status_code == 409
    foreign = world.accounts["volunteer.lamia"].id
    body = {"full_name": "Ξένος Λογαριασμός", "user_id": foreign}
    resp = client.post("/api/v1/volunteers", json=body, headers=headers)
    assert resp.status_code == 422 and resp.json()["error"] == "invalid_user"
    account = client.post(f"/api/v1/organisations/{world.org_of('leader.penteli').id}/users", headers=headers, json={
        "username": "penteli.member2", "full_name": "Νέο Μέλος", "role": "volunteer", "password": "twelve chars ok"})
    body = {"full_name": "Νέο Μέλος", "user_id": account.json()["id"]}
    assert client.post("/api/v1/volunteers", json=body, headers=headers).status_code == 201
    assert client.post("/api/v1/volunteers", json=body, headers=headers).status_code == 409


def test_the_database_enforces_one_volunteer_per_person(engine, world):
    def row(org: str, name: str, **identity) -> dict:
        now = utcnow()
        return dict(organisation_id=world.org_of(org).id, full_name=name, created_at=now, updated_at=now, **identity)

    with engine.begin() as conn:
        conn.execute(insert(Volunteer).values(row("leader.lamia", "Α", national_id="XX0001")))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(Volunteer).values(row("leader.penteli", "Β", national_id="XX0001")))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(Volunteer).values(row("leader.lamia", "Γ", user_id=world.accounts["volunteer.lamia"].id)))


def test_volunteers_are_registered_only_in_volunteer_organisations(client, bearer, world):
    admin = bearer("admin")
    fire = world.org_named("Fire Service Regional Command of Attica").id
    resp = client.post(f"/api/v1/organisations/{fire}/volunteers", json={"full_name": "Κάποιος"}, headers=admin)
    assert resp.status_code == 422 and resp.json()["error"] == "not_a_volunteer_org"
    own = client.post("/api/v1/volunteers", json={"full_name": "Κάποιος"}, headers=admin)
    assert own.status_code == 403  # the administrator's own organisation has no volunteers


def test_availability_and_skills_are_validated(client, bearer, world):
    headers = bearer("leader.penteli")
    url = f"/api/v1/volunteers/{world.volunteers[world.org_of('leader.penteli').id][3]}"
    bad_windows = [
        [{"starts_at": "2030-07-01T14:00:00Z", "ends_at": "2030-07-01T06:00:00Z"}],  # ends before it starts
        [{"starts_at": "2030-07-01T06:00:00", "ends_at": "2030-07-01T14:00:00"}],  # no offset
        [{"starts_at": "0001-01-01T00:00:00+05:00", "ends_at": "0001-01-01T08:00:00+05:00"}],  # out of range
        [{"starts_at": "2030-07-01T06:00:00Z", "ends_at": "2030-07-20T06:00:00Z"}],  # longer than 14 days
        [{"starts_at": "2030-07-01T06:00:00Z", "ends_at": "2030-07-01T14:00:00Z"},
         {"starts_at": "2030-07-01T12:00:00Z", "ends_at": "2030-07-01T18:00:00Z"}],  # overlapping
    ]
    for windows in bad_windows:
        resp = client.put(f"{url}/availability", json={"availability": windows}, headers=headers)
        assert resp.status_code == 422, f"{windows}: {resp.text}"
    dup = [{"skill": "radio"}, {"skill": "RADIO"}]
    assert client.put(f"{url}/skills", json={"skills": dup}, headers=headers).status_code == 422
    ok = client.put(f"{url}/skills", json={"skills": [{"skill": "radio", "valid_until": "2027-05-31"}]},
                    headers=headers)
    assert ok.status_code == 200 and ok.json()["skills"] == [{"skill": "radio", "valid_until": "2027-05-31"}]
    for text in ("a\x00b", "\x07bell"):
        assert client.patch(url, json={"full_name": text}, headers=headers).status_code == 422


def test_text_the_database_cannot_store_is_refused_not_a_server_error(client, admin, world):
    org = world.org_of("leader.penteli").id
    for method, url, body in [
        ("PUT", f"/api/v1/organisations/{org}/zones", {"zone_codes": ["GR\x00I"]}),
        ("PATCH", f"/api/v1/organisations/{org}", {"name_el": "Ομάδα\x00"}),
        ("POST", "/api/v1/organisations", NEW_TEAM | {"region_code": "GR-\x00"}),
        ("POST", f"/api/v1/organisations/{org}/volunteers", {"full_name": "Α\x00Β", "email": "a\x00@b.gr"}),
        ("PATCH", f"/api/v1/users/{world.accounts['leader.penteli'].id}", {"email": "x@y\x00.gr"}),
    ]:
        resp = client.request(method, url, json=body, headers=admin)
        assert resp.status_code == 422, f"{method} {url}: {resp.text}"
    assert client.get("/api/v1/organisations", params={"kind": "fire\x00"}, headers=admin).status_code == 422
