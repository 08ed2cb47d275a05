"""The portal through HTTP, on both databases: logins, CSRF, the access rules and audit of
the API, and pages that are HTML (escaped, no script, strict CSP) even when they refuse."""

import re
import uuid
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, update
from sqlmodel import Session, col, select

from app.models.access import Share
from app.models.account import LoginFailure, LoginSession
from app.models.base import utcnow
from tests.factories import (
    Account,
    create_entry,
    create_measure,
    create_session,
    create_share,
    list_all,
    register,
    revoke_share,
    share_with,
)
from tests.portal.support import (
    assert_page,
    browser,
    csrf_token,
    post_form,
    sign_in,
    submit_login,
)

CANARY_EVENT = "CANARY-event-7f3a"
CANARY_SAID = "CANARY-said-c41e"
CANARY_PRIVATE = "CANARY-private-99d0"


def _database(app: FastAPI) -> Session:
    return Session(app.state.engine)


def _failures(app: FastAPI, account: Account) -> int:
    with _database(app) as db:
        return db.exec(
            select(func.count())
            .select_from(LoginFailure)
            .where(col(LoginFailure.owner_id) == uuid.UUID(account.id))
        ).one()


def _diary_with_canaries(client: TestClient, account: Account) -> None:
    """Entries whose text only a reader allowed free text may see, and a private one that
    no therapist may ever see (the lowest mood: first in line for the brief's text)."""
    create_session(client, account, held_at="2026-11-18T17:00:00+00:00", number=1)
    create_entry(client, account, occurred_at="2026-11-20T18:30:00+00:00", mood=1,
                 event=CANARY_EVENT, communication={"what_i_said": CANARY_SAID})  # fmt: skip
    create_entry(client, account, occurred_at="2026-11-21T18:30:00+00:00", mood=0,
                 event=CANARY_PRIVATE, private=True)  # fmt: skip
    create_measure(client, account, answers=[2, 2, 2, 1, 1, 1, 1, 1, 0])


# --- logging in -----------------------------------------------------------------------------


def test_login_page_and_a_login_set_strict_cookies(client: TestClient, app: FastAPI) -> None:
    account = register(client, role="therapist", name="Dr Lee")
    web = browser(app)
    form = web.get("/portal/login")
    assert "Sign in" in assert_page(form, 200)
    nonce_cookie = form.headers["set-cookie"]
    for attribute in ("HttpOnly", "Path=/portal", "SameSite=strict"):
        assert attribute in nonce_cookie
    response = web.post(
        "/portal/login",
        data={"email": account.email, "password": "correct horse battery staple",
              "csrf_token": csrf_token(form)},
    )  # fmt: skip
    assert response.status_code == 303
    assert response.headers["location"] == "/portal/"
    session_cookie = next(
        value for value in response.headers.get_list("set-cookie") if "portal_session=" in value
    )
    for attribute in ("HttpOnly", "Path=/portal", "SameSite=strict"):
        assert attribute in session_cookie
    assert "Secure" not in session_cookie  # ENVIRONMENT=test: plain http
    home = assert_page(web.get("/portal/"), 200)
    assert "Dr Lee" in home
    assert "Your clients" in home
    # Signed in already: the login page sends you home.
    assert web.get("/portal/login").headers["location"] == "/portal/"


def test_only_the_hash_of_the_cookie_is_stored(client: TestClient, app: FastAPI) -> None:
    account = register(client)
    web = sign_in(app, account.email)
    cookie = web.cookies["portal_session"]
    with _database(app) as db:
        stored = db.exec(
            select(LoginSession.portal_secret_hash).where(
                col(LoginSession.owner_id) == uuid.UUID(account.id),
                col(LoginSession.portal_secret_hash).is_not(None),
            )
        ).all()
    assert len(stored) == 1
    assert len(stored[0] or "") == 64
    assert stored[0] not in cookie


def test_a_wrong_password_is_a_page_and_counts_like_an_api_login(
    client: TestClient, app: FastAPI
) -> None:
    account = register(client)
    web = browser(app)
    page = assert_page(submit_login(web, account.email, "wrong password"), 401)
    assert "Incorrect email or password" in page
    assert account.email in page  # kept in the form
    assert _failures(app, account) == 1
    assert "portal_session" not in web.cookies


def test_failed_portal_logins_throttle_the_account_everywhere(
    client: TestClient, app: FastAPI
) -> None:
    account = register(client)
    web = browser(app)
    for _ in range(app.state.settings.login_max_failures):
        assert submit_login(web, account.email, "wrong password").status_code == 401
    throttled = submit_login(web, account.email)  # the right password, too late
    assert "Too many failed logins" in assert_page(throttled, 429)
    assert int(throttled.headers["retry-after"]) >= 1
    api = client.post("/v1/auth/token", data={"username": account.email, "password": "x"})
    assert api.status_code == 429


@pytest.mark.parametrize("token", [None, "", "forged", "0" * 64])
def test_a_login_without_its_csrf_token_is_refused_and_writes_nothing(
    client: TestClient, app: FastAPI, token: str | None
) -> None:
    account = register(client)
    web = browser(app)
    web.get("/portal/login")
    data = {"email": account.email, "password": "wrong password"}
    if token is not None:
        data["csrf_token"] = token
    refused = web.post("/portal/login", data=data)
    assert "did not come from this site" in assert_page(refused, 403)
    assert _failures(app, account) == 0
    assert "portal_session" not in web.cookies


def test_a_login_token_needs_the_nonce_cookie_it_was_made_for(
    client: TestClient, app: FastAPI
) -> None:
    """Another browser's token (an attacker's own) does not pass with this browser's cookie."""
    account = register(client)
    attackers_token = csrf_token(browser(app).get("/portal/login"))
    victim = browser(app)
    victim.get("/portal/login")
    data = {"email": account.email, "password": "correct horse battery staple",
            "csrf_token": attackers_token}  # fmt: skip
    assert_page(victim.post("/portal/login", data=data), 403)
    no_cookie = browser(app)
    assert_page(no_cookie.post("/portal/login", data=data), 403)


def test_without_a_login_every_page_goes_to_the_login_page(app: FastAPI) -> None:
    web = browser(app)
    for path in ("/portal/", f"/portal/clients/{uuid.uuid4()}", "/portal/access-log",
                 "/portal/brief.pdf"):  # fmt: skip
        response = web.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/portal/login?reason=required"
    web.cookies.set("portal_session", "not-a-login", path="/portal")
    assert web.get("/portal/").headers["location"] == "/portal/login?reason=required"
    assert "Please sign in" in assert_page(web.get("/portal/login?reason=required"), 200)


# --- logging out and expiry -----------------------------------------------------------------


def test_logout_revokes_the_login(client: TestClient, app: FastAPI) -> None:
    account = register(client)
    web = sign_in(app, account.email)
    cookie = web.cookies["portal_session"]
    out = post_form(web, "/portal/logout")
    assert out.status_code == 303
    assert out.headers["location"] == "/portal/login?reason=signed_out"
    assert "You have signed out" in assert_page(web.get(out.headers["location"]), 200)
    with _database(app) as db:
        revoked = db.exec(
            select(LoginSession.revoked_at).where(
                col(LoginSession.owner_id) == uuid.UUID(account.id),
                col(LoginSession.portal_secret_hash).is_not(None),
            )
        ).one()
    assert revoked is not None
    # The cookie, kept (a copy, or a browser that ignored the deletion), opens nothing.
    replay = browser(app)
    replay.cookies.set("portal_session", cookie, path="/portal")
    again = replay.get("/portal/")
    assert again.headers["location"] == "/portal/login?reason=ended"
    assert "That sign-in has ended" in assert_page(replay.get(again.headers["location"]), 200)


def test_logout_without_its_csrf_token_is_refused(client: TestClient, app: FastAPI) -> None:
    account = register(client)
    web = sign_in(app, account.email)
    for data in ({}, {"csrf_token": "forged"}):
        assert_page(web.post("/portal/logout", data=data), 403)
    assert web.get("/portal/").status_code == 200  # still signed in


def test_an_idle_login_expires_after_eight_hours(client: TestClient, app: FastAPI) -> None:
    account = register(client)
    web = sign_in(app, account.email)
    owner = uuid.UUID(account.id)
    with _database(app) as db:
        db.exec(
            update(LoginSession)
            .where(col(LoginSession.owner_id) == owner)
            .values(last_seen_at=utcnow() - timedelta(hours=7, minutes=59))
        )
        db.commit()
    assert web.get("/portal/").status_code == 200  # in time: its idle time starts again
    with _database(app) as db:
        db.exec(
            update(LoginSession)
            .where(col(LoginSession.owner_id) == owner)
            .values(last_seen_at=utcnow() - timedelta(hours=8, seconds=1))
        )
        db.commit()
    expired = web.get("/portal/")
    assert expired.status_code == 303
    assert expired.headers["location"] == "/portal/login?reason=expired"
    assert "8 hours without activity" in assert_page(web.get(expired.headers["location"]), 200)


# --- the therapist's clients ----------------------------------------------------------------


def test_a_therapist_sees_only_linked_clients(client: TestClient, app: FastAPI) -> None:
    therapist = register(client, role="therapist", name="Dr Lee")
    linked = register(client, name="Linked Lina")
    other = register(client, name="Unlinked Una")
    share_with(client, linked, therapist, "summaries")
    _diary_with_canaries(client, linked)
    create_measure(client, linked, answers=[3] * 8 + [0], completed_at="2026-11-01T09:00:00Z")
    create_measure(client, linked, instrument="epds", answers=[2] * 9 + [0])
    share_with(client, other, register(client, role="therapist"))
    page = assert_page(sign_in(app, therapist.email).get("/portal/"), 200)
    assert "Linked Lina" in page
    assert "Unlinked Una" not in page
    assert "Summaries only" in page
    assert "No end date" in page
    assert "Fri 20 Nov 2026" in page  # the last shared entry (not the private one)
    text = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    # Each instrument's latest band, in the registry's order: not the older severe PHQ-9.
    assert "PHQ-9: moderate Fri 20 Nov 2026 EPDS: probable Fri 20 Nov 2026" in text
    assert "severe" not in text
    assert "1 notice" in page  # the low-mood entry; the private one raises none here
    assert f"/portal/clients/{linked.id}" in page


def test_another_therapists_client_is_not_found_and_not_audited(
    client: TestClient, app: FastAPI
) -> None:
    therapist = register(client, role="therapist")
    someone = register(client, name="Someone")
    share_with(client, someone, register(client, role="therapist"))
    web = sign_in(app, therapist.email)
    for path in (f"/portal/clients/{someone.id}", f"/portal/clients/{someone.id}/brief.pdf"):
        page = assert_page(web.get(path), 404)
        assert "Someone" not in page
    assert list_all(client, someone, "/v1/access-log") == []


def test_revoked_and_expired_shares_are_not_found(client: TestClient, app: FastAPI) -> None:
    therapist = register(client, role="therapist")
    revoked, expired = register(client), register(client)
    share_with(client, revoked, therapist)
    share_with(client, expired, therapist, expires_at="2099-01-01T00:00:00Z")
    web = sign_in(app, therapist.email)
    assert web.get(f"/portal/clients/{revoked.id}").status_code == 200
    revoke_share(client, revoked, list_all(client, revoked, "/v1/shares")[0]["id"])
    with _database(app) as db:
        db.exec(
            update(Share)
            .where(col(Share.owner_id) == uuid.UUID(expired.id))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.commit()
    for gone in (revoked, expired):
        assert_page(web.get(f"/portal/clients/{gone.id}"), 404)
        assert_page(web.get(f"/portal/clients/{gone.id}/brief.pdf"), 404)
    assert str(revoked.id) not in web.get("/portal/").text


def test_a_summaries_share_shows_no_free_text_and_no_private_entry(
    client: TestClient, app: FastAPI
) -> None:
    therapist, reader = register(client, role="therapist"), register(client, role="therapist")
    account = register(client)
    share_with(client, account, therapist, "summaries")
    share_with(client, account, reader, "full")
    _diary_with_canaries(client, account)
    summaries = assert_page(sign_in(app, therapist.email).get(f"/portal/clients/{account.id}"), 200)
    full = assert_page(sign_in(app, reader.email).get(f"/portal/clients/{account.id}"), 200)
    own = assert_page(sign_in(app, account.email).get("/portal/"), 200)
    for canary in (CANARY_EVENT, CANARY_SAID, CANARY_PRIVATE):
        assert canary not in summaries
    assert CANARY_EVENT in full
    assert CANARY_SAID in full
    assert CANARY_PRIVATE not in full
    assert CANARY_PRIVATE in own  # the client's own brief has all of their diary


def test_portal_reads_are_audited_like_api_reads(client: TestClient, app: FastAPI) -> None:
    therapist, account = register(client, role="therapist", name="Dr Lee"), register(client)
    share_with(client, account, therapist, "summaries")
    api = client.get(
        f"/v1/therapist/clients/{account.id}/reports/session-brief", headers=therapist.headers
    )
    assert api.status_code == 200
    web = sign_in(app, therapist.email)
    assert web.get(f"/portal/clients/{account.id}").status_code == 200
    assert web.get(f"/portal/clients/{account.id}/brief.pdf").status_code == 200
    log = list_all(client, account, "/v1/access-log")
    brief_reads = [(e["therapist_id"], e["therapist_name"], e["action"], e["outcome"])
                   for e in log if e["action"] == "reports/session-brief"]  # fmt: skip
    assert brief_reads == [(therapist.id, "Dr Lee", "reports/session-brief", "ok")] * 3
    # The list shows each client's PHQ-9 band and safety flag: a read too.
    web.get("/portal/")
    actions = [e["action"] for e in list_all(client, account, "/v1/access-log")]
    assert actions[0] == "portal/client-list"


def test_bad_and_unknown_ids_are_pages(client: TestClient, app: FastAPI) -> None:
    therapist, account = register(client, role="therapist"), register(client)
    share_with(client, account, therapist)
    web = sign_in(app, therapist.email)
    assert "not valid" in assert_page(web.get("/portal/clients/not-a-uuid"), 422)
    page = web.get(f"/portal/clients/{account.id}?session_id=42")
    assert "session_id" in assert_page(page, 422)
    unknown = web.get(f"/portal/clients/{account.id}?session_id={uuid.uuid4()}")
    assert "No session with id" in assert_page(unknown, 404)
    assert_page(web.get(f"/portal/clients/{account.id}/brief.pdf?session_id={uuid.uuid4()}"), 404)


def test_the_brief_links_its_intervals_and_pdf(client: TestClient, app: FastAPI) -> None:
    therapist, account = register(client, role="therapist"), register(client)
    share_with(client, account, therapist)
    first = create_session(client, account, held_at="2026-11-11T17:00:00+00:00", number=1)
    second = create_session(client, account, held_at="2026-11-18T17:00:00+00:00", number=2)
    create_entry(client, account, occurred_at="2026-11-15T10:00:00+00:00", mood=6)
    web = sign_in(app, therapist.email)
    page = f"/portal/clients/{account.id}"
    text = assert_page(web.get(page), 200)
    assert f'href="{page}/brief.pdf"' in text
    assert f'href="{page}?session_id={second["id"]}"' in text
    earlier = assert_page(web.get(f"{page}?session_id={second['id']}"), 200)
    assert f'href="{page}/brief.pdf?session_id={second["id"]}"' in earlier
    assert f'href="{page}?session_id={first["id"]}"' in earlier
    assert f'href="{page}"' in earlier  # back to the open interval


def test_the_pdf_is_a_download(client: TestClient, app: FastAPI) -> None:
    therapist, account = register(client, role="therapist"), register(client)
    share_with(client, account, therapist)
    create_entry(client, account, mood=4)
    for web, path in (
        (sign_in(app, therapist.email), f"/portal/clients/{account.id}/brief.pdf"),
        (sign_in(app, account.email), "/portal/brief.pdf"),
    ):
        response = web.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/pdf"
        assert re.fullmatch(
            r'attachment; filename="session-brief-\d{4}-\d{2}-\d{2}\.pdf"',
            response.headers["content-disposition"],
        )
        assert response.headers["cache-control"] == "no-store"
        assert response.content.startswith(b"%PDF")


# --- adding a client ------------------------------------------------------------------------


def test_a_therapist_adds_a_client_by_share_code(client: TestClient, app: FastAPI) -> None:
    therapist, account = register(client, role="therapist"), register(client, name="New Nia")
    code = create_share(client, account, "full")["code"]
    web = sign_in(app, therapist.email)
    added = post_form(web, "/portal/links", code=code.lower())
    assert added.status_code == 303
    page = assert_page(web.get(added.headers["location"]), 200)
    assert "Client added" in page
    assert "New Nia" in page
    assert "Full diary" in page
    used = post_form(web, "/portal/links", code=code)
    assert "unknown, already used, revoked or expired" in assert_page(used, 422)
    unknown = post_form(web, "/portal/links", code="NOPE0-NOPE0")
    assert "unknown, already used" in assert_page(unknown, 422)


def test_adding_a_client_needs_the_csrf_token_and_a_therapist(
    client: TestClient, app: FastAPI
) -> None:
    therapist, account = register(client, role="therapist"), register(client)
    code = create_share(client, account)["code"]
    web = sign_in(app, therapist.email)
    assert_page(web.post("/portal/links", data={"code": code}), 403)
    assert_page(web.post("/portal/links", data={"code": code, "csrf_token": "x"}), 403)
    as_client = sign_in(app, register(client).email)
    assert_page(post_form(as_client, "/portal/links", code=code), 403)
    assert list_all(client, therapist, "/v1/therapist/clients") == []  # still redeemable
    assert post_form(web, "/portal/links", code=code).status_code == 303


# --- the client's pages ---------------------------------------------------------------------


def test_a_client_sees_their_brief_and_their_access_log(client: TestClient, app: FastAPI) -> None:
    therapist, account = register(client, role="therapist", name="Dr Lee"), register(client)
    share_with(client, account, therapist)
    _diary_with_canaries(client, account)
    sign_in(app, therapist.email).get(f"/portal/clients/{account.id}")
    web = sign_in(app, account.email)
    brief = assert_page(web.get("/portal/"), 200)
    assert "Session brief" in brief
    assert CANARY_EVENT in brief
    assert 'href="/portal/brief.pdf"' in brief
    log = assert_page(web.get("/portal/access-log"), 200)
    assert "Dr Lee" in log
    assert "reports/session-brief" in log
    assert_page(web.get(f"/portal/clients/{account.id}"), 403)
    assert_page(web.get(f"/portal/clients/{account.id}/brief.pdf"), 403)


def test_a_therapist_has_no_client_pages(client: TestClient, app: FastAPI) -> None:
    web = sign_in(app, register(client, role="therapist").email)
    assert_page(web.get("/portal/access-log"), 403)
    assert_page(web.get("/portal/brief.pdf"), 403)


# --- what every page is ---------------------------------------------------------------------


def test_a_hostile_display_name_is_escaped(client: TestClient, app: FastAPI) -> None:
    therapist = register(client, role="therapist", name="<script>alert('t')</script>")
    account = register(client, name="<script>alert(1)</script>")
    share_with(client, account, therapist)
    therapist_web = sign_in(app, therapist.email)
    client_web = sign_in(app, account.email)
    for web, path in ((therapist_web, "/portal/"), (therapist_web, f"/portal/clients/{account.id}"),
                      (client_web, "/portal/"), (client_web, "/portal/access-log")):  # fmt: skip
        assert "&lt;script&gt;alert(" in assert_page(web.get(path), 200)


def test_an_address_the_portal_does_not_have_is_a_page(app: FastAPI) -> None:
    web = browser(app)

    for response in (
        web.get("/portal/nope"),
        web.get("/portal/logout"),  # signing out is a form (POST)
        web.post("/portal/clients", data={"csrf_token": "x"}),
    ):
        assert "There is no such page in the portal." in assert_page(response, 404)
